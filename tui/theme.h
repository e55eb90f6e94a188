/* theme.h: colour themes as plain text files (themes/NAME.theme), parsed without curses.
 *
 *   # comment
 *   header = black cyan bold        ROLE = [FG [BG]] [ATTR...]
 *   state.running = green default
 *   selected = reverse
 *
 * Colours: default, black, red, green, yellow, blue, magenta, cyan, white, bright-NAME
 * (also grey/gray), colorN or N (0-255), #rrggbb. Attributes: bold, dim, underline, reverse,
 * standout, italic, blink, normal. Roles a theme leaves out keep the built-in defaults.
 * User themes (config_dir/themes) take precedence over built-in ones (data_dir/themes). */
#ifndef GANTRY_THEME_H
#define GANTRY_THEME_H

#include <stddef.h>

#include "core/job.h"

enum theme_role {
	THEME_NORMAL,
	THEME_HEADER,
	THEME_HEADER_ACCENT,
	THEME_TITLE,
	THEME_TABLE_HEADER,
	THEME_SELECTED,
	THEME_DIM,
	THEME_BORDER,
	THEME_LABEL,
	THEME_STATUS,
	THEME_STATUS_ERROR,
	THEME_FOOTER,
	THEME_FOOTER_KEY,
	THEME_FIELD,
	THEME_FIELD_FOCUS,
	THEME_FIELD_ERROR,
	THEME_BUTTON,
	THEME_BUTTON_FOCUS,
	THEME_BUTTON_DISABLED,
	THEME_DIALOG,
	THEME_DIALOG_TITLE,
	THEME_HEALTH_OK,
	THEME_HEALTH_BAD,
	THEME_BROKEN,
	THEME_STATE, /* first of JOB_STATE_COUNT roles, one per job state */
	THEME_ROLE_COUNT = THEME_STATE + JOB_STATE_COUNT
};

enum theme_attr {
	THEME_A_BOLD = 1 << 0,
	THEME_A_DIM = 1 << 1,
	THEME_A_UNDERLINE = 1 << 2,
	THEME_A_REVERSE = 1 << 3,
	THEME_A_STANDOUT = 1 << 4,
	THEME_A_ITALIC = 1 << 5,
	THEME_A_BLINK = 1 << 6,
};

#define THEME_COLOR_DEFAULT (-1)

struct theme_style {
	short fg, bg;   /* 0-255, or THEME_COLOR_DEFAULT */
	unsigned attrs; /* enum theme_attr bits */
};

struct theme {
	char name[64];
	struct theme_style st[THEME_ROLE_COUNT];
};

/* The role of a job state. */
#define THEME_STATE_ROLE(s) ((enum theme_role)(THEME_STATE + (int)(s)))

/* Role name as written in theme files ("state.running"), and back (-1 if unknown). */
const char *theme_role_name(enum theme_role r);
int theme_role_parse(const char *name);

/* The compiled-in default theme (used as the base of every theme). */
void theme_default(struct theme *t);
/* Attributes to use for role r when colours are off (the theme's own attributes when it
 * gives any, else a built-in attribute-only look that keeps every role distinguishable). */
unsigned theme_mono_attrs(const struct theme *t, enum theme_role r);

/* Parses theme text over what t already holds. path names the text in errors. Returns 0, or
 * -1 with *cause (heap) "PATH:LINE:COL: what was wrong" at the first error. */
int theme_parse(struct theme *t, const char *path, const char *text, size_t len, char **cause);
/* Loads theme name from the first of dirs[0..ndirs) that holds NAME.theme, over the default
 * theme. A bad name, a missing theme or a parse error: -1 with *cause (t is then the default
 * theme). */
int theme_load(struct theme *t, const char *name, const char *const *dirs, size_t ndirs,
               char **cause);

/* Parses a colour word; returns 0-255, THEME_COLOR_DEFAULT, or -2 when not a colour. */
int theme_color_parse(const char *word);
/* The closest colour to c (0-255) among the first ncolors (8, 16, 88 or 256) of xterm's
 * palette; c unchanged when it already fits. THEME_COLOR_DEFAULT stays as is. */
int theme_color_reduce(int c, int ncolors);

#endif
