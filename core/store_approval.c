/* store_approval.c: launches that wait for an approval (issue 12). A waiting job is a job row
 * in PENDING_APPROVAL with its request and no launch intent, so neither settle nor reconcile
 * ever treats it as a launch in flight; the approval turns it into an ordinary launch (state
 * PENDING and an intent) in one transaction, the denial ends it. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/store.h"
#include "core/xmalloc.h"

/* Runs one statement with its text parameters (NULL binds NULL) and int64 parameters after
 * them; the number of rows it changed, or -1 with cause. */
static int store_approval_exec(sqlite3 *db, const char *sql, const char *const *texts,
                               size_t ntexts, const int64_t *ints, size_t nints, const char *what,
                               char **cause)
{
	sqlite3_stmt *st = NULL;
	int n = 1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (size_t i = 0; i < ntexts; i++, n++)
		if (texts[i] != NULL)
			sqlite3_bind_text(st, n, texts[i], -1, SQLITE_STATIC);
	for (size_t i = 0; i < nints; i++, n++)
		sqlite3_bind_int64(st, n, ints[i]);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	return sqlite3_changes(db);
fail:
	xcause(cause, "cannot %s: %s", what, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

int store_approval_wait(struct store *s, const struct job *j, char **cause)
{
	sqlite3 *db = store_db(s);
	const char *ev[] = {job_state_name(JOB_PENDING_APPROVAL), j->reason, j->id};
	const char *id[] = {j->id};

	if (j->state != JOB_PENDING_APPROVAL)
		return xcause(cause, "job %s is not waiting for approval", j->id);
	/* the launch's own insert (checks, name and id uniqueness) without its intent: the
	 * whole is one transaction, nothing of the intent is ever visible */
	if (store_begin(s, cause) != 0)
		return -1;
	if (store_launch_intent(s, j, cause) != 0)
		goto fail;
	if (store_approval_exec(db, "DELETE FROM intents WHERE job_id = ?1", id, 1, NULL, 0,
	                        "store the launch waiting for approval", cause) < 0)
		goto fail;
	if (store_approval_exec(db,
	                        "UPDATE job_events SET to_state = ?1, reason = ?2 "
	                        "WHERE job_id = ?3 AND from_state IS NULL",
	                        ev, 3, NULL, 0, "record the launch waiting for approval",
	                        cause) < 0)
		goto fail;
	return store_commit(s, cause);
fail:
	store_rollback(s);
	return -1;
}

int store_approval_launch(struct store *s, const struct job *j, const char *reason, int64_t now,
                          char **cause)
{
	sqlite3 *db = store_db(s);
	const char *cols[] = {j->id,        j->decided_by, j->decision_reason,
	                      j->provider,  j->region,     j->params_json,
	                      j->spec_json, j->idem_key,   job_state_name(JOB_PENDING_APPROVAL)};
	const int64_t nums[] = {j->priced != 0, j->gpus, j->billing_s > 0 ? j->billing_s : 1};
	const char *in[] = {j->id, "launch", j->idem_key};
	const int64_t at[] = {now};
	int n;

	if (store_begin(s, cause) != 0)
		return -1;
	n = store_approval_exec(db,
	                        "UPDATE jobs SET approval = 'approved', decided_by = ?2, "
	                        "decision_reason = ?3, provider = ?4, region = ?5, "
	                        "params_json = ?6, spec_json = ?7, idem_key = ?8, priced = ?10, "
	                        "gpus = ?11, billing_s = ?12 WHERE id = ?1 AND state = ?9",
	                        cols, 9, nums, 3, "record the approval", cause);
	if (n < 0)
		goto fail;
	if (n == 0) {
		xcause(cause, "job %s is no longer waiting for approval", j->id);
		goto fail;
	}
	{
		/* the price is a double: its own statement */
		sqlite3_stmt *st = NULL;

		if (sqlite3_prepare_v2(db, "UPDATE jobs SET price_per_hour = ?2 WHERE id = ?1", -1,
		                       &st, NULL) != SQLITE_OK) {
			xcause(cause, "cannot record the approval: %s", sqlite3_errmsg(db));
			goto fail;
		}
		sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 2, j->priced ? j->price_per_hour : 0);
		n = sqlite3_step(st);
		sqlite3_finalize(st);
		if (n != SQLITE_DONE) {
			xcause(cause, "cannot record the approval: %s", sqlite3_errmsg(db));
			goto fail;
		}
	}
	if (store_job_transition(s, j->id, JOB_PENDING, reason, now, cause) != 0)
		goto fail;
	if (store_approval_exec(db,
	                        "INSERT INTO intents (job_id, op, idem_key, created_ms) "
	                        "VALUES (?1, ?2, ?3, ?4)",
	                        in, 3, at, 1, "record the launch intent", cause) < 0)
		goto fail;
	return store_commit(s, cause);
fail:
	store_rollback(s);
	return -1;
}

int store_approval_deny(struct store *s, const char *id, const char *decided_by,
                        const char *decision_reason, const char *reason, int64_t now, char **cause)
{
	const char *cols[] = {id, decided_by, decision_reason,
	                      job_state_name(JOB_PENDING_APPROVAL)};
	int n;

	if (store_begin(s, cause) != 0)
		return -1;
	n = store_approval_exec(store_db(s),
	                        "UPDATE jobs SET approval = 'denied', decided_by = ?2, "
	                        "decision_reason = ?3 WHERE id = ?1 AND state = ?4",
	                        cols, 4, NULL, 0, "record the denial", cause);
	if (n < 0)
		goto fail;
	if (n == 0) {
		xcause(cause, "job %s is no longer waiting for approval", id);
		goto fail;
	}
	if (store_job_transition(s, id, JOB_STOPPED, reason, now, cause) != 0)
		goto fail;
	return store_commit(s, cause);
fail:
	store_rollback(s);
	return -1;
}
