/* test_lambda_api.c: the Lambda Cloud API v1 as Gantry reads and writes it: the reference's
 * own sample answers, malformed answers (wrong types, missing fields, huge numbers: a one-line
 * error, never a crash), error bodies and their classes, request bodies, the instance and key
 * names, the provider's settings, and Gantry's own key file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/xmalloc.h"
#include "providers/lambda_api.h"
#include "providers/lambda_key.h"

static void offers_free(struct offer_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].provider);
		free(l->v[i].region);
		free(l->v[i].instance_type);
		free(l->v[i].gpu_type);
		free(l->v[i].description);
		free(l->v[i].dropped);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static const struct offer *find_offer(const struct offer_list *l, const char *type,
                                      const char *region)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].instance_type, type) == 0 && strcmp(l->v[i].region, region) == 0)
			return &l->v[i];
	return NULL;
}

/* The reference's example of GET /instance-types (prices quoted as strings there). */
static const char types_doc[] =
    "{\"data\": {"
    " \"gpu_1x_a100\": {\"instance_type\": {\"description\": \"1x RTX A100 (24 GB)\","
    "   \"name\": \"gpu_1x_a100\", \"price_cents_per_hour\": \"80\","
    "   \"specs\": {\"vcpus\": 24, \"memory_gib\": 800, \"storage_gib\": 512}},"
    "  \"regions_with_capacity_available\": [{\"description\": \"Austin, Texas\","
    "   \"name\": \"us-tx-1\"}]},"
    " \"gpu_4x_a6000\": {\"instance_type\": {\"description\": \"4x RTX 6000 (24 GB)\","
    "   \"name\": \"gpu_4x_a6000\", \"price_cents_per_hour\": \"110\","
    "   \"specs\": {\"vcpus\": 24, \"memory_gib\": 800, \"storage_gib\": 512}},"
    "  \"regions_with_capacity_available\": [{\"description\": \"Phoenix, Arizona\","
    "   \"name\": \"us-az-1\"}]}}}";

/* The current shape: integer prices, specs.gpus, gpu_description, several regions. */
static const char types_now[] =
    "{\"data\": {"
    " \"gpu_8x_h100_sxm5\": {\"instance_type\": {\"name\": \"gpu_8x_h100_sxm5\","
    "   \"description\": \"8x H100 (80 GB SXM5)\", \"gpu_description\": \"H100 (80 GB SXM5)\","
    "   \"price_cents_per_hour\": 2392, \"specs\": {\"vcpus\": 208, \"memory_gib\": 1800,"
    "   \"storage_gib\": 24780, \"gpus\": 8}},"
    "  \"regions_with_capacity_available\": [{\"name\": \"us-east-1\", \"description\": \"x\"},"
    "   {\"name\": \"us-west-1\", \"description\": \"y\"}]},"
    " \"gpu_1x_a10\": {\"instance_type\": {\"name\": \"gpu_1x_a10\","
    "   \"description\": \"1x A10 (24 GB PCIe)\", \"price_cents_per_hour\": 75,"
    "   \"specs\": {\"vcpus\": 30, \"memory_gib\": 200, \"storage_gib\": 1400, \"gpus\": 1}},"
    "  \"regions_with_capacity_available\": []}}}";

static void test_types_reference_sample(void **state)
{
	struct offer_list l = {0};
	const struct offer *o;
	char *cause = NULL;

	(void)state;
	assert_int_equal(
	    lambda_api_parse_types(types_doc, strlen(types_doc), "lam", NULL, 0, &l, &cause), 0);
	assert_null(cause);
	assert_int_equal(l.n, 2);
	o = find_offer(&l, "gpu_1x_a100", "us-tx-1");
	assert_non_null(o);
	assert_string_equal(o->provider, "lam");
	assert_string_equal(o->gpu_type, "A100");
	assert_int_equal(o->gpus, 1);
	assert_int_equal(o->cpus, 24);
	assert_int_equal(o->memory_mib, 800 * 1024);
	assert_int_equal(o->priced, 1);
	assert_true(o->usd_per_hour > 0.79 && o->usd_per_hour < 0.81);
	assert_int_equal(o->source, CATALOG_SRC_LIVE);
	assert_int_equal(o->billing, OFFER_BILL_MINUTE);
	assert_int_equal(o->market, OFFER_ONDEMAND);
	assert_int_equal(o->avail, OFFER_AVAIL_YES);
	assert_null(o->dropped);
	assert_string_equal(o->description, "1x RTX A100 (24 GB)");
	o = find_offer(&l, "gpu_4x_a6000", "us-az-1");
	assert_non_null(o);
	assert_string_equal(o->gpu_type, "A6000");
	assert_int_equal(o->gpus, 4);
	offers_free(&l);
}

static void test_types_regions(void **state)
{
	struct offer_list l = {0};
	char *regions[] = {"us-west-1", "eu-central-1"};
	const struct offer *o;
	char *cause = NULL;

	(void)state;
	/* no regions configured: one offer per region with capacity, one "no capacity" offer
	 * for a type with capacity nowhere */
	assert_int_equal(
	    lambda_api_parse_types(types_now, strlen(types_now), "lambda", NULL, 0, &l, &cause), 0);
	assert_int_equal(l.n, 3);
	o = find_offer(&l, "gpu_8x_h100_sxm5", "us-east-1");
	assert_non_null(o);
	assert_string_equal(o->gpu_type, "H100");
	assert_int_equal(o->gpus, 8);
	assert_true(o->usd_per_hour > 23.91 && o->usd_per_hour < 23.93);
	assert_non_null(find_offer(&l, "gpu_8x_h100_sxm5", "us-west-1"));
	o = find_offer(&l, "gpu_1x_a10", "");
	assert_non_null(o);
	assert_int_equal(o->avail, OFFER_AVAIL_NO);
	assert_string_equal(o->gpu_type, "A10");
	offers_free(&l);

	/* regions configured: only those, full ones known as such */
	assert_int_equal(
	    lambda_api_parse_types(types_now, strlen(types_now), "lambda", regions, 2, &l, &cause),
	    0);
	assert_int_equal(l.n, 4);
	assert_null(find_offer(&l, "gpu_8x_h100_sxm5", "us-east-1"));
	assert_int_equal(find_offer(&l, "gpu_8x_h100_sxm5", "us-west-1")->avail, OFFER_AVAIL_YES);
	assert_int_equal(find_offer(&l, "gpu_8x_h100_sxm5", "eu-central-1")->avail, OFFER_AVAIL_NO);
	assert_int_equal(find_offer(&l, "gpu_1x_a10", "us-west-1")->avail, OFFER_AVAIL_NO);
	assert_int_equal(find_offer(&l, "gpu_1x_a10", "eu-central-1")->avail, OFFER_AVAIL_NO);
	offers_free(&l);
}

/* Whole answers that cannot be used: one line, no offers. */
static void test_types_unusable(void **state)
{
	static const char *bad[] = {
	    "",
	    "not json",
	    "{\"data\": [1, 2]}",
	    "{\"nodata\": {}}",
	    "[1]",
	    /* beyond a 64-bit integer: jansson refuses the whole document */
	    "{\"data\": {\"gpu_1x_a10\": {\"instance_type\": {\"price_cents_per_hour\": "
	    "99999999999999999999999}}}}",
	    "{\"data\": {\"gpu_1x_a10\": ",
	    "{\"data\": null}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct offer_list l = {0};
		char *cause = NULL;

		assert_int_equal(
		    lambda_api_parse_types(bad[i], strlen(bad[i]), "lambda", NULL, 0, &l, &cause),
		    -1);
		assert_non_null(cause);
		assert_non_null(strstr(cause, "instance-types: "));
		assert_null(strchr(cause, '\n'));
		assert_int_equal(l.n, 0);
		free(cause);
	}
}

/* One malformed type: an offer dropped with the reason; the others still come. */
static void test_types_malformed_entries(void **state)
{
	static const struct {
		const char *entry;
		const char *reason;
	} cases[] = {
	    {"{\"instance_type\": {\"price_cents_per_hour\": \"abc\", \"specs\": {\"vcpus\": 1, "
	     "\"memory_gib\": 1}}, \"regions_with_capacity_available\": []}",
	     "price_cents_per_hour: not a number"},
	    {"{\"instance_type\": {\"price_cents_per_hour\": 1e300, \"specs\": {\"vcpus\": 1, "
	     "\"memory_gib\": 1}}, \"regions_with_capacity_available\": []}",
	     "price_cents_per_hour: out of range"},
	    {"{\"instance_type\": {\"price_cents_per_hour\": 9007199254740993, \"specs\": "
	     "{\"vcpus\": 1, \"memory_gib\": 1}}, \"regions_with_capacity_available\": []}",
	     "price_cents_per_hour: out of range"},
	    {"{\"instance_type\": {\"price_cents_per_hour\": 10, \"specs\": "
	     "{\"vcpus\": \"99999999999999999999999\", \"memory_gib\": 1}}, "
	     "\"regions_with_capacity_available\": []}",
	     "specs.vcpus: out of range"},
	    {"{\"instance_type\": {\"price_cents_per_hour\": -5, \"specs\": {\"vcpus\": 1, "
	     "\"memory_gib\": 1}}, \"regions_with_capacity_available\": []}",
	     "price_cents_per_hour: out of range"},
	    {"{\"instance_type\": {\"price_cents_per_hour\": 10}, "
	     "\"regions_with_capacity_available\": []}",
	     "instance_type.specs: missing"},
	    {"{\"instance_type\": {\"price_cents_per_hour\": 10, \"specs\": {\"vcpus\": true, "
	     "\"memory_gib\": 1}}, \"regions_with_capacity_available\": []}",
	     "specs.vcpus: not a number"},
	    {"{\"instance_type\": {\"price_cents_per_hour\": 10, \"specs\": {\"vcpus\": 1, "
	     "\"memory_gib\": 1}}, \"regions_with_capacity_available\": \"us-east-1\"}",
	     "regions_with_capacity_available: not a list"},
	    {"{\"instance_type\": {\"price_cents_per_hour\": 10, \"specs\": {\"vcpus\": 1, "
	     "\"memory_gib\": 1}}}",
	     "regions_with_capacity_available: missing"},
	    {"{\"instance_type\": []}", "instance_type: not an object"},
	    {"17", "instance_type: missing"},
	    {"{\"instance_type\": {\"name\": \"other\", \"price_cents_per_hour\": 1}}",
	     "does not match"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct offer_list l = {0};
		const struct offer *o;
		char *cause = NULL;
		char *doc = xprintf("{\"data\": {\"gpu_2x_h100_sxm5\": %s, \"gpu_1x_a100\": "
		                    "{\"instance_type\": {\"price_cents_per_hour\": 129, "
		                    "\"description\": \"1x A100 (40 GB SXM4)\", "
		                    "\"specs\": {\"vcpus\": 30, \"memory_gib\": 200}}, "
		                    "\"regions_with_capacity_available\": [{\"name\": "
		                    "\"us-east-1\"}, 7, {\"name\": 5}, {\"name\": \"a b\"}]}}}",
		                    cases[i].entry);

		assert_int_equal(
		    lambda_api_parse_types(doc, strlen(doc), "lambda", NULL, 0, &l, &cause), 0);
		assert_null(cause);
		assert_int_equal(l.n, 2);
		o = find_offer(&l, "gpu_2x_h100_sxm5", "");
		assert_non_null(o);
		assert_non_null(o->dropped);
		if (strstr(o->dropped, cases[i].reason) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, o->dropped, cases[i].reason);
		assert_non_null(strstr(o->dropped, "unusable answer from the API"));
		assert_int_equal(o->priced, 0);
		o = find_offer(&l, "gpu_1x_a100", "us-east-1");
		assert_non_null(o);
		assert_null(o->dropped);
		assert_int_equal(o->avail, OFFER_AVAIL_YES);
		offers_free(&l);
		free(doc);
	}
}

static void test_gpu_names(void **state)
{
	static const struct {
		const char *name, *desc, *gpu;
		int n;
	} cases[] = {
	    {"gpu_8x_h100_sxm5", NULL, "H100", 8},
	    {"gpu_1x_h100_pcie", NULL, "H100", 1},
	    {"gpu_8x_a100_80gb_sxm4", NULL, "A100-80GB", 8},
	    {"gpu_1x_a100_sxm4", NULL, "A100", 1},
	    {"gpu_1x_gh200", NULL, "GH200", 1},
	    {"gpu_2x_b200_sxm6", NULL, "B200", 2},
	    {"gpu_1x_rtx6000", NULL, "RTX6000", 1},
	    {"gpu_8x_v100_n", NULL, "V100", 8},
	    {"cpu_4x_general", NULL, "", 0},
	    {"gpu_Zx_h100", "2x H100 (80 GB)", "H100", 2},
	    {"weird", "1x RTX A6000 (48 GB)", "A6000", 1},
	    {"gpu_1x_", "1x Tesla V100 (16 GB)", "V100", 1},
	};
	char *g;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(lambda_api_gpu_of(cases[i].name, cases[i].desc, &g, &n), 0);
		assert_string_equal(g, cases[i].gpu);
		assert_int_equal(n, cases[i].n);
		free(g);
	}
	assert_int_equal(lambda_api_gpu_of("mystery", "something", &g, &n), -1);
	assert_null(g);
	assert_int_equal(lambda_api_gpu_of("gpu_99999999999999999999x_h100", NULL, &g, &n), -1);
	assert_int_equal(lambda_api_gpu_of(NULL, NULL, &g, &n), -1);
}

static void check_error(long status, const char *body, const char *want, enum lambda_err cls)
{
	enum lambda_err got;
	char *line = lambda_api_error(status, body, body != NULL ? strlen(body) : 0,
	                              "Timeout was reached", &got);

	if (strcmp(line, want) != 0)
		fail_msg("got '%s', want '%s'", line, want);
	assert_int_equal(got, cls);
	free(line);
}

static void test_errors(void **state)
{
	(void)state;
	check_error(400,
	            "{\"error\": {\"code\": \"instance-operations/launch/insufficient-capacity\", "
	            "\"message\": \"Not enough capacity to fulfill launch request.\", "
	            "\"suggestion\": \"Choose an instance type with more availability.\"}}",
	            "Not enough capacity to fulfill launch request. "
	            "(instance-operations/launch/insufficient-capacity); Choose an instance type "
	            "with more availability.",
	            LAMBDA_ERR_CAPACITY);
	check_error(401,
	            "{\"error\": {\"code\": \"global/invalid-api-key\", \"message\": \"API key "
	            "secret_abc123 is invalid, expired, or deleted.\", \"suggestion\": \"Create a "
	            "new API key and try again.\"}}",
	            "API key refused (global/invalid-api-key)", LAMBDA_ERR_AUTH);
	check_error(403, "", "API key refused (HTTP 403)", LAMBDA_ERR_AUTH);
	check_error(
	    400,
	    "{\"error\": {\"code\": \"global/invalid-parameters\", \"message\": \"Invalid "
	    "request\"}, \"field_errors\": {\"name\": {\"code\": \"x\", \"message\": \"y\"}}}",
	    "Invalid request (global/invalid-parameters)", LAMBDA_ERR_INVALID);
	check_error(400,
	            "{\"error\": {\"code\": \"global/quota-exceeded\", \"message\": \"Quota "
	            "exceeded\"}}",
	            "Quota exceeded (global/quota-exceeded)", LAMBDA_ERR_QUOTA);
	check_error(404,
	            "{\"error\": {\"code\": \"global/object-does-not-exist\", \"message\": \"No "
	            "such instance\"}}",
	            "No such instance (global/object-does-not-exist)", LAMBDA_ERR_NOTFOUND);
	check_error(503,
	            "{\"error\": {\"code\": \"provider/internal-unavailable\", \"message\": "
	            "\"Provider unavailable\", \"suggestion\": \"Try again shortly\"}}",
	            "Provider unavailable (provider/internal-unavailable); Try again shortly",
	            LAMBDA_ERR_TRANSIENT);
	check_error(502, "<html>bad gateway</html>", "HTTP 502 from the API", LAMBDA_ERR_TRANSIENT);
	check_error(429, NULL, "rate limited by the API (HTTP 429)", LAMBDA_ERR_TRANSIENT);
	check_error(0, NULL, "no answer from the API: Timeout was reached", LAMBDA_ERR_TRANSIENT);
	check_error(200, "{\"data\": 5", "unusable answer from the API", LAMBDA_ERR_OTHER);
	check_error(400, "{\"error\": {\"code\": 7, \"message\": [1]}}", "HTTP 400 from the API",
	            LAMBDA_ERR_INVALID);
	check_error(400, "{\"error\": {\"code\": \"a b\\u001b[2J\", \"message\": \"m\"}}",
	            "m (HTTP 400)", LAMBDA_ERR_INVALID);
	check_error(500, "{\"error\": \"oops\"}", "HTTP 500 from the API", LAMBDA_ERR_TRANSIENT);
}

/* Remote text never carries control sequences or newlines, and is cut short. */
static void test_error_text_sanitised(void **state)
{
	char *big = xmalloc(20000), *body, *line;
	enum lambda_err cls;

	(void)state;
	memset(big, 'x', 19999);
	big[19999] = '\0';
	line = lambda_api_error(
	    500,
	    "{\"error\": {\"code\": \"global/unknown\", \"message\": \"bad\\u001b]0;pwn\\u0007\\n"
	    "line2\"}}",
	    96, NULL, &cls);
	assert_null(strchr(line, '\033'));
	assert_null(strchr(line, '\n'));
	assert_null(strchr(line, '\a'));
	free(line);
	body = xprintf("{\"error\": {\"code\": \"global/unknown\", \"message\": \"%s\"}}", big);
	line = lambda_api_error(500, body, strlen(body), NULL, &cls);
	assert_true(strlen(line) < 400);
	assert_non_null(strstr(line, "...")); /* cut, and said so */
	free(line);
	free(body);
	free(big);
}

static const char instance_doc[] =
    "{\"data\": {\"id\": \"0920582c7ff041399e34823a0be62549\", \"name\": \"training-node-1\","
    " \"ip\": \"10.10.10.1\", \"status\": \"active\", \"ssh_key_names\": [\"my-ssh-key\"],"
    " \"file_system_names\": [\"my-file-system\"], \"region\": {\"name\": \"us-tx-3\","
    " \"description\": \"Austin, Texas\"}, \"instance_type\": {\"name\": \"gpu_1x_a100_sxm4\","
    " \"description\": \"1x A100 SXM4 (40 GB)\"}, \"hostname\": "
    "\"10-0-8-196.cloud.lambdalabs.com\", \"jupyter_token\": \"2c60c3b5a6\", \"jupyter_url\":"
    " \"https://jupyter-2c60.cloud.lambdalabs.com\"}}";

static void test_instance(void **state)
{
	struct lambda_instance in;
	char *cause = NULL;

	(void)state;
	assert_int_equal(lambda_api_parse_instance(instance_doc, strlen(instance_doc), &in, &cause),
	                 0);
	assert_string_equal(in.id, "0920582c7ff041399e34823a0be62549");
	assert_string_equal(in.name, "training-node-1");
	assert_string_equal(in.ip, "10.10.10.1");
	assert_int_equal(in.status, LAMBDA_ST_ACTIVE);
	assert_string_equal(in.region, "us-tx-3");
	assert_string_equal(in.instance_type, "gpu_1x_a100_sxm4");
	assert_int_equal(in.nkeys, 1);
	assert_string_equal(in.keys[0], "my-ssh-key");
	lambda_instance_clear(&in);

	/* booting: no ip yet (null or absent) */
	assert_int_equal(lambda_api_parse_instance(
	                     "{\"data\": {\"id\": \"abc\", \"status\": \"booting\", \"ip\": null, "
	                     "\"name\": null, \"ssh_key_names\": []}}",
	                     91, &in, &cause),
	                 0);
	assert_null(in.ip);
	assert_null(in.name);
	assert_int_equal(in.status, LAMBDA_ST_BOOTING);
	lambda_instance_clear(&in);
	assert_int_equal(lambda_api_parse_instance("{\"data\": {\"id\": \"a\", \"status\": "
	                                           "\"frobnicating\"}}",
	                                           47, &in, &cause),
	                 0);
	assert_int_equal(in.status, LAMBDA_ST_UNKNOWN);
	assert_string_equal(lambda_status_name(LAMBDA_ST_TERMINATING), "terminating");
	lambda_instance_clear(&in);
	assert_int_equal(lambda_api_parse_instance("{\"data\": {\"id\": \"a\", \"status\": "
	                                           "\"preempted\"}}",
	                                           44, &in, &cause),
	                 0);
	assert_int_equal(in.status, LAMBDA_ST_PREEMPTED);
	lambda_instance_clear(&in);
}

static void test_instance_malformed(void **state)
{
	static const struct {
		const char *doc, *why;
	} cases[] = {
	    {"{\"data\": {\"status\": \"active\"}}", "instance id: missing"},
	    {"{\"data\": {\"id\": \"../../etc\", \"status\": \"active\"}}",
	     "instance id: not a plain"},
	    {"{\"data\": {\"id\": 42, \"status\": \"active\"}}", "instance id: not a plain"},
	    {"{\"data\": {\"id\": \"a\"}}", "instance status: missing"},
	    {"{\"data\": {\"id\": \"a\", \"status\": 3}}", "instance status: not a string"},
	    {"{\"data\": {\"id\": \"a\", \"status\": \"active\", \"ip\": \"1.2.3.4; rm -rf /\"}}",
	     "instance ip: not an IP address"},
	    {"{\"data\": {\"id\": \"a\", \"status\": \"active\", \"ip\": -1}}",
	     "instance ip: not a string"},
	    {"{\"data\": {\"id\": \"a\", \"status\": \"active\", \"name\": {}}}",
	     "instance name: not a string"},
	    {"{\"data\": {\"id\": \"a\", \"status\": \"active\", \"ssh_key_names\": \"k\"}}",
	     "ssh_key_names: not a list"},
	    {"{\"data\": [1]}", "instance is a list"},
	    {"{\"error\": {}}", "has no \"data\""},
	    {"{", "not JSON"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct lambda_instance in;
		char *cause = NULL;

		assert_int_equal(
		    lambda_api_parse_instance(cases[i].doc, strlen(cases[i].doc), &in, &cause), -1);
		if (cause == NULL || strstr(cause, cases[i].why) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, cause, cases[i].why);
		assert_null(in.id);
		free(cause);
	}
}

static void test_instances_list(void **state)
{
	struct lambda_instance *v;
	size_t n;
	char *cause = NULL;
	const char *doc = "{\"data\": [{\"id\": \"i1\", \"status\": \"active\", \"name\": "
	                  "\"gantry-j0123abcd-a1\", \"ip\": \"127.0.0.2\", \"ssh_key_names\": "
	                  "[\"gantry-00112233445566778899\"]}, {\"id\": \"i2\", \"status\": "
	                  "\"terminated\", \"ip\": \"::1\", \"ssh_key_names\": [\"other\"]}]}";

	(void)state;
	assert_int_equal(lambda_api_parse_instances(doc, strlen(doc), &v, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].ip, "::1");
	assert_int_equal(lambda_instance_ours(&v[0], "gantry-0011223344556677"), 0);
	assert_int_equal(lambda_instance_ours(&v[0], "gantry-00112233445566778899"), 1);
	assert_int_equal(lambda_instance_ours(&v[1], "other"), 0); /* no Gantry name */
	lambda_instances_free(v, n);
	/* one bad element fails the whole list: it could be one of ours */
	doc = "{\"data\": [{\"id\": \"i1\", \"status\": \"active\"}, {\"id\": null}]}";
	assert_int_equal(lambda_api_parse_instances(doc, strlen(doc), &v, &n, &cause), -1);
	assert_non_null(strstr(cause, "instances: item 1: instance id"));
	assert_null(v);
	assert_int_equal(n, 0);
	free(cause);
	cause = NULL;
	doc = "{\"data\": {}}";
	assert_int_equal(lambda_api_parse_instances(doc, strlen(doc), &v, &n, &cause), -1);
	assert_string_equal(cause, "instances: \"data\" is an object, expected a list");
	free(cause);
	assert_int_equal(lambda_api_parse_instances("{\"data\": []}", 12, &v, &n, &cause), 0);
	assert_int_equal(n, 0);
	lambda_instances_free(v, n);
}

static void test_launch_answer(void **state)
{
	char *id, *cause = NULL;
	const char *doc = "{\"data\": {\"instance_ids\": [\"0920582c7ff041399e34823a0be62549\"]}}";

	(void)state;
	assert_int_equal(lambda_api_parse_launch(doc, strlen(doc), &id, &cause), 0);
	assert_string_equal(id, "0920582c7ff041399e34823a0be62549");
	free(id);
	doc = "{\"data\": {\"instance_ids\": []}}";
	assert_int_equal(lambda_api_parse_launch(doc, strlen(doc), &id, &cause), -1);
	assert_non_null(strstr(cause, "empty instance_ids"));
	free(cause);
	cause = NULL;
	doc = "{\"data\": {\"instance_ids\": [\"a/b\"]}}";
	assert_int_equal(lambda_api_parse_launch(doc, strlen(doc), &id, &cause), -1);
	assert_null(id);
	free(cause);
	cause = NULL;
	doc = "{\"data\": {}}";
	assert_int_equal(lambda_api_parse_launch(doc, strlen(doc), &id, &cause), -1);
	free(cause);
}

static void test_keys_answer(void **state)
{
	char *pub, *cause = NULL;
	const char *doc =
	    "{\"data\": [{\"id\": \"k1\", \"name\": \"macbook-pro\", \"public_key\": \"ssh-rsa AAA "
	    "user\"}, {\"id\": \"k2\", \"name\": \"gantry-0011\", \"public_key\": \"ssh-ed25519 "
	    "BBB gantry\"}, 5, {\"name\": 1}]}";

	(void)state;
	assert_int_equal(lambda_api_find_key(doc, strlen(doc), "gantry-0011", &pub, &cause), 1);
	assert_string_equal(pub, "ssh-ed25519 BBB gantry");
	free(pub);
	assert_int_equal(lambda_api_find_key(doc, strlen(doc), "gantry-2222", &pub, &cause), 0);
	assert_null(pub);
	assert_int_equal(lambda_api_find_key("{\"data\": {}}", 12, "x", &pub, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

static void test_bodies(void **state)
{
	char *b = lambda_api_launch_body("us-east-1", "gpu_1x_a10", "gantry-00ff", "gantry-j1-a0");
	json_t *o = json_loads(b, 0, NULL), *keys;

	(void)state;
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "region_name")), "us-east-1");
	assert_string_equal(json_string_value(json_object_get(o, "instance_type_name")),
	                    "gpu_1x_a10");
	assert_string_equal(json_string_value(json_object_get(o, "name")), "gantry-j1-a0");
	assert_int_equal(json_integer_value(json_object_get(o, "quantity")), 1);
	keys = json_object_get(o, "ssh_key_names");
	assert_int_equal(json_array_size(keys), 1);
	assert_string_equal(json_string_value(json_array_get(keys, 0)), "gantry-00ff");
	json_decref(o);
	free(b);
	b = lambda_api_terminate_body("abc\"def");
	assert_string_equal(b, "{\"instance_ids\":[\"abc\\\"def\"]}");
	free(b);
	b = lambda_api_add_key_body("gantry-00ff", "ssh-ed25519 AAAA gantry");
	assert_string_equal(b, "{\"name\":\"gantry-00ff\",\"public_key\":\"ssh-ed25519 AAAA "
	                       "gantry\"}");
	free(b);
}

static void test_names(void **state)
{
	char *n, *job;
	int a;

	(void)state;
	n = lambda_instance_name("j0123456789abcdef", 3);
	assert_string_equal(n, "gantry-j0123456789abcdef-a3");
	assert_int_equal(lambda_instance_name_parse(n, &job, &a), 0);
	assert_string_equal(job, "j0123456789abcdef");
	assert_int_equal(a, 3);
	free(job);
	free(n);
	assert_null(lambda_instance_name("J-bad", 0));
	assert_null(lambda_instance_name("", 0));
	assert_null(lambda_instance_name("j1", -1));
	n = xmalloc(80);
	memset(n, 'a', 79);
	n[79] = '\0';
	assert_null(lambda_instance_name(n, 1)); /* over the API's 64 characters */
	free(n);
	static const char *notours[] = {"training-node-1", "gantry-",           "gantry-j1",
	                                "gantry-j1-a",     "gantry-j1-ax",      "gantry-j1-a01",
	                                "gantry-J1-a1",    "gantry-j1-a1 ",     "gantry-j1-a1-x",
	                                "gantry--a1",      "gantry-j1-a9999999"};
	for (size_t i = 0; i < sizeof notours / sizeof notours[0]; i++) {
		job = (char *)"untouched";
		assert_int_equal(lambda_instance_name_parse(notours[i], &job, &a), -1);
		assert_null(job);
	}
	assert_int_equal(lambda_instance_name_parse(NULL, &job, &a), -1);
	n = lambda_key_name("00112233445566778899aabbccddeeff");
	assert_string_equal(n, "gantry-0011223344556677");
	free(n);
	n = lambda_key_name(NULL);
	assert_string_equal(n, "gantry");
	free(n);
}

static void test_refs(void **state)
{
	char *r, *id, *ip, *job, *cause = NULL;
	static const char *bad[] = {"",
	                            "a/b",
	                            "/1.2.3.4/j1",
	                            "i1/1.2.3.4/",
	                            "i1/x/j1",
	                            "i1/1.2.3.4/j1/x",
	                            "i.1/1.2.3.4/j1",
	                            "i1/1.2.3.4/J1",
	                            "i1/1.2.3.4/../j"};

	(void)state;
	r = lambda_ref("0920582c7ff0", "127.0.0.2", "j0123456789abcdef");
	assert_string_equal(r, "0920582c7ff0/127.0.0.2/j0123456789abcdef");
	assert_int_equal(lambda_ref_parse(r, &id, &ip, &job, &cause), 0);
	assert_string_equal(id, "0920582c7ff0");
	assert_string_equal(ip, "127.0.0.2");
	assert_string_equal(job, "j0123456789abcdef");
	free(id);
	free(ip);
	free(job);
	free(r);
	/* booting: no address yet; IPv6 */
	assert_int_equal(lambda_ref_parse("i1//j1", &id, &ip, &job, &cause), 0);
	assert_string_equal(ip, "");
	free(id);
	free(ip);
	free(job);
	assert_int_equal(lambda_ref_parse("i1/fe80::1/j1", &id, &ip, &job, &cause), 0);
	assert_string_equal(ip, "fe80::1");
	free(id);
	free(ip);
	free(job);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(lambda_ref_parse(bad[i], &id, &ip, &job, &cause), -1);
		assert_non_null(cause);
		assert_null(id);
		free(cause);
		cause = NULL;
	}
	assert_int_equal(lambda_ref_parse(NULL, &id, &ip, &job, &cause), -1);
	free(cause);
}

/* ---- settings ---- */

static struct kvlist kv_settings, kv_pos;

static void kv(const char *k, const char *v)
{
	char *p = xprintf("config.yaml:%zu:5", kv_settings.n + 3);

	kvlist_set(&kv_settings, k, v);
	kvlist_set(&kv_pos, k, p);
	free(p);
}

static void kv_reset(void)
{
	kvlist_free(&kv_settings);
	kvlist_free(&kv_pos);
	kvlist_init(&kv_settings);
	kvlist_init(&kv_pos);
}

static void test_conf_defaults(void **state)
{
	struct lambda_conf c;
	char *cause = NULL;

	(void)state;
	kv_reset();
	kv("api_key_env", "LAMBDA_KEY");
	assert_int_equal(lambda_conf_parse(&kv_settings, &kv_pos, "lambda", &c, &cause), 0);
	assert_string_equal(c.api_url, LAMBDA_API_DEFAULT_URL);
	assert_string_equal(c.key_setting, "api_key_env");
	assert_string_equal(c.ssh_user, "ubuntu");
	assert_int_equal(c.ssh_port, 22);
	assert_int_equal(c.boot_timeout_s, 600);
	assert_int_equal(c.nregions, 0);
	assert_int_equal(c.launch_interval_ms, 12000);
	assert_true(c.rate_per_s == 1);
	lambda_conf_free(&c);

	kv_reset();
	kv("api_key_file", "/x/key");
	kv("api_url", "http://127.0.0.1:8080/api/v1/");
	kv("regions.0", "us-east-1");
	kv("regions.1", "us-west-1");
	kv("ssh_user", "root");
	kv("ssh_port", "2222");
	kv("boot_timeout", "1h30m");
	kv("poll_interval", "2s");
	kv("offers_refresh", "5m");
	kv("rate_limit", "0");
	kv("launch_interval", "0");
	kv("dir", "work/.gantry");
	assert_int_equal(lambda_conf_parse(&kv_settings, &kv_pos, "lambda", &c, &cause), 0);
	assert_string_equal(c.api_url, "http://127.0.0.1:8080/api/v1");
	assert_int_equal(c.nregions, 2);
	assert_string_equal(c.regions[1], "us-west-1");
	assert_string_equal(c.ssh_user, "root");
	assert_int_equal(c.ssh_port, 2222);
	assert_int_equal(c.boot_timeout_s, 5400);
	assert_int_equal(c.poll_ms, 2000);
	assert_int_equal(c.offers_refresh_s, 300);
	assert_true(c.rate_per_s == 0);
	assert_int_equal(c.launch_interval_ms, 0);
	assert_string_equal(c.dir, "work/.gantry");
	lambda_conf_free(&c);
	kv_reset();
}

static void conf_fails(const char *key, const char *val, const char *want)
{
	struct lambda_conf c;
	char *cause = NULL;

	kv_reset();
	kv("api_key_env", "LAMBDA_KEY");
	if (key != NULL)
		kv(key, val);
	assert_int_equal(lambda_conf_parse(&kv_settings, &kv_pos, "lambda", &c, &cause), -1);
	if (cause == NULL || strstr(cause, want) == NULL)
		fail_msg("%s=%s: '%s' lacks '%s'", key, val, cause, want);
	free(cause);
	kv_reset();
}

static void test_conf_errors(void **state)
{
	(void)state;
	conf_fails("api_kye_file", "x", "config.yaml:4:5: api_kye_file: unknown setting");
	conf_fails("api_key_file", "/k", "config.yaml:4:5: api_key_file: give either");
	conf_fails("api_url", "http://cloud.lambdalabs.com/api/v1", "only to a loopback");
	conf_fails("api_url", "ftp://x", "unsupported URL scheme 'ftp'");
	conf_fails("api_url", "https://", "not a valid URL");
	conf_fails("regions.0", "US East", "expected a region name");
	conf_fails("ssh_port", "0", "ssh_port: expected a whole number 1-65535, got '0'");
	conf_fails("ssh_port", "22x", "expected a whole number");
	conf_fails("ssh_user", "-oProxyCommand=x", "expected a user name");
	conf_fails("boot_timeout", "soon", "boot_timeout: expected a duration");
	conf_fails("boot_timeout", "99999999999999d", "expected a duration");
	conf_fails("poll_interval", "0", "expected a duration");
	conf_fails("rate_limit", "-1", "expected requests per second");
	conf_fails("dir", "../x", "'..' is not allowed");
	conf_fails("ssh_user", "a\tb", "control characters");

	/* no key at all */
	{
		struct lambda_conf c;
		char *cause = NULL;

		kv_reset();
		assert_int_equal(lambda_conf_parse(&kv_settings, &kv_pos, "lambda", &c, &cause),
		                 -1);
		assert_non_null(strstr(cause, "needs api_key_file"));
		free(cause);
	}
	kv_reset();
}

/* ---- Gantry's key ---- */

static char *temp_dir(void)
{
	char *d = xstrdup("/tmp/gantry-test-lambda-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void test_key_created_once(void **state)
{
	char *dir = temp_dir(), *path, *pub, *path2, *pub2, *cause = NULL, *f;
	struct stat sb;

	(void)state;
	assert_int_equal(lambda_key_ensure(dir, &path, &pub, &cause), 0);
	assert_null(cause);
	f = xprintf("%s/id_ed25519", dir);
	assert_string_equal(path, f);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(strncmp(pub, "ssh-ed25519 AAAA", 16), 0);
	assert_null(strchr(pub, '\n'));
	/* the second call uses the same key */
	assert_int_equal(lambda_key_ensure(dir, &path2, &pub2, &cause), 0);
	assert_string_equal(pub, pub2);
	free(path2);
	free(pub2);
	/* a key others can read is refused */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(lambda_key_ensure(dir, &path2, &pub2, &cause), -1);
	assert_non_null(strstr(cause, "0600"));
	free(cause);
	cause = NULL;
	unlink(path);
	/* a symlink planted where the key goes is never followed */
	assert_int_equal(symlink("/etc/passwd", f), 0);
	assert_int_equal(lambda_key_ensure(dir, &path2, &pub2, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	unlink(f);
	/* the directory must be Gantry's own */
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(lambda_key_ensure(dir, &path2, &pub2, &cause), -1);
	assert_non_null(cause);
	free(cause);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(rmdir(dir), 0); /* nothing left behind (no temporary directories) */
	free(f);
	free(path);
	free(pub);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_types_reference_sample),
	    cmocka_unit_test(test_types_regions),
	    cmocka_unit_test(test_types_unusable),
	    cmocka_unit_test(test_types_malformed_entries),
	    cmocka_unit_test(test_gpu_names),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_error_text_sanitised),
	    cmocka_unit_test(test_instance),
	    cmocka_unit_test(test_instance_malformed),
	    cmocka_unit_test(test_instances_list),
	    cmocka_unit_test(test_launch_answer),
	    cmocka_unit_test(test_keys_answer),
	    cmocka_unit_test(test_bodies),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_refs),
	    cmocka_unit_test(test_conf_defaults),
	    cmocka_unit_test(test_conf_errors),
	    cmocka_unit_test(test_key_created_once),
	};

	kvlist_init(&kv_settings);
	kvlist_init(&kv_pos);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
