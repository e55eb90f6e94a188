/* tele_pack.c: a GPU-hour of 1-minute buckets as a bit-packed blob (see tele_pack.h). */
#include "core/tele_pack.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TPACK_NCOLS 8
#define TPACK_QCAP  17 /* quotients counted apart when choosing k and the escape */

/* The columns, in stream order. */
enum tpack_col {
	TPACK_C_N,
	TPACK_C_NU, /* n - n_util */
	TPACK_C_HAS,
	TPACK_C_UTIL,
	TPACK_C_UMAX,
	TPACK_C_MEM,
	TPACK_C_TEMP,
	TPACK_C_POWER,
};

/* How a column's values are predicted; the residuals are coded. */
enum tpack_pred {
	TPACK_P_DELTA, /* the previous value (0 for the first) */
	TPACK_P_REF,   /* a */
	TPACK_P_LIN,   /* a + s * the minute's util_avg (0 when it has none) */
};

/* Which predictors a column tries. */
static const unsigned tpack_preds[TPACK_NCOLS] = {
    [TPACK_C_N] = 1u << TPACK_P_DELTA | 1u << TPACK_P_REF,
    [TPACK_C_NU] = 1u << TPACK_P_REF,
    [TPACK_C_HAS] = 1u << TPACK_P_REF,
    [TPACK_C_UTIL] = 1u << TPACK_P_DELTA | 1u << TPACK_P_REF,
    [TPACK_C_UMAX] = 1u << TPACK_P_DELTA | 1u << TPACK_P_REF | 1u << TPACK_P_LIN,
    [TPACK_C_MEM] = 1u << TPACK_P_DELTA | 1u << TPACK_P_REF,
    [TPACK_C_TEMP] = 1u << TPACK_P_DELTA | 1u << TPACK_P_REF,
    [TPACK_C_POWER] = 1u << TPACK_P_DELTA | 1u << TPACK_P_REF | 1u << TPACK_P_LIN,
};

/* Escape thresholds: a quotient of at least tpack_esc[e] is written as e ones and the value. */
static const int tpack_esc[8] = {1, 2, 3, 4, 6, 8, 12, 16};

/* How residuals are written: each as a Rice code (parameter k, escape index e), or, when
 * runs, as (zeros before it: kr, er; the value - 1: k, e) for each non-zero one, then the run
 * of zeros that ends the column, if any. */
struct tpack_code {
	int runs;
	int k, e, kr, er;
};

/* A column's coding: predictor, its parameters, residual code. */
struct tpack_model {
	enum tpack_pred pred;
	uint64_t a, s;
	struct tpack_code code;
};

struct tpack_bits {
	uint8_t *out;      /* writing */
	const uint8_t *in; /* reading */
	size_t len;        /* bytes available */
	size_t pos;        /* bits written or read */
	int bad;           /* read past the end */
};

/* Appends the low nbits of v, most significant first (a byte at a time; each byte is cleared
 * when first written to). */
static void tpack_put(struct tpack_bits *w, uint64_t v, int nbits)
{
	while (nbits > 0) {
		size_t byte = w->pos >> 3;
		int room = 8 - (int)(w->pos & 7), take = nbits < room ? nbits : room;
		unsigned bits = (unsigned)(v >> (nbits - take)) & ((1u << take) - 1);

		if (byte >= w->len) { /* cannot happen within TPACK_MAX; keep memory safe anyway */
			w->bad = 1;
			return;
		}
		if (room == 8)
			w->out[byte] = 0;
		w->out[byte] |= (uint8_t)(bits << (room - take));
		w->pos += (size_t)take;
		nbits -= take;
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
	return v != 0 ? 64 - __builtin_clzll(v) : 0;
}

int tpack_count(uint64_t mask)
{
	return __builtin_popcountll(mask & TPACK_ALL);
}

/* A signed parameter: its zigzag's bit length in 7 bits, then those bits. */
static void tpack_put_int(struct tpack_bits *w, uint64_t v)
{
	uint64_t z = tpack_zig(v);

	tpack_put(w, (uint64_t)tpack_bitlen(z), 7);
	tpack_put(w, z, tpack_bitlen(z));
}

static int tpack_int_bits(uint64_t v)
{
	return 7 + tpack_bitlen(tpack_zig(v));
}

static uint64_t tpack_get_int(struct tpack_bits *r)
{
	int len = (int)tpack_get(r, 7);

	if (len > 64) {
		r->bad = 1;
		return 0;
	}
	return tpack_unzig(tpack_get(r, len));
}

static void tpack_put_rice(struct tpack_bits *w, uint64_t v, int k, int e)
{
	uint64_t q = v >> k;

	if (q < (uint64_t)e) {
		tpack_put(w, (UINT64_C(1) << (q + 1)) - 2, (int)q + 1); /* q ones, a zero */
		tpack_put(w, v, k);
		return;
	}
	tpack_put(w, (UINT64_C(1) << e) - 1, e);
	tpack_put(w, (uint64_t)(tpack_bitlen(v) - 1), 6);
	tpack_put(w, v, tpack_bitlen(v));
}

static uint64_t tpack_get_rice(struct tpack_bits *r, int k, int e)
{
	uint64_t q = 0;

	while (q < (uint64_t)e && tpack_get(r, 1) == 1)
		q++;
	if (q < (uint64_t)e)
		return (q << k) | tpack_get(r, k);
	return tpack_get(r, (int)tpack_get(r, 6) + 1);
}

/* Bits n values take as Rice codes with the best parameter and escape (set in *k, *e). */
static uint64_t tpack_rice_cost(const uint64_t *z, size_t n, int *k_out, int *e_out)
{
	uint64_t best = UINT64_MAX, below = 0;
	int len[TPACK_SLOTS], hist[65] = {0}, kmed = 0;

	*k_out = *e_out = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		hist[len[i] = tpack_bitlen(z[i])]++;
	/* The best k is near the median's bit length: try a few around it. */
	for (kmed = 0; kmed < 64; kmed++) {
		below += (uint64_t)hist[kmed];
		if (below * 2 >= n)
			break;
	}
	for (int k = kmed > 2 ? kmed - 2 : 0; k <= kmed + 1 && k < 64; k++) {
		uint64_t cnt[TPACK_QCAP] = {0}, esc[TPACK_QCAP] = {0};
		uint64_t lo[TPACK_QCAP + 1], tail_n[TPACK_QCAP + 1], tail_esc[TPACK_QCAP + 1];

		for (size_t i = 0; i < n; i++) {
			uint64_t q = z[i] >> k;
			size_t b = q < TPACK_QCAP - 1 ? (size_t)q : TPACK_QCAP - 1;

			cnt[b]++;
			esc[b] += 6 + (uint64_t)len[i];
		}
		/* Bits with escape threshold E: sum over quotients below E of (q + 1 + k), over the
		 * others of E + 6 + length. */
		lo[0] = 0;
		for (int q = 0; q < TPACK_QCAP; q++)
			lo[q + 1] = lo[q] + cnt[q] * ((uint64_t)q + 1 + (uint64_t)k);
		tail_n[TPACK_QCAP] = tail_esc[TPACK_QCAP] = 0;
		for (int q = TPACK_QCAP - 1; q >= 0; q--) {
			tail_n[q] = tail_n[q + 1] + cnt[q];
			tail_esc[q] = tail_esc[q + 1] + esc[q];
		}
		for (int e = 0; e < 8; e++) {
			int big = tpack_esc[e];
			uint64_t bits = lo[big] + tail_n[big] * (uint64_t)big + tail_esc[big];

			if (bits < best) {
				best = bits;
				*k_out = k;
				*e_out = e;
			}
		}
	}
	return best;
}

/* The runs form of n residuals: run lengths into runs, non-zero values - 1 into vals. */
static void tpack_runs(const uint64_t *z, size_t n, uint64_t *runs, size_t *nruns, uint64_t *vals,
                       size_t *nvals)
{
	uint64_t zeros = 0;

	*nruns = *nvals = 0;
	for (size_t i = 0; i < n; i++) {
		if (z[i] == 0) {
			zeros++;
			continue;
		}
		runs[(*nruns)++] = zeros;
		vals[(*nvals)++] = z[i] - 1;
		zeros = 0;
	}
	if (zeros > 0)
		runs[(*nruns)++] = zeros;
}

/* Bits n residuals take in the cheaper of the two forms (chosen in *c). */
static uint64_t tpack_code_cost(const uint64_t *z, size_t n, struct tpack_code *c)
{
	uint64_t runs[TPACK_SLOTS], vals[TPACK_SLOTS], plain, run_bits;
	size_t nruns, nvals;
	struct tpack_code rc = {1, 0, 0, 0, 0};

	memset(c, 0, sizeof *c);
	plain = 1 + 6 + 3 + tpack_rice_cost(z, n, &c->k, &c->e);
	tpack_runs(z, n, runs, &nruns, vals, &nvals);
	if (nvals * 3 > n * 2) /* a third of zeros at least, or runs do not pay */
		return plain;
	run_bits = 1 + 6 + 3 + 6 + 3 + tpack_rice_cost(runs, nruns, &rc.kr, &rc.er) +
	           tpack_rice_cost(vals, nvals, &rc.k, &rc.e);
	if (run_bits < plain) {
		*c = rc;
		return run_bits;
	}
	return plain;
}

static void tpack_put_code(struct tpack_bits *w, const uint64_t *z, size_t n,
                           const struct tpack_code *c)
{
	uint64_t runs[TPACK_SLOTS], vals[TPACK_SLOTS];
	size_t nruns, nvals, j = 0;

	tpack_put(w, (uint64_t)c->runs, 1);
	tpack_put(w, (uint64_t)c->k, 6);
	tpack_put(w, (uint64_t)c->e, 3);
	if (!c->runs) {
		for (size_t i = 0; i < n; i++)
			tpack_put_rice(w, z[i], c->k, tpack_esc[c->e]);
		return;
	}
	tpack_put(w, (uint64_t)c->kr, 6);
	tpack_put(w, (uint64_t)c->er, 3);
	tpack_runs(z, n, runs, &nruns, vals, &nvals);
	for (size_t i = 0; i < nruns; i++) {
		tpack_put_rice(w, runs[i], c->kr, tpack_esc[c->er]);
		if (j < nvals)
			tpack_put_rice(w, vals[j++], c->k, tpack_esc[c->e]);
	}
}

/* Reads n residuals; -1 when damaged. */
static int tpack_get_code(struct tpack_bits *r, uint64_t *z, size_t n)
{
	struct tpack_code c;
	size_t i = 0;

	c.runs = (int)tpack_get(r, 1);
	c.k = (int)tpack_get(r, 6);
	c.e = (int)tpack_get(r, 3);
	if (!c.runs) {
		for (i = 0; i < n && !r->bad; i++)
			z[i] = tpack_get_rice(r, c.k, tpack_esc[c.e]);
		return r->bad ? -1 : 0;
	}
	c.kr = (int)tpack_get(r, 6);
	c.er = (int)tpack_get(r, 3);
	while (i < n && !r->bad) {
		uint64_t run = tpack_get_rice(r, c.kr, tpack_esc[c.er]);

		if (run > n - i)
			return -1;
		for (; run > 0; run--)
			z[i++] = 0;
		if (i < n)
			z[i++] = tpack_get_rice(r, c.k, tpack_esc[c.e]) + 1;
	}
	return r->bad ? -1 : 0;
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

/* Minute m's value in column c. */
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
		return (uint64_t)m->util_max;
	case TPACK_C_MEM:
		return (uint64_t)m->mem_mib;
	case TPACK_C_TEMP:
		return (uint64_t)m->temp_max;
	default:
		return (uint64_t)m->power_dw;
	}
}

/* The inverse of tpack_value (columns are read in order: n before n - n_util); -1 on a value
 * no encoder writes. */
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
		m->util_max = (int64_t)v;
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

/* What LIN scales: the minute's utilisation, 0 without one. */
static uint64_t tpack_x(const struct tpack_min *m)
{
	return m->n_util > 0 ? (uint64_t)m->util_avg : 0;
}

static uint64_t tpack_predict(const struct tpack_model *md, const struct tpack_min *m,
                              uint64_t prev)
{
	switch (md->pred) {
	case TPACK_P_DELTA:
		return prev;
	case TPACK_P_REF:
		return md->a;
	default:
		return md->a + md->s * tpack_x(m);
	}
}

/* The median of n (> 0) values taken as signed (quickselect). */
static uint64_t tpack_median(const uint64_t *v, size_t n)
{
	int64_t t[TPACK_SLOTS], pivot, x;
	int lo = 0, hi = (int)n - 1, k = (int)n / 2;

	for (size_t i = 0; i < n; i++)
		t[i] = (int64_t)v[i];
	while (lo < hi) {
		int i = lo, j = hi;

		pivot = t[(lo + hi) / 2];
		while (i <= j) {
			while (t[i] < pivot)
				i++;
			while (t[j] > pivot)
				j--;
			if (i <= j) {
				x = t[i];
				t[i++] = t[j];
				t[j--] = x;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return (uint64_t)t[k];
}

/* The least-squares slope of v over the minutes' utilisation, rounded; 0 when there is none. */
static uint64_t tpack_slope(const struct tpack_hour *h, const int *sel, const uint64_t *v, size_t n)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, cnt = 0, s;

	for (size_t i = 0; i < n; i++) {
		const struct tpack_min *m = &h->m[sel[i]];
		double x = (double)m->util_avg, y = (double)(int64_t)v[i];

		if (m->n_util <= 0)
			continue;
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		cnt++;
	}
	if (cnt < 2 || cnt * sxx - sx * sx < 0.5)
		return 0;
	s = (cnt * sxy - sx * sy) / (cnt * sxx - sx * sx);
	if (!isfinite(s) || fabs(s) > 1e15)
		return 0;
	return (uint64_t)(int64_t)(s < 0 ? s - 0.5 : s + 0.5);
}

/* Bits column c takes with model md (parameters set, k and e chosen here). */
static uint64_t tpack_model_cost(const struct tpack_hour *h, const int *sel, const uint64_t *v,
                                 size_t n, struct tpack_model *md)
{
	uint64_t z[TPACK_SLOTS], prev = 0, bits = 1 + 2;

	for (size_t i = 0; i < n; i++) {
		z[i] = tpack_zig(v[i] - tpack_predict(md, &h->m[sel[i]], prev));
		prev = v[i];
	}
	if (md->pred != TPACK_P_DELTA)
		bits += (uint64_t)tpack_int_bits(md->a);
	if (md->pred == TPACK_P_LIN)
		bits += (uint64_t)tpack_int_bits(md->s);
	return bits + tpack_code_cost(z, n, &md->code);
}

/* LIN with slope s: the intercept is the median of what the slope leaves. */
static void tpack_lin(const struct tpack_hour *h, const int *sel, const uint64_t *v, size_t n,
                      uint64_t s, struct tpack_model *md)
{
	uint64_t r[TPACK_SLOTS];

	for (size_t i = 0; i < n; i++)
		r[i] = v[i] - s * tpack_x(&h->m[sel[i]]);
	md->pred = TPACK_P_LIN;
	md->s = s;
	md->a = tpack_median(r, n);
}

static void tpack_put_column(struct tpack_bits *w, const struct tpack_hour *h, enum tpack_col c,
                             const int *sel, const uint64_t *v, size_t n)
{
	struct tpack_model best, md;
	uint64_t best_bits = UINT64_MAX, bits, prev = 0, z[TPACK_SLOTS];
	int same = 1;

	if (n == 0)
		return;
	memset(&best, 0, sizeof best);
	for (size_t i = 1; i < n; i++)
		same = same && v[i] == v[0];
	if (same) {
		tpack_put(w, 1, 1);
		tpack_put_int(w, v[0]);
		return;
	}
	for (int p = 0; p < 4; p++) {
		memset(&md, 0, sizeof md);
		if (p == 0 && (tpack_preds[c] & 1u << TPACK_P_DELTA)) {
			md.pred = TPACK_P_DELTA;
		} else if (p == 1 && (tpack_preds[c] & 1u << TPACK_P_REF)) {
			md.pred = TPACK_P_REF;
			md.a = tpack_median(v, n);
		} else if (p == 2 && (tpack_preds[c] & 1u << TPACK_P_LIN)) {
			tpack_lin(h, sel, v, n, 1, &md); /* maxima ride on the averages */
		} else if (p == 3 && (tpack_preds[c] & 1u << TPACK_P_LIN)) {
			tpack_lin(h, sel, v, n, tpack_slope(h, sel, v, n), &md);
		} else {
			continue;
		}
		bits = tpack_model_cost(h, sel, v, n, &md);
		if (bits < best_bits) {
			best_bits = bits;
			best = md;
		}
	}
	tpack_put(w, 0, 1);
	tpack_put(w, (uint64_t)best.pred, 2);
	if (best.pred != TPACK_P_DELTA)
		tpack_put_int(w, best.a);
	if (best.pred == TPACK_P_LIN)
		tpack_put_int(w, best.s);
	for (size_t i = 0; i < n; i++) {
		z[i] = tpack_zig(v[i] - tpack_predict(&best, &h->m[sel[i]], prev));
		prev = v[i];
	}
	tpack_put_code(w, z, n, &best.code);
}

/* Reads column c for the minutes sel[0 .. n) into h; -1 when damaged. */
static int tpack_get_column(struct tpack_bits *r, struct tpack_hour *h, enum tpack_col c,
                            const int *sel, size_t n)
{
	struct tpack_model md;
	uint64_t prev = 0, z[TPACK_SLOTS];

	if (n == 0)
		return 0;
	if (tpack_get(r, 1) == 1) {
		uint64_t v = tpack_get_int(r);

		for (size_t i = 0; i < n && !r->bad; i++)
			if (tpack_set(&h->m[sel[i]], c, v) < 0)
				return -1;
		return r->bad ? -1 : 0;
	}
	memset(&md, 0, sizeof md);
	md.pred = (enum tpack_pred)tpack_get(r, 2);
	if (md.pred > TPACK_P_LIN || !(tpack_preds[c] & 1u << md.pred))
		return -1;
	if (md.pred != TPACK_P_DELTA)
		md.a = tpack_get_int(r);
	if (md.pred == TPACK_P_LIN)
		md.s = tpack_get_int(r);
	if (tpack_get_code(r, z, n) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct tpack_min *m = &h->m[sel[i]];
		uint64_t v = tpack_unzig(z[i]) + tpack_predict(&md, m, prev);

		if (tpack_set(m, c, v) < 0)
			return -1;
		prev = v;
	}
	return r->bad ? -1 : 0;
}

/* The minutes of h that hold column c, oldest first, and their values. */
static size_t tpack_select(const struct tpack_hour *h, enum tpack_col c, int *sel, uint64_t *v)
{
	size_t n = 0;

	for (int i = 0; i < TPACK_SLOTS; i++) {
		if (((h->mask >> i) & 1) && tpack_holds(&h->m[i], c)) {
			sel[n] = i;
			if (v != NULL)
				v[n] = tpack_value(&h->m[i], c);
			n++;
		}
	}
	return n;
}

size_t tpack_encode(const struct tpack_hour *h, uint8_t *out)
{
	struct tpack_bits w = {out, NULL, TPACK_MAX, 0, 0};
	uint64_t mask = h->mask & TPACK_ALL, v[TPACK_SLOTS];
	int sel[TPACK_SLOTS];

	tpack_put(&w, TPACK_FORMAT, 8);
	tpack_put(&w, mask == TPACK_ALL, 1);
	if (mask != TPACK_ALL)
		tpack_put(&w, mask, TPACK_SLOTS);
	for (int c = 0; c < TPACK_NCOLS; c++) {
		size_t n = tpack_select(h, (enum tpack_col)c, sel, v);

		tpack_put_column(&w, h, (enum tpack_col)c, sel, v, n);
	}
	return (w.pos + 7) / 8;
}

int tpack_decode(const uint8_t *p, size_t len, struct tpack_hour *h)
{
	struct tpack_bits r = {NULL, p, len, 0, 0};
	int sel[TPACK_SLOTS];

	memset(h, 0, sizeof *h);
	if (tpack_get(&r, 8) != TPACK_FORMAT)
		return -1;
	h->mask = tpack_get(&r, 1) == 1 ? TPACK_ALL : tpack_get(&r, TPACK_SLOTS);
	for (int c = 0; c < TPACK_NCOLS && !r.bad; c++) {
		size_t n = tpack_select(h, (enum tpack_col)c, sel, NULL);

		if (tpack_get_column(&r, h, (enum tpack_col)c, sel, n) < 0)
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
