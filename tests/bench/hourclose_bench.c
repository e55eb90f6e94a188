/* hourclose_bench.c: how long the engine loop is blocked when an hour of GPU history closes.
 * WORKERS hosts x GPUS GPUs have a full hour of open minutes (metrics_1m_open, a WAL file with
 * the engine's pragmas); then the minute that closes the hour is flushed while the loop side
 * keeps writing an idle span (core/store_idle.c's statements, on the same connection) every
 * 10 ms, as engine_tele_tick does for idle jobs. The figure is the longest a loop-side step
 * waited past its due time (or ran): the loop's stall.
 *
 * before: tstore_put packs the hour in its own transaction, on the loop (the old way).
 * after:  tstore_put keeps the minutes open and the close runs as core/tele_close.c runs it:
 *         tstore_close_hours on a thread with its own connection (busy timeout 5 s), by ranges
 *         of TSTORE_CLOSE_RANGE series; the loop keeps ticking until it is done. Both packings
 *         are then compared row for row.
 *
 * usage: hourclose_bench [WORKERS [GPUS]]   (defaults 1000 8). Files go to a private
 * directory under $TMPDIR, removed after. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/tele_ring.h"
#include "core/tele_store.h"
#include "core/xmalloc.h"

#define T0_MS   1767225600000LL /* 2026-01-01T00:00:00Z, an hour boundary */
#define TICK_MS 10

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "hourclose_bench: %s: %s\n", what, why);
	exit(1);
}

static void exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		die(sql, err != NULL ? err : sqlite3_errmsg(db));
}

/* The engine's store settings (core/store.c). */
static sqlite3 *open_db(const char *path)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	sqlite3_busy_timeout(db, 5000);
	exec_sql(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
	return db;
}

/* Minute m of every GPU. */
static size_t fleet_minute(size_t workers, size_t gpus, char **names, int m, struct tring_bucket *b)
{
	size_t n = 0;

	for (size_t w = 0; w < workers; w++)
		for (size_t g = 0; g < gpus; g++, n++) {
			struct tring_bucket *x = &b[n];
			double u = (double)(rng() % 101);

			memset(x, 0, sizeof *x);
			x->host = names[w];
			x->gpu = (int)g;
			x->width_s = TRING_1M;
			x->start_ms = T0_MS + (int64_t)m * 60000;
			x->n = x->n_util = x->n_mem = x->n_temp = x->n_power = 60;
			x->util_avg = u;
			x->util_max = u + (double)(rng() % 5);
			x->mem_avg = 20000 + (double)(rng() % 4096);
			x->temp_max = 40 + (double)(rng() % 40);
			x->power_avg = 80 + u * 6 + (double)(rng() % 100) / 10;
		}
	return n;
}

/* store_idle_extend's statements (core/store_idle.c), on the loop's connection. */
static void idle_write(sqlite3 *db, int64_t start, int64_t end)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db,
	                       "UPDATE job_idle SET end_ms = MAX(end_ms, ?3) WHERE job_id = ?1 AND "
	                       "start_ms = (SELECT MAX(start_ms) FROM job_idle WHERE job_id = ?1) "
	                       "AND end_ms >= ?2 - ?4 AND start_ms <= ?2",
	                       -1, &st, NULL) != SQLITE_OK)
		die("idle", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, "job", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, start);
	sqlite3_bind_int64(st, 3, end);
	sqlite3_bind_int64(st, 4, 5000);
	if (sqlite3_step(st) != SQLITE_DONE)
		die("idle", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (sqlite3_changes(db) > 0)
		return;
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO job_idle VALUES ('job', ?1, ?2)", -1,
	                       &st, NULL) != SQLITE_OK)
		die("idle", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, start);
	sqlite3_bind_int64(st, 2, end);
	if (sqlite3_step(st) != SQLITE_DONE)
		die("idle", sqlite3_errmsg(db));
	sqlite3_finalize(st);
}

struct closer {
	char *path;
	atomic_int done;
	int rc, ranges;
	double ms;
};

static void closer_hook(void *arg)
{
	((struct closer *)arg)->ranges++;
}

static void *closer_run(void *arg)
{
	struct closer *c = arg;
	sqlite3 *db = open_db(c->path);
	struct tstore *ts = tstore_open(db, NULL);
	double t0 = mono_ms();

	if (ts == NULL)
		die(c->path, "tstore_open");
	tstore_close_hook(ts, closer_hook, c);
	tstore_close_gap(ts, TSTORE_CLOSE_GAP_US); /* as core/tele_close.c */
	c->rc = tstore_close_hours(ts, TSTORE_CLOSE_RANGE, 0, NULL, NULL);
	c->ms = mono_ms() - t0;
	tstore_close(ts);
	sqlite3_close(db);
	atomic_store(&c->done, 1);
	return NULL;
}

struct result {
	double stall_ms; /* longest a loop step waited past its due time, or ran */
	double other_ms; /* the same, ticks without the flush */
	double put_ms;   /* the flush of the closing minute, on the loop */
	double close_ms; /* the close's wall time (after: on its thread) */
	int ranges, ticks;
	int64_t packed;
};

/* Fills path with an hour of open minutes, then runs the loop through the hour's close. */
static void run(const char *path, size_t workers, size_t gpus, char **names, int threaded,
                struct result *r)
{
	sqlite3 *db = open_db(path);
	struct tstore *ts = tstore_open(db, NULL);
	struct tring_bucket *b = xcalloc(workers * gpus, sizeof *b);
	struct closer c = {.path = (char *)path};
	pthread_t th;
	double next, start;
	int64_t at = 0;
	size_t n;

	if (ts == NULL)
		die(path, "tstore_open");
	memset(r, 0, sizeof *r);
	atomic_init(&c.done, 0);
	exec_sql(db, "CREATE TABLE job_idle (job_id TEXT NOT NULL, start_ms INTEGER NOT NULL,"
	             " end_ms INTEGER NOT NULL, PRIMARY KEY (job_id, start_ms))");
	rng_state = 0x2545f4914f6cdd1dULL;
	tstore_defer_close(ts, 1);
	for (int m = 0; m < 60; m++) {
		n = fleet_minute(workers, gpus, names, m, b);
		if (tstore_put(ts, b, n, NULL) != 0)
			die(path, "put");
	}
	exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	tstore_defer_close(ts, threaded);
	if (threaded)
		tstore_busy_fine(db); /* as tclose_new does to the loop's connection */
	n = fleet_minute(workers, gpus, names, 60, b);
	/* the loop: ticks every TICK_MS; the closing minute is flushed at the 10th */
	start = next = mono_ms();
	for (int tick = 0;; tick++) {
		double now = mono_ms(), t;

		if (now < next) {
			struct timespec d = {0, (long)((next - now) * 1e6)};

			nanosleep(&d, NULL);
		}
		t = mono_ms();
		idle_write(db, at, at + TICK_MS);
		at += TICK_MS;
		if (tick == 10) {
			double p = mono_ms();

			if (tstore_put(ts, b, n, NULL) != 0)
				die(path, "put");
			r->put_ms = mono_ms() - p;
			if (!threaded)
				r->close_ms = r->put_ms;
			else if (tstore_close_due(ts, NULL) == 1)
				pthread_create(&th, NULL, closer_run, &c);
			else
				die(path, "no hour to close");
		}
		now = mono_ms();
		if (now - next > r->stall_ms)
			r->stall_ms = now - next;
		if (tick != 10 && now - next > r->other_ms)
			r->other_ms = now - next;
		(void)t;
		next += TICK_MS;
		if (next < now) /* a stall: the next tick is due now, not in a burst */
			next = now;
		r->ticks = tick + 1;
		if (tick > 10 && (!threaded || atomic_load(&c.done)) && tick >= 30)
			break;
	}
	(void)start;
	if (threaded) {
		pthread_join(th, NULL);
		if (c.rc != 0)
			die(path, "close");
		r->close_ms = c.ms;
		r->ranges = c.ranges;
	}
	{
		sqlite3_stmt *st;

		sqlite3_prepare_v2(db, "SELECT count(*) FROM metrics_1m_packed", -1, &st, NULL);
		if (sqlite3_step(st) == SQLITE_ROW)
			r->packed = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	free(b);
	tstore_close(ts);
	sqlite3_close(db);
}

/* 1 when both files hold the same packed and open rows. */
static int same(const char *a, const char *b)
{
	sqlite3 *db = open_db(a);
	char *sql = xprintf("ATTACH '%s' AS o", b);
	sqlite3_stmt *st;
	int64_t diff = -1;

	exec_sql(db, sql);
	free(sql);
	sqlite3_prepare_v2(db,
	                   "SELECT (SELECT count(*) FROM (SELECT * FROM main.metrics_1m_packed"
	                   " EXCEPT SELECT * FROM o.metrics_1m_packed))"
	                   " + (SELECT count(*) FROM (SELECT * FROM o.metrics_1m_packed"
	                   " EXCEPT SELECT * FROM main.metrics_1m_packed))"
	                   " + (SELECT count(*) FROM (SELECT * FROM main.metrics_1m_open"
	                   " EXCEPT SELECT * FROM o.metrics_1m_open))"
	                   " + (SELECT count(*) FROM (SELECT * FROM o.metrics_1m_open"
	                   " EXCEPT SELECT * FROM main.metrics_1m_open))",
	                   -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		diff = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return diff == 0;
}

static void rm_db(const char *path)
{
	char *p;

	unlink(path);
	p = xprintf("%s-wal", path);
	unlink(p);
	free(p);
	p = xprintf("%s-shm", path);
	unlink(p);
	free(p);
}

int main(int argc, char **argv)
{
	size_t workers = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	size_t gpus = argc > 2 ? strtoul(argv[2], NULL, 10) : 8;
	const char *base = getenv("TMPDIR");
	char dir[512], **names;
	char *pa, *pb;
	struct result before, after;
	int eq;

	if (workers == 0 || gpus == 0)
		die("usage", "hourclose_bench [WORKERS [GPUS]]");
	snprintf(dir, sizeof dir, "%s/hourclose-XXXXXX", base != NULL && *base ? base : "/tmp");
	if (mkdtemp(dir) == NULL)
		die(dir, "mkdtemp");
	names = xcalloc(workers, sizeof *names);
	for (size_t w = 0; w < workers; w++)
		names[w] = xprintf("worker-%04zu", w);
	pa = xprintf("%s/before.db", dir);
	pb = xprintf("%s/after.db", dir);
	run(pa, workers, gpus, names, 0, &before);
	run(pb, workers, gpus, names, 1, &after);
	eq = same(pa, pb);
	printf("hour close, %zu GPUs (%zu x %zu), a loop-side idle-span write every %d ms:\n\n",
	       workers * gpus, workers, gpus, TICK_MS);
	printf("| hour close | longest loop stall | of which the closing minute's flush |"
	       " longest stall of the other ticks | close, wall | transactions |\n"
	       "| --- | --- | --- | --- | --- | --- |\n");
	printf("| before: packed inside tstore_put, on the loop | %.1f ms | %.1f ms | %.1f ms |"
	       " %.1f ms | 1 |\n",
	       before.stall_ms, before.put_ms, before.other_ms, before.close_ms);
	printf("| after: ranges of %d series on a thread | %.1f ms | %.1f ms | %.1f ms | %.1f ms |"
	       " %d |\n",
	       TSTORE_CLOSE_RANGE, after.stall_ms, after.put_ms, after.other_ms, after.close_ms,
	       after.ranges);
	printf("\npacked rows %lld / %lld, same rows: %s\n", (long long)before.packed,
	       (long long)after.packed, eq ? "yes" : "NO");
	rm_db(pa);
	rm_db(pb);
	rmdir(dir);
	free(pa);
	free(pb);
	for (size_t w = 0; w < workers; w++)
		free(names[w]);
	free(names);
	return eq && before.packed == after.packed ? 0 : 1;
}
