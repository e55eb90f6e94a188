/* config.c: paths (XDG or GANTRY_HOME) and the user's config.yaml. */
#include "core/config.h"

#include <errno.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "core/config_internal.h"
#include "core/xmalloc.h"

int config_mkdirs(const char *path, char **cause)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			xcause(cause, "cannot create %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = '/';
	}
	if (mkdir(p, 0700) != 0 && errno != EEXIST) {
		xcause(cause, "cannot create %s: %s", p, strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

static int config_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Built-in data: $GANTRY_DATADIR, else next to the binary (source checkout), else installed. */
static char *config_find_data_dir(const char *self_exe)
{
	const char *env = getenv("GANTRY_DATADIR");
	char *dir, *slash, *t, *th;
	int ok;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	if (self_exe != NULL) {
		dir = xstrdup(self_exe);
		slash = strrchr(dir, '/');
		if (slash != NULL) {
			*slash = '\0';
			t = xprintf("%s/templates", dir);
			th = xprintf("%s/themes", dir);
			ok = config_is_dir(t) && config_is_dir(th);
			free(t);
			free(th);
			if (ok)
				return dir;
		}
		free(dir);
	}
	return xstrdup(GANTRY_PKGDATADIR);
}

static char *config_env_dir(const char *var, const char *home, const char *fallback)
{
	const char *v = getenv(var);

	if (v != NULL && v[0] == '/')
		return xprintf("%s/gantry", v);
	return xprintf("%s/%s/gantry", home, fallback);
}

/* Reads a positive integer scalar; -1 when it is not one. */
static long config_int(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		return -1;
	return v;
}

/* One top-level scalar setting. */
static int config_setting(struct config *c, const char *key, const char *v, size_t line, size_t col,
                          char **cause)
{
	long n;

	if (strcmp(key, "default_provider") == 0) {
		free(c->default_provider);
		c->default_provider = xstrdup(v);
	} else if (strcmp(key, "team") == 0 || strcmp(key, "project") == 0) {
		char **dst = key[0] == 't' ? &c->team : &c->project;

		free(*dst);
		*dst = xstrdup(v);
	} else if (strcmp(key, "theme") == 0) {
		free(c->theme);
		c->theme = xstrdup(v);
	} else if (strcmp(key, "mouse") == 0) { /* the TUI's clicks and wheel (tui/app.c) */
		if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
			return xcause(cause, "%s:%zu:%zu: 'mouse' expects true or false, got '%s'",
			              c->config_file, line, col, v);
		c->mouse = v[0] == 't';
	} else if (strcmp(key, "refresh_ms") == 0 || strcmp(key, "stop_grace_ms") == 0) {
		if ((n = config_int(v)) < 0 || n > 3600000)
			return xcause(
			    cause, "%s:%zu:%zu: '%s' expects milliseconds (1..3600000), got '%s'",
			    c->config_file, line, col, key, v);
		if (key[0] == 'r')
			c->refresh_ms = (int)n;
		else
			c->stop_grace_ms = (int)n;
	} else {
		return xcause(cause,
		              "%s:%zu:%zu: unknown setting '%s' (known: default_provider, theme, "
		              "refresh_ms, stop_grace_ms, team, project, providers, budgets, "
		              "history)",
		              c->config_file, line, (size_t)1, key);
	}
	return 0;
}

/* config.yaml: a mapping of known keys to scalars, plus `providers:` (config_providers.c). */
static int config_parse_file(struct config *c, char **cause)
{
	FILE *f = fopen(c->config_file, "r");
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = 0;

	if (f == NULL)
		return errno == ENOENT ? 0
		                       : xcause(cause, "%s: %s", c->config_file, strerror(errno));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = xcause(cause, "%s:%zu:%zu: %s", c->config_file, parser.problem_mark.line + 1,
		            parser.problem_mark.column + 1,
		            parser.problem != NULL ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		fclose(f);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
		/* empty file: defaults */
	} else if (root->type != YAML_MAPPING_NODE) {
		rc = xcause(cause, "%s:%zu:%zu: expected a mapping of settings", c->config_file,
		            root->start_mark.line + 1, root->start_mark.column + 1);
	} else {
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
		     rc == 0 && pr < root->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
			yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
			const char *key =
			    k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "?";
			size_t line = v->start_mark.line + 1, col = v->start_mark.column + 1;

			if (strcmp(key, "providers") == 0)
				rc = config_parse_providers(c, &doc, v, cause);
			else if (strcmp(key, "budgets") == 0)
				rc = config_parse_budgets(c, &doc, v, cause);
			else if (strcmp(key, "history") == 0)
				rc = config_parse_history(c, &doc, v, cause);
			else if (v->type != YAML_SCALAR_NODE)
				rc = xcause(cause, "%s:%zu:%zu: expected a scalar value for '%s'",
				            c->config_file, line, col, key);
			else
				rc = config_setting(c, key, (const char *)v->data.scalar.value,
				                    line, col, cause);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

int config_load(struct config *c, char **cause)
{
	const char *home = getenv("HOME");
	const char *gh = getenv("GANTRY_HOME");
	const char *sys = getenv("GANTRY_SYSTEM_DIR");
	struct passwd *pw = getpwuid(getuid());
	char exe[PATH_MAX];
	ssize_t n;

	memset(c, 0, sizeof *c);
	if (home == NULL || *home == '\0')
		home = pw != NULL ? pw->pw_dir : "/";
	if (gh != NULL && *gh != '\0') {
		char *abs = gh[0] == '/' ? xstrdup(gh) : NULL;

		if (abs == NULL) {
			char cwd[PATH_MAX];

			if (getcwd(cwd, sizeof cwd) == NULL)
				return xcause(cause, "GANTRY_HOME: cannot resolve %s", gh);
			abs = xprintf("%s/%s", cwd, gh);
		}
		c->config_dir = xprintf("%s/config", abs);
		c->state_dir = xprintf("%s/state", abs);
		free(abs);
	} else {
		c->config_dir = config_env_dir("XDG_CONFIG_HOME", home, ".config");
		c->state_dir = config_env_dir("XDG_STATE_HOME", home, ".local/state");
	}
	c->config_file = xprintf("%s/config.yaml", c->config_dir);
	c->db_path = xprintf("%s/gantry.db", c->state_dir);
	c->jobs_dir = xprintf("%s/jobs", c->state_dir);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		c->self_exe = xstrdup(exe);
	}
	c->data_dir = config_find_data_dir(c->self_exe);
	c->system_dir = xstrdup(sys != NULL && *sys != '\0' ? sys : GANTRY_SYSCONFDIR "/gantry");
	c->default_provider = xstrdup("local");
	c->theme = xstrdup("default");
	c->mouse = 1;
	c->refresh_ms = 1000;
	c->stop_grace_ms = 10000;
	c->history_1m_s = 7LL * 86400;
	c->history_1h_s = 90LL * 86400;
	c->user = xstrdup(pw != NULL ? pw->pw_name : "unknown");
	{
		struct group *gr = getgrgid(getgid());

		c->team = gr != NULL ? xstrdup(gr->gr_name) : NULL;
	}
	return config_parse_file(c, cause);
}

void config_free(struct config *c)
{
	free(c->config_dir);
	free(c->state_dir);
	free(c->config_file);
	free(c->db_path);
	free(c->jobs_dir);
	free(c->data_dir);
	free(c->system_dir);
	free(c->self_exe);
	free(c->default_provider);
	free(c->theme);
	free(c->user);
	free(c->team);
	free(c->project);
	config_providers_free(c);
	config_budgets_free(c);
	memset(c, 0, sizeof *c);
}
