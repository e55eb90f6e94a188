/* test_slurm_conf.c: the slurm provider's settings (providers/slurm_conf.c): the agreed
 * config shape with its defaults, every value checked with the FILE:LINE:COL of the setting,
 * one token source exactly, http:// only to loopback, site rates per GPU type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/kvlist.h"
#include "core/xmalloc.h"
#include "providers/slurm_internal.h"

/* settings from "key=value" pairs; each key's position is "config.yaml:N:5" */
static int parse(struct slurm_conf *c, char **cause, const char *const *kv)
{
	struct kvlist set, pos;
	int rc;

	kvlist_init(&set);
	kvlist_init(&pos);
	for (size_t i = 0; kv[i] != NULL; i++) {
		const char *eq = strchr(kv[i], '=');
		char *k = xstrndup(kv[i], (size_t)(eq - kv[i]));
		char *where = xprintf("config.yaml:%zu:5", i + 3);

		kvlist_set(&set, k, eq + 1);
		kvlist_set(&pos, k, where);
		free(k);
		free(where);
	}
	rc = slurm_conf_parse(&set, &pos, "hpc", c, cause);
	kvlist_free(&set);
	kvlist_free(&pos);
	return rc;
}

static void test_defaults(void **state)
{
	const char *kv[] = {"url=http://127.0.0.1:6820/", "token_file=/tmp/t", "login=login1",
	                    NULL};
	struct slurm_conf c;
	char *cause = NULL;

	(void)state;
	assert_int_equal(parse(&c, &cause, kv), 0);
	assert_string_equal(c.url, "http://127.0.0.1:6820");
	assert_string_equal(c.api_version, "v0.0.38");
	assert_string_equal(c.token_setting, "token_file");
	assert_string_equal(c.dir, ".gantry-slurm");
	assert_non_null(c.user);
	assert_int_equal(c.ssh_port, 22);
	assert_int_equal(c.node_ssh_port, 22);
	assert_int_equal(c.poll_ms, 2000);
	assert_int_equal(c.offers_refresh_s, 30);
	assert_int_equal(c.requeue, 1);
	assert_null(c.partition);
	assert_int_equal(c.ngpu_rates, 0);
	slurm_conf_free(&c);
}

static void test_full(void **state)
{
	const char *kv[] = {"url=https://slurm.example.org:6820",
	                    "api_version=v0.0.40",
	                    "user=ml",
	                    "token_command=scontrol token",
	                    "partition=gpu",
	                    "account=proj",
	                    "qos=normal",
	                    "login=10.0.0.1",
	                    "ssh_user=ml",
	                    "ssh_port=2222",
	                    "ssh_key=/k",
	                    "known_hosts=/kh",
	                    "node_ssh_port=2200",
	                    "dir=/shared/gantry",
	                    "rate_gpu_hour=2.0",
	                    "rates.A100=3.1",
	                    "rate_cpu_hour=0.05",
	                    "poll_interval=5s",
	                    "offers_refresh=1m",
	                    "requeue=false",
	                    NULL};
	struct slurm_conf c;
	char *cause = NULL;
	double a100 = -1, any = -1;

	(void)state;
	assert_int_equal(parse(&c, &cause, kv), 0);
	assert_string_equal(c.api_version, "v0.0.40");
	assert_string_equal(c.token_command, "scontrol token");
	assert_string_equal(c.partition, "gpu");
	assert_string_equal(c.account, "proj");
	assert_string_equal(c.qos, "normal");
	assert_int_equal(c.ssh_port, 2222);
	assert_int_equal(c.node_ssh_port, 2200);
	assert_int_equal(c.poll_ms, 5000);
	assert_int_equal(c.offers_refresh_s, 60);
	assert_int_equal(c.requeue, 0);
	assert_int_equal(c.has_cpu_rate, 1);
	for (size_t i = 0; i < c.ngpu_rates; i++) {
		if (strcmp(c.gpu_rates[i].gpu_type, "A100") == 0)
			a100 = c.gpu_rates[i].usd_per_gpu_hour;
		if (strcmp(c.gpu_rates[i].gpu_type, "*") == 0)
			any = c.gpu_rates[i].usd_per_gpu_hour;
	}
	assert_true(a100 > 3.09 && a100 < 3.11);
	assert_true(any > 1.99 && any < 2.01);
	slurm_conf_free(&c);
}

/* kv must fail with a cause containing want */
static void bad(const char *const *kv, const char *want)
{
	struct slurm_conf c;
	char *cause = NULL;

	assert_int_equal(parse(&c, &cause, kv), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	free(cause);
}

static void test_errors(void **state)
{
	(void)state;
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "token_file=/t", "login=l",
		                    "poll_intervall=2s", NULL};
		bad(kv, "config.yaml:6:5: poll_intervall: unknown setting");
	}
	{
		const char *kv[] = {"url=http://slurm.example.org", "token_file=/t", "login=l",
		                    NULL};
		bad(kv, "config.yaml:3:5: url: refusing plain http:// to slurm.example.org");
	}
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "token_file=/t", "token_env=X",
		                    "login=l", NULL};
		bad(kv, "config.yaml:5:5: token_env: give one of token_file, token_env");
	}
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "login=l", NULL};
		bad(kv, "needs token_file");
	}
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "token_file=/t", NULL};
		bad(kv, "needs login");
	}
	{
		const char *kv[] = {"token_file=/t", "login=l", NULL};
		bad(kv, "needs url");
	}
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "token_file=/t", "login=l",
		                    "api_version=38", NULL};
		bad(kv, "config.yaml:6:5: api_version: expected a version like v0.0.38");
	}
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "token_file=/t", "login=l",
		                    "poll_interval=0s", NULL};
		bad(kv, "poll_interval: expected a duration");
	}
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "token_file=/t", "login=l",
		                    "rates.A100=-1", NULL};
		bad(kv, "rates.A100: expected a price in $/hour");
	}
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "token_file=/t", "login=l",
		                    "partition=a b", NULL};
		bad(kv, "partition: expected a name");
	}
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "token_file=/t", "login=l",
		                    "dir=../x", NULL};
		bad(kv, "dir: '..' is not allowed");
	}
	{
		const char *kv[] = {"url=http://127.0.0.1:1", "token_file=/t", "login=l",
		                    "requeue=maybe", NULL};
		bad(kv, "requeue: expected true or false");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
