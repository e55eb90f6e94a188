/* test_params.c: parameter resolution and validation, {{name}} rendering and shell quoting
 * (checked by running the rendered text through /bin/sh), and template layering. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/template.h"
#include "core/xmalloc.h"

static const char typed_yaml[] =
    "name: typed\n"
    "kind: training\n"
    "params:\n"
    "  epochs: {type: int, default: 5, min: 1, max: 1000}\n"
    "  lr: {type: float, default: 0.1, min: 0.000001, max: 10}\n"
    "  fast: {type: bool, default: false}\n"
    "  opt: {type: enum, choices: [adam, sgd], default: adam}\n"
    "  model: {type: string, pattern: \"[a-z0-9.-]+\", default: m1}\n"
    "  token: {type: string, description: required}\n"
    "  below: {type: int, max: 10, default: 1}\n"
    "  above: {type: float, min: 0.5, default: 1}\n"
    "run: train {{epochs}} {{lr}} {{fast}} {{opt}} {{model}} {{token}}\n";

static struct template *typed(void)
{
	struct template *t =
	    template_load_text("typed.yaml", typed_yaml, sizeof typed_yaml - 1, TPL_LAYER_USER);

	if (t->error != NULL)
		print_error("%s\n", t->error);
	assert_null(t->error);
	return t;
}

/* Resolves sets against the typed template; returns the cause on failure (caller frees). */
static char *resolve_fail(const char *const *sets, size_t n)
{
	struct template *t = typed();
	struct kvlist out;
	char *cause = NULL;

	kvlist_init(&out);
	assert_int_equal(template_resolve_params(t, sets, n, &out, &cause), -1);
	assert_non_null(cause);
	assert_null(strchr(cause, '\n'));
	assert_int_equal(out.n, 0);
	kvlist_free(&out);
	template_free(t);
	return cause;
}

static void expect_fail(const char *set, const char *substring)
{
	const char *sets[] = {"token=t", set};
	char *cause = resolve_fail(sets, 2);

	if (strstr(cause, substring) == NULL)
		fail_msg("set '%s': cause '%s' lacks '%s'", set, cause, substring);
	free(cause);
}

static void test_defaults(void **state)
{
	struct template *t = typed();
	const char *sets[] = {"token=abc"};
	struct kvlist out;
	char *cause = NULL;

	kvlist_init(&out);
	assert_int_equal(template_resolve_params(t, sets, 1, &out, &cause), 0);
	assert_null(cause);
	assert_int_equal(out.n, t->nparams);
	assert_string_equal(out.keys[0], "epochs");
	assert_string_equal(kvlist_get(&out, "epochs"), "5");
	assert_string_equal(kvlist_get(&out, "lr"), "0.1");
	assert_string_equal(kvlist_get(&out, "fast"), "false");
	assert_string_equal(kvlist_get(&out, "opt"), "adam");
	assert_string_equal(kvlist_get(&out, "model"), "m1");
	assert_string_equal(kvlist_get(&out, "token"), "abc");
	kvlist_free(&out);
	template_free(t);
}

static void test_assignments(void **state)
{
	struct template *t = typed();
	const char *sets[] = {"token=a=b=c", "epochs=7",    "epochs=+12", "lr=1e-3",
	                      "opt=sgd",     "model=x.y-z", "token="};
	struct kvlist out;
	char *cause = NULL;

	kvlist_init(&out);
	assert_int_equal(template_resolve_params(t, sets, 6, &out, &cause), 0);
	assert_string_equal(kvlist_get(&out, "token"), "a=b=c"); /* split at the first '=' */
	assert_string_equal(kvlist_get(&out, "epochs"), "12");   /* last one wins, normalised */
	assert_string_equal(kvlist_get(&out, "lr"), "1e-3");
	assert_string_equal(kvlist_get(&out, "opt"), "sgd");
	assert_string_equal(kvlist_get(&out, "model"), "x.y-z");
	kvlist_free(&out);
	kvlist_init(&out);
	assert_int_equal(template_resolve_params(t, sets, 7, &out, &cause), 0);
	assert_string_equal(kvlist_get(&out, "token"), ""); /* an empty value is a value */
	kvlist_free(&out);
	template_free(t);
}

static void test_bool_forms(void **state)
{
	static const char *const yes[] = {"true", "TRUE", "yes", "Yes", "1", "on"};
	static const char *const no[] = {"false", "False", "no", "NO", "0", "off"};
	struct template *t = typed();

	for (size_t i = 0; i < 12; i++) {
		const char *v = i < 6 ? yes[i] : no[i - 6];
		char *set = xprintf("fast=%s", v);
		const char *sets[] = {"token=t", set};
		struct kvlist out;
		char *cause = NULL;

		kvlist_init(&out);
		assert_int_equal(template_resolve_params(t, sets, 2, &out, &cause), 0);
		assert_string_equal(kvlist_get(&out, "fast"), i < 6 ? "true" : "false");
		kvlist_free(&out);
		free(set);
	}
	template_free(t);
	expect_fail("fast=maybe", "parameter 'fast' expects a boolean (true/false, yes/no, 1/0), "
	                          "got 'maybe'");
	expect_fail("fast=", "parameter 'fast' expects a boolean");
}

static void test_failures(void **state)
{
	const char *none[] = {"epochs=3"};
	const char *noeq[] = {"epochs"};
	const char *noname[] = {"=3"};
	const char *unknown[] = {"token=t", "colour=red"};
	char *cause;

	cause = resolve_fail(none, 1);
	assert_string_equal(cause, "missing required parameter 'token' (string): set it with "
	                           "token=VALUE");
	free(cause);
	cause = resolve_fail(noeq, 1);
	assert_string_equal(cause, "invalid parameter assignment 'epochs': expected NAME=VALUE");
	free(cause);
	cause = resolve_fail(noname, 1);
	assert_non_null(strstr(cause, "expected NAME=VALUE"));
	free(cause);
	cause = resolve_fail(unknown, 2);
	assert_string_equal(cause, "unknown parameter 'colour' (template typed has: epochs, lr, "
	                           "fast, opt, model, token, below, above)");
	free(cause);

	expect_fail("epochs=abc", "parameter 'epochs' expects an integer, got 'abc'");
	expect_fail("epochs=1.5", "parameter 'epochs' expects an integer, got '1.5'");
	expect_fail("epochs= 5", "parameter 'epochs' expects an integer");
	expect_fail("epochs=0x10", "parameter 'epochs' expects an integer");
	expect_fail("epochs=99999999999999999999", "parameter 'epochs' expects an integer");
	expect_fail("epochs=0", "parameter 'epochs' must be between 1 and 1000, got 0");
	expect_fail("epochs=1001", "parameter 'epochs' must be between 1 and 1000, got 1001");
	expect_fail("below=11", "parameter 'below' must be at most 10, got 11");
	expect_fail("above=0.25", "parameter 'above' must be at least 0.5, got 0.25");
	expect_fail("lr=fast", "parameter 'lr' expects a number, got 'fast'");
	expect_fail("lr=nan", "parameter 'lr' expects a number");
	expect_fail("lr=inf", "parameter 'lr' expects a number");
	expect_fail("lr=0", "parameter 'lr' must be between 1e-06 and 10, got 0");
	expect_fail("lr=11", "parameter 'lr' must be between");
	expect_fail("opt=lamb", "parameter 'opt' expects one of adam, sgd, got 'lamb'");
	expect_fail("opt=ADAM", "parameter 'opt' expects one of adam, sgd");
	expect_fail("model=Llama 3", "parameter 'model' must match the pattern [a-z0-9.-]+, got "
	                             "'Llama 3'");
	/* the pattern must match the whole value, not a part of it */
	expect_fail("model=ok;rm -rf /", "must match the pattern");
	/* values in messages stay on one line */
	expect_fail("model=a\nb", "got 'a\\nb'");
	/* every value is stored as JSON text: bytes that are not UTF-8 are refused, by name */
	expect_fail("token=ab\xff"
	            "cd",
	            "parameter 'token' is not valid UTF-8 text (byte 0xFF at offset 2)");
	expect_fail("token=\xc0\xaf", "parameter 'token' is not valid UTF-8 text (byte 0xC0");
	expect_fail("token=\xed\xa0\x80", "parameter 'token' is not valid UTF-8");
	expect_fail("token=caf\xc3", "parameter 'token' is not valid UTF-8 text (byte 0xC3 at "
	                             "offset 3)");
	expect_fail("opt=\xf5\x80\x80\x80", "parameter 'opt' is not valid UTF-8");
}

static void test_utf8(void **state)
{
	static const char *const sets[] = {"token=caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80",
	                                   "model=ok"};
	struct template *t = typed();
	struct kvlist out;
	char *cause = NULL, *s;

	kvlist_init(&out);
	assert_int_equal(template_resolve_params(t, sets, 2, &out, &cause), 0);
	assert_string_equal(kvlist_get(&out, "token"), "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
	kvlist_free(&out);
	/* the form's inline check says the same */
	assert_int_equal(template_param_check(&t->params[5], "a\x80", &cause), -1);
	assert_non_null(strstr(cause, "not valid UTF-8"));
	free(cause);
	template_free(t);
	assert_int_equal(template_utf8_bad("plain"), -1);
	assert_int_equal(template_utf8_bad("x\xe6\x97"), 1);
	s = template_utf8_lossy("a\xff"
	                        "b\xc3\xa9\xe6\x97");
	assert_string_equal(s, "a\xef\xbf\xbd"
	                       "b\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
}

static void test_param_check(void **state)
{
	struct template *t = typed();
	char *cause = NULL;

	assert_int_equal(template_param_check(&t->params[0], "10", &cause), 0);
	assert_int_equal(template_param_check(&t->params[0], "-1", &cause), -1);
	assert_non_null(strstr(cause, "'epochs'"));
	free(cause);
	template_free(t);
}

static void test_broken_template_refused(void **state)
{
	static const char text[] = "name: b\nkind: nope\nrun: x\n";
	struct template *t = template_load_text("b.yaml", text, sizeof text - 1, TPL_LAYER_USER);
	struct kvlist out;
	char *cause = NULL;

	kvlist_init(&out);
	assert_int_equal(template_resolve_params(t, NULL, 0, &out, &cause), -1);
	assert_non_null(strstr(cause, "broken"));
	free(cause);
	kvlist_free(&out);
	template_free(t);
}

static void test_shell_quote(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"abc", "'abc'"},       {"", "''"},
	    {"it's", "'it'\\''s'"}, {"'", "''\\'''"},
	    {"a b\tc", "'a b\tc'"}, {"$(x) `y` \\z \"q\"", "'$(x) `y` \\z \"q\"'"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *q = template_shell_quote(cases[i].in);

		assert_string_equal(q, cases[i].out);
		free(q);
	}
}

static void test_render(void **state)
{
	struct kvlist v;
	char *out = NULL, *cause = NULL;

	kvlist_init(&v);
	kvlist_set(&v, "who", "wo rld");
	kvlist_set(&v, "n", "3");
	assert_int_equal(template_render("echo hello {{who}} {{ n }}{{n}}", &v, &out, &cause), 0);
	assert_string_equal(out, "echo hello 'wo rld' '3''3'");
	free(out);
	assert_int_equal(template_render_raw("{{who}}-{{\tn\t}}", &v, &out, &cause), 0);
	assert_string_equal(out, "wo rld-3");
	free(out);
	assert_int_equal(template_render("no placeholders { } }} {", &v, &out, &cause), 0);
	assert_string_equal(out, "no placeholders { } }} {");
	free(out);
	assert_int_equal(template_render("", &v, &out, &cause), 0);
	assert_string_equal(out, "");
	free(out);
	/* a value holding a placeholder is not expanded again */
	kvlist_set(&v, "who", "{{n}}");
	assert_int_equal(template_render_raw("{{who}}", &v, &out, &cause), 0);
	assert_string_equal(out, "{{n}}");
	free(out);

	out = NULL;
	assert_int_equal(template_render("a\nb {{nope}}", &v, &out, &cause), -1);
	assert_null(out);
	assert_string_equal(cause, "unknown placeholder '{{nope}}' at line 2 (known: who, n)");
	free(cause);
	cause = NULL;
	assert_int_equal(template_render("x {{ who", &v, &out, &cause), -1);
	assert_non_null(strstr(cause, "malformed placeholder at line 1"));
	free(cause);
	cause = NULL;
	assert_int_equal(template_render("{{}}", &v, &out, &cause), -1);
	free(cause);
	kvlist_free(&v);
}

/* Runs cmd with /bin/sh -c in dir; returns its stdout (heap). */
static char *run_shell(const char *dir, const char *cmd)
{
	char *full = xprintf("cd '%s' && %s", dir, cmd);
	FILE *p = popen(full, "r");
	char *buf = xmalloc(65536);
	size_t len;

	assert_non_null(p);
	len = fread(buf, 1, 65535, p);
	buf[len] = '\0';
	pclose(p);
	free(full);
	return buf;
}

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty;
}

/* Whatever a value holds, the shell sees one literal word and runs nothing else. */
static void test_injection(void **state)
{
	static const char *const payloads[] = {
	    "'; touch pwned #",
	    "'; rm -rf / #",
	    "$(touch pwned)",
	    "`touch pwned`",
	    "a\ntouch pwned",
	    "a'\ntouch pwned\n'",
	    "\"; touch pwned; echo \"",
	    "x' \"$(touch pwned)\" '",
	    "$HOME ${PATH} $((1+1)) !! ~ *",
	    "'\\''; touch pwned; '\\''",
	    "\\",
	    "'",
	    "''",
	    "",
	    "{{v}}",
	    "-n",
	    "a;b|c&d>e<f",
	};
	char tmpl[] = "/tmp/gantry-test-params-XXXXXX";
	char *dir = mkdtemp(tmpl);

	assert_non_null(dir);
	for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
		struct kvlist v;
		char *out = NULL, *cause = NULL, *got;

		kvlist_init(&v);
		kvlist_set(&v, "v", payloads[i]);
		assert_int_equal(template_render("printf '[%s]' {{v}}", &v, &out, &cause), 0);
		got = run_shell(dir, out);
		{
			char *want = xprintf("[%s]", payloads[i]);

			if (strcmp(got, want) != 0)
				fail_msg("payload %zu: rendered %s printed %s", i, out, got);
			free(want);
		}
		assert_true(dir_is_empty(dir));
		free(got);
		free(out);
		kvlist_free(&v);
	}
	rmdir(dir);
}

/* Resolving then rendering a template's run quotes every value. */
static void test_render_template_run(void **state)
{
	struct template *t = typed();
	const char *sets[] = {"token=it's $(x)"};
	struct kvlist out;
	char *cause = NULL, *text = NULL;

	kvlist_init(&out);
	assert_int_equal(template_resolve_params(t, sets, 1, &out, &cause), 0);
	assert_int_equal(template_render(t->run, &out, &text, &cause), 0);
	assert_string_equal(text, "train '5' '0.1' 'false' 'adam' 'm1' 'it'\\''s $(x)'");
	free(text);
	kvlist_free(&out);
	template_free(t);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A user template replaces a built-in of the same name; missing dirs are skipped. */
static void test_layering(void **state)
{
	char tmpl[] = "/tmp/gantry-test-layers-XXXXXX";
	char *root = mkdtemp(tmpl);
	char *builtin = xprintf("%s/builtin", root), *user = xprintf("%s/user", root);
	char *missing = xprintf("%s/missing", root);
	char *files[6];
	const char *dirs[] = {builtin, missing, user};
	const enum tpl_layer layers[] = {TPL_LAYER_BUILTIN, TPL_LAYER_SYSTEM, TPL_LAYER_USER};
	struct template_set set;
	const struct template *t;

	assert_non_null(root);
	assert_int_equal(mkdir(builtin, 0700), 0);
	assert_int_equal(mkdir(user, 0700), 0);
	files[0] = xprintf("%s/hello.yaml", builtin);
	write_file(files[0], "name: hello\nkind: training\ndescription: built-in\nrun: echo b\n");
	files[1] = xprintf("%s/zeta.json", builtin);
	write_file(files[1], "{\"name\": \"zeta\", \"kind\": \"training\", \"run\": \"z\"}");
	files[2] = xprintf("%s/other-file-name.yml", user);
	write_file(files[2], "name: hello\nkind: training\ndescription: mine\nrun: echo u\n");
	files[3] = xprintf("%s/alpha.yaml", user);
	write_file(files[3], "name: alpha\nkind: notebook\nrun: [broken\n");
	files[4] = xprintf("%s/notes.txt", user);
	write_file(files[4], "not a template\n");
	files[5] = xprintf("%s/zeta-copy.yaml", builtin);
	write_file(files[5], "name: zeta\nkind: training\nrun: z2\n");

	template_set_load(&set, dirs, layers, 3);
	assert_int_equal(set.n, 3);
	assert_string_equal(set.items[0]->name, "alpha");
	assert_string_equal(set.items[1]->name, "hello");
	assert_string_equal(set.items[2]->name, "zeta");
	t = template_set_find(&set, "hello");
	assert_non_null(t);
	assert_int_equal(t->layer, TPL_LAYER_USER);
	assert_string_equal(t->description, "mine");
	assert_string_equal(t->path, files[2]);
	assert_null(t->error);
	t = template_set_find(&set, "alpha");
	assert_non_null(t);
	assert_non_null(t->error);
	/* two built-in files claiming one name: the later is kept and marked */
	t = template_set_find(&set, "zeta");
	assert_non_null(t->error);
	assert_non_null(strstr(t->error, "also used by"));
	template_set_free(&set);
	assert_int_equal(set.n, 0);

	for (size_t i = 0; i < 6; i++) {
		unlink(files[i]);
		free(files[i]);
	}
	rmdir(builtin);
	rmdir(user);
	rmdir(root);
	free(builtin);
	free(user);
	free(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),    cmocka_unit_test(test_assignments),
	    cmocka_unit_test(test_bool_forms),  cmocka_unit_test(test_failures),
	    cmocka_unit_test(test_param_check), cmocka_unit_test(test_broken_template_refused),
	    cmocka_unit_test(test_shell_quote), cmocka_unit_test(test_render),
	    cmocka_unit_test(test_injection),   cmocka_unit_test(test_render_template_run),
	    cmocka_unit_test(test_layering),    cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
