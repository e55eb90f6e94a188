/* test_nvsmi.c: the nvidia-smi CSV parser and the telemetry ownership helpers.
 * Inputs are real-format lines: captured from tests/sshd/fake-bin/nvidia-smi
 * (FAKE_GPU_TIME=1700000000, the field lists of core/nvsmi.h) and written by hand after
 * the captures quoted in tests/sshd/README.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/nvsmi.h"
#include "core/telemetry.h"
#include "core/xmalloc.h"

/* FAKE_GPU_TIME=1700000000 nvidia-smi --query-gpu=NVSMI_GPU_FIELDS
 * --format=csv,noheader,nounits */
static const char fake_gpus[] =
    "0, NVIDIA H100 80GB HBM3, GPU-b05f55dc-5c19-cc8b-5753-47418c850288, 0, 4, 81559, 35, "
    "74.42, 700.00\n"
    "1, NVIDIA H100 80GB HBM3, GPU-a0b9d7ef-0634-5ec7-2ab5-9ce3279ecae5, 91, 31901, 81559, 70, "
    "558.16, 700.00\n"
    "2, NVIDIA H100 80GB HBM3, GPU-8675c2f6-820a-9151-4f44-80bcdb755b73, 84, 67133, 81559, 70, "
    "524.70, 700.00\n"
    "3, NVIDIA H100 80GB HBM3, GPU-c3d545a4-c877-a148-56fb-2a46e28708bf, 0, 0, 81559, 31, "
    "72.68, 700.00\n"
    "4, NVIDIA H100 80GB HBM3, GPU-c4a58728-57f2-45cf-9840-0dee20d6c888, 96, 65316, 81559, 75, "
    "583.87, 700.00\n"
    "5, NVIDIA H100 80GB HBM3, GPU-f828268a-f944-f535-3288-3bb846e5b6f8, 98, 65702, 81559, 74, "
    "593.93, 700.00\n"
    "6, NVIDIA H100 80GB HBM3, GPU-1c2328a5-917f-ec0f-3157-9f057730428b, 0, 0, 81559, 30, "
    "77.78, 700.00\n"
    "7, NVIDIA H100 80GB HBM3, GPU-882012fa-b191-cdd9-c160-e663496d1ad5, 0, 4, 81559, 33, "
    "75.17, 700.00\n";

/* FAKE_GPU_TIME=1700000000 nvidia-smi --query-compute-apps=NVSMI_APP_FIELDS
 * --format=csv,noheader,nounits */
static const char fake_apps[] =
    "1427141, python3, GPU-a0b9d7ef-0634-5ec7-2ab5-9ce3279ecae5, 31892\n"
    "2616973, python3, GPU-8675c2f6-820a-9151-4f44-80bcdb755b73, 67124\n"
    "2438650, /usr/bin/python3, GPU-c4a58728-57f2-45cf-9840-0dee20d6c888, 65307\n"
    "120055, python3, GPU-f828268a-f944-f535-3288-3bb846e5b6f8, 65693\n";

static void test_values(void **state)
{
	struct tele_val v;
	const char *na[] = {"[N/A]", "N/A", "[Not Supported]", "[Not Found]", "[Unknown Error]",
	                    "",      "  ",  " [N/A] "};
	const char *bad[] = {"abc",   "12abc",  "0x10", "nan", "inf",
	                     "1e999", "12 MiB", "N/A!", "[N/A"};

	(void)state;
	assert_int_equal(nvsmi_value("74.42", &v), 0);
	assert_true(v.ok);
	assert_float_equal(v.v, 74.42, 1e-9);
	assert_int_equal(nvsmi_value(" 0 ", &v), 0);
	assert_true(v.ok);
	assert_float_equal(v.v, 0, 0);
	assert_int_equal(nvsmi_value("-3", &v), 0);
	assert_true(v.ok);
	assert_float_equal(v.v, -3, 0);
	for (size_t i = 0; i < sizeof na / sizeof na[0]; i++) {
		v.ok = 1;
		v.v = 5;
		assert_int_equal(nvsmi_value(na[i], &v), 0);
		assert_false(v.ok);
		assert_float_equal(v.v, 0, 0);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(nvsmi_value(bad[i], &v), -1);
}

static void test_fake_gpus(void **state)
{
	struct tele_gpu *g = NULL;
	size_t n = 0;
	char *cause = NULL;

	(void)state;
	assert_int_equal(nvsmi_parse_gpus(fake_gpus, &g, &n, &cause), 0);
	assert_null(cause);
	assert_int_equal(n, 8);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(g[i].index, (int)i);
		assert_string_equal(g[i].name, "NVIDIA H100 80GB HBM3");
		assert_true(g[i].mem_total_mib.ok);
		assert_float_equal(g[i].mem_total_mib.v, 81559, 0);
		assert_true(g[i].power_limit_w.ok);
		assert_float_equal(g[i].power_limit_w.v, 700, 1e-9);
	}
	assert_string_equal(g[1].uuid, "GPU-a0b9d7ef-0634-5ec7-2ab5-9ce3279ecae5");
	assert_float_equal(g[1].util_pct.v, 91, 0);
	assert_float_equal(g[1].mem_used_mib.v, 31901, 0);
	assert_float_equal(g[1].temp_c.v, 70, 0);
	assert_float_equal(g[1].power_w.v, 558.16, 1e-9);
	assert_true(g[7].util_pct.ok);
	assert_float_equal(g[7].util_pct.v, 0, 0);
	free(g);
}

static void test_fake_apps(void **state)
{
	struct tele_proc *p = NULL;
	size_t n = 0;
	char *cause = NULL;

	(void)state;
	assert_int_equal(nvsmi_parse_apps(fake_apps, &p, &n, &cause), 0);
	assert_int_equal(n, 4);
	assert_int_equal(p[0].pid, 1427141);
	assert_string_equal(p[0].name, "python3");
	assert_string_equal(p[2].name, "/usr/bin/python3");
	assert_string_equal(p[2].gpu_uuid, "GPU-c4a58728-57f2-45cf-9840-0dee20d6c888");
	assert_true(p[3].mem_mib.ok);
	assert_float_equal(p[3].mem_mib.v, 65693, 0);
	free(p);
}

/* FAKE_GPU_NA=power.draw, and the other spellings real drivers print. */
static void test_not_available(void **state)
{
	const char *text =
	    "0, NVIDIA H100 80GB HBM3, GPU-b05f55dc-5c19-cc8b-5753-47418c850288, 0, 4, 81559, 35, "
	    "[N/A], 700.00\n"
	    "1, NVIDIA A10, GPU-a0b9d7ef-0634-5ec7-2ab5-9ce3279ecae5, [Not Supported], N/A, 23028, "
	    "[Unknown Error], 26.42, [N/A]\r\n";
	struct tele_gpu *g = NULL;
	size_t n = 0;
	char *cause = NULL;

	(void)state;
	assert_int_equal(nvsmi_parse_gpus(text, &g, &n, &cause), 0);
	assert_int_equal(n, 2);
	assert_false(g[0].power_w.ok);
	assert_true(g[0].power_limit_w.ok);
	assert_true(g[0].util_pct.ok);
	assert_false(g[1].util_pct.ok);
	assert_false(g[1].mem_used_mib.ok);
	assert_true(g[1].mem_total_mib.ok);
	assert_false(g[1].temp_c.ok);
	assert_float_equal(g[1].power_w.v, 26.42, 1e-9);
	assert_false(g[1].power_limit_w.ok);
	assert_string_equal(g[1].name, "NVIDIA A10");
	free(g);
}

static void test_apps_odd_names(void **state)
{
	const char *text = "4242, [Not Found], GPU-b05f55dc-5c19-cc8b-5753-47418c850288, 1024\n"
	                   "77, /opt/my app, v2/python, GPU-b05f55dc-5c19-cc8b-5753-47418c850288, "
	                   "[N/A]\n"
	                   "[N/A], vgpu, GPU-d0180485-0000-0000-0000-000000000000, 0\n";
	struct tele_proc *p = NULL;
	size_t n = 0;
	char *cause = NULL;

	(void)state;
	assert_int_equal(nvsmi_parse_apps(text, &p, &n, &cause), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[0].pid, 4242);
	assert_string_equal(p[0].name, "");
	assert_float_equal(p[0].mem_mib.v, 1024, 0);
	assert_string_equal(p[1].name, "/opt/my app, v2/python");
	assert_string_equal(p[1].gpu_uuid, "GPU-b05f55dc-5c19-cc8b-5753-47418c850288");
	assert_false(p[1].mem_mib.ok);
	assert_int_equal(p[2].pid, 0);
	assert_string_equal(p[2].name, "vgpu");
	free(p);
}

/* No process: nvidia-smi prints nothing with noheader. */
static void test_empty(void **state)
{
	struct tele_proc *p = (struct tele_proc *)1;
	struct tele_gpu *g = (struct tele_gpu *)1;
	size_t n = 99;
	char *cause = NULL;

	(void)state;
	assert_int_equal(nvsmi_parse_apps("", &p, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_null(p);
	assert_int_equal(nvsmi_parse_apps("\n\n", &p, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_int_equal(nvsmi_parse_gpus("", &g, &n, &cause), 0);
	assert_int_equal(n, 0);
	assert_null(g);
	assert_null(cause);
}

static void expect_gpu_error(const char *text, const char *want)
{
	struct tele_gpu *g = (struct tele_gpu *)1;
	size_t n = 99;
	char *cause = NULL;

	assert_int_equal(nvsmi_parse_gpus(text, &g, &n, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	assert_null(g);
	assert_int_equal(n, 0);
	free(cause);
}

static void test_errors(void **state)
{
	struct tele_proc *p = NULL;
	size_t n = 0;
	char *cause = NULL;
	char *text;

	(void)state;
	expect_gpu_error("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA "
	                 "driver. Make sure that the latest NVIDIA driver is installed and "
	                 "running.\n\n",
	                 "line 1: expected 9 fields, got 1: \"NVIDIA-SMI has failed because it "
	                 "couldn't communicate");
	text = xprintf("%s%s", fake_gpus,
	               "8, NVIDIA H100 80GB HBM3, GPU-x, 12 %, 4 MiB, 81559, 35, 74.42, 700.00\n");
	expect_gpu_error(text, "line 9: utilization.gpu is not a number: \"12 %\"");
	free(text);
	expect_gpu_error("0, NVIDIA H100, GPU-x, 1, 2, 3\n", "line 1: expected 9 fields, got 6");
	expect_gpu_error("\nzero, NVIDIA H100, GPU-x, 1, 2, 3, 4, 5, 6\n",
	                 "line 2: index is not a number: \"zero\"");
	expect_gpu_error("0, H100, GPU-x, 1, 2, 3, 4, 5, 6\n\x1b[31mgarbage\n",
	                 "line 2: expected 9 fields, got 1: \"?[31mgarbage\"");
	expect_gpu_error("No devices were found\n", "line 1");
	assert_int_equal(nvsmi_parse_apps("1, python3, GPU-x, lots\n", &p, &n, &cause), -1);
	assert_string_equal(cause, "line 1: used_gpu_memory is not a number: \"lots\"");
	free(cause);
	cause = NULL;
	assert_int_equal(
	    nvsmi_parse_apps("Field \"x\" is not a valid field to query.\n", &p, &n, &cause), -1);
	assert_non_null(strstr(cause, "line 1: expected 4 fields"));
	free(cause);
}

static void test_tele_copy(void **state)
{
	struct tele_host h, c;
	size_t n = 0;
	char *cause = NULL;
	struct tele_host *arr;

	(void)state;
	memset(&h, 0, sizeof h);
	h.name = xstrdup("gpu1");
	h.address = xstrdup("127.0.0.2:22");
	h.reason = xstrdup("down");
	h.gpu_type = xstrdup("H100");
	h.reachable = 1;
	h.gpus_total = 8;
	assert_int_equal(nvsmi_parse_gpus(fake_gpus, &h.gpus, &h.ngpus, &cause), 0);
	assert_int_equal(nvsmi_parse_apps(fake_apps, &h.procs, &h.nprocs, &cause), 0);
	tele_host_copy(&c, &h);
	tele_host_clear(&h);
	assert_null(h.name);
	assert_int_equal(h.ngpus, 0);
	assert_string_equal(c.name, "gpu1");
	assert_string_equal(c.address, "127.0.0.2:22");
	assert_string_equal(c.reason, "down");
	assert_null(c.gpu_error);
	assert_int_equal(c.ngpus, 8);
	assert_string_equal(c.gpus[3].uuid, "GPU-c3d545a4-c877-a148-56fb-2a46e28708bf");
	assert_int_equal(c.nprocs, 4);
	assert_int_equal(c.gpus_total, 8);
	arr = xcalloc(2, sizeof *arr);
	tele_host_copy(&arr[0], &c);
	tele_host_clear(&c);
	tele_hosts_free(arr, 2);
	tele_hosts_free(NULL, 0);
	tele_host_clear(NULL);
	(void)n;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),         cmocka_unit_test(test_fake_gpus),
	    cmocka_unit_test(test_fake_apps),      cmocka_unit_test(test_not_available),
	    cmocka_unit_test(test_apps_odd_names), cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_errors),         cmocka_unit_test(test_tele_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
