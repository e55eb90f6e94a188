/* engine_audit.c: the engine's audit log (issue 12) on core/audit.c: entries for the actor,
 * who may read them, who may verify the chain. Auditing never fails the action it records: a
 * store error becomes a message. Every text goes through the redaction of the secrets the
 * engine's and the providers' HTTP handles know (http_redact) before it is stored, so a
 * token that slipped into a reason never lands in the log. */
#include "core/engine.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/audit.h"
#include "core/engine_audit.h"
#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/http.h"
#include "core/policy.h"
#include "core/xmalloc.h"

/* s with every secret the engine's and the providers' HTTP handles know replaced. */
static char *engine_audit_clean(struct engine *e, const char *s)
{
	char *out;

	if (s == NULL)
		return NULL;
	out = http_redact(e->http, s);
	for (size_t i = 0; i < e->nprovs; i++) {
		char *r;

		if (e->provs[i].http == NULL)
			continue;
		r = http_redact(e->provs[i].http, out);
		free(out);
		out = r;
	}
	return out;
}

void engine_audit(struct engine *e, const char *action, const char *target, const char *verdict,
                  const char *reason, const char *detail_json)
{
	const struct ident *who;
	struct audit_entry a = {0};
	char *cause = NULL;

	/* a client's actions are audited by gantryd, which runs them */
	if (engine_is_remote(e) || e->store == NULL || e->opts.readonly || action == NULL ||
	    verdict == NULL)
		return;
	who = engine_actor(e);
	a.uid = (int64_t)who->uid;
	a.actor = xstrdup(who->name != NULL ? who->name : "?");
	a.action = xstrdup(action);
	a.target = engine_audit_clean(e, target);
	a.verdict = xstrdup(verdict);
	a.reason = engine_audit_clean(e, reason);
	a.detail = engine_audit_clean(e, detail_json);
	if (audit_append(e->store, &a, &cause) != 0) {
		char *msg = xprintf("audit log: cannot record %s: %s", action,
		                    cause != NULL ? cause : "unknown error");
		struct engine_event ev = {.type = ENGINE_EV_MESSAGE, .message = msg};

		engine_emit(e, &ev);
		free(msg);
		free(cause);
	}
	free(a.actor);
	free(a.action);
	free(a.target);
	free(a.verdict);
	free(a.reason);
	free(a.detail);
	free(a.prev_hash);
	free(a.hash);
}

/* Reads the whole log: admins; without a policy, the store's owner in embedded mode and the
 * service account (or root) in gantryd. */
static int engine_audit_reads_all(struct engine *e)
{
	const struct policy *p = engine_policy(e, NULL);
	const struct ident *who = engine_actor(e);

	if (p != NULL)
		return policy_is_admin(p, who);
	if (!e->opts.serving)
		return who->uid == e->self.uid;
	return who->uid == 0 || who->uid == e->self.uid;
}

int engine_audit_list(struct engine *e, int64_t since_ms, struct audit_entry **out, size_t *n,
                      char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_audit_list(e, since_ms, out, n, cause);
	int64_t uid = (int64_t)engine_actor(e)->uid;
	size_t kept = 0;

	*out = NULL;
	*n = 0;
	if (audit_list(e->store, since_ms, out, n, cause) != 0)
		return -1;
	if (engine_audit_reads_all(e))
		return 0;
	for (size_t i = 0; i < *n; i++) {
		if ((*out)[i].uid == uid) {
			struct audit_entry keep = (*out)[i];

			(*out)[i] = (*out)[kept];
			(*out)[kept++] = keep;
		}
	}
	/* the others' entries now sit past kept: free them */
	for (size_t i = kept; i < *n; i++) {
		struct audit_entry *x = &(*out)[i];

		free(x->actor);
		free(x->action);
		free(x->target);
		free(x->verdict);
		free(x->reason);
		free(x->detail);
		free(x->prev_hash);
		free(x->hash);
	}
	*n = kept;
	return 0;
}

int engine_audit_verify(struct engine *e, size_t *checked, int64_t *bad_seq, char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_audit_verify(e, checked, bad_seq, cause);
	*checked = 0;
	*bad_seq = 0;
	if (e->opts.serving && !engine_audit_reads_all(e))
		return xcause(cause, "only an admin may verify the audit log");
	return audit_verify(e->store, checked, bad_seq, cause);
}

static void engine_audit_set_str(json_t *o, const char *k, const char *v)
{
	if (v != NULL && *v != '\0')
		json_object_set_new(o, k, json_string(v));
}

static void engine_audit_with(struct engine *e, const char *action, const char *target,
                              const char *verdict, const char *reason, json_t *o)
{
	char *detail = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	engine_audit(e, action, target, verdict, reason, detail);
	free(detail);
	json_decref(o);
}

void engine_audit_launch(struct engine *e, const struct engine_plan *plan, const char *job_id,
                         const char *name, const char *verdict, const char *reason)
{
	json_t *o = json_object();

	engine_audit_set_str(o, "name", name);
	engine_audit_set_str(o, "template", plan->template_name);
	engine_audit_set_str(o, "provider", plan->provider);
	engine_audit_set_str(o, "region", plan->region);
	engine_audit_set_str(o, "instance_type", plan->instance_type);
	json_object_set_new(o, "gpus", json_integer(plan->gpus));
	if (plan->accels != NULL && strcmp(plan->accels, "-") != 0)
		engine_audit_set_str(o, "accels", plan->accels);
	if (plan->offer.priced)
		json_object_set_new(o, "price_per_hour", json_real(plan->offer.price_per_hour));
	if (plan->spot)
		json_object_set_new(o, "spot", json_true());
	if (plan->max_runtime_s > 0)
		json_object_set_new(o, "max_runtime_s", json_integer(plan->max_runtime_s));
	engine_audit_with(e, "launch", job_id != NULL ? job_id : plan->template_name, verdict,
	                  reason, o);
}

void engine_audit_job(struct engine *e, const char *action, const struct job *j,
                      const char *verdict, const char *reason, const char *extra_json)
{
	json_t *o = json_object();
	json_t *extra = extra_json != NULL ? json_loads(extra_json, 0, NULL) : NULL;

	engine_audit_set_str(o, "name", j->name);
	engine_audit_set_str(o, "template", j->template_name);
	engine_audit_set_str(o, "provider", j->provider);
	engine_audit_set_str(o, "region", j->region);
	if (json_is_object(extra))
		json_object_update(o, extra);
	json_decref(extra);
	engine_audit_with(e, action, j->id, verdict, reason, o);
}

static int engine_audit_budget_same(const struct config_budget *a, const struct config_budget *b)
{
	return strcmp(a->scope != NULL ? a->scope : "", b->scope != NULL ? b->scope : "") == 0 &&
	       strcmp(a->name != NULL ? a->name : "", b->name != NULL ? b->name : "") == 0 &&
	       a->monthly == b->monthly && a->soft == b->soft && a->hard == b->hard &&
	       a->stop == b->stop && a->grace_s == b->grace_s;
}

static json_t *engine_audit_budget_list(const struct config *c)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->nbudgets; i++) {
		const struct config_budget *b = &c->budgets[i];

		json_array_append_new(a, json_pack("{s:s, s:s, s:f, s:f, s:f, s:b, s:i}", "scope",
		                                   b->scope != NULL ? b->scope : "", "name",
		                                   b->name != NULL ? b->name : "", "monthly",
		                                   b->monthly, "soft", b->soft, "hard", b->hard,
		                                   "stop", b->stop, "grace_s", b->grace_s));
	}
	return a;
}

void engine_audit_budgets(struct engine *e, const struct config *before, const struct config *after)
{
	int same = before->nbudgets == after->nbudgets;
	json_t *o;

	for (size_t i = 0; same && i < after->nbudgets; i++)
		same = engine_audit_budget_same(&before->budgets[i], &after->budgets[i]);
	if (same)
		return;
	o = json_pack("{s:o, s:o}", "before", engine_audit_budget_list(before), "budgets",
	              engine_audit_budget_list(after));
	engine_audit_with(e, "budget_change", after->config_file, "ok",
	                  "the budgets of config.yaml changed", o);
}

void engine_audit_session(struct engine *e, const struct job *j, int worker, const char *verdict,
                          char **cause)
{
	char extra[64];

	snprintf(extra, sizeof extra, "{\"worker\": %d}", worker);
	engine_audit_job(e, "ssh", j, verdict, cause != NULL ? *cause : NULL, extra);
}

void engine_audit_forward(struct engine *e, const struct job *j, int remote_port, int local_port,
                          const char *bind_addr, int rc, char **cause)
{
	json_t *o = json_pack("{s:i, s:i}", "remote_port", remote_port, "local_port", local_port);
	char *extra;

	engine_audit_set_str(o, "bind", bind_addr);
	extra = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	engine_audit_job(e, "forward", j, rc == 0 ? "ok" : "failed",
	                 rc != 0 && cause != NULL ? *cause : NULL, extra);
	free(extra);
}
