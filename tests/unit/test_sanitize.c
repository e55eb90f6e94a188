/* test_sanitize.c: escape sequences, controls and bad UTF-8 removed; chunking never matters. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
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
	/* An unterminated OSC eats the rest of its line. */
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
	    "abort\xe2\x82\n\xed\xa0\x80 "
	    "\x1b]0;open\nline\xc2\x9dopen\xc2\x9cst\x1b]0;x\xc2\x1b\nrlo\xe2\x80\xae"
	    "zw\xe2\x80\x8b\xef\xbb\xbf\xd8\x9c end\x1b";
	size_t len = sizeof sample - 1;

	(void)state;
	for (int flags = 0; flags < 4; flags++) {
		char *whole = sanitize_text(sample, len, flags);

		if (flags == SANITIZE_KEEP_NEWLINES)
			assert_string_equal(whole,
			                    "start red   caf\xc3\xa9\n"
			                    "\xe2\x82\xac \xf0\x9f\x98\x80 " FFFD FFFD "( dcs\n"
			                    " tabnftwoabort" FFFD "\n" FFFD FFFD FFFD " \n"
			                    "linest\n"
			                    "rlozw end");

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
		/* Every newline in is one newline out: no sequence swallows a line. */
		if (round % 4 & SANITIZE_KEEP_NEWLINES) {
			size_t nin = 0, nout = 0;

			for (size_t i = 0; i < sizeof buf; i++)
				nin += buf[i] == '\n';
			for (const char *p = whole; *p != '\0'; p++)
				nout += *p == '\n';
			assert_int_equal(nin, nout);
		}
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

/* Sanitises in[0..len) whole and in chunks of 1, 3 and 4096 bytes; all must give want. */
static void check_len(const char *in, size_t len, int flags, const char *want)
{
	static const size_t chunks[] = {1, 3, 4096};
	char *got = sanitize_text(in, len, flags);

	if (strcmp(got, want) != 0)
		fail_msg("sanitize(%zu bytes) gave \"%.200s\" (%zu bytes), expected \"%.200s\"",
		         len, got, strlen(got), want);
	free(got);
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		got = feed_chunked(in, len, chunks[i], flags);
		if (strcmp(got, want) != 0)
			fail_msg("chunks of %zu gave \"%.200s\", expected \"%.200s\"", chunks[i],
			         got, want);
		free(got);
	}
}

/* Every introducer of a control string, in ESC form and as a UTF-8 C1 code point. */
static const char *const string_intros[] = {
    "\x1b]",    "\x1bP",    "\x1bX",    "\x1b^",    "\x1b_",
    "\xc2\x9d", "\xc2\x90", "\xc2\x98", "\xc2\x9e", "\xc2\x9f",
};

/* An unterminated control string ends at the newline, which is kept: the next lines show. */
static void test_string_ends_at_newline(void **state)
{
	char in[128];

	(void)state;
	for (size_t i = 0; i < sizeof string_intros / sizeof string_intros[0]; i++) {
		snprintf(in, sizeof in, "a%s0;never ends\nnext line\nlast", string_intros[i]);
		check_len(in, strlen(in), SANITIZE_KEEP_NEWLINES, "a\nnext line\nlast");
		check_len(in, strlen(in), 0, "a next line last");
		check_len(in, strlen(in), SANITIZE_ASCII | SANITIZE_KEEP_NEWLINES,
		          "a\nnext line\nlast");
		/* ESC seen inside the string just before the newline. */
		snprintf(in, sizeof in, "a%sdata\x1b\nnext", string_intros[i]);
		check_len(in, strlen(in), SANITIZE_KEEP_NEWLINES, "a\nnext");
		/* "\r\n" ends it too (the CR is dropped as always). */
		snprintf(in, sizeof in, "a%sdata\r\nnext", string_intros[i]);
		check_len(in, strlen(in), SANITIZE_KEEP_NEWLINES, "a\nnext");
	}
	/* ST in UTF-8 C1 form (U+009C) ends a string of either form; a lone C2 byte does not. */
	check("a\xc2\x9d"
	      "0;t\xc2\x9c"
	      "b\nc",
	      SANITIZE_KEEP_NEWLINES, "ab\nc");
	check("a\x1bPq\xc2\x9c"
	      "b",
	      0, "ab");
	check("a\x1b]0;\xc2\xc2\x9c"
	      "b",
	      0, "ab");
	check("a\x1b]0;\xc2x\x07"
	      "b",
	      0, "ab");
	check_len("a\x1b]0;t\xc2\x9c"
	          "b",
	          9, 0, "ab");
	/* A terminated string on the line still leaves the rest of the line. */
	check("\x1b]0;t\x07"
	      "a\nb",
	      SANITIZE_KEEP_NEWLINES, "a\nb");
	/* The raw 8-bit OSC byte starts nothing (it is invalid UTF-8), and the line stays. */
	check("a\x9d"
	      "0;t\nb",
	      SANITIZE_KEEP_NEWLINES, "a" FFFD "0;t\nb");
}

/* A control string longer than SANITIZE_STRING_MAX bytes ends there; the rest is text. */
static void test_string_length_cap(void **state)
{
	size_t cap = SANITIZE_STRING_MAX, n;
	char *in = malloc(cap + 64), *want = malloc(cap + 64);

	(void)state;
	assert_non_null(in);
	assert_non_null(want);
	for (size_t i = 0; i < sizeof string_intros / sizeof string_intros[0]; i++) {
		size_t il = strlen(string_intros[i]);

		/* cap bytes of payload, then the text: the string has ended by then. */
		n = 0;
		in[n++] = 'a';
		memcpy(in + n, string_intros[i], il);
		n += il;
		memset(in + n, 'x', cap);
		n += cap;
		memcpy(in + n, "tail", 4);
		n += 4;
		check_len(in, n, SANITIZE_KEEP_NEWLINES, "atail");
		/* Five bytes more than the cap: those five are text. */
		n -= 4;
		memcpy(in + n, "yyyyytail", 9);
		n += 9;
		check_len(in, n, SANITIZE_KEEP_NEWLINES, "ayyyyytail");
		/* Under the cap and properly terminated: all of it goes. */
		n = 0;
		in[n++] = 'a';
		memcpy(in + n, string_intros[i], il);
		n += il;
		memset(in + n, 'x', cap - 1);
		n += cap - 1;
		memcpy(in + n, "\x1b\\b", 3);
		n += 3;
		check_len(in, n, SANITIZE_KEEP_NEWLINES, "ab");
	}
	/* A second string after a capped one gets its own count. */
	n = 0;
	memcpy(in + n, "\x1b]", 2);
	n += 2;
	memset(in + n, 'x', cap + 1);
	n += cap + 1;
	memcpy(in + n, "\x1b]0;t\x07z", 7);
	n += 7;
	strcpy(want, "xz");
	check_len(in, n, 0, want);
	free(in);
	free(want);
}

/* Bidi controls and zero-width characters are dropped; other text is untouched. */
static void test_bidi_and_zero_width(void **state)
{
	static const char *const dropped[] = {
	    "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", /* LRE RLE PDF LRO */
	    "\xe2\x80\xae",                                                 /* RLO */
	    "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", /* LRI RLI FSI PDI */
	    "\xe2\x80\x8e", "\xe2\x80\x8f", "\xd8\x9c",                     /* LRM RLM ALM */
	    "\xe2\x80\x8b", "\xe2\x80\x8c", "\xe2\x80\x8d",                 /* ZWSP ZWNJ ZWJ */
	    "\xe2\x81\xa0", "\xef\xbb\xbf", "\xe1\xa0\x8e",                 /* WJ BOM MVS */
	    "\xe2\x81\xa1", "\xe2\x81\xa4", "\xe2\x81\xaa", "\xe2\x81\xaf", /* rest of 2060-206F */
	};
	char in[64];

	(void)state;
	for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++) {
		snprintf(in, sizeof in, "a%sb%s", dropped[i], dropped[i]);
		check_len(in, strlen(in), 0, "ab");
		check_len(in, strlen(in), SANITIZE_ASCII, "ab");
	}
	/* Trojan Source: the override goes, the text reads in its real (logical) order. */
	check("access \xe2\x80\xae"
	      "resu\xe2\x81\xa6"
	      "// check admin\xe2\x81\xa9 \xe2\x81\xa6",
	      0, "access resu// check admin ");
	/* An emoji ZWJ sequence keeps its emoji (shown side by side). */
	check("\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", 0,
	      "\xf0\x9f\x91\xa9\xf0\x9f\x92\xbb");
	/* Neighbours of the dropped ranges, accents, CJK, RTL letters and emoji stay. */
	check("\xe2\x80\x8a\xe2\x80\x90\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\x9f\xe2\x81\xb0"
	      "\xd8\x9b\xe1\xa0\x8d\xe1\xa0\x8f\xef\xbb\xbc\xef\xbf\xbd",
	      0,
	      "\xe2\x80\x8a\xe2\x80\x90\xe2\x80\xa9\xe2\x80\xaf\xe2\x81\x9f\xe2\x81\xb0"
	      "\xd8\x9b\xe1\xa0\x8d\xe1\xa0\x8f\xef\xbb\xbc\xef\xbf\xbd");
	check("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d "
	      "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 "
	      "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\xe2\x9d\xa4\xef"
	      "\xb8\x8f",
	      0,
	      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d "
	      "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 "
	      "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd\xe2\x9d\xa4\xef"
	      "\xb8\x8f");
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
	    cmocka_unit_test(test_string_ends_at_newline),
	    cmocka_unit_test(test_string_length_cap),
	    cmocka_unit_test(test_bidi_and_zero_width),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
