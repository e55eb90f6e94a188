/* engine_runtime.c: a launch's own max_runtime (the TUI form's field): parsed from "90",
 * "30s", "10m", "1h30m" or "2d", and checked against the template's limits.max_runtime (a
 * launch may shorten it, never lengthen it). The plan, its budget check and the provider all
 * use the result, so a 3-second job is charged for 3 seconds, not for the 1 hour counted
 * when no max_runtime is known. */
#include <stdio.h>

#include "core/cost.h"
#include "core/engine_internal.h"
#include "core/xmalloc.h"

long engine_duration_parse(const char *s)
{
	long total = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		long n = 0, mult;

		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9') {
			if (n > 100000000)
				return -1;
			n = n * 10 + (*s++ - '0');
		}
		switch (*s) {
		case '\0':
			mult = 1;
			break;
		case 's':
			mult = 1;
			s++;
			break;
		case 'm':
			mult = 60;
			s++;
			break;
		case 'h':
			mult = 3600;
			s++;
			break;
		case 'd':
			mult = 86400;
			s++;
			break;
		default:
			return -1;
		}
		if (n > (1L << 40) / mult || total > (1L << 40) - n * mult)
			return -1;
		total += n * mult;
	}
	return total;
}

int engine_plan_runtime(const struct template *t, long want_s, long *out, char **cause)
{
	long limit = t->limits.max_runtime_s;

	*out = limit;
	if (want_s <= 0)
		return 0;
	if (limit > 0 && want_s > limit) {
		char w[32], l[32];

		cost_duration((int64_t)want_s * 1000, w);
		cost_duration((int64_t)limit * 1000, l);
		return xcause(cause, "max_runtime %s is over the template's limit of %s", w, l);
	}
	*out = want_s;
	return 0;
}
