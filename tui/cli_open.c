/* cli_open.c: gantry open JOB — the job's URL with its access token, ready to paste: printed,
 * and copied to the terminal's clipboard (OSC 52). A job on this host opens on its own
 * 127.0.0.1 port; a job on a remote worker through a forward that stays open until Ctrl-C. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/cli.h"
#include "tui/clipboard.h"

/* Waits until the job runs (its URL answers only then). Returns CLI_OK or an exit code. */
static int open_wait_running(struct cli_ctx *c, const char *ref, int timeout_s, int quiet)
{
	uint64_t deadline = loop_now_ms() + (uint64_t)timeout_s * 1000;
	enum job_state last = JOB_RUNNING;
	char *cause = NULL;
	struct job j;
	int rc;

	job_init(&j);
	for (;;) {
		job_clear(&j);
		if (engine_job(c->e, ref, &j, &cause) != 0) {
			rc = cli_fail("open", CLI_NOTFOUND, "%s", cause);
			break;
		}
		if (j.state == JOB_RUNNING || job_state_terminal(j.state)) {
			rc =
			    CLI_OK; /* an ended job is refused by engine_job_open, with its state */
			break;
		}
		if (j.state != last && !quiet)
			fprintf(stderr, "waiting for %s to run (%s)...\n", j.name,
			        job_state_name(j.state));
		last = j.state;
		if (loop_now_ms() > deadline) {
			rc = cli_fail("open", CLI_FAILED, "%s is still %s after %d s", j.name,
			              job_state_name(j.state), timeout_s);
			break;
		}
		loop_run_once(engine_loop(c->e), 200);
		cli_settle(c->e);
	}
	free(cause);
	job_clear(&j);
	return rc;
}

/* Prints the URL (stdout, one line) and copies it when asked. */
static void open_show(struct cli_ctx *c, const struct engine_open_info *o, const char *url,
                      int print_only, int clip)
{
	const char *how = NULL;
	int copied = 0;

	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:b}", "job", o->job_name, "id", o->job_id,
		                      "url", url, "local", o->local);

		cli_print_json(j);
	} else {
		char *line = xprintf("%s\n", url);

		cli_puts_safe(c, stdout, line);
		free(line);
	}
	fflush(stdout);
	if (clip && !print_only && !c->json)
		copied = clipboard_copy(STDOUT_FILENO, url, &how) == 0;
	if (print_only || c->json)
		return;
	if (copied)
		fprintf(stderr, "Copied to the clipboard (%s).\n", how);
	else if (clip && how != NULL && c->tty)
		fprintf(stderr, "Not copied to the clipboard: %s.\n", how);
}

static int open_run(struct cli_ctx *c, int argc, char **argv)
{
	const char *ref = NULL;
	int print_only = 0, clip = 1, accept_new = 0, timeout_s = 600, id = 0, rc;
	struct engine_open_info o;
	struct engine_forward_info *fi = NULL;
	char *cause = NULL, *url = NULL;
	size_t n;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--print") == 0) {
			print_only = 1;
		} else if (strcmp(argv[i], "--no-clipboard") == 0) {
			clip = 0;
		} else if (strcmp(argv[i], "--accept-new-host-key") == 0) {
			accept_new = 1;
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			if ((timeout_s = atoi(argv[++i])) <= 0)
				return cli_fail("open", CLI_USAGE, "--timeout expects seconds > 0");
		} else if (argv[i][0] == '-') {
			return cli_fail("open", CLI_USAGE, "unknown option '%s'", argv[i]);
		} else if (ref == NULL) {
			ref = argv[i];
		} else {
			return cli_fail("open", CLI_USAGE, "expected one JOB");
		}
	}
	if (ref == NULL)
		return cli_fail("open", CLI_USAGE, "which job? (see: gantry ls)");
	if (cli_engine(c, 0) == NULL)
		return CLI_ENV;
	cli_settle(c->e);
	rc = open_wait_running(c, ref, timeout_s, print_only || c->json);
	if (rc != CLI_OK)
		return rc;
	if (engine_job_open(c->e, ref, &o, &cause) != 0) {
		rc = cli_fail("open", CLI_FAILED, "%s", cause);
		free(cause);
		return rc;
	}
	if (o.url == NULL) {
		rc =
		    cli_fail("open", CLI_FAILED, "job %s has no URL (no service port)", o.job_name);
		engine_open_info_clear(&o);
		return rc;
	}
	if (o.local) {
		open_show(c, &o, o.url, print_only, clip);
		engine_open_info_clear(&o);
		return CLI_OK;
	}
	/* a remote worker: its notebook listens on the worker's loopback; forward it here */
	if (c->readonly) {
		engine_open_info_clear(&o);
		return cli_fail("open", CLI_USAGE, "read-only mode: forwards are not opened");
	}
	rc = cli_forward_open(c, "open", o.job_id, 0, 0, NULL, accept_new, &id);
	if (rc != CLI_OK) {
		engine_open_info_clear(&o);
		return rc;
	}
	n = engine_forwards(c->e, &fi);
	for (size_t i = 0; i < n; i++)
		if (fi[i].id == id)
			url = xstrdup(fi[i].url);
	engine_forwards_free(fi, n);
	if (!print_only && !c->json)
		fprintf(stderr,
		        "Forwarding 127.0.0.1 to port %d of %s's worker. Keep this running while "
		        "you use it: Ctrl-C closes the forward (so does the job's end).\n",
		        o.port, o.job_name);
	open_show(c, &o, url != NULL ? url : "?", print_only, clip);
	free(url);
	engine_open_info_clear(&o);
	return cli_forward_hold(c, "open", id);
}

const struct cli_cmd cli_open_cmd = {
    .name = "open",
    .usage = "open JOB [--print] [--no-clipboard] [--accept-new-host-key] [--timeout S]",
    .summary = "print a job's URL with its token and copy it to the clipboard",
    .help = "  --print                only print the URL (no clipboard, no remarks)\n"
            "  --no-clipboard         do not copy the URL to the clipboard\n"
            "  --accept-new-host-key  record the worker's unknown host key (remote jobs)\n"
            "  --timeout S            wait at most S seconds for the job to run (default 600)\n"
            "The URL carries the notebook's token, so it opens without a login page. A job\n"
            "on this host opens on its own 127.0.0.1 port and the command exits. A job on a\n"
            "remote worker is reached through a forward to 127.0.0.1 that stays open until\n"
            "Ctrl-C or the job's end. The URL is copied with the OSC 52 escape when stdout\n"
            "is a terminal (inside tmux through tmux itself); GANTRY_NO_CLIPBOARD=1 turns\n"
            "that off everywhere.\n",
    .run = open_run,
};
