/* draw.c: styled, width-fitted text on stdscr (see draw.h). */
#include "tui/draw.h"

#include <string.h>

#include "tui/layout.h"

#define DRAW_BUF 2048

static const struct app_glyphs draw_utf8 = {
    .sep = "\xc2\xb7",
    .marker = "\xe2\x96\xb6",
    .dot = "\xe2\x97\x8f",
    .broken = "\xe2\x9c\x97",
    .hline = "\xe2\x94\x80",
    .vline = "\xe2\x94\x82",
    .corner = {"\xe2\x94\x8c", "\xe2\x94\x90", "\xe2\x94\x94", "\xe2\x94\x98"},
    .up = "\xe2\x96\xb2",
    .down = "\xe2\x96\xbc",
    .dash = "\xe2\x80\x94",
};

static const struct app_glyphs draw_ascii = {
    .sep = "|",
    .marker = ">",
    .dot = "*",
    .broken = "!",
    .hline = "-",
    .vline = "|",
    .corner = {"+", "+", "+", "+"},
    .up = "^",
    .down = "v",
    .dash = "--",
};

void draw_glyphs(struct app *a)
{
	a->g = a->ascii ? draw_ascii : draw_utf8;
}

/* Curses attributes for theme attribute bits. */
static attr_t draw_curses_attrs(unsigned bits)
{
	attr_t at = A_NORMAL;

	if (bits & THEME_A_BOLD)
		at |= A_BOLD;
	if (bits & THEME_A_DIM)
		at |= A_DIM;
	if (bits & THEME_A_UNDERLINE)
		at |= A_UNDERLINE;
	if (bits & THEME_A_REVERSE)
		at |= A_REVERSE;
	if (bits & THEME_A_STANDOUT)
		at |= A_STANDOUT;
	if (bits & THEME_A_ITALIC)
		at |= A_ITALIC;
	if (bits & THEME_A_BLINK)
		at |= A_BLINK;
	return at;
}

void draw_theme_apply(struct app *a)
{
	int r, fg, bg, pair = 0;
	int default_ok = a->color && use_default_colors() == OK;

	for (r = 0; r < THEME_ROLE_COUNT; r++) {
		const struct theme_style *st = &a->theme.st[r];

		if (!a->color) {
			a->role_attr[r] = draw_curses_attrs(theme_mono_attrs(&a->theme, r));
			continue;
		}
		fg = theme_color_reduce(st->fg, a->ncolors);
		bg = theme_color_reduce(st->bg, a->ncolors);
		if (fg == THEME_COLOR_DEFAULT && bg == THEME_COLOR_DEFAULT) {
			a->role_attr[r] = draw_curses_attrs(st->attrs);
			continue;
		}
		if (!default_ok) {
			if (fg == THEME_COLOR_DEFAULT)
				fg = COLOR_WHITE;
			if (bg == THEME_COLOR_DEFAULT)
				bg = COLOR_BLACK;
		}
		if (pair + 1 >= COLOR_PAIRS) {
			a->role_attr[r] = draw_curses_attrs(theme_mono_attrs(&a->theme, r));
			continue;
		}
		pair++;
		init_pair((short)pair, (short)fg, (short)bg);
		a->role_attr[r] = COLOR_PAIR(pair) | draw_curses_attrs(st->attrs);
	}
	bkgdset(' ' | (chtype)a->role_attr[THEME_NORMAL]);
}

attr_t draw_attr(const struct app *a, enum theme_role r)
{
	return (attr_t)a->role_attr[r];
}

/* Replaces control bytes (and, in ASCII mode, non-ASCII bytes) by '?'. */
static void draw_guard(const struct app *a, char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (a->ascii && c >= 0x80))
			*s = '?';
	}
}

int draw_text_attr(struct app *a, int y, int x, int w, const char *s, attr_t attr, int flags)
{
	char buf[DRAW_BUF];
	int lf = a->ascii ? LAYOUT_ASCII : 0, n;

	if (w <= 0 || y < 0 || y >= a->rows || x >= a->cols)
		return 0;
	if (x + w > a->cols)
		w = a->cols - x;
	if (w > DRAW_BUF / 8)
		w = DRAW_BUF / 8;
	if (flags & DRAW_PAD)
		lf |= LAYOUT_PAD;
	if (flags & DRAW_RIGHT)
		lf |= LAYOUT_RIGHT;
	n = layout_fit(s != NULL ? s : "", w, lf, buf, sizeof(buf));
	draw_guard(a, buf);
	attrset(attr);
	mvaddnstr(y, x, buf, (int)strlen(buf));
	attrset(A_NORMAL);
	return n;
}

int draw_text(struct app *a, int y, int x, int w, const char *s, enum theme_role r, int flags)
{
	return draw_text_attr(a, y, x, w, s, draw_attr(a, r), flags);
}

void draw_fill(struct app *a, int y, int x, int w, enum theme_role r)
{
	draw_text(a, y, x, w, "", r, DRAW_PAD);
}

void draw_hline(struct app *a, int y, int x, int w, enum theme_role r)
{
	char buf[DRAW_BUF];
	size_t gl = strlen(a->g.hline), pos = 0;
	int i;

	if (x + w > a->cols)
		w = a->cols - x;
	for (i = 0; i < w && pos + gl < sizeof(buf); i++) {
		memcpy(buf + pos, a->g.hline, gl);
		pos += gl;
	}
	buf[pos] = '\0';
	attrset(draw_attr(a, r));
	mvaddstr(y, x, buf);
	attrset(A_NORMAL);
}

void draw_box(struct app *a, int y, int x, int h, int w, enum theme_role r)
{
	int i;

	if (h < 2 || w < 2)
		return;
	for (i = 0; i < h; i++)
		draw_fill(a, y + i, x, w, r);
	draw_hline(a, y, x + 1, w - 2, r);
	draw_hline(a, y + h - 1, x + 1, w - 2, r);
	attrset(draw_attr(a, r));
	mvaddstr(y, x, a->g.corner[0]);
	mvaddstr(y, x + w - 1, a->g.corner[1]);
	mvaddstr(y + h - 1, x, a->g.corner[2]);
	mvaddstr(y + h - 1, x + w - 1, a->g.corner[3]);
	for (i = 1; i < h - 1; i++) {
		mvaddstr(y + i, x, a->g.vline);
		mvaddstr(y + i, x + w - 1, a->g.vline);
	}
	attrset(A_NORMAL);
}

void draw_edit(struct app *a, int y, int x, int w, const struct lineedit *ed, enum theme_role r,
               int focused)
{
	char before[LINEEDIT_MAX], under[8], after[LINEEDIT_MAX];
	size_t start = 0, k, ulen;
	uint32_t cp;
	int lf = a->ascii ? LAYOUT_ASCII : 0, bw, used;

	if (w <= 0)
		return;
	if (!focused) {
		draw_text(a, y, x, w, ed->buf, r, DRAW_PAD);
		return;
	}
	/* Scroll so that the text before the cursor and the cursor cell fit. */
	for (;;) {
		memcpy(before, ed->buf + start, ed->cur - start);
		before[ed->cur - start] = '\0';
		bw = layout_width(before, lf);
		if (bw <= w - 1 || start >= ed->cur)
			break;
		k = a->ascii ? 1 : layout_utf8_next(ed->buf + start, ed->len - start, &cp);
		start += k;
	}
	ulen = a->ascii || ed->cur >= ed->len
	           ? (ed->cur < ed->len ? 1 : 0)
	           : layout_utf8_next(ed->buf + ed->cur, ed->len - ed->cur, &cp);
	memcpy(under, ed->buf + ed->cur, ulen);
	under[ulen] = '\0';
	if (ulen == 0)
		strcpy(under, " ");
	snprintf(after, sizeof(after), "%s", ed->buf + ed->cur + ulen);
	used = draw_text(a, y, x, bw, before, r, 0);
	used += draw_text_attr(a, y, x + used, w - used, under, draw_attr(a, r) ^ A_REVERSE, 0);
	if (w - used > 0)
		draw_text(a, y, x + used, w - used, after, r, DRAW_PAD);
}
