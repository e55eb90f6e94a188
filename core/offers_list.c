/* offers_list.c: offer lists (core/offers.h): clearing, copying in, moving, freeing. */
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
