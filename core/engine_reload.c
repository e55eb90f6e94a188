/* engine_reload.c: config.yaml changes apply to a running engine (an open TUI) without a
 * restart. On every engine tick the file's inode, size and mtime are compared with what was
 * loaded; when they differ (or on engine_config_reload) the file is read again. A valid file
 * replaces the settings (budgets, limits, default provider, team, project, history spans);
 * an invalid one is reported with its FILE:LINE:COL and the old settings stay. Providers are
 * opened once: changes to `providers:` are noted and need a restart.
 *
 * The replaced settings are kept (not freed) until the engine closes: callers may hold
 * pointers into them (engine_config, a cost snapshot's budget entries). Reloads are rare and
 * small, so this costs little. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/xmalloc.h"

struct engine_reload {
	int have_stat;
	struct stat st;        /* config.yaml as last loaded (or found missing: st_ino 0) */
	int generation;        /* bumped by every successful reload */
	char *error;           /* why the last read failed, or NULL */
	int providers_changed; /* `providers:` differs from what the providers were opened with */
	struct config *retired;
	size_t nretired;
};

static struct engine_reload *engine_reload_state(struct engine *e)
{
	if (e->reload == NULL)
		e->reload = xcalloc(1, sizeof *e->reload);
	return e->reload;
}

/* The file's identity; a missing file is all zeroes. */
static void engine_reload_stat(const char *path, struct stat *st)
{
	if (stat(path, st) != 0)
		memset(st, 0, sizeof *st);
}

static int engine_reload_same(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* 1 when the providers' settings differ (names, types, settings). */
static int engine_reload_providers_differ(const struct config *a, const struct config *b)
{
	if (a->nproviders != b->nproviders)
		return 1;
	for (size_t i = 0; i < a->nproviders; i++) {
		const struct config_provider *p = &a->providers[i], *q = &b->providers[i];

		if (strcmp(p->name, q->name) != 0 ||
		    strcmp(p->type != NULL ? p->type : "", q->type != NULL ? q->type : "") != 0 ||
		    p->settings.n != q->settings.n)
			return 1;
		for (size_t k = 0; k < p->settings.n; k++)
			if (strcmp(p->settings.keys[k], q->settings.keys[k]) != 0 ||
			    strcmp(p->settings.vals[k], q->settings.vals[k]) != 0)
				return 1;
	}
	return 0;
}

static void engine_reload_emit(struct engine *e, const char *msg)
{
	struct engine_event ev = {.type = ENGINE_EV_MESSAGE, .message = msg};

	engine_emit(e, &ev);
}

int engine_config_reload(struct engine *e, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_unavailable_op(e, "config reload", cause);
	struct engine_reload *r = engine_reload_state(e);
	struct config n;
	char *why = NULL, *msg;

	memset(&n, 0, sizeof n);
	engine_reload_stat(e->cfg.config_file, &r->st);
	r->have_stat = 1;
	if (config_load(&n, &why) != 0) {
		config_free(&n);
		free(r->error);
		r->error = why != NULL ? why : xstrdup("config.yaml cannot be read");
		msg = xprintf("config.yaml has an error, the old settings stay: %s", r->error);
		engine_reload_emit(e, msg);
		free(msg);
		return xcause(cause, "%s", r->error);
	}
	free(r->error);
	r->error = NULL;
	/* the providers were opened with the first settings */
	r->providers_changed =
	    engine_reload_providers_differ(r->nretired > 0 ? &r->retired[0] : &e->cfg, &n);
	/* Keep what engine_open set up from the first settings: the refresh timer's period. */
	n.refresh_ms = e->cfg.refresh_ms;
	r->retired = xrealloc(r->retired, (r->nretired + 1) * sizeof *r->retired);
	r->retired[r->nretired++] = e->cfg;
	e->cfg = n;
	engine_tele_budgets_reset(e);
	r->generation++;
	engine_reload_emit(e, r->providers_changed
	                          ? "config.yaml reloaded (provider changes apply after a restart)"
	                          : "config.yaml reloaded");
	{
		struct engine_event ev = {.type = ENGINE_EV_JOBS_CHANGED};

		engine_emit(e, &ev);
	}
	return 0;
}

void engine_reload_tick(struct engine *e)
{
	struct engine_reload *r = engine_reload_state(e);
	struct stat st;

	engine_reload_stat(e->cfg.config_file, &st);
	if (!r->have_stat) {
		/* The first tick: the settings engine_open read are current. */
		r->st = st;
		r->have_stat = 1;
		return;
	}
	if (engine_reload_same(&st, &r->st))
		return;
	engine_config_reload(e, NULL);
}

int engine_config_generation(struct engine *e, const char **error)
{
	if (engine_is_remote(e))
		return error != NULL ? (*error = NULL, 0) : 0;
	struct engine_reload *r = engine_reload_state(e);

	if (error != NULL)
		*error = r->error;
	return r->generation;
}

void engine_reload_free(struct engine *e)
{
	struct engine_reload *r = e->reload;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nretired; i++)
		config_free(&r->retired[i]);
	free(r->retired);
	free(r->error);
	free(r);
	e->reload = NULL;
}
