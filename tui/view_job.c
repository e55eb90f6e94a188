/* view_job.c: one job: details, its state changes and a log tail that follows the output
 * (full screen with `l`). Log bytes are sanitised as they arrive, before they are stored. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/engine.h"
#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/layout.h"
#include "tui/remote.h"
#include "tui/urlopen.h"
#include "tui/view.h"

#define JOB_LOG_TAIL_BYTES (256 * 1024) /* what is read back when the view opens */
#define JOB_LOG_MAX_LINES  5000         /* lines kept; older ones are dropped */
#define JOB_LOG_MAX_LINE   4096         /* bytes; a longer line is cut */
#define JOB_EVENT_ROWS     4            /* state changes shown besides the log */
#define JOB_GPU_HISTORY    600          /* utilisation samples asked for a sparkline */
#define JOB_GPU_STALE_MS   5000         /* a GPU sample older than this shows its age */
#define JOB_HSTEP          8            /* columns Left/Right scroll the full-screen log */

/* Frees everything the view holds and closes the log stream. */
static void job_reset(struct app *a)
{
	struct app_job *J = &a->job;
	size_t i;

	if (J->logs != NULL)
		engine_logs_close(a->e, J->logs);
	if (J->have)
		job_clear(&J->job);
	job_event_list_free(&J->events);
	for (i = 0; i < J->nlines; i++)
		free(J->lines[i]);
	free(J->lines);
	free(J->partial);
	free(J->log_error);
	free(J->error);
	free(J->id);
	memset(J, 0, sizeof(*J));
}

/* Adds one complete line to the log window. */
static void job_log_push(struct app_job *J, const char *s, size_t n)
{
	if (n > JOB_LOG_MAX_LINE)
		n = JOB_LOG_MAX_LINE;
	if (J->nlines == JOB_LOG_MAX_LINES) {
		size_t drop = JOB_LOG_MAX_LINES / 5, i;

		for (i = 0; i < drop; i++)
			free(J->lines[i]);
		memmove(J->lines, J->lines + drop, (J->nlines - drop) * sizeof(*J->lines));
		J->nlines -= drop;
		if (!J->follow)
			J->scroll = J->scroll > (int)drop ? J->scroll - (int)drop : 0;
		if (J->match >= 0)
			J->match = J->match >= (int)drop ? J->match - (int)drop : -1;
	}
	if (J->nlines % 256 == 0)
		J->lines = xreallocarray(J->lines, J->nlines + 256, sizeof(*J->lines));
	J->lines[J->nlines++] = xstrndup(s, n);
}

/* Log bytes from the engine (raw): sanitised, then cut into lines. */
static void job_on_log(void *arg, const char *data, size_t len, int eof)
{
	struct app *a = app_current();
	struct app_job *J;
	char *out = NULL;
	size_t outlen = 0, i, start = 0;

	(void)arg;
	if (a == NULL)
		return;
	J = &a->job;
	if (len > 0) {
		sanitize_stream_feed(&J->san, data, len, &out, &outlen);
		for (i = 0; i < outlen; i++) {
			if (out[i] != '\n')
				continue;
			if (J->npartial > 0) {
				J->partial = xrealloc(J->partial, J->npartial + (i - start) + 1);
				memcpy(J->partial + J->npartial, out + start, i - start);
				J->npartial += i - start;
				job_log_push(J, J->partial, J->npartial);
				J->npartial = 0;
			} else {
				job_log_push(J, out + start, i - start);
			}
			start = i + 1;
		}
		if (start < outlen && J->npartial < JOB_LOG_MAX_LINE) {
			J->partial = xrealloc(J->partial, J->npartial + (outlen - start) + 1);
			memcpy(J->partial + J->npartial, out + start, outlen - start);
			J->npartial += outlen - start;
		}
		if (J->partial != NULL)
			J->partial[J->npartial] = '\0';
		free(out);
	}
	if (eof)
		J->log_eof = 1;
	app_dirty(a);
}

/* Opens the log stream when the job has one and it is not open yet. */
static void job_logs_try(struct app *a)
{
	struct app_job *J = &a->job;
	char *cause = NULL;

	if (J->logs != NULL || J->log_eof || !J->have)
		return;
	if (J->job.provider_ref == NULL && !job_state_terminal(J->job.state))
		return; /* not started yet: retried when its state changes */
	sanitize_stream_init(&J->san, SANITIZE_KEEP_NEWLINES | a->sanitize_flags);
	if (engine_logs_open(a->e, J->id, 1, JOB_LOG_TAIL_BYTES, job_on_log, NULL, &J->logs,
	                     &cause) != 0) {
		free(J->log_error);
		J->log_error = app_clean(a, cause != NULL ? cause : "no log");
		free(cause);
		J->logs = NULL;
		J->log_eof = 1;
		return;
	}
	free(J->log_error);
	J->log_error = NULL;
}

/* Reads the job and its events again. */
static void job_reload(struct app *a)
{
	struct app_job *J = &a->job;
	struct job j;
	char *cause = NULL;

	J->stale = 0;
	job_init(&j);
	if (engine_job(a->e, J->id, &j, &cause) != 0) {
		free(J->error);
		J->error = app_clean(a, cause != NULL ? cause : "no such job");
		free(cause);
		return;
	}
	free(J->error);
	J->error = NULL;
	if (J->have)
		job_clear(&J->job);
	{
		char *url = engine_job_url(a->e, &j); /* the URL row shows it with its token */

		free(j.url);
		j.url = url;
	}
	J->job = j;
	J->have = 1;
	J->job.name = app_clean(a, j.name);
	free(j.name);
	{
		char **f[] = {&J->job.template_name,  &J->job.provider, &J->job.owner,
		              &J->job.reason,         &J->job.url,      &J->job.decided_by,
		              &J->job.decision_reason};

		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
			char *c;

			if (*f[i] == NULL)
				continue;
			c = app_clean(a, *f[i]);
			free(*f[i]);
			*f[i] = c;
		}
	}
	job_event_list_free(&J->events);
	if (engine_job_events(a->e, J->id, &J->events, &cause) != 0) {
		free(cause);
		J->events.n = 0;
	}
	for (size_t i = 0; i < J->events.n; i++) {
		char *c;

		if (J->events.items[i].reason == NULL)
			continue;
		c = app_clean(a, J->events.items[i].reason);
		free(J->events.items[i].reason);
		J->events.items[i].reason = c;
	}
	job_logs_try(a);
}

void view_job_open(struct app *a, const char *id, int full)
{
	char *copy = xstrdup(id);

	if (a->depth > 0 && a->stack[a->depth - 1] == APP_VIEW_JOB)
		app_pop(a);
	job_reset(a);
	a->job.id = copy;
	a->job.match = -1;
	a->job.follow = 1;
	a->job.full = full;
	job_reload(a);
	app_push(a, APP_VIEW_JOB);
}

void view_job_changed(struct app *a, const char *id)
{
	if (a->job.id == NULL)
		return;
	if (id == NULL || strcmp(id, a->job.id) == 0)
		a->job.stale = 1;
}

void view_job_sync(struct app *a)
{
	if (a->job.id != NULL && a->job.stale)
		job_reload(a);
}

static void job_leave(struct app *a)
{
	job_reset(a);
}

static void job_title(struct app *a, char *buf, size_t size)
{
	struct app_job *J = &a->job;

	if (!J->have)
		snprintf(buf, size, "Job %s", J->id != NULL ? J->id : "");
	else
		snprintf(buf, size, "Job %s  %s  %s%s", J->job.name, a->g.sep,
		         job_state_name(J->job.state), J->full ? "  (log)" : "");
}

/* "12:03:04" today, else "11-26 12:03". */
static void job_time(int64_t ms, char *buf, size_t size)
{
	time_t t = (time_t)(ms / 1000), now = time(NULL);
	struct tm tm, tn;

	if (ms <= 0) {
		snprintf(buf, size, "-");
		return;
	}
	localtime_r(&t, &tm);
	localtime_r(&now, &tn);
	if (tm.tm_yday == tn.tm_yday && tm.tm_year == tn.tm_year)
		strftime(buf, size, "%H:%M:%S", &tm);
	else
		strftime(buf, size, "%m-%d %H:%M", &tm);
}

/* One "Label  value" pair at (y, x) in w columns. */
static void job_pair(struct app *a, int y, int x, int w, const char *label, const char *value,
                     enum theme_role vr)
{
	const int lw = 10;

	draw_text(a, y, x, lw, label, THEME_LABEL, 0);
	draw_text(a, y, x + lw, w - lw, value, vr, 0);
}

/* A rule with a title: "── Log (following) ────". */
static void job_rule(struct app *a, int y, const char *title)
{
	int x;

	draw_hline(a, y, 0, 2, THEME_BORDER);
	x = 2 + draw_text(a, y, 2, a->cols - 4, title, THEME_TITLE, 0);
	draw_hline(a, y, x, a->cols - x, THEME_BORDER);
}

/* Milliseconds of merged idle spans of cj up to now. */
static int64_t job_idle_ms(const struct cost_job *cj, int64_t now)
{
	struct cost_interval *m;
	size_t n;
	int64_t ms = 0;

	if (cj->nidle == 0)
		return 0;
	m = xcalloc(cj->nidle, sizeof *m);
	n = cost_intervals_merge(cj->idle, cj->nidle, m);
	for (size_t i = 0; i < n; i++) {
		int64_t end = m[i].end_ms < now ? m[i].end_ms : now;

		if (end > m[i].start_ms)
			ms += end - m[i].start_ms;
	}
	free(m);
	return ms;
}

/* The job's price, cost so far and idle waste (one row at y); returns the rows used. */
static int job_draw_cost(struct app *a, int y, int half, int w)
{
	const struct job *j = &a->job.job;
	const struct engine_cost *c = view_cost_get(a, VIEW_COST_HEADER_MS);
	int64_t now = loop_wall_ms(), idle = 0;
	double cost, idle_cost = 0;
	int priced = 0;
	char v[256], m[32], d[32];

	if (j->priced) {
		view_cost_rate(j->price_per_hour, m, sizeof m);
		snprintf(v, sizeof v, "%s  (billed per %ds)", m,
		         j->billing_s > 0 ? j->billing_s : 1);
		job_pair(a, y, 1, w, "Price", v, THEME_NORMAL);
	} else {
		job_pair(a, y, 1, w, "Price", "unpriced (no live, catalog or site price)",
		         THEME_DIM);
	}
	for (size_t i = 0; c != NULL && i < c->jobs.n; i++) {
		if (strcmp(c->jobs.items[i].id, j->id) != 0)
			continue;
		idle = job_idle_ms(&c->cj[i], c->now);
		idle_cost = cost_job_idle_between(&c->cj[i], 0, c->now + 1, c->now);
		break;
	}
	cost = engine_job_cost(a->e, j, now, &priced);
	cost_money(cost, m);
	snprintf(v, sizeof v, "%s", priced ? m : "unpriced");
	if (priced)
		snprintf(v + strlen(v), sizeof v - strlen(v), " so far%s",
		         j->state == JOB_UNKNOWN ? " (at the last known rate)" : "");
	if (idle > 0) {
		cost_duration(idle, d);
		cost_money(idle_cost, m);
		snprintf(v + strlen(v), sizeof v - strlen(v), ", idle %s%s%s%s", d,
		         priced ? " (" : "", priced ? m : "", priced ? " wasted)" : "");
	}
	job_pair(a, y, half, w, "Cost", v,
	         !priced    ? THEME_DIM
	         : idle > 0 ? THEME_STATE_ROLE(JOB_RECOVERING)
	                    : THEME_NORMAL);
	return 1;
}

/* Details of the job in rows y.. ; returns the rows used. */
static int job_draw_details(struct app *a, int y)
{
	struct app_job *J = &a->job;
	const struct job *j = &J->job;
	int half = a->cols / 2, w = half - 2, r = 0;
	char v[256], t1[32], t2[32];
	int64_t now = loop_wall_ms();

	job_pair(a, y + r, 1, w, "Name", j->name, THEME_NORMAL);
	job_state_label(j, v, sizeof(v)); /* "RUNNING 2/4" */
	job_pair(a, y + r++, half, w, "State", v, THEME_STATE_ROLE(j->state));
	job_pair(a, y + r, 1, w, "ID", j->id, THEME_NORMAL);
	job_pair(a, y + r++, half, w, "Kind", job_kind_name(j->kind), THEME_NORMAL);
	job_pair(a, y + r, 1, w, "Template", j->template_name != NULL ? j->template_name : "-",
	         THEME_NORMAL);
	job_pair(a, y + r++, half, w, "Provider", j->provider != NULL ? j->provider : "-",
	         THEME_NORMAL);
	layout_age(now - j->created_ms, t2, sizeof(t2));
	job_time(j->created_ms, t1, sizeof(t1));
	snprintf(v, sizeof(v), "%s (%s ago)", t1, t2);
	job_pair(a, y + r, 1, w, "Owner", j->owner != NULL ? j->owner : "-", THEME_NORMAL);
	job_pair(a, y + r++, half, w, "Created", v, THEME_NORMAL);
	if (j->ended_ms > 0) {
		job_time(j->ended_ms, t1, sizeof(t1));
		layout_age(j->ended_ms - (j->started_ms > 0 ? j->started_ms : j->created_ms), t2,
		           sizeof(t2));
		snprintf(v, sizeof(v), "%s (ran %s)", t1, t2);
		job_pair(a, y + r, half, w, "Ended", v, THEME_NORMAL);
	} else if (j->started_ms > 0) {
		job_time(j->started_ms, t1, sizeof(t1));
		layout_age(now - j->started_ms, t2, sizeof(t2));
		snprintf(v, sizeof(v), "%s (up %s)", t1, t2);
		job_pair(a, y + r, half, w, "Started", v, THEME_NORMAL);
	} else {
		job_pair(a, y + r, half, w, "Started", "-", THEME_DIM);
	}
	snprintf(v, sizeof(v), "%d", j->gpus);
	job_pair(a, y + r++, 1, w, "GPUs", v, THEME_NORMAL);
	if (j->url != NULL && !job_state_active(j->state))
		snprintf(v, sizeof(v), "- (the job has ended: nothing listens there now)");
	else if (j->url != NULL)
		snprintf(v, sizeof(v), "%s", j->url);
	else if (j->port > 0)
		snprintf(v, sizeof(v), "port %d", j->port);
	else
		snprintf(v, sizeof(v), "-");
	/* the whole width: the URL carries a long token that must be readable to the end */
	job_pair(a, y + r++, 1, a->cols - 2, "URL", v, THEME_NORMAL);
	r += view_job_replicas_row(a, y + r, 1, a->cols - 2, j); /* endpoints */
	if (j->has_exit) {
		if (j->exit_code < 0)
			snprintf(v, sizeof(v), "signal %d", -j->exit_code);
		else
			snprintf(v, sizeof(v), "%d", j->exit_code);
	} else {
		snprintf(v, sizeof(v), "-");
	}
	job_pair(a, y + r++, 1, w, "Exit", v,
	         j->has_exit && j->exit_code != 0 ? THEME_STATUS_ERROR : THEME_NORMAL);
	r += job_draw_cost(a, y + r, half, w);
	job_pair(a, y + r++, 1, a->cols - 2, "Reason", j->reason != NULL ? j->reason : "-",
	         THEME_NORMAL);
	if (j->approval != NULL) { /* issue 12: who decided and why */
		snprintf(v, sizeof(v), "%s%s%s%s%s", j->approval,
		         j->decided_by != NULL ? " by " : "",
		         j->decided_by != NULL ? j->decided_by : "",
		         j->decision_reason != NULL ? ": " : "",
		         j->decision_reason != NULL ? j->decision_reason : "");
		job_pair(a, y + r++, 1, a->cols - 2, "Approval", v, THEME_NORMAL);
	}
	return r;
}

void view_job_gpu_row(struct app *a, int y, const struct tele_host *h, const struct tele_gpu *g)
{
	double v[JOB_GPU_HISTORY];
	int ok[JOB_GPU_HISTORY];
	struct tele_val hist[JOB_GPU_HISTORY];
	struct tele_gpu gc;
	char buf[WIDGET_BUFSZ(512)], *clean;
	int width = a->cols - 3, refresh = engine_config(a->e)->refresh_ms;
	int64_t now = loop_wall_ms(), age = -1, stale_ms;
	size_t n;

	if (width > 512)
		width = 512;
	if (width <= 0)
		return;
	n = engine_gpu_history(a->e, h->name, g->index, ENGINE_M_UTIL, v, ok, JOB_GPU_HISTORY);
	for (size_t i = 0; i < n && i < JOB_GPU_HISTORY; i++) {
		hist[i].v = v[i];
		hist[i].ok = ok[i];
	}
	/* Stale: the worker is unreachable, or the sample missed a few refreshes. */
	stale_ms = 3 * (int64_t)(refresh > 0 ? refresh : 1000);
	if (stale_ms < JOB_GPU_STALE_MS)
		stale_ms = JOB_GPU_STALE_MS;
	if (h->at_ms > 0 && (!h->reachable || now - h->at_ms > stale_ms))
		age = now - h->at_ms;
	/* the name comes from the worker: sanitised like every remote text */
	gc = *g;
	clean = app_clean(a, g->name);
	snprintf(gc.name, sizeof gc.name, "%s", clean);
	free(clean);
	if (widget_gpu_row(buf, sizeof buf, &gc, n > 0 ? hist : NULL, n, age, width,
	                   view_cost_glyphs(a)) < 0)
		return;
	draw_text(a, y, 3, width, buf, age >= 0 ? THEME_DIM : THEME_NORMAL, 0);
}

/* The last state changes in rows y .. y+h-1. */
static void job_draw_events(struct app *a, int y, int h)
{
	struct app_job *J = &a->job;
	size_t first = J->events.n > (size_t)h ? J->events.n - (size_t)h : 0, i;
	char line[512], t[32];
	int r = 0, x;

	if (J->events.n == 0) {
		draw_text(a, y, 2, a->cols - 4, "no state changes recorded", THEME_DIM, 0);
		return;
	}
	for (i = first; i < J->events.n && r < h; i++, r++) {
		const struct job_event *ev = &J->events.items[i];

		job_time(ev->at_ms, t, sizeof(t));
		x = 2 + draw_text(a, y + r, 2, 12, t, THEME_DIM, DRAW_PAD);
		if (ev->from == ev->to) {
			x += draw_text(a, y + r, x, 16, "created", THEME_DIM, DRAW_PAD);
		} else {
			x += draw_text(a, y + r, x, 13, job_state_name(ev->from),
			               THEME_STATE_ROLE(ev->from), DRAW_PAD);
			x += draw_text(a, y + r, x, 3, a->ascii ? "->" : "\xe2\x86\x92", THEME_DIM,
			               DRAW_PAD);
		}
		x += draw_text(a, y + r, x, 13, job_state_name(ev->to), THEME_STATE_ROLE(ev->to),
		               DRAW_PAD);
		snprintf(line, sizeof(line), "%s", ev->reason != NULL ? ev->reason : "");
		draw_text(a, y + r, x, a->cols - x - 1, line, THEME_NORMAL, 0);
	}
}

/* Lines in the log, the unfinished one included. */
static int job_log_total(const struct app_job *J)
{
	return (int)J->nlines + (J->npartial > 0 ? 1 : 0);
}

static const char *job_log_line(const struct app_job *J, int i)
{
	if (i < (int)J->nlines)
		return J->lines[i];
	return J->partial != NULL ? J->partial : "";
}

/* s past its first n characters (the log scrolled sideways; lines are sanitised text). */
static const char *job_skip_cols(const char *s, int n)
{
	while (n > 0 && *s != '\0') {
		s++;
		while (((unsigned char)*s & 0xc0) == 0x80)
			s++;
		n--;
	}
	return s;
}

void view_job_search(struct app *a, int dir)
{
	struct app_job *J = &a->job;
	int total = job_log_total(J), rows = J->log_rows > 0 ? J->log_rows : 1, start, i, k;

	if (J->search[0] == '\0') {
		app_status(a, 0, "no search yet: / searches the log");
		return;
	}
	if (dir == 0)
		start = J->follow ? (total > rows ? total - rows : 0) : J->scroll;
	else if (J->match >= 0)
		start = J->match + dir;
	else
		start = dir > 0 ? 0 : total - 1;
	for (k = 0; k < total; k++) {
		i = ((start + (dir < 0 ? -k : k)) % total + total) % total;
		if (app_match(job_log_line(J, i), J->search)) {
			J->match = i;
			J->follow = 0;
			/* show it a third down the log, or where the log ends */
			J->scroll = i - rows / 3 > 0 ? i - rows / 3 : 0;
			if (J->scroll > total - rows)
				J->scroll = total - rows > 0 ? total - rows : 0;
			app_dirty(a);
			return;
		}
	}
	J->match = -1;
	app_status(a, 1, "no match for '%s' in the log", J->search);
}

/* The log in rows y .. y+h-1. */
static void job_draw_log(struct app *a, int y, int h)
{
	struct app_job *J = &a->job;
	int total = job_log_total(J), first, r;
	char title[LINEEDIT_MAX + 128], extra[LINEEDIT_MAX + 64];

	extra[0] = '\0';
	if (J->search[0] != '\0' && J->match >= 0)
		snprintf(extra, sizeof extra, " %s /%s: line %d (n/N)", a->g.sep, J->search,
		         J->match + 1);
	else if (J->search[0] != '\0')
		snprintf(extra, sizeof extra, " %s /%s: no match", a->g.sep, J->search);
	if (J->hscroll > 0) {
		size_t n = strlen(extra);

		snprintf(extra + n, sizeof extra - n, " %s from column %d (Left/Right)", a->g.sep,
		         J->hscroll + 1);
	}
	if (J->follow)
		snprintf(title, sizeof(title), " Log %s following%s%s ", a->g.sep,
		         J->log_eof ? " (ended)" : "", extra);
	else
		snprintf(title, sizeof(title), " Log %s line %d of %d %s G follows%s ", a->g.sep,
		         J->scroll + 1, total, a->g.sep, extra);
	job_rule(a, y, title);
	y++;
	h--;
	J->log_rows = h;
	if (h <= 0)
		return;
	if (total == 0) {
		draw_text(a, y, 2, a->cols - 4,
		          J->log_error != NULL ? J->log_error
		          : J->log_eof         ? "(no output)"
		          : J->logs != NULL    ? "(no output yet)"
		                               : "(the log opens when the job starts)",
		          J->log_error != NULL ? THEME_STATUS_ERROR : THEME_DIM, 0);
		return;
	}
	if (J->follow) {
		first = total > h ? total - h : 0;
	} else {
		if (J->scroll > total - h)
			J->scroll = total - h > 0 ? total - h : 0;
		first = J->scroll;
	}
	for (r = 0; r < h && first + r < total; r++)
		draw_text(a, y + r, 1, a->cols - 1,
		          job_skip_cols(job_log_line(J, first + r), J->hscroll),
		          first + r == J->match ? THEME_SELECTED : THEME_NORMAL, 0);
}

static void job_draw(struct app *a, int y, int h)
{
	struct app_job *J = &a->job;
	int used, ev_rows;

	if (!J->have) {
		draw_text(a, y + 1, 2, a->cols - 4, J->error != NULL ? J->error : "no such job",
		          THEME_STATUS_ERROR, 0);
		return;
	}
	if (J->full) {
		job_draw_log(a, y, h);
		return;
	}
	used = job_draw_details(a, y);
	used += remote_draw_job(a, y + used, h / 3, &J->job);
	ev_rows = (int)J->events.n < JOB_EVENT_ROWS ? (int)J->events.n : JOB_EVENT_ROWS;
	if (ev_rows == 0)
		ev_rows = 1;
	job_rule(a, y + used, " Events ");
	job_draw_events(a, y + used + 1, ev_rows);
	used += 1 + ev_rows;
	job_draw_log(a, y + used, h - used);
}

/* Scrolls the log by delta lines (leaves follow mode; back at the end follows again). */
static void job_scroll(struct app *a, int delta)
{
	struct app_job *J = &a->job;
	int total = job_log_total(J), rows = J->log_rows > 0 ? J->log_rows : 1;
	int maxs = total - rows > 0 ? total - rows : 0;

	if (J->follow)
		J->scroll = maxs;
	J->scroll += delta;
	if (J->scroll < 0)
		J->scroll = 0;
	J->follow = J->scroll >= maxs && delta > 0;
	if (J->scroll > maxs)
		J->scroll = maxs;
	app_dirty(a);
}

static int job_action(struct app *a, enum keymap_action act)
{
	struct app_job *J = &a->job;
	int page = J->log_rows > 1 ? J->log_rows - 1 : 1;

	switch (act) {
	case KEYMAP_UP:
		job_scroll(a, -1);
		return 1;
	case KEYMAP_DOWN:
		job_scroll(a, 1);
		return 1;
	case KEYMAP_PGUP:
		job_scroll(a, -page);
		return 1;
	case KEYMAP_PGDN:
		job_scroll(a, page);
		return 1;
	case KEYMAP_TOP:
		J->follow = 0;
		J->scroll = 0;
		return 1;
	case KEYMAP_BOTTOM:
		J->follow = 1;
		return 1;
	case KEYMAP_LOGS:
		J->full = !J->full;
		return 1;
	case KEYMAP_LEFT: /* the full-screen log only: Left is `back` in the Job view */
		J->hscroll = J->hscroll > JOB_HSTEP ? J->hscroll - JOB_HSTEP : 0;
		return 1;
	case KEYMAP_RIGHT:
		if (J->hscroll < JOB_LOG_MAX_LINE)
			J->hscroll += JOB_HSTEP;
		return 1;
	case KEYMAP_SEARCH_NEXT:
	case KEYMAP_SEARCH_PREV:
		view_job_search(a, act == KEYMAP_SEARCH_NEXT ? 1 : -1);
		return 1;
	case KEYMAP_BACK:
		if (J->search[0] != '\0')
			return 0; /* app.c clears the search first */
		if (J->full) {
			J->full = 0;
			return 1;
		}
		return 0;
	case KEYMAP_SHELL:
		remote_shell(a, J->have ? &J->job : NULL);
		return 1;
	case KEYMAP_OPEN_URL:
		urlopen_job(a, J->have ? &J->job : NULL);
		return 1;
	case KEYMAP_FORWARD:
		remote_forward(a, J->have ? &J->job : NULL);
		return 1;
	case KEYMAP_STOP:
		if (J->have)
			view_jobs_ask_stop(a, &J->job);
		return 1;
	default:
		return 0;
	}
}

const struct view_ops view_job_ops = {
    .name = "Job",
    .mask = KEYMAP_V_JOB,
    .leave = job_leave,
    .title = job_title,
    .draw = job_draw,
    .action = job_action,
};
