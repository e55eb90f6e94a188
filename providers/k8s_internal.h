/* k8s_internal.h: shared pieces of the `kubernetes` provider (providers/kubernetes.c,
 * providers/k8s_*.c but k8s_api* and k8s_ws*).
 *   k8s_conf.c    settings (flattened config.yaml keys), FILE:LINE:COL errors
 *   k8s_cred.c    the kubeconfig's access: TLS material on the http handle, bearer token
 *                 (inline, token file re-read, or an exec credential plugin run on a worker
 *                 thread, cached until its expiry or a 401)
 *   kubernetes.c  requests, health, open/close, stop, destroy, list_owned, offers, cluster,
 *                 hosts (DCGM), the ops table
 *   k8s_watch.c   list + watch per namespace and kind (or a list each poll_interval), the
 *                 object cache, refresh answered from it
 *   k8s_launch.c  launch: the job's objects, created in order, adopted on 409
 *   k8s_logs.c    logs_open: /log?follow=true streamed, containers in turn, previous logs
 *   k8s_channel.c (the ws engineer's) channel_open/close through the hooks below */
#ifndef GANTRY_K8S_INTERNAL_H
#define GANTRY_K8S_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"
#include "core/kvlist.h"
#include "providers/k8s_api.h"
#include "providers/k8s_ws.h"
#include "providers/provider.h"
#include "providers/waiters.h"

struct async_queue;
struct http;
struct http_req;
struct loop;
struct loop_timer;

/* ---- settings (k8s_conf.c) ---- */

struct kube_conf {
	char *kubeconfig;         /* NULL: first of $KUBECONFIG, else ~/.kube/config */
	char *context;            /* NULL: current-context */
	char *namespace;          /* NULL: the context's, else "default" */
	struct kvlist namespaces; /* team -> namespace */
	char *image;              /* default image */
	char *gpu_resource;       /* "nvidia.com/gpu" */
	char *gpu_label;          /* "nvidia.com/gpu.product" */
	struct kvlist node_selector;
	char *spot_label;                        /* NULL: no spot nodes */
	struct catalog_site_gpu_rate *gpu_rates; /* rate_gpu_hour as "*", rates.TYPE */
	size_t ngpu_rates;
	struct catalog_site_gpu_rate *spot_rates; /* spot_rates.TYPE */
	size_t nspot_rates;
	double spot_discount; /* spot price = rate x this when no spot rate (0.4) */
	int has_cpu_rate;
	double rate_cpu_hour;
	char *catalog;  /* managed cluster: the catalog's provider section */
	char *dcgm_url; /* or NULL */
	int backoff_limit;
	char *qps_metric;
	char *service_account;
	int watch;              /* 1 */
	int poll_ms;            /* 2000 */
	int request_timeout_ms; /* 30000 */
	int port;               /* container port of notebooks/endpoints (8080) */
};

int kube_conf_parse(const struct kvlist *settings, const struct kvlist *pos, const char *prov,
                    struct kube_conf *c, char **cause);
void kube_conf_free(struct kube_conf *c);
/* The namespace of team (NULL or unknown: the default namespace). */
const char *kube_conf_ns(const struct kube_conf *c, const char *team);

/* ---- the object cache (k8s_watch.c) ---- */

enum kube_wkind { KUBE_W_POD, KUBE_W_JOB, KUBE_W_DEPLOY, KUBE_W_HPA, KUBE_NW };

struct kube_ent {
	struct k8s_obj obj;
	char *job; /* its K8S_LABEL_JOB value, or NULL */
	struct kube_ent *next_name, *next_job;
};

#define KUBE_BUCKETS 1024

struct kube_watch {
	struct provider *p;
	struct kube_ns *ns;
	enum kube_wkind wk;
	struct kube_ent *by_name[KUBE_BUCKETS];
	struct kube_ent *by_job[KUBE_BUCKETS];
	size_t n;
	int synced; /* the first list is in */
	char *rv;   /* the last resourceVersion seen (list, event or bookmark) */
	char *cont; /* paging: the next page's continue token */
	struct kube_ent *fresh[KUBE_BUCKETS]; /* a list being read (by name only) */
	int listing;                          /* a list (page) is in flight */
	int watching;
	struct kube_req *hr;
	struct k8s_lines lines;
	struct loop_timer *timer; /* backoff / poll */
	int backoff_ms;
	int broken; /* the stream said something unreadable: restart */
	int relist; /* a 410 / ERROR came: list again */
	int fails;  /* streams in a row that broke before any byte */
	/* counters (tests, benchmarks) */
	long lists, watches, events;
};

struct kube_ns {
	char *name;
	struct kube_watch w[KUBE_NW];
};

/* ---- provider state ---- */

struct kube_req;
struct kube_launch;
struct kube_logs;
struct kube_refresh;
struct kube_cred_run;

struct kube_del {
	char *ref; /* a stop asked for (deleting) */
	struct kube_del *next;
};

struct provider {
	char *name;
	struct loop *loop;
	struct http *http;
	int own_http;
	/* watch streams' own handle (same TLS and secrets): never done, they must not count
	 * as the engine's work in flight (engine_busy, the close drain) */
	struct http *whttp;
	int req_bg; /* the next kube_req goes through whttp */
	struct kube_conf conf;
	struct k8s_access acc;
	char *installation_id;
	char *state_dir;
	char *data_dir;
	void (*notify)(void *arg, const char *provider, int healthy, const char *message);
	void *notify_arg;
	/* the bearer token (secret): inline, from the token file, or the exec plugin */
	char *token;
	uint64_t token_mono;  /* when read/made */
	int64_t token_exp_ms; /* exec: expiry (wall), 0 none */
	int cred_busy;        /* the exec plugin runs */
	int cred_bad;         /* the last attempt failed */
	char *cred_err;
	struct waiter *cred_waiters;
	struct async_queue *cq;
	struct catalog *catalog; /* managed cluster prices, or NULL */
	/* namespaces watched */
	struct kube_ns *nss;
	size_t nns;
	struct waiter *sync_waiters; /* waiting for every watch's first list */
	/* health */
	int healthy;       /* -1 unknown, 0 unreachable or refused, 1 answering */
	char *down_reason; /* why refreshes answer UNKNOWN */
	int64_t last_ok_ms;
	/* nodes cache (offers, cluster) */
	struct k8s_obj *nodes;
	size_t nnodes;
	int nodes_ok, nodes_busy;
	uint64_t nodes_mono;
	char *nodes_err;
	struct waiter *nodes_waiters;
	int cluster_asked;
	/* DCGM cache */
	struct prom_sample *dcgm;
	size_t ndcgm;
	uint64_t dcgm_mono;
	int dcgm_busy;
	struct http_req *dcgm_hr;
	int watching; /* kube_watch_start ran */
	struct kube_req *reqs;
	struct kube_launch *launches;
	struct kube_logs *logs;
	struct kube_refresh *refreshes;
	struct kube_del *dels;
	long requests; /* sent (tests) */
	int closing;
};

/* ---- kubernetes.c ---- */

/* An answer: ok (2xx) with the body, or not with a one-line error (no provider name,
 * redacted) and its class. */
typedef void (*kube_req_cb)(struct provider *p, void *ctx, int ok, long status, const char *body,
                            size_t len, const char *err, enum k8s_err cls);
typedef void (*kube_abort_fn)(void *ctx);
/* METHOD server+path (with its query); body JSON or NULL (PATCH: merge patch). cb runs once
 * from the loop, or abort_fn on close. on_chunk non-NULL: a stream (no timeout). Returns the
 * request or NULL with cause. */
struct kube_req *kube_req(struct provider *p, const char *method, const char *path,
                          const char *body, kube_req_cb cb, kube_abort_fn abort_fn, void *ctx,
                          int (*on_chunk)(void *ctx, long status, const char *d, size_t n),
                          char **cause);
/* Cancels r without calling its callback or abort_fn. */
void kube_req_cancel(struct provider *p, struct kube_req *r);
/* Health from an answer: transport errors and 5xx make it unreachable (notify once), an
 * answer makes it healthy again. */
void kube_health(struct provider *p, int ok, long status, enum k8s_err cls, const char *err);
enum provider_error_class kube_error_class(enum k8s_err e);
/* "NS/KIND/NAME" and back (kind "pod", "job", "deployment"). */
char *kube_ref(const char *ns, enum k8s_kind k, const char *name);
int kube_ref_parse(const char *ref, char **ns, enum k8s_kind *k, char **name, char **cause);
/* "GANTRY_TEST_CRASH=NAME" kills the process here (crash-safety tests). */
void kube_crash_point(const char *name);
int kube_deleting(struct provider *p, const char *ref);
void kube_mark_deleting(struct provider *p, const char *ref);
/* The label-safe owner and the labels of a job's objects (heap kvlist). */
void kube_labels(struct provider *p, const char *job_id, int attempt, const char *owner,
                 const char *team, enum job_kind kind, struct kvlist *out);

/* ---- k8s_cred.c ---- */

/* Loads the kubeconfig (no network), sets the TLS material on p->http, registers secrets. */
int kube_cred_open(struct provider *p, char **cause);
/* Makes sure a bearer token is there (or none is needed): fn from the loop (maybe at once). */
void kube_cred_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                     void *ctx);
/* "Authorization: Bearer ..." of the current token (heap) or NULL (certificates only). */
char *kube_cred_header(struct provider *p);
/* A 401: forget the token (the file is read again, the plugin run again). */
void kube_cred_invalidate(struct provider *p);
void kube_cred_close(struct provider *p);

/* ---- k8s_watch.c ---- */

void kube_watch_start(struct provider *p);
void kube_watch_stop(struct provider *p);
/* fn once every watch has its first list (or at once). */
void kube_sync_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                     void *ctx);
struct kube_ns *kube_ns_find(struct provider *p, const char *ns);
struct kube_watch *kube_watch_of(struct provider *p, const char *ns, enum k8s_kind k);
const struct k8s_obj *kube_cache_get(struct kube_watch *w, const char *name);
/* Puts obj (moved: zeroed after) into the cache unless a newer one is there (launch). */
void kube_cache_put(struct kube_watch *w, struct k8s_obj *obj);
/* Pods of job (label) in ns, at most max (heap array of pointers into the cache). */
size_t kube_cache_pods(struct provider *p, const char *ns, const char *job_id, const char *attempt,
                       const struct k8s_obj ***out);
/* The job's view state from the cache (out cleared by the caller). */
int kube_view_state(struct provider *p, const char *ref, struct k8s_state *out, char **cause);
int kube_refresh(struct provider *p, const char *job_id, const char *ref, provider_status_cb cb,
                 void *arg, char **cause);
void kube_refresh_abort_all(struct provider *p);

/* ---- k8s_launch.c ---- */

int kube_launch(struct provider *p, const struct provider_job_spec *spec, provider_launch_cb cb,
                void *arg, char **cause);
void kube_launch_abort_all(struct provider *p);

/* ---- k8s_logs.c ---- */

int kube_logs_open(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
                   provider_log_cb cb, void *arg, struct provider_logs **out, char **cause);
void kube_logs_close(struct provider *p, struct provider_logs *lg);
void kube_logs_abort_all(struct provider *p);

/* ---- hooks for the ws engineer (providers/k8s_channel.c) ---- */

/* the pod behind worker N of the job (from the watch cache), its namespace and the
 * container to use (NULL = first) */
int kube_worker_pod(struct provider *p, const char *ref, int worker, char **ns, char **pod,
                    char **container, char **cause);
/* how to reach the API server (copy of the provider's server, http handle and bearer
 * callback) */
void kube_ws_conn(struct provider *p, struct k8s_ws_conn *out);
struct loop *kube_loop(struct provider *p);

/* providers/k8s_channel.c */
int kube_channel_open(struct provider *p, const char *ref, int worker,
                      enum provider_channel_kind kind, int remote_port,
                      const struct provider_channel_io *io, provider_channel_cb cb, void *arg,
                      struct provider_channel **out, char **cause);
void kube_channel_close(struct provider *p, struct provider_channel *ch);

/* k8s_launch.c: a launch of this process is creating the objects named name */
int kube_launch_busy(struct provider *p, const char *name);
/* k8s_watch.c: the job's pods wait for a Secret no launch will create (see there) */
int kube_secret_lost(struct provider *p, const char *name, const struct k8s_obj *const *pods,
                     size_t npods);

#endif
