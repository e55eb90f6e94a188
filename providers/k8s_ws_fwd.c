/* k8s_ws_fwd.c: port-forwards into pods through the API server's portforward subresource
 * (portforward.k8s.io over WebSocket, k8s_ws_conn.c). A listener on bind_addr:local_port;
 * every accepted TCP connection gets its own WebSocket to ?ports=P. The server opens the
 * data channel (0) and the error channel (1) each with a frame carrying the port (2 bytes,
 * little-endian); after that channel 0 carries the bytes both ways (ours prefixed by the
 * channel byte alone) and text on channel 1 is an error: that connection closes with a log
 * line. Backpressure both ways: the socket we write to is not read while the other side's
 * buffer is over K8S_WSC_HIGH. A TCP end closes the WebSocket (close frame after the queued
 * data); the WebSocket's end closes the TCP connection after what is buffered is written. */
#include "providers/k8s_ws_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/peeruid.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"

#define FWD_READ 32768

struct k8s_fwd {
	struct k8s_fwd *next;
	struct k8s_channel *ch;
	int fd;
	struct loop_fd *fw;
	struct k8s_wsc *ws;
	int ws_open, ws_done, tcp_eof, tcp_dead, data_port, err_port, ws_paused;
	char *obuf; /* to the TCP client */
	size_t olen, ooff, ocap;
	char *err; /* text on the error channel */
	size_t errlen;
};

/* A log line of a forward (stderr unless it is a terminal: the TUI owns that one). */
static void fwd_log(struct k8s_channel *ch, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void fwd_log(struct k8s_channel *ch, const char *fmt, ...)
{
	va_list ap;
	char *m, *clean;

	if (isatty(STDERR_FILENO))
		return;
	va_start(ap, fmt);
	m = xvprintf(fmt, ap);
	va_end(ap);
	clean = sanitize_text(m, (size_t)-1, 0);
	fprintf(stderr, "gantry: forward to %s/%s port %d: %s\n", ch->ns, ch->pod, ch->remote_port,
	        clean);
	free(clean);
	free(m);
}

static void fwd_free(struct k8s_fwd *f)
{
	struct k8s_fwd **pp;

	for (pp = &f->ch->fwds; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	if (f->fw != NULL)
		loop_fd_remove(f->ch->l, f->fw);
	if (f->fd >= 0)
		close(f->fd);
	k8s_wsc_free(f->ws);
	free(f->obuf);
	free(f->err);
	free(f);
}

static void fwd_events(struct k8s_fwd *f)
{
	short ev = 0;

	if (f->fw == NULL)
		return;
	if (f->ws_open && !f->tcp_eof && !f->ws_done && k8s_wsc_queued(f->ws) <= K8S_WSC_HIGH)
		ev |= POLLIN;
	if (f->olen > f->ooff)
		ev |= POLLOUT;
	loop_fd_set_events(f->fw, ev);
}

/* Both ways done: the WebSocket ended and its bytes are written. 1 when f was freed. */
static int fwd_maybe_done(struct k8s_fwd *f)
{
	if (!f->ws_done || (f->olen > f->ooff && !f->tcp_dead))
		return 0;
	fwd_free(f);
	return 1;
}

/* Writes what is buffered to the client; -1 when the client is gone (f freed). */
static int fwd_flush(struct k8s_fwd *f)
{
	ssize_t n;

	while (f->ooff < f->olen) {
		n = send(f->fd, f->obuf + f->ooff, f->olen - f->ooff, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			fwd_free(f);
			return -1;
		}
		f->ooff += (size_t)n;
	}
	if (f->ooff == f->olen)
		f->ooff = f->olen = 0;
	if (f->ws != NULL && !f->ws_done) {
		int over = f->olen - f->ooff > K8S_WSC_HIGH;

		if (over != f->ws_paused) {
			f->ws_paused = over;
			k8s_wsc_pause(f->ws, over);
		}
	}
	return 0;
}

static void fwd_to_client(struct k8s_fwd *f, const uint8_t *data, size_t len)
{
	if (len == 0)
		return;
	if (f->olen + len > f->ocap) {
		if (f->ooff > 0) {
			memmove(f->obuf, f->obuf + f->ooff, f->olen - f->ooff);
			f->olen -= f->ooff;
			f->ooff = 0;
		}
		if (f->olen + len > f->ocap) {
			f->ocap = (f->olen + len) * 2;
			f->obuf = xrealloc(f->obuf, f->ocap);
		}
	}
	memcpy(f->obuf + f->olen, data, len);
	f->olen += len;
	if (fwd_flush(f) == 0)
		fwd_events(f);
}

static void fwd_on_tcp(int fd, short revents, void *arg)
{
	struct k8s_fwd *f = arg;
	char buf[FWD_READ];
	ssize_t n;

	if (revents & POLLOUT) {
		if (fwd_flush(f) != 0 || fwd_maybe_done(f))
			return;
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && f->ws_open && !f->tcp_eof && !f->ws_done) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* nothing after all */
		} else if (n <= 0) {
			/* the client closed (or reset): the WebSocket closes after what is queued
			 */
			f->tcp_eof = 1;
			if (n < 0) {
				fwd_free(f);
				return;
			}
			k8s_wsc_shutdown(f->ws);
		} else if (k8s_wsc_send(f->ws, 0, buf, (size_t)n) != 0) {
			f->tcp_eof = 1;
		}
	} else if ((revents & (POLLHUP | POLLERR)) && !f->ws_open) {
		fwd_free(f); /* the client gave up before the pod answered */
		return;
	} else if ((revents & (POLLHUP | POLLERR)) && f->tcp_eof) {
		/* gone both ways: nothing more to give it; the WebSocket finishes its close */
		loop_fd_remove(f->ch->l, f->fw);
		f->fw = NULL;
		f->tcp_dead = 1;
		if (f->ws_done)
			fwd_free(f);
		return;
	}
	fwd_events(f);
}

/* --- the WebSocket of one connection --- */

static void fwd_ws_open(void *arg)
{
	struct k8s_fwd *f = arg;

	f->ws_open = 1;
	fwd_events(f);
}

static void fwd_ws_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct k8s_fwd *f = arg;
	struct k8s_channel *ch = f->ch;
	int *seen = msg[0] == 0 ? &f->data_port : &f->err_port;
	size_t skip = 1;

	if (msg[0] > 1)
		return; /* one port per WebSocket: channels 0 and 1 only */
	if (!*seen) {
		int port;

		if (len < 3) {
			fwd_log(ch, "a short first frame on channel %d", msg[0]);
			k8s_wsc_shutdown(f->ws);
			return;
		}
		port = msg[1] | (msg[2] << 8);
		if (port != ch->remote_port) {
			fwd_log(ch, "the API server opened port %d instead", port);
			k8s_wsc_shutdown(f->ws);
			return;
		}
		*seen = 1;
		skip = 3;
	}
	if (msg[0] == 0) {
		fwd_to_client(f, msg + skip, len - skip);
		return;
	}
	if (len > skip && f->errlen < 4096) { /* an error: log it, close this connection */
		size_t n = len - skip;

		if (n > 4096 - f->errlen)
			n = 4096 - f->errlen;
		f->err = xrealloc(f->err, f->errlen + n + 1);
		memcpy(f->err + f->errlen, msg + skip, n);
		f->errlen += n;
		f->err[f->errlen] = '\0';
		fwd_log(ch, "%s", f->err);
		k8s_wsc_shutdown(f->ws);
	}
}

static void fwd_ws_drain(void *arg)
{
	fwd_events(arg);
}

static void fwd_ws_closed(void *arg, const char *cause)
{
	struct k8s_fwd *f = arg;

	if (cause != NULL && f->err == NULL)
		fwd_log(f->ch, "%s", cause);
	f->ws_done = 1;
	k8s_wsc_free(f->ws);
	f->ws = NULL;
	if (fwd_maybe_done(f))
		return;
	fwd_events(f);
}

static const struct k8s_wsc_ops fwd_ws_ops = {fwd_ws_open, fwd_ws_msg, fwd_ws_drain, fwd_ws_closed};

/* --- the listener --- */

static void fwd_on_accept(int lfd, short revents, void *arg)
{
	struct k8s_channel *ch = arg;
	struct k8s_fwd *f;
	char *path, *cause = NULL;
	uid_t peer;
	int fd;

	(void)revents;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return; /* EAGAIN, a client that left, or out of descriptors: the next one */
	if (ch->owner_only && !peeruid_allow(fd, ch->owner_uid, &peer)) {
		/* issue 12: the forward serves its owner only */
		fwd_log(ch, "connection from uid %ld refused", (long)peer);
		close(fd);
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->ch = ch;
	f->fd = fd;
	path = xprintf("/api/v1/namespaces/%s/pods/%s/portforward?ports=%d", ch->ns, ch->pod,
	               ch->remote_port);
	if (k8s_wsc_open(ch->l, ch->q, &ch->conn, path, "portforward.k8s.io", &fwd_ws_ops, f,
	                 &f->ws, &cause) != 0) {
		fwd_log(ch, "%s", cause);
		free(cause);
		free(path);
		close(fd);
		free(f);
		return;
	}
	free(path);
	f->next = ch->fwds;
	ch->fwds = f;
	f->fw = loop_fd_add(ch->l, fd, 0, fwd_on_tcp, f);
}

static void fwd_up(void *arg)
{
	struct k8s_channel *ch = arg;
	struct provider_channel_event ev = {.state = PROVIDER_CHANNEL_UP,
	                                    .local_port = ch->local_port};

	ch->ev_timer = NULL;
	if (!ch->ended)
		ch->cb(ch->arg, &ev);
}

int k8s_ws_fwd_start(struct k8s_channel *ch, const struct provider_channel_io *io, char **cause)
{
	const char *addr = io->bind_addr != NULL && *io->bind_addr ? io->bind_addr : "127.0.0.1";
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char port[16];
	int fd, one = 1, rc;

	if (io->local_port < 0 || io->local_port > 65535)
		return xcause(cause, "bad local port %d", io->local_port);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", io->local_port);
	rc = getaddrinfo(addr, port, &hints, &ai);
	if (rc != 0 || ai == NULL)
		return xcause(cause, "bad bind address %s: %s", addr, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		freeaddrinfo(ai);
		return xcause(cause, "socket: %s", strerror(errno));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		int e = errno;

		freeaddrinfo(ai);
		close(fd);
		return xcause(cause, "cannot listen on %s:%d: %s", addr, io->local_port,
		              strerror(e));
	}
	freeaddrinfo(ai);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		close(fd);
		return xcause(cause, "getsockname: %s", strerror(errno));
	}
	ch->local_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                                : ((struct sockaddr_in *)&ss)->sin_port);
	ch->lfd = fd;
	ch->owner_only = io->owner_only;
	ch->owner_uid = io->owner_uid;
	ch->lw = loop_fd_add(ch->l, fd, POLLIN, fwd_on_accept, ch);
	ch->ev_timer = loop_timer_add(ch->l, 0, 0, fwd_up, ch);
	return 0;
}

void k8s_ws_fwd_stop(struct k8s_channel *ch)
{
	if (ch->lw != NULL)
		loop_fd_remove(ch->l, ch->lw);
	ch->lw = NULL;
	if (ch->lfd >= 0)
		close(ch->lfd);
	ch->lfd = -1;
	while (ch->fwds != NULL)
		fwd_free(ch->fwds);
}
