/* ssh_dyn.c: the ssh provider's dynamic hosts (providers/ssh.h): added and removed at run
 * time by a provider that creates machines (a cloud), each with its own known_hosts file. */
#include <stdlib.h>
#include <string.h>

#include "core/async.h"
#include "core/xmalloc.h"
#include "providers/ssh.h"
#include "providers/ssh_internal.h"

static int sshp_dyn_name_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 253)
		return 0;
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] ==
	       '\0';
}

static int sshp_dyn_text_ok(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

void sshp_dyn_free(struct sshp_host *h)
{
	struct ssh_conf_host *c = h->dyn_conf;

	if (c != NULL) {
		free(c->name);
		free(c->address);
		free(c->user);
		free(c->key);
		free(c->dir);
		free(c->gpu_type);
		kvlist_free(&c->labels);
		free(c);
	}
	free(h->dyn_known_hosts);
	h->dyn_conf = NULL;
	h->dyn_known_hosts = NULL;
}

/* The connection of a dynamic host: its own address, user, key and known_hosts; no jump. */
static void sshp_dyn_conn_init(struct ssh_hosts_conn *conn, struct provider *p, struct sshp_host *h,
                               int tofu)
{
	const struct ssh_conf_host *c = h->conf;

	memset(conn, 0, sizeof *conn);
	conn->name = c->name;
	conn->target.host = c->address;
	conn->target.port = c->port;
	conn->target.user = c->user != NULL ? c->user : p->conf.user;
	conn->target.key_file = c->key != NULL ? c->key : p->conf.key;
	conn->target.known_hosts =
	    h->dyn_known_hosts != NULL ? h->dyn_known_hosts : p->conf.known_hosts;
	/* an unknown key is recorded (Gantry made the machine); a changed one is refused */
	conn->target.accept_new = tofu;
	conn->target.connect_timeout_ms = p->conf.connect_timeout_ms;
	conn->target.io_timeout_ms = p->conf.io_timeout_ms;
}

int ssh_provider_host_add(struct provider *p, const struct ssh_dyn_host *d, char **cause)
{
	struct ssh_conf_host *c;
	struct sshp_host *h;

	if (p->closing)
		return xcause(cause, "the ssh provider %s is closing", p->name);
	if (!sshp_dyn_name_ok(d->name))
		return xcause(cause, "%s: not a host name (letters, digits, '.', '_', '-')",
		              p->name);
	if (sshp_host_index(p, d->name, strlen(d->name)) >= 0)
		return xcause(cause, "%s: host %s is already there", p->name, d->name);
	if (d->address == NULL || *d->address == '\0' || !sshp_dyn_text_ok(d->address) ||
	    !sshp_dyn_text_ok(d->user) || !sshp_dyn_text_ok(d->gpu_type) ||
	    !sshp_dyn_text_ok(d->dir))
		return xcause(cause, "%s: host %s needs an address (and no control characters)",
		              p->name, d->name);
	if (d->port < 0 || d->port > 65535 || d->gpus < 0)
		return xcause(cause, "%s: host %s: bad port or GPU count", p->name, d->name);
	c = xcalloc(1, sizeof *c);
	c->name = xstrdup(d->name);
	c->address = xstrdup(d->address);
	c->port = d->port > 0 ? d->port : 22;
	c->user = d->user != NULL ? xstrdup(d->user) : NULL;
	c->key = d->key_file != NULL ? xstrdup(d->key_file) : NULL;
	c->dir = xstrdup(d->dir != NULL ? d->dir : p->conf.dir);
	c->gpus = d->gpus;
	c->gpu_type = d->gpu_type != NULL ? xstrdup(d->gpu_type) : NULL;
	kvlist_init(&c->labels);
	h = xcalloc(1, sizeof *h);
	h->p = p;
	h->idx = p->nhosts;
	h->conf = h->dyn_conf = c;
	h->dyn_known_hosts = d->known_hosts != NULL ? xstrdup(d->known_hosts) : NULL;
	h->health = -1;
	sshp_dyn_conn_init(&h->conn, p, h, d->tofu_first);
	sshp_dyn_conn_init(&h->hconn, p, h, d->tofu_first);
	h->status_cmd1 = ssh_remote_command(c->dir, "1", NULL);
	h->status_cmd2 = ssh_remote_command(c->dir, "2", NULL);
	p->hosts = xreallocarray(p->hosts, p->nhosts + 1, sizeof *p->hosts);
	p->hosts[p->nhosts++] = h;
	return 0;
}

int ssh_provider_host_remove(struct provider *p, const char *name, char **cause)
{
	int i = name != NULL ? sshp_host_index(p, name, strlen(name)) : -1;
	struct sshp_host *h;

	if (i < 0)
		return xcause(cause, "%s: no host called %s", p->name, name != NULL ? name : "");
	h = p->hosts[i];
	h->removed = 1;
	/* idle queues go now (nothing to wait for); busy ones answer their operations on the
	 * loop and go at close, so removing never blocks the loop on a slow host */
	if (h->q != NULL && async_queue_pending(h->q) == 0) {
		async_queue_free(h->q);
		h->q = NULL;
		ssh_hosts_conn_close(&h->conn);
	}
	if (h->hq != NULL && async_queue_pending(h->hq) == 0) {
		async_queue_free(h->hq);
		h->hq = NULL;
		ssh_hosts_conn_close(&h->hconn);
	}
	/* nobody waits for a fresh snapshot of a host that is gone */
	sshp_waiters_host_done(p, (size_t)i);
	return 0;
}
