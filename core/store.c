/* store.c: the sqlite store. One connection per process; WAL and a busy timeout let several
 * gantry processes share one file. Every write runs in one BEGIN IMMEDIATE transaction (or a
 * savepoint inside a store_begin() bulk transaction). Statements are prepared once and cached. */
#include "core/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/nospace.h"
#include "core/xmalloc.h"

/* "GANT": PRAGMA application_id of every Gantry store. */
#define STORE_APPLICATION_ID  0x47414e54
#define STORE_BUSY_TIMEOUT_MS 5000
/* How many ids an ambiguous prefix lists before "…". */
#define STORE_AMBIGUOUS_SHOW 5

/* Migration N (0-based) takes the schema from version N to N + 1. Never edit a shipped step;
 * append a new one and bump STORE_SCHEMA_VERSION. */
static const char *const store_migrations[] = {
    /* 1: jobs, their events, workers and launch intents. */
    "CREATE TABLE jobs ("
    " id TEXT PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " kind TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " template_name TEXT,"
    " provider TEXT,"
    " owner TEXT,"
    " idem_key TEXT,"
    " params_json TEXT,"
    " spec_json TEXT,"
    " provider_ref TEXT,"
    " reason TEXT,"
    " url TEXT,"
    " port INTEGER NOT NULL DEFAULT 0,"
    " has_exit INTEGER NOT NULL DEFAULT 0,"
    " exit_code INTEGER NOT NULL DEFAULT 0,"
    " gpus INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " started_ms INTEGER NOT NULL DEFAULT 0,"
    " ended_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX jobs_created_ms ON jobs(created_ms);"
    "CREATE INDEX jobs_state ON jobs(state);"
    "CREATE INDEX jobs_active ON jobs(created_ms) "
    " WHERE state NOT IN ('SUCCEEDED', 'FAILED', 'STOPPED');"
    "CREATE TABLE job_events ("
    " id INTEGER PRIMARY KEY,"
    " job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " at_ms INTEGER NOT NULL,"
    " from_state TEXT,"
    " to_state TEXT NOT NULL,"
    " reason TEXT);"
    "CREATE INDEX job_events_job ON job_events(job_id, id);"
    "CREATE TABLE workers ("
    " job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " idx INTEGER NOT NULL,"
    " host TEXT NOT NULL,"
    " port INTEGER NOT NULL DEFAULT 22,"
    " user TEXT,"
    " PRIMARY KEY (job_id, idx));"
    "CREATE TABLE intents ("
    " job_id TEXT PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
    " op TEXT NOT NULL,"
    " idem_key TEXT,"
    " created_ms INTEGER NOT NULL,"
    " done_ms INTEGER);"
    "CREATE INDEX intents_pending ON intents(created_ms) WHERE done_ms IS NULL;",
    /* 2: what a job costs (price fixed at launch, billing granularity) and whom it bills. */
    "ALTER TABLE jobs ADD COLUMN priced INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN price_per_hour REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN billing_s INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE jobs ADD COLUMN team TEXT;"
    "ALTER TABLE jobs ADD COLUMN project TEXT;"
    "ALTER TABLE jobs ADD COLUMN region TEXT;",
    /* 3: when each job sat idle (every GPU below its threshold): idle waste. */
    "CREATE TABLE job_idle ("
    " job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " start_ms INTEGER NOT NULL,"
    " end_ms INTEGER NOT NULL,"
    " PRIMARY KEY (job_id, start_ms)) WITHOUT ROWID;",
    /* 4: facts about the store itself; installation_id: 128 random bits, made once, that
     * label every resource this store's jobs create (reconcile acts only on those). */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "INSERT INTO meta (key, value) VALUES ('installation_id', lower(hex(randomblob(16))));",
    /* 5: launch attempts (interface v2): an intent per (job, attempt), each with its own
     * idempotency key, the offer it tried and how it ended (error class and reason); the
     * intervals a job held resources (from the provider's start time; several per job when
     * it was preempted and came back); the job's current attempt. */
    "CREATE TABLE intents5 ("
    " job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " attempt INTEGER NOT NULL DEFAULT 1,"
    " op TEXT NOT NULL,"
    " idem_key TEXT,"
    " created_ms INTEGER NOT NULL,"
    " done_ms INTEGER,"
    " provider TEXT,"
    " region TEXT,"
    " instance_type TEXT,"
    " market TEXT,"
    " price_per_hour REAL,"
    " error_class TEXT,"
    " reason TEXT,"
    " PRIMARY KEY (job_id, attempt));"
    "INSERT INTO intents5 (job_id, attempt, op, idem_key, created_ms, done_ms)"
    " SELECT job_id, 1, op, idem_key, created_ms, done_ms FROM intents;"
    "DROP TABLE intents;"
    "ALTER TABLE intents5 RENAME TO intents;"
    "CREATE INDEX intents_pending ON intents(created_ms) WHERE done_ms IS NULL;"
    "CREATE TABLE holds ("
    " job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " attempt INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL,"
    " end_ms INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (job_id, start_ms)) WITHOUT ROWID;"
    "ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;",
    /* 6: billing comes from holds alone (a queued batch job holds nothing until it runs):
     * a job launched before holds existed gets the interval it was billed for until now,
     * from its creation to its end (to its last update when it ended without an end time,
     * still open when it is active) */
    "INSERT OR IGNORE INTO holds (job_id, attempt, start_ms, end_ms)"
    " SELECT id, attempt, created_ms,"
    "  CASE WHEN ended_ms > created_ms THEN ended_ms"
    "   WHEN state IN ('SUCCEEDED', 'FAILED', 'STOPPED')"
    "    THEN MAX(COALESCE(updated_ms, 0), created_ms + 1)"
    "   ELSE 0 END"
    " FROM jobs WHERE provider_ref IS NOT NULL AND created_ms > 0"
    " AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.job_id = jobs.id);",
    /* 7: an endpoint's replicas, ready and desired, as its provider last reported them */
    "ALTER TABLE jobs ADD COLUMN ready_replicas INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN desired_replicas INTEGER NOT NULL DEFAULT 0;",
    /* 8 (issue 12): governance. The audit log: append-only (the triggers refuse UPDATE and
     * DELETE), each entry hash-chained to the one before (core/audit.h): hash = hex
     * SHA-256 of prev_hash and the entry's canonical form; the first entry's prev_hash is
     * 64 zeros. Jobs: the owner's uid (-1: before issue 12), the approval of a launch
     * above its role's threshold (NULL none, 'pending', 'approved', 'denied'), who decided
     * and why, and the launch request kept while it waits (JSON, no secrets). */
    "CREATE TABLE audit ("
    " seq INTEGER PRIMARY KEY,"
    " at_ms INTEGER NOT NULL,"
    " uid INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " target TEXT,"
    " verdict TEXT NOT NULL,"
    " reason TEXT,"
    " detail TEXT,"
    " prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX audit_at ON audit(at_ms);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "ALTER TABLE jobs ADD COLUMN owner_uid INTEGER NOT NULL DEFAULT -1;"
    "ALTER TABLE jobs ADD COLUMN approval TEXT;"
    "ALTER TABLE jobs ADD COLUMN decided_by TEXT;"
    "ALTER TABLE jobs ADD COLUMN decision_reason TEXT;"
    "ALTER TABLE jobs ADD COLUMN request_json TEXT;",
};

_Static_assert(sizeof store_migrations / sizeof store_migrations[0] == STORE_SCHEMA_VERSION,
               "one migration step per schema version");

#define STORE_JOB_COLS                                                                             \
	"id, name, kind, state, template_name, provider, owner, idem_key, params_json, "           \
	"spec_json, provider_ref, reason, url, port, has_exit, exit_code, gpus, created_ms, "      \
	"updated_ms, started_ms, ended_ms, priced, price_per_hour, billing_s, team, project, "     \
	"region, ready_replicas, desired_replicas, owner_uid, approval, decided_by, "              \
	"decision_reason, request_json"

enum store_stmt_id {
	ST_DATA_VERSION,
	ST_JOB_INSERT,
	ST_INTENT_INSERT,
	ST_EVENT_INSERT,
	ST_INTENT_DONE,
	ST_INTENT_EXISTS,
	ST_INTENTS_PENDING,
	ST_JOB_STATE,
	ST_JOB_SET_STATE,
	ST_JOB_UPDATE,
	ST_JOB_BY_ID,
	ST_JOB_BY_NAME,
	ST_JOB_BY_PREFIX,
	ST_JOBS_ALL,
	ST_JOBS_ACTIVE,
	ST_EVENTS,
	ST_NAMES_LIKE,
	ST_JOBS_COUNT,
	ST_WORKER_SET,
	ST_JOBS_SEEN, /* issue 12: one user's (and team's) jobs, for gantryd (engine_see.c) */
	ST_JOBS_SEEN_ACTIVE,
	ST_COUNT
};

static const char *const store_sql[ST_COUNT] = {
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_JOB_INSERT] =
        "INSERT INTO jobs (" STORE_JOB_COLS ") VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
        "?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)",
    [ST_INTENT_INSERT] = "INSERT INTO intents (job_id, op, idem_key, created_ms) "
                         "VALUES (?1, ?2, ?3, ?4)",
    [ST_EVENT_INSERT] = "INSERT INTO job_events (job_id, at_ms, from_state, to_state, reason) "
                        "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_INTENT_DONE] = "UPDATE intents SET done_ms = ?2 WHERE job_id = ?1 AND done_ms IS NULL",
    [ST_INTENT_EXISTS] = "SELECT 1 FROM intents WHERE job_id = ?1",
    [ST_INTENTS_PENDING] = "SELECT job_id FROM intents WHERE done_ms IS NULL "
                           "GROUP BY job_id ORDER BY MIN(created_ms), job_id",
    [ST_JOB_STATE] = "SELECT state FROM jobs WHERE id = ?1",
    [ST_JOB_SET_STATE] =
        "UPDATE jobs SET state = ?2, reason = ?3, updated_ms = ?4,"
        " started_ms = CASE WHEN ?5 AND started_ms = 0 THEN ?4 ELSE started_ms END,"
        " ended_ms = CASE WHEN ?6 THEN ?4 ELSE ended_ms END WHERE id = ?1",
    [ST_JOB_UPDATE] = "UPDATE jobs SET provider_ref = ?2, url = ?3, port = ?4, has_exit = ?5,"
                      " exit_code = ?6, gpus = ?7, spec_json = ?8, updated_ms = ?9 WHERE id = ?1",
    [ST_JOB_BY_ID] = "SELECT " STORE_JOB_COLS " FROM jobs WHERE id = ?1",
    [ST_JOB_BY_NAME] = "SELECT " STORE_JOB_COLS " FROM jobs WHERE name = ?1",
    [ST_JOB_BY_PREFIX] = "SELECT " STORE_JOB_COLS " FROM jobs WHERE id >= ?1 AND id < ?2 "
                         "ORDER BY id LIMIT ?3",
    [ST_JOBS_ALL] = "SELECT " STORE_JOB_COLS " FROM jobs ORDER BY created_ms DESC, rowid DESC",
    [ST_JOBS_ACTIVE] = "SELECT " STORE_JOB_COLS " FROM jobs "
                       "WHERE state NOT IN ('SUCCEEDED', 'FAILED', 'STOPPED') "
                       "ORDER BY created_ms DESC, rowid DESC",
    [ST_EVENTS] = "SELECT id, job_id, at_ms, from_state, to_state, reason FROM job_events "
                  "WHERE job_id = ?1 ORDER BY id",
    [ST_NAMES_LIKE] = "SELECT name FROM jobs WHERE name >= ?1 AND name < ?2",
    [ST_JOBS_COUNT] = "SELECT count(*) FROM jobs",
    [ST_WORKER_SET] = "INSERT INTO workers (job_id, idx, host, port, user) "
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (job_id, idx) DO UPDATE SET "
                      "host = excluded.host, port = excluded.port, user = excluded.user",
    [ST_JOBS_SEEN] = "SELECT " STORE_JOB_COLS " FROM jobs WHERE owner_uid = ?1 OR "
                     "(owner_uid = -1 AND owner = ?2) OR team = ?3 "
                     "ORDER BY created_ms DESC, rowid DESC",
    [ST_JOBS_SEEN_ACTIVE] = "SELECT " STORE_JOB_COLS " FROM jobs WHERE (owner_uid = ?1 OR "
                            "(owner_uid = -1 AND owner = ?2) OR team = ?3) AND "
                            "state NOT IN ('SUCCEEDED', 'FAILED', 'STOPPED') "
                            "ORDER BY created_ms DESC, rowid DESC",
};

struct store {
	sqlite3 *db;
	char *path;
	int schema;
	int in_tx; /* inside store_begin() */
	sqlite3_stmt *st[ST_COUNT];
};

static int64_t store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sets *cause to "PATH: WHAT: sqlite message"; returns -1. */
static int store_fail(struct store *s, char **cause, const char *what)
{
	if (nospace_full(s->path)) /* sqlite says "disk I/O error" or "disk is full" */
		return xcause(cause, "no space left on device: %s (%s: %s)", s->path, what,
		              sqlite3_errmsg(s->db));
	return xcause(cause, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

/* The cached statement id, prepared on first use; NULL (and *cause) on error. */
static sqlite3_stmt *store_stmt(struct store *s, enum store_stmt_id id, char **cause)
{
	if (s->st[id] == NULL &&
	    sqlite3_prepare_v3(s->db, store_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s->st[id],
	                       NULL) != SQLITE_OK) {
		store_fail(s, cause, "preparing a statement");
		s->st[id] = NULL;
		return NULL;
	}
	return s->st[id];
}

static void store_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static char *store_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *v = sqlite3_column_text(st, i);
	size_t n;
	char *p;

	if (v == NULL)
		return NULL;
	n = (size_t)sqlite3_column_bytes(st, i);
	p = xmalloc(n + 1);
	memcpy(p, v, n);
	p[n] = '\0';
	return p;
}

static int store_exec(struct store *s, const char *sql, char **cause)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(s, cause, sql);
	return 0;
}

/* Switches to WAL. The switch needs an exclusive lock that the busy handler does not wait
 * for, so two processes creating the store at once retry here (up to the busy timeout). */
static int store_wal(struct store *s, char **cause)
{
	for (int waited = 0;; waited += 10) {
		int rc = sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);

		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY || waited >= STORE_BUSY_TIMEOUT_MS)
			return store_fail(s, cause, "PRAGMA journal_mode = WAL");
		sqlite3_sleep(10);
	}
}

/* Starts the write transaction of one operation: BEGIN IMMEDIATE, or a savepoint when the
 * caller holds a store_begin() transaction. */
static int store_op_begin(struct store *s, char **cause)
{
	return store_exec(s, s->in_tx ? "SAVEPOINT store_op" : "BEGIN IMMEDIATE", cause);
}

static int store_op_commit(struct store *s, char **cause)
{
	if (store_exec(s, s->in_tx ? "RELEASE store_op" : "COMMIT", cause) != 0) {
		if (s->in_tx)
			sqlite3_exec(s->db, "ROLLBACK TO store_op; RELEASE store_op", NULL, NULL,
			             NULL);
		else if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static void store_op_rollback(struct store *s)
{
	if (s->in_tx)
		sqlite3_exec(s->db, "ROLLBACK TO store_op; RELEASE store_op", NULL, NULL, NULL);
	else if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Creates every missing directory of path's parent, mode 0700. */
static int store_mkdir_parent(const char *path, char **cause)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;

	if (slash == NULL || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			rc = xcause(cause, "%s: cannot create directory %s: %s", path, dir,
			            strerror(errno));
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(dir);
	return rc;
}

/* One integer from a single-row query (a pragma); -1 with *cause on error. */
static int store_query_int(struct store *s, const char *sql, int64_t *out, char **cause)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Reads the header fields without writing anything, and refuses a file that is not ours. */
static int store_check_snapshot(struct store *s, int64_t *version, char **cause);

/* The reads share one snapshot (a read transaction): another process may be creating the
 * store at this moment, and a commit between two separate reads would look like a foreign
 * file (tables but no application_id yet). */
static int store_check(struct store *s, int64_t *version, char **cause)
{
	int rc;

	if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return store_check_snapshot(s, version, cause);
	rc = store_check_snapshot(s, version, cause);
	sqlite3_exec(s->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int store_check_snapshot(struct store *s, int64_t *version, char **cause)
{
	int64_t app_id = 0, tables = 0;

	if (store_query_int(s, "PRAGMA application_id", &app_id, cause) != 0) {
		int err = sqlite3_errcode(s->db);

		if (err == SQLITE_NOTADB)
			return xcause(cause, "%s: not a Gantry store (file is not a database)",
			              s->path);
		return store_fail(s, cause, "cannot read");
	}
	if (store_query_int(s, "PRAGMA user_version", version, cause) != 0 ||
	    store_query_int(s,
	                    "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' "
	                    "ESCAPE '\\'",
	                    &tables, cause) != 0)
		return store_fail(s, cause, "cannot read");
	if (app_id != STORE_APPLICATION_ID) {
		if (app_id != 0)
			return xcause(cause,
			              "%s: not a Gantry store (sqlite database of another "
			              "application, application_id 0x%08llx)",
			              s->path, (unsigned long long)(uint32_t)app_id);
		if (tables > 0 || *version != 0)
			return xcause(
			    cause, "%s: not a Gantry store (sqlite database with foreign tables)",
			    s->path);
	}
	if (*version > STORE_SCHEMA_VERSION)
		return xcause(cause,
		              "%s: written by a newer Gantry (schema %lld, this build knows %d); "
		              "refusing to open",
		              s->path, (long long)*version, STORE_SCHEMA_VERSION);
	return 0;
}

/* Applies the missing migration steps, one transaction each. Another process may migrate at
 * the same time, so the version is read again inside each transaction. */
static int store_migrate(struct store *s, int64_t version, char **cause)
{
	if (version >= STORE_SCHEMA_VERSION) {
		s->schema = (int)version;
		return 0;
	}
	for (;;) {
		int64_t v;
		char *sql;

		if (store_exec(s, "BEGIN IMMEDIATE", cause) != 0)
			return -1;
		if (store_query_int(s, "PRAGMA user_version", &v, cause) != 0) {
			store_fail(s, cause, "cannot read the schema version");
			store_op_rollback(s);
			return -1;
		}
		if (v >= STORE_SCHEMA_VERSION) {
			s->schema = (int)v;
			return store_exec(s, "COMMIT", cause);
		}
		sql = xprintf("%s;PRAGMA application_id = %d;PRAGMA user_version = %d;",
		              store_migrations[v], STORE_APPLICATION_ID, (int)v + 1);
		if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			xcause(cause, "%s: migration to schema %d failed: %s", s->path, (int)v + 1,
			       sqlite3_errmsg(s->db));
			free(sql);
			store_op_rollback(s);
			return -1;
		}
		free(sql);
		if (store_exec(s, "COMMIT", cause) != 0) {
			store_op_rollback(s);
			return -1;
		}
	}
}

#ifdef SQLITE_OPEN_NOFOLLOW
#define STORE_OPEN_NOFOLLOW SQLITE_OPEN_NOFOLLOW
#else
#define STORE_OPEN_NOFOLLOW 0
#endif

/* -1 with cause when path or one of SQLite's side files (-wal, -shm, -journal) is a symlink. */
static int store_no_links(const char *path, char **cause)
{
	const char *sfx[] = {"", "-wal", "-shm", "-journal"};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof sfx / sizeof *sfx; i++) {
		char *p = xprintf("%s%s", path, sfx[i]);

		rc = safefile_no_symlink(p, cause);
		free(p);
	}
	return rc;
}

/* A quick_check answer on one line: its "*** in database main ***" headers dropped, its
 * lines joined with "; " (heap). */
static char *store_check_line(const char *text)
{
	char *out = xmalloc(strlen(text) * 2 + 2), *o = out;

	for (const char *l = text; *l != '\0';) {
		size_t n = strcspn(l, "\n");

		if (n > 0 && strncmp(l, "***", 3) != 0) {
			if (o != out)
				o += sprintf(o, "; ");
			memcpy(o, l, n);
			o += n;
		}
		l += n + (l[n] == '\n');
	}
	*o = '\0';
	return out;
}

int store_quick_check(const char *path, char **cause)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc = -1, n = 0, step;
	char *first = NULL;

	if (store_no_links(path, cause) != 0)
		return -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | STORE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		xcause(cause, "%s: cannot open: %s", path,
		       db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) != SQLITE_OK) {
		xcause(cause, "%s: quick_check: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(st, 0);

		if (line != NULL && strcmp(line, "ok") == 0)
			continue;
		if (n++ == 0)
			first = store_check_line(line != NULL ? line : "?");
	}
	if (step != SQLITE_DONE)
		xcause(cause, "%s: quick_check: %s (the store is damaged)", path,
		       sqlite3_errmsg(db));
	else if (n > 0)
		xcause(cause, "%s is damaged (PRAGMA quick_check: %s%s): restore it from a backup",
		       path, first, n > 1 ? ", ..." : "");
	else
		rc = 0;
out:
	free(first);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc;
}

int store_open(const char *path, struct store **out, char **cause)
{
	struct store *s;
	int64_t version = 0;
	int fd;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return xcause(cause, "no store path given");
	if (store_mkdir_parent(path, cause) != 0)
		return -1;
	/* Never through a symlink (gantry.db or SQLite's side files), never truncated. */
	if (store_no_links(path, cause) != 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return xcause(cause, "%s: %s", path, strerror(errno));
	close(fd);

	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	/* The store belongs to the thread of the event loop: no per-call mutex. */
	if (sqlite3_open_v2(path, &s->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | STORE_OPEN_NOFOLLOW,
	                    NULL) != SQLITE_OK) {
		if (s->db == NULL)
			xcause(cause, "%s: cannot open the store", path);
		else
			store_fail(s, cause, "cannot open");
		store_close(s);
		return -1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
	if (store_check(s, &version, cause) != 0) {
		store_close(s);
		return -1;
	}
	if (store_wal(s, cause) != 0 || store_exec(s, "PRAGMA synchronous = NORMAL", cause) != 0 ||
	    /* read pages through a mapping: listing 10,000 jobs then needs no pread per page */
	    store_exec(s, "PRAGMA mmap_size = 268435456", cause) != 0 ||
	    store_exec(s, "PRAGMA foreign_keys = ON", cause) != 0 ||
	    store_migrate(s, version, cause) != 0) {
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->in_tx)
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

void *store_db(struct store *s)
{
	return s->db;
}

int store_schema_version(struct store *s)
{
	return s->schema;
}

int store_data_version(struct store *s, int64_t *out)
{
	sqlite3_stmt *st = store_stmt(s, ST_DATA_VERSION, NULL);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	store_done(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Runs an insert/update statement that returns no rows; -1 with *cause naming what. */
static int store_step_done(struct store *s, sqlite3_stmt *st, const char *what, char **cause)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		store_fail(s, cause, what);
		store_done(st);
		return -1;
	}
	store_done(st);
	return 0;
}

static int store_event_insert(struct store *s, const char *id, int64_t at_ms, const char *from,
                              const char *to, const char *reason, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, ST_EVENT_INSERT, cause);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, at_ms);
	store_bind_text(st, 3, from);
	store_bind_text(st, 4, to);
	store_bind_text(st, 5, reason);
	return store_step_done(s, st, "cannot record a job event", cause);
}

static int store_job_insert(struct store *s, const struct job *j, int64_t now, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, ST_JOB_INSERT, cause);
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, j->id);
	store_bind_text(st, 2, j->name);
	store_bind_text(st, 3, job_kind_name(j->kind));
	/* a launch waiting for approval is stored as such, with no intent (issue 12) */
	store_bind_text(
	    st, 4,
	    job_state_name(j->state == JOB_PENDING_APPROVAL ? JOB_PENDING_APPROVAL : JOB_PENDING));
	store_bind_text(st, 5, j->template_name);
	store_bind_text(st, 6, j->provider);
	store_bind_text(st, 7, j->owner);
	store_bind_text(st, 8, j->idem_key);
	store_bind_text(st, 9, j->params_json);
	store_bind_text(st, 10, j->spec_json);
	store_bind_text(st, 11, j->provider_ref);
	store_bind_text(st, 12, j->reason != NULL ? j->reason : "launch requested");
	store_bind_text(st, 13, j->url);
	sqlite3_bind_int(st, 14, j->port);
	sqlite3_bind_int(st, 15, j->has_exit != 0);
	sqlite3_bind_int(st, 16, j->exit_code);
	sqlite3_bind_int(st, 17, j->gpus);
	sqlite3_bind_int64(st, 18, now);
	sqlite3_bind_int64(st, 19, now);
	sqlite3_bind_int64(st, 20, 0);
	sqlite3_bind_int64(st, 21, 0);
	sqlite3_bind_int(st, 22, j->priced != 0);
	sqlite3_bind_double(st, 23, j->price_per_hour);
	sqlite3_bind_int(st, 24, j->billing_s > 0 ? j->billing_s : 1);
	store_bind_text(st, 25, j->team);
	store_bind_text(st, 26, j->project);
	store_bind_text(st, 27, j->region);
	sqlite3_bind_int(st, 28, j->ready_replicas);
	sqlite3_bind_int(st, 29, j->desired_replicas);
	sqlite3_bind_int64(st, 30, j->owner_uid);
	store_bind_text(st, 31, j->approval);
	store_bind_text(st, 32, j->decided_by);
	store_bind_text(st, 33, j->decision_reason);
	store_bind_text(st, 34, j->request_json);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return xcause(cause, "a job with id %s already exists", j->id);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return xcause(cause, "a job named %s already exists", j->name);
	return store_fail(s, cause, "cannot insert the job");
}

int store_launch_intent(struct store *s, const struct job *j, char **cause)
{
	int64_t now = j->created_ms > 0 ? j->created_ms : store_now_ms();
	sqlite3_stmt *st;

	if (j->id == NULL || *j->id == '\0' || j->name == NULL || *j->name == '\0')
		return xcause(cause, "a job needs an id and a name");
	if ((unsigned)j->kind >= JOB_KIND_COUNT)
		return xcause(cause, "job %s has an invalid kind", j->id);
	if (store_op_begin(s, cause) != 0)
		return -1;
	if (store_job_insert(s, j, now, cause) != 0)
		goto fail;
	st = store_stmt(s, ST_INTENT_INSERT, cause);
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, j->id);
	store_bind_text(st, 2, "launch");
	store_bind_text(st, 3, j->idem_key);
	sqlite3_bind_int64(st, 4, now);
	if (store_step_done(s, st, "cannot record the launch intent", cause) != 0)
		goto fail;
	if (store_event_insert(s, j->id, now, NULL, job_state_name(JOB_PENDING), "launch requested",
	                       cause) != 0)
		goto fail;
	return store_op_commit(s, cause);
fail:
	store_op_rollback(s);
	return -1;
}

int store_intent_done(struct store *s, const char *job_id, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, ST_INTENT_DONE, cause);
	int found;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, job_id);
	sqlite3_bind_int64(st, 2, store_now_ms());
	if (store_step_done(s, st, "cannot mark the launch intent done", cause) != 0)
		return -1;
	if (sqlite3_changes(s->db) > 0)
		return 0;
	/* Nothing changed: already done (fine) or no intent at all. */
	st = store_stmt(s, ST_INTENT_EXISTS, cause);
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, job_id);
	found = sqlite3_step(st) == SQLITE_ROW;
	store_done(st);
	if (!found)
		return xcause(cause, "no launch intent for job %s", job_id);
	return 0;
}

int store_intents_pending(struct store *s, char ***ids, size_t *n, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, ST_INTENTS_PENDING, cause);
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			*ids = xreallocarray(*ids, cap, sizeof **ids);
		}
		(*ids)[(*n)++] = store_col_text(st, 0);
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < *n; i++)
			free((*ids)[i]);
		free(*ids);
		*ids = NULL;
		*n = 0;
		return store_fail(s, cause, "cannot list launch intents");
	}
	return 0;
}

int store_job_transition(struct store *s, const char *id, enum job_state to, const char *reason,
                         int64_t at_ms, char **cause)
{
	sqlite3_stmt *st;
	int from, rc;

	if ((unsigned)to >= JOB_STATE_COUNT)
		return xcause(cause, "invalid target state for job %s", id);
	if (at_ms <= 0)
		at_ms = store_now_ms();
	if (store_op_begin(s, cause) != 0)
		return -1;
	st = store_stmt(s, ST_JOB_STATE, cause);
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			xcause(cause, "no job %s", id);
		else
			store_fail(s, cause, "cannot read the job state");
		store_done(st);
		goto fail;
	}
	from = job_state_parse((const char *)sqlite3_column_text(st, 0));
	if (from < 0) {
		xcause(cause, "job %s has an unknown state '%s' in %s", id,
		       (const char *)sqlite3_column_text(st, 0), s->path);
		store_done(st);
		goto fail;
	}
	store_done(st);
	if (!job_transition_valid((enum job_state)from, to)) {
		xcause(cause, "illegal transition %s -> %s for job %s",
		       job_state_name((enum job_state)from), job_state_name(to), id);
		goto fail;
	}
	st = store_stmt(s, ST_JOB_SET_STATE, cause);
	if (st == NULL)
		goto fail;
	store_bind_text(st, 1, id);
	store_bind_text(st, 2, job_state_name(to));
	store_bind_text(st, 3, reason);
	sqlite3_bind_int64(st, 4, at_ms);
	sqlite3_bind_int(st, 5, to == JOB_RUNNING);
	sqlite3_bind_int(st, 6, job_state_terminal(to));
	if (store_step_done(s, st, "cannot update the job state", cause) != 0)
		goto fail;
	if (store_event_insert(s, id, at_ms, job_state_name((enum job_state)from),
	                       job_state_name(to), reason, cause) != 0)
		goto fail;
	return store_op_commit(s, cause);
fail:
	store_op_rollback(s);
	return -1;
}

int store_job_update(struct store *s, const struct job *j, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, ST_JOB_UPDATE, cause);

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, j->id);
	store_bind_text(st, 2, j->provider_ref);
	store_bind_text(st, 3, j->url);
	sqlite3_bind_int(st, 4, j->port);
	sqlite3_bind_int(st, 5, j->has_exit != 0);
	sqlite3_bind_int(st, 6, j->exit_code);
	sqlite3_bind_int(st, 7, j->gpus);
	store_bind_text(st, 8, j->spec_json);
	sqlite3_bind_int64(st, 9, store_now_ms());
	if (store_step_done(s, st, "cannot update the job", cause) != 0)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return xcause(cause, "no job %s", j->id);
	return 0;
}

/* Fills j (initialised by the caller's job_init) from a row of STORE_JOB_COLS. */
static void store_job_from_row(sqlite3_stmt *st, struct job *j)
{
	const char *kind = (const char *)sqlite3_column_text(st, 2);
	const char *state = (const char *)sqlite3_column_text(st, 3);
	int k = job_kind_parse(kind), v = job_state_parse(state);

	job_init(j);
	j->id = store_col_text(st, 0);
	j->name = store_col_text(st, 1);
	j->kind = k < 0 ? JOB_KIND_TRAINING : (enum job_kind)k;
	j->state = v < 0 ? JOB_UNKNOWN : (enum job_state)v;
	j->template_name = store_col_text(st, 4);
	j->provider = store_col_text(st, 5);
	j->owner = store_col_text(st, 6);
	j->idem_key = store_col_text(st, 7);
	j->params_json = store_col_text(st, 8);
	j->spec_json = store_col_text(st, 9);
	j->provider_ref = store_col_text(st, 10);
	j->reason = store_col_text(st, 11);
	j->url = store_col_text(st, 12);
	j->port = sqlite3_column_int(st, 13);
	j->has_exit = sqlite3_column_int(st, 14);
	j->exit_code = sqlite3_column_int(st, 15);
	j->gpus = sqlite3_column_int(st, 16);
	j->created_ms = sqlite3_column_int64(st, 17);
	j->updated_ms = sqlite3_column_int64(st, 18);
	j->started_ms = sqlite3_column_int64(st, 19);
	j->ended_ms = sqlite3_column_int64(st, 20);
	j->priced = sqlite3_column_int(st, 21);
	j->price_per_hour = sqlite3_column_double(st, 22);
	j->billing_s = sqlite3_column_int(st, 23);
	j->team = store_col_text(st, 24);
	j->project = store_col_text(st, 25);
	j->region = store_col_text(st, 26);
	j->ready_replicas = sqlite3_column_int(st, 27);
	j->desired_replicas = sqlite3_column_int(st, 28);
	j->owner_uid = sqlite3_column_int64(st, 29);
	j->approval = store_col_text(st, 30);
	j->decided_by = store_col_text(st, 31);
	j->decision_reason = store_col_text(st, 32);
	j->request_json = store_col_text(st, 33);
}

/* Looks one job up by key with statement id: 1 found (out filled), 0 not found, -1 error. */
static int store_job_lookup(struct store *s, enum store_stmt_id id, const char *key,
                            struct job *out, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, id, cause);
	int rc;

	if (st == NULL)
		return -1;
	store_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_job_from_row(st, out);
	else if (rc != SQLITE_DONE)
		store_fail(s, cause, "cannot read jobs");
	store_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_job_get(struct store *s, const char *id, struct job *out, char **cause)
{
	int rc = store_job_lookup(s, ST_JOB_BY_ID, id, out, cause);

	if (rc == 0)
		return xcause(cause, "no job %s", id);
	return rc == 1 ? 0 : -1;
}

/* Jobs whose id starts with ref: 1 unique (out filled), 0 none, -1 error or ambiguous. */
static int store_job_by_prefix(struct store *s, const char *ref, struct job *out, char **cause)
{
	size_t len = strlen(ref);
	char *upper = xstrdup(ref);
	sqlite3_stmt *st;
	struct job first;
	char *ids = NULL;
	int n = 0, rc;

	/* Every string with prefix ref sorts in [ref, upper): ref with its last byte below
	 * 0xff incremented (and what follows it dropped). */
	while (len > 0 && (unsigned char)upper[len - 1] == 0xff)
		len--;
	if (len == 0) {
		free(upper);
		return 0;
	}
	upper[len - 1]++;
	upper[len] = '\0';
	st = store_stmt(s, ST_JOB_BY_PREFIX, cause);
	if (st == NULL) {
		free(upper);
		return -1;
	}
	store_bind_text(st, 1, ref);
	store_bind_text(st, 2, upper);
	sqlite3_bind_int(st, 3, STORE_AMBIGUOUS_SHOW + 1);
	job_init(&first);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		char *more;

		if (n == 0)
			store_job_from_row(st, &first);
		if (n < STORE_AMBIGUOUS_SHOW) {
			more =
			    xprintf("%s%s%s", ids == NULL ? "" : ids, ids == NULL ? "" : ", ", id);
			free(ids);
			ids = more;
		}
		n++;
	}
	store_done(st);
	free(upper);
	if (rc != SQLITE_DONE) {
		job_clear(&first);
		free(ids);
		return store_fail(s, cause, "cannot read jobs");
	}
	if (n > 1) {
		xcause(cause, "'%s' matches several jobs: %s%s", ref, ids,
		       n > STORE_AMBIGUOUS_SHOW ? ", …" : "");
		job_clear(&first);
		free(ids);
		return -1;
	}
	free(ids);
	if (n == 1)
		*out = first;
	return n;
}

int store_job_find(struct store *s, const char *ref, struct job *out, char **cause)
{
	int rc;

	if (ref == NULL || *ref == '\0')
		return xcause(cause, "no job given");
	rc = store_job_lookup(s, ST_JOB_BY_ID, ref, out, cause);
	if (rc == 0)
		rc = store_job_lookup(s, ST_JOB_BY_NAME, ref, out, cause);
	if (rc == 0 && strlen(ref) >= JOB_ID_MIN_PREFIX)
		rc = store_job_by_prefix(s, ref, out, cause);
	if (rc == 0 && strlen(ref) < JOB_ID_MIN_PREFIX && ref[0] == 'j' &&
	    ref[1 + strspn(ref + 1, "0123456789abcdef")] == '\0')
		return xcause(cause,
		              "no job matches '%s' (an id prefix needs at least %d characters)",
		              ref, JOB_ID_MIN_PREFIX);
	if (rc == 0)
		return xcause(cause, "no job matches '%s'", ref);
	return rc == 1 ? 0 : -1;
}

static int store_jobs_collect(struct store *s, sqlite3_stmt *st, struct job_list *out,
                              char **cause);

int store_jobs_list(struct store *s, int active_only, struct job_list *out, char **cause)
{
	out->items = NULL;
	out->n = 0;
	return store_jobs_collect(
	    s, store_stmt(s, active_only ? ST_JOBS_ACTIVE : ST_JOBS_ALL, cause), out, cause);
}

int store_jobs_list_seen(struct store *s, int active_only, int64_t uid, const char *owner,
                         const char *team, struct job_list *out, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, active_only ? ST_JOBS_SEEN_ACTIVE : ST_JOBS_SEEN, cause);

	out->items = NULL;
	out->n = 0;
	if (st != NULL) {
		sqlite3_bind_int64(st, 1, uid);
		store_bind_text(st, 2, owner);
		store_bind_text(st, 3, team);
	}
	return store_jobs_collect(s, st, out, cause);
}

static int store_jobs_collect(struct store *s, sqlite3_stmt *st, struct job_list *out, char **cause)
{
	size_t cap = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			out->items = xreallocarray(out->items, cap, sizeof *out->items);
		}
		store_job_from_row(st, &out->items[out->n++]);
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		job_list_free(out);
		return store_fail(s, cause, "cannot list jobs");
	}
	return 0;
}

int store_job_events(struct store *s, const char *id, struct job_event_list *out, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, ST_EVENTS, cause);
	size_t cap = 0;
	int rc;

	out->items = NULL;
	out->n = 0;
	if (st == NULL)
		return -1;
	store_bind_text(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct job_event *e;
		int to;
		int from;

		if (out->n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			out->items = xreallocarray(out->items, cap, sizeof *out->items);
		}
		e = &out->items[out->n++];
		to = job_state_parse((const char *)sqlite3_column_text(st, 4));
		from = job_state_parse((const char *)sqlite3_column_text(st, 3));
		e->id = sqlite3_column_int64(st, 0);
		e->job_id = store_col_text(st, 1);
		e->at_ms = sqlite3_column_int64(st, 2);
		e->to = to < 0 ? JOB_UNKNOWN : (enum job_state)to;
		/* The creation event has no from state; it reads as from == to. */
		e->from = from < 0 ? e->to : (enum job_state)from;
		e->reason = store_col_text(st, 5);
	}
	store_done(st);
	if (rc != SQLITE_DONE) {
		job_event_list_free(out);
		return store_fail(s, cause, "cannot read job events");
	}
	return 0;
}

/* n if name is "<base>-<n>" with n a positive decimal without leading zeros, else 0. */
static long store_name_suffix(const char *name, size_t baselen)
{
	const char *p = name + baselen + 1;
	char *end;
	long n;

	if (*p < '1' || *p > '9')
		return 0;
	errno = 0;
	n = strtol(p, &end, 10);
	if (*end != '\0' || errno != 0 || n <= 0)
		return 0;
	return n;
}

static int store_cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

int store_job_next_name(struct store *s, const char *base, char **out, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, ST_NAMES_LIKE, cause);
	size_t baselen = strlen(base), n = 0, cap = 0;
	char *lo = xprintf("%s-", base), *hi = xprintf("%s.", base);
	long *taken = NULL, next = 1;
	int rc;

	*out = NULL;
	if (st == NULL) {
		free(lo);
		free(hi);
		return -1;
	}
	/* "<base>-" up to, not including, "<base>." ('.' follows '-') covers every "<base>-*". */
	store_bind_text(st, 1, lo);
	store_bind_text(st, 2, hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long v = store_name_suffix((const char *)sqlite3_column_text(st, 0), baselen);

		if (v <= 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			taken = xreallocarray(taken, cap, sizeof *taken);
		}
		taken[n++] = v;
	}
	store_done(st);
	free(lo);
	free(hi);
	if (rc != SQLITE_DONE) {
		free(taken);
		return store_fail(s, cause, "cannot read job names");
	}
	if (n > 0)
		qsort(taken, n, sizeof *taken, store_cmp_long);
	for (size_t i = 0; i < n && taken[i] <= next; i++) {
		if (taken[i] == next)
			next++;
	}
	free(taken);
	*out = xprintf("%s-%ld", base, next);
	return 0;
}

int store_jobs_count(struct store *s, int64_t *out, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, ST_JOBS_COUNT, cause);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		store_fail(s, cause, "cannot count jobs");
	store_done(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_worker_set(struct store *s, const char *job_id, int idx, const char *host, int port,
                     const char *user, char **cause)
{
	sqlite3_stmt *st = store_stmt(s, ST_WORKER_SET, cause);
	int rc;

	if (st == NULL)
		return -1;
	if (host == NULL)
		return xcause(cause, "worker %d of job %s has no host", idx, job_id);
	store_bind_text(st, 1, job_id);
	sqlite3_bind_int(st, 2, idx);
	store_bind_text(st, 3, host);
	sqlite3_bind_int(st, 4, port);
	store_bind_text(st, 5, user);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return xcause(cause, "no job %s", job_id);
	return store_fail(s, cause, "cannot record the worker");
}

int store_begin(struct store *s, char **cause)
{
	if (s->in_tx)
		return xcause(cause, "%s: a transaction is already open", s->path);
	if (store_exec(s, "BEGIN IMMEDIATE", cause) != 0)
		return -1;
	s->in_tx = 1;
	return 0;
}

int store_commit(struct store *s, char **cause)
{
	if (!s->in_tx)
		return xcause(cause, "%s: no transaction is open", s->path);
	s->in_tx = 0;
	if (store_exec(s, "COMMIT", cause) != 0) {
		if (!sqlite3_get_autocommit(s->db))
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

void store_rollback(struct store *s)
{
	if (!s->in_tx)
		return;
	s->in_tx = 0;
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}
