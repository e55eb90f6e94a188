/* cost.h: the money core. Pure functions over job histories: accrual at a billing granularity,
 * burn rate, month-to-date, month-end forecast, breakdowns, idle waste, budgets, autostop and
 * the FinOps FOCUS export. No I/O except cost_focus_write; no clock: every function takes `now`.
 *
 * Conventions: times are Unix milliseconds, UTC; money is USD as double; rates are USD per hour.
 *
 * How accrual works (one rule everywhere, so windows add up and nothing is billed twice):
 *   - A job holds resources over intervals [start, end). Intervals are merged first: overlapping,
 *     duplicated or touching ones become one, so no time is billed twice. An interval whose end
 *     is before its start (the clock stepped back) bills 0 and is dropped. COST_OPEN as the end
 *     means "still holding".
 *   - Cost as of time t, C(t): each merged interval is cut at t (an open one ends at t, one that
 *     starts after t bills 0) and its length is rounded UP to the billing unit, then raised to the
 *     minimum billed duration when it is shorter (an interval of length 0 bills 0). A unit is
 *     thus charged in full when it starts, as clouds with hourly billing do.
 *   - The cost in a window [a, b) is C(b) - C(a). It never goes negative (C only grows), and the
 *     windows of consecutive months add up to the whole: an interval from Dec 31 23:30 to
 *     Jan 1 00:30 billed per second puts 30 minutes in each month; billed per hour, the hour is
 *     charged in December, when it started.
 *   - Unpriced jobs (no live, catalog or site price) are never counted as $0: they are left out
 *     of every sum, counted, and listed apart. Stale jobs (provider unreachable) keep accruing at
 *     their last known rate and their `stale` flag is carried into every result they touch. */
#ifndef GANTRY_COST_H
#define GANTRY_COST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* End of an interval that is still open (the job holds its resources now). */
#define COST_OPEN INT64_MAX

#define COST_MS_PER_HOUR 3600000LL

struct cost_interval {
	int64_t start_ms;
	int64_t end_ms; /* exclusive; COST_OPEN = still open */
};

/* How a provider bills: each interval is rounded up to unit_ms, then raised to min_ms. */
struct cost_billing {
	int64_t unit_ms; /* 1000 per second, 60000 per minute, 3600000 per hour; <= 1 = exact */
	int64_t min_ms;  /* minimum billed duration of an interval; 0 = none */
};

/* Parses a billing unit: "ms" (exact), "second", "minute", "hour" (also "s", "min", "h",
 * "per-second", ...) or a count of seconds ("60s"). Returns 0 with *unit_ms, or -1. */
int cost_unit_parse(const char *s, int64_t *unit_ms);

/* Merges in[0..n): drops intervals that end before they start, sorts by start, joins
 * overlapping and touching ones. out has room for n; returns how many it holds. */
size_t cost_intervals_merge(const struct cost_interval *in, size_t n, struct cost_interval *out);

/* Billed milliseconds of merged intervals m[0..n) as of time t, C(t) in time (see above). */
int64_t cost_billed_ms(const struct cost_interval *m, size_t n, const struct cost_billing *b,
                       int64_t t);

/* One job as the cost engine sees it. Strings may be NULL (grouped as "-"). */
struct cost_job {
	const char *id;   /* job id: FOCUS ResourceId */
	const char *name; /* job name: FOCUS ResourceName */
	const char *user, *team, *project, *template_name;
	const char *provider, *region;
	const char *kind;     /* "training", "notebook", "endpoint": FOCUS ResourceType */
	const char *resource; /* what it holds, e.g. "H100x8" or an instance type */
	int priced;           /* 0 = unpriced: no live, catalog or site price */
	double usd_per_hour;  /* its rate (the last known one when stale) */
	int stale;            /* provider unreachable: accruing at the last known rate */
	struct cost_billing billing;
	const struct cost_interval *held; /* intervals it held resources, any order, may overlap */
	size_t nheld;
	const struct cost_interval *idle; /* idle intervals (cost_idle_intervals), may be NULL */
	size_t nidle;
	int64_t stop_by_ms; /* when max_runtime stops it (start + max_runtime); 0 = no deadline */
};

/* Cost of job j as of now (0 when unpriced: check j->priced). */
double cost_job_to_date(const struct cost_job *j, int64_t now);
/* Cost of job j in the window [from, to), both cut at now: C(min(to,now)) - C(min(from,now)). */
double cost_job_between(const struct cost_job *j, int64_t from, int64_t to, int64_t now);
/* Whether job j holds resources at now (an interval with start <= now < end). */
int cost_job_holding(const struct cost_job *j, int64_t now);
/* Milliseconds job j held resources in [from, to) cut at now, unrounded. */
int64_t cost_job_held_ms(const struct cost_job *j, int64_t from, int64_t to, int64_t now);
/* Idle cost of job j in [from, to) cut at now: rate x the time both held and idle (unrounded:
 * idle waste is time actually wasted, not billing units). 0 when unpriced. */
double cost_job_idle_between(const struct cost_job *j, int64_t from, int64_t to, int64_t now);

/* Start of the UTC calendar month holding t (Unix ms). */
int64_t cost_month_start(int64_t t);
/* Start of the next UTC calendar month after the one holding t (exclusive end). */
int64_t cost_month_end(int64_t t);
/* Formats t as ISO 8601 UTC with seconds, "2026-11-01T00:00:00Z" (milliseconds dropped). */
void cost_iso8601(int64_t t, char buf[32]);
/* Formats USD as "$812.40" (negative values, which the engine never makes, as "-$1.00"). */
void cost_money(double usd, char buf[32]);
/* Formats a duration as "2h", "1h30m", "45m", "2m30s", "30s": the two largest units, a zero
 * second one left out (seconds are dropped from durations of an hour or more). */
void cost_duration(int64_t ms, char buf[32]);

/* Totals over many jobs at now. */
struct cost_summary {
	double burn_usd_per_hour; /* sum of the rates of priced jobs holding resources now */
	double to_date;           /* all-time cost of priced jobs */
	double month_to_date;     /* [month start, now) */
	double forecast;          /* month-end forecast, see cost_forecast */
	double idle_month_to_date;
	int64_t month_start_ms, month_end_ms;
	size_t njobs, npriced, nholding;
	size_t nunpriced; /* jobs without a price, listed in unpriced */
	size_t
	    *unpriced; /* their indices in the jobs array (owned; free with cost_summary_clear) */
	size_t nstale; /* priced jobs accruing at a last known rate */
	int stale;     /* nstale > 0: figures rest partly on last known rates */
};

/* Month-end forecast: month_to_date + burn x hours left until the end of the UTC month holding
 * now. It assumes what runs now keeps running at today's rates until the month ends and that
 * nothing else starts: a simple, explainable projection, not a prediction of new launches. */
double cost_forecast(double month_to_date, double burn_usd_per_hour, int64_t now);
/* What job j adds to the month-end forecast after now: its rate until the end of the month,
 * or until j->stop_by_ms (its max_runtime) when that comes first; 0 when it is unpriced or
 * holds nothing at now. cost_summarize's forecast is month_to_date + this over the jobs. */
double cost_job_forecast_rest(const struct cost_job *j, int64_t now);

/* Computes the summary of jobs[0..n) at now. */
void cost_summarize(const struct cost_job *jobs, size_t n, int64_t now, struct cost_summary *s);
/* Frees what s owns. */
void cost_summary_clear(struct cost_summary *s);

enum cost_group {
	COST_BY_USER,
	COST_BY_TEAM,
	COST_BY_TEMPLATE,
	COST_BY_PROVIDER,
	COST_BY_PROJECT,
};

/* One line of a breakdown. */
struct cost_row {
	const char *name; /* the group (points into the jobs' strings, or "-") */
	double cost;      /* priced jobs' cost in the window */
	double burn_usd_per_hour;
	double idle_cost;
	size_t njobs;     /* jobs that held resources in the window */
	size_t nunpriced; /* of which unpriced (not in cost or burn) */
	size_t nstale;    /* of which stale */
};

/* "user", "team", "template", "provider" or "project". */
const char *cost_group_name(enum cost_group g);
/* Parses a group name as above; returns 0 or -1. */
int cost_group_parse(const char *s, enum cost_group *g);

/* Groups the jobs that held resources in [from, now) by g. *rows (caller frees with free()) is
 * sorted by cost, then burn, both descending, then name ascending. */
void cost_breakdown(const struct cost_job *jobs, size_t n, enum cost_group g, int64_t from,
                    int64_t now, struct cost_row **rows, size_t *nrows);

/* One idle waster. */
struct cost_idler {
	size_t job; /* index in the jobs array */
	double idle_cost;
	int64_t idle_ms;
};

/* The k priced jobs with the highest idle cost in [from, now) (those above $0), highest first
 * (ties: job index). Writes up to k entries to out and returns how many. */
size_t cost_top_idle(const struct cost_job *jobs, size_t n, int64_t from, int64_t now, size_t k,
                     struct cost_idler *out);

/* Everything the Cost view shows, computed in one pass over the jobs. */
#define COST_VIEW_TOP_IDLE 10
struct cost_view {
	struct cost_summary sum;
	struct cost_row *by[4]; /* indexed by COST_BY_USER .. COST_BY_PROVIDER; month to date */
	size_t nby[4];
	struct cost_idler top_idle[COST_VIEW_TOP_IDLE]; /* month to date */
	size_t ntop_idle;
};

/* Fills v for jobs[0..n) at now (breakdowns and idle wasters over the month to date). */
void cost_view_compute(const struct cost_job *jobs, size_t n, int64_t now, struct cost_view *v);
/* Frees what v owns. */
void cost_view_clear(struct cost_view *v);

/* ---- idle detection (cost_idle.c) ---- */

/* One telemetry sample of a job: the highest utilisation over all of its GPUs. */
struct cost_sample {
	int64_t at_ms;
	double max_util_pct;
	int ok; /* 0 = unknown (no sample, a GPU n/a, no GPUs): never idle */
};

/* Builds a sample from per-GPU utilisations util[0..n) with validity flags ok[0..n): ok only
 * when there is at least one GPU and every value is valid. */
struct cost_sample cost_sample_make(int64_t at_ms, const double *util, const int *ok, size_t n);

/* Idle intervals of a series sorted by time: the span between two consecutive samples is idle
 * when both are known and below below_pct (every GPU under the threshold) and they are at most
 * max_gap_ms apart (a longer gap is unknown, and unknown is not idle; max_gap_ms <= 0 = no
 * limit; a sample older than the one before it is a gap too). Touching spans are joined;
 * a lone idle sample makes no interval. *out is allocated (caller frees), *nout its length. */
void cost_idle_intervals(const struct cost_sample *s, size_t n, double below_pct,
                         int64_t max_gap_ms, struct cost_interval **out, size_t *nout);

/* Autostop settings of a template: autostop: {idle_minutes, gpu_util_below}. */
struct cost_autostop {
	int idle_minutes;
	double gpu_util_below;
	int64_t max_gap_ms; /* samples further apart are unknown; 0 = 3 minutes */
};

/* What autostop knows about a job right now. */
struct cost_autostop_input {
	const struct cost_sample *samples; /* sorted by time */
	size_t nsamples;
	int ssh_open;               /* an SSH session to the job is open now */
	int64_t ssh_closed_ms;      /* when the last SSH session closed; 0 = never/unknown */
	int notebook;               /* a notebook: the kernel fields below count */
	int kernel_busy;            /* some kernel's execution_state is "busy" */
	int64_t kernel_activity_ms; /* latest last_activity over the kernels; 0 = none */
	int64_t now_ms;
};

struct cost_autostop_result {
	int act;               /* idle for at least idle_minutes: stop (or warn) now */
	int64_t idle_since_ms; /* 0 = not idle */
	char *reason;          /* one line (owned; free): why it acts, or why not */
};

/* Decides idle-since and whether to act. The job is idle since the start of the latest
 * unbroken run of idle samples that reaches the newest sample (which must be within max_gap of
 * now), moved later to the last SSH close and the notebook's last kernel activity; an open SSH
 * session, a busy kernel, or a newest sample that is not idle means not idle. */
void cost_autostop_decide(const struct cost_autostop *a, const struct cost_autostop_input *in,
                          struct cost_autostop_result *r);
/* Frees what r owns. */
void cost_autostop_result_clear(struct cost_autostop_result *r);
/* Money an autostop saves: rate x the rest of max_runtime (started_ms + max_runtime_ms - now,
 * never below 0); with no max_runtime (<= 0), rate x 1 hour — a deliberately modest guess of how
 * long an idle job would have been left running before someone noticed. */
double cost_autostop_saving(double usd_per_hour, int64_t started_ms, int64_t max_runtime_ms,
                            int64_t now);

/* ---- budgets (cost_budget.c) ---- */

enum cost_scope {
	COST_SCOPE_USER,
	COST_SCOPE_TEAM,
	COST_SCOPE_PROJECT,
};

enum cost_hard_action {
	COST_HARD_REFUSE, /* refuse launches */
	COST_HARD_STOP,   /* refuse launches and stop the scope's jobs after grace_s */
};

struct cost_budget {
	enum cost_scope scope;
	const char *name; /* "ml" */
	double monthly_usd;
	double soft_fraction; /* warn from here (default 0.8) */
	double hard_fraction; /* refuse from here (default 1.0) */
	enum cost_hard_action on_hard;
	int64_t grace_s; /* with COST_HARD_STOP: warning time before jobs stop (default 600) */
};

/* Sets b's defaults: soft 0.8, hard 1.0, refuse, grace 600 s (scope and name untouched). */
void cost_budget_defaults(struct cost_budget *b);
/* "user", "team" or "project". */
const char *cost_scope_name(enum cost_scope s);

enum cost_verdict {
	COST_OK,
	COST_SOFT, /* warn */
	COST_HARD, /* refuse the launch */
};

/* A launch being proposed, for the budget check. */
struct cost_launch {
	int priced; /* 0 = unpriced: its cost cannot be counted */
	double usd_per_hour;
	int64_t runtime_ms; /* expected (limits.max_runtime); <= 0 = unknown, counted as 1 hour */
	const char *what;   /* "H100x8", for the reason */
};

struct cost_budget_result {
	enum cost_verdict verdict;
	double spent;         /* month to date of the scope */
	double launch_usd;    /* what the launch adds (0 when none or unpriced) */
	double projected;     /* spent + launch_usd: what the verdict is taken on */
	double used_fraction; /* spent / monthly (1 when monthly is 0 and something is spent) */
	double hours_to_hard; /* at the current burn, until spent reaches the hard limit;
	                         0 = reached, < 0 = never (no burn) */
	char *reason;         /* one line (owned; free with cost_budget_result_clear) */
};

/* Checks a budget: projected = spent + (launch ? rate x runtime : 0); HARD when projected reaches
 * the hard limit (monthly x hard_fraction), SOFT when it reaches the soft one, else OK ("reaches"
 * = >=, so exactly at a threshold counts). launch may be NULL (the header gauge). The reason reads
 * "team ml: $812.40 of $1000.00 this month (81%); this launch adds up to $52.00 (H100x8 for 2h at
 * $26.00/h)", followed by "; reaches the soft limit ($800.00)" or "; reaches the hard limit
 * ($1000.00)" when it does. Percentages are rounded down. */
void cost_budget_check(const struct cost_budget *b, double spent_mtd, double burn_usd_per_hour,
                       const struct cost_launch *launch, struct cost_budget_result *r);
/* Frees what r owns. */
void cost_budget_result_clear(struct cost_budget_result *r);
/* Where a budget heads at the current burn, in one line: "forecast $798.94 by month end", then
 * "; reaches the hard limit of $500.00 around 2026-11-29 14:05 UTC" when the forecast reaches it
 * before the UTC month ends (the time rounded up to the minute), or "; over the hard limit of
 * $500.00" when spent already has. Returns 1 in those two cases, else 0. compact gives the
 * short forms for narrow screens: "forecast $798.94", "reaches $500.00 ~11-29 14:05" (UTC),
 * "over $500.00". */
int cost_budget_outlook(const struct cost_budget *b, double spent, double burn, int64_t now,
                        int compact, char *buf, size_t size);
/* With COST_HARD_STOP: whether the grace period since the hard limit was reached (hard_since_ms,
 * 0 = not reached) is over at now, i.e. the scope's jobs are to be stopped. */
int cost_budget_stop_due(const struct cost_budget *b, int64_t hard_since_ms, int64_t now);

/* ---- FinOps FOCUS export (cost_focus.c) ---- */

/* The header line cost_focus_write writes (FOCUS 1.0 column names, then x_ columns). */
extern const char cost_focus_header[];

/* Writes a FOCUS CSV of the priced jobs' usage in [from, to) (cut at now) to f: one row per job
 * per UTC calendar month (the billing period) in which it held resources. Unpriced jobs are left
 * out (FOCUS requires a BilledCost); those that held resources in the window are counted in
 * *nunpriced (may be NULL) for the caller to report; *nrows (may be NULL)
 * gets the number of rows written. Returns 0, or -1 with *cause on a write error. */
int cost_focus_write(FILE *f, const struct cost_job *jobs, size_t n, int64_t from, int64_t to,
                     int64_t now, size_t *nrows, size_t *nunpriced, char **cause);

#endif
