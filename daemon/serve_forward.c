/* serve_forward.c: brokered port forwards (issue 12): forward_open, forward_close, forwards.
 * The daemon opens the forward itself (engine_forward_open as the client: the job must be
 * visible to them), bound to 127.0.0.1 and serving the client's uid only (core/peeruid.h: any
 * other local user's connection is closed at once). A forward lives while the connection
 * that opened it lives (serve_client_on_close); a client sees and closes only its own. The
 * forward_open answer waits until the forward is up (or failed); the forward's later news
 * (a refused connection, closed because the job ended) reach that client only, as
 * {"event": "forwards", "message": ...}. */
#include "daemon/serve_brokers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

struct serve_fwd {
	struct serve_fwd *next;
	struct engine *e;
	struct serve_client *c; /* referenced until the forward is forgotten */
	int64_t req;            /* the forward_open request, answered once */
	int id;                 /* the engine's forward id; 0 until engine_forward_open returned */
	int opening;            /* inside engine_forward_open */
	int answered, open;
	int early_rc; /* the callback ran inside engine_forward_open */
	char early_msg[512];
	char *job_name;
	int remote_port, local_port;
};

static struct serve_fwd *serve_fwds;
static int serve_fwd_subscribed;

static void serve_fwd_unlink(struct serve_fwd *sf)
{
	for (struct serve_fwd **p = &serve_fwds; *p != NULL; p = &(*p)->next)
		if (*p == sf) {
			*p = sf->next;
			break;
		}
	serve_client_unref(sf->c);
	free(sf->job_name);
	free(sf);
}

static json_t *serve_fwd_json(const struct engine_forward_info *f)
{
	return json_pack("{s:i,s:s?,s:s?,s:s?,s:i,s:i,s:s?,s:b,s:b,s:s?,s:i,s:I,s:I,s:I,s:I}", "id",
	                 f->id, "job_id", f->job_id, "job_name", f->job_name, "host_name",
	                 f->host_name, "remote_port", f->remote_port, "local_port", f->local_port,
	                 "url", f->url, "up", f->up, "dead", f->dead, "error", f->error, "active",
	                 f->active, "connections", (json_int_t)f->connections, "bytes_up",
	                 (json_int_t)f->bytes_up, "bytes_down", (json_int_t)f->bytes_down,
	                 "refused", (json_int_t)f->refused);
}

/* The forward as the engine has it now (NULL when it is gone). */
static json_t *serve_fwd_info(struct engine *e, int id)
{
	struct engine_forward_info *fi = NULL;
	size_t n = engine_forwards(e, &fi);
	json_t *o = NULL;

	for (size_t i = 0; i < n; i++)
		if (fi[i].id == id)
			o = serve_fwd_json(&fi[i]);
	engine_forwards_free(fi, n);
	return o;
}

static void serve_fwd_answer(struct serve_fwd *sf, int rc, const char *msg)
{
	json_t *o;

	if (sf->answered)
		return;
	sf->answered = 1;
	if (rc != 0) {
		sf->open = 0;
		serve_answer(sf->c, sf->req, -1, NULL,
		             msg != NULL && *msg ? msg : "forward failed");
		return;
	}
	o = serve_fwd_info(sf->e, sf->id);
	if (o == NULL) {
		sf->open = 0;
		serve_answer(sf->c, sf->req, -1, NULL, "the forward closed");
		return;
	}
	sf->local_port = (int)json_integer_value(json_object_get(o, "local_port"));
	serve_answer(sf->c, sf->req, 0,
	             json_pack("{s:i,s:i,s:O}", "id", sf->id, "local_port", sf->local_port, "url",
	                       json_object_get(o, "url")),
	             NULL);
	json_decref(o);
}

static void serve_fwd_cb(void *arg, int id, int rc, const struct engine_conn_error *err)
{
	struct serve_fwd *sf = arg;

	(void)id;
	if (sf->opening) { /* engine_forward_open answers when it returns */
		sf->early_rc = rc == 0 ? 1 : -1;
		snprintf(sf->early_msg, sizeof sf->early_msg, "%s", err != NULL ? err->msg : "");
		return;
	}
	serve_fwd_answer(sf, rc, err != NULL ? err->msg : NULL);
}

/* The client that opened it is gone: so is the forward. */
static void serve_fwd_on_client_close(void *arg)
{
	struct serve_fwd *sf = arg;

	if (sf->open && sf->id > 0)
		engine_forward_close(sf->e, sf->id);
	sf->open = 0;
	serve_fwd_unlink(sf);
}

/* The engine's forward news, to the client whose forward it concerns. */
static void serve_fwd_on_event(void *arg, const struct engine_event *ev)
{
	char port_prefix[64], closed_prefix[300];

	(void)arg;
	if (ev->type != ENGINE_EV_FORWARDS || ev->message == NULL)
		return;
	for (struct serve_fwd *sf = serve_fwds; sf != NULL; sf = sf->next) {
		int mine, closed = 0;

		if (!sf->open || sf->job_name == NULL)
			continue;
		snprintf(port_prefix, sizeof port_prefix, "forward 127.0.0.1:%d ", sf->local_port);
		snprintf(closed_prefix, sizeof closed_prefix, "forward %s:%d closed", sf->job_name,
		         sf->remote_port);
		mine = sf->local_port > 0 &&
		       strncmp(ev->message, port_prefix, strlen(port_prefix)) == 0;
		if (!mine && strncmp(ev->message, closed_prefix, strlen(closed_prefix)) == 0) {
			json_t *still = serve_fwd_info(sf->e, sf->id);

			mine = closed = still == NULL;
			json_decref(still);
		}
		if (!mine)
			continue;
		serve_send_event(sf->c, json_pack("{s:s,s:s,s:i}", "event", "forwards", "message",
		                                  ev->message, "forward_id", sf->id));
		if (closed)
			sf->open = 0;
		break;
	}
}

int serve_op_forward_open(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	json_t *jref = json_object_get(args, "ref"), *jr = json_object_get(args, "remote_port");
	json_t *jl = json_object_get(args, "local_port");
	int remote = json_is_integer(jr) ? (int)json_integer_value(jr) : 0;
	int local = json_is_integer(jl) ? (int)json_integer_value(jl) : 0;
	int accept_new = json_is_true(json_object_get(args, "accept_new"));
	struct serve_fwd *sf;
	struct job j;
	int id = 0;

	(void)result;
	if (!json_is_string(jref))
		return xcause(cause, "forward_open: no \"ref\"");
	if (remote < 0 || remote > 65535 || local < 0 || local > 65535)
		return xcause(cause, "forward_open: bad port");
	if (accept_new && !serve_is_admin(ctx->srv, ctx->e, ctx->who))
		return xcause(cause, "forward_open: only an administrator of gantryd may accept a "
		                     "new host key for the service");
	job_init(&j);
	if (engine_job(ctx->e, json_string_value(jref), &j, cause) != 0) /* visible only */
		return -1;
	if (!serve_fwd_subscribed) {
		engine_subscribe(ctx->e, serve_fwd_on_event, NULL);
		serve_fwd_subscribed = 1;
	}
	sf = xcalloc(1, sizeof *sf);
	sf->e = ctx->e;
	sf->c = serve_client_ref(ctx->client);
	sf->req = ctx->id;
	sf->job_name = xstrdup(j.name);
	sf->remote_port = remote > 0 ? remote : j.port;
	sf->opening = 1;
	/* bound to 127.0.0.1 (never the client's choice): the client's uid only, as the actor */
	if (engine_forward_open(ctx->e, j.id, remote, local, NULL, accept_new, serve_fwd_cb, sf,
	                        &id, cause) != 0) {
		/* engine_forward_open audited it, with the client as the actor */
		serve_client_unref(sf->c);
		free(sf->job_name);
		free(sf);
		job_clear(&j);
		return -1;
	}
	job_clear(&j);
	sf->opening = 0;
	sf->id = id;
	sf->open = 1;
	sf->next = serve_fwds;
	serve_fwds = sf;
	serve_client_on_close(ctx->client, serve_fwd_on_client_close, sf);
	if (sf->early_rc != 0)
		serve_fwd_answer(sf, sf->early_rc > 0 ? 0 : -1, sf->early_msg);
	return SERVE_LATER;
}

/* The client's own forward by id, or NULL. */
static struct serve_fwd *serve_fwd_mine(struct serve_ctx *ctx, int id)
{
	for (struct serve_fwd *sf = serve_fwds; sf != NULL; sf = sf->next)
		if (sf->c == ctx->client && sf->id == id)
			return sf;
	return NULL;
}

int serve_op_forward_close(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	json_t *jid = json_object_get(args, "id");
	struct serve_fwd *sf;

	if (!json_is_integer(jid))
		return xcause(cause, "forward_close: no \"id\"");
	sf = serve_fwd_mine(ctx, (int)json_integer_value(jid));
	if (sf == NULL)
		return xcause(cause, "no forward %lld of yours",
		              (long long)json_integer_value(jid));
	if (sf->open)
		engine_forward_close(ctx->e, sf->id);
	sf->open = 0;
	*result = json_object();
	return 0;
}

int serve_op_forwards(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	json_t *list = json_array();

	(void)args;
	(void)cause;
	for (struct serve_fwd *sf = serve_fwds; sf != NULL; sf = sf->next) {
		json_t *o;

		if (sf->c != ctx->client || !sf->open)
			continue;
		o = serve_fwd_info(ctx->e, sf->id);
		if (o == NULL)
			sf->open = 0;
		else
			json_array_append_new(list, o);
	}
	*result = json_pack("{s:o}", "forwards", list);
	return 0;
}
