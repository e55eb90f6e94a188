/* ssh_cluster.c: the ssh fleet's `cluster` op (issue 10), for the Cluster view and `gantry
 * cluster`: the fleet is one partition named after the provider, each host a node. All from
 * the hosts' last status sweeps (no I/O here); a stale snapshot asks for a sweep, and the
 * provider's notify says when it is done.
 *   node state   "unknown" (not contacted yet), "unreachable" (the last sweep failed; the
 *                reason says why), else "idle" (no job holds it), "allocated" (every GPU is
 *                held) or "mixed"
 *   GPUs         configured total; allocated = held by a live job (the placement Gantry
 *                made, as `gantry hosts` counts them)
 *   CPUs, memory what the host reported; the fleet allocates neither (alloc 0)
 *   queue        jobs running on the fleet (a multi-node job once); nothing is ever pending */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "providers/ssh_internal.h"

/* Adds id to ids[0..*n) unless it is there. */
static void ssh_cluster_count_job(const char ***ids, size_t *n, const char *id)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*ids)[i], id) == 0)
			return;
	*ids = xreallocarray(*ids, *n + 1, sizeof **ids);
	(*ids)[(*n)++] = id;
}

int ssh_cluster(struct provider *p, struct cluster_info *out, char **cause)
{
	struct cluster_partition *part;
	const char **ids = NULL;
	size_t nids = 0, live = sshp_live_hosts(p), ndown = 0, nup = 0;
	const char *first_down = NULL;
	unsigned char *mask;

	(void)cause;
	memset(out, 0, sizeof *out);
	out->provider = xstrdup(p->name);
	out->nodes = xcalloc(live > 0 ? live : 1, sizeof *out->nodes);
	out->parts = xcalloc(1, sizeof *out->parts);
	out->nparts = 1;
	part = &out->parts[0];
	part->name = xstrdup(p->name);
	part->is_default = 1;
	for (size_t i = 0; i < p->nhosts; i++) {
		struct sshp_host *h = p->hosts[i];
		struct cluster_node *nd;
		int busy = 0;

		if (h->removed)
			continue;
		nd = &out->nodes[out->nnodes++];
		nd->name = xstrdup(h->conf->name);
		nd->partitions = xstrdup(p->name);
		nd->gpu_type = xstrdup(h->conf->gpu_type != NULL ? h->conf->gpu_type : "");
		nd->gpus_total = h->conf->gpus > 0 ? h->conf->gpus : 0;
		nd->gpus_alloc = nd->gpus_total - sshp_free_gpus(h);
		if (h->ever_ok) {
			nd->cpus_total = h->res.tele.cpus;
			if (h->res.tele.mem_total_mib.ok)
				nd->memory_mib = (int64_t)h->res.tele.mem_total_mib.v;
			for (size_t j = 0; j < h->res.njobs; j++)
				if (sshp_job_busy(&h->res.jobs[j])) {
					busy++;
					ssh_cluster_count_job(&ids, &nids, h->res.jobs[j].id);
				}
			if (out->as_of_ms == 0 || h->at_ms < out->as_of_ms)
				out->as_of_ms = h->at_ms;
		}
		if (!h->swept) {
			nd->state = xstrdup("unknown");
			nd->reason = xstrdup("not contacted yet");
		} else if (!h->ok) {
			nd->state = xstrdup("unreachable");
			nd->reason = xstrdup(h->reason != NULL ? h->reason : "unreachable");
			if (first_down == NULL)
				first_down = nd->reason;
			ndown++;
		} else {
			nd->state = xstrdup(busy == 0 ? "idle"
			                    : nd->gpus_total > 0 && nd->gpus_alloc >= nd->gpus_total
			                        ? "allocated"
			                        : "mixed");
			nup++;
		}
		part->nodes++;
		part->gpus_total += nd->gpus_total;
		part->gpus_alloc += nd->gpus_alloc;
		part->cpus_total += nd->cpus_total;
	}
	part->state = xstrdup(ndown > 0 && nup == 0 && ndown == out->nnodes ? "down" : "up");
	part->jobs_running = out->jobs_running = (int)nids;
	if (first_down != NULL)
		out->error = ndown > 1 ? xprintf("%s (and %zu more host%s down)", first_down,
		                                 ndown - 1, ndown == 2 ? "" : "s")
		                       : xstrdup(first_down);
	free(ids);
	mask = sshp_mask(p, NULL, 0);
	sshp_refresh_cache(p, mask);
	free(mask);
	return 0;
}
