/* widgets.c: bar gauges, sparklines and GPU rows rendered as text (see widgets.h). */
#include "tui/widgets.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tui/layout.h"

#define WIDGET_FULL        "\xe2\x96\x88" /* U+2588 full block */
#define WIDGET_FRAME_LEFT  "\xe2\x96\x95" /* U+2595 right one eighth block */
#define WIDGET_FRAME_RIGHT "\xe2\x96\x8f" /* U+258F left one eighth block */
#define WIDGET_DEGREE      "\xc2\xb0"     /* U+00B0 */

#define WIDGET_NAME_MAX  10 /* columns of the short name in a GPU row */
#define WIDGET_BAR_MIN   6  /* bar columns, frame included */
#define WIDGET_BAR_PREF  14 /* with a sparkline beside it */
#define WIDGET_BAR_MAX   22 /* without */
#define WIDGET_SPARK_MIN 4

/* Eighths of a cell, 1..7: U+258F .. U+2589. */
static const char *const widget_eighths[8] = {
    "",
    "\xe2\x96\x8f",
    "\xe2\x96\x8e",
    "\xe2\x96\x8d",
    "\xe2\x96\x8c",
    "\xe2\x96\x8b",
    "\xe2\x96\x8a",
    "\xe2\x96\x89",
};

/* Lower blocks U+2581 .. U+2588. */
static const char *const widget_levels[8] = {
    "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
    "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
};

static const char widget_ascii_levels[] = " .:-=+*#%@";

/* Braille dots filled from the bottom, per column: dots 7,3,2,1 (left), 8,6,5,4 (right). */
static const unsigned char widget_dots_left[5] = {0, 0x40, 0x44, 0x46, 0x47};
static const unsigned char widget_dots_right[5] = {0, 0x80, 0xa0, 0xb0, 0xb8};

/* Output being built: bytes and columns, with overflow noted. */
struct wbuf {
	char *buf;
	size_t size;
	size_t len;
	int cols;
	int err;
};

static void wb_init(struct wbuf *b, char *buf, size_t size)
{
	b->buf = buf;
	b->size = size;
	b->len = 0;
	b->cols = 0;
	b->err = size == 0;
	if (size > 0)
		buf[0] = '\0';
}

static void wb_put(struct wbuf *b, const char *s, size_t n, int cols)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->size) {
		b->err = 1;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
	b->cols += cols;
}

/* A string of single-column characters (any encoding). */
static void wb_glyph(struct wbuf *b, const char *s, int times)
{
	for (int i = 0; i < times; i++)
		wb_put(b, s, strlen(s), 1);
}

/* An ASCII string. */
static void wb_str(struct wbuf *b, const char *s)
{
	wb_put(b, s, strlen(s), (int)strlen(s));
}

static void wb_spaces(struct wbuf *b, int n)
{
	wb_glyph(b, " ", n);
}

static int wb_done(struct wbuf *b)
{
	if (b->err) {
		if (b->size > 0)
			b->buf[0] = '\0';
		return -1;
	}
	return (int)b->len;
}

/* v / max in [0, 1]; 0 for anything not finite. */
static double widget_frac(double v, double max)
{
	double f;

	if (!(max > 0) || !isfinite(v) || !isfinite(max))
		return 0;
	f = v / max;
	if (f < 0)
		return 0;
	return f > 1 ? 1 : f;
}

static int widget_round(double x)
{
	return (int)floor(x + 0.5);
}

/* The cells of a bar (no frame). */
static void wb_bar_cells(struct wbuf *b, struct tele_val v, double max, int cells,
                         enum widget_glyphs g)
{
	double f;
	int units, full, rem, per = g == WIDGET_ASCII ? 2 : 8;

	if (cells <= 0)
		return;
	if (!v.ok || !(max > 0) || !isfinite(v.v)) {
		if (cells >= 3) {
			wb_str(b, "n/a");
			wb_spaces(b, cells - 3);
		} else {
			wb_str(b, "?");
			wb_spaces(b, cells - 1);
		}
		return;
	}
	f = widget_frac(v.v, max);
	units = widget_round(f * cells * per);
	if (units == 0 && v.v > 0)
		units = 1;
	full = units / per;
	rem = units % per;
	if (g == WIDGET_ASCII) {
		wb_glyph(b, "#", full);
		if (rem)
			wb_str(b, "=");
	} else {
		wb_glyph(b, WIDGET_FULL, full);
		if (rem)
			wb_glyph(b, widget_eighths[rem], 1);
	}
	wb_spaces(b, cells - full - (rem ? 1 : 0));
}

static void wb_bar(struct wbuf *b, struct tele_val v, double max, int width, enum widget_glyphs g,
                   int framed)
{
	if (framed && width >= 3) {
		wb_glyph(b, g == WIDGET_ASCII ? "[" : WIDGET_FRAME_LEFT, 1);
		wb_bar_cells(b, v, max, width - 2, g);
		wb_glyph(b, g == WIDGET_ASCII ? "]" : WIDGET_FRAME_RIGHT, 1);
	} else {
		wb_bar_cells(b, v, max, width, g);
	}
}

int widget_bar(char *buf, size_t size, struct tele_val v, double max, int width,
               enum widget_glyphs g, int framed)
{
	struct wbuf b;

	wb_init(&b, buf, size);
	wb_bar(&b, v, max, width, g, framed);
	return wb_done(&b);
}

/* Sample q of a virtual series of m samples whose last ones are v[0..n) (NULL = none). */
static const struct tele_val *widget_sample(const struct tele_val *v, size_t n, size_t m, size_t q)
{
	if (n >= m)
		return &v[n - m + q];
	if (q < m - n)
		return NULL;
	return &v[q - (m - n)];
}

static int widget_valid(const struct tele_val *x)
{
	return x != NULL && x->ok && isfinite(x->v);
}

static void wb_sparkline(struct wbuf *b, const struct tele_val *v, size_t n, double max, int width,
                         enum widget_glyphs g)
{
	size_t per = g == WIDGET_BRAILLE ? 2 : 1, m;

	if (width <= 0)
		return;
	m = (size_t)width * per;
	if (v == NULL)
		n = 0;
	if (!(max > 0)) {
		max = 0;
		for (size_t q = 0; q < m; q++) {
			const struct tele_val *x = widget_sample(v, n, m, q);

			if (widget_valid(x) && x->v > max)
				max = x->v;
		}
		if (!(max > 0))
			max = 1;
	}
	for (int c = 0; c < width; c++) {
		if (g == WIDGET_BRAILLE) {
			const struct tele_val *l = widget_sample(v, n, m, 2 * (size_t)c);
			const struct tele_val *r = widget_sample(v, n, m, 2 * (size_t)c + 1);
			unsigned bits = 0;
			char cell[4];

			if (widget_valid(l))
				bits |=
				    widget_dots_left[1 + widget_round(widget_frac(l->v, max) * 3)];
			if (widget_valid(r))
				bits |=
				    widget_dots_right[1 + widget_round(widget_frac(r->v, max) * 3)];
			if (bits == 0) {
				wb_spaces(b, 1);
				continue;
			}
			cell[0] = (char)0xe2;
			cell[1] = (char)(0xa0 | (bits >> 6));
			cell[2] = (char)(0x80 | (bits & 0x3f));
			cell[3] = '\0';
			wb_glyph(b, cell, 1);
		} else {
			const struct tele_val *x = widget_sample(v, n, m, (size_t)c);

			if (!widget_valid(x)) {
				wb_spaces(b, 1);
			} else if (g == WIDGET_ASCII) {
				char ch[2] = {
				    widget_ascii_levels[1 +
				                        widget_round(widget_frac(x->v, max) * 8)],
				    '\0'};

				wb_str(b, ch);
			} else {
				wb_glyph(b, widget_levels[widget_round(widget_frac(x->v, max) * 7)],
				         1);
			}
		}
	}
}

int widget_sparkline(char *buf, size_t size, const struct tele_val *v, size_t n, double max,
                     int width, enum widget_glyphs g)
{
	struct wbuf b;

	wb_init(&b, buf, size);
	wb_sparkline(&b, v, n, max, width, g);
	return wb_done(&b);
}

/* "%3d%%" of a percentage, or " n/a". */
static void widget_pct(char *out, size_t size, struct tele_val v)
{
	int p;

	if (!v.ok || !isfinite(v.v)) {
		snprintf(out, size, " n/a");
		return;
	}
	p = widget_round(v.v);
	if (p < 0)
		p = 0;
	if (p > 999)
		p = 999;
	snprintf(out, size, "%3d%%", p);
}

int widget_minibar(char *buf, size_t size, struct tele_val util_pct, int cells,
                   enum widget_glyphs g)
{
	struct wbuf b;
	char pct[16];

	wb_init(&b, buf, size);
	if (cells < 0)
		cells = 0;
	if (util_pct.ok && isfinite(util_pct.v))
		wb_bar_cells(&b, util_pct, 100, cells, g);
	else
		wb_spaces(&b, cells);
	widget_pct(pct, sizeof pct, util_pct);
	wb_str(&b, " ");
	wb_str(&b, pct);
	return wb_done(&b);
}

static int widget_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

void widget_gpu_short_name(const char *name, char *out, size_t size)
{
	static const char *const vendors[] = {"NVIDIA ", "Tesla ", "GeForce ", "Quadro "};
	const char *s = name != NULL ? name : "";
	size_t len, sp;
	int again = 1;

	if (size == 0)
		return;
	while (*s == ' ')
		s++;
	while (again) {
		again = 0;
		for (size_t i = 0; i < sizeof vendors / sizeof vendors[0]; i++)
			if (widget_starts(s, vendors[i])) {
				s += strlen(vendors[i]);
				again = 1;
			}
	}
	if (widget_starts(s, "RTX ") || widget_starts(s, "GTX ") || widget_starts(s, "TITAN ")) {
		sp = strcspn(s, " ");
		len = sp + 1 + strcspn(s + sp + 1, " ");
	} else {
		len = strcspn(s, " -");
	}
	while (len > 0 && s[len - 1] == ' ')
		len--;
	if (len == 0) {
		snprintf(out, size, "GPU");
		return;
	}
	snprintf(out, size, "%.*s", (int)len, s);
	/* A last guard: no control bytes reach the terminal. */
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* One piece of a GPU row: text and its columns. */
struct widget_part {
	char text[160];
	int cols;
};

static void widget_part_set(struct widget_part *p, const char *s)
{
	snprintf(p->text, sizeof p->text, "%s", s);
	p->cols = (int)strlen(p->text);
}

/* s right-aligned in w columns (s is ASCII but for one degree sign, counted by extra). */
static void widget_part_right(struct widget_part *p, const char *s, int w, int extra_bytes)
{
	int cols = (int)strlen(s) - extra_bytes, pad = w > cols ? w - cols : 0;

	snprintf(p->text, sizeof p->text, "%*s%s", pad, "", s);
	p->cols = pad + cols;
}

static void widget_gib(char *out, size_t size, double mib)
{
	double gib = mib / 1024.0;

	snprintf(out, size, gib >= 999.95 ? "%.0f" : "%.1f", gib);
}

struct widget_row {
	struct widget_part label, name, util, age, memlbl, mem, temp, power, power_nolimit;
};

static void widget_row_parts(struct widget_row *r, const struct tele_gpu *gpu, int64_t age_ms,
                             enum widget_glyphs g)
{
	const char *deg = g == WIDGET_ASCII ? "" : WIDGET_DEGREE;
	char tmp[96], a[32], t[32];
	int ascii = g == WIDGET_ASCII;

	memset(r, 0, sizeof *r);
	snprintf(tmp, sizeof tmp, "GPU%d", gpu->index);
	widget_part_set(&r->label, tmp);

	widget_gpu_short_name(gpu->name, tmp, sizeof tmp);
	if (ascii)
		for (char *p = tmp; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
	r->name.cols = layout_fit(tmp, WIDGET_NAME_MAX, ascii ? LAYOUT_ASCII : 0, r->name.text,
	                          sizeof r->name.text);

	widget_pct(tmp, sizeof tmp, gpu->util_pct);
	widget_part_set(&r->util, tmp);

	if (age_ms >= 0) {
		layout_age(age_ms, a, sizeof a);
		snprintf(tmp, sizeof tmp, "%s ago", a);
		widget_part_set(&r->age, tmp);
	}

	widget_part_set(&r->memlbl, "mem ");
	if (gpu->mem_used_mib.ok && gpu->mem_total_mib.ok) {
		widget_gib(t, sizeof t, gpu->mem_total_mib.v);
		widget_gib(a, sizeof a, gpu->mem_used_mib.v);
		snprintf(tmp, sizeof tmp, "%*s/%sG", (int)strlen(t), a, t);
	} else if (gpu->mem_used_mib.ok) {
		widget_gib(a, sizeof a, gpu->mem_used_mib.v);
		snprintf(tmp, sizeof tmp, "%sG", a);
	} else {
		snprintf(tmp, sizeof tmp, "n/a");
	}
	widget_part_set(&r->mem, tmp);

	if (gpu->temp_c.ok && isfinite(gpu->temp_c.v)) {
		snprintf(tmp, sizeof tmp, "%d%sC", widget_round(gpu->temp_c.v), deg);
		widget_part_right(&r->temp, tmp, 4, ascii ? 0 : 1);
	} else {
		widget_part_right(&r->temp, "n/a", 4, 0);
	}

	if (gpu->power_w.ok && isfinite(gpu->power_w.v)) {
		snprintf(tmp, sizeof tmp, "%dW", widget_round(gpu->power_w.v));
		widget_part_right(&r->power_nolimit, tmp, 4, 0);
		if (gpu->power_limit_w.ok && isfinite(gpu->power_limit_w.v)) {
			snprintf(tmp, sizeof tmp, "%d/%dW", widget_round(gpu->power_w.v),
			         widget_round(gpu->power_limit_w.v));
			widget_part_right(&r->power, tmp, 8, 0);
		} else {
			r->power = r->power_nolimit;
		}
	} else {
		widget_part_right(&r->power_nolimit, "n/a", 4, 0);
		widget_part_right(&r->power, "n/a", gpu->power_limit_w.ok ? 8 : 4, 0);
	}
}

/* Which optional pieces a row shows, from most to least complete. */
enum {
	ROW_FULL,
	ROW_NO_LIMIT,
	ROW_NO_MEMLBL,
	ROW_NO_NAME,
	ROW_NO_POWER,
	ROW_NO_TEMP,
	ROW_NO_MEM,
	ROW_NO_BAR,
};

/* Columns taken by everything but the bar (and the sparkline) at a level. */
static int widget_row_fixed(const struct widget_row *r, int level)
{
	int w = r->label.cols + r->util.cols;

	if (level < ROW_NO_BAR)
		w += 1; /* space before the bar */
	else
		w += 1; /* space before the utilisation */
	if (level < ROW_NO_NAME)
		w += 1 + r->name.cols;
	if (r->age.cols > 0)
		w += 1 + r->age.cols;
	if (level < ROW_NO_MEM)
		w += 1 + r->mem.cols + (level < ROW_NO_MEMLBL ? r->memlbl.cols : 0);
	if (level < ROW_NO_TEMP)
		w += 1 + r->temp.cols;
	if (level < ROW_NO_POWER)
		w += 1 + (level < ROW_NO_LIMIT ? r->power.cols : r->power_nolimit.cols);
	return w;
}

static void wb_part(struct wbuf *b, const struct widget_part *p, int space_before)
{
	if (space_before)
		wb_spaces(b, 1);
	wb_put(b, p->text, strlen(p->text), p->cols);
}

int widget_gpu_row(char *buf, size_t size, const struct tele_gpu *gpu, const struct tele_val *hist,
                   size_t nhist, int64_t age_ms, int width, enum widget_glyphs g)
{
	struct widget_row r;
	struct wbuf b;
	int level, fixed = 0, bar = 0, spark = 0;

	wb_init(&b, buf, size);
	if (width <= 0)
		return wb_done(&b);
	widget_row_parts(&r, gpu, age_ms, g);
	for (level = ROW_FULL; level <= ROW_NO_BAR; level++) {
		fixed = widget_row_fixed(&r, level);
		if (level == ROW_NO_BAR || fixed + WIDGET_BAR_MIN <= width)
			break;
	}
	if (level < ROW_NO_BAR) {
		int room = width - fixed;

		bar = room < (hist != NULL ? WIDGET_BAR_PREF : WIDGET_BAR_MAX)
		          ? room
		          : (hist != NULL ? WIDGET_BAR_PREF : WIDGET_BAR_MAX);
		if (hist != NULL && room - bar - 1 >= WIDGET_SPARK_MIN)
			spark = room - bar - 1;
	}
	if (fixed + bar > width) {
		/* Not even the smallest row fits: cut it. */
		char full[512], cut[WIDGET_BUFSZ(256)];
		struct wbuf t;

		wb_init(&t, full, sizeof full);
		wb_part(&t, &r.label, 0);
		wb_part(&t, &r.util, 1);
		if (r.age.cols > 0)
			wb_part(&t, &r.age, 1);
		if (wb_done(&t) < 0 || width > 256)
			return wb_done(&b);
		layout_fit(full, width, LAYOUT_PAD | (g == WIDGET_ASCII ? LAYOUT_ASCII : 0), cut,
		           sizeof cut);
		wb_put(&b, cut, strlen(cut), width);
		return wb_done(&b);
	}
	wb_part(&b, &r.label, 0);
	if (level < ROW_NO_NAME)
		wb_part(&b, &r.name, 1);
	if (level < ROW_NO_BAR) {
		wb_spaces(&b, 1);
		wb_bar(&b, gpu->util_pct, 100, bar, g, 1);
		wb_part(&b, &r.util, 0);
	} else {
		wb_part(&b, &r.util, 1);
	}
	if (r.age.cols > 0)
		wb_part(&b, &r.age, 1);
	if (level < ROW_NO_MEM) {
		wb_spaces(&b, 1);
		if (level < ROW_NO_MEMLBL)
			wb_part(&b, &r.memlbl, 0);
		wb_part(&b, &r.mem, 0);
	}
	if (level < ROW_NO_TEMP)
		wb_part(&b, &r.temp, 1);
	if (level < ROW_NO_POWER)
		wb_part(&b, level < ROW_NO_LIMIT ? &r.power : &r.power_nolimit, 1);
	if (spark > 0) {
		wb_spaces(&b, 1);
		wb_sparkline(&b, hist, nhist, 100, spark, g);
	}
	if (b.cols < width)
		wb_spaces(&b, width - b.cols);
	return wb_done(&b);
}
