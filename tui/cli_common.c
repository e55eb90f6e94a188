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
	struct engine_opts o = {
	    .readonly = c->readonly, .no_refresh = no_refresh, .embedded = c->embedded};
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

int cli_plan(struct cli_ctx *c, const char *cmd, const struct engine_launch_req *req,
             struct engine_plan *plan)
{
	char *cause = NULL;
	int rc;

	if (cli_engine(c, 1) == NULL)
		return CLI_ENV;
	if (engine_plan(c->e, req, plan, &cause) == 0)
		return CLI_OK;
	rc = cli_fail(cmd,
	              template_set_find(engine_templates(c->e), req->template_name) ? CLI_USAGE
	                                                                            : CLI_NOTFOUND,
	              "%s", cause);
	free(cause);
	return rc;
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
	safe =
	    sanitize_text(s, (size_t)-1, SANITIZE_KEEP_NEWLINES | (c->ascii ? SANITIZE_ASCII : 0));
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

/* A growing text buffer for the JSON writer. */
struct cli_buf {
	char *p;
	size_t n, cap;
};

static void cli_buf_add(struct cli_buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void cli_buf_puts(struct cli_buf *b, const char *s)
{
	cli_buf_add(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static size_t cli_utf8_len(const unsigned char *s)
{
	size_t n;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* A JSON string (or null): escapes quotes, backslashes and controls; invalid UTF-8 becomes
 * U+FFFD so the output is always valid JSON. */
static void cli_json_str(struct cli_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL) {
		cli_buf_puts(b, "null");
		return;
	}
	cli_buf_add(b, "\"", 1);
	while (*p != '\0') {
		size_t run = 0, n;

		while (p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
			run++;
		cli_buf_add(b, (const char *)p, run);
		p += run;
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			char esc[2] = {'\\', (char)*p};

			cli_buf_add(b, esc, 2);
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			char esc[8];

			snprintf(esc, sizeof esc, "\\u%04x", *p);
			cli_buf_puts(b, esc);
			p++;
		} else if ((n = cli_utf8_len(p)) > 0) {
			cli_buf_add(b, (const char *)p, n);
			p += n;
		} else {
			cli_buf_puts(b, "\xef\xbf\xbd");
			p++;
		}
	}
	cli_buf_add(b, "\"", 1);
}

static void cli_json_key(struct cli_buf *b, const char *key, int first)
{
	cli_buf_puts(b, first ? "{\"" : ", \"");
	cli_buf_puts(b, key);
	cli_buf_puts(b, "\": ");
}

static void cli_json_int(struct cli_buf *b, long long v, int valid)
{
	char num[24], *p = num + sizeof num;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	if (!valid) {
		cli_buf_puts(b, "null");
		return;
	}
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	cli_buf_add(b, p, (size_t)(num + sizeof num - p));
}

static void cli_json_time(struct cli_buf *b, int64_t ms)
{
	char buf[40];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0) {
		cli_buf_puts(b, "null");
		return;
	}
	gmtime_r(&t, &tm);
	/* hand-formatted: this runs three times per job in `ls -o json` */
	int year = tm.tm_year + 1900;
	int parts[5] = {tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
	const char seps[5] = {'-', 'T', ':', ':', 'Z'};
	char *p = buf;

	*p++ = '"';
	*p++ = (char)('0' + year / 1000 % 10);
	*p++ = (char)('0' + year / 100 % 10);
	*p++ = (char)('0' + year / 10 % 10);
	*p++ = (char)('0' + year % 10);
	*p++ = '-';
	for (int i = 0; i < 5; i++) {
		*p++ = (char)('0' + parts[i] / 10);
		*p++ = (char)('0' + parts[i] % 10);
		*p++ = seps[i];
	}
	*p++ = '"';
	cli_buf_add(b, buf, (size_t)(p - buf));
}

char *cli_job_json_text(struct engine *e, const struct job *j)
{
	struct cli_buf b = {0};
	char *url = NULL;

	if (j->url != NULL && j->kind == JOB_KIND_NOTEBOOK && e != NULL)
		url = engine_job_url(e, j);
	cli_json_key(&b, "id", 1);
	cli_json_str(&b, j->id);
	cli_json_key(&b, "name", 0);
	cli_json_str(&b, j->name);
	cli_json_key(&b, "kind", 0);
	cli_json_str(&b, job_kind_name(j->kind));
	cli_json_key(&b, "state", 0);
	cli_json_str(&b, job_state_name(j->state));
	cli_json_key(&b, "template", 0);
	cli_json_str(&b, j->template_name);
	cli_json_key(&b, "provider", 0);
	cli_json_str(&b, j->provider);
	cli_json_key(&b, "provider_ref", 0);
	cli_json_str(&b, j->provider_ref);
	cli_json_key(&b, "owner", 0);
	cli_json_str(&b, j->owner);
	cli_json_key(&b, "reason", 0);
	cli_json_str(&b, j->reason);
	/* issue 12: the approval of a launch that needed one, who decided and why */
	cli_json_key(&b, "approval", 0);
	cli_json_str(&b, j->approval);
	cli_json_key(&b, "decided_by", 0);
	cli_json_str(&b, j->decided_by);
	cli_json_key(&b, "decision_reason", 0);
	cli_json_str(&b, j->decision_reason);
	cli_json_key(&b, "url", 0);
	cli_json_str(&b, url != NULL ? url : j->url);
	cli_json_key(&b, "port", 0);
	cli_json_int(&b, j->port, j->port > 0);
	cli_json_key(&b, "gpus", 0);
	cli_json_int(&b, j->gpus, 1);
	cli_json_key(&b, "exit_code", 0);
	cli_json_int(&b, j->exit_code, j->has_exit);
	cli_json_key(&b, "created", 0);
	cli_json_time(&b, j->created_ms);
	cli_json_key(&b, "started", 0);
	cli_json_time(&b, j->started_ms);
	cli_json_key(&b, "ended", 0);
	cli_json_time(&b, j->ended_ms);
	cli_json_key(&b, "replicas", 0);
	if (j->kind == JOB_KIND_ENDPOINT) {
		/* as the provider last reported them (0/0: not reported yet, or none) */
		cli_json_key(&b, "ready", 1);
		cli_json_int(&b, j->ready_replicas, 1);
		cli_json_key(&b, "desired", 0);
		cli_json_int(&b, j->desired_replicas, 1);
		cli_buf_puts(&b, "}");
	} else {
		cli_buf_puts(&b, "null");
	}
	cli_json_key(&b, "params", 0);
	/* params_json is our own jansson output: already valid JSON */
	cli_buf_puts(&b,
	             j->params_json != NULL && j->params_json[0] == '{' ? j->params_json : "{}");
	cli_buf_puts(&b, "}");
	free(url);
	return b.p;
}

void *cli_job_json(struct engine *e, const struct job *j)
{
	char *text = cli_job_json_text(e, j);
	json_t *o = json_loads(text, JSON_PRESERVE_ORDER, NULL);

	free(text);
	return o != NULL ? o : json_object();
}
