/* lambda.h (provider): the `lambda` provider runs each job on a Lambda Cloud GPU instance of
 * its own. See providers/lambda.c for the settings, naming and what is terminated when. */
#ifndef GANTRY_PROVIDER_LAMBDA_H
#define GANTRY_PROVIDER_LAMBDA_H

#include "providers/provider.h"

extern const struct provider_ops lambda_provider_ops;

#endif
