/* test_async.c: async queues with a real loop and real threads. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/async.h"
#include "core/loop.h"

#define NITEMS        64
#define WAIT_LIMIT_MS 20000

struct rec {
	struct loop *loop;
	pthread_mutex_t mu;
	int work_order[NITEMS];
	int nwork; /* mu */
	int done_order[NITEMS];
	int ndone;
	int cancelled[NITEMS];
	int done_calls[NITEMS];
	pthread_t work_thread[NITEMS];
	pthread_t done_thread[NITEMS];
	int started;  /* mu: item 0 began its work */
	int sleep_ms; /* work of item 0 sleeps this long */
	struct async_queue *q;
	int free_in_done_of; /* -1 = never */
	int resubmit;        /* done of item 0 submits item NITEMS - 1 */
};

struct item {
	struct rec *r;
	int i;
};

static struct item g_items[NITEMS];
static pthread_t g_main;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void work(void *arg)
{
	struct item *it = arg;
	struct rec *r = it->r;

	pthread_mutex_lock(&r->mu);
	r->work_order[r->nwork++] = it->i;
	r->work_thread[it->i] = pthread_self();
	if (it->i == 0)
		r->started = 1;
	pthread_mutex_unlock(&r->mu);
	if (it->i == 0 && r->sleep_ms > 0)
		sleep_ms(r->sleep_ms);
}

static void done(void *arg, int cancelled)
{
	struct item *it = arg;
	struct rec *r = it->r;

	r->done_order[r->ndone++] = it->i;
	r->cancelled[it->i] = cancelled;
	r->done_calls[it->i]++;
	r->done_thread[it->i] = pthread_self();
	if (r->free_in_done_of == it->i) {
		struct async_queue *q = r->q;

		r->q = NULL;
		async_queue_free(q);
	}
	if (r->resubmit && it->i == 0 && r->q != NULL)
		async_queue_submit(r->q, work, done, &g_items[NITEMS - 1]);
}

static int nwork(struct rec *r)
{
	int n;

	pthread_mutex_lock(&r->mu);
	n = r->nwork;
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void pump_until_done(struct rec *r, int want)
{
	uint64_t end = loop_now_ms() + WAIT_LIMIT_MS;

	while (r->ndone < want && loop_now_ms() < end)
		loop_run_once(r->loop, 50);
	assert_int_equal(r->ndone, want);
}

static int setup(void **state)
{
	struct rec *r = calloc(1, sizeof *r);

	r->loop = loop_new();
	pthread_mutex_init(&r->mu, NULL);
	r->free_in_done_of = -1;
	for (int i = 0; i < NITEMS; i++) {
		g_items[i].r = r;
		g_items[i].i = i;
	}
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rec *r = *state;

	if (r->q != NULL)
		async_queue_free(r->q);
	loop_free(r->loop);
	pthread_mutex_destroy(&r->mu);
	free(r);
	return 0;
}

/* Work runs in submission order on the queue's thread; done runs in the same order on
 * the loop thread; pending counts down to 0. */
static void test_order_and_threads(void **state)
{
	struct rec *r = *state;
	int n = NITEMS - 1;

	r->q = async_queue_new(r->loop, "test");
	for (int i = 0; i < n; i++)
		async_queue_submit(r->q, work, done, &g_items[i]);
	assert_true(async_queue_pending(r->q) > 0);
	assert_true(async_queue_pending(r->q) <= (size_t)n);
	pump_until_done(r, n);
	assert_int_equal(async_queue_pending(r->q), 0);
	assert_int_equal(nwork(r), n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(r->work_order[i], i);
		assert_int_equal(r->done_order[i], i);
		assert_int_equal(r->cancelled[i], 0);
		assert_int_equal(r->done_calls[i], 1);
		assert_true(pthread_equal(r->done_thread[i], g_main));
		assert_false(pthread_equal(r->work_thread[i], g_main));
		assert_true(pthread_equal(r->work_thread[i], r->work_thread[0]));
	}
}

/* Before the loop runs, every submitted item is pending. */
static void test_pending_counts(void **state)
{
	struct rec *r = *state;

	r->q = async_queue_new(r->loop, "pending");
	r->sleep_ms = 300;
	for (int i = 0; i < 5; i++)
		async_queue_submit(r->q, work, done, &g_items[i]);
	assert_int_equal(async_queue_pending(r->q), 5);
	pump_until_done(r, 5);
	assert_int_equal(async_queue_pending(r->q), 0);
}

/* Freeing with queued items: the running one finishes (cancelled 0), the rest are skipped
 * (their work never runs, cancelled 1), every done runs once on the calling thread. */
static void test_free_cancels_queued(void **state)
{
	struct rec *r = *state;
	uint64_t end = loop_now_ms() + WAIT_LIMIT_MS;
	struct async_queue *q;
	int started = 0;

	r->sleep_ms = 300;
	q = async_queue_new(r->loop, "cancel");
	for (int i = 0; i < 6; i++)
		async_queue_submit(q, work, done, &g_items[i]);
	while (!started && loop_now_ms() < end) {
		pthread_mutex_lock(&r->mu);
		started = r->started;
		pthread_mutex_unlock(&r->mu);
		sleep_ms(5);
	}
	assert_true(started);
	async_queue_free(q);
	assert_int_equal(r->ndone, 6);
	assert_int_equal(nwork(r), 1);
	assert_int_equal(r->cancelled[0], 0);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(r->done_order[i], i);
		assert_int_equal(r->done_calls[i], 1);
		assert_true(pthread_equal(r->done_thread[i], g_main));
		if (i > 0)
			assert_int_equal(r->cancelled[i], 1);
	}
	/* nothing is left for the loop to deliver */
	loop_run_once(r->loop, 50);
	assert_int_equal(r->ndone, 6);
}

/* Work that ran but whose done was not delivered yet gets done with cancelled 0. */
static void test_free_delivers_finished(void **state)
{
	struct rec *r = *state;
	uint64_t end = loop_now_ms() + WAIT_LIMIT_MS;
	struct async_queue *q = async_queue_new(r->loop, "finished");

	for (int i = 0; i < 3; i++)
		async_queue_submit(q, work, done, &g_items[i]);
	while (nwork(r) < 3 && loop_now_ms() < end)
		sleep_ms(5);
	assert_int_equal(nwork(r), 3);
	assert_int_equal(r->ndone, 0);
	async_queue_free(q);
	assert_int_equal(r->ndone, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r->cancelled[i], 0);
		assert_int_equal(r->done_order[i], i);
	}
}

/* A done callback may free its own queue; every other done still runs exactly once. */
static void test_free_from_done(void **state)
{
	struct rec *r = *state;

	r->q = async_queue_new(r->loop, "selffree");
	r->free_in_done_of = 1;
	for (int i = 0; i < 8; i++)
		async_queue_submit(r->q, work, done, &g_items[i]);
	pump_until_done(r, 8);
	assert_null(r->q);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(r->done_calls[i], 1);
		assert_int_equal(r->done_order[i], i);
	}
	loop_run_once(r->loop, 50);
	assert_int_equal(r->ndone, 8);
}

/* A done callback may submit more work. */
static void test_submit_from_done(void **state)
{
	struct rec *r = *state;

	r->q = async_queue_new(r->loop, "chain");
	r->resubmit = 1;
	async_queue_submit(r->q, work, done, &g_items[0]);
	pump_until_done(r, 2);
	assert_int_equal(r->done_order[1], NITEMS - 1);
	assert_int_equal(async_queue_pending(r->q), 0);
}

/* Several queues run at the same time (one thread each): four items on four queues meet
 * at a rendezvous that only completes when all four run together. */
static pthread_mutex_t g_meet_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_meet_cond = PTHREAD_COND_INITIALIZER;
static int g_meet_count, g_met[4];

static void work_meet(void *arg)
{
	struct item *it = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	pthread_mutex_lock(&g_meet_mu);
	g_meet_count++;
	pthread_cond_broadcast(&g_meet_cond);
	while (g_meet_count < 4)
		if (pthread_cond_timedwait(&g_meet_cond, &g_meet_mu, &until) != 0)
			break;
	g_met[it->i] = g_meet_count >= 4;
	pthread_mutex_unlock(&g_meet_mu);
	work(arg);
}

static void test_queues_are_concurrent(void **state)
{
	struct rec *r = *state;
	struct async_queue *qs[4];

	for (int i = 0; i < 4; i++) {
		qs[i] = async_queue_new(r->loop, "conc");
		async_queue_submit(qs[i], work_meet, done, &g_items[i]);
	}
	pump_until_done(r, 4);
	for (int i = 0; i < 4; i++) {
		assert_true(g_met[i]);
		for (int j = 0; j < i; j++)
			assert_false(pthread_equal(r->work_thread[i], r->work_thread[j]));
		async_queue_free(qs[i]);
	}
}

static void test_free_empty(void **state)
{
	struct rec *r = *state;

	async_queue_free(async_queue_new(r->loop, "empty"));
	async_queue_free(NULL);
	assert_int_equal(r->ndone, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_order_and_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_cancels_queued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_delivers_finished, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_from_done, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_submit_from_done, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queues_are_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_empty, setup, teardown),
	};

	g_main = pthread_self();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
