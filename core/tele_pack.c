/* tele_pack.c: a GPU-hour of 1-minute buckets as a bit-packed blob (see tele_pack.h). */
#include "core/tele_pack.h"

#include <string.h>

#define TPACK_ESC   16 /* unary quotients from here on escape to an explicit length */
#define TPACK_KMAX  63
#define TPACK_NCOLS 8

/* The columns, in stream order. */
enum tpack_col {
	TPACK_C_N,
	TPACK_C_NU, /* n - n_util */
	TPACK_C_HAS,
	TPACK_C_UTIL,
	TPACK_C_UMAX, /* util_max - util_avg */
	TPACK_C_MEM,
	TPACK_C_TEMP,
	TPACK_C_POWER,
};

/* Columns stored as differences from the previous value. */
static const int tpack_delta[TPACK_NCOLS] = {
    [TPACK_C_N] = 1, [TPACK_C_UTIL] = 1, [TPACK_C_MEM] = 1, [TPACK_C_TEMP] = 1, [TPACK_C_POWER] = 1,
};

struct tpack_bits {
	uint8_t *out;      /* writing */
	const uint8_t *in; /* reading */
	size_t len;        /* bytes available */
	size_t pos;        /* bits written or read */
	int bad;           /* read past the end */
};

static void tpack_put(struct tpack_bits *w, uint64_t v, int nbits)
{
	for (int i = nbits - 1; i >= 0; i--) {
		size_t byte = w->pos >> 3;

		if (byte >= w->len) { /* cannot happen within TPACK_MAX; keep memory safe anyway */
			w->bad = 1;
			return;
		}
		if ((v >> i) & 1)
			w->out[byte] |= (uint8_t)(0x80u >> (w->pos & 7));
		w->pos++;
	}
}

static uint64_t tpack_get(struct tpack_bits *r, int nbits)
{
	uint64_t v = 0;

	for (int i = 0; i < nbits; i++) {
		size_t byte = r->pos >> 3;

		if (byte >= r->len) {
			r->bad = 1;
			return 0;
		}
		v = (v << 1) | ((r->in[byte] >> (7 - (r->pos & 7))) & 1u);
		r->pos++;
	}
	return v;
}

static uint64_t tpack_zig(uint64_t d)
{
	return (d << 1) ^ (0 - (d >> 63));
}

static uint64_t tpack_unzig(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

static int tpack_bitlen(uint64_t v)
{
	int n = 0;

	while (v != 0) {
		n++;
		v >>= 1;
	}
	return n;
}

int tpack_count(uint64_t mask)
{
	return __builtin_popcountll(mask & TPACK_ALL);
}

/* Bits the Rice code of v takes with parameter k. */
static uint64_t tpack_rice_cost(uint64_t v, int k)
{
	uint64_t q = v >> k;

	if (q < TPACK_ESC)
		return q + 1 + (uint64_t)k;
	return TPACK_ESC + 6 + (uint64_t)tpack_bitlen(v);
}

static void tpack_rice_put(struct tpack_bits *w, uint64_t v, int k)
{
	uint64_t q = v >> k;

	if (q < TPACK_ESC) {
		tpack_put(w, (UINT64_C(1) << (q + 1)) - 2, (int)q + 1); /* q ones, a zero */
		if (k > 0)
			tpack_put(w, v, k);
		return;
	}
	tpack_put(w, (UINT64_C(1) << TPACK_ESC) - 1, TPACK_ESC);
	tpack_put(w, (uint64_t)(tpack_bitlen(v) - 1), 6);
	tpack_put(w, v, tpack_bitlen(v));
}

static uint64_t tpack_rice_get(struct tpack_bits *r, int k)
{
	uint64_t q = 0;
	int len;

	while (q < TPACK_ESC && tpack_get(r, 1) == 1)
		q++;
	if (r->bad)
		return 0;
	if (q < TPACK_ESC)
		return (q << k) | (k > 0 ? tpack_get(r, k) : 0);
	len = (int)tpack_get(r, 6) + 1;
	return tpack_get(r, len);
}

/* Whether minute m has a value in column c. */
static int tpack_holds(const struct tpack_min *m, enum tpack_col c)
{
	switch (c) {
	case TPACK_C_UTIL:
	case TPACK_C_UMAX:
		return m->n_util > 0;
	case TPACK_C_MEM:
		return (m->has & TPACK_MEM) != 0;
	case TPACK_C_TEMP:
		return (m->has & TPACK_TEMP) != 0;
	case TPACK_C_POWER:
		return (m->has & TPACK_POWER) != 0;
	default:
		return 1;
	}
}

/* Minute m's value in column c (before differences). */
static uint64_t tpack_value(const struct tpack_min *m, enum tpack_col c)
{
	switch (c) {
	case TPACK_C_N:
		return (uint64_t)m->n;
	case TPACK_C_NU:
		return (uint64_t)m->n - (uint64_t)(m->n_util > 0 ? m->n_util : 0);
	case TPACK_C_HAS:
		return m->has & TPACK_FIELDS;
	case TPACK_C_UTIL:
		return (uint64_t)m->util_avg;
	case TPACK_C_UMAX:
		return (uint64_t)m->util_max - (uint64_t)m->util_avg;
	case TPACK_C_MEM:
		return (uint64_t)m->mem_mib;
	case TPACK_C_TEMP:
		return (uint64_t)m->temp_max;
	default:
		return (uint64_t)m->power_dw;
	}
}

/* The inverse of tpack_value (columns are read in order: n before n - n_util, util_avg before
 * util_max); -1 on a value no encoder writes. */
static int tpack_set(struct tpack_min *m, enum tpack_col c, uint64_t v)
{
	switch (c) {
	case TPACK_C_N:
		m->n = (int64_t)v;
		break;
	case TPACK_C_NU:
		m->n_util = (int64_t)((uint64_t)m->n - v);
		break;
	case TPACK_C_HAS:
		if (v > TPACK_FIELDS)
			return -1;
		m->has = (unsigned)v;
		break;
	case TPACK_C_UTIL:
		m->util_avg = (int64_t)v;
		break;
	case TPACK_C_UMAX:
		m->util_max = (int64_t)((uint64_t)m->util_avg + v);
		break;
	case TPACK_C_MEM:
		m->mem_mib = (int64_t)v;
		break;
	case TPACK_C_TEMP:
		m->temp_max = (int64_t)v;
		break;
	default:
		m->power_dw = (int64_t)v;
		break;
	}
	return 0;
}

static void tpack_put_column(struct tpack_bits *w, enum tpack_col c, const uint64_t *v, size_t n)
{
	uint64_t z[TPACK_SLOTS], prev = 0, best = UINT64_MAX;
	int same = 1, k_best = 0;

	if (n == 0)
		return;
	for (size_t i = 1; i < n; i++)
		same = same && v[i] == v[0];
	if (same) {
		uint64_t zz = tpack_zig(v[0]);

		tpack_put(w, 1, 1);
		tpack_put(w, (uint64_t)tpack_bitlen(zz), 7);
		tpack_put(w, zz, tpack_bitlen(zz));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		z[i] = tpack_zig(tpack_delta[c] ? v[i] - prev : v[i]);
		prev = v[i];
	}
	for (int k = 0; k <= TPACK_KMAX; k++) {
		uint64_t bits = 0;

		for (size_t i = 0; i < n; i++)
			bits += tpack_rice_cost(z[i], k);
		if (bits < best) {
			best = bits;
			k_best = k;
		}
	}
	tpack_put(w, 0, 1);
	tpack_put(w, (uint64_t)k_best, 6);
	for (size_t i = 0; i < n; i++)
		tpack_rice_put(w, z[i], k_best);
}

/* Reads n values of column c into v (differences undone). */
static void tpack_get_column(struct tpack_bits *r, enum tpack_col c, uint64_t *v, size_t n)
{
	uint64_t prev = 0;
	int k;

	if (n == 0)
		return;
	if (tpack_get(r, 1) == 1) {
		int len = (int)tpack_get(r, 7);

		if (len > 64) {
			r->bad = 1;
			return;
		}
		v[0] = tpack_unzig(tpack_get(r, len));
		for (size_t i = 1; i < n; i++)
			v[i] = v[0];
		return;
	}
	k = (int)tpack_get(r, 6);
	for (size_t i = 0; i < n && !r->bad; i++) {
		uint64_t d = tpack_unzig(tpack_rice_get(r, k));

		v[i] = tpack_delta[c] ? prev + d : d;
		prev = v[i];
	}
}

size_t tpack_encode(const struct tpack_hour *h, uint8_t *out)
{
	struct tpack_bits w = {out, NULL, TPACK_MAX, 0, 0};
	uint64_t mask = h->mask & TPACK_ALL, v[TPACK_SLOTS];

	memset(out, 0, TPACK_MAX);
	tpack_put(&w, TPACK_FORMAT, 8);
	tpack_put(&w, mask == TPACK_ALL, 1);
	if (mask != TPACK_ALL)
		tpack_put(&w, mask, TPACK_SLOTS);
	for (int c = 0; c < TPACK_NCOLS; c++) {
		size_t n = 0;

		for (int i = 0; i < TPACK_SLOTS; i++)
			if (((mask >> i) & 1) && tpack_holds(&h->m[i], (enum tpack_col)c))
				v[n++] = tpack_value(&h->m[i], (enum tpack_col)c);
		tpack_put_column(&w, (enum tpack_col)c, v, n);
	}
	return (w.pos + 7) / 8;
}

int tpack_decode(const uint8_t *p, size_t len, struct tpack_hour *h)
{
	struct tpack_bits r = {NULL, p, len, 0, 0};
	uint64_t v[TPACK_SLOTS];

	memset(h, 0, sizeof *h);
	if (tpack_get(&r, 8) != TPACK_FORMAT)
		return -1;
	h->mask = tpack_get(&r, 1) == 1 ? TPACK_ALL : tpack_get(&r, TPACK_SLOTS);
	for (int c = 0; c < TPACK_NCOLS && !r.bad; c++) {
		int sel[TPACK_SLOTS], n = 0;

		for (int i = 0; i < TPACK_SLOTS; i++)
			if (((h->mask >> i) & 1) && tpack_holds(&h->m[i], (enum tpack_col)c))
				sel[n++] = i;
		tpack_get_column(&r, (enum tpack_col)c, v, (size_t)n);
		for (int i = 0; i < n && !r.bad; i++)
			if (tpack_set(&h->m[sel[i]], (enum tpack_col)c, v[i]) < 0)
				return -1;
	}
	return r.bad ? -1 : 0;
}

/* (a * na + b * nb) / (na + nb), rounded as sqlite's integer arithmetic does it in the
 * store's SQL merge; in floating point where the products could overflow. */
static int64_t tpack_wavg(int64_t a, int64_t na, int64_t b, int64_t nb)
{
	const int64_t lim = INT64_C(1) << 30;
	int64_t w;

	if (na < 0 || nb < 0 || na >= lim || nb >= lim || a <= -lim || a >= lim || b <= -lim ||
	    b >= lim) {
		double x =
		    ((double)a * (double)na + (double)b * (double)nb) / ((double)na + (double)nb);

		return x > -9.2e18 && x < 9.2e18 ? (int64_t)x : a;
	}
	w = na + nb;
	if (w == 0)
		return a;
	return (a * na + b * nb + w / 2) / w;
}

void tpack_merge(struct tpack_min *dst, const struct tpack_min *src)
{
	if (src->n_util > 0) {
		if (dst->n_util > 0) {
			dst->util_avg =
			    tpack_wavg(dst->util_avg, dst->n_util, src->util_avg, src->n_util);
			if (src->util_max > dst->util_max)
				dst->util_max = src->util_max;
		} else {
			dst->util_avg = src->util_avg;
			dst->util_max = src->util_max;
		}
	}
	if (src->has & TPACK_MEM)
		dst->mem_mib = dst->has & TPACK_MEM
		                   ? tpack_wavg(dst->mem_mib, dst->n, src->mem_mib, src->n)
		                   : src->mem_mib;
	if (src->has & TPACK_TEMP)
		dst->temp_max = dst->has & TPACK_TEMP && dst->temp_max > src->temp_max
		                    ? dst->temp_max
		                    : src->temp_max;
	if (src->has & TPACK_POWER)
		dst->power_dw = dst->has & TPACK_POWER
		                    ? tpack_wavg(dst->power_dw, dst->n, src->power_dw, src->n)
		                    : src->power_dw;
	dst->has |= src->has & TPACK_FIELDS;
	dst->n = (int64_t)((uint64_t)dst->n + (uint64_t)src->n);
	dst->n_util = (int64_t)((uint64_t)(dst->n_util > 0 ? dst->n_util : 0) +
	                        (uint64_t)(src->n_util > 0 ? src->n_util : 0));
}
