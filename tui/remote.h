/* remote.h: the TUI's actions on a job's worker: shell, port forward, and the Job view's
 * Workers section (tui/remote.c). */
#ifndef GANTRY_TUI_REMOTE_H
#define GANTRY_TUI_REMOTE_H

#include "tui/view.h"

/* Gives the terminal to `gantry ssh JOB` and takes it back intact. */
void remote_shell(struct app *a, const struct job *j);
/* Forwards the job's port to 127.0.0.1 and shows the URL (asks about unknown host keys). */
void remote_forward(struct app *a, const struct job *j);
/* Draws the job's workers (health, GPUs) and forwards in rows y..y+maxh-1; rows used. */
int remote_draw_job(struct app *a, int y, int maxh, const struct job *j);
/* Forwards open in this process. */
int remote_forward_count(struct app *a);

#endif
