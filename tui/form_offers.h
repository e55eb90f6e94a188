/* form_offers.h: the launch form's Offers panel (tui/form_offers.c): ^O in the form asks
 * every provider for its offers for the form's template and values (engine_offers) and shows
 * the ranked list and the dropped offers with their reasons over the form's body,
 * scrollable; ^O or Esc goes back to the fields. */
#ifndef GANTRY_FORM_OFFERS_H
#define GANTRY_FORM_OFFERS_H

#include "tui/keymap.h"

struct app;

/* The key that opens and closes the panel. */
#define FORM_OFFERS_KEY KEYMAP_CTRL('o')

/* A key the form did not bind: ^O toggles the panel; while it shows, PgUp/PgDn/Home/End
 * scroll it. Returns 1 when handled. */
int form_offers_key(struct app *a, int key);
/* While the panel shows: Up/Down (and Tab) scroll, Esc and Enter close it. 1 when handled. */
int form_offers_action(struct app *a, enum keymap_action act);
/* Draws the panel over rows y .. y+h-1 and returns 1 while it shows, else 0. */
int form_offers_draw(struct app *a, int y, int h);
/* 1 while the panel shows (clicks on the hidden fields do nothing). */
int form_offers_shown(void);
/* Forgets the panel and any answer still coming (the form closed). */
void form_offers_close(void);

#endif
