/* slurm_ssh.c: the pieces of the ssh provider the slurm provider reuses, behind functions
 * of its own (ssh_internal.h defines the ssh provider's struct provider, which this file
 * keeps away from slurm_internal.h's): one host's connection with reconnects and backoff
 * (ssh_hosts_exec, ssh_hosts_http), shell quoting, and the job env file's text. */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "providers/ssh_internal.h"

/* The declarations are in slurm_internal.h (which cannot include this file's header). */
struct slurm_conn {
	struct ssh_hosts_conn c;
	char *host;
};

struct slurm_conn *slurm_conn_new(const struct ssh_target *t, const struct ssh_target *jump,
                                  const char *name);
void slurm_conn_free(struct slurm_conn *c);
int slurm_conn_exec(struct slurm_conn *c, const char *cmd, const char *in, int timeout_ms,
                    int *status, char **out, char **cause);
int slurm_conn_http(struct slurm_conn *c, int port, const char *path, int timeout_ms, int *status,
                    char **body, char **cause);
char *slurm_sh_quote(const char *s);
char *slurm_sh_command(const char *a, const char *b);
char *slurm_env_text(const struct kvlist *env, const char *const *pass, const char *job_id,
                     char **cause);
int slurm_id_ok(const char *s);

struct slurm_conn *slurm_conn_new(const struct ssh_target *t, const struct ssh_target *jump,
                                  const char *name)
{
	struct slurm_conn *c = xcalloc(1, sizeof *c);

	c->host = xstrdup(t->host);
	c->c.name = name;
	c->c.target = *t;
	c->c.target.host = c->host;
	c->c.target.jump = NULL;
	if (jump != NULL) {
		c->c.jump = *jump;
		c->c.jump.jump = NULL;
		c->c.target.jump = &c->c.jump;
	}
	return c;
}

void slurm_conn_free(struct slurm_conn *c)
{
	if (c == NULL)
		return;
	ssh_hosts_conn_close(&c->c);
	free(c->host);
	free(c);
}

int slurm_conn_exec(struct slurm_conn *c, const char *cmd, const char *in, int timeout_ms,
                    int *status, char **out, char **cause)
{
	struct ssh_exec_result r = {0};
	int rc = ssh_hosts_exec(&c->c, cmd, in, &r, timeout_ms, NULL, cause);

	*out = NULL;
	*status = -1;
	if (rc == 0) {
		*status = r.exit_status;
		*out = r.out;
		r.out = NULL;
	}
	ssh_exec_result_clear(&r);
	return rc;
}

int slurm_conn_http(struct slurm_conn *c, int port, const char *path, int timeout_ms, int *status,
                    char **body, char **cause)
{
	struct ssh_http_result r = {0};
	int rc = ssh_hosts_http(&c->c, port, path, &r, timeout_ms, cause);

	*body = NULL;
	*status = -1;
	if (rc == 0) {
		*status = r.status;
		*body = r.body;
		r.body = NULL;
	}
	ssh_http_result_clear(&r);
	return rc;
}

char *slurm_sh_quote(const char *s)
{
	return ssh_remote_quote(s);
}

char *slurm_sh_command(const char *a, const char *b)
{
	return ssh_remote_command(a, b, NULL);
}

char *slurm_env_text(const struct kvlist *env, const char *const *pass, const char *job_id,
                     char **cause)
{
	return ssh_remote_env_text(env, pass, job_id, cause);
}

int slurm_id_ok(const char *s)
{
	return s != NULL && sshp_id_ok(s, strlen(s));
}
