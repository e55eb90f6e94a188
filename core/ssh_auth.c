/* ssh_auth.c: public key authentication: ssh-agent first, then key files; a reason naming
 * everything tried when no key is accepted, and the RSA/SHA-1 limit of libssh2 1.10 named as
 * such. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ssh_internal.h"
#include "core/xmalloc.h"

#define SSH_RSA_WHY                                                                                \
	"this build's libssh2 1.10 can only sign with ssh-rsa (SHA-1), which OpenSSH 8.8+ "        \
	"refuses; use an ed25519 key (ssh-keygen -t ed25519) or ECDSA"

struct ssh_auth_state {
	char tried[1024];     /* "agent (2 keys refused), /k (refused)" */
	int keys;             /* keys offered */
	int rsa_keys;         /* of which RSA */
	const char *rsa_file; /* the last RSA key file offered */
};

int ssh_auth_local_user(char **name, char **home)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	const char *h = getenv("HOME");

	if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) != 0 || res == NULL)
		return -1;
	*name = xstrdup(pw.pw_name);
	*home = xstrdup(h != NULL && *h == '/' ? h : pw.pw_dir);
	return 0;
}

static void ssh_auth_note(struct ssh_auth_state *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ssh_auth_note(struct ssh_auth_state *a, const char *fmt, ...)
{
	size_t n = strlen(a->tried);
	va_list ap;

	if (n > 0 && n + 2 < sizeof a->tried) {
		memcpy(a->tried + n, ", ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(a->tried + n, sizeof a->tried - n, fmt, ap);
	va_end(ap);
}

static int ssh_auth_b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes the base64 characters of text (others skipped) into out; returns the length. */
static size_t ssh_auth_unbase64(const char *text, unsigned char *out, size_t cap)
{
	unsigned int v = 0;
	int bits = 0, d;
	size_t n = 0;

	for (; *text != '\0' && *text != '='; text++) {
		d = ssh_auth_b64val((unsigned char)*text);
		if (d < 0)
			continue;
		v = (v << 6 | (unsigned int)d) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n < cap)
				out[n++] = (unsigned char)(v >> bits & 0xff);
		}
	}
	return n;
}

/* Reads an SSH string at *p (length-prefixed); 0 or -1 when it runs past end. */
static int ssh_auth_string(const unsigned char **p, const unsigned char *end,
                           const unsigned char **s, size_t *len)
{
	size_t l;

	if (end - *p < 4)
		return -1;
	l = (size_t)(*p)[0] << 24 | (size_t)(*p)[1] << 16 | (size_t)(*p)[2] << 8 | (*p)[3];
	*p += 4;
	if ((size_t)(end - *p) < l)
		return -1;
	*s = *p;
	*len = l;
	*p += l;
	return 0;
}

/* Whether a public key blob is ssh-rsa. */
static int ssh_auth_blob_is_rsa(const unsigned char *blob, size_t len)
{
	const unsigned char *p = blob, *type;
	size_t tlen;

	if (ssh_auth_string(&p, blob + len, &type, &tlen) < 0)
		return 0;
	return tlen == 7 && memcmp(type, "ssh-rsa", 7) == 0;
}

/* Whether the private key file holds an RSA key (PEM "RSA PRIVATE KEY", or an OpenSSH-format
 * key whose public part is ssh-rsa). */
static int ssh_auth_file_is_rsa(const char *path)
{
	static const char magic[] = "openssh-key-v1";
	char text[16384];
	unsigned char *bin;
	const unsigned char *p, *end, *s;
	size_t n, len, slen;
	FILE *f = fopen(path, "re");
	int i, rsa = 0;
	char *body;

	if (f == NULL)
		return 0;
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	if (strncmp(text, "-----BEGIN RSA PRIVATE KEY", 26) == 0)
		return 1;
	if (strncmp(text, "-----BEGIN OPENSSH PRIVATE KEY-----", 35) != 0)
		return 0;
	body = text + 35;
	if (strstr(body, "-----END") != NULL)
		*strstr(body, "-----END") = '\0';
	bin = xmalloc(sizeof text);
	len = ssh_auth_unbase64(body, bin, sizeof text);
	end = bin + len;
	if (len > sizeof magic && memcmp(bin, magic, sizeof magic) == 0) {
		p = bin + sizeof magic;
		/* cipher, kdf name, kdf options, then a key count */
		for (i = 0; i < 3; i++)
			if (ssh_auth_string(&p, end, &s, &slen) < 0)
				goto out;
		if (end - p < 4)
			goto out;
		p += 4;
		if (ssh_auth_string(&p, end, &s, &slen) == 0)
			rsa = ssh_auth_blob_is_rsa(s, slen);
	}
out:
	free(bin);
	return rsa;
}

/* Whether rc says the connection itself is gone (not just this key refused). */
static int ssh_auth_lost(int rc)
{
	return rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_RECV ||
	       rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_TIMEOUT ||
	       rc == LIBSSH2_ERROR_BAD_SOCKET;
}

/* Runs one userauth step to its end (EAGAIN waits on the socket); returns libssh2's rc, or
 * LIBSSH2_ERROR_TIMEOUT when the deadline passed. */
static int ssh_auth_agent_one(struct ssh_session *s, LIBSSH2_AGENT *agent, const char *user,
                              struct libssh2_agent_publickey *id, uint64_t deadline,
                              struct ssh_error *err)
{
	int rc;

	while ((rc = libssh2_agent_userauth(agent, user, id)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait_deadline(s, deadline, err, "during authentication") < 0)
			return LIBSSH2_ERROR_TIMEOUT;
	return rc;
}

/* 1 authenticated, 0 not (noted in a), -1 fatal (err set). */
static int ssh_auth_agent(struct ssh_session *s, const char *user, uint64_t deadline,
                          struct ssh_auth_state *a, struct ssh_error *err)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	const char *sock = getenv("SSH_AUTH_SOCK");
	LIBSSH2_AGENT *agent;
	int rc, n = 0, result = 0;

	if (sock == NULL || *sock == '\0')
		return 0;
	agent = libssh2_agent_init(s->raw);
	if (agent == NULL) {
		ssh_auth_note(a, "agent (cannot start)");
		return 0;
	}
	if (libssh2_agent_connect(agent) != 0) {
		ssh_auth_note(a, "agent (cannot connect to %s)", sock);
		libssh2_agent_free(agent);
		return 0;
	}
	if (libssh2_agent_list_identities(agent) != 0) {
		ssh_auth_note(a, "agent (cannot list keys)");
		goto out;
	}
	while ((rc = libssh2_agent_get_identity(agent, &id, prev)) == 0) {
		prev = id;
		n++;
		a->keys++;
		if (ssh_auth_blob_is_rsa(id->blob, id->blob_len))
			a->rsa_keys++;
		rc = ssh_auth_agent_one(s, agent, user, id, deadline, err);
		if (rc == 0) {
			result = 1;
			goto out;
		}
		if (rc == LIBSSH2_ERROR_TIMEOUT) {
			result = -1;
			goto out;
		}
		if (ssh_auth_lost(rc)) {
			ssh_error_from_session(err, s, "authentication");
			result = -1;
			goto out;
		}
	}
	ssh_auth_note(a, n == 0 ? "agent (no keys)" : "agent (%d key%s refused)", n,
	              n == 1 ? "" : "s");
out:
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return result;
}

/* Same contract as ssh_auth_agent, for one key file; quiet when optional and missing. */
static int ssh_auth_file(struct ssh_session *s, const char *user, const char *path, int optional,
                         uint64_t deadline, struct ssh_auth_state *a, struct ssh_error *err)
{
	int rc;

	struct stat st;

	if (access(path, R_OK) < 0) {
		if (!optional)
			ssh_auth_note(a, "%s (%s)", path, strerror(errno));
		return 0;
	}
	/* issue 12: a private key others may read is refused, as OpenSSH does */
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0) {
		ssh_auth_note(a, "%s (refused: mode %04o lets others read it; run: chmod 600 %s)",
		              path, (unsigned)(st.st_mode & 07777), path);
		return 0;
	}
	a->keys++;
	if (ssh_auth_file_is_rsa(path)) {
		a->rsa_keys++;
		a->rsa_file = path;
	}
	while (
	    (rc = libssh2_userauth_publickey_fromfile_ex(s->raw, user, (unsigned int)strlen(user),
	                                                 NULL, path, NULL)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait_deadline(s, deadline, err, "during authentication") < 0)
			return -1;
	if (rc == 0)
		return 1;
	if (rc == LIBSSH2_ERROR_FILE) {
		a->keys--;
		ssh_auth_note(a,
		              "%s (cannot load it: is it protected by a passphrase? add it to "
		              "ssh-agent)",
		              path);
		return 0;
	}
	if (ssh_auth_lost(rc)) {
		ssh_error_from_session(err, s, "authentication");
		return -1;
	}
	ssh_auth_note(a, "%s (refused)", path);
	return 0;
}

int ssh_auth_run(struct ssh_session *s, const struct ssh_target *t, const char *user,
                 uint64_t deadline, struct ssh_error *err)
{
	struct ssh_auth_state a = {.tried = ""};
	char *name = NULL, *home = NULL, *p1 = NULL, *p2 = NULL;
	int rc;

	rc = ssh_auth_agent(s, user, deadline, &a, err);
	if (rc == 0 && t->key_file != NULL) {
		rc = ssh_auth_file(s, user, t->key_file, 0, deadline, &a, err);
	} else if (rc == 0 && ssh_auth_local_user(&name, &home) == 0) {
		p1 = xprintf("%s/.ssh/id_ed25519", home);
		p2 = xprintf("%s/.ssh/id_ecdsa", home);
		rc = ssh_auth_file(s, user, p1, 1, deadline, &a, err);
		if (rc == 0)
			rc = ssh_auth_file(s, user, p2, 1, deadline, &a, err);
	}
	if (rc == 0) {
		if (a.keys > 0 && a.rsa_keys == a.keys && a.rsa_file != NULL)
			ssh_error_set(err, SSH_ERR_AUTH, "%s: key %s is RSA: " SSH_RSA_WHY,
			              s->prefix, a.rsa_file);
		else if (a.keys > 0 && a.rsa_keys == a.keys)
			ssh_error_set(err, SSH_ERR_AUTH,
			              "%s: the agent's keys are RSA: " SSH_RSA_WHY, s->prefix);
		else if (a.tried[0] == '\0')
			ssh_error_set(
			    err, SSH_ERR_AUTH,
			    "%s: no key to log in as %s: no ssh-agent (SSH_AUTH_SOCK) and "
			    "no ~/.ssh/id_ed25519 or ~/.ssh/id_ecdsa",
			    s->prefix, user);
		else
			ssh_error_set(err, SSH_ERR_AUTH, "%s: no key was accepted for %s; tried %s",
			              s->prefix, user, a.tried);
		rc = -1;
	} else if (rc == 1) {
		rc = 0;
	}
	free(name);
	free(home);
	free(p1);
	free(p2);
	return rc;
}
