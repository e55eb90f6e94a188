/* view_cost.c: the money figures the header and the Cost view share, and the Cost view: burn
 * rate, month to date, month-end forecast, idle waste, the budgets as bar gauges coloured by
 * their verdict, a breakdown by user, team, template or provider (Tab switches), and the top
 * idle wasters. engine_cost reads every job, so the figures are recomputed at most every few
 * seconds, never once per frame. Unpriced jobs are counted and named, never shown as $0.00. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/layout.h"
#include "tui/view.h"

#define COST_LABEL_W    15 /* "Month to date" and friends */
#define COST_GAP        2
#define COST_MARK       2
#define COST_BAR_MIN    10
#define COST_BAR_MAX    30
#define COST_BUDGET_W   22  /* "team ml-research" */
#define COST_UNPRICED_N 3   /* unpriced jobs named in the summary */
#define COST_WIDE_COLS  100 /* from here the summary has two pairs a row */

/* Breakdown table columns. */
enum cost_col {
	COST_COL_NAME,
	COST_COL_COST,
	COST_COL_BURN,
	COST_COL_IDLE,
	COST_COL_JOBS,
	COST_COL_UNPRICED,
	COST_COL_COUNT
};

static const struct {
	const char *title;
	struct layout_col col;
	int right;
} cost_cols[COST_COL_COUNT] = {
    [COST_COL_NAME] = {"NAME", {.min = 10, .want = 20, .grow = 2, .prio = 10}, 0},
    [COST_COL_COST] = {"COST", {.min = 9, .want = 12, .grow = 0, .prio = 9}, 1},
    [COST_COL_BURN] = {"$/H", {.min = 9, .want = 11, .grow = 0, .prio = 8}, 1},
    [COST_COL_IDLE] = {"IDLE", {.min = 8, .want = 10, .grow = 0, .prio = 6}, 1},
    [COST_COL_JOBS] = {"JOBS", {.min = 4, .want = 5, .grow = 0, .prio = 7}, 1},
    [COST_COL_UNPRICED] = {"UNPRICED", {.min = 8, .want = 8, .grow = 0, .prio = 5}, 1},
};

const struct engine_cost *view_cost_get(struct app *a, int max_age_ms)
{
	struct app_cost *C = &a->cost;
	int64_t now = (int64_t)loop_now_ms();
	struct engine_cost *c = NULL;
	char *cause = NULL;

	if (C->at_ms != 0 && now - C->at_ms < max_age_ms)
		return C->c;
	C->at_ms = now != 0 ? now : 1;
	C->jobs_moved = 0;
	if (engine_cost(a->e, &c, &cause) != 0) {
		free(C->error);
		C->error = app_clean(a, cause != NULL ? cause : "cannot compute the costs");
		free(cause);
		engine_cost_free(C->c);
		C->c = NULL;
		return NULL;
	}
	free(C->error);
	C->error = NULL;
	engine_cost_free(C->c);
	C->c = c;
	return c;
}

static void view_cost_refresh_due(void *arg)
{
	struct app *a = arg;

	a->cost.refresh = NULL; /* one-shot: freed by the loop */
	a->cost.at_ms = 0;
	view_cost_get(a, 0);
	app_dirty(a);
}

const struct engine_cost *view_cost_peek(struct app *a, int max_age_ms)
{
	struct app_cost *C = &a->cost;
	int64_t now = (int64_t)loop_now_ms();

	if (C->jobs_moved && max_age_ms > VIEW_COST_MOVED_MS)
		max_age_ms = VIEW_COST_MOVED_MS; /* a launch or stop shows in the burn within 1 s */
	if ((C->at_ms == 0 || now - C->at_ms >= max_age_ms) && C->refresh == NULL)
		C->refresh = loop_timer_add(a->l, 1, 0, view_cost_refresh_due, a);
	return C->c;
}

void view_cost_free(struct app *a)
{
	struct app_cost *C = &a->cost;

	if (C->refresh != NULL)
		loop_timer_cancel(a->l, C->refresh);
	C->refresh = NULL;
	engine_cost_free(C->c);
	C->c = NULL;
	free(C->error);
	C->error = NULL;
	C->at_ms = 0;
}

const struct engine_budget_status *view_cost_worst_budget(const struct engine_cost *c)
{
	const struct engine_budget_status *w = NULL;

	for (size_t i = 0; c != NULL && i < c->nbudgets; i++) {
		const struct engine_budget_status *b = &c->budgets[i];

		if (w == NULL || b->verdict > w->verdict ||
		    (b->verdict == w->verdict && b->used > w->used))
			w = b;
	}
	return w;
}

enum theme_role view_cost_verdict_role(enum cost_verdict v)
{
	switch (v) {
	case COST_HARD:
		return THEME_STATUS_ERROR;
	case COST_SOFT:
		/* the theme's warning colour (yellow in the built-in themes) */
		return THEME_STATE_ROLE(JOB_RECOVERING);
	default:
		return THEME_HEALTH_OK;
	}
}

enum widget_glyphs view_cost_glyphs(const struct app *a)
{
	return a->ascii ? WIDGET_ASCII : WIDGET_BRAILLE;
}

void view_cost_rate(double usd_per_hour, char *buf, size_t size)
{
	char m[32];

	cost_money(usd_per_hour, m);
	snprintf(buf, size, "%.28s/h", m);
}

/* "ok", "soft limit", "OVER (hard limit)". */
static const char *cost_verdict_word(enum cost_verdict v)
{
	return v == COST_HARD ? "OVER: hard limit" : v == COST_SOFT ? "soft limit" : "ok";
}

/* "2026-11-01" of a Unix ms time (UTC). */
static void cost_day(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d", &tm);
}

static void cost_title(struct app *a, char *buf, size_t size)
{
	const struct engine_cost *c = a->cost.c;
	char day[16], month[32];
	time_t t;
	struct tm tm;

	if (c == NULL) {
		snprintf(buf, size, "Cost");
		return;
	}
	t = (time_t)(c->now / 1000);
	gmtime_r(&t, &tm);
	strftime(month, sizeof month, "%B %Y", &tm);
	cost_day(c->now, day, sizeof day);
	snprintf(buf, size, "Cost (USD)  %s  %s, UTC  %s  %zu job%s%s%s%s", a->g.sep, month,
	         a->g.sep, c->jobs.n, c->jobs.n == 1 ? "" : "s",
	         c->view.sum.stale ? "  (some at their last known rate)" : "",
	         a->cost.filter[0] != '\0' ? "  filter: " : "", a->cost.filter);
}

/* One "Label  value" pair at (y, x) in w columns. */
static void cost_pair(struct app *a, int y, int x, int w, const char *label, const char *value,
                      enum theme_role vr)
{
	if (w <= COST_LABEL_W)
		return;
	draw_text(a, y, x, COST_LABEL_W, label, THEME_LABEL, 0);
	draw_text(a, y, x + COST_LABEL_W, w - COST_LABEL_W, value, vr, 0);
}

/* A rule with a title. */
static void cost_rule(struct app *a, int y, const char *title)
{
	int x;

	draw_hline(a, y, 0, 2, THEME_BORDER);
	x = 2 + draw_text(a, y, 2, a->cols - 4, title, THEME_TITLE, 0);
	draw_hline(a, y, x, a->cols - x, THEME_BORDER);
}

/* The unpriced jobs, named (the first few): "2 (hello-1, hello-2)". */
static void cost_unpriced_names(struct app *a, const struct engine_cost *c, char *buf, size_t size)
{
	const struct cost_summary *s = &c->view.sum;
	size_t n = 0, i;

	n += (size_t)snprintf(buf, size, "%zu unpriced (not counted", s->nunpriced);
	for (i = 0; i < s->nunpriced && i < COST_UNPRICED_N && n < size; i++) {
		char *name = app_clean(a, c->jobs.items[s->unpriced[i]].name);

		n += (size_t)snprintf(buf + n, size - n, "%s%s", i == 0 ? ": " : ", ", name);
		free(name);
	}
	if (n < size)
		snprintf(buf + n, size - n, "%s)", s->nunpriced > COST_UNPRICED_N ? ", ..." : "");
}

/* Burn, month to date, forecast, idle waste and the job counts: rows used. Two pairs a row
 * when the terminal is wide enough, else one. */
static int cost_draw_summary(struct app *a, const struct engine_cost *c, int y, int h)
{
	const struct cost_summary *s = &c->view.sum;
	int wide = a->cols >= COST_WIDE_COLS, half = wide ? a->cols / 2 : 1;
	int w = wide ? half - 2 : a->cols - 2, r = 0;
	char v[256], m[32], d[16];

	if (h <= 0)
		return 0;
	view_cost_rate(s->burn_usd_per_hour, m, sizeof m);
	snprintf(v, sizeof v, "%s  (%zu holding resources)", m, s->nholding);
	cost_pair(a, y + r, 1, w, "Burn rate", v, THEME_NORMAL);
	if (!wide && ++r >= h)
		return r;
	cost_money(s->forecast, m);
	cost_day(s->month_end_ms, d, sizeof d);
	snprintf(v, sizeof v, "%s  (month end, %s)", m, d);
	cost_pair(a, y + r++, half, w, "Forecast", v, THEME_NORMAL);
	if (r >= h)
		return r;
	cost_money(s->month_to_date, m);
	cost_day(s->month_start_ms, d, sizeof d);
	snprintf(v, sizeof v, "%s  (since %s)", m, d);
	cost_pair(a, y + r, 1, w, "Month to date", v, THEME_NORMAL);
	if (!wide && ++r >= h)
		return r;
	cost_money(s->idle_month_to_date, m);
	snprintf(v, sizeof v, "%s  this month", m);
	cost_pair(a, y + r++, half, w, "Idle waste", v,
	          s->idle_month_to_date > 0 ? THEME_STATE_ROLE(JOB_RECOVERING) : THEME_NORMAL);
	if (r >= h)
		return r;
	{
		char up[200];
		size_t n;

		n = (size_t)snprintf(v, sizeof v, "%zu priced", s->npriced);
		if (s->nunpriced > 0) {
			cost_unpriced_names(a, c, up, sizeof up);
			n += (size_t)snprintf(v + n, sizeof v - n, ", %s", up);
		}
		if (s->nstale > 0 && n < sizeof v)
			snprintf(v + n, sizeof v - n,
			         ", %zu stale (accruing at the last known rate)", s->nstale);
		cost_pair(a, y + r++, 1, a->cols - 2, "Jobs", v, THEME_NORMAL);
	}
	return r;
}

/* One budget as a bar gauge: "user alice  [#####-----]  72%  $7.20 of $10.00  soft limit". */
static void cost_draw_budget(struct app *a, const struct engine_budget_status *b, int y,
                             int64_t now)
{
	char name[128], bar[WIDGET_BUFSZ(COST_BAR_MAX)], v[160], spent[32], monthly[32], *clean;
	int bw = a->cols / 4, x = 2;
	enum theme_role vr = view_cost_verdict_role(b->verdict);
	struct tele_val used = {b->used, 1};

	if (bw < COST_BAR_MIN)
		bw = COST_BAR_MIN;
	if (bw > COST_BAR_MAX)
		bw = COST_BAR_MAX;
	clean = app_clean(a, b->cfg != NULL ? b->cfg->name : "?");
	snprintf(name, sizeof name, "%s %s", cost_scope_name(b->budget.scope), clean);
	free(clean);
	x += draw_text(a, y, x, COST_BUDGET_W, name, THEME_NORMAL, DRAW_PAD) + 1;
	if (b->budget.monthly_usd > 0)
		widget_bar(bar, sizeof bar, used, 1.0, bw, view_cost_glyphs(a), 1);
	else
		widget_bar(bar, sizeof bar, (struct tele_val){0, 0}, 0, bw, view_cost_glyphs(a), 1);
	x += draw_text(a, y, x, bw, bar, vr, 0) + 1;
	cost_money(b->spent, spent);
	cost_money(b->budget.monthly_usd, monthly);
	snprintf(v, sizeof v, "%3.0f%%  %s of %s", b->used * 100 < 999 ? b->used * 100 : 999.0,
	         spent, monthly);
	x += draw_text(a, y, x, a->cols - x - 1, v, THEME_NORMAL, 0) + 2;
	if (x < a->cols - 1)
		x += draw_text(a, y, x, a->cols - x - 1, cost_verdict_word(b->verdict), vr, 0) + 2;
	/* where it heads at this burn; in the warning colour when it reaches the limit */
	if (x < a->cols - 1 && b->budget.monthly_usd > 0) {
		char o[200];
		int over = cost_budget_outlook(&b->budget, b->spent, b->burn, now, 0, o, sizeof o);

		if (layout_width(o, 0) > a->cols - x - 1) /* the short form on a narrow screen */
			cost_budget_outlook(&b->budget, b->spent, b->burn, now, 1, o, sizeof o);

		draw_text(a, y, x, a->cols - x - 1, o,
		          over && b->verdict != COST_HARD ? view_cost_verdict_role(COST_SOFT)
		                                          : THEME_DIM,
		          0);
	}
}

/* Text of one breakdown cell. */
static void cost_cell(const struct cost_row *row, int col, char *buf, size_t size)
{
	char m[32];
	int all_unpriced = row->nunpriced > 0 && row->nunpriced == row->njobs;

	switch (col) {
	case COST_COL_NAME:
		snprintf(buf, size, "%s", row->name != NULL ? row->name : "-");
		break;
	case COST_COL_COST:
		cost_money(row->cost, m);
		snprintf(buf, size, "%s%s", all_unpriced ? "unpriced" : m, row->nstale ? "*" : "");
		break;
	case COST_COL_BURN:
		if (all_unpriced) {
			snprintf(buf, size, "unpriced");
		} else {
			view_cost_rate(row->burn_usd_per_hour, m, sizeof m);
			snprintf(buf, size, "%s", m);
		}
		break;
	case COST_COL_IDLE:
		cost_money(row->idle_cost, m);
		snprintf(buf, size, "%s", all_unpriced ? "-" : m);
		break;
	case COST_COL_JOBS:
		snprintf(buf, size, "%zu", row->njobs);
		break;
	case COST_COL_UNPRICED:
		snprintf(buf, size, "%zu", row->nunpriced);
		break;
	default:
		buf[0] = '\0';
	}
}

/* The tabs line of the breakdown: "By  [user]  team  template  provider". */
static void cost_draw_tabs(struct app *a, int y)
{
	int x = 2, g;
	char t[32];

	draw_hline(a, y, 0, 2, THEME_BORDER);
	x += draw_text(a, y, x, 12, " Breakdown ", THEME_TITLE, 0);
	for (g = COST_BY_USER; g <= COST_BY_PROVIDER && x < a->cols - 2; g++) {
		if (g == a->cost.group)
			snprintf(t, sizeof t, "[%s]", cost_group_name((enum cost_group)g));
		else
			snprintf(t, sizeof t, " %s ", cost_group_name((enum cost_group)g));
		x += draw_text(a, y, x, a->cols - x - 1, t,
		               g == a->cost.group ? THEME_FIELD_FOCUS : THEME_DIM, 0);
		x += draw_text(a, y, x, a->cols - x - 1, " ", THEME_NORMAL, 0);
	}
	x += draw_text(a, y, x, a->cols - x - 1, " Tab ", THEME_DIM, 0);
	if (x < a->cols)
		draw_hline(a, y, x, a->cols - x, THEME_BORDER);
}

/* The breakdown (month to date) in rows y .. y+h-1. */
static void cost_draw_breakdown(struct app *a, const struct engine_cost *c, int y, int h)
{
	struct app_cost *C = &a->cost;
	const struct cost_row *all = c->view.by[C->group];
	size_t nall = c->view.nby[C->group], n = 0;
	const struct cost_row **rows = xcalloc(nall + 1, sizeof *rows);
	struct layout_col cols[COST_COL_COUNT];
	int w[COST_COL_COUNT], x, col, r, body;
	char cell[256];

	for (size_t i = 0; i < nall; i++) /* `/`: rows whose name holds the filter */
		if (app_match(all[i].name, C->filter))
			rows[n++] = &all[i];
	if (h > 0)
		cost_draw_tabs(a, y++);
	h--;
	if (h > 0 && n == 0) {
		char msg[LINEEDIT_MAX + 64];

		if (C->filter[0] != '\0')
			snprintf(msg, sizeof msg, "no row matches '%s' (Esc clears the filter)",
			         C->filter);
		else
			snprintf(msg, sizeof msg, "no job held resources this month");
		draw_text(a, y, 4, a->cols - 8, msg, THEME_DIM, 0);
	}
	if (h <= 0 || n == 0) {
		free(rows);
		return;
	}
	for (col = 0; col < COST_COL_COUNT; col++)
		cols[col] = cost_cols[col].col;
	layout_columns(cols, COST_COL_COUNT, a->cols - COST_MARK - 1, COST_GAP, w);
	draw_fill(a, y, 0, a->cols, THEME_TABLE_HEADER);
	x = COST_MARK;
	for (col = 0; col < COST_COL_COUNT; col++) {
		if (w[col] == 0)
			continue;
		draw_text(a, y, x, w[col],
		          col == COST_COL_NAME ? cost_group_name(C->group) : cost_cols[col].title,
		          THEME_TABLE_HEADER, cost_cols[col].right ? DRAW_RIGHT : 0);
		x += w[col] + COST_GAP;
	}
	y++;
	body = h - 1;
	if (C->top > (int)n - body)
		C->top = (int)n - body > 0 ? (int)n - body : 0;
	if (C->top < 0)
		C->top = 0;
	for (r = 0; r < body && C->top + r < (int)n; r++) {
		const struct cost_row *row = rows[C->top + r];

		x = COST_MARK;
		for (col = 0; col < COST_COL_COUNT; col++) {
			if (w[col] == 0)
				continue;
			cost_cell(row, col, cell, sizeof cell);
			if (col == COST_COL_NAME) {
				char *clean = app_clean(a, cell);

				draw_text(a, y + r, x, w[col], clean, THEME_NORMAL, 0);
				free(clean);
			} else {
				draw_text(a, y + r, x, w[col], cell,
				          col == COST_COL_UNPRICED && row->nunpriced > 0
				              ? THEME_STATE_ROLE(JOB_RECOVERING)
				              : THEME_NORMAL,
				          cost_cols[col].right ? DRAW_RIGHT : 0);
			}
			x += w[col] + COST_GAP;
		}
	}
	free(rows);
}

/* The top idle wasters in rows y .. y+h-1 (h >= 1 after the rule). */
static void cost_draw_idle(struct app *a, const struct engine_cost *c, int y, int h)
{
	const struct cost_view *v = &c->view;
	char line[512], m[32], d[32];

	if (h <= 0)
		return;
	cost_rule(a, y++, " Top idle wasters (this month) ");
	h--;
	if (h <= 0)
		return;
	if (v->ntop_idle == 0) {
		draw_text(a, y, 4, a->cols - 8,
		          "no idle waste recorded (GPUs below the idle threshold while held)",
		          THEME_DIM, 0);
		return;
	}
	for (size_t i = 0; i < v->ntop_idle && (int)i < h; i++) {
		const struct cost_idler *w = &v->top_idle[i];
		const struct job *j = &c->jobs.items[w->job];
		char *name = app_clean(a, j->name), *owner = app_clean(a, j->owner);
		int x = 2;

		cost_money(w->idle_cost, m);
		cost_duration(w->idle_ms, d);
		x += draw_text(a, y + (int)i, x, 24, name, THEME_NORMAL, DRAW_PAD) + 1;
		x += draw_text(a, y + (int)i, x, 11, m, THEME_STATE_ROLE(JOB_RECOVERING),
		               DRAW_RIGHT | DRAW_PAD) +
		     2;
		snprintf(line, sizeof line, "idle %s  %s  %s", d, owner, job_state_name(j->state));
		draw_text(a, y + (int)i, x, a->cols - x - 1, line, THEME_DIM, 0);
		free(name);
		free(owner);
	}
}

static void cost_draw(struct app *a, int y, int h)
{
	const struct engine_cost *c = view_cost_get(a, VIEW_COST_VIEW_MS);
	int used, nb, ni, cap_b, cap_i, rb, ri;

	if (c == NULL) {
		draw_text(a, y + 1, 2, a->cols - 4,
		          a->cost.error != NULL ? a->cost.error : "cannot compute the costs",
		          THEME_STATUS_ERROR, 0);
		return;
	}
	used = cost_draw_summary(a, c, y, h);
	nb = (int)c->nbudgets;
	ni = (int)c->view.ntop_idle;
	cap_b = (h - used) / 4 > 1 ? (h - used) / 4 : 1;
	cap_i = (h - used) / 5 > 1 ? (h - used) / 5 : 1;
	rb = 1 + (nb == 0 ? 1 : nb < cap_b ? nb : cap_b);
	ri = 1 + (ni == 0 ? 1 : ni < cap_i ? ni : cap_i);
	if (used + rb + 3 + ri > h)
		ri = 0; /* the idle wasters go first when rows are short */
	if (used + rb + 3 > h)
		rb = 0;
	if (rb > 0) {
		char t[64];

		snprintf(t, sizeof t, " Budgets (this month, %zu) ", c->nbudgets);
		cost_rule(a, y + used, t);
		if (nb == 0)
			draw_text(a, y + used + 1, 4, a->cols - 8,
			          "no budgets (config.yaml: budgets: [{scope, name, monthly}])",
			          THEME_DIM, 0);
		for (int i = 0; i < nb && i < rb - 1; i++)
			cost_draw_budget(a, &c->budgets[i], y + used + 1 + i, c->now);
		used += rb;
	}
	cost_draw_breakdown(a, c, y + used, h - used - ri);
	if (ri > 0)
		cost_draw_idle(a, c, y + h - ri, ri);
}

static int cost_action(struct app *a, enum keymap_action act)
{
	struct app_cost *C = &a->cost;

	if (app_scroll_act(a, act, &C->top))
		return 1;
	switch (act) {
	case KEYMAP_GROUP_NEXT:
	case KEYMAP_GROUP_PREV:
		C->group = (C->group + (act == KEYMAP_GROUP_NEXT ? 1 : COST_BY_PROVIDER)) %
		           (COST_BY_PROVIDER + 1);
		C->top = 0;
		return 1;
	case KEYMAP_REFRESH:
		C->at_ms = 0;
		return 0; /* the app refreshes the providers too */
	default:
		return 0;
	}
}

const struct view_ops view_cost_ops = {
    .name = "Cost",
    .mask = KEYMAP_V_COST,
    .title = cost_title,
    .draw = cost_draw,
    .action = cost_action,
};
