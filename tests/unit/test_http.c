/* test_http.c: the HTTP client (core/http.c) against tests/fakes/http_echo.py, a loopback
 * server that records what it receives and answers with faults on demand. Times are the
 * server's own arrival times; only lower bounds are asserted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/http.h"
#include "core/loop.h"

static pid_t srv_pid = -1;
static pid_t tls_pid = -1; /* test_tls's own fake, stopped by the teardown if it failed */
static int srv_port;

/* Starts the fake (with extra arguments, or NULL) and waits for its port line (with a
 * deadline, not a fixed sleep). Returns the port, or -1. */
static int fake_start(const char *tls_cert, const char *tls_key, pid_t *pid)
{
	const char *src = getenv("GANTRY_SRCDIR");
	char script[4096], line[32];
	int pfd[2];
	size_t n = 0;
	uint64_t deadline = loop_now_ms() + 20000;

	snprintf(script, sizeof script, "%s/tests/fakes/http_echo.py", src != NULL ? src : ".");
	if (pipe(pfd) != 0)
		return -1;
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		if (tls_cert != NULL)
			execlp("python3", "python3", script, "--tls", tls_cert, tls_key,
			       (char *)NULL);
		else
			execlp("python3", "python3", script, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (n < sizeof line - 1 && loop_now_ms() < deadline) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		ssize_t got;

		if (poll(&p, 1, 200) <= 0)
			continue;
		got = read(pfd[0], line + n, 1);
		if (got <= 0)
			break;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	close(pfd[0]);
	if (atoi(line) <= 0) {
		fprintf(stderr, "http_echo.py did not start (%s)\n", script);
		return -1;
	}
	return atoi(line);
}

static int srv_start(void **state)
{
	(void)state;
	srv_port = fake_start(NULL, NULL, &srv_pid);
	return srv_port > 0 ? 0 : -1;
}

static int srv_stop(void **state)
{
	(void)state;
	if (tls_pid > 0) {
		kill(tls_pid, SIGTERM);
		waitpid(tls_pid, NULL, 0);
	}
	if (srv_pid > 0) {
		kill(srv_pid, SIGTERM);
		waitpid(srv_pid, NULL, 0);
	}
	return 0;
}

static char *url_of(const char *path)
{
	static char buf[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "http://127.0.0.1:%d%s", srv_port, path);
	return buf[i];
}

struct got {
	int done;
	long status;
	int attempts;
	char *body;
	char error[512];
	char retry_after[64];
};

static void got_cb(void *arg, const struct http_response *res)
{
	struct got *g = arg;

	g->done++;
	g->status = res->status;
	g->attempts = res->attempts;
	free(g->body);
	g->body = strdup(res->body);
	snprintf(g->error, sizeof g->error, "%s", res->error != NULL ? res->error : "");
	snprintf(g->retry_after, sizeof g->retry_after, "%s",
	         res->retry_after != NULL ? res->retry_after : "");
}

static void never_cb(void *arg, const struct http_response *res)
{
	(void)arg;
	(void)res;
	fail_msg("a cancelled request's callback ran");
}

/* Runs the loop until *flag reaches want (a hang guard, not a timing assertion). */
static void run_until(struct loop *l, const int *flag, int want)
{
	uint64_t deadline = loop_now_ms() + 30000;

	while (*flag < want && loop_now_ms() < deadline)
		loop_run_once(l, 50);
	assert_int_equal(*flag, want);
}

/* Parses the echo's JSON body; returns a field as a string or number. */
static json_t *echo(const struct got *g)
{
	json_t *j = json_loads(g->body != NULL ? g->body : "", 0, NULL);

	assert_non_null(j);
	return j;
}

static void test_methods_bodies_headers(void **state)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g[5] = {{0}};
	int done = 0;
	char bodies[5][128], hdr[5][64], path[5][64];

	(void)state;
	for (int i = 0; i < 5; i++) {
		const char *hv[] = {hdr[i], "Content-Type: application/json", NULL};
		struct http_request rq = {0};
		char *cause = NULL;

		snprintf(bodies[i], sizeof bodies[i],
		         "{\"m\":\"%s\",\"text\":\"line1\\nline2 \xc3\xa9\"}", methods[i]);
		snprintf(hdr[i], sizeof hdr[i], "X-Test: value-%s", methods[i]);
		snprintf(path[i], sizeof path[i], "/echo/m%d", i);
		rq.method = methods[i];
		rq.url = url_of(path[i]);
		rq.headers = hv;
		rq.body = bodies[i];
		assert_non_null(http_send(h, &rq, got_cb, &g[i], &cause));
		assert_null(cause);
		assert_int_equal(g[i].done, 0); /* never before http_send returns */
	}
	assert_int_equal(http_pending(h), 5);
	for (uint64_t dl = loop_now_ms() + 30000; loop_now_ms() < dl;) {
		done = 0;
		for (int i = 0; i < 5; i++)
			done += g[i].done;
		if (done == 5)
			break;
		loop_run_once(l, 50);
	}
	for (int i = 0; i < 5; i++) {
		json_t *j;

		assert_int_equal(g[i].done, 1);
		assert_int_equal(g[i].status, 200);
		assert_int_equal(g[i].attempts, 1);
		j = echo(&g[i]);
		assert_string_equal(json_string_value(json_object_get(j, "method")), methods[i]);
		assert_string_equal(json_string_value(json_object_get(j, "path")), path[i]);
		assert_string_equal(json_string_value(json_object_get(j, "body")), bodies[i]);
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(j, "headers"), "x-test")),
		    hdr[i] + strlen("X-Test: "));
		assert_string_equal(json_string_value(json_object_get(json_object_get(j, "headers"),
		                                                      "content-type")),
		                    "application/json");
		json_decref(j);
		free(g[i].body);
	}
	assert_int_equal(http_pending(h), 0);
	http_free(h);
	loop_free(l);
}

static void test_head_and_get_compat(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g = {0}, g2 = {0};
	struct http_request rq = {.method = "HEAD", .url = url_of("/echo/head")};
	char *cause = NULL;

	(void)state;
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.body, "");
	/* http_get, the engine's call */
	assert_int_equal(http_get(h, url_of("/echo/getcompat"), 5000, got_cb, &g2, &cause), 0);
	run_until(l, &g2.done, 1);
	assert_int_equal(g2.status, 200);
	assert_non_null(strstr(g2.body, "\"method\": \"GET\""));
	free(g.body);
	free(g2.body);
	http_free(h);
	loop_free(l);
}

static void test_timeout(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g = {0};
	struct http_request rq = {
	    .url = url_of("/slow/4000/t1"), .timeout_ms = 300, .max_retries = -1};
	char *cause = NULL;

	(void)state;
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.attempts, 1);
	assert_non_null(strstr(g.error, "timed out"));
	free(g.body);
	http_free(h);
	loop_free(l);
}

static void test_retry_503(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g = {0};
	struct http_request rq = {.url = url_of("/fail503/2/r1")};
	char *cause = NULL;
	json_t *j;

	(void)state;
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.attempts, 3);
	j = echo(&g);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 3);
	/* backoff: the second retry waited at least half of 1 s after the first */
	assert_true(json_number_value(json_object_get(j, "since_prev_ms")) >= 500);
	json_decref(j);
	free(g.body);

	/* retries run out: the last answer is reported */
	memset(&g, 0, sizeof g);
	rq.url = url_of("/fail503/9/r2");
	rq.max_retries = 1;
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 503);
	assert_int_equal(g.attempts, 2);
	assert_string_equal(g.body, "busy");
	free(g.body);
	http_free(h);
	loop_free(l);
}

static void test_retry_429(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g = {0};
	struct http_request rq = {.url = url_of("/r429/2/a1")};
	char *cause = NULL;
	json_t *j;

	(void)state;
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.attempts, 2);
	j = echo(&g);
	/* the server saw the retry no earlier than Retry-After: 2 asked */
	assert_true(json_number_value(json_object_get(j, "since_prev_ms")) >= 2000 - 1);
	json_decref(j);
	free(g.body);

	/* Retry-After as an HTTP date, 2 s ahead (whole seconds: at least 1 s) */
	memset(&g, 0, sizeof g);
	rq.url = url_of("/r429date/2/a2");
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.attempts, 2);
	j = echo(&g);
	assert_true(json_number_value(json_object_get(j, "since_prev_ms")) >= 1000);
	json_decref(j);
	free(g.body);
	http_free(h);
	loop_free(l);
}

static void test_post_not_retried(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g = {0};
	struct http_request rq = {.method = "POST", .url = url_of("/fail503/1/p1"), .body = "x=1"};
	char *cause = NULL;
	json_t *j;

	(void)state;
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 503);
	assert_int_equal(g.attempts, 1);
	/* the server saw exactly one request before this GET */
	free(g.body);
	memset(&g, 0, sizeof g);
	assert_int_equal(http_get(h, url_of("/fail503/1/p1"), 5000, got_cb, &g, &cause), 0);
	run_until(l, &g.done, 1);
	j = echo(&g);
	assert_int_equal(json_integer_value(json_object_get(j, "n")), 2);
	json_decref(j);
	free(g.body);

	/* the caller may mark a POST idempotent */
	memset(&g, 0, sizeof g);
	rq.url = url_of("/fail503/1/p2");
	rq.idempotent = 1;
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 200);
	assert_int_equal(g.attempts, 2);
	j = echo(&g);
	assert_string_equal(json_string_value(json_object_get(j, "body")), "x=1");
	json_decref(j);
	free(g.body);
	http_free(h);
	loop_free(l);
}

static void test_truncated(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g = {0};
	struct http_request rq = {.url = url_of("/trunc/t1"), .max_retries = 1};
	char *cause = NULL;

	(void)state;
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 0);
	assert_int_equal(g.attempts, 2); /* a cut answer is a connection error: retried */
	assert_true(strlen(g.error) > 0);
	assert_non_null(strstr(g.error, "GET http://127.0.0.1:"));
	free(g.body);
	http_free(h);
	loop_free(l);
}

struct stream {
	struct http *h;
	char data[256];
	int chunks;
	int released;
	struct got rel;
	int done;
	long status;
	size_t body_len;
};

static int stream_chunk(void *arg, long status, const char *data, size_t len)
{
	struct stream *s = arg;
	size_t have = strlen(s->data);
	char *cause = NULL;

	assert_int_equal(status, 200);
	if (have + len < sizeof s->data) {
		memcpy(s->data + have, data, len);
		s->data[have + len] = '\0';
	}
	s->chunks++;
	/* the first chunk arrived while the server holds the rest back: let it go on (and
	 * send a request of the same handle from inside on_chunk) */
	if (!s->released && strstr(s->data, "first;") != NULL) {
		s->released = 1;
		assert_int_equal(
		    http_get(s->h, url_of("/release/s1"), 5000, got_cb, &s->rel, &cause), 0);
	}
	return 0;
}

static void stream_done(void *arg, const struct http_response *res)
{
	struct stream *s = arg;

	s->done++;
	s->status = res->status;
	s->body_len = res->body_len;
}

static void test_stream(void **state)
{
	struct loop *l = loop_new();
	struct stream s = {0};
	struct http_request rq = {.url = url_of("/stream/s1"), .on_chunk = stream_chunk};
	char *cause = NULL;

	(void)state;
	s.h = http_new(l);
	assert_non_null(http_send(s.h, &rq, stream_done, &s, &cause));
	/* a stream is not pending work: closing and settling never wait for a watch */
	assert_int_equal(http_pending(s.h), 0);
	run_until(l, &s.done, 1);
	/* without delivery as it arrives, the server would have sent TIMEOUT after 20 s */
	assert_int_equal(s.status, 200);
	assert_string_equal(s.data, "first;second;last;");
	assert_true(s.chunks >= 2);
	assert_int_equal(s.body_len, 0);
	run_until(l, &s.rel.done, 1);
	assert_int_equal(s.rel.status, 200);
	free(s.rel.body);
	http_free(s.h);
	loop_free(l);
}

struct stopper {
	int chunks, done, cancel_self;
	long status;
	char error[256];
	struct http *h;
	struct http_req *r;
};

static int stop_chunk(void *arg, long status, const char *data, size_t len)
{
	struct stopper *s = arg;

	(void)status;
	(void)data;
	(void)len;
	s->chunks++;
	if (s->cancel_self) {
		http_cancel(s->h, s->r); /* from inside its own on_chunk: no callback */
		return 0;
	}
	return 1; /* stop after the first chunk */
}

static void stop_done(void *arg, const struct http_response *res)
{
	struct stopper *s = arg;

	s->done++;
	s->status = res->status;
	snprintf(s->error, sizeof s->error, "%s", res->error != NULL ? res->error : "");
}

/* on_chunk stops a watch: cb gets the status and no error; a watch cancelled from its own
 * on_chunk gets no callback at all */
static void test_stream_stop(void **state)
{
	struct loop *l = loop_new();
	struct stopper a = {0}, b = {0};
	struct http_request rq = {.url = url_of("/stream/stop1"), .on_chunk = stop_chunk};
	uint64_t until;
	char *cause = NULL;

	(void)state;
	a.h = http_new(l);
	assert_non_null(http_send(a.h, &rq, stop_done, &a, &cause));
	run_until(l, &a.done, 1);
	assert_int_equal(a.chunks, 1);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.error, "");
	assert_int_equal(http_pending(a.h), 0);

	b.h = a.h;
	b.cancel_self = 1;
	rq.url = url_of("/stream/stop2");
	rq.on_chunk = stop_chunk;
	b.r = http_send(b.h, &rq, stop_done, &b, &cause);
	assert_non_null(b.r);
	run_until(l, &b.chunks, 1);
	until = loop_now_ms() + 300;
	while (loop_now_ms() < until)
		loop_run_once(l, 50);
	assert_int_equal(b.done, 0);
	assert_int_equal(b.chunks, 1);
	assert_int_equal(http_pending(b.h), 0);
	http_free(a.h);
	loop_free(l);
}

static void test_rate_limit(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g[5] = {{0}};
	double t[5], lo = 1e18, hi = 0;
	int done = 0;

	(void)state;
	http_set_rate(h, 2.0);
	for (int i = 0; i < 5; i++) {
		char p[32], *cause = NULL;

		snprintf(p, sizeof p, "/echo/rate%d", i);
		assert_int_equal(http_get(h, url_of(p), 10000, got_cb, &g[i], &cause), 0);
	}
	for (uint64_t dl = loop_now_ms() + 30000; done < 5 && loop_now_ms() < dl;) {
		loop_run_once(l, 50);
		done = 0;
		for (int i = 0; i < 5; i++)
			done += g[i].done;
	}
	assert_int_equal(done, 5);
	for (int i = 0; i < 5; i++) {
		json_t *j;

		assert_int_equal(g[i].status, 200);
		j = echo(&g[i]);
		t[i] = json_number_value(json_object_get(j, "t_ms"));
		json_decref(j);
		free(g[i].body);
		lo = t[i] < lo ? t[i] : lo;
		hi = t[i] > hi ? t[i] : hi;
	}
	/* 2 per second with a bucket of 2: starts at 0, 0, 0.5, 1, 1.5 s (a lower bound, with a
	 * little room for a first arrival that the server records late) */
	if (hi - lo < 1300)
		fail_msg("5 requests at 2/s reached the server within %.0f ms", hi - lo);
	http_free(h);
	loop_free(l);
}

static void test_refused_urls(void **state)
{
	static const char *const bad[] = {
	    "http://192.0.2.1/",
	    "http://192.0.2.1:80/x?token=1",
	    "http://127.0.0.1.evil.test/",
	    "http://localhost.evil.test/",
	    "http://[::2]/",
	    "ftp://127.0.0.1/",
	    "file:///etc/passwd",
	    "not a url",
	};
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g = {0};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct http_request rq = {.url = bad[i]};
		char *cause = NULL;

		assert_null(http_send(h, &rq, got_cb, &g, &cause));
		assert_non_null(cause);
		if (strncmp(bad[i], "http://", 7) == 0)
			assert_non_null(strstr(cause, "loopback"));
		free(cause);
		assert_int_equal(http_pending(h), 0); /* nothing queued, nothing sent */
	}
	/* loopback forms are accepted (cancelled before any traffic) */
	{
		static const char *const ok[] = {"http://127.0.0.1:9/", "http://127.8.9.10:9/",
		                                 "http://[::1]:9/", "http://LocalHost:9/",
		                                 "https://192.0.2.1/"};

		for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
			struct http_request rq = {.url = ok[i]};
			char *cause = NULL;
			struct http_req *r = http_send(h, &rq, never_cb, NULL, &cause);

			assert_non_null(r);
			http_cancel(h, r);
		}
	}
	assert_int_equal(http_pending(h), 0);
	loop_run_once(l, 20);
	assert_int_equal(g.done, 0);
	http_free(h);
	loop_free(l);
}

/* A port nothing listens on (free a moment ago). */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_redaction(void **state)
{
	static const char auth[] = "CANARY-AUTH-5521";
	static const char key[] = "CANARY-KEY-9087";
	static const char added[] = "CANARY-ADDED-7731";
	static const char *const secret_names[] = {"X-Api-Key", NULL};
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g = {0};
	char url[256], *cause = NULL, *red;
	const char *hv[] = {"Authorization: Bearer CANARY-AUTH-5521", "X-Api-Key: CANARY-KEY-9087",
	                    NULL};
	struct http_request rq = {
	    .url = url, .headers = hv, .secret_headers = secret_names, .max_retries = -1};

	(void)state;
	http_add_secret(h, added);
	/* the error text names the URL: every secret in it must be masked */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/%s/%s/%s", closed_port(), auth, key, added);
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 0);
	assert_non_null(strstr(g.error, "[redacted]"));
	assert_null(strstr(g.error, auth));
	assert_null(strstr(g.error, key));
	assert_null(strstr(g.error, added));
	free(g.body);

	/* a refused URL whose host carries a registered secret */
	rq.url = "http://"
	         "CANARY-ADDED-7731"
	         ".example.test/";
	assert_null(http_send(h, &rq, got_cb, &g, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "[redacted]"));
	assert_null(strstr(cause, added));
	free(cause);
	cause = NULL;

	/* a broken header line never echoes its value */
	{
		const char *bad[] = {"Authorization: Bearer CANARY-AUTH-5521\r\nX: y", NULL};

		snprintf(url, sizeof url, "http://127.0.0.1:%d/x", srv_port);
		rq.url = url;
		rq.headers = bad;
		assert_null(http_send(h, &rq, got_cb, &g, &cause));
		assert_non_null(cause);
		assert_null(strstr(cause, auth));
		free(cause);
	}

	red = http_redact(h, "before CANARY-ADDED-7731 after CANARY-ADDED-7731");
	assert_string_equal(red, "before [redacted] after [redacted]");
	free(red);
	http_free(h);
	loop_free(l);
}

/* cancel and free with requests in every state: none of their callbacks may run */
static void test_cancel_free(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct http *h2 = http_new(l);
	struct http_request slow = {.url = url_of("/slow/3000/c1")};
	struct http_request fail = {.url = url_of("/fail503/9/c2")};
	struct http_request stream = {.url = url_of("/stream/c3"), .on_chunk = NULL};
	struct http_req *r;
	char *cause = NULL;
	uint64_t until;

	(void)state;
	r = http_send(h, &slow, never_cb, NULL, &cause);
	assert_non_null(r);
	assert_non_null(http_send(h, &slow, never_cb, NULL, &cause));
	assert_non_null(http_send(h, &fail, never_cb, NULL, &cause)); /* into backoff */
	assert_non_null(http_send(h, &stream, never_cb, NULL, &cause));
	http_set_rate(h2, 0.5);
	assert_non_null(http_send(h2, &slow, never_cb, NULL, &cause));
	assert_non_null(http_send(h2, &slow, never_cb, NULL, &cause)); /* queued by the limiter */
	until = loop_now_ms() + 400; /* let them get going; any state will do */
	while (loop_now_ms() < until)
		loop_run_once(l, 50);
	http_cancel(h, r);
	assert_int_equal(http_pending(h), 3);
	assert_int_equal(http_pending(h2), 2);
	http_free(h);
	http_free(h2);
	until = loop_now_ms() + 300; /* no timer or watcher of theirs may fire now */
	while (loop_now_ms() < until)
		loop_run_once(l, 50);
	loop_free(l);
}

struct reent {
	struct http *h;
	struct http_req *victim;
	struct got next;
	int done;
};

struct reent_arg {
	struct reent *re;
};

/* A callback that sends on and cancels from the same handle, then frees its own arg. */
static void reent_cb(void *arg, const struct http_response *res)
{
	struct reent_arg *mine = arg;
	struct reent *re = mine->re;
	char *cause = NULL;

	(void)res;
	http_cancel(re->h, re->victim);
	assert_int_equal(http_get(re->h, url_of("/echo/reent2"), 5000, got_cb, &re->next, &cause),
	                 0);
	re->done++;
	free(mine);
}

static void test_reentrancy(void **state)
{
	struct loop *l = loop_new();
	struct reent re = {0};
	struct http_request slow = {.url = url_of("/slow/2000/re1")};
	struct http_request quick = {.url = url_of("/echo/re0")};
	struct reent_arg *arg = calloc(1, sizeof *arg);
	char *cause = NULL;

	(void)state;
	arg->re = &re;
	re.h = http_new(l);
	re.victim = http_send(re.h, &slow, never_cb, NULL, &cause);
	assert_non_null(re.victim);
	assert_non_null(http_send(re.h, &quick, reent_cb, arg, &cause));
	run_until(l, &re.done, 1);
	run_until(l, &re.next.done, 1);
	assert_int_equal(re.next.status, 200);
	free(re.next.body);
	assert_int_equal(http_pending(re.h), 0);
	http_free(re.h);
	loop_free(l);
}

struct freer {
	struct http *h;
	int calls;
};

static int free_chunk(void *arg, long status, const char *data, size_t len)
{
	struct freer *f = arg;

	(void)status;
	(void)data;
	(void)len;
	f->calls++;
	http_free(f->h); /* from inside curl: done once curl returns */
	return 0;
}

static void free_done(void *arg, const struct http_response *res)
{
	struct freer *f = arg;

	(void)res;
	f->calls++;
	http_free(f->h); /* the others' callbacks never run */
}

/* http_free from on_chunk or from a callback, with other requests in flight */
static void test_free_from_callbacks(void **state)
{
	struct loop *l = loop_new();
	struct freer a = {0}, b = {0};
	struct http_request st = {.url = url_of("/stream/free1"), .on_chunk = free_chunk};
	struct http_request quick = {.url = url_of("/echo/free2")};
	struct http_request slow = {.url = url_of("/slow/1000/free3")};
	uint64_t until;
	char *cause = NULL;

	(void)state;
	a.h = http_new(l);
	assert_non_null(http_send(a.h, &st, never_cb, &a, &cause));
	assert_non_null(http_send(a.h, &slow, never_cb, NULL, &cause));
	run_until(l, &a.calls, 1);
	b.h = http_new(l);
	assert_non_null(http_send(b.h, &quick, free_done, &b, &cause));
	assert_non_null(http_send(b.h, &slow, never_cb, NULL, &cause));
	run_until(l, &b.calls, 1);
	until = loop_now_ms() + 300;
	while (loop_now_ms() < until)
		loop_run_once(l, 50);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	loop_free(l);
}

/* https: verification is on (a self-signed server is refused, and so is a name the
 * certificate does not carry); http_set_ca_file trusts it. */
static void test_tls(void **state)
{
	char dir[] = "/tmp/gantry-tls-XXXXXX", cmd[1024], cert[256], key[256], url[128];
	struct loop *l = loop_new();
	struct http *h = http_new(l), *h2 = http_new(l);
	struct got g = {0}, g2 = {0}, g3 = {0};
	struct http_request rq = {.url = url, .max_retries = -1};
	char *cause = NULL;
	int port;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(cmd, sizeof cmd,
	         "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	         "-keyout %s -out %s -days 2 -subj /CN=127.0.0.1 "
	         "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
	         key, cert);
	if (system(cmd) != 0) /* bootstrap installs openssl with the test packages */
		fail_msg("cannot make a test certificate with the openssl command: %s", cmd);
	port = fake_start(cert, key, &tls_pid);
	assert_true(port > 0);

	snprintf(url, sizeof url, "https://127.0.0.1:%d/echo/tls1", port);
	assert_non_null(http_send(h, &rq, got_cb, &g, &cause));
	run_until(l, &g.done, 1);
	assert_int_equal(g.status, 0);
	if (strstr(g.error, "certificate") == NULL)
		fail_msg("not a certificate error: %s", g.error);

	assert_int_equal(http_set_ca_file(h2, dir, &cause), -1); /* a folder */
	free(cause);
	cause = NULL;
	assert_int_equal(http_set_ca_file(h2, cert, &cause), 0);
	assert_non_null(http_send(h2, &rq, got_cb, &g2, &cause));
	run_until(l, &g2.done, 1);
	assert_int_equal(g2.status, 200);

	/* trusted CA, but the certificate does not name "localhost" */
	snprintf(url, sizeof url, "https://localhost:%d/echo/tls2", port);
	assert_non_null(http_send(h2, &rq, got_cb, &g3, &cause));
	run_until(l, &g3.done, 1);
	assert_int_equal(g3.status, 0);

	free(g.body);
	free(g2.body);
	free(g3.body);
	http_free(h);
	http_free(h2);
	loop_free(l);
	kill(tls_pid, SIGTERM);
	waitpid(tls_pid, NULL, 0);
	tls_pid = -1;
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_methods_bodies_headers),
	    cmocka_unit_test(test_head_and_get_compat),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_retry_503),
	    cmocka_unit_test(test_retry_429),
	    cmocka_unit_test(test_post_not_retried),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_stream_stop),
	    cmocka_unit_test(test_rate_limit),
	    cmocka_unit_test(test_refused_urls),
	    cmocka_unit_test(test_redaction),
	    cmocka_unit_test(test_cancel_free),
	    cmocka_unit_test(test_reentrancy),
	    cmocka_unit_test(test_free_from_callbacks),
	    cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests(tests, srv_start, srv_stop);
}
