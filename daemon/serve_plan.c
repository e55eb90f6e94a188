/* serve_plan.c: plan, admit and explain. The plan is made on the loop (engine_plan_async:
 * a provider may take a while to offer); admit and explain then run for the client that
 * asked, whatever request the loop serves meanwhile. */
#include "daemon/serve_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_remote.h"
#include "core/xmalloc.h"

enum serve_plan_kind { SERVE_PLAN, SERVE_ADMIT, SERVE_EXPLAIN };

struct serve_planq {
	struct serve *srv;
	struct engine *e;
	struct serve_client *c;
	int64_t id;
	enum serve_plan_kind kind;
};

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
			res = engine_json_plan(plan);
		} else if (q->kind == SERVE_ADMIT) {
			struct engine_admission a;

			memset(&a, 0, sizeof a);
			engine_admit(q->e, plan, &a);
			res = engine_json_admission(&a);
			engine_admission_clear(&a);
		} else {
			struct policy_verdict v;

			memset(&v, 0, sizeof v);
			if (engine_policy_explain(q->e, plan, &v, &why) == 0)
				res = engine_json_verdict(&v);
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
	struct engine_json_req r;
	struct serve_planq *q;
	int rc;

	if (engine_json_to_launch_req(args, &r, cause) != 0)
		return -1;
	q = xcalloc(1, sizeof *q);
	q->srv = ctx->srv;
	q->e = ctx->e;
	q->c = serve_client_ref(ctx->client);
	q->id = ctx->id;
	q->kind = kind;
	rc = engine_plan_async(ctx->e, &r.req, serve_plan_done, q, cause);
	engine_json_req_clear(&r);
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
