/* serve_ops.c: the protocol's ops (core/engine_remote.h, docs/governance.md) and hello. Each
 * module adds its entries here with its handlers in its own file. */
#include "daemon/serve_internal.h"
#include "daemon/serve_brokers.h" /* sessions: brokered shells and forwards */

#include <stdlib.h>

#include "core/engine_remote.h"
#include "core/xmalloc.h"

const struct serve_op serve_ops[] = {
    {"hello", serve_op_hello, 0},
    {"providers", serve_op_providers, 0},
    {"jobs", serve_op_jobs, 0},
    {"job", serve_op_job, 0},
    {"job_events", serve_op_job_events, 0},
    {"jobs_count", serve_op_jobs_count, 0},
    {"plan", serve_op_plan, 0},
    {"admit", serve_op_admit, 0},
    {"explain", serve_op_explain, 0},
    {"launch", serve_op_launch, 0},
    {"stop", serve_op_stop, 0},
    {"logs", serve_op_logs, SERVE_OP_STREAM},
    {"approve", serve_op_approve, 0},
    {"deny", serve_op_deny, 0},
    {"approvals", serve_op_approvals, 0},
    {"audit", serve_op_audit, 0},
    {"audit_verify", serve_op_audit_verify, SERVE_OP_ADMIN},
    {"session", serve_op_session, SERVE_OP_STREAM},
    {"forward_open", serve_op_forward_open, 0},
    {"forward_close", serve_op_forward_close, 0},
    {"forwards", serve_op_forwards, 0},
    {NULL, NULL, 0},
};

int serve_op_hello(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	const struct ident *who = ctx->who;
	const char *perr = NULL;
	const struct policy *p = engine_policy(ctx->e, &perr);
	const char *role = p != NULL ? policy_role(p, who) : NULL;
	json_t *groups = json_array(), *v = json_object_get(args, "version");

	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 1)) {
		json_decref(groups);
		return xcause(cause, "hello: \"version\" is not a positive integer");
	}
	for (size_t i = 0; i < who->ngroups; i++)
		json_array_append_new(groups, json_string(who->groups[i]));
	*result = json_pack(
	    "{s:I,s:s,s:o,s:s?,s:s?,s:b,s:b,s:s,s:i,s:o,s:I,s:s?}", "uid", (json_int_t)who->uid,
	    "name", who->name, "groups", groups, "team", engine_actor_team(ctx->e), "role", role,
	    "admin", serve_is_admin(ctx->srv, ctx->e, who), "approver",
	    p != NULL && policy_is_approver(p, who), "daemon_version", PACKAGE_VERSION,
	    "wire_version", GANTRY_WIRE_VERSION, "providers", serve_providers_json(ctx->e),
	    "refresh_ms", (json_int_t)engine_config(ctx->e)->refresh_ms, "policy_error", perr);
	return *result != NULL ? 0 : xcause(cause, "hello: cannot encode the answer");
}

int serve_op_providers(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	(void)args;
	(void)cause;
	*result = json_pack("{s:o}", "providers", serve_providers_json(ctx->e));
	return 0;
}
