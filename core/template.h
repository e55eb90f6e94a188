/* template.h: job templates. YAML (libyaml) or JSON (jansson) files, layered built-in ->
 * system -> user (a later layer's template replaces an earlier one of the same name).
 * A template that fails to load is still returned, with `error` set to
 * "FILE:LINE:COL: what was wrong, what was expected", so faces can show it marked. */
#ifndef GANTRY_TEMPLATE_H
#define GANTRY_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/job.h"
#include "core/kvlist.h"

enum tpl_layer { TPL_LAYER_BUILTIN, TPL_LAYER_SYSTEM, TPL_LAYER_USER };
enum tpl_param_type {
	TPL_PARAM_STRING,
	TPL_PARAM_INT,
	TPL_PARAM_FLOAT,
	TPL_PARAM_BOOL,
	TPL_PARAM_ENUM
};
enum tpl_spot { TPL_SPOT_NEVER, TPL_SPOT_PREFER, TPL_SPOT_ONLY };

struct tpl_param {
	char *name;
	enum tpl_param_type type;
	char *description; /* or NULL */
	char *def;         /* default in string form; NULL = required */
	int has_min, has_max;
	double min, max; /* for int/float */
	char **choices;  /* enum values */
	size_t nchoices;
	char *pattern; /* POSIX extended regex for strings, or NULL */
	int line, col; /* where it was declared (1-based) */
};

struct tpl_accel {
	char *name; /* "H100", "A100", "any" */
	int count;
};

struct tpl_resources {
	struct tpl_accel *accels; /* alternatives; naccels == 0 = no GPU */
	size_t naccels;
	int cpus;       /* 0 = unspecified */
	int cpus_plus;  /* "16+" */
	int memory_gib; /* 0 = unspecified */
	int memory_plus;
	enum tpl_spot spot;
	int nodes; /* default 1 */
};

/* GPUs per node of the smallest accelerator alternative (0 = no GPU): what a provider's
 * offers must at least give (offers_rank checks the GPU type). */
static inline int tpl_resources_min_gpus(const struct tpl_resources *r)
{
	int n = 0;

	for (size_t i = 0; i < r->naccels; i++)
		if (n == 0 || r->accels[i].count < n)
			n = r->accels[i].count;
	return n;
}

/* What a provider's offers must give for a template: GPUs per node of its smallest
 * alternative, nodes, CPUs and memory per node (t NULL: all 0). */
struct tpl_want {
	int gpus, nodes, cpus;
	int64_t mib;
};

struct tpl_autostop {
	int set;
	int idle_minutes;
	double gpu_util_below; /* percent */
	int action_stop;       /* 1 stop, 0 warn */
};

struct tpl_limits {
	double max_hourly_cost; /* dollars per hour, 0 = none */
	long max_runtime_s;     /* 0 = none */
};

struct tpl_service {
	int set;
	int port;                /* 0 = the picked $GANTRY_PORT */
	char *readiness;         /* path such as "/health", or NULL */
	int readiness_timeout_s; /* default 120 */
	int replicas_min, replicas_max;
	double target_qps_per_replica;
};

struct template
{
	char *name;
	enum job_kind kind;
	char *description;
	char *path; /* file it came from */
	enum tpl_layer layer;
	char *error; /* NULL when valid */

	struct tpl_param *params;
	size_t nparams;
	struct tpl_resources resources;
	char **placement_providers;
	size_t nplacement_providers;
	char **placement_regions;
	size_t nplacement_regions;
	char *classification; /* public|internal|pii|phi, or NULL */
	char *image;          /* container image for container backends (kubernetes), or NULL: the
	                       * provider's default image; local, ssh and slurm run on the host */
	char *setup;          /* shell text with {{param}} placeholders, or NULL */
	char *run;            /* shell text with {{param}} placeholders (required) */
	struct kvlist env;    /* values may hold {{param}} placeholders */
	int *ports;
	size_t nports;
	struct tpl_autostop autostop;
	struct tpl_limits limits;
	struct tpl_service service;
};

static inline void tpl_want_of(const struct template *t, struct tpl_want *w)
{
	w->gpus = t != NULL ? tpl_resources_min_gpus(&t->resources) : 0;
	w->nodes = t != NULL ? t->resources.nodes : 0;
	w->cpus = t != NULL ? t->resources.cpus : 0;
	w->mib = t != NULL ? (int64_t)t->resources.memory_gib * 1024 : 0;
}

struct template_set {
	struct template **items; /* sorted by name */
	size_t n;
};

/* Loads one file (.yaml/.yml/.json). Always returns a template (error set when broken). */
struct template *template_load_file(const char *path, enum tpl_layer layer);
/* Parses text as if read from path (used by tests and fuzzers). */
struct template *template_load_text(const char *path, const char *text, size_t len,
                                    enum tpl_layer layer);
void template_free(struct template *t);

/* Loads every *.yaml, *.yml, *.json in dirs[i] (missing dirs are skipped), dirs in layer
 * order. A later layer replaces a template of the same name. */
void template_set_load(struct template_set *set, const char *const *dirs,
                       const enum tpl_layer *layers, size_t ndirs);
void template_set_free(struct template_set *set);
const struct template *template_set_find(const struct template_set *set, const char *name);

/* Validates "k=v" assignments against the params and fills out with every param's value
 * (assigned or default). Unknown name, missing required, wrong type, out of range, not in
 * enum, pattern mismatch: -1 with a one-line cause naming the param and what was expected. */
int template_resolve_params(const struct template *t, const char *const *sets, size_t nsets,
                            struct kvlist *out, char **cause);
/* Checks one value for one param (the TUI form's inline validation). Values must be valid
 * UTF-8 text. */
int template_param_check(const struct tpl_param *p, const char *value, char **cause);
/* Byte offset of the first byte of s that is not well-formed UTF-8, -1 when all are. */
long template_utf8_bad(const char *s);
/* s with every such byte replaced by U+FFFD (heap string). */
char *template_utf8_lossy(const char *s);
/* Replaces {{name}} in text by the shell-quoted value (see template_shell_quote). An unknown
 * placeholder is an error. Heap string in *out. */
int template_render(const char *text, const struct kvlist *values, char **out, char **cause);
/* Same, without quoting (for env values, which never pass through a shell). */
int template_render_raw(const char *text, const struct kvlist *values, char **out, char **cause);
/* POSIX shell single-quoting: abc -> 'abc', it's -> 'it'\''s'. Heap string. */
char *template_shell_quote(const char *s);
/* "H100:8" style summary of the accelerators ("-" when none). Heap string. */
char *template_accel_string(const struct template *t);
/* GPUs asked for by the first alternative (0 when none). */
int template_gpu_count(const struct template *t);
/* Wants a port: has ports or a service. */
int template_wants_port(const struct template *t);

#endif
