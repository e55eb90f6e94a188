/* template_parse.c: YAML (libyaml) and JSON (jansson) template text -> struct tpl_node tree
 * with 1-based line/column on every node. */
#include "core/template_parse.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/xmalloc.h"
#include "core/yaml_guard.h"

static struct tpl_node *node_new(enum tpl_node_type type, int line, int col)
{
	struct tpl_node *n = xcalloc(1, sizeof *n);

	n->type = type;
	n->line = line;
	n->col = col;
	return n;
}

/* Appends a child (and its key node for mappings) to a sequence or mapping. */
static void node_append(struct tpl_node *parent, struct tpl_node *key, struct tpl_node *item)
{
	parent->items = xreallocarray(parent->items, parent->n + 1, sizeof *parent->items);
	if (parent->type == TPL_NODE_MAP)
		parent->keys = xreallocarray(parent->keys, parent->n + 1, sizeof *parent->keys);
	parent->items[parent->n] = item;
	if (parent->type == TPL_NODE_MAP)
		parent->keys[parent->n] = key;
	parent->n++;
}

void template_parse_free(struct tpl_node *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys != NULL)
			template_parse_free(n->keys[i]);
		template_parse_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->text);
	free(n);
}

const char *template_parse_type_name(enum tpl_node_type t)
{
	switch (t) {
	case TPL_NODE_NULL:
		return "null";
	case TPL_NODE_STRING:
		return "a string";
	case TPL_NODE_INT:
		return "an integer";
	case TPL_NODE_FLOAT:
		return "a number";
	case TPL_NODE_BOOL:
		return "a boolean";
	case TPL_NODE_SEQ:
		return "a list";
	case TPL_NODE_MAP:
		return "a mapping";
	}
	return "something else";
}

/* Line and column (1-based, counting characters) of byte offset off in text. */
static void offset_to_linecol(const char *text, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n') {
			(*line)++;
			*col = 1;
		} else if ((c & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static int is_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* YAML 1.2 core schema resolution of a plain scalar (decimal numbers only). */
static enum tpl_node_type yaml_plain_type(const char *s)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	static const char *const bools[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
	const char *p = s;
	int digits = 0;

	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
		if (strcmp(s, nulls[i]) == 0)
			return TPL_NODE_NULL;
	for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
		if (strcmp(s, bools[i]) == 0)
			return TPL_NODE_BOOL;
	if (*p == '-' || *p == '+')
		p++;
	if (is_digits(p))
		return TPL_NODE_INT;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
	}
	if (digits == 0)
		return TPL_NODE_STRING;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!is_digits(p))
			return TPL_NODE_STRING;
		return TPL_NODE_FLOAT;
	}
	return *p == '\0' ? TPL_NODE_FLOAT : TPL_NODE_STRING;
}

struct ybuild {
	yaml_document_t *doc;
	size_t count;
	char *cause;
};

static struct tpl_node *yaml_convert(struct ybuild *b, yaml_node_t *yn, int depth, int is_key)
{
	int line = (int)yn->start_mark.line + 1, col = (int)yn->start_mark.column + 1;
	struct tpl_node *n;

	if (depth > TPL_NODE_MAX_DEPTH) {
		xcause(&b->cause, "%d:%d: nesting deeper than %d levels", line, col,
		       TPL_NODE_MAX_DEPTH);
		return NULL;
	}
	if (++b->count > TPL_NODE_MAX_COUNT) {
		xcause(&b->cause, "%d:%d: document too large (more than %d nodes after aliases)",
		       line, col, TPL_NODE_MAX_COUNT);
		return NULL;
	}
	if (is_key && yn->type != YAML_SCALAR_NODE) {
		xcause(&b->cause, "%d:%d: expected a field name, got %s", line, col,
		       yn->type == YAML_MAPPING_NODE ? "a mapping" : "a list");
		return NULL;
	}
	switch (yn->type) {
	case YAML_SCALAR_NODE: {
		const char *v = (const char *)yn->data.scalar.value;
		size_t len = yn->data.scalar.length;

		if (memchr(v, '\0', len) != NULL) {
			xcause(&b->cause, "%d:%d: NUL character in a value", line, col);
			return NULL;
		}
		n = node_new(TPL_NODE_STRING, line, col);
		n->text = xstrndup(v, len);
		if (!is_key && yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			n->type = yaml_plain_type(n->text);
		return n;
	}
	case YAML_SEQUENCE_NODE:
		n = node_new(TPL_NODE_SEQ, line, col);
		for (yaml_node_item_t *it = yn->data.sequence.items.start;
		     it < yn->data.sequence.items.top; it++) {
			yaml_node_t *child = yaml_document_get_node(b->doc, *it);
			struct tpl_node *c = child ? yaml_convert(b, child, depth + 1, 0) : NULL;

			if (c == NULL) {
				xcause(&b->cause, "%d:%d: unreadable list item", line, col);
				template_parse_free(n);
				return NULL;
			}
			node_append(n, NULL, c);
		}
		return n;
	case YAML_MAPPING_NODE:
		n = node_new(TPL_NODE_MAP, line, col);
		for (yaml_node_pair_t *p = yn->data.mapping.pairs.start;
		     p < yn->data.mapping.pairs.top; p++) {
			yaml_node_t *yk = yaml_document_get_node(b->doc, p->key);
			yaml_node_t *yv = yaml_document_get_node(b->doc, p->value);
			struct tpl_node *k = yk ? yaml_convert(b, yk, depth + 1, 1) : NULL;
			struct tpl_node *v = k && yv ? yaml_convert(b, yv, depth + 1, 0) : NULL;

			if (v == NULL) {
				xcause(&b->cause, "%d:%d: unreadable mapping entry", line, col);
				template_parse_free(k);
				template_parse_free(n);
				return NULL;
			}
			node_append(n, k, v);
		}
		return n;
	case YAML_NO_NODE:
		break;
	}
	xcause(&b->cause, "%d:%d: empty node", line, col);
	return NULL;
}

/* Formats a libyaml parser error as "LINE:COL: YAML syntax error: ...". */
static void yaml_error(yaml_parser_t *p, const char *text, size_t len, char **cause)
{
	int line, col;

	if (p->error == YAML_READER_ERROR) {
		offset_to_linecol(text, len, p->problem_offset, &line, &col);
	} else {
		line = (int)p->problem_mark.line + 1;
		col = (int)p->problem_mark.column + 1;
	}
	if (p->error == YAML_MEMORY_ERROR)
		xfatal("out of memory in libyaml");
	if (p->context != NULL)
		xcause(cause, "%d:%d: YAML syntax error: %s (%s)", line, col,
		       p->problem ? p->problem : "unknown problem", p->context);
	else
		xcause(cause, "%d:%d: YAML syntax error: %s", line, col,
		       p->problem ? p->problem : "unknown problem");
}

struct tpl_node *template_parse_yaml(const char *text, size_t len, char **cause)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct tpl_node *root = NULL;
	yaml_node_t *yroot;
	struct ybuild b = {.doc = &doc};

	if (yaml_guard_depth(text, len, TPL_NODE_MAX_DEPTH, cause) != 0)
		return NULL;
	if (!yaml_parser_initialize(&parser))
		xfatal("cannot initialise libyaml");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_error(&parser, text, len, cause);
		yaml_parser_delete(&parser);
		return NULL;
	}
	yroot = yaml_document_get_root_node(&doc);
	if (yroot == NULL)
		root = node_new(TPL_NODE_NULL, 1, 1);
	else
		root = yaml_convert(&b, yroot, 0, 0);
	yaml_document_delete(&doc);
	if (root == NULL) {
		*cause = b.cause;
		yaml_parser_delete(&parser);
		return NULL;
	}
	free(b.cause);
	if (!yaml_parser_load(&parser, &extra)) {
		yaml_error(&parser, text, len, cause);
		template_parse_free(root);
		root = NULL;
	} else {
		yaml_node_t *second = yaml_document_get_root_node(&extra);

		if (second != NULL) {
			xcause(cause, "%d:%d: more than one YAML document in the file",
			       (int)extra.start_mark.line + 1, (int)extra.start_mark.column + 1);
			template_parse_free(root);
			root = NULL;
		}
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&parser);
	return root;
}

/* JSON: jansson checks the syntax (and rejects duplicate keys); then a small scanner over
 * the now-known-valid text builds the tree, because jansson keeps no positions. */
struct jscan {
	const char *s;
	size_t len, pos;
	int line, col;
	size_t count;
	char *cause;
};

static void js_advance(struct jscan *j)
{
	unsigned char c = (unsigned char)j->s[j->pos++];

	if (c == '\n') {
		j->line++;
		j->col = 1;
	} else if ((c & 0xC0) != 0x80) {
		j->col++;
	}
}

static int js_peek(const struct jscan *j)
{
	return j->pos < j->len ? (unsigned char)j->s[j->pos] : -1;
}

static void js_skip_ws(struct jscan *j)
{
	int c;

	while ((c = js_peek(j)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		js_advance(j);
}

static struct tpl_node *js_fail(struct jscan *j, const char *what)
{
	xcause(&j->cause, "%d:%d: JSON syntax error: %s", j->line, j->col, what);
	return NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads 4 hex digits after "\u"; -1 when malformed. */
static long js_hex4(struct jscan *j)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		int h = hexval(js_peek(j));

		if (h < 0)
			return -1;
		v = v * 16 + h;
		js_advance(j);
	}
	return v;
}

static void buf_put(char **buf, size_t *len, size_t *cap, char c)
{
	if (*len + 1 >= *cap) {
		*cap = *cap == 0 ? 64 : *cap * 2;
		*buf = xrealloc(*buf, *cap);
	}
	(*buf)[(*len)++] = c;
	(*buf)[*len] = '\0';
}

static void buf_put_utf8(char **buf, size_t *len, size_t *cap, unsigned long cp)
{
	if (cp < 0x80) {
		buf_put(buf, len, cap, (char)cp);
	} else if (cp < 0x800) {
		buf_put(buf, len, cap, (char)(0xC0 | (cp >> 6)));
		buf_put(buf, len, cap, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		buf_put(buf, len, cap, (char)(0xE0 | (cp >> 12)));
		buf_put(buf, len, cap, (char)(0x80 | ((cp >> 6) & 0x3F)));
		buf_put(buf, len, cap, (char)(0x80 | (cp & 0x3F)));
	} else {
		buf_put(buf, len, cap, (char)(0xF0 | (cp >> 18)));
		buf_put(buf, len, cap, (char)(0x80 | ((cp >> 12) & 0x3F)));
		buf_put(buf, len, cap, (char)(0x80 | ((cp >> 6) & 0x3F)));
		buf_put(buf, len, cap, (char)(0x80 | (cp & 0x3F)));
	}
}

/* Decodes the string token at the cursor (which is at the opening quote). */
static struct tpl_node *js_string(struct jscan *j)
{
	struct tpl_node *n = node_new(TPL_NODE_STRING, j->line, j->col);
	size_t len = 0, cap = 16;
	char *buf = xmalloc(cap);
	int c;

	buf[0] = '\0';
	js_advance(j);
	while ((c = js_peek(j)) != '"') {
		if (c < 0)
			goto bad;
		js_advance(j);
		if (c != '\\') {
			buf_put(&buf, &len, &cap, (char)c);
			continue;
		}
		c = js_peek(j);
		if (c < 0)
			goto bad;
		js_advance(j);
		switch (c) {
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		case 'n':
			c = '\n';
			break;
		case 'r':
			c = '\r';
			break;
		case 't':
			c = '\t';
			break;
		case 'u': {
			long cp = js_hex4(j), lo;

			if (cp <= 0)
				goto bad;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (js_peek(j) != '\\')
					goto bad;
				js_advance(j);
				if (js_peek(j) != 'u')
					goto bad;
				js_advance(j);
				lo = js_hex4(j);
				if (lo < 0xDC00 || lo > 0xDFFF)
					goto bad;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				goto bad;
			}
			buf_put_utf8(&buf, &len, &cap, (unsigned long)cp);
			continue;
		}
		default:
			break; /* '"', '\\' and '/' stand for themselves */
		}
		buf_put(&buf, &len, &cap, (char)c);
	}
	js_advance(j);
	n->text = buf;
	return n;
bad:
	free(buf);
	template_parse_free(n);
	return js_fail(j, "malformed string");
}

static struct tpl_node *js_value(struct jscan *j, int depth);

/* Parses an object or array (cursor at '{' or '['). */
static struct tpl_node *js_container(struct jscan *j, int depth)
{
	int is_map = js_peek(j) == '{';
	int close = is_map ? '}' : ']';
	struct tpl_node *n = node_new(is_map ? TPL_NODE_MAP : TPL_NODE_SEQ, j->line, j->col);

	js_advance(j);
	js_skip_ws(j);
	if (js_peek(j) == close) {
		js_advance(j);
		return n;
	}
	for (;;) {
		struct tpl_node *k = NULL, *v;

		js_skip_ws(j);
		if (is_map) {
			if (js_peek(j) != '"') {
				template_parse_free(n);
				return js_fail(j, "expected a string key");
			}
			k = js_string(j);
			if (k == NULL) {
				template_parse_free(n);
				return NULL;
			}
			js_skip_ws(j);
			if (js_peek(j) != ':') {
				template_parse_free(k);
				template_parse_free(n);
				return js_fail(j, "expected ':'");
			}
			js_advance(j);
		}
		v = js_value(j, depth + 1);
		if (v == NULL) {
			template_parse_free(k);
			template_parse_free(n);
			return NULL;
		}
		node_append(n, k, v);
		js_skip_ws(j);
		if (js_peek(j) == ',') {
			js_advance(j);
			continue;
		}
		if (js_peek(j) == close) {
			js_advance(j);
			return n;
		}
		template_parse_free(n);
		return js_fail(j, "expected ',' or a closing bracket");
	}
}

static struct tpl_node *js_value(struct jscan *j, int depth)
{
	static const struct {
		const char *word;
		enum tpl_node_type type;
	} words[] = {{"true", TPL_NODE_BOOL}, {"false", TPL_NODE_BOOL}, {"null", TPL_NODE_NULL}};
	struct tpl_node *n;
	size_t start;
	int c, is_float = 0;

	js_skip_ws(j);
	if (depth > TPL_NODE_MAX_DEPTH) {
		xcause(&j->cause, "%d:%d: nesting deeper than %d levels", j->line, j->col,
		       TPL_NODE_MAX_DEPTH);
		return NULL;
	}
	if (++j->count > TPL_NODE_MAX_COUNT)
		return js_fail(j, "document too large");
	c = js_peek(j);
	if (c == '{' || c == '[')
		return js_container(j, depth);
	if (c == '"')
		return js_string(j);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t wl = strlen(words[i].word);

		if (j->len - j->pos >= wl && memcmp(j->s + j->pos, words[i].word, wl) == 0) {
			n = node_new(words[i].type, j->line, j->col);
			n->text = xstrdup(words[i].word);
			for (size_t k = 0; k < wl; k++)
				js_advance(j);
			return n;
		}
	}
	n = node_new(TPL_NODE_INT, j->line, j->col);
	start = j->pos;
	while ((c = js_peek(j)) == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
	       (c >= '0' && c <= '9')) {
		if (c == '.' || c == 'e' || c == 'E')
			is_float = 1;
		js_advance(j);
	}
	if (j->pos == start) {
		template_parse_free(n);
		return js_fail(j, "unexpected character");
	}
	n->text = xstrndup(j->s + start, j->pos - start);
	if (is_float)
		n->type = TPL_NODE_FLOAT;
	return n;
}

struct tpl_node *template_parse_json(const char *text, size_t len, char **cause)
{
	json_error_t err;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	struct jscan j = {.s = text, .len = len, .line = 1, .col = 1};
	struct tpl_node *root;

	if (doc == NULL) {
		xcause(cause, "%d:%d: JSON syntax error: %s", err.line > 0 ? err.line : 1,
		       err.column > 0 ? err.column : 1, err.text);
		return NULL;
	}
	json_decref(doc);
	root = js_value(&j, 0);
	if (root == NULL) {
		*cause = j.cause;
		return NULL;
	}
	return root;
}
