/* engine_runtime.c: a launch's own max_runtime (the TUI form's field): parsed from "90",
 * "30s", "10m", "1h30m" or "2d", and checked against the template's limits.max_runtime (a
 * launch may shorten it, never lengthen it). The plan, its budget check and the provider all
 * use the result, so a 3-second job is charged for 3 seconds, not for the 1 hour counted
 * when no max_runtime is known. */
#include <stdio.h>

#include "core/cost.h"
#include "core/duration.h"
#include "core/engine_internal.h"
#include "core/template.h"
#include "core/xmalloc.h"

long engine_duration_parse(const char *s)
{
	return duration_parse(s);
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
