/* lambda_api.c: request bodies and answer parsers of the Lambda Cloud API v1 (see
 * lambda_api.h). Everything the API sends is untrusted: types are checked, strings are
 * sanitised and bounded, numbers range-checked; a malformed answer is a one-line error. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "providers/lambda_api.h"

#define LAMBDA_TEXT_MAX  300       /* remote text kept in one line */
#define LAMBDA_PRICE_MAX 100000000 /* cents per hour: $1,000,000/h, surely wrong beyond */
#define LAMBDA_COUNT_MAX 1000000   /* vCPUs, GiB, GPUs */
#define LAMBDA_TYPES_MAX 10000
#define LAMBDA_INST_MAX  100000

const char *lambda_err_name(enum lambda_err e)
{
	switch (e) {
	case LAMBDA_ERR_CAPACITY:
		return "capacity";
	case LAMBDA_ERR_QUOTA:
		return "quota";
	case LAMBDA_ERR_AUTH:
		return "auth";
	case LAMBDA_ERR_INVALID:
		return "invalid";
	case LAMBDA_ERR_TRANSIENT:
		return "transient";
	case LAMBDA_ERR_NOTFOUND:
		return "not-found";
	case LAMBDA_ERR_OTHER:
		break;
	}
	return "other";
}

const char *lambda_status_name(enum lambda_status s)
{
	switch (s) {
	case LAMBDA_ST_BOOTING:
		return "booting";
	case LAMBDA_ST_ACTIVE:
		return "active";
	case LAMBDA_ST_UNHEALTHY:
		return "unhealthy";
	case LAMBDA_ST_TERMINATING:
		return "terminating";
	case LAMBDA_ST_TERMINATED:
		return "terminated";
	case LAMBDA_ST_PREEMPTED:
		return "preempted";
	case LAMBDA_ST_UNKNOWN:
		break;
	}
	return "unknown";
}

/* Remote text for one line: sanitised, newlines folded, cut at LAMBDA_TEXT_MAX bytes (on a
 * UTF-8 boundary, with "..."). */
static char *lambda_text(const char *s)
{
	char *t = sanitize_text(s, (size_t)-1, 0);
	size_t n = strlen(t);

	if (n > LAMBDA_TEXT_MAX) {
		n = LAMBDA_TEXT_MAX;
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
		memcpy(t + n, "...", 4);
	}
	return t;
}

/* An error code is short and plain ("global/invalid-api-key"); anything else is shown as
 * "unknown". */
static int lambda_code_ok(const char *c)
{
	size_t n = strlen(c);

	if (n == 0 || n > 100)
		return 0;
	return strspn(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_-.") == n;
}

static enum lambda_err lambda_class_of(long status, const char *code)
{
	if (code != NULL) {
		if (strcmp(code, "instance-operations/launch/insufficient-capacity") == 0)
			return LAMBDA_ERR_CAPACITY;
		if (strcmp(code, "global/quota-exceeded") == 0 || strstr(code, "quota") != NULL)
			return LAMBDA_ERR_QUOTA;
		if (strcmp(code, "global/invalid-api-key") == 0 ||
		    strcmp(code, "global/account-inactive") == 0)
			return LAMBDA_ERR_AUTH;
		if (strcmp(code, "global/invalid-parameters") == 0 ||
		    strcmp(code, "global/invalid-address") == 0 ||
		    strncmp(code, "instance-operations/launch/file-system", 38) == 0)
			return LAMBDA_ERR_INVALID;
		if (strcmp(code, "global/object-does-not-exist") == 0)
			return LAMBDA_ERR_NOTFOUND;
		if (strncmp(code, "provider/", 9) == 0)
			return LAMBDA_ERR_TRANSIENT;
	}
	if (status == 0 || status == 429 || status >= 500)
		return LAMBDA_ERR_TRANSIENT;
	if (status == 401 || status == 403)
		return LAMBDA_ERR_AUTH;
	if (status == 404)
		return LAMBDA_ERR_NOTFOUND;
	if (status == 400 || status == 422)
		return LAMBDA_ERR_INVALID;
	return LAMBDA_ERR_OTHER;
}

char *lambda_api_error(long status, const char *body, size_t len, const char *transport_error,
                       enum lambda_err *cls)
{
	json_t *root = NULL, *err;
	const char *code = NULL, *msg = NULL, *sugg = NULL;
	char *line, *m = NULL, *s = NULL;
	enum lambda_err e;

	if (status == 0) {
		m = lambda_text(transport_error != NULL ? transport_error : "unknown error");
		line = xprintf("no answer from the API: %s", m);
		free(m);
		if (cls != NULL)
			*cls = LAMBDA_ERR_TRANSIENT;
		return line;
	}
	if (body != NULL && len > 0)
		root = json_loadb(body, len, 0, NULL);
	err = json_is_object(root) ? json_object_get(root, "error") : NULL;
	if (json_is_object(err)) {
		if (json_is_string(json_object_get(err, "code")) &&
		    lambda_code_ok(json_string_value(json_object_get(err, "code"))))
			code = json_string_value(json_object_get(err, "code"));
		if (json_is_string(json_object_get(err, "message")))
			msg = json_string_value(json_object_get(err, "message"));
		if (json_is_string(json_object_get(err, "suggestion")))
			sugg = json_string_value(json_object_get(err, "suggestion"));
	}
	e = lambda_class_of(status, code);
	if (cls != NULL)
		*cls = e;
	if (e == LAMBDA_ERR_AUTH) {
		/* fixed words: an answer about a key never has its text shown */
		line = xprintf("API key refused (%s)",
		               code != NULL ? code : (status == 403 ? "HTTP 403" : "HTTP 401"));
	} else if (code != NULL || msg != NULL) {
		m = lambda_text(msg != NULL && *msg != '\0' ? msg : "error");
		if (sugg != NULL && *sugg != '\0')
			s = lambda_text(sugg);
		if (code != NULL)
			line = xprintf("%s (%s)%s%s", m, code, s != NULL ? "; " : "",
			               s != NULL ? s : "");
		else
			line = xprintf("%s (HTTP %ld)%s%s", m, status, s != NULL ? "; " : "",
			               s != NULL ? s : "");
	} else if (status >= 200 && status < 300) {
		line = xstrdup("unusable answer from the API");
	} else if (status == 429) {
		line = xstrdup("rate limited by the API (HTTP 429)");
	} else {
		line = xprintf("HTTP %ld from the API", status);
	}
	free(m);
	free(s);
	json_decref(root);
	return line;
}

/* ---- request bodies ---- */

static char *lambda_dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	char *r;

	json_decref(o);
	if (s == NULL)
		xfatal("lambda: cannot encode a request");
	r = xstrdup(s);
	free(s);
	return r;
}

char *lambda_api_launch_body(const char *region, const char *instance_type, const char *key_name,
                             const char *name)
{
	json_t *o = json_object();

	json_object_set_new(o, "region_name", json_string(region));
	json_object_set_new(o, "instance_type_name", json_string(instance_type));
	json_object_set_new(o, "ssh_key_names", json_pack("[s]", key_name));
	json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "quantity", json_integer(1));
	return lambda_dump(o);
}

char *lambda_api_terminate_body(const char *instance_id)
{
	return lambda_dump(json_pack("{s:[s]}", "instance_ids", instance_id));
}

char *lambda_api_add_key_body(const char *name, const char *public_key)
{
	return lambda_dump(json_pack("{s:s, s:s}", "name", name, "public_key", public_key));
}

/* ---- parsing helpers ---- */

/* Loads an answer and returns its "data" member (root in *rootp for json_decref). */
static json_t *lambda_data(const char *body, size_t len, const char *what, json_t **rootp,
                           char **cause)
{
	json_error_t je;
	json_t *root, *data;

	*rootp = NULL;
	if (body == NULL || len == 0) {
		xcause(cause, "%s: empty answer from the API", what);
		return NULL;
	}
	root = json_loadb(body, len, 0, &je);
	if (root == NULL) {
		xcause(cause, "%s: answer is not JSON (line %d: %.80s)", what, je.line, je.text);
		return NULL;
	}
	data = json_is_object(root) ? json_object_get(root, "data") : NULL;
	if (data == NULL) {
		json_decref(root);
		xcause(cause, "%s: answer has no \"data\"", what);
		return NULL;
	}
	*rootp = root;
	return data;
}

static const char *lambda_json_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/* A whole number 0..max from an integer, an integral real, or a decimal string (the API's
 * own examples quote some numbers). 0 and *out, or -1 with *why (static text). */
static int lambda_count(const json_t *v, long long max, long long *out, const char **why)
{
	long long n;

	if (v == NULL) {
		*why = "missing";
		return -1;
	}
	if (json_is_integer(v)) {
		n = json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);

		if (!isfinite(d) || d != floor(d) || d < 0 || d > (double)max) {
			*why = "out of range";
			return -1;
		}
		n = (long long)d;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;

		errno = 0;
		if (*s < '0' || *s > '9') {
			*why = "not a number";
			return -1;
		}
		n = strtoll(s, &end, 10);
		if (*end != '\0' || errno != 0) {
			*why = errno != 0 ? "out of range" : "not a number";
			return -1;
		}
	} else {
		*why = "not a number";
		return -1;
	}
	if (n < 0 || n > max) {
		*why = "out of range";
		return -1;
	}
	*out = n;
	return 0;
}

/* A short plain name (region, instance type, key): printable ASCII without spaces. */
static int lambda_plain(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '/' || *s == '\\' || *s == '"' || *s == '\'')
			return 0;
	return 1;
}

static int lambda_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= LAMBDA_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* ---- GPU of an instance type ---- */

int lambda_api_gpu_of(const char *type_name, const char *description, char **gpu_type, int *gpus)
{
	const char *p, *tok, *next;
	size_t toklen;
	long n;
	char *end, *t;

	*gpu_type = NULL;
	*gpus = 0;
	/* NAME: gpu_<N>x_<model>[_<NN>gb][_<variant>...]; cpu_<N>x_<...> has no GPU */
	if (type_name != NULL && strncmp(type_name, "cpu_", 4) == 0) {
		*gpu_type = xstrdup("");
		return 0;
	}
	if (type_name != NULL && strncmp(type_name, "gpu_", 4) == 0) {
		p = type_name + 4;
		errno = 0;
		n = strtol(p, &end, 10);
		if (end != p && *p != '-' && errno == 0 && n > 0 && n <= 1024 && end[0] == 'x' &&
		    end[1] == '_') {
			tok = end + 2;
			toklen = strcspn(tok, "_");
			if (toklen > 0 && toklen <= 32 &&
			    strspn(tok, "abcdefghijklmnopqrstuvwxyz0123456789") >= toklen) {
				next = tok[toklen] == '_' ? tok + toklen + 1 : NULL;
				t = xstrndup(tok, toklen);
				for (char *c = t; *c != '\0'; c++)
					*c = (char)toupper((unsigned char)*c);
				/* a memory size right after the model is part of the GPU's name */
				if (next != NULL) {
					size_t d = strspn(next, "0123456789");
					size_t nl = strcspn(next, "_");

					if (d > 0 && d <= 4 && nl == d + 2 &&
					    strncmp(next + d, "gb", 2) == 0) {
						char *u = xprintf("%s-%.*sGB", t, (int)d, next);

						free(t);
						t = u;
					}
				}
				*gpu_type = t;
				*gpus = (int)n;
				return 0;
			}
		}
	}
	/* DESCRIPTION: "<N>x <MODEL> (...)", "1x GH200 (96 GB)" */
	if (description != NULL) {
		errno = 0;
		n = strtol(description, &end, 10);
		if (end != description && errno == 0 && n > 0 && n <= 1024 && *end == 'x' &&
		    end[1] == ' ') {
			tok = end + 2;
			if (strncmp(tok, "RTX ", 4) == 0 || strncmp(tok, "Tesla ", 6) == 0)
				tok = strchr(tok, ' ') + 1;
			toklen = strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			                     "0123456789");
			if (toklen > 0 && toklen <= 32) {
				t = xstrndup(tok, toklen);
				for (char *c = t; *c != '\0'; c++)
					*c = (char)toupper((unsigned char)*c);
				*gpu_type = t;
				*gpus = (int)n;
				return 0;
			}
		}
	}
	return -1;
}

/* ---- instance types -> offers ---- */

/* Moves *o into l (the list takes every string). */
static void lambda_offer_push(struct offer_list *l, struct offer *o)
{
	if (l->n == l->cap) {
		l->cap = l->cap != 0 ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n++] = *o;
	memset(o, 0, sizeof *o);
}

static void lambda_offer_free_fields(struct offer *o)
{
	free(o->provider);
	free(o->region);
	free(o->instance_type);
	free(o->gpu_type);
	free(o->description);
	free(o->dropped);
	memset(o, 0, sizeof *o);
}

static int lambda_region_wanted(char *const *regions, size_t nregions, const char *r)
{
	if (nregions == 0)
		return 1;
	for (size_t i = 0; i < nregions; i++)
		if (strcmp(regions[i], r) == 0)
			return 1;
	return 0;
}

/* Fills the common part of an offer from one entry of data; returns NULL or the reason the
 * entry is unusable (static text, with *field naming the member). */
static const char *lambda_type_entry(const char *key, json_t *entry, struct offer *o,
                                     const char **field)
{
	json_t *it, *specs, *v;
	const char *why = NULL, *desc = NULL;
	long long n;
	int gpus;
	char *gpu_type;

	*field = "instance_type";
	it = json_is_object(entry) ? json_object_get(entry, "instance_type") : NULL;
	if (!json_is_object(it))
		return it == NULL ? "missing" : "not an object";
	*field = "instance_type.name";
	v = json_object_get(it, "name");
	if (v != NULL && (!json_is_string(v) || strcmp(json_string_value(v), key) != 0))
		return "does not match the key it is listed under";
	if (json_is_string(json_object_get(it, "description"))) {
		desc = json_string_value(json_object_get(it, "description"));
		o->description = lambda_text(desc);
	}
	*field = "instance_type.price_cents_per_hour";
	if (lambda_count(json_object_get(it, "price_cents_per_hour"), LAMBDA_PRICE_MAX, &n, &why) !=
	    0)
		return why;
	o->priced = 1;
	o->usd_per_hour = (double)n / 100.0;
	o->source = CATALOG_SRC_LIVE;
	*field = "instance_type.specs";
	specs = json_object_get(it, "specs");
	if (!json_is_object(specs))
		return specs == NULL ? "missing" : "not an object";
	*field = "instance_type.specs.vcpus";
	if (lambda_count(json_object_get(specs, "vcpus"), LAMBDA_COUNT_MAX, &n, &why) != 0)
		return why;
	o->cpus = (int)n;
	*field = "instance_type.specs.memory_gib";
	if (lambda_count(json_object_get(specs, "memory_gib"), LAMBDA_COUNT_MAX, &n, &why) != 0)
		return why;
	o->memory_mib = (int64_t)n * 1024;
	*field = "instance_type";
	if (lambda_api_gpu_of(key, desc, &gpu_type, &gpus) != 0)
		return "GPU type not recognised in its name or description";
	o->gpu_type = gpu_type;
	o->gpus = gpus;
	/* the count in specs wins over the one in the name when both are there */
	v = json_object_get(specs, "gpus");
	if (v != NULL) {
		*field = "instance_type.specs.gpus";
		if (lambda_count(v, 1024, &n, &why) != 0)
			return why;
		o->gpus = (int)n;
	}
	return NULL;
}

int lambda_api_parse_types(const char *body, size_t len, const char *provider, char *const *regions,
                           size_t nregions, struct offer_list *out, char **cause)
{
	json_t *root, *data, *entry;
	const char *key;
	size_t ntypes;

	data = lambda_data(body, len, "instance-types", &root, cause);
	if (data == NULL)
		return -1;
	if (!json_is_object(data)) {
		xcause(cause, "instance-types: \"data\" is %s, expected an object",
		       lambda_json_type(data));
		json_decref(root);
		return -1;
	}
	ntypes = json_object_size(data);
	if (ntypes > LAMBDA_TYPES_MAX) {
		xcause(cause, "instance-types: %zu types, more than %d", ntypes, LAMBDA_TYPES_MAX);
		json_decref(root);
		return -1;
	}
	json_object_foreach(data, key, entry)
	{
		struct offer base = {0};
		const char *field, *why;
		json_t *caps;
		size_t ncap = 0;

		if (!lambda_plain(key, LAMBDA_NAME_MAX))
			continue; /* not a name Gantry could ever launch */
		base.provider = xstrdup(provider);
		base.instance_type = xstrdup(key);
		base.market = OFFER_ONDEMAND;
		base.billing = OFFER_BILL_MINUTE;
		base.avail = OFFER_AVAIL_UNKNOWN;
		why = lambda_type_entry(key, entry, &base, &field);
		caps = json_is_object(entry)
		           ? json_object_get(entry, "regions_with_capacity_available")
		           : NULL;
		if (why == NULL && !json_is_array(caps)) {
			field = "regions_with_capacity_available";
			why = caps == NULL ? "missing" : "not a list";
		}
		if (why != NULL) {
			base.region = xstrdup("");
			if (base.gpu_type == NULL)
				base.gpu_type = xstrdup("");
			base.priced = 0;
			base.source = CATALOG_SRC_NONE;
			base.dropped = xprintf("unusable answer from the API: %s: %s", field, why);
			lambda_offer_push(out, &base);
			continue;
		}
		/* regions with capacity now */
		for (size_t i = 0; i < json_array_size(caps); i++) {
			json_t *r = json_array_get(caps, i), *rn;
			struct offer o = base;

			rn = json_is_object(r) ? json_object_get(r, "name") : NULL;
			if (!json_is_string(rn) ||
			    !lambda_plain(json_string_value(rn), LAMBDA_NAME_MAX))
				continue;
			if (!lambda_region_wanted(regions, nregions, json_string_value(rn)))
				continue;
			ncap++;
			o.provider = xstrdup(base.provider);
			o.instance_type = xstrdup(base.instance_type);
			o.gpu_type = xstrdup(base.gpu_type);
			o.description = base.description != NULL ? xstrdup(base.description) : NULL;
			o.region = xstrdup(json_string_value(rn));
			o.avail = OFFER_AVAIL_YES;
			lambda_offer_push(out, &o);
		}
		/* configured regions without capacity: known to be full now */
		for (size_t k = 0; k < nregions; k++) {
			int found = 0;

			for (size_t i = 0; i < json_array_size(caps) && !found; i++) {
				json_t *rn = json_object_get(json_array_get(caps, i), "name");

				found = json_is_string(rn) &&
				        strcmp(json_string_value(rn), regions[k]) == 0;
			}
			if (!found) {
				struct offer o = base;

				o.provider = xstrdup(base.provider);
				o.instance_type = xstrdup(base.instance_type);
				o.gpu_type = xstrdup(base.gpu_type);
				o.description =
				    base.description != NULL ? xstrdup(base.description) : NULL;
				o.region = xstrdup(regions[k]);
				o.avail = OFFER_AVAIL_NO;
				lambda_offer_push(out, &o);
				ncap++;
			}
		}
		if (ncap == 0) {
			base.region = xstrdup("");
			base.avail = OFFER_AVAIL_NO;
			lambda_offer_push(out, &base);
		} else {
			lambda_offer_free_fields(&base);
		}
	}
	json_decref(root);
	return 0;
}

/* ---- instances ---- */

void lambda_instance_clear(struct lambda_instance *in)
{
	free(in->id);
	free(in->name);
	free(in->ip);
	free(in->region);
	free(in->instance_type);
	for (size_t i = 0; i < in->nkeys; i++)
		free(in->keys[i]);
	free(in->keys);
	memset(in, 0, sizeof *in);
}

void lambda_instances_free(struct lambda_instance *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lambda_instance_clear(&v[i]);
	free(v);
}

static enum lambda_status lambda_status_of(const char *s)
{
	static const struct {
		const char *name;
		enum lambda_status st;
	} map[] = {
	    {"booting", LAMBDA_ST_BOOTING},       {"active", LAMBDA_ST_ACTIVE},
	    {"unhealthy", LAMBDA_ST_UNHEALTHY},   {"terminating", LAMBDA_ST_TERMINATING},
	    {"terminated", LAMBDA_ST_TERMINATED}, {"preempted", LAMBDA_ST_PREEMPTED},
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(s, map[i].name) == 0)
			return map[i].st;
	return LAMBDA_ST_UNKNOWN;
}

/* One instance object; -1 with cause ("FIELD: reason"). */
static int lambda_instance_from(json_t *o, struct lambda_instance *in, char **cause)
{
	json_t *v;
	unsigned char addr[16];

	memset(in, 0, sizeof *in);
	if (!json_is_object(o))
		return xcause(cause, "instance is %s, expected an object", lambda_json_type(o));
	v = json_object_get(o, "id");
	if (!json_is_string(v) || !lambda_id_ok(json_string_value(v)))
		return xcause(cause, "instance id: %s",
		              v == NULL ? "missing" : "not a plain id of at most 128 characters");
	in->id = xstrdup(json_string_value(v));
	v = json_object_get(o, "status");
	if (!json_is_string(v)) {
		lambda_instance_clear(in);
		return xcause(cause, "instance status: %s", v == NULL ? "missing" : "not a string");
	}
	in->status = lambda_status_of(json_string_value(v));
	v = json_object_get(o, "name");
	if (json_is_string(v))
		in->name = lambda_text(json_string_value(v));
	else if (v != NULL && !json_is_null(v)) {
		lambda_instance_clear(in);
		return xcause(cause, "instance name: not a string");
	}
	v = json_object_get(o, "ip");
	if (json_is_string(v) && *json_string_value(v) != '\0') {
		const char *ip = json_string_value(v);

		if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1) {
			lambda_instance_clear(in);
			return xcause(cause, "instance ip: not an IP address");
		}
		in->ip = xstrdup(ip);
	} else if (v != NULL && !json_is_null(v) && !json_is_string(v)) {
		lambda_instance_clear(in);
		return xcause(cause, "instance ip: not a string");
	}
	v = json_object_get(o, "region");
	if (json_is_object(v) && json_is_string(json_object_get(v, "name")) &&
	    lambda_plain(json_string_value(json_object_get(v, "name")), LAMBDA_NAME_MAX))
		in->region = xstrdup(json_string_value(json_object_get(v, "name")));
	v = json_object_get(o, "instance_type");
	if (json_is_object(v) && json_is_string(json_object_get(v, "name")) &&
	    lambda_plain(json_string_value(json_object_get(v, "name")), LAMBDA_NAME_MAX))
		in->instance_type = xstrdup(json_string_value(json_object_get(v, "name")));
	v = json_object_get(o, "ssh_key_names");
	if (json_is_array(v)) {
		size_t n = json_array_size(v);

		if (n > 1000) {
			lambda_instance_clear(in);
			return xcause(cause, "instance ssh_key_names: too many");
		}
		in->keys = xcalloc(n + 1, sizeof *in->keys);
		for (size_t i = 0; i < n; i++)
			if (json_is_string(json_array_get(v, i)))
				in->keys[in->nkeys++] =
				    xstrdup(json_string_value(json_array_get(v, i)));
	} else if (v != NULL && !json_is_null(v)) {
		lambda_instance_clear(in);
		return xcause(cause, "instance ssh_key_names: not a list");
	}
	return 0;
}

int lambda_api_parse_instance(const char *body, size_t len, struct lambda_instance *out,
                              char **cause)
{
	json_t *root, *data;
	char *why = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	data = lambda_data(body, len, "instance", &root, cause);
	if (data == NULL)
		return -1;
	rc = lambda_instance_from(data, out, &why);
	if (rc != 0) {
		xcause(cause, "instance: %s", why);
		free(why);
	}
	json_decref(root);
	return rc;
}

int lambda_api_parse_instances(const char *body, size_t len, struct lambda_instance **v, size_t *n,
                               char **cause)
{
	json_t *root, *data;
	size_t cnt;
	char *why = NULL;

	*v = NULL;
	*n = 0;
	data = lambda_data(body, len, "instances", &root, cause);
	if (data == NULL)
		return -1;
	if (!json_is_array(data)) {
		xcause(cause, "instances: \"data\" is %s, expected a list", lambda_json_type(data));
		json_decref(root);
		return -1;
	}
	cnt = json_array_size(data);
	if (cnt > LAMBDA_INST_MAX) {
		xcause(cause, "instances: %zu instances, more than %d", cnt, LAMBDA_INST_MAX);
		json_decref(root);
		return -1;
	}
	*v = xcalloc(cnt + 1, sizeof **v);
	for (size_t i = 0; i < cnt; i++) {
		if (lambda_instance_from(json_array_get(data, i), &(*v)[i], &why) != 0) {
			xcause(cause, "instances: item %zu: %s", i, why);
			free(why);
			lambda_instances_free(*v, i);
			*v = NULL;
			*n = 0;
			json_decref(root);
			return -1;
		}
		*n = i + 1;
	}
	json_decref(root);
	return 0;
}

int lambda_api_parse_launch(const char *body, size_t len, char **instance_id, char **cause)
{
	json_t *root, *data, *ids, *id;

	*instance_id = NULL;
	data = lambda_data(body, len, "launch", &root, cause);
	if (data == NULL)
		return -1;
	ids = json_is_object(data) ? json_object_get(data, "instance_ids") : NULL;
	id = json_is_array(ids) ? json_array_get(ids, 0) : NULL;
	if (!json_is_string(id) || !lambda_id_ok(json_string_value(id))) {
		xcause(cause, "launch: %s",
		       !json_is_array(ids) ? "answer has no data.instance_ids list"
		       : id == NULL        ? "no instance was launched (empty instance_ids)"
		                           : "instance_ids[0] is not a plain id");
		json_decref(root);
		return -1;
	}
	*instance_id = xstrdup(json_string_value(id));
	json_decref(root);
	return 0;
}

int lambda_api_find_key(const char *body, size_t len, const char *name, char **public_key,
                        char **cause)
{
	json_t *root, *data;
	int found = 0;

	if (public_key != NULL)
		*public_key = NULL;
	data = lambda_data(body, len, "ssh-keys", &root, cause);
	if (data == NULL)
		return -1;
	if (!json_is_array(data)) {
		xcause(cause, "ssh-keys: \"data\" is %s, expected a list", lambda_json_type(data));
		json_decref(root);
		return -1;
	}
	for (size_t i = 0; i < json_array_size(data) && !found; i++) {
		json_t *k = json_array_get(data, i), *nm, *pk;

		nm = json_is_object(k) ? json_object_get(k, "name") : NULL;
		if (!json_is_string(nm) || strcmp(json_string_value(nm), name) != 0)
			continue;
		found = 1;
		pk = json_object_get(k, "public_key");
		if (public_key != NULL && json_is_string(pk))
			*public_key = xstrdup(json_string_value(pk));
	}
	json_decref(root);
	return found;
}

/* ---- names ---- */

char *lambda_instance_name(const char *job_id, int attempt)
{
	size_t n = job_id != NULL ? strlen(job_id) : 0;
	char *s;

	if (n == 0 || strspn(job_id, "abcdefghijklmnopqrstuvwxyz0123456789") != n || attempt < 0)
		return NULL;
	s = xprintf("gantry-%s-a%d", job_id, attempt);
	if (strlen(s) > LAMBDA_NAME_MAX) {
		free(s);
		return NULL;
	}
	return s;
}

int lambda_instance_name_parse(const char *name, char **job_id, int *attempt)
{
	const char *id, *dash;
	size_t idlen, dl;
	long a;
	char *end;

	*job_id = NULL;
	if (name == NULL || strncmp(name, "gantry-", 7) != 0 || strlen(name) > LAMBDA_NAME_MAX)
		return -1;
	id = name + 7;
	idlen = strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789");
	dash = id + idlen;
	if (idlen == 0 || strncmp(dash, "-a", 2) != 0)
		return -1;
	dl = strspn(dash + 2, "0123456789");
	if (dl == 0 || dl > 6 || dash[2 + dl] != '\0' || (dl > 1 && dash[2] == '0'))
		return -1;
	a = strtol(dash + 2, &end, 10);
	*job_id = xstrndup(id, idlen);
	*attempt = (int)a;
	return 0;
}

char *lambda_key_name(const char *installation_id)
{
	if (installation_id == NULL || *installation_id == '\0')
		return xstrdup("gantry");
	return xprintf("gantry-%.16s", installation_id);
}

int lambda_instance_ours(const struct lambda_instance *in, const char *key_name)
{
	char *job;
	int attempt, key = 0;

	for (size_t i = 0; i < in->nkeys && !key; i++)
		key = strcmp(in->keys[i], key_name) == 0;
	if (!key || lambda_instance_name_parse(in->name, &job, &attempt) != 0)
		return 0;
	free(job);
	return 1;
}

/* ---- refs ---- */

char *lambda_ref(const char *id, const char *ip, const char *job_id)
{
	return xprintf("%s/%s/%s", id, ip != NULL ? ip : "", job_id);
}

int lambda_ref_parse(const char *ref, char **id, char **ip, char **job_id, char **cause)
{
	const char *a, *b;
	size_t n;

	*id = *ip = *job_id = NULL;
	a = ref != NULL ? strchr(ref, '/') : NULL;
	b = a != NULL ? strchr(a + 1, '/') : NULL;
	if (b == NULL || a == ref || b[1] == '\0' || strchr(b + 1, '/') != NULL)
		return xcause(cause, "not a lambda job reference: '%.80s'", ref != NULL ? ref : "");
	n = (size_t)(a - ref);
	if (n > LAMBDA_ID_MAX ||
	    strspn(ref, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") < n)
		return xcause(cause, "bad instance id in reference '%.80s'", ref);
	if (strspn(a + 1, "0123456789abcdefABCDEF.:") < (size_t)(b - a - 1))
		return xcause(cause, "bad address in reference '%.80s'", ref);
	if (strspn(b + 1, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(b + 1))
		return xcause(cause, "bad job id in reference '%.80s'", ref);
	*id = xstrndup(ref, n);
	*ip = xstrndup(a + 1, (size_t)(b - a - 1));
	*job_id = xstrdup(b + 1);
	return 0;
}
