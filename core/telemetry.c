/* telemetry.c: ownership helpers for host samples. */
#include "core/telemetry.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

void tele_host_clear(struct tele_host *h)
{
	if (h == NULL)
		return;
	free(h->name);
	free(h->address);
	free(h->reason);
	free(h->gpus);
	free(h->gpu_error);
	free(h->procs);
	free(h->gpu_type);
	memset(h, 0, sizeof *h);
}

static char *tele_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void tele_host_copy(struct tele_host *dst, const struct tele_host *src)
{
	*dst = *src;
	dst->name = tele_strdup(src->name);
	dst->address = tele_strdup(src->address);
	dst->reason = tele_strdup(src->reason);
	dst->gpu_error = tele_strdup(src->gpu_error);
	dst->gpu_type = tele_strdup(src->gpu_type);
	dst->gpus = NULL;
	dst->procs = NULL;
	if (src->ngpus > 0) {
		dst->gpus = xcalloc(src->ngpus, sizeof *dst->gpus);
		memcpy(dst->gpus, src->gpus, src->ngpus * sizeof *dst->gpus);
	}
	if (src->nprocs > 0) {
		dst->procs = xcalloc(src->nprocs, sizeof *dst->procs);
		memcpy(dst->procs, src->procs, src->nprocs * sizeof *dst->procs);
	}
}

void tele_hosts_free(struct tele_host *h, size_t n)
{
	if (h == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		tele_host_clear(&h[i]);
	free(h);
}
