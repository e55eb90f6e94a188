/* test_theme.c: theme files (tui/theme.c): parsing, errors with FILE:LINE:COL, colour
 * reduction, and the shipped themes under themes/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tui/theme.h"

static int parse(struct theme *t, const char *text, char **cause)
{
	theme_default(t);
	return theme_parse(t, "x.theme", text, strlen(text), cause);
}

static void test_roles(void **state)
{
	int r;

	(void)state;
	for (r = 0; r < THEME_ROLE_COUNT; r++)
		assert_int_equal(theme_role_parse(theme_role_name((enum theme_role)r)), r);
	assert_string_equal(theme_role_name(THEME_STATE_ROLE(JOB_RUNNING)), "state.running");
	assert_int_equal(theme_role_parse("state.failed"), THEME_STATE_ROLE(JOB_FAILED));
	assert_int_equal(theme_role_parse("nope"), -1);
}

static void test_parse_ok(void **state)
{
	struct theme t;
	char *cause = NULL;

	(void)state;
	assert_int_equal(parse(&t,
	                       "# comment\n"
	                       "\n"
	                       "header = black cyan bold\n"
	                       "  state.running=green default  # trailing comment\r\n"
	                       "selected = reverse\n"
	                       "dim = color244\n"
	                       "border = #ff0000 bright-blue underline italic\n",
	                       &cause),
	                 0);
	assert_null(cause);
	assert_int_equal(t.st[THEME_HEADER].fg, 0);
	assert_int_equal(t.st[THEME_HEADER].bg, 6);
	assert_int_equal(t.st[THEME_HEADER].attrs, THEME_A_BOLD);
	assert_int_equal(t.st[THEME_STATE_ROLE(JOB_RUNNING)].fg, 2);
	assert_int_equal(t.st[THEME_STATE_ROLE(JOB_RUNNING)].bg, THEME_COLOR_DEFAULT);
	assert_int_equal(t.st[THEME_STATE_ROLE(JOB_RUNNING)].attrs, 0);
	assert_int_equal(t.st[THEME_SELECTED].fg, THEME_COLOR_DEFAULT);
	assert_int_equal(t.st[THEME_SELECTED].attrs, THEME_A_REVERSE);
	assert_int_equal(t.st[THEME_DIM].fg, 244);
	assert_int_equal(t.st[THEME_BORDER].fg, 196);
	assert_int_equal(t.st[THEME_BORDER].bg, 12);
	assert_int_equal(t.st[THEME_BORDER].attrs, THEME_A_UNDERLINE | THEME_A_ITALIC);
	/* A role left out keeps the built-in value. */
	assert_int_equal(t.st[THEME_STATUS_ERROR].fg, 1);
}

static void test_parse_errors(void **state)
{
	struct theme t;
	char *cause = NULL;

	(void)state;
	assert_int_equal(parse(&t, "header = black\nfoo.bar = red\n", &cause), -1);
	assert_string_equal(cause, "x.theme:2:1: unknown role 'foo.bar' (expected one such as "
	                           "header, selected, state.running)");
	free(cause);
	cause = NULL;
	assert_int_equal(parse(&t, "header = black purple\n", &cause), -1);
	assert_non_null(strstr(cause, "x.theme:1:16: unknown colour or attribute 'purple'"));
	free(cause);
	cause = NULL;
	assert_int_equal(parse(&t, "  header black\n", &cause), -1);
	assert_non_null(strstr(cause, "x.theme:1:3: expected 'ROLE = "));
	free(cause);
	cause = NULL;
	assert_int_equal(parse(&t, "header = red green blue\n", &cause), -1);
	assert_non_null(strstr(cause, "x.theme:1:20: a third colour 'blue'"));
	free(cause);
	cause = NULL;
	assert_int_equal(parse(&t, "header = color256\n", &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(parse(&t, " = red\n", &cause), -1);
	assert_non_null(strstr(cause, "x.theme:1:2: expected a role name"));
	free(cause);
	cause = NULL;
	assert_int_equal(theme_parse(&t, "x.theme", "header = red\0x\n", 15, &cause), -1);
	free(cause);
}

static void test_colors(void **state)
{
	(void)state;
	assert_int_equal(theme_color_parse("default"), THEME_COLOR_DEFAULT);
	assert_int_equal(theme_color_parse("RED"), 1);
	assert_int_equal(theme_color_parse("bright-white"), 15);
	assert_int_equal(theme_color_parse("grey"), 8);
	assert_int_equal(theme_color_parse("208"), 208);
	assert_int_equal(theme_color_parse("color0"), 0);
	assert_int_equal(theme_color_parse("#000000"), 16);
	assert_int_equal(theme_color_parse("#ffffff"), 231);
	assert_int_equal(theme_color_parse("#fffff"), -2);
	assert_int_equal(theme_color_parse("bright-purple"), -2);
	assert_int_equal(theme_color_parse("-1"), -2);
	/* Reduction keeps what fits and maps the rest to the nearest basic colour. */
	assert_int_equal(theme_color_reduce(3, 8), 3);
	assert_int_equal(theme_color_reduce(196, 256), 196);
	assert_int_equal(theme_color_reduce(196, 8), 1);
	assert_int_equal(theme_color_reduce(196, 16), 9);
	assert_int_equal(theme_color_reduce(9, 8), 1);
	assert_int_equal(theme_color_reduce(46, 8), 2);
	assert_int_equal(theme_color_reduce(21, 16), 4);
	assert_int_equal(theme_color_reduce(231, 8), 7);
	assert_int_equal(theme_color_reduce(16, 8), 0);
	assert_int_equal(theme_color_reduce(THEME_COLOR_DEFAULT, 8), THEME_COLOR_DEFAULT);
	assert_int_equal(theme_color_reduce(5, 2), THEME_COLOR_DEFAULT);
}

static void test_mono(void **state)
{
	struct theme t;

	(void)state;
	theme_default(&t);
	/* Colours only in the theme: attributes still keep roles apart. */
	assert_true(theme_mono_attrs(&t, THEME_SELECTED) & THEME_A_REVERSE);
	assert_true(theme_mono_attrs(&t, THEME_HEADER) & THEME_A_REVERSE);
	assert_true(theme_mono_attrs(&t, THEME_STATE_ROLE(JOB_RUNNING)) & THEME_A_BOLD);
	assert_true(theme_mono_attrs(&t, THEME_STATE_ROLE(JOB_STOPPED)) & THEME_A_DIM);
}

/* Every shipped theme parses and sets every role. */
static void test_shipped(void **state)
{
	static const char *const names[] = {"default", "light", "high-contrast", "monochrome"};
	const char *src = getenv("GANTRY_SRCDIR");
	char *dir, *cause = NULL;
	struct theme t;
	size_t i;

	(void)state;
	if (src == NULL)
		src = ".";
	dir = malloc(strlen(src) + 16);
	strcpy(dir, src);
	strcat(dir, "/themes");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *dirs[] = {"/nonexistent", dir};

		if (theme_load(&t, names[i], dirs, 2, &cause) != 0)
			fail_msg("%s: %s", names[i], cause);
		assert_string_equal(t.name, names[i]);
	}
	theme_load(&t, "monochrome", (const char *[]){dir}, 1, &cause);
	for (i = 0; i < THEME_ROLE_COUNT; i++) {
		assert_int_equal(t.st[i].fg, THEME_COLOR_DEFAULT);
		assert_int_equal(t.st[i].bg, THEME_COLOR_DEFAULT);
	}
	assert_int_equal(theme_load(&t, "../etc/passwd", (const char *[]){dir}, 1, &cause), -1);
	assert_non_null(strstr(cause, "bad theme name"));
	free(cause);
	cause = NULL;
	assert_int_equal(theme_load(&t, "nosuch", (const char *[]){dir}, 1, &cause), -1);
	assert_non_null(strstr(cause, "no theme 'nosuch'"));
	assert_string_equal(t.name, "default");
	free(cause);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roles),        cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_parse_errors), cmocka_unit_test(test_colors),
	    cmocka_unit_test(test_mono),         cmocka_unit_test(test_shipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
