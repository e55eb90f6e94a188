/* cli_cost.c: gantry cost — what jobs cost: the burn rate, month to date, month-end forecast,
 * idle waste and budgets; a breakdown by user, team, template, provider or project (--by) over
 * the month or a window from --since; the FinOps FOCUS CSV (--focus). Unpriced jobs are named
 * and counted apart, never shown as $0.00. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "tui/cli.h"

/* What the command line asked for. */
struct cost_args {
	int by; /* enum cost_group, or -1 */
	int64_t since_ms;
	const char *since;
	const char *focus;
	int refresh;
};

/* Figures over the window [from, now) (the month, or --since). */
struct cost_window {
	int64_t from;
	double cost, idle;
	struct cost_row *rows; /* with --by */
	size_t nrows;
};

/* Parses YYYY-MM-DD as midnight UTC; 0 or -1. */
static int cost_parse_day(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, n = 0;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || s[n] != '\0' || strlen(s) != 10)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1; /* 2026-02-31 rolled over */
	*out = (int64_t)t * 1000;
	return 0;
}

/* "2026-11-01" of a Unix ms time (UTC). */
static void cost_day(int64_t ms, char buf[16])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 16, "%Y-%m-%d", &tm);
}

static void cost_window_compute(const struct engine_cost *c, const struct cost_args *a,
                                struct cost_window *w)
{
	memset(w, 0, sizeof *w);
	w->from = a->since != NULL ? a->since_ms : cost_month_start(c->now);
	for (size_t i = 0; i < c->jobs.n; i++) {
		if (!c->cj[i].priced)
			continue;
		w->cost += cost_job_between(&c->cj[i], w->from, c->now + 1, c->now);
		w->idle += cost_job_idle_between(&c->cj[i], w->from, c->now + 1, c->now);
	}
	if (a->by >= 0)
		cost_breakdown(c->cj, c->jobs.n, (enum cost_group)a->by, w->from, c->now, &w->rows,
		               &w->nrows);
}

static const char *cost_verdict_name(enum cost_verdict v)
{
	return v == COST_HARD ? "hard" : v == COST_SOFT ? "soft" : "ok";
}

static json_t *cost_json_time(int64_t ms)
{
	char iso[32];

	cost_iso8601(ms, iso);
	return json_string(iso);
}

/* The unpriced jobs of a group that held resources in [from, now), by name. */
static json_t *cost_json_group_unpriced(const struct engine_cost *c, enum cost_group g,
                                        const char *name, int64_t from)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < c->jobs.n; i++) {
		const struct cost_job *cj = &c->cj[i];
		const char *k = g == COST_BY_USER       ? cj->user
		                : g == COST_BY_TEAM     ? cj->team
		                : g == COST_BY_TEMPLATE ? cj->template_name
		                : g == COST_BY_PROVIDER ? cj->provider
		                                        : cj->project;

		if (cj->priced)
			continue;
		if (k == NULL || k[0] == '\0')
			k = "-";
		if (strcmp(k, name) != 0)
			continue;
		if (cost_job_held_ms(cj, from, c->now + 1, c->now) <= 0 &&
		    !cost_job_holding(cj, c->now))
			continue;
		json_array_append_new(arr, json_string(cj->name != NULL ? cj->name : cj->id));
	}
	return arr;
}

static json_t *cost_json(const struct engine_cost *c, const struct cost_args *a,
                         const struct cost_window *w)
{
	const struct cost_summary *s = &c->view.sum;
	json_t *o = json_object(), *jobs = json_object(), *unpriced = json_array();
	json_t *budgets = json_array(), *win = json_object(), *stale = json_array();

	json_object_set_new(o, "now", cost_json_time(c->now));
	json_object_set_new(o, "currency", json_string("USD"));
	json_object_set_new(o, "burn_usd_per_hour", json_real(s->burn_usd_per_hour));
	json_object_set_new(o, "month_start", cost_json_time(s->month_start_ms));
	json_object_set_new(o, "month_end", cost_json_time(s->month_end_ms));
	json_object_set_new(o, "month_to_date", json_real(s->month_to_date));
	json_object_set_new(o, "forecast", json_real(s->forecast));
	json_object_set_new(o, "idle_month_to_date", json_real(s->idle_month_to_date));
	json_object_set_new(o, "to_date", json_real(s->to_date));
	json_object_set_new(win, "from", cost_json_time(w->from));
	json_object_set_new(win, "to", cost_json_time(c->now));
	json_object_set_new(win, "cost", json_real(w->cost));
	json_object_set_new(win, "idle_cost", json_real(w->idle));
	json_object_set_new(o, "window", win);
	json_object_set_new(jobs, "total", json_integer((json_int_t)s->njobs));
	json_object_set_new(jobs, "priced", json_integer((json_int_t)s->npriced));
	json_object_set_new(jobs, "unpriced", json_integer((json_int_t)s->nunpriced));
	json_object_set_new(jobs, "stale", json_integer((json_int_t)s->nstale));
	json_object_set_new(jobs, "holding", json_integer((json_int_t)s->nholding));
	json_object_set_new(o, "jobs", jobs);
	for (size_t i = 0; i < s->nunpriced; i++) {
		const struct job *j = &c->jobs.items[s->unpriced[i]];
		json_t *u = json_object();

		json_object_set_new(u, "id", json_string(j->id));
		json_object_set_new(u, "name", json_string(j->name));
		json_object_set_new(u, "state", json_string(job_state_name(j->state)));
		json_array_append_new(unpriced, u);
	}
	json_object_set_new(o, "unpriced", unpriced);
	for (size_t i = 0; i < c->jobs.n; i++)
		if (c->cj[i].priced && c->cj[i].stale)
			json_array_append_new(stale, json_string(c->jobs.items[i].name));
	json_object_set_new(o, "stale", stale);
	for (size_t i = 0; i < c->nbudgets; i++) {
		const struct engine_budget_status *b = &c->budgets[i];
		json_t *bo = json_object();

		json_object_set_new(bo, "scope", json_string(cost_scope_name(b->budget.scope)));
		json_object_set_new(bo, "name", json_string(b->cfg->name));
		json_object_set_new(bo, "monthly", json_real(b->budget.monthly_usd));
		json_object_set_new(bo, "soft", json_real(b->budget.soft_fraction));
		json_object_set_new(bo, "hard", json_real(b->budget.hard_fraction));
		json_object_set_new(
		    bo, "action",
		    json_string(b->budget.on_hard == COST_HARD_STOP ? "stop" : "refuse"));
		json_object_set_new(bo, "spent", json_real(b->spent));
		json_object_set_new(bo, "burn_usd_per_hour", json_real(b->burn));
		json_object_set_new(bo, "used", json_real(b->used));
		json_object_set_new(bo, "forecast", json_real(b->forecast));
		json_object_set_new(bo, "hours_to_hard",
		                    b->hours_to_hard >= 0 ? json_real(b->hours_to_hard)
		                                          : json_null());
		{
			char line[200];
			int over = cost_budget_outlook(&b->budget, b->spent, b->burn, c->now, 0,
			                               line, sizeof line);

			json_object_set_new(bo, "outlook", json_string(line));
			json_object_set_new(bo, "forecast_over", json_boolean(over));
		}
		json_object_set_new(bo, "verdict", json_string(cost_verdict_name(b->verdict)));
		json_object_set_new(bo, "reason", b->reason ? json_string(b->reason) : json_null());
		json_array_append_new(budgets, bo);
	}
	json_object_set_new(o, "budgets", budgets);
	if (a->by >= 0) {
		json_t *rows = json_array();

		for (size_t i = 0; i < w->nrows; i++) {
			const struct cost_row *r = &w->rows[i];
			json_t *ro = json_object();
			int none = r->nunpriced == r->njobs;

			json_object_set_new(ro, "name", json_string(r->name));
			/* a group of unpriced jobs only has no cost: null, never 0 */
			json_object_set_new(ro, "cost", none ? json_null() : json_real(r->cost));
			json_object_set_new(ro, "burn_usd_per_hour",
			                    none ? json_null() : json_real(r->burn_usd_per_hour));
			json_object_set_new(ro, "idle_cost",
			                    none ? json_null() : json_real(r->idle_cost));
			json_object_set_new(ro, "jobs", json_integer((json_int_t)r->njobs));
			json_object_set_new(ro, "stale", json_integer((json_int_t)r->nstale));
			json_object_set_new(
			    ro, "unpriced",
			    cost_json_group_unpriced(c, (enum cost_group)a->by, r->name, w->from));
			json_array_append_new(rows, ro);
		}
		json_object_set_new(o, "by", json_string(cost_group_name((enum cost_group)a->by)));
		json_object_set_new(o, "rows", rows);
	}
	return o;
}

/* Prints a line, sanitised on a terminal. */
static void cost_line(struct cli_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cost_line(struct cli_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvprintf(fmt, ap);
	va_end(ap);
	cli_puts_safe(c, stdout, s);
	fputc('\n', stdout);
	free(s);
}

static void cost_print_summary(struct cli_ctx *cc, const struct engine_cost *c,
                               const struct cost_args *a, const struct cost_window *w)
{
	const struct cost_summary *s = &c->view.sum;
	char m[32], m2[32], d[16];

	cost_money(s->burn_usd_per_hour, m);
	cost_line(cc, "Burn rate      %s/h  (%zu job%s holding resources%s)", m, s->nholding,
	          s->nholding == 1 ? "" : "s", s->stale ? "; some at their last known rate" : "");
	cost_money(s->month_to_date, m);
	cost_day(s->month_start_ms, d);
	cost_line(cc, "Month to date  %s  (since %s, UTC)", m, d);
	cost_money(s->forecast, m);
	cost_day(s->month_end_ms, d);
	cost_line(cc, "Forecast       %s  (month end %s, if what runs now keeps running)", m, d);
	cost_money(s->idle_month_to_date, m);
	cost_line(cc, "Idle waste     %s  this month (GPUs held while idle)", m);
	if (a->since != NULL) {
		cost_money(w->cost, m);
		cost_money(w->idle, m2);
		cost_line(cc, "Since %s %s  (idle waste %s)", a->since, m, m2);
	}
	cost_line(cc, "Jobs           %zu priced, %zu unpriced, %zu stale", s->npriced,
	          s->nunpriced, s->nstale);
	for (size_t i = 0; i < s->nunpriced; i++) {
		const struct job *j = &c->jobs.items[s->unpriced[i]];

		cost_line(cc,
		          "  unpriced     %s (%s, %s): no live, catalog or site price; not counted",
		          j->name, j->id, job_state_name(j->state));
	}
	if (c->nbudgets == 0) {
		cost_line(cc, "Budgets        none (config.yaml: budgets:)");
		return;
	}
	cost_line(cc, "Budgets");
	for (size_t i = 0; i < c->nbudgets; i++) {
		const struct engine_budget_status *b = &c->budgets[i];
		char who[96];
		char outlook[200];

		cost_money(b->spent, m);
		cost_money(b->budget.monthly_usd, m2);
		snprintf(who, sizeof who, "%s %s", cost_scope_name(b->budget.scope), b->cfg->name);
		cost_budget_outlook(&b->budget, b->spent, b->burn, c->now, 0, outlook,
		                    sizeof outlook);
		cost_line(cc, "  %-20s %s of %s (%.0f%%)  %s; %s", who, m, m2, b->used * 100,
		          b->verdict == COST_HARD   ? "HARD: over budget, launches refused"
		          : b->verdict == COST_SOFT ? "soft: warning"
		                                    : "ok",
		          outlook);
	}
}

static void cost_print_rows(struct cli_ctx *cc, const struct engine_cost *c,
                            const struct cost_args *a, const struct cost_window *w)
{
	char from[16], now[16];

	cost_day(w->from, from);
	cost_day(c->now, now);
	if (w->nrows == 0) {
		cost_line(cc, "No job held resources since %s.", from);
		return;
	}
	cost_line(cc, "%-24s %12s %11s %10s %5s %8s   (%s to %s, UTC)", "NAME", "COST", "$/H",
	          "IDLE", "JOBS", "UNPRICED", from, now);
	for (size_t i = 0; i < w->nrows; i++) {
		const struct cost_row *r = &w->rows[i];
		int none = r->nunpriced == r->njobs;
		char cost[40] = "unpriced", rate[40] = "unpriced", idle[32] = "-", m[32];

		if (!none) {
			cost_money(r->cost, cost);
			cost_money(r->burn_usd_per_hour, m);
			snprintf(rate, sizeof rate, "%s/h", m);
			cost_money(r->idle_cost, idle);
		}
		if (r->nstale > 0)
			strcat(cost, "*");
		cost_line(cc, "%-24s %12s %11s %10s %5zu %8zu", r->name, cost, rate, idle, r->njobs,
		          r->nunpriced);
	}
	if (c->view.sum.nstale > 0)
		cost_line(cc, "* partly at a last known rate (provider unreachable)");
	(void)a;
}

/* Writes the FOCUS CSV to path (atomically: a temporary file, fsync, rename; "-" = stdout). */
static int cost_focus(struct cli_ctx *c, const char *path, int64_t from)
{
	size_t nrows = 0, nunpriced = 0;
	char *cause = NULL, *tmp = NULL;
	FILE *f = stdout;
	int fd = -1, rc;

	if (strcmp(path, "-") != 0) {
		tmp = xprintf("%s.tmp.%ld", path, (long)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
			rc = cli_fail("cost", CLI_FAILED, "cannot write %s: %s", tmp,
			              strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			free(tmp);
			return rc;
		}
	}
	rc = engine_cost_focus(c->e, f, from, INT64_MAX, &nrows, &nunpriced, &cause);
	if (rc == 0 && fflush(f) != 0)
		rc = xcause(&cause, "%s", strerror(errno));
	if (tmp != NULL) {
		if (rc == 0 && fsync(fileno(f)) != 0)
			rc = xcause(&cause, "fsync: %s", strerror(errno));
		if (fclose(f) != 0 && rc == 0)
			rc = xcause(&cause, "%s", strerror(errno));
		if (rc == 0 && rename(tmp, path) != 0)
			rc = xcause(&cause, "rename to %s: %s", path, strerror(errno));
		if (rc != 0)
			unlink(tmp);
		free(tmp);
	}
	if (rc != 0) {
		rc = cli_fail("cost", CLI_FAILED, "FOCUS export: %s", cause != NULL ? cause : "?");
		free(cause);
		return rc;
	}
	if (c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "file", json_string(path));
		json_object_set_new(o, "rows", json_integer((json_int_t)nrows));
		json_object_set_new(o, "unpriced_left_out", json_integer((json_int_t)nunpriced));
		if (strcmp(path, "-") == 0) { /* stdout holds the CSV */
			char *t = json_dumps(o, JSON_COMPACT);

			fprintf(stderr, "%s\n", t != NULL ? t : "{}");
			free(t);
			json_decref(o);
		} else {
			cli_print_json(o);
		}
	} else {
		fprintf(strcmp(path, "-") == 0 ? stderr : stdout,
		        "wrote %zu row%s to %s; %zu unpriced job%s left out (no price known)\n",
		        nrows, nrows == 1 ? "" : "s", path, nunpriced, nunpriced == 1 ? "" : "s");
	}
	return CLI_OK;
}

static int cost_run(struct cli_ctx *c, int argc, char **argv)
{
	struct cost_args a = {.by = -1, .refresh = 1};
	struct engine_cost *ec = NULL;
	struct cost_window w;
	char *cause = NULL;
	int rc = CLI_OK;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;

		if ((strcmp(arg, "--by") == 0 || strcmp(arg, "--since") == 0 ||
		     strcmp(arg, "--focus") == 0)) {
			if (i + 1 >= argc)
				return cli_fail("cost", CLI_USAGE, "%s needs a value", arg);
			val = argv[++i];
		} else if (strncmp(arg, "--by=", 5) == 0 || strncmp(arg, "--since=", 8) == 0 ||
		           strncmp(arg, "--focus=", 8) == 0) {
			val = strchr(arg, '=') + 1;
		} else if (strcmp(arg, "--no-refresh") == 0) {
			a.refresh = 0;
			continue;
		} else {
			return cli_fail("cost", CLI_USAGE, "unknown argument '%s'", arg);
		}
		if (strncmp(arg, "--by", 4) == 0) {
			enum cost_group g;

			if (cost_group_parse(val, &g) != 0)
				return cli_fail("cost", CLI_USAGE,
				                "--by expects user, team, template, provider or "
				                "project, got '%s'",
				                val);
			a.by = (int)g;
		} else if (strncmp(arg, "--since", 7) == 0) {
			if (cost_parse_day(val, &a.since_ms) != 0)
				return cli_fail("cost", CLI_USAGE,
				                "--since expects a date YYYY-MM-DD (UTC), got '%s'",
				                val);
			a.since = val;
		} else {
			if (val[0] == '\0')
				return cli_fail("cost", CLI_USAGE, "--focus needs a file name");
			a.focus = val;
		}
	}
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (a.refresh && !c->readonly)
		cli_settle(c->e);
	if (a.focus != NULL) {
		int64_t from;

		if (engine_cost(c->e, &ec, &cause) != 0) {
			rc = cli_fail("cost", CLI_ENV, "%s", cause);
			free(cause);
			return rc;
		}
		from = a.since != NULL ? a.since_ms : cost_month_start(ec->now);
		engine_cost_free(ec);
		return cost_focus(c, a.focus, from);
	}
	if (engine_cost(c->e, &ec, &cause) != 0) {
		rc = cli_fail("cost", CLI_ENV, "%s", cause);
		free(cause);
		return rc;
	}
	if (a.since != NULL && a.since_ms > ec->now) {
		engine_cost_free(ec);
		return cli_fail("cost", CLI_USAGE, "--since %s is in the future", a.since);
	}
	cost_window_compute(ec, &a, &w);
	if (c->json)
		cli_print_json(cost_json(ec, &a, &w));
	else if (a.by >= 0)
		cost_print_rows(c, ec, &a, &w);
	else
		cost_print_summary(c, ec, &a, &w);
	free(w.rows);
	engine_cost_free(ec);
	return rc;
}

const struct cli_cmd cli_cost_cmd = {
    .name = "cost",
    .usage = "cost [--by user|team|template|provider|project] [--since YYYY-MM-DD] "
             "[--focus FILE] [-o json]",
    .summary = "what jobs cost: burn rate, month to date, forecast, idle waste, budgets",
    .help = "  --by GROUP     a breakdown by user, team, template, provider or project\n"
            "  --since DATE   the breakdown (and the FOCUS export) from DATE, 00:00 UTC,\n"
            "                 instead of the start of the month\n"
            "  --focus FILE   write the usage as a FinOps FOCUS CSV ('-' = stdout); unpriced\n"
            "                 jobs are left out and counted\n"
            "  --no-refresh   use what the store holds without asking the providers\n"
            "  -o json        (global option) the same figures as JSON; unpriced jobs are\n"
            "                 listed by name under \"unpriced\", never counted as 0\n",
    .run = cost_run,
};
