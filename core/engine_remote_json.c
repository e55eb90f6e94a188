/* engine_remote_json.c: the engine's structs to and from gantryd's JSON (engine_remote.h), the
 * same code on both sides of the socket. Field names are the C names; states and kinds go by
 * name; NULL strings are null. */
#include "core/engine_remote.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

/* A string member; text that is not UTF-8 (a provider's bytes) goes with '?' for each
 * byte outside ASCII rather than failing the whole message. */
static json_t *jstr(const char *s)
{
	json_t *v;
	char *copy;

	if (s == NULL)
		return json_null();
	v = json_string(s);
	if (v != NULL)
		return v;
	copy = xstrdup(s);
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v != NULL ? v : json_null();
}

static void set(json_t *o, const char *k, json_t *v)
{
	json_object_set_new(o, k, v != NULL ? v : json_null());
}

/* Readers: a missing or null member reads as NULL / 0. */
static int get_str(const json_t *o, const char *k, char **out, char **cause)
{
	const json_t *v = json_object_get(o, k);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return xcause(cause, "%s: not a string", k);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int get_i64(const json_t *o, const char *k, int64_t *out, char **cause)
{
	const json_t *v = json_object_get(o, k);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	return xcause(cause, "%s: not an integer", k);
}

static int get_int(const json_t *o, const char *k, int *out, char **cause)
{
	int64_t v;

	if (get_i64(o, k, &v, cause) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int get_long(const json_t *o, const char *k, long *out, char **cause)
{
	int64_t v;

	if (get_i64(o, k, &v, cause) != 0)
		return -1;
	*out = (long)v;
	return 0;
}

static int get_dbl(const json_t *o, const char *k, double *out, char **cause)
{
	const json_t *v = json_object_get(o, k);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_number(v))
		return xcause(cause, "%s: not a number", k);
	*out = json_number_value(v);
	return 0;
}

static int get_state(const json_t *o, const char *k, enum job_state *out, char **cause)
{
	char *name;
	int s;

	if (get_str(o, k, &name, cause) != 0)
		return -1;
	if (name == NULL) {
		*out = JOB_PENDING;
		return 0;
	}
	s = job_state_parse(name);
	if (s < 0) {
		xcause(cause, "%s: unknown state %s", k, name);
		free(name);
		return -1;
	}
	free(name);
	*out = (enum job_state)s;
	return 0;
}

static int need_object(const json_t *o, const char *what, char **cause)
{
	if (!json_is_object(o))
		return xcause(cause, "%s: not a JSON object", what);
	return 0;
}

/* --- jobs --- */

json_t *engine_json_job(const struct job *j)
{
	json_t *o = json_object();

	set(o, "id", jstr(j->id));
	set(o, "name", jstr(j->name));
	set(o, "kind", jstr(job_kind_name(j->kind)));
	set(o, "state", jstr(job_state_name(j->state)));
	set(o, "template_name", jstr(j->template_name));
	set(o, "provider", jstr(j->provider));
	set(o, "owner", jstr(j->owner));
	set(o, "idem_key", jstr(j->idem_key));
	set(o, "params_json", jstr(j->params_json));
	set(o, "spec_json", jstr(j->spec_json));
	set(o, "provider_ref", jstr(j->provider_ref));
	set(o, "reason", jstr(j->reason));
	set(o, "url", jstr(j->url));
	set(o, "port", json_integer(j->port));
	set(o, "has_exit", json_boolean(j->has_exit));
	set(o, "exit_code", json_integer(j->exit_code));
	set(o, "gpus", json_integer(j->gpus));
	set(o, "created_ms", json_integer(j->created_ms));
	set(o, "updated_ms", json_integer(j->updated_ms));
	set(o, "started_ms", json_integer(j->started_ms));
	set(o, "ended_ms", json_integer(j->ended_ms));
	set(o, "priced", json_boolean(j->priced));
	set(o, "price_per_hour", json_real(j->price_per_hour));
	set(o, "billing_s", json_integer(j->billing_s));
	set(o, "team", jstr(j->team));
	set(o, "project", jstr(j->project));
	set(o, "region", jstr(j->region));
	set(o, "ready_replicas", json_integer(j->ready_replicas));
	set(o, "desired_replicas", json_integer(j->desired_replicas));
	set(o, "owner_uid", json_integer(j->owner_uid));
	set(o, "approval", jstr(j->approval));
	set(o, "decided_by", jstr(j->decided_by));
	set(o, "decision_reason", jstr(j->decision_reason));
	set(o, "request_json", jstr(j->request_json));
	return o;
}

int engine_json_to_job(const json_t *o, struct job *out, char **cause)
{
	char *kind = NULL;
	int k;

	job_init(out);
	if (need_object(o, "job", cause) != 0)
		return -1;
	if (get_str(o, "id", &out->id, cause) != 0 || get_str(o, "name", &out->name, cause) != 0 ||
	    get_str(o, "kind", &kind, cause) != 0 ||
	    get_state(o, "state", &out->state, cause) != 0 ||
	    get_str(o, "template_name", &out->template_name, cause) != 0 ||
	    get_str(o, "provider", &out->provider, cause) != 0 ||
	    get_str(o, "owner", &out->owner, cause) != 0 ||
	    get_str(o, "idem_key", &out->idem_key, cause) != 0 ||
	    get_str(o, "params_json", &out->params_json, cause) != 0 ||
	    get_str(o, "spec_json", &out->spec_json, cause) != 0 ||
	    get_str(o, "provider_ref", &out->provider_ref, cause) != 0 ||
	    get_str(o, "reason", &out->reason, cause) != 0 ||
	    get_str(o, "url", &out->url, cause) != 0 ||
	    get_int(o, "port", &out->port, cause) != 0 ||
	    get_int(o, "has_exit", &out->has_exit, cause) != 0 ||
	    get_int(o, "exit_code", &out->exit_code, cause) != 0 ||
	    get_int(o, "gpus", &out->gpus, cause) != 0 ||
	    get_i64(o, "created_ms", &out->created_ms, cause) != 0 ||
	    get_i64(o, "updated_ms", &out->updated_ms, cause) != 0 ||
	    get_i64(o, "started_ms", &out->started_ms, cause) != 0 ||
	    get_i64(o, "ended_ms", &out->ended_ms, cause) != 0 ||
	    get_int(o, "priced", &out->priced, cause) != 0 ||
	    get_dbl(o, "price_per_hour", &out->price_per_hour, cause) != 0 ||
	    get_int(o, "billing_s", &out->billing_s, cause) != 0 ||
	    get_str(o, "team", &out->team, cause) != 0 ||
	    get_str(o, "project", &out->project, cause) != 0 ||
	    get_str(o, "region", &out->region, cause) != 0 ||
	    get_int(o, "ready_replicas", &out->ready_replicas, cause) != 0 ||
	    get_int(o, "desired_replicas", &out->desired_replicas, cause) != 0 ||
	    get_i64(o, "owner_uid", &out->owner_uid, cause) != 0 ||
	    get_str(o, "approval", &out->approval, cause) != 0 ||
	    get_str(o, "decided_by", &out->decided_by, cause) != 0 ||
	    get_str(o, "decision_reason", &out->decision_reason, cause) != 0 ||
	    get_str(o, "request_json", &out->request_json, cause) != 0)
		goto fail;
	if (json_object_get(o, "owner_uid") == NULL)
		out->owner_uid = -1;
	if (out->id == NULL) {
		xcause(cause, "job: no id");
		goto fail;
	}
	if (kind != NULL) {
		k = job_kind_parse(kind);
		if (k < 0) {
			xcause(cause, "kind: unknown kind %s", kind);
			goto fail;
		}
		out->kind = (enum job_kind)k;
	}
	free(kind);
	return 0;
fail:
	free(kind);
	job_clear(out);
	return -1;
}

json_t *engine_json_jobs(const struct job_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, engine_json_job(&l->items[i]));
	return a;
}

int engine_json_to_jobs(const json_t *a, struct job_list *out, char **cause)
{
	out->items = NULL;
	out->n = 0;
	if (!json_is_array(a))
		return xcause(cause, "jobs: not a JSON array");
	out->items = xcalloc(json_array_size(a) + 1, sizeof *out->items);
	for (size_t i = 0; i < json_array_size(a); i++) {
		if (engine_json_to_job(json_array_get(a, i), &out->items[i], cause) != 0) {
			job_list_free(out);
			return -1;
		}
		out->n++;
	}
	return 0;
}

/* --- job events --- */

json_t *engine_json_job_event(const struct job_event *ev)
{
	json_t *o = json_object();

	set(o, "id", json_integer(ev->id));
	set(o, "job_id", jstr(ev->job_id));
	set(o, "at_ms", json_integer(ev->at_ms));
	set(o, "from", jstr(job_state_name(ev->from)));
	set(o, "to", jstr(job_state_name(ev->to)));
	set(o, "reason", jstr(ev->reason));
	return o;
}

int engine_json_to_job_event(const json_t *o, struct job_event *out, char **cause)
{
	memset(out, 0, sizeof *out);
	if (need_object(o, "event", cause) != 0)
		return -1;
	if (get_i64(o, "id", &out->id, cause) != 0 ||
	    get_str(o, "job_id", &out->job_id, cause) != 0 ||
	    get_i64(o, "at_ms", &out->at_ms, cause) != 0 ||
	    get_state(o, "from", &out->from, cause) != 0 ||
	    get_state(o, "to", &out->to, cause) != 0 ||
	    get_str(o, "reason", &out->reason, cause) != 0) {
		free(out->job_id);
		free(out->reason);
		memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
}

json_t *engine_json_job_events(const struct job_event_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, engine_json_job_event(&l->items[i]));
	return a;
}

int engine_json_to_job_events(const json_t *a, struct job_event_list *out, char **cause)
{
	out->items = NULL;
	out->n = 0;
	if (!json_is_array(a))
		return xcause(cause, "events: not a JSON array");
	out->items = xcalloc(json_array_size(a) + 1, sizeof *out->items);
	for (size_t i = 0; i < json_array_size(a); i++) {
		if (engine_json_to_job_event(json_array_get(a, i), &out->items[i], cause) != 0) {
			job_event_list_free(out);
			return -1;
		}
		out->n++;
	}
	return 0;
}

/* --- engine events --- */

static const char *const ev_names[] = {
    [ENGINE_EV_JOBS_CHANGED] = "jobs_changed", [ENGINE_EV_JOB_STATE] = "job_state",
    [ENGINE_EV_PROVIDER] = "provider",         [ENGINE_EV_MESSAGE] = "message",
    [ENGINE_EV_FORWARDS] = "forwards",         [ENGINE_EV_TELEMETRY] = "telemetry",
};

json_t *engine_json_event(const struct engine_event *ev)
{
	json_t *o = json_object();

	if ((size_t)ev->type < sizeof ev_names / sizeof ev_names[0])
		set(o, "event", json_string(ev_names[ev->type]));
	if (ev->job_id != NULL)
		set(o, "job_id", jstr(ev->job_id));
	if (ev->type == ENGINE_EV_JOB_STATE) {
		set(o, "from", jstr(job_state_name(ev->from)));
		set(o, "to", jstr(job_state_name(ev->to)));
	}
	if (ev->reason != NULL)
		set(o, "reason", jstr(ev->reason));
	if (ev->provider != NULL)
		set(o, "provider", jstr(ev->provider));
	if (ev->message != NULL)
		set(o, "message", jstr(ev->message));
	return o;
}

static const char *borrow(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k)); /* NULL unless a string */
}

int engine_json_to_event(const json_t *o, struct engine_event *out)
{
	const char *name = borrow(o, "event");
	const char *from = borrow(o, "from");
	const char *to = borrow(o, "to");

	memset(out, 0, sizeof *out);
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sizeof ev_names / sizeof ev_names[0]; i++)
		if (ev_names[i] != NULL && strcmp(ev_names[i], name) == 0) {
			out->type = (enum engine_event_type)i;
			out->job_id = borrow(o, "job_id");
			out->reason = borrow(o, "reason");
			out->provider = borrow(o, "provider");
			out->message = borrow(o, "message");
			if (from != NULL && job_state_parse(from) >= 0)
				out->from = (enum job_state)job_state_parse(from);
			if (to != NULL && job_state_parse(to) >= 0)
				out->to = (enum job_state)job_state_parse(to);
			if (out->type == ENGINE_EV_JOB_STATE &&
			    (out->job_id == NULL || from == NULL || to == NULL ||
			     job_state_parse(from) < 0 || job_state_parse(to) < 0))
				return -1;
			return 0;
		}
	return -1;
}

/* --- launch requests --- */

json_t *engine_json_launch_req(const struct engine_launch_req *req)
{
	json_t *o = json_object();
	json_t *sets = json_array();

	set(o, "template", jstr(req->template_name));
	for (size_t i = 0; i < req->nsets; i++)
		json_array_append_new(sets, jstr(req->sets[i]));
	set(o, "sets", sets);
	if (req->provider != NULL)
		set(o, "provider", jstr(req->provider));
	if (req->name != NULL)
		set(o, "name", jstr(req->name));
	if (req->max_runtime_s > 0)
		set(o, "max_runtime_s", json_integer(req->max_runtime_s));
	return o;
}

json_t *engine_json_plan_req(const struct engine_plan *plan)
{
	json_t *o = json_object();
	json_t *sets = json_array();

	set(o, "template", jstr(plan->template_name));
	for (size_t i = 0; i < plan->params.n; i++) {
		char *kv = xprintf("%s=%s", plan->params.keys[i], plan->params.vals[i]);

		json_array_append_new(sets, jstr(kv));
		free(kv);
	}
	set(o, "sets", sets);
	if (plan->provider != NULL)
		set(o, "provider", jstr(plan->provider));
	if (plan->max_runtime_s > 0)
		set(o, "max_runtime_s", json_integer(plan->max_runtime_s));
	return o;
}

void engine_json_req_clear(struct engine_json_req *r)
{
	free(r->template_name);
	free(r->provider);
	free(r->name);
	for (size_t i = 0; i < r->nsets; i++)
		free(r->sets[i]);
	free(r->sets);
	memset(r, 0, sizeof *r);
}

int engine_json_to_launch_req(const json_t *o, struct engine_json_req *out, char **cause)
{
	const json_t *sets;

	memset(out, 0, sizeof *out);
	if (need_object(o, "launch request", cause) != 0)
		return -1;
	if (get_str(o, "template", &out->template_name, cause) != 0 ||
	    get_str(o, "provider", &out->provider, cause) != 0 ||
	    get_str(o, "name", &out->name, cause) != 0 ||
	    get_long(o, "max_runtime_s", &out->req.max_runtime_s, cause) != 0)
		goto fail;
	if (out->template_name == NULL) {
		xcause(cause, "launch request: no template");
		goto fail;
	}
	sets = json_object_get(o, "sets");
	if (sets != NULL && !json_is_null(sets)) {
		if (!json_is_array(sets)) {
			xcause(cause, "sets: not a JSON array");
			goto fail;
		}
		out->sets = xcalloc(json_array_size(sets) + 1, sizeof *out->sets);
		for (size_t i = 0; i < json_array_size(sets); i++) {
			const char *kv = json_string_value(json_array_get(sets, i));

			if (kv == NULL) {
				xcause(cause, "sets: not an array of strings");
				goto fail;
			}
			out->sets[out->nsets++] = xstrdup(kv);
		}
	}
	out->req.template_name = out->template_name;
	out->req.provider = out->provider;
	out->req.name = out->name;
	out->req.sets = (const char *const *)out->sets;
	out->req.nsets = out->nsets;
	return 0;
fail:
	engine_json_req_clear(out);
	return -1;
}

/* --- plans --- */

static json_t *kv_object(const struct kvlist *l)
{
	json_t *o = json_object();

	for (size_t i = 0; i < l->n; i++)
		set(o, l->keys[i], jstr(l->vals[i]));
	return o;
}

static int kv_read(const json_t *o, const char *k, struct kvlist *out, char **cause)
{
	const json_t *m = json_object_get(o, k);
	const char *key;
	json_t *v;

	kvlist_init(out);
	if (m == NULL || json_is_null(m))
		return 0;
	if (!json_is_object(m))
		return xcause(cause, "%s: not a JSON object", k);
	json_object_foreach((json_t *)m, key, v)
	{
		if (!json_is_string(v)) {
			kvlist_free(out);
			return xcause(cause, "%s.%s: not a string", k, key);
		}
		kvlist_set(out, key, json_string_value(v));
	}
	return 0;
}

json_t *engine_json_plan(const struct engine_plan *p)
{
	json_t *o = json_object();
	json_t *of = json_object();

	set(o, "template_name", jstr(p->template_name));
	set(o, "provider", jstr(p->provider));
	set(o, "params", kv_object(&p->params));
	set(o, "script", jstr(p->script));
	set(o, "env", kv_object(&p->env));
	set(o, "want_port", json_integer(p->want_port));
	set(o, "gpus", json_integer(p->gpus));
	set(o, "accels", jstr(p->accels));
	set(o, "max_runtime_s", json_integer(p->max_runtime_s));
	set(o, "region", jstr(p->region));
	set(o, "instance_type", jstr(p->instance_type));
	set(o, "spot", json_boolean(p->spot));
	set(o, "billing_s", json_integer(p->billing_s));
	set(o, "note", jstr(p->note));
	set(of, "provider", jstr(p->offer.provider));
	set(of, "description", jstr(p->offer.description));
	set(of, "region", jstr(p->region));
	set(of, "instance_type", jstr(p->instance_type));
	set(of, "gpus", json_integer(p->offer.gpus));
	set(of, "gpu_name", jstr(p->offer.gpu_name));
	set(of, "cpus", json_integer(p->offer.cpus));
	set(of, "memory_mib", json_integer(p->offer.memory_mib));
	set(of, "priced", json_boolean(p->offer.priced));
	set(of, "price_per_hour", json_real(p->offer.price_per_hour));
	set(of, "spot", json_boolean(p->spot));
	set(of, "fits", json_boolean(p->offer.fits));
	set(of, "reason", jstr(p->offer.reason));
	set(o, "offer", of);
	return o;
}

void engine_json_plan_clear(struct engine_plan *p)
{
	free(p->template_name);
	free(p->provider);
	kvlist_free(&p->params);
	free(p->script);
	kvlist_free(&p->env);
	free(p->accels);
	free(p->offer.provider);
	free(p->offer.description);
	free(p->offer.reason);
	free(p->offer.gpu_name);
	free(p->region);
	free(p->instance_type);
	free(p->note);
	memset(p, 0, sizeof *p);
}

int engine_json_to_plan(const json_t *o, struct engine_plan *out, char **cause)
{
	const json_t *of;

	memset(out, 0, sizeof *out);
	kvlist_init(&out->params);
	kvlist_init(&out->env);
	if (need_object(o, "plan", cause) != 0)
		return -1;
	if (get_str(o, "template_name", &out->template_name, cause) != 0 ||
	    get_str(o, "provider", &out->provider, cause) != 0 ||
	    kv_read(o, "params", &out->params, cause) != 0 ||
	    get_str(o, "script", &out->script, cause) != 0 ||
	    kv_read(o, "env", &out->env, cause) != 0 ||
	    get_int(o, "want_port", &out->want_port, cause) != 0 ||
	    get_int(o, "gpus", &out->gpus, cause) != 0 ||
	    get_str(o, "accels", &out->accels, cause) != 0 ||
	    get_long(o, "max_runtime_s", &out->max_runtime_s, cause) != 0 ||
	    get_str(o, "region", &out->region, cause) != 0 ||
	    get_str(o, "instance_type", &out->instance_type, cause) != 0 ||
	    get_int(o, "spot", &out->spot, cause) != 0 ||
	    get_int(o, "billing_s", &out->billing_s, cause) != 0 ||
	    get_str(o, "note", &out->note, cause) != 0)
		goto fail;
	of = json_object_get(o, "offer");
	if (of != NULL && !json_is_null(of)) {
		if (need_object(of, "offer", cause) != 0 ||
		    get_str(of, "provider", &out->offer.provider, cause) != 0 ||
		    get_str(of, "description", &out->offer.description, cause) != 0 ||
		    get_int(of, "gpus", &out->offer.gpus, cause) != 0 ||
		    get_str(of, "gpu_name", &out->offer.gpu_name, cause) != 0 ||
		    get_int(of, "cpus", &out->offer.cpus, cause) != 0 ||
		    get_i64(of, "memory_mib", &out->offer.memory_mib, cause) != 0 ||
		    get_int(of, "priced", &out->offer.priced, cause) != 0 ||
		    get_dbl(of, "price_per_hour", &out->offer.price_per_hour, cause) != 0 ||
		    get_int(of, "fits", &out->offer.fits, cause) != 0 ||
		    get_str(of, "reason", &out->offer.reason, cause) != 0)
			goto fail;
	}
	return 0;
fail:
	engine_json_plan_clear(out);
	return -1;
}

/* --- admissions --- */

static const char *const refusal_names[] = {
    [ENGINE_ADMIT_OK] = "ok",          [ENGINE_REFUSE_READONLY] = "readonly",
    [ENGINE_REFUSE_FIT] = "fit",       [ENGINE_REFUSE_PRICE_CAP] = "price_cap",
    [ENGINE_REFUSE_BUDGET] = "budget", [ENGINE_REFUSE_POLICY] = "policy",
};
static const char *const budget_names[] = {
    [COST_OK] = "ok", [COST_SOFT] = "soft", [COST_HARD] = "hard"};

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

json_t *engine_json_admission(const struct engine_admission *a)
{
	json_t *o = json_object();
	size_t nr = sizeof refusal_names / sizeof refusal_names[0];
	size_t nb = sizeof budget_names / sizeof budget_names[0];

	set(o, "refusal",
	    json_string((size_t)a->refusal < nr ? refusal_names[a->refusal] : "policy"));
	set(o, "reason", jstr(a->reason));
	set(o, "budget", json_string((size_t)a->budget < nb ? budget_names[a->budget] : "hard"));
	set(o, "budget_reason", jstr(a->budget_reason));
	set(o, "expected_cost", json_real(a->expected_cost));
	set(o, "expected_hours", json_real(a->expected_hours));
	set(o, "needs_approval", json_boolean(a->needs_approval));
	set(o, "approval_reason", jstr(a->approval_reason));
	set(o, "policy_rule", jstr(a->policy_rule));
	return o;
}

static void admission_free(struct engine_admission *a)
{
	free(a->reason);
	free(a->budget_reason);
	free(a->approval_reason);
	free(a->policy_rule);
	memset(a, 0, sizeof *a);
}

int engine_json_to_admission(const json_t *o, struct engine_admission *out, char **cause)
{
	const char *refusal, *budget;
	int r = 0, b = 0;

	memset(out, 0, sizeof *out);
	if (need_object(o, "admission", cause) != 0)
		return -1;
	refusal = borrow(o, "refusal");
	budget = borrow(o, "budget");
	if (refusal != NULL &&
	    (r = name_index(refusal_names, sizeof refusal_names / sizeof refusal_names[0],
	                    refusal)) < 0)
		return xcause(cause, "refusal: unknown refusal %s", refusal);
	if (budget != NULL &&
	    (b = name_index(budget_names, sizeof budget_names / sizeof budget_names[0], budget)) <
	        0)
		return xcause(cause, "budget: unknown verdict %s", budget);
	out->refusal = (enum engine_refusal)r;
	out->budget = (enum cost_verdict)b;
	if (get_str(o, "reason", &out->reason, cause) != 0 ||
	    get_str(o, "budget_reason", &out->budget_reason, cause) != 0 ||
	    get_dbl(o, "expected_cost", &out->expected_cost, cause) != 0 ||
	    get_dbl(o, "expected_hours", &out->expected_hours, cause) != 0 ||
	    get_int(o, "needs_approval", &out->needs_approval, cause) != 0 ||
	    get_str(o, "approval_reason", &out->approval_reason, cause) != 0 ||
	    get_str(o, "policy_rule", &out->policy_rule, cause) != 0) {
		admission_free(out);
		return -1;
	}
	return 0;
}

/* --- policy verdicts --- */

json_t *engine_json_verdict(const struct policy_verdict *v)
{
	json_t *o = json_object();
	json_t *hits = json_array();

	set(o, "allowed", json_boolean(v->allowed));
	set(o, "needs_approval", json_boolean(v->needs_approval));
	set(o, "role", jstr(v->role));
	set(o, "reason", jstr(v->reason));
	set(o, "rule", jstr(v->rule));
	for (size_t i = 0; i < v->nhits; i++) {
		json_t *h = json_object();

		set(h, "rule", jstr(v->hits[i].rule));
		set(h, "where", jstr(v->hits[i].where));
		set(h, "text", jstr(v->hits[i].text));
		set(h, "allow", json_boolean(v->hits[i].allow));
		json_array_append_new(hits, h);
	}
	set(o, "hits", hits);
	return o;
}

static void verdict_free(struct policy_verdict *v)
{
	free(v->role);
	free(v->reason);
	free(v->rule);
	for (size_t i = 0; i < v->nhits; i++) {
		free(v->hits[i].rule);
		free(v->hits[i].where);
		free(v->hits[i].text);
	}
	free(v->hits);
	memset(v, 0, sizeof *v);
}

int engine_json_to_verdict(const json_t *o, struct policy_verdict *out, char **cause)
{
	const json_t *hits;

	memset(out, 0, sizeof *out);
	if (need_object(o, "verdict", cause) != 0)
		return -1;
	if (get_int(o, "allowed", &out->allowed, cause) != 0 ||
	    get_int(o, "needs_approval", &out->needs_approval, cause) != 0 ||
	    get_str(o, "role", &out->role, cause) != 0 ||
	    get_str(o, "reason", &out->reason, cause) != 0 ||
	    get_str(o, "rule", &out->rule, cause) != 0)
		goto fail;
	hits = json_object_get(o, "hits");
	if (hits != NULL && !json_is_null(hits)) {
		if (!json_is_array(hits)) {
			xcause(cause, "hits: not a JSON array");
			goto fail;
		}
		out->hits = xcalloc(json_array_size(hits) + 1, sizeof *out->hits);
		for (size_t i = 0; i < json_array_size(hits); i++) {
			const json_t *h = json_array_get(hits, i);
			struct policy_hit *ph = &out->hits[out->nhits++];

			if (need_object(h, "hit", cause) != 0 ||
			    get_str(h, "rule", &ph->rule, cause) != 0 ||
			    get_str(h, "where", &ph->where, cause) != 0 ||
			    get_str(h, "text", &ph->text, cause) != 0 ||
			    get_int(h, "allow", &ph->allow, cause) != 0)
				goto fail;
		}
	}
	return 0;
fail:
	verdict_free(out);
	return -1;
}

/* --- audit entries --- */

json_t *engine_json_audit_entry(const struct audit_entry *a)
{
	json_t *o = json_object();

	set(o, "seq", json_integer(a->seq));
	set(o, "at_ms", json_integer(a->at_ms));
	set(o, "uid", json_integer(a->uid));
	set(o, "actor", jstr(a->actor));
	set(o, "action", jstr(a->action));
	set(o, "target", jstr(a->target));
	set(o, "verdict", jstr(a->verdict));
	set(o, "reason", jstr(a->reason));
	set(o, "detail", jstr(a->detail));
	set(o, "prev_hash", jstr(a->prev_hash));
	set(o, "hash", jstr(a->hash));
	return o;
}

void engine_json_audit_entry_clear(struct audit_entry *a)
{
	free(a->actor);
	free(a->action);
	free(a->target);
	free(a->verdict);
	free(a->reason);
	free(a->detail);
	free(a->prev_hash);
	free(a->hash);
	memset(a, 0, sizeof *a);
}

int engine_json_to_audit_entry(const json_t *o, struct audit_entry *out, char **cause)
{
	memset(out, 0, sizeof *out);
	if (need_object(o, "audit entry", cause) != 0)
		return -1;
	if (get_i64(o, "seq", &out->seq, cause) != 0 ||
	    get_i64(o, "at_ms", &out->at_ms, cause) != 0 ||
	    get_i64(o, "uid", &out->uid, cause) != 0 ||
	    get_str(o, "actor", &out->actor, cause) != 0 ||
	    get_str(o, "action", &out->action, cause) != 0 ||
	    get_str(o, "target", &out->target, cause) != 0 ||
	    get_str(o, "verdict", &out->verdict, cause) != 0 ||
	    get_str(o, "reason", &out->reason, cause) != 0 ||
	    get_str(o, "detail", &out->detail, cause) != 0 ||
	    get_str(o, "prev_hash", &out->prev_hash, cause) != 0 ||
	    get_str(o, "hash", &out->hash, cause) != 0) {
		engine_json_audit_entry_clear(out);
		return -1;
	}
	return 0;
}

/* --- providers --- */

json_t *engine_json_provider_info(const struct engine_provider_info *p)
{
	json_t *o = json_object();

	set(o, "name", jstr(p->name));
	set(o, "type", jstr(p->type));
	set(o, "healthy", json_boolean(p->healthy));
	set(o, "message", jstr(p->message));
	return o;
}

int engine_json_to_provider_info(const json_t *o, struct engine_provider_info *out, char **cause)
{
	const json_t *h;

	memset(out, 0, sizeof *out);
	if (need_object(o, "provider", cause) != 0)
		return -1;
	out->name = borrow(o, "name");
	out->type = borrow(o, "type");
	out->message = borrow(o, "message");
	h = json_object_get(o, "healthy");
	out->healthy =
	    h == NULL || json_is_true(h) || (json_is_integer(h) && json_integer_value(h));
	if (out->name == NULL)
		return xcause(cause, "provider: no name");
	return 0;
}
