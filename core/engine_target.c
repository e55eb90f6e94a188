/* engine_target.c: where a job's worker lives (shells, forwards), from the provider's async
 * `target` op. */
#include "core/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/xmalloc.h"

/* Heap: a provider that answers after engine_job_target_sync gave up finds it abandoned. */
struct engine_target_wait {
	int done, abandoned, rc;
	char *cause;
	struct provider_shell sh;
};

static void engine_target_cb(void *arg, int rc, struct provider_shell *sh, const char *cause)
{
	struct engine_target_wait *w = arg;

	if (w->abandoned) {
		free(w);
		return;
	}
	w->done = 1;
	w->rc = rc;
	if (rc == 0 && sh != NULL) {
		w->sh = *sh;                 /* moved out: the provider clears a zeroed one */
		if (sh->target.jump != NULL) /* it pointed into the provider's copy */
			w->sh.target.jump = &w->sh.jump_target;
		memset(sh, 0, sizeof *sh);
	} else {
		w->cause = xstrdup(cause != NULL ? cause : "no target");
	}
}

#define ENGINE_TARGET_MS 30000

int engine_job_target_sync(struct engine *e, struct engine_provider *ep, const char *ref,
                           int worker, struct provider_shell *out, char **cause)
{
	struct engine_target_wait *w;
	uint64_t until = loop_now_ms() + ENGINE_TARGET_MS;
	int rc;

	memset(out, 0, sizeof *out);
	if (ep->ops->target == NULL)
		return xcause(cause, "shells are not supported by provider %s", ep->name);
	w = xcalloc(1, sizeof *w);
	if (ep->ops->target(ep->p, ref, worker, engine_target_cb, w, cause) != 0) {
		free(w);
		return -1;
	}
	while (!w->done && loop_now_ms() < until)
		loop_run_once(e->loop, 100);
	if (!w->done) {
		w->abandoned = 1;
		return xcause(cause, "provider %s did not say where the job runs within %d s",
		              ep->name, ENGINE_TARGET_MS / 1000);
	}
	rc = w->rc;
	if (rc != 0)
		xcause(cause, "%s", w->cause);
	else
		*out = w->sh;
	if (rc == 0 && out->target.jump != NULL)
		out->target.jump = &out->jump_target;
	free(w->cause);
	free(w);
	return rc == 0 ? 0 : -1;
}
