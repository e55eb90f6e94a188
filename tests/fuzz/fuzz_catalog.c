/* fuzz_catalog.c: libFuzzer target for the GPU price catalog CSV (core/catalog.c). */
#include <stdint.h>
#include <stdlib.h>

#include "core/catalog.h"

static void fuzz_warn(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog *c = NULL;
	char *cause = NULL;

	if (catalog_parse("fuzz.csv", (const char *)data, size, fuzz_warn, NULL, &c, &cause) == 0)
		catalog_free(c);
	free(cause);
	return 0;
}
