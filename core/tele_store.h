/* tele_store.h: the downsampled GPU history (1-minute and 1-hour buckets from
 * core/tele_ring.h) kept in sqlite, in tables of its own created if missing:
 *
 *   metrics_hosts (id INTEGER PRIMARY KEY, name TEXT UNIQUE)    host names, stored once
 *   metrics_1m, metrics_1h (host, gpu, bucket_start, n, n_util, util_avg, util_max, mem_mib,
 *                           temp_max, power_dw)  WITHOUT ROWID, PRIMARY KEY (host, gpu,
 *                           bucket_start)
 *
 * host is a metrics_hosts id, bucket_start Unix seconds; values are integers (util %, MiB,
 * degrees C, deci-watts) and NULL where the bucket had no valid sample. A bucket written
 * twice (a restart inside the same minute or hour) is merged, not replaced. Each put is one
 * transaction. The handle is borrowed: the engine's store can lend its own connection (its
 * journal mode, WAL, is kept), tests open a file of their own. Not thread-safe. */
#ifndef GANTRY_TELE_STORE_H
#define GANTRY_TELE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/tele_ring.h"

#define TSTORE_KEEP_1M_S (7LL * 86400)  /* default retention of 1-minute buckets */
#define TSTORE_KEEP_1H_S (90LL * 86400) /* and of 1-hour buckets */

struct tstore;

/* How long each width is kept (seconds; 0 = forever). */
struct tstore_retention {
	int64_t keep_1m_s;
	int64_t keep_1h_s;
};

/* Creates the tables when missing and prepares the statements; the db stays the caller's. */
struct tstore *tstore_open(sqlite3 *db, char **cause);
/* Finalises the statements (the db is not closed). */
void tstore_close(struct tstore *ts);
/* Writes n buckets of either width in one transaction (merging with stored ones). */
int tstore_put(struct tstore *ts, const struct tring_bucket *b, size_t n, char **cause);
/* Deletes the buckets that ended before now_ms minus their retention (r NULL = defaults);
 * *deleted (may be NULL) gets the rows removed. */
int tstore_prune(struct tstore *ts, int64_t now_ms, const struct tstore_retention *r,
                 int64_t *deleted, char **cause);
/* The buckets of one GPU of width width_s (TRING_1M or TRING_1H) starting in
 * [from_ms, to_ms), oldest first, as a heap array (host NULL); *n = 0 and NULL when none. */
int tstore_series(struct tstore *ts, const char *host, int gpu, int width_s, int64_t from_ms,
                  int64_t to_ms, struct tring_bucket **out, size_t *n, char **cause);
/* Rows held in the table of width width_s (-1 on error). */
int64_t tstore_rows(struct tstore *ts, int width_s);

#endif
