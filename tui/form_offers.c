/* form_offers.c: the launch form's Offers panel. ^O asks the engine for every provider's
 * offers for the template with the form's values (engine_offers: asked at once, ranked by
 * the optimizer) and shows them over the form's body: the ranked list (rank, provider,
 * region, type, GPUs, CPUs, memory, market, price and its source, billing, availability),
 * then each dropped offer with its reason, then the providers that gave none. Every line is
 * sanitised before it is drawn. The state lives here: one form is open at a time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "core/cost.h"
#include "core/engine.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/form_offers.h"
#include "tui/view.h"

#define FORM_OFFERS_NCOLS 12

static struct {
	int shown;
	int asking;   /* an answer is on its way */
	unsigned gen; /* answers of an older request (or a closed panel) are dropped */
	char *error;  /* why there are no offers (sanitised) */
	char **lines; /* sanitised */
	size_t nlines;
	size_t nfit, ndropped;
	char *title; /* sanitised */
	int top;
	int rows; /* lines shown at the last frame */
} fo;

static void form_offers_forget(void)
{
	for (size_t i = 0; i < fo.nlines; i++)
		free(fo.lines[i]);
	free(fo.lines);
	free(fo.error);
	free(fo.title);
	fo.lines = NULL;
	fo.nlines = 0;
	fo.error = NULL;
	fo.title = NULL;
	fo.nfit = fo.ndropped = 0;
	fo.top = 0;
}

void form_offers_close(void)
{
	form_offers_forget();
	fo.shown = 0;
	fo.asking = 0;
	fo.gen++;
}

static void form_offers_line(struct app *a, const char *raw)
{
	fo.lines = xreallocarray(fo.lines, fo.nlines + 1, sizeof *fo.lines);
	fo.lines[fo.nlines++] = app_clean(a, raw);
}

static char *form_offers_or_dash(const char *s)
{
	return xstrdup(s != NULL && *s != '\0' ? s : "-");
}

/* The cells of one offer (raw; the whole line is sanitised). */
static void form_offers_cells(const struct offer *o, size_t rank, char **cell)
{
	char money[32];

	cell[0] = rank > 0 ? xprintf("%zu", rank) : xstrdup("-");
	cell[1] = form_offers_or_dash(o->provider);
	cell[2] = form_offers_or_dash(o->region);
	cell[3] = form_offers_or_dash(o->instance_type);
	cell[4] = o->gpus > 0 && o->gpu_type != NULL && *o->gpu_type != '\0'
	              ? xprintf("%dx %s", o->gpus, o->gpu_type)
	              : xstrdup("-");
	cell[5] = o->cpus > 0 ? xprintf("%d", o->cpus) : xstrdup("?");
	cell[6] =
	    o->memory_mib > 0 ? xprintf("%.1f GiB", (double)o->memory_mib / 1024.0) : xstrdup("?");
	cell[7] = xstrdup(offer_market_name(o->market));
	if (o->priced) {
		cost_money(o->usd_per_hour, money);
		cell[8] = xprintf("%s/h", money);
	} else {
		cell[8] = xstrdup("unpriced");
	}
	cell[9] = xstrdup(catalog_source_name(o->source));
	cell[10] = xstrdup(offer_billing_name(o->billing));
	cell[11] = xstrdup(offer_avail_name(o->avail));
}

/* Sanitises each cell first so the widths are those drawn. */
static void form_offers_lines(struct app *a, const struct engine_offers_answer *ans)
{
	static const char *const head[FORM_OFFERS_NCOLS] = {
	    "RANK",   "PROVIDER", "REGION", "TYPE",   "GPUS",    "CPUS",
	    "MEMORY", "MARKET",   "PRICE",  "SOURCE", "BILLING", "AVAILABLE"};
	size_t n = ans->nfit, w[FORM_OFFERS_NCOLS];
	char **cells = xcalloc(n * FORM_OFFERS_NCOLS + 1, sizeof *cells), *line, *s;

	for (int k = 0; k < FORM_OFFERS_NCOLS; k++)
		w[k] = strlen(head[k]);
	for (size_t i = 0; i < n; i++) {
		char *raw[FORM_OFFERS_NCOLS];

		form_offers_cells(&ans->offers.v[i], i + 1, raw);
		for (int k = 0; k < FORM_OFFERS_NCOLS; k++) {
			cells[i * FORM_OFFERS_NCOLS + k] = app_clean(a, raw[k]);
			free(raw[k]);
			if (strlen(cells[i * FORM_OFFERS_NCOLS + k]) > w[k])
				w[k] = strlen(cells[i * FORM_OFFERS_NCOLS + k]);
		}
	}
	if (n == 0)
		form_offers_line(a, "no offer fits");
	for (size_t i = 0; i <= n && n > 0; i++) {
		line = xstrdup("");
		for (int k = 0; k < FORM_OFFERS_NCOLS; k++) {
			const char *c = i == 0 ? head[k] : cells[(i - 1) * FORM_OFFERS_NCOLS + k];

			s = xprintf("%s%-*s%s", line, (int)w[k], c,
			            k + 1 < FORM_OFFERS_NCOLS ? "  " : "");
			free(line);
			line = s;
		}
		form_offers_line(a, line);
		free(line);
	}
	if (ans->offers.n > n)
		form_offers_line(a, "dropped:");
	for (size_t i = n; i < ans->offers.n; i++) {
		const struct offer *o = &ans->offers.v[i];
		char *raw[FORM_OFFERS_NCOLS];

		form_offers_cells(o, 0, raw);
		line = strcmp(raw[2], "-") != 0
		           ? xprintf("  %s %s %s (%s, %s): %s", raw[1], raw[2], raw[3], raw[4],
		                     raw[8], o->dropped != NULL ? o->dropped : "?")
		           : xprintf("  %s %s (%s, %s): %s", raw[1], raw[3], raw[4], raw[8],
		                     o->dropped != NULL ? o->dropped : "?");
		form_offers_line(a, line);
		free(line);
		for (int k = 0; k < FORM_OFFERS_NCOLS; k++)
			free(raw[k]);
	}
	for (size_t i = 0; i < ans->nerrors; i++) {
		line = xprintf("no offers from %s", ans->errors[i]);
		form_offers_line(a, line);
		free(line);
	}
	for (size_t i = 0; i < n * FORM_OFFERS_NCOLS; i++)
		free(cells[i]);
	free(cells);
}

static void form_offers_answer(void *arg, int rc, struct engine_offers_answer *ans,
                               const char *cause)
{
	struct app *a = app_current();

	if ((unsigned)(uintptr_t)arg != fo.gen || a == NULL) {
		engine_offers_answer_free(ans);
		return;
	}
	fo.asking = 0;
	form_offers_forget();
	if (rc != 0) {
		fo.error = app_clean(a, cause != NULL ? cause : "no answer");
	} else {
		char *t;

		fo.nfit = ans->nfit;
		fo.ndropped = ans->offers.n - ans->nfit;
		t = xprintf(" Offers for %s: %zu fit, %zu dropped ", ans->template_name, fo.nfit,
		            fo.ndropped);
		fo.title = app_clean(a, t);
		free(t);
		form_offers_lines(a, ans);
	}
	engine_offers_answer_free(ans);
	app_dirty(a);
}

/* Asks for the offers of the form's template with its current values. */
static void form_offers_ask(struct app *a)
{
	struct app_form *F = &a->form;
	struct engine_launch_req req;
	const char **sets = xcalloc(F->nfields + 1, sizeof *sets);
	char *cause = NULL;
	size_t n = 0;
	unsigned gen;

	memset(&req, 0, sizeof req);
	req.template_name = F->tpl_name;
	for (size_t i = 0; i < F->nfields; i++) {
		struct form_field *f = &F->fields[i];

		if (f->kind == FORM_FIELD_PARAM)
			sets[n++] = xprintf("%s=%s", f->param->name, f->ed.buf);
		else if (f->kind == FORM_FIELD_PROVIDER && F->nproviders > 0 &&
		         strcmp(f->ed.buf, F->providers[0]) != 0)
			req.provider = f->ed.buf;
		else if (f->kind == FORM_FIELD_RUNTIME && f->ed.len > 0)
			req.max_runtime_s = engine_duration_parse(f->ed.buf);
	}
	req.sets = sets;
	req.nsets = n;
	form_offers_forget();
	gen = ++fo.gen;
	fo.shown = 1;
	fo.asking = 1;
	if (engine_offers(a->e, &req, form_offers_answer, (void *)(uintptr_t)gen, &cause) != 0) {
		fo.asking = 0;
		fo.error = app_clean(a, cause != NULL ? cause : "cannot ask for offers");
		free(cause);
	}
	for (size_t i = 0; i < n; i++)
		free((char *)sets[i]);
	free(sets);
	app_dirty(a);
}

static void form_offers_scroll(int delta)
{
	int max = (int)fo.nlines - (fo.rows > 0 ? fo.rows : 1);

	fo.top += delta;
	if (fo.top > max)
		fo.top = max;
	if (fo.top < 0)
		fo.top = 0;
}

int form_offers_key(struct app *a, int key)
{
	if (key == FORM_OFFERS_KEY) {
		if (fo.shown)
			form_offers_close();
		else
			form_offers_ask(a);
		app_dirty(a);
		return 1;
	}
	if (!fo.shown)
		return 0;
	if (key == KEYMAP_FN(KEY_NPAGE))
		form_offers_scroll(fo.rows > 1 ? fo.rows - 1 : 1);
	else if (key == KEYMAP_FN(KEY_PPAGE))
		form_offers_scroll(-(fo.rows > 1 ? fo.rows - 1 : 1));
	else if (key == KEYMAP_FN(KEY_HOME))
		fo.top = 0;
	else if (key == KEYMAP_FN(KEY_END))
		form_offers_scroll((int)fo.nlines);
	else if (key == 'r')
		form_offers_ask(a);
	app_dirty(a);
	return 1; /* the fields are hidden: nothing else types into them */
}

int form_offers_action(struct app *a, enum keymap_action act)
{
	if (!fo.shown)
		return 0;
	switch (act) {
	case KEYMAP_NEXT_FIELD:
		form_offers_scroll(1);
		break;
	case KEYMAP_PREV_FIELD:
		form_offers_scroll(-1);
		break;
	case KEYMAP_CANCEL:
	case KEYMAP_OPEN:
		form_offers_close();
		break;
	case KEYMAP_LAUNCH:
		form_offers_close();
		return 0; /* ^S still launches */
	default:
		return 0;
	}
	app_dirty(a);
	return 1;
}

int form_offers_draw(struct app *a, int y, int h)
{
	int x;

	if (!fo.shown)
		return 0;
	draw_hline(a, y, 0, 2, THEME_BORDER);
	x = 2 + draw_text(a, y, 2, a->cols - 4, fo.title != NULL ? fo.title : " Offers ",
	                  THEME_TITLE, 0);
	draw_hline(a, y, x, a->cols - x, THEME_BORDER);
	y++;
	h--;
	if (h < 1)
		return 1;
	if (fo.asking) {
		draw_text(a, y, 2, a->cols - 4, "asking every provider for its offers...",
		          THEME_DIM, 0);
	} else if (fo.error != NULL) {
		draw_text(a, y, 2, a->cols - 4, fo.error, THEME_STATUS_ERROR, 0);
	} else {
		fo.rows = h - 1;
		form_offers_scroll(0);
		for (int r = 0; r < fo.rows && (size_t)(fo.top + r) < fo.nlines; r++) {
			size_t i = (size_t)(fo.top + r);
			int dropped = fo.nfit > 0 ? i > fo.nfit : i > 0;

			draw_text(a, y + r, 2, a->cols - 3, fo.lines[i],
			          i == 0 && fo.nfit > 0 ? THEME_LABEL
			          : dropped             ? THEME_DIM
			                                : THEME_NORMAL,
			          0);
		}
	}
	draw_text(a, y + h - 1, 2, a->cols - 3,
	          "^O or Esc: back to the form   Up/Down, PgUp/PgDn: scroll   r: ask again",
	          THEME_DIM, 0);
	return 1;
}
