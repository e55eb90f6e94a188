/* cost.c: intervals, accrual at a billing granularity, UTC months, and money/time formatting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/cost.h"
#include "core/cost_internal.h"
#include "core/xmalloc.h"

int cost_unit_parse(const char *s, int64_t *unit_ms)
{
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {
	    {"ms", 1},        {"exact", 1},         {"s", 1000},           {"sec", 1000},
	    {"second", 1000}, {"per-second", 1000}, {"per_second", 1000},  {"m", 60000},
	    {"min", 60000},   {"minute", 60000},    {"per-minute", 60000}, {"per_minute", 60000},
	    {"h", 3600000},   {"hour", 3600000},    {"per-hour", 3600000}, {"per_hour", 3600000},
	};
	size_t i, n;
	long long v;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(s, units[i].name) == 0) {
			*unit_ms = units[i].ms;
			return 0;
		}
	}
	n = strspn(s, "0123456789");
	if (n == 0 || n > 7 || strcmp(s + n, "s") != 0)
		return -1;
	v = atoll(s);
	if (v <= 0)
		return -1;
	*unit_ms = v * 1000;
	return 0;
}

static int cost_interval_cmp(const void *pa, const void *pb)
{
	const struct cost_interval *a = pa, *b = pb;

	if (a->start_ms != b->start_ms)
		return (a->start_ms > b->start_ms) - (a->start_ms < b->start_ms);
	return (a->end_ms > b->end_ms) - (a->end_ms < b->end_ms);
}

size_t cost_intervals_merge(const struct cost_interval *in, size_t n, struct cost_interval *out)
{
	size_t i, k = 0, m;
	struct cost_interval t;

	for (i = 0; i < n; i++) {
		if (in[i].end_ms >= in[i].start_ms)
			out[k++] = in[i];
	}
	if (k < 2)
		return k;
	if (k <= 8) {
		for (i = 1; i < k; i++) { /* insertion sort: jobs have a handful of intervals */
			t = out[i];
			for (m = i; m > 0 && cost_interval_cmp(&out[m - 1], &t) > 0; m--)
				out[m] = out[m - 1];
			out[m] = t;
		}
	} else {
		qsort(out, k, sizeof *out, cost_interval_cmp);
	}
	for (i = 1, m = 0; i < k; i++) {
		if (out[i].start_ms <= out[m].end_ms) {
			if (out[i].end_ms > out[m].end_ms)
				out[m].end_ms = out[i].end_ms;
		} else {
			out[++m] = out[i];
		}
	}
	return m + 1;
}

int64_t cost_billed_ms(const struct cost_interval *m, size_t n, const struct cost_billing *b,
                       int64_t t)
{
	int64_t total = 0, d, unit = b ? b->unit_ms : 1, min = b ? b->min_ms : 0;
	size_t i;

	for (i = 0; i < n && m[i].start_ms < t; i++) {
		d = (m[i].end_ms < t ? m[i].end_ms : t) - m[i].start_ms;
		if (d <= 0)
			continue;
		if (unit > 1)
			d = (d / unit + (d % unit != 0)) * unit;
		if (d < min)
			d = min;
		total += d;
	}
	return total;
}

/* ---- per job ---- */

void cost_merged_init(struct cost_merged *mg, const struct cost_interval *iv, size_t n)
{
	mg->heap = NULL;
	mg->iv = mg->stack;
	if (n > sizeof mg->stack / sizeof mg->stack[0])
		mg->iv = mg->heap = xreallocarray(NULL, n, sizeof *mg->heap);
	mg->n = iv != NULL ? cost_intervals_merge(iv, n, mg->iv) : 0;
}

void cost_merged_clear(struct cost_merged *mg)
{
	free(mg->heap);
	mg->heap = NULL;
}

static int64_t cost_min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t cost_max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

int64_t cost_overlap_ms(const struct cost_interval *m, size_t n, int64_t from, int64_t to)
{
	int64_t total = 0, s, e;
	size_t i;

	for (i = 0; i < n && m[i].start_ms < to; i++) {
		s = cost_max64(m[i].start_ms, from);
		e = cost_min64(m[i].end_ms, to);
		if (e > s)
			total += e - s;
	}
	return total;
}

int64_t cost_intersect_ms(const struct cost_interval *a, size_t na, const struct cost_interval *b,
                          size_t nb, int64_t from, int64_t to)
{
	int64_t total = 0, s, e;
	size_t i = 0, k = 0;

	while (i < na && k < nb) {
		s = cost_max64(cost_max64(a[i].start_ms, b[k].start_ms), from);
		e = cost_min64(cost_min64(a[i].end_ms, b[k].end_ms), to);
		if (e > s)
			total += e - s;
		if (a[i].end_ms < b[k].end_ms)
			i++;
		else
			k++;
	}
	return total;
}

int cost_holding_at(const struct cost_interval *m, size_t n, int64_t now)
{
	size_t i;

	for (i = 0; i < n && m[i].start_ms <= now; i++) {
		if (now < m[i].end_ms)
			return 1;
	}
	return 0;
}

double cost_usd(double usd_per_hour, int64_t ms)
{
	return usd_per_hour * (double)ms / (double)COST_MS_PER_HOUR;
}

void cost_job_figures(const struct cost_job *j, int64_t from, int64_t now, struct cost_fig *f)
{
	struct cost_merged held, idle;
	int64_t c_now, c_from;

	memset(f, 0, sizeof *f);
	cost_merged_init(&held, j->held, j->nheld);
	if (from > now)
		from = now;
	f->holding = cost_holding_at(held.iv, held.n, now);
	f->held_ms = cost_overlap_ms(held.iv, held.n, from, now);
	if (j->priced) {
		c_now = cost_billed_ms(held.iv, held.n, &j->billing, now);
		c_from = cost_billed_ms(held.iv, held.n, &j->billing, from);
		f->to_date = cost_usd(j->usd_per_hour, c_now);
		f->window = cost_usd(j->usd_per_hour, c_now - c_from);
		f->burn = f->holding ? j->usd_per_hour : 0;
	}
	if (j->nidle > 0 && j->idle != NULL) {
		cost_merged_init(&idle, j->idle, j->nidle);
		f->idle_ms = cost_intersect_ms(held.iv, held.n, idle.iv, idle.n, from, now);
		if (j->priced)
			f->idle = cost_usd(j->usd_per_hour, f->idle_ms);
		cost_merged_clear(&idle);
	}
	cost_merged_clear(&held);
}

double cost_job_to_date(const struct cost_job *j, int64_t now)
{
	struct cost_merged held;
	int64_t ms;

	if (!j->priced)
		return 0;
	cost_merged_init(&held, j->held, j->nheld);
	ms = cost_billed_ms(held.iv, held.n, &j->billing, now);
	cost_merged_clear(&held);
	return cost_usd(j->usd_per_hour, ms);
}

double cost_job_between(const struct cost_job *j, int64_t from, int64_t to, int64_t now)
{
	struct cost_merged held;
	int64_t ms;

	if (!j->priced)
		return 0;
	to = cost_min64(to, now);
	from = cost_min64(from, now);
	if (from >= to)
		return 0;
	cost_merged_init(&held, j->held, j->nheld);
	ms = cost_billed_ms(held.iv, held.n, &j->billing, to) -
	     cost_billed_ms(held.iv, held.n, &j->billing, from);
	cost_merged_clear(&held);
	return cost_usd(j->usd_per_hour, ms);
}

int cost_job_holding(const struct cost_job *j, int64_t now)
{
	struct cost_merged held;
	int r;

	cost_merged_init(&held, j->held, j->nheld);
	r = cost_holding_at(held.iv, held.n, now);
	cost_merged_clear(&held);
	return r;
}

int64_t cost_job_held_ms(const struct cost_job *j, int64_t from, int64_t to, int64_t now)
{
	struct cost_merged held;
	int64_t ms;

	to = cost_min64(to, now);
	if (from >= to)
		return 0;
	cost_merged_init(&held, j->held, j->nheld);
	ms = cost_overlap_ms(held.iv, held.n, from, to);
	cost_merged_clear(&held);
	return ms;
}

double cost_job_idle_between(const struct cost_job *j, int64_t from, int64_t to, int64_t now)
{
	struct cost_merged held, idle;
	int64_t ms;

	to = cost_min64(to, now);
	if (!j->priced || from >= to || j->idle == NULL || j->nidle == 0)
		return 0;
	cost_merged_init(&held, j->held, j->nheld);
	cost_merged_init(&idle, j->idle, j->nidle);
	ms = cost_intersect_ms(held.iv, held.n, idle.iv, idle.n, from, to);
	cost_merged_clear(&idle);
	cost_merged_clear(&held);
	return cost_usd(j->usd_per_hour, ms);
}

/* ---- UTC months ---- */

/* Splits t (ms) into whole seconds (rounded down, also before 1970) for gmtime_r. */
static time_t cost_seconds(int64_t t)
{
	int64_t s = t / 1000;

	if (t % 1000 < 0)
		s--;
	return (time_t)s;
}

static int64_t cost_month_at(int64_t t, int add)
{
	time_t secs = cost_seconds(t);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL)
		return t;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mon += add; /* timegm normalises month 12 into January of the next year */
	tm.tm_isdst = 0;
	return (int64_t)timegm(&tm) * 1000;
}

int64_t cost_month_start(int64_t t)
{
	return cost_month_at(t, 0);
}

int64_t cost_month_end(int64_t t)
{
	return cost_month_at(t, 1);
}

void cost_iso8601(int64_t t, char buf[32])
{
	time_t secs = cost_seconds(t);
	struct tm tm;

	if (gmtime_r(&secs, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "?");
}

void cost_money(double usd, char buf[32])
{
	if (usd <= -0.005)
		snprintf(buf, 32, "-$%.2f", -usd);
	else
		snprintf(buf, 32, "$%.2f", usd > 0 ? usd : 0.0);
}

void cost_duration(int64_t ms, char buf[32])
{
	long long s = ms > 0 ? (long long)(ms / 1000) : 0;

	if (s >= 3600 && (s % 3600) / 60 != 0)
		snprintf(buf, 32, "%lldh%lldm", s / 3600, (s % 3600) / 60);
	else if (s >= 3600)
		snprintf(buf, 32, "%lldh", s / 3600);
	else if (s >= 60 && s % 60 != 0)
		snprintf(buf, 32, "%lldm%llds", s / 60, s % 60);
	else if (s >= 60)
		snprintf(buf, 32, "%lldm", s / 60);
	else
		snprintf(buf, 32, "%llds", s);
}

double cost_job_forecast_rest(const struct cost_job *j, int64_t now)
{
	int64_t end = cost_month_end(now);

	if (!j->priced || !(j->usd_per_hour > 0) || !cost_job_holding(j, now))
		return 0;
	if (j->stop_by_ms > 0 && j->stop_by_ms < end)
		end = j->stop_by_ms;
	return end > now ? cost_usd(j->usd_per_hour, end - now) : 0;
}

double cost_forecast(double month_to_date, double burn_usd_per_hour, int64_t now)
{
	int64_t left = cost_month_end(now) - now;

	if (left < 0 || !(burn_usd_per_hour > 0))
		return month_to_date;
	return month_to_date + cost_usd(burn_usd_per_hour, left);
}
