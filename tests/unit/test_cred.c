/* test_cred.c: credential references (core/cred.c): NAME_file with its mode, owner and
 * type checks, NAME_env, and a canary value that must never reach an error. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cred.h"
#include "core/xmalloc.h"

#define CANARY "CANARY-cred-5f3a9e"

static char dir[] = "/tmp/gantry-cred-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xprintf("rm -rf '%s'", dir);
	int rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static char *write_file(const char *name, const char *content, mode_t mode)
{
	char *p = xprintf("%s/%s", dir, name);
	int fd;

	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

/* settings {api_key_file: path} at config.yaml:7:5 */
static void settings_file(struct kvlist *s, struct kvlist *pos, const char *path)
{
	kvlist_init(s);
	kvlist_init(pos);
	kvlist_set(s, "api_key_file", path);
	kvlist_set(pos, "api_key_file", "config.yaml:7:5");
}

static void expect_refused(struct kvlist *s, struct kvlist *pos, const char *want)
{
	char *v = NULL, *cause = NULL;

	assert_int_equal(cred_get(s, pos, "api_key", 1, &v, &cause), -1);
	assert_null(v);
	assert_non_null(cause);
	assert_null(strstr(cause, CANARY));
	assert_non_null(strstr(cause, "config.yaml:7:5"));
	if (want != NULL && strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	free(cause);
}

static void test_file_0600(void **state)
{
	struct kvlist s, pos;
	char *p = write_file("ok", CANARY "\r\nsecond line\n", 0600), *v = NULL, *cause = NULL;

	(void)state;
	settings_file(&s, &pos, p);
	assert_int_equal(cred_get(&s, &pos, "api_key", 1, &v, &cause), 0);
	assert_string_equal(v, CANARY);
	cred_free(v);
	kvlist_free(&s);
	kvlist_free(&pos);
	free(p);
}

static void test_file_modes_refused(void **state)
{
	static const mode_t modes[] = {0640, 0644, 0604, 0660};
	struct kvlist s, pos;

	(void)state;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		char *p = write_file("loose", CANARY "\n", modes[i]),
		     *want = xprintf("chmod 600 %s", p);

		settings_file(&s, &pos, p);
		expect_refused(&s, &pos, want);
		expect_refused(&s, &pos, "api_key_file");
		kvlist_free(&s);
		kvlist_free(&pos);
		free(want);
		free(p);
	}
}

static void test_symlink_refused(void **state)
{
	struct kvlist s, pos;
	char *p = write_file("target", CANARY "\n", 0600), *link = xprintf("%s/link", dir);

	(void)state;
	assert_int_equal(symlink(p, link), 0);
	settings_file(&s, &pos, link);
	expect_refused(&s, &pos, "symbolic link");
	kvlist_free(&s);
	kvlist_free(&pos);
	free(p);
	free(link);
}

static void test_fifo_dir_empty_refused(void **state)
{
	struct kvlist s, pos;
	char *fifo = xprintf("%s/fifo", dir), *empty = write_file("empty", "\n", 0600);

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	settings_file(&s, &pos, fifo); /* nobody writes it: must not hang */
	expect_refused(&s, &pos, "not a regular file");
	kvlist_free(&s);
	kvlist_free(&pos);
	settings_file(&s, &pos, dir);
	expect_refused(&s, &pos, "not a regular file");
	kvlist_free(&s);
	kvlist_free(&pos);
	settings_file(&s, &pos, empty);
	expect_refused(&s, &pos, "empty");
	kvlist_free(&s);
	kvlist_free(&pos);
	settings_file(&s, &pos, "/nonexistent/gantry/key");
	expect_refused(&s, &pos, "cannot open");
	kvlist_free(&s);
	kvlist_free(&pos);
	free(fifo);
	free(empty);
}

static void test_env(void **state)
{
	struct kvlist s, pos;
	char *v = NULL, *cause = NULL;

	(void)state;
	kvlist_init(&s);
	kvlist_init(&pos);
	kvlist_set(&s, "api_key_env", "GANTRY_TEST_CRED_KEY");
	kvlist_set(&pos, "api_key_env", "config.yaml:7:5");
	setenv("GANTRY_TEST_CRED_KEY", CANARY, 1);
	assert_int_equal(cred_get(&s, &pos, "api_key", 1, &v, &cause), 0);
	assert_string_equal(v, CANARY);
	cred_free(v);
	v = NULL;
	unsetenv("GANTRY_TEST_CRED_KEY");
	expect_refused(&s, &pos, "GANTRY_TEST_CRED_KEY is not set");
	setenv("GANTRY_TEST_CRED_KEY", "", 1);
	expect_refused(&s, &pos, "is empty");
	unsetenv("GANTRY_TEST_CRED_KEY");
	kvlist_free(&s);
	kvlist_free(&pos);
}

static void test_both_and_none(void **state)
{
	struct kvlist s, pos;
	char *p = write_file("both", CANARY "\n", 0600), *v = NULL, *cause = NULL;

	(void)state;
	settings_file(&s, &pos, p);
	setenv("GANTRY_TEST_CRED_KEY", CANARY, 1);
	kvlist_set(&s, "api_key_env", "GANTRY_TEST_CRED_KEY");
	kvlist_set(&pos, "api_key_env", "config.yaml:7:5");
	expect_refused(&s, &pos, "both given");
	unsetenv("GANTRY_TEST_CRED_KEY");
	kvlist_free(&s);
	kvlist_free(&pos);

	kvlist_init(&s);
	assert_int_equal(cred_get(&s, NULL, "api_key", 0, &v, &cause), 1);
	assert_null(v);
	assert_null(cause);
	assert_int_equal(cred_get(&s, NULL, "api_key", 1, &v, &cause), -1);
	assert_non_null(strstr(cause, "api_key_file or api_key_env"));
	free(cause);
	kvlist_free(&s);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_file_0600),
	    cmocka_unit_test(test_file_modes_refused),
	    cmocka_unit_test(test_symlink_refused),
	    cmocka_unit_test(test_fifo_dir_empty_refused),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_both_and_none),
	};

	alarm(60); /* a FIFO read that blocks would hang here: fail instead */
	return cmocka_run_group_tests(tests, setup, teardown);
}
