/* cli_watch.c: gantry watch — keeps an eye on jobs without a screen: refreshes them, samples
 * GPUs, records idle time, applies autostop and budgets that stop jobs, and prints one line per
 * event until Ctrl-C or SIGTERM. Meant for a terminal multiplexer, cron @reboot or a systemd
 * user unit on the bastion, so that autostop works while nobody has the TUI open. */
#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/engine_remote.h"
#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

struct watch_state {
	struct cli_ctx *c;
	int done;
};

static void watch_line(struct watch_state *w, const char *text)
{
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	char *line;

	gmtime_r(&now, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
	line = xprintf("%s %s", ts, text);
	cli_puts_safe(w->c, stdout, line);
	fputc('\n', stdout);
	fflush(stdout);
	free(line);
}

static void watch_on_event(void *arg, const struct engine_event *ev)
{
	struct watch_state *w = arg;
	char *text = NULL;

	switch (ev->type) {
	case ENGINE_EV_JOB_STATE:
		text = xprintf("job %s: %s -> %s%s%s", ev->job_id, job_state_name(ev->from),
		               job_state_name(ev->to), ev->reason != NULL ? ": " : "",
		               ev->reason != NULL ? ev->reason : "");
		break;
	case ENGINE_EV_PROVIDER:
		if (ev->message != NULL)
			text = xprintf("provider %s: %s", ev->provider != NULL ? ev->provider : "?",
			               ev->message);
		break;
	case ENGINE_EV_MESSAGE:
	case ENGINE_EV_FORWARDS:
		if (ev->message != NULL)
			text = xstrdup(ev->message);
		break;
	default:
		break;
	}
	if (text != NULL)
		watch_line(w, text);
	free(text);
}

static void watch_on_signal(int signo, void *arg)
{
	struct watch_state *w = arg;

	(void)signo;
	w->done = 1;
}

static int watch_run(struct cli_ctx *c, int argc, char **argv)
{
	struct watch_state w = {.c = c};

	for (int i = 1; i < argc; i++)
		return cli_fail("watch", CLI_USAGE, "unexpected argument '%s'", argv[i]);
	if (c->readonly)
		return cli_fail("watch", CLI_USAGE, "read-only mode: watch would change nothing");
	if (cli_engine(c, 0) == NULL)
		return CLI_ENV;
	engine_subscribe(c->e, watch_on_event, &w);
	engine_watch(c->e);
	loop_signal_watch(engine_loop(c->e), SIGINT, watch_on_signal, &w);
	loop_signal_watch(engine_loop(c->e), SIGTERM, watch_on_signal, &w);
	watch_line(&w, engine_is_remote(c->e) /* gantryd does the work; this prints its events */
	                   ? "watching gantryd's events (Ctrl-C stops)"
	                   : "watching: refresh, GPU samples, idle time, autostop, budgets "
	                     "(Ctrl-C stops)");
	while (!w.done)
		loop_run_once(engine_loop(c->e), 1000);
	engine_unsubscribe(c->e, watch_on_event, &w);
	return CLI_OK;
}

const struct cli_cmd cli_watch_cmd = {
    .name = "watch",
    .usage = "watch",
    .summary = "keep jobs refreshed and apply autostop and budgets, without a screen",
    .help = "Runs until Ctrl-C or SIGTERM, printing one line per event. The TUI does the same\n"
            "while it is open; run this where nobody keeps the TUI open (tmux, systemd).\n",
    .run = watch_run,
};
