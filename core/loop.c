/* loop.c: the event loop: poll(2), monotonic timers, self-pipe signals. */
#include "core/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"

struct loop_fd {
	int fd;
	short events;
	loop_fd_cb cb;
	void *arg;
	int dead; /* removed while the loop was iterating */
	struct loop_fd *next;
};

struct loop_timer {
	uint64_t due_ms;      /* monotonic */
	uint64_t interval_ms; /* 0 = one-shot */
	loop_timer_cb cb;
	void *arg;
	int dead;
	struct loop_timer *next;
};

struct loop_sig {
	int signo;
	loop_signal_cb cb;
	void *arg;
	struct loop_sig *next;
};

struct loop {
	struct loop_fd *fds;
	struct loop_timer *timers;
	struct loop_sig *sigs;
	struct pollfd *pfds;
	struct loop_fd **pmap;
	size_t pcap;
	int stop;
	int running; /* depth of dispatch; removal is deferred while > 0 */
	int sig_pipe[2];
	struct loop_fd *sig_watch;
};

/* Signal numbers go through this pipe; the handler only writes one byte. */
static int loop_sig_wfd = -1;
static volatile sig_atomic_t loop_sig_pending[65];

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t loop_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);

	l->sig_pipe[0] = l->sig_pipe[1] = -1;
	return l;
}

static void loop_sweep(struct loop *l)
{
	struct loop_fd **fp = &l->fds;
	struct loop_timer **tp = &l->timers;

	while (*fp != NULL) {
		struct loop_fd *w = *fp;

		if (w->dead) {
			*fp = w->next;
			free(w);
		} else {
			fp = &w->next;
		}
	}
	while (*tp != NULL) {
		struct loop_timer *t = *tp;

		if (t->dead) {
			*tp = t->next;
			free(t);
		} else {
			tp = &t->next;
		}
	}
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	for (struct loop_fd *w = l->fds; w != NULL; w = w->next)
		w->dead = 1;
	for (struct loop_timer *t = l->timers; t != NULL; t = t->next)
		t->dead = 1;
	loop_sweep(l);
	while (l->sigs != NULL) {
		struct loop_sig *s = l->sigs;

		l->sigs = s->next;
		signal(s->signo, SIG_DFL);
		free(s);
	}
	if (l->sig_pipe[0] >= 0) {
		close(l->sig_pipe[0]);
		close(l->sig_pipe[1]);
		loop_sig_wfd = -1;
	}
	free(l->pfds);
	free(l->pmap);
	free(l);
}

struct loop_fd *loop_fd_add(struct loop *l, int fd, short events, loop_fd_cb cb, void *arg)
{
	struct loop_fd *w = xcalloc(1, sizeof *w);

	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	w->next = l->fds;
	l->fds = w;
	return w;
}

void loop_fd_set_events(struct loop_fd *w, short events)
{
	w->events = events;
}

void loop_fd_remove(struct loop *l, struct loop_fd *w)
{
	if (w == NULL)
		return;
	w->dead = 1;
	if (l->running == 0)
		loop_sweep(l);
}

struct loop_timer *loop_timer_add(struct loop *l, uint64_t delay_ms, uint64_t interval_ms,
                                  loop_timer_cb cb, void *arg)
{
	struct loop_timer *t = xcalloc(1, sizeof *t);

	t->due_ms = loop_now_ms() + delay_ms;
	t->interval_ms = interval_ms;
	t->cb = cb;
	t->arg = arg;
	t->next = l->timers;
	l->timers = t;
	return t;
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	if (t == NULL)
		return;
	t->dead = 1;
	if (l->running == 0)
		loop_sweep(l);
}

static void loop_sig_handler(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;

	if (signo > 0 && signo < 65)
		loop_sig_pending[signo] = 1;
	if (loop_sig_wfd >= 0) {
		ssize_t r = write(loop_sig_wfd, &b, 1);
		(void)r;
	}
	errno = saved;
}

static void loop_sig_read(int fd, short revents, void *arg)
{
	struct loop *l = arg;
	unsigned char buf[64];

	while (read(fd, buf, sizeof buf) > 0)
		;
	for (int signo = 1; signo < 65; signo++) {
		if (!loop_sig_pending[signo])
			continue;
		loop_sig_pending[signo] = 0;
		for (struct loop_sig *s = l->sigs; s != NULL; s = s->next)
			if (s->signo == signo)
				s->cb(signo, s->arg);
	}
}

int loop_signal_watch(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	struct sigaction sa;
	struct loop_sig *s;

	if (l->sig_pipe[0] < 0) {
		if (pipe2(l->sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
			return -1;
		loop_sig_wfd = l->sig_pipe[1];
		l->sig_watch = loop_fd_add(l, l->sig_pipe[0], POLLIN, loop_sig_read, l);
	}
	s = xcalloc(1, sizeof *s);
	s->signo = signo;
	s->cb = cb;
	s->arg = arg;
	s->next = l->sigs;
	l->sigs = s;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = loop_sig_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	return sigaction(signo, &sa, NULL);
}

/* Milliseconds until the earliest live timer, or -1 when there is none. */
static int loop_next_timeout(struct loop *l, uint64_t now)
{
	uint64_t best = UINT64_MAX;

	for (struct loop_timer *t = l->timers; t != NULL; t = t->next)
		if (!t->dead && t->due_ms < best)
			best = t->due_ms;
	if (best == UINT64_MAX)
		return -1;
	if (best <= now)
		return 0;
	return best - now > 60000 ? 60000 : (int)(best - now);
}

static void loop_run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();

	for (struct loop_timer *t = l->timers; t != NULL; t = t->next) {
		if (t->dead || t->due_ms > now)
			continue;
		if (t->interval_ms == 0) {
			t->dead = 1;
		} else {
			t->due_ms += t->interval_ms;
			if (t->due_ms <= now) /* fell behind (suspend): skip missed ticks */
				t->due_ms = now + t->interval_ms;
		}
		t->cb(t->arg);
	}
}

int loop_run_once(struct loop *l, int max_wait_ms)
{
	size_t n = 0;
	int timeout, rc;

	for (struct loop_fd *w = l->fds; w != NULL; w = w->next)
		if (!w->dead)
			n++;
	if (n > l->pcap) {
		l->pcap = n * 2;
		l->pfds = xreallocarray(l->pfds, l->pcap, sizeof *l->pfds);
		l->pmap = xreallocarray(l->pmap, l->pcap, sizeof *l->pmap);
	}
	n = 0;
	for (struct loop_fd *w = l->fds; w != NULL; w = w->next) {
		if (w->dead)
			continue;
		l->pfds[n].fd = w->fd;
		l->pfds[n].events = w->events;
		l->pfds[n].revents = 0;
		l->pmap[n++] = w;
	}
	timeout = loop_next_timeout(l, loop_now_ms());
	if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms))
		timeout = max_wait_ms;
	rc = poll(l->pfds, n, timeout);
	if (rc < 0 && errno != EINTR)
		return -1;
	l->running++;
	for (size_t i = 0; rc > 0 && i < n; i++) {
		struct loop_fd *w = l->pmap[i];

		if (l->pfds[i].revents != 0 && !w->dead)
			w->cb(w->fd, l->pfds[i].revents, w->arg);
	}
	loop_run_timers(l);
	l->running--;
	if (l->running == 0)
		loop_sweep(l);
	return 0;
}

void loop_run(struct loop *l)
{
	l->stop = 0;
	while (!l->stop)
		if (loop_run_once(l, -1) != 0)
			break;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

int loop_stopped(const struct loop *l)
{
	return l->stop;
}
