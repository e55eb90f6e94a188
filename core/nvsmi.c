/* nvsmi.c: parser for nvidia-smi's CSV query output (see nvsmi.h). */
#include "core/nvsmi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

#define NVSMI_GPU_NFIELDS 9
#define NVSMI_APP_NFIELDS 4
#define NVSMI_MAX_FIELDS  64
#define NVSMI_SNIPPET     100 /* bytes of an offending line quoted in an error */

/* A field of one line: [start, end) in the line, blanks trimmed. */
struct nvsmi_span {
	const char *s;
	size_t len;
};

static int nvsmi_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static struct nvsmi_span nvsmi_trim(const char *s, size_t len)
{
	while (len > 0 && nvsmi_blank(*s)) {
		s++;
		len--;
	}
	while (len > 0 && nvsmi_blank(s[len - 1]))
		len--;
	return (struct nvsmi_span){s, len};
}

/* The spellings nvidia-smi uses for a value it cannot give: "N/A", and any bracketed
 * notice ("[N/A]", "[Not Supported]", "[Not Found]", "[Unknown Error]", ...). */
static int nvsmi_not_available(struct nvsmi_span f)
{
	if (f.len == 0)
		return 1;
	if (f.len == 3 && strncmp(f.s, "N/A", 3) == 0)
		return 1;
	return f.len >= 2 && f.s[0] == '[' && f.s[f.len - 1] == ']';
}

static int nvsmi_span_value(struct nvsmi_span f, struct tele_val *out)
{
	char buf[64], *end;
	double v;

	out->v = 0;
	out->ok = 0;
	if (nvsmi_not_available(f))
		return 0;
	if (f.len >= sizeof buf)
		return -1;
	for (size_t i = 0; i < f.len; i++)
		if (strchr("0123456789.+-eE", f.s[i]) == NULL)
			return -1;
	memcpy(buf, f.s, f.len);
	buf[f.len] = '\0';
	v = strtod(buf, &end);
	if (end == buf || *end != '\0' || !isfinite(v))
		return -1;
	out->v = v;
	out->ok = 1;
	return 0;
}

int nvsmi_value(const char *field, struct tele_val *out)
{
	return nvsmi_span_value(nvsmi_trim(field, strlen(field)), out);
}

/* Copies a text field into dst (size n); the not-available spellings give "". */
static void nvsmi_text(struct nvsmi_span f, char *dst, size_t n)
{
	size_t len = f.len < n - 1 ? f.len : n - 1;

	if (nvsmi_not_available(f))
		len = 0;
	memcpy(dst, f.s, len);
	dst[len] = '\0';
}

/* A printable excerpt of a line for an error message (heap). */
static char *nvsmi_snippet(const char *line, size_t len)
{
	size_t n = len < NVSMI_SNIPPET ? len : NVSMI_SNIPPET;
	char *s = xmalloc(n + 4);

	for (size_t i = 0; i < n; i++)
		s[i] = line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '?';
	strcpy(s + n, len > n ? "..." : "");
	return s;
}

/* Splits a line at commas into want fields; when there are more, the extra commas belong
 * to the free-text field at index text_idx (names may hold ", "). Returns the number of
 * fields found (want on success). */
static size_t nvsmi_split(const char *line, size_t len, size_t want, size_t text_idx,
                          struct nvsmi_span *f)
{
	const char *starts[NVSMI_MAX_FIELDS];
	size_t lens[NVSMI_MAX_FIELDS];
	size_t n = 0, extra;
	const char *p = line, *end = line + len;

	for (;;) {
		const char *c = memchr(p, ',', (size_t)(end - p));

		if (n == NVSMI_MAX_FIELDS)
			return n + 1;
		starts[n] = p;
		lens[n] = c != NULL ? (size_t)(c - p) : (size_t)(end - p);
		n++;
		if (c == NULL)
			break;
		p = c + 1;
	}
	if (n < want)
		return n;
	extra = n - want;
	for (size_t i = 0, j = 0; i < want; i++) {
		if (i == text_idx && extra > 0) {
			size_t last = j + extra;

			f[i] =
			    nvsmi_trim(starts[j], (size_t)(starts[last] + lens[last] - starts[j]));
			j = last + 1;
		} else {
			f[i] = nvsmi_trim(starts[j], lens[j]);
			j++;
		}
	}
	return want;
}

typedef int (*nvsmi_row_fn)(struct nvsmi_span *f, void *row, size_t *bad_field);

/* Runs fn over every non-blank line of text, filling rows of size `size` in *out. */
static int nvsmi_parse(const char *text, size_t want, size_t text_idx, const char *const *names,
                       size_t size, nvsmi_row_fn fn, void **out, size_t *n, char **cause)
{
	struct nvsmi_span f[NVSMI_MAX_FIELDS];
	size_t lines = 1, cap, count = 0, lineno = 0;
	char *rows;
	const char *p;

	*out = NULL;
	*n = 0;
	if (text == NULL)
		return 0;
	for (p = text; *p != '\0'; p++)
		if (*p == '\n')
			lines++;
	cap = lines;
	rows = xcalloc(cap, size);
	for (p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		struct nvsmi_span whole = nvsmi_trim(p, len);
		size_t got, bad = 0;

		lineno++;
		if (whole.len > 0) {
			got = nvsmi_split(whole.s, whole.len, want, text_idx, f);
			if (got != want) {
				char *snip = nvsmi_snippet(whole.s, whole.len);

				xcause(cause, "line %zu: expected %zu fields, got %s%zu: \"%s\"",
				       lineno, want, got > NVSMI_MAX_FIELDS ? "over " : "",
				       got > NVSMI_MAX_FIELDS ? (size_t)NVSMI_MAX_FIELDS : got,
				       snip);
				free(snip);
				free(rows);
				return -1;
			}
			if (fn(f, rows + count * size, &bad) != 0) {
				char *snip = nvsmi_snippet(f[bad].s, f[bad].len);

				xcause(cause, "line %zu: %s is not a number: \"%s\"", lineno,
				       names[bad], snip);
				free(snip);
				free(rows);
				return -1;
			}
			count++;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (count == 0) {
		free(rows);
		return 0;
	}
	*out = rows;
	*n = count;
	return 0;
}

/* An integer field (index, pid); not-available gives def. */
static int nvsmi_int(struct nvsmi_span f, long def, long *out)
{
	struct tele_val v;

	if (nvsmi_span_value(f, &v) != 0)
		return -1;
	if (!v.ok) {
		*out = def;
		return 0;
	}
	if (v.v < -1e15 || v.v > 1e15 || v.v != (double)(long long)v.v)
		return -1;
	*out = (long)v.v;
	return 0;
}

static int nvsmi_gpu_row(struct nvsmi_span *f, void *row, size_t *bad)
{
	struct tele_gpu *g = row;
	struct tele_val *vals[] = {&g->util_pct, &g->mem_used_mib, &g->mem_total_mib,
	                           &g->temp_c,   &g->power_w,      &g->power_limit_w};
	long index;

	if (nvsmi_int(f[0], -1, &index) != 0 || index > 1000000) {
		*bad = 0;
		return -1;
	}
	g->index = (int)index;
	nvsmi_text(f[1], g->name, sizeof g->name);
	nvsmi_text(f[2], g->uuid, sizeof g->uuid);
	for (size_t i = 0; i < 6; i++) {
		if (nvsmi_span_value(f[3 + i], vals[i]) != 0) {
			*bad = 3 + i;
			return -1;
		}
	}
	return 0;
}

static int nvsmi_app_row(struct nvsmi_span *f, void *row, size_t *bad)
{
	struct tele_proc *pr = row;

	if (nvsmi_int(f[0], 0, &pr->pid) != 0) {
		*bad = 0;
		return -1;
	}
	nvsmi_text(f[1], pr->name, sizeof pr->name);
	nvsmi_text(f[2], pr->gpu_uuid, sizeof pr->gpu_uuid);
	if (nvsmi_span_value(f[3], &pr->mem_mib) != 0) {
		*bad = 3;
		return -1;
	}
	return 0;
}

int nvsmi_parse_gpus(const char *text, struct tele_gpu **out, size_t *n, char **cause)
{
	static const char *const names[] = {"index",           "name",        "uuid",
	                                    "utilization.gpu", "memory.used", "memory.total",
	                                    "temperature.gpu", "power.draw",  "power.limit"};
	void *rows;
	int rc = nvsmi_parse(text, NVSMI_GPU_NFIELDS, 1, names, sizeof **out, nvsmi_gpu_row, &rows,
	                     n, cause);

	*out = rows;
	return rc;
}

int nvsmi_parse_apps(const char *text, struct tele_proc **out, size_t *n, char **cause)
{
	static const char *const names[] = {"pid", "process_name", "gpu_uuid", "used_gpu_memory"};
	void *rows;
	int rc = nvsmi_parse(text, NVSMI_APP_NFIELDS, 1, names, sizeof **out, nvsmi_app_row, &rows,
	                     n, cause);

	*out = rows;
	return rc;
}
