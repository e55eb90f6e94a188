/* slurm_conf.c: the `slurm` provider's settings (flattened config.yaml keys). Every key is
 * checked; an unknown key or a bad value fails with "FILE:LINE:COL: KEY: reason". The token
 * is never read here (slurm_token.c does) and never shown.
 *
 *   providers:
 *     hpc:
 *       type: slurm
 *       url: http://127.0.0.1:6820   # https, or http:// to loopback
 *       api_version: v0.0.38
 *       user: root                   # X-SLURM-USER-NAME (default: the Unix user)
 *       token_file: PATH             # or token_env: VAR, or token_command: "scontrol token"
 *       partition: debug             # account: ..., qos: ...
 *       login: 127.0.0.1             # ssh_user, ssh_port, ssh_key, known_hosts
 *       node_ssh_port: 22
 *       dir: .gantry-slurm
 *       rate_gpu_hour: 2.0           # rates.A100: 3.1, rate_cpu_hour: 0.05
 *       poll_interval: 2s
 *       offers_refresh: 30s
 *       requeue: true */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/duration.h"
#include "core/http.h"
#include "core/settings.h"
#include "core/xmalloc.h"
#include "providers/slurm_internal.h"

/* A name Slurm or SSH takes as one word (partition, account, user, host). */
static int slurm_conf_name(struct settings_ctx *x, const char *key, const char *v, char **out)
{
	size_t n = strlen(v);

	if (settings_text(x, key, v, out) != 0)
		return -1;
	if (n > 200 || *v == '-' ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:@[]") != n)
		return settings_fail(x, key, "expected a name (letters, digits, . _ -), got '%s'",
		                     v);
	return 0;
}

static void slurm_conf_add_rate(struct slurm_conf *c, const char *type, double r)
{
	for (size_t i = 0; i < c->ngpu_rates; i++)
		if (strcasecmp(c->gpu_rates[i].gpu_type, type) == 0) {
			c->gpu_rates[i].usd_per_gpu_hour = r;
			return;
		}
	c->gpu_rates = xreallocarray(c->gpu_rates, c->ngpu_rates + 1, sizeof *c->gpu_rates);
	c->gpu_rates[c->ngpu_rates].gpu_type = xstrdup(type);
	c->gpu_rates[c->ngpu_rates].usd_per_gpu_hour = r;
	c->ngpu_rates++;
}

static int slurm_conf_bool(struct settings_ctx *x, const char *key, const char *v, int *out)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0) {
		*out = 1;
		return 0;
	}
	if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0) {
		*out = 0;
		return 0;
	}
	return settings_fail(x, key, "expected true or false, got '%s'", v);
}

static int slurm_conf_key(struct settings_ctx *x, const char *key, const char *v,
                          struct slurm_conf *c)
{
	long d = 0;
	double r;

	if (strcmp(key, "token_file") == 0 || strcmp(key, "token_env") == 0 ||
	    strcmp(key, "token_command") == 0) {
		if (c->token_setting != NULL)
			return settings_fail(x, key,
			                     "give one of token_file, token_env and "
			                     "token_command, not two");
		if (*v == '\0')
			return settings_fail(x, key, "expected a value, got an empty string");
		c->token_setting = xstrdup(key);
		if (strcmp(key, "token_command") == 0)
			return settings_text(x, key, v, &c->token_command);
		return 0;
	}
	if (strcmp(key, "url") == 0)
		return settings_url(x, key, v, "https://slurm.example.org:6820", &c->url);
	if (strcmp(key, "api_version") == 0) {
		size_t n = strlen(v);

		if (n < 2 || n > 16 || v[0] != 'v' || strspn(v + 1, "0123456789.") != n - 1)
			return settings_fail(x, key,
			                     "expected a version like v0.0.38 (known: %s), "
			                     "got '%s'",
			                     slurm_api_version_names(), v);
		return settings_text(x, key, v, &c->api_version);
	}
	if (strcmp(key, "user") == 0)
		return slurm_conf_name(x, key, v, &c->user);
	if (strcmp(key, "partition") == 0)
		return slurm_conf_name(x, key, v, &c->partition);
	if (strcmp(key, "account") == 0)
		return slurm_conf_name(x, key, v, &c->account);
	if (strcmp(key, "qos") == 0)
		return slurm_conf_name(x, key, v, &c->qos);
	if (strcmp(key, "login") == 0)
		return slurm_conf_name(x, key, v, &c->login);
	if (strcmp(key, "ssh_user") == 0)
		return slurm_conf_name(x, key, v, &c->ssh_user);
	if (strcmp(key, "ssh_port") == 0)
		return settings_int(x, key, v, 1, 65535, &c->ssh_port);
	if (strcmp(key, "node_ssh_port") == 0)
		return settings_int(x, key, v, 1, 65535, &c->node_ssh_port);
	if (strcmp(key, "ssh_key") == 0)
		return settings_text(x, key, v, &c->ssh_key);
	if (strcmp(key, "known_hosts") == 0)
		return settings_text(x, key, v, &c->known_hosts);
	if (strcmp(key, "dir") == 0) {
		if (settings_text(x, key, v, &c->dir) != 0)
			return -1;
		if (strstr(v, "..") != NULL)
			return settings_fail(x, key, "'..' is not allowed in a remote directory");
		return 0;
	}
	if (strcmp(key, "rate_gpu_hour") == 0) {
		if (settings_rate(x, key, v, &r) != 0)
			return -1;
		slurm_conf_add_rate(c, "*", r);
		return 0;
	}
	if (strncmp(key, "rates.", 6) == 0 && key[6] != '\0') {
		if (strlen(key + 6) > 64 || strchr(key + 6, '.') != NULL)
			return settings_fail(x, key, "expected rates.GPU_TYPE");
		if (settings_rate(x, key, v, &r) != 0)
			return -1;
		slurm_conf_add_rate(c, key + 6, r);
		return 0;
	}
	if (strcmp(key, "rate_cpu_hour") == 0) {
		if (settings_rate(x, key, v, &c->rate_cpu_hour) != 0)
			return -1;
		c->has_cpu_rate = 1;
		return 0;
	}
	if (strcmp(key, "poll_interval") == 0) {
		if (settings_duration(x, key, v, 1, 3600, &d) != 0)
			return -1;
		c->poll_ms = (int)d * 1000;
		return 0;
	}
	if (strcmp(key, "offers_refresh") == 0) {
		if (settings_duration(x, key, v, 1, 86400, &d) != 0)
			return -1;
		c->offers_refresh_s = (int)d;
		return 0;
	}
	if (strcmp(key, "requeue") == 0)
		return slurm_conf_bool(x, key, v, &c->requeue);
	return settings_fail(x, key,
	                     "unknown setting (known: url, api_version, user, token_file, "
	                     "token_env, token_command, partition, account, qos, login, "
	                     "ssh_user, ssh_port, ssh_key, known_hosts, node_ssh_port, dir, "
	                     "rate_gpu_hour, rates.TYPE, rate_cpu_hour, poll_interval, "
	                     "offers_refresh, requeue)");
}

int slurm_conf_parse(const struct kvlist *settings, const struct kvlist *pos, const char *prov,
                     struct slurm_conf *c, char **cause)
{
	struct settings_ctx x = {pos, prov, cause};

	memset(c, 0, sizeof *c);
	c->ssh_port = 22;
	c->node_ssh_port = 22;
	c->poll_ms = 2000;
	c->offers_refresh_s = 30;
	c->requeue = 1;
	for (size_t i = 0; i < settings->n; i++) {
		if (slurm_conf_key(&x, settings->keys[i], settings->vals[i], c) != 0) {
			slurm_conf_free(c);
			return -1;
		}
	}
	if (c->url == NULL) {
		xcause(cause, "%s: provider '%s' needs url (slurmrestd's base URL)", prov, prov);
		slurm_conf_free(c);
		return -1;
	}
	if (c->token_setting == NULL) {
		xcause(cause,
		       "%s: provider '%s' needs token_file (a 0600 file holding the JWT), "
		       "token_env (an environment variable) or token_command (\"scontrol token\")",
		       prov, prov);
		slurm_conf_free(c);
		return -1;
	}
	if (c->login == NULL) {
		xcause(cause,
		       "%s: provider '%s' needs login (the login node Gantry reaches over SSH for "
		       "job directories and logs)",
		       prov, prov);
		slurm_conf_free(c);
		return -1;
	}
	if (c->api_version == NULL)
		c->api_version = xstrdup(SLURM_API_DEFAULT_VERSION);
	if (c->user == NULL) {
		struct passwd *pw = getpwuid(geteuid());

		c->user = xstrdup(pw != NULL && pw->pw_name != NULL ? pw->pw_name : "root");
	}
	if (c->dir == NULL)
		c->dir = xstrdup(".gantry-slurm");
	return 0;
}

void slurm_conf_free(struct slurm_conf *c)
{
	free(c->url);
	free(c->api_version);
	free(c->user);
	free(c->token_setting);
	free(c->token_command);
	free(c->partition);
	free(c->account);
	free(c->qos);
	free(c->login);
	free(c->ssh_user);
	free(c->ssh_key);
	free(c->known_hosts);
	free(c->dir);
	for (size_t i = 0; i < c->ngpu_rates; i++)
		free((char *)c->gpu_rates[i].gpu_type);
	free(c->gpu_rates);
	memset(c, 0, sizeof *c);
}
