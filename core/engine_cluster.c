/* engine_cluster.c: the Cluster view's data (issue 10): which providers have a cluster behind
 * them (the optional provider op `cluster`), and a snapshot of one from its cache. Nothing
 * here waits on the network: a stale cache asks the provider for a fresh one, which it
 * reports later through its notify (ENGINE_EV_TELEMETRY, or ENGINE_EV_PROVIDER on a health
 * change). Remote text in the snapshot is raw: the faces sanitise it. */
#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/xmalloc.h"

size_t engine_cluster_providers(struct engine *e, const char **names, size_t max)
{
	if (engine_is_remote(e))
		return 0;
	size_t n = 0;

	for (size_t i = 0; i < e->nprovs; i++) {
		if (e->provs[i].ops->cluster == NULL)
			continue;
		if (names != NULL && n < max)
			names[n] = e->provs[i].name;
		n++;
	}
	return n;
}

/* "fleet, hpc": the providers with a cluster view (heap), or NULL when there is none. */
static char *engine_cluster_names(struct engine *e)
{
	char *s = NULL;

	for (size_t i = 0; i < e->nprovs; i++) {
		char *t;

		if (e->provs[i].ops->cluster == NULL)
			continue;
		t = s == NULL ? xstrdup(e->provs[i].name) : xprintf("%s, %s", s, e->provs[i].name);
		free(s);
		s = t;
	}
	return s;
}

int engine_cluster(struct engine *e, const char *provider, struct cluster_info *out, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_unavailable_op(e, "cluster", cause);
	struct engine_provider *ep = NULL;
	char *why = NULL;

	memset(out, 0, sizeof *out);
	if (provider != NULL) {
		ep = engine_find_provider(e, provider);
		if (ep == NULL) {
			char *all = engine_provider_names(e);

			xcause(cause, "no provider named '%s' (configured: %s)", provider, all);
			free(all);
			return -1;
		}
		if (ep->ops->cluster == NULL) {
			char *with = engine_cluster_names(e);

			if (with != NULL)
				xcause(cause,
				       "provider '%s' (type %s) has no cluster view; providers "
				       "with one: %s",
				       provider, ep->ops->name, with);
			else
				xcause(cause,
				       "provider '%s' (type %s) has no cluster view; no provider "
				       "with a cluster view is configured (ssh, slurm)",
				       provider, ep->ops->name);
			free(with);
			return -1;
		}
	} else {
		/* the first that opened, else the first at all (its error says why) */
		for (size_t i = 0; i < e->nprovs; i++) {
			if (e->provs[i].ops->cluster == NULL)
				continue;
			if (ep == NULL || (ep->p == NULL && e->provs[i].p != NULL))
				ep = &e->provs[i];
		}
		if (ep == NULL)
			return xcause(cause,
			              "no provider with a cluster view (configure an ssh or slurm "
			              "provider in config.yaml; see gantry(1), PROVIDERS)");
	}
	if (ep->p == NULL)
		return xcause(cause, "provider '%s' did not open: %s", ep->name,
		              ep->message != NULL ? ep->message : "unavailable");
	if (ep->ops->cluster(ep->p, out, &why) != 0) {
		cluster_info_clear(out);
		xcause(cause, "%s: %s", ep->name, why != NULL ? why : "no cluster snapshot");
		free(why);
		return -1;
	}
	if (out->provider == NULL)
		out->provider = xstrdup(ep->name);
	return 0;
}
