/* cli_complete.c: `gantry __complete WHAT` for the shell completions (completions/): one word
 * a line, nothing on stderr, exit 0 even when there is nothing to say. WHAT: commands,
 * options CMD (read from the command's usage and help text, so they stay in step), jobs
 * (names, then ids), templates, providers, clusters (providers with a cluster view). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "tui/cli.h"

/* Prints every option ("-x", "--long-name") found in text once. */
static void complete_options_of(const char *text, char ***seen, size_t *n)
{
	for (const char *p = text; p != NULL && *p != '\0'; p++) {
		size_t len;

		if (*p != '-' || (p > text && !strchr(" [|,(\n", p[-1])))
			continue;
		len = strspn(p, "-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
		if (len < 2 || !isalpha((unsigned char)p[p[1] == '-' ? 2 : 1]))
			continue;
		{
			char *w = xstrndup(p, len);
			int dup = 0;

			while (len > 0 && w[len - 1] == '-')
				w[--len] = '\0';
			for (size_t i = 0; i < *n && !dup; i++)
				dup = strcmp((*seen)[i], w) == 0;
			if (dup) {
				free(w);
				continue;
			}
			*seen = xreallocarray(*seen, *n + 1, sizeof **seen);
			(*seen)[(*n)++] = w;
			puts(w);
		}
		p += len - 1;
	}
}

int cli_complete_main(struct cli_ctx *c, int argc, char **argv, const struct cli_cmd *const *cmds,
                      size_t ncmds)
{
	const char *what = argc >= 2 ? argv[1] : "";

	/* completion must never print an error into the user's command line */
	if (freopen("/dev/null", "w", stderr) == NULL)
		return CLI_OK;
	if (strcmp(what, "commands") == 0) {
		for (size_t i = 0; i < ncmds; i++)
			puts(cmds[i]->name);
		puts("help");
		puts("version");
	} else if (strcmp(what, "options") == 0 && argc >= 3) {
		char **seen = NULL;
		size_t n = 0;

		for (size_t i = 0; i < ncmds; i++)
			if (strcmp(cmds[i]->name, argv[2]) == 0) {
				complete_options_of(cmds[i]->usage, &seen, &n);
				complete_options_of(cmds[i]->help, &seen, &n);
			}
		complete_options_of("--help", &seen, &n);
		for (size_t i = 0; i < n; i++)
			free(seen[i]);
		free(seen);
	} else if (strcmp(what, "jobs") == 0) {
		struct job_list jl;

		memset(&jl, 0, sizeof jl);
		if (cli_engine(c, 1) == NULL || engine_jobs(c->e, 0, &jl, NULL) != 0)
			return CLI_OK;
		for (size_t i = 0; i < jl.n; i++)
			puts(jl.items[i].name);
		for (size_t i = 0; i < jl.n; i++)
			puts(jl.items[i].id);
		job_list_free(&jl);
	} else if (strcmp(what, "templates") == 0) {
		const struct template_set *ts;

		if (cli_engine(c, 1) == NULL)
			return CLI_OK;
		ts = engine_templates(c->e);
		for (size_t i = 0; i < ts->n; i++)
			if (ts->items[i]->error == NULL)
				puts(ts->items[i]->name);
	} else if (strcmp(what, "providers") == 0) {
		if (cli_engine(c, 1) == NULL)
			return CLI_OK;
		for (size_t i = 0; i < engine_provider_count(c->e); i++) {
			struct engine_provider_info pi;

			engine_provider_info(c->e, i, &pi);
			puts(pi.name);
		}
	} else if (strcmp(what, "clusters") == 0) {
		const char *names[64];
		size_t n;

		if (cli_engine(c, 1) == NULL)
			return CLI_OK;
		n = engine_cluster_providers(c->e, names, 64);
		for (size_t i = 0; i < n && i < 64; i++)
			puts(names[i]);
	}
	return CLI_OK;
}
