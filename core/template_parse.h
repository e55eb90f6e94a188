/* template_parse.h: the small document tree that YAML and JSON template files are parsed
 * into before validation (internal to core/template*.c). Every node knows where it was
 * written (1-based line and column), so validation errors can point at it. */
#ifndef GANTRY_TEMPLATE_PARSE_H
#define GANTRY_TEMPLATE_PARSE_H

#include <stddef.h>

enum tpl_node_type {
	TPL_NODE_NULL,
	TPL_NODE_STRING,
	TPL_NODE_INT,
	TPL_NODE_FLOAT,
	TPL_NODE_BOOL,
	TPL_NODE_SEQ,
	TPL_NODE_MAP
};

struct tpl_node {
	enum tpl_node_type type;
	int line, col;           /* 1-based */
	char *text;              /* scalars: the text as written (decoded), never NULL */
	struct tpl_node **keys;  /* mappings: key nodes (strings), in file order */
	struct tpl_node **items; /* sequences: items; mappings: values */
	size_t n;
};

/* Limits that keep hostile files (alias bombs, deep nesting) cheap to reject. */
#define TPL_NODE_MAX_DEPTH 64
#define TPL_NODE_MAX_COUNT 100000

/* Parse text into a tree. On error return NULL and set *cause to "LINE:COL: message"
 * (heap, caller frees). The root may be any node type; the caller checks for a mapping. */
struct tpl_node *template_parse_yaml(const char *text, size_t len, char **cause);
struct tpl_node *template_parse_json(const char *text, size_t len, char **cause);
void template_parse_free(struct tpl_node *n);
/* "a string", "an integer", "a list", ... for error messages. */
const char *template_parse_type_name(enum tpl_node_type t);

#endif
