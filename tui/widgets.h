/* widgets.h: gauges drawn as text, without curses: each function renders into a caller's
 * buffer exactly the number of terminal columns asked for (padded with spaces), as UTF-8 or
 * as ASCII, so that it can be tested byte for byte and drawn with draw_text.
 *
 * Glyphs:
 *   bar        UTF-8: full blocks and eighths (▏▎▍▌▋▊▉█), frame ▕ ▏; ASCII: '#' per cell,
 *              '=' for a half cell, frame [ ]. A value above 0 shows at least the smallest
 *              mark; n/a shows "n/a".
 *   sparkline  BRAILLE: 2 samples per cell, 1 to 4 dots from the bottom; BLOCKS: ▁..█ one
 *              sample per cell; ASCII: " .:-=+*#%@" one sample per cell. A valid 0 shows the
 *              lowest mark, an invalid sample (or none yet) a gap. Newest at the right.
 *
 * Every function returns the bytes written (the string is NUL-terminated), or -1 when size
 * is too small (buf is then ""). WIDGET_BUFSZ(cols) is always enough for glyphs; the GPU row
 * copies the GPU's name, so give it WIDGET_BUFSZ(cols) too (names are cut to fit). */
#ifndef GANTRY_WIDGETS_H
#define GANTRY_WIDGETS_H

#include <stddef.h>
#include <stdint.h>

#include "core/telemetry.h"

enum widget_glyphs {
	WIDGET_ASCII,   /* plain ASCII (LANG=C) */
	WIDGET_BLOCKS,  /* UTF-8, sparklines in block elements */
	WIDGET_BRAILLE, /* UTF-8, sparklines in braille (bars in blocks) */
};

/* Bytes enough for cols columns of any widget. */
#define WIDGET_BUFSZ(cols) ((size_t)((cols) > 0 ? (cols) : 0) * 4 + 1)

/* Columns of a minibar of cells cells: the bar, a space and "100%". */
#define WIDGET_MINIBAR_COLS(cells) ((cells) + 5)

/* Bar gauge of v / max in exactly width columns; framed puts the bar between a frame (the two
 * frame columns count in width; ignored below 3 columns). max <= 0 shows n/a. */
int widget_bar(char *buf, size_t size, struct tele_val v, double max, int width,
               enum widget_glyphs g, int framed);
/* Sparkline of the last samples of v[0..n) (oldest first) in exactly width columns, scaled to
 * max (max <= 0: to the largest valid sample shown). */
int widget_sparkline(char *buf, size_t size, const struct tele_val *v, size_t n, double max,
                     int width, enum widget_glyphs g);
/* Jobs-table UTIL cell: a cells-wide bar of util_pct (0..100), a space and the percentage
 * right-aligned in 4 columns ("  7%", "100%", " n/a"): WIDGET_MINIBAR_COLS(cells) columns. */
int widget_minibar(char *buf, size_t size, struct tele_val util_pct, int cells,
                   enum widget_glyphs g);
/* One GPU in exactly width columns, e.g.
 *   GPU0 H100 ▕██████▏ 98% mem 23.4/79.6G 76°C 599/700W
 * Fields keep their columns from row to row. With room to spare the bar grows and, when hist
 * (nhist utilisation samples, oldest first; may be NULL) is given, a sparkline of it fills the
 * rest. With less room the row sheds, in this order: bar width (down to 4 cells), the power
 * limit, the "mem" label, the name, power, temperature, memory; then it is cut. age_ms >= 0
 * marks the values stale: "12s ago" follows the utilisation and is kept to the end. */
int widget_gpu_row(char *buf, size_t size, const struct tele_gpu *gpu, const struct tele_val *hist,
                   size_t nhist, int64_t age_ms, int width, enum widget_glyphs g);
/* Short model name: "NVIDIA H100 80GB HBM3" -> "H100", "Tesla V100-SXM2-16GB" -> "V100",
 * "NVIDIA GeForce RTX 4090" -> "RTX 4090", "" -> "GPU". */
void widget_gpu_short_name(const char *name, char *out, size_t size);

#endif
