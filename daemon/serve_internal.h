/* serve_internal.h: gantryd's private state, shared by the daemon/ files only. */
#ifndef GANTRY_SERVE_INTERNAL_H
#define GANTRY_SERVE_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon/serve.h"

/* What a client may have waiting to be sent before it is dropped as not reading. */
#define SERVE_OUT_MAX (64u * 1024 * 1024)

struct serve_opts {
	const char *socket_path;
	const char *group; /* the socket's group: its members may connect */
	uid_t service_uid; /* the daemon's own uid */
};

/* The socket's directory is safe and nothing (or a stale socket of ours, removed) is at
 * path: gantryd checks it before it opens the engine. */
int serve_socket_check(const char *path, uid_t service_uid, char **cause);
/* Starts listening (the socket made, its directory checked) and serving on e's loop. */
int serve_open(struct engine *e, const struct serve_opts *o, struct serve **out, char **cause);
/* Drops every client, removes the socket. */
void serve_close(struct serve *s);
size_t serve_nclients(const struct serve *s);

/* Sends one event line ({"event": ...}) to the client (no-op when it is gone). */
void serve_send_event(struct serve_client *c, json_t *ev);
/* 1 when who may use administrative ops (policy admins, root, the service account). */
int serve_is_admin(struct serve *s, struct engine *e, const struct ident *who);

/* daemon/serve_req.c: hello's providers list. */
json_t *serve_providers_json(struct engine *e);

/* Handlers (daemon/serve_ops.c, serve_jobs.c, serve_plan.c, serve_approve.c, serve_audit.c). */
int serve_op_hello(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_providers(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_jobs(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_job(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_job_events(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_jobs_count(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_launch(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_stop(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_logs(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_plan(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_admit(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_explain(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_approve(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_deny(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_approvals(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_audit(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_audit_verify(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);

/* The pattern of launch, stop and approve: answer {job_id} now, then one "result" event
 * ({"event": "result", "req": ID, "rc", "job_id", "cause"}) when the engine's cb runs. */
struct serve_pending;
struct serve_pending *serve_pending_new(struct serve_ctx *ctx);
void serve_pending_cb(void *arg, int rc, const char *job_id, const char *cause);
/* After the engine call: rc 0 with job_id (answers {job_id}) or -1 with cause (answers the
 * error; the pending is freed when its cb never ran). Returns SERVE_LATER. */
int serve_pending_start(struct serve_pending *p, int rc, const char *job_id, const char *cause);

#endif
