/* layout.c: pure screen arithmetic for the TUI (see layout.h). */
#include "tui/layout.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#define LAYOUT_ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

int layout_cp_width(uint32_t cp, int ascii)
{
	int w;

	if (ascii || cp < 0x80)
		return 1;
	w = wcwidth((wchar_t)cp);
	if (w < 0)
		return 1;
	return w;
}

size_t layout_utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i;
	uint32_t c;

	if (n == 0) {
		*cp = 0;
		return 0;
	}
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		len = 2;
		c = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		len = 3;
		c = u[0] & 0x0f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		len = 4;
		c = u[0] & 0x07;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (len > n) {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		c = (c << 6) | (u[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff)) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = c;
	return len;
}

int layout_width(const char *s, int flags)
{
	size_t n = strlen(s), i = 0, k;
	int w = 0;
	uint32_t cp;

	if (flags & LAYOUT_ASCII)
		return (int)n;
	while (i < n) {
		k = layout_utf8_next(s + i, n - i, &cp);
		w += layout_cp_width(cp, 0);
		i += k;
	}
	return w;
}

/* Appends len bytes of src to out at *pos, keeping room for the NUL; 0 when they do not fit. */
static int layout_put(char *out, size_t outsz, size_t *pos, const char *src, size_t len)
{
	if (*pos + len + 1 > outsz)
		return 0;
	memcpy(out + *pos, src, len);
	*pos += len;
	out[*pos] = '\0';
	return 1;
}

/* Appends n spaces (as many as fit). */
static void layout_pad(char *out, size_t outsz, size_t *pos, int n)
{
	while (n-- > 0 && layout_put(out, outsz, pos, " ", 1))
		;
}

int layout_fit(const char *s, int width, int flags, char *out, size_t outsz)
{
	int ascii = flags & LAYOUT_ASCII;
	const char *mark = ascii ? "~" : LAYOUT_ELLIPSIS;
	size_t n = strlen(s), i = 0, k, pos = 0, cut = 0;
	int w = 0, cw, used, cutw = 0, total;
	uint32_t cp;
	char tmp[1024];

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	if (width <= 0)
		return 0;
	if (flags & LAYOUT_RIGHT) {
		/* Fit left-aligned into a scratch buffer, then pad on the left. */
		used = layout_fit(s, width, flags & LAYOUT_ASCII, tmp, sizeof(tmp));
		layout_pad(out, outsz, &pos, width - used);
		layout_put(out, outsz, &pos, tmp, strlen(tmp));
		return width;
	}
	total = layout_width(s, flags);
	if (total <= width) {
		layout_put(out, outsz, &pos, s, n);
		w = total;
	} else {
		/* Keep what fits in width - 1 columns, then the mark. */
		while (i < n) {
			k = ascii ? 1 : layout_utf8_next(s + i, n - i, &cp);
			cw = ascii ? 1 : layout_cp_width(cp, 0);
			if (cutw + cw > width - 1)
				break;
			cutw += cw;
			i += k;
			cut = i;
		}
		/* Zero-width characters right after the cut belong to the last one kept. */
		while (!ascii && cut < n) {
			k = layout_utf8_next(s + cut, n - cut, &cp);
			if (layout_cp_width(cp, 0) != 0)
				break;
			cut += k;
		}
		if (!layout_put(out, outsz, &pos, s, cut))
			return 0;
		w = cutw;
		if (layout_put(out, outsz, &pos, mark, strlen(mark)))
			w++;
	}
	if (flags & LAYOUT_PAD) {
		layout_pad(out, outsz, &pos, width - w);
		w = width;
	}
	return w;
}

size_t layout_columns(const struct layout_col *cols, size_t n, int total, int gap, int *widths)
{
	size_t i, visible = n, drop;
	int need, left, take, growsum, share, given;

	for (i = 0; i < n; i++)
		widths[i] = cols[i].min;
	/* Drop the least important columns until the minimums and gaps fit. */
	for (;;) {
		need = 0;
		for (i = 0; i < n; i++)
			need += widths[i];
		if (visible > 1)
			need += gap * (int)(visible - 1);
		if (need <= total || visible <= 1)
			break;
		drop = n;
		for (i = 0; i < n; i++)
			if (widths[i] > 0 && (drop == n || cols[i].prio < cols[drop].prio))
				drop = i;
		widths[drop] = 0;
		visible--;
	}
	if (visible == 0)
		return 0;
	left = total - need;
	if (left < 0) {
		/* A single column wider than the screen: shrink it. */
		for (i = 0; i < n; i++)
			if (widths[i] > 0)
				widths[i] = total > 0 ? total : 0;
		return visible;
	}
	/* Grow towards want, most important columns first. */
	for (;;) {
		size_t best = n;

		for (i = 0; i < n; i++)
			if (widths[i] > 0 && widths[i] < cols[i].want &&
			    (best == n || cols[i].prio > cols[best].prio))
				best = i;
		if (best == n || left == 0)
			break;
		take = cols[best].want - widths[best];
		if (take > left)
			take = left;
		widths[best] += take;
		left -= take;
	}
	/* Share the rest among growing columns. */
	growsum = 0;
	for (i = 0; i < n; i++)
		if (widths[i] > 0)
			growsum += cols[i].grow;
	if (growsum == 0 || left == 0)
		return visible;
	given = 0;
	for (i = 0; i < n; i++) {
		if (widths[i] == 0 || cols[i].grow == 0)
			continue;
		share = left * cols[i].grow / growsum;
		widths[i] += share;
		given += share;
	}
	/* Rounding leftovers go to the first growing column. */
	for (i = 0; i < n && given < left; i++) {
		if (widths[i] > 0 && cols[i].grow > 0) {
			widths[i] += left - given;
			break;
		}
	}
	return visible;
}

int layout_split(int total, int pct, int min_a, int min_b, int max_a)
{
	int a = total * pct / 100;

	if (max_a > 0 && a > max_a)
		a = max_a;
	if (a < min_a)
		a = min_a;
	if (total - a < min_b)
		a = total - min_b;
	if (a < 0)
		a = 0;
	return a;
}

int layout_scroll(int n, int sel, int top, int rows)
{
	int maxtop;

	if (rows <= 0 || n <= 0)
		return 0;
	if (sel < 0)
		sel = 0;
	if (sel >= n)
		sel = n - 1;
	if (sel < top)
		top = sel;
	if (sel >= top + rows)
		top = sel - rows + 1;
	maxtop = n > rows ? n - rows : 0;
	if (top > maxtop)
		top = maxtop;
	if (top < 0)
		top = 0;
	return top;
}

/* Records one line (when room) and returns the new count. */
static size_t layout_line(size_t count, size_t *starts, size_t *lens, size_t max, size_t start,
                          size_t len)
{
	if (count < max) {
		starts[count] = start;
		lens[count] = len;
	}
	return count + 1;
}

size_t layout_wrap(const char *s, int width, int flags, size_t *starts, size_t *lens, size_t max)
{
	int ascii = flags & LAYOUT_ASCII;
	size_t n = strlen(s), i = 0, k, start = 0, brk = 0, count = 0;
	int w = 0, cw, have_brk = 0;
	uint32_t cp;

	if (width < 1)
		width = 1;
	while (i < n) {
		if (s[i] == '\n') {
			count = layout_line(count, starts, lens, max, start, i - start);
			i++;
			start = i;
			w = 0;
			have_brk = 0;
			continue;
		}
		k = ascii ? 1 : layout_utf8_next(s + i, n - i, &cp);
		cw = ascii ? 1 : layout_cp_width(cp, 0);
		if (s[i] == ' ' && w + cw > width) {
			/* A space at the edge: end the line here and swallow the spaces. */
			count = layout_line(count, starts, lens, max, start, i - start);
			while (i < n && s[i] == ' ')
				i++;
			start = i;
			w = 0;
			have_brk = 0;
			continue;
		}
		if (w + cw > width) {
			if (have_brk) {
				count = layout_line(count, starts, lens, max, start, brk - start);
				i = brk;
				while (i < n && s[i] == ' ')
					i++;
			} else {
				count = layout_line(count, starts, lens, max, start, i - start);
			}
			start = i;
			w = 0;
			have_brk = 0;
			continue;
		}
		if (s[i] == ' ') {
			brk = i;
			have_brk = 1;
		}
		w += cw;
		i += k;
	}
	if (start < n || count == 0)
		count = layout_line(count, starts, lens, max, start, n - start);
	return count;
}

void layout_age(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000;

	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, size, "%lldd", (long long)(s / 86400));
}

int layout_too_small(int cols, int rows)
{
	return cols < LAYOUT_MIN_COLS || rows < LAYOUT_MIN_ROWS;
}
