/* engine_session.h: engine-internal: where a job's worker is reached (sessions, forwards,
 * opening URLs). One place asks the provider, so that the way it asks can change. */
#ifndef GANTRY_ENGINE_SESSION_H
#define GANTRY_ENGINE_SESSION_H

#include "core/engine_internal.h"
#include "core/ssh.h"

/* The job (by id or name, active, with resources) and its provider; -1 with cause. */
int engine_session_job(struct engine *e, const char *job_ref, struct job *j,
                       struct engine_provider **ep, char **cause);
/* Where a shell or forward for worker `worker` of job job_id goes (provider_shell_clear
 * frees it); -1 with cause. The one call of the provider's shell target. */
int engine_session_target(struct engine *e, const char *job_id, int worker,
                          struct provider_shell *out, char **cause);
/* An SSH error as the faces see it. */
void engine_conn_error_from_ssh(struct engine_conn_error *out, const struct ssh_error *err);

#endif
