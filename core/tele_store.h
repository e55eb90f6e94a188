/* tele_store.h: the downsampled GPU history (1-minute and 1-hour buckets from
 * core/tele_ring.h) kept in sqlite, in tables of its own created if missing:
 *
 *   metrics_hosts (id INTEGER PRIMARY KEY, name TEXT UNIQUE)    host names, stored once
 *   metrics_gpus (id INTEGER PRIMARY KEY, host, gpu, UNIQUE (host, gpu))   one id per GPU
 *   metrics_1m_open (bucket_start, series, n, n_util, util_avg, util_max, mem_mib, temp_max,
 *                    power_dw)  WITHOUT ROWID, PRIMARY KEY (bucket_start, series)
 *       the minutes of the hour not closed yet, one row each (series = a metrics_gpus id)
 *   metrics_1m_packed (id INTEGER PRIMARY KEY, minutes, data BLOB)
 *       one row per GPU and closed hour: id = bucket_start / 3600 * 2^32 + metrics_gpus id,
 *       minutes = how many it holds, data = its minutes packed (core/tele_pack.h)
 *   metrics_1h (host, gpu, bucket_start, n, n_util, util_avg, util_max, mem_mib, temp_max,
 *               power_dw)  WITHOUT ROWID, PRIMARY KEY (host, gpu, bucket_start)
 *
 * host is a metrics_hosts id, bucket_start Unix seconds; values are integers (util %, MiB,
 * degrees C, deci-watts) and NULL where the bucket had no valid sample. Minutes are written as
 * open rows as they come (so a crash loses none); an hour closes once a minute that ends at or
 * after its end is stored, and its open rows are then packed into one row per GPU, the open
 * table keeping an hour of rows at most. A bucket written twice (a restart inside the same
 * minute or hour) is merged, not replaced, whether its minute is open or already packed (a
 * late minute). Each put is one transaction. A store holding the first format's metrics_1m
 * (one row per GPU-minute) has it moved into these tables and dropped by tstore_open (not on a
 * read-only connection). The handle is borrowed: the engine's store can lend its own
 * connection (its journal mode, WAL, is kept), tests open a file of their own. Not
 * thread-safe: the hour close's thread has a handle and a connection of its own. */
#ifndef GANTRY_TELE_STORE_H
#define GANTRY_TELE_STORE_H

#include <stdatomic.h>
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
/* Writes n buckets of either width in one transaction (merging with stored ones), then packs
 * the hours that closed. A bucket's start must be a multiple of its width; 1-minute buckets
 * must start within +/- 2^31 hours of 1970. */
int tstore_put(struct tstore *ts, const struct tring_bucket *b, size_t n, char **cause);
/* The hour close off the engine loop. With deferral on, tstore_put keeps every minute open
 * (an hour that ended stays in metrics_1m_open) and tstore_close_hours packs the ended hours
 * on a connection of its own, on a thread (core/tele_close.h): series range by series range,
 * each range one short transaction that folds its open rows into their packed rows (exactly
 * as tstore_put's packing) and deletes them, so the loop's writes wait for one range at most.
 * A close cut anywhere loses nothing and resumes where it stopped (rows not committed packed
 * are still open). */
#define TSTORE_CLOSE_RANGE 32 /* series per transaction: a few ms */
void tstore_defer_close(struct tstore *ts, int on);
/* 1 when an ended hour still has open rows, 0 when not, -1. */
int tstore_close_due(struct tstore *ts, char **cause);
/* Packs ended hours, range series (< 1: TSTORE_CLOSE_RANGE) per transaction: 0 when none is
 * left, 1 when it stopped early (after max_steps transactions when max_steps > 0, or when *stop
 * became non-zero between two), -1 on error. */
int tstore_close_hours(struct tstore *ts, int range, int max_steps, const atomic_int *stop,
                       char **cause);
/* A pause of us microseconds after each committed range (the closer's thread: TSTORE_CLOSE_GAP_US)
 * in which a write of another connection that waits gets the lock. */
#define TSTORE_CLOSE_GAP_US 1000
void tstore_close_gap(struct tstore *ts, int us);
/* Replaces db's busy timeout by a wait of TSTORE_BUSY_MS that retries every
 * TSTORE_BUSY_STEP_US (sqlite's own sleeps grow to 100 ms, and a write would miss the
 * closer's pauses): the loop's connection, while a closer may run. */
#define TSTORE_BUSY_MS      5000
#define TSTORE_BUSY_STEP_US 200
void tstore_busy_fine(sqlite3 *db);
/* fn(arg) after each committed range of tstore_close_hours (NULL: none); for tests. */
void tstore_close_hook(struct tstore *ts, void (*fn)(void *arg), void *arg);
/* Deletes the buckets that ended before now_ms minus their retention (r NULL = defaults):
 * the packed hour that straddles the limit loses its expired minutes. *deleted (may be NULL)
 * gets the buckets removed (minutes, open or packed, and hour rows). */
int tstore_prune(struct tstore *ts, int64_t now_ms, const struct tstore_retention *r,
                 int64_t *deleted, char **cause);
/* The buckets of one GPU of width width_s (TRING_1M or TRING_1H) starting in
 * [from_ms, to_ms), oldest first, as a heap array (host NULL); *n = 0 and NULL when none. */
int tstore_series(struct tstore *ts, const char *host, int gpu, int width_s, int64_t from_ms,
                  int64_t to_ms, struct tring_bucket **out, size_t *n, char **cause);
/* Buckets held of width width_s: for TRING_1M the open rows plus the minutes in packed rows,
 * for TRING_1H the rows (-1 on error). */
int64_t tstore_rows(struct tstore *ts, int width_s);

#endif
