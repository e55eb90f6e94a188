/* lambda_internal.h: shared pieces of the `lambda` provider (providers/lambda*.c).
 *   lambda_api.c     bodies and parsers of the Lambda Cloud API v1, names, error classes
 *   lambda_conf.c    settings
 *   lambda_key.c     Gantry's own ed25519 key (blocking: on a worker thread)
 *   lambda.c         requests, the offers cache, the key's registration, list/destroy
 *   lambda_launch.c  launch: adopt or POST, poll until active, then run over SSH
 *   lambda_run.c     a running job: refresh/stop/logs/target/hosts/worker_http through the
 *                    instance's own ssh provider (one per instance: a job never lands on
 *                    another job's instance), and termination at the end */
#ifndef GANTRY_LAMBDA_INTERNAL_H
#define GANTRY_LAMBDA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/offers.h"
#include "providers/lambda_api.h"
#include "providers/provider.h"
#include "providers/waiters.h"

struct async_queue;
struct http;
struct http_req;
struct loop;
struct loop_timer;

/* A request's end: ok (2xx) with the body, or not with a one-line error (no provider name,
 * redacted) and its class. */
typedef void (*lambda_req_cb)(struct provider *p, void *ctx, int ok, long status, const char *body,
                              size_t len, const char *err, enum lambda_err cls);
/* Called instead of the request's callback when the provider closes first. */
typedef void (*lambda_abort_fn)(void *ctx);

struct lambda_req;

/* Something waiting for the key's registration or the offers cache. */
/* (struct waiter, providers/waiters.h) */

/* An instance Gantry runs a job on, with its own ssh provider. */
struct lambda_inst {
	char *id;
	char *ip;
	char *host;           /* the inner ssh host's name ("i-ID") */
	struct provider *ssh; /* ssh provider with this one host */
	int terminating;      /* a terminate request is in flight */
	int terminated;       /* the API confirmed the terminate (or the instance is gone) */
	struct lambda_inst *next;
};

struct lambda_launch;
struct lambda_save;

struct provider {
	char *name;
	struct loop *loop;
	struct http *http;
	int own_http; /* http made here (no handle in the config) */
	struct lambda_conf conf;
	char *state_dir;
	char *installation_id;
	char *data_dir;
	int64_t log_max_bytes;
	void (*notify)(void *arg, const char *provider, int healthy, const char *message);
	void *notify_arg;
	char *auth_header; /* "Authorization: Bearer KEY" (secret; wiped on close) */
	char *api_key;
	char *key_name; /* "gantry-<installation id prefix>" */
	char *key_path; /* STATE/id_ed25519, once made */
	char *public_key;
	int key_state;    /* 0 not ready, 1 in progress, 2 registered */
	int key_relisted; /* the add failed and the list is read once more */
	struct waiter *key_waiters;
	struct async_queue *q; /* key generation */
	/* offers cache (GET /instance-types) */
	struct offer_list types;
	int types_ok;
	int types_busy;
	uint64_t types_mono;
	struct waiter *types_waiters;
	struct loop_timer *types_timer;
	/* launches: no two POSTs closer than conf.launch_interval_ms */
	uint64_t next_launch_mono;
	struct lambda_launch *launches;
	struct lambda_inst *insts;
	struct lambda_req *reqs;   /* in flight */
	struct lambda_save *saves; /* logs being copied before a terminate (lambda_logs.c) */
	int healthy;               /* -1 unknown, 0 key refused, 1 answered */
	long retry_after_ms;       /* the last answer's Retry-After (0 = none) */
	enum lambda_err fail_cls;  /* class of the failure key/types waiters were just told of */
	int hosts_listing;         /* hosts(NULL): the instances are being listed */
	int hosts_listed;          /* ... and were, once: their ssh providers are attached */
	int closing;
};

/* ---- lambda.c ---- */

/* Sends METHOD api_url+path (body: JSON or NULL). cb runs once from the loop, or abort on
 * close. -1 with cause when it could not start. */
int lambda_req(struct provider *p, const char *method, const char *path, const char *body,
               lambda_req_cb cb, lambda_abort_fn abort_fn, void *ctx, char **cause);
/* Records what an answer says about the key (healthy or refused) and tells the engine when
 * that changes. */
void lambda_health(struct provider *p, int ok, enum lambda_err cls, const char *err);
/* Makes sure Gantry's key exists and is registered; fn(p, ctx, rc, cause) runs from the loop
 * once it is (rc 0) or failed. */
void lambda_key_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                      void *ctx);
/* The offers cache, fetched when empty: fn runs from the loop once it is there (rc 0). */
void lambda_types_ready(struct provider *p,
                        void (*fn)(struct provider *, void *, int, const char *), void *ctx);
/* POST terminate for one instance; cb(p, ctx, rc, cause) from the loop (rc 0 also when the
 * instance no longer exists). NULL cb: fire and forget. */
void lambda_terminate(struct provider *p, const char *id,
                      void (*cb)(struct provider *, void *, int, const char *), void *ctx);
/* "GANTRY_TEST_CRASH=NAME" kills the process here (crash-safety tests). */
void lambda_crash_point(const char *name);

/* ---- lambda_launch.c ---- */

int lambda_launch(struct provider *p, const struct provider_job_spec *spec, provider_launch_cb cb,
                  void *arg, char **cause);
/* Answers every launch in flight with rc -1 (close). */
void lambda_launch_abort_all(struct provider *p);

/* ---- lambda_logs.c ---- */

/* STATE/logs/JOBID.log: an ended job's log, kept after its instance is gone (heap). */
char *lambda_log_path(struct provider *p, const char *job_id);
/* Copies the job's log from its instance into lambda_log_path, then calls done (also when
 * it could not: the caller terminates the instance either way). */
void lambda_log_save(struct provider *p, struct lambda_inst *in, const char *job_id,
                     void (*done)(struct provider *p, void *ctx), void *ctx);
/* Ends every copy in flight (close): their done runs. */
void lambda_log_abort_all(struct provider *p);

/* ---- lambda_run.c ---- */

/* The instance's ssh provider, opened on first use (no network: it connects lazily).
 * gpus/gpu_type describe the instance type when known (0/NULL otherwise). */
struct lambda_inst *lambda_inst_attach(struct provider *p, const char *id, const char *ip, int gpus,
                                       const char *gpu_type, char **cause);
struct lambda_inst *lambda_inst_find(struct provider *p, const char *id);
void lambda_inst_close_all(struct provider *p);
/* "JOBID@HOST": the inner ssh provider's ref of the job. */
char *lambda_inner_ref(const struct lambda_inst *in, const char *job_id);

int lambda_refresh(struct provider *p, const char *job_id, const char *ref, provider_status_cb cb,
                   void *arg, char **cause);
int lambda_stop(struct provider *p, const char *ref, int grace_ms, provider_done_cb cb, void *arg,
                char **cause);
int lambda_logs_open(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
                     provider_log_cb cb, void *arg, struct provider_logs **out, char **cause);
void lambda_logs_close(struct provider *p, struct provider_logs *lg);
int lambda_target(struct provider *p, const char *ref, int worker, provider_target_cb cb, void *arg,
                  char **cause);
int lambda_hosts(struct provider *p, const char *ref, struct tele_host **out, size_t *n);
int lambda_worker_http(struct provider *p, const char *ref, int port, const char *path,
                       provider_http_cb cb, void *arg, char **cause);

#endif
