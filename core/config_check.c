/* config_check.c: reading config.yaml into memory, and the checks that need the whole file:
 * `default_provider:` names a provider that exists and `theme:` a theme that exists. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/xmalloc.h"

int config_read_text(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4096, n = 0, got;
	char *buf;
	int err;

	if (f == NULL)
		return -1;
	buf = xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0)
			buf = xrealloc(buf, cap *= 2);
	}
	if (ferror(f)) {
		err = errno != 0 ? errno : EIO;
		free(buf);
		fclose(f);
		errno = err;
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* Appends ", NAME" for each DIR/NAME.theme to *list (which starts as "default"). */
static void config_list_themes(const char *dir, char **list)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		char *name, *pat, *more;

		if (n <= 6 || strcmp(e->d_name + n - 6, ".theme") != 0)
			continue;
		name = xstrndup(e->d_name, n - 6);
		pat = xprintf(", %s,", name);
		more = xprintf("%s,", *list);
		if (strcmp(name, "default") != 0 && strstr(more, pat) == NULL) {
			free(more);
			more = xprintf("%s, %s", *list, name);
			free(*list);
			*list = more;
		} else {
			free(more);
		}
		free(pat);
		free(name);
	}
	closedir(d);
}

static int config_theme_exists(const char *dir, const char *name)
{
	char *path;
	FILE *f;

	if (strchr(name, '/') != NULL || name[0] == '.' || name[0] == '\0')
		return 0;
	path = xprintf("%s/themes/%s.theme", dir, name);
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return 0;
	fclose(f);
	return 1;
}

int config_check_names(const struct config *c, char **cause)
{
	int found = strcmp(c->default_provider, "local") == 0;
	char *known;

	for (size_t i = 0; !found && i < c->nproviders; i++)
		found = strcmp(c->providers[i].name, c->default_provider) == 0;
	if (!found) {
		known = xstrdup("local");
		for (size_t i = 0; i < c->nproviders; i++) {
			char *more;

			if (strcmp(c->providers[i].name, "local") == 0)
				continue;
			more = xprintf("%s, %s", known, c->providers[i].name);
			free(known);
			known = more;
		}
		xcause(cause, "%s:%d:%d: unknown default_provider '%s' (known: %s)", c->config_file,
		       c->default_provider_line, c->default_provider_col, c->default_provider,
		       known);
		free(known);
		return -1;
	}
	if (strcmp(c->theme, "default") == 0 || config_theme_exists(c->config_dir, c->theme) ||
	    config_theme_exists(c->data_dir, c->theme))
		return 0;
	known = xstrdup("default");
	{
		char *d1 = xprintf("%s/themes", c->config_dir),
		     *d2 = xprintf("%s/themes", c->data_dir);

		config_list_themes(d1, &known);
		config_list_themes(d2, &known);
		free(d1);
		free(d2);
	}
	xcause(cause, "%s:%d:%d: unknown theme '%s' (known: %s)", c->config_file, c->theme_line,
	       c->theme_col, c->theme, known);
	free(known);
	return -1;
}
