/* store.h: the sqlite store (WAL, foreign keys, busy timeout, versioned migrations).
 * It is the single source of truth for what Gantry believes. Every function returns 0 on
 * success or -1 with a heap *cause the caller reports and frees. Strings handed back in
 * struct job / job_event are owned by the caller (job_clear, job_list_free). */
#ifndef GANTRY_STORE_H
#define GANTRY_STORE_H

#include <stdint.h>

#include "core/job.h"

#define STORE_SCHEMA_VERSION 8

struct store;

/* Opens (creating the file and its parent directory, mode 0600, when missing) and migrates.
 * Refuses, naming the file: a file that is not sqlite, a sqlite file that is not Gantry's
 * (foreign tables and no Gantry application_id), a schema newer than this build. Never
 * recreates over an existing file. */
int store_open(const char *path, struct store **out, char **cause);
/* Runs PRAGMA quick_check on the store at path (an existing file; it writes nothing): 0 when it is
 * sound, -1 with cause (the path and the first problem) when it is damaged or cannot be read. */
int store_quick_check(const char *path, char **cause);
void store_close(struct store *s);
int store_schema_version(struct store *s);
/* The sqlite3 handle (sqlite3 *), for modules that keep tables of their own (core/store_idle.c,
 * core/tele_store.c). Used on the loop thread only. */
void *store_db(struct store *s);

/* A value of the store's meta table (heap); "installation_id" always exists. A missing key
 * fails with a cause naming it. */
int store_meta_get(struct store *s, const char *key, char **out, char **cause);

/* Corrects the end time of an ended job to when its backend says it ended (cost). */
int store_job_set_ended(struct store *s, const char *id, int64_t ended_ms, char **cause);

/* Idle spans of jobs (core/store_idle.c). Extends the job's latest span when it ends within
 * gap_ms of start_ms, else records a new one. */
int store_idle_extend(struct store *s, const char *job_id, int64_t start_ms, int64_t end_ms,
                      int64_t gap_ms, char **cause);
/* Every idle span of every job (ids heap, arrays parallel), ordered by job id and start. */
int store_idle_all(struct store *s, char ***job_ids, int64_t **starts, int64_t **ends, size_t *n,
                   char **cause);
/* PRAGMA data_version: changes when another connection commits. */
int store_data_version(struct store *s, int64_t *out);

/* Crash-safe launch, step 1: inserts the job (state PENDING) and its launch intent in one
 * transaction. Fails if the id or the name is taken. */
int store_launch_intent(struct store *s, const struct job *j, char **cause);
/* Marks the intent done (after the provider call returned). */
int store_intent_done(struct store *s, const char *job_id, char **cause);
/* Job ids whose launch intent is not done, oldest first (heap array of heap strings). */
int store_intents_pending(struct store *s, char ***ids, size_t *n, char **cause);

/* Moves job id to state `to`, recording an event with at_ms and reason. Refuses an illegal
 * transition (job_transition_valid) with a cause naming both states. Sets started_ms on the
 * first RUNNING and ended_ms on a terminal state. */
int store_job_transition(struct store *s, const char *id, enum job_state to, const char *reason,
                         int64_t at_ms, char **cause);
/* Updates the provider-owned fields: provider_ref, url, port, has_exit/exit_code, gpus,
 * spec_json. */
int store_job_update(struct store *s, const struct job *j, char **cause);
/* core/store_reason.c: a reason that changed while the state did not: sets the job's reason
 * and records an event STATE -> STATE with it, when the job is still in `state` and its
 * reason differs. 1 when recorded, 0 when nothing changed, -1 on error. */
int store_job_reason(struct store *s, const char *id, enum job_state state, const char *reason,
                     int64_t at_ms, char **cause);

/* core/store_replicas.c: an endpoint's ready and desired replicas as its provider reports
 * them; written only when they differ from the stored ones (not on every refresh). 1 when
 * written, 0 when unchanged (or no such job), -1 on error. */
int store_job_replicas(struct store *s, const char *id, int ready, int desired, char **cause);

/* Exact id, else exact name, else unique id prefix (at least JOB_ID_MIN_PREFIX characters).
 * Not found and ambiguous (the cause lists the candidates) both fail with a one-line cause. */
int store_job_find(struct store *s, const char *ref, struct job *out, char **cause);
int store_job_get(struct store *s, const char *id, struct job *out, char **cause);
/* All jobs, newest first; active_only keeps non-terminal ones. */
int store_jobs_list(struct store *s, int active_only, struct job_list *out, char **cause);
/* The same, only the jobs of owner uid (or, for jobs with no owner_uid, owner name) and of
 * team (NULL: none): gantryd's users' lists without reading the whole store (issue 12). */
int store_jobs_list_seen(struct store *s, int active_only, int64_t uid, const char *owner,
                         const char *team, struct job_list *out, char **cause);
int store_job_events(struct store *s, const char *id, struct job_event_list *out, char **cause);
/* Next free name "<base>-<n>" (n from 1). Heap string. */
int store_job_next_name(struct store *s, const char *base, char **out, char **cause);
/* Number of jobs in the store. */
int store_jobs_count(struct store *s, int64_t *out, char **cause);

/* Workers of a job (index 0..): where a shell/forward goes. */
int store_worker_set(struct store *s, const char *job_id, int idx, const char *host, int port,
                     const char *user, char **cause);

/* Transactions for bulk work (bench seeding, reconcile). Nesting is not supported. */
int store_begin(struct store *s, char **cause);
int store_commit(struct store *s, char **cause);
void store_rollback(struct store *s);

#endif
