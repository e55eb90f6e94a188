/* kubernetes.h: the `kubernetes` provider (providers/kubernetes.c): notebooks (Pod +
 * Service), training (batch/v1 Job) and endpoints (Deployment + Service + HPA) on a
 * Kubernetes cluster reached through a kubeconfig, watched (list + watch) not polled. */
#ifndef GANTRY_KUBERNETES_H
#define GANTRY_KUBERNETES_H

#include "providers/provider.h"

extern const struct provider_ops kubernetes_provider_ops;

#endif
