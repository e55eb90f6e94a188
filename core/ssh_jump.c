/* ssh_jump.c: reaching a host through one jump host: a direct-tcpip channel on the jump
 * session, relayed by a thread to one end of a socketpair whose other end is the inner
 * session's socket. The relay thread owns the jump session until ssh_jump_close joins it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/ssh_internal.h"
#include "core/xmalloc.h"

#define SSH_JUMP_BUF          32768
#define SSH_JUMP_CLOSE_WAIT_S 2

struct ssh_jump_relay {
	struct ssh_session *s; /* the inner session: its jump, jump_chan, relay_fd, relay_stop */
	char up[SSH_JUMP_BUF]; /* inner session -> channel */
	size_t uplen, upoff;
	char down[SSH_JUMP_BUF]; /* channel -> inner session */
	size_t downlen, downoff;
	int inner_eof, chan_eof;
};

/* One pass of copying both ways: 1 when something moved, 0 when nothing could, -1 when the
 * relay is over (either side closed or failed). */
static int ssh_jump_pump(struct ssh_jump_relay *r)
{
	LIBSSH2_CHANNEL *ch = r->s->jump_chan;
	int fd = r->s->relay_fd, moved = 0;
	ssize_t n;

	if (!r->inner_eof && r->uplen == 0) {
		n = recv(fd, r->up, sizeof r->up, 0);
		if (n > 0) {
			r->uplen = (size_t)n;
			r->upoff = 0;
			moved = 1;
		} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
			r->inner_eof = 1;
		}
	}
	if (r->upoff < r->uplen) {
		n = libssh2_channel_write(ch, r->up + r->upoff, r->uplen - r->upoff);
		if (n > 0) {
			r->upoff += (size_t)n;
			moved = 1;
			if (r->upoff == r->uplen)
				r->uplen = r->upoff = 0;
		} else if (n != LIBSSH2_ERROR_EAGAIN) {
			return -1;
		}
	}
	if (r->inner_eof && r->uplen == 0)
		return -1; /* the inner session is closed and everything it sent is out */
	if (!r->chan_eof && r->downlen == 0) {
		n = libssh2_channel_read(ch, r->down, sizeof r->down);
		if (n > 0) {
			r->downlen = (size_t)n;
			r->downoff = 0;
			moved = 1;
		} else if (n == 0 || n == LIBSSH2_ERROR_EAGAIN) {
			if (libssh2_channel_eof(ch))
				r->chan_eof = 1;
		} else {
			return -1;
		}
	}
	if (r->downoff < r->downlen) {
		n = send(fd, r->down + r->downoff, r->downlen - r->downoff, MSG_NOSIGNAL);
		if (n > 0) {
			r->downoff += (size_t)n;
			moved = 1;
			if (r->downoff == r->downlen)
				r->downlen = r->downoff = 0;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return -1;
		}
	}
	if (r->chan_eof && r->downlen == 0)
		return -1; /* the target closed the connection and all of it was handed over */
	return moved;
}

static void *ssh_jump_main(void *arg)
{
	struct ssh_jump_relay *r = arg;
	struct ssh_session *s = r->s, *j = s->jump;
	struct pollfd p[3];
	int rc, dirs, next;

	for (;;) {
		rc = ssh_jump_pump(r);
		if (rc < 0)
			break;
		if (rc > 0)
			continue;
		if (r->downlen == 0 && ssh_channel_pending(s->jump_chan))
			continue;
		next = 0;
		libssh2_keepalive_send(j->raw, &next);
		p[0].fd = s->relay_fd;
		p[0].events = (short)((!r->inner_eof && r->uplen == 0 ? POLLIN : 0) |
		                      (r->downoff < r->downlen ? POLLOUT : 0));
		p[1].fd = j->fd;
		p[1].events = r->downlen == 0 ? POLLIN : 0;
		dirs = libssh2_session_block_directions(j->raw);
		if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
			p[1].events |= POLLIN;
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			p[1].events |= POLLOUT;
		p[2].fd = s->relay_stop[0];
		p[2].events = POLLIN;
		p[0].revents = p[1].revents = p[2].revents = 0;
		if (poll(p, 3, next > 0 ? next * 1000 : 1000) < 0 && errno != EINTR)
			break;
		if (p[2].revents != 0)
			break;
	}
	/* the inner session sees the end of its connection */
	shutdown(s->relay_fd, SHUT_RDWR);
	free(r);
	return NULL;
}

int ssh_jump_open(struct ssh_session *s, const struct ssh_target *t, uint64_t deadline,
                  struct ssh_error *err)
{
	struct ssh_jump_relay *r;
	struct ssh_session *j;
	sigset_t all, old;
	char *m = NULL;
	int sv[2], rc;

	if (ssh_connect(t->jump, &s->jump, err) < 0) {
		if (err != NULL && strlen(err->msg) + 11 < sizeof err->msg) {
			memmove(err->msg + 10, err->msg, strlen(err->msg) + 1);
			memcpy(err->msg, "jump host ", 10);
		}
		s->prefix = xprintf("%s:%d", s->host, s->port);
		return -1;
	}
	j = s->jump;
	s->prefix = xprintf("%s:%d via %s", s->host, s->port, j->prefix);
	while ((s->jump_chan = libssh2_channel_direct_tcpip_ex(j->raw, s->host, s->port,
	                                                       "127.0.0.1", 22)) == NULL) {
		rc = libssh2_session_last_error(j->raw, &m, NULL, 0);
		if (rc != LIBSSH2_ERROR_EAGAIN) {
			ssh_error_set(err,
			              rc == LIBSSH2_ERROR_CHANNEL_FAILURE && m != NULL &&
			                      strstr(m, "connect failed") != NULL
			                  ? SSH_ERR_CONNECT
			                  : ssh_err_of(rc),
			              "%s: the jump host could not open a connection to %s:%d: %s",
			              s->prefix, s->host, s->port, m != NULL ? m : "refused");
			return -1;
		}
		if (ssh_wait_deadline(j, deadline, err, "opening a channel through the jump host") <
		    0) {
			j->dead = 1;
			return -1;
		}
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0 ||
	    (pipe2(s->relay_stop, O_CLOEXEC | O_NONBLOCK) < 0 && (close(sv[0]), close(sv[1]), 1))) {
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: socketpair: %s", s->prefix, strerror(errno));
		return -1;
	}
	s->fd = sv[0];
	s->relay_fd = sv[1];
	r = xcalloc(1, sizeof *r);
	r->s = s;
	/* signals are for the threads that expect them, not the relay */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->relay, NULL, ssh_jump_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		free(r);
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: cannot start the relay thread: %s",
		              s->prefix, strerror(rc));
		return -1;
	}
	s->relay_started = 1;
	return 0;
}

void ssh_jump_close(struct ssh_session *s)
{
	struct timespec until;
	char c = 0;

	if (s->relay_started) {
		/* the inner socket is closed by now: the relay forwards what is left and ends;
		 * a relay stuck on a silent jump host is told to stop */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += SSH_JUMP_CLOSE_WAIT_S;
		if (s->dead || pthread_timedjoin_np(s->relay, NULL, &until) != 0) {
			if (write(s->relay_stop[1], &c, 1) < 0) {
				/* the pipe is empty and open: cannot fail */
			}
			pthread_join(s->relay, NULL);
		}
		s->relay_started = 0;
	}
	/* the channel is freed with the jump session (bounded there) */
	s->jump_chan = NULL;
	if (s->dead && s->jump != NULL)
		s->jump->dead = 1;
	if (s->relay_fd >= 0)
		close(s->relay_fd);
	if (s->relay_stop[0] >= 0)
		close(s->relay_stop[0]);
	if (s->relay_stop[1] >= 0)
		close(s->relay_stop[1]);
	s->relay_fd = s->relay_stop[0] = s->relay_stop[1] = -1;
	ssh_close(s->jump);
	s->jump = NULL;
}
