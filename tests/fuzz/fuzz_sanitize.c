/* fuzz_sanitize.c: libFuzzer target for the sanitiser: whole and streamed input must agree,
 * never let ESC or another C0 control through, keep every newline (no sequence may swallow a
 * line) and drop every bidi control and zero-width character. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sanitize.h"

static size_t count_newlines(const unsigned char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

/* 1 if the (valid UTF-8) text holds a bidi control or zero-width character. */
static int has_invisible(const unsigned char *p)
{
	for (; *p != '\0'; p++) {
		unsigned cp;

		if (p[0] == 0xd8 && p[1] == 0x9c)
			return 1; /* U+061C */
		if ((p[0] & 0xf0) != 0xe0 || p[1] == '\0' || p[2] == '\0')
			continue;
		cp = ((unsigned)(p[0] & 0x0f) << 12) | ((unsigned)(p[1] & 0x3f) << 6) |
		     (p[2] & 0x3f);
		if (cp == 0x180e || (cp >= 0x200b && cp <= 0x200f) ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
		    cp == 0xfeff)
			return 1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sanitize_stream ss;
	char *whole = sanitize_text((const char *)data, size, SANITIZE_KEEP_NEWLINES);
	char *out = NULL;
	size_t outlen = 0;

	sanitize_stream_init(&ss, SANITIZE_KEEP_NEWLINES);
	for (size_t i = 0; i < size; i++)
		sanitize_stream_feed(&ss, (const char *)data + i, 1, &out, &outlen);
	sanitize_stream_finish(&ss, &out, &outlen);
	if (outlen != strlen(whole) || (outlen > 0 && memcmp(out, whole, outlen) != 0))
		abort();
	for (const unsigned char *p = (const unsigned char *)whole; *p != '\0'; p++)
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			abort();
	if (count_newlines((const unsigned char *)data, size) !=
	    count_newlines((const unsigned char *)whole, outlen))
		abort();
	if (has_invisible((const unsigned char *)whole))
		abort();
	free(out);
	free(whole);
	return 0;
}
