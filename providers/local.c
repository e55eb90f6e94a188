/* local.c: the `local` provider. Jobs are processes on this host, each watched by a detached
 * supervisor (`gantry __supervise DIR`, providers/local_supervise.c) so that they survive
 * Gantry exiting or crashing. Everything the provider knows about a job lives in files in the
 * job's directory (see local.h); this side only writes requests, sends signals and reads
 * files, so it never blocks beyond local file I/O. */
#include "providers/local.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/safefile.h"
#include "core/sanitize.h"
#include "core/template.h"
#include "core/xmalloc.h"
#include "providers/local_tree.h"
#include "providers/provider.h"

extern char **environ;

#define LOCAL_READ_MAX        65536   /* bytes: largest state file we read */
#define LOCAL_LOG_CHUNK       65536   /* bytes per log callback */
#define LOCAL_LOG_PER_TICK    1048576 /* bytes delivered per loop turn before yielding */
#define LOCAL_LOG_TAIL_MS     200     /* a followed tail reads at most this often */
#define LOCAL_LOG_SKIP_KEEP   16384   /* bytes re-read after a followed tail skips ahead */
#define LOCAL_LOG_POLL_MS     200     /* follow without inotify */
#define LOCAL_LOG_SAFETY_MS   1000    /* follow with inotify: a slow safety poll */
#define LOCAL_LOCK_WAIT_TRIES 200     /* x 10 ms: waiting for a concurrent launcher */

/* A stop whose supervisor is dead: we escalate to SIGKILL ourselves. */
struct local_stop {
	struct provider *p;
	struct loop_timer *timer; /* one-shot */
	pid_t pgid;
	long long starttime; /* of the group leader, so a reused pid is never signalled */
	char *cgroup;        /* the job's cgroup (killed whole), or NULL */
	struct local_stop *next;
};

struct provider_logs {
	struct provider *p;
	char *dir;
	int fd;       /* job.log, -1 until it exists */
	int64_t tail; /* bytes: start this far from the end, 0 = from the start */
	int follow;
	provider_log_cb cb;
	void *arg;
	struct loop_timer *timer; /* repeating */
	struct loop_timer *again; /* one-shot, 0 ms: more is unread after a full turn */
	int ino_fd;               /* inotify on the job directory, -1 without */
	struct loop_fd *ino_watch;
	int done;   /* eof delivered */
	int in_cb;  /* inside cb: a close must be deferred */
	int closed; /* logs_close came while in_cb */
	struct provider_logs *next;
};

struct provider {
	char *name;
	char *state_dir; /* absolute, canonical */
	char *self_exe;  /* or NULL: launch is refused */
	struct loop *loop;
	int host_probed;
	struct local_host host;
	struct local_stop *stops;
	struct provider_logs *logs;
	struct local_seen *seen;        /* jobs last seen RUNNING: the cheap refresh path */
	struct local_destroy *destroys; /* waiting for a killed cgroup to empty */
	double rate_cpu_hour; /* site rates from config (providers: local:); < 0 = unset */
	double rate_gpu_hour;
	char *installation_id; /* list_owned lists only job dirs labelled with it; NULL: all */
	int64_t log_max_bytes; /* job.log cap handed to each supervisor; 0 = none */
};

/* A destroy waiting (on a loop timer, never sleeping) for its cgroup to empty. */
struct local_destroy {
	struct provider *p;
	char *ref;
	char *cg;
	int tries;
	struct loop_timer *timer;
	provider_done_cb cb;
	void *arg;
	struct local_destroy *next;
};

static void local_destroy_finish(struct local_destroy *d, const char *closed);

/* A job last seen RUNNING with its supervisor alive. Until its `exit` file appears it is
 * re-checked in full only every LOCAL_FULL_CHECK_MS, so a screen left open on hundreds of
 * jobs costs one stat(2) per job per refresh. */
struct local_seen {
	char *dir;
	uint64_t checked_ms; /* monotonic time of the last full check */
	struct local_seen *next;
};

#define LOCAL_FULL_CHECK_MS 10000

/* ---- files ---- */

int local_write_file(const char *dir, const char *name, const char *data, size_t len, mode_t mode,
                     char **cause)
{
	static unsigned counter;
	char *path = xprintf("%s/%s", dir, name);
	char *tmp = xprintf("%s/.%s.tmp.%ld.%u", dir, name, (long)getpid(), counter++);
	size_t off = 0;
	int fd, rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		xcause(cause, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) != 0) {
		xcause(cause, "cannot chmod %s: %s", tmp, strerror(errno));
		goto fail;
	}
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			xcause(cause, "cannot write %s: %s", tmp, strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		xcause(cause, "cannot fsync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		xcause(cause, "cannot write %s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		xcause(cause, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail;
	}
	rc = 0;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	free(tmp);
	free(path);
	return rc;
}

/* Opens path for reading when it is a regular file: never through a symlink, and never
 * blocking on a FIFO the job put in its directory. -1 otherwise. */
static int local_open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		return -1;
	}
	return fd;
}

char *local_read_file(const char *dir, const char *name)
{
	char *path = xprintf("%s/%s", dir, name);
	int fd = local_open_regular(path);
	char *buf;
	size_t len = 0;

	free(path);
	if (fd < 0)
		return NULL;
	buf = xmalloc(LOCAL_READ_MAX + 1);
	while (len < LOCAL_READ_MAX) {
		ssize_t n = read(fd, buf + len, LOCAL_READ_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

int local_file_exists(const char *dir, const char *name)
{
	char *path = xprintf("%s/%s", dir, name);
	struct stat sb;
	int rc = lstat(path, &sb) == 0;

	free(path);
	return rc;
}

long long local_proc_starttime(pid_t pid)
{
	char path[64], buf[1024];
	const char *p;
	long long start = -1;
	ssize_t n;
	int fd, field;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: fields restart after the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return -1;
	p += 2;
	if (*p == 'Z' || *p == 'X')
		return -1;
	for (field = 3; field < 22 && *p != '\0'; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return -1;
		p++;
	}
	if (field != 22 || sscanf(p, "%lld", &start) != 1)
		return -1;
	return start;
}

static int local_pid_of_job(const char *dir, const char *name, pid_t pid);

pid_t local_pidfile_alive(const char *dir, const char *name, pid_t *pid_out)
{
	char *text = local_read_file(dir, name);
	long pid = 0;
	long long start = 0;
	int ok;

	if (text == NULL)
		return -1;
	ok = sscanf(text, "%ld %lld", &pid, &start) == 2 && pid > 0;
	free(text);
	if (!ok)
		return -1;
	if (pid_out != NULL)
		*pid_out = (pid_t)pid;
	return local_proc_starttime((pid_t)pid) == start && local_pid_of_job(dir, name, (pid_t)pid)
	           ? (pid_t)pid
	           : 0;
}

int local_pidfile_write(const char *dir, const char *name, pid_t pid, char **cause)
{
	char buf[64];
	long long start = local_proc_starttime(pid);
	int n;

	if (start < 0)
		return xcause(cause, "cannot read the start time of process %ld", (long)pid);
	n = snprintf(buf, sizeof buf, "%ld %lld\n", (long)pid, start);
	return local_write_file(dir, name, buf, (size_t)n, 0600, cause);
}

/* Removes path and everything below it without following symlinks. */
static int local_remove_tree(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (fd < 0)
		return unlinkat(parent, name, 0) == 0 || errno == ENOENT ? 0 : -1;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (local_remove_tree(dirfd(d), de->d_name) != 0)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

/* ---- refs and processes ---- */

/* A job id usable as one directory name. */
static int local_valid_name(const char *s)
{
	if (s == NULL || s[0] == '\0' || s[0] == '.' || strlen(s) > 128)
		return 0;
	for (const char *c = s; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return 0;
	return 1;
}

/* Checks that ref is a job directory directly inside state_dir. */
static int local_check_ref(struct provider *p, const char *ref, char **cause)
{
	size_t n = strlen(p->state_dir);

	if (ref == NULL || strncmp(ref, p->state_dir, n) != 0 || ref[n] != '/' ||
	    !local_valid_name(ref + n + 1))
		return xcause(cause, "'%s' is not a job directory of this provider (%s)",
		              ref != NULL ? ref : "(none)", p->state_dir);
	return 0;
}

/* Signals the group led by pgid unless its leader's pid now names another process. */
static int local_kill_group(pid_t pgid, long long starttime, int sig)
{
	long long now = local_proc_starttime(pgid);

	if (pgid <= 1 || (now >= 0 && now != starttime))
		return -1;
	return kill(-pgid, sig);
}

/* Reads /proc/PID/FILE (at most 256 KiB, NULs kept) into a heap buffer; NULL when it cannot. */
static char *local_proc_slurp(pid_t pid, const char *file, size_t *len)
{
	char path[64], *buf;
	size_t cap = 256 * 1024;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = xmalloc(cap + 1);
	*len = 0;
	while (*len < cap) {
		ssize_t n = read(fd, buf + *len, cap - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	buf[*len] = '\0';
	return buf;
}

/* 1 when NUL-separated list buf (len bytes) holds the entry want. */
static int local_nul_list_has(const char *buf, size_t len, const char *want)
{
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		if (strcmp(buf + i, want) == 0)
			return 1;
	return 0;
}

/* The job can write its own directory, so a pid file there is believed only for a process of
 * this job: the job's leader was started with GANTRY_JOB_ID=ID (ID the directory's name) in
 * its environment, its supervisor as `gantry __supervise DIR`. A process that is gone passes
 * (its group, if any, is signalled by pgid, which no other group can have meanwhile). */
static int local_pid_of_job(const char *dir, const char *name, pid_t pid)
{
	const char *id = strrchr(dir, '/');
	char *buf, *want;
	size_t len = 0;
	int ok;

	id = id != NULL ? id + 1 : dir;
	if (local_proc_starttime(pid) < 0)
		return 1;
	if (strcmp(name, "supervisor.pid") == 0) {
		buf = local_proc_slurp(pid, "cmdline", &len);
		ok = buf != NULL && local_nul_list_has(buf, len, "__supervise") &&
		     local_nul_list_has(buf, len, dir);
	} else {
		buf = local_proc_slurp(pid, "environ", &len);
		want = xprintf("GANTRY_JOB_ID=%s", id);
		ok = buf != NULL && local_nul_list_has(buf, len, want);
		free(want);
	}
	free(buf);
	return ok;
}

/* Recorded pid and start time of a "PID STARTTIME" file; -1 without one, or when the
 * process it names is alive but not this job's (local_pid_of_job). */
static int local_pidfile_read(const char *dir, const char *name, pid_t *pid, long long *start)
{
	char *text = local_read_file(dir, name);
	long v = 0;
	int ok;

	if (text == NULL)
		return -1;
	ok = sscanf(text, "%ld %lld", &v, start) == 2 && v > 1;
	free(text);
	*pid = (pid_t)v;
	return ok && local_pid_of_job(dir, name, *pid) ? 0 : -1;
}

/* 1 while someone (the supervisor, or a launcher) holds the job's lock. */
static int local_lock_held(const char *dir)
{
	char *path = xprintf("%s/lock", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int held = 0;

	free(path);
	if (fd < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0)
		held = errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/* ---- status ---- */

/* The last non-empty line of the job's log (sanitised, at most 160 bytes), or NULL: a
 * failed job's reason carries it ("exited with status 127: jupyter not found ..."). */
static char *local_log_last_line(const char *dir)
{
	char *path = xprintf("%s/job.log", dir);
	char buf[2048], *line = NULL;
	int fd = local_open_regular(path);
	off_t size;
	ssize_t n;

	free(path);
	if (fd < 0)
		return NULL;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof buf - 1)
		lseek(fd, size - (off_t)(sizeof buf - 1), SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (n == 0)
		return NULL;
	line = strrchr(buf, '\n');
	line = line != NULL ? line + 1 : buf;
	if (strlen(line) > 160)
		line[160] = '\0';
	return sanitize_text(line, (size_t)-1, 0);
}

/* Appends ": LAST LOG LINE" to a failure reason when the log has one. */
static char *local_failure_reason(const char *dir, char *reason)
{
	char *last = local_log_last_line(dir), *r;

	if (last == NULL || *last == '\0') {
		free(last);
		return reason;
	}
	r = xprintf("%s: %s", reason, last);
	free(reason);
	free(last);
	return r;
}

/* For a job whose supervisor died: 1 while its cgroup still holds processes. Its limits are
 * enforced here, since no supervisor does: past the `deadline` (max_runtime) or the grace
 * of a `stop`, the whole cgroup (without one: the job's process group) is killed. An empty
 * cgroup is removed. */
static int local_orphans(const char *dir)
{
	char *cg = local_cgroup_of_job(dir), *text;
	long long deadline = 0, grace = LOCAL_DEFAULT_GRACE_MS, start;
	struct timespec now;
	struct stat sb;
	char *stopf;
	int alive, kill_now = 0;
	pid_t job;

	if (cg != NULL)
		alive = local_cgroup_populated(cg);
	else
		alive = local_pidfile_alive(dir, "pid", NULL) > 0;
	clock_gettime(CLOCK_REALTIME, &now);
	if (alive && (text = local_read_file(dir, "deadline")) != NULL) {
		if (sscanf(text, "%lld", &deadline) == 1 && deadline > 0 &&
		    (long long)now.tv_sec * 1000 >= deadline) {
			kill_now = 1;
			if (!local_file_exists(dir, "stop") &&
			    !local_file_exists(dir, "runtime_exceeded")) {
				static const char r[] = "stopped: it ran past its max_runtime\n";

				local_write_file(dir, "runtime_exceeded", r, sizeof r - 1, 0600,
				                 NULL);
			}
		}
		free(text);
	}
	stopf = xprintf("%s/stop", dir);
	if (alive && lstat(stopf, &sb) == 0) {
		text = local_read_file(dir, "stop");
		if (text != NULL && (sscanf(text, "%lld", &grace) != 1 || grace < 0))
			grace = LOCAL_DEFAULT_GRACE_MS;
		free(text);
		if ((long long)now.tv_sec * 1000 + now.tv_nsec / 1000000 >=
		    (long long)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000 + grace)
			kill_now = 1;
	}
	free(stopf);
	if (kill_now && local_pidfile_read(dir, "pid", &job, &start) == 0)
		local_kill_group(job, start, SIGKILL);
	if (cg == NULL)
		return 0;
	if (kill_now)
		local_cgroup_signal(cg, SIGKILL);
	if (!alive)
		local_cgroup_remove(cg);
	free(cg);
	return alive;
}

/* Fills st from the job directory's files (see local.h). */
static void local_status(const char *dir, struct provider_status *st)
{
	struct stat sb;
	char *text;
	pid_t job, sup;
	int stopped, ready, reread = 0;

again:
	memset(st, 0, sizeof *st);
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		st->state = JOB_FAILED;
		st->reason = xstrdup("job directory vanished");
		return;
	}
	/* `exit` before `stop`: a stop always precedes the exit it causes, so an exit read
	 * first is never paired with a stop that came after it was read */
	text = local_read_file(dir, "exit");
	stopped = local_file_exists(dir, "stop");
	if (text != NULL) {
		char *path = xprintf("%s/exit", dir);
		struct stat xs;

		if (stat(path, &xs) == 0)
			st->ended_ms =
			    (int64_t)xs.st_mtim.tv_sec * 1000 + xs.st_mtim.tv_nsec / 1000000;
		free(path);
	}
	if (text != NULL) {
		int v;

		if (sscanf(text, "exited %d", &v) == 1) {
			st->has_exit = 1;
			st->exit_code = v;
		} else if (sscanf(text, "signal %d", &v) == 1) {
			st->has_exit = 1;
			st->exit_code = -v;
		}
		free(text);
		if (stopped) {
			st->state = JOB_STOPPED;
			st->reason =
			    xstrdup(st->has_exit ? "stopped" : "stopped before it started");
		} else if ((text = local_read_file(dir, "ready_failed")) != NULL ||
		           (text = local_read_file(dir, "runtime_exceeded")) != NULL) {
			text[strcspn(text, "\n")] = '\0';
			st->state = JOB_FAILED;
			st->reason = text;
		} else if (st->has_exit && st->exit_code == 0) {
			st->state = JOB_SUCCEEDED;
			st->reason = xstrdup("exited with status 0");
		} else if (st->has_exit && st->exit_code > 0) {
			st->state = JOB_FAILED;
			st->reason = local_failure_reason(
			    dir, xprintf("exited with status %d", st->exit_code));
		} else if (st->has_exit) {
			st->state = JOB_FAILED;
			st->reason = local_failure_reason(
			    dir, xprintf("killed by signal %d", -st->exit_code));
		} else {
			st->state = JOB_FAILED;
			st->reason = xstrdup("the job ended; its exit status is unreadable");
		}
		return;
	}
	job = local_pidfile_alive(dir, "pid", NULL);
	sup = local_pidfile_alive(dir, "supervisor.pid", NULL);
	/* The supervisor may have written `exit` and ended since we read it: read it again. */
	if (sup <= 0 && !reread && local_file_exists(dir, "exit")) {
		reread = 1;
		goto again;
	}
	if (sup == 0 && local_orphans(dir) && job <= 0)
		job = 1; /* what the job left in its cgroup runs on */
	ready = !local_file_exists(dir, "readiness") || local_file_exists(dir, "ready");
	if (job > 0 || (job == 0 && sup > 0)) {
		/* running, or ended with its supervisor still clearing up the group */
		st->state = ready ? JOB_RUNNING : JOB_STARTING;
		if (sup <= 0)
			st->reason = xstrdup("the job's supervisor died; the job is still watched "
			                     "by its pid");
		else if (!ready)
			st->reason = xstrdup("waiting for the readiness probe");
		return;
	}
	if (sup > 0 || local_lock_held(dir)) {
		st->state = JOB_STARTING;
		st->reason = xstrdup("starting");
		return;
	}
	if (stopped) {
		st->state = JOB_STOPPED;
		st->reason = xstrdup("stopped; exit status unknown (its supervisor had died)");
	} else if ((text = local_read_file(dir, "runtime_exceeded")) != NULL) {
		text[strcspn(text, "\n")] = '\0';
		st->state = JOB_FAILED;
		st->reason = text;
	} else if (sup < 0) {
		st->state = JOB_FAILED;
		st->reason = xstrdup("the job's supervisor never started");
	} else {
		st->state = JOB_FAILED;
		st->reason = xstrdup("the job's supervisor died; exit status unknown");
	}
}

/* ---- open / close ---- */

static int local_open(const struct provider_config *cfg, struct provider **out, char **cause)
{
	struct provider *p;
	char *path, *slash, *real;

	if (cfg->state_dir == NULL || cfg->state_dir[0] == '\0')
		return xcause(cause, "local: no state directory configured");
	if (cfg->loop == NULL)
		return xcause(cause, "local: no event loop");
	path = xstrdup(cfg->state_dir);
	for (slash = strchr(path + 1, '/');; slash = strchr(slash + 1, '/')) {
		if (slash != NULL)
			*slash = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			xcause(cause, "local: cannot create %s: %s", path, strerror(errno));
			free(path);
			return -1;
		}
		if (slash == NULL)
			break;
		*slash = '/';
	}
	free(path);
	real = realpath(cfg->state_dir, NULL);
	if (real == NULL)
		return xcause(cause, "local: cannot resolve %s: %s", cfg->state_dir,
		              strerror(errno));
	p = xcalloc(1, sizeof *p);
	p->rate_cpu_hour = p->rate_gpu_hour = -1;
	p->log_max_bytes = cfg->log_max_bytes;
	for (size_t i = 0; cfg->settings != NULL && i < cfg->settings->n; i++) {
		const char *k = cfg->settings->keys[i], *v = cfg->settings->vals[i];
		const char *pos =
		    cfg->settings_pos != NULL ? kvlist_get(cfg->settings_pos, k) : NULL;
		double *dst = strcmp(k, "rate_cpu_hour") == 0   ? &p->rate_cpu_hour
		              : strcmp(k, "rate_gpu_hour") == 0 ? &p->rate_gpu_hour
		                                                : NULL;
		char *end;

		if (dst == NULL) {
			free(p);
			free(real);
			return xcause(
			    cause, "%s: unknown setting '%s' (known: rate_cpu_hour, rate_gpu_hour)",
			    pos != NULL ? pos : "local", k);
		}
		*dst = strtod(v, &end);
		if (end == v || *end != '\0' || !isfinite(*dst) || *dst < 0) {
			free(p);
			free(real);
			return xcause(cause, "%s: '%s' expects a price in USD per hour, got '%s'",
			              pos != NULL ? pos : "local", k, v);
		}
	}
	p->name = xstrdup(cfg->name != NULL ? cfg->name : "local");
	p->state_dir = xstrdup(real);
	free(real);
	p->self_exe = cfg->self_exe != NULL ? xstrdup(cfg->self_exe) : NULL;
	p->installation_id = cfg->installation_id != NULL ? xstrdup(cfg->installation_id) : NULL;
	p->loop = cfg->loop;
	*out = p;
	return 0;
}

static void local_logs_free(struct provider_logs *lg);
static void local_stop_fire(void *arg);

static void local_close(struct provider *p)
{
	if (p == NULL)
		return;
	/* Nobody will be left to escalate: kill what we were about to kill now. */
	while (p->stops != NULL) {
		struct local_stop *s = p->stops;

		p->stops = s->next;
		loop_timer_cancel(p->loop, s->timer);
		local_stop_fire(s); /* no longer listed: kills and frees */
	}
	while (p->logs != NULL)
		local_logs_free(p->logs);
	while (p->destroys != NULL)
		local_destroy_finish(p->destroys, "the local provider closed");
	while (p->seen != NULL) {
		struct local_seen *s = p->seen;

		p->seen = s->next;
		free(s->dir);
		free(s);
	}
	local_host_clear(&p->host);
	free(p->name);
	free(p->state_dir);
	free(p->self_exe);
	free(p->installation_id);
	free(p);
}

/* ---- offer ---- */

/* "23.4 GiB" style. */
static char *local_gib(int64_t mib)
{
	return xprintf("%.1f GiB", (double)mib / 1024.0);
}

/* "no GPU" / "1x NVIDIA H100 80GB HBM3" / "8 GPUs". */
static char *local_gpu_desc(const struct local_host *h)
{
	if (h->gpus == 0)
		return xstrdup("no GPU");
	if (h->gpu_name != NULL)
		return xprintf("%dx %s", h->gpus, h->gpu_name);
	return xprintf("%d GPU%s", h->gpus, h->gpus == 1 ? "" : "s");
}

/* Case-insensitive substring. */
static int local_name_matches(const char *want, const char *have)
{
	size_t n = strlen(want);

	if (strcasecmp(want, "any") == 0)
		return 1;
	if (have == NULL)
		return 0;
	for (const char *c = have; *c != '\0'; c++)
		if (strncasecmp(c, want, n) == 0)
			return 1;
	return 0;
}

int local_offer(struct provider *p, const struct template *t, struct offer_verdict *out,
                char **cause)
{
	const struct local_host *h = &p->host;
	char *mem, *gpu;

	if (!p->host_probed) {
		local_host_probe(&p->host);
		p->host_probed = 1;
	}
	memset(out, 0, sizeof *out);
	mem = local_gib(h->memory_mib);
	gpu = local_gpu_desc(h);
	out->provider = xstrdup(p->name);
	out->description =
	    xprintf("this host: %d CPU%s, %s RAM, %s", h->cpus, h->cpus == 1 ? "" : "s", mem, gpu);
	out->cpus = h->cpus;
	out->memory_mib = h->memory_mib;
	out->gpus = h->gpus;
	out->gpu_name = h->gpu_name != NULL ? xstrdup(h->gpu_name) : NULL;
	out->priced = 0;
	if (p->rate_cpu_hour >= 0 || p->rate_gpu_hour >= 0) {
		int cpus = t != NULL && t->resources.cpus > 0 ? t->resources.cpus : 1;
		int gpus = t != NULL && t->resources.naccels > 0 ? t->resources.accels[0].count : 0;

		/* a rate that is not set prices its part only when nothing of it is used */
		if ((p->rate_cpu_hour >= 0 || cpus == 0) && (p->rate_gpu_hour >= 0 || gpus == 0)) {
			out->priced = 1;
			out->price_per_hour = (p->rate_cpu_hour > 0 ? p->rate_cpu_hour * cpus : 0) +
			                      (p->rate_gpu_hour > 0 ? p->rate_gpu_hour * gpus : 0);
		}
	}
	out->fits = 1;
	/* Launches get the first alternative's GPU count, so that is the one that must fit. */
	if (t != NULL && t->resources.naccels > 0) {
		const struct tpl_accel *a = &t->resources.accels[0];

		if (a->count > h->gpus ||
		    (a->count > 0 && !local_name_matches(a->name, h->gpu_name))) {
			out->fits = 0;
			out->reason =
			    xprintf("needs %s:%d; this host has %s", a->name, a->count, gpu);
		}
	}
	if (out->fits && t != NULL && t->resources.cpus > h->cpus) {
		out->fits = 0;
		out->reason =
		    xprintf("needs %d CPUs; this host has %d", t->resources.cpus, h->cpus);
	}
	if (out->fits && t != NULL && (int64_t)t->resources.memory_gib * 1024 > h->memory_mib) {
		out->fits = 0;
		out->reason =
		    xprintf("needs %d GiB RAM; this host has %s", t->resources.memory_gib, mem);
	}
	free(mem);
	free(gpu);
	(void)cause;
	return 0;
}

/* ---- launch ---- */

/* A free TCP port on 127.0.0.1 (bind to port 0 and read it back); -1 on error. */
static int local_pick_port(char **cause)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int port = -1;

	if (fd < 0) {
		xcause(cause, "cannot create a socket: %s", strerror(errno));
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		xcause(cause, "cannot pick a free port: %s", strerror(errno));
	else
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* Port recorded in the job directory, 0 when none. */
static int local_read_port(const char *dir)
{
	char *text = local_read_file(dir, "port");
	int port = 0;

	if (text != NULL) {
		if (sscanf(text, "%d", &port) != 1 || port < 0 || port > 65535)
			port = 0;
		free(text);
	}
	return port;
}

/* Whether environ entry e ("K=V") sets a key that is in l. */
static int local_env_overridden(const char *e, const struct kvlist *l)
{
	size_t klen = strcspn(e, "=");

	if (strncmp(e, "GANTRY_SUPERVISE_", 17) == 0)
		return 1;
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->keys[i]) == klen && strncmp(e, l->keys[i], klen) == 0)
			return 1;
	return 0;
}

/* Whether the name of e ("K=V", K klen long) is p, or starts with p's prefix when p is
 * "PREFIX*". */
static int local_env_match(const char *e, size_t klen, const char *p)
{
	size_t plen = strlen(p);

	if (plen > 0 && p[plen - 1] == '*')
		return klen >= plen - 1 && strncmp(e, p, plen - 1) == 0;
	return plen == klen && strncmp(e, p, klen) == 0;
}

/* Whether environ entry e ("K=V") is one a job may see: the minimal set (HOME, USER,
 * LOGNAME, PATH, SHELL, LANG, LC_*, TZ, TERM) or one that config.yaml's `job_env: pass:`
 * names (NAME, or PREFIX*). Nothing else of Gantry's environment reaches a job: neither
 * credentials (AWS_SECRET_ACCESS_KEY, tokens) nor Gantry's own GANTRY_* settings. */
static int local_env_passes(const char *e, const char *const *pass)
{
	static const char *const minimal[] = {"HOME", "USER", "LOGNAME", "PATH", "SHELL",
	                                      "LANG", "LC_*", "TZ",      "TERM"};
	size_t klen = strcspn(e, "=");

	if (strncmp(e, "GANTRY_SUPERVISE_", 17) == 0)
		return 0;
	for (size_t i = 0; i < sizeof minimal / sizeof minimal[0]; i++)
		if (local_env_match(e, klen, minimal[i]))
			return 1;
	for (size_t i = 0; pass != NULL && pass[i] != NULL; i++)
		if (local_env_match(e, klen, pass[i]))
			return 1;
	return 0;
}

/* The supervisor's environment: the part of ours a job may see (local_env_passes) minus
 * what the job gets set explicitly, plus that; HOME, USER, LOGNAME, SHELL and PATH are
 * filled in when Gantry's environment lacks them. NULL-terminated heap array of heap
 * strings. */
static char **local_build_env(const struct provider_job_spec *spec, int port, const char *ready_url,
                              int ready_timeout_s)
{
	static const char *const filled[] = {"HOME", "USER", "LOGNAME", "SHELL", "PATH"};
	struct passwd *pw = getpwuid(getuid());
	struct kvlist set;
	char buf[32];
	char **envp;
	size_t n = 0, cap = 0;

	kvlist_init(&set);
	for (size_t i = 0; i < sizeof filled / sizeof filled[0]; i++) {
		const char *v = filled[i][0] == 'H'   ? (pw != NULL ? pw->pw_dir : "/")
		                : filled[i][0] == 'S' ? (pw != NULL ? pw->pw_shell : "/bin/sh")
		                : filled[i][0] == 'P' ? "/usr/local/bin:/usr/bin:/bin"
		                                      : (pw != NULL ? pw->pw_name : NULL);

		if (getenv(filled[i]) == NULL && v != NULL && v[0] != '\0')
			kvlist_set(&set, filled[i], v);
	}
	if (spec->env != NULL)
		for (size_t i = 0; i < spec->env->n; i++)
			kvlist_set(&set, spec->env->keys[i], spec->env->vals[i]);
	kvlist_set(&set, "GANTRY_JOB_ID", spec->job_id);
	if (port > 0) {
		snprintf(buf, sizeof buf, "%d", port);
		kvlist_set(&set, "GANTRY_PORT", buf);
	}
	snprintf(buf, sizeof buf, "%d", spec->gpus > 0 ? spec->gpus : 0);
	kvlist_set(&set, "GANTRY_GPUS", buf);
	if (spec->gpus > 0) {
		char *list = xstrdup("0");

		for (int i = 1; i < spec->gpus; i++) {
			char *next = xprintf("%s,%d", list, i);

			free(list);
			list = next;
		}
		kvlist_set(&set, "CUDA_VISIBLE_DEVICES", list);
		free(list);
	}
	if (ready_url != NULL) {
		kvlist_set(&set, LOCAL_ENV_READY_URL, ready_url);
		snprintf(buf, sizeof buf, "%d", ready_timeout_s);
		kvlist_set(&set, LOCAL_ENV_READY_TIMEOUT, buf);
	}
	if (spec->max_runtime_s > 0) {
		snprintf(buf, sizeof buf, "%ld", spec->max_runtime_s);
		kvlist_set(&set, LOCAL_ENV_MAX_RUNTIME, buf);
	}
	kvlist_set(&set, LOCAL_ENV_LOCK_FD, "3");
	for (size_t i = 0; environ != NULL && environ[i] != NULL; i++)
		cap++;
	cap += set.n + 1;
	envp = xcalloc(cap, sizeof *envp);
	for (size_t i = 0; environ != NULL && environ[i] != NULL; i++)
		if (strchr(environ[i], '=') != NULL &&
		    local_env_passes(environ[i], spec->env_pass) &&
		    !local_env_overridden(environ[i], &set) &&
		    strncmp(environ[i], "GANTRY_PORT=", 12) != 0)
			envp[n++] = xstrdup(environ[i]);
	for (size_t i = 0; i < set.n; i++)
		envp[n++] = xprintf("%s=%s", set.keys[i], set.vals[i]);
	envp[n] = NULL;
	kvlist_free(&set);
	return envp;
}

static void local_free_strv(char **v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* In the supervisor's child, between fork and exec: only async-signal-safe calls. Sets up
 * the fds (0 /dev/null, 1-2 supervisor.log, 3 the lock, 4 the exec report pipe) and execs.
 * Never returns. */
static void local_exec_supervisor(const char *exe, char *const argv[], char *const envp[],
                                  const char *logpath, int lockfd, int errfd)
{
	struct sigaction sa;
	sigset_t none;
	int lk, ep, nul, logfd, err;
	ssize_t w;

	setsid();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	lk = fcntl(lockfd, F_DUPFD, 10);
	ep = fcntl(errfd, F_DUPFD_CLOEXEC, 10);
	nul = open("/dev/null", O_RDWR);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW, 0600);
	if (lk < 0 || ep < 0 || nul < 0 || logfd < 0)
		goto fail;
	if (dup2(nul, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0 || dup2(lk, 3) < 0 ||
	    dup2(ep, 4) < 0 || fcntl(4, F_SETFD, FD_CLOEXEC) < 0)
		goto fail;
	if (syscall(SYS_close_range, 5U, ~0U, 0U) != 0) {
		for (int fd = 5; fd < 65536; fd++)
			close(fd);
	}
	execve(exe, argv, envp);
	ep = 4;
fail:
	err = errno;
	w = write(ep >= 0 ? ep : errfd, &err, sizeof err);
	(void)w;
	_exit(127);
}

/* Starts `self_exe __supervise dir` detached (double fork: it is reparented to init, so no
 * zombie is left to us). Returns once it exec'd, -1 with cause if it could not. */
static int local_spawn_supervisor(struct provider *p, const char *dir, int lockfd, char **envp,
                                  char **cause)
{
	char *logpath = xprintf("%s/supervisor.log", dir);
	char *argv[] = {"gantry", "__supervise", (char *)dir, NULL};
	int pfd[2], err = 0, st = 0, rc = -1;
	ssize_t n;
	pid_t mid;

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		xcause(cause, "cannot create a pipe: %s", strerror(errno));
		goto out;
	}
	mid = fork();
	if (mid < 0) {
		xcause(cause, "cannot fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		goto out;
	}
	if (mid == 0) {
		pid_t sup;

		close(pfd[0]);
		sup = fork();
		if (sup == 0)
			local_exec_supervisor(p->self_exe, argv, envp, logpath, lockfd, pfd[1]);
		if (sup < 0) {
			err = errno;
			n = write(pfd[1], &err, sizeof err);
			(void)n;
		}
		_exit(sup < 0 ? 1 : 0);
	}
	close(pfd[1]);
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	do {
		n = read(pfd[0], &err, sizeof err);
	} while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof err) {
		xcause(cause, "cannot start the supervisor %s: %s", p->self_exe, strerror(err));
		goto out;
	}
	rc = 0;
out:
	free(logpath);
	return rc;
}

/* Takes the job's lock, waiting a little for a concurrent launcher (or a refresh peeking at
 * it). Returns 1 with the locked fd in *fd, 0 when a supervisor already exists or is starting
 * (it is launched: nothing to do), -1 with cause on error. */
static int local_take_lock(const char *dir, int *fd, char **cause)
{
	char *path = xprintf("%s/lock", dir);
	struct timespec ts = {0, 10 * 1000000L};

	*fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW); /* local_new_dir made it */
	if (*fd < 0) {
		xcause(cause, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	for (int i = 0;; i++) {
		if (local_file_exists(dir, "supervisor.pid"))
			break;
		if (flock(*fd, LOCK_EX | LOCK_NB) == 0) {
			if (local_file_exists(dir, "supervisor.pid"))
				break;
			return 1;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			xcause(cause, "cannot lock %s/lock: %s", dir, strerror(errno));
			close(*fd);
			*fd = -1;
			return -1;
		}
		/* still held after the wait: a supervisor is starting or running */
		if (i >= LOCAL_LOCK_WAIT_TRIES)
			break;
		nanosleep(&ts, NULL);
	}
	close(*fd);
	*fd = -1;
	return 0;
}

/* Creates the job directory dir, published whole: a fresh temporary directory holding the
 * lock file, locked, is renamed into place, never over an existing directory that holds
 * anything. Returns 1 with the locked fd, 0 when dir already exists (the caller decides),
 * -1 with cause. */
static int local_new_dir(const char *dir, int *fd, char **cause)
{
	static unsigned counter;
	const char *base = strrchr(dir, '/');
	/* ".ID.new.PID.N": a dot name is never taken for a job (local_valid_name) */
	char *tmp = xprintf("%.*s/.%s.new.%ld.%u", (int)(base - dir), dir, base + 1, (long)getpid(),
	                    counter++);
	char *lock = xprintf("%s/lock", tmp);
	int rc = -1, r;

	*fd = -1;
	if (safefile_mkdir_new(tmp, 0700, cause) != 0)
		goto out;
	*fd = safefile_create(lock, O_RDWR, 0600, cause);
	if (*fd < 0 || flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		xcause(cause, "cannot lock %s: %s", lock, strerror(errno));
		goto fail;
	}
	r = renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE);
	if (r != 0 && (errno == EINVAL || errno == ENOSYS))
		r = rename(tmp, dir); /* never over a non-empty directory: ours holds the lock */
	if (r == 0) {
		rc = 1;
		goto out;
	}
	if (errno == EEXIST || errno == ENOTEMPTY || errno == ENOTDIR || errno == EISDIR)
		rc = 0;
	else
		xcause(cause, "cannot create %s: %s", dir, strerror(errno));
fail:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	unlink(lock);
	rmdir(tmp);
out:
	free(lock);
	free(tmp);
	return rc;
}

/* Reports the launched (or already existing) job at dir. */
static void local_launch_report(const char *dir, provider_launch_cb cb, void *arg)
{
	struct provider_launch_result res;

	memset(&res, 0, sizeof res);
	res.ref = xstrdup(dir);
	res.port = local_read_port(dir);
	if (res.port > 0)
		res.url = xprintf("http://127.0.0.1:%d/", res.port);
	cb(arg, 0, &res, NULL);
	provider_launch_result_clear(&res);
}

/* Writes the job's files (work/, run.sh, port, readiness) and starts its supervisor; the
 * caller holds the lock. */
static int local_launch_locked(struct provider *p, const struct provider_job_spec *spec,
                               const char *dir, int lockfd, char **cause)
{
	char *work = xprintf("%s/work", dir);
	char *url = NULL, *text;
	char **envp = NULL;
	int port = 0, timeout = 0, rc = -1;

	if (safefile_mkdir_new(work, 0700, cause) != 0)
		goto out;
	text = xprintf("job_id=%s\nidem_key=%s\nname=%s\nowner=%s\nkind=%s\n%s%s%s", spec->job_id,
	               spec->idem_key != NULL ? spec->idem_key : "",
	               spec->name != NULL ? spec->name : "", spec->owner != NULL ? spec->owner : "",
	               job_kind_name(spec->kind),
	               spec->installation_id != NULL ? "installation_id=" : "",
	               spec->installation_id != NULL ? spec->installation_id : "",
	               spec->installation_id != NULL ? "\n" : "");
	if (spec->attempt > 0) {
		char *t2 = xprintf("%sattempt=%d\n", text, spec->attempt);

		free(text);
		text = t2;
	}
	rc = local_write_file(dir, "meta", text, strlen(text), 0600, cause);
	free(text);
	if (rc != 0)
		goto out;
	rc = -1;
	if (local_write_file(dir, "run.sh", spec->script != NULL ? spec->script : "",
	                     spec->script != NULL ? strlen(spec->script) : 0, 0700, cause) != 0)
		goto out;
	if (spec->fixed_port > 0)
		port = spec->fixed_port;
	else if (spec->want_port && (port = local_pick_port(cause)) < 0)
		goto out;
	if (port > 0) {
		text = xprintf("%d\n", port);
		rc = local_write_file(dir, "port", text, strlen(text), 0600, cause);
		free(text);
		if (rc != 0)
			goto out;
		rc = -1;
	}
	if (port > 0 && spec->readiness_path != NULL && spec->readiness_path[0] != '\0') {
		timeout = spec->readiness_timeout_s > 0 ? spec->readiness_timeout_s : 120;
		url = xprintf("http://127.0.0.1:%d%s%s", port,
		              spec->readiness_path[0] == '/' ? "" : "/", spec->readiness_path);
		text = xprintf("%s\n%d\n", url, timeout);
		rc = local_write_file(dir, "readiness", text, strlen(text), 0600, cause);
		free(text);
		if (rc != 0)
			goto out;
		rc = -1;
	}
	envp = local_build_env(spec, port, url, timeout);
	envp = local_supervisor_env(envp, p->log_max_bytes); /* local_tree.c */
	rc = local_spawn_supervisor(p, dir, lockfd, envp, cause);
out:
	local_free_strv(envp);
	free(url);
	free(work);
	return rc;
}

static int local_launch(struct provider *p, const struct provider_job_spec *spec,
                        provider_launch_cb cb, void *arg, char **cause)
{
	char *dir;
	struct stat sb;
	int lockfd = -1, locked, rc = -1;

	if (!local_valid_name(spec->job_id))
		return xcause(cause, "local: invalid job id '%s'",
		              spec->job_id != NULL ? spec->job_id : "(none)");
	if (p->self_exe == NULL)
		return xcause(cause, "local: the path of the gantry binary is unknown");
	dir = xprintf("%s/%s", p->state_dir, spec->job_id);
	locked = local_new_dir(dir, &lockfd, cause);
	if (locked == 0) {
		/* it exists: only a retry of this very launch by us, never anything planted */
		if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
		    (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
			xcause(cause,
			       "%s already exists and is not a job directory of yours: Gantry "
			       "never reuses it",
			       dir);
			goto out;
		}
		locked = local_file_exists(dir, "lock") ? local_take_lock(dir, &lockfd, cause) : 1;
		if (locked > 0) {
			if (lockfd >= 0)
				close(lockfd);
			xcause(cause,
			       "%s already exists and holds no launched job: Gantry never "
			       "reuses a job directory",
			       dir);
			goto out;
		}
	}
	if (locked < 0)
		goto out;
	if (locked) {
		rc = local_launch_locked(p, spec, dir, lockfd, cause);
		close(lockfd); /* the supervisor keeps the lock held */
		if (rc != 0)
			goto out;
	}
	local_launch_report(dir, cb, arg);
	rc = 0;
out:
	free(dir);
	return rc;
}

/* 1 when dir was seen RUNNING recently and has no `exit` file yet. */
static int local_seen_running(struct provider *p, const char *dir)
{
	char *exitf;
	struct stat sb;
	int gone;

	for (struct local_seen *s = p->seen; s != NULL; s = s->next) {
		if (strcmp(s->dir, dir) != 0)
			continue;
		if (loop_now_ms() - s->checked_ms >= LOCAL_FULL_CHECK_MS)
			return 0;
		exitf = xprintf("%s/exit", dir);
		gone = lstat(exitf, &sb) == 0 || errno != ENOENT;
		free(exitf);
		return !gone;
	}
	return 0;
}

/* Remembers (or forgets) dir for the cheap path after a full check. */
static void local_seen_update(struct provider *p, const char *dir, const struct provider_status *st)
{
	struct local_seen **pp = &p->seen, *s;
	int keep = st->state == JOB_RUNNING && st->reason == NULL; /* reason: supervisor died */

	for (; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->dir, dir) == 0)
			break;
	}
	if (*pp != NULL && !keep) {
		s = *pp;
		*pp = s->next;
		free(s->dir);
		free(s);
	} else if (*pp != NULL) {
		(*pp)->checked_ms = loop_now_ms();
	} else if (keep) {
		s = xcalloc(1, sizeof *s);
		s->dir = xstrdup(dir);
		s->checked_ms = loop_now_ms();
		s->next = p->seen;
		p->seen = s;
	}
}

/* What v2's status adds: its port, when it started (the pid file's time), one replica. */
static void local_status_v2(const char *dir, struct provider_status *st)
{
	char *port = local_read_file(dir, "port");
	char *pidf = xprintf("%s/pid", dir);
	struct stat sb;

	if (port != NULL)
		st->port = atoi(port);
	free(port);
	if (stat(pidf, &sb) == 0)
		st->started_ms = (int64_t)sb.st_mtime * 1000;
	free(pidf);
	st->desired_replicas = job_state_active(st->state) ? 1 : 0;
	st->ready_replicas = st->state == JOB_RUNNING ? 1 : 0;
}

static int local_refresh(struct provider *p, const char *job_id, const char *ref,
                         provider_status_cb cb, void *arg, char **cause)
{
	struct provider_status st;
	char *dir;

	if (ref != NULL) {
		if (local_check_ref(p, ref, cause) != 0)
			return -1;
		dir = xstrdup(ref);
	} else if (local_valid_name(job_id)) {
		dir = xprintf("%s/%s", p->state_dir, job_id);
	} else {
		return xcause(cause, "local: no job directory for '%s'",
		              job_id != NULL ? job_id : "(none)");
	}
	if (local_seen_running(p, dir)) {
		memset(&st, 0, sizeof st);
		st.state = JOB_RUNNING;
	} else {
		local_status(dir, &st);
		local_seen_update(p, dir, &st);
	}
	local_status_v2(dir, &st);
	free(dir);
	cb(arg, 0, &st, NULL);
	provider_status_clear(&st);
	return 0;
}

/* ---- stop ---- */

static void local_stop_fire(void *arg)
{
	struct local_stop *s = arg;
	struct local_stop **pp;

	for (pp = &s->p->stops; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->pgid > 1)
		local_kill_group(s->pgid, s->starttime, SIGKILL);
	if (s->cgroup != NULL)
		local_cgroup_signal(s->cgroup, SIGKILL);
	free(s->cgroup);
	free(s);
}

static int local_stop(struct provider *p, const char *ref, int grace_ms, provider_done_cb cb,
                      void *arg, char **cause)
{
	char buf[32], *cg;
	pid_t job = 0, sup;
	long long start = 0, sstart = 0;
	int n, have_job, alive;

	if (local_check_ref(p, ref, cause) != 0)
		return -1;
	if (access(ref, F_OK) != 0)
		return xcause(cause, "job directory vanished");
	if (local_file_exists(ref, "exit")) {
		cb(arg, -1, "job has already ended");
		return 0;
	}
	if (grace_ms < 0)
		grace_ms = 0;
	n = snprintf(buf, sizeof buf, "%d\n", grace_ms);
	if (local_write_file(ref, "stop", buf, (size_t)n, 0600, cause) != 0)
		return -1;
	have_job = local_pidfile_read(ref, "pid", &job, &start) == 0;
	if (have_job)
		local_kill_group(job, start, SIGTERM);
	if (local_pidfile_read(ref, "supervisor.pid", &sup, &sstart) == 0 &&
	    local_proc_starttime(sup) == sstart && kill(sup, SIGUSR1) == 0) {
		cb(arg, 0, NULL);
		return 0;
	}
	/* No supervisor to escalate: a timer of ours does, or we kill now. What the job left in
	 * its cgroup (the supervisor may have been killed by the job itself) goes too. */
	cg = local_cgroup_of_job(ref);
	if (cg != NULL && local_cgroup_signal(cg, SIGTERM) == 0) {
		free(cg);
		cg = NULL;
	}
	alive = have_job && local_kill_group(job, start, 0) == 0;
	if (alive || cg != NULL) {
		struct local_stop *s = xcalloc(1, sizeof *s);

		s->p = p;
		s->pgid = alive ? job : 0;
		s->starttime = start;
		s->cgroup = cg;
		s->timer = loop_timer_add(p->loop, (uint64_t)grace_ms, 0, local_stop_fire, s);
		if (s->timer == NULL) {
			local_stop_fire(s); /* not listed yet: kills now and frees */
		} else {
			s->next = p->stops;
			p->stops = s;
		}
	}
	cb(arg, 0, NULL);
	return 0;
}

/* ---- logs ---- */

static void local_logs_free(struct provider_logs *lg)
{
	struct provider_logs **pp;

	for (pp = &lg->p->logs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == lg) {
			*pp = lg->next;
			break;
		}
	}
	loop_timer_cancel(lg->p->loop, lg->timer);
	loop_timer_cancel(lg->p->loop, lg->again);
	if (lg->ino_watch != NULL)
		loop_fd_remove(lg->p->loop, lg->ino_watch);
	if (lg->ino_fd >= 0)
		close(lg->ino_fd);
	if (lg->fd >= 0)
		close(lg->fd);
	free(lg->dir);
	free(lg);
}

/* Stops watching once eof was delivered. */
static void local_logs_idle(struct provider_logs *lg)
{
	loop_timer_cancel(lg->p->loop, lg->timer);
	lg->timer = NULL;
	if (lg->ino_watch != NULL)
		loop_fd_remove(lg->p->loop, lg->ino_watch);
	lg->ino_watch = NULL;
	if (lg->ino_fd >= 0)
		close(lg->ino_fd);
	lg->ino_fd = -1;
}

/* Calls the consumer; 1 if it closed the stream meanwhile (lg is then freed). */
static int local_logs_deliver(struct provider_logs *lg, const char *data, size_t len, int eof)
{
	lg->in_cb = 1;
	lg->cb(lg->arg, data, len, eof);
	lg->in_cb = 0;
	if (lg->closed) {
		local_logs_free(lg);
		return 1;
	}
	return 0;
}

/* Delivers what job.log holds beyond what was read; ends the stream when nothing more can
 * come (not following, or the job's `exit` exists and everything was read). */
/* A followed tail stays a tail: when the job writes faster than the reader (a screen)
 * and more than 2 x tail is unread, jump close to the end (a screenful is enough) and
 * say how much was skipped. */
static int local_logs_skip_ahead(struct provider_logs *lg)
{
	off_t pos = lseek(lg->fd, 0, SEEK_CUR);
	off_t keep = lg->tail < LOCAL_LOG_SKIP_KEEP ? lg->tail : LOCAL_LOG_SKIP_KEEP;
	struct stat sb;
	char note[96];
	int n;

	if (pos < 0 || fstat(lg->fd, &sb) != 0 || sb.st_size - pos <= 2 * lg->tail)
		return 0;
	lseek(lg->fd, sb.st_size - keep, SEEK_SET);
	n = snprintf(note, sizeof note, "\n[gantry: skipped %lld bytes to keep up]\n",
	             (long long)(sb.st_size - keep - pos));
	return local_logs_deliver(lg, note, (size_t)n, 0);
}

static void local_logs_again(void *arg);

static void local_logs_pump(struct provider_logs *lg)
{
	char *buf;
	size_t total = 0;
	int ended, at_eof = 0;

	if (lg->done)
		return;
	/* checked before reading: every byte written before `exit` is then read below */
	ended = !lg->follow || local_file_exists(lg->dir, "exit") || access(lg->dir, F_OK) != 0;
	if (lg->fd < 0) {
		char *path = xprintf("%s/job.log", lg->dir);

		lg->fd = local_open_regular(path);
		free(path);
		if (lg->fd >= 0 && lg->tail > 0) {
			off_t size = lseek(lg->fd, 0, SEEK_END);

			lseek(lg->fd, size > lg->tail ? size - lg->tail : 0, SEEK_SET);
		}
	}
	if (lg->fd >= 0 && lg->follow && lg->tail > 0 && local_logs_skip_ahead(lg))
		return; /* closed from its callback */
	if (lg->fd < 0) {
		at_eof = 1;
	} else {
		buf = xmalloc(LOCAL_LOG_CHUNK);
		while (total < LOCAL_LOG_PER_TICK) {
			ssize_t n = read(lg->fd, buf, LOCAL_LOG_CHUNK);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				at_eof = 1;
				break;
			}
			total += (size_t)n;
			if (local_logs_deliver(lg, buf, (size_t)n, 0)) {
				free(buf);
				return;
			}
		}
		free(buf);
	}
	/* A full turn's worth was read and more is waiting: go on at the next loop turn, not
	 * at the next poll (1 MiB per 200 ms made a 100 MB log take 20 s). */
	if (!at_eof && lg->again == NULL)
		lg->again = loop_timer_add(lg->p->loop, 0, 0, local_logs_again, lg);
	if (ended && at_eof) {
		lg->done = 1;
		local_logs_idle(lg);
		local_logs_deliver(lg, NULL, 0, 1);
	}
}

static void local_logs_tick(void *arg)
{
	local_logs_pump(arg);
}

static void local_logs_again(void *arg)
{
	struct provider_logs *lg = arg;

	lg->again = NULL; /* a one-shot timer is gone once it fired */
	local_logs_pump(lg);
}

static void local_logs_inotify(int fd, short revents, void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof buf) > 0)
		;
	local_logs_pump(arg);
}

static int local_logs_open(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
                           provider_log_cb cb, void *arg, struct provider_logs **out, char **cause)
{
	struct provider_logs *lg;
	uint64_t interval = LOCAL_LOG_POLL_MS;

	if (local_check_ref(p, ref, cause) != 0)
		return -1;
	if (access(ref, F_OK) != 0)
		return xcause(cause, "job directory vanished");
	lg = xcalloc(1, sizeof *lg);
	lg->p = p;
	lg->dir = xstrdup(ref);
	lg->fd = -1;
	lg->ino_fd = -1;
	lg->tail = tail_bytes > 0 ? tail_bytes : 0;
	lg->follow = follow;
	lg->cb = cb;
	lg->arg = arg;
	/* A followed tail (a screen) polls 5 times a second rather than waking on every write
	 * of a chatty job; a full follow (gantry logs -f) wakes on inotify. */
	if (follow && tail_bytes > 0) {
		interval = LOCAL_LOG_TAIL_MS;
	} else if (follow) {
		lg->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (lg->ino_fd >= 0 &&
		    inotify_add_watch(lg->ino_fd, ref,
		                      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF) >= 0) {
			lg->ino_watch =
			    loop_fd_add(p->loop, lg->ino_fd, POLLIN, local_logs_inotify, lg);
			interval = LOCAL_LOG_SAFETY_MS;
		} else if (lg->ino_fd >= 0) {
			close(lg->ino_fd);
			lg->ino_fd = -1;
		}
	}
	/* the first delivery happens from the loop, after *out is set */
	lg->timer = loop_timer_add(p->loop, 0, interval, local_logs_tick, lg);
	lg->next = p->logs;
	p->logs = lg;
	*out = lg;
	return 0;
}

static void local_logs_close(struct provider *p, struct provider_logs *lg)
{
	if (lg == NULL)
		return;
	if (lg->in_cb) {
		lg->closed = 1;
		return;
	}
	local_logs_free(lg);
}

/* ---- reconcile ---- */

/* 1 when the job directory's meta carries the installation id want (NULL: any dir). */
static int local_labelled(const char *dir, const char *want)
{
	char *meta, *line;
	int ours = 0;

	if (want == NULL)
		return 1;
	meta = local_read_file(dir, "meta");
	for (line = meta; line != NULL && *line != '\0';) {
		size_t len = strcspn(line, "\n");

		if (strncmp(line, "installation_id=", 16) == 0 && len - 16 == strlen(want) &&
		    strncmp(line + 16, want, len - 16) == 0)
			ours = 1;
		line += len + (line[len] == '\n');
	}
	free(meta);
	return ours;
}

static int local_list_owned_sync(struct provider *p, char ***refs, char ***job_ids, size_t *n,
                                 char **cause)
{
	DIR *d = opendir(p->state_dir);
	struct dirent *de;
	size_t cap = 0;

	*refs = NULL;
	*job_ids = NULL;
	*n = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return xcause(cause, "cannot read %s: %s", p->state_dir, strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		char *dir;

		if (!local_valid_name(de->d_name))
			continue;
		dir = xprintf("%s/%s", p->state_dir, de->d_name);
		if ((!local_file_exists(dir, "supervisor.pid") && !local_file_exists(dir, "pid")) ||
		    !local_labelled(dir, p->installation_id)) {
			free(dir);
			continue;
		}
		if (*n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			*refs = xreallocarray(*refs, cap, sizeof **refs);
			*job_ids = xreallocarray(*job_ids, cap, sizeof **job_ids);
		}
		(*refs)[*n] = dir;
		(*job_ids)[*n] = xstrdup(de->d_name);
		(*n)++;
	}
	closedir(d);
	return 0;
}

static int local_list_owned(struct provider *p, provider_owned_cb cb, void *arg, char **cause)
{
	char **refs = NULL, **ids = NULL;
	size_t n = 0;
	struct provider_owned *v;

	if (local_list_owned_sync(p, &refs, &ids, &n, cause) != 0)
		return -1;
	v = xcalloc(n > 0 ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		char *owner = NULL;

		v[i].ref = refs[i];
		v[i].job_id = ids[i];
		if (stat(refs[i], &st) == 0)
			v[i].started_ms = (int64_t)st.st_mtime * 1000;
		owner = local_read_file(refs[i], "meta");
		for (const char *l = owner; l != NULL && *l != '\0'; l += strcspn(l, "\n") + 1) {
			if (strncmp(l, "owner=", 6) == 0 && v[i].owner == NULL)
				v[i].owner = xstrndup(l + 6, strcspn(l + 6, "\n"));
			if (strncmp(l, "attempt=", 8) == 0)
				v[i].attempt = atoi(l + 8);
			if (l[strcspn(l, "\n")] == '\0')
				break;
		}
		free(owner);
	}
	cb(arg, 0, v, n, NULL);
	for (size_t i = 0; i < n; i++)
		provider_owned_clear(&v[i]);
	free(v);
	free(refs);
	free(ids);
	return 0;
}

/* Removes the killed job's cgroup and directory, answers and forgets d. closed: the
 * provider closes (answers -1 after the same cleanup). */
static void local_destroy_finish(struct local_destroy *d, const char *closed)
{
	struct provider *p = d->p;
	struct local_destroy **pp;
	char *why = NULL;
	int dfd;

	for (pp = &p->destroys; *pp != NULL && *pp != d; pp = &(*pp)->next)
		;
	if (*pp == d)
		*pp = d->next;
	if (d->timer != NULL)
		loop_timer_cancel(p->loop, d->timer);
	if (d->cg != NULL)
		local_cgroup_remove(d->cg);
	dfd = open(p->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		why = xprintf("cannot open %s: %s", p->state_dir, strerror(errno));
	else if (local_remove_tree(dfd, d->ref + strlen(p->state_dir) + 1) != 0)
		why = xprintf("cannot remove %s: %s", d->ref, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	if (closed != NULL)
		d->cb(d->arg, -1, closed);
	else
		d->cb(d->arg, why != NULL ? -1 : 0, why);
	free(why);
	free(d->cg);
	free(d->ref);
	free(d);
}

/* cgroup.kill is asynchronous: the cgroup is polled every 10 ms, at most 1 s. */
static void local_destroy_tick(void *arg)
{
	struct local_destroy *d = arg;

	if (local_cgroup_populated(d->cg) && ++d->tries < 100)
		return;
	local_destroy_finish(d, NULL);
}

/* Kills everything of the job now; its cgroup (if any) empties on a timer, then the job
 * directory goes and cb answers (at once when there is no cgroup to wait for). */
static int local_destroy(struct provider *p, const char *ref, provider_done_cb cb, void *arg,
                         char **cause)
{
	struct local_destroy *d;
	pid_t pid;
	long long start;

	if (local_check_ref(p, ref, cause) != 0)
		return -1; /* not a ref of ours: refused, no callback */
	local_seen_update(p, ref, &(struct provider_status){.state = JOB_FAILED});
	if (local_pidfile_read(ref, "supervisor.pid", &pid, &start) == 0 &&
	    local_proc_starttime(pid) == start)
		kill(pid, SIGKILL);
	if (local_pidfile_read(ref, "pid", &pid, &start) == 0)
		local_kill_group(pid, start, SIGKILL);
	d = xcalloc(1, sizeof *d);
	d->p = p;
	d->ref = xstrdup(ref);
	d->cg = local_cgroup_of_job(ref);
	d->cb = cb;
	d->arg = arg;
	d->next = p->destroys;
	p->destroys = d;
	if (d->cg != NULL) {
		local_cgroup_signal(d->cg, SIGKILL);
		if (local_cgroup_populated(d->cg)) {
			d->timer = loop_timer_add(p->loop, 10, 10, local_destroy_tick, d);
			return 0;
		}
	}
	local_destroy_finish(d, NULL);
	return 0;
}

/* A shell for a local job: the user's shell in the job's working directory. */
static int local_shell_target(struct provider *p, const char *ref, int worker,
                              struct provider_shell *out, char **cause)
{
	char *port;

	memset(out, 0, sizeof *out);
	if (worker != 0)
		return xcause(cause, "a local job has one worker (0), not %d", worker);
	out->local = 1;
	out->nworkers = 1;
	out->dir = xprintf("%s/work", ref);
	kvlist_init(&out->env);
	kvlist_set(&out->env, "GANTRY_JOB_DIR", ref);
	port = local_read_file(ref, "port");
	if (port != NULL) {
		port[strcspn(port, "\n")] = '\0';
		kvlist_set(&out->env, "GANTRY_PORT", port);
		free(port);
	}
	return 0;
}

int local_offers(struct provider *p, const struct template *t, provider_offers_cb cb, void *arg,
                 char **cause); /* providers/local_offers.c */

static int local_target(struct provider *p, const char *ref, int worker, provider_target_cb cb,
                        void *arg, char **cause)
{
	struct provider_shell sh;

	if (local_shell_target(p, ref, worker, &sh, cause) != 0)
		return -1;
	cb(arg, 0, &sh, NULL);
	provider_shell_clear(&sh);
	return 0;
}

const struct provider_ops local_provider_ops = {
    .name = "local",
    .summary = "jobs as processes on this host (built in, always configured)",
    .local_workers = 1,
    .open = local_open,
    .close = local_close,
    .offers = local_offers,
    .launch = local_launch,
    .refresh = local_refresh,
    .stop = local_stop,
    .logs_open = local_logs_open,
    .logs_close = local_logs_close,
    .list_owned = local_list_owned,
    .destroy = local_destroy,
    .target = local_target,
    .hosts = local_hosts,
};
