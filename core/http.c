/* http.c: libcurl multi interface driven by the event loop (socket and timer callbacks).
 *
 * A request goes through these states: QUEUED (waiting for a token of the handle's rate
 * limiter), ACTIVE (its easy handle is in the multi), WAITING (a retry's backoff timer),
 * DONE (finished, its callback not yet called), CALLING (inside its callback). Finished
 * transfers are first all moved to the DONE list and then handed to their callbacks one by
 * one, so that a callback may send or cancel requests of the same handle. */
#include "core/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"

#define HTTP_BODY_MAX           (16u * 1024 * 1024) /* refuse absurd bodies */
#define HTTP_DEFAULT_TIMEOUT_MS 30000L
#define HTTP_DEFAULT_CONNECT_MS 10000L
#define HTTP_DEFAULT_RETRIES    3
#define HTTP_BACKOFF_BASE_MS    500u
#define HTTP_BACKOFF_MAX_MS     30000u
#define HTTP_RETRY_AFTER_MAX_S  60

enum http_state { HTTP_QUEUED, HTTP_ACTIVE, HTTP_WAITING, HTTP_DONE, HTTP_CALLING };

struct http_req {
	struct http *h;
	enum http_state state;
	CURL *easy;
	struct curl_slist *hdrs;
	char *method;
	char *shown_url; /* scheme://host[:port]/path: no user, no query (for errors) */
	int retryable;
	int max_retries;
	int attempts;
	http_cb cb;
	void *arg;
	http_chunk_cb on_chunk;
	int streamed;  /* on_chunk was given data: a retry would repeat it */
	int in_chunk;  /* inside on_chunk */
	int stop;      /* on_chunk asked to stop, or http_cancel from inside on_chunk */
	int cancelled; /* http_cancel from inside on_chunk: free without a callback */
	CURLcode result;
	char *resp;
	size_t resp_len;
	char *retry_after;
	char **secrets; /* this request's secret header values */
	size_t nsecrets;
	struct loop_timer *timer; /* WAITING */
	char errbuf[CURL_ERROR_SIZE];
	struct http_req *prev, *next; /* every request of the handle */
	struct http_req *qnext;       /* the rate queue or the DONE list */
};

struct http_sock {
	struct loop_fd *watch;
	curl_socket_t fd;
	struct http_sock *prev, *next;
};

struct http {
	struct loop *loop;
	CURLM *multi;
	struct loop_timer *timer;
	struct http_req *reqs;
	int pending;
	struct http_sock *socks;
	/* rate limiter: a token bucket holding at most max(1, rate) tokens */
	double rate;
	double tokens;
	uint64_t refill_ms;
	struct http_req *qhead, *qtail;
	struct loop_timer *rate_timer;
	struct http_req *done_head, *done_tail;
	char *ca_file;
	char *ca_pem, *cert_pem, *key_pem; /* http_set_ca_pem, http_set_client_pem */
	size_t ca_pem_len, cert_pem_len, key_pem_len;
	char **secrets;
	size_t nsecrets;
	int dispatching; /* inside http_dispatch */
	int dying;       /* http_free was called from a callback */
	int in_curl;     /* inside curl_multi_socket_action: no curl_multi_add_handle */
	int sweep;       /* a request was cancelled from on_chunk */
	uint64_t rng;    /* xorshift state for the backoff's jitter */
};

static void http_dispatch(struct http *h);
static void http_start(struct http_req *r);
static void http_rate_pump(struct http *h);
static void http_pem_drop(char **p, size_t *len);

/* ---- secrets ---- */

static void http_secret_push(char ***v, size_t *n, const char *s)
{
	if (s == NULL || *s == '\0')
		return;
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = xstrdup(s);
}

static void http_secrets_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		explicit_bzero(v[i], strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

/* Replaces every occurrence of sec in *s (heap) by "[redacted]". */
static void http_redact_one(char **s, const char *sec)
{
	size_t sl = strlen(sec);
	char *p;

	if (sl == 0)
		return;
	while ((p = strstr(*s, sec)) != NULL) {
		char *n = xprintf("%.*s[redacted]%s", (int)(p - *s), *s, p + sl);

		free(*s);
		*s = n;
	}
}

char *http_redact(const struct http *h, const char *s)
{
	char *out = xstrdup(s != NULL ? s : "");

	for (size_t i = 0; h != NULL && i < h->nsecrets; i++)
		http_redact_one(&out, h->secrets[i]);
	return out;
}

static char *http_redact_req(const struct http_req *r, const char *s)
{
	char *out = http_redact(r->h, s);

	for (size_t i = 0; i < r->nsecrets; i++)
		http_redact_one(&out, r->secrets[i]);
	return out;
}

void http_add_secret(struct http *h, const char *secret)
{
	http_secret_push(&h->secrets, &h->nsecrets, secret);
}

/* ---- URL checks ---- */

static int http_host_loopback(const char *host)
{
	char buf[128];
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof buf) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		if (strchr(buf, '%') != NULL) /* a zone id: not loopback */
			return 0;
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return 0;
		if (IN6_IS_ADDR_LOOPBACK(&a6))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
	}
	return 0;
}

/* Parses url with curl's URL API: only http(s), http only to loopback. Sets *norm to the
 * URL as curl understood it (what is checked is what is fetched) and *shown to
 * scheme://host[:port]/path (no credentials, no query: they may carry secrets). */
static int http_check_url(const struct http *h, const char *url, char **norm, char **shown,
                          char **cause)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *full = NULL;
	int rc = -1;

	if (u == NULL)
		xfatal("curl_url failed");
	if (url == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK) {
		xcause(cause, "not a valid URL (expected https://HOST/PATH)");
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	*shown = xprintf("%s://%s%s%s%s", scheme, host, port != NULL ? ":" : "",
	                 port != NULL ? port : "", path != NULL ? path : "/");
	if (strcasecmp(scheme, "https") == 0) {
		rc = 0;
	} else if (strcasecmp(scheme, "http") != 0) {
		char *s = http_redact(h, scheme);

		xcause(cause, "unsupported URL scheme '%s' (only https, and http to loopback)", s);
		free(s);
	} else if (!http_host_loopback(host)) {
		char *s = http_redact(h, host);

		xcause(cause,
		       "refusing plain http:// to %s: http is allowed only to a loopback "
		       "address (127.0.0.0/8, ::1, localhost); use https://",
		       s);
		free(s);
	} else {
		rc = 0;
	}
	if (rc != 0) {
		free(*shown);
		*shown = NULL;
	} else {
		*norm = xstrdup(full);
	}
out:
	curl_free(full);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

int http_url_check(const char *url, char **cause)
{
	char *norm = NULL, *shown = NULL;
	int rc = http_check_url(NULL, url, &norm, &shown, cause);

	free(norm);
	free(shown);
	return rc;
}

/* ---- requests ---- */

static void http_link(struct http *h, struct http_req *r)
{
	r->next = h->reqs;
	if (h->reqs != NULL)
		h->reqs->prev = r;
	h->reqs = r;
	if (r->on_chunk == NULL) /* a stream (a watch, a followed log) is not pending work */
		h->pending++;
}

static void http_unlink(struct http *h, struct http_req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		h->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->prev = r->next = NULL;
	if (r->on_chunk == NULL)
		h->pending--;
}

static void http_req_free(struct http_req *r)
{
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->hdrs);
	free(r->method);
	free(r->shown_url);
	free(r->resp);
	free(r->retry_after);
	http_secrets_free(r->secrets, r->nsecrets);
	free(r);
}

static void http_list_remove(struct http_req **head, struct http_req **tail, struct http_req *r)
{
	struct http_req *prev = NULL;

	for (struct http_req *p = *head; p != NULL; prev = p, p = p->qnext) {
		if (p != r)
			continue;
		if (prev != NULL)
			prev->qnext = p->qnext;
		else
			*head = p->qnext;
		if (*tail == p)
			*tail = prev;
		p->qnext = NULL;
		return;
	}
}

static void http_list_append(struct http_req **head, struct http_req **tail, struct http_req *r)
{
	r->qnext = NULL;
	if (*tail != NULL)
		(*tail)->qnext = r;
	else
		*head = r;
	*tail = r;
}

/* Takes r out of whatever it waits on, without calling anything. */
static void http_detach(struct http *h, struct http_req *r)
{
	switch (r->state) {
	case HTTP_QUEUED:
		http_list_remove(&h->qhead, &h->qtail, r);
		break;
	case HTTP_ACTIVE:
		curl_multi_remove_handle(h->multi, r->easy);
		break;
	case HTTP_WAITING:
		if (r->timer != NULL)
			loop_timer_cancel(h->loop, r->timer);
		r->timer = NULL;
		break;
	case HTTP_DONE:
		http_list_remove(&h->done_head, &h->done_tail, r);
		break;
	case HTTP_CALLING:
		break;
	}
}

static size_t http_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_req *r = userdata;
	size_t n = size * nmemb;
	long status = 0;

	if (r->stop || r->h->dying) /* stopped, cancelled, or the handle freed from on_chunk */
		return 0;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	/* a stream's chunks go to on_chunk; an error answer's body is kept for the callback */
	if (r->on_chunk != NULL && status >= 200 && status < 300) {
		int stop;

		r->streamed = 1;
		r->in_chunk = 1;
		stop = r->on_chunk(r->arg, status, ptr, n);
		r->in_chunk = 0;
		if (stop != 0)
			r->stop = 1;
		return r->stop ? 0 : n;
	}
	if (r->resp_len + n > HTTP_BODY_MAX)
		return 0;
	r->resp = xrealloc(r->resp, r->resp_len + n + 1);
	memcpy(r->resp + r->resp_len, ptr, n);
	r->resp_len += n;
	r->resp[r->resp_len] = '\0';
	return n;
}

static size_t http_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct http_req *r = userdata;
	size_t n = size * nitems;
	static const char ra[] = "retry-after:";

	if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new answer (after 1xx, too) */
		free(r->retry_after);
		r->retry_after = NULL;
	} else if (n > sizeof ra - 1 && strncasecmp(buf, ra, sizeof ra - 1) == 0) {
		const char *v = buf + sizeof ra - 1;
		size_t len = n - (sizeof ra - 1);

		while (len > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			len--;
		}
		while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
			len--;
		free(r->retry_after);
		r->retry_after = len > 0 && len < 128 ? xstrndup(v, len) : NULL;
	}
	return n;
}

/* Seconds the server asked to wait (delta-seconds or an HTTP date), capped; -1 if none. */
static long http_retry_after_s(const char *v)
{
	char *end;
	long s;
	time_t t;

	if (v == NULL)
		return -1;
	errno = 0;
	s = strtol(v, &end, 10);
	if (end != v && *end == '\0' && errno == 0)
		return s < 0 ? 0 : s > HTTP_RETRY_AFTER_MAX_S ? HTTP_RETRY_AFTER_MAX_S : s;
	t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	s = (long)(t - time(NULL));
	return s < 0 ? 0 : s > HTTP_RETRY_AFTER_MAX_S ? HTTP_RETRY_AFTER_MAX_S : s;
}

static int http_transient(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static void http_retry_due(void *arg)
{
	struct http_req *r = arg;
	struct http *h = r->h;

	r->timer = NULL;        /* one-shot timers free themselves */
	r->state = HTTP_QUEUED; /* a retry is a request start: it waits for a token too */
	http_list_append(&h->qhead, &h->qtail, r);
	http_rate_pump(h);
	http_dispatch(h);
}

/* Decides whether a finished attempt is tried again; if so, arms its timer and returns 1. */
static int http_maybe_retry(struct http_req *r, long status)
{
	struct http *h = r->h;
	long ra = -1;
	uint64_t delay, base;

	if (!r->retryable || r->attempts > r->max_retries || r->streamed || r->stop)
		return 0;
	if (status == 0 ? !http_transient(r->result) : !(status == 429 || status >= 500))
		return 0;
	if (status != 0)
		ra = http_retry_after_s(r->retry_after);
	if (ra >= 0) {
		delay = (uint64_t)ra * 1000;
	} else {
		/* exponential backoff with jitter: half the step fixed, half random */
		base = HTTP_BACKOFF_BASE_MS << (r->attempts - 1 < 6 ? r->attempts - 1 : 6);
		if (base > HTTP_BACKOFF_MAX_MS)
			base = HTTP_BACKOFF_MAX_MS;
		h->rng ^= h->rng << 13;
		h->rng ^= h->rng >> 7;
		h->rng ^= h->rng << 17;
		delay = base / 2 + h->rng % (base / 2 + 1);
	}
	free(r->resp);
	r->resp = NULL;
	r->resp_len = 0;
	r->errbuf[0] = '\0';
	r->state = HTTP_WAITING;
	r->timer = loop_timer_add(h->loop, delay, 0, http_retry_due, r);
	return 1;
}

/* Calls the callbacks of finished requests, one by one (a callback may send or cancel). */
static void http_dispatch(struct http *h)
{
	struct http_req *r;

	if (h->dispatching)
		return;
	h->dispatching = 1;
	while (!h->dying && (r = h->done_head) != NULL) {
		struct http_response res;
		char *err = NULL;

		h->done_head = r->qnext;
		if (h->done_head == NULL)
			h->done_tail = NULL;
		r->qnext = NULL;
		memset(&res, 0, sizeof res);
		if (r->result == CURLE_OK || (r->stop && !r->cancelled)) {
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
		} else {
			char *raw = xprintf("%s %s: %s", r->method, r->shown_url,
			                    r->errbuf[0] != '\0' ? r->errbuf
			                                         : curl_easy_strerror(r->result));

			err = http_redact_req(r, raw);
			free(raw);
			res.status = 0;
			res.error = err;
		}
		res.body = r->resp != NULL ? r->resp : "";
		res.body_len = r->resp_len;
		res.retry_after = r->retry_after;
		res.attempts = r->attempts;
		http_unlink(h, r);
		r->state = HTTP_CALLING;
		r->cb(r->arg, &res);
		free(err);
		http_req_free(r);
	}
	h->dispatching = 0;
	if (h->dying)
		http_free(h);
}

/* Moves finished transfers to the DONE list (or back to waiting, for a retry). */
static void http_collect(struct http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct http_req *r = NULL;
		long status = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r == NULL || r->state != HTTP_ACTIVE)
			continue;
		r->result = msg->data.result;
		curl_multi_remove_handle(h->multi, r->easy);
		if (r->cancelled) { /* http_cancel from inside on_chunk */
			http_unlink(h, r);
			http_req_free(r);
			continue;
		}
		if (r->result == CURLE_OK)
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		if (http_maybe_retry(r, status))
			continue;
		r->state = HTTP_DONE;
		http_list_append(&h->done_head, &h->done_tail, r);
	}
}

/* After curl's callbacks: frees what on_chunk cancelled, then reports what finished. */
static void http_after_curl(struct http *h)
{
	h->in_curl = 0;
	if (h->dying) { /* http_free from on_chunk */
		http_free(h);
		return;
	}
	if (h->sweep) {
		struct http_req *r = h->reqs, *next;

		h->sweep = 0;
		for (; r != NULL; r = next) {
			next = r->next;
			if (r->cancelled && r->state == HTTP_ACTIVE) {
				curl_multi_remove_handle(h->multi, r->easy);
				http_unlink(h, r);
				http_req_free(r);
			}
		}
	}
	http_collect(h);
	http_dispatch(h);
}

static void http_on_fd(int fd, short revents, void *arg)
{
	struct http *h = arg;
	int running, ev = 0;

	if (revents & POLLIN)
		ev |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		ev |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		ev |= CURL_CSELECT_ERR;
	h->in_curl = 1;
	curl_multi_socket_action(h->multi, fd, ev, &running);
	http_after_curl(h);
}

static void http_on_timer(void *arg)
{
	struct http *h = arg;
	int running;

	h->timer = NULL; /* one-shot timers free themselves */
	h->in_curl = 1;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_after_curl(h);
}

static int http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	struct http_sock *hs = socketp;
	short events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			loop_fd_remove(h->loop, hs->watch);
			if (hs->prev != NULL)
				hs->prev->next = hs->next;
			else
				h->socks = hs->next;
			if (hs->next != NULL)
				hs->next->prev = hs->prev;
			free(hs);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= POLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= POLLOUT;
	if (hs == NULL) {
		hs = xcalloc(1, sizeof *hs);
		hs->fd = s;
		hs->watch = loop_fd_add(h->loop, s, events, http_on_fd, h);
		hs->next = h->socks;
		if (h->socks != NULL)
			h->socks->prev = hs;
		h->socks = hs;
		curl_multi_assign(h->multi, s, hs);
	} else {
		loop_fd_set_events(hs->watch, events);
	}
	return 0;
}

static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	(void)multi;
	if (h->timer != NULL) {
		loop_timer_cancel(h->loop, h->timer);
		h->timer = NULL;
	}
	if (timeout_ms >= 0)
		h->timer = loop_timer_add(h->loop, (uint64_t)timeout_ms, 0, http_on_timer, h);
	return 0;
}

/* Hands r's easy handle to the multi (one more attempt); a failure finishes r. */
static void http_start(struct http_req *r)
{
	struct http *h = r->h;
	CURLMcode mc;

	r->attempts++;
	r->result = CURLE_OK;
	free(r->retry_after);
	r->retry_after = NULL;
	r->state = HTTP_ACTIVE;
	mc = curl_multi_add_handle(h->multi, r->easy);
	if (mc != CURLM_OK) {
		snprintf(r->errbuf, sizeof r->errbuf, "cannot start the request: %s",
		         curl_multi_strerror(mc));
		r->result = CURLE_FAILED_INIT;
		r->state = HTTP_DONE;
		http_list_append(&h->done_head, &h->done_tail, r);
	}
}

/* ---- rate limiter ---- */

static void http_rate_due(void *arg)
{
	struct http *h = arg;

	h->rate_timer = NULL;
	http_rate_pump(h);
	http_dispatch(h);
}

static void http_rate_pump(struct http *h)
{
	double cap = h->rate > 1.0 ? h->rate : 1.0;
	uint64_t now = loop_now_ms();
	struct http_req *r;

	if (h->rate > 0) {
		h->tokens += (double)(now - h->refill_ms) * h->rate / 1000.0;
		if (h->tokens > cap)
			h->tokens = cap;
	}
	h->refill_ms = now;
	if (h->in_curl) { /* from on_chunk: curl refuses new handles here; start from the loop */
		if (h->rate_timer == NULL && h->qhead != NULL)
			h->rate_timer = loop_timer_add(h->loop, 0, 0, http_rate_due, h);
		return;
	}
	while ((r = h->qhead) != NULL && (h->rate <= 0 || h->tokens >= 1.0)) {
		h->qhead = r->qnext;
		if (h->qhead == NULL)
			h->qtail = NULL;
		r->qnext = NULL;
		if (h->rate > 0)
			h->tokens -= 1.0;
		http_start(r);
	}
	if (h->qhead != NULL && h->rate_timer == NULL) {
		uint64_t wait = (uint64_t)((1.0 - h->tokens) * 1000.0 / h->rate) + 1;

		h->rate_timer = loop_timer_add(h->loop, wait, 0, http_rate_due, h);
	}
}

void http_set_max_connections(struct http *h, long n)
{
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n > 0 ? n : 0L);
}

void http_set_rate(struct http *h, double rate_per_s)
{
	h->rate = rate_per_s > 0 ? rate_per_s : 0;
	h->tokens = h->rate > 1.0 ? h->rate : 1.0;
	h->refill_ms = loop_now_ms();
	if (h->rate_timer != NULL) {
		loop_timer_cancel(h->loop, h->rate_timer);
		h->rate_timer = NULL;
	}
	http_rate_pump(h); /* queued requests go at the new pace */
}

/* ---- the handle ---- */

struct http *http_new(struct loop *l)
{
	struct http *h = xcalloc(1, sizeof *h);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	h->loop = l;
	h->multi = curl_multi_init();
	if (h->multi == NULL)
		xfatal("curl_multi_init failed");
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	h->refill_ms = loop_now_ms();
	h->tokens = 1.0;
	h->rng = (loop_now_ms() << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)h;
	if (h->rng == 0)
		h->rng = 88172645463325252ULL;
	return h;
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->dispatching || h->in_curl) { /* from a callback: finish once it returns */
		h->dying = 1;
		return;
	}
	while (h->reqs != NULL) {
		struct http_req *r = h->reqs;

		http_detach(h, r);
		http_unlink(h, r);
		http_req_free(r);
	}
	if (h->timer != NULL)
		loop_timer_cancel(h->loop, h->timer);
	if (h->rate_timer != NULL)
		loop_timer_cancel(h->loop, h->rate_timer);
	curl_multi_cleanup(h->multi);
	while (h->socks != NULL) { /* sockets curl did not report removed */
		struct http_sock *hs = h->socks;

		h->socks = hs->next;
		loop_fd_remove(h->loop, hs->watch);
		free(hs);
	}
	http_secrets_free(h->secrets, h->nsecrets);
	free(h->ca_file);
	http_pem_drop(&h->ca_pem, &h->ca_pem_len);
	http_pem_drop(&h->cert_pem, &h->cert_pem_len);
	http_pem_drop(&h->key_pem, &h->key_pem_len);
	free(h);
}

static void http_pem_drop(char **p, size_t *len)
{
	if (*p != NULL) {
		volatile char *v = *p;

		for (size_t i = 0; i < *len; i++)
			v[i] = 0;
		free(*p);
	}
	*p = NULL;
	*len = 0;
}

static int http_pem_keep(char **p, size_t *plen, const char *pem, size_t len, const char *what,
                         char **cause)
{
	if (pem == NULL || len == 0)
		return xcause(cause, "empty %s", what);
	if (memmem(pem, len, "-----BEGIN ", 11) == NULL)
		return xcause(cause, "%s is not PEM (no -----BEGIN line)", what);
	http_pem_drop(p, plen);
	*p = xmalloc(len + 1);
	memcpy(*p, pem, len);
	(*p)[len] = '\0';
	*plen = len;
	return 0;
}

int http_set_ca_pem(struct http *h, const char *pem, size_t len, char **cause)
{
	return http_pem_keep(&h->ca_pem, &h->ca_pem_len, pem, len, "CA certificate", cause);
}

int http_set_client_pem(struct http *h, const char *cert, size_t cert_len, const char *key,
                        size_t key_len, char **cause)
{
	if (http_pem_keep(&h->cert_pem, &h->cert_pem_len, cert, cert_len, "client certificate",
	                  cause) != 0)
		return -1;
	if (http_pem_keep(&h->key_pem, &h->key_pem_len, key, key_len, "client key", cause) != 0) {
		http_pem_drop(&h->cert_pem, &h->cert_pem_len);
		return -1;
	}
	return 0;
}

void http_easy_tls(const struct http *h, void *curl_easy)
{
	CURL *easy = curl_easy;

	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_pem != NULL) {
		struct curl_blob b = {
		    .data = h->ca_pem, .len = h->ca_pem_len, .flags = CURL_BLOB_COPY};

		curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &b);
	} else if (h->ca_file != NULL) {
		curl_easy_setopt(easy, CURLOPT_CAINFO, h->ca_file);
	}
	if (h->cert_pem != NULL && h->key_pem != NULL) {
		struct curl_blob c = {
		    .data = h->cert_pem, .len = h->cert_pem_len, .flags = CURL_BLOB_COPY};
		struct curl_blob k = {
		    .data = h->key_pem, .len = h->key_pem_len, .flags = CURL_BLOB_COPY};

		curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &c);
		curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
		curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &k);
	}
}

int http_set_ca_file(struct http *h, const char *path, char **cause)
{
	struct stat st;
	int fd;

	if (path == NULL || *path == '\0')
		return xcause(cause, "empty CA file path");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return xcause(cause, "cannot open CA file %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return xcause(cause, "CA file %s is not a regular file", path);
	}
	close(fd);
	free(h->ca_file);
	h->ca_file = xstrdup(path);
	return 0;
}

/* Header names whose values are secret: Authorization always, plus the caller's. */
static int http_header_secret(const char *line, size_t namelen, const char *const *extra)
{
	if (namelen == 13 && strncasecmp(line, "Authorization", 13) == 0)
		return 1;
	if (namelen == 19 && strncasecmp(line, "Proxy-Authorization", 19) == 0)
		return 1;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		if (strlen(extra[i]) == namelen && strncasecmp(line, extra[i], namelen) == 0)
			return 1;
	return 0;
}

static int http_method_ok(const char *m)
{
	if (*m == '\0' || strlen(m) > 16)
		return 0;
	for (; *m != '\0'; m++)
		if (*m < 'A' || *m > 'Z')
			return 0;
	return 1;
}

struct http_req *http_send(struct http *h, const struct http_request *rq, http_cb cb, void *arg,
                           char **cause)
{
	const char *method = rq->method != NULL ? rq->method : "GET";
	struct http_req *r;
	char *shown = NULL, *norm = NULL;
	long timeout, connect;
	int idem;

	if (!http_method_ok(method)) {
		xcause(cause, "bad HTTP method");
		return NULL;
	}
	if (http_check_url(h, rq->url, &norm, &shown, cause) != 0)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->h = h;
	r->shown_url = shown;
	r->method = xstrdup(method);
	r->cb = cb;
	r->arg = arg;
	r->on_chunk = rq->on_chunk;
	/* secret header values first: an error about any header must not show them */
	for (size_t i = 0; rq->headers != NULL && rq->headers[i] != NULL; i++) {
		const char *line = rq->headers[i], *colon = strchr(line, ':'), *v, *sp;

		if (colon == NULL ||
		    !http_header_secret(line, (size_t)(colon - line), rq->secret_headers))
			continue;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		http_secret_push(&r->secrets, &r->nsecrets, v);
		/* "Bearer TOKEN": the token alone is secret too */
		if ((sp = strrchr(v, ' ')) != NULL)
			http_secret_push(&r->secrets, &r->nsecrets, sp + 1);
	}
	for (size_t i = 0; rq->headers != NULL && rq->headers[i] != NULL; i++) {
		const char *line = rq->headers[i], *colon = strchr(line, ':');

		if (colon == NULL || colon == line || strpbrk(line, "\r\n") != NULL) {
			char *s = http_redact_req(r, shown);

			xcause(cause, "%s %s: request header %zu is not one 'Name: value' line",
			       method, s, i + 1);
			free(s);
			free(norm);
			http_req_free(r);
			return NULL;
		}
		r->hdrs = curl_slist_append(r->hdrs, line);
	}
	r->hdrs = curl_slist_append(r->hdrs, "Expect:");
	idem = rq->idempotent || strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	       strcmp(method, "PUT") == 0 || strcmp(method, "DELETE") == 0 ||
	       strcmp(method, "OPTIONS") == 0;
	r->retryable = idem && rq->max_retries >= 0;
	r->max_retries = rq->max_retries > 0 ? rq->max_retries : HTTP_DEFAULT_RETRIES;
	timeout = rq->timeout_ms > 0     ? rq->timeout_ms
	          : rq->on_chunk != NULL ? 0
	                                 : HTTP_DEFAULT_TIMEOUT_MS;
	connect = rq->connect_timeout_ms > 0 ? rq->connect_timeout_ms : HTTP_DEFAULT_CONNECT_MS;

	r->easy = curl_easy_init();
	if (r->easy == NULL) {
		free(norm);
		http_req_free(r);
		xcause(cause, "curl_easy_init failed");
		return NULL;
	}
	curl_easy_setopt(r->easy, CURLOPT_URL, norm);
	free(norm);
	norm = NULL;
	/* loopback never goes through a proxy from the environment */
	curl_easy_setopt(r->easy, CURLOPT_NOPROXY, "localhost,127.0.0.0/8,::1");
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	if (rq->body != NULL) {
		size_t len = rq->body_len > 0 ? rq->body_len : strlen(rq->body);

		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		curl_easy_setopt(r->easy, CURLOPT_COPYPOSTFIELDS, rq->body);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(r->easy, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(r->easy, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(r->easy, CURLOPT_COPYPOSTFIELDS, "");
	} else {
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	}
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, http_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, connect);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_FOLLOWLOCATION, 0L); /* never carry credentials away */
	http_easy_tls(h, r->easy);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "gantry/" PACKAGE_VERSION);

	http_link(h, r);
	r->state = HTTP_QUEUED;
	http_list_append(&h->qhead, &h->qtail, r);
	http_rate_pump(h);
	/* a start that failed at once is reported from the loop, never from here */
	if (h->done_head != NULL && h->rate_timer == NULL)
		h->rate_timer = loop_timer_add(h->loop, 0, 0, http_rate_due, h);
	return r;
}

void http_cancel(struct http *h, struct http_req *r)
{
	if (r == NULL || r->state == HTTP_CALLING)
		return;
	if (r->in_chunk || (h->in_curl && r->state == HTTP_ACTIVE)) {
		/* from an on_chunk: curl still holds it; freed once curl returns */
		r->stop = 1;
		r->cancelled = 1;
		h->sweep = 1;
		return;
	}
	http_detach(h, r);
	http_unlink(h, r);
	http_req_free(r);
}

int http_get(struct http *h, const char *url, long timeout_ms, http_cb cb, void *arg, char **cause)
{
	struct http_request rq;

	memset(&rq, 0, sizeof rq);
	rq.method = "GET";
	rq.url = url;
	rq.timeout_ms = timeout_ms;
	rq.connect_timeout_ms = timeout_ms;
	rq.max_retries = -1;
	return http_send(h, &rq, cb, arg, cause) != NULL ? 0 : -1;
}

int http_pending(const struct http *h)
{
	return h->pending;
}
