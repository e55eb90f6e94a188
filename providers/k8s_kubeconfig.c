/* k8s_kubeconfig.c: a kubeconfig (YAML, or JSON which is YAML too) resolved to one
 * context's access (see k8s_api.h). Every error is one line "PATH:LINE:COL: why" at the
 * value at fault. Refused, with the reason: insecure-skip-tls-verify (Gantry always
 * verifies), auth-provider (removed from kubectl in 1.26: use an exec plugin),
 * username/password (basic auth, removed from Kubernetes in 1.19), a server that is not
 * https:// (http:// only to loopback, for tests: http_url_check), an exec plugin that
 * needs a terminal (interactiveMode: Always), a client key or token file readable by group
 * or others, proxy-url (libcurl's https_proxy applies instead). Secrets (token, key) never go into
 * an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "core/http.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "core/yaml_guard.h"
#include "providers/k8s_api.h"
#include "providers/k8s_api_internal.h"

#define KC_FILE_MAX (4u * 1024 * 1024) /* a kubeconfig, CA, certificate, key, token file */
#define KC_ARGS_MAX 256

struct kc {
	const char *path, *dir;
	yaml_document_t *doc;
	char **cause;
};

static int kc_fail(struct kc *k, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int kc_fail(struct kc *k, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	if (n != NULL)
		xcause(k->cause, "%s:%lu:%lu: %s", k->path, (unsigned long)n->start_mark.line + 1,
		       (unsigned long)n->start_mark.column + 1, msg);
	else
		xcause(k->cause, "%s: %s", k->path, msg);
	free(msg);
	return -1;
}

/* The value node of key in mapping m, or NULL; *keyn gets the key node (may be NULL). */
static yaml_node_t *kc_get(struct kc *k, yaml_node_t *m, const char *key, yaml_node_t **keyn)
{
	if (keyn != NULL)
		*keyn = NULL;
	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(k->doc, p->key);

		if (kn != NULL && kn->type == YAML_SCALAR_NODE &&
		    strlen((char *)kn->data.scalar.value) == kn->data.scalar.length &&
		    strcmp((char *)kn->data.scalar.value, key) == 0) {
			if (keyn != NULL)
				*keyn = kn;
			return yaml_document_get_node(k->doc, p->value);
		}
	}
	return NULL;
}

static int kc_is_null(const yaml_node_t *n)
{
	const char *v;

	if (n == NULL)
		return 1;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)n->data.scalar.value;
	return *v == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
	       strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

/* A string value: 0 and *out (borrowed; NULL when absent or null), -1 when not a scalar or
 * with a NUL byte. */
static int kc_str(struct kc *k, yaml_node_t *m, const char *key, const char **out,
                  yaml_node_t **node)
{
	yaml_node_t *n = kc_get(k, m, key, NULL);

	*out = NULL;
	if (node != NULL)
		*node = n;
	if (kc_is_null(n))
		return 0;
	if (n->type != YAML_SCALAR_NODE)
		return kc_fail(k, n, "%s: expected a string", key);
	if (strlen((char *)n->data.scalar.value) != n->data.scalar.length)
		return kc_fail(k, n, "%s: a NUL byte in the value", key);
	*out = (const char *)n->data.scalar.value;
	return 0;
}

static int kc_bool_true(const yaml_node_t *n)
{
	const char *v;

	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return 0;
	v = (const char *)n->data.scalar.value;
	return strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0 ||
	       strcmp(v, "yes") == 0 || strcmp(v, "on") == 0;
}

/* The entry of list key (clusters/users/contexts) whose name is name: its inner mapping
 * (cluster/user/context). */
static int kc_named(struct kc *k, yaml_node_t *root, const char *list, const char *inner,
                    const char *name, const yaml_node_t *where, yaml_node_t **out)
{
	yaml_node_t *keyn, *l = kc_get(k, root, list, &keyn);

	*out = NULL;
	if (kc_is_null(l)) {
		char *t = k8s_text(name, 80);

		kc_fail(k, where, "no %s '%s' (the file has no %s)", inner, t, list);
		free(t);
		return -1;
	}
	if (l->type != YAML_SEQUENCE_NODE)
		return kc_fail(k, l, "%s: expected a list", list);
	for (yaml_node_item_t *it = l->data.sequence.items.start; it < l->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(k->doc, *it);
		const char *nm;

		if (e == NULL || e->type != YAML_MAPPING_NODE)
			return kc_fail(k, e, "%s: each entry must be a mapping with name and %s",
			               list, inner);
		if (kc_str(k, e, "name", &nm, NULL) != 0)
			return -1;
		if (nm != NULL && strcmp(nm, name) == 0) {
			yaml_node_t *in = kc_get(k, e, inner, NULL);

			if (in == NULL || in->type != YAML_MAPPING_NODE)
				return kc_fail(k, in != NULL ? in : e,
				               "%s '%s': expected a mapping '%s'", inner, nm,
				               inner);
			*out = in;
			return 0;
		}
	}
	{
		char *t = k8s_text(name, 80);

		kc_fail(k, where, "no %s named '%s' in %s", inner, t, list);
		free(t);
	}
	return -1;
}

static char *kc_resolve(struct kc *k, const char *file)
{
	if (file[0] == '/' || k->dir == NULL || k->dir[0] == '\0')
		return xstrdup(file);
	return xprintf("%s/%s", k->dir, file);
}

/* The error of a file the kubeconfig names: "PATH:LINE:COL: KEY: FILE: why" at node n, or
 * "FILE: why" for the kubeconfig itself (key NULL). */
static void kc_file_fail(struct kc *k, const yaml_node_t *n, const char *key, const char *file,
                         const char *why)
{
	if (key == NULL)
		xcause(k->cause, "%s: %s", file, why);
	else
		kc_fail(k, n, "%s: %s: %s", key, file, why);
}

/* Reads a file the kubeconfig names (regular, bounded); secret: refuse when group or others
 * may read or write it. Heap text, or NULL with the cause at node n. */
static char *kc_read(struct kc *k, const yaml_node_t *n, const char *key, const char *file,
                     int secret, size_t *len)
{
	char *path = kc_resolve(k, file), *buf, *why;
	struct stat stb;
	ssize_t r;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		kc_file_fail(k, n, key, path, strerror(errno));
		free(path);
		return NULL;
	}
	if (fstat(fd, &stb) != 0 || !S_ISREG(stb.st_mode) || stb.st_size > (off_t)KC_FILE_MAX) {
		kc_file_fail(k, n, key, path, "not a regular file of at most 4 MiB");
		close(fd);
		free(path);
		return NULL;
	}
	if (secret && (stb.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0) {
		why = xprintf("is readable by group or others (mode %03o): chmod 600 it",
		              (unsigned)(stb.st_mode & 0777));
		kc_fail(k, n, "%s: %s %s", key, path, why);
		free(why);
		close(fd);
		free(path);
		return NULL;
	}
	buf = xmalloc((size_t)stb.st_size + 1);
	while (got < (size_t)stb.st_size &&
	       (r = read(fd, buf + got, (size_t)stb.st_size - got)) > 0)
		got += (size_t)r;
	close(fd);
	buf[got] = '\0';
	free(path);
	if (len != NULL)
		*len = got;
	return buf;
}

/* key-data (base64) or key (a file): *pem and *len, or both NULL. */
static int kc_pem(struct kc *k, yaml_node_t *m, const char *key, int secret, char **pem,
                  size_t *len)
{
	char dkey[64];
	const char *data, *file;
	yaml_node_t *dn, *fn;

	*pem = NULL;
	*len = 0;
	snprintf(dkey, sizeof dkey, "%s-data", key);
	if (kc_str(k, m, dkey, &data, &dn) != 0 || kc_str(k, m, key, &file, &fn) != 0)
		return -1;
	if (data != NULL && data[0] != '\0') {
		*pem = k8s_base64_decode(data, strlen(data), len);
		if (*pem == NULL)
			return kc_fail(k, dn, "%s: not base64", dkey);
		if (*len == 0 || strstr(*pem, "-----BEGIN ") == NULL) {
			k8s_wipe(*pem, *len);
			*pem = NULL;
			return kc_fail(k, dn, "%s: not a PEM block once decoded", dkey);
		}
		return 0;
	}
	if (file != NULL && file[0] != '\0') {
		*pem = kc_read(k, fn, key, file, secret, len);
		if (*pem == NULL)
			return -1;
		if (strstr(*pem, "-----BEGIN ") == NULL) {
			k8s_wipe(*pem, *len);
			*pem = NULL;
			return kc_fail(k, fn, "%s: %s is not a PEM file", key, file);
		}
	}
	return 0;
}

static int kc_cluster(struct kc *k, yaml_node_t *c, struct k8s_access *a)
{
	const char *server, *tsn;
	yaml_node_t *sn, *n, *kn;
	char *why = NULL;
	size_t l;

	if (kc_str(k, c, "server", &server, &sn) != 0)
		return -1;
	if (server == NULL || server[0] == '\0')
		return kc_fail(k, c, "cluster: no server");
	if ((n = kc_get(k, c, "insecure-skip-tls-verify", &kn)) != NULL && kc_bool_true(n))
		return kc_fail(k, kn,
		               "insecure-skip-tls-verify: refused: Gantry always verifies the "
		               "API server's certificate (set certificate-authority-data)");
	if ((n = kc_get(k, c, "proxy-url", &kn)) != NULL && !kc_is_null(n))
		return kc_fail(k, kn,
		               "proxy-url: not supported: Gantry reaches the API server "
		               "directly, or through the https_proxy environment variable");
	if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
		return kc_fail(k, sn, "server: expected an https:// URL");
	if (http_url_check(server, &why) != 0) {
		char *t = k8s_text(why, 160);

		kc_fail(k, sn, "server: %s", t);
		free(t);
		free(why);
		return -1;
	}
	if (strchr(server, '?') != NULL || strchr(server, '#') != NULL)
		return kc_fail(k, sn, "server: a query or fragment in the URL");
	for (const char *p = server; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return kc_fail(k, sn, "server: a space or control character in the URL");
	a->server = xstrdup(server);
	l = strlen(a->server);
	while (l > 0 && a->server[l - 1] == '/' && l > strlen("https://"))
		a->server[--l] = '\0';
	if (kc_str(k, c, "tls-server-name", &tsn, NULL) != 0)
		return -1;
	if (tsn != NULL && tsn[0] != '\0')
		a->tls_server_name = xstrdup(tsn);
	return kc_pem(k, c, "certificate-authority", 0, &a->ca_pem, &a->ca_pem_len);
}

static int kc_exec(struct kc *k, yaml_node_t *e, struct k8s_access *a)
{
	const char *cmd, *av, *mode;
	yaml_node_t *cn, *avn, *mn, *args, *env;
	struct k8s_exec_plugin *x;
	size_t na = 0;

	if (e->type != YAML_MAPPING_NODE)
		return kc_fail(k, e, "exec: expected a mapping");
	if (kc_str(k, e, "command", &cmd, &cn) != 0 || kc_str(k, e, "apiVersion", &av, &avn) != 0 ||
	    kc_str(k, e, "interactiveMode", &mode, &mn) != 0)
		return -1;
	if (cmd == NULL || cmd[0] == '\0')
		return kc_fail(k, e, "exec: no command");
	if (av == NULL)
		return kc_fail(k, e, "exec: no apiVersion (client.authentication.k8s.io/v1)");
	if (strcmp(av, "client.authentication.k8s.io/v1") != 0 &&
	    strcmp(av, "client.authentication.k8s.io/v1beta1") != 0)
		return kc_fail(k, avn,
		               "exec: apiVersion: expected client.authentication.k8s.io/v1 "
		               "or v1beta1");
	if (mode != NULL && strcmp(mode, "Never") != 0 && strcmp(mode, "IfAvailable") != 0) {
		if (strcmp(mode, "Always") == 0)
			return kc_fail(k, mn,
			               "exec: interactiveMode: Always: refused: Gantry runs the "
			               "plugin without a terminal");
		return kc_fail(k, mn,
		               "exec: interactiveMode: expected Never, IfAvailable or Always");
	}
	x = xcalloc(1, sizeof *x);
	a->exec = x;
	kvlist_init(&x->env);
	x->command = strchr(cmd, '/') != NULL ? kc_resolve(k, cmd) : xstrdup(cmd);
	x->api_version = xstrdup(av);
	x->interactive_never =
	    mode == NULL || strcmp(mode, "Never") == 0 || strcmp(mode, "IfAvailable") == 0;
	args = kc_get(k, e, "args", NULL);
	if (!kc_is_null(args)) {
		if (args->type != YAML_SEQUENCE_NODE)
			return kc_fail(k, args, "exec: args: expected a list of strings");
		na = (size_t)(args->data.sequence.items.top - args->data.sequence.items.start);
		if (na > KC_ARGS_MAX)
			return kc_fail(k, args, "exec: args: more than %d", KC_ARGS_MAX);
	}
	x->args = xcalloc(na + 1, sizeof *x->args);
	for (size_t i = 0; i < na; i++) {
		yaml_node_t *an =
		    yaml_document_get_node(k->doc, args->data.sequence.items.start[i]);

		if (an == NULL || an->type != YAML_SCALAR_NODE ||
		    strlen((char *)an->data.scalar.value) != an->data.scalar.length)
			return kc_fail(k, an != NULL ? an : args, "exec: args: expected a string");
		x->args[i] = xstrdup((char *)an->data.scalar.value);
	}
	env = kc_get(k, e, "env", NULL);
	if (!kc_is_null(env)) {
		if (env->type != YAML_SEQUENCE_NODE)
			return kc_fail(k, env, "exec: env: expected a list of {name, value}");
		for (yaml_node_item_t *it = env->data.sequence.items.start;
		     it < env->data.sequence.items.top; it++) {
			yaml_node_t *en = yaml_document_get_node(k->doc, *it);
			const char *nm, *val;

			if (en == NULL || en->type != YAML_MAPPING_NODE)
				return kc_fail(k, en != NULL ? en : env,
				               "exec: env: expected a list of {name, value}");
			if (kc_str(k, en, "name", &nm, NULL) != 0 ||
			    kc_str(k, en, "value", &val, NULL) != 0)
				return -1;
			if (nm == NULL || nm[0] == '\0' || strchr(nm, '=') != NULL)
				return kc_fail(k, en,
				               "exec: env: each entry needs a name (without '=')");
			kvlist_set(&x->env, nm, val != NULL ? val : "");
		}
	}
	return 0;
}

static int kc_user(struct kc *k, yaml_node_t *u, struct k8s_access *a)
{
	const char *tok, *tf;
	yaml_node_t *n, *tfn, *kn;

	if ((n = kc_get(k, u, "auth-provider", &kn)) != NULL && !kc_is_null(n))
		return kc_fail(k, kn,
		               "auth-provider: refused: removed from kubectl in 1.26; use an "
		               "exec credential plugin");
	if (((n = kc_get(k, u, "username", &kn)) != NULL && !kc_is_null(n)) ||
	    ((n = kc_get(k, u, "password", &kn)) != NULL && !kc_is_null(n)))
		return kc_fail(k, kn,
		               "username/password: refused: basic authentication was removed "
		               "from Kubernetes; use a token, a client certificate or an exec "
		               "plugin");
	if (kc_str(k, u, "token", &tok, &n) != 0 || kc_str(k, u, "tokenFile", &tf, &tfn) != 0)
		return -1;
	if (tok != NULL && tok[0] != '\0') {
		for (const char *p = tok; *p != '\0'; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
				return kc_fail(k, n, "token: characters a header cannot carry");
		a->token = xstrdup(tok);
	}
	if (tf != NULL && tf[0] != '\0') {
		size_t len;
		char *t = kc_read(k, tfn, "tokenFile", tf, 1, &len);

		if (t == NULL)
			return -1;
		k8s_wipe(t, len);
		a->token_file = kc_resolve(k, tf);
	}
	if (kc_pem(k, u, "client-certificate", 0, &a->cert_pem, &a->cert_pem_len) != 0 ||
	    kc_pem(k, u, "client-key", 1, &a->key_pem, &a->key_pem_len) != 0)
		return -1;
	if (a->token != NULL ||
	    (kc_str(k, u, "client-key-data", &tok, NULL) == 0 && tok != NULL && tok[0] != '\0'))
		a->inline_secret = 1;
	if ((a->cert_pem != NULL) != (a->key_pem != NULL))
		return kc_fail(k, u, "user: client-certificate and client-key go together");
	n = kc_get(k, u, "exec", NULL);
	if (!kc_is_null(n) && kc_exec(k, n, a) != 0)
		return -1;
	return 0;
}

int k8s_kubeconfig_parse(const char *path, const char *dir, const char *text, size_t len,
                         const char *context, struct k8s_access *out, char **cause)
{
	struct kc k = {.path = path != NULL ? path : "kubeconfig", .dir = dir, .cause = cause};
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *ctx, *cl, *us = NULL, *ccn;
	const char *name, *cur, *cname, *uname, *ns;
	char *why = NULL;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (text == NULL || len > KC_FILE_MAX)
		return xcause(cause, "%s: larger than 4 MiB", k.path);
	if (memchr(text, '\0', len) != NULL)
		return xcause(cause, "%s: a NUL byte: not a kubeconfig", k.path);
	if (yaml_guard_depth(text, len, YAML_GUARD_MAX_DEPTH, &why) != 0) {
		xcause(cause, "%s:%s", k.path, why);
		free(why);
		return -1;
	}
	if (!yaml_parser_initialize(&parser))
		return xcause(cause, "%s: out of memory", k.path);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		char *t = k8s_text(parser.problem != NULL ? parser.problem : "syntax error", 120);

		xcause(cause, "%s:%lu:%lu: %s", k.path, (unsigned long)parser.problem_mark.line + 1,
		       (unsigned long)parser.problem_mark.column + 1, t);
		free(t);
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_parser_delete(&parser);
	k.doc = &doc;
	if (yaml_guard_dup_keys(&doc, &why) != 0) {
		xcause(cause, "%s:%s", k.path, why);
		free(why);
		goto out;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		kc_fail(&k, NULL, "empty: not a kubeconfig");
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		kc_fail(&k, root, "expected a mapping (apiVersion: v1, kind: Config)");
		goto out;
	}
	if (kc_str(&k, root, "current-context", &cur, &ccn) != 0)
		goto out;
	name = context != NULL && context[0] != '\0' ? context : cur;
	if (name == NULL || name[0] == '\0') {
		kc_fail(&k, NULL, "no current-context: name a context in the settings");
		goto out;
	}
	if (kc_named(&k, root, "contexts", "context", name,
	             context != NULL && context[0] != '\0' ? root : (ccn != NULL ? ccn : root),
	             &ctx) != 0)
		goto out;
	out->context = xstrdup(name);
	if (kc_str(&k, ctx, "cluster", &cname, NULL) != 0 ||
	    kc_str(&k, ctx, "user", &uname, NULL) != 0 ||
	    kc_str(&k, ctx, "namespace", &ns, NULL) != 0)
		goto out;
	if (cname == NULL) {
		kc_fail(&k, ctx, "context '%s': no cluster", out->context);
		goto out;
	}
	if (ns != NULL && ns[0] != '\0') {
		if (!k8s_dns_label(ns)) {
			kc_fail(&k, kc_get(&k, ctx, "namespace", NULL),
			        "namespace: not a DNS label (lower case letters, digits, '-')");
			goto out;
		}
		out->namespace = xstrdup(ns);
	}
	if (kc_named(&k, root, "clusters", "cluster", cname, kc_get(&k, ctx, "cluster", NULL),
	             &cl) != 0 ||
	    kc_cluster(&k, cl, out) != 0)
		goto out;
	if (uname != NULL && uname[0] != '\0' &&
	    (kc_named(&k, root, "users", "user", uname, kc_get(&k, ctx, "user", NULL), &us) != 0 ||
	     kc_user(&k, us, out) != 0))
		goto out;
	rc = 0;
out:
	yaml_document_delete(&doc);
	if (rc != 0)
		k8s_access_clear(out);
	return rc;
}

int k8s_kubeconfig_load(const char *path, const char *context, struct k8s_access *out, char **cause)
{
	struct kc k = {.path = path, .dir = NULL, .cause = cause};
	char *text, *dir, *slash;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof *out);
	if (path == NULL || path[0] == '\0')
		return xcause(cause, "no kubeconfig path");
	text = kc_read(&k, NULL, NULL, path, 0, &len);
	if (text == NULL)
		return -1;
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	rc = k8s_kubeconfig_parse(path, dir, text, len, context, out, cause);
	free(dir);
	k8s_wipe(text, len);
	if (rc == 0 && out->inline_secret) {
		struct stat stb;

		/* issue 12: a credential is kept in a file only others cannot read */
		if (stat(path, &stb) != 0)
			stb.st_mode = 0777;
		if ((stb.st_mode & 077) != 0) {
			k8s_access_clear(out);
			xcause(cause,
			       "%s holds a credential (token or client-key-data) and is readable "
			       "by group or others (mode %04o): run chmod 600 %s",
			       path, (unsigned)(stb.st_mode & 07777), path);
			rc = -1;
		}
	}
	return rc;
}

void k8s_access_clear(struct k8s_access *a)
{
	free(a->context);
	free(a->server);
	free(a->namespace);
	free(a->tls_server_name);
	free(a->ca_pem);
	free(a->cert_pem);
	k8s_wipe(a->key_pem, a->key_pem_len);
	k8s_wipe(a->token, a->token != NULL ? strlen(a->token) : 0);
	free(a->token_file);
	if (a->exec != NULL) {
		for (size_t i = 0; a->exec->args != NULL && a->exec->args[i] != NULL; i++)
			free(a->exec->args[i]);
		free(a->exec->args);
		free(a->exec->command);
		free(a->exec->api_version);
		kvlist_free(&a->exec->env);
		free(a->exec);
	}
	memset(a, 0, sizeof *a);
}
