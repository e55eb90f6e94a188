/* ssh.h (provider): the `ssh` provider runs jobs on a fleet of on-prem hosts reached over
 * SSH. See providers/ssh.c for the remote layout and config keys. */
#ifndef GANTRY_PROVIDER_SSH_H
#define GANTRY_PROVIDER_SSH_H

#include "providers/provider.h"

extern const struct provider_ops ssh_provider_ops;

#endif
