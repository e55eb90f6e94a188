/* config_providers.c: the `providers:` section of config.yaml. Each instance is a mapping
 * with a `type:`; everything else is flattened into settings for the provider to check
 * ("hosts.0.address" = "10.0.0.5"), each with the FILE:LINE:COL it came from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/xmalloc.h"

#define CONFIG_PROVIDER_MAX_SETTINGS 10000

static char *config_pos(const struct config *c, const yaml_node_t *n)
{
	return xprintf("%s:%zu:%zu", c->config_file, n->start_mark.line + 1,
	               n->start_mark.column + 1);
}

static int config_flatten(const struct config *c, yaml_document_t *doc, yaml_node_t *n,
                          const char *prefix, struct config_provider *p, size_t *visits,
                          char **cause)
{
	char *pos, *key;
	int rc = 0;

	/* aliases are followed here: a few lines of anchors and aliases could expand without end */
	if (++*visits > CONFIG_PROVIDER_MAX_SETTINGS)
		return xcause(cause, "%s:%zu:%zu: provider '%s' has more than %d values",
		              c->config_file, n->start_mark.line + 1, n->start_mark.column + 1,
		              p->name, CONFIG_PROVIDER_MAX_SETTINGS);
	switch (n->type) {
	case YAML_SCALAR_NODE:
		pos = config_pos(c, n);
		kvlist_set(&p->settings, prefix, (const char *)n->data.scalar.value);
		kvlist_set(&p->settings_pos, prefix, pos);
		free(pos);
		return 0;
	case YAML_SEQUENCE_NODE:
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     rc == 0 && it < n->data.sequence.items.top; it++) {
			key =
			    xprintf("%s.%zu", prefix, (size_t)(it - n->data.sequence.items.start));
			rc = config_flatten(c, doc, yaml_document_get_node(doc, *it), key, p,
			                    visits, cause);
			free(key);
		}
		return rc;
	case YAML_MAPPING_NODE:
		for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
		     rc == 0 && pr < n->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(doc, pr->key);

			if (k->type != YAML_SCALAR_NODE || k->data.scalar.length == 0 ||
			    strchr((const char *)k->data.scalar.value, '.') != NULL)
				return xcause(cause,
				              "%s:%zu:%zu: expected a plain key without dots",
				              c->config_file, k->start_mark.line + 1,
				              k->start_mark.column + 1);
			key = *prefix != '\0' ? xprintf("%s.%s", prefix, k->data.scalar.value)
			                      : xstrdup((const char *)k->data.scalar.value);
			rc = config_flatten(c, doc, yaml_document_get_node(doc, pr->value), key, p,
			                    visits, cause);
			free(key);
		}
		return rc;
	default:
		return xcause(cause, "%s:%zu:%zu: unexpected value", c->config_file,
		              n->start_mark.line + 1, n->start_mark.column + 1);
	}
}

int config_parse_providers(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause)
{
	if (node->type != YAML_MAPPING_NODE)
		return xcause(
		    cause, "%s:%zu:%zu: 'providers' expects a mapping of name: {type: ...}",
		    c->config_file, node->start_mark.line + 1, node->start_mark.column + 1);
	for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
	     pr < node->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		struct config_provider *p;
		size_t visits = 0;
		const char *name =
		    k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";

		if (*name == '\0' ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(name))
			return xcause(cause,
			              "%s:%zu:%zu: provider name '%s' must be lower-case letters, "
			              "digits, '-' or '_'",
			              c->config_file, k->start_mark.line + 1,
			              k->start_mark.column + 1, name);
		for (size_t i = 0; i < c->nproviders; i++)
			if (strcmp(c->providers[i].name, name) == 0)
				return xcause(cause, "%s:%zu:%zu: provider '%s' is defined twice",
				              c->config_file, k->start_mark.line + 1,
				              k->start_mark.column + 1, name);
		if (v->type != YAML_MAPPING_NODE)
			return xcause(
			    cause, "%s:%zu:%zu: provider '%s' expects a mapping with 'type'",
			    c->config_file, v->start_mark.line + 1, v->start_mark.column + 1, name);
		c->providers = xreallocarray(c->providers, c->nproviders + 1, sizeof *c->providers);
		p = &c->providers[c->nproviders++];
		memset(p, 0, sizeof *p);
		p->name = xstrdup(name);
		p->pos = config_pos(c, k);
		kvlist_init(&p->settings);
		kvlist_init(&p->settings_pos);
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
		     q < v->data.mapping.pairs.top; q++) {
			yaml_node_t *qk = yaml_document_get_node(doc, q->key);
			yaml_node_t *qv = yaml_document_get_node(doc, q->value);
			const char *key =
			    qk->type == YAML_SCALAR_NODE ? (const char *)qk->data.scalar.value : "";

			if (strcmp(key, "type") == 0 && qv->type == YAML_SCALAR_NODE) {
				free(p->type);
				p->type = xstrdup((const char *)qv->data.scalar.value);
				continue;
			}
			if (strcmp(key, "region") == 0) { /* every instance has one (policy) */
				const char *r = (const char *)qv->data.scalar.value;

				if (qv->type != YAML_SCALAR_NODE || *r == '\0' ||
				    strspn(r, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				              "0123456789-_.") != strlen(r))
					return xcause(cause,
					              "%s:%zu:%zu: region: expected a region name "
					              "such as eu-west-1",
					              c->config_file, qv->start_mark.line + 1,
					              qv->start_mark.column + 1);
				free(p->region);
				p->region = xstrdup(r);
				continue;
			}
			if (*key == '\0' || strchr(key, '.') != NULL)
				return xcause(cause,
				              "%s:%zu:%zu: expected a plain key without dots",
				              c->config_file, qk->start_mark.line + 1,
				              qk->start_mark.column + 1);
			if (config_flatten(c, doc, qv, key, p, &visits, cause) != 0)
				return -1;
		}
		if (p->type == NULL && strcmp(name, "local") == 0)
			p->type = xstrdup("local"); /* the built-in one: site rates only */
		if (p->region == NULL && p->type != NULL && strcmp(p->type, "local") == 0)
			p->region = xstrdup("local");
		if (p->type == NULL)
			return xcause(cause,
			              "%s: provider '%s' has no 'type' (the types are listed "
			              "under 'Provider types' in gantry --help)",
			              p->pos, name);
		if (strcmp(name, "local") == 0 && strcmp(p->type, "local") != 0)
			return xcause(cause,
			              "%s: 'local' is the built-in local provider; name yours "
			              "differently",
			              p->pos);
	}
	return 0;
}

void config_providers_free(struct config *c)
{
	for (size_t i = 0; i < c->nproviders; i++) {
		free(c->providers[i].name);
		free(c->providers[i].type);
		free(c->providers[i].pos);
		free(c->providers[i].region);
		kvlist_free(&c->providers[i].settings);
		kvlist_free(&c->providers[i].settings_pos);
	}
	free(c->providers);
	c->providers = NULL;
	c->nproviders = 0;
}
