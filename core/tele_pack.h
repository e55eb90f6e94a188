/* tele_pack.h: one GPU-hour of 1-minute buckets packed into a small binary blob (the store's
 * metrics_1m_packed rows, core/tele_store.h), and the merge of two buckets of one minute.
 *
 * Format 1, a bit stream (most significant bit first, the last byte zero-padded):
 *
 *   8 bits   format (1)
 *   1 bit    1: all 60 minutes are held; 0: a 60-bit mask follows (bit i = minute i)
 *   8 columns over the held minutes, oldest first: n; n - n_util; the presence flags
 *            (TPACK_MEM | TPACK_TEMP | TPACK_POWER); then over the minutes that have the field:
 *            util_avg, util_max (minutes with n_util > 0); mem_mib; temp_max; power_dw
 *
 * A column is either constant (1 bit set, then the value as a signed number: 7 bits of length
 * and that many bits of its zigzag encoding) or predicted (1 bit clear):
 *
 *   2 bits   predictor: 0 the previous value (0 for the first); 1 a constant a; 2 a + s times
 *            the minute's util_avg (0 without one: power follows utilisation, maxima ride on
 *            the averages); a and s follow as signed numbers
 *   residuals, value - prediction, zigzagged, as Rice codes: 1 bit form, 6 bits k, 3 bits e;
 *            each value: q = v >> k as q ones and a zero then the low k bits of v, or, when
 *            q >= E (E = 1 2 3 4 6 8 12 16 for e = 0 .. 7), E ones, 6 bits of length - 1 and
 *            the value. Form 1 (mostly zeros): 6 bits kr, 3 bits er, then for each non-zero
 *            residual the run of zeros before it (kr, er) and the residual - 1 (k, e), then the
 *            run of zeros that ends the column, if any.
 *
 * The encoder tries the predictors a column allows (medians for a, least squares for s) and
 * keeps the shortest with the best k, e and form, so steady series cost a bit or two a value
 * and a constant column a few bits in all. Values are any int64; arithmetic wraps, so nothing
 * overflows. */
#ifndef GANTRY_TELE_PACK_H
#define GANTRY_TELE_PACK_H

#include <stddef.h>
#include <stdint.h>

#define TPACK_SLOTS  60   /* minutes in an hour */
#define TPACK_FORMAT 1    /* the first byte of a packed hour */
#define TPACK_MAX    6144 /* bytes a packed hour can take, at most */
#define TPACK_ALL    ((UINT64_C(1) << TPACK_SLOTS) - 1)
#define TPACK_MEM    1u /* presence flags of a minute */
#define TPACK_TEMP   2u
#define TPACK_POWER  4u
#define TPACK_FIELDS (TPACK_MEM | TPACK_TEMP | TPACK_POWER)

/* One GPU-minute as the store keeps it: integers; utilisation is held when n_util > 0. */
struct tpack_min {
	int64_t n;        /* samples in the minute */
	int64_t n_util;   /* of which with a valid utilisation */
	int64_t util_avg; /* percent */
	int64_t util_max; /* percent */
	int64_t mem_mib;  /* MiB, when has & TPACK_MEM */
	int64_t temp_max; /* degrees C, when has & TPACK_TEMP */
	int64_t power_dw; /* deci-watts, when has & TPACK_POWER */
	unsigned has;     /* TPACK_MEM | TPACK_TEMP | TPACK_POWER */
};

/* One GPU-hour: m[i] is the minute starting i * 60 s into the hour, held when bit i of mask is
 * set (the others are ignored). */
struct tpack_hour {
	uint64_t mask;
	struct tpack_min m[TPACK_SLOTS];
};

/* Packs h into out (TPACK_MAX bytes); returns the bytes used. Fields a minute does not hold
 * (and utilisation when n_util <= 0) are not stored and read back as 0. */
size_t tpack_encode(const struct tpack_hour *h, uint8_t *out);
/* Unpacks len bytes into h; -1 when they are not a packed hour (h is then undefined). */
int tpack_decode(const uint8_t *p, size_t len, struct tpack_hour *h);
/* Minutes held in mask. */
int tpack_count(uint64_t mask);
/* Merges minute src into dst as the store merges a bucket written twice: counts add up,
 * maxima take the larger, averages are weighted by their counts (n_util for utilisation, n for
 * the others) and rounded half up, a field only one side holds is taken from it. */
void tpack_merge(struct tpack_min *dst, const struct tpack_min *src);

#endif
