/* serve_audit.c: the audit log over the socket: audit (what the client may read: admins all,
 * others their own, decided by engine_audit_list) and audit_verify (admins only:
 * SERVE_OP_ADMIN). */
#include "daemon/serve_internal.h"

#include <stdlib.h>

#include "core/engine_remote.h"
#include "core/xmalloc.h"

/* audit_entries_free's work with the shared clear (core/audit.c is the audit engineer's) */
static void serve_audit_free(struct audit_entry *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		engine_json_audit_entry_clear(&v[i]);
	free(v);
}

int serve_op_audit(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	json_t *since = json_object_get(args, "since_ms"), *a;
	struct audit_entry *ents = NULL;
	size_t n = 0;

	if (since != NULL && !json_is_null(since) && !json_is_integer(since))
		return xcause(cause, "audit: \"since_ms\" is not an integer");
	if (engine_audit_list(ctx->e, json_is_integer(since) ? json_integer_value(since) : 0, &ents,
	                      &n, cause) != 0)
		return -1;
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, engine_json_audit_entry(&ents[i]));
	serve_audit_free(ents, n);
	*result = json_pack("{s:o}", "entries", a);
	return 0;
}

int serve_op_audit_verify(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	size_t checked = 0;
	int64_t bad = 0;
	char *why = NULL;
	int rc;

	(void)args;
	rc = engine_audit_verify(ctx->e, &checked, &bad, &why);
	if (rc < 0) {
		if (cause != NULL && *cause == NULL)
			*cause = why;
		else
			free(why);
		return -1;
	}
	*result = json_pack("{s:I,s:b,s:I,s:s?}", "checked", (json_int_t)checked, "ok", rc == 0,
	                    "bad_seq", (json_int_t)bad, "cause", why);
	free(why);
	return 0;
}
