/* provider.c: helpers shared by every provider. */
#include "providers/provider.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "providers/kubernetes.h"
#include "providers/lambda.h"
#include "providers/slurm.h"
#include "providers/ssh.h"

void provider_status_clear(struct provider_status *st)
{
	if (st == NULL)
		return;
	free(st->reason);
	free(st->url);
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

void provider_owned_clear(struct provider_owned *o)
{
	if (o == NULL)
		return;
	free(o->ref);
	free(o->job_id);
	free(o->owner);
	memset(o, 0, sizeof *o);
}

/* ---- the table of provider types ----
 * Adding a provider: its file (providers/NAME.c defining NAME_provider_ops), one row here, one
 * line in Makefile.am's PROVIDER_SRC. Types planned next: lambda, slurm, kubernetes. */
const struct provider_ops *const provider_types[] = {
    &local_provider_ops,
    &ssh_provider_ops,
    &lambda_provider_ops,
    &slurm_provider_ops,
    &kubernetes_provider_ops,
};
const size_t provider_ntypes = sizeof provider_types / sizeof provider_types[0];

const struct provider_ops *provider_type(const char *name)
{
	for (size_t i = 0; name != NULL && i < provider_ntypes; i++)
		if (strcmp(provider_types[i]->name, name) == 0)
			return provider_types[i];
	return NULL;
}

char *provider_type_names(int without_local)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < provider_ntypes; i++)
		len += strlen(provider_types[i]->name) + 2;
	s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; i < provider_ntypes; i++) {
		if (without_local && provider_types[i]->local_workers)
			continue;
		if (s[0] != '\0')
			strcat(s, ", ");
		strcat(s, provider_types[i]->name);
	}
	return s;
}

/* ---- offers of providers that describe one way to run (local, ssh) ---- */

void provider_offers_answer_one(const struct offer_verdict *po, const char *instance_type,
                                provider_offers_cb cb, void *arg)
{
	struct offer_list l = {0};
	struct offer o = {0};

	o.provider = po->provider;
	o.region = (char *)"";
	o.instance_type = (char *)(instance_type != NULL ? instance_type : "");
	o.gpu_type = po->gpu_name != NULL ? po->gpu_name : (char *)"";
	o.gpus = po->gpus;
	o.cpus = po->cpus;
	o.memory_mib = po->memory_mib;
	o.market = OFFER_ONDEMAND;
	o.priced = po->priced;
	o.usd_per_hour = po->priced ? po->price_per_hour : 0;
	o.source = po->priced ? CATALOG_SRC_SITE : CATALOG_SRC_NONE;
	o.billing = OFFER_BILL_SECOND;
	o.avail = po->fits ? OFFER_AVAIL_YES : OFFER_AVAIL_NO;
	o.description = po->description;
	o.dropped = po->fits
	                ? NULL
	                : (char *)(po->reason != NULL ? po->reason : "the template does not fit");
	offer_list_add(&l, &o);
	cb(arg, 0, &l, NULL);
	offer_list_free(&l);
}

const char *provider_error_class_name(enum provider_error_class c)
{
	switch (c) {
	case PROVIDER_ERR_CAPACITY:
		return "capacity";
	case PROVIDER_ERR_QUOTA:
		return "quota";
	case PROVIDER_ERR_AUTH:
		return "auth";
	case PROVIDER_ERR_INVALID:
		return "invalid";
	case PROVIDER_ERR_TRANSIENT:
		return "transient";
	case PROVIDER_ERR_OTHER:
		break;
	}
	return "other";
}
