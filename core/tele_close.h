/* tele_close.h: the GPU history's hour close (core/tele_store.h, tstore_close_hours) run off
 * the event loop: on an async queue's thread (core/async.h), with an sqlite connection of its
 * own to the store's file (WAL, busy timeout), in short transactions by series ranges; its end
 * is handed back to the loop through the queue's pipe. The loop's own writes (minutes, idle
 * spans) wait for one range's transaction at most. */
#ifndef GANTRY_TELE_CLOSE_H
#define GANTRY_TELE_CLOSE_H

#include <sqlite3.h>

struct loop;
struct tclose;

/* A closer for the file of db, the loop's connection (NULL for a store without a file); db's
 * busy timeout becomes tstore_busy_fine's, so that its writes get in between two ranges. */
struct tclose *tclose_new(struct loop *l, sqlite3 *db);
/* Starts a close unless one runs already (then it is run again once it ends). */
void tclose_kick(struct tclose *tc);
/* 1 while a close runs or is due to run again. */
int tclose_busy(const struct tclose *tc);
/* Closes done so far (their done ran on the loop), and those that failed. */
unsigned tclose_runs(const struct tclose *tc, unsigned *failed);
/* Stops a running close after its current range (what it committed stays; the rest is
 * closed next time), waits for it and frees tc. */
void tclose_free(struct tclose *tc);

#endif
