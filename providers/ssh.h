/* ssh.h (provider): the `ssh` provider runs jobs on a fleet of on-prem hosts reached over
 * SSH. See providers/ssh.c for the remote layout and config keys.
 *
 * Its host set is dynamic: a provider built on it (a cloud whose instances run jobs over SSH)
 * opens an instance with settings {dynamic_hosts: "true"} and no hosts (a kvlist made in
 * memory), then adds a host per machine it created and removes it when the machine is gone. */
#ifndef GANTRY_PROVIDER_SSH_H
#define GANTRY_PROVIDER_SSH_H

#include "providers/provider.h"

extern const struct provider_ops ssh_provider_ops;

/* A host added at run time. Strings are copied. */
struct ssh_dyn_host {
	const char *name;        /* unique among the instance's hosts; [A-Za-z0-9._-] */
	const char *address;     /* name or IP */
	int port;                /* 0 = 22 */
	const char *user;        /* NULL: the instance's user */
	const char *key_file;    /* NULL: the instance's key */
	const char *known_hosts; /* its own known_hosts file (cloud addresses are reused);
	                          * NULL: the instance's */
	/* Gantry created this machine: record its host key on the first connect (into
	 * known_hosts), strict afterwards (a changed key is always refused). */
	int tofu_first;
	int gpus;             /* GPUs Gantry may hand out there */
	const char *gpu_type; /* "H100", or NULL */
	const char *dir;      /* remote base directory; NULL: the instance's (".gantry") */
};

/* Adds a host (it is swept on first use, like a configured one). On the loop thread.
 * -1 with *cause: a bad or duplicate name, no address. */
int ssh_provider_host_add(struct provider *p, const struct ssh_dyn_host *h, char **cause);
/* Removes the host called name: its connections close, operations waiting on it answer
 * (failed), jobs on it are no longer listed or refreshed. -1 when there is no such host. */
int ssh_provider_host_remove(struct provider *p, const char *name, char **cause);

#endif
