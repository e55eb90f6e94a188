/* urlopen.c: the TUI's `o`. A job on this host: its URL with the token, at once. A job on a
 * remote worker: its forward's URL (the forward is opened first when there is none, and the
 * URL comes when it is up). Either way the URL goes on the status line and to the clipboard
 * of the user's terminal (tui/clipboard.c). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "tui/clipboard.h"
#include "tui/remote.h"
#include "tui/urlopen.h"

static void urlopen_show(struct app *a, const char *url)
{
	const char *how = NULL;

	if (clipboard_copy(STDOUT_FILENO, url, &how) == 0)
		app_status(a, 0, "copied: %s", url);
	else
		app_status(a, 0, "open %s (not copied: %s)", url, how);
}

/* The URL of the job's forward of its own port in this process, heap or NULL. */
static char *urlopen_forward_url(struct app *a, const char *job_id, int port, int want_up)
{
	struct engine_forward_info *fi;
	size_t n = engine_forwards(a->e, &fi);
	char *url = NULL;

	for (size_t i = 0; i < n && url == NULL; i++)
		if (strcmp(fi[i].job_id, job_id) == 0 && fi[i].remote_port == port &&
		    (fi[i].up || !want_up))
			url = xstrdup(fi[i].url);
	engine_forwards_free(fi, n);
	return url;
}

struct urlopen_wait {
	char *job_id;
	int port;
};

static void urlopen_forward_done(void *arg, int id, int rc, const struct engine_conn_error *err)
{
	struct urlopen_wait *w = arg;
	struct app *a = app_current();

	if (a != NULL && rc == 0) {
		struct engine_forward_info *fi;
		size_t n = engine_forwards(a->e, &fi);

		for (size_t i = 0; i < n; i++)
			if (fi[i].id == id)
				urlopen_show(a, fi[i].url);
		engine_forwards_free(fi, n);
	} else if (a != NULL && err != NULL && err->code == ENGINE_CONN_HOSTKEY_UNKNOWN) {
		struct job j;

		/* `f` asks about the key in a dialog */
		job_init(&j);
		if (engine_job(a->e, w->job_id, &j, NULL) == 0)
			remote_forward(a, &j);
		job_clear(&j);
	} else if (a != NULL) {
		app_status(a, 1, "forward failed: %s", err != NULL ? err->msg : "unknown error");
	}
	if (a != NULL)
		app_dirty(a);
	free(w->job_id);
	free(w);
}

void urlopen_job(struct app *a, const struct job *j)
{
	struct engine_open_info o;
	struct urlopen_wait *w;
	char *cause = NULL, *url;
	int id;

	if (j == NULL) {
		app_status(a, 0, "no job selected");
		return;
	}
	if (engine_job_open(a->e, j->id, &o, &cause) != 0) {
		app_status(a, 1, "%s", cause);
		free(cause);
		return;
	}
	if (o.url == NULL) {
		app_status(a, 1, "%s has no URL (no service port)", o.job_name);
	} else if (o.local) {
		urlopen_show(a, o.url);
	} else if ((url = urlopen_forward_url(a, o.job_id, o.port, 1)) != NULL) {
		urlopen_show(a, url);
		free(url);
	} else if ((url = urlopen_forward_url(a, o.job_id, o.port, 0)) != NULL) {
		app_status(a, 0, "the forward is still connecting; press o again when it is up");
		free(url);
	} else if (a->readonly) {
		app_status(a, 1, "read-only mode: forwards are not opened");
	} else {
		w = xcalloc(1, sizeof *w);
		w->job_id = xstrdup(o.job_id);
		w->port = o.port;
		if (engine_forward_open(a->e, o.job_id, 0, 0, NULL, 0, urlopen_forward_done, w, &id,
		                        &cause) != 0) {
			app_status(a, 1, "%s", cause);
			free(cause);
			free(w->job_id);
			free(w);
		} else {
			app_status(a, 0, "forwarding %s's port to 127.0.0.1...", o.job_name);
		}
	}
	engine_open_info_clear(&o);
}
