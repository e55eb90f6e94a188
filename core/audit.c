/* audit.c: the tamper-evident audit log on the store's `audit` table (core/audit.h).
 *
 * The canonical form of an entry is a version tag followed by every field but hash, in a
 * fixed order, each one typed and length-prefixed ("i12;" for an integer, "s5:hello;" for a
 * string, "n;" for NULL), so no two different entries encode to the same bytes (a reason
 * holding a separator cannot pass for two fields, NULL is not ""). hash = hex SHA-256 of
 * prev_hash followed by the canonical form (which holds prev_hash too).
 *
 * audit_append reads the last entry and inserts the next one in one write transaction
 * (BEGIN IMMEDIATE), so two processes appending to one store serialise and chain
 * correctly. audit_verify walks every entry in seq order and names the first one whose
 * seq, prev_hash or hash is not what the chain says it must be. */
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/audit.h"
#include "core/store.h"
#include "core/xmalloc.h"

#define AUDIT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_CANON_TAG "gantry-audit-1;"

struct audit_buf {
	char *p;
	size_t len, cap;
};

static void audit_buf_put(struct audit_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void audit_buf_int(struct audit_buf *b, int64_t v)
{
	char num[32];
	int n = snprintf(num, sizeof num, "i%lld;", (long long)v);

	audit_buf_put(b, num, (size_t)n);
}

static void audit_buf_str(struct audit_buf *b, const char *s)
{
	char num[32];
	int n;

	if (!s) {
		audit_buf_put(b, "n;", 2);
		return;
	}
	n = snprintf(num, sizeof num, "s%zu:", strlen(s));
	audit_buf_put(b, num, (size_t)n);
	audit_buf_put(b, s, strlen(s));
	audit_buf_put(b, ";", 1);
}

char *audit_canonical(const struct audit_entry *e)
{
	struct audit_buf b = {0};

	audit_buf_put(&b, AUDIT_CANON_TAG, strlen(AUDIT_CANON_TAG));
	audit_buf_int(&b, e->seq);
	audit_buf_int(&b, e->at_ms);
	audit_buf_int(&b, e->uid);
	audit_buf_str(&b, e->actor);
	audit_buf_str(&b, e->action);
	audit_buf_str(&b, e->target);
	audit_buf_str(&b, e->verdict);
	audit_buf_str(&b, e->reason);
	audit_buf_str(&b, e->detail);
	audit_buf_str(&b, e->prev_hash);
	return b.p;
}

/* Hex SHA-256 of prev_hash and the canonical form into out (65 bytes). */
static int audit_hash(const struct audit_entry *e, char out[65], char **cause)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *canon = audit_canonical(e);
	const char *prev = e->prev_hash ? e->prev_hash : "";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	         EVP_DigestUpdate(ctx, prev, strlen(prev)) == 1 &&
	         EVP_DigestUpdate(ctx, canon, strlen(canon)) == 1 &&
	         EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;

	EVP_MD_CTX_free(ctx);
	free(canon);
	if (!ok)
		return xcause(cause, "audit: SHA-256 failed");
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
	return 0;
}

static int64_t audit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int audit_fail(sqlite3 *db, sqlite3_stmt *st, char **cause, const char *what)
{
	xcause(cause, "audit log: %s: %s", what, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

static char *audit_col_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? xstrdup((const char *)t) : NULL;
}

/* The last entry's seq and hash (0 and 64 zeros for an empty log). */
static int audit_last(sqlite3 *db, int64_t *seq, char **hash, char **cause)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*seq = 0;
	*hash = NULL;
	if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", -1, &st,
	                       NULL) != SQLITE_OK)
		return audit_fail(db, st, cause, "cannot read the last entry");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		*hash = audit_col_text(st, 1);
	} else if (rc != SQLITE_DONE) {
		return audit_fail(db, st, cause, "cannot read the last entry");
	}
	sqlite3_finalize(st);
	if (!*hash)
		*hash = xstrdup(AUDIT_ZERO_HASH);
	return 0;
}

static int audit_insert(sqlite3 *db, const struct audit_entry *e, char **cause)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(
	        db,
	        "INSERT INTO audit (seq, at_ms, uid, actor, action, target, verdict, "
	        "reason, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
	        "?7, ?8, ?9, ?10, ?11)",
	        -1, &st, NULL) != SQLITE_OK)
		return audit_fail(db, st, cause, "cannot append");
	sqlite3_bind_int64(st, 1, e->seq);
	sqlite3_bind_int64(st, 2, e->at_ms);
	sqlite3_bind_int64(st, 3, e->uid);
	sqlite3_bind_text(st, 4, e->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, e->verdict, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, e->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, e->detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, e->prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, e->hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return audit_fail(db, st, cause, "cannot append");
	sqlite3_finalize(st);
	return 0;
}

int audit_append(struct store *s, struct audit_entry *e, char **cause)
{
	sqlite3 *db = store_db(s);
	/* inside a caller's transaction (store_begin): a savepoint of it; else our own
	 * BEGIN IMMEDIATE, which takes the write lock before reading the last entry */
	int nested = !sqlite3_get_autocommit(db);
	char hash[65];
	int64_t last = 0;
	char *prev = NULL;

	if (!e->actor || !e->action || !e->verdict)
		return xcause(cause, "audit log: an entry needs an actor, an action and a verdict");
	if (nested) {
		if (sqlite3_exec(db, "SAVEPOINT audit_append", NULL, NULL, NULL) != SQLITE_OK)
			return xcause(cause, "audit log: cannot append: %s", sqlite3_errmsg(db));
	} else if (store_begin(s, cause) != 0) {
		return -1;
	}
	if (audit_last(db, &last, &prev, cause) != 0)
		goto fail;
	e->seq = last + 1;
	if (e->at_ms == 0)
		e->at_ms = audit_now_ms();
	free(e->prev_hash);
	e->prev_hash = prev;
	prev = NULL;
	if (audit_hash(e, hash, cause) != 0)
		goto fail;
	free(e->hash);
	e->hash = xstrdup(hash);
	if (audit_insert(db, e, cause) != 0)
		goto fail;
	if (nested) {
		if (sqlite3_exec(db, "RELEASE audit_append", NULL, NULL, NULL) != SQLITE_OK) {
			xcause(cause, "audit log: cannot append: %s", sqlite3_errmsg(db));
			goto fail;
		}
		return 0;
	}
	return store_commit(s, cause);
fail:
	free(prev);
	if (nested)
		sqlite3_exec(db, "ROLLBACK TO audit_append; RELEASE audit_append", NULL, NULL,
		             NULL);
	else
		store_rollback(s);
	return -1;
}

static void audit_entry_clear(struct audit_entry *e)
{
	free(e->actor);
	free(e->action);
	free(e->target);
	free(e->verdict);
	free(e->reason);
	free(e->detail);
	free(e->prev_hash);
	free(e->hash);
	memset(e, 0, sizeof *e);
}

void audit_entries_free(struct audit_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		audit_entry_clear(&e[i]);
	free(e);
}

static void audit_row(sqlite3_stmt *st, struct audit_entry *e)
{
	e->seq = sqlite3_column_int64(st, 0);
	e->at_ms = sqlite3_column_int64(st, 1);
	e->uid = sqlite3_column_int64(st, 2);
	e->actor = audit_col_text(st, 3);
	e->action = audit_col_text(st, 4);
	e->target = audit_col_text(st, 5);
	e->verdict = audit_col_text(st, 6);
	e->reason = audit_col_text(st, 7);
	e->detail = audit_col_text(st, 8);
	e->prev_hash = audit_col_text(st, 9);
	e->hash = audit_col_text(st, 10);
}

#define AUDIT_COLS                                                                                 \
	"seq, at_ms, uid, actor, action, target, verdict, reason, detail, prev_hash, hash"

int audit_list(struct store *s, int64_t since_ms, struct audit_entry **out, size_t *n, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db,
	                       "SELECT " AUDIT_COLS " FROM audit WHERE at_ms >= ?1 ORDER BY seq",
	                       -1, &st, NULL) != SQLITE_OK)
		return audit_fail(db, st, cause, "cannot read");
	sqlite3_bind_int64(st, 1, since_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xreallocarray(*out, cap, sizeof **out);
		}
		memset(&(*out)[*n], 0, sizeof **out);
		audit_row(st, &(*out)[(*n)++]);
	}
	if (rc != SQLITE_DONE) {
		audit_entries_free(*out, *n);
		*out = NULL;
		*n = 0;
		return audit_fail(db, st, cause, "cannot read");
	}
	sqlite3_finalize(st);
	return 0;
}

/* Checks one entry against the chain so far: NULL when it holds, else how it breaks (heap);
 * *bad is the seq to name. */
static char *audit_check(const struct audit_entry *e, int64_t want_seq, const char *want_prev,
                         int64_t *bad, char **cause, int *err)
{
	char hash[65];

	*bad = e->seq;
	if (e->seq != want_seq) {
		*bad = want_seq;
		if (e->seq > want_seq)
			return e->seq == want_seq + 1
			           ? xprintf("entry %lld is missing (the log goes on at %lld)",
			                     (long long)want_seq, (long long)e->seq)
			           : xprintf("entries %lld to %lld are missing (the log goes on at "
			                     "%lld)",
			                     (long long)want_seq, (long long)(e->seq - 1),
			                     (long long)e->seq);
		return xprintf("entry %lld is out of order (entry %lld found there)",
		               (long long)want_seq, (long long)e->seq);
	}
	if (!e->prev_hash || strcmp(e->prev_hash, want_prev) != 0)
		return want_seq == 1 ? xprintf("the first entry does not start the chain (its "
		                               "previous hash is not zero)")
		                     : xprintf("its previous hash does not match entry %lld's hash "
		                               "(an entry before it was changed, removed or moved)",
		                               (long long)(want_seq - 1));
	if (audit_hash(e, hash, cause) != 0) {
		*err = 1;
		return NULL;
	}
	if (!e->hash || strcmp(e->hash, hash) != 0)
		return xprintf("its contents do not match its hash (the entry was edited)");
	return NULL;
}

int audit_verify(struct store *s, size_t *checked, int64_t *bad_seq, char **cause)
{
	sqlite3 *db = store_db(s);
	sqlite3_stmt *st = NULL;
	char *prev = xstrdup(AUDIT_ZERO_HASH);
	int64_t want = 1;
	int rc, err = 0;

	*checked = 0;
	*bad_seq = 0;
	/* one statement: a consistent snapshot (WAL) while writers append */
	if (sqlite3_prepare_v2(db, "SELECT " AUDIT_COLS " FROM audit ORDER BY seq", -1, &st,
	                       NULL) != SQLITE_OK) {
		free(prev);
		return audit_fail(db, st, cause, "cannot read");
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct audit_entry e = {0};
		char *how;
		int64_t bad = 0;

		audit_row(st, &e);
		how = audit_check(&e, want, prev, &bad, cause, &err);
		if (err) {
			audit_entry_clear(&e);
			sqlite3_finalize(st);
			free(prev);
			return -1;
		}
		if (how) {
			*bad_seq = bad;
			xcause(cause, "%s", how);
			free(how);
			audit_entry_clear(&e);
			sqlite3_finalize(st);
			free(prev);
			return 1;
		}
		free(prev);
		prev = e.hash;
		e.hash = NULL;
		audit_entry_clear(&e);
		(*checked)++;
		want++;
	}
	free(prev);
	if (rc != SQLITE_DONE)
		return audit_fail(db, st, cause, "cannot read");
	sqlite3_finalize(st);
	return 0;
}
