/* lambda_key.c: Gantry's own ed25519 key for a lambda provider, kept in the provider's state
 * directory (trusted as Gantry's: owned by this user, not writable by others). The key is made
 * once by ssh-keygen (run through posix_spawn, never a shell) in a fresh private directory and
 * linked into place, so the final file is created exclusively and never through a symlink; an
 * existing key must be a regular file of this user with mode 0600 or stricter. Blocking: runs
 * on a worker thread (core/async.h), never on the loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/safefile.h"
#include "core/xmalloc.h"
#include "providers/lambda_key.h"

extern char **environ;

#define LAMBDA_KEY_OUT_MAX 16384

/* Runs argv (argv[0] looked up in PATH) with stdin from /dev/null, stdout into *out (heap,
 * NUL-terminated, at most LAMBDA_KEY_OUT_MAX bytes), stderr too when with_stderr, else to
 * /dev/null. Returns the exit status (0-255), or -1 with cause when it could not run. */
static int lambda_key_run(char *const argv[], int with_stderr, char **out, char **cause)
{
	posix_spawn_file_actions_t fa;
	int pfd[2], status, rc;
	pid_t pid;
	size_t len = 0;
	char *buf = xmalloc(LAMBDA_KEY_OUT_MAX + 1);
	ssize_t r;

	*out = NULL;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		free(buf);
		return xcause(cause, "pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	if (with_stderr)
		posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		free(buf);
		return xcause(cause, "cannot run %s: %s", argv[0], strerror(rc));
	}
	for (;;) {
		r = read(pfd[0], buf + len, LAMBDA_KEY_OUT_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == LAMBDA_KEY_OUT_MAX) {
			char skip[512];

			while (read(pfd[0], skip, sizeof skip) > 0)
				;
			break;
		}
	}
	close(pfd[0]);
	buf[len] = '\0';
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			free(buf);
			return xcause(cause, "waitpid: %s", strerror(errno));
		}
	*out = buf;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 255;
}

/* The first line of s (for messages). */
static char *lambda_key_line(const char *s)
{
	size_t n = strcspn(s, "\r\n");

	if (n > 200)
		n = 200;
	return xstrndup(s, n);
}

static int lambda_key_generate(const char *dir, const char *path, char **cause)
{
	char *tmp = xprintf("%s/.keygen-XXXXXX", dir), *k, *kpub, *out = NULL, *line;
	char *argv[] = {"ssh-keygen", "-q",     "-t", "ed25519", "-N", "",
	                "-C",         "gantry", "-f", NULL,      NULL};
	int rc = -1, st;

	if (mkdtemp(tmp) == NULL) {
		xcause(cause, "%s: cannot create a directory: %s", dir, strerror(errno));
		free(tmp);
		return -1;
	}
	k = xprintf("%s/key", tmp);
	kpub = xprintf("%s/key.pub", tmp);
	argv[9] = k;
	st = lambda_key_run(argv, 1, &out, cause);
	if (st > 0) {
		line = lambda_key_line(out);
		xcause(cause, "ssh-keygen failed (exit %d): %s", st, line);
		free(line);
	} else if (st == 0) {
		/* link() never replaces: a key made meanwhile by another Gantry wins */
		if (link(k, path) == 0 || errno == EEXIST)
			rc = 0;
		else
			xcause(cause, "%s: %s", path, strerror(errno));
	}
	free(out);
	unlink(k);
	unlink(kpub);
	rmdir(tmp);
	free(k);
	free(kpub);
	free(tmp);
	return rc;
}

int lambda_key_ensure(const char *dir, char **key_path, char **public_key, char **cause)
{
	char *path, *out = NULL, *line;
	char *argv[] = {"ssh-keygen", "-y", "-f", NULL, NULL};
	struct stat sb;
	int st;

	*key_path = NULL;
	*public_key = NULL;
	if (safefile_trust_dir(dir, cause) != 0)
		return -1;
	path = xprintf("%s/id_ed25519", dir);
	if (lstat(path, &sb) != 0) {
		if (errno != ENOENT) {
			xcause(cause, "%s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		if (lambda_key_generate(dir, path, cause) != 0) {
			free(path);
			return -1;
		}
	}
	if (safefile_trust_file(path, cause) != 0) {
		free(path);
		return -1;
	}
	if (lstat(path, &sb) != 0 || (sb.st_mode & 077) != 0) {
		xcause(cause, "%s: a private key must have mode 0600 (chmod 600 %s)", path, path);
		free(path);
		return -1;
	}
	argv[3] = path;
	st = lambda_key_run(argv, 0, &out, cause);
	if (st < 0) {
		free(path);
		return -1;
	}
	if (st != 0 || strncmp(out, "ssh-ed25519 ", 12) != 0) {
		line = lambda_key_line(out);
		xcause(cause, "%s: not an ed25519 key ssh-keygen can read (exit %d)%s%s", path, st,
		       *line != '\0' ? ": " : "", line);
		free(line);
		free(out);
		free(path);
		return -1;
	}
	out[strcspn(out, "\r\n")] = '\0';
	*public_key = out;
	*key_path = path;
	return 0;
}
