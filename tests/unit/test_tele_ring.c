/* test_tele_ring.c: ring buffers, the 1-minute / 1-hour aggregator (core/tele_ring.c) and the
 * sqlite history of buckets (core/tele_store.c) on a WAL file of the test's own. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/tele_ring.h"
#include "core/tele_store.h"
#include "core/telemetry.h"
#include "core/xmalloc.h"

/* 2023-11-14 22:00:00 UTC: an hour boundary. */
#define T0   1699999200000LL
#define MIN  60000LL
#define HOUR 3600000LL
#define DAY  86400000LL

static char tmpdir[256];

static struct tele_gpu gpu_sample(double util, double mem, double temp, double power)
{
	struct tele_gpu g;

	memset(&g, 0, sizeof g);
	g.util_pct = (struct tele_val){util, 1};
	g.mem_used_mib = (struct tele_val){mem, 1};
	g.mem_total_mib = (struct tele_val){81559, 1};
	g.temp_c = (struct tele_val){temp, 1};
	g.power_w = (struct tele_val){power, 1};
	g.power_limit_w = (struct tele_val){700, 1};
	return g;
}

static void assert_val(struct tele_val v, double want)
{
	assert_true(v.ok);
	assert_float_equal(v.v, want, 1e-9);
}

static void test_ring_push_and_wrap(void **state)
{
	struct tring *r = tring_new(5);
	struct tele_val out[10];
	struct tele_gpu g;

	(void)state;
	assert_int_equal(tring_capacity(r), 5);
	assert_int_equal(tring_len(r), 0);
	assert_int_equal(tring_last(r, TRING_UTIL, 10, out), 0);
	for (int i = 0; i < 7; i++) {
		g = gpu_sample(i * 10, 100 + i, 40 + i, 50 + i);
		tring_push(r, T0 + i * 1000, &g);
	}
	assert_int_equal(tring_len(r), 5);
	assert_int_equal(tring_last(r, TRING_UTIL, 10, out), 5);
	for (int i = 0; i < 5; i++)
		assert_val(out[i], (i + 2) * 10);
	assert_int_equal(tring_last(r, TRING_MEM, 3, out), 3);
	assert_val(out[0], 104);
	assert_val(out[2], 106);
	assert_int_equal(tring_last(r, TRING_TEMP, 1, out), 1);
	assert_val(out[0], 46);
	assert_int_equal(tring_last(r, TRING_POWER, 2, out), 2);
	assert_val(out[0], 55);
	assert_val(out[1], 56);
	assert_int_equal(tring_last_at(r), T0 + 6000);
	tring_free(r);

	r = tring_new(0);
	assert_int_equal(tring_capacity(r), TRING_DEFAULT_CAPACITY);
	tring_free(r);
}

static void test_ring_validity_and_encoding(void **state)
{
	struct tring *r = tring_new(8);
	struct tele_val out[8];
	struct tele_gpu g = gpu_sample(98.6, 23962.4, 76.4, 599.123);

	(void)state;
	tring_push(r, T0, &g);
	g = gpu_sample(0, 0, -5, 7000);
	g.util_pct.ok = 0;
	tring_push(r, T0 + 1000, &g);
	g = gpu_sample(250, 5e9, 300, NAN);
	g.mem_used_mib.ok = 0;
	tring_push(r, T0 + 2000, &g);

	assert_int_equal(tring_last(r, TRING_UTIL, 3, out), 3);
	assert_val(out[0], 99);
	assert_false(out[1].ok); /* n/a stays n/a, never 0 */
	assert_val(out[2], 250);
	tring_last(r, TRING_MEM, 3, out);
	assert_val(out[0], 23962);
	assert_val(out[1], 0);
	assert_false(out[2].ok);
	tring_last(r, TRING_TEMP, 3, out);
	assert_val(out[0], 76);
	assert_val(out[1], 0);   /* below 0 is clamped */
	assert_val(out[2], 254); /* and so is above 254 */
	tring_last(r, TRING_POWER, 3, out);
	assert_float_equal(out[0].v, 599.1, 1e-9);
	assert_true(out[0].ok);
	assert_float_equal(out[1].v, 6553.4, 1e-9); /* deci-watts in 16 bits */
	assert_false(out[2].ok);                    /* NaN is not a value */
	tring_free(r);
}

static void test_ring_window_and_staleness(void **state)
{
	struct tring *r = tring_new(16);
	struct tele_val out[7];
	struct tele_gpu g;

	(void)state;
	assert_int_equal(tring_age_ms(r, T0), -1);
	assert_true(tring_stale(r, T0, 5000));
	assert_int_equal(tring_last_at(r), 0);
	for (int i = 1; i <= 3; i++) {
		g = gpu_sample(i, 0, 0, 0);
		tring_push(r, T0 + i * 1000, &g);
	}
	g = gpu_sample(9, 0, 0, 0);
	tring_push(r, T0 + 6500, &g); /* two in the last slot: the latest wins */
	g = gpu_sample(7, 0, 0, 0);
	tring_push(r, T0 + 7000, &g);
	assert_int_equal(tring_window(r, TRING_UTIL, T0 + 7000, 1000, 7, out), 7);
	assert_val(out[0], 1);
	assert_val(out[1], 2);
	assert_val(out[2], 3);
	assert_false(out[3].ok); /* the source went quiet: gaps */
	assert_false(out[4].ok);
	assert_false(out[5].ok);
	assert_val(out[6], 7);
	/* A window ending earlier leaves newer samples out. */
	tring_window(r, TRING_UTIL, T0 + 3000, 1000, 2, out);
	assert_val(out[0], 2);
	assert_val(out[1], 3);

	assert_int_equal(tring_age_ms(r, T0 + 10000), 3000);
	assert_int_equal(tring_age_ms(r, T0), 0); /* a clock behind the sample: not negative */
	assert_false(tring_stale(r, T0 + 10000, 5000));
	assert_true(tring_stale(r, T0 + 10000, 2999));
	tring_free(r);
}

static void test_ring_long_gap_rebases(void **state)
{
	struct tring *r = tring_new(8);
	struct tele_val out[6];
	struct tele_gpu g = gpu_sample(10, 0, 0, 0);

	(void)state;
	tring_push(r, T0, &g);
	g = gpu_sample(20, 0, 0, 0);
	tring_push(r, T0 + 40 * DAY, &g);
	g = gpu_sample(30, 0, 0, 0);
	tring_push(r, T0 + 45 * DAY, &g);
	assert_int_equal(tring_len(r), 3);
	/* Beyond 32 bits of ms from the base: the base moves up and the first sample, now over
	 * 48 days older than the newest, is dropped; the others keep their times. */
	g = gpu_sample(40, 0, 0, 0);
	tring_push(r, T0 + 50 * DAY, &g);
	assert_int_equal(tring_len(r), 3);
	assert_int_equal(tring_last_at(r), T0 + 50 * DAY);
	tring_window(r, TRING_UTIL, T0 + 50 * DAY, 5 * DAY, 6, out);
	assert_false(out[0].ok);
	assert_false(out[1].ok);
	assert_false(out[2].ok);
	assert_val(out[3], 20); /* (35 d, 40 d] */
	assert_val(out[4], 30);
	assert_val(out[5], 40);
	tring_free(r);
}

/* 60 samples of minute 0 (one with n/a utilisation), then one of minute 1. */
static void push_minute(struct tring_set *s, const char *host, int gpu, int64_t start)
{
	for (int i = 0; i < 60; i++) {
		struct tele_gpu g = gpu_sample(i, 1000 + i, 50 + (i % 10), 100 + i);

		if (i == 7)
			g.util_pct.ok = 0;
		tring_set_push(s, host, gpu, start + i * 1000, &g);
	}
}

static void test_minute_bucket(void **state)
{
	struct tring_set *s = tring_set_new(600);
	struct tring_bucket *b;
	struct tele_gpu g = gpu_sample(50, 2000, 60, 300);
	size_t n;

	(void)state;
	push_minute(s, "w1", 0, T0);
	assert_int_equal(tring_set_pending(s), 0); /* the minute is still open */
	tring_set_push(s, "w1", 0, T0 + MIN, &g);
	assert_int_equal(tring_set_pending(s), 1);
	b = tring_set_take(s, &n);
	assert_int_equal(n, 1);
	assert_string_equal(b[0].host, "w1");
	assert_int_equal(b[0].gpu, 0);
	assert_int_equal(b[0].width_s, TRING_1M);
	assert_int_equal(b[0].start_ms, T0);
	assert_int_equal(b[0].n, 60);
	assert_int_equal(b[0].n_util, 59);
	assert_int_equal(b[0].n_mem, 60);
	assert_int_equal(b[0].n_temp, 60);
	assert_int_equal(b[0].n_power, 60);
	assert_float_equal(b[0].util_avg, (1770.0 - 7) / 59, 1e-9);
	assert_float_equal(b[0].util_max, 59, 0);
	assert_float_equal(b[0].mem_avg, 1029.5, 1e-9);
	assert_float_equal(b[0].temp_max, 59, 0);
	assert_float_equal(b[0].power_avg, 129.5, 1e-9);
	free(b);
	assert_int_equal(tring_set_pending(s), 0);
	assert_null(tring_set_take(s, &n));
	assert_int_equal(n, 0);
	/* The ring kept the raw samples. */
	assert_int_equal(tring_len(tring_set_find(s, "w1", 0)), 61);
	assert_null(tring_set_find(s, "w1", 1));
	assert_null(tring_set_find(s, "w2", 0));
	assert_null(tring_set_find(s, "w1", -1));
	assert_int_equal(tring_set_count(s), 1);
	tring_set_free(s);
}

static void test_hour_bucket_is_exact(void **state)
{
	struct tring_set *s = tring_set_new(0);
	struct tring_bucket *b;
	double sum_util = 0, sum_power = 0, max_util = -1;
	uint32_t n_util = 0, n_all = 0;
	size_t n;

	(void)state;
	/* 60 minutes with varying sample counts and values. */
	for (int m = 0; m < 60; m++) {
		int per = 1 + m % 7;

		for (int k = 0; k < per; k++) {
			struct tele_gpu g =
			    gpu_sample((m * 13 + k * 5) % 101, 500, 40 + m % 30, 200 + m + k);

			if ((m + k) % 11 == 0)
				g.util_pct.ok = 0;
			else {
				sum_util += g.util_pct.v;
				n_util++;
				if (g.util_pct.v > max_util)
					max_util = g.util_pct.v;
			}
			sum_power += g.power_w.v;
			n_all++;
			tring_set_push(s, "w1", 3, T0 + m * MIN + k * 5000, &g);
		}
	}
	tring_set_close(s, T0 + HOUR - 1);
	b = tring_set_take(s, &n);
	assert_int_equal(n, 59); /* the last minute ends with the hour */
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(b[i].width_s, TRING_1M);
		assert_int_equal(b[i].start_ms, T0 + (int64_t)i * MIN);
		assert_int_equal(b[i].n, 1 + i % 7);
	}
	free(b);
	tring_set_close(s, T0 + HOUR);
	b = tring_set_take(s, &n);
	assert_int_equal(n, 2);
	assert_int_equal(b[0].width_s, TRING_1M);
	assert_int_equal(b[0].start_ms, T0 + 59 * MIN);
	assert_int_equal(b[1].width_s, TRING_1H);
	assert_int_equal(b[1].start_ms, T0);
	assert_int_equal(b[1].gpu, 3);
	assert_int_equal(b[1].n, n_all);
	assert_int_equal(b[1].n_util, n_util);
	assert_float_equal(b[1].util_avg, sum_util / n_util, 1e-9);
	assert_float_equal(b[1].util_max, max_util, 0);
	assert_float_equal(b[1].power_avg, sum_power / n_all, 1e-9);
	assert_float_equal(b[1].temp_max, 69, 0);
	free(b);
	/* Nothing further closes twice. */
	tring_set_close(s, T0 + 5 * HOUR);
	assert_int_equal(tring_set_pending(s), 0);
	tring_set_free(s);
}

static void test_late_and_jumping_clock(void **state)
{
	struct tring_set *s = tring_set_new(16);
	struct tring_bucket *b;
	struct tele_gpu g = gpu_sample(10, 1, 1, 1);
	size_t n;

	(void)state;
	tring_set_push(s, "w", 0, T0 + 5000, &g);
	tring_set_push(s, "w", 0, T0 + MIN + 1000, &g);
	assert_int_equal(tring_set_pending(s), 1);
	/* A clock stepped back into the closed minute: kept in the ring, not aggregated. */
	tring_set_push(s, "w", 0, T0 + 30000, &g);
	assert_int_equal(tring_set_dropped(s), 1);
	assert_int_equal(tring_len(tring_set_find(s, "w", 0)), 3);
	/* Closing at the end of the open minute and pushing into it again: late too. */
	tring_set_close(s, T0 + 2 * MIN);
	assert_int_equal(tring_set_pending(s), 2);
	tring_set_push(s, "w", 0, T0 + MIN + 59000, &g);
	assert_int_equal(tring_set_dropped(s), 2);
	/* Jump five hours ahead (suspend): the hour closes once the next minute does. */
	tring_set_push(s, "w", 0, T0 + 5 * HOUR + 1000, &g);
	tring_set_close(s, T0 + 5 * HOUR + MIN);
	b = tring_set_take(s, &n);
	assert_int_equal(n, 4);
	assert_int_equal(b[0].start_ms, T0);
	assert_int_equal(b[0].n, 1);
	assert_int_equal(b[1].start_ms, T0 + MIN);
	assert_int_equal(b[1].n, 1);
	assert_int_equal(b[2].width_s, TRING_1H);
	assert_int_equal(b[2].start_ms, T0);
	assert_int_equal(b[2].n, 2);
	assert_int_equal(b[3].width_s, TRING_1M);
	assert_int_equal(b[3].start_ms, T0 + 5 * HOUR);
	free(b);
	tring_set_free(s);
}

static void test_push_host(void **state)
{
	struct tring_set *s = tring_set_new(16);
	struct tele_gpu gpus[2];
	struct tele_host h;

	(void)state;
	memset(&h, 0, sizeof h);
	gpus[0] = gpu_sample(1, 2, 3, 4);
	gpus[0].index = 0;
	gpus[1] = gpu_sample(5, 6, 7, 8);
	gpus[1].index = 4;
	h.gpus = gpus;
	h.ngpus = 2;
	h.at_ms = T0;
	tring_set_push_host(s, &h); /* no name: skipped */
	assert_int_equal(tring_set_count(s), 0);
	h.name = "gpu1";
	h.at_ms = 0;
	tring_set_push_host(s, &h); /* never sampled: skipped */
	assert_int_equal(tring_set_count(s), 0);
	h.at_ms = T0;
	tring_set_push_host(s, &h);
	tring_set_push_host(s, &h); /* the same cached sample again */
	assert_int_equal(tring_set_count(s), 2);
	assert_int_equal(tring_len(tring_set_find(s, "gpu1", 0)), 1);
	assert_int_equal(tring_len(tring_set_find(s, "gpu1", 4)), 1);
	assert_null(tring_set_find(s, "gpu1", 1));
	h.at_ms = T0 + 1000;
	tring_set_push_host(s, &h);
	assert_int_equal(tring_len(tring_set_find(s, "gpu1", 4)), 2);
	tring_set_free(s);
}

static void test_many_hosts(void **state)
{
	struct tring_set *s = tring_set_new(4);
	char name[32];

	(void)state;
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof name, "worker-%04d", i);
		for (int k = 0; k < 2; k++) {
			struct tele_gpu g = gpu_sample(i % 100, k, 0, 0);

			tring_set_push(s, name, k, T0, &g);
		}
	}
	assert_int_equal(tring_set_count(s), 1000);
	for (int i = 0; i < 500; i++) {
		struct tele_val v;

		snprintf(name, sizeof name, "worker-%04d", i);
		assert_non_null(tring_set_find(s, name, 1));
		assert_int_equal(tring_last(tring_set_find(s, name, 0), TRING_UTIL, 1, &v), 1);
		assert_val(v, i % 100);
	}
	/* Buckets not taken are freed with the set. */
	tring_set_close(s, T0 + HOUR);
	assert_int_equal(tring_set_pending(s), 2000);
	tring_set_free(s);
}

/* ---- store */

static sqlite3 *open_db(const char *name)
{
	char path[512];
	sqlite3 *db = NULL;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL),
	                 SQLITE_OK);
	return db;
}

static void close_db(sqlite3 *db, const char *name)
{
	char path[512];

	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	unlink(path);
	snprintf(path, sizeof path, "%s/%s-wal", tmpdir, name);
	unlink(path);
	snprintf(path, sizeof path, "%s/%s-shm", tmpdir, name);
	unlink(path);
}

static struct tring_bucket bucket(const char *host, int gpu, int width, int64_t start, uint32_t n,
                                  uint32_t n_util, double util, double umax, double mem,
                                  double temp, double power)
{
	struct tring_bucket b;

	memset(&b, 0, sizeof b);
	b.host = host;
	b.gpu = gpu;
	b.width_s = width;
	b.start_ms = start;
	b.n = n;
	b.n_util = n_util;
	b.n_mem = b.n_temp = b.n_power = n;
	b.util_avg = util;
	b.util_max = umax;
	b.mem_avg = mem;
	b.temp_max = temp;
	b.power_avg = power;
	return b;
}

static int64_t count_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_store_roundtrip(void **state)
{
	sqlite3 *db = open_db("rt.db");
	struct tstore *ts;
	struct tring_set *s = tring_set_new(0);
	struct tring_bucket *b, *got;
	char *cause = NULL;
	size_t n, ng;

	(void)state;
	ts = tstore_open(db, &cause);
	assert_non_null(ts);
	assert_null(cause);
	push_minute(s, "w1", 0, T0);
	push_minute(s, "w1", 1, T0);
	push_minute(s, "w2", 0, T0);
	push_minute(s, "w1", 0, T0 + MIN);
	tring_set_close(s, T0 + HOUR);
	b = tring_set_take(s, &n);
	assert_int_equal(n, 4 + 3); /* four minutes, three hours */
	assert_int_equal(tstore_put(ts, b, n, &cause), 0);
	assert_null(cause);
	free(b);
	assert_int_equal(tstore_rows(ts, TRING_1M), 4);
	assert_int_equal(tstore_rows(ts, TRING_1H), 3);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM metrics_hosts"), 2);

	assert_int_equal(tstore_series(ts, "w1", 0, TRING_1M, T0, T0 + HOUR, &got, &ng, &cause), 0);
	assert_int_equal(ng, 2);
	assert_null(got[0].host);
	assert_int_equal(got[0].start_ms, T0);
	assert_int_equal(got[1].start_ms, T0 + MIN);
	assert_int_equal(got[0].width_s, TRING_1M);
	assert_int_equal(got[0].gpu, 0);
	assert_int_equal(got[0].n, 60);
	assert_int_equal(got[0].n_util, 59);
	/* Integers: util 29.88 -> 30, MiB 1029.5 -> 1030, 129.5 W -> 1295 dW. */
	assert_float_equal(got[0].util_avg, 30, 0);
	assert_float_equal(got[0].util_max, 59, 0);
	assert_float_equal(got[0].mem_avg, 1030, 0);
	assert_int_equal(got[0].n_mem, 60);
	assert_float_equal(got[0].temp_max, 59, 0);
	assert_float_equal(got[0].power_avg, 129.5, 1e-9);
	free(got);
	/* [from, to): the second minute only; then the hour table. */
	assert_int_equal(
	    tstore_series(ts, "w1", 0, TRING_1M, T0 + 1, T0 + MIN + 1, &got, &ng, &cause), 0);
	assert_int_equal(ng, 1);
	assert_int_equal(got[0].start_ms, T0 + MIN);
	free(got);
	assert_int_equal(tstore_series(ts, "w1", 0, TRING_1H, T0, T0 + DAY, &got, &ng, &cause), 0);
	assert_int_equal(ng, 1);
	assert_int_equal(got[0].width_s, TRING_1H);
	assert_int_equal(got[0].n, 120);
	assert_int_equal(got[0].n_util, 118);
	free(got);
	/* Unknown host or GPU: nothing, not an error. */
	assert_int_equal(tstore_series(ts, "nope", 0, TRING_1M, 0, T0 * 2, &got, &ng, &cause), 0);
	assert_int_equal(ng, 0);
	assert_null(got);
	assert_int_equal(tstore_series(ts, "w2", 5, TRING_1M, 0, T0 * 2, &got, &ng, &cause), 0);
	assert_int_equal(ng, 0);
	assert_int_equal(tstore_series(ts, "w2", 0, 120, 0, T0 * 2, &got, &ng, &cause), -1);
	assert_string_equal(cause, "metrics store: no buckets of 120 s");
	free(cause);
	cause = NULL;
	tstore_close(ts);
	tring_set_free(s);

	/* Reopened: the tables and host ids are still there. */
	ts = tstore_open(db, &cause);
	assert_non_null(ts);
	assert_int_equal(tstore_rows(ts, TRING_1M), 4);
	assert_int_equal(tstore_series(ts, "w2", 0, TRING_1M, 0, T0 * 2, &got, &ng, &cause), 0);
	assert_int_equal(ng, 1);
	free(got);
	tstore_close(ts);
	close_db(db, "rt.db");
}

static void test_store_nulls_and_merge(void **state)
{
	sqlite3 *db = open_db("merge.db");
	struct tstore *ts = tstore_open(db, NULL);
	struct tring_bucket b[3], *got;
	size_t ng;

	(void)state;
	assert_non_null(ts);
	/* No valid utilisation or temperature in the first part of the minute. */
	b[0] = bucket("h", 0, TRING_1M, T0, 10, 0, 0, 0, 500, 0, 100);
	b[0].n_temp = 0;
	assert_int_equal(tstore_put(ts, b, 1, NULL), 0);
	assert_int_equal(tstore_series(ts, "h", 0, TRING_1M, T0, T0 + MIN, &got, &ng, NULL), 0);
	assert_int_equal(ng, 1);
	assert_int_equal(got[0].n_util, 0);
	assert_int_equal(got[0].n_temp, 0);
	assert_int_equal(got[0].n_mem, 10);
	free(got);
	/* The same minute again (a restart inside it): merged, weighted by counts. */
	b[1] = bucket("h", 0, TRING_1M, T0, 30, 30, 40, 90, 900, 70, 300);
	b[2] = bucket("h", 0, TRING_1M, T0, 20, 10, 10, 50, 900, 80, 200);
	assert_int_equal(tstore_put(ts, b + 1, 2, NULL), 0);
	assert_int_equal(tstore_rows(ts, TRING_1M), 1);
	assert_int_equal(tstore_series(ts, "h", 0, TRING_1M, T0, T0 + MIN, &got, &ng, NULL), 0);
	assert_int_equal(ng, 1);
	assert_int_equal(got[0].n, 60);
	assert_int_equal(got[0].n_util, 40);
	assert_float_equal(got[0].util_avg, 33, 0); /* (40*30 + 10*10) / 40 = 32.5, rounded */
	assert_float_equal(got[0].util_max, 90, 0); /* max ignores the NULL */
	assert_float_equal(got[0].temp_max, 80, 0);
	/* MiB: (500 * 10 + 900 * 30) / 40 = 800, then (800 * 40 + 900 * 20) / 60 = 833 */
	assert_float_equal(got[0].mem_avg, 833, 0);
	/* dW: (1000 * 10 + 3000 * 30) / 40 = 2500, then (2500 * 40 + 2000 * 20) / 60 = 2333 */
	assert_float_equal(got[0].power_avg, 233.3, 1e-9);
	free(got);
	tstore_close(ts);
	close_db(db, "merge.db");
}

static void test_store_prune(void **state)
{
	sqlite3 *db = open_db("prune.db");
	struct tstore *ts = tstore_open(db, NULL);
	struct tstore_retention keep = {3600, 2 * 86400};
	struct tring_bucket b[8], *got;
	int64_t now = T0 + 10 * DAY, deleted = -1;
	size_t ng;
	char *cause = NULL;

	(void)state;
	assert_non_null(ts);
	b[0] = bucket("a", 0, TRING_1M, now - HOUR - MIN, 1, 1, 1, 1, 1, 1, 1); /* ended 1 h ago */
	b[1] = bucket("a", 0, TRING_1M, now - HOUR, 1, 1, 1, 1, 1, 1, 1); /* ends after the cut */
	b[2] = bucket("a", 1, TRING_1M, now - 2 * HOUR, 1, 1, 1, 1, 1, 1, 1);
	b[3] = bucket("b", 0, TRING_1M, now - 3 * DAY, 1, 1, 1, 1, 1, 1, 1);
	b[4] = bucket("b", 0, TRING_1M, now - MIN, 1, 1, 1, 1, 1, 1, 1);
	b[5] = bucket("a", 0, TRING_1H, now - 3 * DAY, 1, 1, 1, 1, 1, 1, 1);
	b[6] = bucket("a", 0, TRING_1H, now - 2 * DAY - HOUR, 1, 1, 1, 1, 1, 1, 1);
	b[7] = bucket("b", 0, TRING_1H, now - DAY, 1, 1, 1, 1, 1, 1, 1);
	assert_int_equal(tstore_put(ts, b, 8, &cause), 0);
	assert_int_equal(tstore_prune(ts, now, &keep, &deleted, &cause), 0);
	assert_null(cause);
	/* Gone: b[0] (ended exactly 1 h ago), b[2], b[3], b[5], b[6]. */
	assert_int_equal(deleted, 5);
	assert_int_equal(tstore_rows(ts, TRING_1M), 2);
	assert_int_equal(tstore_rows(ts, TRING_1H), 1);
	assert_int_equal(tstore_series(ts, "a", 0, TRING_1M, now - DAY, now, &got, &ng, NULL), 0);
	assert_int_equal(ng, 1);
	assert_int_equal(got[0].start_ms, now - HOUR);
	free(got);
	/* Default retention: 7 days of minutes, 90 days of hours. */
	b[0] = bucket("c", 0, TRING_1M, now - 8 * DAY, 1, 1, 1, 1, 1, 1, 1);
	b[1] = bucket("c", 0, TRING_1M, now - 6 * DAY, 1, 1, 1, 1, 1, 1, 1);
	b[2] = bucket("c", 0, TRING_1H, now - 91 * DAY, 1, 1, 1, 1, 1, 1, 1);
	b[3] = bucket("c", 0, TRING_1H, now - 89 * DAY, 1, 1, 1, 1, 1, 1, 1);
	assert_int_equal(tstore_put(ts, b, 4, NULL), 0);
	assert_int_equal(tstore_prune(ts, now, NULL, &deleted, NULL), 0);
	assert_int_equal(deleted, 2);
	assert_int_equal(tstore_rows(ts, TRING_1M), 3);
	assert_int_equal(tstore_rows(ts, TRING_1H), 2);
	/* Retention 0 keeps forever. */
	keep.keep_1m_s = keep.keep_1h_s = 0;
	assert_int_equal(tstore_prune(ts, now + 1000 * DAY, &keep, &deleted, NULL), 0);
	assert_int_equal(deleted, 0);
	tstore_close(ts);
	close_db(db, "prune.db");
}

static void test_store_errors(void **state)
{
	sqlite3 *db = open_db("err.db"), *ro = NULL;
	struct tstore *ts = tstore_open(db, NULL);
	struct tring_bucket b[3];
	char *cause = NULL, path[512];

	(void)state;
	assert_non_null(ts);
	b[0] = bucket("ok", 0, TRING_1M, T0, 1, 1, 1, 1, 1, 1, 1);
	b[1] = bucket(NULL, 0, TRING_1M, T0, 1, 1, 1, 1, 1, 1, 1);
	b[2] = bucket("x", 0, 90, T0, 1, 1, 1, 1, 1, 1, 1);
	/* A bad bucket fails the whole batch: nothing of it is kept. */
	assert_int_equal(tstore_put(ts, b, 2, &cause), -1);
	assert_string_equal(cause, "metrics store: bucket without host or with width 60");
	free(cause);
	cause = NULL;
	assert_int_equal(tstore_put(ts, b + 2, 1, &cause), -1);
	assert_string_equal(cause, "metrics store: bucket without host or with width 90");
	free(cause);
	cause = NULL;
	assert_int_equal(tstore_rows(ts, TRING_1M), 0);
	assert_int_equal(count_rows(db, "SELECT count(*) FROM metrics_hosts"), 0);
	/* The host cache forgot the id rolled back with the batch. */
	assert_int_equal(tstore_put(ts, b, 1, &cause), 0);
	assert_int_equal(tstore_rows(ts, TRING_1M), 1);
	assert_int_equal(tstore_put(ts, NULL, 0, &cause), 0);
	tstore_close(ts);

	/* A read-only connection: writing fails with sqlite's reason. */
	snprintf(path, sizeof path, "%s/err.db", tmpdir);
	assert_int_equal(sqlite3_open_v2(path, &ro, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ts = tstore_open(ro, &cause);
	assert_non_null(ts);
	b[0] = bucket("new-host", 0, TRING_1M, T0, 1, 1, 1, 1, 1, 1, 1);
	assert_int_equal(tstore_put(ts, b, 1, &cause), -1);
	assert_non_null(strstr(cause, "readonly"));
	free(cause);
	tstore_close(ts);
	sqlite3_close(ro);
	close_db(db, "err.db");
}

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/gantry-ring-XXXXXX",
	         base != NULL && base[0] != '\0' ? base : "/tmp");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ring_push_and_wrap),
	    cmocka_unit_test(test_ring_validity_and_encoding),
	    cmocka_unit_test(test_ring_window_and_staleness),
	    cmocka_unit_test(test_ring_long_gap_rebases),
	    cmocka_unit_test(test_minute_bucket),
	    cmocka_unit_test(test_hour_bucket_is_exact),
	    cmocka_unit_test(test_late_and_jumping_clock),
	    cmocka_unit_test(test_push_host),
	    cmocka_unit_test(test_many_hosts),
	    cmocka_unit_test(test_store_roundtrip),
	    cmocka_unit_test(test_store_nulls_and_merge),
	    cmocka_unit_test(test_store_prune),
	    cmocka_unit_test(test_store_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
