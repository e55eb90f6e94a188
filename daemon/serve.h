/* serve.h: gantryd's side of the protocol (engine_remote.h): one engine (as the service
 * account), many clients on a Unix socket, each with the identity the kernel gives
 * (SO_PEERCRED, core/ident.h). Requests run on the daemon's one loop, one at a time, with
 * engine_set_actor(client's identity) around each; nothing a client sends names who it is.
 *
 * Ops are a table (daemon/serve_ops.c): each module adds its own entries, with handlers in
 * its own file (daemon/serve_jobs.c, serve_approve.c, serve_audit.c, serve_session.c ...). */
#ifndef GANTRY_SERVE_H
#define GANTRY_SERVE_H

#include <jansson.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/ident.h"

struct serve;        /* the daemon */
struct serve_client; /* one connection */

struct serve_ctx {
	struct serve *srv;
	struct engine *e;
	struct serve_client *client;
	const struct ident *who; /* the client's identity (also the engine's actor now) */
	int64_t id;              /* the request's id */
};

/* A handler answers at once: 0 with *result (a new reference; NULL = null) or -1 with
 * *cause (one line, sent as the error). Or later: return SERVE_LATER and call serve_answer
 * exactly once (the client may be gone by then: serve_answer on a closed client is a
 * no-op; keep a serve_client_ref). */
#define SERVE_LATER 1
typedef int (*serve_fn)(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);

#define SERVE_OP_STREAM                                                                            \
	0x1u                /* after its ok answer the connection is the handler's                 \
	                     * (serve_client_take_fd) */
#define SERVE_OP_ADMIN 0x2u /* admins only (policy_is_admin) */
struct serve_op {
	const char *name;
	serve_fn fn;
	unsigned flags;
};
/* The table, ended by {NULL}. */
extern const struct serve_op serve_ops[];

void serve_answer(struct serve_client *c, int64_t id, int rc, json_t *result, const char *cause);
/* Keeps c valid (not freed) after its connection closes, until serve_client_unref. */
struct serve_client *serve_client_ref(struct serve_client *c);
void serve_client_unref(struct serve_client *c);
/* 1 while the client is connected. */
int serve_client_alive(const struct serve_client *c);
const struct ident *serve_client_ident(const struct serve_client *c);
/* Stream ops: takes the connection's fd out of the daemon's hands (the caller closes it). */
int serve_client_take_fd(struct serve_client *c);
/* Called when the client disconnects (forwards it opened close with it); one per client. */
void serve_client_on_close(struct serve_client *c, void (*fn)(void *arg), void *arg);

#endif
