/* slurm.c: the `slurm` provider: batch jobs on a Slurm cluster through slurmrestd's REST API
 * (providers/slurm_api.h has the API without I/O), with a login node reached over SSH for the
 * job directories (DIR/jobs/ID: meta, env, run.sh, job.log, exit) and logs.
 *
 * - open reads the settings and the token (token_file / token_env) and does no network and no
 *   process: the first request is GET ping, which checks that slurmrestd serves the configured
 *   API version (a version this client has no row for, or one the server does not serve,
 *   marks the provider unhealthy with that message and fails every request).
 * - Every request carries X-SLURM-USER-NAME and X-SLURM-USER-TOKEN (a secret: redacted from
 *   every error), POST bodies exactly "Content-Type: application/json". The http client does
 *   not retry (slurmrestd answers ordinary errors with 500): the snapshot is asked again at
 *   the next poll.
 * - One GET /jobs snapshot at most every poll_interval answers every refresh, list_owned and
 *   launch's adoption check; callers that come while it is in flight wait for it.
 * - slurmrestd unreachable or failing: notify(unhealthy, "slurmrestd at URL: ERROR (last
 *   success HH:MM:SS)") once; refreshes answer UNKNOWN with that reason; an answer again
 *   notifies healthy. A refused token: one line "NAME: token refused (invalid or expired)",
 *   then no request for 30 s (token_command is run again once at once instead).
 * - offers and cluster come from a cache of GET partitions and nodes, refreshed in the
 *   background every offers_refresh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "core/async.h"
#include "core/http.h"
#include "core/loop.h"
#include "core/safefile.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "providers/slurm.h"
#include "providers/slurm_internal.h"
#include "providers/ssh.h"

#define SLURM_REQ_TIMEOUT_MS  15000
#define SLURM_AUTH_BACKOFF_MS 30000
#define SLURM_MAX_CONNECTIONS 16

struct slurm_req {
	struct provider *p;
	struct http_req *hr;
	char *method, *url, *body;
	slurm_req_cb cb;
	slurm_abort_fn abort_fn;
	void *ctx;
	int internal; /* the version check's ping */
	struct slurm_req *next;
};

static const char *const slurm_secret_headers[] = {"X-SLURM-USER-TOKEN", NULL};

enum provider_error_class slurm_error_class(enum slurm_err e)
{
	switch (e) {
	case SLURM_ERR_AUTH:
		return PROVIDER_ERR_AUTH;
	case SLURM_ERR_INVALID:
	case SLURM_ERR_NOTFOUND:
		return PROVIDER_ERR_INVALID;
	case SLURM_ERR_CAPACITY:
		return PROVIDER_ERR_CAPACITY;
	case SLURM_ERR_TRANSIENT:
		return PROVIDER_ERR_TRANSIENT;
	case SLURM_ERR_OTHER:
		break;
	}
	return PROVIDER_ERR_OTHER;
}

int64_t slurm_ref_id(const char *ref)
{
	char *end;
	long long v;

	if (ref == NULL || *ref < '1' || *ref > '9' || strlen(ref) > 18)
		return -1;
	v = strtoll(ref, &end, 10);
	return *end == '\0' && v > 0 ? (int64_t)v : -1;
}

/* ---- waiters ---- */

/* ---- health ---- */

const char *slurm_down_reason(struct provider *p)
{
	if (p->fatal != NULL)
		return p->fatal;
	if (p->auth_reason != NULL && loop_now_ms() < p->auth_until)
		return p->auth_reason;
	return p->healthy == 0 ? p->down_reason : NULL;
}

static void slurm_notify(struct provider *p, int healthy, const char *msg)
{
	if (p->notify != NULL && !p->closing)
		p->notify(p->notify_arg, p->name, healthy, msg);
}

static void slurm_health_ok(struct provider *p)
{
	p->last_ok_ms = loop_wall_ms();
	p->token_reran = 0;
	free(p->auth_reason);
	p->auth_reason = NULL;
	p->auth_until = 0;
	if (p->healthy == 0) {
		char *m = xprintf("%s: slurmrestd at %s answers again", p->name, p->conf.url);

		slurm_notify(p, 1, m);
		free(m);
	}
	p->healthy = 1;
	p->down_notified = 0;
	free(p->down_reason);
	p->down_reason = NULL;
}

static void slurm_health_down(struct provider *p, const char *err)
{
	char when[32] = "never";
	char *m;

	if (p->last_ok_ms > 0) {
		time_t t = (time_t)(p->last_ok_ms / 1000);
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(when, sizeof when, "%H:%M:%S", &tm);
	}
	free(p->down_reason);
	p->down_reason = xprintf("slurmrestd at %s: %s (last success %s)", p->conf.url, err, when);
	p->healthy = 0;
	if (!p->down_notified) {
		p->down_notified = 1;
		m = xprintf("%s: %s", p->name, p->down_reason);
		slurm_notify(p, 0, m);
		free(m);
	}
}

static void slurm_health_auth(struct provider *p)
{
	char *m;
	int first = p->auth_reason == NULL;

	free(p->auth_reason);
	p->auth_reason = xstrdup("token refused (invalid or expired)");
	p->healthy = 0;
	p->checked = 0;
	/* the token is read or made again: at once the first time (a token that just expired
	 * is renewed by token_command, or was replaced in its file), then after the backoff */
	if (slurm_token_rerun(p) && !p->token_reran) {
		p->token_reran = 1;
		p->auth_until = 0;
	} else {
		p->auth_until = loop_now_ms() + SLURM_AUTH_BACKOFF_MS;
	}
	if (first) {
		m = xprintf("%s: %s", p->name, p->auth_reason);
		slurm_notify(p, 0, m);
		free(m);
	}
}

/* ---- requests ---- */

static void slurm_req_unlink(struct provider *p, struct slurm_req *r)
{
	for (struct slurm_req **pp = &p->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

static void slurm_req_free(struct slurm_req *r)
{
	free(r->method);
	free(r->url);
	free(r->body);
	free(r);
}

static void slurm_http_done(void *arg, const struct http_response *res)
{
	struct slurm_req *r = arg;
	struct provider *p = r->p;
	enum slurm_err cls = SLURM_ERR_OTHER;
	char *line, *red = NULL;
	int ok;

	slurm_req_unlink(p, r);
	line = slurm_api_error(res->status, res->body, res->body_len, res->error, &cls);
	ok = line == NULL;
	if (!ok) {
		red = http_redact(p->http, line);
		if (res->status == 0 || cls == SLURM_ERR_TRANSIENT)
			slurm_health_down(p, red);
		else if (cls == SLURM_ERR_AUTH)
			slurm_health_auth(p);
		else
			slurm_health_ok(p); /* it answered */
	} else {
		slurm_health_ok(p);
	}
	r->cb(p, r->ctx, ok, res->status, res->body != NULL ? res->body : "", res->body_len,
	      cls == SLURM_ERR_AUTH ? p->auth_reason : red, cls);
	free(line);
	free(red);
	slurm_req_free(r);
}

/* Sends r now (the version is checked); on failure r->cb hears of it. */
static void slurm_send(struct provider *p, struct slurm_req *r)
{
	const char *hdrs[5] = {p->hdr_user, p->hdr_token, "Accept: application/json", NULL, NULL};
	struct http_request rq = {0};
	char *why = NULL, *red;

	if (r->body != NULL)
		hdrs[3] = "Content-Type: application/json";
	rq.method = r->method;
	rq.url = r->url;
	rq.headers = hdrs;
	rq.body = r->body;
	rq.timeout_ms = SLURM_REQ_TIMEOUT_MS;
	rq.connect_timeout_ms = 5000;
	rq.max_retries = -1; /* 500 is an ordinary error here; the next poll asks again */
	rq.secret_headers = slurm_secret_headers;
	r->hr = http_send(p->http, &rq, slurm_http_done, r, &why);
	if (r->hr == NULL) {
		slurm_req_unlink(p, r);
		red = http_redact(p->http, why != NULL ? why : "cannot send a request");
		r->cb(p, r->ctx, 0, 0, "", 0, red, SLURM_ERR_OTHER);
		free(red);
		free(why);
		slurm_req_free(r);
	}
}

static struct slurm_req *slurm_req_new(struct provider *p, const char *method, const char *what,
                                       const char *query, const char *body, slurm_req_cb cb,
                                       slurm_abort_fn abort_fn, void *ctx)
{
	struct slurm_req *r = xcalloc(1, sizeof *r);
	char *path = p->ver != NULL ? slurm_api_path(p->ver, what) : xstrdup("/");

	r->p = p;
	r->method = xstrdup(method);
	r->url = xprintf("%s%s%s%s", p->conf.url, path, query != NULL ? "?" : "",
	                 query != NULL ? query : "");
	r->body = body != NULL ? xstrdup(body) : NULL;
	r->cb = cb;
	r->abort_fn = abort_fn;
	r->ctx = ctx;
	r->next = p->reqs;
	p->reqs = r;
	free(path);
	return r;
}

static void slurm_ready(struct provider *p,
                        void (*fn)(struct provider *, void *, int, const char *), void *ctx);

static void slurm_req_go(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_req *r = ctx;

	if (rc != 0) {
		slurm_req_unlink(p, r);
		r->cb(p, r->ctx, 0, 0, "", 0, cause,
		      p->auth_reason != NULL && cause == p->auth_reason ? SLURM_ERR_AUTH
		                                                        : SLURM_ERR_OTHER);
		slurm_req_free(r);
		return;
	}
	slurm_send(p, r);
}

int slurm_req(struct provider *p, const char *method, const char *what, const char *query,
              const char *body, slurm_req_cb cb, slurm_abort_fn abort_fn, void *ctx, char **cause)
{
	struct slurm_req *r;

	if (p->closing)
		return xcause(cause, "%s: closing", p->name);
	r = slurm_req_new(p, method, what, query, body, cb, abort_fn, ctx);
	slurm_ready(p, slurm_req_go, r);
	return 0;
}

static void slurm_req_abort_all(struct provider *p)
{
	while (p->reqs != NULL) {
		struct slurm_req *r = p->reqs;

		p->reqs = r->next;
		if (r->hr != NULL)
			http_cancel(p->http, r->hr);
		if (r->abort_fn != NULL)
			r->abort_fn(r->ctx);
		slurm_req_free(r);
	}
}

/* ---- the version check: the first request is GET ping ---- */

static void slurm_fatal(struct provider *p, char *msg)
{
	char *m;

	free(p->fatal);
	p->fatal = msg;
	p->fatal_told = 1;
	p->healthy = 0;
	m = xprintf("%s: %s", p->name, msg);
	slurm_notify(p, 0, m);
	free(m);
}

static void slurm_check_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                               size_t len, const char *err, enum slurm_err cls)
{
	char *why;

	(void)ctx;
	(void)cls;
	p->checking = 0;
	if (ok) {
		json_t *root = json_loadb(body, len, 0, NULL);
		const char *type = json_string_value(json_object_get(
		    json_object_get(json_object_get(root, "meta"), "plugin"), "type"));

		/* "openapi/v0.0.38" names what answered */
		if (type != NULL && strstr(type, p->ver->name) == NULL) {
			slurm_fatal(p,
			            xprintf("slurmrestd at %s answered API %s for %s (api_version "
			                    "mismatch)",
			                    p->conf.url, type, p->ver->name));
			json_decref(root);
			waiters_fire(p, &p->ready_waiters, -1, p->fatal);
			return;
		}
		json_decref(root);
		p->checked = 1;
		waiters_fire(p, &p->ready_waiters, 0, NULL);
		return;
	}
	if (status == 404) {
		slurm_fatal(p, xprintf("slurmrestd at %s does not serve API %s (HTTP 404 on ping; "
		                       "set api_version to one it serves: this client knows %s)",
		                       p->conf.url, p->ver->name, slurm_api_version_names()));
		waiters_fire(p, &p->ready_waiters, -1, p->fatal);
		return;
	}
	why = xstrdup(err != NULL ? err : "no answer");
	waiters_fire(p, &p->ready_waiters, -1, why);
	free(why);
}

static void slurm_check_token(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_req *r;

	(void)ctx;
	if (rc != 0) {
		char *why = xstrdup(cause);

		p->checking = 0;
		waiters_fire(p, &p->ready_waiters, -1, why);
		free(why);
		return;
	}
	r = slurm_req_new(p, "GET", "ping", NULL, NULL, slurm_check_answer, NULL, NULL);
	r->internal = 1;
	slurm_send(p, r);
}

static void slurm_ready(struct provider *p,
                        void (*fn)(struct provider *, void *, int, const char *), void *ctx)
{
	if (p->fatal != NULL) {
		if (!p->fatal_told) {
			/* an api_version this client does not know: told by the first request */
			char *m = xprintf("%s: %s", p->name, p->fatal);

			p->fatal_told = 1;
			p->healthy = 0;
			slurm_notify(p, 0, m);
			free(m);
		}
		fn(p, ctx, -1, p->fatal);
		return;
	}
	if (p->auth_reason != NULL && loop_now_ms() < p->auth_until) {
		fn(p, ctx, -1, p->auth_reason);
		return;
	}
	if (p->checked && p->token != NULL) {
		fn(p, ctx, 0, NULL);
		return;
	}
	waiters_add(&p->ready_waiters, fn, ctx);
	if (p->checking)
		return;
	p->checking = 1;
	slurm_token_ready(p, slurm_check_token, NULL);
}

/* ---- the GET /jobs snapshot ---- */

struct slurm_job *slurm_jobs_find(struct provider *p, int64_t id)
{
	for (size_t i = 0; i < p->njobs; i++)
		if (p->jobs[i].id == id)
			return &p->jobs[i];
	return NULL;
}

void slurm_jobs_invalidate(struct provider *p)
{
	p->jobs_stale = 1;
}

static void slurm_jobs_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                              size_t len, const char *err, enum slurm_err cls)
{
	struct slurm_job *v = NULL;
	size_t n = 0;
	char *why = NULL;

	(void)ctx;
	(void)status;
	(void)cls;
	p->jobs_busy = 0;
	p->jobs_mono = loop_now_ms();
	if (ok && slurm_api_parse_jobs(p->ver, body, len, &v, &n, &why) == 0) {
		slurm_jobs_free(p->jobs, p->njobs);
		p->jobs = v;
		p->njobs = n;
		p->have_jobs = 1;
		free(p->jobs_err);
		p->jobs_err = NULL;
		waiters_fire(p, &p->jobs_waiters, 0, NULL);
		if (p->cluster_asked)
			slurm_notify(p, p->healthy != 0, NULL); /* the Cluster view's queue */
		return;
	}
	free(p->jobs_err);
	if (ok)
		p->jobs_err = xprintf("slurmrestd at %s: jobs: %s", p->conf.url, why);
	else
		p->jobs_err =
		    xstrdup(slurm_down_reason(p) != NULL ? slurm_down_reason(p)
		                                         : (err != NULL ? err : "failed"));
	free(why);
	why = xstrdup(p->jobs_err);
	waiters_fire(p, &p->jobs_waiters, -1, why);
	free(why);
}

static void slurm_jobs_abort(void *ctx)
{
	struct provider *p = ctx;

	p->jobs_busy = 0;
}

void slurm_jobs_ready(struct provider *p, int fresh,
                      void (*fn)(struct provider *, void *, int, const char *), void *ctx)
{
	uint64_t now = loop_now_ms();
	char *why = NULL;

	if (!p->jobs_busy && (p->have_jobs || p->jobs_err != NULL) &&
	    now - p->jobs_mono < (uint64_t)p->conf.poll_ms && !(fresh && p->jobs_stale)) {
		if (p->jobs_err != NULL) {
			why = xstrdup(p->jobs_err);
			fn(p, ctx, -1, why);
			free(why);
		} else {
			fn(p, ctx, 0, NULL);
		}
		return;
	}
	waiters_add(&p->jobs_waiters, fn, ctx);
	if (p->jobs_busy)
		return;
	p->jobs_busy = 1;
	p->jobs_stale = 0;
	p->jobs_gets++;
	if (slurm_req(p, "GET", "jobs", NULL, NULL, slurm_jobs_answer, slurm_jobs_abort, p, &why) !=
	    0) {
		p->jobs_busy = 0;
		waiters_fire(p, &p->jobs_waiters, -1, why);
		free(why);
	}
}

/* ---- the nodes/partitions cache ---- */

static void slurm_cache_part(struct provider *p, int ok_part, const char *err)
{
	if (!ok_part) {
		p->cache_fail = 1;
		if (p->cache_err == NULL)
			p->cache_err = xstrdup(err != NULL ? err : "failed");
	}
	if (--p->cache_busy > 0)
		return;
	p->cache_mono = loop_now_ms();
	if (!p->cache_fail) {
		slurm_nodes_free(p->nodes, p->nnodes);
		slurm_partitions_free(p->parts, p->nparts);
		p->nodes = p->new_nodes;
		p->nnodes = p->new_nnodes;
		p->parts = p->new_parts;
		p->nparts = p->new_nparts;
		p->new_nodes = NULL;
		p->new_parts = NULL;
		p->new_nnodes = p->new_nparts = 0;
		p->cache_ok = 1;
		p->cache_at_ms = loop_wall_ms();
		free(p->cache_err);
		p->cache_err = NULL;
		waiters_fire(p, &p->cache_waiters, 0, NULL);
		/* the Cluster view may redraw (once the queue it shows too is in, when it is
		 * being read) */
		if (!(p->cluster_asked && p->jobs_busy))
			slurm_notify(p, p->healthy != 0, NULL);
		return;
	}
	slurm_nodes_free(p->new_nodes, p->new_nnodes);
	slurm_partitions_free(p->new_parts, p->new_nparts);
	p->new_nodes = NULL;
	p->new_parts = NULL;
	p->new_nnodes = p->new_nparts = 0;
	{
		char *c = xprintf("%s: %s", p->name, p->cache_err);

		waiters_fire(p, &p->cache_waiters, -1, c);
		free(c);
	}
}

static void slurm_nodes_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                               size_t len, const char *err, enum slurm_err cls)
{
	char *why = NULL;

	(void)ctx;
	(void)status;
	(void)cls;
	if (ok &&
	    slurm_api_parse_nodes(p->ver, body, len, &p->new_nodes, &p->new_nnodes, &why) != 0) {
		ok = 0;
		err = why;
	}
	slurm_cache_part(p, ok, err);
	free(why);
}

static void slurm_parts_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                               size_t len, const char *err, enum slurm_err cls)
{
	char *why = NULL;

	(void)ctx;
	(void)status;
	(void)cls;
	if (ok && slurm_api_parse_partitions(p->ver, body, len, &p->new_parts, &p->new_nparts,
	                                     &why) != 0) {
		ok = 0;
		err = why;
	}
	slurm_cache_part(p, ok, err);
	free(why);
}

static void slurm_cache_abort(void *ctx)
{
	struct provider *p = ctx;

	p->cache_busy = 0;
}

static void slurm_cache_fetch(struct provider *p)
{
	char *why = NULL;

	if (p->cache_busy || p->closing)
		return;
	p->cache_busy = 2;
	p->cache_fail = 0;
	free(p->cache_err);
	p->cache_err = NULL;
	if (slurm_req(p, "GET", "partitions", NULL, NULL, slurm_parts_answer, slurm_cache_abort, p,
	              &why) != 0) {
		slurm_cache_part(p, 0, why);
		free(why);
		why = NULL;
	}
	if (p->closing)
		return;
	if (slurm_req(p, "GET", "nodes", NULL, NULL, slurm_nodes_answer, slurm_cache_abort, p,
	              &why) != 0) {
		slurm_cache_part(p, 0, why);
		free(why);
	}
}

static void slurm_cache_tick(void *arg)
{
	struct provider *p = arg;

	/* in the background only while someone uses the cache */
	slurm_cache_fetch(p);
}

void slurm_cache_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                       void *ctx)
{
	if (p->cache_timer == NULL)
		p->cache_timer =
		    loop_timer_add(p->loop, (uint64_t)p->conf.offers_refresh_s * 1000,
		                   (uint64_t)p->conf.offers_refresh_s * 1000, slurm_cache_tick, p);
	if (p->cache_ok) {
		if (loop_now_ms() - p->cache_mono >= (uint64_t)p->conf.offers_refresh_s * 1000)
			slurm_cache_fetch(p);
		fn(p, ctx, 0, NULL);
		return;
	}
	waiters_add(&p->cache_waiters, fn, ctx);
	slurm_cache_fetch(p);
}

/* ---- offers ---- */

struct slurm_offers_req {
	struct tpl_want want;
	provider_offers_cb cb;
	void *arg;
};

static int slurm_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = list; s != NULL && *s != '\0';) {
		size_t k = strcspn(s, ",");

		if (k == n && strncmp(s, name, n) == 0)
			return 1;
		s += k;
		if (*s == ',')
			s++;
	}
	return 0;
}

static int slurm_node_usable(const struct slurm_node *nd)
{
	return !nd->drain && strcmp(nd->state, "down") != 0 && strcmp(nd->state, "future") != 0 &&
	       strcmp(nd->state, "unknown") != 0;
}

static void slurm_offer_group(struct provider *p, const struct slurm_offers_req *o,
                              const struct slurm_partition *pt, const char *gpu_type,
                              struct offer_list *l)
{
	struct catalog_site_rates rates = {p->conf.gpu_rates, p->conf.ngpu_rates,
	                                   p->conf.has_cpu_rate, p->conf.rate_cpu_hour};
	struct offer of = {0};
	int fit = 0, now = 0, total = 0, cpus = 0, gpus = 0, maxg = 0;
	int64_t mib = 0;
	double price;
	int nodes = o->want.nodes > 0 ? o->want.nodes : 1;
	char *why = NULL;

	for (size_t i = 0; i < p->nnodes; i++) {
		const struct slurm_node *nd = &p->nodes[i];

		if (!slurm_in_list(nd->partitions, pt->name))
			continue;
		if (o->want.gpus > 0 &&
		    strcmp(nd->gpu_type != NULL ? nd->gpu_type : "", gpu_type) != 0)
			continue;
		total++;
		if (nd->gpus > maxg)
			maxg = nd->gpus;
		if (!slurm_node_usable(nd) || nd->gpus < o->want.gpus || nd->cpus < o->want.cpus ||
		    (o->want.mib > 0 && nd->memory_mib > 0 && nd->memory_mib < o->want.mib))
			continue;
		fit++;
		if (cpus == 0 || nd->cpus < cpus)
			cpus = nd->cpus;
		if (mib == 0 || nd->memory_mib < mib)
			mib = nd->memory_mib;
		if (gpus == 0 || nd->gpus < gpus)
			gpus = nd->gpus;
		if ((strcmp(nd->state, "idle") == 0 || strcmp(nd->state, "mixed") == 0) &&
		    nd->gpus - nd->gpus_used >= o->want.gpus &&
		    nd->cpus - nd->alloc_cpus >= (o->want.cpus > 0 ? o->want.cpus : 1))
			now++;
	}
	if (total == 0)
		return;
	of.provider = p->name;
	of.region = "";
	of.instance_type = pt->name;
	/* untyped GRES ("gpu:2") is offered as "GPU": a template asking for any GPU takes it */
	of.gpu_type = *gpu_type != '\0' ? (char *)gpu_type : o->want.gpus > 0 ? "GPU" : "";
	of.gpus = o->want.gpus > 0 ? (gpus > 0 ? gpus : maxg) : 0;
	of.cpus = o->want.cpus > 0 ? o->want.cpus : cpus;
	of.memory_mib = o->want.mib > 0 ? o->want.mib : mib;
	of.market = OFFER_ONDEMAND;
	of.billing = OFFER_BILL_SECOND;
	of.avail = now >= nodes ? OFFER_AVAIL_YES : OFFER_AVAIL_UNKNOWN;
	if (catalog_site_price(
	        &rates, of.gpu_type, o->want.gpus * nodes,
	        (double)(o->want.cpus > 0 ? o->want.cpus : (o->want.gpus > 0 ? 0 : 1)) * nodes,
	        &price) == 0) {
		of.priced = 1;
		of.usd_per_hour = price;
		of.source = CATALOG_SRC_SITE;
	}
	of.description =
	    xprintf("partition %s: %d of %d node%s fit%s%s%s, %d free now", pt->name, fit, total,
	            total == 1 ? "" : "s", *gpu_type != '\0' ? " (gpu:" : "", gpu_type,
	            *gpu_type != '\0' ? ")" : "", now);
	if (strcmp(pt->state, "up") != 0)
		why = xprintf("partition %s is %s", pt->name, pt->state);
	else if (fit < nodes)
		why = xprintf("partition %s: %d node%s can take %d GPU%s, %d CPUs%s; the template "
		              "needs %d",
		              pt->name, fit, fit == 1 ? "" : "s", o->want.gpus,
		              o->want.gpus == 1 ? "" : "s", o->want.cpus,
		              o->want.mib > 0 ? " and its memory" : "", nodes);
	of.dropped = why;
	offer_list_add(l, &of);
	free(of.description);
	free(why);
}

static void slurm_offers_answer(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_offers_req *o = ctx;
	struct offer_list l = {0};

	if (rc != 0) {
		o->cb(o->arg, -1, NULL, cause);
		free(o);
		return;
	}
	for (size_t i = 0; i < p->nparts; i++) {
		const struct slurm_partition *pt = &p->parts[i];

		if (p->conf.partition != NULL && strcmp(p->conf.partition, pt->name) != 0)
			continue;
		if (o->want.gpus == 0) {
			slurm_offer_group(p, o, pt, "", &l);
			continue;
		}
		/* one offer per GPU type among the partition's nodes */
		for (size_t j = 0; j < p->nnodes; j++) {
			const char *ty = p->nodes[j].gpu_type != NULL ? p->nodes[j].gpu_type : "";
			int seen = 0;

			if (!slurm_in_list(p->nodes[j].partitions, pt->name) ||
			    p->nodes[j].gpus == 0)
				continue;
			for (size_t k = 0; k < j && !seen; k++)
				seen =
				    p->nodes[k].gpus > 0 &&
				    slurm_in_list(p->nodes[k].partitions, pt->name) &&
				    strcmp(p->nodes[k].gpu_type != NULL ? p->nodes[k].gpu_type : "",
				           ty) == 0;
			if (!seen)
				slurm_offer_group(p, o, pt, ty, &l);
		}
	}
	if (l.n == 0) {
		struct offer of = {0};

		of.provider = p->name;
		of.region = "";
		of.instance_type = p->conf.partition != NULL ? p->conf.partition : "";
		of.gpu_type = "";
		of.gpus = o->want.gpus;
		int known = 0;
		char *names = xstrdup("");

		for (size_t i = 0; i < p->nparts; i++) {
			char *next =
			    xprintf("%s%s%s", names, *names != '\0' ? ", " : "", p->parts[i].name);

			free(names);
			names = next;
			known |= p->conf.partition != NULL &&
			         strcmp(p->parts[i].name, p->conf.partition) == 0;
		}
		if (p->conf.partition != NULL && !known)
			of.dropped = xprintf("the cluster has no partition %s (it has: %s)",
			                     p->conf.partition, *names != '\0' ? names : "none");
		else if (o->want.gpus > 0 && p->conf.partition != NULL)
			of.dropped = xprintf("partition %s has no node with %d GPUs",
			                     p->conf.partition, o->want.gpus);
		else if (o->want.gpus > 0)
			of.dropped = xprintf("no partition has a node with %d GPUs", o->want.gpus);
		else
			of.dropped = xstrdup("no node in any partition fits");
		free(names);
		offer_list_add(&l, &of);
		free(of.dropped);
	}
	o->cb(o->arg, 0, &l, NULL);
	offer_list_free(&l);
	free(o);
}

static int slurm_offers(struct provider *p, const struct template *t, provider_offers_cb cb,
                        void *arg, char **cause)
{
	struct slurm_offers_req *o = xcalloc(1, sizeof *o);

	(void)cause;
	o->cb = cb;
	o->arg = arg;
	tpl_want_of(t, &o->want);
	slurm_cache_ready(p, slurm_offers_answer, o);
	return 0;
}

/* ---- cluster, hosts ---- */

static void slurm_noop(struct provider *p, void *ctx, int rc, const char *cause)
{
	(void)p;
	(void)ctx;
	(void)rc;
	(void)cause;
}

static int slurm_cluster(struct provider *p, struct cluster_info *out, char **cause)
{
	const char *down;

	(void)cause;
	memset(out, 0, sizeof *out);
	p->cluster_asked = 1;
	/* stale: fresh ones are asked for; their arrival is reported through notify */
	slurm_cache_ready(p, slurm_noop, NULL);
	if (p->ver != NULL)
		slurm_jobs_ready(p, 0, slurm_noop, NULL);
	slurm_api_cluster(p->name, p->parts, p->nparts, p->nodes, p->nnodes, p->jobs, p->njobs,
	                  out);
	out->as_of_ms = p->cache_ok ? p->cache_at_ms : 0;
	down = slurm_down_reason(p);
	free(out->error);
	out->error = down != NULL           ? xstrdup(down)
	             : p->cache_err != NULL ? xstrdup(p->cache_err)
	                                    : NULL;
	return 0;
}

static int slurm_hosts(struct provider *p, const char *ref, struct tele_host **out, size_t *n)
{
	struct tele_host *v;
	size_t k = 0;
	char **names = NULL;
	size_t nnames = 0;

	*out = NULL;
	*n = 0;
	slurm_cache_ready(p, slurm_noop, NULL);
	if (ref != NULL) {
		struct slurm_job *j = slurm_jobs_find(p, slurm_ref_id(ref));

		if (j == NULL || j->nodes == NULL || *j->nodes == '\0' ||
		    slurm_api_hostlist(j->nodes, &names, &nnames, 4096) < 0)
			nnames = 0;
	}
	v = xcalloc(p->nnodes + 1, sizeof *v);
	for (size_t i = 0; i < p->nnodes; i++) {
		const struct slurm_node *nd = &p->nodes[i];
		int want = ref == NULL;

		for (size_t j = 0; !want && j < nnames; j++)
			want = strcmp(names[j], nd->name) == 0;
		if (!want)
			continue;
		v[k].name = xstrdup(nd->name);
		v[k].address = xstrdup(nd->address != NULL ? nd->address : nd->name);
		v[k].reachable = slurm_node_usable(nd);
		v[k].at_ms = p->cache_at_ms;
		v[k].last_contact_ms = p->cache_at_ms;
		if (!v[k].reachable)
			v[k].reason = xprintf("%s%s%s", nd->state, nd->reason != NULL ? ": " : "",
			                      nd->reason != NULL ? nd->reason : "");
		v[k].cpus = nd->cpus;
		if (nd->memory_mib > 0) {
			/* what jobs hold of it (Slurm's allocation; no usage sample) */
			v[k].mem_total_mib.v = (double)nd->memory_mib;
			v[k].mem_total_mib.ok = 1;
			v[k].mem_used_mib.v = (double)nd->alloc_memory_mib;
			v[k].mem_used_mib.ok = 1;
		}
		v[k].gpus_total = nd->gpus;
		v[k].gpus_free = nd->gpus - nd->gpus_used;
		v[k].gpu_type =
		    nd->gpu_type != NULL && *nd->gpu_type != '\0' ? xstrdup(nd->gpu_type) : NULL;
		k++;
	}
	for (size_t j = 0; j < nnames; j++)
		free(names[j]);
	free(names);
	*out = v;
	*n = k;
	return 0;
}

/* ---- stop, destroy ---- */

struct slurm_stopper {
	struct provider *p;
	int64_t id;
	int grace_ms;
	int kill; /* the second DELETE (after the grace) */
	provider_done_cb cb;
	void *arg;
	struct loop_timer *timer;
	struct slurm_stopper *next;
};

static void slurm_stop_abort(void *ctx)
{
	struct slurm_stopper *s = ctx;

	if (s->cb != NULL)
		s->cb(s->arg, -1, "slurm: closed before the job was cancelled");
	free(s);
}

static void slurm_stop_send(struct slurm_stopper *s);

static void slurm_stop_marked(struct provider *p, void *ctx, int rc, int status, const char *out,
                              const char *cause)
{
	(void)p;
	(void)ctx;
	(void)rc;
	(void)status;
	(void)out;
	(void)cause;
}

/* Slurm's cancel is SIGKILL: the batch script never writes `exit`, so it is written here
 * (when the job did not), and the log reader's follow ends. */
static void slurm_stop_mark(struct provider *p, int64_t id)
{
	char *job = slurm_ref_job(p, id);

	if (job == NULL)
		return;
	slurm_login_exec(p, slurm_sh_command(p->conf.dir, job),
	                 xstrdup("umask 077\n"
	                         "D=$1; case $D in /*) ;; *) D=${HOME:-.}/$D ;; esac\n"
	                         "J=$D/jobs/$2\n"
	                         "[ -d \"$J\" ] && [ ! -f \"$J/exit\" ] && printf 'signal 9\\n' "
	                         ">\"$J/exit\"\n"
	                         "exit 0\n"),
	                 30000, slurm_stop_marked, NULL);
	free(job);
}

static void slurm_stop_kill(void *arg)
{
	struct slurm_stopper *s = arg;

	struct slurm_stopper **pp;

	for (pp = &s->p->stoppers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	s->timer = NULL;
	s->kill = 1;
	slurm_stop_send(s);
}

static void slurm_stop_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                              size_t len, const char *err, enum slurm_err cls)
{
	struct slurm_stopper *s = ctx;
	char *c = NULL;

	(void)body;
	(void)len;
	slurm_jobs_invalidate(p);
	if (!ok && !s->kill && s->grace_ms > 0 && cls != SLURM_ERR_NOTFOUND &&
	    cls != SLURM_ERR_AUTH && status != 0 && !p->closing) {
		/* a job that cannot take a signal now (pending, being configured: "Job can not
		 * be altered now", 2020, which slurm_api classes transient): it is cancelled at
		 * once (nothing of it runs yet) */
		s->kill = 1;
		slurm_stop_send(s);
		return;
	}
	/* a job Slurm no longer knows, or one that already ended, is stopped as far as it goes */
	if (!ok && cls != SLURM_ERR_NOTFOUND && (err == NULL || strstr(err, "already") == NULL))
		c = xprintf("%s: cannot cancel job %lld: %s [%s]", p->name, (long long)s->id, err,
		            slurm_err_name(cls));
	if (s->cb != NULL) {
		s->cb(s->arg, c != NULL ? -1 : 0, c);
		s->cb = NULL;
	}
	free(c);
	if (ok && (s->kill || s->grace_ms <= 0) && !p->closing)
		slurm_stop_mark(p, s->id);
	if (ok && !s->kill && s->grace_ms > 0 && !p->closing) {
		/* the job had its TERM: Slurm's own cancel (SIGKILL) after the grace */
		s->timer = loop_timer_add(p->loop, (uint64_t)s->grace_ms, 0, slurm_stop_kill, s);
		s->next = p->stoppers;
		p->stoppers = s;
		return;
	}
	free(s);
}

static void slurm_stop_send(struct slurm_stopper *s)
{
	struct provider *p = s->p;
	char what[48];
	char *why = NULL;

	snprintf(what, sizeof what, "job/%lld", (long long)s->id);
	if (slurm_req(p, "DELETE", what, s->kill || s->grace_ms <= 0 ? NULL : "signal=TERM", NULL,
	              slurm_stop_answer, slurm_stop_abort, s, &why) != 0) {
		if (s->cb != NULL)
			s->cb(s->arg, -1, why);
		free(why);
		free(s);
	}
}

static int slurm_stop(struct provider *p, const char *ref, int grace_ms, provider_done_cb cb,
                      void *arg, char **cause)
{
	struct slurm_stopper *s;
	int64_t id = slurm_ref_id(ref);

	if (id < 0)
		return xcause(cause, "%s: '%s' is not a Slurm job id", p->name, ref);
	s = xcalloc(1, sizeof *s);
	s->p = p;
	s->id = id;
	s->grace_ms = grace_ms;
	s->cb = cb;
	s->arg = arg;
	slurm_stop_send(s);
	return 0;
}

static int slurm_destroy(struct provider *p, const char *ref, provider_done_cb cb, void *arg,
                         char **cause)
{
	return slurm_stop(p, ref, 0, cb, arg, cause);
}

/* ---- list_owned ---- */

struct slurm_list_req {
	provider_owned_cb cb;
	void *arg;
};

static int slurm_held_state(const char *st)
{
	static const char *const held[] = {"PENDING", "RUNNING", "SUSPENDED", "CONFIGURING",
	                                   "COMPLETING"};

	for (size_t i = 0; i < sizeof held / sizeof held[0]; i++)
		if (st != NULL && strcmp(st, held[i]) == 0)
			return 1;
	return 0;
}

static void slurm_list_answer(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_list_req *l = ctx;
	struct provider_owned *own;
	size_t k = 0;
	char *c;

	if (rc != 0) {
		c = xprintf("%s: cannot list jobs: %s", p->name, cause);
		l->cb(l->arg, -1, NULL, 0, c);
		free(c);
		free(l);
		return;
	}
	own = xcalloc(p->njobs + 1, sizeof *own);
	for (size_t i = 0; i < p->njobs; i++) {
		const struct slurm_job *j = &p->jobs[i];
		struct slurm_label lb;

		if (j->comment == NULL || slurm_api_label_parse(j->comment, &lb) != 0)
			continue;
		if ((p->installation_id != NULL &&
		     (lb.installation_id == NULL ||
		      strcmp(lb.installation_id, p->installation_id) != 0)) ||
		    j->user_name == NULL || strcmp(j->user_name, p->conf.user) != 0) {
			slurm_label_clear(&lb);
			continue;
		}
		own[k].ref = xprintf("%lld", (long long)j->id);
		own[k].job_id = lb.job_id;
		lb.job_id = NULL;
		own[k].attempt = lb.attempt;
		own[k].owner = lb.owner;
		lb.owner = NULL;
		own[k].started_ms = j->start_time > 0 ? j->start_time * 1000 : 0;
		own[k].held = slurm_held_state(j->state);
		slurm_ref_learn(p, j->id, own[k].job_id);
		slurm_label_clear(&lb);
		k++;
	}
	l->cb(l->arg, 0, own, k, NULL);
	for (size_t i = 0; i < k; i++)
		provider_owned_clear(&own[i]);
	free(own);
	free(l);
}

static int slurm_list_owned(struct provider *p, provider_owned_cb cb, void *arg, char **cause)
{
	struct slurm_list_req *l = xcalloc(1, sizeof *l);

	(void)cause;
	l->cb = cb;
	l->arg = arg;
	slurm_jobs_ready(p, 1, slurm_list_answer, l);
	return 0;
}

/* ---- open, close ---- */

static void slurm_free(struct provider *p)
{
	slurm_token_close(p);
	slurm_jobs_free(p->jobs, p->njobs);
	slurm_nodes_free(p->nodes, p->nnodes);
	slurm_partitions_free(p->parts, p->nparts);
	slurm_nodes_free(p->new_nodes, p->new_nnodes);
	slurm_partitions_free(p->new_parts, p->new_nparts);
	slurm_conf_free(&p->conf);
	free(p->hdr_user);
	free(p->name);
	free(p->state_dir);
	free(p->installation_id);
	free(p->data_dir);
	free(p->fatal);
	free(p->down_reason);
	free(p->auth_reason);
	free(p->jobs_err);
	free(p->cache_err);
	free(p);
}

static int slurm_open(const struct provider_config *cfg, struct provider **out, char **cause)
{
	struct provider *p = xcalloc(1, sizeof *p);
	char *refs;

	*out = NULL;
	p->name = xstrdup(cfg->name);
	p->healthy = -1;
	if (slurm_conf_parse(cfg->settings, cfg->settings_pos, cfg->name, &p->conf, cause) != 0) {
		slurm_free(p);
		return -1;
	}
	if (cfg->state_dir == NULL) {
		xcause(cause, "%s: no state directory", cfg->name);
		slurm_free(p);
		return -1;
	}
	p->state_dir = xstrdup(cfg->state_dir);
	refs = xprintf("%s/refs", p->state_dir);
	if (safefile_mkdirs(p->state_dir, cause) != 0 ||
	    safefile_trust_dir(p->state_dir, cause) != 0 || safefile_mkdirs(refs, cause) != 0) {
		free(refs);
		slurm_free(p);
		return -1;
	}
	free(refs);
	p->loop = cfg->loop;
	p->notify = cfg->notify;
	p->notify_arg = cfg->notify_arg;
	p->installation_id = cfg->installation_id != NULL ? xstrdup(cfg->installation_id) : NULL;
	p->data_dir = cfg->data_dir != NULL ? xstrdup(cfg->data_dir) : NULL;
	p->log_max_bytes = cfg->log_max_bytes;
	p->http = cfg->http;
	if (p->http == NULL) {
		p->http = http_new(p->loop);
		p->own_http = 1;
	}
	/* a burst of requests must not open hundreds of connections at once: slurmrestd drops
	 * those over its limit unanswered (seen with 200 submits at once) */
	http_set_max_connections(p->http, SLURM_MAX_CONNECTIONS);
	if (slurm_token_open(p, cfg->settings, cfg->settings_pos, cause) != 0) {
		if (p->own_http)
			http_free(p->http);
		slurm_free(p);
		return -1;
	}
	p->hdr_user = xprintf("X-SLURM-USER-NAME: %s", p->conf.user);
	p->ver = slurm_api_version(p->conf.api_version);
	if (p->ver == NULL)
		/* told by the first request (and health), never by open */
		p->fatal = xprintf("api_version %s is not one this client knows (%s)",
		                   p->conf.api_version, slurm_api_version_names());
	*out = p;
	return 0;
}

static void slurm_close(struct provider *p)
{
	if (p == NULL)
		return;
	p->closing = 1;
	if (p->cache_timer != NULL)
		loop_timer_cancel(p->loop, p->cache_timer);
	if (p->tq != NULL)
		async_queue_free(p->tq);
	while (p->stoppers != NULL) {
		/* the grace's KILL is left to Slurm's own time limit: nobody is left to send it */
		struct slurm_stopper *s = p->stoppers;

		p->stoppers = s->next;
		loop_timer_cancel(p->loop, s->timer);
		free(s);
	}
	/* requests still waiting for the version check answer first (they are in p->reqs
	 * too, which the abort below frees) */
	waiters_fire(p, &p->ready_waiters, -1, "slurm: closed");
	slurm_launch_abort_all(p);
	slurm_run_close(p);
	slurm_req_abort_all(p);
	waiters_fire(p, &p->jobs_waiters, -1, "slurm: closed");
	waiters_fire(p, &p->cache_waiters, -1, "slurm: closed");
	if (p->own_http)
		http_free(p->http);
	slurm_free(p);
}

const struct provider_ops slurm_provider_ops = {
    .name = "slurm",
    .summary = "batch jobs on a Slurm cluster through slurmrestd, files and logs over SSH",
    .open = slurm_open,
    .close = slurm_close,
    .offers = slurm_offers,
    .launch = slurm_launch,
    .refresh = slurm_refresh,
    .stop = slurm_stop,
    .logs_open = slurm_logs_open,
    .logs_close = slurm_logs_close,
    .list_owned = slurm_list_owned,
    .destroy = slurm_destroy,
    .target = slurm_target,
    .hosts = slurm_hosts,
    .worker_http = slurm_worker_http,
    .cluster = slurm_cluster,
};
