/* cost_view.c: totals over many jobs: summary, breakdowns, top idle wasters, the Cost view. */
#include <stdlib.h>
#include <string.h>

#include "core/cost.h"
#include "core/cost_internal.h"
#include "core/xmalloc.h"

static const char *const cost_group_names[] = {"user", "team", "template", "provider", "project"};

const char *cost_group_name(enum cost_group g)
{
	if ((unsigned)g < sizeof cost_group_names / sizeof cost_group_names[0])
		return cost_group_names[g];
	return "?";
}

int cost_group_parse(const char *s, enum cost_group *g)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof cost_group_names / sizeof cost_group_names[0]; i++) {
		if (strcmp(s, cost_group_names[i]) == 0) {
			*g = (enum cost_group)i;
			return 0;
		}
	}
	return -1;
}

static const char *cost_group_key(const struct cost_job *j, enum cost_group g)
{
	const char *k = NULL;

	switch (g) {
	case COST_BY_USER:
		k = j->user;
		break;
	case COST_BY_TEAM:
		k = j->team;
		break;
	case COST_BY_TEMPLATE:
		k = j->template_name;
		break;
	case COST_BY_PROVIDER:
		k = j->provider;
		break;
	case COST_BY_PROJECT:
		k = j->project;
		break;
	}
	return k != NULL && *k != '\0' ? k : "-";
}

/* Whether a job counts in a window: it held resources in it, or holds them now. */
static int cost_fig_active(const struct cost_fig *f)
{
	return f->held_ms > 0 || f->holding;
}

static void cost_summary_from(const struct cost_job *jobs, const struct cost_fig *figs, size_t n,
                              int64_t now, struct cost_summary *s)
{
	size_t i, cap = 0;

	memset(s, 0, sizeof *s);
	s->month_start_ms = cost_month_start(now);
	s->month_end_ms = cost_month_end(now);
	s->njobs = n;
	for (i = 0; i < n; i++) {
		const struct cost_fig *f = &figs[i];

		if (f->holding)
			s->nholding++;
		if (!jobs[i].priced) {
			if (s->nunpriced == cap) {
				cap = cap ? cap * 2 : 16;
				s->unpriced = xreallocarray(s->unpriced, cap, sizeof *s->unpriced);
			}
			s->unpriced[s->nunpriced++] = i;
			continue;
		}
		s->npriced++;
		s->burn_usd_per_hour += f->burn;
		s->to_date += f->to_date;
		s->month_to_date += f->window;
		s->idle_month_to_date += f->idle;
		if (jobs[i].stale)
			s->nstale++;
	}
	s->stale = s->nstale > 0;
	/* each job until the month ends or its max_runtime stops it */
	s->forecast = s->month_to_date;
	for (i = 0; i < n; i++)
		s->forecast += cost_job_forecast_rest(&jobs[i], now);
}

void cost_summarize(const struct cost_job *jobs, size_t n, int64_t now, struct cost_summary *s)
{
	struct cost_fig *figs = xreallocarray(NULL, n ? n : 1, sizeof *figs);
	int64_t from = cost_month_start(now);
	size_t i;

	for (i = 0; i < n; i++)
		cost_job_figures(&jobs[i], from, now, &figs[i]);
	cost_summary_from(jobs, figs, n, now, s);
	free(figs);
}

void cost_summary_clear(struct cost_summary *s)
{
	free(s->unpriced);
	s->unpriced = NULL;
	s->nunpriced = 0;
}

/* Open-addressing table from group name to row index. */
struct cost_table {
	const char **keys;
	size_t *idx;
	size_t cap;
};

static uint64_t cost_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

static int cost_row_cmp(const void *pa, const void *pb)
{
	const struct cost_row *a = pa, *b = pb;

	if (a->cost != b->cost)
		return a->cost < b->cost ? 1 : -1;
	if (a->burn_usd_per_hour != b->burn_usd_per_hour)
		return a->burn_usd_per_hour < b->burn_usd_per_hour ? 1 : -1;
	return strcmp(a->name, b->name);
}

static void cost_group_rows(const struct cost_job *jobs, const struct cost_fig *figs, size_t n,
                            enum cost_group g, struct cost_row **rows, size_t *nrows)
{
	struct cost_table t;
	struct cost_row *out = NULL, *r;
	size_t i, slot, nout = 0, capout = 0;
	const char *key;

	t.cap = 64;
	while (t.cap < 2 * n)
		t.cap *= 2;
	t.keys = xcalloc(t.cap, sizeof *t.keys);
	t.idx = xreallocarray(NULL, t.cap, sizeof *t.idx);
	for (i = 0; i < n; i++) {
		const struct cost_fig *f = &figs[i];

		if (!cost_fig_active(f))
			continue;
		key = cost_group_key(&jobs[i], g);
		slot = (size_t)cost_hash(key) & (t.cap - 1);
		while (t.keys[slot] != NULL && strcmp(t.keys[slot], key) != 0)
			slot = (slot + 1) & (t.cap - 1);
		if (t.keys[slot] == NULL) {
			if (nout == capout) {
				capout = capout ? capout * 2 : 16;
				out = xreallocarray(out, capout, sizeof *out);
			}
			memset(&out[nout], 0, sizeof out[nout]);
			out[nout].name = key;
			t.keys[slot] = key;
			t.idx[slot] = nout++;
		}
		r = &out[t.idx[slot]];
		r->njobs++;
		if (!jobs[i].priced) {
			r->nunpriced++;
			continue;
		}
		r->cost += f->window;
		r->burn_usd_per_hour += f->burn;
		r->idle_cost += f->idle;
		if (jobs[i].stale)
			r->nstale++;
	}
	free(t.keys);
	free(t.idx);
	if (nout > 1)
		qsort(out, nout, sizeof *out, cost_row_cmp);
	*rows = out;
	*nrows = nout;
}

void cost_breakdown(const struct cost_job *jobs, size_t n, enum cost_group g, int64_t from,
                    int64_t now, struct cost_row **rows, size_t *nrows)
{
	struct cost_fig *figs = xreallocarray(NULL, n ? n : 1, sizeof *figs);
	size_t i;

	for (i = 0; i < n; i++)
		cost_job_figures(&jobs[i], from, now, &figs[i]);
	cost_group_rows(jobs, figs, n, g, rows, nrows);
	free(figs);
}

static size_t cost_top_from(const struct cost_job *jobs, const struct cost_fig *figs, size_t n,
                            size_t k, struct cost_idler *out)
{
	size_t i, m, have = 0;

	for (i = 0; i < n && k > 0; i++) {
		if (!jobs[i].priced || !(figs[i].idle > 0))
			continue;
		if (have == k && figs[i].idle <= out[k - 1].idle_cost)
			continue; /* equal cost: the lower index, already in, wins */
		m = have < k ? have++ : k - 1;
		while (m > 0 && out[m - 1].idle_cost < figs[i].idle) {
			out[m] = out[m - 1];
			m--;
		}
		out[m].job = i;
		out[m].idle_cost = figs[i].idle;
		out[m].idle_ms = figs[i].idle_ms;
	}
	return have;
}

size_t cost_top_idle(const struct cost_job *jobs, size_t n, int64_t from, int64_t now, size_t k,
                     struct cost_idler *out)
{
	struct cost_fig *figs = xreallocarray(NULL, n ? n : 1, sizeof *figs);
	size_t i, r;

	for (i = 0; i < n; i++)
		cost_job_figures(&jobs[i], from, now, &figs[i]);
	r = cost_top_from(jobs, figs, n, k, out);
	free(figs);
	return r;
}

void cost_view_compute(const struct cost_job *jobs, size_t n, int64_t now, struct cost_view *v)
{
	struct cost_fig *figs = xreallocarray(NULL, n ? n : 1, sizeof *figs);
	int64_t from = cost_month_start(now);
	size_t i;

	memset(v, 0, sizeof *v);
	for (i = 0; i < n; i++)
		cost_job_figures(&jobs[i], from, now, &figs[i]);
	cost_summary_from(jobs, figs, n, now, &v->sum);
	for (i = 0; i < 4; i++)
		cost_group_rows(jobs, figs, n, (enum cost_group)i, &v->by[i], &v->nby[i]);
	v->ntop_idle = cost_top_from(jobs, figs, n, COST_VIEW_TOP_IDLE, v->top_idle);
	free(figs);
}

void cost_view_clear(struct cost_view *v)
{
	size_t i;

	cost_summary_clear(&v->sum);
	for (i = 0; i < 4; i++) {
		free(v->by[i]);
		v->by[i] = NULL;
		v->nby[i] = 0;
	}
}
