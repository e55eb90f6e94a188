/* local_supervise.c: `gantry __supervise DIR`, the small process that watches one local job.
 * Started detached (own session, reparented to init) by the local provider; it starts the job
 * in its own session and process group, records its pid, probes its readiness URL, escalates
 * a stop from TERM to KILL, and writes `exit` once the job and everything it started are gone
 * (its process group, its cgroup, every process below us: see local_tree.h), trying again
 * while the disk is full. It keeps job.log within logs.max_size. It ignores SIGTERM/SIGINT/SIGHUP
 * so that only the job receives them; SIGUSR1 asks it to stop the job (grace read from the `stop`
 * file). */
#include "providers/local.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/nospace.h"
#include "core/xmalloc.h"
#include "providers/local_tree.h"

#define LOCAL_SUPERVISE_PROBE_MS  250   /* between readiness probes */
#define LOCAL_SUPERVISE_GROUP_MS  100   /* polling the job's group once its leader ended */
#define LOCAL_SUPERVISE_IDLE_MS   60000 /* longest sleep when nothing is due */
#define LOCAL_SUPERVISE_LOG_CHUNK 65536 /* bytes */
#define LOCAL_SUPERVISE_RETRY_MS  30000 /* longest wait between tries to write `exit` */
#define LOCAL_SUPERVISE_RETRY_FOR 86400 /* seconds: how long we keep trying */
#define LOCAL_SUPERVISE_LOGCAP_MS 1000  /* job.log's size is checked this often */

enum local_supervise_ready {
	LOCAL_READY_NONE,
	LOCAL_READY_PROBING,
	LOCAL_READY_OK,
	LOCAL_READY_FAILED
};

struct local_supervise {
	const char *dir;
	char *ready_url; /* or NULL: no readiness probe */
	int ready_timeout_s;
	long max_runtime_s; /* 0 = no limit */
	enum local_supervise_ready ready;
	char last_error[256]; /* last probe failure, for ready_failed */
	CURL *curl;
	pid_t job;              /* pid, process group and session of the job */
	int job_done;           /* the leader was reaped */
	int job_status;         /* its wait status */
	uint64_t started_ms;    /* monotonic */
	uint64_t next_probe_ms; /* monotonic */
	uint64_t kill_at_ms;    /* monotonic; 0 = no SIGKILL scheduled */
	int term_sent;          /* the group got SIGTERM */
	int killed;             /* the group got SIGKILL */
	char *cgroup;           /* the job's own cgroup, or NULL: its tree is found by parent */
	char *cgroup_procs;     /* cgroup/cgroup.procs, written by the job's child */
	int no_cgroup;          /* GANTRY_NO_CGROUP was set */
	int pid_pending;        /* `pid` could not be written yet (disk full?): tried again */
	long long log_max;      /* job.log and job.log.1 together stay within this; 0 = no cap */
};

/* Monotonic milliseconds. */
static uint64_t local_supervise_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void local_supervise_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line to supervisor.log (our stderr). */
static void local_supervise_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gantry supervise[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* Logs why a file of the job could not be written, plainly when the disk is full. */
static void local_supervise_write_failed(struct local_supervise *s, const char *name,
                                         const char *cause)
{
	if (nospace_full(s->dir))
		local_supervise_log("no space left on device: %s/%s", s->dir, name);
	else
		local_supervise_log("%s", cause);
}

static int local_supervise_write(struct local_supervise *s, const char *name, const char *text)
{
	char *cause = NULL;

	if (local_write_file(s->dir, name, text, strlen(text), 0600, &cause) != 0) {
		local_supervise_write_failed(s, name, cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* Writes `exit`, trying again (1 s, 2 s, ... 30 s apart, for a day) while it cannot be
 * written, e.g. on a full disk: the job's outcome is then recorded once space returns rather
 * than lost ("its supervisor died"). Gives up at once if the job directory is gone. */
static void local_supervise_write_exit(struct local_supervise *s, const char *text)
{
	uint64_t wait = 1000,
	         until = local_supervise_now_ms() + LOCAL_SUPERVISE_RETRY_FOR * 1000ULL;
	struct timespec ts;
	int tries = 0;

	while (local_supervise_write(s, "exit", text) != 0) {
		tries++;
		if (access(s->dir, F_OK) != 0 || local_supervise_now_ms() > until)
			return;
		local_supervise_log("trying again in %llu s", (unsigned long long)(wait / 1000));
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = 0;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		wait = wait * 2 > LOCAL_SUPERVISE_RETRY_MS ? LOCAL_SUPERVISE_RETRY_MS : wait * 2;
	}
	if (tries > 0)
		local_supervise_log("wrote exit after waiting (%d tries)", tries);
}

/* Grace (ms) recorded in the `stop` file, or the default. */
static uint64_t local_supervise_stop_grace(const struct local_supervise *s)
{
	char *text = local_read_file(s->dir, "stop");
	long long ms = LOCAL_DEFAULT_GRACE_MS;

	if (text != NULL) {
		if (sscanf(text, "%lld", &ms) != 1 || ms < 0)
			ms = LOCAL_DEFAULT_GRACE_MS;
		free(text);
	}
	return (uint64_t)ms;
}

/* sig to everything the job started: its process group, its cgroup, and every process whose
 * parent chain leads to us (setsid'd and double-forked children come to us, the subreaper).
 * Returns how many were signalled. */
static int local_supervise_signal_all(struct local_supervise *s, int sig)
{
	int n = 0;

	if (s->job > 1 && kill(-s->job, sig) == 0)
		n++;
	if (s->cgroup != NULL)
		n += local_cgroup_signal(s->cgroup, sig);
	return n + local_tree_signal(getpid(), sig);
}

/* TERM to all of the job now, KILL after grace_ms (an earlier KILL already set wins). */
static void local_supervise_terminate(struct local_supervise *s, uint64_t grace_ms)
{
	uint64_t at = local_supervise_now_ms() + grace_ms;

	if (s->job <= 1 || local_supervise_signal_all(s, SIGTERM) == 0)
		return;
	s->term_sent = 1;
	if (s->kill_at_ms == 0 || at < s->kill_at_ms)
		s->kill_at_ms = at == 0 ? 1 : at;
}

/* Appends a line to job.log (the job's own log), for failures the user must see there. */
static void local_supervise_job_log(struct local_supervise *s, const char *line)
{
	char *path = xprintf("%s/job.log", s->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd >= 0) {
		ssize_t n = write(fd, line, strlen(line));

		(void)n;
		close(fd);
	}
	free(path);
}

/* Copies fd (from offset 0 to its end) to out. 0 or -1. */
static int local_supervise_copy(int fd, int out)
{
	char buf[LOCAL_SUPERVISE_LOG_CHUNK];
	off_t off = 0;
	ssize_t n;

	while ((n = copy_file_range(fd, &off, out, NULL, (size_t)1 << 30, 0)) > 0)
		;
	if (n == 0)
		return 0;
	if (lseek(fd, off, SEEK_SET) < 0)
		return -1;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t w = 0; w < n;) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return -1;
			w += k;
		}
	}
	return n == 0 ? 0 : -1;
}

/* Keeps job.log within its cap: once it holds more than half of log_max, its content moves to
 * job.log.1 (replacing the previous part) and job.log starts again with a note, so that the
 * two stay within about log_max. The job's writes append (O_APPEND), so they go on at the new
 * end; what it writes between the copy and the truncation (a moment) is lost. */
static void local_supervise_log_cap(struct local_supervise *s)
{
	char *path, *tmp, *old, *note;
	struct stat sb;
	int fd, out;

	if (s->log_max <= 0)
		return;
	path = xprintf("%s/job.log", s->dir);
	if (stat(path, &sb) != 0 || sb.st_size <= s->log_max / 2) {
		free(path);
		return;
	}
	tmp = xprintf("%s/.job.log.1.tmp", s->dir);
	old = xprintf("%s/job.log.1", s->dir);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	unlink(tmp);
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && out >= 0 && local_supervise_copy(fd, out) == 0 && ftruncate(fd, 0) == 0 &&
	    rename(tmp, old) == 0) {
		note = xprintf("[gantry: job.log reached half of its cap of %lld bytes (logs: "
		               "max_size); the output before this line is in job.log.1, older "
		               "output was dropped]\n",
		               s->log_max);
		local_supervise_job_log(s, note);
		free(note);
	} else {
		local_supervise_log("cannot rotate %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
	if (out >= 0)
		close(out);
	free(path);
	free(tmp);
	free(old);
}

/* Forks the job: own session, cwd work/, stdin /dev/null, stdout and stderr appended to
 * job.log, /bin/sh run.sh. Returns 0 once it exec'd, -1 if it could not start (reaped). */
static int local_supervise_start(struct local_supervise *s)
{
	char *script = xprintf("%s/run.sh", s->dir);
	char *work = xprintf("%s/work", s->dir);
	char *logp = xprintf("%s/job.log", s->dir);
	int p[2], report[2] = {0, 0};
	const char *stages[] = {"open job.log", "open /dev/null", "chdir to", "exec /bin/sh",
	                        "join its cgroup"};
	sigset_t none;
	ssize_t n;
	pid_t pid;
	int rc = -1;

	if (pipe2(p, O_CLOEXEC) != 0) {
		local_supervise_log("pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		local_supervise_log("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		goto out;
	}
	if (pid == 0) {
		struct sigaction sa;
		int fd;

		close(p[0]);
		setsid();
		if (s->cgroup_procs != NULL && local_cgroup_join(s->cgroup_procs) != 0) {
			report[0] = 4;
			goto fail;
		}
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		for (int sig = 1; sig < NSIG; sig++) {
			if (sig != SIGKILL && sig != SIGSTOP)
				sigaction(sig, &sa, NULL);
		}
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) {
			report[0] = 0;
			goto fail;
		}
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0) {
			report[0] = 1;
			goto fail;
		}
		if (chdir(work) != 0) {
			report[0] = 2;
			goto fail;
		}
		execl("/bin/sh", "sh", script, (char *)NULL);
		report[0] = 3;
	fail:
		report[1] = errno;
		n = write(p[1], report, sizeof report);
		(void)n;
		_exit(127);
	}
	close(p[1]);
	do {
		n = read(p[0], report, sizeof report);
	} while (n < 0 && errno == EINTR);
	close(p[0]);
	s->job = pid;
	if (n == (ssize_t)sizeof report) {
		char *line;
		int st;

		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		s->job_done = 1;
		s->job_status = st;
		if (report[0] < 0 || report[0] > 4)
			report[0] = 3;
		line = xprintf("gantry: cannot start the job: %s%s%s: %s\n", stages[report[0]],
		               report[0] == 2 ? " " : "", report[0] == 2 ? work : "",
		               strerror(report[1]));
		local_supervise_job_log(s, line);
		local_supervise_log("%s", line);
		free(line);
		goto out;
	}
	rc = 0;
out:
	free(script);
	free(work);
	free(logp);
	return rc;
}

static size_t local_supervise_discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* One readiness GET; 1 when it answered 2xx, else 0 with last_error set. */
static int local_supervise_probe(struct local_supervise *s)
{
	char errbuf[CURL_ERROR_SIZE];
	CURLcode res;
	long code = 0, oserr = 0;

	if (s->curl == NULL) {
		s->curl = curl_easy_init();
		if (s->curl == NULL) {
			snprintf(s->last_error, sizeof s->last_error, "cannot initialise libcurl");
			return 0;
		}
	}
	errbuf[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_URL, s->ready_url);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(s->curl, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, local_supervise_discard);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, errbuf);
	res = curl_easy_perform(s->curl);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, NULL);
	if (res == CURLE_OK) {
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200 && code < 300)
			return 1;
		snprintf(s->last_error, sizeof s->last_error, "HTTP %ld", code);
		return 0;
	}
	curl_easy_getinfo(s->curl, CURLINFO_OS_ERRNO, &oserr);
	if (res == CURLE_COULDNT_CONNECT && oserr != 0) {
		snprintf(s->last_error, sizeof s->last_error, "%s", strerror((int)oserr));
		s->last_error[0] = (char)tolower((unsigned char)s->last_error[0]);
	} else {
		snprintf(s->last_error, sizeof s->last_error, "%s",
		         errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res));
	}
	return 0;
}

/* Probes when due; records `ready` or, past the timeout, `ready_failed` and stops the job. */
static void local_supervise_readiness(struct local_supervise *s, uint64_t now)
{
	char buf[512];

	if (s->ready != LOCAL_READY_PROBING || s->job_done || s->term_sent ||
	    now < s->next_probe_ms)
		return;
	if (local_supervise_probe(s)) {
		snprintf(buf, sizeof buf, "%lld\n", (long long)time(NULL) * 1000);
		if (local_supervise_write(s, "ready", buf) == 0)
			s->ready = LOCAL_READY_OK;
		else /* disk full? probe and write again in a second */
			s->next_probe_ms = local_supervise_now_ms() + 1000;
		return;
	}
	now = local_supervise_now_ms();
	if (now - s->started_ms >= (uint64_t)s->ready_timeout_s * 1000) {
		snprintf(buf, sizeof buf,
		         "readiness probe GET %s did not answer 2xx within %d s (last: %s)\n",
		         s->ready_url, s->ready_timeout_s,
		         s->last_error[0] != '\0' ? s->last_error : "no answer");
		local_supervise_write(s, "ready_failed", buf);
		local_supervise_log("%.*s", (int)strcspn(buf, "\n"), buf);
		s->ready = LOCAL_READY_FAILED;
		local_supervise_terminate(s, LOCAL_DEFAULT_GRACE_MS);
		return;
	}
	s->next_probe_ms = now + LOCAL_SUPERVISE_PROBE_MS;
}

/* Stops a job that ran past limits.max_runtime, recording why. */
static void local_supervise_deadline(struct local_supervise *s, uint64_t now)
{
	char buf[160];

	if (s->max_runtime_s <= 0 || s->job_done || s->term_sent ||
	    now - s->started_ms < (uint64_t)s->max_runtime_s * 1000)
		return;
	snprintf(buf, sizeof buf, "stopped: it ran past its max_runtime of %ld s\n",
	         s->max_runtime_s);
	local_supervise_write(s, "runtime_exceeded", buf);
	local_supervise_log("%.*s", (int)strcspn(buf, "\n"), buf);
	local_supervise_terminate(s, LOCAL_DEFAULT_GRACE_MS);
}

/* Reaps every child (we are a subreaper, so the job's orphans come to us). */
static void local_supervise_reap(struct local_supervise *s)
{
	pid_t w;
	int st;

	while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
		if (w == s->job && !s->job_done) {
			s->job_done = 1;
			s->job_status = st;
		}
	}
}

/* 1 while any process the job started is left: in its process group, its cgroup, or below
 * us. */
static int local_supervise_group_alive(const struct local_supervise *s)
{
	if (s->job > 1 && (kill(-s->job, 0) == 0 || errno != ESRCH))
		return 1;
	if (s->cgroup != NULL && local_cgroup_populated(s->cgroup))
		return 1;
	return local_tree_signal(getpid(), 0) > 0;
}

/* Milliseconds to sleep until the next thing is due. */
static int local_supervise_wait_ms(const struct local_supervise *s, uint64_t now)
{
	uint64_t wait = LOCAL_SUPERVISE_IDLE_MS;

	if (s->job_done)
		wait = LOCAL_SUPERVISE_GROUP_MS;
	else if (s->pid_pending)
		wait = 1000;
	if (s->log_max > 0 && wait > LOCAL_SUPERVISE_LOGCAP_MS)
		wait = LOCAL_SUPERVISE_LOGCAP_MS;
	if (s->ready == LOCAL_READY_PROBING && !s->term_sent && !s->job_done)
		wait = s->next_probe_ms > now ? s->next_probe_ms - now : 0;
	if (s->max_runtime_s > 0 && !s->job_done && !s->term_sent) {
		uint64_t end = s->started_ms + (uint64_t)s->max_runtime_s * 1000;
		uint64_t d = end > now ? end - now : 0;

		if (d < wait)
			wait = d;
	}
	if (s->kill_at_ms != 0) {
		uint64_t k = s->kill_at_ms > now ? s->kill_at_ms - now : 0;

		if (k < wait)
			wait = k;
	}
	return (int)wait;
}

/* Watches the job until it and its group are gone. */
static void local_supervise_loop(struct local_supervise *s, const sigset_t *waitset)
{
	for (;;) {
		struct timespec ts;
		uint64_t now;
		int wait, sig;

		local_supervise_reap(s);
		now = local_supervise_now_ms();
		if (s->job_done) {
			if (!local_supervise_group_alive(s))
				return;
			if (!s->term_sent)
				local_supervise_terminate(s, local_file_exists(s->dir, "stop")
				                                 ? local_supervise_stop_grace(s)
				                                 : LOCAL_DEFAULT_GRACE_MS);
		}
		if (s->kill_at_ms != 0 && now >= s->kill_at_ms) {
			local_supervise_signal_all(s, SIGKILL);
			s->killed = 1;
			s->kill_at_ms = 0;
		} else if (s->killed && s->job_done) {
			local_supervise_signal_all(s, SIGKILL);
		}
		if (s->pid_pending && !s->job_done) {
			char *cause = NULL;

			if (local_pidfile_write(s->dir, "pid", s->job, &cause) == 0)
				s->pid_pending = 0;
			free(cause);
		}
		local_supervise_log_cap(s);
		local_supervise_readiness(s, now);
		local_supervise_deadline(s, local_supervise_now_ms());
		now = local_supervise_now_ms();
		wait = local_supervise_wait_ms(s, now);
		ts.tv_sec = wait / 1000;
		ts.tv_nsec = (long)(wait % 1000) * 1000000L;
		sig = sigtimedwait(waitset, NULL, &ts);
		if (sig == SIGUSR1) {
			local_supervise_log("stop asked");
			local_supervise_terminate(s, local_supervise_stop_grace(s));
		}
	}
}

/* Gives the job its own cgroup where one can be made (recorded in `cgroup`, so that Gantry can
 * end the job even once we are gone), and records the max_runtime deadline in `deadline`
 * (Unix ms) for the same reason. Without a cgroup the job's tree is found through us. */
static void local_supervise_contain(struct local_supervise *s)
{
	const char *name = strrchr(s->dir, '/');
	char *why = NULL, *text;

	if (s->no_cgroup)
		why = xprintf("turned off by %s", LOCAL_ENV_NO_CGROUP);
	else
		s->cgroup = local_cgroup_create(name != NULL ? name + 1 : "job", &why);
	if (s->cgroup == NULL) {
		local_supervise_log("no cgroup (%s): the job's processes are tracked as our "
		                    "descendants",
		                    why != NULL ? why : "unknown reason");
		free(why);
	} else {
		s->cgroup_procs = xprintf("%s/cgroup.procs", s->cgroup);
		text = xprintf("%s\n", s->cgroup);
		local_supervise_write(s, "cgroup", text);
		free(text);
	}
	if (s->max_runtime_s > 0) {
		text = xprintf("%lld\n", ((long long)time(NULL) + s->max_runtime_s) * 1000);
		local_supervise_write(s, "deadline", text);
		free(text);
	}
}

/* Takes a setting handed over by the launcher and removes it from the environment. */
static char *local_supervise_take_env(const char *name)
{
	const char *v = getenv(name);
	char *copy = v != NULL && v[0] != '\0' ? xstrdup(v) : NULL;

	unsetenv(name);
	return copy;
}

int local_supervise_main(int argc, char **argv)
{
	struct local_supervise s;
	struct sigaction sa;
	sigset_t waitset;
	char *lockfd, *timeout, *cause = NULL;
	char buf[64];
	int rc = 1;

	if (argc < 2 || argv[argc - 1][0] != '/') {
		fprintf(stderr, "usage: gantry __supervise /ABSOLUTE/JOB/DIR\n");
		return 1;
	}
	memset(&s, 0, sizeof s);
	s.dir = argv[argc - 1];
	s.ready_url = local_supervise_take_env(LOCAL_ENV_READY_URL);
	timeout = local_supervise_take_env(LOCAL_ENV_READY_TIMEOUT);
	s.ready_timeout_s = timeout != NULL ? atoi(timeout) : 0;
	if (s.ready_timeout_s <= 0)
		s.ready_timeout_s = 120;
	free(timeout);
	timeout = local_supervise_take_env(LOCAL_ENV_MAX_RUNTIME);
	s.max_runtime_s = timeout != NULL ? atol(timeout) : 0;
	free(timeout);
	timeout = local_supervise_take_env(LOCAL_ENV_LOG_MAX);
	s.log_max = timeout != NULL ? atoll(timeout) : 0;
	free(timeout);
	timeout = local_supervise_take_env(LOCAL_ENV_NO_CGROUP);
	s.no_cgroup = timeout != NULL && strcmp(timeout, "0") != 0;
	free(timeout);
	s.ready = s.ready_url != NULL ? LOCAL_READY_PROBING : LOCAL_READY_NONE;
	/* The launch lock stays held for our whole life; the job must not inherit it. */
	lockfd = local_supervise_take_env(LOCAL_ENV_LOCK_FD);
	if (lockfd != NULL) {
		int fd = atoi(lockfd);

		if (fd > 2 && fcntl(fd, F_GETFD) >= 0)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
		free(lockfd);
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&waitset);
	sigaddset(&waitset, SIGCHLD);
	sigaddset(&waitset, SIGUSR1);
	sigprocmask(SIG_BLOCK, &waitset, NULL);
	prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
	if (chdir("/") != 0)
		local_supervise_log("chdir /: %s", strerror(errno));

	if (local_pidfile_write(s.dir, "supervisor.pid", getpid(), &cause) != 0) {
		local_supervise_log("%s", cause);
		free(cause);
		goto out;
	}
	/* A stop that came before supervisor.pid existed could not signal us: honour it. */
	if (local_file_exists(s.dir, "stop")) {
		local_supervise_log("stopped before the job started");
		local_supervise_write(&s, "exit", "not-started\n");
		rc = 0;
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	local_supervise_contain(&s);
	s.started_ms = local_supervise_now_ms();
	s.next_probe_ms = s.started_ms;
	if (local_supervise_start(&s) == 0) {
		if (local_pidfile_write(s.dir, "pid", s.job, &cause) != 0) {
			local_supervise_write_failed(&s, "pid", cause);
			free(cause);
			s.pid_pending = 1;
		}
		local_supervise_loop(&s, &waitset);
	}
	if (WIFSIGNALED(s.job_status))
		snprintf(buf, sizeof buf, "signal %d\n", WTERMSIG(s.job_status));
	else
		snprintf(buf, sizeof buf, "exited %d\n", WEXITSTATUS(s.job_status));
	local_supervise_write_exit(&s, buf);
	local_cgroup_remove(s.cgroup);
	if (s.curl != NULL)
		curl_easy_cleanup(s.curl);
	curl_global_cleanup();
	rc = 0;
out:
	free(s.ready_url);
	free(s.cgroup);
	free(s.cgroup_procs);
	return rc;
}
