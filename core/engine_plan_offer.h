/* engine_plan_offer.h: engine-internal: fills a plan's engine_offer from an offer. */
#ifndef GANTRY_ENGINE_PLAN_OFFER_H
#define GANTRY_ENGINE_PLAN_OFFER_H

#include "core/engine_internal.h"
#include "core/offers.h"

/* Copies o into dst (replacing what it held). */
void engine_offer_from(struct engine_offer *dst, const struct offer *o);

#endif
