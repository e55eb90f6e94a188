/* fuzz_lambda_api.c: libFuzzer target for the Lambda Cloud API parsers (providers/
 * lambda_api.c), which read whatever the API (or something posing as it) answers: instance
 * types, instances, launch answers, SSH keys, error bodies, and the names and refs Gantry
 * reads back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/lambda_api.h"

static void offers_free(struct offer_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct offer *o = &l->v[i];

		/* every offer is complete: the optimizer prints these without checks */
		if (o->provider == NULL || o->region == NULL || o->instance_type == NULL ||
		    o->gpu_type == NULL || o->gpus < 0 || o->cpus < 0 || o->memory_mib < 0 ||
		    (o->priced && !(o->usd_per_hour >= 0)))
			abort();
		free(o->provider);
		free(o->region);
		free(o->instance_type);
		free(o->gpu_type);
		free(o->description);
		free(o->dropped);
	}
	free(l->v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *cause = NULL, *s = NULL, *a = NULL, *b = NULL;
	char *regions[] = {"us-east-1", "us-west-1"};
	struct offer_list l = {0};
	struct lambda_instance in, *v = NULL;
	size_t n = 0;
	int k;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lambda_api_parse_types(text, size, "lambda", regions, size % 3, &l, &cause) == 0)
		offers_free(&l);
	free(cause);
	cause = NULL;
	if (lambda_api_parse_instance(text, size, &in, &cause) == 0)
		lambda_instance_clear(&in);
	free(cause);
	cause = NULL;
	if (lambda_api_parse_instances(text, size, &v, &n, &cause) == 0) {
		for (size_t i = 0; i < n; i++)
			(void)lambda_instance_ours(&v[i], "gantry-0011223344556677");
		lambda_instances_free(v, n);
	}
	free(cause);
	cause = NULL;
	if (lambda_api_parse_launch(text, size, &s, &cause) == 0)
		free(s);
	free(cause);
	cause = NULL;
	(void)lambda_api_find_key(text, size, "gantry", &s, &cause);
	free(s);
	free(cause);
	cause = NULL;
	s = lambda_api_error(size > 0 ? 200 + data[0] * 2 : 0, text, size, text, NULL);
	if (strchr(s, '\n') != NULL || strchr(s, '\033') != NULL)
		abort(); /* one line, no escape sequences */
	free(s);
	if (lambda_api_gpu_of(text, text, &s, &k) == 0)
		free(s);
	if (lambda_instance_name_parse(text, &s, &k) == 0)
		free(s);
	if (lambda_ref_parse(text, &s, &a, &b, &cause) == 0) {
		free(s);
		free(a);
		free(b);
	}
	free(cause);
	free(text);
	return 0;
}
