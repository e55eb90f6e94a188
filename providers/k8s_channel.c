/* k8s_channel.c: the kubernetes provider's channel_open/channel_close (provider.h): shells
 * and forwards into the pod behind a job's worker, through the API server's exec and
 * portforward subresources (providers/k8s_ws.h). The pod, its namespace and container come
 * from the provider's watch cache (kube_worker_pod), the server, TLS and bearer token from
 * its access (kube_ws_conn): the prov engineer's hooks in k8s_internal.h.
 *
 * A process that has just started (`gantry ssh`, `gantry forward`) has an empty watch
 * cache: when the pod is not known yet, the open waits for it on the loop (every 200 ms, at
 * most 15 s) and then opens, or ends with the last reason. */
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/k8s_internal.h"
#include "providers/k8s_ws.h"

#define KUBE_CHAN_RETRY_MS 200
#define KUBE_CHAN_WAIT_MS  15000

/* The engine's handle: the k8s_ws channel behind it, or what is needed to open it once the
 * pod is known. */
struct provider_channel {
	struct provider *p;
	struct k8s_channel *kc;
	struct loop_timer *t; /* waiting for the pod */
	uint64_t deadline;
	char *ref;
	int worker;
	enum provider_channel_kind kind;
	int remote_port;
	struct provider_channel_io io; /* command and bind_addr are heap copies */
	provider_channel_cb cb;
	void *arg;
};

/* Looks the pod up and opens the channel: 0, 1 when the pod is not known (yet), -1 when the
 * open itself failed (cause). */
static int kube_chan_try(struct provider_channel *ch, char **lookup_cause, char **cause)
{
	struct k8s_ws_conn conn;
	char *ns = NULL, *pod = NULL, *container = NULL;
	int rc;

	if (kube_worker_pod(ch->p, ch->ref, ch->worker, &ns, &pod, &container, lookup_cause) != 0)
		return 1;
	kube_ws_conn(ch->p, &conn);
	rc = k8s_ws_channel_open(kube_loop(ch->p), &conn, ns, pod, container, ch->kind,
	                         ch->remote_port, &ch->io, ch->cb, ch->arg, &ch->kc, cause);
	free(ns);
	free(pod);
	free(container);
	return rc;
}

static void kube_chan_retry(void *arg)
{
	struct provider_channel *ch = arg;
	char *lookup = NULL, *cause = NULL;
	struct provider_channel_event ev = {.state = PROVIDER_CHANNEL_ENDED, .exit_status = -1};
	int rc;

	rc = kube_chan_try(ch, &lookup, &cause);
	if (rc == 0 || (rc == 1 && loop_now_ms() < ch->deadline)) {
		if (rc == 0) {
			loop_timer_cancel(kube_loop(ch->p), ch->t);
			ch->t = NULL;
		}
		free(lookup);
		return;
	}
	loop_timer_cancel(kube_loop(ch->p), ch->t);
	ch->t = NULL;
	ev.cause = rc < 0 ? cause : lookup;
	ch->cb(ch->arg, &ev); /* may close ch */
	free(lookup);
	free(cause);
}

static void kube_chan_free(struct provider_channel *ch)
{
	free(ch->ref);
	free((char *)ch->io.command);
	free((char *)ch->io.bind_addr);
	free(ch);
}

int kube_channel_open(struct provider *p, const char *ref, int worker,
                      enum provider_channel_kind kind, int remote_port,
                      const struct provider_channel_io *io, provider_channel_cb cb, void *arg,
                      struct provider_channel **out, char **cause)
{
	struct provider_channel *ch;
	char *lookup = NULL;
	int rc;

	*out = NULL;
	ch = xcalloc(1, sizeof *ch);
	ch->p = p;
	ch->ref = xstrdup(ref);
	ch->worker = worker;
	ch->kind = kind;
	ch->remote_port = remote_port;
	ch->io = *io;
	ch->io.command = io->command != NULL ? xstrdup(io->command) : NULL;
	ch->io.bind_addr = io->bind_addr != NULL ? xstrdup(io->bind_addr) : NULL;
	ch->cb = cb;
	ch->arg = arg;
	rc = kube_chan_try(ch, &lookup, cause);
	if (rc < 0) {
		free(lookup);
		kube_chan_free(ch);
		return -1;
	}
	free(lookup);
	if (rc == 1) { /* the watch cache is filling: wait for the pod on the loop */
		ch->deadline = loop_now_ms() + KUBE_CHAN_WAIT_MS;
		ch->t = loop_timer_add(kube_loop(p), KUBE_CHAN_RETRY_MS, KUBE_CHAN_RETRY_MS,
		                       kube_chan_retry, ch);
	}
	*out = ch;
	return 0;
}

void kube_channel_close(struct provider *p, struct provider_channel *ch)
{
	(void)p;
	if (ch == NULL)
		return;
	if (ch->t != NULL)
		loop_timer_cancel(kube_loop(ch->p), ch->t);
	k8s_ws_channel_close(ch->kc);
	kube_chan_free(ch);
}
