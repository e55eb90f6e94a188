/* engine_offers.c: the optimizer behind the engine: every configured, healthy provider's
 * offers gathered at once through the asynchronous `offers` op, unpriced ones priced from the
 * catalog (offers_price), then filtered and ranked by offers_rank with the template, the hard
 * budget left and the expected runtime. The faces (gantry offers, the launch form's Offers
 * panel) show the answer; nothing here prints. */
#include "core/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/catalog.h"
#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/engine_policy.h"
#include "core/xmalloc.h"

/* One engine_offers request in flight. */
struct engine_offers_req {
	struct engine *e;
	struct engine_offers_answer *ans;
	int pending; /* providers yet to answer, plus one while asking */
	engine_offers_cb cb;
	void *arg;
};

void engine_offers_answer_free(struct engine_offers_answer *a)
{
	if (a == NULL)
		return;
	free(a->template_name);
	offer_list_free(&a->offers);
	for (size_t i = 0; i < a->nerrors; i++)
		free(a->errors[i]);
	free(a->errors);
	free(a);
}

static void engine_offers_error(struct engine_offers_answer *a, const char *prov, const char *why)
{
	a->errors = xreallocarray(a->errors, a->nerrors + 1, sizeof *a->errors);
	a->errors[a->nerrors++] = xprintf("%s: %s", prov, why != NULL ? why : "failed");
}

/* The least a hard budget of this user, team or project leaves this month. */
static void engine_offers_budget(struct engine *e, struct engine_offers_answer *a)
{
	struct engine_cost *c;

	if (engine_budgets_count(e) == 0 || engine_cost(e, &c, NULL) != 0)
		return;
	for (size_t b = 0; b < c->nbudgets; b++) {
		const struct config_budget *cb = c->budgets[b].cfg;
		const char *who = strcmp(cb->scope, "team") == 0      ? e->actor_team
		                  : strcmp(cb->scope, "project") == 0 ? e->cfg.project
		                                                      : e->actor.name;
		double left;

		if (who == NULL || strcmp(who, cb->name) != 0)
			continue;
		left = c->budgets[b].budget.monthly_usd * c->budgets[b].budget.hard_fraction -
		       c->budgets[b].spent;
		if (!a->has_budget_left || left < a->budget_left_usd)
			a->budget_left_usd = left;
		a->has_budget_left = 1;
	}
	engine_cost_free(c);
}

/* Offers no provider priced get the catalog's price for their provider type. */
static void engine_offers_catalog(struct engine *e, struct offer_list *l)
{
	struct catalog *cat = NULL;
	char *path;
	size_t i;

	for (i = 0; i < l->n && l->v[i].priced; i++)
		;
	if (i == l->n)
		return;
	path = catalog_default_path(e->cfg.data_dir);
	if (catalog_load(path, NULL, NULL, &cat, NULL) != 0)
		cat = NULL;
	free(path);
	for (i = 0; cat != NULL && i < l->n; i++) {
		struct engine_provider *ep = engine_find_provider(e, l->v[i].provider);
		struct offers_price_src src;

		if (l->v[i].priced || ep == NULL)
			continue;
		memset(&src, 0, sizeof src);
		src.catalog = cat;
		src.catalog_provider = ep->ops->name;
		offers_price(&l->v[i], &src);
	}
	catalog_free(cat);
}

static void engine_offers_finish(struct engine_offers_req *r)
{
	struct engine_offers_answer *a = r->ans;
	/* found again: a reload while the providers answered may have replaced it */
	const struct template *t = template_set_find(&r->e->tpls, a->template_name);
	struct offers_limits lim;

	r->e->busy--;
	if (t == NULL) {
		r->cb(r->arg, -1, NULL, "the template went away while the providers answered");
		engine_offers_answer_free(a);
		free(r);
		return;
	}
	engine_offers_catalog(r->e, &a->offers);
	engine_policy_offers_drop(r->e, t, &a->offers); /* what the policy forbids */
	memset(&lim, 0, sizeof lim);
	lim.has_budget_left = a->has_budget_left;
	lim.budget_left_usd = a->budget_left_usd;
	lim.runtime_s = a->runtime_s;
	a->nfit = offers_rank(&a->offers, t, &lim);
	r->cb(r->arg, 0, a, NULL);
	free(r);
}

struct engine_offers_one {
	struct engine_offers_req *r;
	char *provider;
};

static void engine_offers_done(void *arg, int rc, struct offer_list *offers, const char *cause)
{
	struct engine_offers_one *one = arg;
	struct engine_offers_req *r = one->r;

	if (rc != 0 || offers == NULL)
		engine_offers_error(r->ans, one->provider, cause);
	else
		offer_list_take(&r->ans->offers, offers);
	free(one->provider);
	free(one);
	if (--r->pending == 0)
		engine_offers_finish(r);
}

int engine_offers(struct engine *e, const struct engine_launch_req *req, engine_offers_cb cb,
                  void *arg, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_unavailable_op(e, "offers", cause);
	const struct template *t = template_set_find(&e->tpls, req->template_name);
	struct engine_offers_req *r;
	struct kvlist params;
	long runtime = 0;

	if (t == NULL)
		return xcause(cause, "no template named '%s' (see: gantry templates)",
		              req->template_name);
	if (t->error != NULL)
		return xcause(cause, "template %s is broken: %s", t->name, t->error);
	if (req->provider != NULL && engine_find_provider(e, req->provider) == NULL)
		return xcause(cause, "no provider named '%s' in config.yaml", req->provider);
	kvlist_init(&params);
	if (template_resolve_params(t, req->sets, req->nsets, &params, cause) != 0) {
		kvlist_free(&params);
		return -1;
	}
	kvlist_free(&params);
	if (engine_plan_runtime(t, req->max_runtime_s, &runtime, cause) != 0)
		return -1;
	r = xcalloc(1, sizeof *r);
	r->e = e;
	r->cb = cb;
	r->arg = arg;
	r->ans = xcalloc(1, sizeof *r->ans);
	r->ans->template_name = xstrdup(t->name);
	r->ans->runtime_s = runtime;
	engine_offers_budget(e, r->ans);
	r->pending = 1;
	e->busy++;
	for (size_t i = 0; i < e->nprovs; i++) {
		struct engine_provider *ep = &e->provs[i];
		struct engine_offers_one *one;
		char *why = NULL;

		if (req->provider != NULL && strcmp(req->provider, ep->name) != 0)
			continue;
		/* an unhealthy provider is asked too: a fleet with one host down still offers the
		 * others, and its unreachable hosts come back dropped with their reasons */
		if (ep->p == NULL) {
			why = xprintf("not available: %s",
			              ep->message != NULL ? ep->message : "it failed to open");
			engine_offers_error(r->ans, ep->name, why);
			free(why);
			continue;
		}
		if (ep->ops->offers == NULL) {
			engine_offers_error(r->ans, ep->name, "offers not supported");
			continue;
		}
		one = xcalloc(1, sizeof *one);
		one->r = r;
		one->provider = xstrdup(ep->name);
		r->pending++;
		if (ep->ops->offers(ep->p, t, engine_offers_done, one, &why) != 0) {
			engine_offers_error(r->ans, ep->name, why);
			free(why);
			free(one->provider);
			free(one);
			r->pending--;
		}
	}
	if (--r->pending == 0)
		engine_offers_finish(r);
	return 0;
}
