/* ingest_bench.c: telemetry ingest at fleet scale. WORKERS hosts x GPUS GPUs report one sample
 * a second; SECONDS rounds of samples are generated as fast as the machine allows and pushed
 * through Gantry's pipeline: per-GPU rings and the 1-minute / 1-hour aggregator
 * (core/tele_ring.c), with closed buckets flushed once a minute into sqlite (core/tele_store.c,
 * a WAL file with the engine's pragmas, checkpointed after each flush). Only the pipeline's
 * CPU time is counted (CLOCK_PROCESS_CPUTIME_ID around it, sample generation excluded); divided
 * by the simulated seconds it is the share of one core the pipeline needs at 1 Hz.
 *
 * Store growth: the simulation then runs on for GROWTH_MINUTES more minutes (one hour bucket
 * closes per GPU and hour); the bytes each table holds (sqlite's dbstat) over the second half
 * of the run give bytes per 1-minute bucket row and per 1-hour row, hence bytes a day and the
 * steady-state size with 7 days of minutes and 90 days of hours. Prune cost is measured on the
 * oldest minutes.
 *
 * Reference, in the same run on the same samples: every sample written raw (one row a sample,
 * same integer encoding and primary key, one transaction a second) into another WAL file.
 *
 * usage: ingest_bench [WORKERS [GPUS [SECONDS [GROWTH_MINUTES]]]]   (defaults 1000 8 60 60)
 * Prints markdown table rows. Files go to a private directory under $TMPDIR, removed after. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/tele_ring.h"
#include "core/tele_store.h"
#include "core/telemetry.h"
#include "core/xmalloc.h"

#define T0_MS 1767225600000LL /* 2026-01-01T00:00:00Z, an hour boundary */
#define MB    1e6

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13; /* xorshift64 */
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double rng_unit(void)
{
	return (double)(rng() >> 11) / 9007199254740992.0;
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
	fprintf(stderr, "ingest_bench: %s: %s\n", what, why);
	exit(1);
}

static void exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		die(sql, err != NULL ? err : sqlite3_errmsg(db));
}

static sqlite3 *open_db(const char *path)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, sqlite3_errmsg(db));
	/* The engine's store settings (core/store.c), autocheckpoint off: we checkpoint after
	 * each flush so that every flush's WAL bytes can be counted. */
	exec_sql(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	             " PRAGMA mmap_size = 268435456; PRAGMA wal_autocheckpoint = 0");
	return db;
}

static int64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Bytes of the pages a table (with its indexes) occupies, from dbstat. */
static int64_t table_bytes(sqlite3 *db, const char *table)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		die("dbstat", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Flushes the WAL into the database and empties it; returns the WAL bytes it held. */
static int64_t checkpoint(sqlite3 *db, const char *wal_path)
{
	int64_t wal = file_size(wal_path);

	exec_sql(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	return wal;
}

/* A GPU's state in the simulation: a slow random walk around a per-GPU level. */
struct sim_gpu {
	double util, mem, temp, power;
	int busy;
};

struct sim {
	size_t workers, gpus, n;
	char **hosts;
	struct sim_gpu *state;
	struct tele_gpu *round; /* this second's samples */
};

static void sim_init(struct sim *s, size_t workers, size_t gpus)
{
	s->workers = workers;
	s->gpus = gpus;
	s->n = workers * gpus;
	s->hosts = xcalloc(workers, sizeof *s->hosts);
	for (size_t w = 0; w < workers; w++)
		s->hosts[w] = xprintf("gpu-node-%04zu.cluster.example", w);
	s->state = xcalloc(s->n, sizeof *s->state);
	s->round = xcalloc(s->n, sizeof *s->round);
	for (size_t i = 0; i < s->n; i++) {
		struct sim_gpu *g = &s->state[i];

		g->busy = rng_unit() < 0.7;
		g->util = g->busy ? 85 + 10 * rng_unit() : 0;
		g->mem = g->busy ? 40000 + 35000 * rng_unit() : 4;
		g->temp = g->busy ? 65 + 10 * rng_unit() : 32;
		g->power = g->busy ? 450 + 200 * rng_unit() : 70;
		s->round[i].index = (int)(i % gpus);
		snprintf(s->round[i].name, sizeof s->round[i].name, "NVIDIA H100 80GB HBM3");
		s->round[i].mem_total_mib = (struct tele_val){81559, 1};
		s->round[i].power_limit_w = (struct tele_val){700, 1};
	}
}

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* The next second's samples (not timed). One sample in 500 has an n/a field. */
static void sim_step(struct sim *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct sim_gpu *g = &s->state[i];
		struct tele_gpu *x = &s->round[i];

		if (g->busy) {
			g->util = clamp(g->util + (rng_unit() - 0.5) * 6, 0, 100);
			g->mem = clamp(g->mem + (rng_unit() - 0.5) * 64, 0, 81559);
			g->temp = clamp(g->temp + (rng_unit() - 0.5) * 2, 30, 90);
			g->power = clamp(g->power + (rng_unit() - 0.5) * 40, 60, 700);
		}
		x->util_pct = (struct tele_val){floor(g->util), 1};
		x->mem_used_mib = (struct tele_val){floor(g->mem), 1};
		x->temp_c = (struct tele_val){floor(g->temp), 1};
		x->power_w = (struct tele_val){floor(g->power * 100) / 100, 1};
		if (rng() % 500 == 0)
			x->power_w.ok = 0;
	}
}

static void sim_free(struct sim *s)
{
	for (size_t w = 0; w < s->workers; w++)
		free(s->hosts[w]);
	free(s->hosts);
	free(s->state);
	free(s->round);
}

/* Gantry's side: rings, aggregator, store. */
struct pipe {
	struct tring_set *set;
	sqlite3 *db;
	struct tstore *ts;
	char *path, *wal;
	double cpu;      /* seconds of CPU in the pipeline */
	int64_t wal_sum; /* WAL bytes written by flushes */
	int flushes;
	size_t rows_1m, rows_1h;
};

/* One simulated second: push every sample; on a minute boundary close, take and store. */
static void pipe_second(struct pipe *p, struct sim *s, int64_t at_ms)
{
	double t = cpu_now();

	for (size_t i = 0; i < s->n; i++)
		tring_set_push(p->set, s->hosts[i / s->gpus], (int)(i % s->gpus), at_ms,
		               &s->round[i]);
	if ((at_ms + 1000) % 60000 == 0) {
		struct tring_bucket *b;
		char *cause = NULL;
		size_t n;

		tring_set_close(p->set, at_ms + 1000);
		b = tring_set_take(p->set, &n);
		for (size_t i = 0; i < n; i++) {
			if (b[i].width_s == TRING_1M)
				p->rows_1m++;
			else
				p->rows_1h++;
		}
		if (tstore_put(p->ts, b, n, &cause) != 0)
			die("tstore_put", cause);
		free(b);
		p->wal_sum += checkpoint(p->db, p->wal);
		p->flushes++;
	}
	p->cpu += cpu_now() - t;
}

/* The reference: every sample a row, committed each second. */
struct raw {
	sqlite3 *db;
	sqlite3_stmt *ins;
	char *path, *wal;
	double cpu;
	int64_t wal_sum;
	size_t rows;
};

static void raw_open(struct raw *r, const char *dir, struct sim *s)
{
	r->path = xprintf("%s/raw.db", dir);
	r->wal = xprintf("%s/raw.db-wal", dir);
	r->db = open_db(r->path);
	exec_sql(r->db, "CREATE TABLE samples (host INTEGER NOT NULL, gpu INTEGER NOT NULL,"
	                " at INTEGER NOT NULL, util INTEGER, mem_mib INTEGER, temp INTEGER,"
	                " power_dw INTEGER, PRIMARY KEY (host, gpu, at)) WITHOUT ROWID;"
	                "CREATE TABLE hosts (id INTEGER PRIMARY KEY, name TEXT UNIQUE)");
	exec_sql(r->db, "BEGIN");
	for (size_t w = 0; w < s->workers; w++) {
		char *sql =
		    xprintf("INSERT INTO hosts (id, name) VALUES (%zu, '%s')", w + 1, s->hosts[w]);

		exec_sql(r->db, sql);
		free(sql);
	}
	exec_sql(r->db, "COMMIT");
	if (sqlite3_prepare_v2(r->db, "INSERT INTO samples VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
	                       &r->ins, NULL) != SQLITE_OK)
		die("prepare", sqlite3_errmsg(r->db));
}

static void raw_bind(sqlite3_stmt *st, int col, struct tele_val v, double scale)
{
	if (v.ok)
		sqlite3_bind_int64(st, col, llround(v.v * scale));
	else
		sqlite3_bind_null(st, col);
}

static void raw_second(struct raw *r, struct sim *s, int64_t at_ms)
{
	double t = cpu_now();

	exec_sql(r->db, "BEGIN");
	for (size_t i = 0; i < s->n; i++) {
		const struct tele_gpu *x = &s->round[i];

		sqlite3_bind_int64(r->ins, 1, (int64_t)(i / s->gpus) + 1);
		sqlite3_bind_int(r->ins, 2, (int)(i % s->gpus));
		sqlite3_bind_int64(r->ins, 3, at_ms / 1000);
		raw_bind(r->ins, 4, x->util_pct, 1);
		raw_bind(r->ins, 5, x->mem_used_mib, 1);
		raw_bind(r->ins, 6, x->temp_c, 1);
		raw_bind(r->ins, 7, x->power_w, 10);
		if (sqlite3_step(r->ins) != SQLITE_DONE)
			die("raw insert", sqlite3_errmsg(r->db));
		sqlite3_reset(r->ins);
	}
	exec_sql(r->db, "COMMIT");
	r->wal_sum += checkpoint(r->db, r->wal);
	r->rows += s->n;
	r->cpu += cpu_now() - t;
}

static void rm_db(const char *path)
{
	char buf[4096];

	unlink(path);
	snprintf(buf, sizeof buf, "%s-wal", path);
	unlink(buf);
	snprintf(buf, sizeof buf, "%s-shm", path);
	unlink(buf);
}

static size_t arg(int argc, char **argv, int i, size_t def)
{
	char *end;
	unsigned long v;

	if (argc <= i)
		return def;
	errno = 0;
	v = strtoul(argv[i], &end, 10);
	if (errno != 0 || *end != '\0' || v == 0)
		die(argv[i], "expected a positive number");
	return (size_t)v;
}

static const char *human(double bytes, char *buf, size_t size)
{
	if (bytes >= 1e9)
		snprintf(buf, size, "%.2f GB", bytes / 1e9);
	else
		snprintf(buf, size, "%.1f MB", bytes / MB);
	return buf;
}

int main(int argc, char **argv)
{
	size_t workers = arg(argc, argv, 1, 1000), gpus = arg(argc, argv, 2, 8);
	size_t seconds = arg(argc, argv, 3, 60), growth_min = arg(argc, argv, 4, 60);
	const char *tmp = getenv("TMPDIR");
	char dir[4096], b1[32], b2[32], b3[32], b4[32], b5[32], cmd[256];
	struct sim s;
	struct pipe p;
	struct raw r;
	double cpu_60, per_row_1m, per_row_1h, day_1m, day_1h, steady, prune_cpu, prune_rows;
	double raw_day, raw_steady;
	int64_t half_1m = 0, end_1m, end_1h, deleted = 0, t;
	size_t half_rows_1m = 0, total_s, m0, m_half;
	char *cause = NULL;
	struct tstore_retention keep;

	snprintf(dir, sizeof dir, "%s/gantry-ingest-XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", strerror(errno));
	snprintf(cmd, sizeof cmd, "tests/bench/ingest_bench %zu %zu %zu %zu", workers, gpus,
	         seconds, growth_min);
	sim_init(&s, workers, gpus);
	memset(&p, 0, sizeof p);
	memset(&r, 0, sizeof r);
	p.path = xprintf("%s/gantry.db", dir);
	p.wal = xprintf("%s/gantry.db-wal", dir);
	p.db = open_db(p.path);
	p.ts = tstore_open(p.db, &cause);
	if (p.ts == NULL)
		die("tstore_open", cause);
	p.set = tring_set_new(TRING_DEFAULT_CAPACITY);
	raw_open(&r, dir, &s);

	/* The measured minute(s): Gantry and the raw reference on the same samples. */
	for (size_t sec = 0; sec < seconds; sec++) {
		int64_t at = T0_MS + (int64_t)sec * 1000;

		sim_step(&s);
		pipe_second(&p, &s, at);
		raw_second(&r, &s, at);
	}
	if (seconds % 60 != 0) {
		/* Flush a partial last minute too, so that the figure includes a flush. */
		struct tring_bucket *b;
		size_t n;
		double c = cpu_now();

		tring_set_close(p.set, T0_MS + (int64_t)(seconds / 60 + 1) * 60000);
		b = tring_set_take(p.set, &n);
		p.rows_1m += n;
		if (tstore_put(p.ts, b, n, &cause) != 0)
			die("tstore_put", cause);
		free(b);
		p.wal_sum += checkpoint(p.db, p.wal);
		p.flushes++;
		p.cpu += cpu_now() - c;
	}
	cpu_60 = p.cpu;
	raw_day = (double)file_size(r.path) / (double)seconds * 86400.0;
	raw_steady = raw_day * 7;

	/* Growth: keep going, whole minutes, and measure the second half. */
	m0 = (seconds + 59) / 60;
	m_half = m0 + growth_min / 2;
	for (size_t m = m0; m < m0 + growth_min; m++) {
		for (int k = 0; k < 60; k++) {
			sim_step(&s);
			pipe_second(&p, &s, T0_MS + ((int64_t)m * 60 + k) * 1000);
		}
		if (m + 1 == m_half) {
			half_1m = table_bytes(p.db, "metrics_1m");
			half_rows_1m = p.rows_1m;
		}
	}
	total_s = (m0 + growth_min) * 60;
	end_1m = table_bytes(p.db, "metrics_1m");
	end_1h = table_bytes(p.db, "metrics_1h");
	per_row_1m = (double)(end_1m - half_1m) / (double)(p.rows_1m - half_rows_1m);
	per_row_1h = p.rows_1h > 0 ? (double)end_1h / (double)p.rows_1h : 0;
	/* Hour rows have the minute rows' shape and, at steady state, the same insert pattern
	 * (one row at the end of every series): they are costed at the minute table's bytes. */
	day_1m = per_row_1m * (double)s.n * 1440;
	day_1h = per_row_1m * (double)s.n * 24;
	steady = day_1m * 7 + day_1h * 90;

	/* Prune: the first half of the minutes (as an hourly prune would, at steady state). */
	keep.keep_1m_s = 7 * 86400;
	keep.keep_1h_s = 90 * 86400;
	t = T0_MS + (int64_t)(total_s / 2) * 1000 + keep.keep_1m_s * 1000;
	prune_cpu = cpu_now();
	if (tstore_prune(p.ts, t, &keep, &deleted, &cause) != 0)
		die("tstore_prune", cause);
	prune_cpu = cpu_now() - prune_cpu;
	prune_rows = (double)deleted;

	printf("machine: %ld CPUs online; sqlite %s; %zu workers x %zu GPUs = %zu GPUs at 1 Hz\n\n",
	       sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion(), workers, gpus, s.n);
	printf(
	    "| ingest | CPU, %% of one core at 1 Hz | store written per day | growth per day once "
	    "7 d of 1-min are kept | steady state (7 d of 1-min, 90 d of 1-h) | command |\n");
	printf("|---|---|---|---|---|---|\n");
	printf("| Gantry: rings + 1-min/1-h buckets, flushed to sqlite (WAL) each minute, %zu s | "
	       "%.2f%% | %s (1-min %s + 1-h %s) | %s (1-h only; 0 after 90 d) | %s | `%s` |\n",
	       seconds, 100.0 * cpu_60 / (double)seconds, human(day_1m + day_1h, b1, sizeof b1),
	       human(day_1m, b2, sizeof b2), human(day_1h, b3, sizeof b3),
	       human(day_1h, b5, sizeof b5), human(steady, b4, sizeof b4), cmd);
	printf("| reference: raw rows, one per sample, same encoding and key, commit per second, "
	       "%zu s | %.2f%% | %s | 0 (7 d kept) | %s (7 d) | `%s` |\n",
	       seconds, 100.0 * r.cpu / (double)seconds, human(raw_day, b1, sizeof b1),
	       human(raw_steady, b2, sizeof b2), cmd);
	printf("\n");
	printf("- Gantry over the whole run (%zu simulated minutes, %d flushes): %.2f%% of a core; "
	       "%.1f bytes per 1-min row (%zu rows; second half of the run), %.1f per 1-h row "
	       "(%zu rows, a fresh table); WAL written "
	       "%.1f MB per flush\n",
	       total_s / 60, p.flushes, 100.0 * p.cpu / (double)total_s, per_row_1m, p.rows_1m,
	       per_row_1h, p.rows_1h, (double)p.wal_sum / p.flushes / MB);
	printf("- raw reference: %zu rows, %.1f bytes per row, WAL written %.1f MB per second\n",
	       r.rows, (double)file_size(r.path) / (double)r.rows,
	       (double)r.wal_sum / (double)seconds / MB);
	printf("- prune: %.0f rows deleted in %.3f s CPU (%.2f us a row); an hourly prune of "
	       "%zu rows costs %.3f%% of a core\n",
	       prune_rows, prune_cpu, prune_rows > 0 ? prune_cpu / prune_rows * 1e6 : 0, s.n * 60,
	       prune_rows > 0 ? 100.0 * prune_cpu / prune_rows * (double)s.n * 60 / 3600 : 0);
	printf("- rings: %zu GPUs x %d samples, %zu bytes of samples per GPU\n",
	       tring_set_count(p.set), TRING_DEFAULT_CAPACITY, (size_t)TRING_DEFAULT_CAPACITY * 12);

	tstore_close(p.ts);
	sqlite3_close(p.db);
	sqlite3_finalize(r.ins);
	sqlite3_close(r.db);
	tring_set_free(p.set);
	rm_db(p.path);
	rm_db(r.path);
	rmdir(dir);
	free(p.path);
	free(p.wal);
	free(r.path);
	free(r.wal);
	sim_free(&s);
	return 0;
}
