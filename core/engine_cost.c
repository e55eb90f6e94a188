/* engine_cost.c: what jobs cost, from the store: each job holds resources from the moment
 * its provider created them (created_ms, for jobs that got a provider ref) until it ended, at
 * the price fixed at launch; idle spans come from the job_idle table. Budgets from config.yaml
 * are checked against the month to date of their scope; a launch that would reach a hard
 * limit is refused before anything is created (core/engine_launch.c). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/engine_policy.h"
#include "core/loop.h"
#include "core/store_attempts.h"
#include "core/xmalloc.h"

/* A hold as a cost interval (an open one runs until now). */
static void engine_cost_hold_iv(const struct store_hold *h, struct cost_interval *iv)
{
	iv->start_ms = h->start_ms;
	iv->end_ms = h->end_ms > 0 ? h->end_ms : COST_OPEN;
}

double engine_job_cost(struct engine *e, const struct job *j, int64_t now, int *priced)
{
	if (engine_is_remote(e))
		return *priced = 0, 0;
	struct cost_interval one, *iv = &one;
	struct store_hold *h = NULL;
	struct cost_job cj;
	size_t nh = 0;
	double v;

	memset(&cj, 0, sizeof cj);
	if (priced != NULL)
		*priced = j->priced;
	if (!j->priced)
		return 0;
	cj.priced = 1;
	cj.usd_per_hour = j->price_per_hour;
	cj.billing.unit_ms = (int64_t)(j->billing_s > 0 ? j->billing_s : 1) * 1000;
	if (e != NULL && store_holds_job(e->store, j->id, &h, &nh, NULL) == 0 && nh > 0) {
		iv = xcalloc(nh, sizeof *iv);
		for (size_t k = 0; k < nh; k++)
			engine_cost_hold_iv(&h[k], &iv[k]);
		cj.held = iv;
		cj.nheld = nh;
	} else {
		/* nothing held (yet): a queued batch job, or a launch that made nothing */
		cj.held = &one;
		cj.nheld = 0;
	}
	v = cost_job_to_date(&cj, now);
	if (iv != &one)
		free(iv);
	store_holds_free(h, nh);
	return v;
}

static enum cost_scope engine_scope(const char *s)
{
	return strcmp(s, "team") == 0      ? COST_SCOPE_TEAM
	       : strcmp(s, "project") == 0 ? COST_SCOPE_PROJECT
	                                   : COST_SCOPE_USER;
}

/* The budgets that apply: config.yaml's, then the policy's (issue 12). Both apply, so a
 * user's config.yaml can only make them stricter. */
size_t engine_budgets_count(struct engine *e)
{
	size_t n = 0;

	policy_budgets(e->policy, &n);
	return e->cfg.nbudgets + n;
}

const struct config_budget *engine_budget_at(struct engine *e, size_t i)
{
	size_t n = 0;
	const struct config_budget *pb = policy_budgets(e->policy, &n);

	return i < e->cfg.nbudgets ? &e->cfg.budgets[i] : &pb[i - e->cfg.nbudgets];
}

static void engine_budget_from_config(const struct config_budget *cb, struct cost_budget *b)
{
	memset(b, 0, sizeof *b);
	cost_budget_defaults(b);
	b->scope = engine_scope(cb->scope);
	b->name = cb->name;
	b->monthly_usd = cb->monthly;
	b->soft_fraction = cb->soft;
	b->hard_fraction = cb->hard;
	b->on_hard = cb->stop ? COST_HARD_STOP : COST_HARD_REFUSE;
	b->grace_s = cb->grace_s;
}

/* Whether job j belongs to the budget's scope. */
static int engine_in_scope(const struct config_budget *cb, const struct job *j)
{
	const char *who = strcmp(cb->scope, "team") == 0      ? j->team
	                  : strcmp(cb->scope, "project") == 0 ? j->project
	                                                      : j->owner;

	return who != NULL && strcmp(who, cb->name) == 0;
}

/* Month to date and burn of a budget's scope over the computed jobs. */
static void engine_budget_spent(const struct engine_cost *c, const struct config_budget *cb,
                                double *spent, double *burn)
{
	int64_t from = cost_month_start(c->now);

	*spent = *burn = 0;
	for (size_t i = 0; i < c->jobs.n; i++) {
		const struct cost_job *cj = &c->cj[i];

		if (!cj->priced || !engine_in_scope(cb, &c->jobs.items[i]))
			continue;
		*spent += cost_job_between(cj, from, c->now + 1, c->now);
		if (cost_job_holding(cj, c->now))
			*burn += cj->usd_per_hour;
	}
}

/* A budget's month-end forecast: spent + each job in scope until its max_runtime or the month
 * end (cost_job_forecast_rest). */
static double engine_budget_forecast(const struct engine_cost *c, const struct config_budget *cb,
                                     double spent)
{
	double f = spent;

	for (size_t i = 0; i < c->jobs.n; i++)
		if (engine_in_scope(cb, &c->jobs.items[i]))
			f += cost_job_forecast_rest(&c->cj[i], c->now);
	return f;
}

/* When job j's max_runtime stops it (started, else created, + max_runtime), or 0: the launch's
 * own max_runtime from its spec, else its template's limits.max_runtime. */
static int64_t engine_cost_stop_by(struct engine *e, const struct job *j)
{
	long s = 0;
	json_t *spec = j->spec_json != NULL ? json_loads(j->spec_json, 0, NULL) : NULL;
	json_t *v = spec != NULL ? json_object_get(spec, "max_runtime_s") : NULL;

	if (json_is_integer(v))
		s = (long)json_integer_value(v);
	json_decref(spec);
	if (s <= 0 && j->template_name != NULL) {
		const struct template *t = template_set_find(&e->tpls, j->template_name);

		s = t != NULL ? t->limits.max_runtime_s : 0;
	}
	if (s <= 0)
		return 0;
	return (j->started_ms > 0 ? j->started_ms : j->created_ms) + (int64_t)s * 1000;
}

/* Index of the first entry of id in ids[0..n) (sorted), or n. */
static size_t engine_cost_first(char *const *ids, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(ids[mid], id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(ids[lo], id) == 0 ? lo : n;
}

/* Gives each job with rows in the holds table those intervals (ordered by job id). */
static void engine_cost_holds(struct engine *e, struct engine_cost *c)
{
	struct store_hold *h = NULL;
	size_t n = 0;

	if (store_holds_since(e->store, 0, &h, &n, NULL) != 0 || n == 0)
		return;
	c->holds = xcalloc(n, sizeof *c->holds);
	c->hold_ids = xcalloc(n, sizeof *c->hold_ids);
	c->nholds = n;
	for (size_t k = 0; k < n; k++) {
		engine_cost_hold_iv(&h[k], &c->holds[k]);
		c->hold_ids[k] = h[k].job_id;
		h[k].job_id = NULL;
	}
	store_holds_free(h, n);
	for (size_t i = 0; i < c->jobs.n; i++) {
		size_t lo = engine_cost_first(c->hold_ids, n, c->jobs.items[i].id), k = lo;

		while (k < n && strcmp(c->hold_ids[k], c->jobs.items[i].id) == 0)
			k++;
		if (k > lo) {
			c->cj[i].held = &c->holds[lo];
			c->cj[i].nheld = k - lo;
		}
	}
}

/* Attaches each job's idle spans (job_idle is ordered by job id). */
static void engine_cost_idle(struct engine *e, struct engine_cost *c)
{
	char **ids = NULL;
	int64_t *st = NULL, *en = NULL;
	size_t n = 0;

	if (store_idle_all(e->store, &ids, &st, &en, &n, NULL) != 0 || n == 0)
		return;
	c->idle = xcalloc(n, sizeof *c->idle);
	c->idle_ids = ids;
	for (size_t k = 0; k < n; k++) {
		c->idle[k].start_ms = st[k];
		c->idle[k].end_ms = en[k];
	}
	c->idle_ids = xreallocarray(ids, n + 1, sizeof *ids);
	c->idle_ids[n] = NULL;
	for (size_t i = 0; i < c->jobs.n; i++) {
		const char *id = c->jobs.items[i].id;
		size_t lo = 0, hi = n;

		while (lo < hi) { /* first span of this job */
			size_t mid = (lo + hi) / 2;

			if (strcmp(c->idle_ids[mid], id) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < n && strcmp(c->idle_ids[lo], id) == 0) {
			size_t k = lo;

			while (k < n && strcmp(c->idle_ids[k], id) == 0)
				k++;
			c->cj[i].idle = &c->idle[lo];
			c->cj[i].nidle = k - lo;
		}
	}
	free(st);
	free(en);
}

int engine_cost(struct engine *e, struct engine_cost **out, char **cause)
{
	if (engine_is_remote(e))
		return *out = NULL, engine_remote_unavailable_op(e, "cost", cause);
	struct engine_cost *c = xcalloc(1, sizeof *c);

	*out = NULL;
	c->now = loop_wall_ms();
	if (store_jobs_list(e->store, 0, &c->jobs, cause) != 0) {
		free(c);
		return -1;
	}
	c->cj = xcalloc(c->jobs.n + 1, sizeof *c->cj);
	c->held = xcalloc(c->jobs.n + 1, sizeof *c->held);
	c->to_date = xcalloc(c->jobs.n + 1, sizeof *c->to_date);
	c->resource = xcalloc(c->jobs.n + 1, sizeof *c->resource);
	for (size_t i = 0; i < c->jobs.n; i++) {
		const struct job *j = &c->jobs.items[i];
		struct cost_job *cj = &c->cj[i];

		cj->id = j->id;
		cj->name = j->name;
		cj->user = j->owner;
		cj->team = j->team;
		cj->project = j->project;
		cj->template_name = j->template_name;
		cj->provider = j->provider;
		cj->region = j->region;
		cj->kind = job_kind_name(j->kind);
		c->resource[i] = j->gpus > 0 ? xprintf("%d GPU%s", j->gpus, j->gpus == 1 ? "" : "s")
		                             : xstrdup("CPU");
		cj->resource = c->resource[i];
		cj->priced = j->priced;
		cj->usd_per_hour = j->price_per_hour;
		cj->stale = j->state == JOB_UNKNOWN;
		cj->billing.unit_ms = (int64_t)(j->billing_s > 0 ? j->billing_s : 1) * 1000;
		cj->held = &c->held[i];
		cj->nheld = 0; /* the job's holds, if any, come next */
	}
	engine_cost_holds(e, c);
	for (size_t i = 0; i < c->jobs.n; i++)
		if (cost_job_holding(&c->cj[i], c->now))
			c->cj[i].stop_by_ms = engine_cost_stop_by(e, &c->jobs.items[i]);
	engine_cost_idle(e, c);
	for (size_t i = 0; i < c->jobs.n; i++)
		c->to_date[i] = c->cj[i].priced ? cost_job_to_date(&c->cj[i], c->now) : 0;
	cost_view_compute(c->cj, c->jobs.n, c->now, &c->view);
	c->nbudgets = engine_budgets_count(e);
	c->budgets = xcalloc(c->nbudgets + 1, sizeof *c->budgets);
	for (size_t b = 0; b < c->nbudgets; b++) {
		struct engine_budget_status *bs = &c->budgets[b];
		struct cost_budget_result r;

		bs->cfg = engine_budget_at(e, b);
		engine_budget_from_config(bs->cfg, &bs->budget);
		engine_budget_spent(c, bs->cfg, &bs->spent, &bs->burn);
		cost_budget_check(&bs->budget, bs->spent, bs->burn, NULL, &r);
		bs->verdict = r.verdict;
		bs->used = r.used_fraction;
		bs->forecast = engine_budget_forecast(c, bs->cfg, bs->spent);
		bs->hours_to_hard = r.hours_to_hard;
		bs->reason = r.reason;
		r.reason = NULL;
		cost_budget_result_clear(&r);
	}
	*out = c;
	return 0;
}

void engine_cost_free(struct engine_cost *c)
{
	if (c == NULL)
		return;
	for (size_t b = 0; b < c->nbudgets; b++)
		free(c->budgets[b].reason);
	free(c->budgets);
	cost_view_clear(&c->view);
	for (size_t i = 0; c->idle_ids != NULL && c->idle_ids[i] != NULL; i++)
		free(c->idle_ids[i]);
	free(c->idle_ids);
	free(c->idle);
	for (size_t i = 0; i < c->jobs.n; i++)
		free(c->resource[i]);
	free(c->resource);
	free(c->held);
	for (size_t i = 0; i < c->nholds; i++)
		free(c->hold_ids[i]);
	free(c->hold_ids);
	free(c->holds);
	free(c->to_date);
	free(c->cj);
	job_list_free(&c->jobs);
	free(c);
}

int engine_cost_focus(struct engine *e, FILE *f, int64_t from, int64_t to, size_t *nrows,
                      size_t *nunpriced, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_unavailable_op(e, "cost", cause);
	struct engine_cost *c;
	int rc;

	if (engine_cost(e, &c, cause) != 0)
		return -1;
	rc = cost_focus_write(f, c->cj, c->jobs.n, from, to, c->now, nrows, nunpriced, cause);
	engine_cost_free(c);
	return rc;
}

enum cost_verdict engine_budget_check_launch(struct engine *e, const struct engine_plan *plan,
                                             char **reason)
{
	if (engine_is_remote(e)) /* gantryd's admission checks the budgets */
		return *reason = NULL, COST_OK;
	struct engine_cost *c;
	struct job me;
	struct cost_launch l;
	enum cost_verdict worst = COST_OK;
	char what[64];

	*reason = NULL;
	if (engine_budgets_count(e) == 0 || engine_cost(e, &c, NULL) != 0)
		return COST_OK;
	memset(&me, 0, sizeof me);
	me.owner = e->actor.name;
	me.team = e->actor_team;
	me.project = e->cfg.project;
	snprintf(what, sizeof what, "%s on %s", plan->template_name,
	         plan->provider != NULL ? plan->provider : "?");
	memset(&l, 0, sizeof l);
	l.priced = plan->offer.priced;
	l.usd_per_hour = plan->offer.priced ? plan->offer.price_per_hour : 0;
	l.runtime_ms = plan->max_runtime_s > 0 ? plan->max_runtime_s * 1000 : 0;
	l.what = what;
	for (size_t b = 0; b < c->nbudgets; b++) {
		struct cost_budget_result r;

		if (!engine_in_scope(c->budgets[b].cfg, &me))
			continue;
		cost_budget_check(&c->budgets[b].budget, c->budgets[b].spent, c->budgets[b].burn,
		                  &l, &r);
		if (r.verdict > worst || (*reason == NULL && r.verdict == worst)) {
			worst = r.verdict;
			free(*reason);
			*reason = r.reason;
			r.reason = NULL;
		}
		cost_budget_result_clear(&r);
	}
	engine_cost_free(c);
	return worst;
}
