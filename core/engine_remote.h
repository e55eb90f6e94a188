/* engine_remote.h: remote mode (issue 12): the client side of gantryd's protocol. The faces
 * keep calling engine.h; in remote mode each engine_* call the daemon serves is sent as a
 * request and its answer awaited (queries) or delivered on the loop (launch, stop, approve:
 * engine_result_cb), and the daemon's events reach engine_subscribe's callbacks. One
 * implementation serves both modes: the faces never know which one runs.
 *
 * Protocol (docs/governance.md, "gantryd protocol"): JSON messages, one per line (LF), at
 * most GANTRY_WIRE_MAX bytes each, over a SOCK_STREAM AF_UNIX socket.
 *   request  {"id": N, "op": "NAME", "args": {...}}           (N > 0, the client's counter)
 *   answer   {"id": N, "ok": true, "result": ...}
 *            {"id": N, "ok": false, "error": "one line"}
 *   event    {"event": "jobs_changed" | "job_state" | "message" | "provider" | "forwards"
 *             | "telemetry", "job_id": ..., "from": ..., "to": ..., "reason": ...,
 *             "provider": ..., "message": ...}                 (no id)
 * The first request is {"op": "hello", "args": {"version": 1}}; its result says who the
 * kernel says the client is: {"uid", "name", "groups", "team", "role", "admin",
 * "approver", "daemon_version", "providers": [{"name", "type", "healthy", "message"}],
 * "refresh_ms"}. Identity is never taken from the client's words.
 * Streams (shells, log follows, forwards) use a connection of their own: its first line
 * is a request of a stream op; after its ok answer the connection carries that stream's
 * frames (daemon/serve.h). */
#ifndef GANTRY_ENGINE_REMOTE_H
#define GANTRY_ENGINE_REMOTE_H

#include <jansson.h>

#include "core/engine.h"

#define GANTRY_WIRE_MAX (1024 * 1024) /* bytes per message from a client */
/* bytes per message from gantryd (an admin's job list on a big store: ~740 bytes a job) */
#define GANTRY_WIRE_ANSWER_MAX (32 * 1024 * 1024)
#define GANTRY_WIRE_VERSION    1

/* 1 when e talks to gantryd. */
int engine_is_remote(struct engine *e);
/* The socket engine_open would use for opts (heap), or NULL: embedded mode. */
char *engine_remote_socket(const struct engine_opts *opts, const struct config *c);
/* Called by engine_open after config_load: 0 = embedded (go on), 1 = remote mode opened
 * (engine_open returns e as it is), -1 = the daemon is configured but unreachable (cause:
 * "gantryd at PATH: permission denied (only group gantry may connect)", "...: not
 * running"). */
int engine_remote_open(struct engine *e, char **cause);
void engine_remote_close(struct engine *e);
/* Sends a request and waits for its answer, delivering events that arrive meanwhile on the
 * loop later. args is stolen (NULL = {}). 0 with *result (a new reference, may be NULL if
 * result is NULL) or -1 with the daemon's one-line error (or the connection's). */
int engine_remote_call(struct engine *e, const char *op, json_t *args, json_t **result,
                       char **cause);
/* The same without waiting: cb runs once on the loop (result borrowed during the call). */
typedef void (*engine_remote_cb)(void *arg, int rc, json_t *result, const char *cause);
int engine_remote_send(struct engine *e, const char *op, json_t *args, engine_remote_cb cb,
                       void *arg, char **cause);
/* A new connection to the same daemon with its hello done, for a stream: fd or -1. */
int engine_remote_connect(struct engine *e, char **cause);

/* The governance calls in remote mode (their engine_* functions start with
 * `if (engine_is_remote(e)) return engine_remote_X(...)`; keep those lines). */
int engine_remote_approvals(struct engine *e, struct job_list *out, char **cause);
int engine_remote_approve(struct engine *e, const char *job_ref, const char *reason,
                          engine_result_cb cb, void *arg, char **cause);
int engine_remote_deny(struct engine *e, const char *job_ref, const char *reason, char **cause);
int engine_remote_audit_list(struct engine *e, int64_t since_ms, struct audit_entry **out,
                             size_t *n, char **cause);
int engine_remote_audit_verify(struct engine *e, size_t *checked, int64_t *bad_seq, char **cause);
int engine_remote_policy_explain(struct engine *e, const struct engine_plan *plan,
                                 struct policy_verdict *out, char **cause);

/* Who gantryd says the client is (hello's result): the socket's path, a string member
 * ("name", "role", "team", "daemon_version", "policy_error") or NULL, a boolean member
 * ("admin", "approver"); NULL / 0 in embedded mode. */
const char *engine_remote_path(struct engine *e);
const char *engine_remote_hello_str(struct engine *e, const char *key);
int engine_remote_hello_bool(struct engine *e, const char *key);

/* engine.h's functions in remote mode (each starts with `if (engine_is_remote(e)) return
 * engine_remote_X(...)`; core/engine_remote_jobs.c, engine_remote_plan.c). What gantryd
 * does not serve yet fails with "not available through gantryd yet" or answers empty. */
int engine_remote_jobs(struct engine *e, int active_only, struct job_list *out, char **cause);
int engine_remote_job(struct engine *e, const char *job_ref, struct job *out, char **cause);
int engine_remote_job_events(struct engine *e, const char *job_id, struct job_event_list *out,
                             char **cause);
int engine_remote_jobs_count(struct engine *e, int64_t *out, char **cause);
int engine_remote_launch(struct engine *e, const struct engine_launch_req *req, char **job_id,
                         engine_result_cb cb, void *arg, char **cause);
int engine_remote_stop(struct engine *e, const char *job_ref, engine_result_cb cb, void *arg,
                       char **cause);
int engine_remote_logs_open(struct engine *e, const char *job_id, int follow, int64_t tail_bytes,
                            engine_log_cb cb, void *arg, struct engine_logs **out, char **cause);
void engine_remote_logs_close(struct engine *e, struct engine_logs *lg);
int engine_remote_busy(struct engine *e);
size_t engine_remote_provider_count(struct engine *e);
void engine_remote_provider_info(struct engine *e, size_t i, struct engine_provider_info *out);
int engine_remote_plan(struct engine *e, const struct engine_launch_req *req,
                       struct engine_plan *out, char **cause);
int engine_remote_plan_async(struct engine *e, const struct engine_launch_req *req,
                             engine_plan_cb cb, void *arg, char **cause);
void engine_remote_admit(struct engine *e, const struct engine_plan *plan,
                         struct engine_admission *out);
int engine_remote_reconcile(struct engine *e, char **cause); /* "gantryd reconciles" */
int engine_remote_unavailable_op(struct engine *e, const char *what, char **cause);

/* Job and events to and from JSON, shared by both sides (core/engine_remote_json.c).
 * Every *_to_* function fills out (cleared first; its owner frees it with the struct's own
 * clear function) or returns -1 with a cause, out left empty. Missing members read as
 * NULL / 0; a member of the wrong type, an unknown state, kind or verdict name is an
 * error. */
json_t *engine_json_job(const struct job *j); /* every field by its C name; null for NULL */
int engine_json_to_job(const json_t *o, struct job *out, char **cause);
json_t *engine_json_jobs(const struct job_list *l); /* an array of JOB */
int engine_json_to_jobs(const json_t *a, struct job_list *out, char **cause);
/* {id, job_id, at_ms, from, to, reason} */
json_t *engine_json_job_event(const struct job_event *ev);
int engine_json_to_job_event(const json_t *o, struct job_event *out, char **cause);
json_t *engine_json_job_events(const struct job_event_list *l); /* an array */
int engine_json_to_job_events(const json_t *a, struct job_event_list *out, char **cause);
/* An engine event as sent to clients: {"event": "jobs_changed" | "job_state" | "provider" |
 * "message" | "forwards" | "telemetry", "job_id", "from", "to", "reason", "provider",
 * "message"} (absent members for NULL). engine_json_to_event: out's strings are borrowed
 * from o; -1 for an unknown event. */
json_t *engine_json_event(const struct engine_event *ev);
int engine_json_to_event(const json_t *o, struct engine_event *out);
/* LAUNCH_REQ {"template", "sets": ["k=v"...], "provider", "name", "max_runtime_s"}. */
json_t *engine_json_launch_req(const struct engine_launch_req *req);
/* The same for a plan (remote engine_admit, engine_policy_explain): template =
 * plan.template_name, provider = plan.provider, sets = plan.params as k=v, max_runtime_s. */
json_t *engine_json_plan_req(const struct engine_plan *plan);
/* A LAUNCH_REQ read back: req's pointers point into this struct's own copies. */
struct engine_json_req {
	struct engine_launch_req req;
	char *template_name;
	char *provider;
	char *name;
	char **sets;
	size_t nsets;
};
int engine_json_to_launch_req(const json_t *o, struct engine_json_req *out, char **cause);
void engine_json_req_clear(struct engine_json_req *r);
/* The plan (without fallbacks): {template_name, provider, params{}, script, env{},
 * want_port, gpus, accels, max_runtime_s, region, instance_type, spot, billing_s, note,
 * offer: {provider, description, region, instance_type, gpus, gpu_name, cpus, memory_mib,
 * priced, price_per_hour, spot, fits, reason}}. */
json_t *engine_json_plan(const struct engine_plan *p);
int engine_json_to_plan(const json_t *o, struct engine_plan *out, char **cause);
/* Frees what engine_json_to_plan filled (a plan from the wire has no fallbacks): the same as
 * engine_plan_clear without the engine, for programs that link the JSON alone. */
void engine_json_plan_clear(struct engine_plan *p);
/* {refusal: "ok"|"readonly"|"fit"|"price_cap"|"budget"|"policy", reason, budget:
 * "ok"|"soft"|"hard", budget_reason, expected_cost, expected_hours, needs_approval,
 * approval_reason, policy_rule} */
json_t *engine_json_admission(const struct engine_admission *a);
int engine_json_to_admission(const json_t *o, struct engine_admission *out, char **cause);
/* {allowed, needs_approval, role, reason, rule, hits: [{rule, where, text, allow}]} */
json_t *engine_json_verdict(const struct policy_verdict *v);
int engine_json_to_verdict(const json_t *o, struct policy_verdict *out, char **cause);
/* {seq, at_ms, uid, actor, action, target, verdict, reason, detail, prev_hash, hash} */
json_t *engine_json_audit_entry(const struct audit_entry *a);
int engine_json_to_audit_entry(const json_t *o, struct audit_entry *out, char **cause);
/* Frees the strings of one entry (audit_entries_free frees an array). */
void engine_json_audit_entry_clear(struct audit_entry *a);
/* {name, type, healthy, message}; engine_json_to_provider_info borrows o's strings. */
json_t *engine_json_provider_info(const struct engine_provider_info *p);
int engine_json_to_provider_info(const json_t *o, struct engine_provider_info *out, char **cause);

#endif
