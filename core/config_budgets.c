/* config_budgets.c: the `budgets:` list of config.yaml: monthly limits per user, team or
 * project, with a soft threshold that warns and a hard one that refuses launches (and
 * optionally stops the scope's jobs after a grace period). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/xmalloc.h"

static int config_budget_fail(const struct config *c, const yaml_node_t *n, char **cause,
                              const char *what, const char *v)
{
	return xcause(cause, "%s:%zu:%zu: %s, got '%s'", c->config_file, n->start_mark.line + 1,
	              n->start_mark.column + 1, what, v);
}

static int config_budget_field(const struct config *c, struct config_budget *b, const char *k,
                               const yaml_node_t *vn, char **cause)
{
	const char *v = (const char *)vn->data.scalar.value;
	char *end;

	if (strcmp(k, "scope") == 0) {
		if (strcmp(v, "user") != 0 && strcmp(v, "team") != 0 && strcmp(v, "project") != 0)
			return config_budget_fail(c, vn, cause,
			                          "'scope' expects user, team or project", v);
		free(b->scope);
		b->scope = xstrdup(v);
	} else if (strcmp(k, "name") == 0) {
		free(b->name);
		b->name = xstrdup(v);
	} else if (strcmp(k, "monthly") == 0 || strcmp(k, "soft") == 0 || strcmp(k, "hard") == 0) {
		double d;

		errno = 0;
		d = strtod(v, &end);
		/* no inf, nan, hex or overflow: a plain decimal amount */
		if (end == v || *end != '\0' || errno == ERANGE || !isfinite(d) ||
		    strspn(v, "0123456789.eE+-") != strlen(v) || d < 0 || (k[0] != 'm' && d > 10))
			return config_budget_fail(c, vn, cause,
			                          k[0] == 'm' ? "'monthly' expects an amount in USD"
			                                      : "expects a fraction such as 0.8",
			                          v);
		if (k[0] == 'm')
			b->monthly = d;
		else if (k[0] == 's')
			b->soft = d;
		else
			b->hard = d;
	} else if (strcmp(k, "action") == 0) {
		if (strcmp(v, "refuse") != 0 && strcmp(v, "stop") != 0)
			return config_budget_fail(c, vn, cause, "'action' expects refuse or stop",
			                          v);
		b->stop = strcmp(v, "stop") == 0;
	} else if (strcmp(k, "grace") == 0) {
		int64_t g = config_duration(v, 1, 86400 * 30);

		if (g < 0)
			return config_budget_fail(c, vn, cause,
			                          "'grace' expects a duration such as 10m", v);
		b->grace_s = (int)g;
	} else {
		return xcause(cause,
		              "%s:%zu:%zu: unknown budget setting '%s' (known: scope, name, "
		              "monthly, soft, hard, action, grace)",
		              c->config_file, vn->start_mark.line + 1, (size_t)1, k);
	}
	return 0;
}

int config_parse_budgets(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return xcause(
		    cause, "%s:%zu:%zu: 'budgets' expects a list of {scope, name, monthly}",
		    c->config_file, node->start_mark.line + 1, node->start_mark.column + 1);
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(doc, *it);
		struct config_budget *b;

		if (n->type != YAML_MAPPING_NODE)
			return xcause(
			    cause, "%s:%zu:%zu: a budget is a mapping {scope, name, monthly}",
			    c->config_file, n->start_mark.line + 1, n->start_mark.column + 1);
		c->budgets = xreallocarray(c->budgets, c->nbudgets + 1, sizeof *c->budgets);
		b = &c->budgets[c->nbudgets++];
		memset(b, 0, sizeof *b);
		b->soft = 0.8;
		b->hard = 1.0;
		b->grace_s = 600;
		b->pos = xprintf("%s:%zu:%zu", c->config_file, n->start_mark.line + 1,
		                 n->start_mark.column + 1);
		for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
		     pr < n->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(doc, pr->key);
			yaml_node_t *v = yaml_document_get_node(doc, pr->value);

			if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
				return xcause(cause, "%s:%zu:%zu: expected 'setting: value'",
				              c->config_file, k->start_mark.line + 1,
				              k->start_mark.column + 1);
			if (config_budget_field(c, b, (const char *)k->data.scalar.value, v,
			                        cause) != 0)
				return -1;
		}
		if (b->scope == NULL || b->name == NULL || b->monthly <= 0)
			return xcause(cause,
			              "%s: a budget needs scope, name and a positive monthly "
			              "amount",
			              b->pos);
		if (b->soft > b->hard)
			return xcause(cause, "%s: 'soft' (%.2f) must not exceed 'hard' (%.2f)",
			              b->pos, b->soft, b->hard);
		for (size_t i = 0; i + 1 < c->nbudgets; i++)
			if (strcmp(c->budgets[i].scope, b->scope) == 0 &&
			    strcmp(c->budgets[i].name, b->name) == 0)
				return xcause(
				    cause, "%s: a second budget for %s '%s' (the first is at %s)",
				    b->pos, b->scope, b->name, c->budgets[i].pos);
	}
	return 0;
}

void config_budgets_free(struct config *c)
{
	for (size_t i = 0; i < c->nbudgets; i++) {
		free(c->budgets[i].scope);
		free(c->budgets[i].name);
		free(c->budgets[i].pos);
	}
	free(c->budgets);
	c->budgets = NULL;
	c->nbudgets = 0;
}
