/* engine_see.c: whose jobs the actor sees and may stop (issue 12). The owner always; the
 * team when the role's `see:` is team; everyone for `see: all`, admins, root and (in
 * gantryd) the service account itself acting for no client. Embedded mode without a policy
 * sees every job of its store, as before; gantryd without a policy shows each user only
 * their own jobs. A job the actor may not see does not exist for them: "no job matches". */
#include "core/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/xmalloc.h"

/* What the actor sees, decided once per query. */
enum engine_see_mode { SEE_EVERYTHING, SEE_FILTERED };

static enum engine_see_mode engine_see_mode(struct engine *e)
{
	const struct ident *a = &e->actor;

	if (!e->opts.serving && e->policy == NULL)
		return SEE_EVERYTHING; /* embedded, no policy: the user's own store */
	if (a->uid == 0)
		return SEE_EVERYTHING;
	if (e->opts.serving && a->uid == e->self.uid)
		return SEE_EVERYTHING; /* the daemon itself (timers, reconcile, budgets) */
	if (e->policy != NULL &&
	    (policy_is_admin(e->policy, a) || policy_sees(e->policy, a) == POLICY_SEE_ALL))
		return SEE_EVERYTHING;
	return SEE_FILTERED;
}

static int engine_see_owner(const struct ident *a, const struct job *j)
{
	if (j->owner_uid >= 0)
		return (uid_t)j->owner_uid == a->uid;
	return j->owner != NULL && a->name != NULL && strcmp(j->owner, a->name) == 0;
}

static int engine_see_filtered(struct engine *e, int team_too, const struct job *j)
{
	const char *team = e->actor_team;

	if (engine_see_owner(&e->actor, j))
		return 1;
	return team_too && team != NULL && j->team != NULL && strcmp(j->team, team) == 0;
}

static int engine_see_team(struct engine *e)
{
	return e->policy != NULL && policy_sees(e->policy, &e->actor) == POLICY_SEE_TEAM;
}

int engine_may_see(struct engine *e, const struct job *j)
{
	if (engine_see_mode(e) == SEE_EVERYTHING)
		return 1;
	return engine_see_filtered(e, engine_see_team(e), j);
}

int engine_see_filter(struct engine *e, struct job_list *l)
{
	size_t k = 0;
	int team;

	if (engine_see_mode(e) == SEE_EVERYTHING)
		return 0;
	team = engine_see_team(e);
	for (size_t i = 0; i < l->n; i++) {
		if (engine_see_filtered(e, team, &l->items[i]))
			l->items[k++] = l->items[i];
		else
			job_clear(&l->items[i]);
	}
	l->n = k;
	return 0;
}

int engine_see_list(struct engine *e, int active_only, struct job_list *out, char **cause)
{
	if (engine_see_mode(e) == SEE_EVERYTHING)
		return store_jobs_list(e->store, active_only, out, cause);
	/* the store picks the actor's (and team's) rows: a user's list does not read every
	 * job of every user; engine_see_filter then decides as engine_may_see does */
	if (store_jobs_list_seen(e->store, active_only, (int64_t)e->actor.uid, e->actor.name,
	                         engine_see_team(e) ? e->actor_team : NULL, out, cause) != 0)
		return -1;
	return engine_see_filter(e, out);
}

int engine_see_restricted(struct engine *e)
{
	return engine_see_mode(e) == SEE_FILTERED;
}

/* A prefix that matched several jobs of the store: the one visible job it names, if only
 * one; never the ids of the others. */
static int engine_see_prefix(struct engine *e, const char *ref, struct job *out, char **cause)
{
	struct job_list l = {0};
	size_t n = 0, at = 0;
	char *why = NULL;

	if (store_jobs_list(e->store, 0, &l, &why) != 0) {
		free(why);
		return xcause(cause, "no job matches '%s'", ref);
	}
	engine_see_filter(e, &l);
	for (size_t i = 0; i < l.n; i++)
		if (strncmp(l.items[i].id, ref, strlen(ref)) == 0) {
			n++;
			at = i;
		}
	if (n == 1)
		job_copy(out, &l.items[at]);
	job_list_free(&l);
	if (n == 1)
		return 0;
	return xcause(cause, n == 0 ? "no job matches '%s'" : "'%s' matches several jobs", ref);
}

int engine_see_find(struct engine *e, const char *ref, struct job *out, char **cause)
{
	char *why = NULL;

	if (store_job_find(e->store, ref, out, &why) != 0) {
		if (why != NULL && strstr(why, "matches several jobs") != NULL &&
		    engine_see_restricted(e)) {
			free(why);
			return engine_see_prefix(e, ref, out, cause);
		}
		if (cause != NULL && *cause == NULL)
			*cause = why;
		else
			free(why);
		return -1;
	}
	if (engine_may_see(e, out))
		return 0;
	job_clear(out);
	job_init(out);
	return xcause(cause, "no job matches '%s'", ref);
}
