/* catalog.c: loading the price catalog (RFC 4180 CSV), row by row, skipping bad rows. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/catalog.h"
#include "core/xmalloc.h"

#define CATALOG_NCOLS     9
#define CATALOG_MAX_BYTES (256L * 1024 * 1024)

enum {
	COL_PROVIDER,
	COL_REGION,
	COL_TYPE,
	COL_GPU,
	COL_COUNT,
	COL_VCPUS,
	COL_MEM,
	COL_OD,
	COL_SPOT
};

static const char *const catalog_cols[CATALOG_NCOLS] = {
    "provider", "region",     "instance_type",         "gpu_name",         "gpu_count",
    "vcpus",    "memory_gib", "ondemand_usd_per_hour", "spot_usd_per_hour"};

/* A reader over the text; pos and line advance record by record. */
struct catalog_reader {
	const char *p, *end;
	int line; /* line of the next character */
	char **fields;
	size_t nfields, capfields;
	char *buf;
	size_t len, cap;
};

struct catalog_warning {
	int line;
	char *msg;
};

struct catalog_warnings {
	struct catalog_warning *w;
	size_t n, cap;
};

static void catalog_buf_add(struct catalog_reader *r, char c)
{
	if (r->len + 1 >= r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->buf = xrealloc(r->buf, r->cap);
	}
	r->buf[r->len++] = c;
}

static void catalog_field_end(struct catalog_reader *r)
{
	if (r->nfields == r->capfields) {
		r->capfields = r->capfields ? r->capfields * 2 : 16;
		r->fields = xreallocarray(r->fields, r->capfields, sizeof *r->fields);
	}
	catalog_buf_add(r, '\0');
	r->fields[r->nfields++] = xstrndup(r->buf, r->len - 1);
	r->len = 0;
}

static void catalog_fields_clear(struct catalog_reader *r)
{
	size_t i;

	for (i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	r->nfields = 0;
	r->len = 0;
}

/* Skips the rest of the current physical line after a quoting error. */
static void catalog_skip_line(struct catalog_reader *r)
{
	while (r->p < r->end && *r->p != '\n')
		r->p++;
	if (r->p < r->end) {
		r->p++;
		r->line++;
	}
}

/* Reads one record. Returns 1 (fields in r->fields), 0 at the end of the text, or -1 with *err
 * (static text) for a record that breaks the quoting rules (the rest of its line is skipped).
 * *start gets the line the record starts on. */
static int catalog_record(struct catalog_reader *r, int *start, const char **err)
{
	int quoted;
	char c;

	catalog_fields_clear(r);
	*start = r->line;
	if (r->p >= r->end)
		return 0;
	for (;;) {
		/* one field */
		quoted = r->p < r->end && *r->p == '"';
		if (quoted) {
			r->p++;
			for (;;) {
				if (r->p >= r->end) {
					*err = "unterminated quoted field";
					return -1;
				}
				c = *r->p++;
				if (c == '"') {
					if (r->p < r->end && *r->p == '"') {
						catalog_buf_add(r, '"');
						r->p++;
						continue;
					}
					break;
				}
				if (c == '\n')
					r->line++;
				if (c == '\0') {
					*err = "NUL byte";
					catalog_skip_line(r);
					return -1;
				}
				catalog_buf_add(r, c);
			}
		} else {
			while (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
			       !(*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n')) {
				c = *r->p;
				if (c == '"') {
					*err = "quote inside an unquoted field";
					catalog_skip_line(r);
					return -1;
				}
				if (c == '\0') {
					*err = "NUL byte";
					catalog_skip_line(r);
					return -1;
				}
				catalog_buf_add(r, c);
				r->p++;
			}
		}
		catalog_field_end(r);
		/* after the field: a comma, the end of the record or of the text */
		if (r->p >= r->end)
			return 1;
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		if (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n')
			r->p++;
		if (*r->p == '\n') {
			r->p++;
			r->line++;
			return 1;
		}
		*err = "stray character after a closing quote";
		catalog_skip_line(r);
		return -1;
	}
}

/* Copy of s fit for a one-line message: at most 40 bytes, control bytes as \xNN. */
static char *catalog_show(const char *s)
{
	char *out = xmalloc(4 * 40 + 4), *o = out;
	size_t i;

	for (i = 0; s[i] != '\0' && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '\\') {
			sprintf(o, "\\x%02x", c);
			o += 4;
		} else {
			*o++ = (char)c;
		}
	}
	if (s[i] != '\0') {
		memcpy(o, "...", 3);
		o += 3;
	}
	*o = '\0';
	return out;
}

static void catalog_warn_add(struct catalog_warnings *ws, const char *name, int line,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void catalog_warn_add(struct catalog_warnings *ws, const char *name, int line,
                             const char *fmt, ...)
{
	va_list ap;
	char *reason;

	if (ws->n == ws->cap) {
		ws->cap = ws->cap ? ws->cap * 2 : 16;
		ws->w = xreallocarray(ws->w, ws->cap, sizeof *ws->w);
	}
	va_start(ap, fmt);
	reason = xvprintf(fmt, ap);
	va_end(ap);
	ws->w[ws->n].line = line;
	ws->w[ws->n].msg = xprintf("%s:%d: %s", name, line, reason);
	ws->n++;
	free(reason);
}

/* Adds "what \"VALUE\"" with VALUE shown safely. */
static void catalog_warn_value(struct catalog_warnings *ws, const char *name, int line,
                               const char *what, const char *value, const char *tail)
{
	char *v = catalog_show(value);

	catalog_warn_add(ws, name, line, "%s \"%s\"%s", what, v, tail);
	free(v);
}

static int catalog_trimmed_number(const char *s, double *v)
{
	char buf[64], *endp;
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789.eE+-") != n || strpbrk(buf, "0123456789") == NULL)
		return -1;
	errno = 0;
	*v = strtod(buf, &endp);
	if (*endp != '\0' || errno == ERANGE || !isfinite(*v))
		return -1;
	return 0;
}

static int catalog_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0';
}

/* Checks a numeric column: optional (empty = *v -1) or required. Returns 0 or -1 (warned). */
static int catalog_number(struct catalog_warnings *ws, const char *name, int line, int col,
                          const char *s, int required, double *v)
{
	char what[64];

	if (catalog_blank(s)) {
		*v = -1;
		if (!required)
			return 0;
		catalog_warn_add(ws, name, line, "missing %s", catalog_cols[col]);
		return -1;
	}
	if (catalog_trimmed_number(s, v) != 0) {
		snprintf(what, sizeof what, "non-numeric %s", catalog_cols[col]);
		catalog_warn_value(ws, name, line, what, s, "");
		return -1;
	}
	if (*v < 0) {
		catalog_warn_add(ws, name, line, "negative %s %g", catalog_cols[col], *v);
		return -1;
	}
	return 0;
}

/* Validates one record into row; returns 0, or -1 after adding the warning. */
/* A whole number >= 0 of at most 6 digits (surrounding blanks allowed), or -1. */
static int catalog_count(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strspn(s, "0123456789");
	if (n == 0 || n > 6 || !catalog_blank(s + n))
		return -1;
	return atoi(s);
}

/* Validates one record into row; returns 0, or -1 after adding the warning. */
static int catalog_row_check(struct catalog_warnings *ws, const char *name, int line, char **f,
                             size_t nf, struct catalog_row *row)
{
	double v;
	int n;

	if (nf != CATALOG_NCOLS) {
		catalog_warn_add(ws, name, line, "wrong column count (%zu, expected %d)", nf,
		                 CATALOG_NCOLS);
		return -1;
	}
	if (f[COL_PROVIDER][0] == '\0') {
		catalog_warn_add(ws, name, line, "empty provider");
		return -1;
	}
	if (f[COL_TYPE][0] == '\0') {
		catalog_warn_add(ws, name, line, "empty instance_type");
		return -1;
	}
	n = catalog_count(f[COL_COUNT]);
	if (f[COL_GPU][0] != '\0') {
		if (catalog_blank(f[COL_COUNT])) {
			catalog_warn_value(ws, name, line, "missing gpu_count for gpu_name",
			                   f[COL_GPU], "");
			return -1;
		}
		if (n < 1) {
			catalog_warn_value(ws, name, line, "bad gpu_count", f[COL_COUNT],
			                   " (expected a whole number >= 1)");
			return -1;
		}
		row->gpu_count = n;
	} else {
		if (!catalog_blank(f[COL_COUNT]) && n != 0) {
			catalog_warn_value(ws, name, line, "gpu_count", f[COL_COUNT],
			                   " without gpu_name");
			return -1;
		}
		row->gpu_count = 0;
	}
	if (catalog_number(ws, name, line, COL_VCPUS, f[COL_VCPUS], 0, &row->vcpus) != 0 ||
	    catalog_number(ws, name, line, COL_MEM, f[COL_MEM], 0, &row->memory_gib) != 0 ||
	    catalog_number(ws, name, line, COL_OD, f[COL_OD], 1, &row->ondemand) != 0 ||
	    catalog_number(ws, name, line, COL_SPOT, f[COL_SPOT], 0, &v) != 0)
		return -1;
	row->spot = v;
	row->provider = xstrdup(f[COL_PROVIDER]);
	row->region = xstrdup(f[COL_REGION]);
	row->instance_type = xstrdup(f[COL_TYPE]);
	row->gpu_name = xstrdup(f[COL_GPU]);
	row->line = line;
	return 0;
}

static int catalog_header_ok(char **f, size_t nf)
{
	size_t i;

	if (nf != CATALOG_NCOLS)
		return 0;
	for (i = 0; i < CATALOG_NCOLS; i++) {
		if (strcmp(f[i], catalog_cols[i]) != 0)
			return 0;
	}
	return 1;
}

static void catalog_row_clear(struct catalog_row *row)
{
	free(row->provider);
	free(row->region);
	free(row->instance_type);
	free(row->gpu_name);
}

static int catalog_key_cmp(const struct catalog_row *a, const struct catalog_row *b)
{
	int c = strcasecmp(a->provider, b->provider);

	if (c == 0)
		c = strcasecmp(a->region, b->region);
	if (c == 0)
		c = strcmp(a->instance_type, b->instance_type);
	return c;
}

static int catalog_dup_cmp(const void *pa, const void *pb)
{
	const struct catalog_row *a = *(const struct catalog_row *const *)pa;
	const struct catalog_row *b = *(const struct catalog_row *const *)pb;
	int c = catalog_key_cmp(a, b);

	if (c == 0)
		c = (a->line > b->line) - (a->line < b->line);
	return c;
}

/* Drops rows whose provider/region/instance type repeats an earlier line, with a warning. */
static void catalog_drop_duplicates(struct catalog *c, struct catalog_warnings *ws)
{
	struct catalog_row **idx, *first;
	char *key, *shown;
	size_t i, j;

	if (c->nrows < 2)
		return;
	idx = xreallocarray(NULL, c->nrows, sizeof *idx);
	for (i = 0; i < c->nrows; i++)
		idx[i] = &c->rows[i];
	qsort(idx, c->nrows, sizeof *idx, catalog_dup_cmp);
	first = idx[0];
	for (i = 1; i < c->nrows; i++) {
		if (catalog_key_cmp(idx[i], first) != 0) {
			first = idx[i];
			continue;
		}
		key = xprintf("%s/%s/%s", idx[i]->provider, idx[i]->region, idx[i]->instance_type);
		shown = catalog_show(key);
		catalog_warn_add(ws, c->path, idx[i]->line, "duplicate of line %d (%s)",
		                 first->line, shown);
		free(shown);
		free(key);
		idx[i]->line = -1; /* dropped below */
	}
	free(idx);
	for (i = j = 0; i < c->nrows; i++) {
		if (c->rows[i].line < 0)
			catalog_row_clear(&c->rows[i]);
		else
			c->rows[j++] = c->rows[i];
	}
	c->nrows = j;
}

static int catalog_warning_cmp(const void *pa, const void *pb)
{
	const struct catalog_warning *a = pa, *b = pb;

	if (a->line != b->line)
		return (a->line > b->line) - (a->line < b->line);
	return (a > b) - (a < b);
}

int catalog_parse(const char *name, const char *text, size_t len, catalog_warn_fn warn, void *arg,
                  struct catalog **out, char **cause)
{
	struct catalog_reader r;
	struct catalog_warnings ws;
	struct catalog *c;
	struct catalog_row row;
	const char *err = NULL;
	size_t i, cap = 0;
	int rc, line, ret = -1;

	memset(&r, 0, sizeof r);
	memset(&ws, 0, sizeof ws);
	*out = NULL;
	r.p = text;
	r.end = text + len;
	r.line = 1;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		r.p += 3;
	rc = catalog_record(&r, &line, &err);
	if (rc == 0) {
		xcause(cause, "%s:1: empty file (expected the header %s)", name, CATALOG_HEADER);
		goto done;
	}
	if (rc < 0 || !catalog_header_ok(r.fields, r.nfields)) {
		xcause(cause, "%s:1: wrong header (expected %s)", name, CATALOG_HEADER);
		goto done;
	}
	c = xcalloc(1, sizeof *c);
	c->path = xstrdup(name);
	for (;;) {
		err = NULL;
		rc = catalog_record(&r, &line, &err);
		if (rc == 0)
			break;
		if (rc < 0) {
			catalog_warn_add(&ws, name, line, "%s", err);
			continue;
		}
		if (r.nfields == 1 && r.fields[0][0] == '\0')
			continue; /* a blank line */
		memset(&row, 0, sizeof row);
		if (catalog_row_check(&ws, name, line, r.fields, r.nfields, &row) != 0)
			continue;
		if (c->nrows == cap) {
			cap = cap ? cap * 2 : 256;
			c->rows = xreallocarray(c->rows, cap, sizeof *c->rows);
		}
		c->rows[c->nrows++] = row;
	}
	catalog_drop_duplicates(c, &ws);
	*out = c;
	ret = 0;
done:
	if (ws.n > 1)
		qsort(ws.w, ws.n, sizeof *ws.w, catalog_warning_cmp);
	for (i = 0; i < ws.n; i++) {
		if (warn != NULL)
			warn(arg, ws.w[i].msg);
		free(ws.w[i].msg);
	}
	free(ws.w);
	catalog_fields_clear(&r);
	free(r.fields);
	free(r.buf);
	return ret;
}

int catalog_load(const char *path, catalog_warn_fn warn, void *arg, struct catalog **out,
                 char **cause)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL)
		return xcause(cause, "%s: %s", path, strerror(errno));
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			text = xrealloc(text, cap);
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
		if (len > CATALOG_MAX_BYTES) {
			fclose(f);
			free(text);
			return xcause(cause, "%s: larger than %ld bytes", path, CATALOG_MAX_BYTES);
		}
	}
	if (ferror(f)) {
		rc = errno;
		fclose(f);
		free(text);
		return xcause(cause, "%s: %s", path, strerror(rc ? rc : EIO));
	}
	fclose(f);
	rc = catalog_parse(path, text, len, warn, arg, out, cause);
	free(text);
	return rc;
}

void catalog_free(struct catalog *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nrows; i++)
		catalog_row_clear(&c->rows[i]);
	free(c->rows);
	free(c->path);
	free(c);
}

char *catalog_default_path(const char *data_dir)
{
	const char *env = getenv("GANTRY_DATADIR");

	if (data_dir != NULL && *data_dir != '\0')
		return xprintf("%s/%s", data_dir, CATALOG_FILE);
	if (env != NULL && *env != '\0')
		return xprintf("%s/%s", env, CATALOG_FILE);
	return xprintf("%s/%s", GANTRY_PKGDATADIR, CATALOG_FILE);
}
