/* peeruid.c: the uid at the other end of a connection on this host (core/peeruid.h).
 * TCP: the peer's socket is the one whose local end is our remote end and whose remote end is
 * our local end; the kernel's socket table says who owns it. One exact NETLINK_SOCK_DIAG
 * request (inet_diag), then /proc/net/tcp and tcp6 (also where a dual-stack peer socket
 * holds an IPv4-mapped address). */
#include "core/peeruid.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/xmalloc.h"

/* One end of a TCP connection: v4 in a[0] (network order), or v6 in a[0..3]. */
struct peeruid_end {
	int v4;
	uint32_t a[4];
	uint16_t port; /* host order */
};

static const uint32_t peeruid_mapped_prefix[3] = {0, 0, 0}; /* + htonl(0xffff) */

/* sockaddr -> end; an IPv4-mapped IPv6 address becomes IPv4. -1 for other families. */
static int peeruid_end_of(const struct sockaddr_storage *ss, struct peeruid_end *out)
{
	memset(out, 0, sizeof *out);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		out->v4 = 1;
		out->a[0] = in->sin_addr.s_addr;
		out->port = ntohs(in->sin_port);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		memcpy(out->a, &in6->sin6_addr, 16);
		out->port = ntohs(in6->sin6_port);
		if (memcmp(out->a, peeruid_mapped_prefix, 8) == 0 && out->a[2] == htonl(0xffff)) {
			out->v4 = 1;
			out->a[0] = out->a[3];
			out->a[1] = out->a[2] = out->a[3] = 0;
		}
		return 0;
	}
	return -1;
}

/* Both ends of a connected TCP socket. */
static int peeruid_ends(int fd, struct peeruid_end *local, struct peeruid_end *peer, char **cause)
{
	struct sockaddr_storage la, pa;
	socklen_t ll = sizeof la, pl = sizeof pa;

	if (getsockname(fd, (struct sockaddr *)&la, &ll) != 0 ||
	    getpeername(fd, (struct sockaddr *)&pa, &pl) != 0)
		return xcause(cause, "not a connected socket: %s", strerror(errno));
	if (peeruid_end_of(&la, local) != 0 || peeruid_end_of(&pa, peer) != 0)
		return xcause(cause, "not a TCP/IP connection");
	if (local->v4 != peer->v4)
		return xcause(cause, "mixed address families");
	return 0;
}

/* --- NETLINK_SOCK_DIAG --- */

static int peeruid_netlink(const struct peeruid_end *local, const struct peeruid_end *peer,
                           uid_t *uid, char **cause)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct timeval tv = {1, 0};
	union {
		char buf[8192];
		struct nlmsghdr align;
	} u;
	ssize_t n;
	int s, rc = -1;

	s = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (s < 0)
		return xcause(cause, "netlink: %s", strerror(errno));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	memset(&req, 0, sizeof req);
	req.nlh.nlmsg_len = sizeof req;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.nlh.nlmsg_seq = 1;
	req.r.sdiag_family = peer->v4 ? AF_INET : AF_INET6;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0U;
	/* the peer's socket: its source is our peer, its destination is us */
	req.r.id.idiag_sport = htons(peer->port);
	req.r.id.idiag_dport = htons(local->port);
	memcpy(req.r.id.idiag_src, peer->a, sizeof peer->a);
	memcpy(req.r.id.idiag_dst, local->a, sizeof local->a);
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (sendto(s, &req, sizeof req, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
		xcause(cause, "netlink: %s", strerror(errno));
		goto out;
	}
	n = recv(s, u.buf, sizeof u.buf, 0);
	if (n < 0) {
		xcause(cause, "netlink: %s", strerror(errno));
		goto out;
	}
	for (struct nlmsghdr *h = &u.align; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			xcause(cause, "netlink: %s",
			       strerror(h->nlmsg_len >= NLMSG_LENGTH(sizeof *e) ? -e->error : EIO));
			goto out;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);

			if (ntohs(m->id.idiag_sport) != peer->port ||
			    ntohs(m->id.idiag_dport) != local->port) {
				xcause(cause, "netlink: another socket answered");
				goto out;
			}
			*uid = (uid_t)m->idiag_uid;
			rc = 0;
			goto out;
		}
	}
	xcause(cause, "netlink: no answer");
out:
	close(s);
	return rc;
}

/* --- /proc/net/tcp(6) --- */

/* "0100007F" (one word) or 32 hex digits (four words), as the kernel prints addresses. */
static int peeruid_hex_addr(const char *hex, uint32_t a[4], int *v4)
{
	size_t len = strlen(hex);

	memset(a, 0, 4 * sizeof *a);
	if (len != 8 && len != 32)
		return -1;
	*v4 = len == 8;
	for (size_t i = 0; i < len / 8; i++) {
		char w[9];

		memcpy(w, hex + 8 * i, 8);
		w[8] = '\0';
		a[i] = (uint32_t)strtoul(w, NULL, 16);
	}
	return 0;
}

/* e as the words of a table row of the given kind (v4: /proc/net/tcp; else tcp6, where an
 * IPv4 end is IPv4-mapped). */
static void peeruid_words(const struct peeruid_end *e, int v4_table, uint32_t w[4])
{
	memset(w, 0, 4 * sizeof *w);
	if (v4_table || !e->v4) {
		memcpy(w, e->a, 4 * sizeof *w);
		return;
	}
	w[2] = htonl(0xffff);
	w[3] = e->a[0];
}

static int peeruid_proc_table(const char *path, int v4_table, const struct peeruid_end *local,
                              const struct peeruid_end *peer, uid_t *uid)
{
	FILE *f = fopen(path, "re");
	char line[512];
	uint32_t want_l[4], want_r[4];
	int found = 0;

	if (f == NULL)
		return 0;
	peeruid_words(peer, v4_table, want_l);  /* the peer socket's local end */
	peeruid_words(local, v4_table, want_r); /* ... and its remote end */
	while (!found && fgets(line, sizeof line, f) != NULL) {
		char lhex[40], rhex[40];
		unsigned lport, rport, st, u;
		uint32_t la[4], ra[4];
		int lv4, rv4;

		if (sscanf(line, " %*d: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*s %*s %*s %u",
		           lhex, &lport, rhex, &rport, &st, &u) != 6)
			continue;
		if (peeruid_hex_addr(lhex, la, &lv4) != 0 || peeruid_hex_addr(rhex, ra, &rv4) != 0)
			continue;
		if (lport != peer->port || rport != local->port || st == 0x0A /* LISTEN */)
			continue;
		if (memcmp(la, want_l, sizeof la) != 0 || memcmp(ra, want_r, sizeof ra) != 0)
			continue;
		*uid = (uid_t)u;
		found = 1;
	}
	fclose(f);
	return found;
}

static int peeruid_proc(const struct peeruid_end *local, const struct peeruid_end *peer, uid_t *uid,
                        char **cause)
{
	if (peer->v4 && peeruid_proc_table("/proc/net/tcp", 1, local, peer, uid))
		return 0;
	if (peeruid_proc_table("/proc/net/tcp6", 0, local, peer, uid))
		return 0;
	return xcause(cause, "the peer's socket is not on this host");
}

int peeruid_of_proc(int fd, uid_t *uid, char **cause)
{
	struct peeruid_end local, peer;

	if (peeruid_ends(fd, &local, &peer, cause) != 0)
		return -1;
	return peeruid_proc(&local, &peer, uid, cause);
}

int peeruid_of_netlink(int fd, uid_t *uid, char **cause)
{
	struct peeruid_end local, peer;

	if (peeruid_ends(fd, &local, &peer, cause) != 0)
		return -1;
	return peeruid_netlink(&local, &peer, uid, cause);
}

int peeruid_of(int fd, uid_t *uid, char **cause)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct peeruid_end local, peer;
	char *ncause = NULL;

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
		return xcause(cause, "not a socket: %s", strerror(errno));
	if (ss.ss_family == AF_UNIX) {
		struct ucred cr;
		socklen_t cl = sizeof cr;

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) != 0)
			return xcause(cause, "SO_PEERCRED: %s", strerror(errno));
		*uid = cr.uid;
		return 0;
	}
	if (peeruid_ends(fd, &local, &peer, cause) != 0)
		return -1;
	if (peeruid_netlink(&local, &peer, uid, &ncause) == 0)
		return 0;
	free(ncause);
	return peeruid_proc(&local, &peer, uid, cause);
}

int peeruid_allow(int fd, uid_t owner, uid_t *peer)
{
	uid_t u;

	*peer = (uid_t)-1;
	if (peeruid_of(fd, &u, NULL) != 0)
		return 0;
	*peer = u;
	return u == owner;
}
