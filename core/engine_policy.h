/* engine_policy.h: the engine's side of the policy (core/engine_policy.c), shared by the
 * admission gate (core/engine_admit.c), the optimizer's exclusions (core/engine_offers.c)
 * and the budgets (core/engine_cost.c). Engine-internal. */
#ifndef GANTRY_ENGINE_POLICY_H
#define GANTRY_ENGINE_POLICY_H

#include "core/engine.h"
#include "core/offers.h"
#include "core/policy.h"

/* The provider instance's `region:` ("local" for local providers), or NULL. */
const char *engine_provider_region(struct engine *e, const char *provider);
/* The policy's verdict on a plan for the actor (the place: plan->region, else the provider's
 * `region:`; the GPUs the actor's active jobs hold now from the store). Embedded mode with a
 * broken policy file: refused, rule "policy", naming the file's error. */
void engine_policy_verdict(struct engine *e, const struct engine_plan *plan,
                           struct policy_verdict *out);
/* The same on a place other than the plan's own (an offer: provider, region, price). */
void engine_policy_verdict_at(struct engine *e, const struct engine_plan *plan,
                              const char *provider, const char *region, int priced,
                              double hourly_cost, struct policy_verdict *out);
/* The configured provider instances where the policy lets the actor launch this plan as far
 * as the place goes (providers, regions, classification), "a (eu-west-1), b (local)"; heap,
 * NULL when none. */
char *engine_policy_allowed_places(struct engine *e, const struct engine_plan *plan);
/* 1 when a hit's rule is about the place (providers or regions). */
int engine_policy_rule_is_place(const char *rule);

/* Marks the offers the policy forbids the actor for template t as dropped, with the rule's
 * reason ("policy: FILE:LINE:COL roles.ml.regions: ..."), before offers_rank ranks them. */
void engine_policy_offers_drop(struct engine *e, const struct template *t, struct offer_list *l);
/* The budgets that apply (core/engine_cost.c): config.yaml's, then the policy's. */
size_t engine_budgets_count(struct engine *e);
const struct config_budget *engine_budget_at(struct engine *e, size_t i);

#endif
