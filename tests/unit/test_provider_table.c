/* test_provider_table.c: the table of provider types (providers/provider.c): every row is
 * complete, lookups and the "known" list come from it, exactly one type has local workers,
 * the man page's PROVIDERS section carries every summary, and the offer helpers keep what
 * a plan needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/xmalloc.h"
#include "providers/provider.h"

static void test_rows(void **state)
{
	int local = 0;

	(void)state;
	assert_true(provider_ntypes >= 2);
	for (size_t i = 0; i < provider_ntypes; i++) {
		const struct provider_ops *o = provider_types[i];

		assert_non_null(o->name);
		assert_non_null(o->summary);
		assert_true(strlen(o->summary) > 10);
		assert_null(strchr(o->summary, '\n'));
		assert_non_null(o->open);
		assert_non_null(o->close);
		assert_non_null(o->launch);
		assert_non_null(o->refresh);
		assert_non_null(o->offers);
		assert_ptr_equal(provider_type(o->name), o);
		local += o->local_workers;
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(provider_types[k]->name, o->name);
	}
	assert_int_equal(local, 1);
	assert_ptr_equal(provider_type("local"), &local_provider_ops);
	assert_null(provider_type("lambdaa"));
	assert_null(provider_type(NULL));
}

static void test_names(void **state)
{
	char *all = provider_type_names(0), *remote = provider_type_names(1);

	(void)state;
	assert_non_null(strstr(all, "local"));
	assert_non_null(strstr(all, "ssh"));
	assert_null(strstr(remote, "local"));
	assert_non_null(strstr(remote, "ssh"));
	assert_string_equal(strncmp(remote, ", ", 2) == 0 ? "leading comma" : "ok", "ok");
	free(all);
	free(remote);
}

/* The man page lists every type with its summary (docs/gantry.1, PROVIDERS). */
static void test_man_page(void **state)
{
	const char *src = getenv("GANTRY_SRCDIR");
	char *path, *text;
	FILE *f;
	long n;

	(void)state;
	if (src == NULL)
		src = ".";
	path = xprintf("%s/docs/gantry.1", src);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot read %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = xmalloc((size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	for (size_t i = 0; i < provider_ntypes; i++) {
		char *row =
		    xprintf(".B %s\n%s\n", provider_types[i]->name, provider_types[i]->summary);

		if (strstr(text, row) == NULL)
			fail_msg("%s lacks the row of type %s: %s", path, provider_types[i]->name,
			         provider_types[i]->summary);
		free(row);
	}
	free(text);
	free(path);
}

static void take_first(void *arg, int rc, struct offer_list *l, const char *cause)
{
	struct offer_verdict *po = arg;

	(void)cause;
	assert_int_equal(rc, 0);
	assert_int_equal(l->n, 1);
	assert_string_equal(l->v[0].region, "");
	assert_string_equal(l->v[0].instance_type, "gpu1");
	assert_int_equal(l->v[0].source, CATALOG_SRC_SITE);
	assert_int_equal(l->v[0].avail, OFFER_AVAIL_NO);
	offer_verdict_from(po, &l->v[0]);
}

static void test_offer_round_trip(void **state)
{
	struct offer_verdict in = {0}, out = {0};

	(void)state;
	in.provider = xstrdup("fleet");
	in.description = xstrdup("ssh fleet: 1 host");
	in.fits = 0;
	in.reason = xstrdup("needs 8 GPUs");
	in.gpus = 8;
	in.gpu_name = xstrdup("H100");
	in.priced = 1;
	in.price_per_hour = 16.5;
	provider_offers_answer_one(&in, "gpu1", take_first, &out);
	assert_string_equal(out.provider, "fleet");
	assert_string_equal(out.description, "ssh fleet: 1 host");
	assert_int_equal(out.fits, 0);
	assert_string_equal(out.reason, "needs 8 GPUs");
	assert_int_equal(out.gpus, 8);
	assert_string_equal(out.gpu_name, "H100");
	assert_int_equal(out.priced, 1);
	assert_true(out.price_per_hour == 16.5);
	offer_verdict_clear(&in);
	offer_verdict_clear(&out);
}

static void test_offer_list_memory(void **state)
{
	struct offer_list a = {0}, b = {0};
	struct offer o = {0};

	(void)state;
	o.provider = (char *)"p";
	o.region = (char *)"r";
	for (int i = 0; i < 5; i++)
		offer_list_add(&a, &o);
	offer_list_add(&b, &o);
	offer_list_take(&b, &a);
	assert_int_equal(a.n, 0);
	assert_int_equal(b.n, 6);
	assert_string_equal(b.v[5].region, "r");
	assert_ptr_not_equal(b.v[5].region, o.region);
	offer_list_free(&a);
	offer_list_free(&b);
	assert_null(b.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_man_page),
	    cmocka_unit_test(test_offer_round_trip),
	    cmocka_unit_test(test_offer_list_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
