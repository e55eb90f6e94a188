/* engine_remote_session.c: shells and forwards through gantryd (core/engine_remote_session.h,
 * docs/governance.md "Brokered shells and forwards"). */
#include "core/engine_remote_session.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "core/engine_remote.h"
#include "core/loop.h"
#include "core/session_wire.h"
#include "core/xmalloc.h"

#define REMOTE_SESSION_REQ_ID 1000

/* --- the shell --- */

static int remote_winch_pipe[2] = {-1, -1};

static void remote_on_winch(int signo)
{
	int saved = errno;
	char c = 1;

	(void)signo;
	if (write(remote_winch_pipe[1], &c, 1) < 0) {
		/* full: a resize is pending already */
	}
	errno = saved;
}

static void remote_conn_fail(struct engine_conn_error *err, enum engine_conn_code code,
                             const char *msg)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof *err);
	err->code = code;
	snprintf(err->msg, sizeof err->msg, "%s", msg);
}

/* One line (the answer to the session request) read byte by byte: what follows is frames. */
static int remote_read_answer(int fd, int64_t id, json_t **answer, char **cause)
{
	for (;;) {
		size_t len = 0, cap = 256;
		char *line = xmalloc(cap);
		json_t *o;

		for (;;) {
			char c;
			ssize_t n = read(fd, &c, 1);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				free(line);
				return xcause(cause, "gantryd closed the connection");
			}
			if (c == '\n')
				break;
			if (len + 1 >= cap) {
				if (cap >= GANTRY_WIRE_MAX) {
					free(line);
					return xcause(cause, "gantryd sent an oversized line");
				}
				cap *= 2;
				line = xrealloc(line, cap);
			}
			line[len++] = c;
		}
		o = json_loadb(line, len, 0, NULL);
		free(line);
		if (o == NULL)
			return xcause(cause, "gantryd sent a malformed answer");
		if (json_integer_value(json_object_get(o, "id")) == id) {
			*answer = o;
			return 0;
		}
		json_decref(o); /* an event that came before the answer */
	}
}

static int remote_write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd q = {.fd = fd, .events = POLLOUT};

			poll(&q, 1, 1000);
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The relay: 0 with *status once the EXIT frame came, -1 when the connection broke. Input
 * is read only while the previous frame has gone out, and sent as the socket takes it, so
 * that the daemon's output is always read (neither side waits on the other). */
static int remote_relay(int sock, const struct engine_session_io *io, int tty, int *status)
{
	static struct session_wire_in in;
	static unsigned char payload[SESSION_WIRE_MAX];
	static unsigned char up[3 + SESSION_WIRE_MAX];
	size_t up_off = 0, up_len = 0;
	int in_open = 1, eof_pending = 0;

	in.len = 0;
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	for (;;) {
		int pending = up_off < up_len || eof_pending;
		struct pollfd p[3] = {
		    {.fd = sock, .events = (short)(POLLIN | (pending ? POLLOUT : 0))},
		    {.fd = in_open && !pending ? io->in_fd : -1, .events = POLLIN},
		    {.fd = tty && !pending ? remote_winch_pipe[0] : -1, .events = POLLIN}};
		int r, type;
		size_t len;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[2].revents & POLLIN) {
			char junk[64];
			struct winsize ws;

			while (read(remote_winch_pipe[0], junk, sizeof junk) > 0)
				;
			if (ioctl(io->out_fd, TIOCGWINSZ, &ws) == 0) {
				unsigned char b[4] = {
				    (unsigned char)(ws.ws_row >> 8), (unsigned char)ws.ws_row,
				    (unsigned char)(ws.ws_col >> 8), (unsigned char)ws.ws_col};

				up_off = 0;
				up_len = session_wire_frame(up, SESSION_FRAME_RESIZE, b, sizeof b);
				pending = 1;
			}
		}
		if (!pending && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			unsigned char buf[4096];
			ssize_t n = read(io->in_fd, buf, sizeof buf);

			if (n > 0) {
				up_off = 0;
				up_len = session_wire_frame(up, SESSION_FRAME_DATA, buf, (size_t)n);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_open = 0;
				eof_pending = 1;
			}
		}
		if (up_off < up_len || eof_pending) {
			ssize_t n;

			if (up_off == up_len && eof_pending) {
				up_off = 0;
				up_len = session_wire_frame(up, SESSION_FRAME_EOF, NULL, 0);
				eof_pending = 0;
			}
			n = send(sock, up + up_off, up_len - up_off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				up_off += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -1;
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		r = session_wire_fill(&in, sock);
		if (r <= 0)
			return -1;
		while ((r = session_wire_next(&in, &type, payload, &len)) > 0) {
			if (type == SESSION_FRAME_DATA) {
				if (remote_write_all(io->out_fd, payload, len) != 0)
					return -1;
			} else if (type == SESSION_FRAME_EXIT) {
				*status =
				    (int)((uint32_t)payload[0] << 24 | (uint32_t)payload[1] << 16 |
				          (uint32_t)payload[2] << 8 | payload[3]);
				return 0;
			}
		}
		if (r < 0)
			return -1;
	}
}

int engine_remote_session_run(struct engine *e, const char *job_ref, int worker,
                              const struct engine_session_io *io, int *exit_status,
                              struct engine_conn_error *err, char **cause)
{
	const char *term = getenv("TERM");
	struct winsize ws = {0};
	struct termios saved;
	struct sigaction sa, old_winch, old_pipe;
	int tty = isatty(io->in_fd) && isatty(io->out_fd), sock, rc = -1;
	json_t *req, *answer = NULL;
	char *line;

	*exit_status = -1;
	if (err != NULL)
		memset(err, 0, sizeof *err);
	sock = engine_remote_connect(e, cause);
	if (sock < 0) {
		remote_conn_fail(err, ENGINE_CONN_FAILED, cause != NULL && *cause ? *cause : "");
		return -1;
	}
	if (tty)
		ioctl(io->out_fd, TIOCGWINSZ, &ws);
	req = json_pack("{s:I,s:s,s:{s:s,s:i,s:s?,s:i,s:i,s:s?,s:b}}", "id",
	                (json_int_t)REMOTE_SESSION_REQ_ID, "op", "session", "args", "job", job_ref,
	                "worker", worker, "command", io->command, "rows", (int)ws.ws_row, "cols",
	                (int)ws.ws_col, "term", tty ? term : NULL, "accept_new", io->accept_new);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) & ~O_NONBLOCK);
	if (line == NULL ||
	    remote_write_all(sock, (const unsigned char *)line, strlen(line)) != 0 ||
	    remote_write_all(sock, (const unsigned char *)"\n", 1) != 0) {
		free(line);
		close(sock);
		return xcause(cause, "gantryd closed the connection");
	}
	free(line);
	if (remote_read_answer(sock, REMOTE_SESSION_REQ_ID, &answer, cause) != 0) {
		remote_conn_fail(err, ENGINE_CONN_CLOSED, cause != NULL && *cause ? *cause : "");
		close(sock);
		return -1;
	}
	if (!json_is_true(json_object_get(answer, "ok"))) {
		const char *msg = json_string_value(json_object_get(answer, "error"));

		xcause(cause, "%s", msg != NULL ? msg : "gantryd refused the session");
		json_decref(answer);
		close(sock);
		return -1;
	}
	json_decref(answer);
	/* the terminal is the session's now */
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &old_pipe);
	if (tty) {
		struct termios raw;

		if (pipe2(remote_winch_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
			remote_winch_pipe[0] = remote_winch_pipe[1] = -1;
		sa.sa_handler = remote_on_winch;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGWINCH, &sa, &old_winch);
		tcgetattr(io->in_fd, &saved);
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(io->in_fd, TCSAFLUSH, &raw);
	}
	if (remote_relay(sock, io, tty, exit_status) == 0) {
		rc = 0;
	} else {
		remote_conn_fail(err, ENGINE_CONN_CLOSED, "gantryd closed the session");
		xcause(cause, "gantryd closed the session");
	}
	if (tty) {
		tcsetattr(io->in_fd, TCSAFLUSH, &saved);
		sigaction(SIGWINCH, &old_winch, NULL);
		close(remote_winch_pipe[0]);
		close(remote_winch_pipe[1]);
		remote_winch_pipe[0] = remote_winch_pipe[1] = -1;
	}
	sigaction(SIGPIPE, &old_pipe, NULL);
	close(sock);
	return rc;
}

int engine_remote_shell_info(struct engine *e, const char *job_ref, int worker,
                             struct engine_shell_info *out, char **cause)
{
	struct job j;

	memset(out, 0, sizeof *out);
	job_init(&j);
	if (engine_job(e, job_ref, &j, cause) != 0)
		return -1;
	if (!job_state_active(j.state)) {
		xcause(cause, "job %s has ended (%s): nothing to connect to", j.name,
		       job_state_name(j.state));
		job_clear(&j);
		return -1;
	}
	out->nworkers = 1; /* gantryd knows how many; worker N is asked for by number */
	out->host_name = xprintf("worker %d", worker);
	out->description = xprintf("worker %d of %s through gantryd", worker, j.name);
	job_clear(&j);
	return 0;
}

char *engine_remote_session_command(struct engine *e, const char *job_ref, int worker,
                                    const char *command, char **cause)
{
	(void)e;
	(void)job_ref;
	(void)worker;
	(void)command;
	xcause(cause, "shells go through gantryd: use gantry ssh (there is no key to give)");
	return NULL;
}

/* --- forwards --- */

struct remote_fwd_cb {
	engine_forward_cb cb;
	void *arg;
	int id;
};

static void remote_fwd_report(void *arg)
{
	struct remote_fwd_cb *r = arg;

	r->cb(r->arg, r->id, 0, NULL);
	free(r);
}

static int remote_loopback(const char *a)
{
	return a == NULL || *a == '\0' || strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
	       strcmp(a, "localhost") == 0;
}

int engine_remote_forward_open(struct engine *e, const char *job_ref, int remote_port,
                               int local_port, const char *bind_addr, int accept_new,
                               engine_forward_cb cb, void *arg, int *id, char **cause)
{
	json_t *res = NULL;

	if (!remote_loopback(bind_addr))
		return xcause(cause,
		              "forwards through gantryd listen on 127.0.0.1 only (for you "
		              "alone); --bind %s is not available",
		              bind_addr);
	if (engine_remote_call(e, "forward_open",
	                       json_pack("{s:s,s:i,s:i,s:b}", "ref", job_ref, "remote_port",
	                                 remote_port, "local_port", local_port, "accept_new",
	                                 accept_new),
	                       &res, cause) != 0)
		return -1;
	*id = (int)json_integer_value(json_object_get(res, "id"));
	json_decref(res);
	if (cb != NULL) {
		struct remote_fwd_cb *r = xcalloc(1, sizeof *r);

		r->cb = cb;
		r->arg = arg;
		r->id = *id;
		loop_timer_add(engine_loop(e), 0, 0, remote_fwd_report, r);
	}
	return 0;
}

void engine_remote_forward_close(struct engine *e, int id)
{
	char *cause = NULL;

	if (engine_remote_call(e, "forward_close", json_pack("{s:i}", "id", id), NULL, &cause) != 0)
		free(cause); /* gone already */
}

static char *remote_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? xstrdup(s) : NULL;
}

size_t engine_remote_forwards(struct engine *e, struct engine_forward_info **out)
{
	json_t *res = NULL, *list;
	char *cause = NULL;
	size_t n = 0, i;
	json_t *o;

	*out = xcalloc(1, sizeof **out);
	if (engine_remote_call(e, "forwards", NULL, &res, &cause) != 0) {
		free(cause);
		return 0;
	}
	list = json_object_get(res, "forwards");
	if (json_is_array(list) && json_array_size(list) > 0) {
		free(*out);
		*out = xcalloc(json_array_size(list) + 1, sizeof **out);
		json_array_foreach(list, i, o)
		{
			struct engine_forward_info *f = &(*out)[n++];

			f->id = (int)json_integer_value(json_object_get(o, "id"));
			f->job_id = remote_str(o, "job_id");
			f->job_name = remote_str(o, "job_name");
			f->host_name = remote_str(o, "host_name");
			f->remote_port = (int)json_integer_value(json_object_get(o, "remote_port"));
			f->local_port = (int)json_integer_value(json_object_get(o, "local_port"));
			f->url = remote_str(o, "url");
			f->up = json_is_true(json_object_get(o, "up"));
			f->dead = json_is_true(json_object_get(o, "dead"));
			f->error = remote_str(o, "error");
			f->active = (int)json_integer_value(json_object_get(o, "active"));
			f->connections =
			    (uint64_t)json_integer_value(json_object_get(o, "connections"));
			f->bytes_up = (uint64_t)json_integer_value(json_object_get(o, "bytes_up"));
			f->bytes_down =
			    (uint64_t)json_integer_value(json_object_get(o, "bytes_down"));
			f->refused = (uint64_t)json_integer_value(json_object_get(o, "refused"));
		}
	}
	json_decref(res);
	return n;
}
