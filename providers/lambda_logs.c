/* lambda_logs.c: a job's log outlives its instance. Before Gantry terminates an instance
 * whose job ended or was stopped, it copies the job's log (its last LAMBDA_LOG_KEEP bytes)
 * over SSH into STATE/logs/JOBID.log (0600, written to a fresh temporary file and renamed);
 * `gantry logs` of an ended job reads that copy. A log that cannot be fetched within
 * LAMBDA_LOG_SAVE_MS (the instance is out of reach) is not waited for: the instance is
 * terminated all the same (billing wins over the log). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/lambda_internal.h"
#include "providers/ssh.h"

#define LAMBDA_LOG_KEEP    (16LL << 20) /* bytes of a job's log kept after its instance */
#define LAMBDA_LOG_SAVE_MS 30000
#define LAMBDA_LOG_CHUNK   65536

/* Both kinds of stream lambda_logs_open hands out. */
struct provider_logs {
	/* through the instance */
	struct provider *ssh;
	struct provider_logs *inner;
	/* from the saved copy */
	struct provider *p;
	int fd;
	struct loop_timer *timer;
	provider_log_cb cb;
	void *arg;
};

char *lambda_log_path(struct provider *p, const char *job_id)
{
	return xprintf("%s/logs/%s.log", p->state_dir, job_id);
}

/* ---- saving ---- */

struct lambda_save {
	struct provider *p;
	struct lambda_inst *in;
	char *job, *tmp, *path;
	int fd;
	int failed;
	struct provider_logs *lg; /* the ssh provider's stream */
	struct loop_timer *timer; /* gives up after LAMBDA_LOG_SAVE_MS */
	void (*done)(struct provider *p, void *ctx);
	void *ctx;
	int ended;
	struct lambda_save *next; /* p->saves */
};

static void lambda_save_end(struct lambda_save *s, int ok)
{
	struct provider *p = s->p;
	void (*done)(struct provider *, void *) = s->done;
	void *ctx = s->ctx;

	for (struct lambda_save **pp = &p->saves; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->fd >= 0) {
		close(s->fd);
		if (!ok || s->failed || rename(s->tmp, s->path) != 0)
			unlink(s->tmp);
	}
	free(s->job);
	free(s->tmp);
	free(s->path);
	free(s);
	done(p, ctx);
}

static void lambda_save_data(void *arg, const char *data, size_t len, int eof)
{
	struct lambda_save *s = arg;

	if (s->ended)
		return;
	while (len > 0 && !s->failed) {
		ssize_t w = write(s->fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			s->failed = 1;
			break;
		}
		data += w;
		len -= (size_t)w;
	}
	if (!eof)
		return;
	s->ended = 1;
	if (s->timer != NULL)
		loop_timer_cancel(s->p->loop, s->timer);
	s->timer = NULL;
	ssh_provider_ops.logs_close(s->in->ssh, s->lg); /* allowed from within its callback */
	lambda_save_end(s, 1);
}

static void lambda_save_timeout(void *arg)
{
	struct lambda_save *s = arg;

	s->timer = NULL;
	s->ended = 1;
	ssh_provider_ops.logs_close(s->in->ssh, s->lg);
	lambda_save_end(s, 0);
}

void lambda_log_save(struct provider *p, struct lambda_inst *in, const char *job_id,
                     void (*done)(struct provider *p, void *ctx), void *ctx)
{
	struct lambda_save *s;
	char *iref, *why = NULL;

	if (in == NULL || in->terminated || p->closing) {
		done(p, ctx);
		return;
	}
	s = xcalloc(1, sizeof *s);
	s->p = p;
	s->in = in;
	s->job = xstrdup(job_id);
	s->done = done;
	s->ctx = ctx;
	s->path = lambda_log_path(p, job_id);
	s->tmp = xprintf("%s/logs/.%s.XXXXXX", p->state_dir, job_id);
	s->next = p->saves;
	p->saves = s;
	/* a fresh name of its own, 0600, O_EXCL (two copies of one log may run at once) */
	s->fd = mkostemp(s->tmp, O_CLOEXEC);
	if (s->fd < 0) {
		s->failed = 1;
		lambda_save_end(s, 0);
		return;
	}
	iref = lambda_inner_ref(in, job_id);
	if (ssh_provider_ops.logs_open(in->ssh, iref, 0, LAMBDA_LOG_KEEP, lambda_save_data, s,
	                               &s->lg, &why) != 0) {
		free(why);
		free(iref);
		lambda_save_end(s, 0);
		return;
	}
	free(iref);
	if (!s->ended)
		s->timer = loop_timer_add(p->loop, LAMBDA_LOG_SAVE_MS, 0, lambda_save_timeout, s);
}

void lambda_log_abort_all(struct provider *p)
{
	while (p->saves != NULL) {
		struct lambda_save *s = p->saves;

		if (s->timer != NULL)
			loop_timer_cancel(p->loop, s->timer);
		s->timer = NULL;
		s->ended = 1;
		if (s->lg != NULL)
			ssh_provider_ops.logs_close(s->in->ssh, s->lg);
		lambda_save_end(s, 0); /* unlinks it from p->saves */
	}
}

/* ---- reading the saved copy ---- */

static void lambda_saved_tick(void *arg)
{
	struct provider_logs *lg = arg;
	char buf[LAMBDA_LOG_CHUNK];
	ssize_t n;

	lg->timer = NULL;
	do
		n = read(lg->fd, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		/* armed before the call: the consumer may close the stream inside it */
		lg->timer = loop_timer_add(lg->p->loop, 0, 0, lambda_saved_tick, lg);
		lg->cb(lg->arg, buf, (size_t)n, 0);
		return;
	}
	lg->cb(lg->arg, NULL, 0, 1);
}

int lambda_log_open_saved(struct provider *p, const char *job_id, int64_t tail_bytes,
                          provider_log_cb cb, void *arg, struct provider_logs **out)
{
	char *path = lambda_log_path(p, job_id);
	struct provider_logs *lg;
	struct stat sb;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	if (tail_bytes > 0 && sb.st_size > tail_bytes)
		lseek(fd, sb.st_size - tail_bytes, SEEK_SET);
	lg = xcalloc(1, sizeof *lg);
	lg->p = p;
	lg->fd = fd;
	lg->cb = cb;
	lg->arg = arg;
	/* the first delivery happens from the loop, after *out is set */
	lg->timer = loop_timer_add(p->loop, 0, 0, lambda_saved_tick, lg);
	*out = lg;
	return 0;
}

int lambda_logs_open(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
                     provider_log_cb cb, void *arg, struct provider_logs **out, char **cause)
{
	struct lambda_inst *in;
	struct provider_logs *lg;
	char *id, *ip, *job, *iref;
	int rc;

	*out = NULL;
	if (lambda_ref_parse(ref, &id, &ip, &job, cause) != 0)
		return -1;
	/* an ended job's log lives here once its instance is gone */
	in = lambda_inst_find(p, id);
	if ((in == NULL || in->terminated) &&
	    lambda_log_open_saved(p, job, tail_bytes, cb, arg, out) == 0) {
		free(id);
		free(ip);
		free(job);
		return 0;
	}
	in = lambda_inst_attach(p, id, ip, 0, NULL, cause);
	free(id);
	free(ip);
	if (in == NULL) {
		free(job);
		return -1;
	}
	lg = xcalloc(1, sizeof *lg);
	lg->fd = -1;
	lg->ssh = in->ssh;
	iref = lambda_inner_ref(in, job);
	rc = ssh_provider_ops.logs_open(in->ssh, iref, follow, tail_bytes, cb, arg, &lg->inner,
	                                cause);
	free(iref);
	free(job);
	if (rc != 0) {
		free(lg);
		return -1;
	}
	*out = lg;
	return 0;
}

void lambda_logs_close(struct provider *p, struct provider_logs *lg)
{
	if (lg == NULL)
		return;
	if (lg->inner != NULL)
		ssh_provider_ops.logs_close(lg->ssh, lg->inner);
	if (lg->timer != NULL)
		loop_timer_cancel(p->loop, lg->timer);
	if (lg->fd >= 0)
		close(lg->fd);
	free(lg);
}
