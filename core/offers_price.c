/* offers_price.c: an offer's price from the provider (live), the catalog or site rates, by the
 * catalog's precedence (catalog_price_pick), with the source recorded. */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "core/offers.h"

/* The catalog row of exactly this instance type (and region, market), cheapest first. */
static int offers_price_row(const struct catalog *c, const struct offer *o, const char *provider,
                            double *out)
{
	int found = 0;

	for (size_t i = 0; i < c->nrows; i++) {
		const struct catalog_row *r = &c->rows[i];
		double p = o->market == OFFER_SPOT ? r->spot : r->ondemand;

		if (strcasecmp(r->provider, provider) != 0 ||
		    strcmp(r->instance_type, o->instance_type) != 0)
			continue;
		if (o->region != NULL && *o->region != '\0' && *r->region != '\0' &&
		    strcasecmp(r->region, o->region) != 0)
			continue;
		if (p < 0)
			continue;
		if (!found || p < *out)
			*out = p;
		found = 1;
	}
	return found;
}

static int offers_price_catalog(const struct offers_price_src *src, const struct offer *o,
                                double *out)
{
	struct catalog_query q;
	int has_gpu = o->gpu_type != NULL && *o->gpu_type != '\0' && o->gpus > 0;

	if (src->catalog == NULL || src->catalog_provider == NULL || *src->catalog_provider == '\0')
		return 0;
	if (o->instance_type != NULL && *o->instance_type != '\0' &&
	    offers_price_row(src->catalog, o, src->catalog_provider, out))
		return 1;
	memset(&q, 0, sizeof q);
	q.provider = src->catalog_provider;
	q.gpu_name = has_gpu ? o->gpu_type : NULL;
	q.gpu_count = has_gpu ? o->gpus : 0;
	q.region = o->region;
	q.market = o->market == OFFER_SPOT ? CATALOG_SPOT : CATALOG_ONDEMAND;
	return catalog_lookup(src->catalog, &q, out) != NULL;
}

enum catalog_source offers_price(struct offer *o, const struct offers_price_src *src)
{
	int nodes = src != NULL && src->nodes > 0 ? src->nodes : 1;
	int has_cat = 0, has_site = 0;
	double cat = 0, site = 0, usd = 0;

	if (src != NULL) {
		has_cat = offers_price_catalog(src, o, &cat);
		if (src->site != NULL)
			has_site = catalog_site_price(src->site, o->gpus > 0 ? o->gpu_type : NULL,
			                              o->gpus, src->site_cpus, &site) == 0;
		o->source = catalog_price_pick(src->has_live, src->live_usd_per_hour, has_cat,
		                               cat * nodes, has_site, site * nodes, &usd);
	} else {
		o->source = CATALOG_SRC_NONE;
	}
	o->priced = o->source != CATALOG_SRC_NONE;
	o->usd_per_hour = usd;
	return o->source;
}
