/* fuzz_slurm_api.c: libFuzzer target for the slurmrestd API parsers (providers/slurm_api.c),
 * which read whatever slurmrestd (or something posing as it) answers: jobs, nodes and
 * partitions in every version's shape, submit answers, error bodies; and the strings Gantry
 * reads back from them: labels in a job's comment, GRES strings, host lists. The results go
 * through the state mapping and the Cluster view as the provider would use them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/slurm_api.h"

static const char *const fuzz_versions[] = {"v0.0.38", "v0.0.39", "v0.0.40", "v0.0.41"};

/* one line, no escape sequences, bounded */
static void check_line(const char *s)
{
	if (s == NULL)
		return;
	if (strchr(s, '\n') != NULL || strchr(s, '\033') != NULL || strlen(s) > 1000)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct slurm_api_version *v =
	    slurm_api_version(fuzz_versions[size > 0 ? data[0] % 4 : 0]);
	char *text = malloc(size + 1), *cause = NULL, *s;
	struct slurm_job *jobs = NULL;
	struct slurm_node *nodes = NULL;
	struct slurm_partition *parts = NULL;
	struct slurm_gres *g;
	struct slurm_label l;
	struct cluster_info c;
	size_t nj = 0, nn = 0, np = 0, ng;
	char **hosts;
	size_t nh;
	int64_t id;
	enum slurm_err cls;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (slurm_api_parse_jobs(v, text, size, &jobs, &nj, &cause) == 0) {
		for (size_t i = 0; i < nj; i++) {
			char *r = NULL;
			enum job_state st = slurm_api_state(&jobs[i], &r);

			if ((int)st < 0 || st >= JOB_STATE_COUNT || jobs[i].id <= 0 ||
			    jobs[i].name == NULL || jobs[i].state == NULL || jobs[i].gres == NULL ||
			    jobs[i].node_count < 0 || jobs[i].time_limit_min < 0)
				abort();
			check_line(r);
			free(r);
			if (slurm_api_label_parse(jobs[i].comment, &l) == 0)
				slurm_label_clear(&l);
			if (slurm_api_parse_gres(jobs[i].gres, &g, &ng) == 0)
				slurm_gres_free(g, ng);
		}
	}
	check_line(cause);
	free(cause);
	cause = NULL;
	if (slurm_api_parse_nodes(v, text, size, &nodes, &nn, &cause) == 0) {
		for (size_t i = 0; i < nn; i++)
			if (nodes[i].name == NULL || nodes[i].state == NULL || nodes[i].gpus < 0 ||
			    nodes[i].gpus_used < 0 || nodes[i].gpus_used > nodes[i].gpus)
				abort();
	}
	check_line(cause);
	free(cause);
	cause = NULL;
	if (slurm_api_parse_partitions(v, text, size, &parts, &np, &cause) == 0) {
		for (size_t i = 0; i < np; i++) {
			if (parts[i].name == NULL || parts[i].state == NULL ||
			    parts[i].nodes == NULL)
				abort();
			if (slurm_api_hostlist(parts[i].nodes, &hosts, &nh, 64) == 0) {
				for (size_t k = 0; k < nh; k++)
					free(hosts[k]);
				free(hosts);
			}
		}
	}
	check_line(cause);
	free(cause);
	cause = NULL;
	slurm_api_cluster("fuzz", parts, np, nodes, nn, jobs, nj, &c);
	if (c.nparts != np || c.nnodes != nn || c.jobs_running < 0 || c.jobs_pending < 0)
		abort();
	cluster_info_clear(&c);
	slurm_jobs_free(jobs, nj);
	slurm_nodes_free(nodes, nn);
	slurm_partitions_free(parts, np);

	if (slurm_api_parse_submit(text, size, &id, &cause) == 0 && id <= 0)
		abort();
	check_line(cause);
	free(cause);
	s = slurm_api_error(size > 1 ? 200 + data[1] * 2 : 0, text, size, text, &cls);
	check_line(s);
	free(s);

	/* the same bytes as the strings Gantry reads back */
	if (slurm_api_label_parse(text, &l) == 0) {
		char *back = slurm_api_label_comment(&l);

		if (strcmp(back, text) != 0) /* only Gantry's own exact form parses */
			abort();
		free(back);
		slurm_label_clear(&l);
	}
	if (slurm_api_parse_gres(text, &g, &ng) == 0)
		slurm_gres_free(g, ng);
	if (slurm_api_hostlist(text, &hosts, &nh, 1000) == 0) {
		if (nh > 1000)
			abort();
		for (size_t k = 0; k < nh; k++)
			free(hosts[k]);
		free(hosts);
	}
	free(text);
	return 0;
}
