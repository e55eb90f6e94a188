/* form_offers.c: the launch form's Offers panel. ^O asks the engine for every provider's
 * offers for the template with the form's values (engine_offers: asked at once, ranked by
 * the optimizer) and shows them over the form's body: the ranked list (rank, provider,
 * region, type, GPUs, CPUs, memory, market, price and its source, billing, availability),
 * then each dropped offer with its reason, then the providers that gave none. The answer is
 * kept as it came: column widths are measured once (no allocation per offer), and only the
 * rows on screen are formatted and sanitised, at each frame, so 10,000 offers cost no more
 * to draw than 20. The state lives here: one form is open at a time. */
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
	struct engine_offers_answer *ans;
	size_t w[FORM_OFFERS_NCOLS]; /* column widths of the ranked rows */
	size_t nlines;
	char *title; /* sanitised */
	int top;
	int rows; /* lines shown at the last frame */
} fo;

static void form_offers_forget(void)
{
	engine_offers_answer_free(fo.ans);
	free(fo.error);
	free(fo.title);
	fo.ans = NULL;
	fo.error = NULL;
	fo.title = NULL;
	fo.nlines = 0;
	fo.top = 0;
}

int form_offers_shown(void)
{
	return fo.shown;
}

void form_offers_close(void)
{
	form_offers_forget();
	fo.shown = 0;
	fo.asking = 0;
	fo.gen++;
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

static const char *const form_offers_head[FORM_OFFERS_NCOLS] = {
    "RANK",   "PROVIDER", "REGION", "TYPE",   "GPUS",    "CPUS",
    "MEMORY", "MARKET",   "PRICE",  "SOURCE", "BILLING", "AVAILABLE"};

static size_t form_offers_len(const char *s)
{
	return s != NULL && *s != '\0' ? strlen(s) : 1;
}

static size_t form_offers_digits(long long v)
{
	size_t n = v < 0 ? 2 : 1;

	while (v >= 10 || v <= -10) {
		v /= 10;
		n++;
	}
	return n;
}

static void form_offers_max(size_t *w, size_t v)
{
	if (v > *w)
		*w = v;
}

/* Widths of the ranked rows' columns, measured without formatting each offer. */
static void form_offers_widths(const struct engine_offers_answer *ans, size_t *w)
{
	char buf[64];

	for (int k = 0; k < FORM_OFFERS_NCOLS; k++)
		w[k] = strlen(form_offers_head[k]);
	for (size_t i = 0; i < ans->nfit; i++) {
		const struct offer *o = &ans->offers.v[i];

		form_offers_max(&w[0], form_offers_digits((long long)i + 1));
		form_offers_max(&w[1], form_offers_len(o->provider));
		form_offers_max(&w[2], form_offers_len(o->region));
		form_offers_max(&w[3], form_offers_len(o->instance_type));
		form_offers_max(&w[4], o->gpus > 0 && o->gpu_type != NULL && *o->gpu_type != '\0'
		                           ? form_offers_digits(o->gpus) + 2 + strlen(o->gpu_type)
		                           : 1);
		form_offers_max(&w[5], o->cpus > 0 ? form_offers_digits(o->cpus) : 1);
		if (o->memory_mib > 0)
			form_offers_max(&w[6], (size_t)snprintf(buf, sizeof buf, "%.1f GiB",
			                                        (double)o->memory_mib / 1024.0));
		form_offers_max(&w[7], strlen(offer_market_name(o->market)));
		if (o->priced) {
			cost_money(o->usd_per_hour, buf);
			form_offers_max(&w[8], strlen(buf) + 2);
		} else {
			form_offers_max(&w[8], strlen("unpriced"));
		}
		form_offers_max(&w[9], strlen(catalog_source_name(o->source)));
		form_offers_max(&w[10], strlen(offer_billing_name(o->billing)));
		form_offers_max(&w[11], strlen(offer_avail_name(o->avail)));
	}
}

/* Line i of the panel, sanitised (heap): the header (or "no offer fits"), the ranked rows,
 * "dropped:" and the dropped rows with their reasons, then the providers that gave none. */
static char *form_offers_line(struct app *a, size_t i)
{
	const struct engine_offers_answer *ans = fo.ans;
	size_t nfit = ans->nfit, ndrop = ans->offers.n - nfit;
	char *raw[FORM_OFFERS_NCOLS], *line = NULL, *clean;

	if (i == 0 && nfit == 0)
		return xstrdup("no offer fits");
	if (i <= nfit) {
		char *s;

		if (i > 0)
			form_offers_cells(&ans->offers.v[i - 1], i, raw);
		line = xstrdup("");
		for (int k = 0; k < FORM_OFFERS_NCOLS; k++) {
			s = xprintf("%s%-*s%s", line, (int)fo.w[k],
			            i == 0 ? form_offers_head[k] : raw[k],
			            k + 1 < FORM_OFFERS_NCOLS ? "  " : "");
			free(line);
			line = s;
			if (i > 0)
				free(raw[k]);
		}
	} else if (ndrop > 0 && i == nfit + 1) {
		line = xstrdup("dropped:");
	} else if (ndrop > 0 && i <= nfit + 1 + ndrop) {
		const struct offer *o = &ans->offers.v[i - 2];

		form_offers_cells(o, 0, raw);
		line = strcmp(raw[2], "-") != 0
		           ? xprintf("  %s %s %s (%s, %s): %s", raw[1], raw[2], raw[3], raw[4],
		                     raw[8], o->dropped != NULL ? o->dropped : "?")
		           : xprintf("  %s %s (%s, %s): %s", raw[1], raw[3], raw[4], raw[8],
		                     o->dropped != NULL ? o->dropped : "?");
		for (int k = 0; k < FORM_OFFERS_NCOLS; k++)
			free(raw[k]);
	} else {
		size_t e = i - 1 - nfit - (ndrop > 0 ? 1 + ndrop : 0);

		line = xprintf("no offers from %s", e < ans->nerrors ? ans->errors[e] : "?");
	}
	clean = app_clean(a, line);
	free(line);
	return clean;
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
		engine_offers_answer_free(ans);
	} else {
		size_t ndrop = ans->offers.n - ans->nfit;
		char *t = xprintf(" Offers for %s: %zu fit, %zu dropped ", ans->template_name,
		                  ans->nfit, ndrop);

		fo.title = app_clean(a, t);
		free(t);
		fo.ans = ans;
		form_offers_widths(ans, fo.w);
		fo.nlines = 1 + ans->nfit + (ndrop > 0 ? 1 + ndrop : 0) + ans->nerrors;
	}
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
	} else if (fo.error != NULL || fo.ans == NULL) {
		draw_text(a, y, 2, a->cols - 4, fo.error != NULL ? fo.error : "no answer",
		          THEME_STATUS_ERROR, 0);
	} else {
		fo.rows = h - 1;
		form_offers_scroll(0);
		for (int r = 0; r < fo.rows && (size_t)(fo.top + r) < fo.nlines; r++) {
			size_t i = (size_t)(fo.top + r), nfit = fo.ans->nfit;
			int dropped = nfit > 0 ? i > nfit : i > 0;
			char *line = form_offers_line(a, i);

			draw_text(a, y + r, 2, a->cols - 3, line,
			          i == 0 && nfit > 0 ? THEME_LABEL
			          : dropped          ? THEME_DIM
			                             : THEME_NORMAL,
			          0);
			free(line);
		}
	}
	draw_text(a, y + h - 1, 2, a->cols - 3,
	          "^O or Esc: back to the form   Up/Down, PgUp/PgDn: scroll   r: ask again",
	          THEME_DIM, 0);
	return 1;
}
