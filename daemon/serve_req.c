/* serve_req.c: the providers list of hello and providers; the launch request, plan and
 * everything else on the wire use the JSON both sides share (core/engine_remote_json.c). */
#include "daemon/serve_internal.h"

#include "core/engine_remote.h"

json_t *serve_providers_json(struct engine *e)
{
	json_t *a = json_array();

	for (size_t i = 0; i < engine_provider_count(e); i++) {
		struct engine_provider_info pi;

		engine_provider_info(e, i, &pi);
		json_array_append_new(a, engine_json_provider_info(&pi));
	}
	return a;
}
