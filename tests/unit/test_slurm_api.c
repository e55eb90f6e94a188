/* test_slurm_api.c: the slurmrestd API as Gantry reads and writes it (providers/slurm_api.c):
 * real v0.0.38 answers of Slurm 22.05 (tests/data/slurm/, captured by
 * /work/shared/slurm/smoke-test.sh), the shapes of v0.0.39-41 from their published OpenAPI,
 * malformed answers (skipped entries, one-line errors, never a crash), error classes, the
 * state mapping users see, labels, the submit body field by field, GRES, host lists and the
 * Cluster view.
 *
 * Checked live (by hand, 2026-12-05, Slurm 22.05.8 slurmrestd v0.0.38 started with
 * start-cluster.sh on ports 7817/7818/7820, a throwaway driver posting
 * slurm_api_submit_body's output with curl): the v0.0.38 body of test_submit_body_v38 (GPU
 * gres "gpu:1", nodes [1, 1], tasks, tasks_per_node, cpus_per_task, memory_per_node,
 * time_limit, comment, hold, requeue, environment object, cwd, standard_output/error) was
 * accepted (200, job id) and the job ran with the comment and the name set; "hold": true
 * gave PENDING/JobHeldUser; an empty kvlist (PATH added) was accepted; exit codes of real
 * jobs: "exit 3" -> exit_code 768, "kill -9 $$" -> 9, "kill -TERM $$" -> 15 (the raw wait
 * status, hence test_exit_codes). */
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
#include "providers/slurm_api.h"

static const struct slurm_api_version *v38, *v39, *v40, *v41;

/* A file of tests/data/slurm/ (GANTRY_TESTDATA is set by make check; its absence fails). */
static char *slurp(const char *name, size_t *len)
{
	const char *dir = getenv("GANTRY_TESTDATA");
	char *path, *buf;
	FILE *f;
	long n;

	assert_non_null(dir);
	path = xprintf("%s/slurm/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	free(path);
	*len = (size_t)n;
	return buf;
}

static int one_job(const struct slurm_api_version *v, const char *body, struct slurm_job **j,
                   size_t *n)
{
	char *cause = NULL;
	int rc;

	*j = NULL;
	*n = 0;
	rc = slurm_api_parse_jobs(v, body, strlen(body), j, n, &cause);
	if (rc != 0)
		fail_msg("parse_jobs: %s", cause);
	return rc;
}

static int one_sample(const char *name, struct slurm_job **j, size_t *n)
{
	size_t len;
	char *b = slurp(name, &len), *cause = NULL;
	int rc;

	*j = NULL;
	*n = 0;
	rc = slurm_api_parse_jobs(v38, b, len, j, n, &cause);
	free(b);
	if (rc != 0)
		fail_msg("%s: %s", name, cause);
	return rc;
}

static void test_versions(void **state)
{
	char *p;

	(void)state;
	assert_non_null(v38);
	assert_non_null(v39);
	assert_non_null(v40);
	assert_non_null(v41);
	assert_null(slurm_api_version("v0.0.37"));
	assert_null(slurm_api_version("v0.0.42"));
	assert_null(slurm_api_version(NULL));
	assert_string_equal(slurm_api_version(SLURM_API_DEFAULT_VERSION)->name, "v0.0.38");
	assert_false(v38->env_as_list);
	assert_false(v38->numbers_as_obj);
	assert_false(v38->state_as_list);
	assert_false(v38->gres_as_tres);
	assert_true(v39->env_as_list);
	assert_true(v39->numbers_as_obj);
	assert_false(v39->state_as_list);
	assert_true(v40->state_as_list);
	assert_true(v40->exit_as_obj);
	assert_true(v41->state_as_list);
	assert_non_null(strstr(slurm_api_version_names(), "v0.0.41"));
	p = slurm_api_path(v38, "jobs");
	assert_string_equal(p, "/slurm/v0.0.38/jobs");
	free(p);
	p = slurm_api_path(v40, "job/submit");
	assert_string_equal(p, "/slurm/v0.0.40/job/submit");
	free(p);
}

/* ---- jobs from real answers ---- */

static void test_job_completed_sample(void **state)
{
	struct slurm_job *j;
	size_t n;
	char *r = (char *)"x";

	(void)state;
	one_sample("job.json", &j, &n);
	assert_int_equal(n, 1);
	assert_int_equal(j[0].id, 1);
	assert_string_equal(j[0].name, "rest-smoke");
	assert_string_equal(j[0].comment, "");
	assert_string_equal(j[0].user_name, "root");
	assert_string_equal(j[0].partition, "debug");
	assert_string_equal(j[0].state, "COMPLETED");
	assert_string_equal(j[0].state_reason, "None");
	assert_string_equal(j[0].nodes, "localhost");
	assert_string_equal(j[0].batch_host, "localhost");
	assert_string_equal(j[0].gres, "gpu:1"); /* tres_per_job "gres:gpu:1" */
	assert_int_equal(j[0].node_count, 1);
	assert_int_equal(j[0].submit_time, 1795771290);
	assert_int_equal(j[0].start_time, 1795771293);
	assert_int_equal(j[0].end_time, 1795771296);
	assert_int_equal(j[0].time_limit_min, 5);
	assert_true(j[0].has_exit);
	assert_int_equal(j[0].exit_code, 0);
	assert_int_equal(j[0].restart_cnt, 0);
	assert_string_equal(j[0].std_out, "/tmp/slurm-ci-final/jobs/rest-smoke-%j.out");
	assert_int_equal(slurm_api_state(&j[0], &r), JOB_SUCCEEDED);
	assert_null(r);
	slurm_jobs_free(j, n);
}

static void test_job_cancelled_held_samples(void **state)
{
	struct slurm_job *j;
	size_t n;
	char *r;

	(void)state;
	one_sample("job-cancelled.json", &j, &n);
	assert_int_equal(n, 1);
	assert_string_equal(j[0].state, "CANCELLED");
	assert_true(j[0].has_exit);
	assert_int_equal(j[0].exit_code, -15); /* raw 15: killed by SIGTERM */
	assert_int_equal(slurm_api_state(&j[0], &r), JOB_STOPPED);
	assert_string_equal(r, "cancelled");
	free(r);
	slurm_jobs_free(j, n);

	one_sample("job-held.json", &j, &n);
	assert_int_equal(n, 1);
	assert_int_equal(j[0].id, 3);
	assert_string_equal(j[0].state, "PENDING");
	assert_string_equal(j[0].state_reason, "JobHeldUser");
	assert_int_equal(j[0].time_limit_min, 0); /* null */
	assert_int_equal(j[0].start_time, 0);
	assert_string_equal(j[0].nodes, "");
	assert_string_equal(j[0].gres, "");
	assert_int_equal(slurm_api_state(&j[0], &r), JOB_STARTING);
	assert_string_equal(r, "held by user");
	free(r);
	slurm_jobs_free(j, n);

	one_sample("job-running.json", &j, &n);
	assert_int_equal(n, 1);
	assert_int_equal(slurm_api_state(&j[0], &r), JOB_RUNNING);
	assert_null(r);
	slurm_jobs_free(j, n);

	one_sample("jobs.json", &j, &n);
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++)
		assert_true(j[i].id > 0);
	slurm_jobs_free(j, n);

	/* an unknown job: 500 with errors and "jobs": [] parses as no job */
	one_sample("job-not-found.json", &j, &n);
	assert_int_equal(n, 0);
	slurm_jobs_free(j, n);
}

/* ---- state mapping: what the Jobs view shows ---- */

static void test_state_mapping(void **state)
{
	static const struct {
		const char *state, *reason;
		int restarts, has_exit, exit_code;
		enum job_state want;
		const char *words; /* NULL = no reason */
	} t[] = {
	    {"PENDING", "Resources", 0, 0, 0, JOB_STARTING, "pending: Resources"},
	    {"PENDING", "Priority", 0, 0, 0, JOB_STARTING, "pending: Priority"},
	    {"PENDING", "None", 0, 0, 0, JOB_STARTING, "pending"},
	    {"PENDING", "JobHeldUser", 0, 0, 0, JOB_STARTING, "held by user"},
	    {"PENDING", "JobHeldAdmin", 0, 0, 0, JOB_STARTING, "held by admin"},
	    {"PENDING", "BeginTime", 2, 0, 0, JOB_RECOVERING, "requeued: BeginTime"},
	    {"CONFIGURING", "None", 0, 0, 0, JOB_RUNNING, "configuring nodes"},
	    {"RUNNING", "None", 0, 0, 0, JOB_RUNNING, NULL},
	    {"COMPLETING", "None", 0, 1, 0, JOB_RUNNING, "completing"},
	    {"SUSPENDED", "None", 0, 0, 0, JOB_RUNNING, "suspended"},
	    {"COMPLETED", "None", 0, 1, 0, JOB_SUCCEEDED, NULL},
	    {"FAILED", "NonZeroExitCode", 0, 1, 3, JOB_FAILED, "exit status 3"},
	    {"FAILED", "JobLaunchFailure", 0, 1, -10, JOB_FAILED, "killed by signal 10"},
	    {"FAILED", "JobLaunchFailure", 0, 0, 0, JOB_FAILED, "launch failed"},
	    {"FAILED", "NonZeroExitCode", 0, 0, 0, JOB_FAILED, "failed: NonZeroExitCode"},
	    {"OUT_OF_MEMORY", "OutOfMemory", 0, 1, 0, JOB_FAILED, "out of memory"},
	    {"NODE_FAIL", "None", 0, 0, 0, JOB_FAILED, "node failure"},
	    {"BOOT_FAIL", "None", 0, 0, 0, JOB_FAILED, "node boot failure"},
	    {"DEADLINE", "None", 0, 0, 0, JOB_FAILED, "deadline reached"},
	    {"TIMEOUT", "TimeLimit", 0, 1, -15, JOB_FAILED, "time limit reached"},
	    {"CANCELLED", "None", 0, 1, -9, JOB_STOPPED, "cancelled"},
	    {"PREEMPTED", "None", 0, 0, 0, JOB_PREEMPTED, "preempted"},
	    {"REQUEUED", "None", 1, 0, 0, JOB_RECOVERING, "requeued"},
	    {"REQUEUE_HOLD", "launch failed requeued held", 1, 0, 0, JOB_RECOVERING,
	     "requeued: launch failed requeued held"},
	    {"REQUEUE_FED", "None", 0, 0, 0, JOB_RECOVERING, "requeued"},
	    {"RESIZING", "None", 0, 0, 0, JOB_RECOVERING, "requeued"},
	    {"WEIRD", "None", 0, 0, 0, JOB_UNKNOWN, "unknown Slurm state WEIRD"},
	    {"\033[31mX", "None", 0, 0, 0, JOB_UNKNOWN, "unknown Slurm state X"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct slurm_job j = {0};
		char *r = NULL;
		enum job_state s;

		j.state = (char *)t[i].state;
		j.state_reason = (char *)t[i].reason;
		j.restart_cnt = t[i].restarts;
		j.has_exit = t[i].has_exit;
		j.exit_code = t[i].exit_code;
		s = slurm_api_state(&j, &r);
		if (s != t[i].want)
			fail_msg("%s/%s: %s, want %s", t[i].state, t[i].reason, job_state_name(s),
			         job_state_name(t[i].want));
		if (t[i].words == NULL) {
			if (r != NULL)
				fail_msg("%s: reason '%s', want none", t[i].state, r);
		} else {
			if (r == NULL || strcmp(r, t[i].words) != 0)
				fail_msg("%s/%s: reason '%s', want '%s'", t[i].state, t[i].reason,
				         r != NULL ? r : "(null)", t[i].words);
		}
		free(r);
		assert_int_equal(slurm_api_state(&j, NULL), t[i].want); /* reason may be NULL */
	}
}

static void test_reason_sanitised(void **state)
{
	struct slurm_job j = {0};
	char *r = NULL, big[600];

	(void)state;
	j.state = (char *)"PENDING";
	j.state_reason = (char *)"Res\033]0;pwned\007ources\nx";
	assert_int_equal(slurm_api_state(&j, &r), JOB_STARTING);
	assert_null(strchr(r, '\033'));
	assert_null(strchr(r, '\n'));
	assert_null(strchr(r, '\007'));
	free(r);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	j.state_reason = big;
	slurm_api_state(&j, &r);
	assert_true(strlen(r) < 100); /* short: a Jobs view column */
	free(r);
}

/* ---- exit codes ---- */

static void test_exit_codes(void **state)
{
	static const struct {
		const char *json;
		int has, code;
	} t[] = {
	    /* v0.0.38: the raw wait status */
	    {"0", 1, 0},
	    {"768", 1, 3},
	    {"9", 1, -9},
	    {"15", 1, -15},
	    {"null", 0, 0},
	    {"-1", 0, 0},
	    {"\"3\"", 0, 0},
	    {"99999999", 0, 0},
	    /* v0.0.39: a number object */
	    {"{\"set\": true, \"infinite\": false, \"number\": 512}", 1, 2},
	    {"{\"set\": false, \"infinite\": false, \"number\": 0}", 0, 0},
	    /* v0.0.40+ */
	    {"{\"status\": [\"EXITED\"], \"return_code\": {\"set\": true, \"infinite\": false,"
	     " \"number\": 3}, \"signal\": {\"id\": {\"set\": false, \"infinite\": false,"
	     " \"number\": 0}, \"name\": \"\"}}",
	     1, 3},
	    {"{\"status\": [\"SIGNALED\"], \"return_code\": {\"set\": true, \"infinite\": false,"
	     " \"number\": 0}, \"signal\": {\"id\": {\"set\": true, \"infinite\": false,"
	     " \"number\": 9}, \"name\": \"KILL\"}}",
	     1, -9},
	    {"{\"status\": [\"SUCCESS\"], \"return_code\": {\"set\": true, \"infinite\": false,"
	     " \"number\": 0}}",
	     1, 0},
	    {"{\"status\": \"x\", \"return_code\": \"y\", \"signal\": 5}", 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char *body = xprintf("{\"jobs\": [{\"job_id\": 7, \"job_state\": \"FAILED\","
		                     " \"exit_code\": %s}]}",
		                     t[i].json);
		struct slurm_job *j;
		size_t n;

		one_job(v38, body, &j, &n);
		assert_int_equal(n, 1);
		if (j[0].has_exit != t[i].has || (t[i].has && j[0].exit_code != t[i].code))
			fail_msg("exit_code %s: has %d code %d, want %d %d", t[i].json,
			         j[0].has_exit, j[0].exit_code, t[i].has, t[i].code);
		slurm_jobs_free(j, n);
		free(body);
	}
}

/* ---- newer versions ---- */

#define NUM(n) "{\"set\": true, \"infinite\": false, \"number\": " #n "}"

static void test_jobs_v40_shape(void **state)
{
	static const char body[] =
	    "{\"jobs\": [{\"job_id\": 42, \"name\": \"gantry-j1\", \"comment\": \"c\","
	    " \"job_state\": [\"RUNNING\"], \"state_reason\": \"None\", \"partition\": \"gpu\","
	    " \"nodes\": \"gpu[01-02]\", \"batch_host\": \"gpu01\", \"user_name\": \"ann\","
	    " \"tres_per_node\": \"gres/gpu:a100:2\", \"node_count\": " NUM(
	        2) ","
	           " \"submit_time\": " NUM(1700000000) ", \"start_time\": " NUM(
	               1700000010) ","
	                           " \"end_time\": {\"set\": false, \"infinite\": false, "
	                           "\"number\": 0},"
	                           " \"time_limit\": " NUM(
	                               90) ", \"restart_cnt\": 1,"
	                                   " \"standard_output\": \"/o\"},"
	                                   " {\"job_id\": 43, \"job_state\": [\"PENDING\", "
	                                   "\"REQUEUED\"], \"restart_cnt\": 1,"
	                                   "  \"state_reason\": \"NodeDown\", \"time_limit\": "
	                                   "{\"set\": true, \"infinite\": true,"
	                                   "  \"number\": 0}},"
	                                   " {\"job_id\": 44, \"job_state\": [\"COMPLETED\", "
	                                   "\"COMPLETING\"]}]}";
	struct slurm_job *j;
	size_t n;
	char *r;

	(void)state;
	one_job(v40, body, &j, &n);
	assert_int_equal(n, 3);
	assert_int_equal(j[0].id, 42);
	assert_string_equal(j[0].state, "RUNNING");
	assert_string_equal(j[0].gres, "gpu:a100:2");
	assert_int_equal(j[0].node_count, 2);
	assert_int_equal(j[0].submit_time, 1700000000);
	assert_int_equal(j[0].start_time, 1700000010);
	assert_int_equal(j[0].end_time, 0);
	assert_int_equal(j[0].time_limit_min, 90);
	assert_int_equal(j[0].restart_cnt, 1);
	assert_false(j[0].has_exit);
	assert_string_equal(j[0].batch_host, "gpu01");
	assert_string_equal(j[1].state, "REQUEUED"); /* the flag tells a requeue */
	assert_int_equal(j[1].time_limit_min, 0);    /* infinite */
	assert_int_equal(slurm_api_state(&j[1], &r), JOB_RECOVERING);
	assert_string_equal(r, "requeued: NodeDown");
	free(r);
	assert_string_equal(j[2].state, "COMPLETED");
	slurm_jobs_free(j, n);
}

/* ---- malformed answers ---- */

static void test_jobs_malformed(void **state)
{
	static const char *bad[] = {
	    "",     "not json",         "[]", "{}", "{\"jobs\": {}}", "{\"jobs\": \"x\"}",
	    "null", "{\"jobs\": null}",
	};
	static const char entries[] =
	    "{\"jobs\": [1, \"x\", null, [], {},"
	    " {\"job_id\": \"5\", \"job_state\": \"RUNNING\"},"
	    " {\"job_id\": 5.5, \"job_state\": \"RUNNING\"},"
	    " {\"job_id\": -5, \"job_state\": \"RUNNING\"},"
	    " {\"job_id\": 99999999999, \"job_state\": \"RUNNING\"},"
	    " {\"job_id\": 6, \"job_state\": 3},"
	    " {\"job_id\": 7, \"job_state\": [1, 2]},"
	    " {\"job_id\": 8},"
	    " {\"job_id\": 9, \"job_state\": \"RUNNING\", \"name\": 5, \"comment\": null,"
	    "  \"nodes\": [\"a\"], \"node_count\": \"2\", \"start_time\": -4,"
	    "  \"submit_time\": 1e300, \"time_limit\": 4294967295, \"restart_cnt\": -1,"
	    "  \"tres_per_node\": {}, \"exit_code\": {\"a\": 1}}]}";
	struct slurm_job *j = NULL;
	size_t n = 0;
	char *cause = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(slurm_api_parse_jobs(v38, bad[i], strlen(bad[i]), &j, &n, &cause),
		                 -1);
		assert_non_null(cause);
		assert_null(strchr(cause, '\n'));
		free(cause);
		cause = NULL;
		assert_int_equal(n, 0);
	}
	one_job(v38, entries, &j, &n);
	assert_int_equal(n, 1); /* only the well-typed entry */
	assert_int_equal(j[0].id, 9);
	assert_string_equal(j[0].name, "");
	assert_string_equal(j[0].comment, "");
	assert_string_equal(j[0].nodes, "");
	assert_int_equal(j[0].node_count, 0);
	assert_int_equal(j[0].start_time, 0);
	assert_int_equal(j[0].submit_time, 0);
	assert_int_equal(j[0].time_limit_min, 0); /* INFINITE */
	assert_int_equal(j[0].restart_cnt, 0);
	assert_string_equal(j[0].gres, "");
	assert_false(j[0].has_exit);
	slurm_jobs_free(j, n);

	/* an answer with errors and no list says the error */
	{
		size_t len;
		char *b = slurp("bad-token.json", &len);

		j = NULL;
		n = 0;
		assert_int_equal(slurm_api_parse_jobs(v38, b, len, &j, &n, &cause), -1);
		assert_non_null(strstr(cause, "token refused"));
		free(cause);
		free(b);
	}
}

/* ---- errors ---- */

static void check_error(long status, const char *body, const char *transport, enum slurm_err want,
                        const char *words)
{
	enum slurm_err c = SLURM_ERR_OTHER;
	char *e = slurm_api_error(status, body, body != NULL ? strlen(body) : 0, transport, &c);

	if (e == NULL)
		fail_msg("HTTP %ld: no error line", status);
	if (c != want)
		fail_msg("HTTP %ld '%s': class %s, want %s", status, e, slurm_err_name(c),
		         slurm_err_name(want));
	if (strstr(e, words) == NULL)
		fail_msg("HTTP %ld: '%s' lacks '%s'", status, e, words);
	assert_null(strchr(e, '\n'));
	free(e);
}

static void check_sample_error(long status, const char *name, enum slurm_err want,
                               const char *words)
{
	size_t len;
	char *b = slurp(name, &len);

	check_error(status, b, NULL, want, words);
	free(b);
}

static void test_errors(void **state)
{
	char *e;
	size_t len;
	char *b;

	(void)state;
	check_sample_error(500, "bad-token.json", SLURM_ERR_AUTH,
	                   "token refused (invalid or expired)");
	check_sample_error(401, "no-auth.txt", SLURM_ERR_AUTH, "token refused (HTTP 401)");
	check_sample_error(500, "submit-bad-partition.json", SLURM_ERR_INVALID,
	                   "Invalid partition name specified (2000)");
	check_sample_error(500, "job-not-found.json", SLURM_ERR_NOTFOUND,
	                   "Invalid job id specified (2017): Unable to find JobId=999999");
	check_sample_error(400, "submit-no-env.json", SLURM_ERR_INVALID,
	                   "environment must be set (2127)");
	check_error(0, NULL, "Connection refused", SLURM_ERR_TRANSIENT,
	            "no answer: Connection refused");
	check_error(0, NULL, NULL, SLURM_ERR_TRANSIENT, "no answer");
	check_error(502, "<html>bad gateway</html>", NULL, SLURM_ERR_TRANSIENT,
	            "HTTP 502 from slurmrestd");
	check_error(503, NULL, NULL, SLURM_ERR_TRANSIENT, "HTTP 503");
	check_error(504, "", NULL, SLURM_ERR_TRANSIENT, "HTTP 504");
	check_error(500, "", NULL, SLURM_ERR_TRANSIENT, "HTTP 500");
	check_error(429, NULL, NULL, SLURM_ERR_TRANSIENT, "rate limited");
	check_error(403, NULL, NULL, SLURM_ERR_AUTH, "token refused (HTTP 403)");
	check_error(400, "Unable to parse query.", NULL, SLURM_ERR_INVALID,
	            "HTTP 400 from slurmrestd: Unable to parse query.");
	check_error(404, NULL, NULL, SLURM_ERR_OTHER, "HTTP 404");
	check_error(500,
	            "{\"errors\": [{\"error_code\": 2014, \"error\": \"Requested node "
	            "configuration is not available\"}]}",
	            NULL, SLURM_ERR_INVALID,
	            "Requested node configuration is not available (2014)");
	check_error(500,
	            "{\"errors\": [{\"error_code\": 2015, \"error\": \"Requested partition "
	            "configuration not available now\"}]}",
	            NULL, SLURM_ERR_CAPACITY, "(2015)");
	check_error(500,
	            "{\"errors\": [{\"error_number\": 1007, \"error\": \"Unable to contact slurm "
	            "controller (connect failure)\"}]}",
	            NULL, SLURM_ERR_TRANSIENT, "Unable to contact slurm controller");
	check_error(500,
	            "{\"errors\": [{\"error\": \"Invalid account or account/partition "
	            "combination specified\"}]}",
	            NULL, SLURM_ERR_INVALID, "Invalid account");
	check_error(500, "{\"errors\": [{\"error_number\": 2222, \"error\": \"Odd\"}]}", NULL,
	            SLURM_ERR_OTHER, "Odd (2222)");
	check_error(500, "{\"errors\": [5]}", NULL, SLURM_ERR_OTHER, "error (HTTP 500)");
	/* a 2xx answer: without errors no line, with errors the error */
	b = slurp("submit.json", &len);
	assert_null(slurm_api_error(200, b, len, NULL, NULL));
	free(b);
	assert_null(slurm_api_error(200, "not json", 8, NULL, NULL));
	check_error(200, "{\"errors\": [{\"error_code\": 2000, \"error\": \"Invalid partition\"}]}",
	            NULL, SLURM_ERR_INVALID, "Invalid partition (2000)");
	/* the words never change with the token: nothing of it is echoed */
	b = xstrdup("{\"errors\": [{\"error_number\": -1, \"source\": \"slurm_load_ctl_conf\","
	            " \"description\": \"token eyJhbGciOi is bad\", \"error\": \"Unspecified\"}]}");
	e = slurm_api_error(500, b, strlen(b), NULL, NULL);
	free(b);
	assert_string_equal(e, "token refused (invalid or expired)");
	free(e);
	assert_string_equal(slurm_err_name(SLURM_ERR_NOTFOUND), "not-found");
	assert_string_equal(slurm_err_name(SLURM_ERR_CAPACITY), "capacity");
	assert_string_equal(slurm_err_name((enum slurm_err)99), "other");
}

static void test_error_text_sanitised(void **state)
{
	char *big = xmalloc(20000), *body, *e;

	(void)state;
	memset(big, 'x', 19999);
	big[19999] = '\0';
	body =
	    xprintf("{\"errors\": [{\"error_code\": 2000, \"error\": \"\\u001b[2J\\u001b]0;t\\u0007"
	            "bad\\nline\", \"description\": \"%s\"}]}",
	            big);
	e = slurm_api_error(500, body, strlen(body), NULL, NULL);
	assert_non_null(e);
	assert_null(strchr(e, '\033'));
	assert_null(strchr(e, '\n'));
	assert_null(strchr(e, '\007'));
	assert_non_null(strstr(e, "bad"));
	assert_true(strlen(e) < 500);
	free(e);
	e = slurm_api_error(0, NULL, 0, "\033[31mred\nx", NULL);
	assert_null(strchr(e, '\033'));
	assert_null(strchr(e, '\n'));
	free(e);
	free(body);
	free(big);
}

/* ---- labels ---- */

static void test_labels(void **state)
{
	struct slurm_label l = {.job_id = (char *)"j0123456789abcdef",
	                        .attempt = 2,
	                        .owner = (char *)"ann",
	                        .team = (char *)"ml",
	                        .installation_id = (char *)"a1b2c3"},
	                   p;
	char *c, *nm;

	(void)state;
	nm = slurm_api_label_name("j0123456789abcdef");
	assert_string_equal(nm, "gantry-j0123456789abcdef");
	free(nm);
	nm = slurm_api_label_name("j1;rm -rf");
	assert_string_equal(nm, "gantry-j1_rm_-rf");
	free(nm);
	c = slurm_api_label_comment(&l);
	assert_string_equal(
	    c, "gantry:1 job=j0123456789abcdef attempt=2 owner=ann team=ml inst=a1b2c3");
	assert_int_equal(slurm_api_label_parse(c, &p), 0);
	assert_string_equal(p.job_id, "j0123456789abcdef");
	assert_int_equal(p.attempt, 2);
	assert_string_equal(p.owner, "ann");
	assert_string_equal(p.team, "ml");
	assert_string_equal(p.installation_id, "a1b2c3");
	slurm_label_clear(&p);
	assert_null(p.job_id);
	free(c);
	/* no team, odd characters */
	l.team = NULL;
	l.owner = (char *)"an n@x.y\n";
	c = slurm_api_label_comment(&l);
	assert_string_equal(
	    c, "gantry:1 job=j0123456789abcdef attempt=2 owner=an_n@x.y_ team=- inst=a1b2c3");
	assert_int_equal(slurm_api_label_parse(c, &p), 0);
	assert_null(p.team);
	assert_string_equal(p.owner, "an_n@x.y_");
	slurm_label_clear(&p);
	free(c);
}

static void test_labels_reject(void **state)
{
	static const char *bad[] = {
	    "",
	    "gantry",
	    "gantry:1",
	    "gantry:1 ",
	    "gantry:2 job=j1 attempt=1 owner=a team=- inst=i",
	    "Gantry:1 job=j1 attempt=1 owner=a team=- inst=i",
	    " gantry:1 job=j1 attempt=1 owner=a team=- inst=i",
	    "gantry:1 job=j1 attempt=1 owner=a team=- inst=i ",
	    "gantry:1 job=j1 attempt=1 owner=a team=- inst=i x=y",
	    "gantry:1 job=j1 attempt=1 owner=a team=-",
	    "gantry:1 job=j1 owner=a attempt=1 team=- inst=i",
	    "gantry:1 job= attempt=1 owner=a team=- inst=i",
	    "gantry:1 job=j1 attempt=x owner=a team=- inst=i",
	    "gantry:1 job=j1 attempt=-1 owner=a team=- inst=i",
	    "gantry:1 job=j1 attempt=+1 owner=a team=- inst=i",
	    "gantry:1 job=j1 attempt=99999999999 owner=a team=- inst=i",
	    "gantry:1 job=j1 attempt= owner=a team=- inst=i",
	    "gantry:1 job=j1  attempt=1 owner=a team=- inst=i",
	    "gantry:1 job=j;1 attempt=1 owner=a team=- inst=i",
	    "gantry:1 job=j1 attempt=1 owner=a b team=- inst=i",
	    "gantry:1 job=j1 attempt=1 owner=a team=- inst=i\n",
	    "gantry:1 job=j1\tattempt=1 owner=a team=- inst=i",
	    "gantry:1 job=j1 attempt=1 owner=a team=- inst=i\xc3\xa9",
	    "gantry:1 job=j1 attempt=1 owner=a team=- inst==i",
	    "gantry:1 jobs=j1 attempt=1 owner=a team=- inst=i",
	    "my job, gantry:1 job=j1 attempt=1 owner=a team=- inst=i",
	};
	struct slurm_label p;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (slurm_api_label_parse(bad[i], &p) != -1)
			fail_msg("parsed '%s'", bad[i]);
		assert_null(p.job_id);
		assert_null(p.owner);
	}
	assert_int_equal(slurm_api_label_parse(NULL, &p), -1);
	assert_int_equal(
	    slurm_api_label_parse("gantry:1 job=j1 attempt=0 owner=a team=- inst=i", &p), 0);
	slurm_label_clear(&p);
}

/* ---- submit ---- */

static json_t *job_of(const char *body, json_t **root)
{
	json_error_t je;
	json_t *job;

	*root = json_loads(body, 0, &je);
	if (*root == NULL)
		fail_msg("body is not JSON: %s", je.text);
	job = json_object_get(*root, "job");
	assert_true(json_is_object(job));
	return job;
}

static void assert_num_obj(const json_t *v, long long n)
{
	assert_true(json_is_object(v));
	assert_true(json_is_true(json_object_get(v, "set")));
	assert_true(json_is_false(json_object_get(v, "infinite")));
	assert_true(json_is_integer(json_object_get(v, "number")));
	assert_int_equal(json_integer_value(json_object_get(v, "number")), n);
}

static void test_submit_body_v38(void **state)
{
	struct kvlist env;
	struct slurm_submit s = {0};
	json_t *root, *job, *e;
	char *body;

	(void)state;
	kvlist_init(&env);
	kvlist_set(&env, "PATH", "/usr/bin:/bin");
	kvlist_set(&env, "GANTRY_JOB", "j1");
	s.script = "#!/bin/bash\necho hi\n";
	s.name = "gantry-j1";
	s.comment = "gantry:1 job=j1 attempt=1 owner=a team=- inst=i";
	s.partition = "debug";
	s.account = "acct";
	s.qos = "normal";
	s.cwd = "/tmp/d/jobs/j1";
	s.output = "/tmp/d/jobs/j1/job.log";
	s.env = &env;
	s.nodes = 2;
	s.tasks_per_node = 3;
	s.cpus_per_task = 4;
	s.memory_mib = 1024;
	s.gpus_per_node = 2;
	s.gpu_type = "a100";
	s.time_limit_min = 30;
	s.hold = 1;
	s.requeue = 0;
	body = slurm_api_submit_body(v38, &s);
	job = job_of(body, &root);
	assert_string_equal(json_string_value(json_object_get(root, "script")), s.script);
	assert_int_equal(json_object_size(root), 2);
	assert_string_equal(json_string_value(json_object_get(job, "name")), "gantry-j1");
	assert_string_equal(json_string_value(json_object_get(job, "comment")), s.comment);
	assert_string_equal(json_string_value(json_object_get(job, "partition")), "debug");
	assert_string_equal(json_string_value(json_object_get(job, "account")), "acct");
	assert_string_equal(json_string_value(json_object_get(job, "qos")), "normal");
	assert_string_equal(json_string_value(json_object_get(job, "current_working_directory")),
	                    s.cwd);
	assert_string_equal(json_string_value(json_object_get(job, "standard_output")), s.output);
	assert_string_equal(json_string_value(json_object_get(job, "standard_error")), s.output);
	e = json_object_get(job, "environment");
	assert_true(json_is_object(e)); /* 22.05 refuses a list */
	assert_int_equal(json_object_size(e), 2);
	assert_string_equal(json_string_value(json_object_get(e, "PATH")), "/usr/bin:/bin");
	assert_string_equal(json_string_value(json_object_get(e, "GANTRY_JOB")), "j1");
	e = json_object_get(job, "nodes");
	assert_true(json_is_array(e));
	assert_int_equal(json_array_size(e), 2);
	assert_int_equal(json_integer_value(json_array_get(e, 0)), 2);
	assert_int_equal(json_integer_value(json_array_get(e, 1)), 2);
	assert_int_equal(json_integer_value(json_object_get(job, "tasks")), 6);
	assert_int_equal(json_integer_value(json_object_get(job, "tasks_per_node")), 3);
	assert_int_equal(json_integer_value(json_object_get(job, "cpus_per_task")), 4);
	assert_true(json_is_integer(json_object_get(job, "memory_per_node")));
	assert_int_equal(json_integer_value(json_object_get(job, "memory_per_node")), 1024);
	assert_string_equal(json_string_value(json_object_get(job, "gres")), "gpu:a100:2");
	assert_null(json_object_get(job, "tres_per_node"));
	assert_null(json_object_get(job, "gpus"));
	assert_true(json_is_integer(json_object_get(job, "time_limit")));
	assert_int_equal(json_integer_value(json_object_get(job, "time_limit")), 30);
	assert_true(json_is_true(json_object_get(job, "hold")));
	assert_true(json_is_false(json_object_get(job, "requeue")));
	assert_int_equal(json_object_size(job), 18);
	json_decref(root);
	free(body);

	/* defaults: nothing sent that the cluster should choose; untyped GPUs; an empty env
	 * still has PATH (Slurm requires environment) */
	kvlist_free(&env);
	kvlist_init(&env);
	memset(&s, 0, sizeof s);
	s.script = "#!/bin/sh\n";
	s.env = &env;
	s.cwd = "/w";
	s.output = "/w/job.log";
	s.nodes = 1;
	s.tasks_per_node = 1;
	s.gpus_per_node = 1;
	s.requeue = 1;
	body = slurm_api_submit_body(v38, &s);
	job = job_of(body, &root);
	assert_null(json_object_get(job, "partition"));
	assert_null(json_object_get(job, "account"));
	assert_null(json_object_get(job, "qos"));
	assert_null(json_object_get(job, "cpus_per_task"));
	assert_null(json_object_get(job, "memory_per_node"));
	assert_null(json_object_get(job, "time_limit"));
	assert_string_equal(json_string_value(json_object_get(job, "gres")), "gpu:1");
	assert_true(json_is_false(json_object_get(job, "hold")));
	assert_true(json_is_true(json_object_get(job, "requeue")));
	e = json_object_get(job, "environment");
	assert_true(json_is_object(e));
	assert_non_null(json_object_get(e, "PATH"));
	json_decref(root);
	free(body);
	/* a GPU type is a label value: nothing that could add a GRES */
	s.gpu_type = "a100,gpu:8";
	body = slurm_api_submit_body(v38, &s);
	job = job_of(body, &root);
	assert_string_equal(json_string_value(json_object_get(job, "gres")), "gpu:a100_gpu_8:1");
	json_decref(root);
	free(body);
	kvlist_free(&env);
}

/* The body's top level keys are those of the real request that worked (samples/
 * submit.request.json), and the job keys Gantry shares with it have the same JSON types. */
static void test_submit_body_like_sample(void **state)
{
	struct kvlist env;
	struct slurm_submit s = {0};
	json_t *root, *job, *sroot, *sjob, *val;
	const char *key;
	char *body, *sample;
	size_t len;

	(void)state;
	kvlist_init(&env);
	kvlist_set(&env, "MY_VAR", "x");
	s.script = "#!/bin/bash\n";
	s.name = "n";
	s.partition = "debug";
	s.cwd = "/c";
	s.output = "/c/o";
	s.env = &env;
	s.nodes = 1;
	s.tasks_per_node = 1;
	s.cpus_per_task = 1;
	s.memory_mib = 128;
	s.time_limit_min = 5;
	body = slurm_api_submit_body(v38, &s);
	job = job_of(body, &root);
	sample = slurp("submit.request.json", &len);
	sjob = job_of(sample, &sroot);
	json_object_foreach(sjob, key, val)
	{
		json_t *mine = json_object_get(job, key);

		if (mine == NULL)
			continue; /* "gpus": Gantry asks per node ("gres") */
		if (json_typeof(mine) != json_typeof(val))
			fail_msg("job.%s: type differs from the working request", key);
	}
	assert_int_equal(json_object_size(root), json_object_size(sroot));
	json_decref(root);
	json_decref(sroot);
	free(body);
	free(sample);
	kvlist_free(&env);
}

static void test_submit_body_newer(void **state)
{
	const struct slurm_api_version *vs[] = {v39, v40, v41};
	struct kvlist env;
	struct slurm_submit s = {0};

	(void)state;
	kvlist_init(&env);
	kvlist_set(&env, "PATH", "/bin");
	kvlist_set(&env, "A", "b=c");
	s.script = "#!/bin/bash\n";
	s.name = "gantry-j2";
	s.cwd = "/c";
	s.output = "/c/o";
	s.env = &env;
	s.nodes = 2;
	s.tasks_per_node = 1;
	s.memory_mib = 2048;
	s.gpus_per_node = 4;
	s.time_limit_min = 60;
	for (size_t i = 0; i < 3; i++) {
		json_t *root, *job, *e;
		char *body = slurm_api_submit_body(vs[i], &s);

		job = job_of(body, &root);
		e = json_object_get(job, "environment");
		assert_true(json_is_array(e));
		assert_int_equal(json_array_size(e), 2);
		assert_string_equal(json_string_value(json_array_get(e, 0)), "PATH=/bin");
		assert_string_equal(json_string_value(json_array_get(e, 1)), "A=b=c");
		assert_num_obj(json_object_get(job, "time_limit"), 60);
		assert_num_obj(json_object_get(job, "memory_per_node"), 2048);
		assert_string_equal(json_string_value(json_object_get(job, "nodes")), "2");
		assert_string_equal(json_string_value(json_object_get(job, "tres_per_node")),
		                    "gres/gpu:4");
		assert_null(json_object_get(job, "gres"));
		json_decref(root);
		free(body);
	}
	kvlist_free(&env);
}

static void test_parse_submit(void **state)
{
	static const char *bad[] = {
	    "",
	    "x",
	    "[]",
	    "{}",
	    "{\"job_id\": \"1\", \"errors\": []}",
	    "{\"job_id\": 0, \"errors\": []}",
	    "{\"job_id\": -3}",
	    "{\"job_id\": 1.5}",
	    "{\"job_id\": 99999999999}",
	    "{\"job_id\": 4, \"errors\": [{\"error\": \"x\"}]}",
	};
	int64_t id;
	char *cause = NULL, *b;
	size_t len;

	(void)state;
	b = slurp("submit.json", &len);
	assert_int_equal(slurm_api_parse_submit(b, len, &id, &cause), 0);
	assert_int_equal(id, 1);
	free(b);
	/* a held job: 200, job_id and error 2042 "Job is in held state" (a notice) */
	b = slurp("submit-held.json", &len);
	assert_int_equal(slurm_api_parse_submit(b, len, &id, &cause), 0);
	assert_int_equal(id, 3);
	assert_null(slurm_api_error(200, b, len, NULL, NULL));
	free(b);
	b = xstrdup("{\"job_id\": " NUM(77) ", \"errors\": []}");
	assert_int_equal(slurm_api_parse_submit(b, strlen(b), &id, &cause), 0);
	free(b);
	assert_int_equal(id, 77);
	b = slurp("submit-bad-partition.json", &len);
	assert_int_equal(slurm_api_parse_submit(b, len, &id, &cause), -1);
	assert_non_null(strstr(cause, "Invalid partition name specified (2000)"));
	free(cause);
	cause = NULL;
	free(b);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (slurm_api_parse_submit(bad[i], strlen(bad[i]), &id, &cause) != -1)
			fail_msg("parsed '%s'", bad[i]);
		assert_non_null(cause);
		free(cause);
		cause = NULL;
	}
}

/* ---- GRES ---- */

static void test_gres(void **state)
{
	static const struct {
		const char *s;
		size_t n;
		const char *t0;
		int c0;
		const char *t1;
		int c1;
	} ok[] = {
	    {"gpu:2", 1, "", 2, NULL, 0},
	    {"gpu:a100:4(S:0-1)", 1, "a100", 4, NULL, 0},
	    {"gpu:a100:2,gpu:v100:1", 2, "a100", 2, "v100", 1},
	    {"gpu:a100:2(IDX:0-1)", 1, "a100", 2, NULL, 0},
	    {"gpu:2(IDX:0,1)", 1, "", 2, NULL, 0},
	    {"gpu:0", 1, "", 0, NULL, 0},
	    {"gpu", 1, "", 1, NULL, 0},
	    {"gpu:tesla_v100-sxm2:8", 1, "tesla_v100-sxm2", 8, NULL, 0},
	    {"mps:100,gpu:1", 1, "", 1, NULL, 0},
	    {"shard:4", 0, NULL, 0, NULL, 0},
	    {"gres:gpu:3", 1, "", 3, NULL, 0},
	    {"gres/gpu:h100=2", 1, "h100", 2, NULL, 0},
	    {"gpu:a100", 1, "a100", 1, NULL, 0},
	    {"", 0, NULL, 0, NULL, 0},
	    {"(null)", 0, NULL, 0, NULL, 0},
	    {"N/A", 0, NULL, 0, NULL, 0},
	};
	static const char *bad[] = {
	    "gpu:",   "gpu:a100:", ":2",        "gpu:2,",          "gpu:-1",  "gpu:99999999999",
	    "gpu:2x", ",gpu:1",    "gpu:a b:1", "gpu:2(IDX:0-1",   "gpu::1",  "gpu:a100:2:3",
	    "g;pu:1", "gpu:a$:1",  "gpu:1,,x",  "gpu:1(IDX:0),)x", "gpu:1e3",
	};
	struct slurm_gres *g;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		if (slurm_api_parse_gres(ok[i].s, &g, &n) != 0)
			fail_msg("'%s' refused", ok[i].s);
		if (n != ok[i].n)
			fail_msg("'%s': %zu entries, want %zu", ok[i].s, n, ok[i].n);
		if (n > 0) {
			assert_string_equal(g[0].type, ok[i].t0);
			assert_int_equal(g[0].count, ok[i].c0);
		}
		if (n > 1) {
			assert_string_equal(g[1].type, ok[i].t1);
			assert_int_equal(g[1].count, ok[i].c1);
		}
		slurm_gres_free(g, n);
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (slurm_api_parse_gres(bad[i], &g, &n) != -1)
			fail_msg("'%s' parsed", bad[i]);
		assert_null(g);
		assert_int_equal(n, 0);
	}
}

/* ---- nodes and partitions ---- */

static void test_nodes(void **state)
{
	static const char body[] =
	    "{\"nodes\": ["
	    " {\"name\": \"gpu01\", \"address\": \"10.0.0.1\", \"state\": \"mixed\","
	    "  \"state_flags\": [\"DRAIN\"], \"reason\": \"bad fan\", \"partitions\": [\"gpu\","
	    "  \"all\"], \"gres\": \"gpu:a100:4(S:0-1)\", \"gres_used\": \"gpu:a100:2(IDX:0-1)\","
	    "  \"cpus\": 64, \"alloc_cpus\": 16, \"real_memory\": 512000, \"alloc_memory\": 1000},"
	    " {\"name\": \"gpu02\", \"state\": [\"IDLE\", \"DRAIN\"], \"partitions\": [\"gpu\"],"
	    "  \"gres\": \"gpu:2\", \"gres_used\": \"gpu:9\", \"cpus\": 8, \"alloc_cpus\": 0,"
	    "  \"real_memory\": " NUM(
	        1000) ", \"address\": null},"
	              " {\"name\": \"cpu01\", \"state\": \"IDLE+DRAIN\", \"partitions\": [],"
	              "  \"gres\": \"gpu:x:\", \"cpus\": \"8\"},"
	              " {\"name\": 5, \"state\": \"idle\"}, {\"name\": \"\", \"state\": \"idle\"},"
	              " {\"name\": \"x\"}, {\"name\": \"y\", \"state\": [5]}, 7, null]}";
	struct slurm_node *nd = NULL;
	size_t n = 0, len;
	char *cause = NULL, *b;

	(void)state;
	b = slurp("nodes.json", &len);
	assert_int_equal(slurm_api_parse_nodes(v38, b, len, &nd, &n, &cause), 0);
	free(b);
	assert_int_equal(n, 1);
	assert_string_equal(nd[0].name, "localhost");
	assert_string_equal(nd[0].address, "127.0.0.1");
	assert_string_equal(nd[0].state, "idle");
	assert_false(nd[0].drain);
	assert_string_equal(nd[0].reason, "");
	assert_string_equal(nd[0].partitions, "debug");
	assert_string_equal(nd[0].gpu_type, "");
	assert_int_equal(nd[0].gpus, 2);
	assert_int_equal(nd[0].gpus_used, 0);
	assert_int_equal(nd[0].cpus, 2);
	assert_int_equal(nd[0].alloc_cpus, 0);
	assert_int_equal(nd[0].memory_mib, 24105);
	assert_int_equal(nd[0].alloc_memory_mib, 0);
	slurm_nodes_free(nd, n);

	nd = NULL;
	n = 0;
	assert_int_equal(slurm_api_parse_nodes(v40, body, strlen(body), &nd, &n, &cause), 0);
	assert_int_equal(n, 3);
	assert_string_equal(nd[0].state, "mixed");
	assert_true(nd[0].drain);
	assert_string_equal(nd[0].reason, "bad fan");
	assert_string_equal(nd[0].partitions, "gpu,all");
	assert_string_equal(nd[0].gpu_type, "a100");
	assert_int_equal(nd[0].gpus, 4);
	assert_int_equal(nd[0].gpus_used, 2);
	assert_int_equal(nd[0].cpus, 64);
	assert_int_equal(nd[0].alloc_cpus, 16);
	assert_int_equal(nd[0].memory_mib, 512000);
	assert_int_equal(nd[0].alloc_memory_mib, 1000);
	assert_string_equal(nd[1].state, "idle");
	assert_true(nd[1].drain);
	assert_string_equal(nd[1].address, "gpu02");
	assert_int_equal(nd[1].gpus, 2);
	assert_int_equal(nd[1].gpus_used, 2); /* never more than it has */
	assert_int_equal(nd[1].memory_mib, 1000);
	assert_string_equal(nd[2].state, "idle");
	assert_true(nd[2].drain);
	assert_string_equal(nd[2].partitions, "");
	assert_int_equal(nd[2].gpus, 0); /* malformed gres: none */
	assert_int_equal(nd[2].cpus, 0);
	slurm_nodes_free(nd, n);

	nd = NULL;
	n = 0;
	assert_int_equal(slurm_api_parse_nodes(v38, "{\"nodes\": 1}", 12, &nd, &n, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

static void test_partitions(void **state)
{
	static const char body[] =
	    "{\"partitions\": ["
	    " {\"name\": \"gpu\", \"partition\": {\"state\": [\"UP\"]}, \"flags\": [\"DEFAULT\"],"
	    "  \"nodes\": {\"allowed_allocation\": \"\", \"configured\": \"gpu[01-02]\","
	    "  \"total\": 2}, \"cpus\": {\"task_binding\": 0, \"total\": 72},"
	    "  \"maximums\": {\"time\": " NUM(
	        1440) "}},"
	              " {\"name\": \"long\", \"partition\": {\"state\": [\"DRAIN\"]}, \"nodes\": "
	              "{\"total\": 1},"
	              "  \"maximums\": {\"time\": {\"set\": true, \"infinite\": true, \"number\": "
	              "0}}},"
	              " {\"name\": \"old\", \"state\": \"DOWN\", \"max_time_limit\": 60, "
	              "\"nodes\": \"n1\","
	              "  \"total_nodes\": 1, \"total_cpus\": 4, \"flags\": []},"
	              " {\"state\": \"UP\"}, {\"name\": 3}, \"x\"]}";
	struct slurm_partition *p = NULL;
	size_t n = 0, len;
	char *cause = NULL, *b;

	(void)state;
	b = slurp("partitions.json", &len);
	assert_int_equal(slurm_api_parse_partitions(v38, b, len, &p, &n, &cause), 0);
	free(b);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].name, "debug");
	assert_string_equal(p[0].state, "up");
	assert_true(p[0].is_default);
	assert_string_equal(p[0].nodes, "localhost");
	assert_int_equal(p[0].total_nodes, 1);
	assert_int_equal(p[0].total_cpus, 2);
	assert_int_equal(p[0].max_time_min, 0); /* -1: unlimited */
	slurm_partitions_free(p, n);

	p = NULL;
	n = 0;
	assert_int_equal(slurm_api_parse_partitions(v40, body, strlen(body), &p, &n, &cause), 0);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].name, "gpu");
	assert_string_equal(p[0].state, "up");
	assert_true(p[0].is_default);
	assert_string_equal(p[0].nodes, "gpu[01-02]");
	assert_int_equal(p[0].total_nodes, 2);
	assert_int_equal(p[0].total_cpus, 72);
	assert_int_equal(p[0].max_time_min, 1440);
	assert_string_equal(p[1].state, "drain");
	assert_false(p[1].is_default);
	assert_int_equal(p[1].max_time_min, 0);
	assert_string_equal(p[1].nodes, "");
	assert_string_equal(p[2].state, "down");
	assert_int_equal(p[2].max_time_min, 60);
	assert_int_equal(p[2].total_cpus, 4);
	slurm_partitions_free(p, n);
}

/* ---- host lists ---- */

static void check_hosts(const char *expr, size_t max, const char *want)
{
	char **v, *got = xstrdup("");
	size_t n;

	if (slurm_api_hostlist(expr, &v, &n, max) != 0)
		fail_msg("'%s' refused", expr);
	for (size_t i = 0; i < n; i++) {
		char *t = xprintf("%s%s%s", got, i > 0 ? " " : "", v[i]);

		free(got);
		got = t;
		free(v[i]);
	}
	free(v);
	if (strcmp(got, want) != 0)
		fail_msg("'%s' -> '%s', want '%s'", expr, got, want);
	free(got);
}

static void test_hostlist(void **state)
{
	static const char *bad[] = {
	    "n[",     "n]",    "n[3-1]",   "n[a-b]",
	    "n[1,]",  ",a",    "a,",       "n[[1]]",
	    "a b",    "n[]",   "n[1-]",    "n[-1]",
	    "a,,b",   "n[1]]", "n[1-2-3]", "n[99999999999999999]",
	    "n[1\n]",
	};
	char **v;
	size_t n;

	(void)state;
	check_hosts("gpu[01-03,07],login", 100, "gpu01 gpu02 gpu03 gpu07 login");
	check_hosts("n[8-10]", 100, "n8 n9 n10");
	check_hosts("n[008-010]", 100, "n008 n009 n010");
	check_hosts("r[1-2]n[01-02]", 100, "r1n01 r1n02 r2n01 r2n02");
	check_hosts("localhost", 100, "localhost");
	check_hosts("n[1]-ib", 100, "n1-ib");
	check_hosts("", 100, "");
	check_hosts("a,b[1-3]", 4, "a b1 b2 b3"); /* exactly max */
	assert_int_equal(slurm_api_hostlist("a,b[1-3]", &v, &n, 3), -1);
	assert_null(v);
	assert_int_equal(n, 0);
	assert_int_equal(slurm_api_hostlist("n[1-100000000]", &v, &n, 1000), -1);
	assert_int_equal(slurm_api_hostlist("n[1-1000]m[1-1000]", &v, &n, 5000), -1);
	assert_int_equal(slurm_api_hostlist(NULL, &v, &n, 10), -1);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (slurm_api_hostlist(bad[i], &v, &n, 1000) != -1)
			fail_msg("'%s' expanded", bad[i]);
}

/* ---- the Cluster view ---- */

static void test_cluster(void **state)
{
	struct slurm_partition parts[] = {
	    {.name = (char *)"gpu",
	     .state = (char *)"up",
	     .is_default = 1,
	     .nodes = (char *)"g[1-2]",
	     .total_nodes = 2,
	     .total_cpus = 16,
	     .max_time_min = 60},
	    {.name = (char *)"cpu",
	     .state = (char *)"drain",
	     .nodes = (char *)"c1",
	     .total_nodes = 0,
	     .total_cpus = 0},
	};
	struct slurm_node nodes[] = {
	    {.name = (char *)"g1",
	     .state = (char *)"mixed",
	     .partitions = (char *)"gpu",
	     .gpu_type = (char *)"a100",
	     .reason = (char *)"",
	     .gpus = 4,
	     .gpus_used = 3,
	     .cpus = 8,
	     .alloc_cpus = 6,
	     .memory_mib = 1000,
	     .alloc_memory_mib = 500},
	    {.name = (char *)"g2",
	     .state = (char *)"idle",
	     .drain = 1,
	     .partitions = (char *)"gpu,cpu",
	     .gpu_type = (char *)"a100",
	     .reason = (char *)"maintenance",
	     .gpus = 4,
	     .cpus = 8},
	    {.name = (char *)"c1",
	     .state = (char *)"allocated",
	     .partitions = (char *)"cpu",
	     .gpu_type = (char *)"",
	     .cpus = 32,
	     .alloc_cpus = 32},
	};
	struct slurm_job jobs[] = {
	    {.state = (char *)"RUNNING", .partition = (char *)"gpu"},
	    {.state = (char *)"RUNNING", .partition = (char *)"gpu"},
	    {.state = (char *)"COMPLETING", .partition = (char *)"cpu"},
	    {.state = (char *)"PENDING", .partition = (char *)"gpu,cpu"},
	    {.state = (char *)"PENDING", .partition = (char *)"gpu"},
	    {.state = (char *)"COMPLETED", .partition = (char *)"gpu"},
	    {.state = (char *)"CANCELLED", .partition = (char *)"cpu"},
	};
	struct cluster_info c;

	(void)state;
	slurm_api_cluster("hpc", parts, 2, nodes, 3, jobs, 7, &c);
	assert_string_equal(c.provider, "hpc");
	assert_int_equal(c.nparts, 2);
	assert_int_equal(c.nnodes, 3);
	assert_int_equal(c.jobs_running, 3);
	assert_int_equal(c.jobs_pending, 2);
	assert_string_equal(c.parts[0].name, "gpu");
	assert_string_equal(c.parts[0].state, "up");
	assert_true(c.parts[0].is_default);
	assert_int_equal(c.parts[0].nodes, 2);
	assert_int_equal(c.parts[0].gpus_total, 8);
	assert_int_equal(c.parts[0].gpus_alloc, 3);
	assert_int_equal(c.parts[0].cpus_total, 16);
	assert_int_equal(c.parts[0].cpus_alloc, 6);
	assert_int_equal(c.parts[0].jobs_running, 2);
	assert_int_equal(c.parts[0].jobs_pending, 2);
	assert_int_equal(c.parts[0].max_time_s, 3600);
	assert_string_equal(c.parts[1].name, "cpu");
	assert_string_equal(c.parts[1].state, "drain");
	assert_int_equal(c.parts[1].nodes, 2); /* counted from the nodes */
	assert_int_equal(c.parts[1].gpus_total, 4);
	assert_int_equal(c.parts[1].cpus_total, 40);
	assert_int_equal(c.parts[1].cpus_alloc, 32);
	assert_int_equal(c.parts[1].jobs_running, 1);
	assert_int_equal(c.parts[1].jobs_pending, 1);
	assert_int_equal(c.parts[1].max_time_s, 0);
	assert_string_equal(c.nodes[0].state, "mixed");
	assert_null(c.nodes[0].reason);
	assert_string_equal(c.nodes[0].gpu_type, "a100");
	assert_int_equal(c.nodes[0].gpus_total, 4);
	assert_int_equal(c.nodes[0].gpus_alloc, 3);
	assert_int_equal(c.nodes[0].memory_mib, 1000);
	assert_int_equal(c.nodes[0].memory_alloc_mib, 500);
	assert_string_equal(c.nodes[1].state, "drained");
	assert_string_equal(c.nodes[1].reason, "maintenance");
	assert_string_equal(c.nodes[1].partitions, "gpu,cpu");
	assert_string_equal(c.nodes[2].state, "allocated");
	assert_int_equal(c.as_of_ms, 0);
	assert_null(c.error);
	cluster_info_clear(&c);
	assert_null(c.provider);
}

/* The Cluster view from the real answers of one cluster. */
static void test_cluster_samples(void **state)
{
	struct slurm_partition *p = NULL;
	struct slurm_node *nd = NULL;
	struct slurm_job *j = NULL;
	size_t np = 0, nn = 0, nj = 0, len;
	struct cluster_info c;
	char *b, *cause = NULL;

	(void)state;
	b = slurp("partitions.json", &len);
	assert_int_equal(slurm_api_parse_partitions(v38, b, len, &p, &np, &cause), 0);
	free(b);
	b = slurp("nodes.json", &len);
	assert_int_equal(slurm_api_parse_nodes(v38, b, len, &nd, &nn, &cause), 0);
	free(b);
	b = slurp("job-running.json", &len);
	assert_int_equal(slurm_api_parse_jobs(v38, b, len, &j, &nj, &cause), 0);
	free(b);
	b = slurp("job-held.json", &len);
	assert_int_equal(slurm_api_parse_jobs(v38, b, len, &j, &nj, &cause), 0); /* appends */
	free(b);
	assert_int_equal(nj, 2);
	slurm_api_cluster("ci", p, np, nd, nn, j, nj, &c);
	assert_int_equal(c.nparts, 1);
	assert_string_equal(c.parts[0].name, "debug");
	assert_int_equal(c.parts[0].nodes, 1);
	assert_int_equal(c.parts[0].gpus_total, 2);
	assert_int_equal(c.parts[0].cpus_total, 2);
	assert_int_equal(c.parts[0].jobs_running, 1);
	assert_int_equal(c.parts[0].jobs_pending, 1);
	assert_string_equal(c.nodes[0].state, "idle");
	cluster_info_clear(&c);
	slurm_partitions_free(p, np);
	slurm_nodes_free(nd, nn);
	slurm_jobs_free(j, nj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_job_completed_sample),
	    cmocka_unit_test(test_job_cancelled_held_samples),
	    cmocka_unit_test(test_state_mapping),
	    cmocka_unit_test(test_reason_sanitised),
	    cmocka_unit_test(test_exit_codes),
	    cmocka_unit_test(test_jobs_v40_shape),
	    cmocka_unit_test(test_jobs_malformed),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_error_text_sanitised),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_labels_reject),
	    cmocka_unit_test(test_submit_body_v38),
	    cmocka_unit_test(test_submit_body_like_sample),
	    cmocka_unit_test(test_submit_body_newer),
	    cmocka_unit_test(test_parse_submit),
	    cmocka_unit_test(test_gres),
	    cmocka_unit_test(test_nodes),
	    cmocka_unit_test(test_partitions),
	    cmocka_unit_test(test_hostlist),
	    cmocka_unit_test(test_cluster),
	    cmocka_unit_test(test_cluster_samples),
	};

	v38 = slurm_api_version("v0.0.38");
	v39 = slurm_api_version("v0.0.39");
	v40 = slurm_api_version("v0.0.40");
	v41 = slurm_api_version("v0.0.41");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
