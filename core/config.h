/* config.h: where Gantry keeps things, and the user's settings.
 * XDG paths by default; GANTRY_HOME=DIR puts everything under DIR (config/, state/).
 * Built-in data (templates, themes) comes from GANTRY_DATADIR, else from the folder of the
 * running binary when it holds templates/ and themes/ (a source checkout), else from the
 * installed $(pkgdatadir). */
#ifndef GANTRY_CONFIG_H
#define GANTRY_CONFIG_H

#include <stdint.h>

#include "core/kvlist.h"

/* A provider instance from config.yaml's `providers:` mapping. */
struct config_provider {
	char *name;                 /* instance name (the mapping key) */
	char *type;                 /* "ssh" */
	char *pos;                  /* "FILE:LINE:COL" of the instance */
	char *region; /* `region:` (policy's regions match it when no offer names one); local: "local" */
	struct kvlist settings;     /* nested keys flattened with dots, list items by index */
	struct kvlist settings_pos; /* same keys -> "FILE:LINE:COL" */
};

/* A monthly budget from config.yaml's `budgets:` list. */
struct config_budget {
	char *scope; /* "user", "team" or "project" */
	char *name;  /* the user, team or project it limits */
	double monthly;
	double soft; /* fraction that warns (0.8) */
	double hard; /* fraction that refuses launches (1.0) */
	int stop;    /* 1: also stop the scope's jobs at the hard limit, after grace_s */
	int grace_s; /* 600 */
	char *pos;   /* "FILE:LINE:COL" */
};

struct config {
	char *config_dir;  /* $XDG_CONFIG_HOME/gantry or $GANTRY_HOME/config */
	char *state_dir;   /* $XDG_STATE_HOME/gantry or $GANTRY_HOME/state */
	char *config_file; /* config_dir/config.yaml */
	char *db_path;     /* state_dir/gantry.db */
	char *jobs_dir;    /* state_dir/jobs */
	char *data_dir;    /* built-in templates/ and themes/ live here */
	char *system_dir;  /* /etc/gantry (GANTRY_SYSTEM_DIR overrides) */
	char *self_exe;    /* absolute path of the running gantry binary */
	/* settings from config.yaml */
	char *default_provider; /* "local" */
	char *theme;            /* "default" */
	int refresh_ms;         /* 1000 */
	int stop_grace_ms;      /* 10000 */
	int reconcile_ms;       /* 600000: how often a watching process reconciles (0 = never) */
	/* 180000: how long an interrupted launch on a network provider may stay unlisted before
	 * reconcile calls it never made (a cloud's list can lag its launch) */
	int settle_grace_ms;
	char *user;             /* login name */
	char *team;             /* whom jobs bill: `team:` or the primary group name */
	char *project;          /* `project:` or NULL */
	char *daemon;           /* `daemon:` gantryd's socket, "none", or NULL (issue 12) */
	struct config_provider *providers; /* from `providers:`; "local" is always built in */
	size_t nproviders;
	struct config_budget *budgets;
	size_t nbudgets;
	int64_t history_1m_s; /* `history: minutes:` 1-minute GPU buckets kept (s; 0 = forever) */
	int64_t history_1h_s; /* `history: hours:` 1-hour buckets (90 days) */

	/* `logs: max_size:` cap of a local job's job.log (1 GiB; 0 = none; config_logs.c) */
	int64_t log_max_bytes;
	char **job_env_pass; /* `job_env: pass:` names or PREFIX* passed to jobs; NULL-ended */
	size_t njob_env_pass;
	/* where `default_provider:` and `theme:` were written (0 = not in the file), for the
	 * check that names a known one (core/config_check.c) */
	int default_provider_line, default_provider_col, theme_line, theme_col;
	int mouse; /* `mouse:` true (default): the TUI takes clicks and the wheel */
};

/* Fills c from the environment and config.yaml (missing file = defaults). A malformed
 * config.yaml fails with "FILE:LINE:COL: reason". */
int config_load(struct config *c, char **cause);
void config_free(struct config *c);
/* mkdir -p with mode 0700. */
int config_mkdirs(const char *path, char **cause);
/* Called for each path config_check_trust() looks at; problem is NULL when it is fine. */
typedef void (*config_trust_cb)(void *arg, const char *path, const char *problem);
/* Checks that no other local user can write where Gantry keeps its settings and state
 * (core/safefile.h): the config directory, its templates/ (and each file there, through
 * links) and config.yaml where they exist;
 * the state directory and its jobs/, locks/, secrets/ and sessions/; gantry.db (and -wal,
 * -shm, -journal) is no symlink. Reports each path to report (may be NULL). -1 with cause
 * (the first problem: the path and the chmod or chown that fixes it) when any fails. */
int config_check_trust(const struct config *c, config_trust_cb report, void *arg, char **cause);

#endif
