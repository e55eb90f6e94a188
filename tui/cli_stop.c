/* cli_stop.c: gantry stop JOB — TERM, then KILL after the grace period; waits for the end. */
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

struct stop_wait {
	int done, rc;
	char *cause;
};

static void stop_cb(void *arg, int rc, const char *job_id, const char *cause)
{
	struct stop_wait *w = arg;

	w->done = 1;
	w->rc = rc;
	if (cause != NULL)
		w->cause = xstrdup(cause);
}

static int stop_run(struct cli_ctx *c, int argc, char **argv)
{
	struct stop_wait w = {0};
	const char *ref = NULL;
	int wait = 1, rc = CLI_OK;
	char *cause = NULL;
	struct job j;
	uint64_t deadline;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-wait") == 0)
			wait = 0;
		else if (argv[i][0] == '-')
			return cli_fail("stop", CLI_USAGE, "unknown option '%s'", argv[i]);
		else if (ref == NULL)
			ref = argv[i];
		else
			return cli_fail("stop", CLI_USAGE, "expected one job");
	}
	if (ref == NULL)
		return cli_fail("stop", CLI_USAGE, "which job? (see: gantry ls)");
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	job_init(&j);
	if (engine_job(c->e, ref, &j, &cause) != 0) {
		rc = cli_fail("stop", CLI_NOTFOUND, "%s", cause);
		goto out;
	}
	if (!c->readonly)
		cli_settle(c->e); /* it may have ended on its own */
	if (engine_stop(c->e, j.id, stop_cb, &w, &cause) != 0) {
		rc = cli_fail("stop", CLI_FAILED, "%s", cause);
		goto out;
	}
	while (!w.done)
		loop_run_once(engine_loop(c->e), 100);
	if (w.rc != 0 && w.cause != NULL && !c->json)
		fprintf(stderr, "gantry: stop: %s\n", w.cause);
	deadline = loop_now_ms() + (uint64_t)engine_config(c->e)->stop_grace_ms + 10000;
	while (wait) {
		cli_settle(c->e);
		job_clear(&j);
		if (engine_job(c->e, ref, &j, &cause) != 0 || job_state_terminal(j.state))
			break;
		if (loop_now_ms() > deadline) {
			rc = cli_fail("stop", CLI_FAILED, "%s is still %s after the grace period",
			              j.name, job_state_name(j.state));
			goto out;
		}
		loop_run_once(engine_loop(c->e), 200);
	}
	if (c->json)
		cli_print_json(cli_job_json(c->e, &j));
	else
		printf("%s %s\n", j.name, job_state_name(j.state));
out:
	free(cause);
	free(w.cause);
	job_clear(&j);
	return rc;
}

const struct cli_cmd cli_stop_cmd = {
    .name = "stop",
    .usage = "stop JOB [--no-wait] [-o json]",
    .summary = "stop a job: SIGTERM to its process group, SIGKILL after the grace period",
    .help = "  --no-wait   return once the stop was delivered\n"
            "Stopping a job that has ended fails with exit code 1.\n",
    .run = stop_run,
};
