/* serve_logs.c: the logs stream op. After the ok answer the connection carries the job's
 * log bytes, raw, until the log ends (the daemon closes) or the client closes. A client
 * that stops reading is cut off once SERVE_LOGS_MAX bytes wait. */
#include "daemon/serve_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"

#define SERVE_LOGS_MAX (8u * 1024 * 1024)

struct serve_logs {
	struct engine *e;
	struct loop *loop;
	struct engine_logs *lg;
	int fd;
	struct loop_fd *w;
	char *buf;
	size_t len, off, cap;
	int eof;
	int dead; /* the client is gone or too slow: close at the next turn */
};

static void serve_logs_free(struct serve_logs *s)
{
	if (s->w != NULL)
		loop_fd_remove(s->loop, s->w);
	if (s->fd >= 0)
		close(s->fd);
	engine_logs_close(s->e, s->lg);
	free(s->buf);
	free(s);
}

static void serve_logs_events(struct serve_logs *s)
{
	if (s->w != NULL)
		loop_fd_set_events(
		    s->w, (short)(POLLIN | (s->len > s->off || s->eof || s->dead ? POLLOUT : 0)));
}

static void serve_logs_on_data(void *arg, const char *data, size_t len, int eof)
{
	struct serve_logs *s = arg;

	if (len > 0 && !s->dead) {
		if (s->len - s->off + len > SERVE_LOGS_MAX) {
			s->dead = 1;
		} else {
			if (s->off > 0) {
				memmove(s->buf, s->buf + s->off, s->len - s->off);
				s->len -= s->off;
				s->off = 0;
			}
			if (s->len + len > s->cap) {
				s->cap = s->len + len + 65536;
				s->buf = xrealloc(s->buf, s->cap);
			}
			memcpy(s->buf + s->len, data, len);
			s->len += len;
		}
	}
	if (eof)
		s->eof = 1;
	serve_logs_events(s);
}

static void serve_logs_on_io(int fd, short revents, void *arg)
{
	struct serve_logs *s = arg;

	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		char junk[512];
		ssize_t n = recv(fd, junk, sizeof junk, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			s->dead = 1; /* the client closed */
	}
	while (!s->dead && s->off < s->len) {
		ssize_t n = send(fd, s->buf + s->off, s->len - s->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			s->dead = 1;
			break;
		}
		s->off += (size_t)n;
	}
	if (s->off == s->len)
		s->off = s->len = 0;
	if (s->dead || (s->eof && s->len == 0)) {
		serve_logs_free(s);
		return;
	}
	serve_logs_events(s);
}

int serve_op_logs(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	json_t *jid = json_object_get(args, "job_id");
	json_t *jt = json_object_get(args, "tail_bytes");
	struct serve_logs *s;
	struct job j;
	int fd;

	(void)result;
	if (!json_is_string(jid))
		return xcause(cause, "logs: no \"job_id\"");
	job_init(&j);
	if (engine_job(ctx->e, json_string_value(jid), &j, cause) != 0) /* visible only */
		return -1;
	s = xcalloc(1, sizeof *s);
	s->e = ctx->e;
	s->loop = engine_loop(ctx->e);
	s->fd = -1;
	if (engine_logs_open(ctx->e, j.id, json_is_true(json_object_get(args, "follow")),
	                     json_is_integer(jt) ? json_integer_value(jt) : 0, serve_logs_on_data,
	                     s, &s->lg, cause) != 0) {
		job_clear(&j);
		free(s->buf);
		free(s);
		return -1;
	}
	job_clear(&j);
	serve_answer(ctx->client, ctx->id, 0, json_object(), NULL);
	fd = serve_client_take_fd(ctx->client);
	if (fd < 0) {
		s->dead = 1;
		serve_logs_free(s);
		return SERVE_LATER;
	}
	s->fd = fd;
	s->w = loop_fd_add(s->loop, fd, POLLIN, serve_logs_on_io, s);
	serve_logs_events(s);
	return SERVE_LATER;
}
