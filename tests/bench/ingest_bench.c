/* ingest_bench.c: telemetry ingest at fleet scale. WORKERS hosts x GPUS GPUs report one sample
 * a second; SECONDS rounds of samples are generated as fast as the machine allows and pushed
 * through Gantry's pipeline: per-GPU rings and the 1-minute / 1-hour aggregator
 * (core/tele_ring.c), with closed buckets flushed once a minute into sqlite (core/tele_store.c,
 * a WAL file with the engine's pragmas, checkpointed after each flush). Only the pipeline's
 * CPU time is counted (CLOCK_PROCESS_CPUTIME_ID around it, sample generation excluded); divided
 * by the simulated seconds it is the share of one core the pipeline needs at 1 Hz.
 *
 * The samples look like GPU telemetry (see sim_phase and sim_step, and the lines the bench
 * prints): each GPU goes through phases (idle, light inference, training) that hold their
 * utilisation for minutes, with per-second jitter and short checkpoint dips in training; memory
 * is held per phase and only grows now and then; power follows utilisation with noise; the
 * temperature lags the power by a couple of minutes; one power reading in 500 is n/a.
 *
 * Store growth: the simulation then runs on for GROWTH_MINUTES more minutes; every closed hour
 * is packed into one row per GPU (metrics_1m_packed). The bytes each table holds (sqlite's
 * dbstat) give bytes per packed GPU-hour, hence bytes a day and the steady-state size with 7
 * days of minutes and 90 days of hours; the open hour's table is bounded (its largest size in
 * the run is reported). Prune cost is measured on the packed hour: trimming its first half,
 * then dropping it, what an hourly prune does at steady state.
 *
 * References, in the same run on the same samples:
 * - the first format, one row per GPU-minute (the same closed 1-minute buckets inserted into
 *   a table of the old shape, key (host, gpu, bucket_start), in another WAL file);
 * - every sample written raw (one row a sample, same integer encoding and primary key, one
 *   transaction a second) into a third WAL file, over the first SECONDS only.
 * Hour rows (metrics_1h, unchanged) are costed at the old minute rows' bytes: same shape, same
 * insert pattern at steady state.
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

/* About normal, mean 0, standard deviation 1 (a sum of three uniforms). */
static double rng_noise(void)
{
	return (rng_unit() + rng_unit() + rng_unit() - 1.5) * 2.0;
}

/* Exponentially distributed, the given mean. */
static double rng_exp(double mean)
{
	return -mean * log(1.0 - rng_unit());
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

/* One integer from a query. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = 0;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
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

/* The synthetic fleet. */
#define SIM_IDLE_SHARE  0.20 /* phases drawn idle, light (inference, notebooks), training */
#define SIM_LIGHT_SHARE 0.15
#define SIM_IDLE_MIN    20.0 /* mean phase lengths, minutes (exponential, at least one) */
#define SIM_LIGHT_MIN   15.0
#define SIM_TRAIN_MIN   45.0
#define SIM_DIP_EVERY   600.0 /* training: a checkpoint dip every 10 min on average */
#define SIM_TEMP_TAU    120.0 /* seconds the temperature takes to follow the power */
#define SIM_MEM_TOTAL   81559.0

/* A GPU's state in the simulation. */
struct sim_gpu {
	int left;        /* seconds left in the phase */
	int dip;         /* seconds left in a checkpoint dip */
	int training;    /* the phase is training */
	double level;    /* utilisation the phase holds, % */
	double jitter;   /* its per-second noise, % (standard deviation) */
	double mem;      /* MiB the phase holds */
	double temp;     /* degrees C */
	double temp_off; /* this GPU's cooling, degrees C over the fleet's */
	double idle_w;   /* power at 0 % */
	double peak_w;   /* power at 100 % */
};

struct sim {
	size_t workers, gpus, n;
	char **hosts;
	struct sim_gpu *state;
	struct tele_gpu *round; /* this second's samples */
};

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* Draws the GPU's next phase: idle (0 %, no memory), light (5-40 %, jitter 6, 8-30 GB) or
 * training (85-100 %, jitter 3, 40-79 GB). */
static void sim_phase(struct sim_gpu *g)
{
	double u = rng_unit(), minutes;

	g->training = 0;
	if (u < SIM_IDLE_SHARE) {
		g->level = 0;
		g->jitter = 0;
		g->mem = 0;
		minutes = rng_exp(SIM_IDLE_MIN);
	} else if (u < SIM_IDLE_SHARE + SIM_LIGHT_SHARE) {
		g->level = 5 + 35 * rng_unit();
		g->jitter = 6;
		g->mem = floor(8192 + 22528 * rng_unit());
		minutes = rng_exp(SIM_LIGHT_MIN);
	} else {
		g->training = 1;
		g->level = 85 + 15 * rng_unit();
		g->jitter = 3;
		g->mem = floor(40960 + 39936 * rng_unit());
		minutes = rng_exp(SIM_TRAIN_MIN);
	}
	g->left = (int)(minutes * 60) + 60;
}

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

		sim_phase(g);
		g->left = (int)(rng_unit() * g->left) + 1; /* phases do not all start at once */
		g->temp_off = 6 * rng_unit() - 3;
		g->idle_w = 60 + 15 * rng_unit();
		g->peak_w = 620 + 80 * rng_unit();
		g->temp = 30 + g->temp_off + 0.065 * (g->idle_w + g->level / 100 * g->peak_w);
		s->round[i].index = (int)(i % gpus);
		snprintf(s->round[i].name, sizeof s->round[i].name, "NVIDIA H100 80GB HBM3");
		s->round[i].mem_total_mib = (struct tele_val){SIM_MEM_TOTAL, 1};
		s->round[i].power_limit_w = (struct tele_val){700, 1};
	}
}

/* The next second's samples (not timed). Utilisation: the phase's level plus jitter, whole %,
 * 0-100 (training: a 5-30 s dip to ~5 % now and then); memory: the phase's, growing by a
 * power of two MiB about once an hour in busy phases; power: idle + util x (peak - idle), noise
 * of 1 W + 5 % of the load part, 0.01 W; temperature: 30 + 0.065 C/W of power (+/- 3 per GPU),
 * approached with a 2-minute lag, whole degrees. One power reading in 500 is n/a. */
static void sim_step(struct sim *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct sim_gpu *g = &s->state[i];
		struct tele_gpu *x = &s->round[i];
		double util, load, power;

		if (--g->left <= 0)
			sim_phase(g);
		if (g->dip > 0)
			g->dip--;
		else if (g->training && rng_unit() < 1.0 / SIM_DIP_EVERY)
			g->dip = 5 + (int)(rng() % 26);
		util = g->dip > 0 ? 5 + 2 * rng_noise() : g->level + g->jitter * rng_noise();
		util = g->level > 0 ? clamp(floor(util + 0.5), 0, 100) : 0;
		if (g->level > 0 && rng_unit() < 1.0 / 3600)
			g->mem = clamp(g->mem + (double)(256 << (rng() % 4)), 0, SIM_MEM_TOTAL);
		load = util / 100 * (g->peak_w - g->idle_w);
		power = g->idle_w + load + (1 + 0.05 * load) * rng_noise();
		g->temp += (30 + g->temp_off + 0.065 * power - g->temp) / SIM_TEMP_TAU;
		x->util_pct = (struct tele_val){util, 1};
		x->mem_used_mib = (struct tele_val){g->mem, 1};
		x->temp_c = (struct tele_val){floor(g->temp + 0.5), 1};
		x->power_w = (struct tele_val){floor(power * 100) / 100, 1};
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

/* The first format, for reference: one row per GPU-minute, keyed (host, gpu, bucket_start). */
struct old {
	sqlite3 *db;
	sqlite3_stmt *ins;
	char *path, *wal;
	double cpu; /* its flushes */
	int64_t wal_sum;
	size_t rows;
};

static void old_open(struct old *o, const char *dir, struct sim *s)
{
	o->path = xprintf("%s/old.db", dir);
	o->wal = xprintf("%s/old.db-wal", dir);
	o->db = open_db(o->path);
	exec_sql(o->db,
	         "CREATE TABLE metrics_hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL"
	         " UNIQUE);"
	         "CREATE TABLE metrics_1m (host INTEGER NOT NULL, gpu INTEGER NOT NULL,"
	         " bucket_start INTEGER NOT NULL, n INTEGER NOT NULL, n_util INTEGER NOT NULL,"
	         " util_avg INTEGER, util_max INTEGER, mem_mib INTEGER, temp_max INTEGER,"
	         " power_dw INTEGER, PRIMARY KEY (host, gpu, bucket_start)) WITHOUT ROWID");
	exec_sql(o->db, "BEGIN");
	for (size_t w = 0; w < s->workers; w++) {
		char *sql = xprintf("INSERT INTO metrics_hosts (id, name) VALUES (%zu, '%s')",
		                    w + 1, s->hosts[w]);

		exec_sql(o->db, sql);
		free(sql);
	}
	exec_sql(o->db, "COMMIT");
	if (sqlite3_prepare_v2(o->db,
	                       "INSERT INTO metrics_1m VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	                       " ?10)",
	                       -1, &o->ins, NULL) != SQLITE_OK)
		die("prepare", sqlite3_errmsg(o->db));
}

static void old_bind(sqlite3_stmt *st, int col, int has, double x)
{
	if (has)
		sqlite3_bind_int64(st, col, llround(x));
	else
		sqlite3_bind_null(st, col);
}

/* The 1-minute buckets of a flush, as the first format wrote them (every row is new: plain
 * inserts). Host ids: the bench's host names end in the worker number. */
static void old_flush(struct old *o, const struct tring_bucket *b, size_t n)
{
	double t = cpu_now();

	exec_sql(o->db, "BEGIN");
	for (size_t i = 0; i < n; i++) {
		const char *num = strrchr(b[i].host, '-');

		if (b[i].width_s != TRING_1M)
			continue;
		sqlite3_bind_int64(o->ins, 1, strtoll(num + 1, NULL, 10) + 1);
		sqlite3_bind_int(o->ins, 2, b[i].gpu);
		sqlite3_bind_int64(o->ins, 3, b[i].start_ms / 1000);
		sqlite3_bind_int64(o->ins, 4, b[i].n);
		sqlite3_bind_int64(o->ins, 5, b[i].n_util);
		old_bind(o->ins, 6, b[i].n_util > 0, b[i].util_avg);
		old_bind(o->ins, 7, b[i].n_util > 0, b[i].util_max);
		old_bind(o->ins, 8, b[i].n_mem > 0, b[i].mem_avg);
		old_bind(o->ins, 9, b[i].n_temp > 0, b[i].temp_max);
		old_bind(o->ins, 10, b[i].n_power > 0, b[i].power_avg * 10);
		if (sqlite3_step(o->ins) != SQLITE_DONE)
			die("old insert", sqlite3_errmsg(o->db));
		sqlite3_reset(o->ins);
		o->rows++;
	}
	exec_sql(o->db, "COMMIT");
	o->wal_sum += checkpoint(o->db, o->wal);
	o->cpu += cpu_now() - t;
}

/* Gantry's side: rings, aggregator, store. */
struct pipe {
	struct tring_set *set;
	sqlite3 *db;
	struct tstore *ts;
	char *path, *wal;
	double cpu;       /* seconds of CPU in the pipeline */
	double flush_cpu; /* of which in flushes */
	double flush_max; /* the longest flush (the one that packs an hour) */
	int64_t wal_sum;  /* WAL bytes written by flushes */
	int64_t open_max; /* largest size of the open hour's table */
	int flushes;
	size_t rows_1m, rows_1h;
	struct old *old; /* the first format gets the same buckets */
};

/* Closes the buckets that end by end_ms, stores them (and hands them to the old format). */
static void pipe_flush(struct pipe *p, int64_t end_ms)
{
	struct tring_bucket *b;
	char *cause = NULL;
	size_t n;
	double t = cpu_now(), dt;

	tring_set_close(p->set, end_ms);
	b = tring_set_take(p->set, &n);
	for (size_t i = 0; i < n; i++) {
		if (b[i].width_s == TRING_1M)
			p->rows_1m++;
		else
			p->rows_1h++;
	}
	if (tstore_put(p->ts, b, n, &cause) != 0)
		die("tstore_put", cause);
	p->wal_sum += checkpoint(p->db, p->wal);
	p->flushes++;
	dt = cpu_now() - t;
	p->cpu += dt;
	p->flush_cpu += dt;
	if (dt > p->flush_max)
		p->flush_max = dt;
	old_flush(p->old, b, n);
	free(b);
	n = (size_t)table_bytes(p->db, "metrics_1m_open");
	if ((int64_t)n > p->open_max)
		p->open_max = (int64_t)n;
}

/* One simulated second: push every sample; on a minute boundary flush. */
static void pipe_second(struct pipe *p, struct sim *s, int64_t at_ms)
{
	double t = cpu_now();

	for (size_t i = 0; i < s->n; i++)
		tring_set_push(p->set, s->hosts[i / s->gpus], (int)(i % s->gpus), at_ms,
		               &s->round[i]);
	p->cpu += cpu_now() - t;
	if ((at_ms + 1000) % 60000 == 0)
		pipe_flush(p, at_ms + 1000);
}

/* The raw reference: every sample a row, committed each second. */
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

/* Prunes as if at now_ms with 7 d / 90 d kept; returns the CPU seconds, *deleted the count. */
static double prune_at(struct pipe *p, int64_t now_ms, int64_t *deleted)
{
	struct tstore_retention keep = {7 * 86400, 90 * 86400};
	char *cause = NULL;
	double t = cpu_now();

	if (tstore_prune(p->ts, now_ms, &keep, deleted, &cause) != 0)
		die("tstore_prune", cause);
	t = cpu_now() - t;
	p->wal_sum += checkpoint(p->db, p->wal);
	return t;
}

static void print_generator(void)
{
	printf("Synthetic fleet (tests/bench/ingest_bench.c, sim_phase and sim_step): each GPU "
	       "goes through phases, drawn %.0f%% idle (0%%, no memory, mean %.0f min), %.0f%% "
	       "light (5-40%%, jitter 6, 8-30 GB, mean %.0f min), %.0f%% training (85-100%%, "
	       "jitter 3, 40-79 GB, mean %.0f min; a 5-30 s checkpoint dip to ~5%% every %.0f min "
	       "on average); phase lengths exponential, at least 1 min. Utilisation: whole %%; "
	       "memory held per phase, growing by 256-2048 MiB about once an hour; power: idle "
	       "(60-75 W) + util x (peak (620-700 W) - idle) + noise of 1 W + 5%% of the load "
	       "part, 0.01 W; temperature: 30 C + 0.065 C/W (+/- 3 per GPU) reached with a %.0f s "
	       "lag, whole degrees; noise about normal; one power reading in 500 is n/a.\n\n",
	       100 * SIM_IDLE_SHARE, SIM_IDLE_MIN, 100 * SIM_LIGHT_SHARE, SIM_LIGHT_MIN,
	       100 * (1 - SIM_IDLE_SHARE - SIM_LIGHT_SHARE), SIM_TRAIN_MIN, SIM_DIP_EVERY / 60,
	       SIM_TEMP_TAU);
}

int main(int argc, char **argv)
{
	size_t workers = arg(argc, argv, 1, 1000), gpus = arg(argc, argv, 2, 8);
	size_t seconds = arg(argc, argv, 3, 60), growth_min = arg(argc, argv, 4, 60);
	const char *tmp = getenv("TMPDIR");
	char dir[4096], b1[32], b2[32], b3[32], b4[32], b5[32], cmd[256];
	struct sim s;
	struct pipe p;
	struct old o;
	struct raw r;
	double cpu_60, push_60, day_new, day_packed, day_1h, steady_new, old_day, old_steady;
	double raw_day, raw_steady, per_packed, per_blob, per_old, trim_cpu, drop_cpu, old_cpu;
	int64_t packed_bytes, packed_rows, old_half = 0, old_end, trimmed = 0, dropped = 0, t;
	size_t old_half_rows = 0, total_s, m0, m_half, minutes_packed;
	char *cause = NULL;

	snprintf(dir, sizeof dir, "%s/gantry-ingest-XXXXXX", tmp != NULL && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		die("mkdtemp", strerror(errno));
	snprintf(cmd, sizeof cmd, "tests/bench/ingest_bench %zu %zu %zu %zu", workers, gpus,
	         seconds, growth_min);
	sim_init(&s, workers, gpus);
	memset(&p, 0, sizeof p);
	memset(&o, 0, sizeof o);
	memset(&r, 0, sizeof r);
	p.path = xprintf("%s/gantry.db", dir);
	p.wal = xprintf("%s/gantry.db-wal", dir);
	p.db = open_db(p.path);
	p.ts = tstore_open(p.db, &cause);
	if (p.ts == NULL)
		die("tstore_open", cause);
	p.set = tring_set_new(TRING_DEFAULT_CAPACITY);
	p.old = &o;
	old_open(&o, dir, &s);
	raw_open(&r, dir, &s);

	/* The measured minute(s): Gantry and the raw reference on the same samples. */
	for (size_t sec = 0; sec < seconds; sec++) {
		int64_t at = T0_MS + (int64_t)sec * 1000;

		sim_step(&s);
		pipe_second(&p, &s, at);
		raw_second(&r, &s, at);
	}
	if (seconds % 60 != 0) /* flush a partial last minute too, so that the figure has one */
		pipe_flush(&p, T0_MS + (int64_t)(seconds / 60 + 1) * 60000);
	cpu_60 = p.cpu;
	push_60 = p.cpu - p.flush_cpu;
	old_cpu = o.cpu;
	raw_day = (double)file_size(r.path) / (double)seconds * 86400.0;
	raw_steady = raw_day * 7;

	/* Growth: keep going, whole minutes; the old format's rows over the second half. */
	m0 = (seconds + 59) / 60;
	m_half = m0 + growth_min / 2;
	for (size_t m = m0; m < m0 + growth_min; m++) {
		for (int k = 0; k < 60; k++) {
			sim_step(&s);
			pipe_second(&p, &s, T0_MS + ((int64_t)m * 60 + k) * 1000);
		}
		if (m + 1 == m_half) {
			old_half = table_bytes(o.db, "metrics_1m");
			old_half_rows = o.rows;
		}
	}
	total_s = (m0 + growth_min) * 60;
	old_end = table_bytes(o.db, "metrics_1m");
	per_old = (double)(old_end - old_half) / (double)(o.rows - old_half_rows);
	packed_bytes = table_bytes(p.db, "metrics_1m_packed");
	packed_rows = query_int(p.db, "SELECT count(*) FROM metrics_1m_packed");
	minutes_packed = (size_t)query_int(p.db, "SELECT coalesce(sum(minutes), 0) FROM"
	                                         " metrics_1m_packed");
	per_blob = packed_rows > 0 ? (double)query_int(p.db, "SELECT sum(length(data)) FROM"
	                                                     " metrics_1m_packed") /
	                                 (double)packed_rows
	                           : 0;
	if (packed_rows == 0)
		die("growth", "no hour closed: run at least 60 minutes in all");
	per_packed = (double)packed_bytes / (double)packed_rows;
	day_packed = per_packed * (double)s.n * 24;
	day_1h = per_old * (double)s.n * 24;
	day_new = day_packed + day_1h;
	steady_new = day_packed * 7 + day_1h * 90 + (double)p.open_max;
	old_day = per_old * (double)s.n * (1440 + 24);
	old_steady = per_old * (double)s.n * (1440 * 7 + 24 * 90);

	/* Prune at steady state, hourly: the oldest packed hour is first trimmed (a cut in its
	 * middle), an hour later dropped. */
	t = T0_MS + 1800 * 1000 + 7 * 86400000LL;
	trim_cpu = prune_at(&p, t, &trimmed);
	drop_cpu = prune_at(&p, t + 1800 * 1000, &dropped);

	printf("machine: %ld CPUs online; sqlite %s; %zu workers x %zu GPUs = %zu GPUs at 1 Hz\n\n",
	       sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion(), workers, gpus, s.n);
	print_generator();
	printf("| 1-minute history | CPU, %% of one core at 1 Hz | store written per day "
	       "(1-min + 1-h) | steady state (7 d of 1-min, 90 d of 1-h) | command |\n");
	printf("|---|---|---|---|---|\n");
	printf("| Gantry: one packed row per GPU-hour, minutes of the open hour as rows | %.2f%% "
	       "(%.2f%% over %zu s, hour close included) | %s (%s + %s) | %s | `%s` |\n",
	       100.0 * cpu_60 / (double)seconds, 100.0 * p.cpu / (double)total_s, total_s,
	       human(day_new, b1, sizeof b1), human(day_packed, b2, sizeof b2),
	       human(day_1h, b3, sizeof b3), human(steady_new, b4, sizeof b4), cmd);
	printf("| first format: one row per GPU-minute | %.2f%% | %s | %s | same run |\n",
	       100.0 * (push_60 + old_cpu) / (double)seconds, human(old_day, b1, sizeof b1),
	       human(old_steady, b2, sizeof b2));
	printf("| reference: raw rows, one per sample, same encoding and key, commit per second, "
	       "%zu s | %.2f%% | %s | %s (7 d) | same run |\n",
	       seconds, 100.0 * r.cpu / (double)seconds, human(raw_day, b1, sizeof b1),
	       human(raw_steady, b2, sizeof b2));
	printf("\n");
	printf("- packed: %lld GPU-hours (%zu minutes) in %s of pages: %.1f bytes a GPU-hour "
	       "(%.1f a minute), of which %.1f of packed data; first format: %.1f bytes per "
	       "GPU-minute row (%zu rows, second half of the run)\n",
	       (long long)packed_rows, minutes_packed, human((double)packed_bytes, b1, sizeof b1),
	       per_packed, per_packed / 60.0, per_blob, per_old, o.rows);
	printf("- open hour (metrics_1m_open): at most %s in the run, reused every hour (no "
	       "growth)\n",
	       human((double)p.open_max, b5, sizeof b5));
	printf("- Gantry over the whole run (%zu simulated minutes, %d flushes): %.2f%% of a core; "
	       "the flush that packs an hour took %.3f s CPU; WAL written %.1f MB per flush; first "
	       "format WAL %.1f MB per flush\n",
	       total_s / 60, p.flushes, 100.0 * p.cpu / (double)total_s, p.flush_max,
	       (double)p.wal_sum / p.flushes / MB, (double)o.wal_sum / p.flushes / MB);
	printf("- raw reference: %zu rows, %.1f bytes per row, WAL written %.1f MB per second\n",
	       r.rows, (double)file_size(r.path) / (double)r.rows,
	       (double)r.wal_sum / (double)seconds / MB);
	printf("- prune, hourly at steady state: trimming the oldest packed hour (%lld minutes) "
	       "%.3f s CPU, dropping it an hour later (%lld minutes) %.3f s CPU: %.4f%% of a "
	       "core\n",
	       (long long)trimmed, trim_cpu, (long long)dropped, drop_cpu,
	       100.0 * (trim_cpu + drop_cpu) / 3600);
	printf("- rings: %zu GPUs x %d samples, %zu bytes of samples per GPU\n",
	       tring_set_count(p.set), TRING_DEFAULT_CAPACITY, (size_t)TRING_DEFAULT_CAPACITY * 12);

	tstore_close(p.ts);
	sqlite3_close(p.db);
	sqlite3_finalize(o.ins);
	sqlite3_close(o.db);
	sqlite3_finalize(r.ins);
	sqlite3_close(r.db);
	tring_set_free(p.set);
	rm_db(p.path);
	rm_db(o.path);
	rm_db(r.path);
	rmdir(dir);
	free(p.path);
	free(p.wal);
	free(o.path);
	free(o.wal);
	free(r.path);
	free(r.wal);
	sim_free(&s);
	return 0;
}
