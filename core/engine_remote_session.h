/* engine_remote_session.h: shells and forwards in remote mode (issue 12, sessions): brokered
 * by gantryd, so that the user never holds a worker's key. engine_session_run,
 * engine_session_command, engine_forward_open/close and engine_forwards start with
 * `if (engine_is_remote(e)) return engine_remote_...`. */
#ifndef GANTRY_ENGINE_REMOTE_SESSION_H
#define GANTRY_ENGINE_REMOTE_SESSION_H

#include "core/engine.h"

/* A shell relayed as a PTY over a connection of its own (op `session`, frames of
 * core/session_wire.h): the terminal raw, its size and window changes sent, the exit status
 * back. */
int engine_remote_session_run(struct engine *e, const char *job_ref, int worker,
                              const struct engine_session_io *io, int *exit_status,
                              struct engine_conn_error *err, char **cause);
/* What the faces show before a brokered shell: the job's worker, through gantryd (the
 * daemon alone knows where it is). The job must be visible and active. */
int engine_remote_shell_info(struct engine *e, const char *job_ref, int worker,
                             struct engine_shell_info *out, char **cause);
/* Refuses: there is no command line that opens the session by hand (no key to give). */
char *engine_remote_session_command(struct engine *e, const char *job_ref, int worker,
                                    const char *command, char **cause);
/* forward_open waits for the daemon's answer (the forward is up, or why not); cb then runs
 * from the loop. The forward listens on this host's 127.0.0.1 and serves this user only. */
int engine_remote_forward_open(struct engine *e, const char *job_ref, int remote_port,
                               int local_port, const char *bind_addr, int accept_new,
                               engine_forward_cb cb, void *arg, int *id, char **cause);
void engine_remote_forward_close(struct engine *e, int id);
size_t engine_remote_forwards(struct engine *e, struct engine_forward_info **out);

#endif
