/* store_meta.c: facts about the store itself (the meta table, schema 4): its installation
 * id, which labels every resource its jobs create so that reconcile never touches another
 * store's. */
#include <sqlite3.h>
#include <stdlib.h>

#include "core/store.h"
#include "core/xmalloc.h"

int store_meta_get(struct store *s, const char *key, char **out, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) !=
	    SQLITE_OK) {
		xcause(cause, "cannot read the store's %s: %s", key, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		*out = xstrdup((const char *)sqlite3_column_text(st, 0));
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		xcause(cause, "the store has no %s", key);
	else
		xcause(cause, "cannot read the store's %s: %s", key, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return *out != NULL ? 0 : -1;
}
