/* peeruid.h: who is at the other end of a connection made on this host (issue 12): a forward's
 * listener on 127.0.0.1 serves its owner only, not every local user. For a TCP connection
 * the kernel's socket table is asked for the peer's socket (NETLINK_SOCK_DIAG, inet_diag:
 * the socket whose local address and port are our peer's and whose remote ones are ours) and
 * its owner's uid; /proc/net/tcp and tcp6 are read when netlink cannot answer. For a Unix
 * socket, SO_PEERCRED. Nothing the peer sends is believed. */
#ifndef GANTRY_PEERUID_H
#define GANTRY_PEERUID_H

#include <sys/types.h>

/* The uid owning the peer socket of the connected socket fd when the peer is a socket of
 * this host: 0 with *uid, or -1 with cause (not a connected socket, the peer is not on this
 * host, the kernel does not say). */
int peeruid_of(int fd, uid_t *uid, char **cause);

/* A listener's admission of the connection fd it accepted: 1 when its peer is owner's;
 * 0 otherwise, with *peer = the peer's uid, or (uid_t)-1 when it could not be found (a peer
 * on another host, or the kernel would not say): a refusal either way. */
int peeruid_allow(int fd, uid_t owner, uid_t *peer);

/* The same lookup through netlink only, and through /proc/net/tcp(6) only (the fallback);
 * for tests. */
int peeruid_of_netlink(int fd, uid_t *uid, char **cause);
int peeruid_of_proc(int fd, uid_t *uid, char **cause);

#endif
