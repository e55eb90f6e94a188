/* tele_kernels.c: Jupyter's /api/kernels answer -> busy and last activity. */
#include "core/tele_kernels.h"

#include <jansson.h>
#include <string.h>
#include <time.h>

int64_t tele_kernels_iso_ms(const char *s)
{
	struct tm tm;
	const char *p;
	int64_t ms = 0;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (s == NULL || (p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	if (*p == '.') {
		int digits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
		for (; digits < 3; digits++)
			ms *= 10;
	}
	t = timegm(&tm);
	/* years 1970 to 9999: anything else is not a time Jupyter meant */
	if (t < 0 || t > (time_t)253402300799)
		return 0;
	return (int64_t)t * 1000 + ms;
}

int tele_kernels_parse(const char *body, int *busy, int64_t *activity_ms)
{
	json_t *root = json_loads(body, 0, NULL), *k;
	size_t i;

	if (!json_is_array(root)) {
		json_decref(root);
		return -1;
	}
	*busy = 0;
	json_array_foreach(root, i, k)
	{
		const char *st = json_string_value(json_object_get(k, "execution_state"));
		int64_t at =
		    tele_kernels_iso_ms(json_string_value(json_object_get(k, "last_activity")));

		if (st != NULL && strcmp(st, "idle") != 0)
			*busy = 1; /* busy, starting: activity */
		if (at > *activity_ms)
			*activity_ms = at;
	}
	json_decref(root);
	return 0;
}
