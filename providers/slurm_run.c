/* slurm_run.c: a Slurm job once submitted.
 * - refresh answers from the shared GET /jobs snapshot (slurm_api_state: pending reason,
 *   start and end times, exit status). A job that left the snapshot (older than Slurm's
 *   MinJobAge) is asked for once with GET job/ID; unknown to Slurm, its exit file on the login
 *   node tells how it ended, else it is FAILED "no longer known to Slurm". slurmrestd out of
 *   reach: UNKNOWN with the reason, never FAILED.
 * - A running job's port (notebooks, endpoints) is read from DIR/jobs/ID/port over SSH on the
 *   login node, once it runs.
 * - The login node: one worker thread keeps an SSH session for job directories and small
 *   reads (slurm_login_exec); the job's log is read by an inner ssh provider with the one host
 *   "login" (the ssh provider's log reader, follow mode included).
 * - target: the job's Nth node at node_ssh_port with the login node as jump host;
 *   worker_http: GET on the first node's loopback through the login node. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/async.h"
#include "core/loop.h"
#include "core/safefile.h"
#include "core/xmalloc.h"
#include "providers/slurm_internal.h"
#include "providers/ssh.h"

#define SLURM_LOGIN_MS    30000
#define SLURM_HTTP_MS     5000
#define SLURM_PORT_WAIT_S 120 /* a running job's port file is looked for this long */

/* ---- the login node's exec queue ---- */

struct slurm_lexec {
	struct provider *p;
	char *cmd, *in;
	int timeout_ms;
	slurm_lexec_cb fn;
	void *ctx;
	int rc, status;
	char *out, *cause;
};

static void slurm_login_target(struct provider *p, struct ssh_target *t)
{
	memset(t, 0, sizeof *t);
	t->host = p->conf.login;
	t->port = p->conf.ssh_port;
	t->user = p->conf.ssh_user;
	t->key_file = p->conf.ssh_key;
	t->known_hosts = p->conf.known_hosts;
	t->connect_timeout_ms = 10000;
	t->io_timeout_ms = 30000;
}

static void slurm_lexec_work(void *arg)
{
	struct slurm_lexec *x = arg;

	x->rc = slurm_conn_exec(x->p->lconn, x->cmd, x->in, x->timeout_ms, &x->status, &x->out,
	                        &x->cause);
}

static void slurm_lexec_done(void *arg, int cancelled)
{
	struct slurm_lexec *x = arg;

	if (cancelled)
		x->fn(x->p, x->ctx, -1, 0, NULL, "closed");
	else
		x->fn(x->p, x->ctx, x->rc, x->status, x->out != NULL ? x->out : "",
		      x->cause != NULL ? x->cause : "unreachable");
	if (x->in != NULL) {
		memset(x->in, 0, strlen(x->in));
		free(x->in);
	}
	free(x->cmd);
	free(x->out);
	free(x->cause);
	free(x);
}

void slurm_login_exec(struct provider *p, char *cmd, char *in, int timeout_ms, slurm_lexec_cb fn,
                      void *ctx)
{
	struct slurm_lexec *x;

	if (p->closing) {
		fn(p, ctx, -1, 0, NULL, "closed");
		if (in != NULL) {
			memset(in, 0, strlen(in));
			free(in);
		}
		free(cmd);
		return;
	}
	x = xcalloc(1, sizeof *x);
	x->p = p;
	x->cmd = cmd;
	x->in = in;
	x->timeout_ms = timeout_ms;
	x->fn = fn;
	x->ctx = ctx;
	if (p->lq == NULL) {
		struct ssh_target t;

		slurm_login_target(p, &t);
		p->lconn = slurm_conn_new(&t, NULL, "login");
		p->lq = async_queue_new(p->loop, "slurm-login");
	}
	async_queue_submit(p->lq, slurm_lexec_work, slurm_lexec_done, x);
}

/* ---- the inner ssh provider (logs) ---- */

static void slurm_inner_notify(void *arg, const char *provider, int healthy, const char *message)
{
	(void)arg;
	(void)provider;
	(void)healthy;
	(void)message; /* the login node's health shows in the logs themselves */
}

struct provider *slurm_login_ssh(struct provider *p, char **cause)
{
	struct provider_config ic = {0};
	struct ssh_dyn_host h = {0};
	struct kvlist set, pos;
	char *iname;

	if (p->ssh != NULL)
		return p->ssh;
	if (p->closing) {
		xcause(cause, "%s: closing", p->name);
		return NULL;
	}
	kvlist_init(&set);
	kvlist_init(&pos);
	kvlist_set(&set, "dynamic_hosts", "true");
	if (p->conf.ssh_user != NULL)
		kvlist_set(&set, "user", p->conf.ssh_user);
	if (p->conf.ssh_key != NULL)
		kvlist_set(&set, "key", p->conf.ssh_key);
	if (p->conf.known_hosts != NULL)
		kvlist_set(&set, "known_hosts", p->conf.known_hosts);
	kvlist_set(&set, "dir", p->conf.dir);
	iname = xprintf("%s/login", p->name);
	ic.name = iname;
	ic.state_dir = p->state_dir;
	ic.settings = &set;
	ic.settings_pos = &pos;
	ic.loop = p->loop;
	ic.notify = slurm_inner_notify;
	ic.notify_arg = p;
	ic.installation_id = p->installation_id;
	ic.log_max_bytes = p->log_max_bytes;
	ic.data_dir = p->data_dir;
	h.name = "login";
	h.address = p->conf.login;
	h.port = p->conf.ssh_port;
	h.dir = p->conf.dir;
	if (ssh_provider_ops.open(&ic, &p->ssh, cause) != 0) {
		p->ssh = NULL;
	} else if (ssh_provider_host_add(p->ssh, &h, cause) != 0) {
		ssh_provider_ops.close(p->ssh);
		p->ssh = NULL;
	}
	kvlist_free(&set);
	kvlist_free(&pos);
	free(iname);
	return p->ssh;
}

void slurm_run_close(struct provider *p)
{
	if (p->lq != NULL)
		async_queue_free(p->lq); /* pending execs answer "closed" */
	p->lq = NULL;
	slurm_conn_free(p->lconn);
	p->lconn = NULL;
	if (p->hq != NULL)
		async_queue_free(p->hq);
	p->hq = NULL;
	slurm_conn_free(p->hconn);
	p->hconn = NULL;
	free(p->hconn_host);
	p->hconn_host = NULL;
	if (p->ssh != NULL)
		ssh_provider_ops.close(p->ssh);
	p->ssh = NULL;
	while (p->ports != NULL) {
		struct slurm_port *x = p->ports;

		p->ports = x->next;
		free(x);
	}
	free(p->abs_dir);
	p->abs_dir = NULL;
}

/* ---- STATE/refs: Slurm job id -> Gantry job id ---- */

void slurm_ref_remember(struct provider *p, int64_t id, const char *job_id, int want_port)
{
	char *path = xprintf("%s/refs/%lld", p->state_dir, (long long)id), *why = NULL;
	char *tmp = xprintf("%s.%ld.tmp", path, (long)getpid());
	char *text = xprintf("%s%s\n", job_id, want_port ? " port" : "");
	int fd;

	/* replaced, not kept: a cluster started cold gives out its job ids again */
	unlink(tmp);
	fd = safefile_create(tmp, O_WRONLY, 0600, &why);
	if (fd >= 0) {
		ssize_t n = write(fd, text, strlen(text));

		close(fd);
		if (n != (ssize_t)strlen(text) || rename(tmp, path) != 0)
			unlink(tmp);
	}
	free(text);
	free(why);
	free(tmp);
	free(path);
}

/* The job id (heap) and whether it serves a port, from STATE/refs; NULL when unknown. */
static char *slurm_ref_read(struct provider *p, int64_t id, int *want_port)
{
	char *path = xprintf("%s/refs/%lld", p->state_dir, (long long)id);
	char buf[256];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	*want_port = 0;
	if (fd >= 0)
		close(fd);
	free(path);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	*want_port = strstr(buf, " port") != NULL;
	buf[strcspn(buf, " \n")] = '\0';
	return slurm_id_ok(buf) ? xstrdup(buf) : NULL;
}

void slurm_ref_learn(struct provider *p, int64_t id, const char *job_id)
{
	int want = 0;
	char *known = slurm_ref_read(p, id, &want);

	if (known == NULL || strcmp(known, job_id) != 0)
		slurm_ref_remember(p, id, job_id, 0);
	free(known);
}

char *slurm_ref_job(struct provider *p, int64_t id)
{
	struct slurm_job *j;
	struct slurm_label lb;
	int want;
	char *job = slurm_ref_read(p, id, &want);

	if (job != NULL)
		return job;
	j = slurm_jobs_find(p, id);
	if (j == NULL || j->comment == NULL || slurm_api_label_parse(j->comment, &lb) != 0)
		return NULL;
	job = lb.job_id;
	lb.job_id = NULL;
	slurm_label_clear(&lb);
	if (job != NULL && !slurm_id_ok(job)) {
		free(job);
		job = NULL;
	}
	return job;
}

/* ---- ports ---- */

static struct slurm_port *slurm_port_of(struct provider *p, int64_t id)
{
	struct slurm_port *x;

	for (x = p->ports; x != NULL; x = x->next)
		if (x->id == id)
			return x;
	x = xcalloc(1, sizeof *x);
	x->id = id;
	x->next = p->ports;
	p->ports = x;
	return x;
}

/* ---- refresh ---- */

struct slurm_refresh {
	struct provider *p;
	int64_t id;
	char *job_id;
	int want_port; /* a notebook or endpoint: its port file is read once it runs */
	char *node;    /* its first node (the URL's host) */
	provider_status_cb cb;
	void *arg;
	struct provider_status st;
};

static const char *slurm_node_addr(struct provider *p, const char *name);

static void slurm_refresh_report(struct slurm_refresh *r, int rc, const char *cause)
{
	/* where it serves: its port on its first node, as the ssh provider says of a worker */
	if (rc == 0 && r->st.port > 0 && r->st.url == NULL && r->node != NULL)
		r->st.url = xprintf("http://%s:%d/", slurm_node_addr(r->p, r->node), r->st.port);
	r->cb(r->arg, rc, rc == 0 ? &r->st : NULL, cause);
	free(r->node);
	provider_status_clear(&r->st);
	free(r->job_id);
	free(r);
}

/* The status of j; 1 when the job's port must be read from the login node first. */
static int slurm_status_of(struct slurm_refresh *r, const struct slurm_job *j)
{
	struct provider_status *st = &r->st;
	struct slurm_port *x;
	char *reason = NULL;
	uint64_t now = loop_now_ms();

	provider_status_clear(st);
	st->state = slurm_api_state(j, &reason);
	st->reason = reason;
	if (st->state != JOB_STARTING && j->start_time > 0)
		st->started_ms = j->start_time * 1000;
	if (job_state_terminal(st->state)) {
		if (j->end_time > 0)
			st->ended_ms = j->end_time * 1000;
		st->has_exit = j->has_exit;
		st->exit_code = j->exit_code;
	}
	if (st->state != JOB_RUNNING || !r->want_port || r->job_id == NULL)
		return 0;
	if (r->node == NULL && j->nodes != NULL && *j->nodes != '\0') {
		char **names = NULL;
		size_t n = 0;

		if (slurm_api_hostlist(j->nodes, &names, &n, 4096) >= 0 && n > 0)
			r->node = xstrdup(names[0]);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
	}
	x = slurm_port_of(r->p, j->id);
	st->port = x->port;
	if (x->port > 0 ||
	    (x->tried_mono != 0 && now - x->tried_mono < (uint64_t)r->p->conf.poll_ms))
		return 0;
	if (j->start_time > 0 && loop_wall_ms() / 1000 - j->start_time > SLURM_PORT_WAIT_S &&
	    x->tried_mono != 0)
		return 0; /* it never wrote one */
	x->tried_mono = now;
	return 1;
}

static void slurm_refresh_port(struct provider *p, void *ctx, int rc, int status, const char *out,
                               const char *cause)
{
	struct slurm_refresh *r = ctx;
	struct slurm_port *x = slurm_port_of(p, r->id);
	long v;

	(void)cause;
	if (rc == 0 && status == 0 && out != NULL) {
		v = strtol(out, NULL, 10);
		if (v > 0 && v < 65536)
			x->port = (int)v;
	}
	r->st.port = x->port;
	slurm_refresh_report(r, 0, NULL);
}

/* Reports r, reading the job's port first when it needs one. */
static void slurm_refresh_answer(struct slurm_refresh *r, int need_port)
{
	if (!need_port) {
		slurm_refresh_report(r, 0, NULL);
		return;
	}
	slurm_login_exec(r->p, slurm_sh_command(r->p->conf.dir, r->job_id),
	                 xstrdup("D=$1; case $D in /*) ;; *) D=${HOME:-.}/$D ;; esac\n"
	                         "cat \"$D/jobs/$2/port\" 2>/dev/null || true\n"),
	                 SLURM_LOGIN_MS, slurm_refresh_port, r);
}

static void slurm_refresh_exitfile(struct provider *p, void *ctx, int rc, int status,
                                   const char *out, const char *cause)
{
	struct slurm_refresh *r = ctx;
	int code;

	(void)p;
	provider_status_clear(&r->st);
	if (rc != 0) {
		r->st.state = JOB_UNKNOWN;
		r->st.reason = xprintf("no longer known to Slurm; login node: %s", cause);
	} else if (status == 0 && out != NULL && sscanf(out, "exited %d", &code) == 1) {
		r->st.state = code == 0 ? JOB_SUCCEEDED : JOB_FAILED;
		r->st.has_exit = 1;
		r->st.exit_code = code;
		if (code != 0)
			r->st.reason = xprintf("exited %d", code);
	} else if (status == 0 && out != NULL && sscanf(out, "signal %d", &code) == 1) {
		r->st.state = JOB_FAILED;
		r->st.has_exit = 1;
		r->st.exit_code = -code;
		r->st.reason = xprintf("killed by signal %d", code);
	} else {
		r->st.state = JOB_FAILED;
		r->st.reason = xstrdup("no longer known to Slurm");
	}
	slurm_refresh_report(r, 0, NULL);
}

static void slurm_refresh_one(struct provider *p, void *ctx, int ok, long status, const char *body,
                              size_t len, const char *err, enum slurm_err cls)
{
	struct slurm_refresh *r = ctx;
	struct slurm_job *v = NULL;
	size_t n = 0;
	char *why = NULL;

	(void)status;
	if (ok && slurm_api_parse_jobs(p->ver, body, len, &v, &n, &why) == 0 && n > 0) {
		int need = slurm_status_of(r, &v[0]);

		slurm_jobs_free(v, n);
		slurm_refresh_answer(r, need);
		return;
	}
	slurm_jobs_free(v, n);
	free(why);
	if ((!ok && cls == SLURM_ERR_NOTFOUND) || (ok && n == 0)) {
		if (r->job_id == NULL || !slurm_id_ok(r->job_id)) {
			provider_status_clear(&r->st);
			r->st.state = JOB_FAILED;
			r->st.reason = xstrdup("no longer known to Slurm");
			slurm_refresh_report(r, 0, NULL);
			return;
		}
		slurm_login_exec(p, slurm_sh_command(p->conf.dir, r->job_id),
		                 xstrdup("D=$1; case $D in /*) ;; *) D=${HOME:-.}/$D ;; esac\n"
		                         "cat \"$D/jobs/$2/exit\" 2>/dev/null || true\n"),
		                 SLURM_LOGIN_MS, slurm_refresh_exitfile, r);
		return;
	}
	provider_status_clear(&r->st);
	r->st.state = JOB_UNKNOWN;
	r->st.reason = xstrdup(slurm_down_reason(p) != NULL ? slurm_down_reason(p)
	                                                    : (err != NULL ? err : "unknown"));
	slurm_refresh_report(r, 0, NULL);
}

static void slurm_refresh_abort(void *ctx)
{
	slurm_refresh_report(ctx, -1, "slurm: closed");
}

static void slurm_refresh_snap(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_refresh *r = ctx;
	struct slurm_job *j;
	char what[48];
	char *why = NULL;

	if (rc != 0) {
		if (p->closing) {
			slurm_refresh_report(r, -1, cause);
			return;
		}
		/* out of reach is not an end */
		r->st.state = JOB_UNKNOWN;
		r->st.reason = xstrdup(cause);
		slurm_refresh_report(r, 0, NULL);
		return;
	}
	j = slurm_jobs_find(p, r->id);
	if (j != NULL) {
		slurm_refresh_answer(r, slurm_status_of(r, j));
		return;
	}
	/* aged out of the list (MinJobAge), or submitted after it was read */
	snprintf(what, sizeof what, "job/%lld", (long long)r->id);
	if (slurm_req(p, "GET", what, NULL, NULL, slurm_refresh_one, slurm_refresh_abort, r,
	              &why) != 0) {
		r->st.state = JOB_UNKNOWN;
		r->st.reason = why;
		slurm_refresh_report(r, 0, NULL);
	}
}

int slurm_refresh(struct provider *p, const char *job_id, const char *ref, provider_status_cb cb,
                  void *arg, char **cause)
{
	struct slurm_refresh *r;
	int64_t id = slurm_ref_id(ref);

	if (id < 0)
		return xcause(cause, "%s: '%s' is not a Slurm job id", p->name,
		              ref != NULL ? ref : "");
	r = xcalloc(1, sizeof *r);
	r->p = p;
	r->id = id;
	{
		char *known = slurm_ref_read(p, id, &r->want_port);

		r->job_id = job_id != NULL ? xstrdup(job_id) : known;
		if (job_id != NULL)
			free(known);
	}
	r->cb = cb;
	r->arg = arg;
	slurm_jobs_ready(p, 1, slurm_refresh_snap, r);
	return 0;
}

/* ---- logs ---- */

int slurm_logs_open(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
                    provider_log_cb cb, void *arg, struct provider_logs **out, char **cause)
{
	int64_t id = slurm_ref_id(ref);
	struct provider *ssh;
	char *job, *iref;
	int rc;

	if (id < 0)
		return xcause(cause, "%s: '%s' is not a Slurm job id", p->name, ref);
	job = slurm_ref_job(p, id);
	if (job == NULL)
		return xcause(cause, "%s: Slurm job %lld is not one of Gantry's jobs here", p->name,
		              (long long)id);
	ssh = slurm_login_ssh(p, cause);
	if (ssh == NULL) {
		free(job);
		return -1;
	}
	iref = xprintf("%s@login", job);
	rc = ssh_provider_ops.logs_open(ssh, iref, follow, tail_bytes, cb, arg, out, cause);
	free(iref);
	free(job);
	return rc;
}

void slurm_logs_close(struct provider *p, struct provider_logs *lg)
{
	if (p->ssh != NULL && lg != NULL)
		ssh_provider_ops.logs_close(p->ssh, lg);
}

/* ---- target ---- */

struct slurm_target_req {
	int64_t id;
	int worker;
	provider_target_cb cb;
	void *arg;
};

static const char *slurm_node_addr(struct provider *p, const char *name)
{
	for (size_t i = 0; i < p->nnodes; i++)
		if (strcmp(p->nodes[i].name, name) == 0 && p->nodes[i].address != NULL &&
		    *p->nodes[i].address != '\0')
			return p->nodes[i].address;
	return name;
}

static char *slurm_dupnull(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void slurm_target_snap(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_target_req *t = ctx;
	struct provider_shell sh = {0};
	struct slurm_job *j;
	char **names = NULL;
	size_t n = 0;
	char *c = NULL, *job;

	if (rc != 0) {
		t->cb(t->arg, -1, NULL, cause);
		free(t);
		return;
	}
	j = slurm_jobs_find(p, t->id);
	if (j == NULL || j->nodes == NULL || *j->nodes == '\0' ||
	    slurm_api_hostlist(j->nodes, &names, &n, 4096) < 0 || n == 0) {
		c = xprintf("%s: Slurm job %lld runs on no node now", p->name, (long long)t->id);
		t->cb(t->arg, -1, NULL, c);
		free(c);
		free(names);
		free(t);
		return;
	}
	if (t->worker < 0 || (size_t)t->worker >= n) {
		c = xprintf("%s: job %lld has %zu node%s; there is no worker %d", p->name,
		            (long long)t->id, n, n == 1 ? "" : "s", t->worker);
		t->cb(t->arg, -1, NULL, c);
	} else {
		job = slurm_ref_job(p, t->id);
		sh.local = 0;
		sh.dir = xprintf("%s/jobs/%s/work", p->abs_dir != NULL ? p->abs_dir : p->conf.dir,
		                 job != NULL ? job : "");
		free(job);
		sh.host_name = xstrdup(names[t->worker]);
		sh.nworkers = (int)n;
		kvlist_init(&sh.env);
		sh.target.host = xstrdup(slurm_node_addr(p, names[t->worker]));
		sh.target.port = p->conf.node_ssh_port;
		sh.target.user = slurm_dupnull(p->conf.ssh_user);
		sh.target.key_file = slurm_dupnull(p->conf.ssh_key);
		sh.target.known_hosts = slurm_dupnull(p->conf.known_hosts);
		sh.jump_target.host = xstrdup(p->conf.login);
		sh.jump_target.port = p->conf.ssh_port;
		sh.jump_target.user = slurm_dupnull(p->conf.ssh_user);
		sh.jump_target.key_file = slurm_dupnull(p->conf.ssh_key);
		sh.jump_target.known_hosts = slurm_dupnull(p->conf.known_hosts);
		sh.target.jump = &sh.jump_target;
		t->cb(t->arg, 0, &sh, NULL);
		provider_shell_clear(&sh);
	}
	free(c);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(t);
}

/* The nodes' addresses first (a node's name may not resolve on the login node), then the
 * job's nodes; a cache that failed leaves the names. */
static void slurm_target_nodes(struct provider *p, void *ctx, int rc, const char *cause)
{
	(void)rc;
	(void)cause;
	slurm_jobs_ready(p, 0, slurm_target_snap, ctx);
}

int slurm_target(struct provider *p, const char *ref, int worker, provider_target_cb cb, void *arg,
                 char **cause)
{
	struct slurm_target_req *t;
	int64_t id = slurm_ref_id(ref);

	if (id < 0)
		return xcause(cause, "%s: '%s' is not a Slurm job id", p->name, ref);
	t = xcalloc(1, sizeof *t);
	t->id = id;
	t->worker = worker;
	t->cb = cb;
	t->arg = arg;
	slurm_cache_ready(p, slurm_target_nodes, t);
	return 0;
}

/* ---- worker_http: the first node's loopback through the login node ---- */

struct slurm_http {
	struct provider *p;
	int64_t id;
	int port;
	char *path;
	char *host;
	provider_http_cb cb;
	void *arg;
	int rc;
	char *cause;
	int status;
	char *body;
};

static void slurm_http_work(void *arg)
{
	struct slurm_http *h = arg;
	struct provider *p = h->p;

	if (p->hconn == NULL || strcmp(p->hconn_host, h->host) != 0) {
		struct ssh_target t, jump;

		slurm_conn_free(p->hconn);
		slurm_login_target(p, &jump);
		t = jump;
		t.host = h->host;
		t.port = p->conf.node_ssh_port;
		p->hconn = slurm_conn_new(&t, &jump, "node");
		free(p->hconn_host);
		p->hconn_host = xstrdup(h->host);
	}
	h->rc = slurm_conn_http(p->hconn, h->port, h->path, SLURM_HTTP_MS, &h->status, &h->body,
	                        &h->cause);
}

static void slurm_http_done(void *arg, int cancelled)
{
	struct slurm_http *h = arg;

	if (cancelled)
		h->cb(h->arg, -1, NULL, "the provider closed");
	else if (h->rc == 0)
		h->cb(h->arg, h->status, h->body, NULL);
	else
		h->cb(h->arg, -1, NULL, h->cause != NULL ? h->cause : "failed");
	free(h->body);
	free(h->path);
	free(h->host);
	free(h->cause);
	free(h);
}

static void slurm_http_snap(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_http *h = ctx;
	struct slurm_job *j;
	char **names = NULL;
	size_t n = 0;

	if (rc != 0) {
		h->cb(h->arg, -1, NULL, cause);
		free(h->path);
		free(h);
		return;
	}
	j = slurm_jobs_find(p, h->id);
	if (j == NULL || j->nodes == NULL || slurm_api_hostlist(j->nodes, &names, &n, 4096) < 0 ||
	    n == 0) {
		free(names);
		h->cb(h->arg, -1, NULL, "the job runs on no node now");
		free(h->path);
		free(h);
		return;
	}
	if (p->closing) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		h->cb(h->arg, -1, NULL, "the provider closed");
		free(h->path);
		free(h);
		return;
	}
	h->host = xstrdup(slurm_node_addr(p, names[0]));
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (p->hq == NULL)
		p->hq = async_queue_new(p->loop, "slurm-http");
	async_queue_submit(p->hq, slurm_http_work, slurm_http_done, h);
}

static void slurm_http_nodes(struct provider *p, void *ctx, int rc, const char *cause)
{
	(void)rc;
	(void)cause;
	slurm_jobs_ready(p, 0, slurm_http_snap, ctx);
}

int slurm_worker_http(struct provider *p, const char *ref, int port, const char *path,
                      provider_http_cb cb, void *arg, char **cause)
{
	struct slurm_http *h;
	int64_t id = slurm_ref_id(ref);

	if (port <= 0 || port > 65535 || path == NULL || path[0] != '/')
		return xcause(cause, "not a port and an HTTP path: %d %s", port,
		              path != NULL ? path : "(null)");
	if (id < 0)
		return xcause(cause, "%s: '%s' is not a Slurm job id", p->name, ref);
	h = xcalloc(1, sizeof *h);
	h->p = p;
	h->id = id;
	h->port = port;
	h->path = xstrdup(path);
	h->cb = cb;
	h->arg = arg;
	slurm_cache_ready(p, slurm_http_nodes, h);
	return 0;
}
