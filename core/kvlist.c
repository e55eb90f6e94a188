/* kvlist.c: ordered string key/value pairs. */
#include "core/kvlist.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

void kvlist_init(struct kvlist *l)
{
	memset(l, 0, sizeof *l);
}

void kvlist_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->keys[i]);
		free(l->vals[i]);
	}
	free(l->keys);
	free(l->vals);
	kvlist_init(l);
}

void kvlist_set(struct kvlist *l, const char *key, const char *val)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->keys[i], key) == 0) {
			char *v = xstrdup(val);

			free(l->vals[i]);
			l->vals[i] = v;
			return;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 8 : l->cap * 2;
		l->keys = xreallocarray(l->keys, l->cap, sizeof *l->keys);
		l->vals = xreallocarray(l->vals, l->cap, sizeof *l->vals);
	}
	l->keys[l->n] = xstrdup(key);
	l->vals[l->n] = xstrdup(val);
	l->n++;
}

const char *kvlist_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->keys[i], key) == 0)
			return l->vals[i];
	return NULL;
}

void kvlist_copy(struct kvlist *dst, const struct kvlist *src)
{
	for (size_t i = 0; i < src->n; i++)
		kvlist_set(dst, src->keys[i], src->vals[i]);
}
