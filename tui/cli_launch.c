/* cli_launch.c: gantry launch TEMPLATE — plan, launch, and follow the job until it runs. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

struct launch_wait {
	int done;
	int rc;
	char *cause;
};

static void launch_cb(void *arg, int rc, const char *job_id, const char *cause)
{
	struct launch_wait *w = arg;

	w->done = 1;
	w->rc = rc;
	if (cause != NULL)
		w->cause = xstrdup(cause);
}

/* The exit code of a refused launch: a budget is an action that failed (1); the rest are
 * inputs that cannot launch as given (2). The dry run and the launch share it. */
static int launch_refusal_code(enum engine_refusal r)
{
	switch (r) {
	case ENGINE_ADMIT_OK:
		return CLI_OK;
	case ENGINE_REFUSE_BUDGET:
		return CLI_FAILED;
	default:
		return CLI_USAGE;
	}
}

static const char *launch_budget_word(enum cost_verdict v)
{
	return v == COST_HARD ? "over a hard limit" : v == COST_SOFT ? "warning" : "ok";
}

/* "price", "expected", "budget" and "verdict" lines of the dry run (text). */
static void launch_print_money(struct cli_ctx *c, const struct engine_plan *p,
                               const struct engine_admission *a)
{
	char price[32], cost[32], *s;

	if (p->offer.priced) {
		cost_money(p->offer.price_per_hour, price);
		cost_money(a->expected_cost, cost);
		if (p->max_runtime_s > 0) {
			char dur[16];

			cli_age(p->max_runtime_s * 1000, dur, sizeof dur);
			s = xprintf("price:     %s/h\nexpected:  %s at most (max_runtime %s)\n",
			            price, cost, dur);
		} else {
			s = xprintf("price:     %s/h\nexpected:  %s per hour (no max_runtime)\n",
			            price, cost);
		}
	} else {
		s = xprintf("price:     unpriced (no price known for this provider)\nexpected:  "
		            "unknown (unpriced)\n");
	}
	cli_puts_safe(c, stdout, s);
	free(s);
	if (a->budget_reason != NULL)
		s = xprintf("budget:    %s: %s\n", launch_budget_word(a->budget), a->budget_reason);
	else
		s = xprintf("budget:    %s\n", "no budget applies");
	cli_puts_safe(c, stdout, s);
	free(s);
	if (a->refusal == ENGINE_ADMIT_OK && a->needs_approval) /* issue 12: policy */
		s = xprintf("verdict:   would wait for approval: %s\n",
		            a->approval_reason != NULL ? a->approval_reason : "policy");
	else if (a->refusal == ENGINE_ADMIT_OK)
		s = xprintf("verdict:   would launch\n");
	else
		s = xprintf("verdict:   refused: %s\n", a->reason);
	cli_puts_safe(c, stdout, s);
	free(s);
}

static void launch_print_plan(struct cli_ctx *c, const struct engine_plan *p,
                              const struct engine_admission *a)
{
	char *s;

	if (c->json) {
		json_t *o = json_object(), *params = json_object(), *env = json_object();

		for (size_t i = 0; i < p->params.n; i++)
			json_object_set_new(params, p->params.keys[i],
			                    json_string(p->params.vals[i]));
		for (size_t i = 0; i < p->env.n; i++)
			json_object_set_new(env, p->env.keys[i], json_string(p->env.vals[i]));
		json_object_set_new(o, "template", json_string(p->template_name));
		json_object_set_new(o, "provider", json_string(p->provider));
		json_object_set_new(o, "accelerators", json_string(p->accels));
		json_object_set_new(o, "gpus", json_integer(p->gpus));
		json_object_set_new(o, "port", json_boolean(p->want_port));
		json_object_set_new(o, "fits", json_boolean(p->offer.fits));
		json_object_set_new(o, "offer",
		                    p->offer.description ? json_string(p->offer.description)
		                                         : json_null());
		json_object_set_new(o, "reason",
		                    p->offer.reason ? json_string(p->offer.reason) : json_null());
		json_object_set_new(o, "priced", json_boolean(p->offer.priced));
		json_object_set_new(o, "price_per_hour",
		                    p->offer.priced ? json_real(p->offer.price_per_hour)
		                                    : json_null());
		json_object_set_new(o, "max_runtime_s",
		                    p->max_runtime_s > 0 ? json_integer(p->max_runtime_s)
		                                         : json_null());
		json_object_set_new(o, "expected_cost",
		                    p->offer.priced ? json_real(a->expected_cost) : json_null());
		json_object_set_new(o, "expected_cost_per",
		                    json_string(p->max_runtime_s > 0 ? "max_runtime" : "hour"));
		json_object_set_new(o, "budget",
		                    json_string(a->budget == COST_HARD   ? "hard"
		                                : a->budget == COST_SOFT ? "soft"
		                                                         : "ok"));
		json_object_set_new(o, "budget_reason",
		                    a->budget_reason != NULL ? json_string(a->budget_reason)
		                                             : json_null());
		json_object_set_new(o, "admitted", json_boolean(a->refusal == ENGINE_ADMIT_OK));
		json_object_set_new(o, "refused",
		                    a->reason != NULL ? json_string(a->reason) : json_null());
		json_object_set_new(o, "needs_approval", json_boolean(a->needs_approval));
		json_object_set_new(o, "approval_reason",
		                    a->approval_reason != NULL ? json_string(a->approval_reason)
		                                               : json_null());
		json_object_set_new(o, "policy_rule",
		                    a->policy_rule != NULL ? json_string(a->policy_rule)
		                                           : json_null());
		json_object_set_new(o, "note",
		                    p->note != NULL ? json_string(p->note) : json_null());
		json_object_set_new(o, "params", params);
		json_object_set_new(o, "env", env);
		json_object_set_new(o, "script", json_string(p->script));
		cli_print_json(o);
		return;
	}
	s = xprintf("template:  %s\nprovider:  %s (%s)\nfits:      %s%s%s\nGPUs:      %s\n"
	            "port:      %s\n",
	            p->template_name, p->provider,
	            p->offer.description != NULL ? p->offer.description : "-",
	            p->offer.fits ? "yes" : "no", p->offer.reason != NULL ? " — " : "",
	            p->offer.reason != NULL ? p->offer.reason : "", p->accels,
	            p->want_port ? "a free port, passed as $GANTRY_PORT" : "none");
	cli_puts_safe(c, stdout, s);
	free(s);
	if (p->note != NULL) {
		s = xprintf("note:      %s\n", p->note);
		cli_puts_safe(c, stdout, s);
		free(s);
	}
	launch_print_money(c, p, a);
	fputs("params:\n", stdout);
	for (size_t i = 0; i < p->params.n; i++) {
		s = xprintf("  %s=%s\n", p->params.keys[i], p->params.vals[i]);
		cli_puts_safe(c, stdout, s);
		free(s);
	}
	fputs("script:\n", stdout);
	cli_puts_safe(c, stdout, p->script);
}

/* Waits until the job is RUNNING (or ended; with until_end, until it ended). */
static int launch_follow(struct cli_ctx *c, const char *id, int until_end, int timeout_s,
                         struct job *out)
{
	enum job_state last = JOB_PENDING;
	uint64_t deadline = loop_now_ms() + (uint64_t)timeout_s * 1000;
	char *cause = NULL;

	for (;;) {
		cli_settle(c->e);
		job_clear(out);
		if (engine_job(c->e, id, out, &cause) != 0) {
			cli_fail("launch", CLI_FAILED, "%s", cause);
			free(cause);
			return -1;
		}
		if (out->state != last && !c->json) {
			fprintf(stderr, "  %s\n", job_state_name(out->state));
			last = out->state;
		}
		if (job_state_terminal(out->state) || (!until_end && out->state == JOB_RUNNING))
			return 0;
		if (loop_now_ms() > deadline)
			return 1;
		loop_run_once(engine_loop(c->e), 200);
	}
}

static int launch_run(struct cli_ctx *c, int argc, char **argv)
{
	struct engine_launch_req req;
	struct engine_plan plan;
	struct launch_wait w = {0};
	const char **sets = xcalloc((size_t)argc, sizeof *sets);
	int dry = 0, detach = 0, until_end = 0, timeout_s = 600, rc = CLI_OK;
	int refused = CLI_OK; /* the admission's exit code when it refuses (issue 12) */
	char *cause = NULL, *id = NULL;
	struct job j;

	memset(&req, 0, sizeof req);
	job_init(&j);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--set") == 0 || strcmp(a, "-s") == 0) {
			if (++i >= argc) {
				rc = cli_fail("launch", CLI_USAGE, "%s needs k=v", a);
				goto out;
			}
			sets[req.nsets++] = argv[i];
		} else if (strncmp(a, "--set=", 6) == 0) {
			sets[req.nsets++] = a + 6;
		} else if ((strcmp(a, "--provider") == 0 || strcmp(a, "--name") == 0 ||
		            strcmp(a, "--timeout") == 0)) {
			if (++i >= argc) {
				rc = cli_fail("launch", CLI_USAGE, "%s needs a value", a);
				goto out;
			}
			if (a[2] == 'p')
				req.provider = argv[i];
			else if (a[2] == 'n')
				req.name = argv[i];
			else if ((timeout_s = atoi(argv[i])) <= 0) {
				rc = cli_fail("launch", CLI_USAGE, "--timeout expects seconds > 0");
				goto out;
			}
		} else if (strcmp(a, "--max-runtime") == 0) {
			if (++i >= argc ||
			    (req.max_runtime_s = engine_duration_parse(argv[i])) <= 0) {
				rc = cli_fail("launch", CLI_USAGE,
				              "--max-runtime expects a duration such as 90s, 30m, "
				              "2h or 1h30m");
				goto out;
			}
		} else if (strcmp(a, "--dry-run") == 0) {
			dry = 1;
		} else if (strcmp(a, "--detach") == 0) {
			detach = 1;
		} else if (strcmp(a, "--wait") == 0) {
			until_end = 1;
		} else if (a[0] == '-') {
			rc = cli_fail("launch", CLI_USAGE, "unknown option '%s'", a);
			goto out;
		} else if (req.template_name == NULL) {
			req.template_name = a;
		} else {
			rc = cli_fail("launch", CLI_USAGE, "unexpected argument '%s'", a);
			goto out;
		}
	}
	if (req.template_name == NULL) {
		rc = cli_fail("launch", CLI_USAGE, "which template? (see: gantry templates)");
		goto out;
	}
	req.sets = sets;
	if ((rc = cli_plan(c, "launch", &req, &plan)) != CLI_OK)
		goto out;
	/* Admission (fit, price cap, hard budgets): the dry run exits as the launch would; a
	 * soft budget warns and the launch goes on. The engine checks again as it launches. */
	{
		struct engine_admission adm;

		engine_admit(c->e, &plan, &adm);
		if (dry)
			launch_print_plan(c, &plan, &adm);
		if (adm.refusal != ENGINE_ADMIT_OK && !dry) /* issue 12: engine_launch refuses */
			refused = launch_refusal_code(adm.refusal); /* it again, and audits that */
		else if (adm.refusal != ENGINE_ADMIT_OK)
			rc = cli_fail("launch", launch_refusal_code(adm.refusal), "%s%s",
			              dry ? "would be refused: " : "", adm.reason);
		else if (adm.budget == COST_SOFT && adm.budget_reason != NULL)
			cli_fail("launch", CLI_OK, "budget warning: %s", adm.budget_reason);
		engine_admission_clear(&adm);
		if (!dry && rc == CLI_OK && refused == CLI_OK &&
		    plan.note != NULL) /* what the provider does differently */
			cli_fail("launch", CLI_OK, "note: %s", plan.note);
		if (dry || rc != CLI_OK) {
			engine_plan_clear(&plan);
			goto out;
		}
	}
	engine_plan_clear(&plan);
	if (engine_launch(c->e, &req, &id, launch_cb, &w, &cause) != 0) {
		rc = cli_fail("launch",
		              id != NULL          ? CLI_FAILED
		              : refused != CLI_OK ? refused
		                                  : CLI_USAGE,
		              "%s", cause);
		goto out;
	}
	while (!w.done)
		loop_run_once(engine_loop(c->e), 100);
	if (engine_job(c->e, id, &j, &cause) == 0 && !c->json && j.state != JOB_PENDING_APPROVAL)
		fprintf(stderr, "launched %s (%s) on %s\n", j.name, j.id, j.provider);
	if (w.rc != 0) {
		rc = cli_fail("launch", CLI_FAILED, "%s",
		              w.cause != NULL ? w.cause : "launch failed");
		goto out;
	}
	if (j.state == JOB_PENDING_APPROVAL) { /* issue 12: nothing runs until approved */
		if (!c->json)
			fprintf(stderr, "gantry: launch: %s is %s; it starts once approved\n",
			        j.name, j.reason != NULL ? j.reason : "waiting for approval");
	} else if (!detach) {
		int r = launch_follow(c, id, until_end, timeout_s, &j);

		if (r < 0) {
			rc = CLI_FAILED;
			goto out;
		}
		if (r > 0) {
			fprintf(stderr,
			        "gantry: launch: still %s after %d s; it keeps going (gantry show "
			        "%s)\n",
			        job_state_name(j.state), timeout_s, j.name);
			rc = CLI_TIMEOUT; /* waiting gave up: never success */
		}
	}
	if (c->json) {
		cli_print_json(cli_job_json(c->e, &j));
	} else {
		json_t *o = cli_job_json(c->e, &j);
		json_t *url = json_object_get(o, "url");
		char *s = xprintf("%s %s%s%s\n", j.name, job_state_name(j.state),
		                  json_is_string(url) ? "  " : "",
		                  json_is_string(url) ? json_string_value(url) : "");

		cli_puts_safe(c, stdout, s);
		free(s);
		json_decref(o);
	}
	if (j.state == JOB_FAILED) {
		rc = cli_fail("launch", CLI_FAILED, "%s failed: %s", j.name,
		              j.reason != NULL ? j.reason : "no reason recorded");
	}
out:
	free(w.cause);
	free(cause);
	free(id);
	free(sets);
	job_clear(&j);
	return rc;
}

const struct cli_cmd cli_launch_cmd = {
    .name = "launch",
    .usage = "launch TEMPLATE [--set k=v]... [--provider P] [--name N] [--max-runtime D] "
             "[--dry-run] "
             "[--detach | --wait] [-o json]",
    .summary = "launch a job from a template and wait until it runs",
    .help = "  --set k=v      set a template parameter (repeatable); see 'gantry templates NAME'\n"
            "  --provider P   run on provider P (default: the template's placement, else local)\n"
            "  --name N       job name (default TEMPLATE-N)\n"
            "  --max-runtime D  stop the job after D (90s, 30m, 2h, 1h30m); at most the\n"
            "                 template's limits.max_runtime; price and budget checks use it\n"
            "  --dry-run      show what would run (provider, fit, price, expected cost, budget\n"
            "                 verdict, params, script), create nothing, and exit with the\n"
            "                 code the launch would (0, 1 over a hard budget, 2 refused)\n"
            "  --detach       return as soon as the provider has the job\n"
            "  --wait         wait until the job ends; exit 1 if it failed\n"
            "  --timeout S    give up waiting after S seconds (default 600); the job goes on,\n"
            "                 and launch exits 5\n",
    .run = launch_run,
};
