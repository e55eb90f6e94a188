/* slurm_api.h: the slurmrestd REST API as Gantry speaks it, without I/O: paths, request
 * bodies, parsers of its answers (untrusted: every field is checked, a malformed answer is
 * a one-line error, never a crash), the mapping of Slurm job states to Gantry's, GRES
 * strings, the labels Gantry puts in a job's name and comment, and the differences between
 * API versions, kept in one table (slurm_api_versions[]) so that adding a version is a row.
 * providers/slurm*.c do the requests through core/http.h.
 *
 * Reference: Slurm's REST API (slurmrestd), openapi/v0.0.38 as shipped by Slurm 22.05
 * (Debian 12), and the published changes of v0.0.39/v0.0.40/v0.0.41. Every request carries
 * X-SLURM-USER-NAME and X-SLURM-USER-TOKEN; a POST body must be sent with exactly
 * "Content-Type: application/json". Errors arrive as HTTP 4xx/5xx (slurmrestd 22.05 answers
 * most of them, an unknown job id included, with 500) with a body {"errors": [{"error",
 * "error_number" or "error_code", "description", "source"}]}; a missing token is 401 with a
 * text/plain body; an invalid or expired token is 500 "slurmctld config is unable to load"
 * with error_number -1 (source slurm_load_ctl_conf). Success is 2xx with errors == []. */
#ifndef GANTRY_SLURM_API_H
#define GANTRY_SLURM_API_H

#include <stddef.h>
#include <stdint.h>

#include "core/cluster.h"
#include "core/job.h"
#include "core/kvlist.h"

#define SLURM_API_DEFAULT_VERSION "v0.0.38"

/* One API version: its name and how its fields differ. Rows in slurm_api.c. */
struct slurm_api_version {
	const char *name; /* "v0.0.38" */
	/* job submit */
	int env_as_list;    /* environment as ["K=V", ...] (v0.0.39+) instead of an object */
	int numbers_as_obj; /* integers as {"set": true, "infinite": false, "number": N}
	                     * (v0.0.39+) in answers and in time_limit etc. of requests */
	int state_as_list;  /* job_state / node state as a list of flags (v0.0.40+) */
	const char *gpus_field; /* job field for GPUs per job: "gpus" (22.05) or
	                         * "tres_per_job" with "gres/gpu:N" (v0.0.40+) */
	/* answers */
	int exit_as_obj; /* exit_code {"status", "return_code", "signal": {...}} (v0.0.40+) */
	int gres_as_tres; /* GPUs per node as "tres_per_node": "gres/gpu[:TYPE]:N" (v0.0.39+,
	                   * which has no "gres" job field) instead of "gres": "gpu[:TYPE]:N" */
};

/* The version named name ("v0.0.38"), or NULL when this client has no row for it. */
const struct slurm_api_version *slurm_api_version(const char *name);
/* "v0.0.38, v0.0.39, ..." (static): the versions this client knows, for errors and docs. */
const char *slurm_api_version_names(void);

/* Path of an endpoint under the base URL: "/slurm/v0.0.38/jobs" (heap). what is "ping",
 * "jobs", "nodes", "partitions", "job/submit", "job/ID" (id appended by the caller). */
char *slurm_api_path(const struct slurm_api_version *v, const char *what);

/* ---- errors ---- */

enum slurm_err {
	SLURM_ERR_OTHER,
	SLURM_ERR_AUTH,      /* 401, 403, the token refused (500 + error_number -1 from
	                      * slurm_load_ctl_conf, "Invalid authentication", ...) */
	SLURM_ERR_INVALID,   /* the cluster rejects the request: bad partition (2000), account,
	                      * QOS, time limit, too many GPUs/nodes ("Requested node
	                      * configuration is not available", 2014), 400 */
	SLURM_ERR_CAPACITY,  /* a request the cluster could take but not now is not an error in
	                      * Slurm (it queues): reserved for node-count/partition limits
	                      * reached where a fallback makes sense */
	SLURM_ERR_NOTFOUND,  /* "Invalid job id specified" (2017) */
	SLURM_ERR_TRANSIENT, /* no answer, 502/503/504, 429, slurmctld busy or down
	                      * ("Unable to contact slurm controller", 1007, ...) */
};
/* "other", "auth", "invalid", "capacity", "not-found", "transient". */
const char *slurm_err_name(enum slurm_err e);

/* A failed request in one line (heap): the first error's text "Invalid partition name
 * specified (2000)", "token refused (invalid or expired)", "HTTP 502 from slurmrestd",
 * "no answer: ERROR" (status 0 = no answer; transport_error says why). Remote text is
 * sanitised and cut short. *cls (may be NULL) gets the class. A 2xx answer whose errors[]
 * is not empty is a failure too: call this for it (it returns NULL for a 2xx answer without
 * errors, and for the notice 2042 "Job is in held state" that a held submit's 200 carries
 * next to its job_id). */
char *slurm_api_error(long status, const char *body, size_t len, const char *transport_error,
                      enum slurm_err *cls);

/* ---- labels ---- */

/* Gantry's labels of a Slurm job. name: "gantry-<job id>" (what squeue shows); comment:
 * "gantry:1 job=<id> attempt=<n> owner=<u> team=<t> inst=<installation id>" (values are
 * [A-Za-z0-9._@-] only; others are replaced by '_'; team "-" when none). */
struct slurm_label {
	char *job_id;
	int attempt;
	char *owner;
	char *team;
	char *installation_id;
};
char *slurm_api_label_name(const char *job_id);
char *slurm_api_label_comment(const struct slurm_label *l);
/* Parses a comment; 0 and *out (heap strings) when it is exactly Gantry's, -1 otherwise
 * (*out then zeroed). team "-" parses as NULL (and a NULL or "" team is written "-"). */
int slurm_api_label_parse(const char *comment, struct slurm_label *out);
void slurm_label_clear(struct slurm_label *l);

/* ---- job submit ---- */

struct slurm_submit {
	const char *script;       /* the batch script (#!/bin/bash ...) */
	const char *name;         /* slurm_api_label_name */
	const char *comment;      /* slurm_api_label_comment */
	const char *partition;    /* NULL = the cluster's default */
	const char *account;      /* NULL = the user's default */
	const char *qos;          /* NULL = default */
	const char *cwd;          /* absolute */
	const char *output;       /* absolute path of stdout and stderr together */
	const struct kvlist *env; /* the job's environment (object or list per version) */
	int nodes;                /* >= 1 */
	int tasks_per_node;       /* >= 1 */
	int cpus_per_task;        /* 0 = default */
	int64_t memory_mib;       /* per node; 0 = default */
	int gpus_per_node;        /* 0 = none; sent as "gres": "gpu[:TYPE]:N" per node */
	const char *gpu_type;     /* GRES type ("a100"), NULL = any */
	long time_limit_min;      /* minutes; 0 = the partition's default */
	int hold;                 /* submit held (tests, and "pending" demonstrations) */
	int requeue;              /* allow requeue after preemption or node failure */
};
/* The body of POST job/submit (heap JSON text). */
char *slurm_api_submit_body(const struct slurm_api_version *v, const struct slurm_submit *s);
/* The submit answer: 0 and the job id, or -1 and a cause (the errors[] text). */
int slurm_api_parse_submit(const char *body, size_t len, int64_t *job_id, char **cause);

/* ---- jobs ---- */

struct slurm_job {
	int64_t id;
	char *name;
	char *comment;
	char *user_name;
	char *partition;
	char *state;        /* Slurm's base state "PENDING", "RUNNING", ... (first flag on
	                     * versions with lists) */
	char *state_reason; /* "Resources", "Priority", "None", ... */
	char *nodes;        /* node list "gpu[01-02]" or "" */
	char *batch_host;   /* first node, or "" */
	char *gres;         /* what it asked for, "gpu:2" or "gpu:a100:2" or "" (from
	                     * tres_per_node / tres_per_job, "gres:" prefix removed) */
	int node_count;
	int64_t submit_time, start_time, end_time; /* epoch seconds, 0 = unset */
	long time_limit_min;                       /* 0 = unlimited or unset */
	int has_exit;
	int exit_code; /* >= 0 status, < 0 = -signal */
	int restart_cnt;
	char *std_out; /* standard_output as Slurm holds it (unexpanded) */
};
/* GET jobs or GET job/ID: every job in the answer, appended to *v (heap array). -1 with a
 * cause when the answer as a whole is unusable; a malformed entry is skipped. */
int slurm_api_parse_jobs(const struct slurm_api_version *v, const char *body, size_t len,
                         struct slurm_job **out, size_t *n, char **cause);
void slurm_jobs_free(struct slurm_job *v, size_t n);

/* Slurm's job state to Gantry's, with the one-line reason to show (heap or NULL):
 * PENDING -> STARTING ("pending: Resources"; a job held by the user or admin says so);
 * CONFIGURING, RUNNING, COMPLETING -> RUNNING; SUSPENDED -> RUNNING ("suspended");
 * COMPLETED -> SUCCEEDED; FAILED, OUT_OF_MEMORY, NODE_FAIL, BOOT_FAIL, DEADLINE -> FAILED
 * (reason says which); TIMEOUT -> FAILED ("time limit reached"); CANCELLED -> STOPPED;
 * PREEMPTED -> PREEMPTED; REQUEUED, REQUEUE_HOLD, REQUEUE_FED, RESIZING, and PENDING with
 * restart_cnt > 0 -> RECOVERING ("requeued: REASON"); an unknown state -> UNKNOWN. */
enum job_state slurm_api_state(const struct slurm_job *j, char **reason);

/* ---- nodes and partitions (offers, the Cluster view) ---- */

struct slurm_gres {
	char *type; /* "a100", "" = untyped */
	int count;
};
/* "gpu:2", "gpu:a100:4(S:0-1)", "gpu:a100:2,gpu:v100:1", "gpu:a100:2(IDX:0-1)" -> the GPU
 * entries (non-gpu GRES skipped). 0 on success (n may be 0), -1 on a malformed string. */
int slurm_api_parse_gres(const char *s, struct slurm_gres **out, size_t *n);
void slurm_gres_free(struct slurm_gres *v, size_t n);

struct slurm_node {
	char *name;
	char *address;    /* NodeAddr ("127.0.0.1") or the name */
	char *state;      /* lower case base state "idle", "mixed", "allocated", "down", ... */
	int drain;        /* a DRAIN flag */
	char *reason;
	char *partitions; /* "a,b" */
	char *gpu_type;   /* from gres: first typed entry, "" untyped */
	int gpus;         /* total GPUs (gres) */
	int gpus_used;    /* gres_used */
	int cpus, alloc_cpus;
	int64_t memory_mib, alloc_memory_mib;
};
int slurm_api_parse_nodes(const struct slurm_api_version *v, const char *body, size_t len,
                          struct slurm_node **out, size_t *n, char **cause);
void slurm_nodes_free(struct slurm_node *v, size_t n);

struct slurm_partition {
	char *name;
	char *state; /* "up", "down", ... lower case */
	int is_default;
	char *nodes; /* node list expression */
	int total_nodes, total_cpus;
	long max_time_min; /* 0 = unlimited */
};
int slurm_api_parse_partitions(const struct slurm_api_version *v, const char *body, size_t len,
                               struct slurm_partition **out, size_t *n, char **cause);
void slurm_partitions_free(struct slurm_partition *v, size_t n);

/* Expands a Slurm host list "gpu[01-03,07],login" into names (heap array); at most max
 * names (-1 beyond, so a hostile answer cannot make it allocate without bound). */
int slurm_api_hostlist(const char *expr, char ***out, size_t *n, size_t max);

/* The Cluster view from nodes, partitions and the queue (jobs: pending/running counts per
 * partition). Heap strings in *out; out->provider is set to provider. */
void slurm_api_cluster(const char *provider, const struct slurm_partition *parts, size_t np,
                       const struct slurm_node *nodes, size_t nn, const struct slurm_job *jobs,
                       size_t nj, struct cluster_info *out);

#endif
