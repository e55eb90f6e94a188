/* k8s_ws.c: shells into pods through the API server's exec subresource (v4.channel.k8s.io
 * over WebSocket, k8s_ws_conn.c), and the channel object that forwards (k8s_ws_fwd.c) share.
 *
 * A shell runs `/bin/sh -c` with the command, or without one a login shell (bash when the
 * image has it, else sh: images have no passwd entry to read a login shell from), with a
 * TTY (stdin, stdout; the TTY merges stderr). The user's TERM is exported first (exec
 * passes no environment). The local terminal goes raw once the WebSocket is up and is
 * restored before ENDED; the window size goes on channel 4 at the start and on every
 * SIGWINCH; the exit status comes from the channel 3 Status. */
#include "providers/k8s_ws_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/async.h"
#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"

#define K8S_WS_READ 32768

/* The write end of the SIGWINCH self-pipe while a shell runs (one at a time). */
static volatile int k8s_ws_winch_fd = -1;

char *k8s_ws_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *out;

	if (e == NULL)
		xfatal("out of memory (curl_easy_escape)");
	out = xstrdup(e);
	curl_free(e);
	return out;
}

/* A DNS label or subdomain (namespaces, pod and container names). */
static int k8s_ws_name_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.'))
			return 0;
	return 1;
}

static void k8s_ws_emit(struct k8s_channel *ch, const struct provider_channel_event *ev)
{
	if (ch->ended)
		return;
	if (ev->state == PROVIDER_CHANNEL_ENDED)
		ch->ended = 1;
	ch->cb(ch->arg, ev); /* may close ch: nothing touches it after */
}

/* --- the terminal --- */

static void k8s_ws_on_winch_sig(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (k8s_ws_winch_fd >= 0 && write(k8s_ws_winch_fd, &c, 1) < 0) {
		/* full: a change is already pending */
	}
	errno = saved;
}

static void k8s_ws_send_size(struct k8s_channel *ch)
{
	struct winsize wsz;
	int cols = 80, rows = 24;
	char buf[64];

	if ((ioctl(ch->in_fd, TIOCGWINSZ, &wsz) == 0 && wsz.ws_col > 0 && wsz.ws_row > 0) ||
	    (ioctl(ch->out_fd, TIOCGWINSZ, &wsz) == 0 && wsz.ws_col > 0 && wsz.ws_row > 0)) {
		cols = wsz.ws_col;
		rows = wsz.ws_row;
	}
	snprintf(buf, sizeof buf, "{\"Width\":%d,\"Height\":%d}", cols, rows);
	k8s_wsc_send(ch->ws, 4, buf, strlen(buf));
}

static void k8s_ws_on_winch(int fd, short revents, void *arg)
{
	struct k8s_channel *ch = arg;
	char buf[64];

	(void)revents;
	while (read(fd, buf, sizeof buf) > 0) {
	}
	if (ch->ws != NULL)
		k8s_ws_send_size(ch);
}

static void k8s_ws_term_setup(struct k8s_channel *ch)
{
	struct sigaction sa;
	struct termios raw;

	if (pipe2(ch->winch, O_CLOEXEC | O_NONBLOCK) == 0) {
		k8s_ws_winch_fd = ch->winch[1];
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = k8s_ws_on_winch_sig;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = SA_RESTART;
		if (sigaction(SIGWINCH, &sa, &ch->old_winch) == 0)
			ch->winch_installed = 1;
		ch->winch_w = loop_fd_add(ch->l, ch->winch[0], POLLIN, k8s_ws_on_winch, ch);
	}
	if (isatty(ch->in_fd) && tcgetattr(ch->in_fd, &ch->saved_tty) == 0) {
		raw = ch->saved_tty;
		cfmakeraw(&raw);
		if (tcsetattr(ch->in_fd, TCSADRAIN, &raw) == 0)
			ch->tty_raw = 1;
	}
}

static void k8s_ws_term_restore(struct k8s_channel *ch)
{
	if (ch->tty_raw)
		tcsetattr(ch->in_fd, TCSADRAIN, &ch->saved_tty);
	ch->tty_raw = 0;
	if (ch->winch_installed)
		sigaction(SIGWINCH, &ch->old_winch, NULL);
	ch->winch_installed = 0;
	if (ch->winch_w != NULL)
		loop_fd_remove(ch->l, ch->winch_w);
	ch->winch_w = NULL;
	if (k8s_ws_winch_fd == ch->winch[1])
		k8s_ws_winch_fd = -1;
	for (int i = 0; i < 2; i++) {
		if (ch->winch[i] >= 0)
			close(ch->winch[i]);
		ch->winch[i] = -1;
	}
}

/* --- the shell's end --- */

/* The exit status of a channel 3 Status: 0 (Success), N (NonZeroExitCode with an ExitCode
 * cause), or -1 with *cause (another failure: the message). */
static int k8s_ws_exit_status(const char *json, size_t len, char **cause)
{
	json_t *j = json_loadb(json, len, 0, NULL);
	const char *st = json_string_value(json_object_get(j, "status"));
	const char *reason = json_string_value(json_object_get(j, "reason"));
	json_t *causes = json_object_get(json_object_get(j, "details"), "causes");
	const char *msg;
	size_t i;
	json_t *c;
	int rc = -1;

	if (st != NULL && strcmp(st, "Success") == 0) {
		rc = 0;
	} else if (reason != NULL && strcmp(reason, "NonZeroExitCode") == 0) {
		json_array_foreach(causes, i, c)
		{
			const char *r = json_string_value(json_object_get(c, "reason"));
			const char *m = json_string_value(json_object_get(c, "message"));
			char *end = NULL;
			long v;

			if (r == NULL || m == NULL || strcmp(r, "ExitCode") != 0)
				continue;
			v = strtol(m, &end, 10);
			if (end != m && *end == '\0' && v >= 0 && v <= 255)
				rc = (int)v;
		}
		if (rc < 0)
			xcause(cause, "the command failed without an exit code");
	} else {
		msg = json_string_value(json_object_get(j, "message"));
		if (msg != NULL) {
			char *clean = sanitize_text(msg, (size_t)-1, 0);

			if (strlen(clean) > 300)
				strcpy(clean + 297, "...");
			xcause(cause, "exec in the pod failed: %s", clean);
			free(clean);
		} else {
			xcause(cause, "exec in the pod failed: an unreadable status");
		}
	}
	json_decref(j);
	return rc;
}

static void k8s_ws_shell_maybe_end(struct k8s_channel *ch)
{
	struct provider_channel_event ev = {.state = PROVIDER_CHANNEL_ENDED, .exit_status = -1};
	char *cause = NULL;

	if (!ch->ws_done || ch->olen > ch->ooff || ch->ended)
		return;
	k8s_ws_term_restore(ch);
	if (ch->in_w != NULL)
		loop_fd_remove(ch->l, ch->in_w);
	ch->in_w = NULL;
	if (ch->out_w != NULL)
		loop_fd_remove(ch->l, ch->out_w);
	ch->out_w = NULL;
	if (ch->status_json != NULL) {
		ev.exit_status = k8s_ws_exit_status(ch->status_json, ch->status_len, &cause);
		if (ev.exit_status < 0)
			ev.cause = cause;
	} else {
		ev.cause = ch->end_cause != NULL
		               ? ch->end_cause
		               : "the API server closed the shell without a status";
	}
	k8s_ws_emit(ch, &ev);
	free(cause);
}

/* --- output to out_fd --- */

static void k8s_ws_out_flush(struct k8s_channel *ch)
{
	ssize_t n;

	while (ch->ooff < ch->olen) {
		n = write(ch->out_fd, ch->obuf + ch->ooff, ch->olen - ch->ooff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) { /* the terminal went away: drop the output */
			ch->ooff = ch->olen;
			break;
		}
		ch->ooff += (size_t)n;
	}
	if (ch->ooff == ch->olen)
		ch->ooff = ch->olen = 0;
	if (ch->out_w != NULL)
		loop_fd_set_events(ch->out_w, ch->olen > 0 ? POLLOUT : 0);
	if (ch->ws != NULL && !ch->ws_done)
		k8s_wsc_pause(ch->ws, ch->olen - ch->ooff > K8S_WSC_HIGH);
}

static void k8s_ws_on_out(int fd, short revents, void *arg)
{
	struct k8s_channel *ch = arg;

	(void)fd;
	(void)revents;
	k8s_ws_out_flush(ch);
	k8s_ws_shell_maybe_end(ch);
}

static void k8s_ws_out(struct k8s_channel *ch, const uint8_t *data, size_t len)
{
	if (ch->olen + len > ch->ocap) {
		if (ch->ooff > 0) {
			memmove(ch->obuf, ch->obuf + ch->ooff, ch->olen - ch->ooff);
			ch->olen -= ch->ooff;
			ch->ooff = 0;
		}
		if (ch->olen + len > ch->ocap) {
			ch->ocap = (ch->olen + len) * 2;
			ch->obuf = xrealloc(ch->obuf, ch->ocap);
		}
	}
	memcpy(ch->obuf + ch->olen, data, len);
	ch->olen += len;
	k8s_ws_out_flush(ch);
}

/* --- input from in_fd --- */

static void k8s_ws_on_in(int fd, short revents, void *arg)
{
	struct k8s_channel *ch = arg;
	char buf[K8S_WS_READ];
	ssize_t n;

	(void)revents;
	n = read(fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* v4 has no way to close stdin alone: the shell goes on until it exits */
		ch->in_eof = 1;
		loop_fd_set_events(ch->in_w, 0);
		return;
	}
	if (k8s_wsc_send(ch->ws, 0, buf, (size_t)n) != 0)
		return;
	if (k8s_wsc_queued(ch->ws) > K8S_WSC_HIGH) {
		ch->in_paused = 1;
		loop_fd_set_events(ch->in_w, 0);
	}
}

/* --- the exec WebSocket --- */

static void k8s_ws_shell_open(void *arg)
{
	struct k8s_channel *ch = arg;

	k8s_ws_term_setup(ch);
	k8s_ws_send_size(ch);
	ch->in_w = loop_fd_add(ch->l, ch->in_fd, POLLIN, k8s_ws_on_in, ch);
	ch->out_w = loop_fd_add(ch->l, ch->out_fd, 0, k8s_ws_on_out, ch);
}

static void k8s_ws_shell_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct k8s_channel *ch = arg;

	switch (msg[0]) {
	case 1: /* stdout */
	case 2: /* stderr (none with a TTY) */
		k8s_ws_out(ch, msg + 1, len - 1);
		break;
	case 3: /* the Status */
		if (ch->status_len + len - 1 > 65536)
			break;
		ch->status_json = xrealloc(ch->status_json, ch->status_len + len);
		memcpy(ch->status_json + ch->status_len, msg + 1, len - 1);
		ch->status_len += len - 1;
		break;
	default:
		break;
	}
}

static void k8s_ws_shell_drain(void *arg)
{
	struct k8s_channel *ch = arg;

	if (ch->in_paused && !ch->in_eof && ch->in_w != NULL) {
		ch->in_paused = 0;
		loop_fd_set_events(ch->in_w, POLLIN);
	}
}

static void k8s_ws_shell_closed(void *arg, const char *cause)
{
	struct k8s_channel *ch = arg;

	ch->ws_done = 1;
	if (cause != NULL && ch->status_json == NULL)
		ch->end_cause = xstrdup(cause);
	if (ch->in_w != NULL)
		loop_fd_set_events(ch->in_w, 0);
	k8s_ws_shell_maybe_end(ch);
}

static const struct k8s_wsc_ops k8s_ws_shell_ops = {k8s_ws_shell_open, k8s_ws_shell_msg,
                                                    k8s_ws_shell_drain, k8s_ws_shell_closed};

/* "export TERM=...; " with the user's TERM when it is a plain name. */
static char *k8s_ws_term_prefix(void)
{
	const char *t = getenv("TERM");
	size_t n = t != NULL ? strlen(t) : 0;

	if (n == 0 || n > 64 ||
	    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "0123456789._+-") != n)
		t = "xterm";
	return xprintf("TERM=%s; export TERM; ", t);
}

static char *k8s_ws_exec_path(const struct k8s_channel *ch, const char *command)
{
	char *term = k8s_ws_term_prefix();
	char *script, *esc, *cont = NULL, *path;

	if (command != NULL)
		script = xprintf("%s%s", term, command);
	else
		script = xprintf("%sif command -v bash >/dev/null 2>&1; then exec bash -l; fi; "
		                 "exec sh -l",
		                 term);
	esc = k8s_ws_escape(script);
	if (ch->container != NULL) {
		char *c = k8s_ws_escape(ch->container);

		cont = xprintf("&container=%s", c);
		free(c);
	}
	path = xprintf("/api/v1/namespaces/%s/pods/%s/exec?command=%%2Fbin%%2Fsh&command=-c&"
	               "command=%s&stdin=true&stdout=true&stderr=true&tty=true%s",
	               ch->ns, ch->pod, esc, cont != NULL ? cont : "");
	free(cont);
	free(esc);
	free(script);
	free(term);
	return path;
}

/* --- the channel --- */

static void k8s_ws_channel_free(struct k8s_channel *ch)
{
	free((char *)ch->conn.server);
	free(ch->ns);
	free(ch->pod);
	free(ch->container);
	free(ch->obuf);
	free(ch->status_json);
	free(ch->end_cause);
	free(ch);
}

int k8s_ws_channel_open(struct loop *l, const struct k8s_ws_conn *conn, const char *ns,
                        const char *pod, const char *container, enum provider_channel_kind kind,
                        int remote_port, const struct provider_channel_io *io,
                        provider_channel_cb cb, void *arg, struct k8s_channel **out, char **cause)
{
	struct k8s_channel *ch;
	char *path;
	int rc;

	*out = NULL;
	if (!k8s_ws_name_ok(ns) || !k8s_ws_name_ok(pod) ||
	    (container != NULL && !k8s_ws_name_ok(container)))
		return xcause(cause, "bad namespace, pod or container name");
	if (kind == PROVIDER_CHANNEL_FORWARD && (remote_port < 1 || remote_port > 65535))
		return xcause(cause, "bad port %d to forward to", remote_port);
	if (kind == PROVIDER_CHANNEL_SHELL && k8s_ws_winch_fd >= 0)
		return xcause(cause, "a shell into a pod is already open");
	ch = xcalloc(1, sizeof *ch);
	ch->l = l;
	ch->conn = *conn;
	ch->conn.server = xstrdup(conn->server != NULL ? conn->server : "");
	ch->ns = xstrdup(ns);
	ch->pod = xstrdup(pod);
	ch->container = container != NULL ? xstrdup(container) : NULL;
	ch->kind = kind;
	ch->remote_port = remote_port;
	ch->cb = cb;
	ch->arg = arg;
	ch->in_fd = io->in_fd;
	ch->out_fd = io->out_fd;
	ch->winch[0] = ch->winch[1] = -1;
	ch->lfd = -1;
	ch->q = async_queue_new(l, "k8s-ws");
	if (kind == PROVIDER_CHANNEL_SHELL) {
		path = k8s_ws_exec_path(ch, io->command);
		rc = k8s_wsc_open(l, ch->q, &ch->conn, path, "v4.channel.k8s.io", &k8s_ws_shell_ops,
		                  ch, &ch->ws, cause);
		free(path);
	} else {
		rc = k8s_ws_fwd_start(ch, io, cause);
	}
	if (rc != 0) {
		async_queue_free(ch->q);
		k8s_ws_channel_free(ch);
		return -1;
	}
	*out = ch;
	return 0;
}

void k8s_ws_channel_close(struct k8s_channel *ch)
{
	if (ch == NULL)
		return;
	ch->ended = 1;
	if (ch->ev_timer != NULL)
		loop_timer_cancel(ch->l, ch->ev_timer);
	ch->ev_timer = NULL;
	if (ch->kind == PROVIDER_CHANNEL_SHELL) {
		k8s_ws_term_restore(ch);
		if (ch->in_w != NULL)
			loop_fd_remove(ch->l, ch->in_w);
		if (ch->out_w != NULL)
			loop_fd_remove(ch->l, ch->out_w);
		k8s_wsc_free(ch->ws);
		ch->ws = NULL;
	} else {
		k8s_ws_fwd_stop(ch);
	}
	async_queue_free(ch->q); /* a connect in flight gives up at its next progress check */
	k8s_ws_channel_free(ch);
}
