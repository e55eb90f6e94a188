/* offers.h: the optimizer's data. An offer is one way a template could run: a provider
 * instance, a region, an instance type with its GPUs, CPUs and memory, a market (on-demand or
 * spot), a price with its source, a billing unit and an availability. Providers fill offer
 * lists (provider_ops.offers); the optimizer (offers_rank) filters them by the template's
 * placement, GPU alternatives, spot preference, limits.max_hourly_cost and the budget left,
 * ranks what remains by price, and keeps every dropped offer with the reason it was dropped.
 * Pure data and functions: no I/O, no loop, no store. */
#ifndef GANTRY_OFFERS_H
#define GANTRY_OFFERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/catalog.h"

struct template;

enum offer_market {
	OFFER_ONDEMAND,
	OFFER_SPOT,
};

enum offer_billing {
	OFFER_BILL_SECOND, /* billed by the second (local, ssh site rates, most clouds) */
	OFFER_BILL_MINUTE,
	OFFER_BILL_HOUR,
};

enum offer_avail {
	OFFER_AVAIL_UNKNOWN, /* the provider cannot tell (it will try) */
	OFFER_AVAIL_YES,     /* capacity reported now */
	OFFER_AVAIL_NO,      /* no capacity now (dropped: "no capacity in REGION now") */
};

struct offer {
	char *provider;      /* provider instance name from config ("lambda", "local") */
	char *region;        /* "us-east-1"; "" where a provider has no regions */
	char *instance_type; /* "gpu_1x_a100_sxm4"; for local/ssh the host name or "" */
	char *gpu_type;      /* "A100"; "" = no GPU */
	int gpus;            /* per node */
	int cpus;            /* per node; 0 = unknown */
	int64_t memory_mib;  /* per node; 0 = unknown */
	enum offer_market market;
	int priced;                 /* 0 = unpriced (shown as "unpriced", never $0) */
	double usd_per_hour;        /* whole offer (all nodes), when priced */
	enum catalog_source source; /* live, catalog, site or none */
	enum offer_billing billing;
	enum offer_avail avail;
	char *description; /* one line for people, or NULL */
	/* Set by the provider when the offer cannot take the template at all (too few GPUs on
	 * any host), or by offers_rank when it drops the offer: one line, heap, else NULL. */
	char *dropped;
};

struct offer_list {
	struct offer *v;
	size_t n, cap;
};

void offer_clear(struct offer *o);
/* Appends a copy of *o (strings duplicated). */
void offer_list_add(struct offer_list *l, const struct offer *o);
/* Moves every offer of src to the end of dst and empties src. */
void offer_list_take(struct offer_list *dst, struct offer_list *src);
void offer_list_free(struct offer_list *l);

/* How a template would run on the chosen provider, as a plan and its faces show it (the
 * provider's verdict, or the best offer): fits or why not, and its price. */
struct offer_verdict {
	char *provider;    /* instance name */
	char *description; /* "this host: 2 CPUs, 23.4 GiB, no GPU" */
	int fits;          /* 1 = the template fits */
	char *reason;      /* why it does not fit, or NULL */
	int cpus;
	int64_t memory_mib;
	int gpus;
	char *gpu_name; /* or NULL */
	int priced;     /* 0 = unpriced (never shown as $0) */
	double price_per_hour;
};
void offer_verdict_clear(struct offer_verdict *o);
/* Copies o into dst (replacing what it held): fits unless o->dropped. */
void offer_verdict_from(struct offer_verdict *dst, const struct offer *o);

/* What the optimizer decides with, besides the template. */
struct offers_limits {
	int has_budget_left;    /* a hard budget applies */
	double budget_left_usd; /* what it leaves this month */
	long runtime_s;         /* expected runtime for the budget check (max_runtime); 0 = 1 h */
	const char *only_provider; /* a provider the user named (--provider), or NULL */
};

/* Filters and ranks in place: offers that fit come first, cheapest first (available before
 * unknown at the same price; then provider, region, instance type in byte
 * order, so the result is deterministic); every dropped offer keeps its reason in `dropped`
 * and moves after the ranked ones. Returns how many offers fit (the first n of l->v).
 * Reasons: "provider not in placement.providers", "region eu-west-1 not in
 * placement.regions" (globs, fnmatch), "GPU A10 is not one of H100, A100", "spot only", "no spot
 * wanted",
 * "$12.00/h is over limits.max_hourly_cost $10.00/h", "expected $24.00 is over the $10.00
 * budget left", "unpriced while limits.max_hourly_cost is set", "no capacity".
 * Also (core/offers.c): "not the provider asked for (P)" (only_provider), "2 H100 GPUs, needs
 * 8", "no GPU; needs one of H100, A100", "no capacity in REGION now". A provider's own
 * `dropped` is kept. resources.spot prefer ranks spot offers before on-demand ones; unpriced
 * offers that fit rank after every priced one. An offer without a region (local, ssh) is not
 * restricted by placement.regions. */
size_t offers_rank(struct offer_list *l, const struct template *t, const struct offers_limits *lim);

/* 1 when the template's accelerator name want names the GPU have: equal (case-insensitive),
 * "any", or one space-separated word of a long name ("H100" in "NVIDIA H100 80GB HBM3";
 * "A100" never matches "A100-80GB", as in the catalog). */
int offers_gpu_matches(const char *want, const char *have);

/* Where an offer's price may come from (core/offers_price.c). */
struct offers_price_src {
	int has_live; /* the provider's own price for the whole offer */
	double live_usd_per_hour;
	const struct catalog *catalog; /* NULL = none */
	const char *catalog_provider;  /* provider type as the catalog names it ("lambda") */
	const struct catalog_site_rates *site; /* NULL = no site rates */
	double site_cpus;                      /* CPUs the job takes, for a per-CPU site rate */
	int nodes;                             /* catalog and site prices are per node; 0 = 1 */
};
/* Prices o by precedence live, else catalog (catalog_lookup by provider type, o's GPU type
 * and count, region and market; the instance type's own row when the catalog has it), else
 * site rates, through catalog_price_pick; sets o->priced, o->usd_per_hour and o->source
 * (CATALOG_SRC_NONE and priced 0 when nothing prices it) and returns the source. */
enum catalog_source offers_price(struct offer *o, const struct offers_price_src *src);

/* "on-demand" / "spot"; "second" / "minute" / "hour"; "yes" / "no" / "unknown". */
const char *offer_market_name(enum offer_market m);
const char *offer_billing_name(enum offer_billing b);
const char *offer_avail_name(enum offer_avail a);

#endif
