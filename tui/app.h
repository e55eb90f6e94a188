/* app.h: the ncurses application (the TUI face). It talks to the core only through
 * core/engine.h and runs on the engine's event loop. */
#ifndef GANTRY_APP_H
#define GANTRY_APP_H

struct engine;

struct app_opts {
	int no_color;      /* --no-color or NO_COLOR set */
	int readonly;      /* --readonly: every action that changes anything is disabled */
	int refresh_ms;    /* -d: screen refresh interval (default from config, 1000) */
	const char *theme; /* theme name, NULL = config's */
	const char *view;  /* first view: "templates" (default), "jobs" or "cost" */
	int no_mouse;      /* --no-mouse (or config `mouse: false`): no clicks, no wheel */
};

/* Runs the TUI until the user quits. Returns 0, or -1 with *cause (heap) when the terminal
 * could not be set up. */
int app_run(struct engine *e, const struct app_opts *o, char **cause);

#endif
