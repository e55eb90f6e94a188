/* keymap.c: the one table of key bindings (see keymap.h). The first entry that matches a key
 * in a view wins, so view-specific entries come before the shared ones. */
#include "tui/keymap.h"

#include <curses.h>
#include <stdio.h>

#define V_T  KEYMAP_V_TEMPLATES
#define V_JS KEYMAP_V_JOBS
#define V_J  KEYMAP_V_JOB
#define V_F  KEYMAP_V_FORM
#define V_H  KEYMAP_V_HELP
#define V_C  KEYMAP_V_COST
#define V_L  KEYMAP_V_LOG
#define V_M  KEYMAP_V_MESSAGES
#define V_CL KEYMAP_V_CLUSTER
#define V_AP KEYMAP_V_APPROVALS

const struct keymap_entry keymap_table[] = {
    /* The launch form: printable keys not listed here are typed into the field. */
    {'\t', V_F, KEYMAP_NEXT_FIELD, "next field", "next", 0},
    {KEYMAP_FN(KEY_DOWN), V_F, KEYMAP_NEXT_FIELD, "next field", NULL, 0},
    {KEYMAP_FN(KEY_BTAB), V_F, KEYMAP_PREV_FIELD, "previous field", NULL, 0},
    {KEYMAP_FN(KEY_UP), V_F, KEYMAP_PREV_FIELD, "previous field", NULL, 0},
    {KEYMAP_FN(KEY_LEFT), V_F, KEYMAP_LEFT, "previous choice (choice fields)", NULL, 0},
    {KEYMAP_FN(KEY_RIGHT), V_F, KEYMAP_RIGHT, "next choice (choice fields)", NULL, 0},
    {'\n', V_F, KEYMAP_OPEN,
     "launch from any field (an invalid field gets the focus); on [Cancel] cancel", "launch", 0},
    {'\r', V_F, KEYMAP_OPEN,
     "launch from any field (an invalid field gets the focus); on [Cancel] cancel", NULL, 0},
    {KEYMAP_FN(KEY_ENTER), V_F, KEYMAP_OPEN,
     "launch from any field (an invalid field gets the focus); on [Cancel] cancel", NULL, 0},
    {KEYMAP_CTRL('s'), V_F, KEYMAP_LAUNCH, "launch", NULL, 0},
    {KEYMAP_ESC, V_F, KEYMAP_CANCEL, "cancel (asks first when a field was edited)", "cancel", 0},

    /* Help. */
    {KEYMAP_ESC, V_H, KEYMAP_BACK, "close help (clears the filter first)", "close", 0},
    {'q', V_H, KEYMAP_BACK, "close help (clears the filter first)", NULL, 0},
    {'?', V_H, KEYMAP_BACK, "close help (clears the filter first)", NULL, 0},
    {'/', V_H, KEYMAP_FILTER, "filter the keys and their help", "filter", 0},

    /* Messages (m, :messages). */
    {KEYMAP_ESC, V_M, KEYMAP_BACK, "back (clears the filter first)", "back", 0},
    {'q', V_M, KEYMAP_BACK, "back (clears the filter first)", NULL, 0},
    {'m', V_M, KEYMAP_BACK, "back (clears the filter first)", NULL, 0},
    {'/', V_M, KEYMAP_FILTER, "filter the messages", "filter", 0},

    /* The log full screen (l): only these keys act; others do nothing here. */
    {'/', V_L, KEYMAP_FILTER, "search the log (case-insensitive)", "search", 0},
    {'n', V_L, KEYMAP_SEARCH_NEXT, "next match", "next", 0},
    {'N', V_L, KEYMAP_SEARCH_PREV, "previous match", NULL, 0},
    {KEYMAP_FN(KEY_LEFT), V_L, KEYMAP_LEFT, "scroll left (long lines)", NULL, 0},
    {KEYMAP_FN(KEY_RIGHT), V_L, KEYMAP_RIGHT, "scroll right (long lines are cut, not wrapped)",
     "scroll", 0},
    {'l', V_L, KEYMAP_LOGS, "back to the job's details", "details", 0},
    {KEYMAP_ESC, V_L, KEYMAP_BACK, "back (clears the search first)", "back", 0},
    {'q', V_L, KEYMAP_BACK, "back (clears the search first)", NULL, 0},

    /* Templates. */
    {'\n', V_T, KEYMAP_LAUNCH, "open the launch form", "launch", 0},
    {'\r', V_T, KEYMAP_LAUNCH, "open the launch form", NULL, 0},
    {KEYMAP_FN(KEY_ENTER), V_T, KEYMAP_LAUNCH, "open the launch form", NULL, 0},
    {'L', V_T, KEYMAP_LAUNCH, "open the launch form", NULL, 0},

    /* Jobs. */
    {'\n', V_JS, KEYMAP_OPEN, "open the job", "open", 0},
    {'\r', V_JS, KEYMAP_OPEN, "open the job", NULL, 0},
    {KEYMAP_FN(KEY_ENTER), V_JS, KEYMAP_OPEN, "open the job", NULL, 0},
    {'/', V_JS, KEYMAP_FILTER, "filter (name, kind, state, provider, owner)", "filter", 0},
    {'/', V_T, KEYMAP_FILTER, "filter (name, kind, description)", "filter", 0},
    {'/', V_C, KEYMAP_FILTER, "filter the breakdown rows", "filter", 0},
    {'/', V_J, KEYMAP_FILTER, "search the log (case-insensitive)", NULL, 0},
    {'n', V_J, KEYMAP_SEARCH_NEXT, "next match", NULL, 0},
    {'N', V_J, KEYMAP_SEARCH_PREV, "previous match", NULL, 0},
    {'>', V_JS, KEYMAP_SORT, "sort by the next column", "sort", 0},
    {'O', V_JS, KEYMAP_SORT_REVERSE, "reverse the sort order", NULL, 0},

    /* Jobs and Job. */
    {'l', V_JS, KEYMAP_LOGS, "open the job's log (full screen)", "logs", 0},
    {'l', V_J, KEYMAP_LOGS, "log: full screen / back", "logs", 0},
    {KEYMAP_CTRL('d'), V_JS | V_J, KEYMAP_STOP, "stop the job (asks first)", "stop", 1},
    {'x', V_JS | V_J, KEYMAP_STOP, "stop the job (asks first)", NULL, 1},
    {'s', V_JS | V_J, KEYMAP_SHELL, "shell on the job's worker (exit it to come back)", "ssh", 0},
    {'f', V_JS | V_J, KEYMAP_FORWARD, "forward the job's port to 127.0.0.1 and show the URL",
     "forward", 0},
    {'o', V_JS | V_J, KEYMAP_OPEN_URL,
     "the job's URL with its token: shown and copied to the clipboard (forwarded if remote)", "url",
     0},

    /* Cost. */
    {'\t', V_C, KEYMAP_GROUP_NEXT, "breakdown: next grouping (user, team, template, provider)",
     "breakdown", 0},
    {KEYMAP_FN(KEY_RIGHT), V_C, KEYMAP_GROUP_NEXT,
     "breakdown: next grouping (user, team, template, provider)", NULL, 0},
    {KEYMAP_FN(KEY_BTAB), V_C, KEYMAP_GROUP_PREV, "breakdown: previous grouping", NULL, 0},
    {KEYMAP_FN(KEY_LEFT), V_C, KEYMAP_GROUP_PREV, "breakdown: previous grouping", NULL, 0},

    /* Cluster (C). */
    {'\t', V_CL, KEYMAP_GROUP_NEXT, "next provider with a cluster", "provider", 0},
    {KEYMAP_FN(KEY_RIGHT), V_CL, KEYMAP_GROUP_NEXT, "next provider with a cluster", NULL, 0},
    {KEYMAP_FN(KEY_BTAB), V_CL, KEYMAP_GROUP_PREV, "previous provider with a cluster", NULL, 0},
    {KEYMAP_FN(KEY_LEFT), V_CL, KEYMAP_GROUP_PREV, "previous provider with a cluster", NULL, 0},
    {KEYMAP_ESC, V_CL, KEYMAP_BACK, "back", "back", 0},
    {'q', V_CL, KEYMAP_BACK, "back", NULL, 0},
    {'C', V_CL, KEYMAP_BACK, "back", NULL, 0},

    /* Approvals (A, issue 12). */
    {'a', V_AP, KEYMAP_APPROVE, "approve the launch (a reason is asked, optional)", "approve", 1},
    {'d', V_AP, KEYMAP_DENY, "deny the launch (the reason is asked, required)", "deny", 1},
    {KEYMAP_ESC, V_AP, KEYMAP_BACK, "back", "back", 0},
    {'q', V_AP, KEYMAP_BACK, "back", NULL, 0},
    {'A', V_AP, KEYMAP_BACK, "back", NULL, 0},

    /* Job. */
    {KEYMAP_ESC, V_J, KEYMAP_BACK, "back (clears the search first)", "back", 0},
    {'q', V_J, KEYMAP_BACK, "back (clears the search first)", NULL, 0},
    {KEYMAP_FN(KEY_LEFT), V_J, KEYMAP_BACK, "back", NULL, 0},
    {'h', V_J, KEYMAP_BACK, "back", NULL, 0},

    /* Moving around lists, the log and the help. */
    {KEYMAP_FN(KEY_UP), KEYMAP_V_LIST, KEYMAP_UP, "up", NULL, 0},
    {'k', KEYMAP_V_LIST, KEYMAP_UP, "up", NULL, 0},
    {KEYMAP_FN(KEY_DOWN), KEYMAP_V_LIST, KEYMAP_DOWN, "down", NULL, 0},
    {'j', KEYMAP_V_LIST, KEYMAP_DOWN, "down", NULL, 0},
    {KEYMAP_FN(KEY_PPAGE), KEYMAP_V_LIST, KEYMAP_PGUP, "page up", NULL, 0},
    {KEYMAP_CTRL('b'), KEYMAP_V_LIST, KEYMAP_PGUP, "page up", NULL, 0},
    {KEYMAP_FN(KEY_NPAGE), KEYMAP_V_LIST, KEYMAP_PGDN, "page down", NULL, 0},
    {KEYMAP_CTRL('f'), KEYMAP_V_LIST, KEYMAP_PGDN, "page down", NULL, 0},
    {'g', KEYMAP_V_LIST, KEYMAP_TOP, "first line", NULL, 0},
    {KEYMAP_FN(KEY_HOME), KEYMAP_V_LIST, KEYMAP_TOP, "first line", NULL, 0},
    {'G', KEYMAP_V_LIST, KEYMAP_BOTTOM, "last line (log: follow again)", NULL, 0},
    {KEYMAP_FN(KEY_END), KEYMAP_V_LIST, KEYMAP_BOTTOM, "last line (log: follow again)", NULL, 0},

    /* Everywhere but the form and the help. The top views (Templates, Jobs, Cost): q and Esc
     * clear the filter first; then q quits and Esc says so. */
    {'?', KEYMAP_V_BROWSE | V_L, KEYMAP_HELP, "this help", "help", 0},
    {'q', KEYMAP_V_TOP, KEYMAP_QUIT, "clear the filter; else quit", "quit", 0},
    {KEYMAP_ESC, KEYMAP_V_TOP, KEYMAP_BACK, "clear the filter; else nothing (q quits)", NULL, 0},
    {':', KEYMAP_V_BROWSE | V_L, KEYMAP_COMMAND,
     "command: templates, jobs, cost, reload, messages, theme NAME, help, q", "cmd", 0},
    {'m', KEYMAP_V_BROWSE, KEYMAP_MESSAGES, "messages: every status message in full", "messages",
     0},
    {'t', KEYMAP_V_BROWSE, KEYMAP_TEMPLATES, "templates", "templates", 0},
    {'1', KEYMAP_V_BROWSE, KEYMAP_TEMPLATES, "templates", NULL, 0},
    {'J', KEYMAP_V_BROWSE, KEYMAP_JOBS, "jobs", "jobs", 0},
    {'2', KEYMAP_V_BROWSE, KEYMAP_JOBS, "jobs", NULL, 0},
    {'$', KEYMAP_V_BROWSE, KEYMAP_COST, "cost: burn, month to date, budgets, breakdowns", "cost",
     0},
    {'3', KEYMAP_V_BROWSE, KEYMAP_COST, "cost: burn, month to date, budgets, breakdowns", NULL, 0},
    {'C', KEYMAP_V_BROWSE, KEYMAP_CLUSTER,
     "cluster: partitions, nodes, GPUs allocated/total, the queue (ssh, slurm)", "cluster", 0},
    {'A', KEYMAP_V_BROWSE, KEYMAP_APPROVALS,
     "approvals: launches waiting for your approval (approvers)", "approvals", 0},
    {'r', KEYMAP_V_BROWSE, KEYMAP_REFRESH, "refresh now (templates: reload the files)", NULL, 0},
    {'?', V_M, KEYMAP_HELP, "this help", "help", 0},
    {KEYMAP_CTRL('c'), KEYMAP_V_BROWSE | V_F | V_H | V_L | V_M, KEYMAP_QUIT, "quit", NULL, 0},
};

const size_t keymap_count = sizeof(keymap_table) / sizeof(keymap_table[0]);

const struct keymap_entry *keymap_find(unsigned view, int key)
{
	size_t i;

	for (i = 0; i < keymap_count; i++)
		if ((keymap_table[i].views & view) && keymap_table[i].key == key)
			return &keymap_table[i];
	return NULL;
}

enum keymap_action keymap_lookup(unsigned view, int key)
{
	const struct keymap_entry *k = keymap_find(view, key);

	return k != NULL ? k->action : KEYMAP_NONE;
}

const char *keymap_key_name(int key, char *buf, size_t size)
{
	static const struct {
		int key;
		const char *name;
	} names[] = {
	    {'\n', "Enter"},
	    {'\r', "Enter"},
	    {KEYMAP_FN(KEY_ENTER), "Enter"},
	    {'\t', "Tab"},
	    {KEYMAP_FN(KEY_BTAB), "S-Tab"},
	    {KEYMAP_ESC, "Esc"},
	    {' ', "Space"},
	    {KEYMAP_FN(KEY_UP), "Up"},
	    {KEYMAP_FN(KEY_DOWN), "Down"},
	    {KEYMAP_FN(KEY_LEFT), "Left"},
	    {KEYMAP_FN(KEY_RIGHT), "Right"},
	    {KEYMAP_FN(KEY_PPAGE), "PgUp"},
	    {KEYMAP_FN(KEY_NPAGE), "PgDn"},
	    {KEYMAP_FN(KEY_HOME), "Home"},
	    {KEYMAP_FN(KEY_END), "End"},
	    {KEYMAP_FN(KEY_BACKSPACE), "BS"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].key == key) {
			snprintf(buf, size, "%s", names[i].name);
			return buf;
		}
	}
	if (!KEYMAP_IS_FN(key) && key > 0 && key < 0x20)
		snprintf(buf, size, "^%c", key + 'a' - 1);
	else if (!KEYMAP_IS_FN(key) && key >= 0x20 && key < 0x7f)
		snprintf(buf, size, "%c", key);
	else
		snprintf(buf, size, "#%d", key & 0xffffff);
	return buf;
}
