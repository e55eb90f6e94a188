/* test_template.c: the template loader against the corpus in tests/data/templates (every bad
 * file's error matches its NAME.expect; YAML and JSON twins load to the same values) and the
 * built-in templates. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/template.h"
#include "core/xmalloc.h"

/* The source tree: $GANTRY_SRCDIR, else derived from this file's path. */
static char *srcdir(void)
{
	const char *env = getenv("GANTRY_SRCDIR");
	const char *file = __FILE__, *suffix = "tests/unit/test_template.c";
	size_t len = strlen(file), slen = strlen(suffix);

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	if (len >= slen && strcmp(file + len - slen, suffix) == 0)
		return len == slen ? xstrdup(".") : xstrndup(file, len - slen - 1);
	return xstrdup(".");
}

static char *testdata(void)
{
	const char *env = getenv("GANTRY_TESTDATA");
	char *src, *d;

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	src = srcdir();
	d = xprintf("%s/tests/data", src);
	free(src);
	return d;
}

static int is_template_file(const char *name)
{
	const char *dot = strrchr(name, '.');

	return name[0] != '.' && dot != NULL &&
	       (strcmp(dot, ".yaml") == 0 || strcmp(dot, ".yml") == 0 || strcmp(dot, ".json") == 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted template file names in dir. */
static char **list_templates(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;

	*n = 0;
	if (d == NULL)
		fail_msg("cannot open %s (set GANTRY_SRCDIR / GANTRY_TESTDATA)", dir);
	while ((e = readdir(d)) != NULL) {
		if (!is_template_file(e->d_name))
			continue;
		names = xreallocarray(names, *n + 1, sizeof *names);
		names[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, *n, sizeof *names, cmp_str);
	return names;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[1024];
	size_t len;

	if (f == NULL)
		return NULL;
	len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return xstrdup(buf);
}

/* Every bad file fails with the LINE:COL and message of its NAME.expect. */
static void test_bad_corpus(void **state)
{
	char *data = testdata(), *dir = xprintf("%s/templates/bad", data);
	size_t n, failures = 0;
	char **names = list_templates(dir, &n);

	assert_true(n >= 30);
	for (size_t i = 0; i < n; i++) {
		char *path = xprintf("%s/%s", dir, names[i]);
		char *stem = xstrndup(names[i], (size_t)(strrchr(names[i], '.') - names[i]));
		char *expect_path = xprintf("%s/%s.expect", dir, stem);
		char *expect = read_text(expect_path);
		struct template *t = template_load_file(path, TPL_LAYER_USER);
		char *prefix = NULL;
		const char *space;

		if (expect == NULL || (space = strchr(expect, ' ')) == NULL) {
			print_error("%s: missing or malformed %s\n", names[i], expect_path);
			failures++;
		} else if (t->error == NULL) {
			print_error("%s: loaded without error, expected %s\n", names[i], expect);
			failures++;
		} else {
			prefix = xprintf("%s:%.*s: ", path, (int)(space - expect), expect);
			if (strncmp(t->error, prefix, strlen(prefix)) != 0 ||
			    strstr(t->error, space + 1) == NULL) {
				print_error("%s:\n  got      %s\n  expected %s\n", names[i],
				            t->error, expect);
				failures++;
			}
		}
		assert_non_null(t->name);
		assert_true(t->name[0] != '\0');
		template_free(t);
		free(prefix);
		free(expect);
		free(expect_path);
		free(stem);
		free(path);
	}
	free_names(names, n);
	free(dir);
	free(data);
	assert_int_equal(failures, 0);
}

static void assert_same_template(const struct template *a, const struct template *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->kind, b->kind);
	assert_true((a->description == NULL) == (b->description == NULL));
	if (a->description)
		assert_string_equal(a->description, b->description);
	assert_int_equal(a->nparams, b->nparams);
	for (size_t i = 0; i < a->nparams; i++) {
		const struct tpl_param *p = &a->params[i], *q = &b->params[i];

		assert_string_equal(p->name, q->name);
		assert_int_equal(p->type, q->type);
		assert_true((p->def == NULL) == (q->def == NULL));
		if (p->def)
			assert_string_equal(p->def, q->def);
		assert_int_equal(p->has_min, q->has_min);
		assert_int_equal(p->has_max, q->has_max);
		assert_true(p->min == q->min && p->max == q->max);
		assert_int_equal(p->nchoices, q->nchoices);
		for (size_t j = 0; j < p->nchoices; j++)
			assert_string_equal(p->choices[j], q->choices[j]);
		assert_true((p->pattern == NULL) == (q->pattern == NULL));
		if (p->pattern)
			assert_string_equal(p->pattern, q->pattern);
	}
	assert_int_equal(a->resources.naccels, b->resources.naccels);
	for (size_t i = 0; i < a->resources.naccels; i++) {
		assert_string_equal(a->resources.accels[i].name, b->resources.accels[i].name);
		assert_int_equal(a->resources.accels[i].count, b->resources.accels[i].count);
	}
	assert_int_equal(a->resources.cpus, b->resources.cpus);
	assert_int_equal(a->resources.cpus_plus, b->resources.cpus_plus);
	assert_int_equal(a->resources.memory_gib, b->resources.memory_gib);
	assert_int_equal(a->resources.memory_plus, b->resources.memory_plus);
	assert_int_equal(a->resources.spot, b->resources.spot);
	assert_int_equal(a->resources.nodes, b->resources.nodes);
	assert_int_equal(a->nplacement_providers, b->nplacement_providers);
	for (size_t i = 0; i < a->nplacement_providers; i++)
		assert_string_equal(a->placement_providers[i], b->placement_providers[i]);
	assert_int_equal(a->nplacement_regions, b->nplacement_regions);
	for (size_t i = 0; i < a->nplacement_regions; i++)
		assert_string_equal(a->placement_regions[i], b->placement_regions[i]);
	assert_true((a->classification == NULL) == (b->classification == NULL));
	if (a->classification)
		assert_string_equal(a->classification, b->classification);
	assert_true((a->setup == NULL) == (b->setup == NULL));
	if (a->setup)
		assert_string_equal(a->setup, b->setup);
	assert_string_equal(a->run, b->run);
	assert_int_equal(a->env.n, b->env.n);
	for (size_t i = 0; i < a->env.n; i++) {
		assert_string_equal(a->env.keys[i], b->env.keys[i]);
		assert_string_equal(a->env.vals[i], b->env.vals[i]);
	}
	assert_int_equal(a->nports, b->nports);
	for (size_t i = 0; i < a->nports; i++)
		assert_int_equal(a->ports[i], b->ports[i]);
	assert_memory_equal(&a->autostop, &b->autostop, sizeof a->autostop);
	assert_memory_equal(&a->limits, &b->limits, sizeof a->limits);
	assert_int_equal(a->service.set, b->service.set);
	assert_int_equal(a->service.port, b->service.port);
	assert_true((a->service.readiness == NULL) == (b->service.readiness == NULL));
	if (a->service.readiness)
		assert_string_equal(a->service.readiness, b->service.readiness);
	assert_int_equal(a->service.readiness_timeout_s, b->service.readiness_timeout_s);
	assert_int_equal(a->service.replicas_min, b->service.replicas_min);
	assert_int_equal(a->service.replicas_max, b->service.replicas_max);
	assert_true(a->service.target_qps_per_replica == b->service.target_qps_per_replica);
}

/* Every good file loads; NAME.yaml and NAME.json load to the same values. */
static void test_good_corpus(void **state)
{
	char *data = testdata(), *dir = xprintf("%s/templates/good", data);
	size_t n, pairs = 0;
	char **names = list_templates(dir, &n);

	assert_true(n >= 4);
	for (size_t i = 0; i < n; i++) {
		char *path = xprintf("%s/%s", dir, names[i]);
		struct template *t = template_load_file(path, TPL_LAYER_BUILTIN);
		size_t stemlen = (size_t)(strrchr(names[i], '.') - names[i]);

		if (t->error != NULL)
			print_error("%s\n", t->error);
		assert_null(t->error);
		if (strcmp(names[i] + stemlen, ".yaml") == 0) {
			char *twin = xprintf("%s/%.*s.json", dir, (int)stemlen, names[i]);
			FILE *f = fopen(twin, "r");

			if (f != NULL) {
				struct template *j = template_load_file(twin, TPL_LAYER_BUILTIN);

				fclose(f);
				assert_null(j->error);
				assert_same_template(t, j);
				template_free(j);
				pairs++;
			}
			free(twin);
		}
		template_free(t);
		free(path);
	}
	assert_true(pairs >= 2);
	free_names(names, n);
	free(dir);
	free(data);
}

/* The values of good/full.yaml, field by field. */
static void test_full_values(void **state)
{
	char *data = testdata(), *path = xprintf("%s/templates/good/full.yaml", data);
	struct template *t = template_load_file(path, TPL_LAYER_SYSTEM);
	char *accel;

	assert_null(t->error);
	assert_string_equal(t->name, "full-example");
	assert_int_equal(t->kind, JOB_KIND_ENDPOINT);
	assert_int_equal(t->layer, TPL_LAYER_SYSTEM);
	assert_string_equal(t->path, path);
	assert_int_equal(t->nparams, 6);
	assert_string_equal(t->params[0].name, "epochs");
	assert_int_equal(t->params[0].type, TPL_PARAM_INT);
	assert_string_equal(t->params[0].def, "3");
	assert_true(t->params[0].has_min && t->params[0].min == 1);
	assert_true(t->params[0].has_max && t->params[0].max == 1000);
	assert_string_equal(t->params[0].description, "Passes");
	assert_int_equal(t->params[0].line, 6);
	assert_int_equal(t->params[0].col, 3);
	assert_int_equal(t->params[1].type, TPL_PARAM_FLOAT);
	assert_string_equal(t->params[1].def, "0.001");
	assert_string_equal(t->params[2].pattern, "^[a-z0-9.-]+$");
	assert_int_equal(t->params[3].type, TPL_PARAM_BOOL);
	assert_int_equal(t->params[4].type, TPL_PARAM_ENUM);
	assert_int_equal(t->params[4].nchoices, 2);
	assert_string_equal(t->params[4].choices[1], "sgd");
	assert_null(t->params[5].def);
	assert_int_equal(t->params[5].type, TPL_PARAM_STRING);
	accel = template_accel_string(t);
	assert_string_equal(accel, "H100:8|A100:8");
	free(accel);
	assert_int_equal(template_gpu_count(t), 8);
	assert_int_equal(t->resources.cpus, 16);
	assert_true(t->resources.cpus_plus);
	assert_int_equal(t->resources.memory_gib, 128);
	assert_true(t->resources.memory_plus);
	assert_int_equal(t->resources.spot, TPL_SPOT_PREFER);
	assert_int_equal(t->resources.nodes, 2);
	assert_int_equal(t->nplacement_providers, 2);
	assert_string_equal(t->placement_providers[1], "lambda");
	assert_string_equal(t->placement_regions[0], "eu-*");
	assert_string_equal(t->classification, "pii");
	assert_string_equal(t->setup, "pip install -r requirements.txt");
	assert_string_equal(t->run, "serve --model {{model}} --epochs {{ epochs }} --lr {{lr}}\n");
	assert_string_equal(kvlist_get(&t->env, "HF_HOME"), "/scratch/hf");
	assert_string_equal(kvlist_get(&t->env, "MODEL"), "{{model}}");
	assert_string_equal(kvlist_get(&t->env, "WORKERS"), "4");
	assert_int_equal(t->nports, 2);
	assert_int_equal(t->ports[1], 8000);
	assert_true(t->autostop.set);
	assert_int_equal(t->autostop.idle_minutes, 30);
	assert_true(t->autostop.gpu_util_below == 7.5);
	assert_false(t->autostop.action_stop);
	assert_true(t->limits.max_hourly_cost == 40);
	assert_int_equal(t->limits.max_runtime_s, 12 * 3600);
	assert_true(t->service.set);
	assert_int_equal(t->service.port, 8000);
	assert_string_equal(t->service.readiness, "/health");
	assert_int_equal(t->service.readiness_timeout_s, 45);
	assert_int_equal(t->service.replicas_min, 0);
	assert_int_equal(t->service.replicas_max, 4);
	assert_true(t->service.target_qps_per_replica == 5);
	assert_true(template_wants_port(t));
	template_free(t);
	free(path);
	free(data);
}

/* Defaults of fields a template leaves out. */
static void test_defaults(void **state)
{
	static const char text[] = "name: tiny\nkind: training\nrun: echo hi\n";
	struct template *t = template_load_text("tiny.yaml", text, sizeof text - 1, TPL_LAYER_USER);
	char *accel = template_accel_string(t);

	assert_null(t->error);
	assert_string_equal(accel, "-");
	assert_int_equal(template_gpu_count(t), 0);
	assert_false(template_wants_port(t));
	assert_int_equal(t->resources.nodes, 1);
	assert_int_equal(t->resources.spot, TPL_SPOT_NEVER);
	assert_false(t->autostop.set);
	assert_false(t->service.set);
	assert_int_equal(t->service.readiness_timeout_s, 120);
	assert_int_equal(t->limits.max_runtime_s, 0);
	assert_null(t->classification);
	assert_int_equal(t->env.n, 0);
	free(accel);
	template_free(t);
}

static void expect_runtime(const char *value, long seconds)
{
	char *text = xprintf("name: d\nkind: training\nrun: x\nlimits: {max_runtime: %s}\n", value);
	struct template *t = template_load_text("d.yaml", text, strlen(text), TPL_LAYER_USER);

	if (seconds < 0) {
		assert_non_null(t->error);
		assert_non_null(strstr(t->error, "duration"));
	} else {
		assert_null(t->error);
		assert_int_equal(t->limits.max_runtime_s, seconds);
	}
	template_free(t);
	free(text);
}

static void test_durations(void **state)
{
	expect_runtime("90", 90);
	expect_runtime("90s", 90);
	expect_runtime("30m", 1800);
	expect_runtime("12h", 43200);
	expect_runtime("2d", 172800);
	expect_runtime("1h30m", 5400);
	expect_runtime("\"600\"", 600);
	expect_runtime("0", -1);
	expect_runtime("h", -1);
	expect_runtime("5w", -1);
	expect_runtime("-5m", -1);
	expect_runtime("99999999999d", -1);
}

/* A broken file still yields a template with a name (read from the file or its path). */
static void test_broken_keeps_name(void **state)
{
	static const char named[] = "name: keep-me\nkind: nonsense\nrun: x\n";
	static const char junk[] = "{ this is: [not yaml\n";
	struct template *t =
	    template_load_text("/x/y/a.yaml", named, sizeof named - 1, TPL_LAYER_USER);

	assert_non_null(t->error);
	assert_string_equal(t->name, "keep-me");
	template_free(t);
	t = template_load_text("/x/y/some-file.yml", junk, sizeof junk - 1, TPL_LAYER_USER);
	assert_non_null(t->error);
	assert_true(strncmp(t->error, "/x/y/some-file.yml:", 19) == 0);
	assert_string_equal(t->name, "some-file");
	template_free(t);
	t = template_load_file("/nonexistent/dir/gone.json", TPL_LAYER_USER);
	assert_non_null(t->error);
	assert_non_null(strstr(t->error, "cannot open"));
	assert_string_equal(t->name, "gone");
	template_free(t);
}

/* Hostile inputs never crash: NUL bytes, truncated text, every prefix of a good file. */
static void test_hostile_text(void **state)
{
	static const char nul[] = "name: a\0b\nkind: training\nrun: x\n";
	static const char good[] =
	    "{\"name\": \"p\", \"kind\": \"endpoint\", \"run\": \"x {{a}}\", "
	    "\"params\": {\"a\": {\"type\": \"enum\", \"choices\": [\"u\"], "
	    "\"default\": \"u\"}}, \"service\": {\"replicas\": {\"max\": 2}}}";
	struct template *t = template_load_text("n.yaml", nul, sizeof nul - 1, TPL_LAYER_USER);

	assert_non_null(t->error);
	template_free(t);
	for (size_t len = 0; len < sizeof good - 1; len++) {
		t = template_load_text("p.json", good, len, TPL_LAYER_USER);
		assert_non_null(t->error);
		template_free(t);
		t = template_load_text("p.yaml", good, len, TPL_LAYER_USER);
		assert_non_null(t->error);
		template_free(t);
	}
	t = template_load_text("p.json", good, sizeof good - 1, TPL_LAYER_USER);
	assert_null(t->error);
	assert_int_equal(t->service.replicas_max, 2);
	template_free(t);
}

/* Every template shipped in templates/ loads without error and describes itself. */
static void test_builtins(void **state)
{
	char *src = srcdir(), *dir = xprintf("%s/templates", src);
	const char *dirs[] = {dir};
	const enum tpl_layer layers[] = {TPL_LAYER_BUILTIN};
	static const char *const expected[] = {
	    "hello",         "http-endpoint",   "jupyter-notebook", "llama-finetune-h100x8",
	    "notebook-a100", "train-mnist-tiny"};
	struct template_set set;
	size_t n;
	char **names = list_templates(dir, &n);

	template_set_load(&set, dirs, layers, 1);
	assert_int_equal(set.n, n);
	for (size_t i = 0; i < set.n; i++) {
		const struct template *t = set.items[i];

		if (t->error != NULL)
			print_error("%s\n", t->error);
		assert_null(t->error);
		assert_non_null(t->description);
		assert_true(strlen(t->description) > 20);
		if (i > 0)
			assert_true(strcmp(set.items[i - 1]->name, t->name) < 0);
	}
	for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
		assert_non_null(template_set_find(&set, expected[i]));
	assert_null(template_set_find(&set, "no-such-template"));
	assert_int_equal(template_set_find(&set, "jupyter-notebook")->kind, JOB_KIND_NOTEBOOK);
	assert_true(template_wants_port(template_set_find(&set, "jupyter-notebook")));
	assert_true(template_wants_port(template_set_find(&set, "http-endpoint")));
	assert_false(template_wants_port(template_set_find(&set, "train-mnist-tiny")));
	assert_int_equal(template_gpu_count(template_set_find(&set, "llama-finetune-h100x8")), 8);
	assert_int_equal(template_gpu_count(template_set_find(&set, "notebook-a100")), 1);
	template_set_free(&set);
	free_names(names, n);
	free(dir);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_corpus),   cmocka_unit_test(test_good_corpus),
	    cmocka_unit_test(test_full_values),  cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_durations),    cmocka_unit_test(test_broken_keeps_name),
	    cmocka_unit_test(test_hostile_text), cmocka_unit_test(test_builtins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
