/* tele_store.c: downsampled GPU history in sqlite (see tele_store.h). */
#include "core/tele_store.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

/* A bucket already stored is merged with the incoming one: counts add up, maxima take the
 * larger (NULL = none), averages are weighted by their counts (n_util for utilisation, n for
 * the others) and rounded. Right-hand sides see the stored row's old values. */
#define TSTORE_MERGE                                                                               \
	" ON CONFLICT (host, gpu, bucket_start) DO UPDATE SET"                                     \
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

#define TSTORE_UPSERT(table)                                                                       \
	"INSERT INTO " table " (host, gpu, bucket_start, n, n_util, util_avg, util_max, mem_mib,"  \
	" temp_max, power_dw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)" TSTORE_MERGE

static const char tstore_schema[] =
    "CREATE TABLE IF NOT EXISTS metrics_hosts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS metrics_1m (host INTEGER NOT NULL, gpu INTEGER NOT NULL,"
    " bucket_start INTEGER NOT NULL, n INTEGER NOT NULL, n_util INTEGER NOT NULL,"
    " util_avg INTEGER, util_max INTEGER, mem_mib INTEGER, temp_max INTEGER, power_dw INTEGER,"
    " PRIMARY KEY (host, gpu, bucket_start)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS metrics_1h (host INTEGER NOT NULL, gpu INTEGER NOT NULL,"
    " bucket_start INTEGER NOT NULL, n INTEGER NOT NULL, n_util INTEGER NOT NULL,"
    " util_avg INTEGER, util_max INTEGER, mem_mib INTEGER, temp_max INTEGER, power_dw INTEGER,"
    " PRIMARY KEY (host, gpu, bucket_start)) WITHOUT ROWID;";

enum tstore_stmt {
	TS_HOST_GET,
	TS_HOST_ADD,
	TS_PUT_1M,
	TS_PUT_1H,
	TS_NEXT_1M,
	TS_NEXT_1H,
	TS_DEL_1M,
	TS_DEL_1H,
	TS_SERIES_1M,
	TS_SERIES_1H,
	TS_NSTMT
};

static const char *const tstore_sql[TS_NSTMT] = {
    [TS_HOST_GET] = "SELECT id FROM metrics_hosts WHERE name = ?1",
    [TS_HOST_ADD] = "INSERT INTO metrics_hosts (name) VALUES (?1)",
    [TS_PUT_1M] = TSTORE_UPSERT("metrics_1m"),
    [TS_PUT_1H] = TSTORE_UPSERT("metrics_1h"),
    [TS_NEXT_1M] = "SELECT host, gpu FROM metrics_1m WHERE (host, gpu) > (?1, ?2)"
                   " ORDER BY host, gpu LIMIT 1",
    [TS_NEXT_1H] = "SELECT host, gpu FROM metrics_1h WHERE (host, gpu) > (?1, ?2)"
                   " ORDER BY host, gpu LIMIT 1",
    [TS_DEL_1M] = "DELETE FROM metrics_1m WHERE host = ?1 AND gpu = ?2 AND bucket_start < ?3",
    [TS_DEL_1H] = "DELETE FROM metrics_1h WHERE host = ?1 AND gpu = ?2 AND bucket_start < ?3",
    [TS_SERIES_1M] = "SELECT bucket_start, n, n_util, util_avg, util_max, mem_mib, temp_max,"
                     " power_dw FROM metrics_1m WHERE host = ?1 AND gpu = ?2"
                     " AND bucket_start >= ?3 AND bucket_start < ?4 ORDER BY bucket_start",
    [TS_SERIES_1H] = "SELECT bucket_start, n, n_util, util_avg, util_max, mem_mib, temp_max,"
                     " power_dw FROM metrics_1h WHERE host = ?1 AND gpu = ?2"
                     " AND bucket_start >= ?3 AND bucket_start < ?4 ORDER BY bucket_start",
};

/* Host name -> metrics_hosts id, cached. */
struct tstore_host {
	char *name;
	int64_t id;
};

struct tstore {
	sqlite3 *db;
	sqlite3_stmt *st[TS_NSTMT];
	struct tstore_host *hosts; /* open addressing, power of two */
	size_t hosts_size, nhosts;
};

static int tstore_fail(struct tstore *ts, char **cause, const char *what)
{
	return xcause(cause, "metrics store: %s: %s", what, sqlite3_errmsg(ts->db));
}

void tstore_close(struct tstore *ts)
{
	if (ts == NULL)
		return;
	for (int i = 0; i < TS_NSTMT; i++)
		sqlite3_finalize(ts->st[i]);
	for (size_t i = 0; i < ts->hosts_size; i++)
		free(ts->hosts[i].name);
	free(ts->hosts);
	free(ts);
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
	return ts;
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
	ts->nhosts++;
}

/* The id of a host name; make: add it when missing. 0 when absent (make = 0), -1 on error. */
static int64_t tstore_host_id(struct tstore *ts, const char *name, int make, char **cause)
{
	struct tstore_host *h = tstore_host_slot(ts, name);
	sqlite3_stmt *st;
	int64_t id = 0;
	int rc;

	if (h->name != NULL)
		return h->id;
	st = ts->st[TS_HOST_GET];
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "reading hosts");
	if (id == 0 && make) {
		st = ts->st[TS_HOST_ADD];
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return tstore_fail(ts, cause, "adding a host");
		id = sqlite3_last_insert_rowid(ts->db);
	}
	if (id > 0)
		tstore_host_cache(ts, name, id);
	return id;
}

static int64_t tstore_round(double x)
{
	return (int64_t)llround(x);
}

static void tstore_bind_opt(sqlite3_stmt *st, int col, int has, double x)
{
	if (has)
		sqlite3_bind_int64(st, col, tstore_round(x));
	else
		sqlite3_bind_null(st, col);
}

/* Ceiling of ms / 1000 (so that [from, to) in ms maps to whole seconds). */
static int64_t tstore_sec_ceil(int64_t ms)
{
	int64_t q = ms / 1000;

	return (ms % 1000 != 0 && ms > 0) ? q + 1 : q;
}

static int tstore_put_one(struct tstore *ts, const struct tring_bucket *b, char **cause)
{
	sqlite3_stmt *st;
	int64_t host;
	int rc;

	if (b->host == NULL || (b->width_s != TRING_1M && b->width_s != TRING_1H))
		return xcause(cause, "metrics store: bucket without host or with width %d",
		              b->width_s);
	host = tstore_host_id(ts, b->host, 1, cause);
	if (host < 0)
		return -1;
	st = ts->st[b->width_s == TRING_1M ? TS_PUT_1M : TS_PUT_1H];
	sqlite3_bind_int64(st, 1, host);
	sqlite3_bind_int(st, 2, b->gpu);
	sqlite3_bind_int64(st, 3, b->start_ms / 1000);
	sqlite3_bind_int64(st, 4, b->n);
	sqlite3_bind_int64(st, 5, b->n_util);
	tstore_bind_opt(st, 6, b->n_util > 0, b->util_avg);
	tstore_bind_opt(st, 7, b->n_util > 0, b->util_max);
	tstore_bind_opt(st, 8, b->n_mem > 0, b->mem_avg);
	tstore_bind_opt(st, 9, b->n_temp > 0, b->temp_max);
	tstore_bind_opt(st, 10, b->n_power > 0, b->power_avg * 10);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return tstore_fail(ts, cause, "writing buckets");
	return 0;
}

static int tstore_begin(struct tstore *ts, char **cause)
{
	if (sqlite3_exec(ts->db, "SAVEPOINT tstore", NULL, NULL, NULL) != SQLITE_OK)
		return tstore_fail(ts, cause, "starting a transaction");
	return 0;
}

static int tstore_end(struct tstore *ts, int ok, char **cause)
{
	if (!ok) {
		sqlite3_exec(ts->db, "ROLLBACK TO tstore; RELEASE tstore", NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(ts->db, "RELEASE tstore", NULL, NULL, NULL) != SQLITE_OK) {
		tstore_fail(ts, cause, "committing");
		sqlite3_exec(ts->db, "ROLLBACK TO tstore; RELEASE tstore", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

/* Host ids added inside a failed transaction are gone: forget the cache. */
static void tstore_forget_hosts(struct tstore *ts)
{
	for (size_t i = 0; i < ts->hosts_size; i++) {
		free(ts->hosts[i].name);
		ts->hosts[i].name = NULL;
	}
	ts->nhosts = 0;
}

int tstore_put(struct tstore *ts, const struct tring_bucket *b, size_t n, char **cause)
{
	int ok = 1;

	if (n == 0)
		return 0;
	if (tstore_begin(ts, cause) < 0)
		return -1;
	for (size_t i = 0; i < n && ok; i++)
		ok = tstore_put_one(ts, &b[i], cause) == 0;
	if (tstore_end(ts, ok, cause) < 0) {
		tstore_forget_hosts(ts);
		return -1;
	}
	return 0;
}

/* Deletes from one table, one (host, gpu) series at a time along the primary key. */
static int tstore_prune_table(struct tstore *ts, int width_s, int64_t before_s, int64_t *deleted,
                              char **cause)
{
	sqlite3_stmt *next = ts->st[width_s == TRING_1M ? TS_NEXT_1M : TS_NEXT_1H];
	sqlite3_stmt *del = ts->st[width_s == TRING_1M ? TS_DEL_1M : TS_DEL_1H];
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
		ok = tstore_prune_table(ts, TRING_1M, now_s - r->keep_1m_s - TRING_1M + 1, &count,
		                        cause) == 0;
	if (ok && r->keep_1h_s > 0)
		ok = tstore_prune_table(ts, TRING_1H, now_s - r->keep_1h_s - TRING_1H + 1, &count,
		                        cause) == 0;
	if (tstore_end(ts, ok, cause) < 0)
		return -1;
	if (deleted != NULL)
		*deleted = count;
	return 0;
}

int tstore_series(struct tstore *ts, const char *host, int gpu, int width_s, int64_t from_ms,
                  int64_t to_ms, struct tring_bucket **out, size_t *n, char **cause)
{
	sqlite3_stmt *st;
	struct tring_bucket *v = NULL;
	size_t len = 0, cap = 0;
	int64_t id;
	int rc;

	*out = NULL;
	*n = 0;
	if (width_s != TRING_1M && width_s != TRING_1H)
		return xcause(cause, "metrics store: no buckets of %d s", width_s);
	id = tstore_host_id(ts, host, 0, cause);
	if (id < 0)
		return -1;
	if (id == 0)
		return 0;
	st = ts->st[width_s == TRING_1M ? TS_SERIES_1M : TS_SERIES_1H];
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, gpu);
	sqlite3_bind_int64(st, 3, tstore_sec_ceil(from_ms));
	sqlite3_bind_int64(st, 4, tstore_sec_ceil(to_ms));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct tring_bucket *b;
		uint32_t cnt;

		if (len == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof *v);
		}
		b = &v[len++];
		memset(b, 0, sizeof *b);
		b->gpu = gpu;
		b->width_s = width_s;
		b->start_ms = sqlite3_column_int64(st, 0) * 1000;
		cnt = (uint32_t)sqlite3_column_int64(st, 1);
		b->n = cnt;
		b->n_util = (uint32_t)sqlite3_column_int64(st, 2);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL && b->n_util > 0) {
			b->util_avg = (double)sqlite3_column_int64(st, 3);
			b->util_max = (double)sqlite3_column_int64(st, 4);
		} else {
			b->n_util = 0;
		}
		if (sqlite3_column_type(st, 5) != SQLITE_NULL) {
			b->mem_avg = (double)sqlite3_column_int64(st, 5);
			b->n_mem = cnt;
		}
		if (sqlite3_column_type(st, 6) != SQLITE_NULL) {
			b->temp_max = (double)sqlite3_column_int64(st, 6);
			b->n_temp = cnt;
		}
		if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
			b->power_avg = (double)sqlite3_column_int64(st, 7) / 10.0;
			b->n_power = cnt;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return tstore_fail(ts, cause, "reading a series");
	}
	*out = v;
	*n = len;
	return 0;
}

int64_t tstore_rows(struct tstore *ts, int width_s)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (sqlite3_prepare_v2(ts->db,
	                       width_s == TRING_1H ? "SELECT count(*) FROM metrics_1h"
	                                           : "SELECT count(*) FROM metrics_1m",
	                       -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}
