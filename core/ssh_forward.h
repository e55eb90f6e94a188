/* ssh_forward.h: local port forwarding (OpenSSH's -L) through direct-tcpip channels.
 * A forward owns a listener on bind_addr (127.0.0.1 unless asked) and its own SSH session,
 * and relays every accepted connection through its own channel, many at once, on one
 * thread of its own (libssh2 non-blocking, poll over the listener, the clients and the
 * session socket). The caller's thread never touches the session. Stopping closes every
 * client, channel, the listener and the session, and joins the thread. */
#ifndef GANTRY_SSH_FORWARD_H
#define GANTRY_SSH_FORWARD_H

#include <stdint.h>
#include <sys/types.h>

#include "core/ssh.h"

struct ssh_forward;

struct ssh_forward_opts {
	const struct ssh_target *target; /* copied: the forward keeps its own strings */
	const char *remote_host;         /* as seen from the target; NULL = "127.0.0.1" */
	int remote_port;
	const char *bind_addr; /* NULL = "127.0.0.1" */
	int local_port;        /* 0 = pick a free one */
	/* issue 12: 1 = serve only connections whose peer socket belongs to owner_uid on this
	 * host (core/peeruid.h); any other is closed at once and counted in info.refused */
	int owner_only;
	uid_t owner_uid;
};

struct ssh_forward_info {
	int local_port;
	int up;               /* session connected and relaying */
	int dead;             /* the forward ended (err says why) */
	uint64_t connections; /* accepted so far */
	int active;           /* open now */
	uint64_t bytes_up, bytes_down;
	int failed;           /* connections whose channel could not be opened */
	struct ssh_error err; /* why it died, or the last per-connection failure */
	uint64_t refused;     /* connections closed because their peer was not the owner */
	uid_t refused_uid;    /* the last one's uid; (uid_t)-1 when it could not be found */
};

/* Binds the listener now (a port in use fails here, SSH_ERR_LOCAL, with the reason), then
 * connects on the forward's thread. Connection failures (host key, auth, ...) end the
 * forward: info.dead with err. notify_fd (may be NULL) receives a descriptor that becomes
 * readable whenever info changes state (up, dead); read it empty on each wake. The descriptor
 * stays the forward's: ssh_forward_stop closes it. */
int ssh_forward_start(const struct ssh_forward_opts *o, struct ssh_forward **out,
                      int *notify_fd, struct ssh_error *err);
void ssh_forward_info(struct ssh_forward *f, struct ssh_forward_info *out);
/* Closes everything and joins the thread; f is freed. Called while the forward is still
 * connecting, it waits for the connect to end (at most the target's connect timeout). */
void ssh_forward_stop(struct ssh_forward *f);

#endif
