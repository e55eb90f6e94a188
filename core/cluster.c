/* cluster.c: freeing a cluster_info. */
#include "core/cluster.h"

#include <stdlib.h>
#include <string.h>

void cluster_info_clear(struct cluster_info *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nnodes; i++) {
		free(c->nodes[i].name);
		free(c->nodes[i].state);
		free(c->nodes[i].partitions);
		free(c->nodes[i].gpu_type);
		free(c->nodes[i].reason);
	}
	for (size_t i = 0; i < c->nparts; i++) {
		free(c->parts[i].name);
		free(c->parts[i].state);
	}
	free(c->nodes);
	free(c->parts);
	free(c->provider);
	free(c->error);
	memset(c, 0, sizeof *c);
}
