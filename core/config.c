/* config.c: paths (XDG or GANTRY_HOME) and the user's config.yaml. */
#include "core/config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

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

/* config.yaml: a flat mapping of known keys to scalars. */
static int config_parse_file(struct config *c, char **cause)
{
	FILE *f = fopen(c->config_file, "r");
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, rc = 0, done = 0;
	char *key = NULL;

	if (f == NULL)
		return errno == ENOENT ? 0
		                       : xcause(cause, "%s: %s", c->config_file, strerror(errno));
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = xcause(cause, "%s:%zu:%zu: %s", c->config_file,
			            parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			            parser.problem != NULL ? parser.problem : "syntax error");
			break;
		}
		size_t line = ev.start_mark.line + 1, col = ev.start_mark.column + 1;

		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth >= 1) {
				rc = xcause(cause, "%s:%zu:%zu: expected a scalar value for '%s'",
				            c->config_file, line, col, key != NULL ? key : "?");
				done = 1;
			} else if (ev.type == YAML_SEQUENCE_START_EVENT) {
				rc = xcause(cause, "%s:%zu:%zu: expected a mapping of settings",
				            c->config_file, line, col);
				done = 1;
			}
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT: {
			const char *v = (const char *)ev.data.scalar.value;
			long n;

			if (depth == 0) {
				if (*v != '\0')
					rc = xcause(cause,
					            "%s:%zu:%zu: expected a mapping of settings",
					            c->config_file, line, col);
				done = rc != 0;
				break;
			}
			if (key == NULL) {
				key = xstrdup(v);
				break;
			}
			if (strcmp(key, "default_provider") == 0) {
				free(c->default_provider);
				c->default_provider = xstrdup(v);
			} else if (strcmp(key, "theme") == 0) {
				free(c->theme);
				c->theme = xstrdup(v);
			} else if (strcmp(key, "refresh_ms") == 0 ||
			           strcmp(key, "stop_grace_ms") == 0) {
				if ((n = config_int(v)) < 0 || n > 3600000) {
					rc = xcause(cause,
					            "%s:%zu:%zu: '%s' expects milliseconds "
					            "(1..3600000), got '%s'",
					            c->config_file, line, col, key, v);
					done = 1;
				} else if (key[0] == 'r') {
					c->refresh_ms = (int)n;
				} else {
					c->stop_grace_ms = (int)n;
				}
			} else {
				rc = xcause(
				    cause,
				    "%s:%zu:%zu: unknown setting '%s' (known: default_provider, "
				    "theme, refresh_ms, stop_grace_ms)",
				    c->config_file, ev.start_mark.line + 1, (size_t)1, key);
				done = 1;
			}
			free(key);
			key = NULL;
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	free(key);
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
	c->refresh_ms = 1000;
	c->stop_grace_ms = 10000;
	c->user = xstrdup(pw != NULL ? pw->pw_name : "unknown");
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
	memset(c, 0, sizeof *c);
}
