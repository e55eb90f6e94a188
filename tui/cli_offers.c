/* cli_offers.c: gantry offers TEMPLATE — every configured provider's offers for a template,
 * ranked by the optimizer (engine_offers: placement, GPU alternatives, spot, the price cap and
 * the budget left), then the dropped ones with the reason each was dropped. Exits 0 when at
 * least one offer fits, else as a refused launch: 1 when the hard budget is what refuses,
 * 2 when the template fits no offer. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

struct offers_wait {
	int done;
	int rc;
	char *cause;
	struct engine_offers_answer *ans;
};

static void offers_cb(void *arg, int rc, struct engine_offers_answer *ans, const char *cause)
{
	struct offers_wait *w = arg;

	w->done = 1;
	w->rc = rc;
	w->ans = ans;
	if (cause != NULL)
		w->cause = xstrdup(cause);
}

/* Provider text for the terminal: control bytes and escapes removed (always). */
static char *offers_safe(const struct cli_ctx *c, const char *s)
{
	if (s == NULL || *s == '\0')
		return xstrdup("-");
	return sanitize_text(s, (size_t)-1, c->ascii ? SANITIZE_ASCII : 0);
}

static json_t *offers_str_json(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *offers_one_json(const struct offer *o, size_t rank)
{
	json_t *j = json_object();

	if (rank > 0)
		json_object_set_new(j, "rank", json_integer((json_int_t)rank));
	json_object_set_new(j, "provider", offers_str_json(o->provider));
	json_object_set_new(j, "region", offers_str_json(o->region));
	json_object_set_new(j, "instance_type", offers_str_json(o->instance_type));
	json_object_set_new(j, "gpu_type", offers_str_json(o->gpu_type));
	json_object_set_new(j, "gpus", json_integer(o->gpus));
	json_object_set_new(j, "cpus", json_integer(o->cpus));
	json_object_set_new(j, "memory_mib", json_integer(o->memory_mib));
	json_object_set_new(j, "market", json_string(offer_market_name(o->market)));
	json_object_set_new(j, "priced", json_boolean(o->priced));
	json_object_set_new(j, "usd_per_hour",
	                    o->priced ? json_real(o->usd_per_hour) : json_null());
	json_object_set_new(j, "source", json_string(catalog_source_name(o->source)));
	json_object_set_new(j, "billing", json_string(offer_billing_name(o->billing)));
	json_object_set_new(j, "availability", json_string(offer_avail_name(o->avail)));
	json_object_set_new(j, "description", offers_str_json(o->description));
	if (rank == 0)
		json_object_set_new(j, "reason", offers_str_json(o->dropped));
	return j;
}

static json_t *offers_json(const struct engine_offers_answer *a)
{
	json_t *j = json_object(), *ranked = json_array(), *dropped = json_array(),
	       *errors = json_array();

	for (size_t i = 0; i < a->offers.n; i++)
		json_array_append_new(i < a->nfit ? ranked : dropped,
		                      offers_one_json(&a->offers.v[i], i < a->nfit ? i + 1 : 0));
	for (size_t i = 0; i < a->nerrors; i++)
		json_array_append_new(errors, json_string(a->errors[i]));
	json_object_set_new(j, "template", json_string(a->template_name));
	json_object_set_new(j, "ranked", ranked);
	json_object_set_new(j, "dropped", dropped);
	json_object_set_new(j, "errors", errors);
	json_object_set_new(j, "budget_left_usd",
	                    a->has_budget_left ? json_real(a->budget_left_usd) : json_null());
	json_object_set_new(j, "runtime_s", json_integer(a->runtime_s));
	return j;
}

#define OFFERS_NCOLS 12

/* The cells of one row (heap strings). */
static void offers_cells(const struct cli_ctx *c, const struct offer *o, size_t rank, char **cell)
{
	char money[32];

	cell[0] = rank > 0 ? xprintf("%zu", rank) : xstrdup("-");
	cell[1] = offers_safe(c, o->provider);
	cell[2] = offers_safe(c, o->region);
	cell[3] = offers_safe(c, o->instance_type);
	if (o->gpus > 0 && o->gpu_type != NULL && *o->gpu_type != '\0') {
		char *g = offers_safe(c, o->gpu_type);

		cell[4] = xprintf("%dx %s", o->gpus, g);
		free(g);
	} else {
		cell[4] = xstrdup("-");
	}
	cell[5] = o->cpus > 0 ? xprintf("%d", o->cpus) : xstrdup("?");
	cell[6] =
	    o->memory_mib > 0 ? xprintf("%.1f GiB", (double)o->memory_mib / 1024.0) : xstrdup("?");
	cell[7] = xstrdup(offer_market_name(o->market));
	if (o->priced) {
		cost_money(o->usd_per_hour, money);
		cell[8] = xprintf("%s/h", money);
	} else {
		cell[8] = xstrdup("unpriced");
	}
	cell[9] = xstrdup(catalog_source_name(o->source));
	cell[10] = xstrdup(offer_billing_name(o->billing));
	cell[11] = xstrdup(offer_avail_name(o->avail));
}

/* One row, columns padded to w (the last one not). */
static void offers_row(char *const *cells, const size_t *w)
{
	for (int k = 0; k + 1 < OFFERS_NCOLS; k++)
		printf("%-*s  ", (int)w[k], cells[k]);
	printf("%s\n", cells[OFFERS_NCOLS - 1]);
}

static void offers_table(const struct cli_ctx *c, const struct engine_offers_answer *a)
{
	static const char *const head[OFFERS_NCOLS] = {"RANK",  "PROVIDER", "REGION",  "TYPE",
	                                               "GPUS",  "CPUS",     "MEMORY",  "MARKET",
	                                               "PRICE", "SOURCE",   "BILLING", "AVAILABLE"};
	size_t n = a->offers.n, w[OFFERS_NCOLS];
	char **cells = xcalloc(n * OFFERS_NCOLS + 1, sizeof *cells);

	for (int k = 0; k < OFFERS_NCOLS; k++)
		w[k] = strlen(head[k]);
	for (size_t i = 0; i < n; i++) {
		offers_cells(c, &a->offers.v[i], i < a->nfit ? i + 1 : 0, &cells[i * OFFERS_NCOLS]);
		for (int k = 0; k < OFFERS_NCOLS; k++) {
			size_t l = strlen(cells[i * OFFERS_NCOLS + k]);

			if (l > w[k])
				w[k] = l;
		}
	}
	printf("offers for %s", a->template_name);
	if (a->has_budget_left) {
		char left[32];

		cost_money(a->budget_left_usd < 0 ? 0 : a->budget_left_usd, left);
		printf(" (budget left %s", left);
		if (a->runtime_s > 0) {
			char dur[16];

			cli_age(a->runtime_s * 1000, dur, sizeof dur);
			printf(", over max_runtime %s", dur);
		} else {
			printf(", one hour counted");
		}
		putchar(')');
	}
	puts(":");
	if (a->nfit == 0)
		puts("  no offer fits");
	else
		offers_row((char *const *)head, w);
	for (size_t i = 0; i < a->nfit; i++)
		offers_row(&cells[i * OFFERS_NCOLS], w);
	if (a->nfit < n)
		puts("dropped:");
	for (size_t i = a->nfit; i < n; i++) {
		char **r = &cells[i * OFFERS_NCOLS];
		char *why = offers_safe(c, a->offers.v[i].dropped);

		if (strcmp(r[2], "-") != 0)
			printf("  %s %s %s (%s, %s): %s\n", r[1], r[2], r[3], r[4], r[8], why);
		else
			printf("  %s %s (%s, %s): %s\n", r[1], r[3], r[4], r[8], why);
		free(why);
	}
	for (size_t i = 0; i < a->nerrors; i++) {
		char *e = offers_safe(c, a->errors[i]);

		printf("no offers from %s\n", e);
		free(e);
	}
	for (size_t i = 0; i < n * OFFERS_NCOLS; i++)
		free(cells[i]);
	free(cells);
}

/* When nothing fits: the code of a refused launch. An offer dropped for the budget alone
 * passed every other check (offers_rank records the first reason), so the budget is what
 * refuses, as a launch over a hard budget (1); else the template does not fit (2). */
static int offers_refusal_code(const struct engine_offers_answer *a)
{
	for (size_t i = a->nfit; i < a->offers.n; i++)
		if (a->offers.v[i].dropped != NULL &&
		    strncmp(a->offers.v[i].dropped, "expected $", 10) == 0)
			return CLI_FAILED;
	return CLI_USAGE;
}

static int offers_run(struct cli_ctx *c, int argc, char **argv)
{
	struct engine_launch_req req;
	struct offers_wait w = {0};
	const char **sets = xcalloc((size_t)argc + 1, sizeof *sets);
	char *cause = NULL;
	int rc = CLI_OK;

	memset(&req, 0, sizeof req);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--set") == 0 || strcmp(a, "-s") == 0) {
			if (++i >= argc) {
				rc = cli_fail("offers", CLI_USAGE, "%s needs k=v", a);
				goto out;
			}
			sets[req.nsets++] = argv[i];
		} else if (strncmp(a, "--set=", 6) == 0) {
			sets[req.nsets++] = a + 6;
		} else if (strcmp(a, "--provider") == 0) {
			if (++i >= argc) {
				rc = cli_fail("offers", CLI_USAGE, "%s needs a value", a);
				goto out;
			}
			req.provider = argv[i];
		} else if (strcmp(a, "--max-runtime") == 0) {
			if (++i >= argc ||
			    (req.max_runtime_s = engine_duration_parse(argv[i])) <= 0) {
				rc = cli_fail("offers", CLI_USAGE,
				              "--max-runtime expects a duration such as 90s, 30m, "
				              "2h or 1h30m");
				goto out;
			}
		} else if (a[0] == '-') {
			rc = cli_fail("offers", CLI_USAGE, "unknown option '%s'", a);
			goto out;
		} else if (req.template_name == NULL) {
			req.template_name = a;
		} else {
			rc = cli_fail("offers", CLI_USAGE, "unexpected argument '%s'", a);
			goto out;
		}
	}
	if (req.template_name == NULL) {
		rc = cli_fail("offers", CLI_USAGE, "which template? (see: gantry templates)");
		goto out;
	}
	req.sets = sets;
	if (cli_engine(c, 1) == NULL) {
		rc = CLI_ENV;
		goto out;
	}
	if (engine_offers(c->e, &req, offers_cb, &w, &cause) != 0) {
		rc = cli_fail("offers",
		              template_set_find(engine_templates(c->e), req.template_name)
		                  ? CLI_USAGE
		                  : CLI_NOTFOUND,
		              "%s", cause);
		goto out;
	}
	while (!w.done)
		loop_run_once(engine_loop(c->e), 100);
	if (w.rc != 0) {
		rc = cli_fail("offers", CLI_FAILED, "%s", w.cause != NULL ? w.cause : "failed");
		goto out;
	}
	if (c->json)
		cli_print_json(offers_json(w.ans));
	else
		offers_table(c, w.ans);
	if (w.ans->nfit == 0)
		rc = cli_fail("offers", offers_refusal_code(w.ans),
		              "no offer fits template %s (see the reasons%s)", w.ans->template_name,
		              c->json ? " in \"dropped\"" : " above");
out:
	engine_offers_answer_free(w.ans);
	free(w.cause);
	free(cause);
	free(sets);
	return rc;
}

const struct cli_cmd cli_offers_cmd = {
    .name = "offers",
    .usage = "offers TEMPLATE [--set k=v]... [--provider P] [--max-runtime D]",
    .summary = "rank every provider's offers for a template, and say why others are dropped",
    .help = "  --set k=v         a parameter, checked as launch checks it (repeatable)\n"
            "  --provider P      only provider P's offers\n"
            "  --max-runtime D   the runtime the budget check counts (at most the "
            "template's)\n"
            "  -o json           (global option) {ranked, dropped (each with its reason), "
            "errors}\n"
            "Offers are filtered by placement.providers and placement.regions (globs), the\n"
            "template's GPU alternatives, resources.spot, limits.max_hourly_cost and the hard\n"
            "budget left, then ranked cheapest first. Exit 0 when an offer fits; else 1 when\n"
            "the budget is what refuses, 2 when the template fits no offer.\n",
    .run = offers_run,
};
