/* offers_list.c: offer lists (core/offers.h): clearing, copying in, moving, freeing; and the
 * verdict a plan shows (offer_verdict). */
#include <stdlib.h>
#include <string.h>

#include "core/offers.h"
#include "core/xmalloc.h"

static char *offers_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void offer_clear(struct offer *o)
{
	if (o == NULL)
		return;
	free(o->provider);
	free(o->region);
	free(o->instance_type);
	free(o->gpu_type);
	free(o->description);
	free(o->dropped);
	memset(o, 0, sizeof *o);
}

static void offer_list_grow(struct offer_list *l, size_t more)
{
	size_t cap;

	if (l->n + more <= l->cap)
		return;
	cap = l->cap ? l->cap : 8;
	while (cap < l->n + more)
		cap *= 2;
	l->v = xreallocarray(l->v, cap, sizeof *l->v);
	l->cap = cap;
}

void offer_list_add(struct offer_list *l, const struct offer *o)
{
	struct offer *d;

	offer_list_grow(l, 1);
	d = &l->v[l->n++];
	*d = *o;
	d->provider = offers_dup(o->provider);
	d->region = offers_dup(o->region);
	d->instance_type = offers_dup(o->instance_type);
	d->gpu_type = offers_dup(o->gpu_type);
	d->description = offers_dup(o->description);
	d->dropped = offers_dup(o->dropped);
}

void offer_list_take(struct offer_list *dst, struct offer_list *src)
{
	if (src == NULL || src->n == 0 || dst == src)
		return;
	offer_list_grow(dst, src->n);
	memcpy(dst->v + dst->n, src->v, src->n * sizeof *src->v);
	dst->n += src->n;
	src->n = 0;
}

void offer_list_free(struct offer_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		offer_clear(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

void offer_verdict_clear(struct offer_verdict *o)
{
	free(o->provider);
	free(o->description);
	free(o->reason);
	free(o->gpu_name);
	memset(o, 0, sizeof *o);
}

void offer_verdict_from(struct offer_verdict *dst, const struct offer *o)
{
	offer_verdict_clear(dst);
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
