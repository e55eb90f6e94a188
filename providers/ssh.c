/* ssh.c: the `ssh` provider: jobs on a fleet of on-prem hosts reached over SSH.
 *
 * Settings (config.yaml, flattened; defaults in brackets): user [login name], key [agent,
 * then ~/.ssh/id_ed25519, id_ecdsa], known_hosts [~/.ssh/known_hosts], dir [.gantry, under
 * the remote home], connect_timeout_ms [5000], io_timeout_ms [20000], poll_ms [2000: the
 * oldest status snapshot an answer may use], rate_gpu_hour, rate_cpu_hour [unset =
 * unpriced], jump.{address,port,user,key}, and hosts.N.{name, address, port [22], user,
 * key, dir, gpus [0], gpu_type [H100], rate_gpu_hour, labels.*}. See ssh_conf.c.
 *
 * Threads: each host has an async queue (one worker thread, created on first use) that owns
 * the host's SSH session; everything here runs on the loop and only hands work to those
 * threads. open() touches no network. The remote side is described in ssh_remote.c.
 *
 * Refs are "JOB_ID@host1[,host2...]" (multi-node jobs name every host, rank order).
 * Status, telemetry and GPU occupancy come from one status sweep per host (one exec),
 * reused for poll_ms; a launch, stop or destroy on a host makes its snapshot stale. */
#include "providers/ssh.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/async.h"
#include "core/loop.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "providers/ssh_internal.h"

static void sshp_sweep_start(struct sshp_host *h);

/* ---- small helpers ---- */

int sshp_id_ok(const char *s, size_t len)
{
	if (len == 0 || len > 128 || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return 0;
	return 1;
}

char *sshp_dupnull(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Splits "ID@h1,h2" into the id and host indices. */
int sshp_host_index(struct provider *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->nhosts; i++) {
		const char *hn = p->hosts[i]->conf->name;

		if (!p->hosts[i]->removed && strlen(hn) == len && strncmp(hn, name, len) == 0)
			return (int)i;
	}
	return -1;
}

size_t sshp_live_hosts(struct provider *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nhosts; i++)
		n += !p->hosts[i]->removed;
	return n;
}

int sshp_parse_ref(struct provider *p, const char *ref, char **id, size_t **hosts, size_t *n,
                   char **cause)
{
	const char *at = ref != NULL ? strchr(ref, '@') : NULL;
	const char *s;

	*id = NULL;
	*hosts = NULL;
	*n = 0;
	if (at == NULL || !sshp_id_ok(ref, (size_t)(at - ref)) || at[1] == '\0')
		return xcause(cause, "'%s' is not a job of the ssh provider %s (expected JOB@HOST)",
		              ref != NULL ? ref : "(none)", p->name);
	for (s = at + 1;;) {
		size_t len = strcspn(s, ",");
		int i = sshp_host_index(p, s, len);

		if (i < 0) {
			xcause(cause, "job %.*s runs on host '%.*s', which %s does not configure",
			       (int)(at - ref), ref, (int)len, s, p->name);
			free(*hosts);
			*hosts = NULL;
			*n = 0;
			return -1;
		}
		*hosts = xreallocarray(*hosts, *n + 1, sizeof **hosts);
		(*hosts)[(*n)++] = (size_t)i;
		if (s[len] == '\0')
			break;
		s += len + 1;
	}
	*id = xstrndup(ref, (size_t)(at - ref));
	return 0;
}

/* Case-insensitive: want ("h100") names have ("H100", "NVIDIA H100 80GB"); "any" = all. */
int sshp_type_matches(const char *want, const char *have)
{
	size_t n;

	if (want == NULL || *want == '\0' || strcasecmp(want, "any") == 0)
		return 1;
	if (have == NULL)
		return 0;
	n = strlen(want);
	for (const char *c = have; *c != '\0'; c++)
		if (strncasecmp(c, want, n) == 0)
			return 1;
	return 0;
}

struct ssh_job_facts *sshp_find_job(struct sshp_host *h, const char *id)
{
	if (!h->ever_ok)
		return NULL;
	for (size_t i = 0; i < h->res.njobs; i++)
		if (strcmp(h->res.jobs[i].id, id) == 0)
			return &h->res.jobs[i];
	return NULL;
}

/* The job still holds its GPUs (its group lives, or it is starting). */
int sshp_job_busy(const struct ssh_job_facts *f)
{
	if (f->alive)
		return 1;
	if (f->has_exit)
		return 0;
	return f->wrapper || (!f->has_wrapper && f->age_s < SSHP_STALE_LAUNCH);
}

/* Marks the GPU indices in list ("0,3") in used[0..total). */
static void sshp_mark_gpus(const char *list, unsigned char *used, int total)
{
	const char *s = list;

	while (s != NULL && *s != '\0') {
		char *end;
		long v = strtol(s, &end, 10);

		if (end != s && v >= 0 && v < total)
			used[v] = 1;
		s = strchr(s, ',');
		if (s != NULL)
			s++;
	}
}

/* GPUs of h not held by a job, from its last snapshot (its configured total before one). */
int sshp_free_gpus(struct sshp_host *h)
{
	int total = h->conf->gpus, nfree = 0;
	unsigned char *used;

	if (!h->ever_ok || total <= 0)
		return total > 0 ? total : 0;
	used = xcalloc((size_t)total, 1);
	for (size_t i = 0; i < h->res.njobs; i++)
		if (sshp_job_busy(&h->res.jobs[i]))
			sshp_mark_gpus(h->res.jobs[i].gpus, used, total);
	for (int i = 0; i < total; i++)
		nfree += !used[i];
	free(used);
	return nfree;
}

static int sshp_all_healthy(struct provider *p)
{
	for (size_t i = 0; i < p->nhosts; i++)
		if (!p->hosts[i]->removed && p->hosts[i]->health == 0)
			return 0;
	return 1;
}

/* Reports a host going down or coming back. */
static void sshp_health(struct sshp_host *h, int up, const char *why)
{
	struct provider *p = h->p;
	int was = h->health;
	char *msg;

	h->health = up;
	if (p->notify == NULL || p->closing || was == up)
		return;
	if (up && was == -1)
		return;
	msg =
	    up ? xprintf("%s is back", h->conf->name) : xstrdup(why != NULL ? why : "unreachable");
	p->notify(p->notify_arg, p->name, sshp_all_healthy(p), msg);
	free(msg);
}

/* ---- operations on the host threads ---- */

static void sshp_op_free(struct sshp_op *op)
{
	free(op->cmd);
	free(op->in);
	free(op->cause);
	ssh_exec_result_clear(&op->r);
	ssh_http_result_clear(&op->hr);
	ssh_hosts_sweep_clear(&op->res);
	free(op);
}

static void sshp_op_work(void *arg)
{
	struct sshp_op *op = arg;
	struct ssh_hosts_conn *c = &op->h->conn; /* not touched for HTTP ops (another thread) */
	const char *cmd = op->cmd;

	/* the first sweep samples the CPU twice; later ones compare with the previous sample */
	if (op->sweep)
		cmd = c->have_cpu ? op->h->status_cmd1 : op->h->status_cmd2;
	if (op->http_port > 0)
		op->exec_rc = ssh_hosts_http(&op->h->hconn, op->http_port, cmd, &op->hr,
		                             op->timeout_ms, &op->cause);
	else
		op->exec_rc =
		    ssh_hosts_exec(c, cmd, op->in, &op->r, op->timeout_ms, NULL, &op->cause);
	op->rc = op->exec_rc;
	if (op->rc == 0 && op->sweep &&
	    ssh_hosts_parse_sweep(c, op->r.out != NULL ? op->r.out : "", &op->res, &op->cause) !=
	        0) {
		if (op->r.exit_status != 0) {
			const char *e = op->r.errout != NULL ? op->r.errout : "";

			free(op->cause);
			op->cause = xprintf("%s: the status command failed (exit %d): %.*s",
			                    c->name, op->r.exit_status, (int)strcspn(e, "\n"), e);
		}
		op->rc = -1;
	}
	if (op->http_port == 0) /* c belongs to the host's thread, not the HTTP one */
		op->last_contact_ms = c->last_contact_ms;
}

static void sshp_op_done(void *arg, int cancelled)
{
	struct sshp_op *op = arg;

	if (!cancelled && op->http_port == 0) { /* health is the host session's business */
		op->h->last_contact_ms = op->last_contact_ms;
		if (op->exec_rc == 0)
			sshp_health(op->h, 1, NULL);
		else
			sshp_health(op->h, 0, op->cause);
	}
	if (op->done != NULL)
		op->done(op, cancelled);
	sshp_op_free(op);
}

struct sshp_op *sshp_op_new(struct sshp_host *h, char *cmd, char *in, int timeout_ms)
{
	struct sshp_op *op = xcalloc(1, sizeof *op);

	op->h = h;
	op->cmd = cmd;
	op->in = in;
	op->timeout_ms = timeout_ms;
	return op;
}

void sshp_op_submit(struct sshp_op *op)
{
	struct sshp_host *h = op->h;

	struct async_queue **q = op->http_port > 0 ? &h->hq : &h->q;

	if (*q == NULL) {
		char name[16];

		snprintf(name, sizeof name, "%s:%s", op->http_port > 0 ? "http" : "ssh",
		         h->conf->name);
		*q = async_queue_new(h->p->loop, name);
	}
	async_queue_submit(*q, sshp_op_work, sshp_op_done, op);
}

/* ---- status sweeps and waiters ---- */

/* The snapshot of h may answer now. */
static int sshp_fresh(struct sshp_host *h)
{
	return h->swept && !h->stale &&
	       loop_now_ms() - h->swept_mono <= (uint64_t)h->p->conf.poll_ms;
}

void sshp_waiters_host_done(struct provider *p, size_t idx)
{
	struct sshp_waiter **pp = &p->waiters, *ready = NULL, **rtail = &ready, *w;

	while ((w = *pp) != NULL) {
		if (idx < w->nneed && w->need[idx]) {
			w->need[idx] = 0;
			w->remaining--;
		}
		if (w->remaining == 0) {
			*pp = w->next;
			w->next = NULL;
			*rtail = w;
			rtail = &w->next;
		} else {
			pp = &w->next;
		}
	}
	while ((w = ready) != NULL) {
		ready = w->next;
		w->fn(p, w->ctx);
		free(w->need);
		free(w);
	}
}

static void sshp_sweep_done(struct sshp_op *op, int cancelled)
{
	struct sshp_host *h = op->h;

	h->sweeping = 0;
	if (!cancelled) {
		h->swept = 1;
		h->swept_mono = loop_now_ms();
		h->stale = 0;
		h->ok = op->rc == 0;
		free(h->reason);
		h->reason = NULL;
		if (h->ok) {
			ssh_hosts_sweep_clear(&h->res);
			h->res = op->res;
			memset(&op->res, 0, sizeof op->res);
			h->ever_ok = 1;
			h->at_ms = loop_wall_ms();
		} else {
			h->reason = xstrdup(op->cause != NULL ? op->cause : "no answer");
		}
	}
	sshp_waiters_host_done(h->p, h->idx);
}

static void sshp_sweep_start(struct sshp_host *h)
{
	struct sshp_op *op;

	if (h->sweeping || h->p->closing)
		return;
	h->sweeping = 1;
	op = sshp_op_new(h, NULL, xstrdup(ssh_remote_status_script), h->p->conf.io_timeout_ms);
	op->sweep = 1;
	op->done = sshp_sweep_done;
	sshp_op_submit(op);
}

/* Calls fn once every host in mask has a fresh snapshot (at once when they all do). */
void sshp_wait(struct provider *p, const unsigned char *mask,
               void (*fn)(struct provider *p, void *ctx), void *ctx)
{
	struct sshp_waiter *w = xcalloc(1, sizeof *w);

	w->need = xcalloc(p->nhosts > 0 ? p->nhosts : 1, 1);
	w->nneed = p->nhosts;
	w->fn = fn;
	w->ctx = ctx;
	for (size_t i = 0; i < p->nhosts && !p->closing; i++) {
		if (!mask[i] || p->hosts[i]->removed || sshp_fresh(p->hosts[i]))
			continue;
		w->need[i] = 1;
		w->remaining++;
	}
	if (w->remaining == 0) {
		free(w->need);
		free(w);
		fn(p, ctx);
		return;
	}
	w->next = p->waiters;
	p->waiters = w;
	for (size_t i = 0; i < p->nhosts; i++)
		if (w->need[i])
			sshp_sweep_start(p->hosts[i]);
}

unsigned char *sshp_mask(struct provider *p, const size_t *hosts, size_t n)
{
	unsigned char *m = xcalloc(p->nhosts > 0 ? p->nhosts : 1, 1);

	for (size_t i = 0; i < n; i++)
		m[hosts[i]] = 1;
	for (size_t i = 0; hosts == NULL && i < p->nhosts; i++)
		m[i] = !p->hosts[i]->removed;
	return m;
}

static void sshp_notify_swept(struct provider *p, void *ctx)
{
	(void)ctx;
	p->notify_waiting = 0;
	if (!p->closing && p->notify != NULL)
		p->notify(p->notify_arg, p->name, sshp_all_healthy(p), NULL);
}

/* A stale cache asks for a sweep of mask's hosts; notify says when it is done. */
void sshp_refresh_cache(struct provider *p, const unsigned char *mask)
{
	int stale = 0;

	for (size_t i = 0; i < p->nhosts; i++)
		if (mask[i] && !sshp_fresh(p->hosts[i]))
			stale = 1;
	if (!stale || p->notify_waiting || p->closing)
		return;
	p->notify_waiting = 1;
	sshp_wait(p, mask, sshp_notify_swept, NULL);
}

/* ---- open / close ---- */

static int sshp_open(const struct provider_config *cfg, struct provider **out, char **cause)
{
	struct provider *p;
	const char *name = cfg->name != NULL ? cfg->name : "ssh";

	if (cfg->loop == NULL)
		return xcause(cause, "%s: no event loop", name);
	p = xcalloc(1, sizeof *p);
	if (ssh_conf_parse(cfg->settings, cfg->settings_pos, name, &p->conf, cause) != 0) {
		free(p);
		return -1;
	}
	p->name = xstrdup(name);
	p->installation_id = sshp_dupnull(cfg->installation_id);
	p->loop = cfg->loop;
	p->notify = cfg->notify;
	p->notify_arg = cfg->notify_arg;
	p->nhosts = p->conf.nhosts;
	p->hosts = xcalloc(p->nhosts > 0 ? p->nhosts : 1, sizeof *p->hosts);
	for (size_t i = 0; i < p->nhosts; i++) {
		struct sshp_host *h = p->hosts[i] = xcalloc(1, sizeof *h);

		h->p = p;
		h->idx = i;
		h->conf = &p->conf.hosts[i];
		h->health = -1;
		ssh_hosts_conn_init(&h->conn, &p->conf, i);
		ssh_hosts_conn_init(&h->hconn, &p->conf, i);
		h->status_cmd1 = ssh_remote_command(h->conf->dir, "1", NULL);
		h->status_cmd2 = ssh_remote_command(h->conf->dir, "2", NULL);
	}
	*out = p;
	return 0;
}

static void sshp_close(struct provider *p)
{
	if (p == NULL)
		return;
	p->closing = 1;
	ssh_logs_close_all(p);
	for (size_t i = 0; i < p->nhosts; i++) {
		if (p->hosts[i]->q != NULL)
			async_queue_free(p->hosts[i]->q);
		p->hosts[i]->q = NULL;
		if (p->hosts[i]->hq != NULL)
			async_queue_free(p->hosts[i]->hq);
		p->hosts[i]->hq = NULL;
	}
	while (p->waiters != NULL) {
		struct sshp_waiter *w = p->waiters;

		p->waiters = w->next;
		w->fn(p, w->ctx);
		free(w->need);
		free(w);
	}
	ssh_logs_free_all(p);
	for (size_t i = 0; i < p->nhosts; i++) {
		struct sshp_host *h = p->hosts[i];

		ssh_hosts_conn_close(&h->conn);
		ssh_hosts_conn_close(&h->hconn);
		ssh_hosts_sweep_clear(&h->res);
		free(h->reason);
		free(h->status_cmd1);
		free(h->status_cmd2);
		sshp_dyn_free(h);
		free(h);
	}
	free(p->hosts);
	ssh_conf_free(&p->conf);
	free(p->name);
	free(p->installation_id);
	free(p);
}

/* ---- job status ---- */

static char *sshp_with_log(const struct ssh_job_facts *f, char *reason)
{
	char *r;

	if (f->lastlog == NULL || f->lastlog[0] == '\0')
		return reason;
	r = xprintf("%s: %s", reason, f->lastlog);
	free(reason);
	return r;
}

/* The state of one job directory, as the local provider would judge it. */
static void sshp_facts_status(struct sshp_host *h, const struct ssh_job_facts *f,
                              struct provider_status *st)
{
	int v;

	memset(st, 0, sizeof *st);
	if (f->has_exit) {
		st->ended_ms = (int64_t)f->ended_s * 1000;
		if (f->exit != NULL && sscanf(f->exit, "exited %d", &v) == 1) {
			st->has_exit = 1;
			st->exit_code = v;
		} else if (f->exit != NULL && sscanf(f->exit, "signal %d", &v) == 1) {
			st->has_exit = 1;
			st->exit_code = -v;
		}
		if (f->stop) {
			st->state = JOB_STOPPED;
			st->reason = xstrdup(f->has_pid ? "stopped" : "stopped before it started");
		} else if (f->ready_failed != NULL) {
			st->state = JOB_FAILED;
			st->reason = xstrdup(f->ready_failed);
		} else if (f->runtime_exceeded != NULL) {
			st->state = JOB_FAILED;
			st->reason = xstrdup(f->runtime_exceeded);
		} else if (st->has_exit && st->exit_code == 0) {
			st->state = JOB_SUCCEEDED;
			st->reason = xstrdup("exited with status 0");
		} else if (st->has_exit && st->exit_code > 0) {
			st->state = JOB_FAILED;
			st->reason =
			    sshp_with_log(f, xprintf("exited with status %d", st->exit_code));
		} else if (st->has_exit) {
			st->state = JOB_FAILED;
			st->reason =
			    sshp_with_log(f, xprintf("killed by signal %d", -st->exit_code));
		} else {
			st->state = JOB_FAILED;
			st->reason = xstrdup("the job ended; its exit status is unreadable");
		}
		return;
	}
	if (f->alive || (f->wrapper && f->has_pid)) {
		int ready = !f->readiness || f->ready;

		st->state = ready ? JOB_RUNNING : JOB_STARTING;
		if (!f->wrapper)
			st->reason = xprintf("the job's wrapper on %s died; the job is still "
			                     "watched by its process group",
			                     h->conf->name);
		else if (!ready)
			st->reason = xstrdup("waiting for the readiness probe");
		return;
	}
	if (f->wrapper || (!f->has_wrapper && f->age_s < SSHP_STALE_LAUNCH)) {
		st->state = JOB_STARTING;
		st->reason = xstrdup("starting");
		return;
	}
	if (!f->has_wrapper) {
		st->state = JOB_FAILED;
		st->reason = xprintf("the launch on %s never completed", h->conf->name);
	} else if (f->stop) {
		st->state = JOB_STOPPED;
		st->reason = xstrdup("stopped; exit status unknown (its process is gone)");
	} else {
		st->state = JOB_FAILED;
		st->reason = xprintf("process gone without an exit status (on %s; rebooted or "
		                     "killed?)",
		                     h->conf->name);
	}
}

/* One rank's status from its host's snapshot. */
static void sshp_rank_status(struct sshp_host *h, const char *id, struct provider_status *st)
{
	const struct ssh_job_facts *f;

	memset(st, 0, sizeof *st);
	if (!h->ok) {
		st->state = JOB_UNKNOWN;
		st->reason = xstrdup(h->reason != NULL ? h->reason : "unreachable");
		return;
	}
	f = sshp_find_job(h, id);
	if (f == NULL) {
		st->state = JOB_FAILED;
		st->reason = xprintf("job directory %s/jobs/%s vanished on %s", h->conf->dir, id,
		                     h->conf->name);
		return;
	}
	sshp_facts_status(h, f, st);
}

/* Combines the ranks of a multi-node job (rank 0 first): unknown if a host cannot be
 * reached; once every rank ended, failed > stopped > succeeded; else the job runs (starting
 * while a rank starts). */
static void sshp_job_status(struct provider *p, const char *id, const size_t *hosts, size_t n,
                            struct provider_status *out)
{
	struct provider_status *st = xcalloc(n, sizeof *st);
	size_t unknown = n, failed = n, stopped = n, starting = n, running = n, ended = 0, pick;

	for (size_t i = 0; i < n; i++) {
		sshp_rank_status(p->hosts[hosts[i]], id, &st[i]);
		if (st[i].state == JOB_UNKNOWN && unknown == n)
			unknown = i;
		if (st[i].state == JOB_FAILED && failed == n)
			failed = i;
		if (st[i].state == JOB_STOPPED && stopped == n)
			stopped = i;
		if (st[i].state == JOB_STARTING && starting == n)
			starting = i;
		if (st[i].state == JOB_RUNNING && running == n)
			running = i;
		ended += job_state_terminal(st[i].state) != 0;
	}
	memset(out, 0, sizeof *out);
	if (n == 1) {
		*out = st[0];
		memset(&st[0], 0, sizeof st[0]);
		free(st);
		return;
	}
	if (unknown != n)
		pick = unknown;
	else if (ended == n)
		pick = failed != n ? failed : stopped != n ? stopped : 0;
	else
		pick = starting != n ? starting : running;
	out->state = st[pick].state;
	out->has_exit = st[0].has_exit;
	out->exit_code = st[0].exit_code;
	for (size_t i = 0; i < n; i++) /* a multi-node job ends with its last rank */
		if (st[i].ended_ms > out->ended_ms)
			out->ended_ms = st[i].ended_ms;
	if (st[pick].reason != NULL)
		out->reason = xprintf("rank %zu on %s: %s", pick, p->hosts[hosts[pick]]->conf->name,
		                      st[pick].reason);
	if (failed != n && failed != pick) {
		char *r = xprintf(
		    "%s%srank %zu on %s failed: %s", out->reason != NULL ? out->reason : "",
		    out->reason != NULL ? "; " : "", failed, p->hosts[hosts[failed]]->conf->name,
		    st[failed].reason != NULL ? st[failed].reason : "");

		free(out->reason);
		out->reason = r;
	}
	for (size_t i = 0; i < n; i++)
		provider_status_clear(&st[i]);
	free(st);
}

/* What v2's status adds: rank 0's port, when it started, one replica (all ranks). */
static void sshp_status_v2(struct provider *p, const char *id, const size_t *hosts, size_t n,
                           struct provider_status *st)
{
	struct sshp_host *h = n > 0 ? p->hosts[hosts[0]] : NULL;
	const struct ssh_job_facts *f = h != NULL && h->ok ? sshp_find_job(h, id) : NULL;

	if (f != NULL) {
		st->port = f->port;
		if (f->age_s > 0 && h->ever_ok)
			st->started_ms = h->at_ms - (int64_t)f->age_s * 1000;
	}
	st->desired_replicas = job_state_active(st->state) ? 1 : 0;
	st->ready_replicas = st->state == JOB_RUNNING ? 1 : 0;
}

struct sshp_refresh {
	char *id;
	size_t *hosts;
	size_t n;
	provider_status_cb cb;
	void *arg;
};

static void sshp_refresh_ready(struct provider *p, void *ctx)
{
	struct sshp_refresh *r = ctx;
	struct provider_status st;

	if (p->closing) {
		r->cb(r->arg, -1, NULL, "the ssh provider is closing");
	} else {
		sshp_job_status(p, r->id, r->hosts, r->n, &st);
		sshp_status_v2(p, r->id, r->hosts, r->n, &st);
		r->cb(r->arg, 0, &st, NULL);
		provider_status_clear(&st);
	}
	free(r->id);
	free(r->hosts);
	free(r);
}

static int sshp_refresh(struct provider *p, const char *job_id, const char *ref,
                        provider_status_cb cb, void *arg, char **cause)
{
	struct sshp_refresh *r = xcalloc(1, sizeof *r);
	unsigned char *mask;

	if (sshp_parse_ref(p, ref, &r->id, &r->hosts, &r->n, cause) != 0) {
		free(r);
		return -1;
	}
	if (job_id != NULL && strcmp(job_id, r->id) != 0) {
		xcause(cause, "ref %s names job %s, not %s", ref, r->id, job_id);
		free(r->id);
		free(r->hosts);
		free(r);
		return -1;
	}
	r->cb = cb;
	r->arg = arg;
	mask = sshp_mask(p, r->hosts, r->n);
	sshp_wait(p, mask, sshp_refresh_ready, r);
	free(mask);
	return 0;
}

/* ---- stop ---- */

struct sshp_stop {
	provider_done_cb cb;
	void *arg;
	size_t pending;
	int delivered, ended;
	char *err;
};

static void sshp_stop_done(struct sshp_op *op, int cancelled)
{
	struct sshp_stop *s = op->ctx;
	const char *out = op->r.out != NULL ? op->r.out : "";

	op->h->stale = 1;
	if (cancelled) {
		if (s->err == NULL)
			s->err = xstrdup("the ssh provider closed before the stop was delivered");
	} else if (op->exec_rc != 0) {
		if (s->err == NULL)
			s->err = xstrdup(op->cause != NULL ? op->cause : "unreachable");
	} else if (strstr(out, "@@ok") != NULL) {
		s->delivered++;
	} else if (strstr(out, "@@ended") != NULL || strstr(out, "@@gone") != NULL) {
		s->ended++;
	} else if (s->err == NULL) {
		const char *e = strstr(out, "@@err ");

		s->err = e != NULL ? xprintf("%s: %.*s", op->h->conf->name,
		                             (int)strcspn(e + 6, "\n"), e + 6)
		                   : xprintf("%s: the stop command failed (exit %d)",
		                             op->h->conf->name, op->r.exit_status);
	}
	if (--s->pending > 0)
		return;
	if (s->err != NULL)
		s->cb(s->arg, -1, s->err);
	else if (s->delivered == 0)
		s->cb(s->arg, -1, "job has already ended");
	else
		s->cb(s->arg, 0, NULL);
	free(s->err);
	free(s);
}

static int sshp_stop(struct provider *p, const char *ref, int grace_ms, provider_done_cb cb,
                     void *arg, char **cause)
{
	struct sshp_stop *s;
	size_t *hosts, n;
	char *id, grace[32];

	if (sshp_parse_ref(p, ref, &id, &hosts, &n, cause) != 0)
		return -1;
	if (grace_ms < 0)
		grace_ms = 0;
	snprintf(grace, sizeof grace, "%d.%03d", grace_ms / 1000, grace_ms % 1000);
	s = xcalloc(1, sizeof *s);
	s->cb = cb;
	s->arg = arg;
	s->pending = n;
	for (size_t i = 0; i < n; i++) {
		struct sshp_host *h = p->hosts[hosts[i]];
		struct sshp_op *op =
		    sshp_op_new(h, ssh_remote_command(h->conf->dir, id, grace, NULL),
		                xstrdup(ssh_remote_stop_script), p->conf.io_timeout_ms);

		op->done = sshp_stop_done;
		op->ctx = s;
		sshp_op_submit(op);
	}
	free(id);
	free(hosts);
	return 0;
}

/* ---- reconcile: list and destroy ---- */

/* One list_owned or destroy in flight: an op per host, answered on the loop when the last
 * one is done (never waiting on the loop thread). */
struct sshp_group {
	struct provider *p;
	size_t pending;
	char *err;                    /* the first failure */
	struct ssh_sweep_result *res; /* list_owned: per host index, moved from the ops */
	unsigned char *got;           /* list_owned: res[i] is set */
	size_t nres;
	provider_owned_cb owned_cb;
	provider_done_cb done_cb;
	void *arg;
};

static void sshp_group_free(struct sshp_group *g)
{
	for (size_t i = 0; i < g->nres; i++)
		if (g->got[i])
			ssh_hosts_sweep_clear(&g->res[i]);
	free(g->res);
	free(g->got);
	free(g->err);
	free(g);
}

static void sshp_group_fail(struct sshp_group *g, const char *why)
{
	if (g->err == NULL)
		g->err = xstrdup(why);
}

/* one ref per job id, its hosts in rank order */
static void sshp_list_answer(struct sshp_group *g)
{
	struct provider *p = g->p;
	struct provider_owned *v = NULL;
	char **hostl = NULL;
	int *ranks = NULL;
	size_t nids = 0;

	if (g->err != NULL) {
		g->owned_cb(g->arg, -1, NULL, 0, g->err);
		return;
	}
	for (size_t i = 0; i < g->nres && i < p->nhosts; i++) {
		for (size_t j = 0; g->got[i] && j < g->res[i].njobs; j++) {
			const struct ssh_job_facts *f = &g->res[i].jobs[j];
			const char *rs = kvlist_get(&f->meta, "rank");
			const char *inst = kvlist_get(&f->meta, "installation_id");
			const char *att = kvlist_get(&f->meta, "attempt");
			const char *owner = kvlist_get(&f->meta, "owner");
			int rank = rs != NULL ? atoi(rs) : 0;
			size_t k;

			if (!sshp_id_ok(f->id, strlen(f->id)))
				continue;
			/* another store's job (a login shared by users or bastions), or one from
			 * a Gantry before labels: never ours to adopt or destroy */
			if (p->installation_id != NULL &&
			    (inst == NULL || strcmp(inst, p->installation_id) != 0))
				continue;
			for (k = 0; k < nids && strcmp(v[k].job_id, f->id) != 0; k++)
				;
			if (k == nids) {
				v = xreallocarray(v, nids + 1, sizeof *v);
				hostl = xreallocarray(hostl, nids + 1, sizeof *hostl);
				ranks = xreallocarray(ranks, nids + 1, sizeof *ranks);
				memset(&v[nids], 0, sizeof v[nids]);
				v[nids].job_id = xstrdup(f->id);
				v[nids].attempt = att != NULL ? atoi(att) : 0;
				v[nids].owner = sshp_dupnull(owner);
				if (f->age_s > 0)
					v[nids].started_ms =
					    loop_wall_ms() - (int64_t)f->age_s * 1000;
				hostl[nids] = xstrdup(p->hosts[i]->conf->name);
				ranks[nids] = rank;
				nids++;
			} else {
				char *next =
				    rank < ranks[k]
				        ? xprintf("%s,%s", p->hosts[i]->conf->name, hostl[k])
				        : xprintf("%s,%s", hostl[k], p->hosts[i]->conf->name);

				if (rank < ranks[k])
					ranks[k] = rank;
				free(hostl[k]);
				hostl[k] = next;
			}
		}
	}
	for (size_t k = 0; k < nids; k++) {
		v[k].ref = xprintf("%s@%s", v[k].job_id, hostl[k]);
		free(hostl[k]);
	}
	g->owned_cb(g->arg, 0, v, nids, NULL);
	for (size_t k = 0; k < nids; k++)
		provider_owned_clear(&v[k]);
	free(v);
	free(hostl);
	free(ranks);
}

static void sshp_list_done(struct sshp_op *op, int cancelled)
{
	struct sshp_group *g = op->ctx;

	if (cancelled) {
		char *m = xprintf("%s: the provider closed", op->h->conf->name);

		sshp_group_fail(g, m);
		free(m);
	} else if (op->rc != 0)
		sshp_group_fail(g, op->cause != NULL ? op->cause : "no answer");
	else if (op->h->idx < g->nres) {
		g->res[op->h->idx] = op->res;
		g->got[op->h->idx] = 1;
		memset(&op->res, 0, sizeof op->res);
	}
	if (--g->pending > 0)
		return;
	sshp_list_answer(g);
	sshp_group_free(g);
}

static int sshp_list_owned(struct provider *p, provider_owned_cb cb, void *arg, char **cause)
{
	struct sshp_group *g;

	if (p->closing)
		return xcause(cause, "the ssh provider is closing");
	if (sshp_live_hosts(p) == 0) {
		cb(arg, 0, NULL, 0, NULL);
		return 0;
	}
	g = xcalloc(1, sizeof *g);
	g->p = p;
	g->owned_cb = cb;
	g->arg = arg;
	g->nres = p->nhosts;
	g->res = xcalloc(p->nhosts, sizeof *g->res);
	g->got = xcalloc(p->nhosts, 1);
	g->pending = sshp_live_hosts(p);
	for (size_t i = 0; i < p->nhosts; i++) {
		struct sshp_host *h = p->hosts[i];
		struct sshp_op *op;

		if (h->removed)
			continue;
		op = sshp_op_new(h, NULL, xstrdup(ssh_remote_status_script), p->conf.io_timeout_ms);

		op->sweep = 1;
		op->done = sshp_list_done;
		op->ctx = g;
		sshp_op_submit(op);
	}
	return 0;
}

static void sshp_destroy_done(struct sshp_op *op, int cancelled)
{
	struct sshp_group *g = op->ctx;
	const char *out = op->r.out != NULL ? op->r.out : "";
	const char *e = strstr(out, "@@err ");

	if (cancelled) {
		{
			char *m = xprintf("%s: the provider closed", op->h->conf->name);

			sshp_group_fail(g, m);
			free(m);
		}
	} else if (op->rc != 0) {
		sshp_group_fail(g, op->cause != NULL ? op->cause : "no answer");
	} else if (e != NULL) {
		char *m = xprintf("%s: %.*s", op->h->conf->name, (int)strcspn(e + 6, "\n"), e + 6);

		sshp_group_fail(g, m);
		free(m);
	} else if (strstr(out, "@@ok") == NULL && strstr(out, "@@gone") == NULL) {
		char *m = xprintf("%s: the destroy command failed (exit %d)", op->h->conf->name,
		                  op->r.exit_status);

		sshp_group_fail(g, m);
		free(m);
	}
	if (--g->pending > 0)
		return;
	g->done_cb(g->arg, g->err != NULL ? -1 : 0, g->err);
	sshp_group_free(g);
}

static int sshp_destroy(struct provider *p, const char *ref, provider_done_cb cb, void *arg,
                        char **cause)
{
	struct sshp_group *g;
	size_t *hosts, n;
	char *id;

	if (p->closing)
		return xcause(cause, "the ssh provider is closing");
	if (sshp_parse_ref(p, ref, &id, &hosts, &n, cause) != 0)
		return -1;
	g = xcalloc(1, sizeof *g);
	g->p = p;
	g->done_cb = cb;
	g->arg = arg;
	g->pending = n;
	for (size_t i = 0; i < n; i++) {
		struct sshp_host *h = p->hosts[hosts[i]];
		struct sshp_op *op =
		    sshp_op_new(h, ssh_remote_command(h->conf->dir, id, NULL),
		                xstrdup(ssh_remote_destroy_script), p->conf.io_timeout_ms);

		h->stale = 1;
		op->done = sshp_destroy_done;
		op->ctx = g;
		sshp_op_submit(op);
	}
	free(hosts);
	free(id);
	return 0;
}

/* ---- shells ---- */

static void sshp_copy_target(struct ssh_target *dst, const struct ssh_target *src)
{
	memset(dst, 0, sizeof *dst);
	dst->host = sshp_dupnull(src->host);
	dst->port = src->port;
	dst->user = sshp_dupnull(src->user);
	dst->key_file = sshp_dupnull(src->key_file);
	dst->known_hosts = sshp_dupnull(src->known_hosts);
	dst->connect_timeout_ms = src->connect_timeout_ms;
	dst->io_timeout_ms = src->io_timeout_ms;
	dst->keepalive_s = src->keepalive_s;
}

static int sshp_shell_target(struct provider *p, const char *ref, int worker,
                             struct provider_shell *out, char **cause)
{
	size_t *hosts, n;
	char *id;
	struct sshp_host *h;

	memset(out, 0, sizeof *out);
	if (sshp_parse_ref(p, ref, &id, &hosts, &n, cause) != 0)
		return -1;
	if (worker < 0 || (size_t)worker >= n) {
		xcause(cause, "job %s has %zu worker%s (0-%zu); there is no worker %d", id, n,
		       n == 1 ? "" : "s", n - 1, worker);
		free(id);
		free(hosts);
		return -1;
	}
	h = p->hosts[hosts[worker]];
	out->local = 0;
	out->dir = xprintf("%s/jobs/%s", h->conf->dir, id);
	out->host_name = xstrdup(h->conf->name);
	out->nworkers = (int)n;
	kvlist_init(&out->env);
	sshp_copy_target(&out->target, &h->conn.target);
	if (h->conn.target.jump != NULL) {
		sshp_copy_target(&out->jump_target, h->conn.target.jump);
		out->target.jump = &out->jump_target;
	}
	free(id);
	free(hosts);
	return 0;
}

/* The target comes from the configuration: answered at once. */
static int sshp_target(struct provider *p, const char *ref, int worker, provider_target_cb cb,
                       void *arg, char **cause)
{
	struct provider_shell sh;

	if (sshp_shell_target(p, ref, worker, &sh, cause) != 0)
		return -1;
	cb(arg, 0, &sh, NULL);
	provider_shell_clear(&sh);
	return 0;
}

/* ---- HTTP to a worker's loopback ---- */

struct sshp_http_req {
	provider_http_cb cb;
	void *arg;
};

static void sshp_http_done(struct sshp_op *op, int cancelled)
{
	struct sshp_http_req *q = op->ctx;

	if (cancelled)
		q->cb(q->arg, -1, NULL, "the provider closed");
	else if (op->exec_rc == 0)
		q->cb(q->arg, op->hr.status, op->hr.body, NULL);
	else
		q->cb(q->arg, -1, NULL, op->cause != NULL ? op->cause : "failed");
	free(q);
}

static int sshp_worker_http(struct provider *p, const char *ref, int port, const char *path,
                            provider_http_cb cb, void *arg, char **cause)
{
	size_t *hosts, n;
	char *id;
	struct sshp_op *op;
	struct sshp_http_req *q;

	if (port <= 0 || port > 65535 || path == NULL || path[0] != '/')
		return xcause(cause, "not a port and an HTTP path: %d %s", port,
		              path != NULL ? path : "(null)");
	if (sshp_parse_ref(p, ref, &id, &hosts, &n, cause) != 0)
		return -1;
	/* a service that does not answer must not hold the host's queue (its sweeps) long */
	op = sshp_op_new(p->hosts[hosts[0]], xstrdup(path), NULL,
	                 p->conf.io_timeout_ms < SSHP_HTTP_TIMEOUT_MS ? p->conf.io_timeout_ms
	                                                              : SSHP_HTTP_TIMEOUT_MS);
	op->http_port = port;
	q = xcalloc(1, sizeof *q);
	q->cb = cb;
	q->arg = arg;
	op->done = sshp_http_done;
	op->ctx = q;
	sshp_op_submit(op);
	free(id);
	free(hosts);
	return 0;
}

/* ---- hosts and offers ---- */

/* Keeps only the GPUs in list (and their processes). */
static void sshp_narrow_gpus(struct tele_host *t, const char *list)
{
	size_t k = 0, m = 0;
	unsigned char *keep = t->ngpus > 0 ? xcalloc(t->ngpus, 1) : NULL;

	for (size_t i = 0; i < t->ngpus; i++) {
		const char *s = list;

		while (s != NULL && *s != '\0') {
			if (atoi(s) == t->gpus[i].index && isdigit((unsigned char)*s))
				keep[i] = 1;
			s = strchr(s, ',');
			if (s != NULL)
				s++;
		}
	}
	for (size_t j = 0; j < t->nprocs; j++) {
		int mine = 0;

		for (size_t i = 0; i < t->ngpus; i++)
			if (keep[i] && strcmp(t->procs[j].gpu_uuid, t->gpus[i].uuid) == 0)
				mine = 1;
		if (mine)
			t->procs[m++] = t->procs[j];
	}
	t->nprocs = m;
	for (size_t i = 0; i < t->ngpus; i++)
		if (keep[i])
			t->gpus[k++] = t->gpus[i];
	t->ngpus = k;
	free(keep);
}

static void sshp_host_tele(struct sshp_host *h, struct tele_host *t)
{
	if (h->ever_ok)
		tele_host_copy(t, &h->res.tele);
	else
		memset(t, 0, sizeof *t);
	free(t->name);
	free(t->address);
	free(t->reason);
	free(t->gpu_type);
	t->name = xstrdup(h->conf->name);
	t->address = xprintf("%s:%d", h->conf->address, h->conf->port);
	t->gpu_type = sshp_dupnull(h->conf->gpu_type);
	t->reachable = h->swept && h->ok;
	t->at_ms = h->ever_ok ? h->at_ms : 0;
	t->last_contact_ms = h->last_contact_ms;
	t->reason = !h->swept ? xstrdup("not contacted yet")
	            : !h->ok  ? xstrdup(h->reason != NULL ? h->reason : "unreachable")
	                      : NULL;
	t->gpus_total = h->conf->gpus;
	t->gpus_free = sshp_free_gpus(h);
}

static int sshp_hosts(struct provider *p, const char *ref, struct tele_host **out, size_t *n)
{
	size_t *hosts = NULL, nh = 0;
	char *id = NULL;
	unsigned char *mask;

	*out = NULL;
	*n = 0;
	if (ref != NULL && sshp_parse_ref(p, ref, &id, &hosts, &nh, NULL) != 0)
		return -1;
	mask = sshp_mask(p, hosts, nh);
	if (ref == NULL) {
		hosts = xcalloc(p->nhosts > 0 ? p->nhosts : 1, sizeof *hosts);
		for (size_t i = 0; i < p->nhosts; i++)
			if (!p->hosts[i]->removed)
				hosts[nh++] = i;
	}
	*out = xcalloc(nh > 0 ? nh : 1, sizeof **out);
	for (size_t i = 0; i < nh; i++) {
		struct sshp_host *h = p->hosts[hosts[i]];

		sshp_host_tele(h, &(*out)[i]);
		if (id != NULL) {
			const struct ssh_job_facts *f = sshp_find_job(h, id);

			sshp_narrow_gpus(&(*out)[i], f != NULL && f->gpus != NULL ? f->gpus : "");
		}
	}
	*n = nh;
	sshp_refresh_cache(p, mask);
	free(mask);
	free(hosts);
	free(id);
	return 0;
}

static int sshp_offer(struct provider *p, const struct template *t, struct offer_verdict *out,
                      char **cause)
{
	int want = 0, nodes = 1, fitting = 0, reachable = 0, contacted = 0;
	const char *type = NULL;
	struct sshp_host *best = NULL;
	double best_rate = -1;
	unsigned char *mask;
	size_t live = sshp_live_hosts(p);

	(void)cause;
	memset(out, 0, sizeof *out);
	if (t != NULL && t->resources.naccels > 0) {
		want = t->resources.accels[0].count;
		type = t->resources.accels[0].name;
	}
	if (t != NULL && t->resources.nodes > 1)
		nodes = t->resources.nodes;
	for (size_t i = 0; i < p->nhosts; i++) {
		struct sshp_host *h = p->hosts[i];
		int nfree;
		double rate = h->conf->has_rate      ? h->conf->rate_gpu_hour
		              : p->conf.has_rate_gpu ? p->conf.rate_gpu_hour
		                                     : -1;

		if (h->removed)
			continue;
		nfree = sshp_free_gpus(h);
		contacted += h->swept;
		reachable += h->swept && h->ok;
		if (h->swept && !h->ok)
			continue;
		if (want > 0 && (!sshp_type_matches(type, h->conf->gpu_type) || nfree < want))
			continue;
		if (t != NULL && t->resources.cpus > 0 && h->ever_ok && h->res.tele.cpus > 0 &&
		    h->res.tele.cpus < t->resources.cpus)
			continue;
		fitting++;
		if (best == NULL || (rate >= 0 && (best_rate < 0 || rate < best_rate))) {
			best = h;
			best_rate = rate;
		}
	}
	out->provider = xstrdup(p->name);
	if (want > 0)
		out->description =
		    xprintf("ssh fleet: %zu host%s, %d with %d+ free %s%s", live,
		            live == 1 ? "" : "s", fitting, want, type != NULL ? type : "GPU",
		            contacted < (int)live ? " (as configured)" : "");
	else
		out->description = xprintf("ssh fleet: %zu host%s, %d reachable", live,
		                           live == 1 ? "" : "s", reachable);
	out->fits = fitting >= nodes;
	if (!out->fits)
		out->reason =
		    want > 0 ? xprintf("needs %d host%s with %d free %s; %d ha%s them", nodes,
		                       nodes == 1 ? "" : "s", want, type != NULL ? type : "GPU",
		                       fitting, fitting == 1 ? "s" : "ve")
		             : xprintf("needs %d host%s; %d can take it", nodes,
		                       nodes == 1 ? "" : "s", fitting);
	out->gpus = want;
	if (best != NULL) {
		out->gpu_name = want > 0 ? sshp_dupnull(best->conf->gpu_type) : NULL;
		if (best->ever_ok) {
			out->cpus = best->res.tele.cpus;
			out->memory_mib = best->res.tele.mem_total_mib.ok
			                      ? (int64_t)best->res.tele.mem_total_mib.v
			                      : 0;
		}
	}
	if (want > 0 && best_rate >= 0) {
		out->priced = 1;
		out->price_per_hour = (double)want * best_rate * nodes;
	} else if (want == 0 && p->conf.has_rate_cpu && t != NULL && t->resources.cpus > 0) {
		out->priced = 1;
		out->price_per_hour = (double)t->resources.cpus * p->conf.rate_cpu_hour * nodes;
	}
	mask = sshp_mask(p, NULL, 0);
	sshp_refresh_cache(p, mask);
	free(mask);
	return 0;
}

/* The fleet's verdict for a launch (the hosts it would pick), as one offer. */
static int sshp_plan_offer(struct provider *p, const struct template *t, provider_offers_cb cb,
                           void *arg, char **cause)
{
	struct offer_verdict po;

	if (sshp_offer(p, t, &po, cause) != 0)
		return -1;
	provider_offers_answer_one(&po, "", cb, arg);
	offer_verdict_clear(&po);
	return 0;
}

int ssh_offers(struct provider *p, const struct template *t, provider_offers_cb cb, void *arg,
               char **cause); /* providers/ssh_offers.c */

const struct provider_ops ssh_provider_ops = {
    .name = "ssh",
    .summary = "jobs on a fleet of hosts reached over SSH (hosts: in config.yaml)",
    .open = sshp_open,
    .close = sshp_close,
    .offers = ssh_offers,
    .plan_offer = sshp_plan_offer,
    .launch = ssh_launch_start,
    .refresh = sshp_refresh,
    .stop = sshp_stop,
    .logs_open = ssh_logs_open,
    .logs_close = ssh_logs_close,
    .list_owned = sshp_list_owned,
    .destroy = sshp_destroy,
    .target = sshp_target,
    .hosts = sshp_hosts,
    .worker_http = sshp_worker_http,
    .cluster = ssh_cluster, /* providers/ssh_cluster.c */
};
