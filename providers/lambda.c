/* lambda.c: the `lambda` provider: GPU instances on Lambda Cloud (public API v1), each job on
 * an instance of its own that Gantry launches, reaches over SSH with its own key, and
 * terminates when the job ends or is stopped.
 *
 * - open reads the settings (lambda_conf.c) and the API key (cred_get: api_key_file, 0600, or
 *   api_key_env) and does no network: the first request tells whether the key works; a
 *   refused key makes the provider unhealthy ("lambda: API key refused
 *   (global/invalid-api-key)").
 * - offers come from a cache of GET /instance-types, fetched on first use and refreshed on a
 *   loop timer every offers_refresh (3 min).
 * - Gantry's key (STATE/id_ed25519, made once by ssh-keygen off the loop) is registered once
 *   as "gantry-<installation id prefix>" (GET /ssh-keys, POST when missing). That name is the
 *   instance's label: the API has no tags, and an instance's ssh_key_names are fixed at launch
 *   (its name can be edited in the dashboard), so list_owned lists the instances that carry
 *   this installation's key and a Gantry name "gantry-JOBID-aATTEMPT".
 * - Requests go through the provider's own core/http handle: about 1 per second
 *   (rate_limit), launches 12 s apart (launch_interval), POSTs never retried by the client.
 * - A job's ref is "INSTANCE_ID/IP/JOBID". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/async.h"
#include "core/cred.h"
#include "core/http.h"
#include "core/loop.h"
#include "core/safefile.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "providers/lambda.h"
#include "providers/lambda_internal.h"
#include "providers/lambda_key.h"

#define LAMBDA_REQ_TIMEOUT_MS 30000

struct lambda_req {
	struct provider *p;
	struct http_req *hr;
	lambda_req_cb cb;
	lambda_abort_fn abort_fn;
	void *ctx;
	char *body;
	struct lambda_req *next;
};

void lambda_crash_point(const char *name)
{
	const char *want = getenv("GANTRY_TEST_CRASH");

	if (want != NULL && strcmp(want, name) == 0)
		raise(SIGKILL);
}

/* ---- requests ---- */

static void lambda_req_unlink(struct provider *p, struct lambda_req *r)
{
	for (struct lambda_req **pp = &p->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

void lambda_health(struct provider *p, int ok, enum lambda_err cls, const char *err)
{
	char *msg;

	if (ok) {
		/* news only after a refusal: unknown is healthy until an answer says otherwise */
		if (p->healthy == 0 && p->notify != NULL)
			p->notify(p->notify_arg, p->name, 1, NULL);
		p->healthy = 1;
		return;
	}
	if (cls == LAMBDA_ERR_AUTH && p->healthy != 0) {
		p->healthy = 0;
		msg = xprintf("%s: %s", p->name, err);
		if (p->notify != NULL)
			p->notify(p->notify_arg, p->name, 0, msg);
		free(msg);
	}
}

static void lambda_http_done(void *arg, const struct http_response *res)
{
	struct lambda_req *r = arg;
	struct provider *p = r->p;
	enum lambda_err cls = LAMBDA_ERR_OTHER;
	char *line = NULL, *red = NULL;
	int ok = res->status >= 200 && res->status < 300;

	lambda_req_unlink(p, r);
	p->retry_after_ms = 0;
	if (res->retry_after != NULL) {
		long s = strtol(res->retry_after, NULL, 10);

		if (s > 0 && s < 3600)
			p->retry_after_ms = s * 1000;
	}
	if (!ok) {
		line = lambda_api_error(res->status, res->body, res->body_len, res->error, &cls);
		red = http_redact(p->http, line);
	}
	lambda_health(p, ok, cls, red);
	r->cb(p, r->ctx, ok, res->status, res->body != NULL ? res->body : "", res->body_len, red,
	      cls);
	free(line);
	free(red);
	free(r->body);
	free(r);
}

int lambda_req(struct provider *p, const char *method, const char *path, const char *body,
               lambda_req_cb cb, lambda_abort_fn abort_fn, void *ctx, char **cause)
{
	const char *hdrs[4] = {p->auth_header, "Accept: application/json", NULL, NULL};
	struct http_request rq = {0};
	struct lambda_req *r;
	char *url, *why = NULL;

	if (p->closing)
		return xcause(cause, "%s: closing", p->name);
	if (body != NULL)
		hdrs[2] = "Content-Type: application/json";
	r = xcalloc(1, sizeof *r);
	r->p = p;
	r->cb = cb;
	r->abort_fn = abort_fn;
	r->ctx = ctx;
	r->body = body != NULL ? xstrdup(body) : NULL;
	url = xprintf("%s%s", p->conf.api_url, path);
	rq.method = method;
	rq.url = url;
	rq.headers = hdrs;
	rq.body = r->body;
	rq.timeout_ms = LAMBDA_REQ_TIMEOUT_MS;
	r->hr = http_send(p->http, &rq, lambda_http_done, r, &why);
	free(url);
	if (r->hr == NULL) {
		xcause(cause, "%s: %s", p->name, why != NULL ? why : "cannot send a request");
		free(why);
		free(r->body);
		free(r);
		return -1;
	}
	r->next = p->reqs;
	p->reqs = r;
	return 0;
}

/* Cancels every request in flight; their owners hear of it through abort_fn. */
static void lambda_req_abort_all(struct provider *p)
{
	while (p->reqs != NULL) {
		struct lambda_req *r = p->reqs;

		p->reqs = r->next;
		http_cancel(p->http, r->hr);
		if (r->abort_fn != NULL)
			r->abort_fn(r->ctx);
		free(r->body);
		free(r);
	}
}

/* ---- waiters ---- */

/* ---- Gantry's key ---- */

struct lambda_keygen {
	struct provider *p;
	char *dir;
	char *path, *pub, *err;
	int rc;
};

static void lambda_keygen_work(void *arg)
{
	struct lambda_keygen *k = arg;

	k->rc = lambda_key_ensure(k->dir, &k->path, &k->pub, &k->err);
}

static void lambda_key_fail(struct provider *p, const char *what, const char *err,
                            enum lambda_err cls)
{
	char *c = xprintf("%s: %s%s", p->name, what, err);

	p->fail_cls = cls;
	p->key_state = 0;
	p->key_relisted = 0;
	waiters_fire(p, &p->key_waiters, -1, c);
	free(c);
}

static void lambda_key_listed(struct provider *p, void *ctx, int ok, long status, const char *body,
                              size_t len, const char *err, enum lambda_err cls);

static void lambda_key_added(struct provider *p, void *ctx, int ok, long status, const char *body,
                             size_t len, const char *err, enum lambda_err cls)
{
	char *why = NULL;

	(void)ctx;
	(void)body;
	(void)len;
	if (!ok && (cls == LAMBDA_ERR_INVALID || cls == LAMBDA_ERR_TRANSIENT) && !p->key_relisted) {
		/* another Gantry may have registered it meanwhile (a duplicate name), or the
		 * answer was lost: the list tells */
		p->key_relisted = 1;
		if (lambda_req(p, "GET", "/ssh-keys", NULL, lambda_key_listed, NULL, NULL, &why) ==
		    0)
			return;
		free(why);
	}
	(void)status;
	if (!ok) {
		lambda_key_fail(p, "cannot register Gantry's SSH key: ", err, cls);
		return;
	}
	p->key_state = 2;
	waiters_fire(p, &p->key_waiters, 0, NULL);
}

/* The first two fields of an OpenSSH public key line ("ssh-ed25519 AAAA..."). */
static int lambda_same_key(const char *a, const char *b)
{
	size_t la, lb;
	const char *sa = strchr(a, ' '), *sb = strchr(b, ' ');

	if (sa == NULL || sb == NULL)
		return 0;
	la = (size_t)(sa - a) + 1 + strcspn(sa + 1, " \r\n");
	lb = (size_t)(sb - b) + 1 + strcspn(sb + 1, " \r\n");
	return la == lb && memcmp(a, b, la) == 0;
}

static void lambda_key_listed(struct provider *p, void *ctx, int ok, long status, const char *body,
                              size_t len, const char *err, enum lambda_err cls)
{
	char *pub = NULL, *why = NULL, *reqbody;
	int found;

	(void)ctx;
	(void)status;
	(void)cls;
	if (!ok) {
		lambda_key_fail(p, "cannot list SSH keys: ", err, cls);
		return;
	}
	found = lambda_api_find_key(body, len, p->key_name, &pub, &why);
	if (found < 0) {
		lambda_key_fail(p, "", why, LAMBDA_ERR_OTHER);
		free(why);
		return;
	}
	if (found == 1) {
		if (pub == NULL || !lambda_same_key(pub, p->public_key)) {
			free(pub);
			why = xprintf("the SSH key name '%s' is registered with another public key "
			              "(delete that key in the Lambda dashboard, or remove %s to "
			              "use it) [invalid]",
			              p->key_name, p->key_path);
			lambda_key_fail(p, "", why, LAMBDA_ERR_INVALID);
			free(why);
			return;
		}
		free(pub);
		p->key_state = 2;
		p->key_relisted = 0;
		waiters_fire(p, &p->key_waiters, 0, NULL);
		return;
	}
	if (p->key_relisted) {
		lambda_key_fail(p, "cannot register Gantry's SSH key: ",
		                "it is still missing from /ssh-keys after an add",
		                LAMBDA_ERR_OTHER);
		return;
	}
	reqbody = lambda_api_add_key_body(p->key_name, p->public_key);
	if (lambda_req(p, "POST", "/ssh-keys", reqbody, lambda_key_added, NULL, NULL, &why) != 0) {
		lambda_key_fail(p, "", why, LAMBDA_ERR_TRANSIENT);
		free(why);
	}
	free(reqbody);
}

static void lambda_keygen_done(void *arg, int cancelled)
{
	struct lambda_keygen *k = arg;
	struct provider *p = k->p;
	char *why = NULL;

	if (!cancelled && !p->closing) {
		if (k->rc != 0) {
			lambda_key_fail(p, "Gantry's SSH key: ", k->err, LAMBDA_ERR_OTHER);
		} else {
			free(p->key_path);
			free(p->public_key);
			p->key_path = k->path;
			p->public_key = k->pub;
			k->path = k->pub = NULL;
			if (lambda_req(p, "GET", "/ssh-keys", NULL, lambda_key_listed, NULL, NULL,
			               &why) != 0) {
				lambda_key_fail(p, "", why, LAMBDA_ERR_TRANSIENT);
				free(why);
			}
		}
	}
	free(k->dir);
	free(k->path);
	free(k->pub);
	free(k->err);
	free(k);
}

void lambda_key_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                      void *ctx)
{
	struct lambda_keygen *k;

	if (p->key_state == 2) {
		fn(p, ctx, 0, NULL);
		return;
	}
	waiters_add(&p->key_waiters, fn, ctx);
	if (p->key_state == 1)
		return;
	p->key_state = 1;
	if (p->q == NULL)
		p->q = async_queue_new(p->loop, "lambda-key");
	k = xcalloc(1, sizeof *k);
	k->p = p;
	k->dir = xstrdup(p->state_dir);
	async_queue_submit(p->q, lambda_keygen_work, lambda_keygen_done, k);
}

/* ---- offers: the instance-types cache ---- */

static void lambda_types_answer(struct provider *p, void *ctx, int ok, long status,
                                const char *body, size_t len, const char *err, enum lambda_err cls)
{
	struct offer_list l = {0};
	char *why = NULL, *c;

	(void)ctx;
	(void)status;
	(void)cls;
	p->types_busy = 0;
	if (ok && lambda_api_parse_types(body, len, p->name, p->conf.regions, p->conf.nregions, &l,
	                                 &why) == 0) {
		offer_list_free(&p->types);
		p->types = l;
		p->types_ok = 1;
		p->types_mono = loop_now_ms();
		waiters_fire(p, &p->types_waiters, 0, NULL);
		return;
	}
	c = xprintf("%s: instance types: %s", p->name, ok ? why : err);
	free(why);
	p->fail_cls = ok ? LAMBDA_ERR_OTHER : cls;
	waiters_fire(p, &p->types_waiters, -1, c);
	free(c);
}

static void lambda_types_fetch(struct provider *p)
{
	char *why = NULL;

	if (p->types_busy || p->closing)
		return;
	p->types_busy = 1;
	if (lambda_req(p, "GET", "/instance-types", NULL, lambda_types_answer, NULL, NULL, &why) !=
	    0) {
		p->types_busy = 0;
		p->fail_cls = LAMBDA_ERR_TRANSIENT;
		waiters_fire(p, &p->types_waiters, -1, why);
		free(why);
	}
}

static void lambda_types_tick(void *arg)
{
	lambda_types_fetch(arg);
}

void lambda_types_ready(struct provider *p,
                        void (*fn)(struct provider *, void *, int, const char *), void *ctx)
{
	if (p->types_timer == NULL)
		p->types_timer =
		    loop_timer_add(p->loop, (uint64_t)p->conf.offers_refresh_s * 1000,
		                   (uint64_t)p->conf.offers_refresh_s * 1000, lambda_types_tick, p);
	if (p->types_ok) {
		fn(p, ctx, 0, NULL);
		return;
	}
	waiters_add(&p->types_waiters, fn, ctx);
	lambda_types_fetch(p);
}

struct lambda_offers_req {
	const struct template *t; /* valid only during the call: copied needs below */
	int want_gpus;
	provider_offers_cb cb;
	void *arg;
};

static void lambda_offers_answer(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct lambda_offers_req *o = ctx;
	struct offer_list l = {0};

	if (rc != 0) {
		o->cb(o->arg, -1, NULL, cause);
		free(o);
		return;
	}
	for (size_t i = 0; i < p->types.n; i++) {
		struct offer c = p->types.v[i];
		char *why = NULL;

		if (c.dropped == NULL && o->want_gpus > c.gpus) {
			why = xprintf("%d GPUs, the template needs %d", c.gpus, o->want_gpus);
			c.dropped = why;
		}
		offer_list_add(&l, &c);
		free(why);
	}
	o->cb(o->arg, 0, &l, NULL);
	offer_list_free(&l);
	free(o);
}

static int lambda_offers(struct provider *p, const struct template *t, provider_offers_cb cb,
                         void *arg, char **cause)
{
	struct lambda_offers_req *o = xcalloc(1, sizeof *o);

	(void)cause;
	o->cb = cb;
	o->arg = arg;
	o->want_gpus = t != NULL ? tpl_resources_min_gpus(&t->resources) : 0;
	lambda_types_ready(p, lambda_offers_answer, o);
	return 0;
}

/* ---- terminate, list_owned, destroy ---- */

struct lambda_term {
	struct provider *p;
	char *id;
	void (*cb)(struct provider *, void *, int, const char *);
	void *ctx;
};

static void lambda_term_abort(void *ctx)
{
	struct lambda_term *t = ctx;

	if (t->cb != NULL)
		t->cb(t->p, t->ctx, -1, "lambda: closed before the instance was terminated");
	free(t->id);
	free(t);
}

static void lambda_term_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                               size_t len, const char *err, enum lambda_err cls)
{
	struct lambda_term *t = ctx;
	struct lambda_inst *in = lambda_inst_find(p, t->id);
	char *c = NULL;

	(void)status;
	(void)body;
	(void)len;
	/* an instance that no longer exists is terminated as far as billing goes */
	if (ok || cls == LAMBDA_ERR_NOTFOUND) {
		char *kh = xprintf("%s/known_hosts/%s", p->state_dir, t->id);

		unlink(kh); /* its host key dies with it (the address will serve another) */
		free(kh);
		if (in != NULL) {
			in->terminating = 0;
			in->terminated = 1;
		}
		if (t->cb != NULL)
			t->cb(p, t->ctx, 0, NULL);
	} else {
		if (in != NULL)
			in->terminating = 0;
		c = xprintf("%s: cannot terminate instance %s: %s [%s]", p->name, t->id, err,
		            lambda_err_name(cls));
		if (t->cb != NULL)
			t->cb(p, t->ctx, -1, c);
		free(c);
	}
	free(t->id);
	free(t);
}

void lambda_terminate(struct provider *p, const char *id,
                      void (*cb)(struct provider *, void *, int, const char *), void *ctx)
{
	struct lambda_term *t = xcalloc(1, sizeof *t);
	struct lambda_inst *in = lambda_inst_find(p, id);
	char *body = lambda_api_terminate_body(id), *why = NULL;

	t->p = p;
	t->id = xstrdup(id);
	t->cb = cb;
	t->ctx = ctx;
	if (in != NULL)
		in->terminating = 1;
	if (lambda_req(p, "POST", "/instance-operations/terminate", body, lambda_term_answer,
	               lambda_term_abort, t, &why) != 0) {
		if (in != NULL)
			in->terminating = 0;
		if (cb != NULL)
			cb(p, ctx, -1, why);
		free(why);
		free(t->id);
		free(t);
	}
	free(body);
}

struct lambda_list_req {
	provider_owned_cb cb;
	void *arg;
};

static void lambda_list_abort(void *ctx)
{
	struct lambda_list_req *l = ctx;

	l->cb(l->arg, -1, NULL, 0, "lambda: closed");
	free(l);
}

static void lambda_list_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                               size_t len, const char *err, enum lambda_err cls)
{
	struct lambda_list_req *l = ctx;
	struct lambda_instance *v = NULL;
	struct provider_owned *own;
	size_t n = 0, k = 0;
	char *why = NULL, *c;

	(void)status;
	(void)cls;
	if (!ok || lambda_api_parse_instances(body, len, &v, &n, &why) != 0) {
		c = xprintf("%s: cannot list instances: %s", p->name, ok ? why : err);
		l->cb(l->arg, -1, NULL, 0, c);
		free(c);
		free(why);
		free(l);
		return;
	}
	own = xcalloc(n + 1, sizeof *own);
	for (size_t i = 0; i < n; i++) {
		char *job;
		int attempt;

		if (v[i].status == LAMBDA_ST_TERMINATED ||
		    !lambda_instance_ours(&v[i], p->key_name))
			continue;
		if (lambda_instance_name_parse(v[i].name, &job, &attempt) != 0)
			continue;
		own[k].ref = lambda_ref(v[i].id, v[i].ip != NULL ? v[i].ip : "", job);
		own[k].job_id = job;
		own[k].attempt = attempt;
		own[k].held = v[i].status != LAMBDA_ST_TERMINATING;
		k++;
	}
	l->cb(l->arg, 0, own, k, NULL);
	for (size_t i = 0; i < k; i++)
		provider_owned_clear(&own[i]);
	free(own);
	lambda_instances_free(v, n);
	free(l);
}

static int lambda_list_owned(struct provider *p, provider_owned_cb cb, void *arg, char **cause)
{
	struct lambda_list_req *l = xcalloc(1, sizeof *l);

	l->cb = cb;
	l->arg = arg;
	if (lambda_req(p, "GET", "/instances", NULL, lambda_list_answer, lambda_list_abort, l,
	               cause) != 0) {
		free(l);
		return -1;
	}
	return 0;
}

struct lambda_done_req {
	provider_done_cb cb;
	void *arg;
};

static void lambda_destroy_done(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct lambda_done_req *d = ctx;

	(void)p;
	d->cb(d->arg, rc, cause);
	free(d);
}

static int lambda_destroy(struct provider *p, const char *ref, provider_done_cb cb, void *arg,
                          char **cause)
{
	char *id, *ip, *job;
	struct lambda_done_req *d;

	if (lambda_ref_parse(ref, &id, &ip, &job, cause) != 0)
		return -1;
	d = xcalloc(1, sizeof *d);
	d->cb = cb;
	d->arg = arg;
	lambda_terminate(p, id, lambda_destroy_done, d);
	free(id);
	free(ip);
	free(job);
	return 0;
}

/* ---- open, close ---- */

static void lambda_free(struct provider *p)
{
	offer_list_free(&p->types);
	lambda_conf_free(&p->conf);
	if (p->auth_header != NULL) {
		memset(p->auth_header, 0, strlen(p->auth_header));
		free(p->auth_header);
	}
	if (p->api_key != NULL)
		cred_free(p->api_key);
	free(p->name);
	free(p->state_dir);
	free(p->installation_id);
	free(p->data_dir);
	free(p->key_name);
	free(p->key_path);
	free(p->public_key);
	free(p);
}

static int lambda_open(const struct provider_config *cfg, struct provider **out, char **cause)
{
	struct provider *p = xcalloc(1, sizeof *p);
	char *kh;

	*out = NULL;
	p->name = xstrdup(cfg->name);
	if (lambda_conf_parse(cfg->settings, cfg->settings_pos, cfg->name, &p->conf, cause) != 0) {
		lambda_free(p);
		return -1;
	}
	if (cred_get(cfg->settings, cfg->settings_pos, "api_key", 1, &p->api_key, cause) != 0) {
		lambda_free(p);
		return -1;
	}
	if (p->api_key[0] == '\0' || strpbrk(p->api_key, "\r\n") != NULL) {
		xcause(cause, "%s: %s: the API key is empty or not one line", cfg->name,
		       p->conf.key_setting);
		lambda_free(p);
		return -1;
	}
	if (cfg->state_dir == NULL) {
		xcause(cause, "%s: no state directory", cfg->name);
		lambda_free(p);
		return -1;
	}
	p->state_dir = xstrdup(cfg->state_dir);
	if (safefile_mkdirs(p->state_dir, cause) != 0 ||
	    safefile_trust_dir(p->state_dir, cause) != 0) {
		lambda_free(p);
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		static const char *const sub[] = {"known_hosts", "logs", "stopped"};

		kh = xprintf("%s/%s", p->state_dir, sub[i]);
		if (safefile_mkdirs(kh, cause) != 0) {
			free(kh);
			lambda_free(p);
			return -1;
		}
		free(kh);
	}
	p->loop = cfg->loop;
	p->notify = cfg->notify;
	p->notify_arg = cfg->notify_arg;
	p->installation_id = cfg->installation_id != NULL ? xstrdup(cfg->installation_id) : NULL;
	p->data_dir = cfg->data_dir != NULL ? xstrdup(cfg->data_dir) : NULL;
	p->log_max_bytes = cfg->log_max_bytes;
	p->key_name = lambda_key_name(cfg->installation_id);
	p->healthy = -1;
	p->http = cfg->http;
	if (p->http == NULL) {
		p->http = http_new(p->loop);
		p->own_http = 1;
	}
	http_add_secret(p->http, p->api_key);
	http_set_rate(p->http, p->conf.rate_per_s);
	p->auth_header = xprintf("Authorization: Bearer %s", p->api_key);
	*out = p;
	return 0;
}

static void lambda_close(struct provider *p)
{
	if (p == NULL)
		return;
	p->closing = 1;
	if (p->types_timer != NULL)
		loop_timer_cancel(p->loop, p->types_timer);
	if (p->q != NULL)
		async_queue_free(p->q); /* waits for a key being made, skips its done */
	lambda_launch_abort_all(p);
	lambda_log_abort_all(p);
	lambda_req_abort_all(p);
	p->fail_cls = LAMBDA_ERR_OTHER;
	waiters_fire(p, &p->key_waiters, -1, "lambda: closed");
	waiters_fire(p, &p->types_waiters, -1, "lambda: closed");
	lambda_inst_close_all(p);
	if (p->own_http)
		http_free(p->http);
	lambda_free(p);
}

const struct provider_ops lambda_provider_ops = {
    .name = "lambda",
    .summary = "jobs on Lambda Cloud GPU instances, one per job, reached over SSH (API v1)",
    .open = lambda_open,
    .close = lambda_close,
    .offers = lambda_offers,
    .launch = lambda_launch,
    .refresh = lambda_refresh,
    .stop = lambda_stop,
    .logs_open = lambda_logs_open,
    .logs_close = lambda_logs_close,
    .list_owned = lambda_list_owned,
    .destroy = lambda_destroy,
    .target = lambda_target,
    .hosts = lambda_hosts,
    .worker_http = lambda_worker_http,
};
