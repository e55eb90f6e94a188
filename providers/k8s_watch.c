/* k8s_watch.c: what the kubernetes provider knows of its objects, kept by one list + watch
 * per namespace and kind (pods, jobs, deployments, horizontalpodautoscalers), all selected
 * by this installation's label:
 *
 * - list: paged (limit/continue), read into a fresh table that replaces the cache at the
 *   last page; its resourceVersion starts the watch.
 * - watch: ?watch=1&resourceVersion=RV&allowWatchBookmarks=true, streamed (on_chunk, split
 *   into lines by k8s_lines_feed); every event and bookmark advances RV. A stream that ends
 *   is resumed from RV (at once when it ended cleanly, with backoff after an error); a 410
 *   Gone or an ERROR event means RV is compacted away: list again.
 * - `watch: false`: a list every poll_interval instead (the benchmark's reference).
 *
 * refresh answers from the cache on the loop (a zero timer), never with a request; while
 * the API server is unreachable it answers UNKNOWN with the reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/k8s_internal.h"

#define KUBE_PAGE           500
#define KUBE_WATCH_S        300
#define KUBE_BACKOFF_MIN_MS 500
#define KUBE_BACKOFF_MAX_MS 30000
#define KUBE_MAX_LINE       (16 << 20)

static const enum k8s_kind kube_wkinds[KUBE_NW] = {K8S_POD, K8S_JOB, K8S_DEPLOYMENT, K8S_HPA};

static unsigned kube_hash(const char *s)
{
	unsigned h = 2166136261u;

	for (; s != NULL && *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % KUBE_BUCKETS;
}

/* ---- the table ---- */

static void kube_ent_free(struct kube_ent *e)
{
	k8s_obj_clear(&e->obj);
	free(e->job);
	free(e);
}

static struct kube_ent *kube_find(struct kube_ent *const *by_name, const char *name)
{
	for (struct kube_ent *e = by_name[kube_hash(name)]; e != NULL; e = e->next_name)
		if (strcmp(e->obj.name, name) == 0)
			return e;
	return NULL;
}

static void kube_unlink_job(struct kube_watch *w, struct kube_ent *e)
{
	for (struct kube_ent **pp = &w->by_job[kube_hash(e->job)]; *pp != NULL;
	     pp = &(*pp)->next_job)
		if (*pp == e) {
			*pp = e->next_job;
			return;
		}
}

static void kube_remove(struct kube_watch *w, const char *name)
{
	for (struct kube_ent **pp = &w->by_name[kube_hash(name)]; *pp != NULL;
	     pp = &(*pp)->next_name)
		if (strcmp((*pp)->obj.name, name) == 0) {
			struct kube_ent *e = *pp;

			*pp = e->next_name;
			kube_unlink_job(w, e);
			kube_ent_free(e);
			w->n--;
			return;
		}
}

/* Puts obj (moved) into the table, replacing one of the same name. */
static void kube_insert(struct kube_watch *w, struct k8s_obj *obj)
{
	struct kube_ent *e = kube_find(w->by_name, obj->name);
	const char *job;

	if (e != NULL) {
		kube_unlink_job(w, e);
		k8s_obj_clear(&e->obj);
		free(e->job);
	} else {
		unsigned h = kube_hash(obj->name);

		e = xcalloc(1, sizeof *e);
		e->next_name = w->by_name[h];
		w->by_name[h] = e;
		w->n++;
	}
	e->obj = *obj;
	memset(obj, 0, sizeof *obj);
	job = kvlist_get(&e->obj.labels, K8S_LABEL_JOB);
	e->job = job != NULL ? xstrdup(job) : NULL;
	e->next_job = w->by_job[kube_hash(e->job)];
	w->by_job[kube_hash(e->job)] = e;
}

static void kube_table_clear(struct kube_ent **by_name)
{
	for (size_t i = 0; i < KUBE_BUCKETS; i++) {
		while (by_name[i] != NULL) {
			struct kube_ent *e = by_name[i];

			by_name[i] = e->next_name;
			kube_ent_free(e);
		}
	}
}

static void kube_table_swap(struct kube_watch *w)
{
	kube_table_clear(w->by_name);
	memset(w->by_job, 0, sizeof w->by_job);
	w->n = 0;
	for (size_t i = 0; i < KUBE_BUCKETS; i++) {
		while (w->fresh[i] != NULL) {
			struct kube_ent *e = w->fresh[i];

			w->fresh[i] = e->next_name;
			kube_insert(w, &e->obj);
			kube_ent_free(e);
		}
	}
}

/* ---- lookups ---- */

struct kube_ns *kube_ns_find(struct provider *p, const char *ns)
{
	for (size_t i = 0; i < p->nns; i++)
		if (strcmp(p->nss[i].name, ns) == 0)
			return &p->nss[i];
	return NULL;
}

struct kube_watch *kube_watch_of(struct provider *p, const char *ns, enum k8s_kind k)
{
	struct kube_ns *n = kube_ns_find(p, ns);

	if (n == NULL)
		return NULL;
	for (int i = 0; i < KUBE_NW; i++)
		if (kube_wkinds[i] == k)
			return &n->w[i];
	return NULL;
}

const struct k8s_obj *kube_cache_get(struct kube_watch *w, const char *name)
{
	struct kube_ent *e = kube_find(w->by_name, name);

	return e != NULL ? &e->obj : NULL;
}

void kube_cache_put(struct kube_watch *w, struct k8s_obj *obj)
{
	/* an object just created or read: the watch's own copy wins when it has one */
	if (kube_find(w->by_name, obj->name) != NULL) {
		k8s_obj_clear(obj);
		return;
	}
	kube_insert(w, obj);
}

static int kube_pod_cmp(const void *a, const void *b)
{
	const struct k8s_obj *x = *(const struct k8s_obj *const *)a;
	const struct k8s_obj *y = *(const struct k8s_obj *const *)b;

	return strcmp(x->name, y->name);
}

size_t kube_cache_pods(struct provider *p, const char *ns, const char *job_id, const char *attempt,
                       const struct k8s_obj ***out)
{
	struct kube_watch *w = kube_watch_of(p, ns, K8S_POD);
	const struct k8s_obj **v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (w == NULL)
		return 0;
	for (size_t b = 0; b < KUBE_BUCKETS; b++) {
		struct kube_ent *e = job_id != NULL ? w->by_job[kube_hash(job_id)] : w->by_name[b];

		for (; e != NULL; e = job_id != NULL ? e->next_job : e->next_name) {
			const char *att;

			if (job_id != NULL && (e->job == NULL || strcmp(e->job, job_id) != 0))
				continue;
			att = kvlist_get(&e->obj.labels, K8S_LABEL_ATTEMPT);
			if (attempt != NULL && (att == NULL || strcmp(att, attempt) != 0))
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				v = xreallocarray(v, cap, sizeof *v);
			}
			v[n++] = &e->obj;
		}
		if (job_id != NULL)
			break;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, kube_pod_cmp);
	*out = v;
	return n;
}

/* ---- list, watch ---- */

static void kube_watch_list(struct kube_watch *w);
static void kube_watch_watch(struct kube_watch *w);

static int kube_all_synced(struct provider *p)
{
	for (size_t i = 0; i < p->nns; i++)
		for (int k = 0; k < KUBE_NW; k++)
			if (!p->nss[i].w[k].synced)
				return 0;
	return 1;
}

static void kube_watch_timer(void *arg)
{
	struct kube_watch *w = arg;

	w->timer = NULL;
	if (w->p->closing)
		return;
	/* unreachable, or no version to resume from: a list tells where things are */
	if (!w->p->conf.watch || w->rv == NULL || w->relist || w->p->healthy == 0)
		kube_watch_list(w);
	else
		kube_watch_watch(w);
}

static void kube_watch_later(struct kube_watch *w, int ms)
{
	if (w->timer != NULL || w->p->closing)
		return;
	w->timer = loop_timer_add(w->p->loop, (uint64_t)ms, 0, kube_watch_timer, w);
}

static void kube_watch_backoff(struct kube_watch *w)
{
	int ms = w->backoff_ms > 0 ? w->backoff_ms : KUBE_BACKOFF_MIN_MS;

	w->backoff_ms = ms * 2 > KUBE_BACKOFF_MAX_MS ? KUBE_BACKOFF_MAX_MS : ms * 2;
	kube_watch_later(w, ms);
}

static char *kube_watch_path(struct kube_watch *w, int watch)
{
	char *base = k8s_api_path(kube_wkinds[w->wk], w->ns->name, NULL, NULL);
	char *sel = k8s_api_selector(w->p->installation_id, NULL);
	char *path;

	if (watch)
		path = xprintf("%s?labelSelector=%s&watch=1&resourceVersion=%s"
		               "&allowWatchBookmarks=true&timeoutSeconds=%d",
		               base, sel, w->rv, KUBE_WATCH_S);
	else if (w->cont != NULL)
		path = xprintf("%s?labelSelector=%s&limit=%d&continue=%s", base, sel, KUBE_PAGE,
		               w->cont);
	else
		path = xprintf("%s?labelSelector=%s&limit=%d", base, sel, KUBE_PAGE);
	free(base);
	free(sel);
	return path;
}

static void kube_watch_abort(void *ctx)
{
	struct kube_watch *w = ctx;

	w->hr = NULL;
	w->listing = w->watching = 0;
}

static void kube_list_answer(struct provider *p, void *ctx, int ok, long status, const char *body,
                             size_t len, const char *err, enum k8s_err cls)
{
	struct kube_watch *w = ctx;
	struct k8s_list l = {0};
	char *why = NULL, *c;

	w->hr = NULL;
	w->listing = 0;
	if (!ok && cls == K8S_ERR_NOTFOUND) {
		/* a namespace that does not exist (yet) holds nothing: an empty list, and a
		 * later list finds what a launch creates there */
		kube_table_clear(w->fresh);
		free(w->cont);
		w->cont = NULL;
		kube_table_swap(w);
		if (!w->synced) {
			w->synced = 1;
			if (kube_all_synced(p))
				waiters_fire(p, &p->sync_waiters, 0, NULL);
		}
		kube_watch_later(w, p->conf.poll_ms);
		return;
	}
	if (!ok || k8s_api_parse_list(kube_wkinds[w->wk], body, len, &l, &why) != 0) {
		kube_table_clear(w->fresh);
		free(w->cont);
		w->cont = NULL;
		c = xprintf("%s: cannot list %s in namespace %s: %s", p->name,
		            k8s_kind_resource(kube_wkinds[w->wk]), w->ns->name, ok ? why : err);
		free(why);
		k8s_list_clear(&l);
		if (!w->synced)
			waiters_fire(p, &p->sync_waiters, -1, c);
		free(c);
		(void)status;
		(void)cls;
		kube_watch_backoff(w);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct kube_ent *e = xcalloc(1, sizeof *e);
		unsigned h = kube_hash(l.items[i].name);

		e->obj = l.items[i];
		memset(&l.items[i], 0, sizeof l.items[i]);
		e->next_name = w->fresh[h];
		w->fresh[h] = e;
	}
	free(w->cont);
	w->cont = l.cont;
	l.cont = NULL;
	if (w->cont != NULL && *w->cont != '\0') {
		k8s_list_clear(&l);
		kube_watch_list(w); /* the next page */
		return;
	}
	free(w->cont);
	w->cont = NULL;
	kube_table_swap(w);
	free(w->rv);
	w->rv = l.resource_version;
	l.resource_version = NULL;
	k8s_list_clear(&l);
	w->relist = 0;
	w->backoff_ms = 0;
	if (!w->synced) {
		w->synced = 1;
		if (kube_all_synced(p))
			waiters_fire(p, &p->sync_waiters, 0, NULL);
	}
	if (p->conf.watch && w->rv != NULL)
		kube_watch_watch(w);
	else
		kube_watch_later(w, p->conf.poll_ms);
}

static void kube_watch_list(struct kube_watch *w)
{
	char *path, *why = NULL;

	if (w->listing || w->watching || w->p->closing)
		return;
	path = kube_watch_path(w, 0);
	w->listing = 1;
	w->lists++;
	w->hr =
	    kube_req(w->p, "GET", path, NULL, kube_list_answer, kube_watch_abort, w, NULL, &why);
	free(path);
	if (w->hr == NULL) {
		w->listing = 0;
		free(why);
		kube_watch_backoff(w);
	}
}

static void kube_event_apply(struct kube_watch *w, struct k8s_event *ev)
{
	w->events++;
	if (ev->type == K8S_EV_ERROR) {
		/* 410 Expired / Gone, or anything else: the version is no good, list again */
		w->relist = 1;
		return;
	}
	if (ev->obj.resource_version != NULL) {
		free(w->rv);
		w->rv = xstrdup(ev->obj.resource_version);
	}
	if (ev->type == K8S_EV_BOOKMARK || ev->obj.name == NULL)
		return;
	if (ev->type == K8S_EV_DELETED)
		kube_remove(w, ev->obj.name);
	else
		kube_insert(w, &ev->obj);
}

static int kube_watch_line(void *arg, const char *line, size_t len)
{
	struct kube_watch *w = arg;
	struct k8s_event ev;
	char *why = NULL;

	if (len == 0)
		return 0;
	memset(&ev, 0, sizeof ev);
	if (k8s_api_parse_event(kube_wkinds[w->wk], line, len, &ev, &why) != 0) {
		free(why);
		w->broken = 1;
		return -1;
	}
	kube_event_apply(w, &ev);
	k8s_event_clear(&ev);
	return w->relist ? -1 : 0;
}

static int kube_watch_chunk(void *ctx, long status, const char *d, size_t n)
{
	struct kube_watch *w = ctx;

	(void)status;
	w->fails = 0;
	if (k8s_lines_feed(&w->lines, d, n, kube_watch_line, w) != 0) {
		if (!w->relist)
			w->broken = 1;
		return 1; /* stop the stream */
	}
	return 0;
}

static void kube_watch_end(struct provider *p, void *ctx, int ok, long status, const char *body,
                           size_t len, const char *err, enum k8s_err cls)
{
	struct kube_watch *w = ctx;

	(void)body;
	(void)len;
	w->hr = NULL;
	w->watching = 0;
	/* two streams in a row that got nothing: the server is out of reach */
	if (!ok && !p->closing && w->fails++ >= 1)
		kube_health(p, 0, status,
		            cls == K8S_ERR_OTHER && status == 0 ? K8S_ERR_TRANSIENT : cls, err);
	k8s_lines_clear(&w->lines);
	w->lines.max_line = KUBE_MAX_LINE;
	if (p->closing)
		return;
	if (status == 410 || cls == K8S_ERR_GONE || w->relist) {
		w->relist = 1;
		w->broken = 0;
		kube_watch_list(w);
		return;
	}
	if (ok && !w->broken && status >= 200 && status < 300) {
		/* the server ended it (timeoutSeconds): resume where it stopped */
		w->backoff_ms = 0;
		kube_watch_watch(w);
		return;
	}
	if (w->broken) {
		/* unreadable: start over from a list */
		w->broken = 0;
		w->relist = 1;
	}
	kube_watch_backoff(w);
}

static void kube_watch_watch(struct kube_watch *w)
{
	char *path, *why = NULL;

	if (w->listing || w->watching || w->p->closing)
		return;
	if (w->rv == NULL) {
		kube_watch_list(w);
		return;
	}
	path = kube_watch_path(w, 1);
	w->watching = 1;
	w->broken = 0;
	w->watches++;
	k8s_lines_clear(&w->lines);
	w->lines.max_line = KUBE_MAX_LINE;
	w->p->req_bg = 1; /* through the provider's stream handle */
	w->hr = kube_req(w->p, "GET", path, NULL, kube_watch_end, kube_watch_abort, w,
	                 kube_watch_chunk, &why);
	w->p->req_bg = 0;
	free(path);
	if (w->hr == NULL) {
		w->watching = 0;
		free(why);
		kube_watch_backoff(w);
	}
}

void kube_watch_start(struct provider *p)
{
	if (p->watching || p->closing)
		return;
	p->watching = 1;
	for (size_t i = 0; i < p->nns; i++)
		for (int k = 0; k < KUBE_NW; k++) {
			struct kube_watch *w = &p->nss[i].w[k];

			w->p = p;
			w->ns = &p->nss[i];
			w->wk = (enum kube_wkind)k;
			w->lines.max_line = KUBE_MAX_LINE;
			kube_watch_list(w);
		}
}

void kube_watch_stop(struct provider *p)
{
	for (size_t i = 0; i < p->nns; i++)
		for (int k = 0; k < KUBE_NW; k++) {
			struct kube_watch *w = &p->nss[i].w[k];

			if (w->timer != NULL)
				loop_timer_cancel(p->loop, w->timer);
			w->timer = NULL;
			if (w->hr != NULL)
				kube_req_cancel(p, w->hr);
			w->hr = NULL;
			w->listing = w->watching = 0;
			kube_table_clear(w->by_name);
			kube_table_clear(w->fresh);
			memset(w->by_job, 0, sizeof w->by_job);
			k8s_lines_clear(&w->lines);
			free(w->rv);
			free(w->cont);
			w->rv = w->cont = NULL;
		}
}

void kube_sync_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                     void *ctx)
{
	kube_watch_start(p);
	if (kube_all_synced(p)) {
		fn(p, ctx, 0, NULL);
		return;
	}
	waiters_add(&p->sync_waiters, fn, ctx);
}

/* ---- state ---- */

int kube_view_state(struct provider *p, const char *ref, struct k8s_state *out, char **cause)
{
	char *ns, *name;
	enum k8s_kind k;
	struct kube_watch *w;
	struct k8s_view v = {0};
	const struct k8s_obj **pods = NULL;
	const char *kind;

	memset(out, 0, sizeof *out);
	if (kube_ref_parse(ref, &ns, &k, &name, cause) != 0)
		return -1;
	w = kube_watch_of(p, ns, k);
	if (w == NULL) {
		xcause(cause, "%s: namespace %s is not configured (namespace, namespaces)", p->name,
		       ns);
		free(ns);
		free(name);
		return -1;
	}
	v.workload = kube_cache_get(w, name);
	v.kind = k == K8S_POD   ? JOB_KIND_NOTEBOOK
	         : k == K8S_JOB ? JOB_KIND_TRAINING
	                        : JOB_KIND_ENDPOINT;
	kind = v.workload != NULL ? kvlist_get(&v.workload->labels, K8S_LABEL_KIND) : NULL;
	if (kind != NULL) {
		int jk = job_kind_parse(kind);

		if (jk >= 0)
			v.kind = (enum job_kind)jk;
	}
	if (v.workload != NULL && k == K8S_POD) {
		pods = xcalloc(1, sizeof *pods);
		pods[0] = v.workload;
		v.npods = 1;
	} else if (v.workload != NULL) {
		v.npods =
		    kube_cache_pods(p, ns, kvlist_get(&v.workload->labels, K8S_LABEL_JOB),
		                    kvlist_get(&v.workload->labels, K8S_LABEL_ATTEMPT), &pods);
	}
	v.pods = pods;
	if (k == K8S_DEPLOYMENT) {
		struct kube_watch *hw = kube_watch_of(p, ns, K8S_HPA);

		v.hpa = hw != NULL ? kube_cache_get(hw, name) : NULL;
	}
	v.deleting = kube_deleting(p, ref);
	k8s_api_state(&v, out);
	if (out->state == JOB_STARTING && kube_secret_lost(p, name, pods, v.npods)) {
		free(out->reason);
		out->reason = xstrdup("its Secret was never created (the launch was interrupted "
		                      "after the workload): nothing can start it");
		out->state = JOB_FAILED;
	}
	free(pods);
	free(ns);
	free(name);
	return 0;
}

/* A pod of the job waiting for its own Secret (same name) for over 30 s while no launch
 * of this process is creating it: a launch was killed between the workload and its Secret
 * (k8s_launch.c). The token the Secret would hold died with that process, and the pod
 * holds its node's GPUs while it waits, so the job is FAILED and reconcile deletes it. */
int kube_secret_lost(struct provider *p, const char *name, const struct k8s_obj *const *pods,
                     size_t npods)
{
	char *want = xprintf("secret \"%s\" not found", name);
	int lost = 0;

	for (size_t i = 0; i < npods && !lost; i++)
		for (size_t c = 0; c < pods[i]->ncontainers && !lost; c++) {
			const struct k8s_container *ct = &pods[i]->containers[c];

			lost = ct->waiting_reason != NULL &&
			       strcmp(ct->waiting_reason, "CreateContainerConfigError") == 0 &&
			       ct->waiting_message != NULL &&
			       strstr(ct->waiting_message, want) != NULL &&
			       pods[i]->created_ms > 0 &&
			       loop_wall_ms() - pods[i]->created_ms > 30000;
		}
	free(want);
	return lost && !kube_launch_busy(p, name);
}

struct kube_refresh {
	struct provider *p;
	char *ref;
	provider_status_cb cb;
	void *arg;
	struct loop_timer *timer;
	int waiting; /* for the first lists */
	int rc;
	char *cause;
	struct kube_refresh *next;
};

static void kube_refresh_unlink(struct provider *p, struct kube_refresh *r)
{
	for (struct kube_refresh **pp = &p->refreshes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			return;
		}
}

static void kube_refresh_free(struct kube_refresh *r)
{
	free(r->ref);
	free(r->cause);
	free(r);
}

static void kube_refresh_answer(struct kube_refresh *r)
{
	struct provider *p = r->p;
	struct provider_status st = {0};
	struct k8s_state ks;
	char *why = NULL;

	kube_refresh_unlink(p, r);
	if (p->healthy == 0 && p->down_reason != NULL) {
		/* unreachable: what the cache says may be old; never FAILED for that */
		st.state = JOB_UNKNOWN;
		st.reason = xstrdup(p->down_reason);
	} else if (r->rc != 0) {
		st.state = JOB_UNKNOWN;
		st.reason = xstrdup(r->cause != NULL ? r->cause : "no answer from the API server");
	} else if (kube_view_state(p, r->ref, &ks, &why) != 0) {
		r->cb(r->arg, -1, NULL, why);
		free(why);
		kube_refresh_free(r);
		return;
	} else {
		st.state = ks.state;
		st.reason = ks.reason;
		ks.reason = NULL;
		st.has_exit = ks.has_exit;
		st.exit_code = ks.exit_code;
		st.started_ms = ks.started_ms;
		st.ended_ms = ks.ended_ms;
		st.ready_replicas = ks.ready_replicas;
		st.desired_replicas = ks.desired_replicas;
		if ((ks.state == JOB_RUNNING || ks.state == JOB_STARTING) &&
		    strstr(r->ref, "/job/") == NULL)
			st.port = p->conf.port; /* the container's (reached by port-forward) */
		k8s_state_clear(&ks);
	}
	r->cb(r->arg, 0, &st, NULL);
	provider_status_clear(&st);
	kube_refresh_free(r);
}

static void kube_refresh_tick(void *arg)
{
	struct kube_refresh *r = arg;

	r->timer = NULL;
	kube_refresh_answer(r);
}

static void kube_refresh_synced(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct kube_refresh *r = ctx;

	r->waiting = 0;
	if (p->closing) {
		kube_refresh_unlink(p, r);
		r->cb(r->arg, -1, NULL, "kubernetes: closed");
		kube_refresh_free(r);
		return;
	}
	r->rc = rc;
	if (cause != NULL)
		r->cause = xstrdup(cause);
	/* answer from the loop, never inside the caller */
	r->timer = loop_timer_add(p->loop, 0, 0, kube_refresh_tick, r);
}

int kube_refresh(struct provider *p, const char *job_id, const char *ref, provider_status_cb cb,
                 void *arg, char **cause)
{
	struct kube_refresh *r;

	(void)job_id;
	if (ref == NULL || *ref == '\0')
		return xcause(cause, "%s: the job has no Kubernetes object yet", p->name);
	r = xcalloc(1, sizeof *r);
	r->p = p;
	r->ref = xstrdup(ref);
	r->cb = cb;
	r->arg = arg;
	r->next = p->refreshes;
	p->refreshes = r;
	if (p->healthy == 0 && p->down_reason != NULL) {
		kube_watch_start(p);
		r->timer = loop_timer_add(p->loop, 0, 0, kube_refresh_tick, r);
		return 0;
	}
	r->waiting = 1;
	kube_sync_ready(p, kube_refresh_synced, r);
	return 0;
}

void kube_refresh_abort_all(struct provider *p)
{
	struct kube_refresh *r = p->refreshes;

	/* the ones waiting for the lists are told by sync_waiters (close fires them) */
	p->refreshes = NULL;
	while (r != NULL) {
		struct kube_refresh *next = r->next;

		if (r->waiting) {
			r->next = NULL;
			r = next;
			continue;
		}
		if (r->timer != NULL)
			loop_timer_cancel(p->loop, r->timer);
		r->cb(r->arg, -1, NULL, "kubernetes: closed");
		kube_refresh_free(r);
		r = next;
	}
}
