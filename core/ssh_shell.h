/* ssh_shell.h: an interactive shell on a remote host, on this process's terminal.
 * A PTY with the user's TERM and window size, the local terminal in raw mode while the
 * shell runs (restored on every exit path), SIGWINCH forwarded as window-change requests,
 * and the remote exit status returned. The caller (CLI or TUI) has given up the terminal
 * before calling (the TUI runs `gantry ssh` as a child after endwin). */
#ifndef GANTRY_SSH_SHELL_H
#define GANTRY_SSH_SHELL_H

#include <stddef.h>
#include <termios.h>

#include "core/ssh.h"

/* Runs a shell (remote_cmd NULL) or remote_cmd with a PTY over an open session, wired to
 * fds in_fd/out_fd (normally 0 and 1; in_fd's terminal goes raw when it is a tty). Returns
 * 0 with *exit_status (-1 when the server sent none), or -1 with err (dropped connection:
 * SSH_ERR_CLOSED). */
int ssh_shell_run(struct ssh_session *s, const char *remote_cmd, int in_fd, int out_fd,
                  int *exit_status, struct ssh_error *err);

/* Encodes t as SSH terminal modes (RFC 4254 section 8: control characters, the input, local,
 * output and control flags, both speeds, TTY_OP_END) into buf; returns the bytes used (at
 * most cap; 216 hold everything). Entries are in order of use, and those that do not fit
 * are left out whole. */
size_t ssh_tty_modes(const struct termios *t, unsigned char *buf, size_t cap);

#endif
