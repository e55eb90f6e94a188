/* config_jobenv.c: the `job_env:` mapping of config.yaml: which variables of Gantry's own
 * environment a job may see besides the minimal set every job gets (see local_build_env and
 * gantry(1), JOB ENVIRONMENT):
 *
 *   job_env:
 *     pass: [HF_HOME, WANDB_PROJECT, "NCCL_*"]
 *
 * An item is a variable name, or a prefix ending in `*`. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/xmalloc.h"

/* NAME or PREFIX*: letters, digits and '_', not starting with a digit. */
static int config_jobenv_pattern_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '*')
		n--;
	if (n == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

static int config_jobenv_pass(struct config *c, yaml_document_t *doc, yaml_node_t *node,
                              char **cause)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return xcause(cause,
		              "%s:%zu:%zu: 'job_env.pass' expects a list of variable names such "
		              "as [HF_HOME, \"NCCL_*\"]",
		              c->config_file, node->start_mark.line + 1,
		              node->start_mark.column + 1);
	for (yaml_node_item_t *it = node->data.sequence.items.start;
	     it < node->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(doc, *it);
		const char *name =
		    v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : NULL;

		if (name == NULL || !config_jobenv_pattern_ok(name))
			return xcause(
			    cause,
			    "%s:%zu:%zu: 'job_env.pass' expects a variable name (letters, "
			    "digits, '_') or a prefix ending in '*', got '%s'",
			    c->config_file, v->start_mark.line + 1, v->start_mark.column + 1,
			    name != NULL ? name : "(not a scalar)");
		c->job_env_pass =
		    xreallocarray(c->job_env_pass, c->njob_env_pass + 2, sizeof *c->job_env_pass);
		c->job_env_pass[c->njob_env_pass++] = xstrdup(name);
		c->job_env_pass[c->njob_env_pass] = NULL;
	}
	return 0;
}

int config_parse_jobenv(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause)
{
	if (node->type != YAML_MAPPING_NODE)
		return xcause(cause, "%s:%zu:%zu: 'job_env' expects a mapping {pass: [NAME, ...]}",
		              c->config_file, node->start_mark.line + 1,
		              node->start_mark.column + 1);
	for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
	     pr < node->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		const char *key =
		    k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?";

		if (strcmp(key, "pass") != 0)
			return xcause(
			    cause, "%s:%zu:%zu: unknown job_env setting '%s' (known: pass)",
			    c->config_file, k->start_mark.line + 1, k->start_mark.column + 1, key);
		if (config_jobenv_pass(c, doc, v, cause) != 0)
			return -1;
	}
	return 0;
}

void config_jobenv_free(struct config *c)
{
	for (size_t i = 0; i < c->njob_env_pass; i++)
		free(c->job_env_pass[i]);
	free(c->job_env_pass);
	c->job_env_pass = NULL;
	c->njob_env_pass = 0;
}
