/* engine_policy.c: the engine's policy: loaded at open from opts.policy_path or
 * SYSTEM_DIR/policy.yaml (missing: no policy), reloaded by the tick when the file's identity
 * (device, inode, size, mtime) changes. A broken file at open: gantryd (opts.serving) does
 * not open; embedded mode opens and refuses every launch, naming the error. A broken file
 * later: the last good policy stays (gantryd; embedded mode still refuses launches while the
 * file is broken) and the error goes to the message line. Every reload is audited. */
#include "core/engine_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/xmalloc.h"

struct engine_polwatch {
	char *path;
	struct stat st; /* the file as last read (missing: zeroes) */
	/* replaced policies, kept until close: a cost snapshot may point into their budgets */
	struct policy **retired;
	size_t nretired;
};

static void engine_policy_stat(const char *path, struct stat *st)
{
	if (stat(path, st) != 0)
		memset(st, 0, sizeof *st);
}

static int engine_policy_same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void engine_policy_message(struct engine *e, const char *msg)
{
	struct engine_event ev = {.type = ENGINE_EV_MESSAGE, .message = msg};

	engine_emit(e, &ev);
}

int engine_policy_init(struct engine *e, char **cause)
{
	struct engine_polwatch *w = xcalloc(1, sizeof *w);
	struct policy *p = NULL;
	char *why = NULL;

	e->polwatch = w;
	w->path = e->opts.policy_path != NULL ? xstrdup(e->opts.policy_path)
	                                      : xprintf("%s/policy.yaml", e->cfg.system_dir);
	engine_policy_stat(w->path, &w->st);
	if (policy_load(w->path, &p, &why) != 0) {
		if (e->opts.serving) {
			xcause(cause, "%s", why);
			free(why);
			return -1;
		}
		e->policy_error = why; /* embedded: open, refuse every launch */
	}
	e->policy = p;
	engine_ident_policy_changed(e);
	return 0;
}

int engine_policy_reload(struct engine *e, char **cause)
{
	struct engine_polwatch *w = e->polwatch;
	struct policy *p = NULL;
	char *why = NULL, *msg;

	if (engine_is_remote(e))
		return xcause(cause, "gantryd reloads its policy itself");
	if (w == NULL)
		return xcause(cause, "no policy in remote mode: gantryd reloads its own");
	engine_policy_stat(w->path, &w->st);
	if (policy_load(w->path, &p, &why) != 0) {
		msg = xprintf("policy not reloaded (%s): %s",
		              e->opts.serving ? "the last good one stays"
		                              : "launches are refused until it is fixed",
		              why);
		engine_audit(e, "policy_reload", w->path, "failed", why, NULL);
		engine_policy_message(e, msg);
		free(msg);
		free(e->policy_error);
		e->policy_error = xstrdup(why);
		xcause(cause, "%s", why);
		free(why);
		return -1;
	}
	if (e->policy != NULL) {
		w->retired = xreallocarray(w->retired, w->nretired + 1, sizeof *w->retired);
		w->retired[w->nretired++] = e->policy;
	}
	e->policy = p;
	free(e->policy_error);
	e->policy_error = NULL;
	engine_ident_policy_changed(e);
	engine_tele_budgets_reset(e); /* the policy's budgets may have changed */
	engine_audit(e, "policy_reload", w->path, "ok",
	             p != NULL ? "policy loaded" : "no policy file: everything is allowed", NULL);
	msg = p != NULL ? xprintf("policy reloaded from %s", w->path)
	                : xprintf("policy %s removed: no policy applies", w->path);
	engine_policy_message(e, msg);
	free(msg);
	return 0;
}

void engine_policy_tick(struct engine *e)
{
	struct engine_polwatch *w = e->polwatch;
	struct stat st;

	if (w == NULL)
		return;
	engine_policy_stat(w->path, &st);
	if (engine_policy_same(&st, &w->st))
		return;
	engine_policy_reload(e, NULL);
}

void engine_policy_free(struct engine *e)
{
	struct engine_polwatch *w = e->polwatch;

	policy_free(e->policy);
	e->policy = NULL;
	free(e->policy_error);
	e->policy_error = NULL;
	if (w != NULL) {
		for (size_t i = 0; i < w->nretired; i++)
			policy_free(w->retired[i]);
		free(w->retired);
		free(w->path);
		free(w);
		e->polwatch = NULL;
	}
}

const struct policy *engine_policy(struct engine *e, const char **error)
{
	if (error != NULL)
		*error = e->policy_error;
	return e->policy;
}

const char *engine_provider_region(struct engine *e, const char *provider)
{
	struct engine_provider *ep;

	if (provider == NULL)
		return NULL;
	for (size_t i = 0; i < e->cfg.nproviders; i++)
		if (strcmp(e->cfg.providers[i].name, provider) == 0)
			return e->cfg.providers[i].region;
	ep = engine_find_provider(e, provider); /* the built-in local one, not configured */
	if (ep != NULL && ep->ops != NULL && strcmp(ep->ops->name, "local") == 0)
		return "local";
	return NULL;
}

/* The GPUs the actor's active jobs hold now (jobs waiting for approval hold none). */
static int engine_policy_gpus_in_use(struct engine *e)
{
	const struct ident *who = engine_actor(e);
	struct job_list l;
	char *cause = NULL;
	int n = 0;

	if (e->store == NULL || store_jobs_list(e->store, 1, &l, &cause) != 0) {
		free(cause);
		return 0;
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct job *j = &l.items[i];
		int mine = j->owner_uid >= 0 ? j->owner_uid == (int64_t)who->uid
		                             : j->owner != NULL && who->name != NULL &&
		                                   strcmp(j->owner, who->name) == 0;

		if (mine && j->state != JOB_PENDING_APPROVAL && j->gpus > 0)
			n += j->gpus;
	}
	job_list_free(&l);
	return n;
}

/* "H100" of "H100:8" (heap), NULL for "-" or none. */
static char *engine_policy_gpu_type(const char *accels)
{
	size_t n;

	if (accels == NULL || accels[0] == '\0' || strcmp(accels, "-") == 0)
		return NULL;
	n = strcspn(accels, ":,| ");
	return n > 0 ? xstrndup(accels, n) : NULL;
}

static void engine_policy_broken(struct engine *e, struct policy_verdict *out)
{
	memset(out, 0, sizeof *out);
	out->rule = xstrdup("policy");
	out->reason = xprintf("the policy file is broken, launches are refused until it is "
	                      "fixed: %s",
	                      e->policy_error);
	out->hits = xcalloc(1, sizeof *out->hits);
	out->nhits = 1;
	out->hits[0].rule = xstrdup("policy");
	out->hits[0].where = xstrdup(e->polwatch != NULL ? e->polwatch->path : "policy.yaml");
	out->hits[0].text = xstrdup(e->policy_error);
}

static void engine_policy_eval(struct engine *e, const struct engine_plan *plan,
                               const char *provider, const char *region, int priced,
                               double hourly_cost, int gpus_in_use, struct policy_verdict *out)
{
	const struct template *t = template_set_find(&e->tpls, plan->template_name);
	char *gpu_type = engine_policy_gpu_type(plan->accels);
	struct policy_launch l = {
	    .template_name = plan->template_name,
	    .provider = provider,
	    .region =
	        region != NULL && region[0] != '\0' ? region : engine_provider_region(e, provider),
	    .gpu_type = gpu_type,
	    .gpus = plan->gpus,
	    .gpus_in_use = gpus_in_use,
	    .priced = priced,
	    .hourly_cost = hourly_cost,
	    .classification = t != NULL ? t->classification : NULL,
	};

	policy_evaluate(e->policy, engine_actor(e), &l, out);
	free(gpu_type);
}

void engine_policy_verdict_at(struct engine *e, const struct engine_plan *plan,
                              const char *provider, const char *region, int priced,
                              double hourly_cost, struct policy_verdict *out)
{
	if (e->policy_error != NULL && !e->opts.serving) {
		engine_policy_broken(e, out);
		return;
	}
	if (e->policy == NULL) {
		memset(out, 0, sizeof *out);
		out->allowed = 1;
		return;
	}
	engine_policy_eval(e, plan, provider, region, priced, hourly_cost,
	                   engine_policy_gpus_in_use(e), out);
}

void engine_policy_verdict(struct engine *e, const struct engine_plan *plan,
                           struct policy_verdict *out)
{
	engine_policy_verdict_at(e, plan, plan->provider, plan->region, plan->offer.priced,
	                         plan->offer.price_per_hour, out);
}

int engine_policy_rule_is_place(const char *rule)
{
	size_t n = strlen(rule);

	return (n >= 10 && strcmp(rule + n - 10, ".providers") == 0) ||
	       (n >= 8 && strcmp(rule + n - 8, ".regions") == 0);
}

char *engine_policy_allowed_places(struct engine *e, const struct engine_plan *plan)
{
	char *s = NULL;

	if (e->policy == NULL)
		return NULL;
	for (size_t i = 0; i < e->nprovs; i++) {
		const char *name = e->provs[i].name;
		const char *region = engine_provider_region(e, name);
		struct policy_verdict v;
		int ok = 1;

		engine_policy_eval(e, plan, name, region, 0, 0, 0, &v);
		for (size_t h = 0; h < v.nhits; h++)
			if (!v.hits[h].allow && (engine_policy_rule_is_place(v.hits[h].rule) ||
			                         strcmp(v.hits[h].rule, "roles") == 0))
				ok = 0;
		policy_verdict_clear(&v);
		if (ok) {
			char *n = xprintf("%s%s%s (%s)", s != NULL ? s : "", s != NULL ? ", " : "",
			                  name, region != NULL ? region : "no region");
			free(s);
			s = n;
		}
	}
	return s;
}

void engine_policy_offers_drop(struct engine *e, const struct template *t, struct offer_list *l)
{
	int in_use;

	if (e->policy == NULL && e->policy_error == NULL)
		return;
	in_use = e->policy != NULL ? engine_policy_gpus_in_use(e) : 0;
	for (size_t i = 0; i < l->n; i++) {
		struct offer *o = &l->v[i];
		const char *gpu = o->gpu_type != NULL && o->gpu_type[0] != '\0' ? o->gpu_type
		                  : t->resources.naccels > 0 ? t->resources.accels[0].name
		                                             : NULL;
		const char *region = o->region != NULL && o->region[0] != '\0'
		                         ? o->region
		                         : engine_provider_region(e, o->provider);
		struct policy_launch pl = {
		    .template_name = t->name,
		    .provider = o->provider,
		    .region = region,
		    .gpu_type = gpu,
		    .gpus = template_gpu_count(t),
		    .gpus_in_use = in_use,
		    .priced = o->priced,
		    .hourly_cost = o->usd_per_hour,
		    .classification = t->classification,
		};
		struct policy_verdict v;

		if (o->dropped != NULL)
			continue;
		if (e->policy_error != NULL && !e->opts.serving) {
			o->dropped =
			    xprintf("policy: the policy file is broken: %s", e->policy_error);
			continue;
		}
		policy_evaluate(e->policy, engine_actor(e), &pl, &v);
		if (!v.allowed)
			o->dropped = xprintf("policy: %s", v.reason);
		policy_verdict_clear(&v);
	}
}

int engine_policy_explain(struct engine *e, const struct engine_plan *plan,
                          struct policy_verdict *out, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_policy_explain(e, plan, out, cause);
	engine_policy_verdict(e, plan, out);
	return 0;
}
