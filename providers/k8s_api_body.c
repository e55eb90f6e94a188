/* k8s_api_body.c: the JSON bodies of the objects Gantry creates (see k8s_api.h), in the
 * shapes of the API reference: a notebook's Pod, a training batch/v1 Job (Indexed with a
 * headless Service when it has several pods), an endpoint's apps/v1 Deployment, the
 * Service of a notebook or endpoint port, the endpoint's autoscaling/v2
 * HorizontalPodAutoscaler. Labels go on each object and on its pod template; the pods get
 * no service account token unless one is configured, and no service links (the job's
 * environment stays what Gantry hands it). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/xmalloc.h"
#include "providers/k8s_api.h"
#include "providers/k8s_api_internal.h"

#define K8S_MASTER_PORT 29500 /* MASTER_PORT of indexed Jobs when the job sets none */

static int k8s_c_ident(const char *s)
{
	if (s == NULL || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s != '\0'; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return 0;
	return 1;
}

static json_t *k8s_kv_json(const struct kvlist *l)
{
	json_t *o = json_object();

	for (size_t i = 0; l != NULL && i < l->n; i++)
		json_object_set_new(o, l->keys[i], json_string(l->vals[i]));
	return o;
}

static json_t *k8s_meta(const struct k8s_workload *w)
{
	return json_pack("{s:s, s:s, s:o}", "name", w->name, "namespace", w->namespace, "labels",
	                 k8s_kv_json(w->labels));
}

/* The selector of the workload's pods: the job and attempt labels (all labels when those
 * are missing). */
static json_t *k8s_pod_selector(const struct k8s_workload *w)
{
	const char *job = w->labels != NULL ? kvlist_get(w->labels, K8S_LABEL_JOB) : NULL;
	const char *att = w->labels != NULL ? kvlist_get(w->labels, K8S_LABEL_ATTEMPT) : NULL;
	json_t *o;

	if (job == NULL)
		return k8s_kv_json(w->labels);
	o = json_object();
	json_object_set_new(o, K8S_LABEL_JOB, json_string(job));
	if (att != NULL)
		json_object_set_new(o, K8S_LABEL_ATTEMPT, json_string(att));
	return o;
}

static void k8s_env_add(json_t *env, const char *name, const char *value)
{
	json_array_append_new(env, json_pack("{s:s, s:s}", "name", name, "value", value));
}

static json_t *k8s_container(const struct k8s_workload *w, int indexed, char **cause)
{
	json_t *c, *env = json_array(), *res = json_object(), *lim = json_object(),
	           *req = json_object(), *cmd;
	char *script, buf[64];

	for (size_t i = 0; w->env != NULL && i < w->env->n; i++) {
		if (!k8s_c_ident(w->env->keys[i])) {
			json_decref(env);
			json_decref(res);
			json_decref(lim);
			json_decref(req);
			char *t = k8s_text(w->env->keys[i], 60);
			xcause(cause, "environment variable name '%s' is not an identifier", t);
			free(t);
			return NULL;
		}
		k8s_env_add(env, w->env->keys[i], w->env->vals[i]);
	}
	if (indexed) {
		const char *mp = w->env != NULL ? kvlist_get(w->env, "MASTER_PORT") : NULL;
		char *addr = xprintf("%s-0.%s", w->name, w->name);

		snprintf(buf, sizeof buf, "%d", w->completions);
		k8s_env_add(env, "WORLD_SIZE", buf);
		k8s_env_add(env, "MASTER_ADDR", addr);
		free(addr);
		if (mp == NULL) {
			snprintf(buf, sizeof buf, "%d", K8S_MASTER_PORT);
			k8s_env_add(env, "MASTER_PORT", buf);
		}
		/* RANK from the completion index the Job controller gives each pod
		 * (JOB_COMPLETION_INDEX): set by the shell, so it is there whatever env holds */
		script = xprintf("export RANK=\"${JOB_COMPLETION_INDEX:-0}\"\n%s",
		                 w->script != NULL ? w->script : "");
	} else {
		script = xstrdup(w->script != NULL ? w->script : "");
	}
	cmd = json_pack("[s, s, s]", "/bin/sh", "-c", script);
	free(script);
	/* no imagePullPolicy: the cluster's default (Always for :latest, else IfNotPresent) */
	c = json_pack("{s:s, s:s, s:o, s:o}", "name", "main", "image",
	              w->image != NULL ? w->image : "", "command", cmd, "env", env);
	if (w->secret_env_name != NULL)
		json_object_set_new(
		    c, "envFrom",
		    json_pack("[{s:{s:s}}]", "secretRef", "name", w->secret_env_name));
	if (w->gpus > 0) {
		snprintf(buf, sizeof buf, "%d", w->gpus);
		json_object_set_new(lim,
		                    w->gpu_resource != NULL ? w->gpu_resource : K8S_GPU_RESOURCE,
		                    json_string(buf));
	}
	if (w->cpus > 0) {
		snprintf(buf, sizeof buf, "%d", w->cpus);
		json_object_set_new(lim, "cpu", json_string(buf));
		json_object_set_new(req, "cpu", json_string(buf));
	}
	if (w->memory_mib > 0) {
		snprintf(buf, sizeof buf, "%lldMi", (long long)w->memory_mib);
		json_object_set_new(lim, "memory", json_string(buf));
		json_object_set_new(req, "memory", json_string(buf));
	}
	if (json_object_size(lim) > 0)
		json_object_set(res, "limits", lim);
	if (json_object_size(req) > 0)
		json_object_set(res, "requests", req);
	json_decref(lim);
	json_decref(req);
	json_object_set_new(c, "resources", res);
	if (w->port > 0) {
		json_object_set_new(c, "ports",
		                    json_pack("[{s:s, s:i, s:s}]", "name", "http", "containerPort",
		                              w->port, "protocol", "TCP"));
		if (w->readiness_path != NULL) {
			/* readiness_timeout_s is the whole wait (the provider's); one probe
			 * gets at most 5 s of it */
			int to = w->readiness_timeout_s > 0 && w->readiness_timeout_s < 5
			             ? w->readiness_timeout_s
			             : 5;

			json_object_set_new(c, "readinessProbe",
			                    json_pack("{s:{s:s, s:i, s:s}, s:i, s:i, s:i}",
			                              "httpGet", "path", w->readiness_path, "port",
			                              w->port, "scheme", "HTTP", "periodSeconds", 2,
			                              "timeoutSeconds", to, "failureThreshold", 3));
		}
	}
	return c;
}

static json_t *k8s_pod_spec(const struct k8s_workload *w, const char *restart, int indexed,
                            char **cause)
{
	json_t *c = k8s_container(w, indexed, cause), *spec;

	if (c == NULL)
		return NULL;
	spec = json_pack("{s:s, s:[o], s:b}", "restartPolicy", restart, "containers", c,
	                 "enableServiceLinks", 0);
	if (w->service_account != NULL)
		json_object_set_new(spec, "serviceAccountName", json_string(w->service_account));
	else
		json_object_set_new(spec, "automountServiceAccountToken", json_false());
	if (w->node_selector != NULL && w->node_selector->n > 0)
		json_object_set_new(spec, "nodeSelector", k8s_kv_json(w->node_selector));
	if (w->ntolerations > 0) {
		json_t *tl = json_array();

		for (size_t i = 0; i < w->ntolerations; i++) {
			const struct k8s_toleration *t = &w->tolerations[i];
			json_t *o = json_object();

			if (t->key != NULL)
				json_object_set_new(o, "key", json_string(t->key));
			json_object_set_new(o, "operator",
			                    json_string(t->op != NULL ? t->op : "Equal"));
			if (t->value != NULL)
				json_object_set_new(o, "value", json_string(t->value));
			if (t->effect != NULL)
				json_object_set_new(o, "effect", json_string(t->effect));
			json_array_append_new(tl, o);
		}
		json_object_set_new(spec, "tolerations", tl);
	}
	return spec;
}

static json_t *k8s_template(const struct k8s_workload *w, json_t *spec)
{
	return json_pack("{s:{s:o}, s:o}", "metadata", "labels", k8s_kv_json(w->labels), "spec",
	                 spec);
}

static json_t *k8s_obj_head(enum k8s_kind k, const struct k8s_workload *w)
{
	return json_pack("{s:s, s:s, s:o}", "apiVersion", k8s_kind_api_version(k), "kind",
	                 k8s_kind_name(k), "metadata", k8s_meta(w));
}

static json_t *k8s_body_pod(const struct k8s_workload *w, char **cause)
{
	json_t *spec = k8s_pod_spec(w, w->restart_never ? "Never" : "Always", 0, cause), *o;

	if (spec == NULL)
		return NULL;
	if (w->active_deadline_s > 0)
		json_object_set_new(spec, "activeDeadlineSeconds",
		                    json_integer(w->active_deadline_s));
	o = k8s_obj_head(K8S_POD, w);
	json_object_set_new(o, "spec", spec);
	return o;
}

static json_t *k8s_body_job(const struct k8s_workload *w, char **cause)
{
	int n = w->completions > 1 ? w->completions : 1;
	json_t *pspec = k8s_pod_spec(w, "Never", n > 1, cause), *spec, *o;

	if (pspec == NULL)
		return NULL;
	if (n > 1)
		json_object_set_new(pspec, "subdomain", json_string(w->name));
	spec = json_pack("{s:i, s:i, s:i, s:o}", "backoffLimit",
	                 w->backoff_limit > 0 ? w->backoff_limit : 0, "completions", n,
	                 "parallelism", n, "template", k8s_template(w, pspec));
	if (n > 1)
		json_object_set_new(spec, "completionMode", json_string("Indexed"));
	if (w->active_deadline_s > 0)
		json_object_set_new(spec, "activeDeadlineSeconds",
		                    json_integer(w->active_deadline_s));
	o = k8s_obj_head(K8S_JOB, w);
	json_object_set_new(o, "spec", spec);
	return o;
}

static json_t *k8s_body_deployment(const struct k8s_workload *w, char **cause)
{
	int r = w->replicas, min = w->replicas_min > 1 ? w->replicas_min : 1;
	json_t *pspec = k8s_pod_spec(w, "Always", 0, cause), *o;

	if (pspec == NULL)
		return NULL;
	if (r < min)
		r = min;
	if (w->replicas_max > 0 && r > w->replicas_max && w->replicas_max >= min)
		r = w->replicas_max;
	o = k8s_obj_head(K8S_DEPLOYMENT, w);
	json_object_set_new(o, "spec",
	                    json_pack("{s:i, s:{s:o}, s:o}", "replicas", r, "selector",
	                              "matchLabels", k8s_pod_selector(w), "template",
	                              k8s_template(w, pspec)));
	return o;
}

static json_t *k8s_body_service(const struct k8s_workload *w, char **cause)
{
	json_t *o, *spec;

	if (w->kind == JOB_KIND_TRAINING && w->completions > 1) {
		/* the headless Service of an indexed Job: pods' DNS names NAME-I.NAME */
		spec = json_pack("{s:s, s:o, s:b, s:[{s:s, s:i, s:s}]}", "clusterIP", "None",
		                 "selector", k8s_pod_selector(w), "publishNotReadyAddresses", 1,
		                 "ports", "name", "master", "port", K8S_MASTER_PORT, "protocol",
		                 "TCP");
	} else {
		if (w->port <= 0 || w->port > 65535) {
			xcause(cause, "a Service needs the job's port");
			return NULL;
		}
		spec = json_pack("{s:s, s:o, s:[{s:s, s:i, s:i, s:s}]}", "type", "ClusterIP",
		                 "selector", k8s_pod_selector(w), "ports", "name", "http", "port",
		                 w->port, "targetPort", w->port, "protocol", "TCP");
	}
	o = k8s_obj_head(K8S_SERVICE, w);
	json_object_set_new(o, "spec", spec);
	return o;
}

/* The job's Secret: keys of w->secret_env, values base64 (data), type Opaque. */
static json_t *k8s_body_secret(const struct k8s_workload *w, char **cause)
{
	json_t *o, *data = json_object();

	if (w->secret_env == NULL || w->secret_env->n == 0) {
		json_decref(data);
		xcause(cause, "a Secret needs values");
		return NULL;
	}
	for (size_t i = 0; i < w->secret_env->n; i++) {
		const char *v = w->secret_env->vals[i] != NULL ? w->secret_env->vals[i] : "";
		char *b = k8s_base64_encode((const unsigned char *)v, strlen(v));

		json_object_set_new(data, w->secret_env->keys[i], json_string(b));
		free(b);
	}
	o = json_pack("{s:s, s:s, s:o, s:s, s:o}", "apiVersion", "v1", "kind", "Secret", "metadata",
	              k8s_meta(w), "type", "Opaque", "data", data);
	return o;
}

static json_t *k8s_body_hpa(const struct k8s_workload *w, char **cause)
{
	int min = w->replicas_min > 1 ? w->replicas_min : 1;
	int max = w->replicas_max > min ? w->replicas_max : min;
	json_t *spec, *o;

	if (w->target_qps_per_replica < 0) {
		xcause(cause, "target_qps_per_replica must not be negative");
		return NULL;
	}
	spec =
	    json_pack("{s:{s:s, s:s, s:s}, s:i, s:i}", "scaleTargetRef", "apiVersion",
	              k8s_kind_api_version(K8S_DEPLOYMENT), "kind", k8s_kind_name(K8S_DEPLOYMENT),
	              "name", w->name, "minReplicas", min, "maxReplicas", max);
	if (w->target_qps_per_replica > 0) {
		char *q = k8s_quantity_format(w->target_qps_per_replica);

		json_object_set_new(
		    spec, "metrics",
		    json_pack("[{s:s, s:{s:{s:s}, s:{s:s, s:s}}}]", "type", "Pods", "pods",
		              "metric", "name",
		              w->qps_metric != NULL ? w->qps_metric : "http_requests_per_second",
		              "target", "type", "AverageValue", "averageValue", q));
		free(q);
	}
	o = k8s_obj_head(K8S_HPA, w);
	json_object_set_new(o, "spec", spec);
	return o;
}

char *k8s_api_body(enum k8s_kind k, const struct k8s_workload *w, char **cause)
{
	json_t *o = NULL;
	char *s;

	if (w == NULL || !k8s_dns_subdomain(w->name) || !k8s_dns_label(w->namespace)) {
		xcause(cause, "bad object name or namespace");
		return NULL;
	}
	if ((k == K8S_POD || k == K8S_JOB || k == K8S_DEPLOYMENT) &&
	    (w->image == NULL || w->image[0] == '\0')) {
		xcause(cause, "no container image (set image: in the template or the provider)");
		return NULL;
	}
	if (k == K8S_JOB && w->completions > 1 && strlen(w->name) > 60) {
		xcause(cause, "the Job name is too long for indexed pod host names");
		return NULL;
	}
	for (size_t i = 0; w->labels != NULL && i < w->labels->n; i++)
		if (strlen(w->labels->vals[i]) > 63) {
			xcause(cause, "label %s is longer than 63 characters", w->labels->keys[i]);
			return NULL;
		}
	switch (k) {
	case K8S_POD:
		o = k8s_body_pod(w, cause);
		break;
	case K8S_JOB:
		o = k8s_body_job(w, cause);
		break;
	case K8S_DEPLOYMENT:
		o = k8s_body_deployment(w, cause);
		break;
	case K8S_SERVICE:
		o = k8s_body_service(w, cause);
		break;
	case K8S_HPA:
		o = k8s_body_hpa(w, cause);
		break;
	case K8S_SECRET:
		o = k8s_body_secret(w, cause);
		break;
	default:
		xcause(cause, "Gantry does not create %s objects", k8s_kind_name(k));
		break;
	}
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
