/* view_messages.c: the message log (m, :messages): every status-line message of this session,
 * newest last, wrapped to the width so that no reason is ever cut off; `/` filters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/layout.h"
#include "tui/view.h"

#define MSG_WRAP_MAX 32 /* rows one message may take */

static void msg_title(struct app *a, char *buf, size_t size)
{
	if (a->msgfilter[0] != '\0')
		snprintf(buf, size, "Messages (%d)  filter: %s", a->nmsgs, a->msgfilter);
	else
		snprintf(buf, size, "Messages (%d, newest last)", a->nmsgs);
}

/* Rows of the wrapped, filtered messages; draws those from a->msg_top when y >= 0. */
static int msg_rows(struct app *a, int y, int h)
{
	size_t st[MSG_WRAP_MAX], ln[MSG_WRAP_MAX], n, k;
	int w = a->cols - 4, row = 0, lf = a->ascii ? LAYOUT_ASCII : 0;

	if (w < 10)
		w = 10;
	for (int i = 0; i < a->nmsgs; i++) {
		const char *m = a->msgs[i];

		if (!app_match(m, a->msgfilter))
			continue;
		n = layout_wrap(m, w, lf, st, ln, MSG_WRAP_MAX);
		if (n > MSG_WRAP_MAX)
			n = MSG_WRAP_MAX;
		for (k = 0; k < n; k++, row++) {
			char *line;

			if (y < 0 || row < a->msg_top || row - a->msg_top >= h)
				continue;
			line = xstrndup(m + st[k], ln[k]);
			draw_text(
			    a, y + row - a->msg_top, k == 0 ? 2 : 4, w, line,
			    strstr(m, " error: ") == m + 8 ? THEME_STATUS_ERROR : THEME_NORMAL, 0);
			free(line);
		}
	}
	return row;
}

static void msg_draw(struct app *a, int y, int h)
{
	int total = msg_rows(a, -1, h);

	if (a->msg_top > total - h)
		a->msg_top = total - h > 0 ? total - h : 0;
	if (total == 0) {
		draw_text(a, y + 1, 2, a->cols - 4,
		          a->nmsgs == 0 ? "no messages yet" : "no message matches the filter",
		          THEME_DIM, 0);
		return;
	}
	msg_rows(a, y, h);
}

static int msg_action(struct app *a, enum keymap_action act)
{
	int page = app_body_rows(a);

	switch (act) {
	case KEYMAP_UP:
		a->msg_top = a->msg_top > 0 ? a->msg_top - 1 : 0;
		return 1;
	case KEYMAP_DOWN:
		a->msg_top++;
		return 1;
	case KEYMAP_PGUP:
		a->msg_top = a->msg_top > page ? a->msg_top - page : 0;
		return 1;
	case KEYMAP_PGDN:
		a->msg_top += page;
		return 1;
	case KEYMAP_TOP:
		a->msg_top = 0;
		return 1;
	case KEYMAP_BOTTOM:
		a->msg_top = 1 << 20; /* clamped when drawn */
		return 1;
	default:
		return 0;
	}
}

static void msg_leave(struct app *a)
{
	a->msgfilter[0] = '\0';
}

const struct view_ops view_messages_ops = {
    .name = "Messages",
    .mask = KEYMAP_V_MESSAGES,
    .leave = msg_leave,
    .title = msg_title,
    .draw = msg_draw,
    .action = msg_action,
};
