/* settings.c: one provider setting at a time, with its position in config.yaml. */
#include "core/settings.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "core/http.h"
#include "core/xmalloc.h"

int settings_fail(struct settings_ctx *x, const char *key, const char *fmt, ...)
{
	const char *where = x->pos != NULL ? kvlist_get(x->pos, key) : NULL;
	va_list ap;
	char *msg;
	int rc;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	rc = xcause(x->cause, "%s: %s: %s", where != NULL ? where : x->prov, key, msg);
	free(msg);
	return rc;
}

int settings_text(struct settings_ctx *x, const char *key, const char *v, char **out)
{
	if (*v == '\0')
		return settings_fail(x, key, "expected a value, got an empty string");
	for (const char *c = v; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return settings_fail(x, key, "control characters are not allowed");
	free(*out);
	*out = xstrdup(v);
	return 0;
}

int settings_int(struct settings_ctx *x, const char *key, const char *v, long min, long max,
                 int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return settings_fail(x, key, "expected a whole number %ld-%ld, got '%s'", min, max,
		                     v);
	*out = (int)n;
	return 0;
}

int settings_rate(struct settings_ctx *x, const char *key, const char *v, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(d) || d < 0 || d > 1e6)
		return settings_fail(x, key, "expected a price in $/hour (a number >= 0), got '%s'",
		                     v);
	*out = d;
	return 0;
}

int settings_duration(struct settings_ctx *x, const char *key, const char *v, long min_s,
                      long max_s, long *out)
{
	long d = duration_parse(v);

	if (d < min_s || d > max_s)
		return settings_fail(
		    x, key,
		    "expected a duration from %lds to %lds (\"30s\", \"10m\"), got "
		    "'%s'",
		    min_s, max_s, v);
	*out = d;
	return 0;
}

int settings_url(struct settings_ctx *x, const char *key, const char *v, const char *example,
                 char **out)
{
	const char *host;
	char *why = NULL;
	size_t n;
	int rc;

	if (settings_text(x, key, v, out) != 0)
		return -1;
	if (http_url_check(v, &why) != 0) {
		rc = settings_fail(x, key, "%s", why);
		free(why);
		return rc;
	}
	host = strstr(v, "://") + 3;
	if (*host == '\0' || *host == '/' || strchr(v, ' ') != NULL || strchr(v, '?') != NULL ||
	    strchr(v, '#') != NULL)
		return settings_fail(x, key, "expected a URL like %s, got '%s'", example, v);
	n = strlen(*out);
	while (n > 0 && (*out)[n - 1] == '/')
		(*out)[--n] = '\0';
	return 0;
}
