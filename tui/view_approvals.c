/* view_approvals.c: the Approvals view (A, :approvals; issue 12): the launches waiting for
 * the user's approval (engine_approvals: approver roles, never their own unless admin) with
 * the requester, template, provider, GPUs, $/h and why approval is needed. `a` approves and
 * `d` denies, each after a reason typed on the prompt line (a denial needs one); an error is
 * one status line. The list is read again when shown, at most every AP_MAX_AGE ms while
 * drawn, and after every decision. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/layout.h"
#include "tui/view.h"

#define AP_MARK    2
#define AP_GAP     2
#define AP_MAX_AGE 1000

enum ap_col { AP_NAME, AP_OWNER, AP_TEMPLATE, AP_PROVIDER, AP_GPUS, AP_PRICE, AP_WHY, AP_COUNT };

static const struct {
	const char *title;
	struct layout_col col;
	int right;
} ap_cols[AP_COUNT] = {
    [AP_NAME] = {"NAME", {.min = 8, .want = 16, .grow = 1, .prio = 10}, 0},
    [AP_OWNER] = {"REQUESTER", {.min = 6, .want = 10, .grow = 0, .prio = 9}, 0},
    [AP_TEMPLATE] = {"TEMPLATE", {.min = 8, .want = 12, .grow = 0, .prio = 6}, 0},
    [AP_PROVIDER] = {"PROVIDER", {.min = 8, .want = 10, .grow = 0, .prio = 7}, 0},
    [AP_GPUS] = {"GPUS", {.min = 4, .want = 4, .grow = 0, .prio = 8}, 1},
    [AP_PRICE] = {"$/H", {.min = 8, .want = 9, .grow = 0, .prio = 8}, 1},
    [AP_WHY] = {"WHY", {.min = 10, .want = 64, .grow = 4, .prio = 9}, 0},
};

/* The view's state (one TUI per process). */
static struct {
	struct job_list l;
	char *error; /* why the list could not be read (sanitised), or NULL */
	uint64_t at_ms;
	int sel, top;
	char *job_id; /* what the reason prompt decides */
} ap;

static void ap_load(struct app *a)
{
	char *cause = NULL;

	job_list_free(&ap.l);
	free(ap.error);
	ap.error = NULL;
	if (engine_approvals(a->e, &ap.l, &cause) != 0) {
		ap.error = app_clean(a, cause != NULL ? cause : "cannot list the approvals");
		free(cause);
	}
	ap.at_ms = loop_now_ms();
	if (ap.sel >= (int)ap.l.n)
		ap.sel = ap.l.n > 0 ? (int)ap.l.n - 1 : 0;
}

static void ap_sync(struct app *a)
{
	if (ap.at_ms == 0 || loop_now_ms() - ap.at_ms >= AP_MAX_AGE)
		ap_load(a);
}

void view_approvals_open(struct app *a)
{
	ap.at_ms = 0;
	ap.sel = ap.top = 0;
	ap_load(a);
	if (app_view(a) != &view_approvals_ops)
		app_push(a, APP_VIEW_APPROVALS);
}

static void ap_leave(struct app *a)
{
	(void)a;
	job_list_free(&ap.l);
	free(ap.error);
	ap.error = NULL;
	free(ap.job_id);
	ap.job_id = NULL;
	ap.at_ms = 0;
}

static void ap_title(struct app *a, char *buf, size_t size)
{
	ap_sync(a);
	snprintf(buf, size, "Approvals %s %zu launch%s waiting for your decision", a->g.sep, ap.l.n,
	         ap.l.n == 1 ? "" : "es");
}

/* "waiting for approval: WHY" -> "WHY" */
static const char *ap_why(const struct job *j)
{
	static const char pre[] = "waiting for approval: ";

	if (j->reason == NULL)
		return "";
	return strncmp(j->reason, pre, sizeof pre - 1) == 0 ? j->reason + sizeof pre - 1
	                                                    : j->reason;
}

static void ap_cell(const struct job *j, int c, char *t, size_t size)
{
	switch (c) {
	case AP_NAME:
		snprintf(t, size, "%s", j->name);
		break;
	case AP_OWNER:
		snprintf(t, size, "%s", j->owner != NULL ? j->owner : "-");
		break;
	case AP_TEMPLATE:
		snprintf(t, size, "%s", j->template_name);
		break;
	case AP_PROVIDER:
		snprintf(t, size, "%s", j->provider);
		break;
	case AP_GPUS:
		snprintf(t, size, "%d", j->gpus);
		break;
	case AP_PRICE:
		if (j->priced)
			snprintf(t, size, "$%.2f", j->price_per_hour);
		else
			snprintf(t, size, "unpriced");
		break;
	default:
		snprintf(t, size, "%s", ap_why(j));
		break;
	}
}

static void ap_draw(struct app *a, int y, int h)
{
	struct layout_col cols[AP_COUNT];
	int w[AP_COUNT], x;
	int rows = h - 1;

	ap_sync(a);
	if (ap.error != NULL) {
		draw_text(a, y + 1, 2, a->cols - 4, ap.error, THEME_STATUS_ERROR, 0);
		return;
	}
	if (ap.l.n == 0) {
		draw_text(a, y + 1, 2, a->cols - 4, "no launch is waiting for your approval",
		          THEME_DIM, 0);
		return;
	}
	for (int c = 0; c < AP_COUNT; c++)
		cols[c] = ap_cols[c].col;
	layout_columns(cols, AP_COUNT, a->cols - AP_MARK - 1, AP_GAP, w);
	x = AP_MARK;
	for (int c = 0; c < AP_COUNT; c++) {
		if (w[c] == 0)
			continue;
		draw_text(a, y, x, w[c], ap_cols[c].title, THEME_TABLE_HEADER, 0);
		x += w[c] + AP_GAP;
	}
	ap.top = layout_scroll((int)ap.l.n, ap.sel, ap.top, rows);
	for (int i = ap.top; i < (int)ap.l.n && i - ap.top < rows; i++) {
		const struct job *j = &ap.l.items[i];
		int row = y + 1 + i - ap.top, sel = i == ap.sel;

		if (sel) {
			draw_fill(a, row, 0, a->cols, THEME_SELECTED);
			draw_text(a, row, 0, AP_MARK, a->g.marker, THEME_SELECTED, 0);
		}
		x = AP_MARK;
		for (int c = 0; c < AP_COUNT; c++) {
			char t[512], *clean;
			int tw;

			if (w[c] == 0)
				continue;
			ap_cell(j, c, t, sizeof t);
			clean =
			    app_clean(a, t); /* names, reasons: not the terminal's to interpret */
			tw = layout_width(clean, a->ascii ? LAYOUT_ASCII : 0);
			draw_text(a, row, ap_cols[c].right && tw < w[c] ? x + w[c] - tw : x, w[c],
			          clean, sel ? THEME_SELECTED : THEME_NORMAL, 0);
			free(clean);
			x += w[c] + AP_GAP;
		}
	}
}

static const struct job *ap_selected(void)
{
	return ap.sel >= 0 && ap.sel < (int)ap.l.n ? &ap.l.items[ap.sel] : NULL;
}

static int ap_action(struct app *a, enum keymap_action act)
{
	const struct job *j = ap_selected();

	switch (act) {
	case KEYMAP_UP:
		if (ap.sel > 0)
			ap.sel--;
		return 1;
	case KEYMAP_DOWN:
		if (ap.sel + 1 < (int)ap.l.n)
			ap.sel++;
		return 1;
	case KEYMAP_TOP:
		ap.sel = 0;
		return 1;
	case KEYMAP_BOTTOM:
		ap.sel = ap.l.n > 0 ? (int)ap.l.n - 1 : 0;
		return 1;
	case KEYMAP_REFRESH:
		ap_load(a);
		return 1;
	case KEYMAP_APPROVE:
	case KEYMAP_DENY:
		if (app_refuse_readonly(a, act == KEYMAP_APPROVE ? "approving" : "denying"))
			return 1;
		if (j == NULL) {
			app_status(a, 1, "no launch is waiting for your approval");
			return 1;
		}
		free(ap.job_id);
		ap.job_id = xstrdup(j->id);
		app_prompt_reason(a, act == KEYMAP_APPROVE ? 'a' : 'd');
		return 1;
	default:
		return 0;
	}
}

static void ap_approved(void *arg, int rc, const char *job_id, const char *cause)
{
	struct app *a = app_current();

	(void)arg;
	(void)job_id;
	if (a == NULL)
		return;
	if (rc != 0)
		app_status(a, 1, "approved, but the launch failed: %s",
		           cause != NULL ? cause : "no reason given");
	ap.at_ms = 0;
	view_jobs_changed(a, NULL);
	app_dirty(a);
}

void view_approvals_decide(struct app *a, int kind, const char *reason)
{
	char *cause = NULL, name[128];
	const char *shown;
	int rc;

	if (ap.job_id == NULL)
		return;
	shown = view_jobs_name(a, ap.job_id, name, sizeof name);
	if (kind == 'a')
		rc = engine_approve(a->e, ap.job_id, reason, ap_approved, NULL, &cause);
	else
		rc = engine_deny(a->e, ap.job_id, reason, &cause);
	if (rc != 0)
		app_status(a, 1, "%s: %s", shown, cause != NULL ? cause : "refused");
	else
		app_status(a, 0, "%s %s", shown, kind == 'a' ? "approved" : "denied");
	free(cause);
	free(ap.job_id);
	ap.job_id = NULL;
	ap_load(a);
	view_jobs_changed(a, NULL);
	app_dirty(a);
}

const struct view_ops view_approvals_ops = {
    .name = "Approvals",
    .mask = KEYMAP_V_APPROVALS,
    .leave = ap_leave,
    .title = ap_title,
    .draw = ap_draw,
    .action = ap_action,
};
