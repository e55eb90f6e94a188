/* k8s_bench.c: the `kubernetes` provider (kubernetes_provider_ops, no engine) against the
 * Kubernetes fake (tests/fakes/k8s_fake.py, started by tests/lib/k8srig.sh), and the store
 * the watch benchmark's TUI opens. Run by tests/bench/k8s_launch_bench.sh and
 * tests/bench/k8s_watch_bench.sh:
 *
 *   k8s_bench launch N MODE KIND PREFIX STATE_DIR KEY=VALUE...
 *     N launches of KIND (training, notebook or endpoint; image gantry.test/idle, so the
 *     fake runs no process), MODE "once" (all started together, the loop run until every
 *     callback answered) or "serial" (each started when the previous one answered). A
 *     launch ends when the provider answers it: its objects created in the API server.
 *     Every answer must be rc 0 with a ref "NAMESPACE/KIND/gantry-<job>-1".
 *   k8s_bench seed STORE N PREFIX PROVIDER NAMESPACE
 *     writes N notebook jobs (RUNNING, provider PROVIDER, ref NAMESPACE/pod/gantry-<id>-1)
 *     into the store at STORE with the store API, as launched jobs are; prints the store's
 *     installation id, then one job id a line (the pods to create in the fake).
 *
 * KEY=VALUE are the provider's settings (config.yaml's). Prints one "phase ..." line with
 * the wall time; exits 1 when a check fails. Requests are counted by the scripts, in the
 * fake's request log. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/http.h"
#include "core/job.h"
#include "core/kvlist.h"
#include "core/loop.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "providers/kubernetes.h"
#include "providers/provider.h"

#define BENCH_LIMIT_MS  300000 /* bound on a phase, so a stuck provider fails the bench */
#define BENCH_INSTALLID "b3ac0de5b3ac0de5b3ac0de5b3ac0de5"

struct bench_op {
	int answered;
	int rc;
	char *ref;
	char *cause;
	char job_id[48];
};

static struct loop *g_loop;
static struct bench_op *g_ops;
static int g_n;
static int g_answered;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "k8s_bench: FAIL: %s: %s\n", what, why != NULL ? why : "?");
	exit(1);
}

static struct provider *open_provider(const char *state, struct http *http, int argc, char **argv)
{
	struct provider_config cfg = {0};
	struct kvlist set, pos;
	struct provider *p = NULL;
	char *cause = NULL;

	kvlist_init(&set);
	kvlist_init(&pos);
	for (int i = 0; i < argc; i++) {
		char *kv = xstrdup(argv[i]), *eq = strchr(kv, '=');

		if (eq == NULL)
			die("a setting is not KEY=VALUE", argv[i]);
		*eq = '\0';
		kvlist_set(&set, kv, eq + 1);
		kvlist_set(&pos, kv, "argv");
		free(kv);
	}
	cfg.name = "kube";
	cfg.state_dir = state;
	cfg.settings = &set;
	cfg.settings_pos = &pos;
	cfg.loop = g_loop;
	cfg.http = http;
	cfg.installation_id = BENCH_INSTALLID;
	if (kubernetes_provider_ops.open(&cfg, &p, &cause) != 0)
		die("open", cause);
	kvlist_free(&set);
	kvlist_free(&pos);
	return p;
}

static void on_launch(void *arg, int rc, const struct provider_launch_result *res,
                      const char *cause)
{
	struct bench_op *o = arg;

	if (o->answered++ == 0)
		g_answered++;
	o->rc = rc;
	if (rc == 0 && res != NULL && res->ref != NULL)
		o->ref = xstrdup(res->ref);
	if (cause != NULL && o->cause == NULL)
		o->cause = xstrdup(cause);
}

static int run_until(int want, double t0)
{
	while (g_answered < want && now_ms() - t0 < BENCH_LIMIT_MS)
		loop_run_once(g_loop, 50);
	return g_answered >= want ? 0 : -1;
}

static void start_launch(struct provider *p, enum job_kind kind, const char *prefix, int i)
{
	struct provider_job_spec s;
	struct kvlist env;
	char *cause = NULL;

	kvlist_init(&env);
	memset(&s, 0, sizeof s);
	/* a job id as Gantry makes them: "j" + 16 hex digits */
	snprintf(g_ops[i].job_id, sizeof g_ops[i].job_id, "j%08x%.4s0000", (unsigned)i, prefix);
	s.job_id = g_ops[i].job_id;
	s.idem_key = g_ops[i].job_id;
	s.name = "k8s-bench";
	s.owner = "bench";
	s.kind = kind;
	s.script = "sleep 3600";
	s.env = &env;
	s.nodes = 1;
	s.cpus = 1;
	s.attempt = 1;
	s.image = "gantry.test/idle";
	s.template_name = "k8s-bench";
	s.installation_id = BENCH_INSTALLID;
	if (kind != JOB_KIND_TRAINING) {
		s.want_port = 1;
		s.readiness_timeout_s = 120;
	}
	if (kind == JOB_KIND_ENDPOINT) {
		s.replicas_min = 1;
		s.replicas_max = 3;
		s.target_qps_per_replica = 10;
	}
	if (kubernetes_provider_ops.launch(p, &s, on_launch, &g_ops[i], &cause) != 0)
		die("launch", cause);
	kvlist_free(&env);
}

static int cmd_launch(int argc, char **argv)
{
	/* launch N MODE KIND PREFIX STATE_DIR KEY=VALUE... */
	struct provider *p;
	struct http *http;
	const char *mode, *prefix;
	double t0, wall;
	int bad = 0, kind;

	if (argc < 6)
		die("usage", "k8s_bench launch N once|serial KIND PREFIX STATE_DIR KEY=VALUE...");
	g_n = atoi(argv[1]);
	mode = argv[2];
	kind = job_kind_parse(argv[3]);
	prefix = argv[4];
	if (g_n < 1 || g_n > 100000)
		die("N must be 1..100000", argv[1]);
	if (kind < 0)
		die("KIND must be training, notebook or endpoint", argv[3]);
	if (strlen(prefix) != 4 || strspn(prefix, "0123456789abcdef") != 4)
		die("PREFIX must be 4 lower-case hex digits", prefix);
	g_ops = xcalloc((size_t)g_n, sizeof *g_ops);
	http = http_new(g_loop);
	p = open_provider(argv[5], http, argc - 6, argv + 6);
	t0 = now_ms();
	if (strcmp(mode, "once") == 0) {
		for (int i = 0; i < g_n; i++)
			start_launch(p, (enum job_kind)kind, prefix, i);
		if (run_until(g_n, t0) != 0)
			bad = 1;
	} else {
		for (int i = 0; i < g_n && !bad; i++) {
			start_launch(p, (enum job_kind)kind, prefix, i);
			if (run_until(i + 1, t0) != 0)
				bad = 1;
		}
	}
	wall = now_ms() - t0;
	kubernetes_provider_ops.close(p);
	http_free(http);
	for (int i = 0; i < g_n; i++) {
		if (g_ops[i].answered != 1 || g_ops[i].rc != 0 || g_ops[i].ref == NULL) {
			if (!bad)
				fprintf(
				    stderr,
				    "k8s_bench: FAIL: launch %d answered %d time(s), rc %d: %s\n",
				    i, g_ops[i].answered, g_ops[i].rc,
				    g_ops[i].cause != NULL ? g_ops[i].cause : "-");
			bad = 1;
		}
	}
	printf("phase launch-%s kind=%s launches=%d answered=%d wall_ms=%.0f "
	       "per_launch_ms=%.1f\n",
	       mode, argv[3], g_n, g_answered, wall, wall / g_n);
	for (int i = 0; i < g_n; i++) {
		free(g_ops[i].ref);
		free(g_ops[i].cause);
	}
	free(g_ops);
	return bad ? 1 : 0;
}

static int cmd_seed(int argc, char **argv)
{
	/* seed STORE N PREFIX PROVIDER NAMESPACE */
	struct store *s;
	char *cause = NULL, *install = NULL;
	const char *prefix;
	int n;

	if (argc != 6)
		die("usage", "k8s_bench seed STORE N PREFIX PROVIDER NAMESPACE");
	n = atoi(argv[2]);
	prefix = argv[3];
	if (n < 1 || n > 1000000)
		die("N must be 1..1000000", argv[2]);
	if (strlen(prefix) != 4 || strspn(prefix, "0123456789abcdef") != 4)
		die("PREFIX must be 4 lower-case hex digits", prefix);
	if (store_open(argv[1], &s, &cause) != 0)
		die("store", cause);
	if (store_meta_get(s, "installation_id", &install, &cause) != 0)
		die("installation id", cause);
	printf("%s\n", install);
	if (store_begin(s, &cause) != 0)
		die("store", cause);
	for (int i = 0; i < n; i++) {
		struct job j;
		char id[32], name[32];
		int64_t t = (int64_t)time(NULL) * 1000 - 60000;

		snprintf(id, sizeof id, "j%08x%.4s0000", (unsigned)i, prefix);
		snprintf(name, sizeof name, "nb-%d", i);
		job_init(&j);
		j.id = id;
		j.name = name;
		j.kind = JOB_KIND_NOTEBOOK;
		j.template_name = (char *)"k8s-bench";
		j.provider = argv[4];
		j.owner = (char *)"bench";
		j.idem_key = id;
		j.params_json = (char *)"{}";
		j.spec_json = (char *)"{}";
		j.created_ms = t;
		if (store_launch_intent(s, &j, &cause) != 0)
			die("launch intent", cause);
		j.provider_ref = xprintf("%s/pod/gantry-%s-1", argv[5], id);
		if (store_job_update(s, &j, &cause) != 0 ||
		    store_job_transition(s, id, JOB_PROVISIONING, "handed to provider", t,
		                         &cause) != 0 ||
		    store_job_transition(s, id, JOB_STARTING, "started by the provider", t,
		                         &cause) != 0 ||
		    store_job_transition(s, id, JOB_RUNNING, "ready", t, &cause) != 0 ||
		    store_intent_done(s, id, &cause) != 0)
			die("seed", cause);
		free(j.provider_ref);
		printf("%s\n", id);
	}
	if (store_commit(s, &cause) != 0)
		die("store", cause);
	free(install);
	store_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: k8s_bench launch|seed ... (run by "
		                "tests/bench/k8s_*_bench.sh)\n");
		return 2;
	}
	g_loop = loop_new();
	if (strcmp(argv[1], "launch") == 0)
		rc = cmd_launch(argc - 1, argv + 1);
	else if (strcmp(argv[1], "seed") == 0)
		rc = cmd_seed(argc - 1, argv + 1);
	else
		die("unknown command", argv[1]);
	loop_free(g_loop);
	return rc;
}
