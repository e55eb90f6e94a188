/* cli_reconcile.c: gantry reconcile — settle interrupted launches and stale states, report
 * (or, with --terminate-orphans, destroy) this installation's orphans. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"

static int reconcile_run(struct cli_ctx *c, int argc, char **argv)
{
	struct engine_reconcile_report rep;
	unsigned flags = 0;
	char *cause = NULL;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--terminate-orphans") == 0)
			flags |= ENGINE_RECONCILE_TERMINATE_ORPHANS;
		else
			return cli_fail("reconcile", CLI_USAGE, "unknown argument '%s'", argv[i]);
	}
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (engine_reconcile(c->e, flags, &rep, &cause) != 0) {
		rc = cli_fail("reconcile", CLI_FAILED, "%s", cause);
		free(cause);
		return rc;
	}
	if (c->json) {
		json_t *o = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "adopted", rep.adopted,
		                      "failed", rep.failed, "updated", rep.updated, "orphans",
		                      rep.orphans, "orphans_failed", rep.orphans_failed, "released",
		                      rep.released, "waiting", rep.waiting);
		json_t *kept = json_array();

		for (size_t i = 0; i < rep.norphan_refs; i++)
			json_array_append_new(kept, json_string(rep.orphan_refs[i]));
		json_object_set_new(o, "orphans_kept", kept);
		json_object_set_new(o, "installation_id",
		                    json_string(engine_installation_id(c->e)));
		cli_print_json(o);
	} else {
		printf("adopted %d interrupted launch%s, failed %d that never started, updated %d "
		       "job state%s, removed %d orphan%s\n",
		       rep.adopted, rep.adopted == 1 ? "" : "es", rep.failed, rep.updated,
		       rep.updated == 1 ? "" : "s", rep.orphans, rep.orphans == 1 ? "" : "s");
		if (rep.released > 0)
			printf("released %d resource%s still held for jobs that had ended\n",
			       rep.released, rep.released == 1 ? "" : "s");
		if (rep.waiting > 0)
			printf(
			    "%d interrupted launch%s not listed by %s provider yet: kept pending "
			    "(up to %d s; reconcile again later)\n",
			    rep.waiting, rep.waiting == 1 ? "" : "es",
			    rep.waiting == 1 ? "its" : "their", ENGINE_SETTLE_GRACE_S);
		for (size_t i = 0; i < rep.norphan_refs; i++) {
			printf("orphan kept: ");
			cli_puts_safe(c, stdout, rep.orphan_refs[i]);
			printf("\n");
		}
		if (rep.norphan_refs > 0 && (flags & ENGINE_RECONCILE_TERMINATE_ORPHANS) == 0)
			printf("%zu orphan%s of this installation (no job in the store) kept; "
			       "'gantry reconcile --terminate-orphans' destroys %s\n",
			       rep.norphan_refs, rep.norphan_refs == 1 ? "" : "s",
			       rep.norphan_refs == 1 ? "it" : "them");
	}
	rc = rep.orphans_failed > 0 ? CLI_FAILED : CLI_OK;
	engine_reconcile_report_clear(&rep);
	return rc;
}

const struct cli_cmd cli_reconcile_cmd = {
    .name = "reconcile",
    .usage = "reconcile [--terminate-orphans] [-o json]",
    .summary = "match the store with what providers hold: adopt interrupted launches, "
               "fail those that never started, report orphans",
    .help = "  --terminate-orphans   destroy orphans instead of only reporting them\n"
            "An orphan is a resource (process, remote job) labelled with this store's\n"
            "installation id whose job is not in the store. Resources another store launched\n"
            "(another user or bastion sharing a remote login) and unlabelled ones from a\n"
            "Gantry before labels are never touched. Exit code 1 when an orphan could not\n"
            "be destroyed.\n",
    .run = reconcile_run,
};
