/* local_offers.c: the local provider's `offers` op (interface v2): one offer, this host with
 * its CPUs, memory and GPUs, priced from the site rates of config.yaml (`providers: local:
 * rate_cpu_hour, rate_gpu_hour`) as the synchronous `offer` op prices it today. The host is
 * probed once (no blocking I/O but /proc and NVML), so the answer comes before the call
 * returns, as provider.h allows. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/offers.h"
#include "core/xmalloc.h"
#include "providers/provider.h"

int local_offers(struct provider *p, const struct template *t, provider_offers_cb cb, void *arg,
                 char **cause);
int local_offer(struct provider *p, const struct template *t, struct offer_verdict *out,
                char **cause); /* providers/local.c */

int local_offers(struct provider *p, const struct template *t, provider_offers_cb cb, void *arg,
                 char **cause)
{
	struct offer_verdict po;
	struct offer_list l = {0};
	struct offer o;
	char host[256];

	if (local_offer(p, t, &po, cause) != 0)
		return -1;
	if (gethostname(host, sizeof host) != 0)
		strcpy(host, "localhost");
	host[sizeof host - 1] = '\0';
	memset(&o, 0, sizeof o);
	o.provider = po.provider;
	o.region = "";
	o.instance_type = host;
	o.gpu_type = po.gpu_name != NULL ? po.gpu_name : "";
	o.gpus = po.gpus;
	o.cpus = po.cpus;
	o.memory_mib = po.memory_mib;
	o.market = OFFER_ONDEMAND;
	o.priced = po.priced;
	o.usd_per_hour = po.priced ? po.price_per_hour : 0;
	o.source = po.priced ? CATALOG_SRC_SITE : CATALOG_SRC_NONE;
	o.billing = OFFER_BILL_SECOND;
	o.avail = po.fits ? OFFER_AVAIL_YES : OFFER_AVAIL_NO;
	o.description = po.description;
	o.dropped = po.fits ? NULL : (po.reason != NULL ? po.reason : (char *)"does not fit");
	offer_list_add(&l, &o);
	offer_verdict_clear(&po);
	cb(arg, 0, &l, NULL);
	offer_list_free(&l);
	return 0;
}
