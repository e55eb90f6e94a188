/* store_idle.c: what cost needs beyond the job rows: the job_idle table (spans during which
 * every GPU of a job sat below its idle threshold: idle waste) and the correction of a job's
 * end time to when its backend says it ended. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "core/xmalloc.h"

static int store_idle_fail(sqlite3 *db, sqlite3_stmt *st, char **cause, const char *what)
{
	xcause(cause, "%s: %s", what, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

int store_idle_extend(struct store *s, const char *job_id, int64_t start_ms, int64_t end_ms,
                      int64_t gap_ms, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	int rc;

	if (end_ms <= start_ms)
		return 0;
	if (sqlite3_prepare_v2(db,
	                       "UPDATE job_idle SET end_ms = MAX(end_ms, ?3) WHERE job_id = ?1 AND "
	                       "start_ms = (SELECT MAX(start_ms) FROM job_idle WHERE job_id = ?1) "
	                       "AND end_ms >= ?2 - ?4 AND start_ms <= ?2",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_idle_fail(db, st, cause, "cannot record idle time");
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, start_ms);
	sqlite3_bind_int64(st, 3, end_ms);
	sqlite3_bind_int64(st, 4, gap_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_idle_fail(db, st, cause, "cannot record idle time");
	sqlite3_finalize(st);
	if (sqlite3_changes(db) > 0)
		return 0;
	if (sqlite3_prepare_v2(db,
	                       "INSERT OR REPLACE INTO job_idle (job_id, start_ms, end_ms) "
	                       "VALUES (?1, ?2, ?3)",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_idle_fail(db, st, cause, "cannot record idle time");
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, start_ms);
	sqlite3_bind_int64(st, 3, end_ms);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		return store_idle_fail(db, st, cause, "cannot record idle time");
	sqlite3_finalize(st);
	return 0;
}

int store_idle_all(struct store *s, char ***job_ids, int64_t **starts, int64_t **ends, size_t *n,
                   char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	*job_ids = NULL;
	*starts = *ends = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
	                       "SELECT job_id, start_ms, end_ms FROM job_idle ORDER BY job_id, "
	                       "start_ms",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_idle_fail(db, st, cause, "cannot read idle time");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*job_ids = xreallocarray(*job_ids, cap, sizeof **job_ids);
			*starts = xreallocarray(*starts, cap, sizeof **starts);
			*ends = xreallocarray(*ends, cap, sizeof **ends);
		}
		(*job_ids)[*n] = xstrdup((const char *)sqlite3_column_text(st, 0));
		(*starts)[*n] = sqlite3_column_int64(st, 1);
		(*ends)[*n] = sqlite3_column_int64(st, 2);
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < *n; i++)
			free((*job_ids)[i]);
		free(*job_ids);
		free(*starts);
		free(*ends);
		*job_ids = NULL;
		*starts = *ends = NULL;
		*n = 0;
		return store_idle_fail(db, st, cause, "cannot read idle time");
	}
	sqlite3_finalize(st);
	return 0;
}

int store_job_set_ended(struct store *s, const char *id, int64_t ended_ms, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
	                       "UPDATE jobs SET ended_ms = ?2 WHERE id = ?1 AND ended_ms > ?2 AND "
	                       "state IN ('SUCCEEDED', 'FAILED', 'STOPPED')",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_idle_fail(db, st, cause, "cannot correct the end time");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ended_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_idle_fail(db, st, cause, "cannot correct the end time");
	sqlite3_finalize(st);
	return 0;
}
