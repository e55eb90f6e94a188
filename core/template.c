/* template.c: loads template files into struct template (validation shared by YAML and
 * JSON, which template_parse.c turns into the same node tree), and layered template sets. */
#include "core/template.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/duration.h"
#include "core/template_parse.h"
#include "core/xmalloc.h"

#define TEMPLATE_MAX_FILE (1024 * 1024) /* bytes */
#define TEMPLATE_MAX_NAME 63

struct vctx {
	const char *path;
	struct template *t;
	int kind_known; /* t->kind holds the file's (valid) kind */
	char *error;    /* first error, "PATH:LINE:COL: message" */
};

/* Control characters (from values quoted in a message) become '?' so errors stay one line. */
static void one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Records the first error, pointing at node n; returns -1. */
static int verr(struct vctx *v, const struct tpl_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int verr(struct vctx *v, const struct tpl_node *n, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (v->error != NULL)
		return -1;
	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	one_line(msg);
	v->error = xprintf("%s:%d:%d: %s", v->path, n->line, n->col, msg);
	free(msg);
	return -1;
}

static int is_scalar(const struct tpl_node *n)
{
	return n->type == TPL_NODE_STRING || n->type == TPL_NODE_INT || n->type == TPL_NODE_FLOAT ||
	       n->type == TPL_NODE_BOOL;
}

static int in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return (int)i;
	return -1;
}

/* "a, b, c" from a NULL-terminated list. Heap string. */
static char *join_list(const char *const *list)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; list[i] != NULL; i++)
		len += strlen(list[i]) + 2;
	s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; list[i] != NULL; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, list[i]);
	}
	return s;
}

/* Value node of field name in mapping m, or NULL. */
static const struct tpl_node *map_get(const struct tpl_node *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->keys[i]->text, name) == 0)
			return m->items[i];
	return NULL;
}

/* Rejects unknown and duplicate fields of mapping m; where is "" or " in resources". */
static int check_fields(struct vctx *v, const struct tpl_node *m, const char *const *allowed,
                        const char *where)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct tpl_node *k = m->keys[i];

		if (in_list(k->text, allowed) < 0) {
			char *all = join_list(allowed);

			verr(v, k, "unknown field '%s'%s (allowed: %s)", k->text, where, all);
			free(all);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->keys[j]->text, k->text) == 0)
				return verr(v, k, "duplicate field '%s'%s (first at line %d)",
				            k->text, where, m->keys[j]->line);
	}
	return 0;
}

static int check_required(struct vctx *v, const struct tpl_node *m, const char *const *required,
                          const char *where)
{
	for (size_t i = 0; required[i] != NULL; i++)
		if (map_get(m, required[i]) == NULL)
			return verr(v, m, "missing required field '%s'%s", required[i], where);
	return 0;
}

static int want_map(struct vctx *v, const struct tpl_node *n, const char *example)
{
	if (n->type != TPL_NODE_MAP)
		return verr(v, n, "expected a mapping such as %s, got %s", example,
		            template_parse_type_name(n->type));
	return 0;
}

/* Any non-null scalar, as written. */
static int want_string(struct vctx *v, const struct tpl_node *n, char **out)
{
	if (!is_scalar(n))
		return verr(v, n, "expected a string, got %s", template_parse_type_name(n->type));
	free(*out);
	*out = xstrdup(n->text);
	return 0;
}

static int want_int(struct vctx *v, const struct tpl_node *n, long lo, long hi, long *out)
{
	long val;
	char *end;

	if (n->type != TPL_NODE_INT)
		return verr(v, n, "expected an integer, got %s", template_parse_type_name(n->type));
	errno = 0;
	val = strtol(n->text, &end, 10);
	if (errno != 0 || *end != '\0' || val < lo || val > hi)
		return verr(v, n, "expected an integer from %ld to %ld, got %s", lo, hi, n->text);
	*out = val;
	return 0;
}

static int want_int_field(struct vctx *v, const struct tpl_node *n, long lo, long hi, int *out)
{
	long val = 0;

	if (want_int(v, n, lo, hi, &val) != 0)
		return -1;
	*out = (int)val;
	return 0;
}

static int want_number(struct vctx *v, const struct tpl_node *n, double lo, double hi, double *out)
{
	double val;
	char *end;

	if (n->type != TPL_NODE_INT && n->type != TPL_NODE_FLOAT)
		return verr(v, n, "expected a number, got %s", template_parse_type_name(n->type));
	val = strtod(n->text, &end);
	if (*end != '\0' || !isfinite(val) || val < lo || val > hi)
		return verr(v, n, "expected a number from %g to %g, got %s", lo, hi, n->text);
	*out = val;
	return 0;
}

/* One of choices (a NULL-terminated list); index in *out. */
static int want_choice(struct vctx *v, const struct tpl_node *n, const char *const *choices,
                       int *out)
{
	int i;

	if (!is_scalar(n))
		return verr(v, n, "expected a string, got %s", template_parse_type_name(n->type));
	i = in_list(n->text, choices);
	if (i < 0) {
		char *all = join_list(choices);

		verr(v, n, "invalid value '%s': expected one of %s", n->text, all);
		free(all);
		return -1;
	}
	*out = i;
	return 0;
}

/* A list of non-empty strings, or one string. */
static int want_string_list(struct vctx *v, const struct tpl_node *n, char ***out, size_t *nout)
{
	if (is_scalar(n)) {
		if (n->text[0] == '\0')
			return verr(v, n, "expected a non-empty string");
		*out = xreallocarray(*out, *nout + 1, sizeof **out);
		(*out)[(*nout)++] = xstrdup(n->text);
		return 0;
	}
	if (n->type != TPL_NODE_SEQ)
		return verr(v, n, "expected a list of strings, got %s",
		            template_parse_type_name(n->type));
	for (size_t i = 0; i < n->n; i++) {
		const struct tpl_node *it = n->items[i];

		if (!is_scalar(it) || it->text[0] == '\0')
			return verr(v, it, "expected a non-empty string, got %s",
			            it->type == TPL_NODE_STRING
			                ? "an empty string"
			                : template_parse_type_name(it->type));
		*out = xreallocarray(*out, *nout + 1, sizeof **out);
		(*out)[(*nout)++] = xstrdup(it->text);
	}
	return 0;
}

static int is_ident(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (s++; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int valid_template_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > TEMPLATE_MAX_NAME)
		return 0;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

static const char *const kind_names[] = {"notebook", "training", "endpoint", NULL};

static int load_param(struct vctx *v, const struct tpl_node *key, const struct tpl_node *m,
                      struct tpl_param *p)
{
	static const char *const fields[] = {"type",    "default", "min",         "max",
	                                     "choices", "pattern", "description", NULL};
	static const char *const types[] = {"string", "int", "float", "bool", "enum", NULL};
	const struct tpl_node *n;
	char where[128];
	int type = TPL_PARAM_STRING;

	p->name = xstrdup(key->text);
	p->line = key->line;
	p->col = key->col;
	if (!is_ident(p->name))
		return verr(v, key,
		            "invalid parameter name '%s': expected letters, digits and '_', "
		            "not starting with a digit",
		            p->name);
	snprintf(where, sizeof where, " in parameter '%s'", p->name);
	if (want_map(v, m, "{type: int, default: 3}") != 0 ||
	    check_fields(v, m, fields, where) != 0)
		return -1;
	if ((n = map_get(m, "type")) != NULL && want_choice(v, n, types, &type) != 0)
		return -1;
	p->type = (enum tpl_param_type)type;
	if ((n = map_get(m, "description")) != NULL && want_string(v, n, &p->description) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		const char *f = i == 0 ? "min" : "max";

		if ((n = map_get(m, f)) == NULL)
			continue;
		if (p->type != TPL_PARAM_INT && p->type != TPL_PARAM_FLOAT)
			return verr(v, n, "'%s' is only allowed for int and float parameters", f);
		if (p->type == TPL_PARAM_INT && n->type == TPL_NODE_FLOAT)
			return verr(v, n, "expected an integer, got a number");
		if (want_number(v, n, -1e15, 1e15, i == 0 ? &p->min : &p->max) != 0)
			return -1;
		*(i == 0 ? &p->has_min : &p->has_max) = 1;
	}
	if (p->has_min && p->has_max && p->max < p->min)
		return verr(v, map_get(m, "max"), "max (%g) is less than min (%g)", p->max, p->min);
	if ((n = map_get(m, "choices")) != NULL) {
		if (p->type != TPL_PARAM_ENUM)
			return verr(v, n, "'choices' is only allowed for enum parameters");
		if (n->type != TPL_NODE_SEQ || n->n == 0)
			return verr(v, n, "expected a non-empty list of choices, got %s",
			            n->type == TPL_NODE_SEQ ? "an empty list"
			                                    : template_parse_type_name(n->type));
		for (size_t i = 0; i < n->n; i++) {
			const struct tpl_node *c = n->items[i];

			if (!is_scalar(c))
				return verr(v, c, "expected a string choice, got %s",
				            template_parse_type_name(c->type));
			for (size_t j = 0; j < p->nchoices; j++)
				if (strcmp(p->choices[j], c->text) == 0)
					return verr(v, c, "duplicate choice '%s'", c->text);
			p->choices = xreallocarray(p->choices, p->nchoices + 1, sizeof *p->choices);
			p->choices[p->nchoices++] = xstrdup(c->text);
		}
	} else if (p->type == TPL_PARAM_ENUM) {
		return verr(v, m, "missing required field 'choices'%s", where);
	}
	if ((n = map_get(m, "pattern")) != NULL) {
		regex_t re;
		int rc;

		if (p->type != TPL_PARAM_STRING)
			return verr(v, n, "'pattern' is only allowed for string parameters");
		if (want_string(v, n, &p->pattern) != 0)
			return -1;
		rc = regcomp(&re, p->pattern, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char buf[256];

			regerror(rc, &re, buf, sizeof buf);
			return verr(v, n, "invalid regular expression '%s': %s", p->pattern, buf);
		}
		regfree(&re);
	}
	if ((n = map_get(m, "default")) != NULL) {
		char *cause = NULL;

		if (want_string(v, n, &p->def) != 0)
			return -1;
		if (template_param_check(p, p->def, &cause) != 0) {
			verr(v, n, "invalid default: %s", cause);
			free(cause);
			return -1;
		}
	}
	return 0;
}

static int load_params(struct vctx *v, const struct tpl_node *m)
{
	struct template *t = v->t;

	if (want_map(v, m, "{epochs: {type: int, default: 3}}") != 0)
		return -1;
	t->params = xcalloc(m->n == 0 ? 1 : m->n, sizeof *t->params);
	for (size_t i = 0; i < m->n; i++) {
		for (size_t j = 0; j < i; j++)
			if (strcmp(m->keys[j]->text, m->keys[i]->text) == 0)
				return verr(v, m->keys[i], "duplicate parameter '%s'",
				            m->keys[i]->text);
		t->nparams++;
		if (load_param(v, m->keys[i], m->items[i], &t->params[i]) != 0)
			return -1;
	}
	return 0;
}

/* One accelerator spec: NAME or NAME:COUNT. */
static int parse_accel(struct vctx *v, const struct tpl_node *n, struct tpl_accel *a)
{
	const char *s = n->text, *colon = strchr(s, ':');
	size_t namelen = colon ? (size_t)(colon - s) : strlen(s);
	long count = 1;

	if (namelen == 0 || namelen > 32)
		goto bad;
	for (size_t i = 0; i < namelen; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			goto bad;
	}
	if (colon != NULL) {
		char *end;

		if (colon[1] < '0' || colon[1] > '9')
			goto bad;
		errno = 0;
		count = strtol(colon + 1, &end, 10);
		if (errno != 0 || *end != '\0' || count < 1 || count > 1024)
			goto bad;
	}
	a->name = xstrndup(s, namelen);
	a->count = (int)count;
	return 0;
bad:
	return verr(v, n,
	            "invalid accelerator '%s': expected NAME or NAME:COUNT (count 1 to 1024) "
	            "such as H100:8, or none",
	            s);
}

static int load_accels(struct vctx *v, const struct tpl_node *n)
{
	struct tpl_resources *r = &v->t->resources;

	if (is_scalar(n)) {
		if (strcasecmp(n->text, "none") == 0)
			return 0;
		r->accels = xcalloc(1, sizeof *r->accels);
		if (parse_accel(v, n, &r->accels[0]) != 0)
			return -1;
		r->naccels = 1;
		return 0;
	}
	if (n->type != TPL_NODE_SEQ)
		return verr(v, n,
		            "expected an accelerator such as H100:8 or a list of them, got %s",
		            template_parse_type_name(n->type));
	r->accels = xcalloc(n->n == 0 ? 1 : n->n, sizeof *r->accels);
	for (size_t i = 0; i < n->n; i++) {
		const struct tpl_node *it = n->items[i];

		if (!is_scalar(it))
			return verr(v, it, "expected an accelerator such as H100:8, got %s",
			            template_parse_type_name(it->type));
		if (strcasecmp(it->text, "none") == 0)
			return verr(v, it, "'none' cannot be one of several alternatives");
		if (parse_accel(v, it, &r->accels[i]) != 0)
			return -1;
		r->naccels++;
	}
	return 0;
}

/* N or "N+" (at least N); hi is the largest N. */
static int load_amount(struct vctx *v, const struct tpl_node *n, long hi, int *val, int *plus)
{
	long x;
	char *end;

	if (n->type == TPL_NODE_INT)
		return want_int_field(v, n, 1, hi, val);
	if (n->type != TPL_NODE_STRING)
		return verr(v, n, "expected an integer or N+ such as 16+, got %s",
		            template_parse_type_name(n->type));
	errno = 0;
	x = strtol(n->text, &end, 10);
	if (n->text[0] < '0' || n->text[0] > '9' || errno != 0 ||
	    !(*end == '\0' || (end[0] == '+' && end[1] == '\0')) || x < 1 || x > hi)
		return verr(v, n, "invalid amount '%s': expected N or N+ with N from 1 to %ld",
		            n->text, hi);
	*val = (int)x;
	*plus = *end == '+';
	return 0;
}

static int load_resources(struct vctx *v, const struct tpl_node *m)
{
	static const char *const fields[] = {"accelerators", "cpus",  "memory",
	                                     "spot",         "nodes", NULL};
	static const char *const spots[] = {"never", "prefer", "only", NULL};
	struct tpl_resources *r = &v->t->resources;
	const struct tpl_node *n;
	int spot;

	if (want_map(v, m, "{accelerators: H100:8, cpus: 16+}") != 0 ||
	    check_fields(v, m, fields, " in resources") != 0)
		return -1;
	for (size_t i = 0; i < m->n; i++) {
		const char *k = m->keys[i]->text;

		n = m->items[i];
		if (strcmp(k, "accelerators") == 0 && load_accels(v, n) != 0)
			return -1;
		if (strcmp(k, "cpus") == 0 && load_amount(v, n, 100000, &r->cpus, &r->cpus_plus))
			return -1;
		if (strcmp(k, "memory") == 0 &&
		    load_amount(v, n, 10000000, &r->memory_gib, &r->memory_plus))
			return -1;
		if (strcmp(k, "spot") == 0) {
			if (want_choice(v, n, spots, &spot) != 0)
				return -1;
			r->spot = (enum tpl_spot)spot;
		}
		if (strcmp(k, "nodes") == 0 && want_int_field(v, n, 1, 1000, &r->nodes) != 0)
			return -1;
	}
	return 0;
}

static int load_placement(struct vctx *v, const struct tpl_node *m)
{
	static const char *const fields[] = {"providers", "regions", NULL};
	struct template *t = v->t;
	const struct tpl_node *n;

	if (want_map(v, m, "{providers: [slurm], regions: [eu-*]}") != 0 ||
	    check_fields(v, m, fields, " in placement") != 0)
		return -1;
	if ((n = map_get(m, "providers")) != NULL &&
	    want_string_list(v, n, &t->placement_providers, &t->nplacement_providers) != 0)
		return -1;
	if ((n = map_get(m, "regions")) != NULL &&
	    want_string_list(v, n, &t->placement_regions, &t->nplacement_regions) != 0)
		return -1;
	return 0;
}

static int load_data(struct vctx *v, const struct tpl_node *m)
{
	static const char *const fields[] = {"classification", NULL};
	static const char *const classes[] = {"public", "internal", "pii", "phi", NULL};
	const struct tpl_node *n;
	int c;

	if (want_map(v, m, "{classification: internal}") != 0 ||
	    check_fields(v, m, fields, " in data") != 0)
		return -1;
	if ((n = map_get(m, "classification")) != NULL) {
		if (want_choice(v, n, classes, &c) != 0)
			return -1;
		v->t->classification = xstrdup(classes[c]);
	}
	return 0;
}

/* Every {{name}} in text must name a declared parameter. */
static int check_placeholders(struct vctx *v, const struct tpl_node *n, const char *field,
                              const char *text)
{
	struct kvlist vals;
	char *out = NULL, *cause = NULL;
	int rc;

	kvlist_init(&vals);
	for (size_t i = 0; i < v->t->nparams; i++)
		kvlist_set(&vals, v->t->params[i].name, "");
	rc = template_render_raw(text, &vals, &out, &cause);
	kvlist_free(&vals);
	free(out);
	if (rc != 0) {
		verr(v, n, "in %s: %s", field, cause);
		free(cause);
		return -1;
	}
	return 0;
}

static int load_env(struct vctx *v, const struct tpl_node *m)
{
	if (want_map(v, m, "{HF_HOME: /scratch/hf}") != 0)
		return -1;
	for (size_t i = 0; i < m->n; i++) {
		const struct tpl_node *k = m->keys[i], *val = m->items[i];

		if (!is_ident(k->text))
			return verr(v, k,
			            "invalid environment variable name '%s': expected letters, "
			            "digits and '_'",
			            k->text);
		if (strncmp(k->text, "GANTRY_", 7) == 0)
			return verr(v, k,
			            "environment variable '%s': names starting with GANTRY_ "
			            "are reserved for the engine",
			            k->text);
		if (kvlist_get(&v->t->env, k->text) != NULL)
			return verr(v, k, "duplicate environment variable '%s'", k->text);
		if (!is_scalar(val))
			return verr(v, val, "expected a string value, got %s",
			            template_parse_type_name(val->type));
		if (check_placeholders(v, val, "env", val->text) != 0)
			return -1;
		kvlist_set(&v->t->env, k->text, val->text);
	}
	return 0;
}

static int load_ports(struct vctx *v, const struct tpl_node *n)
{
	struct template *t = v->t;

	if (n->type != TPL_NODE_SEQ)
		return verr(v, n, "expected a list of ports such as [8888], got %s",
		            template_parse_type_name(n->type));
	t->ports = xcalloc(n->n == 0 ? 1 : n->n, sizeof *t->ports);
	for (size_t i = 0; i < n->n; i++) {
		int port;

		if (want_int_field(v, n->items[i], 1, 65535, &port) != 0)
			return -1;
		for (size_t j = 0; j < t->nports; j++)
			if (t->ports[j] == port)
				return verr(v, n->items[i], "duplicate port %d", port);
		t->ports[t->nports++] = port;
	}
	return 0;
}

static int load_autostop(struct vctx *v, const struct tpl_node *m)
{
	static const char *const fields[] = {"idle_minutes", "gpu_util_below", "action", NULL};
	static const char *const required[] = {"idle_minutes", NULL};
	static const char *const actions[] = {"stop", "warn", NULL};
	struct tpl_autostop *a = &v->t->autostop;
	const struct tpl_node *n;
	int action;

	if (want_map(v, m, "{idle_minutes: 60, gpu_util_below: 5}") != 0 ||
	    check_fields(v, m, fields, " in autostop") != 0)
		return -1;
	a->set = 1;
	if ((n = map_get(m, "idle_minutes")) != NULL &&
	    want_int_field(v, n, 1, 525600, &a->idle_minutes) != 0)
		return -1;
	if ((n = map_get(m, "gpu_util_below")) != NULL &&
	    want_number(v, n, 0, 100, &a->gpu_util_below) != 0)
		return -1;
	if ((n = map_get(m, "action")) != NULL) {
		if (want_choice(v, n, actions, &action) != 0)
			return -1;
		a->action_stop = action == 0;
	}
	return check_required(v, m, required, " in autostop");
}

static int load_limits(struct vctx *v, const struct tpl_node *m)
{
	static const char *const fields[] = {"max_hourly_cost", "max_runtime", NULL};
	struct tpl_limits *l = &v->t->limits;
	const struct tpl_node *n;

	if (want_map(v, m, "{max_hourly_cost: 40, max_runtime: 12h}") != 0 ||
	    check_fields(v, m, fields, " in limits") != 0)
		return -1;
	if ((n = map_get(m, "max_hourly_cost")) != NULL &&
	    want_number(v, n, 0, 1e6, &l->max_hourly_cost) != 0)
		return -1;
	if ((n = map_get(m, "max_runtime")) != NULL) {
		long s;

		if (!is_scalar(n) || n->type == TPL_NODE_BOOL)
			return verr(v, n, "expected a duration such as 12h, got %s",
			            template_parse_type_name(n->type));
		s = duration_parse(n->text);
		if (s <= 0)
			return verr(v, n,
			            "invalid duration '%s': expected seconds, or a number with a "
			            "unit s, m, h or d such as 30m or 12h",
			            n->text);
		l->max_runtime_s = s;
	}
	return 0;
}

static int load_service(struct vctx *v, const struct tpl_node *key, const struct tpl_node *m)
{
	static const char *const fields[] = {
	    "port", "readiness", "readiness_timeout", "replicas", "target_qps_per_replica", NULL};
	static const char *const rfields[] = {"min", "max", NULL};
	struct tpl_service *s = &v->t->service;
	int endpoint = v->kind_known && v->t->kind == JOB_KIND_ENDPOINT;
	const struct tpl_node *n;

	if (v->kind_known && v->t->kind == JOB_KIND_TRAINING)
		return verr(v, key,
		            "'service' is not allowed for kind training "
		            "(only for endpoint and notebook)");
	if (want_map(v, m, "{port: 8000, readiness: /health}") != 0 ||
	    check_fields(v, m, fields, " in service") != 0)
		return -1;
	s->set = 1;
	if ((n = map_get(m, "port")) != NULL && want_int_field(v, n, 0, 65535, &s->port) != 0)
		return -1;
	if ((n = map_get(m, "readiness")) != NULL) {
		if (want_string(v, n, &s->readiness) != 0)
			return -1;
		if (s->readiness[0] != '/')
			return verr(v, n,
			            "invalid readiness path '%s': expected a path such as "
			            "/health",
			            s->readiness);
	}
	if ((n = map_get(m, "readiness_timeout")) != NULL &&
	    want_int_field(v, n, 1, 86400, &s->readiness_timeout_s) != 0)
		return -1;
	if ((n = map_get(m, "target_qps_per_replica")) != NULL) {
		if (!endpoint && v->kind_known)
			return verr(v, n,
			            "'target_qps_per_replica' is only allowed for kind "
			            "endpoint");
		if (want_number(v, n, 1e-6, 1e9, &s->target_qps_per_replica) != 0)
			return -1;
	}
	if ((n = map_get(m, "replicas")) != NULL) {
		const struct tpl_node *r;

		if (!endpoint && v->kind_known)
			return verr(v, n, "'replicas' is only allowed for kind endpoint");
		if (want_map(v, n, "{min: 0, max: 4}") != 0 ||
		    check_fields(v, n, rfields, " in service.replicas") != 0)
			return -1;
		if ((r = map_get(n, "min")) != NULL &&
		    want_int_field(v, r, 0, 1000, &s->replicas_min) != 0)
			return -1;
		if ((r = map_get(n, "max")) == NULL)
			s->replicas_max = s->replicas_min > 1 ? s->replicas_min : 1;
		else if (want_int_field(v, r, 1, 1000, &s->replicas_max) != 0)
			return -1;
		if (s->replicas_max < s->replicas_min)
			return verr(v, r ? r : n, "replicas max (%d) is less than min (%d)",
			            s->replicas_max, s->replicas_min);
	}
	return 0;
}

/* A container image reference: [registry[:port]/]path[:tag][@digest], checked for its
 * alphabet and length only (the registry decides whether it exists). */
static int valid_image(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 255 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@") ==
	           n &&
	       s[0] != '-' && s[0] != '.' && s[0] != '/' && s[0] != ':' && s[0] != '@';
}

static int validate(struct vctx *v, const struct tpl_node *root)
{
	static const char *const fields[] = {
	    "name", "kind", "description", "params",   "resources", "placement", "data",  "setup",
	    "run",  "env",  "ports",       "autostop", "limits",    "service",   "image", NULL};
	static const char *const required[] = {"name", "kind", "run", NULL};
	struct template *t = v->t;
	const struct tpl_node *n;
	int kind;

	if (root->type != TPL_NODE_MAP)
		return verr(v, root,
		            "expected a mapping of template fields (name, kind, run, ...), "
		            "got %s",
		            template_parse_type_name(root->type));
	if (check_fields(v, root, fields, "") != 0)
		return -1;
	n = map_get(root, "kind");
	if (n != NULL && is_scalar(n) && in_list(n->text, kind_names) >= 0) {
		t->kind = (enum job_kind)in_list(n->text, kind_names);
		v->kind_known = 1;
	}
	/* params first: run, setup and env are checked against them */
	if ((n = map_get(root, "params")) != NULL && load_params(v, n) != 0)
		return -1;
	for (size_t i = 0; i < root->n; i++) {
		const char *k = root->keys[i]->text;
		int rc = 0;

		n = root->items[i];
		if (strcmp(k, "name") == 0) {
			rc = want_string(v, n, &t->name);
			if (rc == 0 && !valid_template_name(t->name))
				rc = verr(v, n,
				          "invalid name '%s': expected lower-case letters, digits "
				          "and '-', starting with a letter or digit (at most %d)",
				          t->name, TEMPLATE_MAX_NAME);
		} else if (strcmp(k, "kind") == 0) {
			rc = want_choice(v, n, kind_names, &kind);
		} else if (strcmp(k, "description") == 0) {
			rc = want_string(v, n, &t->description);
		} else if (strcmp(k, "image") == 0) {
			rc = want_string(v, n, &t->image);
			if (rc == 0 && !valid_image(t->image))
				rc =
				    verr(v, n,
				         "invalid image '%s': expected a container image reference "
				         "such as python:3.11-slim or "
				         "registry.example/ml/train@sha256:... "
				         "(letters, digits and ._-/:@, at most 255)",
				         t->image);
		} else if (strcmp(k, "resources") == 0) {
			rc = load_resources(v, n);
		} else if (strcmp(k, "placement") == 0) {
			rc = load_placement(v, n);
		} else if (strcmp(k, "data") == 0) {
			rc = load_data(v, n);
		} else if (strcmp(k, "setup") == 0) {
			rc = want_string(v, n, &t->setup);
			if (rc == 0)
				rc = check_placeholders(v, n, "setup", t->setup);
		} else if (strcmp(k, "run") == 0) {
			rc = want_string(v, n, &t->run);
			if (rc == 0 && t->run[strspn(t->run, " \t\r\n")] == '\0')
				rc = verr(v, n,
				          "'run' is empty: expected the shell commands to run");
			if (rc == 0)
				rc = check_placeholders(v, n, "run", t->run);
		} else if (strcmp(k, "env") == 0) {
			rc = load_env(v, n);
		} else if (strcmp(k, "ports") == 0) {
			rc = load_ports(v, n);
		} else if (strcmp(k, "autostop") == 0) {
			rc = load_autostop(v, n);
		} else if (strcmp(k, "limits") == 0) {
			rc = load_limits(v, n);
		} else if (strcmp(k, "service") == 0) {
			rc = load_service(v, root->keys[i], n);
		}
		if (rc != 0)
			return -1;
	}
	return check_required(v, root, required, "");
}

/* Template name from the file name: "dir/foo.yaml" -> "foo". */
static char *name_from_path(const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strrchr(base, '.');
	return dot && dot != base ? xstrndup(base, (size_t)(dot - base)) : xstrdup(base);
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcasecmp(s + ls - lx, suffix) == 0;
}

static struct template *template_new(const char *path, enum tpl_layer layer)
{
	struct template *t = xcalloc(1, sizeof *t);

	t->path = xstrdup(path);
	t->layer = layer;
	t->kind = JOB_KIND_TRAINING;
	kvlist_init(&t->env);
	t->resources.nodes = 1;
	t->autostop.gpu_util_below = 5;
	t->autostop.action_stop = 1;
	t->service.readiness_timeout_s = 120;
	t->service.replicas_min = 1;
	t->service.replicas_max = 1;
	return t;
}

struct template *template_load_text(const char *path, const char *text, size_t len,
                                    enum tpl_layer layer)
{
	struct template *t = template_new(path, layer);
	struct vctx v = {.path = path, .t = t};
	char *cause = NULL;
	struct tpl_node *root;

	if (has_suffix(path, ".json"))
		root = template_parse_json(text, len, &cause);
	else
		root = template_parse_yaml(text, len, &cause);
	if (root == NULL) {
		one_line(cause);
		t->error = xprintf("%s:%s", path, cause);
		free(cause);
		t->name = name_from_path(path);
		return t;
	}
	if (root->type == TPL_NODE_MAP) {
		const struct tpl_node *n = map_get(root, "name");

		if (n != NULL && is_scalar(n) && n->text[0] != '\0')
			t->name = xstrdup(n->text);
	}
	if (validate(&v, root) != 0)
		t->error = v.error;
	if (t->name == NULL)
		t->name = name_from_path(path);
	one_line(t->name);
	template_parse_free(root);
	return t;
}

struct template *template_load_file(const char *path, enum tpl_layer layer)
{
	FILE *f = fopen(path, "rb");
	struct template *t;
	char *buf;
	size_t len;

	if (f == NULL) {
		t = template_new(path, layer);
		t->name = name_from_path(path);
		t->error = xprintf("%s:1:1: cannot open: %s", path, strerror(errno));
		return t;
	}
	buf = xmalloc(TEMPLATE_MAX_FILE + 1);
	len = fread(buf, 1, TEMPLATE_MAX_FILE + 1, f);
	if (ferror(f) || len > TEMPLATE_MAX_FILE) {
		int err = ferror(f) ? errno : 0;

		fclose(f);
		free(buf);
		t = template_new(path, layer);
		t->name = name_from_path(path);
		t->error =
		    err ? xprintf("%s:1:1: cannot read: %s", path, strerror(err))
		        : xprintf("%s:1:1: file larger than %d bytes", path, TEMPLATE_MAX_FILE);
		return t;
	}
	fclose(f);
	buf[len] = '\0';
	t = template_load_text(path, buf, len, layer);
	free(buf);
	return t;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void template_free(struct template *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nparams; i++) {
		struct tpl_param *p = &t->params[i];

		free(p->name);
		free(p->description);
		free(p->def);
		free_strv(p->choices, p->nchoices);
		free(p->pattern);
	}
	free(t->params);
	for (size_t i = 0; i < t->resources.naccels; i++)
		free(t->resources.accels[i].name);
	free(t->resources.accels);
	free_strv(t->placement_providers, t->nplacement_providers);
	free_strv(t->placement_regions, t->nplacement_regions);
	free(t->name);
	free(t->description);
	free(t->path);
	free(t->error);
	free(t->classification);
	free(t->image);
	free(t->setup);
	free(t->run);
	kvlist_free(&t->env);
	free(t->ports);
	free(t->service.readiness);
	free(t);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_template(const void *a, const void *b)
{
	return strcmp((*(struct template *const *)a)->name, (*(struct template *const *)b)->name);
}

/* Adds t to the set; a template of the same name is replaced. Two files of one layer that
 * use the same name are a mistake: the later one is kept, marked broken. */
static void set_put(struct template_set *set, struct template *t)
{
	for (size_t i = 0; i < set->n; i++) {
		struct template *old = set->items[i];

		if (strcmp(old->name, t->name) != 0)
			continue;
		if (old->layer == t->layer && t->error == NULL)
			t->error = xprintf("%s:1:1: template name '%s' is also used by %s", t->path,
			                   t->name, old->path);
		template_free(old);
		set->items[i] = t;
		return;
	}
	set->items = xreallocarray(set->items, set->n + 1, sizeof *set->items);
	set->items[set->n++] = t;
}

/* File names in dir that look like templates, sorted; NULL when dir cannot be read. */
static char **list_dir(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (!has_suffix(e->d_name, ".yaml") && !has_suffix(e->d_name, ".yml") &&
		    !has_suffix(e->d_name, ".json"))
			continue;
		names = xreallocarray(names, *n + 1, sizeof *names);
		names[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n > 0)
		qsort(names, *n, sizeof *names, cmp_str);
	return names;
}

void template_set_load(struct template_set *set, const char *const *dirs,
                       const enum tpl_layer *layers, size_t ndirs)
{
	set->items = NULL;
	set->n = 0;
	for (size_t i = 0; i < ndirs; i++) {
		size_t n;
		char **names = dirs[i] ? list_dir(dirs[i], &n) : NULL;

		for (size_t j = 0; names != NULL && j < n; j++) {
			char *path = xprintf("%s/%s", dirs[i], names[j]);
			struct stat st;

			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				set_put(set, template_load_file(path, layers[i]));
			free(path);
		}
		free_strv(names, names ? n : 0);
	}
	if (set->n > 1)
		qsort(set->items, set->n, sizeof *set->items, cmp_template);
}

void template_set_free(struct template_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		template_free(set->items[i]);
	free(set->items);
	set->items = NULL;
	set->n = 0;
}

const struct template *template_set_find(const struct template_set *set, const char *name)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, set->items[mid]->name);

		if (c == 0)
			return set->items[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

char *template_accel_string(const struct template *t)
{
	size_t len = 1;
	char *s;

	if (t->resources.naccels == 0)
		return xstrdup("-");
	for (size_t i = 0; i < t->resources.naccels; i++)
		len += strlen(t->resources.accels[i].name) + 16;
	s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; i < t->resources.naccels; i++) {
		size_t used = strlen(s);

		snprintf(s + used, len - used, "%s%s:%d", i > 0 ? "|" : "",
		         t->resources.accels[i].name, t->resources.accels[i].count);
	}
	return s;
}

int template_gpu_count(const struct template *t)
{
	return t->resources.naccels > 0 ? t->resources.accels[0].count : 0;
}

int template_wants_port(const struct template *t)
{
	return t->nports > 0 || t->service.set;
}
