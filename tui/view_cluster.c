/* view_cluster.c: the Cluster view (C from the Jobs view, :cluster; issue 10): the cluster
 * behind one provider (Tab / Left / Right switch between the providers that have one): the
 * queue, the partitions with a GPU allocation bar, then the nodes, and how old the snapshot
 * is. The snapshot comes from the provider's cache (engine_cluster never waits); it is taken
 * again when the provider says it has news and at least once a second while shown. Remote
 * text (names, states, reasons, the error) is sanitised before it is drawn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/draw.h"
#include "tui/layout.h"
#include "tui/view.h"

#define CL_MARK      2
#define CL_GAP       2
#define CL_MAX_AGE   800 /* ms: taken again when older (each tick of the default 1 s) */
#define CL_PROV_MAX  32  /* providers with a cluster the tabs show */
#define CL_BAR_CELLS 16

enum cl_pcol {
	CL_P_NAME,
	CL_P_STATE,
	CL_P_NODES,
	CL_P_GPUS,
	CL_P_BAR,
	CL_P_CPUS,
	CL_P_RUN,
	CL_P_PEND,
	CL_P_TIME,
	CL_P_COUNT
};

enum cl_ncol {
	CL_N_NAME,
	CL_N_STATE,
	CL_N_PARTS,
	CL_N_GPUS,
	CL_N_BAR,
	CL_N_TYPE,
	CL_N_CPUS,
	CL_N_MEM,
	CL_N_REASON,
	CL_N_COUNT
};

struct cl_col {
	const char *title;
	struct layout_col col;
	int right;
};

static const struct cl_col cl_pcols[CL_P_COUNT] = {
    [CL_P_NAME] = {"PARTITION", {.min = 9, .want = 14, .grow = 1, .prio = 10}, 0},
    [CL_P_STATE] = {"STATE", {.min = 5, .want = 8, .grow = 0, .prio = 9}, 0},
    [CL_P_NODES] = {"NODES", {.min = 5, .want = 5, .grow = 0, .prio = 6}, 1},
    [CL_P_GPUS] = {"GPUS", {.min = 5, .want = 7, .grow = 0, .prio = 10}, 1},
    [CL_P_BAR] = {"ALLOC", {.min = 8, .want = CL_BAR_CELLS, .grow = 1, .prio = 7}, 0},
    [CL_P_CPUS] = {"CPUS", {.min = 5, .want = 9, .grow = 0, .prio = 4}, 1},
    [CL_P_RUN] = {"RUNNING", {.min = 7, .want = 7, .grow = 0, .prio = 8}, 1},
    [CL_P_PEND] = {"PENDING", {.min = 7, .want = 7, .grow = 0, .prio = 8}, 1},
    [CL_P_TIME] = {"MAXTIME", {.min = 9, .want = 9, .grow = 0, .prio = 3}, 1},
};

static const struct cl_col cl_ncols[CL_N_COUNT] = {
    [CL_N_NAME] = {"NODE", {.min = 8, .want = 14, .grow = 1, .prio = 10}, 0},
    [CL_N_STATE] = {"STATE", {.min = 11, .want = 11, .grow = 0, .prio = 9}, 0},
    [CL_N_PARTS] = {"PARTITIONS", {.min = 10, .want = 12, .grow = 1, .prio = 3}, 0},
    [CL_N_GPUS] = {"GPUS", {.min = 5, .want = 7, .grow = 0, .prio = 10}, 1},
    [CL_N_BAR] = {"", {.min = 6, .want = 10, .grow = 0, .prio = 2}, 0},
    [CL_N_TYPE] = {"TYPE", {.min = 4, .want = 7, .grow = 0, .prio = 6}, 0},
    [CL_N_CPUS] = {"CPUS", {.min = 5, .want = 9, .grow = 0, .prio = 4}, 1},
    [CL_N_MEM] = {"MEM", {.min = 4, .want = 6, .grow = 0, .prio = 5}, 1},
    [CL_N_REASON] = {"REASON", {.min = 6, .want = 20, .grow = 2, .prio = 7}, 0},
};

/* The providers with a cluster; *which clamped to them. Returns how many. */
static size_t cl_providers(struct app *a, const char **names)
{
	size_t n = engine_cluster_providers(a->e, names, CL_PROV_MAX);

	if (n > CL_PROV_MAX)
		n = CL_PROV_MAX;
	if (a->cluster.which >= (int)n || a->cluster.which < 0)
		a->cluster.which = 0;
	return n;
}

static void cl_forget(struct app *a)
{
	cluster_info_clear(&a->cluster.info);
	a->cluster.have = 0;
	free(a->cluster.error);
	a->cluster.error = NULL;
	a->cluster.at_ms = 0;
}

/* Takes the snapshot again when it is due. */
static void cl_sync(struct app *a)
{
	struct app_cluster *C = &a->cluster;
	const char *names[CL_PROV_MAX];
	size_t n = cl_providers(a, names);
	int64_t now = (int64_t)loop_now_ms();
	char *cause = NULL;

	if (C->at_ms != 0 && now - C->at_ms < CL_MAX_AGE)
		return;
	cl_forget(a);
	C->at_ms = now != 0 ? now : 1;
	if (engine_cluster(a->e, n > 0 ? names[C->which] : NULL, &C->info, &cause) != 0) {
		C->error = app_clean(a, cause != NULL ? cause : "no cluster");
		free(cause);
		return;
	}
	C->have = 1;
}

void view_cluster_open(struct app *a)
{
	if (a->stack[a->depth - 1] == APP_VIEW_CLUSTER)
		return;
	if (engine_cluster_providers(a->e, NULL, 0) == 0) {
		app_status(a, 1,
		           "no provider with a cluster view (configure an ssh or slurm provider; "
		           "see gantry(1))");
		return;
	}
	a->cluster.top = 0;
	a->cluster.at_ms = 0;
	app_push(a, APP_VIEW_CLUSTER);
}

void view_cluster_changed(struct app *a, const char *provider)
{
	struct app_cluster *C = &a->cluster;

	if (a->stack[a->depth - 1] != APP_VIEW_CLUSTER)
		return;
	if (provider == NULL || !C->have || C->info.provider == NULL ||
	    strcmp(provider, C->info.provider) == 0)
		C->at_ms = 0;
}

static void cl_leave(struct app *a)
{
	cl_forget(a);
}

static void cl_title(struct app *a, char *buf, size_t size)
{
	const struct app_cluster *C = &a->cluster;
	char *name;

	cl_sync(a);
	if (!C->have) {
		snprintf(buf, size, "Cluster");
		return;
	}
	name = app_clean(a, C->info.provider);
	if (C->info.as_of_ms > 0) {
		char age[16];

		layout_age(loop_wall_ms() - C->info.as_of_ms, age, sizeof age);
		snprintf(buf, size, "Cluster %s %s  %zu node%s  %s as of %s ago", a->g.sep, name,
		         C->info.nnodes, C->info.nnodes == 1 ? "" : "s", a->g.sep, age);
	} else {
		snprintf(buf, size, "Cluster %s %s  %s waiting for the first answer", a->g.sep,
		         name, a->g.sep);
	}
	free(name);
}

/* A rule with a title. */
static void cl_rule(struct app *a, int y, const char *title)
{
	int x;

	draw_hline(a, y, 0, 2, THEME_BORDER);
	x = 2 + draw_text(a, y, 2, a->cols - 4, title, THEME_TITLE, 0);
	draw_hline(a, y, x, a->cols - x, THEME_BORDER);
}

/* The provider tabs: "Providers  [fleet]  hpc   Tab". */
static void cl_draw_tabs(struct app *a, int y, const char *const *names, size_t n)
{
	int x = 2;

	draw_hline(a, y, 0, 2, THEME_BORDER);
	x += draw_text(a, y, x, 12, " Providers ", THEME_TITLE, 0);
	for (size_t i = 0; i < n && x < a->cols - 2; i++) {
		char *clean = app_clean(a, names[i]), t[128];

		if ((int)i == a->cluster.which)
			snprintf(t, sizeof t, "[%s]", clean);
		else
			snprintf(t, sizeof t, " %s ", clean);
		free(clean);
		x += draw_text(a, y, x, a->cols - x - 1, t,
		               (int)i == a->cluster.which ? THEME_FIELD_FOCUS : THEME_DIM, 0);
		x += draw_text(a, y, x, a->cols - x - 1, " ", THEME_NORMAL, 0);
	}
	x += draw_text(a, y, x, a->cols - x - 1, " Tab ", THEME_DIM, 0);
	if (x < a->cols)
		draw_hline(a, y, x, a->cols - x, THEME_BORDER);
}

/* The theme role of a node or partition state. */
static enum theme_role cl_state_role(const char *state)
{
	if (state == NULL)
		return THEME_DIM;
	if (strcmp(state, "idle") == 0 || strcmp(state, "up") == 0)
		return THEME_HEALTH_OK;
	if (strcmp(state, "mixed") == 0 || strcmp(state, "allocated") == 0)
		return THEME_NORMAL;
	if (strcmp(state, "unknown") == 0 || strcmp(state, "inactive") == 0)
		return THEME_DIM;
	return THEME_STATUS_ERROR; /* down, drained, drain, unreachable, ... */
}

/* "8G", "512M", "-" of a memory size in MiB. */
static void cl_mem(int64_t mib, char *buf, size_t size)
{
	if (mib <= 0)
		snprintf(buf, size, "-");
	else if (mib >= 1024)
		snprintf(buf, size, "%.0fG", (double)mib / 1024.0);
	else
		snprintf(buf, size, "%lldM", (long long)mib);
}

/* "2d", "4h", "30m", "unlimited" of a time limit in seconds. */
static void cl_limit(long s, char *buf, size_t size)
{
	if (s <= 0)
		snprintf(buf, size, "unlimited");
	else if (s >= 86400)
		snprintf(buf, size, "%ldd%s", s / 86400, s % 86400 != 0 ? "+" : "");
	else if (s >= 3600)
		snprintf(buf, size, "%ldh%s", s / 3600, s % 3600 != 0 ? "+" : "");
	else
		snprintf(buf, size, "%ldm", (s + 59) / 60);
}

/* A GPU allocation bar in w columns (n/a when there are no GPUs). */
static void cl_bar(struct app *a, int y, int x, int w, int alloc, int total)
{
	char bar[WIDGET_BUFSZ(64)];
	struct tele_val v = {(double)alloc, total > 0};

	if (w > 64)
		w = 64;
	if (total <= 0) {
		draw_text(a, y, x, w, "-", THEME_DIM, 0);
		return;
	}
	widget_bar(bar, sizeof bar, v, (double)total, w, view_cost_glyphs(a), 1);
	draw_text(a, y, x, w, bar,
	          alloc >= total ? THEME_STATE_ROLE(JOB_RECOVERING) : THEME_HEALTH_OK, 0);
}

/* Table header of cols into widths w. */
static void cl_header(struct app *a, int y, const struct cl_col *cols, const int *w, int n)
{
	int x = CL_MARK;

	draw_fill(a, y, 0, a->cols, THEME_TABLE_HEADER);
	for (int c = 0; c < n; c++) {
		if (w[c] == 0)
			continue;
		draw_text(a, y, x, w[c], cols[c].title, THEME_TABLE_HEADER,
		          cols[c].right ? DRAW_RIGHT : 0);
		x += w[c] + CL_GAP;
	}
}

/* Text (remote: sanitised here) in a cell. */
static void cl_cell(struct app *a, int y, int x, int w, const char *s, enum theme_role r, int right)
{
	char *clean = app_clean(a, s != NULL && s[0] != '\0' ? s : "-");

	draw_text(a, y, x, w, clean, r, right ? DRAW_RIGHT : 0);
	free(clean);
}

static void cl_draw_part(struct app *a, int y, const struct cluster_partition *p, const int *w)
{
	int x = CL_MARK;

	for (int c = 0; c < CL_P_COUNT; c++) {
		char t[256];
		enum theme_role r = THEME_NORMAL;

		if (w[c] == 0)
			continue;
		t[0] = '\0';
		switch (c) {
		case CL_P_NAME:
			snprintf(t, sizeof t, "%s%s", p->name != NULL ? p->name : "?",
			         p->is_default ? "*" : "");
			break;
		case CL_P_STATE:
			snprintf(t, sizeof t, "%s", p->state != NULL ? p->state : "");
			r = cl_state_role(p->state);
			break;
		case CL_P_NODES:
			snprintf(t, sizeof t, "%d", p->nodes);
			break;
		case CL_P_GPUS:
			snprintf(t, sizeof t, "%d/%d", p->gpus_alloc, p->gpus_total);
			break;
		case CL_P_BAR:
			cl_bar(a, y, x, w[c], p->gpus_alloc, p->gpus_total);
			x += w[c] + CL_GAP;
			continue;
		case CL_P_CPUS:
			snprintf(t, sizeof t, "%d/%d", p->cpus_alloc, p->cpus_total);
			break;
		case CL_P_RUN:
			snprintf(t, sizeof t, "%d", p->jobs_running);
			break;
		case CL_P_PEND:
			snprintf(t, sizeof t, "%d", p->jobs_pending);
			if (p->jobs_pending > 0)
				r = THEME_STATE_ROLE(JOB_RECOVERING);
			break;
		case CL_P_TIME:
			cl_limit(p->max_time_s, t, sizeof t);
			break;
		}
		cl_cell(a, y, x, w[c], t, r, cl_pcols[c].right);
		x += w[c] + CL_GAP;
	}
}

static void cl_draw_node(struct app *a, int y, const struct cluster_node *n, const int *w)
{
	int x = CL_MARK;

	for (int c = 0; c < CL_N_COUNT; c++) {
		char t[256];
		const char *s = t;
		enum theme_role r = THEME_NORMAL;

		if (w[c] == 0)
			continue;
		t[0] = '\0';
		switch (c) {
		case CL_N_NAME:
			s = n->name;
			break;
		case CL_N_STATE:
			s = n->state;
			r = cl_state_role(n->state);
			break;
		case CL_N_PARTS:
			s = n->partitions;
			break;
		case CL_N_GPUS:
			snprintf(t, sizeof t, "%d/%d", n->gpus_alloc, n->gpus_total);
			break;
		case CL_N_BAR:
			cl_bar(a, y, x, w[c], n->gpus_alloc, n->gpus_total);
			x += w[c] + CL_GAP;
			continue;
		case CL_N_TYPE:
			s = n->gpus_total > 0 ? n->gpu_type : "";
			break;
		case CL_N_CPUS:
			snprintf(t, sizeof t, "%d/%d", n->cpus_alloc, n->cpus_total);
			break;
		case CL_N_MEM:
			cl_mem(n->memory_mib, t, sizeof t);
			break;
		case CL_N_REASON:
			s = n->reason;
			r = THEME_DIM;
			break;
		}
		cl_cell(a, y, x, w[c], s, r, cl_ncols[c].right);
		x += w[c] + CL_GAP;
	}
}

static void cl_draw(struct app *a, int y, int h)
{
	struct app_cluster *C = &a->cluster;
	const struct cluster_info *ci = &C->info;
	const char *names[CL_PROV_MAX];
	size_t nprov = cl_providers(a, names);
	struct layout_col
	    cols[(int)CL_P_COUNT > (int)CL_N_COUNT ? (int)CL_P_COUNT : (int)CL_N_COUNT];
	int pw[CL_P_COUNT], nw[CL_N_COUNT], end = y + h, nparts, body;
	char line[512], t[64];

	cl_sync(a);
	if (nprov > 1 && y < end)
		cl_draw_tabs(a, y++, names, nprov);
	if (!C->have) {
		draw_text(a, y + 1, 2, a->cols - 4, C->error != NULL ? C->error : "no cluster",
		          THEME_STATUS_ERROR, 0);
		return;
	}
	/* the queue and the GPUs in one line */
	{
		int ga = 0, gt = 0;

		for (size_t i = 0; i < ci->nparts; i++) {
			ga += ci->parts[i].gpus_alloc;
			gt += ci->parts[i].gpus_total;
		}
		if (ci->nparts == 0)
			for (size_t i = 0; i < ci->nnodes; i++) {
				ga += ci->nodes[i].gpus_alloc;
				gt += ci->nodes[i].gpus_total;
			}
		snprintf(line, sizeof line,
		         "Queue  %d running, %d pending   %s   GPUs  %d/%d allocated",
		         ci->jobs_running, ci->jobs_pending, a->g.sep, ga, gt);
		draw_text(a, y++, 2, a->cols - 4, line, THEME_NORMAL, 0);
	}
	if (ci->error != NULL && y < end) {
		char *err = app_clean(a, ci->error);

		snprintf(line, sizeof line, "error: %s", err);
		free(err);
		draw_text(a, y++, 2, a->cols - 4, line, THEME_STATUS_ERROR, 0);
	}
	/* partitions: what the nodes leave, at least a third of the rows; a cut list says how
	 * many more there are */
	if (y + 2 < end) {
		int room = end - y - 3 - (int)ci->nnodes;

		if (room < (end - y) / 3)
			room = (end - y) / 3;
		nparts = (int)ci->nparts <= room - 2 ? (int)ci->nparts : room - 3;
		if (nparts < 1)
			nparts = ci->nparts > 0 ? 1 : 0;
		snprintf(t, sizeof t, " Partitions (%zu) ", ci->nparts);
		cl_rule(a, y++, t);
		for (int c = 0; c < CL_P_COUNT; c++)
			cols[c] = cl_pcols[c].col;
		layout_columns(cols, CL_P_COUNT, a->cols - CL_MARK - 1, CL_GAP, pw);
		cl_header(a, y++, cl_pcols, pw, CL_P_COUNT);
		for (int i = 0; i < nparts && y < end; i++)
			cl_draw_part(a, y++, &ci->parts[i], pw);
		if (nparts < (int)ci->nparts && y < end) {
			snprintf(line, sizeof line, "... %zu more (gantry cluster %s)",
			         ci->nparts - (size_t)nparts,
			         ci->provider != NULL ? ci->provider : "");
			cl_cell(a, y++, CL_MARK, a->cols - CL_MARK - 1, line, THEME_DIM, 0);
		}
	}
	if (y + 2 >= end)
		return;
	snprintf(t, sizeof t, " Nodes (%zu) ", ci->nnodes);
	cl_rule(a, y++, t);
	for (int c = 0; c < CL_N_COUNT; c++)
		cols[c] = cl_ncols[c].col;
	layout_columns(cols, CL_N_COUNT, a->cols - CL_MARK - 1, CL_GAP, nw);
	cl_header(a, y++, cl_ncols, nw, CL_N_COUNT);
	body = end - y;
	if (C->top > (int)ci->nnodes - body)
		C->top = (int)ci->nnodes - body > 0 ? (int)ci->nnodes - body : 0;
	if (C->top < 0)
		C->top = 0;
	if (ci->nnodes == 0)
		draw_text(a, y, 4, a->cols - 8, "no nodes", THEME_DIM, 0);
	for (int r = 0; r < body && C->top + r < (int)ci->nnodes; r++)
		cl_draw_node(a, y + r, &ci->nodes[C->top + r], nw);
}

static int cl_action(struct app *a, enum keymap_action act)
{
	struct app_cluster *C = &a->cluster;
	const char *names[CL_PROV_MAX];
	size_t n;

	if (app_scroll_act(a, act, &C->top))
		return 1;
	switch (act) {
	case KEYMAP_GROUP_NEXT:
	case KEYMAP_GROUP_PREV:
		n = cl_providers(a, names);
		if (n <= 1) {
			app_status(a, 0, "only one provider has a cluster view");
			return 1;
		}
		C->which = (C->which + (act == KEYMAP_GROUP_NEXT ? 1 : (int)n - 1)) % (int)n;
		C->top = 0;
		cl_forget(a);
		return 1;
	case KEYMAP_REFRESH:
		C->at_ms = 0;
		return 0; /* the app refreshes the providers too */
	default:
		return 0;
	}
}

const struct view_ops view_cluster_ops = {
    .name = "Cluster",
    .mask = KEYMAP_V_CLUSTER,
    .leave = cl_leave,
    .title = cl_title,
    .draw = cl_draw,
    .action = cl_action,
};
