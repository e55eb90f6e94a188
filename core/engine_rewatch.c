/* engine_rewatch.c: reconcile while a process watches (the TUI, `gantry watch`): every
 * config `reconcile_ms` (10 minutes by default) the engine lists what each provider holds for
 * this installation, adopts and settles what it can, and reports orphans with their count as a
 * message: they are never destroyed here (only `gantry reconcile --terminate-orphans`). */
#include <stdlib.h>

#include "core/engine_internal.h"
#include "core/xmalloc.h"

static void engine_rewatch_done(void *arg, int rc, const struct engine_reconcile_report *rep,
                                const char *cause)
{
	struct engine *e = arg;
	char *msg = NULL;

	if (rc != 0)
		msg = xprintf("reconcile: %s", cause != NULL ? cause : "failed");
	else if (rep->norphan_refs > 0)
		msg =
		    xprintf("reconcile: %zu resource%s of this installation belong%s to no job "
		            "(first: %s); `gantry reconcile` lists them, --terminate-orphans ends "
		            "them",
		            rep->norphan_refs, rep->norphan_refs == 1 ? "" : "s",
		            rep->norphan_refs == 1 ? "s" : "", rep->orphan_refs[0]);
	if (msg != NULL) {
		struct engine_event ev = {.type = ENGINE_EV_MESSAGE, .message = msg};

		engine_emit(e, &ev);
		free(msg);
	}
}

static void engine_rewatch_tick_run(void *arg)
{
	struct engine *e = arg;
	char *cause = NULL;

	if (e->rec != NULL || e->opts.readonly)
		return; /* one at a time: the next tick tries again */
	if (engine_reconcile_start(e, 0, engine_rewatch_done, e, &cause) != 0)
		free(cause);
}

/* as the process itself, never as a gantryd client (engine_actor_as_self) */
static void engine_rewatch_tick(void *arg)
{
	struct ident saved;

	engine_actor_as_self(arg, &saved);
	engine_rewatch_tick_run(arg);
	engine_actor_restore(arg, &saved);
}

void engine_rewatch_start(struct engine *e)
{
	if (e->rewatch_timer != NULL || e->cfg.reconcile_ms <= 0)
		return;
	e->rewatch_timer = loop_timer_add(e->loop, (uint64_t)e->cfg.reconcile_ms,
	                                  (uint64_t)e->cfg.reconcile_ms, engine_rewatch_tick, e);
}

void engine_rewatch_stop(struct engine *e)
{
	if (e->rewatch_timer != NULL)
		loop_timer_cancel(e->loop, e->rewatch_timer);
	e->rewatch_timer = NULL;
}
