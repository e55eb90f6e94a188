/* k8s_channel.c: the kubernetes provider's channel_open/channel_close (provider.h): shells
 * and forwards into the pod behind a job's worker, through the API server's exec and
 * portforward subresources (providers/k8s_ws.h). The pod, its namespace and container come
 * from the provider's watch cache (kube_worker_pod), the server, TLS and bearer token from
 * its access (kube_ws_conn): the prov engineer's hooks in k8s_internal.h. */
#include <stdlib.h>

#include "core/xmalloc.h"
#include "providers/k8s_internal.h"
#include "providers/k8s_ws.h"

/* The engine's handle: the k8s_ws channel behind it. */
struct provider_channel {
	struct k8s_channel *kc;
};

int kube_channel_open(struct provider *p, const char *ref, int worker,
                      enum provider_channel_kind kind, int remote_port,
                      const struct provider_channel_io *io, provider_channel_cb cb, void *arg,
                      struct provider_channel **out, char **cause)
{
	struct k8s_ws_conn conn;
	char *ns = NULL, *pod = NULL, *container = NULL;
	struct provider_channel *ch;
	int rc;

	*out = NULL;
	if (kube_worker_pod(p, ref, worker, &ns, &pod, &container, cause) != 0)
		return -1;
	kube_ws_conn(p, &conn);
	ch = xcalloc(1, sizeof *ch);
	rc = k8s_ws_channel_open(kube_loop(p), &conn, ns, pod, container, kind, remote_port, io, cb,
	                         arg, &ch->kc, cause);
	free(ns);
	free(pod);
	free(container);
	if (rc != 0) {
		free(ch);
		return -1;
	}
	*out = ch;
	return 0;
}

void kube_channel_close(struct provider *p, struct provider_channel *ch)
{
	(void)p;
	if (ch == NULL)
		return;
	k8s_ws_channel_close(ch->kc);
	free(ch);
}
