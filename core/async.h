/* async.h: work that must block (SSH, DNS) runs on a worker thread and hands its result
 * back to the event loop. A queue is one thread running its work items in submission order
 * (one per remote host keeps that host's SSH session on one thread). `work` runs on the
 * queue's thread and must not touch loop-owned state; `done` runs later on the loop thread,
 * woken through a pipe. */
#ifndef GANTRY_ASYNC_H
#define GANTRY_ASYNC_H

#include <stddef.h>

struct loop;
struct async_queue;

typedef void (*async_work_fn)(void *arg);
/* cancelled = 1 when the queue was freed before the work ran (work was skipped). */
typedef void (*async_done_fn)(void *arg, int cancelled);

struct async_queue *async_queue_new(struct loop *l, const char *name);
void async_queue_submit(struct async_queue *q, async_work_fn work, async_done_fn done,
                        void *arg);
/* Items submitted and not yet done (queued, running, or awaiting their done on the loop). */
size_t async_queue_pending(const struct async_queue *q);
/* Skips queued work, waits for the item running now, then calls every outstanding done
 * (cancelled set for skipped ones) on the calling thread, stops the thread and frees q. */
void async_queue_free(struct async_queue *q);

#endif
