/* ssh.c: SSH sessions: TCP connect, handshake, host key and auth (through ssh_knownhosts.c
 * and ssh_auth.c), waits with deadlines, keepalives, errors and close. libssh2 runs in
 * non-blocking mode; every wait is a poll(2) bounded by a deadline. */
#include "core/ssh.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/ssh_internal.h"
#include "core/xmalloc.h"

#define SSH_DEFAULT_CONNECT_MS 10000
#define SSH_DEFAULT_IO_MS      30000
#define SSH_DEFAULT_KEEPALIVE  15
#define SSH_CLOSE_BUDGET_MS    1000

static pthread_once_t ssh_once = PTHREAD_ONCE_INIT;
static int ssh_init_rc;

static void ssh_init_once(void)
{
	ssh_init_rc = libssh2_init(0) == 0 ? 0 : -1;
}

int ssh_global_init(void)
{
	pthread_once(&ssh_once, ssh_init_once);
	return ssh_init_rc;
}

uint64_t ssh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ssh_left_ms(uint64_t deadline)
{
	uint64_t now = ssh_now_ms();

	if (now >= deadline)
		return 0;
	if (deadline - now > 0x7fffffff)
		return 0x7fffffff;
	return (int)(deadline - now);
}

void ssh_error_set(struct ssh_error *err, enum ssh_err code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	err->code = code;
	err->fingerprint[0] = '\0';
	err->keytype[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
}

enum ssh_err ssh_err_of(int rc)
{
	switch (rc) {
	case LIBSSH2_ERROR_ALLOC:
	case LIBSSH2_ERROR_FILE:
		return SSH_ERR_LOCAL;
	case LIBSSH2_ERROR_TIMEOUT:
		return SSH_ERR_TIMEOUT;
	case LIBSSH2_ERROR_CHANNEL_OUTOFORDER:
	case LIBSSH2_ERROR_CHANNEL_FAILURE:
	case LIBSSH2_ERROR_CHANNEL_REQUEST_DENIED:
	case LIBSSH2_ERROR_CHANNEL_UNKNOWN:
	case LIBSSH2_ERROR_CHANNEL_WINDOW_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_PACKET_EXCEEDED:
	case LIBSSH2_ERROR_CHANNEL_CLOSED:
	case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
	case LIBSSH2_ERROR_REQUEST_DENIED:
	case LIBSSH2_ERROR_INVAL:
	case LIBSSH2_ERROR_BAD_USE:
		return SSH_ERR_CHANNEL;
	default:
		return SSH_ERR_CLOSED;
	}
}

void ssh_error_from_session(struct ssh_error *err, struct ssh_session *s, const char *what)
{
	char *m = NULL;
	int rc = libssh2_session_last_error(s->raw, &m, NULL, 0);
	enum ssh_err code = ssh_err_of(rc);

	if (code == SSH_ERR_CLOSED) {
		s->dead = 1;
		ssh_error_set(err, code, "%s: connection to %s lost (%s: %s)", s->prefix, s->host,
		              what, m != NULL && *m != '\0' ? m : "socket error");
		return;
	}
	ssh_error_set(err, code, "%s: %s: %s (%d)", s->prefix, what,
	              m != NULL && *m != '\0' ? m : "error", rc);
}

int ssh_wait_deadline(struct ssh_session *s, uint64_t deadline, struct ssh_error *err,
                      const char *what)
{
	struct pollfd p = {.fd = s->fd};
	int dirs = libssh2_session_block_directions(s->raw);
	int left, n;

	if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND)
		p.events |= POLLIN;
	if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		p.events |= POLLOUT;
	if (p.events == 0)
		p.events = POLLIN;
	for (;;) {
		left = ssh_left_ms(deadline);
		if (left == 0)
			break;
		n = poll(&p, 1, left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			ssh_error_set(err, SSH_ERR_LOCAL, "%s: poll: %s", s->prefix,
			              strerror(errno));
			return -1;
		}
	}
	ssh_error_set(err, SSH_ERR_TIMEOUT, "%s: timed out %s", s->prefix, what);
	return -1;
}

int ssh_session_wait(struct ssh_session *s, int timeout_ms)
{
	return ssh_wait_deadline(s, ssh_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0),
	                         NULL, "waiting");
}

void *ssh_session_raw(struct ssh_session *s)
{
	return s->raw;
}

int ssh_session_fd(const struct ssh_session *s)
{
	return s->fd;
}

const char *ssh_session_fingerprint(const struct ssh_session *s)
{
	return s->fingerprint;
}

/* "host:port", "[v6]:port" or "name (addr:port)" for messages. */
static char *ssh_prefix(const char *host, const char *addr, int port)
{
	int v6 = addr != NULL && strchr(addr, ':') != NULL;

	if (addr == NULL || strcmp(addr, host) == 0)
		return xprintf(v6 ? "[%s]:%d" : "%s:%d", host, port);
	return xprintf(v6 ? "%s ([%s]:%d)" : "%s (%s:%d)", host, addr, port);
}

/* strerror text with a lower-case first letter ("connection refused"). */
static void ssh_errno_text(int e, char *buf, size_t len)
{
	snprintf(buf, len, "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
}

/* Non-blocking connect to one address, bounded by deadline: fd, or -1 with *e (errno;
 * ETIMEDOUT when the deadline passed). */
static int ssh_tcp_try(const struct addrinfo *ai, uint64_t deadline, int *e)
{
	int fd =
	    socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	struct pollfd p;
	socklen_t sl = sizeof *e;
	int n, left;

	if (fd < 0) {
		*e = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*e = errno;
		close(fd);
		return -1;
	}
	p.fd = fd;
	p.events = POLLOUT;
	for (;;) {
		left = ssh_left_ms(deadline);
		if (left == 0) {
			*e = ETIMEDOUT;
			close(fd);
			return -1;
		}
		n = poll(&p, 1, left);
		if (n > 0)
			break;
		if (n < 0 && errno != EINTR) {
			*e = errno;
			close(fd);
			return -1;
		}
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, e, &sl) < 0)
		*e = errno;
	if (*e != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Resolves and connects s->host:s->port; sets s->fd and s->prefix. */
static int ssh_tcp_connect(struct ssh_session *s, uint64_t deadline, int io_ms,
                           struct ssh_error *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL, *ai;
	char port[16], addr[NI_MAXHOST], text[128];
	int rc, e = 0, one = 1;
	unsigned int uto = (unsigned int)io_ms;

	snprintf(port, sizeof port, "%d", s->port);
	rc = ssh_resolve(s->host, port, &hints, deadline, &res);
	if (rc == SSH_RESOLVE_TIMEOUT) {
		s->prefix = ssh_prefix(s->host, NULL, s->port);
		ssh_error_set(err, SSH_ERR_TIMEOUT,
		              "%s: looking up the name took longer than the connect timeout",
		              s->prefix);
		return -1;
	}
	if (rc != 0) {
		s->prefix = ssh_prefix(s->host, NULL, s->port);
		ssh_error_set(err, SSH_ERR_RESOLVE, "%s: name does not resolve (%s)", s->prefix,
		              gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL, 0,
		                NI_NUMERICHOST) != 0)
			snprintf(addr, sizeof addr, "?");
		free(s->prefix);
		s->prefix = ssh_prefix(s->host, addr, s->port);
		s->fd = ssh_tcp_try(ai, deadline, &e);
		if (s->fd >= 0 || e == ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (s->fd < 0) {
		if (e == ETIMEDOUT) {
			ssh_error_set(err, SSH_ERR_TIMEOUT, "%s: connection timed out", s->prefix);
			return -1;
		}
		ssh_errno_text(e, text, sizeof text);
		ssh_error_set(err, SSH_ERR_CONNECT, "%s: %s", s->prefix, text);
		return -1;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/* unacknowledged data for longer than the io timeout: the peer is gone */
	setsockopt(s->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof uto);
	return 0;
}

/* Handshake, host key, auth and keepalive on s->fd. */
static int ssh_session_start(struct ssh_session *s, const struct ssh_target *t, uint64_t deadline,
                             struct ssh_error *err)
{
	char *user = NULL, *home = NULL;
	int rc;

	s->raw = libssh2_session_init_ex(NULL, NULL, NULL, s);
	if (s->raw == NULL) {
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: cannot create an SSH session", s->prefix);
		return -1;
	}
	libssh2_session_set_blocking(s->raw, 0);
	while ((rc = libssh2_session_handshake(s->raw, s->fd)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait_deadline(s, deadline, err, "during the SSH handshake") < 0)
			return -1;
	if (rc != 0) {
		char *m = NULL;

		libssh2_session_last_error(s->raw, &m, NULL, 0);
		ssh_error_set(err, SSH_ERR_HANDSHAKE, "%s: SSH handshake failed: %s (%d)",
		              s->prefix, m != NULL ? m : "error", rc);
		return -1;
	}
	if (ssh_knownhosts_check(s, t, err) < 0)
		return -1;
	if (t->user == NULL) {
		if (ssh_auth_local_user(&user, &home) < 0) {
			ssh_error_set(err, SSH_ERR_LOCAL, "%s: cannot tell the local user name",
			              s->prefix);
			return -1;
		}
		free(home);
	}
	rc = ssh_auth_run(s, t, t->user != NULL ? t->user : user, deadline, err);
	free(user);
	if (rc < 0)
		return -1;
	libssh2_keepalive_config(s->raw, 1, (unsigned int)s->keepalive_s);
	return 0;
}

int ssh_connect(const struct ssh_target *t, struct ssh_session **out, struct ssh_error *err)
{
	struct ssh_session *s;
	int cto = t->connect_timeout_ms > 0 ? t->connect_timeout_ms : SSH_DEFAULT_CONNECT_MS;
	uint64_t deadline;
	int rc;

	*out = NULL;
	ssh_error_set(err, SSH_OK, "%s", "");
	if (t->host == NULL || *t->host == '\0') {
		ssh_error_set(err, SSH_ERR_LOCAL, "no host given");
		return -1;
	}
	if (t->port < 0 || t->port > 65535) {
		ssh_error_set(err, SSH_ERR_LOCAL, "%s: bad port %d", t->host, t->port);
		return -1;
	}
	if (ssh_global_init() < 0) {
		ssh_error_set(err, SSH_ERR_LOCAL, "libssh2_init failed");
		return -1;
	}
	s = xcalloc(1, sizeof *s);
	s->fd = -1;
	s->relay_fd = -1;
	s->relay_stop[0] = s->relay_stop[1] = -1;
	s->host = xstrdup(t->host);
	s->port = t->port > 0 ? t->port : 22;
	s->io_timeout_ms = t->io_timeout_ms > 0 ? t->io_timeout_ms : SSH_DEFAULT_IO_MS;
	s->keepalive_s = t->keepalive_s > 0 ? t->keepalive_s : SSH_DEFAULT_KEEPALIVE;
	deadline = ssh_now_ms() + (uint64_t)cto;
	if (t->jump != NULL) {
		rc = ssh_jump_open(s, t, deadline, err);
		/* behind a jump host, the inner handshake gets its own connect timeout */
		deadline = ssh_now_ms() + (uint64_t)cto;
	} else {
		rc = ssh_tcp_connect(s, deadline, s->io_timeout_ms, err);
	}
	if (rc == 0)
		rc = ssh_session_start(s, t, deadline, err);
	if (rc < 0) {
		s->dead = 1;
		ssh_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void ssh_channel_drop(struct ssh_session *s, LIBSSH2_CHANNEL *ch)
{
	if (libssh2_channel_free(ch) != LIBSSH2_ERROR_EAGAIN)
		return;
	s->orphans = xreallocarray(s->orphans, s->norphans + 1, sizeof *s->orphans);
	s->orphans[s->norphans++] = ch;
}

int ssh_channel_pending(LIBSSH2_CHANNEL *ch)
{
	unsigned long avail = 0;

	libssh2_channel_window_read_ex(ch, &avail, NULL);
	return avail > 0;
}

void ssh_session_reap(struct ssh_session *s)
{
	size_t i = 0;

	while (i < s->norphans) {
		if (libssh2_channel_free(s->orphans[i]) == LIBSSH2_ERROR_EAGAIN) {
			i++;
			continue;
		}
		s->orphans[i] = s->orphans[--s->norphans];
	}
}

/* Lets libssh2 read what the server sent to an idle session (keepalive replies, the server's
 * own keepalive probes, its close) by opening a channel and dropping it: libssh2 has no
 * public call that only reads. Bounded by the io timeout. */
static int ssh_session_pump(struct ssh_session *s, struct ssh_error *err)
{
	uint64_t deadline = ssh_now_ms() + (uint64_t)s->io_timeout_ms;
	LIBSSH2_CHANNEL *ch;
	int rc;

	while ((ch = libssh2_channel_open_session(s->raw)) == NULL) {
		rc = libssh2_session_last_errno(s->raw);
		if (rc != LIBSSH2_ERROR_EAGAIN) {
			if (ssh_err_of(rc) != SSH_ERR_CLOSED)
				return 0; /* refused, but the server answered */
			s->dead = 1;
			ssh_error_set(err, SSH_ERR_CLOSED, "%s: connection to %s lost", s->prefix,
			              s->host);
			return -1;
		}
		if (ssh_wait_deadline(s, deadline, err, "waiting for an answer to a keepalive") <
		    0) {
			s->dead = 1;
			return -1;
		}
	}
	ssh_channel_drop(s, ch);
	return 0;
}

int ssh_keepalive(struct ssh_session *s, struct ssh_error *err)
{
	int next = 0, rc, e = 0;
	socklen_t sl = sizeof e;
	char c;
	ssize_t n;

	if (s->dead)
		goto lost;
	ssh_session_reap(s);
	rc = libssh2_keepalive_send(s->raw, &next);
	if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN)
		goto lost;
	/* a peer that closed or reset the connection shows on the socket itself */
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 && e != 0)
		goto lost;
	n = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		goto lost;
	if (n > 0)
		return ssh_session_pump(s, err); /* unread data could hide a close behind it */
	return 0;
lost:
	s->dead = 1;
	ssh_error_set(err, SSH_ERR_CLOSED, "%s: connection to %s lost", s->prefix, s->host);
	return -1;
}

void ssh_close(struct ssh_session *s)
{
	uint64_t deadline;
	int rounds = 0;

	if (s == NULL)
		return;
	if (s->raw != NULL) {
		if (s->dead && s->fd >= 0)
			shutdown(s->fd, SHUT_RDWR); /* nothing more is sent or awaited */
		deadline = ssh_now_ms() + SSH_CLOSE_BUDGET_MS;
		if (!s->dead)
			while (libssh2_session_disconnect(s->raw, "closed") ==
			           LIBSSH2_ERROR_EAGAIN &&
			       ssh_wait_deadline(s, deadline, NULL, "") == 0)
				;
		/* session_free closes what channels are left; they may wait for the server: after
		 * the budget, the socket is shut so that every wait ends at once */
		while (libssh2_session_free(s->raw) == LIBSSH2_ERROR_EAGAIN && rounds < 3) {
			if (ssh_wait_deadline(s, deadline, NULL, "") < 0) {
				shutdown(s->fd, SHUT_RDWR);
				deadline = ssh_now_ms() + SSH_CLOSE_BUDGET_MS;
				rounds++;
			}
		}
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	ssh_jump_close(s);
	free(s->orphans);
	free(s->prefix);
	free(s->host);
	free(s);
}
