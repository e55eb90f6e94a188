/* nvml.c: NVML through dlopen (see nvml.h). The types below are this file's own minimal
 * declarations of what NVML's API reference documents (no nvml.h is needed to build):
 * nvmlReturn_t is an int-sized enum, devices are opaque handles, and the process records come
 * in two layouts: { pid, usedGpuMemory } for the unversioned call and { pid, usedGpuMemory,
 * gpuInstanceId, computeInstanceId } for _v2 and _v3. */
#include "core/nvml.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xmalloc.h"

#define NVML_LIB_DEFAULT "libnvidia-ml.so.1"
#define NVML_LIB_ENV     "GANTRY_NVML_LIB"

/* Return codes used here (nvmlReturn_t). */
#define NVML_RC_SUCCESS           0
#define NVML_RC_INSUFFICIENT_SIZE 7
#define NVML_RC_GPU_IS_LOST       15

#define NVML_TEMPERATURE_GPU     0  /* nvmlTemperatureSensors_t */
#define NVML_NAME_BUFSZ          96 /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */
#define NVML_UUID_BUFSZ          96 /* NVML_DEVICE_UUID_V2_BUFFER_SIZE */
#define NVML_VALUE_NOT_AVAILABLE ULLONG_MAX
#define NVML_MAX_GPUS            256 /* more than any host has; guards a bogus count */
#define NVML_RETRY_MS            30000

typedef struct nvml_device_st *nvml_device;

struct nvml_utilization {
	unsigned int gpu;    /* percent */
	unsigned int memory; /* percent */
};

struct nvml_memory {
	unsigned long long total; /* bytes */
	unsigned long long free;
	unsigned long long used;
};

struct nvml_proc_v1 {
	unsigned int pid;
	unsigned long long used_gpu_memory; /* bytes */
};

struct nvml_proc_v2 {
	unsigned int pid;
	unsigned long long used_gpu_memory; /* bytes */
	unsigned int gpu_instance_id;
	unsigned int compute_instance_id;
};

typedef int (*nvml_void_fn)(void);
typedef int (*nvml_count_fn)(unsigned int *);
typedef int (*nvml_handle_fn)(unsigned int, nvml_device *);
typedef int (*nvml_str_fn)(nvml_device, char *, unsigned int);
typedef int (*nvml_util_fn)(nvml_device, struct nvml_utilization *);
typedef int (*nvml_mem_fn)(nvml_device, struct nvml_memory *);
typedef int (*nvml_temp_fn)(nvml_device, int, unsigned int *);
typedef int (*nvml_uint_fn)(nvml_device, unsigned int *);
typedef int (*nvml_procs_fn)(nvml_device, unsigned int *, void *);
typedef int (*nvml_procname_fn)(unsigned int, char *, unsigned int);
typedef const char *(*nvml_errstr_fn)(int);

enum nvml_fn {
	NVML_F_INIT,
	NVML_F_COUNT,
	NVML_F_HANDLE,
	NVML_F_NAME,
	NVML_F_UUID,
	NVML_F_UTIL,
	NVML_F_MEM,
	NVML_F_TEMP,
	NVML_F_POWER,
	NVML_F_LIMIT,
	NVML_F_MGMT_LIMIT,
	NVML_F_PROCS,
	NVML_F_PROCNAME,
	NVML_F_ERRSTR,
	NVML_F_SHUTDOWN,
	NVML_F_COUNT_OF
};

/* Each function with its versions, newest first. */
struct nvml_binding {
	const char *base;
	const char *names[3];
	int required;
};

static const struct nvml_binding nvml_bindings[NVML_F_COUNT_OF] = {
    [NVML_F_INIT] = {"nvmlInit", {"nvmlInit_v2", "nvmlInit"}, 1},
    [NVML_F_COUNT] = {"nvmlDeviceGetCount", {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}, 1},
    [NVML_F_HANDLE] = {"nvmlDeviceGetHandleByIndex",
                       {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"},
                       1},
    [NVML_F_NAME] = {"nvmlDeviceGetName", {"nvmlDeviceGetName"}, 0},
    [NVML_F_UUID] = {"nvmlDeviceGetUUID", {"nvmlDeviceGetUUID"}, 0},
    [NVML_F_UTIL] = {"nvmlDeviceGetUtilizationRates", {"nvmlDeviceGetUtilizationRates"}, 0},
    [NVML_F_MEM] = {"nvmlDeviceGetMemoryInfo", {"nvmlDeviceGetMemoryInfo"}, 0},
    [NVML_F_TEMP] = {"nvmlDeviceGetTemperature", {"nvmlDeviceGetTemperature"}, 0},
    [NVML_F_POWER] = {"nvmlDeviceGetPowerUsage", {"nvmlDeviceGetPowerUsage"}, 0},
    [NVML_F_LIMIT] = {"nvmlDeviceGetEnforcedPowerLimit", {"nvmlDeviceGetEnforcedPowerLimit"}, 0},
    [NVML_F_MGMT_LIMIT] = {"nvmlDeviceGetPowerManagementLimit",
                           {"nvmlDeviceGetPowerManagementLimit"},
                           0},
    [NVML_F_PROCS] = {"nvmlDeviceGetComputeRunningProcesses",
                      {"nvmlDeviceGetComputeRunningProcesses_v3",
                       "nvmlDeviceGetComputeRunningProcesses_v2",
                       "nvmlDeviceGetComputeRunningProcesses"},
                      0},
    [NVML_F_PROCNAME] = {"nvmlSystemGetProcessName", {"nvmlSystemGetProcessName"}, 0},
    [NVML_F_ERRSTR] = {"nvmlErrorString", {"nvmlErrorString"}, 0},
    [NVML_F_SHUTDOWN] = {"nvmlShutdown", {"nvmlShutdown"}, 0},
};

static struct {
	void *lib;
	enum nvml_state state;
	int tried;
	int inited;
	int64_t next_try_ms; /* CLOCK_MONOTONIC */
	char error[256];
	void *sym[NVML_F_COUNT_OF];
	int version[NVML_F_COUNT_OF]; /* index into names of the bound symbol, -1 = none */
} nvml_st;

static int64_t nvml_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *nvml_error_text(int code)
{
	static char buf[32];
	const char *s = NULL;

	if (nvml_st.lib != NULL && nvml_st.sym[NVML_F_ERRSTR] != NULL)
		s = ((nvml_errstr_fn)nvml_st.sym[NVML_F_ERRSTR])(code);
	if (s != NULL && s[0] != '\0')
		return s;
	snprintf(buf, sizeof buf, "NVML error %d", code);
	return buf;
}

/* Binds every function to its newest version present; 0, or -1 when a required one lacks. */
static int nvml_bind(const char *path)
{
	for (int f = 0; f < NVML_F_COUNT_OF; f++) {
		const struct nvml_binding *b = &nvml_bindings[f];

		nvml_st.sym[f] = NULL;
		nvml_st.version[f] = -1;
		for (int v = 0; v < 3 && b->names[v] != NULL; v++) {
			void *s = dlsym(nvml_st.lib, b->names[v]);

			if (s != NULL) {
				nvml_st.sym[f] = s;
				nvml_st.version[f] = v;
				break;
			}
		}
		if (nvml_st.sym[f] == NULL && b->required) {
			snprintf(nvml_st.error, sizeof nvml_st.error, "%s has no %s", path,
			         b->base);
			return -1;
		}
	}
	return 0;
}

static void nvml_unload(void)
{
	if (nvml_st.lib != NULL)
		dlclose(nvml_st.lib);
	nvml_st.lib = NULL;
	memset(nvml_st.sym, 0, sizeof nvml_st.sym);
	for (int f = 0; f < NVML_F_COUNT_OF; f++)
		nvml_st.version[f] = -1;
}

/* Loads and initialises the library unless it is ready or the last try was too recent. */
static void nvml_ensure(void)
{
	const char *path = getenv(NVML_LIB_ENV);
	int64_t now = nvml_now_ms();
	int rc;

	if (nvml_st.state == NVML_READY || (nvml_st.tried && now < nvml_st.next_try_ms))
		return;
	nvml_st.tried = 1;
	nvml_st.next_try_ms = now + NVML_RETRY_MS;
	if (path == NULL || path[0] == '\0')
		path = NVML_LIB_DEFAULT;
	if (nvml_st.lib == NULL) {
		nvml_st.lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (nvml_st.lib == NULL) {
			nvml_st.state = NVML_ABSENT;
			snprintf(nvml_st.error, sizeof nvml_st.error, "NVML not found");
			return;
		}
		if (nvml_bind(path) < 0) {
			nvml_unload();
			nvml_st.state = NVML_FAILED;
			return;
		}
	}
	rc = ((nvml_void_fn)nvml_st.sym[NVML_F_INIT])();
	if (rc != NVML_RC_SUCCESS) {
		nvml_st.state = NVML_FAILED;
		snprintf(nvml_st.error, sizeof nvml_st.error, "%s: %s",
		         nvml_bindings[NVML_F_INIT].names[nvml_st.version[NVML_F_INIT]],
		         nvml_error_text(rc));
		return;
	}
	nvml_st.inited = 1;
	nvml_st.state = NVML_READY;
	nvml_st.error[0] = '\0';
}

enum nvml_state nvml_status(const char **error)
{
	nvml_ensure();
	if (error != NULL)
		*error = nvml_st.state == NVML_READY ? NULL : nvml_st.error;
	return nvml_st.state;
}

const char *nvml_symbol(const char *base)
{
	for (int f = 0; f < NVML_F_COUNT_OF; f++)
		if (strcmp(nvml_bindings[f].base, base) == 0)
			return nvml_st.lib != NULL && nvml_st.version[f] >= 0
			           ? nvml_bindings[f].names[nvml_st.version[f]]
			           : NULL;
	return NULL;
}

void nvml_reset(void)
{
	if (nvml_st.inited && nvml_st.sym[NVML_F_SHUTDOWN] != NULL)
		((nvml_void_fn)nvml_st.sym[NVML_F_SHUTDOWN])();
	nvml_unload();
	memset(&nvml_st, 0, sizeof nvml_st);
	for (int f = 0; f < NVML_F_COUNT_OF; f++)
		nvml_st.version[f] = -1;
}

/* Appends "what: text" to the GPU's reason (", "-separated, cut to fit). */
static void nvml_note(struct nvml_gpu *g, const char *what, const char *text)
{
	size_t len = strlen(g->reason);

	if (len + 1 >= sizeof g->reason)
		return;
	snprintf(g->reason + len, sizeof g->reason - len, "%s%s: %s", len > 0 ? "; " : "", what,
	         text);
}

/* 1 when rc is success; else notes why (a lost GPU replaces every other reason) and returns 0. */
static int nvml_ok(struct nvml_gpu *g, const char *what, int rc)
{
	if (rc == NVML_RC_SUCCESS)
		return 1;
	if (rc == NVML_RC_GPU_IS_LOST) {
		if (!g->lost)
			snprintf(g->reason, sizeof g->reason, "GPU has fallen off the bus (%s)",
			         nvml_error_text(rc));
		g->lost = 1;
		return 0;
	}
	if (!g->lost)
		nvml_note(g, what, nvml_error_text(rc));
	return 0;
}

static void nvml_set(struct tele_val *v, double x)
{
	v->v = x;
	v->ok = 1;
}

/* Copies a NUL-terminated string from NVML's buffer (made safe) into dst, cut to fit at a
 * character boundary. */
static void nvml_copy(char *dst, size_t size, char *src, size_t srcsize)
{
	size_t n;

	src[srcsize - 1] = '\0';
	n = strlen(src);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Process name: NVML's when it has one, else /proc/PID/comm, else "". */
static void nvml_proc_name(unsigned int pid, char *out, size_t size)
{
	char buf[256], path[64];
	FILE *f;

	out[0] = '\0';
	if (nvml_st.sym[NVML_F_PROCNAME] != NULL) {
		memset(buf, 0, sizeof buf);
		if (((nvml_procname_fn)nvml_st.sym[NVML_F_PROCNAME])(pid, buf, sizeof buf) ==
		        NVML_RC_SUCCESS &&
		    buf[0] != '\0') {
			nvml_copy(out, size, buf, sizeof buf);
			return;
		}
	}
	snprintf(path, sizeof path, "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return;
	if (fgets(buf, sizeof buf, f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		nvml_copy(out, size, buf, sizeof buf);
	}
	fclose(f);
}

/* Appends the compute processes of one GPU to out. */
static void nvml_read_procs(struct nvml_gpu *g, nvml_device dev, struct nvml_sample *out,
                            size_t *cap)
{
	nvml_procs_fn fn = (nvml_procs_fn)nvml_st.sym[NVML_F_PROCS];
	int v1 = nvml_st.version[NVML_F_PROCS] == 2;
	size_t recsz = v1 ? sizeof(struct nvml_proc_v1) : sizeof(struct nvml_proc_v2);
	unsigned int want = 32, got = 0;
	unsigned char *buf = NULL;
	int rc = NVML_RC_INSUFFICIENT_SIZE;

	for (int tries = 0; tries < 4 && rc == NVML_RC_INSUFFICIENT_SIZE; tries++) {
		free(buf);
		buf = xcalloc(want, recsz);
		got = want;
		rc = fn(dev, &got, buf);
		if (rc == NVML_RC_INSUFFICIENT_SIZE)
			want = got > want ? got + 8 : want * 2;
	}
	if (!nvml_ok(g, "processes", rc) || got > want) {
		free(buf);
		return;
	}
	for (unsigned int i = 0; i < got; i++) {
		struct tele_proc *p;
		unsigned long long used;
		unsigned int pid;

		if (v1) {
			struct nvml_proc_v1 r;

			memcpy(&r, buf + i * recsz, sizeof r);
			pid = r.pid;
			used = r.used_gpu_memory;
		} else {
			struct nvml_proc_v2 r;

			memcpy(&r, buf + i * recsz, sizeof r);
			pid = r.pid;
			used = r.used_gpu_memory;
		}
		if (out->nprocs == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			out->procs = xreallocarray(out->procs, *cap, sizeof *out->procs);
		}
		p = &out->procs[out->nprocs++];
		memset(p, 0, sizeof *p);
		p->pid = (long)pid;
		nvml_proc_name(pid, p->name, sizeof p->name);
		snprintf(p->gpu_uuid, sizeof p->gpu_uuid, "%s", g->gpu.uuid);
		if (used != NVML_VALUE_NOT_AVAILABLE)
			nvml_set(&p->mem_mib, (double)used / (1024.0 * 1024.0));
	}
	free(buf);
}

/* Power limit: the enforced one, else the management limit. */
static void nvml_read_limit(struct nvml_gpu *g, nvml_device dev)
{
	unsigned int mw = 0;
	int rc = -1;

	if (nvml_st.sym[NVML_F_LIMIT] != NULL) {
		rc = ((nvml_uint_fn)nvml_st.sym[NVML_F_LIMIT])(dev, &mw);
		if (rc == NVML_RC_SUCCESS) {
			nvml_set(&g->gpu.power_limit_w, mw / 1000.0);
			return;
		}
		if (rc == NVML_RC_GPU_IS_LOST || nvml_st.sym[NVML_F_MGMT_LIMIT] == NULL) {
			nvml_ok(g, "power limit", rc);
			return;
		}
	}
	if (nvml_st.sym[NVML_F_MGMT_LIMIT] == NULL)
		return;
	rc = ((nvml_uint_fn)nvml_st.sym[NVML_F_MGMT_LIMIT])(dev, &mw);
	if (nvml_ok(g, "power limit", rc))
		nvml_set(&g->gpu.power_limit_w, mw / 1000.0);
}

static void nvml_read_gpu(unsigned int i, struct nvml_gpu *g, struct nvml_sample *out,
                          size_t *proc_cap)
{
	nvml_device dev = NULL;
	char buf[NVML_NAME_BUFSZ > NVML_UUID_BUFSZ ? NVML_NAME_BUFSZ : NVML_UUID_BUFSZ];
	struct nvml_utilization u;
	struct nvml_memory m;
	unsigned int x;

	g->gpu.index = (int)i;
	if (!nvml_ok(g, "handle", ((nvml_handle_fn)nvml_st.sym[NVML_F_HANDLE])(i, &dev)))
		return;
	if (nvml_st.sym[NVML_F_NAME] != NULL) {
		memset(buf, 0, sizeof buf);
		if (nvml_ok(g, "name",
		            ((nvml_str_fn)nvml_st.sym[NVML_F_NAME])(dev, buf, NVML_NAME_BUFSZ)))
			nvml_copy(g->gpu.name, sizeof g->gpu.name, buf, sizeof buf);
	}
	if (!g->lost && nvml_st.sym[NVML_F_UUID] != NULL) {
		memset(buf, 0, sizeof buf);
		if (nvml_ok(g, "uuid",
		            ((nvml_str_fn)nvml_st.sym[NVML_F_UUID])(dev, buf, NVML_UUID_BUFSZ)))
			nvml_copy(g->gpu.uuid, sizeof g->gpu.uuid, buf, sizeof buf);
	}
	if (!g->lost && nvml_st.sym[NVML_F_UTIL] != NULL &&
	    nvml_ok(g, "utilization", ((nvml_util_fn)nvml_st.sym[NVML_F_UTIL])(dev, &u)))
		nvml_set(&g->gpu.util_pct, u.gpu);
	if (!g->lost && nvml_st.sym[NVML_F_MEM] != NULL &&
	    nvml_ok(g, "memory", ((nvml_mem_fn)nvml_st.sym[NVML_F_MEM])(dev, &m))) {
		nvml_set(&g->gpu.mem_used_mib, (double)m.used / (1024.0 * 1024.0));
		nvml_set(&g->gpu.mem_total_mib, (double)m.total / (1024.0 * 1024.0));
	}
	if (!g->lost && nvml_st.sym[NVML_F_TEMP] != NULL &&
	    nvml_ok(g, "temperature",
	            ((nvml_temp_fn)nvml_st.sym[NVML_F_TEMP])(dev, NVML_TEMPERATURE_GPU, &x)))
		nvml_set(&g->gpu.temp_c, x);
	if (!g->lost && nvml_st.sym[NVML_F_POWER] != NULL &&
	    nvml_ok(g, "power", ((nvml_uint_fn)nvml_st.sym[NVML_F_POWER])(dev, &x)))
		nvml_set(&g->gpu.power_w, x / 1000.0);
	if (!g->lost)
		nvml_read_limit(g, dev);
	if (!g->lost && nvml_st.sym[NVML_F_PROCS] != NULL)
		nvml_read_procs(g, dev, out, proc_cap);
	if (g->lost) {
		/* Whatever was read before the GPU went away is not to be trusted. */
		memset(&g->gpu.util_pct, 0, sizeof g->gpu - offsetof(struct tele_gpu, util_pct));
	}
}

void nvml_read(struct nvml_sample *out)
{
	unsigned int n = 0;
	size_t proc_cap = 0;
	int rc;

	memset(out, 0, sizeof *out);
	nvml_ensure();
	out->state = nvml_st.state;
	if (nvml_st.state != NVML_READY) {
		out->error = xstrdup(nvml_st.error);
		return;
	}
	rc = ((nvml_count_fn)nvml_st.sym[NVML_F_COUNT])(&n);
	if (rc != NVML_RC_SUCCESS) {
		out->state = NVML_FAILED;
		out->error = xprintf(
		    "%s: %s", nvml_bindings[NVML_F_COUNT].names[nvml_st.version[NVML_F_COUNT]],
		    nvml_error_text(rc));
		return;
	}
	if (n > NVML_MAX_GPUS)
		n = NVML_MAX_GPUS;
	if (n == 0)
		return;
	out->gpus = xcalloc(n, sizeof *out->gpus);
	out->ngpus = n;
	for (unsigned int i = 0; i < n; i++)
		nvml_read_gpu(i, &out->gpus[i], out, &proc_cap);
}

void nvml_sample_clear(struct nvml_sample *s)
{
	if (s == NULL)
		return;
	free(s->error);
	free(s->gpus);
	free(s->procs);
	memset(s, 0, sizeof *s);
}
