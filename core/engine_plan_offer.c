/* engine_plan_offer.c: an offer (core/offers.h) as the engine hands it to the faces in a plan
 * (struct engine_offer), so that core/engine.h needs no provider type. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_plan_offer.h"
#include "core/xmalloc.h"

void engine_offer_clear(struct engine_offer *o)
{
	free(o->provider);
	free(o->description);
	free(o->reason);
	free(o->gpu_name);
	memset(o, 0, sizeof *o);
}

void engine_offer_from(struct engine_offer *dst, const struct offer *o)
{
	engine_offer_clear(dst);
	dst->provider = o->provider != NULL ? xstrdup(o->provider) : NULL;
	dst->description = o->description != NULL ? xstrdup(o->description) : NULL;
	dst->fits = o->dropped == NULL;
	dst->reason = o->dropped != NULL ? xstrdup(o->dropped) : NULL;
	dst->cpus = o->cpus;
	dst->memory_mib = o->memory_mib;
	dst->gpus = o->gpus;
	dst->gpu_name = o->gpu_type != NULL && o->gpu_type[0] != '\0' ? xstrdup(o->gpu_type) : NULL;
	dst->priced = o->priced;
	dst->price_per_hour = o->priced ? o->usd_per_hour : 0;
}
