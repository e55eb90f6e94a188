/* kubernetes.c: the `kubernetes` provider: notebooks (Pod + Service), training (batch/v1
 * Job, Indexed with rank env when multi-node, + a headless Service) and endpoints
 * (apps/v1 Deployment + Service + autoscaling/v2 HorizontalPodAutoscaler) on a cluster
 * reached through a kubeconfig (k8s_cred.c), with the API's shapes from k8s_api.h.
 *
 * - open reads the settings and the kubeconfig and touches no network; the first request
 *   (the watches' lists, started on the first refresh, launch or list) tells whether the
 *   API server answers. While it does not, refreshes answer UNKNOWN with the reason (never
 *   FAILED) and notify says so once.
 * - Objects carry the labels of k8s_api.h (job, attempt, owner, team, installation, kind,
 *   managed-by); a job's ref is "NAMESPACE/KIND/NAME" (kind pod, job, deployment).
 * - State comes from a cache filled by one list + watch per namespace and kind
 *   (k8s_watch.c), not from a request per job. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/http.h"
#include "core/loop.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "providers/k8s_internal.h"
#include "providers/kubernetes.h"

#define KUBE_NODES_MS 30000
#define KUBE_DCGM_MS  5000

struct kube_req {
	struct provider *p;
	struct http_req *hr;
	kube_req_cb cb;
	kube_abort_fn abort_fn;
	void *ctx;
	int (*on_chunk)(void *ctx, long status, const char *d, size_t n);
	char *method, *path, *body;
	int waiting; /* for the credential */
	int dead;    /* cancelled while waiting: the credential waiter frees it */
	int retried; /* a 401 made it ask for a new credential once */
	long chunks; /* a stream's chunks so far */
	int bg;      /* through whttp */
	int sync;    /* inside kube_req: a failure to send is its return value */
	char *sync_err;
	struct kube_req *next;
};

void kube_crash_point(const char *name)
{
	const char *want = getenv("GANTRY_TEST_CRASH");

	if (want != NULL && strcmp(want, name) == 0)
		raise(SIGKILL);
}

enum provider_error_class kube_error_class(enum k8s_err e)
{
	switch (e) {
	case K8S_ERR_AUTH:
		return PROVIDER_ERR_AUTH;
	case K8S_ERR_QUOTA:
		return PROVIDER_ERR_QUOTA;
	case K8S_ERR_INVALID:
		return PROVIDER_ERR_INVALID;
	case K8S_ERR_TRANSIENT:
		return PROVIDER_ERR_TRANSIENT;
	default:
		return PROVIDER_ERR_OTHER;
	}
}

/* ---- refs ---- */

static const char *kube_ref_kind(enum k8s_kind k)
{
	return k == K8S_POD ? "pod" : k == K8S_JOB ? "job" : "deployment";
}

char *kube_ref(const char *ns, enum k8s_kind k, const char *name)
{
	return xprintf("%s/%s/%s", ns, kube_ref_kind(k), name);
}

int kube_ref_parse(const char *ref, char **ns, enum k8s_kind *k, char **name, char **cause)
{
	const char *a = ref != NULL ? strchr(ref, '/') : NULL;
	const char *b = a != NULL ? strchr(a + 1, '/') : NULL;
	size_t kl;

	if (a == NULL || b == NULL || a == ref || b[1] == '\0' || strchr(b + 1, '/') != NULL)
		return xcause(cause, "kubernetes: bad job ref '%s' (expected NAMESPACE/KIND/NAME)",
		              ref != NULL ? ref : "");
	kl = (size_t)(b - a - 1);
	if (kl == 3 && strncmp(a + 1, "pod", 3) == 0)
		*k = K8S_POD;
	else if (kl == 3 && strncmp(a + 1, "job", 3) == 0)
		*k = K8S_JOB;
	else if (kl == 10 && strncmp(a + 1, "deployment", 10) == 0)
		*k = K8S_DEPLOYMENT;
	else
		return xcause(cause, "kubernetes: bad job ref '%s' (kind pod, job or deployment)",
		              ref);
	*ns = xstrndup(ref, (size_t)(a - ref));
	*name = xstrdup(b + 1);
	return 0;
}

int kube_deleting(struct provider *p, const char *ref)
{
	for (struct kube_del *d = p->dels; d != NULL; d = d->next)
		if (strcmp(d->ref, ref) == 0)
			return 1;
	return 0;
}

void kube_mark_deleting(struct provider *p, const char *ref)
{
	struct kube_del *d;

	if (kube_deleting(p, ref))
		return;
	d = xcalloc(1, sizeof *d);
	d->ref = xstrdup(ref);
	d->next = p->dels;
	p->dels = d;
}

void kube_labels(struct provider *p, const char *job_id, int attempt, const char *owner,
                 const char *team, enum job_kind kind, struct kvlist *out)
{
	char num[16], *v;

	kvlist_init(out);
	kvlist_set(out, K8S_LABEL_MANAGED, "gantry");
	v = k8s_api_label_value(job_id);
	kvlist_set(out, K8S_LABEL_JOB, v);
	free(v);
	snprintf(num, sizeof num, "%d", attempt > 0 ? attempt : 1);
	kvlist_set(out, K8S_LABEL_ATTEMPT, num);
	if (owner != NULL && *owner != '\0') {
		v = k8s_api_label_value(owner);
		if (*v != '\0')
			kvlist_set(out, K8S_LABEL_OWNER, v);
		free(v);
	}
	if (team != NULL && *team != '\0') {
		v = k8s_api_label_value(team);
		if (*v != '\0')
			kvlist_set(out, K8S_LABEL_TEAM, v);
		free(v);
	}
	if (p->installation_id != NULL)
		kvlist_set(out, K8S_LABEL_INSTALL, p->installation_id);
	kvlist_set(out, K8S_LABEL_KIND, job_kind_name(kind));
}

/* ---- requests ---- */

static void kube_req_unlink(struct provider *p, struct kube_req *r)
{
	for (struct kube_req **pp = &p->reqs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

static void kube_req_free(struct kube_req *r)
{
	free(r->method);
	free(r->path);
	free(r->body);
	free(r);
}

void kube_health(struct provider *p, int ok, long status, enum k8s_err cls, const char *err)
{
	char *msg;

	if (ok) {
		p->last_ok_ms = loop_wall_ms();
		if (p->healthy == 0) {
			free(p->down_reason);
			p->down_reason = NULL;
			if (p->notify != NULL)
				p->notify(p->notify_arg, p->name, 1, NULL);
		}
		p->healthy = 1;
		return;
	}
	if (cls != K8S_ERR_TRANSIENT && !(cls == K8S_ERR_AUTH && status == 401))
		return; /* an answer about one request, not about the server */
	if (status == 429)
		return; /* busy, but there */
	msg = xprintf("%s: API server %s %s: %s", p->name, p->acc.server,
	              status == 401 ? "refused the credentials" : "unreachable", err);
	free(p->down_reason);
	p->down_reason = msg;
	if (p->healthy != 0) {
		p->healthy = 0;
		if (p->notify != NULL)
			p->notify(p->notify_arg, p->name, 0, msg);
	}
}

static int kube_req_send(struct provider *p, struct kube_req *r, char **cause);

static void kube_req_chunkless(struct kube_req *r, int ok, long status, const char *body,
                               size_t len, const char *err, enum k8s_err cls)
{
	r->cb(r->p, r->ctx, ok, status, body, len, err, cls);
	kube_req_free(r);
}

static void kube_req_cred(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct kube_req *r = ctx;
	char *why = NULL;

	r->waiting = 0;
	if (r->dead) {
		kube_req_free(r);
		return;
	}
	if (rc != 0) {
		kube_req_unlink(p, r);
		kube_health(p, 0, 401, K8S_ERR_AUTH, cause);
		kube_req_chunkless(r, 0, 0, "", 0, cause, K8S_ERR_AUTH);
		return;
	}
	if (kube_req_send(p, r, &why) != 0) {
		if (r->sync) { /* kube_req says so itself */
			r->sync_err = why;
			return;
		}
		kube_req_unlink(p, r);
		kube_req_chunkless(r, 0, 0, "", 0, why, K8S_ERR_OTHER);
		free(why);
	}
}

static int kube_req_chunk(void *arg, long status, const char *data, size_t len)
{
	struct kube_req *r = arg;

	if (r->chunks++ == 0)
		kube_health(r->p, 1, status, K8S_ERR_OTHER, NULL);
	return r->on_chunk(r->ctx, status, data, len);
}

static void kube_http_done(void *arg, const struct http_response *res)
{
	struct kube_req *r = arg;
	struct provider *p = r->p;
	enum k8s_err cls = K8S_ERR_OTHER;
	char *line = NULL, *red = NULL;
	int ok = res->status >= 200 && res->status < 300;

	r->hr = NULL;
	if (res->status == 401 && !r->retried &&
	    (p->acc.exec != NULL || p->acc.token_file != NULL)) {
		/* the token rotated or expired: a fresh one, once */
		r->retried = 1;
		kube_cred_invalidate(p);
		r->waiting = 1;
		kube_cred_ready(p, kube_req_cred, r);
		return;
	}
	kube_req_unlink(p, r);
	if (!ok) {
		line = k8s_api_error(res->status, res->body, res->body_len, res->error, &cls);
		red = http_redact(p->http, line);
		if (res->status == 401)
			kube_cred_invalidate(p);
	}
	/* a stream that broke says little of the server: its owner decides (k8s_watch.c) */
	if (ok || r->on_chunk == NULL)
		kube_health(p, ok, res->status, cls, red);
	kube_req_chunkless(r, ok, res->status, res->body != NULL ? res->body : "", res->body_len,
	                   red, cls);
	free(line);
	free(red);
}

static int kube_req_send(struct provider *p, struct kube_req *r, char **cause)
{
	const char *hdrs[5] = {0};
	struct http_request rq = {0};
	char *auth = kube_cred_header(p), *url, *why = NULL;
	size_t nh = 0;

	if (auth != NULL)
		hdrs[nh++] = auth;
	hdrs[nh++] = "Accept: application/json";
	if (r->body != NULL)
		hdrs[nh++] = strcmp(r->method, "PATCH") == 0
		                 ? "Content-Type: application/merge-patch+json"
		                 : "Content-Type: application/json";
	url = xprintf("%s%s", p->acc.server, r->path);
	rq.method = r->method;
	rq.url = url;
	rq.headers = hdrs;
	rq.body = r->body;
	rq.timeout_ms = r->on_chunk != NULL ? 0 : p->conf.request_timeout_ms;
	if (r->on_chunk != NULL) {
		rq.on_chunk = kube_req_chunk;
		rq.max_retries = -1;
	} else {
		/* creates use fixed names (a repeat answers 409 and is adopted): safe to retry */
		rq.idempotent = 1;
	}
	p->requests++;
	r->hr = http_send(r->bg ? p->whttp : p->http, &rq, kube_http_done, r, &why);
	free(url);
	if (auth != NULL) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	if (r->hr == NULL) {
		xcause(cause, "%s: %s", p->name, why != NULL ? why : "cannot send a request");
		free(why);
		return -1;
	}
	return 0;
}

struct kube_req *kube_req(struct provider *p, const char *method, const char *path,
                          const char *body, kube_req_cb cb, kube_abort_fn abort_fn, void *ctx,
                          int (*on_chunk)(void *ctx, long status, const char *d, size_t n),
                          char **cause)
{
	struct kube_req *r;

	if (p->closing) {
		xcause(cause, "%s: closing", p->name);
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->p = p;
	r->cb = cb;
	r->abort_fn = abort_fn;
	r->ctx = ctx;
	r->on_chunk = on_chunk;
	r->bg = p->req_bg && on_chunk != NULL;
	r->method = xstrdup(method);
	r->path = xstrdup(path);
	r->body = body != NULL ? xstrdup(body) : NULL;
	r->next = p->reqs;
	p->reqs = r;
	r->waiting = 1;
	r->sync = 1;
	kube_cred_ready(p, kube_req_cred, r);
	r->sync = 0;
	if (r->sync_err != NULL) {
		kube_req_unlink(p, r);
		xcause(cause, "%s", r->sync_err);
		free(r->sync_err);
		kube_req_free(r);
		return NULL;
	}
	return r;
}

void kube_req_cancel(struct provider *p, struct kube_req *r)
{
	kube_req_unlink(p, r);
	if (r->waiting) {
		r->dead = 1;
		return;
	}
	if (r->hr != NULL)
		http_cancel(r->bg ? p->whttp : p->http, r->hr);
	kube_req_free(r);
}

static void kube_req_abort_all(struct provider *p)
{
	while (p->reqs != NULL) {
		struct kube_req *r = p->reqs;
		kube_abort_fn fn = r->abort_fn;
		void *ctx = r->ctx;

		kube_req_cancel(p, r);
		if (fn != NULL)
			fn(ctx);
	}
}

/* ---- stop, destroy ---- */

struct kube_del_req {
	struct provider *p;
	provider_done_cb cb;
	void *arg;
	int left;
	char *err;
};

static void kube_del_end(struct kube_del_req *d)
{
	if (--d->left > 0)
		return;
	d->cb(d->arg, d->err != NULL ? -1 : 0, d->err);
	free(d->err);
	free(d);
}

static void kube_del_abort(void *ctx)
{
	struct kube_del_req *d = ctx;

	if (d->err == NULL)
		d->err = xstrdup("kubernetes: closed before the delete was answered");
	kube_del_end(d);
}

static void kube_del_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                            size_t len, const char *err, enum k8s_err cls)
{
	struct kube_del_req *d = ctx;

	(void)status;
	(void)body;
	(void)len;
	if (!ok && cls != K8S_ERR_NOTFOUND && d->err == NULL)
		d->err = xprintf("%s: cannot delete: %s", p->name, err);
	kube_del_end(d);
}

/* DELETEs every object of the job behind ref: the workload, its Secret, its Service, its
 * HPA (a 404 is fine: not every job has each). */
static int kube_delete_all(struct provider *p, const char *ref, int grace_ms, provider_done_cb cb,
                           void *arg, char **cause)
{
	char *ns, *name, *body;
	enum k8s_kind k;
	enum k8s_kind kinds[4];
	size_t nk = 0;
	struct kube_del_req *d;

	if (kube_ref_parse(ref, &ns, &k, &name, cause) != 0)
		return -1;
	kinds[nk++] = k;
	kinds[nk++] = K8S_SECRET;
	kinds[nk++] = K8S_SERVICE;
	if (k == K8S_DEPLOYMENT)
		kinds[nk++] = K8S_HPA;
	body = k8s_api_delete_body(grace_ms / 1000);
	d = xcalloc(1, sizeof *d);
	d->p = p;
	d->cb = cb;
	d->arg = arg;
	d->left = 1;
	kube_mark_deleting(p, ref);
	for (size_t i = 0; i < nk; i++) {
		char *path = k8s_api_path(kinds[i], ns, name, NULL), *why = NULL;

		if (path == NULL) {
			if (d->err == NULL)
				d->err = xprintf("%s: bad object name in ref %s", p->name, ref);
			continue;
		}
		d->left++;
		if (kube_req(p, "DELETE", path, body, kube_del_answer, kube_del_abort, d, NULL,
		             &why) == NULL) {
			d->left--;
			if (d->err == NULL)
				d->err = why;
			else
				free(why);
		}
		free(path);
	}
	free(body);
	free(ns);
	free(name);
	kube_del_end(d); /* the initial count */
	return 0;
}

static int kube_stop(struct provider *p, const char *ref, int grace_ms, provider_done_cb cb,
                     void *arg, char **cause)
{
	return kube_delete_all(p, ref, grace_ms, cb, arg, cause);
}

static int kube_destroy(struct provider *p, const char *ref, provider_done_cb cb, void *arg,
                        char **cause)
{
	return kube_delete_all(p, ref, 0, cb, arg, cause);
}

/* ---- list_owned ---- */

struct kube_own_req {
	struct provider *p;
	provider_owned_cb cb;
	void *arg;
	int left;
	char *err;
	struct provider_owned *v;
	size_t n;
};

struct kube_own_part {
	struct kube_own_req *o;
	enum k8s_kind k;
	char *ns;
};

static void kube_own_end(struct kube_own_req *o)
{
	if (--o->left > 0)
		return;
	if (o->err != NULL)
		o->cb(o->arg, -1, NULL, 0, o->err);
	else
		o->cb(o->arg, 0, o->v, o->n, NULL);
	for (size_t i = 0; i < o->n; i++)
		provider_owned_clear(&o->v[i]);
	free(o->v);
	free(o->err);
	free(o);
}

static void kube_own_abort(void *ctx)
{
	struct kube_own_part *pt = ctx;

	if (pt->o->err == NULL)
		pt->o->err = xstrdup("kubernetes: closed");
	kube_own_end(pt->o);
	free(pt->ns);
	free(pt);
}

static int kube_obj_held(const struct k8s_obj *o)
{
	if (o->deleted_ms > 0)
		return 0;
	if (o->kind == K8S_POD)
		return o->phase == NULL ||
		       (strcmp(o->phase, "Succeeded") != 0 && strcmp(o->phase, "Failed") != 0);
	if (o->kind == K8S_JOB)
		return !o->complete && !o->failed_cond;
	return 1;
}

static void kube_own_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                            size_t len, const char *err, enum k8s_err cls)
{
	struct kube_own_part *pt = ctx;
	struct kube_own_req *o = pt->o;
	struct k8s_list l = {0};
	char *why = NULL;

	(void)status;
	(void)cls;
	if (!ok || k8s_api_parse_list(pt->k, body, len, &l, &why) != 0) {
		if (o->err == NULL)
			o->err = xprintf("%s: cannot list %s in namespace %s: %s", p->name,
			                 k8s_kind_resource(pt->k), pt->ns, ok ? why : err);
		free(why);
	} else {
		for (size_t i = 0; i < l.n; i++) {
			const struct k8s_obj *x = &l.items[i];
			const char *job = kvlist_get(&x->labels, K8S_LABEL_JOB);
			const char *att = kvlist_get(&x->labels, K8S_LABEL_ATTEMPT);
			const char *own = kvlist_get(&x->labels, K8S_LABEL_OWNER);
			const char *kind = kvlist_get(&x->labels, K8S_LABEL_KIND);

			if (job == NULL)
				continue;
			/* a Job's or a Deployment's pods are listed through their controller */
			if (pt->k == K8S_POD && (kind == NULL || strcmp(kind, "notebook") != 0))
				continue;
			o->v = xreallocarray(o->v, o->n + 1, sizeof *o->v);
			memset(&o->v[o->n], 0, sizeof o->v[o->n]);
			o->v[o->n].ref = kube_ref(pt->ns, pt->k, x->name);
			o->v[o->n].job_id = xstrdup(job);
			o->v[o->n].attempt = att != NULL ? atoi(att) : 0;
			o->v[o->n].owner = own != NULL ? xstrdup(own) : NULL;
			o->v[o->n].started_ms = x->created_ms;
			o->v[o->n].held = kube_obj_held(x);
			o->n++;
		}
	}
	k8s_list_clear(&l);
	kube_own_end(o);
	free(pt->ns);
	free(pt);
}

static int kube_list_owned(struct provider *p, provider_owned_cb cb, void *arg, char **cause)
{
	struct kube_own_req *o = xcalloc(1, sizeof *o);
	static const enum k8s_kind kinds[] = {K8S_POD, K8S_JOB, K8S_DEPLOYMENT};
	char *sel = k8s_api_selector(p->installation_id, NULL);

	(void)cause;
	o->p = p;
	o->cb = cb;
	o->arg = arg;
	o->left = 1;
	for (size_t i = 0; i < p->nns; i++)
		for (size_t k = 0; k < 3; k++) {
			char *base = k8s_api_path(kinds[k], p->nss[i].name, NULL, NULL);
			char *path = xprintf("%s?labelSelector=%s", base, sel), *why = NULL;
			struct kube_own_part *pt = xcalloc(1, sizeof *pt);

			pt->o = o;
			pt->k = kinds[k];
			pt->ns = xstrdup(p->nss[i].name);
			o->left++;
			if (kube_req(p, "GET", path, NULL, kube_own_answer, kube_own_abort, pt,
			             NULL, &why) == NULL) {
				o->left--;
				if (o->err == NULL)
					o->err = why;
				else
					free(why);
				free(pt->ns);
				free(pt);
			}
			free(base);
			free(path);
		}
	free(sel);
	kube_own_end(o);
	return 0;
}

/* ---- nodes: offers and the cluster ---- */

static void kube_nodes_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                              size_t len, const char *err, enum k8s_err cls)
{
	struct k8s_list l = {0};
	char *why = NULL, *c;

	(void)ctx;
	(void)status;
	(void)cls;
	p->nodes_busy = 0;
	p->nodes_mono = loop_now_ms();
	if (ok && k8s_api_parse_list(K8S_NODE, body, len, &l, &why) == 0) {
		k8s_objs_free(p->nodes, p->nnodes);
		p->nodes = l.items;
		p->nnodes = l.n;
		l.items = NULL;
		l.n = 0;
		k8s_list_clear(&l);
		p->nodes_ok = 1;
		free(p->nodes_err);
		p->nodes_err = NULL;
		if (p->cluster_asked && p->notify != NULL)
			p->notify(p->notify_arg, p->name, p->healthy != 0, NULL);
		waiters_fire(p, &p->nodes_waiters, 0, NULL);
		return;
	}
	k8s_list_clear(&l);
	c = xprintf("%s: cannot list nodes: %s", p->name, ok ? why : err);
	free(why);
	free(p->nodes_err);
	p->nodes_err = xstrdup(c);
	waiters_fire(p, &p->nodes_waiters, -1, c);
	free(c);
}

static void kube_nodes_abort(void *ctx)
{
	struct provider *p = ctx;

	p->nodes_busy = 0;
	waiters_fire(p, &p->nodes_waiters, -1, "kubernetes: closed");
}

static void kube_nodes_fetch(struct provider *p)
{
	char *path, *why = NULL;

	if (p->nodes_busy || p->closing)
		return;
	p->nodes_busy = 1;
	path = k8s_api_path(K8S_NODE, NULL, NULL, NULL);
	if (kube_req(p, "GET", path, NULL, kube_nodes_answer, kube_nodes_abort, p, NULL, &why) ==
	    NULL) {
		p->nodes_busy = 0;
		waiters_fire(p, &p->nodes_waiters, -1, why);
		free(why);
	}
	free(path);
}

/* The nodes cache (fn at once when fresh). */
static void kube_nodes_ready(struct provider *p,
                             void (*fn)(struct provider *, void *, int, const char *), void *ctx)
{
	if (p->nodes_ok && loop_now_ms() - p->nodes_mono < KUBE_NODES_MS) {
		fn(p, ctx, 0, NULL);
		return;
	}
	waiters_add(&p->nodes_waiters, fn, ctx);
	kube_nodes_fetch(p);
}

/* The node label value of GPU type `type` ("H100" -> "NVIDIA-H100-80GB-HBM3"), from the
 * nodes cache (heap), or NULL. */
char *kube_gpu_label_value(struct provider *p, const char *type);
char *kube_gpu_label_value(struct provider *p, const char *type)
{
	for (size_t i = 0; type != NULL && i < p->nnodes; i++) {
		char *t = k8s_api_node_gpu_type(&p->nodes[i], p->conf.gpu_label);
		int same = t != NULL && strcasecmp(t, type) == 0;

		free(t);
		if (same) {
			const char *v = kvlist_get(&p->nodes[i].labels, p->conf.gpu_label);

			return v != NULL ? xstrdup(v) : NULL;
		}
	}
	return NULL;
}

/* Fetches the nodes cache (launch: the GPU type's label value). */
void kube_nodes_need(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                     void *ctx);
void kube_nodes_need(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                     void *ctx)
{
	kube_nodes_ready(p, fn, ctx);
}

static int kube_node_spot(struct provider *p, const struct k8s_obj *n)
{
	const char *v;

	if (p->conf.spot_label == NULL)
		return 0;
	v = kvlist_get(&n->labels, p->conf.spot_label);
	return v != NULL && strcmp(v, "true") == 0;
}

struct kube_offers_req {
	struct tpl_want want;
	provider_offers_cb cb;
	void *arg;
};

static double kube_rate_of(const struct catalog_site_gpu_rate *v, size_t n, const char *type,
                           int *found)
{
	double star = 0;
	int has_star = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(v[i].gpu_type, type) == 0) {
			*found = 1;
			return v[i].usd_per_gpu_hour;
		}
		if (strcmp(v[i].gpu_type, "*") == 0) {
			has_star = 1;
			star = v[i].usd_per_gpu_hour;
		}
	}
	*found = has_star;
	return star;
}

/* GPUs Gantry's pods hold on node `name` (from the watch cache; other pods are not seen). */
static int kube_node_used_gpus(struct provider *p, const char *name)
{
	int used = 0;

	for (size_t i = 0; i < p->nns; i++) {
		const struct k8s_obj **v = NULL;
		size_t k = kube_cache_pods(p, p->nss[i].name, NULL, NULL, &v);

		for (size_t j = 0; j < k; j++)
			if (v[j]->node_name != NULL && strcmp(v[j]->node_name, name) == 0 &&
			    v[j]->phase != NULL &&
			    (strcmp(v[j]->phase, "Running") == 0 ||
			     strcmp(v[j]->phase, "Pending") == 0))
				used += v[j]->pod_gpus;
		free(v);
	}
	return used;
}

/* A managed cluster's price (config `catalog: SECTION`): the catalog's cheapest instance of
 * that section with the same GPU type and count per node, times the nodes; on-demand or
 * spot. 0 when the catalog is not configured or has no such row (site rates then apply). */
static int kube_catalog_price(struct provider *p, const char *type, int gpus, int spot, int nodes,
                              double *usd_per_hour)
{
	struct catalog_query q = {0};
	double per = 0;

	if (p->catalog == NULL || gpus <= 0)
		return 0;
	q.provider = p->conf.catalog;
	q.gpu_name = type;
	q.gpu_count = gpus;
	q.market = spot ? CATALOG_SPOT : CATALOG_ONDEMAND;
	if (catalog_lookup(p->catalog, &q, &per) == NULL)
		return 0;
	*usd_per_hour = per * nodes;
	return 1;
}

static void kube_offer_group(struct provider *p, const struct kube_offers_req *o, const char *type,
                             int spot, struct offer_list *l)
{
	struct catalog_site_rates rates = {p->conf.gpu_rates, p->conf.ngpu_rates,
	                                   p->conf.has_cpu_rate, p->conf.rate_cpu_hour};
	struct offer of = {0};
	int total = 0, fit = 0, now = 0, maxg = 0, nodes = o->want.nodes > 0 ? o->want.nodes : 1;
	double price, cpus = 0;
	char *why = NULL;

	for (size_t i = 0; i < p->nnodes; i++) {
		const struct k8s_obj *n = &p->nodes[i];
		char *t = k8s_api_node_gpu_type(n, p->conf.gpu_label);
		int same = strcmp(t != NULL ? t : "", type) == 0;

		free(t);
		if ((o->want.gpus > 0 && !same) || kube_node_spot(p, n) != spot)
			continue;
		total++;
		if ((int)n->gpus_allocatable > maxg)
			maxg = (int)n->gpus_allocatable;
		/* pods, not machines: a node takes as many of the job's pods as its GPUs allow */
		if (n->node_ready && !n->unschedulable && n->gpus_allocatable >= o->want.gpus &&
		    n->cpus_allocatable >= o->want.cpus) {
			double free = n->gpus_allocatable - kube_node_used_gpus(p, n->name);

			fit += o->want.gpus > 0 ? (int)(n->gpus_allocatable / o->want.gpus) : nodes;
			if (free >= o->want.gpus)
				now += o->want.gpus > 0 ? (int)(free / o->want.gpus) : nodes;
		}
		if (cpus == 0 || n->cpus_allocatable < cpus)
			cpus = n->cpus_allocatable;
	}
	if (total == 0)
		return;
	of.provider = p->name;
	of.region = "";
	of.instance_type = *type != '\0' ? (char *)type : "cpu";
	of.gpu_type = o->want.gpus > 0 ? (char *)type : "";
	of.gpus = o->want.gpus > 0 ? o->want.gpus : 0;
	of.cpus = o->want.cpus > 0 ? o->want.cpus : (int)cpus;
	of.memory_mib = o->want.mib;
	of.market = spot ? OFFER_SPOT : OFFER_ONDEMAND;
	of.billing = OFFER_BILL_SECOND;
	of.avail = now >= nodes ? OFFER_AVAIL_YES : OFFER_AVAIL_UNKNOWN;
	if (kube_catalog_price(p, type, o->want.gpus, spot, nodes, &price)) {
		of.priced = 1;
		of.usd_per_hour = price;
		of.source = CATALOG_SRC_CATALOG;
	} else if (catalog_site_price(
	               &rates, of.gpu_type, o->want.gpus * nodes,
	               (double)(o->want.cpus > 0 ? o->want.cpus : (o->want.gpus > 0 ? 0 : 1)) *
	                   nodes,
	               &price) == 0) {
		of.priced = 1;
		of.usd_per_hour = price;
		of.source = CATALOG_SRC_SITE;
		if (spot && o->want.gpus > 0) {
			int found = 0;
			double r =
			    kube_rate_of(p->conf.spot_rates, p->conf.nspot_rates, type, &found);
			int gfound = 0;
			double g =
			    kube_rate_of(p->conf.gpu_rates, p->conf.ngpu_rates, type, &gfound);

			/* the GPU part at the spot rate (or discounted), the CPU part as is */
			of.usd_per_hour =
			    price - g * o->want.gpus * nodes +
			    (found ? r : g * p->conf.spot_discount) * o->want.gpus * nodes;
		}
	}
	of.description = xprintf("%d node%s%s%s%s (%d GPUs each at most), %d fit, %d free now",
	                         total, total == 1 ? "" : "s", *type != '\0' ? " with " : "", type,
	                         spot ? ", spot" : "", maxg, fit, now);
	if (fit < nodes)
		why = xprintf("room for %d pod%s of %d GPU%s and %d CPUs; the template needs %d",
		              fit, fit == 1 ? "" : "s", o->want.gpus, o->want.gpus == 1 ? "" : "s",
		              o->want.cpus, nodes);
	of.dropped = why;
	offer_list_add(l, &of);
	free(of.description);
	free(why);
}

static void kube_offers_answer(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct kube_offers_req *o = ctx;
	struct offer_list l = {0};

	if (rc != 0) {
		o->cb(o->arg, -1, NULL, cause);
		free(o);
		return;
	}
	for (int spot = 0; spot <= 1; spot++) {
		if (o->want.gpus == 0) {
			kube_offer_group(p, o, "", spot, &l);
			continue;
		}
		for (size_t j = 0; j < p->nnodes; j++) {
			char *t = k8s_api_node_gpu_type(&p->nodes[j], p->conf.gpu_label);
			int seen = 0;

			if (t == NULL || kube_node_spot(p, &p->nodes[j]) != spot) {
				free(t);
				continue;
			}
			for (size_t k = 0; k < j && !seen; k++) {
				char *u = k8s_api_node_gpu_type(&p->nodes[k], p->conf.gpu_label);

				seen = u != NULL && strcmp(u, t) == 0 &&
				       kube_node_spot(p, &p->nodes[k]) == spot;
				free(u);
			}
			if (!seen)
				kube_offer_group(p, o, t, spot, &l);
			free(t);
		}
	}
	if (l.n == 0) {
		struct offer of = {0};

		of.provider = p->name;
		of.region = "";
		of.instance_type = "";
		of.gpu_type = "";
		of.gpus = o->want.gpus;
		of.dropped = o->want.gpus > 0 ? xprintf("no node has %d GPUs (label %s)",
		                                        o->want.gpus, p->conf.gpu_label)
		                              : xstrdup("the cluster has no node");
		offer_list_add(&l, &of);
		free(of.dropped);
	}
	o->cb(o->arg, 0, &l, NULL);
	offer_list_free(&l);
	free(o);
}

static int kube_offers(struct provider *p, const struct template *t, provider_offers_cb cb,
                       void *arg, char **cause)
{
	struct kube_offers_req *o = xcalloc(1, sizeof *o);

	(void)cause;
	o->cb = cb;
	o->arg = arg;
	tpl_want_of(t, &o->want);
	kube_watch_start(p); /* Gantry's pods: what the nodes have free */
	kube_nodes_ready(p, kube_offers_answer, o);
	return 0;
}

static void kube_cluster_fetched(struct provider *p, void *ctx, int rc, const char *cause)
{
	(void)p;
	(void)ctx;
	(void)rc;
	(void)cause;
}

static int kube_cluster(struct provider *p, struct cluster_info *out, char **cause)
{
	const struct k8s_obj **pods = NULL;
	struct k8s_obj *flat;
	size_t n = 0;

	p->cluster_asked = 1;
	if (!p->nodes_ok || loop_now_ms() - p->nodes_mono >= KUBE_NODES_MS)
		kube_nodes_ready(p, kube_cluster_fetched, NULL);
	if (!p->nodes_ok)
		return xcause(cause, "%s: %s", p->name,
		              p->nodes_err != NULL ? p->nodes_err : "reading the cluster's nodes");
	kube_watch_start(p);
	for (size_t i = 0; i < p->nns; i++) {
		const struct k8s_obj **v = NULL;
		size_t k = kube_cache_pods(p, p->nss[i].name, NULL, NULL, &v);

		pods = xreallocarray(pods, n + k + 1, sizeof *pods);
		memcpy(pods + n, v, k * sizeof *v);
		n += k;
		free(v);
	}
	flat = xcalloc(n + 1, sizeof *flat);
	for (size_t i = 0; i < n; i++)
		flat[i] = *pods[i]; /* shallow: read only */
	memset(out, 0, sizeof *out);
	k8s_api_cluster(p->nodes, p->nnodes, flat, n, out);
	free(flat);
	free(pods);
	return 0;
}

/* ---- hosts: one per pod of the job, GPUs from the DCGM exporter ---- */

static void kube_dcgm_done(void *arg, const struct http_response *res)
{
	struct provider *p = arg;
	struct prom_sample *v = NULL;
	size_t n = 0, skipped = 0;
	char *why = NULL;

	p->dcgm_busy = 0;
	p->dcgm_hr = NULL;
	p->dcgm_mono = loop_now_ms();
	if (res->status == 200 &&
	    prom_parse(res->body, res->body_len, &v, &n, &skipped, &why) == 0) {
		prom_samples_free(p->dcgm, p->ndcgm);
		p->dcgm = v;
		p->ndcgm = n;
		if (p->notify != NULL)
			p->notify(p->notify_arg, p->name, p->healthy != 0, NULL);
	}
	free(why);
}

static void kube_dcgm_fetch(struct provider *p)
{
	struct http_request rq = {0};
	char *why = NULL;

	if (p->conf.dcgm_url == NULL || p->dcgm_busy || p->closing)
		return;
	if (p->dcgm_mono != 0 && loop_now_ms() - p->dcgm_mono < KUBE_DCGM_MS)
		return;
	rq.url = p->conf.dcgm_url;
	rq.timeout_ms = 5000;
	rq.max_retries = -1;
	p->dcgm_busy = 1;
	p->dcgm_hr = http_send(p->http, &rq, kube_dcgm_done, p, &why);
	if (p->dcgm_hr == NULL) {
		p->dcgm_busy = 0;
		free(why);
	}
}

static int kube_hosts(struct provider *p, const char *ref, struct tele_host **out, size_t *n)
{
	char *ns = NULL, *name = NULL;
	enum k8s_kind k;
	const struct k8s_obj **pods = NULL;
	const struct k8s_obj *wl;
	struct kube_watch *w;
	size_t np = 0;
	struct tele_host *h;

	*out = NULL;
	*n = 0;
	kube_watch_start(p);
	kube_dcgm_fetch(p);
	if (ref == NULL) {
		/* the nodes */
		if (!p->nodes_ok || loop_now_ms() - p->nodes_mono >= KUBE_NODES_MS)
			kube_nodes_ready(p, kube_cluster_fetched, NULL);
		h = xcalloc(p->nnodes + 1, sizeof *h);
		for (size_t i = 0; i < p->nnodes; i++) {
			h[i].name = xstrdup(p->nodes[i].name);
			h[i].reachable = p->nodes[i].node_ready;
			h[i].cpus = (int)p->nodes[i].cpus_allocatable;
			h[i].gpus_total = (int)p->nodes[i].gpus_allocatable;
			h[i].gpu_type = k8s_api_node_gpu_type(&p->nodes[i], p->conf.gpu_label);
			h[i].at_ms = loop_wall_ms();
		}
		*out = h;
		*n = p->nnodes;
		return 0;
	}
	if (kube_ref_parse(ref, &ns, &k, &name, NULL) != 0)
		return -1;
	w = kube_watch_of(p, ns, k);
	wl = w != NULL ? kube_cache_get(w, name) : NULL;
	if (wl != NULL) {
		const char *job = kvlist_get(&wl->labels, K8S_LABEL_JOB);
		const char *att = kvlist_get(&wl->labels, K8S_LABEL_ATTEMPT);

		np = kube_cache_pods(p, ns, job, att, &pods);
	}
	h = xcalloc(np + 1, sizeof *h);
	for (size_t i = 0; i < np; i++) {
		h[i].name = xstrdup(pods[i]->name);
		h[i].address = pods[i]->pod_ip != NULL ? xstrdup(pods[i]->pod_ip) : NULL;
		h[i].reachable = pods[i]->phase != NULL && strcmp(pods[i]->phase, "Running") == 0;
		h[i].at_ms = loop_wall_ms();
		if (p->conf.dcgm_url != NULL) {
			h[i].ngpus =
			    k8s_api_dcgm_gpus(p->dcgm, p->ndcgm, ns, pods[i]->name, &h[i].gpus);
			if (p->dcgm == NULL)
				h[i].gpu_error = xstrdup("DCGM exporter: no sample yet");
		}
		h[i].gpus_total = (int)h[i].ngpus;
	}
	*out = h;
	*n = np;
	free(pods);
	free(ns);
	free(name);
	return 0;
}

/* ---- worker_http: through the API server's pod proxy ---- */

struct kube_whttp {
	provider_http_cb cb;
	void *arg;
};

static void kube_whttp_abort(void *ctx)
{
	struct kube_whttp *x = ctx;

	x->cb(x->arg, -1, NULL, "kubernetes: closed");
	free(x);
}

static void kube_whttp_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                              size_t len, const char *err, enum k8s_err cls)
{
	struct kube_whttp *x = ctx;

	(void)p;
	(void)ok;
	(void)len;
	(void)cls;
	if (status > 0)
		x->cb(x->arg, (int)status, body, NULL);
	else
		x->cb(x->arg, -1, NULL, err);
	free(x);
}

static int kube_worker_http(struct provider *p, const char *ref, int port, const char *path,
                            provider_http_cb cb, void *arg, char **cause)
{
	char *ns = NULL, *pod = NULL, *container = NULL, *base, *sub, *url;
	struct kube_whttp *x;

	if (path == NULL || path[0] != '/' || strpbrk(path, " \r\n#") != NULL)
		return xcause(cause, "%s: bad path", p->name);
	if (kube_worker_pod(p, ref, 0, &ns, &pod, &container, cause) != 0)
		return -1;
	sub = xprintf("%s:%d", pod, port);
	base = k8s_api_path(K8S_POD, ns, NULL, NULL);
	url = xprintf("%s/%s/proxy%s", base, sub, path);
	x = xcalloc(1, sizeof *x);
	x->cb = cb;
	x->arg = arg;
	if (kube_req(p, "GET", url, NULL, kube_whttp_answer, kube_whttp_abort, x, NULL, cause) ==
	    NULL) {
		free(x);
		x = NULL;
	}
	free(url);
	free(base);
	free(sub);
	free(ns);
	free(pod);
	free(container);
	return x != NULL ? 0 : -1;
}

/* ---- hooks for k8s_channel.c ---- */

int kube_worker_pod(struct provider *p, const char *ref, int worker, char **ns, char **pod,
                    char **container, char **cause)
{
	char *name = NULL;
	enum k8s_kind k;
	struct kube_watch *w;
	const struct k8s_obj *wl;
	const struct k8s_obj **pods = NULL;
	const char *want = NULL;
	size_t np;

	*ns = *pod = *container = NULL;
	if (kube_ref_parse(ref, ns, &k, &name, cause) != 0)
		return -1;
	kube_watch_start(p);
	w = kube_watch_of(p, *ns, k);
	wl = w != NULL ? kube_cache_get(w, name) : NULL;
	if (wl == NULL) {
		xcause(cause, "%s: %s not found (yet) in namespace %s", p->name, name, *ns);
		goto fail;
	}
	if (k == K8S_POD && worker == 0) {
		*pod = xstrdup(wl->name);
		free(name);
		return 0;
	}
	np = kube_cache_pods(p, *ns, kvlist_get(&wl->labels, K8S_LABEL_JOB),
	                     kvlist_get(&wl->labels, K8S_LABEL_ATTEMPT), &pods);
	/* worker N: the pod with completion index N (Indexed Jobs), else the N-th running pod */
	for (size_t i = 0; i < np && want == NULL; i++)
		if (pods[i]->completion_index == worker && pods[i]->deleted_ms == 0)
			want = pods[i]->name;
	for (size_t i = 0, seen = 0; i < np && want == NULL; i++) {
		if (pods[i]->phase == NULL || strcmp(pods[i]->phase, "Running") != 0 ||
		    pods[i]->deleted_ms != 0)
			continue;
		if ((int)seen++ == worker)
			want = pods[i]->name;
	}
	if (want == NULL && worker == 0 && np > 0)
		want = pods[0]->name; /* an ended Job's pod still has its log */
	if (want == NULL) {
		xcause(cause, "%s: job %s has no running pod for worker %d", p->name, name, worker);
		free(pods);
		goto fail;
	}
	*pod = xstrdup(want);
	free(pods);
	free(name);
	return 0;
fail:
	free(name);
	free(*ns);
	*ns = NULL;
	return -1;
}

static char *kube_bearer(void *arg)
{
	struct provider *p = arg;

	return p->token != NULL ? xstrdup(p->token) : NULL;
}

void kube_ws_conn(struct provider *p, struct k8s_ws_conn *out)
{
	memset(out, 0, sizeof *out);
	out->http = p->http;
	out->server = p->acc.server;
	out->bearer = kube_bearer;
	out->bearer_arg = p;
}

struct loop *kube_loop(struct provider *p)
{
	return p->loop;
}

/* ---- open, close ---- */

static void kube_free(struct provider *p)
{
	while (p->dels != NULL) {
		struct kube_del *d = p->dels;

		p->dels = d->next;
		free(d->ref);
		free(d);
	}
	k8s_objs_free(p->nodes, p->nnodes);
	prom_samples_free(p->dcgm, p->ndcgm);
	catalog_free(p->catalog);
	kube_conf_free(&p->conf);
	k8s_access_clear(&p->acc);
	free(p->nss);
	free(p->name);
	free(p->installation_id);
	free(p->state_dir);
	free(p->data_dir);
	free(p->down_reason);
	free(p->nodes_err);
	free(p->cred_err);
	free(p);
}

static void kube_add_ns(struct provider *p, const char *ns)
{
	for (size_t i = 0; i < p->nns; i++)
		if (strcmp(p->nss[i].name, ns) == 0)
			return;
	p->nss = xreallocarray(p->nss, p->nns + 1, sizeof *p->nss);
	memset(&p->nss[p->nns], 0, sizeof p->nss[p->nns]);
	p->nss[p->nns].name = xstrdup(ns);
	p->nns++;
}

static void kube_close(struct provider *p);

static int kube_open(const struct provider_config *cfg, struct provider **out, char **cause)
{
	struct provider *p = xcalloc(1, sizeof *p);

	*out = NULL;
	p->name = xstrdup(cfg->name);
	p->loop = cfg->loop;
	p->healthy = -1;
	if (kube_conf_parse(cfg->settings, cfg->settings_pos, cfg->name, &p->conf, cause) != 0) {
		kube_free(p);
		return -1;
	}
	p->http = cfg->http;
	if (p->http == NULL) {
		p->http = http_new(p->loop);
		p->own_http = 1;
	}
	p->whttp = http_new(p->loop);
	if (kube_cred_open(p, cause) != 0) {
		http_free(p->whttp);
		if (p->own_http)
			http_free(p->http);
		kube_free(p);
		return -1;
	}
	if (p->conf.namespace == NULL)
		p->conf.namespace =
		    xstrdup(p->acc.namespace != NULL ? p->acc.namespace : "default");
	kube_add_ns(p, p->conf.namespace);
	for (size_t i = 0; i < p->conf.namespaces.n; i++)
		kube_add_ns(p, p->conf.namespaces.vals[i]);
	p->notify = cfg->notify;
	p->notify_arg = cfg->notify_arg;
	p->installation_id = cfg->installation_id != NULL ? xstrdup(cfg->installation_id) : NULL;
	p->state_dir = cfg->state_dir != NULL ? xstrdup(cfg->state_dir) : NULL;
	p->data_dir = cfg->data_dir != NULL ? xstrdup(cfg->data_dir) : NULL;
	if (p->conf.catalog != NULL) {
		/* a managed cluster: prices of the same GPUs from the catalog's section */
		char *path = catalog_default_path(p->data_dir), *why = NULL;

		if (catalog_load(path, NULL, NULL, &p->catalog, &why) != 0) {
			xcause(cause, "%s: catalog: %s", p->name, why);
			free(why);
			free(path);
			kube_close(p);
			return -1;
		}
		free(path);
	}
	*out = p;
	return 0;
}

static void kube_close(struct provider *p)
{
	if (p == NULL)
		return;
	p->closing = 1;
	kube_watch_stop(p);
	/* launches waiting for the nodes fail on `closing` before they are freed below */
	waiters_fire(p, &p->nodes_waiters, -1, "kubernetes: closed");
	kube_launch_abort_all(p);
	kube_logs_abort_all(p);
	kube_refresh_abort_all(p);
	kube_req_abort_all(p);
	if (p->dcgm_hr != NULL)
		http_cancel(p->http, p->dcgm_hr);
	waiters_fire(p, &p->nodes_waiters, -1, "kubernetes: closed");
	waiters_fire(p, &p->sync_waiters, -1, "kubernetes: closed");
	kube_cred_close(p); /* frees requests that waited for a credential */
	for (size_t i = 0; i < p->nns; i++)
		free(p->nss[i].name);
	http_free(p->whttp);
	if (p->own_http)
		http_free(p->http);
	kube_free(p);
}

const struct provider_ops kubernetes_provider_ops = {
    .name = "kubernetes",
    .summary = "notebooks (Pod), training (Job) and autoscaled endpoints (Deployment + HPA) on "
               "a Kubernetes cluster through a kubeconfig",
    .open = kube_open,
    .close = kube_close,
    .offers = kube_offers,
    .launch = kube_launch,
    .refresh = kube_refresh,
    .stop = kube_stop,
    .logs_open = kube_logs_open,
    .logs_close = kube_logs_close,
    .list_owned = kube_list_owned,
    .destroy = kube_destroy,
    .hosts = kube_hosts,
    .worker_http = kube_worker_http,
    .channel_open = kube_channel_open, /* providers/k8s_channel.c */
    .channel_close = kube_channel_close,
    .cluster = kube_cluster,
};
