/* engine_admit.c: the admission of a planned launch: every check engine_launch makes before
 * it creates anything (read-only mode, the policy, fit, the template's price cap, hard
 * budgets), in one place, so that `launch --dry-run`, the launch form and gantryd's clients
 * answer exactly what a launch would. The policy (core/engine_policy.c) refuses with the rule
 * that decided and what would be allowed instead, or admits a launch that needs approval. */
#include "core/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/engine_policy.h"
#include "core/xmalloc.h"

void engine_admission_clear(struct engine_admission *a)
{
	free(a->reason);
	free(a->budget_reason);
	free(a->approval_reason);
	free(a->policy_rule);
	memset(a, 0, sizeof *a);
}

/* The policy's refusal, with the providers it would allow when the place decided. */
static void engine_admit_policy(struct engine *e, const struct engine_plan *plan,
                                struct policy_verdict *v, struct engine_admission *out)
{
	char *places = NULL;

	out->refusal = ENGINE_REFUSE_POLICY;
	out->policy_rule = xstrdup(v->rule != NULL ? v->rule : "policy");
	if (v->rule != NULL && engine_policy_rule_is_place(v->rule))
		places = engine_policy_allowed_places(e, plan);
	if (v->rule != NULL && engine_policy_rule_is_place(v->rule))
		out->reason = xprintf("refused by policy: %s; allowed providers: %s", v->reason,
		                      places != NULL ? places : "none for this template");
	else
		out->reason = xprintf("refused by policy: %s", v->reason);
	free(places);
}

void engine_admit(struct engine *e, const struct engine_plan *plan, struct engine_admission *out)
{
	if (engine_is_remote(e))
		return engine_remote_admit(e, plan, out);
	const struct template *t = template_set_find(&e->tpls, plan->template_name);
	struct policy_verdict v;

	memset(out, 0, sizeof *out);
	out->budget = engine_budget_check_launch(e, plan, &out->budget_reason);
	if (plan->offer.priced && plan->max_runtime_s > 0) {
		out->expected_cost =
		    plan->offer.price_per_hour * (double)plan->max_runtime_s / 3600.0;
		out->expected_hours = (double)plan->max_runtime_s / 3600.0;
	} else if (plan->offer.priced) {
		out->expected_cost = plan->offer.price_per_hour;
		out->expected_hours = 0;
	}
	if (e->opts.readonly) {
		out->refusal = ENGINE_REFUSE_READONLY;
		out->reason = xstrdup("read-only mode: launching is disabled");
		return;
	}
	engine_policy_verdict(e, plan, &v);
	if (!v.allowed) {
		engine_admit_policy(e, plan, &v, out);
	} else if (plan->offer.provider != NULL && !plan->offer.fits) {
		out->refusal = ENGINE_REFUSE_FIT;
		out->reason = xprintf(
		    "template %s does not fit provider %s: %s", plan->template_name, plan->provider,
		    plan->offer.reason != NULL ? plan->offer.reason : "no reason given");
	} else if (t != NULL && t->limits.max_hourly_cost > 0 && plan->offer.priced &&
	           plan->offer.price_per_hour > t->limits.max_hourly_cost) {
		char price[32], cap[32];

		cost_money(plan->offer.price_per_hour, price);
		cost_money(t->limits.max_hourly_cost, cap);
		out->refusal = ENGINE_REFUSE_PRICE_CAP;
		out->reason = xprintf(
		    "template %s caps the price at %s/h (limits.max_hourly_cost); %s offers %s/h",
		    plan->template_name, cap, plan->provider, price);
	} else if (out->budget == COST_HARD) {
		out->refusal = ENGINE_REFUSE_BUDGET;
		out->reason = xprintf("over budget: %s", out->budget_reason != NULL
		                                             ? out->budget_reason
		                                             : "a hard limit is reached");
	}
	if (out->refusal == ENGINE_ADMIT_OK && v.needs_approval) {
		out->needs_approval = 1;
		out->approval_reason = xstrdup(v.reason);
	}
	policy_verdict_clear(&v);
}
