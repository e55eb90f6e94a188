/* fuzz_k8s_api.c: libFuzzer target for the Kubernetes API parsers (providers/k8s_api*.c,
 * k8s_kubeconfig.c, k8s_prom.c), which read whatever the API server, an exec plugin, a
 * DCGM exporter or a kubeconfig file holds: lists and objects of every kind, watch event
 * lines (through the line splitter, in chunks), Status error bodies, ExecCredential
 * answers, kubeconfig text, Prometheus text, quantities. The results go through the state
 * mapping, the Cluster view and the DCGM mapping as the provider would use them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/k8s_api.h"

/* one line, no escape sequences, bounded */
static void check_line(const char *s)
{
	if (s == NULL)
		return;
	if (strchr(s, '\n') != NULL || strchr(s, '\033') != NULL || strlen(s) > 2000)
		abort();
}

struct ev_ctx {
	enum k8s_kind kind;
	size_t n;
};

static int on_line(void *arg, const char *line, size_t len)
{
	struct ev_ctx *c = arg;
	struct k8s_event ev;
	char *cause = NULL;

	if (memchr(line, '\n', len) != NULL)
		abort();
	if (k8s_api_parse_event(c->kind, line, len, &ev, &cause) == 0) {
		if (ev.type == K8S_EV_ERROR && ev.error_message == NULL)
			abort();
		check_line(ev.error_message);
		k8s_event_clear(&ev);
	}
	check_line(cause);
	free(cause);
	return ++c->n > 1000 ? -1 : 0;
}

static void fuzz_state(const struct k8s_obj *items, size_t n, enum k8s_kind k)
{
	const struct k8s_obj *pods[8];
	size_t np = 0;
	struct k8s_state st;
	struct k8s_view v;

	for (size_t i = 0; i < n && np < 8; i++)
		pods[np++] = &items[i];
	memset(&v, 0, sizeof v);
	v.kind = k == K8S_JOB ? JOB_KIND_TRAINING
	         : k == K8S_DEPLOYMENT ? JOB_KIND_ENDPOINT
	                               : JOB_KIND_NOTEBOOK;
	v.workload = n > 0 ? &items[0] : NULL;
	v.pods = pods;
	v.npods = np;
	v.hpa = n > 1 ? &items[1] : NULL;
	v.deleting = n % 2;
	k8s_api_state(&v, &st);
	if ((int)st.state < 0 || st.state >= JOB_STATE_COUNT || st.ready_replicas < 0 ||
	    st.desired_replicas < 0)
		abort();
	check_line(st.reason);
	k8s_state_clear(&st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum k8s_kind k = (enum k8s_kind)(size > 0 ? data[0] % K8S_NKINDS : 0);
	char *text = malloc(size + 1), *cause = NULL, *s;
	struct k8s_list l;
	struct k8s_obj o;
	struct k8s_exec_cred ec;
	struct k8s_access a;
	struct k8s_lines lb = {.max_line = 4096};
	struct ev_ctx ctx = {.kind = k};
	struct prom_sample *ps;
	size_t nps, skipped;
	enum k8s_err cls;
	double q;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	for (int kk = 0; kk < K8S_NKINDS; kk++) {
		if (k8s_api_parse_list((enum k8s_kind)kk, text, size, &l, &cause) == 0) {
			for (size_t i = 0; i < l.n; i++) {
				if (l.items[i].name == NULL || l.items[i].ncontainers > 64)
					abort();
				check_line(l.items[i].reason);
				check_line(l.items[i].sched_message);
				s = k8s_api_node_gpu_type(&l.items[i], NULL);
				free(s);
			}
			fuzz_state(l.items, l.n, (enum k8s_kind)kk);
			if (kk == K8S_NODE || kk == K8S_POD) {
				struct cluster_info c;

				k8s_api_cluster(l.items, l.n, l.items, l.n, &c);
				if (c.nnodes != l.n || c.jobs_running < 0 || c.jobs_pending < 0)
					abort();
				for (size_t i = 0; i < c.nnodes; i++)
					if (c.nodes[i].gpus_alloc > c.nodes[i].gpus_total ||
					    c.nodes[i].gpus_alloc < 0)
						abort();
				cluster_info_clear(&c);
			}
			k8s_list_clear(&l);
		}
		check_line(cause);
		free(cause);
		cause = NULL;
	}
	if (k8s_api_parse_obj(k, text, size, &o, &cause) == 0) {
		fuzz_state(&o, 1, k);
		k8s_obj_clear(&o);
	}
	check_line(cause);
	free(cause);
	cause = NULL;

	/* a watch stream, in chunks of the first byte's size */
	{
		size_t step = size > 1 ? (size_t)data[1] % 64 + 1 : 1;

		for (size_t off = 0; off < size; off += step)
			if (k8s_lines_feed(&lb, text + off, size - off < step ? size - off : step, on_line,
			                   &ctx) != 0)
				break;
		k8s_lines_clear(&lb);
	}

	s = k8s_api_error(size > 2 ? 200 + data[2] * 2 : 0, text, size, text, &cls);
	check_line(s);
	free(s);

	if (k8s_exec_cred_parse(text, size, size % 2 ? "client.authentication.k8s.io/v1" : NULL,
	                        &ec, &cause) == 0) {
		if (ec.token == NULL && ec.cert_pem == NULL)
			abort();
		k8s_exec_cred_clear(&ec);
	}
	check_line(cause);
	free(cause);
	cause = NULL;

	if (k8s_kubeconfig_parse("fuzz", "/nonexistent", text, size, size % 3 ? NULL : "x", &a,
	                         &cause) == 0) {
		if (a.server == NULL || a.context == NULL)
			abort();
		k8s_access_clear(&a);
	}
	check_line(cause);
	free(cause);
	cause = NULL;

	if (prom_parse(text, size, &ps, &nps, &skipped, &cause) == 0) {
		struct tele_gpu *g;
		size_t ng;
		const char *pod = nps > 0 ? kvlist_get(&ps[0].labels, "pod") : NULL;

		ng = k8s_api_dcgm_gpus(ps, nps, NULL, pod != NULL ? pod : "p", &g);
		for (size_t i = 0; i < ng; i++)
			if (g[i].index < 0 || (g[i].util_pct.ok && g[i].util_pct.v > 100))
				abort();
		free(g);
		prom_samples_free(ps, nps);
	}
	check_line(cause);
	free(cause);

	if (size < 100 && k8s_quantity_parse(text, &q) == 0) {
		s = k8s_quantity_format(q);
		free(s);
	}
	s = k8s_api_label_value(text);
	if (strlen(s) > 63)
		abort();
	free(s);
	if (size < 300) {
		s = k8s_api_object_name(text, size);
		if (strlen(s) > 63)
			abort();
		free(s);
		s = k8s_api_path(k, text, text, NULL);
		free(s);
	}
	free(text);
	return 0;
}
