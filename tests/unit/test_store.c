/* test_store.c: the sqlite store: creation, migration, refusals, launch intents, transitions,
 * events, lookups, listing, names, and two connections (and two processes) on one file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/store.h"
#include "core/xmalloc.h"

struct fixture {
	char dir[256];
	char *path;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");

	snprintf(f->dir, sizeof f->dir, "%s/gantry-store-XXXXXX",
	         tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xprintf("%s/store.db", f->dir);
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f->path);
	free(f);
	return 0;
}

static struct store *open_ok(const char *path)
{
	struct store *s = NULL;
	char *cause = NULL;

	if (store_open(path, &s, &cause) != 0)
		fail_msg("store_open: %s", cause);
	assert_non_null(s);
	return s;
}

/* Opens path expecting a one-line refusal that names the path and contains want. */
static void open_refused(const char *path, const char *want)
{
	struct store *s = (struct store *)1;
	char *cause = NULL;

	assert_int_equal(store_open(path, &s, &cause), -1);
	assert_null(s);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL || strstr(cause, path) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\" or the path", cause, want);
	assert_null(strchr(cause, '\n'));
	free(cause);
}

/* Takes a store of schema 8 back to schema 7 (no audit, no approvals). */
#define STORE_UNDO_8                                                                               \
	"DROP TABLE audit; ALTER TABLE jobs DROP COLUMN owner_uid; ALTER TABLE jobs DROP COLUMN "  \
	"approval; ALTER TABLE jobs DROP COLUMN decided_by; ALTER TABLE jobs DROP COLUMN "         \
	"decision_reason; ALTER TABLE jobs DROP COLUMN request_json;"

/* Takes a store of schema 7 back to schema 6 (no replicas). */
#define STORE_UNDO_7                                                                               \
	STORE_UNDO_8                                                                               \
	"ALTER TABLE jobs DROP COLUMN ready_replicas; ALTER TABLE jobs DROP COLUMN "               \
	"desired_replicas;"

/* Takes a store of schema 5 back to schema 4 (intents keyed by job, no holds, no attempt). */
#define STORE_UNDO_5                                                                               \
	STORE_UNDO_7                                                                               \
	"DROP TABLE holds; DROP INDEX intents_pending; ALTER TABLE jobs DROP COLUMN attempt;"      \
	"CREATE TABLE i4 (job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"          \
	" op TEXT NOT NULL, idem_key TEXT, created_ms INTEGER NOT NULL, done_ms INTEGER);"         \
	"INSERT INTO i4 SELECT job_id, op, idem_key, created_ms, done_ms FROM intents;"            \
	"DROP TABLE intents; ALTER TABLE i4 RENAME TO intents;"                                    \
	"CREATE INDEX intents_pending ON intents(created_ms) WHERE done_ms IS NULL;"

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
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

static char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void launch(struct store *s, const char *id, const char *name, int64_t created_ms)
{
	struct job j;
	char *cause = NULL;

	job_init(&j);
	j.id = (char *)id;
	j.name = (char *)name;
	j.kind = JOB_KIND_TRAINING;
	j.template_name = (char *)"pytorch-finetune";
	j.provider = (char *)"local";
	j.owner = (char *)"alice";
	j.idem_key = (char *)"idem-1";
	j.params_json = (char *)"{\"epochs\":3}";
	j.gpus = 2;
	j.created_ms = created_ms;
	if (store_launch_intent(s, &j, &cause) != 0)
		fail_msg("launch %s: %s", id, cause);
}

static void transition_ok(struct store *s, const char *id, enum job_state to, const char *reason,
                          int64_t at)
{
	char *cause = NULL;

	if (store_job_transition(s, id, to, reason, at, &cause) != 0)
		fail_msg("transition %s -> %s: %s", id, job_state_name(to), cause);
}

static void test_create_and_reopen(void **state)
{
	struct fixture *f = *state;
	char *path = xprintf("%s/a/b/store.db", f->dir);
	char *dir = xprintf("%s/a/b", f->dir);
	struct store *s;
	struct stat st;
	struct job j;
	char *cause = NULL;

	s = open_ok(path);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	launch(s, "j00000001", "first", 1000);
	store_close(s);

	assert_int_equal(raw_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(path, "PRAGMA application_id"), 0x47414e54);
	assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name IN "
	                               "('jobs', 'job_events', 'workers', 'intents')"),
	                 4);

	s = open_ok(path);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_job_get(s, "j00000001", &j, &cause), 0);
	assert_string_equal(j.name, "first");
	assert_string_equal(j.template_name, "pytorch-finetune");
	assert_string_equal(j.params_json, "{\"epochs\":3}");
	assert_int_equal(j.kind, JOB_KIND_TRAINING);
	assert_int_equal(j.state, JOB_PENDING);
	assert_int_equal(j.gpus, 2);
	assert_int_equal(j.created_ms, 1000);
	assert_int_equal(j.updated_ms, 1000);
	assert_string_equal(j.reason, "launch requested");
	assert_null(j.url);
	job_clear(&j);
	store_close(s);
	free(path);
	free(dir);
}

/* Every store gets a random installation id once (schema 4), also a store migrated from
 * schema 3, and keeps it. */
static void test_installation_id(void **state)
{
	struct fixture *f = *state;
	char *other = xprintf("%s/other.db", f->dir);
	struct store *s = open_ok(f->path), *s2;
	char *id = NULL, *again = NULL, *id2 = NULL, *cause = NULL;
	struct job j;

	assert_int_equal(store_meta_get(s, "installation_id", &id, &cause), 0);
	assert_int_equal(strlen(id), 32);
	assert_int_equal(strspn(id, "0123456789abcdef"), 32);
	assert_int_equal(store_meta_get(s, "no-such-key", &again, &cause), -1);
	assert_string_equal(cause, "the store has no no-such-key");
	free(cause);
	cause = NULL;
	launch(s, "j00000001", "first", 1000);
	store_close(s);
	s = open_ok(f->path);
	assert_int_equal(store_meta_get(s, "installation_id", &again, &cause), 0);
	assert_string_equal(again, id);
	free(again);
	store_close(s);

	s2 = open_ok(other);
	assert_int_equal(store_meta_get(s2, "installation_id", &id2, &cause), 0);
	assert_string_not_equal(id2, id);
	store_close(s2);

	/* a store of schema 3 (before the meta table) is migrated and gets a fresh id */
	raw_exec(f->path, STORE_UNDO_5 "DROP TABLE meta; PRAGMA user_version = 3;");
	s = open_ok(f->path);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_meta_get(s, "installation_id", &again, &cause), 0);
	assert_int_equal(strlen(again), 32);
	assert_string_not_equal(again, id);
	assert_int_equal(store_job_get(s, "j00000001", &j, &cause), 0);
	assert_string_equal(j.name, "first");
	job_clear(&j);
	store_close(s);
	free(again);
	free(id2);
	free(id);
	free(other);
}

/* Schema 6: billing comes from holds alone; a job of an older store that never got a hold
 * gets the interval it was billed for (creation to end; open while active). */
static void test_migrate_holds(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);

	launch(s, "j00000001", "ended", 1000);
	launch(s, "j00000002", "active", 2000);
	launch(s, "j00000003", "no-ref", 3000);
	store_close(s);
	raw_exec(f->path, "UPDATE jobs SET provider_ref = 'r1', state = 'SUCCEEDED', ended_ms = "
	                  "9000 WHERE id = 'j00000001';"
	                  "UPDATE jobs SET provider_ref = 'r2', state = 'RUNNING' WHERE id = "
	                  "'j00000002';"
	                  "DELETE FROM holds;" STORE_UNDO_7 "PRAGMA user_version = 5;");
	s = open_ok(f->path);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	store_close(s);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM holds"), 2);
	assert_int_equal(raw_int(f->path, "SELECT start_ms * 100000 + end_ms FROM holds WHERE "
	                                  "job_id = 'j00000001'"),
	                 1000 * 100000LL + 9000);
	assert_int_equal(raw_int(f->path, "SELECT start_ms * 100000 + end_ms FROM holds WHERE "
	                                  "job_id = 'j00000002'"),
	                 2000 * 100000LL);
}

/* Schema 7: an endpoint's ready/desired replicas. A store of schema 6 gains the columns (0/0
 * for its jobs); store_job_replicas writes only a change, and the job reads them back. */
static void test_replicas(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	struct job j;
	char *cause = NULL;

	launch(s, "j00000001", "web", 1000);
	store_close(s);
	raw_exec(f->path, STORE_UNDO_7 "PRAGMA user_version = 6;");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_table_info('jobs') WHERE "
	                                  "name LIKE '%replicas'"),
	                 0);
	s = open_ok(f->path);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	job_init(&j);
	assert_int_equal(store_job_get(s, "j00000001", &j, &cause), 0);
	assert_int_equal(j.ready_replicas, 0);
	assert_int_equal(j.desired_replicas, 0);
	job_clear(&j);
	assert_int_equal(store_job_replicas(s, "j00000001", 1, 3, &cause), 1);
	assert_int_equal(store_job_replicas(s, "j00000001", 1, 3, &cause), 0); /* unchanged */
	assert_int_equal(store_job_replicas(s, "j00000001", 3, 3, &cause), 1);
	assert_int_equal(store_job_replicas(s, "nosuchjob", 3, 3, &cause), 0);
	assert_int_equal(store_job_get(s, "j00000001", &j, &cause), 0);
	assert_int_equal(j.ready_replicas, 3);
	assert_int_equal(j.desired_replicas, 3);
	job_clear(&j);
	store_close(s);
	assert_int_equal(
	    raw_int(f->path, "SELECT ready_replicas * 10 + desired_replicas FROM jobs"), 33);
}

static void test_wal_mode(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_close(s);
}

static void test_foreign_sqlite_refused(void **state)
{
	struct fixture *f = *state;
	char *other = xprintf("%s/other.db", f->dir);
	char *before, *after;
	size_t n1, n2;

	raw_exec(f->path, "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('keep me');");
	before = read_file(f->path, &n1);
	open_refused(f->path, "not a Gantry store");
	after = read_file(f->path, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);

	/* Another application's id, even with no tables. */
	raw_exec(other, "PRAGMA application_id = 1234;");
	before = read_file(other, &n1);
	open_refused(other, "not a Gantry store");
	after = read_file(other, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);
	free(other);
}

static void test_not_sqlite_refused(void **state)
{
	struct fixture *f = *state;
	FILE *fp = fopen(f->path, "w");
	char *before, *after;
	size_t n1, n2;

	assert_non_null(fp);
	for (int i = 0; i < 100; i++)
		fputs("this is a text file, not a database\n", fp);
	fclose(fp);
	before = read_file(f->path, &n1);
	open_refused(f->path, "not a Gantry store (file is not a database)");
	after = read_file(f->path, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(before, after, n1);
	free(before);
	free(after);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	char *want;

	store_close(s);
	raw_exec(f->path, "PRAGMA user_version = 99;");
	want =
	    xprintf("written by a newer Gantry (schema 99, this build knows %d); refusing to open",
	            STORE_SCHEMA_VERSION);
	open_refused(f->path, want);
	free(want);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 99);
}

static void test_path_problems(void **state)
{
	struct fixture *f = *state;
	char *blocker = xprintf("%s/file", f->dir);
	char *path = xprintf("%s/file/store.db", f->dir);
	struct store *s = NULL;
	char *cause = NULL;
	FILE *fp = fopen(blocker, "w");

	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(store_open(path, &s, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(store_open(f->dir, &s, &cause), -1);
	assert_non_null(cause);
	free(cause);
	free(blocker);
	free(path);
}

/* A symlink at the store or at one of SQLite's side files is refused; nothing is made
 * through it. */
static void test_symlink_refused(void **state)
{
	struct fixture *f = *state;
	char *target = xprintf("%s/elsewhere.db", f->dir), *wal = xprintf("%s-wal", f->path);
	struct stat st;

	assert_int_equal(symlink(target, f->path), 0);
	open_refused(f->path, "is a symbolic link");
	assert_int_not_equal(lstat(target, &st), 0);
	assert_int_equal(unlink(f->path), 0);
	store_close(open_ok(f->path));
	assert_int_equal(symlink(target, wal), 0);
	open_refused(wal, "is a symbolic link");
	assert_int_not_equal(lstat(target, &st), 0);
	free(target);
	free(wal);
}

/* store_quick_check: ok on a sound store, a failure naming the page on a damaged one. */
static void test_quick_check(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	sqlite3 *db;
	sqlite3_stmt *st;
	char *cause = NULL;
	int page = 0, psize = 0, fd;

	store_close(s);
	assert_int_equal(store_quick_check(f->path, &cause), 0);
	assert_null(cause);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT rootpage FROM sqlite_master WHERE type = "
	                                    "'index' ORDER BY rootpage DESC LIMIT 1",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	page = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	psize = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_true(page > 1);
	/* a garbage b-tree page header */
	fd = open(f->path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(
	    pwrite(fd, "\377\377\377\377\377\377\377", 7, (off_t)(page - 1) * psize + 1), 7);
	close(fd);
	assert_int_equal(store_quick_check(f->path, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "is damaged"));
	assert_non_null(strstr(cause, f->path));
	assert_null(strchr(cause, '\n'));
	free(cause);
}

static void test_intent_transitions_events(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	struct job_event_list ev;
	struct job j;
	char **ids;
	size_t n;
	char *cause = NULL;

	launch(s, "j0000abcd", "train-1", 1000);
	assert_int_equal(store_intents_pending(s, &ids, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "j0000abcd");
	free(ids[0]);
	free(ids);

	transition_ok(s, "j0000abcd", JOB_PROVISIONING, "provider accepted", 2000);
	assert_int_equal(store_intent_done(s, "j0000abcd", &cause), 0);
	assert_int_equal(store_intent_done(s, "j0000abcd", &cause), 0);
	assert_int_equal(store_intent_done(s, "jnope", &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(store_intents_pending(s, &ids, &n, &cause), 0);
	assert_int_equal(n, 0);
	free(ids);

	transition_ok(s, "j0000abcd", JOB_STARTING, "container starting", 3000);
	transition_ok(s, "j0000abcd", JOB_RUNNING, "process started", 4000);
	transition_ok(s, "j0000abcd", JOB_UNKNOWN, "provider unreachable", 5000);
	transition_ok(s, "j0000abcd", JOB_RUNNING, "provider back", 6000);
	transition_ok(s, "j0000abcd", JOB_SUCCEEDED, "exit 0", 7000);

	assert_int_equal(store_job_get(s, "j0000abcd", &j, &cause), 0);
	assert_int_equal(j.state, JOB_SUCCEEDED);
	assert_string_equal(j.reason, "exit 0");
	assert_int_equal(j.started_ms, 4000);
	assert_int_equal(j.ended_ms, 7000);
	assert_int_equal(j.updated_ms, 7000);
	assert_int_equal(j.created_ms, 1000);
	job_clear(&j);

	assert_int_equal(store_job_events(s, "j0000abcd", &ev, &cause), 0);
	assert_int_equal(ev.n, 7);
	{
		static const struct {
			enum job_state from, to;
			int64_t at;
			const char *reason;
		} want[] = {
		    {JOB_PENDING, JOB_PENDING, 1000, "launch requested"},
		    {JOB_PENDING, JOB_PROVISIONING, 2000, "provider accepted"},
		    {JOB_PROVISIONING, JOB_STARTING, 3000, "container starting"},
		    {JOB_STARTING, JOB_RUNNING, 4000, "process started"},
		    {JOB_RUNNING, JOB_UNKNOWN, 5000, "provider unreachable"},
		    {JOB_UNKNOWN, JOB_RUNNING, 6000, "provider back"},
		    {JOB_RUNNING, JOB_SUCCEEDED, 7000, "exit 0"},
		};
		for (size_t i = 0; i < ev.n; i++) {
			assert_string_equal(ev.items[i].job_id, "j0000abcd");
			assert_int_equal(ev.items[i].from, want[i].from);
			assert_int_equal(ev.items[i].to, want[i].to);
			assert_int_equal(ev.items[i].at_ms, want[i].at);
			assert_string_equal(ev.items[i].reason, want[i].reason);
			if (i > 0)
				assert_true(ev.items[i].id > ev.items[i - 1].id);
		}
	}
	job_event_list_free(&ev);
	/* The creation event is stored with no from state. */
	assert_int_equal(
	    raw_int(f->path, "SELECT count(*) FROM job_events WHERE from_state IS NULL"), 1);
	store_close(s);
}

/* A reason that changes while the state stays: kept once as the job's reason and an event
 * STATE -> STATE; the same reason again, or a job no longer in that state, records nothing. */
static void test_reason_without_transition(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	struct job_event_list ev;
	struct job j;
	char *cause = NULL;
	size_t before;

	launch(s, "j0000abce", "train-2", 1000);
	transition_ok(s, "j0000abce", JOB_PROVISIONING, "provider accepted", 1500);
	transition_ok(s, "j0000abce", JOB_STARTING, "started by the provider", 2000);
	transition_ok(s, "j0000abce", JOB_RUNNING, "process started", 3000);
	assert_int_equal(store_job_events(s, "j0000abce", &ev, &cause), 0);
	before = ev.n;
	job_event_list_free(&ev);
	assert_int_equal(
	    store_job_reason(s, "j0000abce", JOB_RUNNING, "the supervisor died", 4000, &cause), 1);
	assert_int_equal(
	    store_job_reason(s, "j0000abce", JOB_RUNNING, "the supervisor died", 5000, &cause), 0);
	/* the job is not STARTING: nothing */
	assert_int_equal(store_job_reason(s, "j0000abce", JOB_STARTING, "other", 5000, &cause), 0);
	assert_int_equal(store_job_reason(s, "j0000abce", JOB_RUNNING, NULL, 5000, &cause), 0);
	assert_int_equal(store_job_events(s, "j0000abce", &ev, &cause), 0);
	assert_int_equal(ev.n, before + 1);
	assert_int_equal(ev.items[ev.n - 1].from, JOB_RUNNING);
	assert_int_equal(ev.items[ev.n - 1].to, JOB_RUNNING);
	assert_int_equal(ev.items[ev.n - 1].at_ms, 4000);
	assert_string_equal(ev.items[ev.n - 1].reason, "the supervisor died");
	job_event_list_free(&ev);
	job_init(&j);
	assert_int_equal(store_job_get(s, "j0000abce", &j, &cause), 0);
	assert_int_equal(j.state, JOB_RUNNING);
	assert_string_equal(j.reason, "the supervisor died");
	job_clear(&j);
	/* inside a transaction of the caller's too */
	assert_int_equal(store_begin(s, &cause), 0);
	assert_int_equal(store_job_reason(s, "j0000abce", JOB_RUNNING, "back", 6000, &cause), 1);
	assert_int_equal(store_commit(s, &cause), 0);
	assert_int_equal(store_job_events(s, "j0000abce", &ev, &cause), 0);
	assert_int_equal(ev.n, before + 2);
	job_event_list_free(&ev);
	store_close(s);
}

static void test_illegal_transition(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	struct job_event_list ev;
	struct job j;
	char *cause = NULL;

	launch(s, "j12345678", "x-1", 1000);
	transition_ok(s, "j12345678", JOB_PROVISIONING, NULL, 1001);
	transition_ok(s, "j12345678", JOB_RUNNING, "up", 1002);
	assert_int_equal(store_job_transition(s, "j12345678", JOB_PENDING, "no", 1003, &cause), -1);
	assert_string_equal(cause, "illegal transition RUNNING -> PENDING for job j12345678");
	free(cause);
	cause = NULL;
	assert_int_equal(store_job_transition(s, "j12345678", JOB_RUNNING, "same", 1003, &cause),
	                 -1);
	assert_string_equal(cause, "illegal transition RUNNING -> RUNNING for job j12345678");
	free(cause);
	cause = NULL;

	assert_int_equal(store_job_get(s, "j12345678", &j, &cause), 0);
	assert_int_equal(j.state, JOB_RUNNING);
	assert_string_equal(j.reason, "up");
	assert_int_equal(j.updated_ms, 1002);
	job_clear(&j);
	assert_int_equal(store_job_events(s, "j12345678", &ev, &cause), 0);
	assert_int_equal(ev.n, 3);
	assert_null(ev.items[1].reason);
	job_event_list_free(&ev);

	transition_ok(s, "j12345678", JOB_FAILED, "oom", 1004);
	for (int t = 0; t < JOB_STATE_COUNT; t++) {
		assert_int_equal(
		    store_job_transition(s, "j12345678", (enum job_state)t, NULL, 1005, &cause),
		    -1);
		assert_non_null(strstr(cause, "illegal transition FAILED -> "));
		free(cause);
		cause = NULL;
	}
	assert_int_equal(store_job_transition(s, "jmissing", JOB_RUNNING, NULL, 1, &cause), -1);
	assert_non_null(strstr(cause, "jmissing"));
	free(cause);
	store_close(s);
}

static void test_duplicates(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	struct job j;
	int64_t count;
	char *cause = NULL;

	launch(s, "jaaaaaaaa", "dup", 1);
	job_init(&j);
	j.id = (char *)"jbbbbbbbb";
	j.name = (char *)"dup";
	assert_int_equal(store_launch_intent(s, &j, &cause), -1);
	assert_string_equal(cause, "a job named dup already exists");
	free(cause);
	cause = NULL;
	j.id = (char *)"jaaaaaaaa";
	j.name = (char *)"other";
	assert_int_equal(store_launch_intent(s, &j, &cause), -1);
	assert_string_equal(cause, "a job with id jaaaaaaaa already exists");
	free(cause);
	cause = NULL;
	j.name = NULL;
	assert_int_equal(store_launch_intent(s, &j, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_jobs_count(s, &count, &cause), 0);
	assert_int_equal(count, 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM intents"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM job_events"), 1);
	store_close(s);
}

static void find_expect(struct store *s, const char *ref, const char *want_id)
{
	struct job j;
	char *cause = NULL;

	if (store_job_find(s, ref, &j, &cause) != 0)
		fail_msg("find %s: %s", ref, cause);
	assert_string_equal(j.id, want_id);
	job_clear(&j);
}

static void find_fails(struct store *s, const char *ref, const char *want)
{
	struct job j;
	char *cause = NULL;

	assert_int_equal(store_job_find(s, ref, &j, &cause), -1);
	if (strcmp(cause, want) != 0)
		fail_msg("find %s: \"%s\", expected \"%s\"", ref, cause, want);
	free(cause);
}

static void test_find(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);

	launch(s, "jab000001", "alpha", 1);
	launch(s, "jab000002", "beta", 2);
	launch(s, "jcd000003", "jab000002x", 3);
	launch(s, "jef000004", "jab", 4);
	find_expect(s, "jab000001", "jab000001");
	find_expect(s, "beta", "jab000002");
	find_expect(s, "jab000002x", "jcd000003");
	/* An exact name wins over an id prefix. */
	find_expect(s, "jab", "jef000004");
	find_expect(s, "jcd00", "jcd000003");
	/* an id prefix needs JOB_ID_MIN_PREFIX (5) characters */
	find_fails(s, "jcd0", "no job matches 'jcd0' (an id prefix needs at least 5 characters)");
	find_fails(s, "jab0000", "'jab0000' matches several jobs: jab000001, jab000002");
	find_expect(s, "jab000002", "jab000002");
	find_expect(s, "jef00", "jef000004");
	find_fails(s, "jc", "no job matches 'jc' (an id prefix needs at least 5 characters)");
	find_fails(s, "zzz", "no job matches 'zzz'");
	find_fails(s, "jab000001z", "no job matches 'jab000001z'");
	find_fails(s, "j%", "no job matches 'j%'");
	store_close(s);
}

static void test_find_many_ambiguous(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	char id[16], name[16];

	for (int i = 0; i < 8; i++) {
		snprintf(id, sizeof id, "jff0000%02d", i);
		snprintf(name, sizeof name, "n%d", i);
		launch(s, id, name, i);
	}
	find_fails(s, "jff00",
	           "'jff00' matches several jobs: jff000000, jff000001, jff000002, jff000003, "
	           "jff000004, …");
	/* 64-bit ids next to the 32-bit ones of an older store */
	launch(s, "jff00000a1b2c3d4e", "new1", 9);
	launch(s, "jff00000a1b2c3d4f", "new2", 10);
	find_expect(s, "jff00000a1b2c3d4e", "jff00000a1b2c3d4e");
	find_expect(s, "jff000007", "jff000007");
	find_fails(s, "jff00000a",
	           "'jff00000a' matches several jobs: jff00000a1b2c3d4e, "
	           "jff00000a1b2c3d4f");
	find_expect(s, "jff00000a1b2c3d4f", "jff00000a1b2c3d4f");
	store_close(s);
}

static void test_list_order(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	struct job_list l;
	int64_t count;
	char *cause = NULL;

	launch(s, "j00000002", "b", 2000);
	launch(s, "j00000001", "a", 1000);
	launch(s, "j00000003", "c", 3000);
	launch(s, "j00000004", "d", 3000);
	transition_ok(s, "j00000003", JOB_STOPPED, "user", 3500);
	assert_int_equal(store_jobs_list(s, 0, &l, &cause), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.items[0].id, "j00000004");
	assert_string_equal(l.items[1].id, "j00000003");
	assert_string_equal(l.items[2].id, "j00000002");
	assert_string_equal(l.items[3].id, "j00000001");
	assert_int_equal(l.items[1].state, JOB_STOPPED);
	job_list_free(&l);
	assert_int_equal(store_jobs_list(s, 1, &l, &cause), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[0].id, "j00000004");
	assert_string_equal(l.items[1].id, "j00000002");
	job_list_free(&l);
	assert_int_equal(store_jobs_count(s, &count, &cause), 0);
	assert_int_equal(count, 4);
	store_close(s);
}

static void test_next_name(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	char *name = NULL, *cause = NULL;

	assert_int_equal(store_job_next_name(s, "train", &name, &cause), 0);
	assert_string_equal(name, "train-1");
	free(name);
	launch(s, "j00000001", "train-1", 1);
	launch(s, "j00000002", "train-2", 2);
	launch(s, "j00000004", "train-4", 4);
	launch(s, "j00000005", "train-03", 5);
	launch(s, "j00000006", "train-x", 6);
	launch(s, "j00000007", "trainer-3", 7);
	launch(s, "j00000008", "train-3b", 8);
	assert_int_equal(store_job_next_name(s, "train", &name, &cause), 0);
	assert_string_equal(name, "train-3");
	launch(s, "j00000009", name, 9);
	free(name);
	assert_int_equal(store_job_next_name(s, "train", &name, &cause), 0);
	assert_string_equal(name, "train-5");
	free(name);
	assert_int_equal(store_job_next_name(s, "trainer", &name, &cause), 0);
	assert_string_equal(name, "trainer-1");
	free(name);
	store_close(s);
}

static void test_update_and_workers(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	struct job j;
	char *cause = NULL;

	launch(s, "j00000001", "nb", 1);
	assert_int_equal(store_job_get(s, "j00000001", &j, &cause), 0);
	free(j.provider_ref);
	j.provider_ref = xstrdup("/var/lib/gantry/jobs/j00000001");
	j.url = xstrdup("http://127.0.0.1:8888/");
	j.port = 8888;
	j.has_exit = 1;
	j.exit_code = -9;
	j.gpus = 4;
	j.spec_json = xstrdup("{\"script\":\"run.sh\"}");
	assert_int_equal(store_job_update(s, &j, &cause), 0);
	job_clear(&j);
	assert_int_equal(store_job_get(s, "j00000001", &j, &cause), 0);
	assert_string_equal(j.provider_ref, "/var/lib/gantry/jobs/j00000001");
	assert_string_equal(j.url, "http://127.0.0.1:8888/");
	assert_int_equal(j.port, 8888);
	assert_int_equal(j.has_exit, 1);
	assert_int_equal(j.exit_code, -9);
	assert_int_equal(j.gpus, 4);
	assert_string_equal(j.spec_json, "{\"script\":\"run.sh\"}");
	assert_int_equal(j.state, JOB_PENDING);
	free(j.id);
	j.id = xstrdup("jmissing0");
	assert_int_equal(store_job_update(s, &j, &cause), -1);
	free(cause);
	cause = NULL;
	job_clear(&j);

	assert_int_equal(store_worker_set(s, "j00000001", 0, "node1", 22, "alice", &cause), 0);
	assert_int_equal(store_worker_set(s, "j00000001", 1, "node2", 2222, NULL, &cause), 0);
	assert_int_equal(store_worker_set(s, "j00000001", 0, "node9", 22, "bob", &cause), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM workers"), 2);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM workers WHERE host = 'node9'"), 1);
	assert_int_equal(store_worker_set(s, "jmissing0", 0, "h", 22, NULL, &cause), -1);
	assert_string_equal(cause, "no job jmissing0");
	free(cause);
	store_close(s);
}

static void test_bulk_transaction(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	char id[16], name[32];
	int64_t count;
	char *cause = NULL;

	assert_int_equal(store_begin(s, &cause), 0);
	assert_int_equal(store_begin(s, &cause), -1);
	free(cause);
	cause = NULL;
	for (int i = 0; i < 50; i++) {
		snprintf(id, sizeof id, "j%08x", i);
		snprintf(name, sizeof name, "bulk-%d", i);
		launch(s, id, name, i);
	}
	store_rollback(s);
	assert_int_equal(store_jobs_count(s, &count, &cause), 0);
	assert_int_equal(count, 0);

	assert_int_equal(store_begin(s, &cause), 0);
	launch(s, "j00000001", "one", 1);
	/* A failing operation inside the bulk transaction undoes only itself. */
	assert_int_equal(store_job_transition(s, "j00000001", JOB_SUCCEEDED, NULL, 2, &cause), -1);
	free(cause);
	cause = NULL;
	launch(s, "j00000002", "two", 2);
	assert_int_equal(store_commit(s, &cause), 0);
	assert_int_equal(store_commit(s, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(store_jobs_count(s, &count, &cause), 0);
	assert_int_equal(count, 2);
	store_close(s);
}

static void test_many_jobs(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	struct job_list l;
	char id[16], name[32];
	char *cause = NULL;

	assert_int_equal(store_begin(s, &cause), 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(id, sizeof id, "j%08x", i);
		snprintf(name, sizeof name, "job-%d", i);
		launch(s, id, name, 1000 + i);
	}
	assert_int_equal(store_commit(s, &cause), 0);
	assert_int_equal(store_jobs_list(s, 0, &l, &cause), 0);
	assert_int_equal(l.n, 10000);
	assert_string_equal(l.items[0].name, "job-9999");
	assert_string_equal(l.items[9999].name, "job-0");
	job_list_free(&l);
	store_close(s);
}

static void test_two_connections(void **state)
{
	struct fixture *f = *state;
	struct store *a = open_ok(f->path);
	struct store *b = open_ok(f->path);
	int64_t v1, v2, v3;
	struct job j;
	char *cause = NULL;

	assert_int_equal(store_data_version(b, &v1), 0);
	launch(a, "j00000001", "shared", 1);
	assert_int_equal(store_data_version(b, &v2), 0);
	assert_true(v2 != v1);
	assert_int_equal(store_job_find(b, "shared", &j, &cause), 0);
	assert_string_equal(j.id, "j00000001");
	job_clear(&j);
	/* b's own write does not change b's data_version; a sees it. */
	assert_int_equal(store_data_version(a, &v1), 0);
	transition_ok(b, "j00000001", JOB_PROVISIONING, "b", 2);
	assert_int_equal(store_data_version(b, &v3), 0);
	assert_true(v3 == v2);
	assert_int_equal(store_data_version(a, &v2), 0);
	assert_true(v2 != v1);
	assert_int_equal(store_job_get(a, "j00000001", &j, &cause), 0);
	assert_int_equal(j.state, JOB_PROVISIONING);
	job_clear(&j);
	store_close(a);
	store_close(b);
}

/* Several processes writing at once: nothing is lost, nobody sees "database is locked". */
static void test_two_processes(void **state)
{
	struct fixture *f = *state;
	struct store *s = open_ok(f->path);
	int64_t count;
	char *cause = NULL;
	pid_t pids[3];

	store_close(s);
	for (int p = 0; p < 3; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			struct store *c = NULL;
			char id[16], name[32];
			char *err = NULL;

			if (store_open(f->path, &c, &err) != 0)
				_exit(2);
			for (int i = 0; i < 100; i++) {
				snprintf(id, sizeof id, "j%02x%06x", p, i);
				snprintf(name, sizeof name, "p%d-%d", p, i);
				struct job j;
				job_init(&j);
				j.id = id;
				j.name = name;
				if (store_launch_intent(c, &j, &err) != 0 ||
				    store_job_transition(c, id, JOB_PROVISIONING, "go", 0, &err) !=
				        0)
					_exit(3);
			}
			store_close(c);
			_exit(0);
		}
	}
	for (int p = 0; p < 3; p++) {
		int st;

		assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	s = open_ok(f->path);
	assert_int_equal(store_jobs_count(s, &count, &cause), 0);
	assert_int_equal(count, 300);
	store_close(s);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM job_events"), 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_and_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wal_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migrate_holds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replicas, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_sqlite_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_sqlite_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_path_problems, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_quick_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_intent_transitions_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_illegal_transition, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reason_without_transition, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_installation_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_many_ambiguous, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_next_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_and_workers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bulk_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_jobs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_connections, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
