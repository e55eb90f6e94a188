/* theme.c: theme files parsed into styles per role (see theme.h). No curses here. */
#include "tui/theme.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"

#define THEME_MAX_BYTES (64 * 1024)

static const char *const theme_role_names[THEME_STATE] = {
    [THEME_NORMAL] = "normal",
    [THEME_HEADER] = "header",
    [THEME_HEADER_ACCENT] = "header.accent",
    [THEME_TITLE] = "title",
    [THEME_TABLE_HEADER] = "table.header",
    [THEME_SELECTED] = "selected",
    [THEME_DIM] = "dim",
    [THEME_BORDER] = "border",
    [THEME_LABEL] = "label",
    [THEME_STATUS] = "status",
    [THEME_STATUS_ERROR] = "status.error",
    [THEME_FOOTER] = "footer",
    [THEME_FOOTER_KEY] = "footer.key",
    [THEME_FIELD] = "field",
    [THEME_FIELD_FOCUS] = "field.focus",
    [THEME_FIELD_ERROR] = "field.error",
    [THEME_BUTTON] = "button",
    [THEME_BUTTON_FOCUS] = "button.focus",
    [THEME_BUTTON_DISABLED] = "button.disabled",
    [THEME_DIALOG] = "dialog",
    [THEME_DIALOG_TITLE] = "dialog.title",
    [THEME_HEALTH_OK] = "health.ok",
    [THEME_HEALTH_BAD] = "health.bad",
    [THEME_BROKEN] = "broken",
};

/* State role names ("state.running"), built from job_state_name on first use. */
static char theme_state_names[JOB_STATE_COUNT][32];

/* The built-in look, in theme-file syntax (also the documentation of every role). */
static const char theme_default_text[] = "normal = default default\n"
                                         "header = black cyan\n"
                                         "header.accent = black cyan bold\n"
                                         "title = cyan default bold\n"
                                         "table.header = default default bold\n"
                                         "selected = black cyan\n"
                                         "dim = bright-black default\n"
                                         "border = bright-black default\n"
                                         "label = cyan default\n"
                                         "status = default default\n"
                                         "status.error = red default bold\n"
                                         "footer = default default\n"
                                         "footer.key = cyan default bold\n"
                                         "field = default default underline\n"
                                         "field.focus = black cyan\n"
                                         "field.error = red default\n"
                                         "button = default default bold\n"
                                         "button.focus = black green bold\n"
                                         "button.disabled = bright-black default\n"
                                         "dialog = white blue\n"
                                         "dialog.title = yellow blue bold\n"
                                         "health.ok = green default bold\n"
                                         "health.bad = red default bold\n"
                                         "broken = red default\n"
                                         "state.pending = yellow default\n"
                                         "state.provisioning = yellow default\n"
                                         "state.starting = yellow default\n"
                                         "state.running = green default bold\n"
                                         "state.succeeded = cyan default\n"
                                         "state.failed = red default bold\n"
                                         "state.stopping = magenta default\n"
                                         "state.stopped = bright-black default\n"
                                         "state.preempted = magenta default bold\n"
                                         "state.recovering = yellow default bold\n"
                                         "state.unknown = bright-black default\n"
                                         "state.pending_approval = yellow default bold\n";

/* Attribute-only look for colourless terminals, ORed with the theme's own attributes. */
static const unsigned theme_mono_base[THEME_ROLE_COUNT] = {
    [THEME_HEADER] = THEME_A_REVERSE,
    [THEME_HEADER_ACCENT] = THEME_A_REVERSE | THEME_A_BOLD,
    [THEME_TITLE] = THEME_A_BOLD,
    [THEME_TABLE_HEADER] = THEME_A_BOLD | THEME_A_UNDERLINE,
    [THEME_SELECTED] = THEME_A_REVERSE,
    [THEME_DIM] = THEME_A_DIM,
    [THEME_BORDER] = THEME_A_DIM,
    [THEME_LABEL] = THEME_A_BOLD,
    [THEME_STATUS_ERROR] = THEME_A_BOLD,
    [THEME_FOOTER_KEY] = THEME_A_BOLD,
    [THEME_FIELD] = THEME_A_UNDERLINE,
    [THEME_FIELD_FOCUS] = THEME_A_REVERSE,
    [THEME_FIELD_ERROR] = THEME_A_BOLD,
    [THEME_BUTTON] = THEME_A_BOLD,
    [THEME_BUTTON_FOCUS] = THEME_A_REVERSE | THEME_A_BOLD,
    [THEME_BUTTON_DISABLED] = THEME_A_DIM,
    [THEME_DIALOG] = THEME_A_REVERSE,
    [THEME_DIALOG_TITLE] = THEME_A_REVERSE | THEME_A_BOLD,
    [THEME_HEALTH_OK] = THEME_A_BOLD,
    [THEME_HEALTH_BAD] = THEME_A_BOLD | THEME_A_REVERSE,
    [THEME_BROKEN] = THEME_A_BOLD,
    [THEME_STATE + JOB_RUNNING] = THEME_A_BOLD,
    [THEME_STATE + JOB_FAILED] = THEME_A_BOLD | THEME_A_UNDERLINE,
    [THEME_STATE + JOB_STOPPED] = THEME_A_DIM,
    [THEME_STATE + JOB_SUCCEEDED] = THEME_A_DIM,
    [THEME_STATE + JOB_UNKNOWN] = THEME_A_DIM,
    [THEME_STATE + JOB_PREEMPTED] = THEME_A_BOLD,
};

static const struct {
	const char *name;
	unsigned bit;
} theme_attr_names[] = {
    {"bold", THEME_A_BOLD},           {"dim", THEME_A_DIM},
    {"underline", THEME_A_UNDERLINE}, {"reverse", THEME_A_REVERSE},
    {"standout", THEME_A_STANDOUT},   {"italic", THEME_A_ITALIC},
    {"blink", THEME_A_BLINK},         {"normal", 0},
};

static const char *const theme_basic_names[8] = {"black", "red",     "green", "yellow",
                                                 "blue",  "magenta", "cyan",  "white"};

/* xterm's first 16 colours. */
static const unsigned char theme_rgb16[16][3] = {
    {0, 0, 0},     {205, 0, 0},     {0, 205, 0},     {205, 205, 0},   {0, 0, 238}, {205, 0, 205},
    {0, 205, 205}, {229, 229, 229}, {127, 127, 127}, {255, 0, 0},     {0, 255, 0}, {255, 255, 0},
    {92, 92, 255}, {255, 0, 255},   {0, 255, 255},   {255, 255, 255},
};

static const unsigned char theme_cube_levels[6] = {0, 95, 135, 175, 215, 255};

static void theme_init_state_names(void)
{
	int s, i;

	if (theme_state_names[0][0] != '\0')
		return;
	for (s = 0; s < JOB_STATE_COUNT; s++) {
		const char *n = job_state_name((enum job_state)s);

		snprintf(theme_state_names[s], sizeof(theme_state_names[s]), "state.%s", n);
		for (i = 6; theme_state_names[s][i] != '\0'; i++)
			theme_state_names[s][i] =
			    (char)tolower((unsigned char)theme_state_names[s][i]);
	}
}

const char *theme_role_name(enum theme_role r)
{
	if ((int)r < 0 || r >= THEME_ROLE_COUNT)
		return "?";
	if (r < THEME_STATE)
		return theme_role_names[r];
	theme_init_state_names();
	return theme_state_names[r - THEME_STATE];
}

int theme_role_parse(const char *name)
{
	int r;

	for (r = 0; r < THEME_ROLE_COUNT; r++)
		if (strcasecmp(name, theme_role_name((enum theme_role)r)) == 0)
			return r;
	return -1;
}

/* RGB of xterm colour c (0-255). */
static void theme_rgb(int c, int rgb[3])
{
	int i;

	if (c < 16) {
		for (i = 0; i < 3; i++)
			rgb[i] = theme_rgb16[c][i];
	} else if (c < 232) {
		c -= 16;
		rgb[0] = theme_cube_levels[c / 36];
		rgb[1] = theme_cube_levels[(c / 6) % 6];
		rgb[2] = theme_cube_levels[c % 6];
	} else {
		rgb[0] = rgb[1] = rgb[2] = 8 + 10 * (c - 232);
	}
}

/* The colour among [from, to) closest to rgb. */
static int theme_nearest(const int rgb[3], int from, int to)
{
	int best = from, c, i;
	long bestd = -1;

	for (c = from; c < to; c++) {
		int o[3];
		long d = 0;

		theme_rgb(c, o);
		for (i = 0; i < 3; i++)
			d += (long)(o[i] - rgb[i]) * (o[i] - rgb[i]);
		if (bestd < 0 || d < bestd) {
			bestd = d;
			best = c;
		}
	}
	return best;
}

int theme_color_reduce(int c, int ncolors)
{
	int rgb[3];

	if (c < 0 || c > 255)
		return THEME_COLOR_DEFAULT;
	if (ncolors >= 256 || c < ncolors)
		return c;
	if (ncolors < 8)
		return THEME_COLOR_DEFAULT;
	theme_rgb(c, rgb);
	return theme_nearest(rgb, 0, ncolors >= 16 ? 16 : 8);
}

int theme_color_parse(const char *w)
{
	int i;
	char *end;
	long v;

	if (strcasecmp(w, "default") == 0)
		return THEME_COLOR_DEFAULT;
	for (i = 0; i < 8; i++)
		if (strcasecmp(w, theme_basic_names[i]) == 0)
			return i;
	if (strncasecmp(w, "bright-", 7) == 0) {
		for (i = 0; i < 8; i++)
			if (strcasecmp(w + 7, theme_basic_names[i]) == 0)
				return i + 8;
		return -2;
	}
	if (strcasecmp(w, "grey") == 0 || strcasecmp(w, "gray") == 0)
		return 8;
	if (w[0] == '#') {
		int rgb[3];
		unsigned r, g, b;

		if (strlen(w) != 7 || strspn(w + 1, "0123456789abcdefABCDEF") != 6 ||
		    sscanf(w + 1, "%2x%2x%2x", &r, &g, &b) != 3)
			return -2;
		rgb[0] = (int)r;
		rgb[1] = (int)g;
		rgb[2] = (int)b;
		return theme_nearest(rgb, 16, 256);
	}
	if (strncasecmp(w, "color", 5) == 0)
		w += 5;
	if (!isdigit((unsigned char)w[0]))
		return -2;
	errno = 0;
	v = strtol(w, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 255)
		return -2;
	return (int)v;
}

/* Attribute bit for word, or -1. */
static int theme_attr_parse(const char *w)
{
	size_t i;

	for (i = 0; i < sizeof(theme_attr_names) / sizeof(theme_attr_names[0]); i++)
		if (strcasecmp(w, theme_attr_names[i].name) == 0)
			return (int)theme_attr_names[i].bit;
	return -1;
}

/* 1 when p starts a #rrggbb colour word (rather than a comment). */
static int theme_is_hex(const char *p)
{
	return strspn(p + 1, "0123456789abcdefABCDEF") == 6 &&
	       (p[7] == '\0' || p[7] == ' ' || p[7] == '\t');
}

/* Parses one "role = words" line (NUL-terminated, no newline); col is 1-based in errors. */
static int theme_parse_line(struct theme *t, const char *path, int lineno, char *line, char **cause)
{
	char *p = line, *eq, *word;
	int role, ncolors = 0, v;
	struct theme_style st = {THEME_COLOR_DEFAULT, THEME_COLOR_DEFAULT, 0};
	size_t len;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	eq = strchr(p, '=');
	if (eq == NULL)
		return xcause(cause, "%s:%d:%d: expected 'ROLE = [FG [BG]] [ATTR...]'", path,
		              lineno, (int)(p - line) + 1);
	len = (size_t)(eq - p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	{
		char name[64];

		if (len == 0 || len >= sizeof(name))
			return xcause(cause, "%s:%d:%d: expected a role name before '='", path,
			              lineno, (int)(p - line) + 1);
		memcpy(name, p, len);
		name[len] = '\0';
		role = theme_role_parse(name);
		if (role < 0)
			return xcause(cause,
			              "%s:%d:%d: unknown role '%s' (expected one such as header, "
			              "selected, state.running)",
			              path, lineno, (int)(p - line) + 1, name);
	}
	p = eq + 1;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || (*p == '#' && !theme_is_hex(p)))
			break;
		word = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		if (*p != '\0')
			*p++ = '\0';
		v = theme_attr_parse(word);
		if (v >= 0) {
			st.attrs |= (unsigned)v;
			continue;
		}
		v = theme_color_parse(word);
		if (v == -2)
			return xcause(cause,
			              "%s:%d:%d: unknown colour or attribute '%s' (expected a "
			              "colour such as red, bright-blue, color208, #ff8800 or an "
			              "attribute such as bold)",
			              path, lineno, (int)(word - line) + 1, word);
		if (ncolors == 2)
			return xcause(cause, "%s:%d:%d: a third colour '%s' (expected FG [BG])",
			              path, lineno, (int)(word - line) + 1, word);
		if (ncolors++ == 0)
			st.fg = (short)v;
		else
			st.bg = (short)v;
	}
	t->st[role] = st;
	return 0;
}

int theme_parse(struct theme *t, const char *path, const char *text, size_t len, char **cause)
{
	size_t i = 0, e;
	int lineno = 0;
	char *line;

	while (i < len) {
		lineno++;
		e = i;
		while (e < len && text[e] != '\n')
			e++;
		if (memchr(text + i, '\0', e - i) != NULL)
			return xcause(cause, "%s:%d:1: NUL byte in a theme file", path, lineno);
		line = xstrndup(text + i, e - i);
		if (e - i > 0 && line[e - i - 1] == '\r')
			line[e - i - 1] = '\0';
		if (theme_parse_line(t, path, lineno, line, cause) < 0) {
			free(line);
			return -1;
		}
		free(line);
		i = e + 1;
	}
	return 0;
}

void theme_default(struct theme *t)
{
	char *cause = NULL;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "default");
	for (int r = 0; r < THEME_ROLE_COUNT; r++) {
		t->st[r].fg = THEME_COLOR_DEFAULT;
		t->st[r].bg = THEME_COLOR_DEFAULT;
	}
	if (theme_parse(t, "(built-in)", theme_default_text, sizeof(theme_default_text) - 1,
	                &cause) < 0)
		xfatal("built-in theme: %s", cause);
}

unsigned theme_mono_attrs(const struct theme *t, enum theme_role r)
{
	return theme_mono_base[r] | t->st[r].attrs;
}

/* 1 when name is a plain file name made of [A-Za-z0-9._-], not starting with a dot. */
static int theme_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && n < 48 && name[0] != '.' &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	           n;
}

/* Reads a whole file (up to THEME_MAX_BYTES) into *out. -1 with errno when it cannot. */
static int theme_read(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return -1;
	buf = xmalloc(THEME_MAX_BYTES + 1);
	n = fread(buf, 1, THEME_MAX_BYTES + 1, f);
	if (ferror(f) || n > THEME_MAX_BYTES) {
		fclose(f);
		free(buf);
		errno = EFBIG;
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int theme_load(struct theme *t, const char *name, const char *const *dirs, size_t ndirs,
               char **cause)
{
	size_t i;
	char *path, *text;
	size_t len;
	int rc;

	theme_default(t);
	if (!theme_name_ok(name))
		return xcause(
		    cause, "bad theme name '%s' (expected letters, digits, '.', '_', '-')", name);
	for (i = 0; i < ndirs; i++) {
		if (dirs[i] == NULL)
			continue;
		path = xprintf("%s/%s.theme", dirs[i], name);
		if (theme_read(path, &text, &len) < 0) {
			if (errno != ENOENT) {
				xcause(cause, "%s: %s", path, strerror(errno));
				free(path);
				return -1;
			}
			free(path);
			continue;
		}
		rc = theme_parse(t, path, text, len, cause);
		free(text);
		free(path);
		if (rc < 0) {
			theme_default(t);
			return -1;
		}
		snprintf(t->name, sizeof(t->name), "%s", name);
		return 0;
	}
	if (strcmp(name, "default") == 0)
		return 0;
	return xcause(cause, "no theme '%s' (looked for %s.theme in the themes folders)", name,
	              name);
}
