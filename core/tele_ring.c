/* tele_ring.c: per-GPU ring buffers and the 1-minute / 1-hour aggregator (see tele_ring.h). */
#include "core/tele_ring.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define TRING_NA8     0xffu
#define TRING_NA16    0xffffu
#define TRING_NA32    0xffffffffu
#define TRING_BASE_MS 86400000LL /* sample times are kept as offsets from a base a day back */

/* One sample, 12 bytes. */
struct tring_slot {
	uint32_t t_off;    /* ms after the ring's base */
	uint32_t mem_mib;  /* TRING_NA32 = n/a */
	uint16_t power_dw; /* deci-watts, TRING_NA16 = n/a */
	uint8_t util;      /* percent, TRING_NA8 = n/a */
	uint8_t temp;      /* degrees C, TRING_NA8 = n/a */
};

struct tring {
	size_t cap;
	size_t len;
	size_t head; /* where the next sample goes */
	int64_t base_ms;
	int64_t last_at_ms;
	struct tring_slot slots[];
};

/* Sums over one open bucket. */
struct tring_acc {
	int open;
	int64_t start_ms;
	int64_t closed_end_ms; /* end of the last closed bucket: older samples are late */
	uint32_t n, n_util, n_mem, n_temp, n_power;
	double sum_util, max_util, sum_mem, max_temp, sum_power;
};

struct tring_gpu {
	struct tring *ring;
	const char *host;
	int gpu;
	struct tring_acc min, hour;
};

struct tring_host {
	char *name;
	uint64_t hash;
	struct tring_gpu **gpus; /* by GPU index */
	size_t ngpus;
};

struct tring_set {
	size_t capacity;
	struct tring_host **table; /* open addressing, power of two */
	size_t table_size;
	size_t nhosts;
	struct tring_gpu **all;
	size_t nall, all_cap;
	struct tring_bucket *pending;
	size_t npending, pending_cap;
	uint64_t dropped;
};

struct tring *tring_new(size_t capacity)
{
	struct tring *r;

	if (capacity == 0)
		capacity = TRING_DEFAULT_CAPACITY;
	r = xcalloc(1, sizeof *r + capacity * sizeof r->slots[0]);
	r->cap = capacity;
	return r;
}

void tring_free(struct tring *r)
{
	free(r);
}

size_t tring_len(const struct tring *r)
{
	return r->len;
}

size_t tring_capacity(const struct tring *r)
{
	return r->cap;
}

/* Rounded and clamped to [0, max], or na when invalid. */
static uint32_t tring_quant(const struct tele_val *v, double scale, uint32_t max, uint32_t na)
{
	double x;

	if (!v->ok || !isfinite(v->v))
		return na;
	x = floor(v->v * scale + 0.5);
	if (x < 0)
		return 0;
	if (x > (double)max)
		return max;
	return (uint32_t)x;
}

/* Moves the base so that at_ms fits in 32 bits again, as far back as it can go; samples
 * older than the new base (about 48 days before at_ms) are dropped. */
static void tring_rebase(struct tring *r, int64_t at_ms)
{
	int64_t base = at_ms - ((int64_t)TRING_NA32 - TRING_BASE_MS);

	for (size_t i = 0; i < r->len; i++) {
		struct tring_slot *s = &r->slots[(r->head + r->cap - 1 - i) % r->cap];
		int64_t t = r->base_ms + s->t_off - base;

		if (t < 0) {
			r->len = i;
			break;
		}
		s->t_off = (uint32_t)t;
	}
	r->base_ms = base;
}

void tring_push(struct tring *r, int64_t at_ms, const struct tele_gpu *g)
{
	struct tring_slot *s = &r->slots[r->head];
	int64_t off;

	if (r->len == 0)
		r->base_ms = at_ms - TRING_BASE_MS;
	off = at_ms - r->base_ms;
	if (off > (int64_t)TRING_NA32) {
		tring_rebase(r, at_ms);
		off = at_ms - r->base_ms;
	}
	s->t_off = off < 0 ? 0 : (uint32_t)off;
	s->util = (uint8_t)tring_quant(&g->util_pct, 1, TRING_NA8 - 1, TRING_NA8);
	s->mem_mib = tring_quant(&g->mem_used_mib, 1, TRING_NA32 - 1, TRING_NA32);
	s->temp = (uint8_t)tring_quant(&g->temp_c, 1, TRING_NA8 - 1, TRING_NA8);
	s->power_dw = (uint16_t)tring_quant(&g->power_w, 10, TRING_NA16 - 1, TRING_NA16);
	r->head = (r->head + 1) % r->cap;
	if (r->len < r->cap)
		r->len++;
	r->last_at_ms = at_ms;
}

static struct tele_val tring_value(const struct tring_slot *s, enum tring_field f)
{
	struct tele_val v = {0, 0};

	switch (f) {
	case TRING_UTIL:
		if (s->util != TRING_NA8)
			v = (struct tele_val){s->util, 1};
		break;
	case TRING_MEM:
		if (s->mem_mib != TRING_NA32)
			v = (struct tele_val){s->mem_mib, 1};
		break;
	case TRING_TEMP:
		if (s->temp != TRING_NA8)
			v = (struct tele_val){s->temp, 1};
		break;
	case TRING_POWER:
		if (s->power_dw != TRING_NA16)
			v = (struct tele_val){s->power_dw / 10.0, 1};
		break;
	default:
		break;
	}
	return v;
}

/* The i-th newest slot (0 = newest). */
static const struct tring_slot *tring_nth_newest(const struct tring *r, size_t i)
{
	return &r->slots[(r->head + r->cap - 1 - i) % r->cap];
}

size_t tring_last(const struct tring *r, enum tring_field f, size_t n, struct tele_val *out)
{
	size_t k = n < r->len ? n : r->len;

	for (size_t i = 0; i < k; i++)
		out[k - 1 - i] = tring_value(tring_nth_newest(r, i), f);
	return k;
}

size_t tring_window(const struct tring *r, enum tring_field f, int64_t end_ms, int64_t step_ms,
                    size_t n, struct tele_val *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (struct tele_val){0, -1}; /* -1: no sample seen yet */
	if (step_ms <= 0)
		step_ms = 1;
	for (size_t i = 0; i < r->len && n > 0; i++) {
		const struct tring_slot *s = tring_nth_newest(r, i);
		int64_t t = r->base_ms + s->t_off, j;

		if (t > end_ms)
			continue;
		j = (end_ms - t) / step_ms;
		if ((uint64_t)j >= n)
			continue;
		if (out[n - 1 - j].ok == -1)
			out[n - 1 - j] = tring_value(s, f);
	}
	for (size_t i = 0; i < n; i++)
		if (out[i].ok == -1)
			out[i].ok = 0;
	return n;
}

int64_t tring_last_at(const struct tring *r)
{
	return r->len > 0 ? r->last_at_ms : 0;
}

int64_t tring_age_ms(const struct tring *r, int64_t now_ms)
{
	if (r->len == 0)
		return -1;
	return now_ms > r->last_at_ms ? now_ms - r->last_at_ms : 0;
}

int tring_stale(const struct tring *r, int64_t now_ms, int64_t max_age_ms)
{
	return r->len == 0 || tring_age_ms(r, now_ms) > max_age_ms;
}

/* ---- ring set and aggregation */

struct tring_set *tring_set_new(size_t capacity)
{
	struct tring_set *s = xcalloc(1, sizeof *s);

	s->capacity = capacity ? capacity : TRING_DEFAULT_CAPACITY;
	s->table_size = 64;
	s->table = xcalloc(s->table_size, sizeof *s->table);
	return s;
}

void tring_set_free(struct tring_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->table_size; i++) {
		struct tring_host *h = s->table[i];

		if (h == NULL)
			continue;
		for (size_t k = 0; k < h->ngpus; k++) {
			if (h->gpus[k] != NULL)
				tring_free(h->gpus[k]->ring);
			free(h->gpus[k]);
		}
		free(h->gpus);
		free(h->name);
		free(h);
	}
	free(s->table);
	free(s->all);
	free(s->pending);
	free(s);
}

static uint64_t tring_hash(const char *str)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

static struct tring_host *tring_host_find(const struct tring_set *s, const char *name,
                                          uint64_t hash, size_t *slot)
{
	size_t mask = s->table_size - 1, i = hash & mask;

	while (s->table[i] != NULL) {
		if (s->table[i]->hash == hash && strcmp(s->table[i]->name, name) == 0)
			break;
		i = (i + 1) & mask;
	}
	if (slot != NULL)
		*slot = i;
	return s->table[i];
}

static void tring_grow_table(struct tring_set *s)
{
	struct tring_host **old = s->table;
	size_t oldsz = s->table_size;

	s->table_size *= 2;
	s->table = xcalloc(s->table_size, sizeof *s->table);
	for (size_t i = 0; i < oldsz; i++) {
		size_t slot;

		if (old[i] == NULL)
			continue;
		tring_host_find(s, old[i]->name, old[i]->hash, &slot);
		s->table[slot] = old[i];
	}
	free(old);
}

static struct tring_gpu *tring_gpu_get(struct tring_set *s, const char *host, int gpu, int make)
{
	uint64_t hash = tring_hash(host);
	size_t slot;
	struct tring_host *h = tring_host_find(s, host, hash, &slot);
	struct tring_gpu *g;

	if (gpu < 0)
		return NULL;
	if (h == NULL) {
		if (!make)
			return NULL;
		if ((s->nhosts + 1) * 10 > s->table_size * 7) {
			tring_grow_table(s);
			tring_host_find(s, host, hash, &slot);
		}
		h = xcalloc(1, sizeof *h);
		h->name = xstrdup(host);
		h->hash = hash;
		s->table[slot] = h;
		s->nhosts++;
	}
	if ((size_t)gpu < h->ngpus && h->gpus[gpu] != NULL)
		return h->gpus[gpu];
	if (!make)
		return NULL;
	if ((size_t)gpu >= h->ngpus) {
		h->gpus = xreallocarray(h->gpus, (size_t)gpu + 1, sizeof *h->gpus);
		memset(h->gpus + h->ngpus, 0, ((size_t)gpu + 1 - h->ngpus) * sizeof *h->gpus);
		h->ngpus = (size_t)gpu + 1;
	}
	g = xcalloc(1, sizeof *g);
	g->ring = tring_new(s->capacity);
	g->host = h->name;
	g->gpu = gpu;
	h->gpus[gpu] = g;
	if (s->nall == s->all_cap) {
		s->all_cap = s->all_cap ? s->all_cap * 2 : 64;
		s->all = xreallocarray(s->all, s->all_cap, sizeof *s->all);
	}
	s->all[s->nall++] = g;
	return g;
}

struct tring *tring_set_find(const struct tring_set *s, const char *host, int gpu)
{
	struct tring_gpu *g = tring_gpu_get((struct tring_set *)s, host, gpu, 0);

	return g != NULL ? g->ring : NULL;
}

size_t tring_set_count(const struct tring_set *s)
{
	return s->nall;
}

uint64_t tring_set_dropped(const struct tring_set *s)
{
	return s->dropped;
}

size_t tring_set_pending(const struct tring_set *s)
{
	return s->npending;
}

static int64_t tring_floor(int64_t t, int64_t width)
{
	int64_t q = t / width;

	if (t % width != 0 && t < 0)
		q--;
	return q * width;
}

static void tring_acc_begin(struct tring_acc *a, int64_t start_ms)
{
	int64_t closed = a->closed_end_ms;

	memset(a, 0, sizeof *a);
	a->open = 1;
	a->start_ms = start_ms;
	a->closed_end_ms = closed;
}

/* Adds the sums of b into a. */
static void tring_acc_merge(struct tring_acc *a, const struct tring_acc *b)
{
	if (b->n_util > 0 && (a->n_util == 0 || b->max_util > a->max_util))
		a->max_util = b->max_util;
	if (b->n_temp > 0 && (a->n_temp == 0 || b->max_temp > a->max_temp))
		a->max_temp = b->max_temp;
	a->n += b->n;
	a->n_util += b->n_util;
	a->n_mem += b->n_mem;
	a->n_temp += b->n_temp;
	a->n_power += b->n_power;
	a->sum_util += b->sum_util;
	a->sum_mem += b->sum_mem;
	a->sum_power += b->sum_power;
}

static void tring_emit(struct tring_set *s, const struct tring_gpu *g, const struct tring_acc *a,
                       int width_s)
{
	struct tring_bucket *b;

	if (s->npending == s->pending_cap) {
		s->pending_cap = s->pending_cap ? s->pending_cap * 2 : 256;
		s->pending = xreallocarray(s->pending, s->pending_cap, sizeof *s->pending);
	}
	b = &s->pending[s->npending++];
	memset(b, 0, sizeof *b);
	b->host = g->host;
	b->gpu = g->gpu;
	b->width_s = width_s;
	b->start_ms = a->start_ms;
	b->n = a->n;
	b->n_util = a->n_util;
	b->n_mem = a->n_mem;
	b->n_temp = a->n_temp;
	b->n_power = a->n_power;
	if (a->n_util > 0) {
		b->util_avg = a->sum_util / a->n_util;
		b->util_max = a->max_util;
	}
	if (a->n_mem > 0)
		b->mem_avg = a->sum_mem / a->n_mem;
	if (a->n_temp > 0)
		b->temp_max = a->max_temp;
	if (a->n_power > 0)
		b->power_avg = a->sum_power / a->n_power;
}

static void tring_close_hour(struct tring_set *s, struct tring_gpu *g)
{
	tring_emit(s, g, &g->hour, TRING_1H);
	g->hour.open = 0;
	g->hour.closed_end_ms = g->hour.start_ms + TRING_1H * 1000LL;
}

/* Closes the open minute and folds it into its hour. */
static void tring_close_minute(struct tring_set *s, struct tring_gpu *g)
{
	int64_t hstart = tring_floor(g->min.start_ms, TRING_1H * 1000LL);

	tring_emit(s, g, &g->min, TRING_1M);
	g->min.open = 0;
	g->min.closed_end_ms = g->min.start_ms + TRING_1M * 1000LL;
	if (g->hour.open && hstart > g->hour.start_ms)
		tring_close_hour(s, g);
	if (!g->hour.open) {
		if (hstart < g->hour.closed_end_ms)
			return; /* the hour was closed already: late, not counted twice */
		tring_acc_begin(&g->hour, hstart);
	}
	if (hstart == g->hour.start_ms)
		tring_acc_merge(&g->hour, &g->min);
}

static void tring_acc_add(struct tring_acc *a, const struct tele_gpu *x)
{
	a->n++;
	if (x->util_pct.ok && isfinite(x->util_pct.v)) {
		if (a->n_util == 0 || x->util_pct.v > a->max_util)
			a->max_util = x->util_pct.v;
		a->sum_util += x->util_pct.v;
		a->n_util++;
	}
	if (x->mem_used_mib.ok && isfinite(x->mem_used_mib.v)) {
		a->sum_mem += x->mem_used_mib.v;
		a->n_mem++;
	}
	if (x->temp_c.ok && isfinite(x->temp_c.v)) {
		if (a->n_temp == 0 || x->temp_c.v > a->max_temp)
			a->max_temp = x->temp_c.v;
		a->n_temp++;
	}
	if (x->power_w.ok && isfinite(x->power_w.v)) {
		a->sum_power += x->power_w.v;
		a->n_power++;
	}
}

struct tring *tring_set_push(struct tring_set *s, const char *host, int gpu, int64_t at_ms,
                             const struct tele_gpu *x)
{
	struct tring_gpu *g = tring_gpu_get(s, host, gpu, 1);
	int64_t start = tring_floor(at_ms, TRING_1M * 1000LL);

	if (g == NULL)
		return NULL;
	tring_push(g->ring, at_ms, x);
	if (g->min.open && start > g->min.start_ms)
		tring_close_minute(s, g);
	if (!g->min.open && g->hour.open &&
	    tring_floor(at_ms, TRING_1H * 1000LL) > g->hour.start_ms)
		tring_close_hour(s, g);
	if (!g->min.open) {
		if (start < g->min.closed_end_ms) {
			s->dropped++;
			return g->ring;
		}
		tring_acc_begin(&g->min, start);
	} else if (start < g->min.start_ms) {
		s->dropped++;
		return g->ring;
	}
	tring_acc_add(&g->min, x);
	return g->ring;
}

void tring_set_push_host(struct tring_set *s, const struct tele_host *h)
{
	if (h->name == NULL || h->at_ms == 0)
		return;
	for (size_t i = 0; i < h->ngpus; i++) {
		const struct tele_gpu *x = &h->gpus[i];
		struct tring *r = tring_set_find(s, h->name, x->index);

		if (r != NULL && tring_len(r) > 0 && tring_last_at(r) >= h->at_ms)
			continue; /* the same (cached) sample again */
		tring_set_push(s, h->name, x->index, h->at_ms, x);
	}
}

void tring_set_close(struct tring_set *s, int64_t now_ms)
{
	for (size_t i = 0; i < s->nall; i++) {
		struct tring_gpu *g = s->all[i];

		if (g->min.open && g->min.start_ms + TRING_1M * 1000LL <= now_ms)
			tring_close_minute(s, g);
		if (g->hour.open && g->hour.start_ms + TRING_1H * 1000LL <= now_ms)
			tring_close_hour(s, g);
	}
}

struct tring_bucket *tring_set_take(struct tring_set *s, size_t *n)
{
	struct tring_bucket *b = s->pending;

	*n = s->npending;
	if (s->npending == 0) {
		free(s->pending);
		b = NULL;
	}
	s->pending = NULL;
	s->npending = s->pending_cap = 0;
	return b;
}
