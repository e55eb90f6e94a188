/* fuzz_kernels.c: libFuzzer target for Jupyter's /api/kernels answer (JSON from a notebook
 * server the job's user controls). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tele_kernels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	int busy = -1;
	int64_t at = 0;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (tele_kernels_parse(text, &busy, &at) == 0 && (busy < 0 || busy > 1 || at < 0))
		abort();
	(void)tele_kernels_iso_ms(text);
	free(text);
	return 0;
}
