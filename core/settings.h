/* settings.h: reading a provider's settings (config.yaml's providers.NAME.*) one value at a
 * time, each error one line with the value's FILE:LINE:COL ("config.yaml:7:5: url: ..."):
 * the pieces every provider's settings parser shares. */
#ifndef GANTRY_SETTINGS_H
#define GANTRY_SETTINGS_H

#include "core/kvlist.h"

struct settings_ctx {
	const struct kvlist *pos; /* key -> "FILE:LINE:COL", or NULL */
	const char *prov;         /* the provider's name, where a key has no position */
	char **cause;
};

/* Sets *x->cause to "WHERE: KEY: MESSAGE"; returns -1. */
int settings_fail(struct settings_ctx *x, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A non-empty value without control characters (heap copy in *out, replacing it). */
int settings_text(struct settings_ctx *x, const char *key, const char *v, char **out);
/* A whole number from min to max. */
int settings_int(struct settings_ctx *x, const char *key, const char *v, long min, long max,
                 int *out);
/* A price in dollars per hour: a finite number from 0 to 1,000,000. */
int settings_rate(struct settings_ctx *x, const char *key, const char *v, double *out);
/* A duration (core/duration.h) from min_s to max_s seconds. */
int settings_duration(struct settings_ctx *x, const char *key, const char *v, long min_s,
                      long max_s, long *out);
/* An API base URL as the http client takes it (https, or http:// to loopback; no query or
 * fragment), trailing slashes removed; example is shown when it is not a URL at all. */
int settings_url(struct settings_ctx *x, const char *key, const char *v, const char *example,
                 char **out);

#endif
