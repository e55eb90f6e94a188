/* slurm_token.c: the slurm provider's JWT. token_file / token_env are read at open through
 * core/cred.h (no network, no process), and again (on a worker thread) after slurmrestd
 * refused the token: a renewed token file is picked up. token_command ("scontrol token
 * lifespan=3600") runs through /bin/sh on a worker thread, never on the loop, the first time a
 * request needs the token and once more after slurmrestd refused it; its first line is the token
 * ("SLURM_JWT=" in front is removed). The token is a secret: registered with http_add_secret, wiped
 * on free, never in an error, a log or a job's environment (the command's output is never shown).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/async.h"
#include "core/cred.h"
#include "core/http.h"
#include "core/xmalloc.h"
#include "providers/slurm_internal.h"

static void slurm_token_wipe(char **s)
{
	if (*s != NULL) {
		memset(*s, 0, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

void slurm_token_free(struct provider *p)
{
	if (p->token != NULL) {
		cred_free(p->token);
		p->token = NULL;
	}
	slurm_token_wipe(&p->hdr_token);
}

/* Takes tok (heap): checks it and makes the header. -1 with cause when unusable. */
static int slurm_token_set(struct provider *p, char *tok, char **cause)
{
	char *t = tok;
	size_t n;

	if (strncmp(t, "SLURM_JWT=", 10) == 0)
		memmove(t, t + 10, strlen(t + 10) + 1);
	n = strcspn(t, "\r\n");
	t[n] = '\0';
	while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		t[--n] = '\0';
	if (n == 0 || strpbrk(t, " \t") != NULL) {
		cred_free(tok);
		return xcause(cause, "%s: %s: the token is empty or not one word", p->name,
		              p->conf.token_setting);
	}
	slurm_token_free(p);
	p->token = tok;
	http_add_secret(p->http, p->token);
	p->hdr_token = xprintf("X-SLURM-USER-TOKEN: %s", p->token);
	return 0;
}

int slurm_token_open(struct provider *p, const struct kvlist *settings, const struct kvlist *pos,
                     char **cause)
{
	char *tok = NULL;
	int rc;

	if (p->conf.token_command != NULL)
		return 0; /* run when the first request needs it */
	rc = cred_get(settings, pos, "token", 1, &tok, cause);
	if (rc != 0)
		return -1;
	/* the reference (not the value) is kept: a refused token is read again from it */
	kvlist_init(&p->tok_set);
	kvlist_init(&p->tok_pos);
	for (size_t i = 0; i < settings->n; i++) {
		if (strcmp(settings->keys[i], "token_file") != 0 &&
		    strcmp(settings->keys[i], "token_env") != 0)
			continue;
		kvlist_set(&p->tok_set, settings->keys[i], settings->vals[i]);
		if (pos != NULL && kvlist_get(pos, settings->keys[i]) != NULL)
			kvlist_set(&p->tok_pos, settings->keys[i],
			           kvlist_get(pos, settings->keys[i]));
	}
	return slurm_token_set(p, tok, cause);
}

struct slurm_token_run {
	struct provider *p;
	char *cmd;
	char *out; /* secret */
	char *err;
	struct waiter *waiters;
};

static void slurm_token_work(void *arg)
{
	struct slurm_token_run *t = arg;
	char buf[8192];
	size_t n = 0;
	FILE *f;
	int st;

	if (t->cmd == NULL) {
		/* token_file / token_env read again (the loop's kvlists are not changed meanwhile)
		 */
		if (cred_get(&t->p->tok_set, &t->p->tok_pos, "token", 1, &t->out, &t->err) != 0) {
			t->out = NULL;
			if (t->err == NULL)
				t->err = xstrdup("cannot read the token");
		}
		return;
	}
	f = popen(t->cmd, "r");
	if (f == NULL) {
		t->err = xstrdup("cannot start token_command");
		return;
	}
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	while (fgetc(f) != EOF)
		; /* the rest is ignored */
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		t->err = WIFEXITED(st) ? xprintf("token_command failed (exit %d)", WEXITSTATUS(st))
		                       : xstrdup("token_command failed");
	} else {
		t->out = xstrdup(buf);
	}
	memset(buf, 0, sizeof buf);
}

static void slurm_token_done(void *arg, int cancelled)
{
	struct slurm_token_run *t = arg;
	struct provider *p = t->p;
	char *why = NULL;
	int rc = -1;

	p->token_busy = 0;
	p->token_run = NULL;
	if (cancelled || p->closing) {
		why = xprintf("%s: closed", p->name);
	} else if (t->out == NULL) {
		why = xprintf("%s: %s", p->name, t->err);
	} else {
		rc = slurm_token_set(p, t->out, &why);
		t->out = NULL;
	}
	waiters_fire(p, &t->waiters, rc, why);
	free(why);
	free(t->cmd);
	slurm_token_wipe(&t->out);
	free(t->err);
	free(t);
}

void slurm_token_ready(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                       void *ctx)
{
	struct slurm_token_run *t;

	if (p->token != NULL) {
		fn(p, ctx, 0, NULL);
		return;
	}
	if (p->conf.token_command == NULL && p->tok_set.n == 0) {
		char *c = xprintf("%s: no token", p->name);

		fn(p, ctx, -1, c);
		free(c);
		return;
	}
	if (p->token_busy) {
		/* one run at a time: join it */
		waiters_add(&p->token_run->waiters, fn, ctx);
		return;
	}
	t = xcalloc(1, sizeof *t);
	t->p = p;
	t->cmd = p->conf.token_command != NULL ? xstrdup(p->conf.token_command) : NULL;
	waiters_add(&t->waiters, fn, ctx);
	p->token_busy = 1;
	p->token_run = t;
	if (p->tq == NULL)
		p->tq = async_queue_new(p->loop, "slurm-token");
	async_queue_submit(p->tq, slurm_token_work, slurm_token_done, t);
}

int slurm_token_rerun(struct provider *p)
{
	if (p->conf.token_command == NULL && p->tok_set.n == 0)
		return 0;
	slurm_token_free(p);
	return 1;
}

void slurm_token_close(struct provider *p)
{
	slurm_token_free(p);
	kvlist_free(&p->tok_set);
	kvlist_free(&p->tok_pos);
}
