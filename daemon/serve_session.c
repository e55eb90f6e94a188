/* serve_session.c: the `session` stream op (issue 12): a shell on a job's worker, brokered by
 * gantryd so that the user never holds the worker's key. The daemon checks that the client
 * may see the job (engine_job as the client), audits "ssh", answers ok and hands the
 * connection to a relay process of its own (a double fork: the daemon's loop never waits on
 * it, and never has to reap it). The relay makes a PTY and runs, with the PTY as controlling
 * terminal, `gantry --embedded ssh JOB_ID -w N [--accept-new-host-key] [-- sh -c CMD]` as the
 * service account (the daemon's home, a minimal environment), then relays between the
 * client's connection and the PTY in frames (core/session_wire.h) until the shell exits; the
 * last frame is its exit status. */
#include "daemon/serve_brokers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/session_wire.h"
#include "core/xmalloc.h"

#define SESSION_ARGV_MAX 16
#define SESSION_ENV_MAX  16

/* What the relay needs, made before the fork (no allocation after it). */
struct session_spawn {
	char *exe;
	char *argv[SESSION_ARGV_MAX];
	char *envp[SESSION_ENV_MAX];
	int master, slave;
};

static void session_spawn_clear(struct session_spawn *sp)
{
	free(sp->exe);
	for (size_t i = 0; i < SESSION_ARGV_MAX && sp->argv[i] != NULL; i++)
		free(sp->argv[i]);
	for (size_t i = 0; i < SESSION_ENV_MAX && sp->envp[i] != NULL; i++)
		free(sp->envp[i]);
	if (sp->master >= 0)
		close(sp->master);
	if (sp->slave >= 0)
		close(sp->slave);
}

/* The gantry binary next to gantryd (the build tree), or in ../bin (sbin -> bin). */
static char *session_gantry_exe(char **cause)
{
	char self[PATH_MAX], *slash, *p;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n <= 0)
		return xcause(cause, "session: cannot find gantryd's own path"), NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return xcause(cause, "session: cannot find gantryd's own path"), NULL;
	*slash = '\0';
	p = xprintf("%s/gantry", self);
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	p = xprintf("%s/../bin/gantry", self);
	if (access(p, X_OK) == 0)
		return p;
	free(p);
	xcause(cause, "session: no gantry program next to gantryd (%s)", self);
	return NULL;
}

/* TERM as the client says, if it looks like a terminal name; else xterm. */
static const char *session_term(const char *t)
{
	if (t == NULL || *t == '\0' || strlen(t) > 64)
		return "xterm";
	for (const char *p = t; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '+'))
			return "xterm";
	return t;
}

/* A directory of no policy, templates or client.yaml for the helper: the daemon has decided
 * who may open the session; the helper only connects (docs/governance.md). */
static char *session_system_dir(struct engine *e)
{
	char *d = xprintf("%s/broker-system", engine_config(e)->state_dir);

	if (mkdir(d, 0700) != 0 && errno != EEXIST) {
		free(d);
		return NULL;
	}
	return d;
}

static int session_spawn_prepare(struct engine *e, const char *job_id, int worker,
                                 const char *command, const char *term, int accept_new,
                                 int may_accept, int rows, int cols, struct session_spawn *sp,
                                 char **cause)
{
	const char *home = getenv("GANTRY_HOME"), *lang = getenv("LANG");
	const char *datadir = getenv("GANTRY_DATADIR");
	struct passwd *pw = getpwuid(getuid());
	struct winsize ws = {.ws_row = (unsigned short)(rows > 0 ? rows : 24),
	                     .ws_col = (unsigned short)(cols > 0 ? cols : 80)};
	size_t a = 0, v = 0;
	char *sysdir;

	memset(sp, 0, sizeof *sp);
	sp->master = sp->slave = -1;
	if (home == NULL || *home == '\0')
		return xcause(cause, "session: gantryd has no GANTRY_HOME");
	sp->exe = session_gantry_exe(cause);
	if (sp->exe == NULL)
		return -1;
	sysdir = session_system_dir(e);
	if (sysdir == NULL) {
		session_spawn_clear(sp);
		return xcause(cause, "session: cannot make the helper's directory");
	}
	sp->argv[a++] = xstrdup("gantry");
	sp->argv[a++] = xstrdup("--embedded");
	sp->argv[a++] = xstrdup("ssh");
	sp->argv[a++] = xstrdup(job_id);
	sp->argv[a++] = xstrdup("-w");
	sp->argv[a++] = xprintf("%d", worker);
	if (accept_new)
		sp->argv[a++] = xstrdup("--accept-new-host-key");
	if (command != NULL) {
		sp->argv[a++] = xstrdup("--");
		sp->argv[a++] = xstrdup("sh");
		sp->argv[a++] = xstrdup("-c");
		sp->argv[a++] = xstrdup(command);
	}
	sp->argv[a] = NULL;
	sp->envp[v++] = xprintf("GANTRY_HOME=%s", home);
	sp->envp[v++] = xprintf("GANTRY_SYSTEM_DIR=%s", sysdir);
	sp->envp[v++] = xstrdup("GANTRY_DAEMON=none");
	sp->envp[v++] = xprintf("TERM=%s", session_term(term));
	sp->envp[v++] = xstrdup("PATH=/usr/local/bin:/usr/bin:/bin");
	sp->envp[v++] = xprintf("HOME=%s", pw != NULL && pw->pw_dir != NULL ? pw->pw_dir : home);
	sp->envp[v++] = xstrdup("SHELL=/bin/sh");
	if (pw != NULL && pw->pw_name != NULL) {
		sp->envp[v++] = xprintf("USER=%s", pw->pw_name);
		sp->envp[v++] = xprintf("LOGNAME=%s", pw->pw_name);
	}
	if (!may_accept) /* no host key question on the PTY either (tui/cli_ssh.c) */
		sp->envp[v++] = xstrdup("GANTRY_ASK_HOST_KEY=no");
	if (datadir != NULL && *datadir == '/' && strlen(datadir) < 4096)
		sp->envp[v++] = xprintf("GANTRY_DATADIR=%s", datadir); /* as gantryd's own */
	if (lang != NULL && strlen(lang) < 64)
		sp->envp[v++] = xprintf("LANG=%s", lang);
	sp->envp[v] = NULL;
	free(sysdir);
	if (openpty(&sp->master, &sp->slave, NULL, NULL, &ws) != 0) {
		int err = errno;

		session_spawn_clear(sp);
		return xcause(cause, "session: openpty: %s", strerror(err));
	}
	fcntl(sp->master, F_SETFD, FD_CLOEXEC);
	return 0;
}

/* --- the relay (after the fork: system calls only) --- */

/* Closes every descriptor from 3 up but the three kept (the daemon's clients, store and
 * listener stay the daemon's only). */
static void session_close_others(int k0, int k1, int k2)
{
	int k[3] = {k0, k1, k2}, from = 3;

	for (int i = 0; i < 3; i++) /* sort */
		for (int m = i + 1; m < 3; m++)
			if (k[m] < k[i]) {
				int t = k[i];

				k[i] = k[m];
				k[m] = t;
			}
	for (int i = 0; i < 3; i++) {
		if (k[i] < from)
			continue;
		if (k[i] > from)
			close_range((unsigned)from, (unsigned)k[i] - 1, 0);
		from = k[i] + 1;
	}
	close_range((unsigned)from, ~0U, 0);
}

static void session_default_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The shell: the PTY as controlling terminal and 0, 1, 2. Never returns. */
static void session_exec(const struct session_spawn *sp)
{
	setsid();
	if (ioctl(sp->slave, TIOCSCTTY, 0) != 0 || dup2(sp->slave, 0) < 0 ||
	    dup2(sp->slave, 1) < 0 || dup2(sp->slave, 2) < 0)
		_exit(255);
	close_range(3, ~0U, 0);
	execve(sp->exe, sp->argv, sp->envp);
	_exit(127);
}

static void session_put_status(int fd, int status)
{
	unsigned char b[4] = {(unsigned char)((uint32_t)status >> 24),
	                      (unsigned char)((uint32_t)status >> 16),
	                      (unsigned char)((uint32_t)status >> 8), (unsigned char)status};

	session_wire_send(fd, SESSION_FRAME_EXIT, b, sizeof b);
}

static int64_t session_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The client's input ended: the PTY gets its EOF character. Not while the helper may still
 * switch the PTY to raw mode (it does once its SSH shell is up): an EOF typed in canonical
 * mode is kept as a NUL byte when the mode changes. So: ^D as data once the PTY is raw (the
 * remote PTY takes it as EOF); VEOF once it stayed canonical for SESSION_EOF_WAIT_MS (a shell
 * on this host, or a channel that keeps it so). 1 once typed. */
#define SESSION_EOF_WAIT_MS 1500
static int session_eof(int master, int64_t since)
{
	struct termios t;
	unsigned char eof = 4;

	if (tcgetattr(master, &t) != 0)
		return 1;
	if (t.c_lflag & ICANON) {
		if (session_now_ms() - since < SESSION_EOF_WAIT_MS)
			return 0;
		if (t.c_cc[VEOF] != 0 && t.c_cc[VEOF] != _POSIX_VDISABLE)
			eof = t.c_cc[VEOF];
	}
	if (write(master, &eof, 1) < 0) {
		/* the shell is gone: the loop ends */
	}
	return 1;
}

/* The relay's buffers: output for the client (frames), input for the shell (one DATA
 * payload at a time: the next frame is taken once it is written). Neither side ever blocks
 * the other: the master is read while the client's buffer has room, the client's
 * connection while the shell's input is written, and both are written as they can take it. */
#define RELAY_OUT_MAX (256 * 1024)
struct session_relay_io {
	unsigned char out[RELAY_OUT_MAX + 3 + SESSION_WIRE_MAX];
	size_t out_off, out_len;
	unsigned char in[SESSION_WIRE_MAX];
	size_t in_off, in_len;
	struct session_wire_in wire;
};

static void session_hangup(pid_t pid)
{
	kill(-pid, SIGHUP);
	kill(pid, SIGHUP);
}

/* Takes the client's frames while the shell's input is written: -1 on a malformed one. */
static int session_take_frames(struct session_relay_io *io, int master, int64_t *eof_since)
{
	unsigned char payload[SESSION_WIRE_MAX];
	size_t len;
	int type, k;

	while (io->in_off == io->in_len &&
	       (k = session_wire_next(&io->wire, &type, payload, &len)) != 0) {
		if (k < 0)
			return -1;
		if (type == SESSION_FRAME_DATA) {
			memcpy(io->in, payload, len);
			io->in_off = 0;
			io->in_len = len;
		} else if (type == SESSION_FRAME_RESIZE) {
			struct winsize ws = {
			    .ws_row = (unsigned short)(payload[0] << 8 | payload[1]),
			    .ws_col = (unsigned short)(payload[2] << 8 | payload[3])};

			ioctl(master, TIOCSWINSZ, &ws);
		} else if (type == SESSION_FRAME_EOF && *eof_since == 0) {
			*eof_since = session_now_ms(); /* typed when the mode settles */
		}
	}
	return 0;
}

/* The relay process: never returns. */
static void session_relay(struct session_spawn *sp, int sock)
{
	static struct session_relay_io io;
	pid_t pid;
	int st = 0, status = -1, client = 1, master_done = 0, exited = 0;
	int64_t eof_since = 0; /* the client's input ended at (ms); -1 once typed */

	session_default_signals();
	signal(SIGPIPE, SIG_IGN);
	pid = fork();
	if (pid == 0)
		session_exec(sp);
	close(sp->slave);
	if (pid < 0) {
		session_put_status(sock, 255);
		_exit(1);
	}
	fcntl(sp->master, F_SETFL, fcntl(sp->master, F_GETFL) | O_NONBLOCK);
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);
	for (;;) {
		int has_out = io.out_off < io.out_len, has_in = io.in_off < io.in_len;
		struct pollfd p[2] = {
		    {.fd = master_done ? -1 : sp->master,
		     .events = (short)((io.out_len - io.out_off < RELAY_OUT_MAX ? POLLIN : 0) |
		                       (has_in && client ? POLLOUT : 0))},
		    {.fd = client ? sock : -1,
		     .events = (short)((!has_in && io.wire.len < sizeof io.wire.buf ? POLLIN : 0) |
		                       (has_out ? POLLOUT : 0))}};

		if (client && !has_in && eof_since > 0 && session_eof(sp->master, eof_since))
			eof_since = -1; /* typed once */
		if (!exited && waitpid(pid, &st, WNOHANG) == pid) {
			exited = 1;
			status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		/* the end: the shell's side is done and its output delivered, or the client is
		 * gone and the shell too */
		if ((master_done && (!client || !has_out)) || (!client && exited))
			break;
		if (poll(p, 2, exited ? 0 : 200) < 0 && errno != EINTR)
			break;
		if (!master_done && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			unsigned char buf[4096];
			ssize_t n = read(sp->master, buf, sizeof buf);

			if (n > 0 && client) {
				if (io.out_off > 0) {
					memmove(io.out, io.out + io.out_off,
					        io.out_len - io.out_off);
					io.out_len -= io.out_off;
					io.out_off = 0;
				}
				io.out_len += session_wire_frame(
				    io.out + io.out_len, SESSION_FRAME_DATA, buf, (size_t)n);
			} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
				master_done = 1; /* EIO: every slave is closed */
			}
		} else if (!master_done && exited && (p[0].events & POLLIN)) {
			master_done = 1; /* the shell is gone and nothing more is buffered */
		}
		if (!master_done && has_in && (p[0].revents & POLLOUT)) {
			ssize_t n = write(sp->master, io.in + io.in_off, io.in_len - io.in_off);

			if (n > 0)
				io.in_off += (size_t)n;
		}
		if (client && (p[1].revents & POLLOUT) && io.out_off < io.out_len) {
			ssize_t n = send(sock, io.out + io.out_off, io.out_len - io.out_off,
			                 MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n > 0)
				io.out_off += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				client = 0;
		}
		if (client && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    session_wire_fill(&io.wire, sock) <= 0)
			client = 0; /* the client left */
		if (client && session_take_frames(&io, sp->master, &eof_since) != 0)
			client = 0; /* it broke the protocol */
		if (!client && !exited) {
			session_hangup(pid);
			io.in_off = io.in_len = 0;
		}
	}
	if (!exited) {
		/* hung up: SIGKILL after 5 s for a shell that ignores it */
		int64_t until = session_now_ms() + 5000;

		if (!client)
			session_hangup(pid);
		while (waitpid(pid, &st, WNOHANG) != pid) {
			if (session_now_ms() > until) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				until = INT64_MAX;
			}
			poll(NULL, 0, 50);
		}
		status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	if (client) {
		fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) & ~O_NONBLOCK);
		session_put_status(sock, status);
	}
	_exit(0);
}

/* Hands sock to a relay process; the daemon keeps nothing of it. */
static int session_start(struct session_spawn *sp, int sock, char **cause)
{
	pid_t mid = fork();
	int st;

	if (mid < 0)
		return xcause(cause, "session: fork: %s", strerror(errno));
	if (mid == 0) {
		/* the middle process: the relay is orphaned at once, so the daemon never reaps it
		 */
		session_close_others(sock, sp->master, sp->slave);
		if (fork() == 0) {
			setsid();
			session_relay(sp, sock);
		}
		_exit(0);
	}
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}

int serve_op_session(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	json_t *jjob = json_object_get(args, "job"), *jw = json_object_get(args, "worker");
	json_t *jcmd = json_object_get(args, "command");
	const char *command = json_is_string(jcmd) ? json_string_value(jcmd) : NULL;
	int worker = json_is_integer(jw) ? (int)json_integer_value(jw) : 0;
	int accept_new = json_is_true(json_object_get(args, "accept_new")), may_accept;
	struct session_spawn sp;
	struct job j;
	char *detail;
	int fd;

	(void)result;
	if (!json_is_string(jjob))
		return xcause(cause, "session: no \"job\"");
	if (jw != NULL && (!json_is_integer(jw) || worker < 0 || worker > 4096))
		return xcause(cause, "session: \"worker\" is not a worker number");
	if (jcmd != NULL && !json_is_null(jcmd) &&
	    (command == NULL || strlen(command) > 65536 || *command == '\0'))
		return xcause(cause, "session: \"command\" is not a command line");
	may_accept = serve_is_admin(ctx->srv, ctx->e, ctx->who);
	if (accept_new && !may_accept)
		return xcause(cause, "session: only an administrator of gantryd may accept a new "
		                     "host key for the service");
	job_init(&j);
	if (engine_job(ctx->e, json_string_value(jjob), &j, cause) != 0) /* visible only */
		return -1;
	if (!job_state_active(j.state)) {
		xcause(cause, "job %s has ended (%s): nothing to connect to", j.name,
		       job_state_name(j.state));
		job_clear(&j);
		return -1;
	}
	if (session_spawn_prepare(
	        ctx->e, j.id, worker, command, json_string_value(json_object_get(args, "term")),
	        accept_new, may_accept, (int)json_integer_value(json_object_get(args, "rows")),
	        (int)json_integer_value(json_object_get(args, "cols")), &sp, cause) != 0) {
		job_clear(&j);
		return -1;
	}
	detail = xprintf("{\"worker\": %d, \"command\": %s}", worker,
	                 command != NULL ? "true" : "false");
	engine_audit(ctx->e, "ssh", j.id, "allowed", NULL, detail);
	free(detail);
	job_clear(&j);
	serve_answer(ctx->client, ctx->id, 0, json_object(), NULL);
	fd = serve_client_take_fd(ctx->client);
	if (fd >= 0) {
		char *why = NULL;

		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		if (session_start(&sp, fd, &why) != 0)
			free(why); /* the client sees its connection close */
		close(fd);
	}
	session_spawn_clear(&sp);
	return SERVE_LATER;
}
