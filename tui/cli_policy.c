/* cli_policy.c: gantry policy check [FILE] — validates a policy file (default: the one the
 * engine reads, SYSTEM_DIR/policy.yaml): exit 0 when valid (or absent), 1 with its
 * FILE:LINE:COL error. gantry policy explain TEMPLATE [--set k=v]... [-p PROVIDER] — the
 * verdict of the policy on that launch for you, the role applied, then every rule looked at
 * with where it is written and whether it allowed: exit 0 allowed (approval or not), 1
 * refused. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/policy.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

static int policy_check(struct cli_ctx *c, int argc, char **argv)
{
	struct policy *p = NULL;
	struct config cfg;
	char *path = NULL, *cause = NULL;
	int rc;

	if (argc > 1)
		return cli_fail("policy", CLI_USAGE, "unexpected argument '%s'", argv[1]);
	if (argc == 1) {
		path = xstrdup(argv[0]);
	} else {
		memset(&cfg, 0, sizeof cfg);
		if (config_load(&cfg, &cause) != 0) {
			rc = cli_fail("policy", CLI_ENV, "%s", cause);
			free(cause);
			return rc;
		}
		path = xprintf("%s/policy.yaml", cfg.system_dir);
		config_free(&cfg);
	}
	if (policy_load(path, &p, &cause) != 0) {
		rc = cli_fail("policy", CLI_FAILED, "%s", cause);
	} else if (p == NULL && argc == 1) {
		rc = cli_fail("policy", CLI_FAILED, "%s: no such file", path);
	} else if (p == NULL) {
		if (c->json) {
			cli_print_json(
			    json_pack("{s:s, s:b, s:b}", "path", path, "valid", 1, "present", 0));
		} else {
			printf("%s: no policy file: every launch is allowed\n", path);
		}
		rc = CLI_OK;
	} else {
		if (c->json)
			cli_print_json(
			    json_pack("{s:s, s:b, s:b}", "path", path, "valid", 1, "present", 1));
		else
			printf("%s: valid\n", path);
		rc = CLI_OK;
	}
	policy_free(p);
	free(cause);
	free(path);
	return rc;
}

static void policy_print_verdict(struct cli_ctx *c, const struct policy_verdict *v)
{
	if (c->json) {
		json_t *o = json_object(), *hits = json_array();

		json_object_set_new(o, "allowed", json_boolean(v->allowed));
		json_object_set_new(o, "needs_approval", json_boolean(v->needs_approval));
		json_object_set_new(o, "role",
		                    v->role != NULL ? json_string(v->role) : json_null());
		json_object_set_new(o, "reason",
		                    v->reason != NULL ? json_string(v->reason) : json_null());
		json_object_set_new(o, "rule",
		                    v->rule != NULL ? json_string(v->rule) : json_null());
		for (size_t i = 0; i < v->nhits; i++)
			json_array_append_new(
			    hits, json_pack("{s:s, s:s, s:s, s:b}", "rule", v->hits[i].rule,
			                    "where", v->hits[i].where, "text", v->hits[i].text,
			                    "allow", v->hits[i].allow));
		json_object_set_new(o, "hits", hits);
		cli_print_json(o);
		return;
	}
	printf("verdict:  %s\n", !v->allowed         ? "refused"
	                         : v->needs_approval ? "needs approval"
	                                             : "allowed");
	printf("role:     %s\n", v->role != NULL ? v->role : "(none)");
	if (v->reason != NULL) {
		fputs("reason:   ", stdout);
		cli_puts_safe(c, stdout, v->reason);
		fputc('\n', stdout);
	}
	if (v->nhits == 0) {
		puts("rules:    none (no policy file: every launch is allowed)");
		return;
	}
	puts("rules:");
	for (size_t i = 0; i < v->nhits; i++) {
		char *line = xprintf("  %-5s %s  %s  %s", v->hits[i].allow ? "allow" : "DENY",
		                     v->hits[i].rule, v->hits[i].where, v->hits[i].text);

		cli_puts_safe(c, stdout, line);
		fputc('\n', stdout);
		free(line);
	}
}

static int policy_explain(struct cli_ctx *c, int argc, char **argv)
{
	struct engine_launch_req req;
	struct engine_plan plan;
	struct policy_verdict v;
	const char **sets = xcalloc((size_t)argc + 1, sizeof *sets);
	char *cause = NULL;
	int rc;

	memset(&req, 0, sizeof req);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--set") == 0 || strcmp(a, "-s") == 0 || strcmp(a, "-p") == 0 ||
		    strcmp(a, "--provider") == 0) {
			if (++i >= argc) {
				rc = cli_fail("policy", CLI_USAGE, "%s needs a value", a);
				goto out;
			}
			if (a[1] == 'p' || a[2] == 'p')
				req.provider = argv[i];
			else
				sets[req.nsets++] = argv[i];
		} else if (strncmp(a, "--set=", 6) == 0) {
			sets[req.nsets++] = a + 6;
		} else if (a[0] == '-') {
			rc = cli_fail("policy", CLI_USAGE, "unknown option '%s'", a);
			goto out;
		} else if (req.template_name == NULL) {
			req.template_name = a;
		} else {
			rc = cli_fail("policy", CLI_USAGE, "unexpected argument '%s'", a);
			goto out;
		}
	}
	if (req.template_name == NULL) {
		rc = cli_fail("policy", CLI_USAGE,
		              "explain which template? (see: gantry templates)");
		goto out;
	}
	req.sets = sets;
	if ((rc = cli_plan(c, "policy", &req, &plan)) != CLI_OK)
		goto out;
	if (engine_policy_explain(c->e, &plan, &v, &cause) != 0) {
		rc = cli_fail("policy", CLI_FAILED, "%s", cause);
	} else {
		if (!c->json) {
			printf("template: %s\nprovider: %s%s%s\n", plan.template_name,
			       plan.provider, plan.region != NULL ? " " : "",
			       plan.region != NULL ? plan.region : "");
		}
		policy_print_verdict(c, &v);
		rc = v.allowed ? CLI_OK : CLI_FAILED;
		policy_verdict_clear(&v);
	}
	engine_plan_clear(&plan);
out:
	free(cause);
	free(sets);
	return rc;
}

static int policy_run(struct cli_ctx *c, int argc, char **argv)
{
	if (argc < 2)
		return cli_fail("policy", CLI_USAGE,
		                "policy check [FILE] | policy explain TEMPLATE");
	if (strcmp(argv[1], "check") == 0)
		return policy_check(c, argc - 2, argv + 2);
	if (strcmp(argv[1], "explain") == 0)
		return policy_explain(c, argc - 2, argv + 2);
	return cli_fail("policy", CLI_USAGE, "unknown subcommand '%s' (check, explain)", argv[1]);
}

const struct cli_cmd cli_policy_cmd = {
    .name = "policy",
    .usage = "policy check [FILE] | policy explain TEMPLATE [--set k=v]... [-p PROVIDER] "
             "[-o json]",
    .summary = "validate the policy file, or explain its verdict on a launch",
    .help = "  check [FILE]   validate FILE (default SYSTEM_DIR/policy.yaml): exit 0 valid,\n"
            "                 1 with FILE:LINE:COL: reason\n"
            "  explain TEMPLATE  the verdict for you (allowed, needs approval, refused),\n"
            "                 your role, and every rule looked at with where it is written;\n"
            "                 exit 0 allowed, 1 refused\n"
            "  --set k=v      set a template parameter (repeatable)\n"
            "  -p, --provider P  explain a launch on provider P\n",
    .run = policy_run,
};
