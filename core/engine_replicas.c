/* engine_replicas.c: what a provider does with an endpoint's service.replicas. Only the
 * kubernetes provider scales (a Deployment and its HorizontalPodAutoscaler); every other
 * one runs the endpoint as one process and reports it as 1 replica (0/1 until it is
 * ready). The plan says so when the template asks for more, instead of ignoring it; and on
 * kubernetes when it asks for 0 (a plain HPA's minReplicas is at least 1). */
#include <string.h>

#include "core/engine_internal.h"
#include "core/template.h"
#include "core/xmalloc.h"

char *engine_replicas_note(const struct template *t, const char *provider_type)
{
	if (t->kind != JOB_KIND_ENDPOINT || !t->service.set || provider_type == NULL)
		return NULL;
	if (strcmp(provider_type, "kubernetes") == 0)
		return t->service.replicas_min == 0
		           ? xstrdup(
		                 "kubernetes keeps at least 1 replica: a HorizontalPodAutoscaler "
		                 "cannot scale to zero (replicas.min 0)")
		           : NULL;
	if (t->service.replicas_min > 1)
		return xprintf("%s runs 1 replica; replicas.min %d applies on kubernetes",
		               provider_type, t->service.replicas_min);
	if (t->service.replicas_max > 1)
		return xprintf("%s runs 1 replica; replicas.max %d applies on kubernetes",
		               provider_type, t->service.replicas_max);
	return NULL;
}
