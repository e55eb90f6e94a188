/* tele_store.c: downsampled GPU history in sqlite (see tele_store.h). */
#include "core/tele_store.h"

#include <math.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "core/tele_pack.h"
#include "core/xmalloc.h"

#define TSTORE_COLS      "n, n_util, util_avg, util_max, mem_mib, temp_max, power_dw"
#define TSTORE_GPU_CACHE 64                 /* GPU ids cached per host for indexes 0 .. 63 */
#define TSTORE_HOUR_LIM  (INT64_C(1) << 31) /* packed hours: |start / 3600| below this */
#define TSTORE_KEY_HOUR  (INT64_C(1) << 32) /* packed id = hour index * this + GPU id */

/* A bucket already stored is merged with the incoming one: counts add up, maxima take the
 * larger (NULL = none), averages are weighted by their counts (n_util for utilisation, n for
 * the others) and rounded. Right-hand sides see the stored row's old values. tpack_merge does
 * the same for minutes already packed. */
#define TSTORE_MERGE(key)                                                                          \
	" ON CONFLICT (" key ") DO UPDATE SET"                                                     \
	" util_avg = CASE WHEN excluded.util_avg IS NULL THEN util_avg"                            \
	"  WHEN util_avg IS NULL THEN excluded.util_avg"                                           \
	"  ELSE (util_avg * n_util + excluded.util_avg * excluded.n_util"                          \
	"   + (n_util + excluded.n_util) / 2) / (n_util + excluded.n_util) END,"                   \
	" util_max = coalesce(max(util_max, excluded.util_max), util_max, excluded.util_max),"     \
	" mem_mib = CASE WHEN excluded.mem_mib IS NULL THEN mem_mib"                               \
	"  WHEN mem_mib IS NULL THEN excluded.mem_mib"                                             \
	"  ELSE (mem_mib * n + excluded.mem_mib * excluded.n + (n + excluded.n) / 2)"              \
	"   / (n + excluded.n) END,"                                                               \
	" temp_max = coalesce(max(temp_max, excluded.temp_max), temp_max, excluded.temp_max),"     \
	" power_dw = CASE WHEN excluded.power_dw IS NULL THEN power_dw"                            \
	"  WHEN power_dw IS NULL THEN excluded.power_dw"                                           \
	"  ELSE (power_dw * n + excluded.power_dw * excluded.n + (n + excluded.n) / 2)"            \
	"   / (n + excluded.n) END,"                                                               \
	" n = n + excluded.n, n_util = n_util + excluded.n_util"

#define TSTORE_BUCKET_COLS                                                                         \
	" n INTEGER NOT NULL, n_util INTEGER NOT NULL, util_avg INTEGER, util_max INTEGER,"        \
	" mem_mib INTEGER, temp_max INTEGER, power_dw INTEGER,"

/* metrics_1m_open is keyed by time first, so that a minute's rows are appended together and a
 * closed hour leaves as one range; metrics_1m_packed's integer key puts the hour first too (an
 * hour's rows are appended, in full pages, and the expired hours are the first rows). */
static const char tstore_schema[] =
    "CREATE TABLE IF NOT EXISTS metrics_hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS metrics_gpus (id INTEGER PRIMARY KEY, host INTEGER NOT NULL,"
    " gpu INTEGER NOT NULL, UNIQUE (host, gpu));"
    "CREATE TABLE IF NOT EXISTS metrics_1m_open (bucket_start INTEGER NOT NULL,"
    " series INTEGER NOT NULL," TSTORE_BUCKET_COLS " PRIMARY KEY (bucket_start, series))"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS metrics_1m_packed (id INTEGER PRIMARY KEY,"
    " minutes INTEGER NOT NULL, data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS metrics_1h (host INTEGER NOT NULL, gpu INTEGER NOT NULL,"
    " bucket_start INTEGER NOT NULL," TSTORE_BUCKET_COLS
    " PRIMARY KEY (host, gpu, bucket_start)) WITHOUT ROWID;";

/* The first format's minute table (one row per GPU-minute), moved by tstore_migrate. */
static const char tstore_migrate_sql[] =
    "INSERT OR IGNORE INTO metrics_gpus (host, gpu) SELECT DISTINCT host, gpu FROM metrics_1m;"
    "INSERT OR IGNORE INTO metrics_1m_open (series, bucket_start, " TSTORE_COLS ")"
    " SELECT g.id, m.bucket_start, " TSTORE_COLS " FROM metrics_1m m JOIN metrics_gpus g"
    " ON g.host = m.host AND g.gpu = m.gpu"
    " WHERE m.bucket_start % 60 = 0 AND abs(m.bucket_start) < 7730941132800;"
    "DROP TABLE metrics_1m;";

enum tstore_stmt {
	TS_HOST_GET,
	TS_HOST_ADD,
	TS_GPU_GET,
	TS_GPU_ADD,
	TS_PUT_OPEN,
	TS_PUT_1H,
	TS_OPEN_SPAN,
	TS_OPEN_GET,
	TS_OPEN_TAKE,
	TS_OPEN_DROP,
	TS_PACKED_SPAN,
	TS_PACKED_GET,
	TS_PACKED_SET,
	TS_PACKED_DEL,
	TS_PACKED_RANGE,
	TS_PACKED_EXPIRED,
	TS_PACKED_DROP,
	TS_NEXT_1H,
	TS_DEL_1H,
	TS_SERIES_1H,
	TS_OPEN_FIRST,
	TS_OPEN_RANGE,
	TS_OPEN_RANGE_DROP,
	TS_NSTMT
};

static const char *const tstore_sql[TS_NSTMT] = {
    [TS_HOST_GET] = "SELECT id FROM metrics_hosts WHERE name = ?1",
    [TS_HOST_ADD] = "INSERT INTO metrics_hosts (name) VALUES (?1)",
    [TS_GPU_GET] = "SELECT id FROM metrics_gpus WHERE host = ?1 AND gpu = ?2",
    [TS_GPU_ADD] = "INSERT INTO metrics_gpus (host, gpu) VALUES (?1, ?2)",
    [TS_PUT_OPEN] =
        "INSERT INTO metrics_1m_open (series, bucket_start, " TSTORE_COLS ")"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)" TSTORE_MERGE("bucket_start, series"),
    [TS_PUT_1H] =
        "INSERT INTO metrics_1h (host, gpu, bucket_start, " TSTORE_COLS ")"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)" TSTORE_MERGE("host, gpu, bucket_start"),
    [TS_OPEN_SPAN] = "SELECT (SELECT min(bucket_start) FROM metrics_1m_open),"
                     " (SELECT max(bucket_start) FROM metrics_1m_open)",
    [TS_OPEN_GET] = "SELECT " TSTORE_COLS " FROM metrics_1m_open"
                    " WHERE bucket_start = ?1 AND series = ?2",
    [TS_OPEN_TAKE] = "SELECT series, bucket_start, " TSTORE_COLS " FROM metrics_1m_open"
                     " WHERE bucket_start < ?1 ORDER BY series, bucket_start",
    [TS_OPEN_DROP] = "DELETE FROM metrics_1m_open WHERE bucket_start < ?1",
    [TS_PACKED_SPAN] = "SELECT (SELECT min(id) FROM metrics_1m_packed),"
                       " (SELECT max(id) FROM metrics_1m_packed)",
    [TS_PACKED_GET] = "SELECT data FROM metrics_1m_packed WHERE id = ?1",
    [TS_PACKED_SET] = "INSERT OR REPLACE INTO metrics_1m_packed (id, minutes, data)"
                      " VALUES (?1, ?2, ?3)",
    [TS_PACKED_DEL] = "DELETE FROM metrics_1m_packed WHERE id = ?1",
    [TS_PACKED_RANGE] = "SELECT id, data FROM metrics_1m_packed WHERE id >= ?1 AND id < ?2",
    [TS_PACKED_EXPIRED] = "SELECT coalesce(sum(minutes), 0) FROM metrics_1m_packed"
                          " WHERE id < ?1",
    [TS_PACKED_DROP] = "DELETE FROM metrics_1m_packed WHERE id < ?1",
    [TS_NEXT_1H] = "SELECT host, gpu FROM metrics_1h WHERE (host, gpu) > (?1, ?2)"
                   " ORDER BY host, gpu LIMIT 1",
    [TS_DEL_1H] = "DELETE FROM metrics_1h WHERE host = ?1 AND gpu = ?2 AND bucket_start < ?3",
    [TS_SERIES_1H] = "SELECT bucket_start, " TSTORE_COLS " FROM metrics_1h WHERE host = ?1"
                     " AND gpu = ?2 AND bucket_start >= ?3 AND bucket_start < ?4"
                     " ORDER BY bucket_start",
    /* The hour close by series ranges: each is a seek on the (bucket_start, series) key. */
    [TS_OPEN_FIRST] = "SELECT min(series) FROM metrics_1m_open WHERE bucket_start = ?1",
    [TS_OPEN_RANGE] = "SELECT series, " TSTORE_COLS " FROM metrics_1m_open"
                      " WHERE bucket_start = ?1 AND series >= ?2 AND series < ?3",
    [TS_OPEN_RANGE_DROP] = "DELETE FROM metrics_1m_open"
                           " WHERE bucket_start = ?1 AND series >= ?2 AND series < ?3",
};

/* Host name -> metrics_hosts id, and its GPUs' metrics_gpus ids (0 = not known yet). */
struct tstore_host {
	char *name;
	int64_t id;
	int64_t *gpus; /* TSTORE_GPU_CACHE entries, or NULL */
};

struct tstore {
	sqlite3 *db;
	sqlite3_stmt *st[TS_NSTMT];
	struct tstore_host *hosts; /* open addressing, power of two */
	size_t hosts_size, nhosts;
	struct tpack_hour hour, old; /* scratch for packing */
	uint8_t blob[TPACK_MAX];
	int defer_close;        /* tstore_put leaves closed hours to tstore_close_hours */
	int own_txn;            /* tstore_begin opened a transaction (not a savepoint) */
	struct tpack_hour *acc; /* tstore_close_hours: one per series of a range */
	int acc_n;
	int gap_us;              /* tstore_close_hours: pause between two ranges */
	void (*hook)(void *arg); /* called after each range committed (tests) */
	void *hook_arg;
};

/* A packed row read aside (pruning rewrites rows of the range it reads). */
struct tstore_prow {
	int64_t id;
	uint8_t *data;
	size_t len;
};

static int tstore_fail(struct tstore *ts, char **cause, const char *what)
{
	return xcause(cause, "metrics store: %s: %s", what, sqlite3_errmsg(ts->db));
}

/* Host ids added inside a failed transaction are gone: forget the cache. */
static void tstore_forget_hosts(struct tstore *ts)
{
	for (size_t i = 0; i < ts->hosts_size; i++) {
		free(ts->hosts[i].name);
		free(ts->hosts[i].gpus);
		ts->hosts[i].name = NULL;
		ts->hosts[i].gpus = NULL;
	}
	ts->nhosts = 0;
}

void tstore_close(struct tstore *ts)
{
	if (ts == NULL)
		return;
	for (int i = 0; i < TS_NSTMT; i++)
		sqlite3_finalize(ts->st[i]);
	tstore_forget_hosts(ts);
	free(ts->hosts);
	free(ts->acc);
	free(ts);
}

static uint64_t tstore_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct tstore_host *tstore_host_slot(struct tstore *ts, const char *name)
{
	size_t mask = ts->hosts_size - 1, i = tstore_hash(name) & mask;

	while (ts->hosts[i].name != NULL && strcmp(ts->hosts[i].name, name) != 0)
		i = (i + 1) & mask;
	return &ts->hosts[i];
}

static void tstore_host_cache(struct tstore *ts, const char *name, int64_t id)
{
	struct tstore_host *h;

	if ((ts->nhosts + 1) * 10 > ts->hosts_size * 7) {
		struct tstore_host *old = ts->hosts;
		size_t oldsz = ts->hosts_size;

		ts->hosts_size *= 2;
		ts->hosts = xcalloc(ts->hosts_size, sizeof *ts->hosts);
		for (size_t i = 0; i < oldsz; i++)
			if (old[i].name != NULL)
				*tstore_host_slot(ts, old[i].name) = old[i];
		free(old);
	}
	h = tstore_host_slot(ts, name);
	h->name = xstrdup(name);
	h->id = id;
	h->gpus = NULL;
	ts->nhosts++;
}

/* An id from a lookup statement bound by the caller, or from its insert when make: 0 when
 * absent (make = 0), -1 on error. */
static int64_t tstore_lookup(struct tstore *ts, enum tstore_stmt get, enum tstore_stmt add,
                             int make, char **cause)
{
	sqlite3_stmt *st = ts->st[get];
	int64_t id = 0;
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "reading hosts");
	if (id == 0 && make) {
		st = ts->st[add];
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return tstore_fail(ts, cause, "adding a host");
		id = sqlite3_last_insert_rowid(ts->db);
	}
	return id;
}

/* The id of a host name; make: add it when missing. 0 when absent (make = 0), -1 on error. */
static int64_t tstore_host_id(struct tstore *ts, const char *name, int make, char **cause)
{
	struct tstore_host *h = tstore_host_slot(ts, name);
	int64_t id;

	if (h->name != NULL)
		return h->id;
	sqlite3_bind_text(ts->st[TS_HOST_GET], 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(ts->st[TS_HOST_ADD], 1, name, -1, SQLITE_STATIC);
	id = tstore_lookup(ts, TS_HOST_GET, TS_HOST_ADD, make, cause);
	sqlite3_clear_bindings(ts->st[TS_HOST_GET]);
	sqlite3_clear_bindings(ts->st[TS_HOST_ADD]);
	if (id > 0)
		tstore_host_cache(ts, name, id);
	return id;
}

/* The metrics_gpus id of (host, gpu), as tstore_host_id. */
static int64_t tstore_gpu_id(struct tstore *ts, const char *name, int gpu, int make, char **cause)
{
	int64_t host = tstore_host_id(ts, name, make, cause), id;
	struct tstore_host *h;

	if (host <= 0)
		return host;
	h = tstore_host_slot(ts, name);
	if (gpu >= 0 && gpu < TSTORE_GPU_CACHE && h->gpus != NULL && h->gpus[gpu] > 0)
		return h->gpus[gpu];
	for (int i = TS_GPU_GET; i <= TS_GPU_ADD; i++) {
		sqlite3_bind_int64(ts->st[i], 1, host);
		sqlite3_bind_int(ts->st[i], 2, gpu);
	}
	id = tstore_lookup(ts, TS_GPU_GET, TS_GPU_ADD, make, cause);
	if (id > 0 && gpu >= 0 && gpu < TSTORE_GPU_CACHE) {
		if (h->gpus == NULL)
			h->gpus = xcalloc(TSTORE_GPU_CACHE, sizeof *h->gpus);
		h->gpus[gpu] = id;
	}
	return id;
}

/* floor(x / w) * w, for negative x too. */
static int64_t tstore_floor(int64_t x, int64_t w)
{
	int64_t q = x / w;

	return (x % w != 0 && x < 0 ? q - 1 : q) * w;
}

/* The packed row id of the hour starting at hour_s (a multiple of 3600) of GPU id gpu;
 * hours beyond what ids hold are clamped (for range bounds). */
static int64_t tstore_key(int64_t hour_s, int64_t gpu)
{
	int64_t h = hour_s / TRING_1H;

	h = h < -TSTORE_HOUR_LIM   ? -TSTORE_HOUR_LIM
	    : h >= TSTORE_HOUR_LIM ? TSTORE_HOUR_LIM - 1
	                           : h;
	return h * TSTORE_KEY_HOUR + gpu;
}

/* The hour a packed row id is of (Unix seconds). */
static int64_t tstore_key_hour(int64_t key)
{
	return tstore_floor(key, TSTORE_KEY_HOUR) / TSTORE_KEY_HOUR * TRING_1H;
}

/* Ceiling of ms / 1000 (so that [from, to) in ms maps to whole seconds). */
static int64_t tstore_sec_ceil(int64_t ms)
{
	int64_t q = ms / 1000;

	return (ms % 1000 != 0 && ms > 0) ? q + 1 : q;
}

static int64_t tstore_round(double x)
{
	return (int64_t)llround(x);
}

/* A bucket as the store keeps it (integers: %, MiB, degrees C, deci-watts). */
static void tstore_min_of_bucket(const struct tring_bucket *b, struct tpack_min *m)
{
	memset(m, 0, sizeof *m);
	m->n = b->n;
	m->n_util = b->n_util;
	if (b->n_util > 0) {
		m->util_avg = tstore_round(b->util_avg);
		m->util_max = tstore_round(b->util_max);
	}
	if (b->n_mem > 0) {
		m->mem_mib = tstore_round(b->mem_avg);
		m->has |= TPACK_MEM;
	}
	if (b->n_temp > 0) {
		m->temp_max = tstore_round(b->temp_max);
		m->has |= TPACK_TEMP;
	}
	if (b->n_power > 0) {
		m->power_dw = tstore_round(b->power_avg * 10);
		m->has |= TPACK_POWER;
	}
}

/* The TSTORE_COLS of a row from column c on (NULL = not held). */
static void tstore_min_of_row(sqlite3_stmt *st, int c, struct tpack_min *m)
{
	memset(m, 0, sizeof *m);
	m->n = sqlite3_column_int64(st, c);
	if (sqlite3_column_type(st, c + 2) != SQLITE_NULL) {
		m->n_util = sqlite3_column_int64(st, c + 1);
		m->util_avg = sqlite3_column_int64(st, c + 2);
		m->util_max = sqlite3_column_int64(st, c + 3);
	}
	if (sqlite3_column_type(st, c + 4) != SQLITE_NULL) {
		m->mem_mib = sqlite3_column_int64(st, c + 4);
		m->has |= TPACK_MEM;
	}
	if (sqlite3_column_type(st, c + 5) != SQLITE_NULL) {
		m->temp_max = sqlite3_column_int64(st, c + 5);
		m->has |= TPACK_TEMP;
	}
	if (sqlite3_column_type(st, c + 6) != SQLITE_NULL) {
		m->power_dw = sqlite3_column_int64(st, c + 6);
		m->has |= TPACK_POWER;
	}
}

/* A bucket read back: a field's count is n when it was held (n_util is kept exactly). */
static void tstore_bucket_of_min(const struct tpack_min *m, int gpu, int width_s, int64_t start_s,
                                 struct tring_bucket *b)
{
	uint32_t cnt = (uint32_t)m->n;

	memset(b, 0, sizeof *b);
	b->gpu = gpu;
	b->width_s = width_s;
	b->start_ms = start_s * 1000;
	b->n = cnt;
	if (m->n_util > 0) {
		b->n_util = (uint32_t)m->n_util;
		b->util_avg = (double)m->util_avg;
		b->util_max = (double)m->util_max;
	}
	if (m->has & TPACK_MEM) {
		b->mem_avg = (double)m->mem_mib;
		b->n_mem = cnt;
	}
	if (m->has & TPACK_TEMP) {
		b->temp_max = (double)m->temp_max;
		b->n_temp = cnt;
	}
	if (m->has & TPACK_POWER) {
		b->power_avg = (double)m->power_dw / 10.0;
		b->n_power = cnt;
	}
}

static void tstore_bind_opt(sqlite3_stmt *st, int col, int has, int64_t x)
{
	if (has)
		sqlite3_bind_int64(st, col, x);
	else
		sqlite3_bind_null(st, col);
}

/* Binds the minute's values as ?col .. ?col+6 (the TSTORE_COLS). */
static void tstore_bind_min(sqlite3_stmt *st, int col, const struct tpack_min *m)
{
	sqlite3_bind_int64(st, col, m->n);
	sqlite3_bind_int64(st, col + 1, m->n_util);
	tstore_bind_opt(st, col + 2, m->n_util > 0, m->util_avg);
	tstore_bind_opt(st, col + 3, m->n_util > 0, m->util_max);
	tstore_bind_opt(st, col + 4, m->has & TPACK_MEM, m->mem_mib);
	tstore_bind_opt(st, col + 5, m->has & TPACK_TEMP, m->temp_max);
	tstore_bind_opt(st, col + 6, m->has & TPACK_POWER, m->power_dw);
}

/* Reads the (min, max) pair of a span statement; 0 when the table is empty, 1, or -1. */
static int tstore_span(struct tstore *ts, enum tstore_stmt which, int64_t *lo, int64_t *hi,
                       char **cause)
{
	sqlite3_stmt *st = ts->st[which];
	int rc = sqlite3_step(st), found = 0;

	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
		*lo = sqlite3_column_int64(st, 0);
		*hi = sqlite3_column_int64(st, 1);
		found = 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return tstore_fail(ts, cause, "reading the minute tables");
	return found;
}

/* The packed hour of row id key into *h: 1, 0 when there is none, -1 on error; a row that
 * does not unpack counts as none when damaged_ok (it is then overwritten). */
static int tstore_packed_get(struct tstore *ts, int64_t key, struct tpack_hour *h, int damaged_ok,
                             char **cause)
{
	sqlite3_stmt *st = ts->st[TS_PACKED_GET];
	int rc, found = 0;

	sqlite3_bind_int64(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(st, 0);
		int len = sqlite3_column_bytes(st, 0);

		found = tpack_decode(p, (size_t)len, h) == 0 ? 1 : -2;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "reading packed minutes");
	if (found == -2 && !damaged_ok)
		return xcause(cause, "metrics store: damaged packed minutes (row %lld)",
		              (long long)key);
	return found == 1;
}

/* Writes the packed row key, or deletes it when h holds no minute. */
static int tstore_packed_set(struct tstore *ts, int64_t key, const struct tpack_hour *h,
                             char **cause)
{
	sqlite3_stmt *st = ts->st[h->mask != 0 ? TS_PACKED_SET : TS_PACKED_DEL];
	int rc;

	sqlite3_bind_int64(st, 1, key);
	if (h->mask != 0) {
		size_t len = tpack_encode(h, ts->blob);

		sqlite3_bind_int(st, 2, tpack_count(h->mask));
		sqlite3_bind_blob(st, 3, ts->blob, (int)len, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "writing packed minutes");
	return 0;
}

/* Folds the minutes of h into packed row key, which may not exist yet. */
static int tstore_pack_hour(struct tstore *ts, int64_t key, struct tpack_hour *h, char **cause)
{
	struct tpack_hour *old = &ts->old;
	int rc = tstore_packed_get(ts, key, old, 1, cause);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return tstore_packed_set(ts, key, h, cause);
	for (int i = 0; i < TPACK_SLOTS; i++) {
		if (!((h->mask >> i) & 1))
			continue;
		if ((old->mask >> i) & 1)
			tpack_merge(&old->m[i], &h->m[i]);
		else
			old->m[i] = h->m[i];
	}
	old->mask |= h->mask;
	return tstore_packed_set(ts, key, old, cause);
}

/* Packs the open minutes of every hour that has ended by the newest open minute's end: one
 * packed row per GPU and hour, merged with the row already there, if any. */
static int tstore_pack(struct tstore *ts, char **cause)
{
	sqlite3_stmt *st = ts->st[TS_OPEN_TAKE];
	struct tpack_hour *h = &ts->hour;
	int64_t lo, hi, limit, key = 0;
	int rc, any = 0;

	rc = tstore_span(ts, TS_OPEN_SPAN, &lo, &hi, cause);
	if (rc <= 0)
		return rc;
	limit = tstore_floor(hi + TRING_1M, TRING_1H);
	if (lo >= limit)
		return 0;
	sqlite3_bind_int64(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t start = sqlite3_column_int64(st, 1), hour = tstore_floor(start, TRING_1H);
		int64_t row_key = tstore_key(hour, sqlite3_column_int64(st, 0));
		int slot = (int)((start - hour) / TRING_1M);

		if (any && row_key != key) {
			if (tstore_pack_hour(ts, key, h, cause) < 0)
				break;
			any = 0;
		}
		if (!any) {
			memset(h, 0, sizeof *h);
			key = row_key;
			any = 1;
		}
		tstore_min_of_row(st, 2, &h->m[slot]);
		h->mask |= UINT64_C(1) << slot;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW) /* a write failed */
		return -1;
	if (rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "packing minutes");
	if (any && tstore_pack_hour(ts, key, h, cause) < 0)
		return -1;
	st = ts->st[TS_OPEN_DROP];
	sqlite3_bind_int64(st, 1, limit);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "packing minutes");
	return 0;
}

/* A write transaction: BEGIN IMMEDIATE outside any transaction (it takes the write lock
 * first, waiting through the busy timeout while another connection, the hour close, commits:
 * a deferred one that read first would fail on a stale snapshot instead), a savepoint inside
 * the caller's. */
static int tstore_begin(struct tstore *ts, char **cause)
{
	ts->own_txn = sqlite3_get_autocommit(ts->db);
	if (sqlite3_exec(ts->db, ts->own_txn ? "BEGIN IMMEDIATE" : "SAVEPOINT tstore", NULL, NULL,
	                 NULL) != SQLITE_OK)
		return tstore_fail(ts, cause, "starting a transaction");
	return 0;
}
static int tstore_end(struct tstore *ts, int ok, char **cause)
{
	const char *undo = ts->own_txn ? "ROLLBACK" : "ROLLBACK TO tstore; RELEASE tstore";

	if (!ok) {
		sqlite3_exec(ts->db, undo, NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(ts->db, ts->own_txn ? "COMMIT" : "RELEASE tstore", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		tstore_fail(ts, cause, "committing");
		sqlite3_exec(ts->db, undo, NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* Moves the first format's metrics_1m (one row per GPU-minute) into the open minutes, packs
 * the hours that have ended and drops it. A read-only connection leaves it alone. */
static int tstore_migrate(struct tstore *ts, char **cause)
{
	sqlite3_stmt *st;
	int old;

	if (sqlite3_prepare_v2(ts->db,
	                       "SELECT 1 FROM sqlite_master WHERE type = 'table' AND"
	                       " name = 'metrics_1m'",
	                       -1, &st, NULL) != SQLITE_OK)
		return tstore_fail(ts, cause, "looking for old tables");
	old = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!old || sqlite3_db_readonly(ts->db, "main") == 1)
		return 0;
	if (tstore_begin(ts, cause) < 0)
		return -1;
	if (sqlite3_exec(ts->db, tstore_migrate_sql, NULL, NULL, NULL) != SQLITE_OK) {
		tstore_fail(ts, cause, "migrating metrics_1m");
		return tstore_end(ts, 0, cause);
	}
	return tstore_end(ts, tstore_pack(ts, cause) == 0, cause);
}

struct tstore *tstore_open(sqlite3 *db, char **cause)
{
	struct tstore *ts = xcalloc(1, sizeof *ts);

	ts->db = db;
	ts->hosts_size = 64;
	ts->hosts = xcalloc(ts->hosts_size, sizeof *ts->hosts);
	if (sqlite3_exec(db, tstore_schema, NULL, NULL, NULL) != SQLITE_OK) {
		tstore_fail(ts, cause, "creating tables");
		tstore_close(ts);
		return NULL;
	}
	for (int i = 0; i < TS_NSTMT; i++) {
		if (sqlite3_prepare_v3(db, tstore_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &ts->st[i],
		                       NULL) != SQLITE_OK) {
			tstore_fail(ts, cause, "preparing statements");
			tstore_close(ts);
			return NULL;
		}
	}
	if (tstore_migrate(ts, cause) < 0) {
		tstore_close(ts);
		return NULL;
	}
	return ts;
}

/* Writes one bucket: an hour as a row; a minute of an hour already closed (packed_hi is the
 * newest packed row id, INT64_MIN when none: a late minute, or a restart in the minute an
 * hour closed) into its packed row, any other minute as an open row. */
static int tstore_put_one(struct tstore *ts, const struct tring_bucket *b, int64_t packed_hi,
                          char **cause)
{
	struct tpack_min m;
	sqlite3_stmt *st;
	int64_t id, start_s = b->start_ms / 1000, hour = tstore_floor(start_s, TRING_1H);
	int rc;

	if (b->host == NULL || (b->width_s != TRING_1M && b->width_s != TRING_1H))
		return xcause(cause, "metrics store: bucket without host or with width %d",
		              b->width_s);
	if (b->start_ms % ((int64_t)b->width_s * 1000) != 0)
		return xcause(cause,
		              "metrics store: bucket start %lld ms is not a multiple of %d s",
		              (long long)b->start_ms, b->width_s);
	tstore_min_of_bucket(b, &m);
	if (b->width_s == TRING_1H) {
		id = tstore_host_id(ts, b->host, 1, cause);
		if (id < 0)
			return -1;
		st = ts->st[TS_PUT_1H];
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int(st, 2, b->gpu);
		sqlite3_bind_int64(st, 3, start_s);
		tstore_bind_min(st, 4, &m);
	} else {
		if (hour / TRING_1H <= -TSTORE_HOUR_LIM || hour / TRING_1H >= TSTORE_HOUR_LIM)
			return xcause(cause, "metrics store: bucket start %lld ms out of range",
			              (long long)b->start_ms);
		id = tstore_gpu_id(ts, b->host, b->gpu, 1, cause);
		if (id < 0)
			return -1;
		if (id >= TSTORE_KEY_HOUR)
			return xcause(cause, "metrics store: too many GPUs");
		if (tstore_key(hour, id) <= packed_hi) {
			struct tpack_hour *h = &ts->hour;
			int slot = (int)((start_s - hour) / TRING_1M);

			memset(h, 0, sizeof *h);
			h->mask = UINT64_C(1) << slot;
			h->m[slot] = m;
			return tstore_pack_hour(ts, tstore_key(hour, id), h, cause);
		}
		st = ts->st[TS_PUT_OPEN];
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, start_s);
		tstore_bind_min(st, 3, &m);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "writing buckets");
	return 0;
}

int tstore_put(struct tstore *ts, const struct tring_bucket *b, size_t n, char **cause)
{
	int64_t lo, packed_hi = INT64_MIN;
	int ok = 1, minutes = 0;

	if (n == 0)
		return 0;
	if (tstore_begin(ts, cause) < 0)
		return -1;
	switch (tstore_span(ts, TS_PACKED_SPAN, &lo, &packed_hi, cause)) {
	case -1:
		ok = 0;
		break;
	case 0:
		packed_hi = INT64_MIN;
		break;
	}
	/* Hours up to the newest packed one are closed (with one GPU id or another). */
	if (ok && packed_hi != INT64_MIN)
		packed_hi = tstore_key(tstore_key_hour(packed_hi), TSTORE_KEY_HOUR - 1);
	for (size_t i = 0; i < n && ok; i++) {
		ok = tstore_put_one(ts, &b[i], packed_hi, cause) == 0;
		minutes |= b[i].width_s == TRING_1M;
	}
	if (ok && minutes && !ts->defer_close)
		ok = tstore_pack(ts, cause) == 0;
	if (tstore_end(ts, ok, cause) < 0) {
		tstore_forget_hosts(ts);
		return -1;
	}
	return 0;
}

void tstore_defer_close(struct tstore *ts, int on)
{
	ts->defer_close = on;
}

void tstore_close_gap(struct tstore *ts, int us)
{
	ts->gap_us = us;
}

/* Retries every TSTORE_BUSY_STEP_US for TSTORE_BUSY_MS: a write waiting on the closer gets in
 * within the pause that follows the range it waits on. */
static int tstore_busy(void *arg, int count)
{
	struct timespec d = {0, TSTORE_BUSY_STEP_US * 1000L};

	(void)arg;
	if ((int64_t)count * TSTORE_BUSY_STEP_US >= (int64_t)TSTORE_BUSY_MS * 1000)
		return 0;
	nanosleep(&d, NULL);
	return 1;
}

void tstore_busy_fine(sqlite3 *db)
{
	sqlite3_busy_handler(db, tstore_busy, NULL);
}

void tstore_close_hook(struct tstore *ts, void (*fn)(void *arg), void *arg)
{
	ts->hook = fn;
	ts->hook_arg = arg;
}

/* The oldest hour that has open rows and has ended (by the newest open minute's end, as
 * tstore_pack): 1 and *hour, 0 when none, -1. */
static int tstore_closable(struct tstore *ts, int64_t *hour, char **cause)
{
	int64_t lo, hi;
	int rc = tstore_span(ts, TS_OPEN_SPAN, &lo, &hi, cause);

	if (rc <= 0)
		return rc;
	*hour = tstore_floor(lo, TRING_1H);
	return lo < tstore_floor(hi + TRING_1M, TRING_1H);
}

int tstore_close_due(struct tstore *ts, char **cause)
{
	int64_t hour;

	return tstore_closable(ts, &hour, cause);
}

/* One step of the hour close, inside a transaction: the open rows of hour `hour` whose
 * series is in [first, first + range), first being the lowest series left in that hour, are
 * folded into their packed rows (as tstore_pack does) and deleted. *left = 0 when the hour
 * had no open row left. */
static int tstore_close_range(struct tstore *ts, int64_t hour, int range, int *left, char **cause)
{
	sqlite3_stmt *first = ts->st[TS_OPEN_FIRST], *get = ts->st[TS_OPEN_RANGE];
	sqlite3_stmt *drop = ts->st[TS_OPEN_RANGE_DROP];
	int64_t lo = INT64_MAX, hi;
	int rc;

	for (int i = 0; i < TPACK_SLOTS; i++) {
		sqlite3_bind_int64(first, 1, hour + (int64_t)i * TRING_1M);
		rc = sqlite3_step(first);
		if (rc == SQLITE_ROW && sqlite3_column_type(first, 0) != SQLITE_NULL &&
		    sqlite3_column_int64(first, 0) < lo)
			lo = sqlite3_column_int64(first, 0);
		sqlite3_reset(first);
		if (rc != SQLITE_ROW)
			return tstore_fail(ts, cause, "closing an hour");
	}
	*left = lo != INT64_MAX;
	if (!*left)
		return 0;
	hi = lo > INT64_MAX - range ? INT64_MAX : lo + range;
	if (ts->acc_n < range) {
		free(ts->acc);
		ts->acc = xcalloc((size_t)range, sizeof *ts->acc);
		ts->acc_n = range;
	}
	for (int i = 0; i < range; i++)
		ts->acc[i].mask = 0;
	for (int i = 0; i < TPACK_SLOTS; i++) {
		sqlite3_bind_int64(get, 1, hour + (int64_t)i * TRING_1M);
		sqlite3_bind_int64(get, 2, lo);
		sqlite3_bind_int64(get, 3, hi);
		while ((rc = sqlite3_step(get)) == SQLITE_ROW) {
			struct tpack_hour *h = &ts->acc[sqlite3_column_int64(get, 0) - lo];

			tstore_min_of_row(get, 1, &h->m[i]);
			h->mask |= UINT64_C(1) << i;
		}
		sqlite3_reset(get);
		if (rc != SQLITE_DONE)
			return tstore_fail(ts, cause, "closing an hour");
	}
	for (int i = 0; i < range; i++)
		if (ts->acc[i].mask != 0 &&
		    tstore_pack_hour(ts, tstore_key(hour, lo + i), &ts->acc[i], cause) < 0)
			return -1;
	for (int i = 0; i < TPACK_SLOTS; i++) {
		sqlite3_bind_int64(drop, 1, hour + (int64_t)i * TRING_1M);
		sqlite3_bind_int64(drop, 2, lo);
		sqlite3_bind_int64(drop, 3, hi);
		rc = sqlite3_step(drop);
		sqlite3_reset(drop);
		if (rc != SQLITE_DONE)
			return tstore_fail(ts, cause, "closing an hour");
	}
	return 0;
}

int tstore_close_hours(struct tstore *ts, int range, int max_steps, const atomic_int *stop,
                       char **cause)
{
	if (range < 1)
		range = TSTORE_CLOSE_RANGE;
	for (int steps = 0;; steps++) {
		int64_t hour;
		int rc, left = 0;

		if ((max_steps > 0 && steps >= max_steps) || (stop != NULL && atomic_load(stop)))
			return 1;
		if (tstore_begin(ts, cause) < 0)
			return -1;
		rc = tstore_closable(ts, &hour, cause);
		if (rc > 0 && tstore_close_range(ts, hour, range, &left, cause) < 0)
			rc = -1;
		if (tstore_end(ts, rc >= 0, cause) < 0)
			return -1;
		if (rc == 0 || !left) /* no ended hour with open rows left */
			return 0;
		if (ts->hook != NULL)
			ts->hook(ts->hook_arg);
		if (ts->gap_us > 0) {
			struct timespec d = {ts->gap_us / 1000000, (ts->gap_us % 1000000) * 1000L};

			nanosleep(&d, NULL);
		}
	}
}

/* Runs a one-parameter statement that returns nothing; adds the rows it changed. */
static int tstore_run(struct tstore *ts, enum tstore_stmt which, int64_t arg, int64_t *changed,
                      char **cause)
{
	sqlite3_stmt *st = ts->st[which];
	int rc;

	sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "pruning");
	*changed += sqlite3_changes(ts->db);
	return 0;
}

/* Trims the packed hours that start in [from_s, before_s): their minutes that start before
 * before_s go. */
static int tstore_prune_straddling(struct tstore *ts, int64_t from_s, int64_t before_s,
                                   int64_t *deleted, char **cause)
{
	sqlite3_stmt *st = ts->st[TS_PACKED_RANGE];
	struct tstore_prow *rows = NULL;
	size_t n = 0, cap = 0;
	int rc, ok = 1;

	sqlite3_bind_int64(st, 1, tstore_key(from_s, 0));
	sqlite3_bind_int64(st, 2, tstore_key(tstore_floor(before_s - 1, TRING_1H) + TRING_1H, 0));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct tstore_prow *r;
		size_t len = (size_t)sqlite3_column_bytes(st, 1);

		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			rows = xreallocarray(rows, cap, sizeof *rows);
		}
		r = &rows[n++];
		r->id = sqlite3_column_int64(st, 0);
		r->len = len;
		r->data = xmalloc(len > 0 ? len : 1);
		if (len > 0)
			memcpy(r->data, sqlite3_column_blob(st, 1), len);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		ok = tstore_fail(ts, cause, "pruning") == 0;
	for (size_t i = 0; i < n && ok; i++) {
		struct tstore_prow *r = &rows[i];
		struct tpack_hour *h = &ts->hour;
		int64_t hour = tstore_key_hour(r->id);
		uint64_t gone = 0;

		if (tpack_decode(r->data, r->len, h) < 0)
			continue; /* damaged: it goes whole with a later prune */
		for (int s = 0; s < TPACK_SLOTS; s++)
			if (hour + (int64_t)s * TRING_1M < before_s)
				gone |= UINT64_C(1) << s;
		gone &= h->mask;
		if (gone == 0)
			continue;
		h->mask &= ~gone;
		*deleted += tpack_count(gone);
		ok = tstore_packed_set(ts, r->id, h, cause) == 0;
	}
	for (size_t i = 0; i < n; i++)
		free(rows[i].data);
	free(rows);
	return ok ? 0 : -1;
}

/* Deletes the minutes that start before before_s: open rows, whole packed hours, and the
 * minutes of the packed hour that straddles it. */
static int tstore_prune_1m(struct tstore *ts, int64_t before_s, int64_t *deleted, char **cause)
{
	sqlite3_stmt *st = ts->st[TS_PACKED_EXPIRED];
	int64_t ignored = 0, whole;
	int rc;

	if (tstore_run(ts, TS_OPEN_DROP, before_s, deleted, cause) < 0)
		return -1;
	/* An hour goes whole when its last minute starts before before_s. */
	whole = tstore_floor(before_s - (TRING_1H - TRING_1M) - 1, TRING_1H) + TRING_1H;
	sqlite3_bind_int64(st, 1, tstore_key(whole, 0));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*deleted += sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return tstore_fail(ts, cause, "pruning");
	if (tstore_run(ts, TS_PACKED_DROP, tstore_key(whole, 0), &ignored, cause) < 0)
		return -1;
	return tstore_prune_straddling(ts, whole, before_s, deleted, cause);
}

/* Deletes from the hour table, one (host, gpu) series at a time along the primary key. */
static int tstore_prune_1h(struct tstore *ts, int64_t before_s, int64_t *deleted, char **cause)
{
	sqlite3_stmt *next = ts->st[TS_NEXT_1H];
	sqlite3_stmt *del = ts->st[TS_DEL_1H];
	int64_t host = -1, gpu = -1;
	int rc;

	for (;;) {
		sqlite3_bind_int64(next, 1, host);
		sqlite3_bind_int64(next, 2, gpu);
		rc = sqlite3_step(next);
		if (rc == SQLITE_ROW) {
			host = sqlite3_column_int64(next, 0);
			gpu = sqlite3_column_int64(next, 1);
		}
		sqlite3_reset(next);
		if (rc == SQLITE_DONE)
			return 0;
		if (rc != SQLITE_ROW)
			return tstore_fail(ts, cause, "pruning");
		sqlite3_bind_int64(del, 1, host);
		sqlite3_bind_int64(del, 2, gpu);
		sqlite3_bind_int64(del, 3, before_s);
		rc = sqlite3_step(del);
		sqlite3_reset(del);
		if (rc != SQLITE_DONE)
			return tstore_fail(ts, cause, "pruning");
		*deleted += sqlite3_changes(ts->db);
	}
}

int tstore_prune(struct tstore *ts, int64_t now_ms, const struct tstore_retention *r,
                 int64_t *deleted, char **cause)
{
	struct tstore_retention def = {TSTORE_KEEP_1M_S, TSTORE_KEEP_1H_S};
	int64_t now_s = now_ms / 1000, count = 0;
	int ok = 1;

	if (r == NULL)
		r = &def;
	if (tstore_begin(ts, cause) < 0)
		return -1;
	/* A bucket goes once its end is older than the retention: start + width <= now - keep. */
	if (r->keep_1m_s > 0)
		ok = tstore_prune_1m(ts, now_s - r->keep_1m_s - TRING_1M + 1, &count, cause) == 0;
	if (ok && r->keep_1h_s > 0)
		ok = tstore_prune_1h(ts, now_s - r->keep_1h_s - TRING_1H + 1, &count, cause) == 0;
	if (tstore_end(ts, ok, cause) < 0)
		return -1;
	if (deleted != NULL)
		*deleted = count;
	return 0;
}

/* A growing array of buckets. */
struct tstore_out {
	struct tring_bucket *v;
	size_t len, cap;
};

static struct tring_bucket *tstore_out_add(struct tstore_out *o)
{
	if (o->len == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->v = xreallocarray(o->v, o->cap, sizeof *o->v);
	}
	return &o->v[o->len++];
}

static int tstore_by_start(const void *a, const void *b)
{
	int64_t x = ((const struct tring_bucket *)a)->start_ms;
	int64_t y = ((const struct tring_bucket *)b)->start_ms;

	return (x > y) - (x < y);
}

/* The minutes of GPU id in [from_s, to_s): packed hours looked up one by one over the span
 * the table holds, then the open minutes likewise (an hour at most). */
static int tstore_series_1m(struct tstore *ts, int64_t id, int gpu, int64_t from_s, int64_t to_s,
                            struct tstore_out *o, char **cause)
{
	struct tpack_hour *h = &ts->hour;
	sqlite3_stmt *st = ts->st[TS_OPEN_GET];
	int64_t lo = 0, hi = 0, t;
	int rc;

	rc = tstore_span(ts, TS_PACKED_SPAN, &lo, &hi, cause);
	if (rc < 0)
		return -1;
	lo = tstore_key_hour(lo);
	hi = tstore_key_hour(hi);
	t = tstore_floor(from_s, TRING_1H);
	for (t = lo > t ? lo : t; rc == 1 && t <= hi && t < to_s; t += TRING_1H) {
		int got = tstore_packed_get(ts, tstore_key(t, id), h, 0, cause);

		if (got < 0)
			return -1;
		for (int i = 0; i < TPACK_SLOTS && got; i++) {
			int64_t start = t + (int64_t)i * TRING_1M;

			if (((h->mask >> i) & 1) && start >= from_s && start < to_s)
				tstore_bucket_of_min(&h->m[i], gpu, TRING_1M, start,
				                     tstore_out_add(o));
		}
	}
	rc = tstore_span(ts, TS_OPEN_SPAN, &lo, &hi, cause);
	if (rc < 0)
		return -1;
	t = tstore_floor(from_s + TRING_1M - 1, TRING_1M);
	for (t = lo > t ? lo : t; rc == 1 && t <= hi && t < to_s; t += TRING_1M) {
		int step;

		sqlite3_bind_int64(st, 1, t);
		sqlite3_bind_int64(st, 2, id);
		step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			struct tpack_min m;

			tstore_min_of_row(st, 0, &m);
			tstore_bucket_of_min(&m, gpu, TRING_1M, t, tstore_out_add(o));
		}
		sqlite3_reset(st);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return tstore_fail(ts, cause, "reading a series");
	}
	qsort(o->v, o->len, sizeof *o->v, tstore_by_start);
	return 0;
}

static int tstore_series_1h(struct tstore *ts, int64_t host, int gpu, int64_t from_s, int64_t to_s,
                            struct tstore_out *o, char **cause)
{
	sqlite3_stmt *st = ts->st[TS_SERIES_1H];
	int rc;

	sqlite3_bind_int64(st, 1, host);
	sqlite3_bind_int(st, 2, gpu);
	sqlite3_bind_int64(st, 3, from_s);
	sqlite3_bind_int64(st, 4, to_s);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct tpack_min m;

		tstore_min_of_row(st, 1, &m);
		tstore_bucket_of_min(&m, gpu, TRING_1H, sqlite3_column_int64(st, 0),
		                     tstore_out_add(o));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "reading a series");
	return 0;
}

int tstore_series(struct tstore *ts, const char *host, int gpu, int width_s, int64_t from_ms,
                  int64_t to_ms, struct tring_bucket **out, size_t *n, char **cause)
{
	struct tstore_out o = {NULL, 0, 0};
	int64_t id, from_s = tstore_sec_ceil(from_ms), to_s = tstore_sec_ceil(to_ms);
	int rc;

	*out = NULL;
	*n = 0;
	if (width_s != TRING_1M && width_s != TRING_1H)
		return xcause(cause, "metrics store: no buckets of %d s", width_s);
	id = width_s == TRING_1M ? tstore_gpu_id(ts, host, gpu, 0, cause)
	                         : tstore_host_id(ts, host, 0, cause);
	if (id < 0)
		return -1;
	if (id == 0 || from_s >= to_s)
		return 0;
	rc = width_s == TRING_1M ? tstore_series_1m(ts, id, gpu, from_s, to_s, &o, cause)
	                         : tstore_series_1h(ts, id, gpu, from_s, to_s, &o, cause);
	if (rc < 0) {
		free(o.v);
		return -1;
	}
	*out = o.v;
	*n = o.len;
	return 0;
}

int64_t tstore_rows(struct tstore *ts, int width_s)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(ts->db,
	                       width_s == TRING_1H
	                           ? "SELECT count(*) FROM metrics_1h"
	                           : "SELECT (SELECT count(*) FROM metrics_1m_open)"
	                             " + (SELECT coalesce(sum(minutes), 0) FROM metrics_1m_packed)",
	                       -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}
