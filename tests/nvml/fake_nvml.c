/* fake_nvml.c: a stand-in for libnvidia-ml.so.1 that exports the NVML functions Gantry binds
 * and answers from a script, so that core/nvml.c's dlopen path, symbol fallback and error
 * handling run without a GPU. Built three ways (see Makefile.am):
 *   new/  every version: nvmlInit_v2 and nvmlInit, ..._v3, _v2 and plain process queries
 *   old/  only what older drivers had: nvmlInit, nvmlDeviceGetCount,
 *         nvmlDeviceGetHandleByIndex, nvmlDeviceGetComputeRunningProcesses_v2 and plain,
 *         nvmlDeviceGetPowerManagementLimit (no enforced limit, no process names)
 *   v1/   like old/ but only the plain process query (the 2-field record)
 *   nocount/  every version, but no nvmlDeviceGetCount of any version (a broken library)
 * It behaves as NVML's reference says: device calls before init answer Uninitialized, bad
 * handles Invalid Argument, short buffers Insufficient Size (process queries then report the
 * count needed).
 *
 * The script (file named by FAKE_NVML_SCRIPT, read at each nvmlInit*) has one setting a line:
 *   init_error CODE          nvmlInit* returns CODE
 *   count_error CODE         nvmlDeviceGetCount* returns CODE
 *   count N                  number of GPUs (at most 16)
 *   gpu I name TEXT...       rest of the line
 *   gpu I uuid TEXT
 *   gpu I util PCT
 *   gpu I mem USED_BYTES TOTAL_BYTES
 *   gpu I temp C
 *   gpu I power MW
 *   gpu I limit MW           enforced limit
 *   gpu I mgmt_limit MW      management limit (default: the enforced one)
 *   gpu I fail CALL CODE     CALL (name uuid util mem temp power limit mgmt_limit procs
 *                            handle) returns CODE
 *   gpu I lost               every call about this GPU returns 15 (GPU is lost)
 *   gpu I proc PID BYTES|na NAME
 * When FAKE_NVML_LOG names a file, each exported function appends its own name to it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_MAX_GPUS  16
#define FAKE_MAX_PROCS 256
#define FAKE_EXPORT    __attribute__((visibility("default")))

enum {
	RC_SUCCESS = 0,
	RC_UNINITIALIZED = 1,
	RC_INVALID_ARGUMENT = 2,
	RC_NOT_SUPPORTED = 3,
	RC_NO_PERMISSION = 4,
	RC_NOT_FOUND = 6,
	RC_INSUFFICIENT_SIZE = 7,
	RC_DRIVER_NOT_LOADED = 9,
	RC_GPU_IS_LOST = 15,
	RC_UNKNOWN = 999,
};

enum fake_call {
	C_HANDLE,
	C_NAME,
	C_UUID,
	C_UTIL,
	C_MEM,
	C_TEMP,
	C_POWER,
	C_LIMIT,
	C_MGMT_LIMIT,
	C_PROCS,
	C_NCALLS
};

static const char *const fake_call_names[C_NCALLS] = {
    "handle", "name", "uuid", "util", "mem", "temp", "power", "limit", "mgmt_limit", "procs"};

struct fake_proc {
	unsigned int pid;
	unsigned long long bytes;
	char name[64];
};

struct fake_gpu {
	int magic;
	char name[128];
	char uuid[128];
	unsigned int util, temp, power, limit, mgmt_limit;
	int has_mgmt_limit;
	unsigned long long mem_used, mem_total;
	int fail[C_NCALLS];
	int lost;
	struct fake_proc procs[FAKE_MAX_PROCS];
	unsigned int nprocs;
};

typedef struct fake_gpu *nvmlDevice_t;

struct nvml_utilization {
	unsigned int gpu, memory;
};
struct nvml_memory {
	unsigned long long total, free, used;
};
struct nvml_proc_v1 {
	unsigned int pid;
	unsigned long long used;
};
struct nvml_proc_v2 {
	unsigned int pid;
	unsigned long long used;
	unsigned int gpu_instance_id, compute_instance_id;
};

#define FAKE_MAGIC 0x4e564d4c

static struct {
	int refs;
	int init_error;
	int count_error;
	unsigned int count;
	struct fake_gpu gpus[FAKE_MAX_GPUS];
} fake;

static void fake_log(const char *fn)
{
	const char *path = getenv("FAKE_NVML_LOG");
	FILE *f;

	if (path == NULL || path[0] == '\0')
		return;
	f = fopen(path, "a");
	if (f == NULL)
		return;
	fprintf(f, "%s\n", fn);
	fclose(f);
}

static int fake_call_index(const char *s)
{
	for (int i = 0; i < C_NCALLS; i++)
		if (strcmp(fake_call_names[i], s) == 0)
			return i;
	return -1;
}

/* Applies one "gpu I ..." line. */
static void fake_gpu_line(char *rest)
{
	char *end, *key;
	long i = strtol(rest, &end, 10);
	struct fake_gpu *g;

	if (end == rest || i < 0 || i >= FAKE_MAX_GPUS)
		return;
	g = &fake.gpus[i];
	key = strtok(end, " ");
	if (key == NULL)
		return;
	rest = key + strlen(key) + 1;
	if (strcmp(key, "name") == 0)
		snprintf(g->name, sizeof g->name, "%s", rest);
	else if (strcmp(key, "uuid") == 0)
		snprintf(g->uuid, sizeof g->uuid, "%s", rest);
	else if (strcmp(key, "util") == 0)
		g->util = (unsigned int)strtoul(rest, NULL, 10);
	else if (strcmp(key, "mem") == 0)
		sscanf(rest, "%llu %llu", &g->mem_used, &g->mem_total);
	else if (strcmp(key, "temp") == 0)
		g->temp = (unsigned int)strtoul(rest, NULL, 10);
	else if (strcmp(key, "power") == 0)
		g->power = (unsigned int)strtoul(rest, NULL, 10);
	else if (strcmp(key, "limit") == 0)
		g->limit = (unsigned int)strtoul(rest, NULL, 10);
	else if (strcmp(key, "mgmt_limit") == 0) {
		g->mgmt_limit = (unsigned int)strtoul(rest, NULL, 10);
		g->has_mgmt_limit = 1;
	} else if (strcmp(key, "lost") == 0)
		g->lost = 1;
	else if (strcmp(key, "fail") == 0) {
		char call[32];
		int code, c;

		if (sscanf(rest, "%31s %d", call, &code) == 2 && (c = fake_call_index(call)) >= 0)
			g->fail[c] = code;
	} else if (strcmp(key, "proc") == 0 && g->nprocs < FAKE_MAX_PROCS) {
		struct fake_proc *p = &g->procs[g->nprocs];
		char bytes[32];

		if (sscanf(rest, "%u %31s %63s", &p->pid, bytes, p->name) != 3)
			return;
		p->bytes = strcmp(bytes, "na") == 0 ? ~0ULL : strtoull(bytes, NULL, 10);
		g->nprocs++;
	}
}

static void fake_load(void)
{
	const char *path = getenv("FAKE_NVML_SCRIPT");
	char line[512];
	FILE *f;

	memset(&fake.gpus, 0, sizeof fake.gpus);
	fake.init_error = fake.count_error = 0;
	fake.count = 0;
	for (int i = 0; i < FAKE_MAX_GPUS; i++)
		fake.gpus[i].magic = FAKE_MAGIC;
	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "init_error ", 11) == 0)
			fake.init_error = atoi(line + 11);
		else if (strncmp(line, "count_error ", 12) == 0)
			fake.count_error = atoi(line + 12);
		else if (strncmp(line, "count ", 6) == 0)
			fake.count = (unsigned int)atoi(line + 6);
		else if (strncmp(line, "gpu ", 4) == 0)
			fake_gpu_line(line + 4);
	}
	fclose(f);
	if (fake.count > FAKE_MAX_GPUS)
		fake.count = FAKE_MAX_GPUS;
	for (int i = 0; i < FAKE_MAX_GPUS; i++)
		if (!fake.gpus[i].has_mgmt_limit)
			fake.gpus[i].mgmt_limit = fake.gpus[i].limit;
}

static int fake_init(const char *fn)
{
	fake_log(fn);
	fake_load();
	if (fake.init_error)
		return fake.init_error;
	fake.refs++;
	return RC_SUCCESS;
}

/* Common checks of a device call: initialised, our handle, not lost, no scripted failure. */
static int fake_dev(const char *fn, nvmlDevice_t d, int call)
{
	fake_log(fn);
	if (fake.refs == 0)
		return RC_UNINITIALIZED;
	if (d == NULL || d < fake.gpus || d >= fake.gpus + fake.count || d->magic != FAKE_MAGIC)
		return RC_INVALID_ARGUMENT;
	if (d->lost)
		return RC_GPU_IS_LOST;
	return d->fail[call];
}

__attribute__((unused)) static int fake_count(const char *fn, unsigned int *n)
{
	fake_log(fn);
	if (fake.refs == 0)
		return RC_UNINITIALIZED;
	if (n == NULL)
		return RC_INVALID_ARGUMENT;
	if (fake.count_error)
		return fake.count_error;
	*n = fake.count;
	return RC_SUCCESS;
}

static int fake_handle(const char *fn, unsigned int i, nvmlDevice_t *d)
{
	fake_log(fn);
	if (fake.refs == 0)
		return RC_UNINITIALIZED;
	if (i >= fake.count || d == NULL)
		return RC_INVALID_ARGUMENT;
	if (fake.gpus[i].lost)
		return RC_GPU_IS_LOST;
	if (fake.gpus[i].fail[C_HANDLE])
		return fake.gpus[i].fail[C_HANDLE];
	*d = &fake.gpus[i];
	return RC_SUCCESS;
}

static int fake_string(const char *s, char *buf, unsigned int len)
{
	if (buf == NULL)
		return RC_INVALID_ARGUMENT;
	if (strlen(s) + 1 > len)
		return RC_INSUFFICIENT_SIZE;
	memcpy(buf, s, strlen(s) + 1);
	return RC_SUCCESS;
}

/* Process query with either record layout. */
static int fake_procs(const char *fn, nvmlDevice_t d, unsigned int *count, void *infos, int v2)
{
	int rc = fake_dev(fn, d, C_PROCS);

	if (rc != RC_SUCCESS)
		return rc;
	if (count == NULL)
		return RC_INVALID_ARGUMENT;
	if (*count < d->nprocs) {
		*count = d->nprocs;
		return RC_INSUFFICIENT_SIZE;
	}
	if (infos == NULL && d->nprocs > 0)
		return RC_INVALID_ARGUMENT;
	for (unsigned int i = 0; i < d->nprocs; i++) {
		if (v2) {
			struct nvml_proc_v2 *r = (struct nvml_proc_v2 *)infos + i;

			r->pid = d->procs[i].pid;
			r->used = d->procs[i].bytes;
			r->gpu_instance_id = 0xffffffffu;
			r->compute_instance_id = 0xffffffffu;
		} else {
			struct nvml_proc_v1 *r = (struct nvml_proc_v1 *)infos + i;

			r->pid = d->procs[i].pid;
			r->used = d->procs[i].bytes;
		}
	}
	*count = d->nprocs;
	return RC_SUCCESS;
}

#ifndef FAKE_OLD
FAKE_EXPORT int nvmlInit_v2(void)
{
	return fake_init("nvmlInit_v2");
}
#ifndef FAKE_NO_COUNT
FAKE_EXPORT int nvmlDeviceGetCount_v2(unsigned int *n)
{
	return fake_count("nvmlDeviceGetCount_v2", n);
}
#endif
FAKE_EXPORT int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d)
{
	return fake_handle("nvmlDeviceGetHandleByIndex_v2", i, d);
}
FAKE_EXPORT int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count,
                                                        void *infos)
{
	return fake_procs("nvmlDeviceGetComputeRunningProcesses_v3", d, count, infos, 1);
}
FAKE_EXPORT int nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw)
{
	int rc = fake_dev("nvmlDeviceGetEnforcedPowerLimit", d, C_LIMIT);

	if (rc == RC_SUCCESS)
		*mw = d->limit;
	return rc;
}
FAKE_EXPORT int nvmlSystemGetProcessName(unsigned int pid, char *name, unsigned int len)
{
	fake_log("nvmlSystemGetProcessName");
	if (fake.refs == 0)
		return RC_UNINITIALIZED;
	for (unsigned int i = 0; i < fake.count; i++)
		for (unsigned int k = 0; k < fake.gpus[i].nprocs; k++)
			if (fake.gpus[i].procs[k].pid == pid)
				return fake_string(fake.gpus[i].procs[k].name, name, len);
	return RC_NOT_FOUND;
}
#endif

#ifndef FAKE_V1_ONLY
FAKE_EXPORT int nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int *count,
                                                        void *infos)
{
	return fake_procs("nvmlDeviceGetComputeRunningProcesses_v2", d, count, infos, 1);
}
#endif

FAKE_EXPORT int nvmlInit(void)
{
	return fake_init("nvmlInit");
}
#ifndef FAKE_NO_COUNT
FAKE_EXPORT int nvmlDeviceGetCount(unsigned int *n)
{
	return fake_count("nvmlDeviceGetCount", n);
}
#endif
FAKE_EXPORT int nvmlDeviceGetHandleByIndex(unsigned int i, nvmlDevice_t *d)
{
	return fake_handle("nvmlDeviceGetHandleByIndex", i, d);
}
FAKE_EXPORT int nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int *count,
                                                     void *infos)
{
	return fake_procs("nvmlDeviceGetComputeRunningProcesses", d, count, infos, 0);
}

FAKE_EXPORT int nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int len)
{
	int rc = fake_dev("nvmlDeviceGetName", d, C_NAME);

	return rc != RC_SUCCESS ? rc : fake_string(d->name, name, len);
}
FAKE_EXPORT int nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int len)
{
	int rc = fake_dev("nvmlDeviceGetUUID", d, C_UUID);

	return rc != RC_SUCCESS ? rc : fake_string(d->uuid, uuid, len);
}
FAKE_EXPORT int nvmlDeviceGetUtilizationRates(nvmlDevice_t d, struct nvml_utilization *u)
{
	int rc = fake_dev("nvmlDeviceGetUtilizationRates", d, C_UTIL);

	if (rc == RC_SUCCESS) {
		u->gpu = d->util;
		u->memory = d->util / 2;
	}
	return rc;
}
FAKE_EXPORT int nvmlDeviceGetMemoryInfo(nvmlDevice_t d, struct nvml_memory *m)
{
	int rc = fake_dev("nvmlDeviceGetMemoryInfo", d, C_MEM);

	if (rc == RC_SUCCESS) {
		m->total = d->mem_total;
		m->used = d->mem_used;
		m->free = d->mem_total - d->mem_used;
	}
	return rc;
}
FAKE_EXPORT int nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *t)
{
	int rc = fake_dev("nvmlDeviceGetTemperature", d, C_TEMP);

	if (rc == RC_SUCCESS && sensor != 0)
		return RC_INVALID_ARGUMENT;
	if (rc == RC_SUCCESS)
		*t = d->temp;
	return rc;
}
FAKE_EXPORT int nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw)
{
	int rc = fake_dev("nvmlDeviceGetPowerUsage", d, C_POWER);

	if (rc == RC_SUCCESS)
		*mw = d->power;
	return rc;
}
FAKE_EXPORT int nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int *mw)
{
	int rc = fake_dev("nvmlDeviceGetPowerManagementLimit", d, C_MGMT_LIMIT);

	if (rc == RC_SUCCESS)
		*mw = d->mgmt_limit;
	return rc;
}
FAKE_EXPORT const char *nvmlErrorString(int rc)
{
	switch (rc) {
	case RC_SUCCESS:
		return "Success";
	case RC_UNINITIALIZED:
		return "Uninitialized";
	case RC_INVALID_ARGUMENT:
		return "Invalid Argument";
	case RC_NOT_SUPPORTED:
		return "Not Supported";
	case RC_NO_PERMISSION:
		return "Insufficient Permissions";
	case RC_NOT_FOUND:
		return "Not Found";
	case RC_INSUFFICIENT_SIZE:
		return "Insufficient Size";
	case RC_DRIVER_NOT_LOADED:
		return "Driver Not Loaded";
	case RC_GPU_IS_LOST:
		return "GPU is lost";
	default:
		return "Unknown Error";
	}
}
FAKE_EXPORT int nvmlShutdown(void)
{
	fake_log("nvmlShutdown");
	if (fake.refs == 0)
		return RC_UNINITIALIZED;
	fake.refs--;
	return RC_SUCCESS;
}
