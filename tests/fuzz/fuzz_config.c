/* fuzz_config.c: libFuzzer target for config.yaml (settings, providers, budgets, history):
 * never a crash, and whatever is accepted holds only finite numbers. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	char *cause = NULL;

	memset(&c, 0, sizeof c);
	c.config_file = xstrdup("fuzz/config.yaml");
	c.config_dir = xstrdup("/nonexistent/gantry-fuzz/config");
	c.data_dir = xstrdup("/nonexistent/gantry-fuzz/data");
	c.default_provider = xstrdup("local");
	c.theme = xstrdup("default");
	c.refresh_ms = 1000;
	c.stop_grace_ms = 10000;
	if (config_parse_text(&c, (const char *)data, size, &cause) == 0) {
		for (size_t i = 0; i < c.nbudgets; i++)
			if (!isfinite(c.budgets[i].monthly) || !isfinite(c.budgets[i].soft) ||
			    !isfinite(c.budgets[i].hard) || c.budgets[i].grace_s < 0)
				abort();
		if (c.history_1m_s < 0 || c.history_1h_s < 0 || c.refresh_ms <= 0)
			abort();
	} else if (cause == NULL || strncmp(cause, "fuzz/config.yaml", 16) != 0) {
		abort(); /* every error names the file */
	}
	free(cause);
	config_free(&c);
	return 0;
}
