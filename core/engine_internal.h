/* engine_internal.h: the engine's private state, shared by core/engine*.c only. */
#ifndef GANTRY_ENGINE_INTERNAL_H
#define GANTRY_ENGINE_INTERNAL_H

#include "core/engine.h"
#include "core/http.h"
#include "core/loop.h"
#include "core/store.h"
#include "providers/provider.h"

struct engine_provider {
	char *name;
	const struct provider_ops *ops;
	struct provider *p;
	struct http *http; /* the instance's own handle (provider_config.http) */
	int healthy;
	char *message;
};

struct engine_sub {
	engine_event_cb cb;
	void *arg;
};

struct engine {
	struct config cfg;
	struct engine_opts opts;
	struct loop *loop;
	struct store *store;
	struct http *http;
	struct template_set tpls;
	struct engine_provider *provs;
	size_t nprovs;
	struct engine_sub *subs;
	size_t nsubs;
	struct loop_timer *refresh_timer;
	int64_t data_version;
	int busy;                               /* provider requests in flight */
	char *locks_dir;                        /* launch locks: held while a launch is in flight */
	char *secrets_dir;                      /* per-job tokens, 0600, never in the store */
	struct engine_reconcile_report settled; /* what engine_open settled */
	struct engine_fwd **fwds;               /* port forwards this process holds */
	size_t nfwds;
	int next_fwd_id;
	struct engine_tele *tele; /* telemetry, idle tracking, autostop (engine_watch) */
	char *installation_id;    /* the store's (store_meta_get): labels what its jobs create */
	struct engine_reload *reload;     /* config.yaml reloads (core/engine_reload.c) */
	struct loop_timer *rewatch_timer; /* periodic reconcile while watching (engine_rewatch.c) */
	struct engine_rec *rec;           /* the reconcile in flight (core/engine_reconcile.c) */
	int settling;                     /* engine_settle_on_open waits for it */
	int closing;                      /* engine_close has begun */
	/* issue 12 (governance) */
	struct ident self;                /* the process's own identity (ident_self) */
	struct ident actor;               /* whom the engine acts for now (engine_set_actor) */
	char *actor_team;                 /* engine_actor_team's answer for actor (heap) */
	struct policy *policy;            /* NULL: no policy file */
	char *policy_error;               /* why the last load failed, or NULL */
	struct engine_polwatch *polwatch; /* the policy file's identity (core/engine_policy.c) */
	struct engine_remote *remote;     /* remote mode: the connection to gantryd, else NULL */
};

void engine_emit(struct engine *e, const struct engine_event *ev);
void engine_emit_state(struct engine *e, const char *job_id, enum job_state from, enum job_state to,
                       const char *reason);
struct engine_provider *engine_find_provider(struct engine *e, const char *name);
/* "local, fleet": the configured instances (heap). */
char *engine_provider_names(struct engine *e);
/* core/engine_replicas.c: the plan's note when the template's service.replicas asks for more
 * than one replica of an endpoint and the provider (its type) runs one: heap, or NULL. */
struct template;
char *engine_replicas_note(const struct template *t, const char *provider_type);
/* Moves a job to `to` through the legal path (via STOPPING when needed); 0 when it moved or
 * already was there. */
int engine_move(struct engine *e, const char *job_id, enum job_state to, const char *reason);
/* core/engine_target.c: where worker `worker` of the job with ref lives (the provider's async
 * `target` op, the loop run until it answers). For blocking CLI commands and the TUI while
 * it is suspended for a shell only. */
int engine_job_target_sync(struct engine *e, struct engine_provider *ep, const char *ref,
                           int worker, struct provider_shell *out, char **cause);
/* core/engine_reconcile.c: the refreshes in flight are all answered (e->busy is 0). */
void engine_reconcile_idle(struct engine *e);
/* engine_close: a reconcile in flight ends (its callback gets rc -1) once its providers have
 * answered; one waiting for nothing ends now. */
void engine_reconcile_closing(struct engine *e);
/* Settles launches interrupted by a crash (run when the engine opens). */
int engine_settle_on_open(struct engine *e);
/* Closes the forwards of a job that ended; closes all of them (engine_close). */
void engine_forwards_job_ended(struct engine *e, const char *job_id);
void engine_forwards_close_all(struct engine *e);
/* Closes forwards whose job another process has ended (after a data_version change). */
void engine_forwards_check(struct engine *e);
/* Stops a job with `reason` as its event (NULL: "stop requested by USER"). */
int engine_stop_why(struct engine *e, const char *job_ref, const char *reason, engine_result_cb cb,
                    void *arg, char **cause);
int engine_stop_reason(struct engine *e, const char *job_id, const char *reason, char **cause);
void engine_tele_close(struct engine *e);
/* core/engine_rewatch.c: reconcile every cfg.reconcile_ms while watching; stop at close. */
void engine_rewatch_start(struct engine *e);
void engine_rewatch_stop(struct engine *e);
/* Crash points for the crash-safety tests: GANTRY_TEST_CRASH=NAME kills the process there. */
void engine_crash_point(const char *name);
/* The plan's max_runtime: want_s (> 0, at most the template's limit) or the template's
 * limits.max_runtime (core/engine_runtime.c). */
/* core/engine_reload.c: notes config.yaml's identity (the first call), else reloads it when
 * its inode, size or mtime changed; engine_reload_free at close. */
void engine_reload_tick(struct engine *e);
void engine_reload_free(struct engine *e);
/* core/engine_tele.c: the budgets changed (a reload): forget the hard-limit times. */
void engine_tele_budgets_reset(struct engine *e);
int engine_plan_runtime(const struct template *t, long want_s, long *out, char **cause);
/* core/engine_launch.c: engine_launch, and the launch of an approved job (approved: the job
 * that waited in PENDING_APPROVAL, with approval "approved", decided_by, decision_reason):
 * the same plan, admission and provider call, on the stored job (its intent is stored with
 * the approval). A refusal before the intent leaves the job waiting. */
int engine_launch_run(struct engine *e, const struct engine_launch_req *req,
                      const struct job *approved, char **job_id, engine_result_cb cb, void *arg,
                      char **cause);
/* core/engine_approve.c: the launch's approval hooks. engine_approval_wait stores j (built by
 * engine_launch) waiting for approval (why: the admission's approval_reason), with req as
 * its request and no intent; cb gets rc 0 and the id from the loop. engine_approval_job puts
 * the waiting job's identity (id, name, owner, team, approval) into j; engine_approval_intent
 * stores the approval with the launch intent (PENDING_APPROVAL -> PENDING). */
int engine_approval_wait(struct engine *e, const struct engine_launch_req *req, struct job *j,
                         const char *why, char **job_id, engine_result_cb cb, void *arg,
                         char **cause);
void engine_approval_job(struct job *j, const struct job *approved);
int engine_approval_intent(struct engine *e, const struct job *j, char **cause);
/* issue 12. core/engine_ident.c: the process's identity at open (actor = self); the actor's
 * team is recomputed when the policy changes. */
int engine_ident_init(struct engine *e, char **cause);
void engine_ident_free(struct engine *e);
void engine_ident_policy_changed(struct engine *e);
/* The engine's own timers (refresh, telemetry, autostop, budgets, rewatch) act as the
 * process itself, never as the gantryd client whose request happens to run the loop:
 * engine_actor_as_self saves the actor and switches to self; engine_actor_restore undoes it. */
void engine_actor_as_self(struct engine *e, struct ident *saved);
void engine_actor_restore(struct engine *e, struct ident *saved);
/* core/engine_policy.c: loads the policy at open (a broken file: embedded mode opens, then
 * refuses launches; serving refuses to start), reloads it when it changed (tick). */
int engine_policy_init(struct engine *e, char **cause);
void engine_policy_tick(struct engine *e);
void engine_policy_free(struct engine *e);
/* core/engine_see.c: engine_may_see over a list (drops what the actor may not see); a job
 * found by ref only when the actor may see it ("no job matches" otherwise); 1 when the actor
 * sees only some jobs. */
int engine_see_filter(struct engine *e, struct job_list *l);
int engine_see_find(struct engine *e, const char *ref, struct job *out, char **cause);
int engine_see_restricted(struct engine *e);
/* engine_jobs's list: only the rows the actor may see are read. */
int engine_see_list(struct engine *e, int active_only, struct job_list *out, char **cause);

#endif
