/* k8s_api_parse.c: the parsers of what the API server answers (see k8s_api.h): one object
 * (Pod, Service, Job, Deployment, HPA, Node), a list, a watch event line. Every field is
 * type-checked; a field of the wrong type reads as absent; strings are bounded; reasons and
 * messages are sanitised to one line here, so the state mapping can show them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/xmalloc.h"
#include "providers/k8s_api.h"
#include "providers/k8s_api_internal.h"

#define K8S_JSON_MAX (512u * 1024 * 1024)

static void k8s_kv(struct kvlist *l, const json_t *o)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(o))
		return;
	json_object_foreach((json_t *)o, k, v)
	{
		char *val;

		if (!json_is_string(v) || strlen(k) > 317)
			continue;
		if (n++ >= K8S_LABELS_MAX)
			break;
		val = xstrndup(json_string_value(v), strnlen(json_string_value(v), K8S_STR_MAX));
		kvlist_set(l, k, val);
		free(val);
	}
}

static int k8s_count(const json_t *o, const char *key)
{
	long long v = 0;

	return k8s_jint(o, key, 0, K8S_COUNT_MAX, &v) ? (int)v : 0;
}

/* The condition of type t in o.conditions: its JSON object, or NULL. */
static const json_t *k8s_cond(const json_t *status, const char *t)
{
	const json_t *conds = json_object_get(status, "conditions");
	size_t i;
	json_t *c;

	if (!json_is_array(conds))
		return NULL;
	json_array_foreach(conds, i, c)
	{
		const json_t *ty = json_object_get(c, "type");

		if (json_is_object(c) && json_is_string(ty) &&
		    strcmp(json_string_value(ty), t) == 0)
			return c;
	}
	return NULL;
}

/* 1 when the condition's status is "True", 0 "False", -1 otherwise/absent. */
static int k8s_cond_status(const json_t *c)
{
	const json_t *s = json_object_get(c, "status");

	if (!json_is_string(s))
		return -1;
	if (strcmp(json_string_value(s), "True") == 0)
		return 1;
	if (strcmp(json_string_value(s), "False") == 0)
		return 0;
	return -1;
}

/* A quantity member of o (a string, or a plain number); 0 when absent or bad. */
static double k8s_jqty(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	double d = 0;

	if (json_is_string(v) && k8s_quantity_parse(json_string_value(v), &d) == 0 && d >= 0)
		return d;
	if (json_is_number(v) && json_number_value(v) >= 0 && json_number_value(v) < 1e18)
		return json_number_value(v);
	return 0;
}

static void k8s_container_parse(struct k8s_container *c, const json_t *cs)
{
	const json_t *state = json_object_get(cs, "state"), *w, *t, *last;
	long long v;

	c->name = k8s_jstr(cs, "name");
	c->ready = json_is_true(json_object_get(cs, "ready"));
	c->restarts = k8s_count(cs, "restartCount");
	w = json_object_get(state, "waiting");
	if (json_is_object(w)) {
		c->waiting_reason = k8s_jtext(w, "reason");
		c->waiting_message = k8s_jtext(w, "message");
	}
	t = json_object_get(state, "terminated");
	if (json_is_object(t)) {
		c->terminated = 1;
		c->exit_code =
		    k8s_jint(t, "exitCode", -2147483648LL, 2147483647LL, &v) ? (int)v : -1;
		c->signal = k8s_jint(t, "signal", 0, 255, &v) ? (int)v : 0;
		c->term_reason = k8s_jtext(t, "reason");
		c->started_ms = k8s_jtime(t, "startedAt");
		c->finished_ms = k8s_jtime(t, "finishedAt");
	} else {
		const json_t *r = json_object_get(state, "running");

		if (json_is_object(r))
			c->started_ms = k8s_jtime(r, "startedAt");
	}
	last = json_object_get(json_object_get(cs, "lastState"), "terminated");
	if (json_is_object(last)) {
		c->last_terminated = 1;
		c->last_exit_code =
		    k8s_jint(last, "exitCode", -2147483648LL, 2147483647LL, &v) ? (int)v : -1;
	}
}

/* What the pod's containers ask for (the Cluster view's allocation). */
static void k8s_pod_resources(struct k8s_obj *o, const json_t *spec)
{
	const json_t *cs = json_object_get(spec, "containers");
	double gpus = 0, cpus = 0, mem = 0;
	size_t i;
	json_t *c;

	if (!json_is_array(cs))
		return;
	json_array_foreach(cs, i, c)
	{
		const json_t *res = json_object_get(c, "resources");
		const json_t *lim = json_object_get(res, "limits");
		const json_t *req = json_object_get(res, "requests");
		double g = k8s_jqty(lim, K8S_GPU_RESOURCE), x;

		if (i >= K8S_CONTAINERS_MAX)
			break;
		if (g == 0)
			g = k8s_jqty(lim, "amd.com/gpu");
		gpus += g;
		x = k8s_jqty(req, "cpu");
		cpus += x > 0 ? x : k8s_jqty(lim, "cpu");
		x = k8s_jqty(req, "memory");
		mem += x > 0 ? x : k8s_jqty(lim, "memory");
	}
	o->pod_gpus = gpus < K8S_COUNT_MAX ? (int)gpus : K8S_COUNT_MAX;
	o->pod_cpus = cpus < K8S_COUNT_MAX ? cpus : K8S_COUNT_MAX;
	o->pod_memory_mib = mem / 1048576.0 < 1e12 ? (int64_t)(mem / 1048576.0) : 0;
}

static void k8s_pod_parse(struct k8s_obj *o, const json_t *spec, const json_t *st)
{
	const json_t *c, *css;
	const char *idx;
	size_t i, n;
	json_t *cs;

	o->node_name = k8s_jstr(spec, "nodeName");
	o->phase = k8s_jstr(st, "phase");
	o->reason = k8s_jtext(st, "reason");
	o->message = k8s_jtext(st, "message");
	o->pod_ip = k8s_jstr(st, "podIP");
	o->started_ms = k8s_jtime(st, "startTime");
	c = k8s_cond(st, "PodScheduled");
	if (c != NULL && k8s_cond_status(c) == 0) {
		o->sched_reason = k8s_jtext(c, "reason");
		o->sched_message = k8s_jtext(c, "message");
	}
	c = k8s_cond(st, "Ready");
	o->ready = c != NULL && k8s_cond_status(c) == 1;
	idx = kvlist_get(&o->labels, "batch.kubernetes.io/job-completion-index");
	if (idx == NULL)
		idx = kvlist_get(&o->annotations, "batch.kubernetes.io/job-completion-index");
	o->completion_index = -1;
	if (idx != NULL) {
		char *end;
		long v = strtol(idx, &end, 10);

		if (end != idx && *end == '\0' && v >= 0 && v < 1000000)
			o->completion_index = (int)v;
	}
	k8s_pod_resources(o, spec);
	css = json_object_get(st, "containerStatuses");
	if (!json_is_array(css))
		return;
	n = json_array_size(css);
	if (n > K8S_CONTAINERS_MAX)
		n = K8S_CONTAINERS_MAX;
	o->containers = xcalloc(n > 0 ? n : 1, sizeof *o->containers);
	json_array_foreach(css, i, cs)
	{
		if (o->ncontainers >= n)
			break;
		if (!json_is_object(cs))
			continue;
		k8s_container_parse(&o->containers[o->ncontainers++], cs);
	}
}

static void k8s_job_parse(struct k8s_obj *o, const json_t *spec, const json_t *st)
{
	const json_t *c;

	o->active = k8s_count(st, "active");
	o->succeeded = k8s_count(st, "succeeded");
	o->failed = k8s_count(st, "failed");
	o->started_ms = k8s_jtime(st, "startTime");
	o->completed_ms = k8s_jtime(st, "completionTime");
	o->spec_completions = k8s_count(spec, "completions");
	c = k8s_cond(st, "Complete");
	o->complete = c != NULL && k8s_cond_status(c) == 1;
	if (o->complete && o->completed_ms == 0)
		o->completed_ms = k8s_jtime(c, "lastTransitionTime");
	c = k8s_cond(st, "Failed");
	if (c != NULL && k8s_cond_status(c) == 1) {
		o->failed_cond = 1;
		o->cond_reason = k8s_jtext(c, "reason");
		o->cond_message = k8s_jtext(c, "message");
		o->completed_ms = k8s_jtime(c, "lastTransitionTime");
	}
}

static void k8s_node_parse(struct k8s_obj *o, const json_t *spec, const json_t *st)
{
	const json_t *alloc = json_object_get(st, "allocatable");
	const json_t *cap = json_object_get(st, "capacity");
	const json_t *c = k8s_cond(st, "Ready");

	o->gpus_allocatable = k8s_jqty(alloc, K8S_GPU_RESOURCE);
	o->gpus_capacity = k8s_jqty(cap, K8S_GPU_RESOURCE);
	if (o->gpus_capacity == 0 && o->gpus_allocatable == 0) {
		o->gpus_allocatable = k8s_jqty(alloc, "amd.com/gpu");
		o->gpus_capacity = k8s_jqty(cap, "amd.com/gpu");
	}
	o->cpus_allocatable = k8s_jqty(alloc, "cpu");
	o->mem_allocatable = k8s_jqty(alloc, "memory");
	o->node_ready = c != NULL && k8s_cond_status(c) == 1;
	o->unschedulable = json_is_true(json_object_get(spec, "unschedulable"));
	o->reason = c != NULL && k8s_cond_status(c) != 1 ? k8s_jtext(c, "message") : NULL;
}

/* Fills o from one object; -1 with cause when it is not an object with metadata.name. */
static int k8s_obj_from(enum k8s_kind k, const json_t *j, struct k8s_obj *o, char **cause)
{
	const json_t *md, *spec, *st;
	long long v;

	memset(o, 0, sizeof *o);
	o->kind = k;
	o->completion_index = -1;
	kvlist_init(&o->labels);
	kvlist_init(&o->annotations);
	if (!json_is_object(j))
		return xcause(cause, "the %s is not a JSON object", k8s_kind_name(k));
	md = json_object_get(j, "metadata");
	if (!json_is_object(md))
		return xcause(cause, "the %s has no metadata", k8s_kind_name(k));
	o->name = k8s_jstr(md, "name");
	if (o->name == NULL || o->name[0] == '\0') {
		k8s_obj_clear(o);
		return xcause(cause, "the %s has no metadata.name", k8s_kind_name(k));
	}
	if (!k8s_dns_subdomain(o->name)) {
		k8s_obj_clear(o);
		return xcause(cause, "the %s's name is not a DNS subdomain", k8s_kind_name(k));
	}
	o->namespace = k8s_jstr(md, "namespace");
	if (o->namespace != NULL && !k8s_dns_label(o->namespace)) {
		k8s_obj_clear(o);
		return xcause(cause, "the %s's namespace is not a DNS label", k8s_kind_name(k));
	}
	o->uid = k8s_jstr(md, "uid");
	o->resource_version = k8s_jstr(md, "resourceVersion");
	if (o->resource_version != NULL && !k8s_token_ok(o->resource_version)) {
		k8s_obj_clear(o);
		return xcause(cause, "the %s's resourceVersion has characters a URL cannot carry",
		              k8s_kind_name(k));
	}
	o->created_ms = k8s_jtime(md, "creationTimestamp");
	o->deleted_ms = k8s_jtime(md, "deletionTimestamp");
	if (o->deleted_ms == 0 && json_is_string(json_object_get(md, "deletionTimestamp")))
		o->deleted_ms = 1; /* set, unreadable: still being deleted */
	k8s_kv(&o->labels, json_object_get(md, "labels"));
	k8s_kv(&o->annotations, json_object_get(md, "annotations"));
	spec = json_object_get(j, "spec");
	st = json_object_get(j, "status");
	if (!json_is_object(spec))
		spec = NULL;
	if (!json_is_object(st))
		st = NULL;
	switch (k) {
	case K8S_POD:
		k8s_pod_parse(o, spec, st);
		break;
	case K8S_JOB:
		k8s_job_parse(o, spec, st);
		break;
	case K8S_DEPLOYMENT:
		o->spec_replicas = k8s_jint(spec, "replicas", 0, K8S_COUNT_MAX, &v) ? (int)v : 1;
		o->replicas = k8s_count(st, "replicas");
		o->ready_replicas = k8s_count(st, "readyReplicas");
		o->available_replicas = k8s_count(st, "availableReplicas");
		break;
	case K8S_HPA:
		o->min_replicas = k8s_jint(spec, "minReplicas", 0, K8S_COUNT_MAX, &v) ? (int)v : 1;
		o->max_replicas = k8s_count(spec, "maxReplicas");
		o->current_replicas = k8s_count(st, "currentReplicas");
		o->desired_replicas = k8s_count(st, "desiredReplicas");
		break;
	case K8S_NODE:
		k8s_node_parse(o, spec, st);
		break;
	case K8S_SERVICE:
		o->cluster_ip = k8s_jstr(spec, "clusterIP");
		break;
	case K8S_SECRET: /* nothing of it is read back (its values stay on the server) */
		break;
	default:
		break;
	}
	return 0;
}

void k8s_obj_clear(struct k8s_obj *o)
{
	free(o->name);
	free(o->namespace);
	free(o->uid);
	free(o->resource_version);
	kvlist_free(&o->labels);
	kvlist_free(&o->annotations);
	free(o->phase);
	free(o->reason);
	free(o->message);
	free(o->sched_reason);
	free(o->sched_message);
	free(o->node_name);
	free(o->pod_ip);
	for (size_t i = 0; i < o->ncontainers; i++) {
		struct k8s_container *c = &o->containers[i];

		free(c->name);
		free(c->waiting_reason);
		free(c->waiting_message);
		free(c->term_reason);
	}
	free(o->containers);
	free(o->cond_reason);
	free(o->cond_message);
	free(o->cluster_ip);
	memset(o, 0, sizeof *o);
	o->completion_index = -1;
}

void k8s_objs_free(struct k8s_obj *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		k8s_obj_clear(&v[i]);
	free(v);
}

static json_t *k8s_load(const char *json, size_t len, char **cause)
{
	json_error_t err;
	json_t *root;

	if (json == NULL || len > K8S_JSON_MAX) {
		xcause(cause, "the API server's answer is too long (%zu bytes)", len);
		return NULL;
	}
	root = json_loadb(json, len, 0, &err);
	if (root == NULL) {
		char *t = k8s_text(err.text, 120);

		xcause(cause, "the API server's answer is not JSON: %s (line %d)", t, err.line);
		free(t);
	}
	return root;
}

/* kind of a body against what was asked: "PodList"/"Pod"; missing kind is accepted. */
static int k8s_kind_check(const json_t *root, enum k8s_kind k, int list, char **cause)
{
	const json_t *kind = json_object_get(root, "kind");
	char want[64];

	if (kind == NULL)
		return 0;
	snprintf(want, sizeof want, "%s%s", k8s_kind_name(k), list ? "List" : "");
	if (!json_is_string(kind) || strcmp(json_string_value(kind), want) != 0) {
		char *t = json_is_string(kind) ? k8s_text(json_string_value(kind), 60)
		                               : xstrdup("not a string");

		xcause(cause, "the API server answered kind '%s', expected %s", t, want);
		free(t);
		return -1;
	}
	return 0;
}

int k8s_api_parse_list(enum k8s_kind k, const char *json, size_t len, struct k8s_list *out,
                       char **cause)
{
	json_t *root, *items, *it;
	const json_t *md;
	size_t i, n;

	memset(out, 0, sizeof *out);
	if ((int)k < 0 || k >= K8S_NKINDS)
		return xcause(cause, "unknown kind");
	root = k8s_load(json, len, cause);
	if (root == NULL)
		return -1;
	if (!json_is_object(root) || k8s_kind_check(root, k, 1, cause) != 0) {
		json_decref(root);
		return xcause(cause, "the API server's answer is not a %sList", k8s_kind_name(k));
	}
	items = json_object_get(root, "items");
	if (!json_is_array(items) && !json_is_null(items) && items != NULL) {
		json_decref(root);
		return xcause(cause, "the %sList's items is not a list", k8s_kind_name(k));
	}
	md = json_object_get(root, "metadata");
	out->resource_version = k8s_jstr(md, "resourceVersion");
	out->cont = k8s_jstr(md, "continue");
	if (out->cont != NULL && out->cont[0] == '\0') {
		free(out->cont);
		out->cont = NULL;
	}
	if ((out->resource_version != NULL && !k8s_token_ok(out->resource_version)) ||
	    (out->cont != NULL && !k8s_token_ok(out->cont))) {
		k8s_list_clear(out);
		json_decref(root);
		return xcause(cause,
		              "the %sList's resourceVersion or continue token has characters "
		              "a URL cannot carry",
		              k8s_kind_name(k));
	}
	n = json_is_array(items) ? json_array_size(items) : 0;
	if (n > K8S_ITEMS_MAX) {
		out->skipped = n - K8S_ITEMS_MAX;
		n = K8S_ITEMS_MAX;
	}
	out->items = xcalloc(n > 0 ? n : 1, sizeof *out->items);
	if (json_is_array(items))
		json_array_foreach(items, i, it)
		{
			if (i >= n)
				break;
			if (k8s_obj_from(k, it, &out->items[out->n], NULL) == 0)
				out->n++;
			else
				out->skipped++;
		}
	json_decref(root);
	return 0;
}

void k8s_list_clear(struct k8s_list *l)
{
	k8s_objs_free(l->items, l->n);
	free(l->resource_version);
	free(l->cont);
	memset(l, 0, sizeof *l);
}

int k8s_api_parse_obj(enum k8s_kind k, const char *json, size_t len, struct k8s_obj *out,
                      char **cause)
{
	json_t *root;
	int rc;

	memset(out, 0, sizeof *out);
	out->completion_index = -1;
	if ((int)k < 0 || k >= K8S_NKINDS)
		return xcause(cause, "unknown kind");
	root = k8s_load(json, len, cause);
	if (root == NULL)
		return -1;
	if (json_is_object(root) && k8s_kind_check(root, k, 0, cause) != 0) {
		json_decref(root);
		return -1;
	}
	rc = k8s_obj_from(k, root, out, cause);
	json_decref(root);
	return rc;
}

int k8s_api_parse_event(enum k8s_kind k, const char *line, size_t len, struct k8s_event *out,
                        char **cause)
{
	static const char *const types[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
	json_t *root;
	const json_t *ty, *obj;
	size_t t;

	memset(out, 0, sizeof *out);
	out->obj.completion_index = -1;
	if ((int)k < 0 || k >= K8S_NKINDS)
		return xcause(cause, "unknown kind");
	root = k8s_load(line, len, cause);
	if (root == NULL)
		return -1;
	ty = json_object_get(root, "type");
	obj = json_object_get(root, "object");
	if (!json_is_object(root) || !json_is_string(ty) || !json_is_object(obj)) {
		json_decref(root);
		return xcause(cause, "a watch event without type or object");
	}
	for (t = 0; t < sizeof types / sizeof types[0]; t++)
		if (strcmp(json_string_value(ty), types[t]) == 0)
			break;
	if (t == sizeof types / sizeof types[0]) {
		char *s = k8s_text(json_string_value(ty), 40);

		xcause(cause, "a watch event of unknown type '%s'", s);
		free(s);
		json_decref(root);
		return -1;
	}
	out->type = (enum k8s_event_type)t;
	if (out->type == K8S_EV_ERROR) {
		long long code = 0;

		out->error_code = k8s_jint(obj, "code", 0, 999, &code) ? (int)code : 0;
		out->error_message = k8s_jtext(obj, "message");
		if (out->error_message == NULL)
			out->error_message = xstrdup("watch error");
		if (out->error_code == 0) {
			char *r = k8s_jstr(obj, "reason");

			if (r != NULL && (strcmp(r, "Expired") == 0 || strcmp(r, "Gone") == 0))
				out->error_code = 410;
			free(r);
		}
		kvlist_init(&out->obj.labels);
		kvlist_init(&out->obj.annotations);
		json_decref(root);
		return 0;
	}
	if (out->type == K8S_EV_BOOKMARK) {
		const json_t *md = json_object_get(obj, "metadata");

		kvlist_init(&out->obj.labels);
		kvlist_init(&out->obj.annotations);
		out->obj.kind = k;
		out->obj.resource_version = k8s_jstr(md, "resourceVersion");
		json_decref(root);
		if (out->obj.resource_version == NULL || !k8s_token_ok(out->obj.resource_version)) {
			k8s_obj_clear(&out->obj);
			return xcause(cause, "a BOOKMARK event without a usable resourceVersion");
		}
		return 0;
	}
	if (k8s_kind_check(obj, k, 0, cause) != 0 || k8s_obj_from(k, obj, &out->obj, cause) != 0) {
		k8s_obj_clear(&out->obj);
		json_decref(root);
		return -1;
	}
	json_decref(root);
	return 0;
}

void k8s_event_clear(struct k8s_event *e)
{
	k8s_obj_clear(&e->obj);
	free(e->error_message);
	e->error_message = NULL;
}
