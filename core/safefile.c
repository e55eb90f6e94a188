/* safefile.c: trusted directories and exclusive, no-follow file creation (see safefile.h). */
#include "core/safefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

/* path quoted for a shell command line when it needs it (heap). */
static char *safefile_shq(const char *path)
{
	size_t n = 0;
	char *out, *o;

	if (path[strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	                      "/._-+@%:,")] == '\0')
		return xstrdup(path);
	for (const char *s = path; *s != '\0'; s++)
		n += *s == '\'' ? 4 : 1;
	out = o = xmalloc(n + 3);
	*o++ = '\'';
	for (const char *s = path; *s != '\0'; s++) {
		if (*s == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *s;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* The login name of uid (heap), or its number. */
static char *safefile_user(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	return pw != NULL ? xstrdup(pw->pw_name) : xprintf("uid %lu", (unsigned long)uid);
}

/* Checks one existing path: final = the directory (or file) Gantry uses itself, else one of
 * its ancestors (root may own it, and it may be writable when sticky). */
static int safefile_check(const char *path, int final, const struct stat *st, char **cause)
{
	uid_t me = geteuid();
	char *q, *who, *mine;
	int rc;

	if (st->st_uid != me && (final || st->st_uid != 0)) {
		q = safefile_shq(path);
		who = safefile_user(st->st_uid);
		mine = safefile_user(me);
		rc =
		    xcause(cause,
		           "%s is owned by %s, not by you (%s)%s: Gantry refuses it; run `chown %s "
		           "%s` as root, or move it away",
		           path, who, mine, final ? "" : " or root", mine, q);
		free(q);
		free(who);
		free(mine);
		return rc;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 && (final || (st->st_mode & S_ISVTX) == 0)) {
		q = safefile_shq(path);
		rc = xcause(cause,
		            "%s is writable by group or others (mode %04o): Gantry refuses it; run "
		            "`chmod go-w %s`",
		            path, (unsigned)(st->st_mode & 07777), q);
		free(q);
		return rc;
	}
	return 0;
}

/* lstat()s prefix n of path and checks it. */
static int safefile_check_prefix(const char *path, size_t n, int final, char **cause)
{
	char *p = xstrndup(path, n);
	struct stat st;
	int rc;

	if (lstat(p, &st) != 0)
		rc = xcause(cause, "cannot check %s: %s", p, strerror(errno));
	else
		rc = safefile_check(p, final, &st, cause);
	free(p);
	return rc;
}

/* Checks each directory of the resolved path real from "/" down: real itself as final when
 * final is set, as an ancestor otherwise. */
static int safefile_check_chain(const char *real, int final, char **cause)
{
	size_t len = strlen(real);

	if (real[0] != '/')
		return xcause(cause, "cannot check %s: not an absolute path", real);
	if (safefile_check_prefix(real, 1, final && len == 1, cause) != 0)
		return -1;
	for (size_t i = 2; i <= len; i++) {
		if (i < len && real[i] != '/')
			continue;
		if (safefile_check_prefix(real, i, final && i == len, cause) != 0)
			return -1;
	}
	return 0;
}

/* Checks path: every ancestor as written (each resolved, with the directories above it, so a
 * symlink on the way is trusted no more than the directory holding it), then the resolved
 * path and the directories above it. */
static int safefile_check_path(const char *path, char **cause)
{
	char *real;
	int rc = 0;

	for (size_t i = 1; path[0] == '/' && rc == 0 && path[i] != '\0'; i++) {
		char *pre;

		if (path[i] != '/')
			continue;
		pre = xstrndup(path, i);
		real = realpath(pre, NULL);
		if (real == NULL)
			rc = xcause(cause, "cannot resolve %s: %s", pre, strerror(errno));
		else
			rc = safefile_check_chain(real, 0, cause);
		free(real);
		free(pre);
	}
	if (rc != 0)
		return -1;
	real = realpath(path, NULL);
	if (real == NULL)
		return xcause(cause, "cannot resolve %s: %s", path, strerror(errno));
	rc = safefile_check_chain(real, 1, cause);
	free(real);
	return rc;
}

int safefile_trust_dir(const char *dir, char **cause)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		return xcause(cause, "cannot check %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return xcause(cause, "%s is not a directory", dir);
	return safefile_check_path(dir, cause);
}

int safefile_trust_file(const char *path, char **cause)
{
	struct stat st;
	char *dir;
	const char *slash = strrchr(path, '/');
	int rc;

	if (lstat(path, &st) != 0)
		return xcause(cause, "cannot check %s: %s", path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return xcause(cause,
		              "%s is a symbolic link: Gantry refuses it; replace it with the "
		              "file itself",
		              path);
	if (!S_ISREG(st.st_mode))
		return xcause(cause, "%s is not a regular file", path);
	if (safefile_check(path, 1, &st, cause) != 0)
		return -1;
	if (slash == NULL)
		return 0;
	dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	rc = safefile_trust_dir(dir, cause);
	free(dir);
	return rc;
}

int safefile_mkdirs(const char *path, char **cause)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			rc = xcause(cause, "cannot create %s: %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	free(p);
	return rc;
}

int safefile_mkdir_new(const char *path, mode_t mode, char **cause)
{
	if (mkdir(path, mode) != 0)
		return xcause(cause, "cannot create %s: %s", path,
		              errno == EEXIST ? "it already exists (Gantry never reuses one)"
		                              : strerror(errno));
	return 0;
}

int safefile_create(const char *path, int flags, mode_t mode, char **cause)
{
	int fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int err = errno;

	if (fd < 0) {
		xcause(cause, "cannot create %s: %s", path,
		       err == EEXIST ? "it already exists (Gantry never reuses one)"
		                     : strerror(err));
		errno = err;
	}
	return fd;
}

int safefile_no_symlink(const char *path, char **cause)
{
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return xcause(cause,
		              "%s is a symbolic link: Gantry refuses it; move it away and put the "
		              "file itself there",
		              path);
	return 0;
}
