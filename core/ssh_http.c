/* ssh_http.c: one HTTP GET to a port as the SSH server sees it (a direct-tcpip channel on an
 * open session, HTTP/1.0 so that the server closes when done): for asking a service that
 * listens only on a worker's loopback, such as Jupyter's /api/kernels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ssh_internal.h"
#include "core/xmalloc.h"

#define SSH_HTTP_CAP (1u << 20) /* bytes of response kept */

static int ssh_http_lost(struct ssh_session *s, int rc, const char *what, struct ssh_error *err)
{
	if (ssh_err_of(rc) == SSH_ERR_CLOSED) {
		s->dead = 1;
		ssh_error_set(err, SSH_ERR_CLOSED, "%s: connection to %s lost (%s)", s->prefix,
		              s->host, what);
	} else {
		ssh_error_from_session(err, s, what);
	}
	return -1;
}

/* Splits a raw response into the status code and the body. */
static int ssh_http_parse(char *raw, size_t len, struct ssh_http_result *r)
{
	char *eol = memchr(raw, '\n', len), *body;
	int status;

	if (eol == NULL || sscanf(raw, "HTTP/%*d.%*d %d", &status) != 1 || status < 100 ||
	    status > 999)
		return -1;
	body = strstr(raw, "\r\n\r\n");
	if (body != NULL) {
		body += 4;
	} else if ((body = strstr(raw, "\n\n")) != NULL) {
		body += 2;
	} else {
		body = raw + len;
	}
	r->status = status;
	r->len = len - (size_t)(body - raw);
	r->body = xmalloc(r->len + 1);
	memcpy(r->body, body, r->len);
	r->body[r->len] = '\0';
	return 0;
}

int ssh_http_get(struct ssh_session *s, const char *host, int port, const char *path,
                 struct ssh_http_result *r, int timeout_ms, struct ssh_error *err)
{
	uint64_t deadline =
	    ssh_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : s->io_timeout_ms);
	LIBSSH2_CHANNEL *ch;
	char *req, *raw = NULL, *m = NULL;
	size_t off = 0, reqlen, len = 0, cap = 0;
	ssize_t n;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (s->dead) {
		ssh_error_set(err, SSH_ERR_CLOSED, "%s: connection to %s lost", s->prefix, s->host);
		return -1;
	}
	if (path[0] != '/' || strpbrk(path, " \r\n") != NULL) {
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: not an HTTP path: %.100s", s->prefix, path);
		return -1;
	}
	ssh_session_reap(s);
	while ((ch = libssh2_channel_direct_tcpip_ex(s->raw, host, port, "127.0.0.1", 0)) == NULL) {
		rc = libssh2_session_last_error(s->raw, &m, NULL, 0);
		if (rc != LIBSSH2_ERROR_EAGAIN) {
			if (ssh_err_of(rc) == SSH_ERR_CLOSED)
				return ssh_http_lost(s, rc, "opening a channel", err);
			/* refused by the server (nothing listens there, forwarding off): the
			 * session itself is fine */
			ssh_error_set(err,
			              m != NULL && strstr(m, "connect failed") != NULL
			                  ? SSH_ERR_CONNECT
			                  : SSH_ERR_CHANNEL,
			              "%s: cannot reach %s:%d on the server: %s", s->prefix, host,
			              port, m != NULL ? m : "refused");
			return -1;
		}
		if (ssh_wait_deadline(s, deadline, err, "opening a channel") < 0) {
			s->dead = 1; /* libssh2 is mid-request: the session cannot go on */
			return -1;
		}
	}
	rc = -1;
	req = xprintf("GET %s HTTP/1.0\r\nHost: %s:%d\r\nAccept: application/json\r\n"
	              "User-Agent: gantry\r\nConnection: close\r\n\r\n",
	              path, host, port);
	reqlen = strlen(req);
	for (;;) {
		int moved = 0;

		if (off < reqlen) {
			n = libssh2_channel_write(ch, req + off, reqlen - off);
			if (n > 0) {
				off += (size_t)n;
				moved = 1;
			} else if (n != LIBSSH2_ERROR_EAGAIN) {
				ssh_http_lost(s, (int)n, "sending the request", err);
				goto out;
			}
		}
		if (cap - len < 8192) {
			cap = cap == 0 ? 16384 : cap * 2;
			raw = xrealloc(raw, cap + 1);
		}
		n = libssh2_channel_read(ch, raw + len, cap - len);
		if (n > 0) {
			len += (size_t)n;
			moved = 1;
			if (len > SSH_HTTP_CAP) {
				ssh_error_set(err, SSH_ERR_LOCAL,
				              "%s: the answer from %s:%d is over %u bytes",
				              s->prefix, host, port, SSH_HTTP_CAP);
				goto out;
			}
		} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			ssh_http_lost(s, (int)n, "reading the answer", err);
			goto out;
		}
		if (libssh2_channel_eof(ch) && !ssh_channel_pending(ch))
			break;
		if (moved || ssh_channel_pending(ch))
			continue;
		if (ssh_wait_deadline(s, deadline, err, "waiting for the answer") < 0) {
			ssh_error_set(err, SSH_ERR_TIMEOUT, "%s: %s:%d did not answer within %d ms",
			              s->prefix, host, port,
			              timeout_ms > 0 ? timeout_ms : s->io_timeout_ms);
			goto out;
		}
	}
	raw[len] = '\0';
	if (ssh_http_parse(raw, len, r) != 0) {
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: %s:%d did not answer in HTTP", s->prefix,
		              host, port);
		goto out;
	}
	rc = 0;
out:
	ssh_channel_drop(s, ch);
	free(req);
	free(raw);
	return rc;
}

void ssh_http_result_clear(struct ssh_http_result *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

int ssh_session_dead(const struct ssh_session *s)
{
	return s->dead;
}
