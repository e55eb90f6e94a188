/* test_offers.c: the optimizer (core/offers.c): every reason an offer is dropped, the ranking
 * and its tie-breaks, spot prefer against only, unpriced offers with and without a price cap,
 * the list helpers, and prices from live, catalog and site rates (core/offers_price.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/catalog.h"
#include "core/offers.h"
#include "core/template.h"
#include "core/xmalloc.h"

static struct template *tpl(const char *text)
{
	struct template *t = template_load_text("t.yaml", text, strlen(text), TPL_LAYER_USER);

	assert_non_null(t);
	if (t->error != NULL)
		fail_msg("template: %s", t->error);
	return t;
}

#define TPL_HEAD "name: t\nkind: training\nrun: echo hi\n"

/* Adds one offer; price < 0 = unpriced. */
static void add(struct offer_list *l, const char *prov, const char *region, const char *type,
                const char *gpu, int gpus, enum offer_market m, double price, enum offer_avail a)
{
	struct offer o;

	memset(&o, 0, sizeof o);
	o.provider = (char *)prov;
	o.region = (char *)region;
	o.instance_type = (char *)type;
	o.gpu_type = (char *)gpu;
	o.gpus = gpus;
	o.cpus = 8;
	o.memory_mib = 65536;
	o.market = m;
	o.priced = price >= 0;
	o.usd_per_hour = price >= 0 ? price : 0;
	o.source = price >= 0 ? CATALOG_SRC_CATALOG : CATALOG_SRC_NONE;
	o.avail = a;
	offer_list_add(l, &o);
}

/* The offer of l with this instance type. */
static const struct offer *find(const struct offer_list *l, const char *type)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].instance_type, type) == 0)
			return &l->v[i];
	fail_msg("no offer %s", type);
	return NULL;
}

static void assert_dropped(const struct offer_list *l, const char *type, const char *reason)
{
	const struct offer *o = find(l, type);

	if (reason == NULL) {
		if (o->dropped != NULL)
			fail_msg("%s dropped: %s", type, o->dropped);
		return;
	}
	assert_non_null(o->dropped);
	assert_string_equal(o->dropped, reason);
}

static void assert_order(const struct offer_list *l, const char *const *types, size_t n)
{
	assert_true(l->n >= n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(l->v[i].instance_type, types[i]) != 0)
			fail_msg("position %zu: %s, expected %s", i, l->v[i].instance_type,
			         types[i]);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(offer_market_name(OFFER_ONDEMAND), "on-demand");
	assert_string_equal(offer_market_name(OFFER_SPOT), "spot");
	assert_string_equal(offer_billing_name(OFFER_BILL_SECOND), "second");
	assert_string_equal(offer_billing_name(OFFER_BILL_MINUTE), "minute");
	assert_string_equal(offer_billing_name(OFFER_BILL_HOUR), "hour");
	assert_string_equal(offer_avail_name(OFFER_AVAIL_YES), "yes");
	assert_string_equal(offer_avail_name(OFFER_AVAIL_NO), "no");
	assert_string_equal(offer_avail_name(OFFER_AVAIL_UNKNOWN), "unknown");
}

static void test_list(void **state)
{
	struct offer_list a = {0}, b = {0};
	char desc[] = "d";

	(void)state;
	for (int i = 0; i < 20; i++)
		add(&a, "p", "r", "t", "H100", 1, OFFER_ONDEMAND, i, OFFER_AVAIL_YES);
	a.v[3].description = xstrdup(desc);
	add(&b, "q", "", "u", "", 0, OFFER_ONDEMAND, -1, OFFER_AVAIL_UNKNOWN);
	/* copies: the caller's strings stay the caller's */
	assert_ptr_not_equal(a.v[0].provider, (void *)"p");
	offer_list_take(&b, &a);
	assert_int_equal(a.n, 0);
	assert_int_equal(b.n, 21);
	assert_string_equal(b.v[0].provider, "q");
	assert_string_equal(b.v[4].description, "d");
	assert_true(b.v[20].usd_per_hour == 19);
	offer_list_take(&b, &a); /* empty: nothing moves */
	assert_int_equal(b.n, 21);
	offer_clear(&b.v[0]);
	assert_null(b.v[0].provider);
	offer_list_free(&a);
	offer_list_free(&b);
	assert_null(b.v);
	assert_int_equal(b.n, 0);
}

static void test_empty(void **state)
{
	struct offer_list l = {0};
	struct template *t = tpl(TPL_HEAD);

	(void)state;
	assert_int_equal(offers_rank(&l, t, NULL), 0);
	assert_int_equal(offers_rank(NULL, t, NULL), 0);
	template_free(t);
}

/* Cheapest first; same price: available before unknown, then provider, region, type. */
static void test_order_and_ties(void **state)
{
	struct offer_list l = {0};
	struct template *t = tpl(TPL_HEAD);
	/* a-yes: available first at $2; then the unknown ones by provider (b before z) */
	static const char *const want[] = {"cheap",  "a-yes", "b-r1", "b-r2-a",
	                                   "b-r2-b", "a-unk", "dear", "unpriced"};

	(void)state;
	add(&l, "z", "", "unpriced", "", 0, OFFER_ONDEMAND, -1, OFFER_AVAIL_YES);
	add(&l, "z", "r", "dear", "", 0, OFFER_ONDEMAND, 9, OFFER_AVAIL_YES);
	add(&l, "b", "r2", "b-r2-b", "", 0, OFFER_ONDEMAND, 2, OFFER_AVAIL_UNKNOWN);
	add(&l, "b", "r2", "b-r2-a", "", 0, OFFER_ONDEMAND, 2, OFFER_AVAIL_UNKNOWN);
	add(&l, "b", "r1", "b-r1", "", 0, OFFER_ONDEMAND, 2, OFFER_AVAIL_UNKNOWN);
	add(&l, "z", "", "a-unk", "", 0, OFFER_ONDEMAND, 2, OFFER_AVAIL_UNKNOWN);
	add(&l, "z", "", "a-yes", "", 0, OFFER_ONDEMAND, 2, OFFER_AVAIL_YES);
	add(&l, "z", "", "cheap", "", 0, OFFER_ONDEMAND, 0.5, OFFER_AVAIL_UNKNOWN);
	assert_int_equal(offers_rank(&l, t, NULL), 8);
	assert_order(&l, want, 8);
	for (size_t i = 0; i < l.n; i++)
		assert_null(l.v[i].dropped);
	/* ranking again gives the same order (deterministic) */
	assert_int_equal(offers_rank(&l, t, NULL), 8);
	assert_order(&l, want, 8);
	offer_list_free(&l);
	template_free(t);
}

/* The same offers in any input order come out in the same order. */
static void test_deterministic(void **state)
{
	struct template *t = tpl(TPL_HEAD "resources: {accelerators: [H100:1]}\n");
	struct offer_list a = {0}, b = {0};

	(void)state;
	for (int i = 0; i < 200; i++) {
		char type[32];

		snprintf(type, sizeof type, "t%03d", (i * 37) % 200);
		add(&a, i % 3 ? "p" : "q", i % 2 ? "r1" : "r2", type, i % 5 ? "H100" : "A10", 1,
		    OFFER_ONDEMAND, (i * 7) % 11, i % 4 ? OFFER_AVAIL_YES : OFFER_AVAIL_UNKNOWN);
	}
	for (size_t i = a.n; i-- > 0;)
		offer_list_add(&b, &a.v[i]);
	assert_int_equal(offers_rank(&a, t, NULL), offers_rank(&b, t, NULL));
	for (size_t i = 0; i < a.n; i++) {
		assert_string_equal(a.v[i].instance_type, b.v[i].instance_type);
		assert_string_equal(a.v[i].provider, b.v[i].provider);
		assert_string_equal(a.v[i].region, b.v[i].region);
	}
	offer_list_free(&a);
	offer_list_free(&b);
	template_free(t);
}

static void test_placement(void **state)
{
	struct template *t = tpl(TPL_HEAD "placement: {providers: [lambda, site], regions: "
	                                  "[us-*, eu-west-1]}\n");
	struct offer_list l = {0};

	(void)state;
	add(&l, "lambda", "us-east-1", "in-us", "", 0, OFFER_ONDEMAND, 3, OFFER_AVAIL_YES);
	add(&l, "lambda", "eu-west-1", "in-eu", "", 0, OFFER_ONDEMAND, 2, OFFER_AVAIL_YES);
	add(&l, "lambda", "eu-west-2", "out-eu", "", 0, OFFER_ONDEMAND, 1, OFFER_AVAIL_YES);
	add(&l, "lambda", "asia-1", "out-asia", "", 0, OFFER_ONDEMAND, 1, OFFER_AVAIL_YES);
	add(&l, "aws", "us-east-1", "other-prov", "", 0, OFFER_ONDEMAND, 1, OFFER_AVAIL_YES);
	add(&l, "site", "", "no-region", "", 0, OFFER_ONDEMAND, 4, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, t, NULL), 3);
	assert_dropped(&l, "in-us", NULL);
	assert_dropped(&l, "in-eu", NULL);
	assert_dropped(&l, "no-region", NULL);
	assert_dropped(&l, "out-eu", "region eu-west-2 not in placement.regions");
	assert_dropped(&l, "out-asia", "region asia-1 not in placement.regions");
	assert_dropped(&l, "other-prov", "provider not in placement.providers");
	{
		static const char *const want[] = {"in-eu", "in-us", "no-region"};

		assert_order(&l, want, 3);
	}
	offer_list_free(&l);
	template_free(t);
}

static void test_only_provider(void **state)
{
	struct template *t = tpl(TPL_HEAD);
	struct offer_list l = {0};
	struct offers_limits lim = {0};

	(void)state;
	lim.only_provider = "b";
	add(&l, "a", "", "from-a", "", 0, OFFER_ONDEMAND, 1, OFFER_AVAIL_YES);
	add(&l, "b", "", "from-b", "", 0, OFFER_ONDEMAND, 2, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, t, &lim), 1);
	assert_string_equal(l.v[0].instance_type, "from-b");
	assert_dropped(&l, "from-a", "not the provider asked for (b)");
	offer_list_free(&l);
	template_free(t);
}

static void test_gpu(void **state)
{
	struct template *t = tpl(TPL_HEAD "resources: {accelerators: [H100:8, A100:4]}\n");
	struct offer_list l = {0};

	(void)state;
	add(&l, "p", "", "h100x8", "H100", 8, OFFER_ONDEMAND, 20, OFFER_AVAIL_YES);
	add(&l, "p", "", "a100x4", "a100", 4, OFFER_ONDEMAND, 8, OFFER_AVAIL_YES);
	add(&l, "p", "", "local-long", "NVIDIA H100 80GB HBM3", 8, OFFER_ONDEMAND, 0,
	    OFFER_AVAIL_YES);
	add(&l, "p", "", "a10", "A10", 8, OFFER_ONDEMAND, 1, OFFER_AVAIL_YES);
	add(&l, "p", "", "a100-80", "A100-80GB", 8, OFFER_ONDEMAND, 1, OFFER_AVAIL_YES);
	add(&l, "p", "", "h100x2", "H100", 2, OFFER_ONDEMAND, 1, OFFER_AVAIL_YES);
	add(&l, "p", "", "cpu", "", 0, OFFER_ONDEMAND, 0.1, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, t, NULL), 3);
	assert_dropped(&l, "h100x8", NULL);
	assert_dropped(&l, "a100x4", NULL);
	assert_dropped(&l, "local-long", NULL);
	assert_dropped(&l, "a10", "GPU A10 is not one of H100, A100");
	assert_dropped(&l, "a100-80", "GPU A100-80GB is not one of H100, A100");
	assert_dropped(&l, "h100x2", "2 H100 GPUs, needs 8");
	assert_dropped(&l, "cpu", "no GPU; needs one of H100, A100");
	{
		static const char *const want[] = {"local-long", "a100x4", "h100x8"};

		assert_order(&l, want, 3);
	}
	offer_list_free(&l);
	template_free(t);
	/* "any" takes any GPU, not none */
	t = tpl(TPL_HEAD "resources: {accelerators: any:1}\n");
	add(&l, "p", "", "a10", "A10", 1, OFFER_ONDEMAND, 1, OFFER_AVAIL_YES);
	add(&l, "p", "", "cpu", "", 0, OFFER_ONDEMAND, 1, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, t, NULL), 1);
	assert_dropped(&l, "cpu", "no GPU; needs one of any");
	offer_list_free(&l);
	template_free(t);
	assert_true(offers_gpu_matches("h100", "NVIDIA H100 PCIe"));
	assert_false(offers_gpu_matches("H10", "NVIDIA H100 PCIe"));
	assert_false(offers_gpu_matches("H100", NULL));
	assert_false(offers_gpu_matches("any", ""));
}

static void test_spot(void **state)
{
	struct template *never = tpl(TPL_HEAD), *prefer, *only;
	struct offer_list l = {0};

	(void)state;
	prefer = tpl(TPL_HEAD "resources: {spot: prefer}\n");
	only = tpl(TPL_HEAD "resources: {spot: only}\n");
	/* never (the default): spot dropped */
	add(&l, "p", "", "od", "", 0, OFFER_ONDEMAND, 3, OFFER_AVAIL_YES);
	add(&l, "p", "", "spot", "", 0, OFFER_SPOT, 1, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, never, NULL), 1);
	assert_dropped(&l, "spot", "no spot wanted");
	offer_list_free(&l);
	/* prefer: spot first even when on-demand is cheaper; both fit */
	add(&l, "p", "", "od-cheap", "", 0, OFFER_ONDEMAND, 0.5, OFFER_AVAIL_YES);
	add(&l, "p", "", "spot-dear", "", 0, OFFER_SPOT, 1, OFFER_AVAIL_YES);
	add(&l, "p", "", "spot-cheap", "", 0, OFFER_SPOT, 0.8, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, prefer, NULL), 3);
	{
		static const char *const want[] = {"spot-cheap", "spot-dear", "od-cheap"};

		assert_order(&l, want, 3);
	}
	/* only: on-demand dropped */
	for (size_t i = 0; i < l.n; i++) {
		free(l.v[i].dropped);
		l.v[i].dropped = NULL;
	}
	assert_int_equal(offers_rank(&l, only, NULL), 2);
	assert_dropped(&l, "od-cheap", "spot only");
	assert_string_equal(l.v[2].instance_type, "od-cheap");
	offer_list_free(&l);
	template_free(never);
	template_free(prefer);
	template_free(only);
}

static void test_capacity_and_provider_drop(void **state)
{
	struct template *t = tpl(TPL_HEAD);
	struct offer_list l = {0};
	struct offer o;

	(void)state;
	add(&l, "p", "us-east-1", "full", "", 0, OFFER_ONDEMAND, 1, OFFER_AVAIL_NO);
	add(&l, "p", "", "full-noregion", "", 0, OFFER_ONDEMAND, 1, OFFER_AVAIL_NO);
	memset(&o, 0, sizeof o);
	o.provider = "ssh";
	o.region = "";
	o.instance_type = "gpu1";
	o.gpu_type = "";
	o.dropped = "needs 1 host with 8 free H100; 0 have them";
	offer_list_add(&l, &o);
	add(&l, "p", "", "ok", "", 0, OFFER_ONDEMAND, 5, OFFER_AVAIL_UNKNOWN);
	assert_int_equal(offers_rank(&l, t, NULL), 1);
	assert_string_equal(l.v[0].instance_type, "ok");
	assert_dropped(&l, "full", "no capacity in us-east-1 now");
	assert_dropped(&l, "full-noregion", "no capacity");
	assert_dropped(&l, "gpu1", "needs 1 host with 8 free H100; 0 have them");
	offer_list_free(&l);
	template_free(t);
}

static void test_price_cap(void **state)
{
	struct template *capped = tpl(TPL_HEAD "limits: {max_hourly_cost: 10}\n");
	struct template *free_t = tpl(TPL_HEAD);
	struct offer_list l = {0};

	(void)state;
	add(&l, "p", "", "over", "", 0, OFFER_ONDEMAND, 12, OFFER_AVAIL_YES);
	add(&l, "p", "", "at", "", 0, OFFER_ONDEMAND, 10, OFFER_AVAIL_YES);
	add(&l, "p", "", "unpriced", "", 0, OFFER_ONDEMAND, -1, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, capped, NULL), 1);
	assert_string_equal(l.v[0].instance_type, "at");
	assert_dropped(&l, "over", "$12.00/h is over limits.max_hourly_cost $10.00/h");
	assert_dropped(&l, "unpriced", "unpriced while limits.max_hourly_cost is set");
	offer_list_free(&l);
	/* without a cap, unpriced fits and ranks after every priced offer */
	add(&l, "a", "", "unpriced", "", 0, OFFER_ONDEMAND, -1, OFFER_AVAIL_YES);
	add(&l, "z", "", "over", "", 0, OFFER_ONDEMAND, 12, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, free_t, NULL), 2);
	{
		static const char *const want[] = {"over", "unpriced"};

		assert_order(&l, want, 2);
	}
	offer_list_free(&l);
	template_free(capped);
	template_free(free_t);
}

static void test_budget(void **state)
{
	struct template *t = tpl(TPL_HEAD);
	struct offer_list l = {0};
	struct offers_limits lim = {0};

	(void)state;
	lim.has_budget_left = 1;
	lim.budget_left_usd = 10;
	lim.runtime_s = 2 * 3600;
	add(&l, "p", "", "twelve", "", 0, OFFER_ONDEMAND, 12, OFFER_AVAIL_YES);
	add(&l, "p", "", "five", "", 0, OFFER_ONDEMAND, 5, OFFER_AVAIL_YES);
	add(&l, "p", "", "six", "", 0, OFFER_ONDEMAND, 6, OFFER_AVAIL_YES);
	add(&l, "p", "", "unpriced", "", 0, OFFER_ONDEMAND, -1, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, t, &lim), 2);
	assert_dropped(&l, "five", NULL);
	assert_dropped(&l, "unpriced", NULL);
	assert_dropped(&l, "six", "expected $12.00 is over the $10.00 budget left");
	assert_dropped(&l, "twelve", "expected $24.00 is over the $10.00 budget left");
	/* dropped offers come after, in the same order */
	assert_string_equal(l.v[2].instance_type, "six");
	assert_string_equal(l.v[3].instance_type, "twelve");
	offer_list_free(&l);
	/* runtime 0 = one hour; no budget: nothing dropped */
	lim.runtime_s = 0;
	add(&l, "p", "", "twelve", "", 0, OFFER_ONDEMAND, 12, OFFER_AVAIL_YES);
	add(&l, "p", "", "nine", "", 0, OFFER_ONDEMAND, 9, OFFER_AVAIL_YES);
	assert_int_equal(offers_rank(&l, t, &lim), 1);
	assert_dropped(&l, "twelve", "expected $12.00 is over the $10.00 budget left");
	lim.has_budget_left = 0;
	free(l.v[1].dropped);
	l.v[1].dropped = NULL;
	assert_int_equal(offers_rank(&l, t, &lim), 2);
	offer_list_free(&l);
	template_free(t);
}

/* ---- prices ---- */

static const char catalog_text[] =
    CATALOG_HEADER "\n"
                   "lambda,us-east-1,gpu_1x_a100,A100,1,30,200,1.29,\n"
                   "lambda,us-west-1,gpu_1x_a100,A100,1,30,200,1.10,0.70\n"
                   "lambda,us-east-1,gpu_1x_a100_big,A100,1,60,400,1.99,\n"
                   "lambda,us-east-1,gpu_8x_h100,H100,8,208,1800,23.92,\n"
                   "aws,us-east-1,p4d,A100,1,96,1152,0.50,\n"
                   "lambda,us-east-1,cpu_4x,,0,4,16,0.20,\n";

static void test_price(void **state)
{
	struct catalog *c = NULL;
	char *cause = NULL;
	struct offer o;
	struct offers_price_src src;
	struct catalog_site_gpu_rate g[] = {{"A100", 2.0}, {"*", 3.0}};
	struct catalog_site_rates site = {g, 2, 1, 0.05};

	(void)state;
	assert_int_equal(
	    catalog_parse("t.csv", catalog_text, sizeof catalog_text - 1, NULL, NULL, &c, &cause),
	    0);
	memset(&o, 0, sizeof o);
	o.region = "us-east-1";
	o.instance_type = "gpu_1x_a100_big";
	o.gpu_type = "A100";
	o.gpus = 1;
	memset(&src, 0, sizeof src);
	src.catalog = c;
	src.catalog_provider = "lambda";
	src.site = &site;
	src.site_cpus = 4;
	/* live wins */
	src.has_live = 1;
	src.live_usd_per_hour = 1.5;
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_LIVE);
	assert_true(o.priced);
	assert_true(o.usd_per_hour == 1.5);
	/* then the instance type's own row */
	src.has_live = 0;
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_CATALOG);
	assert_true(o.usd_per_hour == 1.99);
	/* an unknown type: cheapest row of that GPU and count in the region (not aws's) */
	o.instance_type = "gpu_1x_new";
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_CATALOG);
	assert_true(o.usd_per_hour == 1.29);
	/* spot: only rows with a spot price */
	o.market = OFFER_SPOT;
	o.region = "us-west-1";
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_CATALOG);
	assert_true(o.usd_per_hour == 0.70);
	/* a negative live price does not count: catalog; nodes multiply per-node prices */
	o.market = OFFER_ONDEMAND;
	o.region = "us-east-1";
	src.has_live = 1;
	src.live_usd_per_hour = -1;
	src.nodes = 2;
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_CATALOG);
	assert_true(o.usd_per_hour == 2.58);
	src.nodes = 0;
	src.has_live = 0;
	/* nothing in the catalog: site rates (1 A100 at $2 + 4 CPUs at $0.05) */
	o.gpu_type = "A100";
	o.region = "nowhere";
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_SITE);
	assert_true(o.usd_per_hour > 2.1999 && o.usd_per_hour < 2.2001);
	/* the "*" site rate for another GPU type */
	o.gpu_type = "L4";
	o.gpus = 2;
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_SITE);
	assert_true(o.usd_per_hour > 6.1999 && o.usd_per_hour < 6.2001);
	/* no catalog row, no site rates: unpriced, never $0 */
	src.site = NULL;
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_NONE);
	assert_false(o.priced);
	assert_true(o.usd_per_hour == 0);
	/* CPU-only offer from the catalog */
	o.gpu_type = "";
	o.gpus = 0;
	o.region = "us-east-1";
	o.instance_type = "";
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_CATALOG);
	assert_true(o.usd_per_hour == 0.20);
	/* no catalog provider named: no catalog lookup */
	src.catalog_provider = NULL;
	assert_int_equal(offers_price(&o, &src), CATALOG_SRC_NONE);
	assert_int_equal(offers_price(&o, NULL), CATALOG_SRC_NONE);
	assert_string_equal(catalog_source_name(o.source), "unpriced");
	catalog_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),         cmocka_unit_test(test_list),
	    cmocka_unit_test(test_empty),         cmocka_unit_test(test_order_and_ties),
	    cmocka_unit_test(test_deterministic), cmocka_unit_test(test_placement),
	    cmocka_unit_test(test_only_provider), cmocka_unit_test(test_gpu),
	    cmocka_unit_test(test_spot),          cmocka_unit_test(test_capacity_and_provider_drop),
	    cmocka_unit_test(test_price_cap),     cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_price),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
