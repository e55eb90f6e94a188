/* engine_session.c: interactive sessions on a job's worker, behind the engine. The face gives
 * up the terminal and calls engine_session_run; the engine finds the worker (the provider's
 * shell target, in engine_session_target only) and runs the user's shell there: on this host
 * with fork/exec, over SSH (core/ssh_shell.c: PTY, window changes, terminal modes) through the
 * jump host, or through the provider's own channel when it has one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/engine_audit.h"
#include "core/engine_remote.h"
#include "core/engine_remote_session.h"
#include "core/engine_session.h"
#include "core/ssh_shell.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "providers/local.h"

/* Exit status of a local child that could not start, as OpenSSH's ssh uses for "could not
 * connect". */
#define ENGINE_SESSION_START_FAILED 255

int engine_session_job(struct engine *e, const char *job_ref, struct job *j,
                       struct engine_provider **ep, char **cause)
{
	if (engine_job(e, job_ref, j, cause) != 0)
		return -1;
	*ep = engine_find_provider(e, j->provider);
	if (*ep == NULL || (*ep)->p == NULL)
		return xcause(cause, "provider '%s' of job %s is not configured", j->provider,
		              j->name);
	if (j->provider_ref == NULL)
		return xcause(cause, "job %s has no resources yet (%s)", j->name,
		              job_state_name(j->state));
	if (!job_state_active(j->state))
		return xcause(cause, "job %s has ended (%s): nothing to connect to", j->name,
		              job_state_name(j->state));
	return 0;
}

int engine_session_target(struct engine *e, const char *job_id, int worker,
                          struct provider_shell *out, char **cause)
{
	struct engine_provider *ep;
	struct job j;
	int rc = -1;

	memset(out, 0, sizeof *out);
	job_init(&j);
	if (engine_session_job(e, job_id, &j, &ep, cause) != 0)
		goto out;
	if (ep->ops->target == NULL) {
		xcause(cause, "shells and forwards are not supported by provider %s", ep->name);
		goto out;
	}
	/* the provider's asynchronous target op, the loop run until it answers */
	rc = engine_job_target_sync(e, ep, j.provider_ref, worker, out, cause);
out:
	job_clear(&j);
	return rc;
}

void engine_conn_error_from_ssh(struct engine_conn_error *out, const struct ssh_error *err)
{
	memset(out, 0, sizeof *out);
	if (err == NULL)
		return;
	switch (err->code) {
	case SSH_OK:
		out->code = ENGINE_CONN_OK;
		break;
	case SSH_ERR_HOSTKEY_UNKNOWN:
		out->code = ENGINE_CONN_HOSTKEY_UNKNOWN;
		break;
	case SSH_ERR_HOSTKEY_CHANGED:
		out->code = ENGINE_CONN_HOSTKEY_CHANGED;
		break;
	case SSH_ERR_CLOSED:
		out->code = ENGINE_CONN_CLOSED;
		break;
	default:
		out->code = ENGINE_CONN_FAILED;
		break;
	}
	snprintf(out->msg, sizeof out->msg, "%s", err->msg);
	snprintf(out->fingerprint, sizeof out->fingerprint, "%s", err->fingerprint);
	snprintf(out->keytype, sizeof out->keytype, "%s", err->keytype);
}

static void engine_conn_fail(struct engine_conn_error *err, enum engine_conn_code code,
                             const char *msg)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof *err);
	err->code = code;
	snprintf(err->msg, sizeof err->msg, "%s", msg);
}

void engine_shell_info_clear(struct engine_shell_info *s)
{
	free(s->host_name);
	free(s->description);
	memset(s, 0, sizeof *s);
}

int engine_job_shell_info(struct engine *e, const char *job_ref, int worker,
                          struct engine_shell_info *out, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_shell_info(e, job_ref, worker, out, cause);
	struct provider_shell ps;
	struct engine_provider *ep;
	struct job j;

	memset(out, 0, sizeof *out);
	job_init(&j);
	if (engine_session_job(e, job_ref, &j, &ep, cause) != 0) {
		job_clear(&j);
		return -1;
	}
	if (ep->ops->channel_open != NULL) {
		/* the provider's own channel (kubernetes exec): its worker is named by the
		 * channel itself; say which worker of the job, through which provider */
		out->nworkers = 1;
		out->host_name = xprintf("worker %d", worker);
		out->description =
		    xprintf("worker %d through %s (%s)", worker, ep->name, ep->ops->name);
		job_clear(&j);
		return 0;
	}
	job_clear(&j);
	if (engine_session_target(e, job_ref, worker, &ps, cause) != 0)
		return -1;
	out->local = ps.local;
	out->nworkers = ps.nworkers;
	if (ps.local) {
		out->host_name = xstrdup("localhost");
		out->description = xstrdup("this host");
	} else {
		char *label = ssh_target_label(&ps.target);
		char *jump = ps.target.jump != NULL ? ssh_target_label(ps.target.jump) : NULL;

		out->host_name = xstrdup(ps.host_name != NULL ? ps.host_name : ps.target.host);
		out->description = xprintf("%s (%s%s%s)", out->host_name, label,
		                           jump != NULL ? " via " : "", jump != NULL ? jump : "");
		free(label);
		free(jump);
	}
	provider_shell_clear(&ps);
	return 0;
}

/* The command run in the job's directory: io->command, or the login shell. */
static char *engine_session_line(const char *dir, const char *command, int local)
{
	char *qdir = template_shell_quote(dir);
	char *line;

	if (command != NULL)
		line = xprintf("cd %s && %s", qdir, command);
	else if (local)
		line = xprintf("cd %s && exec \"${SHELL:-/bin/sh}\"", qdir);
	else
		line = xprintf("cd %s 2>/dev/null; exec \"${SHELL:-/bin/sh}\" -l", qdir);
	free(qdir);
	return line;
}

char *engine_session_command(struct engine *e, const char *job_ref, int worker, const char *command,
                             char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_session_command(e, job_ref, worker, command, cause);
	struct provider_shell ps;
	char *line;

	if (engine_session_target(e, job_ref, worker, &ps, cause) != 0)
		return NULL;
	if (ps.local) {
		line = engine_session_line(ps.dir, command, 1);
	} else {
		/* the printed command is for a person: "cd DIR; exec" without hiding cd's error */
		char *qdir = template_shell_quote(ps.dir);
		char *rcmd = command != NULL
		                 ? xprintf("cd %s && %s", qdir, command)
		                 : xprintf("cd %s; exec \"${SHELL:-/bin/sh}\" -l", qdir);

		line = ssh_print_command(&ps.target, rcmd, command == NULL);
		free(rcmd);
		free(qdir);
	}
	provider_shell_clear(&ps);
	return line;
}

/* The user's shell (or io->command) in the job's directory, with the job's environment. */
static int engine_session_local(const char *job_id, const struct provider_shell *ps,
                                const struct engine_session_io *io, int *exit_status, char **cause)
{
	const char *sh = getenv("SHELL");
	pid_t pid;
	int st = 0;

	if (sh == NULL || *sh == '\0')
		sh = "/bin/sh";
	pid = fork();
	if (pid == 0) {
		if ((io->in_fd != STDIN_FILENO && dup2(io->in_fd, STDIN_FILENO) < 0) ||
		    (io->out_fd != STDOUT_FILENO && dup2(io->out_fd, STDOUT_FILENO) < 0))
			_exit(ENGINE_SESSION_START_FAILED);
		if (chdir(ps->dir) != 0) {
			fprintf(stderr, "gantry: ssh: %s: %s\n", ps->dir, strerror(errno));
			_exit(ENGINE_SESSION_START_FAILED);
		}
		for (size_t i = 0; i < ps->env.n; i++)
			setenv(ps->env.keys[i], ps->env.vals[i], 1);
		setenv("GANTRY_JOB_ID", job_id, 1);
		if (io->command != NULL)
			execl("/bin/sh", "sh", "-c", io->command, (char *)NULL);
		else
			execl(sh, sh, (char *)NULL);
		fprintf(stderr, "gantry: ssh: %s: %s\n", sh, strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		return xcause(cause, "fork: %s", strerror(errno));
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

/* A PTY shell over SSH (libssh2), asking about an unknown host key through the face. */
static int engine_session_ssh(struct provider_shell *ps, const struct engine_session_io *io,
                              int *exit_status, struct engine_conn_error *cerr, char **cause)
{
	struct ssh_session *s = NULL;
	struct ssh_error err;
	char *rcmd;
	int rc;

	ssh_global_init();
	ps->target.accept_new = io->accept_new;
	if (ssh_connect(&ps->target, &s, &err) != 0 && err.code == SSH_ERR_HOSTKEY_UNKNOWN &&
	    io->confirm_host_key != NULL) {
		struct engine_host_key k = {
		    .host = ps->target.host,
		    .port = ps->target.port > 0 ? ps->target.port : 22,
		    .keytype = err.keytype,
		    .fingerprint = err.fingerprint,
		    .known_hosts = ps->target.known_hosts != NULL ? ps->target.known_hosts
		                                                  : "~/.ssh/known_hosts",
		};

		if (io->confirm_host_key(io->arg, &k)) {
			ps->target.accept_new = 1;
			ssh_connect(&ps->target, &s, &err);
		}
	}
	if (s == NULL) {
		if (cerr != NULL)
			engine_conn_error_from_ssh(cerr, &err);
		return xcause(cause, "%s", err.msg);
	}
	rcmd = engine_session_line(ps->dir, io->command, 0);
	rc = ssh_shell_run(s, rcmd, io->in_fd, io->out_fd, exit_status, &err);
	free(rcmd);
	ssh_close(s);
	if (rc != 0) {
		if (cerr != NULL)
			engine_conn_error_from_ssh(cerr, &err);
		return xcause(cause, "%s", err.msg);
	}
	return 0;
}

/* --- a provider's own channel (provider_ops.channel_open) --- */

struct engine_session_chan {
	int done;
	int exit_status;
	char *cause;
};

static void engine_session_chan_cb(void *arg, const struct provider_channel_event *ev)
{
	struct engine_session_chan *c = arg;

	if (ev->state != PROVIDER_CHANNEL_ENDED)
		return;
	c->done = 1;
	c->exit_status = ev->exit_status;
	if (ev->cause != NULL)
		c->cause = xstrdup(ev->cause);
}

static int engine_session_channel(struct engine *e, struct engine_provider *ep, const struct job *j,
                                  int worker, const struct engine_session_io *io, int *exit_status,
                                  struct engine_conn_error *cerr, char **cause)
{
	struct engine_session_chan c = {0, -1, NULL};
	struct provider_channel_io pio;
	struct provider_channel *ch = NULL;
	int rc = 0;

	memset(&pio, 0, sizeof pio);
	pio.command = io->command;
	pio.in_fd = io->in_fd;
	pio.out_fd = io->out_fd;
	pio.accept_new = io->accept_new;
	if (ep->ops->channel_open(ep->p, j->provider_ref, worker, PROVIDER_CHANNEL_SHELL, 0, &pio,
	                          engine_session_chan_cb, &c, &ch, cause) != 0) {
		engine_conn_fail(cerr, ENGINE_CONN_FAILED, cause != NULL && *cause ? *cause : "");
		return -1;
	}
	/* the face is suspended: the loop runs here until the shell ends */
	while (!c.done)
		loop_run_once(e->loop, 1000);
	if (ep->ops->channel_close != NULL && ch != NULL)
		ep->ops->channel_close(ep->p, ch);
	if (c.cause != NULL) {
		engine_conn_fail(cerr, ENGINE_CONN_CLOSED, c.cause);
		rc = xcause(cause, "%s", c.cause);
	} else {
		*exit_status = c.exit_status;
	}
	free(c.cause);
	return rc;
}

int engine_session_run(struct engine *e, const char *job_ref, int worker,
                       const struct engine_session_io *io, int *exit_status,
                       struct engine_conn_error *err, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_session_run(e, job_ref, worker, io, exit_status, err, cause);
	struct engine_provider *ep;
	struct provider_shell ps;
	struct job j;
	char *mark = NULL;
	int rc = -1;

	*exit_status = -1;
	if (err != NULL)
		memset(err, 0, sizeof *err);
	memset(&ps, 0, sizeof ps);
	job_init(&j);
	if (engine_session_job(e, job_ref, &j, &ep, cause) != 0)
		goto out;
	if (ep->ops->channel_open != NULL) {
		mark = engine_session_begin(e, j.id);
		engine_audit_session(e, &j, worker, "allowed", NULL);
		rc = engine_session_channel(e, ep, &j, worker, io, exit_status, err, cause);
		goto out;
	}
	if (engine_session_target(e, j.id, worker, &ps, cause) != 0) {
		engine_audit_session(e, &j, worker, "failed", cause);
		goto out;
	}
	mark = engine_session_begin(e, j.id);
	engine_audit_session(e, &j, worker, "allowed", NULL);
	if (ps.local)
		rc = engine_session_local(j.id, &ps, io, exit_status, cause);
	else
		rc = engine_session_ssh(&ps, io, exit_status, err, cause);
out:
	engine_session_end(mark);
	provider_shell_clear(&ps);
	job_clear(&j);
	return rc;
}

int engine_supervisor_main(int argc, char **argv)
{
	return local_supervise_main(argc, argv);
}
