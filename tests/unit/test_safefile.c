/* test_safefile.c: trusted directories (owner and mode of the directory and of every one
 * above it, links on the way) and exclusive, no-follow creation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/xmalloc.h"

struct fx {
	char *dir; /* a private (0700) directory of ours under TMPDIR */
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");
	char *t = xprintf("%s/gantry-safefile-XXXXXX", tmp != NULL && *tmp != '\0' ? tmp : "/tmp");

	assert_non_null(mkdtemp(t));
	f->dir = realpath(t, NULL);
	free(t);
	*state = f;
	return 0;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	chmod(f->dir, 0700);
	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f->dir);
	free(f);
	return 0;
}

/* safefile_trust_dir fails and its cause holds want. */
static void refused(const char *dir, const char *want)
{
	char *cause = NULL;

	assert_int_equal(safefile_trust_dir(dir, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	assert_null(strchr(cause, '\n'));
	free(cause);
}

static void trusted(const char *dir)
{
	char *cause = NULL;

	if (safefile_trust_dir(dir, &cause) != 0)
		fail_msg("%s refused: %s", dir, cause);
}

static void test_trust_modes(void **state)
{
	struct fx *f = *state;
	char *sub = xprintf("%s/state", f->dir), *want;

	trusted(f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	trusted(sub);
	assert_int_equal(chmod(sub, 0755), 0);
	trusted(sub); /* readable is fine, writable is not */
	assert_int_equal(chmod(sub, 0770), 0);
	want = xprintf("%s is writable by group or others (mode 0770): Gantry refuses it; run "
	               "`chmod go-w %s`",
	               sub, sub);
	refused(sub, want);
	free(want);
	assert_int_equal(chmod(sub, 01777), 0);
	refused(sub, "chmod go-w"); /* sticky is no excuse for the directory itself */
	assert_int_equal(chmod(sub, 0700), 0);
	/* a directory above: sticky and world-writable (like /tmp) is fine, plain is not */
	{
		char *deep = xprintf("%s/h", sub);

		assert_int_equal(mkdir(deep, 0700), 0);
		assert_int_equal(chmod(sub, 01777), 0);
		trusted(deep);
		assert_int_equal(chmod(sub, 0777), 0);
		want = xprintf("`chmod go-w %s`", sub);
		refused(deep, want);
		free(want);
		assert_int_equal(chmod(sub, 0700), 0);
		free(deep);
	}
	refused("/nonexistent-gantry-dir", "cannot check");
	free(sub);
}

static void test_trust_owner(void **state)
{
	struct fx *f = *state;
	char *sub = xprintf("%s/jobs", f->dir), *want;
	struct passwd *pw = getpwnam("nobody");

	if (geteuid() != 0 || pw == NULL) {
		free(sub);
		skip();
	}
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chown(sub, pw->pw_uid, (gid_t)-1), 0);
	want = xprintf("%s is owned by nobody, not by you (root): Gantry refuses it; run `chown "
	               "root %s` as root, or move it away",
	               sub, sub);
	refused(sub, want);
	free(want);
	/* below a directory of another user (not root) nothing is trusted either */
	{
		char *deep = xprintf("%s/h", sub);

		assert_int_equal(mkdir(deep, 0700), 0);
		refused(deep, "not by you (root) or root");
		free(deep);
	}
	free(sub);
}

static void test_trust_links(void **state)
{
	struct fx *f = *state;
	char *open = xprintf("%s/open", f->dir), *target = xprintf("%s/open/h", f->dir);
	char *link = xprintf("%s/link", f->dir), *want;

	assert_int_equal(mkdir(open, 0700), 0);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	trusted(link);
	/* the link resolves into a directory others can write: refused, naming it */
	assert_int_equal(chmod(open, 0777), 0);
	want = xprintf("`chmod go-w %s`", open);
	refused(link, want);
	free(want);
	assert_int_equal(chmod(open, 0700), 0);
	free(open);
	free(target);
	free(link);
}

static void test_create(void **state)
{
	struct fx *f = *state;
	char *p = xprintf("%s/ID.token", f->dir), *victim = xprintf("%s/victim", f->dir);
	char *gone = xprintf("%s/gone", f->dir), buf[16] = {0};
	char *cause = NULL;
	struct stat st;
	int fd;

	fd = safefile_create(p, O_WRONLY, 0600, &cause);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	close(fd);
	/* a file that is already there (planted) is never opened again */
	assert_int_equal(safefile_create(p, O_WRONLY, 0600, &cause), -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(cause, "already exists"));
	free(cause);
	cause = NULL;
	assert_int_equal(unlink(p), 0);
	/* a planted link is never followed: not to a file (kept as it was) ... */
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(safefile_create(p, O_WRONLY, 0600, &cause), -1);
	free(cause);
	cause = NULL;
	fd = open(victim, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof buf - 1), 4);
	close(fd);
	assert_string_equal(buf, "keep");
	/* ... nor to a name that does not exist (nothing is created there) */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink(gone, p), 0);
	assert_int_equal(safefile_create(p, O_WRONLY, 0600, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(lstat(gone, &st), -1);
	/* safefile_no_symlink */
	assert_int_equal(safefile_no_symlink(p, &cause), -1);
	assert_non_null(strstr(cause, "is a symbolic link"));
	free(cause);
	cause = NULL;
	assert_int_equal(safefile_no_symlink(victim, &cause), 0);
	assert_int_equal(safefile_no_symlink(gone, &cause), 0);
	/* safefile_trust_file: the file itself, never a link, never writable by others */
	assert_int_equal(safefile_trust_file(p, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(chmod(victim, 0600), 0);
	assert_int_equal(safefile_trust_file(victim, &cause), 0);
	assert_int_equal(chmod(victim, 0666), 0);
	assert_int_equal(safefile_trust_file(victim, &cause), -1);
	assert_non_null(strstr(cause, "chmod go-w"));
	free(cause);
	free(p);
	free(victim);
	free(gone);
}

static void test_mkdir_new(void **state)
{
	struct fx *f = *state;
	char *d = xprintf("%s/jobs/j1", f->dir), *jobs = xprintf("%s/jobs", f->dir);
	char *cause = NULL;

	assert_int_equal(safefile_mkdirs(jobs, &cause), 0);
	assert_int_equal(safefile_mkdirs(jobs, &cause), 0); /* mkdir -p: existing is fine */
	assert_int_equal(safefile_mkdir_new(d, 0700, &cause), 0);
	/* a job directory that exists already (an attacker's, or a stale one) is an error */
	assert_int_equal(safefile_mkdir_new(d, 0700, &cause), -1);
	assert_non_null(strstr(cause, "already exists"));
	free(cause);
	free(d);
	free(jobs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_trust_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust_owner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_trust_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkdir_new, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
