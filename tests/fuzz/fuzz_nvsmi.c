/* fuzz_nvsmi.c: libFuzzer target for the nvidia-smi CSV parser (GPU and process queries),
 * which reads whatever a remote worker prints. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/nvsmi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct tele_gpu *gpus = NULL;
	struct tele_proc *procs = NULL;
	struct tele_val v;
	size_t n = 0;
	char *cause = NULL;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (nvsmi_parse_gpus(text, &gpus, &n, &cause) == 0) {
		for (size_t i = 0; i < n; i++)
			if (memchr(gpus[i].name, '\0', sizeof gpus[i].name) == NULL ||
			    memchr(gpus[i].uuid, '\0', sizeof gpus[i].uuid) == NULL)
				abort();
		free(gpus);
	}
	free(cause);
	cause = NULL;
	if (nvsmi_parse_apps(text, &procs, &n, &cause) == 0)
		free(procs);
	free(cause);
	(void)nvsmi_value(text, &v);
	free(text);
	return 0;
}
