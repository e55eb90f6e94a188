/* engine_launch.c: planning, crash-safe launch and stop. */
#include "core/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/engine_policy.h"
#include "core/store_attempts.h"
#include "core/safefile.h"
#include "core/xmalloc.h"

void engine_plan_clear(struct engine_plan *p)
{
	free(p->template_name);
	free(p->provider);
	kvlist_free(&p->params);
	free(p->script);
	kvlist_free(&p->env);
	free(p->accels);
	offer_verdict_clear(&p->offer);
	free(p->region);
	free(p->instance_type);
	offer_list_free(&p->fallbacks);
	free(p->note);
	memset(p, 0, sizeof *p);
}

/* Job names end up in paths, commands and terminals: a small safe alphabet. */
static int engine_valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_.")] == '\0';
}

/* 1 (and *cause) when name could be taken for a job id: it looks like one (jobs are found
 * by id prefix) or it is the id of a job in the store. */
static int engine_name_is_id(struct engine *e, const char *name, char **cause)
{
	struct job j;
	int taken;

	if (job_id_like(name)) {
		xcause(cause,
		       "invalid job name '%s': it looks like a job id ('j' and hex digits); "
		       "pick a name that does not",
		       name);
		return 1;
	}
	job_init(&j);
	taken = store_job_get(e->store, name, &j, NULL) == 0;
	job_clear(&j);
	if (taken)
		xcause(cause, "invalid job name '%s': it is the id of another job", name);
	return taken;
}

/* The provider a request goes to: explicit, else the template's first placement that is
 * configured, else the default. */
static const char *engine_pick_provider(struct engine *e, const struct template *t,
                                        const char *asked)
{
	if (asked != NULL)
		return asked;
	for (size_t i = 0; i < t->nplacement_providers; i++)
		if (engine_find_provider(e, t->placement_providers[i]) != NULL)
			return t->placement_providers[i];
	return e->cfg.default_provider;
}

/* Everything of a plan but the offer: the template, the provider, the rendered script. */
static int engine_plan_prepare(struct engine *e, const struct engine_launch_req *req,
                               struct engine_plan *out, struct engine_provider **epp,
                               const struct template **tp, char **cause)
{
	const struct template *t = template_set_find(&e->tpls, req->template_name);
	struct engine_provider *ep;
	const char *pname;
	char *setup = NULL, *run = NULL;

	memset(out, 0, sizeof *out);
	if (t == NULL)
		return xcause(cause, "no template named '%s' (see: gantry templates)",
		              req->template_name);
	if (req->name != NULL && !engine_valid_name(req->name))
		return xcause(cause,
		              "invalid job name '%s': use 1-63 of a-z, 0-9, '-', '_', '.', "
		              "starting with a letter or digit",
		              req->name);
	if (req->name != NULL && engine_name_is_id(e, req->name, cause))
		return -1;
	if (t->error != NULL)
		return xcause(cause, "template '%s' is broken: %s", t->name, t->error);
	out->template_name = xstrdup(t->name);
	pname = engine_pick_provider(e, t, req->provider);
	ep = engine_find_provider(e, pname);
	if (ep == NULL) {
		char *names = engine_provider_names(e);

		xcause(cause, "no provider named '%s' is configured (configured: %s)", pname,
		       names);
		free(names);
		goto fail;
	}
	out->provider = xstrdup(ep->name);
	if (template_resolve_params(t, req->sets, req->nsets, &out->params, cause) != 0)
		goto fail;
	if (t->setup != NULL && template_render(t->setup, &out->params, &setup, cause) != 0)
		goto fail;
	if (template_render(t->run, &out->params, &run, cause) != 0)
		goto fail;
	out->script = xprintf("#!/bin/sh\n# gantry job from template %s\nset -e\n%s%s%s\n", t->name,
	                      setup != NULL ? setup : "", setup != NULL ? "\n" : "", run);
	for (size_t i = 0; i < t->env.n; i++) {
		char *v = NULL;

		if (template_render_raw(t->env.vals[i], &out->params, &v, cause) != 0)
			goto fail;
		kvlist_set(&out->env, t->env.keys[i], v);
		free(v);
	}
	out->want_port = template_wants_port(t);
	out->note = engine_replicas_note(t, ep->ops->name);
	out->gpus = template_gpu_count(t);
	out->accels = template_accel_string(t);
	if (engine_plan_runtime(t, req->max_runtime_s, &out->max_runtime_s, cause) != 0)
		goto fail;
	if (!ep->healthy) {
		xcause(cause, "provider %s is not available: %s", ep->name,
		       ep->message != NULL ? ep->message : "unknown reason");
		goto fail;
	}
	*epp = ep;
	*tp = t;
	free(setup);
	free(run);
	return 0;
fail:
	free(setup);
	free(run);
	engine_plan_clear(out);
	return -1;
}

/* The plan's offer: the first offer of the provider's list (heap copies). */
static void engine_plan_take_offer(struct engine_plan *plan, const struct offer_list *l)
{
	const struct offer *o;

	if (l == NULL || l->n == 0)
		return; /* no offer at all: left empty, as a provider without `offers` */
	o = &l->v[0];
	offer_verdict_from(&plan->offer, o);
	if (o->region != NULL && o->region[0] != '\0')
		plan->region = xstrdup(o->region);
	if (o->instance_type != NULL && o->instance_type[0] != '\0')
		plan->instance_type = xstrdup(o->instance_type);
	plan->spot = o->market == OFFER_SPOT;
	plan->billing_s = o->billing == OFFER_BILL_HOUR     ? 3600
	                  : o->billing == OFFER_BILL_MINUTE ? 60
	                                                    : 1;
}

struct engine_plan_req {
	struct engine_plan plan;
	struct engine *e; /* its templates rank a list of several offers */
	engine_plan_cb cb;
	void *arg;
};

static void engine_plan_offers_cb(void *arg, int rc, struct offer_list *l, const char *cause)
{
	struct engine_plan_req *q = arg;

	if (rc == 0) {
		/* several offers (a cloud's types and regions): the best one the template takes
		 * first, as the optimizer ranks them (limits and placement; budgets are the
		 * admission gate's) */
		const struct template *t =
		    q->plan.template_name != NULL
		        ? template_set_find(&q->e->tpls, q->plan.template_name)
		        : NULL;

		if (l != NULL && l->n > 1 && t != NULL) {
			struct offers_limits lim = {0};
			size_t fit;

			engine_policy_offers_drop(q->e, t, l); /* issue 12: the policy first */
			fit = offers_rank(l, t, &lim);

			for (size_t i = 1; i < fit; i++)
				offer_list_add(&q->plan.fallbacks, &l->v[i]);
		}
		engine_plan_take_offer(&q->plan, l);
		q->cb(q->arg, 0, &q->plan, NULL);
	} else {
		q->cb(q->arg, -1, NULL, cause != NULL ? cause : "the provider has no offer");
	}
	engine_plan_clear(&q->plan);
	free(q);
}

int engine_plan_async(struct engine *e, const struct engine_launch_req *req, engine_plan_cb cb,
                      void *arg, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_plan_async(e, req, cb, arg, cause);
	struct engine_plan_req *q = xcalloc(1, sizeof *q);
	struct engine_provider *ep = NULL;
	const struct template *t = NULL;

	if (engine_plan_prepare(e, req, &q->plan, &ep, &t, cause) != 0) {
		free(q);
		return -1;
	}
	q->cb = cb;
	q->arg = arg;
	if (ep->ops->plan_offer == NULL && ep->ops->offers == NULL) {
		engine_plan_offers_cb(q, 0, NULL, NULL);
		return 0;
	}
	q->e = e;
	if ((ep->ops->plan_offer != NULL ? ep->ops->plan_offer : ep->ops->offers)(
	        ep->p, t, engine_plan_offers_cb, q, cause) != 0) {
		engine_plan_clear(&q->plan);
		free(q);
		return -1;
	}
	return 0;
}

/* engine_plan's wait. Heap: an answer after engine_plan gave up finds it abandoned. */
struct engine_plan_wait {
	int done, abandoned, rc;
	char *cause;
	struct engine_plan plan;
};

static void engine_plan_wait_cb(void *arg, int rc, struct engine_plan *plan, const char *cause)
{
	struct engine_plan_wait *w = arg;

	if (w->abandoned) {
		free(w);
		return;
	}
	w->done = 1;
	w->rc = rc;
	if (rc == 0) {
		w->plan = *plan; /* moved out */
		memset(plan, 0, sizeof *plan);
	} else {
		w->cause = xstrdup(cause);
	}
}

/* Local and ssh answer at once; another provider gets the loop run until it answers (at most
 * ENGINE_PLAN_OFFER_MS): engine_plan is synchronous for its faces. */
#define ENGINE_PLAN_OFFER_MS 15000

static int engine_plan_one(struct engine *e, const struct engine_launch_req *req,
                           const struct engine_offers_answer *across,
                           struct engine_launch_req *pick, struct engine_plan *out, char **cause);

/* engine_plan's wait for the optimizer. Heap, as engine_plan_wait. */
struct engine_plan_offers_wait {
	int done, abandoned;
	struct engine_offers_answer *ans;
};

static void engine_plan_offers_wait_cb(void *arg, int rc, struct engine_offers_answer *ans,
                                       const char *cause)
{
	struct engine_plan_offers_wait *w = arg;

	(void)cause;
	if (w->abandoned) {
		engine_offers_answer_free(ans);
		free(w);
		return;
	}
	w->done = 1;
	w->ans = rc == 0 ? ans : NULL;
}

/* A template that names several providers (placement.providers) and a launch that names
 * none: the optimizer ranks every offer of those providers; the best one's provider plans the
 * launch and the other fitting offers, of any of them, are where a capacity error goes next.
 * NULL when there is nothing to choose (one provider, or no offer fits: the plan of the first
 * placement provider then says why). */
static struct engine_offers_answer *engine_plan_across(struct engine *e,
                                                       const struct engine_launch_req *req)
{
	const struct template *t = template_set_find(&e->tpls, req->template_name);
	struct engine_plan_offers_wait *w;
	uint64_t until = loop_now_ms() + ENGINE_PLAN_OFFER_MS;
	struct engine_offers_answer *ans;
	size_t nconf = 0;

	if (req->provider != NULL || t == NULL)
		return NULL;
	for (size_t i = 0; i < t->nplacement_providers; i++)
		nconf += engine_find_provider(e, t->placement_providers[i]) != NULL;
	if (nconf < 2)
		return NULL;
	w = xcalloc(1, sizeof *w);
	if (engine_offers(e, req, engine_plan_offers_wait_cb, w, NULL) != 0) {
		free(w);
		return NULL;
	}
	while (!w->done && loop_now_ms() < until)
		loop_run_once(e->loop, 100);
	if (!w->done) {
		w->abandoned = 1;
		return NULL;
	}
	ans = w->ans;
	free(w);
	if (ans != NULL && ans->nfit == 0) {
		engine_offers_answer_free(ans);
		ans = NULL;
	}
	return ans;
}

int engine_plan(struct engine *e, const struct engine_launch_req *req, struct engine_plan *out,
                char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_plan(e, req, out, cause);
	struct engine_offers_answer *across = engine_plan_across(e, req);
	struct engine_launch_req pick;
	int rc = engine_plan_one(e, req, across, &pick, out, cause);

	engine_offers_answer_free(across);
	return rc;
}

static int engine_plan_one(struct engine *e, const struct engine_launch_req *req,
                           const struct engine_offers_answer *across,
                           struct engine_launch_req *pick, struct engine_plan *out, char **cause)
{
	struct engine_plan_wait *w = xcalloc(1, sizeof *w);
	uint64_t until = loop_now_ms() + ENGINE_PLAN_OFFER_MS;
	int rc;

	memset(out, 0, sizeof *out);
	if (across != NULL) {
		*pick = *req;
		pick->provider = across->offers.v[0].provider;
		req = pick;
	}
	if (engine_plan_async(e, req, engine_plan_wait_cb, w, cause) != 0) {
		free(w);
		return -1;
	}
	while (!w->done && loop_now_ms() < until)
		loop_run_once(e->loop, 100);
	if (!w->done) {
		w->abandoned = 1;
		return xcause(cause, "the provider gave no offer within %d s",
		              ENGINE_PLAN_OFFER_MS / 1000);
	}
	rc = w->rc;
	if (rc == 0)
		*out = w->plan;
	else
		xcause(cause, "%s", w->cause);
	free(w->cause);
	free(w);
	if (rc == 0 && across != NULL) {
		/* the next offers, whatever their provider, after the one planned */
		offer_list_free(&out->fallbacks);
		for (size_t i = 1; i < across->nfit; i++)
			offer_list_add(&out->fallbacks, &across->offers.v[i]);
	}
	return rc == 0 ? 0 : -1;
}

/* Random lowercase hex of n bytes. */
static char *engine_random_hex(size_t n)
{
	unsigned char buf[32];
	char *s = xmalloc(n * 2 + 1);

	if (n > sizeof buf)
		n = sizeof buf;
	if (getrandom(buf, n, 0) != (ssize_t)n)
		xfatal("getrandom failed: %s", strerror(errno));
	for (size_t i = 0; i < n; i++)
		snprintf(s + i * 2, 3, "%02x", buf[i]);
	return s;
}

/* Writes the job's access token to secrets/ID (0600); it never enters the store. */
static int engine_write_token(struct engine *e, const char *id, const char *token, char **cause)
{
	char *path = xprintf("%s/%s.token", e->secrets_dir, id);
	/* a file already there (planted, or a link) is never reused or followed */
	int fd = safefile_create(path, O_WRONLY, 0600, cause);
	int rc = fd < 0 ? -1 : 0;

	if (fd >= 0 &&
	    (write(fd, token, strlen(token)) != (ssize_t)strlen(token) || fsync(fd) != 0))
		rc = xcause(cause, "cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

char *engine_job_token(struct engine *e, const char *id)
{
	if (engine_is_remote(e)) /* tokens stay with gantryd */
		return NULL;
	char *path = xprintf("%s/%s.token", e->secrets_dir, id);
	char buf[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	free(path);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

static char *engine_kv_json(const struct kvlist *kv)
{
	json_t *o = json_object();
	char *s, *r;

	/* jansson refuses text that is not UTF-8 (json_string gives NULL and the entry would
	 * silently vanish): keep such an entry, with U+FFFD for the bad bytes */
	for (size_t i = 0; i < kv->n; i++) {
		char *k = template_utf8_lossy(kv->keys[i]), *v = template_utf8_lossy(kv->vals[i]);

		json_object_set_new(o, k, json_string(v));
		free(k);
		free(v);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	r = xstrdup(s != NULL ? s : "{}");
	free(s);
	return r;
}

struct engine_launch_ctx {
	struct engine *e;
	char *job_id;
	char *token;
	int lock_fd;
	char *lock_path;
	enum job_kind kind;
	engine_result_cb cb;
	void *arg;
	/* what every attempt sends (a fallback sends it again with the next offer) */
	struct job j;
	struct engine_plan plan;
	struct kvlist env;
	struct provider_job_spec spec; /* points into j, plan, env and the strings below */
	char *gpu_type, *readiness_path;
	char *idem_key; /* this attempt's: the job's key for attempt 1, KEY-aN after */
	int attempt;
	size_t next_fallback; /* plan.fallbacks[next_fallback] is where a capacity error goes */
};

static void engine_launch_ctx_free(struct engine_launch_ctx *c)
{
	if (c->lock_fd >= 0) {
		unlink(c->lock_path);
		close(c->lock_fd);
	}
	free(c->lock_path);
	free(c->job_id);
	free(c->token);
	job_clear(&c->j);
	engine_plan_clear(&c->plan);
	kvlist_free(&c->env);
	free(c->gpu_type);
	free(c->readiness_path);
	free(c->idem_key);
	free(c);
}

static void engine_launch_done(void *arg, int rc, const struct provider_launch_result *res,
                               const char *pcause);

/* "lambda us-east-1 gpu_1x_a100" (heap): where an attempt went, for its events. */
static char *engine_attempt_place(const char *provider, const char *region, const char *type)
{
	return xprintf("%s%s%s%s%s", provider, region != NULL && *region ? " " : "",
	               region != NULL ? region : "", type != NULL && *type ? " " : "",
	               type != NULL ? type : "");
}

/* A capacity error with an offer left: records how the attempt ended, moves the job to the
 * next offer of the same provider as attempt + 1 (its own intent and key) and sends it.
 * 0 when the next attempt is on its way. */
static int engine_launch_fallback(struct engine_launch_ctx *c, const char *pcause)
{
	struct engine *e = c->e;
	struct engine_provider *ep;
	const struct offer *o;
	struct store_attempt a;
	char *was, *next, *why = NULL, *reason;
	int64_t now = loop_wall_ms();

	if (c->next_fallback >= c->plan.fallbacks.n)
		return -1;
	o = &c->plan.fallbacks.v[c->next_fallback];
	ep = engine_find_provider(e, o->provider);
	if (ep == NULL || ep->p == NULL || !ep->healthy)
		return -1;
	c->next_fallback++;
	was = engine_attempt_place(c->j.provider, c->spec.region, c->spec.instance_type);
	next = engine_attempt_place(o->provider, o->region, o->instance_type);
	store_attempt_end(e->store, c->job_id, c->attempt, "capacity", pcause, now, NULL);
	reason = xprintf("attempt %d on %s: no capacity (%s); attempt %d on %s", c->attempt, was,
	                 pcause != NULL ? pcause : "no reason given", c->attempt + 1, next);
	free(was);
	free(next);
	c->attempt++;
	free(c->idem_key);
	c->idem_key = xprintf("%s-a%d", c->j.idem_key, c->attempt);
	memset(&a, 0, sizeof a);
	a.job_id = c->job_id;
	a.attempt = c->attempt;
	a.idem_key = c->idem_key;
	a.provider = o->provider;
	a.region = o->region;
	a.instance_type = o->instance_type;
	a.market = (char *)offer_market_name(o->market);
	a.has_price = o->priced;
	a.price_per_hour = o->usd_per_hour;
	a.created_ms = now;
	if (store_attempt_begin(e->store, &a, &why) != 0 ||
	    store_job_set_offer(e->store, c->job_id, o->provider, o->priced, o->usd_per_hour,
	                        o->region, &why) != 0) {
		free(reason);
		free(why);
		return -1;
	}
	if (store_job_reason(e->store, c->job_id, JOB_PROVISIONING, reason, now, NULL) == 1)
		engine_emit_state(e, c->job_id, JOB_PROVISIONING, JOB_PROVISIONING, reason);
	free(reason);
	free(c->plan.region);
	free(c->plan.instance_type);
	c->plan.region = o->region != NULL && *o->region ? xstrdup(o->region) : NULL;
	c->plan.instance_type =
	    o->instance_type != NULL && *o->instance_type ? xstrdup(o->instance_type) : NULL;
	c->spec.idem_key = c->idem_key;
	c->spec.attempt = c->attempt;
	c->spec.region = c->plan.region;
	c->spec.instance_type = c->plan.instance_type;
	c->spec.market = o->market;
	if (strcmp(c->j.provider, o->provider) != 0) {
		free(c->j.provider);
		c->j.provider = xstrdup(o->provider);
	}
	engine_crash_point("before_fallback");
	e->busy++;
	if (ep->ops->launch(ep->p, &c->spec, engine_launch_done, c, &why) != 0) {
		e->busy--;
		store_attempt_end(e->store, c->job_id, c->attempt, "other", why, loop_wall_ms(),
		                  NULL);
		engine_move(e, c->job_id, JOB_FAILED, why != NULL ? why : "launch failed");
		store_intent_done(e->store, c->job_id, NULL);
		c->cb(c->arg, -1, c->job_id, why != NULL ? why : "launch failed");
		free(why);
		engine_launch_ctx_free(c);
	}
	return 0;
}

static void engine_launch_done(void *arg, int rc, const struct provider_launch_result *res,
                               const char *pcause)
{
	struct engine_launch_ctx *c = arg;
	struct engine *e = c->e;
	char *cause = NULL;
	struct job j;
	enum provider_error_class cls = res != NULL ? res->error_class : PROVIDER_ERR_OTHER;

	engine_crash_point("after_provider");
	e->busy--;
	job_init(&j);
	if (rc != 0) {
		if (cls == PROVIDER_ERR_CAPACITY && engine_launch_fallback(c, pcause) == 0)
			return;
		store_attempt_end(e->store, c->job_id, c->attempt, provider_error_class_name(cls),
		                  pcause, loop_wall_ms(), NULL);
		engine_move(e, c->job_id, JOB_FAILED, pcause != NULL ? pcause : "launch failed");
		store_intent_done(e->store, c->job_id, &cause);
		c->cb(c->arg, -1, c->job_id, pcause != NULL ? pcause : "launch failed");
		goto out;
	}
	if (store_job_get(e->store, c->job_id, &j, &cause) == 0) {
		free(j.provider_ref);
		j.provider_ref = xstrdup(res->ref);
		j.port = res->port;
		free(j.url);
		j.url = NULL;
		if (res->url != NULL)
			j.url = xstrdup(res->url);
		else if (res->port > 0 && c->kind != JOB_KIND_TRAINING)
			j.url = xprintf("http://127.0.0.1:%d/", res->port);
		store_job_update(e->store, &j, &cause);
	}
	/* from here the job holds what the provider made: billing starts (a queued batch job
	 * holds nothing until the backend starts it: its first RUNNING refresh opens the hold) */
	if (!res->queued)
		store_hold_open(e->store, c->job_id, c->attempt, loop_wall_ms(), NULL);
	engine_move(e, c->job_id, JOB_STARTING, "started by the provider");
	store_attempt_end(e->store, c->job_id, c->attempt, NULL, NULL, loop_wall_ms(), NULL);
	store_intent_done(e->store, c->job_id, &cause);
	c->cb(c->arg, 0, c->job_id, NULL);
out:
	free(cause);
	job_clear(&j);
	engine_launch_ctx_free(c);
}

int engine_launch(struct engine *e, const struct engine_launch_req *req, char **job_id,
                  engine_result_cb cb, void *arg, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_launch(e, req, job_id, cb, arg, cause);
	const struct template *t;
	struct engine_plan plan;
	struct engine_provider *ep;
	struct provider_job_spec *spec;
	struct engine_launch_ctx *c;
	struct job j;
	json_t *spec_json;
	char *s;
	int rc;

	if (e->opts.readonly)
		return xcause(cause, "read-only mode: launching is disabled");
	if (engine_plan(e, req, &plan, cause) != 0)
		return -1;
	t = template_set_find(&e->tpls, plan.template_name);
	{
		struct engine_admission adm;

		engine_admit(e, &plan, &adm);
		if (adm.refusal != ENGINE_ADMIT_OK) {
			xcause(cause, "%s", adm.reason);
			engine_admission_clear(&adm);
			engine_plan_clear(&plan);
			return -1;
		}
		if (adm.budget == COST_SOFT && adm.budget_reason != NULL) {
			char *msg = xprintf("budget warning: %s", adm.budget_reason);
			struct engine_event ev = {.type = ENGINE_EV_MESSAGE, .message = msg};

			engine_emit(e, &ev);
			free(msg);
		}
		engine_admission_clear(&adm);
	}
	ep = engine_find_provider(e, plan.provider);
	job_init(&j);
	j.id = job_new_id();
	if (req->name != NULL) {
		j.name = xstrdup(req->name);
	} else if (store_job_next_name(e->store, t->name, &j.name, cause) != 0) {
		goto fail;
	}
	j.kind = t->kind;
	j.state = JOB_PENDING;
	j.template_name = xstrdup(t->name);
	j.provider = xstrdup(plan.provider);
	j.owner = xstrdup(e->actor.name); /* the kernel's word (issue 12), not $USER */
	j.owner_uid = (int64_t)e->actor.uid;
	j.idem_key = xprintf("gantry-%s", j.id);
	j.params_json = engine_kv_json(&plan.params);
	j.gpus = plan.gpus;
	j.priced = plan.offer.priced;
	j.price_per_hour = plan.offer.priced ? plan.offer.price_per_hour : 0;
	j.billing_s = plan.billing_s > 0 ? plan.billing_s : 1; /* the offer's billing unit */
	j.region = plan.region != NULL ? xstrdup(plan.region) : NULL;
	j.team = engine_actor_team(e) != NULL ? xstrdup(engine_actor_team(e)) : NULL;
	j.project = e->cfg.project != NULL ? xstrdup(e->cfg.project) : NULL;
	j.created_ms = j.updated_ms = loop_wall_ms();
	spec_json = json_pack("{s:s, s:o, s:b, s:i}", "script", plan.script, "env",
	                      json_loads(s = engine_kv_json(&plan.env), 0, NULL), "want_port",
	                      plan.want_port, "gpus", plan.gpus);
	free(s);
	if (plan.max_runtime_s > 0) /* the cost forecast stops the job there (engine_cost.c) */
		json_object_set_new(spec_json, "max_runtime_s", json_integer(plan.max_runtime_s));
	if (t->kind == JOB_KIND_ENDPOINT && t->service.set) {
		/* the Job view's replica gauge shows the template's bounds */
		json_object_set_new(spec_json, "replicas_min",
		                    json_integer(t->service.replicas_min));
		json_object_set_new(spec_json, "replicas_max",
		                    json_integer(t->service.replicas_max));
	}
	s = json_dumps(spec_json, JSON_COMPACT | JSON_SORT_KEYS);
	j.spec_json = xstrdup(s != NULL ? s : "{}");
	free(s);
	json_decref(spec_json);

	c = xcalloc(1, sizeof *c);
	c->e = e;
	c->job_id = xstrdup(j.id);
	c->kind = j.kind;
	c->cb = cb;
	c->arg = arg;
	/* The launch lock tells reconcile in another process that this launch is alive. */
	c->lock_path = xprintf("%s/%s.lock", e->locks_dir, j.id);
	c->lock_fd = safefile_create(c->lock_path, O_RDWR, 0600, cause);
	if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		xcause(cause, "cannot lock %s: %s", c->lock_path, strerror(errno));
		engine_launch_ctx_free(c);
		goto fail;
	}
	/* Two processes may pick the same automatic name at once: the loser picks again. */
	for (int attempt = 0;; attempt++) {
		char *why = NULL;

		if (store_launch_intent(e->store, &j, &why) == 0)
			break;
		if (req->name != NULL || attempt >= 20 || strstr(why, "already exists") == NULL) {
			xcause(cause, "%s", why);
			free(why);
			engine_launch_ctx_free(c);
			goto fail;
		}
		free(why);
		free(j.name);
		j.name = NULL;
		if (store_job_next_name(e->store, t->name, &j.name, cause) != 0) {
			engine_launch_ctx_free(c);
			goto fail;
		}
	}
	engine_emit_state(e, j.id, JOB_PENDING, JOB_PENDING, "launch requested");
	engine_crash_point("after_intent");
	*job_id = xstrdup(j.id);

	kvlist_init(&c->env);
	kvlist_copy(&c->env, &plan.env);
	if (t->kind == JOB_KIND_NOTEBOOK) {
		c->token = engine_random_hex(24);
		if (engine_write_token(e, j.id, c->token, cause) != 0) {
			engine_move(e, j.id, JOB_FAILED, *cause);
			store_intent_done(e->store, j.id, NULL);
			engine_launch_ctx_free(c);
			job_clear(&j);
			engine_plan_clear(&plan);
			return -1;
		}
		kvlist_set(&c->env, "GANTRY_TOKEN", c->token);
	}
	/* the job and the plan live as long as the launch (a fallback sends them again) */
	c->j = j;
	c->plan = plan;
	job_init(&j);
	memset(&plan, 0, sizeof plan);
	c->attempt = 1;
	c->idem_key = xstrdup(c->j.idem_key);
	c->gpu_type =
	    t->resources.naccels > 0 && strcasecmp(t->resources.accels[0].name, "any") != 0
	        ? xstrdup(t->resources.accels[0].name)
	        : NULL;
	c->readiness_path =
	    t->service.set && t->service.readiness != NULL ? xstrdup(t->service.readiness) : NULL;
	spec = &c->spec;
	spec->job_id = c->j.id;
	spec->idem_key = c->idem_key;
	spec->name = c->j.name;
	spec->owner = c->j.owner;
	spec->installation_id = e->installation_id;
	spec->kind = c->j.kind;
	spec->script = c->plan.script;
	spec->env = &c->env;
	spec->want_port = c->plan.want_port;
	spec->fixed_port = t->service.set ? t->service.port : 0;
	spec->readiness_path = c->readiness_path;
	spec->readiness_timeout_s =
	    t->service.readiness_timeout_s > 0 ? t->service.readiness_timeout_s : 120;
	spec->gpus = c->plan.gpus;
	spec->gpu_type = c->gpu_type;
	spec->nodes = t->resources.nodes > 0 ? t->resources.nodes : 1;
	spec->max_runtime_s = c->plan.max_runtime_s;
	spec->team = c->j.team;
	spec->project = c->j.project;
	spec->cpus = t->resources.cpus;
	spec->memory_mib = (int64_t)t->resources.memory_gib * 1024;
	spec->replicas_min = t->service.set ? t->service.replicas_min : 0;
	spec->replicas_max = t->service.set ? t->service.replicas_max : 0;
	spec->target_qps_per_replica = t->service.set ? t->service.target_qps_per_replica : 0;
	spec->image = t->image;
	spec->template_name = t->name;
	spec->attempt = 1;
	spec->region = c->plan.region;
	spec->instance_type = c->plan.instance_type;
	spec->market = c->plan.spot ? OFFER_SPOT : OFFER_ONDEMAND;
	spec->env_pass = (const char *const *)e->cfg.job_env_pass;
	if (c->plan.region != NULL || c->plan.instance_type != NULL)
		store_attempt_place(e->store, c->job_id, 1, c->j.provider, c->plan.region,
		                    c->plan.instance_type, c->plan.spot ? "spot" : "on-demand",
		                    NULL);
	engine_move(e, c->job_id, JOB_PROVISIONING, "handed to provider");
	e->busy++;
	rc = ep->ops->launch(ep->p, spec, engine_launch_done, c, cause);
	if (rc != 0) {
		e->busy--;
		engine_move(e, c->job_id, JOB_FAILED, *cause != NULL ? *cause : "launch failed");
		store_attempt_end(e->store, c->job_id, 1, "other", *cause, loop_wall_ms(), NULL);
		store_intent_done(e->store, c->job_id, NULL);
		engine_launch_ctx_free(c);
		return -1;
	}
	return 0;
fail:
	job_clear(&j);
	engine_plan_clear(&plan);
	return -1;
}

struct engine_stop_ctx {
	struct engine *e;
	char *job_id;
	engine_result_cb cb;
	void *arg;
};

static void engine_stop_done(void *arg, int rc, const char *pcause)
{
	struct engine_stop_ctx *c = arg;

	c->e->busy--;
	c->cb(c->arg, rc, c->job_id, pcause);
	free(c->job_id);
	free(c);
}

static void engine_stop_quiet(void *arg, int rc, const char *job_id, const char *cause)
{
	(void)arg;
	(void)rc;
	(void)job_id;
	(void)cause;
}

int engine_stop(struct engine *e, const char *job_ref, engine_result_cb cb, void *arg, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_stop(e, job_ref, cb, arg, cause);
	struct job j;
	int rc;

	job_init(&j);
	if (engine_see_find(e, job_ref, &j, cause) != 0) /* only a job the actor may see */
		return -1;
	rc = engine_stop_why(e, j.id, NULL, cb, arg, cause);
	job_clear(&j);
	return rc;
}

int engine_stop_reason(struct engine *e, const char *job_id, const char *reason, char **cause)
{
	return engine_stop_why(e, job_id, reason, engine_stop_quiet, NULL, cause);
}

int engine_stop_why(struct engine *e, const char *job_ref, const char *reason, engine_result_cb cb,
                    void *arg, char **cause)
{
	struct engine_provider *ep;
	struct engine_stop_ctx *c;
	struct job j;
	char *why;

	if (e->opts.readonly)
		return xcause(cause, "read-only mode: stopping is disabled");
	job_init(&j);
	if (store_job_find(e->store, job_ref, &j, cause) != 0)
		return -1;
	if (job_state_terminal(j.state)) {
		xcause(cause, "job %s has already ended (%s)", j.name, job_state_name(j.state));
		job_clear(&j);
		return -1;
	}
	why = reason != NULL ? xstrdup(reason) : xprintf("stop requested by %s", e->actor.name);
	ep = engine_find_provider(e, j.provider);
	if (j.provider_ref == NULL || ep == NULL || ep->p == NULL) {
		/* nothing was created yet: it simply ends */
		engine_move(e, j.id, JOB_STOPPED, why);
		cb(arg, 0, j.id, NULL);
		free(why);
		job_clear(&j);
		return 0;
	}
	if (j.state != JOB_STOPPING && engine_move(e, j.id, JOB_STOPPING, why) != 0) {
		xcause(cause, "job %s cannot be stopped from state %s", j.name,
		       job_state_name(j.state));
		free(why);
		job_clear(&j);
		return -1;
	}
	free(why);
	c = xcalloc(1, sizeof *c);
	c->e = e;
	c->job_id = xstrdup(j.id);
	c->cb = cb;
	c->arg = arg;
	e->busy++;
	if (ep->ops->stop(ep->p, j.provider_ref, e->cfg.stop_grace_ms, engine_stop_done, c,
	                  cause) != 0) {
		e->busy--;
		free(c->job_id);
		free(c);
		job_clear(&j);
		return -1;
	}
	job_clear(&j);
	return 0;
}
