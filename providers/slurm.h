/* slurm.h: the `slurm` provider (providers/slurm*.c): batch jobs on a Slurm cluster through
 * slurmrestd, job directories and logs over SSH on a login node. */
#ifndef GANTRY_PROVIDER_SLURM_H
#define GANTRY_PROVIDER_SLURM_H

#include "providers/provider.h"

extern const struct provider_ops slurm_provider_ops;

#endif
