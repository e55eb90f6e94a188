/* cost_focus.c: usage export as CSV with FinOps FOCUS 1.0 column names.
 * Each row is one job's usage in one billing period (a UTC calendar month). The charge period is
 * the part of that month, within the export window, from the first to the last moment the job
 * held resources; end dates are exclusive, as FOCUS wants. Gantry knows list prices only, so
 * BilledCost = EffectiveCost = ListCost = ListUnitPrice x PricingQuantity, where the quantity is
 * the billed hours (after the provider's granularity). Custom columns carry the x_ prefix:
 * x_IdleCost (cost accrued while every GPU sat idle) and x_Stale (rate is a last known one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cost.h"
#include "core/cost_internal.h"
#include "core/xmalloc.h"

const char cost_focus_header[] =
    "BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,BillingCurrency,"
    "BilledCost,EffectiveCost,ListCost,ListUnitPrice,PricingQuantity,PricingUnit,ChargeCategory,"
    "ChargeDescription,ResourceId,ResourceName,ResourceType,ServiceName,ServiceCategory,"
    "ProviderName,PublisherName,InvoiceIssuerName,RegionId,RegionName,Tags,x_IdleCost,x_Stale";

/* A growing string. */
struct cost_buf {
	char *s;
	size_t len, cap;
};

static void cost_buf_add(struct cost_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void cost_buf_str(struct cost_buf *b, const char *s)
{
	cost_buf_add(b, s, strlen(s));
}

/* Appends s as one CSV field (RFC 4180: quoted when it holds a comma, quote or line break). */
static void cost_csv_field(struct cost_buf *b, const char *s, int last)
{
	const char *p;

	if (s == NULL)
		s = "";
	if (strpbrk(s, ",\"\r\n") == NULL) {
		cost_buf_str(b, s);
	} else {
		cost_buf_add(b, "\"", 1);
		for (p = s; *p != '\0'; p++) {
			if (*p == '"')
				cost_buf_add(b, "\"", 1);
			cost_buf_add(b, p, 1);
		}
		cost_buf_add(b, "\"", 1);
	}
	cost_buf_add(b, last ? "\n" : ",", 1);
}

static void cost_csv_num(struct cost_buf *b, double v)
{
	char num[64];

	snprintf(num, sizeof num, "%.6f", v);
	cost_csv_field(b, num, 0);
}

static void cost_csv_time(struct cost_buf *b, int64_t t)
{
	char when[32];

	cost_iso8601(t, when);
	cost_csv_field(b, when, 0);
}

/* Appends s as a JSON string. */
static void cost_json_str(struct cost_buf *b, const char *s)
{
	char esc[8];

	cost_buf_add(b, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			cost_buf_add(b, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			cost_buf_add(b, esc, 6);
		} else {
			cost_buf_add(b, s, 1);
		}
	}
	cost_buf_add(b, "\"", 1);
}

/* Tags: a JSON object of the job's user, team, project and template (those that are set). */
static char *cost_focus_tags(const struct cost_job *j)
{
	const char *keys[] = {"user", "team", "project", "template"};
	const char *vals[] = {j->user, j->team, j->project, j->template_name};
	struct cost_buf b = {0};
	size_t i;
	int first = 1;

	cost_buf_str(&b, "{");
	for (i = 0; i < 4; i++) {
		if (vals[i] == NULL || vals[i][0] == '\0')
			continue;
		if (!first)
			cost_buf_str(&b, ",");
		first = 0;
		cost_json_str(&b, keys[i]);
		cost_buf_str(&b, ":");
		cost_json_str(&b, vals[i]);
	}
	cost_buf_str(&b, "}");
	return b.s;
}

static void cost_focus_row(struct cost_buf *b, const struct cost_job *j,
                           const struct cost_merged *held, int64_t bstart, int64_t bend, int64_t ws,
                           int64_t we)
{
	int64_t cs = we, ce = ws, billed, idle_ms = 0;
	struct cost_merged idle;
	char *tags, *desc, *service;
	const char *provider = j->provider ? j->provider : "";
	size_t i;

	for (i = 0; i < held->n; i++) { /* first and last held moment inside the window */
		if (held->iv[i].end_ms <= ws || held->iv[i].start_ms >= we)
			continue;
		if (held->iv[i].start_ms < cs)
			cs = held->iv[i].start_ms > ws ? held->iv[i].start_ms : ws;
		if (held->iv[i].end_ms > ce)
			ce = held->iv[i].end_ms < we ? held->iv[i].end_ms : we;
	}
	billed = cost_billed_ms(held->iv, held->n, &j->billing, we) -
	         cost_billed_ms(held->iv, held->n, &j->billing, ws);
	if (j->idle != NULL && j->nidle > 0) {
		cost_merged_init(&idle, j->idle, j->nidle);
		idle_ms = cost_intersect_ms(held->iv, held->n, idle.iv, idle.n, ws, we);
		cost_merged_clear(&idle);
	}
	cost_csv_time(b, bstart);
	cost_csv_time(b, bend);
	cost_csv_time(b, cs);
	cost_csv_time(b, ce + 999 - (ce + 999) % 1000); /* exclusive end: whole second after */
	cost_csv_field(b, "USD", 0);
	cost_csv_num(b, cost_usd(j->usd_per_hour, billed)); /* BilledCost */
	cost_csv_num(b, cost_usd(j->usd_per_hour, billed)); /* EffectiveCost */
	cost_csv_num(b, cost_usd(j->usd_per_hour, billed)); /* ListCost */
	cost_csv_num(b, j->usd_per_hour);                   /* ListUnitPrice */
	cost_csv_num(b, (double)billed / (double)COST_MS_PER_HOUR);
	cost_csv_field(b, "Hours", 0);
	cost_csv_field(b, "Usage", 0);
	desc = xprintf("%s %s: %s on %s", j->kind ? j->kind : "job", j->name ? j->name : "",
	               j->resource ? j->resource : "resources", provider[0] ? provider : "-");
	cost_csv_field(b, desc, 0);
	free(desc);
	cost_csv_field(b, j->id, 0);
	cost_csv_field(b, j->name, 0);
	cost_csv_field(b, j->kind ? j->kind : "job", 0);
	service = xprintf("Gantry %s", provider);
	cost_csv_field(b, service, 0);
	free(service);
	cost_csv_field(b, "AI and Machine Learning", 0);
	cost_csv_field(b, provider, 0); /* ProviderName */
	cost_csv_field(b, provider, 0); /* PublisherName */
	cost_csv_field(b, provider, 0); /* InvoiceIssuerName */
	cost_csv_field(b, j->region, 0);
	cost_csv_field(b, j->region, 0);
	tags = cost_focus_tags(j);
	cost_csv_field(b, tags, 0);
	free(tags);
	cost_csv_num(b, cost_usd(j->usd_per_hour, idle_ms));
	cost_csv_field(b, j->stale ? "true" : "false", 1);
}

int cost_focus_write(FILE *f, const struct cost_job *jobs, size_t n, int64_t from, int64_t to,
                     int64_t now, size_t *nrows, size_t *nunpriced, char **cause)
{
	struct cost_buf b = {0};
	struct cost_merged held;
	int64_t end = to < now ? to : now, m, mend, ws, we;
	size_t i, rows = 0, unpriced = 0;
	int rc = 0;

	cost_buf_str(&b, cost_focus_header);
	cost_buf_str(&b, "\n");
	for (i = 0; i < n; i++) {
		const struct cost_job *j = &jobs[i];

		if (from >= end)
			continue;
		cost_merged_init(&held, j->held, j->nheld);
		if (!j->priced) {
			if (cost_overlap_ms(held.iv, held.n, from, end) > 0)
				unpriced++;
			cost_merged_clear(&held);
			continue;
		}
		for (m = cost_month_start(from); m < end; m = mend) {
			mend = cost_month_end(m);
			ws = m > from ? m : from;
			we = mend < end ? mend : end;
			if (cost_overlap_ms(held.iv, held.n, ws, we) <= 0)
				continue;
			cost_focus_row(&b, j, &held, m, mend, ws, we);
			rows++;
		}
		cost_merged_clear(&held);
		if (b.len >= 1 << 20) { /* write out in chunks */
			if (fwrite(b.s, 1, b.len, f) != b.len) {
				rc = -1;
				break;
			}
			b.len = 0;
		}
	}
	if (rc == 0 && b.len > 0 && fwrite(b.s, 1, b.len, f) != b.len)
		rc = -1;
	if (rc == 0 && fflush(f) != 0)
		rc = -1;
	free(b.s);
	if (nrows != NULL)
		*nrows = rows;
	if (nunpriced != NULL)
		*nunpriced = unpriced;
	if (rc != 0)
		return xcause(cause, "writing the FOCUS file: %s", strerror(errno ? errno : EIO));
	return 0;
}
