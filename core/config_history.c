/* config_history.c: the `history:` mapping of config.yaml: how long GPU history is kept in
 * the store, per bucket width (`minutes: 7d`, `hours: 90d`; 0 keeps it forever), and the
 * duration reader config.yaml's settings share. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/xmalloc.h"

#define CONFIG_HISTORY_MAX_S (3650.0 * 86400) /* ten years */

/* Both config_budgets.c and config_history.c read durations. */
int64_t config_duration(const char *v, double unit_s, double max_s)
{
	char *end;
	double d, mul = unit_s;

	/* digits first: no inf, nan or hex */
	if ((*v < '0' || *v > '9') && *v != '.')
		return -1;
	errno = 0;
	d = strtod(v, &end);
	if (end == v || errno == ERANGE || !isfinite(d) || d < 0)
		return -1;
	switch (*end) {
	case 's':
		mul = 1;
		end++;
		break;
	case 'm':
		mul = 60;
		end++;
		break;
	case 'h':
		mul = 3600;
		end++;
		break;
	case 'd':
		mul = 86400;
		end++;
		break;
	}
	if (*end != '\0' || d * mul > max_s)
		return -1;
	return (int64_t)(d * mul);
}

int config_parse_history(struct config *c, yaml_document_t *doc, yaml_node_t *node, char **cause)
{
	if (node->type != YAML_MAPPING_NODE)
		return xcause(
		    cause, "%s:%zu:%zu: 'history' expects a mapping {minutes: 7d, hours: 90d}",
		    c->config_file, node->start_mark.line + 1, node->start_mark.column + 1);
	for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
	     pr < node->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(doc, pr->value);
		const char *key, *val;
		int64_t s, min;

		if (k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
			return xcause(cause, "%s:%zu:%zu: expected 'setting: value'",
			              c->config_file, k->start_mark.line + 1,
			              k->start_mark.column + 1);
		key = (const char *)k->data.scalar.value;
		val = (const char *)v->data.scalar.value;
		if (strcmp(key, "minutes") != 0 && strcmp(key, "hours") != 0)
			return xcause(cause,
			              "%s:%zu:%zu: unknown history setting '%s' (known: minutes, "
			              "hours)",
			              c->config_file, k->start_mark.line + 1,
			              k->start_mark.column + 1, key);
		/* a 1-minute bucket is kept at least an hour, a 1-hour bucket at least a day */
		min = key[0] == 'm' ? 3600 : 86400;
		s = config_duration(val, 86400, CONFIG_HISTORY_MAX_S);
		if (s < 0 || (s > 0 && s < min))
			return xcause(cause,
			              "%s:%zu:%zu: 'history.%s' expects a duration such as %s (at "
			              "least %s; 0 keeps it forever), got '%s'",
			              c->config_file, v->start_mark.line + 1,
			              v->start_mark.column + 1, key, key[0] == 'm' ? "7d" : "90d",
			              key[0] == 'm' ? "1h" : "1d", val);
		if (key[0] == 'm')
			c->history_1m_s = s;
		else
			c->history_1h_s = s;
	}
	return 0;
}
