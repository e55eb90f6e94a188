/* cost_idle.c: idle intervals from telemetry samples, the autostop decision and its saving. */
#include <stdlib.h>
#include <string.h>

#include "core/cost.h"
#include "core/cost_internal.h"
#include "core/xmalloc.h"

#define COST_DEFAULT_GAP_MS (3 * 60 * 1000)

struct cost_sample cost_sample_make(int64_t at_ms, const double *util, const int *ok, size_t n)
{
	struct cost_sample s = {.at_ms = at_ms, .max_util_pct = 0, .ok = n > 0};
	size_t i;

	for (i = 0; i < n; i++) {
		if (!ok[i])
			s.ok = 0;
		else if (util[i] > s.max_util_pct)
			s.max_util_pct = util[i];
	}
	return s;
}

static int cost_sample_idle(const struct cost_sample *s, double below_pct)
{
	return s->ok && s->max_util_pct < below_pct;
}

/* Whether b follows a closely enough for the span between them to be known. */
static int cost_sample_near(const struct cost_sample *a, const struct cost_sample *b,
                            int64_t max_gap_ms)
{
	int64_t gap = b->at_ms - a->at_ms;

	return gap >= 0 && (max_gap_ms <= 0 || gap <= max_gap_ms);
}

void cost_idle_intervals(const struct cost_sample *s, size_t n, double below_pct,
                         int64_t max_gap_ms, struct cost_interval **out, size_t *nout)
{
	struct cost_interval *iv = NULL;
	size_t i, k = 0, cap = 0;

	for (i = 1; i < n; i++) {
		if (!cost_sample_idle(&s[i - 1], below_pct) ||
		    !cost_sample_idle(&s[i], below_pct) ||
		    !cost_sample_near(&s[i - 1], &s[i], max_gap_ms) || s[i].at_ms == s[i - 1].at_ms)
			continue;
		if (k > 0 && iv[k - 1].end_ms == s[i - 1].at_ms) {
			iv[k - 1].end_ms = s[i].at_ms;
			continue;
		}
		if (k == cap) {
			cap = cap ? cap * 2 : 8;
			iv = xreallocarray(iv, cap, sizeof *iv);
		}
		iv[k].start_ms = s[i - 1].at_ms;
		iv[k].end_ms = s[i].at_ms;
		k++;
	}
	*out = iv;
	*nout = k;
}

static int64_t cost_later(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

void cost_autostop_decide(const struct cost_autostop *a, const struct cost_autostop_input *in,
                          struct cost_autostop_result *r)
{
	int64_t gap = a->max_gap_ms > 0 ? a->max_gap_ms : COST_DEFAULT_GAP_MS;
	int64_t since, limit = (int64_t)a->idle_minutes * 60000, now = in->now_ms;
	const struct cost_sample *last;
	char when[32], d1[32], d2[32];
	size_t i;

	memset(r, 0, sizeof *r);
	if (a->idle_minutes <= 0) {
		r->reason = xstrdup("autostop is off");
		return;
	}
	if (in->ssh_open) {
		r->reason = xstrdup("not idle: an SSH session is open");
		return;
	}
	if (in->notebook && in->kernel_busy) {
		r->reason = xstrdup("not idle: a notebook kernel is busy");
		return;
	}
	if (in->nsamples == 0) {
		r->reason = xstrdup("not idle: no GPU samples");
		return;
	}
	last = &in->samples[in->nsamples - 1];
	if (!(now - last->at_ms <= gap)) {
		cost_duration(now - last->at_ms, d1);
		r->reason = xprintf("not idle: no recent GPU sample (the last is %s old)", d1);
		return;
	}
	if (!last->ok) {
		r->reason = xstrdup("not idle: GPU utilisation unknown");
		return;
	}
	if (!cost_sample_idle(last, a->gpu_util_below)) {
		r->reason = xprintf("not idle: GPU utilisation %.0f%% (idle below %g%%)",
		                    last->max_util_pct, a->gpu_util_below);
		return;
	}
	i = in->nsamples - 1;
	while (i > 0 && cost_sample_idle(&in->samples[i - 1], a->gpu_util_below) &&
	       cost_sample_near(&in->samples[i - 1], &in->samples[i], gap))
		i--;
	since = in->samples[i].at_ms;
	since = cost_later(since, in->ssh_closed_ms);
	if (in->notebook)
		since = cost_later(since, in->kernel_activity_ms);
	if (since > now)
		since = now;
	r->idle_since_ms = since;
	r->act = now - since >= limit;
	cost_iso8601(since, when);
	cost_duration(now - since, d1);
	cost_duration(limit, d2);
	if (r->act)
		r->reason = xprintf(
		    "idle for %s since %s (autostop after %s): every GPU below %g%%, "
		    "no SSH session%s",
		    d1, when, d2, a->gpu_util_below, in->notebook ? ", notebook kernels idle" : "");
	else
		r->reason = xprintf(
		    "idle for %s of %s since %s: every GPU below %g%%, no SSH session%s", d1, d2,
		    when, a->gpu_util_below, in->notebook ? ", notebook kernels idle" : "");
}

void cost_autostop_result_clear(struct cost_autostop_result *r)
{
	free(r->reason);
	r->reason = NULL;
}

double cost_autostop_saving(double usd_per_hour, int64_t started_ms, int64_t max_runtime_ms,
                            int64_t now)
{
	int64_t left;

	if (!(usd_per_hour > 0))
		return 0;
	if (max_runtime_ms <= 0)
		return usd_per_hour;
	left = started_ms + max_runtime_ms - now;
	return left > 0 ? cost_usd(usd_per_hour, left) : 0;
}
