/* main.c: gantry's entry point: global options, then the TUI or a subcommand. */
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "tui/app.h"
#include "tui/cli.h"

static const struct cli_cmd *const main_cmds[] = {
    &cli_templates_cmd, &cli_launch_cmd,    &cli_ls_cmd,      &cli_show_cmd,  &cli_logs_cmd,
    &cli_stop_cmd,      &cli_ssh_cmd,       &cli_forward_cmd, &cli_hosts_cmd, &cli_watch_cmd,
    &cli_cost_cmd,      &cli_reconcile_cmd, &cli_doctor_cmd,  &cli_open_cmd,  &cli_offers_cmd,
    &cli_cluster_cmd,   &cli_policy_cmd,
};
#define MAIN_NCMDS (sizeof main_cmds / sizeof main_cmds[0])

static void main_help(FILE *f)
{
	fputs("usage: gantry [OPTIONS] [COMMAND [ARGS]]\n\n"
	      "Gantry launches notebooks, training runs and endpoints from templates and\n"
	      "watches them. With no command it opens the terminal UI.\n\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < MAIN_NCMDS; i++)
		fprintf(f, "  %-10s %s\n", main_cmds[i]->name, main_cmds[i]->summary);
	fputs("  version    print the version\n"
	      "\nProvider types (config.yaml providers: NAME: {type: TYPE, ...}):\n",
	      f);
	for (size_t i = 0;; i++) {
		const char *name, *summary;

		if (!engine_provider_type_info(i, &name, &summary))
			break;
		fprintf(f, "  %-10s %s\n", name, summary != NULL ? summary : "");
	}
	fputs("\nOptions (anywhere before --):\n"
	      "  -o json          machine-readable output for listings\n"
	      "  --readonly       refuse every action that changes anything\n"
	      "  --embedded       run the engine here even when gantryd is configured\n"
	      "  --no-color       no colours (also: NO_COLOR=1)\n"
	      "  --no-mouse       the TUI leaves the mouse to the terminal (also: mouse: false)\n"
	      "  -d MS            TUI refresh interval in milliseconds (default 1000)\n"
	      "  --theme NAME     TUI theme (default, light, high-contrast, monochrome)\n"
	      "  --view NAME      first TUI view: templates, jobs or cost\n"
	      "  -h, --help       this help; 'gantry COMMAND --help' for a command\n"
	      "  -V, --version    print the version\n"
	      "\nEnvironment: GANTRY_HOME puts config and state under one folder; otherwise\n"
	      "$XDG_CONFIG_HOME/gantry and $XDG_STATE_HOME/gantry. See gantry(1).\n"
	      "\nExit codes: 0 ok, 1 action failed, 2 usage or invalid input, 3 no such job\n"
	      "or template, 4 Gantry cannot run here (config, store, terminal), 5 launch\n"
	      "gave up waiting (--timeout; the job goes on).\n",
	      f);
}

/* The edit distance of a and b (at most 15 characters each, else a large number). */
static int main_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[16][16];

	if (la > 15 || lb > 15)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;

			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < d[i][j])
				d[i][j] = d[i - 2][j - 2] + 1; /* a swap of two letters */
		}
	return d[la][lb];
}

/* "Did you mean 'ls'?" for a command one or two edits away from a real one. */
static void main_suggest(const char *word)
{
	const char *best = NULL;
	int bd = 3, d;

	for (size_t i = 0; i <= MAIN_NCMDS; i++) {
		const char *name = i < MAIN_NCMDS ? main_cmds[i]->name : "version";

		d = main_distance(word, name);
		if (d < bd && d < (int)strlen(name) && d < (int)strlen(word)) {
			bd = d;
			best = name;
		}
	}
	if (best != NULL)
		fprintf(stderr, "Did you mean 'gantry %s'?\n", best);
}

/* Removes argv[i] (and n-1 following) from the vector. */
static void main_drop(int *argc, char **argv, int i, int n)
{
	memmove(&argv[i], &argv[i + n], (size_t)(*argc - i - n + 1) * sizeof *argv);
	*argc -= n;
}

int main(int argc, char **argv)
{
	struct cli_ctx c;
	struct app_opts ao;
	const char *cs;
	char *cause = NULL;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "__supervise") == 0)
		return engine_supervisor_main(argc - 1, argv + 1);
	setlocale(LC_ALL, "");
	memset(&c, 0, sizeof c);
	memset(&ao, 0, sizeof ao);
	cs = nl_langinfo(CODESET);
	c.ascii = cs == NULL || strcmp(cs, "UTF-8") != 0;
	c.tty = isatty(STDOUT_FILENO);
	c.no_color = getenv("NO_COLOR") != NULL && getenv("NO_COLOR")[0] != '\0';
	for (int i = 1; i < argc;) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0)
			break;
		if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
			if (strcmp(argv[i + 1], "json") != 0 && strcmp(argv[i + 1], "table") != 0)
				return cli_fail(
				    "error", CLI_USAGE,
				    "unknown output format '%s' (expected json or table)",
				    argv[i + 1]);
			c.json = strcmp(argv[i + 1], "json") == 0;
			main_drop(&argc, argv, i, 2);
		} else if (strcmp(a, "-ojson") == 0 || strcmp(a, "--output=json") == 0) {
			c.json = 1;
			main_drop(&argc, argv, i, 1);
		} else if (strcmp(a, "--readonly") == 0) {
			c.readonly = 1;
			main_drop(&argc, argv, i, 1);
		} else if (strcmp(a, "--embedded") == 0) {
			c.embedded = 1;
			main_drop(&argc, argv, i, 1);
		} else if (strcmp(a, "--no-color") == 0) {
			c.no_color = 1;
			main_drop(&argc, argv, i, 1);
		} else if (strcmp(a, "--no-mouse") == 0) {
			ao.no_mouse = 1;
			main_drop(&argc, argv, i, 1);
		} else if (i == 1 && (strcmp(a, "-d") == 0 || strcmp(a, "--theme") == 0 ||
		                      strcmp(a, "--view") == 0)) {
			if (i + 1 >= argc)
				return cli_fail("error", CLI_USAGE, "%s needs a value", a);
			if (a[1] == 'd') {
				ao.refresh_ms = atoi(argv[i + 1]);
				if (ao.refresh_ms < 50 || ao.refresh_ms > 3600000)
					return cli_fail(
					    "error", CLI_USAGE,
					    "-d expects milliseconds between 50 and 3600000");
			} else if (a[2] == 't') {
				ao.theme = argv[i + 1];
			} else {
				ao.view = argv[i + 1];
				if (strcmp(ao.view, "templates") != 0 &&
				    strcmp(ao.view, "jobs") != 0 && strcmp(ao.view, "cost") != 0)
					return cli_fail(
					    "error", CLI_USAGE,
					    "unknown view '%s' (expected templates, jobs or cost)",
					    ao.view);
			}
			main_drop(&argc, argv, i, 2);
		} else {
			i++;
		}
	}
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	                  strcmp(argv[1], "help") == 0)) {
		if (argc >= 3)
			for (size_t i = 0; i < MAIN_NCMDS; i++)
				if (strcmp(argv[2], main_cmds[i]->name) == 0) {
					cli_usage(stdout, main_cmds[i]);
					return CLI_OK;
				}
		main_help(stdout);
		return CLI_OK;
	}
	if (argc >= 2 && (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "-V") == 0 ||
	                  strcmp(argv[1], "--version") == 0)) {
		if (c.json)
			printf("{\"version\": \"%s\"}\n", PACKAGE_VERSION);
		else
			printf("gantry %s\n", PACKAGE_VERSION);
		return CLI_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "__complete") == 0) {
		rc = cli_complete_main(&c, argc - 1, argv + 1, main_cmds, MAIN_NCMDS);
		engine_close(c.e);
		return rc;
	}
	if (argc >= 2) {
		for (size_t i = 0; i < MAIN_NCMDS; i++) {
			if (strcmp(argv[1], main_cmds[i]->name) != 0)
				continue;
			if (cli_wants_help(argc - 1, argv + 1)) {
				cli_usage(stdout, main_cmds[i]);
				return CLI_OK;
			}
			rc = main_cmds[i]->run(&c, argc - 1, argv + 1);
			engine_close(c.e);
			return rc;
		}
		if (argv[1][0] == '-')
			cli_fail("error", CLI_USAGE, "unknown option '%s'", argv[1]);
		else
			cli_fail("error", CLI_USAGE, "unknown command '%s'", argv[1]);
		if (argv[1][0] != '-')
			main_suggest(argv[1]);
		fputs("Try 'gantry --help'.\n", stderr);
		return CLI_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return cli_fail("error", CLI_ENV,
		                "the TUI needs a terminal; use a command (gantry --help)");
	if (cli_engine(&c, 0) == NULL)
		return CLI_ENV;
	ao.no_color = c.no_color;
	ao.readonly = c.readonly;
	engine_watch(c.e);
	rc = app_run(c.e, &ao, &cause);
	engine_close(c.e);
	if (rc != 0) {
		cli_fail("error", CLI_ENV, "%s", cause != NULL ? cause : "cannot start the TUI");
		free(cause);
		return CLI_ENV;
	}
	return CLI_OK;
}
