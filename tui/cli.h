/* cli.h: the command-line face. One file per subcommand (tui/cli_NAME.c), each a
 * const struct cli_cmd; helpers for output in tui/cli_common.c. */
#ifndef GANTRY_CLI_H
#define GANTRY_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "core/engine.h"

/* Exit codes (documented in gantry(1)). */
enum cli_exit {
	CLI_OK = 0,
	CLI_FAILED = 1,   /* the action failed (job failed, stop refused, ...) */
	CLI_USAGE = 2,    /* bad command line or invalid parameter */
	CLI_NOTFOUND = 3, /* no such job or template */
	CLI_ENV = 4,      /* Gantry cannot run here (config, store, terminal) */
	CLI_TIMEOUT = 5,  /* launch --wait/--timeout gave up waiting; the job goes on */
};

struct cli_ctx {
	int json;     /* -o json */
	int readonly; /* --readonly */
	int embedded; /* --embedded: never talk to gantryd (issue 12) */
	int no_color;
	int tty;          /* stdout is a terminal */
	int ascii;        /* locale is not UTF-8 */
	struct engine *e; /* opened on demand by cli_engine() */
};

struct cli_cmd {
	const char *name;
	const char *usage;   /* "launch TEMPLATE [--set k=v]... [--provider P] [--dry-run]" */
	const char *summary; /* one line */
	const char *help;    /* options, one per line, or NULL */
	int (*run)(struct cli_ctx *c, int argc, char **argv);
};

extern const struct cli_cmd cli_templates_cmd, cli_launch_cmd, cli_ls_cmd, cli_show_cmd,
    cli_logs_cmd, cli_stop_cmd, cli_ssh_cmd, cli_forward_cmd, cli_hosts_cmd, cli_watch_cmd,
    cli_reconcile_cmd, cli_doctor_cmd, cli_cost_cmd, cli_open_cmd, cli_offers_cmd, cli_cluster_cmd;
/* issue 12 (tui/cli_approve.c) */
extern const struct cli_cmd cli_approve_cmd, cli_deny_cmd, cli_approvals_cmd;
/* "pending", "approved by carol: ok", "denied by carol: too big" (heap), or NULL when the
 * job needed no approval. */
char *cli_approval_text(const struct job *j);
extern const struct cli_cmd cli_policy_cmd; /* issue 12: tui/cli_policy.c */

/* Opens the engine once; on failure prints the reason and returns NULL. */
struct engine *cli_engine(struct cli_ctx *c, int no_refresh);
/* Opens the engine (no refresh) and plans req for command cmd: CLI_OK with *plan filled, or
 * the exit code after printing why (CLI_NOTFOUND for an unknown template, CLI_USAGE for bad
 * parameters, CLI_ENV when the engine does not open). */
int cli_plan(struct cli_ctx *c, const char *cmd, const struct engine_launch_req *req,
             struct engine_plan *plan);
/* "gantry: CMD: MSG" on stderr, one line, sanitised; returns code. */
int cli_fail(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints usage and help of cmd to f. */
void cli_usage(FILE *f, const struct cli_cmd *cmd);
/* 1 when argv[i] is --help or -h. */
int cli_wants_help(int argc, char **argv);
/* Prints s to f sanitised when f is a terminal (c->tty), raw otherwise. */
void cli_puts_safe(const struct cli_ctx *c, FILE *f, const char *s);
/* "5s", "3m", "2h", "4d" for a duration in ms. */
void cli_age(int64_t ms, char *buf, size_t len);
/* "2026-11-27 11:40:21Z" for a Unix ms time. */
void cli_time(int64_t ms, char *buf, size_t len);
/* Refreshes active jobs and waits for the providers' answers. */
void cli_settle(struct engine *e);
/* Prints a JSON value (jansson json_t *) to stdout and frees it. */
void cli_print_json(void *json);
/* The job as compact JSON text (heap), including its url with token when known. */
char *cli_job_json_text(struct engine *e, const struct job *j);
/* The same as a jansson object (json_t *). */
void *cli_job_json(struct engine *e, const struct job *j);

/* `gantry __complete WHAT`: words for the shell completions (tui/cli_complete.c). */
int cli_complete_main(struct cli_ctx *c, int argc, char **argv, const struct cli_cmd *const *cmds,
                      size_t ncmds);
/* Forwards port (0 = the job's) of the job's worker to 127.0.0.1:local (0 = any) and waits
 * until it is up (asks about an unknown host key on a terminal); *id names it. Returns
 * CLI_OK or the exit code, after printing why as "gantry: CMD: ..." (tui/cli_forward.c). */
int cli_forward_open(struct cli_ctx *c, const char *cmd, const char *job, int port, int local,
                     const char *bind, int accept_new, int *id);
/* Keeps the forward open until Ctrl-C (CLI_OK) or until its job ends (CLI_FAILED). */
int cli_forward_hold(struct cli_ctx *c, const char *cmd, int id);

/* issue 12 (tui/cli_audit.c): gantry audit, gantry audit verify */
extern const struct cli_cmd cli_audit_cmd;

#endif
