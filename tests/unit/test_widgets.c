/* test_widgets.c: text gauges (tui/widgets.c) compared byte for byte in UTF-8 and ASCII, and
 * their widths measured with wcwidth. Expected strings are worked out by hand in the comments
 * (eighths of a cell for UTF-8 bars, halves for ASCII). */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "tui/widgets.h"

#define FULL  "\xe2\x96\x88" /* █ */
#define E1    "\xe2\x96\x8f" /* ▏ 1/8 */
#define E2    "\xe2\x96\x8e" /* ▎ 2/8 */
#define E5    "\xe2\x96\x8b" /* ▋ 5/8 */
#define E7    "\xe2\x96\x89" /* ▉ 7/8 */
#define LFRM  "\xe2\x96\x95" /* ▕ */
#define RFRM  "\xe2\x96\x8f" /* ▏ */
#define DEG   "\xc2\xb0"
#define LV(i) "\xe2\x96" #i

static const struct tele_val NA = {0, 0};

static struct tele_val val(double v)
{
	return (struct tele_val){v, 1};
}

/* Display width by the C library: every character must be printable. */
static int display_width(const char *s)
{
	mbstate_t st;
	size_t n = strlen(s), i = 0;
	int w = 0;

	memset(&st, 0, sizeof st);
	while (i < n) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + i, n - i, &st);
		int cw;

		assert_true(k != (size_t)-1 && k != (size_t)-2 && k != 0);
		cw = wcwidth(wc);
		assert_true(cw >= 0);
		w += cw;
		i += k;
	}
	return w;
}

static int setup(void **state)
{
	(void)state;
	/* wcwidth needs a UTF-8 locale: without one the widths cannot be checked (a failure). */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL && setlocale(LC_CTYPE, "C.utf8") == NULL &&
	    setlocale(LC_CTYPE, "en_US.UTF-8") == NULL)
		return -1;
	return 0;
}

/* Renders with a bar and checks the byte count returned. */
static void check_bar(struct tele_val v, double max, int width, enum widget_glyphs g, int framed,
                      const char *want)
{
	char buf[WIDGET_BUFSZ(64)];
	int n = widget_bar(buf, sizeof buf, v, max, width, g, framed);

	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
	assert_int_equal(display_width(buf), width);
}

static void test_bar_utf8(void **state)
{
	(void)state;
	/* 10 cells = 80 eighths. */
	check_bar(val(50), 100, 10, WIDGET_BLOCKS, 0, FULL FULL FULL FULL FULL "     ");
	/* 33% of 80 = 26.4 -> 26 eighths = 3 cells and 2/8. */
	check_bar(val(33), 100, 10, WIDGET_BLOCKS, 0, FULL FULL FULL E2 "      ");
	/* A trace above 0 shows one eighth; 0 shows nothing. */
	check_bar(val(0.1), 100, 10, WIDGET_BLOCKS, 0, E1 "         ");
	check_bar(val(0), 100, 10, WIDGET_BLOCKS, 0, "          ");
	check_bar(val(-5), 100, 4, WIDGET_BLOCKS, 0, "    ");
	check_bar(val(100), 100, 4, WIDGET_BRAILLE, 0, FULL FULL FULL FULL);
	check_bar(val(150), 100, 4, WIDGET_BLOCKS, 0, FULL FULL FULL FULL);
	/* Framed, 8 columns: 6 cells, 98% of 48 = 47.04 -> 5 cells and 7/8. */
	check_bar(val(98), 100, 8, WIDGET_BLOCKS, 1, LFRM FULL FULL FULL FULL FULL E7 RFRM);
	/* Not a value: n/a, never an empty bar. */
	check_bar(NA, 100, 8, WIDGET_BLOCKS, 1, LFRM "n/a   " RFRM);
	check_bar(val(5), 0, 5, WIDGET_BLOCKS, 0, "n/a  ");
	check_bar(val(NAN), 100, 5, WIDGET_BLOCKS, 0, "n/a  ");
	check_bar(NA, 100, 2, WIDGET_BLOCKS, 0, "? ");
	/* Too narrow for a frame: the frame is left out. */
	check_bar(val(100), 100, 2, WIDGET_BLOCKS, 1, FULL FULL);
}

static void test_bar_ascii(void **state)
{
	(void)state;
	/* 6 cells = 12 halves: 98% -> 11.76 -> 12; 50% -> 6; 40% -> 4.8 -> 5; 33% -> 3.96 -> 4. */
	check_bar(val(98), 100, 8, WIDGET_ASCII, 1, "[######]");
	check_bar(val(50), 100, 8, WIDGET_ASCII, 1, "[###   ]");
	check_bar(val(40), 100, 8, WIDGET_ASCII, 1, "[##=   ]");
	check_bar(val(33), 100, 8, WIDGET_ASCII, 1, "[##    ]");
	check_bar(val(1), 100, 8, WIDGET_ASCII, 1, "[=     ]");
	check_bar(val(0), 100, 8, WIDGET_ASCII, 1, "[      ]");
	check_bar(NA, 100, 8, WIDGET_ASCII, 1, "[n/a   ]");
	check_bar(val(30), 60, 5, WIDGET_ASCII, 0, "##=  ");
}

static void test_bar_edges(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(widget_bar(buf, sizeof buf, val(50), 100, 0, WIDGET_BLOCKS, 1), 0);
	assert_string_equal(buf, "");
	/* Four full blocks need 13 bytes: an 8-byte buffer is refused, left empty. */
	assert_int_equal(widget_bar(buf, sizeof buf, val(100), 100, 4, WIDGET_BLOCKS, 0), -1);
	assert_string_equal(buf, "");
	assert_int_equal(widget_bar(buf, 0, val(100), 100, 4, WIDGET_ASCII, 0), -1);
	assert_int_equal(widget_bar(buf, 5, val(100), 100, 4, WIDGET_ASCII, 0), 4);
	assert_string_equal(buf, "####");
}

static void check_spark(const struct tele_val *v, size_t n, double max, int width,
                        enum widget_glyphs g, const char *want)
{
	char buf[WIDGET_BUFSZ(64)];
	int k = widget_sparkline(buf, sizeof buf, v, n, max, width, g);

	assert_string_equal(buf, want);
	assert_int_equal(k, (int)strlen(want));
	assert_int_equal(display_width(buf), width);
}

static void test_sparkline_blocks_and_ascii(void **state)
{
	struct tele_val ramp[5] = {val(0), val(25), val(50), val(75), val(100)};
	struct tele_val gap[4] = {val(100), NA, val(0), val(50)};
	struct tele_val auto_[2] = {val(10), val(20)};
	struct tele_val zeros[2] = {val(0), val(0)};

	(void)state;
	/* Blocks: round(f * 7) = 0, 2, 4, 5, 7 -> ▁ ▃ ▅ ▆ █ */
	check_spark(ramp, 5, 100, 5, WIDGET_BLOCKS, LV(\x81) LV(\x83) LV(\x85) LV(\x86) LV(\x88));
	/* ASCII: 1 + round(f * 8) = 1, 3, 5, 7, 9 of " .:-=+*#%@" */
	check_spark(ramp, 5, 100, 5, WIDGET_ASCII, ".-+#@");
	/* Newest at the right: a narrower line keeps the last samples. */
	check_spark(ramp, 5, 100, 2, WIDGET_ASCII, "#@");
	/* Fewer samples than cells: blank on the left. */
	check_spark(ramp, 2, 100, 5, WIDGET_ASCII, "   .-");
	check_spark(NULL, 0, 100, 3, WIDGET_BLOCKS, "   ");
	/* n/a is a gap; a valid 0 keeps the lowest mark. */
	check_spark(gap, 4, 100, 4, WIDGET_ASCII, "@ .+");
	check_spark(gap, 4, 100, 4, WIDGET_BLOCKS, LV(\x88) " " LV(\x81) LV(\x85));
	/* max <= 0: scaled to the largest sample shown. */
	check_spark(auto_, 2, 0, 2, WIDGET_BLOCKS, LV(\x85) LV(\x88));
	check_spark(zeros, 2, 0, 2, WIDGET_BLOCKS, LV(\x81) LV(\x81));
	check_spark(ramp, 5, 100, 0, WIDGET_ASCII, "");
}

static void test_sparkline_braille(void **state)
{
	/* Levels 1 + round(f * 3): 0 -> 1, 100 -> 4, 50 -> 3, 25 -> 2, 75 -> 3. */
	struct tele_val v[6] = {val(0), val(100), val(50), NA, val(25), val(75)};
	struct tele_val none[2] = {NA, NA};

	(void)state;
	/* cell 0: left dot 7 (0x40) | right dots 8,6,5,4 (0xb8) = U+28F8
	 * cell 1: left dots 7,3,2 (0x46), right n/a = U+2846
	 * cell 2: left dots 7,3 (0x44) | right dots 8,6,5 (0xb0) = U+28F4 */
	check_spark(v, 6, 100, 3, WIDGET_BRAILLE, "\xe2\xa3\xb8\xe2\xa1\x86\xe2\xa3\xb4");
	/* Two samples a cell: 5 samples in 3 cells leave the first half-cell empty. */
	check_spark(v + 1, 5, 100, 3, WIDGET_BRAILLE, "\xe2\xa2\xb8\xe2\xa1\x86\xe2\xa3\xb4");
	/* A cell of gaps is blank. */
	check_spark(none, 2, 100, 2, WIDGET_BRAILLE, "  ");
	check_spark(v, 1, 100, 1, WIDGET_BRAILLE, "\xe2\xa2\x80");
}

static void check_minibar(struct tele_val v, int cells, enum widget_glyphs g, const char *want)
{
	char buf[WIDGET_BUFSZ(32)];
	int n = widget_minibar(buf, sizeof buf, v, cells, g);

	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
	assert_int_equal(display_width(buf), WIDGET_MINIBAR_COLS(cells));
}

static void test_minibar(void **state)
{
	(void)state;
	/* 5 cells: 92% of 40 eighths = 36.8 -> 37 = 4 cells and 5/8; of 10 halves 9.2 -> 9. */
	check_minibar(val(92), 5, WIDGET_BLOCKS,
	              FULL FULL FULL FULL E5 " "
	                                     " 92%");
	check_minibar(val(92), 5, WIDGET_ASCII, "####=  92%");
	check_minibar(val(100), 5, WIDGET_BRAILLE, FULL FULL FULL FULL FULL " 100%");
	/* bar, then a space, then the percentage in 4 columns */
	check_minibar(val(2), 5, WIDGET_BLOCKS,
	              E1 "    "
	                 " "
	                 "  2%");
	check_minibar(val(2), 5, WIDGET_ASCII,
	              "=    "
	              " "
	              "  2%");
	check_minibar(val(0), 5, WIDGET_ASCII,
	              "     "
	              " "
	              "  0%");
	check_minibar(NA, 5, WIDGET_BLOCKS,
	              "     "
	              " "
	              " n/a");
	check_minibar(NA, 8, WIDGET_ASCII,
	              "        "
	              " "
	              " n/a");
	check_minibar(val(47.5), 0, WIDGET_ASCII, "  48%");
}

static struct tele_gpu h100(void)
{
	struct tele_gpu g;

	memset(&g, 0, sizeof g);
	g.index = 0;
	snprintf(g.name, sizeof g.name, "NVIDIA H100 80GB HBM3");
	g.util_pct = val(98);
	g.mem_used_mib = val(23962);  /* 23.4 GiB */
	g.mem_total_mib = val(81559); /* 79.6 GiB */
	g.temp_c = val(76);
	g.power_w = val(599.123);
	g.power_limit_w = val(700);
	return g;
}

static void check_row(const struct tele_gpu *g, const struct tele_val *hist, size_t nhist,
                      int64_t age, int width, enum widget_glyphs gl, const char *want)
{
	char buf[WIDGET_BUFSZ(200)];
	int n = widget_gpu_row(buf, sizeof buf, g, hist, nhist, age, width, gl);

	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
	assert_int_equal(display_width(buf), width);
}

static void test_gpu_row_full(void **state)
{
	struct tele_gpu g = h100();
	struct tele_val hist[4] = {val(0), val(100), val(100), val(50)};

	(void)state;
	/* Everything but the bar takes 43 columns; at 51 the bar gets 8 (6 cells). */
	check_row(&g, NULL, 0, -1, 51, WIDGET_BLOCKS,
	          "GPU0 H100 " LFRM FULL FULL FULL FULL FULL E7 RFRM " 98% mem 23.4/79.6G 76" DEG
	          "C 599/700W");
	check_row(&g, NULL, 0, -1, 51, WIDGET_ASCII,
	          "GPU0 H100 [######] 98% mem 23.4/79.6G  76C 599/700W");
	/* Wider: the bar grows to 22 columns at most (20 cells: 39.2 halves -> 39), then the row
	 * is padded. */
	check_row(&g, NULL, 0, -1, 70, WIDGET_ASCII,
	          "GPU0 H100 ["
	          "###################"
	          "=] 98% mem 23.4/79.6G  76C 599/700W     ");
	/* With a history the bar stops at 14 (12 cells: 23.52 halves -> 24) and a sparkline takes
	 * the rest (70 - 43 - 14 - 1 = 12 cells, the 4 samples at the right). */
	check_row(&g, hist, 4, -1, 70, WIDGET_ASCII,
	          "GPU0 H100 [############] 98% mem 23.4/79.6G  76C 599/700W "
	          "        .@@+");
	/* Stale values show their age after the utilisation. */
	check_row(&g, NULL, 0, 12000, 59, WIDGET_ASCII,
	          "GPU0 H100 [######] 98% 12s ago mem 23.4/79.6G  76C 599/700W");
}

static void test_gpu_row_narrow(void **state)
{
	struct tele_gpu g = h100();

	(void)state;
	/* 48: the power limit goes (39 + a bar of 9). */
	check_row(&g, NULL, 0, -1, 48, WIDGET_ASCII,
	          "GPU0 H100 [#######] 98% mem 23.4/79.6G  76C 599W");
	/* 44: then the "mem" label (35 + 9). */
	check_row(&g, NULL, 0, -1, 44, WIDGET_ASCII,
	          "GPU0 H100 [#######] 98% 23.4/79.6G  76C 599W");
	/* 36: then the name (30 + 6). */
	check_row(&g, NULL, 0, -1, 36, WIDGET_ASCII, "GPU0 [####] 98% 23.4/79.6G  76C 599W");
	/* 31: then the power; 26: the temperature; 15: the memory. */
	check_row(&g, NULL, 0, -1, 31, WIDGET_ASCII, "GPU0 [####] 98% 23.4/79.6G  76C");
	check_row(&g, NULL, 0, -1, 26, WIDGET_ASCII, "GPU0 [####] 98% 23.4/79.6G");
	check_row(&g, NULL, 0, -1, 15, WIDGET_ASCII, "GPU0 [####] 98%");
	/* Below that the bar goes, and below 9 columns the row is cut. */
	check_row(&g, NULL, 0, -1, 12, WIDGET_ASCII, "GPU0  98%   ");
	check_row(&g, NULL, 0, -1, 8, WIDGET_ASCII, "GPU0  9~");
	check_row(&g, NULL, 0, -1, 8, WIDGET_BLOCKS, "GPU0  9\xe2\x80\xa6");
	/* A stale row keeps its age to the end. */
	check_row(&g, NULL, 0, 125000, 20, WIDGET_ASCII, "GPU0  98% 2m ago    ");
	check_row(&g, NULL, 0, -1, 0, WIDGET_ASCII, "");
}

static void test_gpu_row_na(void **state)
{
	struct tele_gpu g;

	(void)state;
	memset(&g, 0, sizeof g);
	g.index = 1; /* fell off the bus: nothing but its index */
	check_row(&g, NULL, 0, -1, 40, WIDGET_ASCII, "GPU1 GPU [n/a    ] n/a mem n/a  n/a  n/a");
	check_row(&g, NULL, 0, -1, 40, WIDGET_BLOCKS,
	          "GPU1 GPU " LFRM "n/a    " RFRM " n/a mem n/a  n/a  n/a");
	/* Memory used without a total, power without a limit. */
	g = h100();
	g.mem_total_mib = NA;
	g.power_limit_w = NA;
	g.temp_c = NA;
	check_row(&g, NULL, 0, -1, 40, WIDGET_ASCII, "GPU0 H100 [####] 98% mem 23.4G  n/a 599W");
}

/* Every width from 1 to 160, every glyph set, with and without history and age: exactly the
 * width asked for, and the bytes returned are the string's. */
static void test_gpu_row_widths(void **state)
{
	struct tele_gpu g = h100();
	struct tele_val hist[300];
	char buf[WIDGET_BUFSZ(160)];

	(void)state;
	for (int i = 0; i < 300; i++)
		hist[i] = i % 17 == 0 ? NA : val(i % 101);
	snprintf(g.name, sizeof g.name, "NVIDIA GeForce RTX 4090 \xe6\xbc\xa2\xe5\xad\x97");
	for (int gl = WIDGET_ASCII; gl <= WIDGET_BRAILLE; gl++)
		for (int w = 1; w <= 160; w++)
			for (int variant = 0; variant < 4; variant++) {
				int n = widget_gpu_row(
				    buf, sizeof buf, &g, variant & 1 ? hist : NULL, 300,
				    variant & 2 ? 3723000 : -1, w, (enum widget_glyphs)gl);

				assert_int_equal(n, (int)strlen(buf));
				assert_int_equal(display_width(buf), w);
				if (gl == WIDGET_ASCII)
					for (const char *p = buf; *p; p++)
						assert_true((unsigned char)*p < 0x80);
			}
	/* Too small a buffer is refused. */
	assert_int_equal(widget_gpu_row(buf, 10, &g, NULL, 0, -1, 60, WIDGET_ASCII), -1);
	assert_string_equal(buf, "");
}

static void test_short_names(void **state)
{
	static const char *const cases[][2] = {
	    {"NVIDIA H100 80GB HBM3", "H100"},
	    {"NVIDIA A100-SXM4-80GB", "A100"},
	    {"Tesla V100-SXM2-16GB", "V100"},
	    {"NVIDIA GeForce RTX 4090", "RTX 4090"},
	    {"NVIDIA RTX A6000", "RTX A6000"},
	    {"Quadro RTX 8000", "RTX 8000"},
	    {"NVIDIA L4", "L4"},
	    {"NVIDIA H100 PCIe", "H100"},
	    {"  NVIDIA H200", "H200"},
	    {"NVIDIA", "NVIDIA"},
	    {"", "GPU"},
	    {"GH\x01X", "GH?X"},
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		widget_gpu_short_name(cases[i][0], out, sizeof out);
		assert_string_equal(out, cases[i][1]);
	}
	widget_gpu_short_name(NULL, out, sizeof out);
	assert_string_equal(out, "GPU");
	widget_gpu_short_name("NVIDIA H100", out, 3);
	assert_string_equal(out, "H1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bar_utf8),
	    cmocka_unit_test(test_bar_ascii),
	    cmocka_unit_test(test_bar_edges),
	    cmocka_unit_test(test_sparkline_blocks_and_ascii),
	    cmocka_unit_test(test_sparkline_braille),
	    cmocka_unit_test(test_minibar),
	    cmocka_unit_test(test_gpu_row_full),
	    cmocka_unit_test(test_gpu_row_narrow),
	    cmocka_unit_test(test_gpu_row_na),
	    cmocka_unit_test(test_gpu_row_widths),
	    cmocka_unit_test(test_short_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
