/* view_help.c: the `?` screen, generated from the keymap table for the view it was opened
 * from. Consecutive entries with the same action and help are listed on one line. */
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "tui/app.h"
#include "tui/draw.h"
#include "tui/keymap.h"
#include "tui/layout.h"
#include "tui/view.h"

#define HELP_KEYS_W 22

/* Name of the view a mask stands for. */
static const char *help_view_name(unsigned mask)
{
	switch (mask) {
	case KEYMAP_V_TEMPLATES:
		return "Templates";
	case KEYMAP_V_JOBS:
		return "Jobs";
	case KEYMAP_V_JOB:
		return "Job";
	case KEYMAP_V_FORM:
		return "Launch form";
	case KEYMAP_V_COST:
		return "Cost";
	case KEYMAP_V_LOG:
		return "Log";
	case KEYMAP_V_MESSAGES:
		return "Messages";
	case KEYMAP_V_CLUSTER:
		return "Cluster";
	case KEYMAP_V_APPROVALS:
		return "Approvals";
	default:
		return "";
	}
}

/* Builds help line number idx (keys and text) for mask; returns the number of lines. */
static int help_line(struct app *a, unsigned mask, int idx, char *keys, size_t ksize,
                     const char **text, int *disabled)
{
	size_t i = 0, j;
	int line = 0;
	char kn[16];

	while (i < keymap_count) {
		const struct keymap_entry *k = &keymap_table[i];

		if (!(k->views & mask) || k->help == NULL || keymap_find(mask, k->key) != k) {
			i++;
			continue;
		}
		if (line == idx) {
			keys[0] = '\0';
			*text = k->help;
			*disabled = k->changes && a->readonly;
		}
		/* Gather the following entries with the same action and help. */
		for (j = i; j < keymap_count; j++) {
			const struct keymap_entry *m = &keymap_table[j];

			if (m->action != k->action || m->help == NULL ||
			    strcmp(m->help, k->help) != 0)
				break;
			if (!(m->views & mask) || keymap_find(mask, m->key) != m)
				continue;
			if (line == idx) {
				size_t n = strlen(keys);

				keymap_key_name(m->key, kn, sizeof(kn));
				/* "Enter" can be three keys: list it once. */
				if (strstr(keys, kn) == NULL)
					snprintf(keys + n, ksize - n, "%s%s", n > 0 ? " " : "", kn);
			}
		}
		line++;
		i = j;
	}
	return line;
}

/* Word-wraps s (ASCII, the keymap's help texts) at width w: returns how many rows it takes and,
 * when out is not NULL, writes row `row` into out. */
static int help_wrap(const char *s, int w, int row, char *out, size_t osz)
{
	int rows = 0;
	size_t n = strlen(s), len;

	if (w < 10)
		w = 10;
	while (n > 0 || rows == 0) {
		len = n;
		if (len > (size_t)w) {
			len = (size_t)w;
			while (len > 0 && s[len] != ' ')
				len--;
			if (len == 0)
				len = (size_t)w; /* one long word: cut it */
		}
		if (out != NULL && rows == row)
			snprintf(out, osz, "%.*s", (int)len, s);
		rows++;
		s += len;
		n -= len;
		while (n > 0 && *s == ' ') {
			s++;
			n--;
		}
	}
	return rows;
}

static void help_title(struct app *a, char *buf, size_t size)
{
	snprintf(buf, size, "Help %s %s keys%s%s", a->g.sep, help_view_name(a->help_mask),
	         a->hfilter[0] != '\0' ? "  filter: " : "", a->hfilter);
}

static void help_draw(struct app *a, int y, int h)
{
	char keys[128], line[256];
	const char *text = NULL;
	int n, i, r = 0, disabled = 0;

	int shown = 0, m = 0;

	int tw = a->cols - HELP_KEYS_W - 1, rows[128], top;

	n = help_line(a, a->help_mask, -1, keys, sizeof(keys), &text, &disabled);
	if (n > 128)
		n = 128;
	/* `/`: only the lines whose keys or text hold the filter; a long text wraps */
	for (i = 0; i < n; i++) {
		help_line(a, a->help_mask, i, keys, sizeof(keys), &text, &disabled);
		if (app_match(keys, a->hfilter) || app_match(text, a->hfilter)) {
			snprintf(line, sizeof(line), "%s%s", text,
			         disabled ? " (off: read-only)" : "");
			rows[m++] = help_wrap(line, tw, -1, NULL, 0);
		}
	}
	/* Rows: the keys, a blank, the commands, the look (and some slack); scrolling stops
	 * where the last key shows. */
	for (top = m, r = 7; top > 0 && r + rows[top - 1] <= h; top--)
		r += rows[top - 1];
	r = 0;
	if (a->help_top > top)
		a->help_top = top;
	if (m == 0 && r < h)
		draw_text(a, y + r++, 2, a->cols - 4, "no key matches the filter (Esc clears it)",
		          THEME_DIM, 0);
	for (i = 0; i < n && r < h; i++) {
		help_line(a, a->help_mask, i, keys, sizeof(keys), &text, &disabled);
		if (!app_match(keys, a->hfilter) && !app_match(text, a->hfilter))
			continue;
		if (shown++ < a->help_top)
			continue;
		draw_text(a, y + r, 2, HELP_KEYS_W - 2, keys, THEME_FOOTER_KEY, 0);
		snprintf(line, sizeof(line), "%s%s", text, disabled ? " (off: read-only)" : "");
		for (int k = 0, nk = help_wrap(line, tw, -1, NULL, 0); k < nk && r < h; k++) {
			char part[256];

			help_wrap(line, tw, k, part, sizeof part);
			draw_text(a, y + r, HELP_KEYS_W, tw, part,
			          disabled ? THEME_DIM : THEME_NORMAL, 0);
			r++;
		}
	}
	if (r < h)
		r++;
	if (r < h)
		draw_text(
		    a, y + r++, 2, a->cols - 4,
		    "Commands:  :templates  :jobs  :job NAME  :cost  :cluster  :reload  :messages  "
		    ":theme NAME  :help  :q",
		    THEME_LABEL, 0);
	if (r < h)
		draw_text(a, y + r++, 2, a->cols - 4,
		          a->o->no_mouse || !engine_config(a->e)->mouse
		              ? "Mouse: off (--no-mouse or mouse: false in config.yaml)"
		              : "Mouse: a click selects a row, the wheel scrolls (off: --no-mouse)",
		          THEME_DIM, 0);
	if (r < h) {
		snprintf(line, sizeof(line), "Theme %s, %s, %s glyphs%s", a->theme.name,
		         a->color ? "colours" : "no colours", a->ascii ? "ASCII" : "UTF-8",
		         a->readonly ? ", read-only" : "");
		draw_text(a, y + r++, 2, a->cols - 4, line, THEME_DIM, 0);
	}
}

static int help_action(struct app *a, enum keymap_action act)
{
	switch (act) {
	case KEYMAP_UP:
		a->help_top = a->help_top > 0 ? a->help_top - 1 : 0;
		return 1;
	case KEYMAP_DOWN:
		a->help_top++;
		return 1;
	case KEYMAP_PGUP:
		a->help_top = a->help_top > app_body_rows(a) ? a->help_top - app_body_rows(a) : 0;
		return 1;
	case KEYMAP_PGDN:
		a->help_top += app_body_rows(a);
		return 1;
	case KEYMAP_TOP:
		a->help_top = 0;
		return 1;
	case KEYMAP_BOTTOM:
		a->help_top = 1000;
		return 1;
	case KEYMAP_BACK:
		return 0; /* app.c: clears the filter first, else closes */
	default:
		return 0;
	}
}

const struct view_ops view_help_ops = {
    .name = "Help",
    .mask = KEYMAP_V_HELP,
    .title = help_title,
    .draw = help_draw,
    .action = help_action,
};
