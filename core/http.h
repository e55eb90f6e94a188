/* http.h: asynchronous HTTP through libcurl's multi interface, driven by the event loop.
 * TLS verification stays on. Used by the engine and by providers that speak REST. */
#ifndef GANTRY_HTTP_H
#define GANTRY_HTTP_H

#include <stddef.h>

struct loop;
struct http;

struct http_response {
	long status;      /* HTTP status, 0 when no response arrived */
	const char *body; /* NUL-terminated, owned by the library, valid during the callback */
	size_t body_len;
	const char *error; /* one-line reason when status == 0, else NULL */
};

typedef void (*http_cb)(void *arg, const struct http_response *res);

struct http *http_new(struct loop *l);
void http_free(struct http *h); /* cancels pending requests without calling their callbacks */
/* Starts a GET; cb is called exactly once from the loop. Returns -1 with *cause on error. */
int http_get(struct http *h, const char *url, long timeout_ms, http_cb cb, void *arg, char **cause);
/* Number of requests in flight. */
int http_pending(const struct http *h);

#endif
