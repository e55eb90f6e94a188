/* nvml.h: this host's NVIDIA GPUs through NVML, loaded with dlopen("libnvidia-ml.so.1") on
 * first use (the environment variable GANTRY_NVML_LIB names another file: tests load a fake).
 * The newest symbol versions are bound first, falling back to older ones (nvmlInit_v2 ->
 * nvmlInit, nvmlDeviceGetCount_v2 -> nvmlDeviceGetCount, nvmlDeviceGetHandleByIndex_v2 ->
 * nvmlDeviceGetHandleByIndex, nvmlDeviceGetComputeRunningProcesses_v3 -> _v2 -> plain, with the
 * process record layout each version uses).
 *
 * No library means no local GPUs, not an error (state NVML_ABSENT, "NVML not found"). A call
 * that fails leaves its field n/a (ok = 0) and keeps NVML's reason (nvmlErrorString); a GPU
 * that fell off the bus reads n/a everywhere with "GPU has fallen off the bus".
 *
 * The loader is process-wide state: call these from one thread (the event loop). */
#ifndef GANTRY_NVML_H
#define GANTRY_NVML_H

#include <stddef.h>

#include "core/telemetry.h"

enum nvml_state {
	NVML_ABSENT, /* no library: no local GPUs */
	NVML_FAILED, /* library present, but it could not be used (nvmlInit failed, ...) */
	NVML_READY,
};

/* One GPU's reading. */
struct nvml_gpu {
	struct tele_gpu gpu;
	int lost;         /* the GPU fell off the bus (NVML_ERROR_GPU_IS_LOST) */
	char reason[256]; /* why fields are n/a ("temperature: Not Supported"), "" when none */
};

/* One reading of every GPU and of the processes on them. */
struct nvml_sample {
	enum nvml_state state;
	char *error; /* heap: why there are no GPU figures ("NVML not found"), NULL when ready */
	struct nvml_gpu *gpus;
	size_t ngpus;
	struct tele_proc *procs; /* compute processes; gpu_uuid names their GPU */
	size_t nprocs;
};

/* Loads and initialises NVML when not done yet and reads every GPU. Never fails: what cannot
 * be read is n/a or explained in out->error. After a failed nvmlInit the next attempt waits
 * 30 s (nvml_reset retries at once). Free with nvml_sample_clear. */
void nvml_read(struct nvml_sample *out);
/* Frees what s owns and zeroes it. */
void nvml_sample_clear(struct nvml_sample *s);
/* The loader's state, loading on first use; *error (may be NULL) gets a static string or NULL. */
enum nvml_state nvml_status(const char **error);
/* Name of the symbol bound for a function ("nvmlInit" -> "nvmlInit_v2"); NULL when the library
 * lacks every version of it or is not loaded. */
const char *nvml_symbol(const char *base);
/* Text for an NVML return code: nvmlErrorString's when loaded, else "NVML error N". */
const char *nvml_error_text(int code);
/* Shuts NVML down and unloads the library; the next call loads it again. */
void nvml_reset(void);

#endif
