/* local.h: the `local` provider runs jobs as processes on this host, each under a small
 * supervisor process so that it survives Gantry exiting or crashing.
 *
 * Each job owns a directory <state_dir>/<job_id>/ (the job's ref) holding:
 *   meta            who owns it: job_id=, idem_key=, name=, owner=, kind= lines
 *   run.sh          the job's script (0700), run by /bin/sh in work/
 *   work/           the job's working directory
 *   port            the port handed to the job as $GANTRY_PORT (when it wants one)
 *   readiness       "URL\nTIMEOUT_S\n" when the job must answer an HTTP probe before RUNNING
 *   lock            flock()ed by the launcher, then for its whole life by the supervisor
 *   supervisor.pid  "PID STARTTIME" of the supervisor (STARTTIME: /proc/PID/stat field 22)
 *   pid             "PID STARTTIME" of the job (also its process group and session id)
 *   job.log         the job's stdout and stderr, appended in order
 *   supervisor.log  the supervisor's own diagnostics
 *   ready           written once the readiness probe answered 2xx (Unix ms)
 *   ready_failed    one-line reason when the probe never answered in time
 *   stop            the stop grace in ms, written when a stop was asked
 *   exit            "exited N" or "signal N", written once the job and its group are gone
 * Every file is written atomically (temp file, fsync, rename). */
#ifndef GANTRY_LOCAL_H
#define GANTRY_LOCAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* `gantry __supervise DIR`: the supervisor of one job. argv[argc - 1] is the job directory
 * (so both main's argv and an argv starting at "__supervise" work). Returns the exit status
 * for main: 0 once the job ended and `exit` was written, 1 on a setup error. */
int local_supervise_main(int argc, char **argv);

/* Environment the launcher hands the supervisor (removed before the job runs). */
#define LOCAL_ENV_READY_URL     "GANTRY_SUPERVISE_READY_URL"
#define LOCAL_ENV_READY_TIMEOUT "GANTRY_SUPERVISE_READY_TIMEOUT" /* seconds */
#define LOCAL_ENV_MAX_RUNTIME   "GANTRY_SUPERVISE_MAX_RUNTIME"   /* seconds */
#define LOCAL_ENV_LOCK_FD       "GANTRY_SUPERVISE_LOCK_FD"

/* Grace before SIGKILL when the readiness probe fails or the job left processes behind. */
#define LOCAL_DEFAULT_GRACE_MS 10000

/* Shared helpers of the local provider (providers/local.c). */

/* Writes len bytes to dir/name atomically (temp, fsync, rename) with mode. */
int local_write_file(const char *dir, const char *name, const char *data, size_t len, mode_t mode,
                     char **cause);
/* Reads dir/name (at most 64 KiB) into a heap NUL-terminated string; NULL if absent. */
char *local_read_file(const char *dir, const char *name);
/* 1 if dir/name exists. */
int local_file_exists(const char *dir, const char *name);
/* Start time of pid in clock ticks since boot (/proc/PID/stat field 22); -1 when the
 * process does not exist or is a zombie. */
long long local_proc_starttime(pid_t pid);
/* Reads a "PID STARTTIME" file; returns the pid when that process is alive with the same
 * start time and is this job's (its leader, or for supervisor.pid its supervisor), 0 when it
 * is gone (or another process), -1 when the file is absent or malformed. *pid_out (may be
 * NULL) gets the recorded pid whenever the file parsed. */
pid_t local_pidfile_alive(const char *dir, const char *name, pid_t *pid_out);
/* Writes "PID STARTTIME\n" for pid to dir/name. */
int local_pidfile_write(const char *dir, const char *name, pid_t pid, char **cause);

/* What this host offers (providers/local_host.c). */
struct local_host {
	int cpus;           /* usable CPUs (affinity mask) */
	int64_t memory_mib; /* MemTotal */
	int gpus;           /* NVML device count, 0 without NVML */
	char *gpu_name;     /* name of GPU 0 (heap) or NULL */
};

/* Probes CPUs, memory and (through a dlopen()ed NVML) GPUs. Never fails: what cannot be
 * read is 0. */
void local_host_probe(struct local_host *h);
/* CPUs this process may run on (the affinity mask), else the online CPUs. */
int local_host_cpus(void);
void local_host_clear(struct local_host *h);

/* The `hosts` operation (providers/local_tele.c): one host, "local" at "localhost", with CPU %
 * (between two calls; n/a on the first), memory and the GPUs NVML sees (none and gpu_error
 * "NVML not found" without NVML). A job's ref gets the same host. Always 0; *out is a heap
 * array of *n hosts (tele_hosts_free). */
struct provider;
struct tele_host;
int local_hosts(struct provider *p, const char *ref, struct tele_host **out, size_t *n);

#endif
