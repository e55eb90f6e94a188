/* policy_parse.c: reading policy.yaml (format in core/policy.h) with libyaml. Every error is
 * one line, "FILE:LINE:COL: reason", at the node that is wrong: unknown keys, wrong types,
 * bad globs, negative numbers, roles named in approvers/default_role that do not exist. */
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/config_internal.h"
#include "core/policy_internal.h"
#include "core/xmalloc.h"
#include "core/yaml_guard.h"

/* A policy file is small: anything bigger is a mistake (or an attack on the loader). */
#define POLICY_MAX_BYTES (4 * 1024 * 1024)

struct pp {
	const char *name;
	yaml_document_t *doc;
	char **cause;
	struct policy *p;
};

static int pp_fail(struct pp *x, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int pp_fail(struct pp *x, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	xcause(x->cause, "%s:%zu:%zu: %s", x->name, n->start_mark.line + 1,
	       n->start_mark.column + 1, msg);
	free(msg);
	return -1;
}

static char *pp_where(struct pp *x, const yaml_node_t *n)
{
	return xprintf("%s:%zu:%zu", x->name, n->start_mark.line + 1, n->start_mark.column + 1);
}

static const char *pp_str(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int pp_has_ctrl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A name: a non-empty scalar without control characters. */
static int pp_name(struct pp *x, const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		return pp_fail(x, n, "%s must be a name, not a %s", what,
		               n->type == YAML_MAPPING_NODE ? "mapping" : "list");
	if (n->data.scalar.length == 0 || pp_has_ctrl(pp_str(n)) ||
	    strlen(pp_str(n)) != n->data.scalar.length)
		return pp_fail(x, n, "%s must be a non-empty name without control characters",
		               what);
	return 0;
}

/* Why a glob is malformed, or NULL: unclosed '[', a trailing backslash. */
static const char *pp_glob_bad(const char *g)
{
	for (const char *s = g; *s != '\0'; s++) {
		if (*s == '\\') {
			if (s[1] == '\0')
				return "a trailing '\\'";
			s++;
		} else if (*s == '[') {
			const char *t = s + 1;

			if (*t == '!' || *t == '^')
				t++;
			if (*t == ']')
				t++;
			t = strchr(t, ']');
			if (t == NULL)
				return "an unclosed '['";
			s = t;
		} else if (*s == ']') {
			return "a ']' without '['";
		}
	}
	return NULL;
}

static int pp_list(struct pp *x, const char *key, const yaml_node_t *kn, const yaml_node_t *v,
                   int globs, struct policy_list *out)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return pp_fail(x, v, "'%s' expects a list, such as [%s]", key,
		               globs ? "\"eu-*\"" : "name");
	policy_list_free(out);
	out->set = 1;
	out->where = pp_where(x, kn);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *n = yaml_document_get_node(x->doc, *it);
		const char *bad;

		if (pp_name(x, n, globs ? "a glob" : "an entry") != 0)
			return -1;
		if (globs && (bad = pp_glob_bad(pp_str(n))) != NULL)
			return pp_fail(x, n, "'%s': bad glob '%s': %s", key, pp_str(n), bad);
		out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
		out->v[out->n++] = xstrdup(pp_str(n));
	}
	return 0;
}

/* A plain decimal number >= 0 (integer: digits only). */
static int pp_num(struct pp *x, const char *key, const yaml_node_t *kn, const yaml_node_t *v,
                  int integer, struct policy_num *out)
{
	const char *s;
	char *end;
	double d;

	if (v->type != YAML_SCALAR_NODE)
		return pp_fail(x, v, "'%s' expects a number", key);
	s = pp_str(v);
	if (s[0] == '-')
		return pp_fail(x, v, "'%s' must not be negative, got '%s'", key, s);
	errno = 0;
	d = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(d) ||
	    strspn(s, integer ? "0123456789" : "0123456789.eE+") != strlen(s) || d > 1e9)
		return pp_fail(x, v, "'%s' expects %s, got '%s'", key,
		               integer ? "a whole number" : "an amount in USD", s);
	free(out->where);
	out->set = 1;
	out->v = d;
	out->where = pp_where(x, kn);
	return 0;
}

static int pp_bool(struct pp *x, const char *key, const yaml_node_t *v, int *out)
{
	const char *s = v->type == YAML_SCALAR_NODE ? pp_str(v) : "";

	if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = 1;
	else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = 0;
	else
		return pp_fail(x, v, "'%s' expects true or false", key);
	return 0;
}

static int pp_mapping(struct pp *x, const yaml_node_t *v, const char *what)
{
	if (v->type != YAML_MAPPING_NODE)
		return pp_fail(x, v, "%s expects a mapping", what);
	return 0;
}

/* One pair of a mapping: its key node, value node and key text ("" when not a scalar). */
static const char *pp_pair(struct pp *x, const yaml_node_pair_t *pr, yaml_node_t **kn,
                           yaml_node_t **vn)
{
	*kn = yaml_document_get_node(x->doc, pr->key);
	*vn = yaml_document_get_node(x->doc, pr->value);
	return (*kn)->type == YAML_SCALAR_NODE ? pp_str(*kn) : "";
}

#define PP_EACH(v, pr)                                                                             \
	for (yaml_node_pair_t *pr = (v)->data.mapping.pairs.start;                                 \
	     pr < (v)->data.mapping.pairs.top; pr++)

static int pp_approval(struct pp *x, struct policy_role *r, const yaml_node_t *v)
{
	yaml_node_t *kn, *vn;
	const char *key;

	if (pp_mapping(x, v, "'approval'") != 0)
		return -1;
	PP_EACH(v, pr1)
	{
		key = pp_pair(x, pr1, &kn, &vn);
		if (strcmp(key, "above_hourly_cost") == 0) {
			if (pp_num(x, key, kn, vn, 0, &r->above_hourly_cost) != 0)
				return -1;
		} else if (strcmp(key, "above_gpus") == 0) {
			if (pp_num(x, key, kn, vn, 1, &r->above_gpus) != 0)
				return -1;
		} else {
			return pp_fail(x, kn,
			               "unknown approval setting '%s' (known: above_hourly_cost, "
			               "above_gpus)",
			               key);
		}
	}
	return 0;
}

static int pp_role_key(struct pp *x, struct policy_role *r, const char *key, const yaml_node_t *kn,
                       const yaml_node_t *vn)
{
	static const struct {
		const char *key;
		size_t list_off;
		int globs;
	} lists[] = {
	    {"users", offsetof(struct policy_role, users), 0},
	    {"groups", offsetof(struct policy_role, groups), 0},
	    {"providers", offsetof(struct policy_role, providers), 1},
	    {"regions", offsetof(struct policy_role, regions), 1},
	    {"gpu_types", offsetof(struct policy_role, gpu_types), 1},
	    {"templates", offsetof(struct policy_role, templates), 1},
	};

	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		if (strcmp(key, lists[i].key) == 0)
			return pp_list(x, key, kn, vn, lists[i].globs,
			               (struct policy_list *)((char *)r + lists[i].list_off));
	if (strcmp(key, "max_gpus_per_job") == 0)
		return pp_num(x, key, kn, vn, 1, &r->max_gpus_per_job);
	if (strcmp(key, "max_gpus_total") == 0)
		return pp_num(x, key, kn, vn, 1, &r->max_gpus_total);
	if (strcmp(key, "max_hourly_cost") == 0)
		return pp_num(x, key, kn, vn, 0, &r->max_hourly_cost);
	if (strcmp(key, "admin") == 0)
		return pp_bool(x, key, vn, &r->admin);
	if (strcmp(key, "approver") == 0)
		return pp_bool(x, key, vn, &r->approver);
	if (strcmp(key, "approval") == 0)
		return pp_approval(x, r, vn);
	if (strcmp(key, "see") == 0) {
		const char *s = vn->type == YAML_SCALAR_NODE ? pp_str(vn) : "";

		if (strcmp(s, "own") == 0)
			r->see = POLICY_SEE_OWN;
		else if (strcmp(s, "team") == 0)
			r->see = POLICY_SEE_TEAM;
		else if (strcmp(s, "all") == 0)
			r->see = POLICY_SEE_ALL;
		else
			return pp_fail(x, vn, "'see' expects own, team or all");
		return 0;
	}
	return pp_fail(x, kn,
	               "unknown role setting '%s' (known: users, groups, providers, regions, "
	               "gpu_types, templates, max_gpus_per_job, max_gpus_total, max_hourly_cost, "
	               "see, approval, admin, approver)",
	               key);
}

static int pp_roles(struct pp *x, const yaml_node_t *v)
{
	yaml_node_t *kn, *vn;
	const char *key;

	if (pp_mapping(x, v, "'roles'") != 0)
		return -1;
	PP_EACH(v, pr2)
	{
		key = pp_pair(x, pr2, &kn, &vn);
		struct policy_role *r;
		yaml_node_t *rk, *rv;
		const char *rkey;

		if (pp_name(x, kn, "a role") != 0 || pp_mapping(x, vn, "a role") != 0)
			return -1;
		x->p->roles = xreallocarray(x->p->roles, x->p->nroles + 1, sizeof *x->p->roles);
		r = &x->p->roles[x->p->nroles++];
		memset(r, 0, sizeof *r);
		r->name = xstrdup(key);
		r->where = pp_where(x, kn);
		PP_EACH(vn, pr3)
		{
			rkey = pp_pair(x, pr3, &rk, &rv);
			if (pp_role_key(x, r, rkey, rk, rv) != 0)
				return -1;
		}
	}
	return 0;
}

static int pp_teams(struct pp *x, const yaml_node_t *v)
{
	yaml_node_t *kn, *vn;
	const char *key;

	if (pp_mapping(x, v, "'teams'") != 0)
		return -1;
	PP_EACH(v, pr4)
	{
		key = pp_pair(x, pr4, &kn, &vn);
		struct policy_team *t;

		if (pp_name(x, kn, "a team") != 0)
			return -1;
		x->p->teams = xreallocarray(x->p->teams, x->p->nteams + 1, sizeof *x->p->teams);
		t = &x->p->teams[x->p->nteams++];
		memset(t, 0, sizeof *t);
		t->name = xstrdup(key);
		if (pp_list(x, key, kn, vn, 0, &t->groups) != 0)
			return -1;
	}
	return 0;
}

static int pp_classes(struct pp *x, const yaml_node_t *v)
{
	yaml_node_t *kn, *vn, *ck, *cv;
	const char *key, *ckey;

	if (pp_mapping(x, v, "'classifications'") != 0)
		return -1;
	PP_EACH(v, pr5)
	{
		key = pp_pair(x, pr5, &kn, &vn);
		struct policy_class *c;

		if (pp_name(x, kn, "a classification") != 0 ||
		    pp_mapping(x, vn, "a classification") != 0)
			return -1;
		x->p->classes =
		    xreallocarray(x->p->classes, x->p->nclasses + 1, sizeof *x->p->classes);
		c = &x->p->classes[x->p->nclasses++];
		memset(c, 0, sizeof *c);
		c->name = xstrdup(key);
		c->where = pp_where(x, kn);
		PP_EACH(vn, pr6)
		{
			ckey = pp_pair(x, pr6, &ck, &cv);
			if (strcmp(ckey, "regions") == 0) {
				if (pp_list(x, ckey, ck, cv, 1, &c->regions) != 0)
					return -1;
			} else if (strcmp(ckey, "providers") == 0) {
				if (pp_list(x, ckey, ck, cv, 1, &c->providers) != 0)
					return -1;
			} else {
				return pp_fail(x, ck,
				               "unknown classification setting '%s' (known: "
				               "regions, providers)",
				               ckey);
			}
		}
	}
	return 0;
}

/* config.yaml's budget parser, on the policy's own list. */
static int pp_budgets(struct pp *x, yaml_node_t *v)
{
	struct config c;
	int rc;

	memset(&c, 0, sizeof c);
	c.config_file = (char *)x->name;
	rc = config_parse_budgets(&c, x->doc, v, x->cause);
	if (rc == 0) {
		x->p->budgets = c.budgets;
		x->p->nbudgets = c.nbudgets;
	} else {
		config_budgets_free(&c);
	}
	return rc;
}

static int pp_root(struct pp *x, yaml_node_t *root)
{
	yaml_node_t *kn, *vn;
	yaml_node_t *approvers = NULL, *defrole = NULL;
	const char *key;

	if (pp_mapping(x, root, "the policy") != 0)
		return -1;
	PP_EACH(root, pr7)
	{
		key = pp_pair(x, pr7, &kn, &vn);
		int rc;

		if (strcmp(key, "roles") == 0) {
			rc = pp_roles(x, vn);
		} else if (strcmp(key, "approvers") == 0) {
			approvers = vn;
			rc = pp_list(x, key, kn, vn, 0, &x->p->approvers);
		} else if (strcmp(key, "default_role") == 0) {
			defrole = vn;
			rc = pp_name(x, vn, "'default_role'");
			if (rc == 0) {
				x->p->default_role = xstrdup(pp_str(vn));
				x->p->default_role_where = pp_where(x, kn);
			}
		} else if (strcmp(key, "teams") == 0) {
			rc = pp_teams(x, vn);
		} else if (strcmp(key, "classifications") == 0) {
			rc = pp_classes(x, vn);
		} else if (strcmp(key, "budgets") == 0) {
			rc = pp_budgets(x, vn);
		} else {
			rc = pp_fail(x, kn,
			             "unknown key '%s' (known: roles, approvers, default_role, "
			             "teams, classifications, budgets)",
			             key);
		}
		if (rc != 0)
			return -1;
	}
	/* names that must be roles: checked once every role is known */
	if (approvers != NULL)
		for (size_t i = 0; i < x->p->approvers.n; i++)
			if (policy_role_find(x->p, x->p->approvers.v[i]) == NULL)
				return pp_fail(x,
				               yaml_document_get_node(
				                   x->doc, approvers->data.sequence.items.start[i]),
				               "'approvers': unknown role '%s'",
				               x->p->approvers.v[i]);
	if (defrole != NULL && policy_role_find(x->p, x->p->default_role) == NULL)
		return pp_fail(x, defrole, "'default_role': unknown role '%s'", x->p->default_role);
	return 0;
}

int policy_parse(const char *text, size_t len, const char *name, struct policy **out, char **cause)
{
	struct pp x = {.name = name, .cause = cause};
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	char *why = NULL;
	int rc = 0;

	*out = NULL;
	if (len > POLICY_MAX_BYTES)
		return xcause(cause, "%s:1:1: larger than %d bytes", name, POLICY_MAX_BYTES);
	if (memchr(text, '\0', len) != NULL)
		return xcause(cause, "%s:1:1: not a text file (a NUL byte)", name);
	if (yaml_guard_depth(text, len, YAML_GUARD_MAX_DEPTH, &why) != 0) {
		rc = xcause(cause, "%s:%s", name, why);
		free(why);
		return rc;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = xcause(cause, "%s:%zu:%zu: %s", name, parser.problem_mark.line + 1,
		            parser.problem_mark.column + 1,
		            parser.problem != NULL ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return rc;
	}
	yaml_parser_delete(&parser);
	x.doc = &doc;
	x.p = xcalloc(1, sizeof *x.p);
	x.p->path = xstrdup(name);
	root = yaml_document_get_root_node(&doc);
	if (yaml_guard_dup_keys(&doc, &why) != 0) {
		rc = xcause(cause, "%s:%s", name, why);
		free(why);
	} else if (root == NULL ||
	           (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
		/* empty: no roles, so everyone is refused */
	} else {
		rc = pp_root(&x, root);
	}
	yaml_document_delete(&doc);
	if (rc != 0) {
		policy_free(x.p);
		return -1;
	}
	*out = x.p;
	return 0;
}

int policy_load(const char *path, struct policy **out, char **cause)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	*out = NULL;
	f = fopen(path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0; /* no policy */
		return xcause(cause, "%s:1:1: %s", path, strerror(errno));
	}
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 8192 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0 || len > POLICY_MAX_BYTES)
			break;
	}
	if (ferror(f)) {
		rc = xcause(cause, "%s:1:1: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return rc;
	}
	fclose(f);
	rc = policy_parse(buf != NULL ? buf : "", len, path, out, cause);
	free(buf);
	return rc;
}

void policy_list_free(struct policy_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->where);
	memset(l, 0, sizeof *l);
}

int policy_list_match(const struct policy_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (fnmatch(l->v[i], s, 0) == 0)
			return 1;
	return 0;
}

char *policy_list_join(const struct policy_list *l)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->v[i]) + 2;
	s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, l->v[i]);
	}
	return s;
}

const struct policy_role *policy_role_find(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->nroles; i++)
		if (strcmp(p->roles[i].name, name) == 0)
			return &p->roles[i];
	return NULL;
}

void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nroles; i++) {
		struct policy_role *r = &p->roles[i];

		free(r->name);
		free(r->where);
		policy_list_free(&r->users);
		policy_list_free(&r->groups);
		policy_list_free(&r->providers);
		policy_list_free(&r->regions);
		policy_list_free(&r->gpu_types);
		policy_list_free(&r->templates);
		free(r->max_gpus_per_job.where);
		free(r->max_gpus_total.where);
		free(r->max_hourly_cost.where);
		free(r->above_hourly_cost.where);
		free(r->above_gpus.where);
	}
	free(p->roles);
	for (size_t i = 0; i < p->nteams; i++) {
		free(p->teams[i].name);
		policy_list_free(&p->teams[i].groups);
	}
	free(p->teams);
	for (size_t i = 0; i < p->nclasses; i++) {
		free(p->classes[i].name);
		free(p->classes[i].where);
		policy_list_free(&p->classes[i].regions);
		policy_list_free(&p->classes[i].providers);
	}
	free(p->classes);
	policy_list_free(&p->approvers);
	free(p->default_role);
	free(p->default_role_where);
	for (size_t i = 0; i < p->nbudgets; i++) {
		free(p->budgets[i].scope);
		free(p->budgets[i].name);
		free(p->budgets[i].pos);
	}
	free(p->budgets);
	free(p->path);
	free(p);
}
