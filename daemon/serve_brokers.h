/* serve_brokers.h: gantryd's brokered shells and forwards (issue 12, sessions): the
 * `session` stream op (daemon/serve_session.c) and the forward ops (daemon/serve_forward.c),
 * entries of the ops table (daemon/serve_ops.c). */
#ifndef GANTRY_SERVE_BROKERS_H
#define GANTRY_SERVE_BROKERS_H

#include "daemon/serve_internal.h"

int serve_op_session(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_forward_open(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_forward_close(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);
int serve_op_forwards(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause);

#endif
