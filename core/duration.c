/* duration.c: "1h30m" -> seconds (templates' limits.max_runtime, provider settings). */
#include "core/duration.h"

#include <stddef.h>

long duration_parse(const char *s)
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
		total += n * mult;
		if (total > 366L * 86400 * 10)
			return -1;
	}
	return total;
}
