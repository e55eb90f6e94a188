/* catalog_lookup.c: finding the cheapest catalog row, site rates, and price precedence. */
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "core/catalog.h"

static int catalog_empty(const char *s)
{
	return s == NULL || *s == '\0';
}

static int catalog_matches(const struct catalog_row *r, const struct catalog_query *q,
                           double *price)
{
	if (!catalog_empty(q->provider) && strcasecmp(r->provider, q->provider) != 0)
		return 0;
	if (!catalog_empty(q->region) && strcasecmp(r->region, q->region) != 0)
		return 0;
	if (catalog_empty(q->gpu_name)) {
		if (r->gpu_count != 0)
			return 0;
	} else if (r->gpu_count != q->gpu_count || strcasecmp(r->gpu_name, q->gpu_name) != 0) {
		return 0;
	}
	if (q->min_vcpus > 0 && r->vcpus < q->min_vcpus)
		return 0;
	if (q->min_memory_gib > 0 && r->memory_gib < q->min_memory_gib)
		return 0;
	if (q->market == CATALOG_SPOT) {
		if (r->spot < 0)
			return 0;
		*price = r->spot;
	} else {
		*price = r->ondemand;
	}
	return 1;
}

/* Orders equal prices: provider, region, instance type. */
static int catalog_before(const struct catalog_row *a, const struct catalog_row *b)
{
	int c = strcmp(a->provider, b->provider);

	if (c == 0)
		c = strcmp(a->region, b->region);
	if (c == 0)
		c = strcmp(a->instance_type, b->instance_type);
	return c < 0;
}

const struct catalog_row *catalog_lookup(const struct catalog *c, const struct catalog_query *q,
                                         double *usd_per_hour)
{
	const struct catalog_row *best = NULL;
	double price, best_price = 0;
	size_t i;

	if (c == NULL || q == NULL)
		return NULL;
	for (i = 0; i < c->nrows; i++) {
		const struct catalog_row *r = &c->rows[i];

		if (!catalog_matches(r, q, &price))
			continue;
		if (best == NULL || price < best_price ||
		    (price == best_price && catalog_before(r, best))) {
			best = r;
			best_price = price;
		}
	}
	if (best != NULL && usd_per_hour != NULL)
		*usd_per_hour = best_price;
	return best;
}

int catalog_site_price(const struct catalog_site_rates *r, const char *gpu_type, int gpus,
                       double cpus, double *usd_per_hour)
{
	const struct catalog_site_gpu_rate *rate = NULL;
	double total = 0;
	size_t i;

	*usd_per_hour = 0;
	if (r == NULL || gpus < 0 || !(cpus >= 0))
		return -1;
	if (gpus > 0) {
		if (catalog_empty(gpu_type))
			return -1;
		for (i = 0; i < r->ngpu; i++) {
			if (r->gpu[i].gpu_type != NULL &&
			    strcasecmp(r->gpu[i].gpu_type, gpu_type) == 0) {
				rate = &r->gpu[i];
				break;
			}
		}
		for (i = 0; rate == NULL && i < r->ngpu; i++) {
			if (r->gpu[i].gpu_type != NULL && strcmp(r->gpu[i].gpu_type, "*") == 0)
				rate = &r->gpu[i];
		}
		if (rate == NULL || !isfinite(rate->usd_per_gpu_hour) || rate->usd_per_gpu_hour < 0)
			return -1;
		total += gpus * rate->usd_per_gpu_hour;
	}
	if (r->has_cpu_rate) {
		if (!isfinite(r->usd_per_cpu_hour) || r->usd_per_cpu_hour < 0)
			return -1;
		total += cpus * r->usd_per_cpu_hour;
	} else if (gpus == 0) {
		return -1;
	}
	*usd_per_hour = total;
	return 0;
}

static int catalog_usable(int has, double v)
{
	return has && isfinite(v) && v >= 0;
}

enum catalog_source catalog_price_pick(int has_live, double live, int has_catalog, double catalog,
                                       int has_site, double site, double *usd_per_hour)
{
	*usd_per_hour = 0;
	if (catalog_usable(has_live, live)) {
		*usd_per_hour = live;
		return CATALOG_SRC_LIVE;
	}
	if (catalog_usable(has_catalog, catalog)) {
		*usd_per_hour = catalog;
		return CATALOG_SRC_CATALOG;
	}
	if (catalog_usable(has_site, site)) {
		*usd_per_hour = site;
		return CATALOG_SRC_SITE;
	}
	return CATALOG_SRC_NONE;
}

const char *catalog_source_name(enum catalog_source s)
{
	switch (s) {
	case CATALOG_SRC_LIVE:
		return "live";
	case CATALOG_SRC_CATALOG:
		return "catalog";
	case CATALOG_SRC_SITE:
		return "site";
	case CATALOG_SRC_NONE:
		break;
	}
	return "unpriced";
}
