/* local_tele.c: the local provider's `hosts` operation: this host's CPU, memory and GPUs (the
 * GPUs through core/nvml.h). Local jobs run on this host and are not narrowed to their GPUs,
 * so a job's ref gets the same single host as NULL does. */
#include "providers/local.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/nvml.h"
#include "core/telemetry.h"
#include "core/xmalloc.h"
#include "providers/provider.h"

/* The previous /proc/stat reading: CPU % is the busy share between two readings. */
static struct {
	int have;
	unsigned long long busy, total; /* clock ticks */
	struct tele_val last;           /* the last figure, kept while no tick passed */
} local_tele_cpu;

static int64_t local_tele_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Busy and total ticks of all CPUs from the "cpu" line of /proc/stat; -1 when unreadable. */
static int local_tele_stat(unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "re");
	char line[512];
	int n;

	if (f == NULL)
		return -1;
	if (fgets(line, sizeof line, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* user nice system idle iowait irq softirq steal (guest time is inside user) */
	n = sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	           &v[4], &v[5], &v[6], &v[7]);
	if (n < 4)
		return -1;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];
	return 0;
}

/* CPU use in percent of all CPUs since the previous call; n/a on the first. */
static struct tele_val local_tele_cpu_pct(void)
{
	unsigned long long busy, total;

	if (local_tele_stat(&busy, &total) < 0)
		return (struct tele_val){0, 0};
	if (local_tele_cpu.have && total > local_tele_cpu.total && busy >= local_tele_cpu.busy) {
		double pct = 100.0 * (double)(busy - local_tele_cpu.busy) /
		             (double)(total - local_tele_cpu.total);

		local_tele_cpu.last = (struct tele_val){pct > 100 ? 100 : pct, 1};
	} else if (local_tele_cpu.have && total < local_tele_cpu.total) {
		local_tele_cpu.last = (struct tele_val){0, 0}; /* counters went back */
	}
	local_tele_cpu.have = 1;
	local_tele_cpu.busy = busy;
	local_tele_cpu.total = total;
	return local_tele_cpu.last;
}

/* Memory used (MemTotal - MemAvailable) and total, MiB. */
static void local_tele_mem(struct tele_host *h)
{
	FILE *f = fopen("/proc/meminfo", "re");
	long long total = -1, avail = -1, freekb = -1, buffers = -1, cached = -1, x;
	char line[256];

	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "MemTotal: %lld kB", &x) == 1)
			total = x;
		else if (sscanf(line, "MemAvailable: %lld kB", &x) == 1)
			avail = x;
		else if (sscanf(line, "MemFree: %lld kB", &x) == 1)
			freekb = x;
		else if (sscanf(line, "Buffers: %lld kB", &x) == 1)
			buffers = x;
		else if (sscanf(line, "Cached: %lld kB", &x) == 1)
			cached = x;
	}
	fclose(f);
	if (total <= 0)
		return;
	if (avail < 0 && freekb >= 0)
		avail = freekb + (buffers > 0 ? buffers : 0) + (cached > 0 ? cached : 0);
	h->mem_total_mib = (struct tele_val){total / 1024.0, 1};
	if (avail >= 0 && avail <= total)
		h->mem_used_mib = (struct tele_val){(total - avail) / 1024.0, 1};
}

/* GPUs and their processes from NVML; gpu_error says why there are none or what is n/a. */
static void local_tele_gpus(struct tele_host *h)
{
	struct nvml_sample s;
	char why[512] = "";
	size_t len = 0;

	nvml_read(&s);
	if (s.state != NVML_READY) {
		h->gpu_error = s.error;
		s.error = NULL;
		nvml_sample_clear(&s);
		return;
	}
	if (s.ngpus > 0) {
		h->gpus = xcalloc(s.ngpus, sizeof *h->gpus);
		h->ngpus = s.ngpus;
	}
	for (size_t i = 0; i < s.ngpus; i++) {
		h->gpus[i] = s.gpus[i].gpu;
		if (s.gpus[i].reason[0] != '\0' && len + 1 < sizeof why)
			len += (size_t)snprintf(why + len, sizeof why - len, "%sGPU%d: %s",
			                        len > 0 ? "; " : "", s.gpus[i].gpu.index,
			                        s.gpus[i].reason);
		if (len >= sizeof why)
			len = sizeof why - 1;
	}
	if (why[0] != '\0')
		h->gpu_error = xstrdup(why);
	h->procs = s.procs;
	h->nprocs = s.nprocs;
	s.procs = NULL;
	s.nprocs = 0;
	h->gpus_total = (int)s.ngpus;
	h->gpus_free = (int)s.ngpus; /* local jobs do not reserve GPUs */
	nvml_sample_clear(&s);
}

int local_hosts(struct provider *p, const char *ref, struct tele_host **out, size_t *n)
{
	struct tele_host *h = xcalloc(1, sizeof *h);

	(void)p;
	(void)ref;
	h->name = xstrdup("local");
	h->address = xstrdup("localhost");
	h->reachable = 1;
	h->cpus = local_host_cpus();
	h->cpu_pct = local_tele_cpu_pct();
	local_tele_mem(h);
	local_tele_gpus(h);
	h->at_ms = local_tele_now_ms();
	h->last_contact_ms = h->at_ms;
	*out = h;
	*n = 1;
	return 0;
}
