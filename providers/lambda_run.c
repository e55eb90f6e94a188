/* lambda_run.c: a job running on a Lambda instance. Each instance gets an ssh provider of its
 * own with that one host (so a job never lands on another job's instance), its own
 * known_hosts file (STATE/known_hosts/ID: cloud addresses are reused), the host key recorded
 * on first connect (Gantry created the instance) and checked strictly afterwards. refresh,
 * logs, target, hosts and worker_http go through it. When the job ends (succeeded, failed or
 * stopped) the instance is terminated before the end is reported, so a finished training run
 * never keeps billing; a job whose instance is gone is reported failed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/safefile.h"
#include "core/telemetry.h"
#include "core/xmalloc.h"
#include "providers/lambda_internal.h"
#include "providers/ssh.h"

/* ---- instances and their ssh providers ---- */

struct lambda_inst *lambda_inst_find(struct provider *p, const char *id)
{
	for (struct lambda_inst *in = p->insts; in != NULL; in = in->next)
		if (strcmp(in->id, id) == 0)
			return in;
	return NULL;
}

char *lambda_inner_ref(const struct lambda_inst *in, const char *job_id)
{
	return xprintf("%s@%s", job_id, in->host);
}

static void lambda_inner_notify(void *arg, const char *provider, int healthy, const char *message)
{
	struct provider *p = arg;

	(void)provider;
	(void)healthy;
	/* one instance out of reach is not the provider's health: pass the news on */
	if (p->notify != NULL && !p->closing)
		p->notify(p->notify_arg, p->name, p->healthy != 0, message);
}

struct lambda_inst *lambda_inst_attach(struct provider *p, const char *id, const char *ip, int gpus,
                                       const char *gpu_type, char **cause)
{
	struct lambda_inst *in = lambda_inst_find(p, id);
	struct provider_config ic = {0};
	struct ssh_dyn_host h = {0};
	struct kvlist set, pos;
	char *kh, *dir, *iname;

	if (in != NULL)
		return in;
	if (ip == NULL || *ip == '\0') {
		xcause(cause, "%s: instance %s has no address yet (booting)", p->name, id);
		return NULL;
	}
	if (p->key_path == NULL)
		p->key_path = xprintf("%s/id_ed25519", p->state_dir);
	in = xcalloc(1, sizeof *in);
	in->id = xstrdup(id);
	in->ip = xstrdup(ip);
	in->host = xprintf("i-%.40s", id);
	kh = xprintf("%s/known_hosts/%s", p->state_dir, id);
	dir = xprintf("%s/%.12s", p->conf.dir, id);
	iname = xprintf("%s/%s", p->name, in->host);
	kvlist_init(&set);
	kvlist_init(&pos);
	kvlist_set(&set, "dynamic_hosts", "true");
	kvlist_set(&set, "user", p->conf.ssh_user);
	kvlist_set(&set, "key", p->key_path);
	kvlist_set(&set, "known_hosts", kh);
	kvlist_set(&set, "dir", dir);
	ic.name = iname;
	ic.state_dir = p->state_dir;
	ic.settings = &set;
	ic.settings_pos = &pos;
	ic.loop = p->loop;
	ic.notify = lambda_inner_notify;
	ic.notify_arg = p;
	ic.installation_id = p->installation_id;
	ic.log_max_bytes = p->log_max_bytes;
	ic.data_dir = p->data_dir;
	h.name = in->host;
	h.address = ip;
	h.port = p->conf.ssh_port;
	h.known_hosts = kh; /* its own: cloud addresses are reused */
	h.tofu_first = 1;   /* Gantry created the instance: record its key on first connect */
	h.gpus = gpus > 0 ? gpus : 0;
	h.gpu_type = gpus > 0 && gpu_type != NULL && *gpu_type != '\0' ? gpu_type : NULL;
	h.dir = dir;
	if (ssh_provider_ops.open(&ic, &in->ssh, cause) != 0) {
		in->ssh = NULL;
	} else if (ssh_provider_host_add(in->ssh, &h, cause) != 0) {
		ssh_provider_ops.close(in->ssh);
		in->ssh = NULL;
	}
	if (in->ssh == NULL) {
		free(in->id);
		free(in->ip);
		free(in->host);
		free(in);
		in = NULL;
	} else {
		in->next = p->insts;
		p->insts = in;
	}
	kvlist_free(&set);
	kvlist_free(&pos);
	free(kh);
	free(dir);
	free(iname);
	return in;
}

void lambda_inst_close_all(struct provider *p)
{
	while (p->insts != NULL) {
		struct lambda_inst *in = p->insts;

		p->insts = in->next;
		ssh_provider_ops.close(in->ssh);
		free(in->id);
		free(in->ip);
		free(in->host);
		free(in);
	}
}

/* The instance of a ref, attached; -1 with cause (booting, bad ref). *job gets the job id. */
static struct lambda_inst *lambda_inst_of(struct provider *p, const char *ref, char **job,
                                          char **cause)
{
	char *id, *ip;
	struct lambda_inst *in;

	if (lambda_ref_parse(ref, &id, &ip, job, cause) != 0)
		return NULL;
	in = lambda_inst_attach(p, id, ip, 0, NULL, cause);
	free(id);
	free(ip);
	if (in == NULL) {
		free(*job);
		*job = NULL;
	}
	return in;
}

/* ---- stopped instances ----
 * STATE/stopped/ID marks an instance Gantry terminates because its job was stopped: a later
 * refresh (another process, the job out of reach meanwhile) that finds it gone reports the
 * job STOPPED, not FAILED. */

static char *lambda_stop_path(struct provider *p, const char *id)
{
	return xprintf("%s/stopped/%s", p->state_dir, id);
}

static void lambda_stop_mark(struct provider *p, const char *id)
{
	char *path = lambda_stop_path(p, id), *why = NULL;
	int fd = safefile_create(path, O_WRONLY, 0600, &why);

	if (fd >= 0)
		close(fd);
	free(why);
	free(path);
}

static int lambda_stop_marked(struct provider *p, const char *id)
{
	char *path = lambda_stop_path(p, id);
	struct stat sb;
	int r = lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);

	free(path);
	return r;
}

/* ---- refresh ---- */

struct lambda_refresh {
	struct provider *p;
	char *id;
	char *job;
	int no_ip; /* the ref came from a list while the instance booted */
	provider_status_cb cb;
	void *arg;
	struct provider_status st; /* kept while the instance is terminated */
};

static void lambda_refresh_free(struct lambda_refresh *r)
{
	provider_status_clear(&r->st);
	free(r->id);
	free(r->job);
	free(r);
}

static void lambda_refresh_report(struct lambda_refresh *r, int rc, const char *cause)
{
	r->cb(r->arg, rc, rc == 0 ? &r->st : NULL, cause);
	lambda_refresh_free(r);
}

static void lambda_refresh_terminated(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct lambda_refresh *r = ctx;
	char *c;

	(void)p;
	if (rc != 0) {
		/* not reported as ended until the instance is gone: asked again next time */
		c = xprintf("job ended; %s", cause);
		lambda_refresh_report(r, -1, c);
		free(c);
		return;
	}
	/* the instance billed until now, not until the job's process ended */
	if (r->st.ended_ms < loop_wall_ms())
		r->st.ended_ms = loop_wall_ms();
	lambda_refresh_report(r, 0, NULL);
}

static void lambda_refresh_saved(struct provider *p, void *ctx)
{
	struct lambda_refresh *r = ctx;

	lambda_terminate(p, r->id, lambda_refresh_terminated, r);
}

static void lambda_refresh_inner(void *arg, int rc, const struct provider_status *st,
                                 const char *cause);

/* Asks the instance's ssh provider (attached at ip when not yet); reports on failure. */
static void lambda_refresh_ssh(struct lambda_refresh *r, const char *ip)
{
	struct lambda_inst *in;
	char *iref, *why = NULL;

	in = lambda_inst_attach(r->p, r->id, ip, 0, NULL, &why);
	if (in == NULL) {
		lambda_refresh_report(r, -1, why);
		free(why);
		return;
	}
	iref = lambda_inner_ref(in, r->job);
	provider_status_clear(&r->st);
	if (ssh_provider_ops.refresh(in->ssh, r->job, iref, lambda_refresh_inner, r, &why) != 0) {
		lambda_refresh_report(r, -1, why);
		free(why);
	}
	free(iref);
}

static void lambda_refresh_checked(struct provider *p, void *ctx, int ok, long status,
                                   const char *body, size_t len, const char *err,
                                   enum lambda_err cls)
{
	struct lambda_refresh *r = ctx;
	struct lambda_instance in;
	char *why = NULL;

	(void)status;
	(void)err;
	if (ok && lambda_api_parse_instance(body, len, &in, &why) == 0) {
		if ((in.status == LAMBDA_ST_TERMINATED || in.status == LAMBDA_ST_TERMINATING) &&
		    lambda_stop_marked(p, r->id)) {
			provider_status_clear(&r->st);
			r->st.state = JOB_STOPPED;
			r->st.reason = xprintf("stopped; instance %s terminated", r->id);
		} else if (in.status == LAMBDA_ST_TERMINATED ||
		           in.status == LAMBDA_ST_TERMINATING || in.status == LAMBDA_ST_PREEMPTED) {
			provider_status_clear(&r->st);
			r->st.state = JOB_FAILED;
			r->st.reason = xprintf("instance %s was %s outside Gantry", r->id,
			                       lambda_status_name(in.status));
		} else if (in.status == LAMBDA_ST_BOOTING && r->no_ip) {
			free(r->st.reason);
			r->st.state = JOB_STARTING;
			r->st.reason = xprintf("instance %s is booting", r->id);
		} else if (in.status == LAMBDA_ST_ACTIVE && r->no_ip && in.ip != NULL) {
			/* up now: what runs there (or never started) is for SSH to tell */
			char *ip = xstrdup(in.ip);

			lambda_instance_clear(&in);
			free(why);
			lambda_refresh_ssh(r, ip);
			free(ip);
			return;
		}
		lambda_instance_clear(&in);
	} else if (!ok && cls == LAMBDA_ERR_NOTFOUND) {
		int stopped = lambda_stop_marked(p, r->id);

		provider_status_clear(&r->st);
		r->st.state = stopped ? JOB_STOPPED : JOB_FAILED;
		r->st.reason = stopped ? xprintf("stopped; instance %s terminated", r->id)
		                       : xprintf("instance %s no longer exists", r->id);
	}
	free(why);
	lambda_refresh_report(r, 0, NULL);
}

static void lambda_refresh_abort(void *ctx)
{
	struct lambda_refresh *r = ctx;

	lambda_refresh_report(r, -1, "lambda: closed");
}

static void lambda_refresh_check(struct lambda_refresh *r)
{
	char *path = xprintf("/instances/%s", r->id), *why = NULL;

	if (lambda_req(r->p, "GET", path, NULL, lambda_refresh_checked, lambda_refresh_abort, r,
	               &why) != 0) {
		free(why);
		lambda_refresh_report(r, 0, NULL); /* what ssh said stands */
	}
	free(path);
}

static void lambda_refresh_inner(void *arg, int rc, const struct provider_status *st,
                                 const char *cause)
{
	struct lambda_refresh *r = arg;
	struct lambda_inst *in = lambda_inst_find(r->p, r->id);

	if (rc != 0) {
		lambda_refresh_report(r, rc, cause);
		return;
	}
	r->st.state = st->state;
	r->st.has_exit = st->has_exit;
	r->st.exit_code = st->exit_code;
	if (r->no_ip && st->state == JOB_FAILED && !st->has_exit)
		/* adopted by reconcile while it booted: the launch stopped before the job ran */
		r->st.reason = xprintf("the job never started on instance %s (its launch was "
		                       "interrupted)%s%s",
		                       r->id, st->reason != NULL ? ": " : "",
		                       st->reason != NULL ? st->reason : "");
	else
		r->st.reason = st->reason != NULL ? xstrdup(st->reason) : NULL;
	r->st.ended_ms = st->ended_ms;
	r->st.port = st->port;
	r->st.url = st->url != NULL ? xstrdup(st->url) : NULL;
	r->st.started_ms = st->started_ms;
	r->st.ready_replicas = st->ready_replicas;
	r->st.desired_replicas = st->desired_replicas;
	switch (st->state) {
	case JOB_SUCCEEDED:
	case JOB_FAILED:
	case JOB_STOPPED:
		if (in != NULL && in->terminated) {
			lambda_refresh_report(r, 0, NULL);
			return;
		}
		lambda_log_save(r->p, in, r->job, lambda_refresh_saved, r);
		return;
	case JOB_UNKNOWN:
		/* out of reach: is the instance still there? */
		lambda_refresh_check(r);
		return;
	default:
		lambda_refresh_report(r, 0, NULL);
		return;
	}
}

int lambda_refresh(struct provider *p, const char *job_id, const char *ref, provider_status_cb cb,
                   void *arg, char **cause)
{
	struct lambda_refresh *r;
	char *id, *ip, *job;

	(void)job_id;
	if (lambda_ref_parse(ref, &id, &ip, &job, cause) != 0)
		return -1;
	r = xcalloc(1, sizeof *r);
	r->p = p;
	r->id = id;
	r->job = job;
	r->cb = cb;
	r->arg = arg;
	if (*ip == '\0' && lambda_inst_find(p, id) == NULL) {
		/* listed while booting: only the API can tell */
		r->no_ip = 1;
		r->st.state = JOB_UNKNOWN;
		free(ip);
		lambda_refresh_check(r);
		return 0;
	}
	lambda_refresh_ssh(r, ip);
	free(ip);
	return 0;
}

/* ---- stop ---- */

struct lambda_stopper {
	struct provider *p;
	char *id;
	char *job;
	provider_done_cb cb;
	void *arg;
};

static void lambda_stop_terminated(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct lambda_stopper *s = ctx;

	(void)p;
	s->cb(s->arg, rc, cause);
	free(s->id);
	free(s->job);
	free(s);
}

static void lambda_stop_saved(struct provider *p, void *ctx)
{
	struct lambda_stopper *s = ctx;

	lambda_terminate(p, s->id, lambda_stop_terminated, s);
}

static void lambda_stop_inner(void *arg, int rc, const char *cause)
{
	struct lambda_stopper *s = arg;

	(void)rc;
	(void)cause;
	/* whatever the job did, its log is kept and the instance goes */
	lambda_log_save(s->p, lambda_inst_find(s->p, s->id), s->job, lambda_stop_saved, s);
}

int lambda_stop(struct provider *p, const char *ref, int grace_ms, provider_done_cb cb, void *arg,
                char **cause)
{
	struct lambda_stopper *s;
	struct lambda_inst *in = NULL;
	char *id, *ip, *job, *iref, *why = NULL;

	if (lambda_ref_parse(ref, &id, &ip, &job, cause) != 0)
		return -1;
	lambda_stop_mark(p, id);
	s = xcalloc(1, sizeof *s);
	s->p = p;
	s->id = id;
	s->job = xstrdup(job);
	s->cb = cb;
	s->arg = arg;
	if (*ip != '\0')
		in = lambda_inst_attach(p, id, ip, 0, NULL, &why);
	free(why);
	if (in != NULL && !in->terminated) {
		iref = lambda_inner_ref(in, job);
		why = NULL;
		if (ssh_provider_ops.stop(in->ssh, iref, grace_ms, lambda_stop_inner, s, &why) !=
		    0) {
			free(why);
			lambda_terminate(p, id, lambda_stop_terminated, s);
		}
		free(iref);
	} else {
		lambda_terminate(p, id, lambda_stop_terminated, s);
	}
	free(ip);
	free(job);
	return 0;
}

/* ---- logs, target, worker_http, hosts ---- */

int lambda_target(struct provider *p, const char *ref, int worker, provider_target_cb cb, void *arg,
                  char **cause)
{
	struct lambda_inst *in;
	char *job, *iref;
	int rc;

	in = lambda_inst_of(p, ref, &job, cause);
	if (in == NULL)
		return -1;
	iref = lambda_inner_ref(in, job);
	rc = ssh_provider_ops.target(in->ssh, iref, worker, cb, arg, cause);
	free(iref);
	free(job);
	return rc;
}

int lambda_worker_http(struct provider *p, const char *ref, int port, const char *path,
                       provider_http_cb cb, void *arg, char **cause)
{
	struct lambda_inst *in;
	char *job, *iref;
	int rc;

	in = lambda_inst_of(p, ref, &job, cause);
	if (in == NULL)
		return -1;
	iref = lambda_inner_ref(in, job);
	rc = ssh_provider_ops.worker_http(in->ssh, iref, port, path, cb, arg, cause);
	free(iref);
	free(job);
	return rc;
}

/* hosts(NULL) in a process that launched nothing yet: this installation's running instances
 * are listed once and attached; their first sweeps report through notify. */
static void lambda_hosts_listed(struct provider *p, void *ctx, int ok, long status,
                                const char *body, size_t len, const char *err, enum lambda_err cls)
{
	struct lambda_instance *v = NULL;
	size_t n = 0;
	char *why = NULL;

	(void)ctx;
	(void)status;
	(void)err;
	(void)cls;
	p->hosts_listing = 0;
	if (!ok || lambda_api_parse_instances(body, len, &v, &n, &why) != 0) {
		free(why);
		return;
	}
	p->hosts_listed = 1;
	for (size_t i = 0; i < n; i++) {
		struct lambda_inst *in;
		struct tele_host *h = NULL;
		size_t nh = 0;
		char *gpu_type = NULL;
		int gpus = 0;

		if (v[i].status != LAMBDA_ST_ACTIVE || v[i].ip == NULL ||
		    !lambda_instance_ours(&v[i], p->key_name))
			continue;
		if (v[i].instance_type == NULL ||
		    lambda_api_gpu_of(v[i].instance_type, NULL, &gpu_type, &gpus) != 0)
			gpus = 0;
		in = lambda_inst_attach(p, v[i].id, v[i].ip, gpus, gpu_type, &why);
		free(gpu_type);
		free(why);
		why = NULL;
		/* asking starts the first sweep; its answer comes through notify */
		if (in != NULL && ssh_provider_ops.hosts(in->ssh, NULL, &h, &nh) == 0)
			tele_hosts_free(h, nh);
	}
	lambda_instances_free(v, n);
}

int lambda_hosts(struct provider *p, const char *ref, struct tele_host **out, size_t *n)
{
	struct tele_host *all = NULL;
	size_t nall = 0;

	*out = NULL;
	*n = 0;
	if (ref != NULL) {
		struct lambda_inst *in;
		char *job, *iref;
		int rc;

		in = lambda_inst_of(p, ref, &job, NULL);
		if (in == NULL)
			return -1;
		iref = lambda_inner_ref(in, job);
		rc = ssh_provider_ops.hosts(in->ssh, iref, out, n);
		free(iref);
		free(job);
		return rc;
	}
	if (!p->hosts_listed && !p->hosts_listing && !p->closing) {
		p->hosts_listing = 1;
		if (lambda_req(p, "GET", "/instances", NULL, lambda_hosts_listed, NULL, NULL,
		               NULL) != 0)
			p->hosts_listing = 0;
	}
	for (struct lambda_inst *in = p->insts; in != NULL; in = in->next) {
		struct tele_host *h = NULL;
		size_t nh = 0;

		if (in->terminated || ssh_provider_ops.hosts(in->ssh, NULL, &h, &nh) != 0)
			continue;
		all = xreallocarray(all, nall + nh + 1, sizeof *all);
		memcpy(all + nall, h, nh * sizeof *h);
		nall += nh;
		free(h);
	}
	if (all == NULL)
		all = xcalloc(1, sizeof *all);
	*out = all;
	*n = nall;
	return 0;
}
