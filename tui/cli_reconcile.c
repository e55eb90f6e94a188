/* cli_reconcile.c: gantry reconcile — settle interrupted launches and stale states. */
#include <stdlib.h>

#include "tui/cli.h"

static int reconcile_run(struct cli_ctx *c, int argc, char **argv)
{
	struct engine_reconcile_report rep;
	char *cause = NULL;

	if (argc != 1)
		return cli_fail("reconcile", CLI_USAGE, "takes no arguments");
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (engine_reconcile(c->e, &rep, &cause) != 0) {
		int rc = cli_fail("reconcile", CLI_FAILED, "%s", cause);

		free(cause);
		return rc;
	}
	if (c->json)
		printf("{\"adopted\": %d, \"failed\": %d, \"updated\": %d, \"orphans\": %d}\n",
		       rep.adopted, rep.failed, rep.updated, rep.orphans);
	else
		printf("adopted %d interrupted launch%s, failed %d that never started, updated %d "
		       "job state%s, removed %d orphan%s\n",
		       rep.adopted, rep.adopted == 1 ? "" : "es", rep.failed, rep.updated,
		       rep.updated == 1 ? "" : "s", rep.orphans, rep.orphans == 1 ? "" : "s");
	return CLI_OK;
}

const struct cli_cmd cli_reconcile_cmd = {
    .name = "reconcile",
    .usage = "reconcile [-o json]",
    .summary = "match the store with what providers hold: adopt interrupted launches, "
               "fail those that never started, remove orphans",
    .help = NULL,
    .run = reconcile_run,
};
