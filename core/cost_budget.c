/* cost_budget.c: monthly budgets per user, team and project: soft and hard thresholds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cost.h"
#include "core/cost_internal.h"
#include "core/xmalloc.h"

void cost_budget_defaults(struct cost_budget *b)
{
	b->soft_fraction = 0.8;
	b->hard_fraction = 1.0;
	b->on_hard = COST_HARD_REFUSE;
	b->grace_s = 600;
}

const char *cost_scope_name(enum cost_scope s)
{
	switch (s) {
	case COST_SCOPE_USER:
		return "user";
	case COST_SCOPE_TEAM:
		return "team";
	case COST_SCOPE_PROJECT:
		return "project";
	}
	return "?";
}

/* value reaches limit: >= with a relative tolerance, so 1000 x 0.8 reaches 800.00 however the
 * product rounds. */
static int cost_reaches(double value, double limit)
{
	return value >= limit - 1e-9 * (fabs(limit) > 1 ? fabs(limit) : 1);
}

void cost_budget_check(const struct cost_budget *b, double spent_mtd, double burn_usd_per_hour,
                       const struct cost_launch *launch, struct cost_budget_result *r)
{
	double soft = b->monthly_usd * b->soft_fraction, hard = b->monthly_usd * b->hard_fraction;
	char spent[32], monthly[32], limit[32], add[32], rate[32], dur[32];
	char *head, *mid = NULL, *tail = NULL;
	int64_t runtime;

	memset(r, 0, sizeof *r);
	r->spent = spent_mtd;
	if (launch != NULL && launch->priced) {
		runtime = launch->runtime_ms > 0 ? launch->runtime_ms : COST_MS_PER_HOUR;
		r->launch_usd = cost_usd(launch->usd_per_hour, runtime);
	}
	r->projected = spent_mtd + r->launch_usd;
	if (b->monthly_usd > 0)
		r->used_fraction = spent_mtd / b->monthly_usd;
	else
		r->used_fraction = spent_mtd > 0 ? 1 : 0;
	if (cost_reaches(spent_mtd, hard))
		r->hours_to_hard = 0;
	else if (burn_usd_per_hour > 0)
		r->hours_to_hard = (hard - spent_mtd) / burn_usd_per_hour;
	else
		r->hours_to_hard = -1;
	if (cost_reaches(r->projected, hard))
		r->verdict = COST_HARD;
	else if (cost_reaches(r->projected, soft))
		r->verdict = COST_SOFT;
	else
		r->verdict = COST_OK;

	cost_money(spent_mtd, spent);
	cost_money(b->monthly_usd, monthly);
	if (b->monthly_usd > 0)
		head = xprintf("%s %s: %s of %s this month (%.0f%%)", cost_scope_name(b->scope),
		               b->name ? b->name : "-", spent, monthly,
		               floor(spent_mtd / b->monthly_usd * 100 + 1e-9));
	else
		head = xprintf("%s %s: %s of %s this month", cost_scope_name(b->scope),
		               b->name ? b->name : "-", spent, monthly);
	if (launch != NULL && !launch->priced) {
		mid = xprintf("; this launch%s%s is unpriced (its cost cannot be counted)",
		              launch->what ? " of " : "", launch->what ? launch->what : "");
	} else if (launch != NULL) {
		cost_money(r->launch_usd, add);
		cost_money(launch->usd_per_hour, rate);
		cost_duration(launch->runtime_ms > 0 ? launch->runtime_ms : COST_MS_PER_HOUR, dur);
		mid = xprintf("; this launch adds up to %s (%s%sfor %s at %s/h%s)", add,
		              launch->what ? launch->what : "", launch->what ? " " : "", dur, rate,
		              launch->runtime_ms > 0 ? "" : ", no max_runtime: 1h counted");
	}
	if (r->verdict != COST_OK) {
		cost_money(r->verdict == COST_HARD ? hard : soft, limit);
		tail = xprintf("; reaches the %s limit of %s",
		               r->verdict == COST_HARD ? "hard" : "soft", limit);
	}
	r->reason = xprintf("%s%s%s", head, mid ? mid : "", tail ? tail : "");
	free(head);
	free(mid);
	free(tail);
}

void cost_budget_result_clear(struct cost_budget_result *r)
{
	free(r->reason);
	r->reason = NULL;
}

int cost_budget_stop_due(const struct cost_budget *b, int64_t hard_since_ms, int64_t now)
{
	if (b->on_hard != COST_HARD_STOP || hard_since_ms <= 0)
		return 0;
	return now - hard_since_ms >= b->grace_s * 1000;
}

int cost_budget_outlook(const struct cost_budget *b, double spent, double burn, int64_t now,
                        int compact, char *buf, size_t size)
{
	double hard = b->monthly_usd * b->hard_fraction;
	double forecast = cost_forecast(spent, burn, now);
	char f[32], limit[32], when[40];
	int64_t at;
	time_t secs;
	struct tm tm;

	cost_money(forecast, f);
	cost_money(hard, limit);
	if (cost_reaches(spent, hard)) {
		if (compact)
			snprintf(buf, size, "over %s", limit);
		else
			snprintf(buf, size, "forecast %s by month end; over the hard limit of %s",
			         f, limit);
		return 1;
	}
	if (!(burn > 0) || !cost_reaches(forecast, hard)) {
		snprintf(buf, size, compact ? "forecast %s" : "forecast %s by month end", f);
		return 0;
	}
	at = now + (int64_t)ceil((hard - spent) / burn * (double)COST_MS_PER_HOUR);
	secs = (time_t)(at / 1000);
	if (gmtime_r(&secs, &tm) == NULL ||
	    strftime(when, sizeof when, compact ? "%m-%d %H:%M" : "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(when, sizeof when, "?");
	if (compact)
		snprintf(buf, size, "reaches %s ~%s", limit, when);
	else
		snprintf(buf, size,
		         "forecast %s by month end; reaches the hard limit of %s around %s", f,
		         limit, when);
	return 1;
}
