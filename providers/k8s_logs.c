/* k8s_logs.c: a job's log is its pod's (worker 0: a notebook's Pod, rank 0 of a Job, the
 * first replica of a Deployment), read through GET pods/NAME/log streamed by the http
 * client (on_chunk): each container in turn, and for a container that restarted its
 * previous instance's log first (previous=true), then the current one (follow=true when
 * following: the stream ends when the container does). A pod not started yet is waited for
 * (asked again every second) while following. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/k8s_internal.h"

#define KUBE_LOG_RETRY_MS   1000
#define KUBE_LOG_WAIT_TRIES 600

struct kube_seg {
	char *container;
	int previous;
};

struct kube_logs {
	struct provider *p;
	char *ref;
	int follow;
	int64_t tail_bytes;
	provider_log_cb cb;
	void *arg;
	char *ns, *pod;
	struct kube_seg *segs;
	size_t nsegs, seg;
	struct kube_req *req;
	struct loop_timer *timer;
	int tries;
	int got; /* bytes came from the current segment */
	struct kube_logs *next;
};

static void kube_logs_unlink(struct provider *p, struct kube_logs *g)
{
	for (struct kube_logs **pp = &p->logs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			return;
		}
}

static void kube_logs_free(struct kube_logs *g)
{
	struct provider *p = g->p;

	if (g->req != NULL)
		kube_req_cancel(p, g->req);
	if (g->timer != NULL)
		loop_timer_cancel(p->loop, g->timer);
	for (size_t i = 0; i < g->nsegs; i++)
		free(g->segs[i].container);
	free(g->segs);
	free(g->ref);
	free(g->ns);
	free(g->pod);
	free(g);
}

static void kube_logs_eof(struct kube_logs *g)
{
	g->cb(g->arg, NULL, 0, 1);
}

static void kube_logs_next(struct kube_logs *g);
static void kube_logs_plan(struct kube_logs *g);

/* A waiter whose log stream was closed before it fired. */
static void kube_logs_gone(struct provider *p, void *ctx, int rc, const char *cause)
{
	(void)p;
	(void)ctx;
	(void)rc;
	(void)cause;
}

static void kube_logs_tick(void *arg)
{
	struct kube_logs *g = arg;

	g->timer = NULL;
	kube_logs_plan(g);
}

static void kube_logs_retry(struct kube_logs *g)
{
	if (!g->follow || ++g->tries > KUBE_LOG_WAIT_TRIES) {
		kube_logs_eof(g);
		return;
	}
	g->timer = loop_timer_add(g->p->loop, KUBE_LOG_RETRY_MS, 0, kube_logs_tick, g);
}

static int kube_logs_chunk(void *ctx, long status, const char *d, size_t n)
{
	struct kube_logs *g = ctx;

	(void)status;
	if (n > 0) {
		g->got = 1;
		g->cb(g->arg, d, n, 0);
	}
	return 0;
}

static void kube_logs_abort(void *ctx)
{
	struct kube_logs *g = ctx;

	g->req = NULL;
}

static void kube_logs_end(struct provider *p, void *ctx, int ok, long status, const char *body,
                          size_t len, const char *err, enum k8s_err cls)
{
	struct kube_logs *g = ctx;
	char *line;

	(void)body;
	(void)len;
	(void)cls;
	g->req = NULL;
	if (!ok && status == 400 && g->follow && !g->got && !g->segs[g->seg].previous) {
		/* "container ... is waiting to start": once more in a second */
		for (size_t i = 0; i < g->nsegs; i++)
			free(g->segs[i].container);
		free(g->segs);
		g->segs = NULL;
		g->nsegs = 0;
		kube_logs_retry(g);
		return;
	}
	if (!ok && !g->segs[g->seg].previous) {
		line = xprintf("gantry: %s: log of pod %s: %s\n", p->name, g->pod, err);
		g->cb(g->arg, line, strlen(line), 0);
		free(line);
	}
	g->seg++;
	kube_logs_next(g);
}

static void kube_logs_next(struct kube_logs *g)
{
	struct provider *p = g->p;
	const struct kube_seg *s;
	char *base, *path, *why = NULL, tail[48] = "";

	if (g->seg >= g->nsegs) {
		kube_logs_eof(g);
		return;
	}
	s = &g->segs[g->seg];
	g->got = 0;
	base = k8s_api_path(K8S_POD, g->ns, g->pod, "log");
	if (g->tail_bytes > 0 && !s->previous)
		snprintf(tail, sizeof tail, "&tailLines=%lld", (long long)(g->tail_bytes / 64 + 1));
	path = xprintf("%s?container=%s%s%s%s", base, s->container,
	               s->previous ? "&previous=true" : "",
	               g->follow && !s->previous ? "&follow=true" : "", tail);
	free(base);
	g->req = kube_req(p, "GET", path, NULL, kube_logs_end, kube_logs_abort, g, kube_logs_chunk,
	                  &why);
	free(path);
	if (g->req == NULL) {
		free(why);
		kube_logs_eof(g);
	}
}

/* Which pod and containers, from the cache. */
static void kube_logs_plan(struct kube_logs *g)
{
	struct provider *p = g->p;
	char *ns = NULL, *pod = NULL, *container = NULL;
	struct kube_watch *w;
	const struct k8s_obj *o;

	if (kube_worker_pod(p, g->ref, 0, &ns, &pod, &container, NULL) != 0) {
		char *wns = NULL, *wname = NULL;
		enum k8s_kind k;
		struct kube_watch *ww = NULL;

		if (kube_ref_parse(g->ref, &wns, &k, &wname, NULL) == 0)
			ww = kube_watch_of(p, wns, k);
		if (ww == NULL || kube_cache_get(ww, wname) == NULL)
			kube_logs_eof(g); /* the job's objects are gone */
		else
			kube_logs_retry(g);
		free(wns);
		free(wname);
		return;
	}
	free(container);
	w = kube_watch_of(p, ns, K8S_POD);
	o = w != NULL ? kube_cache_get(w, pod) : NULL;
	if (o == NULL || o->ncontainers == 0 ||
	    (o->phase != NULL && strcmp(o->phase, "Pending") == 0 && g->follow &&
	     o->containers[0].waiting_reason != NULL)) {
		free(ns);
		free(pod);
		kube_logs_retry(g);
		return;
	}
	free(g->ns);
	free(g->pod);
	g->ns = ns;
	g->pod = pod;
	g->segs = xcalloc(2 * o->ncontainers, sizeof *g->segs);
	g->nsegs = 0;
	for (size_t i = 0; i < o->ncontainers; i++) {
		if (o->containers[i].restarts > 0 || o->containers[i].last_terminated) {
			g->segs[g->nsegs].container = xstrdup(o->containers[i].name);
			g->segs[g->nsegs].previous = 1;
			g->nsegs++;
		}
		g->segs[g->nsegs].container = xstrdup(o->containers[i].name);
		g->nsegs++;
	}
	g->seg = 0;
	kube_logs_next(g);
}

static void kube_logs_synced(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct kube_logs *g = ctx;
	char *line;

	if (p->closing)
		return; /* kube_logs_abort_all frees it */
	if (rc != 0) {
		line = xprintf("gantry: %s\n", cause != NULL ? cause : "no answer from the API");
		g->cb(g->arg, line, strlen(line), 0);
		free(line);
		kube_logs_eof(g);
		return;
	}
	kube_logs_plan(g);
}

int kube_logs_open(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
                   provider_log_cb cb, void *arg, struct provider_logs **out, char **cause)
{
	struct kube_logs *g;
	char *ns, *name;
	enum k8s_kind k;

	if (kube_ref_parse(ref, &ns, &k, &name, cause) != 0)
		return -1;
	free(ns);
	free(name);
	g = xcalloc(1, sizeof *g);
	g->p = p;
	g->ref = xstrdup(ref);
	g->follow = follow;
	g->tail_bytes = tail_bytes;
	g->cb = cb;
	g->arg = arg;
	g->next = p->logs;
	p->logs = g;
	*out = (struct provider_logs *)g;
	kube_sync_ready(p, kube_logs_synced, g);
	return 0;
}

void kube_logs_close(struct provider *p, struct provider_logs *lg)
{
	struct kube_logs *g = (struct kube_logs *)lg;

	if (g == NULL)
		return;
	kube_logs_unlink(p, g);
	/* still waiting for the first lists: the waiter must not find it */
	for (struct waiter *w = p->sync_waiters; w != NULL; w = w->next)
		if (w->ctx == g)
			w->fn = kube_logs_gone;
	kube_logs_free(g);
}

void kube_logs_abort_all(struct provider *p)
{
	while (p->logs != NULL) {
		struct kube_logs *g = p->logs;

		p->logs = g->next;
		for (struct waiter *w = p->sync_waiters; w != NULL; w = w->next)
			if (w->ctx == g)
				w->fn = kube_logs_gone;
		kube_logs_free(g);
	}
}
