/* engine_audit.h: the audit hooks of the engine's actions (core/engine_audit.c): one call
 * each, so the hooks in engine_launch.c, engine_session.c ... stay one line. Details are
 * JSON objects of what was decided on (template, provider, region, price, GPUs), never a
 * secret or a parameter's value. */
#ifndef GANTRY_ENGINE_AUDIT_H
#define GANTRY_ENGINE_AUDIT_H

#include "core/engine.h"
#include "core/job.h"

/* A launch decision on plan: verdict "allowed" (job_id and name of the stored job),
 * "refused" (reason: the refusal; target: the template), "pending". */
void engine_audit_launch(struct engine *e, const struct engine_plan *plan, const char *job_id,
                         const char *name, const char *verdict, const char *reason);
/* An action on job j (stop, ssh, forward): detail {name, template, provider, region} and, when
 * extra_json is an object, its members. */
void engine_audit_job(struct engine *e, const char *action, const struct job *j,
                      const char *verdict, const char *reason, const char *extra_json);

/* A shell (or command) on a job's worker: "allowed" when it starts, "failed" with the cause
 * when it could not. */
void engine_audit_session(struct engine *e, const struct job *j, int worker, const char *verdict,
                          char **cause);
/* A port forward to a job: "ok" when it opened, "failed" with the cause. */
void engine_audit_forward(struct engine *e, const struct job *j, int remote_port,
                          int local_port, const char *bind_addr, int rc, char **cause);
/* config.yaml reloaded: when its budgets differ from before, a "budget_change" entry with
 * both lists in detail ({"before": [...], "budgets": [...]}). */
struct config;
void engine_audit_budgets(struct engine *e, const struct config *before,
                          const struct config *after);

#endif
