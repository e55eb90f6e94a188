/* store_reason.c: a reason that changed while the job's state did not (a supervisor that
 * died under a running job, a host error that changed): kept as the job's reason and as an
 * event STATE -> STATE, so `gantry show` and the event list say it. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "core/xmalloc.h"

static int store_reason_fail(sqlite3 *db, sqlite3_stmt *st, char **cause)
{
	xcause(cause, "cannot record the job's reason: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK TO store_reason; RELEASE store_reason", NULL, NULL, NULL);
	return -1;
}

int store_job_reason(struct store *s, const char *id, enum job_state state, const char *reason,
                     int64_t at_ms, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	int changed;

	if (reason == NULL)
		return 0;
	/* a savepoint nests inside a transaction the caller holds, and is one otherwise */
	if (sqlite3_exec(db, "SAVEPOINT store_reason", NULL, NULL, NULL) != SQLITE_OK)
		return store_reason_fail(db, NULL, cause);
	if (sqlite3_prepare_v2(db,
	                       "UPDATE jobs SET reason = ?3, updated_ms = ?4 WHERE id = ?1 AND "
	                       "state = ?2 AND reason IS NOT ?3",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_reason_fail(db, st, cause);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job_state_name(state), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, at_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_reason_fail(db, st, cause);
	sqlite3_finalize(st);
	st = NULL;
	changed = sqlite3_changes(db) > 0;
	if (changed) {
		if (sqlite3_prepare_v2(
		        db,
		        "INSERT INTO job_events (job_id, at_ms, from_state, to_state, "
		        "reason) VALUES (?1, ?2, ?3, ?3, ?4)",
		        -1, &st, NULL) != SQLITE_OK)
			return store_reason_fail(db, st, cause);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, at_ms);
		sqlite3_bind_text(st, 3, job_state_name(state), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return store_reason_fail(db, st, cause);
		sqlite3_finalize(st);
	}
	if (sqlite3_exec(db, "RELEASE store_reason", NULL, NULL, NULL) != SQLITE_OK)
		return store_reason_fail(db, NULL, cause);
	return changed;
}
