/* test_store_approval.c: a launch waiting for approval is a job row with no intent; the
 * approval and the denial each change it in one transaction and only while it waits
 * (core/store_approval.c, issue 12). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/store.h"
#include "core/xmalloc.h"

static char dir[256];

static struct store *open_ok(const char *path)
{
	struct store *s = NULL;
	char *cause = NULL;

	if (store_open(path, &s, &cause) != 0)
		fail_msg("store_open: %s", cause);
	return s;
}

static int64_t count(struct store *s, const char *sql, const char *id)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t intents(struct store *s, const char *id)
{
	return count(s, "SELECT count(*) FROM intents WHERE job_id = ?1", id);
}

static void waiting(struct job *j, const char *id, const char *name)
{
	job_init(j);
	j->id = xstrdup(id);
	j->name = xstrdup(name);
	j->kind = JOB_KIND_TRAINING;
	j->state = JOB_PENDING_APPROVAL;
	j->template_name = xstrdup("big");
	j->provider = xstrdup("local");
	j->owner = xstrdup("alice");
	j->owner_uid = 1003;
	j->idem_key = xprintf("gantry-%s", id);
	j->approval = xstrdup("pending");
	j->reason = xstrdup("waiting for approval: too big");
	j->request_json = xstrdup("{\"template\":\"big\",\"sets\":[]}");
	j->created_ms = 1000;
}

/* Waits with no intent and one event; approved: PENDING, the approval columns, the new
 * offer and one intent; a second approval or a denial afterwards is refused. */
static void test_wait_approve(void **state)
{
	char *path = xprintf("%s/a.db", dir), *cause = NULL;
	struct store *s = open_ok(path);
	struct job j, got;
	struct job_event_list ev = {0};

	(void)state;
	waiting(&j, "j1", "big-1");
	assert_int_equal(store_approval_wait(s, &j, &cause), 0);
	assert_int_equal(intents(s, "j1"), 0);
	job_init(&got);
	assert_int_equal(store_job_get(s, "j1", &got, &cause), 0);
	assert_int_equal(got.state, JOB_PENDING_APPROVAL);
	assert_string_equal(got.approval, "pending");
	assert_string_equal(got.reason, "waiting for approval: too big");
	assert_string_equal(got.request_json, "{\"template\":\"big\",\"sets\":[]}");
	assert_null(got.decided_by);
	assert_int_equal(store_job_events(s, "j1", &ev, &cause), 0);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.items[0].to, JOB_PENDING_APPROVAL);
	assert_string_equal(ev.items[0].reason, "waiting for approval: too big");
	job_event_list_free(&ev);
	job_clear(&got);
	/* the name is taken, as for any launch */
	{
		struct job k;

		waiting(&k, "j2", "big-1");
		assert_int_equal(store_approval_wait(s, &k, &cause), -1);
		assert_non_null(strstr(cause, "already exists"));
		free(cause);
		cause = NULL;
		job_clear(&k);
		assert_int_equal(count(s, "SELECT count(*) FROM jobs WHERE id = ?1", "j2"), 0);
	}

	free(j.decided_by);
	j.decided_by = xstrdup("carol");
	j.decision_reason = xstrdup("fits the plan");
	j.priced = 1;
	j.price_per_hour = 30.5;
	j.gpus = 2;
	free(j.provider);
	j.provider = xstrdup("fleet");
	assert_int_equal(
	    store_approval_launch(s, &j, "approved by carol: fits the plan", 2000, &cause), 0);
	assert_int_equal(intents(s, "j1"), 1);
	job_init(&got);
	assert_int_equal(store_job_get(s, "j1", &got, &cause), 0);
	assert_int_equal(got.state, JOB_PENDING);
	assert_string_equal(got.approval, "approved");
	assert_string_equal(got.decided_by, "carol");
	assert_string_equal(got.decision_reason, "fits the plan");
	assert_string_equal(got.reason, "approved by carol: fits the plan");
	assert_string_equal(got.provider, "fleet");
	assert_true(got.priced);
	assert_true(got.price_per_hour > 30.4 && got.price_per_hour < 30.6);
	assert_int_equal(got.gpus, 2);
	assert_string_equal(got.owner, "alice");
	job_clear(&got);
	/* decided once */
	assert_int_equal(store_approval_launch(s, &j, "again", 3000, &cause), -1);
	assert_non_null(strstr(cause, "no longer waiting"));
	free(cause);
	cause = NULL;
	assert_int_equal(intents(s, "j1"), 1);
	assert_int_equal(
	    store_approval_deny(s, "j1", "bob", "no", "denied by bob: no", 3000, &cause), -1);
	free(cause);
	job_clear(&j);
	store_close(s);
	free(path);
}

/* Denied: STOPPED with the reason, no intent; not approvable afterwards. */
static void test_deny(void **state)
{
	char *path = xprintf("%s/d.db", dir), *cause = NULL;
	struct store *s = open_ok(path);
	struct job j, got;

	(void)state;
	waiting(&j, "j3", "big-3");
	assert_int_equal(store_approval_wait(s, &j, &cause), 0);
	assert_int_equal(store_approval_deny(s, "j3", "carol", "too big",
	                                     "denied by carol: too big", 2000, &cause),
	                 0);
	job_init(&got);
	assert_int_equal(store_job_get(s, "j3", &got, &cause), 0);
	assert_int_equal(got.state, JOB_STOPPED);
	assert_string_equal(got.approval, "denied");
	assert_string_equal(got.decided_by, "carol");
	assert_string_equal(got.decision_reason, "too big");
	assert_string_equal(got.reason, "denied by carol: too big");
	assert_true(got.ended_ms > 0);
	job_clear(&got);
	assert_int_equal(intents(s, "j3"), 0);
	assert_int_equal(store_approval_launch(s, &j, "approved", 3000, &cause), -1);
	free(cause);
	cause = NULL;
	job_init(&got);
	assert_int_equal(store_job_get(s, "j3", &got, &cause), 0);
	assert_int_equal(got.state, JOB_STOPPED);
	assert_string_equal(got.approval, "denied");
	job_clear(&got);
	/* a job that never waited cannot be stored as waiting through this door */
	{
		struct job k;

		waiting(&k, "j4", "big-4");
		k.state = JOB_PENDING;
		assert_int_equal(store_approval_wait(s, &k, &cause), -1);
		free(cause);
		job_clear(&k);
	}
	job_clear(&j);
	store_close(s);
	free(path);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wait_approve),
	    cmocka_unit_test(test_deny),
	};
	int rc;

	snprintf(dir, sizeof dir, "%s/gantry-approval-XXXXXX",
	         tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc == 0) {
		char *cmd = xprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			rc = 1;
		free(cmd);
	}
	return rc;
}
