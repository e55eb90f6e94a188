/* cred.c: credentials named in config (NAME_file / NAME_env). No message built here ever
 * contains a credential's value: only setting names, positions, paths and variable names. */
#include "core/cred.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"

#define CRED_FILE_MAX (64 * 1024)

/* "FILE:LINE:COL: " of a setting, or "" when unknown (heap). */
static char *cred_where(const struct kvlist *pos, const char *key)
{
	const char *p = pos != NULL ? kvlist_get(pos, key) : NULL;

	return p != NULL ? xprintf("%s: ", p) : xstrdup("");
}

static int cred_fail(char **cause, const struct kvlist *pos, const char *key, const char *what)
{
	char *w = cred_where(pos, key);

	xcause(cause, "%s%s: %s", w, key, what);
	free(w);
	return -1;
}

static int cred_from_env(const struct kvlist *pos, const char *key, const char *var, char **value,
                         char **cause)
{
	const char *v;
	char *msg;
	int rc;

	if (*var == '\0')
		return cred_fail(cause, pos, key, "names no environment variable");
	v = getenv(var);
	if (v == NULL || *v == '\0') {
		msg =
		    xprintf("environment variable %s is %s", var, v == NULL ? "not set" : "empty");
		rc = cred_fail(cause, pos, key, msg);
		free(msg);
		return rc;
	}
	*value = xstrdup(v);
	return 0;
}

static int cred_from_file(const struct kvlist *pos, const char *key, const char *path, char **value,
                          char **cause)
{
	char buf[CRED_FILE_MAX + 1], *msg = NULL, *full;
	const char *home = getenv("HOME");
	struct stat st;
	size_t len = 0, n;
	ssize_t got;
	int fd, rc = -1;

	if (*path == '\0')
		return cred_fail(cause, pos, key, "names no file");
	if (strncmp(path, "~/", 2) == 0 && home != NULL && *home != '\0')
		full = xprintf("%s/%s", home, path + 2);
	else
		full = xstrdup(path);
	/* O_NONBLOCK: a FIFO put in its place must not hang the loop */
	fd = open(full, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			msg = xprintf("%s is a symbolic link; name the file itself", full);
		else
			msg = xprintf("cannot open %s: %s", full, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		msg = xprintf("cannot stat %s: %s", full, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		msg = xprintf("%s is not a regular file", full);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		msg = xprintf("%s belongs to uid %lu, not to you (uid %lu)", full,
		              (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		msg = xprintf("%s is readable or writable by others (mode %04o); run: chmod 600 %s",
		              full, (unsigned)(st.st_mode & 07777), full);
		goto out;
	}
	if (st.st_size > CRED_FILE_MAX) {
		msg = xprintf("%s is larger than %d KiB", full, CRED_FILE_MAX / 1024);
		goto out;
	}
	while (len < sizeof buf - 1) {
		got = read(fd, buf + len, sizeof buf - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			msg = xprintf("cannot read %s: %s", full, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	buf[len] = '\0';
	n = strcspn(buf, "\n");
	while (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		msg = xprintf("%s: the first line is empty", full);
		goto out;
	}
	if (memchr(buf, '\0', n) != NULL) {
		msg = xprintf("%s holds a NUL byte", full);
		goto out;
	}
	*value = xstrndup(buf, n);
	rc = 0;
out:
	explicit_bzero(buf, sizeof buf);
	if (fd >= 0)
		close(fd);
	if (msg != NULL)
		cred_fail(cause, pos, key, msg);
	free(msg);
	free(full);
	return rc;
}

int cred_get(const struct kvlist *settings, const struct kvlist *pos, const char *name,
             int required, char **value, char **cause)
{
	char *kf = xprintf("%s_file", name), *ke = xprintf("%s_env", name);
	const char *f = kvlist_get(settings, kf), *e = kvlist_get(settings, ke);
	int rc;

	*value = NULL;
	if (f != NULL && e != NULL) {
		char *w = cred_where(pos, ke);

		rc = xcause(cause, "%s%s and %s are both given; keep one", w, kf, ke);
		free(w);
	} else if (f != NULL) {
		rc = cred_from_file(pos, kf, f, value, cause);
	} else if (e != NULL) {
		rc = cred_from_env(pos, ke, e, value, cause);
	} else if (required) {
		rc = xcause(cause, "%s or %s is required", kf, ke);
	} else {
		rc = 1;
	}
	free(kf);
	free(ke);
	return rc;
}

void cred_free(char *value)
{
	if (value == NULL)
		return;
	explicit_bzero(value, strlen(value));
	free(value);
}
