/* cli_audit.c: gantry audit — the audit log (core/audit.h): who did what, when, and what was
 * decided; `gantry audit verify` walks the hash chain and names the first entry where it
 * breaks. What a user sees follows engine_audit_list (admins all, others their own). Every
 * text is sanitised: a reason may carry a provider's words. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/audit.h"
#include "core/duration.h"
#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

/* --since: a duration back from now ("2h", "7d", "1h30m") or a UTC date "YYYY-MM-DD" or
 * time "YYYY-MM-DDTHH:MM[:SS][Z]". 0 or -1. */
static int audit_parse_since(const char *s, int64_t now, int64_t *out)
{
	struct tm tm;
	const char *end;
	long secs;

	if (strchr(s, '-') == NULL) {
		secs = duration_parse(s);
		if (secs < 0)
			return -1;
		*out = now - (int64_t)secs * 1000;
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end == NULL)
		return -1;
	if (*end == 'T' || *end == ' ') {
		const char *t = strptime(end + 1, "%H:%M", &tm);

		if (t == NULL)
			return -1;
		end = t;
		if (*end == ':' && (end = strptime(end + 1, "%S", &tm)) == NULL)
			return -1;
		if (*end == 'Z')
			end++;
	}
	if (*end != '\0' || tm.tm_year < 70)
		return -1;
	*out = (int64_t)timegm(&tm) * 1000;
	return 0;
}

/* One line of s for the table: no control characters, no newlines; "-" for NULL/empty. */
static char *audit_cell(const struct cli_ctx *c, const char *s)
{
	char *out;

	if (s == NULL || *s == '\0')
		return xstrdup("-");
	out = sanitize_text(s, (size_t)-1, c->ascii ? SANITIZE_ASCII : 0);
	return out;
}

static json_t *audit_entry_json(const struct audit_entry *a)
{
	char iso[40];
	time_t t = (time_t)(a->at_ms / 1000);
	struct tm tm;
	json_t *detail = NULL;
	json_t *o;

	gmtime_r(&t, &tm);
	strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (a->detail != NULL)
		detail = json_loads(a->detail, 0, NULL);
	if (detail == NULL && a->detail != NULL)
		detail = json_string(a->detail);
	o = json_pack("{s:I, s:I, s:s, s:I, s:s?, s:s?, s:s?, s:s?, s:s?, s:o?, s:s?, s:s?}", "seq",
	              (json_int_t)a->seq, "at_ms", (json_int_t)a->at_ms, "time", iso, "uid",
	              (json_int_t)a->uid, "actor", a->actor, "action", a->action, "target",
	              a->target, "verdict", a->verdict, "reason", a->reason, "detail", detail,
	              "prev_hash", a->prev_hash, "hash", a->hash);
	return o;
}

static void audit_table(const struct cli_ctx *c, const struct audit_entry *es, size_t n)
{
	printf("%-5s %-20s %-12s %-13s %-26s %-8s %s\n", "SEQ", "TIME", "ACTOR", "ACTION", "TARGET",
	       "VERDICT", "REASON");
	for (size_t i = 0; i < n; i++) {
		const struct audit_entry *a = &es[i];
		char when[32];
		char *actor = audit_cell(c, a->actor), *action = audit_cell(c, a->action);
		char *target = audit_cell(c, a->target), *verdict = audit_cell(c, a->verdict);
		char *reason = audit_cell(c, a->reason);

		cli_time(a->at_ms, when, sizeof when);
		printf("%-5lld %-20s %-12s %-13s %-26s %-8s %s\n", (long long)a->seq, when, actor,
		       action, target, verdict, reason);
		free(actor);
		free(action);
		free(target);
		free(verdict);
		free(reason);
	}
}

static int audit_verify_run(struct cli_ctx *c)
{
	size_t checked = 0;
	int64_t bad = 0;
	char *cause = NULL;
	int rc;

	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	rc = engine_audit_verify(c->e, &checked, &bad, &cause);
	if (rc < 0) {
		int code =
		    cli_fail("audit verify", CLI_ENV, "%s", cause != NULL ? cause : "failed");

		free(cause);
		return code;
	}
	if (c->json) {
		cli_print_json(json_pack("{s:I, s:b, s:I, s:s?}", "checked", (json_int_t)checked,
		                         "ok", rc == 0 && bad == 0, "bad_seq", (json_int_t)bad,
		                         "cause", cause));
	} else if (rc == 0 && bad == 0) {
		printf("audit log intact: %zu %s\n", checked, checked == 1 ? "entry" : "entries");
	} else {
		char *how = audit_cell(c, cause != NULL ? cause : "the chain is broken");

		printf("audit log broken at entry %lld: %s\n", (long long)bad, how);
		free(how);
	}
	free(cause);
	return rc == 0 && bad == 0 ? CLI_OK : CLI_FAILED;
}

static int audit_run(struct cli_ctx *c, int argc, char **argv)
{
	const char *since = NULL;
	int64_t since_ms = 0;
	struct audit_entry *es = NULL;
	size_t n = 0;
	char *cause = NULL;

	if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
		if (argc > 2)
			return cli_fail("audit verify", CLI_USAGE, "unknown argument '%s'",
			                argv[2]);
		return audit_verify_run(c);
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
			since = argv[++i];
		} else if (strncmp(argv[i], "--since=", 8) == 0) {
			since = argv[i] + 8;
		} else {
			return cli_fail("audit", CLI_USAGE, "unknown argument '%s'", argv[i]);
		}
	}
	if (since != NULL && audit_parse_since(since, loop_wall_ms(), &since_ms) != 0)
		return cli_fail("audit", CLI_USAGE,
		                "--since expects a duration (2h, 7d) or a UTC date (YYYY-MM-DD or "
		                "YYYY-MM-DDTHH:MM:SSZ), got '%s'",
		                since);
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (engine_audit_list(c->e, since_ms, &es, &n, &cause) != 0) {
		int code = cli_fail("audit", CLI_ENV, "%s", cause != NULL ? cause : "failed");

		free(cause);
		return code;
	}
	if (c->json) {
		json_t *arr = json_array();

		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, audit_entry_json(&es[i]));
		cli_print_json(arr);
	} else if (n == 0) {
		fputs(since != NULL ? "No audit entries since then.\n"
		                    : "The audit log is empty.\n",
		      stdout);
	} else {
		audit_table(c, es, n);
	}
	audit_entries_free(es, n);
	return CLI_OK;
}

const struct cli_cmd cli_audit_cmd = {
    .name = "audit",
    .usage = "audit [--since DURATION|DATE] [-o json] | audit verify [-o json]",
    .summary = "the audit log: launches, stops, approvals, sessions...; verify its chain",
    .help = "  --since D   entries of the last D (2h, 7d) or since a UTC date (YYYY-MM-DD,\n"
            "              YYYY-MM-DDTHH:MM:SSZ)\n"
            "  verify      walk the hash chain: exit 0 when intact, 1 naming the first\n"
            "              entry where it breaks\n"
            "Admins see every entry; others see their own.\n",
    .run = audit_run,
};
