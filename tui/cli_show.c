/* cli_show.c: gantry show JOB — details and events of one job. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

static int show_run(struct cli_ctx *c, int argc, char **argv)
{
	struct job j;
	struct job_event_list ev = {0};
	char *cause = NULL, *s;
	char t1[32], t2[32], t3[32], state[32];
	json_t *o, *url;

	if (argc != 2)
		return cli_fail("show", CLI_USAGE, "expected one job (id, name or id prefix)");
	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (!c->readonly)
		cli_settle(c->e);
	job_init(&j);
	if (engine_job(c->e, argv[1], &j, &cause) != 0) {
		int rc = cli_fail("show", CLI_NOTFOUND, "%s", cause);

		free(cause);
		return rc;
	}
	if (engine_job_events(c->e, j.id, &ev, &cause) != 0) {
		free(cause);
		cause = NULL;
	}
	o = cli_job_json(c->e, &j);
	if (c->json) {
		json_t *a = json_array();

		for (size_t i = 0; i < ev.n; i++) {
			char when[32];

			cli_time(ev.items[i].at_ms, when, sizeof when);
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s?}", "at", when,
			                                   "from", job_state_name(ev.items[i].from),
			                                   "to", job_state_name(ev.items[i].to),
			                                   "reason", ev.items[i].reason));
		}
		json_object_set_new(o, "events", a);
		cli_print_json(o);
	} else {
		url = json_object_get(o, "url");
		cli_time(j.created_ms, t1, sizeof t1);
		cli_time(j.started_ms, t2, sizeof t2);
		cli_time(j.ended_ms, t3, sizeof t3);
		job_state_label(&j, state, sizeof state); /* "RUNNING 2/4" */
		s = xprintf(
		    "name:      %s\nid:        %s\nkind:      %s\nstate:     %s\nreason:    "
		    "%s\ntemplate:  %s\nprovider:  %s\nowner:     %s\ncreated:   %s\n"
		    "started:   %s\nended:     %s\n",
		    j.name, j.id, job_kind_name(j.kind), state, j.reason != NULL ? j.reason : "-",
		    j.template_name, j.provider, j.owner, t1, t2, t3);
		cli_puts_safe(c, stdout, s);
		free(s);
		if (json_is_string(url))
			printf("url:       %s\n", json_string_value(url));
		if ((s = cli_approval_text(&j)) != NULL) { /* issue 12: who decided and why */
			char *line = xprintf("approval:  %s\n", s);

			cli_puts_safe(c, stdout, line);
			free(line);
			free(s);
		}
		if (j.kind == JOB_KIND_ENDPOINT)
			printf("replicas:  %d ready of %d desired\n", j.ready_replicas,
			       j.desired_replicas);
		if (j.has_exit)
			printf("exit:      %s %d\n", j.exit_code < 0 ? "signal" : "status",
			       j.exit_code < 0 ? -j.exit_code : j.exit_code);
		printf("params:    %s\nevents:\n", j.params_json != NULL ? j.params_json : "{}");
		for (size_t i = 0; i < ev.n; i++) {
			cli_time(ev.items[i].at_ms, t1, sizeof t1);
			s = xprintf("  %s  %-11s -> %-11s %s\n", t1,
			            job_state_name(ev.items[i].from),
			            job_state_name(ev.items[i].to),
			            ev.items[i].reason != NULL ? ev.items[i].reason : "");
			cli_puts_safe(c, stdout, s);
			free(s);
		}
		json_decref(o);
	}
	job_event_list_free(&ev);
	job_clear(&j);
	return CLI_OK;
}

const struct cli_cmd cli_show_cmd = {
    .name = "show",
    .usage = "show JOB [-o json]",
    .summary = "show a job: state, reason, where to reach it, params and every state change",
    .help = "JOB is a job id, a job name, or a unique id prefix (3+ characters).\n",
    .run = show_run,
};
