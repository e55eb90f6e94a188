/* engine.c: the engine's life cycle, events, queries and the refresh of active jobs. */
#include "core/engine.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <libssh2.h>
#include <sqlite3.h>
#include <stdio.h>
#include <yaml.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/engine_remote_internal.h"
#include "core/store_attempts.h"
#include "core/xmalloc.h"

char *engine_provider_names(struct engine *e)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < e->nprovs; i++)
		len += strlen(e->provs[i].name) + 2;
	s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; i < e->nprovs; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, e->provs[i].name);
	}
	return s;
}

void engine_crash_point(const char *name)
{
	const char *want = getenv("GANTRY_TEST_CRASH");

	if (want != NULL && strcmp(want, name) == 0)
		raise(SIGKILL);
}

void engine_emit(struct engine *e, const struct engine_event *ev)
{
	for (size_t i = 0; i < e->nsubs; i++)
		e->subs[i].cb(e->subs[i].arg, ev);
}

void engine_emit_state(struct engine *e, const char *job_id, enum job_state from, enum job_state to,
                       const char *reason)
{
	struct engine_event ev = {.type = ENGINE_EV_JOB_STATE,
	                          .job_id = job_id,
	                          .from = from,
	                          .to = to,
	                          .reason = reason};
	struct engine_event ch = {.type = ENGINE_EV_JOBS_CHANGED, .job_id = job_id};

	engine_emit(e, &ev);
	engine_emit(e, &ch);
	if (job_state_terminal(to) && e->nfwds > 0)
		engine_forwards_job_ended(e, job_id);
}

struct engine_provider *engine_find_provider(struct engine *e, const char *name)
{
	for (size_t i = 0; i < e->nprovs; i++)
		if (strcmp(e->provs[i].name, name) == 0)
			return &e->provs[i];
	return NULL;
}

/* One step of engine_move; returns 0 on success. */
static int engine_step(struct engine *e, const char *id, enum job_state from, enum job_state to,
                       const char *reason)
{
	char *cause = NULL;

	int64_t now = loop_wall_ms();

	if (store_job_transition(e->store, id, to, reason, now, &cause) != 0) {
		free(cause);
		return -1;
	}
	/* an ended job holds nothing any more (a hold the refresh closed at the backend's own
	 * end time stays so) */
	if ((job_state_terminal(to) || to == JOB_PREEMPTED || to == JOB_RECOVERING) &&
	    store_hold_close(e->store, id, now, &cause) != 0)
		free(cause);
	engine_emit_state(e, id, from, to, reason);
	return 0;
}

int engine_move(struct engine *e, const char *job_id, enum job_state to, const char *reason)
{
	struct job j;
	char *cause = NULL;
	int rc = -1;

	job_init(&j);
	if (store_job_get(e->store, job_id, &j, &cause) != 0) {
		free(cause);
		return -1;
	}
	if (j.state == to) {
		rc = 0;
	} else if (job_transition_valid(j.state, to)) {
		rc = engine_step(e, job_id, j.state, to, reason);
	} else if (to == JOB_STOPPED && job_transition_valid(j.state, JOB_STOPPING)) {
		if (engine_step(e, job_id, j.state, JOB_STOPPING, reason) == 0)
			rc = engine_step(e, job_id, JOB_STOPPING, JOB_STOPPED, reason);
	} else if (j.state == JOB_STOPPING && job_state_terminal(to)) {
		/* it ended on its own while being stopped */
		rc = engine_step(e, job_id, j.state, to == JOB_FAILED ? JOB_FAILED : JOB_STOPPED,
		                 reason);
	} else if (to == JOB_RECOVERING && job_transition_valid(j.state, JOB_PREEMPTED)) {
		/* requeued after a preemption or a node failure it was running through */
		if (engine_step(e, job_id, j.state, JOB_PREEMPTED, reason) == 0)
			rc = engine_step(e, job_id, JOB_PREEMPTED, JOB_RECOVERING, reason);
	} else if (to == JOB_RUNNING && job_transition_valid(j.state, JOB_STARTING)) {
		if (engine_step(e, job_id, j.state, JOB_STARTING, reason) == 0)
			rc = engine_step(e, job_id, JOB_STARTING, JOB_RUNNING, reason);
	}
	job_clear(&j);
	return rc;
}

struct engine_refresh_ctx {
	struct engine *e;
	char *job_id;
	enum job_state known; /* the job's state when the refresh was asked */
	int known_exit;       /* has_exit then */
	char *known_reason;   /* its reason then, or NULL */
	int known_port;       /* its port then (0 = none) */
	int known_url;        /* it had a URL then */
	int known_ready;      /* its replicas then (endpoints) */
	int known_desired;
};

/* Where it serves, when the provider learnt it after the launch (a cloud instance's
 * address): filled in once, never overridden. */
static int engine_serves_new(const struct engine_refresh_ctx *c, const struct provider_status *st)
{
	return (st->port > 0 && c->known_port == 0) || (st->url != NULL && !c->known_url);
}

/* A reason the provider gives that is not the job's: kept when the state stays. */
static int engine_reason_new(const char *have, const char *got)
{
	return got != NULL && (have == NULL || strcmp(have, got) != 0);
}

/* The replicas the provider reports, when they differ from the job's: written (only then)
 * and shown. */
static void engine_replicas_update(struct engine *e, const struct engine_refresh_ctx *c,
                                   const struct provider_status *st)
{
	char *err = NULL;

	if (st->ready_replicas == c->known_ready && st->desired_replicas == c->known_desired)
		return;
	if (store_job_replicas(e->store, c->job_id, st->ready_replicas, st->desired_replicas,
	                       &err) == 1) {
		struct engine_event ev = {.type = ENGINE_EV_JOBS_CHANGED, .job_id = c->job_id};

		engine_emit(e, &ev);
	}
	free(err);
}

static void engine_refresh_done(void *arg, int rc, const struct provider_status *st,
                                const char *cause)
{
	struct engine_refresh_ctx *c = arg;
	struct engine *e = c->e;
	struct job j;
	char *err = NULL;

	e->busy--;
	job_init(&j);
	if (rc != 0)
		goto out;
	engine_replicas_update(e, c, st);
	/* nothing new: the common case on every tick, answered without touching the store */
	if (st->state == c->known && st->has_exit == c->known_exit && !st->has_exit &&
	    !engine_reason_new(c->known_reason, st->reason) && !engine_serves_new(c, st))
		goto out;
	if (store_job_get(e->store, c->job_id, &j, &err) != 0)
		goto out;
	if (st->has_exit && (!j.has_exit || j.exit_code != st->exit_code)) {
		j.has_exit = 1;
		j.exit_code = st->exit_code;
		if (store_job_update(e->store, &j, &err) != 0)
			goto out;
	}
	if ((st->port > 0 && j.port == 0) || (st->url != NULL && j.url == NULL)) {
		if (j.port == 0)
			j.port = st->port;
		if (j.url == NULL && st->url != NULL)
			j.url = xstrdup(st->url);
		if (store_job_update(e->store, &j, &err) != 0)
			goto out;
	}
	if (st->state == j.state && engine_reason_new(j.reason, st->reason) &&
	    store_job_reason(e->store, j.id, j.state, st->reason, loop_wall_ms(), &err) == 1)
		engine_emit_state(e, j.id, j.state, j.state, st->reason);
	/* a job that runs again (back from preemption) holds resources again, from when the
	 * backend started it */
	if (st->state == JOB_RUNNING && st->started_ms > 0 && job_state_active(j.state))
		store_hold_open(e->store, j.id, 0, st->started_ms, NULL);
	if (st->state != j.state && !(j.state == JOB_STOPPING && job_state_active(st->state)) &&
	    job_state_terminal(st->state) && st->ended_ms > 0) {
		/* bill until it really ended, not until someone noticed (clamped to what this
		 * host saw, in case the worker's clock is off) */
		int64_t end = st->ended_ms;

		if (end < j.created_ms)
			end = j.created_ms;
		if (end < loop_wall_ms() && engine_move(e, j.id, st->state, st->reason) == 0) {
			store_job_set_ended(e->store, j.id, end, NULL);
			store_hold_set_end(e->store, j.id, end, NULL);
		} else {
			engine_move(e, j.id, st->state, st->reason);
		}
	} else if (st->state != j.state &&
	           !(j.state == JOB_STOPPING && job_state_active(st->state))) {
		engine_move(e, j.id, st->state, st->reason);
	}
out:
	free(err);
	job_clear(&j);
	free(c->job_id);
	free(c->known_reason);
	free(c);
	if (e->busy == 0 && e->rec != NULL)
		engine_reconcile_idle(e);
}

/* Asks the job's provider what exists; the answer moves the job. */
static void engine_refresh_job(struct engine *e, const struct job *j)
{
	struct engine_provider *ep = engine_find_provider(e, j->provider);
	struct engine_refresh_ctx *c;
	char *cause = NULL;

	if (ep == NULL || ep->ops->refresh == NULL || j->provider_ref == NULL)
		return;
	c = xcalloc(1, sizeof *c);
	c->e = e;
	c->job_id = xstrdup(j->id);
	c->known = j->state;
	c->known_exit = j->has_exit;
	c->known_reason = j->reason != NULL ? xstrdup(j->reason) : NULL;
	c->known_port = j->port;
	c->known_url = j->url != NULL;
	c->known_ready = j->ready_replicas;
	c->known_desired = j->desired_replicas;
	e->busy++;
	if (ep->ops->refresh(ep->p, j->id, j->provider_ref, engine_refresh_done, c, &cause) != 0) {
		e->busy--;
		free(c->job_id);
		free(c->known_reason);
		free(c);
		free(cause);
	}
}

void engine_refresh(struct engine *e)
{
	if (engine_is_remote(e)) /* gantryd refreshes; its events keep us current */
		return;
	struct job_list l = {0};
	char *cause = NULL;
	int64_t dv;

	if (store_data_version(e->store, &dv) == 0 && dv != e->data_version) {
		struct engine_event ev = {.type = ENGINE_EV_JOBS_CHANGED};

		e->data_version = dv;
		engine_emit(e, &ev);
		if (e->nfwds > 0)
			engine_forwards_check(e);
	}
	if (e->opts.readonly)
		return;
	if (store_jobs_list(e->store, 1, &l, &cause) != 0) {
		free(cause);
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		engine_refresh_job(e, &l.items[i]);
	job_list_free(&l);
}

static void engine_on_tick(void *arg)
{
	struct ident saved;

	engine_actor_as_self(arg, &saved);
	engine_reload_tick(arg);
	engine_policy_tick(arg);
	engine_refresh(arg);
	engine_actor_restore(arg, &saved);
}

/* A provider's health or telemetry changed (called by providers on the loop thread). */
static void engine_on_provider_notify(void *arg, const char *provider, int healthy,
                                      const char *message)
{
	struct engine *e = arg;
	struct engine_provider *ep = engine_find_provider(e, provider);

	if (message == NULL) {
		struct engine_event ev = {.type = ENGINE_EV_TELEMETRY, .provider = provider};

		engine_emit(e, &ev);
		return;
	}
	if (ep != NULL) {
		ep->healthy = healthy;
		free(ep->message);
		ep->message = healthy ? NULL : xstrdup(message);
	}
	struct engine_event ev = {
	    .type = ENGINE_EV_PROVIDER, .provider = provider, .message = message};

	engine_emit(e, &ev);
}

/* Opens one provider instance; a configured one that fails to open fails the engine (its
 * config has a mistake), the built-in local one is only marked unhealthy. */
static int engine_open_provider(struct engine *e, const struct provider_ops *ops, const char *name,
                                const struct kvlist *settings, const struct kvlist *pos,
                                int must_open, char **cause)
{
	struct engine_provider *ep = &e->provs[e->nprovs];
	struct provider_config pc;
	char *why = NULL;
	/* the built-in instance keeps its job directories where they always were */
	char *dir = ops->local_workers ? xstrdup(e->cfg.jobs_dir)
	                               : xprintf("%s/providers/%s", e->cfg.state_dir, name);

	memset(&pc, 0, sizeof pc);
	pc.name = name;
	pc.state_dir = dir;
	pc.self_exe = e->cfg.self_exe;
	pc.settings = settings;
	pc.settings_pos = pos;
	pc.log_max_bytes = e->cfg.log_max_bytes;
	pc.loop = e->loop;
	pc.notify = engine_on_provider_notify;
	pc.notify_arg = e;
	pc.installation_id = e->installation_id;
	pc.data_dir = e->cfg.data_dir;
	ep->http = http_new(e->loop);
	pc.http = ep->http;
	ep->ops = ops;
	ep->name = xstrdup(name);
	e->nprovs++;
	if (ops->open(&pc, &ep->p, &why) != 0) {
		ep->p = NULL;
		ep->healthy = 0;
		if (must_open) {
			xcause(cause, "provider '%s': %s", name, why != NULL ? why : "cannot open");
			free(why);
			free(dir);
			return -1;
		}
		ep->message = why;
	} else {
		ep->healthy = 1;
	}
	free(dir);
	return 0;
}

static int engine_open_providers(struct engine *e, char **cause)
{
	struct kvlist none;
	const struct config_provider *local = NULL;
	int rc = 0;

	kvlist_init(&none);
	e->nprovs = 0;
	e->provs = xcalloc(1 + e->cfg.nproviders, sizeof *e->provs);
	for (size_t i = 0; i < e->cfg.nproviders; i++)
		if (strcmp(e->cfg.providers[i].name, "local") == 0)
			local = &e->cfg.providers[i];
	/* the built-in local provider: a mistake in its settings fails like any config error */
	if (engine_open_provider(
	        e, &local_provider_ops, "local", local != NULL ? &local->settings : &none,
	        local != NULL ? &local->settings_pos : &none, local != NULL, cause) != 0)
		rc = -1;
	for (size_t i = 0; rc == 0 && i < e->cfg.nproviders; i++) {
		const struct config_provider *cp = &e->cfg.providers[i];
		const struct provider_ops *ops = provider_type(cp->type);

		if (cp == local)
			continue;
		if (ops == NULL || ops->local_workers) {
			char *known = provider_type_names(1);

			rc = xcause(cause, "%s: provider '%s' has unknown type '%s' (known: %s)",
			            cp->pos, cp->name, cp->type, known);
			free(known);
			break;
		}
		rc = engine_open_provider(e, ops, cp->name, &cp->settings, &cp->settings_pos, 1,
		                          cause);
	}
	kvlist_free(&none);
	return rc;
}

int engine_open(const struct engine_opts *opts, struct engine **out, char **cause)
{
	struct engine *e = xcalloc(1, sizeof *e);
	const char *dirs[3];
	enum tpl_layer layers[3] = {TPL_LAYER_BUILTIN, TPL_LAYER_SYSTEM, TPL_LAYER_USER};
	char *d0, *d1, *d2;

	if (opts != NULL)
		e->opts = *opts;
	if (config_load(&e->cfg, cause) != 0)
		goto fail;
	if (engine_ident_init(e, cause) != 0)
		goto fail;
	switch (engine_remote_open(e, cause)) { /* gantryd configured: remote mode */
	case 1:
		*out = e;
		return 0;
	case -1:
		goto fail;
	default:
		break;
	}
	engine_reload_tick(e); /* notes the file's identity for live reloads */
	e->locks_dir = xprintf("%s/locks", e->cfg.state_dir);
	e->secrets_dir = xprintf("%s/secrets", e->cfg.state_dir);
	if (config_mkdirs(e->cfg.state_dir, cause) != 0 ||
	    config_mkdirs(e->cfg.jobs_dir, cause) != 0 || config_mkdirs(e->locks_dir, cause) != 0 ||
	    config_mkdirs(e->secrets_dir, cause) != 0)
		goto fail;
	/* no other local user may write where tokens, job scripts and the store live */
	if (config_check_trust(&e->cfg, NULL, NULL, cause) != 0)
		goto fail;
	if (store_open(e->cfg.db_path, &e->store, cause) != 0)
		goto fail;
	store_data_version(e->store, &e->data_version);
	if (store_meta_get(e->store, "installation_id", &e->installation_id, cause) != 0)
		goto fail;
	if (engine_policy_init(e, cause) != 0)
		goto fail;
	d0 = xprintf("%s/templates", e->cfg.data_dir);
	d1 = xprintf("%s/templates", e->cfg.system_dir);
	d2 = xprintf("%s/templates", e->cfg.config_dir);
	dirs[0] = d0;
	dirs[1] = d1;
	dirs[2] = d2;
	template_set_load(&e->tpls, dirs, layers, 3);
	free(d0);
	free(d1);
	free(d2);
	e->loop = loop_new();
	e->http = http_new(e->loop);
	if (engine_open_providers(e, cause) != 0)
		goto fail;
	if (!e->opts.readonly)
		engine_settle_on_open(
		    e); /* a launch a crash interrupted is settled, never redone */
	if (!e->opts.no_refresh)
		e->refresh_timer = loop_timer_add(e->loop, (uint64_t)e->cfg.refresh_ms,
		                                  (uint64_t)e->cfg.refresh_ms, engine_on_tick, e);
	*out = e;
	return 0;
fail:
	engine_close(e);
	return -1;
}

/* Requests in flight on the providers' own HTTP handles. */
static int engine_providers_http(struct engine *e)
{
	int n = 0;

	for (size_t i = 0; i < e->nprovs; i++)
		if (e->provs[i].http != NULL)
			n += http_pending(e->provs[i].http);
	return n;
}

#define ENGINE_CLOSE_DRAIN_MS 10000

void engine_close(struct engine *e)
{
	if (e == NULL)
		return;
	/* requests providers still have on the wire (a terminate sent as a launch failed, or
	 * as a job ended) are finished first, for at most ENGINE_CLOSE_DRAIN_MS: cancelling
	 * them would leave a paid instance running */
	for (int waited = 0; waited < ENGINE_CLOSE_DRAIN_MS && engine_providers_http(e) > 0;
	     waited += 50)
		loop_run_once(e->loop, 50);
	e->closing = 1;
	engine_remote_close(e);
	engine_reconcile_closing(e);
	engine_forwards_close_all(e);
	engine_tele_close(e);
	for (size_t i = 0; i < e->nprovs; i++) {
		if (e->provs[i].p != NULL)
			e->provs[i].ops->close(e->provs[i].p);
		if (e->provs[i].http != NULL)
			http_free(e->provs[i].http);
		free(e->provs[i].name);
		free(e->provs[i].message);
	}
	free(e->provs);
	if (e->refresh_timer != NULL)
		loop_timer_cancel(e->loop, e->refresh_timer);
	http_free(e->http);
	loop_free(e->loop);
	template_set_free(&e->tpls);
	store_close(e->store);
	config_free(&e->cfg);
	engine_reload_free(e);
	engine_policy_free(e);
	engine_ident_free(e);
	free(e->subs);
	free(e->locks_dir);
	free(e->secrets_dir);
	free(e->installation_id);
	free(e);
}

struct loop *engine_loop(struct engine *e)
{
	return e->loop;
}

const struct config *engine_config(struct engine *e)
{
	return &e->cfg;
}

int engine_readonly(struct engine *e)
{
	return e->opts.readonly;
}

void engine_subscribe(struct engine *e, engine_event_cb cb, void *arg)
{
	e->subs = xreallocarray(e->subs, e->nsubs + 1, sizeof *e->subs);
	e->subs[e->nsubs].cb = cb;
	e->subs[e->nsubs].arg = arg;
	e->nsubs++;
}

void engine_unsubscribe(struct engine *e, engine_event_cb cb, void *arg)
{
	for (size_t i = 0; i < e->nsubs; i++) {
		if (e->subs[i].cb == cb && e->subs[i].arg == arg) {
			memmove(&e->subs[i], &e->subs[i + 1], (e->nsubs - i - 1) * sizeof *e->subs);
			e->nsubs--;
			return;
		}
	}
}

const struct template_set *engine_templates(struct engine *e)
{
	return &e->tpls;
}

void engine_templates_reload(struct engine *e)
{
	if (engine_is_remote(e)) {
		engine_remote_templates_load(e);
		return;
	}
	const char *dirs[3];
	enum tpl_layer layers[3] = {TPL_LAYER_BUILTIN, TPL_LAYER_SYSTEM, TPL_LAYER_USER};
	char *d[3];

	d[0] = xprintf("%s/templates", e->cfg.data_dir);
	d[1] = xprintf("%s/templates", e->cfg.system_dir);
	d[2] = xprintf("%s/templates", e->cfg.config_dir);
	for (int i = 0; i < 3; i++)
		dirs[i] = d[i];
	template_set_free(&e->tpls);
	template_set_load(&e->tpls, dirs, layers, 3);
	for (int i = 0; i < 3; i++)
		free(d[i]);
}

size_t engine_provider_count(struct engine *e)
{
	if (engine_is_remote(e))
		return engine_remote_provider_count(e);
	return e->nprovs;
}

void engine_provider_info(struct engine *e, size_t i, struct engine_provider_info *out)
{
	if (engine_is_remote(e)) {
		engine_remote_provider_info(e, i, out);
		return;
	}
	memset(out, 0, sizeof *out);
	if (i >= e->nprovs)
		return;
	out->name = e->provs[i].name;
	out->type = e->provs[i].ops->name;
	out->healthy = e->provs[i].healthy;
	out->message = e->provs[i].message;
}

int engine_jobs(struct engine *e, int active_only, struct job_list *out, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_jobs(e, active_only, out, cause);
	return engine_see_list(e, active_only, out, cause); /* only what the actor may see */
}

const char *engine_installation_id(struct engine *e)
{
	return e->installation_id;
}

int engine_job(struct engine *e, const char *job_ref, struct job *out, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_job(e, job_ref, out, cause);
	return engine_see_find(e, job_ref, out, cause); /* store_job_find, if visible */
}

int engine_job_events(struct engine *e, const char *job_id, struct job_event_list *out,
                      char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_job_events(e, job_id, out, cause);
	if (engine_see_restricted(e)) { /* a job the actor may not see has no events */
		struct job j;

		job_init(&j);
		if (engine_see_find(e, job_id, &j, cause) != 0)
			return -1;
		job_clear(&j);
	}
	return store_job_events(e->store, job_id, out, cause);
}

int engine_jobs_count(struct engine *e, int64_t *out, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_jobs_count(e, out, cause);
	if (engine_see_restricted(e)) { /* the jobs the actor may see */
		struct job_list l = {0};

		if (engine_jobs(e, 0, &l, cause) != 0)
			return -1;
		*out = (int64_t)l.n;
		job_list_free(&l);
		return 0;
	}
	return store_jobs_count(e->store, out, cause);
}

int engine_busy(struct engine *e)
{
	if (engine_is_remote(e))
		return engine_remote_busy(e);
	return e->busy + http_pending(e->http) + engine_providers_http(e);
}

struct engine_logs {
	struct engine_provider *ep;
	struct provider_logs *lg;
};

int engine_logs_open(struct engine *e, const char *job_id, int follow, int64_t tail_bytes,
                     engine_log_cb cb, void *arg, struct engine_logs **out, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_logs_open(e, job_id, follow, tail_bytes, cb, arg, out, cause);
	struct job j;
	struct engine_provider *ep;
	struct engine_logs *el;
	int rc;

	job_init(&j);
	if (store_job_get(e->store, job_id, &j, cause) != 0)
		return -1;
	ep = engine_find_provider(e, j.provider);
	if (ep == NULL || ep->ops->logs_open == NULL || ep->p == NULL) {
		xcause(cause, "provider %s cannot show logs", j.provider);
		job_clear(&j);
		return -1;
	}
	if (j.provider_ref == NULL) {
		xcause(cause, "job %s has no logs yet (it never started)", j.name);
		job_clear(&j);
		return -1;
	}
	el = xcalloc(1, sizeof *el);
	el->ep = ep;
	rc = ep->ops->logs_open(ep->p, j.provider_ref, follow, tail_bytes, cb, arg, &el->lg, cause);
	job_clear(&j);
	if (rc != 0) {
		free(el);
		return -1;
	}
	*out = el;
	return 0;
}

void engine_logs_close(struct engine *e, struct engine_logs *lg)
{
	if (engine_is_remote(e)) {
		engine_remote_logs_close(e, lg);
		return;
	}
	if (lg == NULL)
		return;
	lg->ep->ops->logs_close(lg->ep->p, lg->lg);
	free(lg);
}

void engine_versions(char *buf, size_t len)
{
	curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	snprintf(buf, len, "sqlite %s, libcurl %s (%s), jansson %s, libssh2 %s, libyaml %s",
	         sqlite3_libversion(), cv->version,
	         cv->ssl_version != NULL ? cv->ssl_version : "no TLS", jansson_version_str(),
	         libssh2_version(0), yaml_get_version_string());
}

int engine_provider_type_info(size_t i, const char **name, const char **summary)
{
	if (i >= provider_ntypes)
		return 0;
	*name = provider_types[i]->name;
	*summary = provider_types[i]->summary;
	return 1;
}
