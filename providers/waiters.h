/* waiters.h: callbacks waiting for something a network provider fetches once for many
 * callers (a version check, a snapshot, a cache, a token), told all at once. */
#ifndef GANTRY_WAITERS_H
#define GANTRY_WAITERS_H

struct provider;

struct waiter {
	void (*fn)(struct provider *p, void *ctx, int rc, const char *cause);
	void *ctx;
	struct waiter *next;
};

/* Appends fn(ctx) to *list (told in the order they were added). */
void waiters_add(struct waiter **list, void (*fn)(struct provider *, void *, int, const char *),
                 void *ctx);
/* Empties *list first, then calls each waiter with rc and cause (a waiter may add itself
 * again: it goes to the emptied list) and frees it. */
void waiters_fire(struct provider *p, struct waiter **list, int rc, const char *cause);

#endif
