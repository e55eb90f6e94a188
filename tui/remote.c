/* remote.c: the TUI's actions on a job's worker: `s` (a shell: the TUI gives the terminal
 * to a `gantry ssh` child and takes it back intact), `f` (a port forward, with the unknown
 * host key question in a dialog), and the Job view's Workers section (host health, every
 * GPU, the job's forwards). */
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/layout.h"
#include "tui/remote.h"

/* `gantry ssh` exits with this when the worker could not be reached. */
#define REMOTE_SSH_FAILED 255

void remote_shell(struct app *a, const struct job *j)
{
	const char *exe = engine_config(a->e)->self_exe;
	struct sigaction ign, old_int, old_quit, old_tstp;
	struct engine_shell_info si;
	char *cause = NULL, *clean;
	pid_t pid;
	int st = 0;

	if (j == NULL) {
		app_status(a, 0, "no job selected");
		return;
	}
	if (!job_state_active(j->state)) {
		app_status(a, 1, "%s has ended (%s): no shell", j->name, job_state_name(j->state));
		return;
	}
	if (exe == NULL) {
		app_status(a, 1, "cannot find the gantry binary to run the shell");
		return;
	}
	/* where it goes, as the engine tells it (a worker the provider cannot name fails here,
	 * with the TUI still on the screen) */
	if (engine_job_shell_info(a->e, j->id, 0, &si, &cause) != 0) {
		app_status(a, 1, "no shell on %s: %s", j->name, cause);
		free(cause);
		return;
	}
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	def_prog_mode();
	endwin();
	/* a bare prompt on a cleared screen does not say it belongs to gantry */
	clean = app_clean(a, si.description);
	if (si.nworkers > 1)
		printf("[gantry: a shell on %s's worker 0 of %d, %s; exit or Ctrl-D comes back to "
		       "gantry]\n",
		       j->name, si.nworkers, clean);
	else
		printf(
		    "[gantry: a shell on %s's worker, %s; exit or Ctrl-D comes back to gantry]\n",
		    j->name, clean);
	free(clean);
	engine_shell_info_clear(&si);
	fflush(stdout);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	sigaction(SIGTSTP, &ign, &old_tstp);
	pid = fork();
	if (pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGTSTP, SIG_DFL);
		execl(exe, "gantry", "ssh", j->id, (char *)NULL);
		fprintf(stderr, "gantry: cannot run %s: %s\n", exe, strerror(errno));
		_exit(REMOTE_SSH_FAILED);
	}
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	if (pid < 0 || (WIFEXITED(st) && WEXITSTATUS(st) == REMOTE_SSH_FAILED)) {
		char line[8];
		FILE *tty = fopen("/dev/tty", "r+");

		/* the reason is on the screen: let the user read it */
		if (tty != NULL) {
			fputs("\n[gantry: press Enter to return]", tty);
			fflush(tty);
			if (fgets(line, sizeof line, tty) == NULL)
				clearerr(tty);
			fclose(tty);
		}
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGTSTP, &old_tstp, NULL);
	reset_prog_mode();
	clearok(curscr, TRUE);
	refresh();
	if (pid < 0)
		app_status(a, 1, "cannot start the shell: %s", strerror(errno));
	else if (WIFEXITED(st) && WEXITSTATUS(st) == REMOTE_SSH_FAILED)
		app_status(a, 1, "shell on %s failed (see above)", j->name);
	else if (WIFEXITED(st))
		app_status(a, 0, "shell on %s ended (exit %d)", j->name, WEXITSTATUS(st));
	else
		app_status(a, 0, "shell on %s ended", j->name);
	app_dirty(a);
}

static void remote_forward_start(struct app *a, const char *job_id, int accept_new);

static void remote_forward_accept(struct app *a, const char *job_id)
{
	remote_forward_start(a, job_id, 1);
}

static void remote_forward_done(void *arg, int id, int rc, const struct engine_conn_error *err)
{
	struct app *a = app_current();
	char *job_id = arg;

	if (a == NULL) {
		free(job_id);
		return;
	}
	if (rc == 0) {
		struct engine_forward_info *fi;
		size_t n = engine_forwards(a->e, &fi);

		for (size_t i = 0; i < n; i++)
			if (fi[i].id == id)
				app_status(a, 0, "forward up: open %s", fi[i].url);
		engine_forwards_free(fi, n);
	} else if (err != NULL && err->code == ENGINE_CONN_HOSTKEY_UNKNOWN) {
		char *text = xprintf("%s. %s key fingerprint: %s. Accept it and record it in "
		                     "known_hosts? (y/N)",
		                     err->msg, err->keytype, err->fingerprint);

		dialog_confirm(a, "Unknown host key", text, job_id, remote_forward_accept);
		free(text);
	} else {
		app_status(a, 1, "forward failed: %s", err != NULL ? err->msg : "unknown error");
	}
	free(job_id);
	app_dirty(a);
}

static void remote_forward_start(struct app *a, const char *job_id, int accept_new)
{
	char *cause = NULL;
	int id;
	char *arg = xstrdup(job_id);

	if (engine_forward_open(a->e, job_id, 0, 0, NULL, accept_new, remote_forward_done, arg, &id,
	                        &cause) != 0) {
		app_status(a, 1, "%s", cause);
		free(cause);
		free(arg);
		return;
	}
	app_status(a, 0, "connecting the forward...");
}

/* A job on this host needs no forward: shows its URL with the token. 1 when it did. */
static int remote_forward_local(struct app *a, const struct job *j)
{
	struct engine_open_info o;
	int done = 0;

	if (engine_job_open(a->e, j->id, &o, NULL) != 0)
		return 0;
	if (o.local) {
		if (o.url != NULL)
			app_status(a, 0, "on this host, no forward needed: open %s (o copies it)",
			           o.url);
		else
			app_status(a, 0, "%s runs on this host and has no URL", o.job_name);
		done = 1;
	}
	engine_open_info_clear(&o);
	return done;
}

void remote_forward(struct app *a, const struct job *j)
{
	struct engine_forward_info *fi;
	size_t n;

	if (j == NULL) {
		app_status(a, 0, "no job selected");
		return;
	}
	if (remote_forward_local(a, j))
		return;
	n = engine_forwards(a->e, &fi);
	for (size_t i = 0; i < n; i++)
		if (strcmp(fi[i].job_id, j->id) == 0 && fi[i].remote_port == j->port) {
			app_status(a, 0, "already forwarded: open %s", fi[i].url);
			engine_forwards_free(fi, n);
			return;
		}
	engine_forwards_free(fi, n);
	remote_forward_start(a, j->id, 0);
}

/* "n/a" or the value, rounded, with its unit. */
static void remote_val(const struct tele_val *v, const char *unit, char *buf, size_t len)
{
	if (v->ok)
		snprintf(buf, len, "%.0f%s", v->v, unit);
	else
		snprintf(buf, len, "n/a");
}

static int remote_line(struct app *a, int y, const char *text, enum theme_role r)
{
	char *clean = app_clean(a, text);

	draw_text(a, y, 1, a->cols - 2, clean, r, 0);
	free(clean);
	return 1;
}

int remote_draw_job(struct app *a, int y, int maxh, const struct job *j)
{
	struct tele_host *h = NULL;
	struct engine_forward_info *fi = NULL;
	size_t n = 0, nf;
	char line[512], age[16], util[16], mu[16], mt[16];
	int r = 0;
	int64_t now = loop_wall_ms();

	if (maxh <= 0)
		return 0;
	if (job_state_active(j->state) && engine_hosts(a->e, j->id, &h, &n, NULL) != 0)
		n = 0;
	for (size_t i = 0; i < n && r < maxh; i++) {
		if (h[i].last_contact_ms > 0)
			layout_age(now - h[i].last_contact_ms, age, sizeof age);
		else
			snprintf(age, sizeof age, "never");
		if (!h[i].reachable) {
			snprintf(
			    line, sizeof line, "Worker %s (%s): UNREACHABLE, last contact %s%s %s",
			    h[i].name, h[i].address ? h[i].address : "?", age,
			    h[i].last_contact_ms > 0 ? " ago" : "", h[i].reason ? h[i].reason : "");
			r += remote_line(a, y + r, line, THEME_STATUS_ERROR);
			/* the last known figures, with their age */
			for (size_t g = 0; g < h[i].ngpus && r < maxh; g++)
				view_job_gpu_row(a, y + r++, &h[i], &h[i].gpus[g]);
			continue;
		}
		remote_val(&h[i].cpu_pct, "%", util, sizeof util);
		remote_val(&h[i].mem_used_mib, "", mu, sizeof mu);
		remote_val(&h[i].mem_total_mib, " MiB", mt, sizeof mt);
		layout_age(now - (h[i].at_ms > 0 ? h[i].at_ms : now), age, sizeof age);
		snprintf(line, sizeof line,
		         "Worker %s (%s): up, sampled %s ago, CPU %s, memory %s/%s%s%s", h[i].name,
		         h[i].address ? h[i].address : "?", age, util, mu, mt,
		         h[i].gpu_error ? ", GPUs: " : "", h[i].gpu_error ? h[i].gpu_error : "");
		r += remote_line(a, y + r, line, THEME_NORMAL);
		for (size_t g = 0; g < h[i].ngpus && r < maxh; g++)
			view_job_gpu_row(a, y + r++, &h[i], &h[i].gpus[g]);
	}
	tele_hosts_free(h, n);
	nf = engine_forwards(a->e, &fi);
	for (size_t i = 0; i < nf && r < maxh; i++) {
		if (strcmp(fi[i].job_id, j->id) != 0)
			continue;
		snprintf(line, sizeof line, "Forward 127.0.0.1:%d -> %s:%d  %s  %s%s%s",
		         fi[i].local_port, fi[i].host_name ? fi[i].host_name : "worker",
		         fi[i].remote_port, fi[i].up ? "up" : "connecting", fi[i].url,
		         fi[i].error ? "  last error: " : "", fi[i].error ? fi[i].error : "");
		r += remote_line(a, y + r, line, THEME_NORMAL);
	}
	engine_forwards_free(fi, nf);
	return r;
}

int remote_forward_count(struct app *a)
{
	struct engine_forward_info *fi;
	size_t n = engine_forwards(a->e, &fi);

	engine_forwards_free(fi, n);
	return (int)n;
}
