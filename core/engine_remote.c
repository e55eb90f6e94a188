/* engine_remote.c: CONTRACT STUB (issue 12): remote mode. The daemon engineer replaces this
 * file (see engine_remote.h); until then every engine is embedded. */
#include "core/engine_remote.h"

#include "core/engine_internal.h"
#include "core/xmalloc.h"

int engine_is_remote(struct engine *e)
{
	return e->remote != NULL;
}

char *engine_remote_socket(const struct engine_opts *opts, const struct config *c)
{
	(void)opts;
	(void)c;
	return NULL;
}

int engine_remote_open(struct engine *e, char **cause)
{
	(void)e;
	(void)cause;
	return 0;
}

void engine_remote_close(struct engine *e)
{
	(void)e;
}

int engine_remote_call(struct engine *e, const char *op, json_t *args, json_t **result,
                       char **cause)
{
	(void)e;
	json_decref(args);
	if (result != NULL)
		*result = NULL;
	return xcause(cause, "%s: gantryd is not implemented yet", op);
}

int engine_remote_send(struct engine *e, const char *op, json_t *args, engine_remote_cb cb,
                       void *arg, char **cause)
{
	(void)e;
	(void)cb;
	(void)arg;
	json_decref(args);
	return xcause(cause, "%s: gantryd is not implemented yet", op);
}

int engine_remote_connect(struct engine *e, char **cause)
{
	(void)e;
	return xcause(cause, "gantryd is not implemented yet");
}

int engine_remote_approvals(struct engine *e, struct job_list *out, char **cause)
{
	(void)e;
	(void)out;
	return xcause(cause, "approvals: gantryd is not implemented yet");
}

int engine_remote_approve(struct engine *e, const char *job_ref, const char *reason,
                          engine_result_cb cb, void *arg, char **cause)
{
	(void)e;
	(void)job_ref;
	(void)reason;
	(void)cb;
	(void)arg;
	return xcause(cause, "approve: gantryd is not implemented yet");
}

int engine_remote_deny(struct engine *e, const char *job_ref, const char *reason, char **cause)
{
	(void)e;
	(void)job_ref;
	(void)reason;
	return xcause(cause, "deny: gantryd is not implemented yet");
}

int engine_remote_audit_list(struct engine *e, int64_t since_ms, struct audit_entry **out,
                             size_t *n, char **cause)
{
	(void)e;
	(void)since_ms;
	*out = NULL;
	*n = 0;
	return xcause(cause, "audit: gantryd is not implemented yet");
}

int engine_remote_audit_verify(struct engine *e, size_t *checked, int64_t *bad_seq,
                               char **cause)
{
	(void)e;
	*checked = 0;
	*bad_seq = 0;
	return xcause(cause, "audit verify: gantryd is not implemented yet");
}

int engine_remote_policy_explain(struct engine *e, const struct engine_plan *plan,
                                 struct policy_verdict *out, char **cause)
{
	(void)e;
	(void)plan;
	(void)out;
	return xcause(cause, "policy explain: gantryd is not implemented yet");
}
