/* offers.c: the optimizer (core/offers.h): filters a provider's offers by the template's
 * placement, GPU alternatives, spot preference, price cap and the budget left, ranks what
 * fits by price, and keeps every dropped offer with its reason. */
#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/offers.h"
#include "core/template.h"
#include "core/xmalloc.h"

const char *offer_market_name(enum offer_market m)
{
	return m == OFFER_SPOT ? "spot" : "on-demand";
}

const char *offer_billing_name(enum offer_billing b)
{
	switch (b) {
	case OFFER_BILL_MINUTE:
		return "minute";
	case OFFER_BILL_HOUR:
		return "hour";
	case OFFER_BILL_SECOND:
		break;
	}
	return "second";
}

const char *offer_avail_name(enum offer_avail a)
{
	switch (a) {
	case OFFER_AVAIL_YES:
		return "yes";
	case OFFER_AVAIL_NO:
		return "no";
	case OFFER_AVAIL_UNKNOWN:
		break;
	}
	return "unknown";
}

static const char *offers_str(const char *s)
{
	return s != NULL ? s : "";
}

/* want names the offer's GPU: equal (case-insensitive), "any" for any GPU, or one
 * space-separated word of a long name ("H100" in "NVIDIA H100 80GB HBM3"; "A100" never
 * matches "A100-80GB"). */
int offers_gpu_matches(const char *want, const char *have)
{
	size_t n;
	const char *c;

	if (want == NULL || have == NULL || *have == '\0')
		return 0;
	if (strcasecmp(want, "any") == 0 || strcasecmp(want, have) == 0)
		return 1;
	n = strlen(want);
	for (c = have; *c != '\0';) {
		size_t w = strcspn(c, " ");

		if (w == n && strncasecmp(c, want, n) == 0)
			return 1;
		c += w;
		c += strspn(c, " ");
	}
	return 0;
}

/* "H100, A100" (heap). */
static char *offers_accel_names(const struct template *t)
{
	size_t len = 1, i;
	char *s;

	for (i = 0; i < t->resources.naccels; i++)
		len += strlen(offers_str(t->resources.accels[i].name)) + 2;
	s = xmalloc(len);
	*s = '\0';
	for (i = 0; i < t->resources.naccels; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, offers_str(t->resources.accels[i].name));
	}
	return s;
}

/* NULL when the offer's GPUs satisfy one of the template's alternatives, else why not. */
static char *offers_gpu_reason(const struct offer *o, const struct template *t)
{
	const struct tpl_accel *typed = NULL;
	char *names, *r;
	size_t i;

	if (t->resources.naccels == 0)
		return NULL;
	for (i = 0; i < t->resources.naccels; i++) {
		const struct tpl_accel *a = &t->resources.accels[i];

		if (a->count <= 0)
			return NULL; /* an alternative that wants no GPU */
		if (!offers_gpu_matches(a->name, o->gpu_type))
			continue;
		if (o->gpus >= a->count)
			return NULL;
		if (typed == NULL)
			typed = a;
	}
	if (typed != NULL)
		return xprintf("%d %s GPU%s, needs %d", o->gpus, offers_str(o->gpu_type),
		               o->gpus == 1 ? "" : "s", typed->count);
	names = offers_accel_names(t);
	if (o->gpu_type == NULL || *o->gpu_type == '\0' || o->gpus <= 0)
		r = xprintf("no GPU; needs one of %s", names);
	else
		r = xprintf("GPU %s is not one of %s", o->gpu_type, names);
	free(names);
	return r;
}

static int offers_in_list(char *const *v, size_t n, const char *s, int glob)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		if (glob ? fnmatch(v[i], s, 0) == 0 : strcmp(v[i], s) == 0)
			return 1;
	}
	return 0;
}

/* Why the offer is dropped (heap), or NULL when it fits. */
static char *offers_reason(const struct offer *o, const struct template *t,
                           const struct offers_limits *lim)
{
	const char *prov = offers_str(o->provider), *region = offers_str(o->region);
	double cap = t != NULL ? t->limits.max_hourly_cost : 0;
	char *r;

	if (lim != NULL && lim->only_provider != NULL && strcmp(lim->only_provider, prov) != 0)
		return xprintf("not the provider asked for (%s)", lim->only_provider);
	if (t == NULL)
		goto money;
	if (t->nplacement_providers > 0 &&
	    !offers_in_list(t->placement_providers, t->nplacement_providers, prov, 0))
		return xstrdup("provider not in placement.providers");
	/* a provider without regions (local, ssh) is not restricted by placement.regions */
	if (t->nplacement_regions > 0 && *region != '\0' &&
	    !offers_in_list(t->placement_regions, t->nplacement_regions, region, 1))
		return xprintf("region %s not in placement.regions", region);
	if ((r = offers_gpu_reason(o, t)) != NULL)
		return r;
	if (t->resources.spot == TPL_SPOT_ONLY && o->market != OFFER_SPOT)
		return xstrdup("spot only");
	if (t->resources.spot == TPL_SPOT_NEVER && o->market == OFFER_SPOT)
		return xstrdup("no spot wanted");
money:
	if (o->avail == OFFER_AVAIL_NO)
		return *region != '\0' ? xprintf("no capacity in %s now", region)
		                       : xstrdup("no capacity");
	if (cap > 0) {
		if (!o->priced)
			return xstrdup("unpriced while limits.max_hourly_cost is set");
		if (o->usd_per_hour > cap)
			return xprintf("$%.2f/h is over limits.max_hourly_cost $%.2f/h",
			               o->usd_per_hour, cap);
	}
	if (lim != NULL && lim->has_budget_left && o->priced) {
		double hours = lim->runtime_s > 0 ? (double)lim->runtime_s / 3600.0 : 1.0;
		double expected = o->usd_per_hour * hours;

		if (expected > lim->budget_left_usd)
			return xprintf("expected $%.2f is over the $%.2f budget left", expected,
			               lim->budget_left_usd < 0 ? 0 : lim->budget_left_usd);
	}
	return NULL;
}

/* A sort key: the offer and what orders it. */
struct offers_key {
	const struct offer *o;
	int dropped;  /* 0 first */
	int market;   /* spot first when the template prefers spot, else 0 */
	int unpriced; /* priced first */
	double price;
	int avail;    /* yes, unknown, no */
	size_t index; /* where it was, the last tie-break */
};

static int offers_cmp_str(const char *a, const char *b)
{
	return strcmp(offers_str(a), offers_str(b));
}

static int offers_cmp(const void *pa, const void *pb)
{
	const struct offers_key *a = pa, *b = pb;
	const struct offer *x = a->o, *y = b->o;
	int c;

	if (a->dropped != b->dropped)
		return a->dropped - b->dropped;
	if (a->market != b->market)
		return a->market - b->market;
	if (a->unpriced != b->unpriced)
		return a->unpriced - b->unpriced;
	if (a->price != b->price)
		return a->price < b->price ? -1 : 1;
	if (a->avail != b->avail)
		return a->avail - b->avail;
	if ((c = offers_cmp_str(x->provider, y->provider)) != 0 ||
	    (c = offers_cmp_str(x->region, y->region)) != 0 ||
	    (c = offers_cmp_str(x->instance_type, y->instance_type)) != 0 ||
	    (c = offers_cmp_str(x->gpu_type, y->gpu_type)) != 0)
		return c;
	if (x->market != y->market)
		return (int)x->market - (int)y->market;
	if (x->gpus != y->gpus)
		return x->gpus - y->gpus;
	if (x->cpus != y->cpus)
		return x->cpus - y->cpus;
	if (x->memory_mib != y->memory_mib)
		return x->memory_mib < y->memory_mib ? -1 : 1;
	if ((c = offers_cmp_str(x->dropped, y->dropped)) != 0 ||
	    (c = offers_cmp_str(x->description, y->description)) != 0)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

static int offers_avail_rank(enum offer_avail a)
{
	return a == OFFER_AVAIL_YES ? 0 : a == OFFER_AVAIL_UNKNOWN ? 1 : 2;
}

size_t offers_rank(struct offer_list *l, const struct template *t, const struct offers_limits *lim)
{
	struct offers_key *keys;
	struct offer *sorted;
	size_t i, fit = 0;
	int prefer_spot = t != NULL && t->resources.spot == TPL_SPOT_PREFER;

	if (l == NULL || l->n == 0)
		return 0;
	keys = xcalloc(l->n, sizeof *keys);
	for (i = 0; i < l->n; i++) {
		struct offer *o = &l->v[i];
		struct offers_key *k = &keys[i];

		if (o->dropped == NULL)
			o->dropped = offers_reason(o, t, lim);
		k->o = o;
		k->index = i;
		k->dropped = o->dropped != NULL;
		k->market = prefer_spot && o->market != OFFER_SPOT;
		k->unpriced = !o->priced || !isfinite(o->usd_per_hour);
		k->price = k->unpriced ? 0 : o->usd_per_hour;
		k->avail = offers_avail_rank(o->avail);
		fit += !k->dropped;
	}
	qsort(keys, l->n, sizeof *keys, offers_cmp);
	sorted = xreallocarray(NULL, l->cap, sizeof *sorted);
	for (i = 0; i < l->n; i++)
		sorted[i] = *keys[i].o;
	free(l->v);
	l->v = sorted;
	free(keys);
	return fit;
}
