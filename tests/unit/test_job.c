/* test_job.c: the job state machine against the transition table, names, ids, copies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"

/* The legal transitions, written out independently of job.c. */
static int expected_legal(enum job_state from, enum job_state to)
{
	static const struct {
		enum job_state from;
		enum job_state to[6];
		int n;
	} table[] = {
	    {JOB_PENDING, {JOB_PROVISIONING, JOB_FAILED, JOB_STOPPING, JOB_STOPPED}, 4},
	    {JOB_PROVISIONING,
	     {JOB_STARTING, JOB_RUNNING, JOB_FAILED, JOB_STOPPING, JOB_UNKNOWN},
	     5},
	    {JOB_STARTING, {JOB_RUNNING, JOB_SUCCEEDED, JOB_FAILED, JOB_STOPPING, JOB_UNKNOWN}, 5},
	    {JOB_RUNNING, {JOB_SUCCEEDED, JOB_FAILED, JOB_STOPPING, JOB_PREEMPTED, JOB_UNKNOWN}, 5},
	    {JOB_STOPPING, {JOB_STOPPED, JOB_FAILED, JOB_UNKNOWN}, 3},
	    {JOB_PREEMPTED, {JOB_RECOVERING, JOB_FAILED, JOB_STOPPING, JOB_STOPPED}, 4},
	    {JOB_RECOVERING, {JOB_RUNNING, JOB_FAILED, JOB_STOPPING, JOB_UNKNOWN}, 4},
	    {JOB_UNKNOWN,
	     {JOB_STARTING, JOB_RUNNING, JOB_SUCCEEDED, JOB_FAILED, JOB_STOPPING, JOB_STOPPED},
	     6},
	    {JOB_PENDING_APPROVAL, {JOB_PENDING, JOB_STOPPED, JOB_FAILED}, 3},
	};

	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
		if (table[i].from != from)
			continue;
		for (int k = 0; k < table[i].n; k++) {
			if (table[i].to[k] == to)
				return 1;
		}
	}
	return 0;
}

static void test_every_pair(void **state)
{
	int legal = 0;

	(void)state;
	for (int f = 0; f < JOB_STATE_COUNT; f++) {
		for (int t = 0; t < JOB_STATE_COUNT; t++) {
			int want = expected_legal((enum job_state)f, (enum job_state)t);
			int got = job_transition_valid((enum job_state)f, (enum job_state)t);

			if (want != got)
				fail_msg("%s -> %s: expected %s", job_state_name((enum job_state)f),
				         job_state_name((enum job_state)t),
				         want ? "legal" : "illegal");
			legal += got;
		}
	}
	assert_int_equal(legal, 4 + 5 + 5 + 5 + 3 + 4 + 4 + 6 + 3);
}

static void test_terminal_go_nowhere(void **state)
{
	(void)state;
	for (int f = 0; f < JOB_STATE_COUNT; f++) {
		int terminal = f == JOB_SUCCEEDED || f == JOB_FAILED || f == JOB_STOPPED;

		assert_int_equal(job_state_terminal((enum job_state)f), terminal);
		assert_int_equal(job_state_active((enum job_state)f), !terminal);
		assert_false(job_transition_valid((enum job_state)f, (enum job_state)f));
		if (!terminal)
			continue;
		for (int t = 0; t < JOB_STATE_COUNT; t++)
			assert_false(job_transition_valid((enum job_state)f, (enum job_state)t));
	}
	assert_false(job_transition_valid(JOB_STATE_COUNT, JOB_RUNNING));
	assert_false(job_transition_valid(JOB_RUNNING, JOB_STATE_COUNT));
	assert_false(job_transition_valid((enum job_state) - 1, JOB_RUNNING));
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(job_state_name(JOB_PENDING), "PENDING");
	assert_string_equal(job_state_name(JOB_UNKNOWN), "UNKNOWN");
	for (int i = 0; i < JOB_STATE_COUNT; i++) {
		const char *name = job_state_name((enum job_state)i);
		char lower[32];
		size_t k;

		assert_non_null(name);
		for (k = 0; name[k] != '\0' && k < sizeof lower - 1; k++) {
			assert_true(isupper((unsigned char)name[k]) || name[k] == '_');
			lower[k] = (char)tolower((unsigned char)name[k]);
		}
		lower[k] = '\0';
		assert_int_equal(job_state_parse(name), i);
		assert_int_equal(job_state_parse(lower), i);
	}
	assert_int_equal(job_state_parse("Running"), JOB_RUNNING);
	assert_int_equal(job_state_parse("RUN"), -1);
	assert_int_equal(job_state_parse(""), -1);
	assert_int_equal(job_state_parse(NULL), -1);
	assert_string_equal(job_state_name(JOB_STATE_COUNT), "?");
}

static void test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(job_kind_name(JOB_KIND_NOTEBOOK), "notebook");
	assert_string_equal(job_kind_name(JOB_KIND_TRAINING), "training");
	assert_string_equal(job_kind_name(JOB_KIND_ENDPOINT), "endpoint");
	for (int i = 0; i < JOB_KIND_COUNT; i++)
		assert_int_equal(job_kind_parse(job_kind_name((enum job_kind)i)), i);
	assert_int_equal(job_kind_parse("NoteBook"), JOB_KIND_NOTEBOOK);
	assert_int_equal(job_kind_parse("service"), -1);
	assert_int_equal(job_kind_parse(NULL), -1);
}

/* 64 random bits: "j" + 16 hex digits, and every one of the 16 digits varies (an id of
 * 32 random bits padded to 16 digits would keep half of them fixed). */
static void test_new_id(void **state)
{
	enum { N = 256 };
	char *ids[N];
	unsigned seen[16] = {0}; /* per digit position: bit set of the hex values seen */

	(void)state;
	for (int i = 0; i < N; i++) {
		ids[i] = job_new_id();
		assert_int_equal(strlen(ids[i]), 17);
		assert_int_equal(ids[i][0], 'j');
		for (int k = 1; k < 17; k++) {
			const char *d = strchr("0123456789abcdef", ids[i][k]);

			assert_non_null(d);
			seen[k - 1] |= 1u << (d - "0123456789abcdef");
		}
		assert_true(job_id_like(ids[i]));
		for (int k = 0; k < i; k++)
			assert_string_not_equal(ids[i], ids[k]);
	}
	/* 256 draws of a uniform digit miss one of its 16 values with probability < 1e-6 */
	for (int k = 0; k < 16; k++)
		assert_true(__builtin_popcount(seen[k]) >= 8);
	for (int i = 0; i < N; i++)
		free(ids[i]);
}

/* What may not be a job name: anything that reads as an id or an id prefix. */
static void test_id_like(void **state)
{
	char buf[32];

	(void)state;
	assert_true(job_id_like("j0123"));             /* the shortest prefix */
	assert_true(job_id_like("jdeadbeef"));         /* an id of an older store */
	assert_true(job_id_like("j0123456789abcdef")); /* a full id */
	assert_true(job_id_like("jface"));
	assert_false(job_id_like("j012")); /* too short to be looked up as a prefix */
	assert_false(job_id_like("jade"));
	assert_false(job_id_like("jupyter"));
	assert_false(job_id_like("j0123-x"));
	assert_false(job_id_like("J0123"));
	assert_false(job_id_like("train-mnist-3"));
	assert_false(job_id_like(""));
	assert_false(job_id_like(NULL));
	/* shown abbreviated: "j" + 8 digits; older ids are exactly that long */
	job_id_short("j0123456789abcdef", buf, sizeof buf);
	assert_string_equal(buf, "j01234567");
	job_id_short("jdeadbeef", buf, sizeof buf);
	assert_string_equal(buf, "jdeadbeef");
	job_id_short("j12", buf, sizeof buf);
	assert_string_equal(buf, "j12");
}

static void test_copy_and_lists(void **state)
{
	struct job a, b;
	struct job_list l;
	struct job_event_list el;

	(void)state;
	job_init(&a);
	assert_int_equal(a.state, JOB_PENDING);
	assert_null(a.id);
	a.id = strdup("j00000001");
	a.name = strdup("train-1");
	a.params_json = strdup("{}");
	a.gpus = 8;
	a.created_ms = 1234;
	job_copy(&b, &a);
	assert_string_equal(b.id, "j00000001");
	assert_ptr_not_equal(b.id, a.id);
	assert_string_equal(b.params_json, "{}");
	assert_null(b.url);
	assert_int_equal(b.gpus, 8);
	assert_int_equal(b.created_ms, 1234);
	job_clear(&a);
	assert_null(a.id);
	job_clear(&a);

	l.items = calloc(2, sizeof *l.items);
	l.n = 2;
	l.items[0] = b;
	job_init(&l.items[1]);
	l.items[1].name = strdup("x");
	job_list_free(&l);
	assert_null(l.items);
	assert_int_equal(l.n, 0);

	el.items = calloc(1, sizeof *el.items);
	el.n = 1;
	el.items[0].job_id = strdup("j1");
	el.items[0].reason = strdup("because");
	job_event_list_free(&el);
	assert_int_equal(el.n, 0);
}

/* The reason next to a state in `gantry ls` and the Jobs view: only why an active job is
 * not running. */
/* "RUNNING 2/4": an active endpoint with desired replicas; the bare state otherwise. */
static void test_state_label(void **state)
{
	struct job j;
	char buf[32];

	(void)state;
	job_init(&j);
	j.kind = JOB_KIND_ENDPOINT;
	j.state = JOB_RUNNING;
	j.ready_replicas = 2;
	j.desired_replicas = 4;
	assert_int_equal(job_state_label(&j, buf, sizeof buf), 11);
	assert_string_equal(buf, "RUNNING 2/4");
	j.state = JOB_STARTING;
	j.ready_replicas = 0;
	j.desired_replicas = 1;
	job_state_label(&j, buf, sizeof buf);
	assert_string_equal(buf, "STARTING 0/1");
	j.desired_replicas = 0; /* not reported */
	job_state_label(&j, buf, sizeof buf);
	assert_string_equal(buf, "STARTING");
	j.desired_replicas = 3;
	j.state = JOB_STOPPED; /* ended: the last count means nothing now */
	job_state_label(&j, buf, sizeof buf);
	assert_string_equal(buf, "STOPPED");
	j.state = JOB_RUNNING;
	j.kind = JOB_KIND_TRAINING; /* one process per node, no replicas */
	job_state_label(&j, buf, sizeof buf);
	assert_string_equal(buf, "RUNNING");
	assert_int_equal(job_replicas_shown(&j), 0);
}

static void test_reason_shown(void **state)
{
	struct job j;

	(void)state;
	job_init(&j);
	assert_int_equal(job_reason_shown(&j), 0); /* no reason */
	j.state = JOB_STARTING;
	j.reason = "pending: Resources";
	assert_int_equal(job_reason_shown(&j), 1);
	j.reason = "started by the provider";
	assert_int_equal(job_reason_shown(&j), 0);
	j.reason = "Starting";
	assert_int_equal(job_reason_shown(&j), 0); /* the state's own name */
	j.reason = "slurmrestd unreachable";
	j.state = JOB_UNKNOWN;
	assert_int_equal(job_reason_shown(&j), 1);
	j.state = JOB_RECOVERING;
	assert_int_equal(job_reason_shown(&j), 1);
	j.state = JOB_RUNNING;
	assert_int_equal(job_reason_shown(&j), 0);
	j.state = JOB_FAILED;
	assert_int_equal(job_reason_shown(&j), 0);
	j.reason = "";
	j.state = JOB_STARTING;
	assert_int_equal(job_reason_shown(&j), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_pair),     cmocka_unit_test(test_terminal_go_nowhere),
	    cmocka_unit_test(test_state_names),    cmocka_unit_test(test_kind_names),
	    cmocka_unit_test(test_new_id),         cmocka_unit_test(test_id_like),
	    cmocka_unit_test(test_copy_and_lists), cmocka_unit_test(test_reason_shown),
	    cmocka_unit_test(test_state_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
