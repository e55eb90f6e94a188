/* ssh_launch.c: launching a job on the ssh fleet. The launch waits for fresh status
 * snapshots of every host, returns the existing job when a retry finds its directory (same
 * idempotency key), else picks hosts (best fit: the fewest free GPUs of the wanted type
 * that suffice) and runs the launch script (ssh_remote.c) on them, moving on to the next
 * candidate when a host turns out full or unreachable. A multi-node job starts rank 0
 * first (it picks MASTER_PORT), then the other ranks together; if one fails, the ranks
 * that started are destroyed. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"
#include "core/xmalloc.h"
#include "providers/provider.h"
#include "providers/ssh_internal.h"

struct ssh_launch {
	struct provider *p;
	char *job_id, *idem_key, *name, *owner, *script, *readiness_path, *gpu_type;
	char *installation_id;
	int attempt;
	struct kvlist env;
	char **env_pass; /* job_env.pass, NULL-ended, or NULL */
	enum job_kind kind;
	int want_port, fixed_port, readiness_timeout_s, gpus, gpu_shared, nodes;
	long max_runtime_s;
	provider_launch_cb cb;
	void *arg;
	size_t *cand; /* candidate hosts, best first */
	size_t ncand, next;
	char *notes; /* why hosts were passed over */
	/* multi-node */
	char *hostlist;
	int master_port;
	int port0;
	size_t pending;
	int phase; /* 0: rank 0 launching, 1: the other ranks */
	int failed;
	char *fail_cause;
	unsigned char *launched; /* per rank */
};

static void ssh_launch_free(struct ssh_launch *l)
{
	free(l->job_id);
	free(l->idem_key);
	free(l->name);
	free(l->owner);
	free(l->installation_id);
	free(l->script);
	free(l->readiness_path);
	free(l->gpu_type);
	kvlist_free(&l->env);
	for (size_t i = 0; l->env_pass != NULL && l->env_pass[i] != NULL; i++)
		free(l->env_pass[i]);
	free(l->env_pass);
	free(l->cand);
	free(l->notes);
	free(l->hostlist);
	free(l->fail_cause);
	free(l->launched);
	free(l);
}

static void ssh_launch_note(struct ssh_launch *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void ssh_launch_note(struct ssh_launch *l, const char *fmt, ...)
{
	va_list ap;
	char *msg, *next;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	next = l->notes == NULL ? msg : xprintf("%s, %s", l->notes, msg);
	if (next != msg) {
		free(msg);
		free(l->notes);
	}
	l->notes = next;
}

/* "gpu2: unreachable: connection refused (never reached)" from "gpu2 unreachable: ...". */
static void ssh_launch_note_down(struct ssh_launch *l, struct sshp_host *h, const char *cause)
{
	size_t n = strlen(h->conf->name);

	if (cause != NULL && strncmp(cause, h->conf->name, n) == 0 && cause[n] == ' ')
		ssh_launch_note(l, "%s: %s", h->conf->name, cause + n + 1);
	else
		ssh_launch_note(l, "%s: %s", h->conf->name, cause != NULL ? cause : "unreachable");
}

static void ssh_launch_fail(struct ssh_launch *l, const char *cause)
{
	l->cb(l->arg, -1, NULL, cause);
	ssh_launch_free(l);
}

/* "no host has 2 free H100 (gpu1: 1 free, gpu2: unreachable: ...)". */
static void ssh_launch_fail_capacity(struct ssh_launch *l)
{
	char *what = l->gpus > 0 ? xprintf("no host has %d free %s", l->gpus,
	                                   l->gpu_type != NULL ? l->gpu_type : "GPU")
	                         : xstrdup("no host can take the job");
	char *msg;

	if (l->nodes > 1) {
		free(what);
		what = l->gpus > 0 ? xprintf("fewer than %d hosts have %d free %s", l->nodes,
		                             l->gpus, l->gpu_type != NULL ? l->gpu_type : "GPU")
		                   : xprintf("fewer than %d hosts can take the job", l->nodes);
	}
	msg = l->notes != NULL ? xprintf("%s (%s)", what, l->notes) : xstrdup(what);
	ssh_launch_fail(l, msg);
	free(msg);
	free(what);
}

static void ssh_launch_report(struct ssh_launch *l, const char *ref, int port, struct sshp_host *h0)
{
	struct provider_launch_result res;

	memset(&res, 0, sizeof res);
	res.ref = xstrdup(ref);
	res.port = port;
	if (port > 0)
		res.url = xprintf("http://%s:%d/", h0->conf->address, port);
	l->cb(l->arg, 0, &res, NULL);
	provider_launch_result_clear(&res);
}

/* A retry of a launch that already happened: the job's directories are on some hosts. */
static int ssh_launch_existing(struct ssh_launch *l)
{
	struct provider *p = l->p;
	size_t *order = NULL, n = 0;
	char *ref = NULL;
	int port = 0;

	for (size_t i = 0; i < p->nhosts; i++) {
		struct ssh_job_facts *f =
		    p->hosts[i]->removed ? NULL : sshp_find_job(p->hosts[i], l->job_id);
		const char *key;

		if (f == NULL)
			continue;
		key = kvlist_get(&f->meta, "idem_key");
		if (key == NULL || l->idem_key == NULL || strcmp(key, l->idem_key) != 0) {
			char *msg = xprintf("job %s already exists on %s for another launch",
			                    l->job_id, p->hosts[i]->conf->name);

			free(order);
			ssh_launch_fail(l, msg);
			free(msg);
			return 1;
		}
		order = xreallocarray(order, n + 1, sizeof *order);
		order[n++] = i;
	}
	if (n == 0)
		return 0;
	/* rank order from meta */
	for (size_t i = 1; i < n; i++) {
		for (size_t k = i; k > 0; k--) {
			const char *a = kvlist_get(
			    &sshp_find_job(p->hosts[order[k - 1]], l->job_id)->meta, "rank");
			const char *b =
			    kvlist_get(&sshp_find_job(p->hosts[order[k]], l->job_id)->meta, "rank");
			size_t t;

			if (atoi(a != NULL ? a : "0") <= atoi(b != NULL ? b : "0"))
				break;
			t = order[k];
			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	}
	ref = xprintf("%s@", l->job_id);
	for (size_t i = 0; i < n; i++) {
		char *next =
		    xprintf("%s%s%s", ref, i > 0 ? "," : "", p->hosts[order[i]]->conf->name);

		free(ref);
		ref = next;
	}
	port = sshp_find_job(p->hosts[order[0]], l->job_id)->port;
	ssh_launch_report(l, ref, port, p->hosts[order[0]]);
	free(ref);
	free(order);
	ssh_launch_free(l);
	return 1;
}

/* The launch script for host h as rank `rank`. */
static struct sshp_op *ssh_launch_op(struct ssh_launch *l, struct sshp_host *h, int rank,
                                     char **cause)
{
	struct provider *p = l->p;
	struct ssh_remote_launch rl;
	char *script;

	memset(&rl, 0, sizeof rl);
	rl.dir = h->conf->dir;
	rl.job_id = l->job_id;
	rl.idem_key = l->idem_key;
	rl.name = l->name;
	rl.owner = l->owner;
	rl.installation_id = l->installation_id;
	rl.attempt = l->attempt;
	rl.kind = job_kind_name(l->kind);
	rl.script = l->script != NULL ? l->script : "";
	rl.env = &l->env;
	rl.gpus = l->gpus;
	rl.gpus_total = h->conf->gpus;
	rl.gpu_shared = l->gpu_shared;
	rl.want_port = rank == 0 ? l->want_port : 0;
	rl.fixed_port = rank == 0 ? l->fixed_port : 0;
	rl.readiness_path = rank == 0 ? l->readiness_path : NULL;
	rl.readiness_timeout_s = l->readiness_timeout_s;
	rl.max_runtime_s = l->max_runtime_s;
	rl.rank = rank;
	rl.world = l->nodes;
	rl.master_addr = p->hosts[l->cand[0]]->conf->address;
	rl.master_port = l->master_port;
	rl.hosts = l->hostlist != NULL ? l->hostlist : h->conf->name;
	rl.env_pass = (const char *const *)l->env_pass;
	script = ssh_remote_launch_script(&rl, cause);
	if (script == NULL)
		return NULL;
	return sshp_op_new(h, ssh_remote_command(h->conf->dir, NULL), script,
	                   p->conf.io_timeout_ms + SSH_LAUNCH_EXTRA_MS);
}

/* Reads the launch script's answer: 1 launched, 0 no GPU, -1 failed (note set). */
static int ssh_launch_answer(struct ssh_launch *l, struct sshp_op *op, int *port, int *master_port,
                             char **why)
{
	const char *out = op->r.out != NULL ? op->r.out : "", *line;
	struct sshp_host *h = op->h;

	*why = NULL;
	if (op->exec_rc != 0) {
		*why = xstrdup(op->cause != NULL ? op->cause : "unreachable");
		return -1;
	}
	line = strstr(out, "@@");
	if (line != NULL && strncmp(line, "@@ok ", 5) == 0) {
		const char *pt = strstr(line, " port="), *mp = strstr(line, " master_port=");

		*port = pt != NULL ? atoi(pt + 6) : 0;
		*master_port = mp != NULL ? atoi(mp + 13) : 0;
		return 1;
	}
	if (line != NULL && strncmp(line, "@@nogpu ", 8) == 0) {
		*why = xprintf("%s: %d free", h->conf->name, atoi(line + 8));
		return 0;
	}
	if (line != NULL && strncmp(line, "@@err ", 6) == 0) {
		*why = xprintf("%s: %.*s", h->conf->name, (int)strcspn(line + 6, "\n"), line + 6);
		return -1;
	}
	{
		const char *e = op->r.errout != NULL ? op->r.errout : "";

		*why = xprintf("%s: the launch script failed (exit %d)%s%.*s", h->conf->name,
		               op->r.exit_status, *e != '\0' ? ": " : "", (int)strcspn(e, "\n"), e);
	}
	(void)l;
	return -1;
}

static void ssh_launch_try_next(struct ssh_launch *l);

static void ssh_launch_one_done(struct sshp_op *op, int cancelled)
{
	struct ssh_launch *l = op->ctx;
	int port = 0, mp = 0, rc;
	char *why = NULL;

	op->h->stale = 1;
	if (cancelled) {
		ssh_launch_fail(l, "the ssh provider closed before the launch ran");
		return;
	}
	rc = ssh_launch_answer(l, op, &port, &mp, &why);
	if (rc == 1) {
		char *ref = xprintf("%s@%s", l->job_id, op->h->conf->name);

		ssh_launch_report(l, ref, port, op->h);
		free(ref);
		ssh_launch_free(l);
		free(why);
		return;
	}
	if (op->exec_rc != 0)
		ssh_launch_note_down(l, op->h, why);
	else
		ssh_launch_note(l, "%s", why);
	free(why);
	if (l->p->closing) {
		ssh_launch_fail(l, "the ssh provider is closing");
		return;
	}
	ssh_launch_try_next(l);
}

static void ssh_launch_try_next(struct ssh_launch *l)
{
	struct sshp_op *op;
	char *cause = NULL;

	if (l->next >= l->ncand) {
		ssh_launch_fail_capacity(l);
		return;
	}
	op = ssh_launch_op(l, l->p->hosts[l->cand[l->next++]], 0, &cause);
	if (op == NULL) {
		ssh_launch_fail(l, cause);
		free(cause);
		return;
	}
	op->done = ssh_launch_one_done;
	op->ctx = l;
	sshp_op_submit(op);
}

/* Multi-node: a failed launch removes the ranks that did start. */
static void ssh_launch_undo(struct ssh_launch *l)
{
	for (int r = 0; r < l->nodes; r++) {
		struct sshp_host *h;

		if (!l->launched[r])
			continue;
		h = l->p->hosts[l->cand[r]];
		h->stale = 1;
		if (l->p->closing)
			continue;
		sshp_op_submit(sshp_op_new(h, ssh_remote_command(h->conf->dir, l->job_id, NULL),
		                           xstrdup(ssh_remote_destroy_script),
		                           l->p->conf.io_timeout_ms));
	}
}

struct ssh_launch_rank {
	struct ssh_launch *l;
	int rank;
};

static void ssh_launch_finish(struct ssh_launch *l)
{
	char *ref;

	if (l->failed) {
		ssh_launch_undo(l);
		ssh_launch_fail(l, l->fail_cause);
		return;
	}
	ref = xprintf("%s@%s", l->job_id, l->hostlist);
	ssh_launch_report(l, ref, l->port0, l->p->hosts[l->cand[0]]);
	free(ref);
	ssh_launch_free(l);
}

static void ssh_launch_rank_done(struct sshp_op *op, int cancelled)
{
	struct ssh_launch_rank *rk = op->ctx;
	struct ssh_launch *l = rk->l;
	int port = 0, mp = 0, rc = -1;
	char *why = NULL;

	op->h->stale = 1;
	if (!cancelled)
		rc = ssh_launch_answer(l, op, &port, &mp, &why);
	if (rc == 1) {
		l->launched[rk->rank] = 1;
	} else if (!l->failed) {
		l->failed = 1;
		l->fail_cause = cancelled ? xstrdup("the ssh provider closed during the launch")
		                : rc == 0
		                    ? xprintf("rank %d could not get its GPUs (%s)", rk->rank, why)
		                    : xprintf("rank %d: %s", rk->rank, why);
	}
	free(why);
	if (rk->rank == 0 && rc == 1) {
		l->port0 = port;
		l->master_port = mp;
	}
	free(rk);
	if (--l->pending > 0)
		return;
	if (l->failed || l->p->closing || l->phase == 1) {
		if (l->p->closing && !l->failed) {
			l->failed = 1;
			l->fail_cause = xstrdup("the ssh provider is closing");
		}
		ssh_launch_finish(l);
		return;
	}
	/* rank 0 is up and named the master port: start the others together */
	l->phase = 1;
	for (int r = 1; r < l->nodes; r++) {
		char *cause = NULL;
		struct sshp_op *o = ssh_launch_op(l, l->p->hosts[l->cand[r]], r, &cause);

		if (o == NULL) {
			l->failed = 1;
			l->fail_cause = cause;
			break;
		}
		rk = xcalloc(1, sizeof *rk);
		rk->l = l;
		rk->rank = r;
		o->done = ssh_launch_rank_done;
		o->ctx = rk;
		l->pending++;
		sshp_op_submit(o);
	}
	if (l->pending == 0)
		ssh_launch_finish(l);
}

struct ssh_launch_cand {
	size_t idx;
	int key1, key2;
};

static int ssh_launch_cand_cmp(const void *a, const void *b)
{
	const struct ssh_launch_cand *x = a, *y = b;

	if (x->key1 != y->key1)
		return x->key1 < y->key1 ? -1 : 1;
	if (x->key2 != y->key2)
		return x->key2 < y->key2 ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Hosts that can take one node of l, best fit first. */
static void ssh_launch_candidates(struct ssh_launch *l)
{
	struct provider *p = l->p;
	struct ssh_launch_cand *c = xcalloc(p->nhosts, sizeof *c);
	size_t n = 0, typed = 0;

	for (size_t i = 0; i < p->nhosts; i++) {
		struct sshp_host *h = p->hosts[i];
		int nfree;

		if (h->removed)
			continue;
		if (l->gpus > 0 &&
		    (h->conf->gpus == 0 || !sshp_type_matches(l->gpu_type, h->conf->gpu_type)))
			continue;
		typed++;
		if (!h->ok) {
			ssh_launch_note_down(l, h, h->reason);
			continue;
		}
		nfree = sshp_free_gpus(h);
		if (l->gpus > 0 && nfree < l->gpus &&
		    !(l->gpu_shared && h->conf->gpus >= l->gpus)) {
			ssh_launch_note(l, "%s: %d free", h->conf->name, nfree);
			continue;
		}
		/* best fit: fewest free GPUs that suffice; a CPU job prefers small hosts */
		c[n].idx = i;
		c[n].key1 = l->gpus > 0 ? nfree : h->conf->gpus;
		c[n].key2 = l->gpus > 0 ? h->conf->gpus : nfree;
		n++;
	}
	if (typed == 0 && l->gpus > 0) {
		for (size_t i = 0; i < p->nhosts; i++)
			if (!p->hosts[i]->removed)
				ssh_launch_note(l, "%s: %s", p->hosts[i]->conf->name,
				                p->hosts[i]->conf->gpus > 0
				                    ? p->hosts[i]->conf->gpu_type
				                    : "no GPU");
	}
	qsort(c, n, sizeof *c, ssh_launch_cand_cmp);
	l->cand = xcalloc(n + 1, sizeof *l->cand);
	for (size_t i = 0; i < n; i++)
		l->cand[i] = c[i].idx;
	l->ncand = n;
	free(c);
}

static void ssh_launch_ready(struct provider *p, void *ctx)
{
	struct ssh_launch *l = ctx;

	if (p->closing) {
		ssh_launch_fail(l, "the ssh provider is closing");
		return;
	}
	if (ssh_launch_existing(l))
		return;
	ssh_launch_candidates(l);
	if (l->nodes <= 1) {
		ssh_launch_try_next(l);
		return;
	}
	if (l->ncand < (size_t)l->nodes) {
		ssh_launch_fail_capacity(l);
		return;
	}
	l->hostlist = xstrdup(p->hosts[l->cand[0]]->conf->name);
	for (int r = 1; r < l->nodes; r++) {
		char *next = xprintf("%s,%s", l->hostlist, p->hosts[l->cand[r]]->conf->name);

		free(l->hostlist);
		l->hostlist = next;
	}
	l->launched = xcalloc((size_t)l->nodes, 1);
	{
		char *cause = NULL;
		struct sshp_op *op = ssh_launch_op(l, p->hosts[l->cand[0]], 0, &cause);
		struct ssh_launch_rank *rk;

		if (op == NULL) {
			ssh_launch_fail(l, cause);
			free(cause);
			return;
		}
		rk = xcalloc(1, sizeof *rk);
		rk->l = l;
		rk->rank = 0;
		op->done = ssh_launch_rank_done;
		op->ctx = rk;
		l->pending = 1;
		sshp_op_submit(op);
	}
}

int ssh_launch_start(struct provider *p, const struct provider_job_spec *spec,
                     provider_launch_cb cb, void *arg, char **cause)
{
	struct ssh_launch *l;
	unsigned char *mask;

	if (spec->job_id == NULL || !sshp_id_ok(spec->job_id, strlen(spec->job_id)))
		return xcause(cause, "%s: invalid job id '%s'", p->name,
		              spec->job_id != NULL ? spec->job_id : "(none)");
	if (spec->nodes > (int)p->nhosts)
		return xcause(cause, "%s: the job wants %d nodes; the fleet has %zu hosts", p->name,
		              spec->nodes, p->nhosts);
	if (spec->env != NULL) {
		for (size_t i = 0; i < spec->env->n; i++) {
			const char *k = spec->env->keys[i];

			if (!isalpha((unsigned char)k[0]) && k[0] != '_')
				return xcause(cause, "environment variable name '%s' is not valid",
				              k);
			for (const char *c = k; *c != '\0'; c++)
				if (!isalnum((unsigned char)*c) && *c != '_')
					return xcause(cause,
					              "environment variable name '%s' is not valid",
					              k);
		}
	}
	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->job_id = xstrdup(spec->job_id);
	l->idem_key = sshp_dupnull(spec->idem_key);
	l->name = sshp_dupnull(spec->name);
	l->owner = sshp_dupnull(spec->owner);
	l->installation_id = sshp_dupnull(spec->installation_id);
	l->attempt = spec->attempt;
	l->script = sshp_dupnull(spec->script);
	l->readiness_path = sshp_dupnull(spec->readiness_path);
	l->gpu_type = sshp_dupnull(spec->gpu_type);
	kvlist_init(&l->env);
	if (spec->env != NULL)
		kvlist_copy(&l->env, spec->env);
	if (spec->env_pass != NULL) {
		size_t n = 0;

		while (spec->env_pass[n] != NULL)
			n++;
		l->env_pass = xcalloc(n + 1, sizeof *l->env_pass);
		for (size_t i = 0; i < n; i++)
			l->env_pass[i] = xstrdup(spec->env_pass[i]);
	}
	l->kind = spec->kind;
	l->want_port = spec->want_port;
	l->fixed_port = spec->fixed_port;
	l->readiness_timeout_s = spec->readiness_timeout_s;
	l->gpus = spec->gpus > 0 ? spec->gpus : 0;
	l->gpu_shared = spec->gpu_shared;
	l->nodes = spec->nodes > 1 ? spec->nodes : 1;
	l->max_runtime_s = spec->max_runtime_s;
	l->cb = cb;
	l->arg = arg;
	mask = sshp_mask(p, NULL, 0);
	sshp_wait(p, mask, ssh_launch_ready, l);
	free(mask);
	return 0;
}
