/* ssh_forward.c: local port forwarding (ssh -L) through direct-tcpip channels.
 *
 * Each forward runs one thread: ssh_connect, then one poll loop over a control pipe, the
 * listener, the session socket and every client. libssh2 is used non-blocking, which has
 * one rule that shapes this file: the session sends one packet at a time, and a call that
 * returned EAGAIN with a packet half sent (block direction OUTBOUND) must be repeated before
 * any other call that may send, or libssh2 fails with LIBSSH2_ERROR_BAD_USE. That call is
 * the "blocker" (f->blk): while it is set, it is the only libssh2 call made, and clients are
 * still served from and into the relay buffers. Channel opens are serialised the same way
 * (libssh2 keeps one open in progress per session): clients wait in accept order.
 *
 * Two libssh2 calls build their packet on their own stack (send_eof, keepalive_send); they
 * are only made when the socket has room, so that they never leave a packet half sent.
 *
 * A session channel with no command ("pump") stays open while the forward is up, so that
 * the session is read (server keepalives answered) even while no client is connected. */
#include "core/ssh_forward.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libssh2.h>

#include "core/peeruid.h"
#include "core/xmalloc.h"

#define FWD_BUF          (64 * 1024) /* bytes, each way, per connection */
#define FWD_PASSES       16          /* relay passes per connection per wake-up */
#define FWD_STOP_MS      2000        /* channel closes at the end, before the socket is cut */
#define FWD_DEFAULT_IO   30000
#define FWD_DEFAULT_KA   15
#define FWD_ACCEPT_PAUSE 500 /* ms without accepting after EMFILE */

enum fwd_state {
	FWD_OPENING, /* waiting for its channel */
	FWD_OPEN,    /* relaying */
	FWD_CLOSING, /* client gone; the channel is being closed */
};

/* The libssh2 call to repeat before any other. */
enum fwd_op {
	FWD_OP_NONE,
	FWD_OP_OPEN,
	FWD_OP_READ,
	FWD_OP_WRITE,
	FWD_OP_EOF,
	FWD_OP_FREE,
	FWD_OP_KEEPALIVE,
};

struct fwd_conn {
	struct fwd_conn *next;
	enum fwd_state state;
	int fd;      /* the local client; -1 once closed */
	int port;    /* its source port */
	int pump;    /* the session channel that keeps the session read; no client */
	int started; /* its channel open was sent */
	LIBSSH2_CHANNEL *ch;
	unsigned char *up, *down; /* client -> channel, channel -> client */
	size_t up_off, up_len, down_off, down_len;
	int client_eof;  /* the client sent EOF */
	int eof_sent;    /* ... and the channel got it */
	int chan_eof;    /* the channel reached EOF */
	int client_shut; /* ... and the client's write side is shut */
};

struct ssh_forward {
	/* set at start, read-only afterwards */
	struct ssh_target target, jump;
	char *remote_host;
	int remote_port;
	int io_ms, ka_s;
	int lfd;
	int owner_only; /* serve owner_uid's connections only (core/peeruid.h) */
	uid_t owner_uid;
	int notify[2], ctl[2];
	pthread_t thread;

	pthread_mutex_t lock;
	struct ssh_forward_info info; /* under lock */

	/* the thread's own */
	struct ssh_session *s;
	LIBSSH2_SESSION *raw;
	int sfd;
	struct fwd_conn *conns; /* accept order; the pump first */
	enum fwd_op blk;
	struct fwd_conn *blk_c;
	int64_t blk_since;
	int want_out;  /* an EOF or a keepalive waits for room in the socket */
	int parked;    /* input waits in the socket and no channel can read it */
	int read_done; /* a channel read drained the socket this round */
	int again;     /* libssh2 holds work that poll cannot see: do not sleep */
	int busy;      /* a relay stopped before it ran out of work */
	int moved;     /* data moved this round (no second look without it: no spinning) */
	int64_t last_rx, ka_next, ka_unanswered;
	int64_t accept_after;
	int dying;
	int closing_all; /* teardown: channels that finish opening are closed at once */
	struct ssh_error why;
	uint64_t accepted, up_bytes, down_bytes;
	int failed, active;
	struct ssh_error last_fail;
	int fail_dirty;
};

static int64_t fwd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *fwd_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Copies src into dst with strings of its own (the jump's jump is not followed). */
static void fwd_target_copy(struct ssh_target *dst, const struct ssh_target *src)
{
	*dst = *src;
	dst->host = fwd_dup(src->host);
	dst->user = fwd_dup(src->user);
	dst->key_file = fwd_dup(src->key_file);
	dst->known_hosts = fwd_dup(src->known_hosts);
	dst->jump = NULL;
}

static void fwd_target_free(struct ssh_target *t)
{
	free((char *)t->host);
	free((char *)t->user);
	free((char *)t->key_file);
	free((char *)t->known_hosts);
}

static void fwd_notify(struct ssh_forward *f)
{
	char c = 1;

	if (write(f->notify[1], &c, 1) < 0) {
		/* full: the reader has a wake-up pending already */
	}
}

/* Copies the thread's counters into info. */
static void fwd_publish(struct ssh_forward *f)
{
	pthread_mutex_lock(&f->lock);
	f->info.connections = f->accepted;
	f->info.active = f->active;
	f->info.bytes_up = f->up_bytes;
	f->info.bytes_down = f->down_bytes;
	f->info.failed = f->failed;
	if (f->fail_dirty)
		f->info.err = f->last_fail;
	f->fail_dirty = 0;
	pthread_mutex_unlock(&f->lock);
}

/* The session is gone: the loop ends after this round. */
static void fwd_lost(struct ssh_forward *f, const char *detail)
{
	if (f->dying)
		return;
	f->dying = 1;
	ssh_error_set(&f->why, SSH_ERR_CLOSED, "connection to %s lost (%s)", f->target.host,
	              detail);
}

/* The session's last libssh2 error text. */
static const char *fwd_last_error(struct ssh_forward *f)
{
	char *m = NULL;

	libssh2_session_last_error(f->raw, &m, NULL, 0);
	return m != NULL && *m != '\0' ? m : "socket error";
}

/* Errors that concern one channel only; anything else means the session is broken. */
static int fwd_channel_error(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_CHANNEL_OUTOFORDER:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED:
	case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
		return 1;
	default:
		return 0;
	}
}

/* After EAGAIN from op: with a packet half sent, op becomes the blocker. */
static void fwd_eagain(struct ssh_forward *f, enum fwd_op op, struct fwd_conn *c)
{
	if (!(libssh2_session_block_directions(f->raw) & LIBSSH2_SESSION_BLOCK_OUTBOUND))
		return;
	if (f->blk == FWD_OP_NONE)
		f->blk_since = fwd_now();
	f->blk = op;
	f->blk_c = c;
}

/* Whether the session socket has room now (poll, no wait). */
static int fwd_sess_writable(struct ssh_forward *f)
{
	struct pollfd p = {.fd = f->sfd, .events = POLLOUT};

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLOUT))
		return 1;
	f->want_out = 1;
	return 0;
}

static void fwd_conn_free(struct fwd_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->up);
	free(c->down);
	free(c);
}

static void fwd_conn_unlink(struct ssh_forward *f, struct fwd_conn *c)
{
	struct fwd_conn **pp;

	for (pp = &f->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (!c->pump)
		f->active--;
	fwd_conn_free(c);
}

/* The client is done (or failed): close it; the channel follows. */
static void fwd_conn_close(struct ssh_forward *f, struct fwd_conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->state == FWD_OPENING && !c->started && f->blk_c != c) {
		fwd_conn_unlink(f, c);
		return;
	}
	if (c->state == FWD_OPEN)
		c->state = FWD_CLOSING;
}

/* Records a connection whose channel could not be opened. */
static void fwd_open_failed(struct ssh_forward *f, struct fwd_conn *c)
{
	const char *m = fwd_last_error(f);
	const char *why = m, *hint = "";
	const char *lp = strchr(m, '('), *rp = strrchr(m, ')');
	char reason[200];

	if (lp != NULL && rp != NULL && rp > lp + 1) {
		snprintf(reason, sizeof reason, "%.*s", (int)(rp - lp - 1), lp + 1);
		why = reason;
	}
	if (strstr(m, "prohibited") != NULL)
		hint = " (the server does not allow TCP forwarding)";
	else if (strstr(m, "connect failed") != NULL)
		hint = " (nothing listens there?)";
	ssh_error_set(&f->last_fail, SSH_ERR_CHANNEL, "%s:%d via %s: channel open failed: %s%s",
	              f->remote_host, f->remote_port, f->target.host, why, hint);
	f->fail_dirty = 1;
	f->failed++;
	c->state = FWD_CLOSING;
	fwd_conn_close(f, c);
	fwd_conn_unlink(f, c);
}

/* Drives the open of the first connection waiting for a channel; 1 when it finished. */
static int fwd_open_next(struct ssh_forward *f)
{
	struct fwd_conn *c;
	LIBSSH2_CHANNEL *ch;
	int rc;

	for (c = f->conns; c != NULL && c->state != FWD_OPENING; c = c->next)
		;
	if (c == NULL)
		return 0;
	c->started = 1;
	f->read_done = 1; /* an open reads the socket dry while it waits (poll must ask again) */
	if (f->parked) {
		f->parked = 0;
		f->ka_unanswered = 0; /* answers were not watched while parked */
	}
	if (c->pump)
		ch = libssh2_channel_open_session(f->raw);
	else
		ch = libssh2_channel_direct_tcpip_ex(f->raw, f->remote_host, f->remote_port,
		                                     "127.0.0.1", c->port);
	if (ch != NULL) {
		c->ch = ch;
		c->state = (c->fd >= 0 || c->pump) && !f->closing_all ? FWD_OPEN : FWD_CLOSING;
		f->parked = 0;
		return 1;
	}
	rc = libssh2_session_last_errno(f->raw);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		fwd_eagain(f, FWD_OP_OPEN, c);
		return 0;
	}
	if (!fwd_channel_error(rc)) {
		fwd_lost(f, fwd_last_error(f));
		return 0;
	}
	if (c->pump) /* a server that refuses session channels: no pump, nothing else changes */
		fwd_conn_unlink(f, c);
	else
		fwd_open_failed(f, c);
	return 1;
}

/* A libssh2 error on c's channel: the connection ends, or the whole session. */
static void fwd_chan_failed(struct ssh_forward *f, struct fwd_conn *c, int rc)
{
	if (!fwd_channel_error(rc)) {
		fwd_lost(f, fwd_last_error(f));
		return;
	}
	c->eof_sent = c->chan_eof = 1;
	fwd_conn_close(f, c);
}

/* Client -> up buffer. 1 when something moved. */
static int fwd_client_in(struct ssh_forward *f, struct fwd_conn *c)
{
	ssize_t n;

	if (c->client_eof || c->fd < 0)
		return 0;
	if (c->up_off == c->up_len)
		c->up_off = c->up_len = 0;
	else if (c->up_off > 0 && (c->up_off >= FWD_BUF / 2 || c->up_len == FWD_BUF)) {
		/* any free byte counts as room (poll asks for input then) */
		memmove(c->up, c->up + c->up_off, c->up_len - c->up_off);
		c->up_len -= c->up_off;
		c->up_off = 0;
	}
	if (c->up_len == FWD_BUF)
		return 0;
	n = recv(c->fd, c->up + c->up_len, FWD_BUF - c->up_len, 0);
	if (n > 0) {
		c->up_len += (size_t)n;
		return 1;
	}
	if (n == 0) {
		c->client_eof = 1;
		return 1;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	fwd_conn_close(f, c); /* reset by the client */
	return 1;
}

/* Up buffer -> channel. */
static int fwd_chan_out(struct ssh_forward *f, struct fwd_conn *c)
{
	int moved = 0;
	ssize_t n;

	while (c->up_off < c->up_len) {
		n = libssh2_channel_write(c->ch, (const char *)c->up + c->up_off,
		                          c->up_len - c->up_off);
		if (n > 0) {
			c->up_off += (size_t)n;
			f->up_bytes += (uint64_t)n;
			moved = 1;
			continue;
		}
		if (n == LIBSSH2_ERROR_EAGAIN)
			fwd_eagain(f, FWD_OP_WRITE, c);
		else if (n < 0)
			fwd_chan_failed(f, c, (int)n);
		break; /* 0: the server's window is full */
	}
	return moved;
}

/* Channel -> down buffer (a pump's data is thrown away). */
static int fwd_chan_in(struct ssh_forward *f, struct fwd_conn *c)
{
	int moved = 0;
	ssize_t n;

	if (c->down_off == c->down_len)
		c->down_off = c->down_len = 0;
	else if (c->down_off > 0 && (c->down_off >= FWD_BUF / 2 || c->down_len == FWD_BUF)) {
		memmove(c->down, c->down + c->down_off, c->down_len - c->down_off);
		c->down_len -= c->down_off;
		c->down_off = 0;
	}
	while (!c->chan_eof && c->down_len < FWD_BUF) {
		n = libssh2_channel_read(c->ch, (char *)c->down + c->down_len,
		                         FWD_BUF - c->down_len);
		f->read_done = 1;
		if (n > 0) {
			if (c->pump)
				continue;
			c->down_len += (size_t)n;
			moved = 1;
			continue;
		}
		if (n == 0) {
			c->chan_eof = 1;
			moved = 1;
		} else if (n == LIBSSH2_ERROR_EAGAIN)
			fwd_eagain(f, FWD_OP_READ, c);
		else
			fwd_chan_failed(f, c, (int)n);
		break;
	}
	return moved;
}

/* Down buffer -> client. */
static int fwd_client_out(struct ssh_forward *f, struct fwd_conn *c)
{
	int moved = 0;
	ssize_t n;

	while (c->down_off < c->down_len && c->fd >= 0) {
		n = send(c->fd, c->down + c->down_off, c->down_len - c->down_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->down_off += (size_t)n;
			f->down_bytes += (uint64_t)n;
			moved = 1;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			break;
		fwd_conn_close(f, c); /* the client went away */
		return 1;
	}
	return moved;
}

/* Sends EOF on c's channel when the socket has room (see the top of the file). */
static void fwd_send_eof(struct ssh_forward *f, struct fwd_conn *c, int retry)
{
	int rc;

	if (c->eof_sent || (!retry && !fwd_sess_writable(f)))
		return;
	rc = libssh2_channel_send_eof(c->ch);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		fwd_eagain(f, FWD_OP_EOF, c);
		return;
	}
	c->eof_sent = 1; /* sent, or it never can be */
	if (rc < 0 && !fwd_channel_error(rc))
		fwd_lost(f, fwd_last_error(f));
}

/* Half-closes what is finished; closes the connection when both ways are. */
static void fwd_conn_settle(struct ssh_forward *f, struct fwd_conn *c)
{
	if (c->state != FWD_OPEN || c->pump)
		return;
	if (c->client_eof && c->up_off == c->up_len && !c->eof_sent && f->blk == FWD_OP_NONE)
		fwd_send_eof(f, c, 0);
	if (c->chan_eof && c->down_off == c->down_len && !c->client_shut) {
		shutdown(c->fd, SHUT_WR);
		c->client_shut = 1;
	}
	if (c->eof_sent && c->client_shut)
		fwd_conn_close(f, c);
}

/* Moves data both ways until nothing moves (bounded, for fairness). */
static void fwd_relay(struct ssh_forward *f, struct fwd_conn *c)
{
	int i, moved;

	for (i = 0; i < FWD_PASSES && c->state == FWD_OPEN; i++) {
		moved = fwd_client_in(f, c);
		if (f->blk == FWD_OP_NONE && !f->dying && c->state == FWD_OPEN)
			moved |= fwd_chan_out(f, c);
		if (f->blk == FWD_OP_NONE && !f->dying && c->state == FWD_OPEN)
			moved |= fwd_chan_in(f, c);
		if (c->state == FWD_OPEN)
			moved |= fwd_client_out(f, c);
		fwd_conn_settle(f, c);
		if (!moved)
			return;
		f->moved = 1;
	}
	/* the passes ran out with data moving: more may wait inside libssh2, and the window
	 * adjust goes out with the next read only */
	if (c->state == FWD_OPEN)
		f->busy = 1;
}

/* Closes and frees c's channel (EOF first, so that libssh2 does not send it itself). */
static void fwd_finish(struct ssh_forward *f, struct fwd_conn *c, int retry)
{
	int rc;

	if (c->ch != NULL && !c->eof_sent) {
		fwd_send_eof(f, c, retry);
		if (!c->eof_sent)
			return;
		retry = 0;
	}
	if (c->ch != NULL) {
		if (f->blk != FWD_OP_NONE && !retry)
			return;
		rc = libssh2_channel_free(c->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN) {
			fwd_eagain(f, FWD_OP_FREE, c);
			return;
		}
		c->ch = NULL;
	}
	fwd_conn_unlink(f, c);
}

/* Asks c's channel for 0 bytes: libssh2 reads the socket into its queue (and sends a window
 * adjust that is due), whatever room c's buffer has. */
static void fwd_read0(struct ssh_forward *f, struct fwd_conn *c)
{
	ssize_t n = libssh2_channel_read(c->ch, (char *)c->down, 0);

	f->read_done = 1;
	if (n == LIBSSH2_ERROR_EAGAIN)
		fwd_eagain(f, FWD_OP_READ, c);
	else if (n < 0)
		fwd_chan_failed(f, c, (int)n);
}

/* Repeats the blocked call; it stays the blocker while its packet is still half sent. */
static void fwd_retry(struct ssh_forward *f)
{
	enum fwd_op op = f->blk;
	struct fwd_conn *c = f->blk_c;
	int64_t since = f->blk_since;
	int next = 0, rc;

	f->blk = FWD_OP_NONE;
	f->blk_c = NULL;
	switch (op) {
	case FWD_OP_NONE:
		break;
	case FWD_OP_OPEN:
		fwd_open_next(f);
		break;
	case FWD_OP_READ: /* a read with no room would not call libssh2 */
		if (c->down_len - c->down_off == FWD_BUF || c->chan_eof)
			fwd_read0(f, c);
		else
			fwd_chan_in(f, c);
		break;
	case FWD_OP_WRITE:
		fwd_chan_out(f, c);
		break;
	case FWD_OP_EOF:
		fwd_send_eof(f, c, 1);
		break;
	case FWD_OP_FREE:
		fwd_finish(f, c, 1);
		break;
	case FWD_OP_KEEPALIVE: /* libssh2 sends it again (same packet) once it is due */
		rc = libssh2_keepalive_send(f->raw, &next);
		if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN)
			fwd_lost(f, fwd_last_error(f));
		else if (libssh2_session_block_directions(f->raw) & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			f->blk = FWD_OP_KEEPALIVE;
		break;
	}
	if (f->blk != FWD_OP_NONE)
		f->blk_since = since;
}

/* Sends a keepalive when one is due and the socket has room; checks for answers. */
static void fwd_keepalive(struct ssh_forward *f, int64_t now)
{
	int next = 0, rc;

	if (f->parked || (f->ka_unanswered && f->last_rx >= f->ka_unanswered))
		f->ka_unanswered = 0;
	if (f->ka_unanswered && now - f->ka_unanswered > f->io_ms) {
		char m[64];

		snprintf(m, sizeof m, "no answer for %d s", f->io_ms / 1000);
		fwd_lost(f, m);
		return;
	}
	if (now < f->ka_next || f->blk != FWD_OP_NONE || !fwd_sess_writable(f))
		return;
	rc = libssh2_keepalive_send(f->raw, &next);
	if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN) {
		fwd_lost(f, fwd_last_error(f));
		return;
	}
	if (libssh2_session_block_directions(f->raw) & LIBSSH2_SESSION_BLOCK_OUTBOUND) {
		f->blk = FWD_OP_KEEPALIVE;
		f->blk_since = now;
	}
	if (next >= f->ka_s && !f->ka_unanswered && !f->parked)
		f->ka_unanswered = now;
	f->ka_next = now + (next > 0 ? next : f->ka_s) * 1000;
}

/* A connection whose peer is not the forward's owner is closed at once and counted: 1. */
static int fwd_refuse(struct ssh_forward *f, int fd)
{
	uid_t peer;

	if (peeruid_allow(fd, f->owner_uid, &peer))
		return 0;
	close(fd);
	pthread_mutex_lock(&f->lock);
	f->info.refused++;
	f->info.refused_uid = peer;
	pthread_mutex_unlock(&f->lock);
	fwd_notify(f);
	return 1;
}

/* Accepts every waiting client; each waits for its channel in accept order. */
static void fwd_accept(struct ssh_forward *f)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct fwd_conn *c, **tail;
	int fd, one = 1;

	for (;;) {
		sl = sizeof ss;
		fd = accept4(f->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				f->accept_after = fwd_now() + FWD_ACCEPT_PAUSE;
			return;
		}
		if (f->owner_only && fwd_refuse(f, fd))
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c = xcalloc(1, sizeof *c);
		c->fd = fd;
		if (ss.ss_family == AF_INET)
			c->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			c->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		c->up = xmalloc(FWD_BUF);
		c->down = xmalloc(FWD_BUF);
		for (tail = &f->conns; *tail != NULL; tail = &(*tail)->next)
			;
		*tail = c;
		f->accepted++;
		f->active++;
	}
}

/* Input that no relay read this round (every buffer full, or no client): a channel read takes
 * it into libssh2 (the pump's data is dropped; any other channel is asked for 0 bytes), so
 * that the socket does not stay readable for nothing. With no channel open at all, the
 * socket is left alone (parked) until one opens. */
static void fwd_sink(struct ssh_forward *f)
{
	struct fwd_conn *c;

	for (c = f->conns; c != NULL && c->state != FWD_OPEN; c = c->next)
		;
	if (c == NULL) {
		f->parked = 1;
		return;
	}
	if (!c->pump) {
		fwd_read0(f, c);
		return;
	}
	fwd_chan_in(f, c);
	if (c->chan_eof)
		c->state = FWD_CLOSING; /* the server closed it */
}

/* Whether c can move data without new input from the socket: libssh2 read more than c's
 * buffer took (or the relay passes ran out), or took in a window adjust or EOF for c while
 * reading for another channel. */
static int fwd_can_move(struct ssh_forward *f, struct fwd_conn *c)
{
	unsigned long avail = 0;

	if (c->state != FWD_OPEN || c->pump)
		return 0;
	if (f->blk != FWD_OP_NONE)
		return 0;
	if (c->up_off < c->up_len && libssh2_channel_window_write_ex(c->ch, NULL) > 0)
		return 1;
	if (!c->chan_eof && c->down_len - c->down_off < FWD_BUF) {
		libssh2_channel_window_read_ex(c->ch, &avail, NULL);
		if (avail > 0 || libssh2_channel_eof(c->ch))
			return 1;
	}
	return 0;
}

/* One wake-up's work on the session and every connection. */
static void fwd_round(struct ssh_forward *f, int sess_in)
{
	struct fwd_conn *c, *next;
	int64_t now = fwd_now();

	f->read_done = 0;
	f->want_out = 0;
	f->busy = 0;
	f->moved = 0;
	if (f->blk != FWD_OP_NONE)
		fwd_retry(f);
	while (f->blk == FWD_OP_NONE && !f->dying && fwd_open_next(f))
		;
	for (c = f->conns; c != NULL && !f->dying; c = next) {
		next = c->next;
		if (c->state == FWD_OPEN && !c->pump)
			fwd_relay(f, c);
		else if (c->state == FWD_CLOSING && f->blk == FWD_OP_NONE)
			fwd_finish(f, c, 0);
	}
	if (sess_in && !f->read_done && f->blk == FWD_OP_NONE && !f->dying)
		fwd_sink(f);
	f->again = f->busy;
	for (c = f->conns; c != NULL && !f->again && f->moved; c = c->next)
		f->again = fwd_can_move(f, c);
	if (!f->dying)
		fwd_keepalive(f, now);
	if (f->blk != FWD_OP_NONE && f->blk != FWD_OP_KEEPALIVE && now - f->blk_since > f->io_ms) {
		char m[64];

		snprintf(m, sizeof m, "the server took no data for %d s", f->io_ms / 1000);
		fwd_lost(f, m);
	}
	fwd_publish(f);
}

/* Poll timeout until the next timer, in ms. */
static int fwd_timeout(struct ssh_forward *f, int64_t now)
{
	int64_t t = f->ka_next;

	if (f->again)
		return 0;

	if (f->ka_unanswered && f->ka_unanswered + f->io_ms + 1 < t)
		t = f->ka_unanswered + f->io_ms + 1;
	if (f->blk != FWD_OP_NONE && f->blk_since + f->io_ms + 1 < t)
		t = f->blk_since + f->io_ms + 1;
	if (f->accept_after > now && f->accept_after < t)
		t = f->accept_after;
	t -= now;
	return t < 0 ? 0 : t > 60000 ? 60000 : (int)t;
}

/* The relay loop; returns when stopped or when the session is lost. */
static void fwd_loop(struct ssh_forward *f)
{
	struct pollfd *p = NULL;
	struct fwd_conn *c;
	size_t cap = 0, n;
	int rc, sess_in, wants_client, one = 1;
	char buf[64];

	for (;;) {
		int64_t now = fwd_now();

		n = 3;
		for (c = f->conns; c != NULL; c = c->next)
			n++;
		if (n > cap) {
			cap = n * 2;
			p = xreallocarray(p, cap, sizeof *p);
		}
		p[0] = (struct pollfd){.fd = f->ctl[0], .events = POLLIN};
		p[1] =
		    (struct pollfd){.fd = now >= f->accept_after ? f->lfd : -1, .events = POLLIN};
		p[2] = (struct pollfd){.fd = f->sfd, .events = POLLRDHUP};
		if (f->blk != FWD_OP_NONE) {
			if (f->blk != FWD_OP_KEEPALIVE)
				p[2].events |= POLLOUT;
		} else {
			if (!f->parked)
				p[2].events |= POLLIN;
			if (f->want_out)
				p[2].events |= POLLOUT;
		}
		n = 3;
		for (c = f->conns; c != NULL; c = c->next) {
			p[n] = (struct pollfd){.fd = -1};
			wants_client = c->state == FWD_OPEN && c->fd >= 0;
			if (wants_client && !c->client_eof && c->up_len - c->up_off < FWD_BUF)
				p[n].events |= POLLIN;
			if (wants_client && c->down_off < c->down_len)
				p[n].events |= POLLOUT;
			if (p[n].events)
				p[n].fd = c->fd;
			n++;
		}
		rc = poll(p, n, fwd_timeout(f, now));
		if (rc < 0 && errno != EINTR) {
			fwd_lost(f, strerror(errno));
			break;
		}
		if (rc > 0 && (p[0].revents & POLLIN)) {
			if (read(f->ctl[0], buf, sizeof buf) < 0) {
				/* a byte or EOF: either way, stop */
			}
			break;
		}
		sess_in = rc > 0 && (p[2].revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR));
		if (sess_in) {
			f->last_rx = fwd_now();
			/* acknowledge at once: sshd does not set TCP_NODELAY for forwarding-only
			 * sessions, so a delayed ACK here holds its next small packet (a channel's
			 * EOF and close, a short reply) for 40 ms */
			setsockopt(f->sfd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
		}
		if (rc > 0 && (p[1].revents & POLLIN))
			fwd_accept(f);
		fwd_round(f, sess_in);
		if (rc > 0 && (p[2].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
			fwd_lost(f, "the server closed the connection");
		if (f->dying)
			break;
	}
	free(p);
}

/* Closes every client and channel (bounded: after FWD_STOP_MS, or at once when the session
 * is lost, the socket is shut so that libssh2 stops waiting), then the session. */
static void fwd_teardown(struct ssh_forward *f)
{
	struct fwd_conn *c, *next;
	int64_t deadline = fwd_now() + FWD_STOP_MS;
	int cut = 0, spins = 0;
	struct pollfd p;

	f->closing_all = 1;
	for (c = f->conns; c != NULL; c = next) {
		next = c->next;
		if (c->fd >= 0 || c->pump) {
			if (c->state == FWD_OPEN)
				c->state = FWD_CLOSING;
			fwd_conn_close(f, c);
		}
	}
	if (f->dying) {
		shutdown(f->sfd, SHUT_RDWR);
		cut = 1;
	}
	while (f->conns != NULL && spins < 1000) {
		if (f->blk != FWD_OP_NONE)
			fwd_retry(f);
		if (f->blk == FWD_OP_NONE)
			fwd_open_next(f);
		for (c = f->conns; c != NULL && f->blk == FWD_OP_NONE; c = next) {
			next = c->next;
			if (c->state == FWD_CLOSING)
				fwd_finish(f, c, 0);
		}
		if (f->conns == NULL)
			break;
		if (cut) {
			spins++;
			continue;
		}
		if (fwd_now() >= deadline) {
			shutdown(f->sfd, SHUT_RDWR);
			cut = 1;
			continue;
		}
		p = (struct pollfd){.fd = f->sfd, .events = POLLIN};
		if (f->blk != FWD_OP_NONE || f->want_out)
			p.events |= POLLOUT;
		f->want_out = 0;
		poll(&p, 1, (int)(deadline - fwd_now()) + 1);
	}
	/* left only if libssh2 never let go: the session frees its channels itself */
	while ((c = f->conns) != NULL) {
		f->conns = c->next;
		fwd_conn_free(c);
	}
	f->active = 0;
	ssh_close(f->s);
	f->s = NULL;
}

static void *fwd_main(void *arg)
{
	struct ssh_forward *f = arg;
	struct ssh_error err;
	struct pollfd p;
	struct fwd_conn *pump;
	int stopped;

	memset(&err, 0, sizeof err);
	if (ssh_connect(&f->target, &f->s, &err) < 0) {
		close(f->lfd);
		f->lfd = -1;
		pthread_mutex_lock(&f->lock);
		f->info.dead = 1;
		f->info.err = err;
		pthread_mutex_unlock(&f->lock);
		fwd_notify(f);
		return NULL;
	}
	p = (struct pollfd){.fd = f->ctl[0], .events = POLLIN};
	stopped = poll(&p, 1, 0) == 1;
	f->raw = ssh_session_raw(f->s);
	f->sfd = ssh_session_fd(f->s);
	libssh2_session_set_blocking(f->raw, 0);
	libssh2_keepalive_config(f->raw, 1, (unsigned int)f->ka_s);
	f->last_rx = fwd_now();
	f->ka_next = f->last_rx + f->ka_s * 1000;
	pump = xcalloc(1, sizeof *pump);
	pump->fd = -1;
	pump->pump = 1;
	pump->down = xmalloc(FWD_BUF);
	f->conns = pump;
	if (!stopped) {
		pthread_mutex_lock(&f->lock);
		f->info.up = 1;
		pthread_mutex_unlock(&f->lock);
		fwd_notify(f);
		fwd_loop(f);
	}
	close(f->lfd); /* the port is free before anyone hears that the forward ended */
	f->lfd = -1;
	fwd_teardown(f);
	fwd_publish(f);
	if (f->dying) {
		pthread_mutex_lock(&f->lock);
		f->info.up = 0;
		f->info.dead = 1;
		f->info.err = f->why;
		pthread_mutex_unlock(&f->lock);
		fwd_notify(f);
	}
	return NULL;
}

/* "127.0.0.1:8888" or "[::1]:8888". */
static void fwd_addr_label(char *buf, size_t len, const char *addr, int port)
{
	snprintf(buf, len, strchr(addr, ':') != NULL ? "[%s]:%d" : "%s:%d", addr, port);
}

/* Binds and listens on addr:port; fills *port_out. The socket, or -1 with err. */
static int fwd_listen(const char *addr, int port, int *port_out, struct ssh_error *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char ps[16], label[300];
	int fd = -1, one = 1, e = 0, rc;

	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(ps, sizeof ps, "%d", port);
	fwd_addr_label(label, sizeof label, addr, port);
	rc = getaddrinfo(addr, ps, &hints, &res);
	if (rc != 0) {
		ssh_error_set(err, SSH_ERR_LOCAL, "cannot listen on %s: %s", label,
		              gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (e == EADDRINUSE)
			ssh_error_set(err, SSH_ERR_LOCAL, "%s is already in use", label);
		else
			ssh_error_set(err, SSH_ERR_LOCAL, "cannot listen on %s: %s", label,
			              strerror(e));
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
		                                      : ((struct sockaddr_in *)&ss)->sin_port);
	*port_out = port;
	return fd;
}

static void fwd_free(struct ssh_forward *f)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (f->notify[i] >= 0)
			close(f->notify[i]);
		if (f->ctl[i] >= 0)
			close(f->ctl[i]);
	}
	if (f->lfd >= 0)
		close(f->lfd);
	fwd_target_free(&f->target);
	fwd_target_free(&f->jump);
	free(f->remote_host);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int ssh_forward_start(const struct ssh_forward_opts *o, struct ssh_forward **out, int *notify_fd,
                      struct ssh_error *err)
{
	struct ssh_forward *f;
	sigset_t all, old;
	int rc;

	*out = NULL;
	if (notify_fd != NULL)
		*notify_fd = -1;
	ssh_error_set(err, SSH_OK, "%s", "");
	if (o == NULL || o->target == NULL || o->target->host == NULL) {
		ssh_error_set(err, SSH_ERR_LOCAL, "forward: no target host");
		return -1;
	}
	if (o->remote_port < 1 || o->remote_port > 65535 || o->local_port < 0 ||
	    o->local_port > 65535) {
		ssh_error_set(err, SSH_ERR_LOCAL, "forward: bad port (remote %d, local %d)",
		              o->remote_port, o->local_port);
		return -1;
	}
	f = xcalloc(1, sizeof *f);
	f->notify[0] = f->notify[1] = f->ctl[0] = f->ctl[1] = -1;
	pthread_mutex_init(&f->lock, NULL);
	fwd_target_copy(&f->target, o->target);
	if (o->target->jump != NULL) {
		fwd_target_copy(&f->jump, o->target->jump);
		f->target.jump = &f->jump;
	}
	f->remote_host = xstrdup(o->remote_host != NULL ? o->remote_host : "127.0.0.1");
	f->remote_port = o->remote_port;
	f->owner_only = o->owner_only;
	f->owner_uid = o->owner_uid;
	f->io_ms = o->target->io_timeout_ms > 0 ? o->target->io_timeout_ms : FWD_DEFAULT_IO;
	f->ka_s = o->target->keepalive_s > 0 ? o->target->keepalive_s : FWD_DEFAULT_KA;
	f->lfd = fwd_listen(o->bind_addr != NULL ? o->bind_addr : "127.0.0.1", o->local_port,
	                    &f->info.local_port, err);
	if (f->lfd < 0) {
		fwd_free(f);
		return -1;
	}
	if (pipe2(f->notify, O_NONBLOCK | O_CLOEXEC) < 0 ||
	    pipe2(f->ctl, O_NONBLOCK | O_CLOEXEC) < 0) {
		ssh_error_set(err, SSH_ERR_LOCAL, "forward: pipe: %s", strerror(errno));
		fwd_free(f);
		return -1;
	}
	/* signals stay with the caller's threads */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&f->thread, NULL, fwd_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		ssh_error_set(err, SSH_ERR_LOCAL, "forward: cannot start a thread: %s",
		              strerror(rc));
		fwd_free(f);
		return -1;
	}
	*out = f;
	if (notify_fd != NULL)
		*notify_fd = f->notify[0];
	return 0;
}

void ssh_forward_info(struct ssh_forward *f, struct ssh_forward_info *out)
{
	pthread_mutex_lock(&f->lock);
	*out = f->info;
	pthread_mutex_unlock(&f->lock);
}

void ssh_forward_stop(struct ssh_forward *f)
{
	char c = 1;

	if (f == NULL)
		return;
	if (write(f->ctl[1], &c, 1) < 0) {
		/* the pipe is full: a stop is pending already */
	}
	pthread_join(f->thread, NULL);
	fwd_free(f);
}
