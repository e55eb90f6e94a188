/* cli_common.c: output helpers shared by the subcommands. */
#include "tui/cli.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/loop.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"

struct engine *cli_engine(struct cli_ctx *c, int no_refresh)
{
	struct engine_opts o = {.readonly = c->readonly, .no_refresh = no_refresh};
	char *cause = NULL;

	if (c->e != NULL)
		return c->e;
	if (engine_open(&o, &c->e, &cause) != 0) {
		cli_fail("error", CLI_ENV, "%s", cause != NULL ? cause : "cannot start the engine");
		free(cause);
		return NULL;
	}
	return c->e;
}

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg, *safe;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	safe = sanitize_text(msg, (size_t)-1, 0);
	fprintf(stderr, "gantry: %s: %s\n", cmd, safe);
	free(safe);
	free(msg);
	return code;
}

void cli_usage(FILE *f, const struct cli_cmd *cmd)
{
	fprintf(f, "usage: gantry %s\n\n%s\n", cmd->usage, cmd->summary);
	if (cmd->help != NULL)
		fprintf(f, "\n%s", cmd->help);
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

void cli_puts_safe(const struct cli_ctx *c, FILE *f, const char *s)
{
	char *safe;

	if (!c->tty) {
		fputs(s, f);
		return;
	}
	safe = sanitize_text(s, (size_t)-1, SANITIZE_KEEP_NEWLINES | (c->ascii ? SANITIZE_ASCII : 0));
	fputs(safe, f);
	free(safe);
}

void cli_age(int64_t ms, char *buf, size_t len)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 86400)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
}

void cli_time(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
}

void cli_settle(struct engine *e)
{
	engine_refresh(e);
	for (int i = 0; i < 100 && engine_busy(e) > 0; i++)
		loop_run_once(engine_loop(e), 50);
}

void cli_print_json(void *json)
{
	json_t *j = json;
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s != NULL) {
		puts(s);
		free(s);
	}
	json_decref(j);
}

static json_t *cli_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *cli_time_json(int64_t ms)
{
	char buf[64];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

void *cli_job_json(struct engine *e, const struct job *j)
{
	json_t *o = json_object();
	json_t *params = j->params_json != NULL ? json_loads(j->params_json, 0, NULL) : NULL;
	char *url = NULL;

	if (j->url != NULL && j->kind == JOB_KIND_NOTEBOOK && e != NULL) {
		char *tok = engine_job_token(e, j->id);

		if (tok != NULL)
			url = xprintf("%s?token=%s", j->url, tok);
		free(tok);
	}
	json_object_set_new(o, "id", json_string(j->id));
	json_object_set_new(o, "name", cli_str_or_null(j->name));
	json_object_set_new(o, "kind", json_string(job_kind_name(j->kind)));
	json_object_set_new(o, "state", json_string(job_state_name(j->state)));
	json_object_set_new(o, "template", cli_str_or_null(j->template_name));
	json_object_set_new(o, "provider", cli_str_or_null(j->provider));
	json_object_set_new(o, "owner", cli_str_or_null(j->owner));
	json_object_set_new(o, "reason", cli_str_or_null(j->reason));
	json_object_set_new(o, "url", cli_str_or_null(url != NULL ? url : j->url));
	json_object_set_new(o, "port", j->port > 0 ? json_integer(j->port) : json_null());
	json_object_set_new(o, "gpus", json_integer(j->gpus));
	json_object_set_new(o, "exit_code", j->has_exit ? json_integer(j->exit_code) : json_null());
	json_object_set_new(o, "created", cli_time_json(j->created_ms));
	json_object_set_new(o, "started", cli_time_json(j->started_ms));
	json_object_set_new(o, "ended", cli_time_json(j->ended_ms));
	json_object_set_new(o, "params", params != NULL ? params : json_object());
	free(url);
	return o;
}
