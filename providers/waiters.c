/* waiters.c: see waiters.h. */
#include "providers/waiters.h"

#include <stdlib.h>

#include "core/xmalloc.h"

void waiters_add(struct waiter **list, void (*fn)(struct provider *, void *, int, const char *),
                 void *ctx)
{
	struct waiter *w = xcalloc(1, sizeof *w), **pp = list;

	w->fn = fn;
	w->ctx = ctx;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = w;
}

void waiters_fire(struct provider *p, struct waiter **list, int rc, const char *cause)
{
	struct waiter *w = *list;

	*list = NULL;
	while (w != NULL) {
		struct waiter *next = w->next;

		w->fn(p, w->ctx, rc, cause);
		free(w);
		w = next;
	}
}
