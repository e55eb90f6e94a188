/* clipboard.c: OSC 52, the terminal escape that sets the clipboard of the terminal the user
 * sits at, also across SSH. Inside tmux an application's OSC 52 is dropped unless tmux's
 * set-clipboard is `on` (the default is `external`), and the DCS passthrough is dropped
 * unless allow-passthrough is on (off by default since tmux 3.3); so inside tmux we hand the
 * text to tmux (`load-buffer -w`), which sends OSC 52 to the outer terminal itself, as its
 * copy mode does. */
#include "tui/clipboard.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/xmalloc.h"

/* Longer texts are not worth a terminal's escape parser (some cap OSC 52 at 8 KiB). */
#define CLIPBOARD_MAX 4096

char *clipboard_osc52(const char *text)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), o = 0;
	char *out = xmalloc(n / 3 * 4 + 16);

	memcpy(out, "\033]52;c;", 7);
	o = 7;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o++] = '\a';
	out[o] = '\0';
	return out;
}

static int clipboard_write(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;

	while (off < n) {
		ssize_t w = write(fd, s + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* Runs tmux with args (NULL-terminated), text on its stdin when text is set, its first line
 * of output into out. Returns tmux's exit status, -1 when it did not run. */
static int clipboard_tmux(const char *const *args, const char *text, char *out, size_t outlen)
{
	int in[2], res[2], st = 0;
	pid_t pid;
	struct sigaction ign, old;

	if (pipe(in) != 0)
		return -1;
	if (pipe(res) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(in[0], STDIN_FILENO);
		dup2(res[1], STDOUT_FILENO);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		close(in[0]);
		close(in[1]);
		close(res[0]);
		close(res[1]);
		execvp("tmux", (char *const *)args);
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	if (pid > 0 && text != NULL)
		clipboard_write(in[1], text);
	close(in[1]);
	if (out != NULL && outlen > 0) {
		size_t got = 0;
		ssize_t r;

		while (got + 1 < outlen && (r = read(res[0], out + got, outlen - 1 - got)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				break;
			got += (size_t)r;
		}
		out[got] = '\0';
		out[strcspn(out, "\n")] = '\0';
	}
	close(res[0]);
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	sigaction(SIGPIPE, &old, NULL);
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 127)
		return -1;
	return WEXITSTATUS(st);
}

int clipboard_copy(int fd, const char *text, const char **how)
{
	const char *term = getenv("TERM"), *off = getenv("GANTRY_NO_CLIPBOARD");
	char *seq;
	int rc;

	if (off != NULL && off[0] != '\0') {
		*how = "clipboard disabled (GANTRY_NO_CLIPBOARD)";
		return -1;
	}
	if (!isatty(fd)) {
		*how = "output is not a terminal";
		return -1;
	}
	if (strlen(text) > CLIPBOARD_MAX) {
		*how = "too long for the clipboard escape";
		return -1;
	}
	if (getenv("TMUX") != NULL && getenv("TMUX")[0] != '\0') {
		static const char *const show[] = {"tmux", "show-options", "-gv", "set-clipboard",
		                                   NULL};
		static const char *const load[] = {"tmux", "load-buffer", "-w", "-", NULL};
		char val[32] = "";

		if (clipboard_tmux(show, NULL, val, sizeof val) == 0 && strcmp(val, "off") == 0) {
			*how = "tmux's set-clipboard is off";
			return -1;
		}
		if (clipboard_tmux(load, text, NULL, 0) == 0) {
			*how = "through tmux";
			return 0;
		}
		/* tmux before 3.2 has no load-buffer -w: its set-clipboard on takes OSC 52 */
	} else if (term == NULL || term[0] == '\0' || strcmp(term, "dumb") == 0 ||
	           strcmp(term, "linux") == 0) {
		*how = "this terminal has no clipboard escape";
		return -1;
	}
	seq = clipboard_osc52(text);
	if (getenv("TMUX") == NULL && getenv("STY") != NULL) {
		/* GNU screen passes a DCS string through to the outer terminal */
		char *wrapped = xprintf("\033P%s\033\\", seq);

		free(seq);
		seq = wrapped;
	}
	rc = clipboard_write(fd, seq);
	free(seq);
	*how = rc == 0 ? "with OSC 52" : "the terminal did not take the escape";
	return rc;
}
