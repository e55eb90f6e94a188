/* local_host.c: what this host offers to the local provider: CPUs, memory and, through NVML
 * (core/nvml.c, loaded with dlopen), GPUs. A host without the NVIDIA driver simply has no GPU. */
#include "providers/local.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/nvml.h"
#include "core/xmalloc.h"

int local_host_cpus(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 0;
}

/* MemTotal from /proc/meminfo, in MiB (0 when unreadable). */
static int64_t local_host_memory_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	long long kib = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "MemTotal: %lld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib > 0 ? (int64_t)(kib / 1024) : 0;
}

/* GPU count and the name of GPU 0 through NVML (core/nvml.c); no library or no driver = no
 * GPU. */
static void local_host_nvml(struct local_host *h)
{
	struct nvml_sample ns;

	nvml_read(&ns);
	if (ns.state == NVML_READY && ns.ngpus > 0) {
		h->gpus = (int)ns.ngpus;
		if (ns.gpus[0].gpu.name[0] != '\0')
			h->gpu_name = xstrdup(ns.gpus[0].gpu.name);
	}
	nvml_sample_clear(&ns);
}

void local_host_probe(struct local_host *h)
{
	memset(h, 0, sizeof *h);
	h->cpus = local_host_cpus();
	h->memory_mib = local_host_memory_mib();
	local_host_nvml(h);
}

void local_host_clear(struct local_host *h)
{
	free(h->gpu_name);
	memset(h, 0, sizeof *h);
}
