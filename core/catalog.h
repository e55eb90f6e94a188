/* catalog.h: the price catalog (catalog/gpu-prices.csv: what a cloud instance costs per hour),
 * lookups in it, on-prem site rates, and the choice between live, catalog and site prices.
 * The catalog is RFC 4180 CSV with the header
 *   provider,region,instance_type,gpu_name,gpu_count,vcpus,memory_gib,
 *   ondemand_usd_per_hour,spot_usd_per_hour
 * A malformed row is skipped with a warning "FILE:LINE: reason"; only an unreadable file or a
 * wrong header fails the load. Prices are USD per hour for the whole instance. */
#ifndef GANTRY_CATALOG_H
#define GANTRY_CATALOG_H

#include <stddef.h>

/* The exact header line a catalog must start with. */
#define CATALOG_HEADER                                                                             \
	"provider,region,instance_type,gpu_name,gpu_count,vcpus,memory_gib,"                       \
	"ondemand_usd_per_hour,spot_usd_per_hour"

/* File name of the built-in catalog under the data directory. */
#define CATALOG_FILE "catalog/gpu-prices.csv"

struct catalog_row {
	char *provider;      /* "lambda" */
	char *region;        /* "us-east-1"; may be "" */
	char *instance_type; /* "gpu_8x_h100_sxm5" */
	char *gpu_name;      /* "H100"; "" for a CPU-only instance */
	int gpu_count;       /* 0 for a CPU-only instance */
	double vcpus;        /* -1 = not given */
	double memory_gib;   /* -1 = not given */
	double ondemand;     /* USD per hour, >= 0 */
	double spot;         /* USD per hour; < 0 = no spot price */
	int line;            /* line of the file the row starts on */
};

struct catalog {
	char *path; /* the name used in warnings */
	struct catalog_row *rows;
	size_t nrows;
};

/* Receives one warning, "FILE:LINE: reason", for a skipped row. */
typedef void (*catalog_warn_fn)(void *arg, const char *msg);

/* Loads the catalog at path; malformed rows are skipped with a warning to warn (may be NULL).
 * Returns 0 and sets *out, or -1 with *cause ("FILE: reason" or "FILE:1: reason"). */
int catalog_load(const char *path, catalog_warn_fn warn, void *arg, struct catalog **out,
                 char **cause);
/* Same as catalog_load on text already in memory; name is used in warnings and causes. */
int catalog_parse(const char *name, const char *text, size_t len, catalog_warn_fn warn, void *arg,
                  struct catalog **out, char **cause);
/* Frees a catalog (NULL is fine). */
void catalog_free(struct catalog *c);
/* Path of the built-in catalog: DATA_DIR/catalog/gpu-prices.csv (pass config's data_dir); with
 * data_dir NULL, $GANTRY_DATADIR when set, else the installed package data directory.
 * Caller frees. */
char *catalog_default_path(const char *data_dir);

enum catalog_market {
	CATALOG_ONDEMAND,
	CATALOG_SPOT,
};

struct catalog_query {
	const char *provider;  /* NULL or "" = any provider */
	const char *gpu_name;  /* exact, case-insensitive ("A100" never matches "A100-80GB");
	                          NULL or "" = CPU-only instances */
	int gpu_count;         /* exact number of GPUs (ignored for CPU-only) */
	const char *region;    /* NULL or "" = any region; else exact, case-insensitive */
	double min_vcpus;      /* 0 = any */
	double min_memory_gib; /* 0 = any */
	enum catalog_market market;
};

/* The cheapest row matching q (ties: provider, region, instance type in byte order), or NULL.
 * *usd_per_hour (may be NULL) gets the row's on-demand or spot price; rows without a spot
 * price never match a spot query. */
const struct catalog_row *catalog_lookup(const struct catalog *c, const struct catalog_query *q,
                                         double *usd_per_hour);

/* Site rates for on-prem capacity (from config). */
struct catalog_site_gpu_rate {
	const char *gpu_type; /* "H100", or "*" for any type not listed */
	double usd_per_gpu_hour;
};
struct catalog_site_rates {
	const struct catalog_site_gpu_rate *gpu; /* per GPU type */
	size_t ngpu;
	int has_cpu_rate; /* 0 = no per-CPU-hour rate configured */
	double usd_per_cpu_hour;
};

/* Price per hour of gpus GPUs of gpu_type plus cpus CPUs at the site's rates:
 * gpus x rate(gpu_type) + cpus x cpu rate. Returns 0 with *usd_per_hour, or -1 = unpriced:
 * GPUs of a type with no rate (and no "*" rate), or nothing priced at all (no GPUs and no CPU
 * rate). A GPU job at a site with no CPU rate is priced on its GPUs only. */
int catalog_site_price(const struct catalog_site_rates *r, const char *gpu_type, int gpus,
                       double cpus, double *usd_per_hour);

/* Where a job's price came from. */
enum catalog_source {
	CATALOG_SRC_NONE, /* unpriced */
	CATALOG_SRC_LIVE, /* the provider's live price */
	CATALOG_SRC_CATALOG,
	CATALOG_SRC_SITE, /* site rates for on-prem capacity */
};

/* Picks the price by precedence: live, else catalog, else site; a candidate counts when its
 * has_ flag is set and its value is finite and >= 0. Sets *usd_per_hour (0 when none) and
 * returns the source used (CATALOG_SRC_NONE = unpriced, never $0). */
enum catalog_source catalog_price_pick(int has_live, double live, int has_catalog, double catalog,
                                       int has_site, double site, double *usd_per_hour);
/* "live", "catalog", "site" or "unpriced". */
const char *catalog_source_name(enum catalog_source s);

#endif
