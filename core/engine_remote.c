/* engine_remote.c: remote mode (issue 12): the connection to gantryd (engine_remote.h). One
 * socket per engine: requests go out one line each; a synchronous call reads until its own
 * answer, queueing whatever else arrives (events, other answers), which the loop delivers a
 * turn later through a zero timer, so a face's callback never runs inside another call. */
#include "core/engine_remote.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/engine_internal.h"
#include "core/engine_remote_internal.h"
#include "core/xmalloc.h"

/* How long a synchronous call waits for gantryd's answer. */
#define REMOTE_ANSWER_MS 300000

int engine_is_remote(struct engine *e)
{
	return e != NULL && e->remote != NULL;
}

/* `daemon: PATH` in SYSTEM_DIR/client.yaml (a one-setting file), heap or NULL. */
static char *remote_client_yaml(const char *system_dir)
{
	char *path, line[4096], *v = NULL;
	FILE *f;

	if (system_dir == NULL)
		return NULL;
	path = xprintf("%s/client.yaml", system_dir);
	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof line, f) != NULL) {
		char *p = line, *end;

		if (strncmp(p, "daemon:", 7) != 0)
			continue;
		p += 7;
		p += strspn(p, " \t");
		end = p + strcspn(p, "#\r\n");
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end - p >= 2 && (*p == '"' || *p == '\'') && end[-1] == *p) {
			p++;
			end--;
		}
		free(v);
		v = end > p ? xprintf("%.*s", (int)(end - p), p) : NULL;
	}
	fclose(f);
	return v;
}

char *engine_remote_socket(const struct engine_opts *opts, const struct config *c)
{
	const char *s = NULL;
	char *sys = NULL, *out;

	if (opts != NULL && (opts->embedded || opts->serving))
		return NULL;
	if (opts != NULL && opts->daemon_socket != NULL)
		s = opts->daemon_socket;
	if (s == NULL && getenv("GANTRY_DAEMON") != NULL && getenv("GANTRY_DAEMON")[0] != '\0')
		s = getenv("GANTRY_DAEMON");
	if (s == NULL && c != NULL && c->daemon != NULL)
		s = c->daemon;
	if (s == NULL && c != NULL)
		s = sys = remote_client_yaml(c->system_dir);
	if (s == NULL || s[0] == '\0' || strcmp(s, "none") == 0) {
		free(sys);
		return NULL;
	}
	out = xstrdup(s);
	free(sys);
	return out;
}

/* --- the wire --- */

static int remote_connect_fd(const char *path, char **cause)
{
	struct sockaddr_un sa;
	int fd, err;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path)
		return xcause(cause, "gantryd at %s: the socket path is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return xcause(cause, "gantryd at %s: socket: %s", path, strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
		return fd;
	err = errno;
	close(fd);
	if (err == EACCES || err == EPERM) {
		struct stat st;
		struct group *gr = NULL;

		if (stat(path, &st) == 0)
			gr = getgrgid(st.st_gid);
		if (gr != NULL)
			return xcause(cause,
			              "gantryd at %s: permission denied (only members of group %s "
			              "may use it)",
			              path, gr->gr_name);
		return xcause(cause, "gantryd at %s: permission denied", path);
	}
	if (err == ENOENT || err == ECONNREFUSED)
		return xcause(cause, "gantryd at %s is not running", path);
	return xcause(cause, "gantryd at %s: %s", path, strerror(err));
}

static int remote_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd p = {fd, POLLOUT, 0};

			poll(&p, 1, 1000);
			continue;
		}
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* {"id": N, "op": OP, "args": ARGS} LF; args stolen. */
static int remote_write_request(int fd, int64_t id, const char *op, json_t *args)
{
	json_t *m = json_pack("{s:I,s:s,s:o}", "id", (json_int_t)id, "op", op, "args",
	                      args != NULL ? args : json_object());
	char *s;
	int rc;

	if (m == NULL)
		return -1;
	s = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	if (s == NULL)
		return -1;
	if (strlen(s) + 1 > GANTRY_WIRE_MAX) {
		free(s);
		errno = EMSGSIZE;
		return -1;
	}
	rc = remote_write_all(fd, s, strlen(s));
	if (rc == 0)
		rc = remote_write_all(fd, "\n", 1);
	free(s);
	return rc;
}

/* Reads one answer line on a stream connection byte by byte (the stream's bytes follow it
 * and stay in the socket): 0 with *result or -1. */
static int remote_fd_answer(int fd, int64_t id, json_t **result, char **cause)
{
	size_t len = 0, cap = 256;
	char *buf = xmalloc(cap);
	json_t *m, *ok;
	int rc;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;
		char ch;

		if (poll(&p, 1, REMOTE_ANSWER_MS) == 0) {
			free(buf);
			return xcause(cause, "gantryd did not answer");
		}
		n = recv(fd, &ch, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return xcause(cause, "gantryd closed the connection");
		}
		if (ch == '\n')
			break;
		if (len + 1 >= cap) {
			if (cap >= GANTRY_WIRE_ANSWER_MAX) {
				free(buf);
				return xcause(cause, "gantryd's answer is too long");
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		buf[len++] = ch;
	}
	m = json_loadb(buf, len, 0, NULL);
	free(buf);
	if (!json_is_object(m) || json_integer_value(json_object_get(m, "id")) != id) {
		json_decref(m);
		return xcause(cause, "gantryd's answer is malformed");
	}
	ok = json_object_get(m, "ok");
	if (json_is_true(ok)) {
		if (result != NULL)
			*result = json_incref(json_object_get(m, "result"));
		rc = 0;
	} else {
		const char *why = json_string_value(json_object_get(m, "error"));

		rc = xcause(cause, "%s", why != NULL ? why : "gantryd refused the request");
	}
	json_decref(m);
	return rc;
}

/* --- the queue of what arrived while a call waited --- */

static void remote_flush(struct engine *e);
static void remote_refresh_providers(struct engine *e);

static void remote_on_flush_timer(void *arg)
{
	struct engine *e = arg;

	if (e->remote == NULL)
		return;
	e->remote->flush_timer = NULL;
	remote_flush(e);
}

static void remote_enqueue(struct engine_remote *r, json_t *m)
{
	if (r->nq == r->qcap) {
		r->qcap = r->qcap ? r->qcap * 2 : 16;
		r->q = xreallocarray(r->q, r->qcap, sizeof *r->q);
	}
	r->q[r->nq++] = m;
}

static void remote_schedule(struct engine *e)
{
	struct engine_remote *r = e->remote;

	/* messages queued, or read but not parsed yet (a call stops at its answer) */
	if (r->flush_timer == NULL && e->loop != NULL &&
	    (r->nq > 0 || (r->len > 0 && memchr(r->buf, '\n', r->len) != NULL) ||
	     (r->closed && (r->waits != NULL || r->results != NULL))))
		r->flush_timer = loop_timer_add(e->loop, 0, 0, remote_on_flush_timer, e);
}

static void remote_mark_closed(struct engine *e, const char *why)
{
	struct engine_remote *r = e->remote;
	json_t *m;

	if (r->closed)
		return;
	r->closed = 1;
	r->closed_cause = xprintf("gantryd at %s: %s", r->path, why);
	if (r->w != NULL) {
		loop_fd_remove(e->loop, r->w);
		r->w = NULL;
	}
	m = json_pack("{s:s,s:s}", "event", "message", "message", r->closed_cause);
	if (m != NULL)
		remote_enqueue(r, m);
}

/* Reads what is there (waits at most wait_ms for something): 0, 1 when nothing came in
 * wait_ms, or -1 once closed. */
static int remote_read(struct engine *e, int wait_ms)
{
	struct engine_remote *r = e->remote;
	struct pollfd p = {r->fd, POLLIN, 0};
	ssize_t n;

	if (r->closed)
		return -1;
	if (wait_ms != 0 && poll(&p, 1, wait_ms) == 0)
		return 1;
	if (r->cap - r->len < 65536) {
		r->cap = r->len + 65536 * 2;
		r->buf = xrealloc(r->buf, r->cap);
	}
	n = recv(r->fd, r->buf + r->len, r->cap - r->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0) {
		remote_mark_closed(e, n == 0 ? "closed the connection" : "the connection failed");
		return -1;
	}
	r->len += (size_t)n;
	return 0;
}

/* The next whole message in the buffer: 1 with *m, 0 when none is complete. */
static int remote_next(struct engine *e, json_t **m)
{
	struct engine_remote *r = e->remote;

	for (;;) {
		char *nl = r->len > 0 ? memchr(r->buf, '\n', r->len) : NULL;
		size_t line;

		if (nl == NULL) {
			if (r->len > GANTRY_WIRE_ANSWER_MAX)
				remote_mark_closed(e, "a message is too long");
			return 0;
		}
		line = (size_t)(nl - r->buf);
		*m = json_loadb(r->buf, line, 0, NULL);
		memmove(r->buf, nl + 1, r->len - line - 1);
		r->len -= line + 1;
		if (json_is_object(*m))
			return 1;
		json_decref(*m); /* not a message: skipped */
	}
}

static void remote_on_io(int fd, short revents, void *arg)
{
	struct engine *e = arg;
	json_t *m;

	(void)fd;
	(void)revents;
	remote_read(e, 0);
	while (e->remote != NULL && remote_next(e, &m))
		remote_enqueue(e->remote, m);
	remote_flush(e);
}

static void remote_answer_parts(json_t *m, int *rc, json_t **result, const char **cause)
{
	*rc = json_is_true(json_object_get(m, "ok")) ? 0 : -1;
	*result = json_object_get(m, "result");
	*cause = json_string_value(json_object_get(m, "error"));
	if (*rc != 0 && *cause == NULL)
		*cause = "gantryd refused the request";
}

static void remote_dispatch(struct engine *e, json_t *m)
{
	struct engine_remote *r = e->remote;
	const json_t *jid = json_object_get(m, "id");
	const char *name = json_string_value(json_object_get(m, "event"));

	if (json_is_integer(jid) && name == NULL) { /* an answer; events never count as one */
		struct remote_wait **pp = &r->waits, *w;
		int64_t id = json_integer_value(jid);

		while (*pp != NULL && (*pp)->id != id)
			pp = &(*pp)->next;
		if ((w = *pp) == NULL)
			return;
		*pp = w->next;
		{
			int rc;
			json_t *result;
			const char *cause;

			remote_answer_parts(m, &rc, &result, &cause);
			if (w->cb != NULL)
				w->cb(w->arg, rc, result, cause);
		}
		free(w);
	} else if (name != NULL && strcmp(name, "result") == 0) {
		int64_t req = json_integer_value(json_object_get(m, "req"));
		struct remote_result **pp = &r->results, *rs;

		while (*pp != NULL && (*pp)->req != req)
			pp = &(*pp)->next;
		if ((rs = *pp) == NULL)
			return;
		*pp = rs->next;
		{
			const char *job_id = json_string_value(json_object_get(m, "job_id"));
			const char *cause = json_string_value(json_object_get(m, "cause"));
			int rc = json_integer_value(json_object_get(m, "rc")) == 0 ? 0 : -1;

			if (rs->cb != NULL)
				rs->cb(rs->arg, rc, job_id != NULL ? job_id : rs->job_id,
				       rc != 0 && cause == NULL ? "failed" : cause);
		}
		free(rs->job_id);
		free(rs);
	} else if (name != NULL) {
		struct engine_event ev;

		if (engine_json_to_event(m, &ev) != 0)
			return;
		if (ev.type == ENGINE_EV_PROVIDER) /* its health: ask for the list again */
			remote_refresh_providers(e);
		if (e->remote != NULL)
			engine_emit(e, &ev);
	}
}

/* Delivers what is queued; then, once the connection is gone, fails what waits for it. */
static void remote_flush(struct engine *e)
{
	struct engine_remote *r = e->remote;
	json_t *m;

	if (r == NULL || r->flushing)
		return;
	r->flushing = 1;
	while (remote_next(e, &m)) /* what a call read past its answer */
		remote_enqueue(r, m);
	while (e->remote != NULL && r->nq > 0) {
		m = r->q[0];

		memmove(r->q, r->q + 1, (r->nq - 1) * sizeof *r->q);
		r->nq--;
		remote_dispatch(e, m);
		json_decref(m);
	}
	if (e->remote != r)
		return; /* a callback closed the engine's connection: r is gone */
	while (r->closed && r->waits != NULL) {
		struct remote_wait *w = r->waits;

		r->waits = w->next;
		if (w->cb != NULL)
			w->cb(w->arg, -1, NULL, r->closed_cause);
		free(w);
	}
	while (r->closed && r->results != NULL) {
		struct remote_result *rs = r->results;

		r->results = rs->next;
		if (rs->cb != NULL)
			rs->cb(rs->arg, -1, rs->job_id, r->closed_cause);
		free(rs->job_id);
		free(rs);
	}
	r->flushing = 0;
}

/* --- calls --- */

int engine_remote_call_id(struct engine *e, const char *op, json_t *args, json_t **result,
                          int64_t *req_id, char **cause)
{
	struct engine_remote *r = e->remote;
	int64_t id;
	json_t *m;

	if (result != NULL)
		*result = NULL;
	if (r == NULL) {
		json_decref(args);
		return xcause(cause, "%s: not connected to gantryd", op);
	}
	if (r->closed) {
		json_decref(args);
		return xcause(cause, "%s", r->closed_cause);
	}
	id = ++r->next_id;
	if (req_id != NULL)
		*req_id = id;
	if (remote_write_request(r->fd, id, op, args) != 0) {
		if (errno == EMSGSIZE)
			return xcause(cause, "%s: the request is too long", op);
		remote_mark_closed(e, "the connection failed");
		remote_schedule(e);
		return xcause(cause, "%s", r->closed_cause);
	}
	for (;;) {
		while (remote_next(e, &m)) {
			if (json_object_get(m, "event") == NULL &&
			    json_integer_value(json_object_get(m, "id")) == id) {
				int rc;
				json_t *res;
				const char *why;

				remote_answer_parts(m, &rc, &res, &why);
				if (rc == 0 && result != NULL)
					*result = json_incref(res);
				if (rc != 0)
					xcause(cause, "%s", why);
				json_decref(m);
				remote_schedule(e);
				return rc;
			}
			remote_enqueue(r, m);
		}
		switch (remote_read(e, REMOTE_ANSWER_MS)) {
		case 0:
			break;
		case 1:
			remote_schedule(e);
			return xcause(cause, "gantryd at %s did not answer %s", r->path, op);
		default:
			remote_schedule(e);
			return xcause(cause, "%s", r->closed_cause);
		}
	}
}

int engine_remote_call(struct engine *e, const char *op, json_t *args, json_t **result,
                       char **cause)
{
	return engine_remote_call_id(e, op, args, result, NULL, cause);
}

int engine_remote_send(struct engine *e, const char *op, json_t *args, engine_remote_cb cb,
                       void *arg, char **cause)
{
	struct engine_remote *r = e->remote;
	struct remote_wait *w;
	int64_t id;

	if (r == NULL || r->closed) {
		json_decref(args);
		return xcause(cause, "%s",
		              r != NULL ? r->closed_cause : "not connected to gantryd");
	}
	id = ++r->next_id;
	if (remote_write_request(r->fd, id, op, args) != 0) {
		remote_mark_closed(e, "the connection failed");
		remote_schedule(e);
		return xcause(cause, "%s", r->closed_cause);
	}
	w = xcalloc(1, sizeof *w);
	w->id = id;
	w->cb = cb;
	w->arg = arg;
	w->next = r->waits;
	r->waits = w;
	return 0;
}

void engine_remote_expect_result(struct engine *e, int64_t req_id, const char *job_id,
                                 engine_result_cb cb, void *arg)
{
	struct engine_remote *r = e->remote;
	struct remote_result *rs = xcalloc(1, sizeof *rs);

	rs->req = req_id;
	rs->cb = cb;
	rs->arg = arg;
	rs->job_id = job_id != NULL ? xstrdup(job_id) : NULL;
	rs->next = r->results;
	r->results = rs;
	remote_schedule(e); /* the connection may be gone already */
}

int engine_remote_pending(struct engine *e)
{
	struct engine_remote *r = e->remote;
	int n = 0;

	for (struct remote_wait *w = r->waits; w != NULL; w = w->next)
		n++;
	for (struct remote_result *rs = r->results; rs != NULL; rs = rs->next)
		n++;
	return n + (int)r->nq;
}

int engine_remote_connect(struct engine *e, char **cause)
{
	struct engine_remote *r = e->remote;
	int fd;

	if (r == NULL)
		return xcause(cause, "not connected to gantryd");
	fd = remote_connect_fd(r->path, cause);
	if (fd < 0)
		return -1;
	if (remote_write_request(fd, 1, "hello",
	                         json_pack("{s:i}", "version", GANTRY_WIRE_VERSION)) != 0 ||
	    remote_fd_answer(fd, 1, NULL, cause) != 0) {
		if (cause != NULL && *cause == NULL)
			xcause(cause, "gantryd at %s: the connection failed", r->path);
		close(fd);
		return -1;
	}
	return fd;
}

int engine_remote_stream(struct engine *e, const char *op, json_t *args, char **cause)
{
	int fd = engine_remote_connect(e, cause);

	if (fd < 0) {
		json_decref(args);
		return -1;
	}
	if (remote_write_request(fd, 2, op, args) != 0) {
		close(fd);
		return xcause(cause, "gantryd at %s: the connection failed", e->remote->path);
	}
	if (remote_fd_answer(fd, 2, NULL, cause) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* --- open and close --- */

/* The providers as gantryd last listed them (hello, then a "providers" request after each
 * provider event): provs borrows from provjson. */
static void remote_set_providers(struct engine_remote *r, json_t *provs)
{
	json_incref(provs);
	json_decref(r->provjson);
	r->provjson = provs;
	free(r->provs);
	r->nprovs = 0;
	r->provs = xcalloc(json_array_size(provs) + 1, sizeof *r->provs);
	for (size_t i = 0; i < json_array_size(provs); i++)
		if (engine_json_to_provider_info(json_array_get(provs, i), &r->provs[r->nprovs],
		                                 NULL) == 0)
			r->nprovs++;
}

static void remote_refresh_providers(struct engine *e)
{
	json_t *res = NULL;

	if (engine_remote_call(e, "providers", NULL, &res, NULL) == 0 &&
	    json_is_array(json_object_get(res, "providers")))
		remote_set_providers(e->remote, json_object_get(res, "providers"));
	json_decref(res);
}

int engine_remote_open(struct engine *e, char **cause)
{
	char *path = engine_remote_socket(&e->opts, &e->cfg);
	struct engine_remote *r;
	json_t *hello = NULL;
	int fd;

	if (path == NULL)
		return 0;
	fd = remote_connect_fd(path, cause);
	if (fd < 0) {
		free(path);
		return -1;
	}
	r = xcalloc(1, sizeof *r);
	r->path = path;
	r->fd = fd;
	e->remote = r;
	e->loop = loop_new();
	if (engine_remote_call(e, "hello", json_pack("{s:i}", "version", GANTRY_WIRE_VERSION),
	                       &hello, cause) != 0) {
		char *why = cause != NULL ? *cause : NULL;

		if (cause != NULL) {
			*cause = xprintf("gantryd at %s: %s", path, why != NULL ? why : "no hello");
			free(why);
		}
		return -1;
	}
	if (!json_is_object(hello)) {
		json_decref(hello);
		return xcause(cause, "gantryd at %s: its hello is malformed", path);
	}
	r->hello = hello;
	remote_set_providers(r, json_object_get(hello, "providers"));
	if (json_integer_value(json_object_get(hello, "refresh_ms")) > 0)
		e->cfg.refresh_ms = (int)json_integer_value(json_object_get(hello, "refresh_ms"));
	r->w = loop_fd_add(e->loop, fd, POLLIN, remote_on_io, e);
	engine_remote_templates_load(e);
	remote_schedule(e);
	return 1;
}

void engine_remote_close(struct engine *e)
{
	struct engine_remote *r = e->remote;

	if (r == NULL)
		return;
	if (r->w != NULL)
		loop_fd_remove(e->loop, r->w);
	if (r->flush_timer != NULL)
		loop_timer_cancel(e->loop, r->flush_timer);
	close(r->fd);
	for (size_t i = 0; i < r->nq; i++)
		json_decref(r->q[i]);
	free(r->q);
	while (r->waits != NULL) {
		struct remote_wait *w = r->waits;

		r->waits = w->next;
		free(w);
	}
	while (r->results != NULL) {
		struct remote_result *rs = r->results;

		r->results = rs->next;
		free(rs->job_id);
		free(rs);
	}
	json_decref(r->hello);
	json_decref(r->provjson);
	free(r->provs);
	free(r->buf);
	free(r->path);
	free(r->closed_cause);
	free(r);
	e->remote = NULL;
}

/* --- who the daemon says we are --- */

const char *engine_remote_path(struct engine *e)
{
	return e->remote != NULL ? e->remote->path : NULL;
}

const char *engine_remote_hello_str(struct engine *e, const char *key)
{
	if (e->remote == NULL)
		return NULL;
	return json_string_value(json_object_get(e->remote->hello, key));
}

int engine_remote_hello_bool(struct engine *e, const char *key)
{
	if (e->remote == NULL)
		return 0;
	return json_is_true(json_object_get(e->remote->hello, key));
}
