/* lambda_conf.c: the `lambda` provider's settings (flattened config.yaml keys). Every key is
 * checked; an unknown key or a bad value fails with "FILE:LINE:COL: KEY: reason". The API key
 * itself is never read here (cred_get does, in lambda.c) and never shown.
 *
 *   providers:
 *     lambda:
 *       type: lambda
 *       api_key_file: ~/.config/gantry/lambda.key   # or api_key_env: LAMBDA_API_KEY
 *       api_url: https://cloud.lambdalabs.com/api/v1
 *       regions: [us-east-1, us-west-1]
 *       ssh_user: ubuntu
 *       ssh_port: 22
 *       boot_timeout: 10m
 *       poll_interval: 5s
 *       offers_refresh: 3m
 *       rate_limit: 1          # requests per second, 0 = none
 *       launch_interval: 12s   # between two launches
 *       dir: .gantry           # job directories on the instance */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "core/http.h"
#include "core/settings.h"
#include "core/xmalloc.h"
#include "providers/lambda_api.h"

#define LAMBDA_CONF_MAX_REGIONS 256

static int lambda_conf_region(struct settings_ctx *x, const char *key, const char *v,
                              struct lambda_conf *c)
{
	size_t n = strlen(v);

	if (n == 0 || n > LAMBDA_NAME_MAX ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-_") != n)
		return settings_fail(x, key, "expected a region name like us-east-1, got '%s'", v);
	for (size_t i = 0; i < c->nregions; i++)
		if (strcmp(c->regions[i], v) == 0)
			return settings_fail(x, key, "region '%s' is listed twice", v);
	if (c->nregions >= LAMBDA_CONF_MAX_REGIONS)
		return settings_fail(x, key, "more than %d regions", LAMBDA_CONF_MAX_REGIONS);
	c->regions = xreallocarray(c->regions, c->nregions + 1, sizeof *c->regions);
	c->regions[c->nregions++] = xstrdup(v);
	return 0;
}

static int lambda_conf_key(struct settings_ctx *x, const char *key, const char *v,
                           struct lambda_conf *c)
{
	long d = 0;
	char *end;
	double r;

	if (strcmp(key, "api_key_file") == 0 || strcmp(key, "api_key_env") == 0) {
		if (c->key_setting != NULL)
			return settings_fail(x, key,
			                     "give either api_key_file or api_key_env, "
			                     "not both");
		if (*v == '\0')
			return settings_fail(x, key, "expected a %s, got an empty string",
			                     key[8] == 'f' ? "file" : "variable name");
		c->key_setting = xstrdup(key);
		return 0;
	}
	if (strcmp(key, "api_url") == 0)
		return settings_url(x, key, v, LAMBDA_API_DEFAULT_URL, &c->api_url);
	if (strcmp(key, "regions") == 0 ||
	    (strncmp(key, "regions.", 8) == 0 && strspn(key + 8, "0123456789") == strlen(key + 8) &&
	     key[8] != '\0'))
		return lambda_conf_region(x, key, v, c);
	if (strcmp(key, "ssh_user") == 0) {
		if (settings_text(x, key, v, &c->ssh_user) != 0)
			return -1;
		if (strspn(v,
		           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
		        strlen(v) ||
		    *v == '-')
			return settings_fail(x, key, "expected a user name, got '%s'", v);
		return 0;
	}
	if (strcmp(key, "ssh_port") == 0)
		return settings_int(x, key, v, 1, 65535, &c->ssh_port);
	if (strcmp(key, "boot_timeout") == 0) {
		if (settings_duration(x, key, v, 10, 86400, &d) != 0)
			return -1;
		c->boot_timeout_s = (int)d;
		return 0;
	}
	if (strcmp(key, "poll_interval") == 0) {
		if (settings_duration(x, key, v, 1, 3600, &d) != 0)
			return -1;
		c->poll_ms = (int)d * 1000;
		return 0;
	}
	if (strcmp(key, "offers_refresh") == 0) {
		if (settings_duration(x, key, v, 10, 86400, &d) != 0)
			return -1;
		c->offers_refresh_s = (int)d;
		return 0;
	}
	if (strcmp(key, "launch_interval") == 0) {
		if (settings_duration(x, key, v, 0, 3600, &d) != 0)
			return -1;
		c->launch_interval_ms = (int)d * 1000;
		return 0;
	}
	if (strcmp(key, "rate_limit") == 0) {
		errno = 0;
		r = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno != 0 || !isfinite(r) || r < 0 || r > 1000)
			return settings_fail(x, key,
			                     "expected requests per second, 0-1000 (0 = no limit), "
			                     "got '%s'",
			                     v);
		c->rate_per_s = r;
		return 0;
	}
	if (strcmp(key, "dir") == 0) {
		if (settings_text(x, key, v, &c->dir) != 0)
			return -1;
		if (strstr(v, "..") != NULL)
			return settings_fail(x, key, "'..' is not allowed in a remote directory");
		return 0;
	}
	return settings_fail(x, key,
	                     "unknown setting (known: api_key_file, api_key_env, api_url, "
	                     "regions, ssh_user, ssh_port, boot_timeout, poll_interval, "
	                     "offers_refresh, rate_limit, launch_interval, dir)");
}

int lambda_conf_parse(const struct kvlist *settings, const struct kvlist *pos, const char *prov,
                      struct lambda_conf *c, char **cause)
{
	struct settings_ctx x = {pos, prov, cause};

	memset(c, 0, sizeof *c);
	c->ssh_port = 22;
	c->boot_timeout_s = 600;
	c->poll_ms = 5000;
	c->offers_refresh_s = 180;
	c->rate_per_s = 1;
	c->launch_interval_ms = 12000;
	for (size_t i = 0; i < settings->n; i++) {
		if (lambda_conf_key(&x, settings->keys[i], settings->vals[i], c) != 0) {
			lambda_conf_free(c);
			return -1;
		}
	}
	if (c->key_setting == NULL) {
		xcause(cause,
		       "%s: provider '%s' needs api_key_file (a 0600 file holding the key) "
		       "or api_key_env (an environment variable)",
		       prov, prov);
		lambda_conf_free(c);
		return -1;
	}
	if (c->api_url == NULL)
		c->api_url = xstrdup(LAMBDA_API_DEFAULT_URL);
	if (c->ssh_user == NULL)
		c->ssh_user = xstrdup("ubuntu");
	if (c->dir == NULL)
		c->dir = xstrdup(".gantry");
	return 0;
}

void lambda_conf_free(struct lambda_conf *c)
{
	free(c->api_url);
	free(c->key_setting);
	for (size_t i = 0; i < c->nregions; i++)
		free(c->regions[i]);
	free(c->regions);
	free(c->ssh_user);
	free(c->dir);
	memset(c, 0, sizeof *c);
}
