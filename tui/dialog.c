/* dialog.c: the yes/No confirmation box drawn over the current view (stopping a job). Only
 * 'y' confirms; every other key cancels. */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/layout.h"
#include "tui/view.h"

void dialog_confirm(struct app *a, const char *title, const char *text, const char *job_id,
                    void (*yes)(struct app *a, const char *job_id))
{
	dialog_close(a);
	a->dialog.open = 1;
	a->dialog.title = app_clean(a, title);
	a->dialog.text = app_clean(a, text);
	a->dialog.job_id = xstrdup(job_id);
	a->dialog.yes = yes;
	app_dirty(a);
}

void dialog_close(struct app *a)
{
	free(a->dialog.title);
	free(a->dialog.text);
	free(a->dialog.job_id);
	memset(&a->dialog, 0, sizeof(a->dialog));
	app_dirty(a);
}

void dialog_key(struct app *a, int key)
{
	void (*yes)(struct app *, const char *) = a->dialog.yes;
	char *id;

	if (key != 'y' && key != 'Y') {
		dialog_close(a);
		app_status(a, 0, "cancelled");
		return;
	}
	id = a->dialog.job_id != NULL ? xstrdup(a->dialog.job_id) : NULL;
	dialog_close(a);
	if (yes != NULL && id != NULL)
		yes(a, id);
	free(id);
}

void dialog_draw(struct app *a)
{
	size_t st[4], ln[4], n, i;
	int w = a->cols - 8 < 64 ? a->cols - 8 : 64, h, x, y;
	int lf = a->ascii ? LAYOUT_ASCII : 0;
	char line[512];

	n = layout_wrap(a->dialog.text, w - 4, lf, st, ln, 4);
	if (n > 4)
		n = 4;
	h = (int)n + 5;
	x = (a->cols - w) / 2;
	y = (a->rows - h) / 2;
	draw_box(a, y, x, h, w, THEME_DIALOG);
	snprintf(line, sizeof(line), " %s ", a->dialog.title);
	draw_text(a, y, x + 2, w - 4, line, THEME_DIALOG_TITLE, 0);
	for (i = 0; i < n; i++) {
		size_t len = ln[i] < sizeof(line) - 1 ? ln[i] : sizeof(line) - 1;

		memcpy(line, a->dialog.text + st[i], len);
		line[len] = '\0';
		draw_text(a, y + 2 + (int)i, x + 2, w - 4, line, THEME_DIALOG, 0);
	}
	draw_text(a, y + h - 2, x + 2, w - 4, "[y] yes    [N] no", THEME_DIALOG_TITLE, 0);
}
