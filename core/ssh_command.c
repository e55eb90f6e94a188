/* ssh_command.c: the OpenSSH command line equivalent to a target, and target labels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ssh.h"
#include "core/xmalloc.h"

struct ssh_argv {
	char *s;
	size_t len, cap;
};

static void ssh_argv_raw(struct ssh_argv *a, const char *text)
{
	size_t n = strlen(text);

	if (a->len + n + 2 > a->cap) {
		while (a->len + n + 2 > a->cap)
			a->cap = a->cap < 128 ? 128 : a->cap * 2;
		a->s = xrealloc(a->s, a->cap);
	}
	if (a->len > 0)
		a->s[a->len++] = ' ';
	memcpy(a->s + a->len, text, n + 1);
	a->len += n;
}

/* text quoted for a POSIX shell: as is when it is only safe characters, else in single
 * quotes (heap). */
static char *ssh_quote(const char *text)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                           "0123456789_@%+=:,./-";
	size_t n = 0, i;
	const char *p;
	char *out;

	if (*text != '\0' && strspn(text, safe) == strlen(text))
		return xstrdup(text);
	for (p = text; *p != '\0'; p++)
		n += *p == '\'' ? 4 : 1;
	out = xmalloc(n + 3);
	i = 0;
	out[i++] = '\'';
	for (p = text; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(out + i, "'\\''", 4);
			i += 4;
		} else {
			out[i++] = *p;
		}
	}
	out[i++] = '\'';
	out[i] = '\0';
	return out;
}

static void ssh_argv_add(struct ssh_argv *a, const char *arg)
{
	char *q = ssh_quote(arg);

	ssh_argv_raw(a, q);
	free(q);
}

/* "KEY=value" as one quoted argument. */
static void ssh_argv_addkv(struct ssh_argv *a, const char *key, const char *v)
{
	char *s = xprintf("%s=%s", key, v);

	ssh_argv_add(a, s);
	free(s);
}

/* text with '%' doubled n times: ssh expands %-tokens in IdentityFile, UserKnownHostsFile and
 * ProxyCommand, once per ssh that reads it (heap). */
static char *ssh_percent(const char *text, int n)
{
	char *cur = xstrdup(text), *out, *o;
	const char *p;

	for (; n > 0; n--) {
		out = xmalloc(strlen(cur) * 2 + 1);
		for (p = cur, o = out; *p != '\0'; p++) {
			if (*p == '%')
				*o++ = '%';
			*o++ = *p;
		}
		*o = '\0';
		free(cur);
		cur = out;
	}
	return cur;
}

/* text as one ssh_config argument: double-quoted with \" and \\ escaped when it holds
 * blanks or quotes (heap). */
static char *ssh_cfgquote(const char *text)
{
	char *out, *o;

	if (strpbrk(text, " \t\"'\\") == NULL)
		return xstrdup(text);
	out = xmalloc(strlen(text) * 2 + 3);
	o = out;
	*o++ = '"';
	for (; *text != '\0'; text++) {
		if (*text == '"' || *text == '\\')
			*o++ = '\\';
		*o++ = *text;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

/* "user@host" or "host" (heap). */
static char *ssh_destination(const struct ssh_target *t)
{
	if (t->user != NULL)
		return xprintf("%s@%s", t->user, t->host);
	return xstrdup(t->host);
}

/* -p, -i, IdentitiesOnly, UserKnownHostsFile, StrictHostKeyChecking of t, for an ssh whose
 * command line is itself read by `outer` more ssh's (1 inside a ProxyCommand). */
static void ssh_argv_options(struct ssh_argv *a, const struct ssh_target *t, int outer)
{
	char port[16], *v, *w;

	if (t->port > 0 && t->port != 22) {
		snprintf(port, sizeof port, "%d", t->port);
		ssh_argv_raw(a, "-p");
		ssh_argv_raw(a, port);
	}
	if (t->key_file != NULL && strchr(t->key_file, '%') == NULL) {
		v = ssh_percent(t->key_file, outer);
		ssh_argv_raw(a, "-i");
		ssh_argv_add(a, v);
		free(v);
	} else if (t->key_file != NULL) {
		/* ssh -i looks for the literal name first; the option expands %% */
		v = ssh_percent(t->key_file, outer + 1);
		w = ssh_cfgquote(v);
		ssh_argv_raw(a, "-o");
		ssh_argv_addkv(a, "IdentityFile", w);
		free(w);
		free(v);
	}
	if (t->key_file != NULL) {
		ssh_argv_raw(a, "-o");
		ssh_argv_raw(a, "IdentitiesOnly=yes");
	}
	if (t->known_hosts != NULL) {
		/* a list of files separated by blanks: one with a blank is quoted */
		v = ssh_percent(t->known_hosts, outer + 1);
		w = ssh_cfgquote(v);
		ssh_argv_raw(a, "-o");
		ssh_argv_addkv(a, "UserKnownHostsFile", w);
		free(w);
		free(v);
	}
	ssh_argv_raw(a, "-o");
	ssh_argv_raw(a, "StrictHostKeyChecking=yes");
}

char *ssh_print_command(const struct ssh_target *t, const char *remote_cmd, int tty)
{
	const struct ssh_target *j = t->jump;
	struct ssh_argv a = {0}, pc = {0};
	char *dest, *v;

	ssh_argv_raw(&a, "ssh");
	ssh_argv_options(&a, t, 0);
	if (j != NULL && j->key_file == NULL && j->known_hosts == NULL) {
		dest = ssh_destination(j);
		v = j->port > 0 && j->port != 22 ? xprintf("%s:%d", dest, j->port) : xstrdup(dest);
		ssh_argv_raw(&a, "-J");
		ssh_argv_add(&a, v);
		free(v);
		free(dest);
	} else if (j != NULL) {
		/* -J takes no per-hop options: the jump's own ssh as a ProxyCommand */
		ssh_argv_raw(&pc, "ssh");
		ssh_argv_options(&pc, j, 1);
		ssh_argv_raw(&pc, "-W");
		ssh_argv_raw(&pc, "%h:%p");
		dest = ssh_destination(j);
		v = ssh_percent(dest, 1);
		ssh_argv_add(&pc, v);
		free(v);
		free(dest);
		ssh_argv_raw(&a, "-o");
		ssh_argv_addkv(&a, "ProxyCommand", pc.s);
		free(pc.s);
	}
	if (tty)
		ssh_argv_raw(&a, "-t");
	dest = ssh_destination(t);
	ssh_argv_add(&a, dest);
	free(dest);
	if (remote_cmd != NULL)
		ssh_argv_add(&a, remote_cmd);
	return a.s;
}

char *ssh_target_label(const struct ssh_target *t)
{
	int port = t->port > 0 ? t->port : 22;

	if (t->user != NULL)
		return xprintf("%s@%s:%d", t->user, t->host, port);
	return xprintf("%s:%d", t->host, port);
}
