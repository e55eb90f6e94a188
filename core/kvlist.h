/* kvlist.h: a small ordered list of string key/value pairs (params, env).
 * The list owns copies of every key and value. */
#ifndef GANTRY_KVLIST_H
#define GANTRY_KVLIST_H

#include <stddef.h>

struct kvlist {
	char **keys;
	char **vals;
	size_t n;
	size_t cap;
};

void kvlist_init(struct kvlist *l);
void kvlist_free(struct kvlist *l);
/* Sets key to val (copies both), replacing an existing value. */
void kvlist_set(struct kvlist *l, const char *key, const char *val);
/* Returns the value for key, or NULL. */
const char *kvlist_get(const struct kvlist *l, const char *key);
void kvlist_copy(struct kvlist *dst, const struct kvlist *src);

#endif
