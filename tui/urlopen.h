/* urlopen.h: the TUI's `o` (tui/urlopen.c): a job's URL with its token, copied to the
 * clipboard; a remote job's port is forwarded to 127.0.0.1 first. */
#ifndef GANTRY_TUI_URLOPEN_H
#define GANTRY_TUI_URLOPEN_H

#include "tui/view.h"

/* Shows the job's URL with its token on the status line and copies it (OSC 52). */
void urlopen_job(struct app *a, const struct job *j);

#endif
