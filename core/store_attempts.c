/* store_attempts.c: launch attempts keyed by (job, attempt) and the intervals a job held
 * resources (schema 5; see store_attempts.h). */
#include "core/store_attempts.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

static int store_att_fail(sqlite3 *db, sqlite3_stmt *st, char **cause, const char *what)
{
	xcause(cause, "%s: %s", what, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

static void store_att_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static char *store_att_col(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	return v != NULL ? xstrdup((const char *)v) : NULL;
}

/* Runs one prepared statement to completion; finalizes it. */
static int store_att_run(sqlite3 *db, sqlite3_stmt *st, char **cause, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return store_att_fail(db, st, cause, what);
	sqlite3_finalize(st);
	return 0;
}

int store_attempt_begin(struct store *s, const struct store_attempt *a, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	const char *what = "cannot record a launch attempt";

	if (sqlite3_exec(db, "SAVEPOINT store_attempt", NULL, NULL, NULL) != SQLITE_OK)
		return store_att_fail(db, NULL, cause, what);
	if (sqlite3_prepare_v2(db,
	                       "INSERT INTO intents (job_id, attempt, op, idem_key, created_ms, "
	                       "provider, region, instance_type, market, price_per_hour) VALUES "
	                       "(?1, ?2, 'launch', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	                       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, a->job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, a->attempt);
	store_att_text(st, 3, a->idem_key);
	sqlite3_bind_int64(st, 4, a->created_ms);
	store_att_text(st, 5, a->provider);
	store_att_text(st, 6, a->region);
	store_att_text(st, 7, a->instance_type);
	store_att_text(st, 8, a->market);
	if (a->has_price)
		sqlite3_bind_double(st, 9, a->price_per_hour);
	else
		sqlite3_bind_null(st, 9);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "UPDATE jobs SET attempt = ?2 WHERE id = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, a->job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, a->attempt);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(db) != 1)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_exec(db, "RELEASE store_attempt", NULL, NULL, NULL) != SQLITE_OK)
		return store_att_fail(db, NULL, cause, what);
	return 0;
fail:
	store_att_fail(db, st, cause, what);
	sqlite3_exec(db, "ROLLBACK TO store_attempt; RELEASE store_attempt", NULL, NULL, NULL);
	return -1;
}

int store_attempt_end(struct store *s, const char *job_id, int attempt, const char *error_class,
                      const char *reason, int64_t at_ms, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
	                       "UPDATE intents SET done_ms = ?3, error_class = ?4, reason = ?5 "
	                       "WHERE job_id = ?1 AND attempt = ?2",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_att_fail(db, st, cause, "cannot end a launch attempt");
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_int64(st, 3, at_ms);
	store_att_text(st, 4, error_class);
	store_att_text(st, 5, reason);
	return store_att_run(db, st, cause, "cannot end a launch attempt");
}

int store_attempt_place(struct store *s, const char *job_id, int attempt, const char *provider,
                        const char *region, const char *instance_type, const char *market,
                        char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
	                       "UPDATE intents SET provider = ?3, region = ?4, instance_type = ?5, "
	                       "market = ?6 WHERE job_id = ?1 AND attempt = ?2",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_att_fail(db, st, cause, "cannot record a launch attempt");
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, attempt);
	store_att_text(st, 3, provider);
	store_att_text(st, 4, region);
	store_att_text(st, 5, instance_type);
	store_att_text(st, 6, market);
	return store_att_run(db, st, cause, "cannot record a launch attempt");
}

int store_job_set_offer(struct store *s, const char *job_id, const char *provider, int priced,
                        double usd_per_hour, const char *region, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
	                       "UPDATE jobs SET priced = ?2, price_per_hour = ?3, region = ?4, "
	                       "provider = COALESCE(?5, provider) WHERE id = ?1",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_att_fail(db, st, cause, "cannot record the job's offer");
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, priced != 0);
	sqlite3_bind_double(st, 3, priced ? usd_per_hour : 0);
	store_att_text(st, 4, region != NULL && *region ? region : NULL);
	store_att_text(st, 5, provider);
	return store_att_run(db, st, cause, "cannot record the job's offer");
}

int store_attempts_list(struct store *s, const char *job_id, struct store_attempt **out, size_t *n,
                        char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
	                       "SELECT job_id, attempt, idem_key, provider, region, instance_type, "
	                       "market, price_per_hour, created_ms, done_ms, error_class, reason "
	                       "FROM intents WHERE job_id = ?1 ORDER BY attempt",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_att_fail(db, st, cause, "cannot read launch attempts");
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_attempt *a;

		if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		a = &(*out)[(*n)++];
		memset(a, 0, sizeof *a);
		a->job_id = store_att_col(st, 0);
		a->attempt = sqlite3_column_int(st, 1);
		a->idem_key = store_att_col(st, 2);
		a->provider = store_att_col(st, 3);
		a->region = store_att_col(st, 4);
		a->instance_type = store_att_col(st, 5);
		a->market = store_att_col(st, 6);
		a->has_price = sqlite3_column_type(st, 7) != SQLITE_NULL;
		a->price_per_hour = sqlite3_column_double(st, 7);
		a->created_ms = sqlite3_column_int64(st, 8);
		a->done_ms = sqlite3_column_int64(st, 9);
		a->error_class = store_att_col(st, 10);
		a->reason = store_att_col(st, 11);
	}
	if (rc != SQLITE_DONE) {
		store_attempts_free(*out, *n);
		*out = NULL;
		*n = 0;
		return store_att_fail(db, st, cause, "cannot read launch attempts");
	}
	sqlite3_finalize(st);
	return 0;
}

void store_attempts_free(struct store_attempt *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].job_id);
		free(v[i].idem_key);
		free(v[i].provider);
		free(v[i].region);
		free(v[i].instance_type);
		free(v[i].market);
		free(v[i].error_class);
		free(v[i].reason);
	}
	free(v);
}

int store_hold_open(struct store *s, const char *job_id, int attempt, int64_t start_ms,
                    char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(
	        db,
	        "INSERT OR IGNORE INTO holds (job_id, attempt, start_ms) SELECT ?1, "
	        "CASE WHEN ?2 > 0 THEN ?2 ELSE (SELECT attempt FROM jobs WHERE id = "
	        "?1) END, ?3 WHERE NOT EXISTS (SELECT 1 FROM holds WHERE job_id = ?1 AND "
	        "end_ms = 0)",
	        -1, &st, NULL) != SQLITE_OK)
		return store_att_fail(db, st, cause, "cannot record held resources");
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, attempt);
	sqlite3_bind_int64(st, 3, start_ms);
	return store_att_run(db, st, cause, "cannot record held resources");
}

int store_hold_close(struct store *s, const char *job_id, int64_t end_ms, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
	                       "UPDATE holds SET end_ms = MAX(?2, start_ms + 1) WHERE job_id = ?1 "
	                       "AND end_ms = 0",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_att_fail(db, st, cause, "cannot record released resources");
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, end_ms);
	return store_att_run(db, st, cause, "cannot record released resources");
}

int store_hold_set_end(struct store *s, const char *job_id, int64_t end_ms, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
	                       "UPDATE holds SET end_ms = MAX(?2, start_ms + 1) WHERE job_id = ?1 "
	                       "AND start_ms = (SELECT MAX(start_ms) FROM holds WHERE job_id = ?1)",
	                       -1, &st, NULL) != SQLITE_OK)
		return store_att_fail(db, st, cause, "cannot record released resources");
	sqlite3_bind_text(st, 1, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, end_ms);
	return store_att_run(db, st, cause, "cannot record released resources");
}

/* Rows of `sql` (job_id, attempt, start_ms, end_ms; ?1 bound to key or from). */
static int store_holds_query(struct store *s, const char *sql, const char *key, int64_t from,
                             struct store_hold **out, size_t *n, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_att_fail(db, st, cause, "cannot read held resources");
	if (key != NULL)
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, from);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		(*out)[*n].job_id = store_att_col(st, 0);
		(*out)[*n].attempt = sqlite3_column_int(st, 1);
		(*out)[*n].start_ms = sqlite3_column_int64(st, 2);
		(*out)[*n].end_ms = sqlite3_column_int64(st, 3);
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		store_holds_free(*out, *n);
		*out = NULL;
		*n = 0;
		return store_att_fail(db, st, cause, "cannot read held resources");
	}
	sqlite3_finalize(st);
	return 0;
}

int store_holds_since(struct store *s, int64_t from_ms, struct store_hold **out, size_t *n,
                      char **cause)
{
	return store_holds_query(s,
	                         "SELECT job_id, attempt, start_ms, end_ms FROM holds WHERE "
	                         "end_ms = 0 OR end_ms > ?1 ORDER BY job_id, start_ms",
	                         NULL, from_ms, out, n, cause);
}

int store_holds_job(struct store *s, const char *job_id, struct store_hold **out, size_t *n,
                    char **cause)
{
	return store_holds_query(s,
	                         "SELECT job_id, attempt, start_ms, end_ms FROM holds WHERE "
	                         "job_id = ?1 ORDER BY start_ms",
	                         job_id, 0, out, n, cause);
}

void store_holds_free(struct store_hold *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].job_id);
	free(v);
}
