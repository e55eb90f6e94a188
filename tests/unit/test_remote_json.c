/* test_remote_json.c: gantryd's JSON (core/engine_remote_json.c): every struct goes to JSON
 * and back unchanged, through the text on the wire; bad input is refused with a cause. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/engine_remote.h"
#include "core/xmalloc.h"

/* Through the wire: dumped to one line and parsed again. */
static json_t *wire(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_t *back;

	assert_non_null(s);
	assert_null(strchr(s, '\n'));
	back = json_loads(s, 0, NULL);
	assert_non_null(back);
	free(s);
	json_decref(o);
	return back;
}

static void assert_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void fill_job(struct job *j)
{
	job_init(j);
	j->id = xstrdup("j0123456789abcdef");
	j->name = xstrdup("train-1");
	j->kind = JOB_KIND_ENDPOINT;
	j->state = JOB_PENDING_APPROVAL;
	j->template_name = xstrdup("llm-serve");
	j->provider = xstrdup("fleet");
	j->owner = xstrdup("alice");
	j->idem_key = xstrdup("k1");
	j->params_json = xstrdup("{\"gpus\":\"2\"}");
	j->spec_json = xstrdup("{\"script\":\"echo \\\"hi\\\"\\n\"}");
	j->provider_ref = NULL;
	j->reason = xstrdup("waits for approval: $32.00/h");
	j->url = xstrdup("http://127.0.0.1:8888/");
	j->port = 8888;
	j->has_exit = 1;
	j->exit_code = -9;
	j->gpus = 2;
	j->created_ms = 1764979200123;
	j->updated_ms = 1764979200456;
	j->started_ms = 0;
	j->ended_ms = 1764979300000;
	j->priced = 1;
	j->price_per_hour = 32.25;
	j->billing_s = 60;
	j->team = xstrdup("ml");
	j->project = NULL;
	j->region = xstrdup("eu-west-1");
	j->ready_replicas = 1;
	j->desired_replicas = 3;
	j->owner_uid = 1001;
	j->approval = xstrdup("pending");
	j->decided_by = NULL;
	j->decision_reason = xstrdup("too big");
	j->request_json = xstrdup("{\"template\":\"llm-serve\"}");
}

static void assert_job_eq(const struct job *a, const struct job *b)
{
	assert_str_eq(a->id, b->id);
	assert_str_eq(a->name, b->name);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->state, b->state);
	assert_str_eq(a->template_name, b->template_name);
	assert_str_eq(a->provider, b->provider);
	assert_str_eq(a->owner, b->owner);
	assert_str_eq(a->idem_key, b->idem_key);
	assert_str_eq(a->params_json, b->params_json);
	assert_str_eq(a->spec_json, b->spec_json);
	assert_str_eq(a->provider_ref, b->provider_ref);
	assert_str_eq(a->reason, b->reason);
	assert_str_eq(a->url, b->url);
	assert_int_equal(a->port, b->port);
	assert_int_equal(a->has_exit, b->has_exit);
	assert_int_equal(a->exit_code, b->exit_code);
	assert_int_equal(a->gpus, b->gpus);
	assert_int_equal(a->created_ms, b->created_ms);
	assert_int_equal(a->updated_ms, b->updated_ms);
	assert_int_equal(a->started_ms, b->started_ms);
	assert_int_equal(a->ended_ms, b->ended_ms);
	assert_int_equal(a->priced, b->priced);
	assert_true(a->price_per_hour == b->price_per_hour);
	assert_int_equal(a->billing_s, b->billing_s);
	assert_str_eq(a->team, b->team);
	assert_str_eq(a->project, b->project);
	assert_str_eq(a->region, b->region);
	assert_int_equal(a->ready_replicas, b->ready_replicas);
	assert_int_equal(a->desired_replicas, b->desired_replicas);
	assert_int_equal(a->owner_uid, b->owner_uid);
	assert_str_eq(a->approval, b->approval);
	assert_str_eq(a->decided_by, b->decided_by);
	assert_str_eq(a->decision_reason, b->decision_reason);
	assert_str_eq(a->request_json, b->request_json);
}

static void test_job_round_trip(void **state)
{
	struct job j, back;
	char *cause = NULL;
	json_t *o;

	(void)state;
	fill_job(&j);
	o = wire(engine_json_job(&j));
	/* by name, null for NULL */
	assert_string_equal(json_string_value(json_object_get(o, "state")), "PENDING_APPROVAL");
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "endpoint");
	assert_true(json_is_null(json_object_get(o, "provider_ref")));
	assert_int_equal(engine_json_to_job(o, &back, &cause), 0);
	assert_job_eq(&j, &back);
	json_decref(o);
	job_clear(&back);

	/* every state survives */
	for (int s = 0; s < JOB_STATE_COUNT; s++) {
		j.state = (enum job_state)s;
		o = wire(engine_json_job(&j));
		assert_int_equal(engine_json_to_job(o, &back, &cause), 0);
		assert_int_equal(back.state, s);
		json_decref(o);
		job_clear(&back);
	}
	job_clear(&j);
}

static void test_job_list(void **state)
{
	struct job_list l = {0}, back;
	char *cause = NULL;
	json_t *a;

	(void)state;
	l.items = xcalloc(2, sizeof *l.items);
	l.n = 2;
	fill_job(&l.items[0]);
	fill_job(&l.items[1]);
	free(l.items[1].id);
	l.items[1].id = xstrdup("j00000000000000aa");
	a = wire(engine_json_jobs(&l));
	assert_int_equal(engine_json_to_jobs(a, &back, &cause), 0);
	assert_int_equal(back.n, 2);
	assert_job_eq(&l.items[0], &back.items[0]);
	assert_job_eq(&l.items[1], &back.items[1]);
	json_decref(a);
	job_list_free(&back);
	job_list_free(&l);
}

static void test_job_bad(void **state)
{
	struct job back;
	struct job_list list;
	char *cause = NULL;
	json_t *o;

	(void)state;
	o = json_pack("{s:s, s:s}", "id", "j1234", "state", "DANCING");
	assert_int_equal(engine_json_to_job(o, &back, &cause), -1);
	assert_non_null(strstr(cause, "DANCING"));
	free(cause);
	cause = NULL;
	json_decref(o);
	o = json_pack("{s:s, s:i}", "id", "j1234", "name", 7);
	assert_int_equal(engine_json_to_job(o, &back, &cause), -1);
	assert_non_null(strstr(cause, "name"));
	free(cause);
	cause = NULL;
	json_decref(o);
	o = json_pack("{s:s}", "name", "x");
	assert_int_equal(engine_json_to_job(o, &back, &cause), -1);
	free(cause);
	cause = NULL;
	json_decref(o);
	o = json_pack("[]");
	assert_int_equal(engine_json_to_job(o, &back, &cause), -1);
	free(cause);
	cause = NULL;
	json_decref(o);
	o = json_pack("{s:[]}", "jobs");
	assert_int_equal(engine_json_to_jobs(o, &list, &cause), -1);
	assert_null(list.items);
	json_decref(o);
	free(cause);
	/* a missing owner_uid is unknown (-1), not root */
	o = json_pack("{s:s}", "id", "j1234");
	assert_int_equal(engine_json_to_job(o, &back, NULL), 0);
	assert_int_equal(back.owner_uid, -1);
	job_clear(&back);
	json_decref(o);
}

static void test_job_not_utf8(void **state)
{
	struct job j, back;
	json_t *o;

	(void)state;
	job_init(&j);
	j.id = xstrdup("j0123456789abcdef");
	j.reason = xstrdup("bad \xff\xfe bytes");
	o = engine_json_job(&j);
	assert_non_null(o);
	o = wire(o);
	assert_int_equal(engine_json_to_job(o, &back, NULL), 0);
	assert_string_equal(back.reason, "bad ?? bytes");
	json_decref(o);
	job_clear(&back);
	job_clear(&j);
}

static void test_job_events(void **state)
{
	struct job_event_list l, back;
	char *cause = NULL;
	json_t *a;

	(void)state;
	l.n = 2;
	l.items = xcalloc(2, sizeof *l.items);
	l.items[0] = (struct job_event){7,           xstrdup("j1"),    1764979200000,
	                                JOB_PENDING, JOB_PROVISIONING, xstrdup("launching")};
	l.items[1] =
	    (struct job_event){8, xstrdup("j1"), 1764979200500, JOB_RUNNING, JOB_STOPPING, NULL};
	a = wire(engine_json_job_events(&l));
	assert_int_equal(engine_json_to_job_events(a, &back, &cause), 0);
	assert_int_equal(back.n, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(back.items[i].id, l.items[i].id);
		assert_str_eq(back.items[i].job_id, l.items[i].job_id);
		assert_int_equal(back.items[i].at_ms, l.items[i].at_ms);
		assert_int_equal(back.items[i].from, l.items[i].from);
		assert_int_equal(back.items[i].to, l.items[i].to);
		assert_str_eq(back.items[i].reason, l.items[i].reason);
	}
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "to")),
	                    "PROVISIONING");
	json_decref(a);
	job_event_list_free(&back);
	job_event_list_free(&l);
}

static void test_engine_event(void **state)
{
	struct engine_event ev = {
	    ENGINE_EV_JOB_STATE, "j1", JOB_RUNNING, JOB_STOPPING, "stop", NULL, NULL};
	struct engine_event back;
	json_t *o;

	(void)state;
	o = wire(engine_json_event(&ev));
	assert_int_equal(engine_json_to_event(o, &back), 0);
	assert_int_equal(back.type, ENGINE_EV_JOB_STATE);
	assert_string_equal(back.job_id, "j1");
	assert_int_equal(back.from, JOB_RUNNING);
	assert_int_equal(back.to, JOB_STOPPING);
	assert_string_equal(back.reason, "stop");
	assert_null(back.message);
	json_decref(o);

	ev = (struct engine_event){ENGINE_EV_MESSAGE, NULL, 0, 0, NULL, NULL, "policy reloaded"};
	o = wire(engine_json_event(&ev));
	assert_string_equal(json_string_value(json_object_get(o, "event")), "message");
	assert_int_equal(engine_json_to_event(o, &back), 0);
	assert_int_equal(back.type, ENGINE_EV_MESSAGE);
	assert_string_equal(back.message, "policy reloaded");
	json_decref(o);

	o = json_pack("{s:s}", "event", "earthquake");
	assert_int_equal(engine_json_to_event(o, &back), -1);
	json_decref(o);
	o = json_pack("{s:s, s:s}", "event", "job_state", "job_id", "j1");
	assert_int_equal(engine_json_to_event(o, &back), -1); /* no from/to */
	json_decref(o);
}

static void test_launch_req(void **state)
{
	const char *sets[] = {"gpus=2", "lr=0.1=x"};
	struct engine_launch_req req = {"train", sets, 2, "fleet", "my-run", 3600};
	struct engine_json_req back;
	char *cause = NULL;
	json_t *o;

	(void)state;
	o = wire(engine_json_launch_req(&req));
	assert_int_equal(engine_json_to_launch_req(o, &back, &cause), 0);
	assert_string_equal(back.req.template_name, "train");
	assert_int_equal(back.req.nsets, 2);
	assert_string_equal(back.req.sets[0], "gpus=2");
	assert_string_equal(back.req.sets[1], "lr=0.1=x");
	assert_string_equal(back.req.provider, "fleet");
	assert_string_equal(back.req.name, "my-run");
	assert_int_equal(back.req.max_runtime_s, 3600);
	json_decref(o);
	engine_json_req_clear(&back);

	/* absent = NULL/0 */
	req = (struct engine_launch_req){"nb", NULL, 0, NULL, NULL, 0};
	o = wire(engine_json_launch_req(&req));
	assert_null(json_object_get(o, "provider"));
	assert_int_equal(engine_json_to_launch_req(o, &back, &cause), 0);
	assert_null(back.req.provider);
	assert_null(back.req.name);
	assert_int_equal(back.req.nsets, 0);
	assert_int_equal(back.req.max_runtime_s, 0);
	json_decref(o);
	engine_json_req_clear(&back);

	o = json_pack("{s:s, s:[i]}", "template", "nb", "sets", 3);
	assert_int_equal(engine_json_to_launch_req(o, &back, &cause), -1);
	assert_non_null(strstr(cause, "sets"));
	free(cause);
	cause = NULL;
	json_decref(o);
	o = json_pack("{s:[]}", "sets");
	assert_int_equal(engine_json_to_launch_req(o, &back, &cause), -1);
	assert_non_null(strstr(cause, "template"));
	free(cause);
	json_decref(o);
}

static void plan_fill(struct engine_plan *p)
{
	memset(p, 0, sizeof *p);
	p->template_name = xstrdup("train");
	p->provider = xstrdup("lambda");
	kvlist_init(&p->params);
	kvlist_set(&p->params, "gpus", "8");
	kvlist_set(&p->params, "data", "s3://x");
	p->script = xstrdup("#!/bin/sh\necho hi\n");
	kvlist_init(&p->env);
	kvlist_set(&p->env, "GANTRY_JOB", "1");
	p->want_port = 1;
	p->gpus = 8;
	p->accels = xstrdup("H100:8");
	p->max_runtime_s = 7200;
	p->region = xstrdup("eu-west-1");
	p->instance_type = xstrdup("gpu_8x_h100");
	p->spot = 1;
	p->billing_s = 60;
	p->note = NULL;
	p->offer.provider = xstrdup("lambda");
	p->offer.description = xstrdup("8x H100");
	p->offer.fits = 1;
	p->offer.cpus = 208;
	p->offer.memory_mib = 1843200;
	p->offer.gpus = 8;
	p->offer.gpu_name = xstrdup("H100");
	p->offer.priced = 1;
	p->offer.price_per_hour = 23.92;
}

static void test_plan(void **state)
{
	struct engine_plan p, back;
	struct engine_json_req req;
	char *cause = NULL;
	json_t *o;

	(void)state;
	plan_fill(&p);
	o = wire(engine_json_plan(&p));
	assert_int_equal(engine_json_to_plan(o, &back, &cause), 0);
	assert_string_equal(back.template_name, "train");
	assert_string_equal(back.provider, "lambda");
	assert_int_equal(back.params.n, 2);
	assert_string_equal(kvlist_get(&back.params, "gpus"), "8");
	assert_string_equal(kvlist_get(&back.params, "data"), "s3://x");
	assert_string_equal(back.script, p.script);
	assert_string_equal(kvlist_get(&back.env, "GANTRY_JOB"), "1");
	assert_int_equal(back.want_port, 1);
	assert_int_equal(back.gpus, 8);
	assert_string_equal(back.accels, "H100:8");
	assert_int_equal(back.max_runtime_s, 7200);
	assert_string_equal(back.region, "eu-west-1");
	assert_string_equal(back.instance_type, "gpu_8x_h100");
	assert_int_equal(back.spot, 1);
	assert_int_equal(back.billing_s, 60);
	assert_null(back.note);
	assert_string_equal(back.offer.provider, "lambda");
	assert_string_equal(back.offer.description, "8x H100");
	assert_int_equal(back.offer.fits, 1);
	assert_int_equal(back.offer.cpus, 208);
	assert_int_equal(back.offer.memory_mib, 1843200);
	assert_int_equal(back.offer.gpus, 8);
	assert_string_equal(back.offer.gpu_name, "H100");
	assert_int_equal(back.offer.priced, 1);
	assert_true(back.offer.price_per_hour == 23.92);
	assert_null(back.offer.reason);
	/* the offer carries the place too, as the protocol lists it */
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(o, "offer"), "region")), "eu-west-1");
	json_decref(o);
	engine_json_plan_clear(&back);

	/* the plan sent back as a LAUNCH_REQ */
	o = wire(engine_json_plan_req(&p));
	assert_int_equal(engine_json_to_launch_req(o, &req, &cause), 0);
	assert_string_equal(req.req.template_name, "train");
	assert_string_equal(req.req.provider, "lambda");
	assert_int_equal(req.req.nsets, 2);
	assert_string_equal(req.req.sets[0], "gpus=8");
	assert_string_equal(req.req.sets[1], "data=s3://x");
	assert_int_equal(req.req.max_runtime_s, 7200);
	engine_json_req_clear(&req);
	json_decref(o);
	engine_json_plan_clear(&p);

	o = json_pack("{s:{s:i}}", "params", "gpus", 8);
	assert_int_equal(engine_json_to_plan(o, &back, &cause), -1);
	assert_non_null(strstr(cause, "params.gpus"));
	free(cause);
	json_decref(o);
}

static void test_admission(void **state)
{
	struct engine_admission a = {ENGINE_REFUSE_POLICY,
	                             "roles.ml.regions: region us-east-1 is not in [eu-*]",
	                             COST_SOFT,
	                             "team ml at 85%",
	                             47.5,
	                             2.0,
	                             1,
	                             "$32.00/h is above $20.00/h",
	                             "roles.ml.regions"};
	struct engine_admission back;
	char *cause = NULL;
	json_t *o;

	(void)state;
	o = wire(engine_json_admission(&a));
	assert_string_equal(json_string_value(json_object_get(o, "refusal")), "policy");
	assert_string_equal(json_string_value(json_object_get(o, "budget")), "soft");
	assert_int_equal(engine_json_to_admission(o, &back, &cause), 0);
	assert_int_equal(back.refusal, ENGINE_REFUSE_POLICY);
	assert_string_equal(back.reason, a.reason);
	assert_int_equal(back.budget, COST_SOFT);
	assert_string_equal(back.budget_reason, a.budget_reason);
	assert_true(back.expected_cost == 47.5);
	assert_true(back.expected_hours == 2.0);
	assert_int_equal(back.needs_approval, 1);
	assert_string_equal(back.approval_reason, a.approval_reason);
	assert_string_equal(back.policy_rule, a.policy_rule);
	json_decref(o);
	free(back.reason);
	free(back.budget_reason);
	free(back.approval_reason);
	free(back.policy_rule);

	for (int r = ENGINE_ADMIT_OK; r <= ENGINE_REFUSE_POLICY; r++) {
		struct engine_admission x = {0};

		x.refusal = (enum engine_refusal)r;
		x.budget = COST_HARD;
		o = wire(engine_json_admission(&x));
		assert_int_equal(engine_json_to_admission(o, &back, &cause), 0);
		assert_int_equal(back.refusal, r);
		assert_int_equal(back.budget, COST_HARD);
		assert_null(back.reason);
		json_decref(o);
	}
	o = json_pack("{s:s}", "refusal", "whim");
	assert_int_equal(engine_json_to_admission(o, &back, &cause), -1);
	assert_non_null(strstr(cause, "whim"));
	free(cause);
	json_decref(o);
}

static void test_verdict(void **state)
{
	struct policy_hit hits[2] = {
	    {"roles.ml.providers", "/etc/gantry/policy.yaml:4:5", "provider lambda is allowed", 1},
	    {"roles.ml.regions", "/etc/gantry/policy.yaml:6:5", "region us-east-1 is not in [eu-*]",
	     0}};
	struct policy_verdict v = {0, 0, "ml", "refused: region", "roles.ml.regions", hits, 2};
	struct policy_verdict back;
	char *cause = NULL;
	json_t *o;

	(void)state;
	o = wire(engine_json_verdict(&v));
	assert_int_equal(engine_json_to_verdict(o, &back, &cause), 0);
	assert_int_equal(back.allowed, 0);
	assert_int_equal(back.needs_approval, 0);
	assert_string_equal(back.role, "ml");
	assert_string_equal(back.reason, "refused: region");
	assert_string_equal(back.rule, "roles.ml.regions");
	assert_int_equal(back.nhits, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(back.hits[i].rule, hits[i].rule);
		assert_string_equal(back.hits[i].where, hits[i].where);
		assert_string_equal(back.hits[i].text, hits[i].text);
		assert_int_equal(back.hits[i].allow, hits[i].allow);
	}
	json_decref(o);
	free(back.role);
	free(back.reason);
	free(back.rule);
	for (size_t i = 0; i < back.nhits; i++) {
		free(back.hits[i].rule);
		free(back.hits[i].where);
		free(back.hits[i].text);
	}
	free(back.hits);

	o = json_pack("{s:b, s:[{s:i}]}", "allowed", 1, "hits", "rule", 3);
	assert_int_equal(engine_json_to_verdict(o, &back, &cause), -1);
	assert_non_null(strstr(cause, "rule"));
	free(cause);
	json_decref(o);
}

static void test_audit_entry(void **state)
{
	struct audit_entry a = {42,
	                        1764979200000,
	                        1001,
	                        "alice",
	                        "launch",
	                        "j0123456789abcdef",
	                        "allowed",
	                        NULL,
	                        "{\"template\":\"train\",\"price\":23.92}",
	                        "0000000000000000000000000000000000000000000000000000000000000000",
	                        "1111111111111111111111111111111111111111111111111111111111111111"};
	struct audit_entry back;
	char *cause = NULL;
	json_t *o;

	(void)state;
	o = wire(engine_json_audit_entry(&a));
	assert_int_equal(engine_json_to_audit_entry(o, &back, &cause), 0);
	assert_int_equal(back.seq, 42);
	assert_int_equal(back.at_ms, a.at_ms);
	assert_int_equal(back.uid, 1001);
	assert_string_equal(back.actor, "alice");
	assert_string_equal(back.action, "launch");
	assert_string_equal(back.target, a.target);
	assert_string_equal(back.verdict, "allowed");
	assert_null(back.reason);
	assert_string_equal(back.detail, a.detail);
	assert_string_equal(back.prev_hash, a.prev_hash);
	assert_string_equal(back.hash, a.hash);
	engine_json_audit_entry_clear(&back);
	json_decref(o);

	o = json_pack("{s:s}", "seq", "one");
	assert_int_equal(engine_json_to_audit_entry(o, &back, &cause), -1);
	assert_non_null(strstr(cause, "seq"));
	free(cause);
	json_decref(o);
}

static void test_provider_info(void **state)
{
	struct engine_provider_info p = {"fleet", "ssh", 0, "host gpu1 unreachable"};
	struct engine_provider_info back;
	json_t *o;

	(void)state;
	o = wire(engine_json_provider_info(&p));
	assert_int_equal(engine_json_to_provider_info(o, &back, NULL), 0);
	assert_string_equal(back.name, "fleet");
	assert_string_equal(back.type, "ssh");
	assert_int_equal(back.healthy, 0);
	assert_string_equal(back.message, "host gpu1 unreachable");
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_job_round_trip), cmocka_unit_test(test_job_list),
	    cmocka_unit_test(test_job_bad),        cmocka_unit_test(test_job_not_utf8),
	    cmocka_unit_test(test_job_events),     cmocka_unit_test(test_engine_event),
	    cmocka_unit_test(test_launch_req),     cmocka_unit_test(test_plan),
	    cmocka_unit_test(test_admission),      cmocka_unit_test(test_verdict),
	    cmocka_unit_test(test_audit_entry),    cmocka_unit_test(test_provider_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
