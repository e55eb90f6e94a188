/* test_layout.c: the TUI's pure screen arithmetic (tui/layout.c). */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tui/layout.h"

static int utf8_ok;

static int setup(void **state)
{
	(void)state;
	utf8_ok = setlocale(LC_CTYPE, "C.UTF-8") != NULL || setlocale(LC_CTYPE, "C.utf8") != NULL ||
	          setlocale(LC_CTYPE, "en_US.UTF-8") != NULL;
	return 0;
}

static void test_width(void **state)
{
	(void)state;
	assert_int_equal(layout_width("", 0), 0);
	assert_int_equal(layout_width("hello", 0), 5);
	assert_int_equal(layout_width("caf\xc3\xa9", 0), 4);
	assert_int_equal(layout_width("caf\xc3\xa9", LAYOUT_ASCII), 5);
	/* An invalid byte counts as one column. */
	assert_int_equal(layout_width("a\xff"
	                              "b",
	                              0),
	                 3);
	if (utf8_ok) {
		/* CJK is double width, a combining accent has none. */
		assert_int_equal(layout_width("\xe6\x97\xa5\xe6\x9c\xac", 0), 4);
		assert_int_equal(layout_width("e\xcc\x81", 0), 1);
	}
}

static void test_utf8_next(void **state)
{
	uint32_t cp;

	(void)state;
	assert_int_equal(layout_utf8_next("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(layout_utf8_next("\xe2\x80\xa6", 3, &cp), 3);
	assert_int_equal(cp, 0x2026);
	/* Truncated and overlong sequences are one bad byte each. */
	assert_int_equal(layout_utf8_next("\xe2\x80", 2, &cp), 1);
	assert_int_equal(cp, 0xfffd);
	assert_int_equal(layout_utf8_next("\xe0\x80\x80", 3, &cp), 1);
	assert_int_equal(cp, 0xfffd);
	assert_int_equal(layout_utf8_next("\xed\xa0\x80", 3, &cp), 1);
	assert_int_equal(cp, 0xfffd);
}

static void test_fit(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(layout_fit("hello", 10, 0, out, sizeof(out)), 5);
	assert_string_equal(out, "hello");
	assert_int_equal(layout_fit("hello", 10, LAYOUT_PAD, out, sizeof(out)), 10);
	assert_string_equal(out, "hello     ");
	assert_int_equal(layout_fit("hello", 5, 0, out, sizeof(out)), 5);
	assert_string_equal(out, "hello");
	assert_int_equal(layout_fit("hello world", 5, 0, out, sizeof(out)), 5);
	assert_string_equal(out, "hell\xe2\x80\xa6");
	assert_int_equal(layout_fit("hello world", 5, LAYOUT_ASCII, out, sizeof(out)), 5);
	assert_string_equal(out, "hell~");
	assert_int_equal(layout_fit("hello", 1, LAYOUT_ASCII, out, sizeof(out)), 1);
	assert_string_equal(out, "~");
	assert_int_equal(layout_fit("hello", 0, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(layout_fit("42", 5, LAYOUT_RIGHT, out, sizeof(out)), 5);
	assert_string_equal(out, "   42");
	assert_int_equal(layout_fit("123456", 4, LAYOUT_RIGHT | LAYOUT_ASCII, out, sizeof(out)), 4);
	assert_string_equal(out, "123~");
	/* Never cuts inside a UTF-8 character. */
	assert_int_equal(layout_fit("\xc3\xa9\xc3\xa9\xc3\xa9", 2, 0, out, sizeof(out)), 2);
	assert_string_equal(out, "\xc3\xa9\xe2\x80\xa6");
	/* A small buffer is never overrun and stays terminated. */
	layout_fit("hello world", 20, LAYOUT_PAD, out, 4);
	assert_int_equal(strlen(out), 3);
	if (utf8_ok) {
		/* A wide character that would straddle the edge is left out. */
		assert_int_equal(
		    layout_fit("a\xe6\x97\xa5\xe6\x9c\xac", 3, LAYOUT_PAD, out, sizeof(out)), 3);
		assert_string_equal(out, "a\xe2\x80\xa6 ");
	}
}

static void test_columns_fit(void **state)
{
	const struct layout_col cols[] = {
	    {.min = 10, .want = 20, .grow = 1, .prio = 10},
	    {.min = 8, .want = 8, .grow = 0, .prio = 5},
	    {.min = 4, .want = 4, .grow = 0, .prio = 8},
	};
	int w[3];

	(void)state;
	/* Everything at want, the rest to the growing column. */
	assert_int_equal(layout_columns(cols, 3, 50, 2, w), 3);
	assert_int_equal(w[0], 34);
	assert_int_equal(w[1], 8);
	assert_int_equal(w[2], 4);
	assert_int_equal(w[0] + w[1] + w[2] + 4, 50);
	/* Between min and want: the most important column grows first. */
	assert_int_equal(layout_columns(cols, 3, 30, 2, w), 3);
	assert_int_equal(w[0], 14);
	assert_int_equal(w[1], 8);
	assert_int_equal(w[2], 4);
	/* Too narrow: the lowest priority column goes. */
	assert_int_equal(layout_columns(cols, 3, 20, 2, w), 2);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[0], 14);
	assert_int_equal(w[2], 4);
	/* Nothing fits but the first column, shrunk. */
	assert_int_equal(layout_columns(cols, 3, 6, 2, w), 1);
	assert_int_equal(w[0], 6);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], 0);
}

static void test_columns_jobs(void **state)
{
	/* The Jobs table's columns at 80 and 120 columns always add up exactly. */
	const struct layout_col cols[] = {
	    {.min = 12, .want = 24, .grow = 3, .prio = 10},
	    {.min = 8, .want = 8, .grow = 0, .prio = 6},
	    {.min = 9, .want = 12, .grow = 0, .prio = 9},
	    {.min = 8, .want = 12, .grow = 1, .prio = 5},
	    {.min = 4, .want = 4, .grow = 0, .prio = 8},
	    {.min = 6, .want = 10, .grow = 1, .prio = 4},
	};
	int w[6], sum, i, total;

	(void)state;
	for (total = 40; total <= 200; total++) {
		size_t vis = layout_columns(cols, 6, total, 2, w);

		sum = 0;
		for (i = 0; i < 6; i++)
			sum += w[i];
		sum += 2 * (int)(vis - 1);
		assert_true(vis >= 1);
		assert_true(sum <= total);
		if (vis == 6 && total >= 70)
			assert_int_equal(sum, total);
	}
	assert_int_equal(layout_columns(cols, 6, 78, 2, w), 6);
}

static void test_split(void **state)
{
	(void)state;
	assert_int_equal(layout_split(120, 30, 24, 40, 0), 36);
	assert_int_equal(layout_split(80, 30, 28, 40, 0), 28);
	assert_int_equal(layout_split(200, 30, 24, 40, 44), 44);
	assert_int_equal(layout_split(50, 30, 24, 40, 0), 10);
	assert_int_equal(layout_split(10, 30, 24, 40, 0), 0);
}

static void test_scroll(void **state)
{
	(void)state;
	assert_int_equal(layout_scroll(100, 0, 0, 10), 0);
	assert_int_equal(layout_scroll(100, 9, 0, 10), 0);
	assert_int_equal(layout_scroll(100, 10, 0, 10), 1);
	assert_int_equal(layout_scroll(100, 50, 0, 10), 41);
	assert_int_equal(layout_scroll(100, 45, 41, 10), 41);
	assert_int_equal(layout_scroll(100, 40, 41, 10), 40);
	assert_int_equal(layout_scroll(100, 99, 0, 10), 90);
	/* The list shrank: top follows so that the window stays full. */
	assert_int_equal(layout_scroll(12, 5, 8, 10), 2);
	assert_int_equal(layout_scroll(5, 3, 2, 10), 0);
	assert_int_equal(layout_scroll(0, 0, 5, 10), 0);
	assert_int_equal(layout_scroll(10, 3, 0, 0), 0);
	assert_int_equal(layout_scroll(10, 20, 0, 3), 7);
}

static void test_wrap(void **state)
{
	size_t st[8], ln[8], n;

	(void)state;
	n = layout_wrap("the quick brown fox", 10, 0, st, ln, 8);
	assert_int_equal(n, 2);
	assert_int_equal(st[0], 0);
	assert_int_equal(ln[0], 9);
	assert_int_equal(st[1], 10);
	assert_int_equal(ln[1], 9);
	n = layout_wrap("abcdefghijkl", 5, LAYOUT_ASCII, st, ln, 8);
	assert_int_equal(n, 3);
	assert_int_equal(ln[0], 5);
	assert_int_equal(ln[1], 5);
	assert_int_equal(ln[2], 2);
	n = layout_wrap("one\ntwo", 20, 0, st, ln, 8);
	assert_int_equal(n, 2);
	assert_int_equal(st[1], 4);
	assert_int_equal(ln[1], 3);
	n = layout_wrap("", 20, 0, st, ln, 8);
	assert_int_equal(n, 1);
	assert_int_equal(ln[0], 0);
	/* More lines than room: counted, only the first filled. */
	n = layout_wrap("a b c d e", 1, 0, st, ln, 2);
	assert_int_equal(n, 5);
	assert_int_equal(st[1], 2);
	/* Multi-byte characters count as one column each. */
	n = layout_wrap("\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9", 3, 0, st, ln, 8);
	assert_int_equal(n, 2);
	assert_int_equal(ln[0], 6);
	assert_int_equal(st[1], 7);
}

static void test_age(void **state)
{
	char b[16];

	(void)state;
	layout_age(-5, b, sizeof(b));
	assert_string_equal(b, "0s");
	layout_age(5000, b, sizeof(b));
	assert_string_equal(b, "5s");
	layout_age(59999, b, sizeof(b));
	assert_string_equal(b, "59s");
	layout_age(60000, b, sizeof(b));
	assert_string_equal(b, "1m");
	layout_age(3 * 60000 + 59000, b, sizeof(b));
	assert_string_equal(b, "3m");
	layout_age(2 * 3600000LL, b, sizeof(b));
	assert_string_equal(b, "2h");
	layout_age(4 * 86400000LL + 5, b, sizeof(b));
	assert_string_equal(b, "4d");
}

static void test_too_small(void **state)
{
	(void)state;
	assert_false(layout_too_small(80, 24));
	assert_false(layout_too_small(120, 40));
	assert_true(layout_too_small(79, 24));
	assert_true(layout_too_small(80, 23));
	assert_true(layout_too_small(60, 15));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_width),        cmocka_unit_test(test_utf8_next),
	    cmocka_unit_test(test_fit),          cmocka_unit_test(test_columns_fit),
	    cmocka_unit_test(test_columns_jobs), cmocka_unit_test(test_split),
	    cmocka_unit_test(test_scroll),       cmocka_unit_test(test_wrap),
	    cmocka_unit_test(test_age),          cmocka_unit_test(test_too_small),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
