/* cli_approve.c: gantry approve JOB [--reason R], gantry deny JOB --reason R, gantry approvals
 * (issue 12): the launches waiting for an approval, and the decision on one. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

char *cli_approval_text(const struct job *j)
{
	if (j->approval == NULL)
		return NULL;
	if (j->decided_by == NULL)
		return xstrdup(j->approval);
	return j->decision_reason != NULL && *j->decision_reason != '\0'
	           ? xprintf("%s by %s: %s", j->approval, j->decided_by, j->decision_reason)
	           : xprintf("%s by %s", j->approval, j->decided_by);
}

/* JOB [--reason R]; 0, or the exit code after saying why. */
static int approve_args(const char *cmd, int argc, char **argv, const char **ref,
                        const char **reason)
{
	*ref = *reason = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reason") == 0 || strcmp(argv[i], "-r") == 0) {
			if (++i >= argc)
				return cli_fail(cmd, CLI_USAGE, "--reason needs a text");
			*reason = argv[i];
		} else if (strncmp(argv[i], "--reason=", 9) == 0) {
			*reason = argv[i] + 9;
		} else if (argv[i][0] == '-') {
			return cli_fail(cmd, CLI_USAGE, "unknown option '%s'", argv[i]);
		} else if (*ref == NULL) {
			*ref = argv[i];
		} else {
			return cli_fail(cmd, CLI_USAGE, "expected one job");
		}
	}
	if (*ref == NULL)
		return cli_fail(cmd, CLI_USAGE, "which job? (see: gantry approvals)");
	return 0;
}

/* Prints the job as it is now (one line, or -o json). */
static void approve_print(struct cli_ctx *c, const char *ref)
{
	struct job j;
	char *cause = NULL, *s, *a;

	job_init(&j);
	if (engine_job(c->e, ref, &j, &cause) != 0) {
		free(cause);
		return;
	}
	if (c->json) {
		cli_print_json(cli_job_json(c->e, &j));
	} else {
		a = cli_approval_text(&j);
		s = xprintf("%s %s  %s\n", j.name, job_state_name(j.state), a != NULL ? a : "");
		cli_puts_safe(c, stdout, s);
		free(s);
		free(a);
	}
	job_clear(&j);
}

struct approve_wait {
	int done, rc;
	char *cause;
};

static void approve_cb(void *arg, int rc, const char *job_id, const char *cause)
{
	struct approve_wait *w = arg;

	(void)job_id;
	w->done = 1;
	w->rc = rc;
	if (cause != NULL)
		w->cause = xstrdup(cause);
}

/* The exit code of a refused decision: no such job 3, anything else (not an approver, not
 * waiting, admission refused) 1. */
static int approve_code(const char *cause)
{
	return cause != NULL &&
	               (strncmp(cause, "no job", 6) == 0 || strncmp(cause, "no such job", 11) == 0)
	           ? CLI_NOTFOUND
	           : CLI_FAILED;
}

static int approve_run(struct cli_ctx *c, int argc, char **argv)
{
	struct approve_wait w = {0};
	const char *ref, *reason;
	char *cause = NULL;
	int rc = approve_args("approve", argc, argv, &ref, &reason);

	if (rc != 0)
		return rc;
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (engine_approve(c->e, ref, reason, approve_cb, &w, &cause) != 0) {
		rc = cli_fail("approve", approve_code(cause), "%s", cause);
		free(cause);
		return rc;
	}
	while (!w.done)
		loop_run_once(engine_loop(c->e), 100);
	if (w.rc != 0)
		rc = cli_fail("approve", CLI_FAILED, "approved, but the launch failed: %s",
		              w.cause != NULL ? w.cause : "no reason given");
	free(w.cause);
	approve_print(c, ref);
	return rc;
}

static int deny_run(struct cli_ctx *c, int argc, char **argv)
{
	const char *ref, *reason;
	char *cause = NULL;
	int rc = approve_args("deny", argc, argv, &ref, &reason);

	if (rc != 0)
		return rc;
	if (reason == NULL || reason[strspn(reason, " \t")] == '\0')
		return cli_fail("deny", CLI_USAGE,
		                "a denial needs --reason TEXT (the requester sees it)");
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (engine_deny(c->e, ref, reason, &cause) != 0) {
		rc = cli_fail("deny", approve_code(cause), "%s", cause);
		free(cause);
		return rc;
	}
	approve_print(c, ref);
	return CLI_OK;
}

/* "waiting for approval: $32.00/h is above ..." -> "$32.00/h is above ..." */
static const char *approvals_why(const struct job *j)
{
	static const char pre[] = "waiting for approval: ";

	if (j->reason == NULL)
		return "-";
	return strncmp(j->reason, pre, sizeof pre - 1) == 0 ? j->reason + sizeof pre - 1
	                                                    : j->reason;
}

static int approvals_run(struct cli_ctx *c, int argc, char **argv)
{
	struct job_list l = {0};
	char *cause = NULL;

	if (argc > 1)
		return cli_fail("approvals", CLI_USAGE, "unexpected argument '%s'", argv[1]);
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (engine_approvals(c->e, &l, &cause) != 0) {
		int rc = cli_fail("approvals", CLI_FAILED, "%s", cause);

		free(cause);
		return rc;
	}
	if (c->json) {
		json_t *a = json_array();

		for (size_t i = 0; i < l.n; i++)
			json_array_append_new(a, cli_job_json(c->e, &l.items[i]));
		cli_print_json(a);
	} else if (l.n == 0) {
		puts("no launch is waiting for your approval");
	} else {
		printf("%-10s %-20s %-10s %-18s %-10s %4s %9s  %s\n", "ID", "NAME", "OWNER",
		       "TEMPLATE", "PROVIDER", "GPUS", "$/H", "WHY");
		for (size_t i = 0; i < l.n; i++) {
			const struct job *j = &l.items[i];
			char id[16], price[32], *s;

			job_id_short(j->id, id, sizeof id);
			if (j->priced)
				snprintf(price, sizeof price, "%.2f", j->price_per_hour);
			else
				snprintf(price, sizeof price, "unpriced");
			s = xprintf("%-10s %-20s %-10s %-18s %-10s %4d %9s  %s\n", id, j->name,
			            j->owner != NULL ? j->owner : "-", j->template_name,
			            j->provider, j->gpus, price, approvals_why(j));
			cli_puts_safe(c, stdout, s);
			free(s);
		}
	}
	job_list_free(&l);
	return CLI_OK;
}

const struct cli_cmd cli_approve_cmd = {
    .name = "approve",
    .usage = "approve JOB [--reason TEXT] [-o json]",
    .summary = "approve a launch waiting for approval: it launches now",
    .help = "  --reason TEXT  why (the requester sees it in gantry show)\n"
            "Approvers (policy roles with approver: true) approve others' launches; admins\n"
            "their own too. The launch is checked again (policy, budgets): a refusal keeps\n"
            "it waiting and exits 1.\n",
    .run = approve_run,
};

const struct cli_cmd cli_deny_cmd = {
    .name = "deny",
    .usage = "deny JOB --reason TEXT [-o json]",
    .summary = "deny a launch waiting for approval: it ends STOPPED with the reason",
    .help = "  --reason TEXT  why (required; the requester sees \"denied by NAME: TEXT\")\n",
    .run = deny_run,
};

const struct cli_cmd cli_approvals_cmd = {
    .name = "approvals",
    .usage = "approvals [-o json]",
    .summary = "list the launches waiting for your approval",
    .help = "Shows the requester, template, provider, GPUs, $/h and why approval is needed.\n",
    .run = approvals_run,
};
