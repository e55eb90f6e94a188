/* test_sanitize.c: escape sequences, controls and bad UTF-8 removed; chunking never matters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/sanitize.h"

#define FFFD "\xef\xbf\xbd"

/* Sanitises a NUL-free literal and compares. */
static void check(const char *in, int flags, const char *want)
{
	char *got = sanitize_text(in, (size_t)-1, flags);

	if (strcmp(got, want) != 0)
		fail_msg("sanitize(\"%s\") gave \"%s\", expected \"%s\"", in, got, want);
	free(got);
}

static void test_plain(void **state)
{
	(void)state;
	check("hello, world", 0, "hello, world");
	check("", 0, "");
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
	      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void test_csi_colours(void **state)
{
	(void)state;
	check("\x1b[31mred\x1b[0m plain", 0, "red plain");
	check("\x1b[1;38;5;208mbold\x1b[m", 0, "bold");
	check("\x1b[2J\x1b[H\x1b[?1049h\x1b[?25lscreen", 0, "screen");
	check("a\x1b[>0;1c b", 0, "a b");
	/* An aborted CSI (control byte inside) does not swallow what follows. */
	check("\x1b[31\x18ok", 0, "ok");
}

static void test_osc(void **state)
{
	(void)state;
	check("\x1b]0;evil title\x07"
	      "after",
	      0, "after");
	check("\x1b]2;title\x1b\\after", 0, "after");
	/* OSC 52: set the clipboard. */
	check("x\x1b]52;c;cm0gLXJmIH4=\x07y", 0, "xy");
	check("x\x1b]52;c;cm0gLXJmIH4=\x1b\\y", 0, "xy");
	/* OSC 8 hyperlink: the text stays, the link goes. */
	check("\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\", 0, "link");
	/* An unterminated OSC eats the rest. */
	check("a\x1b]0;never ends", 0, "a");
}

static void test_dcs_and_strings(void **state)
{
	(void)state;
	check("a\x1bP1$r0m\x1b\\b", 0, "ab");
	check("a\x1bPq#0;2;0;0;0#0~~@@\x1b\\b", 0, "ab");
	check("a\x1bXsos\x1b\\b\x1b^pm\x1b\\c\x1b_apc\x1b\\d", 0, "abcd");
	/* BEL does not end a DCS string. */
	check("a\x1bPx\x07y\x1b\\b", 0, "ab");
	/* ESC other than ST inside a string ends it and starts a new sequence. */
	check("a\x1bPdata\x1b[31mb", 0, "ab");
}

static void test_two_byte_and_nf(void **state)
{
	(void)state;
	check("a\x1b"
	      "7b\x1b"
	      "8c\x1b"
	      "cd\x1b=e\x1b>f",
	      0, "abcdef");
	check("a\x1b(Bb\x1b)0c\x1b#8d\x1b%Ge", 0, "abcde");
}

static void test_bare_esc(void **state)
{
	char *got;

	(void)state;
	check("end\x1b", 0, "end");
	check("end\x1b[", 0, "end");
	check("end\x1b[31", 0, "end");
	check("a\x1b\x1b[mb", 0, "ab");
	got = sanitize_text("x\x1b\0y", 4, 0);
	assert_string_equal(got, "xy");
	free(got);
}

static void test_c1(void **state)
{
	(void)state;
	/* Raw 8-bit CSI; other raw C1 bytes are invalid UTF-8 and start nothing. */
	check("a\x9b"
	      "31mb",
	      0, "ab");
	check("a\x9b"
	      "?1049hb",
	      0, "ab");
	check("a\x9d"
	      "0;t\x07"
	      "b",
	      0, "a" FFFD "0;tb");
	check("a\x90qd\x1b\\b", 0, "a" FFFD "qdb");
	check("a\x85\x8d\x9c"
	      "b",
	      0, "a" FFFD FFFD FFFD "b");
	/* C1 as UTF-8 code points. */
	check("a\xc2\x9b"
	      "31mb",
	      0, "ab");
	check("a\xc2\x85"
	      "b",
	      0, "ab");
	check("a\xc2\x9d"
	      "0;t\x07"
	      "b",
	      0, "ab");
	/* U+00A0 is not C1. */
	check("a\xc2\xa0"
	      "b",
	      0,
	      "a\xc2\xa0"
	      "b");
}

static void test_controls(void **state)
{
	char *got;

	(void)state;
	check("a\x01\x02\x07\x08\x0b\x0c\x7f"
	      "b",
	      0, "ab");
	check("a\tb", 0, "a b");
	check("a\r\nb", SANITIZE_KEEP_NEWLINES, "a\nb");
	check("a\r\nb", 0, "a b");
	check("a\nb\n", SANITIZE_KEEP_NEWLINES, "a\nb\n");
	check("a\nb\n", 0, "a b ");
	check("10%\r20%", 0, "10%20%");
	got = sanitize_text("a\0b", 3, 0);
	assert_string_equal(got, "ab");
	free(got);
	got = sanitize_text("abcdef", 3, 0);
	assert_string_equal(got, "abc");
	free(got);
	got = sanitize_text(NULL, 0, 0);
	assert_string_equal(got, "");
	free(got);
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	check("a\xff"
	      "b",
	      0, "a" FFFD "b");
	check("a\xc3(b", 0, "a" FFFD "(b");
	/* Overlong encodings and surrogates. */
	check("\xc0\xaf", 0, FFFD FFFD);
	check("\xe0\x80\xaf", 0, FFFD FFFD FFFD);
	check("\xed\xa0\x80", 0, FFFD FFFD FFFD);
	/* Beyond U+10FFFF. */
	check("\xf4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD);
	/* Truncated sequences: one replacement per maximal subpart. */
	check("\xe2\x82"
	      "x",
	      0, FFFD "x");
	check("\xf0\x9f\x98", 0, FFFD);
	check("a\xe2\x82\x1b[1mb", 0, "a" FFFD "b");
	check("\xa0\xbf", 0, FFFD FFFD);
}

static void test_ascii(void **state)
{
	(void)state;
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!", SANITIZE_ASCII, "caf? ? ?!");
	check("a\xff\xc3(b", SANITIZE_ASCII,
	      "a?"
	      "?(b");
	check("\x1b[31mred\x1b[m\nnext", SANITIZE_ASCII | SANITIZE_KEEP_NEWLINES, "red\nnext");
	check("\xf0\x9f\x98", SANITIZE_ASCII, "?");
}

/* Feeds in[0..len) in chunks of size chunk and returns the result. */
static char *feed_chunked(const char *in, size_t len, size_t chunk, int flags)
{
	struct sanitize_stream s;
	char *out = NULL;
	size_t outlen = 0;

	sanitize_stream_init(&s, flags);
	for (size_t i = 0; i < len; i += chunk) {
		size_t n = len - i < chunk ? len - i : chunk;

		sanitize_stream_feed(&s, in + i, n, &out, &outlen);
		assert_int_equal(strlen(out), outlen);
	}
	sanitize_stream_finish(&s, &out, &outlen);
	return out;
}

static void test_stream_chunking(void **state)
{
	static const char sample[] =
	    "start \x1b[1;31mred\x1b[0m \x1b]0;title\x07 \x1b]52;c;Zm9v\x1b\\ caf\xc3\xa9\r\n"
	    "\x9b"
	    "2J\xc2\x9b"
	    "1m\xe2\x82\xac \xf0\x9f\x98\x80 \xff\xc3(\x1bP1$r\x1b\\ dcs\n"
	    "\ttab\x1b(Bnf\x1b"
	    "7two\x1b[31\x18"
	    "abort\xe2\x82\n\xed\xa0\x80 end\x1b";
	size_t len = sizeof sample - 1;

	(void)state;
	for (int flags = 0; flags < 4; flags++) {
		char *whole = sanitize_text(sample, len, flags);

		for (size_t chunk = 1; chunk <= 9; chunk++) {
			char *got = feed_chunked(sample, len, chunk, flags);

			if (strcmp(got, whole) != 0)
				fail_msg("chunk %zu flags %d: \"%s\" != \"%s\"", chunk, flags, got,
				         whole);
			free(got);
		}
		free(whole);
	}
}

/* Random bytes, every split point: same as whole, and never an ESC or C0 byte in the output. */
static void test_stream_random(void **state)
{
	unsigned char buf[512];
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 50; round++) {
		char *whole, *bytes;

		for (size_t i = 0; i < sizeof buf; i++) {
			seed = seed * 1103515245u + 12345u;
			/* Bias towards interesting bytes. */
			unsigned char c = (unsigned char)(seed >> 16);
			if ((seed >> 8) % 4 == 0)
				c = "\x1b[]P\\\x07\x9b\xc2\xe2\x82\xf0\x9f\n\r"[(seed >> 24) % 14];
			buf[i] = c;
		}
		whole = sanitize_text((const char *)buf, sizeof buf, round % 4);
		bytes = feed_chunked((const char *)buf, sizeof buf, 1, round % 4);
		assert_string_equal(whole, bytes);
		for (const unsigned char *p = (const unsigned char *)whole; *p != '\0'; p++) {
			assert_true(*p >= 0x20 || *p == '\n');
			assert_true(*p != 0x7f);
		}
		free(whole);
		free(bytes);
	}
}

static void test_stream_carry(void **state)
{
	struct sanitize_stream s;
	char *out = NULL;
	size_t outlen = 0;

	(void)state;
	sanitize_stream_init(&s, SANITIZE_KEEP_NEWLINES);
	sanitize_stream_feed(&s, "ab\x1b[3", 5, &out, &outlen);
	assert_string_equal(out, "ab");
	sanitize_stream_feed(&s, "1mc\xe2\x82", 5, &out, &outlen);
	assert_string_equal(out, "abc");
	sanitize_stream_feed(&s, "\xac\n", 2, &out, &outlen);
	assert_string_equal(out, "abc\xe2\x82\xac\n");
	assert_int_equal(outlen, 7);
	sanitize_stream_feed(&s, "", 0, &out, &outlen);
	assert_int_equal(outlen, 7);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),
	    cmocka_unit_test(test_csi_colours),
	    cmocka_unit_test(test_osc),
	    cmocka_unit_test(test_dcs_and_strings),
	    cmocka_unit_test(test_two_byte_and_nf),
	    cmocka_unit_test(test_bare_esc),
	    cmocka_unit_test(test_c1),
	    cmocka_unit_test(test_controls),
	    cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_ascii),
	    cmocka_unit_test(test_stream_chunking),
	    cmocka_unit_test(test_stream_random),
	    cmocka_unit_test(test_stream_carry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
