/* serve_req.c: the protocol's launch request (LAUNCH_REQ) and plan objects, and the
 * providers list of hello and providers. */
#include "daemon/serve_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

static int serve_req_str(const json_t *o, const char *key, const char **out, char **cause)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return xcause(cause, "malformed request: \"%s\" is not a string", key);
	*out = json_string_value(v);
	return 0;
}

int serve_req_parse(const json_t *o, struct serve_req *out, char **cause)
{
	json_t *sets = json_object_get(o, "sets");
	json_t *mr = json_object_get(o, "max_runtime_s");

	memset(out, 0, sizeof *out);
	if (serve_req_str(o, "template", &out->req.template_name, cause) != 0 ||
	    serve_req_str(o, "provider", &out->req.provider, cause) != 0 ||
	    serve_req_str(o, "name", &out->req.name, cause) != 0)
		return -1;
	if (out->req.template_name == NULL || out->req.template_name[0] == '\0')
		return xcause(cause, "malformed request: no \"template\"");
	if (mr != NULL && !json_is_null(mr)) {
		if (!json_is_integer(mr) || json_integer_value(mr) < 0)
			return xcause(cause, "malformed request: \"max_runtime_s\" is not a "
			                     "non-negative integer");
		out->req.max_runtime_s = (long)json_integer_value(mr);
	}
	if (sets != NULL && !json_is_null(sets)) {
		size_t i;
		json_t *v;

		if (!json_is_array(sets))
			return xcause(cause, "malformed request: \"sets\" is not an array");
		out->sets = xcalloc(json_array_size(sets) + 1, sizeof *out->sets);
		json_array_foreach(sets, i, v)
		{
			if (!json_is_string(v)) {
				serve_req_clear(out);
				return xcause(cause,
				              "malformed request: \"sets\" holds a non-string");
			}
			out->sets[i] = json_string_value(v);
		}
		out->req.sets = out->sets;
		out->req.nsets = json_array_size(sets);
	}
	return 0;
}

void serve_req_clear(struct serve_req *r)
{
	free(r->sets);
	memset(r, 0, sizeof *r);
}

static json_t *serve_kv_json(const struct kvlist *kv)
{
	json_t *o = json_object();

	for (size_t i = 0; i < kv->n; i++) {
		json_t *v = json_string(kv->vals[i] != NULL ? kv->vals[i] : "");

		if (v != NULL && kv->keys[i] != NULL)
			json_object_set_new(o, kv->keys[i], v);
	}
	return o;
}

json_t *serve_plan_json(const struct engine_plan *p)
{
	const struct offer_verdict *v = &p->offer;
	json_t *offer = json_pack(
	    "{s:s?,s:s?,s:s?,s:i,s:b,s:f,s:b,s:b,s:s?,s:s?,s:s?,s:i,s:I}", "provider", v->provider,
	    "region", p->region, "instance_type", p->instance_type, "gpus", v->gpus, "priced",
	    v->priced, "price_per_hour", v->price_per_hour, "spot", p->spot, "fits", v->fits,
	    "reason", v->reason, "description", v->description, "gpu_name", v->gpu_name, "cpus",
	    v->cpus, "memory_mib", (json_int_t)v->memory_mib);
	json_t *o = json_pack("{s:s?,s:s?,s:s?,s:b,s:i,s:s?,s:I,s:s?,s:s?,s:b,s:i,s:s?}",
	                      "template_name", p->template_name, "provider", p->provider, "script",
	                      p->script, "want_port", p->want_port, "gpus", p->gpus, "accels",
	                      p->accels, "max_runtime_s", (json_int_t)p->max_runtime_s, "region",
	                      p->region, "instance_type", p->instance_type, "spot", p->spot,
	                      "billing_s", p->billing_s, "note", p->note);

	if (o == NULL) {
		json_decref(offer);
		return json_object();
	}
	json_object_set_new(o, "params", serve_kv_json(&p->params));
	json_object_set_new(o, "env", serve_kv_json(&p->env));
	json_object_set_new(o, "offer", offer != NULL ? offer : json_null());
	return o;
}

json_t *serve_providers_json(struct engine *e)
{
	json_t *a = json_array();

	for (size_t i = 0; i < engine_provider_count(e); i++) {
		struct engine_provider_info pi;

		engine_provider_info(e, i, &pi);
		json_array_append_new(a, json_pack("{s:s?,s:s?,s:b,s:s?}", "name", pi.name, "type",
		                                   pi.type, "healthy", pi.healthy, "message",
		                                   pi.message));
	}
	return a;
}
