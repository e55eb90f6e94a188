/* fuzz_sanitize.c: libFuzzer target for the sanitiser: whole and streamed input must agree
 * and never let ESC or another C0 control through. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sanitize.h"

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
	free(out);
	free(whole);
	return 0;
}
