/* ssh_resolve.c: getaddrinfo bounded by a deadline. A resolver that does not answer (a DNS
 * server that drops queries) would otherwise hold the caller for its own timeouts, often
 * longer than the connect timeout the user set. Address literals are resolved at once; a
 * name is looked up on a detached thread, and a caller that gives up leaves the result to
 * that thread, which frees it when the lookup ends. */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ssh_internal.h"
#include "core/xmalloc.h"

struct ssh_lookup {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int refs; /* the caller and the thread */
	int done;
	int rc;
	char *host, *port;
	struct addrinfo hints;
	struct addrinfo *res;
};

static void ssh_lookup_unref(struct ssh_lookup *l)
{
	int last;

	pthread_mutex_lock(&l->mu);
	last = --l->refs == 0;
	pthread_mutex_unlock(&l->mu);
	if (!last)
		return;
	if (l->res != NULL)
		freeaddrinfo(l->res);
	pthread_cond_destroy(&l->cond);
	pthread_mutex_destroy(&l->mu);
	free(l->host);
	free(l->port);
	free(l);
}

static void *ssh_lookup_main(void *arg)
{
	struct ssh_lookup *l = arg;
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(l->host, l->port, &l->hints, &res);

	pthread_mutex_lock(&l->mu);
	l->rc = rc;
	l->res = rc == 0 ? res : NULL;
	l->done = 1;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->mu);
	ssh_lookup_unref(l);
	return NULL;
}

int ssh_resolve(const char *host, const char *port, const struct addrinfo *hints, uint64_t deadline,
                struct addrinfo **res)
{
	struct addrinfo numeric = *hints;
	struct ssh_lookup *l;
	struct timespec until;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_condattr_t cattr;
	pthread_t th;
	uint64_t left;
	int rc;

	*res = NULL;
	numeric.ai_flags |= AI_NUMERICHOST;
	if (getaddrinfo(host, port, &numeric, res) == 0)
		return 0; /* an address: no lookup */
	l = xcalloc(1, sizeof *l);
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC); /* deadlines are monotonic */
	pthread_cond_init(&l->cond, &cattr);
	pthread_condattr_destroy(&cattr);
	l->refs = 2;
	l->host = xstrdup(host);
	l->port = xstrdup(port);
	l->hints = *hints;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all); /* signals are for the threads that expect them */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&th, &attr, ssh_lookup_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) { /* no thread: look up here, unbounded */
		l->refs = 1;
		ssh_lookup_unref(l);
		return getaddrinfo(host, port, hints, res);
	}
	left = (uint64_t)ssh_left_ms(deadline);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(left / 1000);
	until.tv_nsec += (long)(left % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&l->mu);
	while (!l->done && pthread_cond_timedwait(&l->cond, &l->mu, &until) != ETIMEDOUT)
		;
	rc = SSH_RESOLVE_TIMEOUT;
	if (l->done) {
		rc = l->rc;
		*res = l->res;
		l->res = NULL;
	}
	pthread_mutex_unlock(&l->mu);
	ssh_lookup_unref(l);
	return rc;
}
