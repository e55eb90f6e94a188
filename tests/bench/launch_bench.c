/* launch_bench.c: N launches of the `lambda` provider (lambda_provider_ops, no engine, no
 * store) against two fresh Lambda fakes (tests/fakes/lambda_fake.py), run by
 * tests/bench/launch_bench.sh:
 *
 *   launch_bench N URL_A URL_B API_KEY_FILE STATE_DIR
 *
 *   phase concurrent (fake A): the N launches started at once, the loop run until every one
 *     has reached its instance over SSH;
 *   phase serial (fake B): the same N, each started when the previous one reached its
 *     instance.
 *
 * Where a launch ends here: the fake's instances are "virtual workers" (127.0.1.1..N, no sshd
 * behind them), so a launch cannot start its job. This tool listens on every one of those
 * addresses on one port (the provider's ssh_port) and a launch counts as done when its SSH
 * connection arrives there: the instance was made (key registered, list, POST launch), polled
 * until active with an address, and the job's SSH connect to it began. The connection is then
 * closed, so the provider's SSH step fails and would be retried for 2 minutes; the tool closes
 * the provider after the phase, and every launch callback must have answered by then (rc -1,
 * "closed during the launch"). A fresh provider on the same state directory then lists the
 * instances it owns (list_owned) and destroys every one; N destroyed is checked here, the
 * fake's side (N launch POSTs, every instance terminated) by launch_bench.sh.
 *
 * Prints one "phase ..." line per phase and exits 1 when a check fails. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/kvlist.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/lambda.h"
#include "providers/provider.h"

#define BENCH_MAX       254
#define BENCH_LIMIT_MS  300000 /* bound on a phase, so a stuck provider fails the bench */
#define BENCH_INSTALLID "b3ac0de5b3ac0de5b3ac0de5b3ac0de5"

struct bench_addr {
	int fd;
	struct loop_fd *w;
	double first_ms; /* first SSH connection, ms since the phase began (0 = none yet) */
};

struct bench_launch {
	int answered;
	int rc;
	double started_ms;
};

static struct loop *g_loop;
static struct bench_addr g_addr[BENCH_MAX];
static struct bench_launch g_launch[BENCH_MAX];
static int g_n;
static int g_reached; /* addresses that saw their first connection in this phase */
static int g_answered;
static double g_t0;
static char *g_first_cause; /* the first launch callback's cause in a phase */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "launch_bench: %s: %s\n", what, why != NULL ? why : "?");
	exit(1);
}

/* An SSH connection from the provider: the launch reached its instance. Closed at once. */
static void on_accept(int fd, short revents, void *arg)
{
	struct bench_addr *a = arg;
	int c;

	(void)revents;
	while ((c = accept(fd, NULL, NULL)) >= 0) {
		close(c);
		if (a->first_ms == 0) {
			a->first_ms = now_ms() - g_t0;
			g_reached++;
		}
	}
}

/* Listens on 127.0.1.1..N on one free port; returns the port. */
static int listen_all(int n)
{
	int port = 0;

	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = {0};
		socklen_t len = sizeof sa;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
		char ip[32];

		snprintf(ip, sizeof ip, "127.0.%d.%d", 1 + i / 254, 1 + i % 254);
		if (fd < 0)
			die("socket", strerror(errno));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &sa.sin_addr);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0)
			die("cannot listen on the virtual workers' address", ip);
		if (port == 0) {
			getsockname(fd, (struct sockaddr *)&sa, &len);
			port = ntohs(sa.sin_port);
		}
		g_addr[i].fd = fd;
		g_addr[i].w = loop_fd_add(g_loop, fd, POLLIN, on_accept, &g_addr[i]);
	}
	return port;
}

static void on_launch(void *arg, int rc, const struct provider_launch_result *res,
                      const char *cause)
{
	struct bench_launch *l = arg;

	(void)res;
	if (l->answered++ == 0)
		g_answered++;
	if (g_first_cause == NULL && cause != NULL)
		g_first_cause = xstrdup(cause);
	l->rc = rc;
}

static int run_until_reached(int want, double limit_ms)
{
	/* a callback answering before the close is a failed launch: no need to wait on */
	while (g_reached < want && g_answered == 0 && now_ms() - g_t0 < limit_ms)
		loop_run_once(g_loop, 50);
	return g_reached >= want ? 0 : -1;
}

static struct provider *open_provider(const char *url, const char *key_file, const char *state,
                                      int port)
{
	struct provider_config cfg = {0};
	struct kvlist set, pos;
	struct provider *p = NULL;
	char *api = xprintf("%s/api/v1", url), portbuf[16], *cause = NULL;

	kvlist_init(&set);
	kvlist_init(&pos);
	snprintf(portbuf, sizeof portbuf, "%d", port);
	kvlist_set(&set, "api_url", api);
	kvlist_set(&set, "api_key_file", key_file);
	kvlist_set(&set, "ssh_user", "root");
	kvlist_set(&set, "ssh_port", portbuf);
	/* the fake's rate limit is off: so is the provider's own pacing (documented settings,
	 * 1 request/s and 12 s between launches by default, Lambda's published limits) */
	kvlist_set(&set, "rate_limit", "0");
	kvlist_set(&set, "launch_interval", "0s");
	cfg.name = "lam";
	cfg.state_dir = state;
	cfg.settings = &set;
	cfg.settings_pos = &pos;
	cfg.loop = g_loop;
	cfg.installation_id = BENCH_INSTALLID;
	if (lambda_provider_ops.open(&cfg, &p, &cause) != 0)
		die("open", cause);
	kvlist_free(&set);
	kvlist_free(&pos);
	free(api);
	return p;
}

static void fill_spec(struct provider_job_spec *s, struct kvlist *env, char *id, size_t idlen,
                      const char *phase, int i)
{
	memset(s, 0, sizeof *s);
	snprintf(id, idlen, "%c%03d", phase[0], i); /* c000.., s000.. */
	s->job_id = id;
	s->idem_key = id;
	s->name = "launch-bench";
	s->owner = "bench";
	s->kind = JOB_KIND_TRAINING;
	s->script = "true";
	s->env = env;
	s->nodes = 1;
	s->gpus = 1;
	s->attempt = 1;
	s->installation_id = BENCH_INSTALLID;
	s->region = "us-east-1";
	s->instance_type = "gpu_1x_a10";
}

static void start_launch(struct provider *p, const char *phase, int i)
{
	struct provider_job_spec s;
	struct kvlist env;
	char id[32], *cause = NULL;

	kvlist_init(&env);
	fill_spec(&s, &env, id, sizeof id, phase, i);
	g_launch[i].started_ms = now_ms() - g_t0;
	if (lambda_provider_ops.launch(p, &s, on_launch, &g_launch[i], &cause) != 0)
		die("launch", cause);
	kvlist_free(&env);
}

/* ---- cleanup: list_owned, destroy each ---- */

struct cleanup {
	struct provider *p;
	int listed, listed_rc, list_done;
	int destroyed, destroy_fail, destroy_answers;
};

static void on_destroy(void *arg, int rc, const char *cause)
{
	struct cleanup *c = arg;

	c->destroy_answers++;
	if (rc == 0)
		c->destroyed++;
	else {
		c->destroy_fail++;
		fprintf(stderr, "launch_bench: destroy: %s\n", cause != NULL ? cause : "?");
	}
}

static void on_owned(void *arg, int rc, const struct provider_owned *own, size_t n,
                     const char *cause)
{
	struct cleanup *c = arg;
	char *why = NULL;

	c->list_done = 1;
	c->listed_rc = rc;
	if (rc != 0) {
		fprintf(stderr, "launch_bench: list_owned: %s\n", cause != NULL ? cause : "?");
		return;
	}
	c->listed = (int)n;
	for (size_t i = 0; i < n; i++)
		if (lambda_provider_ops.destroy(c->p, own[i].ref, on_destroy, c, &why) != 0) {
			fprintf(stderr, "launch_bench: destroy %s: %s\n", own[i].ref, why);
			free(why);
			why = NULL;
			c->destroy_answers++;
			c->destroy_fail++;
		}
}

static int cleanup_phase(const char *url, const char *key_file, const char *state, int port)
{
	struct cleanup c = {0};
	char *cause = NULL;
	double end = now_ms() + 60000;

	c.p = open_provider(url, key_file, state, port);
	if (lambda_provider_ops.list_owned(c.p, on_owned, &c, &cause) != 0)
		die("list_owned", cause);
	while ((!c.list_done || c.destroy_answers < c.listed) && now_ms() < end)
		loop_run_once(g_loop, 50);
	lambda_provider_ops.close(c.p);
	printf("cleanup listed=%d destroyed=%d\n", c.listed, c.destroyed);
	if (c.listed_rc != 0 || c.listed != g_n || c.destroyed != g_n || c.destroy_fail != 0) {
		fprintf(stderr, "launch_bench: FAIL: cleanup listed %d, destroyed %d of %d\n",
		        c.listed, c.destroyed, g_n);
		return -1;
	}
	return 0;
}

/* ---- phases ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int phase(const char *name, int serial, const char *url, const char *key_file,
                 const char *state_root, int port)
{
	struct provider *p;
	char *state = xprintf("%s/%s", state_root, name);
	double wall, lat[BENCH_MAX], sum = 0;
	int bad = 0;

	for (int i = 0; i < g_n; i++) {
		g_addr[i].first_ms = 0;
		memset(&g_launch[i], 0, sizeof g_launch[i]);
	}
	g_reached = 0;
	g_answered = 0;
	free(g_first_cause);
	g_first_cause = NULL;
	p = open_provider(url, key_file, state, port);
	g_t0 = now_ms();
	if (!serial) {
		for (int i = 0; i < g_n; i++)
			start_launch(p, name, i);
		if (run_until_reached(g_n, BENCH_LIMIT_MS) != 0)
			bad = 1;
	} else {
		for (int i = 0; i < g_n && !bad; i++) {
			start_launch(p, name, i);
			if (run_until_reached(i + 1, BENCH_LIMIT_MS) != 0)
				bad = 1;
		}
	}
	wall = now_ms() - g_t0;
	if (bad)
		fprintf(stderr,
		        "launch_bench: FAIL: %s: %d of %d launches reached their instance (limit "
		        "%d s); %d callbacks answered first, e.g. %s\n",
		        name, g_reached, g_n, BENCH_LIMIT_MS / 1000, g_answered,
		        g_first_cause != NULL ? g_first_cause : "-");
	if (g_answered != 0) {
		/* before the close, no callback may have answered: an answer means the launch
		 * failed (or claims the job started on an address with no sshd) */
		fprintf(stderr,
		        "launch_bench: FAIL: %s: %d launch callbacks answered before the "
		        "close\n",
		        name, g_answered);
		bad = 1;
	}
	lambda_provider_ops.close(p);
	for (int i = 0; i < g_n; i++)
		if (g_launch[i].answered != 1 || g_launch[i].rc != -1) {
			fprintf(stderr,
			        "launch_bench: FAIL: %s: launch %d answered %d time(s), rc %d, at "
			        "the close (want once, -1)\n",
			        name, i, g_launch[i].answered, g_launch[i].rc);
			bad = 1;
			break;
		}
	/* per-launch latency: from its start to its SSH connection (addresses are handed out in
	 * launch order only in the serial phase; the concurrent one is taken as a distribution) */
	for (int i = 0; i < g_n; i++)
		lat[i] = g_addr[i].first_ms;
	if (serial)
		for (int i = 0; i < g_n; i++)
			lat[i] = g_addr[i].first_ms - g_launch[i].started_ms;
	qsort(lat, (size_t)g_n, sizeof lat[0], cmp_double);
	for (int i = 0; i < g_n; i++)
		sum += lat[i];
	printf("phase %s launches=%d reached=%d wall_ms=%.0f per_launch_ms median=%.0f "
	       "max=%.0f mean=%.0f\n",
	       name, g_n, g_reached, wall, lat[g_n / 2], lat[g_n - 1], sum / g_n);
	fflush(stdout);
	if (cleanup_phase(url, key_file, state, port) != 0)
		bad = 1;
	free(state);
	return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
	int port, rc = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: launch_bench N URL_A URL_B API_KEY_FILE STATE_DIR (run by "
		                "tests/bench/launch_bench.sh)\n");
		return 2;
	}
	g_n = atoi(argv[1]);
	if (g_n < 1 || g_n > BENCH_MAX)
		die("N must be 1..254", argv[1]);
	g_loop = loop_new();
	port = listen_all(g_n);
	printf("ssh_port %d\n", port);
	fflush(stdout);
	if (phase("concurrent", 0, argv[2], argv[4], argv[5], port) != 0)
		rc = 1;
	if (phase("serial", 1, argv[3], argv[4], argv[5], port) != 0)
		rc = 1;
	for (int i = 0; i < g_n; i++) {
		loop_fd_remove(g_loop, g_addr[i].w);
		close(g_addr[i].fd);
	}
	free(g_first_cause);
	loop_free(g_loop);
	return rc;
}
