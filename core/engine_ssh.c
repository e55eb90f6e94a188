/* engine_ssh.c: port forwards and host health, for both faces (shells: engine_session.c).
 * A forward is an ssh_forward (its own thread and session) watched from the loop through
 * its notify descriptor, or a provider's own channel (provider_ops.channel_open) reporting
 * through its callback; forwards of a job close when the job ends. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/engine_audit.h"
#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/engine_remote_session.h"
#include "core/engine_session.h"
#include "core/safefile.h"
#include "core/ssh_forward.h"
#include "core/xmalloc.h"

struct engine_fwd {
	struct engine *e;
	int id;
	char *job_id;
	char *job_name;
	char *host_name;
	char *url_path; /* path of the job's URL ("/" or "/lab"), or NULL */
	int remote_port;
	struct ssh_forward *f;      /* an SSH forward, or */
	struct engine_provider *ep; /* the provider whose channel ch is */
	struct provider_channel *ch;
	int ch_local_port; /* the channel's bound port once up */
	int ch_up, ch_dead;
	int opening; /* inside channel_open: events are reported after it returns */
	struct engine_conn_error ch_err;
	int notify_fd;
	struct loop_fd *watch;
	engine_forward_cb cb; /* until it reported up or failed */
	void *cb_arg;
	int reported_up;
	uint64_t refused_seen; /* refusals already reported (engine_fwd_refusals) */
};

void engine_forward_info_clear(struct engine_forward_info *f)
{
	free(f->job_id);
	free(f->job_name);
	free(f->host_name);
	free(f->url);
	free(f->error);
	memset(f, 0, sizeof *f);
}

void engine_forwards_free(struct engine_forward_info *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		engine_forward_info_clear(&f[i]);
	free(f);
}

/* Finds the job by id or name. */
static int engine_ssh_job(struct engine *e, const char *job_ref, struct job *j,
                          struct engine_provider **ep, char **cause)
{
	if (engine_job(e, job_ref, j, cause) != 0)
		return -1;
	*ep = engine_find_provider(e, j->provider);
	if (*ep == NULL || (*ep)->p == NULL)
		return xcause(cause, "provider '%s' of job %s is not configured", j->provider,
		              j->name);
	if (j->provider_ref == NULL)
		return xcause(cause, "job %s has no resources yet (%s)", j->name,
		              job_state_name(j->state));
	return 0;
}

static struct engine_fwd *engine_fwd_find(struct engine *e, int id, size_t *idx)
{
	for (size_t i = 0; i < e->nfwds; i++)
		if (e->fwds[i]->id == id) {
			if (idx != NULL)
				*idx = i;
			return e->fwds[i];
		}
	return NULL;
}

static void engine_fwd_free(struct engine_fwd *fw)
{
	if (fw->watch != NULL)
		loop_fd_remove(fw->e->loop, fw->watch);
	if (fw->f != NULL)
		ssh_forward_stop(fw->f); /* closes notify_fd */
	if (fw->ch != NULL && fw->ep->ops->channel_close != NULL)
		fw->ep->ops->channel_close(fw->ep->p, fw->ch);
	free(fw->job_id);
	free(fw->job_name);
	free(fw->host_name);
	free(fw->url_path);
	free(fw);
}

/* Removes the forward from the list and frees it. */
static void engine_fwd_drop(struct engine *e, int id)
{
	size_t i;
	struct engine_fwd *fw = engine_fwd_find(e, id, &i);

	if (fw == NULL)
		return;
	memmove(&e->fwds[i], &e->fwds[i + 1], (e->nfwds - i - 1) * sizeof *e->fwds);
	e->nfwds--;
	engine_fwd_free(fw);
}

static void engine_fwd_event(struct engine *e, const char *msg)
{
	struct engine_event ev = {.type = ENGINE_EV_FORWARDS, .message = msg};

	engine_emit(e, &ev);
}

/* A forward came up (reported once) or died (dropped: fw is gone afterwards). */
static void engine_fwd_report(struct engine_fwd *fw, int up, int dead, int local_port,
                              const struct engine_conn_error *err)
{
	struct engine *e = fw->e;
	char *msg;
	int id = fw->id;

	if (dead) {
		engine_forward_cb cb = fw->cb;
		void *cb_arg = fw->cb_arg;

		msg = xprintf("forward %s:%d closed: %s", fw->job_name, fw->remote_port, err->msg);
		fw->cb = NULL;
		engine_fwd_drop(e, id); /* fw is gone */
		if (cb != NULL)
			cb(cb_arg, id, -1, err);
		engine_fwd_event(e, msg);
		free(msg);
		return;
	}
	if (up && !fw->reported_up) {
		fw->reported_up = 1;
		msg =
		    xprintf("forward 127.0.0.1:%d -> %s:%d is up", local_port,
		            fw->host_name != NULL ? fw->host_name : fw->job_name, fw->remote_port);
		engine_fwd_event(e, msg); /* first: the requester's own message comes last */
		free(msg);
		if (fw->cb != NULL) {
			engine_forward_cb cb = fw->cb;

			fw->cb = NULL;
			cb(fw->cb_arg, id, 0, NULL);
		}
	}
}

/* Connections the listener refused since the last look (their peer was not the forward's
 * owner: core/peeruid.h): one message each time, for the faces and gantryd's log. */
static void engine_fwd_refusals(struct engine_fwd *fw, int local_port, uint64_t refused, uid_t uid)
{
	char *msg;

	if (refused <= fw->refused_seen)
		return;
	if (uid == (uid_t)-1)
		msg = xprintf("forward 127.0.0.1:%d (job %s): connection from an unknown user "
		              "refused (%llu refused so far)",
		              local_port, fw->job_name, (unsigned long long)refused);
	else
		msg = xprintf("forward 127.0.0.1:%d (job %s): connection from uid %ld refused "
		              "(%llu refused so far)",
		              local_port, fw->job_name, (long)uid, (unsigned long long)refused);
	fw->refused_seen = refused;
	engine_fwd_event(fw->e, msg);
	free(msg);
}

static void engine_fwd_on_notify(int fd, short revents, void *arg)
{
	struct engine_fwd *fw = arg;
	struct ssh_forward_info info;
	struct engine_conn_error cerr;
	char buf[64];

	(void)revents;
	while (read(fd, buf, sizeof buf) > 0)
		;
	ssh_forward_info(fw->f, &info);
	engine_fwd_refusals(fw, info.local_port, info.refused, info.refused_uid);
	engine_conn_error_from_ssh(&cerr, &info.err);
	engine_fwd_report(fw, info.up, info.dead, info.local_port, &cerr);
}

/* A provider channel's event (provider_ops.channel_open, FORWARD). */
static void engine_fwd_on_channel(void *arg, const struct provider_channel_event *ev)
{
	struct engine_fwd *fw = arg;

	if (ev->state == PROVIDER_CHANNEL_UP) {
		fw->ch_up = 1;
		fw->ch_local_port = ev->local_port;
		if (!fw->opening)
			engine_fwd_report(fw, 1, 0, ev->local_port, NULL);
		return;
	}
	fw->ch_dead = 1;
	memset(&fw->ch_err, 0, sizeof fw->ch_err);
	fw->ch_err.code = ENGINE_CONN_CLOSED;
	snprintf(fw->ch_err.msg, sizeof fw->ch_err.msg, "%s",
	         ev->cause != NULL ? ev->cause : "the channel closed");
	if (fw->opening) /* still in channel_open: engine_forward_open reports */
		return;
	engine_fwd_report(fw, 0, 1, 0, &fw->ch_err);
}

/* The path part of a job URL ("http://h:p/lab?x" -> "/lab?x"), or NULL. */
static char *engine_url_path(const char *url)
{
	const char *p;

	if (url == NULL || (p = strstr(url, "://")) == NULL)
		return NULL;
	p = strchr(p + 3, '/');
	return xstrdup(p != NULL ? p : "/");
}

static struct engine_fwd *engine_fwd_new(struct engine *e, const struct job *j,
                                         const char *host_name, int remote_port,
                                         engine_forward_cb cb, void *arg)
{
	struct engine_fwd *fw = xcalloc(1, sizeof *fw);

	fw->e = e;
	fw->notify_fd = -1;
	fw->job_id = xstrdup(j->id);
	fw->job_name = xstrdup(j->name);
	fw->host_name = host_name != NULL ? xstrdup(host_name) : NULL;
	fw->url_path = remote_port == j->port ? engine_url_path(j->url) : NULL;
	fw->remote_port = remote_port;
	fw->cb = cb;
	fw->cb_arg = arg;
	return fw;
}

static void engine_fwd_add(struct engine *e, struct engine_fwd *fw)
{
	fw->id = ++e->next_fwd_id;
	e->fwds = xreallocarray(e->fwds, e->nfwds + 1, sizeof *e->fwds);
	e->fwds[e->nfwds++] = fw;
}

/* A forward on the loopback serves its owner only (the actor: this process's user, or
 * gantryd's client); one bound elsewhere on purpose (--bind) is for the network. */
static int engine_fwd_owner_only(const char *bind_addr)
{
	return bind_addr == NULL || *bind_addr == '\0' || strncmp(bind_addr, "127.", 4) == 0 ||
	       strcmp(bind_addr, "::1") == 0 || strcmp(bind_addr, "localhost") == 0;
}

/* Through the provider's own channel (provider_ops.channel_open). */
static int engine_fwd_open_channel(struct engine *e, struct engine_provider *ep,
                                   const struct job *j, int remote_port, int local_port,
                                   const char *bind_addr, int accept_new, engine_forward_cb cb,
                                   void *arg, int *id, char **cause)
{
	struct engine_fwd *fw = engine_fwd_new(e, j, NULL, remote_port, cb, arg);
	struct provider_channel_io pio;

	memset(&pio, 0, sizeof pio);
	pio.bind_addr = bind_addr;
	pio.local_port = local_port;
	pio.accept_new = accept_new;
	pio.owner_only = engine_fwd_owner_only(bind_addr);
	pio.owner_uid = engine_actor(e)->uid;
	fw->ep = ep;
	fw->opening = 1;
	if (ep->ops->channel_open(ep->p, j->provider_ref, 0, PROVIDER_CHANNEL_FORWARD, remote_port,
	                          &pio, engine_fwd_on_channel, fw, &fw->ch, cause) != 0) {
		fw->ch = NULL;
		engine_fwd_free(fw);
		return -1;
	}
	fw->opening = 0;
	engine_fwd_add(e, fw);
	*id = fw->id;
	/* what arrived while channel_open ran */
	if (fw->ch_dead)
		engine_fwd_report(fw, 0, 1, 0, &fw->ch_err);
	else if (fw->ch_up)
		engine_fwd_report(fw, 1, 0, fw->ch_local_port, NULL);
	return 0;
}

int engine_forward_open(struct engine *e, const char *job_ref, int remote_port, int local_port,
                        const char *bind_addr, int accept_new, engine_forward_cb cb, void *arg,
                        int *id, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_forward_open(e, job_ref, remote_port, local_port, bind_addr,
		                                  accept_new, cb, arg, id, cause);
	struct job j;
	struct engine_provider *ep;
	struct provider_shell ps;
	struct ssh_forward_opts o;
	struct ssh_error err;
	struct engine_fwd *fw;
	int rc = -1;

	job_init(&j);
	memset(&ps, 0, sizeof ps);
	if (engine_ssh_job(e, job_ref, &j, &ep, cause) != 0)
		goto out;
	if (!job_state_active(j.state)) {
		xcause(cause, "job %s has ended (%s): nothing to forward to", j.name,
		       job_state_name(j.state));
		goto out;
	}
	if (remote_port <= 0)
		remote_port = j.port;
	if (remote_port <= 0) {
		xcause(cause, "job %s has no port; name one (gantry forward %s PORT)", j.name,
		       j.name);
		goto out;
	}
	if (ep->ops->channel_open != NULL) {
		rc = engine_fwd_open_channel(e, ep, &j, remote_port, local_port, bind_addr,
		                             accept_new, cb, arg, id, cause);
		goto out;
	}
	if (ep->ops->target == NULL) {
		xcause(cause, "forwards are not supported by provider %s", ep->name);
		goto out;
	}
	if (engine_session_target(e, j.id, 0, &ps, cause) != 0)
		goto out;
	if (ps.local) {
		xcause(cause, "job %s runs on this host: open %s directly", j.name,
		       j.url != NULL ? j.url : "its port on 127.0.0.1");
		goto out;
	}
	ps.target.accept_new = accept_new;
	memset(&o, 0, sizeof o);
	o.target = &ps.target;
	o.remote_host = "127.0.0.1";
	o.remote_port = remote_port;
	o.bind_addr = bind_addr;
	o.local_port = local_port;
	o.owner_only = engine_fwd_owner_only(bind_addr);
	o.owner_uid = engine_actor(e)->uid;
	fw = engine_fwd_new(e, &j, ps.host_name, remote_port, cb, arg);
	if (ssh_forward_start(&o, &fw->f, &fw->notify_fd, &err) != 0) {
		xcause(cause, "%s", err.msg);
		fw->f = NULL;
		engine_fwd_free(fw);
		goto out;
	}
	fw->watch = loop_fd_add(e->loop, fw->notify_fd, POLLIN, engine_fwd_on_notify, fw);
	engine_fwd_add(e, fw);
	*id = fw->id;
	rc = 0;
out:
	if (j.id != NULL) /* issue 12: audited, opened or not */
		engine_audit_forward(e, &j, remote_port, local_port, bind_addr, rc, cause);
	provider_shell_clear(&ps);
	job_clear(&j);
	return rc;
}

void engine_forward_close(struct engine *e, int id)
{
	if (engine_is_remote(e)) {
		engine_remote_forward_close(e, id);
		return;
	}
	engine_fwd_drop(e, id);
}

size_t engine_forwards(struct engine *e, struct engine_forward_info **out)
{
	if (engine_is_remote(e))
		return engine_remote_forwards(e, out);
	struct engine_forward_info *v = xcalloc(e->nfwds + 1, sizeof *v);

	for (size_t i = 0; i < e->nfwds; i++) {
		struct engine_fwd *fw = e->fwds[i];
		struct ssh_forward_info info;
		char *tok;

		memset(&info, 0, sizeof info);
		if (fw->f != NULL) {
			ssh_forward_info(fw->f, &info);
		} else {
			info.local_port = fw->ch_local_port;
			info.up = fw->ch_up;
			info.dead = fw->ch_dead;
		}
		v[i].id = fw->id;
		v[i].job_id = xstrdup(fw->job_id);
		v[i].job_name = xstrdup(fw->job_name);
		v[i].host_name = fw->host_name != NULL ? xstrdup(fw->host_name) : NULL;
		v[i].remote_port = fw->remote_port;
		v[i].local_port = info.local_port;
		tok = fw->url_path != NULL ? engine_job_token(e, fw->job_id) : NULL;
		if (tok != NULL)
			v[i].url =
			    xprintf("http://127.0.0.1:%d%s%stoken=%s", info.local_port,
			            fw->url_path, strchr(fw->url_path, '?') ? "&" : "?", tok);
		else
			v[i].url = xprintf("http://127.0.0.1:%d%s", info.local_port,
			                   fw->url_path != NULL ? fw->url_path : "/");
		free(tok);
		v[i].up = info.up;
		v[i].dead = info.dead;
		engine_conn_error_from_ssh(&v[i].err, &info.err);
		v[i].error = info.err.msg[0] != '\0' ? xstrdup(info.err.msg) : NULL;
		v[i].active = info.active;
		v[i].connections = info.connections;
		v[i].bytes_up = info.bytes_up;
		v[i].bytes_down = info.bytes_down;
		v[i].refused = info.refused;
	}
	*out = v;
	return e->nfwds;
}

/* Closes the forwards of a job that ended (called from engine_emit_state). */
void engine_forwards_job_ended(struct engine *e, const char *job_id)
{
	for (size_t i = 0; i < e->nfwds;) {
		struct engine_fwd *fw = e->fwds[i];

		if (strcmp(fw->job_id, job_id) == 0) {
			char *msg = xprintf("forward %s:%d closed: the job ended", fw->job_name,
			                    fw->remote_port);
			engine_forward_cb cb = fw->cb;
			void *cb_arg = fw->cb_arg;
			int id = fw->id;
			struct engine_conn_error err;

			engine_fwd_drop(e, id);
			if (cb != NULL) {
				memset(&err, 0, sizeof err);
				err.code = ENGINE_CONN_CLOSED;
				snprintf(err.msg, sizeof err.msg, "the job ended");
				cb(cb_arg, id, -1, &err);
			}
			engine_fwd_event(e, msg);
			free(msg);
			continue;
		}
		i++;
	}
}

void engine_forwards_check(struct engine *e)
{
	for (size_t i = 0; i < e->nfwds; i++) {
		struct job j;
		int ended;

		job_init(&j);
		ended = store_job_get(e->store, e->fwds[i]->job_id, &j, NULL) == 0 &&
		        !job_state_active(j.state);
		job_clear(&j);
		if (ended) {
			engine_forwards_job_ended(e, e->fwds[i]->job_id);
			i = (size_t)-1; /* the list changed: start over */
		}
	}
}

void engine_forwards_close_all(struct engine *e)
{
	while (e->nfwds > 0)
		engine_fwd_drop(e, e->fwds[0]->id);
	free(e->fwds);
	e->fwds = NULL;
}

int engine_hosts(struct engine *e, const char *job_ref, struct tele_host **out, size_t *n,
                 char **cause)
{
	if (engine_is_remote(e))
		return *out = NULL, *n = 0, engine_remote_unavailable_op(e, "hosts", cause);
	struct tele_host *all = NULL;
	size_t nall = 0;

	*out = NULL;
	*n = 0;
	if (job_ref != NULL) {
		struct job j;
		struct engine_provider *ep;
		int rc = 0;

		job_init(&j);
		if (engine_ssh_job(e, job_ref, &j, &ep, cause) != 0) {
			job_clear(&j);
			return -1;
		}
		if (ep->ops->hosts != NULL)
			rc = ep->ops->hosts(ep->p, j.provider_ref, out, n);
		job_clear(&j);
		return rc;
	}
	for (size_t i = 0; i < e->nprovs; i++) {
		struct tele_host *h = NULL;
		size_t nh = 0;

		if (e->provs[i].p == NULL || e->provs[i].ops->hosts == NULL)
			continue;
		if (e->provs[i].ops->hosts(e->provs[i].p, NULL, &h, &nh) != 0 || nh == 0) {
			free(h);
			continue;
		}
		all = xreallocarray(all, nall + nh, sizeof *all);
		memcpy(&all[nall], h, nh * sizeof *h);
		nall += nh;
		free(h);
	}
	*out = all;
	*n = nall;
	return 0;
}

/* --- interactive sessions: marks under state/sessions (autostop counts them) --- */

char *engine_session_begin(struct engine *e, const char *job_id)
{
	if (engine_is_remote(e))
		return NULL;
	char *dir = xprintf("%s/sessions", e->cfg.state_dir);
	char *path = NULL;
	int fd;

	if (config_mkdirs(dir, NULL) == 0 && safefile_trust_dir(dir, NULL) == 0) {
		path = xprintf("%s/%s.%ld", dir, job_id, (long)getpid());
		fd = safefile_create(path, O_WRONLY, 0600, NULL);
		if (fd < 0 && errno == EEXIST && unlink(path) == 0) /* a dead process's pid */
			fd = safefile_create(path, O_WRONLY, 0600, NULL);
		if (fd >= 0)
			close(fd);
	}
	free(dir);
	return path;
}

void engine_session_end(char *mark)
{
	if (mark != NULL)
		unlink(mark);
	free(mark);
}

int engine_job_sessions(struct engine *e, const char *job_id)
{
	if (engine_is_remote(e))
		return 0;
	char *dir = xprintf("%s/sessions", e->cfg.state_dir);
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = strlen(job_id);
	int count = 0;

	free(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		long pid;
		char *end;

		if (strncmp(de->d_name, job_id, n) != 0 || de->d_name[n] != '.')
			continue;
		pid = strtol(de->d_name + n + 1, &end, 10);
		if (*end == '\0' && pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
			count++;
	}
	closedir(d);
	return count;
}
