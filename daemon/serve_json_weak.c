/* serve_json_weak.c: TEMPORARY: a weak engine_json_job until core/engine_remote_json.c (the
 * client engineer's) is merged; the strong definition there replaces it at link time. */
#include "core/engine_remote.h"

__attribute__((weak)) json_t *engine_json_job(const struct job *j)
{
	return json_pack(
	    "{s:s?,s:s?,s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:i,s:b,s:i,"
	    "s:i,s:I,s:I,s:I,s:I,s:b,s:f,s:i,s:s?,s:s?,s:s?,s:i,s:i,s:I,s:s?,s:s?,"
	    "s:s?,s:s?}",
	    "id", j->id, "name", j->name, "kind", job_kind_name(j->kind), "state",
	    job_state_name(j->state), "template_name", j->template_name, "provider", j->provider,
	    "owner", j->owner, "idem_key", j->idem_key, "params_json", j->params_json, "spec_json",
	    j->spec_json, "provider_ref", j->provider_ref, "reason", j->reason, "port", j->port,
	    "has_exit", j->has_exit, "exit_code", j->exit_code, "gpus", j->gpus, "created_ms",
	    (json_int_t)j->created_ms, "updated_ms", (json_int_t)j->updated_ms, "started_ms",
	    (json_int_t)j->started_ms, "ended_ms", (json_int_t)j->ended_ms, "priced", j->priced,
	    "price_per_hour", j->price_per_hour, "billing_s", j->billing_s, "team", j->team,
	    "project", j->project, "region", j->region, "ready_replicas", j->ready_replicas,
	    "desired_replicas", j->desired_replicas, "owner_uid", (json_int_t)j->owner_uid,
	    "approval", j->approval, "decided_by", j->decided_by, "decision_reason",
	    j->decision_reason, "request_json", j->request_json);
}
