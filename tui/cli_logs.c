/* cli_logs.c: gantry logs JOB [-f] — the job's output; sanitised when printed to a terminal. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

struct logs_state {
	struct cli_ctx *c;
	struct sanitize_stream ss;
	int eof;
	int failed;
};

static void logs_write(const char *p, size_t n, struct logs_state *st)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w <= 0) {
			st->failed = 1; /* reader went away (EPIPE): stop quietly */
			st->eof = 1;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void logs_on_data(void *arg, const char *data, size_t len, int eof)
{
	struct logs_state *st = arg;

	if (len > 0) {
		if (st->c->tty) {
			char *out = NULL;
			size_t outlen = 0;

			sanitize_stream_feed(&st->ss, data, len, &out, &outlen);
			logs_write(out, outlen, st);
			free(out);
		} else {
			logs_write(data, len, st);
		}
	}
	if (eof)
		st->eof = 1;
}

static void logs_on_signal(int signo, void *arg)
{
	struct logs_state *st = arg;

	st->eof = 1;
}

static int logs_run(struct cli_ctx *c, int argc, char **argv)
{
	struct logs_state st;
	struct engine_logs *lg = NULL;
	const char *ref = NULL;
	int follow = 0;
	int64_t tail = 0;
	char *cause = NULL;
	struct job j;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0) {
			follow = 1;
		} else if (strcmp(argv[i], "--tail-bytes") == 0 && i + 1 < argc) {
			tail = atoll(argv[++i]);
		} else if (argv[i][0] == '-') {
			return cli_fail("logs", CLI_USAGE, "unknown option '%s'", argv[i]);
		} else if (ref == NULL) {
			ref = argv[i];
		} else {
			return cli_fail("logs", CLI_USAGE, "expected one job");
		}
	}
	if (ref == NULL)
		return cli_fail("logs", CLI_USAGE, "which job? (see: gantry ls)");
	if (cli_engine(c, 0) == NULL)
		return CLI_ENV;
	job_init(&j);
	if (engine_job(c->e, ref, &j, &cause) != 0) {
		int rc = cli_fail("logs", CLI_NOTFOUND, "%s", cause);

		free(cause);
		return rc;
	}
	memset(&st, 0, sizeof st);
	st.c = c;
	sanitize_stream_init(&st.ss, SANITIZE_KEEP_NEWLINES | (c->ascii ? SANITIZE_ASCII : 0));
	signal(SIGPIPE, SIG_IGN);
	if (engine_logs_open(c->e, j.id, follow, tail, logs_on_data, &st, &lg, &cause) != 0) {
		int rc = cli_fail("logs", CLI_FAILED, "%s", cause);

		free(cause);
		job_clear(&j);
		return rc;
	}
	loop_signal_watch(engine_loop(c->e), SIGINT, logs_on_signal, &st);
	loop_signal_watch(engine_loop(c->e), SIGTERM, logs_on_signal, &st);
	while (!st.eof)
		loop_run_once(engine_loop(c->e), follow ? 1000 : 100);
	engine_logs_close(c->e, lg);
	job_clear(&j);
	return CLI_OK;
}

const struct cli_cmd cli_logs_cmd = {
    .name = "logs",
    .usage = "logs JOB [-f] [--tail-bytes N]",
    .summary = "print a job's output (stdout and stderr); -f follows until the job ends",
    .help = "  -f, --follow     keep printing new output until the job ends (Ctrl-C stops)\n"
            "  --tail-bytes N   start N bytes before the end\n"
            "On a terminal, control characters and escape sequences are removed.\n",
    .run = logs_run,
};
