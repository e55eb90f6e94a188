/* test_loop.c: the event loop (timers, fd watchers, signals) and the libcurl multi glue,
 * against a small HTTP server that runs on the same loop. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/http.h"
#include "core/loop.h"

static void count_cb(void *arg)
{
	(*(int *)arg)++;
}

static void test_timers(void **state)
{
	struct loop *l = loop_new();
	int once = 0, every = 0;
	struct loop_timer *t;
	uint64_t start = loop_now_ms();

	loop_timer_add(l, 10, 0, count_cb, &once);
	t = loop_timer_add(l, 5, 5, count_cb, &every);
	while (loop_now_ms() - start < 100)
		assert_int_equal(loop_run_once(l, 20), 0);
	assert_int_equal(once, 1);
	assert_true(every >= 3);
	loop_timer_cancel(l, t);
	every = 0;
	start = loop_now_ms();
	while (loop_now_ms() - start < 30)
		loop_run_once(l, 10);
	assert_int_equal(every, 0);
	loop_free(l);
}

struct pipe_ctx {
	char got[64];
	size_t n;
};

static void pipe_cb(int fd, short revents, void *arg)
{
	struct pipe_ctx *c = arg;
	ssize_t r = read(fd, c->got + c->n, sizeof c->got - 1 - c->n);

	if (r > 0)
		c->n += (size_t)r;
}

static void test_fd_watch(void **state)
{
	struct loop *l = loop_new();
	struct pipe_ctx c = {0};
	int p[2];
	struct loop_fd *w;

	assert_int_equal(pipe(p), 0);
	w = loop_fd_add(l, p[0], POLLIN, pipe_cb, &c);
	assert_int_equal(write(p[1], "abc", 3), 3);
	loop_run_once(l, 100);
	assert_int_equal(c.n, 3);
	assert_memory_equal(c.got, "abc", 3);
	loop_fd_remove(l, w);
	assert_int_equal(write(p[1], "d", 1), 1);
	loop_run_once(l, 20);
	assert_int_equal(c.n, 3); /* removed: no more callbacks */
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static void sig_cb(int signo, void *arg)
{
	*(int *)arg = signo;
}

static void test_signal(void **state)
{
	struct loop *l = loop_new();
	int got = 0;

	assert_int_equal(loop_signal_watch(l, SIGUSR1, sig_cb, &got), 0);
	raise(SIGUSR1);
	for (int i = 0; i < 10 && got == 0; i++)
		loop_run_once(l, 50);
	assert_int_equal(got, SIGUSR1);
	loop_free(l);
	signal(SIGUSR1, SIG_DFL);
}

/* A one-connection-at-a-time HTTP server on the loop: answers each request with `reply`. */
struct server {
	struct loop *l;
	int lfd;
	const char *reply;
	int served;
};

static struct loop_fd *client_watch;

static void server_client(int fd, short revents, void *arg)
{
	struct server *s = arg;
	char buf[2048];
	ssize_t n = read(fd, buf, sizeof buf);

	if (n <= 0) { /* the client went away */
		loop_fd_remove(s->l, client_watch);
		client_watch = NULL;
		close(fd);
		return;
	}
	assert_int_equal(write(fd, s->reply, strlen(s->reply)), (ssize_t)strlen(s->reply));
	s->served++;
}

static void server_accept(int fd, short revents, void *arg)
{
	struct server *s = arg;
	int c = accept(fd, NULL, NULL);

	if (c < 0)
		return;
	if (client_watch != NULL)
		loop_fd_remove(s->l, client_watch);
	client_watch = loop_fd_add(s->l, c, POLLIN, server_client, s);
}

static int server_start(struct server *s, struct loop *l, const char *reply)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;

	s->l = l;
	s->reply = reply;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &len), 0);
	loop_fd_add(l, s->lfd, POLLIN, server_accept, s);
	return ntohs(a.sin_port);
}

struct got {
	int done;
	long status;
	char body[256];
	char error[256];
};

static void got_cb(void *arg, const struct http_response *res)
{
	struct got *g = arg;

	g->done = 1;
	g->status = res->status;
	snprintf(g->body, sizeof g->body, "%s", res->body);
	snprintf(g->error, sizeof g->error, "%s", res->error != NULL ? res->error : "");
}

static void test_http_get(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct server s = {0};
	struct got g = {0};
	char url[64];
	char *cause = NULL;
	int port = server_start(&s, l,
	                        "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n"
	                        "Connection: close\r\n\r\n{\"status\":\"ok\"}");

	snprintf(url, sizeof url, "http://127.0.0.1:%d/health", port);
	assert_int_equal(http_get(h, url, 2000, got_cb, &g, &cause), 0);
	assert_int_equal(http_pending(h), 1);
	for (int i = 0; i < 200 && !g.done; i++)
		loop_run_once(l, 20);
	assert_true(g.done);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.body, "{\"status\":\"ok\"}");
	assert_int_equal(http_pending(h), 0);
	assert_int_equal(s.served, 1);
	http_free(h);
	loop_free(l);
	close(s.lfd);
	client_watch = NULL;
}

static void test_http_refused(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct got g = {0};
	char *cause = NULL;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	char url[64];

	/* a port that was free a moment ago: nothing listens there */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
	assert_int_equal(http_get(h, url, 2000, got_cb, &g, &cause), 0);
	for (int i = 0; i < 200 && !g.done; i++)
		loop_run_once(l, 20);
	assert_true(g.done);
	assert_int_equal(g.status, 0);
	assert_true(strlen(g.error) > 0);
	http_free(h);
	loop_free(l);
}

static void test_http_timeout(void **state)
{
	struct loop *l = loop_new();
	struct http *h = http_new(l);
	struct server s = {0};
	struct got g = {0};
	char url[64];
	char *cause = NULL;
	int port = server_start(&s, l, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");

	/* the body never completes: the request must end with a timeout, not hang */
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
	assert_int_equal(http_get(h, url, 300, got_cb, &g, &cause), 0);
	for (int i = 0; i < 200 && !g.done; i++)
		loop_run_once(l, 20);
	assert_true(g.done);
	assert_int_equal(g.status, 0);
	assert_non_null(strstr(g.error, "timed out"));
	http_free(h);
	loop_free(l);
	close(s.lfd);
	client_watch = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timers),       cmocka_unit_test(test_fd_watch),
	    cmocka_unit_test(test_signal),       cmocka_unit_test(test_http_get),
	    cmocka_unit_test(test_http_refused), cmocka_unit_test(test_http_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
