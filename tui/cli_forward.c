/* cli_forward.c: gantry forward JOB [PORT] [--local L] — a port of the job's worker on
 * 127.0.0.1 of this host, through SSH, until Ctrl-C or the job ends (a local job's port is
 * there already: its URL is printed). Also the forward behind `gantry open`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

struct fwd_wait {
	int up, done, rc;
	struct engine_conn_error err;
};

static void fwd_cb(void *arg, int id, int rc, const struct engine_conn_error *err)
{
	struct fwd_wait *w = arg;

	if (rc == 0) {
		w->up = 1;
		return;
	}
	w->done = 1;
	w->rc = rc;
	if (err != NULL)
		w->err = *err;
}

static void fwd_on_signal(int signo, void *arg)
{
	struct fwd_wait *w = arg;

	w->done = 1;
}

static void fwd_on_event(void *arg, const struct engine_event *ev)
{
	struct fwd_wait *w = arg;

	/* issue 12: a connection from another user was refused (core/peeruid.h): say so */
	if (ev->type == ENGINE_EV_FORWARDS && ev->message != NULL &&
	    strstr(ev->message, " refused") != NULL) {
		fprintf(stderr, "gantry: %s\n", ev->message);
		return;
	}
	/* the forward closes itself when its job ends; the callback has already fired then */
	if (ev->type == ENGINE_EV_FORWARDS && ev->message != NULL && w->up &&
	    strstr(ev->message, "closed") != NULL) {
		w->done = 1;
		w->rc = -1;
		snprintf(w->err.msg, sizeof w->err.msg, "%s", ev->message);
	}
}

static int fwd_parse_port(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end != '\0' || v < 0 || v > 65535)
		return -1;
	*out = (int)v;
	return 0;
}

/* Opens the forward, asking about an unknown host key on a terminal. */
static int fwd_open(struct cli_ctx *c, const char *cmd, const char *job, int port, int local,
                    const char *bind, int accept_new, struct fwd_wait *w, int *id)
{
	char *cause = NULL;

	for (;;) {
		memset(w, 0, sizeof *w);
		if (engine_forward_open(c->e, job, port, local, bind, accept_new, fwd_cb, w, id,
		                        &cause) != 0) {
			int rc = cli_fail(cmd, CLI_FAILED, "%s", cause);

			free(cause);
			return rc;
		}
		while (!w->up && !w->done)
			loop_run_once(engine_loop(c->e), 200);
		if (w->up)
			return CLI_OK;
		if (w->err.code == ENGINE_CONN_HOSTKEY_UNKNOWN && !accept_new &&
		    isatty(STDIN_FILENO)) {
			char line[16];

			fprintf(stderr,
			        "%s\n%s key fingerprint is %s.\nAccept it and record it (yes/no)? ",
			        w->err.msg, w->err.keytype, w->err.fingerprint);
			if (fgets(line, sizeof line, stdin) != NULL &&
			    (strcmp(line, "yes\n") == 0 || strcmp(line, "y\n") == 0)) {
				accept_new = 1;
				continue;
			}
		}
		if (w->err.code == ENGINE_CONN_HOSTKEY_UNKNOWN)
			return cli_fail(cmd, CLI_FAILED,
			                "%s; check the fingerprint %s (%s), then rerun with "
			                "--accept-new-host-key",
			                w->err.msg, w->err.fingerprint, w->err.keytype);
		return cli_fail(cmd, CLI_FAILED, "%s", w->err.msg);
	}
}

int cli_forward_open(struct cli_ctx *c, const char *cmd, const char *job, int port, int local,
                     const char *bind, int accept_new, int *id)
{
	struct fwd_wait w;

	return fwd_open(c, cmd, job, port, local, bind, accept_new, &w, id);
}

int cli_forward_hold(struct cli_ctx *c, const char *cmd, int id)
{
	struct fwd_wait w;

	memset(&w, 0, sizeof w);
	w.up = 1;
	engine_subscribe(c->e, fwd_on_event, &w);
	loop_signal_watch(engine_loop(c->e), SIGINT, fwd_on_signal, &w);
	loop_signal_watch(engine_loop(c->e), SIGTERM, fwd_on_signal, &w);
	signal(SIGPIPE, SIG_IGN);
	while (!w.done)
		loop_run_once(engine_loop(c->e), 1000);
	engine_unsubscribe(c->e, fwd_on_event, &w);
	engine_forward_close(c->e, id);
	if (w.rc != 0)
		return cli_fail(cmd, CLI_FAILED, "%s", w.err.msg);
	return CLI_OK;
}

/* A job on this host needs no forward: its port is on 127.0.0.1 already. Prints the URL and
 * returns 1; 0 when the job runs elsewhere (or cannot be asked: the forward says why). */
static int fwd_local(struct cli_ctx *c, const char *ref, int port)
{
	struct engine_open_info o;
	char *url, *s;

	if (engine_job_open(c->e, ref, &o, NULL) != 0)
		return 0;
	if (!o.local) {
		engine_open_info_clear(&o);
		return 0;
	}
	if (port > 0 && port != o.port)
		url = xprintf("http://127.0.0.1:%d/", port);
	else if (o.url != NULL)
		url = xstrdup(o.url);
	else if (o.port > 0)
		url = xprintf("http://127.0.0.1:%d/", o.port);
	else
		url = NULL;
	if (url == NULL) {
		s = xprintf("Job %s runs on this host and has no port: nothing to forward.\n",
		            o.job_name);
	} else {
		s = xprintf(
		    "Job %s runs on this host: its port is on 127.0.0.1 already, no forward "
		    "needed.\nOpen: %s\n",
		    o.job_name, url);
	}
	cli_puts_safe(c, stdout, s);
	free(s);
	free(url);
	engine_open_info_clear(&o);
	return 1;
}

static int forward_run(struct cli_ctx *c, int argc, char **argv)
{
	const char *ref = NULL, *bind = NULL;
	int port = 0, local = 0, accept_new = 0, id = 0, rc, have_port = 0;
	struct fwd_wait w;
	struct engine_forward_info *fi = NULL;
	size_t n;

	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--local") == 0 || strcmp(argv[i], "-L") == 0) &&
		    i + 1 < argc) {
			if (fwd_parse_port(argv[++i], &local) != 0)
				return cli_fail("forward", CLI_USAGE,
				                "--local expects a port, got '%s'", argv[i]);
		} else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc) {
			bind = argv[++i];
		} else if (strcmp(argv[i], "--accept-new-host-key") == 0) {
			accept_new = 1;
		} else if (argv[i][0] == '-') {
			return cli_fail("forward", CLI_USAGE, "unknown option '%s'", argv[i]);
		} else if (ref == NULL) {
			ref = argv[i];
		} else if (!have_port) {
			if (fwd_parse_port(argv[i], &port) != 0 || port == 0)
				return cli_fail("forward", CLI_USAGE, "expected a port, got '%s'",
				                argv[i]);
			have_port = 1;
		} else {
			return cli_fail("forward", CLI_USAGE, "expected JOB [PORT]");
		}
	}
	if (ref == NULL)
		return cli_fail("forward", CLI_USAGE, "which job? (see: gantry ls)");
	if (c->readonly)
		return cli_fail("forward", CLI_USAGE, "read-only mode: forwards are not opened");
	if (cli_engine(c, 0) == NULL)
		return CLI_ENV;
	if (fwd_local(c, ref, port))
		return CLI_OK;
	rc = fwd_open(c, "forward", ref, port, local, bind, accept_new, &w, &id);
	if (rc != CLI_OK)
		return rc;
	n = engine_forwards(c->e, &fi);
	for (size_t i = 0; i < n; i++)
		if (fi[i].id == id) {
			printf("Forwarding %s:%d -> %s:%d (job %s)\n",
			       bind != NULL ? bind : "127.0.0.1", fi[i].local_port,
			       fi[i].host_name != NULL ? fi[i].host_name : "worker",
			       fi[i].remote_port, fi[i].job_name);
			printf("Open: %s\n", fi[i].url);
		}
	engine_forwards_free(fi, n);
	fputs("Ctrl-C stops the forward; it also closes when the job ends.\n", stdout);
	fflush(stdout);
	return cli_forward_hold(c, "forward", id);
}

const struct cli_cmd cli_forward_cmd = {
    .name = "forward",
    .usage = "forward JOB [PORT] [--local L] [--bind ADDR] [--accept-new-host-key]",
    .summary = "forward a port of a job's worker to this host (default: the job's port)",
    .help = "  PORT                    port on the worker (default: the job's own port)\n"
            "  -L, --local L           local port (default: a free one)\n"
            "  --bind ADDR             local address (default 127.0.0.1; 0.0.0.0 exposes\n"
            "                          the worker's port to your whole network)\n"
            "  --accept-new-host-key   record an unknown host key; a changed one is refused\n"
            "Prints the URL to open (with the notebook's token). Runs until Ctrl-C or\n"
            "until the job ends. A job on this host needs no forward: its URL is printed\n"
            "and the command exits 0.\n",
    .run = forward_run,
};
