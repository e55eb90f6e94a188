/* view_job_replicas.c: the Job view's replica gauge of an endpoint, e.g.
 *   Replicas  ▕██████      ▏ 2/4 ready (min 1, max 4)
 * (ready of desired, as the provider last reported them; the template's bounds from the
 * job's spec when it has them). */
#include <jansson.h>
#include <stdio.h>

#include "core/job.h"
#include "core/telemetry.h"
#include "tui/draw.h"
#include "tui/view.h"
#include "tui/widgets.h"

#define REPLICAS_BAR_COLS 14 /* the framed bar, like a GPU row's */

/* The template's replicas.min/max recorded in the job's spec at launch, or -1/-1. */
static void replicas_bounds(const struct job *j, int *min, int *max)
{
	json_t *o = j->spec_json != NULL ? json_loads(j->spec_json, 0, NULL) : NULL;
	json_t *lo = json_object_get(o, "replicas_min"), *hi = json_object_get(o, "replicas_max");

	*min = json_is_integer(lo) ? (int)json_integer_value(lo) : -1;
	*max = json_is_integer(hi) ? (int)json_integer_value(hi) : -1;
	json_decref(o);
}

int view_job_replicas_row(struct app *a, int y, int x, int w, const struct job *j)
{
	char bar[WIDGET_BUFSZ(REPLICAS_BAR_COLS)], v[96];
	int min, max, bw = REPLICAS_BAR_COLS, used;

	if (j->kind != JOB_KIND_ENDPOINT)
		return 0;
	draw_text(a, y, x, 10, "Replicas", THEME_LABEL, 0);
	if (!job_state_active(j->state) || j->desired_replicas <= 0) {
		draw_text(a, y, x + 10, w - 10,
		          job_state_active(j->state) ? "- (not reported yet)" : "-", THEME_DIM, 0);
		return 1;
	}
	if (w - 10 < bw + 12)
		bw = 0; /* too narrow: the numbers only */
	used = 0;
	if (bw > 0 && widget_bar(bar, sizeof bar, (struct tele_val){j->ready_replicas, 1},
	                         j->desired_replicas, bw, view_cost_glyphs(a), 1) >= 0)
		used = draw_text(a, y, x + 10, bw, bar,
		                 j->ready_replicas < j->desired_replicas ? THEME_DIM : THEME_NORMAL,
		                 0) +
		       1;
	replicas_bounds(j, &min, &max);
	if (min >= 0 && max > 0)
		snprintf(v, sizeof v, "%d/%d ready (min %d, max %d)", j->ready_replicas,
		         j->desired_replicas, min, max);
	else
		snprintf(v, sizeof v, "%d/%d ready", j->ready_replicas, j->desired_replicas);
	draw_text(a, y, x + 10 + used, w - 10 - used, v, THEME_NORMAL, 0);
	return 1;
}
