/* test_engine_replicas.c: the plan's note about service.replicas (core/engine_replicas.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/engine_internal.h"
#include "core/template.h"

static char *note(int kind, int set, int min, int max, const char *type)
{
	struct template t;

	memset(&t, 0, sizeof t);
	t.kind = (enum job_kind)kind;
	t.service.set = set;
	t.service.replicas_min = min;
	t.service.replicas_max = max;
	return engine_replicas_note(&t, type);
}

static void expect(char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
	free(got);
}

static void test_note(void **state)
{
	(void)state;
	expect(note(JOB_KIND_ENDPOINT, 1, 2, 4, "local"),
	       "local runs 1 replica; replicas.min 2 applies on kubernetes");
	expect(note(JOB_KIND_ENDPOINT, 1, 1, 3, "ssh"),
	       "ssh runs 1 replica; replicas.max 3 applies on kubernetes");
	expect(note(JOB_KIND_ENDPOINT, 1, 2, 2, "slurm"),
	       "slurm runs 1 replica; replicas.min 2 applies on kubernetes");
	expect(note(JOB_KIND_ENDPOINT, 1, 1, 1, "local"), NULL);      /* what it runs anyway */
	expect(note(JOB_KIND_ENDPOINT, 0, 0, 0, "local"), NULL);      /* no service section */
	expect(note(JOB_KIND_NOTEBOOK, 1, 2, 4, "local"), NULL);      /* not an endpoint */
	expect(note(JOB_KIND_ENDPOINT, 1, 2, 4, "kubernetes"), NULL); /* it scales there */
	expect(note(JOB_KIND_ENDPOINT, 1, 0, 3, "kubernetes"),
	       "kubernetes keeps at least 1 replica: a HorizontalPodAutoscaler cannot scale to "
	       "zero (replicas.min 0)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_note)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
