/* test_k8s_api.c: the Kubernetes API as Gantry reads and writes it (providers/k8s_api*.c,
 * k8s_kubeconfig.c, k8s_prom.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/xmalloc.h"
#include "providers/k8s_api.h"

static void test_names(void **state)
{
	char *s;

	(void)state;
	s = k8s_api_object_name("j0123456789abcdef", 1);
	assert_string_equal(s, "gantry-j0123456789abcdef-1");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
