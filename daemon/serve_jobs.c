/* serve_jobs.c: the job ops: jobs, job, job_events, jobs_count, launch, stop, and the
 * launch/stop/approve pattern (an answer now, a "result" event when the engine's callback
 * runs). What a client may see is the engine's business (engine_may_see): the engine acts
 * for the client here, so a job it may not see is "no job matches". */
#include "daemon/serve_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_remote.h"
#include "core/xmalloc.h"

static const char *serve_arg_str(json_t *args, const char *key)
{
	json_t *v = json_object_get(args, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int serve_op_jobs(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	struct job_list l = {0};
	json_t *ao = json_object_get(args, "active_only");

	if (engine_jobs(ctx->e,
	                json_is_true(ao) || (json_is_integer(ao) && json_integer_value(ao) != 0),
	                &l, cause) != 0)
		return -1;
	*result = json_pack("{s:o}", "jobs", engine_json_jobs(&l));
	job_list_free(&l);
	return 0;
}

int serve_op_job(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	const char *ref = serve_arg_str(args, "ref");
	struct job j;

	if (ref == NULL)
		return xcause(cause, "job: no \"ref\"");
	job_init(&j);
	if (engine_job(ctx->e, ref, &j, cause) != 0)
		return -1;
	*result = engine_json_job(&j);
	job_clear(&j);
	return 0;
}

int serve_op_job_events(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	const char *id = serve_arg_str(args, "job_id");
	struct job_event_list l = {0};
	json_t *a;

	if (id == NULL)
		return xcause(cause, "job_events: no \"job_id\"");
	if (engine_job_events(ctx->e, id, &l, cause) != 0)
		return -1;
	a = engine_json_job_events(&l);
	job_event_list_free(&l);
	*result = json_pack("{s:o}", "events", a);
	return 0;
}

int serve_op_jobs_count(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	int64_t n = 0;

	(void)args;
	if (engine_jobs_count(ctx->e, &n, cause) != 0)
		return -1;
	*result = json_pack("{s:I}", "count", (json_int_t)n);
	return 0;
}

/* --- answer now, result later --- */

struct serve_pending {
	struct serve_client *c;
	int64_t id;
	int answered; /* the {job_id} answer went */
	int done;     /* the engine's callback ran */
	int rc;
	char *job_id;
	char *cause;
};

struct serve_pending *serve_pending_new(struct serve_ctx *ctx)
{
	struct serve_pending *p = xcalloc(1, sizeof *p);

	p->c = serve_client_ref(ctx->client);
	p->id = ctx->id;
	return p;
}

static void serve_pending_free(struct serve_pending *p)
{
	serve_client_unref(p->c);
	free(p->job_id);
	free(p->cause);
	free(p);
}

static void serve_pending_result(struct serve_pending *p)
{
	json_t *ev =
	    json_pack("{s:s,s:I,s:i,s:s?,s:s?}", "event", "result", "req", (json_int_t)p->id, "rc",
	              p->rc == 0 ? 0 : -1, "job_id", p->job_id, "cause", p->cause);

	serve_send_event(p->c, ev);
	serve_pending_free(p);
}

void serve_pending_cb(void *arg, int rc, const char *job_id, const char *cause)
{
	struct serve_pending *p = arg;

	p->done = 1;
	p->rc = rc;
	p->job_id = job_id != NULL ? xstrdup(job_id) : NULL;
	p->cause = cause != NULL ? xstrdup(cause) : NULL;
	if (p->answered)
		serve_pending_result(p);
}

int serve_pending_start(struct serve_pending *p, int rc, const char *job_id, const char *cause)
{
	if (rc != 0) {
		/* refused: the engine does not call back, nothing waits */
		serve_answer(p->c, p->id, -1, NULL, cause != NULL ? cause : "failed");
		serve_pending_free(p);
		return SERVE_LATER;
	}
	serve_answer(p->c, p->id, 0,
	             json_pack("{s:s?}", "job_id", job_id != NULL ? job_id : p->job_id), NULL);
	p->answered = 1;
	if (p->done)
		serve_pending_result(p);
	return SERVE_LATER;
}

int serve_op_launch(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	struct engine_json_req r;
	struct serve_pending *p;
	char *job_id = NULL, *why = NULL;
	int rc;

	(void)result;
	if (engine_json_to_launch_req(args, &r, cause) != 0)
		return -1;
	p = serve_pending_new(ctx);
	rc = engine_launch(ctx->e, &r.req, &job_id, serve_pending_cb, p, &why);
	engine_json_req_clear(&r);
	rc = serve_pending_start(p, rc, job_id, why);
	free(job_id);
	free(why);
	return rc;
}

int serve_op_stop(struct serve_ctx *ctx, json_t *args, json_t **result, char **cause)
{
	const char *ref = serve_arg_str(args, "ref");
	struct serve_pending *p;
	struct job j;
	char *why = NULL;
	int rc;

	(void)result;
	if (ref == NULL)
		return xcause(cause, "stop: no \"ref\"");
	job_init(&j);
	if (engine_job(ctx->e, ref, &j, cause) != 0) /* only a job the client may see */
		return -1;
	p = serve_pending_new(ctx);
	rc = engine_stop(ctx->e, j.id, serve_pending_cb, p, &why);
	rc = serve_pending_start(p, rc, j.id, why);
	job_clear(&j);
	free(why);
	return rc;
}
