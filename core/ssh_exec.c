/* ssh_exec.c: remote commands over exec channels: stdin in, stdout and stderr streamed out,
 * exit status back, the whole command bounded by a deadline. */
#include <stdlib.h>
#include <string.h>

#include "core/ssh_internal.h"
#include "core/xmalloc.h"

#define SSH_EXEC_CAP (16u << 20)
#define SSH_EXEC_BUF 32768

static int ssh_exec_lost(struct ssh_session *s, int rc, const char *what, struct ssh_error *err)
{
	if (ssh_err_of(rc) == SSH_ERR_CLOSED) {
		s->dead = 1;
		ssh_error_set(err, SSH_ERR_CLOSED, "%s: connection to %s lost (%s)", s->prefix,
		              s->host, what);
		return -1;
	}
	ssh_error_from_session(err, s, what);
	return -1;
}

/* Opens a session channel and starts cmd on it. */
static LIBSSH2_CHANNEL *ssh_exec_start(struct ssh_session *s, const char *cmd, uint64_t deadline,
                                       struct ssh_error *err)
{
	LIBSSH2_CHANNEL *ch;
	int rc;

	while ((ch = libssh2_channel_open_session(s->raw)) == NULL) {
		rc = libssh2_session_last_errno(s->raw);
		if (rc != LIBSSH2_ERROR_EAGAIN) {
			ssh_exec_lost(s, rc, "opening a channel", err);
			return NULL;
		}
		if (ssh_wait_deadline(s, deadline, err, "opening a channel") < 0) {
			s->dead = 1; /* libssh2 is mid-request: the session cannot go on */
			return NULL;
		}
	}
	while ((rc = libssh2_channel_exec(ch, cmd)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait_deadline(s, deadline, err, "starting the command") < 0) {
			s->dead = 1;
			ssh_channel_drop(s, ch);
			return NULL;
		}
	if (rc != 0) {
		ssh_exec_lost(s, rc, "starting the command", err);
		ssh_channel_drop(s, ch);
		return NULL;
	}
	return ch;
}

/* Waits for the server's close after EOF and reads the exit status (-1: none, a signal). */
static int ssh_exec_finish(struct ssh_session *s, LIBSSH2_CHANNEL *ch, uint64_t deadline,
                           int *exit_status, struct ssh_error *err)
{
	char *sig = NULL;
	size_t siglen = 0;
	int rc;

	while ((rc = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait_deadline(s, deadline, err, "waiting for the command to end") < 0)
			return -1;
	if (rc != 0)
		return ssh_exec_lost(s, rc, "closing the channel", err);
	*exit_status = libssh2_channel_get_exit_status(ch);
	if (libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL) == 0 &&
	    sig != NULL) {
		*exit_status = -1;
		libssh2_free(s->raw, sig);
	}
	return 0;
}

int ssh_exec_stream(struct ssh_session *s, const char *cmd, const char *in, size_t inlen,
                    ssh_data_cb cb, void *arg, int *exit_status, int timeout_ms,
                    struct ssh_error *err)
{
	uint64_t deadline =
	    ssh_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : s->io_timeout_ms);
	static const int streams[2] = {0, SSH_EXTENDED_DATA_STDERR};
	LIBSSH2_CHANNEL *ch;
	char *buf;
	size_t off = 0;
	ssize_t n;
	int moved, eof_sent = 0, i, rc = -1;

	*exit_status = -1;
	if (s->dead) {
		ssh_error_set(err, SSH_ERR_CLOSED, "%s: connection to %s lost", s->prefix, s->host);
		return -1;
	}
	ssh_session_reap(s);
	ch = ssh_exec_start(s, cmd, deadline, err);
	if (ch == NULL)
		return -1;
	buf = xmalloc(SSH_EXEC_BUF);
	for (;;) {
		moved = 0;
		if (off < inlen) {
			n = libssh2_channel_write(ch, in + off, inlen - off);
			if (n > 0) {
				off += (size_t)n;
				moved = 1;
			} else if (n != LIBSSH2_ERROR_EAGAIN) {
				/* the command may have ended without reading its input */
				if (ssh_err_of((int)n) == SSH_ERR_CLOSED) {
					ssh_exec_lost(s, (int)n, "writing the command's input",
					              err);
					goto out;
				}
				off = inlen;
			}
		}
		if (off == inlen && !eof_sent) {
			n = libssh2_channel_send_eof(ch);
			if (n == 0 || n != LIBSSH2_ERROR_EAGAIN)
				eof_sent = 1;
		}
		for (i = 0; i < 2; i++) {
			n = libssh2_channel_read_ex(ch, streams[i], buf, SSH_EXEC_BUF);
			if (n > 0) {
				moved = 1;
				if (cb != NULL && cb(arg, i + 1, buf, (size_t)n) != 0) {
					/* the caller had enough: abandon the command */
					ssh_channel_drop(s, ch);
					ch = NULL;
					rc = 0;
					goto out;
				}
			} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
				ssh_exec_lost(s, (int)n, "reading the command's output", err);
				goto out;
			}
		}
		if (libssh2_channel_eof(ch))
			break;
		if (moved || ssh_channel_pending(ch))
			continue;
		if (ssh_wait_deadline(s, deadline, err, "waiting for the command") < 0) {
			if (err != NULL)
				ssh_error_set(err, SSH_ERR_TIMEOUT,
				              "%s: the command took longer than %d ms", s->prefix,
				              timeout_ms > 0 ? timeout_ms : s->io_timeout_ms);
			goto out;
		}
	}
	/* stderr that came with the EOF */
	while ((n = libssh2_channel_read_ex(ch, SSH_EXTENDED_DATA_STDERR, buf, SSH_EXEC_BUF)) > 0)
		if (cb != NULL && cb(arg, 2, buf, (size_t)n) != 0)
			break;
	rc = ssh_exec_finish(s, ch, deadline, exit_status, err);
out:
	if (ch != NULL)
		ssh_channel_drop(s, ch);
	free(buf);
	return rc;
}

struct ssh_exec_bufs {
	struct ssh_exec_result *r;
	size_t outcap, errcap;
};

static void ssh_exec_append(char **p, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len >= SSH_EXEC_CAP)
		return;
	if (n > SSH_EXEC_CAP - *len)
		n = SSH_EXEC_CAP - *len;
	if (*len + n + 1 > *cap) {
		while (*len + n + 1 > *cap)
			*cap = *cap < 4096 ? 4096 : *cap * 2;
		*p = xrealloc(*p, *cap);
	}
	memcpy(*p + *len, data, n);
	*len += n;
	(*p)[*len] = '\0';
}

static int ssh_exec_collect(void *arg, int stream, const char *data, size_t len)
{
	struct ssh_exec_bufs *b = arg;

	if (stream == 1)
		ssh_exec_append(&b->r->out, &b->r->outlen, &b->outcap, data, len);
	else
		ssh_exec_append(&b->r->errout, &b->r->errlen, &b->errcap, data, len);
	return 0;
}

int ssh_exec(struct ssh_session *s, const char *cmd, const char *in, size_t inlen,
             struct ssh_exec_result *r, int timeout_ms, struct ssh_error *err)
{
	struct ssh_exec_bufs b = {.r = r};

	memset(r, 0, sizeof *r);
	r->out = xstrdup("");
	r->errout = xstrdup("");
	b.outcap = b.errcap = 1;
	if (ssh_exec_stream(s, cmd, in, inlen, ssh_exec_collect, &b, &r->exit_status, timeout_ms,
	                    err) < 0) {
		ssh_exec_result_clear(r);
		return -1;
	}
	return 0;
}

void ssh_exec_result_clear(struct ssh_exec_result *r)
{
	free(r->out);
	free(r->errout);
	memset(r, 0, sizeof *r);
	r->exit_status = -1;
}
