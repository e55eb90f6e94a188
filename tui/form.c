/* form.c: the launch form built from a template's params: one field per param (plus the job
 * name and the provider), inline validation with template_param_check, a preview of what
 * the job will get (engine_plan), and [Launch] / [Cancel]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "core/cost.h"
#include "core/engine.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/form_offers.h"
#include "tui/layout.h"
#include "tui/view.h"

#define FORM_LABEL_W      16
#define FORM_INPUT_W      36
#define FORM_PREVIEW_ROWS 7    /* rule + 6 lines */
#define FORM_BUDGET_MS    5000 /* the budget check is redone at most this often */
#define FORM_FIXED        3    /* job name, provider, max_runtime; then the params */

static const char *const form_bool_choices[] = {"true", "false"};

static void form_free(struct app *a)
{
	struct app_form *F = &a->form;
	size_t i;

	for (i = 0; i < F->nfields; i++) {
		free(F->fields[i].label);
		free(F->fields[i].error);
		free(F->fields[i].initial);
	}
	free(F->fields);
	free(F->field_y);
	free(F->providers);
	free(F->tpl_name);
	free(F->plan_error);
	free(F->budget_reason);
	free(F->budget_block);
	free(F->budget_key);
	free(F->policy_block);
	free(F->policy_note);
	if (F->have_plan)
		engine_plan_clear(&F->plan);
	form_offers_close();
	memset(F, 0, sizeof(*F));
}

/* Checks the plan against the budgets (engine_budget_check_launch reads every job: it is
 * redone only when the provider, price or runtime changed, or after FORM_BUDGET_MS). */
static void form_budget(struct app *a)
{
	struct app_form *F = &a->form;
	const struct engine_plan *p = &F->plan;
	int64_t now = (int64_t)loop_now_ms();
	char *key, *why = NULL;

	if (!F->have_plan)
		return;
	key = xprintf("%s|%d|%.6f|%ld|%s", p->provider != NULL ? p->provider : "", p->offer.priced,
	              p->offer.priced ? p->offer.price_per_hour : 0.0, p->max_runtime_s,
	              p->template_name != NULL ? p->template_name : "");
	if (F->budget_key != NULL && strcmp(F->budget_key, key) == 0 &&
	    now - F->budget_at_ms < FORM_BUDGET_MS) {
		free(key);
		return;
	}
	free(F->budget_key);
	F->budget_key = key;
	F->budget_at_ms = now;
	form_policy_update(a); /* issue 12: the policy's verdict, at the same times */
	F->verdict = engine_budget_check_launch(a->e, p, &why);
	free(F->budget_reason);
	F->budget_reason = why != NULL ? app_clean(a, why) : NULL;
	free(why);
	free(F->budget_block);
	F->budget_block = NULL;
	if (F->verdict == COST_HARD)
		F->budget_block = xprintf("over budget: %s", F->budget_reason != NULL
		                                                 ? F->budget_reason
		                                                 : "a hard limit is reached");
}

static void form_check(struct app *a);

void form_config_changed(struct app *a)
{
	struct app_form *F = &a->form;

	free(F->budget_key);
	F->budget_key = NULL;
	if (F->tpl != NULL)
		form_check(a);
}

static int form_is_choice(const struct form_field *f)
{
	return f->choices != NULL && f->nchoices > 0;
}

/* The max_runtime field: blank (the template's limit, or none) or a duration no longer than
 * the template's limit. Sets f->error; 0 when valid. */
static int form_runtime_check(struct app_form *F, struct form_field *f)
{
	long s, limit = F->tpl->limits.max_runtime_s;
	char l[32];

	if (f->ed.len == 0)
		return 0;
	s = engine_duration_parse(f->ed.buf);
	if (s <= 0) {
		f->error = xstrdup("expected a duration such as 30s, 10m, 2h or 1h30m");
		return -1;
	}
	if (limit > 0 && s > limit) {
		cost_duration((int64_t)limit * 1000, l);
		f->error = xprintf("at most %s (the template's limits.max_runtime)", l);
		return -1;
	}
	return 0;
}

/* Validates every field, then asks the engine for a plan when all are valid. */
static void form_check(struct app *a)
{
	struct app_form *F = &a->form;
	struct engine_launch_req req;
	const char **sets;
	char **owned;
	size_t i, n = 0;
	char *cause = NULL;

	F->nerrors = 0;
	for (i = 0; i < F->nfields; i++) {
		struct form_field *f = &F->fields[i];

		free(f->error);
		f->error = NULL;
		if (f->kind == FORM_FIELD_RUNTIME) {
			if (form_runtime_check(F, f) != 0)
				F->nerrors++;
			continue;
		}
		if (f->kind != FORM_FIELD_PARAM)
			continue;
		if (template_param_check(f->param, f->ed.buf, &cause) != 0) {
			f->error = app_clean(a, cause != NULL ? cause : "invalid value");
			free(cause);
			cause = NULL;
			F->nerrors++;
		}
	}
	if (F->have_plan)
		engine_plan_clear(&F->plan);
	F->have_plan = 0;
	free(F->plan_error);
	F->plan_error = NULL;
	if (F->nerrors > 0) {
		F->plan_error = xprintf("fix the field%s marked above", F->nerrors > 1 ? "s" : "");
		return;
	}
	sets = xcalloc(F->nfields + 1, sizeof(*sets));
	owned = xcalloc(F->nfields + 1, sizeof(*owned));
	memset(&req, 0, sizeof(req));
	req.template_name = F->tpl_name;
	for (i = 0; i < F->nfields; i++) {
		struct form_field *f = &F->fields[i];

		if (f->kind == FORM_FIELD_PARAM) {
			owned[n] = xprintf("%s=%s", f->param->name, f->ed.buf);
			sets[n] = owned[n];
			n++;
		} else if (f->kind == FORM_FIELD_PROVIDER &&
		           strcmp(f->ed.buf, F->providers[0]) != 0) {
			req.provider = f->ed.buf;
		} else if (f->kind == FORM_FIELD_NAME && f->ed.len > 0) {
			req.name = f->ed.buf;
		} else if (f->kind == FORM_FIELD_RUNTIME && f->ed.len > 0) {
			req.max_runtime_s = engine_duration_parse(f->ed.buf);
		}
	}
	req.sets = sets;
	req.nsets = n;
	if (engine_plan(a->e, &req, &F->plan, &cause) == 0) {
		F->have_plan = 1;
		form_budget(a);
	} else {
		F->plan_error = app_clean(a, cause != NULL ? cause : "cannot plan this launch");
		free(cause);
	}
	for (i = 0; i < n; i++)
		free(owned[i]);
	free(owned);
	free(sets);
}

void form_open(struct app *a, const struct template *t)
{
	struct app_form *F = &a->form;
	size_t i, np = engine_provider_count(a->e);

	form_free(a);
	F->tpl = t;
	F->tpl_name = xstrdup(t->name);
	F->providers = xcalloc(np + 1, sizeof(*F->providers));
	F->providers[0] = "(auto)";
	for (i = 0; i < np; i++) {
		struct engine_provider_info pi;

		engine_provider_info(a->e, i, &pi);
		F->providers[i + 1] = pi.name;
	}
	F->nproviders = np + 1;
	F->nfields = t->nparams + FORM_FIXED;
	F->fields = xcalloc(F->nfields, sizeof(*F->fields));
	F->fields[0].kind = FORM_FIELD_NAME;
	F->fields[0].label = xstrdup("job name");
	F->fields[1].kind = FORM_FIELD_PROVIDER;
	F->fields[1].label = xstrdup("provider");
	F->fields[1].choices = F->providers;
	F->fields[1].nchoices = F->nproviders;
	lineedit_set(&F->fields[1].ed, F->providers[0]);
	F->fields[2].kind = FORM_FIELD_RUNTIME;
	F->fields[2].label = xstrdup("max_runtime");
	if (t->limits.max_runtime_s > 0) {
		char d[32];

		cost_duration((int64_t)t->limits.max_runtime_s * 1000, d);
		lineedit_set(&F->fields[2].ed, d);
	}
	for (i = 0; i < t->nparams; i++) {
		struct form_field *f = &F->fields[i + FORM_FIXED];
		const struct tpl_param *p = &t->params[i];

		f->kind = FORM_FIELD_PARAM;
		f->param = p;
		f->label = app_clean(a, p->name);
		lineedit_set(&f->ed, p->def != NULL ? p->def : "");
		if (p->type == TPL_PARAM_ENUM) {
			f->choices = (const char **)p->choices;
			f->nchoices = p->nchoices;
		} else if (p->type == TPL_PARAM_BOOL) {
			f->choices = (const char **)form_bool_choices;
			f->nchoices = 2;
		}
	}
	for (i = 0; i < F->nfields; i++)
		F->fields[i].initial = xstrdup(F->fields[i].ed.buf);
	/* Start on the first param when there is one, else on [Launch]. */
	F->focus = t->nparams > 0 ? FORM_FIXED : F->nfields;
	form_check(a);
	app_push(a, APP_VIEW_FORM);
}

static void form_leave(struct app *a)
{
	form_free(a);
}

static void form_title(struct app *a, char *buf, size_t size)
{
	char *name = app_clean(a, a->form.tpl_name);

	snprintf(buf, size, "Launch %s  %s  %s", name, a->g.sep,
	         a->form.tpl != NULL ? job_kind_name(a->form.tpl->kind) : "");
	free(name);
}

/* Why [Launch] cannot be pressed, or NULL when it can. */
static const char *form_blocked(struct app *a)
{
	struct app_form *F = &a->form;

	if (a->readonly)
		return "read-only mode (--readonly)";
	if (F->launching)
		return "launching...";
	if (F->nerrors > 0 || !F->have_plan)
		return F->plan_error != NULL ? F->plan_error : "not ready";
	form_budget(a);
	if (F->policy_block != NULL) /* issue 12: the policy decides first, as engine_admit */
		return F->policy_block;
	if (!F->plan.offer.fits && F->plan.offer.provider != NULL)
		return F->plan.offer.reason != NULL ? F->plan.offer.reason
		                                    : "the template does not fit the provider";
	return F->budget_block;
}

/* The first line of the rendered script that is a command (not the preamble). */
static char *form_command_line(const char *script)
{
	const char *s = script, *nl;

	while (s != NULL && *s != '\0') {
		nl = strchr(s, '\n');
		if (*s != '#' && *s != '\n' && strncmp(s, "set -e", 6) != 0)
			return nl != NULL ? xstrndup(s, (size_t)(nl - s)) : xstrdup(s);
		s = nl != NULL ? nl + 1 : NULL;
	}
	return xstrdup("-");
}

/* Rows of the field area a field takes. */
static int form_field_rows(const struct form_field *f)
{
	return f->error != NULL ? 2 : 1;
}

static void form_draw_field(struct app *a, size_t i, int y)
{
	struct app_form *F = &a->form;
	struct form_field *f = &F->fields[i];
	int focus = F->focus == i, iw = FORM_INPUT_W, x;
	const char *hint = NULL;
	char buf[LINEEDIT_MAX + 16], *desc = NULL;

	if (iw > a->cols - FORM_LABEL_W - 6)
		iw = a->cols - FORM_LABEL_W - 6;
	draw_text(a, y, 0, 2, focus ? a->g.marker : "", THEME_FIELD_FOCUS, 0);
	draw_text(a, y, 2, FORM_LABEL_W - 2, f->label, focus ? THEME_TITLE : THEME_LABEL, 0);
	x = FORM_LABEL_W;
	if (form_is_choice(f)) {
		snprintf(buf, sizeof(buf), "< %s >", f->ed.buf);
		draw_text(a, y, x, iw, buf, focus ? THEME_FIELD_FOCUS : THEME_FIELD, DRAW_PAD);
	} else {
		draw_edit(a, y, x, iw, &f->ed, focus ? THEME_FIELD_FOCUS : THEME_FIELD, focus);
	}
	if (f->kind == FORM_FIELD_NAME)
		hint = "optional; blank picks TEMPLATE-N";
	else if (f->kind == FORM_FIELD_PROVIDER)
		hint = "Left/Right to choose";
	else if (f->kind == FORM_FIELD_RUNTIME && F->tpl->limits.max_runtime_s > 0) {
		/* the limit first: on a narrow screen the examples are what gets cut */
		char l[32];

		cost_duration((int64_t)F->tpl->limits.max_runtime_s * 1000, l);
		hint = desc = xprintf("at most %s (e.g. 30s, 10m, 2h)", l);
	} else if (f->kind == FORM_FIELD_RUNTIME)
		hint = "blank = no limit (e.g. 30s, 10m, 2h)";
	else if (f->param->description != NULL)
		hint = desc = app_clean(a, f->param->description);
	if (hint != NULL)
		draw_text(a, y, x + iw + 2, a->cols - x - iw - 3, hint, THEME_DIM, 0);
	free(desc);
	if (f->error != NULL) {
		snprintf(buf, sizeof(buf), "%s %s", a->g.broken, f->error);
		draw_text(a, y + 1, x, a->cols - x - 1, buf, THEME_FIELD_ERROR, 0);
	}
}

/* "Price  $36.00/h  · up to $72.00 for max_runtime 2h". */
static void form_draw_price(struct app *a, int y)
{
	const struct engine_plan *p = &a->form.plan;
	char v[256], rate[32], total[32], d[32];

	draw_text(a, y, 2, 10, "Price", THEME_LABEL, 0);
	if (!p->offer.priced) {
		draw_text(a, y, 12, a->cols - 13,
		          "unpriced (no live, catalog or site price: not counted in budgets)",
		          THEME_DIM, 0);
		return;
	}
	view_cost_rate(p->offer.price_per_hour, rate, sizeof rate);
	if (p->max_runtime_s > 0) {
		cost_money(p->offer.price_per_hour * (double)p->max_runtime_s / 3600.0, total);
		cost_duration((int64_t)p->max_runtime_s * 1000, d);
		snprintf(v, sizeof v, "%s  %s  up to %s for max_runtime %s", rate, a->g.sep, total,
		         d);
	} else {
		snprintf(v, sizeof v, "%s  %s  no max_runtime set (limits.max_runtime)", rate,
		         a->g.sep);
	}
	draw_text(a, y, 12, a->cols - 13, v, THEME_NORMAL, 0);
}

/* "Budget  soft limit: team ml: $812.40 of $1000.00 ...", coloured by the verdict. */
static void form_draw_budget(struct app *a, int y)
{
	struct app_form *F = &a->form;
	char v[640];

	draw_text(a, y, 2, 10, "Budget", THEME_LABEL, 0);
	if (F->budget_reason == NULL) {
		draw_text(a, y, 12, a->cols - 13, "no budget applies", THEME_DIM, 0);
		return;
	}
	snprintf(v, sizeof v, "%s: %s",
	         F->verdict == COST_HARD   ? "OVER BUDGET"
	         : F->verdict == COST_SOFT ? "warning"
	                                   : "ok",
	         F->budget_reason);
	draw_text(a, y, 12, a->cols - 13, v, view_cost_verdict_role(F->verdict), 0);
}

static void form_draw_preview(struct app *a, int y, int h)
{
	struct app_form *F = &a->form;
	struct engine_plan *p = &F->plan;
	char v[512], *clean;
	int x;

	draw_hline(a, y, 0, 2, THEME_BORDER);
	x = 2 + draw_text(a, y, 2, 40, " What the job will get ", THEME_TITLE, 0);
	draw_hline(a, y, x, a->cols - x, THEME_BORDER);
	if (a->cols - x > 20) /* the Offers panel (form_offers.c) */
		draw_text(a, y, a->cols - 17, 15, " ^O: offers ", THEME_DIM, 0);
	y++;
	if (h < 2)
		return;
	if (!F->have_plan) {
		draw_text(a, y, 2, a->cols - 4, F->plan_error != NULL ? F->plan_error : "",
		          F->nerrors > 0 ? THEME_FIELD_ERROR : THEME_STATUS_ERROR, 0);
		return;
	}
	snprintf(v, sizeof(v), "%s%s%s", p->provider, p->offer.description != NULL ? "  " : "",
	         p->offer.description != NULL ? p->offer.description : "");
	clean = app_clean(a, v);
	draw_text(a, y, 2, 10, "Provider", THEME_LABEL, 0);
	draw_text(a, y++, 12, a->cols - 13, clean, THEME_NORMAL, 0);
	free(clean);
	draw_text(a, y, 2, 10, "Fits", THEME_LABEL, 0);
	if (p->offer.fits) {
		x = 12 + draw_text(a, y, 12, a->cols - 13, "yes", THEME_HEALTH_OK, 0);
		if (p->note != NULL && a->cols - x > 4) { /* what the provider does differently */
			clean = app_clean(a, p->note);
			snprintf(v, sizeof(v), " — %s", clean);
			free(clean);
			draw_text(a, y, x, a->cols - x - 1, v, THEME_DIM, 0);
		}
		y++;
	} else {
		clean = app_clean(a, p->offer.reason != NULL ? p->offer.reason : "unknown reason");
		snprintf(v, sizeof(v), "no: %s", clean);
		free(clean);
		draw_text(a, y++, 12, a->cols - 13, v, THEME_STATUS_ERROR, 0);
	}
	snprintf(v, sizeof(v), "%d (%s)   port: %s", p->gpus, p->accels != NULL ? p->accels : "-",
	         p->want_port ? "yes ($GANTRY_PORT)" : "none");
	draw_text(a, y, 2, 10, "GPUs", THEME_LABEL, 0);
	draw_text(a, y++, 12, a->cols - 13, v, THEME_NORMAL, 0);
	form_draw_price(a, y++);
	form_draw_budget(a, y++);
	{
		char *cmd = form_command_line(p->script);

		clean = app_clean(a, cmd);
		free(cmd);
		draw_text(a, y, 2, 10, "Command", THEME_LABEL, 0);
		draw_text(a, y++, 12, a->cols - 13, clean, THEME_DIM, 0);
		free(clean);
	}
}

static void form_draw(struct app *a, int y, int h)
{
	struct app_form *F = &a->form;
	int area = h - FORM_PREVIEW_ROWS - 3, rows = 0, focus_row = 0, r = 0, x;
	size_t i;
	const char *blocked = form_blocked(a);
	enum theme_role lr;

	if (form_offers_draw(a, y, h)) /* ^O: the Offers panel over the form (form_offers.c) */
		return;
	if (area < 1)
		area = 1;
	/* Scroll the field area so the focused field shows. */
	for (i = 0; i < F->nfields; i++) {
		if (i == F->focus)
			focus_row = rows;
		rows += form_field_rows(&F->fields[i]);
	}
	if (F->focus >= F->nfields)
		focus_row = rows - 1;
	if (focus_row < F->top)
		F->top = focus_row;
	if (focus_row + 1 >= F->top + area)
		F->top = focus_row + 2 - area;
	if (F->top > rows - area)
		F->top = rows - area > 0 ? rows - area : 0;
	F->field_y = xreallocarray(F->field_y, F->nfields + 1, sizeof(*F->field_y));
	for (i = 0; i < F->nfields; i++) {
		int fr = form_field_rows(&F->fields[i]);

		F->field_y[i] = -1;
		if (r >= F->top && r + fr <= F->top + area) {
			form_draw_field(a, i, y + r - F->top);
			F->field_y[i] = y + r - F->top;
		}
		r += fr;
	}
	/* Buttons right under the fields, then the preview. The focused button has the marker
	 * before it and is reverse and bold whatever the theme (also without colours). */
	if (rows < area)
		area = rows;
	{
		int by = y + area + 1, lf = F->focus == F->nfields, cf = F->focus == F->nfields + 1;

		F->button_y = by;
		attr_t fa = A_REVERSE | A_BOLD;

		lr = blocked != NULL ? THEME_BUTTON_DISABLED
		     : lf            ? THEME_BUTTON_FOCUS
		                     : THEME_BUTTON;
		x = FORM_LABEL_W;
		if (lf)
			draw_text(a, by, x - 2, 2, a->g.marker, THEME_FIELD_FOCUS, 0);
		x += draw_text_attr(a, by, x, 10, "[ Launch ]", draw_attr(a, lr) | (lf ? fa : 0),
		                    0) +
		     2;
		if (cf)
			draw_text(a, by, x - 2, 2, a->g.marker, THEME_FIELD_FOCUS, 0);
		x += draw_text_attr(
		         a, by, x, 10, "[ Cancel ]",
		         draw_attr(a, cf ? THEME_BUTTON_FOCUS : THEME_BUTTON) | (cf ? fa : 0), 0) +
		     2;
		if (blocked != NULL) {
			/* the whole reason: on the button row and the blank row under it */
			char msg[1024], *line;
			size_t st[2], ln[2], n;

			snprintf(msg, sizeof(msg), "cannot launch: %s", blocked);
			n = layout_wrap(msg, a->cols - x - 1, a->ascii ? LAYOUT_ASCII : 0, st, ln,
			                2);
			if (n > 0) {
				line = xstrndup(msg + st[0], ln[0]);
				draw_text(a, by, x, a->cols - x - 1, line, THEME_FIELD_ERROR, 0);
				free(line);
			}
			if (n > 1) /* the rest, over the full width (cut only if longer still) */
				draw_text(a, by + 1, 2, a->cols - 3, msg + st[1], THEME_FIELD_ERROR,
				          0);
		} else if (F->policy_note != NULL) { /* issue 12: "needs approval: ..." */
			draw_text(a, by, x, a->cols - x - 1, F->policy_note, THEME_STATUS, 0);
		}
	}
	form_draw_preview(a, y + area + 3, FORM_PREVIEW_ROWS);
}

/* Set when form_launched ran: a local launch reports before engine_launch returns, and its
 * "launched" (or why it failed) must not be replaced by "launching…". */
static int form_reported;

static void form_launched(void *arg, int rc, const char *job_id, const char *cause)
{
	struct app *a = app_current();
	char name[128];

	(void)arg;
	form_reported = 1;
	if (a == NULL)
		return;
	if (rc != 0)
		app_status(a, 1, "launching %s failed: %s",
		           view_jobs_name(a, job_id, name, sizeof(name)),
		           cause != NULL ? cause : "?");
	else
		app_status(a, 0, "%s launched", view_jobs_name(a, job_id, name, sizeof(name)));
	view_jobs_changed(a, job_id);
	view_job_changed(a, job_id);
}

/* [Launch]: launches, then shows the new job. */
static void form_launch(struct app *a)
{
	struct app_form *F = &a->form;
	struct engine_launch_req req;
	const char *blocked;
	const char **sets;
	char *job_id = NULL, *cause = NULL, *name;
	size_t i, n = 0;
	int rc;

	if (app_refuse_readonly(a, "launching jobs"))
		return;
	blocked = form_blocked(a);
	if (blocked != NULL) {
		app_status(a, 1, "cannot launch: %s", blocked);
		return;
	}
	sets = xcalloc(F->nfields + 1, sizeof(*sets));
	memset(&req, 0, sizeof(req));
	req.template_name = F->tpl_name;
	for (i = 0; i < F->nfields; i++) {
		struct form_field *f = &F->fields[i];

		if (f->kind == FORM_FIELD_PARAM)
			sets[n++] = xprintf("%s=%s", f->param->name, f->ed.buf);
		else if (f->kind == FORM_FIELD_PROVIDER && strcmp(f->ed.buf, F->providers[0]) != 0)
			req.provider = f->ed.buf;
		else if (f->kind == FORM_FIELD_NAME && f->ed.len > 0)
			req.name = f->ed.buf;
		else if (f->kind == FORM_FIELD_RUNTIME && f->ed.len > 0)
			req.max_runtime_s = engine_duration_parse(f->ed.buf);
	}
	req.sets = sets;
	req.nsets = n;
	F->launching = 1;
	form_reported = 0;
	rc = engine_launch(a->e, &req, &job_id, form_launched, NULL, &cause);
	F->launching = 0;
	for (i = 0; i < n; i++)
		free((char *)sets[i]);
	free(sets);
	if (rc != 0) {
		app_status(a, 1, "launch failed: %s", cause != NULL ? cause : "?");
		free(cause);
		free(job_id);
		return;
	}
	name = xstrdup(F->tpl_name);
	/* The form goes away here: nothing of it is used after this. */
	app_switch(a, APP_VIEW_JOBS);
	view_jobs_changed(a, job_id);
	view_job_open(a, job_id, 0);
	if (!form_reported) {
		char jn[128];

		app_status(a, 0, "launching %s from %s%s",
		           view_jobs_name(a, job_id, jn, sizeof(jn)), name,
		           a->ascii ? "..." : "\xe2\x80\xa6");
	}
	free(name);
	free(job_id);
}

/* Cycles a choice field by delta. */
static void form_cycle(struct app *a, struct form_field *f, int delta)
{
	size_t i, cur = 0;

	for (i = 0; i < f->nchoices; i++)
		if (strcmp(f->choices[i], f->ed.buf) == 0)
			cur = i;
	cur = (cur + (delta < 0 ? f->nchoices - 1 : 1)) % f->nchoices;
	lineedit_set(&f->ed, f->choices[cur]);
	form_check(a);
}

/* 1 when a field differs from what the form opened with. */
static int form_edited(const struct app_form *F)
{
	size_t i;

	for (i = 0; i < F->nfields; i++)
		if (F->fields[i].initial != NULL &&
		    strcmp(F->fields[i].initial, F->fields[i].ed.buf) != 0)
			return 1;
	return 0;
}

static void form_discard_yes(struct app *a, const char *unused)
{
	(void)unused;
	if (app_view(a) == &form_ops)
		app_pop(a);
}

/* Esc and [Cancel]: leaves the form, asking first when a field was edited. */
static void form_cancel(struct app *a)
{
	if (!form_edited(&a->form)) {
		app_pop(a);
		return;
	}
	dialog_confirm(a, "Discard changes?",
	               "The form has edits. y discards them and closes the form; any other key "
	               "goes back to the form.",
	               "", form_discard_yes);
}

/* Enter and ^S: launches when the form is valid; else says which field is wrong and why, and
 * moves the focus there. */
static void form_submit(struct app *a)
{
	struct app_form *F = &a->form;
	size_t i;

	for (i = 0; i < F->nfields; i++) {
		if (F->fields[i].error != NULL) {
			F->focus = i;
			app_status(a, 1, "cannot launch: %s: %s", F->fields[i].label,
			           F->fields[i].error);
			return;
		}
	}
	form_launch(a);
}

static int form_action(struct app *a, enum keymap_action act)
{
	struct app_form *F = &a->form;
	size_t nfocus = F->nfields + 2;
	struct form_field *f = F->focus < F->nfields ? &F->fields[F->focus] : NULL;

	if (form_offers_action(a, act))
		return 1;
	switch (act) {
	case KEYMAP_NEXT_FIELD:
		F->focus = (F->focus + 1) % nfocus;
		return 1;
	case KEYMAP_PREV_FIELD:
		F->focus = (F->focus + nfocus - 1) % nfocus;
		return 1;
	case KEYMAP_LEFT:
	case KEYMAP_RIGHT:
		if (f != NULL && form_is_choice(f))
			form_cycle(a, f, act == KEYMAP_LEFT ? -1 : 1);
		else if (f != NULL)
			lineedit_key(
			    &f->ed, act == KEYMAP_LEFT ? KEYMAP_FN(KEY_LEFT) : KEYMAP_FN(KEY_RIGHT),
			    a->ascii);
		else
			F->focus = F->focus == F->nfields ? F->nfields + 1 : F->nfields;
		return 1;
	case KEYMAP_OPEN:
		if (F->focus == F->nfields + 1)
			form_cancel(a);
		else
			form_submit(a);
		return 1;
	case KEYMAP_LAUNCH:
		form_submit(a);
		return 1;
	case KEYMAP_CANCEL:
		form_cancel(a);
		return 1;
	default:
		return 0;
	}
}

static int form_key(struct app *a, int key)
{
	struct app_form *F = &a->form;
	struct form_field *f;

	if (form_offers_key(a, key))
		return 1;
	if (F->focus >= F->nfields) {
		if (key == ' ')
			return form_action(a, KEYMAP_OPEN);
		return 0;
	}
	f = &F->fields[F->focus];
	if (form_is_choice(f)) {
		if (key == ' ')
			form_cycle(a, f, 1);
		return key == ' ';
	}
	if (lineedit_key(&f->ed, key, a->ascii) == 1)
		form_check(a);
	return 1;
}

/* A click on a field focuses it (a choice field already focused moves to its next choice);
 * on [Launch] or [Cancel] it presses the button. */
static void form_click(struct app *a, int y, int x)
{
	struct app_form *F = &a->form;

	if (F->field_y == NULL || form_offers_shown())
		return;
	if (y == F->button_y && x >= FORM_LABEL_W && x < FORM_LABEL_W + 10) {
		F->focus = F->nfields;
		form_submit(a);
		return;
	}
	if (y == F->button_y && x >= FORM_LABEL_W + 12 && x < FORM_LABEL_W + 22) {
		F->focus = F->nfields + 1;
		form_cancel(a);
		return;
	}
	for (size_t i = 0; i < F->nfields; i++) {
		if (F->field_y[i] != y)
			continue;
		if (F->focus == i && form_is_choice(&F->fields[i]))
			form_cycle(a, &F->fields[i], 1);
		F->focus = i;
		return;
	}
}

const struct view_ops form_ops = {
    .name = "Launch",
    .mask = KEYMAP_V_FORM,
    .leave = form_leave,
    .title = form_title,
    .draw = form_draw,
    .action = form_action,
    .key = form_key,
    .click = form_click,
};
