/* cli_ssh.c: gantry ssh JOB [-w N] [--print-command] [-- CMD...] — a shell on the job's
 * worker: over SSH (libssh2, strict host keys) for remote workers, the user's shell in the
 * job's directory for local jobs. The TUI runs this command as a child for its `s` key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/template.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

/* Exit status for "could not connect", as OpenSSH's ssh uses. */
#define SSH_CLI_CONNECT_FAILED 255

/* Joins argv into one shell command line, each word quoted. */
static char *cli_ssh_join(int argc, char **argv)
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
static int cli_ssh_ask_accept(void *arg, const struct engine_host_key *k)
{
	char line[32];
	FILE *tty;
	int yes = 0;

	(void)arg;
	/* issue 12: gantryd's session helper for a non-admin: the service's known_hosts is
	 * not the user's to extend (this can only make gantry stricter) */
	if (getenv("GANTRY_ASK_HOST_KEY") != NULL &&
	    strcmp(getenv("GANTRY_ASK_HOST_KEY"), "no") == 0)
		return 0;
	if (!isatty(STDIN_FILENO) || (tty = fopen("/dev/tty", "r+")) == NULL)
		return 0;
	fprintf(tty,
	        "The authenticity of host '%s' (port %d) can't be established.\r\n"
	        "%s key fingerprint is %s.\r\n"
	        "Accept it and record it in %s (yes/no)? ",
	        k->host, k->port, k->keytype, k->fingerprint, k->known_hosts);
	fflush(tty);
	if (fgets(line, sizeof line, tty) != NULL)
		yes = strcmp(line, "yes\n") == 0 || strcmp(line, "y\n") == 0;
	fclose(tty);
	return yes;
}

static int cli_ssh_run(struct cli_ctx *c, int argc, char **argv)
{
	const char *ref = NULL;
	int worker = 0, print = 0, accept_new = 0, rc, status;
	char *cause = NULL, *cmd = NULL;
	struct engine_session_io io;
	struct engine_conn_error err;
	struct job j;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			if (i + 1 < argc)
				cmd = cli_ssh_join(argc - i - 1, argv + i + 1);
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
	if (print) {
		char *line = engine_session_command(c->e, j.id, worker, cmd, &cause);

		if (line == NULL) {
			rc = cli_fail("ssh", CLI_FAILED, "%s", cause);
			goto out;
		}
		puts(line);
		free(line);
		rc = CLI_OK;
		goto out;
	}
	memset(&io, 0, sizeof io);
	io.command = cmd;
	io.in_fd = STDIN_FILENO;
	io.out_fd = STDOUT_FILENO;
	io.accept_new = accept_new;
	io.confirm_host_key = cli_ssh_ask_accept;
	if (engine_session_run(c->e, j.id, worker, &io, &status, &err, &cause) == 0) {
		rc = status >= 0 ? status : CLI_FAILED;
	} else if (err.code == ENGINE_CONN_HOSTKEY_UNKNOWN) {
		cli_fail("ssh", CLI_FAILED,
		         "%s; check the fingerprint %s (%s) with the host's owner, then "
		         "rerun with --accept-new-host-key",
		         err.msg, err.fingerprint, err.keytype);
		rc = SSH_CLI_CONNECT_FAILED;
	} else if (err.code != ENGINE_CONN_OK) {
		cli_fail("ssh", CLI_FAILED, "%s", cause);
		rc = SSH_CLI_CONNECT_FAILED;
	} else {
		rc = cli_fail("ssh", CLI_FAILED, "%s", cause);
	}
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
    .run = cli_ssh_run,
};
