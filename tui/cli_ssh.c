/* cli_ssh.c: gantry ssh JOB [-w N] [--print-command] [-- CMD...] — a shell on the job's
 * worker: over SSH (libssh2, strict host keys) for remote workers, the user's shell in the
 * job's directory for local jobs. The TUI runs this command as a child for its `s` key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/ssh.h"
#include "core/ssh_shell.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

/* Exit status for "could not connect", as OpenSSH's ssh uses. */
#define SSH_CLI_CONNECT_FAILED 255

/* Joins argv into one shell command line, each word quoted. */
static char *ssh_cli_join(int argc, char **argv)
{
	char *s = xstrdup("");

	for (int i = 0; i < argc; i++) {
		char *q = template_shell_quote(argv[i]);
		char *n = xprintf("%s%s%s", s, i > 0 ? " " : "", q);

		free(q);
		free(s);
		s = n;
	}
	return s;
}

/* Asks on the terminal whether to accept an unknown host key, as OpenSSH does. */
static int ssh_cli_ask_accept(const struct ssh_target *t, const struct ssh_error *err)
{
	char line[32];
	FILE *tty = fopen("/dev/tty", "r+");
	int yes = 0;

	if (tty == NULL)
		return 0;
	fprintf(tty,
	        "The authenticity of host '%s' (port %d) can't be established.\r\n"
	        "%s key fingerprint is %s.\r\n"
	        "Accept it and record it in %s (yes/no)? ",
	        t->host, t->port > 0 ? t->port : 22, err->keytype, err->fingerprint,
	        t->known_hosts != NULL ? t->known_hosts : "~/.ssh/known_hosts");
	fflush(tty);
	if (fgets(line, sizeof line, tty) != NULL)
		yes = strcmp(line, "yes\n") == 0 || strcmp(line, "y\n") == 0;
	fclose(tty);
	return yes;
}

/* The user's shell in the job's directory, with the job's environment. */
static int ssh_cli_local(struct engine *e, const struct job *j, const struct provider_shell *ps,
                         const char *cmd)
{
	const char *sh = getenv("SHELL");
	char *mark;
	pid_t pid;
	int st = 0;

	if (sh == NULL || *sh == '\0')
		sh = "/bin/sh";
	mark = engine_session_begin(e, j->id);
	pid = fork();
	if (pid == 0) {
		if (chdir(ps->dir) != 0) {
			fprintf(stderr, "gantry: ssh: %s: %s\n", ps->dir, strerror(errno));
			_exit(SSH_CLI_CONNECT_FAILED);
		}
		for (size_t i = 0; i < ps->env.n; i++)
			setenv(ps->env.keys[i], ps->env.vals[i], 1);
		setenv("GANTRY_JOB_ID", j->id, 1);
		if (cmd != NULL)
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		else
			execl(sh, sh, (char *)NULL);
		fprintf(stderr, "gantry: ssh: %s: %s\n", sh, strerror(errno));
		_exit(127);
	}
	if (pid < 0) {
		engine_session_end(mark);
		return cli_fail("ssh", CLI_FAILED, "fork: %s", strerror(errno));
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	engine_session_end(mark);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int ssh_cli_remote(struct engine *e, const struct job *j, struct provider_shell *ps,
                          const char *cmd, int accept_new)
{
	struct ssh_session *s = NULL;
	struct ssh_error err;
	char *rcmd, *qdir, *mark;
	int status = -1;

	ssh_global_init();
	ps->target.accept_new = accept_new;
	if (ssh_connect(&ps->target, &s, &err) != 0 && err.code == SSH_ERR_HOSTKEY_UNKNOWN &&
	    isatty(STDIN_FILENO) && ssh_cli_ask_accept(&ps->target, &err)) {
		ps->target.accept_new = 1;
		ssh_connect(&ps->target, &s, &err);
	}
	if (s == NULL) {
		if (err.code == SSH_ERR_HOSTKEY_UNKNOWN)
			cli_fail("ssh", CLI_FAILED,
			         "%s; check the fingerprint %s (%s) with the host's owner, then "
			         "rerun with --accept-new-host-key",
			         err.msg, err.fingerprint, err.keytype);
		else
			cli_fail("ssh", CLI_FAILED, "%s", err.msg);
		return SSH_CLI_CONNECT_FAILED;
	}
	qdir = template_shell_quote(ps->dir);
	rcmd = cmd != NULL ? xprintf("cd %s && %s", qdir, cmd)
	                   : xprintf("cd %s 2>/dev/null; exec \"${SHELL:-/bin/sh}\" -l", qdir);
	free(qdir);
	mark = engine_session_begin(e, j->id);
	if (ssh_shell_run(s, rcmd, STDIN_FILENO, STDOUT_FILENO, &status, &err) != 0) {
		engine_session_end(mark);
		free(rcmd);
		ssh_close(s);
		cli_fail("ssh", CLI_FAILED, "%s", err.msg);
		return SSH_CLI_CONNECT_FAILED;
	}
	engine_session_end(mark);
	free(rcmd);
	ssh_close(s);
	return status >= 0 ? status : CLI_FAILED;
}

static int ssh_run(struct cli_ctx *c, int argc, char **argv)
{
	const char *ref = NULL;
	int worker = 0, print = 0, accept_new = 0, rc;
	char *cause = NULL, *cmd = NULL;
	struct provider_shell ps;
	struct job j;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			if (i + 1 < argc)
				cmd = ssh_cli_join(argc - i - 1, argv + i + 1);
			break;
		} else if ((strcmp(argv[i], "-w") == 0 || strcmp(argv[i], "--worker") == 0) &&
		           i + 1 < argc) {
			char *end;

			worker = (int)strtol(argv[++i], &end, 10);
			if (*end != '\0' || worker < 0)
				return cli_fail("ssh", CLI_USAGE,
				                "-w expects a worker number, got '%s'", argv[i]);
		} else if (strcmp(argv[i], "--print-command") == 0) {
			print = 1;
		} else if (strcmp(argv[i], "--accept-new-host-key") == 0) {
			accept_new = 1;
		} else if (argv[i][0] == '-') {
			return cli_fail("ssh", CLI_USAGE, "unknown option '%s'", argv[i]);
		} else if (ref == NULL) {
			ref = argv[i];
		} else {
			free(cmd);
			return cli_fail("ssh", CLI_USAGE,
			                "expected one job; put a remote command after --");
		}
	}
	if (ref == NULL) {
		free(cmd);
		return cli_fail("ssh", CLI_USAGE, "which job? (see: gantry ls)");
	}
	if (cli_engine(c, 1) == NULL) {
		free(cmd);
		return CLI_ENV;
	}
	job_init(&j);
	if (engine_job(c->e, ref, &j, &cause) != 0) {
		rc = cli_fail("ssh", CLI_NOTFOUND, "%s", cause);
		goto out;
	}
	if (engine_job_shell(c->e, j.id, worker, &ps, &cause) != 0) {
		rc = cli_fail("ssh", CLI_FAILED, "%s", cause);
		goto out;
	}
	if (print) {
		char *qdir = template_shell_quote(ps.dir);
		char *line;

		if (ps.local) {
			line = cmd != NULL ? xprintf("cd %s && %s", qdir, cmd)
			                   : xprintf("cd %s && exec \"${SHELL:-/bin/sh}\"", qdir);
		} else {
			char *rcmd = cmd != NULL
			                 ? xprintf("cd %s && %s", qdir, cmd)
			                 : xprintf("cd %s; exec \"${SHELL:-/bin/sh}\" -l", qdir);

			line = ssh_print_command(&ps.target, rcmd, cmd == NULL);
			free(rcmd);
		}
		puts(line);
		free(line);
		free(qdir);
		rc = CLI_OK;
	} else if (ps.local) {
		rc = ssh_cli_local(c->e, &j, &ps, cmd);
	} else {
		rc = ssh_cli_remote(c->e, &j, &ps, cmd, accept_new);
	}
	provider_shell_clear(&ps);
out:
	free(cause);
	free(cmd);
	job_clear(&j);
	return rc;
}

const struct cli_cmd cli_ssh_cmd = {
    .name = "ssh",
    .usage = "ssh JOB [-w N] [--print-command] [--accept-new-host-key] [-- CMD...]",
    .summary = "open a shell on a job's worker (or run CMD there)",
    .help = "  -w, --worker N          worker N of a multi-node job (default 0)\n"
            "  --print-command         print the equivalent OpenSSH command line and exit\n"
            "  --accept-new-host-key   record an unknown host key (check its fingerprint\n"
            "                          first); a changed key is always refused\n"
            "Exit status: the remote command's, or 255 when the worker cannot be reached.\n"
            "Local jobs get your $SHELL in the job's directory.\n",
    .run = ssh_run,
};
