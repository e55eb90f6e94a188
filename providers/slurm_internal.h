/* slurm_internal.h: shared pieces of the `slurm` provider (providers/slurm*.c).
 *   slurm_conf.c    settings (flattened config.yaml keys), FILE:LINE:COL errors
 *   slurm_token.c   the JWT: token_file / token_env (core/cred.h) at open, token_command run
 *                   on a worker thread
 *   slurm.c         requests (both X-SLURM headers), health, the version check (first
 *                   request: GET ping), the shared GET /jobs snapshot, the nodes/partitions
 *                   cache, offers, cluster, hosts, list_owned, stop, destroy, open/close
 *   slurm_launch.c  launch: adopt a labelled job, else the job directory over SSH on the
 *                   login node, then POST job/submit
 *   slurm_run.c     refresh, logs (the inner ssh provider's log reader on the login node),
 *                   target and worker_http (compute node through the login node), the login
 *                   node's exec queue */
#ifndef GANTRY_SLURM_INTERNAL_H
#define GANTRY_SLURM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/kvlist.h"
#include "providers/provider.h"
#include "providers/waiters.h"
#include "providers/slurm_api.h"
#include "core/ssh.h"

struct async_queue;
struct http;
struct loop;
struct loop_timer;

/* ---- settings (slurm_conf.c) ---- */

struct slurm_conf {
	char *url;         /* base URL without a trailing '/' */
	char *api_version; /* "v0.0.38" (checked against slurm_api_version at the first request) */
	char *user;        /* X-SLURM-USER-NAME */
	char *token_setting; /* "token_file", "token_env" or "token_command": the one given */
	char *token_command; /* run through /bin/sh on a worker thread */
	char *partition, *account, *qos; /* NULL = the cluster's defaults */
	char *login;                     /* login node address */
	char *ssh_user;                  /* NULL = the local login name */
	int ssh_port;                    /* 22 */
	char *ssh_key, *known_hosts;     /* NULL = defaults */
	int node_ssh_port;               /* 22 */
	char *dir;                       /* ".gantry-slurm" (relative = under the login home) */
	struct catalog_site_gpu_rate *gpu_rates; /* rate_gpu_hour as "*", rates.TYPE */
	size_t ngpu_rates;
	int has_cpu_rate;
	double rate_cpu_hour;
	int poll_ms;          /* 2000 */
	int offers_refresh_s; /* 30 */
	int requeue;          /* 1 */
};

int slurm_conf_parse(const struct kvlist *settings, const struct kvlist *pos, const char *prov,
                     struct slurm_conf *c, char **cause);
void slurm_conf_free(struct slurm_conf *c);

/* ---- provider state ---- */

/* Something waiting for the version check, the snapshot or the cache. */
/* (struct waiter, providers/waiters.h) */

struct slurm_req;
struct slurm_launch;
struct slurm_lexec;
struct slurm_token_run;
struct slurm_stopper;

/* A job's port file, read once it runs (notebooks, endpoints). */
struct slurm_port {
	int64_t id;
	int port; /* 0 = not read yet */
	int reading;
	uint64_t tried_mono;
	struct slurm_port *next;
};

struct provider {
	char *name;
	struct loop *loop;
	struct http *http;
	int own_http;
	struct slurm_conf conf;
	const struct slurm_api_version *ver; /* NULL: api_version unknown to this client */
	char *state_dir;
	char *installation_id;
	char *data_dir;
	int64_t log_max_bytes;
	void (*notify)(void *arg, const char *provider, int healthy, const char *message);
	void *notify_arg;
	/* the token (secret) and the headers made of it */
	char *token;
	char *hdr_user, *hdr_token;
	int token_busy;                 /* token_command running */
	struct kvlist tok_set, tok_pos; /* token_file / token_env and its position */
	struct slurm_token_run *token_run;
	struct async_queue *tq;
	/* health */
	int checked;    /* GET ping answered with the configured version */
	int checking;   /* ... in flight */
	char *fatal;    /* the version is unknown or not served: every request fails */
	int fatal_told; /* ... and notify said so */
	struct waiter *ready_waiters;
	int healthy;         /* -1 unknown, 0 down or refused, 1 answered */
	int down_notified;   /* the down message was sent */
	int64_t last_ok_ms;  /* wall clock of the last answer; 0 = never */
	char *down_reason;   /* "slurmrestd at URL: ERROR (last success HH:MM:SS)" */
	uint64_t auth_until; /* monotonic ms: no request before (token refused) */
	int token_reran;     /* token_command re-run after a refusal */
	char *auth_reason;   /* "hpc: token refused (invalid or expired)" */
	/* the GET /jobs snapshot */
	struct slurm_job *jobs;
	size_t njobs;
	int have_jobs;
	uint64_t jobs_mono; /* when fetched (or failed) */
	int jobs_stale;     /* a submit or cancel since */
	int jobs_busy;
	char *jobs_err; /* the last fetch failed: why (one line), else NULL */
	struct waiter *jobs_waiters;
	int jobs_gets;     /* GET /jobs sent (tests, benchmarks) */
	int cluster_asked; /* the cluster op was used: a new snapshot is news */
	/* the nodes/partitions cache */
	struct slurm_node *nodes;
	size_t nnodes;
	struct slurm_partition *parts;
	size_t nparts;
	int cache_ok;
	int cache_busy; /* answers still to come (0..2) */
	int cache_fail;
	char *cache_err;
	uint64_t cache_mono;
	int64_t cache_at_ms;
	struct slurm_node *new_nodes;
	size_t new_nnodes;
	struct slurm_partition *new_parts;
	size_t new_nparts;
	struct waiter *cache_waiters;
	struct loop_timer *cache_timer;
	/* the login node: exec queue and the inner ssh provider (logs) */
	struct async_queue *lq;
	struct slurm_conn *lconn; /* owned by lq's thread */
	struct async_queue *hq;   /* worker_http: compute nodes through the login node */
	struct slurm_conn *hconn; /* owned by hq's thread */
	char *hconn_host;         /* the node it reaches (hq's thread) */
	struct provider *ssh;     /* ssh provider with one host, "login" */
	char *abs_dir;            /* DIR's absolute path on the login node, once known */
	struct slurm_port *ports;
	struct slurm_req *reqs;
	struct slurm_launch *launches;
	/* launches waiting for their job directory: one exec on the login node makes every
	 * directory asked for while the previous exec ran (slurm_launch.c) */
	struct slurm_launch *dir_wait;
	int dir_busy;
	struct slurm_launch *submit_wait; /* waiting for a submit slot (slurm_launch.c) */
	int submits;                      /* POST job/submit in flight */
	struct slurm_lexec *lexecs;
	struct slurm_stopper *stoppers; /* waiting for the grace's end */
	int closing;
};

/* ---- slurm_ssh.c: the ssh provider's helpers (slurm_conn_* run on one worker thread) ---- */

struct slurm_conn; /* one host's SSH connection: lazy connect, backoff, reconnect */
/* t and jump are copied (their strings must outlive the connection, but t->host). */
struct slurm_conn *slurm_conn_new(const struct ssh_target *t, const struct ssh_target *jump,
                                  const char *name);
void slurm_conn_free(struct slurm_conn *c);
/* 0 with the exit status and stdout (heap), or -1 and why (unreachable). */
int slurm_conn_exec(struct slurm_conn *c, const char *cmd, const char *in, int timeout_ms,
                    int *status, char **out, char **cause);
/* GET path from port on the host's loopback: 0 with the status and body (heap), -1/-2. */
int slurm_conn_http(struct slurm_conn *c, int port, const char *path, int timeout_ms, int *status,
                    char **body, char **cause);
char *slurm_sh_quote(const char *s);                  /* ssh_remote_quote */
char *slurm_sh_command(const char *a, const char *b); /* "sh -s -- 'a' ['b']" */
char *slurm_env_text(const struct kvlist *env, const char *const *pass, const char *job_id,
                     char **cause); /* ssh_remote_env_text */
int slurm_id_ok(const char *s);     /* a job id usable as a directory name */

/* ---- slurm.c ---- */

/* An answer: ok (2xx, errors[] empty) with the body, or not with a one-line error (no
 * provider name, redacted) and its class. */
typedef void (*slurm_req_cb)(struct provider *p, void *ctx, int ok, long status, const char *body,
                             size_t len, const char *err, enum slurm_err cls);
typedef void (*slurm_abort_fn)(void *ctx);

/* METHOD base/slurm/VERSION/WHAT[?query] after the version check; body JSON or NULL.
 * cb runs once from the loop (also when the check or the token fails: ok 0), or abort_fn on
 * close. -1 with cause when it could not start. */
int slurm_req(struct provider *p, const char *method, const char *what, const char *query,
              const char *body, slurm_req_cb cb, slurm_abort_fn abort_fn, void *ctx, char **cause);
/* The snapshot, at most poll_interval old (fresh = 1: newer than any submit/cancel of this
 * process): fn from the loop (maybe at once) with rc 0, or rc -1 and why. */
void slurm_jobs_ready(struct provider *p, int fresh,
                      void (*fn)(struct provider *, void *, int, const char *), void *ctx);
/* The job with Slurm id `id` in the snapshot, or NULL. */
struct slurm_job *slurm_jobs_find(struct provider *p, int64_t id);
/* A submit or cancel: the next snapshot must be fetched again. */
void slurm_jobs_invalidate(struct provider *p);
/* The nodes/partitions cache, fetched when empty or older than offers_refresh. */
void slurm_cache_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                       void *ctx);
/* "123" -> 123; -1 when not a Slurm job id. */
int64_t slurm_ref_id(const char *ref);
/* The unreachable reason refreshes answer with while slurmrestd is down, or NULL. */
const char *slurm_down_reason(struct provider *p);
enum provider_error_class slurm_error_class(enum slurm_err e);

/* ---- slurm_token.c ---- */

/* Reads token_file / token_env (open, no network); token_command is run later. */
int slurm_token_open(struct provider *p, const struct kvlist *settings, const struct kvlist *pos,
                     char **cause);
/* Makes sure a token is there: fn(p, ctx, rc, cause) from the loop (token_command runs on a
 * worker thread; at once otherwise). */
void slurm_token_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                       void *ctx);
/* Forgets the token so that it is read (token_file, token_env) or made (token_command)
 * again by the next slurm_token_ready. */
int slurm_token_rerun(struct provider *p);
void slurm_token_free(struct provider *p);
/* Frees the token and what it was read from (close). */
void slurm_token_close(struct provider *p);

/* ---- slurm_launch.c ---- */

int slurm_launch(struct provider *p, const struct provider_job_spec *spec, provider_launch_cb cb,
                 void *arg, char **cause);
void slurm_launch_abort_all(struct provider *p);

/* ---- slurm_run.c ---- */

/* Runs cmd (stdin `in`, may be NULL) on the login node from a worker thread: fn from the loop
 * with rc 0, the command's exit status and stdout, or rc -1 and why (unreachable). */
typedef void (*slurm_lexec_cb)(struct provider *p, void *ctx, int rc, int status, const char *out,
                               const char *cause);
void slurm_login_exec(struct provider *p, char *cmd, char *in, int timeout_ms, slurm_lexec_cb fn,
                      void *ctx);
/* The login node's ssh provider (opened on first use; no network until used). */
struct provider *slurm_login_ssh(struct provider *p, char **cause);
/* STATE/refs/SLURMID holds the Gantry job id (logs of a job that left the snapshot). */
void slurm_ref_remember(struct provider *p, int64_t id, const char *job_id, int want_port);
/* Records what a listed job is called, keeping what is known of it already. */
void slurm_ref_learn(struct provider *p, int64_t id, const char *job_id);
char *slurm_ref_job(struct provider *p, int64_t id);
void slurm_run_close(struct provider *p);

int slurm_refresh(struct provider *p, const char *job_id, const char *ref, provider_status_cb cb,
                  void *arg, char **cause);
int slurm_logs_open(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
                    provider_log_cb cb, void *arg, struct provider_logs **out, char **cause);
void slurm_logs_close(struct provider *p, struct provider_logs *lg);
int slurm_target(struct provider *p, const char *ref, int worker, provider_target_cb cb, void *arg,
                 char **cause);
int slurm_worker_http(struct provider *p, const char *ref, int port, const char *path,
                      provider_http_cb cb, void *arg, char **cause);

#endif
