/* engine_tele.c: the telemetry pipeline of a watching engine (the TUI, `gantry watch`).
 * Every refresh tick it takes the providers' cached host samples (each provider refreshes
 * them itself, asynchronously), pushes new ones into per-GPU rings (sparklines, core/
 * tele_ring.h), folds closed 1-minute and 1-hour buckets into the store (core/tele_store.h),
 * records when each job's GPUs all sat below the idle threshold (job_idle: idle waste), and
 * applies template autostop: a job idle for idle_minutes, with no SSH session open, is
 * stopped (or warned about) with an event that says why and what it saved. Budgets whose
 * hard limit says `action: stop` stop their scope's jobs after the grace period. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/engine_policy.h"
#include "core/tele_close.h"
#include "core/tele_kernels.h"
#include "core/tele_ring.h"
#include "core/tele_store.h"
#include "core/xmalloc.h"

/* What the engine tracks per active job with GPUs. */
struct engine_jt {
	char *job_id;
	int64_t last_at;       /* time of the last sample taken into account */
	int last_idle;         /* that sample was idle */
	double util;           /* average utilisation of the job's GPUs then; < 0 unknown */
	struct cost_sample *s; /* recent samples for autostop (bounded) */
	size_t ns, cap;
	int acted; /* autostop stopped or warned */
	int seen;  /* still active in this tick */
	/* notebooks: Jupyter's /api/kernels, asked every ENGINE_KERNEL_POLL_MS */
	int kernel_known;
	int kernel_busy;
	int64_t kernel_activity_ms;
	int64_t kernel_asked_ms;
	int kernel_pending;
	int kernel_fails; /* answers in a row that were not a kernel list: asked less often */
};

/* An /api/kernels request in flight (freed by its callback or by engine_tele_close). */
struct engine_kq {
	struct engine *e;
	char *job_id;
	struct engine_kq *next;
};

struct engine_tele {
	struct tring_set *rings;
	struct tstore *ts;
	struct tclose *close; /* the hour close, off the loop (NULL: packed by tstore_put) */
	struct loop_timer *timer;
	struct engine_jt *jt;
	size_t njt;
	struct kvlist host_at; /* host name -> at_ms of the last sample pushed */
	int64_t last_flush_ms, last_prune_ms;
	int64_t last_budget_ms; /* budgets are checked every ENGINE_BUDGET_CHECK_MS */
	int64_t *hard_since;    /* per config budget: when its hard limit was reached (0 = not) */
	struct engine_kq *kq;   /* kernel requests in flight */
};

#define ENGINE_IDLE_DEFAULT_PCT   5.0
#define ENGINE_JT_MAX_SAMPLES     4096
#define ENGINE_KERNEL_POLL_MS     10000
#define ENGINE_KERNEL_BACKOFF_MAX 5     /* doublings of the poll interval after failures */
#define ENGINE_BUDGET_CHECK_MS    30000 /* reads every job: not on every tick */

static struct engine_jt *engine_jt_get(struct engine_tele *t, const char *id)
{
	for (size_t i = 0; i < t->njt; i++)
		if (strcmp(t->jt[i].job_id, id) == 0)
			return &t->jt[i];
	t->jt = xreallocarray(t->jt, t->njt + 1, sizeof *t->jt);
	memset(&t->jt[t->njt], 0, sizeof t->jt[0]);
	t->jt[t->njt].job_id = xstrdup(id);
	t->jt[t->njt].util = -1;
	return &t->jt[t->njt++];
}

static void engine_jt_sweep(struct engine_tele *t)
{
	for (size_t i = 0; i < t->njt;) {
		if (!t->jt[i].seen) {
			free(t->jt[i].job_id);
			free(t->jt[i].s);
			t->jt[i] = t->jt[--t->njt];
			continue;
		}
		t->jt[i++].seen = 0;
	}
}

static void engine_jt_add(struct engine_jt *jt, struct cost_sample s)
{
	if (jt->ns == ENGINE_JT_MAX_SAMPLES) {
		memmove(jt->s, jt->s + ENGINE_JT_MAX_SAMPLES / 2,
		        (ENGINE_JT_MAX_SAMPLES / 2) * sizeof *jt->s);
		jt->ns = ENGINE_JT_MAX_SAMPLES / 2;
	}
	if (jt->ns == jt->cap) {
		jt->cap = jt->cap ? jt->cap * 2 : 64;
		jt->s = xreallocarray(jt->s, jt->cap, sizeof *jt->s);
	}
	jt->s[jt->ns++] = s;
}

/* Pushes the hosts' new samples into the rings. */
static void engine_tele_push_hosts(struct engine *e, struct engine_tele *t)
{
	for (size_t p = 0; p < e->nprovs; p++) {
		struct tele_host *h = NULL;
		size_t n = 0;

		if (e->provs[p].p == NULL || e->provs[p].ops->hosts == NULL ||
		    e->provs[p].ops->hosts(e->provs[p].p, NULL, &h, &n) != 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			const char *prev =
			    h[i].name != NULL ? kvlist_get(&t->host_at, h[i].name) : NULL;
			char at[32];

			if (h[i].name == NULL || h[i].at_ms <= 0 ||
			    (prev != NULL && strtoll(prev, NULL, 10) >= h[i].at_ms))
				continue;
			tring_set_push_host(t->rings, &h[i]);
			snprintf(at, sizeof at, "%lld", (long long)h[i].at_ms);
			kvlist_set(&t->host_at, h[i].name, at);
		}
		tele_hosts_free(h, n);
	}
}

/* Stops a job for autostop or a budget, with the reason as its event. */
static void engine_tele_stop(struct engine *e, const char *job_id, const char *reason)
{
	char *cause = NULL;
	struct engine_event ev = {.type = ENGINE_EV_MESSAGE, .message = reason};

	engine_emit(e, &ev);
	if (engine_stop_reason(e, job_id, reason, &cause) != 0)
		free(cause);
}

static void engine_kq_unlink(struct engine_tele *t, struct engine_kq *q)
{
	for (struct engine_kq **pp = &t->kq; *pp != NULL; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	free(q->job_id);
	free(q);
}

/* Jupyter's answer (status 200 and a JSON list of kernels): any kernel busy, and the latest
 * last_activity. Anything else leaves the kernels unknown. */
static void engine_kernels_apply(struct engine *e, const char *job_id, int status, const char *body)
{
	struct engine_jt *jt = NULL;
	int busy = 0;

	for (size_t i = 0; e->tele != NULL && i < e->tele->njt; i++)
		if (strcmp(e->tele->jt[i].job_id, job_id) == 0)
			jt = &e->tele->jt[i];
	if (jt == NULL)
		return;
	jt->kernel_pending = 0;
	if (status == 200 && body != NULL &&
	    tele_kernels_parse(body, &busy, &jt->kernel_activity_ms) == 0) {
		jt->kernel_fails = 0;
		jt->kernel_known = 1;
		jt->kernel_busy = busy;
	} else {
		jt->kernel_known = 0; /* unknown is not idle: see engine_tele_job */
		if (jt->kernel_fails < ENGINE_KERNEL_BACKOFF_MAX)
			jt->kernel_fails++;
	}
}

static void engine_kernels_done(void *arg, const struct http_response *res)
{
	struct engine_kq *q = arg;

	engine_kernels_apply(q->e, q->job_id, res->status, res->body);
	engine_kq_unlink(q->e->tele, q);
}

/* A remote notebook's answer, through its provider (which calls this exactly once, also
 * after engine_tele_close: then there is no e->tele and nothing to update). */
static void engine_kernels_remote_done(void *arg, int status, const char *body, const char *error)
{
	struct engine_kq *q = arg;

	(void)error;
	engine_kernels_apply(q->e, q->job_id, status, body);
	free(q->job_id);
	free(q);
}

/* Asks a notebook's Jupyter for its kernels: a local job's URL is on this host; a remote
 * job's Jupyter listens on its worker's loopback and is asked through the provider's
 * worker_http (the ssh provider's HTTP session to that worker). */
static void engine_kernels_ask(struct engine *e, struct engine_jt *jt, const struct job *j,
                               const struct engine_provider *ep, int64_t now)
{
	struct engine_kq *q;
	char *tok, *url;
	int local;

	/* a Jupyter that does not answer is asked every 10 s, 20 s, 40 s ... up to 5 min 20 s */
	if (jt->kernel_pending ||
	    now - jt->kernel_asked_ms < ((int64_t)ENGINE_KERNEL_POLL_MS << jt->kernel_fails) ||
	    j->url == NULL)
		return;
	local = ep->ops->local_workers;
	if (!local && (ep->ops->worker_http == NULL || j->port <= 0 || j->provider_ref == NULL))
		return;
	tok = engine_job_token(e, j->id);
	if (local)
		url = xprintf("%s%sapi/kernels%s%s", j->url,
		              j->url[strlen(j->url) - 1] == '/' ? "" : "/",
		              tok != NULL ? "?token=" : "", tok != NULL ? tok : "");
	else
		url = xprintf("/api/kernels%s%s", tok != NULL ? "?token=" : "",
		              tok != NULL ? tok : "");
	free(tok);
	q = xcalloc(1, sizeof *q);
	q->e = e;
	q->job_id = xstrdup(j->id);
	jt->kernel_asked_ms = now;
	jt->kernel_pending = 1;
	if (!local) {
		if (ep->ops->worker_http(ep->p, j->provider_ref, j->port, url,
		                         engine_kernels_remote_done, q, NULL) != 0) {
			jt->kernel_pending = 0;
			free(q->job_id);
			free(q);
		}
		free(url);
		return;
	}
	q->next = e->tele->kq;
	e->tele->kq = q;
	if (http_get(e->http, url, 5000, engine_kernels_done, q, NULL) != 0) {
		jt->kernel_pending = 0;
		engine_kq_unlink(e->tele, q);
	}
	free(url);
}

/* One active job: its GPUs' sample, idle span, autostop. */
static void engine_tele_job(struct engine *e, struct engine_tele *t, const struct job *j,
                            int64_t now)
{
	struct engine_provider *ep = engine_find_provider(e, j->provider);
	const struct template *tpl = template_set_find(&e->tpls, j->template_name);
	struct tele_host *h = NULL;
	size_t n = 0, ng = 0;
	double util[64], below, sum = 0;
	int ok[64];
	int64_t at = 0;
	struct engine_jt *jt;
	struct cost_sample s;

	if (j->gpus <= 0 || ep == NULL || ep->p == NULL || ep->ops->hosts == NULL ||
	    j->provider_ref == NULL)
		return;
	jt = engine_jt_get(t, j->id);
	jt->seen = 1;
	if (ep->ops->hosts(ep->p, j->provider_ref, &h, &n) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (h[i].at_ms > at)
			at = h[i].at_ms;
		for (size_t g = 0; g < h[i].ngpus && ng < 64; g++, ng++) {
			util[ng] = h[i].gpus[g].util_pct.v;
			ok[ng] = h[i].gpus[g].util_pct.ok && h[i].reachable;
			sum += util[ng];
		}
	}
	tele_hosts_free(h, n);
	if (at <= jt->last_at)
		return; /* nothing new */
	s = cost_sample_make(at, util, ok, ng);
	jt->util = s.ok ? sum / (double)ng : -1;
	below = tpl != NULL && tpl->autostop.set ? tpl->autostop.gpu_util_below
	                                         : ENGINE_IDLE_DEFAULT_PCT;
	if (s.ok && s.max_util_pct < below) {
		/* idle since the previous sample when that one was idle too */
		if (jt->last_idle && jt->last_at > 0)
			store_idle_extend(e->store, j->id, jt->last_at, at,
			                  3 * (int64_t)e->cfg.refresh_ms + 5000, NULL);
		jt->last_idle = 1;
	} else {
		jt->last_idle = 0;
	}
	jt->last_at = at;
	engine_jt_add(jt, s);
	if (tpl == NULL || !tpl->autostop.set || jt->acted || j->state != JOB_RUNNING)
		return;
	if (j->kind == JOB_KIND_NOTEBOOK) {
		engine_kernels_ask(e, jt, j, ep, now);
		if (!jt->kernel_known)
			return; /* unknown kernels (not asked yet, or a Jupyter that did not
			         * answer): not idle, never stopped on a guess */
	}
	{
		struct cost_autostop a = {.idle_minutes = tpl->autostop.idle_minutes,
		                          .gpu_util_below = tpl->autostop.gpu_util_below,
		                          .max_gap_ms = 0};
		struct cost_autostop_input in;
		struct cost_autostop_result r;

		memset(&in, 0, sizeof in);
		in.samples = jt->s;
		in.nsamples = jt->ns;
		in.ssh_open = engine_job_sessions(e, j->id) > 0;
		in.notebook = j->kind == JOB_KIND_NOTEBOOK && jt->kernel_known;
		in.kernel_busy = jt->kernel_busy;
		in.kernel_activity_ms = jt->kernel_activity_ms;
		in.now_ms = now;
		cost_autostop_decide(&a, &in, &r);
		if (r.act) {
			double saved =
			    j->priced ? cost_autostop_saving(j->price_per_hour, j->started_ms,
			                                     tpl->limits.max_runtime_s * 1000, now)
			              : 0;
			char money[32];
			char *msg;

			cost_money(saved, money);
			jt->acted = 1;
			if (tpl->autostop.action_stop) {
				msg = j->priced
				          ? xprintf("autostop: %s; stopping %s saves about %s",
				                    r.reason, j->name, money)
				          : xprintf("autostop: %s; stopping %s (unpriced)",
				                    r.reason, j->name);
				engine_tele_stop(e, j->id, msg);
			} else {
				struct engine_event ev = {.type = ENGINE_EV_MESSAGE};

				msg =
				    xprintf("autostop warning: %s is idle: %s", j->name, r.reason);
				ev.message = msg;
				engine_emit(e, &ev);
			}
			free(msg);
		}
		cost_autostop_result_clear(&r);
	}
}

/* Budgets whose hard limit stops jobs: after the grace period, stop the scope's jobs. */
static void engine_tele_budgets(struct engine *e, struct engine_tele *t, const struct job_list *l,
                                int64_t now)
{
	struct engine_cost *c;
	int in_grace = 0;

	for (size_t b = 0; b < engine_budgets_count(e); b++)
		in_grace |= t->hard_since[b] != 0;
	/* every ENGINE_BUDGET_CHECK_MS, every tick while a stop's grace period runs */
	if (engine_budgets_count(e) == 0 ||
	    (!in_grace && now - t->last_budget_ms < ENGINE_BUDGET_CHECK_MS))
		return;
	t->last_budget_ms = now;
	if (engine_cost(e, &c, NULL) != 0)
		return;
	for (size_t b = 0; b < c->nbudgets; b++) {
		const struct engine_budget_status *bs = &c->budgets[b];

		if (bs->verdict != COST_HARD || !bs->cfg->stop) {
			t->hard_since[b] = 0;
			continue;
		}
		if (t->hard_since[b] == 0) {
			char *msg = xprintf("budget: %s; its jobs stop in %d s", bs->reason,
			                    bs->cfg->grace_s);
			struct engine_event ev = {.type = ENGINE_EV_MESSAGE, .message = msg};

			t->hard_since[b] = now;
			engine_emit(e, &ev);
			free(msg);
			continue;
		}
		if (!cost_budget_stop_due(&bs->budget, t->hard_since[b], now))
			continue;
		for (size_t i = 0; i < l->n; i++) {
			const struct job *j = &l->items[i];
			const char *who = strcmp(bs->cfg->scope, "team") == 0      ? j->team
			                  : strcmp(bs->cfg->scope, "project") == 0 ? j->project
			                                                           : j->owner;

			if (j->state != JOB_RUNNING && j->state != JOB_STARTING)
				continue;
			if (who != NULL && strcmp(who, bs->cfg->name) == 0 && j->priced) {
				char *msg = xprintf("budget: %s; stopped", bs->reason);

				engine_tele_stop(e, j->id, msg);
				free(msg);
			}
		}
	}
	engine_cost_free(c);
}

static void engine_tele_flush(struct engine *e, struct engine_tele *t, int64_t now, int all)
{
	struct tring_bucket *b;
	size_t n = 0;

	if (t->ts == NULL)
		return;
	if (all || now - t->last_flush_ms >= 60000) {
		tring_set_close(t->rings, all ? now + 3600 * 1000 : now);
		b = tring_set_take(t->rings, &n);
		if (n > 0)
			tstore_put(t->ts, b, n, NULL);
		free(b);
		/* an hour ended: packed on the closer's thread, in short transactions */
		if (t->close != NULL && !all && tstore_close_due(t->ts, NULL) > 0)
			tclose_kick(t->close);
		t->last_flush_ms = now;
	}
	/* at the first tick, then hourly: a gantry that is only ever open for minutes prunes too */
	if (!all && (t->last_prune_ms == 0 || now - t->last_prune_ms >= 3600 * 1000)) {
		struct tstore_retention r = {.keep_1m_s = e->cfg.history_1m_s,
		                             .keep_1h_s = e->cfg.history_1h_s};

		tstore_prune(t->ts, now, &r, NULL, NULL);
		t->last_prune_ms = now;
	}
}

static void engine_tele_tick_run(void *arg)
{
	struct engine *e = arg;
	struct engine_tele *t = e->tele;
	struct job_list l = {0};
	int64_t now = loop_wall_ms();

	engine_tele_push_hosts(e, t);
	if (store_jobs_list(e->store, 1, &l, NULL) == 0) {
		for (size_t i = 0; i < l.n; i++)
			engine_tele_job(e, t, &l.items[i], now);
		engine_tele_budgets(e, t, &l, now);
		job_list_free(&l);
	}
	engine_jt_sweep(t);
	engine_tele_flush(e, t, now, 0);
}

/* as the process itself, never as a gantryd client (engine_actor_as_self) */
static void engine_tele_tick(void *arg)
{
	struct ident saved;

	engine_actor_as_self(arg, &saved);
	engine_tele_tick_run(arg);
	engine_actor_restore(arg, &saved);
}

void engine_watch(struct engine *e)
{
	if (engine_is_remote(e)) /* gantryd watches */
		return;
	struct engine_tele *t;

	if (e->tele != NULL || e->opts.readonly)
		return;
	t = xcalloc(1, sizeof *t);
	t->rings = tring_set_new(0);
	t->ts = tstore_open(store_db(e->store), NULL);
	if (t->ts != NULL) {
		t->close = tclose_new(e->loop, store_db(e->store));
		tstore_defer_close(t->ts, t->close != NULL);
		if (t->close != NULL && tstore_close_due(t->ts, NULL) > 0)
			tclose_kick(t->close); /* one a previous run left half done */
	}
	kvlist_init(&t->host_at);
	t->hard_since = xcalloc(engine_budgets_count(e) + 1, sizeof *t->hard_since);
	t->last_flush_ms = loop_wall_ms();
	t->last_prune_ms = 0; /* the first tick prunes */
	e->tele = t;
	t->timer = loop_timer_add(e->loop, 50, (uint64_t)e->cfg.refresh_ms, engine_tele_tick, e);
	engine_rewatch_start(e);
}

void engine_tele_close(struct engine *e)
{
	struct engine_tele *t = e->tele;

	engine_rewatch_stop(e);
	if (t == NULL)
		return;
	loop_timer_cancel(e->loop, t->timer);
	while (t->kq != NULL) /* their callbacks never run: http_free cancels them */
		engine_kq_unlink(t, t->kq);
	/* a close running stops after its current range; the rest stays open, closed next time */
	tclose_free(t->close);
	t->close = NULL;
	engine_tele_flush(e, t, loop_wall_ms(), 1);
	for (size_t i = 0; i < t->njt; i++) {
		free(t->jt[i].job_id);
		free(t->jt[i].s);
	}
	free(t->jt);
	tring_set_free(t->rings);
	tstore_close(t->ts);
	kvlist_free(&t->host_at);
	free(t->hard_since);
	free(t);
	e->tele = NULL;
}

void engine_tele_budgets_reset(struct engine *e)
{
	if (e->tele == NULL)
		return;
	free(e->tele->hard_since);
	e->tele->hard_since = xcalloc(engine_budgets_count(e) + 1, sizeof *e->tele->hard_since);
}

size_t engine_gpu_history(struct engine *e, const char *host, int gpu, enum engine_metric m,
                          double *out, int *valid, size_t n)
{
	struct tring *r;
	struct tele_val *v;
	size_t got;
	static const enum tring_field f[] = {TRING_UTIL, TRING_MEM, TRING_TEMP, TRING_POWER};

	if (e->tele == NULL || (r = tring_set_find(e->tele->rings, host, gpu)) == NULL || n == 0)
		return 0;
	v = xcalloc(n, sizeof *v);
	got = tring_last(r, f[m], n, v);
	for (size_t i = 0; i < got; i++) {
		out[i] = v[i].v;
		valid[i] = v[i].ok;
	}
	free(v);
	return got;
}

double engine_job_gpu_util(struct engine *e, const char *job_id)
{
	if (e->tele == NULL)
		return -1;
	for (size_t i = 0; i < e->tele->njt; i++)
		if (strcmp(e->tele->jt[i].job_id, job_id) == 0)
			return e->tele->jt[i].util;
	return -1;
}
