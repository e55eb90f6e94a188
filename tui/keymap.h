/* keymap.h: every key binding of the TUI in one table (tui/keymap.c): the key, the views it
 * applies to, the action and its help text. The `?` help screen and the footer hints are
 * generated from the same table. */
#ifndef GANTRY_KEYMAP_H
#define GANTRY_KEYMAP_H

#include <stddef.h>

/* Keys: a character is its code point; a curses function key is KEYMAP_FN(KEY_...). */
#define KEYMAP_FN(k)    ((k) | 0x1000000)
#define KEYMAP_IS_FN(k) (((k)&0x1000000) != 0)
#define KEYMAP_CTRL(c)  ((c)&0x1f)
#define KEYMAP_ESC      27

/* The views (bit mask). */
enum keymap_view {
	KEYMAP_V_TEMPLATES = 1 << 0,
	KEYMAP_V_JOBS = 1 << 1,
	KEYMAP_V_JOB = 1 << 2,
	KEYMAP_V_FORM = 1 << 3,
	KEYMAP_V_HELP = 1 << 4,
	KEYMAP_V_COST = 1 << 5,
	KEYMAP_V_LOG = 1 << 6, /* the Job view with its log full screen (l): only log keys */
	KEYMAP_V_MESSAGES = 1 << 7,
	KEYMAP_V_CLUSTER = 1 << 8, /* the Cluster view (C) */
	KEYMAP_V_APPROVALS = 1 << 9, /* the Approvals view (A, issue 12) */
	KEYMAP_V_LIST = KEYMAP_V_TEMPLATES | KEYMAP_V_JOBS | KEYMAP_V_JOB | KEYMAP_V_HELP |
	                KEYMAP_V_COST | KEYMAP_V_LOG | KEYMAP_V_MESSAGES | KEYMAP_V_CLUSTER |
	                KEYMAP_V_APPROVALS,
	KEYMAP_V_TOP = KEYMAP_V_TEMPLATES | KEYMAP_V_JOBS | KEYMAP_V_COST,
	KEYMAP_V_BROWSE = KEYMAP_V_TEMPLATES | KEYMAP_V_JOBS | KEYMAP_V_JOB | KEYMAP_V_COST |
	                  KEYMAP_V_CLUSTER | KEYMAP_V_APPROVALS,
};

enum keymap_action {
	KEYMAP_NONE,
	KEYMAP_UP,
	KEYMAP_DOWN,
	KEYMAP_LEFT,
	KEYMAP_RIGHT,
	KEYMAP_PGUP,
	KEYMAP_PGDN,
	KEYMAP_TOP,
	KEYMAP_BOTTOM,
	KEYMAP_OPEN,
	KEYMAP_BACK,
	KEYMAP_QUIT,
	KEYMAP_HELP,
	KEYMAP_COMMAND,
	KEYMAP_FILTER,
	KEYMAP_SORT,
	KEYMAP_SORT_REVERSE,
	KEYMAP_TEMPLATES,
	KEYMAP_JOBS,
	KEYMAP_LOGS,
	KEYMAP_STOP,
	KEYMAP_SHELL,
	KEYMAP_FORWARD,
	KEYMAP_LAUNCH,
	KEYMAP_REFRESH,
	KEYMAP_NEXT_FIELD,
	KEYMAP_PREV_FIELD,
	KEYMAP_CANCEL,
	KEYMAP_COST,       /* the Cost view */
	KEYMAP_GROUP_NEXT, /* Cost view: next breakdown (user, team, template, provider) */
	KEYMAP_GROUP_PREV,
	KEYMAP_OPEN_URL, /* the job's URL with its token, copied to the clipboard */
	KEYMAP_SEARCH_NEXT, /* log: next match of the `/` search */
	KEYMAP_SEARCH_PREV,
	KEYMAP_MESSAGES,    /* the message log: every status message in full */
	KEYMAP_CLUSTER,     /* the Cluster view: partitions, nodes, GPUs, the queue */
	KEYMAP_APPROVALS,   /* the Approvals view: launches waiting for the user's decision */
	KEYMAP_APPROVE,     /* Approvals: approve the selected launch (asks for a reason) */
	KEYMAP_DENY,        /* Approvals: deny it (asks for the reason) */
	KEYMAP_ACTION_COUNT /* fewer than 64: the footer keeps a bit per action */
};

struct keymap_entry {
	int key;
	unsigned views; /* enum keymap_view bits */
	enum keymap_action action;
	const char *help; /* help line; entries in a row with the same action and help
	                     are listed together */
	const char *hint; /* footer hint ("quit"), or NULL: not in the footer */
	int changes;      /* 1: changes something (refused with --readonly) */
};

extern const struct keymap_entry keymap_table[];
extern const size_t keymap_count;

/* The action bound to key in view (one enum keymap_view bit), or KEYMAP_NONE. */
enum keymap_action keymap_lookup(unsigned view, int key);
/* The entry bound to key in view, or NULL. */
const struct keymap_entry *keymap_find(unsigned view, int key);
/* Short printable name of a key: "Enter", "Esc", "^d", "PgUp", "Up", "j", "?". */
const char *keymap_key_name(int key, char *buf, size_t size);

#endif
