/* k8s_prom.c: the Prometheus text exposition format (0.0.4) of a DCGM exporter, and its
 * GPU samples as Gantry's telemetry (see k8s_api.h). A line is a comment ('#', HELP and
 * TYPE included), blank, or NAME[{LABEL="VALUE",...}] VALUE [TIMESTAMP]; label values
 * escape '\\', '"' and newline; values are Go floats (NaN, +Inf, -Inf). A malformed line is
 * skipped and counted; a text with no sample but malformed lines (HTML, JSON, binary) is
 * not Prometheus text at all. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "providers/k8s_api.h"
#include "providers/k8s_api_internal.h"

#define PROM_LINE_MAX    65536
#define PROM_SAMPLES_MAX 1000000
#define PROM_LABELS_MAX  64
#define PROM_GPUS_MAX    64

static int prom_name_start(int c)
{
	return isalpha(c) || c == '_' || c == ':';
}

static int prom_name_char(int c)
{
	return isalnum(c) || c == '_' || c == ':';
}

static int prom_value(const char *s, size_t n, double *out)
{
	char buf[64], *end;

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strcmp(buf, "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "Inf") == 0) {
		*out = INFINITY;
		return 0;
	}
	if (strcmp(buf, "-Inf") == 0) {
		*out = -INFINITY;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!(isdigit((unsigned char)buf[i]) || buf[i] == '.' || buf[i] == 'e' ||
		      buf[i] == 'E' || buf[i] == '+' || buf[i] == '-'))
			return -1;
	errno = 0;
	*out = strtod(buf, &end);
	return *end == '\0' && end != buf ? 0 : -1;
}

/* One sample line [p, e): 0 and *s filled, or -1. */
static int prom_line(const char *p, const char *e, struct prom_sample *s)
{
	const char *q = p;
	double v;

	memset(s, 0, sizeof *s);
	kvlist_init(&s->labels);
	if (q >= e || !prom_name_start((unsigned char)*q))
		return -1;
	while (q < e && prom_name_char((unsigned char)*q))
		q++;
	s->name = xstrndup(p, (size_t)(q - p));
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	if (q < e && *q == '{') {
		size_t nl = 0;

		q++;
		for (;;) {
			const char *ln;
			char *name, *val;
			size_t vn = 0;

			while (q < e && (*q == ' ' || *q == '\t'))
				q++;
			if (q < e && *q == '}') {
				q++;
				break;
			}
			if (q >= e || !prom_name_start((unsigned char)*q) || *q == ':')
				goto bad;
			ln = q;
			while (q < e && (isalnum((unsigned char)*q) || *q == '_'))
				q++;
			name = xstrndup(ln, (size_t)(q - ln));
			while (q < e && (*q == ' ' || *q == '\t'))
				q++;
			if (q + 1 >= e || q[0] != '=' || q[1] != '"') {
				free(name);
				goto bad;
			}
			q += 2;
			val = xmalloc((size_t)(e - q) + 1);
			while (q < e && *q != '"') {
				if (*q == '\\') {
					if (q + 1 >= e) {
						free(name);
						free(val);
						goto bad;
					}
					q++;
					val[vn++] = *q == 'n' ? '\n' : *q;
					q++;
				} else {
					val[vn++] = *q++;
				}
			}
			val[vn] = '\0';
			if (q >= e) {
				free(name);
				free(val);
				goto bad;
			}
			q++; /* closing quote */
			if (++nl <= PROM_LABELS_MAX)
				kvlist_set(&s->labels, name, val);
			free(name);
			free(val);
			while (q < e && (*q == ' ' || *q == '\t'))
				q++;
			if (q < e && *q == ',') {
				q++;
				continue;
			}
			if (q < e && *q == '}') {
				q++;
				break;
			}
			goto bad;
		}
	}
	if (q >= e || (*q != ' ' && *q != '\t'))
		goto bad;
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	p = q;
	while (q < e && *q != ' ' && *q != '\t')
		q++;
	if (prom_value(p, (size_t)(q - p), &v) != 0)
		goto bad;
	s->value = v;
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	if (q < e) { /* a timestamp (ms): an integer */
		const char *t = q;

		if (*q == '-')
			q++;
		while (q < e && isdigit((unsigned char)*q))
			q++;
		if (q == t || (q == t + 1 && *t == '-'))
			goto bad;
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		if (q < e)
			goto bad;
	}
	return 0;
bad:
	free(s->name);
	s->name = NULL;
	kvlist_free(&s->labels);
	return -1;
}

int prom_parse(const char *text, size_t len, struct prom_sample **out, size_t *n, size_t *skipped,
               char **cause)
{
	const char *p = text, *end = text + len;
	struct prom_sample *v = NULL;
	size_t nv = 0, cap = 0, bad = 0;

	*out = NULL;
	*n = 0;
	if (skipped != NULL)
		*skipped = 0;
	if (text == NULL)
		return xcause(cause, "no metrics text");
	if (memchr(text, '\0', len) != NULL)
		return xcause(cause, "not Prometheus text: a NUL byte");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl != NULL ? nl : end;
		const char *a = p;
		struct prom_sample s;

		p = nl != NULL ? nl + 1 : end;
		if (e > a && e[-1] == '\r')
			e--;
		while (a < e && (*a == ' ' || *a == '\t'))
			a++;
		if (a == e || *a == '#')
			continue;
		if (e - a > PROM_LINE_MAX || nv >= PROM_SAMPLES_MAX || prom_line(a, e, &s) != 0) {
			bad++;
			continue;
		}
		if (nv == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof *v);
		}
		v[nv++] = s;
	}
	if (skipped != NULL)
		*skipped = bad;
	if (nv == 0 && bad > 0) {
		free(v);
		return xcause(cause, "not Prometheus text (%zu malformed line%s, no sample)", bad,
		              bad == 1 ? "" : "s");
	}
	*out = v;
	*n = nv;
	return 0;
}

void prom_samples_free(struct prom_sample *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		kvlist_free(&v[i].labels);
	}
	free(v);
}

/* Whether sample s belongs to ns/pod: exported_* labels when present (scraped through
 * Prometheus, where namespace/pod are the exporter's own), else namespace/pod. */
static int dcgm_match(const struct prom_sample *s, const char *ns, const char *pod)
{
	const char *sp = kvlist_get(&s->labels, "exported_pod");
	const char *sn = kvlist_get(&s->labels, "exported_namespace");

	if (sp == NULL) {
		sp = kvlist_get(&s->labels, "pod");
		sn = kvlist_get(&s->labels, "namespace");
	}
	return sp != NULL && pod != NULL && strcmp(sp, pod) == 0 &&
	       (ns == NULL || (sn != NULL && strcmp(sn, ns) == 0));
}

static void dcgm_set(struct tele_val *t, double v)
{
	if (isfinite(v) && v >= 0 && v < 1e12) {
		t->v = v;
		t->ok = 1;
	}
}

size_t k8s_api_dcgm_gpus(const struct prom_sample *v, size_t n, const char *ns, const char *pod,
                         struct tele_gpu **out)
{
	struct tele_gpu *g = NULL;
	double *fb_free = NULL;
	int *have_free = NULL;
	size_t ng = 0;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct prom_sample *s = &v[i];
		const char *gl, *uuid, *model;
		char *end;
		long idx;
		size_t k;

		if (s->name == NULL || strncmp(s->name, "DCGM_FI_", 8) != 0 ||
		    !dcgm_match(s, ns, pod))
			continue;
		gl = kvlist_get(&s->labels, "gpu");
		if (gl == NULL)
			continue;
		idx = strtol(gl, &end, 10);
		if (end == gl || *end != '\0' || idx < 0 || idx > 4096)
			continue;
		for (k = 0; k < ng; k++)
			if (g[k].index == (int)idx)
				break;
		if (k == ng) {
			if (ng >= PROM_GPUS_MAX)
				continue;
			g = xreallocarray(g, ng + 1, sizeof *g);
			fb_free = xreallocarray(fb_free, ng + 1, sizeof *fb_free);
			have_free = xreallocarray(have_free, ng + 1, sizeof *have_free);
			memset(&g[ng], 0, sizeof g[ng]);
			fb_free[ng] = 0;
			have_free[ng] = 0;
			g[ng].index = (int)idx;
			ng++;
		}
		uuid = kvlist_get(&s->labels, "UUID");
		model = kvlist_get(&s->labels, "modelName");
		if (uuid != NULL && g[k].uuid[0] == '\0') {
			char *t = k8s_text(uuid, sizeof g[k].uuid - 4);
			snprintf(g[k].uuid, sizeof g[k].uuid, "%s", t);
			free(t);
		}
		if (model != NULL && g[k].name[0] == '\0') {
			char *t = k8s_text(model, sizeof g[k].name - 4);
			snprintf(g[k].name, sizeof g[k].name, "%s", t);
			free(t);
		}
		if (strcmp(s->name, "DCGM_FI_DEV_GPU_UTIL") == 0)
			dcgm_set(&g[k].util_pct, s->value);
		else if (strcmp(s->name, "DCGM_FI_DEV_FB_USED") == 0)
			dcgm_set(&g[k].mem_used_mib, s->value);
		else if (strcmp(s->name, "DCGM_FI_DEV_FB_FREE") == 0 && isfinite(s->value) &&
		         s->value >= 0 && s->value < 1e12) {
			fb_free[k] = s->value;
			have_free[k] = 1;
		} else if (strcmp(s->name, "DCGM_FI_DEV_GPU_TEMP") == 0)
			dcgm_set(&g[k].temp_c, s->value);
		else if (strcmp(s->name, "DCGM_FI_DEV_POWER_USAGE") == 0)
			dcgm_set(&g[k].power_w, s->value);
		else if (strcmp(s->name, "DCGM_FI_DEV_POWER_MGMT_LIMIT") == 0)
			dcgm_set(&g[k].power_limit_w, s->value);
	}
	for (size_t k = 0; k < ng; k++) {
		if (g[k].util_pct.ok && g[k].util_pct.v > 100)
			g[k].util_pct.v = 100;
		if (g[k].mem_used_mib.ok && have_free[k])
			dcgm_set(&g[k].mem_total_mib, g[k].mem_used_mib.v + fb_free[k]);
	}
	/* in GPU index order */
	for (size_t a = 1; a < ng; a++)
		for (size_t b = a; b > 0 && g[b - 1].index > g[b].index; b--) {
			struct tele_gpu t = g[b];
			g[b] = g[b - 1];
			g[b - 1] = t;
		}
	free(fb_free);
	free(have_free);
	*out = g;
	return ng;
}
