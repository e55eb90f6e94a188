/* engine_audit.c: CONTRACT STUB (issue 12): the engine's audit log. The audit engineer
 * replaces this file (on top of core/audit.c). */
#include "core/engine.h"

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/xmalloc.h"

void engine_audit(struct engine *e, const char *action, const char *target, const char *verdict,
                  const char *reason, const char *detail_json)
{
	(void)e;
	(void)action;
	(void)target;
	(void)verdict;
	(void)reason;
	(void)detail_json;
}

int engine_audit_list(struct engine *e, int64_t since_ms, struct audit_entry **out, size_t *n,
                      char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_audit_list(e, since_ms, out, n, cause);
	(void)e;
	(void)since_ms;
	*out = NULL;
	*n = 0;
	return xcause(cause, "the audit log is not implemented yet");
}

int engine_audit_verify(struct engine *e, size_t *checked, int64_t *bad_seq, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_audit_verify(e, checked, bad_seq, cause);
	(void)e;
	*checked = 0;
	*bad_seq = 0;
	return xcause(cause, "the audit log is not implemented yet");
}
