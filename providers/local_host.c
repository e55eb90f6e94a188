/* local_host.c: what this host offers to the local provider: CPUs, memory and, through NVML
 * loaded with dlopen, GPUs. A host without the NVIDIA driver simply has no GPU. */
#include "providers/local.h"

#include <dlfcn.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"

#define LOCAL_HOST_NVML_NAME_LEN 96 /* NVML_DEVICE_NAME_V2_BUFFER_SIZE */

typedef int (*local_host_nvml_init_fn)(void);
typedef int (*local_host_nvml_count_fn)(unsigned int *);
typedef int (*local_host_nvml_handle_fn)(unsigned int, void **);
typedef int (*local_host_nvml_name_fn)(void *, char *, unsigned int);
typedef int (*local_host_nvml_shutdown_fn)(void);

/* CPUs this process may run on (the affinity mask), else the online CPUs. */
static int local_host_cpus(void)
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

/* GPU count and the name of GPU 0 through NVML; no library or no driver = no GPU. */
static void local_host_nvml(struct local_host *h)
{
	void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	local_host_nvml_init_fn init;
	local_host_nvml_count_fn count;
	local_host_nvml_handle_fn handle;
	local_host_nvml_name_fn name;
	local_host_nvml_shutdown_fn shutdown;
	unsigned int n = 0;
	void *dev = NULL;
	char buf[LOCAL_HOST_NVML_NAME_LEN];

	if (lib == NULL)
		return;
	*(void **)&init = dlsym(lib, "nvmlInit_v2");
	*(void **)&count = dlsym(lib, "nvmlDeviceGetCount_v2");
	*(void **)&handle = dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
	*(void **)&name = dlsym(lib, "nvmlDeviceGetName");
	*(void **)&shutdown = dlsym(lib, "nvmlShutdown");
	if (init == NULL || count == NULL || handle == NULL || name == NULL || shutdown == NULL)
		goto out;
	if (init() != 0)
		goto out;
	if (count(&n) == 0 && n > 0) {
		h->gpus = (int)n;
		memset(buf, 0, sizeof buf);
		if (handle(0, &dev) == 0 && name(dev, buf, sizeof buf) == 0 && buf[0] != '\0')
			h->gpu_name = xstrndup(buf, sizeof buf - 1);
	}
	shutdown();
out:
	dlclose(lib);
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
