/* telemetry.h: samples of what workers and their GPUs are doing. Every value carries a
 * validity flag: a value a source could not give (`[N/A]`, `[Not Supported]`, a failing
 * NVML call) is invalid, never zero. Samples carry their time so stale ones show their age. */
#ifndef GANTRY_TELEMETRY_H
#define GANTRY_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

struct tele_val {
	double v;
	int ok; /* 0 = n/a */
};

struct tele_gpu {
	int index;
	char name[64];
	char uuid[80];
	struct tele_val util_pct, mem_used_mib, mem_total_mib, temp_c, power_w, power_limit_w;
};

struct tele_proc {
	long pid;
	char name[128];
	char gpu_uuid[80];
	struct tele_val mem_mib;
};

/* One worker host. */
struct tele_host {
	char *name;              /* "gpu1" */
	char *address;           /* "10.0.0.5:22" */
	int reachable;           /* the last attempt to reach it succeeded */
	int64_t at_ms;           /* time of the sample (Unix ms); 0 = never sampled */
	int64_t last_contact_ms; /* last successful contact (Unix ms); 0 = never */
	char *reason;            /* why it is unreachable, or NULL */
	int cpus;
	struct tele_val cpu_pct, mem_used_mib, mem_total_mib;
	struct tele_gpu *gpus;
	size_t ngpus;
	char *gpu_error; /* why GPU figures are missing ("nvidia-smi: not found"), or NULL */
	struct tele_proc *procs;
	size_t nprocs;
	int gpus_total; /* configured or detected */
	int gpus_free;  /* not assigned to a job */
	char *gpu_type; /* configured label ("H100"), or NULL */
};

/* Frees what h owns and zeroes it (h itself stays). */
void tele_host_clear(struct tele_host *h);
/* Deep copy into dst (which is overwritten, not freed first). */
void tele_host_copy(struct tele_host *dst, const struct tele_host *src);
/* Clears each of the n hosts and frees the array. */
void tele_hosts_free(struct tele_host *h, size_t n);

#endif
