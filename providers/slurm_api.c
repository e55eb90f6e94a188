/* slurm_api.c: the slurmrestd REST API without I/O (see slurm_api.h): the versions table,
 * error lines and classes, Gantry's labels, the submit body, the parsers of jobs, nodes and
 * partitions, the state mapping, GRES strings, host lists and the Cluster view.
 *
 * Everything slurmrestd answers is untrusted: every field is type-checked (a null, which
 * Slurm sends for unset numbers, reads as unset), a malformed entry is skipped, counts and
 * strings are bounded; error text is sanitised and cut short. Numbers are read in both
 * forms wherever they appear, a plain integer (v0.0.38) or {"set", "infinite", "number"}
 * (v0.0.39+), and states as a string or a list, whatever the row says: a site that runs a
 * newer Slurm than its config claims still parses. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "providers/slurm_api.h"

#define SLURM_TEXT_MAX  200     /* remote text kept in an error line */
#define SLURM_STR_MAX   4096    /* a string field of an answer (longer ones are cut) */
#define SLURM_ITEMS_MAX 1000000 /* jobs, nodes or partitions in one answer */
#define SLURM_COUNT_MAX 1000000 /* CPUs, GPUs, nodes, tasks */
#define SLURM_GRES_MAX  1024    /* entries in one GRES string */
#define SLURM_TIME_MAX  (int64_t)100000000000LL /* epoch seconds (year 5138) */
#define SLURM_MIN_MAX   100000000L              /* minutes: beyond is "unlimited" */
#define SLURM_LABEL_MAX 256                     /* one value of a label */

/* ---- versions ----
 *
 * v0.0.38: Slurm 22.05 (Debian 12), tested for real (tests/data/slurm/ are its answers; the
 *   submit body was checked live, see tests/unit/test_slurm_api.c). environment is an object
 *   (a list is refused: "environment must be a dictionary"), numbers plain (null = unset),
 *   job_state one string, node state a lower case string plus state_flags, exit_code the raw
 *   wait status (exit 3 -> 768, SIGKILL -> 9), GPUs per node as "gres": "gpu:N", nodes as
 *   [min, max].
 * v0.0.39: Slurm 23.02, from its published OpenAPI (not run here): environment a list of
 *   "K=V" (required), time_limit / memory_per_node and most job numbers are
 *   {"set","infinite","number"} in answers and requests, job_state still one string,
 *   exit_code a number object (assumed the same raw wait status: unsure), no "gres" job
 *   field: GPUs per node as "tres_per_node": "gres/gpu:N" (the "gres/" spelling of 23.02+;
 *   unsure whether 23.02 already used it rather than "gres:"), nodes a string "N".
 * v0.0.40: Slurm 23.11, published OpenAPI: as v0.0.39, plus times (submit/start/end_time)
 *   as number objects, job_state and node state lists of flags, exit_code {"status": [..],
 *   "return_code": {number}, "signal": {"id": {number}, "name"}}, partitions with nested
 *   objects (nodes.configured/total, cpus.total, maximums.time, partition.state). Where the
 *   default partition is flagged in v0.0.40 is not in the schema we read: "flags" with
 *   "DEFAULT" is accepted when present (unsure).
 * v0.0.41: Slurm 24.05, published OpenAPI: the same shapes as v0.0.40 for what Gantry reads
 *   and writes (unsure in the details of partitions). */
static const struct slurm_api_version slurm_versions[] = {
    {.name = "v0.0.38",
     .env_as_list = 0,
     .numbers_as_obj = 0,
     .state_as_list = 0,
     .gpus_field = "gpus",
     .exit_as_obj = 0,
     .gres_as_tres = 0},
    {.name = "v0.0.39",
     .env_as_list = 1,
     .numbers_as_obj = 1,
     .state_as_list = 0,
     .gpus_field = "tres_per_job",
     .exit_as_obj = 0,
     .gres_as_tres = 1},
    {.name = "v0.0.40",
     .env_as_list = 1,
     .numbers_as_obj = 1,
     .state_as_list = 1,
     .gpus_field = "tres_per_job",
     .exit_as_obj = 1,
     .gres_as_tres = 1},
    {.name = "v0.0.41",
     .env_as_list = 1,
     .numbers_as_obj = 1,
     .state_as_list = 1,
     .gpus_field = "tres_per_job",
     .exit_as_obj = 1,
     .gres_as_tres = 1},
};
#define SLURM_NVERSIONS (sizeof slurm_versions / sizeof slurm_versions[0])

const struct slurm_api_version *slurm_api_version(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < SLURM_NVERSIONS; i++)
		if (strcmp(slurm_versions[i].name, name) == 0)
			return &slurm_versions[i];
	return NULL;
}

const char *slurm_api_version_names(void)
{
	return "v0.0.38, v0.0.39, v0.0.40, v0.0.41";
}

char *slurm_api_path(const struct slurm_api_version *v, const char *what)
{
	return xprintf("/slurm/%s/%s", v != NULL ? v->name : SLURM_API_DEFAULT_VERSION, what);
}

/* ---- small helpers ---- */

/* Remote text for one line: sanitised, cut at max bytes on a UTF-8 boundary ("..."). */
static char *slurm_text(const char *s, size_t max)
{
	char *t = sanitize_text(s != NULL ? s : "", (size_t)-1, 0);
	size_t n = strlen(t);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
		memcpy(t + n, "...", 4);
	}
	return t;
}

/* A string member: a copy, or "" when missing, null or not a string; cut at SLURM_STR_MAX. */
static char *slurm_str(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return xstrdup("");
	s = json_string_value(v);
	n = strnlen(s, SLURM_STR_MAX);
	return xstrndup(s, n);
}

/* A number in either form: a plain integer, or {"set": b, "infinite": b, "number": N}.
 * 1 and *out for a value, 0 when unset (missing, null, set false, wrong type), 2 when
 * infinite. A real is not a count here. */
static int slurm_num(const json_t *v, int64_t *out)
{
	const json_t *s, *inf, *num;

	*out = 0;
	if (json_is_integer(v)) {
		*out = (int64_t)json_integer_value(v);
		return 1;
	}
	if (!json_is_object(v))
		return 0;
	inf = json_object_get(v, "infinite");
	if (json_is_true(inf))
		return 2;
	s = json_object_get(v, "set");
	num = json_object_get(v, "number");
	if (s != NULL && !json_is_true(s))
		return 0;
	if (!json_is_integer(num))
		return 0;
	*out = (int64_t)json_integer_value(num);
	return 1;
}

/* A count 0..SLURM_COUNT_MAX of member key; 0 when unset or out of range. */
static int slurm_count(const json_t *o, const char *key)
{
	int64_t n;

	if (slurm_num(json_object_get(o, key), &n) != 1 || n < 0 || n > SLURM_COUNT_MAX)
		return 0;
	return (int)n;
}

/* Epoch seconds of member key; 0 when unset, infinite or out of range. */
static int64_t slurm_time(const json_t *o, const char *key)
{
	int64_t n;

	if (slurm_num(json_object_get(o, key), &n) != 1 || n <= 0 || n > SLURM_TIME_MAX)
		return 0;
	return n;
}

/* Minutes of a time limit; 0 = unlimited or unset (INFINITE is 0xffffffff in 22.05, -1 in
 * some places, {"infinite": true} later). */
static long slurm_minutes(const json_t *v)
{
	int64_t n;

	if (slurm_num(v, &n) != 1 || n <= 0 || n >= SLURM_MIN_MAX)
		return 0;
	return (long)n;
}

static void slurm_lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Loads an answer and returns its array member key (root in *rootp for json_decref). */
static json_t *slurm_list(const char *body, size_t len, const char *key, json_t **rootp,
                          char **cause)
{
	json_error_t je;
	json_t *root, *arr;

	*rootp = NULL;
	if (body == NULL || len == 0)
		return xcause(cause, "%s: empty answer from slurmrestd", key), NULL;
	root = json_loadb(body, len, 0, &je);
	if (root == NULL) {
		char *t = slurm_text(je.text, 80);

		xcause(cause, "%s: answer is not JSON (line %d: %s)", key, je.line, t);
		free(t);
		return NULL;
	}
	arr = json_is_object(root) ? json_object_get(root, key) : NULL;
	if (!json_is_array(arr)) {
		char *e = slurm_api_error(200, body, len, NULL, NULL);

		if (e != NULL)
			xcause(cause, "%s: %s", key, e);
		else
			xcause(cause, "%s: answer has no \"%s\" list", key, key);
		free(e);
		json_decref(root);
		return NULL;
	}
	if (json_array_size(arr) > SLURM_ITEMS_MAX) {
		json_decref(root);
		return xcause(cause, "%s: answer lists too many entries", key), NULL;
	}
	*rootp = root;
	return arr;
}

/* ---- errors ---- */

const char *slurm_err_name(enum slurm_err e)
{
	switch (e) {
	case SLURM_ERR_AUTH:
		return "auth";
	case SLURM_ERR_INVALID:
		return "invalid";
	case SLURM_ERR_CAPACITY:
		return "capacity";
	case SLURM_ERR_NOTFOUND:
		return "not-found";
	case SLURM_ERR_TRANSIENT:
		return "transient";
	case SLURM_ERR_OTHER:
		break;
	}
	return "other";
}

static int slurm_has(const char *s, const char *word)
{
	size_t n = strlen(word);

	if (s == NULL)
		return 0;
	for (; *s != '\0'; s++)
		if (strncasecmp(s, word, n) == 0)
			return 1;
	return 0;
}

/* The class of Slurm's error number code (slurm_errno.h) or of its words. */
static enum slurm_err slurm_class_of(long status, int64_t code, int has_code, const char *err,
                                     const char *desc, const char *source)
{
	if (has_code && code == -1 &&
	    ((source != NULL && strcmp(source, "slurm_load_ctl_conf") == 0) ||
	     slurm_has(desc, "slurmctld config is unable to load")))
		return SLURM_ERR_AUTH;
	if (slurm_has(err, "authentication") || slurm_has(desc, "authentication") ||
	    slurm_has(err, "Access/permission denied") || (has_code && code == 2002))
		return SLURM_ERR_AUTH;
	if (has_code) {
		switch (code) {
		case 2017: /* ESLURM_INVALID_JOB_ID */
			return SLURM_ERR_NOTFOUND;
		case 2015: /* ESLURM_REQUESTED_PART_CONFIG_UNAVAILABLE */
			return SLURM_ERR_CAPACITY;
		case 2000: /* ESLURM_INVALID_PARTITION_NAME */
		case 2001: /* ESLURM_DEFAULT_PARTITION_NOT_SET */
		case 2004: /* ESLURM_REQUESTED_NODES_NOT_IN_PARTITION */
		case 2005: /* ESLURM_TOO_MANY_REQUESTED_CPUS */
		case 2006: /* ESLURM_INVALID_NODE_COUNT */
		case 2009: /* ESLURM_JOB_SCRIPT_MISSING */
		case 2014: /* ESLURM_REQUESTED_NODE_CONFIG_UNAVAILABLE */
		case 2127: /* "environment must be set" (22.05 REST) */
		case 9001: /* "Failure during parsing" (22.05 REST) */
			return SLURM_ERR_INVALID;
		default:
			break;
		}
		if (code >= 1000 && code < 2000) /* SLURM_COMMUNICATIONS_* and the like */
			return SLURM_ERR_TRANSIENT;
	}
	if (slurm_has(err, "Unable to contact slurm controller") || slurm_has(err, "timed out") ||
	    slurm_has(err, "standby mode") || slurm_has(desc, "Unable to contact slurm controller"))
		return SLURM_ERR_TRANSIENT;
	if (slurm_has(err, "Invalid job id"))
		return SLURM_ERR_NOTFOUND;
	if (slurm_has(err, "Invalid account") || slurm_has(err, "Invalid qos") ||
	    slurm_has(err, "Invalid partition") || slurm_has(err, "time limit") ||
	    slurm_has(err, "node configuration is not available") ||
	    slurm_has(err, "Invalid generic resource") || slurm_has(err, "must be") ||
	    slurm_has(err, "Invalid node count"))
		return SLURM_ERR_INVALID;
	if (status == 400)
		return SLURM_ERR_INVALID;
	if (status == 401 || status == 403)
		return SLURM_ERR_AUTH;
	if (status == 429 || status == 502 || status == 503 || status == 504)
		return SLURM_ERR_TRANSIENT;
	return SLURM_ERR_OTHER;
}

char *slurm_api_error(long status, const char *body, size_t len, const char *transport_error,
                      enum slurm_err *cls)
{
	json_t *root = NULL, *errs, *e0;
	const char *err = NULL, *desc = NULL, *source = NULL;
	int64_t code = 0;
	int has_code = 0, has_errors = 0;
	enum slurm_err c;
	char *line, *a, *b;

	if (cls != NULL)
		*cls = SLURM_ERR_OTHER;
	if (status == 0) {
		a = slurm_text(transport_error != NULL ? transport_error : "unknown error",
		               SLURM_TEXT_MAX);
		line = xprintf("no answer: %s", a);
		free(a);
		if (cls != NULL)
			*cls = SLURM_ERR_TRANSIENT;
		return line;
	}
	if (body != NULL && len > 0)
		root = json_loadb(body, len, 0, NULL);
	errs = json_is_object(root) ? json_object_get(root, "errors") : NULL;
	if (json_is_array(errs) && json_array_size(errs) > 0) {
		has_errors = 1;
		e0 = json_array_get(errs, 0);
		if (json_is_object(e0)) {
			const json_t *n = json_object_get(e0, "error_number");

			if (!json_is_integer(n))
				n = json_object_get(e0, "error_code");
			if (json_is_integer(n)) {
				code = (int64_t)json_integer_value(n);
				has_code = 1;
			}
			if (json_is_string(json_object_get(e0, "error")))
				err = json_string_value(json_object_get(e0, "error"));
			if (json_is_string(json_object_get(e0, "description")))
				desc = json_string_value(json_object_get(e0, "description"));
			if (json_is_string(json_object_get(e0, "source")))
				source = json_string_value(json_object_get(e0, "source"));
		}
	}
	/* a held submit answers 200 with job_id and error 2042 "Job is in held state, pending
	 * scheduler release" (22.05, samples/submit-held.json): a notice, not a failure */
	if (status >= 200 && status < 300 && has_errors && has_code && code == 2042 &&
	    json_array_size(errs) == 1)
		has_errors = 0;
	if (status >= 200 && status < 300 && !has_errors) {
		json_decref(root);
		return NULL;
	}
	c = slurm_class_of(status, code, has_code, err, desc, source);
	if (!has_errors && status >= 500 && status != 501 && root == NULL)
		c = SLURM_ERR_TRANSIENT; /* no Slurm answer at all: a proxy, a restart */
	if (cls != NULL)
		*cls = c;
	if (c == SLURM_ERR_AUTH) {
		/* fixed words: nothing about a token is echoed */
		if (has_errors)
			line = xstrdup("token refused (invalid or expired)");
		else
			line = xprintf("token refused (HTTP %ld)", status);
	} else if (has_errors) {
		/* "Unspecified error" says nothing: the description then leads */
		if (err == NULL || *err == '\0' || strcmp(err, "Unspecified error") == 0) {
			err = desc;
			desc = NULL;
		}
		a = slurm_text(err != NULL && *err != '\0' ? err : "error", SLURM_TEXT_MAX);
		b = desc != NULL && *desc != '\0' && strcmp(desc, err) != 0
		        ? slurm_text(desc, SLURM_TEXT_MAX)
		        : NULL;
		if (has_code)
			line = xprintf("%s (%lld)%s%s", a, (long long)code, b != NULL ? ": " : "",
			               b != NULL ? b : "");
		else
			line = xprintf("%s (HTTP %ld)%s%s", a, status, b != NULL ? ": " : "",
			               b != NULL ? b : "");
		free(a);
		free(b);
	} else if (status == 404) {
		line = xstrdup("HTTP 404 from slurmrestd (path not served: API version?)");
	} else if (status == 429) {
		line = xstrdup("rate limited by slurmrestd (HTTP 429)");
	} else if (status == 400 && body != NULL && len > 0 && root == NULL) {
		/* 22.05 answers a body it cannot read with text/plain */
		a = xstrndup(body, len < 120 ? len : 120);
		b = slurm_text(a, 100);
		line = xprintf("HTTP 400 from slurmrestd: %s", b);
		free(a);
		free(b);
	} else {
		line = xprintf("HTTP %ld from slurmrestd", status);
	}
	json_decref(root);
	return line;
}

/* ---- labels ---- */

static const char slurm_label_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789._@-";

/* A label value: allowed characters only (others '_'), cut at SLURM_LABEL_MAX; empty -> dflt. */
static char *slurm_label_value(const char *s, const char *dflt)
{
	size_t n;
	char *v;

	if (s == NULL || *s == '\0')
		return xstrdup(dflt);
	n = strnlen(s, SLURM_LABEL_MAX);
	v = xstrndup(s, n);
	for (char *p = v; *p != '\0'; p++)
		if (strchr(slurm_label_chars, *p) == NULL)
			*p = '_';
	return v;
}

char *slurm_api_label_name(const char *job_id)
{
	char *v = slurm_label_value(job_id, "_");
	char *r = xprintf("gantry-%s", v);

	free(v);
	return r;
}

char *slurm_api_label_comment(const struct slurm_label *l)
{
	char *id = slurm_label_value(l->job_id, "_");
	char *owner = slurm_label_value(l->owner, "_");
	char *team = slurm_label_value(l->team, "-");
	char *inst = slurm_label_value(l->installation_id, "_");
	char *r = xprintf("gantry:1 job=%s attempt=%d owner=%s team=%s inst=%s", id,
	                  l->attempt < 0 ? 0 : l->attempt, owner, team, inst);

	free(id);
	free(owner);
	free(team);
	free(inst);
	return r;
}

/* One "key=value" token at *p (ending at a space or the end): the value, or NULL when the
 * token is not exactly that key with a non-empty value of label characters. */
static char *slurm_label_token(const char **p, const char *key)
{
	size_t k = strlen(key), n;
	const char *s = *p;

	if (strncmp(s, key, k) != 0 || s[k] != '=')
		return NULL;
	s += k + 1;
	n = strspn(s, slurm_label_chars);
	if (n == 0 || n > SLURM_LABEL_MAX || (s[n] != ' ' && s[n] != '\0'))
		return NULL;
	*p = s + n + (s[n] == ' ' ? 1 : 0);
	if (s[n] == ' ' && s[n + 1] == '\0')
		return NULL; /* a trailing space is not Gantry's */
	return xstrndup(s, n);
}

int slurm_api_label_parse(const char *comment, struct slurm_label *out)
{
	const char *p = comment;
	char *attempt = NULL, *end;
	long a;

	memset(out, 0, sizeof *out);
	if (p == NULL || strncmp(p, "gantry:1 ", 9) != 0)
		return -1;
	p += 9;
	if ((out->job_id = slurm_label_token(&p, "job")) == NULL ||
	    (attempt = slurm_label_token(&p, "attempt")) == NULL ||
	    (out->owner = slurm_label_token(&p, "owner")) == NULL ||
	    (out->team = slurm_label_token(&p, "team")) == NULL ||
	    (out->installation_id = slurm_label_token(&p, "inst")) == NULL || *p != '\0')
		goto bad;
	if (strspn(attempt, "0123456789") != strlen(attempt) || strlen(attempt) > 7)
		goto bad;
	errno = 0;
	a = strtol(attempt, &end, 10);
	if (errno != 0 || *end != '\0')
		goto bad;
	out->attempt = (int)a;
	free(attempt);
	if (strcmp(out->team, "-") == 0) {
		free(out->team);
		out->team = NULL;
	}
	return 0;
bad:
	free(attempt);
	slurm_label_clear(out);
	return -1;
}

void slurm_label_clear(struct slurm_label *l)
{
	if (l == NULL)
		return;
	free(l->job_id);
	free(l->owner);
	free(l->team);
	free(l->installation_id);
	memset(l, 0, sizeof *l);
}

/* ---- submit ---- */

static json_t *slurm_num_json(const struct slurm_api_version *v, int64_t n)
{
	if (v->numbers_as_obj)
		return json_pack("{s:b, s:b, s:I}", "set", 1, "infinite", 0, "number",
		                 (json_int_t)n);
	return json_integer((json_int_t)n);
}

static json_t *slurm_env_json(const struct slurm_api_version *v, const struct kvlist *env)
{
	json_t *e = v->env_as_list ? json_array() : json_object();
	size_t n = env != NULL ? env->n : 0;

	for (size_t i = 0; i < n; i++) {
		if (v->env_as_list) {
			char *kv = xprintf("%s=%s", env->keys[i], env->vals[i]);

			json_array_append_new(e, json_string(kv));
			free(kv);
		} else {
			json_object_set_new(e, env->keys[i], json_string(env->vals[i]));
		}
	}
	/* Slurm refuses a job without environment ("environment must be set"): an empty one
	 * gets a PATH, nothing else */
	if (n == 0) {
		if (v->env_as_list)
			json_array_append_new(e, json_string("PATH=/usr/local/bin:/usr/bin:/bin"));
		else
			json_object_set_new(e, "PATH", json_string("/usr/local/bin:/usr/bin:/bin"));
	}
	return e;
}

static void slurm_set_str(json_t *o, const char *key, const char *s)
{
	if (s != NULL && *s != '\0')
		json_object_set_new(o, key, json_string(s));
}

char *slurm_api_submit_body(const struct slurm_api_version *v, const struct slurm_submit *s)
{
	json_t *root = json_object(), *job = json_object();
	int nodes = s->nodes >= 1 ? s->nodes : 1;
	int tpn = s->tasks_per_node >= 1 ? s->tasks_per_node : 1;
	char *dump, *r;

	if (v == NULL)
		v = &slurm_versions[0];
	json_object_set_new(root, "script", json_string(s->script != NULL ? s->script : ""));
	slurm_set_str(job, "name", s->name);
	slurm_set_str(job, "comment", s->comment);
	slurm_set_str(job, "partition", s->partition);
	slurm_set_str(job, "account", s->account);
	slurm_set_str(job, "qos", s->qos);
	slurm_set_str(job, "current_working_directory", s->cwd);
	slurm_set_str(job, "standard_output", s->output);
	slurm_set_str(job, "standard_error", s->output);
	json_object_set_new(job, "environment", slurm_env_json(v, s->env));
	if (v->numbers_as_obj) {
		char *ns = xprintf("%d", nodes);

		json_object_set_new(job, "nodes", json_string(ns)); /* "N" (v0.0.39+) */
		free(ns);
	} else {
		json_object_set_new(job, "nodes", json_pack("[i, i]", nodes, nodes));
	}
	json_object_set_new(job, "tasks", json_integer((json_int_t)nodes * tpn));
	json_object_set_new(job, "tasks_per_node", json_integer(tpn));
	if (s->cpus_per_task > 0)
		json_object_set_new(job, "cpus_per_task", json_integer(s->cpus_per_task));
	if (s->memory_mib > 0)
		json_object_set_new(job, "memory_per_node", slurm_num_json(v, s->memory_mib));
	if (s->gpus_per_node > 0) {
		char *t = s->gpu_type != NULL && *s->gpu_type != '\0'
		              ? slurm_label_value(s->gpu_type, "_")
		              : NULL;
		char *g = xprintf("%sgpu%s%s:%d", v->gres_as_tres ? "gres/" : "",
		                  t != NULL ? ":" : "", t != NULL ? t : "", s->gpus_per_node);

		json_object_set_new(job, v->gres_as_tres ? "tres_per_node" : "gres",
		                    json_string(g));
		free(g);
		free(t);
	}
	if (s->time_limit_min > 0)
		json_object_set_new(job, "time_limit", slurm_num_json(v, s->time_limit_min));
	json_object_set_new(job, "hold", json_boolean(s->hold));
	json_object_set_new(job, "requeue", json_boolean(s->requeue));
	json_object_set_new(root, "job", job);
	dump = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (dump == NULL)
		xfatal("slurm: cannot encode a request");
	r = xstrdup(dump);
	free(dump);
	return r;
}

int slurm_api_parse_submit(const char *body, size_t len, int64_t *job_id, char **cause)
{
	json_error_t je;
	json_t *root;
	char *e;
	int64_t id;

	*job_id = 0;
	if (body == NULL || len == 0)
		return xcause(cause, "submit: empty answer from slurmrestd");
	root = json_loadb(body, len, 0, &je);
	if (!json_is_object(root)) {
		json_decref(root);
		return xcause(cause, "submit: answer is not a JSON object");
	}
	e = slurm_api_error(200, body, len, NULL, NULL);
	if (e != NULL) {
		xcause(cause, "submit: %s", e);
		free(e);
		json_decref(root);
		return -1;
	}
	if (slurm_num(json_object_get(root, "job_id"), &id) != 1 || id <= 0 ||
	    id > (int64_t)0xffffffffLL) {
		json_decref(root);
		return xcause(cause, "submit: answer has no valid job_id");
	}
	*job_id = id;
	json_decref(root);
	return 0;
}

/* ---- jobs ---- */

static int slurm_is_requeue_flag(const char *s)
{
	return strcmp(s, "REQUEUED") == 0 || strcmp(s, "REQUEUE_HOLD") == 0 ||
	       strcmp(s, "REQUEUE_FED") == 0 || strcmp(s, "RESIZING") == 0;
}

/* job_state: "RUNNING" (v0.0.38/39) or ["PENDING", "REQUEUED", ...] (v0.0.40+): the first
 * entry, except that a PENDING job with a requeue flag says the flag (it is a requeue). */
static char *slurm_job_state(const json_t *v)
{
	const json_t *e;
	const char *first = NULL;
	size_t i;

	if (json_is_string(v))
		return xstrndup(json_string_value(v), 64);
	if (!json_is_array(v))
		return NULL;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			continue;
		if (first == NULL)
			first = json_string_value(e);
		else if (strcmp(first, "PENDING") == 0 &&
		         slurm_is_requeue_flag(json_string_value(e)))
			return xstrdup(json_string_value(e));
	}
	return first != NULL ? xstrndup(first, 64) : NULL;
}

/* exit_code: v0.0.38 the raw wait status (exit 3 -> 768; SIGKILL -> 9, checked on 22.05);
 * v0.0.39 the same in a number object (assumed); v0.0.40+ {"status": ["EXITED"] or
 * ["SIGNALED"], "return_code": {number}, "signal": {"id": {number}}}. 1 and *code (>= 0
 * status, < 0 = -signal), or 0 when unset. */
static int slurm_exit(const json_t *v, int *code)
{
	int64_t n;

	if (json_is_object(v) &&
	    (json_object_get(v, "return_code") != NULL || json_object_get(v, "signal") != NULL ||
	     json_object_get(v, "status") != NULL)) {
		const json_t *sig = json_object_get(v, "signal");
		const json_t *st = json_object_get(v, "status");
		int64_t id = 0;
		int signaled = 0;
		const json_t *e;
		size_t i;

		json_array_foreach(st, i, e)
		{
			if (json_is_string(e) && (strcmp(json_string_value(e), "SIGNALED") == 0 ||
			                          strcmp(json_string_value(e), "CORE_DUMPED") == 0))
				signaled = 1;
		}
		if (json_is_object(sig) && slurm_num(json_object_get(sig, "id"), &id) == 1 &&
		    id > 0 && id < 128 && (signaled || !json_is_array(st))) {
			*code = -(int)id;
			return 1;
		}
		if (slurm_num(json_object_get(v, "return_code"), &n) == 1 && n >= 0 && n < 256) {
			*code = (int)n;
			return 1;
		}
		return 0;
	}
	if (slurm_num(v, &n) != 1 || n < 0 || n > 0xffff)
		return 0;
	if ((n & 0x7f) != 0)
		*code = -(int)(n & 0x7f);
	else
		*code = (int)((n >> 8) & 0xff);
	return 1;
}

/* "gres:gpu:1" / "gres/gpu:a100:2,gres/mps:10" -> "gpu:1" / "gpu:a100:2,mps:10". */
static char *slurm_gres_of(const char *s)
{
	size_t n = strlen(s);
	char *r = xmalloc(n + 1), *o = r;

	while (*s != '\0') {
		if (strncmp(s, "gres:", 5) == 0 || strncmp(s, "gres/", 5) == 0)
			s += 5;
		while (*s != '\0' && *s != ',')
			*o++ = *s++;
		if (*s == ',')
			*o++ = *s++;
	}
	*o = '\0';
	return r;
}

static void slurm_job_clear(struct slurm_job *j)
{
	free(j->name);
	free(j->comment);
	free(j->user_name);
	free(j->partition);
	free(j->state);
	free(j->state_reason);
	free(j->nodes);
	free(j->batch_host);
	free(j->gres);
	free(j->std_out);
	memset(j, 0, sizeof *j);
}

static int slurm_job_from(const json_t *o, struct slurm_job *j)
{
	int64_t id;
	char *g;

	memset(j, 0, sizeof *j);
	if (!json_is_object(o))
		return -1;
	if (slurm_num(json_object_get(o, "job_id"), &id) != 1 || id <= 0 ||
	    id > (int64_t)0xffffffffLL)
		return -1;
	j->state = slurm_job_state(json_object_get(o, "job_state"));
	if (j->state == NULL)
		return -1;
	j->id = id;
	j->name = slurm_str(o, "name");
	j->comment = slurm_str(o, "comment");
	j->user_name = slurm_str(o, "user_name");
	j->partition = slurm_str(o, "partition");
	j->state_reason = slurm_str(o, "state_reason");
	j->nodes = slurm_str(o, "nodes");
	j->batch_host = slurm_str(o, "batch_host");
	g = slurm_str(o, "tres_per_node");
	if (*g == '\0') {
		free(g);
		g = slurm_str(o, "tres_per_job");
	}
	j->gres = slurm_gres_of(g);
	free(g);
	j->node_count = slurm_count(o, "node_count");
	j->submit_time = slurm_time(o, "submit_time");
	j->start_time = slurm_time(o, "start_time");
	j->end_time = slurm_time(o, "end_time");
	j->time_limit_min = slurm_minutes(json_object_get(o, "time_limit"));
	j->has_exit = slurm_exit(json_object_get(o, "exit_code"), &j->exit_code);
	j->restart_cnt = slurm_count(o, "restart_cnt");
	j->std_out = slurm_str(o, "standard_output");
	return 0;
}

int slurm_api_parse_jobs(const struct slurm_api_version *v, const char *body, size_t len,
                         struct slurm_job **out, size_t *n, char **cause)
{
	json_t *root, *arr, *e;
	size_t i;

	(void)v; /* both forms are read whatever the row */
	arr = slurm_list(body, len, "jobs", &root, cause);
	if (arr == NULL)
		return -1;
	json_array_foreach(arr, i, e)
	{
		struct slurm_job j;

		if (slurm_job_from(e, &j) != 0) {
			slurm_job_clear(&j);
			continue;
		}
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[(*n)++] = j;
	}
	json_decref(root);
	return 0;
}

void slurm_jobs_free(struct slurm_job *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		slurm_job_clear(&v[i]);
	free(v);
}

/* ---- state mapping ---- */

/* "pending: Resources", "requeued: NodeDown": words plus Slurm's reason when it says one. */
static char *slurm_with_reason(const char *words, const char *why)
{
	char *t, *r;

	if (why == NULL || *why == '\0' || strcmp(why, "None") == 0)
		return xstrdup(words);
	t = slurm_text(why, 60);
	r = xprintf("%s: %s", words, t);
	free(t);
	return r;
}

enum job_state slurm_api_state(const struct slurm_job *j, char **reason)
{
	const char *s = j->state != NULL ? j->state : "";
	const char *why = j->state_reason;
	char *r = NULL;
	enum job_state st;

	if (strcmp(s, "PENDING") == 0) {
		if (j->restart_cnt > 0) {
			st = JOB_RECOVERING;
			r = slurm_with_reason("requeued", why);
		} else {
			st = JOB_STARTING;
			if (why != NULL && strcmp(why, "JobHeldUser") == 0)
				r = xstrdup("held by user");
			else if (why != NULL && strcmp(why, "JobHeldAdmin") == 0)
				r = xstrdup("held by admin");
			else
				r = slurm_with_reason("pending", why);
		}
	} else if (strcmp(s, "RUNNING") == 0) {
		st = JOB_RUNNING;
	} else if (strcmp(s, "CONFIGURING") == 0) {
		st = JOB_RUNNING;
		r = xstrdup("configuring nodes");
	} else if (strcmp(s, "COMPLETING") == 0 || strcmp(s, "SIGNALING") == 0 ||
	           strcmp(s, "STAGE_OUT") == 0) {
		st = JOB_RUNNING;
		r = xstrdup("completing");
	} else if (strcmp(s, "SUSPENDED") == 0) {
		st = JOB_RUNNING;
		r = xstrdup("suspended");
	} else if (strcmp(s, "STOPPED") == 0) {
		st = JOB_RUNNING;
		r = xstrdup("stopped (SIGSTOP)");
	} else if (strcmp(s, "COMPLETED") == 0) {
		st = JOB_SUCCEEDED;
	} else if (strcmp(s, "FAILED") == 0) {
		st = JOB_FAILED;
		if (why != NULL && strcmp(why, "JobLaunchFailure") == 0 && j->has_exit &&
		    j->exit_code < 0)
			r = xprintf("killed by signal %d", -j->exit_code);
		else if (why != NULL && strcmp(why, "JobLaunchFailure") == 0)
			r = xstrdup("launch failed");
		else if (j->has_exit && j->exit_code > 0)
			r = xprintf("exit status %d", j->exit_code);
		else if (j->has_exit && j->exit_code < 0)
			r = xprintf("killed by signal %d", -j->exit_code);
		else
			r = slurm_with_reason("failed", why);
	} else if (strcmp(s, "OUT_OF_MEMORY") == 0) {
		st = JOB_FAILED;
		r = xstrdup("out of memory");
	} else if (strcmp(s, "NODE_FAIL") == 0) {
		st = JOB_FAILED;
		r = xstrdup("node failure");
	} else if (strcmp(s, "BOOT_FAIL") == 0) {
		st = JOB_FAILED;
		r = xstrdup("node boot failure");
	} else if (strcmp(s, "DEADLINE") == 0) {
		st = JOB_FAILED;
		r = xstrdup("deadline reached");
	} else if (strcmp(s, "TIMEOUT") == 0) {
		st = JOB_FAILED;
		r = xstrdup("time limit reached");
	} else if (strcmp(s, "SPECIAL_EXIT") == 0) {
		st = JOB_FAILED;
		r = xstrdup("special exit");
	} else if (strcmp(s, "CANCELLED") == 0) {
		st = JOB_STOPPED;
		r = xstrdup("cancelled");
	} else if (strcmp(s, "PREEMPTED") == 0) {
		st = JOB_PREEMPTED;
		r = xstrdup("preempted");
	} else if (slurm_is_requeue_flag(s)) {
		st = JOB_RECOVERING;
		r = slurm_with_reason("requeued", why);
	} else {
		char *t = slurm_text(s, 40);

		st = JOB_UNKNOWN;
		r = xprintf("unknown Slurm state %s", t);
		free(t);
	}
	if (reason != NULL)
		*reason = r;
	else
		free(r);
	return st;
}

/* ---- GRES ---- */

static int slurm_gres_type_ok(const char *s, size_t n)
{
	if (n == 0 || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return 0;
	return 1;
}

/* One entry "gpu", "gpu:2", "gpu:a100:4(S:0-1)", "gres/gpu:a100=2" (tres style). 1 and
 * *g for a GPU entry, 0 for another GRES, -1 when malformed. */
static int slurm_gres_entry(const char *s, size_t len, struct slurm_gres *g)
{
	const char *end = s + len, *p, *c1, *c2;
	size_t nlen;
	long cnt = 1;

	memset(g, 0, sizeof *g);
	p = memchr(s, '(', len);
	if (p != NULL)
		end = p; /* "(S:0-1)", "(IDX:0,2)" */
	if (end - s >= 5 && (strncmp(s, "gres:", 5) == 0 || strncmp(s, "gres/", 5) == 0))
		s += 5;
	if (s >= end)
		return -1;
	c1 = memchr(s, ':', (size_t)(end - s));
	if (c1 == NULL)
		c1 = memchr(s, '=', (size_t)(end - s));
	nlen = (size_t)((c1 != NULL ? c1 : end) - s);
	if (nlen == 0)
		return -1;
	if (nlen != 3 || strncmp(s, "gpu", 3) != 0)
		return slurm_gres_type_ok(s, nlen) ? 0 : -1;
	if (c1 != NULL) {
		const char *num;
		char buf[16];
		size_t k;

		c2 = memchr(c1 + 1, ':', (size_t)(end - c1 - 1));
		if (c2 == NULL)
			c2 = memchr(c1 + 1, '=', (size_t)(end - c1 - 1));
		if (c2 != NULL) {
			if (c2 == c1 + 1 || !slurm_gres_type_ok(c1 + 1, (size_t)(c2 - c1 - 1)) ||
			    (size_t)(c2 - c1 - 1) > 64)
				return -1;
			num = c2 + 1;
		} else if (c1 + 1 < end && !isdigit((unsigned char)c1[1])) {
			/* "gpu:a100": a type without a count is one */
			if (!slurm_gres_type_ok(c1 + 1, (size_t)(end - c1 - 1)) ||
			    end - c1 - 1 > 64)
				return -1;
			g->type = xstrndup(c1 + 1, (size_t)(end - c1 - 1));
			g->count = 1;
			return 1;
		} else {
			num = c1 + 1;
		}
		k = (size_t)(end - num);
		if (k == 0 || k >= sizeof buf || strspn(num, "0123456789") < k)
			return -1;
		memcpy(buf, num, k);
		buf[k] = '\0';
		cnt = strtol(buf, NULL, 10);
		if (cnt < 0 || cnt > SLURM_COUNT_MAX)
			return -1;
		g->type = c2 != NULL ? xstrndup(c1 + 1, (size_t)(c2 - c1 - 1)) : xstrdup("");
	} else {
		g->type = xstrdup("");
	}
	g->count = (int)cnt;
	return 1;
}

int slurm_api_parse_gres(const char *s, struct slurm_gres **out, size_t *n)
{
	struct slurm_gres *v = NULL;
	size_t nv = 0, entries = 0;

	*out = NULL;
	*n = 0;
	if (s == NULL || *s == '\0' || strcmp(s, "(null)") == 0 || strcmp(s, "N/A") == 0)
		return 0;
	while (*s != '\0') {
		const char *e = s;
		int depth = 0, r;
		struct slurm_gres g;

		/* a comma inside "(IDX:0,2)" does not end the entry */
		while (*e != '\0' && (*e != ',' || depth > 0)) {
			if (*e == '(')
				depth++;
			else if (*e == ')' && depth > 0)
				depth--;
			e++;
		}
		if (++entries > SLURM_GRES_MAX || depth != 0)
			goto bad;
		r = slurm_gres_entry(s, (size_t)(e - s), &g);
		if (r < 0)
			goto bad;
		if (r == 1) {
			v = xreallocarray(v, nv + 1, sizeof *v);
			v[nv++] = g;
		}
		s = *e == ',' ? e + 1 : e;
		if (*e == ',' && *s == '\0')
			goto bad;
	}
	*out = v;
	*n = nv;
	return 0;
bad:
	slurm_gres_free(v, nv);
	return -1;
}

void slurm_gres_free(struct slurm_gres *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].type);
	free(v);
}

/* ---- nodes ---- */

static void slurm_node_clear(struct slurm_node *nd)
{
	free(nd->name);
	free(nd->address);
	free(nd->state);
	free(nd->reason);
	free(nd->partitions);
	free(nd->gpu_type);
	memset(nd, 0, sizeof *nd);
}

/* "a,b" from a list of strings (or a string as it is). */
static char *slurm_joined(const json_t *v)
{
	const json_t *e;
	size_t i, len = 0;
	char *r;

	if (json_is_string(v))
		return xstrndup(json_string_value(v), SLURM_STR_MAX);
	r = xstrdup("");
	json_array_foreach(v, i, e)
	{
		const char *s;
		size_t k;
		char *t;

		if (!json_is_string(e))
			continue;
		s = json_string_value(e);
		k = strnlen(s, 256);
		if (len + k + 2 > SLURM_STR_MAX)
			break;
		t = xprintf("%s%s%.*s", r, len > 0 ? "," : "", (int)k, s);
		free(r);
		r = t;
		len = strlen(r);
	}
	return r;
}

static int slurm_list_has(const json_t *v, const char *word)
{
	const json_t *e;
	size_t i;

	json_array_foreach(v, i, e)
	{
		if (json_is_string(e) && strcasecmp(json_string_value(e), word) == 0)
			return 1;
	}
	return 0;
}

/* GPUs of a GRES string: the total, and the first typed entry's type. */
static int slurm_gpus_of(const char *s, char **type)
{
	struct slurm_gres *g;
	size_t n;
	long total = 0;

	if (slurm_api_parse_gres(s, &g, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		total += g[i].count;
		if (type != NULL && *type == NULL && g[i].type[0] != '\0')
			*type = xstrdup(g[i].type);
	}
	slurm_gres_free(g, n);
	return total > SLURM_COUNT_MAX ? SLURM_COUNT_MAX : (int)total;
}

static int slurm_node_from(const json_t *o, struct slurm_node *nd)
{
	const json_t *st = json_object_get(o, "state");
	char *gres;
	int64_t m;

	memset(nd, 0, sizeof *nd);
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "name")) ||
	    json_string_length(json_object_get(o, "name")) == 0)
		return -1;
	if (json_is_string(st)) {
		nd->state = xstrndup(json_string_value(st), 64);
	} else if (json_is_array(st) && json_is_string(json_array_get(st, 0))) {
		nd->state = xstrndup(json_string_value(json_array_get(st, 0)), 64);
		nd->drain = slurm_list_has(st, "DRAIN");
	} else {
		return -1;
	}
	/* 22.05 may also write the flags into the string: "idle+drain" */
	if (strchr(nd->state, '+') != NULL) {
		if (slurm_has(nd->state, "+drain"))
			nd->drain = 1;
		*strchr(nd->state, '+') = '\0';
	}
	slurm_lower(nd->state);
	if (slurm_list_has(json_object_get(o, "state_flags"), "DRAIN"))
		nd->drain = 1;
	nd->name = slurm_str(o, "name");
	nd->address = slurm_str(o, "address");
	if (nd->address[0] == '\0') {
		free(nd->address);
		nd->address = xstrdup(nd->name);
	}
	nd->reason = slurm_str(o, "reason");
	nd->partitions = slurm_joined(json_object_get(o, "partitions"));
	gres = slurm_str(o, "gres");
	nd->gpus = slurm_gpus_of(gres, &nd->gpu_type);
	free(gres);
	if (nd->gpu_type == NULL)
		nd->gpu_type = xstrdup("");
	gres = slurm_str(o, "gres_used");
	nd->gpus_used = slurm_gpus_of(gres, NULL);
	free(gres);
	if (nd->gpus_used > nd->gpus)
		nd->gpus_used = nd->gpus;
	nd->cpus = slurm_count(o, "cpus");
	nd->alloc_cpus = slurm_count(o, "alloc_cpus");
	if (slurm_num(json_object_get(o, "real_memory"), &m) == 1 && m > 0 && m < (1LL << 40))
		nd->memory_mib = m;
	if (slurm_num(json_object_get(o, "alloc_memory"), &m) == 1 && m > 0 && m < (1LL << 40))
		nd->alloc_memory_mib = m;
	return 0;
}

int slurm_api_parse_nodes(const struct slurm_api_version *v, const char *body, size_t len,
                          struct slurm_node **out, size_t *n, char **cause)
{
	json_t *root, *arr, *e;
	size_t i;

	(void)v;
	arr = slurm_list(body, len, "nodes", &root, cause);
	if (arr == NULL)
		return -1;
	json_array_foreach(arr, i, e)
	{
		struct slurm_node nd;

		if (slurm_node_from(e, &nd) != 0) {
			slurm_node_clear(&nd);
			continue;
		}
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[(*n)++] = nd;
	}
	json_decref(root);
	return 0;
}

void slurm_nodes_free(struct slurm_node *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		slurm_node_clear(&v[i]);
	free(v);
}

/* ---- partitions ---- */

static void slurm_partition_clear(struct slurm_partition *p)
{
	free(p->name);
	free(p->state);
	free(p->nodes);
	memset(p, 0, sizeof *p);
}

static int slurm_partition_from(const json_t *o, struct slurm_partition *p)
{
	const json_t *st, *nodes, *part, *cpus, *maxs;

	memset(p, 0, sizeof *p);
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "name")) ||
	    json_string_length(json_object_get(o, "name")) == 0)
		return -1;
	p->name = slurm_str(o, "name");
	/* state: "UP" (v0.0.38) or partition.state ["UP"] (v0.0.40+) */
	st = json_object_get(o, "state");
	part = json_object_get(o, "partition");
	if (!json_is_string(st) && json_is_object(part))
		st = json_object_get(part, "state");
	if (json_is_array(st))
		st = json_array_get(st, 0);
	p->state = json_is_string(st) ? xstrndup(json_string_value(st), 64) : xstrdup("unknown");
	slurm_lower(p->state);
	p->is_default = slurm_list_has(json_object_get(o, "flags"), "default");
	/* nodes: "gpu[01-02]" (v0.0.38) or {"configured", "total"} (v0.0.40+) */
	nodes = json_object_get(o, "nodes");
	if (json_is_object(nodes)) {
		p->nodes = slurm_str(nodes, "configured");
		p->total_nodes = slurm_count(nodes, "total");
	} else {
		p->nodes = slurm_str(o, "nodes");
		p->total_nodes = slurm_count(o, "total_nodes");
	}
	cpus = json_object_get(o, "cpus");
	p->total_cpus =
	    json_is_object(cpus) ? slurm_count(cpus, "total") : slurm_count(o, "total_cpus");
	maxs = json_object_get(o, "maximums");
	p->max_time_min = json_is_object(maxs)
	                      ? slurm_minutes(json_object_get(maxs, "time"))
	                      : slurm_minutes(json_object_get(o, "max_time_limit"));
	return 0;
}

int slurm_api_parse_partitions(const struct slurm_api_version *v, const char *body, size_t len,
                               struct slurm_partition **out, size_t *n, char **cause)
{
	json_t *root, *arr, *e;
	size_t i;

	(void)v;
	arr = slurm_list(body, len, "partitions", &root, cause);
	if (arr == NULL)
		return -1;
	json_array_foreach(arr, i, e)
	{
		struct slurm_partition p;

		if (slurm_partition_from(e, &p) != 0) {
			slurm_partition_clear(&p);
			continue;
		}
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		(*out)[(*n)++] = p;
	}
	json_decref(root);
	return 0;
}

void slurm_partitions_free(struct slurm_partition *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		slurm_partition_clear(&v[i]);
	free(v);
}

/* ---- host lists ---- */

struct slurm_names {
	char **v;
	size_t n, max;
};

static int slurm_names_add(struct slurm_names *l, char *s)
{
	if (l->n >= l->max) {
		free(s);
		return -1;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof *l->v);
	l->v[l->n++] = s;
	return 0;
}

/* Expands one host expression (no top-level comma): prefix + "[a-b,c]" + rest, recursively
 * for several bracket groups ("r[1-2]n[01-02]"). */
static int slurm_expand(const char *pre, const char *s, size_t len, struct slurm_names *l,
                        int depth)
{
	const char *lb = memchr(s, '[', len), *rb, *p;
	char *head;
	int rc = 0;

	if (depth > 8)
		return -1;
	if (lb == NULL) {
		if (memchr(s, ']', len) != NULL)
			return -1;
		return slurm_names_add(l, xprintf("%s%.*s", pre, (int)len, s));
	}
	rb = memchr(lb, ']', len - (size_t)(lb - s));
	if (rb == NULL || rb == lb + 1 || memchr(s, ']', (size_t)(lb - s)) != NULL)
		return -1;
	head = xprintf("%s%.*s", pre, (int)(lb - s), s);
	for (p = lb + 1; p < rb && rc == 0;) {
		const char *q = memchr(p, ',', (size_t)(rb - p));
		const char *e = q != NULL ? q : rb, *dash;
		char a[16], b[16];
		size_t na, nb;
		long lo, hi;
		int width;

		if (e == p) {
			rc = -1;
			break;
		}
		dash = memchr(p, '-', (size_t)(e - p));
		na = (size_t)((dash != NULL ? dash : e) - p);
		nb = dash != NULL ? (size_t)(e - dash - 1) : na;
		if (na == 0 || na >= sizeof a || nb == 0 || nb >= sizeof b ||
		    strspn(p, "0123456789") < na ||
		    (dash != NULL && strspn(dash + 1, "0123456789") < nb)) {
			rc = -1;
			break;
		}
		memcpy(a, p, na);
		a[na] = '\0';
		memcpy(b, dash != NULL ? dash + 1 : p, nb);
		b[nb] = '\0';
		lo = strtol(a, NULL, 10);
		hi = strtol(b, NULL, 10);
		width = a[0] == '0' ? (int)na : 0; /* "01-10": zero padded to the low end's width */
		if (hi < lo || (size_t)(hi - lo) >= l->max - l->n + 1) {
			rc = -1;
			break;
		}
		for (long k = lo; k <= hi && rc == 0; k++) {
			char *h = xprintf("%s%0*ld", head, width, k);

			rc = slurm_expand(h, rb + 1, len - (size_t)(rb + 1 - s), l, depth + 1);
			free(h);
		}
		p = q != NULL ? q + 1 : rb;
		if (q != NULL && p == rb)
			rc = -1; /* "[1,]" */
	}
	free(head);
	return rc;
}

int slurm_api_hostlist(const char *expr, char ***out, size_t *n, size_t max)
{
	struct slurm_names l = {.v = NULL, .n = 0, .max = max};
	const char *s = expr;

	*out = NULL;
	*n = 0;
	if (expr == NULL)
		return -1;
	while (*s != '\0') {
		const char *e = s;
		int depth = 0;

		while (*e != '\0' && (*e != ',' || depth > 0)) {
			if (*e == '[')
				depth++;
			else if (*e == ']')
				depth--;
			if (depth < 0 || depth > 1)
				goto bad;
			e++;
		}
		if (depth != 0 || e == s)
			goto bad;
		for (const char *c = s; c < e; c++)
			if ((unsigned char)*c <= ' ' || *c == 0x7f)
				goto bad;
		if (slurm_expand("", s, (size_t)(e - s), &l, 0) != 0)
			goto bad;
		s = *e == ',' ? e + 1 : e;
		if (*e == ',' && *s == '\0')
			goto bad;
	}
	*out = l.v;
	*n = l.n;
	return 0;
bad:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return -1;
}

/* ---- the Cluster view ---- */

/* 1 when the comma list parts names part. */
static int slurm_in_list(const char *parts, const char *part)
{
	size_t k = strlen(part);

	for (const char *p = parts; p != NULL && *p != '\0';) {
		const char *c = strchr(p, ',');
		size_t n = c != NULL ? (size_t)(c - p) : strlen(p);

		if (n == k && strncmp(p, part, k) == 0)
			return 1;
		p = c != NULL ? c + 1 : NULL;
	}
	return 0;
}

/* 1 running (holds nodes), 2 pending (waits), 0 ended. */
static int slurm_queue_kind(const char *s)
{
	if (strcmp(s, "RUNNING") == 0 || strcmp(s, "CONFIGURING") == 0 ||
	    strcmp(s, "COMPLETING") == 0 || strcmp(s, "SUSPENDED") == 0 ||
	    strcmp(s, "STOPPED") == 0 || strcmp(s, "SIGNALING") == 0 || strcmp(s, "STAGE_OUT") == 0)
		return 1;
	if (strcmp(s, "PENDING") == 0 || slurm_is_requeue_flag(s))
		return 2;
	return 0;
}

void slurm_api_cluster(const char *provider, const struct slurm_partition *parts, size_t np,
                       const struct slurm_node *nodes, size_t nn, const struct slurm_job *jobs,
                       size_t nj, struct cluster_info *out)
{
	memset(out, 0, sizeof *out);
	out->provider = xstrdup(provider != NULL ? provider : "");
	if (nn > 0)
		out->nodes = xcalloc(nn, sizeof *out->nodes);
	for (size_t i = 0; i < nn; i++) {
		const struct slurm_node *s = &nodes[i];
		struct cluster_node *c = &out->nodes[out->nnodes++];

		c->name = xstrdup(s->name);
		c->state = xstrdup(s->drain ? "drained" : s->state);
		c->partitions = xstrdup(s->partitions != NULL ? s->partitions : "");
		c->gpu_type = xstrdup(s->gpu_type != NULL ? s->gpu_type : "");
		c->reason = s->reason != NULL && *s->reason != '\0' ? xstrdup(s->reason) : NULL;
		c->gpus_total = s->gpus;
		c->gpus_alloc = s->gpus_used;
		c->cpus_total = s->cpus;
		c->cpus_alloc = s->alloc_cpus;
		c->memory_mib = s->memory_mib;
		c->memory_alloc_mib = s->alloc_memory_mib;
	}
	if (np > 0)
		out->parts = xcalloc(np, sizeof *out->parts);
	for (size_t i = 0; i < np; i++) {
		const struct slurm_partition *s = &parts[i];
		struct cluster_partition *c = &out->parts[out->nparts++];
		int counted = 0;

		c->name = xstrdup(s->name);
		c->state = xstrdup(s->state != NULL ? s->state : "unknown");
		c->is_default = s->is_default;
		c->max_time_s = s->max_time_min * 60;
		for (size_t k = 0; k < nn; k++) {
			if (!slurm_in_list(nodes[k].partitions, s->name))
				continue;
			counted++;
			c->gpus_total += nodes[k].gpus;
			c->gpus_alloc += nodes[k].gpus_used;
			c->cpus_total += nodes[k].cpus;
			c->cpus_alloc += nodes[k].alloc_cpus;
		}
		c->nodes = s->total_nodes > 0 ? s->total_nodes : counted;
		if (c->cpus_total == 0)
			c->cpus_total = s->total_cpus;
	}
	for (size_t k = 0; k < nj; k++) {
		int q = slurm_queue_kind(jobs[k].state != NULL ? jobs[k].state : "");
		const char *jp = jobs[k].partition != NULL ? jobs[k].partition : "";

		if (q == 0)
			continue;
		if (q == 1)
			out->jobs_running++;
		else
			out->jobs_pending++;
		/* a pending job that may run in "a,b" counts in each */
		for (size_t i = 0; i < out->nparts; i++) {
			if (!slurm_in_list(jp, out->parts[i].name))
				continue;
			if (q == 1)
				out->parts[i].jobs_running++;
			else
				out->parts[i].jobs_pending++;
		}
	}
}
