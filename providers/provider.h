/* provider.h: the interface every backend fills in (interface v2: one const struct
 * provider_ops per file, one row in provider_types[] of providers/provider.c).
 * Providers know their backend's protocol and nothing about the store or the screen; they
 * report through callbacks and the engine persists and decides.
 *
 * The async rule: every operation but `hosts` (a read of a cache) is asynchronous. An
 * operation that returns 0 calls its callback exactly once, on the loop thread; the callback
 * may run before the operation returns (local's and ssh's `offers` answer at once), so a
 * caller must be ready for that. An operation that returns -1 (with *cause) never calls its
 * callback. No operation blocks the loop thread: network and disk work that can stall runs
 * on worker threads (core/async.h) and answers on the loop. On close, operations still in
 * flight answer with rc -1 (or status -1) before close returns or from the loop later.
 *
 * Memory: what a callback receives belongs to the provider and lives only during the call,
 * except where a type says the callback may take it (offer_list_take, or moving a
 * struct provider_shell out and zeroing it). What the engine passes in (spec, template,
 * refs) is valid only during the call: a provider copies what it keeps.
 *
 * An operation a provider cannot do is NULL in the table, or returns -1 with a cause such as
 * "not supported by slurm". */
#ifndef GANTRY_PROVIDER_H
#define GANTRY_PROVIDER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cluster.h"
#include "core/job.h"
#include "core/offers.h"
#include "core/kvlist.h"
#include "core/ssh.h"
#include "core/telemetry.h"

struct loop;
struct template;
struct provider;
struct http;

/* What the engine hands a provider to configure an instance. */
struct provider_config {
	const char *name;              /* instance name ("local") */
	const char *state_dir;         /* directory the provider may own (local: job directories) */
	const char *self_exe;          /* path of the gantry binary (local: the supervisor) */
	const struct kvlist *settings; /* provider-specific settings from config.yaml, nested keys
	                                * flattened with dots, list items by index:
	                                * "hosts.0.address" */
	const struct kvlist *settings_pos; /* same keys -> "FILE:LINE:COL" of each value */
	struct loop *loop;
	/* Health or telemetry changed (a host went away or came back, a sweep finished):
	 * message is one line or NULL (telemetry only). Called on the loop thread. */
	void (*notify)(void *arg, const char *provider, int healthy, const char *message);
	void *notify_arg;
	/* The store's installation id (random, one per store): list_owned lists only resources
	 * labelled with it. NULL: list every labelled resource (test tools only). */
	const char *installation_id;
	int64_t log_max_bytes; /* local: cap of a job's job.log (config `logs: max_size:`) */
	struct http *http;     /* the instance's own HTTP handle on loop (http_new), freed by the
	                        * engine after close; for network providers */
	const char *data_dir;  /* Gantry's read-only data (catalog/ etc.) */
};

/* Everything needed to run one job. */
struct provider_job_spec {
	const char *job_id;
	const char *idem_key; /* same key on a retry: the provider must not launch twice */
	const char *name;
	const char *owner;
	enum job_kind kind;
	const char *script;       /* rendered shell text (setup, then run), params already quoted */
	const struct kvlist *env; /* extra environment (template env, rendered) */
	int want_port;            /* pick a free port and pass it as $GANTRY_PORT */
	int fixed_port;           /* nonzero: use this port instead of picking one */
	const char *readiness_path; /* endpoints/notebooks: HTTP GET path that must answer 2xx */
	int readiness_timeout_s;
	int gpus;             /* GPUs to assign per node ($GANTRY_GPUS) */
	const char *gpu_type; /* accelerator name the template asked for ("H100"), or NULL */
	int gpu_shared;       /* the template allows sharing GPUs with other jobs */
	int nodes;            /* workers (multi-node: rank, world size, master address in env) */
	long max_runtime_s;   /* seconds before the job is stopped (limits.max_runtime); 0 = none */
	/* Labels of the resource, written where it lives (local: the job directory's meta; ssh:
	 * the job directory's meta on each worker): the installation id of the store that
	 * launched it and the owner above (Unix user). */
	const char *installation_id;
	/* config.yaml's `job_env: pass:`: names (or PREFIX*) of Gantry's environment a job sees
	 * besides the minimal set; NULL-terminated, or NULL for none */
	const char *const *env_pass;
	/* v2: who pays and what was chosen (NULL/0 where unknown) */
	const char *team;
	const char *project;
	int cpus;           /* per node, from the template (0 = any) */
	int64_t memory_mib; /* per node (0 = any) */
	int replicas_min;   /* endpoints: replicas wanted (0 = 1) */
	int replicas_max;
	int attempt;               /* launch attempt, 1-based (0 = unknown) */
	const char *region;        /* the chosen offer's region ("" or NULL: none) */
	const char *instance_type; /* the chosen offer's instance type (NULL: none) */
	enum offer_market market;
	/* v2, issue 11 */
	const char *image; /* the template's container image, or NULL (provider's default) */
	double target_qps_per_replica; /* endpoints: service.target_qps_per_replica, 0 = unset */
	const char *template_name;     /* the template it came from */
};

/* Why a launch failed, so the engine can fall back (capacity: the next offer) or not. */
enum provider_error_class {
	PROVIDER_ERR_OTHER,     /* anything else (a bug, a broken worker): no fallback */
	PROVIDER_ERR_CAPACITY,  /* no capacity for that offer now: the next offer may have it */
	PROVIDER_ERR_QUOTA,     /* the account's limit: no fallback on this provider */
	PROVIDER_ERR_AUTH,      /* credentials refused */
	PROVIDER_ERR_INVALID,   /* the request was wrong (a bad region or type) */
	PROVIDER_ERR_TRANSIENT, /* 5xx, 429, timeouts after the http client's retries */
};
/* "other", "capacity", "quota", "auth", "invalid", "transient". */
const char *provider_error_class_name(enum provider_error_class c);

struct provider_launch_result {
	/* On failure (rc != 0) a provider may pass a result with only error_class set; NULL
	 * means PROVIDER_ERR_OTHER. */
	enum provider_error_class error_class;
	char *ref; /* provider's handle for the job (heap; the engine stores it) */
	int port;  /* 0 = none */
	char *url; /* heap or NULL */
	/* 1: the backend queued the job (a Slurm batch job): nothing is held or billed yet;
	 * billing starts when a refresh reports RUNNING with started_ms. */
	int queued;
};

struct provider_status {
	enum job_state
	    state; /* what exists: STARTING, RUNNING, SUCCEEDED, FAILED, STOPPED, UNKNOWN */
	int has_exit;
	int exit_code;    /* >= 0 exit status, < 0 = -signal */
	char *reason;     /* heap one-line reason or NULL */
	int64_t ended_ms; /* when it ended, as the backend recorded it (Unix ms); 0 = unknown */
	/* v2: where it serves and how much of it runs (0/NULL = unknown) */
	int port;
	char *url;          /* heap or NULL */
	int64_t started_ms; /* when the backend started it (Unix ms) */
	int ready_replicas;
	int desired_replicas;
};

/* One resource a provider holds for this installation (list_owned). */
struct provider_owned {
	char *ref;          /* the provider's handle */
	char *job_id;       /* the job id it names */
	int attempt;        /* launch attempt it came from; 0 = unknown */
	char *owner;        /* Unix user label, or NULL */
	int64_t started_ms; /* 0 = unknown */
	/* 1: it holds paid capacity now (a running cloud instance): reconcile releases (destroys)
	 * it when its job has ended. 0: a record only (a job directory with its logs). */
	int held;
};

struct offer_list; /* core/offers.h */
/* The offers of one provider for a template (interface v2): rc 0 and the list, or rc -1 and
 * a one-line cause. cb may take the offers (offer_list_take); the provider frees what is
 * left. */
typedef void (*provider_offers_cb)(void *arg, int rc, struct offer_list *offers, const char *cause);
typedef void (*provider_launch_cb)(void *arg, int rc, const struct provider_launch_result *res,
                                   const char *cause);
typedef void (*provider_status_cb)(void *arg, int rc, const struct provider_status *st,
                                   const char *cause);
typedef void (*provider_done_cb)(void *arg, int rc, const char *cause);
/* offers: the callback may take the offers (offer_list_take); the provider frees what is
 * left after it returns. */
typedef void (*provider_offers_cb)(void *arg, int rc, struct offer_list *offers, const char *cause);
/* list_owned: v[0..n) and their strings belong to the provider (copy what you keep). */
typedef void (*provider_owned_cb)(void *arg, int rc, const struct provider_owned *v, size_t n,
                                  const char *cause);
struct provider_shell;
/* target: the callback may move *sh out (copy the struct and zero it); the provider clears
 * what is left. sh is NULL when rc != 0. */
typedef void (*provider_target_cb)(void *arg, int rc, struct provider_shell *sh, const char *cause);
/* Log bytes as they arrive (raw, not sanitised: faces sanitise). len == 0 with eof set ends
 * the stream. */
/* An HTTP answer (status > 0 and the body), or status -1 and a one-line error. */
typedef void (*provider_http_cb)(void *arg, int status, const char *body, const char *error);
typedef void (*provider_log_cb)(void *arg, const char *data, size_t len, int eof);

struct provider_logs; /* an open log stream */

/* Where a shell (or a forward) for worker N of a job goes. */
struct provider_shell {
	int local;       /* 1: this host; run the user's shell in dir with env, no SSH */
	char *dir;       /* working directory (local) or the job's directory on the worker */
	char *host_name; /* worker's name ("gpu1"), or NULL for local */
	int nworkers;    /* workers the job has */
	/* SSH target: host, user, key_file, known_hosts are heap strings owned here (cast
	 * away const to free); target.jump points at jump_target or is NULL */
	struct ssh_target target;
	struct ssh_target jump_target;
	struct kvlist env; /* local: the job's environment */
};
void provider_shell_clear(struct provider_shell *s);

/* --- optional: a provider's own channel to a job's worker (issue 9, sessions) ---
 * For backends whose workers are not reached over SSH (Kubernetes exec and port-forward).
 * When a provider's channel_open is NULL, the engine opens sessions and forwards itself:
 * the user's shell on this host for a local shell_target, libssh2 to the shell_target
 * otherwise. No provider implements it yet. */
enum provider_channel_kind {
	PROVIDER_CHANNEL_SHELL,   /* an interactive shell (or io->command) on a PTY */
	PROVIDER_CHANNEL_FORWARD, /* bind_addr:local_port here -> remote_port on the worker */
};
struct provider_channel_io {
	/* SHELL: command is a shell command line run in the job's directory, or NULL for the
	 * login shell there; the provider drives the terminal in_fd/out_fd (raw mode, TERM,
	 * window size and its changes), restoring it before it reports ENDED. */
	const char *command;
	int in_fd, out_fd;
	/* FORWARD: the listener (bind_addr NULL = 127.0.0.1; local_port 0 = pick one). */
	const char *bind_addr;
	int local_port;
	int accept_new; /* record an unknown host identity where the backend has one */
	/* FORWARD (issue 12): 1 = accept only connections whose peer socket on this host
	 * belongs to owner_uid (core/peeruid.h); close any other at once */
	int owner_only;
	uid_t owner_uid;
};
enum provider_channel_state {
	PROVIDER_CHANNEL_UP,    /* FORWARD: listening and relaying (local_port set) */
	PROVIDER_CHANNEL_ENDED, /* the channel is over: exit_status or cause; no event follows */
};
struct provider_channel_event {
	enum provider_channel_state state;
	int local_port;    /* UP: the bound port */
	int exit_status;   /* ENDED, SHELL: the worker's status, -1 when none was sent */
	const char *cause; /* ENDED abnormally (could not connect, dropped): one line, or NULL */
};
typedef void (*provider_channel_cb)(void *arg, const struct provider_channel_event *ev);
struct provider_channel; /* an open channel */
/* --- end of the optional channel block --- */

struct provider_ops {
	const char *name;    /* provider type ("local"), the `type:` of config.yaml */
	const char *summary; /* one line for --help, the man page and errors */
	int local_workers;   /* 1: the jobs run on this host (no SSH, local shells) */
	int (*open)(const struct provider_config *cfg, struct provider **out, char **cause);
	void (*close)(struct provider *p);
	/* Every way the template could run here, each with its price (through the catalog or a
	 * site rate) and, when it cannot take the template at all, `dropped` set. */
	int (*offers)(struct provider *p, const struct template *t, provider_offers_cb cb,
	              void *arg, char **cause);
	/* Optional: what a launch of the template here would do, as one offer, for providers that
	 * place a job themselves (the ssh fleet picks hosts, a multi-node job spans several):
	 * fits or why not, and the price of the placement it would choose. The plan (engine_plan,
	 * the admission gate) uses it when set; else the best offer of `offers` after ranking.
	 * Same callback rules as `offers` (a list of one). */
	int (*plan_offer)(struct provider *p, const struct template *t, provider_offers_cb cb,
	                  void *arg, char **cause);
	int (*launch)(struct provider *p, const struct provider_job_spec *spec,
	              provider_launch_cb cb, void *arg, char **cause);
	int (*refresh)(struct provider *p, const char *job_id, const char *ref,
	               provider_status_cb cb, void *arg, char **cause);
	/* Starts stopping (TERM, then KILL after grace_ms); cb when the stop was delivered. */
	int (*stop)(struct provider *p, const char *ref, int grace_ms, provider_done_cb cb,
	            void *arg, char **cause);
	/* Streams the job's log from the start (tail_bytes > 0: only the last tail_bytes);
	 * follow keeps it open until logs_close or the job ends. A followed tail
	 * (tail_bytes > 0) stays a tail: when the reader falls more than 4 x tail_bytes
	 * behind, it skips ahead and delivers a one-line notice saying how much, and it
	 * polls 5 times a second instead of waking on every write. */
	int (*logs_open)(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
	                 provider_log_cb cb, void *arg, struct provider_logs **out, char **cause);
	void (*logs_close)(struct provider *p, struct provider_logs *lg);
	/* Every resource carrying Gantry's marks and the installation id of this instance's
	 * provider_config (for reconcile). Resources of other installations, and unlabelled
	 * ones (launched by a Gantry from before labels), are never listed. A provider that
	 * cannot reach part of its backend answers rc -1 (a partial list could look like
	 * orphans or lost jobs). */
	int (*list_owned)(struct provider *p, provider_owned_cb cb, void *arg, char **cause);
	/* Kills and removes a resource nobody owns (reconcile --terminate-orphans). */
	int (*destroy)(struct provider *p, const char *ref, provider_done_cb cb, void *arg,
	               char **cause);
	/* Where worker `worker` (0-based) of the job lives (shells and forwards). */
	int (*target)(struct provider *p, const char *ref, int worker, provider_target_cb cb,
	              void *arg, char **cause);
	/* Synchronous, from cache: health and telemetry of the provider's hosts (ref NULL: all
	 * hosts; else the job's workers, GPU lists narrowed to the job's GPUs). A stale cache
	 * asks for a fresh sweep, reported later through the provider's notify callback. */
	int (*hosts)(struct provider *p, const char *ref, struct tele_host **out, size_t *n);
	/* Asynchronous: GET path (with its query) from port on the job's first worker as that
	 * worker sees it, for services that listen only on its loopback (Jupyter's
	 * /api/kernels), within about 5 s. cb runs exactly once, on the loop, also when the
	 * provider closes first (status -1). NULL: the provider's workers are this host. */
	int (*worker_http)(struct provider *p, const char *ref, int port, const char *path,
	                   provider_http_cb cb, void *arg, char **cause);
	/* Optional (NULL: the engine uses shell_target and SSH or a local shell). Opens a
	 * channel of `kind` to worker `worker` of the job: SHELL (remote_port unused) or
	 * FORWARD to remote_port on the worker's loopback. cb runs on the loop (possibly before
	 * channel_open returns): UP for a forward once it relays, then at most one ENDED. The
	 * engine runs its loop until a SHELL channel ends (the face is suspended meanwhile),
	 * and calls channel_close exactly once for every channel opened, also after ENDED and
	 * possibly from within cb; no event follows channel_close. -1 with cause when nothing
	 * was opened (no cb, no channel_close). */
	int (*channel_open)(struct provider *p, const char *ref, int worker,
	                    enum provider_channel_kind kind, int remote_port,
	                    const struct provider_channel_io *io, provider_channel_cb cb, void *arg,
	                    struct provider_channel **out, char **cause);
	/* Closes a channel (a forward's listener and connections, a shell's connection). */
	void (*channel_close)(struct provider *p, struct provider_channel *ch);
	/* Optional, synchronous, from cache (issue 10): the cluster behind the provider
	 * (partitions, nodes, GPUs allocated/total, the queue) for the Cluster view. A stale
	 * cache asks for a fresh one, reported later through notify. 0 and *out (the caller
	 * clears it with cluster_info_clear), or -1 with a cause. NULL: no cluster to show. */
	int (*cluster)(struct provider *p, struct cluster_info *out, char **cause);
};

void provider_status_clear(struct provider_status *st);
void provider_launch_result_clear(struct provider_launch_result *r);
void provider_owned_clear(struct provider_owned *o);
/* For providers with one way to run (local, ssh): answers cb at once with a one-offer list
 * made from po (region "", market on-demand, a site price or unpriced, `dropped` = po's
 * reason when it does not fit). */
void provider_offers_answer_one(const struct offer_verdict *po, const char *instance_type,
                                provider_offers_cb cb, void *arg);
/* The plan's offer (struct engine_plan) from an offer of a list (heap copies). */

/* The table of provider types (providers/provider.c): one row per type this build knows. */
extern const struct provider_ops *const provider_types[];
extern const size_t provider_ntypes;
/* The row of type name, or NULL. */
const struct provider_ops *provider_type(const char *name);
/* "ssh, lambda": the types config.yaml may name (heap); without_local leaves out types whose
 * workers are this host (the built-in instance). */
char *provider_type_names(int without_local);

extern const struct provider_ops local_provider_ops;

#endif
