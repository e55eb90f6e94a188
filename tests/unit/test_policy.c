/* test_policy.c: policy.yaml parsing against the corpus in tests/data/policy (every good file
 * loads; every bad file fails at the LINE:COL its first line names: "# expect: L:C text")
 * and the evaluation of launches: allow/deny with the deciding rule, data classification vs
 * regions and providers, approval thresholds (strictly above), users with no role. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/policy.h"
#include "core/xmalloc.h"

static char *testdata(void)
{
	const char *env = getenv("GANTRY_TESTDATA");
	const char *file = __FILE__, *suffix = "tests/unit/test_policy.c";
	size_t len = strlen(file), slen = strlen(suffix);

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	if (len > slen && strcmp(file + len - slen, suffix) == 0)
		return xprintf("%.*s/tests/data", (int)(len - slen - 1), file);
	return xstrdup("tests/data");
}

static int is_yaml(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".yaml") == 0;
}

static void test_good_corpus(void **state)
{
	char *td = testdata(), *dir = xprintf("%s/policy/good", td);
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *path, *cause = NULL;
		struct policy *p = NULL;

		if (!is_yaml(de->d_name))
			continue;
		path = xprintf("%s/%s", dir, de->d_name);
		if (policy_load(path, &p, &cause) != 0)
			fail_msg("%s: %s", de->d_name, cause);
		assert_non_null(p);
		assert_string_equal(policy_path(p), path);
		policy_free(p);
		free(path);
		n++;
	}
	closedir(d);
	assert_true(n >= 4);
	free(dir);
	free(td);
}

static void test_bad_corpus(void **state)
{
	char *td = testdata(), *dir = xprintf("%s/policy/bad", td);
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char *path, *cause = NULL, line[256], *want, *text;
		struct policy *p = NULL;
		FILE *f;
		int l = 0, c = 0, off = 0;

		if (!is_yaml(de->d_name))
			continue;
		path = xprintf("%s/%s", dir, de->d_name);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof line, f));
		fclose(f);
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "# expect: %d:%d %n", &l, &c, &off) != 2)
			fail_msg("%s: no '# expect: L:C text' first line", de->d_name);
		text = line + off;
		if (policy_load(path, &p, &cause) == 0)
			fail_msg("%s: loaded, expected an error at %d:%d", de->d_name, l, c);
		assert_null(p);
		want = xprintf("%s:%d:%d: ", path, l, c);
		if (strncmp(cause, want, strlen(want)) != 0 || strstr(cause, text) == NULL)
			fail_msg("%s: got '%s', want '%s...%s'", de->d_name, cause, want, text);
		assert_null(strchr(cause, '\n'));
		free(want);
		free(cause);
		free(path);
		n++;
	}
	closedir(d);
	assert_true(n >= 15);
	free(dir);
	free(td);
}

static void test_missing_file(void **state)
{
	struct policy *p = (struct policy *)1;
	char *cause = NULL;

	(void)state;
	assert_int_equal(policy_load("/nonexistent/gantry/policy.yaml", &p, &cause), 0);
	assert_null(p);
	assert_null(cause);
}

static const char POLICY[] = "roles:\n"                                                    /* 1 */
                             "  admin: {users: [root], groups: [g-admins], admin: true}\n" /* 2 */
                             "  ml:\n"                                                     /* 3 */
                             "    groups: [ml]\n"                                          /* 4 */
                             "    providers: [local, \"fleet*\", lambda]\n"                /* 5 */
                             "    regions: [\"eu-*\", local, \"us-*\"]\n"                  /* 6 */
                             "    gpu_types: [H100, A100]\n"                               /* 7 */
                             "    templates: [\"train-*\", notebook]\n"                    /* 8 */
                             "    max_gpus_per_job: 8\n"                                   /* 9 */
                             "    max_gpus_total: 12\n"                                    /* 10 */
                             "    max_hourly_cost: 40\n"                                   /* 11 */
                             "    see: team\n"                                             /* 12 */
                             "    approval: {above_hourly_cost: 20, above_gpus: 4}\n"      /* 13 */
                             "  guest: {templates: [notebook], max_gpus_per_job: 0}\n"     /* 14 */
                             "approvers: [admin]\n"                                        /* 15 */
                             "teams: {vision: [vision], mlteam: [ml]}\n"                   /* 16 */
                             "classifications:\n"                                          /* 17 */
                             "  pii: {regions: [\"eu-*\"]}\n"                              /* 18 */
                             "  phi: {providers: [onprem-slurm]}\n"                        /* 19 */
                             "budgets:\n"                                                  /* 20 */
                             "  - {scope: team, name: mlteam, monthly: 1000}\n";           /* 21 */

static struct policy *load(const char *text)
{
	struct policy *p = NULL;
	char *cause = NULL;

	if (policy_parse(text, strlen(text), "/etc/gantry/policy.yaml", &p, &cause) != 0)
		fail_msg("%s", cause);
	assert_non_null(p);
	return p;
}

static struct ident alice(void)
{
	static char *groups[] = {"alice", "ml"};
	struct ident id = {
	    .uid = 1001, .gid = 1001, .name = "alice", .groups = groups, .ngroups = 2};
	return id;
}

static struct policy_launch ok_launch(void)
{
	struct policy_launch l = {.template_name = "train-llm",
	                          .provider = "fleet-eu",
	                          .region = "eu-west-1",
	                          .gpu_type = "H100",
	                          .gpus = 2,
	                          .gpus_in_use = 2,
	                          .priced = 1,
	                          .hourly_cost = 10};
	return l;
}

static void assert_refused(const struct policy *p, const struct ident *who,
                           const struct policy_launch *l, const char *rule, const char *where,
                           const char *text)
{
	struct policy_verdict v;

	policy_evaluate(p, who, l, &v);
	assert_false(v.allowed);
	assert_false(v.needs_approval);
	assert_non_null(v.rule);
	assert_string_equal(v.rule, rule);
	if (strncmp(v.reason, where, strlen(where)) != 0 || strstr(v.reason, rule) == NULL ||
	    strstr(v.reason, text) == NULL)
		fail_msg("reason '%s' lacks '%s' / '%s' / '%s'", v.reason, where, rule, text);
	policy_verdict_clear(&v);
}

static void test_allowed(void **state)
{
	struct policy *p = load(POLICY);
	struct ident a = alice();
	struct policy_launch l = ok_launch();
	struct policy_verdict v;

	(void)state;
	policy_evaluate(p, &a, &l, &v);
	assert_true(v.allowed);
	assert_false(v.needs_approval);
	assert_string_equal(v.role, "ml");
	assert_null(v.rule);
	assert_true(v.nhits >= 8);
	for (size_t i = 0; i < v.nhits; i++)
		assert_true(v.hits[i].allow);
	assert_string_equal(v.hits[0].rule, "roles");
	policy_verdict_clear(&v);
	/* no policy: everything is allowed, no hits */
	policy_evaluate(NULL, &a, &l, &v);
	assert_true(v.allowed);
	assert_int_equal(v.nhits, 0);
	policy_verdict_clear(&v);
	policy_free(p);
}

static void test_refusals(void **state)
{
	struct policy *p = load(POLICY);
	struct ident a = alice();
	struct policy_launch l;

	(void)state;
	l = ok_launch();
	l.region = "ap-south-1";
	assert_refused(p, &a, &l, "roles.ml.regions", "/etc/gantry/policy.yaml:6:5",
	               "region ap-south-1 is not in [eu-*, local, us-*]; allowed: eu-*");
	l = ok_launch();
	l.provider = "k8s-prod";
	assert_refused(p, &a, &l, "roles.ml.providers", "/etc/gantry/policy.yaml:5:5",
	               "provider k8s-prod is not in");
	l = ok_launch();
	l.template_name = "serve-llm";
	assert_refused(p, &a, &l, "roles.ml.templates", "/etc/gantry/policy.yaml:8:5",
	               "template serve-llm");
	l = ok_launch();
	l.gpu_type = "T4";
	assert_refused(p, &a, &l, "roles.ml.gpu_types", "/etc/gantry/policy.yaml:7:5",
	               "GPU type T4");
	l = ok_launch();
	l.gpus = 9;
	assert_refused(p, &a, &l, "roles.ml.max_gpus_per_job", "/etc/gantry/policy.yaml:9:5",
	               "at most 8 GPUs");
	l = ok_launch();
	l.gpus = 4;
	l.gpus_in_use = 9;
	assert_refused(p, &a, &l, "roles.ml.max_gpus_total", "/etc/gantry/policy.yaml:10:5",
	               "13 GPUs exceed the limit of 12");
	l = ok_launch();
	l.hourly_cost = 40.01;
	assert_refused(p, &a, &l, "roles.ml.max_hourly_cost", "/etc/gantry/policy.yaml:11:5",
	               "$40.01/h is above the limit $40.00/h; allowed: at most $40.00/h");
	policy_free(p);
}

static void test_classification(void **state)
{
	struct policy *p = load(POLICY);
	struct ident a = alice();
	struct policy_launch l = ok_launch();
	struct policy_verdict v;

	(void)state;
	l.classification = "pii";
	policy_evaluate(p, &a, &l, &v); /* eu-west-1 is in eu-* */
	assert_true(v.allowed);
	policy_verdict_clear(&v);
	l.region = "us-east-1"; /* the role allows us-*, pii does not */
	assert_refused(p, &a, &l, "classifications.pii.regions", "/etc/gantry/policy.yaml:18:9",
	               "region us-east-1 is not in [eu-*]");
	l = ok_launch();
	l.classification = "phi";
	assert_refused(p, &a, &l, "classifications.phi.providers", "/etc/gantry/policy.yaml:19:9",
	               "allowed: onprem-slurm");
	/* public and internal: unrestricted unless listed */
	l.classification = "public";
	l.region = "us-east-1";
	policy_evaluate(p, &a, &l, &v);
	assert_true(v.allowed);
	policy_verdict_clear(&v);
	policy_free(p);
}

static void test_approval(void **state)
{
	struct policy *p = load(POLICY);
	struct ident a = alice();
	struct policy_launch l = ok_launch();
	struct policy_verdict v;

	(void)state;
	l.hourly_cost = 20; /* at the threshold: no approval (strictly above) */
	l.gpus = 4;
	policy_evaluate(p, &a, &l, &v);
	assert_true(v.allowed);
	assert_false(v.needs_approval);
	policy_verdict_clear(&v);
	l.hourly_cost = 32;
	policy_evaluate(p, &a, &l, &v);
	assert_true(v.allowed);
	assert_true(v.needs_approval);
	assert_non_null(
	    strstr(v.reason, "$32.00/h is above roles.ml.approval.above_hourly_cost $20.00/h"));
	policy_verdict_clear(&v);
	l.hourly_cost = 10;
	l.gpus = 5;
	policy_evaluate(p, &a, &l, &v);
	assert_true(v.needs_approval);
	assert_non_null(strstr(v.reason, "roles.ml.approval.above_gpus"));
	policy_verdict_clear(&v);
	/* refused beats approval */
	l.gpus = 9;
	policy_evaluate(p, &a, &l, &v);
	assert_false(v.allowed);
	assert_false(v.needs_approval);
	policy_verdict_clear(&v);
	policy_free(p);
}

static void test_roles(void **state)
{
	struct policy *p = load(POLICY);
	char *mg[] = {"mallory"}, *cg[] = {"carol", "g-admins"};
	struct ident m = {.uid = 1005, .name = "mallory", .groups = mg, .ngroups = 1};
	struct ident c = {.uid = 1003, .name = "carol", .groups = cg, .ngroups = 2};
	struct ident a = alice();
	struct policy_launch l = ok_launch();
	struct policy_verdict v;
	size_t nb;
	char *team;

	(void)state;
	assert_refused(p, &m, &l, "roles", "/etc/gantry/policy.yaml",
	               "no role in /etc/gantry/policy.yaml for user mallory (groups: mallory)");
	assert_null(policy_role(p, &m));
	assert_string_equal(policy_role(p, &c), "admin");
	assert_true(policy_is_admin(p, &c));
	assert_true(policy_is_approver(p, &c));
	assert_false(policy_is_admin(p, &a));
	assert_false(policy_is_approver(p, &a));
	assert_int_equal(policy_sees(p, &a), POLICY_SEE_TEAM);
	assert_int_equal(policy_sees(p, &c), POLICY_SEE_ALL);
	team = policy_team(p, &a);
	assert_string_equal(team, "mlteam");
	free(team);
	assert_null(policy_team(p, &m));
	assert_int_equal(policy_budgets(p, &nb)->monthly, 1000);
	assert_int_equal(nb, 1);
	policy_free(p);
	/* default_role */
	p = load("roles:\n  guest: {templates: [notebook]}\ndefault_role: guest\n");
	l.template_name = "notebook";
	policy_evaluate(p, &m, &l, &v);
	assert_true(v.allowed);
	assert_string_equal(v.role, "guest");
	policy_verdict_clear(&v);
	policy_free(p);
	/* an empty policy has no roles: everyone is refused */
	p = load("");
	policy_evaluate(p, &a, &l, &v);
	assert_false(v.allowed);
	policy_verdict_clear(&v);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_corpus),  cmocka_unit_test(test_bad_corpus),
	    cmocka_unit_test(test_missing_file), cmocka_unit_test(test_allowed),
	    cmocka_unit_test(test_refusals),     cmocka_unit_test(test_classification),
	    cmocka_unit_test(test_approval),     cmocka_unit_test(test_roles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
