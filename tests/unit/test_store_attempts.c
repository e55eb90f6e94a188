/* test_store_attempts.c: launch attempts keyed by (job, attempt) and held intervals (schema 5),
 * and the migration of a schema-4 store's intents. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store.h"
#include "core/store_attempts.h"
#include "core/xmalloc.h"

static char dir[256];

static char *db_path(const char *name)
{
	return xprintf("%s/%s", dir, name);
}

static struct store *open_ok(const char *path)
{
	struct store *s = NULL;
	char *cause = NULL;

	if (store_open(path, &s, &cause) != 0)
		fail_msg("store_open: %s", cause);
	return s;
}

static void launch(struct store *s, const char *id, const char *name)
{
	struct job j;
	char *cause = NULL;

	job_init(&j);
	j.id = (char *)id;
	j.name = (char *)name;
	j.kind = JOB_KIND_TRAINING;
	j.provider = (char *)"lambda";
	j.owner = (char *)"alice";
	j.idem_key = (char *)"idem-1";
	j.created_ms = 1000;
	if (store_launch_intent(s, &j, &cause) != 0)
		fail_msg("launch %s: %s", id, cause);
}

static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Attempt 1 comes with the launch intent; attempt 2 has its own key and offer; each ends
 * with its class; the job's current attempt follows; pending lists the job once. */
static void test_attempts(void **state)
{
	char *path = db_path("a.db"), *cause = NULL;
	struct store *s = open_ok(path);
	struct store_attempt a2 = {.job_id = "j1",
	                           .attempt = 2,
	                           .idem_key = "idem-1-a2",
	                           .provider = "lambda",
	                           .region = "us-west-1",
	                           .instance_type = "gpu_1x_a100",
	                           .market = "on-demand",
	                           .has_price = 1,
	                           .price_per_hour = 1.29,
	                           .created_ms = 2000};
	struct store_attempt *v = NULL;
	char **ids = NULL;
	size_t n = 0;

	(void)state;
	launch(s, "j1", "first");
	assert_int_equal(
	    store_attempt_end(s, "j1", 1, "capacity", "no capacity in us-east-1", 1500, &cause), 0);
	assert_int_equal(store_attempt_begin(s, &a2, &cause), 0);
	/* the same attempt twice is refused */
	assert_int_equal(store_attempt_begin(s, &a2, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(raw_int(path, "SELECT attempt FROM jobs WHERE id = 'j1'"), 2);
	assert_int_equal(store_intents_pending(s, &ids, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "j1");
	free(ids[0]);
	free(ids);
	assert_int_equal(store_attempt_end(s, "j1", 2, NULL, NULL, 2500, &cause), 0);
	assert_int_equal(store_intents_pending(s, &ids, &n, &cause), 0);
	assert_int_equal(n, 0);
	free(ids);

	assert_int_equal(store_attempts_list(s, "j1", &v, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].attempt, 1);
	assert_string_equal(v[0].idem_key, "idem-1");
	assert_string_equal(v[0].error_class, "capacity");
	assert_string_equal(v[0].reason, "no capacity in us-east-1");
	assert_int_equal(v[0].done_ms, 1500);
	assert_int_equal(v[1].attempt, 2);
	assert_string_equal(v[1].idem_key, "idem-1-a2");
	assert_string_equal(v[1].region, "us-west-1");
	assert_true(v[1].has_price);
	assert_true(v[1].price_per_hour > 1.28 && v[1].price_per_hour < 1.30);
	assert_null(v[1].error_class);
	assert_int_equal(v[1].done_ms, 2500);
	store_attempts_free(v, n);

	/* an attempt for a job that does not exist is refused and leaves nothing */
	a2.job_id = "j-none";
	assert_int_equal(store_attempt_begin(s, &a2, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(raw_int(path, "SELECT count(*) FROM intents WHERE job_id = 'j-none'"), 0);
	store_close(s);
	free(path);
}

/* Holds: opening twice keeps one interval; closing ends it; a second interval after
 * preemption; since filters by end. */
static void test_holds(void **state)
{
	char *path = db_path("h.db"), *cause = NULL;
	struct store *s = open_ok(path);
	struct store_hold *h = NULL;
	size_t n = 0;

	(void)state;
	launch(s, "j1", "first");
	launch(s, "j2", "second");
	assert_int_equal(store_hold_open(s, "j1", 1, 10000, &cause), 0);
	assert_int_equal(store_hold_open(s, "j1", 1, 12000, &cause), 0); /* already open */
	assert_int_equal(store_hold_close(s, "j1", 20000, &cause), 0);
	assert_int_equal(store_hold_close(s, "j1", 25000, &cause), 0);   /* nothing open */
	assert_int_equal(store_hold_open(s, "j1", 1, 30000, &cause), 0); /* came back */
	assert_int_equal(store_hold_open(s, "j2", 1, 5000, &cause), 0);
	assert_int_equal(store_hold_close(s, "j2", 6000, &cause), 0);

	assert_int_equal(store_holds_since(s, 0, &h, &n, &cause), 0);
	assert_int_equal(n, 3);
	assert_string_equal(h[0].job_id, "j1");
	assert_int_equal(h[0].start_ms, 10000);
	assert_int_equal(h[0].end_ms, 20000);
	assert_int_equal(h[1].start_ms, 30000);
	assert_int_equal(h[1].end_ms, 0);
	assert_string_equal(h[2].job_id, "j2");
	store_holds_free(h, n);

	assert_int_equal(store_holds_since(s, 7000, &h, &n, &cause), 0);
	assert_int_equal(n, 2); /* j2 ended before 7000 */
	assert_string_equal(h[0].job_id, "j1");
	store_holds_free(h, n);
	store_close(s);
	free(path);
}

/* A schema-4 store's intents become attempt 1 with their keys and done times. */
static void test_migrate_from_4(void **state)
{
	char *path = db_path("m.db"), *cause = NULL;
	struct store *s = open_ok(path);
	struct store_attempt *v = NULL;
	size_t n = 0;
	sqlite3 *db;
	const char *to4 =
	    "DROP TABLE audit; ALTER TABLE jobs DROP COLUMN owner_uid; ALTER TABLE jobs DROP "
	    "COLUMN "
	    "approval; ALTER TABLE jobs DROP COLUMN decided_by; ALTER TABLE jobs DROP COLUMN "
	    "decision_reason; ALTER TABLE jobs DROP COLUMN request_json;" /* schema 8 */
	    "ALTER TABLE jobs DROP COLUMN ready_replicas; ALTER TABLE jobs DROP COLUMN "
	    "desired_replicas;" /* schema 7 */
	    "DROP TABLE holds; DROP INDEX intents_pending; ALTER TABLE jobs DROP COLUMN attempt;"
	    "CREATE TABLE i4 (job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
	    " op TEXT NOT NULL, idem_key TEXT, created_ms INTEGER NOT NULL, done_ms INTEGER);"
	    "INSERT INTO i4 SELECT job_id, op, idem_key, created_ms, done_ms FROM intents;"
	    "DROP TABLE intents; ALTER TABLE i4 RENAME TO intents;"
	    "CREATE INDEX intents_pending ON intents(created_ms) WHERE done_ms IS NULL;"
	    "PRAGMA user_version = 4;";

	(void)state;
	launch(s, "j1", "first");
	launch(s, "j2", "second");
	assert_int_equal(store_intent_done(s, "j1", &cause), 0);
	store_close(s);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, to4, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("to schema 4: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	assert_int_equal(raw_int(path, "PRAGMA user_version"), 4);

	s = open_ok(path);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_attempts_list(s, "j1", &v, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].attempt, 1);
	assert_string_equal(v[0].idem_key, "idem-1");
	assert_true(v[0].done_ms > 0);
	store_attempts_free(v, n);
	assert_int_equal(store_attempts_list(s, "j2", &v, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].done_ms, 0);
	store_attempts_free(v, n);
	assert_int_equal(raw_int(path, "SELECT attempt FROM jobs WHERE id = 'j2'"), 1);
	store_close(s);
	free(path);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_attempts),
	    cmocka_unit_test(test_holds),
	    cmocka_unit_test(test_migrate_from_4),
	};
	int rc;

	snprintf(dir, sizeof dir, "%s/gantry-attempts-XXXXXX",
	         tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc == 0) {
		char *cmd = xprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			rc = 1;
		free(cmd);
	}
	return rc;
}
