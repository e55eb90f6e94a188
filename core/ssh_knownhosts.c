/* ssh_knownhosts.c: the server's host key against OpenSSH known_hosts files: fingerprint as
 * `ssh-keygen -lf` prints it, unknown and changed keys, recording a new key (accept_new). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ssh_internal.h"
#include "core/xmalloc.h"

struct ssh_keykind {
	int hostkey_type;  /* LIBSSH2_HOSTKEY_TYPE_* */
	int mask;          /* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;  /* as in known_hosts */
	const char *label; /* as ssh-keygen -l prints it */
};

static const struct ssh_keykind ssh_keykinds[] = {
    {LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa", "RSA"},
    {LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss", "DSA"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256",
     "ECDSA"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384",
     "ECDSA"},
    {LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521",
     "ECDSA"},
    {LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519", "ED25519"},
};

char *ssh_knownhosts_base64(const unsigned char *data, size_t len, int pad)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc(len / 3 * 4 + 5), *o = out;
	size_t i;
	unsigned int v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned int)data[i] << 16 | (unsigned int)data[i + 1] << 8 | data[i + 2];
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		*o++ = tab[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned int)data[i] << 16;
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		if (pad) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (len - i == 2) {
		v = (unsigned int)data[i] << 16 | (unsigned int)data[i + 1] << 8;
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

/* The known_hosts name of host:port: "host" on port 22, else "[host]:port". */
static char *ssh_knownhosts_name(const char *host, int port)
{
	if (port == 22)
		return xstrdup(host);
	return xprintf("[%s]:%d", host, port);
}

/* mkdir -p of path's directory (0700 for what it creates). */
static int ssh_knownhosts_mkdirs(const char *path)
{
	char *dir = xstrdup(path), *p;
	int rc = 0;

	p = strrchr(dir, '/');
	if (p == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*p = c;
		if (c == '\0')
			break;
	}
	free(dir);
	return rc;
}

/* Appends "name type base64" to path (created 0600, its directory 0700). */
static int ssh_knownhosts_append(const char *path, const char *name, const char *type,
                                 const char *key, size_t keylen, char **why)
{
	char *b64 = ssh_knownhosts_base64((const unsigned char *)key, keylen, 1);
	char *line, last = '\n';
	int fd, rc = 0;
	size_t len;
	ssize_t n;
	struct stat st;

	if (ssh_knownhosts_mkdirs(path) < 0) {
		free(b64);
		return xcause(why, "cannot create the directory of %s: %s", path, strerror(errno));
	}
	/* a link you made (dotfiles) is followed; one another user planted is not */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && st.st_uid != geteuid()) {
		free(b64);
		return xcause(why, "%s is a symbolic link owned by another user: not written",
		              path);
	}
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(b64);
		return xcause(why, "cannot open %s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		free(b64);
		return xcause(why, "%s is not a regular file of yours: not written", path);
	}
	/* a file whose last line has no newline gets one first */
	if (fstat(fd, &st) == 0 && st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	line = xprintf("%s%s %s %s\n", last == '\n' ? "" : "\n", name, type, b64);
	len = strlen(line);
	n = write(fd, line, len);
	if (n < 0 || (size_t)n != len)
		rc = xcause(why, "cannot write %s: %s", path,
		            n < 0 ? strerror(errno) : "short write");
	if (close(fd) < 0 && rc == 0)
		rc = xcause(why, "cannot write %s: %s", path, strerror(errno));
	free(line);
	free(b64);
	return rc;
}

/* The default known_hosts file (heap), NULL when there is no home directory. */
static char *ssh_knownhosts_default(void)
{
	char *name = NULL, *home = NULL, *path;

	if (ssh_auth_local_user(&name, &home) < 0)
		return NULL;
	path = xprintf("%s/.ssh/known_hosts", home);
	free(name);
	free(home);
	return path;
}

int ssh_knownhosts_check(struct ssh_session *s, const struct ssh_target *t, struct ssh_error *err)
{
	const struct ssh_keykind *kind = NULL;
	struct libssh2_knownhost *found = NULL;
	LIBSSH2_KNOWNHOSTS *kh;
	const char *key, *hash;
	char *path, *b64, *name, *why = NULL;
	size_t keylen = 0, i;
	int type = 0, rc;

	key = libssh2_session_hostkey(s->raw, &keylen, &type);
	hash = libssh2_hostkey_hash(s->raw, LIBSSH2_HOSTKEY_HASH_SHA256);
	if (key == NULL || hash == NULL) {
		ssh_error_set(err, SSH_ERR_HANDSHAKE, "%s: the server sent no host key", s->prefix);
		return -1;
	}
	for (i = 0; i < sizeof ssh_keykinds / sizeof ssh_keykinds[0]; i++)
		if (ssh_keykinds[i].hostkey_type == type)
			kind = &ssh_keykinds[i];
	b64 = ssh_knownhosts_base64((const unsigned char *)hash, 32, 0);
	snprintf(s->fingerprint, sizeof s->fingerprint, "SHA256:%s", b64);
	free(b64);
	if (kind == NULL) {
		ssh_error_set(err, SSH_ERR_HANDSHAKE, "%s: host key of an unknown type (%d)",
		              s->prefix, type);
		return -1;
	}
	path = t->known_hosts != NULL ? xstrdup(t->known_hosts) : ssh_knownhosts_default();
	if (path == NULL) {
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: no home directory for ~/.ssh/known_hosts",
		              s->prefix);
		return -1;
	}
	kh = libssh2_knownhost_init(s->raw);
	if (kh == NULL) {
		free(path);
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: out of memory", s->prefix);
		return -1;
	}
	rc = libssh2_knownhost_readfile(kh, path, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
	if (rc < 0 && access(path, F_OK) == 0) {
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: cannot read %s", s->prefix, path);
		goto fail;
	}
	rc = libssh2_knownhost_checkp(
	    kh, s->host, s->port, key, keylen,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | kind->mask, &found);
	name = ssh_knownhosts_name(s->host, s->port);
	if (rc == LIBSSH2_KNOWNHOST_CHECK_MATCH) {
		rc = 0;
	} else if (rc == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		ssh_error_set(
		    err, SSH_ERR_HOSTKEY_CHANGED,
		    "HOST KEY CHANGED for %s: the server now offers %s key %s, which is "
		    "not the key in %s; refusing; if the host was reinstalled, remove the "
		    "old key with ssh-keygen -R '%s' -f '%s'",
		    name, kind->label, s->fingerprint, path, name, path);
		rc = -1;
	} else if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND && t->accept_new) {
		rc = ssh_knownhosts_append(path, name, kind->name, key, keylen, &why);
		if (rc < 0) {
			ssh_error_set(err, SSH_ERR_LOCAL, "%s: cannot record the host key: %s",
			              s->prefix, why);
			free(why);
		}
	} else if (rc == LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
		ssh_error_set(
		    err, SSH_ERR_HOSTKEY_UNKNOWN,
		    "%s: unknown host key (%s %s): %s is not in %s; check the fingerprint "
		    "and accept it",
		    s->prefix, kind->label, s->fingerprint, name, path);
		rc = -1;
	} else {
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: cannot check the host key against %s",
		              s->prefix, path);
		rc = -1;
	}
	free(name);
	if (rc < 0 && err != NULL && err->code != SSH_ERR_LOCAL) {
		snprintf(err->fingerprint, sizeof err->fingerprint, "%s", s->fingerprint);
		snprintf(err->keytype, sizeof err->keytype, "%s", kind->label);
	}
	libssh2_knownhost_free(kh);
	free(path);
	return rc;
fail:
	libssh2_knownhost_free(kh);
	free(path);
	return -1;
}
