/* test_audit.c: the hash-chained audit log (core/audit.c): append and verify, the canonical
 * form, the append-only triggers, tamper detection (edit, edit with a recomputed hash,
 * delete, reorder) by an attacker who drops the triggers with raw sqlite, two stores, and
 * two processes appending to one store at once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/store.h"
#include "core/xmalloc.h"

struct fixture {
	char dir[256];
	char *path;
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	const char *tmp = getenv("TMPDIR");
	char *cause = NULL;

	snprintf(f->dir, sizeof f->dir, "%s/gantry-audit-XXXXXX",
	         tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->path = xprintf("%s/store.db", f->dir);
	if (store_open(f->path, &f->s, &cause) != 0) {
		fprintf(stderr, "store_open: %s\n", cause);
		return -1;
	}
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

	if (f->s)
		store_close(f->s);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f->path);
	free(f);
	return 0;
}

static void append(struct store *s, const char *action, const char *target, const char *reason)
{
	struct audit_entry e = {.uid = 1000,
	                        .actor = "alice",
	                        .action = (char *)action,
	                        .target = (char *)target,
	                        .verdict = "allowed",
	                        .reason = (char *)reason,
	                        .detail = "{\"template\":\"notebook\",\"gpus\":1}"};
	char *cause = NULL;
	int rc = audit_append(s, &e, &cause);

	if (rc != 0)
		fail_msg("audit_append: %s", cause);
	assert_true(e.seq > 0);
	assert_true(e.at_ms > 0);
	assert_non_null(e.hash);
	assert_int_equal(strlen(e.hash), 64);
	free(e.prev_hash);
	free(e.hash);
}

static void append_n(struct store *s, int n)
{
	for (int i = 1; i <= n; i++) {
		char target[32];

		snprintf(target, sizeof target, "job-%d", i);
		append(s, i % 2 ? "launch" : "stop", target, i == 3 ? "within policy" : NULL);
	}
}

/* Raw sqlite, as an attacker with the store file: drops the append-only triggers and runs
 * sql. */
static void tamper(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db,
	                 "DROP TRIGGER IF EXISTS audit_no_update;"
	                 "DROP TRIGGER IF EXISTS audit_no_delete;",
	                 NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("tamper: %s", err);
	sqlite3_close(db);
}

static int verify(struct store *s, size_t *checked, int64_t *bad, char **cause)
{
	*cause = NULL;
	return audit_verify(s, checked, bad, cause);
}

static void test_empty_log_verifies(void **state)
{
	struct fixture *f = *state;
	size_t checked = 99;
	int64_t bad = 99;
	char *cause = NULL;

	assert_int_equal(verify(f->s, &checked, &bad, &cause), 0);
	assert_int_equal(checked, 0);
	assert_int_equal(bad, 0);
}

static void test_append_chains_and_verifies(void **state)
{
	struct fixture *f = *state;
	struct audit_entry *es = NULL;
	size_t n = 0, checked = 0;
	int64_t bad = -1;
	char *cause = NULL;

	append_n(f->s, 5);
	assert_int_equal(audit_list(f->s, 0, &es, &n, &cause), 0);
	assert_int_equal(n, 5);
	assert_string_equal(es[0].prev_hash,
	                    "0000000000000000000000000000000000000000000000000000000000000000");
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(es[i].seq, (int64_t)i + 1);
		assert_int_equal(es[i].uid, 1000);
		assert_string_equal(es[i].actor, "alice");
		assert_string_equal(es[i].verdict, "allowed");
		if (i > 0)
			assert_string_equal(es[i].prev_hash, es[i - 1].hash);
		assert_string_not_equal(es[i].hash, es[i].prev_hash);
	}
	assert_string_equal(es[2].reason, "within policy");
	assert_null(es[1].reason);
	assert_string_equal(es[4].target, "job-5");
	audit_entries_free(es, n);

	assert_int_equal(verify(f->s, &checked, &bad, &cause), 0);
	assert_int_equal(checked, 5);
	assert_int_equal(bad, 0);
}

static void test_list_since(void **state)
{
	struct fixture *f = *state;
	struct audit_entry e = {.uid = 0, .actor = "root", .action = "launch", .verdict = "ok"};
	struct audit_entry *es = NULL;
	size_t n = 0;
	char *cause = NULL;

	e.at_ms = 1000;
	assert_int_equal(audit_append(f->s, &e, &cause), 0);
	free(e.prev_hash);
	free(e.hash);
	e.prev_hash = e.hash = NULL;
	e.at_ms = 5000;
	assert_int_equal(audit_append(f->s, &e, &cause), 0);
	free(e.prev_hash);
	free(e.hash);
	assert_int_equal(audit_list(f->s, 2000, &es, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(es[0].seq, 2);
	assert_int_equal(es[0].at_ms, 5000);
	assert_null(es[0].target);
	audit_entries_free(es, n);
}

static void test_canonical_is_unambiguous(void **state)
{
	struct audit_entry a = {.seq = 1, .actor = "a", .action = "launch", .verdict = "ok"};
	struct audit_entry b = a;
	char *ca, *cb;

	(void)state;
	/* a field boundary moved: "x;" + "y" vs "x" + ";y" */
	a.target = "x;";
	a.reason = "y";
	b.target = "x";
	b.reason = ";y";
	ca = audit_canonical(&a);
	cb = audit_canonical(&b);
	assert_string_not_equal(ca, cb);
	free(ca);
	free(cb);
	/* NULL is not the empty string */
	a.target = NULL;
	b.target = "";
	a.reason = b.reason = NULL;
	ca = audit_canonical(&a);
	cb = audit_canonical(&b);
	assert_string_not_equal(ca, cb);
	free(ca);
	free(cb);
	/* every field counts, hash excluded */
	b = a;
	b.uid = 7;
	ca = audit_canonical(&a);
	cb = audit_canonical(&b);
	assert_string_not_equal(ca, cb);
	free(cb);
	b = a;
	b.hash = "ffff";
	cb = audit_canonical(&b);
	assert_string_equal(ca, cb);
	free(ca);
	free(cb);
}

static void test_triggers_refuse_update_and_delete(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = NULL;
	char *err = NULL;

	append_n(f->s, 2);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_not_equal(
	    sqlite3_exec(db, "UPDATE audit SET reason = 'x' WHERE seq = 1", NULL, NULL, &err),
	    SQLITE_OK);
	assert_non_null(strstr(err, "append-only"));
	sqlite3_free(err);
	err = NULL;
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 2", NULL, NULL, &err),
	                     SQLITE_OK);
	assert_non_null(strstr(err, "append-only"));
	sqlite3_free(err);
	sqlite3_close(db);
}

static void test_edit_detected(void **state)
{
	struct fixture *f = *state;
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;

	append_n(f->s, 5);
	tamper(f->path, "UPDATE audit SET verdict = 'refused' WHERE seq = 3");
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 1);
	assert_int_equal(bad, 3);
	assert_int_equal(checked, 2);
	assert_non_null(strstr(cause, "edited"));
	free(cause);
}

static void test_edit_of_uid_detected(void **state)
{
	struct fixture *f = *state;
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;

	append_n(f->s, 4);
	tamper(f->path, "UPDATE audit SET uid = 0 WHERE seq = 4");
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 1);
	assert_int_equal(bad, 4);
	free(cause);
}

/* The attacker edits entry 2 and stores the hash its new contents give: entry 2 looks
 * sound on its own, but entry 3's prev_hash no longer matches. */
static void test_edit_with_rehash_detected(void **state)
{
	struct fixture *f = *state;
	struct audit_entry *es = NULL;
	size_t n = 0, checked = 0;
	int64_t bad = 0;
	char *cause = NULL, *sql;
	char hash[65];
	unsigned char md[32];
	unsigned int len = 0;
	char *canon;

	append_n(f->s, 4);
	assert_int_equal(audit_list(f->s, 0, &es, &n, &cause), 0);
	free(es[1].actor);
	es[1].actor = xstrdup("mallory");
	canon = audit_canonical(&es[1]);
	{
		/* hex SHA-256(prev_hash || canonical), as core/audit.h defines */
		char *msg = xprintf("%s%s", es[1].prev_hash, canon);
		EVP_Digest(msg, strlen(msg), md, &len, EVP_sha256(), NULL);
		free(msg);
	}
	for (unsigned i = 0; i < 32; i++)
		snprintf(hash + 2 * i, 3, "%02x", md[i]);
	sql = xprintf("UPDATE audit SET actor = 'mallory', hash = '%s' WHERE seq = 2", hash);
	tamper(f->path, sql);
	free(sql);
	free(canon);
	audit_entries_free(es, n);
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 1);
	assert_int_equal(bad, 3);
	assert_non_null(strstr(cause, "previous hash"));
	free(cause);
}

static void test_delete_detected(void **state)
{
	struct fixture *f = *state;
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;

	append_n(f->s, 5);
	tamper(f->path, "DELETE FROM audit WHERE seq = 3");
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 1);
	assert_int_equal(bad, 3);
	assert_non_null(strstr(cause, "missing"));
	free(cause);
}

/* Deleting an entry and renumbering the ones after it closes the gap, not the chain. */
static void test_delete_and_renumber_detected(void **state)
{
	struct fixture *f = *state;
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;

	append_n(f->s, 5);
	tamper(f->path, "DELETE FROM audit WHERE seq = 2;"
	                "UPDATE audit SET seq = seq - 1 WHERE seq > 2;");
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 1);
	assert_int_equal(bad, 2);
	free(cause);
}

static void test_reorder_detected(void **state)
{
	struct fixture *f = *state;
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;

	append_n(f->s, 5);
	tamper(f->path, "UPDATE audit SET seq = -1 WHERE seq = 2;"
	                "UPDATE audit SET seq = 2 WHERE seq = 4;"
	                "UPDATE audit SET seq = 4 WHERE seq = -1;");
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 1);
	assert_int_equal(bad, 2);
	assert_int_equal(checked, 1);
	free(cause);
}

static void test_first_entry_forged_prev(void **state)
{
	struct fixture *f = *state;
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;

	append_n(f->s, 2);
	tamper(f->path, "UPDATE audit SET prev_hash = hash WHERE seq = 1");
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 1);
	assert_int_equal(bad, 1);
	free(cause);
}

static void test_append_inside_transaction(void **state)
{
	struct fixture *f = *state;
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;

	assert_int_equal(store_begin(f->s, &cause), 0);
	append_n(f->s, 2);
	assert_int_equal(store_commit(f->s, &cause), 0);
	append_n(f->s, 1);
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 0);
	assert_int_equal(checked, 3);
}

static void test_refuses_incomplete_entry(void **state)
{
	struct fixture *f = *state;
	struct audit_entry e = {.actor = "alice", .action = "launch"};
	char *cause = NULL;
	size_t n = 0;
	struct audit_entry *es = NULL;

	assert_int_equal(audit_append(f->s, &e, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(audit_list(f->s, 0, &es, &n, &cause), 0);
	assert_int_equal(n, 0);
	free(es);
}

static void test_two_stores_have_own_chains(void **state)
{
	struct fixture *f = *state;
	char *other = xprintf("%s/other.db", f->dir);
	struct store *s2 = NULL;
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;
	struct audit_entry *es = NULL;
	size_t n = 0;

	assert_int_equal(store_open(other, &s2, &cause), 0);
	append_n(f->s, 3);
	append_n(s2, 2);
	assert_int_equal(audit_list(s2, 0, &es, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(es[0].seq, 1);
	audit_entries_free(es, n);
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 0);
	assert_int_equal(checked, 3);
	assert_int_equal(verify(s2, &checked, &bad, &cause), 0);
	assert_int_equal(checked, 2);
	store_close(s2);
	free(other);
}

#define WRITERS    2
#define PER_WRITER 40

/* Two processes, each with its own connection, append at once: every entry lands, and the
 * chain holds (BEGIN IMMEDIATE serialises reading the last entry and inserting the next). */
static void test_two_writers(void **state)
{
	struct fixture *f = *state;
	pid_t pids[WRITERS];
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;

	store_close(f->s);
	f->s = NULL;
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			struct store *s = NULL;
			char *c = NULL;

			if (store_open(f->path, &s, &c) != 0)
				_exit(2);
			for (int i = 0; i < PER_WRITER; i++) {
				struct audit_entry e = {.uid = w,
				                        .actor = w ? "bob" : "alice",
				                        .action = "launch",
				                        .verdict = "allowed"};

				if (audit_append(s, &e, &c) != 0) {
					fprintf(stderr, "writer %d: %s\n", w, c);
					_exit(3);
				}
				free(e.prev_hash);
				free(e.hash);
			}
			store_close(s);
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int st = 0;

		assert_int_equal(waitpid(pids[w], &st, 0), pids[w]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(store_open(f->path, &f->s, &cause), 0);
	assert_int_equal(verify(f->s, &checked, &bad, &cause), 0);
	assert_int_equal(checked, WRITERS * PER_WRITER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_empty_log_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_chains_and_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_since, setup, teardown),
	    cmocka_unit_test(test_canonical_is_unambiguous),
	    cmocka_unit_test_setup_teardown(test_triggers_refuse_update_and_delete, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_edit_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_of_uid_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_edit_with_rehash_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_and_renumber_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reorder_detected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_entry_forged_prev, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_inside_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_incomplete_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_stores_have_own_chains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
