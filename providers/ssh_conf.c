/* ssh_conf.c: the `ssh` provider's settings (flattened config.yaml keys, see providers/ssh.c).
 * Every key is checked; an unknown key or a bad value fails with "FILE:LINE:COL: reason". */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/settings.h"
#include "core/xmalloc.h"
#include "providers/ssh_internal.h"

#define SSH_CONF_MAX_HOSTS 4096

/* "~/x" -> "$HOME/x" for local key and known_hosts paths. */
static int ssh_conf_path(struct settings_ctx *x, const char *key, const char *v, char **out)
{
	const char *home = getenv("HOME");

	if (settings_text(x, key, v, out) != 0)
		return -1;
	if (strncmp(v, "~/", 2) == 0 && home != NULL) {
		free(*out);
		*out = xprintf("%s/%s", home, v + 2);
	}
	return 0;
}

static int ssh_conf_name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 64 || *s == '.' || *s == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* A remote directory: any path without control characters or "..". */
static int ssh_conf_dir(struct settings_ctx *x, const char *key, const char *v, char **out)
{
	if (settings_text(x, key, v, out) != 0)
		return -1;
	if (strstr(v, "..") != NULL)
		return settings_fail(x, key, "'..' is not allowed in a remote directory");
	if (strncmp(v, "~/", 2) == 0) {
		free(*out);
		*out = xstrdup(v + 2);
	}
	return 0;
}

/* hosts.N.FIELD */
static int ssh_conf_host_key(struct settings_ctx *x, struct ssh_conf *c, const char *key,
                             const char *v)
{
	const char *p = key + 6, *field;
	char *end;
	long i;
	struct ssh_conf_host *h;

	if (!isdigit((unsigned char)*p))
		return settings_fail(x, key, "expected hosts to be a list of hosts");
	i = strtol(p, &end, 10);
	if (*end != '.' || i < 0 || i >= SSH_CONF_MAX_HOSTS)
		return settings_fail(x, key, "expected a mapping (name, address, ...) per host");
	field = end + 1;
	if ((size_t)i >= c->nhosts) {
		c->hosts = xreallocarray(c->hosts, (size_t)i + 1, sizeof *c->hosts);
		memset(&c->hosts[c->nhosts], 0, ((size_t)i + 1 - c->nhosts) * sizeof *c->hosts);
		for (size_t k = c->nhosts; k <= (size_t)i; k++) {
			c->hosts[k].port = 22;
			c->hosts[k].gpus = -1;
			kvlist_init(&c->hosts[k].labels);
		}
		c->nhosts = (size_t)i + 1;
	}
	h = &c->hosts[i];
	if (strcmp(field, "name") == 0) {
		if (!ssh_conf_name_ok(v))
			return settings_fail(x, key,
			                     "expected a host name of letters, digits, '.', '_' "
			                     "and '-', got '%s'",
			                     v);
		return settings_text(x, key, v, &h->name);
	}
	if (strcmp(field, "address") == 0)
		return settings_text(x, key, v, &h->address);
	if (strcmp(field, "port") == 0)
		return settings_int(x, key, v, 1, 65535, &h->port);
	if (strcmp(field, "user") == 0)
		return settings_text(x, key, v, &h->user);
	if (strcmp(field, "key") == 0)
		return ssh_conf_path(x, key, v, &h->key);
	if (strcmp(field, "dir") == 0)
		return ssh_conf_dir(x, key, v, &h->dir);
	if (strcmp(field, "gpus") == 0)
		return settings_int(x, key, v, 0, 1024, &h->gpus);
	if (strcmp(field, "gpu_type") == 0)
		return settings_text(x, key, v, &h->gpu_type);
	if (strcmp(field, "rate_gpu_hour") == 0) {
		h->has_rate = 1;
		return settings_rate(x, key, v, &h->rate_gpu_hour);
	}
	if (strncmp(field, "labels.", 7) == 0 && field[7] != '\0') {
		kvlist_set(&h->labels, field + 7, v);
		return 0;
	}
	return settings_fail(x, key,
	                     "unknown host setting (known: name, address, port, user, key, dir, "
	                     "gpus, gpu_type, rate_gpu_hour, labels.*)");
}

static int ssh_conf_key(struct settings_ctx *x, struct ssh_conf *c, const char *key, const char *v)
{
	if (strncmp(key, "hosts.", 6) == 0)
		return ssh_conf_host_key(x, c, key, v);
	if (strcmp(key, "user") == 0)
		return settings_text(x, key, v, &c->user);
	if (strcmp(key, "key") == 0)
		return ssh_conf_path(x, key, v, &c->key);
	if (strcmp(key, "known_hosts") == 0)
		return ssh_conf_path(x, key, v, &c->known_hosts);
	if (strcmp(key, "dir") == 0)
		return ssh_conf_dir(x, key, v, &c->dir);
	if (strcmp(key, "connect_timeout_ms") == 0)
		return settings_int(x, key, v, 100, 600000, &c->connect_timeout_ms);
	if (strcmp(key, "io_timeout_ms") == 0)
		return settings_int(x, key, v, 100, 3600000, &c->io_timeout_ms);
	if (strcmp(key, "poll_ms") == 0)
		return settings_int(x, key, v, 0, 3600000, &c->poll_ms);
	if (strcmp(key, "rate_gpu_hour") == 0) {
		c->has_rate_gpu = 1;
		return settings_rate(x, key, v, &c->rate_gpu_hour);
	}
	if (strcmp(key, "rate_cpu_hour") == 0) {
		c->has_rate_cpu = 1;
		return settings_rate(x, key, v, &c->rate_cpu_hour);
	}
	if (strncmp(key, "jump.", 5) == 0) {
		c->has_jump = 1;
		if (strcmp(key + 5, "address") == 0)
			return settings_text(x, key, v, &c->jump_address);
		if (strcmp(key + 5, "port") == 0)
			return settings_int(x, key, v, 1, 65535, &c->jump_port);
		if (strcmp(key + 5, "user") == 0)
			return settings_text(x, key, v, &c->jump_user);
		if (strcmp(key + 5, "key") == 0)
			return ssh_conf_path(x, key, v, &c->jump_key);
		return settings_fail(x, key,
		                     "unknown jump setting (known: address, port, user, key)");
	}
	if (strcmp(key, "hosts") == 0)
		return settings_fail(x, key, "expected a list of hosts");
	if (strcmp(key, "dynamic_hosts") == 0) {
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return settings_fail(x, key, "expected true or false, got '%s'", v);
		c->dynamic_hosts = strcmp(v, "true") == 0;
		return 0;
	}
	return settings_fail(x, key,
	                     "unknown setting (known: user, key, known_hosts, dir, "
	                     "connect_timeout_ms, io_timeout_ms, poll_ms, rate_gpu_hour, "
	                     "rate_cpu_hour, jump.*, hosts, dynamic_hosts)");
}

/* First key of hosts.N (for positions of whole-host errors). */
static const char *ssh_conf_host_anchor(const struct kvlist *s, size_t i, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "hosts.%zu.", i);

	for (size_t k = 0; k < s->n; k++)
		if (strncmp(s->keys[k], buf, n) == 0)
			return s->keys[k];
	buf[n - 1] = '\0';
	return buf;
}

int ssh_conf_parse(const struct kvlist *settings, const struct kvlist *pos, const char *prov,
                   struct ssh_conf *c, char **cause)
{
	struct settings_ctx x = {pos, prov != NULL ? prov : "ssh", cause};
	char buf[64];

	memset(c, 0, sizeof *c);
	c->connect_timeout_ms = 5000;
	c->io_timeout_ms = 20000;
	c->poll_ms = 2000;
	c->jump_port = 22;
	for (size_t i = 0; settings != NULL && i < settings->n; i++) {
		if (ssh_conf_key(&x, c, settings->keys[i], settings->vals[i]) != 0)
			goto fail;
	}
	if (c->has_jump && c->jump_address == NULL) {
		xcause(cause, "%s: jump: an address is required", x.prov);
		goto fail;
	}
	if (c->dir == NULL)
		c->dir = xstrdup(".gantry");
	if (c->nhosts == 0 && !c->dynamic_hosts) {
		xcause(cause, "%s: no hosts configured", x.prov);
		goto fail;
	}
	for (size_t i = 0; i < c->nhosts; i++) {
		struct ssh_conf_host *h = &c->hosts[i];
		const char *anchor = ssh_conf_host_anchor(settings, i, buf, sizeof buf);

		if (h->address == NULL) {
			settings_fail(&x, anchor, "host %zu has no address", i);
			goto fail;
		}
		if (h->name == NULL) {
			if (!ssh_conf_name_ok(h->address)) {
				settings_fail(
				    &x, anchor,
				    "host %zu needs a name (its address '%s' is not usable "
				    "as one)",
				    i, h->address);
				goto fail;
			}
			h->name = xstrdup(h->address);
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(c->hosts[k].name, h->name) == 0) {
				settings_fail(&x, anchor, "host name '%s' is used twice", h->name);
				goto fail;
			}
		}
		if (h->gpus < 0)
			h->gpus = 0;
		if (h->gpu_type == NULL && h->gpus > 0)
			h->gpu_type = xstrdup("H100");
		if (h->dir == NULL)
			h->dir = xstrdup(c->dir);
	}
	return 0;
fail:
	ssh_conf_free(c);
	return -1;
}

void ssh_conf_free(struct ssh_conf *c)
{
	for (size_t i = 0; i < c->nhosts; i++) {
		struct ssh_conf_host *h = &c->hosts[i];

		free(h->name);
		free(h->address);
		free(h->user);
		free(h->key);
		free(h->dir);
		free(h->gpu_type);
		kvlist_free(&h->labels);
	}
	free(c->hosts);
	free(c->user);
	free(c->key);
	free(c->known_hosts);
	free(c->dir);
	free(c->jump_address);
	free(c->jump_user);
	free(c->jump_key);
	memset(c, 0, sizeof *c);
}

int ssh_conf_host_index(const struct ssh_conf *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->nhosts; i++)
		if (strlen(c->hosts[i].name) == len && strncmp(c->hosts[i].name, name, len) == 0)
			return (int)i;
	return -1;
}
