/* nvsmi.h: parser for `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` and
 * `--query-compute-apps=...` output (fields separated by ", ", one line per GPU or
 * process). `[N/A]`, `N/A`, `[Not Supported]`, `[Not Found]`, `[Unknown Error]` (any
 * bracketed notice) and empty fields are invalid values, not numbers; as text fields (names,
 * UUIDs) they give "". The field order is the one in the query strings
 * below; callers run exactly these. */
#ifndef GANTRY_NVSMI_H
#define GANTRY_NVSMI_H

#include <stddef.h>

#include "core/telemetry.h"

#define NVSMI_GPU_FIELDS                                                                           \
	"index,name,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,"     \
	"power.limit"
#define NVSMI_APP_FIELDS "pid,process_name,gpu_uuid,used_gpu_memory"
#define NVSMI_GPU_CMD    "nvidia-smi --query-gpu=" NVSMI_GPU_FIELDS " --format=csv,noheader,nounits"
#define NVSMI_APP_CMD                                                                              \
	"nvidia-smi --query-compute-apps=" NVSMI_APP_FIELDS " --format=csv,noheader,nounits"

/* One field: a number, or invalid for the not-available spellings. -1 for anything else
 * (garbage is an error, not n/a). */
int nvsmi_value(const char *field, struct tele_val *out);
/* Parses every line; a malformed line fails with "line N: reason" (nothing is returned). */
int nvsmi_parse_gpus(const char *text, struct tele_gpu **out, size_t *n, char **cause);
int nvsmi_parse_apps(const char *text, struct tele_proc **out, size_t *n, char **cause);

#endif
