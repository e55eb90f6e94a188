/* config.c: paths (XDG or GANTRY_HOME) and the user's config.yaml. */
#include "core/config.h"

#include <dirent.h>
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
#include "core/safefile.h"
#include "core/xmalloc.h"
#include "core/yaml_guard.h"

int config_mkdirs(const char *path, char **cause)
{
	return safefile_mkdirs(path, cause);
}

/* A settings file (config.yaml, a template): the file it resolves to, through a link of yours
 * in a trusted directory (dotfiles), must be yours, not writable by others, in a trusted
 * directory. */
static int config_trust_target(const char *path, char **why)
{
	char *real = realpath(path, NULL);
	int rc;

	if (real == NULL)
		return errno == ENOENT
		           ? 0
		           : xcause(why, "cannot resolve %s: %s", path, strerror(errno));
	rc = safefile_trust_file(real, why);
	free(real);
	return rc;
}

/* Every template file in dir that another user could change; only problems are reported. */
static int config_trust_templates(const char *dir, config_trust_cb report, void *arg, char **cause)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int bad = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char *path, *why = NULL;

		if (de->d_name[0] == '.')
			continue;
		path = xprintf("%s/%s", dir, de->d_name);
		if (config_trust_target(path, &why) != 0) {
			bad++;
			if (report != NULL)
				report(arg, path, why);
			xcause(cause, "%s", why);
		}
		free(why);
		free(path);
	}
	closedir(d);
	return bad;
}

int config_check_trust(const struct config *c, config_trust_cb report, void *arg, char **cause)
{
	const char *dirs[] = {"", "/jobs", "/locks", "/secrets", "/sessions"};
	const char *dbs[] = {"", "-wal", "-shm", "-journal"};
	struct stat st;
	char *path, *why;
	int bad = 0;

	/* settings: only what exists (config.yaml and templates/ are optional) */
	for (int i = 0; i < 3; i++) {
		why = NULL;
		path = i == 0   ? xstrdup(c->config_dir)
		       : i == 1 ? xprintf("%s/templates", c->config_dir)
		                : xstrdup(c->config_file);
		if (lstat(path, &st) != 0 && errno == ENOENT) {
			free(path);
			continue;
		}
		if ((i < 2 ? safefile_trust_dir(path, &why) : config_trust_target(path, &why)) != 0)
			bad++;
		if (report != NULL)
			report(arg, path, why);
		if (why != NULL)
			xcause(cause, "%s", why);
		else if (i == 1)
			bad += config_trust_templates(path, report, arg, cause);
		free(why);
		free(path);
	}
	/* state: every directory Gantry keeps state in (engine_open creates them first) */
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
		why = NULL;
		path = xprintf("%s%s", c->state_dir, dirs[i]);
		if (lstat(path, &st) != 0 && errno == ENOENT) {
			free(path);
			continue;
		}
		if (safefile_trust_dir(path, &why) != 0)
			bad++;
		if (report != NULL)
			report(arg, path, why);
		if (why != NULL)
			xcause(cause, "%s", why);
		free(why);
		free(path);
	}
	/* the store and SQLite's side files are never reached through a symlink */
	for (size_t i = 0; i < sizeof dbs / sizeof *dbs; i++) {
		why = NULL;
		path = xprintf("%s%s", c->db_path, dbs[i]);
		if (lstat(path, &st) != 0) {
			free(path);
			continue;
		}
		if (safefile_no_symlink(path, &why) != 0)
			bad++;
		if (report != NULL)
			report(arg, path, why);
		if (why != NULL)
			xcause(cause, "%s", why);
		free(why);
		free(path);
	}
	return bad > 0 ? -1 : 0;
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

/* "unknown setting" with the known ones, at the key's line. */
static int config_unknown(const struct config *c, const char *key, size_t line, char **cause)
{
	return xcause(cause,
	              "%s:%zu:%zu: unknown setting '%s' (known: default_provider, theme, mouse, "
	              "refresh_ms, stop_grace_ms, reconcile_ms, settle_grace_ms, team, project, "
	              "daemon, providers, budgets, history, logs, job_env)",
	              c->config_file, line, (size_t)1, key);
}

/* One top-level scalar setting. */
static int config_setting(struct config *c, const char *key, const char *v, size_t line, size_t col,
                          char **cause)
{
	long n;

	if (strcmp(key, "default_provider") == 0) {
		free(c->default_provider);
		c->default_provider = xstrdup(v);
		c->default_provider_line = (int)line;
		c->default_provider_col = (int)col;
	} else if (strcmp(key, "team") == 0 || strcmp(key, "project") == 0) {
		char **dst = key[0] == 't' ? &c->team : &c->project;

		free(*dst);
		*dst = xstrdup(v);
	} else if (strcmp(key, "daemon") == 0) { /* gantryd's socket (core/engine_remote.c) */
		free(c->daemon);
		c->daemon = xstrdup(v);
	} else if (strcmp(key, "theme") == 0) {
		free(c->theme);
		c->theme = xstrdup(v);
		c->theme_line = (int)line;
		c->theme_col = (int)col;
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
	} else if (strcmp(key, "reconcile_ms") == 0) { /* 0 = never while watching */
		if ((n = config_int(v)) < 0 || n > 86400000)
			return xcause(
			    cause,
			    "%s:%zu:%zu: 'reconcile_ms' expects milliseconds (0..86400000), "
			    "got '%s'",
			    c->config_file, line, col, v);
		c->reconcile_ms = (int)n;
	} else if (strcmp(key, "settle_grace_ms") == 0) {
		if ((n = config_int(v)) < 0 || n > 3600000)
			return xcause(
			    cause,
			    "%s:%zu:%zu: 'settle_grace_ms' expects milliseconds (0..3600000), "
			    "got '%s'",
			    c->config_file, line, col, v);
		c->settle_grace_ms = (int)n;
	} else {
		return config_unknown(c, key, line, cause);
	}
	return 0;
}

/* 1 for a setting whose value is a scalar (config_setting knows it). */
static int config_scalar_key(const char *key)
{
	static const char *const keys[] = {
	    "default_provider", "team",          "project",      "theme", "mouse",
	    "refresh_ms",       "stop_grace_ms", "reconcile_ms", "daemon"};

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

/* config.yaml: a mapping of known keys to scalars, plus `providers:` (config_providers.c). */
int config_parse_text(struct config *c, const char *text, size_t len, char **cause)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	char *why = NULL;
	int rc = 0;

	/* the nesting limit is checked on the event stream, before libyaml builds anything */
	if (yaml_guard_depth(text, len, YAML_GUARD_MAX_DEPTH, &why) != 0) {
		rc = xcause(cause, "%s:%s", c->config_file, why);
		free(why);
		return rc;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = xcause(cause, "%s:%zu:%zu: %s", c->config_file, parser.problem_mark.line + 1,
		            parser.problem_mark.column + 1,
		            parser.problem != NULL ? parser.problem : "syntax error");
		yaml_parser_delete(&parser);
		return rc;
	}
	root = yaml_document_get_root_node(&doc);
	if (yaml_guard_dup_keys(&doc, &why) != 0) {
		rc = xcause(cause, "%s:%s", c->config_file, why);
		free(why);
	} else if (root == NULL ||
	           (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
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
			else if (strcmp(key, "logs") == 0) /* config_logs.c */
				rc = config_parse_logs(c, &doc, v, cause);
			else if (strcmp(key, "job_env") == 0)
				rc = config_parse_jobenv(c, &doc, v, cause);
			else if (v->type != YAML_SCALAR_NODE && !config_scalar_key(key))
				rc = config_unknown(c, key, k->start_mark.line + 1, cause);
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
	return rc == 0 ? config_check_names(c, cause) : rc;
}

static int config_parse_file(struct config *c, char **cause)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (config_read_text(c->config_file, &text, &len) != 0)
		return errno == ENOENT ? 0
		                       : xcause(cause, "%s: %s", c->config_file, strerror(errno));
	rc = config_parse_text(c, text, len, cause);
	free(text);
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
	c->reconcile_ms = 600000;
	c->settle_grace_ms = 180000;
	c->history_1m_s = 7LL * 86400;
	c->history_1h_s = 90LL * 86400;
	c->log_max_bytes = 1LL << 30; /* `logs: max_size:` (config_logs.c) */
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
	free(c->daemon);
	config_providers_free(c);
	config_budgets_free(c);
	config_jobenv_free(c);
	memset(c, 0, sizeof *c);
}
