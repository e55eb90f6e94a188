/* engine_ident.c: whom the engine acts for (issue 12): the process's own identity, or the
 * client gantryd serves (engine_set_actor), and that user's team. */
#include "core/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/xmalloc.h"

static void engine_actor_team_update(struct engine *e)
{
	char *team = e->policy != NULL ? policy_team(e->policy, &e->actor) : NULL;

	free(e->actor_team);
	e->actor_team = NULL;
	if (team != NULL)
		e->actor_team = team;
	else if (e->policy == NULL && !e->opts.serving && e->actor.uid == e->self.uid &&
	         e->cfg.team != NULL)
		e->actor_team = xstrdup(e->cfg.team); /* embedded without policy: `team:` */
	else if (e->actor.ngroups > 0)
		e->actor_team = xstrdup(e->actor.groups[0]); /* the primary group's name */
}

int engine_ident_init(struct engine *e, char **cause)
{
	if (ident_self(&e->self, cause) != 0)
		return -1;
	ident_copy(&e->actor, &e->self);
	engine_actor_team_update(e);
	return 0;
}

void engine_ident_free(struct engine *e)
{
	ident_clear(&e->self);
	ident_clear(&e->actor);
	free(e->actor_team);
	e->actor_team = NULL;
}

void engine_set_actor(struct engine *e, const struct ident *who)
{
	ident_clear(&e->actor);
	ident_copy(&e->actor, who != NULL ? who : &e->self);
	engine_actor_team_update(e);
}

const struct ident *engine_actor(struct engine *e)
{
	return &e->actor;
}

const char *engine_actor_team(struct engine *e)
{
	return e->actor_team;
}

void engine_ident_policy_changed(struct engine *e)
{
	engine_actor_team_update(e);
}

void engine_actor_as_self(struct engine *e, struct ident *saved)
{
	ident_copy(saved, &e->actor);
	if (e->actor.uid != e->self.uid)
		engine_set_actor(e, NULL);
}

void engine_actor_restore(struct engine *e, struct ident *saved)
{
	if (saved->uid != e->actor.uid)
		engine_set_actor(e, saved);
	ident_clear(saved);
}
