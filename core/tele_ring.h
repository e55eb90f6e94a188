/* tele_ring.h: recent GPU samples in fixed-size ring buffers (for sparklines and stale
 * detection) and their downsampling into 1-minute and 1-hour buckets (for the store).
 *
 * A ring holds the last `capacity` samples of one GPU (default 600: 10 minutes at 1 s) in
 * fixed memory, 12 bytes a sample: utilisation (whole %), memory used (MiB), temperature
 * (whole degrees C, 0..254) and power draw (deci-watts), each with its validity, and its time
 * (ms, 32 bits from a base: samples over 48 days older than the newest are dropped). A push is
 * O(1) (but for a rebase after such a gap).
 *
 * A ring set maps (host, GPU index) to a ring plus its aggregator. Samples fold into the
 * current 1-minute bucket of their GPU; a bucket closes when a sample of a later minute
 * arrives or tring_set_close passes its end, and closed 1-minute buckets fold into the
 * 1-hour bucket the same way. Closed buckets of both widths wait in the set until taken
 * (tring_set_take) and written out (core/tele_store.h). Samples older than the open bucket
 * (a clock that stepped back) are kept in the ring but not aggregated. Bucket starts are
 * aligned to UTC minutes and hours. Nothing here is thread-safe. */
#ifndef GANTRY_TELE_RING_H
#define GANTRY_TELE_RING_H

#include <stddef.h>
#include <stdint.h>

#include "core/telemetry.h"

#define TRING_DEFAULT_CAPACITY 600 /* samples: 10 minutes at 1 s */
#define TRING_1M               60  /* bucket widths, seconds */
#define TRING_1H               3600

enum tring_field {
	TRING_UTIL,  /* percent */
	TRING_MEM,   /* MiB used */
	TRING_TEMP,  /* degrees C */
	TRING_POWER, /* watts */
	TRING_NFIELDS
};

struct tring;
struct tring_set;

/* One GPU's samples aggregated over a minute or an hour. */
struct tring_bucket {
	const char *host; /* owned by the ring set (NULL in series read back from the store) */
	int gpu;          /* GPU index on the host */
	int width_s;      /* TRING_1M or TRING_1H */
	int64_t start_ms; /* Unix ms, a multiple of width_s * 1000 */
	uint32_t n;       /* samples that fell in the bucket, valid or not */
	uint32_t n_util;  /* of which with a valid utilisation; same for the others */
	uint32_t n_mem;   /* (read back from the store: n when the field had any valid */
	uint32_t n_temp;  /*  sample, 0 when none; n_util is exact) */
	uint32_t n_power;
	double util_avg;  /* percent, meaningful when n_util > 0 */
	double util_max;  /* percent */
	double mem_avg;   /* MiB, when n_mem > 0 */
	double temp_max;  /* degrees C, when n_temp > 0 */
	double power_avg; /* watts, when n_power > 0 */
};

/* A ring of capacity samples (0 = TRING_DEFAULT_CAPACITY). */
struct tring *tring_new(size_t capacity);
/* Frees a ring made by tring_new (not one owned by a set). */
void tring_free(struct tring *r);
/* Appends one sample of g taken at at_ms (Unix ms), dropping the oldest when full. */
void tring_push(struct tring *r, int64_t at_ms, const struct tele_gpu *g);
/* Samples held (at most the capacity). */
size_t tring_len(const struct tring *r);
/* Samples the ring can hold. */
size_t tring_capacity(const struct tring *r);
/* The last min(n, len) values of field f, oldest first, into out; returns how many. */
size_t tring_last(const struct tring *r, enum tring_field f, size_t n, struct tele_val *out);
/* Field f on a time grid: out[i] (i < n) is the latest sample taken in
 * (end_ms - (n - i) * step_ms, end_ms - (n - i - 1) * step_ms], invalid when none was (a gap).
 * Returns n. */
size_t tring_window(const struct tring *r, enum tring_field f, int64_t end_ms, int64_t step_ms,
                    size_t n, struct tele_val *out);
/* Time of the newest sample (Unix ms), 0 when empty. */
int64_t tring_last_at(const struct tring *r);
/* Age of the newest sample at now_ms, -1 when empty. */
int64_t tring_age_ms(const struct tring *r, int64_t now_ms);
/* 1 when the ring is empty or its newest sample is older than max_age_ms at now_ms. */
int tring_stale(const struct tring *r, int64_t now_ms, int64_t max_age_ms);

/* A set whose rings hold capacity samples each (0 = TRING_DEFAULT_CAPACITY). */
struct tring_set *tring_set_new(size_t capacity);
/* Frees the set, its rings, its host names and the buckets not taken. */
void tring_set_free(struct tring_set *s);
/* The ring of (host, gpu), or NULL when that GPU never had a sample. */
struct tring *tring_set_find(const struct tring_set *s, const char *host, int gpu);
/* Pushes one GPU's sample into its ring (made on first use) and aggregator; returns the ring. */
struct tring *tring_set_push(struct tring_set *s, const char *host, int gpu, int64_t at_ms,
                             const struct tele_gpu *g);
/* Pushes every GPU of a host sample (h->name, h->at_ms); a host never sampled is skipped. */
void tring_set_push_host(struct tring_set *s, const struct tele_host *h);
/* Closes every open bucket whose period ended at or before now_ms (GPUs that went quiet, or
 * the minute just past before a flush). */
void tring_set_close(struct tring_set *s, int64_t now_ms);
/* Closed buckets not yet taken. */
size_t tring_set_pending(const struct tring_set *s);
/* Hands over the closed buckets (heap array the caller frees; host names stay owned by the
 * set) and empties the queue; *n gets the count (NULL array when 0). */
struct tring_bucket *tring_set_take(struct tring_set *s, size_t *n);
/* GPUs (rings) in the set. */
size_t tring_set_count(const struct tring_set *s);
/* Samples not aggregated because they were older than their GPU's open bucket. */
uint64_t tring_set_dropped(const struct tring_set *s);

#endif
