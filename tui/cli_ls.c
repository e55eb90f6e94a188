/* cli_ls.c: gantry ls — the jobs table. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

static int ls_run(struct cli_ctx *c, int argc, char **argv)
{
	struct job_list l = {0};
	int active = 0, refresh = 1;
	char *cause = NULL;
	int64_t now = loop_wall_ms();

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-a") == 0 || strcmp(argv[i], "--active") == 0)
			active = 1;
		else if (strcmp(argv[i], "--no-refresh") == 0)
			refresh = 0;
		else
			return cli_fail("ls", CLI_USAGE, "unknown argument '%s'", argv[i]);
	}
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (refresh && !c->readonly)
		cli_settle(c->e);
	if (engine_jobs(c->e, active, &l, &cause) != 0) {
		int rc = cli_fail("ls", CLI_ENV, "%s", cause);

		free(cause);
		return rc;
	}
	if (c->json) {
		/* streamed one job at a time: no tree of every job in memory */
		fputs("[", stdout);
		for (size_t i = 0; i < l.n; i++) {
			char *o = cli_job_json_text(c->e, &l.items[i]);

			fputs(i == 0 ? "\n  " : ",\n  ", stdout);
			fputs(o, stdout);
			free(o);
		}
		fputs(l.n == 0 ? "]\n" : "\n]\n", stdout);
	} else if (l.n == 0) {
		fputs("No jobs. Launch one: gantry launch hello  (templates: gantry templates)\n",
		      stdout);
	} else {
		int sw = 11; /* the STATE column: as wide as its widest label (PENDING_APPROVAL) */

		for (size_t i = 0; i < l.n; i++) {
			char state[32];
			int w = job_state_label(&l.items[i], state, sizeof state);

			if (w > sw && w < (int)sizeof state)
				sw = w;
		}
		printf("%-24s %-10s %-9s %-*s %-9s %6s  %-10s %s\n", "NAME", "ID", "KIND", sw,
		       "STATE", "PROVIDER", "AGE", "OWNER", "REASON");
		for (size_t i = 0; i < l.n; i++) {
			const struct job *j = &l.items[i];
			char age[16], id[JOB_ID_SHORT + 1], state[32];
			char *line;

			cli_age(now - j->created_ms, age, sizeof age);
			job_id_short(j->id, id, sizeof id);      /* -o json and show: the full id */
			job_state_label(j, state, sizeof state); /* "RUNNING 2/4" */
			line = xprintf("%-24s %-10s %-9s %-*s %-9s %6s  %-10s %s\n", j->name, id,
			               job_kind_name(j->kind), sw, state, j->provider, age,
			               j->owner, job_reason_shown(j) ? j->reason : "-");
			cli_puts_safe(c, stdout, line);
			free(line);
		}
	}
	job_list_free(&l);
	return CLI_OK;
}

const struct cli_cmd cli_ls_cmd = {
    .name = "ls",
    .usage = "ls [-a|--active] [--no-refresh] [-o json]",
    .summary = "list jobs, newest first (states are refreshed from the providers first)",
    .help = "  -a, --active   only jobs that have not ended\n"
            "  --no-refresh   show what the store holds without asking the providers\n",
    .run = ls_run,
};
