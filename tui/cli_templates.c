/* cli_templates.c: gantry templates [NAME] — list templates, or show one with its params. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tui/cli.h"

static const char *const templates_layers[] = {"built-in", "system", "user"};
static const char *const templates_types[] = {"string", "int", "float", "bool", "enum"};

static json_t *templates_json(const struct template *t)
{
	json_t *o = json_object(), *params = json_array();
	char *acc = template_accel_string(t);

	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "kind", json_string(job_kind_name(t->kind)));
	json_object_set_new(o, "description",
	                    t->description ? json_string(t->description) : json_null());
	json_object_set_new(o, "accelerators", json_string(acc));
	json_object_set_new(o, "layer", json_string(templates_layers[t->layer]));
	json_object_set_new(o, "path", json_string(t->path));
	json_object_set_new(o, "error", t->error ? json_string(t->error) : json_null());
	for (size_t i = 0; i < t->nparams; i++) {
		const struct tpl_param *p = &t->params[i];
		json_t *jp = json_object();

		json_object_set_new(jp, "name", json_string(p->name));
		json_object_set_new(jp, "type", json_string(templates_types[p->type]));
		json_object_set_new(jp, "default", p->def ? json_string(p->def) : json_null());
		json_object_set_new(jp, "required", json_boolean(p->def == NULL));
		json_object_set_new(jp, "description",
		                    p->description ? json_string(p->description) : json_null());
		json_array_append_new(params, jp);
	}
	json_object_set_new(o, "params", params);
	free(acc);
	return o;
}

static void templates_show(const struct cli_ctx *c, const struct template *t)
{
	char *acc = template_accel_string(t);
	char *s;

	s = xprintf("name:         %s\nkind:         %s\nlayer:        %s (%s)\naccelerators: %s\n"
	            "description:  %s\n",
	            t->name, job_kind_name(t->kind), templates_layers[t->layer], t->path, acc,
	            t->description != NULL ? t->description : "-");
	cli_puts_safe(c, stdout, s);
	free(s);
	if (t->error != NULL) {
		s = xprintf("error:        %s\n", t->error);
		cli_puts_safe(c, stdout, s);
		free(s);
	}
	if (t->nparams > 0)
		puts("params:");
	for (size_t i = 0; i < t->nparams; i++) {
		const struct tpl_param *p = &t->params[i];

		s = xprintf("  %-14s %-6s %s%s%s%s\n", p->name, templates_types[p->type],
		            p->def != NULL ? "default " : "required", p->def != NULL ? p->def : "",
		            p->description != NULL ? "  # " : "",
		            p->description != NULL ? p->description : "");
		cli_puts_safe(c, stdout, s);
		free(s);
	}
	free(acc);
}

static int templates_run(struct cli_ctx *c, int argc, char **argv)
{
	struct engine *e = cli_engine(c, 1);
	const struct template_set *set;
	int broken = 0;

	if (e == NULL)
		return CLI_ENV;
	set = engine_templates(e);
	if (argc > 2)
		return cli_fail("templates", CLI_USAGE, "expected at most one template name");
	if (argc == 2) {
		const struct template *t = template_set_find(set, argv[1]);

		if (t == NULL)
			return cli_fail("templates", CLI_NOTFOUND, "no template named '%s'",
			                argv[1]);
		if (c->json)
			cli_print_json(templates_json(t));
		else
			templates_show(c, t);
		return t->error != NULL ? CLI_FAILED : CLI_OK;
	}
	if (c->json) {
		json_t *a = json_array();

		for (size_t i = 0; i < set->n; i++)
			json_array_append_new(a, templates_json(set->items[i]));
		cli_print_json(a);
		return CLI_OK;
	}
	printf("%-24s %-9s %-10s %-8s %s\n", "NAME", "KIND", "GPUS", "LAYER", "DESCRIPTION");
	for (size_t i = 0; i < set->n; i++) {
		const struct template *t = set->items[i];
		char *acc = template_accel_string(t);
		char *line;

		if (t->error != NULL) {
			line = xprintf("%-24s %-9s %-10s %-8s BROKEN: %s\n", t->name, "-", "-",
			               templates_layers[t->layer], t->error);
			broken++;
		} else {
			line = xprintf("%-24s %-9s %-10s %-8s %.60s\n", t->name,
			               job_kind_name(t->kind), acc, templates_layers[t->layer],
			               t->description != NULL ? t->description : "");
		}
		cli_puts_safe(c, stdout, line);
		free(line);
		free(acc);
	}
	if (broken > 0)
		fprintf(stderr,
		        "gantry: templates: %d template%s failed to load (see BROKEN above)\n",
		        broken, broken == 1 ? "" : "s");
	return CLI_OK;
}

const struct cli_cmd cli_templates_cmd = {
    .name = "templates",
    .usage = "templates [NAME] [-o json]",
    .summary = "list the templates (built-in, system, user), or show one with its params",
    .help = "Broken templates are listed with their FILE:LINE:COL error.\n",
    .run = templates_run,
};
