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

/* Settles one interrupted launch: adopt what the provider holds, else fail it. */
static void engine_settle_intent(struct engine *e, const char *id, struct engine_provider *ep,
                                 char **refs, char **ids, size_t n,
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
			if (strcmp(ids[i], id) == 0)
				ref = refs[i];
	}
	if (ref != NULL) {
		if (j.provider_ref == NULL) {
			j.provider_ref = xstrdup(ref);
			store_job_update(e->store, &j, &cause);
		}
		engine_move(e, id, JOB_STARTING,
		            "adopted by reconcile after an interrupted launch");
		rep->adopted++;
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

struct engine_count {
	struct engine *e;
	int changed;
};

static void engine_on_change(void *arg, const struct engine_event *ev)
{
	struct engine_count *c = arg;

	if (ev->type == ENGINE_EV_JOB_STATE && ev->from != ev->to)
		c->changed++;
}

/* What engine_settle does with orphans: resources labelled with this store's installation
 * id whose job is not in the store. */
enum engine_orphans { ENGINE_ORPHANS_IGNORE, ENGINE_ORPHANS_REPORT, ENGINE_ORPHANS_DESTROY };

/* One orphan: destroyed (orphans == ENGINE_ORPHANS_DESTROY) or only listed in rep. */
static void engine_orphan(struct engine_provider *ep, const char *ref, enum engine_orphans orphans,
                          struct engine_reconcile_report *rep)
{
	char *why = NULL;

	if (orphans == ENGINE_ORPHANS_DESTROY) {
		if (ep->ops->destroy != NULL && ep->ops->destroy(ep->p, ref, &why) == 0) {
			rep->orphans++;
			free(why);
			return;
		}
		rep->orphans_failed++;
	}
	rep->orphan_refs =
	    xreallocarray(rep->orphan_refs, rep->norphan_refs + 1, sizeof *rep->orphan_refs);
	rep->orphan_refs[rep->norphan_refs++] =
	    why != NULL ? xprintf("%s %s (destroy failed: %s)", ep->name, ref, why)
	                : xprintf("%s %s", ep->name, ref);
	free(why);
}

/* Settles interrupted launches and finds orphans. Providers list only what carries this
 * store's installation id (provider_config.installation_id): another store's resources, and
 * unlabelled ones from a Gantry before labels, are never seen here, so never destroyed nor
 * adopted. Asks a provider for what it holds only when there is something to settle or
 * orphans to find. */
static int engine_settle(struct engine *e, enum engine_orphans orphans,
                         struct engine_reconcile_report *rep, char **cause)
{
	char **pending = NULL;
	size_t npending = 0;

	if (store_intents_pending(e->store, &pending, &npending, cause) != 0)
		return -1;
	for (size_t p = 0; p < e->nprovs && (npending > 0 || orphans != ENGINE_ORPHANS_IGNORE);
	     p++) {
		struct engine_provider *ep = &e->provs[p];
		char **refs = NULL, **ids = NULL;
		size_t n = 0;
		char *why = NULL;

		if (ep->p == NULL || ep->ops->list_owned == NULL)
			continue;
		if (ep->ops->list_owned(ep->p, &refs, &ids, &n, &why) != 0) {
			free(why);
			continue;
		}
		for (size_t i = 0; i < npending; i++) {
			struct job j;
			char *c2 = NULL;

			job_init(&j);
			if (store_job_get(e->store, pending[i], &j, &c2) == 0 &&
			    strcmp(j.provider, ep->name) == 0 &&
			    !engine_launch_alive(e, pending[i]))
				engine_settle_intent(e, pending[i], ep, refs, ids, n, rep);
			free(c2);
			job_clear(&j);
		}
		/* ours, but a store that never heard of them (or lost them) */
		for (size_t i = 0; orphans != ENGINE_ORPHANS_IGNORE && i < n; i++) {
			struct job j;
			char *c2 = NULL;

			job_init(&j);
			if (store_job_get(e->store, ids[i], &j, &c2) != 0 &&
			    !engine_launch_alive(e, ids[i]))
				engine_orphan(ep, refs[i], orphans, rep);
			free(c2);
			job_clear(&j);
		}
		engine_free_strv(refs, n);
		engine_free_strv(ids, n);
	}
	engine_free_strv(pending, npending);
	return 0;
}

void engine_reconcile_report_clear(struct engine_reconcile_report *rep)
{
	engine_free_strv(rep->orphan_refs, rep->norphan_refs);
	memset(rep, 0, sizeof *rep);
}

int engine_settle_on_open(struct engine *e)
{
	char *cause = NULL;
	int rc;

	memset(&e->settled, 0, sizeof e->settled);
	/* never destroys: orphans are only for an explicit `reconcile --terminate-orphans` */
	rc = engine_settle(e, ENGINE_ORPHANS_IGNORE, &e->settled, &cause);
	free(cause);
	return rc;
}

int engine_reconcile(struct engine *e, unsigned flags, struct engine_reconcile_report *rep,
                     char **cause)
{
	struct engine_count cnt = {.e = e};

	memset(rep, 0, sizeof *rep);
	if (e->opts.readonly)
		return xcause(cause, "read-only mode: reconcile is disabled");
	if (engine_settle(e,
	                  (flags & ENGINE_RECONCILE_TERMINATE_ORPHANS) != 0 ? ENGINE_ORPHANS_DESTROY
	                                                                    : ENGINE_ORPHANS_REPORT,
	                  rep, cause) != 0)
		return -1;
	/* what this process already settled when it opened counts too */
	rep->adopted += e->settled.adopted;
	rep->failed += e->settled.failed;
	memset(&e->settled, 0, sizeof e->settled);
	engine_subscribe(e, engine_on_change, &cnt);
	engine_refresh(e);
	while (engine_busy(e) > 0)
		loop_run_once(e->loop, 100);
	engine_unsubscribe(e, engine_on_change, &cnt);
	rep->updated = cnt.changed;
	return 0;
}
