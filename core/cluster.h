/* cluster.h: what a provider's cluster looks like now, for the Cluster view and
 * `gantry cluster`: partitions, nodes, GPUs allocated of total, the queue. Pure data, filled
 * by a provider's optional `cluster` op from its cache (providers/provider.h). */
#ifndef GANTRY_CLUSTER_H
#define GANTRY_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct cluster_node {
	char *name;
	char *state;      /* the backend's words, lower case: "idle", "mixed", "allocated",
	                   * "down", "drained", "unreachable" */
	char *partitions; /* "debug,gpu" (heap, "" when none) */
	char *gpu_type;   /* "A100", "" = untyped GPUs or none */
	char *reason;     /* why down or drained, or NULL (remote text: sanitise to show) */
	int gpus_total, gpus_alloc;
	int cpus_total, cpus_alloc;
	int64_t memory_mib, memory_alloc_mib;
};

struct cluster_partition {
	char *name;
	char *state; /* "up", "down", "drain", "inactive" */
	int is_default;
	int nodes;
	int gpus_total, gpus_alloc;
	int cpus_total, cpus_alloc;
	int jobs_running, jobs_pending; /* every user's jobs in the queue */
	long max_time_s;                /* 0 = unlimited */
};

struct cluster_info {
	char *provider; /* instance name */
	struct cluster_partition *parts;
	size_t nparts;
	struct cluster_node *nodes;
	size_t nnodes;
	int jobs_running, jobs_pending; /* the whole queue, every user */
	int64_t as_of_ms;               /* when the backend answered (Unix ms); 0 = never yet */
	char *error;                    /* the last refresh's one-line error, or NULL */
};

void cluster_info_clear(struct cluster_info *c);

#endif
