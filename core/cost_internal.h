/* cost_internal.h: helpers shared by the cost_*.c files (not part of the engine API). */
#ifndef GANTRY_COST_INTERNAL_H
#define GANTRY_COST_INTERNAL_H

#include "core/cost.h"

/* A job's intervals merged, on the stack when there are few. */
struct cost_merged {
	struct cost_interval stack[8];
	struct cost_interval *heap;
	struct cost_interval *iv;
	size_t n;
};

/* Merges iv[0..n) into mg (cost_intervals_merge). */
void cost_merged_init(struct cost_merged *mg, const struct cost_interval *iv, size_t n);
/* Frees what mg owns. */
void cost_merged_clear(struct cost_merged *mg);

/* What one job amounts to in the window [from, now). */
struct cost_fig {
	double to_date; /* C(now) in USD */
	double window;  /* C(now) - C(from) */
	double burn;    /* rate when holding now */
	double idle;    /* idle cost in the window */
	int64_t idle_ms;
	int64_t held_ms; /* held time in the window, unrounded */
	int holding;
};

/* Figures of job j for the window [from, now) (from is cut at now). */
void cost_job_figures(const struct cost_job *j, int64_t from, int64_t now, struct cost_fig *f);
/* Length of merged m[0..n) inside [from, to). */
int64_t cost_overlap_ms(const struct cost_interval *m, size_t n, int64_t from, int64_t to);
/* Length of the intersection of merged a and b inside [from, to). */
int64_t cost_intersect_ms(const struct cost_interval *a, size_t na, const struct cost_interval *b,
                          size_t nb, int64_t from, int64_t to);
/* Whether merged m[0..n) holds now (start <= now < end). */
int cost_holding_at(const struct cost_interval *m, size_t n, int64_t now);
/* USD for ms at a rate per hour. */
double cost_usd(double usd_per_hour, int64_t ms);

#endif
