/* view.h: the TUI's shared state and the view interface. The app (tui/app.c) owns one
 * struct app; each view (view_templates.c, view_jobs.c, view_job.c, form.c) is a const
 * struct view_ops and keeps its state in its part of struct app. Views never call curses'
 * refresh: they mark the app dirty and app.c draws one frame. */
#ifndef GANTRY_VIEW_H
#define GANTRY_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/sanitize.h"
#include "tui/keymap.h"
#include "tui/lineedit.h"
#include "tui/theme.h"
#include "tui/widgets.h"

struct app;
struct loop_timer;

enum app_view_id {
	APP_VIEW_TEMPLATES,
	APP_VIEW_JOBS,
	APP_VIEW_JOB,
	APP_VIEW_FORM,
	APP_VIEW_HELP,
	APP_VIEW_COST,
	APP_VIEW_MESSAGES,
	APP_VIEW_CLUSTER,
	APP_VIEW_COUNT
};

struct view_ops {
	const char *name;
	unsigned mask; /* enum keymap_view bit */
	/* Leaves the stack (popped or replaced); not called when a view is pushed above it. */
	void (*leave)(struct app *a);
	/* The title line (row 1), sanitised text. */
	void (*title)(struct app *a, char *buf, size_t size);
	/* Draws body rows y .. y+h-1 over the full width. */
	void (*draw)(struct app *a, int y, int h);
	/* Acts on a keymap action; returns 1 when handled. */
	int (*action)(struct app *a, enum keymap_action act);
	/* A key the keymap does not bind here (typing in the form); returns 1 when handled. */
	int (*key)(struct app *a, int key);
	/* A left click at screen row y, column x (selects a row); NULL: clicks do nothing. */
	void (*click)(struct app *a, int y, int x);
};

extern const struct view_ops view_templates_ops, view_jobs_ops, view_job_ops, form_ops,
    view_help_ops, view_cost_ops, view_messages_ops, view_cluster_ops;

/* Glyphs: UTF-8 or ASCII. */
struct app_glyphs {
	const char *sep;    /* between header items */
	const char *marker; /* selected row */
	const char *dot;    /* provider health */
	const char *broken; /* broken template */
	const char *hline;  /* horizontal rule */
	const char *vline;
	const char *corner[4]; /* top-left, top-right, bottom-left, bottom-right */
	const char *up, *down; /* sort direction */
	const char *dash;      /* em dash in prose */
};

/* Jobs table columns, in screen order (`o` sorts by the next one). */
enum jobs_col {
	JOBS_COL_NAME,
	JOBS_COL_KIND,
	JOBS_COL_STATE,
	JOBS_COL_PROVIDER,
	JOBS_COL_UTIL,  /* GPU utilisation mini-bar */
	JOBS_COL_PRICE, /* $/h, "unpriced" */
	JOBS_COL_COST,  /* cost so far */
	JOBS_COL_AGE,
	JOBS_COL_OWNER,
	JOBS_COL_COUNT
};

/* The job list as last loaded (display strings sanitised) and the Jobs view's state. */
struct app_jobs {
	struct job_list list;
	int stale;      /* reload everything at the next frame */
	char **pending; /* ids that changed since, reloaded one by one */
	size_t npending;
	size_t *rows; /* indexes into list: filtered and sorted */
	size_t nrows;
	int sort_col; /* enum jobs_col */
	int sort_rev;
	char filter[LINEEDIT_MAX];
	int sel, top;
	char *sel_id; /* id of the selected job, kept across reloads */
	int nactive;  /* jobs not in a terminal state */
	int nrunning;
};

/* The Job view. */
struct app_job {
	char *id;
	struct job job; /* sanitised */
	int have;
	int stale;   /* an event named it: reload before the next frame */
	char *error; /* why the job could not be read */
	struct job_event_list events;
	struct engine_logs *logs;
	struct sanitize_stream san;
	char **lines; /* complete log lines, oldest first (a window of the last ones) */
	size_t nlines;
	char *partial; /* the unfinished last line */
	size_t npartial;
	int log_eof;
	char *log_error;
	int follow;                /* stick to the end */
	int scroll;                /* first shown line when not following */
	int full;                  /* log full screen */
	int log_rows;              /* rows the log had at the last frame */
	char search[LINEEDIT_MAX]; /* the `/` search of the log ("" = none) */
	int match;                 /* log line of the current match, or -1 */
	int hscroll;               /* columns the log is scrolled right (Left/Right) */
};

enum form_field_kind { FORM_FIELD_NAME, FORM_FIELD_PROVIDER, FORM_FIELD_RUNTIME, FORM_FIELD_PARAM };

struct form_field {
	enum form_field_kind kind;
	const struct tpl_param *param; /* FORM_FIELD_PARAM */
	char *label;
	struct lineedit ed;
	char *error;          /* inline error (sanitised), or NULL */
	const char **choices; /* enum/bool/provider choices, or NULL */
	size_t nchoices;
	char *initial; /* the value the form opened with (Esc asks before discarding edits) */
};

/* The launch form. */
struct app_form {
	const struct template *tpl;
	char *tpl_name;
	struct form_field *fields;
	size_t nfields;
	size_t focus; /* nfields = [Launch], nfields + 1 = [Cancel] */
	int top;      /* first field row shown */
	struct engine_plan plan;
	int have_plan;
	char *plan_error; /* why there is no plan (sanitised) */
	int nerrors;
	const char **providers; /* "(auto)" then each provider */
	size_t nproviders;
	int launching;
	int *field_y; /* screen row of each field at the last frame, -1 = not shown (clicks) */
	int button_y; /* screen row of [Launch] [Cancel] */
	/* The budget check of the plan (engine_budget_check_launch), redone when what it
	 * depends on changes or it is a few seconds old. */
	enum cost_verdict verdict;
	char *budget_reason; /* sanitised, or NULL when no budget applies */
	char *budget_block;  /* "over budget: ..." when the verdict is hard, else NULL */
	char *budget_key;    /* provider, price and runtime it was computed for */
	int64_t budget_at_ms;
	/* issue 12: the policy's verdict on the plan, with the budget check (tui/form_policy.c) */
	char *policy_block; /* "refused by policy: ..." (sanitised), or NULL */
	char *policy_note;  /* "needs approval: ..." (sanitised), or NULL */
};
/* tui/form_policy.c: recomputes policy_block and policy_note for the form's plan. */
void form_policy_update(struct app *a);

/* The money figures, computed at most every few seconds (engine_cost reads every job) and
 * shared by the header and the Cost view (tui/view_cost.c). */
struct app_cost {
	struct engine_cost *c;      /* NULL until computed, or when it failed */
	int64_t at_ms;              /* loop_now_ms() when c was computed; 0 = never */
	char *error;                /* why it could not be computed (sanitised), or NULL */
	int group;                  /* breakdown shown: COST_BY_USER .. COST_BY_PROVIDER */
	int top;                    /* first breakdown row shown */
	struct loop_timer *refresh; /* pending header recomputation (after the frame) */
	int jobs_moved; /* a job changed state since c: recompute soon (at most once a second) */
	char filter[LINEEDIT_MAX]; /* `/`: breakdown rows whose name holds it */
};

/* The Cluster view (tui/view_cluster.c, issue 10): one provider's cluster at a time. */
struct app_cluster {
	int which;                /* index among the providers with a cluster (Tab switches) */
	int top;                  /* first node row shown */
	struct cluster_info info; /* the last snapshot (raw: sanitised when drawn) */
	int have;
	char *error;   /* why there is no snapshot (sanitised), or NULL */
	int64_t at_ms; /* loop_now_ms() of the snapshot; 0 = fetch at the next frame */
};

/* The confirmation dialog. */
struct app_dialog {
	int open;
	char *title;
	char *text;
	char *job_id; /* what the dialog is about */
	void (*yes)(struct app *a, const char *job_id);
};

/* The `:` command line or the `/` filter prompt on the status row. */
struct app_prompt {
	int kind; /* 0 = none, ':' or '/' */
	struct lineedit ed;
	char saved[LINEEDIT_MAX]; /* filter before `/` (Esc restores it) */
};

#define APP_STACK_MAX 8
#define APP_MSGS_MAX  100 /* status messages kept for `m` / :messages */

struct app {
	struct engine *e;
	struct loop *l;
	const struct app_opts *o;
	int readonly;
	int ascii; /* the locale is not UTF-8 */
	int color; /* colours in use */
	int ncolors;
	struct theme theme;
	unsigned long role_attr[THEME_ROLE_COUNT]; /* curses attributes per role (draw.c) */
	struct app_glyphs g;
	const char *user;
	char host[64];

	int rows, cols;
	int dirty; /* a frame is due */
	int quit;
	struct loop_timer *frame_timer; /* pending coalesced frame */
	struct loop_timer *tick;

	enum app_view_id stack[APP_STACK_MAX];
	int depth;

	char *status; /* sanitised */
	int status_error;
	int64_t status_until_ms;

	const struct template_set *tpls;
	int tsel, ttop;               /* tsel indexes the filtered rows (view_templates.c) */
	char tfilter[LINEEDIT_MAX];   /* `/` in Templates */
	char hfilter[LINEEDIT_MAX];   /* `/` in Help */
	char msgfilter[LINEEDIT_MAX]; /* `/` in Messages */
	char *msgs[APP_MSGS_MAX]; /* the message log (sanitised, "HH:MM:SS text"), oldest first */
	int nmsgs;
	int msg_top;

	struct app_jobs jobs;
	struct app_job job;
	struct app_form form;
	struct app_cost cost;
	struct app_cluster cluster;
	struct app_dialog dialog;
	struct app_prompt prompt;
	int help_top;
	unsigned help_mask;
	int sanitize_flags;   /* SANITIZE_ASCII in ASCII mode */
	int cfg_gen;          /* engine_config_generation last seen */
	int64_t cfg_reloaded; /* loop_wall_ms() of the last reload seen (0 = none) */
	char *cfg_error;      /* why config.yaml could not be reloaded (sanitised), or NULL */
};

/* app.c */
/* The running app, or NULL when the TUI is not running (engine callbacks that outlive a
 * request check this). */
struct app *app_current(void);
const struct view_ops *app_view(struct app *a);
void app_push(struct app *a, enum app_view_id v);
void app_pop(struct app *a);
/* Leaves every view and shows top-level view v. */
void app_switch(struct app *a, enum app_view_id v);
/* Replaces the current view by v. */
void app_replace(struct app *a, enum app_view_id v);
/* Marks the screen for redrawing (the frame comes after the current event). */
void app_dirty(struct app *a);
/* A status-line message (printf-style; sanitised here). */
void app_status(struct app *a, int error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 (and a status message naming what) when read-only mode refuses an action. */
int app_refuse_readonly(struct app *a, const char *what);
/* Sanitised heap copy of untrusted text for one line (NULL gives ""). */
char *app_clean(struct app *a, const char *s);
/* Body rows of the current layout. */
int app_body_rows(const struct app *a);
/* Moves a scrolled view's first row (*top) for the arrows, page keys, top and bottom (half
 * a body per page; the view clamps when it draws): 1 when act was one of them. */
int app_scroll_act(const struct app *a, enum keymap_action act, int *top);
/* The keymap view bit in effect: the view's, or KEYMAP_V_LOG for the Job view's full-screen
 * log. */
unsigned app_mask(struct app *a);
/* The `/` text of the current view (filter, or the log's search), or NULL where there is none
 * (the form). */
char *app_filter(struct app *a);
/* 1 when s holds the filter f (case-insensitive; "" matches everything). */
int app_match(const char *s, const char *f);

/* view_cost.c (header) */
/* The cached costs for the header without computing them in the frame: when they are older
 * than max_age_ms (or were never computed) a recomputation is scheduled right after the frame,
 * which marks the screen dirty. NULL until the first computation. */
const struct engine_cost *view_cost_peek(struct app *a, int max_age_ms);

/* view_jobs.c */
/* Brings the job list up to date (reload or per-job updates as events asked). */
void view_jobs_sync(struct app *a);
/* Notes that job id (NULL = all) changed. */
void view_jobs_changed(struct app *a, const char *id);
/* The (sanitised) name of job id, from the list or else the engine; buf may hold it. */
const char *view_jobs_name(struct app *a, const char *id, char *buf, size_t size);
/* The selected job, or NULL. */
const struct job *view_jobs_selected(struct app *a);
void view_jobs_free(struct app *a);
/* Re-applies the filter and sort (after the filter text changed). */
void view_jobs_refilter(struct app *a);
/* Asks to stop job (confirm dialog first). */
void view_jobs_ask_stop(struct app *a, const struct job *j);

/* view_job.c */
/* Opens the Job view of job id (pushed), log full screen when full. */
void view_job_open(struct app *a, const char *id, int full);
/* Notes that job id changed (reloads details when it is the one shown). */
void view_job_changed(struct app *a, const char *id);
/* Reloads the shown job when an event named it. */
void view_job_sync(struct app *a);
/* Moves to the next (dir 1), previous (-1) or first at or after the top line (0) match of the
 * log search; says so on the status line when there is none. */
void view_job_search(struct app *a, int dir);
/* Draws GPU g of worker h on row y: a utilisation gauge, memory, temperature, power and a
 * sparkline of the last minutes (engine_gpu_history); values older than the refresh allows
 * (or from an unreachable worker) show their age. */
void view_job_gpu_row(struct app *a, int y, const struct tele_host *h, const struct tele_gpu *g);
/* tui/view_job_replicas.c: an endpoint's "Replicas" gauge at (y, x) in w columns (ready of
 * desired, the template's min/max); rows drawn (0: not an endpoint). */
struct job;
int view_job_replicas_row(struct app *a, int y, int x, int w, const struct job *j);

/* form.c */
void form_open(struct app *a, const struct template *t);
/* The settings changed (config.yaml reloaded): the budget verdict is redone. */
void form_config_changed(struct app *a);

/* view_cost.c */
/* How old the shared cost figures may be for the header and the Cost view. */
#define VIEW_COST_HEADER_MS 5000
#define VIEW_COST_VIEW_MS   2000
#define VIEW_COST_MOVED_MS  1000 /* after a state change, the header's costs are this fresh */
/* The cost figures, recomputed when older than max_age_ms (0 = now); NULL when they cannot be
 * computed (a->cost.error says why). */
const struct engine_cost *view_cost_get(struct app *a, int max_age_ms);
/* Forgets the figures (the next view_cost_get recomputes). */
void view_cost_free(struct app *a);
/* The worst budget (hard, then soft, then the most used), or NULL when there is none. */
const struct engine_budget_status *view_cost_worst_budget(const struct engine_cost *c);
/* The theme role of a budget verdict: ok, warning (soft) or error (hard). */
enum theme_role view_cost_verdict_role(enum cost_verdict v);
/* The widgets' glyph set for the app (ASCII, or UTF-8 with braille sparklines). */
enum widget_glyphs view_cost_glyphs(const struct app *a);
/* "$12.40/h", or "$0.00/h" (never unpriced: burn sums priced jobs). */
void view_cost_rate(double usd_per_hour, char *buf, size_t size);

/* view_cluster.c */
/* Opens the Cluster view (pushed) on the first provider with a cluster, or says there is
 * none. */
void view_cluster_open(struct app *a);
/* Provider (NULL: any) has news: the shown snapshot is fetched again at the next frame. */
void view_cluster_changed(struct app *a, const char *provider);

/* dialog.c */
void dialog_confirm(struct app *a, const char *title, const char *text, const char *job_id,
                    void (*yes)(struct app *a, const char *job_id));
void dialog_close(struct app *a);
/* Handles a key while the dialog is open. */
void dialog_key(struct app *a, int key);
void dialog_draw(struct app *a);

#endif
