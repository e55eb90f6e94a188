/* layout.h: the TUI's screen arithmetic as pure functions (no curses): text width and
 * truncation, table column widths, pane splits, the visible window of a scrolled list,
 * word wrapping and short ages. Everything here is unit-tested (tests/unit/test_layout.c). */
#ifndef GANTRY_LAYOUT_H
#define GANTRY_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* The smallest terminal every view is laid out for. */
#define LAYOUT_MIN_COLS 80
#define LAYOUT_MIN_ROWS 24

enum layout_flags {
	LAYOUT_ASCII = 1 << 0, /* one byte = one column; truncation mark "~" instead of "…" */
	LAYOUT_PAD = 1 << 1,   /* pad with spaces to exactly the width */
	LAYOUT_RIGHT = 1 << 2, /* right-align (implies padding on the left) */
};

/* Display width of one code point (wcwidth; unknown or unprintable = 1, combining = 0). */
int layout_cp_width(uint32_t cp, int ascii);
/* Decodes one UTF-8 character at s (n bytes available): code point in *cp, returns its length
 * (1 for an invalid byte, *cp = U+FFFD). */
size_t layout_utf8_next(const char *s, size_t n, uint32_t *cp);
/* Display width of a NUL-terminated string (flags: LAYOUT_ASCII). */
int layout_width(const char *s, int flags);

/* Writes s cut to at most width columns into out (outsz bytes, always NUL-terminated). A cut
 * string ends with the truncation mark. Returns the columns written (width when padded). */
int layout_fit(const char *s, int width, int flags, char *out, size_t outsz);

/* One table column: it gets at least min and up to want columns, then a share of what is
 * left in proportion to grow. When even the minimums do not fit, the columns with the
 * lowest prio are dropped (width 0) first. */
struct layout_col {
	int min;
	int want;
	int grow;
	int prio;
};
/* Fills widths[i] for n columns in total columns, with gap columns between visible ones.
 * Returns the number of visible columns. */
size_t layout_columns(const struct layout_col *cols, size_t n, int total, int gap, int *widths);

/* Size of the first of two panes sharing total columns: pct percent of it, at least min_a,
 * leaving at least min_b (min_b wins when both cannot hold), never more than max_a
 * (0 = no cap). */
int layout_split(int total, int pct, int min_a, int min_b, int max_a);

/* First visible row of a list of n rows shown rows at a time, so that sel is visible and
 * top moves as little as possible from its previous value. */
int layout_scroll(int n, int sel, int top, int rows);

/* Greedy word wrap of s into lines of at most width columns (long words are cut). Fills
 * starts[i]/lens[i] (byte offsets) for at most max lines; returns the line count (which can
 * exceed max: only the first max are filled). Newlines in s start new lines. */
size_t layout_wrap(const char *s, int width, int flags, size_t *starts, size_t *lens, size_t max);

/* Short age: "5s", "3m", "2h", "4d" (negative = "0s"). */
void layout_age(int64_t ms, char *buf, size_t size);

/* 1 when the terminal is below LAYOUT_MIN_COLS x LAYOUT_MIN_ROWS. */
int layout_too_small(int cols, int rows);

#endif
