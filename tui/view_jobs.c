/* view_jobs.c: the job list (loaded once, then patched job by job as events name them) and
 * the Jobs view: a table with a filter, sorting and state colours. Only the visible rows are
 * drawn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/layout.h"
#include "tui/remote.h"
#include "tui/urlopen.h"
#include "tui/view.h"

/* More pending ids than this and a full reload is cheaper. */
#define JOBS_PENDING_MAX 64
#define JOBS_GAP         2
#define JOBS_MARK        2 /* columns before the first cell: the selection marker */
#define JOBS_UTIL_CELLS  8 /* bar cells of the UTIL column when there is room */

static const struct {
	const char *title;
	struct layout_col col;
	int right; /* right-aligned */
} jobs_cols[JOBS_COL_COUNT] = {
    [JOBS_COL_NAME] = {"NAME", {.min = 12, .want = 24, .grow = 3, .prio = 10}, 0},
    [JOBS_COL_KIND] = {"KIND", {.min = 8, .want = 8, .grow = 0, .prio = 6}, 0},
    [JOBS_COL_STATE] = {"STATE", {.min = 9, .want = 13, .grow = 0, .prio = 9}, 0},
    [JOBS_COL_PROVIDER] = {"PROVIDER", {.min = 8, .want = 12, .grow = 1, .prio = 5}, 0},
    [JOBS_COL_UTIL] = {"UTIL",
                       {.min = WIDGET_MINIBAR_COLS(4),
                        .want = WIDGET_MINIBAR_COLS(JOBS_UTIL_CELLS),
                        .grow = 0,
                        .prio = 3},
                       0},
    [JOBS_COL_PRICE] = {"$/H", {.min = 8, .want = 9, .grow = 0, .prio = 4}, 1},
    [JOBS_COL_COST] = {"COST", {.min = 8, .want = 10, .grow = 0, .prio = 7}, 1},
    [JOBS_COL_AGE] = {"AGE", {.min = 4, .want = 5, .grow = 0, .prio = 8}, 1},
    [JOBS_COL_OWNER] = {"OWNER", {.min = 6, .want = 10, .grow = 1, .prio = 2}, 0},
};

/* Replaces *s by its sanitised form (plain printable ASCII, the usual case, stays as is). */
static void jobs_clean_field(struct app *a, char **s)
{
	const unsigned char *p;
	char *c;

	if (*s == NULL)
		return;
	for (p = (const unsigned char *)*s; *p >= 0x20 && *p < 0x7f; p++)
		;
	if (*p == '\0')
		return;
	c = app_clean(a, *s);
	free(*s);
	*s = c;
}

/* Sanitises every string of j that is shown. */
static void jobs_clean(struct app *a, struct job *j)
{
	jobs_clean_field(a, &j->name);
	jobs_clean_field(a, &j->template_name);
	jobs_clean_field(a, &j->provider);
	jobs_clean_field(a, &j->owner);
	jobs_clean_field(a, &j->reason);
	jobs_clean_field(a, &j->url);
}

static void jobs_pending_clear(struct app_jobs *J)
{
	size_t i;

	for (i = 0; i < J->npending; i++)
		free(J->pending[i]);
	free(J->pending);
	J->pending = NULL;
	J->npending = 0;
}

void view_jobs_changed(struct app *a, const char *id)
{
	struct app_jobs *J = &a->jobs;
	size_t i;

	if (J->stale)
		return;
	if (id == NULL || J->npending >= JOBS_PENDING_MAX) {
		J->stale = 1;
		jobs_pending_clear(J);
		return;
	}
	for (i = 0; i < J->npending; i++)
		if (strcmp(J->pending[i], id) == 0)
			return;
	J->pending = xreallocarray(J->pending, J->npending + 1, sizeof(*J->pending));
	J->pending[J->npending++] = xstrdup(id);
}

/* -1, 0 or 1 as x < y, x == y, x > y. */
static int jobs_cmp_double(double x, double y)
{
	return x < y ? -1 : x > y ? 1 : 0;
}

/* A job's GPU utilisation for sorting: -2 without GPUs or ended, -1 unknown. */
static double jobs_util(struct app *a, const struct job *j)
{
	if (j->gpus <= 0 || !job_state_active(j->state))
		return -2;
	return engine_job_gpu_util(a->e, j->id);
}

/* What the job cost so far, -1 when unpriced (sorts below $0.00). */
static double jobs_cost(struct app *a, const struct job *j, int64_t now)
{
	int priced = 0;
	double c = engine_job_cost(a->e, j, now, &priced);

	return priced ? c : -1;
}

struct jobs_sort {
	struct app *a;
	int64_t now;
};

static int jobs_cmp(const void *pa, const void *pb, void *arg)
{
	const struct jobs_sort *S = arg;
	const struct app_jobs *J = &S->a->jobs;
	const struct job *x = &J->list.items[*(const size_t *)pa];
	const struct job *y = &J->list.items[*(const size_t *)pb];
	int c = 0;

	switch (J->sort_col) {
	case JOBS_COL_NAME:
		c = strverscmp(x->name, y->name);
		break;
	case JOBS_COL_KIND:
		c = (int)x->kind - (int)y->kind;
		break;
	case JOBS_COL_STATE:
		c = (int)x->state - (int)y->state;
		break;
	case JOBS_COL_PROVIDER:
		c = strcmp(x->provider != NULL ? x->provider : "",
		           y->provider != NULL ? y->provider : "");
		break;
	case JOBS_COL_OWNER:
		c = strcmp(x->owner != NULL ? x->owner : "", y->owner != NULL ? y->owner : "");
		break;
	/* Numbers sort highest first, like the youngest first of AGE. */
	case JOBS_COL_UTIL:
		c = jobs_cmp_double(jobs_util(S->a, y), jobs_util(S->a, x));
		break;
	case JOBS_COL_PRICE:
		c = jobs_cmp_double(y->priced ? y->price_per_hour : -1,
		                    x->priced ? x->price_per_hour : -1);
		break;
	case JOBS_COL_COST:
		c = jobs_cmp_double(jobs_cost(S->a, y, S->now), jobs_cost(S->a, x, S->now));
		break;
	default:
		break;
	}
	/* Youngest first, for AGE and to break ties. */
	if (c == 0)
		c = x->created_ms > y->created_ms ? -1 : x->created_ms < y->created_ms ? 1 : 0;
	if (c == 0)
		c = strcmp(x->id, y->id);
	return J->sort_rev ? -c : c;
}

/* 1 when job j matches the filter (case-insensitive, any shown field). */
static int jobs_match(const struct job *j, const char *f)
{
	if (f[0] == '\0')
		return 1;
	return strcasestr(j->name, f) != NULL || strcasestr(j->id, f) != NULL ||
	       strcasestr(job_kind_name(j->kind), f) != NULL ||
	       strcasestr(job_state_name(j->state), f) != NULL ||
	       (j->provider != NULL && strcasestr(j->provider, f) != NULL) ||
	       (j->owner != NULL && strcasestr(j->owner, f) != NULL) ||
	       (j->template_name != NULL && strcasestr(j->template_name, f) != NULL);
}

void view_jobs_refilter(struct app *a)
{
	struct app_jobs *J = &a->jobs;
	size_t i;

	J->rows = xreallocarray(J->rows, J->list.n + 1, sizeof(*J->rows));
	J->nrows = 0;
	J->nactive = 0;
	J->nrunning = 0;
	for (i = 0; i < J->list.n; i++) {
		const struct job *j = &J->list.items[i];

		if (job_state_active(j->state))
			J->nactive++;
		if (j->state == JOB_RUNNING)
			J->nrunning++;
		if (jobs_match(j, J->filter))
			J->rows[J->nrows++] = i;
	}
	{
		struct jobs_sort S = {a, loop_wall_ms()};

		qsort_r(J->rows, J->nrows, sizeof(*J->rows), jobs_cmp, &S);
	}
	J->sel = 0;
	if (J->sel_id != NULL)
		for (i = 0; i < J->nrows; i++)
			if (strcmp(J->list.items[J->rows[i]].id, J->sel_id) == 0) {
				J->sel = (int)i;
				break;
			}
	app_dirty(a);
}

/* Reloads one job named by an event: replaced, added or removed. */
static void jobs_update_one(struct app *a, const char *id)
{
	struct app_jobs *J = &a->jobs;
	struct job j;
	char *cause = NULL;
	size_t i;
	int found = engine_job(a->e, id, &j, &cause) == 0;

	free(cause);
	for (i = 0; i < J->list.n; i++)
		if (strcmp(J->list.items[i].id, id) == 0)
			break;
	if (!found) {
		if (i < J->list.n) {
			job_clear(&J->list.items[i]);
			J->list.items[i] = J->list.items[--J->list.n];
		}
		return;
	}
	jobs_clean(a, &j);
	if (i < J->list.n) {
		job_clear(&J->list.items[i]);
		J->list.items[i] = j;
	} else {
		J->list.items = xreallocarray(J->list.items, J->list.n + 1, sizeof(*J->list.items));
		J->list.items[J->list.n++] = j;
	}
}

void view_jobs_sync(struct app *a)
{
	struct app_jobs *J = &a->jobs;
	size_t i;

	if (J->stale) {
		struct job_list l = {0};
		char *cause = NULL;

		J->stale = 0;
		jobs_pending_clear(J);
		if (engine_jobs(a->e, 0, &l, &cause) != 0) {
			app_status(a, 1, "cannot list jobs: %s", cause != NULL ? cause : "?");
			free(cause);
			return;
		}
		job_list_free(&J->list);
		J->list = l;
		for (i = 0; i < J->list.n; i++)
			jobs_clean(a, &J->list.items[i]);
	} else if (J->npending > 0) {
		for (i = 0; i < J->npending; i++)
			jobs_update_one(a, J->pending[i]);
		jobs_pending_clear(J);
	} else {
		return;
	}
	view_jobs_refilter(a);
}

const struct job *view_jobs_selected(struct app *a)
{
	struct app_jobs *J = &a->jobs;

	if (J->nrows == 0 || J->sel < 0 || (size_t)J->sel >= J->nrows)
		return NULL;
	return &J->list.items[J->rows[J->sel]];
}

void view_jobs_free(struct app *a)
{
	struct app_jobs *J = &a->jobs;

	job_list_free(&J->list);
	jobs_pending_clear(J);
	free(J->rows);
	free(J->sel_id);
	memset(J, 0, sizeof(*J));
}

/* Moves the selection and remembers the selected id. */
static void jobs_select(struct app *a, int sel)
{
	struct app_jobs *J = &a->jobs;
	const struct job *j;

	if (sel >= (int)J->nrows)
		sel = (int)J->nrows - 1;
	if (sel < 0)
		sel = 0;
	J->sel = sel;
	j = view_jobs_selected(a);
	free(J->sel_id);
	J->sel_id = j != NULL ? xstrdup(j->id) : NULL;
	app_dirty(a);
}

const char *view_jobs_name(struct app *a, const char *id, char *buf, size_t size)
{
	struct app_jobs *J = &a->jobs;
	struct job j;
	char *cause = NULL, *clean;
	size_t i;

	if (id == NULL)
		return "job";
	for (i = 0; i < J->list.n; i++)
		if (strcmp(J->list.items[i].id, id) == 0)
			return J->list.items[i].name;
	job_init(&j);
	if (engine_job(a->e, id, &j, &cause) != 0) {
		free(cause);
		clean = app_clean(a, id);
	} else {
		clean = app_clean(a, j.name);
		job_clear(&j);
	}
	snprintf(buf, size, "%s", clean);
	free(clean);
	return buf;
}

static void jobs_stop_done(void *arg, int rc, const char *job_id, const char *cause)
{
	struct app *a = app_current();
	char name[128];

	(void)arg;
	if (a == NULL)
		return;
	if (rc != 0)
		app_status(a, 1, "stopping %s failed: %s",
		           view_jobs_name(a, job_id, name, sizeof(name)),
		           cause != NULL ? cause : "?");
	else
		app_status(a, 0, "stop delivered to %s",
		           view_jobs_name(a, job_id, name, sizeof(name)));
}

/* The user said yes: stop job_id. */
static void jobs_stop_yes(struct app *a, const char *job_id)
{
	char *cause = NULL, name[128];

	if (app_refuse_readonly(a, "stopping jobs"))
		return;
	app_status(a, 0, "stopping %s%s", view_jobs_name(a, job_id, name, sizeof(name)),
	           a->ascii ? "..." : "\xe2\x80\xa6");
	if (engine_stop(a->e, job_id, jobs_stop_done, NULL, &cause) != 0) {
		app_status(a, 1, "cannot stop %s: %s",
		           view_jobs_name(a, job_id, name, sizeof(name)),
		           cause != NULL ? cause : "?");
		free(cause);
	}
}

void view_jobs_ask_stop(struct app *a, const struct job *j)
{
	char *text;

	if (app_refuse_readonly(a, "stopping jobs"))
		return;
	if (j == NULL) {
		app_status(a, 1, "no job selected");
		return;
	}
	if (job_state_terminal(j->state)) {
		app_status(a, 1, "%s has already ended (%s)", j->name, job_state_name(j->state));
		return;
	}
	text = xprintf("Stop %s (%s, %s on %s)?", j->name, j->id, job_state_name(j->state),
	               j->provider != NULL ? j->provider : "?");
	dialog_confirm(a, "Stop job", text, j->id, jobs_stop_yes);
	free(text);
}

/* Text of one cell, w columns wide; *role is set for cells with their own colour. */
static void jobs_cell(struct app *a, const struct job *j, int col, int w, int64_t now, char *buf,
                      size_t size, enum theme_role *role)
{
	char m[32];
	int priced = 0;
	double v;

	switch (col) {
	case JOBS_COL_NAME:
		snprintf(buf, size, "%s", j->name);
		break;
	case JOBS_COL_KIND:
		snprintf(buf, size, "%s", job_kind_name(j->kind));
		break;
	case JOBS_COL_STATE:
		/* "RUNNING 2/4" for an endpoint, the bare state where that does not fit */
		if (job_state_label(j, buf, size) > w)
			snprintf(buf, size, "%s", job_state_name(j->state));
		break;
	case JOBS_COL_PROVIDER:
		snprintf(buf, size, "%s", j->provider != NULL ? j->provider : "-");
		break;
	case JOBS_COL_AGE:
		layout_age(now - j->created_ms, buf, size);
		break;
	case JOBS_COL_OWNER:
		snprintf(buf, size, "%s", j->owner != NULL ? j->owner : "-");
		break;
	case JOBS_COL_UTIL:
		if (job_reason_shown(j)) {
			/* why it waits ("(pending: Resources)") where its gauge will be */
			snprintf(buf, size, "(%s)", j->reason);
			*role = THEME_DIM;
			break;
		}
		v = jobs_util(a, j);
		if (v < -1.5) {
			snprintf(buf, size, "-");
			*role = THEME_DIM;
		} else if (w < WIDGET_MINIBAR_COLS(1)) {
			if (v < 0)
				snprintf(buf, size, "n/a");
			else
				snprintf(buf, size, "%.0f%%", v);
		} else if (widget_minibar(buf, size, (struct tele_val){v, v >= 0},
		                          w - WIDGET_MINIBAR_COLS(0), view_cost_glyphs(a)) < 0) {
			snprintf(buf, size, "?");
		}
		break;
	case JOBS_COL_PRICE:
		if (j->priced) {
			cost_money(j->price_per_hour, m);
			snprintf(buf, size, "%s", m);
		} else {
			snprintf(buf, size, "unpriced");
			*role = THEME_DIM;
		}
		break;
	case JOBS_COL_COST:
		v = engine_job_cost(a->e, j, now, &priced);
		if (priced) {
			cost_money(v, m);
			snprintf(buf, size, "%s", m);
		} else {
			snprintf(buf, size, "-");
			*role = THEME_DIM;
		}
		break;
	default:
		buf[0] = '\0';
	}
}

static void jobs_title(struct app *a, char *buf, size_t size)
{
	struct app_jobs *J = &a->jobs;
	char sort[64];

	snprintf(sort, sizeof(sort), "sort %s %s", jobs_cols[J->sort_col].title,
	         J->sort_rev ? a->g.down : a->g.up);
	if (J->filter[0] != '\0')
		snprintf(buf, size, "Jobs (%zu of %zu)  filter: %s  %s  %s", J->nrows, J->list.n,
		         J->filter, a->g.sep, sort);
	else
		snprintf(buf, size, "Jobs (%zu)  %s  %s  %s  %d running", J->list.n, sort, a->g.sep,
		         a->readonly ? "read-only" : "live", J->nrunning);
}

static void jobs_draw(struct app *a, int y, int h)
{
	struct app_jobs *J = &a->jobs;
	int w[JOBS_COL_COUNT], x, c, r, rows = h - 1;
	struct layout_col cols[JOBS_COL_COUNT];
	char cell[256], head[64];
	int64_t now = loop_wall_ms();

	for (c = 0; c < JOBS_COL_COUNT; c++)
		cols[c] = jobs_cols[c].col;
	layout_columns(cols, JOBS_COL_COUNT, a->cols - JOBS_MARK - 1, JOBS_GAP, w);
	/* Column titles. */
	draw_fill(a, y, 0, a->cols, THEME_TABLE_HEADER);
	x = JOBS_MARK;
	for (c = 0; c < JOBS_COL_COUNT; c++) {
		if (w[c] == 0)
			continue;
		if (c == J->sort_col)
			snprintf(head, sizeof(head), "%s%s", jobs_cols[c].title,
			         J->sort_rev ? a->g.down : a->g.up);
		else
			snprintf(head, sizeof(head), "%s", jobs_cols[c].title);
		draw_text(a, y, x, w[c], head, THEME_TABLE_HEADER,
		          jobs_cols[c].right ? DRAW_RIGHT : 0);
		x += w[c] + JOBS_GAP;
	}
	if (J->nrows == 0) {
		char msg[LINEEDIT_MAX + 64];

		if (J->list.n == 0)
			snprintf(msg, sizeof(msg), "No jobs yet %s press t to pick a template",
			         a->g.dash);
		else
			snprintf(msg, sizeof(msg), "No jobs match '%s' %s Esc clears the filter",
			         J->filter, a->g.dash);
		draw_text(a, y + 2, 4, a->cols - 8, msg, THEME_DIM, 0);
		return;
	}
	J->top = layout_scroll((int)J->nrows, J->sel, J->top, rows);
	for (r = 0; r < rows && J->top + r < (int)J->nrows; r++) {
		const struct job *j = &J->list.items[J->rows[J->top + r]];
		int sel = J->top + r == J->sel, yy = y + 1 + r;
		enum theme_role base = sel ? THEME_SELECTED : THEME_NORMAL;

		if (sel) {
			draw_fill(a, yy, 0, a->cols, base);
			draw_text(a, yy, 0, JOBS_MARK, a->g.marker, base, 0);
		}
		x = JOBS_MARK;
		for (c = 0; c < JOBS_COL_COUNT; c++) {
			if (w[c] == 0)
				continue;
			enum theme_role role = base;

			jobs_cell(a, j, c, w[c], now, cell, sizeof(cell), &role);
			if (c == JOBS_COL_STATE)
				role = THEME_STATE_ROLE(j->state);
			draw_text(a, yy, x, w[c], cell, sel ? base : role,
			          jobs_cols[c].right ? DRAW_RIGHT : 0);
			x += w[c] + JOBS_GAP;
		}
	}
}

static int jobs_action(struct app *a, enum keymap_action act)
{
	struct app_jobs *J = &a->jobs;
	int page = app_body_rows(a) - 1;
	const struct job *j = view_jobs_selected(a);

	switch (act) {
	case KEYMAP_UP:
		jobs_select(a, J->sel - 1);
		return 1;
	case KEYMAP_DOWN:
		jobs_select(a, J->sel + 1);
		return 1;
	case KEYMAP_PGUP:
		jobs_select(a, J->sel - page);
		return 1;
	case KEYMAP_PGDN:
		jobs_select(a, J->sel + page);
		return 1;
	case KEYMAP_TOP:
		jobs_select(a, 0);
		return 1;
	case KEYMAP_BOTTOM:
		jobs_select(a, (int)J->nrows - 1);
		return 1;
	case KEYMAP_OPEN:
	case KEYMAP_LOGS:
		if (j == NULL) {
			app_status(a, 0, "no job selected");
			return 1;
		}
		view_job_open(a, j->id, act == KEYMAP_LOGS);
		return 1;
	case KEYMAP_SHELL:
		remote_shell(a, j);
		return 1;
	case KEYMAP_FORWARD:
		remote_forward(a, j);
		return 1;
	case KEYMAP_OPEN_URL:
		urlopen_job(a, j);
		return 1;
	case KEYMAP_STOP:
		view_jobs_ask_stop(a, j);
		return 1;
	case KEYMAP_SORT:
		J->sort_col = (J->sort_col + 1) % JOBS_COL_COUNT;
		view_jobs_refilter(a);
		return 1;
	case KEYMAP_SORT_REVERSE:
		J->sort_rev = !J->sort_rev;
		view_jobs_refilter(a);
		return 1;
	default:
		return 0;
	}
}

/* A click on a row of the table selects it (row 2 is the table header). */
static void jobs_click(struct app *a, int y, int x)
{
	struct app_jobs *J = &a->jobs;
	int r = J->top + y - 3;

	(void)x;
	if (y >= 3 && y < 2 + app_body_rows(a) && r < (int)J->nrows)
		jobs_select(a, r);
}

const struct view_ops view_jobs_ops = {
    .name = "Jobs",
    .mask = KEYMAP_V_JOBS,
    .title = jobs_title,
    .draw = jobs_draw,
    .action = jobs_action,
    .click = jobs_click,
};
