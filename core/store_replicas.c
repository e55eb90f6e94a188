/* store_replicas.c: an endpoint's ready and desired replicas (schema 7), written when the
 * provider's count changes, so a refresh every tick costs no write. */
#include <sqlite3.h>

#include "core/store.h"
#include "core/xmalloc.h"

int store_job_replicas(struct store *s, const char *id, int ready, int desired, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	int changed;

	if (sqlite3_prepare_v2(db,
	                       "UPDATE jobs SET ready_replicas = ?2, desired_replicas = ?3 "
	                       "WHERE id = ?1 AND (ready_replicas IS NOT ?2 OR "
	                       "desired_replicas IS NOT ?3)",
	                       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, ready);
	sqlite3_bind_int(st, 3, desired);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	changed = sqlite3_changes(db) > 0;
	return changed;
fail:
	xcause(cause, "cannot record the job's replicas: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}
