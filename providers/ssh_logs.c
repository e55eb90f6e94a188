/* ssh_logs.c: log streams of jobs on the ssh fleet. Each poll is one exec on the job's
 * first host that reads DIR/jobs/ID/job.log from an offset (ssh_remote_logs_script); a
 * followed stream polls every 500 ms until the job has ended and the file is drained. A
 * followed tail stays a tail: more than 4 x tail_bytes behind, it skips ahead (keeping
 * the last min(tail, 16 KiB)) and says how much it skipped, as the local provider does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/provider.h"
#include "providers/ssh_internal.h"

#define SSH_LOGS_MAX       1048576 /* bytes fetched per poll */
#define SSH_LOGS_POLL_MS   500
#define SSH_LOGS_SKIP_KEEP 16384 /* bytes kept when a followed tail skips ahead */

struct provider_logs {
	struct provider *p;
	struct sshp_host *h;
	char *id;
	int64_t off;
	int64_t tail;
	int follow;
	int first;
	provider_log_cb cb;
	void *arg;
	struct loop_timer *timer; /* one-shot */
	int inflight;
	int done;
	int in_cb;
	int closed;
	int down_noted;
	struct provider_logs *next;
};

static void ssh_logs_free(struct provider_logs *lg)
{
	struct provider_logs **pp;

	for (pp = &lg->p->logs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == lg) {
			*pp = lg->next;
			break;
		}
	}
	if (lg->timer != NULL)
		loop_timer_cancel(lg->p->loop, lg->timer);
	free(lg->id);
	free(lg);
}

/* Calls the consumer; 1 when the stream was closed meanwhile (lg is then freed). */
static int ssh_logs_deliver(struct provider_logs *lg, const char *data, size_t len, int eof)
{
	lg->in_cb = 1;
	lg->cb(lg->arg, data, len, eof);
	lg->in_cb = 0;
	if (lg->closed) {
		ssh_logs_free(lg);
		return 1;
	}
	return 0;
}

static void ssh_logs_end(struct provider_logs *lg)
{
	lg->done = 1;
	ssh_logs_deliver(lg, NULL, 0, 1);
}

static void ssh_logs_tick(void *arg);

static void ssh_logs_later(struct provider_logs *lg, uint64_t ms)
{
	lg->timer = loop_timer_add(lg->p->loop, ms, 0, ssh_logs_tick, lg);
}

static void ssh_logs_done(struct sshp_op *op, int cancelled)
{
	struct provider_logs *lg = op->ctx;
	const char *out = op->r.out != NULL ? op->r.out : "", *data;
	long long size = -1, start = 0;
	int ended = 0, first = lg->first;
	size_t len;

	lg->inflight = 0;
	lg->first = 0;
	if (cancelled || lg->closed) {
		if (lg->closed && !lg->in_cb)
			ssh_logs_free(lg);
		return;
	}
	if (op->exec_rc != 0) {
		if (!lg->down_noted || !lg->follow) {
			char *note = xprintf("\n[gantry: %s; %s]\n", op->cause,
			                     lg->follow ? "retrying" : "no log");

			lg->down_noted = 1;
			if (ssh_logs_deliver(lg, note, strlen(note), 0)) {
				free(note);
				return;
			}
			free(note);
		}
		if (!lg->follow)
			ssh_logs_end(lg);
		else
			ssh_logs_later(lg, SSH_LOGS_POLL_MS);
		return;
	}
	lg->down_noted = 0;
	if (strncmp(out, "@@log ", 6) != 0 ||
	    sscanf(out + 6, "%lld %d %lld", &size, &ended, &start) != 3) {
		/* gone, or an answer we cannot read: nothing more will come */
		ssh_logs_end(lg);
		return;
	}
	data = strchr(out, '\n');
	data = data != NULL ? data + 1 : out + op->r.outlen;
	len = op->r.outlen - (size_t)(data - out);
	if (!first && start > lg->off) {
		char note[96];
		int n = snprintf(note, sizeof note, "\n[gantry: skipped %lld bytes to keep up]\n",
		                 start - (long long)lg->off);

		if (ssh_logs_deliver(lg, note, (size_t)n, 0))
			return;
	}
	lg->off = start + (long long)len;
	if (len > 0 && ssh_logs_deliver(lg, data, len, 0))
		return;
	if (ended && lg->off >= size) {
		ssh_logs_end(lg);
		return;
	}
	if (!lg->follow && lg->off >= size) {
		ssh_logs_end(lg);
		return;
	}
	ssh_logs_later(lg, !lg->follow || len >= SSH_LOGS_MAX ? 0 : SSH_LOGS_POLL_MS);
}

static void ssh_logs_poll(struct provider_logs *lg)
{
	struct provider *p = lg->p;
	struct sshp_op *op;
	char off[32], max[32], skip[32], keep[32];
	int64_t k = lg->tail < SSH_LOGS_SKIP_KEEP ? lg->tail : SSH_LOGS_SKIP_KEEP;

	if (lg->inflight || lg->done || lg->closed || p->closing)
		return;
	snprintf(off, sizeof off, "%lld",
	         (long long)(lg->first && lg->tail > 0 ? -lg->tail : lg->off));
	snprintf(max, sizeof max, "%d", SSH_LOGS_MAX);
	snprintf(skip, sizeof skip, "%lld",
	         (long long)(!lg->first && lg->follow && lg->tail > 0 ? 4 * lg->tail : 0));
	snprintf(keep, sizeof keep, "%lld", (long long)k);
	op = sshp_op_new(lg->h,
	                 ssh_remote_command(lg->h->conf->dir, lg->id, off, max, skip, keep, NULL),
	                 xstrdup(ssh_remote_logs_script), p->conf.io_timeout_ms);
	op->done = ssh_logs_done;
	op->ctx = lg;
	lg->inflight = 1;
	sshp_op_submit(op);
}

static void ssh_logs_tick(void *arg)
{
	struct provider_logs *lg = arg;

	lg->timer = NULL;
	ssh_logs_poll(lg);
}

int ssh_logs_open(struct provider *p, const char *ref, int follow, int64_t tail_bytes,
                  provider_log_cb cb, void *arg, struct provider_logs **out, char **cause)
{
	struct provider_logs *lg;
	size_t *hosts, n;
	char *id;

	if (sshp_parse_ref(p, ref, &id, &hosts, &n, cause) != 0)
		return -1;
	lg = xcalloc(1, sizeof *lg);
	lg->p = p;
	lg->h = p->hosts[hosts[0]];
	lg->id = id;
	lg->tail = tail_bytes > 0 ? tail_bytes : 0;
	lg->follow = follow;
	lg->first = 1;
	lg->cb = cb;
	lg->arg = arg;
	free(hosts);
	lg->next = p->logs;
	p->logs = lg;
	/* the first delivery happens from the loop, after *out is set */
	ssh_logs_later(lg, 0);
	*out = lg;
	return 0;
}

void ssh_logs_close(struct provider *p, struct provider_logs *lg)
{
	(void)p;
	if (lg == NULL)
		return;
	if (lg->in_cb || lg->inflight) {
		lg->closed = 1;
		if (lg->timer != NULL)
			loop_timer_cancel(lg->p->loop, lg->timer);
		lg->timer = NULL;
		return;
	}
	ssh_logs_free(lg);
}

void ssh_logs_close_all(struct provider *p)
{
	for (struct provider_logs *lg = p->logs, *next; lg != NULL; lg = next) {
		next = lg->next;
		lg->closed = 1;
		if (!lg->inflight && !lg->in_cb)
			ssh_logs_free(lg);
	}
}

void ssh_logs_free_all(struct provider *p)
{
	while (p->logs != NULL)
		ssh_logs_free(p->logs);
}
