/* engine_approve.c: CONTRACT STUB (issue 12): approvals. The approvals engineer replaces
 * this file. */
#include "core/engine.h"

#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/xmalloc.h"

int engine_approvals(struct engine *e, struct job_list *out, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_approvals(e, out, cause);
	(void)e;
	(void)cause;
	memset(out, 0, sizeof *out);
	return 0;
}

int engine_approve(struct engine *e, const char *job_ref, const char *reason,
                   engine_result_cb cb, void *arg, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_approve(e, job_ref, reason, cb, arg, cause);
	(void)e;
	(void)job_ref;
	(void)reason;
	(void)cb;
	(void)arg;
	return xcause(cause, "approvals are not implemented yet");
}

int engine_deny(struct engine *e, const char *job_ref, const char *reason, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_deny(e, job_ref, reason, cause);
	(void)e;
	(void)job_ref;
	(void)reason;
	return xcause(cause, "approvals are not implemented yet");
}
