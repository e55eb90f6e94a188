/* ssh_internal.h: shared pieces of the `ssh` provider (providers/ssh*.c).
 *   ssh_conf.c    config keys -> struct ssh_conf (validated, with FILE:LINE:COL errors)
 *   ssh_hosts.c   per-host connection kept by the host's worker thread (lazy connect,
 *                 backoff), and the parser of a host's status sweep
 *   ssh_remote.c  the shell scripts run on the hosts, and shell quoting
 *   ssh.c         the provider operations (loop side) */
#ifndef GANTRY_PROVIDER_SSH_INTERNAL_H
#define GANTRY_PROVIDER_SSH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/kvlist.h"
#include "core/ssh.h"
#include "core/telemetry.h"
#include "providers/provider.h"

/* ---- configuration (ssh_conf.c) ---- */

struct ssh_conf_host {
	char *name;    /* unique; [A-Za-z0-9._-] */
	char *address; /* name or IP */
	int port;
	char *user;     /* or NULL: the provider's user */
	char *key;      /* or NULL: the provider's key */
	char *dir;      /* remote base directory (relative = under the remote home) */
	int gpus;       /* GPUs Gantry may hand out on this host */
	char *gpu_type; /* "H100"; NULL on a host without GPUs */
	int has_rate;
	double rate_gpu_hour; /* $/GPU-hour */
	struct kvlist labels;
};

struct ssh_conf {
	char *user;        /* or NULL: the local login name */
	char *key;         /* or NULL: agent, then ~/.ssh/id_ed25519, id_ecdsa */
	char *known_hosts; /* or NULL: ~/.ssh/known_hosts */
	char *dir;         /* default remote base directory (".gantry") */
	int connect_timeout_ms;
	int io_timeout_ms;
	int poll_ms; /* oldest status snapshot an answer may use */
	int has_rate_gpu, has_rate_cpu;
	double rate_gpu_hour, rate_cpu_hour;
	int has_jump;
	int dynamic_hosts; /* `dynamic_hosts: true`: hosts come from ssh_provider_host_add (zero
	                    * configured hosts allowed) */
	char *jump_address;
	int jump_port;
	char *jump_user;
	char *jump_key;
	struct ssh_conf_host *hosts;
	size_t nhosts;
};

/* Reads and checks settings (pos: key -> "FILE:LINE:COL", may be NULL). prov names the
 * provider instance in messages without a position. */
int ssh_conf_parse(const struct kvlist *settings, const struct kvlist *pos, const char *prov,
                   struct ssh_conf *c, char **cause);
void ssh_conf_free(struct ssh_conf *c);
/* Index of the host called name, or -1. */
int ssh_conf_host_index(const struct ssh_conf *c, const char *name, size_t len);

/* ---- one host's connection, used only on that host's worker thread (ssh_hosts.c) ---- */

#define SSH_HOSTS_BACKOFF_MAX_S 30

struct ssh_hosts_conn {
	const char *name;
	struct ssh_target target; /* strings point into the config */
	struct ssh_target jump;
	struct ssh_session *sess;
	uint64_t retry_at_ms;    /* monotonic: no connect attempt before this */
	int backoff_s;           /* 0 = not backing off */
	char reason[600];        /* why the last attempt failed */
	int64_t last_contact_ms; /* wall clock of the last successful command; 0 = never */
	int connects;            /* successful connects (for tests and benchmarks) */
	/* previous /proc/stat sample, for CPU use between sweeps */
	int have_cpu;
	unsigned long long cpu_busy, cpu_total;
};

/* Fills conn->target (and jump) for host i of c. */
void ssh_hosts_conn_init(struct ssh_hosts_conn *conn, const struct ssh_conf *c, size_t i);
/* Closes the session (on the thread that owns it, or after that thread is gone). */
void ssh_hosts_conn_close(struct ssh_hosts_conn *conn);
/* Runs cmd with stdin on the host, connecting first when needed (once more after a
 * dropped connection). While backing off after a failure it fails at once. On failure:
 * -1 with *cause "NAME unreachable: REASON (last contact N s ago)"; err (may be NULL) gets
 * the SSH error. A command that ran returns 0 whatever its exit status. */
int ssh_hosts_exec(struct ssh_hosts_conn *conn, const char *cmd, const char *in,
                   struct ssh_exec_result *r, int timeout_ms, struct ssh_error *err, char **cause);
/* GET path from port on the host's loopback through its session (connecting as
 * ssh_hosts_exec does). 0 with the answer; -1 when the host is unreachable; -2 when the host
 * answered but the port could not be reached (nothing listens, forwarding refused). */
int ssh_hosts_http(struct ssh_hosts_conn *conn, int port, const char *path,
                   struct ssh_http_result *r, int timeout_ms, char **cause);

/* What a status sweep found about one job directory. */
struct ssh_job_facts {
	char *id;
	int alive;       /* the job's process group is alive (this boot) */
	int has_pid;     /* the job was started */
	int has_wrapper; /* the wrapper was started */
	int wrapper;     /* the wrapper is alive */
	int has_exit;
	char *exit; /* "exited N" / "signal N" */
	int stop;
	int readiness; /* must pass a readiness probe */
	int ready;
	char *ready_failed;
	char *runtime_exceeded;
	char *lastlog; /* last line of job.log of an ended job (sanitised) */
	char *gpus;    /* "0,1" or "" */
	int port;
	int master_port;
	long age_s;   /* since the job directory's meta was written */
	long ended_s; /* mtime of `exit` on the worker (Unix s), 0 = unknown */
	struct kvlist meta;
};

/* Result of one host's status sweep. */
struct ssh_sweep_result {
	struct tele_host tele; /* reachable, cpus, cpu_pct, memory, gpus, procs, gpu_error */
	struct ssh_job_facts *jobs;
	size_t njobs;
};

/* Parses the status script's output (see ssh_remote.c); CPU use comes from the previous
 * sample in conn when there is one. -1 with cause on malformed output. */
int ssh_hosts_parse_sweep(struct ssh_hosts_conn *conn, const char *out,
                          struct ssh_sweep_result *res, char **cause);
void ssh_hosts_sweep_clear(struct ssh_sweep_result *res);
void ssh_hosts_facts_clear(struct ssh_job_facts *f);
void ssh_hosts_facts_copy(struct ssh_job_facts *dst, const struct ssh_job_facts *src);

/* ---- remote scripts (ssh_remote.c) ---- */

/* POSIX shell single-quoting: it's -> 'it'\''s'. Heap. */
char *ssh_remote_quote(const char *s);
/* "sh -s -- 'ARG1' 'ARG2' ..." (args NULL-terminated). Heap. */
char *ssh_remote_command(const char *arg, ...) __attribute__((sentinel));

/* Status sweep: args DIR CPU_SAMPLES(1|2). Prints @@ sections, see ssh_remote.c. */
extern const char ssh_remote_status_script[];
/* Stop: args DIR JOB_ID GRACE_S. Prints @@ok, @@ended or @@gone. */
extern const char ssh_remote_stop_script[];
/* Logs: args DIR JOB_ID OFFSET MAX SKIP KEEP. Prints "@@log SIZE ENDED START" then data,
 * or @@gone. */
extern const char ssh_remote_logs_script[];
/* Destroy: args DIR JOB_ID. Kills the job's group and wrapper, removes the directory. */
extern const char ssh_remote_destroy_script[];

struct ssh_remote_launch {
	const char *dir;
	const char *job_id;
	const char *idem_key;
	const char *name;
	const char *owner;
	const char *installation_id; /* label in meta (installation_id=); NULL: none */
	int attempt;                 /* launch attempt in meta (attempt=); 0: none */
	const char *kind;
	const char *script;
	const struct kvlist *env; /* template env */
	int gpus;                 /* to assign */
	int gpus_total;           /* the host's configured GPUs */
	int gpu_shared;
	int want_port;
	int fixed_port;
	const char *readiness_path;
	int readiness_timeout_s;
	long max_runtime_s;
	int rank, world; /* world > 1: multi-node */
	const char *master_addr;
	int master_port;   /* 0 on rank 0: pick one */
	const char *hosts; /* every host of the job, "gpu1,gpu2" */
	/* job_env.pass: NAME or PREFIX*, NULL-ended; or NULL */
	const char *const *env_pass;
};

/* The text of a job's env file (DIR/jobs/ID/env): the login's environment cut to the minimal
 * set and pass (NAME or PREFIX*), then env exported (reserved names skipped) and
 * GANTRY_JOB_ID. Heap; NULL with cause when an env name is not a shell name. (Also the
 * slurm provider's.) */
char *ssh_remote_env_text(const struct kvlist *env, const char *const *pass, const char *job_id,
                          char **cause);

/* The launch script for one host (sent on stdin of `sh -s`). It prints
 * "@@ok pid=P gpus=G port=N master_port=M", "@@nogpu FREE" or "@@err REASON". Heap;
 * NULL with cause when an env name is not a shell name. */
char *ssh_remote_launch_script(const struct ssh_remote_launch *l, char **cause);

/* ---- the provider's loop side (ssh.c, ssh_launch.c, ssh_logs.c) ----
 * Functions of providers/ssh.c carry the prefix sshp_ ("ssh provider") so that they never
 * collide with core/ssh.h. */

#define SSHP_STALE_LAUNCH    60    /* s: a job dir without a wrapper this old never launched */
#define SSH_LAUNCH_EXTRA_MS  45000 /* ms on top of io_timeout for a launch (lock wait) */
#define SSHP_HTTP_TIMEOUT_MS 5000  /* worker_http: longest wait for an answer */

struct async_queue;
struct loop;
struct provider;
struct sshp_sync;

struct sshp_host {
	struct provider *p;
	size_t idx;
	const struct ssh_conf_host *conf;
	struct ssh_hosts_conn conn; /* owned by the queue's thread */
	struct async_queue *q;      /* created on first use */
	/* worker_http requests have their own session and thread: a service that does not
	 * answer (or whose backlog is full) never delays sweeps or makes the host look down */
	struct ssh_hosts_conn hconn; /* owned by hq's thread */
	struct async_queue *hq;
	char *status_cmd1, *status_cmd2; /* sweep with one / two CPU samples (immutable) */
	/* loop side */
	int sweeping;
	int swept;           /* a sweep has finished */
	uint64_t swept_mono; /* when (monotonic ms) */
	int stale;           /* a launch/stop/destroy made the snapshot outdated */
	int ok;              /* the last sweep reached the host */
	int ever_ok;
	char *reason;                /* why it was not reached ("gpu1 unreachable: ...") */
	struct ssh_sweep_result res; /* last successful sweep */
	int64_t at_ms;               /* wall time of res */
	int64_t last_contact_ms;
	int health; /* -1 unknown, 0 down, 1 up */
	/* dynamic hosts (ssh_provider_host_add): conf is dyn_conf, owned here */
	struct ssh_conf_host *dyn_conf;
	char *dyn_known_hosts;
	int removed; /* ssh_provider_host_remove: skipped everywhere, freed at close */
};

/* Something waiting for fresh snapshots of some hosts. */
struct sshp_waiter {
	unsigned char *need;
	size_t remaining;
	size_t nneed; /* slots of need (hosts added later are not waited for) */
	void (*fn)(struct provider *p, void *ctx);
	void *ctx;
	struct sshp_waiter *next;
};

struct provider {
	char *name;
	struct loop *loop;
	struct ssh_conf conf;
	struct sshp_host **hosts; /* by index; a removed host stays (removed set) so indices
	                           * held by operations in flight keep their meaning */
	size_t nhosts;            /* slots, removed ones included */
	void (*notify)(void *arg, const char *provider, int healthy, const char *message);
	void *notify_arg;
	struct sshp_waiter *waiters;
	struct provider_logs *logs; /* open streams (ssh_logs.c) */
	int notify_waiting;         /* a sweep asked for by hosts()/offer() will notify */
	int closing;
	char *installation_id; /* list_owned lists only jobs labelled with it; NULL: all */
};

/* One command on one host. */
struct sshp_op {
	struct sshp_host *h;
	int sweep;     /* parse the output as a status sweep */
	int http_port; /* > 0: an HTTP GET of cmd (a path) from this port, not an exec */
	struct ssh_http_result hr;
	char *cmd;
	char *in;
	int timeout_ms;
	/* results, written on the worker thread */
	int exec_rc; /* ssh_hosts_exec: -1 = host unreachable */
	int rc;      /* -1: exec failed or the sweep output was not understood */
	char *cause;
	struct ssh_exec_result r;
	struct ssh_sweep_result res;
	int64_t last_contact_ms;
	/* completion on the loop */
	void (*done)(struct sshp_op *op, int cancelled);
	void *ctx;
};

/* Hosts idx has a fresh snapshot (or is gone): waiters that only needed it run. */
void sshp_waiters_host_done(struct provider *p, size_t idx);
/* providers/ssh_dyn.c: frees what a dynamic host owns (at close). */
void sshp_dyn_free(struct sshp_host *h);

/* Index of the live host called name (len bytes), or -1. */
int sshp_host_index(struct provider *p, const char *name, size_t len);
/* Live hosts (not removed). */
size_t sshp_live_hosts(struct provider *p);

/* A job id usable as a directory name. */
int sshp_id_ok(const char *s, size_t len);
/* Splits "ID@h1,h2" into the id and host indices (heap). */
int sshp_parse_ref(struct provider *p, const char *ref, char **id, size_t **hosts, size_t *n,
                   char **cause);
/* Case-insensitive: want ("h100") names have ("H100"); "any" or none matches all. */
int sshp_type_matches(const char *want, const char *have);
/* The job's facts in h's last snapshot, or NULL. */
struct ssh_job_facts *sshp_find_job(struct sshp_host *h, const char *id);
/* GPUs of h no job holds, from its last snapshot (its configured total before one). */
int sshp_free_gpus(struct sshp_host *h);
char *sshp_dupnull(const char *s);
/* A command for h; takes cmd and in (heap). */
struct sshp_op *sshp_op_new(struct sshp_host *h, char *cmd, char *in, int timeout_ms);
/* Hands op to h's thread (h's HTTP thread when op->http_port is set); op->done runs on the
 * loop, then op is freed. */
void sshp_op_submit(struct sshp_op *op);
/* Calls fn once every host in mask (one byte per host) has a fresh snapshot (at once when
 * they all do). */
void sshp_wait(struct provider *p, const unsigned char *mask,
               void (*fn)(struct provider *p, void *ctx), void *ctx);
/* A mask of the given hosts (hosts NULL: all), heap. */
unsigned char *sshp_mask(struct provider *p, const size_t *hosts, size_t n);

/* ---- launch (ssh_launch.c) ---- */

/* The provider's launch op. */
int ssh_launch_start(struct provider *p, const struct provider_job_spec *spec,
                     provider_launch_cb cb, void *arg, char **cause);

/* ---- logs (ssh_logs.c) ---- */

/* The provider's logs_open and logs_close ops. */
int ssh_logs_open(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
                  provider_log_cb cb, void *arg, struct provider_logs **out, char **cause);
void ssh_logs_close(struct provider *p, struct provider_logs *lg);
/* At close: streams waiting for an answer end when it comes; the others end now. */
void ssh_logs_close_all(struct provider *p);
/* After the host threads are gone: frees what is left. */
void ssh_logs_free_all(struct provider *p);

#endif
