/* ssh_offers.c: the ssh provider's `offers` op (interface v2): one offer per configured host,
 * from a fresh status sweep (the op waits for one when the cache is stale, without blocking
 * the loop): the host's GPU type and count, CPUs and memory, availability (enough free GPUs
 * now), priced at the site rates (host or provider `rate_gpu_hour`, provider
 * `rate_cpu_hour`) exactly as the `offer` op prices a launch. An unreachable host is dropped with
 * its reason. */
#include <stdlib.h>
#include <string.h>

#include "core/offers.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "providers/ssh.h"
#include "providers/ssh_internal.h"

int ssh_offers(struct provider *p, const struct template *t, provider_offers_cb cb, void *arg,
               char **cause);

/* What the answer needs of the template (copied: the template may go before the sweep
 * ends). */
struct sshp_offers_ctx {
	char **names; /* the accelerator alternatives */
	int *counts;
	size_t n;
	int cpus;
	int nodes;
	int naccel_wanted; /* the template wants GPUs */
	provider_offers_cb cb;
	void *arg;
};

static void sshp_offers_ctx_free(struct sshp_offers_ctx *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->names[i]);
	free(x->names);
	free(x->counts);
	free(x);
}

/* GPUs a job of the template takes on a host with this GPU type (the first alternative that
 * names it), 0 when none does. */
static int sshp_offers_want(const struct sshp_offers_ctx *x, const char *type)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->counts[i] > 0 && type != NULL && sshp_type_matches(x->names[i], type))
			return x->counts[i];
	return 0;
}

static void sshp_offers_host(struct provider *p, struct sshp_host *h,
                             const struct sshp_offers_ctx *x, struct offer_list *l)
{
	const struct ssh_conf_host *c = h->conf;
	const char *type = c->gpus > 0 && c->gpu_type != NULL ? c->gpu_type : "";
	int want = sshp_offers_want(x, type), nfree = sshp_free_gpus(h);
	double rate = c->has_rate            ? c->rate_gpu_hour
	              : p->conf.has_rate_gpu ? p->conf.rate_gpu_hour
	                                     : -1;
	struct offer o;
	char *desc;

	memset(&o, 0, sizeof o);
	o.provider = p->name;
	o.region = "";
	o.instance_type = c->name;
	o.gpu_type = (char *)type;
	o.gpus = c->gpus;
	if (h->ever_ok) {
		o.cpus = h->res.tele.cpus;
		o.memory_mib =
		    h->res.tele.mem_total_mib.ok ? (int64_t)h->res.tele.mem_total_mib.v : 0;
	}
	o.market = OFFER_ONDEMAND;
	o.billing = OFFER_BILL_SECOND;
	/* site rates, exactly as the `offer` op prices a launch (engine_admit): want GPUs at the
	 * host's (or the provider's) rate_gpu_hour, or a CPU job's CPUs at rate_cpu_hour */
	if (want > 0 && rate >= 0) {
		o.priced = 1;
		o.usd_per_hour = (double)want * rate * x->nodes;
	} else if (want == 0 && x->naccel_wanted == 0 && p->conf.has_rate_cpu && x->cpus > 0) {
		o.priced = 1;
		o.usd_per_hour = (double)x->cpus * p->conf.rate_cpu_hour * x->nodes;
	}
	o.source = o.priced ? CATALOG_SRC_SITE : CATALOG_SRC_NONE;
	if (!h->swept) {
		o.avail = OFFER_AVAIL_UNKNOWN;
	} else if (!h->ok) {
		o.avail = OFFER_AVAIL_NO;
		o.dropped = h->reason != NULL ? h->reason : (char *)"unreachable";
	} else {
		o.avail = want > 0 && nfree < want ? OFFER_AVAIL_NO : OFFER_AVAIL_YES;
	}
	desc = xprintf("%s:%d, %d of %d GPUs free", c->address, c->port, nfree, c->gpus);
	o.description = desc;
	offer_list_add(l, &o);
	free(desc);
}

static void sshp_offers_ready(struct provider *p, void *ctx)
{
	struct sshp_offers_ctx *x = ctx;
	struct offer_list l = {0};

	if (p->closing) {
		x->cb(x->arg, -1, NULL, "provider closed");
		sshp_offers_ctx_free(x);
		return;
	}
	for (size_t i = 0; i < p->nhosts; i++)
		if (!p->hosts[i]->removed)
			sshp_offers_host(p, p->hosts[i], x, &l);
	x->cb(x->arg, 0, &l, NULL);
	offer_list_free(&l);
	sshp_offers_ctx_free(x);
}

int ssh_offers(struct provider *p, const struct template *t, provider_offers_cb cb, void *arg,
               char **cause)
{
	struct sshp_offers_ctx *x = xcalloc(1, sizeof *x);
	unsigned char *mask;

	(void)cause;
	x->cb = cb;
	x->arg = arg;
	x->nodes = 1;
	if (t != NULL) {
		x->n = t->resources.naccels;
		x->names = xcalloc(x->n + 1, sizeof *x->names);
		x->counts = xcalloc(x->n + 1, sizeof *x->counts);
		for (size_t i = 0; i < x->n; i++) {
			x->names[i] = xstrdup(t->resources.accels[i].name);
			x->counts[i] = t->resources.accels[i].count;
			x->naccel_wanted |= x->counts[i] > 0;
		}
		x->cpus = t->resources.cpus;
		x->nodes = t->resources.nodes > 1 ? t->resources.nodes : 1;
	}
	mask = sshp_mask(p, NULL, 0);
	sshp_wait(p, mask, sshp_offers_ready, x);
	free(mask);
	return 0;
}
