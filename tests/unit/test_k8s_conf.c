/* test_k8s_conf.c: the kubernetes provider's settings (providers/k8s_conf.c): the agreed
 * config shape with its defaults, every value checked with the FILE:LINE:COL of the setting,
 * namespaces per team, site and spot rates per GPU type. */
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
#include "providers/k8s_internal.h"

/* settings from "key=value" pairs; each key's position is "config.yaml:N:5" */
static int parse(struct kube_conf *c, char **cause, const char *const *kv)
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
	rc = kube_conf_parse(&set, &pos, "kube", c, cause);
	kvlist_free(&set);
	kvlist_free(&pos);
	return rc;
}

static void test_defaults(void **state)
{
	const char *kv[] = {NULL};
	struct kube_conf c;
	char *cause = NULL;

	(void)state;
	assert_int_equal(parse(&c, &cause, kv), 0);
	assert_null(c.kubeconfig);
	assert_null(c.context);
	assert_null(c.namespace);
	assert_string_equal(kube_conf_ns(&c, "vision"), "default");
	assert_string_equal(c.gpu_resource, "nvidia.com/gpu");
	assert_string_equal(c.gpu_label, "nvidia.com/gpu.product");
	assert_string_equal(c.image, "python:3.11-slim");
	assert_string_equal(c.qps_metric, "http_requests_per_second");
	assert_null(c.spot_label);
	assert_null(c.dcgm_url);
	assert_int_equal(c.watch, 1);
	assert_int_equal(c.poll_ms, 2000);
	assert_int_equal(c.request_timeout_ms, 30000);
	assert_int_equal(c.backoff_limit, 0);
	assert_int_equal(c.port, 8080);
	assert_int_equal(c.ngpu_rates, 0);
	kube_conf_free(&c);
}

static void test_full(void **state)
{
	const char *kv[] = {"kubeconfig=/etc/kube/config",
	                    "context=prod",
	                    "namespace=ml",
	                    "namespaces.vision=team-vision",
	                    "namespaces.nlp=team-nlp",
	                    "image=python:3.12-slim",
	                    "gpu_resource=amd.com/gpu",
	                    "gpu_label=gpu.example.com/model",
	                    "node_selector.pool=gpu",
	                    "spot_label=gantry.dev/spot",
	                    "rate_gpu_hour=2.0",
	                    "rates.H100=3.1",
	                    "spot_rates.H100=1.2",
	                    "spot_discount=0.5",
	                    "rate_cpu_hour=0.05",
	                    "catalog=gke",
	                    "dcgm_url=http://127.0.0.1:9400/metrics",
	                    "backoff_limit=2",
	                    "qps_metric=rps",
	                    "service_account=gantry-runner",
	                    "watch=false",
	                    "poll_interval=5s",
	                    "request_timeout=1m",
	                    "port=9000",
	                    NULL};
	struct kube_conf c;
	char *cause = NULL;

	(void)state;
	assert_int_equal(parse(&c, &cause, kv), 0);
	assert_string_equal(c.kubeconfig, "/etc/kube/config");
	assert_string_equal(c.context, "prod");
	assert_string_equal(kube_conf_ns(&c, "vision"), "team-vision");
	assert_string_equal(kube_conf_ns(&c, "nlp"), "team-nlp");
	assert_string_equal(kube_conf_ns(&c, "other"), "ml");
	assert_string_equal(kube_conf_ns(&c, NULL), "ml");
	assert_string_equal(c.image, "python:3.12-slim");
	assert_string_equal(c.gpu_resource, "amd.com/gpu");
	assert_string_equal(c.gpu_label, "gpu.example.com/model");
	assert_string_equal(kvlist_get(&c.node_selector, "pool"), "gpu");
	assert_string_equal(c.spot_label, "gantry.dev/spot");
	assert_int_equal(c.ngpu_rates, 2);
	assert_int_equal(c.nspot_rates, 1);
	assert_true(c.spot_discount == 0.5);
	assert_int_equal(c.has_cpu_rate, 1);
	assert_string_equal(c.catalog, "gke");
	assert_string_equal(c.dcgm_url, "http://127.0.0.1:9400/metrics");
	assert_int_equal(c.backoff_limit, 2);
	assert_string_equal(c.qps_metric, "rps");
	assert_string_equal(c.service_account, "gantry-runner");
	assert_int_equal(c.watch, 0);
	assert_int_equal(c.poll_ms, 5000);
	assert_int_equal(c.request_timeout_ms, 60000);
	assert_int_equal(c.port, 9000);
	kube_conf_free(&c);
}

/* one bad value: fails with its position and the key */
static void bad(const char *kv0, const char *want)
{
	const char *kv[] = {"namespace=ml", kv0, NULL};
	struct kube_conf c;
	char *cause = NULL;

	assert_int_equal(parse(&c, &cause, kv), -1);
	assert_non_null(cause);
	if (strstr(cause, "config.yaml:4:5: ") != cause || strstr(cause, want) == NULL)
		fail_msg("for %s: got '%s', wanted config.yaml:4:5: ...%s...", kv0, cause, want);
	free(cause);
}

static void test_errors(void **state)
{
	(void)state;
	bad("colour=blue", "unknown setting");
	bad("namespace=Bad_NS", "namespace: expected a namespace name");
	bad("namespaces.vision=UPPER", "namespaces.vision: expected a namespace name");
	bad("namespaces.a.b=x", "namespaces.a.b: expected namespaces.TEAM");
	bad("image=two words", "image: expected an image reference");
	bad("gpu_label=bad label!", "gpu_label: expected a label");
	bad("node_selector.pool=a b", "node_selector.pool: expected node_selector.LABEL");
	bad("rate_gpu_hour=-1", "rate_gpu_hour");
	bad("rates.H100=lots", "rates.H100");
	bad("spot_rates.H100=x", "spot_rates.H100");
	bad("spot_discount=2", "spot_discount: expected a fraction");
	bad("dcgm_url=http://10.1.2.3:9400/metrics", "dcgm_url");
	bad("backoff_limit=-1", "backoff_limit");
	bad("watch=maybe", "watch: expected true or false");
	bad("poll_interval=0s", "poll_interval");
	bad("request_timeout=forever", "request_timeout");
	bad("port=70000", "port");
	bad("service_account=Not_A_Name", "service_account");
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
