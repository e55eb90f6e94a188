/* http.c: libcurl multi interface driven by the event loop (socket and timer callbacks). */
#include "core/http.h"

#include <curl/curl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"

struct http_req {
	CURL *easy;
	http_cb cb;
	void *arg;
	char *body;
	size_t len;
	char errbuf[CURL_ERROR_SIZE];
	struct http_req *next;
};

struct http_sock {
	struct loop_fd *watch;
};

struct http {
	struct loop *loop;
	CURLM *multi;
	struct loop_timer *timer;
	struct http_req *reqs;
	int pending;
};

static size_t http_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_req *r = userdata;
	size_t n = size * nmemb;

	if (r->len + n > 16u * 1024 * 1024) /* refuse absurd bodies */
		return 0;
	r->body = xrealloc(r->body, r->len + n + 1);
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Hands finished transfers to their callbacks. */
static void http_check_done(struct http *h)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct http_req **pp, *r = NULL;
		struct http_response res;

		if (msg->msg != CURLMSG_DONE)
			continue;
		for (pp = &h->reqs; *pp != NULL; pp = &(*pp)->next) {
			if ((*pp)->easy == msg->easy_handle) {
				r = *pp;
				*pp = r->next;
				break;
			}
		}
		if (r == NULL)
			continue;
		memset(&res, 0, sizeof res);
		if (msg->data.result == CURLE_OK) {
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.status);
		} else {
			res.status = 0;
			res.error =
			    r->errbuf[0] != '\0' ? r->errbuf : curl_easy_strerror(msg->data.result);
		}
		res.body = r->body != NULL ? r->body : "";
		res.body_len = r->len;
		curl_multi_remove_handle(h->multi, r->easy);
		h->pending--;
		r->cb(r->arg, &res);
		curl_easy_cleanup(r->easy);
		free(r->body);
		free(r);
	}
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
	curl_multi_socket_action(h->multi, fd, ev, &running);
	http_check_done(h);
}

static void http_on_timer(void *arg)
{
	struct http *h = arg;
	int running;

	h->timer = NULL; /* one-shot timers free themselves */
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(h);
}

static int http_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct http *h = userp;
	struct http_sock *hs = socketp;
	short events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (hs != NULL) {
			loop_fd_remove(h->loop, hs->watch);
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
		hs->watch = loop_fd_add(h->loop, s, events, http_on_fd, h);
		curl_multi_assign(h->multi, s, hs);
	} else {
		loop_fd_set_events(hs->watch, events);
	}
	return 0;
}

static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http *h = userp;

	if (h->timer != NULL) {
		loop_timer_cancel(h->loop, h->timer);
		h->timer = NULL;
	}
	if (timeout_ms >= 0)
		h->timer = loop_timer_add(h->loop, (uint64_t)timeout_ms, 0, http_on_timer, h);
	return 0;
}

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
	return h;
}

void http_free(struct http *h)
{
	if (h == NULL)
		return;
	while (h->reqs != NULL) {
		struct http_req *r = h->reqs;

		h->reqs = r->next;
		curl_multi_remove_handle(h->multi, r->easy);
		curl_easy_cleanup(r->easy);
		free(r->body);
		free(r);
	}
	if (h->timer != NULL)
		loop_timer_cancel(h->loop, h->timer);
	curl_multi_cleanup(h->multi);
	free(h);
}

int http_get(struct http *h, const char *url, long timeout_ms, http_cb cb, void *arg, char **cause)
{
	struct http_req *r;
	CURLMcode mc;

	r = xcalloc(1, sizeof *r);
	r->easy = curl_easy_init();
	if (r->easy == NULL) {
		free(r);
		return xcause(cause, "curl_easy_init failed");
	}
	r->cb = cb;
	r->arg = arg;
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "gantry/" PACKAGE_VERSION);
	mc = curl_multi_add_handle(h->multi, r->easy);
	if (mc != CURLM_OK) {
		curl_easy_cleanup(r->easy);
		free(r);
		return xcause(cause, "cannot start request to %s: %s", url,
		              curl_multi_strerror(mc));
	}
	r->next = h->reqs;
	h->reqs = r;
	h->pending++;
	return 0;
}

int http_pending(const struct http *h)
{
	return h->pending;
}
