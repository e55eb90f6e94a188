/* test_tele_store.c: the packed hour format (core/tele_pack.c) and the store's 1-minute history
 * as packed hours plus the open hour (core/tele_store.c), on WAL files of the test's own: hours
 * packed when they close read back exactly as before, late minutes merge into packed hours,
 * pruning trims a straddling hour, the first format's table is migrated, damaged rows are
 * reported. The hour close by series ranges (tstore_close_hours, run on a thread of its own in
 * the engine) packs exactly as the single transaction did, resumes after a cut, and lets
 * another connection write between its ranges. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/loop.h"
#include "core/tele_close.h"
#include "core/tele_pack.h"
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
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* ---- the packed format */

/* What a minute reads back as: fields not held are 0, utilisation only with n_util > 0. */
static struct tpack_min normal_min(struct tpack_min m)
{
	if (m.n_util <= 0)
		m.n_util = m.util_avg = m.util_max = 0;
	m.has &= TPACK_FIELDS;
	if (!(m.has & TPACK_MEM))
		m.mem_mib = 0;
	if (!(m.has & TPACK_TEMP))
		m.temp_max = 0;
	if (!(m.has & TPACK_POWER))
		m.power_dw = 0;
	return m;
}

static void assert_min_equal(const struct tpack_min *a, const struct tpack_min *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->n_util, b->n_util);
	assert_int_equal(a->util_avg, b->util_avg);
	assert_int_equal(a->util_max, b->util_max);
	assert_int_equal(a->has, b->has);
	assert_int_equal(a->mem_mib, b->mem_mib);
	assert_int_equal(a->temp_max, b->temp_max);
	assert_int_equal(a->power_dw, b->power_dw);
}

/* Encodes h, decodes it and checks every minute held; returns the size. */
static size_t roundtrip(const struct tpack_hour *h)
{
	static uint8_t buf[TPACK_MAX];
	static struct tpack_hour got;
	size_t len = tpack_encode(h, buf);

	assert_true(len > 0 && len <= TPACK_MAX);
	assert_int_equal(tpack_decode(buf, len, &got), 0);
	assert_int_equal(got.mask, h->mask & TPACK_ALL);
	for (int i = 0; i < TPACK_SLOTS; i++) {
		if ((h->mask >> i) & 1) {
			struct tpack_min want = normal_min(h->m[i]);

			assert_min_equal(&got.m[i], &want);
		}
	}
	return len;
}

/* A steady training hour: 60 samples a minute, utilisation 95 +/- 1, constant memory. */
static void steady_hour(struct tpack_hour *h)
{
	memset(h, 0, sizeof *h);
	h->mask = TPACK_ALL;
	for (int i = 0; i < TPACK_SLOTS; i++) {
		struct tpack_min *m = &h->m[i];

		m->n = m->n_util = 60;
		m->util_avg = 95 + (int64_t)(rng() % 3) - 1;
		m->util_max = 100;
		m->has = TPACK_FIELDS;
		m->mem_mib = 61440;
		m->temp_max = 70 + i / 20;
		m->power_dw = 700 + 58 * m->util_avg + (int64_t)(rng() % 41) - 20;
	}
}

static void test_pack_sizes(void **state)
{
	struct tpack_hour *h = xcalloc(1, sizeof *h);
	size_t len;

	(void)state;
	/* A constant hour costs a few bytes; a steady one well under 3 bytes a minute. */
	steady_hour(h);
	for (int i = 0; i < TPACK_SLOTS; i++) {
		h->m[i].util_avg = 95;
		h->m[i].temp_max = 70;
		h->m[i].power_dw = 6210;
	}
	len = roundtrip(h);
	assert_true(len < 24);
	steady_hour(h);
	len = roundtrip(h);
	assert_true(len < 120);
	/* One minute held. */
	h->mask = UINT64_C(1) << 59;
	len = roundtrip(h);
	assert_true(len < 40);
	/* An empty hour is a header and a mask. */
	h->mask = 0;
	assert_int_equal(roundtrip(h), 9);
	free(h);
}

static void test_pack_edges(void **state)
{
	struct tpack_hour *h = xcalloc(1, sizeof *h);
	const int64_t ext[] = {INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX - 1, INT64_MAX};

	(void)state;
	/* Extremes in every field, every other minute, fields dropping in and out. */
	h->mask = 0x0aaaaaaaaaaaaaaaULL | (UINT64_C(0xf) << 60); /* bits above 59 are ignored */
	for (int i = 0; i < TPACK_SLOTS; i++) {
		struct tpack_min *m = &h->m[i];

		m->n = ext[i % 7];
		m->n_util = ext[(i + 1) % 7];
		m->util_avg = ext[(i + 2) % 7];
		m->util_max = ext[(i + 3) % 7];
		m->mem_mib = ext[(i + 4) % 7];
		m->temp_max = ext[(i + 5) % 7];
		m->power_dw = ext[(i + 6) % 7];
		m->has = (unsigned)i % 8 | 8; /* a flag the format does not know is dropped */
	}
	roundtrip(h);
	/* Jumps between the extremes in consecutive minutes. */
	h->mask = TPACK_ALL;
	for (int i = 0; i < TPACK_SLOTS; i++) {
		h->m[i].power_dw = i % 2 ? INT64_MAX : INT64_MIN;
		h->m[i].util_avg = i % 3 ? INT64_MIN : INT64_MAX;
		h->m[i].n_util = 1;
	}
	roundtrip(h);
	free(h);
}

static void test_pack_random(void **state)
{
	struct tpack_hour *h = xcalloc(1, sizeof *h);

	(void)state;
	for (int round = 0; round < 3000; round++) {
		int bits = 1 + (int)(rng() % 64);

		h->mask = rng() & rng(); /* about a quarter of the minutes */
		if (round % 3 == 0)
			h->mask = TPACK_ALL;
		for (int i = 0; i < TPACK_SLOTS; i++) {
			struct tpack_min *m = &h->m[i];
			uint64_t lim = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;

			m->n = (int64_t)(rng() % 4 == 0 ? rng() & lim : 60);
			m->n_util = rng() % 8 == 0 ? (int64_t)(rng() % 3) - 1 : m->n;
			m->util_avg = (int64_t)(rng() & lim);
			m->util_max = m->util_avg + (int64_t)(rng() % 8);
			m->mem_mib = (int64_t)(rng() % 16 == 0 ? rng() & lim : 40000);
			m->temp_max = 60 + (int64_t)(rng() % 5);
			m->power_dw = round % 2 ? (int64_t)(rng() & lim) : -(int64_t)(rng() % 1000);
			m->has = (unsigned)(rng() % 8);
		}
		roundtrip(h);
	}
	free(h);
}

static void test_pack_damaged(void **state)
{
	struct tpack_hour *h = xcalloc(1, sizeof *h), *got = xcalloc(1, sizeof *got);
	uint8_t *buf = xmalloc(TPACK_MAX), *bad = xmalloc(TPACK_MAX);
	size_t len;

	(void)state;
	steady_hour(h);
	h->mask &= ~(UINT64_C(1) << 7);
	len = tpack_encode(h, buf);
	/* Every truncation is refused: the last byte holds a bit that is needed. */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(tpack_decode(buf, cut, got), -1);
	/* An unknown format. */
	memcpy(bad, buf, len);
	bad[0] = TPACK_FORMAT + 1;
	assert_int_equal(tpack_decode(bad, len, got), -1);
	/* Flipped bits and garbage: refused or read, never outside the buffer (ASan). */
	for (int i = 0; i < 4000; i++) {
		size_t n = i < 2000 ? len : 1 + rng() % 64;

		if (i < 2000) {
			memcpy(bad, buf, len);
			bad[rng() % len] ^= (uint8_t)(1u << (rng() % 8));
		} else {
			for (size_t j = 0; j < n; j++)
				bad[j] = (uint8_t)rng();
			bad[0] = TPACK_FORMAT;
		}
		(void)tpack_decode(bad, n, got);
	}
	free(h);
	free(got);
	free(buf);
	free(bad);
}

static void test_pack_merge(void **state)
{
	struct tpack_min a, b;

	(void)state;
	/* Weighted, rounded half up: util by n_util, the others by n; maxima; counts add. */
	a = (struct tpack_min){30, 30, 40, 90, 900, 70, 3000, TPACK_FIELDS};
	b = (struct tpack_min){20, 10, 10, 50, 800, 80, 2000, TPACK_FIELDS};
	tpack_merge(&a, &b);
	assert_int_equal(a.n, 50);
	assert_int_equal(a.n_util, 40);
	assert_int_equal(a.util_avg, 33); /* (1200 + 100) / 40 = 32.5 */
	assert_int_equal(a.util_max, 90);
	assert_int_equal(a.mem_mib, 860); /* (27000 + 16000) / 50 */
	assert_int_equal(a.temp_max, 80);
	assert_int_equal(a.power_dw, 2600);
	/* A side without a field leaves the other's. */
	a = (struct tpack_min){10, 0, 0, 0, 500, 0, 1000, TPACK_MEM | TPACK_POWER};
	b = (struct tpack_min){10, 10, 20, 30, 0, 65, 0, TPACK_TEMP};
	tpack_merge(&a, &b);
	assert_int_equal(a.n, 20);
	assert_int_equal(a.n_util, 10);
	assert_int_equal(a.util_avg, 20);
	assert_int_equal(a.util_max, 30);
	assert_int_equal(a.mem_mib, 500);
	assert_int_equal(a.temp_max, 65);
	assert_int_equal(a.power_dw, 1000);
	assert_int_equal(a.has, TPACK_FIELDS);
}

/* ---- the store */

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

static int64_t query(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void exec(sqlite3 *db, const char *sql)
{
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static struct tring_bucket minute(const char *host, int gpu, int64_t start, uint32_t n, double util,
                                  double mem, double temp, double power)
{
	struct tring_bucket b;

	memset(&b, 0, sizeof b);
	b.host = host;
	b.gpu = gpu;
	b.width_s = TRING_1M;
	b.start_ms = start;
	b.n = b.n_util = b.n_mem = b.n_temp = b.n_power = n;
	b.util_avg = util;
	b.util_max = util + 4;
	b.mem_avg = mem;
	b.temp_max = temp;
	b.power_avg = power;
	return b;
}

static void assert_bucket_equal(const struct tring_bucket *a, const struct tring_bucket *b)
{
	assert_int_equal(a->start_ms, b->start_ms);
	assert_int_equal(a->width_s, b->width_s);
	assert_int_equal(a->gpu, b->gpu);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->n_util, b->n_util);
	assert_int_equal(a->n_mem, b->n_mem);
	assert_int_equal(a->n_temp, b->n_temp);
	assert_int_equal(a->n_power, b->n_power);
	assert_float_equal(a->util_avg, b->util_avg, 0);
	assert_float_equal(a->util_max, b->util_max, 0);
	assert_float_equal(a->mem_avg, b->mem_avg, 0);
	assert_float_equal(a->temp_max, b->temp_max, 0);
	assert_float_equal(a->power_avg, b->power_avg, 1e-9);
}

static void series(struct tstore *ts, const char *host, int gpu, int64_t from, int64_t to,
                   struct tring_bucket **out, size_t *n)
{
	char *cause = NULL;

	assert_int_equal(tstore_series(ts, host, gpu, TRING_1M, from, to, out, n, &cause), 0);
	assert_null(cause);
}

/* Samples at 1 Hz through a ring set, flushed each minute as the engine does, for minutes
 * [m0, m1) after T0: two hosts, GPU 0 and 1 of "a" and GPU 3 of "b" (quiet in minutes 20-29,
 * its temperature n/a in minutes 40-44). */
static void feed(struct tstore *ts, struct tring_set *s, int m0, int m1)
{
	char *cause = NULL;

	for (int m = m0; m < m1; m++) {
		struct tring_bucket *b;
		size_t n;

		for (int k = 0; k < 60; k++) {
			int64_t at = T0 + m * MIN + k * 1000;
			struct tele_gpu g;

			memset(&g, 0, sizeof g);
			g.util_pct = (struct tele_val){(m * 7 + k) % 101, k != 13};
			g.mem_used_mib = (struct tele_val){40000 + m / 10 * 512, 1};
			g.temp_c = (struct tele_val){50 + m % 5, 1};
			g.power_w = (struct tele_val){300 + (m * 13 + k) % 50 + 0.25, 1};
			tring_set_push(s, "a", 0, at, &g);
			g.power_w.v += 10;
			tring_set_push(s, "a", 1, at, &g);
			if (m >= 20 && m < 30)
				continue;
			g.temp_c.ok = !(m >= 40 && m < 45);
			tring_set_push(s, "b", 3, at, &g);
		}
		tring_set_close(s, T0 + (m + 1) * MIN);
		b = tring_set_take(s, &n);
		assert_int_equal(tstore_put(ts, b, n, &cause), 0);
		assert_null(cause);
		free(b);
	}
}

static void test_store_packs_closed_hours(void **state)
{
	sqlite3 *db = open_db("pack.db");
	struct tstore *ts = tstore_open(db, NULL);
	struct tring_set *s = tring_set_new(0);
	struct tring_bucket *before[3], *after, *part;
	size_t nb[3], na, np;
	const char *host[3] = {"a", "a", "b"};
	const int gpu[3] = {0, 1, 3};

	(void)state;
	assert_non_null(ts);
	feed(ts, s, 0, 60);
	/* The hour's last minute closed it: packed, one row per GPU. */
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 3);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_open"), 0);
	assert_int_equal(query(db, "SELECT sum(minutes) FROM metrics_1m_packed"), 60 + 60 + 50);
	assert_int_equal(tstore_rows(ts, TRING_1M), 170);
	assert_int_equal(tstore_rows(ts, TRING_1H), 3);
	assert_true(query(db, "SELECT max(length(data)) FROM metrics_1m_packed") < 400);
	tstore_close(ts);

	/* The same minutes kept open (a store where the hour never closes) read back the same. */
	{
		sqlite3 *db2 = open_db("open.db");
		struct tstore *ts2 = tstore_open(db2, NULL);
		struct tring_set *s2 = tring_set_new(0);

		feed(ts2, s2, 0, 59);
		assert_int_equal(query(db2, "SELECT count(*) FROM metrics_1m_packed"), 0);
		assert_int_equal(query(db2, "SELECT count(*) FROM metrics_1m_open"), 59 * 3 - 10);
		for (int i = 0; i < 3; i++)
			series(ts2, host[i], gpu[i], T0, T0 + HOUR, &before[i], &nb[i]);
		tstore_close(ts2);
		tring_set_free(s2);
		close_db(db2, "open.db");
	}
	ts = tstore_open(db, NULL);
	assert_non_null(ts);
	for (int i = 0; i < 3; i++) {
		series(ts, host[i], gpu[i], T0, T0 + HOUR, &after, &na);
		assert_int_equal(na, nb[i] + 1); /* minute 59 too */
		for (size_t j = 0; j < nb[i]; j++)
			assert_bucket_equal(&after[j], &before[i][j]);
		assert_int_equal(after[na - 1].start_ms, T0 + 59 * MIN);
		free(after);
	}
	/* The quiet GPU's gap, and n/a temperatures, survive packing. */
	assert_int_equal(nb[2], 49);
	assert_int_equal(before[2][19].start_ms, T0 + 19 * MIN);
	assert_int_equal(before[2][20].start_ms, T0 + 30 * MIN);
	assert_int_equal(before[2][30].n_temp, 0);
	assert_int_equal(before[2][30].n_util, 59);

	/* Minutes of the next hour go to the open rows; reads join both, oldest first. */
	feed(ts, s, 60, 63);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_open"), 9);
	series(ts, "a", 1, T0 + 58 * MIN, T0 + 62 * MIN + 1, &part, &np);
	assert_int_equal(np, 5);
	for (size_t j = 0; j < np; j++)
		assert_int_equal(part[j].start_ms, T0 + (58 + (int64_t)j) * MIN);
	assert_bucket_equal(&part[0], &before[1][58]);
	free(part);
	/* [from, to) inside a packed hour, unaligned bounds. */
	series(ts, "a", 0, T0 + 10 * MIN - 1, T0 + 12 * MIN - 1, &part, &np);
	assert_int_equal(np, 2);
	assert_int_equal(part[0].start_ms, T0 + 10 * MIN);
	free(part);
	series(ts, "a", 0, T0 + 10 * MIN + 1, T0 + 10 * MIN + 2, &part, &np);
	assert_int_equal(np, 0);
	assert_null(part);
	/* An unknown GPU of a known host: nothing. */
	series(ts, "a", 7, 0, T0 * 2, &part, &np);
	assert_int_equal(np, 0);
	for (int i = 0; i < 3; i++)
		free(before[i]);
	tstore_close(ts);
	tring_set_free(s);
	close_db(db, "pack.db");
}

/* Puts n buckets or fails the test. */
static void put(struct tstore *ts, const struct tring_bucket *b, size_t n)
{
	char *cause = NULL;

	assert_int_equal(tstore_put(ts, b, n, &cause), 0);
	assert_null(cause);
}

static void test_store_late_minutes_merge(void **state)
{
	sqlite3 *db = open_db("late.db"), *ref_db = open_db("late-ref.db");
	struct tstore *ts = tstore_open(db, NULL), *ref = tstore_open(ref_db, NULL);
	struct tring_bucket b[4], *got, *want;
	size_t ng, nw;

	(void)state;
	assert_non_null(ts);
	assert_non_null(ref);
	/* The store gets minute 5, then a minute of the next hour (packing hour T0), then a
	 * second part of minute 5 (a restart) and a minute nobody had: both late. The reference
	 * gets the same before any hour closes, merged by SQL in the open rows. */
	b[0] = minute("h", 0, T0 + 5 * MIN, 30, 40, 900, 70, 300);
	b[1] = minute("h", 0, T0 + HOUR, 60, 50, 900, 71, 310);
	b[2] = minute("h", 0, T0 + 5 * MIN, 20, 10, 800, 80, 200.1);
	b[2].n_temp = 0;
	b[3] = minute("h", 2, T0 + 7 * MIN, 60, 15, 100, 40, 90);
	put(ts, b, 2);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 1);
	put(ts, b + 2, 2);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 2);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_open"), 1);
	put(ref, b, 1);
	put(ref, b + 2, 2);
	assert_int_equal(query(ref_db, "SELECT count(*) FROM metrics_1m_packed"), 0);
	for (int gpu = 0; gpu <= 2; gpu += 2) {
		series(ts, "h", gpu, T0, T0 + HOUR, &got, &ng);
		series(ref, "h", gpu, T0, T0 + HOUR, &want, &nw);
		assert_int_equal(ng, 1);
		assert_int_equal(nw, 1);
		assert_bucket_equal(&got[0], &want[0]);
		free(got);
		free(want);
	}
	series(ts, "h", 0, T0, T0 + HOUR, &got, &ng);
	assert_int_equal(got[0].n, 50);
	assert_float_equal(got[0].util_avg, 28, 0); /* (40 * 30 + 10 * 20 + 25) / 50 */
	assert_float_equal(got[0].temp_max, 70, 0);
	assert_float_equal(got[0].power_avg, 260, 1e-9); /* (3000 * 30 + 2001 * 20 + 25) / 50 */
	free(got);
	assert_int_equal(tstore_rows(ts, TRING_1M), 3);
	tstore_close(ts);
	tstore_close(ref);
	close_db(db, "late.db");
	close_db(ref_db, "late-ref.db");
}

static void test_store_prune_trims_packed_hours(void **state)
{
	sqlite3 *db = open_db("trim.db");
	struct tstore *ts = tstore_open(db, NULL);
	struct tstore_retention keep = {3600, 0};
	struct tring_bucket b[61], *got;
	int64_t deleted = -1, now;
	size_t ng;

	(void)state;
	assert_non_null(ts);
	for (int i = 0; i < 60; i++)
		b[i] = minute("p", 1, T0 + i * MIN, 60, i, 1000, 50, 100);
	b[60] = minute("p", 1, T0 + HOUR, 60, 1, 1000, 50, 100);
	put(ts, b, 61);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 1);
	/* Minutes that ended an hour before now go: at T0 + 1 h 20 min, minutes 0-19 of hour T0
	 * (minute 19 ended at T0 + 20 min exactly); the packed hour is trimmed. */
	now = T0 + HOUR + 20 * MIN;
	assert_int_equal(tstore_prune(ts, now, &keep, &deleted, NULL), 0);
	assert_int_equal(deleted, 20);
	assert_int_equal(tstore_rows(ts, TRING_1M), 41);
	assert_int_equal(query(db, "SELECT minutes FROM metrics_1m_packed"), 40);
	series(ts, "p", 1, 0, T0 * 2, &got, &ng);
	assert_int_equal(ng, 41);
	assert_int_equal(got[0].start_ms, T0 + 20 * MIN);
	assert_float_equal(got[0].util_avg, 20, 0);
	assert_int_equal(got[39].start_ms, T0 + 59 * MIN);
	assert_float_equal(got[39].util_avg, 59, 0);
	assert_int_equal(got[40].start_ms, T0 + HOUR);
	free(got);
	/* Again at the same time: nothing more. */
	assert_int_equal(tstore_prune(ts, now, &keep, &deleted, NULL), 0);
	assert_int_equal(deleted, 0);
	/* All but the hour's last minute; that one, with the row; then the open minute. */
	assert_int_equal(tstore_prune(ts, T0 + 2 * HOUR - MIN, &keep, &deleted, NULL), 0);
	assert_int_equal(deleted, 39);
	assert_int_equal(query(db, "SELECT minutes FROM metrics_1m_packed"), 1);
	assert_int_equal(tstore_prune(ts, T0 + 2 * HOUR, &keep, &deleted, NULL), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 0);
	assert_int_equal(tstore_rows(ts, TRING_1M), 1);
	assert_int_equal(tstore_prune(ts, T0 + 2 * HOUR + MIN, &keep, &deleted, NULL), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 0);
	assert_int_equal(tstore_rows(ts, TRING_1M), 0);
	tstore_close(ts);
	close_db(db, "trim.db");
}

static void test_store_migrates_first_format(void **state)
{
	sqlite3 *db = open_db("old.db"), *ro;
	struct tstore *ts;
	struct tring_bucket *got;
	char path[512], *cause = NULL;
	size_t ng;

	(void)state;
	/* The first format's table next to the new ones (a store written by both versions). */
	ts = tstore_open(db, &cause);
	assert_non_null(ts);
	tstore_close(ts);
	exec(db, "CREATE TABLE metrics_1m (host INTEGER NOT NULL, gpu INTEGER NOT NULL,"
	         " bucket_start INTEGER NOT NULL, n INTEGER NOT NULL, n_util INTEGER NOT NULL,"
	         " util_avg INTEGER, util_max INTEGER, mem_mib INTEGER, temp_max INTEGER,"
	         " power_dw INTEGER, PRIMARY KEY (host, gpu, bucket_start)) WITHOUT ROWID;"
	         "INSERT INTO metrics_hosts VALUES (5, 'old-host');"
	         "WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < 61)"
	         " INSERT INTO metrics_1m SELECT 5, 2, 1699999200 + i * 60, 60, 60, i, i + 1,"
	         " 2048, 60, 1234 FROM m;"
	         "INSERT INTO metrics_1m VALUES (5, 2, 1699999230, 1, 1, 1, 1, 1, 1, 1);"
	         "INSERT INTO metrics_1m VALUES (5, 3, 1699999260, 60, 0, NULL, NULL, NULL,"
	         " 40, NULL)");
	/* A read-only connection opens the store and leaves the old table alone. */
	snprintf(path, sizeof path, "%s/old.db", tmpdir);
	assert_int_equal(sqlite3_open_v2(path, &ro, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ts = tstore_open(ro, &cause);
	assert_null(cause);
	assert_non_null(ts);
	assert_int_equal(tstore_rows(ts, TRING_1M), 0);
	tstore_close(ts);
	sqlite3_close(ro);
	assert_int_equal(query(db, "SELECT count(*) FROM sqlite_master WHERE name = 'metrics_1m'"),
	                 1);

	ts = tstore_open(db, &cause);
	assert_null(cause);
	assert_non_null(ts);
	assert_int_equal(query(db, "SELECT count(*) FROM sqlite_master WHERE name = 'metrics_1m'"),
	                 0);
	/* 62 aligned minutes and one more GPU: hour T0 packed (both GPUs), two minutes open; the
	 * minute that was not on a minute boundary is dropped. */
	assert_int_equal(tstore_rows(ts, TRING_1M), 63);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 2);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_open"), 2);
	series(ts, "old-host", 2, 0, T0 * 2, &got, &ng);
	assert_int_equal(ng, 62);
	for (size_t i = 0; i < ng; i++) {
		assert_int_equal(got[i].start_ms, T0 + (int64_t)i * MIN);
		assert_float_equal(got[i].util_avg, (double)i, 0);
		assert_float_equal(got[i].util_max, (double)i + 1, 0);
		assert_float_equal(got[i].power_avg, 123.4, 1e-9);
	}
	free(got);
	series(ts, "old-host", 3, 0, T0 * 2, &got, &ng);
	assert_int_equal(ng, 1);
	assert_int_equal(got[0].n_util, 0);
	assert_int_equal(got[0].n_mem, 0);
	assert_int_equal(got[0].n_temp, 60);
	free(got);
	tstore_close(ts);
	close_db(db, "old.db");
}

static void test_store_damaged_and_bad_input(void **state)
{
	sqlite3 *db = open_db("dmg.db");
	struct tstore *ts = tstore_open(db, NULL);
	struct tstore_retention keep = {3600, 0};
	struct tring_bucket b[2], *got;
	char *cause = NULL;
	size_t ng;

	(void)state;
	assert_non_null(ts);
	b[0] = minute("d", 0, T0 + 3 * MIN, 60, 50, 100, 40, 100);
	b[1] = minute("d", 0, T0 + HOUR, 60, 50, 100, 40, 100);
	put(ts, b, 2);
	exec(db, "UPDATE metrics_1m_packed SET data = x'01ff'");
	assert_int_equal(tstore_series(ts, "d", 0, TRING_1M, T0, T0 + HOUR, &got, &ng, &cause), -1);
	assert_non_null(strstr(cause, "damaged packed minutes"));
	assert_null(got);
	assert_int_equal(ng, 0);
	free(cause);
	cause = NULL;
	/* The open hour still reads; a late minute replaces the damaged row. */
	series(ts, "d", 0, T0 + HOUR, T0 + 2 * HOUR, &got, &ng);
	assert_int_equal(ng, 1);
	free(got);
	put(ts, b, 1);
	series(ts, "d", 0, T0, T0 + HOUR, &got, &ng);
	assert_int_equal(ng, 1);
	assert_int_equal(got[0].n, 60);
	free(got);
	/* A damaged row straddling a prune stays until it expires whole. */
	exec(db, "UPDATE metrics_1m_packed SET data = x'00'");
	assert_int_equal(tstore_prune(ts, T0 + HOUR + 30 * MIN, &keep, NULL, &cause), 0);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 1);

	/* Starts not on the bucket's boundary, or beyond what packed ids hold, are refused. */
	b[0].start_ms = T0 + 30000;
	assert_int_equal(tstore_put(ts, b, 1, &cause), -1);
	assert_string_equal(cause, "metrics store: bucket start 1699999230000 ms is not a "
	                           "multiple of 60 s");
	free(cause);
	cause = NULL;
	b[0].start_ms = INT64_C(9000000000000) * 1000;
	assert_int_equal(tstore_put(ts, b, 1, &cause), -1);
	assert_non_null(strstr(cause, "out of range"));
	free(cause);
	cause = NULL;
	b[0].width_s = TRING_1H;
	b[0].start_ms = T0 + MIN;
	assert_int_equal(tstore_put(ts, b, 1, &cause), -1);
	assert_non_null(strstr(cause, "not a multiple of 3600 s"));
	free(cause);
	tstore_close(ts);
	close_db(db, "dmg.db");
}

/* ---- the hour close by series ranges */

#define FLEET_HOSTS 12
#define FLEET_GPUS  16 /* 192 series: 12 ranges of 16, the last one short */

/* Minute m (from T0) of the fleet: random values, fields and minutes missing now and then. */
static size_t fleet_minute(int m, struct tring_bucket *b, char names[][8])
{
	size_t n = 0;

	for (int h = 0; h < FLEET_HOSTS; h++)
		for (int g = 0; g < FLEET_GPUS; g++) {
			struct tring_bucket *x = &b[n];

			if (rng() % 23 == 0)
				continue; /* a minute the GPU did not report */
			*x = minute(names[h], g, T0 + m * MIN, 1 + (uint32_t)(rng() % 60),
			            (double)(rng() % 101), (double)(rng() % 80000),
			            (double)(30 + rng() % 60), 50 + (double)(rng() % 6000) / 10);
			if (rng() % 7 == 0)
				x->n_util = 0;
			if (rng() % 11 == 0)
				x->n_temp = 0;
			if (rng() % 13 == 0)
				x->n_mem = 0;
			n++;
		}
	return n;
}

/* Feeds minutes [m0, m1) of the fleet into both stores (the same buckets). */
static void fleet_feed(struct tstore *a, struct tstore *b, int m0, int m1)
{
	static char names[FLEET_HOSTS][8];
	struct tring_bucket v[FLEET_HOSTS * FLEET_GPUS];

	for (int h = 0; h < FLEET_HOSTS; h++)
		snprintf(names[h], sizeof names[h], "w%02d", h);
	for (int m = m0; m < m1; m++) {
		size_t n = fleet_minute(m, v, names);

		if (a != NULL)
			put(a, v, n);
		if (b != NULL)
			put(b, v, n);
	}
}

/* The minute tables as text: every packed row (id, minutes, data) and every open row. */
static char *dump(sqlite3 *db)
{
	static const char *const sql[] = {
	    "SELECT id, minutes, hex(data) FROM metrics_1m_packed ORDER BY id",
	    "SELECT bucket_start, series, n, n_util, util_avg, util_max, mem_mib, temp_max,"
	    " power_dw FROM metrics_1m_open ORDER BY bucket_start, series",
	};
	size_t len = 0, cap = 4096;
	char *out = xmalloc(cap);

	out[0] = '\0';
	for (size_t q = 0; q < 2; q++) {
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(db, sql[q], -1, &st, NULL), SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW)
			for (int c = 0; c < sqlite3_column_count(st); c++) {
				const char *t = (const char *)sqlite3_column_text(st, c);
				size_t need = (t != NULL ? strlen(t) : 4) + 2;

				while (len + need >= cap)
					out = xrealloc(out, cap *= 2);
				len += (size_t)snprintf(
				    out + len, cap - len, "%s%c", t != NULL ? t : "NULL",
				    c + 1 == sqlite3_column_count(st) ? '\n' : ' ');
			}
		sqlite3_finalize(st);
		while (len + 2 >= cap)
			out = xrealloc(out, cap *= 2);
		len += (size_t)snprintf(out + len, cap - len, "--\n");
	}
	return out;
}

static void assert_same_tables(sqlite3 *a, sqlite3 *b)
{
	char *x = dump(a), *y = dump(b);

	assert_true(strlen(x) > 1000);
	assert_string_equal(x, y);
	free(x);
	free(y);
}

static int close_hours(struct tstore *ts, int range, int max_steps)
{
	char *cause = NULL;
	int rc = tstore_close_hours(ts, range, max_steps, NULL, &cause);

	assert_null(cause);
	assert_true(rc >= 0);
	return rc;
}

/* The reference packs in tstore_put, one transaction per closing hour; the other store keeps
 * its minutes open and closes two ended hours (plus rows left open in an hour packed already,
 * as a restart leaves them) by ranges of 16 series: the same rows, byte for byte. */
static void test_close_ranged_equals_packing(void **state)
{
	sqlite3 *ref_db = open_db("close-ref.db"), *db = open_db("close.db");
	struct tstore *ref = tstore_open(ref_db, NULL), *ts = tstore_open(db, NULL);

	(void)state;
	assert_non_null(ref);
	assert_non_null(ts);
	tstore_defer_close(ts, 1);
	fleet_feed(ref, ts, 0, 125);
	assert_int_equal(query(ref_db, "SELECT min(bucket_start) FROM metrics_1m_open"),
	                 T0 / 1000 + 2 * 3600);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 0);
	assert_int_equal(tstore_close_due(ts, NULL), 1);
	assert_int_equal(close_hours(ts, 16, 0), 0);
	assert_int_equal(tstore_close_due(ts, NULL), 0);
	assert_same_tables(ref_db, db);
	/* Rows left open in hour 1 (packed already): merged into the packed rows alike. */
	for (sqlite3 **d = (sqlite3 *[]){ref_db, db, NULL}; *d != NULL; d++)
		exec(*d,
		     "INSERT INTO metrics_1m_open SELECT bucket_start - 3600, series, n, n_util,"
		     " util_avg, util_max, mem_mib, temp_max, power_dw FROM metrics_1m_open"
		     " WHERE series % 3 = 0");
	fleet_feed(ref, ts, 125, 181); /* the reference packs hours 1 and 2 as minute 179 ends */
	assert_int_equal(close_hours(ts, 16, 0), 0);
	assert_same_tables(ref_db, db);
	/* Nothing ended is left: running it again changes nothing. */
	assert_int_equal(close_hours(ts, 16, 0), 0);
	assert_same_tables(ref_db, db);
	tstore_close(ref);
	tstore_close(ts);
	close_db(ref_db, "close-ref.db");
	close_db(db, "close.db");
}

/* A close cut after three ranges (the connection closed as by a crash: only committed ranges
 * count) leaves the rest of the hour open, readable as before; run again on a new connection
 * it ends with the same rows as the reference. */
static void test_close_interrupted_resumes(void **state)
{
	sqlite3 *ref_db = open_db("cut-ref.db"), *db = open_db("cut.db");
	struct tstore *ref = tstore_open(ref_db, NULL), *ts = tstore_open(db, NULL);
	struct tring_bucket *got, *want;
	size_t ng, nw;
	char path[512];

	(void)state;
	tstore_defer_close(ts, 1);
	fleet_feed(ref, ts, 0, 61);
	assert_int_equal(close_hours(ts, 16, 3), 1);
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 48);
	assert_true(query(db, "SELECT count(*) FROM metrics_1m_open WHERE bucket_start < " //
	                      "1700002800") > 0);
	assert_int_equal(tstore_close_due(ts, NULL), 1);
	/* Every series reads back the same, packed or not yet. */
	for (int h = 0; h < FLEET_HOSTS; h += 5) {
		char name[8];

		snprintf(name, sizeof name, "w%02d", h);
		series(ts, name, 3, T0, T0 + 2 * HOUR, &got, &ng);
		series(ref, name, 3, T0, T0 + 2 * HOUR, &want, &nw);
		assert_int_equal(ng, nw);
		for (size_t i = 0; i < ng; i++)
			assert_bucket_equal(&got[i], &want[i]);
		free(got);
		free(want);
	}
	tstore_close(ts);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	snprintf(path, sizeof path, "%s/cut.db", tmpdir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	ts = tstore_open(db, NULL);
	assert_non_null(ts);
	assert_int_equal(close_hours(ts, 16, 0), 0);
	assert_same_tables(ref_db, db);
	tstore_close(ref);
	tstore_close(ts);
	close_db(ref_db, "cut-ref.db");
	close_db(db, "cut.db");
}

/* The close on a thread with its own connection, stopped after its second range until the
 * test's connection (the loop's) has written minutes of the new hour and an idle span. */
struct mid {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int ranges, paused, wrote, timed_out;
	sqlite3 *db;
	struct tstore *ts;
	int rc;
};

static void mid_hook(void *arg)
{
	struct mid *m = arg;
	struct timespec dl;

	pthread_mutex_lock(&m->mu);
	if (++m->ranges == 2) {
		m->paused = 1;
		pthread_cond_broadcast(&m->cond);
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 60; /* never wait forever on a broken test */
		while (!m->wrote && !m->timed_out)
			m->timed_out = pthread_cond_timedwait(&m->cond, &m->mu, &dl) != 0;
	}
	pthread_mutex_unlock(&m->mu);
}

static void *mid_thread(void *arg)
{
	struct mid *m = arg;

	m->rc = tstore_close_hours(m->ts, 16, 0, NULL, NULL);
	return NULL;
}

static void test_close_writes_proceed(void **state)
{
	sqlite3 *ref_db = open_db("mid-ref.db"), *db = open_db("mid.db"), *wdb;
	struct tstore *ref = tstore_open(ref_db, NULL), *ts = tstore_open(db, NULL);
	struct mid m = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
	pthread_t th;
	char path[512];

	(void)state;
	tstore_defer_close(ts, 1);
	fleet_feed(ref, ts, 0, 61);
	exec(db, "CREATE TABLE idle (job TEXT, start_ms INTEGER, end_ms INTEGER)");
	exec(ref_db, "CREATE TABLE idle (job TEXT, start_ms INTEGER, end_ms INTEGER)");
	/* the closer: a connection of its own, as core/tele_close.c opens it */
	snprintf(path, sizeof path, "%s/mid.db", tmpdir);
	assert_int_equal(sqlite3_open(path, &wdb), SQLITE_OK);
	sqlite3_busy_timeout(wdb, 20000);
	sqlite3_busy_timeout(db, 20000);
	m.db = wdb;
	m.ts = tstore_open(wdb, NULL);
	assert_non_null(m.ts);
	tstore_close_hook(m.ts, mid_hook, &m);
	assert_int_equal(pthread_create(&th, NULL, mid_thread, &m), 0);
	pthread_mutex_lock(&m.mu);
	{
		struct timespec dl;

		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 60; /* never wait forever on a broken close */
		while (!m.paused && pthread_cond_timedwait(&m.cond, &m.mu, &dl) == 0)
			;
	}
	pthread_mutex_unlock(&m.mu);
	assert_int_equal(m.paused, 1);
	/* The close is half done: the loop's connection writes all the same. */
	assert_int_equal(query(db, "SELECT count(*) FROM metrics_1m_packed"), 32);
	fleet_feed(ref, ts, 61, 63);
	exec(db, "INSERT INTO idle VALUES ('j1', 1, 2)");
	exec(ref_db, "INSERT INTO idle VALUES ('j1', 1, 2)");
	pthread_mutex_lock(&m.mu);
	m.wrote = 1;
	pthread_cond_broadcast(&m.cond);
	pthread_mutex_unlock(&m.mu);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(m.timed_out, 0);
	assert_int_equal(m.rc, 0);
	assert_true(m.ranges >= 12);
	assert_int_equal(query(db, "SELECT count(*) FROM idle"), 1);
	assert_same_tables(ref_db, db);
	tstore_close(m.ts);
	assert_int_equal(sqlite3_close(wdb), SQLITE_OK);
	tstore_close(ref);
	tstore_close(ts);
	close_db(ref_db, "mid-ref.db");
	close_db(db, "mid.db");
}

/* Runs the loop until the closer is idle, writing an idle span on the loop's connection at
 * each turn (60 s deadline). */
static void run_until_idle(struct loop *l, struct tclose *tc, sqlite3 *db)
{
	uint64_t end = loop_now_ms() + 60000;
	int i = 0;

	while (tclose_busy(tc) && loop_now_ms() < end) {
		char sql[128];

		snprintf(sql, sizeof sql, "INSERT INTO idle VALUES ('j', %d, %d)", i, i + 1);
		exec(db, sql);
		i++;
		loop_run_once(l, 5);
	}
	assert_false(tclose_busy(tc));
}

/* The engine's closer (core/tele_close.c): kicked twice, it runs twice on its thread and hands
 * each end back to the loop; freed while it runs, it stops between two ranges and a later one
 * finishes the hour: the rows of the single-transaction packing. */
static void test_close_on_thread(void **state)
{
	sqlite3 *ref_db = open_db("thr-ref.db"), *db = open_db("thr.db");
	struct tstore *ref = tstore_open(ref_db, NULL), *ts = tstore_open(db, NULL);
	struct loop *l = loop_new();
	struct tclose *tc;
	unsigned failed = 9;

	(void)state;
	tstore_defer_close(ts, 1);
	fleet_feed(ref, ts, 0, 61);
	exec(db, "CREATE TABLE idle (job TEXT, start_ms INTEGER, end_ms INTEGER)");
	/* freed at once: stopped before or between ranges, nothing lost */
	tc = tclose_new(l, db);
	assert_non_null(tc);
	tclose_kick(tc);
	tclose_free(tc);
	assert_true(query(db, "SELECT count(*) FROM metrics_1m_packed") < 192);
	tc = tclose_new(l, db);
	tclose_kick(tc);
	tclose_kick(tc);
	assert_true(tclose_busy(tc));
	run_until_idle(l, tc, db);
	assert_int_equal(tclose_runs(tc, &failed), 2);
	assert_int_equal(failed, 0);
	assert_int_equal(tstore_close_due(ts, NULL), 0);
	assert_same_tables(ref_db, db);
	/* the next hour: the loop's minutes meanwhile, then its close */
	fleet_feed(ref, ts, 61, 121);
	tclose_kick(tc);
	run_until_idle(l, tc, db);
	assert_int_equal(tclose_runs(tc, &failed), 3);
	assert_int_equal(failed, 0);
	assert_same_tables(ref_db, db);
	tclose_free(tc);
	loop_free(l);
	tstore_close(ref);
	tstore_close(ts);
	close_db(ref_db, "thr-ref.db");
	close_db(db, "thr.db");
}

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/gantry-store-XXXXXX",
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
	    cmocka_unit_test(test_pack_sizes),
	    cmocka_unit_test(test_pack_edges),
	    cmocka_unit_test(test_pack_random),
	    cmocka_unit_test(test_pack_damaged),
	    cmocka_unit_test(test_pack_merge),
	    cmocka_unit_test(test_store_packs_closed_hours),
	    cmocka_unit_test(test_store_late_minutes_merge),
	    cmocka_unit_test(test_store_prune_trims_packed_hours),
	    cmocka_unit_test(test_store_migrates_first_format),
	    cmocka_unit_test(test_store_damaged_and_bad_input),
	    cmocka_unit_test(test_close_ranged_equals_packing),
	    cmocka_unit_test(test_close_interrupted_resumes),
	    cmocka_unit_test(test_close_writes_proceed),
	    cmocka_unit_test(test_close_on_thread),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
