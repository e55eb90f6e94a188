/* engine_remote_plan.c: plans, admission and the policy's verdict in remote mode: gantryd
 * plans with its own providers and templates and judges with its own policy. */
#include "core/engine_remote.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_remote_internal.h"
#include "core/xmalloc.h"

int engine_remote_plan(struct engine *e, const struct engine_launch_req *req,
                       struct engine_plan *out, char **cause)
{
	json_t *res;
	int rc;

	memset(out, 0, sizeof *out);
	if (engine_remote_call(e, "plan", engine_json_launch_req(req), &res, cause) != 0)
		return -1;
	rc = engine_json_to_plan(res, out, cause);
	json_decref(res);
	return rc;
}

int engine_remote_plan_async(struct engine *e, const struct engine_launch_req *req,
                             engine_plan_cb cb, void *arg, char **cause)
{
	struct engine_plan p;
	char *why = NULL;

	(void)cause;
	if (engine_remote_plan(e, req, &p, &why) != 0) {
		cb(arg, -1, NULL, why);
		free(why);
		return 0;
	}
	cb(arg, 0, &p, NULL);
	engine_plan_clear(&p);
	return 0;
}

void engine_remote_admit(struct engine *e, const struct engine_plan *plan,
                         struct engine_admission *out)
{
	json_t *res;
	char *cause = NULL;

	memset(out, 0, sizeof *out);
	if (engine_remote_call(e, "admit", engine_json_plan_req(plan), &res, &cause) == 0) {
		int rc = engine_json_to_admission(res, out, &cause);

		json_decref(res);
		if (rc == 0)
			return;
	}
	/* no answer: refused, never admitted by default */
	memset(out, 0, sizeof *out);
	out->refusal = ENGINE_REFUSE_POLICY;
	out->reason = cause != NULL ? cause : xstrdup("gantryd did not answer");
}

int engine_remote_policy_explain(struct engine *e, const struct engine_plan *plan,
                                 struct policy_verdict *out, char **cause)
{
	json_t *res;
	int rc;

	memset(out, 0, sizeof *out);
	if (engine_remote_call(e, "explain", engine_json_plan_req(plan), &res, cause) != 0)
		return -1;
	rc = engine_json_to_verdict(res, out, cause);
	json_decref(res);
	return rc;
}

/* --- approvals and audit --- */

int engine_remote_approvals(struct engine *e, struct job_list *out, char **cause)
{
	json_t *res;
	int rc;

	out->items = NULL;
	out->n = 0;
	if (engine_remote_call(e, "approvals", NULL, &res, cause) != 0)
		return -1;
	rc = engine_json_to_jobs(json_object_get(res, "jobs"), out, cause);
	json_decref(res);
	return rc;
}

int engine_remote_deny(struct engine *e, const char *job_ref, const char *reason, char **cause)
{
	json_t *res;

	if (engine_remote_call(e, "deny", json_pack("{s:s,s:s?}", "ref", job_ref, "reason", reason),
	                       &res, cause) != 0)
		return -1;
	json_decref(res);
	return 0;
}

int engine_remote_audit_list(struct engine *e, int64_t since_ms, struct audit_entry **out,
                             size_t *n, char **cause)
{
	json_t *res, *a;

	*out = NULL;
	*n = 0;
	if (engine_remote_call(e, "audit", json_pack("{s:I}", "since_ms", (json_int_t)since_ms),
	                       &res, cause) != 0)
		return -1;
	a = json_object_get(res, "entries");
	if (!json_is_array(a)) {
		json_decref(res);
		return xcause(cause, "audit: gantryd's answer is malformed");
	}
	*out = xcalloc(json_array_size(a) + 1, sizeof **out);
	for (size_t i = 0; i < json_array_size(a); i++) {
		if (engine_json_to_audit_entry(json_array_get(a, i), &(*out)[i], cause) != 0) {
			for (size_t k = 0; k < i; k++)
				engine_json_audit_entry_clear(&(*out)[k]);
			free(*out);
			*out = NULL;
			json_decref(res);
			return -1;
		}
		(*n)++;
	}
	json_decref(res);
	return 0;
}

int engine_remote_audit_verify(struct engine *e, size_t *checked, int64_t *bad_seq, char **cause)
{
	json_t *res;
	int ok;

	*checked = 0;
	*bad_seq = 0;
	if (engine_remote_call(e, "audit_verify", NULL, &res, cause) != 0)
		return -1;
	*checked = (size_t)json_integer_value(json_object_get(res, "checked"));
	*bad_seq = json_integer_value(json_object_get(res, "bad_seq"));
	ok = json_is_true(json_object_get(res, "ok"));
	if (!ok && json_string_value(json_object_get(res, "cause")) != NULL && cause != NULL)
		xcause(cause, "%s", json_string_value(json_object_get(res, "cause")));
	json_decref(res);
	return ok ? 0 : 1;
}
