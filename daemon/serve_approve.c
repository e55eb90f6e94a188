/* serve_approve.c: approvals over the socket: approve (answer {job_id}, then a "result"
 * event), deny, approvals. Who may decide is the engine's business (core/engine_approve.c):
 * the engine acts for the client here. */
#include "daemon/serve_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_remote.h"
#include "core/xmalloc.h"

static const char *serve_str(json_t *args, const char *key)
{
	json_t *v = json_object_get(args, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int serve_op_approve(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	const char *ref = serve_str(args, "ref");
	struct serve_pending *p;
	char *why = NULL;
	int rc;

	(void)result;
	if (ref == NULL)
		return xcause(cause, "approve: no \"ref\"");
	p = serve_pending_new(ctx);
	rc = engine_approve(ctx->e, ref, serve_str(args, "reason"), serve_pending_cb, p, &why);
	rc = serve_pending_start(p, rc, NULL, why);
	free(why);
	return rc;
}

int serve_op_deny(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	const char *ref = serve_str(args, "ref");

	if (ref == NULL)
		return xcause(cause, "deny: no \"ref\"");
	if (engine_deny(ctx->e, ref, serve_str(args, "reason"), cause) != 0)
		return -1;
	*result = json_object();
	return 0;
}

int serve_op_approvals(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	struct job_list l = {0};
	json_t *a;

	(void)args;
	if (engine_approvals(ctx->e, &l, cause) != 0)
		return -1;
	a = engine_json_jobs(&l);
	job_list_free(&l);
	*result = json_pack("{s:o}", "jobs", a);
	return 0;
}
