/* cli_hosts.c: gantry hosts — the workers of every provider: reachable or not (with the age
 * of the last contact), GPUs free and total, and their live figures. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

struct hosts_wait {
	int fresh;
};

static void hosts_on_event(void *arg, const struct engine_event *ev)
{
	struct hosts_wait *w = arg;

	if (ev->type == ENGINE_EV_TELEMETRY)
		w->fresh = 1;
}

static json_t *hosts_val(const struct tele_val *v)
{
	return v->ok ? json_real(v->v) : json_null();
}

static json_t *hosts_json(const struct tele_host *h, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object(), *gpus = json_array();

		json_object_set_new(o, "name", json_string(h[i].name != NULL ? h[i].name : ""));
		json_object_set_new(o, "address",
		                    h[i].address ? json_string(h[i].address) : json_null());
		json_object_set_new(o, "reachable", json_boolean(h[i].reachable));
		json_object_set_new(o, "last_contact_ms", json_integer(h[i].last_contact_ms));
		json_object_set_new(o, "sampled_ms", json_integer(h[i].at_ms));
		json_object_set_new(o, "reason",
		                    h[i].reason ? json_string(h[i].reason) : json_null());
		json_object_set_new(o, "gpu_type",
		                    h[i].gpu_type ? json_string(h[i].gpu_type) : json_null());
		json_object_set_new(o, "gpus_total", json_integer(h[i].gpus_total));
		json_object_set_new(o, "gpus_free", json_integer(h[i].gpus_free));
		json_object_set_new(o, "gpu_error",
		                    h[i].gpu_error ? json_string(h[i].gpu_error) : json_null());
		json_object_set_new(o, "cpu_pct", hosts_val(&h[i].cpu_pct));
		json_object_set_new(o, "mem_used_mib", hosts_val(&h[i].mem_used_mib));
		json_object_set_new(o, "mem_total_mib", hosts_val(&h[i].mem_total_mib));
		for (size_t g = 0; g < h[i].ngpus; g++) {
			const struct tele_gpu *x = &h[i].gpus[g];
			json_t *go = json_object();

			json_object_set_new(go, "index", json_integer(x->index));
			json_object_set_new(go, "name", json_string(x->name));
			json_object_set_new(go, "uuid", json_string(x->uuid));
			json_object_set_new(go, "util_pct", hosts_val(&x->util_pct));
			json_object_set_new(go, "mem_used_mib", hosts_val(&x->mem_used_mib));
			json_object_set_new(go, "mem_total_mib", hosts_val(&x->mem_total_mib));
			json_object_set_new(go, "temp_c", hosts_val(&x->temp_c));
			json_object_set_new(go, "power_w", hosts_val(&x->power_w));
			json_object_set_new(go, "power_limit_w", hosts_val(&x->power_limit_w));
			json_array_append_new(gpus, go);
		}
		json_object_set_new(o, "gpus", gpus);
		json_array_append_new(arr, o);
	}
	return arr;
}

static void hosts_fmt(const struct tele_val *v, const char *unit, char *buf, size_t len)
{
	if (v->ok)
		snprintf(buf, len, "%.0f%s", v->v, unit);
	else
		snprintf(buf, len, "n/a");
}

static void hosts_table(struct cli_ctx *c, const struct tele_host *h, size_t n)
{
	int64_t now = loop_wall_ms();

	printf("%-14s %-22s %-12s %-9s %-6s %-6s %-13s %s\n", "HOST", "ADDRESS", "STATE", "CONTACT",
	       "GPUS", "FREE", "GPU-UTIL", "CPU");
	for (size_t i = 0; i < n; i++) {
		char age[16] = "never", gpus[16], util[16] = "-", cpu[16], line[512];
		double sum = 0;
		int cnt = 0;

		if (h[i].last_contact_ms > 0)
			cli_age(now - h[i].last_contact_ms, age, sizeof age);
		snprintf(gpus, sizeof gpus, "%d%s%s", h[i].gpus_total, h[i].gpu_type ? "x" : "",
		         h[i].gpu_type ? h[i].gpu_type : "");
		for (size_t g = 0; g < h[i].ngpus; g++)
			if (h[i].gpus[g].util_pct.ok) {
				sum += h[i].gpus[g].util_pct.v;
				cnt++;
			}
		if (cnt > 0)
			snprintf(util, sizeof util, "%.0f%% avg", sum / cnt);
		else if (h[i].ngpus > 0 || h[i].gpu_error != NULL)
			snprintf(util, sizeof util, "n/a");
		hosts_fmt(&h[i].cpu_pct, "%", cpu, sizeof cpu);
		snprintf(line, sizeof line, "%-14s %-22s %-12s %-9s %-6s %-6d %-13s %s",
		         h[i].name ? h[i].name : "?", h[i].address ? h[i].address : "-",
		         h[i].reachable ? "up" : "UNREACHABLE", age, gpus, h[i].gpus_free, util,
		         cpu);
		cli_puts_safe(c, stdout, line);
		fputc('\n', stdout);
		if (!h[i].reachable && h[i].reason != NULL) {
			snprintf(line, sizeof line, "  %s", h[i].reason);
			cli_puts_safe(c, stdout, line);
			fputc('\n', stdout);
		}
	}
}

static int hosts_run(struct cli_ctx *c, int argc, char **argv)
{
	struct hosts_wait w = {0};
	struct tele_host *h = NULL;
	size_t n = 0;
	char *cause = NULL;
	uint64_t deadline;

	for (int i = 1; i < argc; i++)
		return cli_fail("hosts", CLI_USAGE, "unexpected argument '%s'", argv[i]);
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	engine_subscribe(c->e, hosts_on_event, &w);
	/* the first ask starts a sweep; wait for its answer (bounded by the SSH timeouts) */
	if (engine_hosts(c->e, NULL, &h, &n, &cause) == 0 && n > 0) {
		tele_hosts_free(h, n);
		deadline = loop_now_ms() + 30000;
		while (!w.fresh && loop_now_ms() < deadline)
			loop_run_once(engine_loop(c->e), 100);
	}
	free(cause);
	cause = NULL;
	engine_unsubscribe(c->e, hosts_on_event, &w);
	if (engine_hosts(c->e, NULL, &h, &n, &cause) != 0) {
		int rc = cli_fail("hosts", CLI_FAILED, "%s", cause);

		free(cause);
		return rc;
	}
	if (c->json)
		cli_print_json(hosts_json(h, n));
	else if (n == 0)
		puts("No hosts: only the local provider is configured (see gantry(1), PROVIDERS).");
	else
		hosts_table(c, h, n);
	tele_hosts_free(h, n);
	return CLI_OK;
}

const struct cli_cmd cli_hosts_cmd = {
    .name = "hosts",
    .usage = "hosts",
    .summary = "list the workers of remote providers, their health and GPUs",
    .help = "  -o json   (global option) every host with its GPUs and figures\n",
    .run = hosts_run,
};
