/* k8s_api.c: the Kubernetes API without I/O (see k8s_api.h), part one: shared helpers,
 * labels and selectors, object names, kinds and paths, quantities, error lines and classes,
 * the watch stream's line splitter, ExecCredential, small request bodies (scale patch,
 * DeleteOptions). The object bodies are in k8s_api_body.c, the parsers in k8s_api_parse.c,
 * the state mapping and the Cluster view in k8s_api_state.c, kubeconfig in
 * k8s_kubeconfig.c, the Prometheus text in k8s_prom.c.
 *
 * Everything the API server (or an exec plugin) answers is untrusted: every field is
 * type-checked, strings are bounded, remote text is sanitised before it goes into a reason
 * or an error line, and a secret never goes into an error. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "providers/k8s_api.h"
#include "providers/k8s_api_internal.h"

/* ---- helpers ---- */

char *k8s_text(const char *s, size_t max)
{
	char *t;
	size_t n;

	if (s == NULL)
		return NULL;
	t = sanitize_text(s, strnlen(s, K8S_STR_MAX * 4), 0);
	n = strlen(t);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
		memcpy(t + n, "...", 4);
	}
	return t;
}

char *k8s_jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return NULL;
	return xstrndup(json_string_value(v), strnlen(json_string_value(v), K8S_STR_MAX));
}

char *k8s_jtext(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return NULL;
	return k8s_text(json_string_value(v), K8S_TEXT_MAX);
}

int k8s_jint(const json_t *o, const char *key, long long min, long long max, long long *out)
{
	const json_t *v = json_object_get(o, key);
	long long x;

	if (json_is_integer(v))
		x = json_integer_value(v);
	else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
	         fabs(json_real_value(v)) < 9e15)
		x = (long long)json_real_value(v);
	else
		return 0;
	if (x < min || x > max)
		return 0;
	*out = x;
	return 1;
}

static int k8s_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int64_t k8s_time_ms(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, se, ms = 0, off = 0;
	const char *p;
	time_t t;

	if (s == NULL || strnlen(s, 40) < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
		return 0;
	if (k8s_digits(s, 4, &y) || k8s_digits(s + 5, 2, &mo) || k8s_digits(s + 8, 2, &d) ||
	    k8s_digits(s + 11, 2, &h) || k8s_digits(s + 14, 2, &mi) || k8s_digits(s + 17, 2, &se))
		return 0;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return 0;
	p = s + 19;
	if (*p == '.') {
		int nd = 0;

		p++;
		while (isdigit((unsigned char)*p)) {
			if (nd < 3)
				ms = ms * 10 + (*p - '0');
			nd++;
			p++;
		}
		if (nd == 0)
			return 0;
		for (; nd < 3; nd++)
			ms *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;

		if (strnlen(p, 7) != 6 || p[3] != ':' || k8s_digits(p + 1, 2, &oh) ||
		    k8s_digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return 0;
		off = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return 0;
	}
	if (*p != '\0')
		return 0;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	return ((int64_t)t - off) * 1000 + ms;
}

int64_t k8s_jtime(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? k8s_time_ms(json_string_value(v)) : 0;
}

static int k8s_b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *k8s_base64_decode(const char *s, size_t len, size_t *outlen)
{
	char *out = xmalloc(len / 4 * 3 + 4);
	size_t n = 0, pad = 0;
	unsigned acc = 0;
	int bits = 0, cnt = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int v;

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = k8s_b64val(c)) < 0) {
			k8s_wipe(out, n);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		cnt++;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	if (cnt % 4 == 1 || pad > 2 || (pad > 0 && (cnt + pad) % 4 != 0)) {
		k8s_wipe(out, n);
		return NULL;
	}
	out[n] = '\0';
	if (outlen != NULL)
		*outlen = n;
	return out;
}

char *k8s_base64_encode(const unsigned char *data, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)data[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

void k8s_wipe(char *s, size_t len)
{
	if (s == NULL)
		return;
	volatile char *p = s;
	for (size_t i = 0; i < len; i++)
		p[i] = 0;
	free(s);
}

int k8s_dns_label(const char *s)
{
	size_t n = s != NULL ? strnlen(s, 64) : 0;

	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return 0;
	return 1;
}

int k8s_dns_subdomain(const char *s)
{
	size_t n = s != NULL ? strnlen(s, 254) : 0, start = 0;

	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			size_t l = i - start;

			if (l == 0 || l > 63 || !isalnum((unsigned char)s[start]) ||
			    !isalnum((unsigned char)s[i - 1]))
				return 0;
			start = i + 1;
		} else if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
		             s[i] == '-')) {
			return 0;
		}
	}
	return 1;
}

int k8s_token_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (n >= 1024 || !(isalnum((unsigned char)s[n]) || strchr("._~=-", s[n]) != NULL))
			return 0;
	return n > 0;
}

/* ---- labels, selectors, names ---- */

char *k8s_api_label_value(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0, a = 0, b;
	char *t = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		t[i] = (char)(isalnum(c) || c == '.' || c == '_' || c == '-' ? c : '_');
	}
	t[n] = '\0';
	while (a < n && !isalnum((unsigned char)t[a]))
		a++;
	b = n;
	if (b - a > 63)
		b = a + 63;
	while (b > a && !isalnum((unsigned char)t[b - 1]))
		b--;
	memmove(t, t + a, b - a);
	t[b - a] = '\0';
	return t;
}

/* Appends s percent-encoded (RFC 3986 unreserved kept) to buf at *n. */
static void k8s_urlenc(char **buf, size_t *n, size_t *cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (*n + 4 > *cap) {
			*cap = *cap * 2 + 64;
			*buf = xrealloc(*buf, *cap);
		}
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			(*buf)[(*n)++] = (char)c;
		} else {
			(*buf)[(*n)++] = '%';
			(*buf)[(*n)++] = hex[c >> 4];
			(*buf)[(*n)++] = hex[c & 15];
		}
	}
	(*buf)[*n] = '\0';
}

char *k8s_api_selector(const char *installation_id, const char *job_id)
{
	size_t n = 0, cap = 128;
	char *buf = xmalloc(cap), *v;

	buf[0] = '\0';
	k8s_urlenc(&buf, &n, &cap, K8S_LABEL_MANAGED "=gantry");
	if (installation_id != NULL) {
		v = k8s_api_label_value(installation_id);
		k8s_urlenc(&buf, &n, &cap, "," K8S_LABEL_INSTALL "=");
		k8s_urlenc(&buf, &n, &cap, v);
		free(v);
	}
	if (job_id != NULL) {
		v = k8s_api_label_value(job_id);
		k8s_urlenc(&buf, &n, &cap, "," K8S_LABEL_JOB "=");
		k8s_urlenc(&buf, &n, &cap, v);
		free(v);
	}
	return buf;
}

char *k8s_api_object_name(const char *job_id, int attempt)
{
	char *raw = xprintf("gantry-%s-%d", job_id != NULL ? job_id : "", attempt);
	size_t n = strlen(raw), w = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)raw[i];

		c = (unsigned char)tolower(c);
		if (!(isalnum(c) || c == '-'))
			c = '-';
		if (c == '-' && w > 0 && raw[w - 1] == '-')
			continue; /* no runs of '-' */
		raw[w++] = (char)c;
	}
	raw[w] = '\0';
	if (w > 63) {
		/* keep the attempt: cut the id in the middle */
		char *tail = strrchr(raw, '-');
		size_t tl = strlen(tail);

		memmove(raw + 63 - tl, tail, tl + 1);
		w = 63;
	}
	while (w > 0 && raw[w - 1] == '-')
		raw[--w] = '\0';
	return raw;
}

/* ---- kinds and paths ---- */

static const struct {
	const char *resource, *name, *api_version, *prefix;
} k8s_kinds[K8S_NKINDS] = {
    [K8S_POD] = {"pods", "Pod", "v1", "/api/v1"},
    [K8S_SERVICE] = {"services", "Service", "v1", "/api/v1"},
    [K8S_JOB] = {"jobs", "Job", "batch/v1", "/apis/batch/v1"},
    [K8S_DEPLOYMENT] = {"deployments", "Deployment", "apps/v1", "/apis/apps/v1"},
    [K8S_HPA] = {"horizontalpodautoscalers", "HorizontalPodAutoscaler", "autoscaling/v2",
                 "/apis/autoscaling/v2"},
    [K8S_NODE] = {"nodes", "Node", "v1", "/api/v1"},
    [K8S_SECRET] = {"secrets", "Secret", "v1", "/api/v1"},
};

static int k8s_kind_ok(enum k8s_kind k)
{
	return (int)k >= 0 && k < K8S_NKINDS;
}

const char *k8s_kind_resource(enum k8s_kind k)
{
	return k8s_kind_ok(k) ? k8s_kinds[k].resource : "";
}

const char *k8s_kind_name(enum k8s_kind k)
{
	return k8s_kind_ok(k) ? k8s_kinds[k].name : "";
}

const char *k8s_kind_api_version(enum k8s_kind k)
{
	return k8s_kind_ok(k) ? k8s_kinds[k].api_version : "";
}

char *k8s_api_path(enum k8s_kind k, const char *ns, const char *name, const char *sub)
{
	char *base, *p;

	if (!k8s_kind_ok(k))
		return NULL;
	if (name != NULL && !k8s_dns_subdomain(name))
		return NULL;
	if (sub != NULL) {
		if (name == NULL || *sub == '\0')
			return NULL;
		for (const char *s = sub; *s != '\0'; s++)
			if (!islower((unsigned char)*s))
				return NULL;
	}
	if (k == K8S_NODE) {
		base = xprintf("%s/nodes", k8s_kinds[k].prefix);
	} else {
		if (!k8s_dns_label(ns))
			return NULL;
		base =
		    xprintf("%s/namespaces/%s/%s", k8s_kinds[k].prefix, ns, k8s_kinds[k].resource);
	}
	if (name == NULL)
		return base;
	p = sub != NULL ? xprintf("%s/%s/%s", base, name, sub) : xprintf("%s/%s", base, name);
	free(base);
	return p;
}

/* ---- quantities ---- */

int k8s_quantity_parse(const char *s, double *out)
{
	static const struct {
		const char *suf;
		double mul;
	} sufs[] = {
	    {"Ki", 1024.0},
	    {"Mi", 1048576.0},
	    {"Gi", 1073741824.0},
	    {"Ti", 1099511627776.0},
	    {"Pi", 1125899906842624.0},
	    {"Ei", 1152921504606846976.0},
	    {"n", 1e-9},
	    {"u", 1e-6},
	    {"m", 1e-3},
	    {"k", 1e3},
	    {"M", 1e6},
	    {"G", 1e9},
	    {"T", 1e12},
	    {"P", 1e15},
	    {"E", 1e18},
	    {"", 1.0},
	};
	const char *p = s;
	double mant = 0, frac = 1, mul = 1;
	int neg = 0, nd = 0;

	if (s == NULL || strnlen(s, 65) > 64)
		return -1;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (; isdigit((unsigned char)*p); p++, nd++)
		mant = mant * 10 + (*p - '0');
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, nd++) {
			frac /= 10;
			mant += (*p - '0') * frac;
		}
	}
	if (nd == 0)
		return -1;
	if ((*p == 'e' || *p == 'E') &&
	    (isdigit((unsigned char)p[1]) ||
	     ((p[1] == '+' || p[1] == '-') && isdigit((unsigned char)p[2])))) {
		char *end;
		long e;

		errno = 0;
		e = strtol(p + 1, &end, 10);
		if (errno != 0 || *end != '\0' || e > 308 || e < -308)
			return -1;
		mul = pow(10.0, (double)e);
		p = end;
	} else {
		size_t i;

		for (i = 0; i < sizeof sufs / sizeof sufs[0]; i++)
			if (strcmp(p, sufs[i].suf) == 0)
				break;
		if (i == sizeof sufs / sizeof sufs[0])
			return -1;
		mul = sufs[i].mul;
	}
	mant *= mul;
	if (!isfinite(mant))
		return -1;
	*out = neg ? -mant : mant;
	return 0;
}

char *k8s_quantity_format(double v)
{
	long long m;

	if (!isfinite(v) || v < 0)
		v = 0;
	if (v > 9e15)
		v = 9e15;
	if (v == floor(v))
		return xprintf("%lld", (long long)v);
	m = llround(v * 1000.0);
	if (m % 1000 == 0)
		return xprintf("%lld", m / 1000);
	return xprintf("%lldm", m);
}

/* ---- errors ---- */

const char *k8s_err_name(enum k8s_err e)
{
	static const char *const names[] = {"other", "auth",    "not-found", "exists",   "conflict",
	                                    "gone",  "invalid", "quota",     "transient"};

	return (int)e >= 0 && (size_t)e < sizeof names / sizeof names[0] ? names[e] : "other";
}

static const char *k8s_http_phrase(long status)
{
	switch (status) {
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Entity";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return NULL;
	}
}

char *k8s_api_error(long status, const char *body, size_t len, const char *transport_error,
                    enum k8s_err *cls)
{
	enum k8s_err c = K8S_ERR_OTHER;
	json_t *root = NULL;
	char *msg = NULL, *reason = NULL, *out;
	const char *phrase;

	if (status <= 0) {
		char *t = k8s_text(transport_error != NULL && *transport_error != '\0'
		                       ? transport_error
		                       : "the connection failed",
		                   K8S_TEXT_MAX);

		if (cls != NULL)
			*cls = K8S_ERR_TRANSIENT;
		out = xprintf("no answer: %s", t);
		free(t);
		return out;
	}
	if (body != NULL && len > 0 && len < 1024 * 1024)
		root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(root)) {
		const json_t *k = json_object_get(root, "kind");

		if (json_is_string(k) && strcmp(json_string_value(k), "Status") == 0) {
			msg = k8s_jtext(root, "message");
			reason = k8s_jstr(root, "reason");
		}
	}
	switch (status) {
	case 401:
		c = K8S_ERR_AUTH;
		break;
	case 403:
		c = msg != NULL && strstr(msg, "exceeded quota") != NULL ? K8S_ERR_QUOTA
		                                                         : K8S_ERR_AUTH;
		break;
	case 404:
		c = K8S_ERR_NOTFOUND;
		break;
	case 409:
		c = reason != NULL && strcmp(reason, "AlreadyExists") == 0 ? K8S_ERR_EXISTS
		                                                           : K8S_ERR_CONFLICT;
		break;
	case 410:
		c = K8S_ERR_GONE;
		break;
	case 400:
	case 422:
		c = K8S_ERR_INVALID;
		break;
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		c = K8S_ERR_TRANSIENT;
		break;
	default:
		c = K8S_ERR_OTHER;
		break;
	}
	if (reason != NULL && strcmp(reason, "Expired") == 0)
		c = K8S_ERR_GONE;
	if (cls != NULL)
		*cls = c;
	phrase = k8s_http_phrase(status);
	if (msg != NULL && *msg != '\0')
		out = phrase != NULL ? xprintf("%s (%ld %s)", msg, status, phrase)
		                     : xprintf("%s (HTTP %ld)", msg, status);
	else if (phrase != NULL)
		out = xprintf("HTTP %ld %s from the API server", status, phrase);
	else
		out = xprintf("HTTP %ld from the API server", status);
	free(msg);
	free(reason);
	json_decref(root);
	return out;
}

/* ---- the watch stream's lines ---- */

#define K8S_LINE_DEFAULT_MAX (64u * 1024 * 1024)

static int k8s_lines_emit(const char *line, size_t len,
                          int (*line_cb)(void *arg, const char *line, size_t len), void *arg)
{
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0; /* keep-alive blank line */
	return line_cb(arg, line, len) != 0 ? -1 : 0;
}

int k8s_lines_feed(struct k8s_lines *lb, const char *data, size_t len,
                   int (*line_cb)(void *arg, const char *line, size_t len), void *arg)
{
	size_t max = lb->max_line > 0 ? lb->max_line : K8S_LINE_DEFAULT_MAX;
	const char *p = data, *end = data + len, *nl;

	if (lb->len > 0) {
		/* finish the partial line first */
		nl = memchr(p, '\n', len);
		size_t take = nl != NULL ? (size_t)(nl - p) : len;

		if (lb->len + take > max)
			return -1;
		if (lb->len + take + 1 > lb->cap) {
			lb->cap = (lb->len + take + 1) * 2;
			lb->buf = xrealloc(lb->buf, lb->cap);
		}
		memcpy(lb->buf + lb->len, p, take);
		lb->len += take;
		if (nl == NULL)
			return 0;
		size_t total = lb->len;

		lb->buf[total] = '\0';
		lb->len = 0;
		if (k8s_lines_emit(lb->buf, total, line_cb, arg) != 0)
			return -1;
		p = nl + 1;
	}
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if ((size_t)(nl - p) > max)
			return -1;
		if (k8s_lines_emit(p, (size_t)(nl - p), line_cb, arg) != 0)
			return -1;
		p = nl + 1;
	}
	if (p < end) {
		size_t rest = (size_t)(end - p);

		if (rest > max)
			return -1;
		if (rest + 1 > lb->cap) {
			lb->cap = rest * 2 + 64;
			lb->buf = xrealloc(lb->buf, lb->cap);
		}
		memcpy(lb->buf, p, rest);
		lb->len = rest;
	}
	return 0;
}

void k8s_lines_clear(struct k8s_lines *lb)
{
	free(lb->buf);
	lb->buf = NULL;
	lb->len = lb->cap = 0;
}

/* ---- ExecCredential ---- */

int k8s_exec_cred_parse(const char *json, size_t len, const char *api_version,
                        struct k8s_exec_cred *out, char **cause)
{
	json_t *root, *st;
	const json_t *k, *av;
	char *cert = NULL, *key = NULL;

	memset(out, 0, sizeof *out);
	if (len > 1024 * 1024)
		return xcause(cause, "the exec plugin's answer is too long (%zu bytes)", len);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return xcause(cause,
		              "the exec plugin's answer is not an ExecCredential (JSON object)");
	}
	k = json_object_get(root, "kind");
	av = json_object_get(root, "apiVersion");
	if (!json_is_string(k) || strcmp(json_string_value(k), "ExecCredential") != 0) {
		json_decref(root);
		return xcause(cause, "the exec plugin's answer is not an ExecCredential (kind)");
	}
	if (!json_is_string(av) ||
	    strncmp(json_string_value(av), "client.authentication.k8s.io/", 29) != 0 ||
	    (api_version != NULL && strcmp(json_string_value(av), api_version) != 0)) {
		char *t =
		    json_is_string(av) ? k8s_text(json_string_value(av), 80) : xstrdup("none");

		xcause(cause, "the exec plugin answered apiVersion '%s', expected %s", t,
		       api_version != NULL ? api_version : "client.authentication.k8s.io/v1");
		free(t);
		json_decref(root);
		return -1;
	}
	st = json_object_get(root, "status");
	if (!json_is_object(st)) {
		json_decref(root);
		return xcause(cause, "the exec plugin's ExecCredential has no status");
	}
	out->token = k8s_jstr(st, "token");
	cert = k8s_jstr(st, "clientCertificateData");
	key = k8s_jstr(st, "clientKeyData");
	if (out->token != NULL && out->token[0] == '\0') {
		free(out->token);
		out->token = NULL;
	}
	if ((cert != NULL) != (key != NULL)) {
		k8s_wipe(cert, cert != NULL ? strlen(cert) : 0);
		k8s_wipe(key, key != NULL ? strlen(key) : 0);
		k8s_exec_cred_clear(out);
		json_decref(root);
		return xcause(cause, "the exec plugin's ExecCredential has clientCertificateData "
		                     "without clientKeyData or the reverse");
	}
	out->cert_pem = cert;
	out->key_pem = key;
	if (out->token == NULL && cert == NULL) {
		json_decref(root);
		return xcause(cause, "the exec plugin's ExecCredential has neither a token nor a "
		                     "client certificate");
	}
	if (out->token != NULL)
		for (const char *s = out->token; *s != '\0'; s++)
			if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) {
				k8s_exec_cred_clear(out);
				json_decref(root);
				return xcause(cause,
				              "the exec plugin's token has characters a header "
				              "cannot carry");
			}
	if (json_object_get(st, "expirationTimestamp") != NULL &&
	    !json_is_null(json_object_get(st, "expirationTimestamp"))) {
		out->expires_ms = k8s_jtime(st, "expirationTimestamp");
		if (out->expires_ms == 0) {
			k8s_exec_cred_clear(out);
			json_decref(root);
			return xcause(cause,
			              "the exec plugin's expirationTimestamp is not an RFC 3339 "
			              "time");
		}
	}
	json_decref(root);
	return 0;
}

void k8s_exec_cred_clear(struct k8s_exec_cred *c)
{
	k8s_wipe(c->token, c->token != NULL ? strlen(c->token) : 0);
	k8s_wipe(c->cert_pem, c->cert_pem != NULL ? strlen(c->cert_pem) : 0);
	k8s_wipe(c->key_pem, c->key_pem != NULL ? strlen(c->key_pem) : 0);
	memset(c, 0, sizeof *c);
}

char *k8s_exec_info(const char *api_version, int interactive)
{
	json_t *o = json_pack("{s:s, s:s, s:{s:b}}", "apiVersion",
	                      api_version != NULL ? api_version : "client.authentication.k8s.io/v1",
	                      "kind", "ExecCredential", "spec", "interactive", interactive != 0);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}

/* ---- small bodies ---- */

const char *k8s_api_hpa_note(int replicas_min)
{
	return replicas_min <= 0
	           ? "replicas.min 0 runs as 1: a HorizontalPodAutoscaler cannot scale to zero"
	           : NULL;
}

char *k8s_api_scale_patch(int replicas)
{
	return xprintf("{\"spec\":{\"replicas\":%d}}", replicas < 0 ? 0 : replicas);
}

char *k8s_api_delete_body(int grace_s)
{
	return xprintf("{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\","
	               "\"propagationPolicy\":\"Background\",\"gracePeriodSeconds\":%d}",
	               grace_s < 0 ? 0 : grace_s);
}
