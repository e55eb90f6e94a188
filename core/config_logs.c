/* config_logs.c: the `logs:` mapping of config.yaml: `max_size:` caps a local job's job.log
 * (bytes, or with K, M, G: 100M; 0 = no cap; default 1G). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/xmalloc.h"

/* A size such as 100M (K, M, G, T: powers of 1024; an optional trailing B or iB), or -1. */
static int64_t config_logs_size(const char *v)
{
	char *end;
	double d;
	double mul = 1;

	errno = 0;
	d = strtod(v, &end);
	if (end == v || errno != 0 || d < 0 || d != d)
		return -1;
	switch (*end) {
	case 'k':
	case 'K':
		mul = 1024.0;
		end++;
		break;
	case 'M':
		mul = 1024.0 * 1024;
		end++;
		break;
	case 'G':
		mul = 1024.0 * 1024 * 1024;
		end++;
		break;
	case 'T':
		mul = 1024.0 * 1024 * 1024 * 1024;
		end++;
		break;
	}
	if (mul > 1 && *end == 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end != '\0' || d * mul > 1e18)
		return -1;
	return (int64_t)(d * mul);
}

int config_parse_logs(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause)
{
	if (node->type != YAML_MAPPING_NODE)
		return xcause(cause, "%s:%zu:%zu: 'logs' expects a mapping {max_size: 1G}",
		              c->config_file, node->start_mark.line + 1,
		              node->start_mark.column + 1);
	for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
	     pr < node->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		const char *val;
		int64_t n;

		if (k == NULL || v == NULL || k->type != YAML_SCALAR_NODE ||
		    v->type != YAML_SCALAR_NODE)
			return xcause(cause, "%s:%zu:%zu: expected 'setting: value'",
			              c->config_file, node->start_mark.line + 1,
			              node->start_mark.column + 1);
		if (strcmp((const char *)k->data.scalar.value, "max_size") != 0)
			return xcause(cause,
			              "%s:%zu:%zu: unknown logs setting '%s' (known: max_size)",
			              c->config_file, k->start_mark.line + 1,
			              k->start_mark.column + 1, (const char *)k->data.scalar.value);
		val = (const char *)v->data.scalar.value;
		n = config_logs_size(val);
		if (n < 0 || (n > 0 && n < 4096))
			return xcause(cause,
			              "%s:%zu:%zu: 'logs.max_size' expects a size such as 100M (at "
			              "least 4K; 0 for no cap), got '%s'",
			              c->config_file, v->start_mark.line + 1,
			              v->start_mark.column + 1, val);
		c->log_max_bytes = n;
	}
	return 0;
}
