/* engine_remote_internal.h: remote mode's private state, shared by core/engine_remote*.c. */
#ifndef GANTRY_ENGINE_REMOTE_INTERNAL_H
#define GANTRY_ENGINE_REMOTE_INTERNAL_H

#include <jansson.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/engine_remote.h"

struct loop_fd;
struct loop_timer;

/* An answer engine_remote_send waits for. */
struct remote_wait {
	int64_t id;
	engine_remote_cb cb;
	void *arg;
	struct remote_wait *next;
};

/* A "result" event a launch, stop or approve waits for (its request's id). */
struct remote_result {
	int64_t req;
	engine_result_cb cb;
	void *arg;
	char *job_id;
	struct remote_result *next;
};

struct engine_remote {
	char *path; /* the socket */
	int fd;
	struct loop_fd *w;
	char *buf; /* bytes read, not a whole message yet */
	size_t len, cap;
	int64_t next_id;
	json_t *hello;                      /* hello's result: who we are, the providers */
	json_t *provjson;                   /* the providers as gantryd last listed them */
	struct engine_provider_info *provs; /* borrowed from provjson */
	size_t nprovs;
	json_t **q; /* messages that arrived during a call, delivered on the loop */
	size_t nq, qcap;
	struct loop_timer *flush_timer;
	int flushing;
	struct remote_wait *waits;
	struct remote_result *results;
	int closed;         /* the daemon went away */
	char *closed_cause; /* "gantryd at PATH: closed the connection" */
};

/* engine_remote_call, giving the request's id (for its "result" event). */
int engine_remote_call_id(struct engine *e, const char *op, json_t *args, json_t **result,
                          int64_t *req_id, char **cause);
/* Calls cb with the "result" event of request req_id (or rc -1 if the connection goes). */
void engine_remote_expect_result(struct engine *e, int64_t req_id, const char *job_id,
                                 engine_result_cb cb, void *arg);
/* Answers and results still awaited, messages not delivered yet (engine_busy). */
int engine_remote_pending(struct engine *e);
/* A new connection whose first request is the stream op (args stolen): fd after its ok
 * answer, or -1. */
int engine_remote_stream(struct engine *e, const char *op, json_t *args, char **cause);
/* Loads the built-in and SYSTEM_DIR templates (what gantryd has too) into e->tpls. */
void engine_remote_templates_load(struct engine *e);
/* "not available through gantryd yet" (what: for the reader of the code) */
int engine_remote_unavailable(const char *what, char **cause);

#endif
