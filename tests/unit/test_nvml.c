/* test_nvml.c: core/nvml.c and the local provider's hosts op against the fake NVML libraries
 * built from tests/nvml/fake_nvml.c (FAKE_NVML_DIR/{new,old,v1,nocount}/libnvidia-ml.so.1),
 * loaded through GANTRY_NVML_LIB and, in a child process, through LD_LIBRARY_PATH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/nvml.h"
#include "core/telemetry.h"
#include "core/xmalloc.h"
#include "providers/local.h"

#ifndef FAKE_NVML_DIR
#error "FAKE_NVML_DIR must name the folder of the fake NVML builds"
#endif

#define MIB 1048576ULL

static char tmpdir[256], script_path[300], log_path[300];
static const char *self_path; /* argv[0]: the child of test_ld_library_path runs it again */

/* Two H100s with three processes; GPU 1 idle. */
static const char two_gpus[] = "count 2\n"
                               "gpu 0 name NVIDIA H100 80GB HBM3\n"
                               "gpu 0 uuid GPU-b05f55dc-5c19-cc8b-5753-47418c850288\n"
                               "gpu 0 util 98\n"
                               "gpu 0 mem 25125978112 85520809984\n"
                               "gpu 0 temp 76\n"
                               "gpu 0 power 599123\n"
                               "gpu 0 limit 700000\n"
                               "gpu 0 mgmt_limit 650000\n"
                               "gpu 0 proc 4242 1073741824 python3\n"
                               "gpu 0 proc 4243 na worker\n"
                               "gpu 1 name NVIDIA H100 80GB HBM3\n"
                               "gpu 1 uuid GPU-a0b9d7ef-0634-5ec7-2ab5-9ce3279ecae5\n"
                               "gpu 1 util 0\n"
                               "gpu 1 mem 4194304 85520809984\n"
                               "gpu 1 temp 31\n"
                               "gpu 1 power 72680\n"
                               "gpu 1 limit 700000\n"
                               "gpu 1 proc 777 2147483648 train\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return xstrdup("");
	buf = xcalloc(1, 1 << 20);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Lines of the fake's call log equal to fn. */
static int log_count(const char *fn)
{
	char *text = read_all(log_path), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strcmp(line, fn) == 0)
			n++;
	free(text);
	return n;
}

/* Points the loader at one of the fake builds with a script. */
static void use_fake(const char *variant, const char *script)
{
	char lib[512];

	nvml_reset();
	snprintf(lib, sizeof lib, "%s/%s/libnvidia-ml.so.1", FAKE_NVML_DIR, variant);
	assert_int_equal(access(lib, R_OK), 0);
	setenv("GANTRY_NVML_LIB", lib, 1);
	write_file(script_path, script);
	unlink(log_path);
}

static int setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "%s/gantry-nvml-XXXXXX",
	         base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(script_path, sizeof script_path, "%s/script", tmpdir);
	snprintf(log_path, sizeof log_path, "%s/log", tmpdir);
	setenv("FAKE_NVML_SCRIPT", script_path, 1);
	setenv("FAKE_NVML_LOG", log_path, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nvml_reset();
	unlink(script_path);
	unlink(log_path);
	rmdir(tmpdir);
	return 0;
}

static int reset_each(void **state)
{
	(void)state;
	nvml_reset();
	return 0;
}

static void assert_val(struct tele_val v, double want)
{
	assert_true(v.ok);
	assert_float_equal(v.v, want, 1e-9);
}

static void assert_na(struct tele_val v)
{
	assert_false(v.ok);
}

static void test_absent(void **state)
{
	struct nvml_sample s;
	const char *err = NULL;

	(void)state;
	nvml_reset();
	setenv("GANTRY_NVML_LIB", "/nonexistent/gantry/libnvidia-ml.so.1", 1);
	nvml_read(&s);
	assert_int_equal(s.state, NVML_ABSENT);
	assert_string_equal(s.error, "NVML not found");
	assert_int_equal(s.ngpus, 0);
	assert_null(s.gpus);
	assert_int_equal(s.nprocs, 0);
	nvml_sample_clear(&s);
	assert_int_equal(nvml_status(&err), NVML_ABSENT);
	assert_string_equal(err, "NVML not found");
	assert_null(nvml_symbol("nvmlInit"));
	assert_string_equal(nvml_error_text(15), "NVML error 15");
}

static void test_values_newest_symbols(void **state)
{
	struct nvml_sample s;
	const struct tele_gpu *g;

	(void)state;
	use_fake("new", two_gpus);
	nvml_read(&s);
	assert_int_equal(s.state, NVML_READY);
	assert_null(s.error);
	assert_int_equal(s.ngpus, 2);
	g = &s.gpus[0].gpu;
	assert_int_equal(g->index, 0);
	assert_string_equal(g->name, "NVIDIA H100 80GB HBM3");
	assert_string_equal(g->uuid, "GPU-b05f55dc-5c19-cc8b-5753-47418c850288");
	assert_val(g->util_pct, 98);
	assert_val(g->mem_used_mib, 23962);
	assert_val(g->mem_total_mib, 81559);
	assert_val(g->temp_c, 76);
	assert_val(g->power_w, 599.123);
	assert_val(g->power_limit_w, 700); /* the enforced limit, not the management one */
	assert_string_equal(s.gpus[0].reason, "");
	assert_false(s.gpus[0].lost);
	g = &s.gpus[1].gpu;
	assert_int_equal(g->index, 1);
	assert_string_equal(g->uuid, "GPU-a0b9d7ef-0634-5ec7-2ab5-9ce3279ecae5");
	assert_val(g->util_pct, 0);
	assert_val(g->mem_used_mib, 4);
	assert_val(g->temp_c, 31);
	assert_val(g->power_w, 72.68);

	assert_int_equal(s.nprocs, 3);
	assert_int_equal(s.procs[0].pid, 4242);
	assert_string_equal(s.procs[0].name, "python3");
	assert_string_equal(s.procs[0].gpu_uuid, "GPU-b05f55dc-5c19-cc8b-5753-47418c850288");
	assert_val(s.procs[0].mem_mib, 1024);
	assert_int_equal(s.procs[1].pid, 4243);
	assert_string_equal(s.procs[1].name, "worker");
	assert_na(s.procs[1].mem_mib); /* NVML_VALUE_NOT_AVAILABLE */
	assert_int_equal(s.procs[2].pid, 777);
	assert_string_equal(s.procs[2].gpu_uuid, "GPU-a0b9d7ef-0634-5ec7-2ab5-9ce3279ecae5");
	assert_val(s.procs[2].mem_mib, 2048);
	nvml_sample_clear(&s);
	assert_null(s.gpus);

	assert_string_equal(nvml_symbol("nvmlInit"), "nvmlInit_v2");
	assert_string_equal(nvml_symbol("nvmlDeviceGetCount"), "nvmlDeviceGetCount_v2");
	assert_string_equal(nvml_symbol("nvmlDeviceGetHandleByIndex"),
	                    "nvmlDeviceGetHandleByIndex_v2");
	assert_string_equal(nvml_symbol("nvmlDeviceGetComputeRunningProcesses"),
	                    "nvmlDeviceGetComputeRunningProcesses_v3");
	assert_string_equal(nvml_symbol("nvmlDeviceGetEnforcedPowerLimit"),
	                    "nvmlDeviceGetEnforcedPowerLimit");
	assert_null(nvml_symbol("nvmlNoSuchThing"));
	assert_int_equal(log_count("nvmlInit_v2"), 1);
	assert_int_equal(log_count("nvmlInit"), 0);
	assert_int_equal(log_count("nvmlDeviceGetHandleByIndex"), 0);
	assert_int_equal(log_count("nvmlDeviceGetComputeRunningProcesses_v2"), 0);
	assert_int_equal(log_count("nvmlDeviceGetComputeRunningProcesses_v3"), 2);
	assert_string_equal(nvml_error_text(15), "GPU is lost");

	/* A second reading does not initialise again; a reset shuts NVML down. */
	nvml_read(&s);
	assert_int_equal(s.ngpus, 2);
	nvml_sample_clear(&s);
	assert_int_equal(log_count("nvmlInit_v2"), 1);
	assert_int_equal(log_count("nvmlShutdown"), 0);
	nvml_reset();
	assert_int_equal(log_count("nvmlShutdown"), 1);
	assert_null(nvml_symbol("nvmlInit"));
}

static void test_fallback_old_symbols(void **state)
{
	struct nvml_sample s;
	char script[1024], comm[64] = "";
	FILE *f;

	(void)state;
	/* Our own pid as a GPU process: without nvmlSystemGetProcessName the name comes from
	 * /proc/PID/comm. */
	f = fopen("/proc/self/comm", "r");
	assert_non_null(f);
	assert_non_null(fgets(comm, sizeof comm, f));
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	snprintf(script, sizeof script,
	         "%sgpu 1 proc %ld 3221225472 ignored\n"
	         "gpu 1 mgmt_limit 650000\n",
	         two_gpus, (long)getpid());
	use_fake("old", script);
	nvml_read(&s);
	assert_int_equal(s.state, NVML_READY);
	assert_int_equal(s.ngpus, 2);
	assert_string_equal(nvml_symbol("nvmlInit"), "nvmlInit");
	assert_string_equal(nvml_symbol("nvmlDeviceGetCount"), "nvmlDeviceGetCount");
	assert_string_equal(nvml_symbol("nvmlDeviceGetHandleByIndex"),
	                    "nvmlDeviceGetHandleByIndex");
	assert_string_equal(nvml_symbol("nvmlDeviceGetComputeRunningProcesses"),
	                    "nvmlDeviceGetComputeRunningProcesses_v2");
	assert_null(nvml_symbol("nvmlDeviceGetEnforcedPowerLimit"));
	assert_null(nvml_symbol("nvmlSystemGetProcessName"));
	assert_int_equal(log_count("nvmlInit"), 1);
	assert_int_equal(log_count("nvmlDeviceGetComputeRunningProcesses_v2"), 2);
	assert_int_equal(log_count("nvmlDeviceGetComputeRunningProcesses"), 0);
	/* Same values through the old entry points; the limit is the management one. */
	assert_string_equal(s.gpus[0].gpu.name, "NVIDIA H100 80GB HBM3");
	assert_val(s.gpus[0].gpu.util_pct, 98);
	assert_val(s.gpus[0].gpu.mem_used_mib, 23962);
	assert_val(s.gpus[0].gpu.power_limit_w, 650);
	assert_val(s.gpus[1].gpu.power_limit_w, 650);
	assert_int_equal(s.nprocs, 4);
	assert_int_equal(s.procs[0].pid, 4242);
	assert_val(s.procs[0].mem_mib, 1024);
	assert_int_equal(s.procs[1].pid, 4243);
	assert_na(s.procs[1].mem_mib);
	assert_int_equal(s.procs[2].pid, 777);
	assert_val(s.procs[2].mem_mib, 2048);
	assert_int_equal(s.procs[3].pid, (long)getpid());
	assert_val(s.procs[3].mem_mib, 3072);
	assert_string_equal(s.procs[3].name, comm);
	assert_string_equal(s.procs[3].gpu_uuid, "GPU-a0b9d7ef-0634-5ec7-2ab5-9ce3279ecae5");
	nvml_sample_clear(&s);
}

static void test_fallback_v1_records(void **state)
{
	struct nvml_sample s;

	(void)state;
	/* The unversioned query fills 16-byte records: a wrong layout garbles entries 2 and 3. */
	use_fake("v1", "count 1\n"
	               "gpu 0 name Tesla V100-SXM2-16GB\n"
	               "gpu 0 uuid GPU-1\n"
	               "gpu 0 mem 1048576 17179869184\n"
	               "gpu 0 proc 101 1048576 a\n"
	               "gpu 0 proc 202 2097152 b\n"
	               "gpu 0 proc 303 na c\n");
	nvml_read(&s);
	assert_int_equal(s.state, NVML_READY);
	assert_string_equal(nvml_symbol("nvmlDeviceGetComputeRunningProcesses"),
	                    "nvmlDeviceGetComputeRunningProcesses");
	assert_int_equal(log_count("nvmlDeviceGetComputeRunningProcesses"), 1);
	assert_int_equal(s.ngpus, 1);
	assert_val(s.gpus[0].gpu.mem_total_mib, 16384);
	assert_int_equal(s.nprocs, 3);
	assert_int_equal(s.procs[0].pid, 101);
	assert_val(s.procs[0].mem_mib, 1);
	assert_int_equal(s.procs[1].pid, 202);
	assert_val(s.procs[1].mem_mib, 2);
	assert_int_equal(s.procs[2].pid, 303);
	assert_na(s.procs[2].mem_mib);
	nvml_sample_clear(&s);
}

static void test_errors_are_na_with_reason(void **state)
{
	struct nvml_sample s;
	char script[2048];
	const struct tele_gpu *g;

	(void)state;
	snprintf(script, sizeof script,
	         "%sgpu 0 fail temp 3\n"
	         "gpu 0 fail power 4\n"
	         "gpu 0 fail util 999\n"
	         "gpu 0 fail limit 3\n"
	         "gpu 1 fail limit 3\n"
	         "gpu 1 fail mgmt_limit 3\n"
	         "gpu 1 fail procs 4\n",
	         two_gpus);
	use_fake("new", script);
	nvml_read(&s);
	assert_int_equal(s.state, NVML_READY);
	assert_int_equal(s.ngpus, 2);
	g = &s.gpus[0].gpu;
	assert_na(g->temp_c);
	assert_na(g->power_w);
	assert_na(g->util_pct);
	assert_val(g->mem_used_mib, 23962);
	assert_val(g->power_limit_w, 650); /* enforced failed: the management limit */
	assert_false(s.gpus[0].lost);
	assert_string_equal(s.gpus[0].reason, "utilization: Unknown Error; temperature: Not "
	                                      "Supported; power: Insufficient Permissions");
	g = &s.gpus[1].gpu;
	assert_na(g->power_limit_w);
	assert_val(g->power_w, 72.68);
	assert_string_equal(s.gpus[1].reason,
	                    "power limit: Not Supported; processes: Insufficient Permissions");
	/* GPU 0's processes are still listed, GPU 1's could not be read. */
	assert_int_equal(s.nprocs, 2);
	assert_int_equal(s.procs[0].pid, 4242);
	nvml_sample_clear(&s);
}

static void test_gpu_lost(void **state)
{
	struct nvml_sample s;
	char script[2048];
	const struct tele_gpu *g;

	(void)state;
	snprintf(script, sizeof script, "%sgpu 1 lost\n", two_gpus);
	use_fake("new", script);
	nvml_read(&s);
	assert_int_equal(s.state, NVML_READY);
	assert_int_equal(s.ngpus, 2);
	assert_false(s.gpus[0].lost);
	assert_val(s.gpus[0].gpu.util_pct, 98);
	assert_true(s.gpus[1].lost);
	assert_string_equal(s.gpus[1].reason, "GPU has fallen off the bus (GPU is lost)");
	g = &s.gpus[1].gpu;
	assert_int_equal(g->index, 1);
	assert_string_equal(g->name, "");
	assert_na(g->util_pct);
	assert_na(g->mem_used_mib);
	assert_na(g->mem_total_mib);
	assert_na(g->temp_c);
	assert_na(g->power_w);
	assert_na(g->power_limit_w);
	assert_int_equal(s.nprocs, 2); /* only GPU 0's */
	nvml_sample_clear(&s);

	/* Lost in the middle of a reading: what was read before is dropped too. */
	snprintf(script, sizeof script, "%sgpu 0 fail temp 15\n", two_gpus);
	use_fake("new", script);
	nvml_read(&s);
	assert_true(s.gpus[0].lost);
	assert_string_equal(s.gpus[0].gpu.name, "NVIDIA H100 80GB HBM3");
	assert_na(s.gpus[0].gpu.util_pct);
	assert_na(s.gpus[0].gpu.mem_used_mib);
	assert_na(s.gpus[0].gpu.power_w);
	assert_string_equal(s.gpus[0].reason, "GPU has fallen off the bus (GPU is lost)");
	assert_int_equal(s.nprocs, 1);
	assert_int_equal(s.procs[0].pid, 777);
	nvml_sample_clear(&s);
}

static void test_init_fails(void **state)
{
	struct nvml_sample s;
	const char *err;

	(void)state;
	use_fake("new", "init_error 9\ncount 1\n");
	nvml_read(&s);
	assert_int_equal(s.state, NVML_FAILED);
	assert_string_equal(s.error, "nvmlInit_v2: Driver Not Loaded");
	assert_int_equal(s.ngpus, 0);
	nvml_sample_clear(&s);
	/* No retry before the back-off ends. */
	write_file(script_path, two_gpus);
	assert_int_equal(nvml_status(&err), NVML_FAILED);
	assert_string_equal(err, "nvmlInit_v2: Driver Not Loaded");
	assert_int_equal(log_count("nvmlInit_v2"), 1);
	/* A reset tries again at once. */
	nvml_reset();
	nvml_read(&s);
	assert_int_equal(s.state, NVML_READY);
	assert_int_equal(s.ngpus, 2);
	nvml_sample_clear(&s);
	assert_int_equal(log_count("nvmlInit_v2"), 2);
	/* nvmlShutdown only after a successful init. */
	nvml_reset();
	assert_int_equal(log_count("nvmlShutdown"), 1);
}

static void test_count_fails(void **state)
{
	struct nvml_sample s;

	(void)state;
	use_fake("new", "count 2\ncount_error 999\n");
	nvml_read(&s);
	assert_int_equal(s.state, NVML_FAILED);
	assert_string_equal(s.error, "nvmlDeviceGetCount_v2: Unknown Error");
	assert_int_equal(s.ngpus, 0);
	nvml_sample_clear(&s);
}

static void test_missing_required_symbol(void **state)
{
	struct nvml_sample s;
	char want[600];

	(void)state;
	use_fake("nocount", two_gpus);
	nvml_read(&s);
	assert_int_equal(s.state, NVML_FAILED);
	snprintf(want, sizeof want, "%s/nocount/libnvidia-ml.so.1 has no nvmlDeviceGetCount",
	         FAKE_NVML_DIR);
	assert_string_equal(s.error, want);
	assert_int_equal(log_count("nvmlInit_v2"), 0);
	nvml_sample_clear(&s);
}

static void test_zero_gpus(void **state)
{
	struct nvml_sample s;

	(void)state;
	use_fake("new", "count 0\n");
	nvml_read(&s);
	assert_int_equal(s.state, NVML_READY);
	assert_null(s.error);
	assert_int_equal(s.ngpus, 0);
	assert_null(s.gpus);
	nvml_sample_clear(&s);
}

static void test_many_processes(void **state)
{
	struct nvml_sample s;
	char *script = xcalloc(1, 16384);
	size_t len = 0;

	(void)state;
	len += (size_t)snprintf(script + len, 16384 - len, "count 1\ngpu 0 uuid GPU-x\n");
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(script + len, 16384 - len, "gpu 0 proc %d %llu p%d\n",
		                        1000 + i, (unsigned long long)(i + 1) * MIB, i);
	use_fake("new", script);
	free(script);
	nvml_read(&s);
	assert_int_equal(s.nprocs, 100);
	for (int i = 0; i < 100; i++) {
		char name[16];

		snprintf(name, sizeof name, "p%d", i);
		assert_int_equal(s.procs[i].pid, 1000 + i);
		assert_val(s.procs[i].mem_mib, i + 1);
		assert_string_equal(s.procs[i].name, name);
	}
	/* The first query was too small: asked again with room for all. */
	assert_int_equal(log_count("nvmlDeviceGetComputeRunningProcesses_v3"), 2);
	nvml_sample_clear(&s);
}

/* The child of test_ld_library_path: loads libnvidia-ml.so.1 by its plain name. */
static int probe_main(void)
{
	struct nvml_sample s;
	const char *init;

	nvml_read(&s);
	init = nvml_symbol("nvmlInit");
	printf("state=%d ngpus=%zu name0=%s init=%s\n", (int)s.state, s.ngpus,
	       s.ngpus > 0 ? s.gpus[0].gpu.name : "-", init != NULL ? init : "-");
	nvml_sample_clear(&s);
	nvml_reset();
	return 0;
}

static void test_ld_library_path(void **state)
{
	char dir[512], out[512] = "", want[256];
	int fds[2], status;
	ssize_t n;
	size_t len = 0;
	pid_t pid;

	(void)state;
	nvml_reset();
	write_file(script_path, two_gpus);
	snprintf(dir, sizeof dir, "%s/new", FAKE_NVML_DIR);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *argv[] = {"test_nvml", "--probe", NULL};

		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		unsetenv("GANTRY_NVML_LIB");
		setenv("LD_LIBRARY_PATH", dir, 1);
		execv(self_path, argv);
		_exit(127);
	}
	close(fds[1]);
	while (len + 1 < sizeof out && (n = read(fds[0], out + len, sizeof out - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	snprintf(want, sizeof want,
	         "state=%d ngpus=2 name0=NVIDIA H100 80GB HBM3 init=nvmlInit_v2\n",
	         (int)NVML_READY);
	assert_string_equal(out, want);
}

/* MemTotal of /proc/meminfo in MiB. */
static double meminfo_total_mib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long long kib = 0;

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "MemTotal: %lld kB", &kib) == 1)
			break;
	fclose(f);
	assert_true(kib > 0);
	return kib / 1024.0;
}

/* The "cpu" line of /proc/stat. */
static void stat_line(char *buf, size_t size)
{
	FILE *f = fopen("/proc/stat", "r");

	assert_non_null(f);
	assert_non_null(fgets(buf, (int)size, f));
	fclose(f);
}

static void test_local_hosts(void **state)
{
	struct tele_host *h = NULL;
	size_t n = 0;
	char script[2048], before[512], now[512];
	volatile unsigned long spin = 0;

	(void)state;
	snprintf(script, sizeof script, "%sgpu 1 lost\n", two_gpus);
	use_fake("new", script);
	/* The first call in this process: CPU % needs a previous reading, so n/a. */
	assert_int_equal(local_hosts(NULL, NULL, &h, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(h->name, "local");
	assert_string_equal(h->address, "localhost");
	assert_true(h->reachable);
	assert_true(h->at_ms > 1600000000000LL);
	assert_true(h->last_contact_ms == h->at_ms);
	assert_null(h->reason);
	assert_true(h->cpus >= 1);
	assert_na(h->cpu_pct);
	assert_val(h->mem_total_mib, meminfo_total_mib());
	assert_true(h->mem_used_mib.ok);
	assert_true(h->mem_used_mib.v > 0 && h->mem_used_mib.v <= h->mem_total_mib.v);
	assert_int_equal(h->ngpus, 2);
	assert_int_equal(h->gpus_total, 2);
	assert_val(h->gpus[0].util_pct, 98);
	assert_string_equal(h->gpus[0].name, "NVIDIA H100 80GB HBM3");
	assert_na(h->gpus[1].util_pct);
	assert_string_equal(h->gpu_error, "GPU1: GPU has fallen off the bus (GPU is lost)");
	assert_int_equal(h->nprocs, 2);
	assert_int_equal(h->procs[1].pid, 4243);
	tele_hosts_free(h, n);

	/* Once the CPU counters moved, the second call has a figure. */
	stat_line(before, sizeof before);
	do {
		for (int i = 0; i < 1000000; i++)
			spin++;
		stat_line(now, sizeof now);
	} while (strcmp(before, now) == 0);
	assert_int_equal(local_hosts(NULL, "/some/job/dir", &h, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(h->name, "local");
	assert_true(h->cpu_pct.ok);
	assert_true(h->cpu_pct.v >= 0 && h->cpu_pct.v <= 100);
	assert_int_equal(h->ngpus, 2);
	tele_hosts_free(h, n);
}

static void test_local_hosts_without_nvml(void **state)
{
	struct tele_host *h = NULL;
	size_t n = 0;

	(void)state;
	nvml_reset();
	setenv("GANTRY_NVML_LIB", "/nonexistent/gantry/libnvidia-ml.so.1", 1);
	assert_int_equal(local_hosts(NULL, NULL, &h, &n), 0);
	assert_int_equal(n, 1);
	assert_true(h->reachable);
	assert_int_equal(h->ngpus, 0);
	assert_null(h->gpus);
	assert_int_equal(h->nprocs, 0);
	assert_int_equal(h->gpus_total, 0);
	assert_string_equal(h->gpu_error, "NVML not found");
	assert_true(h->mem_total_mib.ok);
	tele_hosts_free(h, n);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_local_hosts, reset_each),
	    cmocka_unit_test_setup(test_local_hosts_without_nvml, reset_each),
	    cmocka_unit_test_setup(test_absent, reset_each),
	    cmocka_unit_test_setup(test_values_newest_symbols, reset_each),
	    cmocka_unit_test_setup(test_fallback_old_symbols, reset_each),
	    cmocka_unit_test_setup(test_fallback_v1_records, reset_each),
	    cmocka_unit_test_setup(test_errors_are_na_with_reason, reset_each),
	    cmocka_unit_test_setup(test_gpu_lost, reset_each),
	    cmocka_unit_test_setup(test_init_fails, reset_each),
	    cmocka_unit_test_setup(test_count_fails, reset_each),
	    cmocka_unit_test_setup(test_missing_required_symbol, reset_each),
	    cmocka_unit_test_setup(test_zero_gpus, reset_each),
	    cmocka_unit_test_setup(test_many_processes, reset_each),
	    cmocka_unit_test_setup(test_ld_library_path, reset_each),
	};

	if (argc > 1 && strcmp(argv[1], "--probe") == 0)
		return probe_main();
	self_path = argv[0];
	return cmocka_run_group_tests(tests, setup, teardown);
}
