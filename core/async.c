/* async.c: one worker thread per queue. Work items wait in a mutex+cond protected list;
 * the thread runs them in order and moves each to a finished list, then writes one byte to
 * a pipe the loop watches. The loop side pops finished items one at a time and calls their
 * done callbacks, so a done callback may submit more work or even free the queue. */
#include "core/async.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/xmalloc.h"

struct async_item {
	async_work_fn work;
	async_done_fn done;
	void *arg;
	struct async_item *next;
};

struct async_list {
	struct async_item *head, *tail;
};

struct async_queue {
	struct loop *loop;
	char *name;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct async_list queued;   /* waiting for the thread (mu) */
	struct async_list finished; /* ran, waiting for done on the loop (mu) */
	int stopping;               /* the thread must exit (mu) */
	size_t pending;             /* submitted, done not yet called (mu) */
	int pipe[2];                /* thread -> loop wake-up */
	struct loop_fd *watch;
	int dispatching; /* depth of done callbacks running from the loop */
	int freeing;     /* async_queue_free ran inside a done: the dispatcher frees */
};

static void async_list_push(struct async_list *l, struct async_item *it)
{
	it->next = NULL;
	if (l->tail != NULL)
		l->tail->next = it;
	else
		l->head = it;
	l->tail = it;
}

static struct async_item *async_list_pop(struct async_list *l)
{
	struct async_item *it = l->head;

	if (it != NULL) {
		l->head = it->next;
		if (l->head == NULL)
			l->tail = NULL;
		it->next = NULL;
	}
	return it;
}

static void async_wake(struct async_queue *q)
{
	char c = 1;
	ssize_t n;

	do {
		n = write(q->pipe[1], &c, 1);
	} while (n < 0 && errno == EINTR);
	/* EAGAIN: the pipe is full, so the loop is already due to wake */
}

static void *async_thread(void *arg)
{
	struct async_queue *q = arg;
	struct async_item *it;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->stopping && q->queued.head == NULL)
			pthread_cond_wait(&q->cond, &q->mu);
		if (q->stopping)
			break;
		it = async_list_pop(&q->queued);
		pthread_mutex_unlock(&q->mu);
		it->work(it->arg);
		pthread_mutex_lock(&q->mu);
		async_list_push(&q->finished, it);
		async_wake(q);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

static void async_destroy(struct async_queue *q)
{
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cond);
	free(q->name);
	free(q);
}

/* Loop side: the thread finished something. */
static void async_readable(int fd, short revents, void *arg)
{
	struct async_queue *q = arg;
	struct async_item *it;
	char buf[256];

	(void)revents;
	while (read(fd, buf, sizeof buf) > 0)
		;
	q->dispatching++;
	while (!q->freeing) {
		pthread_mutex_lock(&q->mu);
		it = async_list_pop(&q->finished);
		if (it != NULL)
			q->pending--;
		pthread_mutex_unlock(&q->mu);
		if (it == NULL)
			break;
		if (it->done != NULL)
			it->done(it->arg, 0);
		free(it);
	}
	q->dispatching--;
	if (q->freeing && q->dispatching == 0)
		async_destroy(q);
}

struct async_queue *async_queue_new(struct loop *l, const char *name)
{
	struct async_queue *q = xcalloc(1, sizeof *q);
	sigset_t all, old;
	char tname[16];

	q->loop = l;
	q->name = xstrdup(name != NULL ? name : "async");
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cond, NULL);
	if (pipe2(q->pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		xfatal("async: cannot create a pipe: %s", strerror(errno));
	q->watch = loop_fd_add(l, q->pipe[0], POLLIN, async_readable, q);
	/* the thread blocks every signal: they belong to the loop thread's self-pipe */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&q->thread, NULL, async_thread, q) != 0)
		xfatal("async: cannot start a thread for %s", q->name);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	q->started = 1;
	snprintf(tname, sizeof tname, "%s", q->name);
	pthread_setname_np(q->thread, tname);
	return q;
}

void async_queue_submit(struct async_queue *q, async_work_fn work, async_done_fn done, void *arg)
{
	struct async_item *it = xcalloc(1, sizeof *it);

	it->work = work;
	it->done = done;
	it->arg = arg;
	pthread_mutex_lock(&q->mu);
	if (q->stopping) {
		/* submitted from a done callback while the queue is being freed */
		pthread_mutex_unlock(&q->mu);
		if (done != NULL)
			done(arg, 1);
		free(it);
		return;
	}
	q->pending++;
	async_list_push(&q->queued, it);
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mu);
}

size_t async_queue_pending(const struct async_queue *q)
{
	struct async_queue *mq = (struct async_queue *)q;
	size_t n;

	pthread_mutex_lock(&mq->mu);
	n = mq->pending;
	pthread_mutex_unlock(&mq->mu);
	return n;
}

void async_queue_free(struct async_queue *q)
{
	struct async_list skipped, finished;
	struct async_item *it;

	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	q->stopping = 1;
	skipped = q->queued;
	memset(&q->queued, 0, sizeof q->queued);
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mu);
	if (q->started)
		pthread_join(q->thread, NULL); /* waits for the item running now */
	q->started = 0;
	loop_fd_remove(q->loop, q->watch);
	q->watch = NULL;
	close(q->pipe[0]);
	close(q->pipe[1]);
	/* the thread is gone: no lock needed from here on */
	finished = q->finished;
	memset(&q->finished, 0, sizeof q->finished);
	q->freeing = 1;
	/* in submission order: what ran came before what was skipped */
	while ((it = async_list_pop(&finished)) != NULL) {
		q->pending--;
		if (it->done != NULL)
			it->done(it->arg, 0);
		free(it);
	}
	while ((it = async_list_pop(&skipped)) != NULL) {
		q->pending--;
		if (it->done != NULL)
			it->done(it->arg, 1);
		free(it);
	}
	if (q->dispatching == 0)
		async_destroy(q);
}
