/* test_engine_policy.c: the engine's policy (core/engine_policy.c, core/engine_admit.c) on a
 * real engine over a temporary GANTRY_HOME: a broken file at open stops a serving engine
 * (gantryd) and makes an embedded one refuse every launch with the FILE:LINE:COL error; a
 * serving engine keeps the last good policy when a reload fails; engine_admit refuses with
 * ENGINE_REFUSE_POLICY and the rule, or admits with needs_approval; engine_policy_explain
 * gives the same verdict. A plain program: exit 0 when every check passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine.h"
#include "core/policy.h"
#include "core/xmalloc.h"

static int fails;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("ok - %s\n", #cond);                                                \
		} else {                                                                           \
			fails++;                                                                   \
			printf("FAIL - %s: ", #cond);                                              \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
		}                                                                                  \
	} while (0)

static char *pol;

static void write_policy(const char *text)
{
	char *tmp = xprintf("%s.new", pol);
	FILE *f = fopen(tmp, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0 || rename(tmp, pol) != 0) {
		perror(pol);
		exit(1);
	}
	free(tmp);
}

static struct engine *open_engine(int serving, char **cause)
{
	struct engine_opts o;
	struct engine *e = NULL;

	memset(&o, 0, sizeof o);
	o.no_refresh = 1;
	o.embedded = 1;
	o.serving = serving;
	o.policy_path = pol;
	*cause = NULL;
	if (engine_open(&o, &e, cause) != 0)
		return NULL;
	return e;
}

/* engine_admit on hello (local), with the refusal, reason and rule. */
static void admit(struct engine *e, struct engine_admission *a)
{
	struct engine_launch_req req;
	struct engine_plan plan;
	char *cause = NULL;

	memset(&req, 0, sizeof req);
	req.template_name = "hello";
	if (engine_plan(e, &req, &plan, &cause) != 0) {
		printf("FAIL - engine_plan: %s\n", cause);
		exit(1);
	}
	engine_admit(e, &plan, a);
	engine_plan_clear(&plan);
}

static char *approval_policy(const char *me, const char *above)
{
	return xprintf("roles:\n  ml:\n    users: [%s]\n    regions: [local]\n"
	               "    approval: {above_hourly_cost: %s}\n",
	               me, above);
}

int main(void)
{
	char dir[] = "/tmp/gantry-engpol.XXXXXX";
	const char *src = getenv("GANTRY_SRCDIR");
	struct engine_admission a;
	struct engine *e;
	const char *err;
	char *cause = NULL, *good, *cmd;
	const char *me;

	if (mkdtemp(dir) == NULL)
		return 1;
	setenv("GANTRY_HOME", dir, 1);
	cmd = xprintf("%s/system", dir);
	setenv("GANTRY_SYSTEM_DIR", cmd, 1);
	free(cmd);
	if (src != NULL && getenv("GANTRY_DATADIR") == NULL)
		setenv("GANTRY_DATADIR", src, 1);
	pol = xprintf("%s/policy.yaml", dir);
	cmd =
	    xprintf("mkdir -p '%s/config' && printf 'providers:\\n  local: {rate_cpu_hour: 6}\\n' "
	            ">'%s/config/config.yaml'",
	            dir, dir);
	if (system(cmd) != 0)
		return 1;
	free(cmd);
	{
		struct engine *probe = open_engine(0, &cause);

		if (probe == NULL) {
			printf("FAIL - engine_open: %s\n", cause);
			return 1;
		}
		me = xstrdup(engine_actor(probe)->name);
		engine_close(probe);
	}
	good = xprintf("roles:\n  ml:\n    users: [%s]\n    templates: [hello]\n", me);

	/* 1. broken at open: serving refuses to open, naming FILE:LINE:COL */
	write_policy("roles:\n  ml: {users: [x], colour: blue}\n");
	e = open_engine(1, &cause);
	CHECK(e == NULL, "a serving engine opened with a broken policy");
	cmd = xprintf("%s:2:20: unknown role setting 'colour'", pol);
	CHECK(cause != NULL && strstr(cause, cmd) != NULL, "cause: %s", cause ? cause : "(null)");
	free(cause);

	/* 2. broken at open: embedded opens and refuses every launch with the error */
	e = open_engine(0, &cause);
	CHECK(e != NULL, "embedded did not open: %s", cause ? cause : "");
	if (e == NULL)
		return 1;
	CHECK(engine_policy(e, &err) == NULL && err != NULL && strstr(err, cmd) != NULL,
	      "error: %s", err ? err : "(null)");
	admit(e, &a);
	CHECK(a.refusal == ENGINE_REFUSE_POLICY && a.reason != NULL && strstr(a.reason, cmd),
	      "refusal %d: %s", a.refusal, a.reason ? a.reason : "(null)");
	engine_admission_clear(&a);
	/* fixed: reloaded, admitted */
	write_policy(good);
	CHECK(engine_policy_reload(e, &cause) == 0, "reload: %s", cause ? cause : "");
	CHECK(engine_policy(e, &err) != NULL && err == NULL, "policy not in use");
	admit(e, &a);
	CHECK(a.refusal == ENGINE_ADMIT_OK && !a.needs_approval, "refusal %d: %s", a.refusal,
	      a.reason ? a.reason : "");
	engine_admission_clear(&a);
	/* broken again: embedded refuses even with a good one before */
	write_policy("roles: [\n");
	CHECK(engine_policy_reload(e, &cause) != 0, "a broken reload succeeded");
	free(cause);
	cause = NULL;
	admit(e, &a);
	CHECK(a.refusal == ENGINE_REFUSE_POLICY, "embedded launched with a broken file");
	engine_admission_clear(&a);
	engine_close(e);

	/* 3. serving: a broken reload keeps the last good policy */
	write_policy(good);
	e = open_engine(1, &cause);
	CHECK(e != NULL, "serving did not open: %s", cause ? cause : "");
	if (e == NULL)
		return 1;
	write_policy("roles:\n  ml: {users: [x], max_gpus_total: -2}\n");
	CHECK(engine_policy_reload(e, &cause) != 0, "a broken reload succeeded");
	free(cause);
	cause = NULL;
	CHECK(engine_policy(e, &err) != NULL && err != NULL && strstr(err, ":2:36:"),
	      "last good not kept, or no error: %s", err ? err : "(null)");
	admit(e, &a);
	CHECK(a.refusal == ENGINE_ADMIT_OK, "the last good policy does not apply: %s",
	      a.reason ? a.reason : "");
	engine_admission_clear(&a);

	/* 4. the rule that refuses, and approvals (strictly above the threshold) */
	write_policy("roles:\n  ml: {users: [x]}\n");
	CHECK(engine_policy_reload(e, &cause) == 0, "reload: %s", cause ? cause : "");
	admit(e, &a);
	CHECK(a.refusal == ENGINE_REFUSE_POLICY && a.policy_rule != NULL &&
	          strcmp(a.policy_rule, "roles") == 0 && strstr(a.reason, "no role in"),
	      "%s", a.reason ? a.reason : "(null)");
	engine_admission_clear(&a);
	{ /* local at $6/h (config.yaml): strictly above $5 waits, $6 does not */
		char *p6 = approval_policy(me, "6"), *p5 = approval_policy(me, "5");

		write_policy(p6);
		CHECK(engine_policy_reload(e, &cause) == 0, "reload: %s", cause ? cause : "");
		admit(e, &a);
		CHECK(a.refusal == ENGINE_ADMIT_OK && !a.needs_approval,
		      "$6/h is not above $6/h: %s", a.approval_reason ? a.approval_reason : "");
		engine_admission_clear(&a);
		write_policy(p5);
		CHECK(engine_policy_reload(e, &cause) == 0, "reload: %s", cause ? cause : "");
		admit(e, &a);
		CHECK(a.refusal == ENGINE_ADMIT_OK && a.needs_approval && a.approval_reason &&
		          strstr(a.approval_reason, "$6.00/h is above "
		                                    "roles.ml.approval.above_hourly_cost $5.00/h"),
		      "%s", a.approval_reason ? a.approval_reason : "(null)");
		engine_admission_clear(&a);
		free(p6);
		free(p5);
	}
	{
		char *pr = xprintf("roles:\n  ml:\n    users: [%s]\n    regions: [\"eu-*\"]\n", me);
		struct engine_launch_req req;
		struct engine_plan plan;
		struct policy_verdict v;

		write_policy(pr);
		free(pr);
		CHECK(engine_policy_reload(e, &cause) == 0, "reload: %s", cause ? cause : "");
		admit(e, &a);
		CHECK(a.refusal == ENGINE_REFUSE_POLICY && a.policy_rule != NULL &&
		          strcmp(a.policy_rule, "roles.ml.regions") == 0 &&
		          strstr(a.reason, "region local is not in [eu-*]") &&
		          strstr(a.reason, "allowed providers: none for this template"),
		      "%s", a.reason ? a.reason : "(null)");
		engine_admission_clear(&a);
		memset(&req, 0, sizeof req);
		req.template_name = "hello";
		CHECK(engine_plan(e, &req, &plan, &cause) == 0, "plan");
		CHECK(engine_policy_explain(e, &plan, &v, &cause) == 0 && !v.allowed &&
		          v.rule != NULL && strcmp(v.rule, "roles.ml.regions") == 0 &&
		          v.nhits == 2 && v.role != NULL && strcmp(v.role, "ml") == 0,
		      "explain");
		policy_verdict_clear(&v);
		engine_plan_clear(&plan);
	}
	engine_close(e);
	free(cmd);
	free(good);
	free((char *)me);
	cmd = xprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fails++;
	free(cmd);
	free(pol);
	printf("# %d failed\n", fails);
	return fails > 0;
}
