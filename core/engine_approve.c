/* engine_approve.c: approvals (issue 12). A launch above its role's approval threshold is
 * stored in PENDING_APPROVAL with its request (LAUNCH_REQ, no secret) and no launch intent:
 * nothing is created, nothing is billed, settle and reconcile leave it alone. An approver
 * approves it (the launch is planned and admitted again, for its owner, then runs as any
 * launch of that job row) or denies it (STOPPED, "denied by NAME: REASON"). */
#include "core/engine.h"

#include <jansson.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/xmalloc.h"

/* The request kept while the job waits: LAUNCH_REQ, with the provider the admission saw. */
static char *engine_approval_request(const struct engine_launch_req *req, const char *provider)
{
	json_t *o = json_object(), *sets = json_array();
	char *s, *r;

	json_object_set_new(o, "template", json_string(req->template_name));
	for (size_t i = 0; i < req->nsets; i++)
		json_array_append_new(sets, json_string(req->sets[i]));
	json_object_set_new(o, "sets", sets);
	if (provider != NULL)
		json_object_set_new(o, "provider", json_string(provider));
	if (req->name != NULL)
		json_object_set_new(o, "name", json_string(req->name));
	if (req->max_runtime_s > 0)
		json_object_set_new(o, "max_runtime_s", json_integer(req->max_runtime_s));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	r = xstrdup(s != NULL ? s : "{}");
	free(s);
	return r;
}

/* The kept request back (strings point into *root, decref it after use). */
static int engine_approval_request_parse(const char *text, struct engine_launch_req *req,
                                         const char ***sets, json_t **root, char **cause)
{
	json_t *o = text != NULL ? json_loads(text, 0, NULL) : NULL, *a;

	memset(req, 0, sizeof *req);
	*sets = NULL;
	*root = o;
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "template")))
		return xcause(cause, "the job's launch request is missing or damaged");
	req->template_name = json_string_value(json_object_get(o, "template"));
	if (json_is_string(json_object_get(o, "provider")))
		req->provider = json_string_value(json_object_get(o, "provider"));
	if (json_is_integer(json_object_get(o, "max_runtime_s")))
		req->max_runtime_s = (long)json_integer_value(json_object_get(o, "max_runtime_s"));
	a = json_object_get(o, "sets");
	*sets = xcalloc(json_array_size(a) + 1, sizeof **sets);
	for (size_t i = 0; i < json_array_size(a); i++)
		if (json_is_string(json_array_get(a, i)))
			(*sets)[req->nsets++] = json_string_value(json_array_get(a, i));
	req->sets = *sets;
	return 0;
}

struct engine_approval_later {
	engine_result_cb cb;
	void *arg;
	char *job_id;
};

static void engine_approval_later_fire(void *arg)
{
	struct engine_approval_later *l = arg;

	l->cb(l->arg, 0, l->job_id, NULL);
	free(l->job_id);
	free(l);
}

int engine_approval_wait(struct engine *e, const struct engine_launch_req *req, struct job *j,
                         const char *why, char **job_id, engine_result_cb cb, void *arg,
                         char **cause)
{
	struct engine_approval_later *l;
	char *detail;

	j->state = JOB_PENDING_APPROVAL;
	free(j->approval);
	j->approval = xstrdup("pending");
	free(j->reason);
	j->reason = xprintf("waiting for approval: %s", why);
	free(j->request_json);
	j->request_json = engine_approval_request(req, j->provider);
	/* two processes may pick the same automatic name at once: the loser picks again */
	for (int attempt = 0;; attempt++) {
		char *err = NULL;

		if (store_approval_wait(e->store, j, &err) == 0)
			break;
		if (req->name != NULL || attempt >= 20 || strstr(err, "already exists") == NULL) {
			xcause(cause, "%s", err);
			free(err);
			return -1;
		}
		free(err);
		free(j->name);
		j->name = NULL;
		if (store_job_next_name(e->store, j->template_name, &j->name, cause) != 0)
			return -1;
	}
	engine_emit_state(e, j->id, JOB_PENDING_APPROVAL, JOB_PENDING_APPROVAL, j->reason);
	{
		json_t *o = json_pack("{s:s, s:s, s:s}", "name", j->name, "template",
		                      j->template_name, "provider", j->provider);

		detail = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(o);
		engine_audit(e, "launch", j->id, "pending", j->reason, detail);
		free(detail);
	}
	*job_id = xstrdup(j->id);
	/* as a launch's: the answer comes from the loop, after engine_launch returned */
	l = xcalloc(1, sizeof *l);
	l->cb = cb;
	l->arg = arg;
	l->job_id = xstrdup(j->id);
	loop_timer_add(e->loop, 0, 0, engine_approval_later_fire, l);
	return 0;
}

static void engine_approval_swap(char **dst, const char *src)
{
	free(*dst);
	*dst = src != NULL ? xstrdup(src) : NULL;
}

void engine_approval_job(struct job *j, const struct job *approved)
{
	engine_approval_swap(&j->id, approved->id);
	engine_approval_swap(&j->name, approved->name);
	engine_approval_swap(&j->owner, approved->owner);
	engine_approval_swap(&j->team, approved->team);
	engine_approval_swap(&j->project, approved->project);
	engine_approval_swap(&j->approval, approved->approval);
	engine_approval_swap(&j->decided_by, approved->decided_by);
	engine_approval_swap(&j->decision_reason, approved->decision_reason);
	engine_approval_swap(&j->request_json, approved->request_json);
	free(j->idem_key);
	j->idem_key = xprintf("gantry-%s", j->id);
	j->owner_uid = approved->owner_uid;
	j->created_ms = approved->created_ms;
}

/* "approved by carol: fits the plan" / "denied by carol: too big" (heap). */
static char *engine_approval_words(const char *verb, const char *who, const char *why)
{
	return why != NULL && *why != '\0' ? xprintf("%s by %s: %s", verb, who, why)
	                                   : xprintf("%s by %s", verb, who);
}

int engine_approval_intent(struct engine *e, const struct job *j, char **cause)
{
	char *reason = engine_approval_words("approved", j->decided_by, j->decision_reason);
	int rc = store_approval_launch(e->store, j, reason, loop_wall_ms(), cause);

	if (rc == 0)
		engine_emit_state(e, j->id, JOB_PENDING_APPROVAL, JOB_PENDING, reason);
	free(reason);
	return rc;
}

/* 1 when the actor may decide j; 0 with cause (may be NULL) saying why not. */
static int engine_may_decide(struct engine *e, const struct job *j, char **cause)
{
	const struct policy *p = e->policy;
	int own = j->owner_uid >= 0 ? j->owner_uid == (int64_t)e->actor.uid
	                            : j->owner != NULL && strcmp(j->owner, e->actor.name) == 0;

	if (p == NULL) {
		/* no policy: this gantry's own user decides (embedded stores are per user) */
		if (e->actor.uid == e->self.uid)
			return 1;
		if (cause != NULL)
			xcause(cause,
			       "%s may not decide approvals: there is no policy, only %s may",
			       e->actor.name, e->self.name);
		return 0;
	}
	if (!policy_is_approver(p, &e->actor)) {
		const char *role = policy_role(p, &e->actor);

		if (cause != NULL)
			xcause(
			    cause,
			    "%s may not decide approvals: role %s is not an approver (policy %s)",
			    e->actor.name, role != NULL ? role : "(none)", policy_path(p));
		return 0;
	}
	if (own && !policy_is_admin(p, &e->actor)) {
		if (cause != NULL)
			xcause(cause,
			       "%s may not decide his own launch %s: another approver must (or an "
			       "admin)",
			       e->actor.name, j->name);
		return 0;
	}
	return 1;
}

/* The job behind ref, waiting for approval, that the actor may decide. */
static int engine_approval_find(struct engine *e, const char *ref, const char *verb, struct job *j,
                                char **cause)
{
	if (e->opts.readonly)
		return xcause(cause, "read-only mode: %s is disabled", verb);
	if (store_job_find(e->store, ref, j, cause) != 0)
		return -1;
	if (j->state != JOB_PENDING_APPROVAL) {
		xcause(cause, "job %s is not waiting for approval (%s%s%s)", j->name,
		       job_state_name(j->state), j->decided_by != NULL ? ", decided by " : "",
		       j->decided_by != NULL ? j->decided_by : "");
		return -1;
	}
	if (!engine_may_decide(e, j, cause))
		return -1;
	return 0;
}

int engine_approvals(struct engine *e, struct job_list *out, char **cause)
{
	size_t k = 0;

	if (engine_is_remote(e))
		return engine_remote_approvals(e, out, cause);
	memset(out, 0, sizeof *out);
	if (store_jobs_list(e->store, 1, out, cause) != 0)
		return -1;
	for (size_t i = 0; i < out->n; i++) {
		if (out->items[i].state == JOB_PENDING_APPROVAL &&
		    engine_may_decide(e, &out->items[i], NULL))
			out->items[k++] = out->items[i];
		else
			job_clear(&out->items[i]);
	}
	out->n = k;
	return 0;
}

/* The owner's identity while the approved launch is planned and admitted again (policy and
 * budgets are the owner's); 0 when *saved holds the actor to put back. */
static int engine_approval_as_owner(struct engine *e, const struct job *j, struct ident *saved)
{
	struct passwd *pw;
	struct ident owner;
	char *cause = NULL;

	if (j->owner_uid < 0 || (uid_t)j->owner_uid == e->actor.uid)
		return -1;
	pw = getpwuid((uid_t)j->owner_uid);
	if (pw == NULL || ident_of((uid_t)j->owner_uid, pw->pw_gid, 0, &owner, &cause) != 0) {
		free(cause);
		return -1;
	}
	ident_copy(saved, &e->actor);
	engine_set_actor(e, &owner);
	ident_clear(&owner);
	return 0;
}

int engine_approve(struct engine *e, const char *job_ref, const char *reason, engine_result_cb cb,
                   void *arg, char **cause)
{
	struct engine_launch_req req;
	struct ident saved;
	struct job j, a;
	json_t *root = NULL;
	const char **sets = NULL;
	char *id = NULL, *err = NULL, *approver;
	int rc, swapped;

	if (engine_is_remote(e))
		return engine_remote_approve(e, job_ref, reason, cb, arg, cause);
	job_init(&j);
	if (engine_approval_find(e, job_ref, "approving", &j, cause) != 0) {
		job_clear(&j);
		return -1;
	}
	if (engine_approval_request_parse(j.request_json, &req, &sets, &root, cause) != 0) {
		json_decref(root);
		free(sets);
		job_clear(&j);
		return -1;
	}
	approver = xstrdup(e->actor.name);
	job_init(&a);
	job_copy(&a, &j);
	engine_approval_swap(&a.approval, "approved");
	engine_approval_swap(&a.decided_by, approver);
	engine_approval_swap(&a.decision_reason, reason != NULL && *reason != '\0' ? reason : NULL);
	swapped = engine_approval_as_owner(e, &j, &saved) == 0;
	rc = engine_launch_run(e, &req, &a, &id, cb, arg, &err);
	if (swapped) {
		engine_set_actor(e, &saved);
		ident_clear(&saved);
	}
	if (id != NULL) {
		/* decided (the launch itself may have failed since: the job says so) */
		engine_audit(e, "approve", j.id, "ok", reason, NULL);
	} else {
		char *why =
		    xprintf("still waiting for approval: %s", err != NULL ? err : "refused");

		engine_audit(e, "approve", j.id, "refused", why, NULL);
		xcause(cause, "%s", why);
		free(why);
	}
	if (rc != 0 && id != NULL)
		xcause(cause, "%s", err != NULL ? err : "launch failed");
	free(err);
	free(id);
	free(approver);
	json_decref(root);
	free(sets);
	job_clear(&a);
	job_clear(&j);
	return rc == 0 ? 0 : -1;
}

int engine_deny(struct engine *e, const char *job_ref, const char *reason, char **cause)
{
	struct job j;
	char *words;
	int rc;

	if (engine_is_remote(e))
		return engine_remote_deny(e, job_ref, reason, cause);
	if (reason == NULL || reason[strspn(reason, " \t")] == '\0')
		return xcause(cause,
		              "a denial needs a reason (--reason TEXT): the requester sees it");
	job_init(&j);
	if (engine_approval_find(e, job_ref, "denying", &j, cause) != 0) {
		job_clear(&j);
		return -1;
	}
	words = engine_approval_words("denied", e->actor.name, reason);
	rc = store_approval_deny(e->store, j.id, e->actor.name, reason, words, loop_wall_ms(),
	                         cause);
	if (rc == 0) {
		engine_emit_state(e, j.id, JOB_PENDING_APPROVAL, JOB_STOPPED, words);
		engine_audit(e, "deny", j.id, "ok", reason, NULL);
	}
	free(words);
	job_clear(&j);
	return rc;
}
