/* view_templates.c: the template list and a preview of the selected one. Broken templates
 * are listed marked, with their FILE:LINE:COL error in the preview. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/layout.h"
#include "tui/view.h"

#define TPL_WRAP_MAX 64 /* lines of one wrapped paragraph */

/* Where the preview writes next. */
struct tpl_pen {
	struct app *a;
	int y, x, w, end; /* end: first row not to use */
};

static const char *const tpl_layer_names[] = {"built-in", "system", "user"};
static const char *const tpl_type_names[] = {"string", "int", "float", "bool", "enum"};

/* 1 when template t matches the `/` filter (name, kind, description). */
static int tpl_match(struct app *a, const struct template *t)
{
	return app_match(t->name, a->tfilter) ||
	       app_match(t->error != NULL ? "broken" : job_kind_name(t->kind), a->tfilter) ||
	       app_match(t->description, a->tfilter);
}

/* Index in a->tpls of filtered row r, or -1. */
static int tpl_row(struct app *a, int r)
{
	int k = 0;

	for (size_t i = 0; a->tpls != NULL && i < a->tpls->n; i++) {
		if (!tpl_match(a, a->tpls->items[i]))
			continue;
		if (k++ == r)
			return (int)i;
	}
	return -1;
}

/* Rows that pass the filter. */
static int tpl_nrows(struct app *a)
{
	int k = 0;

	for (size_t i = 0; a->tpls != NULL && i < a->tpls->n; i++)
		k += tpl_match(a, a->tpls->items[i]);
	return k;
}

static const struct template *tpl_selected(struct app *a)
{
	int n = tpl_nrows(a), i;

	if (n == 0)
		return NULL;
	if (a->tsel >= n)
		a->tsel = n - 1;
	if (a->tsel < 0)
		a->tsel = 0;
	i = tpl_row(a, a->tsel);
	return i >= 0 ? a->tpls->items[i] : NULL;
}

/* Writes untrusted text wrapped to the pen's width, indented by indent. */
static void tpl_para(struct tpl_pen *p, const char *text, int indent, enum theme_role r)
{
	size_t st[TPL_WRAP_MAX], ln[TPL_WRAP_MAX], n, i;
	char *clean = app_clean(p->a, text), *line;
	int flags = p->a->ascii ? LAYOUT_ASCII : 0;

	n = layout_wrap(clean, p->w - indent, flags, st, ln, TPL_WRAP_MAX);
	for (i = 0; i < n && i < TPL_WRAP_MAX && p->y < p->end; i++) {
		line = xstrndup(clean + st[i], ln[i]);
		draw_text(p->a, p->y++, p->x + indent, p->w - indent, line, r, 0);
		free(line);
	}
	free(clean);
}

/* Writes each line of untrusted multi-line text, cut at the width. */
static void tpl_lines(struct tpl_pen *p, const char *text, int indent, enum theme_role r)
{
	const char *s = text, *nl;
	char *line, *clean;

	while (*s != '\0' && p->y < p->end) {
		nl = strchr(s, '\n');
		line = nl != NULL ? xstrndup(s, (size_t)(nl - s)) : xstrdup(s);
		clean = app_clean(p->a, line);
		draw_text(p->a, p->y++, p->x + indent, p->w - indent, clean, r, 0);
		free(clean);
		free(line);
		if (nl == NULL)
			break;
		s = nl + 1;
	}
}

/* "Label      value" on one row. */
static void tpl_pair(struct tpl_pen *p, const char *label, const char *value)
{
	const int lw = 11;
	char *clean;

	if (p->y >= p->end)
		return;
	draw_text(p->a, p->y, p->x, lw, label, THEME_LABEL, 0);
	clean = app_clean(p->a, value);
	draw_text(p->a, p->y++, p->x + lw, p->w - lw, clean, THEME_NORMAL, 0);
	free(clean);
}

static void tpl_resources(struct tpl_pen *p, const struct template *t)
{
	static const char *const spot[] = {"never", "prefer", "only"};
	char *acc = template_accel_string(t), v[256], cpus[16], mem[24];

	if (t->resources.cpus > 0)
		snprintf(cpus, sizeof(cpus), "%d%s", t->resources.cpus,
		         t->resources.cpus_plus ? "+" : "");
	else
		snprintf(cpus, sizeof(cpus), "-");
	if (t->resources.memory_gib > 0)
		snprintf(mem, sizeof(mem), "%d%s GiB", t->resources.memory_gib,
		         t->resources.memory_plus ? "+" : "");
	else
		snprintf(mem, sizeof(mem), "-");
	snprintf(v, sizeof(v), "GPUs %s  CPUs %s  memory %s  spot %s  nodes %d", acc, cpus, mem,
	         spot[t->resources.spot], t->resources.nodes > 0 ? t->resources.nodes : 1);
	free(acc);
	tpl_pair(p, "Resources", v);
}

static void tpl_params(struct tpl_pen *p, const struct template *t)
{
	char v[512], range[96];
	size_t i;

	if (t->nparams == 0) {
		tpl_pair(p, "Params", "none");
		return;
	}
	for (i = 0; i < t->nparams && p->y < p->end; i++) {
		const struct tpl_param *q = &t->params[i];

		range[0] = '\0';
		if (q->type == TPL_PARAM_ENUM && q->nchoices > 0)
			snprintf(range, sizeof(range), " (%s%s)", q->choices[0],
			         q->nchoices > 1 ? "|..." : "");
		else if (q->has_min && q->has_max)
			snprintf(range, sizeof(range), " [%g..%g]", q->min, q->max);
		snprintf(v, sizeof(v), "%s = %s  %s%s%s%s", q->name,
		         q->def != NULL ? q->def : "(required)", tpl_type_names[q->type], range,
		         q->description != NULL ? "  " : "",
		         q->description != NULL ? q->description : "");
		tpl_pair(p, i == 0 ? "Params" : "", v);
	}
}

static void tpl_preview(struct app *a, const struct template *t, int y, int x, int w, int h)
{
	struct tpl_pen p = {a, y, x, w, y + h};
	char v[512], *name = app_clean(a, t->name), *path = app_clean(a, t->path);

	if (t->error != NULL) {
		snprintf(v, sizeof(v), "%s %s  broken template", a->g.broken, name);
		draw_text(a, p.y++, x, w, v, THEME_BROKEN, 0);
		p.y++;
		tpl_para(&p, t->error, 0, THEME_BROKEN);
		p.y++;
		tpl_pair(&p, "File", path);
		if (p.y < p.end)
			p.y++;
		tpl_para(&p, "Fix the file and press r to reload the templates.", 0, THEME_DIM);
		free(name);
		free(path);
		return;
	}
	draw_text(a, p.y, x, w, name, THEME_TITLE, 0);
	snprintf(v, sizeof(v), "%s %s %s", job_kind_name(t->kind), a->g.sep,
	         tpl_layer_names[t->layer]);
	draw_text(a, p.y++, x + layout_width(name, a->ascii ? LAYOUT_ASCII : 0) + 2,
	          w - layout_width(name, a->ascii ? LAYOUT_ASCII : 0) - 2, v, THEME_DIM, 0);
	if (t->description != NULL)
		tpl_para(&p, t->description, 0, THEME_NORMAL);
	p.y++;
	tpl_resources(&p, t);
	if (t->nports > 0 || t->service.set) {
		if (t->service.set)
			snprintf(v, sizeof(v), "service on %s%s%s",
			         t->service.port > 0 ? "a fixed port" : "$GANTRY_PORT",
			         t->service.readiness != NULL ? ", ready when GET " : "",
			         t->service.readiness != NULL ? t->service.readiness : "");
		else
			snprintf(v, sizeof(v), "%d%s", t->ports[0], t->nports > 1 ? " ..." : "");
		tpl_pair(&p, "Ports", v);
	}
	if (t->limits.max_hourly_cost > 0 || t->limits.max_runtime_s > 0) {
		char rt[16];

		layout_age((int64_t)t->limits.max_runtime_s * 1000, rt, sizeof(rt));
		snprintf(v, sizeof(v), "%s%s%s", t->limits.max_runtime_s > 0 ? "runtime " : "",
		         t->limits.max_runtime_s > 0 ? rt : "",
		         t->limits.max_hourly_cost > 0 ? "  hourly cost capped" : "");
		tpl_pair(&p, "Limits", v);
	}
	tpl_params(&p, t);
	if (p.y < p.end - 1) {
		draw_text(a, p.y++, x, 11, "Run", THEME_LABEL, 0);
		tpl_lines(&p, t->run != NULL ? t->run : "", 2, THEME_DIM);
	}
	if (p.y < p.end) {
		p.y = p.end - 1;
		draw_text(a, p.y, x, w, "Enter or L opens the launch form", THEME_DIM, 0);
	}
	free(name);
	free(path);
}

static void tpl_title(struct app *a, char *buf, size_t size)
{
	size_t i, broken = 0;

	for (i = 0; a->tpls != NULL && i < a->tpls->n; i++)
		if (a->tpls->items[i]->error != NULL)
			broken++;
	if (a->tfilter[0] != '\0')
		snprintf(buf, size, "Templates (%d of %zu)  filter: %s", tpl_nrows(a),
		         a->tpls != NULL ? a->tpls->n : 0, a->tfilter);
	else if (broken > 0)
		snprintf(buf, size, "Templates (%zu, %zu broken)", a->tpls->n, broken);
	else
		snprintf(buf, size, "Templates (%zu)", a->tpls != NULL ? a->tpls->n : 0);
}

static void tpl_draw(struct app *a, int y, int h)
{
	int lw = layout_split(a->cols, 30, 34, 44, 40), r, i, nr;
	const struct template *sel = tpl_selected(a);
	char row[256], kind[16];

	if (sel == NULL && a->tfilter[0] != '\0') {
		char msg[LINEEDIT_MAX + 128];

		snprintf(msg, sizeof(msg), "No templates match '%s' %s Esc clears the filter",
		         a->tfilter, a->g.dash);
		draw_text(a, y + 1, 2, a->cols - 4, msg, THEME_DIM, 0);
		return;
	}
	if (sel == NULL) {
		char msg[512];

		snprintf(msg, sizeof(msg), "No templates found %s add YAML files to %s/templates",
		         a->g.dash, engine_config(a->e)->config_dir);
		draw_text(a, y + 1, 2, a->cols - 4, msg, THEME_DIM, 0);
		return;
	}
	nr = tpl_nrows(a);
	a->ttop = layout_scroll(nr, a->tsel, a->ttop, h);
	for (r = 0; r < h; r++) {
		i = a->ttop + r;
		draw_text(a, y + r, lw, 1, a->g.vline, THEME_BORDER, 0);
		if (i >= nr)
			continue;
		{
			const struct template *t = a->tpls->items[tpl_row(a, i)];
			char *name = app_clean(a, t->name);
			int sel_row = i == a->tsel;
			enum theme_role role = sel_row            ? THEME_SELECTED
			                       : t->error != NULL ? THEME_BROKEN
			                                          : THEME_NORMAL;

			snprintf(row, sizeof(row), "%s", name);
			snprintf(kind, sizeof(kind), "%s",
			         t->error != NULL ? "broken" : job_kind_name(t->kind));
			draw_fill(a, y + r, 0, lw, sel_row ? THEME_SELECTED : THEME_NORMAL);
			draw_text(a, y + r, 0, 2,
			          t->error != NULL ? a->g.broken
			          : sel_row        ? a->g.marker
			                           : "",
			          role, 0);
			draw_text(a, y + r, 2, lw - 12, row, role, 0);
			draw_text(a, y + r, lw - 9, 8, kind,
			          sel_row            ? THEME_SELECTED
			          : t->error != NULL ? THEME_BROKEN
			                             : THEME_DIM,
			          DRAW_RIGHT);
			free(name);
		}
	}
	tpl_preview(a, sel, y, lw + 2, a->cols - lw - 3, h);
}

static int tpl_action(struct app *a, enum keymap_action act)
{
	int n = tpl_nrows(a), page = app_body_rows(a);
	const struct template *t = tpl_selected(a);

	switch (act) {
	case KEYMAP_UP:
		a->tsel = a->tsel > 0 ? a->tsel - 1 : 0;
		return 1;
	case KEYMAP_DOWN:
		a->tsel = a->tsel + 1 < n ? a->tsel + 1 : a->tsel;
		return 1;
	case KEYMAP_PGUP:
		a->tsel = a->tsel > page ? a->tsel - page : 0;
		return 1;
	case KEYMAP_PGDN:
		a->tsel = a->tsel + page < n ? a->tsel + page : (n > 0 ? n - 1 : 0);
		return 1;
	case KEYMAP_TOP:
		a->tsel = 0;
		return 1;
	case KEYMAP_BOTTOM:
		a->tsel = n > 0 ? n - 1 : 0;
		return 1;
	case KEYMAP_LAUNCH:
		if (t == NULL)
			return 1;
		if (t->error != NULL) {
			app_status(a, 1, "%s is broken: %s", t->name, t->error);
			return 1;
		}
		form_open(a, t);
		return 1;
	case KEYMAP_REFRESH:
		engine_templates_reload(a->e);
		a->tpls = engine_templates(a->e);
		engine_refresh(a->e);
		app_status(a, 0, "templates reloaded (%zu)", a->tpls->n);
		return 1;
	default:
		return 0;
	}
}

/* A click on a row of the list selects it. */
static void tpl_click(struct app *a, int y, int x)
{
	int lw = layout_split(a->cols, 30, 34, 44, 40), r = a->ttop + y - 2;

	if (y >= 2 && y < 2 + app_body_rows(a) && x < lw && r < tpl_nrows(a))
		a->tsel = r;
}

const struct view_ops view_templates_ops = {
    .name = "Templates",
    .mask = KEYMAP_V_TEMPLATES,
    .title = tpl_title,
    .draw = tpl_draw,
    .action = tpl_action,
    .click = tpl_click,
};
