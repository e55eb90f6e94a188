/* test_ssh.c: the parts of core/ssh that need no server: the printed OpenSSH command line
 * and its quoting, target labels, error messages, base64 for fingerprints and known_hosts,
 * and errors that come before any traffic. Everything with a server is in
 * tests/integration/ssh_*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/ssh.h"
#include "core/ssh_shell.h"
#include "core/ssh_internal.h"

static void check_command(const struct ssh_target *t, const char *cmd, int tty, const char *want)
{
	char *got = ssh_print_command(t, cmd, tty);

	assert_string_equal(got, want);
	free(got);
}

static void test_command_plain(void **state)
{
	struct ssh_target t = {.host = "gpu1"};

	(void)state;
	check_command(&t, NULL, 0, "ssh -o StrictHostKeyChecking=yes gpu1");
	t.port = 22;
	t.user = "ana";
	check_command(&t, NULL, 1, "ssh -o StrictHostKeyChecking=yes -t ana@gpu1");
	t.port = 2222;
	t.key_file = "/k/id";
	t.known_hosts = "/k/kh";
	check_command(&t, "nvidia-smi -L", 0,
	              "ssh -p 2222 -i /k/id -o IdentitiesOnly=yes -o UserKnownHostsFile=/k/kh "
	              "-o StrictHostKeyChecking=yes ana@gpu1 'nvidia-smi -L'");
}

static void test_command_quoting(void **state)
{
	struct ssh_target t = {.host = "h", .key_file = "/a b/it's", .known_hosts = "/x/k\"h"};

	(void)state;
	check_command(&t, "echo 'x'; $HOME", 0,
	              "ssh -i '/a b/it'\\''s' -o IdentitiesOnly=yes "
	              "-o 'UserKnownHostsFile=\"/x/k\\\"h\"' -o StrictHostKeyChecking=yes h "
	              "'echo '\\''x'\\''; $HOME'");
	/* % is expanded by ssh in IdentityFile and UserKnownHostsFile: doubled */
	t.key_file = "/p%h/k";
	t.known_hosts = "/p%h/kh";
	check_command(&t, "", 0,
	              "ssh -o IdentityFile=/p%%h/k -o IdentitiesOnly=yes "
	              "-o UserKnownHostsFile=/p%%h/kh -o StrictHostKeyChecking=yes h ''");
}

static void test_command_jump(void **state)
{
	struct ssh_target j = {.host = "login", .user = "ana", .port = 2200};
	struct ssh_target t = {.host = "gpu1", .user = "ana", .jump = &j};

	(void)state;
	check_command(&t, NULL, 1,
	              "ssh -o StrictHostKeyChecking=yes -J ana@login:2200 -t ana@gpu1");
	j.port = 0;
	check_command(&t, NULL, 0, "ssh -o StrictHostKeyChecking=yes -J ana@login ana@gpu1");
	/* a jump with its own key: -J takes no per-hop options */
	j.key_file = "/k/j d";
	j.known_hosts = "/k/%kh";
	check_command(&t, NULL, 0,
	              "ssh -o StrictHostKeyChecking=yes -o 'ProxyCommand=ssh -i '\\''/k/j d'\\'' "
	              "-o IdentitiesOnly=yes -o UserKnownHostsFile=/k/%%%%kh "
	              "-o StrictHostKeyChecking=yes -W %h:%p ana@login' ana@gpu1");
}

static void test_label(void **state)
{
	struct ssh_target t = {.host = "10.0.0.5"};
	char *s;

	(void)state;
	s = ssh_target_label(&t);
	assert_string_equal(s, "10.0.0.5:22");
	free(s);
	t.user = "root";
	t.port = 2222;
	s = ssh_target_label(&t);
	assert_string_equal(s, "root@10.0.0.5:2222");
	free(s);
}

static void test_error_set(void **state)
{
	struct ssh_error err;
	char big[1000];

	(void)state;
	memset(&err, 'x', sizeof err);
	ssh_error_set(&err, SSH_ERR_CONNECT, "%s: %s", "gpu1 (127.0.0.2:22)", "connection refused");
	assert_int_equal(err.code, SSH_ERR_CONNECT);
	assert_string_equal(err.msg, "gpu1 (127.0.0.2:22): connection refused");
	assert_string_equal(err.fingerprint, "");
	assert_string_equal(err.keytype, "");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ssh_error_set(&err, SSH_ERR_LOCAL, "%s", big);
	assert_int_equal(strlen(err.msg), sizeof err.msg - 1);
	ssh_error_set(NULL, SSH_ERR_LOCAL, "no crash");
}

static void test_base64(void **state)
{
	static const struct {
		const char *in, *pad, *nopad;
	} v[] = {{"", "", ""},
	         {"f", "Zg==", "Zg"},
	         {"fo", "Zm8=", "Zm8"},
	         {"foo", "Zm9v", "Zm9v"},
	         {"foob", "Zm9vYg==", "Zm9vYg"},
	         {"\xff\xfe\xfd", "//79", "//79"}};
	size_t i;
	char *s;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		s = ssh_knownhosts_base64((const unsigned char *)v[i].in, strlen(v[i].in), 1);
		assert_string_equal(s, v[i].pad);
		free(s);
		s = ssh_knownhosts_base64((const unsigned char *)v[i].in, strlen(v[i].in), 0);
		assert_string_equal(s, v[i].nopad);
		free(s);
	}
}

/* The value sent for opcode op in encoded modes, or -1 when op is not there. */
static long mode_of(const unsigned char *m, size_t n, unsigned char op)
{
	for (size_t i = 0; i + 5 <= n && m[i] != 0; i += 5)
		if (m[i] == op)
			return (long)(((unsigned long)m[i + 1] << 24) |
			              ((unsigned long)m[i + 2] << 16) |
			              ((unsigned long)m[i + 3] << 8) | m[i + 4]);
	return -1;
}

static void test_tty_modes(void **state)
{
	struct termios t;
	unsigned char m[512];
	size_t n;

	(void)state;
	memset(&t, 0, sizeof t);
	t.c_cc[VINTR] = 3;
	t.c_cc[VERASE] = 8; /* a terminal whose Backspace sends ^H */
	t.c_cc[VKILL] = 21;
	t.c_cc[VEOF] = 4;
	t.c_cc[VSTART] = _POSIX_VDISABLE;
	t.c_cc[VEOL] = _POSIX_VDISABLE;
	t.c_iflag = ICRNL | IXON | IUTF8;
	t.c_lflag = ISIG | ICANON | ECHO | ECHOE | IEXTEN;
	t.c_oflag = OPOST | ONLCR;
	t.c_cflag = CS8 | CREAD;
	cfsetispeed(&t, B38400);
	cfsetospeed(&t, B38400); /* on Linux the input speed follows the output one */
	n = ssh_tty_modes(&t, m, sizeof m);
	assert_int_equal(n, 216);      /* everything, and with TERM it stays under libssh2's 256 */
	assert_int_equal(m[n - 1], 0); /* TTY_OP_END */
	assert_int_equal(mode_of(m, n, 1), 3);       /* VINTR */
	assert_int_equal(mode_of(m, n, 3), 8);       /* VERASE */
	assert_int_equal(mode_of(m, n, 4), 21);      /* VKILL */
	assert_int_equal(mode_of(m, n, 6), -1);      /* VEOL is not sent */
	assert_int_equal(mode_of(m, n, 8), 255);     /* VSTART disabled */
	assert_int_equal(mode_of(m, n, 36), 1);      /* ICRNL */
	assert_int_equal(mode_of(m, n, 38), 1);      /* IXON */
	assert_int_equal(mode_of(m, n, 40), 0);      /* IXOFF */
	assert_int_equal(mode_of(m, n, 42), 1);      /* IUTF8 */
	assert_int_equal(mode_of(m, n, 51), 1);      /* ICANON */
	assert_int_equal(mode_of(m, n, 53), 1);      /* ECHO */
	assert_int_equal(mode_of(m, n, 56), 0);      /* ECHONL */
	assert_int_equal(mode_of(m, n, 72), 1);      /* ONLCR */
	assert_int_equal(mode_of(m, n, 92), 0);      /* PARENB */
	assert_int_equal(mode_of(m, n, 90), -1);     /* CS7 is not sent */
	assert_int_equal(mode_of(m, n, 128), 38400); /* ISPEED */
	assert_int_equal(mode_of(m, n, 129), 38400); /* OSPEED */
	/* a buffer too small gets whole entries and the end mark, never a torn one */
	n = ssh_tty_modes(&t, m, 13);
	assert_int_equal(n, 11);
	assert_int_equal(m[10], 0);
	assert_int_equal(ssh_tty_modes(&t, m, 0), 0);
}

static void test_connect_local_errors(void **state)
{
	struct ssh_target t = {.host = ""};
	struct ssh_session *s = (struct ssh_session *)&t;
	struct ssh_error err;

	(void)state;
	assert_int_equal(ssh_global_init(), 0);
	assert_int_equal(ssh_global_init(), 0);
	assert_int_equal(ssh_connect(&t, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.code, SSH_ERR_LOCAL);
	t.host = "127.0.0.1";
	t.port = 70000;
	assert_int_equal(ssh_connect(&t, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.code, SSH_ERR_LOCAL);
	assert_string_equal(err.msg, "127.0.0.1: bad port 70000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_command_plain), cmocka_unit_test(test_command_quoting),
	    cmocka_unit_test(test_command_jump),  cmocka_unit_test(test_label),
	    cmocka_unit_test(test_error_set),     cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_tty_modes),     cmocka_unit_test(test_connect_local_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
