/* test_catalog.c: the price catalog: the shipped file, malformed rows with FILE:LINE warnings,
 * RFC 4180 quoting, lookups, site rates and price precedence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/catalog.h"
#include "core/xmalloc.h"

/* Collected warnings. */
struct warns {
	char *msg[64];
	size_t n;
};

static void warn_collect(void *arg, const char *msg)
{
	struct warns *w = arg;

	assert_true(w->n < 64);
	w->msg[w->n++] = xstrdup(msg);
}

static void warns_free(struct warns *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->msg[i]);
	w->n = 0;
}

/* Writes text to a new temporary file; returns its path (caller unlinks and frees). */
static char *write_temp(const char *text)
{
	char *path = xstrdup("/tmp/gantry-test-catalog-XXXXXX");
	int fd = mkstemp(path);
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

static struct catalog *parse_ok(const char *text, struct warns *w)
{
	struct catalog *c = NULL;
	char *cause = NULL;

	assert_int_equal(catalog_parse("t.csv", text, strlen(text), warn_collect, w, &c, &cause),
	                 0);
	assert_null(cause);
	assert_non_null(c);
	return c;
}

static void test_shipped_loads(void **state)
{
	struct catalog *c = NULL;
	struct catalog_query q = {0};
	const struct catalog_row *r;
	struct warns w = {0};
	char *path, *cause = NULL;
	double price = 0;
	size_t i, gcp = 0, spot = 0;

	(void)state;
	assert_non_null(getenv("GANTRY_DATADIR")); /* set by make check; its absence fails */
	path = catalog_default_path(NULL);
	assert_int_equal(catalog_load(path, warn_collect, &w, &c, &cause), 0);
	assert_null(cause);
	assert_int_equal(w.n, 0);
	assert_int_equal(c->nrows, 542);
	assert_string_equal(c->path, path);
	for (i = 0; i < c->nrows; i++) {
		assert_true(c->rows[i].ondemand > 0);
		if (strcmp(c->rows[i].provider, "gcp") == 0)
			gcp++;
		if (c->rows[i].spot >= 0)
			spot++;
		/* Lambda and RunPod have no spot price */
		if (strcmp(c->rows[i].provider, "lambda") == 0 ||
		    strcmp(c->rows[i].provider, "runpod") == 0)
			assert_true(c->rows[i].spot < 0);
	}
	assert_int_equal(gcp, 52);
	assert_true(spot > 0);

	/* cheapest H100x8 on demand anywhere: Lambda's, the same in every region (ties by name) */
	q.gpu_name = "H100";
	q.gpu_count = 8;
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->provider, "lambda");
	assert_string_equal(r->region, "asia-northeast-1");
	assert_string_equal(r->instance_type, "gpu_8x_h100_sxm5");
	assert_float_equal(price, 31.92, 1e-9);
	/* spot: only AWS and GCP have spot prices; the cheapest H100x8 is p5.48xlarge */
	q.market = CATALOG_SPOT;
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->instance_type, "p5.48xlarge");
	assert_string_equal(r->region, "us-east-1");
	assert_float_equal(price, 10.2397, 1e-9);
	assert_float_equal(r->ondemand, 55.04, 1e-9);
	/* GCP host + GPU were summed: a3-highgpu-1g in us-central1 = 1.18251 + 4.20076 */
	q.provider = "gcp";
	q.region = "us-central1";
	q.gpu_count = 1;
	q.market = CATALOG_ONDEMAND;
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->instance_type, "a3-highgpu-1g");
	assert_float_equal(price, 5.38327, 1e-9);
	/* A100 and A100-80GB are different GPUs */
	memset(&q, 0, sizeof q);
	q.gpu_name = "a100-80gb";
	q.gpu_count = 8;
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->instance_type, "gpu_8x_a100_80gb_sxm4");
	assert_float_equal(price, 22.32, 1e-9);
	q.gpu_name = "A100";
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->instance_type, "gpu_8x_a100");
	assert_float_equal(price, 15.92, 1e-9);
	catalog_free(c);
	free(path);
}

/* Line numbers of this fixture are part of the expected warnings. */
static const char bad_fixture[] = CATALOG_HEADER
    "\n"                                                                   /* 1 */
    "lambda,us-east-1,gpu_1x_h100_pcie,H100,1,26,200,3.29,\n"              /* 2 good */
    "lambda,us-east-1,gpu_1x_a10,A10,1,30,200,1.29\n"                      /* 3 columns */
    "aws,us-east-1,p5.48xlarge,H100,8,192,2048,abc,10.2\n"                 /* 4 non-numeric */
    "aws,us-east-1,p4d.24xlarge,A100,8,96,1152,-3,\n"                      /* 5 negative */
    "aws,us-east-1,g5.xlarge,A10G,,4,16,1.0,0.4\n"                         /* 6 missing count */
    "aws,us-east-1,g6.xlarge,L4,1,4,16,0.8,0.3\n"                          /* 7 good */
    "aws,us-west-2,g6.xlarge,L4,1.5,4,16,0.8,0.3\n"                        /* 8 bad count */
    ",us-west-2,g6.xlarge,L4,1,4,16,0.8,0.3\n"                             /* 9 empty provider */
    "aws,us-west-2,,L4,1,4,16,0.8,0.3\n"                                   /* 10 empty type */
    "aws,us-west-2,c7i,,4,4,16,0.8,\n"                                     /* 11 count w/o gpu */
    "aws,us-west-2,g6.xlarge,L4,1,four,16,0.8,0.3\n"                       /* 12 vcpus */
    "aws,us-west-2,g6.2xlarge,L4,1,8,32,,0.3\n"                            /* 13 missing price */
    "aws,us-west-2,g6.4xlarge,L4,1,16,64,1.3,-0.1\n"                       /* 14 negative spot */
    "aws,us-west-2,g6.8xlarge,L4,1,32,128,inf,\n"                          /* 15 inf */
    "aws,us-west-2,\"g6.\"x,L4,1,32,128,1,\n"                              /* 16 stray quote */
    "aws,us-west-2,g6\"x,L4,1,32,128,1,\n"                                 /* 17 bare quote */
    "\n"                                                                   /* 18 blank */
    "aws,\"us-west-2\",\"g6.12xlarge\",\"L4\",\"4\",48,192,\"4.6\",\"\"\n" /* 19 good quoted */
    "aws,us-east-1,g6.xlarge,L4,1,4,16,0.9,0.3\n"                          /* 20 duplicate of 7 */
    "lambda,us-east-1,\"gpu_1x_multi\nline\",A6000,1,14,100,1.09,\n"       /* 21-22 good */
    "lambda,us-east-1,gpu_1x_nan,A6000,1,14,100,nan,\n"                    /* 23 nan */
    "lambda,us-east-1,\"gpu_1x_open,A6000,1,14,100,1.0,\n";                /* 24 unterminated */

static void test_malformed_rows(void **state)
{
	static const char *const expect[] = {
	    ":3: wrong column count (8, expected 9)",
	    ":4: non-numeric ondemand_usd_per_hour \"abc\"",
	    ":5: negative ondemand_usd_per_hour -3",
	    ":6: missing gpu_count for gpu_name \"A10G\"",
	    ":8: bad gpu_count \"1.5\" (expected a whole number >= 1)",
	    ":9: empty provider",
	    ":10: empty instance_type",
	    ":11: gpu_count \"4\" without gpu_name",
	    ":12: non-numeric vcpus \"four\"",
	    ":13: missing ondemand_usd_per_hour",
	    ":14: negative spot_usd_per_hour -0.1",
	    ":15: non-numeric ondemand_usd_per_hour \"inf\"",
	    ":16: stray character after a closing quote",
	    ":17: quote inside an unquoted field",
	    ":20: duplicate of line 7 (aws/us-east-1/g6.xlarge)",
	    ":23: non-numeric ondemand_usd_per_hour \"nan\"",
	    ":24: unterminated quoted field",
	};
	struct catalog *c = NULL;
	struct warns w = {0};
	char *path = write_temp(bad_fixture), *cause = NULL, *want;
	size_t i;

	(void)state;
	assert_int_equal(catalog_load(path, warn_collect, &w, &c, &cause), 0);
	assert_null(cause);
	assert_int_equal(w.n, sizeof expect / sizeof expect[0]);
	for (i = 0; i < w.n; i++) {
		want = xprintf("%s%s", path, expect[i]);
		assert_string_equal(w.msg[i], want);
		free(want);
	}
	/* the good rows stay, in file order, with their lines */
	assert_int_equal(c->nrows, 4);
	assert_string_equal(c->rows[0].instance_type, "gpu_1x_h100_pcie");
	assert_int_equal(c->rows[0].line, 2);
	assert_true(c->rows[0].spot < 0);
	assert_string_equal(c->rows[1].instance_type, "g6.xlarge");
	assert_int_equal(c->rows[1].line, 7);
	assert_float_equal(c->rows[1].ondemand, 0.8, 1e-12); /* the first of the duplicates */
	assert_string_equal(c->rows[2].instance_type, "g6.12xlarge");
	assert_int_equal(c->rows[2].gpu_count, 4);
	assert_float_equal(c->rows[2].ondemand, 4.6, 1e-12);
	assert_true(c->rows[2].spot < 0);
	assert_string_equal(c->rows[3].instance_type, "gpu_1x_multi\nline");
	assert_int_equal(c->rows[3].line, 21);
	catalog_free(c);
	warns_free(&w);
	/* without a warning callback the same file loads the same rows */
	assert_int_equal(catalog_load(path, NULL, NULL, &c, &cause), 0);
	assert_int_equal(c->nrows, 4);
	catalog_free(c);
	unlink(path);
	free(path);
}

static void test_header_and_file_errors(void **state)
{
	struct catalog *c = (struct catalog *)1;
	struct warns w = {0};
	char *cause = NULL, *path, *want;
	const char *wrong = "provider,region,instance_type,gpu,gpu_count,vcpus,memory_gib,"
	                    "ondemand_usd_per_hour,spot_usd_per_hour\nlambda,x,y,H100,1,1,1,1,\n";

	(void)state;
	assert_int_equal(catalog_parse("h.csv", wrong, strlen(wrong), warn_collect, &w, &c, &cause),
	                 -1);
	assert_null(c);
	assert_string_equal(cause, "h.csv:1: wrong header (expected " CATALOG_HEADER ")");
	assert_int_equal(w.n, 0);
	free(cause);
	cause = NULL;
	assert_int_equal(catalog_parse("e.csv", "", 0, warn_collect, &w, &c, &cause), -1);
	assert_string_equal(cause, "e.csv:1: empty file (expected the header " CATALOG_HEADER ")");
	free(cause);
	cause = NULL;
	/* a header with a tenth column is wrong too */
	path = write_temp(CATALOG_HEADER ",extra\n");
	assert_int_equal(catalog_load(path, warn_collect, &w, &c, &cause), -1);
	assert_non_null(strstr(cause, ":1: wrong header"));
	assert_int_equal(strncmp(cause, path, strlen(path)), 0);
	free(cause);
	cause = NULL;
	unlink(path);
	/* a file that is not there */
	assert_int_equal(catalog_load(path, warn_collect, &w, &c, &cause), -1);
	assert_null(c);
	want = xprintf("%s: No such file or directory", path);
	assert_string_equal(cause, want);
	free(want);
	free(cause);
	free(path);
}

static void test_quoting_crlf_bom(void **state)
{
	const char text[] = "\xef\xbb\xbf" CATALOG_HEADER "\r\n"
	                    "\"aws\",\"us-east-1\",\"p5,odd \"\"name\"\"\",H100,8,192,2048,55.04,"
	                    "10.2397\r\n"
	                    "lambda,us-east-1,cpu_4x_general,,,4,16,0.2,\r\n"
	                    "lambda,us-east-1,cpu_8x,,0, 8 ,32, 0.4 ,\r\n"
	                    "\r\n"
	                    "lambda,us-west-1,gpu_1x_a10,A10,1,30,200,1.29,"; /* no final newline */
	struct warns w = {0};
	struct catalog *c = parse_ok(text, &w);

	(void)state;
	assert_int_equal(w.n, 0);
	assert_int_equal(c->nrows, 4);
	assert_string_equal(c->rows[0].provider, "aws");
	assert_string_equal(c->rows[0].instance_type, "p5,odd \"name\"");
	assert_float_equal(c->rows[0].spot, 10.2397, 1e-12);
	assert_int_equal(c->rows[0].line, 2);
	assert_string_equal(c->rows[1].gpu_name, "");
	assert_int_equal(c->rows[1].gpu_count, 0);
	assert_float_equal(c->rows[1].vcpus, 4, 0);
	assert_int_equal(c->rows[2].gpu_count, 0);
	assert_float_equal(c->rows[2].vcpus, 8, 0);
	assert_float_equal(c->rows[2].ondemand, 0.4, 1e-12);
	assert_string_equal(c->rows[3].region, "us-west-1");
	assert_int_equal(c->rows[3].line, 6);
	catalog_free(c);
}

static void test_warning_shows_control_bytes(void **state)
{
	const char text[] = CATALOG_HEADER "\n"
	                                   "aws,r,t,H100,1,1,1,\"1\x1b[2J\",\n";
	struct warns w = {0};
	struct catalog *c = parse_ok(text, &w);

	(void)state;
	assert_int_equal(c->nrows, 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.msg[0], "t.csv:2: non-numeric ondemand_usd_per_hour \"1\\x1b[2J\"");
	catalog_free(c);
	warns_free(&w);
}

static const char lookup_fixture[] =
    CATALOG_HEADER "\n"
                   "aws,us-east-1,p5.48xlarge,H100,8,192,2048,55.04,30\n"
                   "aws,eu-west-1,p5.48xlarge,H100,8,192,2048,60,12\n"
                   "lambda,us-east-1,gpu_8x_h100_sxm5,H100,8,208,1800,31.92,\n"
                   "lambda,eu-central-1,gpu_8x_h100_sxm5,H100,8,208,1800,31.92,\n"
                   "gcp,us-central1,a3-highgpu-8g,H100,8,208,1872,43,18\n"
                   "lambda,us-east-1,gpu_8x_a100_80gb_sxm4,A100-80GB,8,240,1800,22.32,\n"
                   "lambda,us-east-1,gpu_1x_a100,A100,1,30,200,1.99,\n"
                   "aws,us-east-1,p4d.24xlarge,A100,8,96,1152,32.77,9\n"
                   "lambda,us-east-1,cpu_4x_general,,,4,16,0.2,\n"
                   "lambda,us-east-1,cpu_16x,,,16,64,0.8,\n";

static void test_lookup(void **state)
{
	struct warns w = {0};
	struct catalog *c = parse_ok(lookup_fixture, &w);
	struct catalog_query q = {.gpu_name = "h100", .gpu_count = 8};
	const struct catalog_row *r;
	double price = -1;

	(void)state;
	assert_int_equal(w.n, 0);
	/* cheapest on demand; equal prices ordered by region name */
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->provider, "lambda");
	assert_string_equal(r->region, "eu-central-1");
	assert_float_equal(price, 31.92, 0);
	/* spot: lambda has none; aws eu-west-1 is the cheapest spot though dearer on demand */
	q.market = CATALOG_SPOT;
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->provider, "aws");
	assert_string_equal(r->region, "eu-west-1");
	assert_float_equal(price, 12, 0);
	/* region filter (case-insensitive) */
	q.region = "US-EAST-1";
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->region, "us-east-1");
	assert_float_equal(price, 30, 0);
	q.market = CATALOG_ONDEMAND;
	r = catalog_lookup(c, &q, &price);
	assert_string_equal(r->provider, "lambda");
	/* provider filter */
	q.provider = "gcp";
	q.region = NULL;
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->instance_type, "a3-highgpu-8g");
	q.region = "us-east-1";
	assert_null(catalog_lookup(c, &q, &price));
	/* count is exact */
	memset(&q, 0, sizeof q);
	q.gpu_name = "H100";
	q.gpu_count = 4;
	assert_null(catalog_lookup(c, &q, NULL));
	/* A100 never matches A100-80GB and back */
	q.gpu_name = "A100";
	q.gpu_count = 8;
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->instance_type, "p4d.24xlarge");
	q.gpu_name = "A100-80GB";
	r = catalog_lookup(c, &q, &price);
	assert_string_equal(r->instance_type, "gpu_8x_a100_80gb_sxm4");
	q.gpu_count = 1;
	assert_null(catalog_lookup(c, &q, NULL));
	/* unknown GPU: none */
	q.gpu_name = "MI300X";
	q.gpu_count = 8;
	price = -1;
	assert_null(catalog_lookup(c, &q, &price));
	assert_float_equal(price, -1, 0); /* untouched */
	q.gpu_name = "H10";               /* no prefix matching */
	assert_null(catalog_lookup(c, &q, NULL));
	/* CPU-only, with a minimum of CPUs and memory */
	memset(&q, 0, sizeof q);
	r = catalog_lookup(c, &q, &price);
	assert_non_null(r);
	assert_string_equal(r->instance_type, "cpu_4x_general");
	q.min_vcpus = 8;
	r = catalog_lookup(c, &q, &price);
	assert_string_equal(r->instance_type, "cpu_16x");
	q.min_vcpus = 0;
	q.min_memory_gib = 65;
	assert_null(catalog_lookup(c, &q, NULL));
	q.market = CATALOG_SPOT;
	q.min_memory_gib = 0;
	assert_null(catalog_lookup(c, &q, NULL));
	assert_null(catalog_lookup(NULL, &q, NULL));
	catalog_free(c);
}

static void test_site_price(void **state)
{
	const struct catalog_site_gpu_rate gpus[] = {{"H100", 2.5}, {"a100", 1.25}};
	const struct catalog_site_gpu_rate any[] = {{"H100", 2.5}, {"*", 0.75}};
	struct catalog_site_rates r = {
	    .gpu = gpus, .ngpu = 2, .has_cpu_rate = 1, .usd_per_cpu_hour = 0.02};
	double p = -1;

	(void)state;
	assert_int_equal(catalog_site_price(&r, "H100", 8, 64, &p), 0);
	assert_float_equal(p, 8 * 2.5 + 64 * 0.02, 1e-12);
	assert_int_equal(catalog_site_price(&r, "A100", 2, 0, &p), 0); /* type case-insensitive */
	assert_float_equal(p, 2.5, 1e-12);
	assert_int_equal(catalog_site_price(&r, NULL, 0, 4, &p), 0); /* CPU only */
	assert_float_equal(p, 0.08, 1e-12);
	/* a GPU type without a rate is unpriced, never $0 */
	assert_int_equal(catalog_site_price(&r, "L4", 1, 4, &p), -1);
	assert_float_equal(p, 0, 0);
	assert_int_equal(catalog_site_price(&r, NULL, 1, 4, &p), -1);
	/* "*" covers the types not listed */
	r.gpu = any;
	assert_int_equal(catalog_site_price(&r, "L4", 2, 0, &p), 0);
	assert_float_equal(p, 1.5, 1e-12);
	assert_int_equal(catalog_site_price(&r, "h100", 1, 0, &p), 0);
	assert_float_equal(p, 2.5, 1e-12);
	/* no CPU rate: GPUs priced alone, CPU-only jobs unpriced */
	r.has_cpu_rate = 0;
	assert_int_equal(catalog_site_price(&r, "H100", 1, 16, &p), 0);
	assert_float_equal(p, 2.5, 1e-12);
	assert_int_equal(catalog_site_price(&r, NULL, 0, 16, &p), -1);
	assert_int_equal(catalog_site_price(&r, "H100", -1, 0, &p), -1);
	assert_int_equal(catalog_site_price(NULL, "H100", 1, 0, &p), -1);
}

static void test_price_pick(void **state)
{
	double p = -1;

	(void)state;
	assert_int_equal(catalog_price_pick(1, 3, 1, 2, 1, 1, &p), CATALOG_SRC_LIVE);
	assert_float_equal(p, 3, 0);
	assert_int_equal(catalog_price_pick(0, 3, 1, 2, 1, 1, &p), CATALOG_SRC_CATALOG);
	assert_float_equal(p, 2, 0);
	assert_int_equal(catalog_price_pick(1, -1, 0, 2, 1, 1, &p), CATALOG_SRC_SITE);
	assert_float_equal(p, 1, 0);
	assert_int_equal(catalog_price_pick(1, 0.0 / 0.0, 0, 0, 0, 0, &p), CATALOG_SRC_NONE);
	assert_float_equal(p, 0, 0);
	/* a live price of 0 is a real price (free capacity), not "unpriced" */
	assert_int_equal(catalog_price_pick(1, 0, 1, 2, 0, 0, &p), CATALOG_SRC_LIVE);
	assert_string_equal(catalog_source_name(CATALOG_SRC_NONE), "unpriced");
	assert_string_equal(catalog_source_name(CATALOG_SRC_CATALOG), "catalog");
}

static void test_default_path(void **state)
{
	char *p = catalog_default_path("/opt/g");

	(void)state;
	assert_string_equal(p, "/opt/g/catalog/gpu-prices.csv");
	free(p);
	setenv("GANTRY_DATADIR", "/src/gantry", 1);
	p = catalog_default_path(NULL);
	assert_string_equal(p, "/src/gantry/catalog/gpu-prices.csv");
	free(p);
	unsetenv("GANTRY_DATADIR");
	p = catalog_default_path("");
	assert_string_equal(p, GANTRY_PKGDATADIR "/catalog/gpu-prices.csv");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shipped_loads),
	    cmocka_unit_test(test_malformed_rows),
	    cmocka_unit_test(test_header_and_file_errors),
	    cmocka_unit_test(test_quoting_crlf_bom),
	    cmocka_unit_test(test_warning_shows_control_bytes),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_site_price),
	    cmocka_unit_test(test_price_pick),
	    cmocka_unit_test(test_default_path), /* last: it changes GANTRY_DATADIR */
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
