/* policy_bench.c: the policy's verdict on one launch (policy_evaluate, what engine_admit,
 * `gantry policy explain` and the launch form call), against a policy of 500 rules: 100
 * roles x (users/groups, providers, regions, gpu_types, templates globs) plus limits,
 * approval thresholds and 3 classifications; the user has 16 groups and is matched by the
 * last role, so every role's membership is scanned first, and the launch passes every rule
 * (each is looked at, each hit is recorded). The reference, in the same run, is the same
 * launch against a 1-role policy. Time per evaluation (verdict built and freed), CPU time,
 * median of RUNS runs of ITERS evaluations each. The bench checks the verdicts (allowed,
 * the role, the number of hits) and fails otherwise.
 * usage: policy_bench [ROLES]   (prints one markdown table row and the command) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/policy.h"
#include "core/xmalloc.h"

#define RUNS  21
#define ITERS 20000

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *policy_text(int roles, size_t *rules)
{
	size_t cap = 4096 + (size_t)roles * 512, len = 0;
	char *s = xmalloc(cap);

	*rules = 0;
	len += (size_t)snprintf(s + len, cap - len, "roles:\n");
	for (int r = 0; r < roles; r++) {
		len += (size_t)snprintf(s + len, cap - len,
		                        "  role%d:\n"
		                        "    groups: [team%d, dept%d]\n"
		                        "    providers: [\"fleet-%d-*\", \"lambda-*\", local]\n"
		                        "    regions: [\"eu-*\", \"us-%d-*\", \"ap-*-[0-9]\"]\n"
		                        "    gpu_types: [H100, A100, \"L4*\"]\n"
		                        "    templates: [\"train-*\", \"nb-%d-*\", serve]\n"
		                        "    max_gpus_per_job: 8\n"
		                        "    max_gpus_total: 64\n"
		                        "    max_hourly_cost: 100\n"
		                        "    approval: {above_hourly_cost: 50, above_gpus: 8}\n",
		                        r, r, r % 7, r, r, r);
		*rules += 5;
	}
	len += (size_t)snprintf(s + len, cap - len,
	                        "classifications:\n"
	                        "  pii: {regions: [\"eu-*\"]}\n"
	                        "  phi: {providers: [onprem-slurm, \"fleet-*\"]}\n"
	                        "  secret: {regions: [\"eu-*\"], providers: [\"fleet-*\"]}\n");
	(void)len;
	return s;
}

static double bench(const struct policy *p, const struct ident *who, const struct policy_launch *l,
                    const char *role, size_t *nhits, double *min)
{
	double runs[RUNS];

	for (int r = 0; r < RUNS; r++) {
		double t0 = cpu_ns();

		for (int i = 0; i < ITERS; i++) {
			struct policy_verdict v;

			policy_evaluate(p, who, l, &v);
			if (!v.allowed || v.role == NULL || strcmp(v.role, role) != 0) {
				fprintf(stderr, "policy_bench: wrong verdict: %s\n",
				        v.reason != NULL ? v.reason : "(no reason)");
				exit(1);
			}
			*nhits = v.nhits;
			policy_verdict_clear(&v);
		}
		runs[r] = (cpu_ns() - t0) / ITERS;
	}
	qsort(runs, RUNS, sizeof runs[0], cmp_double);
	*min = runs[0];
	return runs[RUNS / 2];
}

int main(int argc, char **argv)
{
	int roles = argc > 1 ? atoi(argv[1]) : 100;
	char *groups[16], last[32], *text, *cause = NULL;
	struct policy *big = NULL, *one = NULL;
	struct ident who;
	size_t rules, nbig = 0, none = 0;
	double med, mn, rmed, rmn;
	struct policy_launch l = {.template_name = "train-llm",
	                          .provider = "lambda-eu",
	                          .region = "eu-west-1",
	                          .gpu_type = "H100",
	                          .gpus = 4,
	                          .gpus_in_use = 12,
	                          .priced = 1,
	                          .hourly_cost = 32,
	                          .classification = "pii"};

	if (roles < 1 || roles > 100000) {
		fprintf(stderr, "usage: policy_bench [ROLES]\n");
		return 2;
	}
	text = policy_text(roles, &rules);
	if (policy_parse(text, strlen(text), "policy.yaml", &big, &cause) != 0) {
		fprintf(stderr, "policy_bench: %s\n", cause);
		return 1;
	}
	free(text);
	text =
	    xstrdup("roles:\n  only:\n    groups: [team0]\n    providers: [\"lambda-*\"]\n"
	            "    regions: [\"eu-*\"]\n    gpu_types: [H100]\n    templates: [\"train-*\"]\n"
	            "    max_gpus_per_job: 8\n    max_gpus_total: 64\n    max_hourly_cost: 100\n"
	            "    approval: {above_hourly_cost: 50, above_gpus: 8}\n"
	            "classifications:\n  pii: {regions: [\"eu-*\"]}\n");
	if (policy_parse(text, strlen(text), "policy.yaml", &one, &cause) != 0) {
		fprintf(stderr, "policy_bench: %s\n", cause);
		return 1;
	}
	free(text);
	/* 15 groups no role names, then the last role's */
	for (int i = 0; i < 15; i++)
		groups[i] = xprintf("other%d", i);
	snprintf(last, sizeof last, "team%d", roles - 1);
	groups[15] = last;
	memset(&who, 0, sizeof who);
	who.uid = 1000;
	who.name = "alice";
	who.groups = groups;
	who.ngroups = 16;
	{
		char role[32];

		snprintf(role, sizeof role, "role%d", roles - 1);
		med = bench(big, &who, &l, role, &nbig, &mn);
	}
	groups[15] = "team0";
	rmed = bench(one, &who, &l, "only", &none, &rmn);
	if (nbig != none) {
		fprintf(stderr, "policy_bench: %zu hits vs %zu\n", nbig, none);
		return 1;
	}
	printf("| one launch vs a policy of %zu rules (%d roles; the user's is the last; %zu "
	       "rules looked at) | **%.2f µs** CPU median (min %.2f) | a 1-role policy: %.2f µs "
	       "(min %.2f) | ≤ 100 µs |\n",
	       rules, roles, nbig, med / 1000.0, mn / 1000.0, rmed / 1000.0, rmn / 1000.0);
	printf("command: build/tests/bench/policy_bench %d\n", roles);
	for (int i = 0; i < 15; i++)
		free(groups[i]);
	policy_free(big);
	policy_free(one);
	return med / 1000.0 > 100.0 ? 1 : 0;
}
