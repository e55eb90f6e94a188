/* http.h: asynchronous HTTP through libcurl's multi interface, driven by the event loop.
 * Used by the engine and by providers that speak REST (lambda, slurm, kubernetes).
 *
 * - Methods, request headers, request bodies, per-request timeouts, streaming bodies (a
 *   watch: chunks delivered as they arrive).
 * - TLS verification is always on; a CA file may be added (http_set_ca_file). `http://` is
 *   accepted only to a loopback address (127.0.0.0/8, ::1, "localhost"): tests' fakes.
 * - Retries: idempotent requests (GET, HEAD, PUT, DELETE, or any with .idempotent set) are
 *   retried on connection errors, 429 and 5xx with backoff (0.25-0.5 s, doubling, jittered),
 *   honouring Retry-After (seconds or an HTTP date, capped at 60 s); a POST is never
 *   retried unless the caller marks it idempotent. A stream is not retried once a chunk
 *   was delivered. Waits are loop timers.
 * - A rate limiter per handle (one handle per provider): at most `rate_per_s` request starts
 *   per second (a token bucket of max(1, rate) tokens; retries take tokens too), queued on
 *   a loop timer without blocking the loop.
 * - No redirects are followed; a proxy from the environment is never used for loopback.
 * - Secrets: header values named in .secret_headers (Authorization always) and strings
 *   registered with http_add_secret never appear in an error, a log line or a callback's
 *   error text; they are replaced by "[redacted]". Error texts name METHOD
 *   scheme://host:port/path, never the query or user info.
 * - Callbacks may call http_send, http_cancel and http_free on their own handle. */
#ifndef GANTRY_HTTP_H
#define GANTRY_HTTP_H

#include <stddef.h>

struct loop;
struct http;
struct http_req;

struct http_response {
	long status;      /* HTTP status, 0 when no response arrived */
	const char *body; /* NUL-terminated, owned by the library, valid during the callback */
	size_t body_len;
	const char *error;       /* one-line reason when status == 0, else NULL (redacted) */
	const char *retry_after; /* the last answer's Retry-After header, or NULL */
	int attempts;            /* how many times it was sent */
};

typedef void (*http_cb)(void *arg, const struct http_response *res);
/* Streaming: a chunk of the body as it arrives (status known); return nonzero to cancel. */
typedef int (*http_chunk_cb)(void *arg, long status, const char *data, size_t len);

struct http_request {
	const char *method; /* "GET" when NULL */
	const char *url;
	const char *const *headers; /* "Name: value" strings, NULL-terminated, or NULL */
	const char *body;           /* or NULL */
	size_t body_len;            /* strlen(body) when 0 and body != NULL */
	long timeout_ms;            /* whole request; 0 = 30 s; streaming: 0 = no limit */
	long connect_timeout_ms;    /* 0 = 10 s */
	int idempotent;             /* retry a POST/PATCH too (the API guarantees it is safe) */
	int max_retries;            /* -1 = none; 0 = default (3 for idempotent requests) */
	http_chunk_cb on_chunk;     /* streaming body: chunks of a 2xx answer go here, and
	                               res->body is empty; another answer's body goes to
	                               res->body. If on_chunk returns nonzero the transfer
	                               stops and cb gets the status, error NULL. */
	const char *const *secret_headers; /* header names whose values are secret, besides
	                                      Authorization (NULL-terminated, or NULL) */
};

struct http *http_new(struct loop *l);
/* Cancels pending requests without calling their callbacks. */
void http_free(struct http *h);
/* Requests per second this handle may start (0 = unlimited, the default). */
void http_set_rate(struct http *h, double rate_per_s);
/* At most n connections to one host at a time (0 = unlimited, the default); requests beyond
 * wait in the handle's queue, their timeouts running. For servers that drop connections
 * over a small limit (slurmrestd). */
void http_set_max_connections(struct http *h, long n);
/* Adds a CA bundle (PEM file) trusted on top of the system's. */
int http_set_ca_file(struct http *h, const char *path, char **cause);
/* TLS material from memory (a kubeconfig's certificate-authority-data and
 * client-certificate-data/client-key-data): a PEM CA bundle trusted for this handle instead
 * of the CA file and the system's bundle, and a PEM client certificate with its private key
 * (mutual TLS). Copied; the key lives in memory only and is wiped when replaced or freed.
 * 0, or -1 with *cause (empty or not PEM). */
int http_set_ca_pem(struct http *h, const char *pem, size_t len, char **cause);
int http_set_client_pem(struct http *h, const char *cert, size_t cert_len, const char *key,
                        size_t key_len, char **cause);
/* Applies this handle's TLS settings (verification on, CA file or PEM, client certificate)
 * to a libcurl easy handle the caller owns (a CURL *, e.g. a CONNECT_ONLY connection that
 * carries a WebSocket), so every connection of a provider trusts and presents the same. */
void http_easy_tls(const struct http *h, void *curl_easy);
/* A secret value that must never appear in an error or log (API keys, tokens). Copied. */
void http_add_secret(struct http *h, const char *secret);
/* Replaces every registered secret in s by "[redacted]" (heap copy). */
char *http_redact(const struct http *h, const char *s);

/* Checks a URL as http_send will (https, or http:// only to a loopback host), for config
 * parsers that want to refuse a bad URL at load time: 0, or -1 with a one-line *cause. */
int http_url_check(const char *url, char **cause);

/* Starts a request; cb is called exactly once from the loop (never before this returns).
 * Returns the request (for http_cancel) or NULL with *cause (bad URL, http:// to a
 * non-loopback host). */
struct http_req *http_send(struct http *h, const struct http_request *rq, http_cb cb, void *arg,
                           char **cause);
/* Cancels a request in flight without calling its callback (a no-op on the request whose
 * callback is running; from its own on_chunk, the transfer stops after that chunk). */
void http_cancel(struct http *h, struct http_req *r);
/* GET, for the existing callers (no retries: they keep their own pace). Returns 0 or -1
 * with *cause. */
int http_get(struct http *h, const char *url, long timeout_ms, http_cb cb, void *arg, char **cause);
/* Number of requests in flight or queued, streams (requests with on_chunk: a watch, a
 * followed log, which never end on their own) not counted: what closing or settling waits
 * for. */
int http_pending(const struct http *h);

#endif
