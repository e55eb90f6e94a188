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

static void provider_target_clear(struct ssh_target *t)
{
	free((char *)t->host);
	free((char *)t->user);
	free((char *)t->key_file);
	free((char *)t->known_hosts);
}

void provider_shell_clear(struct provider_shell *s)
{
	if (s == NULL)
		return;
	free(s->dir);
	free(s->host_name);
	provider_target_clear(&s->target);
	provider_target_clear(&s->jump_target);
	kvlist_free(&s->env);
	memset(s, 0, sizeof *s);
}
