/* cost_bench.c: how long the Cost view's full recomputation takes over 100,000 jobs of history
 * (burn, month to date, forecast, the four breakdowns, the top 10 idle wasters:
 * cost_view_compute), next to a reference measured in the same run: sqlite3's shell computing
 * the same totals over the same rows, held in an in-memory table, with one GROUP BY query.
 * Both are CPU time, median of 10 runs; for sqlite3 only the query is timed (its `.timer`), not
 * the `.import`. The two results are compared, and the bench fails if they differ.
 * usage: cost_bench [JOBS]   (needs `sqlite3` on PATH; prints one markdown table row) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cost.h"
#include "core/xmalloc.h"

#define RUNS     10
#define HOUR_MS  3600000LL
#define DAY_MS   (24 * HOUR_MS)
#define NOW_MS   1795176000000LL /* 2026-11-20T12:00:00Z */
#define MAX_JOBS 10000000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13; /* xorshift64 */
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int64_t rng_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng() % (uint64_t)(hi - lo));
}

struct history {
	struct cost_job *jobs;
	struct cost_interval *iv; /* 3 held + 1 idle per job */
	char **names;             /* the group names */
	size_t n;
};

static const char *const providers[] = {"lambda", "aws", "gcp", "runpod", "slurm", "local"};

static void history_make(struct history *h, size_t n)
{
	static const int64_t units[] = {1000, 60000, 3600000};
	size_t i, k, nint, nnames = 200 + 20 + 30;
	int64_t t, len, start = NOW_MS - 90 * DAY_MS;
	struct cost_interval tmp[3];

	h->n = n;
	h->jobs = xcalloc(n, sizeof *h->jobs);
	h->iv = xcalloc(n * 4, sizeof *h->iv);
	h->names = xcalloc(nnames, sizeof *h->names);
	for (i = 0; i < 200; i++)
		h->names[i] = xprintf("user%03zu", i);
	for (i = 0; i < 20; i++)
		h->names[200 + i] = xprintf("team%02zu", i);
	for (i = 0; i < 30; i++)
		h->names[220 + i] = xprintf("template-%02zu", i);
	for (i = 0; i < n; i++) {
		struct cost_job *j = &h->jobs[i];
		struct cost_interval *iv = &h->iv[i * 4];

		j->user = h->names[rng() % 200];
		j->team = h->names[200 + rng() % 20];
		j->template_name = h->names[220 + rng() % 30];
		j->provider = providers[rng() % 6];
		j->priced = rng() % 10 != 0; /* 10% unpriced */
		j->usd_per_hour = (double)rng_range(20, 6000) / 100;
		j->billing.unit_ms = units[rng() % 3];
		j->billing.min_ms = rng() % 4 == 0 ? 60000 : 0;
		j->stale = rng() % 50 == 0;
		/* 1-3 intervals, one after another with pauses, from a random point in 90 days */
		nint = 1 + rng() % 3;
		t = rng_range(start, NOW_MS - HOUR_MS);
		for (k = 0; k < nint; k++) {
			len = rng_range(60000, 3 * DAY_MS);
			tmp[k].start_ms = t;
			tmp[k].end_ms = t + len;
			t += len + rng_range(60000, DAY_MS);
			if (t >= NOW_MS) /* history ends now */
				nint = k + 1;
		}
		for (k = 0; k < nint; k++)
			iv[k] = tmp[nint - 1 - k]; /* latest first: the engine has to sort them */
		if (rng() % 30 == 0 || iv[0].end_ms > NOW_MS) /* still running */
			iv[0].end_ms = COST_OPEN;
		j->held = iv;
		j->nheld = nint;
		if (rng() % 10 < 3) { /* idle for a while inside its latest interval */
			iv[3].start_ms = iv[0].start_ms + (rng() % 2) * HOUR_MS;
			iv[3].end_ms = iv[3].start_ms + rng_range(60000, DAY_MS);
			if (iv[0].end_ms != COST_OPEN && iv[3].end_ms > iv[0].end_ms)
				iv[3].end_ms = iv[0].end_ms;
			if (iv[3].end_ms > iv[3].start_ms) {
				j->idle = &iv[3];
				j->nidle = 1;
			}
		}
	}
}

static void history_free(struct history *h)
{
	size_t i;

	for (i = 0; i < 250; i++)
		free(h->names[i]);
	free(h->names);
	free(h->jobs);
	free(h->iv);
}

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;

	return (a > b) - (a < b);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One CSV row per interval: job,usr,team,tpl,prov,priced,rate,unit,mn,kind,start,end. */
static void write_csv(const struct history *h, const char *path)
{
	FILE *f = fopen(path, "w");
	size_t i, k;

	if (f == NULL) {
		perror(path);
		exit(1);
	}
	for (i = 0; i < h->n; i++) {
		const struct cost_job *j = &h->jobs[i];

		for (k = 0; k < j->nheld + j->nidle; k++) {
			const struct cost_interval *iv = k < j->nheld ? &j->held[k] : &j->idle[0];

			fprintf(f, "%zu,%s,%s,%s,%s,%d,%.17g,%lld,%lld,%c,%lld,%lld\n", i, j->user,
			        j->team, j->template_name, j->provider, j->priced, j->usd_per_hour,
			        (long long)j->billing.unit_ms, (long long)j->billing.min_ms,
			        k < j->nheld ? 'h' : 'i', (long long)iv->start_ms,
			        (long long)iv->end_ms);
		}
	}
	if (fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* The reference query: same figures as cost_view_compute, in one statement. Intervals of a job
 * never overlap in this data, so no merging is needed in SQL. */
static char *sql_query(int64_t now, int64_t ms, double hours_left)
{
	char *b_now, *b_ms, *q;

	b_now = xprintf("(CASE WHEN min(e_, %lld) - s <= 0 THEN 0 ELSE max(mn, ((min(e_, %lld) - s "
	                "+ u - 1) / u) * u) END)",
	                (long long)now, (long long)now);
	b_ms =
	    xprintf("(CASE WHEN min(e_, %lld) - s <= 0 THEN 0 ELSE max(mn, ((min(e_, %lld) - s + "
	            "u - 1) / u) * u) END)",
	            (long long)ms, (long long)ms);
	q = xprintf(
	    "WITH f AS (SELECT job, usr, team, tpl, prov, priced, "
	    "CASE kind WHEN 'h' THEN rate * (%s - %s) / 3600000.0 ELSE 0 END AS mtd, "
	    "CASE WHEN kind = 'h' AND s <= %lld AND %lld < e_ THEN rate ELSE 0 END AS burn, "
	    "CASE kind WHEN 'i' THEN rate * max(0, min(e_, %lld) - max(s, %lld)) / 3600000.0 "
	    "ELSE 0 END AS idle, "
	    "CASE WHEN kind = 'h' AND (min(e_, %lld) > max(s, %lld) OR (s <= %lld AND %lld < e_)) "
	    "THEN 1 ELSE 0 END AS active FROM t), "
	    "j AS (SELECT job, usr, team, tpl, prov, priced, sum(mtd) AS mtd, sum(burn) AS burn, "
	    "sum(idle) AS idle, max(active) AS active FROM f GROUP BY job) "
	    "SELECT 'total', 'all', sum(mtd * priced), sum(burn * priced), "
	    "sum(mtd * priced) + sum(burn * priced) * %.17g, sum(1 - priced) FROM j "
	    "UNION ALL SELECT 'user', usr, sum(mtd * priced), sum(burn * priced), "
	    "sum(idle * priced), count(*) FROM j WHERE active GROUP BY usr "
	    "UNION ALL SELECT 'team', team, sum(mtd * priced), sum(burn * priced), "
	    "sum(idle * priced), count(*) FROM j WHERE active GROUP BY team "
	    "UNION ALL SELECT 'template', tpl, sum(mtd * priced), sum(burn * priced), "
	    "sum(idle * priced), count(*) FROM j WHERE active GROUP BY tpl "
	    "UNION ALL SELECT 'provider', prov, sum(mtd * priced), sum(burn * priced), "
	    "sum(idle * priced), count(*) FROM j WHERE active GROUP BY prov "
	    "UNION ALL SELECT * FROM (SELECT 'idle', job, idle, 0, 0, 0 FROM j "
	    "WHERE priced AND idle > 0 ORDER BY idle DESC, job LIMIT 10);",
	    b_now, b_ms, (long long)now, (long long)now, (long long)now, (long long)ms,
	    (long long)now, (long long)ms, (long long)now, (long long)now, hours_left);
	free(b_now);
	free(b_ms);
	return q;
}

static int close_enough(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(a) > 1 ? fabs(a) : 1) + 1e-9;
}

/* Compares sqlite3's answer (CSV lines) with the engine's; returns the number of mismatches. */
static int compare(const char *path, const struct history *h, const struct cost_view *v)
{
	FILE *f = fopen(path, "r");
	char line[512], kind[32], name[128];
	double a, b, c;
	long long d;
	int bad = 0, rows = 0, nidle = 0;
	size_t g, i;
	static const char *const groups[] = {"user", "team", "template", "provider"};

	if (f == NULL) {
		perror(path);
		return 1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%31[^,],%127[^,],%lf,%lf,%lf,%lld", kind, name, &a, &b, &c, &d) !=
		    6)
			continue;
		rows++;
		if (strcmp(kind, "total") == 0) {
			bad += !close_enough(a, v->sum.month_to_date);
			bad += !close_enough(b, v->sum.burn_usd_per_hour);
			bad += !close_enough(c, v->sum.forecast);
			bad += (size_t)d != v->sum.nunpriced;
			continue;
		}
		if (strcmp(kind, "idle") == 0) {
			bad += (size_t)nidle >= v->ntop_idle ||
			       (size_t)atoll(name) != v->top_idle[nidle].job ||
			       !close_enough(a, v->top_idle[nidle].idle_cost);
			nidle++;
			continue;
		}
		for (g = 0; g < 4 && strcmp(kind, groups[g]) != 0; g++)
			;
		for (i = 0; g < 4 && i < v->nby[g] && strcmp(v->by[g][i].name, name) != 0; i++)
			;
		if (g == 4 || i == v->nby[g] || !close_enough(a, v->by[g][i].cost) ||
		    !close_enough(b, v->by[g][i].burn_usd_per_hour) ||
		    !close_enough(c, v->by[g][i].idle_cost) || (size_t)d != v->by[g][i].njobs) {
			fprintf(stderr, "cost_bench: %s %s differs\n", kind, name);
			bad++;
		}
	}
	fclose(f);
	bad += (size_t)nidle != v->ntop_idle;
	bad += (size_t)rows != 1 + v->nby[0] + v->nby[1] + v->nby[2] + v->nby[3] + v->ntop_idle;
	(void)h;
	return bad;
}

int main(int argc, char **argv)
{
	struct history h;
	struct cost_view v;
	double ours[RUNS], ref[RUNS], t0, user, sys, real, med_ours, med_ref;
	char dir[] = "/tmp/gantry-cost-bench-XXXXXX", *csv, *script, *out, *cmd, *q, line[512];
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 100000, i, nref = 0;
	int64_t ms = cost_month_start(NOW_MS);
	FILE *f, *p;
	int bad;

	if (n == 0 || n > MAX_JOBS) {
		fprintf(stderr, "usage: cost_bench [JOBS]\n");
		return 2;
	}
	history_make(&h, n);
	for (i = 0; i < RUNS; i++) {
		t0 = cpu_ms();
		cost_view_compute(h.jobs, h.n, NOW_MS, &v);
		ours[i] = cpu_ms() - t0;
		if (i + 1 < RUNS)
			cost_view_clear(&v);
	}

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	csv = xprintf("%s/jobs.csv", dir);
	script = xprintf("%s/bench.sql", dir);
	out = xprintf("%s/result.csv", dir);
	write_csv(&h, csv);
	q = sql_query(NOW_MS, ms, (double)(cost_month_end(NOW_MS) - NOW_MS) / HOUR_MS);
	f = fopen(script, "w");
	if (f == NULL) {
		perror(script);
		return 1;
	}
	fprintf(f,
	        "CREATE TABLE t (job INTEGER, usr TEXT, team TEXT, tpl TEXT, prov TEXT, "
	        "priced INTEGER, rate REAL, u INTEGER, mn INTEGER, kind TEXT, s INTEGER, "
	        "e_ INTEGER);\n.mode csv\n.import %s t\n.output %s\n%s\n.output /dev/null\n"
	        ".timer on\n",
	        csv, out, q);
	for (i = 0; i < RUNS; i++)
		fprintf(f, "%s\n", q);
	fclose(f);
	cmd = xprintf("sqlite3 < %s", script);
	p = popen(cmd, "r");
	if (p == NULL) {
		perror("sqlite3");
		return 1;
	}
	while (fgets(line, sizeof line, p) != NULL) {
		if (sscanf(line, "Run Time: real %lf user %lf sys %lf", &real, &user, &sys) == 3 &&
		    nref < RUNS)
			ref[nref++] = (user + sys) * 1000;
	}
	if (pclose(p) != 0 || nref != RUNS) {
		fprintf(stderr,
		        "cost_bench: sqlite3 failed or printed %zu timings (is it installed?)\n",
		        nref);
		return 1;
	}
	bad = compare(out, &h, &v);
	med_ours = median(ours, RUNS); /* sorts: [0] is the minimum afterwards */
	med_ref = median(ref, RUNS);
	printf("| Cost view recomputation, %zu jobs (burn, month to date, forecast, 4 breakdowns, "
	       "top 10 idle; `cost_view_compute`) | **%.1f ms** CPU median (min %.1f, %d runs) | "
	       "`sqlite3` in-memory table, one GROUP BY query, same totals: %.1f ms (min %.1f) | "
	       "≤ 50 ms |\n",
	       n, med_ours, ours[0], RUNS, med_ref, ref[0]);
	printf("command: tests/bench/cost_bench %zu  (results %s sqlite3's: month to date $%.2f, "
	       "burn $%.2f/h, forecast $%.2f, %zu unpriced)\n",
	       n, bad ? "DIFFER from" : "match", v.sum.month_to_date, v.sum.burn_usd_per_hour,
	       v.sum.forecast, v.sum.nunpriced);
	cost_view_clear(&v);
	unlink(csv);
	unlink(script);
	unlink(out);
	rmdir(dir);
	free(csv);
	free(script);
	free(out);
	free(cmd);
	free(q);
	history_free(&h);
	return bad ? 1 : 0;
}
