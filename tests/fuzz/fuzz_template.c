/* fuzz_template.c: libFuzzer target for the template parser (YAML and JSON). */
#include <stddef.h>
#include <stdint.h>

#include "core/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct template *t;

	t = template_load_text("fuzz.yaml", (const char *)data, size, TPL_LAYER_USER);
	template_free(t);
	t = template_load_text("fuzz.json", (const char *)data, size, TPL_LAYER_USER);
	template_free(t);
	return 0;
}
