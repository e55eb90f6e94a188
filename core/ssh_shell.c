/* ssh_shell.c: an interactive remote shell on this process's terminal: PTY with TERM and the
 * window size, raw local terminal (always restored), SIGWINCH forwarded, exit status back. */
#include "core/ssh_shell.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/ssh_internal.h"
#include "core/xmalloc.h"

#define SSH_SHELL_BUF 16384

/* The write end of the SIGWINCH self-pipe while a shell runs. */
static volatile int ssh_shell_winch_fd = -1;

static void ssh_shell_on_winch(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if (ssh_shell_winch_fd >= 0 && write(ssh_shell_winch_fd, &c, 1) < 0) {
		/* the pipe is full: a change is already pending */
	}
	errno = saved;
}

struct ssh_shell {
	struct ssh_session *s;
	LIBSSH2_CHANNEL *ch;
	int in_fd, out_fd;
	int winch[2];
	struct sigaction old_winch;
	int winch_installed;
	struct termios saved_tty;
	int tty_raw;
	char in[SSH_SHELL_BUF];
	size_t inlen, inoff;
	int in_eof, eof_sent, resize_pending;
};

static void ssh_shell_size(int in_fd, int out_fd, int *cols, int *rows)
{
	struct winsize ws;

	*cols = 80;
	*rows = 24;
	if ((ioctl(in_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) ||
	    (ioctl(out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0)) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	}
}

/* Writes all of data to fd (blocking writes, EINTR retried); -1 on error. */
static int ssh_shell_write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};

			poll(&p, 1, 1000);
			continue;
		}
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int ssh_shell_lost(struct ssh_shell *sh, int rc, const char *what, struct ssh_error *err)
{
	if (ssh_err_of(rc) == SSH_ERR_CLOSED) {
		sh->s->dead = 1;
		ssh_error_set(err, SSH_ERR_CLOSED, "connection to %s lost", sh->s->host);
		return -1;
	}
	ssh_error_from_session(err, sh->s, what);
	return -1;
}

/* Opens the channel, requests the PTY and starts the shell or command. */
static int ssh_shell_start(struct ssh_shell *sh, const char *remote_cmd, struct ssh_error *err)
{
	struct ssh_session *s = sh->s;
	uint64_t deadline = ssh_now_ms() + (uint64_t)s->io_timeout_ms;
	const char *term = getenv("TERM");
	unsigned char modes[256];
	size_t nmodes = 0;
	struct termios tio;
	int cols, rows, rc;

	if (term == NULL || *term == '\0')
		term = "xterm";
	ssh_shell_size(sh->in_fd, sh->out_fd, &cols, &rows);
	while ((sh->ch = libssh2_channel_open_session(s->raw)) == NULL) {
		rc = libssh2_session_last_errno(s->raw);
		if (rc != LIBSSH2_ERROR_EAGAIN)
			return ssh_shell_lost(sh, rc, "opening a channel", err);
		if (ssh_wait_deadline(s, deadline, err, "opening a channel") < 0) {
			s->dead = 1;
			return -1;
		}
	}
	/* the local terminal's modes (still cooked here), as OpenSSH sends them */
	/* (libssh2 1.10 refuses a request whose TERM and modes pass 256 bytes) */
	if (strlen(term) < 200 && isatty(sh->in_fd) && tcgetattr(sh->in_fd, &tio) == 0)
		nmodes = ssh_tty_modes(&tio, modes, 256 - strlen(term));
	while ((rc = libssh2_channel_request_pty_ex(
	            sh->ch, term, (unsigned int)strlen(term), nmodes > 0 ? (char *)modes : NULL,
	            (unsigned int)nmodes, cols, rows, 0, 0)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait_deadline(s, deadline, err, "requesting a terminal") < 0)
			return -1;
	if (rc != 0)
		return ssh_shell_lost(sh, rc, "requesting a terminal", err);
	for (;;) {
		if (remote_cmd != NULL)
			rc = libssh2_channel_exec(sh->ch, remote_cmd);
		else
			rc = libssh2_channel_shell(sh->ch);
		if (rc != LIBSSH2_ERROR_EAGAIN)
			break;
		if (ssh_wait_deadline(s, deadline, err, "starting the shell") < 0)
			return -1;
	}
	if (rc != 0)
		return ssh_shell_lost(
		    sh, rc, remote_cmd != NULL ? "starting the command" : "starting the shell",
		    err);
	return 0;
}

/* Raw terminal and the SIGWINCH handler; undone by ssh_shell_restore. */
static int ssh_shell_local_setup(struct ssh_shell *sh, struct ssh_error *err)
{
	struct sigaction sa;
	struct termios raw;

	if (pipe2(sh->winch, O_CLOEXEC | O_NONBLOCK) < 0) {
		ssh_error_set(err, SSH_ERR_LOCAL, "pipe: %s", strerror(errno));
		return -1;
	}
	ssh_shell_winch_fd = sh->winch[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ssh_shell_on_winch;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGWINCH, &sa, &sh->old_winch) == 0)
		sh->winch_installed = 1;
	if (isatty(sh->in_fd) && tcgetattr(sh->in_fd, &sh->saved_tty) == 0) {
		raw = sh->saved_tty;
		cfmakeraw(&raw);
		if (tcsetattr(sh->in_fd, TCSADRAIN, &raw) == 0)
			sh->tty_raw = 1;
	}
	return 0;
}

static void ssh_shell_restore(struct ssh_shell *sh)
{
	if (sh->tty_raw)
		tcsetattr(sh->in_fd, TCSADRAIN, &sh->saved_tty);
	sh->tty_raw = 0;
	if (sh->winch_installed)
		sigaction(SIGWINCH, &sh->old_winch, NULL);
	sh->winch_installed = 0;
	ssh_shell_winch_fd = -1;
	if (sh->winch[0] >= 0)
		close(sh->winch[0]);
	if (sh->winch[1] >= 0)
		close(sh->winch[1]);
	sh->winch[0] = sh->winch[1] = -1;
}

/* One pass of moving data: 1 when something moved, 0 when nothing could, -1 on error (err
 * set). */
static int ssh_shell_pump(struct ssh_shell *sh, char *buf, struct ssh_error *err)
{
	static const int streams[2] = {0, SSH_EXTENDED_DATA_STDERR};
	int i, moved = 0, cols, rows, rc;
	ssize_t n;

	if (sh->resize_pending) {
		ssh_shell_size(sh->in_fd, sh->out_fd, &cols, &rows);
		rc = libssh2_channel_request_pty_size(sh->ch, cols, rows);
		if (rc != LIBSSH2_ERROR_EAGAIN)
			sh->resize_pending = 0;
		if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN && ssh_err_of(rc) == SSH_ERR_CLOSED)
			return ssh_shell_lost(sh, rc, "resizing the terminal", err);
	}
	if (sh->inoff < sh->inlen) {
		n = libssh2_channel_write(sh->ch, sh->in + sh->inoff, sh->inlen - sh->inoff);
		if (n > 0) {
			sh->inoff += (size_t)n;
			moved = 1;
			if (sh->inoff == sh->inlen)
				sh->inoff = sh->inlen = 0;
		} else if (n != LIBSSH2_ERROR_EAGAIN) {
			if (ssh_err_of((int)n) == SSH_ERR_CLOSED)
				return ssh_shell_lost(sh, (int)n, "sending input", err);
			sh->inoff = sh->inlen = 0; /* the remote side stopped reading */
		}
	}
	if (sh->in_eof && sh->inlen == 0 && !sh->eof_sent) {
		rc = libssh2_channel_send_eof(sh->ch);
		if (rc != LIBSSH2_ERROR_EAGAIN)
			sh->eof_sent = 1;
	}
	for (i = 0; i < 2; i++) {
		n = libssh2_channel_read_ex(sh->ch, streams[i], buf, SSH_SHELL_BUF);
		if (n > 0) {
			moved = 1;
			if (ssh_shell_write_all(sh->out_fd, buf, (size_t)n) < 0) {
				ssh_error_set(err, SSH_ERR_LOCAL, "writing the output: %s",
				              strerror(errno));
				return -1;
			}
		} else if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
			return ssh_shell_lost(sh, (int)n, "reading the output", err);
		}
	}
	return moved;
}

/* Reads local input and window changes after poll said so. */
static void ssh_shell_local_input(struct ssh_shell *sh, const struct pollfd *p)
{
	char drain[64];
	ssize_t n;

	if (p[2].revents & POLLIN) {
		while (read(sh->winch[0], drain, sizeof drain) > 0)
			;
		sh->resize_pending = 1;
	}
	if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) && sh->inlen == 0 && !sh->in_eof) {
		n = read(sh->in_fd, sh->in, sizeof sh->in);
		if (n > 0)
			sh->inlen = (size_t)n;
		else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			sh->in_eof = 1;
	}
}

/* Relays until the channel reaches EOF. */
static int ssh_shell_loop(struct ssh_shell *sh, struct ssh_error *err)
{
	struct ssh_session *s = sh->s;
	struct pollfd p[3];
	char *buf = xmalloc(SSH_SHELL_BUF);
	int rc = -1, moved, dirs, next, ka;

	for (;;) {
		moved = ssh_shell_pump(sh, buf, err);
		if (moved < 0)
			break;
		if (libssh2_channel_eof(sh->ch)) {
			rc = 0;
			break;
		}
		if (moved || ssh_channel_pending(sh->ch))
			continue;
		next = 0;
		ka = libssh2_keepalive_send(s->raw, &next);
		if (ka < 0 && ka != LIBSSH2_ERROR_EAGAIN) {
			ssh_shell_lost(sh, ka, "sending a keepalive", err);
			break;
		}
		p[0].fd = sh->in_fd;
		p[0].events = !sh->in_eof && sh->inlen == 0 ? POLLIN : 0;
		p[1].fd = s->fd;
		p[1].events = POLLIN;
		dirs = libssh2_session_block_directions(s->raw);
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			p[1].events |= POLLOUT;
		p[2].fd = sh->winch[0];
		p[2].events = POLLIN;
		p[0].revents = p[1].revents = p[2].revents = 0;
		if (poll(p, 3, next > 0 ? next * 1000 : 15000) < 0) {
			if (errno == EINTR)
				continue;
			ssh_error_set(err, SSH_ERR_LOCAL, "poll: %s", strerror(errno));
			break;
		}
		ssh_shell_local_input(sh, p);
	}
	free(buf);
	return rc;
}

/* After EOF: the server's close, then the exit status. */
static int ssh_shell_finish(struct ssh_shell *sh, int *exit_status, struct ssh_error *err)
{
	struct ssh_session *s = sh->s;
	uint64_t deadline = ssh_now_ms() + (uint64_t)s->io_timeout_ms;
	char *sig = NULL;
	size_t siglen = 0;
	int rc;

	while ((rc = libssh2_channel_close(sh->ch)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait_deadline(s, deadline, err, "waiting for the shell to end") < 0)
			return -1;
	if (rc != 0)
		return ssh_shell_lost(sh, rc, "closing the channel", err);
	*exit_status = libssh2_channel_get_exit_status(sh->ch);
	if (libssh2_channel_get_exit_signal(sh->ch, &sig, &siglen, NULL, NULL, NULL, NULL) == 0 &&
	    sig != NULL) {
		*exit_status = -1;
		libssh2_free(s->raw, sig);
	}
	return 0;
}

int ssh_shell_run(struct ssh_session *s, const char *remote_cmd, int in_fd, int out_fd,
                  int *exit_status, struct ssh_error *err)
{
	struct ssh_shell *sh;
	int rc;

	*exit_status = -1;
	if (s->dead) {
		ssh_error_set(err, SSH_ERR_CLOSED, "connection to %s lost", s->host);
		return -1;
	}
	sh = xcalloc(1, sizeof *sh);
	sh->s = s;
	sh->in_fd = in_fd;
	sh->out_fd = out_fd;
	sh->winch[0] = sh->winch[1] = -1;
	ssh_session_reap(s);
	rc = ssh_shell_start(sh, remote_cmd, err);
	if (rc == 0)
		rc = ssh_shell_local_setup(sh, err);
	if (rc == 0)
		rc = ssh_shell_loop(sh, err);
	ssh_shell_restore(sh);
	if (rc == 0)
		rc = ssh_shell_finish(sh, exit_status, err);
	if (sh->ch != NULL)
		ssh_channel_drop(s, sh->ch);
	free(sh);
	return rc;
}
