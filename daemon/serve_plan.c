/* serve_plan.c: plan, admit and explain. The plan is made on the loop (engine_plan_async:
 * a provider may take a while to offer); admit and explain then run for the client that
 * asked, whatever request the loop serves meanwhile. */
#include "daemon/serve_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

enum serve_plan_kind { SERVE_PLAN, SERVE_ADMIT, SERVE_EXPLAIN };

struct serve_planq {
	struct serve *srv;
	struct engine *e;
	struct serve_client *c;
	int64_t id;
	enum serve_plan_kind kind;
};

static const char *serve_refusal_name(enum engine_refusal r)
{
	switch (r) {
	case ENGINE_ADMIT_OK:
		return "ok";
	case ENGINE_REFUSE_READONLY:
		return "readonly";
	case ENGINE_REFUSE_FIT:
		return "fit";
	case ENGINE_REFUSE_PRICE_CAP:
		return "price_cap";
	case ENGINE_REFUSE_BUDGET:
		return "budget";
	case ENGINE_REFUSE_POLICY:
		return "policy";
	}
	return "policy";
}

static const char *serve_budget_name(enum cost_verdict v)
{
	return v == COST_HARD ? "hard" : v == COST_SOFT ? "soft" : "ok";
}

static json_t *serve_admission_json(const struct engine_admission *a)
{
	return json_pack("{s:s,s:s?,s:s,s:s?,s:f,s:f,s:b,s:s?,s:s?}", "refusal",
	                 serve_refusal_name(a->refusal), "reason", a->reason, "budget",
	                 serve_budget_name(a->budget), "budget_reason", a->budget_reason,
	                 "expected_cost", a->expected_cost, "expected_hours", a->expected_hours,
	                 "needs_approval", a->needs_approval, "approval_reason", a->approval_reason,
	                 "policy_rule", a->policy_rule);
}

static json_t *serve_verdict_json(const struct policy_verdict *v)
{
	json_t *hits = json_array();

	for (size_t i = 0; i < v->nhits; i++)
		json_array_append_new(hits,
		                      json_pack("{s:s?,s:s?,s:s?,s:b}", "rule", v->hits[i].rule,
		                                "where", v->hits[i].where, "text", v->hits[i].text,
		                                "allow", v->hits[i].allow));
	return json_pack("{s:b,s:b,s:s?,s:s?,s:s?,s:o}", "allowed", v->allowed, "needs_approval",
	                 v->needs_approval, "role", v->role, "reason", v->reason, "rule", v->rule,
	                 "hits", hits);
}

static void serve_plan_done(void *arg, int rc, struct engine_plan *plan, const char *cause)
{
	struct serve_planq *q = arg;
	const struct ident *who = serve_client_ident(q->c);
	json_t *res = NULL;
	char *why = NULL;
	int ok = rc;

	if (rc == 0 && serve_client_alive(q->c)) {
		struct ident prev;

		ident_copy(&prev, engine_actor(q->e));
		engine_set_actor(q->e, who); /* admit and explain are the client's */
		if (q->kind == SERVE_PLAN) {
			res = serve_plan_json(plan);
		} else if (q->kind == SERVE_ADMIT) {
			struct engine_admission a;

			memset(&a, 0, sizeof a);
			engine_admit(q->e, plan, &a);
			res = serve_admission_json(&a);
			engine_admission_clear(&a);
		} else {
			struct policy_verdict v;

			memset(&v, 0, sizeof v);
			if (engine_policy_explain(q->e, plan, &v, &why) == 0)
				res = serve_verdict_json(&v);
			else
				ok = -1;
			policy_verdict_clear(&v);
		}
		engine_set_actor(q->e, &prev);
		ident_clear(&prev);
	}
	serve_answer(q->c, q->id, ok, res, why != NULL ? why : cause);
	free(why);
	serve_client_unref(q->c);
	free(q);
}

static int serve_plan_start(struct serve_ctx *ctx, json_t *args, enum serve_plan_kind kind,
                            char **cause)
{
	struct serve_req r;
	struct serve_planq *q;
	int rc;

	if (serve_req_parse(args, &r, cause) != 0)
		return -1;
	q = xcalloc(1, sizeof *q);
	q->srv = ctx->srv;
	q->e = ctx->e;
	q->c = serve_client_ref(ctx->client);
	q->id = ctx->id;
	q->kind = kind;
	rc = engine_plan_async(ctx->e, &r.req, serve_plan_done, q, cause);
	serve_req_clear(&r);
	if (rc != 0) {
		serve_client_unref(q->c);
		free(q);
		return -1;
	}
	return SERVE_LATER;
}

int serve_op_plan(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	(void)result;
	return serve_plan_start(ctx, args, SERVE_PLAN, cause);
}

int serve_op_admit(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	(void)result;
	return serve_plan_start(ctx, args, SERVE_ADMIT, cause);
}

int serve_op_explain(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	(void)result;
	return serve_plan_start(ctx, args, SERVE_EXPLAIN, cause);
}
