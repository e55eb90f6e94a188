/* test_local.c: the local provider driven directly, with a real loop and real processes.
 * The test binary is its own supervisor: `test_local __supervise DIR` runs
 * local_supervise_main, and self_exe is /proc/self/exe resolved. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/kvlist.h"
#include "core/loop.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "providers/local.h"
#include "providers/provider.h"

static struct loop *t_loop; /* the fixture's: destroy may wait on it for a cgroup */

#define WAIT_LIMIT_MS 30000 /* a bound so a broken provider fails instead of hanging */

static char g_self_exe[PATH_MAX];

struct fx {
	struct loop *loop;
	struct provider *p;
	char *state; /* absolute */
};

struct launch_out {
	int called, rc;
	char *ref;
	int port;
	char *url;
};

struct status_out {
	int called, rc;
	enum job_state state;
	int has_exit, exit_code;
	char *reason;
};

struct done_out {
	int called, rc;
	char *cause;
};

struct log_out {
	char *buf;
	size_t len;
	int eof;
	int chunks;
	int close_on_first; /* closes the stream from inside the callback */
	struct fx *f;
	struct provider_logs *lg;
};

/* Reaps whatever was reparented to us (we are a subreaper for the test's sake). */
static void reap_all(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void pump(struct fx *f, int ms)
{
	loop_run_once(f->loop, ms);
	reap_all();
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int open_provider(struct fx *f)
{
	struct provider_config cfg;
	char *cause = NULL;
	int rc;

	memset(&cfg, 0, sizeof cfg);
	cfg.name = "local";
	cfg.state_dir = f->state;
	cfg.self_exe = g_self_exe;
	cfg.loop = f->loop;
	rc = local_provider_ops.open(&cfg, &f->p, &cause);
	if (rc != 0)
		fprintf(stderr, "open: %s\n", cause);
	free(cause);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	char tmpl[] = "test_local.XXXXXX";
	char *made = mkdtemp(tmpl);

	assert_non_null(made);
	f->state = realpath(made, NULL);
	assert_non_null(f->state);
	f->loop = loop_new();
	t_loop = f->loop;
	assert_int_equal(open_provider(f), 0);
	*state = f;
	return 0;
}

/* ---- the v2 async ops, answered inline by the local provider ---- */

struct t_owned {
	int called, rc;
	char **refs, **ids, *owner0;
	size_t n;
};

static void t_owned_cb(void *arg, int rc, const struct provider_owned *v, size_t n,
                       const char *cause)
{
	struct t_owned *o = arg;

	(void)cause;
	o->called++;
	o->rc = rc;
	o->n = n;
	o->refs = xcalloc(n + 1, sizeof *o->refs);
	o->ids = xcalloc(n + 1, sizeof *o->ids);
	for (size_t i = 0; i < n; i++) {
		o->refs[i] = xstrdup(v[i].ref);
		o->ids[i] = xstrdup(v[i].job_id);
	}
	o->owner0 = n > 0 && v[0].owner != NULL ? xstrdup(v[0].owner) : NULL;
}

/* list_owned as it was: the callback must have run before the op returned (local). */
static int t_list_owned(struct provider *p, char ***refs, char ***ids, size_t *n, char **cause)
{
	struct t_owned o = {0};

	if (local_provider_ops.list_owned(p, t_owned_cb, &o, cause) != 0)
		return -1;
	assert_int_equal(o.called, 1);
	*refs = o.refs;
	*ids = o.ids;
	*n = o.n;
	free(o.owner0);
	return o.rc;
}

struct t_done {
	int called, rc;
};

static void t_done_cb(void *arg, int rc, const char *cause)
{
	struct t_done *d = arg;

	(void)cause;
	d->called++;
	d->rc = rc;
}

static int t_destroy(struct provider *p, const char *ref, char **cause)
{
	struct t_done d = {0};

	if (local_provider_ops.destroy(p, ref, t_done_cb, &d, cause) != 0)
		return -1;
	/* answered at once, or within about 1 s when a killed cgroup has to empty */
	for (int i = 0; i < 300 && d.called == 0; i++)
		loop_run_once(t_loop, 10);
	assert_int_equal(d.called, 1);
	return d.rc;
}

struct t_offer {
	int called;
	struct offer_verdict o;
	size_t n;
};

static void t_offers_cb(void *arg, int rc, struct offer_list *l, const char *cause)
{
	struct t_offer *w = arg;

	(void)cause;
	assert_int_equal(rc, 0);
	w->called++;
	w->n = l->n;
	if (l->n > 0) {
		offer_verdict_from(&w->o, &l->v[0]);
		assert_string_equal(l->v[0].region, "");
		assert_int_equal(l->v[0].market, OFFER_ONDEMAND);
		assert_int_equal(l->v[0].source,
		                 l->v[0].priced ? CATALOG_SRC_SITE : CATALOG_SRC_NONE);
	}
}

/* The first offer, as the plan takes it. */
static int t_offer(struct provider *p, const struct template *t, struct offer_verdict *o,
                   char **cause)
{
	struct t_offer w = {0};

	if (local_provider_ops.offers(p, t, t_offers_cb, &w, cause) != 0)
		return -1;
	assert_int_equal(w.called, 1);
	assert_int_equal(w.n, 1);
	*o = w.o;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char **refs = NULL, **ids = NULL;
	size_t n = 0;
	char *cause = NULL;

	if (t_list_owned(f->p, &refs, &ids, &n, &cause) == 0) {
		for (size_t i = 0; i < n; i++) {
			t_destroy(f->p, refs[i], &cause);
			free(cause);
			cause = NULL;
			free(refs[i]);
			free(ids[i]);
		}
		free(refs);
		free(ids);
	}
	free(cause);
	local_provider_ops.close(f->p);
	loop_free(f->loop);
	reap_all();
	nftw(f->state, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f->state);
	free(f);
	return 0;
}

static void spec_init(struct provider_job_spec *s, const char *id, const char *script)
{
	memset(s, 0, sizeof *s);
	s->job_id = id;
	s->idem_key = id;
	s->name = id;
	s->owner = "tester";
	s->kind = JOB_KIND_TRAINING;
	s->script = script;
}

static void on_launch(void *arg, int rc, const struct provider_launch_result *res,
                      const char *cause)
{
	struct launch_out *o = arg;

	o->called++;
	o->rc = rc;
	if (rc == 0) {
		o->ref = xstrdup(res->ref);
		o->port = res->port;
		o->url = res->url != NULL ? xstrdup(res->url) : NULL;
	} else {
		fprintf(stderr, "launch: %s\n", cause);
	}
}

static void launch_out_clear(struct launch_out *o)
{
	free(o->ref);
	free(o->url);
	memset(o, 0, sizeof *o);
}

/* Launches and returns the ref (heap); fails the test on error. */
static char *launch(struct fx *f, const struct provider_job_spec *spec, int *port)
{
	struct launch_out o = {0};
	char *cause = NULL;
	char *ref;
	int rc = local_provider_ops.launch(f->p, spec, on_launch, &o, &cause);

	if (rc != 0)
		fprintf(stderr, "launch: %s\n", cause);
	assert_int_equal(rc, 0);
	free(cause);
	while (o.called == 0)
		pump(f, 10);
	assert_int_equal(o.called, 1);
	assert_int_equal(o.rc, 0);
	assert_non_null(o.ref);
	if (port != NULL)
		*port = o.port;
	ref = o.ref;
	o.ref = NULL;
	launch_out_clear(&o);
	return ref;
}

static void on_status(void *arg, int rc, const struct provider_status *st, const char *cause)
{
	struct status_out *o = arg;

	o->called++;
	o->rc = rc;
	free(o->reason);
	o->reason = NULL;
	if (rc == 0) {
		o->state = st->state;
		o->has_exit = st->has_exit;
		o->exit_code = st->exit_code;
		o->reason = st->reason != NULL ? xstrdup(st->reason) : NULL;
	} else {
		o->reason = xstrdup(cause != NULL ? cause : "");
	}
}

/* One refresh; o->reason is replaced (caller frees the last one). */
static void refresh(struct fx *f, const char *ref, struct status_out *o)
{
	char *cause = NULL;

	o->called = 0;
	assert_int_equal(local_provider_ops.refresh(f->p, "j", ref, on_status, o, &cause), 0);
	while (o->called == 0)
		pump(f, 10);
	assert_int_equal(o->rc, 0);
}

/* Refreshes until the job is in want (or terminal when want is JOB_STATE_COUNT). */
static void wait_state(struct fx *f, const char *ref, enum job_state want, struct status_out *o)
{
	uint64_t end = loop_now_ms() + WAIT_LIMIT_MS;

	for (;;) {
		refresh(f, ref, o);
		if (o->state == want || (want == JOB_STATE_COUNT && job_state_terminal(o->state)))
			return;
		if (loop_now_ms() > end)
			fail_msg("job %s stayed %s (%s), wanted %s", ref, job_state_name(o->state),
			         o->reason != NULL ? o->reason : "-",
			         want == JOB_STATE_COUNT ? "terminal" : job_state_name(want));
		pump(f, 50);
	}
}

static char *read_text(const char *dir, const char *name)
{
	char *t = local_read_file(dir, name);

	return t != NULL ? t : xstrdup("");
}

/* Waits until dir/name exists (and holds needle, when given). */
static void wait_file(struct fx *f, const char *dir, const char *name, const char *needle)
{
	uint64_t end = loop_now_ms() + WAIT_LIMIT_MS;

	for (;;) {
		char *t = local_read_file(dir, name);
		int ok = t != NULL && (needle == NULL || strstr(t, needle) != NULL);

		free(t);
		if (ok)
			return;
		if (loop_now_ms() > end)
			fail_msg("%s/%s never showed '%s'", dir, name,
			         needle != NULL ? needle : "");
		pump(f, 20);
	}
}

static pid_t read_pid(const char *dir, const char *name)
{
	char *t = read_text(dir, name);
	long pid = 0;

	sscanf(t, "%ld", &pid);
	free(t);
	return (pid_t)pid;
}

/* Waits until no process is left in the group pgid. */
static void wait_group_gone(struct fx *f, pid_t pgid)
{
	uint64_t end = loop_now_ms() + WAIT_LIMIT_MS;

	assert_true(pgid > 1);
	while (kill(-pgid, 0) == 0 || errno != ESRCH) {
		if (loop_now_ms() > end)
			fail_msg("process group %ld is still alive", (long)pgid);
		pump(f, 20);
	}
}

static void touch(const char *dir, const char *name)
{
	char *path = xprintf("%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	close(fd);
	free(path);
}

static void on_done(void *arg, int rc, const char *cause)
{
	struct done_out *o = arg;

	o->called++;
	o->rc = rc;
	free(o->cause);
	o->cause = cause != NULL ? xstrdup(cause) : NULL;
}

static void stop(struct fx *f, const char *ref, int grace_ms, struct done_out *o)
{
	char *cause = NULL;

	memset(o, 0, sizeof *o);
	assert_int_equal(local_provider_ops.stop(f->p, ref, grace_ms, on_done, o, &cause), 0);
	while (o->called == 0)
		pump(f, 10);
	assert_int_equal(o->called, 1);
}

static void test_failed_exit_status(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	char *ref, *log;

	spec_init(&spec, "j00000001", "echo hi; exit 3\n");
	ref = launch(f, &spec, NULL);
	assert_string_equal(ref + strlen(f->state), "/j00000001");
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_true(st.has_exit);
	assert_int_equal(st.exit_code, 3);
	assert_non_null(strstr(st.reason, "status 3"));
	log = read_text(ref, "job.log");
	assert_string_equal(log, "hi\n");
	free(log);
	log = read_text(ref, "meta");
	assert_non_null(strstr(log, "job_id=j00000001\n"));
	assert_non_null(strstr(log, "owner=tester\n"));
	free(log);
	free(st.reason);
	free(ref);
}

static void test_succeeded(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	char *ref;

	spec_init(&spec, "j00000002", "echo out; echo err >&2; true\n");
	ref = launch(f, &spec, NULL);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_SUCCEEDED);
	assert_true(st.has_exit);
	assert_int_equal(st.exit_code, 0);
	wait_file(f, ref, "job.log", "out\nerr\n");
	free(st.reason);
	free(ref);
}

static void test_env(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	struct kvlist env;
	char *ref, *work, *out, *want;
	int port = 0;

	kvlist_init(&env);
	kvlist_set(&env, "FOO", "bar baz");
	spec_init(
	    &spec, "j00000003",
	    "printf '%s|%s|%s|%s|%s|%s|%s\\n' \"$GANTRY_JOB_ID\" \"$GANTRY_PORT\" "
	    "\"$GANTRY_GPUS\" \"$CUDA_VISIBLE_DEVICES\" \"$FOO\" "
	    "\"${GANTRY_SUPERVISE_LOCK_FD-unset}\" \"$(basename \"$PWD\")\" > env.out\n"
	    "for fd in /proc/$$/fd/*; do readlink \"$fd\"; done | "
	    "grep -c -e '/lock$' -e '/supervisor.log$' -e 'unit/test_local$' > leaks.out\ntrue\n");
	spec.env = &env;
	spec.want_port = 1;
	spec.gpus = 2;
	ref = launch(f, &spec, &port);
	assert_true(port > 0 && port < 65536);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_SUCCEEDED);
	work = xprintf("%s/work", ref);
	out = read_text(work, "env.out");
	want = xprintf("j00000003|%d|2|0,1|bar baz|unset|work\n", port);
	assert_string_equal(out, want);
	free(want);
	free(out);
	out = read_text(work, "leaks.out"); /* no fd of gantry or the supervisor reaches the job */
	assert_string_equal(out, "0\n");
	free(out);
	free(work);
	kvlist_free(&env);
	free(st.reason);
	free(ref);
}

static void test_env_no_gpu(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	char *ref, *work, *out;

	spec_init(&spec, "j00000004",
	          "printf '%s|%s\\n' \"$GANTRY_GPUS\" \"${GANTRY_PORT-none}\" > env.out\n");
	ref = launch(f, &spec, NULL);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	work = xprintf("%s/work", ref);
	out = read_text(work, "env.out");
	assert_string_equal(out, "0|none\n");
	free(out);
	free(work);
	free(st.reason);
	free(ref);
}

static void test_launch_twice(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	char *ref, *ref2, *ref3, *count;
	pid_t kids[3];

	spec_init(&spec, "j00000005", "echo ran >> ../count; sleep 1\n");
	/* concurrent launchers in other processes, each with its own provider */
	for (int i = 0; i < 3; i++) {
		kids[i] = fork();
		assert_true(kids[i] >= 0);
		if (kids[i] == 0) {
			struct fx kf = {.loop = loop_new(), .state = f->state};
			struct launch_out o = {0};
			char *cause = NULL;
			int ok;

			if (open_provider(&kf) != 0)
				_exit(2);
			ok = local_provider_ops.launch(kf.p, &spec, on_launch, &o, &cause) == 0;
			while (ok && o.called == 0)
				loop_run_once(kf.loop, 10);
			_exit(ok && o.rc == 0 && o.ref != NULL ? 0 : 1);
		}
	}
	ref = launch(f, &spec, NULL);
	ref2 = launch(f, &spec, NULL);
	assert_string_equal(ref, ref2);
	for (int i = 0; i < 3; i++) {
		int ws = 0;

		assert_int_equal(waitpid(kids[i], &ws, 0), kids[i]);
		assert_true(WIFEXITED(ws));
		assert_int_equal(WEXITSTATUS(ws), 0);
	}
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_SUCCEEDED);
	/* a finished job is not launched again either */
	ref3 = launch(f, &spec, NULL);
	assert_string_equal(ref, ref3);
	refresh(f, ref, &st);
	assert_int_equal(st.state, JOB_SUCCEEDED);
	count = read_text(ref, "count");
	assert_string_equal(count, "ran\n");
	free(count);
	free(st.reason);
	free(ref);
	free(ref2);
	free(ref3);
}

/* A job directory that is already there (planted, or left over) is never launched into. */
static void test_existing_dir(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	char *dir = xprintf("%s/j00000010", f->state), *cause = NULL, *pwned;
	struct passwd *pw = getpwnam("nobody");
	struct launch_out o = {0}; /* the old code launched into it and called back */
	struct stat st;
	int fd;

	spec_init(&spec, "j00000010", "echo victim > ../ran\n");
	assert_int_equal(mkdir(dir, 0700), 0);
	pwned = xprintf("%s/run.sh", dir);
	fd = open(pwned, O_WRONLY | O_CREAT | O_EXCL, 0755);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "touch ../pwned\n", 15), 15);
	close(fd);
	assert_int_equal(local_provider_ops.launch(f->p, &spec, on_launch, &o, &cause), -1);
	assert_non_null(strstr(cause, "already exists"));
	free(cause);
	cause = NULL;
	assert_int_equal(lstat(pwned, &st), 0);
	assert_int_equal(st.st_size, 15); /* untouched, and never run */
	free(pwned);
	pwned = xprintf("%s/supervisor.pid", dir);
	assert_int_not_equal(lstat(pwned, &st), 0);
	free(pwned);
	free(dir);
	/* another user's directory (as if planted in a careless jobs/): not even looked into */
	if (geteuid() == 0 && pw != NULL) {
		spec_init(&spec, "j00000011", "echo victim > ../ran\n");
		dir = xprintf("%s/j00000011", f->state);
		assert_int_equal(mkdir(dir, 0777), 0);
		assert_int_equal(chown(dir, pw->pw_uid, pw->pw_gid), 0);
		assert_int_equal(local_provider_ops.launch(f->p, &spec, on_launch, &o, &cause), -1);
		assert_non_null(strstr(cause, "not a job directory of yours"));
		free(cause);
		pwned = xprintf("%s/lock", dir);
		assert_int_not_equal(lstat(pwned, &st), 0);
		free(pwned);
		free(dir);
	}
	dir = xprintf("%s/ran", f->state);
	assert_int_not_equal(lstat(dir, &st), 0);
	free(dir);
	assert_int_equal(o.called, 0);
}

static void test_stop(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	struct done_out d;
	char *ref;
	pid_t pgid;

	spec_init(&spec, "j00000006", "sleep 1000\n");
	ref = launch(f, &spec, NULL);
	wait_state(f, ref, JOB_RUNNING, &st);
	pgid = read_pid(ref, "pid");
	stop(f, ref, 5000, &d);
	assert_int_equal(d.rc, 0);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_STOPPED);
	wait_group_gone(f, pgid);
	/* stopping it again: it has already ended */
	free(d.cause);
	stop(f, ref, 5000, &d);
	assert_int_equal(d.rc, -1);
	assert_non_null(strstr(d.cause, "already ended"));
	free(d.cause);
	free(st.reason);
	free(ref);
}

static void test_stop_ignores_term(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	struct done_out d;
	char *ref;
	pid_t pgid;

	spec_init(&spec, "j00000007", "trap '' TERM; echo armed; sleep 1000 & wait; sleep 1000\n");
	ref = launch(f, &spec, NULL);
	wait_file(f, ref, "job.log", "armed");
	wait_state(f, ref, JOB_RUNNING, &st);
	pgid = read_pid(ref, "pid");
	stop(f, ref, 300, &d);
	assert_int_equal(d.rc, 0);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_STOPPED);
	assert_true(st.has_exit);
	assert_int_equal(st.exit_code, -SIGKILL);
	wait_group_gone(f, pgid);
	free(d.cause);
	free(st.reason);
	free(ref);
}

static void test_survives_provider_close(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	struct done_out d;
	char *ref;
	pid_t pgid;

	spec_init(&spec, "j00000008", "sleep 1000\n");
	ref = launch(f, &spec, NULL);
	wait_state(f, ref, JOB_RUNNING, &st);
	pgid = read_pid(ref, "pid");
	local_provider_ops.close(f->p);
	loop_free(f->loop);
	f->loop = loop_new();
	t_loop = f->loop;
	assert_int_equal(open_provider(f), 0);
	refresh(f, ref, &st);
	assert_int_equal(st.state, JOB_RUNNING);
	assert_int_equal(kill(-pgid, 0), 0);
	stop(f, ref, 5000, &d);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_STOPPED);
	wait_group_gone(f, pgid);
	free(d.cause);
	free(st.reason);
	free(ref);
}

static void test_supervisor_dies(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	struct done_out d;
	char *ref;
	pid_t pgid, sup;

	spec_init(&spec, "j00000009", "trap '' TERM; echo armed; sleep 1000\n");
	ref = launch(f, &spec, NULL);
	wait_file(f, ref, "job.log", "armed");
	wait_state(f, ref, JOB_RUNNING, &st);
	pgid = read_pid(ref, "pid");
	sup = read_pid(ref, "supervisor.pid");
	assert_int_equal(kill(sup, SIGKILL), 0);
	for (;;) {
		refresh(f, ref, &st);
		if (st.reason != NULL && strstr(st.reason, "supervisor died") != NULL)
			break;
		pump(f, 20);
	}
	assert_int_equal(st.state, JOB_RUNNING);
	/* nobody escalates but us: the job ignores TERM, our timer KILLs it */
	stop(f, ref, 200, &d);
	assert_int_equal(d.rc, 0);
	wait_group_gone(f, pgid);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_STOPPED);
	assert_false(st.has_exit);
	free(d.cause);
	free(st.reason);
	free(ref);
}

static void test_supervisor_dies_then_job(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	char *ref;
	pid_t pgid;

	spec_init(&spec, "j0000000a", "sleep 1000\n");
	ref = launch(f, &spec, NULL);
	wait_state(f, ref, JOB_RUNNING, &st);
	pgid = read_pid(ref, "pid");
	assert_int_equal(kill(read_pid(ref, "supervisor.pid"), SIGKILL), 0);
	assert_int_equal(kill(-pgid, SIGKILL), 0);
	wait_group_gone(f, pgid);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_non_null(strstr(st.reason, "supervisor died"));
	free(st.reason);
	free(ref);
}

static int have_python3(void)
{
	return system("python3 -c 'import http.server' >/dev/null 2>&1") == 0;
}

static void test_readiness(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	struct done_out d;
	char *ref, *work, *ready;
	uint64_t until;
	int port = 0;

	if (!have_python3())
		skip();
	spec_init(&spec, "j0000000b",
	          "while [ ! -e go ]; do sleep 0.05; done\n"
	          "exec python3 -m http.server \"$GANTRY_PORT\" --bind 127.0.0.1\n");
	spec.kind = JOB_KIND_ENDPOINT;
	spec.want_port = 1;
	spec.readiness_path = "/";
	spec.readiness_timeout_s = 60;
	ref = launch(f, &spec, &port);
	assert_true(port > 0);
	/* nothing listens yet: STARTING, never RUNNING */
	until = loop_now_ms() + 700;
	while (loop_now_ms() < until) {
		refresh(f, ref, &st);
		assert_int_equal(st.state, JOB_STARTING);
		pump(f, 50);
	}
	assert_false(local_file_exists(ref, "ready"));
	work = xprintf("%s/work", ref);
	touch(work, "go");
	wait_state(f, ref, JOB_RUNNING, &st);
	ready = read_text(ref, "ready");
	assert_true(strlen(ready) > 0);
	free(ready);
	stop(f, ref, 5000, &d);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_STOPPED);
	free(d.cause);
	free(work);
	free(st.reason);
	free(ref);
}

static void test_readiness_timeout(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	char *ref, *want;
	int port = 0;

	spec_init(&spec, "j0000000c", "sleep 1000\n");
	spec.kind = JOB_KIND_ENDPOINT;
	spec.want_port = 1;
	spec.readiness_path = "/health";
	spec.readiness_timeout_s = 2;
	ref = launch(f, &spec, &port);
	wait_state(f, ref, JOB_STATE_COUNT, &st);
	assert_int_equal(st.state, JOB_FAILED);
	want = xprintf("readiness probe GET http://127.0.0.1:%d/health did not answer 2xx "
	               "within 2 s (last: connection refused)",
	               port);
	assert_string_equal(st.reason, want);
	free(want);
	free(st.reason);
	free(ref);
}

static void on_log(void *arg, const char *data, size_t len, int eof)
{
	struct log_out *o = arg;

	if (eof) {
		o->eof++;
		return;
	}
	o->chunks++;
	o->buf = xrealloc(o->buf, o->len + len + 1);
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	o->buf[o->len] = '\0';
	if (o->close_on_first) {
		local_provider_ops.logs_close(o->f->p, o->lg);
		o->lg = NULL;
	}
}

static void wait_log(struct fx *f, struct log_out *o, const char *needle, int eof)
{
	uint64_t end = loop_now_ms() + WAIT_LIMIT_MS;

	while ((needle != NULL && (o->buf == NULL || strstr(o->buf, needle) == NULL)) ||
	       (eof && o->eof == 0)) {
		if (loop_now_ms() > end)
			fail_msg("log never showed '%s' (eof %d): %s", needle != NULL ? needle : "",
			         o->eof, o->buf != NULL ? o->buf : "");
		pump(f, 20);
	}
}

/* A followed tail (what a screen asks for) skips ahead when the job floods its log, and
 * says so; a full follow would have had to read every byte. */
static void test_logs_tail_skips(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct log_out o = {0};
	struct provider_logs *lg = NULL;
	char *cause = NULL, *ref, *work;

	spec_init(&spec, "j00000010",
	          "echo begin\nwhile [ ! -e go ]; do sleep 0.05; done\n"
	          "head -c 400000 /dev/zero | tr '\\0' x\necho\necho last-line\n"
	          "while [ ! -e done ]; do sleep 0.05; done\n");
	ref = launch(f, &spec, NULL);
	wait_file(f, ref, "job.log", "begin");
	assert_int_equal(local_provider_ops.logs_open(f->p, ref, 1, 1000, on_log, &o, &lg, &cause),
	                 0);
	wait_log(f, &o, "begin\n", 0);
	work = xprintf("%s/work", ref);
	touch(work, "go");
	wait_log(f, &o, "last-line\n", 0);
	assert_non_null(strstr(o.buf, "[gantry: skipped "));
	assert_true(o.len < 100000); /* 400,000 bytes were written */
	touch(work, "done");
	wait_log(f, &o, NULL, 1);
	local_provider_ops.logs_close(f->p, lg);
	free(cause);
	free(work);
	free(ref);
	free(o.buf);
}

static void test_logs(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	struct log_out o = {0}, t = {0}, c = {0};
	struct provider_logs *lg = NULL;
	char *cause = NULL, *ref, *work;

	spec_init(&spec, "j0000000d",
	          "echo first\nwhile [ ! -e go ]; do sleep 0.05; done\necho second\n");
	ref = launch(f, &spec, NULL);
	wait_file(f, ref, "job.log", "first");
	assert_int_equal(local_provider_ops.logs_open(f->p, ref, 1, 0, on_log, &o, &lg, &cause), 0);
	wait_log(f, &o, "first\n", 0);
	assert_int_equal(o.eof, 0);
	work = xprintf("%s/work", ref);
	touch(work, "go");
	wait_log(f, &o, "second\n", 1);
	assert_string_equal(o.buf, "first\nsecond\n");
	assert_int_equal(o.eof, 1);
	local_provider_ops.logs_close(f->p, lg);
	wait_state(f, ref, JOB_STATE_COUNT, &st);

	/* the tail of a finished job, without follow */
	assert_int_equal(local_provider_ops.logs_open(f->p, ref, 0, 7, on_log, &t, &lg, &cause), 0);
	wait_log(f, &t, NULL, 1);
	assert_string_equal(t.buf, "second\n");
	local_provider_ops.logs_close(f->p, lg);

	/* closing from inside the callback stops every further call */
	c.close_on_first = 1;
	c.f = f;
	assert_int_equal(local_provider_ops.logs_open(f->p, ref, 1, 0, on_log, &c, &c.lg, &cause),
	                 0);
	for (int i = 0; i < 10; i++)
		pump(f, 10);
	assert_int_equal(c.chunks, 1);
	assert_int_equal(c.eof, 0);
	assert_null(c.lg);

	free(cause);
	free(work);
	free(o.buf);
	free(t.buf);
	free(c.buf);
	free(st.reason);
	free(ref);
}

static void test_offer(void **state)
{
	struct fx *f = *state;
	struct template t;
	struct tpl_accel acc = {.name = "H100", .count = 8};
	struct offer_verdict o;
	char *cause = NULL;

	memset(&t, 0, sizeof t);
	t.resources.accels = &acc;
	t.resources.naccels = 1;
	assert_int_equal(t_offer(f->p, &t, &o, &cause), 0);
	assert_int_equal(o.priced, 0);
	if (o.gpus >= 8 && o.gpu_name != NULL && strcasestr(o.gpu_name, "h100") != NULL) {
		assert_int_equal(o.fits, 1); /* a real 8xH100 host */
	} else {
		assert_int_equal(o.fits, 0);
		assert_non_null(o.reason);
		assert_non_null(strstr(o.reason, "needs H100:8; this host has "));
	}
	assert_non_null(strstr(o.description, "this host: "));
	assert_true(o.cpus > 0);
	assert_true(o.memory_mib > 0);
	offer_verdict_clear(&o);

	memset(&t, 0, sizeof t);
	t.resources.cpus = 1;
	assert_int_equal(t_offer(f->p, &t, &o, &cause), 0);
	assert_int_equal(o.fits, 1);
	assert_null(o.reason);
	offer_verdict_clear(&o);

	t.resources.cpus = 100000;
	assert_int_equal(t_offer(f->p, &t, &o, &cause), 0);
	assert_int_equal(o.fits, 0);
	assert_non_null(strstr(o.reason, "needs 100000 CPUs; this host has "));
	offer_verdict_clear(&o);

	t.resources.cpus = 0;
	t.resources.memory_gib = 1 << 30;
	assert_int_equal(t_offer(f->p, &t, &o, &cause), 0);
	assert_int_equal(o.fits, 0);
	assert_non_null(strstr(o.reason, "GiB"));
	offer_verdict_clear(&o);
	free(cause);
}

static void test_list_destroy(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct status_out st = {0};
	char **refs = NULL, **ids = NULL;
	size_t n = 0;
	char *cause = NULL, *ref, *junk;
	pid_t pgid;
	int found = 0;

	junk = xprintf("%s/not-a-job", f->state);
	assert_int_equal(mkdir(junk, 0700), 0);
	spec_init(&spec, "j0000000e", "sleep 1000\n");
	ref = launch(f, &spec, NULL);
	wait_state(f, ref, JOB_RUNNING, &st);
	pgid = read_pid(ref, "pid");
	assert_int_equal(t_list_owned(f->p, &refs, &ids, &n, &cause), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ids[i], "j0000000e") == 0 && strcmp(refs[i], ref) == 0)
			found++;
		assert_string_not_equal(ids[i], "not-a-job");
		free(refs[i]);
		free(ids[i]);
	}
	free(refs);
	free(ids);
	assert_int_equal(found, 1);
	assert_int_equal(t_destroy(f->p, "/etc", &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(t_destroy(f->p, junk, &cause), 0);
	assert_int_equal(t_destroy(f->p, ref, &cause), 0);
	assert_int_not_equal(access(ref, F_OK), 0);
	wait_group_gone(f, pgid);
	refresh(f, ref, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_string_equal(st.reason, "job directory vanished");
	free(junk);
	free(st.reason);
	free(ref);
}

/* With an installation id, list_owned lists only job dirs labelled with it: not another
 * store's, not an unlabelled one (a Gantry before labels). */
static void test_list_labelled(void **state)
{
	struct fx *f = *state;
	struct provider_config cfg = {
	    .name = "local", .state_dir = f->state, .loop = f->loop, .installation_id = "inst-a"};
	struct provider_job_spec spec;
	struct provider *pa = NULL;
	struct status_out st = {0};
	char **refs = NULL, **ids = NULL;
	size_t n = 0;
	char *cause = NULL, *ra, *rb, *rn, *meta;

	spec_init(&spec, "j00000021", "sleep 1000\n");
	spec.installation_id = "inst-a";
	ra = launch(f, &spec, NULL);
	spec_init(&spec, "j00000022", "sleep 1000\n");
	spec.installation_id = "inst-b";
	rb = launch(f, &spec, NULL);
	spec_init(&spec, "j00000023", "sleep 1000\n");
	rn = launch(f, &spec, NULL);
	/* list_owned lists a job dir once its supervisor has written its pid */
	wait_state(f, ra, JOB_RUNNING, &st);
	wait_state(f, rb, JOB_RUNNING, &st);
	wait_state(f, rn, JOB_RUNNING, &st);
	free(st.reason);
	meta = local_read_file(ra, "meta");
	assert_non_null(strstr(meta, "\nowner=tester\n"));
	assert_non_null(strstr(meta, "\ninstallation_id=inst-a\n"));
	free(meta);
	assert_int_equal(local_provider_ops.open(&cfg, &pa, &cause), 0);
	assert_int_equal(t_list_owned(pa, &refs, &ids, &n, &cause), 0);
	assert_int_equal(n, 1);
	{ /* v2: the owner label comes with the list */
		struct t_owned o = {0};

		assert_int_equal(local_provider_ops.list_owned(pa, t_owned_cb, &o, &cause), 0);
		assert_int_equal(o.n, 1);
		assert_non_null(o.owner0);
		assert_string_equal(o.owner0, "tester");
		for (size_t i = 0; i < o.n; i++) {
			free(o.refs[i]);
			free(o.ids[i]);
		}
		free(o.refs);
		free(o.ids);
		free(o.owner0);
	}
	assert_string_equal(ids[0], "j00000021");
	assert_string_equal(refs[0], ra);
	free(refs[0]);
	free(ids[0]);
	free(refs);
	free(ids);
	local_provider_ops.close(pa);
	free(ra);
	free(rb);
	free(rn);
}

static void test_bad_refs(void **state)
{
	struct fx *f = *state;
	struct provider_job_spec spec;
	struct done_out d = {0};
	struct status_out st = {0};
	char *cause = NULL, *bad;

	spec_init(&spec, "../escape", "true\n");
	assert_int_equal(local_provider_ops.launch(f->p, &spec, on_launch, NULL, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	bad = xprintf("%s/../x", f->state);
	assert_int_equal(local_provider_ops.stop(f->p, bad, 10, on_done, &d, &cause), -1);
	assert_int_equal(d.called, 0);
	free(cause);
	cause = NULL;
	assert_int_equal(local_provider_ops.refresh(f->p, "j", "/tmp", on_status, &st, &cause), -1);
	free(cause);
	cause = NULL;
	free(bad);

	/* a supervisor that cannot be exec'd fails the launch, and a retry may try again */
	{
		struct provider_config cfg = {.name = "local",
		                              .state_dir = f->state,
		                              .self_exe = "/nonexistent/gantry",
		                              .loop = f->loop};
		struct provider *p2 = NULL;

		assert_int_equal(local_provider_ops.open(&cfg, &p2, &cause), 0);
		spec_init(&spec, "j0000000f", "true\n");
		assert_int_equal(local_provider_ops.launch(p2, &spec, on_launch, NULL, &cause), -1);
		assert_non_null(strstr(cause, "cannot start the supervisor"));
		free(cause);
		cause = NULL;
		local_provider_ops.close(p2);
		bad = xprintf("%s/j0000000f", f->state);
		wait_state(f, bad, JOB_FAILED, &st); /* STARTING until its exit closed the lock */
		assert_string_equal(st.reason, "the job's supervisor never started");
		free(st.reason);
		free(bad);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_failed_exit_status, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_succeeded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env_no_gpu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_launch_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_existing_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_ignores_term, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_survives_provider_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_supervisor_dies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_supervisor_dies_then_job, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readiness, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readiness_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logs_tail_skips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_destroy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_labelled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_refs, setup, teardown),
	};
	ssize_t n;

	if (argc >= 2 && strcmp(argv[1], "__supervise") == 0)
		return local_supervise_main(argc, argv);
	n = readlink("/proc/self/exe", g_self_exe, sizeof g_self_exe - 1);
	if (n <= 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	g_self_exe[n] = '\0';
	/* orphaned supervisors come back to us and are reaped, not left as zombies */
	prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
