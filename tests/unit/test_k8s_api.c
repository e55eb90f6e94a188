/* test_k8s_api.c: the Kubernetes API as Gantry reads and writes it (providers/k8s_api*.c,
 * k8s_kubeconfig.c, k8s_prom.c): answers in the API reference's documented shapes
 * (tests/data/k8s/: a PodList with malformed items, a pending Unschedulable pod,
 * ImagePullBackOff, OOMKilled, Jobs Complete / Failed DeadlineExceeded /
 * BackoffLimitExceeded, a Deployment and its HPA, Status errors, a watch stream with a
 * bookmark and a 410 ERROR, nodes, a DCGM exporter's text), the state mapping users see,
 * kubeconfig files good and bad with their exact FILE:LINE:COL, ExecCredential answers,
 * and every body Gantry posts parsed back with jansson and checked field by field.
 *
 * Checked by hand against the fake of this issue (tests/fakes/k8s_fake.py, 2026-12-05, a
 * throwaway driver outside the tree): every body (Pod, notebook Service, Job with 2 and 3
 * indexed pods and its headless Service, Deployment, HPA) passes the fake's strict decoding
 * and validation (k8s_schema.decode/validate) and was created; the indexed Job's pods
 * printed rank=0..2 ws=3 ma=NAME-0.NAME mp=29500 from the env and the RANK export; the
 * fake's lists (pods, jobs, deployments, HPA, nodes, services, a page with continue), a
 * watch stream with a 410 ERROR after a compaction, 409 AlreadyExists and 401 Status
 * bodies, the rig's three kubeconfigs (token, client certificate, exec plugin) and its
 * DCGM text all parse, with the states and reasons these tests expect (Unschedulable with
 * the scheduler's message, ErrImagePull, a Complete Job, index labels). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/xmalloc.h"
#include "providers/k8s_api.h"

/* A file of tests/data/k8s/ (GANTRY_TESTDATA is set by make check; its absence fails). */
static char *slurp(const char *name, size_t *len)
{
	const char *dir = getenv("GANTRY_TESTDATA");
	char *path, *buf;
	FILE *f;
	long n;

	assert_non_null(dir);
	path = xprintf("%s/k8s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	free(path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char *p = xprintf("%s/%s", dir, name);
	FILE *f;

	unlink(p);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

static int one_line(const char *s)
{
	return s != NULL && strchr(s, '\n') == NULL && strchr(s, '\033') == NULL;
}

/* ---- labels, names, paths ---- */

static void test_labels(void **state)
{
	char *s;

	(void)state;
	s = k8s_api_label_value("alice");
	assert_string_equal(s, "alice");
	free(s);
	s = k8s_api_label_value("Jean Dupont@corp");
	assert_string_equal(s, "Jean_Dupont_corp");
	free(s);
	s = k8s_api_label_value("--_x y.-");
	assert_string_equal(s, "x_y");
	free(s);
	s = k8s_api_label_value("");
	assert_string_equal(s, "");
	free(s);
	s = k8s_api_label_value(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbb");
	assert_int_equal(strlen(s), 62); /* cut at 63, then the trailing '-' goes */
	free(s);
	s = k8s_api_selector("inst-42", NULL);
	assert_string_equal(
	    s, "app.kubernetes.io%2Fmanaged-by%3Dgantry%2Cgantry.dev%2Finstallation%3Dinst-42");
	free(s);
	s = k8s_api_selector(NULL, NULL);
	assert_string_equal(s, "app.kubernetes.io%2Fmanaged-by%3Dgantry");
	free(s);
	s = k8s_api_selector("i1", "j00000000000000a1");
	assert_string_equal(s, "app.kubernetes.io%2Fmanaged-by%3Dgantry%2Cgantry.dev%2F"
	                       "installation%3Di1%2Cgantry.dev%2Fjob%3Dj00000000000000a1");
	free(s);
}

static void test_names(void **state)
{
	char *s;

	(void)state;
	s = k8s_api_object_name("j0123456789abcdef", 1);
	assert_string_equal(s, "gantry-j0123456789abcdef-1");
	free(s);
	s = k8s_api_object_name("J_ABC", 12);
	assert_string_equal(s, "gantry-j-abc-12");
	free(s);
	s = k8s_api_object_name(
	    "jxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 3);
	assert_true(strlen(s) <= 63);
	assert_string_equal(s + strlen(s) - 2, "-3");
	free(s);
}

static void test_paths(void **state)
{
	char *s;

	(void)state;
	s = k8s_api_path(K8S_POD, "team-vision", NULL, NULL);
	assert_string_equal(s, "/api/v1/namespaces/team-vision/pods");
	free(s);
	s = k8s_api_path(K8S_JOB, "ml", "gantry-j1-1", NULL);
	assert_string_equal(s, "/apis/batch/v1/namespaces/ml/jobs/gantry-j1-1");
	free(s);
	s = k8s_api_path(K8S_POD, "ml", "p.x-1", "log");
	assert_string_equal(s, "/api/v1/namespaces/ml/pods/p.x-1/log");
	free(s);
	s = k8s_api_path(K8S_DEPLOYMENT, "ml", "d", "status");
	assert_string_equal(s, "/apis/apps/v1/namespaces/ml/deployments/d/status");
	free(s);
	s = k8s_api_path(K8S_HPA, "ml", "h", NULL);
	assert_string_equal(s, "/apis/autoscaling/v2/namespaces/ml/horizontalpodautoscalers/h");
	free(s);
	s = k8s_api_path(K8S_SERVICE, "ml", NULL, NULL);
	assert_string_equal(s, "/api/v1/namespaces/ml/services");
	free(s);
	s = k8s_api_path(K8S_NODE, "ignored", NULL, NULL);
	assert_string_equal(s, "/api/v1/nodes");
	free(s);
	assert_null(k8s_api_path(K8S_POD, "ML", NULL, NULL));
	assert_null(k8s_api_path(K8S_POD, "a/b", NULL, NULL));
	assert_null(k8s_api_path(K8S_POD, NULL, NULL, NULL));
	assert_null(k8s_api_path(K8S_POD, "ml", "../x", NULL));
	assert_null(k8s_api_path(K8S_POD, "ml", "x?y", NULL));
	assert_null(k8s_api_path(K8S_POD, "ml", "x", "log?follow"));
	assert_null(k8s_api_path(K8S_POD, "ml", NULL, "log"));
	assert_string_equal(k8s_kind_resource(K8S_HPA), "horizontalpodautoscalers");
	assert_string_equal(k8s_kind_name(K8S_HPA), "HorizontalPodAutoscaler");
	assert_string_equal(k8s_kind_api_version(K8S_HPA), "autoscaling/v2");
	assert_string_equal(k8s_kind_api_version(K8S_JOB), "batch/v1");
	assert_string_equal(k8s_kind_api_version(K8S_DEPLOYMENT), "apps/v1");
	assert_string_equal(k8s_kind_api_version(K8S_POD), "v1");
}

static void test_quantities(void **state)
{
	double d;
	char *s;

	(void)state;
	assert_int_equal(k8s_quantity_parse("500m", &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(k8s_quantity_parse("2", &d), 0);
	assert_true(d == 2);
	assert_int_equal(k8s_quantity_parse("16Gi", &d), 0);
	assert_true(d == 17179869184.0);
	assert_int_equal(k8s_quantity_parse("1047124096Ki", &d), 0);
	assert_true(d == 1047124096.0 * 1024);
	assert_int_equal(k8s_quantity_parse("1e3", &d), 0);
	assert_true(d == 1000);
	assert_int_equal(k8s_quantity_parse("1.5k", &d), 0);
	assert_true(d == 1500);
	assert_int_equal(k8s_quantity_parse("2E", &d), 0); /* exa, not an exponent */
	assert_true(d == 2e18);
	assert_int_equal(k8s_quantity_parse("95500m", &d), 0);
	assert_true(d == 95.5);
	assert_int_equal(k8s_quantity_parse("", &d), -1);
	assert_int_equal(k8s_quantity_parse("Gi", &d), -1);
	assert_int_equal(k8s_quantity_parse("5 Gi", &d), -1);
	assert_int_equal(k8s_quantity_parse("5GB", &d), -1);
	assert_int_equal(k8s_quantity_parse("1e999", &d), -1);
	assert_int_equal(k8s_quantity_parse(NULL, &d), -1);
	s = k8s_quantity_format(2);
	assert_string_equal(s, "2");
	free(s);
	s = k8s_quantity_format(2.5);
	assert_string_equal(s, "2500m");
	free(s);
	s = k8s_quantity_format(0.1);
	assert_string_equal(s, "100m");
	free(s);
	s = k8s_quantity_format(-3);
	assert_string_equal(s, "0");
	free(s);
}

/* ---- errors ---- */

static void check_error(const char *file, long status, enum k8s_err want, const char *msg)
{
	size_t len;
	char *body = slurp(file, &len), *s;
	enum k8s_err cls = K8S_ERR_OTHER;

	s = k8s_api_error(status, body, len, NULL, &cls);
	if (strcmp(s, msg) != 0)
		fail_msg("%s: got '%s'", file, s);
	assert_int_equal(cls, want);
	free(s);
	free(body);
}

static void test_errors(void **state)
{
	enum k8s_err cls;
	char *s;

	(void)state;
	check_error("status-403-quota.json", 403, K8S_ERR_QUOTA,
	            "pods \"gantry-j00000000000000a1-1\" is forbidden: exceeded quota: gpu-quota, "
	            "requested: requests.nvidia.com/gpu=2, used: requests.nvidia.com/gpu=8, "
	            "limited: requests.nvidia.com/gpu=8 (403 Forbidden)");
	check_error("status-403-rbac.json", 403, K8S_ERR_AUTH,
	            "pods is forbidden: User \"system:serviceaccount:ml:gantry\" cannot create "
	            "resource \"pods\" in API group \"\" in the namespace \"team-vision\" (403 "
	            "Forbidden)");
	check_error("status-409-exists.json", 409, K8S_ERR_EXISTS,
	            "jobs.batch \"gantry-j00000000000000d1-1\" already exists (409 Conflict)");
	check_error("status-410.json", 410, K8S_ERR_GONE,
	            "The resourceVersion for the provided list is too old. (410 Gone)");
	check_error("status-422.json", 422, K8S_ERR_INVALID,
	            "Pod \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a "
	            "lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
	            "characters, '-' or '.' (422 Unprocessable Entity)");
	s = k8s_api_error(502, "<html>bad gateway</html>", 24, NULL, &cls);
	assert_string_equal(s, "HTTP 502 Bad Gateway from the API server");
	assert_int_equal(cls, K8S_ERR_TRANSIENT);
	free(s);
	s = k8s_api_error(429, "", 0, NULL, &cls);
	assert_int_equal(cls, K8S_ERR_TRANSIENT);
	free(s);
	s = k8s_api_error(409,
	                  "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"the "
	                  "object has been modified\"}",
	                  72, NULL, &cls);
	assert_int_equal(cls, K8S_ERR_CONFLICT);
	free(s);
	s = k8s_api_error(401, "{\"kind\":\"Status\",\"message\":\"Unauthorized\",\"code\":401}",
	                  53, NULL, &cls);
	assert_string_equal(s, "Unauthorized (401 Unauthorized)");
	assert_int_equal(cls, K8S_ERR_AUTH);
	free(s);
	s = k8s_api_error(404, NULL, 0, NULL, &cls);
	assert_int_equal(cls, K8S_ERR_NOTFOUND);
	free(s);
	s = k8s_api_error(0, NULL, 0, "Couldn't connect to server", &cls);
	assert_string_equal(s, "no answer: Couldn't connect to server");
	assert_int_equal(cls, K8S_ERR_TRANSIENT);
	free(s);
	/* remote text: sanitised, one line, cut short */
	{
		char body[2000];

		snprintf(body, sizeof body,
		         "{\"kind\":\"Status\",\"message\":\"evil\\u001b[2J\\nline two %0900d\"}",
		         7);
		s = k8s_api_error(500, body, strlen(body), NULL, &cls);
		assert_true(one_line(s));
		assert_true(strlen(s) < 300);
		assert_non_null(strstr(s, "evil"));
		assert_int_equal(cls, K8S_ERR_TRANSIENT);
		free(s);
	}
	assert_string_equal(k8s_err_name(K8S_ERR_QUOTA), "quota");
	assert_string_equal(k8s_err_name(K8S_ERR_NOTFOUND), "not-found");
	assert_string_equal(k8s_err_name(K8S_ERR_TRANSIENT), "transient");
}

/* ---- the watch stream ---- */

struct lines_rec {
	char *lines[16];
	size_t n;
	int fail_at;
};

static int lines_cb(void *arg, const char *line, size_t len)
{
	struct lines_rec *r = arg;

	if ((int)r->n == r->fail_at)
		return -1;
	assert_true(r->n < 16);
	r->lines[r->n++] = xstrndup(line, len);
	return 0;
}

static void lines_free(struct lines_rec *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->lines[i]);
	r->n = 0;
}

static void test_lines(void **state)
{
	struct k8s_lines lb = {0};
	struct lines_rec r = {.fail_at = -1};
	size_t len;
	char *text = slurp("watch-pods.jsonl", &len);

	(void)state;
	/* byte by byte: the same five lines as in one piece */
	for (size_t i = 0; i < len; i++)
		assert_int_equal(k8s_lines_feed(&lb, text + i, 1, lines_cb, &r), 0);
	assert_int_equal(r.n, 5);
	assert_int_equal(lb.len, 0);
	assert_memory_equal(r.lines[0], text, strlen(r.lines[0]));
	lines_free(&r);
	assert_int_equal(k8s_lines_feed(&lb, text, len, lines_cb, &r), 0);
	assert_int_equal(r.n, 5);
	lines_free(&r);
	/* partial lines kept, CRLF and blank keep-alive lines */
	assert_int_equal(k8s_lines_feed(&lb, "ab", 2, lines_cb, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(k8s_lines_feed(&lb, "c\r\n\n\nde", 7, lines_cb, &r), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.lines[0], "abc");
	assert_int_equal(k8s_lines_feed(&lb, "f\n", 2, lines_cb, &r), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.lines[1], "def");
	lines_free(&r);
	/* a line over max_line */
	lb.max_line = 8;
	assert_int_equal(k8s_lines_feed(&lb, "12345", 5, lines_cb, &r), 0);
	assert_int_equal(k8s_lines_feed(&lb, "6789", 4, lines_cb, &r), -1);
	k8s_lines_clear(&lb);
	lb.max_line = 8;
	assert_int_equal(k8s_lines_feed(&lb, "123456789\n", 10, lines_cb, &r), -1);
	k8s_lines_clear(&lb);
	/* the callback stops the feed */
	r.fail_at = 1;
	assert_int_equal(k8s_lines_feed(&lb, "a\nb\nc\n", 6, lines_cb, &r), -1);
	assert_int_equal(r.n, 1);
	lines_free(&r);
	k8s_lines_clear(&lb);
	free(text);
}

static void test_events(void **state)
{
	size_t len;
	char *text = slurp("watch-pods.jsonl", &len), *line, *save = NULL, *cause = NULL;
	struct k8s_event ev;
	int i = 0;

	(void)state;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(k8s_api_parse_event(K8S_POD, line, strlen(line), &ev, &cause), 0);
		switch (i++) {
		case 0:
			assert_int_equal(ev.type, K8S_EV_ADDED);
			assert_string_equal(ev.obj.name, "gantry-j00000000000000a1-1");
			assert_string_equal(ev.obj.phase, "Pending");
			assert_string_equal(ev.obj.resource_version, "100");
			assert_string_equal(kvlist_get(&ev.obj.labels, "gantry.dev/job"),
			                    "j00000000000000a1");
			break;
		case 1:
			assert_int_equal(ev.type, K8S_EV_MODIFIED);
			assert_string_equal(ev.obj.phase, "Running");
			assert_string_equal(ev.obj.node_name, "node-h100");
			assert_true(ev.obj.ready);
			break;
		case 2:
			assert_int_equal(ev.type, K8S_EV_BOOKMARK);
			assert_string_equal(ev.obj.resource_version, "150");
			assert_null(ev.obj.name);
			break;
		case 3:
			assert_int_equal(ev.type, K8S_EV_DELETED);
			assert_string_equal(ev.obj.resource_version, "160");
			assert_true(ev.obj.deleted_ms > 0);
			break;
		case 4:
			assert_int_equal(ev.type, K8S_EV_ERROR);
			assert_int_equal(ev.error_code, 410);
			assert_string_equal(ev.error_message,
			                    "too old resource version: 100 (150)");
			break;
		}
		k8s_event_clear(&ev);
	}
	assert_int_equal(i, 5);
	free(text);
	/* broken lines */
	assert_int_equal(k8s_api_parse_event(K8S_POD, "{\"type\":", 8, &ev, &cause), -1);
	assert_true(one_line(cause));
	free(cause);
	cause = NULL;
	line = "{\"type\":\"SURPRISE\",\"object\":{}}";
	assert_int_equal(k8s_api_parse_event(K8S_POD, line, strlen(line), &ev, &cause), -1);
	assert_non_null(strstr(cause, "SURPRISE"));
	free(cause);
	cause = NULL;
	line = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Job\",\"metadata\":{\"name\":\"x\"}}}";
	assert_int_equal(k8s_api_parse_event(K8S_POD, line, strlen(line), &ev, &cause), -1);
	free(cause);
	cause = NULL;
	line = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}";
	assert_int_equal(k8s_api_parse_event(K8S_POD, line, strlen(line), &ev, &cause), -1);
	free(cause);
	cause = NULL;
	line = "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9 x\"}}}";
	assert_int_equal(k8s_api_parse_event(K8S_POD, line, strlen(line), &ev, &cause), -1);
	assert_string_equal(cause, "a BOOKMARK event without a usable resourceVersion");
	free(cause);
	cause = NULL;
	line = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"p\","
	       "\"resourceVersion\":\"9#\"}}}";
	assert_int_equal(k8s_api_parse_event(K8S_POD, line, strlen(line), &ev, &cause), -1);
	free(cause);
	cause = NULL;
	/* an ERROR without a code but reason Expired is a 410 too */
	line = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"reason\":\"Expired\"}}";
	assert_int_equal(k8s_api_parse_event(K8S_POD, line, strlen(line), &ev, &cause), 0);
	assert_int_equal(ev.error_code, 410);
	k8s_event_clear(&ev);
}

/* ---- lists and objects ---- */

static void test_parse_pods(void **state)
{
	size_t len;
	char *text = slurp("pods-list.json", &len), *cause = NULL;
	struct k8s_list l;
	const struct k8s_obj *p;

	(void)state;
	assert_int_equal(k8s_api_parse_list(K8S_POD, text, len, &l, &cause), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.skipped, 2);
	assert_string_equal(l.resource_version, "48213");
	assert_null(l.cont);
	p = &l.items[0];
	assert_int_equal(p->kind, K8S_POD);
	assert_string_equal(p->name, "gantry-j00000000000000a1-1");
	assert_string_equal(p->namespace, "team-vision");
	assert_string_equal(p->uid, "6f0a3a4e-1b2c-4d5e-8f90-0123456789ab");
	assert_string_equal(p->resource_version, "48190");
	assert_string_equal(kvlist_get(&p->labels, "gantry.dev/team"), "vision");
	assert_string_equal(kvlist_get(&p->annotations, "kubernetes.io/psp"), "restricted");
	assert_true(p->created_ms == 1764928800000LL + 365LL * 86400000); /* 2026-12-05T10:00Z */
	assert_int_equal(p->deleted_ms, 0);
	assert_string_equal(p->phase, "Running");
	assert_true(p->ready);
	assert_string_equal(p->node_name, "node-h100");
	assert_string_equal(p->pod_ip, "10.244.1.17");
	assert_true(p->started_ms == p->created_ms + 1000);
	assert_int_equal(p->completion_index, -1);
	assert_int_equal(p->ncontainers, 1);
	assert_string_equal(p->containers[0].name, "main");
	assert_true(p->containers[0].ready);
	assert_true(p->containers[0].started_ms == p->created_ms + 5250);
	assert_false(p->containers[0].terminated);
	assert_null(p->containers[0].waiting_reason);
	assert_int_equal(p->pod_gpus, 2);
	assert_true(p->pod_cpus == 4);
	assert_int_equal(p->pod_memory_mib, 16384);
	assert_null(p->sched_reason);
	p = &l.items[1];
	assert_string_equal(p->phase, "Pending");
	assert_false(p->ready);
	assert_string_equal(p->sched_reason, "Unschedulable");
	assert_string_equal(
	    p->sched_message,
	    "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 "
	    "nodes are available: 3 No preemption victims found for incoming pod.");
	assert_int_equal(p->pod_gpus, 16);
	p = &l.items[2]; /* fields of the wrong type read as absent */
	assert_string_equal(p->name, "gantry-j00000000000000a3-1");
	assert_int_equal(p->labels.n, 0);
	assert_int_equal(p->created_ms, 0);
	assert_null(p->phase);
	assert_int_equal(p->ncontainers, 0);
	k8s_list_clear(&l);
	free(text);
	/* not a list at all / the wrong list */
	assert_int_equal(k8s_api_parse_list(K8S_POD, "[]", 2, &l, &cause), -1);
	assert_true(one_line(cause));
	free(cause);
	cause = NULL;
	text = slurp("nodes-list.json", &len);
	assert_int_equal(k8s_api_parse_list(K8S_POD, text, len, &l, &cause), -1);
	assert_non_null(strstr(cause, "NodeList"));
	free(cause);
	cause = NULL;
	free(text);
	assert_int_equal(
	    k8s_api_parse_list(K8S_POD, "{\"kind\":\"PodList\",\"items\":{}}", 29, &l, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(
	    k8s_api_parse_list(
	        K8S_POD,
	        "{\"kind\":\"PodList\",\"items\":null,"
	        "\"metadata\":{\"continue\":\"abc\"}}",
	        strlen("{\"kind\":\"PodList\",\"items\":null,\"metadata\":{\"continue\":\"abc\"}}"),
	        &l, &cause),
	    0);
	assert_int_equal(l.n, 0);
	assert_string_equal(l.cont, "abc");
	k8s_list_clear(&l);
	/* what goes back into a URL: names, namespaces, resourceVersions, continue tokens */
	text = "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"12\",\"continue\":"
	       "\"eyJydiI6MTJ9-_=\"},\"items\":[{\"metadata\":{\"name\":\"Upper\"}},"
	       "{\"metadata\":{\"name\":\"ok\",\"namespace\":\"a/b\"}},{\"metadata\":{\"name\":"
	       "\"ok\",\"resourceVersion\":\"1&watch=0\"}},{\"metadata\":{\"name\":\"x\\u001b\"}},"
	       "{\"metadata\":{\"name\":\"good.name-1\",\"namespace\":\"ns-1\",\"resourceVersion\":"
	       "\"77\"}}]}";
	assert_int_equal(k8s_api_parse_list(K8S_POD, text, strlen(text), &l, &cause), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.skipped, 4);
	assert_string_equal(l.items[0].name, "good.name-1");
	assert_string_equal(l.cont, "eyJydiI6MTJ9-_=");
	k8s_list_clear(&l);
	text = "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"12&x=1\"},\"items\":[]}";
	assert_int_equal(k8s_api_parse_list(K8S_POD, text, strlen(text), &l, &cause), -1);
	assert_string_equal(cause, "the PodList's resourceVersion or continue token has characters "
	                           "a URL cannot carry");
	free(cause);
	cause = NULL;
	text = "{\"kind\":\"PodList\",\"metadata\":{\"continue\":\"a+b/c\"},\"items\":[]}";
	assert_int_equal(k8s_api_parse_list(K8S_POD, text, strlen(text), &l, &cause), -1);
	free(cause);
}

static void test_parse_objs(void **state)
{
	size_t len;
	char *text, *cause = NULL;
	struct k8s_obj o;

	(void)state;
	text = slurp("pod-imagepullbackoff.json", &len);
	assert_int_equal(k8s_api_parse_obj(K8S_POD, text, len, &o, &cause), 0);
	assert_string_equal(o.containers[0].waiting_reason, "ImagePullBackOff");
	/* the escape sequence in the remote message is gone */
	assert_string_equal(o.containers[0].waiting_message,
	                    "Back-off pulling image \"gantry.test/pull-error:1\"");
	k8s_obj_clear(&o);
	assert_int_equal(k8s_api_parse_obj(K8S_JOB, text, len, &o, &cause), -1);
	assert_string_equal(cause, "the API server answered kind 'Pod', expected Job");
	free(cause);
	cause = NULL;
	free(text);

	text = slurp("pod-oomkilled.json", &len);
	assert_int_equal(k8s_api_parse_obj(K8S_POD, text, len, &o, &cause), 0);
	assert_int_equal(o.completion_index, 0);
	assert_true(o.containers[0].terminated);
	assert_int_equal(o.containers[0].exit_code, 137);
	assert_string_equal(o.containers[0].term_reason, "OOMKilled");
	assert_true(o.containers[0].finished_ms - o.containers[0].started_ms == 597000);
	k8s_obj_clear(&o);
	free(text);

	text = slurp("job-failed-deadline.json", &len);
	assert_int_equal(k8s_api_parse_obj(K8S_JOB, text, len, &o, &cause), 0);
	assert_true(o.failed_cond);
	assert_false(o.complete);
	assert_int_equal(o.failed, 1);
	assert_int_equal(o.spec_completions, 1);
	assert_string_equal(o.cond_reason, "DeadlineExceeded");
	assert_string_equal(o.cond_message, "Job was active longer than specified deadline");
	assert_true(o.completed_ms - o.started_ms == 3601000);
	k8s_obj_clear(&o);
	free(text);

	text = slurp("job-complete.json", &len);
	assert_int_equal(k8s_api_parse_obj(K8S_JOB, text, len, &o, &cause), 0);
	assert_true(o.complete);
	assert_int_equal(o.succeeded, 2);
	assert_int_equal(o.spec_completions, 2);
	assert_true(o.completed_ms - o.started_ms == 1200000);
	k8s_obj_clear(&o);
	free(text);

	text = slurp("deployment.json", &len);
	assert_int_equal(k8s_api_parse_obj(K8S_DEPLOYMENT, text, len, &o, &cause), 0);
	assert_int_equal(o.spec_replicas, 4);
	assert_int_equal(o.replicas, 4);
	assert_int_equal(o.ready_replicas, 2);
	assert_int_equal(o.available_replicas, 2);
	k8s_obj_clear(&o);
	free(text);

	text = slurp("hpa.json", &len);
	assert_int_equal(k8s_api_parse_obj(K8S_HPA, text, len, &o, &cause), 0);
	assert_int_equal(o.min_replicas, 1);
	assert_int_equal(o.max_replicas, 8);
	assert_int_equal(o.current_replicas, 4);
	assert_int_equal(o.desired_replicas, 6);
	k8s_obj_clear(&o);
	free(text);

	text = "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\"},\"spec\":{\"clusterIP\":"
	       "\"10.96.0.12\"}}";
	assert_int_equal(k8s_api_parse_obj(K8S_SERVICE, text, strlen(text), &o, &cause), 0);
	assert_string_equal(o.cluster_ip, "10.96.0.12");
	k8s_obj_clear(&o);
	/* numbers out of range or of the wrong type read as absent */
	text = "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":-4},\"status\":"
	       "{\"readyReplicas\":\"2\",\"replicas\":1e300}}";
	assert_int_equal(k8s_api_parse_obj(K8S_DEPLOYMENT, text, strlen(text), &o, &cause), 0);
	assert_int_equal(o.spec_replicas, 1);
	assert_int_equal(o.ready_replicas, 0);
	assert_int_equal(o.replicas, 0);
	k8s_obj_clear(&o);
	assert_int_equal(k8s_api_parse_obj(K8S_POD, "{\"metadata\":{}}", 15, &o, &cause), -1);
	assert_string_equal(cause, "the Pod has no metadata.name");
	free(cause);
}

/* ---- states ---- */

static void load_obj(enum k8s_kind k, const char *file, struct k8s_obj *o)
{
	size_t len;
	char *text = slurp(file, &len), *cause = NULL;

	if (k8s_api_parse_obj(k, text, len, o, &cause) != 0)
		fail_msg("%s: %s", file, cause);
	free(text);
}

static void load_text(enum k8s_kind k, const char *text, struct k8s_obj *o)
{
	char *cause = NULL;

	if (k8s_api_parse_obj(k, text, strlen(text), o, &cause) != 0)
		fail_msg("%s: %s", text, cause);
}

static void pod_state(const struct k8s_obj *pod, struct k8s_state *st)
{
	struct k8s_view v = {.kind = JOB_KIND_NOTEBOOK, .workload = pod};

	k8s_api_state(&v, st);
}

static void test_state_pods(void **state)
{
	size_t len;
	char *text = slurp("pods-list.json", &len);
	struct k8s_list l;
	struct k8s_state st;
	struct k8s_obj o;
	struct k8s_view v = {.kind = JOB_KIND_NOTEBOOK};

	(void)state;
	assert_int_equal(k8s_api_parse_list(K8S_POD, text, len, &l, NULL), 0);
	free(text);
	pod_state(&l.items[0], &st);
	assert_int_equal(st.state, JOB_RUNNING);
	assert_null(st.reason);
	assert_string_equal(st.pod, "gantry-j00000000000000a1-1");
	assert_true(st.started_ms == l.items[0].containers[0].started_ms);
	k8s_state_clear(&st);
	pod_state(&l.items[1], &st);
	assert_int_equal(st.state, JOB_STARTING);
	assert_string_equal(st.reason,
	                    "pending: Unschedulable: 0/3 nodes are available: 3 Insufficient "
	                    "nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption "
	                    "victims found for incoming pod.");
	k8s_state_clear(&st);
	k8s_list_clear(&l);

	load_obj(K8S_POD, "pod-imagepullbackoff.json", &o);
	pod_state(&o, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_string_equal(
	    st.reason, "ImagePullBackOff: Back-off pulling image \"gantry.test/pull-error:1\"");
	k8s_state_clear(&st);
	k8s_obj_clear(&o);

	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"p\"},\"status\":{\"phase\":\"Pending\","
	          "\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"waiting\":{\"reason\":"
	          "\"ErrImagePull\",\"message\":\"rpc error: not found\"}}}]}}",
	          &o);
	pod_state(&o, &st);
	assert_int_equal(st.state, JOB_STARTING); /* the first failure: not yet */
	assert_string_equal(st.reason, "ErrImagePull: rpc error: not found");
	k8s_state_clear(&st);
	k8s_obj_clear(&o);

	load_obj(K8S_POD, "pod-oomkilled.json", &o);
	pod_state(&o, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_string_equal(st.reason, "OOMKilled");
	assert_true(st.has_exit);
	assert_int_equal(st.exit_code, 137);
	assert_true(st.ended_ms > 0);
	k8s_state_clear(&st);
	k8s_obj_clear(&o);

	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"p\"},\"status\":{\"phase\":\"Failed\",\"reason\":"
	          "\"DeadlineExceeded\",\"message\":\"Pod was active on the node longer than the "
	          "specified deadline\"}}",
	          &o);
	pod_state(&o, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_string_equal(st.reason, "DeadlineExceeded");
	assert_false(st.has_exit);
	k8s_state_clear(&st);
	k8s_obj_clear(&o);

	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"p\"},\"status\":{\"phase\":\"Unknown\",\"reason\":"
	          "\"NodeLost\",\"message\":\"Node node-h100 which was running pod p is "
	          "unresponsive\"}}",
	          &o);
	pod_state(&o, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_string_equal(st.reason, "node lost");
	k8s_state_clear(&st);
	k8s_obj_clear(&o);

	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"p\"},\"status\":{\"phase\":\"Failed\","
	          "\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{"
	          "\"exitCode\":3,\"reason\":\"Error\"}}}]}}",
	          &o);
	pod_state(&o, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_null(st.reason);
	assert_true(st.has_exit);
	assert_int_equal(st.exit_code, 3);
	k8s_state_clear(&st);
	k8s_obj_clear(&o);

	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"p\"},\"status\":{\"phase\":\"Succeeded\","
	          "\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"terminated\":{"
	          "\"exitCode\":0,\"reason\":\"Completed\"}}}]}}",
	          &o);
	pod_state(&o, &st);
	assert_int_equal(st.state, JOB_SUCCEEDED);
	assert_true(st.has_exit);
	assert_int_equal(st.exit_code, 0);
	k8s_state_clear(&st);
	k8s_obj_clear(&o);

	/* being deleted by Gantry: STOPPED once nothing runs, RUNNING while it still does */
	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":\"2026-12-05T10:00:00Z\"},"
	          "\"status\":{\"phase\":\"Pending\"}}",
	          &o);
	v.workload = &o;
	v.deleting = 1;
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_STOPPED);
	k8s_state_clear(&st);
	k8s_obj_clear(&o);
	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"p\",\"deletionTimestamp\":\"2026-12-05T10:00:00Z\"},"
	          "\"status\":{\"phase\":\"Running\"}}",
	          &o);
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_RUNNING);
	k8s_state_clear(&st);
	k8s_obj_clear(&o);
	v.workload = NULL;
	v.deleting = 0;
	/* gone: not found, unless Gantry deleted it */
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_UNKNOWN);
	assert_string_equal(st.reason, "not found");
	k8s_state_clear(&st);
	v.deleting = 1;
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_STOPPED);
	assert_null(st.reason);
	k8s_state_clear(&st);
}

static void test_state_jobs(void **state)
{
	struct k8s_obj job, p0, p1, oom;
	const struct k8s_obj *pods[2];
	struct k8s_view v = {.kind = JOB_KIND_TRAINING, .pods = pods};
	struct k8s_state st;

	(void)state;
	load_obj(K8S_JOB, "job-complete.json", &job);
	v.workload = &job;
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_SUCCEEDED);
	assert_true(st.has_exit);
	assert_int_equal(st.exit_code, 0);
	assert_true(st.ended_ms > st.started_ms);
	k8s_state_clear(&st);
	k8s_obj_clear(&job);

	load_obj(K8S_JOB, "job-failed-deadline.json", &job);
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_string_equal(st.reason, "DeadlineExceeded");
	k8s_state_clear(&st);
	k8s_obj_clear(&job);

	load_obj(K8S_JOB, "job-failed-backoff.json", &job);
	load_obj(K8S_POD, "pod-oomkilled.json", &oom);
	pods[0] = &oom;
	v.npods = 1;
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_string_equal(st.reason, "BackoffLimitExceeded: OOMKilled");
	assert_true(st.has_exit);
	assert_int_equal(st.exit_code, 137);
	k8s_state_clear(&st);
	k8s_obj_clear(&job);
	k8s_obj_clear(&oom);

	/* an indexed Job of 2: RUNNING once both run; shells go to index 0 */
	load_obj(K8S_JOB, "job-running.json", &job);
	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"w1\",\"labels\":{\"batch.kubernetes.io/"
	          "job-completion-index\":\"1\"}},\"status\":{\"phase\":\"Running\"}}",
	          &p1);
	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"w0\",\"annotations\":{\"batch.kubernetes.io/"
	          "job-completion-index\":\"0\"}},\"status\":{\"phase\":\"Pending\",\"conditions\":"
	          "[{\"type\":\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\","
	          "\"message\":\"0/2 nodes are available: 2 Insufficient nvidia.com/gpu.\"}]}}",
	          &p0);
	pods[0] = &p1;
	pods[1] = &p0;
	v.npods = 2;
	v.workload = &job;
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_STARTING);
	assert_string_equal(st.reason, "pending: Unschedulable: 0/2 nodes are available: 2 "
	                               "Insufficient nvidia.com/gpu.");
	k8s_state_clear(&st);
	k8s_obj_clear(&p0);
	load_text(K8S_POD,
	          "{\"metadata\":{\"name\":\"w0\",\"annotations\":{\"batch.kubernetes.io/"
	          "job-completion-index\":\"0\"}},\"status\":{\"phase\":\"Running\",\"startTime\":"
	          "\"2026-12-05T15:00:02Z\"}}",
	          &p0);
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_RUNNING);
	assert_string_equal(st.pod, "w0");
	assert_int_equal(p0.completion_index, 0);
	assert_int_equal(p1.completion_index, 1);
	k8s_state_clear(&st);
	k8s_obj_clear(&p0);
	/* a pod whose image will not come fails the Job */
	load_obj(K8S_POD, "pod-imagepullbackoff.json", &p0);
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_FAILED);
	assert_non_null(strstr(st.reason, "ImagePullBackOff: "));
	k8s_state_clear(&st);
	k8s_obj_clear(&p0);
	k8s_obj_clear(&p1);
	k8s_obj_clear(&job);
}

static void test_state_deployments(void **state)
{
	struct k8s_obj d, hpa, r0, r1;
	const struct k8s_obj *pods[2] = {&r0, &r1};
	struct k8s_view v = {.kind = JOB_KIND_ENDPOINT, .pods = pods, .npods = 2};
	struct k8s_state st;

	(void)state;
	load_obj(K8S_DEPLOYMENT, "deployment.json", &d);
	load_obj(K8S_HPA, "hpa.json", &hpa);
	load_text(
	    K8S_POD,
	    "{\"metadata\":{\"name\":\"r-new\",\"creationTimestamp\":\"2026-12-05T10:05:00Z\"},"
	    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
	    "\"True\"}]}}",
	    &r0);
	load_text(
	    K8S_POD,
	    "{\"metadata\":{\"name\":\"r-old\",\"creationTimestamp\":\"2026-12-05T10:00:00Z\"},"
	    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
	    "\"True\"}]}}",
	    &r1);
	v.workload = &d;
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_RUNNING);
	assert_int_equal(st.ready_replicas, 2);
	assert_int_equal(st.desired_replicas, 4);
	assert_string_equal(st.pod, "r-old");
	k8s_state_clear(&st);
	v.hpa = &hpa;
	k8s_api_state(&v, &st);
	assert_int_equal(st.desired_replicas, 6);
	k8s_state_clear(&st);
	k8s_obj_clear(&r0);
	k8s_obj_clear(&r1);
	k8s_obj_clear(&d);
	/* nothing ready yet: STARTING with a pod's reason; an image that will not come: FAILED */
	load_text(K8S_DEPLOYMENT,
	          "{\"metadata\":{\"name\":\"d\"},\"spec\":{\"replicas\":2},\"status\":{}}", &d);
	load_text(
	    K8S_POD,
	    "{\"metadata\":{\"name\":\"r0\"},\"status\":{\"phase\":\"Running\","
	    "\"containerStatuses\":[{\"name\":\"main\",\"state\":{\"waiting\":{\"reason\":"
	    "\"CrashLoopBackOff\",\"message\":\"back-off 10s restarting failed container\"}}}]}}",
	    &r0);
	load_text(K8S_POD, "{\"metadata\":{\"name\":\"r1\"},\"status\":{\"phase\":\"Pending\"}}",
	          &r1);
	v.hpa = NULL;
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_STARTING);
	assert_string_equal(st.reason,
	                    "CrashLoopBackOff: back-off 10s restarting failed container");
	assert_int_equal(st.ready_replicas, 0);
	assert_int_equal(st.desired_replicas, 2);
	assert_null(st.pod);
	k8s_state_clear(&st);
	k8s_obj_clear(&r1);
	load_obj(K8S_POD, "pod-imagepullbackoff.json", &r1);
	k8s_api_state(&v, &st);
	assert_int_equal(st.state, JOB_FAILED);
	k8s_state_clear(&st);
	k8s_obj_clear(&r0);
	k8s_obj_clear(&r1);
	k8s_obj_clear(&d);
	k8s_obj_clear(&hpa);
}

/* ---- nodes and the cluster ---- */

static void test_nodes_cluster(void **state)
{
	size_t len;
	char *text = slurp("nodes-list.json", &len), *s;
	struct k8s_list nodes, pods;
	struct cluster_info c;
	struct k8s_obj o;

	(void)state;
	assert_int_equal(k8s_api_parse_list(K8S_NODE, text, len, &nodes, NULL), 0);
	free(text);
	assert_int_equal(nodes.n, 3);
	assert_true(nodes.items[0].gpus_allocatable == 8);
	assert_true(nodes.items[0].cpus_allocatable == 95.5);
	assert_true(nodes.items[0].node_ready);
	assert_true(nodes.items[1].unschedulable);
	assert_false(nodes.items[2].node_ready);
	s = k8s_api_node_gpu_type(&nodes.items[0], NULL);
	assert_string_equal(s, "H100");
	free(s);
	s = k8s_api_node_gpu_type(&nodes.items[1], "nvidia.com/gpu.product");
	assert_string_equal(s, "A100-80GB");
	free(s);
	assert_null(k8s_api_node_gpu_type(&nodes.items[2], NULL));
	load_text(K8S_NODE,
	          "{\"metadata\":{\"name\":\"n\",\"labels\":{\"gpu\":\"NVIDIA-RTX-A6000\","
	          "\"g2\":\"NVIDIA-A100-SXM4-40GB\",\"g3\":\"Tesla-V100-SXM2-16GB\"}}}",
	          &o);
	s = k8s_api_node_gpu_type(&o, "gpu");
	assert_string_equal(s, "A6000");
	free(s);
	s = k8s_api_node_gpu_type(&o, "g2");
	assert_string_equal(s, "A100");
	free(s);
	s = k8s_api_node_gpu_type(&o, "g3");
	assert_string_equal(s, "V100");
	free(s);
	k8s_obj_clear(&o);

	text = slurp("pods-list.json", &len);
	assert_int_equal(k8s_api_parse_list(K8S_POD, text, len, &pods, NULL), 0);
	free(text);
	k8s_api_cluster(nodes.items, nodes.n, pods.items, pods.n, &c);
	assert_int_equal(c.nnodes, 3);
	assert_string_equal(c.nodes[0].name, "node-h100");
	assert_string_equal(c.nodes[0].state, "mixed");
	assert_string_equal(c.nodes[0].gpu_type, "H100");
	assert_int_equal(c.nodes[0].gpus_total, 8);
	assert_int_equal(c.nodes[0].gpus_alloc, 2);
	assert_int_equal(c.nodes[0].cpus_total, 95);
	assert_int_equal(c.nodes[0].cpus_alloc, 4);
	assert_int_equal(c.nodes[0].memory_alloc_mib, 16384);
	assert_string_equal(c.nodes[1].state, "drained");
	assert_string_equal(c.nodes[1].gpu_type, "A100-80GB");
	assert_string_equal(c.nodes[2].state, "down");
	assert_string_equal(c.nodes[2].reason, "Kubelet stopped posting node status.");
	assert_string_equal(c.nodes[2].gpu_type, "");
	assert_int_equal(c.jobs_running, 1);
	assert_int_equal(c.jobs_pending, 2); /* the Pending pod and the one without a phase */
	assert_int_equal(c.nparts, 1);
	assert_string_equal(c.parts[0].name, "team-vision");
	assert_int_equal(c.parts[0].gpus_total, 12);
	assert_int_equal(c.parts[0].gpus_alloc, 2);
	cluster_info_clear(&c);
	/* every GPU asked for: allocated; ended pods do not count */
	pods.items[1].node_name = xstrdup("node-h100");
	pods.items[1].pod_gpus = 6;
	free(pods.items[2].phase);
	pods.items[2].phase = xstrdup("Succeeded");
	pods.items[2].node_name = xstrdup("node-h100");
	pods.items[2].pod_gpus = 8;
	k8s_api_cluster(nodes.items, nodes.n, pods.items, pods.n, &c);
	assert_string_equal(c.nodes[0].state, "allocated");
	assert_int_equal(c.nodes[0].gpus_alloc, 8);
	assert_int_equal(c.jobs_pending, 1);
	cluster_info_clear(&c);
	k8s_list_clear(&pods);
	k8s_list_clear(&nodes);
}

/* ---- kubeconfig ---- */

static char tmpdir[] = "/tmp/test-k8s-api.XXXXXX";

#define PEM_CERT "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n"
#define PEM_KEY  "-----BEGIN PRIVATE KEY-----\nMIIEsecretkey\n-----END PRIVATE KEY-----\n"

static int kc_setup(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/test-k8s-api.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	write_file(tmpdir, "ca.crt", PEM_CERT, 0644);
	write_file(tmpdir, "client.crt", PEM_CERT, 0644);
	write_file(tmpdir, "client.key", PEM_KEY, 0600);
	write_file(tmpdir, "token", "file-token\n", 0600);
	return 0;
}

static int kc_teardown(void **state)
{
	const char *files[] = {"ca.crt", "client.crt", "client.key", "token", "kubeconfig"};

	(void)state;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *p = xprintf("%s/%s", tmpdir, files[i]);

		unlink(p);
		free(p);
	}
	rmdir(tmpdir);
	return 0;
}

static int kc_parse(const char *file, const char *context, struct k8s_access *a, char **cause)
{
	size_t len;
	char *name = xprintf("kubeconfig/%s", file), *text = slurp(name, &len);
	int rc = k8s_kubeconfig_parse(file, tmpdir, text, len, context, a, cause);

	free(name);
	free(text);
	return rc;
}

static void test_kubeconfig_good(void **state)
{
	struct k8s_access a;
	char *cause = NULL, *p;
	size_t len;
	char *text;

	(void)state;
	/* current-context: dev: token, CA file, the context's namespace */
	if (kc_parse("good.yaml", NULL, &a, &cause) != 0)
		fail_msg("%s", cause);
	assert_string_equal(a.context, "dev");
	assert_string_equal(a.server, "https://127.0.0.1:6443");
	assert_string_equal(a.namespace, "ml");
	assert_string_equal(a.token, "dev-token-123");
	assert_null(a.token_file);
	assert_string_equal(a.ca_pem, PEM_CERT);
	assert_int_equal(a.ca_pem_len, strlen(PEM_CERT));
	assert_null(a.cert_pem);
	assert_null(a.key_pem);
	assert_null(a.exec);
	assert_null(a.tls_server_name);
	k8s_access_clear(&a);
	/* a named context: CA data, client certificate and key files, a token file */
	if (kc_parse("good.yaml", "prod", &a, &cause) != 0)
		fail_msg("%s", cause);
	assert_string_equal(a.server, "https://prod.example.com:6443");
	assert_null(a.namespace);
	assert_string_equal(a.tls_server_name, "kubernetes.default");
	assert_string_equal(a.ca_pem,
	                    "-----BEGIN CERTIFICATE-----\nMIIBfakeCAfakeCAfakeCA\n-----END "
	                    "CERTIFICATE-----\n");
	assert_string_equal(a.cert_pem, PEM_CERT);
	assert_string_equal(a.key_pem, PEM_KEY);
	assert_int_equal(a.key_pem_len, strlen(PEM_KEY));
	assert_null(a.token);
	p = xprintf("%s/token", tmpdir);
	assert_string_equal(a.token_file, p);
	free(p);
	k8s_access_clear(&a);
	/* JSON is YAML too; http:// to loopback is allowed (tests) */
	if (kc_parse("good.json", NULL, &a, &cause) != 0)
		fail_msg("%s", cause);
	assert_string_equal(a.server, "http://127.0.0.1:8001");
	assert_string_equal(a.token, "json-token");
	assert_string_equal(a.namespace, "default");
	k8s_access_clear(&a);
	/* exec plugin */
	if (kc_parse("exec.yaml", NULL, &a, &cause) != 0)
		fail_msg("%s", cause);
	assert_non_null(a.exec);
	p = xprintf("%s/bin/get-token", tmpdir);
	assert_string_equal(a.exec->command, p);
	free(p);
	assert_string_equal(a.exec->args[0], "--cluster");
	assert_string_equal(a.exec->args[1], "c");
	assert_string_equal(a.exec->args[2], "--output=json");
	assert_null(a.exec->args[3]);
	assert_string_equal(kvlist_get(&a.exec->env, "AWS_PROFILE"), "ml");
	assert_string_equal(kvlist_get(&a.exec->env, "EMPTY"), "");
	assert_string_equal(a.exec->api_version, "client.authentication.k8s.io/v1");
	assert_true(a.exec->interactive_never);
	assert_null(a.token);
	k8s_access_clear(&a);
	{
		/* a bare command name is left to PATH; v1beta1; IfAvailable runs without a
		 * terminal too */
		const char *t =
		    "current-context: x\nclusters:\n- {name: c, cluster: {server: "
		    "'https://h'}}\ncontexts:\n- {name: x, context: {cluster: c, user: u}}"
		    "\nusers:\n- name: u\n  user:\n    exec: {apiVersion: "
		    "client.authentication.k8s.io/v1beta1, command: aws, interactiveMode: "
		    "IfAvailable}\n";

		if (k8s_kubeconfig_parse("k", "/d", t, strlen(t), NULL, &a, &cause) != 0)
			fail_msg("%s", cause);
		assert_string_equal(a.exec->command, "aws");
		assert_null(a.exec->args[0]);
		assert_string_equal(a.exec->api_version, "client.authentication.k8s.io/v1beta1");
		assert_true(a.exec->interactive_never);
		k8s_access_clear(&a);
	}
	/* from a file: relative paths are relative to its directory */
	text = slurp("kubeconfig/good.yaml", &len);
	write_file(tmpdir, "kubeconfig", text, 0600);
	free(text);
	p = xprintf("%s/kubeconfig", tmpdir);
	if (k8s_kubeconfig_load(p, "prod", &a, &cause) != 0)
		fail_msg("%s", cause);
	assert_string_equal(a.key_pem, PEM_KEY);
	k8s_access_clear(&a);
	free(p);
	/* issue 12: a kubeconfig that holds a credential itself (dev: token:) must be private;
	 * one that only names files (prod: the key file is checked itself) need not */
	text = slurp("kubeconfig/good.yaml", &len);
	write_file(tmpdir, "kubeconfig-open", text, 0644);
	free(text);
	p = xprintf("%s/kubeconfig-open", tmpdir);
	if (k8s_kubeconfig_load(p, "prod", &a, &cause) != 0)
		fail_msg("%s", cause);
	k8s_access_clear(&a);
	assert_int_equal(k8s_kubeconfig_load(p, "dev", &a, &cause), -1);
	assert_non_null(strstr(cause, "is readable by group or others (mode 0644): run chmod 600"));
	assert_null(a.key_pem);
	free(cause);
	cause = NULL;
	free(p);
	assert_int_equal(k8s_kubeconfig_load("/nonexistent/kubeconfig", NULL, &a, &cause), -1);
	assert_string_equal(cause, "/nonexistent/kubeconfig: No such file or directory");
	free(cause);
	cause = NULL;
	assert_int_equal(k8s_kubeconfig_load(tmpdir, NULL, &a, &cause), -1);
	p = xprintf("%s: not a regular file of at most 4 MiB", tmpdir);
	assert_string_equal(cause, p);
	free(p);
	free(cause);
}

static void check_bad(const char *file, const char *context, const char *want)
{
	struct k8s_access a;
	char *cause = NULL;

	if (kc_parse(file, context, &a, &cause) == 0)
		fail_msg("%s: accepted", file);
	if (strncmp(cause, want, strlen(want)) != 0)
		fail_msg("%s: got '%s', want '%s...'", file, cause, want);
	assert_true(one_line(cause));
	assert_null(strstr(cause, "secret"));
	assert_null(strstr(cause, "dev-token-123"));
	assert_null(a.server);
	free(cause);
}

static void test_kubeconfig_bad(void **state)
{
	(void)state;
	check_bad(
	    "bad-insecure.yaml", NULL,
	    "bad-insecure.yaml:8:5: insecure-skip-tls-verify: refused: Gantry always verifies");
	check_bad(
	    "bad-authprovider.yaml", NULL,
	    "bad-authprovider.yaml:14:5: auth-provider: refused: removed from kubectl in 1.26");
	check_bad("bad-password.yaml", NULL,
	          "bad-password.yaml:14:5: username/password: refused: basic authentication");
	check_bad("bad-http.yaml", NULL, "bad-http.yaml:7:13: server: ");
	check_bad("bad-nocontext.yaml", NULL,
	          "bad-nocontext.yaml:3:18: no context named 'missing' in contexts");
	check_bad("good.yaml", "nope", "good.yaml:1:1: no context named 'nope' in contexts");
	check_bad("bad-nocluster.yaml", NULL,
	          "bad-nocluster.yaml:10:14: no cluster named 'c' in clusters");
	check_bad("bad-cadata.yaml", NULL,
	          "bad-cadata.yaml:8:33: certificate-authority-data: not "
	          "base64");
	check_bad("bad-exec-always.yaml", NULL,
	          "bad-exec-always.yaml:17:24: exec: interactiveMode: Always: refused");
	check_bad("bad-dupkey.yaml", NULL, "bad-dupkey.yaml:7:3: duplicate key 'context'");
	check_bad("bad-syntax.yaml", NULL, "bad-syntax.yaml:8:1: did not find expected ',' or ']'");
	/* a key file others can read */
	write_file(tmpdir, "client.key", PEM_KEY, 0644);
	{
		char *want =
		    xprintf("bad-keyperm.yaml:14:17: client-key: %s/client.key is readable by "
		            "group or others (mode 644): chmod 600 it",
		            tmpdir);

		check_bad("bad-keyperm.yaml", NULL, want);
		free(want);
	}
	write_file(tmpdir, "client.key", PEM_KEY, 0600);
	write_file(tmpdir, "token", "t\n", 0640);
	check_bad("good.yaml", "prod", "good.yaml:33:16: tokenFile: ");
	write_file(tmpdir, "token", "file-token\n", 0600);
	/* inline cases */
	{
		struct k8s_access a;
		char *cause = NULL;
		const char *t = "- just\n- a list\n";

		assert_int_equal(k8s_kubeconfig_parse("k", "/", t, strlen(t), NULL, &a, &cause),
		                 -1);
		assert_string_equal(cause,
		                    "k:1:1: expected a mapping (apiVersion: v1, kind: Config)");
		free(cause);
		cause = NULL;
		assert_int_equal(k8s_kubeconfig_parse("k", "/", "", 0, NULL, &a, &cause), -1);
		assert_string_equal(cause, "k: empty: not a kubeconfig");
		free(cause);
		cause = NULL;
		t = "apiVersion: v1\nclusters: []\n";
		assert_int_equal(k8s_kubeconfig_parse("k", "/", t, strlen(t), NULL, &a, &cause),
		                 -1);
		assert_string_equal(cause, "k: no current-context: name a context in the settings");
		free(cause);
		cause = NULL;
		t = "current-context: x\ncontexts:\n- name: x\n  context: {cluster: c, namespace: "
		    "Bad_NS}\n";
		assert_int_equal(k8s_kubeconfig_parse("k", "/", t, strlen(t), NULL, &a, &cause),
		                 -1);
		assert_string_equal(cause,
		                    "k:4:36: namespace: not a DNS label (lower case letters, "
		                    "digits, '-')");
		free(cause);
		cause = NULL;
		t = "current-context: x\nclusters:\n- name: c\n  cluster: {server: 'https://h', "
		    "certificate-authority: missing.crt}\ncontexts:\n- name: x\n  context: "
		    "{cluster: "
		    "c}\n";
		assert_int_equal(
		    k8s_kubeconfig_parse("k", "/nonexistent", t, strlen(t), NULL, &a, &cause), -1);
		assert_string_equal(cause,
		                    "k:4:57: certificate-authority: /nonexistent/missing.crt: No "
		                    "such file or directory");
		free(cause);
		cause = NULL;
		t = "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://h\n"
		    "    proxy-url: http://proxy:3128\ncontexts:\n- name: x\n  context: {cluster: "
		    "c}\n";
		assert_int_equal(k8s_kubeconfig_parse("k", "/", t, strlen(t), NULL, &a, &cause),
		                 -1);
		assert_string_equal(cause,
		                    "k:6:5: proxy-url: not supported: Gantry reaches the API "
		                    "server directly, or through the https_proxy environment "
		                    "variable");
		free(cause);
		cause = NULL;
		/* deep nesting stops before libyaml's loader */
		{
			char deep[400];

			memset(deep, '[', 300);
			deep[300] = '\0';
			assert_int_equal(
			    k8s_kubeconfig_parse("k", "/", deep, 300, NULL, &a, &cause), -1);
			assert_non_null(strstr(cause, "nesting deeper"));
			free(cause);
		}
	}
}

/* ---- ExecCredential ---- */

static void test_exec_cred(void **state)
{
	struct k8s_exec_cred c;
	char *cause = NULL, *s;
	const char *t;
	json_t *o;

	(void)state;
	t = "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"tok-abc\",\"expirationTimestamp\":\"2026-12-05T10:00:00Z\"}}";
	assert_int_equal(
	    k8s_exec_cred_parse(t, strlen(t), "client.authentication.k8s.io/v1", &c, &cause), 0);
	assert_string_equal(c.token, "tok-abc");
	assert_true(c.expires_ms == 1764928800000LL + 365LL * 86400000);
	assert_null(c.cert_pem);
	k8s_exec_cred_clear(&c);
	assert_null(c.token);
	t = "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"clientCertificateData\":\"CERT\",\"clientKeyData\":\"KEY\"}}";
	assert_int_equal(k8s_exec_cred_parse(t, strlen(t), NULL, &c, &cause), 0);
	assert_string_equal(c.cert_pem, "CERT");
	assert_string_equal(c.key_pem, "KEY");
	assert_int_equal(c.expires_ms, 0);
	k8s_exec_cred_clear(&c);
	/* refused */
	assert_int_equal(
	    k8s_exec_cred_parse(t, strlen(t), "client.authentication.k8s.io/v1", &c, &cause), -1);
	assert_string_equal(cause, "the exec plugin answered apiVersion "
	                           "'client.authentication.k8s.io/v1beta1', expected "
	                           "client.authentication.k8s.io/v1");
	free(cause);
	cause = NULL;
	const char *bad[] = {
	    "not json",
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"Pod\",\"status\":"
	    "{\"token\":\"secret-tok\"}}",
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\"}",
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"clientCertificateData\":\"secret-cert\"}}",
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"secret-tok\",\"expirationTimestamp\":\"tomorrow\"}}",
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"secret\\ntok\"}}",
	    "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
	    "\"status\":{\"token\":\"\"}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(k8s_exec_cred_parse(bad[i], strlen(bad[i]), NULL, &c, &cause), -1);
		assert_true(one_line(cause));
		assert_null(strstr(cause, "secret"));
		assert_null(c.token);
		free(cause);
		cause = NULL;
	}
	s = k8s_exec_info("client.authentication.k8s.io/v1", 0);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "apiVersion")),
	                    "client.authentication.k8s.io/v1");
	assert_string_equal(json_string_value(json_object_get(o, "kind")), "ExecCredential");
	assert_true(json_is_false(json_object_get(json_object_get(o, "spec"), "interactive")));
	json_decref(o);
	free(s);
}

/* ---- bodies ---- */

static json_t *body(enum k8s_kind k, const struct k8s_workload *w)
{
	char *cause = NULL, *s = k8s_api_body(k, w, &cause);
	json_t *o;

	if (s == NULL)
		fail_msg("body: %s", cause);
	o = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(o);
	free(s);
	return o;
}

static const char *jpath_s(json_t *o, const char *path)
{
	char *p = xstrdup(path), *save = NULL;
	json_t *v = o;

	for (char *t = strtok_r(p, ".", &save); t != NULL && v != NULL;
	     t = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, (size_t)atoi(t)) : json_object_get(v, t);
	free(p);
	if (!json_is_string(v))
		fail_msg("%s: not a string", path);
	return json_string_value(v);
}

static json_t *jpath(json_t *o, const char *path)
{
	char *p = xstrdup(path), *save = NULL;
	json_t *v = o;

	for (char *t = strtok_r(p, ".", &save); t != NULL && v != NULL;
	     t = strtok_r(NULL, ".", &save))
		v = json_is_array(v) ? json_array_get(v, (size_t)atoi(t)) : json_object_get(v, t);
	free(p);
	return v;
}

static long long jpath_i(json_t *o, const char *path)
{
	json_t *v = jpath(o, path);

	if (!json_is_integer(v))
		fail_msg("%s: not an integer", path);
	return json_integer_value(v);
}

/* env[name] of a container, or NULL */
static const char *env_of(json_t *c, const char *name)
{
	size_t i;
	json_t *e;

	json_array_foreach(json_object_get(c, "env"), i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
			return json_string_value(json_object_get(e, "value"));
	}
	return NULL;
}

static void workload_init(struct k8s_workload *w, struct kvlist *labels, struct kvlist *env,
                          struct kvlist *sel)
{
	kvlist_init(labels);
	kvlist_set(labels, K8S_LABEL_MANAGED, "gantry");
	kvlist_set(labels, K8S_LABEL_JOB, "j00000000000000a1");
	kvlist_set(labels, K8S_LABEL_ATTEMPT, "1");
	kvlist_set(labels, K8S_LABEL_OWNER, "alice");
	kvlist_set(labels, K8S_LABEL_INSTALL, "inst-42");
	kvlist_init(env);
	kvlist_set(env, "GANTRY_JOB", "j00000000000000a1");
	kvlist_set(env, "GANTRY_PORT", "8888");
	kvlist_init(sel);
	kvlist_set(sel, "nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3");
	memset(w, 0, sizeof *w);
	w->name = "gantry-j00000000000000a1-1";
	w->namespace = "team-vision";
	w->labels = labels;
	w->image = "python:3.11-slim";
	w->script = "jupyter lab --port \"$GANTRY_PORT\"";
	w->env = env;
	w->node_selector = sel;
}

static void check_meta(json_t *o, const char *api, const char *kind)
{
	assert_string_equal(jpath_s(o, "apiVersion"), api);
	assert_string_equal(jpath_s(o, "kind"), kind);
	assert_string_equal(jpath_s(o, "metadata.name"), "gantry-j00000000000000a1-1");
	assert_string_equal(jpath_s(o, "metadata.namespace"), "team-vision");
	assert_string_equal(
	    json_string_value(json_object_get(jpath(o, "metadata.labels"), K8S_LABEL_JOB)),
	    "j00000000000000a1");
}

static void test_body_pod(void **state)
{
	struct kvlist labels, env, sel;
	struct k8s_workload w;
	struct k8s_toleration tol[] = {{"nvidia.com/gpu", "Exists", NULL, "NoSchedule"},
	                               {"pool", "Equal", "gpu", NULL}};
	json_t *o, *c, *spec;

	(void)state;
	workload_init(&w, &labels, &env, &sel);
	w.kind = JOB_KIND_NOTEBOOK;
	w.gpus = 2;
	w.cpus = 8;
	w.memory_mib = 32768;
	w.port = 8888;
	w.readiness_path = "/api";
	w.tolerations = tol;
	w.ntolerations = 2;
	w.active_deadline_s = 3600;
	w.restart_never = 1;
	o = body(K8S_POD, &w);
	/* labels with '/' in the key: look them up directly */
	assert_string_equal(
	    json_string_value(json_object_get(jpath(o, "metadata.labels"), K8S_LABEL_JOB)),
	    "j00000000000000a1");
	assert_string_equal(jpath_s(o, "apiVersion"), "v1");
	assert_string_equal(jpath_s(o, "kind"), "Pod");
	assert_string_equal(jpath_s(o, "metadata.name"), "gantry-j00000000000000a1-1");
	assert_string_equal(jpath_s(o, "metadata.namespace"), "team-vision");
	assert_int_equal(json_object_size(jpath(o, "metadata.labels")), 5);
	spec = json_object_get(o, "spec");
	assert_string_equal(jpath_s(spec, "restartPolicy"), "Never");
	assert_int_equal(jpath_i(spec, "activeDeadlineSeconds"), 3600);
	assert_true(json_is_false(json_object_get(spec, "automountServiceAccountToken")));
	assert_true(json_is_false(json_object_get(spec, "enableServiceLinks")));
	assert_null(json_object_get(spec, "serviceAccountName"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(spec, "nodeSelector"),
	                                                      "nvidia.com/gpu.product")),
	                    "NVIDIA-H100-80GB-HBM3");
	assert_int_equal(json_array_size(json_object_get(spec, "tolerations")), 2);
	assert_string_equal(jpath_s(spec, "tolerations.0.operator"), "Exists");
	assert_string_equal(jpath_s(spec, "tolerations.0.effect"), "NoSchedule");
	assert_null(jpath(spec, "tolerations.0.value"));
	assert_string_equal(jpath_s(spec, "tolerations.1.value"), "gpu");
	assert_null(jpath(spec, "tolerations.1.effect"));
	assert_int_equal(json_array_size(json_object_get(spec, "containers")), 1);
	c = jpath(spec, "containers.0");
	assert_string_equal(jpath_s(c, "name"), "main");
	assert_string_equal(jpath_s(c, "image"), "python:3.11-slim");
	assert_string_equal(jpath_s(c, "command.0"), "/bin/sh");
	assert_string_equal(jpath_s(c, "command.1"), "-c");
	assert_string_equal(jpath_s(c, "command.2"), "jupyter lab --port \"$GANTRY_PORT\"");
	assert_int_equal(json_array_size(json_object_get(c, "env")), 2);
	assert_string_equal(env_of(c, "GANTRY_JOB"), "j00000000000000a1");
	assert_string_equal(env_of(c, "GANTRY_PORT"), "8888");
	assert_null(env_of(c, "RANK"));
	assert_string_equal(
	    json_string_value(json_object_get(jpath(c, "resources.limits"), "nvidia.com/gpu")),
	    "2");
	assert_string_equal(jpath_s(c, "resources.limits.cpu"), "8");
	assert_string_equal(jpath_s(c, "resources.limits.memory"), "32768Mi");
	assert_string_equal(jpath_s(c, "resources.requests.cpu"), "8");
	assert_string_equal(jpath_s(c, "resources.requests.memory"), "32768Mi");
	assert_null(json_object_get(jpath(c, "resources.requests"), "nvidia.com/gpu"));
	assert_int_equal(jpath_i(c, "ports.0.containerPort"), 8888);
	assert_string_equal(jpath_s(c, "ports.0.protocol"), "TCP");
	assert_string_equal(jpath_s(c, "readinessProbe.httpGet.path"), "/api");
	assert_int_equal(jpath_i(c, "readinessProbe.httpGet.port"), 8888);
	assert_null(json_object_get(c, "envFrom"));
	assert_null(json_object_get(c, "imagePullPolicy")); /* the cluster's default */
	json_decref(o);
	/* a service account, a Secret's keys as env, another GPU resource, Always */
	w.service_account = "trainer";
	w.secret_env_name = "gantry-secrets";
	w.gpu_resource = "amd.com/gpu";
	w.restart_never = 0;
	w.readiness_path = NULL;
	o = body(K8S_POD, &w);
	spec = json_object_get(o, "spec");
	assert_string_equal(jpath_s(spec, "serviceAccountName"), "trainer");
	assert_null(json_object_get(spec, "automountServiceAccountToken"));
	assert_string_equal(jpath_s(spec, "restartPolicy"), "Always");
	c = jpath(spec, "containers.0");
	assert_string_equal(jpath_s(c, "envFrom.0.secretRef.name"), "gantry-secrets");
	assert_string_equal(
	    json_string_value(json_object_get(jpath(c, "resources.limits"), "amd.com/gpu")), "2");
	assert_null(json_object_get(c, "readinessProbe"));
	json_decref(o);
	kvlist_free(&labels);
	kvlist_free(&env);
	kvlist_free(&sel);
}

static void test_body_job(void **state)
{
	struct kvlist labels, env, sel;
	struct k8s_workload w;
	json_t *o, *spec, *c;
	const char *cmd;

	(void)state;
	workload_init(&w, &labels, &env, &sel);
	w.kind = JOB_KIND_TRAINING;
	w.gpus = 8;
	w.completions = 3;
	w.backoff_limit = 2;
	w.active_deadline_s = 7200;
	w.script = "python train.py";
	o = body(K8S_JOB, &w);
	check_meta(o, "batch/v1", "Job");
	spec = json_object_get(o, "spec");
	assert_int_equal(jpath_i(spec, "backoffLimit"), 2);
	assert_int_equal(jpath_i(spec, "activeDeadlineSeconds"), 7200);
	assert_int_equal(jpath_i(spec, "completions"), 3);
	assert_int_equal(jpath_i(spec, "parallelism"), 3);
	assert_string_equal(jpath_s(spec, "completionMode"), "Indexed");
	assert_string_equal(json_string_value(json_object_get(
	                        jpath(spec, "template.metadata.labels"), K8S_LABEL_ATTEMPT)),
	                    "1");
	assert_int_equal(json_object_size(jpath(spec, "template.metadata.labels")), 5);
	assert_string_equal(jpath_s(spec, "template.spec.restartPolicy"), "Never");
	assert_string_equal(jpath_s(spec, "template.spec.subdomain"), "gantry-j00000000000000a1-1");
	assert_null(jpath(spec, "template.spec.activeDeadlineSeconds"));
	c = jpath(spec, "template.spec.containers.0");
	assert_string_equal(env_of(c, "WORLD_SIZE"), "3");
	assert_string_equal(env_of(c, "MASTER_ADDR"),
	                    "gantry-j00000000000000a1-1-0.gantry-j00000000000000a1-1");
	assert_string_equal(env_of(c, "MASTER_PORT"), "29500");
	cmd = jpath_s(c, "command.2");
	assert_string_equal(cmd, "export RANK=\"${JOB_COMPLETION_INDEX:-0}\"\npython train.py");
	assert_string_equal(
	    json_string_value(json_object_get(jpath(c, "resources.limits"), "nvidia.com/gpu")),
	    "8");
	json_decref(o);
	/* its headless Service: pod 0's name resolves through it */
	o = body(K8S_SERVICE, &w);
	check_meta(o, "v1", "Service");
	assert_string_equal(jpath_s(o, "spec.clusterIP"), "None");
	assert_true(json_is_true(jpath(o, "spec.publishNotReadyAddresses")));
	assert_int_equal(json_object_size(jpath(o, "spec.selector")), 2);
	assert_string_equal(
	    json_string_value(json_object_get(jpath(o, "spec.selector"), K8S_LABEL_JOB)),
	    "j00000000000000a1");
	json_decref(o);
	/* one pod: not Indexed, no rank env; MASTER_PORT of the job's env is kept */
	w.completions = 1;
	w.backoff_limit = 0;
	w.active_deadline_s = 0;
	o = body(K8S_JOB, &w);
	spec = json_object_get(o, "spec");
	assert_null(json_object_get(spec, "completionMode"));
	assert_null(json_object_get(spec, "activeDeadlineSeconds"));
	assert_int_equal(jpath_i(spec, "backoffLimit"), 0);
	assert_int_equal(jpath_i(spec, "completions"), 1);
	assert_null(jpath(spec, "template.spec.subdomain"));
	c = jpath(spec, "template.spec.containers.0");
	assert_null(env_of(c, "WORLD_SIZE"));
	assert_string_equal(jpath_s(c, "command.2"), "python train.py");
	json_decref(o);
	kvlist_set(&env, "MASTER_PORT", "1234");
	w.completions = 2;
	o = body(K8S_JOB, &w);
	c = jpath(o, "spec.template.spec.containers.0");
	assert_string_equal(env_of(c, "MASTER_PORT"), "1234");
	json_decref(o);
	kvlist_free(&labels);
	kvlist_free(&env);
	kvlist_free(&sel);
}

static void test_body_endpoint(void **state)
{
	struct kvlist labels, env, sel;
	struct k8s_workload w;
	json_t *o, *spec;

	(void)state;
	workload_init(&w, &labels, &env, &sel);
	w.kind = JOB_KIND_ENDPOINT;
	w.port = 8000;
	w.readiness_path = "/health";
	w.replicas = 2;
	w.replicas_min = 0;
	w.replicas_max = 8;
	w.target_qps_per_replica = 2.5;
	o = body(K8S_DEPLOYMENT, &w);
	check_meta(o, "apps/v1", "Deployment");
	spec = json_object_get(o, "spec");
	assert_int_equal(jpath_i(spec, "replicas"), 2);
	assert_int_equal(json_object_size(jpath(spec, "selector.matchLabels")), 2);
	assert_string_equal(json_string_value(json_object_get(jpath(spec, "selector.matchLabels"),
	                                                      K8S_LABEL_ATTEMPT)),
	                    "1");
	assert_int_equal(json_object_size(jpath(spec, "template.metadata.labels")), 5);
	assert_string_equal(jpath_s(spec, "template.spec.restartPolicy"), "Always");
	assert_int_equal(jpath_i(spec, "template.spec.containers.0.readinessProbe.httpGet.port"),
	                 8000);
	json_decref(o);
	o = body(K8S_SERVICE, &w);
	assert_string_equal(jpath_s(o, "spec.type"), "ClusterIP");
	assert_int_equal(jpath_i(o, "spec.ports.0.port"), 8000);
	assert_int_equal(jpath_i(o, "spec.ports.0.targetPort"), 8000);
	assert_null(jpath(o, "spec.clusterIP"));
	json_decref(o);
	o = body(K8S_HPA, &w);
	check_meta(o, "autoscaling/v2", "HorizontalPodAutoscaler");
	spec = json_object_get(o, "spec");
	assert_string_equal(jpath_s(spec, "scaleTargetRef.apiVersion"), "apps/v1");
	assert_string_equal(jpath_s(spec, "scaleTargetRef.kind"), "Deployment");
	assert_string_equal(jpath_s(spec, "scaleTargetRef.name"), "gantry-j00000000000000a1-1");
	assert_int_equal(jpath_i(spec, "minReplicas"), 1); /* 0 runs as 1 */
	assert_int_equal(jpath_i(spec, "maxReplicas"), 8);
	assert_int_equal(json_array_size(json_object_get(spec, "metrics")), 1);
	assert_string_equal(jpath_s(spec, "metrics.0.type"), "Pods");
	assert_string_equal(jpath_s(spec, "metrics.0.pods.metric.name"),
	                    "http_requests_per_second");
	assert_string_equal(jpath_s(spec, "metrics.0.pods.target.type"), "AverageValue");
	assert_string_equal(jpath_s(spec, "metrics.0.pods.target.averageValue"), "2500m");
	json_decref(o);
	assert_string_equal(
	    k8s_api_hpa_note(0),
	    "replicas.min 0 runs as 1: a HorizontalPodAutoscaler cannot scale to zero");
	assert_null(k8s_api_hpa_note(1));
	/* no QPS target: no metrics; min above the initial replicas raises them */
	w.target_qps_per_replica = 0;
	w.qps_metric = "rps";
	w.replicas_min = 3;
	w.replicas = 1;
	o = body(K8S_HPA, &w);
	assert_null(jpath(o, "spec.metrics"));
	assert_int_equal(jpath_i(o, "spec.minReplicas"), 3);
	json_decref(o);
	o = body(K8S_DEPLOYMENT, &w);
	assert_int_equal(jpath_i(o, "spec.replicas"), 3);
	json_decref(o);
	kvlist_free(&labels);
	kvlist_free(&env);
	kvlist_free(&sel);
}

static void test_body_errors(void **state)
{
	struct kvlist labels, env, sel;
	struct k8s_workload w;
	char *cause = NULL, *s;
	json_t *o;

	(void)state;
	workload_init(&w, &labels, &env, &sel);
	kvlist_set(&env, "BAD-NAME", "x");
	assert_null(k8s_api_body(K8S_POD, &w, &cause));
	assert_string_equal(cause, "environment variable name 'BAD-NAME' is not an identifier");
	free(cause);
	cause = NULL;
	kvlist_free(&env);
	kvlist_init(&env);
	w.image = NULL;
	assert_null(k8s_api_body(K8S_JOB, &w, &cause));
	assert_non_null(strstr(cause, "no container image"));
	free(cause);
	cause = NULL;
	w.image = "x";
	w.kind = JOB_KIND_NOTEBOOK;
	assert_null(k8s_api_body(K8S_SERVICE, &w, &cause));
	assert_string_equal(cause, "a Service needs the job's port");
	free(cause);
	cause = NULL;
	w.name = "Bad_Name";
	assert_null(k8s_api_body(K8S_POD, &w, &cause));
	free(cause);
	cause = NULL;
	w.name = "ok";
	assert_null(k8s_api_body(K8S_NODE, &w, &cause));
	free(cause);
	s = k8s_api_scale_patch(5);
	o = json_loads(s, 0, NULL);
	assert_int_equal(jpath_i(o, "spec.replicas"), 5);
	json_decref(o);
	free(s);
	s = k8s_api_delete_body(30);
	o = json_loads(s, 0, NULL);
	assert_string_equal(jpath_s(o, "kind"), "DeleteOptions");
	assert_string_equal(jpath_s(o, "propagationPolicy"), "Background");
	assert_int_equal(jpath_i(o, "gracePeriodSeconds"), 30);
	json_decref(o);
	free(s);
	kvlist_free(&labels);
	kvlist_free(&env);
	kvlist_free(&sel);
}

/* ---- Prometheus / DCGM ---- */

static const struct prom_sample *find_sample(const struct prom_sample *v, size_t n,
                                             const char *name, const char *gpu)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0 &&
		    (gpu == NULL || (kvlist_get(&v[i].labels, "gpu") != NULL &&
		                     strcmp(kvlist_get(&v[i].labels, "gpu"), gpu) == 0)))
			return &v[i];
	return NULL;
}

static void test_prom(void **state)
{
	size_t len, n, skipped, ng;
	char *text = slurp("dcgm.txt", &len), *cause = NULL;
	struct prom_sample *v;
	const struct prom_sample *s;
	struct tele_gpu *g;

	(void)state;
	assert_int_equal(prom_parse(text, len, &v, &n, &skipped, &cause), 0);
	assert_int_equal(n, 14);
	assert_int_equal(skipped, 1);
	s = find_sample(v, n, "DCGM_FI_DEV_XID_ERRORS", NULL);
	assert_non_null(s);
	assert_string_equal(kvlist_get(&s->labels, "err_msg"),
	                    "Graphics Engine \"Exception\"\\nline");
	s = find_sample(v, n, "DCGM_FI_DEV_POWER_USAGE", "1");
	assert_true(s->value != s->value); /* NaN */
	s = find_sample(v, n, "DCGM_FI_DEV_GPU_UTIL", "7");
	assert_true(s->value > 1e308);
	s = find_sample(v, n, "DCGM_FI_DEV_GPU_UTIL", "1"); /* with a timestamp */
	assert_true(s->value == 12);
	assert_string_equal(kvlist_get(&s->labels, "modelName"), "NVIDIA H100 80GB HBM3");

	ng = k8s_api_dcgm_gpus(v, n, "default", "gantry-j00000000000000a1-1", &g);
	assert_int_equal(ng, 2);
	assert_int_equal(g[0].index, 0);
	assert_string_equal(g[0].name, "NVIDIA H100 80GB HBM3");
	assert_string_equal(g[0].uuid, "GPU-5fd4f087-86f3-7a43-b711-4771313afc50");
	assert_true(g[0].util_pct.ok && g[0].util_pct.v == 97);
	assert_true(g[0].mem_used_mib.ok && g[0].mem_used_mib.v == 79520);
	assert_true(g[0].mem_total_mib.ok && g[0].mem_total_mib.v == 81079);
	assert_true(g[0].temp_c.ok && g[0].temp_c.v == 61);
	assert_true(g[0].power_w.ok && g[0].power_w.v == 412.517);
	assert_false(g[0].power_limit_w.ok);
	assert_int_equal(g[1].index, 1);
	assert_false(g[1].power_w.ok); /* NaN: n/a, never zero */
	assert_true(g[1].util_pct.v == 12);
	assert_true(g[1].mem_total_mib.v == 81079);
	free(g);
	assert_int_equal(k8s_api_dcgm_gpus(v, n, "other-ns", "gantry-j00000000000000a1-1", &g), 0);
	free(g);
	ng = k8s_api_dcgm_gpus(v, n, "default", "other-pod", &g);
	assert_int_equal(ng, 1);
	assert_false(g[0].util_pct.ok); /* +Inf is not a utilisation */
	free(g);
	prom_samples_free(v, n);
	free(text);

	/* scraped through Prometheus: exported_namespace / exported_pod win */
	text = "DCGM_FI_DEV_GPU_UTIL{gpu=\"3\",namespace=\"monitoring\",pod=\"dcgm-exporter-x\","
	       "exported_namespace=\"ml\",exported_pod=\"p\"} 55\n";
	assert_int_equal(prom_parse(text, strlen(text), &v, &n, &skipped, &cause), 0);
	assert_int_equal(k8s_api_dcgm_gpus(v, n, "monitoring", "dcgm-exporter-x", &g), 0);
	free(g);
	assert_int_equal(k8s_api_dcgm_gpus(v, n, "ml", "p", &g), 1);
	assert_int_equal(g[0].index, 3);
	assert_true(g[0].util_pct.v == 55);
	assert_false(g[0].mem_total_mib.ok);
	free(g);
	prom_samples_free(v, n);

	/* malformed lines skipped; not Prometheus text at all */
	text = "a{x=\"1\"} 1\nb{x=\"unterminated} 2\nc{x=1} 3\nd 1 2 3\ne{x=\"\\\"} 4\nf{,} 5\n"
	       "g {y=\"2\",} 6 -17\n";
	assert_int_equal(prom_parse(text, strlen(text), &v, &n, &skipped, &cause), 0);
	assert_int_equal(n, 2);
	assert_int_equal(skipped, 5);
	assert_string_equal(v[1].name, "g");
	assert_string_equal(kvlist_get(&v[1].labels, "y"), "2");
	prom_samples_free(v, n);
	text = "a 1\nb -inf\nc nan 5\nd +Infinity\ne 0x10\nf 1e3\ng -2.5E-1\n";
	assert_int_equal(prom_parse(text, strlen(text), &v, &n, &skipped, &cause), 0);
	assert_int_equal(n, 6);
	assert_int_equal(skipped, 1); /* hex floats are not the exposition format's */
	assert_true(v[1].value < -1e308);
	assert_true(v[2].value != v[2].value);
	assert_true(v[3].value > 1e308);
	assert_true(v[4].value == 1000);
	assert_true(v[5].value == -0.25);
	prom_samples_free(v, n);
	text = "<html><body>502 Bad Gateway</body></html>\n";
	assert_int_equal(prom_parse(text, strlen(text), &v, &n, &skipped, &cause), -1);
	assert_string_equal(cause, "not Prometheus text (1 malformed line, no sample)");
	free(cause);
	assert_int_equal(prom_parse("", 0, &v, &n, &skipped, NULL), 0);
	assert_int_equal(n, 0);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_quantities),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_parse_pods),
	    cmocka_unit_test(test_parse_objs),
	    cmocka_unit_test(test_state_pods),
	    cmocka_unit_test(test_state_jobs),
	    cmocka_unit_test(test_state_deployments),
	    cmocka_unit_test(test_nodes_cluster),
	    cmocka_unit_test_setup_teardown(test_kubeconfig_good, kc_setup, kc_teardown),
	    cmocka_unit_test_setup_teardown(test_kubeconfig_bad, kc_setup, kc_teardown),
	    cmocka_unit_test(test_exec_cred),
	    cmocka_unit_test(test_body_pod),
	    cmocka_unit_test(test_body_job),
	    cmocka_unit_test(test_body_endpoint),
	    cmocka_unit_test(test_body_errors),
	    cmocka_unit_test(test_prom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
