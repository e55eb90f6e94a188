/* k8s_conf.c: the `kubernetes` provider's settings (flattened config.yaml keys). Every key
 * is checked; an unknown key or a bad value fails with "FILE:LINE:COL: KEY: reason".
 *
 *   providers:
 *     kube:
 *       type: kubernetes
 *       kubeconfig: PATH        # default: first of $KUBECONFIG, else ~/.kube/config
 *       context: NAME           # default: current-context
 *       namespace: ml           # default: the context's namespace, else "default"
 *       namespaces: {vision: team-vision}
 *       image: python:3.11-slim
 *       gpu_resource: nvidia.com/gpu
 *       gpu_label: nvidia.com/gpu.product
 *       node_selector: {pool: gpu}
 *       spot_label: gantry.dev/spot
 *       rate_gpu_hour: 2.0      # rates.H100: 3.1, rate_cpu_hour: 0.05
 *       spot_rates: {H100: 1.2} # spot_discount: 0.4
 *       catalog: NAME
 *       dcgm_url: http://127.0.0.1:9400/metrics
 *       backoff_limit: 0
 *       qps_metric: http_requests_per_second
 *       service_account: NAME
 *       watch: true
 *       poll_interval: 2s
 *       request_timeout: 30s
 *       port: 8080              # container port of notebooks and endpoints */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/settings.h"
#include "core/xmalloc.h"
#include "providers/k8s_internal.h"

/* A DNS-1123 label (a namespace): lower case alphanumerics and '-', at most 63. */
static int kube_conf_dns_label(const char *v)
{
	size_t n = strlen(v);

	return n > 0 && n <= 63 && strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") == n &&
	       v[0] != '-' && v[n - 1] != '-';
}

/* A label key or value Kubernetes takes ("nvidia.com/gpu.product", "pool", "true"). */
static int kube_conf_label(const char *v, int key)
{
	size_t n = strlen(v);

	if (n == 0 || n > (key ? 253u : 63u))
		return key ? 0 : n == 0;
	return strspn(v,
	              key ? "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/"
	                  : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       n;
}

static int kube_conf_bool(struct settings_ctx *x, const char *key, const char *v, int *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0) {
		*out = 0;
		return 0;
	}
	return settings_fail(x, key, "expected true or false, got '%s'", v);
}

static void kube_conf_add_rate(struct catalog_site_gpu_rate **v, size_t *n, const char *type,
                               double r)
{
	for (size_t i = 0; i < *n; i++)
		if (strcasecmp((*v)[i].gpu_type, type) == 0) {
			(*v)[i].usd_per_gpu_hour = r;
			return;
		}
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[*n].gpu_type = xstrdup(type);
	(*v)[*n].usd_per_gpu_hour = r;
	(*n)++;
}

static int kube_conf_rate_key(struct settings_ctx *x, const char *key, const char *v, size_t plen,
                              struct catalog_site_gpu_rate **rates, size_t *n)
{
	double r;

	if (strlen(key + plen) > 64 || strchr(key + plen, '.') != NULL)
		return settings_fail(x, key, "expected %.*sGPU_TYPE", (int)plen, key);
	if (settings_rate(x, key, v, &r) != 0)
		return -1;
	kube_conf_add_rate(rates, n, key + plen, r);
	return 0;
}

static int kube_conf_key(struct settings_ctx *x, const char *key, const char *v,
                         struct kube_conf *c)
{
	long d = 0;

	if (strcmp(key, "kubeconfig") == 0)
		return settings_text(x, key, v, &c->kubeconfig);
	if (strcmp(key, "context") == 0)
		return settings_text(x, key, v, &c->context);
	if (strcmp(key, "namespace") == 0) {
		if (!kube_conf_dns_label(v))
			return settings_fail(x, key,
			                     "expected a namespace name (lower case letters, "
			                     "digits, '-'; at most 63), got '%s'",
			                     v);
		return settings_text(x, key, v, &c->namespace);
	}
	if (strncmp(key, "namespaces.", 11) == 0 && key[11] != '\0') {
		if (strchr(key + 11, '.') != NULL)
			return settings_fail(x, key, "expected namespaces.TEAM: NAMESPACE");
		if (!kube_conf_dns_label(v))
			return settings_fail(x, key,
			                     "expected a namespace name (lower case letters, "
			                     "digits, '-'; at most 63), got '%s'",
			                     v);
		kvlist_set(&c->namespaces, key + 11, v);
		return 0;
	}
	if (strcmp(key, "image") == 0) {
		if (strpbrk(v, " \t") != NULL)
			return settings_fail(x, key, "expected an image reference, got '%s'", v);
		return settings_text(x, key, v, &c->image);
	}
	if (strcmp(key, "gpu_resource") == 0 || strcmp(key, "gpu_label") == 0 ||
	    strcmp(key, "spot_label") == 0) {
		if (!kube_conf_label(v, 1))
			return settings_fail(x, key, "expected a label or resource name, got '%s'",
			                     v);
		return settings_text(x, key, v,
		                     strcmp(key, "gpu_resource") == 0 ? &c->gpu_resource
		                     : strcmp(key, "gpu_label") == 0  ? &c->gpu_label
		                                                      : &c->spot_label);
	}
	if (strncmp(key, "node_selector.", 14) == 0 && key[14] != '\0') {
		if (!kube_conf_label(key + 14, 1) || !kube_conf_label(v, 0))
			return settings_fail(x, key, "expected node_selector.LABEL: VALUE");
		kvlist_set(&c->node_selector, key + 14, v);
		return 0;
	}
	if (strcmp(key, "rate_gpu_hour") == 0) {
		double r;

		if (settings_rate(x, key, v, &r) != 0)
			return -1;
		kube_conf_add_rate(&c->gpu_rates, &c->ngpu_rates, "*", r);
		return 0;
	}
	if (strncmp(key, "rates.", 6) == 0 && key[6] != '\0')
		return kube_conf_rate_key(x, key, v, 6, &c->gpu_rates, &c->ngpu_rates);
	if (strncmp(key, "spot_rates.", 11) == 0 && key[11] != '\0')
		return kube_conf_rate_key(x, key, v, 11, &c->spot_rates, &c->nspot_rates);
	if (strcmp(key, "spot_discount") == 0) {
		char *end = NULL;
		double r = strtod(v, &end);

		if (end == v || *end != '\0' || !isfinite(r) || r <= 0 || r > 1)
			return settings_fail(x, key,
			                     "expected a fraction above 0 and at most 1, got "
			                     "'%s'",
			                     v);
		c->spot_discount = r;
		return 0;
	}
	if (strcmp(key, "rate_cpu_hour") == 0) {
		if (settings_rate(x, key, v, &c->rate_cpu_hour) != 0)
			return -1;
		c->has_cpu_rate = 1;
		return 0;
	}
	if (strcmp(key, "catalog") == 0)
		return settings_text(x, key, v, &c->catalog);
	if (strcmp(key, "dcgm_url") == 0)
		return settings_url(x, key, v, "http://127.0.0.1:9400/metrics", &c->dcgm_url);
	if (strcmp(key, "backoff_limit") == 0)
		return settings_int(x, key, v, 0, 100, &c->backoff_limit);
	if (strcmp(key, "qps_metric") == 0) {
		if (!kube_conf_label(v, 1))
			return settings_fail(x, key, "expected a metric name, got '%s'", v);
		return settings_text(x, key, v, &c->qps_metric);
	}
	if (strcmp(key, "service_account") == 0) {
		if (!kube_conf_dns_label(v))
			return settings_fail(x, key, "expected a service account name, got '%s'",
			                     v);
		return settings_text(x, key, v, &c->service_account);
	}
	if (strcmp(key, "watch") == 0)
		return kube_conf_bool(x, key, v, &c->watch);
	if (strcmp(key, "poll_interval") == 0) {
		if (settings_duration(x, key, v, 1, 3600, &d) != 0)
			return -1;
		c->poll_ms = (int)d * 1000;
		return 0;
	}
	if (strcmp(key, "request_timeout") == 0) {
		if (settings_duration(x, key, v, 1, 600, &d) != 0)
			return -1;
		c->request_timeout_ms = (int)d * 1000;
		return 0;
	}
	if (strcmp(key, "port") == 0)
		return settings_int(x, key, v, 1, 65535, &c->port);
	return settings_fail(
	    x, key,
	    "unknown setting (known: kubeconfig, context, namespace, "
	    "namespaces.TEAM, image, gpu_resource, gpu_label, node_selector.LABEL, "
	    "spot_label, rate_gpu_hour, rates.TYPE, spot_rates.TYPE, "
	    "spot_discount, rate_cpu_hour, catalog, dcgm_url, backoff_limit, "
	    "qps_metric, service_account, watch, poll_interval, request_timeout, "
	    "port)");
}

int kube_conf_parse(const struct kvlist *settings, const struct kvlist *pos, const char *prov,
                    struct kube_conf *c, char **cause)
{
	struct settings_ctx x = {pos, prov, cause};

	memset(c, 0, sizeof *c);
	kvlist_init(&c->namespaces);
	kvlist_init(&c->node_selector);
	c->watch = 1;
	c->poll_ms = 2000;
	c->request_timeout_ms = 30000;
	c->spot_discount = 0.4;
	c->port = 8080;
	for (size_t i = 0; settings != NULL && i < settings->n; i++) {
		if (kube_conf_key(&x, settings->keys[i], settings->vals[i], c) != 0) {
			kube_conf_free(c);
			return -1;
		}
	}
	if (c->gpu_resource == NULL)
		c->gpu_resource = xstrdup(K8S_GPU_RESOURCE);
	if (c->gpu_label == NULL)
		c->gpu_label = xstrdup("nvidia.com/gpu.product");
	if (c->image == NULL)
		c->image = xstrdup("python:3.11-slim");
	if (c->qps_metric == NULL)
		c->qps_metric = xstrdup("http_requests_per_second");
	return 0;
}

const char *kube_conf_ns(const struct kube_conf *c, const char *team)
{
	const char *ns = team != NULL ? kvlist_get(&c->namespaces, team) : NULL;

	if (ns != NULL)
		return ns;
	return c->namespace != NULL ? c->namespace : "default";
}

static void kube_conf_rates_free(struct catalog_site_gpu_rate *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((char *)v[i].gpu_type);
	free(v);
}

void kube_conf_free(struct kube_conf *c)
{
	free(c->kubeconfig);
	free(c->context);
	free(c->namespace);
	kvlist_free(&c->namespaces);
	free(c->image);
	free(c->gpu_resource);
	free(c->gpu_label);
	kvlist_free(&c->node_selector);
	free(c->spot_label);
	kube_conf_rates_free(c->gpu_rates, c->ngpu_rates);
	kube_conf_rates_free(c->spot_rates, c->nspot_rates);
	free(c->catalog);
	free(c->dcgm_url);
	free(c->qps_metric);
	free(c->service_account);
	memset(c, 0, sizeof *c);
}
