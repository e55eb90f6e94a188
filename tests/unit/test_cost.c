/* test_cost.c: the cost engine: accrual at billing granularities, merged and broken intervals,
 * UTC months, forecast, burn, breakdowns, unpriced and stale jobs, idle detection, autostop,
 * budgets and the FOCUS export (written, then parsed back). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/cost.h"
#include "core/xmalloc.h"

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)

/* Unix ms of a UTC date and time (timegm in the test, the engine uses its own path). */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000;
}

static const struct cost_billing per_ms = {1, 0};
static const struct cost_billing per_sec = {1000, 0};
static const struct cost_billing per_min = {60000, 0};
static const struct cost_billing per_hour = {3600000, 0};

/* A priced job over the given intervals. */
static struct cost_job job(const struct cost_interval *iv, size_t n, double rate,
                           struct cost_billing b)
{
	struct cost_job j;

	memset(&j, 0, sizeof j);
	j.id = "j1";
	j.name = "job-1";
	j.priced = 1;
	j.usd_per_hour = rate;
	j.billing = b;
	j.held = iv;
	j.nheld = n;
	return j;
}

static void test_unit_parse(void **state)
{
	int64_t u = 0;

	(void)state;
	assert_int_equal(cost_unit_parse("second", &u), 0);
	assert_int_equal(u, 1000);
	assert_int_equal(cost_unit_parse("per-minute", &u), 0);
	assert_int_equal(u, 60000);
	assert_int_equal(cost_unit_parse("HOUR", &u), 0);
	assert_int_equal(u, 3600000);
	assert_int_equal(cost_unit_parse("ms", &u), 0);
	assert_int_equal(u, 1);
	assert_int_equal(cost_unit_parse("60s", &u), 0);
	assert_int_equal(u, 60000);
	assert_int_equal(cost_unit_parse("0s", &u), -1);
	assert_int_equal(cost_unit_parse("60", &u), -1);
	assert_int_equal(cost_unit_parse("fortnight", &u), -1);
	assert_int_equal(cost_unit_parse("-5s", &u), -1);
	assert_int_equal(cost_unit_parse(NULL, &u), -1);
}

static void test_granularity(void **state)
{
	struct cost_interval iv[1] = {{0, 61 * SEC}};
	struct cost_billing b;

	(void)state;
	assert_int_equal(cost_billed_ms(iv, 1, &per_ms, 100 * SEC), 61 * SEC);
	assert_int_equal(cost_billed_ms(iv, 1, &per_sec, 100 * SEC), 61 * SEC);
	assert_int_equal(cost_billed_ms(iv, 1, &per_min, 100 * SEC), 2 * MIN);
	assert_int_equal(cost_billed_ms(iv, 1, &per_hour, 100 * SEC), HOUR);
	/* exactly on a unit: not rounded further */
	iv[0].end_ms = 2 * MIN;
	assert_int_equal(cost_billed_ms(iv, 1, &per_min, 10 * MIN), 2 * MIN);
	/* 1 ms past a unit starts the next one */
	iv[0].end_ms = 2 * MIN + 1;
	assert_int_equal(cost_billed_ms(iv, 1, &per_min, 10 * MIN), 3 * MIN);
	iv[0].end_ms = 1500;
	assert_int_equal(cost_billed_ms(iv, 1, &per_sec, 10 * MIN), 2 * SEC);
	/* minimum billed duration: a 10 s run billed per second with a 1 min minimum */
	b.unit_ms = 1000;
	b.min_ms = MIN;
	iv[0].end_ms = 10 * SEC;
	assert_int_equal(cost_billed_ms(iv, 1, &b, 10 * MIN), MIN);
	iv[0].end_ms = 61 * SEC + 1; /* longer than the minimum: rounded only */
	assert_int_equal(cost_billed_ms(iv, 1, &b, 10 * MIN), 62 * SEC);
	/* an interval of length 0 bills nothing, minimum or not */
	iv[0].end_ms = 0;
	assert_int_equal(cost_billed_ms(iv, 1, &b, 10 * MIN), 0);
	/* in money: 61 s at $36/h billed per minute = 2 min = $1.20 */
	{
		struct cost_interval one = {utc(2026, 11, 2, 0, 0, 0), utc(2026, 11, 2, 0, 1, 1)};
		struct cost_job j = job(&one, 1, 36, per_min);

		assert_float_equal(cost_job_to_date(&j, utc(2026, 11, 3, 0, 0, 0)), 1.20, 1e-9);
		j.billing = per_hour;
		assert_float_equal(cost_job_to_date(&j, utc(2026, 11, 3, 0, 0, 0)), 36, 1e-9);
	}
}

static void test_merge(void **state)
{
	const struct cost_interval in[] = {
	    {50, 60},  /* inside the next one once sorted */
	    {10, 40},  /* overlaps 30..70 */
	    {30, 70},  /* */
	    {10, 40},  /* duplicate */
	    {70, 80},  /* touching: joined */
	    {100, 90}, /* ends before it starts: dropped */
	    {200, 300}, {250, COST_OPEN},
	};
	struct cost_interval out[8];
	size_t n;

	(void)state;
	n = cost_intervals_merge(in, 8, out);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].start_ms, 10);
	assert_int_equal(out[0].end_ms, 80);
	assert_int_equal(out[1].start_ms, 200);
	assert_true(out[1].end_ms == COST_OPEN);
	assert_int_equal(cost_intervals_merge(in, 0, out), 0);
	assert_int_equal(cost_intervals_merge(&in[5], 1, out), 0);
}

static void test_merge_many(void **state)
{
	/* more than the stack buffer of 8: the qsort path, and the heap path of the job API */
	struct cost_interval in[40], out[40];
	struct cost_job j;
	size_t i, n;

	(void)state;
	for (i = 0; i < 40; i++) {
		/* pairs of duplicates, reversed order: 19..0 */
		in[i].start_ms = (int64_t)(19 - i / 2) * 10 * MIN;
		in[i].end_ms = in[i].start_ms + 5 * MIN;
	}
	n = cost_intervals_merge(in, 40, out);
	assert_int_equal(n, 20);
	for (i = 0; i < n; i++) {
		assert_int_equal(out[i].start_ms, (int64_t)i * 10 * MIN);
		assert_int_equal(out[i].end_ms - out[i].start_ms, 5 * MIN);
	}
	j = job(in, 40, 12, per_sec);
	assert_float_equal(cost_job_to_date(&j, 1000 * HOUR), 20 * 5 / 60.0 * 12, 1e-9);
}

static void test_no_double_billing(void **state)
{
	/* RUNNING, then UNKNOWN overlapping it, then RUNNING again after a pause, plus a
	 * duplicated record of the first: 09:00-10:00, 09:30-10:30, 09:00-10:00, 11:00-11:30 */
	const int64_t d = utc(2026, 11, 10, 0, 0, 0);
	const struct cost_interval iv[] = {
	    {d + 9 * HOUR, d + 10 * HOUR},
	    {d + 9 * HOUR + 30 * MIN, d + 10 * HOUR + 30 * MIN},
	    {d + 9 * HOUR, d + 10 * HOUR},
	    {d + 11 * HOUR, d + 11 * HOUR + 30 * MIN},
	};
	struct cost_job j = job(iv, 4, 10, per_sec);
	const int64_t now = d + 12 * HOUR;

	(void)state;
	assert_float_equal(cost_job_to_date(&j, now), 20, 1e-9); /* 1.5 h + 0.5 h */
	assert_int_equal(cost_job_held_ms(&j, 0, now, now), 2 * HOUR);
	/* per hour: each merged interval is rounded up on its own: 2 h + 1 h */
	j.billing = per_hour;
	assert_float_equal(cost_job_to_date(&j, now), 30, 1e-9);
}

static void test_clock_backwards(void **state)
{
	const int64_t d = utc(2026, 11, 10, 12, 0, 0);
	/* the clock stepped back by 10 min while the job ran: its end is before its start */
	const struct cost_interval back[] = {{d, d - 10 * MIN}};
	const struct cost_interval mixed[] = {{d, d - 10 * MIN}, {d + HOUR, d + 2 * HOUR}};
	struct cost_job j = job(back, 1, 100, per_sec);

	(void)state;
	assert_float_equal(cost_job_to_date(&j, d + 5 * HOUR), 0, 0);
	assert_float_equal(cost_job_between(&j, d - HOUR, d + HOUR, d + 5 * HOUR), 0, 0);
	j.billing = per_hour;
	j.billing.min_ms = HOUR;
	assert_float_equal(cost_job_to_date(&j, d + 5 * HOUR), 0, 0);
	j = job(mixed, 2, 100, per_sec);
	assert_float_equal(cost_job_to_date(&j, d + 5 * HOUR), 100, 1e-9);
	/* a window given backwards is empty, never negative */
	assert_float_equal(cost_job_between(&j, d + 2 * HOUR, d + HOUR, d + 5 * HOUR), 0, 0);
	/* now before the interval's start: nothing billed yet */
	assert_float_equal(cost_job_to_date(&j, d), 0, 0);
	assert_false(cost_job_holding(&j, d));
}

static void test_open_interval(void **state)
{
	const int64_t d = utc(2026, 11, 10, 12, 0, 0);
	const struct cost_interval iv[] = {{d, COST_OPEN}};
	struct cost_job j = job(iv, 1, 6, per_sec);
	double prev = 0, c;
	int64_t t;

	(void)state;
	assert_float_equal(cost_job_to_date(&j, d + 30 * MIN), 3, 1e-9);
	assert_true(cost_job_holding(&j, d));
	assert_true(cost_job_holding(&j, d + 1000 * HOUR));
	assert_false(cost_job_holding(&j, d - 1));
	/* now earlier than the start (a clock stepped back): 0, not negative */
	assert_float_equal(cost_job_to_date(&j, d - HOUR), 0, 0);
	/* cost never goes down as now moves forward, at any granularity */
	j.billing = per_min;
	j.billing.min_ms = 5 * MIN;
	for (t = d - MIN; t < d + 2 * HOUR; t += 7 * SEC) {
		c = cost_job_to_date(&j, t);
		assert_true(c >= prev);
		prev = c;
	}
	/* a closed interval ending after now is cut at now */
	{
		const struct cost_interval closed[] = {{d, d + 10 * HOUR}};
		struct cost_job k = job(closed, 1, 6, per_sec);

		assert_float_equal(cost_job_to_date(&k, d + HOUR), 6, 1e-9);
		assert_true(cost_job_holding(&k, d + HOUR));
		assert_false(cost_job_holding(&k, d + 10 * HOUR)); /* end is exclusive */
	}
}

static void test_months(void **state)
{
	char buf[32];

	(void)state;
	assert_int_equal(cost_month_start(utc(2026, 12, 31, 23, 30, 0)), utc(2026, 12, 1, 0, 0, 0));
	assert_int_equal(cost_month_end(utc(2026, 12, 31, 23, 30, 0)), utc(2027, 1, 1, 0, 0, 0));
	assert_int_equal(cost_month_start(utc(2027, 1, 1, 0, 30, 0)), utc(2027, 1, 1, 0, 0, 0));
	/* the first millisecond of a month belongs to it, the last one of the previous to that */
	assert_int_equal(cost_month_start(utc(2027, 1, 1, 0, 0, 0)), utc(2027, 1, 1, 0, 0, 0));
	assert_int_equal(cost_month_start(utc(2027, 1, 1, 0, 0, 0) - 1), utc(2026, 12, 1, 0, 0, 0));
	/* February: 29 days in leap years (2028, 2000), 28 otherwise (2027, 2100) */
	assert_int_equal(cost_month_end(utc(2028, 2, 10, 0, 0, 0)) - utc(2028, 2, 1, 0, 0, 0),
	                 29 * 24 * HOUR);
	assert_int_equal(cost_month_end(utc(2028, 2, 29, 23, 59, 59)), utc(2028, 3, 1, 0, 0, 0));
	assert_int_equal(cost_month_end(utc(2000, 2, 1, 0, 0, 0)) - utc(2000, 2, 1, 0, 0, 0),
	                 29 * 24 * HOUR);
	assert_int_equal(cost_month_end(utc(2027, 2, 10, 0, 0, 0)) - utc(2027, 2, 1, 0, 0, 0),
	                 28 * 24 * HOUR);
	assert_int_equal(cost_month_end(utc(2100, 2, 10, 0, 0, 0)) - utc(2100, 2, 1, 0, 0, 0),
	                 28 * 24 * HOUR);
	assert_int_equal(cost_month_start(utc(2028, 3, 1, 0, 0, 0) - 1), utc(2028, 2, 1, 0, 0, 0));
	cost_iso8601(utc(2026, 11, 1, 0, 0, 0), buf);
	assert_string_equal(buf, "2026-11-01T00:00:00Z");
	cost_iso8601(utc(2028, 2, 29, 13, 5, 9) + 999, buf);
	assert_string_equal(buf, "2028-02-29T13:05:09Z");
	cost_iso8601(-1, buf); /* before 1970: rounds down too */
	assert_string_equal(buf, "1969-12-31T23:59:59Z");
}

static void test_split_across_months(void **state)
{
	/* Dec 31 23:30 -> Jan 1 00:30 at $10/h */
	const int64_t s = utc(2026, 12, 31, 23, 30, 0), e = utc(2027, 1, 1, 0, 30, 0);
	const int64_t jan = utc(2027, 1, 1, 0, 0, 0), now = utc(2027, 1, 15, 0, 0, 0);
	const struct cost_interval iv[] = {{s, e}};
	struct cost_job j = job(iv, 1, 10, per_sec);
	double dec_cost, jan_cost;

	(void)state;
	dec_cost = cost_job_between(&j, cost_month_start(s), cost_month_end(s), now);
	jan_cost = cost_job_between(&j, cost_month_start(e), cost_month_end(e), now);
	assert_float_equal(dec_cost, 5, 1e-9);
	assert_float_equal(jan_cost, 5, 1e-9);
	assert_float_equal(dec_cost + jan_cost, cost_job_to_date(&j, now), 1e-9);
	/* month to date on Jan 1 00:10, while it still runs: 10 minutes of January */
	{
		const struct cost_interval open[] = {{s, COST_OPEN}};
		struct cost_job o = job(open, 1, 10, per_sec);
		struct cost_summary sum;
		const int64_t t = jan + 10 * MIN;

		cost_summarize(&o, 1, t, &sum);
		assert_int_equal(sum.month_start_ms, jan);
		assert_float_equal(sum.month_to_date, 10.0 / 6, 1e-9);
		assert_float_equal(sum.to_date, 10.0 * 40 / 60, 1e-9);
		cost_summary_clear(&sum);
	}
	/* billed per hour: the hour is charged when it starts, in December; January adds 0 and
	 * the total is still one hour, never two */
	j.billing = per_hour;
	dec_cost = cost_job_between(&j, cost_month_start(s), jan, now);
	jan_cost = cost_job_between(&j, jan, cost_month_end(e), now);
	assert_float_equal(dec_cost, 10, 1e-9);
	assert_float_equal(jan_cost, 0, 1e-9);
	assert_float_equal(cost_job_to_date(&j, now), 10, 1e-9);
}

static void test_forecast(void **state)
{
	(void)state;
	/* Nov 20 00:00: 11 days = 264 h left in November */
	assert_float_equal(cost_forecast(100, 2, utc(2026, 11, 20, 0, 0, 0)), 100 + 2 * 264, 1e-9);
	/* leap February: Feb 28 00:00 2028 has 48 h left, 2027 has 24 h */
	assert_float_equal(cost_forecast(10, 1, utc(2028, 2, 28, 0, 0, 0)), 58, 1e-9);
	assert_float_equal(cost_forecast(10, 1, utc(2027, 2, 28, 0, 0, 0)), 34, 1e-9);
	/* December rolls into the next year */
	assert_float_equal(cost_forecast(0, 3, utc(2026, 12, 31, 23, 0, 0)), 3, 1e-9);
	/* no burn: the month to date stands */
	assert_float_equal(cost_forecast(42, 0, utc(2026, 11, 20, 0, 0, 0)), 42, 0);
}

/* A job with max_runtime is forecast to stop at its deadline, not to run to month end. */
static void test_forecast_max_runtime(void **state)
{
	int64_t now = utc(2026, 11, 20, 0, 0, 0);
	struct cost_interval iv[2] = {{now - HOUR, COST_OPEN}, {now - HOUR, COST_OPEN}};
	struct cost_job j[2] = {job(&iv[0], 1, 2, per_ms), job(&iv[1], 1, 4, per_ms)};
	struct cost_summary s;

	(void)state;
	/* j[0]: no deadline, 264 h to month end; j[1]: max_runtime 3 h from its start */
	j[1].stop_by_ms = now - HOUR + 3 * HOUR;
	assert_float_equal(cost_job_forecast_rest(&j[0], now), 2 * 264, 1e-9);
	assert_float_equal(cost_job_forecast_rest(&j[1], now), 4 * 2, 1e-9);
	cost_summarize(j, 2, now, &s);
	assert_float_equal(s.burn_usd_per_hour, 6, 1e-9);
	assert_float_equal(s.forecast, s.month_to_date + 2 * 264 + 4 * 2, 1e-6);
	cost_summary_clear(&s);
	/* a deadline after the month end changes nothing; one already past adds nothing */
	j[1].stop_by_ms = utc(2027, 1, 5, 0, 0, 0);
	assert_float_equal(cost_job_forecast_rest(&j[1], now), 4 * 264, 1e-9);
	j[1].stop_by_ms = now - 1;
	assert_float_equal(cost_job_forecast_rest(&j[1], now), 0, 0);
	/* unpriced, or not holding: nothing */
	j[0].priced = 0;
	assert_float_equal(cost_job_forecast_rest(&j[0], now), 0, 0);
	iv[1].end_ms = now - 1;
	j[1].stop_by_ms = 0;
	assert_float_equal(cost_job_forecast_rest(&j[1], now), 0, 0);
}

/* A small population: index 0..5. now = 2026-11-20 12:00 UTC. */
#define NOW utc(2026, 11, 20, 12, 0, 0)

struct fleet {
	struct cost_interval iv[6][2];
	struct cost_interval idle[6][1];
	struct cost_job j[6];
};

static void fleet_init(struct fleet *f)
{
	const int64_t now = NOW, nov = utc(2026, 11, 1, 0, 0, 0);
	static const char *const users[] = {"alice", "bob", "alice", "carol", "bob", NULL};
	static const char *const teams[] = {"ml", "ml", "vision", "vision", "ml", "ml"};
	static const char *const tpls[] = {"notebook", "train", "train",
	                                   "notebook", "train", "train"};
	static const char *const provs[] = {"lambda", "slurm", "lambda", "local", "lambda", "aws"};
	static const double rates[] = {2.5, 24, 10, 0, 3, 5};
	size_t i;

	memset(f, 0, sizeof *f);
	for (i = 0; i < 6; i++) {
		f->j[i] = job(f->iv[i], 1, rates[i], per_sec);
		f->j[i].user = users[i];
		f->j[i].team = teams[i];
		f->j[i].template_name = tpls[i];
		f->j[i].provider = provs[i];
	}
	/* 0: alice, running since Nov 20 08:00: 4 h = $10, burning 2.5 */
	f->iv[0][0] = (struct cost_interval){now - 4 * HOUR, COST_OPEN};
	/* 1: bob, ran Nov 2 for 10 h: $240, ended */
	f->iv[1][0] = (struct cost_interval){nov + 24 * HOUR, nov + 34 * HOUR};
	/* 2: alice, started Oct 31 22:00, still running: 2 h in October, the rest in November */
	f->iv[2][0] = (struct cost_interval){nov - 2 * HOUR, COST_OPEN};
	/* 3: carol, unpriced local job running now */
	f->j[3].priced = 0;
	f->iv[3][0] = (struct cost_interval){now - HOUR, COST_OPEN};
	/* 4: bob, stale: provider unreachable, accruing at the last rate, 2 h so far */
	f->j[4].stale = 1;
	f->iv[4][0] = (struct cost_interval){now - 2 * HOUR, COST_OPEN};
	/* 5: no user; ran only in October: not in this month's breakdowns */
	f->iv[5][0] = (struct cost_interval){nov - 10 * HOUR, nov - 5 * HOUR};
	/* idle: job 0 idle its last hour, job 2 idle 3 h on Nov 1 */
	f->idle[0][0] = (struct cost_interval){now - HOUR, now};
	f->j[0].idle = f->idle[0];
	f->j[0].nidle = 1;
	f->idle[2][0] = (struct cost_interval){nov + HOUR, nov + 4 * HOUR};
	f->j[2].idle = f->idle[2];
	f->j[2].nidle = 1;
}

static void test_summary(void **state)
{
	struct fleet f;
	struct cost_summary s;
	const double job2_mtd = 10 * (19 * 24 + 12); /* Nov 1 00:00 .. Nov 20 12:00 */

	(void)state;
	fleet_init(&f);
	cost_summarize(f.j, 6, NOW, &s);
	assert_int_equal(s.njobs, 6);
	assert_int_equal(s.npriced, 5);
	assert_int_equal(s.nholding, 4); /* 0, 2, 3, 4 */
	/* burn: 2.5 + 10 + 3 (stale, last known rate); the unpriced job is not $0, it is apart */
	assert_float_equal(s.burn_usd_per_hour, 15.5, 1e-9);
	assert_int_equal(s.nunpriced, 1);
	assert_int_equal(s.unpriced[0], 3);
	assert_int_equal(s.nstale, 1);
	assert_true(s.stale);
	assert_float_equal(s.month_to_date, 10 + 240 + job2_mtd + 6, 1e-6);
	assert_float_equal(s.to_date, 10 + 240 + job2_mtd + 20 + 6 + 25, 1e-6);
	assert_float_equal(s.forecast, s.month_to_date + 15.5 * (10 * 24 + 12), 1e-6);
	assert_float_equal(s.idle_month_to_date, 2.5 + 30, 1e-9);
	assert_int_equal(s.month_end_ms, utc(2026, 12, 1, 0, 0, 0));
	cost_summary_clear(&s);
	/* nothing at all */
	cost_summarize(NULL, 0, NOW, &s);
	assert_int_equal(s.njobs, 0);
	assert_float_equal(s.forecast, 0, 0);
	assert_false(s.stale);
	cost_summary_clear(&s);
}

static void test_breakdowns(void **state)
{
	struct fleet f;
	struct cost_row *r;
	size_t n;
	const double job2_mtd = 10 * (19 * 24 + 12);
	const int64_t nov = utc(2026, 11, 1, 0, 0, 0);
	enum cost_group g;

	(void)state;
	fleet_init(&f);
	cost_breakdown(f.j, 6, COST_BY_USER, nov, NOW, &r, &n);
	assert_int_equal(n, 3); /* job 5 (no user) ran only in October */
	assert_string_equal(r[0].name, "alice");
	assert_float_equal(r[0].cost, 10 + job2_mtd, 1e-6);
	assert_float_equal(r[0].burn_usd_per_hour, 12.5, 1e-9);
	assert_float_equal(r[0].idle_cost, 32.5, 1e-9);
	assert_int_equal(r[0].njobs, 2);
	assert_string_equal(r[1].name, "bob");
	assert_float_equal(r[1].cost, 246, 1e-9);
	assert_int_equal(r[1].nstale, 1);
	assert_int_equal(r[1].njobs, 2);
	/* carol's only job is unpriced: her row says so, it is not a $0 row */
	assert_string_equal(r[2].name, "carol");
	assert_int_equal(r[2].njobs, 1);
	assert_int_equal(r[2].nunpriced, 1);
	assert_float_equal(r[2].cost, 0, 0);
	free(r);

	cost_breakdown(f.j, 6, COST_BY_TEAM, nov, NOW, &r, &n);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].name, "vision");
	assert_float_equal(r[0].cost, job2_mtd, 1e-6);
	assert_int_equal(r[0].nunpriced, 1);
	assert_string_equal(r[1].name, "ml");
	assert_float_equal(r[1].cost, 10 + 246, 1e-9);
	free(r);

	cost_breakdown(f.j, 6, COST_BY_PROVIDER, nov, NOW, &r, &n);
	assert_int_equal(n, 3);
	assert_string_equal(r[0].name, "lambda");
	assert_float_equal(r[0].cost, 10 + job2_mtd + 6, 1e-6);
	assert_float_equal(r[0].burn_usd_per_hour, 15.5, 1e-9);
	assert_string_equal(r[1].name, "slurm");
	assert_string_equal(r[2].name, "local");
	free(r);

	/* all time: job 5 (no user) shows as "-" */
	cost_breakdown(f.j, 6, COST_BY_USER, 0, NOW, &r, &n);
	assert_int_equal(n, 4);
	assert_string_equal(r[3].name, "carol");
	assert_string_equal(r[2].name, "-");
	assert_float_equal(r[2].cost, 25, 1e-9);
	free(r);

	/* ties: equal cost, then burn decides, then the name */
	{
		struct cost_interval iv[3][1] = {
		    {{NOW - HOUR, NOW}}, {{NOW - HOUR, COST_OPEN}}, {{NOW - HOUR, NOW}}};
		struct cost_job j[3];
		const char *names[3] = {"zed", "yan", "abe"};
		size_t i;

		for (i = 0; i < 3; i++) {
			j[i] = job(iv[i], 1, 4, per_sec);
			j[i].template_name = names[i];
		}
		cost_breakdown(j, 3, COST_BY_TEMPLATE, 0, NOW, &r, &n);
		assert_int_equal(n, 3);
		assert_string_equal(r[0].name, "yan"); /* burning now */
		assert_string_equal(r[1].name, "abe");
		assert_string_equal(r[2].name, "zed");
		free(r);
	}
	assert_int_equal(cost_group_parse("template", &g), 0);
	assert_int_equal(g, COST_BY_TEMPLATE);
	assert_int_equal(cost_group_parse("owner", &g), -1);
	assert_string_equal(cost_group_name(COST_BY_PROVIDER), "provider");
}

static void test_view_and_top_idle(void **state)
{
	struct fleet f;
	struct cost_view v;
	struct cost_summary s;
	struct cost_idler top[3];
	size_t i, n;

	(void)state;
	fleet_init(&f);
	cost_view_compute(f.j, 6, NOW, &v);
	cost_summarize(f.j, 6, NOW, &s);
	assert_float_equal(v.sum.month_to_date, s.month_to_date, 1e-9);
	assert_float_equal(v.sum.burn_usd_per_hour, s.burn_usd_per_hour, 1e-9);
	assert_int_equal(v.sum.nunpriced, 1);
	for (i = 0; i < 4; i++) {
		struct cost_row *r;

		cost_breakdown(f.j, 6, (enum cost_group)i, s.month_start_ms, NOW, &r, &n);
		assert_int_equal(v.nby[i], n);
		assert_memory_equal(v.by[i], r, n * sizeof *r);
		free(r);
	}
	assert_int_equal(v.ntop_idle, 2);
	assert_int_equal(v.top_idle[0].job, 2);
	assert_float_equal(v.top_idle[0].idle_cost, 30, 1e-9);
	assert_int_equal(v.top_idle[0].idle_ms, 3 * HOUR);
	assert_int_equal(v.top_idle[1].job, 0);
	cost_view_clear(&v);
	cost_summary_clear(&s);
	/* top k with k smaller than the wasters */
	n = cost_top_idle(f.j, 6, 0, NOW, 1, top);
	assert_int_equal(n, 1);
	assert_int_equal(top[0].job, 2);
	assert_int_equal(cost_top_idle(f.j, 6, 0, NOW, 0, top), 0);
	/* an unpriced job's idle time is not money */
	f.j[2].priced = 0;
	n = cost_top_idle(f.j, 6, 0, NOW, 3, top);
	assert_int_equal(n, 1);
	assert_int_equal(top[0].job, 0);
}

static void test_idle_intervals(void **state)
{
	/* util per sample, 10 s apart unless noted; threshold 5%, max gap 30 s */
	const struct cost_sample s[] = {
	    {0, 90, 1},         /* busy */
	    {10 * SEC, 1, 1},   /* idle from here */
	    {20 * SEC, 2, 1},   /* */
	    {30 * SEC, 4.9, 1}, /* */
	    {40 * SEC, 5, 1},   /* at the threshold: not below, busy */
	    {50 * SEC, 0, 1},   /* idle */
	    {60 * SEC, 0, 0},   /* unknown (a GPU n/a): not idle */
	    {70 * SEC, 0, 1},   /* idle */
	    {80 * SEC, 0, 1},   /* idle */
	    {200 * SEC, 0, 1},  /* 120 s gap: unknown in between */
	    {210 * SEC, 0, 1},  /* idle */
	    {205 * SEC, 0, 1},  /* out of order: a gap */
	    {215 * SEC, 0, 1},  /* idle */
	};
	struct cost_interval *iv;
	size_t n;

	(void)state;
	cost_idle_intervals(s, sizeof s / sizeof s[0], 5, 30 * SEC, &iv, &n);
	assert_int_equal(n, 4);
	assert_int_equal(iv[0].start_ms, 10 * SEC);
	assert_int_equal(iv[0].end_ms, 30 * SEC);
	assert_int_equal(iv[1].start_ms, 70 * SEC);
	assert_int_equal(iv[1].end_ms, 80 * SEC);
	assert_int_equal(iv[2].start_ms, 200 * SEC);
	assert_int_equal(iv[2].end_ms, 210 * SEC);
	assert_int_equal(iv[3].start_ms, 205 * SEC);
	assert_int_equal(iv[3].end_ms, 215 * SEC);
	free(iv);
	/* without a gap limit the 120 s gap counts as idle */
	cost_idle_intervals(s, 11, 5, 0, &iv, &n);
	assert_int_equal(n, 2);
	assert_int_equal(iv[1].start_ms, 70 * SEC);
	assert_int_equal(iv[1].end_ms, 210 * SEC);
	free(iv);
	/* no samples, one sample */
	cost_idle_intervals(s, 0, 5, 30 * SEC, &iv, &n);
	assert_int_equal(n, 0);
	free(iv);
	cost_idle_intervals(&s[1], 1, 5, 30 * SEC, &iv, &n);
	assert_int_equal(n, 0);
	free(iv);
}

static void test_sample_make(void **state)
{
	const double util[] = {3, 1, 4};
	const int ok[] = {1, 1, 1}, one_na[] = {1, 0, 1};
	struct cost_sample s;

	(void)state;
	s = cost_sample_make(5, util, ok, 3);
	assert_true(s.ok);
	assert_float_equal(s.max_util_pct, 4, 0);
	assert_int_equal(s.at_ms, 5);
	s = cost_sample_make(5, util, one_na, 3);
	assert_false(s.ok);
	s = cost_sample_make(5, util, ok, 0); /* no GPUs: unknown, never idle */
	assert_false(s.ok);
}

static void test_idle_cost(void **state)
{
	const int64_t d = utc(2026, 11, 10, 0, 0, 0);
	/* held 00:00-02:00 and 03:00-04:00; idle 01:30-03:30 (half of it while not held) */
	const struct cost_interval held[] = {{d, d + 2 * HOUR}, {d + 3 * HOUR, d + 4 * HOUR}};
	const struct cost_interval idle[] = {{d + 90 * MIN, d + 210 * MIN}};
	struct cost_job j = job(held, 2, 8, per_hour);

	(void)state;
	j.idle = idle;
	j.nidle = 1;
	/* 30 min + 30 min idle while held, unrounded even though billing is hourly */
	assert_float_equal(cost_job_idle_between(&j, 0, COST_OPEN, d + 5 * HOUR), 8, 1e-9);
	assert_float_equal(cost_job_idle_between(&j, d + 3 * HOUR, d + 5 * HOUR, d + 5 * HOUR), 4,
	                   1e-9);
	/* cut at now */
	assert_float_equal(cost_job_idle_between(&j, 0, COST_OPEN, d + 105 * MIN), 2, 1e-9);
	j.priced = 0;
	assert_float_equal(cost_job_idle_between(&j, 0, COST_OPEN, d + 5 * HOUR), 0, 0);
}

static void test_autostop(void **state)
{
	const int64_t t0 = utc(2026, 11, 27, 13, 0, 0);
	struct cost_sample s[60];
	struct cost_autostop a = {.idle_minutes = 30, .gpu_util_below = 5, .max_gap_ms = 0};
	struct cost_autostop_input in = {.samples = s, .nsamples = 0};
	struct cost_autostop_result r;
	size_t i;

	(void)state;
	/* busy at 13:00, then idle every minute from 13:01 to 13:59 */
	s[0] = (struct cost_sample){t0, 80, 1};
	for (i = 1; i < 60; i++)
		s[i] = (struct cost_sample){t0 + (int64_t)i * MIN, 2, 1};
	in.nsamples = 60;
	in.now_ms = t0 + 60 * MIN;
	cost_autostop_decide(&a, &in, &r);
	assert_true(r.act);
	assert_int_equal(r.idle_since_ms, t0 + MIN);
	assert_string_equal(r.reason,
	                    "idle for 59m since 2026-11-27T13:01:00Z (autostop after 30m): "
	                    "every GPU below 5%, no SSH session");
	cost_autostop_result_clear(&r);
	/* 29 minutes: not yet */
	in.now_ms = t0 + 30 * MIN;
	in.nsamples = 30;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	assert_int_equal(r.idle_since_ms, t0 + MIN);
	assert_string_equal(r.reason, "idle for 29m of 30m since 2026-11-27T13:01:00Z: every GPU "
	                              "below 5%, no SSH session");
	cost_autostop_result_clear(&r);
	/* exactly idle_minutes: act */
	in.now_ms = t0 + 31 * MIN;
	in.nsamples = 31;
	cost_autostop_decide(&a, &in, &r);
	assert_true(r.act);
	cost_autostop_result_clear(&r);
	in.nsamples = 60;
	in.now_ms = t0 + 60 * MIN;
	/* an SSH session open: never */
	in.ssh_open = 1;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	assert_int_equal(r.idle_since_ms, 0);
	assert_string_equal(r.reason, "not idle: an SSH session is open");
	cost_autostop_result_clear(&r);
	/* the session closed at 13:40: idle counts from there */
	in.ssh_open = 0;
	in.ssh_closed_ms = t0 + 40 * MIN;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	assert_int_equal(r.idle_since_ms, t0 + 40 * MIN);
	cost_autostop_result_clear(&r);
	in.ssh_closed_ms = 0;
	/* notebook: a busy kernel keeps it alive; a recent last_activity moves idle-since */
	in.notebook = 1;
	in.kernel_busy = 1;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	assert_string_equal(r.reason, "not idle: a notebook kernel is busy");
	cost_autostop_result_clear(&r);
	in.kernel_busy = 0;
	in.kernel_activity_ms = t0 + 20 * MIN;
	cost_autostop_decide(&a, &in, &r);
	assert_true(r.act);
	assert_int_equal(r.idle_since_ms, t0 + 20 * MIN);
	assert_non_null(strstr(r.reason, ", notebook kernels idle"));
	cost_autostop_result_clear(&r);
	in.kernel_activity_ms = t0 + 45 * MIN;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	cost_autostop_result_clear(&r);
	in.notebook = 0;
	/* a gap of 5 min in the samples (default max gap 3 min) breaks the idle run */
	s[20].at_ms = s[19].at_ms; /* keep order; make a gap after sample 20 instead */
	for (i = 21; i < 60; i++)
		s[i].at_ms += 4 * MIN;
	in.now_ms = s[59].at_ms + 30 * SEC;
	cost_autostop_decide(&a, &in, &r);
	assert_int_equal(r.idle_since_ms, s[21].at_ms);
	cost_autostop_result_clear(&r);
	/* the newest sample is busy, unknown, or too old */
	s[59].max_util_pct = 50;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	assert_int_equal(r.idle_since_ms, 0);
	assert_string_equal(r.reason, "not idle: GPU utilisation 50% (idle below 5%)");
	cost_autostop_result_clear(&r);
	s[59].max_util_pct = 1;
	s[59].ok = 0;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	assert_string_equal(r.reason, "not idle: GPU utilisation unknown");
	cost_autostop_result_clear(&r);
	s[59].ok = 1;
	in.now_ms = s[59].at_ms + 10 * MIN;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	assert_string_equal(r.reason, "not idle: no recent GPU sample (the last is 10m old)");
	cost_autostop_result_clear(&r);
	in.nsamples = 0;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	assert_string_equal(r.reason, "not idle: no GPU samples");
	cost_autostop_result_clear(&r);
	a.idle_minutes = 0;
	cost_autostop_decide(&a, &in, &r);
	assert_false(r.act);
	assert_string_equal(r.reason, "autostop is off");
	cost_autostop_result_clear(&r);
}

static void test_autostop_saving(void **state)
{
	const int64_t t0 = utc(2026, 11, 27, 8, 0, 0);

	(void)state;
	/* max_runtime 12 h, stopped after 4 h: 8 h saved */
	assert_float_equal(cost_autostop_saving(2.5, t0, 12 * HOUR, t0 + 4 * HOUR), 20, 1e-9);
	/* no max_runtime: one hour */
	assert_float_equal(cost_autostop_saving(2.5, t0, 0, t0 + 4 * HOUR), 2.5, 1e-9);
	/* already past max_runtime: nothing */
	assert_float_equal(cost_autostop_saving(2.5, t0, HOUR, t0 + 4 * HOUR), 0, 0);
	assert_float_equal(cost_autostop_saving(0, t0, HOUR, t0), 0, 0);
}

static struct cost_budget team_ml(void)
{
	struct cost_budget b = {.scope = COST_SCOPE_TEAM, .name = "ml", .monthly_usd = 1000};

	cost_budget_defaults(&b);
	return b;
}

static void test_budget_thresholds(void **state)
{
	struct cost_budget b = team_ml();
	struct cost_budget_result r;

	(void)state;
	assert_float_equal(b.soft_fraction, 0.8, 0);
	assert_float_equal(b.hard_fraction, 1.0, 0);
	assert_int_equal(b.on_hard, COST_HARD_REFUSE);
	/* just below soft, exactly soft, just below hard, exactly hard, above */
	cost_budget_check(&b, 799.99, 0, NULL, &r);
	assert_int_equal(r.verdict, COST_OK);
	assert_string_equal(r.reason, "team ml: $799.99 of $1000.00 this month (79%)");
	cost_budget_result_clear(&r);
	cost_budget_check(&b, 800, 0, NULL, &r);
	assert_int_equal(r.verdict, COST_SOFT);
	assert_string_equal(r.reason, "team ml: $800.00 of $1000.00 this month (80%); reaches the "
	                              "soft limit of $800.00");
	cost_budget_result_clear(&r);
	cost_budget_check(&b, 999.99, 0, NULL, &r);
	assert_int_equal(r.verdict, COST_SOFT);
	cost_budget_result_clear(&r);
	cost_budget_check(&b, 1000, 0, NULL, &r);
	assert_int_equal(r.verdict, COST_HARD);
	assert_float_equal(r.hours_to_hard, 0, 0);
	assert_string_equal(r.reason,
	                    "team ml: $1000.00 of $1000.00 this month (100%); reaches the "
	                    "hard limit of $1000.00");
	cost_budget_result_clear(&r);
	cost_budget_check(&b, 1500, 0, NULL, &r);
	assert_int_equal(r.verdict, COST_HARD);
	assert_float_equal(r.used_fraction, 1.5, 1e-12);
	cost_budget_result_clear(&r);
	/* other fractions: soft 0.5, hard 0.9 of $300 */
	b.monthly_usd = 300;
	b.soft_fraction = 0.5;
	b.hard_fraction = 0.9;
	cost_budget_check(&b, 149.99, 0, NULL, &r);
	assert_int_equal(r.verdict, COST_OK);
	cost_budget_result_clear(&r);
	cost_budget_check(&b, 150, 0, NULL, &r);
	assert_int_equal(r.verdict, COST_SOFT);
	cost_budget_result_clear(&r);
	cost_budget_check(&b, 270, 0, NULL, &r);
	assert_int_equal(r.verdict, COST_HARD);
	cost_budget_result_clear(&r);
}

static void test_budget_launch(void **state)
{
	struct cost_budget b = team_ml();
	struct cost_launch l = {
	    .priced = 1, .usd_per_hour = 26, .runtime_ms = 2 * HOUR, .what = "H100x8"};
	struct cost_budget_result r;

	(void)state;
	/* the example of the design: already past soft, the launch keeps it under hard */
	cost_budget_check(&b, 812.40, 41.2, &l, &r);
	assert_int_equal(r.verdict, COST_SOFT);
	assert_float_equal(r.launch_usd, 52, 1e-9);
	assert_float_equal(r.projected, 864.40, 1e-9);
	assert_string_equal(r.reason, "team ml: $812.40 of $1000.00 this month (81%); this launch "
	                              "adds up to $52.00 (H100x8 for 2h at $26.00/h); reaches the "
	                              "soft limit of $800.00");
	assert_float_equal(r.hours_to_hard, (1000 - 812.40) / 41.2, 1e-9);
	cost_budget_result_clear(&r);
	/* under soft before and after: OK, no suffix */
	cost_budget_check(&b, 700, 0, &l, &r);
	assert_int_equal(r.verdict, COST_OK);
	assert_string_equal(r.reason, "team ml: $700.00 of $1000.00 this month (70%); this launch "
	                              "adds up to $52.00 (H100x8 for 2h at $26.00/h)");
	assert_float_equal(r.hours_to_hard, -1, 0); /* no burn: never */
	cost_budget_result_clear(&r);
	/* the launch pushes it to soft exactly, and just below */
	cost_budget_check(&b, 748, 0, &l, &r);
	assert_int_equal(r.verdict, COST_SOFT);
	cost_budget_result_clear(&r);
	cost_budget_check(&b, 747.99, 0, &l, &r);
	assert_int_equal(r.verdict, COST_OK);
	cost_budget_result_clear(&r);
	/* the launch reaches hard exactly: refused; just below: soft */
	cost_budget_check(&b, 948, 0, &l, &r);
	assert_int_equal(r.verdict, COST_HARD);
	assert_string_equal(r.reason, "team ml: $948.00 of $1000.00 this month (94%); this launch "
	                              "adds up to $52.00 (H100x8 for 2h at $26.00/h); reaches the "
	                              "hard limit of $1000.00");
	cost_budget_result_clear(&r);
	cost_budget_check(&b, 947.99, 0, &l, &r);
	assert_int_equal(r.verdict, COST_SOFT);
	cost_budget_result_clear(&r);
	/* no max_runtime: one hour counted, and said so */
	l.runtime_ms = 0;
	cost_budget_check(&b, 100, 0, &l, &r);
	assert_float_equal(r.launch_usd, 26, 1e-9);
	assert_string_equal(r.reason,
	                    "team ml: $100.00 of $1000.00 this month (10%); this launch "
	                    "adds up to $26.00 (H100x8 for 1h at $26.00/h, no max_runtime: "
	                    "1h counted)");
	cost_budget_result_clear(&r);
	/* 90 minutes */
	l.runtime_ms = 90 * MIN;
	l.what = NULL;
	cost_budget_check(&b, 100, 0, &l, &r);
	assert_non_null(strstr(r.reason, "adds up to $39.00 (for 1h30m at $26.00/h)"));
	cost_budget_result_clear(&r);
	/* an unpriced launch adds nothing countable, and the reason says so */
	l.priced = 0;
	l.what = "MI300Xx8";
	cost_budget_check(&b, 100, 0, &l, &r);
	assert_int_equal(r.verdict, COST_OK);
	assert_float_equal(r.launch_usd, 0, 0);
	assert_string_equal(r.reason,
	                    "team ml: $100.00 of $1000.00 this month (10%); this launch of "
	                    "MI300Xx8 is unpriced (its cost cannot be counted)");
	cost_budget_result_clear(&r);
	/* user and project scopes, a zero budget */
	b.scope = COST_SCOPE_USER;
	b.name = "alice";
	b.monthly_usd = 0;
	cost_budget_check(&b, 0, 0, NULL, &r);
	assert_int_equal(r.verdict, COST_HARD);
	assert_string_equal(r.reason, "user alice: $0.00 of $0.00 this month; reaches the hard "
	                              "limit of $0.00");
	cost_budget_result_clear(&r);
	assert_string_equal(cost_scope_name(COST_SCOPE_PROJECT), "project");
}

static void test_budget_stop(void **state)
{
	struct cost_budget b = team_ml();
	const int64_t t = utc(2026, 11, 27, 10, 0, 0);

	(void)state;
	assert_false(cost_budget_stop_due(&b, t, t + 3600 * SEC)); /* refuse only */
	b.on_hard = COST_HARD_STOP;
	b.grace_s = 600;
	assert_false(cost_budget_stop_due(&b, 0, t));
	assert_false(cost_budget_stop_due(&b, t, t + 599 * SEC));
	assert_true(cost_budget_stop_due(&b, t, t + 600 * SEC));
}

static void test_budget_outlook(void **state)
{
	struct cost_budget b = team_ml(); /* $1000, hard at 1.0 */
	const int64_t t = utc(2026, 11, 27, 10, 0, 0);
	char buf[160];

	(void)state;
	/* no burn: the forecast is what is spent */
	assert_int_equal(cost_budget_outlook(&b, 300, 0, t, 0, buf, sizeof buf), 0);
	assert_string_equal(buf, "forecast $300.00 by month end");
	/* 86 h left in November: 300 + 5 x 86 = 730, under the limit */
	assert_int_equal(cost_budget_outlook(&b, 300, 5, t, 0, buf, sizeof buf), 0);
	assert_string_equal(buf, "forecast $730.00 by month end");
	/* 300 + 10 x 86 = 1160: the limit is reached after 70 h, on the 30th at 08:00 */
	assert_int_equal(cost_budget_outlook(&b, 300, 10, t, 0, buf, sizeof buf), 1);
	assert_string_equal(buf, "forecast $1160.00 by month end; reaches the hard limit of "
	                         "$1000.00 around 2026-11-30 08:00 UTC");
	/* a minute's fraction rounds up: 699 / 9 h = 77 h 40 min */
	assert_int_equal(cost_budget_outlook(&b, 301, 9, t, 0, buf, sizeof buf), 1);
	assert_non_null(strstr(buf, "around 2026-11-30 15:40 UTC"));
	/* already over */
	assert_int_equal(cost_budget_outlook(&b, 1000, 0, t, 0, buf, sizeof buf), 1);
	assert_string_equal(buf, "forecast $1000.00 by month end; over the hard limit of $1000.00");
	/* the short forms */
	assert_int_equal(cost_budget_outlook(&b, 1000, 0, t, 1, buf, sizeof buf), 1);
	assert_string_equal(buf, "over $1000.00");
	assert_int_equal(cost_budget_outlook(&b, 300, 10, t, 1, buf, sizeof buf), 1);
	assert_string_equal(buf, "reaches $1000.00 ~11-30 08:00");
	assert_int_equal(cost_budget_outlook(&b, 300, 5, t, 1, buf, sizeof buf), 0);
	assert_string_equal(buf, "forecast $730.00");
	/* a lower hard fraction moves the limit */
	b.hard_fraction = 0.5;
	assert_int_equal(cost_budget_outlook(&b, 300, 5, t, 0, buf, sizeof buf), 1);
	assert_non_null(strstr(buf, "hard limit of $500.00 around 2026-11-29 02:00 UTC"));
}

static void test_formatting(void **state)
{
	char buf[32];

	(void)state;
	cost_money(812.4, buf);
	assert_string_equal(buf, "$812.40");
	cost_money(0.004, buf);
	assert_string_equal(buf, "$0.00");
	cost_money(-0.001, buf);
	assert_string_equal(buf, "$0.00");
	cost_money(-2, buf);
	assert_string_equal(buf, "-$2.00");
	cost_money(12345.678, buf);
	assert_string_equal(buf, "$12345.68");
	cost_duration(2 * HOUR, buf);
	assert_string_equal(buf, "2h");
	cost_duration(90 * MIN + 59 * SEC, buf);
	assert_string_equal(buf, "1h30m");
	cost_duration(45 * MIN, buf);
	assert_string_equal(buf, "45m");
	cost_duration(150 * SEC, buf);
	assert_string_equal(buf, "2m30s");
	cost_duration(30 * SEC + 999, buf);
	assert_string_equal(buf, "30s");
	cost_duration(-5, buf);
	assert_string_equal(buf, "0s");
}

/* ---- FOCUS: write, then parse back ---- */

struct csv {
	char **f; /* rows x cols, row-major */
	size_t rows, cols;
};

/* Parses RFC 4180 text where every record has the same number of fields as the first. */
static void csv_parse(const char *s, struct csv *c)
{
	char **f = NULL, *field = NULL;
	size_t nf = 0, cap = 0, len = 0, fcap = 0, row_fields = 0;
	int quoted, at_end;

	memset(c, 0, sizeof *c);
	while (*s != '\0') {
		len = 0;
		quoted = *s == '"';
		if (quoted)
			s++;
		for (;;) {
			if (fcap < len + 2) {
				fcap = fcap ? fcap * 2 : 64;
				field = xrealloc(field, fcap);
			}
			if (quoted) {
				assert_true(*s != '\0'); /* unterminated */
				if (*s == '"' && s[1] == '"') {
					field[len++] = '"';
					s += 2;
					continue;
				}
				if (*s == '"') {
					s++;
					assert_true(*s == ',' || *s == '\n');
					break;
				}
			} else if (*s == ',' || *s == '\n') {
				break;
			} else {
				assert_true(*s != '"' && *s != '\0');
			}
			field[len++] = *s++;
		}
		field[len] = '\0';
		if (nf == cap) {
			cap = cap ? cap * 2 : 64;
			f = xreallocarray(f, cap, sizeof *f);
		}
		f[nf++] = xstrdup(field);
		row_fields++;
		at_end = *s == '\n';
		s++;
		if (at_end) {
			if (c->cols == 0)
				c->cols = row_fields;
			assert_int_equal(row_fields, c->cols);
			row_fields = 0;
			c->rows++;
		}
	}
	assert_int_equal(row_fields, 0); /* the file ends with a newline */
	free(field);
	c->f = f;
}

static const char *csv_get(const struct csv *c, size_t row, const char *col)
{
	size_t i;

	for (i = 0; i < c->cols; i++) {
		if (strcmp(c->f[i], col) == 0)
			return c->f[row * c->cols + i];
	}
	fail_msg("no column %s", col);
	return NULL;
}

static void csv_free(struct csv *c)
{
	size_t i;

	for (i = 0; i < c->rows * c->cols; i++)
		free(c->f[i]);
	free(c->f);
}

static char *focus_text(const struct cost_job *j, size_t n, int64_t from, int64_t to, int64_t now,
                        size_t *nrows, size_t *nunpriced)
{
	char *text = NULL, *cause = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(cost_focus_write(f, j, n, from, to, now, nrows, nunpriced, &cause), 0);
	assert_null(cause);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_focus_header(void **state)
{
	static const char *const cols[] = {
	    "BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd",
	    "BillingCurrency",    "BilledCost",       "EffectiveCost",     "ListCost",
	    "ListUnitPrice",      "PricingQuantity",  "PricingUnit",       "ChargeCategory",
	    "ChargeDescription",  "ResourceId",       "ResourceName",      "ResourceType",
	    "ServiceName",        "ServiceCategory",  "ProviderName",      "PublisherName",
	    "InvoiceIssuerName",  "RegionId",         "RegionName",        "Tags",
	    "x_IdleCost",         "x_Stale",
	};
	struct csv c;
	size_t i, nrows = 9, nunpriced = 9;
	char *text = focus_text(NULL, 0, 0, NOW, NOW, &nrows, &nunpriced);

	(void)state;
	assert_int_equal(nrows, 0);
	assert_int_equal(nunpriced, 0);
	csv_parse(text, &c);
	assert_int_equal(c.rows, 1);
	assert_int_equal(c.cols, sizeof cols / sizeof cols[0]);
	for (i = 0; i < c.cols; i++)
		assert_string_equal(c.f[i], cols[i]);
	csv_free(&c);
	free(text);
}

static void test_focus_rows(void **state)
{
	const int64_t oct30 = utc(2026, 10, 30, 20, 0, 0), nov2 = utc(2026, 11, 2, 2, 0, 0);
	const int64_t now = utc(2026, 11, 20, 12, 0, 0);
	/* ran Oct 30 20:00 .. Nov 2 02:00 (54 h) at $24/h; idle Oct 31 00:00-02:00 */
	const struct cost_interval held[] = {{oct30, nov2}};
	const struct cost_interval idle[] = {
	    {utc(2026, 10, 31, 0, 0, 0), utc(2026, 10, 31, 2, 0, 0)}};
	const struct cost_interval held2[] = {{utc(2026, 11, 20, 11, 0, 0) + 500, COST_OPEN}};
	struct cost_job j[3];
	struct csv c;
	size_t nrows, nunpriced;
	char *text;

	(void)state;
	j[0] = job(held, 1, 24, per_sec);
	j[0].id = "j-0001";
	j[0].name = "llama, \"ft\" 7";
	j[0].kind = "training";
	j[0].resource = "H100x8";
	j[0].provider = "lambda";
	j[0].region = "us-east-1";
	j[0].user = "alice";
	j[0].team = "ml";
	j[0].project = "llm";
	j[0].template_name = "llama-finetune-h100x8";
	j[0].idle = idle;
	j[0].nidle = 1;
	j[1] = j[0];
	j[1].id = "j-0002";
	j[1].priced = 0; /* unpriced: left out, counted */
	j[2] = job(held2, 1, 2.5, per_hour);
	j[2].id = "j-0003";
	j[2].name = "nb";
	j[2].provider = "slurm";
	j[2].stale = 1;
	j[2].user = "bob";
	text = focus_text(j, 3, utc(2026, 10, 1, 0, 0, 0), COST_OPEN, now, &nrows, &nunpriced);
	assert_int_equal(nrows, 3);
	assert_int_equal(nunpriced, 1);
	csv_parse(text, &c);
	assert_int_equal(c.rows, 4);
	/* row 1: October part of j-0001: 28 h */
	assert_string_equal(csv_get(&c, 1, "ResourceId"), "j-0001");
	assert_string_equal(csv_get(&c, 1, "ResourceName"), "llama, \"ft\" 7");
	assert_string_equal(csv_get(&c, 1, "BillingPeriodStart"), "2026-10-01T00:00:00Z");
	assert_string_equal(csv_get(&c, 1, "BillingPeriodEnd"), "2026-11-01T00:00:00Z");
	assert_string_equal(csv_get(&c, 1, "ChargePeriodStart"), "2026-10-30T20:00:00Z");
	assert_string_equal(csv_get(&c, 1, "ChargePeriodEnd"), "2026-11-01T00:00:00Z");
	assert_string_equal(csv_get(&c, 1, "BillingCurrency"), "USD");
	assert_string_equal(csv_get(&c, 1, "BilledCost"), "672.000000");
	assert_string_equal(csv_get(&c, 1, "EffectiveCost"), "672.000000");
	assert_string_equal(csv_get(&c, 1, "ListCost"), "672.000000");
	assert_string_equal(csv_get(&c, 1, "ListUnitPrice"), "24.000000");
	assert_string_equal(csv_get(&c, 1, "PricingQuantity"), "28.000000");
	assert_string_equal(csv_get(&c, 1, "PricingUnit"), "Hours");
	assert_string_equal(csv_get(&c, 1, "ChargeCategory"), "Usage");
	assert_string_equal(csv_get(&c, 1, "ChargeDescription"),
	                    "training llama, \"ft\" 7: H100x8 on lambda");
	assert_string_equal(csv_get(&c, 1, "ResourceType"), "training");
	assert_string_equal(csv_get(&c, 1, "ServiceName"), "Gantry lambda");
	assert_string_equal(csv_get(&c, 1, "ServiceCategory"), "AI and Machine Learning");
	assert_string_equal(csv_get(&c, 1, "ProviderName"), "lambda");
	assert_string_equal(csv_get(&c, 1, "PublisherName"), "lambda");
	assert_string_equal(csv_get(&c, 1, "InvoiceIssuerName"), "lambda");
	assert_string_equal(csv_get(&c, 1, "RegionId"), "us-east-1");
	assert_string_equal(csv_get(&c, 1, "RegionName"), "us-east-1");
	assert_string_equal(csv_get(&c, 1, "Tags"), "{\"user\":\"alice\",\"team\":\"ml\","
	                                            "\"project\":\"llm\",\"template\":"
	                                            "\"llama-finetune-h100x8\"}");
	assert_string_equal(csv_get(&c, 1, "x_IdleCost"), "48.000000");
	assert_string_equal(csv_get(&c, 1, "x_Stale"), "false");
	/* row 2: November part: 26 h, no idle */
	assert_string_equal(csv_get(&c, 2, "ResourceId"), "j-0001");
	assert_string_equal(csv_get(&c, 2, "BillingPeriodStart"), "2026-11-01T00:00:00Z");
	assert_string_equal(csv_get(&c, 2, "BillingPeriodEnd"), "2026-12-01T00:00:00Z");
	assert_string_equal(csv_get(&c, 2, "ChargePeriodStart"), "2026-11-01T00:00:00Z");
	assert_string_equal(csv_get(&c, 2, "ChargePeriodEnd"), "2026-11-02T02:00:00Z");
	assert_string_equal(csv_get(&c, 2, "BilledCost"), "624.000000");
	assert_string_equal(csv_get(&c, 2, "PricingQuantity"), "26.000000");
	assert_string_equal(csv_get(&c, 2, "x_IdleCost"), "0.000000");
	/* row 3: the stale job, open, billed per hour: 1 h charged for 59m59.5s so far; the charge
	 * period ends at now, its start keeps whole seconds */
	assert_string_equal(csv_get(&c, 3, "ResourceId"), "j-0003");
	assert_string_equal(csv_get(&c, 3, "ChargePeriodStart"), "2026-11-20T11:00:00Z");
	assert_string_equal(csv_get(&c, 3, "ChargePeriodEnd"), "2026-11-20T12:00:00Z");
	assert_string_equal(csv_get(&c, 3, "BilledCost"), "2.500000");
	assert_string_equal(csv_get(&c, 3, "PricingQuantity"), "1.000000");
	assert_string_equal(csv_get(&c, 3, "x_Stale"), "true");
	assert_string_equal(csv_get(&c, 3, "Tags"), "{\"user\":\"bob\"}");
	assert_string_equal(csv_get(&c, 3, "RegionId"), "");
	assert_string_equal(csv_get(&c, 3, "ResourceType"), "job");
	csv_free(&c);
	free(text);

	/* only November, and the charge period stays inside the export window */
	text = focus_text(j, 3, utc(2026, 11, 1, 12, 0, 0), utc(2026, 11, 2, 0, 0, 0), now, &nrows,
	                  &nunpriced);
	csv_parse(text, &c);
	assert_int_equal(nrows, 1);
	assert_int_equal(nunpriced, 1);
	assert_string_equal(csv_get(&c, 1, "ChargePeriodStart"), "2026-11-01T12:00:00Z");
	assert_string_equal(csv_get(&c, 1, "ChargePeriodEnd"), "2026-11-02T00:00:00Z");
	assert_string_equal(csv_get(&c, 1, "BilledCost"), "288.000000");
	csv_free(&c);
	free(text);

	/* a window where nobody ran: header only, and the unpriced job is not counted */
	text = focus_text(j, 3, utc(2026, 9, 1, 0, 0, 0), utc(2026, 10, 1, 0, 0, 0), now, &nrows,
	                  &nunpriced);
	assert_int_equal(nrows, 0);
	assert_int_equal(nunpriced, 0);
	free(text);
}

static void test_focus_json_escapes(void **state)
{
	const struct cost_interval held[] = {{NOW - HOUR, NOW}};
	struct cost_job j = job(held, 1, 1, per_sec);
	struct csv c;
	size_t nrows;
	char *text;

	(void)state;
	j.user = "a\"b\\c";
	j.team = "t\x01";
	text = focus_text(&j, 1, 0, COST_OPEN, NOW, &nrows, NULL);
	csv_parse(text, &c);
	assert_string_equal(csv_get(&c, 1, "Tags"),
	                    "{\"user\":\"a\\\"b\\\\c\",\"team\":\"t\\u0001\"}");
	csv_free(&c);
	free(text);
}

static void test_focus_write_error(void **state)
{
	const struct cost_interval held[] = {{NOW - HOUR, NOW}};
	struct cost_job j = job(held, 1, 1, per_sec);
	char *cause = NULL;
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	assert_non_null(f);
	assert_int_equal(cost_focus_write(f, &j, 1, 0, COST_OPEN, NOW, NULL, NULL, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "writing the FOCUS file: "));
	free(cause);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_unit_parse),
	    cmocka_unit_test(test_granularity),
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_merge_many),
	    cmocka_unit_test(test_no_double_billing),
	    cmocka_unit_test(test_clock_backwards),
	    cmocka_unit_test(test_open_interval),
	    cmocka_unit_test(test_months),
	    cmocka_unit_test(test_split_across_months),
	    cmocka_unit_test(test_forecast),
	    cmocka_unit_test(test_summary),
	    cmocka_unit_test(test_breakdowns),
	    cmocka_unit_test(test_view_and_top_idle),
	    cmocka_unit_test(test_idle_intervals),
	    cmocka_unit_test(test_sample_make),
	    cmocka_unit_test(test_idle_cost),
	    cmocka_unit_test(test_autostop),
	    cmocka_unit_test(test_autostop_saving),
	    cmocka_unit_test(test_budget_thresholds),
	    cmocka_unit_test(test_budget_launch),
	    cmocka_unit_test(test_budget_stop),
	    cmocka_unit_test(test_budget_outlook),
	    cmocka_unit_test(test_formatting),
	    cmocka_unit_test(test_focus_header),
	    cmocka_unit_test(test_focus_rows),
	    cmocka_unit_test(test_focus_json_escapes),
	    cmocka_unit_test(test_focus_write_error),
	    cmocka_unit_test(test_forecast_max_runtime),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
