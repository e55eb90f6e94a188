/* tele_close.c: the hour close on a worker thread (see tele_close.h). */
#include "core/tele_close.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/async.h"
#include "core/tele_store.h"
#include "core/xmalloc.h"

#ifdef SQLITE_OPEN_NOFOLLOW /* the store's file, not a link put there since (as core/store.c) */
#define TCLOSE_NOFOLLOW SQLITE_OPEN_NOFOLLOW
#else
#define TCLOSE_NOFOLLOW 0
#endif
#define TCLOSE_BUSY_MS 5000 /* the loop's write of one minute flush at most, and then some */

struct tclose {
	char *path;
	struct async_queue *q;
	int running; /* submitted, done not called yet (loop side) */
	int again;   /* kicked while running */
	atomic_int stop;
	int failed; /* the last run (worker side, read by done) */
	unsigned runs, fails;
};

struct tclose *tclose_new(struct loop *l, sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");
	struct tclose *tc;

	if (path == NULL || *path == '\0' || sqlite3_threadsafe() == 0)
		return NULL;
	tstore_busy_fine(db); /* the loop's writes get in between two ranges */
	tc = xcalloc(1, sizeof *tc);
	tc->path = xstrdup(path);
	tc->q = async_queue_new(l, "hour-close");
	atomic_init(&tc->stop, 0);
	return tc;
}

/* Worker thread: a connection of its own for the time of one close. */
static void tclose_work(void *arg)
{
	struct tclose *tc = arg;
	sqlite3 *db = NULL;
	struct tstore *ts = NULL;

	tc->failed = 1;
	if (sqlite3_open_v2(tc->path, &db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | TCLOSE_NOFOLLOW,
	                    NULL) != SQLITE_OK)
		goto out;
	sqlite3_busy_timeout(db, TCLOSE_BUSY_MS);
	/* the file is in WAL already (the store set it); synchronous as the store's */
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL", NULL, NULL,
	                 NULL) != SQLITE_OK)
		goto out;
	ts = tstore_open(db, NULL);
	if (ts != NULL)
		tstore_close_gap(ts, TSTORE_CLOSE_GAP_US);
	if (ts != NULL && tstore_close_hours(ts, TSTORE_CLOSE_RANGE, 0, &tc->stop, NULL) >= 0)
		tc->failed = 0;
out:
	tstore_close(ts);
	sqlite3_close(db);
}

static void tclose_done(void *arg, int cancelled)
{
	struct tclose *tc = arg;

	tc->running = 0;
	if (cancelled)
		return;
	tc->runs++;
	tc->fails += tc->failed != 0;
	if (tc->again && !atomic_load(&tc->stop)) {
		tc->again = 0;
		tclose_kick(tc);
	}
}

void tclose_kick(struct tclose *tc)
{
	if (tc == NULL)
		return;
	if (tc->running) {
		tc->again = 1;
		return;
	}
	tc->running = 1;
	async_queue_submit(tc->q, tclose_work, tclose_done, tc);
}

int tclose_busy(const struct tclose *tc)
{
	return tc != NULL && (tc->running || tc->again);
}

unsigned tclose_runs(const struct tclose *tc, unsigned *failed)
{
	if (failed != NULL)
		*failed = tc != NULL ? tc->fails : 0;
	return tc != NULL ? tc->runs : 0;
}

void tclose_free(struct tclose *tc)
{
	if (tc == NULL)
		return;
	atomic_store(&tc->stop, 1);
	async_queue_free(tc->q); /* waits for the running close, calls its done */
	free(tc->path);
	free(tc);
}
