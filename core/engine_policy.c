/* engine_policy.c: CONTRACT STUB (issue 12): the engine's policy. The policy engineer
 * replaces this file (load at open, reload on change, explain, visibility). */
#include "core/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/xmalloc.h"

int engine_policy_init(struct engine *e, char **cause)
{
	(void)e;
	(void)cause;
	return 0;
}

void engine_policy_tick(struct engine *e)
{
	(void)e;
}

void engine_policy_free(struct engine *e)
{
	policy_free(e->policy);
	e->policy = NULL;
	free(e->policy_error);
	e->policy_error = NULL;
}

const struct policy *engine_policy(struct engine *e, const char **error)
{
	if (error != NULL)
		*error = e->policy_error;
	return e->policy;
}

int engine_policy_reload(struct engine *e, char **cause)
{
	if (engine_is_remote(e))
		return xcause(cause, "gantryd reloads its policy itself");
	(void)e;
	return xcause(cause, "policy reload is not implemented yet");
}

int engine_policy_explain(struct engine *e, const struct engine_plan *plan,
                          struct policy_verdict *out, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_policy_explain(e, plan, out, cause);
	(void)e;
	(void)plan;
	memset(out, 0, sizeof *out);
	return xcause(cause, "policy explain is not implemented yet");
}
