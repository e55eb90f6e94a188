/* k8s_ws_conn.c: one WebSocket connection to the Kubernetes API server: libcurl
 * CONNECT_ONLY (TCP and TLS on a worker thread), our own HTTP/1.1 Upgrade request and the
 * check of its 101 answer, then libwslay framing over curl_easy_send/curl_easy_recv,
 * driven by the loop. See k8s_ws_internal.h. */
#include "providers/k8s_ws_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <wslay/wslay.h>

#include "core/async.h"
#include "core/http.h"
#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"

#define WSC_GUID           "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WSC_HDR_MAX        16384              /* the 101 answer's headers (and an error's body) */
#define WSC_HANDSHAKE_MS   30000              /* connect, TLS and upgrade */
#define WSC_CONNECT_MS     10000              /* TCP and TLS alone */
#define WSC_CLOSE_GRACE_MS 2000               /* waiting for the server's close frame */
#define WSC_MAX_MSG        (16 * 1024 * 1024) /* one incoming message */

enum wsc_state { WSC_CONNECTING, WSC_UPGRADING, WSC_OPEN, WSC_CLOSED };

struct k8s_wsc {
	struct loop *l;
	const struct http *http;
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
	CURLcode crc;     /* the worker's connect result */
	atomic_int abort; /* freed while connecting: the worker gives up */
	int connecting;   /* the worker holds it */
	int orphan;       /* freed while connecting: done frees */
	enum wsc_state state;
	int fd;
	struct loop_fd *fw;
	struct loop_timer *timer; /* handshake deadline, then the close grace */
	struct loop_timer *kick;  /* run io from the loop (resume, new data) */
	char *where;              /* "https://host:port" for messages */
	char *req;                /* the Upgrade request (holds the token: wiped) */
	size_t req_len, req_off;
	char *accept; /* the Sec-WebSocket-Accept we expect */
	char *proto;
	char hdr[WSC_HDR_MAX + 1];
	size_t hlen, hdr_end; /* bytes read; end of the header block (0 = not yet) */
	size_t pre_off;       /* bytes after the headers already given to wslay */
	long status;          /* a refused upgrade's status (its body is being read) */
	size_t body_need;
	wslay_event_context_ptr ctx;
	const struct k8s_wsc_ops *ops;
	void *arg;
	int paused, high, eof, shutting, reported, in_io, free_pending;
};

static void wsc_io(struct k8s_wsc *w);

/* --- helpers --- */

static char *wsc_b64(const unsigned char *in, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

char *k8s_wsc_accept_key(const char *key)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *cat = xprintf("%s%s", key, WSC_GUID);
	char *out;

	if (EVP_Digest(cat, strlen(cat), md, &mdlen, EVP_sha1(), NULL) != 1)
		xfatal("SHA-1 unavailable in libcrypto");
	free(cat);
	out = wsc_b64(md, mdlen);
	return out;
}

int k8s_wsc_split_server(const char *server, char **authority, char **prefix, char **cause)
{
	const char *p, *slash;
	size_t plen;

	*authority = *prefix = NULL;
	if (server == NULL ||
	    (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0))
		return xcause(cause, "the API server address must start with https://");
	p = strstr(server, "://") + 3;
	slash = strchr(p, '/');
	if (slash == p || *p == '\0')
		return xcause(cause, "the API server address has no host");
	*authority = slash != NULL ? xstrndup(p, (size_t)(slash - p)) : xstrdup(p);
	if (strpbrk(*authority, "@ \t\r\n") != NULL) {
		free(*authority);
		*authority = NULL;
		return xcause(cause, "the API server address has a bad host");
	}
	plen = slash != NULL ? strlen(slash) : 0;
	while (plen > 0 && slash[plen - 1] == '/')
		plen--;
	*prefix = plen > 0 ? xstrndup(slash, plen) : xstrdup("");
	if (strpbrk(*prefix, "?# \t\r\n") != NULL) {
		free(*authority);
		free(*prefix);
		*authority = *prefix = NULL;
		return xcause(cause, "the API server address has a bad path");
	}
	return 0;
}

static void wsc_wipe_req(struct k8s_wsc *w)
{
	if (w->req != NULL) {
		explicit_bzero(w->req, w->req_len);
		free(w->req);
	}
	w->req = NULL;
	w->req_len = w->req_off = 0;
}

static void wsc_events(struct k8s_wsc *w)
{
	short ev = 0;

	if (w->fw == NULL)
		return;
	if (w->state == WSC_UPGRADING) {
		ev = w->req_off < w->req_len ? POLLOUT : POLLIN;
	} else if (w->state == WSC_OPEN && w->ctx != NULL) {
		if (wslay_event_want_read(w->ctx) && !w->paused)
			ev |= POLLIN;
		if (wslay_event_want_write(w->ctx))
			ev |= POLLOUT;
	}
	loop_fd_set_events(w->fw, ev);
}

static void wsc_destroy(struct k8s_wsc *w)
{
	if (w->fw != NULL)
		loop_fd_remove(w->l, w->fw);
	if (w->timer != NULL)
		loop_timer_cancel(w->l, w->timer);
	if (w->kick != NULL)
		loop_timer_cancel(w->l, w->kick);
	if (w->ctx != NULL)
		wslay_event_context_free(w->ctx);
	if (w->easy != NULL)
		curl_easy_cleanup(w->easy);
	wsc_wipe_req(w);
	free(w->where);
	free(w->accept);
	free(w->proto);
	free(w);
}

/* Reports the end once (cause NULL: clean). */
static void wsc_end(struct k8s_wsc *w, const char *cause)
{
	char *red = NULL;

	if (w->reported)
		return;
	w->reported = 1;
	w->state = WSC_CLOSED;
	if (w->fw != NULL)
		loop_fd_set_events(w->fw, 0);
	if (w->timer != NULL) {
		loop_timer_cancel(w->l, w->timer);
		w->timer = NULL;
	}
	if (cause != NULL)
		red = w->http != NULL ? http_redact(w->http, cause) : xstrdup(cause);
	w->in_io++;
	w->ops->on_closed(w->arg, red);
	w->in_io--;
	free(red);
	if (w->free_pending && w->in_io == 0) /* freed in on_closed, outside of wsc_io */
		wsc_destroy(w);
}

static void wsc_fail(struct k8s_wsc *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wsc_fail(struct k8s_wsc *w, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	m = xvprintf(fmt, ap);
	va_end(ap);
	wsc_end(w, m);
	free(m);
}

static void wsc_kick_due(void *arg)
{
	struct k8s_wsc *w = arg;

	w->kick = NULL;
	wsc_io(w);
}

static void wsc_kick(struct k8s_wsc *w)
{
	if (w->kick == NULL && w->state != WSC_CLOSED && w->state != WSC_CONNECTING)
		w->kick = loop_timer_add(w->l, 0, 0, wsc_kick_due, w);
}

/* --- wslay callbacks --- */

static ssize_t wsc_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                           void *user)
{
	struct k8s_wsc *w = user;
	size_t n = 0;
	CURLcode rc;

	(void)flags;
	if (w->paused || w->free_pending || w->reported) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (w->hdr_end + w->pre_off < w->hlen) { /* bytes that came with the 101 answer */
		n = w->hlen - w->hdr_end - w->pre_off;
		if (n > len)
			n = len;
		memcpy(buf, w->hdr + w->hdr_end + w->pre_off, n);
		w->pre_off += n;
		return (ssize_t)n;
	}
	rc = curl_easy_recv(w->easy, buf, len, &n);
	if (rc == CURLE_AGAIN) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (rc != CURLE_OK || n == 0) {
		w->eof = 1;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)n;
}

static ssize_t wsc_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                           void *user)
{
	struct k8s_wsc *w = user;
	size_t n = 0;
	CURLcode rc;

	(void)flags;
	rc = curl_easy_send(w->easy, data, len, &n);
	if (rc == CURLE_AGAIN) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	if (rc != CURLE_OK) {
		w->eof = 1;
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)n;
}

static int wsc_genmask_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	(void)user;
	if (getrandom(buf, len, 0) != (ssize_t)len) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return 0;
}

static void wsc_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
                       void *user)
{
	struct k8s_wsc *w = user;

	(void)ctx;
	if (w->free_pending || w->reported)
		return;
	if ((a->opcode == WSLAY_BINARY_FRAME || a->opcode == WSLAY_TEXT_FRAME) &&
	    a->msg_length >= 1)
		w->ops->on_msg(w->arg, a->msg, a->msg_length);
}

/* --- the upgrade --- */

static const char *wsc_header(const char *hdrs, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *p = strstr(hdrs, "\r\n");

	while (p != NULL && p[2] != '\r') {
		const char *line = p + 2, *end = strstr(line, "\r\n");

		if (end == NULL)
			return NULL;
		if ((size_t)(end - line) > nlen && strncasecmp(line, name, nlen) == 0 &&
		    line[nlen] == ':') {
			const char *v = line + nlen + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			*vlen = (size_t)(end - v);
			while (*vlen > 0 && (v[*vlen - 1] == ' ' || v[*vlen - 1] == '\t'))
				(*vlen)--;
			return v;
		}
		p = end;
	}
	return NULL;
}

static int wsc_header_is(const char *hdrs, const char *name, const char *want, int contains)
{
	size_t vlen = 0, wl = strlen(want);
	const char *v = wsc_header(hdrs, name, &vlen);

	if (v == NULL)
		return 0;
	if (!contains)
		return vlen == wl && strncasecmp(v, want, wl) == 0;
	for (size_t i = 0; i + wl <= vlen; i++)
		if (strncasecmp(v + i, want, wl) == 0)
			return 1;
	return 0;
}

/* A refused upgrade: the API server's Status message when there is one. */
static void wsc_refused(struct k8s_wsc *w)
{
	const char *body = w->hdr + w->hdr_end;
	size_t blen = w->hlen - w->hdr_end;
	json_t *j = json_loadb(body, blen, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	char *clean = NULL;

	if (m != NULL) {
		clean = sanitize_text(m, (size_t)-1, 0);
		if (strlen(clean) > 300)
			strcpy(clean + 297, "...");
	}
	if (w->status == 401 || w->status == 403)
		wsc_fail(w, "the API server refused the %s connection (HTTP %ld)%s%s", w->proto,
		         w->status, clean != NULL ? ": " : "", clean != NULL ? clean : "");
	else
		wsc_fail(w, "HTTP %ld from the API server for a %s connection%s%s", w->status,
		         w->proto, clean != NULL ? ": " : "", clean != NULL ? clean : "");
	free(clean);
	json_decref(j);
}

/* The headers of the answer are in: 1 when upgraded, 0 to read a refusal's body, -1 failed. */
static int wsc_check_answer(struct k8s_wsc *w)
{
	struct wslay_event_callbacks cbs = {wsc_recv_cb, wsc_send_cb, wsc_genmask_cb, NULL,
	                                    NULL,        NULL,        wsc_msg_cb};
	char save = w->hdr[w->hdr_end];
	long status = 0;
	size_t vlen = 0;
	const char *v;
	int ok = 0;

	w->hdr[w->hdr_end] = '\0';
	if (sscanf(w->hdr, "HTTP/1.%*[01] %ld", &status) != 1 || status < 100 || status > 999) {
		w->hdr[w->hdr_end] = save;
		wsc_fail(w, "the API server at %s did not answer in HTTP/1.1", w->where);
		return -1;
	}
	if (status != 101) {
		v = wsc_header(w->hdr, "Content-Length", &vlen);
		w->body_need = v != NULL ? strtoul(v, NULL, 10) : 0;
		if (w->body_need > WSC_HDR_MAX - w->hdr_end)
			w->body_need = WSC_HDR_MAX - w->hdr_end;
		w->hdr[w->hdr_end] = save;
		w->status = status;
		return 0;
	}
	if (!wsc_header_is(w->hdr, "Upgrade", "websocket", 0) ||
	    !wsc_header_is(w->hdr, "Connection", "upgrade", 1))
		wsc_fail(w, "the API server at %s answered 101 without a WebSocket upgrade",
		         w->where);
	else if (!wsc_header_is(w->hdr, "Sec-WebSocket-Accept", w->accept, 0))
		wsc_fail(w, "the API server at %s sent a wrong Sec-WebSocket-Accept", w->where);
	else if (!wsc_header_is(w->hdr, "Sec-WebSocket-Protocol", w->proto, 0))
		wsc_fail(w, "the API server at %s did not agree to the %s subprotocol", w->where,
		         w->proto);
	else
		ok = 1;
	w->hdr[w->hdr_end] = save;
	if (!ok)
		return -1;
	if (wslay_event_context_client_init(&w->ctx, &cbs, w) != 0)
		xfatal("out of memory (wslay)");
	wslay_event_config_set_max_recv_msg_length(w->ctx, WSC_MAX_MSG);
	w->state = WSC_OPEN;
	if (w->timer != NULL) {
		loop_timer_cancel(w->l, w->timer);
		w->timer = NULL;
	}
	return 1;
}

/* Sends the request and reads the answer's headers: 1 when open, 0 to wait, -1 ended. */
static int wsc_upgrade(struct k8s_wsc *w)
{
	CURLcode rc;
	size_t n;
	char *end;

	while (w->req_off < w->req_len) {
		n = 0;
		rc = curl_easy_send(w->easy, w->req + w->req_off, w->req_len - w->req_off, &n);
		if (rc == CURLE_AGAIN)
			return 0;
		if (rc != CURLE_OK) {
			wsc_fail(w, "sending to the API server at %s: %s", w->where,
			         curl_easy_strerror(rc));
			return -1;
		}
		w->req_off += n;
	}
	wsc_wipe_req(w);
	for (;;) {
		if (w->hlen >= WSC_HDR_MAX) {
			if (w->status != 0) {
				wsc_refused(w);
				return -1;
			}
			wsc_fail(w, "the API server's answer headers are too long");
			return -1;
		}
		n = 0;
		/* headers byte by byte would be slow; read what comes, the rest stays for wslay */
		rc = curl_easy_recv(w->easy, w->hdr + w->hlen, WSC_HDR_MAX - w->hlen, &n);
		if (rc == CURLE_AGAIN)
			return 0;
		if (rc != CURLE_OK || n == 0) {
			if (w->status != 0) {
				wsc_refused(w);
				return -1;
			}
			wsc_fail(
			    w, "the API server at %s closed the connection during the upgrade%s%s",
			    w->where, rc != CURLE_OK ? ": " : "",
			    rc != CURLE_OK ? curl_easy_strerror(rc) : "");
			return -1;
		}
		w->hlen += n;
		w->hdr[w->hlen] = '\0';
		if (w->hdr_end == 0 && (end = strstr(w->hdr, "\r\n\r\n")) != NULL) {
			w->hdr_end = (size_t)(end - w->hdr) + 4;
			int r = wsc_check_answer(w);

			if (r != 0)
				return r;
		}
		if (w->status != 0 && w->hlen - w->hdr_end >= w->body_need) {
			wsc_refused(w);
			return -1;
		}
	}
}

/* --- driving --- */

static void wsc_io(struct k8s_wsc *w)
{
	int r;

	if (w->state == WSC_CLOSED || w->state == WSC_CONNECTING)
		return;
	w->in_io++;
	if (w->state == WSC_UPGRADING) {
		r = wsc_upgrade(w);
		if (r < 0 || w->free_pending)
			goto out;
		if (r > 0) {
			w->ops->on_open(w->arg);
			if (w->free_pending || w->reported)
				goto out;
		}
	}
	if (w->state == WSC_OPEN) {
		if (!w->paused && wslay_event_want_read(w->ctx)) {
			r = wslay_event_recv(w->ctx);
			if (w->free_pending || w->reported)
				goto out;
			if (r != 0 && !w->eof) {
				wsc_fail(w, "a broken WebSocket stream from the API server at %s",
				         w->where);
				goto out;
			}
		}
		if (!w->eof && wslay_event_want_write(w->ctx)) {
			r = wslay_event_send(w->ctx);
			if (r != 0 && !w->eof) {
				wsc_fail(w, "writing to the API server at %s failed", w->where);
				goto out;
			}
		}
		if (w->high && wslay_event_get_queued_msg_length(w->ctx) < K8S_WSC_LOW) {
			w->high = 0;
			if (w->ops->on_drain != NULL)
				w->ops->on_drain(w->arg);
			if (w->free_pending || w->reported)
				goto out;
		}
		if (w->eof) {
			if (wslay_event_get_close_received(w->ctx))
				wsc_end(w, NULL);
			else
				wsc_fail(w, "the API server at %s closed the connection", w->where);
			goto out;
		}
		if (!wslay_event_want_read(w->ctx) && !wslay_event_want_write(w->ctx)) {
			wsc_end(w, NULL); /* the close handshake is over */
			goto out;
		}
	}
	wsc_events(w);
out:
	w->in_io--;
	if (w->free_pending && w->in_io == 0) {
		/* freed from a callback: one non-blocking try at the close frame queued then */
		if (w->ctx != NULL && !w->eof && wslay_event_want_write(w->ctx))
			wslay_event_send(w->ctx);
		wsc_destroy(w);
	}
}

static void wsc_on_fd(int fd, short revents, void *arg)
{
	(void)fd;
	(void)revents;
	wsc_io(arg);
}

static void wsc_deadline(void *arg)
{
	struct k8s_wsc *w = arg;

	w->timer = NULL;
	if (w->connecting)
		atomic_store(&w->abort, 1);
	if (w->state == WSC_OPEN && w->shutting) { /* no close answer: done anyway */
		wsc_end(w, NULL);
	} else {
		wsc_fail(w, "the API server at %s did not answer within %d s", w->where,
		         WSC_HANDSHAKE_MS / 1000);
	}
}

/* --- connecting on the worker thread --- */

static int wsc_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct k8s_wsc *w = arg;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return atomic_load(&w->abort) ? 1 : 0;
}

static void wsc_connect_work(void *arg)
{
	struct k8s_wsc *w = arg;

	if (atomic_load(&w->abort)) {
		w->crc = CURLE_ABORTED_BY_CALLBACK;
		return;
	}
	w->crc = curl_easy_perform(w->easy);
}

static void wsc_connect_done(void *arg, int cancelled)
{
	struct k8s_wsc *w = arg;
	curl_socket_t s = CURL_SOCKET_BAD;

	w->connecting = 0;
	if (w->orphan) {
		wsc_destroy(w);
		return;
	}
	if (w->reported) /* timed out meanwhile: the owner frees it */
		return;
	w->state = WSC_UPGRADING;
	if (cancelled) {
		wsc_fail(w, "the connection to %s was cancelled", w->where);
		return;
	}
	if (w->crc != CURLE_OK) {
		wsc_fail(w, "could not connect to the API server at %s: %s", w->where,
		         w->errbuf[0] != '\0' ? w->errbuf : curl_easy_strerror(w->crc));
		return;
	}
	if (curl_easy_getinfo(w->easy, CURLINFO_ACTIVESOCKET, &s) != CURLE_OK ||
	    s == CURL_SOCKET_BAD) {
		wsc_fail(w, "no socket for the API server at %s", w->where);
		return;
	}
	w->fd = (int)s;
	w->fw = loop_fd_add(w->l, w->fd, POLLOUT, wsc_on_fd, w);
	wsc_io(w);
}

int k8s_wsc_open(struct loop *l, struct async_queue *q, const struct k8s_ws_conn *conn,
                 const char *path_query, const char *proto, const struct k8s_wsc_ops *ops,
                 void *arg, struct k8s_wsc **out, char **cause)
{
	struct k8s_wsc *w;
	char *authority = NULL, *prefix = NULL, *token = NULL, *auth = NULL, *key;
	unsigned char raw[16];

	*out = NULL;
	if (http_url_check(conn->server, cause) != 0)
		return -1;
	if (k8s_wsc_split_server(conn->server, &authority, &prefix, cause) != 0)
		return -1;
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		free(authority);
		free(prefix);
		return xcause(cause, "getrandom: %s", strerror(errno));
	}
	w = xcalloc(1, sizeof *w);
	w->l = l;
	w->http = conn->http;
	w->ops = ops;
	w->arg = arg;
	w->fd = -1;
	w->proto = xstrdup(proto);
	w->where = xprintf("%.*s%s", (int)(strstr(conn->server, "://") + 3 - conn->server),
	                   conn->server, authority);
	atomic_init(&w->abort, 0);
	key = wsc_b64(raw, sizeof raw);
	w->accept = k8s_wsc_accept_key(key);
	if (conn->bearer != NULL)
		token = conn->bearer(conn->bearer_arg);
	if (token != NULL) {
		auth = xprintf("Authorization: Bearer %s\r\n", token);
		explicit_bzero(token, strlen(token));
		free(token);
	}
	w->req = xprintf("GET %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gantry/" PACKAGE_VERSION
	                 "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
	                 "%s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n%s\r\n",
	                 prefix, path_query, authority, key, proto, auth != NULL ? auth : "");
	w->req_len = strlen(w->req);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	free(key);
	free(authority);
	free(prefix);

	w->easy = curl_easy_init();
	if (w->easy == NULL)
		xfatal("out of memory (curl)");
	curl_easy_setopt(w->easy, CURLOPT_URL, conn->server);
	curl_easy_setopt(w->easy, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(w->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)WSC_CONNECT_MS);
	curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->easy, CURLOPT_ERRORBUFFER, w->errbuf);
	curl_easy_setopt(w->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(w->easy, CURLOPT_NOPROXY, "localhost,127.0.0.0/8,::1");
	curl_easy_setopt(w->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(w->easy, CURLOPT_XFERINFOFUNCTION, wsc_progress);
	curl_easy_setopt(w->easy, CURLOPT_XFERINFODATA, w);
	if (conn->http != NULL)
		http_easy_tls(conn->http, w->easy);
	w->state = WSC_CONNECTING;
	w->connecting = 1;
	w->timer = loop_timer_add(l, WSC_HANDSHAKE_MS, 0, wsc_deadline, w);
	async_queue_submit(q, wsc_connect_work, wsc_connect_done, w);
	*out = w;
	return 0;
}

int k8s_wsc_send(struct k8s_wsc *w, uint8_t channel, const void *data, size_t len)
{
	struct wslay_event_msg m;
	uint8_t *buf;
	int rc;

	if (w->state != WSC_OPEN || w->shutting || w->eof)
		return -1;
	buf = xmalloc(len + 1);
	buf[0] = channel;
	if (len > 0)
		memcpy(buf + 1, data, len);
	m.opcode = WSLAY_BINARY_FRAME;
	m.msg = buf;
	m.msg_length = len + 1;
	rc = wslay_event_queue_msg(w->ctx, &m);
	free(buf);
	if (rc != 0)
		return -1;
	if (wslay_event_get_queued_msg_length(w->ctx) > K8S_WSC_HIGH)
		w->high = 1;
	wsc_kick(w);
	return 0;
}

size_t k8s_wsc_queued(const struct k8s_wsc *w)
{
	if (w->state != WSC_OPEN || w->ctx == NULL)
		return 0;
	return wslay_event_get_queued_msg_length(w->ctx);
}

void k8s_wsc_pause(struct k8s_wsc *w, int paused)
{
	if (w->paused == !!paused)
		return;
	w->paused = !!paused;
	if (w->in_io == 0 && w->state == WSC_OPEN)
		wsc_events(w);
	if (!paused) /* TLS may hold bytes already read from the socket: read now */
		wsc_kick(w);
}

void k8s_wsc_shutdown(struct k8s_wsc *w)
{
	if (w->state != WSC_OPEN || w->shutting || w->reported) {
		if (w->state != WSC_OPEN && !w->reported && w->state != WSC_CONNECTING)
			wsc_end(w, NULL);
		return;
	}
	w->shutting = 1;
	wslay_event_queue_close(w->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
	if (w->timer == NULL)
		w->timer = loop_timer_add(w->l, WSC_CLOSE_GRACE_MS, 0, wsc_deadline, w);
	wsc_kick(w);
}

void k8s_wsc_free(struct k8s_wsc *w)
{
	if (w == NULL)
		return;
	w->reported = 1; /* no callback from now on */
	if (w->connecting) {
		atomic_store(&w->abort, 1);
		w->orphan = 1;
		if (w->timer != NULL) {
			loop_timer_cancel(w->l, w->timer);
			w->timer = NULL;
		}
		return;
	}
	if (w->state == WSC_OPEN && w->ctx != NULL && !w->eof &&
	    !wslay_event_get_close_sent(w->ctx)) {
		/* best effort: one non-blocking try at the close frame */
		wslay_event_queue_close(w->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0);
		if (!w->in_io)
			wslay_event_send(w->ctx);
	}
	w->state = WSC_CLOSED;
	if (w->in_io > 0) {
		w->free_pending = 1;
		return;
	}
	wsc_destroy(w);
}
