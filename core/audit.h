/* audit.h: the tamper-evident audit log (store table `audit`, migration 8). Append-only:
 * each entry carries the hash of the one before, and its own hash is the hex SHA-256 of
 * prev_hash and the entry's canonical form (audit_canonical), so editing, deleting or
 * reordering any entry breaks the chain at that entry. No secret ever goes in an entry. */
#ifndef GANTRY_AUDIT_H
#define GANTRY_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct store;

struct audit_entry {
	int64_t seq;   /* 1, 2, 3 ... (set by audit_append) */
	int64_t at_ms; /* Unix ms, UTC (0: audit_append sets now) */
	int64_t uid;
	char *actor;   /* login name */
	char *action;  /* launch, stop, approve, deny, policy_reload, budget_change, forward,
	                  ssh, ... (docs/governance.md lists them) */
	char *target;  /* job id, provider, file; or NULL */
	char *verdict; /* allowed, refused, pending, ok, failed */
	char *reason;  /* one line, or NULL */
	char *detail;  /* a JSON object (template, provider, region, price...), or NULL */
	char *prev_hash; /* 64 hex digits */
	char *hash;      /* 64 hex digits */
};

/* The bytes hashed for e (every field but hash, in a fixed order, unambiguous). Heap. */
char *audit_canonical(const struct audit_entry *e);
/* Appends e in one transaction: seq, at_ms (when 0), prev_hash and hash are set, in e too. */
int audit_append(struct store *s, struct audit_entry *e, char **cause);
/* Entries with at_ms >= since_ms (0: all), oldest first. */
int audit_list(struct store *s, int64_t since_ms, struct audit_entry **out, size_t *n,
               char **cause);
void audit_entries_free(struct audit_entry *e, size_t n);
/* Walks the whole chain: 0 when intact (*checked entries), 1 when it breaks: *bad_seq is the
 * first entry whose seq, prev_hash or hash is wrong and *cause says how; -1 on a store
 * error. */
int audit_verify(struct store *s, size_t *checked, int64_t *bad_seq, char **cause);

#endif
