/* engine_plan_offer.h: engine-internal: fills a plan's engine_offer from the provider. */
#ifndef GANTRY_ENGINE_PLAN_OFFER_H
#define GANTRY_ENGINE_PLAN_OFFER_H

#include "core/engine_internal.h"

/* ep->ops->offer into out (replacing what it held); -1 with cause. */
int engine_offer_get(struct engine_provider *ep, const struct template *t, struct engine_offer *out,
                     char **cause);

#endif
