/* draw.h: drawing helpers over stdscr: styled, width-fitted text, rules, boxes, the colour
 * setup from a theme. Text handed here must already be sanitised; as a last guard every
 * control byte is drawn as '?'. */
#ifndef GANTRY_DRAW_H
#define GANTRY_DRAW_H

#include <curses.h>

#include "tui/lineedit.h"
#include "tui/theme.h"
#include "tui/view.h"

enum draw_flags {
	DRAW_PAD = 1 << 0,   /* fill the rest of the width with spaces in the same style */
	DRAW_RIGHT = 1 << 1, /* right-align in the width */
};

/* Sets up colour pairs for the app's theme (or attributes only when colours are off). */
void draw_theme_apply(struct app *a);
/* Picks UTF-8 or ASCII glyphs. */
void draw_glyphs(struct app *a);
/* The curses attributes of a role. */
attr_t draw_attr(const struct app *a, enum theme_role r);
/* Writes s at (y, x) in at most w columns, truncated with a mark; returns columns written. */
int draw_text(struct app *a, int y, int x, int w, const char *s, enum theme_role r, int flags);
/* Same with an extra attribute (e.g. A_REVERSE for a cursor) on top of the role's. */
int draw_text_attr(struct app *a, int y, int x, int w, const char *s, attr_t attr, int flags);
/* w spaces in the role's style. */
void draw_fill(struct app *a, int y, int x, int w, enum theme_role r);
/* A horizontal rule of w columns. */
void draw_hline(struct app *a, int y, int x, int w, enum theme_role r);
/* A box outline with its inside filled in the role's style. */
void draw_box(struct app *a, int y, int x, int h, int w, enum theme_role r);
/* An edit field: the text (scrolled to keep the cursor in view) and, when focused, the
 * cursor as a reversed cell. */
void draw_edit(struct app *a, int y, int x, int w, const struct lineedit *ed, enum theme_role r,
               int focused);

#endif
