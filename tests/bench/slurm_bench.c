/* slurm_bench.c: the `slurm` provider (slurm_provider_ops, no engine, no store) against the
 * real Slurm that tests/lib/slurmrig.sh starts, run by tests/bench/slurm_submit_bench.sh and
 * tests/bench/slurm_refresh_bench.sh:
 *
 *   slurm_bench launch N MODE PREFIX STATE_DIR REFS_OUT KEY=VALUE...
 *     N launches of a tiny training job (script `true`, no GPU, 1 CPU, 5 min), MODE "once"
 *     (all started together, the loop run until every callback answered) or "serial" (each
 *     started when the previous one answered); a launch ends when the provider answers it
 *     (its job directory made on the login node over SSH, the job submitted, the answer
 *     "queued"). Every answer must be rc 0 with a ref; "JOB_ID REF" lines go to REFS_OUT.
 *   slurm_bench refresh STATE_DIR REFS_IN KEY=VALUE...
 *     one refresh of every job in REFS_IN, all at once, the loop run until every callback
 *     answered; each answer must be rc 0.
 *
 * KEY=VALUE are the provider's settings (config.yaml's). One provider is opened per run
 * and closed at the end. Prints one "phase ..." line with the wall time; exits 1 when a
 * check fails. Requests are counted by the scripts, in slurmrestd's log. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/kvlist.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/provider.h"
#include "providers/slurm.h"

#define BENCH_LIMIT_MS  300000 /* bound on a phase, so a stuck provider fails the bench */
#define BENCH_INSTALLID "b3ac0de5b3ac0de5b3ac0de5b3ac0de5"

struct bench_op {
	int answered;
	int rc;
	char *ref;
	char *cause;
	int queued;
	enum job_state state;
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
	fprintf(stderr, "slurm_bench: FAIL: %s: %s\n", what, why != NULL ? why : "?");
	exit(1);
}

static struct provider *open_provider(const char *state, int argc, char **argv)
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
	cfg.name = "hpc";
	cfg.state_dir = state;
	cfg.settings = &set;
	cfg.settings_pos = &pos;
	cfg.loop = g_loop;
	cfg.installation_id = BENCH_INSTALLID;
	if (slurm_provider_ops.open(&cfg, &p, &cause) != 0)
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
	if (res != NULL)
		o->queued = res->queued;
	if (cause != NULL && o->cause == NULL)
		o->cause = xstrdup(cause);
}

static void on_status(void *arg, int rc, const struct provider_status *st, const char *cause)
{
	struct bench_op *o = arg;

	if (o->answered++ == 0)
		g_answered++;
	o->rc = rc;
	if (rc == 0 && st != NULL)
		o->state = st->state;
	if (cause != NULL && o->cause == NULL)
		o->cause = xstrdup(cause);
}

static int run_until(int want, double t0)
{
	while (g_answered < want && now_ms() - t0 < BENCH_LIMIT_MS)
		loop_run_once(g_loop, 50);
	return g_answered >= want ? 0 : -1;
}

static void start_launch(struct provider *p, const char *prefix, int i)
{
	struct provider_job_spec s;
	struct kvlist env;
	char *cause = NULL;

	kvlist_init(&env);
	memset(&s, 0, sizeof s);
	snprintf(g_ops[i].job_id, sizeof g_ops[i].job_id, "%s%04d", prefix, i);
	s.job_id = g_ops[i].job_id;
	s.idem_key = g_ops[i].job_id;
	s.name = "slurm-bench";
	s.owner = "bench";
	s.kind = JOB_KIND_TRAINING;
	s.script = "true";
	s.env = &env;
	s.nodes = 1;
	s.cpus = 1;
	s.max_runtime_s = 300;
	s.attempt = 1;
	s.installation_id = BENCH_INSTALLID;
	if (slurm_provider_ops.launch(p, &s, on_launch, &g_ops[i], &cause) != 0)
		die("launch", cause);
	kvlist_free(&env);
}

static int cmd_launch(int argc, char **argv)
{
	/* launch N MODE PREFIX STATE_DIR REFS_OUT KEY=VALUE... */
	struct provider *p;
	const char *mode, *prefix;
	double t0, wall;
	FILE *out;
	int bad = 0, queued = 0;

	if (argc < 6)
		die("usage",
		    "slurm_bench launch N once|serial PREFIX STATE_DIR REFS_OUT KEY=VALUE...");
	g_n = atoi(argv[1]);
	mode = argv[2];
	prefix = argv[3];
	if (g_n < 1 || g_n > 100000)
		die("N must be 1..100000", argv[1]);
	g_ops = xcalloc((size_t)g_n, sizeof *g_ops);
	p = open_provider(argv[4], argc - 6, argv + 6);
	t0 = now_ms();
	if (strcmp(mode, "once") == 0) {
		for (int i = 0; i < g_n; i++)
			start_launch(p, prefix, i);
		if (run_until(g_n, t0) != 0)
			bad = 1;
	} else {
		for (int i = 0; i < g_n && !bad; i++) {
			start_launch(p, prefix, i);
			if (run_until(i + 1, t0) != 0)
				bad = 1;
		}
	}
	wall = now_ms() - t0;
	slurm_provider_ops.close(p);
	out = fopen(argv[5], "w");
	if (out == NULL)
		die("cannot write", argv[5]);
	for (int i = 0; i < g_n; i++) {
		if (g_ops[i].answered != 1 || g_ops[i].rc != 0 || g_ops[i].ref == NULL) {
			if (!bad)
				fprintf(
				    stderr,
				    "slurm_bench: FAIL: launch %d answered %d time(s), rc %d: %s\n",
				    i, g_ops[i].answered, g_ops[i].rc,
				    g_ops[i].cause != NULL ? g_ops[i].cause : "-");
			bad = 1;
			continue;
		}
		queued += g_ops[i].queued;
		fprintf(out, "%s %s\n", g_ops[i].job_id, g_ops[i].ref);
	}
	fclose(out);
	printf(
	    "phase launch-%s launches=%d answered=%d queued=%d wall_ms=%.0f per_launch_ms=%.1f\n",
	    mode, g_n, g_answered, queued, wall, wall / g_n);
	for (int i = 0; i < g_n; i++) {
		free(g_ops[i].ref);
		free(g_ops[i].cause);
	}
	free(g_ops);
	return bad ? 1 : 0;
}

static int cmd_refresh(int argc, char **argv)
{
	/* refresh STATE_DIR REFS_IN KEY=VALUE... */
	struct provider *p;
	FILE *in;
	char line[256], *cause = NULL;
	double t0, wall;
	int bad = 0, cap = 0, states[JOB_STATE_COUNT] = {0};

	if (argc < 3)
		die("usage", "slurm_bench refresh STATE_DIR REFS_IN KEY=VALUE...");
	in = fopen(argv[2], "r");
	if (in == NULL)
		die("cannot read", argv[2]);
	while (fgets(line, sizeof line, in) != NULL) {
		char id[48], ref[128];

		if (sscanf(line, "%47s %127s", id, ref) != 2)
			continue;
		if (g_n == cap) {
			cap = cap ? 2 * cap : 256;
			g_ops = xreallocarray(g_ops, (size_t)cap, sizeof *g_ops);
		}
		memset(&g_ops[g_n], 0, sizeof g_ops[g_n]);
		snprintf(g_ops[g_n].job_id, sizeof g_ops[g_n].job_id, "%s", id);
		g_ops[g_n].ref = xstrdup(ref);
		g_n++;
	}
	fclose(in);
	if (g_n == 0)
		die("no job to refresh in", argv[2]);
	p = open_provider(argv[1], argc - 3, argv + 3);
	t0 = now_ms();
	for (int i = 0; i < g_n; i++)
		if (slurm_provider_ops.refresh(p, g_ops[i].job_id, g_ops[i].ref, on_status,
		                               &g_ops[i], &cause) != 0)
			die("refresh", cause);
	if (run_until(g_n, t0) != 0)
		bad = 1;
	wall = now_ms() - t0;
	slurm_provider_ops.close(p);
	for (int i = 0; i < g_n; i++) {
		if (g_ops[i].answered != 1 || g_ops[i].rc != 0) {
			if (!bad)
				fprintf(stderr,
				        "slurm_bench: FAIL: refresh of %s answered %d time(s), rc "
				        "%d: %s\n",
				        g_ops[i].job_id, g_ops[i].answered, g_ops[i].rc,
				        g_ops[i].cause != NULL ? g_ops[i].cause : "-");
			bad = 1;
			continue;
		}
		if ((int)g_ops[i].state >= 0 && (int)g_ops[i].state < (int)JOB_STATE_COUNT)
			states[g_ops[i].state]++;
	}
	printf("phase refresh jobs=%d answered=%d wall_ms=%.0f states:", g_n, g_answered, wall);
	for (int s = 0; s < JOB_STATE_COUNT; s++)
		if (states[s] > 0)
			printf(" %s=%d", job_state_name((enum job_state)s), states[s]);
	printf("\n");
	for (int i = 0; i < g_n; i++) {
		free(g_ops[i].ref);
		free(g_ops[i].cause);
	}
	free(g_ops);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: slurm_bench launch|refresh ... (run by "
		                "tests/bench/slurm_*_bench.sh)\n");
		return 2;
	}
	g_loop = loop_new();
	if (strcmp(argv[1], "launch") == 0)
		rc = cmd_launch(argc - 1, argv + 1);
	else if (strcmp(argv[1], "refresh") == 0)
		rc = cmd_refresh(argc - 1, argv + 1);
	else
		die("unknown command", argv[1]);
	loop_free(g_loop);
	return rc;
}
