/* engine_reconcile.c: bring the store and what providers hold back in step. */
#include "core/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/store_attempts.h"
#include "core/xmalloc.h"

/* 1 when the launch of job id is still in flight in a live process (its lock is held). A
 * lock that is a symlink (or not a regular file) is never Gantry's: it is not followed or
 * opened, only removed. */
static int engine_launch_alive(struct engine *e, const char *id)
{
	char *path = xprintf("%s/%s.lock", e->locks_dir, id);
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	int alive = 0;

	if (fd < 0 && errno == ELOOP) {
		unlink(path);
	} else if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		unlink(path);
		close(fd);
	} else if (fd >= 0) {
		if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
			alive = 1;
		else
			unlink(path); /* its launcher died: the lock is stale */
		close(fd);
	}
	free(path);
	return alive;
}

static void engine_free_strv(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* The job's latest launch attempt began less than config settle_grace_ms ago. */
static int engine_settle_recent(struct engine *e, const char *id)
{
	struct store_attempt *v = NULL;
	size_t n = 0;
	int64_t last = 0;

	if (store_attempts_list(e->store, id, &v, &n, NULL) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (v[i].created_ms > last)
			last = v[i].created_ms;
	store_attempts_free(v, n);
	return last > 0 && loop_wall_ms() - last < (int64_t)e->cfg.settle_grace_ms;
}

/* Settles one interrupted launch: adopt what the provider holds, else fail it. */
static void engine_settle_intent(struct engine *e, const char *id, struct engine_provider *ep,
                                 const struct provider_owned *v, size_t n,
                                 struct engine_reconcile_report *rep)
{
	struct job j;
	char *cause = NULL;
	const char *ref = NULL;

	job_init(&j);
	if (store_job_get(e->store, id, &j, &cause) != 0)
		goto out;
	if (j.provider_ref != NULL) {
		ref = j.provider_ref;
	} else if (ep != NULL && strcmp(ep->name, j.provider) == 0) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(v[i].job_id, id) == 0)
				ref = v[i].ref;
	}
	if (ref != NULL) {
		if (j.provider_ref == NULL) {
			j.provider_ref = xstrdup(ref);
			store_job_update(e->store, &j, &cause);
		}
		engine_move(e, id, JOB_STARTING,
		            "adopted by reconcile after an interrupted launch");
		rep->adopted++;
	} else if (j.state != JOB_PENDING && job_state_active(j.state) && ep != NULL &&
	           !ep->ops->local_workers && engine_settle_recent(e, id)) {
		/* (PENDING: never handed to the provider.) A cloud lists what it made a little
		 * later: failing the job now would leak an instance that shows up after; the next
		 * reconcile (every command, and every reconcile_ms while watching) looks again */
		char *why = xprintf("launch interrupted; waiting up to %d s for %s to list what it "
		                    "made",
		                    e->cfg.settle_grace_ms / 1000, ep->name);

		if (store_job_reason(e->store, id, j.state, why, loop_wall_ms(), NULL) == 1)
			engine_emit_state(e, id, j.state, j.state, why);
		free(why);
		rep->waiting++;
		goto out;
	} else if (job_state_active(j.state)) {
		engine_move(
		    e, id, JOB_FAILED,
		    "launch interrupted before the provider started it (nothing was created)");
		rep->failed++;
	}
	store_intent_done(e->store, id, &cause);
out:
	free(cause);
	job_clear(&j);
}

/* What a reconcile does with orphans: resources labelled with this store's installation id
 * whose job is not in the store. */
enum engine_orphans { ENGINE_ORPHANS_IGNORE, ENGINE_ORPHANS_REPORT, ENGINE_ORPHANS_DESTROY };

/* A reconcile in flight: a state machine driven by the providers' callbacks (list_owned,
 * destroy) and by the refresh answers, never by a nested loop. Steps: ask each provider in
 * turn what it holds, settle the interrupted launches of its jobs, report or destroy its
 * orphans (waiting for the destroys), then (engine_reconcile) refresh every active job and
 * wait until no refresh is in flight. */
struct engine_rec {
	struct engine *e;
	enum engine_orphans orphans;
	int refresh;    /* refresh every active job at the end */
	int refreshing; /* ... started */
	struct engine_reconcile_report rep;
	char **pending; /* job ids with an open launch intent */
	size_t npending;
	size_t prov;                   /* next provider to ask */
	int waiting;                   /* answers outstanding (list_owned, destroys) */
	int driving;                   /* rec_drive is on the stack (a callback that ran inline) */
	int changed;                   /* state changes seen while refreshing */
	struct loop_timer *idle_timer; /* checks engine_busy while refreshing (HTTP included) */
	engine_reconcile_cb cb;
	void *arg;
};

struct engine_rec_ask {
	struct engine_rec *r;
	struct engine_provider *ep;
	char *ref; /* destroy: the orphan's ref */
};

static void engine_rec_drive(struct engine_rec *r);
static void engine_rec_idle_tick(void *arg);

static void engine_on_change(void *arg, const struct engine_event *ev)
{
	struct engine_rec *r = arg;

	if (ev->type == ENGINE_EV_JOB_STATE && ev->from != ev->to)
		r->changed++;
}

static void engine_rec_orphan_listed(struct engine_rec *r, struct engine_provider *ep,
                                     const char *ref, const char *why)
{
	struct engine_reconcile_report *rep = &r->rep;

	rep->orphan_refs =
	    xreallocarray(rep->orphan_refs, rep->norphan_refs + 1, sizeof *rep->orphan_refs);
	rep->orphan_refs[rep->norphan_refs++] =
	    why != NULL ? xprintf("%s %s (destroy failed: %s)", ep->name, ref, why)
	                : xprintf("%s %s", ep->name, ref);
}

static void engine_rec_destroyed(void *arg, int rc, const char *cause)
{
	struct engine_rec_ask *a = arg;
	struct engine_rec *r = a->r;

	if (rc == 0) {
		r->rep.orphans++;
	} else {
		r->rep.orphans_failed++;
		engine_rec_orphan_listed(r, a->ep, a->ref, cause != NULL ? cause : "failed");
	}
	free(a->ref);
	free(a);
	r->waiting--;
	engine_rec_drive(r);
}

static void engine_rec_released(void *arg, int rc, const char *cause)
{
	struct engine_rec_ask *a = arg;
	struct engine_rec *r = a->r;

	if (rc == 0)
		r->rep.released++;
	else
		engine_rec_orphan_listed(r, a->ep, a->ref,
		                         cause != NULL ? cause : "release failed");
	free(a->ref);
	free(a);
	r->waiting--;
	engine_rec_drive(r);
}

/* Destroys a resource whose job has ended (answered later). */
static void engine_rec_release(struct engine_rec *r, struct engine_provider *ep, const char *ref)
{
	struct engine_rec_ask *a = xcalloc(1, sizeof *a);
	char *why = NULL;

	a->r = r;
	a->ep = ep;
	a->ref = xstrdup(ref);
	r->waiting++;
	if (ep->ops->destroy(ep->p, ref, engine_rec_released, a, &why) != 0) {
		r->waiting--;
		engine_rec_orphan_listed(r, ep, ref, why != NULL ? why : "release failed");
		free(a->ref);
		free(a);
	}
	free(why);
}

/* One orphan: destroyed (ENGINE_ORPHANS_DESTROY, answered later) or only listed. */
static void engine_rec_orphan(struct engine_rec *r, struct engine_provider *ep, const char *ref)
{
	struct engine_rec_ask *a;
	char *why = NULL;

	if (r->orphans != ENGINE_ORPHANS_DESTROY) {
		engine_rec_orphan_listed(r, ep, ref, NULL);
		return;
	}
	if (ep->ops->destroy == NULL) {
		r->rep.orphans_failed++;
		engine_rec_orphan_listed(r, ep, ref, NULL);
		return;
	}
	a = xcalloc(1, sizeof *a);
	a->r = r;
	a->ep = ep;
	a->ref = xstrdup(ref);
	r->waiting++;
	if (ep->ops->destroy(ep->p, ref, engine_rec_destroyed, a, &why) != 0) {
		r->waiting--;
		r->rep.orphans_failed++;
		engine_rec_orphan_listed(r, ep, ref, why != NULL ? why : "failed");
		free(a->ref);
		free(a);
	}
	free(why);
}

/* A provider's list: settles its interrupted launches, then its orphans. */
static void engine_rec_owned(void *arg, int rc, const struct provider_owned *v, size_t n,
                             const char *cause)
{
	struct engine_rec_ask *a = arg;
	struct engine_rec *r = a->r;
	struct engine *e = r->e;
	struct engine_provider *ep = a->ep;

	(void)cause; /* a provider that cannot list is skipped: nothing is settled from it */
	free(a);
	for (size_t i = 0; rc == 0 && i < r->npending; i++) {
		struct job j;
		char *c2 = NULL;

		job_init(&j);
		if (store_job_get(e->store, r->pending[i], &j, &c2) == 0 &&
		    strcmp(j.provider, ep->name) == 0 && !engine_launch_alive(e, r->pending[i]))
			engine_settle_intent(e, r->pending[i], ep, v, n, &r->rep);
		free(c2);
		job_clear(&j);
	}
	/* paid capacity still held for a job that has ended (its end was recorded while the
	 * resource was not listed yet, or its release was interrupted): released */
	for (size_t i = 0; rc == 0 && r->orphans != ENGINE_ORPHANS_IGNORE && i < n; i++) {
		struct job j;
		char *c2 = NULL;

		job_init(&j);
		if (v[i].held && ep->ops->destroy != NULL &&
		    store_job_get(e->store, v[i].job_id, &j, &c2) == 0 &&
		    job_state_terminal(j.state) && !engine_launch_alive(e, v[i].job_id))
			engine_rec_release(r, ep, v[i].ref);
		free(c2);
		job_clear(&j);
	}
	/* ours, but a store that never heard of them (or lost them) */
	for (size_t i = 0; rc == 0 && r->orphans != ENGINE_ORPHANS_IGNORE && i < n; i++) {
		struct job j;
		char *c2 = NULL;

		job_init(&j);
		if (store_job_get(e->store, v[i].job_id, &j, &c2) != 0 &&
		    !engine_launch_alive(e, v[i].job_id))
			engine_rec_orphan(r, ep, v[i].ref);
		free(c2);
		job_clear(&j);
	}
	r->waiting--;
	engine_rec_drive(r);
}

static void engine_rec_finish(struct engine_rec *r)
{
	struct engine *e = r->e;

	if (r->refreshing)
		engine_unsubscribe(e, engine_on_change, r);
	if (r->idle_timer != NULL)
		loop_timer_cancel(e->loop, r->idle_timer);
	r->rep.updated = r->changed;
	e->rec = NULL;
	if (e->closing)
		r->cb(r->arg, -1, &r->rep, "the engine closed before the reconcile finished");
	else
		r->cb(r->arg, 0, &r->rep, NULL);
	engine_reconcile_report_clear(&r->rep);
	engine_free_strv(r->pending, r->npending);
	free(r);
}

/* Runs every step that can run now; returns when one waits for an answer. */
static void engine_rec_drive(struct engine_rec *r)
{
	struct engine *e = r->e;

	if (r->driving)
		return; /* an answer that came inline: the loop below goes on */
	r->driving = 1;
	for (;;) {
		if (r->waiting > 0)
			break;
		if (e->closing) { /* answers of closing providers came in: nothing more to ask */
			r->driving = 0;
			engine_rec_finish(r);
			return;
		}
		if (r->prov < e->nprovs &&
		    (r->npending > 0 || r->orphans != ENGINE_ORPHANS_IGNORE)) {
			struct engine_provider *ep = &e->provs[r->prov++];
			struct engine_rec_ask *a;
			char *why = NULL;

			if (ep->p == NULL || ep->ops->list_owned == NULL)
				continue;
			a = xcalloc(1, sizeof *a);
			a->r = r;
			a->ep = ep;
			r->waiting++;
			if (ep->ops->list_owned(ep->p, engine_rec_owned, a, &why) != 0) {
				r->waiting--;
				free(a);
			}
			free(why);
			continue;
		}
		if (r->refresh && !r->refreshing) {
			r->refreshing = 1;
			engine_subscribe(e, engine_on_change, r);
			engine_refresh(e);
			continue;
		}
		if (r->refreshing && engine_busy(e) > 0) {
			/* engine_reconcile_idle when the last refresh is in; HTTP has no hook */
			if (r->idle_timer == NULL)
				r->idle_timer =
				    loop_timer_add(e->loop, 50, 50, engine_rec_idle_tick, r);
			break;
		}
		r->driving = 0;
		engine_rec_finish(r);
		return;
	}
	r->driving = 0;
}

void engine_reconcile_closing(struct engine *e)
{
	if (e->rec != NULL && e->rec->waiting == 0 && !e->rec->driving)
		engine_rec_drive(e->rec);
}

void engine_reconcile_idle(struct engine *e)
{
	if (e->rec != NULL && e->rec->refreshing && e->rec->waiting == 0 && engine_busy(e) == 0)
		engine_rec_drive(e->rec);
}

static void engine_rec_idle_tick(void *arg)
{
	struct engine_rec *r = arg;

	engine_reconcile_idle(r->e);
}

static int engine_rec_start(struct engine *e, enum engine_orphans orphans, int refresh,
                            engine_reconcile_cb cb, void *arg, char **cause)
{
	struct engine_rec *r;

	if (e->rec != NULL)
		return xcause(cause, "a reconcile is already running");
	r = xcalloc(1, sizeof *r);
	if (store_intents_pending(e->store, &r->pending, &r->npending, cause) != 0) {
		free(r);
		return -1;
	}
	r->e = e;
	r->orphans = orphans;
	r->refresh = refresh;
	r->cb = cb;
	r->arg = arg;
	e->rec = r;
	engine_rec_drive(r);
	return 0;
}

void engine_reconcile_report_clear(struct engine_reconcile_report *rep)
{
	engine_free_strv(rep->orphan_refs, rep->norphan_refs);
	memset(rep, 0, sizeof *rep);
}

static void engine_settled_cb(void *arg, int rc, const struct engine_reconcile_report *rep,
                              const char *cause)
{
	struct engine *e = arg;

	(void)cause;
	if (rc == 0) {
		e->settled.adopted += rep->adopted;
		e->settled.failed += rep->failed;
	}
	e->settling = 0;
}

int engine_settle_on_open(struct engine *e)
{
	char *cause = NULL;

	memset(&e->settled, 0, sizeof e->settled);
	e->settling = 1;
	/* never destroys: orphans are only for an explicit `reconcile --terminate-orphans` */
	if (engine_rec_start(e, ENGINE_ORPHANS_IGNORE, 0, engine_settled_cb, e, &cause) != 0) {
		e->settling = 0;
		free(cause);
		return -1;
	}
	/* engine_open is a blocking call made before anyone runs the loop: a launch that a
	 * crash interrupted is settled before the engine answers anything */
	while (e->settling)
		loop_run_once(e->loop, 100);
	return 0;
}

int engine_reconcile_start(struct engine *e, unsigned flags, engine_reconcile_cb cb, void *arg,
                           char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_reconcile(e, cause);
	if (e->opts.readonly)
		return xcause(cause, "read-only mode: reconcile is disabled");
	return engine_rec_start(e,
	                        (flags & ENGINE_RECONCILE_TERMINATE_ORPHANS) != 0
	                            ? ENGINE_ORPHANS_DESTROY
	                            : ENGINE_ORPHANS_REPORT,
	                        1, cb, arg, cause);
}

struct engine_rec_wait {
	struct engine *e;
	int done;
	struct engine_reconcile_report *rep;
};

static void engine_rec_wait_cb(void *arg, int rc, const struct engine_reconcile_report *rep,
                               const char *cause)
{
	struct engine_rec_wait *w = arg;
	struct engine *e = w->e;

	(void)rc;
	(void)cause;
	*w->rep = *rep;
	/* what this process already settled when it opened counts too */
	w->rep->adopted += e->settled.adopted;
	w->rep->failed += e->settled.failed;
	memset(&e->settled, 0, sizeof e->settled);
	/* the orphan list is moved out: engine_rec_finish clears an empty report */
	memset((struct engine_reconcile_report *)rep, 0, sizeof *rep);
	w->done = 1;
}

int engine_reconcile(struct engine *e, unsigned flags, struct engine_reconcile_report *rep,
                     char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_reconcile(e, cause);
	struct engine_rec_wait w = {.e = e, .rep = rep};

	memset(rep, 0, sizeof *rep);
	if (engine_reconcile_start(e, flags, engine_rec_wait_cb, &w, cause) != 0)
		return -1;
	/* a blocking command: runs the loop until the engine reports done */
	while (!w.done)
		loop_run_once(e->loop, 100);
	return 0;
}
