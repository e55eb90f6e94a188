/* engine_remote_jobs.c: the job queries, launch, stop, logs, providers and templates in remote
 * mode (engine_remote.h): each a request to gantryd. */
#include "core/engine_remote.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/engine_internal.h"
#include "core/engine_remote_internal.h"
#include "core/xmalloc.h"

int engine_remote_unavailable(const char *what, char **cause)
{
	(void)what; /* the face names the command; the cause says why */
	return xcause(cause, "not available through gantryd yet");
}

int engine_remote_unavailable_op(struct engine *e, const char *what, char **cause)
{
	(void)e;
	return engine_remote_unavailable(what, cause);
}

int engine_remote_jobs(struct engine *e, int active_only, struct job_list *out, char **cause)
{
	json_t *res;
	int rc;

	out->items = NULL;
	out->n = 0;
	if (engine_remote_call(e, "jobs", json_pack("{s:b}", "active_only", active_only), &res,
	                       cause) != 0)
		return -1;
	rc = engine_json_to_jobs(json_object_get(res, "jobs"), out, cause);
	json_decref(res);
	return rc;
}

int engine_remote_job(struct engine *e, const char *job_ref, struct job *out, char **cause)
{
	json_t *res;
	int rc;

	job_init(out);
	if (engine_remote_call(e, "job", json_pack("{s:s}", "ref", job_ref), &res, cause) != 0)
		return -1;
	rc = engine_json_to_job(res, out, cause);
	json_decref(res);
	return rc;
}

int engine_remote_job_events(struct engine *e, const char *job_id, struct job_event_list *out,
                             char **cause)
{
	json_t *res;
	int rc;

	out->items = NULL;
	out->n = 0;
	if (engine_remote_call(e, "job_events", json_pack("{s:s}", "job_id", job_id), &res,
	                       cause) != 0)
		return -1;
	rc = engine_json_to_job_events(json_object_get(res, "events"), out, cause);
	json_decref(res);
	return rc;
}

int engine_remote_jobs_count(struct engine *e, int64_t *out, char **cause)
{
	json_t *res, *n;

	*out = 0;
	if (engine_remote_call(e, "jobs_count", NULL, &res, cause) != 0)
		return -1;
	n = json_object_get(res, "count");
	if (!json_is_integer(n)) {
		json_decref(res);
		return xcause(cause, "jobs_count: gantryd's answer is malformed");
	}
	*out = json_integer_value(n);
	json_decref(res);
	return 0;
}

/* launch, stop, approve: {job_id} now, a "result" event later. */
static int remote_result_op(struct engine *e, const char *op, json_t *args, char **job_id,
                            engine_result_cb cb, void *arg, char **cause)
{
	json_t *res;
	int64_t id;
	const char *jid;

	if (job_id != NULL)
		*job_id = NULL;
	if (engine_remote_call_id(e, op, args, &res, &id, cause) != 0)
		return -1;
	jid = json_string_value(json_object_get(res, "job_id"));
	if (job_id != NULL && jid != NULL)
		*job_id = xstrdup(jid);
	engine_remote_expect_result(e, id, jid, cb, arg);
	json_decref(res);
	return 0;
}

int engine_remote_launch(struct engine *e, const struct engine_launch_req *req, char **job_id,
                         engine_result_cb cb, void *arg, char **cause)
{
	return remote_result_op(e, "launch", engine_json_launch_req(req), job_id, cb, arg, cause);
}

int engine_remote_stop(struct engine *e, const char *job_ref, engine_result_cb cb, void *arg,
                       char **cause)
{
	return remote_result_op(e, "stop", json_pack("{s:s}", "ref", job_ref), NULL, cb, arg,
	                        cause);
}

int engine_remote_approve(struct engine *e, const char *job_ref, const char *reason,
                          engine_result_cb cb, void *arg, char **cause)
{
	return remote_result_op(e, "approve",
	                        json_pack("{s:s,s:s?}", "ref", job_ref, "reason", reason), NULL, cb,
	                        arg, cause);
}

int engine_remote_busy(struct engine *e)
{
	return engine_remote_pending(e);
}

size_t engine_remote_provider_count(struct engine *e)
{
	return e->remote->nprovs;
}

void engine_remote_provider_info(struct engine *e, size_t i, struct engine_provider_info *out)
{
	memset(out, 0, sizeof *out);
	if (i < e->remote->nprovs)
		*out = e->remote->provs[i];
}

void engine_remote_templates_load(struct engine *e)
{
	const char *dirs[2];
	enum tpl_layer layers[2] = {TPL_LAYER_BUILTIN, TPL_LAYER_SYSTEM};
	char *d0 = xprintf("%s/templates", e->cfg.data_dir);
	char *d1 = xprintf("%s/templates", e->cfg.system_dir);

	dirs[0] = d0;
	dirs[1] = d1;
	template_set_free(&e->tpls);
	template_set_load(&e->tpls, dirs, layers, 2);
	free(d0);
	free(d1);
}

int engine_remote_reconcile(struct engine *e, char **cause)
{
	(void)e;
	return xcause(cause, "gantryd reconciles its jobs itself");
}

/* --- logs: a stream connection of their own --- */

struct engine_remote_logs {
	struct engine *e;
	int fd;
	struct loop_fd *w;
	engine_log_cb cb;
	void *arg;
};

static void remote_logs_on_io(int fd, short revents, void *arg)
{
	struct engine_remote_logs *lg = arg;
	char buf[65536];
	ssize_t n;

	(void)revents;
	n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n > 0) {
		lg->cb(lg->arg, buf, (size_t)n, 0);
		return;
	}
	loop_fd_remove(lg->e->loop, lg->w); /* EOF: the daemon sent all there is */
	lg->w = NULL;
	lg->cb(lg->arg, NULL, 0, 1); /* may close lg */
}

int engine_remote_logs_open(struct engine *e, const char *job_id, int follow, int64_t tail_bytes,
                            engine_log_cb cb, void *arg, struct engine_logs **out, char **cause)
{
	struct engine_remote_logs *lg;
	int fd;

	*out = NULL;
	fd = engine_remote_stream(e, "logs",
	                          json_pack("{s:s,s:b,s:I}", "job_id", job_id, "follow", follow,
	                                    "tail_bytes", (json_int_t)tail_bytes),
	                          cause);
	if (fd < 0)
		return -1;
	lg = xcalloc(1, sizeof *lg);
	lg->e = e;
	lg->fd = fd;
	lg->cb = cb;
	lg->arg = arg;
	lg->w = loop_fd_add(e->loop, fd, POLLIN, remote_logs_on_io, lg);
	*out = (struct engine_logs *)lg;
	return 0;
}

void engine_remote_logs_close(struct engine *e, struct engine_logs *l)
{
	struct engine_remote_logs *lg = (struct engine_remote_logs *)l;

	if (lg == NULL)
		return;
	if (lg->w != NULL)
		loop_fd_remove(e->loop, lg->w);
	close(lg->fd);
	free(lg);
}
