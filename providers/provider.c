/* provider.c: helpers shared by every provider. */
#include "providers/provider.h"

#include <stdlib.h>
#include <string.h>

void provider_offer_clear(struct provider_offer *o)
{
	if (o == NULL)
		return;
	free(o->provider);
	free(o->description);
	free(o->reason);
	free(o->gpu_name);
	memset(o, 0, sizeof *o);
}

void provider_status_clear(struct provider_status *st)
{
	if (st == NULL)
		return;
	free(st->reason);
	memset(st, 0, sizeof *st);
}

void provider_launch_result_clear(struct provider_launch_result *r)
{
	if (r == NULL)
		return;
	free(r->ref);
	free(r->url);
	memset(r, 0, sizeof *r);
}
