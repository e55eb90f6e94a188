/* app.c: the ncurses application: terminal setup, the view stack, key dispatch, the header,
 * title, status and footer rows, and frames. It runs on the engine's loop: stdin, SIGWINCH
 * and a once-a-tick timer are watchers there. A frame is drawn only when something changed
 * (a key, an engine event, a resize, the tick that moves the clock and the ages), always over
 * stdscr with one doupdate, so curses sends only the cells that differ. */
#include "tui/app.h"

#include <curses.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/cost.h"
#include "core/engine.h"
#include "core/engine_remote.h"
#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/keymap.h"
#include "tui/layout.h"
#include "tui/remote.h"
#include "tui/view.h"

/* Last: term.h defines macros (lines, columns, ...) that would clash with names above. */
#include <term.h>

#define APP_FRAME_DELAY_MS  15   /* coalesces bursts of engine events into one frame */
#define APP_STATUS_MS       6000 /* how long a message stays */
#define APP_STATUS_ERROR_MS 12000
#define APP_WHEEL_STEP      3     /* rows one wheel notch scrolls */
#define APP_RELOADED_MS     60000 /* the header says "config reloaded" this long */

/* One TUI per process. Engine callbacks and signal watchers cannot be removed, so they
 * check app_live before touching anything. */
static struct app app_the;
static int app_live;
static int app_subscribed;
static SCREEN *app_screen;

static const struct view_ops *const app_views[APP_VIEW_COUNT] = {
    [APP_VIEW_TEMPLATES] = &view_templates_ops,
    [APP_VIEW_JOBS] = &view_jobs_ops,
    [APP_VIEW_JOB] = &view_job_ops,
    [APP_VIEW_FORM] = &form_ops,
    [APP_VIEW_HELP] = &view_help_ops,
    [APP_VIEW_COST] = &view_cost_ops,
    [APP_VIEW_MESSAGES] = &view_messages_ops,
    [APP_VIEW_CLUSTER] = &view_cluster_ops,
};

static void app_frame(struct app *a);

/* Restores the terminal before a fatal exit (out of memory, xfatal). */
static void app_fatal_hook(void)
{
	if (app_screen != NULL && !isendwin())
		endwin();
}

struct app *app_current(void)
{
	return app_live ? &app_the : NULL;
}

const struct view_ops *app_view(struct app *a)
{
	return app_views[a->stack[a->depth - 1]];
}

void app_push(struct app *a, enum app_view_id v)
{
	if (a->depth == APP_STACK_MAX) {
		/* Drop the oldest entry above the root. */
		memmove(&a->stack[1], &a->stack[2], (APP_STACK_MAX - 2) * sizeof(a->stack[0]));
		a->depth--;
	}
	a->stack[a->depth++] = v;
	app_dirty(a);
}

void app_pop(struct app *a)
{
	const struct view_ops *v;

	if (a->depth <= 1)
		return;
	v = app_view(a);
	a->depth--;
	if (v->leave != NULL)
		v->leave(a);
	app_dirty(a);
}

void app_replace(struct app *a, enum app_view_id v)
{
	const struct view_ops *old = app_view(a);

	a->depth--;
	if (old->leave != NULL)
		old->leave(a);
	app_push(a, v);
}

void app_switch(struct app *a, enum app_view_id v)
{
	while (a->depth > 0) {
		const struct view_ops *old = app_view(a);

		a->depth--;
		if (old->leave != NULL)
			old->leave(a);
	}
	app_push(a, v);
}

static void app_on_frame_timer(void *arg)
{
	struct app *a = arg;

	a->frame_timer = NULL;
	if (app_live)
		app_frame(a);
}

void app_dirty(struct app *a)
{
	a->dirty = 1;
	if (a->frame_timer == NULL && a->l != NULL)
		a->frame_timer = loop_timer_add(a->l, APP_FRAME_DELAY_MS, 0, app_on_frame_timer, a);
}

char *app_clean(struct app *a, const char *s)
{
	return sanitize_text(s != NULL ? s : "", (size_t)-1, a->sanitize_flags);
}

/* Keeps a status message in the message log (m, :messages), where it is never cut off. */
static void app_log_message(struct app *a, const char *msg, int error)
{
	char t[16];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(t, sizeof t, "%H:%M:%S", &tm);
	if (a->nmsgs == APP_MSGS_MAX) {
		free(a->msgs[0]);
		memmove(&a->msgs[0], &a->msgs[1], (APP_MSGS_MAX - 1) * sizeof(a->msgs[0]));
		a->nmsgs--;
	}
	a->msgs[a->nmsgs++] = xprintf("%s %s%s", t, error ? "error: " : "", msg);
}

void app_status(struct app *a, int error, const char *fmt, ...)
{
	va_list ap;
	char *raw;

	va_start(ap, fmt);
	raw = xvprintf(fmt, ap);
	va_end(ap);
	free(a->status);
	a->status = app_clean(a, raw);
	free(raw);
	app_log_message(a, a->status, error);
	a->status_error = error;
	a->status_until_ms = loop_wall_ms() + (error ? APP_STATUS_ERROR_MS : APP_STATUS_MS);
	app_dirty(a);
}

int app_refuse_readonly(struct app *a, const char *what)
{
	if (!a->readonly)
		return 0;
	app_status(a, 1, "read-only mode (--readonly): %s is disabled", what);
	return 1;
}

int app_body_rows(const struct app *a)
{
	return a->rows - 4;
}

int app_scroll_act(const struct app *a, enum keymap_action act, int *top)
{
	int page = app_body_rows(a) / 2;

	switch (act) {
	case KEYMAP_UP:
		(*top)--;
		return 1;
	case KEYMAP_DOWN:
		(*top)++;
		return 1;
	case KEYMAP_PGUP:
		*top -= page;
		return 1;
	case KEYMAP_PGDN:
		*top += page;
		return 1;
	case KEYMAP_TOP:
		*top = 0;
		return 1;
	case KEYMAP_BOTTOM:
		*top = 1 << 20; /* clamped when drawn */
		return 1;
	default:
		return 0;
	}
}

unsigned app_mask(struct app *a)
{
	if (a->stack[a->depth - 1] == APP_VIEW_JOB && a->job.full)
		return KEYMAP_V_LOG;
	return app_view(a)->mask;
}

char *app_filter(struct app *a)
{
	switch (a->stack[a->depth - 1]) {
	case APP_VIEW_TEMPLATES:
		return a->tfilter;
	case APP_VIEW_JOBS:
		return a->jobs.filter;
	case APP_VIEW_JOB:
		return a->job.search;
	case APP_VIEW_HELP:
		return a->hfilter;
	case APP_VIEW_COST:
		return a->cost.filter;
	case APP_VIEW_MESSAGES:
		return a->msgfilter;
	default:
		return NULL;
	}
}

int app_match(const char *s, const char *f)
{
	size_t n = strlen(f);

	if (n == 0)
		return 1;
	for (; s != NULL && *s != '\0'; s++)
		if (strncasecmp(s, f, n) == 0)
			return 1;
	return 0;
}

/* The filter of the current view changed: lists start over at their first row. */
static void app_refilter(struct app *a)
{
	switch (a->stack[a->depth - 1]) {
	case APP_VIEW_TEMPLATES:
		a->tsel = a->ttop = 0;
		break;
	case APP_VIEW_JOBS:
		view_jobs_refilter(a);
		break;
	case APP_VIEW_HELP:
		a->help_top = 0;
		break;
	case APP_VIEW_COST:
		a->cost.top = 0;
		break;
	case APP_VIEW_MESSAGES:
		a->msg_top = 0;
		break;
	default:
		break;
	}
	app_dirty(a);
}

/* Clears the current view's filter (or the log's search); 0 when there was none. */
static int app_filter_clear(struct app *a)
{
	char *f = app_filter(a);

	if (f == NULL || f[0] == '\0')
		return 0;
	f[0] = '\0';
	if (a->stack[a->depth - 1] == APP_VIEW_JOB)
		a->job.match = -1;
	else
		app_refilter(a);
	app_status(a, 0, "filter cleared");
	return 1;
}

/* Loads theme name (user themes first); on failure keeps the default and says why. */
static int app_set_theme(struct app *a, const char *name)
{
	const struct config *cfg = engine_config(a->e);
	char *dirs[2], *cause = NULL;
	int rc;

	dirs[0] = xprintf("%s/themes", cfg->config_dir);
	dirs[1] = xprintf("%s/themes", cfg->data_dir);
	rc = theme_load(&a->theme, name, (const char *const *)dirs, 2, &cause);
	free(dirs[0]);
	free(dirs[1]);
	if (rc != 0) {
		app_status(a, 1, "theme: %s (using the default theme)", cause);
		free(cause);
	}
	if (app_screen != NULL) {
		draw_theme_apply(a);
		clearok(curscr, TRUE);
	}
	app_dirty(a);
	return rc;
}

/* Notices a config.yaml reload (engine_config_generation): cached costs and the form's budget
 * verdict are redone; the header says so (app_draw_header). */
static void app_config_sync(struct app *a)
{
	const char *err = NULL;
	int gen = engine_config_generation(a->e, &err);

	const char *file = engine_config(a->e)->config_file;
	size_t fl = file != NULL ? strlen(file) : 0;

	free(a->cfg_error);
	a->cfg_error = NULL;
	if (err != NULL && fl > 0 && strncmp(err, file, fl) == 0) {
		/* the header is narrow: "config.yaml:3:5: reason" (the status line has the path) */
		char *s = xprintf("config.yaml%s", err + fl);

		a->cfg_error = app_clean(a, s);
		free(s);
	} else if (err != NULL) {
		a->cfg_error = app_clean(a, err);
	}
	if (gen == a->cfg_gen)
		return;
	a->cfg_gen = gen;
	a->cfg_reloaded = loop_wall_ms();
	view_cost_free(a);
	for (int i = 0; i < a->depth; i++)
		if (a->stack[i] == APP_VIEW_FORM)
			form_config_changed(a);
	app_dirty(a);
}

/* Runs a `:` command. */
static void app_command(struct app *a, const char *line)
{
	char cmd[LINEEDIT_MAX], *arg;
	size_t n;

	while (*line == ' ')
		line++;
	snprintf(cmd, sizeof(cmd), "%s", line);
	n = strlen(cmd);
	while (n > 0 && cmd[n - 1] == ' ')
		cmd[--n] = '\0';
	arg = strchr(cmd, ' ');
	if (arg != NULL) {
		*arg++ = '\0';
		while (*arg == ' ')
			arg++;
	}
	if (cmd[0] == '\0')
		return;
	if (strcmp(cmd, "q") == 0 || strcmp(cmd, "quit") == 0 || strcmp(cmd, "q!") == 0 ||
	    strcmp(cmd, "qa") == 0) {
		a->quit = 1;
		loop_stop(a->l);
	} else if (strcmp(cmd, "templates") == 0 || strcmp(cmd, "template") == 0 ||
	           strcmp(cmd, "t") == 0) {
		app_switch(a, APP_VIEW_TEMPLATES);
	} else if (strcmp(cmd, "jobs") == 0 || strcmp(cmd, "job") == 0 || strcmp(cmd, "j") == 0) {
		if (arg != NULL && *arg != '\0' && strcmp(cmd, "job") == 0) {
			struct job j;
			char *cause = NULL;

			job_init(&j);
			if (engine_job(a->e, arg, &j, &cause) != 0) {
				app_status(a, 1, "%s", cause != NULL ? cause : "no such job");
				free(cause);
				return;
			}
			app_switch(a, APP_VIEW_JOBS);
			view_job_open(a, j.id, 0);
			job_clear(&j);
			return;
		}
		app_switch(a, APP_VIEW_JOBS);
	} else if (strcmp(cmd, "cost") == 0 || strcmp(cmd, "costs") == 0 || strcmp(cmd, "c") == 0) {
		app_switch(a, APP_VIEW_COST);
	} else if (strcmp(cmd, "cluster") == 0) {
		view_cluster_open(a);
	} else if (strcmp(cmd, "theme") == 0) {
		if (arg == NULL || *arg == '\0') {
			app_status(
			    a, 0, "theme %s (try :theme default, light, high-contrast, monochrome)",
			    a->theme.name);
			return;
		}
		if (app_set_theme(a, arg) == 0)
			app_status(a, 0, "theme %s%s", a->theme.name,
			           a->color ? "" : " (colours are off: attributes only)");
	} else if (strcmp(cmd, "help") == 0 || strcmp(cmd, "h") == 0) {
		a->help_mask = app_mask(a);
		a->hfilter[0] = '\0';
		app_push(a, APP_VIEW_HELP);
	} else if (strcmp(cmd, "messages") == 0 || strcmp(cmd, "msgs") == 0 ||
	           strcmp(cmd, "m") == 0) {
		a->msg_top = 1 << 20;
		app_push(a, APP_VIEW_MESSAGES);
	} else if (strcmp(cmd, "reload") == 0) {
		char *cause = NULL;

		if (engine_config_reload(a->e, &cause) != 0) {
			app_status(a, 1, "config.yaml not reloaded (the old settings stay): %s",
			           cause != NULL ? cause : "?");
			free(cause);
		}
		app_config_sync(a);
	} else if (strcmp(cmd, "refresh") == 0) {
		engine_refresh(a->e);
		app_status(a, 0, "refreshing");
	} else {
		app_status(
		    a, 1,
		    "unknown command '%s' (try :templates, :jobs, :job NAME, :cost, :cluster, "
		    ":reload, :messages, :theme NAME, :help, :q)",
		    cmd);
	}
}

/* A key while the `:` or `/` prompt is open. */
static void app_prompt_key(struct app *a, int key)
{
	struct app_prompt *p = &a->prompt;
	int kind = p->kind, rc;
	char *f = app_filter(a);
	int log = a->stack[a->depth - 1] == APP_VIEW_JOB; /* `/` searches the log on Enter */

	if (key == KEYMAP_ESC || key == KEYMAP_CTRL('c') ||
	    (key == KEYMAP_FN(KEY_BACKSPACE) && p->ed.len == 0) || (key == 127 && p->ed.len == 0)) {
		p->kind = 0;
		if (kind == '/' && f != NULL && !log) {
			snprintf(f, LINEEDIT_MAX, "%s", p->saved);
			app_refilter(a);
		}
		app_dirty(a);
		return;
	}
	if (key == '\r' || key == '\n' || key == KEYMAP_FN(KEY_ENTER)) {
		p->kind = 0;
		if (kind == ':')
			app_command(a, p->ed.buf);
		if (kind == '/' && log) {
			snprintf(f, LINEEDIT_MAX, "%s", p->ed.buf);
			a->job.match = -1;
			if (f[0] != '\0')
				view_job_search(a, 0);
		}
		app_dirty(a);
		return;
	}
	rc = lineedit_key(&p->ed, key, a->ascii);
	if (rc == 1 && kind == '/' && f != NULL && !log) {
		snprintf(f, LINEEDIT_MAX, "%s", p->ed.buf);
		app_refilter(a);
	}
	app_dirty(a);
}

/* Opens the prompt of kind ':' or '/' on the status row. */
static void app_prompt_open(struct app *a, int kind)
{
	char *f = app_filter(a);

	if (kind == '/' && f == NULL)
		return;
	a->prompt.kind = kind;
	if (kind == '/') {
		snprintf(a->prompt.saved, sizeof(a->prompt.saved), "%s", f);
		lineedit_set(&a->prompt.ed, f);
	} else {
		lineedit_set(&a->prompt.ed, "");
	}
	app_dirty(a);
}

/* Actions every view shares, after the view had its chance. */
static void app_global_action(struct app *a, enum keymap_action act)
{
	switch (act) {
	case KEYMAP_QUIT:
		a->quit = 1;
		loop_stop(a->l);
		break;
	case KEYMAP_HELP:
		a->help_mask = app_mask(a);
		a->hfilter[0] = '\0';
		app_push(a, APP_VIEW_HELP);
		break;
	case KEYMAP_MESSAGES:
		a->msg_top = 1 << 20; /* the newest (clamped when drawn) */
		app_push(a, APP_VIEW_MESSAGES);
		break;
	case KEYMAP_COMMAND:
		app_prompt_open(a, ':');
		break;
	case KEYMAP_FILTER:
		app_prompt_open(a, '/');
		break;
	case KEYMAP_TEMPLATES:
		app_switch(a, APP_VIEW_TEMPLATES);
		break;
	case KEYMAP_JOBS:
		app_switch(a, APP_VIEW_JOBS);
		break;
	case KEYMAP_COST:
		app_switch(a, APP_VIEW_COST);
		break;
	case KEYMAP_CLUSTER:
		view_cluster_open(a);
		break;
	case KEYMAP_BACK:
		if (app_filter_clear(a))
			break;
		if (a->depth > 1)
			app_pop(a);
		else
			app_status(a, 0, "press q to quit");
		break;
	case KEYMAP_REFRESH:
		engine_refresh(a->e);
		view_jobs_changed(a, NULL);
		app_status(a, 0, "refreshing");
		break;
	default:
		break;
	}
}

static void app_key(struct app *a, int key)
{
	const struct view_ops *v;
	const struct keymap_entry *k;

	if (a->dialog.open) {
		dialog_key(a, key);
		return;
	}
	if (a->prompt.kind != 0) {
		app_prompt_key(a, key);
		return;
	}
	v = app_view(a);
	k = keymap_find(app_mask(a), key);
	if (k == NULL) {
		if (v->key != NULL && v->key(a, key))
			app_dirty(a);
		return;
	}
	app_dirty(a);
	/* q on a top view clears the filter first, like Esc; then it quits */
	if (k->action == KEYMAP_QUIT && k->key == 'q' && app_filter_clear(a))
		return;
	if (v->action != NULL && v->action(a, k->action))
		return;
	app_global_action(a, k->action);
}

/* Reads the terminal size and resizes curses (SIGWINCH, and once at start). */
static void app_resize(struct app *a)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resize_term(ws.ws_row, ws.ws_col);
	getmaxyx(stdscr, a->rows, a->cols);
	clearok(curscr, TRUE);
	app_dirty(a);
}

static void app_on_signal(int signo, void *arg)
{
	struct app *a = arg;

	if (!app_live)
		return;
	if (signo == SIGWINCH) {
		app_resize(a);
		app_frame(a);
		return;
	}
	a->quit = 1;
	loop_stop(a->l);
}

/* A mouse event (mousemask in app_screen_open): the wheel scrolls the list, the log or the
 * form's fields by APP_WHEEL_STEP; a left click selects the row under it. */
static void app_mouse(struct app *a)
{
	MEVENT ev;
	const struct view_ops *v = app_view(a);
	int up;

	if (getmouse(&ev) != OK || a->dialog.open || a->prompt.kind != 0)
		return;
	if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
		up = (ev.bstate & BUTTON4_PRESSED) != 0;
		for (int i = 0; i < APP_WHEEL_STEP && v->action != NULL; i++) {
			if (app_mask(a) == KEYMAP_V_FORM)
				v->action(a, up ? KEYMAP_PREV_FIELD : KEYMAP_NEXT_FIELD);
			else
				v->action(a, up ? KEYMAP_UP : KEYMAP_DOWN);
		}
	} else if ((ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) && v->click != NULL) {
		v->click(a, ev.y, ev.x);
	}
	app_dirty(a);
}

static void app_on_stdin(int fd, short revents, void *arg)
{
	struct app *a = arg;
	wint_t wch;
	int rc, n = 0;

	if (!app_live)
		return;
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		a->quit = 1;
		loop_stop(a->l);
		return;
	}
	while (!a->quit && n++ < 256 && (rc = wget_wch(stdscr, &wch)) != ERR) {
		if (rc == KEY_CODE_YES) {
			if (wch == KEY_RESIZE) {
				app_resize(a);
				continue;
			}
			if (wch == KEY_MOUSE) {
				app_mouse(a);
				continue;
			}
			app_key(a, KEYMAP_FN((int)wch));
		} else {
			app_key(a, (int)wch);
		}
	}
	if (!a->quit)
		app_frame(a);
}

static void app_on_tick(void *arg)
{
	struct app *a = arg;

	if (!app_live)
		return;
	if (a->status != NULL && loop_wall_ms() >= a->status_until_ms) {
		free(a->status);
		a->status = NULL;
	}
	a->dirty = 1;
	app_frame(a);
}

static void app_on_event(void *arg, const struct engine_event *ev)
{
	struct app *a = arg;

	if (!app_live)
		return;
	switch (ev->type) {
	case ENGINE_EV_JOBS_CHANGED:
		view_jobs_changed(a, ev->job_id);
		view_job_changed(a, ev->job_id);
		break;
	case ENGINE_EV_JOB_STATE:
		view_job_changed(a, ev->job_id);
		/* the burn rate may have changed (not on JOBS_CHANGED: another process's
		 * writes, idle spans among them, come every second while one watches) */
		a->cost.jobs_moved = 1;
		break;
	case ENGINE_EV_PROVIDER:
		if (ev->message != NULL)
			app_status(a, 1, "%s: %s", ev->provider != NULL ? ev->provider : "provider",
			           ev->message);
		break;
	case ENGINE_EV_MESSAGE:
	case ENGINE_EV_FORWARDS:
		if (ev->message != NULL)
			app_status(a, 0, "%s", ev->message);
		break;
	case ENGINE_EV_TELEMETRY:
		break;
	}
	if (ev->type == ENGINE_EV_TELEMETRY || ev->type == ENGINE_EV_PROVIDER)
		view_cluster_changed(a, ev->provider);
	app_dirty(a);
}

/* Short money for the header: "$812", "$20.5k", "$1.2M". */
static void app_money_short(double usd, char *buf, size_t size)
{
	if (usd >= 999500)
		snprintf(buf, size, "$%.1fM", usd / 1e6);
	else if (usd >= 9999.5)
		snprintf(buf, size, "$%.0fk", usd / 1e3);
	else if (usd >= 999.5)
		snprintf(buf, size, "$%.1fk", usd / 1e3);
	else
		snprintf(buf, size, "$%.0f", usd);
}

/* The worst budget as a compact gauge ending at column rx (exclusive), no further left than
 * minx: "budget [#####-----] 62% of $20k", else a shorter form. Returns the new rx. */
static int app_draw_budget(struct app *a, const struct engine_budget_status *b, int rx, int minx)
{
	char bar[WIDGET_BUFSZ(12)], txt[80], m[16];
	struct tele_val used = {b->used, b->budget.monthly_usd > 0};
	enum theme_role vr =
	    b->verdict == COST_OK ? THEME_HEADER : view_cost_verdict_role(b->verdict);
	int cells, w, tw;

	app_money_short(b->budget.monthly_usd, m, sizeof m);
	for (int form = 0; form < 3; form++) {
		cells = form == 2 ? 6 : 12;
		if (form == 0 && b->budget.monthly_usd < 1000) {
			/* small budgets in cents: "$0.42 of $5.00", not "8% of $5" */
			char s[32], mo[32];

			cost_money(b->spent, s);
			cost_money(b->budget.monthly_usd, mo);
			snprintf(txt, sizeof txt, " %s of %s", s, mo);
		} else if (form == 0)
			snprintf(txt, sizeof txt, " %.0f%% of %s", b->used * 100, m);
		else
			snprintf(txt, sizeof txt, " %.0f%%", b->used * 100);
		tw = (int)strlen(txt);
		w = (form < 2 ? 7 : 0) + cells + tw;
		if (rx - w - 2 < minx)
			continue;
		rx -= w + 2;
		if (form < 2)
			draw_text(a, 0, rx, 7, "budget ", THEME_HEADER, 0);
		widget_bar(bar, sizeof bar, used, 1.0, cells, view_cost_glyphs(a), 1);
		draw_text(a, 0, rx + w - tw - cells, cells, bar, vr, 0);
		draw_text(a, 0, rx + w - tw, tw, txt, vr, 0);
		return rx;
	}
	return rx;
}

/* Who we are: "user@host", or in remote mode "gantryd: NAME (ROLE)" as gantryd says. */
static void app_header_who(struct app *a, char *buf, size_t len)
{
	const char *name = engine_remote_hello_str(a->e, "name");
	const char *role = engine_remote_hello_str(a->e, "role");
	char *s, *safe;

	if (!engine_is_remote(a->e)) {
		snprintf(buf, len, "%s@%s", a->user, a->host);
		return;
	}
	s = xprintf("gantryd: %s (%s)", name != NULL ? name : "?", role != NULL ? role : "no role");
	safe = sanitize_text(s, strlen(s), 0); /* the daemon's words */
	snprintf(buf, len, "%s", safe);
	free(safe);
	free(s);
}

/* Row 0: name, user, job counts, burn rate, the worst budget, provider health, clock. */
static void app_draw_header(struct app *a)
{
	char buf[256], clock[16], left[512], fwd[32], cfgs[320], cfgshort[32], who[160];
	size_t i, n = engine_provider_count(a->e);
	int nf;
	int x, w, rx, lmin;
	time_t now = time(NULL);
	struct tm tm;
	const struct engine_cost *c;

	draw_fill(a, 0, 0, a->cols, THEME_HEADER);
	x = draw_text(a, 0, 0, 8, " gantry ", THEME_HEADER_ACCENT, 0);
	nf = remote_forward_count(a);
	snprintf(fwd, sizeof fwd, ", %d forward%s", nf, nf == 1 ? "" : "s");
	cfgs[0] = cfgshort[0] = '\0';
	if (a->cfg_error != NULL) {
		snprintf(cfgs, sizeof cfgs, "  [config error: %s]", a->cfg_error);
		snprintf(cfgshort, sizeof cfgshort, "  [config error]");
	} else if (a->cfg_reloaded > 0 && loop_wall_ms() - a->cfg_reloaded < APP_RELOADED_MS) {
		time_t at = (time_t)(a->cfg_reloaded / 1000);

		localtime_r(&at, &tm);
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
		snprintf(cfgs, sizeof cfgs, "  [config reloaded %s]", clock);
		snprintf(cfgshort, sizeof cfgshort, "%s", cfgs);
	}
	app_header_who(a, who, sizeof who);
	snprintf(left, sizeof(left), " %s %s %d job%s, %d active%s%s", who, a->g.sep,
	         (int)a->jobs.list.n, a->jobs.list.n == 1 ? "" : "s", a->jobs.nactive,
	         nf > 0 ? fwd : "", a->readonly ? "  [read-only]" : "");
	/* The right side never pushes the config flag off a narrow screen: the left keeps room
	 * for it (the short form; the full error is in the status line and m). */
	lmin = 30;
	if (cfgshort[0] != '\0') {
		w = layout_width(left, a->ascii ? LAYOUT_ASCII : 0) + (int)strlen(cfgshort);
		if (w > lmin && x + w <= a->cols - 11)
			lmin = w;
	}
	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	/* Right side, from the right: the clock, burn, the budget gauge, providers. */
	rx = a->cols - 10;
	draw_text(a, 0, rx, 10, clock, THEME_HEADER_ACCENT, DRAW_RIGHT | DRAW_PAD);
	rx -= 1;
	c = view_cost_peek(a, VIEW_COST_HEADER_MS); /* computed after the frame, not in it */
	if (c != NULL) {
		const struct engine_budget_status *b = view_cost_worst_budget(c);
		char rate[32];

		view_cost_rate(c->view.sum.burn_usd_per_hour, rate, sizeof rate);
		snprintf(buf, sizeof buf, "burn %s%s", rate, c->view.sum.stale ? "*" : "");
		w = (int)strlen(buf);
		if (rx - w - 2 >= x + lmin) {
			rx -= w + 2;
			draw_text(a, 0, rx, w, buf, THEME_HEADER, 0);
		}
		if (b != NULL)
			rx = app_draw_budget(a, b, rx, x + lmin);
	}
	for (i = n; i-- > 0;) {
		struct engine_provider_info pi;
		char *name;

		engine_provider_info(a->e, i, &pi);
		name = app_clean(a, pi.name);
		snprintf(buf, sizeof(buf), "%s %s", name, pi.healthy ? "ok" : "down");
		free(name);
		w = layout_width(buf, a->ascii ? LAYOUT_ASCII : 0) + 2;
		if (rx - w - 2 < x + lmin)
			break;
		rx -= w + 1;
		draw_text(a, 0, rx, 2, a->g.dot, pi.healthy ? THEME_HEALTH_OK : THEME_HEALTH_BAD,
		          0);
		draw_text(a, 0, rx + 2, w - 2, buf, THEME_HEADER, 0);
	}
	/* the full text when it fits or shows 20 columns more than the short one, cut if need be */
	w = layout_width(left, a->ascii ? LAYOUT_ASCII : 0);
	if (w + layout_width(cfgs, a->ascii ? LAYOUT_ASCII : 0) <= rx - x - 1 ||
	    w + (int)strlen(cfgshort) + 20 <= rx - x - 1)
		strncat(left, cfgs, sizeof left - strlen(left) - 1);
	else
		strncat(left, cfgshort, sizeof left - strlen(left) - 1);
	draw_text(a, 0, x, rx - x - 1, left, THEME_HEADER, 0);
}

/* Row rows-2: the prompt, or the last message. */
static void app_draw_status(struct app *a)
{
	int y = a->rows - 2, x;
	char pfx[2] = {(char)a->prompt.kind, '\0'};

	if (a->prompt.kind != 0) {
		draw_fill(a, y, 0, a->cols, THEME_STATUS);
		x = draw_text(a, y, 0, 1, pfx, THEME_FOOTER_KEY, 0);
		draw_edit(a, y, x, a->cols - x, &a->prompt.ed, THEME_STATUS, 1);
		return;
	}
	if (a->status != NULL && layout_width(a->status, a->ascii ? LAYOUT_ASCII : 0) > a->cols &&
	    a->cols > 40) {
		/* cut off: say where it can be read in full */
		const char *more =
		    app_mask(a) == KEYMAP_V_FORM ? " (all: Esc, then m)" : " (all: m)";
		int mw = (int)strlen(more);

		draw_text(a, y, 0, a->cols - mw, a->status,
		          a->status_error ? THEME_STATUS_ERROR : THEME_STATUS, DRAW_PAD);
		draw_text(a, y, a->cols - mw, mw, more, THEME_FOOTER_KEY, DRAW_PAD);
		return;
	}
	draw_text(a, y, 0, a->cols, a->status != NULL ? a->status : "",
	          a->status_error ? THEME_STATUS_ERROR : THEME_STATUS, DRAW_PAD);
}

/* Last row: key hints from the keymap table, as many as fit. */
static void app_draw_footer(struct app *a)
{
	int y = a->rows - 1, x = 1, w, kw;
	unsigned mask = app_mask(a);
	uint64_t done = 0; /* actions already shown (bit per action) */
	char kn[16];
	size_t i;

	draw_fill(a, y, 0, a->cols, THEME_FOOTER);
	if (a->prompt.kind != 0) {
		draw_text(a, y, 1, a->cols - 1,
		          a->prompt.kind == '/' && a->stack[a->depth - 1] == APP_VIEW_JOB
		              ? "Enter search   Esc cancel   (then n next, N previous)"
		          : a->prompt.kind == '/' ? "Enter keep filter   Esc restore"
		                                  : "Enter run   Esc cancel   (templates, jobs, "
		                                    "cost, theme NAME, help, q)",
		          THEME_FOOTER, 0);
		return;
	}
	if (a->dialog.open) {
		x += draw_text(a, y, x, 2, "y", THEME_FOOTER_KEY, 0) + 1;
		x += draw_text(a, y, x, 6, "yes", THEME_FOOTER, 0) + 2;
		x += draw_text(a, y, x, 6, "n/Esc", THEME_FOOTER_KEY, 0) + 1;
		draw_text(a, y, x, 3, "no", THEME_FOOTER, 0);
		return;
	}
	for (i = 0; i < keymap_count; i++) {
		const struct keymap_entry *k = &keymap_table[i];

		if (!(k->views & mask) || k->hint == NULL || (done & (UINT64_C(1) << k->action)))
			continue;
		if (k->changes && a->readonly)
			continue;
		/* A key shadowed by an earlier entry of this view is not what it says here. */
		if (keymap_find(mask, k->key) != k)
			continue;
		done |= UINT64_C(1) << k->action;
		keymap_key_name(k->key, kn, sizeof(kn));
		kw = layout_width(kn, LAYOUT_ASCII);
		w = kw + 1 + layout_width(k->hint, LAYOUT_ASCII);
		if (x + w > a->cols - 1)
			break;
		draw_text(a, y, x, kw, kn, THEME_FOOTER_KEY, 0);
		draw_text(a, y, x + kw + 1, w - kw - 1, k->hint, THEME_FOOTER, 0);
		x += w + 2;
	}
}

/* Draws everything that is due, in one doupdate. */
static void app_frame(struct app *a)
{
	char title[512];
	const struct view_ops *v;

	if (!a->dirty)
		return;
	/* Data first: what it marks dirty is drawn in this very frame. */
	app_config_sync(a);
	view_jobs_sync(a);
	view_job_sync(a);
	a->dirty = 0;
	getmaxyx(stdscr, a->rows, a->cols);
	erase();
	if (layout_too_small(a->cols, a->rows)) {
		char msg[128];

		snprintf(msg, sizeof(msg), "terminal too small: %dx%d, need %dx%d", a->cols,
		         a->rows, LAYOUT_MIN_COLS, LAYOUT_MIN_ROWS);
		draw_text(a, a->rows / 2, 0, a->cols, msg, THEME_STATUS_ERROR, 0);
		if (a->rows > 1)
			draw_text(a, a->rows / 2 + 1, 0, a->cols, "resize the window, or q to quit",
			          THEME_DIM, 0);
		refresh();
		return;
	}
	v = app_view(a);
	app_draw_header(a);
	title[0] = '\0';
	if (v->title != NULL)
		v->title(a, title, sizeof(title));
	draw_text(a, 1, 0, 1, "", THEME_TITLE, DRAW_PAD);
	draw_text(a, 1, 1, a->cols - 1, title, THEME_TITLE, DRAW_PAD);
	v->draw(a, 2, app_body_rows(a));
	app_draw_status(a);
	app_draw_footer(a);
	if (a->dialog.open)
		dialog_draw(a);
	wnoutrefresh(stdscr);
	doupdate();
}

/* Terminal and curses setup; -1 with cause when the terminal cannot be used. */
static int app_screen_open(struct app *a, char **cause)
{
	const char *term = getenv("TERM");
	const char *cs;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return xcause(cause, "the TUI needs a terminal on stdin and stdout");
	setlocale(LC_CTYPE, "");
	cs = nl_langinfo(CODESET);
	a->ascii = cs == NULL || strcmp(cs, "UTF-8") != 0;
	a->sanitize_flags = a->ascii ? SANITIZE_ASCII : 0;
	app_screen = newterm(NULL, stdout, stdin);
	if (app_screen == NULL)
		return xcause(cause, "cannot use the terminal type '%s' (set TERM, e.g. xterm)",
		              term != NULL ? term : "");
	set_term(app_screen);
	{
		const char *cup = tigetstr("cup");

		if (cup == NULL || cup == (char *)-1) {
			endwin();
			delscreen(app_screen);
			app_screen = NULL;
			return xcause(cause,
			              "the terminal type '%s' cannot move the cursor (set TERM, "
			              "e.g. xterm)",
			              term != NULL ? term : "");
		}
	}
	xmalloc_set_fatal_hook(app_fatal_hook);
	raw();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	intrflush(stdscr, FALSE);
	leaveok(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	/* Clicks and the wheel, as htop and k9s take them (shift-drag still selects text in most
	 * terminals); --no-mouse or `mouse: false` leaves the mouse to the terminal. A terminal
	 * without a mouse sends nothing: the keys work as ever. */
	if (!a->o->no_mouse && engine_config(a->e)->mouse) {
		mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED,
		          NULL);
		mouseinterval(0);
	}
	a->color = 0;
	if (!a->o->no_color && has_colors() &&
	    !(getenv("NO_COLOR") != NULL && getenv("NO_COLOR")[0] != '\0')) {
		if (start_color() == OK) {
			a->color = 1;
			a->ncolors = COLORS;
		}
	}
	draw_glyphs(a);
	getmaxyx(stdscr, a->rows, a->cols);
	return 0;
}

static void app_screen_close(void)
{
	if (app_screen == NULL)
		return;
	endwin();
	delscreen(app_screen);
	app_screen = NULL;
	xmalloc_set_fatal_hook(NULL);
}

int app_run(struct engine *e, const struct app_opts *o, char **cause)
{
	struct app *a = &app_the;
	const struct config *cfg = engine_config(e);
	struct loop_fd *in;
	int refresh_ms;

	memset(a, 0, sizeof(*a));
	a->e = e;
	a->o = o;
	a->readonly = o->readonly || engine_readonly(e);
	a->user = cfg->user != NULL ? cfg->user : "?";
	if (gethostname(a->host, sizeof(a->host) - 1) != 0)
		snprintf(a->host, sizeof(a->host), "localhost");
	{
		char *h = app_clean(a, a->host);

		snprintf(a->host, sizeof(a->host), "%s", h);
		free(h);
	}
	theme_default(&a->theme);
	if (app_screen_open(a, cause) != 0)
		return -1;
	a->l = engine_loop(e);
	app_live = 1;
	app_set_theme(a, o->theme != NULL ? o->theme : cfg->theme != NULL ? cfg->theme : "default");
	if (!app_subscribed) {
		engine_subscribe(e, app_on_event, a);
		loop_signal_watch(a->l, SIGWINCH, app_on_signal, a);
		loop_signal_watch(a->l, SIGTERM, app_on_signal, a);
		loop_signal_watch(a->l, SIGINT, app_on_signal, a);
		loop_signal_watch(a->l, SIGHUP, app_on_signal, a);
		app_subscribed = 1;
	}
	in = loop_fd_add(a->l, STDIN_FILENO, POLLIN, app_on_stdin, a);
	refresh_ms = o->refresh_ms > 0     ? o->refresh_ms
	             : cfg->refresh_ms > 0 ? cfg->refresh_ms
	                                   : 1000;
	a->tick = loop_timer_add(a->l, (uint64_t)refresh_ms, (uint64_t)refresh_ms, app_on_tick, a);
	a->tpls = engine_templates(e);
	a->jobs.sort_col = JOBS_COL_AGE;
	a->jobs.stale = 1;
	app_push(a, o->view != NULL && strcmp(o->view, "jobs") == 0   ? APP_VIEW_JOBS
	            : o->view != NULL && strcmp(o->view, "cost") == 0 ? APP_VIEW_COST
	                                                              : APP_VIEW_TEMPLATES);
	app_frame(a);
	loop_run(a->l);

	while (a->depth > 0) {
		const struct view_ops *v = app_view(a);

		a->depth--;
		if (v->leave != NULL)
			v->leave(a);
	}
	dialog_close(a);
	loop_fd_remove(a->l, in);
	loop_timer_cancel(a->l, a->tick);
	if (a->frame_timer != NULL)
		loop_timer_cancel(a->l, a->frame_timer);
	app_live = 0;
	app_screen_close();
	view_jobs_free(a);
	view_cost_free(a);
	free(a->status);
	free(a->cfg_error);
	a->cfg_error = NULL;
	for (int i = 0; i < a->nmsgs; i++)
		free(a->msgs[i]);
	a->nmsgs = 0;
	return 0;
}
