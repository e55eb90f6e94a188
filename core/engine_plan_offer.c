/* engine_plan_offer.c: a provider's offer (struct provider_offer) as the engine hands it to
 * the faces (struct engine_offer), so that core/engine.h needs no provider type. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_plan_offer.h"

void engine_offer_clear(struct engine_offer *o)
{
	free(o->provider);
	free(o->description);
	free(o->reason);
	free(o->gpu_name);
	memset(o, 0, sizeof *o);
}

int engine_offer_get(struct engine_provider *ep, const struct template *t, struct engine_offer *out,
                     char **cause)
{
	struct provider_offer po;

	memset(&po, 0, sizeof po);
	if (ep->ops->offer(ep->p, t, &po, cause) != 0) {
		provider_offer_clear(&po);
		return -1;
	}
	engine_offer_clear(out);
	/* the strings move over */
	out->provider = po.provider;
	out->description = po.description;
	out->fits = po.fits;
	out->reason = po.reason;
	out->cpus = po.cpus;
	out->memory_mib = po.memory_mib;
	out->gpus = po.gpus;
	out->gpu_name = po.gpu_name;
	out->priced = po.priced;
	out->price_per_hour = po.price_per_hour;
	return 0;
}
