/* cli_cluster.c: gantry cluster [PROVIDER] — the cluster behind a provider (issue 10):
 * partitions (state, nodes, GPUs allocated/total, CPUs, the queue, the time limit), then
 * nodes (state, partitions, GPUs, CPUs, memory, why one is down), the age of the snapshot and
 * the provider's error when it has one. Waits for the provider's first answer (bounded), as
 * `gantry hosts` does. Remote text is sanitised in the table; -o json gives it raw (escaped). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "tui/cli.h"
#include "tui/layout.h"

#define CLUSTER_WAIT_MS   30000 /* longest wait for the provider's first answer */
#define CLUSTER_GAP       2
#define CLUSTER_NAMES_MAX 64 /* providers with a cluster view we look at */

struct cluster_wait {
	const char *provider;
	int news; /* the provider reported something (ENGINE_EV_TELEMETRY or _PROVIDER) */
};

static void cluster_on_event(void *arg, const struct engine_event *ev)
{
	struct cluster_wait *w = arg;

	if (ev->provider != NULL && strcmp(ev->provider, w->provider) != 0)
		return;
	if (ev->type == ENGINE_EV_TELEMETRY || ev->type == ENGINE_EV_PROVIDER)
		w->news = 1;
}

/* The snapshot is worth printing: every node has been heard of ("unknown": not yet), and
 * it is from this process (as_of_ms since start) or carries the error that says why not. */
static int cluster_settled(const struct cluster_info *ci, int64_t start)
{
	for (size_t i = 0; i < ci->nnodes; i++)
		if (ci->nodes[i].state != NULL && strcmp(ci->nodes[i].state, "unknown") == 0)
			return 0;
	return ci->as_of_ms >= start || ci->error != NULL;
}

static json_t *cluster_str_json(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *cluster_json(const struct cluster_info *ci, int64_t now)
{
	json_t *o = json_object(), *parts = json_array(), *nodes = json_array();

	json_object_set_new(o, "provider", cluster_str_json(ci->provider));
	json_object_set_new(o, "as_of_ms", json_integer(ci->as_of_ms));
	json_object_set_new(o, "age_ms",
	                    ci->as_of_ms > 0 ? json_integer(now - ci->as_of_ms) : json_null());
	json_object_set_new(o, "error", cluster_str_json(ci->error));
	json_object_set_new(o, "jobs_running", json_integer(ci->jobs_running));
	json_object_set_new(o, "jobs_pending", json_integer(ci->jobs_pending));
	for (size_t i = 0; i < ci->nparts; i++) {
		const struct cluster_partition *p = &ci->parts[i];
		json_t *j = json_object();

		json_object_set_new(j, "name", cluster_str_json(p->name));
		json_object_set_new(j, "state", cluster_str_json(p->state));
		json_object_set_new(j, "default", json_boolean(p->is_default));
		json_object_set_new(j, "nodes", json_integer(p->nodes));
		json_object_set_new(j, "gpus_total", json_integer(p->gpus_total));
		json_object_set_new(j, "gpus_alloc", json_integer(p->gpus_alloc));
		json_object_set_new(j, "cpus_total", json_integer(p->cpus_total));
		json_object_set_new(j, "cpus_alloc", json_integer(p->cpus_alloc));
		json_object_set_new(j, "jobs_running", json_integer(p->jobs_running));
		json_object_set_new(j, "jobs_pending", json_integer(p->jobs_pending));
		json_object_set_new(j, "max_time_s", json_integer(p->max_time_s));
		json_array_append_new(parts, j);
	}
	for (size_t i = 0; i < ci->nnodes; i++) {
		const struct cluster_node *n = &ci->nodes[i];
		json_t *j = json_object();

		json_object_set_new(j, "name", cluster_str_json(n->name));
		json_object_set_new(j, "state", cluster_str_json(n->state));
		json_object_set_new(j, "partitions", cluster_str_json(n->partitions));
		json_object_set_new(j, "gpu_type", cluster_str_json(n->gpu_type));
		json_object_set_new(j, "gpus_total", json_integer(n->gpus_total));
		json_object_set_new(j, "gpus_alloc", json_integer(n->gpus_alloc));
		json_object_set_new(j, "cpus_total", json_integer(n->cpus_total));
		json_object_set_new(j, "cpus_alloc", json_integer(n->cpus_alloc));
		json_object_set_new(j, "memory_mib", json_integer(n->memory_mib));
		json_object_set_new(j, "memory_alloc_mib", json_integer(n->memory_alloc_mib));
		json_object_set_new(j, "reason", cluster_str_json(n->reason));
		json_array_append_new(nodes, j);
	}
	json_object_set_new(o, "partitions", parts);
	json_object_set_new(o, "nodes", nodes);
	return o;
}

/* A table of text cells (heap, sanitised), printed with columns as wide as their widest. */
struct cluster_table {
	int ncols;
	char **cells; /* row-major, the header row first */
	size_t nrows;
};

static void cluster_table_add(struct cluster_table *t, const struct cli_ctx *c,
                              const char *const *row)
{
	t->cells = xreallocarray(t->cells, (t->nrows + 1) * (size_t)t->ncols, sizeof *t->cells);
	for (int i = 0; i < t->ncols; i++)
		t->cells[t->nrows * (size_t)t->ncols + (size_t)i] =
		    sanitize_text(row[i] != NULL && row[i][0] != '\0' ? row[i] : "-", (size_t)-1,
		                  c->ascii ? SANITIZE_ASCII : 0);
	t->nrows++;
}

/* Prints and frees the table; the last column is never padded. */
static void cluster_table_print(struct cluster_table *t, const struct cli_ctx *c)
{
	int *w = xcalloc((size_t)t->ncols, sizeof *w), lf = c->ascii ? LAYOUT_ASCII : 0;

	for (size_t r = 0; r < t->nrows; r++)
		for (int i = 0; i < t->ncols; i++) {
			int cw = layout_width(t->cells[r * (size_t)t->ncols + (size_t)i], lf);

			if (cw > w[i])
				w[i] = cw;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * (size_t)t->ncols + (size_t)i];

			fputs(s, stdout);
			if (i + 1 < t->ncols)
				printf("%*s", w[i] - layout_width(s, lf) + CLUSTER_GAP, "");
			free(t->cells[r * (size_t)t->ncols + (size_t)i]);
		}
		fputc('\n', stdout);
	}
	free(t->cells);
	free(w);
}

/* "8G", "512M", "-" for a memory size in MiB. */
static void cluster_mem(int64_t mib, char *buf, size_t size)
{
	if (mib <= 0)
		snprintf(buf, size, "-");
	else if (mib >= 1024)
		snprintf(buf, size, "%.0fG", (double)mib / 1024.0);
	else
		snprintf(buf, size, "%lldM", (long long)mib);
}

/* "1d12h", "4h", "30m", "unlimited" for a time limit in seconds. */
static void cluster_limit(long s, char *buf, size_t size)
{
	if (s <= 0)
		snprintf(buf, size, "unlimited");
	else if (s >= 86400 && s % 86400 == 0)
		snprintf(buf, size, "%ldd", s / 86400);
	else if (s >= 86400)
		snprintf(buf, size, "%ldd%ldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600 && s % 3600 == 0)
		snprintf(buf, size, "%ldh", s / 3600);
	else if (s >= 3600)
		snprintf(buf, size, "%ldh%ldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%ldm", (s + 59) / 60);
}

static void cluster_print(const struct cli_ctx *c, const struct cluster_info *ci, int64_t now,
                          const char *const *names, size_t nproviders)
{
	struct cluster_table t = {0};
	char age[16], head[512], *line;

	if (ci->as_of_ms > 0) {
		cli_age(now - ci->as_of_ms, age, sizeof age);
		snprintf(head, sizeof head, "Cluster %s: %d running, %d pending (as of %s ago)",
		         ci->provider, ci->jobs_running, ci->jobs_pending, age);
	} else {
		snprintf(head, sizeof head, "Cluster %s: no answer from the cluster yet",
		         ci->provider);
	}
	line = sanitize_text(head, (size_t)-1, c->ascii ? SANITIZE_ASCII : 0);
	puts(line);
	free(line);
	if (ci->error != NULL) {
		char *err = sanitize_text(ci->error, (size_t)-1, c->ascii ? SANITIZE_ASCII : 0);

		printf("error: %s\n", err);
		free(err);
	}
	if (nproviders > 1) {
		fputs("(other clusters:", stdout);
		for (size_t i = 0; i < nproviders && i < CLUSTER_NAMES_MAX; i++)
			if (strcmp(names[i], ci->provider) != 0)
				printf(" %s", names[i]);
		fputs("; gantry cluster PROVIDER)\n", stdout);
	}
	if (ci->nparts == 0 && ci->nnodes == 0)
		return; /* nothing known: the error line says why */
	putchar('\n');
	t.ncols = 8;
	cluster_table_add(&t, c,
	                  (const char *const[]){"PARTITION", "STATE", "NODES", "GPUS", "CPUS",
	                                        "RUNNING", "PENDING", "MAXTIME"});
	for (size_t i = 0; i < ci->nparts; i++) {
		const struct cluster_partition *p = &ci->parts[i];
		char name[256], nodes[16], gpus[32], cpus[32], run[16], pend[16], lim[32];

		snprintf(name, sizeof name, "%s%s", p->name != NULL ? p->name : "?",
		         p->is_default ? "*" : "");
		snprintf(nodes, sizeof nodes, "%d", p->nodes);
		snprintf(gpus, sizeof gpus, "%d/%d", p->gpus_alloc, p->gpus_total);
		snprintf(cpus, sizeof cpus, "%d/%d", p->cpus_alloc, p->cpus_total);
		snprintf(run, sizeof run, "%d", p->jobs_running);
		snprintf(pend, sizeof pend, "%d", p->jobs_pending);
		cluster_limit(p->max_time_s, lim, sizeof lim);
		cluster_table_add(
		    &t, c,
		    (const char *const[]){name, p->state, nodes, gpus, cpus, run, pend, lim});
	}
	cluster_table_print(&t, c);
	putchar('\n');
	memset(&t, 0, sizeof t);
	t.ncols = 8;
	cluster_table_add(&t, c,
	                  (const char *const[]){"NODE", "STATE", "PARTITIONS", "GPUS", "TYPE",
	                                        "CPUS", "MEM", "REASON"});
	for (size_t i = 0; i < ci->nnodes; i++) {
		const struct cluster_node *n = &ci->nodes[i];
		char gpus[32], cpus[32], mem[32];

		snprintf(gpus, sizeof gpus, "%d/%d", n->gpus_alloc, n->gpus_total);
		snprintf(cpus, sizeof cpus, "%d/%d", n->cpus_alloc, n->cpus_total);
		cluster_mem(n->memory_mib, mem, sizeof mem);
		cluster_table_add(&t, c,
		                  (const char *const[]){n->name, n->state, n->partitions, gpus,
		                                        n->gpu_type, cpus, mem, n->reason});
	}
	cluster_table_print(&t, c);
}

static int cluster_run(struct cli_ctx *c, int argc, char **argv)
{
	struct cluster_wait w = {0};
	struct cluster_info ci;
	const char *want = NULL, *names[CLUSTER_NAMES_MAX];
	char *cause = NULL;
	int64_t start = loop_wall_ms(), now;
	size_t nclusters;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			return cli_fail("cluster", CLI_USAGE, "unknown option '%s'", argv[i]);
		if (want != NULL)
			return cli_fail("cluster", CLI_USAGE, "unexpected argument '%s'", argv[i]);
		want = argv[i];
	}
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	nclusters = engine_cluster_providers(c->e, names, CLUSTER_NAMES_MAX);
	if (engine_cluster(c->e, want, &ci, &cause) != 0) {
		/* an unknown name or one without a cluster is a usage error, like `offers
		 * --provider`; no cluster at all, or the provider's own failure, is not */
		int code = CLI_FAILED, known = 0, has = 0;

		for (size_t i = 0; want != NULL && i < engine_provider_count(c->e); i++) {
			struct engine_provider_info pi;

			engine_provider_info(c->e, i, &pi);
			known |= strcmp(pi.name, want) == 0;
		}
		for (size_t k = 0; want != NULL && k < nclusters && k < CLUSTER_NAMES_MAX; k++)
			has |= strcmp(names[k], want) == 0;
		if (want != NULL && (!known || !has))
			code = CLI_USAGE;
		rc = cli_fail("cluster", code, "%s", cause != NULL ? cause : "no cluster");
		free(cause);
		return rc;
	}
	/* this process has just opened the provider: wait (bounded by the provider's timeouts)
	 * until the snapshot is from now with no node left unknown, or an error explains why it
	 * is not (a host that went down is reported before the others have answered: wait for
	 * them too). Each news of the provider (notify) is a reason to look again. */
	if (!cluster_settled(&ci, start)) {
		uint64_t deadline = loop_now_ms() + CLUSTER_WAIT_MS;
		char *name = xstrdup(ci.provider);

		w.provider = name;
		engine_subscribe(c->e, cluster_on_event, &w);
		while (loop_now_ms() < deadline) {
			w.news = 0;
			while (!w.news && loop_now_ms() < deadline)
				loop_run_once(engine_loop(c->e), 100);
			cluster_info_clear(&ci);
			if (engine_cluster(c->e, name, &ci, &cause) != 0) {
				engine_unsubscribe(c->e, cluster_on_event, &w);
				rc = cli_fail("cluster", CLI_FAILED, "%s",
				              cause != NULL ? cause : "failed");
				free(cause);
				free(name);
				return rc;
			}
			if (cluster_settled(&ci, start))
				break;
		}
		engine_unsubscribe(c->e, cluster_on_event, &w);
		free(name);
	}
	now = loop_wall_ms();
	if (c->json)
		cli_print_json(cluster_json(&ci, now));
	else
		cluster_print(c, &ci, now, names, nclusters);
	/* nothing known and an error: the cluster could not be reached */
	rc = ci.as_of_ms == 0 && ci.error != NULL ? CLI_FAILED : CLI_OK;
	cluster_info_clear(&ci);
	return rc;
}

const struct cli_cmd cli_cluster_cmd = {
    .name = "cluster",
    .usage = "cluster [PROVIDER]",
    .summary = "partitions, nodes, GPUs allocated/total and the queue of a provider's cluster",
    .help = "  PROVIDER  a provider with a cluster view (ssh, slurm); default: the first one\n"
            "  -o json   (global option) the snapshot: partitions, nodes, as_of_ms, error\n",
    .run = cluster_run,
};
