/* engine.h: the engine API, the only door the faces (TUI and CLI) use.
 * Requests are answered through callbacks from the event loop; changes arrive as events
 * the faces subscribe to. Nothing here draws or prints. Query functions read the store and
 * hand back caller-owned copies. */
#ifndef GANTRY_ENGINE_H
#define GANTRY_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/job.h"
#include "core/kvlist.h"
#include "core/template.h"
#include "providers/provider.h"

struct engine;
struct loop;

struct engine_opts {
	int readonly;   /* refuse every request that changes anything */
	int no_refresh; /* do not poll providers on open (bench/diagnostics) */
};

enum engine_event_type {
	ENGINE_EV_JOBS_CHANGED, /* something in the job list changed (job_id NULL = reload all) */
	ENGINE_EV_JOB_STATE,    /* job_id moved from -> to, with reason */
	ENGINE_EV_PROVIDER,     /* provider health changed (provider, message) */
	ENGINE_EV_MESSAGE,      /* a one-line message for the status line (message) */
};

struct engine_event {
	enum engine_event_type type;
	const char *job_id;
	enum job_state from, to;
	const char *reason;
	const char *provider;
	const char *message;
};

typedef void (*engine_event_cb)(void *arg, const struct engine_event *ev);
/* rc 0 = done; -1 = failed with cause. job_id names the job concerned. */
typedef void (*engine_result_cb)(void *arg, int rc, const char *job_id, const char *cause);
typedef void (*engine_log_cb)(void *arg, const char *data, size_t len, int eof);

struct engine_launch_req {
	const char *template_name;
	const char *const *sets; /* "k=v" */
	size_t nsets;
	const char *provider; /* NULL = the template's placement or the default */
	const char *name;     /* NULL = "<template>-<n>" */
};

/* What a launch would do (dry run, and the TUI form's preview). */
struct engine_plan {
	char *template_name;
	char *provider;
	struct kvlist params; /* resolved */
	char *script;         /* rendered shell text */
	struct kvlist env;    /* rendered env */
	int want_port;
	int gpus;
	char *accels; /* "H100:8" or "-" */
	struct provider_offer offer;
};

struct engine_provider_info {
	const char *name;
	const char *type;
	int healthy;
	const char *message; /* health detail, or NULL */
};

struct engine_reconcile_report {
	int adopted; /* intents whose resource existed: attached */
	int failed;  /* intents whose resource never got created: marked FAILED */
	int updated; /* jobs whose state changed to match reality */
	int orphans; /* resources nobody owned: destroyed */
};

int engine_open(const struct engine_opts *opts, struct engine **out, char **cause);
void engine_close(struct engine *e);
struct loop *engine_loop(struct engine *e);
const struct config *engine_config(struct engine *e);
int engine_readonly(struct engine *e);

void engine_subscribe(struct engine *e, engine_event_cb cb, void *arg);
/* Removes a subscription made with the same cb and arg. */
void engine_unsubscribe(struct engine *e, engine_event_cb cb, void *arg);

/* Templates (built-in, system, user), broken ones included with error set. */
const struct template_set *engine_templates(struct engine *e);
void engine_templates_reload(struct engine *e);

size_t engine_provider_count(struct engine *e);
void engine_provider_info(struct engine *e, size_t i, struct engine_provider_info *out);

/* Resolves params and renders the job without launching. */
int engine_plan(struct engine *e, const struct engine_launch_req *req, struct engine_plan *out,
                char **cause);
void engine_plan_clear(struct engine_plan *p);

/* Commits the intent, then calls the provider. *job_id (heap) is set as soon as the intent
 * is committed; cb runs when the provider answered (job STARTING or FAILED). */
int engine_launch(struct engine *e, const struct engine_launch_req *req, char **job_id,
                  engine_result_cb cb, void *arg, char **cause);
/* Moves the job to STOPPING and asks the provider to stop it; cb when delivered. Stopping a
 * job that has ended fails with a cause. */
int engine_stop(struct engine *e, const char *job_ref, engine_result_cb cb, void *arg,
                char **cause);

int engine_jobs(struct engine *e, int active_only, struct job_list *out, char **cause);
int engine_job(struct engine *e, const char *job_ref, struct job *out, char **cause);
int engine_job_events(struct engine *e, const char *job_id, struct job_event_list *out,
                      char **cause);
int engine_jobs_count(struct engine *e, int64_t *out, char **cause);
/* Versions of the libraries the engine runs on, one line ("sqlite 3.40.1, ..."). */
void engine_versions(char *buf, size_t len);
/* The job's access token (notebooks), kept in a 0600 file outside the store; heap or NULL. */
char *engine_job_token(struct engine *e, const char *job_id);

struct engine_logs;
int engine_logs_open(struct engine *e, const char *job_id, int follow, int64_t tail_bytes,
                     engine_log_cb cb, void *arg, struct engine_logs **out, char **cause);
void engine_logs_close(struct engine *e, struct engine_logs *lg);

/* Asks providers for the state of active jobs and notices other processes' writes
 * (PRAGMA data_version). Events follow. Called by the engine's own timer every
 * refresh_ms; faces may call it on demand. */
void engine_refresh(struct engine *e);
/* Number of provider requests in flight (CLI waits for 0). */
int engine_busy(struct engine *e);
/* Settles interrupted launches, adopts or destroys what providers hold, refreshes every
 * active job. Runs the loop until done. */
int engine_reconcile(struct engine *e, struct engine_reconcile_report *rep, char **cause);

#endif
