/* engine_open.c: a job's URL with its access token, and whether it opens from this host as it
 * is (a local job's port on 127.0.0.1) or needs a forward (a job on a remote worker). */
#include "core/engine.h"

#include <stdlib.h>
#include <string.h>

#include "core/engine_internal.h"
#include "core/engine_remote.h"
#include "core/engine_session.h"
#include "core/xmalloc.h"

char *engine_url_with_token(const char *url, const char *token)
{
	const char *hash;
	size_t base;

	if (url == NULL)
		return NULL;
	if (token == NULL || token[0] == '\0')
		return xstrdup(url);
	/* the query goes before a fragment ("/lab#x" -> "/lab?token=T#x") */
	hash = strchr(url, '#');
	base = hash != NULL ? (size_t)(hash - url) : strlen(url);
	return xprintf("%.*s%stoken=%s%s", (int)base, url,
	               memchr(url, '?', base) != NULL ? "&" : "?", token, hash != NULL ? hash : "");
}

char *engine_job_url(struct engine *e, const struct job *j)
{
	char *tok, *url;

	if (j->url == NULL)
		return NULL;
	tok = engine_job_token(e, j->id);
	url = engine_url_with_token(j->url, tok);
	free(tok);
	return url;
}

void engine_open_info_clear(struct engine_open_info *o)
{
	free(o->job_id);
	free(o->job_name);
	free(o->url);
	memset(o, 0, sizeof *o);
}

int engine_job_open(struct engine *e, const char *job_ref, struct engine_open_info *out,
                    char **cause)
{
	if (engine_is_remote(e))
		return engine_remote_unavailable_op(e, "open", cause);
	struct engine_provider *ep;
	struct provider_shell ps;
	struct job j;
	int rc = -1;

	memset(out, 0, sizeof *out);
	memset(&ps, 0, sizeof ps);
	job_init(&j);
	if (engine_job(e, job_ref, &j, cause) != 0)
		goto out;
	if (!job_state_active(j.state)) {
		xcause(cause, "job %s has ended (%s): nothing to open", j.name,
		       job_state_name(j.state));
		goto out;
	}
	ep = engine_find_provider(e, j.provider);
	if (ep == NULL || ep->p == NULL) {
		xcause(cause, "provider '%s' of job %s is not configured", j.provider, j.name);
		goto out;
	}
	if (j.provider_ref == NULL) {
		xcause(cause, "job %s has no resources yet (%s)", j.name, job_state_name(j.state));
		goto out;
	}
	/* a worker that is this host needs no forward: its port is on our loopback */
	if (ep->ops->channel_open == NULL && ep->ops->local_workers)
		out->local = 1;
	out->job_id = xstrdup(j.id);
	out->job_name = xstrdup(j.name);
	out->state = j.state;
	out->port = j.port;
	out->url = engine_job_url(e, &j);
	rc = 0;
out:
	provider_shell_clear(&ps);
	job_clear(&j);
	return rc;
}
