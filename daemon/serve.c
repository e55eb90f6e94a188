/* serve.c: gantryd's clients on the engine's one loop (daemon/serve.h). Each connection is
 * read in lines of at most GANTRY_WIRE_MAX bytes; each line is one request, run with
 * engine_set_actor(the client's kernel identity) around it. Answers and events go to a
 * per-client output buffer written when the socket can take it: a client that stops reading
 * is dropped once SERVE_OUT_MAX bytes wait, never blocking the daemon. A message that is not
 * JSON, has no id or names no known op gets an error answer and the client stays; a line
 * over GANTRY_WIRE_MAX gets an error answer and that client is dropped. */
#include "daemon/serve_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/engine_remote.h"
#include "core/loop.h"
#include "core/xmalloc.h"

struct serve_closer {
	void (*fn)(void *arg);
	void *arg;
};

struct serve_client {
	struct serve *srv;
	int fd;
	struct loop_fd *w;
	struct ident who;
	int refs;
	int alive;
	int draining; /* answer sent, closing once the output is written */
	int deferred; /* input waits: a request runs the loop (engine_plan) meanwhile */
	char *in;
	size_t inlen, incap;
	char *out;
	size_t outlen, outoff, outcap;
	struct serve_closer *closers;
	size_t ncloser;
	struct serve_client *next;
};

struct serve {
	struct engine *e;
	struct loop *loop;
	int lfd;
	struct loop_fd *lw;
	char *path;
	char *group;
	gid_t gid;
	uid_t service_uid;
	struct serve_client *clients;
	size_t nclients;
	size_t out_max; /* SERVE_OUT_MAX (GANTRYD_TEST_OUT_MAX in tests) */
	int depth;      /* a handler runs: other clients' input waits until it returns */
};

static void serve_client_drop(struct serve_client *c);

size_t serve_nclients(const struct serve *s)
{
	return s->nclients;
}

int serve_is_admin(struct serve *s, struct engine *e, const struct ident *who)
{
	const struct policy *p = engine_policy(e, NULL);

	if (who->uid == 0 || who->uid == s->service_uid)
		return 1;
	return p != NULL && policy_is_admin(p, who);
}

/* --- output --- */

static void serve_client_update_events(struct serve_client *c)
{
	if (c->w == NULL)
		return;
	loop_fd_set_events(c->w, (short)((c->draining || c->deferred ? 0 : POLLIN) |
	                                 (c->outlen > c->outoff ? POLLOUT : 0)));
}

static void serve_client_flush(struct serve_client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			serve_client_drop(c);
			return;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff == c->outlen) {
		c->outoff = c->outlen = 0;
		if (c->draining) {
			serve_client_drop(c);
			return;
		}
	}
	serve_client_update_events(c);
}

/* Queues one line (text without its LF). */
static void serve_client_queue(struct serve_client *c, const char *text, size_t len)
{
	if (!c->alive || c->fd < 0)
		return;
	if (c->outlen - c->outoff + len + 1 > c->srv->out_max) {
		fprintf(stderr, "gantryd: %s (uid %u) does not read its answers: dropped\n",
		        c->who.name, (unsigned)c->who.uid);
		serve_client_drop(c);
		return;
	}
	if (c->outoff > 0 && c->outoff == c->outlen)
		c->outoff = c->outlen = 0;
	if (c->outlen + len + 1 > c->outcap) {
		if (c->outoff > 0) { /* move what is left to the front */
			memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		if (c->outlen + len + 1 > c->outcap) {
			c->outcap = c->outlen + len + 1 + 4096;
			c->out = xrealloc(c->out, c->outcap);
		}
	}
	memcpy(c->out + c->outlen, text, len);
	c->outlen += len;
	c->out[c->outlen++] = '\n';
	serve_client_flush(c);
}

static void serve_client_send_json(struct serve_client *c, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	if (s == NULL) { /* not representable (invalid UTF-8 slipped in): say so */
		json_t *id = json_object_get(o, "id");
		json_t *err = json_pack("{s:O?,s:b,s:s}", "id", id, "ok", 0, "error",
		                        "the answer could not be encoded as JSON");

		s = err != NULL ? json_dumps(err, JSON_COMPACT) : NULL;
		json_decref(err);
		if (s == NULL)
			return;
	}
	if (strlen(s) >= GANTRY_WIRE_ANSWER_MAX) { /* the client would drop the connection */
		json_t *id = json_object_get(o, "id");
		char *why = xprintf("the answer is too long for the wire (%zu bytes, at most %d)",
		                    strlen(s), GANTRY_WIRE_ANSWER_MAX);
		json_t *err = json_pack("{s:O?,s:b,s:s}", "id", id, "ok", 0, "error", why);

		fprintf(stderr, "gantryd: %s (uid %u): %s\n", c->who.name, (unsigned)c->who.uid,
		        why);
		free(why);
		free(s);
		s = err != NULL ? json_dumps(err, JSON_COMPACT) : NULL;
		json_decref(err);
		if (s == NULL)
			return;
	}
	serve_client_queue(c, s, strlen(s));
	free(s);
}

void serve_answer(struct serve_client *c, int64_t id, int rc, json_t *result, const char *cause)
{
	json_t *o;

	if (c == NULL || !c->alive) {
		json_decref(result);
		return;
	}
	o = json_object();
	json_object_set_new(o, "id", id > 0 ? json_integer(id) : json_null());
	json_object_set_new(o, "ok", json_boolean(rc == 0));
	if (rc == 0)
		json_object_set_new(o, "result", result != NULL ? result : json_null());
	else {
		json_decref(result);
		json_object_set_new(o, "error", json_string(cause != NULL ? cause : "failed"));
	}
	serve_client_send_json(c, o);
	json_decref(o);
}

void serve_send_event(struct serve_client *c, json_t *ev)
{
	if (c != NULL && c->alive && c->fd >= 0)
		serve_client_send_json(c, ev);
	json_decref(ev);
}

/* --- client lifetime --- */

struct serve_client *serve_client_ref(struct serve_client *c)
{
	c->refs++;
	return c;
}

static void serve_client_free(struct serve_client *c)
{
	ident_clear(&c->who);
	free(c->in);
	free(c->out);
	free(c->closers);
	free(c);
}

void serve_client_unref(struct serve_client *c)
{
	if (c != NULL && --c->refs == 0)
		serve_client_free(c);
}

int serve_client_alive(const struct serve_client *c)
{
	return c != NULL && c->alive;
}

const struct ident *serve_client_ident(const struct serve_client *c)
{
	return &c->who;
}

void serve_client_on_close(struct serve_client *c, void (*fn)(void *arg), void *arg)
{
	c->closers = xreallocarray(c->closers, c->ncloser + 1, sizeof *c->closers);
	c->closers[c->ncloser].fn = fn;
	c->closers[c->ncloser].arg = arg;
	c->ncloser++;
}

static void serve_client_unlink(struct serve_client *c)
{
	struct serve *s = c->srv;

	for (struct serve_client **p = &s->clients; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			s->nclients--;
			break;
		}
}

/* The connection ends (the client closed, misbehaved or the daemon stops): its on_close
 * callbacks run once; the struct lives while references remain. */
static void serve_client_drop(struct serve_client *c)
{
	struct serve *s = c->srv;

	if (!c->alive)
		return;
	c->alive = 0;
	if (c->w != NULL)
		loop_fd_remove(s->loop, c->w);
	c->w = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	serve_client_unlink(c);
	for (size_t i = 0; i < c->ncloser; i++)
		c->closers[i].fn(c->closers[i].arg);
	c->ncloser = 0;
	serve_client_unref(c);
}

int serve_client_take_fd(struct serve_client *c)
{
	int fd = c->fd;
	int fl;

	if (!c->alive || fd < 0)
		return -1;
	/* what is queued (the stream op's ok answer) goes first, synchronously, briefly */
	fl = fcntl(fd, F_GETFL);
	while (c->outoff < c->outlen) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		n = send(fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		c->outoff += (size_t)n;
	}
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl);
	if (c->outoff < c->outlen) { /* could not even take the answer */
		serve_client_drop(c);
		return -1;
	}
	c->outoff = c->outlen = 0;
	if (c->w != NULL)
		loop_fd_remove(c->srv->loop, c->w);
	c->w = NULL;
	c->fd = -1; /* the caller's now; the client is gone for the daemon */
	serve_client_drop(c);
	return fd;
}

/* --- requests --- */

/* Input that waited while a handler ran the loop is read again. */
static void serve_resume(struct serve *s)
{
	for (struct serve_client *c = s->clients; c != NULL; c = c->next)
		if (c->deferred) {
			c->deferred = 0;
			serve_client_update_events(c);
		}
}

static const struct serve_op *serve_find_op(const char *name)
{
	for (const struct serve_op *op = serve_ops; op->name != NULL; op++)
		if (strcmp(op->name, name) == 0)
			return op;
	return NULL;
}

static void serve_request(struct serve_client *c, const char *line, size_t len)
{
	struct serve *s = c->srv;
	json_error_t jerr;
	json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	json_t *jid, *jop, *args, *result = NULL;
	const struct serve_op *op;
	struct serve_ctx ctx;
	struct ident prev;
	char *cause = NULL;
	int64_t id;
	int rc;

	if (msg == NULL || !json_is_object(msg)) {
		char *why = msg == NULL ? xprintf("malformed message: %s (column %d)", jerr.text,
		                                  jerr.column)
		                        : xstrdup("malformed message: not a JSON object");

		serve_answer(c, 0, -1, NULL, why);
		free(why);
		json_decref(msg);
		return;
	}
	jid = json_object_get(msg, "id");
	if (!json_is_integer(jid) || json_integer_value(jid) <= 0) {
		serve_answer(c, 0, -1, NULL, "malformed request: no \"id\" (a positive integer)");
		json_decref(msg);
		return;
	}
	id = json_integer_value(jid);
	jop = json_object_get(msg, "op");
	if (!json_is_string(jop)) {
		serve_answer(c, id, -1, NULL, "malformed request: no \"op\"");
		json_decref(msg);
		return;
	}
	op = serve_find_op(json_string_value(jop));
	if (op == NULL) {
		char *why = xprintf("unknown op '%.64s'", json_string_value(jop));

		serve_answer(c, id, -1, NULL, why);
		free(why);
		json_decref(msg);
		return;
	}
	args = json_object_get(msg, "args");
	if (args != NULL && !json_is_object(args) && !json_is_null(args)) {
		serve_answer(c, id, -1, NULL, "malformed request: \"args\" is not an object");
		json_decref(msg);
		return;
	}
	args = json_is_object(args) ? json_incref(args) : json_object();
	json_decref(msg);
	if ((op->flags & SERVE_OP_ADMIN) && !serve_is_admin(s, s->e, &c->who)) {
		char *why = xprintf("permission denied: %s is for admins only", op->name);

		serve_answer(c, id, -1, NULL, why);
		free(why);
		json_decref(args);
		return;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.srv = s;
	ctx.e = s->e;
	ctx.client = c;
	ctx.who = &c->who;
	ctx.id = id;
	serve_client_ref(c); /* the handler may drop it (a stream op takes the fd) */
	ident_copy(&prev, engine_actor(s->e));
	engine_set_actor(s->e, &c->who);
	s->depth++;
	rc = op->fn(&ctx, args, &result, &cause);
	s->depth--;
	engine_set_actor(s->e, &prev);
	ident_clear(&prev);
	if (s->depth == 0)
		serve_resume(s);
	if (rc != SERVE_LATER)
		serve_answer(c, id, rc == 0 ? 0 : -1, rc == 0 ? result : NULL,
		             cause != NULL ? cause : "failed");
	else
		json_decref(result);
	serve_client_unref(c);
	free(cause);
	json_decref(args);
}

static void serve_client_on_io(int fd, short revents, void *arg)
{
	struct serve_client *c = arg;
	char buf[65536];
	ssize_t n;

	serve_client_ref(c);
	if ((revents & POLLOUT) && c->alive)
		serve_client_flush(c);
	if (c->alive && c->srv->depth > 0 && (revents & (POLLIN | POLLHUP | POLLERR))) {
		/* one request at a time: this one waits until the running handler returns */
		c->deferred = 1;
		serve_client_update_events(c);
		serve_client_unref(c);
		return;
	}
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && c->alive && !c->draining) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
			serve_client_drop(c); /* gone, perhaps mid-request: nothing else changes */
		} else if (n > 0) {
			size_t start = 0;

			if (c->inlen + (size_t)n > c->incap) {
				c->incap = c->inlen + (size_t)n + 4096;
				c->in = xrealloc(c->in, c->incap);
			}
			memcpy(c->in + c->inlen, buf, (size_t)n);
			c->inlen += (size_t)n;
			for (size_t i = c->inlen - (size_t)n;
			     i < c->inlen && c->alive && !c->draining; i++) {
				if (c->in[i] != '\n')
					continue;
				if (i - start > GANTRY_WIRE_MAX)
					break;
				if (i > start)
					serve_request(c, c->in + start, i - start);
				start = i + 1;
			}
			if (c->alive && !c->draining) {
				memmove(c->in, c->in + start, c->inlen - start);
				c->inlen -= start;
				if (c->inlen > GANTRY_WIRE_MAX) {
					char *why =
					    xprintf("message too long (more than %d bytes): "
					            "closing this connection",
					            GANTRY_WIRE_MAX);

					fprintf(stderr, "gantryd: %s (uid %u): %s\n", c->who.name,
					        (unsigned)c->who.uid, why);
					c->inlen = 0;
					serve_answer(c, 0, -1, NULL, why);
					free(why);
					if (c->alive) {
						c->draining = 1;
						serve_client_flush(c);
					}
				}
			}
		}
	}
	serve_client_unref(c);
}

/* --- events --- */

static int serve_client_may_see(struct serve *s, struct serve_client *c, const struct job *j)
{
	int ok;

	engine_set_actor(s->e, &c->who);
	ok = engine_may_see(s->e, j);
	return ok;
}

static void serve_on_event(void *arg, const struct engine_event *ev)
{
	struct serve *s = arg;
	struct ident prev;
	struct job j;
	int have_job = 0;
	json_t *o;

	if (s->clients == NULL)
		return;
	if (ev->type == ENGINE_EV_FORWARDS)
		return; /* forwards belong to the connection that opened them */
	o = engine_json_event(ev);
	if (o == NULL)
		return;
	job_init(&j);
	if (ev->job_id != NULL) {
		/* found as the daemon itself; each client's view is decided below */
		ident_copy(&prev, engine_actor(s->e));
		engine_set_actor(s->e, NULL);
		have_job = engine_job(s->e, ev->job_id, &j, NULL) == 0;
		for (struct serve_client *c = s->clients, *next; c != NULL; c = next) {
			next = c->next;
			if (!c->alive || c->fd < 0)
				continue;
			if (have_job ? serve_client_may_see(s, c, &j)
			             : ev->type == ENGINE_EV_JOBS_CHANGED) /* deleted: a reload */
				serve_client_send_json(c, o);
		}
		engine_set_actor(s->e, &prev);
		ident_clear(&prev);
	} else {
		for (struct serve_client *c = s->clients, *next; c != NULL; c = next) {
			next = c->next;
			if (c->alive && c->fd >= 0)
				serve_client_send_json(c, o);
		}
	}
	job_clear(&j);
	json_decref(o);
}

/* --- the socket --- */

static void serve_on_accept(int fd, short revents, void *arg)
{
	struct serve *s = arg;
	struct serve_client *c;
	struct ident who;
	char *why = NULL;
	int cfd;

	(void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (ident_peer(cfd, &who, &why) != 0) {
		fprintf(stderr, "gantryd: a client without credentials: %s\n", why);
		free(why);
		close(cfd);
		return;
	}
	/* defence in depth beyond the socket's mode: root, us, or the group's members */
	if (who.uid != 0 && who.uid != s->service_uid && !ident_in_group(&who, s->group)) {
		char *line = xprintf("{\"id\":null,\"ok\":false,\"error\":\"permission denied: %s "
		                     "(uid %u) is not in group %s\"}\n",
		                     who.name, (unsigned)who.uid, s->group);
		ssize_t w = send(cfd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);

		(void)w;
		fprintf(stderr, "gantryd: refused %s (uid %u): not in group %s\n", who.name,
		        (unsigned)who.uid, s->group);
		free(line);
		ident_clear(&who);
		close(cfd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->srv = s;
	c->fd = cfd;
	c->who = who;
	c->refs = 1;
	c->alive = 1;
	c->next = s->clients;
	s->clients = c;
	s->nclients++;
	c->w = loop_fd_add(s->loop, cfd, POLLIN, serve_client_on_io, c);
}

/* The socket's directory: ours or root's, not writable by others. Made when missing. */
static int serve_check_dir(const char *path, uid_t svc, char **cause)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct stat st;
	int rc = 0;

	if (slash == NULL || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		rc = xcause(cause, "%s: %s", dir, strerror(errno));
	else if (lstat(dir, &st) != 0)
		rc = xcause(cause, "%s: %s", dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = xcause(cause, "%s: not a directory", dir);
	else if (st.st_uid != svc && st.st_uid != 0)
		rc = xcause(cause, "%s: owned by uid %u, not by the service account or root", dir,
		            (unsigned)st.st_uid);
	else if (st.st_mode & S_IWOTH)
		rc = xcause(cause, "%s: writable by others (mode %03o)", dir,
		            (unsigned)(st.st_mode & 0777));
	else if ((st.st_mode & S_IWGRP) && st.st_gid != 0 && st.st_uid != svc)
		rc = xcause(cause, "%s: writable by its group (mode %03o)", dir,
		            (unsigned)(st.st_mode & 0777));
	free(dir);
	return rc;
}

/* A socket left by a daemon that died: removed only when it is a socket and ours. */
static int serve_unlink_stale(const char *path, uid_t svc, char **cause)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : xcause(cause, "%s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return xcause(cause, "%s exists and is not a socket: not removed", path);
	if (st.st_uid != svc)
		return xcause(cause, "%s is a socket of uid %u, not ours: not removed", path,
		              (unsigned)st.st_uid);
	{ /* another gantryd answers there? */
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int live;

		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
		live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (fd >= 0)
			close(fd);
		if (live)
			return xcause(cause, "%s: another gantryd is running there", path);
	}
	if (unlink(path) != 0)
		return xcause(cause, "%s: %s", path, strerror(errno));
	return 0;
}

int serve_socket_check(const char *path, uid_t service_uid, char **cause)
{
	return serve_check_dir(path, service_uid, cause) != 0 ||
	               serve_unlink_stale(path, service_uid, cause) != 0
	           ? -1
	           : 0;
}

int serve_open(struct engine *e, const struct serve_opts *o, struct serve **out, char **cause)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct group *gr = getgrnam(o->group);
	struct serve *s;
	int fd;

	if (gr == NULL)
		return xcause(cause, "group '%s' does not exist (--group)", o->group);
	if (strlen(o->socket_path) >= sizeof sa.sun_path)
		return xcause(cause, "%s: socket path too long", o->socket_path);
	if (serve_check_dir(o->socket_path, o->service_uid, cause) != 0 ||
	    serve_unlink_stale(o->socket_path, o->service_uid, cause) != 0)
		return -1;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", o->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xcause(cause, "socket: %s", strerror(errno));
	{
		mode_t old = umask(0117); /* never a moment with a wider mode */
		int b = bind(fd, (struct sockaddr *)&sa, sizeof sa);
		int err = errno;

		umask(old);
		if (b != 0) {
			close(fd);
			return xcause(cause, "%s: %s", o->socket_path, strerror(err));
		}
	}
	if (chown(o->socket_path, (uid_t)-1, gr->gr_gid) != 0 || chmod(o->socket_path, 0660) != 0 ||
	    listen(fd, 128) != 0) {
		int err = errno;

		unlink(o->socket_path);
		close(fd);
		return xcause(cause, "%s: %s (group %s)", o->socket_path, strerror(err), o->group);
	}
	s = xcalloc(1, sizeof *s);
	s->e = e;
	s->loop = engine_loop(e);
	s->lfd = fd;
	s->path = xstrdup(o->socket_path);
	s->group = xstrdup(o->group);
	s->gid = gr->gr_gid;
	s->service_uid = o->service_uid;
	s->out_max = SERVE_OUT_MAX;
	{ /* the tests' smaller cap, so a client that does not read is quickly too slow */
		const char *t = getenv("GANTRYD_TEST_OUT_MAX");

		if (t != NULL && atol(t) > 0)
			s->out_max = (size_t)atol(t);
	}
	s->lw = loop_fd_add(s->loop, fd, POLLIN, serve_on_accept, s);
	engine_subscribe(e, serve_on_event, s);
	*out = s;
	return 0;
}

void serve_close(struct serve *s)
{
	if (s == NULL)
		return;
	engine_unsubscribe(s->e, serve_on_event, s);
	while (s->clients != NULL)
		serve_client_drop(s->clients);
	loop_fd_remove(s->loop, s->lw);
	close(s->lfd);
	unlink(s->path);
	free(s->path);
	free(s->group);
	free(s);
}
