/* test_clipboard.c: the OSC 52 sequence (base64 per RFC 4648), and when clipboard_copy writes
 * it: only to a terminal (a real pty here), not when turned off or on a dumb terminal; GNU
 * screen gets it in its DCS passthrough. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/clipboard.h"

static void check_osc(const char *text, const char *b64)
{
	char *got = clipboard_osc52(text);
	char want[256];

	snprintf(want, sizeof want, "\033]52;c;%s\a", b64);
	assert_string_equal(got, want);
	free(got);
}

static void test_base64(void **state)
{
	(void)state;
	/* RFC 4648, section 10 */
	check_osc("", "");
	check_osc("f", "Zg==");
	check_osc("fo", "Zm8=");
	check_osc("foo", "Zm9v");
	check_osc("foob", "Zm9vYg==");
	check_osc("fooba", "Zm9vYmE=");
	check_osc("foobar", "Zm9vYmFy");
	check_osc("http://127.0.0.1:8888/?token=ab",
	          "aHR0cDovLzEyNy4wLjAuMTo4ODg4Lz90b2tlbj1hYg==");
	check_osc("\xff\xfe", "//4=");
}

/* A pty pair: *master to read what was written to *slave. */
static void open_pty(int *master, int *slave)
{
	*master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(*master >= 0);
	assert_int_equal(grantpt(*master), 0);
	assert_int_equal(unlockpt(*master), 0);
	*slave = open(ptsname(*master), O_RDWR | O_NOCTTY);
	assert_true(*slave >= 0);
}

/* What arrived on the master side (raw: no newline translation involved). */
static size_t drain(int master, char *buf, size_t len)
{
	struct pollfd p = {.fd = master, .events = POLLIN};
	size_t got = 0;

	while (got + 1 < len && poll(&p, 1, 200) > 0) {
		ssize_t r = read(master, buf + got, len - 1 - got);

		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return got;
}

static void clean_env(void)
{
	unsetenv("TMUX");
	unsetenv("STY");
	unsetenv("GANTRY_NO_CLIPBOARD");
	setenv("TERM", "xterm-256color", 1);
}

static void test_copy_to_a_terminal(void **state)
{
	int m, s;
	const char *how = NULL;
	char buf[512];

	(void)state;
	clean_env();
	open_pty(&m, &s);
	assert_int_equal(clipboard_copy(s, "foobar", &how), 0);
	drain(m, buf, sizeof buf);
	assert_string_equal(buf, "\033]52;c;Zm9vYmFy\a");
	assert_string_equal(how, "with OSC 52");
	/* GNU screen: wrapped in its passthrough */
	setenv("STY", "123.pts-0.host", 1);
	assert_int_equal(clipboard_copy(s, "foobar", &how), 0);
	drain(m, buf, sizeof buf);
	assert_string_equal(buf, "\033P\033]52;c;Zm9vYmFy\a\033\\");
	close(s);
	close(m);
}

static void test_no_copy(void **state)
{
	int m, s, fds[2];
	const char *how = NULL;
	char buf[512];

	(void)state;
	clean_env();
	open_pty(&m, &s);
	setenv("GANTRY_NO_CLIPBOARD", "1", 1);
	assert_int_equal(clipboard_copy(s, "foobar", &how), -1);
	assert_non_null(strstr(how, "GANTRY_NO_CLIPBOARD"));
	clean_env();
	setenv("TERM", "dumb", 1);
	assert_int_equal(clipboard_copy(s, "foobar", &how), -1);
	assert_int_equal(drain(m, buf, sizeof buf), 0);
	clean_env();
	/* a pipe is not a terminal: nothing written */
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(clipboard_copy(fds[1], "foobar", &how), -1);
	assert_string_equal(how, "output is not a terminal");
	close(fds[1]);
	assert_int_equal(read(fds[0], buf, sizeof buf), 0);
	close(fds[0]);
	close(s);
	close(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_copy_to_a_terminal),
	    cmocka_unit_test(test_no_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
