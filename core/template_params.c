/* template_params.c: parameter values (check, resolve) and {{name}} substitution with POSIX
 * shell quoting, so that no value can ever become a command. */
#include "core/template.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"

#define MSG_VALUE_MAX 60 /* characters of a value quoted in an error message */

/* Length of the well-formed UTF-8 sequence at s (1 to 4), 0 when the bytes there are not one
 * (stray continuation, overlong form, surrogate, above U+10FFFF, cut short): the rules
 * jansson applies, which refuses to store any string that breaks them. */
static size_t utf8_seq(const unsigned char *s)
{
	size_t n;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1Fu;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0Fu;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3Fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

long template_utf8_bad(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
		size_t n = utf8_seq(p);

		if (n == 0)
			return (long)(p - (const unsigned char *)s);
		p += n;
	}
	return -1;
}

char *template_utf8_lossy(const char *s)
{
	char *out = xmalloc(strlen(s) * 3 + 1), *o = out;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0';) {
		size_t n = utf8_seq(p);

		if (n == 0) {
			memcpy(o, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
			o += 3;
			p++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return out;
}

/* A value made safe for a one-line message: control characters escaped, long values cut. */
static char *msg_value(const char *s)
{
	size_t len = strlen(s), cut = len > MSG_VALUE_MAX ? MSG_VALUE_MAX : len;
	char *out = xmalloc(cut * 4 + 4), *o = out;

	for (size_t i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c >= 0x80 ? utf8_seq((const unsigned char *)s + i) : 1;

		if (n == 0) {
			*o++ = '?'; /* not UTF-8: never copied into a message */
		} else if (n > 1) {
			if (i + n > cut)
				break;
			memcpy(o, s + i, n);
			o += n;
			i += n - 1;
		} else if (c == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (c == '\t') {
			*o++ = '\\';
			*o++ = 't';
		} else if (c < 0x20 || c == 0x7f) {
			*o++ = '?';
		} else {
			*o++ = (char)c;
		}
	}
	if (cut < len)
		for (int i = 0; i < 3; i++)
			*o++ = '.';
	*o = '\0';
	return out;
}

static int fail_value(char **cause, const struct tpl_param *p, const char *expected,
                      const char *value)
{
	char *v = msg_value(value);

	xcause(cause, "parameter '%s' expects %s, got '%s'", p->name, expected, v);
	free(v);
	return -1;
}

/* Strict decimal integer: optional sign, digits, nothing else. */
static int parse_int(const char *s, long long *out)
{
	const char *p = s;
	char *end;

	if (*p == '-' || *p == '+')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* Decimal number (no hex, inf or nan). */
static int parse_float(const char *s, double *out)
{
	char *end;

	if (*s == '\0' || strspn(s, "0123456789+-.eE") != strlen(s) ||
	    strpbrk(s, "0123456789") == NULL)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return errno != 0 || *end != '\0' || !isfinite(*out) ? -1 : 0;
}

/* 1 true, 0 false, -1 neither. */
static int parse_bool(const char *s)
{
	static const char *const yes[] = {"true", "yes", "1", "on"};
	static const char *const no[] = {"false", "no", "0", "off"};

	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

static int check_range(const struct tpl_param *p, double x, const char *value, char **cause)
{
	char *v;

	if ((!p->has_min || x >= p->min) && (!p->has_max || x <= p->max))
		return 0;
	v = msg_value(value);
	if (p->has_min && p->has_max)
		xcause(cause, "parameter '%s' must be between %.15g and %.15g, got %s", p->name,
		       p->min, p->max, v);
	else if (p->has_min)
		xcause(cause, "parameter '%s' must be at least %.15g, got %s", p->name, p->min, v);
	else
		xcause(cause, "parameter '%s' must be at most %.15g, got %s", p->name, p->max, v);
	free(v);
	return -1;
}

static int check_pattern(const struct tpl_param *p, const char *value, char **cause)
{
	char *full = xprintf("^(%s)$", p->pattern), *v;
	regex_t re;
	int rc = regcomp(&re, full, REG_EXTENDED | REG_NOSUB);

	free(full);
	if (rc != 0)
		return xcause(cause, "parameter '%s' has an invalid pattern '%s'", p->name,
		              p->pattern);
	rc = regexec(&re, value, 0, NULL, 0);
	regfree(&re);
	if (rc == 0)
		return 0;
	v = msg_value(value);
	xcause(cause, "parameter '%s' must match the pattern %s, got '%s'", p->name, p->pattern, v);
	free(v);
	return -1;
}

int template_param_check(const struct tpl_param *p, const char *value, char **cause)
{
	long long i;
	double d;
	long bad = template_utf8_bad(value);

	/* every value is stored as JSON, which holds only UTF-8 text */
	if (bad >= 0)
		return xcause(cause,
		              "parameter '%s' is not valid UTF-8 text (byte 0x%02X at offset %ld)",
		              p->name, (unsigned)(unsigned char)value[bad], bad);

	switch (p->type) {
	case TPL_PARAM_STRING:
		return p->pattern != NULL ? check_pattern(p, value, cause) : 0;
	case TPL_PARAM_INT:
		if (parse_int(value, &i) != 0)
			return fail_value(cause, p, "an integer", value);
		return check_range(p, (double)i, value, cause);
	case TPL_PARAM_FLOAT:
		if (parse_float(value, &d) != 0)
			return fail_value(cause, p, "a number", value);
		return check_range(p, d, value, cause);
	case TPL_PARAM_BOOL:
		if (parse_bool(value) < 0)
			return fail_value(cause, p, "a boolean (true/false, yes/no, 1/0)", value);
		return 0;
	case TPL_PARAM_ENUM: {
		size_t len = 16;
		char *all;
		int rc;

		for (size_t k = 0; k < p->nchoices; k++) {
			if (strcmp(p->choices[k], value) == 0)
				return 0;
			len += strlen(p->choices[k]) + 2;
		}
		all = xmalloc(len);
		strcpy(all, "one of ");
		for (size_t k = 0; k < p->nchoices; k++) {
			if (k > 0)
				strcat(all, ", ");
			strcat(all, p->choices[k]);
		}
		rc = fail_value(cause, p, all, value);
		free(all);
		return rc;
	}
	}
	return xcause(cause, "parameter '%s' has an unknown type", p->name);
}

/* "a, b, c" naming every parameter of t; heap string. */
static char *param_names(const struct template *t)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < t->nparams; i++)
		len += strlen(t->params[i].name) + 2;
	s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; i < t->nparams; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, t->params[i].name);
	}
	return s;
}

static const struct tpl_param *find_param(const struct template *t, const char *name)
{
	for (size_t i = 0; i < t->nparams; i++)
		if (strcmp(t->params[i].name, name) == 0)
			return &t->params[i];
	return NULL;
}

static const char *type_name(enum tpl_param_type type)
{
	static const char *const names[] = {"string", "int", "float", "bool", "enum"};

	return (size_t)type < sizeof names / sizeof names[0] ? names[type] : "?";
}

int template_resolve_params(const struct template *t, const char *const *sets, size_t nsets,
                            struct kvlist *out, char **cause)
{
	struct kvlist given, vals;
	int rc = -1;

	if (t->error != NULL)
		return xcause(cause, "template '%s' is broken: %s", t->name, t->error);
	kvlist_init(&given);
	kvlist_init(&vals);
	for (size_t i = 0; i < nsets; i++) {
		const char *eq = strchr(sets[i], '=');
		char *name;

		if (eq == NULL || eq == sets[i]) {
			char *v = msg_value(sets[i]);

			xcause(cause, "invalid parameter assignment '%s': expected NAME=VALUE", v);
			free(v);
			goto out;
		}
		name = xstrndup(sets[i], (size_t)(eq - sets[i]));
		if (find_param(t, name) == NULL) {
			char *v = msg_value(name), *all = param_names(t);

			if (t->nparams == 0)
				xcause(cause, "unknown parameter '%s' (template %s has none)", v,
				       t->name);
			else
				xcause(cause, "unknown parameter '%s' (template %s has: %s)", v,
				       t->name, all);
			free(v);
			free(all);
			free(name);
			goto out;
		}
		kvlist_set(&given, name, eq + 1);
		free(name);
	}
	for (size_t i = 0; i < t->nparams; i++) {
		const struct tpl_param *p = &t->params[i];
		const char *val = kvlist_get(&given, p->name);
		long long n;

		if (val == NULL)
			val = p->def;
		if (val == NULL) {
			xcause(cause, "missing required parameter '%s' (%s): set it with %s=VALUE",
			       p->name, type_name(p->type), p->name);
			goto out;
		}
		if (template_param_check(p, val, cause) != 0)
			goto out;
		if (p->type == TPL_PARAM_BOOL) {
			kvlist_set(&vals, p->name, parse_bool(val) ? "true" : "false");
		} else if (p->type == TPL_PARAM_INT && parse_int(val, &n) == 0) {
			char *s = xprintf("%lld", n);

			kvlist_set(&vals, p->name, s);
			free(s);
		} else {
			kvlist_set(&vals, p->name, val);
		}
	}
	kvlist_copy(out, &vals);
	rc = 0;
out:
	kvlist_free(&given);
	kvlist_free(&vals);
	return rc;
}

char *template_shell_quote(const char *s)
{
	size_t len = 3;
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		len += *p == '\'' ? 4 : 1;
	out = o = xmalloc(len);
	*o++ = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *p;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap == 0 ? 256 : b->cap * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static int is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static int line_of(const char *text, const char *at)
{
	int line = 1;

	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	return line;
}

static int render(const char *text, const struct kvlist *values, int quote, char **out,
                  char **cause)
{
	struct sbuf b = {0};
	const char *p = text, *open;

	sbuf_add(&b, "", 0);
	while ((open = strstr(p, "{{")) != NULL) {
		const char *q = open + 2, *name;
		size_t namelen;
		char *key;
		const char *val;

		sbuf_add(&b, p, (size_t)(open - p));
		q += strspn(q, " \t");
		name = q;
		while (is_name_char(*q))
			q++;
		namelen = (size_t)(q - name);
		q += strspn(q, " \t");
		if (namelen == 0 || q[0] != '}' || q[1] != '}') {
			xcause(cause, "malformed placeholder at line %d: expected {{name}}",
			       line_of(text, open));
			free(b.s);
			return -1;
		}
		key = xstrndup(name, namelen);
		val = kvlist_get(values, key);
		if (val == NULL) {
			size_t len = 1;
			char *known;

			for (size_t i = 0; i < values->n; i++)
				len += strlen(values->keys[i]) + 2;
			known = xmalloc(len);
			known[0] = '\0';
			for (size_t i = 0; i < values->n; i++) {
				if (i > 0)
					strcat(known, ", ");
				strcat(known, values->keys[i]);
			}
			if (values->n == 0)
				xcause(cause,
				       "unknown placeholder '{{%s}}' at line %d (no parameters "
				       "are declared)",
				       key, line_of(text, open));
			else
				xcause(cause, "unknown placeholder '{{%s}}' at line %d (known: %s)",
				       key, line_of(text, open), known);
			free(known);
			free(key);
			free(b.s);
			return -1;
		}
		free(key);
		if (quote) {
			char *qv = template_shell_quote(val);

			sbuf_add(&b, qv, strlen(qv));
			free(qv);
		} else {
			sbuf_add(&b, val, strlen(val));
		}
		p = q + 2;
	}
	sbuf_add(&b, p, strlen(p));
	*out = b.s;
	return 0;
}

int template_render(const char *text, const struct kvlist *values, char **out, char **cause)
{
	return render(text, values, 1, out, cause);
}

int template_render_raw(const char *text, const struct kvlist *values, char **out, char **cause)
{
	return render(text, values, 0, out, cause);
}
