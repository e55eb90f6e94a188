/* yaml_guard.c: the nesting limit (an event pre-pass) and duplicate keys (one pass over a
 * loaded document's nodes) for YAML input. */
#include "core/yaml_guard.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

int yaml_guard_depth(const char *text, size_t len, int max_depth, char **cause)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, rc = 0, done = 0;

	if (!yaml_parser_initialize(&parser))
		xfatal("cannot initialise libyaml");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (parser.error == YAML_MEMORY_ERROR)
				xfatal("out of memory in libyaml");
			break; /* a syntax error: the loader reports it */
		}
		switch (ev.type) {
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > max_depth)
				rc = xcause(cause, "%zu:%zu: nesting deeper than %d levels",
				            ev.start_mark.line + 1, ev.start_mark.column + 1,
				            max_depth);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

struct yaml_guard_key {
	const yaml_node_t *node;
	size_t index;
};

static int yaml_guard_key_cmp(const void *a, const void *b)
{
	const struct yaml_guard_key *x = a, *y = b;
	size_t lx = x->node->data.scalar.length, ly = y->node->data.scalar.length;
	int c = memcmp(x->node->data.scalar.value, y->node->data.scalar.value, lx < ly ? lx : ly);

	if (c != 0)
		return c;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int yaml_guard_same(const yaml_node_t *a, const yaml_node_t *b)
{
	return a->data.scalar.length == b->data.scalar.length &&
	       memcmp(a->data.scalar.value, b->data.scalar.value, a->data.scalar.length) == 0;
}

/* Sorts the scalar keys of one mapping (n log n, so a mapping of 100,000 keys stays
 * cheap) and reports the earliest-written second occurrence. */
static int yaml_guard_mapping(yaml_document_t *doc, const yaml_node_t *m, char **cause)
{
	size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start), nk = 0;
	struct yaml_guard_key *keys, *dup = NULL, *first = NULL;
	int rc = 0;

	if (n < 2)
		return 0;
	keys = xreallocarray(NULL, n, sizeof *keys);
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *k =
		    yaml_document_get_node(doc, m->data.mapping.pairs.start[i].key);

		if (k != NULL && k->type == YAML_SCALAR_NODE)
			keys[nk++] = (struct yaml_guard_key){k, i};
	}
	qsort(keys, nk, sizeof *keys, yaml_guard_key_cmp);
	/* sorted by (text, index): a run of equal keys starts with the one written first */
	for (size_t i = 0, j; i < nk; i = j) {
		for (j = i + 1; j < nk && yaml_guard_same(keys[i].node, keys[j].node); j++)
			;
		if (j > i + 1 && (dup == NULL || keys[i + 1].index < dup->index)) {
			first = &keys[i];
			dup = &keys[i + 1];
		}
	}
	if (dup != NULL)
		rc = xcause(cause, "%zu:%zu: duplicate key '%s' (first at line %zu)",
		            dup->node->start_mark.line + 1, dup->node->start_mark.column + 1,
		            (const char *)dup->node->data.scalar.value,
		            first->node->start_mark.line + 1);
	free(keys);
	return rc;
}

int yaml_guard_dup_keys(yaml_document_t *doc, char **cause)
{
	for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++)
		if (n->type == YAML_MAPPING_NODE && yaml_guard_mapping(doc, n, cause) != 0)
			return -1;
	return 0;
}
