/* cli_doctor.c: gantry doctor — dependencies, paths, providers, terminal. */
#include <curses.h>
#include <jansson.h>
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <term.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/config.h"
#include "core/engine_remote.h"
#include "core/sanitize.h"
#include "core/store.h"
#include "core/xmalloc.h"
#include "tui/cli.h"

struct doctor {
	json_t *checks;
	int bad;
	int json;
	char *last_trust; /* the last permissions problem, said once */
};

/* Records one check: ok 1 = fine, 0 = problem (with how to fix it in detail). */
static void doctor_check(struct doctor *d, const char *name, int ok, const char *detail)
{
	json_array_append_new(d->checks, json_pack("{s:s, s:b, s:s}", "check", name, "ok", ok,
	                                           "detail", detail != NULL ? detail : ""));
	if (!ok)
		d->bad++;
	if (!d->json)
		printf("%-4s %-14s %s\n", ok ? "ok" : "FAIL", name, detail != NULL ? detail : "");
}

/* First directory of PATH holding an executable prog, or NULL (heap). */
static char *doctor_which(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *dir, *hit = NULL;

	if (path == NULL)
		return NULL;
	copy = xstrdup(path);
	for (dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
		char *p = xprintf("%s/%s", dir, prog);

		if (access(p, X_OK) == 0) {
			hit = p;
			break;
		}
		free(p);
	}
	free(copy);
	return hit;
}

/* Warnings of the price catalog: how many, and the first ("FILE:LINE: reason"). */
struct doctor_warns {
	size_t n;
	char *first;
};

static void doctor_catalog_warn(void *arg, const char *msg)
{
	struct doctor_warns *w = arg;

	if (w->n++ == 0)
		w->first = xstrdup(msg);
}

static void doctor_terminal(struct doctor *d, struct cli_ctx *c)
{
	const char *term = getenv("TERM");
	const char *cs = nl_langinfo(CODESET);
	int err = 0, colors = -1;
	char *s;

	if (term != NULL && setupterm(term, -1, &err) == OK) {
		colors = tigetnum("colors");
		del_curterm(cur_term);
	}
	s = xprintf("TERM=%s, %d colours%s, %s", term != NULL ? term : "(unset)",
	            colors < 0 ? 0 : colors,
	            c->no_color ? " (colour off: NO_COLOR/--no-color)" : "",
	            cs != NULL && strcmp(cs, "UTF-8") == 0 ? "UTF-8 glyphs"
	                                                   : "ASCII glyphs (locale is not UTF-8)");
	doctor_check(d, "terminal", term != NULL && err == 1, s);
	free(s);
}

/* One path config_check_trust() looked at. */
static void doctor_trust(void *arg, const char *path, const char *problem)
{
	struct doctor *d = arg;
	struct stat st;
	char *s;

	if (problem != NULL) {
		/* a directory writable by others fails each one below it with the same words */
		if (d->last_trust == NULL || strcmp(d->last_trust, problem) != 0)
			doctor_check(d, "permissions", 0, problem);
		free(d->last_trust);
		d->last_trust = xstrdup(problem);
		return;
	}
	if (lstat(path, &st) == 0)
		s = xprintf("%s (uid %lu, mode %04o)", path, (unsigned long)st.st_uid,
		            (unsigned)(st.st_mode & 07777));
	else
		s = xstrdup(path);
	doctor_check(d, "permissions", 1, s);
	free(s);
}

/* Who may write the config and state directories, links at the store, the store's pages. */
static void doctor_trust_and_store(struct doctor *d, const struct config *cfg)
{
	struct stat st;
	char *cause = NULL;
	int bad = d->bad;

	config_check_trust(cfg, doctor_trust, d, NULL);
	if (d->bad > bad || lstat(cfg->db_path, &st) != 0)
		return; /* never read a store someone else could have replaced */
	if (store_quick_check(cfg->db_path, &cause) == 0)
		doctor_check(d, "store check", 1, "PRAGMA quick_check: ok");
	else
		doctor_check(d, "store check", 0, cause);
	free(cause);
}

/* Remote (gantryd: its socket, who it says we are) or embedded mode (issue 12). */
static void doctor_mode(struct doctor *d, struct engine *e)
{
	const char *role = engine_remote_hello_str(e, "role");
	const char *perr = engine_remote_hello_str(e, "policy_error");
	char *s;

	if (!engine_is_remote(e)) {
		doctor_check(d, "mode", 1,
		             "embedded: the engine runs in this process (no gantryd configured)");
		return;
	}
	s = xprintf("remote: gantryd at %s, as %s (role %s%s%s)%s%s", engine_remote_path(e),
	            engine_remote_hello_str(e, "name") ? engine_remote_hello_str(e, "name") : "?",
	            role != NULL ? role : "none",
	            engine_remote_hello_bool(e, "admin") ? ", admin" : "",
	            engine_remote_hello_bool(e, "approver") ? ", approver" : "",
	            perr != NULL ? "; its policy file is broken: " : "", perr != NULL ? perr : "");
	doctor_check(d, "mode", perr == NULL, s);
	free(s);
}

static int doctor_run(struct cli_ctx *c, int argc, char **argv)
{
	struct doctor d = {.checks = json_array(), .json = c->json};
	struct engine *e;
	char buf[512];
	char *s, *p;
	size_t broken = 0;
	const struct template_set *ts;
	int64_t njobs = 0;
	char *cause = NULL;

	if (c->e == NULL) {
		struct engine_opts o = {
		    .readonly = c->readonly, .no_refresh = 1, .embedded = c->embedded};

		if (engine_open(&o, &c->e, &cause) != 0) {
			/* say why when it is the permissions or the store; else as every command */
			struct config cfg;
			char *why = NULL;

			if (config_load(&cfg, &why) == 0) {
				doctor_trust_and_store(&d, &cfg);
			} else if (why != NULL) {
				/* a broken config.yaml is a finding too (and in -o json), exit 4 as
				 * every command */
				char *safe = sanitize_text(why, (size_t)-1, 0);

				doctor_check(&d, "config", 0, safe);
				free(safe);
				config_free(&cfg);
				free(why);
				free(cause);
				if (c->json)
					cli_print_json(json_pack("{s:o, s:i}", "checks", d.checks,
					                         "problems", d.bad));
				else
					json_decref(d.checks);
				return CLI_ENV;
			}
			config_free(&cfg);
			free(why);
			if (d.bad == 0) {
				cli_fail("error", CLI_ENV, "%s", cause);
				free(cause);
				json_decref(d.checks);
				return CLI_ENV;
			}
			if (d.last_trust == NULL) /* else the permission checks above said why */
				doctor_check(&d, "engine", 0, cause);
			free(cause);
			free(d.last_trust);
			if (c->json)
				cli_print_json(
				    json_pack("{s:o, s:i}", "checks", d.checks, "problems", d.bad));
			else
				json_decref(d.checks);
			return CLI_FAILED;
		}
	}
	e = c->e;
	engine_versions(buf, sizeof buf);
	s = xprintf("%s, %s", buf, curses_version());
	doctor_check(&d, "libraries", 1, s);
	free(s);
	doctor_mode(&d, e);
	s = xprintf("config %s, state %s", engine_config(e)->config_dir,
	            engine_config(e)->state_dir);
	/* remote mode keeps no state here: gantryd does */
	doctor_check(&d, "paths",
	             engine_is_remote(e) || access(engine_config(e)->state_dir, W_OK) == 0, s);
	free(s);
	doctor_trust_and_store(&d, engine_config(e));
	if (engine_jobs_count(e, &njobs, &cause) == 0) {
		s = engine_is_remote(e)
		        ? xprintf("gantryd's (%lld jobs you may see)", (long long)njobs)
		        : xprintf("%s (%lld jobs)", engine_config(e)->db_path, (long long)njobs);
		doctor_check(&d, "store", 1, s);
	} else {
		s = xstrdup(cause);
		doctor_check(&d, "store", 0, s);
	}
	free(s);
	free(cause);
	ts = engine_templates(e);
	for (size_t i = 0; i < ts->n; i++)
		broken += ts->items[i]->error != NULL;
	s = xprintf("%zu loaded from %s/templates and the user/system dirs, %zu broken", ts->n,
	            engine_config(e)->data_dir, broken);
	doctor_check(&d, "templates", ts->n > 0 && broken == 0, s);
	free(s);
	{
		char *path = catalog_default_path(engine_config(e)->data_dir);
		struct catalog *cat = NULL;
		struct doctor_warns w = {0};

		if (catalog_load(path, doctor_catalog_warn, &w, &cat, &cause) != 0) {
			doctor_check(&d, "prices", 0, cause);
		} else {
			s = xprintf("%zu rows from %s%s%s", cat->nrows, path,
			            w.n > 0 ? "; skipped: " : "", w.n > 0 ? w.first : "");
			doctor_check(&d, "prices", w.n == 0, s);
			free(s);
			if (w.n > 1)
				fprintf(stdout, "                    (and %zu more skipped rows)\n",
				        w.n - 1);
		}
		free(cause);
		cause = NULL;
		free(w.first);
		catalog_free(cat);
		free(path);
	}
	for (size_t i = 0; i < engine_provider_count(e); i++) {
		struct engine_provider_info pi;

		engine_provider_info(e, i, &pi);
		s = xprintf("provider %s (%s)%s%s", pi.name, pi.type, pi.message ? ": " : "",
		            pi.message ? pi.message : "");
		doctor_check(&d, "provider", pi.healthy, s);
		free(s);
	}
	p = doctor_which("python3");
	doctor_check(&d, "python3", p != NULL,
	             p != NULL ? p
	                       : "not found: the training and endpoint templates need it "
	                         "(apt-get install python3)");
	free(p);
	p = doctor_which("jupyter");
	doctor_check(&d, "jupyter", p != NULL,
	             p != NULL ? p
	                       : "not found: the notebook templates need it "
	                         "(apt-get install jupyter-notebook)");
	free(p);
	doctor_terminal(&d, c);
	free(d.last_trust);
	if (c->json)
		cli_print_json(json_pack("{s:o, s:i}", "checks", d.checks, "problems", d.bad));
	else
		json_decref(d.checks);
	return d.bad == 0 ? CLI_OK : CLI_FAILED;
}

const struct cli_cmd cli_doctor_cmd = {
    .name = "doctor",
    .usage = "doctor [-o json]",
    .summary = "check dependencies, paths, the store, templates, providers and the terminal",
    .help = "Exit code 1 when any check fails; each failure says how to fix it.\n",
    .run = doctor_run,
};
