/* offers_bench.c: the optimizer's share of the time to the Offers panel. Three providers have
 * answered with 10,000 offers together (lambda-like cloud offers in many regions, an aws-like
 * cloud with spot, an ssh fleet); measured is what runs once the answers are in: the three
 * lists merged into one (offer_list_take) and offers_rank with a template that has GPU
 * alternatives, placement.regions globs, a price cap and a budget. The reference, measured in
 * the same run over the same offers, is qsort of the offers by price alone (no filters, no
 * reasons). Both CPU time, median of RUNS runs, each on a fresh copy (the copy not timed).
 * The bench checks that the ranked list is sorted by price and fails otherwise.
 * usage: offers_bench [OFFERS]   (prints one markdown table row and the command) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/offers.h"
#include "core/template.h"
#include "core/xmalloc.h"

#define RUNS       21
#define MAX_OFFERS 10000000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13; /* xorshift64 */
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof *v, dbl_cmp);
	return v[n / 2];
}

static const char *const gpus[] = {"H100", "A100", "A10", "L4", "V100", ""};
static const char *const regions[] = {"us-east-1",  "us-west-2",  "eu-west-1",       "eu-central-1",
                                      "ap-south-1", "us-south-3", "asia-northeast-1"};

/* The three providers' answers, as they come in. */
static void answers_make(struct offer_list ans[3], size_t n)
{
	static const char *const provs[] = {"lambda", "aws", "fleet"};
	char type[64], desc[96], region[32];

	memset(ans, 0, 3 * sizeof *ans);
	for (size_t i = 0; i < n; i++) {
		int p = (int)(i % 3);
		struct offer o;
		const char *gpu = gpus[rng() % 6];
		int count = 1 << (rng() % 4);

		memset(&o, 0, sizeof o);
		o.provider = (char *)provs[p];
		snprintf(region, sizeof region, "%s", p == 2 ? "" : regions[rng() % 7]);
		o.region = region;
		snprintf(type, sizeof type, "%s_%dx_%s_%zu", p == 2 ? "host" : "gpu", count,
		         *gpu ? gpu : "cpu", i);
		o.instance_type = type;
		o.gpu_type = (char *)gpu;
		o.gpus = *gpu ? count : 0;
		o.cpus = 8 * count;
		o.memory_mib = (int64_t)count * 65536;
		o.market = p == 1 && rng() % 2 ? OFFER_SPOT : OFFER_ONDEMAND;
		o.priced = rng() % 20 != 0;
		o.usd_per_hour = o.priced ? (double)(rng() % 4000) / 100.0 * count : 0;
		o.source = !o.priced ? CATALOG_SRC_NONE
		           : p == 0  ? CATALOG_SRC_LIVE
		           : p == 1  ? CATALOG_SRC_CATALOG
		                     : CATALOG_SRC_SITE;
		o.billing = p == 1 ? OFFER_BILL_HOUR : OFFER_BILL_SECOND;
		o.avail = (enum offer_avail)(rng() % 3);
		snprintf(desc, sizeof desc, "%d CPUs, %d GiB", o.cpus, count * 64);
		o.description = desc;
		offer_list_add(&ans[p], &o);
	}
}

static void answers_copy(struct offer_list dst[3], const struct offer_list src[3])
{
	memset(dst, 0, 3 * sizeof *dst);
	for (int p = 0; p < 3; p++)
		for (size_t i = 0; i < src[p].n; i++)
			offer_list_add(&dst[p], &src[p].v[i]);
}

static int price_cmp(const void *a, const void *b)
{
	const struct offer *x = a, *y = b;

	return x->usd_per_hour < y->usd_per_hour ? -1 : x->usd_per_hour > y->usd_per_hour;
}

static const char tpl_text[] = "name: bench\nkind: training\nrun: train\n"
                               "resources: {accelerators: [H100:1, A100:1], spot: prefer}\n"
                               "placement: {regions: [us-*, eu-*]}\n"
                               "limits: {max_hourly_cost: 300, max_runtime: 4h}\n";

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 10000, fit = 0, ndropped = 0;
	struct template *t;
	struct offer_list ans[3], copy[3], all;
	struct offers_limits lim = {1, 500.0, 4 * 3600, NULL};
	double ours[RUNS], ref[RUNS], t0, med_ours, med_ref;
	int bad = 0;

	if (n == 0 || n > MAX_OFFERS) {
		fprintf(stderr, "usage: offers_bench [OFFERS]\n");
		return 2;
	}
	t = template_load_text("bench.yaml", tpl_text, sizeof tpl_text - 1, TPL_LAYER_USER);
	if (t == NULL || t->error != NULL) {
		fprintf(stderr, "offers_bench: template: %s\n", t != NULL ? t->error : "?");
		return 1;
	}
	answers_make(ans, n);
	for (int r = 0; r < RUNS; r++) {
		/* ours: merge the three answers, then filter and rank */
		answers_copy(copy, ans);
		memset(&all, 0, sizeof all);
		t0 = cpu_ms();
		for (int p = 0; p < 3; p++)
			offer_list_take(&all, &copy[p]);
		fit = offers_rank(&all, t, &lim);
		ours[r] = cpu_ms() - t0;
		ndropped = all.n - fit;
		for (size_t i = 1; i < fit; i++) /* spot first (prefer), then price */
			if (all.v[i].market == all.v[i - 1].market && all.v[i].priced &&
			    all.v[i - 1].priced &&
			    all.v[i].usd_per_hour < all.v[i - 1].usd_per_hour)
				bad = 1;
		for (size_t i = fit; i < all.n; i++)
			if (all.v[i].dropped == NULL)
				bad = 1;
		offer_list_free(&all);
		for (int p = 0; p < 3; p++)
			offer_list_free(&copy[p]);
		/* reference: the same offers in one array, qsort by price only */
		answers_copy(copy, ans);
		memset(&all, 0, sizeof all);
		for (int p = 0; p < 3; p++)
			offer_list_take(&all, &copy[p]);
		t0 = cpu_ms();
		qsort(all.v, all.n, sizeof *all.v, price_cmp);
		ref[r] = cpu_ms() - t0;
		offer_list_free(&all);
		for (int p = 0; p < 3; p++)
			offer_list_free(&copy[p]);
	}
	med_ours = median(ours, RUNS); /* sorts: [0] is the minimum afterwards */
	med_ref = median(ref, RUNS);
	printf("| Offers ranked, %zu offers from 3 providers (merge + `offers_rank`: GPU "
	       "alternatives, region globs, spot prefer, price cap, budget; %zu fit, %zu dropped "
	       "with reasons) | **%.2f ms** CPU median (min %.2f, %d runs) | qsort of the same "
	       "offers by price only: %.2f ms (min %.2f) | ≤ 10 ms |\n",
	       n, fit, ndropped, med_ours, ours[0], RUNS, med_ref, ref[0]);
	printf("command: tests/bench/offers_bench %zu  (ranking %s)\n", n,
	       bad ? "WRONG" : "checked: fitting offers by price, every dropped one with a reason");
	for (int p = 0; p < 3; p++)
		offer_list_free(&ans[p]);
	template_free(t);
	return bad;
}
