/* chantool.c: drives the engine's session and forward operations against a provider that has
 * its own channel (provider_ops.channel_open), for tests/integration/session_channel.sh.
 * No provider implements the channel op yet, so this tool gives the local provider one: a
 * protocol fake that records what the engine asks (kind, ref, worker, port, command) and
 * answers on the loop as a real channel would (UP, ENDED). It prints "ok - ..." and
 * "FAIL - ..." lines; exit 0 when every check passed.
 * Usage: chantool JOB   (GANTRY_HOME names a home with a running local job JOB) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/engine_internal.h"
#include "core/xmalloc.h"

static int fails;
static void check(int cond, const char *what)
{
	printf("%s - %s\n", cond ? "ok" : "FAIL", what);
	if (!cond)
		fails++;
}

struct provider_channel {
	enum provider_channel_kind kind;
	provider_channel_cb cb;
	void *arg;
	struct loop_timer *t;
	int status;
	const char *end_cause;
};

static struct loop *g_loop;
static int g_opens, g_closes, g_fail_open;
static enum provider_channel_kind g_kind;
static char g_ref[256], g_cmd[256];
static int g_worker = -1, g_port = -1, g_local_port = -1;
static struct provider_channel *g_last;

static void fake_up(void *arg)
{
	struct provider_channel *ch = arg;
	struct provider_channel_event ev = {.state = PROVIDER_CHANNEL_UP, .local_port = 4242};

	ch->t = NULL;
	ch->cb(ch->arg, &ev);
}

static void fake_end(void *arg)
{
	struct provider_channel *ch = arg;
	struct provider_channel_event ev = {
	    .state = PROVIDER_CHANNEL_ENDED, .exit_status = ch->status, .cause = ch->end_cause};

	ch->t = NULL;
	ch->cb(ch->arg, &ev);
}

static int fake_channel_open(struct provider *p, const char *ref, int worker,
                             enum provider_channel_kind kind, int remote_port,
                             const struct provider_channel_io *io, provider_channel_cb cb,
                             void *arg, struct provider_channel **out, char **cause)
{
	struct provider_channel *ch;

	(void)p;
	if (g_fail_open)
		return xcause(cause, "fake: no such pod");
	g_opens++;
	g_kind = kind;
	g_worker = worker;
	g_port = remote_port;
	g_local_port = io->local_port;
	snprintf(g_ref, sizeof g_ref, "%s", ref);
	snprintf(g_cmd, sizeof g_cmd, "%s", io->command != NULL ? io->command : "(login shell)");
	ch = xcalloc(1, sizeof *ch);
	ch->kind = kind;
	ch->cb = cb;
	ch->arg = arg;
	if (kind == PROVIDER_CHANNEL_SHELL) {
		/* the "remote" side: run the command here, report its status from the loop */
		pid_t pid = fork();
		int st = 0;

		if (pid == 0) {
			execl("/bin/sh", "sh", "-c", io->command != NULL ? io->command : "exit 0",
			      (char *)NULL);
			_exit(127);
		}
		waitpid(pid, &st, 0);
		ch->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		ch->t = loop_timer_add(g_loop, 10, 0, fake_end, ch);
	} else {
		ch->t = loop_timer_add(g_loop, 10, 0, fake_up, ch);
	}
	g_last = ch;
	*out = ch;
	return 0;
}

static void fake_channel_close(struct provider *p, struct provider_channel *ch)
{
	(void)p;
	g_closes++;
	if (ch->t != NULL)
		loop_timer_cancel(g_loop, ch->t);
	if (g_last == ch)
		g_last = NULL;
	free(ch);
}

static int fwd_done, fwd_rc;
static char fwd_msg[512];
static void on_fwd(void *arg, int id, int rc, const struct engine_conn_error *err)
{
	(void)arg;
	(void)id;
	fwd_done = 1;
	fwd_rc = rc;
	snprintf(fwd_msg, sizeof fwd_msg, "%s", err != NULL ? err->msg : "");
}

static void run_until(struct engine *e, int *flag)
{
	for (int i = 0; i < 500 && !*flag; i++)
		loop_run_once(engine_loop(e), 20);
}

int main(int argc, char **argv)
{
	struct engine_opts opts = {0};
	struct engine *e;
	struct engine_session_io io;
	struct engine_conn_error cerr;
	struct engine_open_info oi;
	struct engine_forward_info *fi = NULL;
	static struct provider_ops ops;
	struct job j;
	char *cause = NULL, msg[1024];
	int status = -1, rc, id = 0;
	size_t n;

	if (argc != 2) {
		fprintf(stderr, "usage: chantool JOB\n");
		return 2;
	}
	opts.no_refresh = 1;
	if (engine_open(&opts, &e, &cause) != 0) {
		fprintf(stderr, "chantool: %s\n", cause);
		return 2;
	}
	g_loop = engine_loop(e);
	job_init(&j);
	if (engine_job(e, argv[1], &j, &cause) != 0) {
		fprintf(stderr, "chantool: %s\n", cause);
		return 2;
	}
	for (size_t i = 0; i < e->nprovs; i++)
		if (strcmp(e->provs[i].name, j.provider) == 0) {
			ops = *e->provs[i].ops;
			ops.channel_open = fake_channel_open;
			ops.channel_close = fake_channel_close;
			e->provs[i].ops = &ops;
		}

	/* a shell goes through the channel, not fork/exec or SSH */
	memset(&io, 0, sizeof io);
	io.command = "exit 9";
	io.in_fd = STDIN_FILENO;
	io.out_fd = STDOUT_FILENO;
	rc = engine_session_run(e, j.id, 1, &io, &status, &cerr, &cause);
	snprintf(msg, sizeof msg,
	         "a shell through the channel returns its status (rc %d, status %d)", rc, status);
	check(rc == 0 && status == 9, msg);
	check(g_opens == 1 && g_kind == PROVIDER_CHANNEL_SHELL, "  one SHELL channel was opened");
	snprintf(msg, sizeof msg, "  for the job's ref and worker 1 (ref %s, worker %d)", g_ref,
	         g_worker);
	check(strcmp(g_ref, j.provider_ref) == 0 && g_worker == 1, msg);
	check(strcmp(g_cmd, "exit 9") == 0, "  with the command as given");
	check(g_closes == 1, "  and closed once it ended");

	/* a channel that cannot open: the session fails with the provider's cause */
	g_fail_open = 1;
	free(cause);
	cause = NULL;
	rc = engine_session_run(e, j.id, 0, &io, &status, &cerr, &cause);
	snprintf(msg, sizeof msg, "a channel that cannot open fails the session (%s)",
	         cause != NULL ? cause : "no cause");
	check(rc == -1 && cause != NULL && strstr(cause, "no such pod") != NULL &&
	          cerr.code == ENGINE_CONN_FAILED,
	      msg);
	check(g_closes == 1, "  and nothing is closed that was never opened");
	g_fail_open = 0;

	/* a channel provider's job opens through a forward, even when it is "local" */
	free(cause);
	cause = NULL;
	check(engine_job_open(e, j.id, &oi, &cause) == 0 && oi.local == 0,
	      "opening a channel provider's job asks for a forward");
	engine_open_info_clear(&oi);

	/* a forward through the channel: UP, listed, closed once */
	rc = engine_forward_open(e, j.id, 8080, 0, NULL, 0, on_fwd, NULL, &id, &cause);
	check(rc == 0, "a forward through the channel opens");
	run_until(e, &fwd_done);
	check(fwd_done && fwd_rc == 0, "  and reports up");
	snprintf(msg, sizeof msg, "  as FORWARD to port 8080 on worker 0 (port %d, worker %d)",
	         g_port, g_worker);
	check(g_opens == 2 && g_kind == PROVIDER_CHANNEL_FORWARD && g_port == 8080 && g_worker == 0,
	      msg);
	n = engine_forwards(e, &fi);
	check(n == 1 && fi[0].up && fi[0].local_port == 4242 && fi[0].remote_port == 8080,
	      "  listed with the channel's local port");
	engine_forwards_free(fi, n);
	engine_forward_close(e, id);
	check(g_closes == 2, "  closing it closes the channel once");
	n = engine_forwards(e, &fi);
	check(n == 0, "  and it is no longer listed");
	engine_forwards_free(fi, n);

	/* a forward whose channel ends on its own: reported dead, dropped, closed once */
	fwd_done = 0;
	rc = engine_forward_open(e, j.id, 8081, 0, NULL, 0, on_fwd, NULL, &id, &cause);
	run_until(e, &fwd_done);
	check(rc == 0 && fwd_done && fwd_rc == 0 && g_last != NULL, "a second forward is up");
	if (g_last != NULL) {
		fwd_done = 0;
		g_last->end_cause = "fake: pod deleted";
		g_last->t = loop_timer_add(g_loop, 10, 0, fake_end, g_last);
		for (int i = 0; i < 100 && g_closes < 3; i++)
			loop_run_once(g_loop, 20);
	}
	check(g_closes == 3, "  a channel that ended is closed by the engine once");
	n = engine_forwards(e, &fi);
	check(n == 0, "  and the forward is dropped");
	engine_forwards_free(fi, n);

	free(cause);
	job_clear(&j);
	engine_close(e);
	printf("# %d failed\n", fails);
	return fails == 0 ? 0 : 1;
}
