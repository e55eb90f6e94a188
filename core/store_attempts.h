/* store_attempts.h: launch attempts and held intervals (schema 5).
 * A job's launch is one or more attempts, each an intent row keyed by (job, attempt) with its
 * own idempotency key and the offer it tried (provider, region, instance type, market,
 * price); an attempt ends launched (error_class NULL) or failed with a class (capacity,
 * quota, auth, invalid, transient) and a one-line reason, and the engine may try the next
 * offer as attempt + 1. Holds are the intervals a job held resources, from the provider's
 * start time to its end (several when a job was preempted and came back): cost bills them. */
#ifndef GANTRY_STORE_ATTEMPTS_H
#define GANTRY_STORE_ATTEMPTS_H

#include <stdint.h>

#include "core/store.h"

struct store_attempt {
	char *job_id;
	int attempt;
	char *idem_key;
	char *provider, *region, *instance_type, *market; /* NULL when not known */
	int has_price;
	double price_per_hour;
	int64_t created_ms;
	int64_t done_ms;   /* 0 = still in flight (or interrupted by a crash) */
	char *error_class; /* NULL = launched (or in flight) */
	char *reason;
};

struct store_hold {
	char *job_id;
	int attempt;
	int64_t start_ms;
	int64_t end_ms; /* 0 = still held */
};

/* Records attempt a->attempt (> 1: the job row exists; attempt 1 comes with
 * store_launch_intent) and makes it the job's current attempt, in one transaction.
 * Fails when that attempt exists. */
int store_attempt_begin(struct store *s, const struct store_attempt *a, char **cause);
/* Ends an attempt: error_class NULL = launched; else failed with class and reason. */
int store_attempt_end(struct store *s, const char *job_id, int attempt, const char *error_class,
                      const char *reason, int64_t at_ms, char **cause);
/* Records where attempt `attempt` goes (the plan's offer; attempt 1 gets its row from
 * store_launch_intent without one). */
int store_attempt_place(struct store *s, const char *job_id, int attempt, const char *provider,
                        const char *region, const char *instance_type, const char *market,
                        char **cause);
/* The job's provider, price and region become those of the offer a fallback moved it to. */
int store_job_set_offer(struct store *s, const char *job_id, const char *provider, int priced,
                        double usd_per_hour, const char *region, char **cause);
/* Attempts of a job in order (heap array; store_attempts_free). */
int store_attempts_list(struct store *s, const char *job_id, struct store_attempt **out, size_t *n,
                        char **cause);
void store_attempts_free(struct store_attempt *v, size_t n);

/* Opens a held interval at start_ms unless one is open for the job (idempotent: a refresh
 * may report the same start many times). attempt <= 0: the job's current attempt. */
int store_hold_open(struct store *s, const char *job_id, int attempt, int64_t start_ms,
                    char **cause);
/* Closes the job's open interval at end_ms (no open one: nothing to do). */
int store_hold_close(struct store *s, const char *job_id, int64_t end_ms, char **cause);
/* Corrects the end of the job's latest interval to when its backend says it ended. */
int store_hold_set_end(struct store *s, const char *job_id, int64_t end_ms, char **cause);
/* Every interval of every job that ends after from_ms or is open, by job id and start. */
int store_holds_since(struct store *s, int64_t from_ms, struct store_hold **out, size_t *n,
                      char **cause);
/* The intervals of one job, by start. */
int store_holds_job(struct store *s, const char *job_id, struct store_hold **out, size_t *n,
                    char **cause);
void store_holds_free(struct store_hold *v, size_t n);

#endif
