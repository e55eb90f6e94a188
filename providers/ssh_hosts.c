/* ssh_hosts.c: one host's SSH connection as its worker thread keeps it (connected lazily,
 * reconnected after failures with a backoff of 1, 2, 4 ... 30 s), and the parser of the
 * status sweep's output (see ssh_remote_status_script). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/loop.h"
#include "core/nvsmi.h"
#include "core/sanitize.h"
#include "core/xmalloc.h"
#include "providers/ssh_internal.h"

void ssh_hosts_conn_init(struct ssh_hosts_conn *conn, const struct ssh_conf *c, size_t i)
{
	const struct ssh_conf_host *h = &c->hosts[i];

	memset(conn, 0, sizeof *conn);
	conn->name = h->name;
	conn->target.host = h->address;
	conn->target.port = h->port;
	conn->target.user = h->user != NULL ? h->user : c->user;
	conn->target.key_file = h->key != NULL ? h->key : c->key;
	conn->target.known_hosts = c->known_hosts;
	conn->target.connect_timeout_ms = c->connect_timeout_ms;
	conn->target.io_timeout_ms = c->io_timeout_ms;
	if (c->has_jump) {
		conn->jump.host = c->jump_address;
		conn->jump.port = c->jump_port;
		conn->jump.user = c->jump_user != NULL ? c->jump_user : c->user;
		conn->jump.key_file = c->jump_key != NULL ? c->jump_key : c->key;
		conn->jump.known_hosts = c->known_hosts;
		conn->jump.connect_timeout_ms = c->connect_timeout_ms;
		conn->jump.io_timeout_ms = c->io_timeout_ms;
		conn->target.jump = &conn->jump;
	}
}

void ssh_hosts_conn_close(struct ssh_hosts_conn *conn)
{
	if (conn->sess != NULL)
		ssh_close(conn->sess);
	conn->sess = NULL;
}

/* "NAME unreachable: REASON (last contact N s ago)". */
static int ssh_hosts_unreachable(struct ssh_hosts_conn *conn, char **cause)
{
	int64_t now = loop_wall_ms();

	if (conn->last_contact_ms > 0)
		return xcause(cause, "%s unreachable: %s (last contact %lld s ago)", conn->name,
		              conn->reason,
		              (long long)((now - conn->last_contact_ms + 500) / 1000));
	return xcause(cause, "%s unreachable: %s (never reached)", conn->name, conn->reason);
}

/* Records a failure and schedules the next attempt. */
static void ssh_hosts_failed(struct ssh_hosts_conn *conn, const struct ssh_error *err)
{
	const char *msg = err->msg[0] != '\0' ? err->msg : "connection failed";

	char *text;

	if (err->fingerprint[0] != '\0' && strstr(msg, err->fingerprint) == NULL)
		text = xprintf("%s (host key %s %s)", msg, err->keytype, err->fingerprint);
	else
		text = xstrdup(msg);
	snprintf(conn->reason, sizeof conn->reason, "%.*s", (int)sizeof conn->reason - 1, text);
	free(text);
	conn->backoff_s = conn->backoff_s == 0 ? 1 : conn->backoff_s * 2;
	if (conn->backoff_s > SSH_HOSTS_BACKOFF_MAX_S)
		conn->backoff_s = SSH_HOSTS_BACKOFF_MAX_S;
	conn->retry_at_ms = loop_now_ms() + (uint64_t)conn->backoff_s * 1000;
	ssh_hosts_conn_close(conn);
}

static int ssh_hosts_connect(struct ssh_hosts_conn *conn, struct ssh_error *err, char **cause)
{
	if (conn->sess != NULL)
		return 0;
	if (conn->backoff_s > 0 && loop_now_ms() < conn->retry_at_ms)
		return ssh_hosts_unreachable(conn, cause);
	if (ssh_connect(&conn->target, &conn->sess, err) != 0) {
		conn->sess = NULL;
		ssh_hosts_failed(conn, err);
		return ssh_hosts_unreachable(conn, cause);
	}
	conn->connects++;
	return 0;
}

/* One request on the host's session (an exec or an HTTP GET). */
struct ssh_hosts_req {
	const char *cmd, *in; /* exec */
	struct ssh_exec_result *r;
	const char *path; /* or an HTTP GET of path from port */
	int port;
	struct ssh_http_result *hr;
	int timeout_ms;
};

static int ssh_hosts_req_run(struct ssh_session *s, const struct ssh_hosts_req *q,
                             struct ssh_error *err)
{
	if (q->path != NULL)
		return ssh_http_get(s, "127.0.0.1", q->port, q->path, q->hr, q->timeout_ms, err);
	return ssh_exec(s, q->cmd, q->in, q->in != NULL ? strlen(q->in) : 0, q->r, q->timeout_ms,
	                err);
}

/* Runs q, connecting first when needed and once more on a new session after a kept one
 * turned out dead. 0, -1 (host unreachable, cause set) or -2 (the host answered but the
 * HTTP request could not be made: cause says why). */
static int ssh_hosts_run(struct ssh_hosts_conn *conn, const struct ssh_hosts_req *q,
                         struct ssh_error *err, char **cause)
{
	struct ssh_error local;
	int fresh, tries;

	if (err == NULL)
		err = &local;
	memset(err, 0, sizeof *err);
	for (tries = 0; tries < 2; tries++) {
		fresh = conn->sess == NULL;
		if (ssh_hosts_connect(conn, err, cause) != 0)
			return -1;
		if (ssh_hosts_req_run(conn->sess, q, err) == 0) {
			conn->backoff_s = 0;
			conn->last_contact_ms = loop_wall_ms();
			return 0;
		}
		if (q->path != NULL && !ssh_session_dead(conn->sess) &&
		    (err->code == SSH_ERR_CONNECT || err->code == SSH_ERR_CHANNEL ||
		     err->code == SSH_ERR_LOCAL || err->code == SSH_ERR_TIMEOUT)) {
			/* the host answered; what it was asked to reach did not */
			conn->last_contact_ms = loop_wall_ms();
			xcause(cause, "%s", err->msg);
			return -2;
		}
		/* a kept session may have died while idle: one more try on a new one */
		if (fresh || err->code != SSH_ERR_CLOSED) {
			ssh_hosts_failed(conn, err);
			return ssh_hosts_unreachable(conn, cause);
		}
		ssh_hosts_conn_close(conn);
	}
	ssh_hosts_failed(conn, err);
	return ssh_hosts_unreachable(conn, cause);
}

int ssh_hosts_exec(struct ssh_hosts_conn *conn, const char *cmd, const char *in,
                   struct ssh_exec_result *r, int timeout_ms, struct ssh_error *err, char **cause)
{
	struct ssh_hosts_req q = {.cmd = cmd, .in = in, .r = r, .timeout_ms = timeout_ms};

	memset(r, 0, sizeof *r);
	return ssh_hosts_run(conn, &q, err, cause);
}

int ssh_hosts_http(struct ssh_hosts_conn *conn, int port, const char *path,
                   struct ssh_http_result *r, int timeout_ms, char **cause)
{
	struct ssh_hosts_req q = {.path = path, .port = port, .hr = r, .timeout_ms = timeout_ms};

	memset(r, 0, sizeof *r);
	return ssh_hosts_run(conn, &q, NULL, cause);
}

/* ---- the status sweep's output ---- */

void ssh_hosts_facts_clear(struct ssh_job_facts *f)
{
	free(f->id);
	free(f->exit);
	free(f->ready_failed);
	free(f->runtime_exceeded);
	free(f->lastlog);
	free(f->gpus);
	kvlist_free(&f->meta);
	memset(f, 0, sizeof *f);
}

static char *ssh_hosts_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void ssh_hosts_facts_copy(struct ssh_job_facts *dst, const struct ssh_job_facts *src)
{
	*dst = *src;
	dst->id = ssh_hosts_dup(src->id);
	dst->exit = ssh_hosts_dup(src->exit);
	dst->ready_failed = ssh_hosts_dup(src->ready_failed);
	dst->runtime_exceeded = ssh_hosts_dup(src->runtime_exceeded);
	dst->lastlog = ssh_hosts_dup(src->lastlog);
	dst->gpus = ssh_hosts_dup(src->gpus);
	kvlist_init(&dst->meta);
	kvlist_copy(&dst->meta, &src->meta);
}

void ssh_hosts_sweep_clear(struct ssh_sweep_result *res)
{
	tele_host_clear(&res->tele);
	for (size_t i = 0; i < res->njobs; i++)
		ssh_hosts_facts_clear(&res->jobs[i]);
	free(res->jobs);
	memset(res, 0, sizeof *res);
}

/* A one-line value from the remote side, made safe for messages (heap). */
static char *ssh_hosts_clean(const char *s)
{
	char *out = sanitize_text(s, (size_t)-1, 0);

	if (strlen(out) > 300)
		out[300] = '\0';
	return out;
}

/* "cpu  user nice system idle iowait irq softirq steal ..." -> busy and total ticks. */
static int ssh_hosts_cpu_line(const char *l, unsigned long long *busy, unsigned long long *total)
{
	unsigned long long v[8] = {0};
	int n = sscanf(l, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
	               &v[4], &v[5], &v[6], &v[7]);

	if (n < 4)
		return -1;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];
	return 0;
}

/* Appends a line to a growing text. */
static void ssh_hosts_append(char **buf, size_t *len, const char *line, size_t n)
{
	*buf = xrealloc(*buf, *len + n + 2);
	memcpy(*buf + *len, line, n);
	(*buf)[*len + n] = '\n';
	*len += n + 1;
	(*buf)[*len] = '\0';
}

static void ssh_hosts_job_field(struct ssh_job_facts *f, const char *k, const char *v)
{
	if (strncmp(k, "meta.", 5) == 0) {
		char *clean = ssh_hosts_clean(v);

		kvlist_set(&f->meta, k + 5, clean);
		free(clean);
	} else if (strcmp(k, "alive") == 0) {
		f->alive = 1;
	} else if (strcmp(k, "has_pid") == 0) {
		f->has_pid = 1;
	} else if (strcmp(k, "has_wrapper") == 0) {
		f->has_wrapper = 1;
	} else if (strcmp(k, "wrapper") == 0) {
		f->wrapper = 1;
	} else if (strcmp(k, "age") == 0) {
		f->age_s = strtol(v, NULL, 10);
	} else if (strcmp(k, "ended") == 0) {
		f->ended_s = strtol(v, NULL, 10);
	} else if (strcmp(k, "exit") == 0) {
		f->has_exit = 1;
		free(f->exit);
		f->exit = ssh_hosts_clean(v);
	} else if (strcmp(k, "stop") == 0) {
		f->stop = 1;
	} else if (strcmp(k, "readiness") == 0) {
		f->readiness = 1;
	} else if (strcmp(k, "ready") == 0) {
		f->ready = 1;
	} else if (strcmp(k, "ready_failed") == 0) {
		free(f->ready_failed);
		f->ready_failed = ssh_hosts_clean(v);
	} else if (strcmp(k, "runtime_exceeded") == 0) {
		free(f->runtime_exceeded);
		f->runtime_exceeded = ssh_hosts_clean(v);
	} else if (strcmp(k, "lastlog") == 0) {
		free(f->lastlog);
		f->lastlog = ssh_hosts_clean(v);
	} else if (strcmp(k, "gpus") == 0) {
		free(f->gpus);
		f->gpus = ssh_hosts_clean(v);
	} else if (strcmp(k, "port") == 0) {
		f->port = (int)strtol(v, NULL, 10);
	} else if (strcmp(k, "master_port") == 0) {
		f->master_port = (int)strtol(v, NULL, 10);
	}
}

/* The GPU figures of a sweep: parsed output, or gpu_error saying why there are none. */
static void ssh_hosts_gpu_section(struct tele_host *t, int rc, const char *text, int apps)
{
	char *why = NULL;
	int prc;

	if (rc != 0) {
		const char *first = text != NULL ? text : "";
		size_t n = strcspn(first, "\n");
		char *line = xstrndup(first, n), *clean = ssh_hosts_clean(line);

		if (t->gpu_error == NULL)
			t->gpu_error = xprintf("nvidia-smi failed (exit %d)%s%s", rc,
			                       *clean != '\0' ? ": " : "", clean);
		free(line);
		free(clean);
		return;
	}
	if (apps)
		prc = nvsmi_parse_apps(text, &t->procs, &t->nprocs, &why);
	else
		prc = nvsmi_parse_gpus(text, &t->gpus, &t->ngpus, &why);
	if (prc != 0) {
		if (t->gpu_error == NULL)
			t->gpu_error = xprintf("nvidia-smi output not understood: %s", why);
		free(why);
	}
}

int ssh_hosts_parse_sweep(struct ssh_hosts_conn *conn, const char *out,
                          struct ssh_sweep_result *res, char **cause)
{
	unsigned long long busy[2] = {0}, total[2] = {0};
	int ncpu = 0, section = 0, gpu_rc = 0, app_rc = 0, ended = 0;
	char *gpu_text = NULL, *app_text = NULL;
	size_t gpu_len = 0, app_len = 0, cap = 0;
	unsigned long long mt = 0, ma = 0;
	struct ssh_job_facts *job = NULL;
	const char *p = out;

	memset(res, 0, sizeof *res);
	res->tele.cpu_pct.ok = 0;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len);

		if (strncmp(line, "@@", 2) == 0) {
			section = 0;
			job = NULL;
			if (strncmp(line, "@@cpu ", 6) == 0 && ncpu < 2) {
				if (ssh_hosts_cpu_line(line + 6, &busy[ncpu], &total[ncpu]) == 0)
					ncpu++;
			} else if (strncmp(line, "@@ncpu ", 7) == 0) {
				res->tele.cpus = atoi(line + 7);
			} else if (strncmp(line, "@@mem ", 6) == 0) {
				sscanf(line + 6, "%llu %llu", &mt, &ma);
			} else if (strcmp(line, "@@nogpu") == 0) {
				res->tele.gpu_error = xstrdup("nvidia-smi not found");
			} else if (strncmp(line, "@@gpu ", 6) == 0) {
				section = 1;
				gpu_rc = atoi(line + 6);
				gpu_text = xstrdup("");
			} else if (strncmp(line, "@@app ", 6) == 0) {
				section = 2;
				app_rc = atoi(line + 6);
				app_text = xstrdup("");
			} else if (strncmp(line, "@@job ", 6) == 0) {
				if (res->njobs == cap) {
					cap = cap == 0 ? 8 : cap * 2;
					res->jobs =
					    xreallocarray(res->jobs, cap, sizeof *res->jobs);
				}
				job = &res->jobs[res->njobs++];
				memset(job, 0, sizeof *job);
				kvlist_init(&job->meta);
				job->id = ssh_hosts_clean(line + 6);
				section = 3;
			} else if (strcmp(line, "@@end") == 0) {
				ended = 1;
			}
		} else if (section == 1) {
			ssh_hosts_append(&gpu_text, &gpu_len, line, len);
		} else if (section == 2) {
			ssh_hosts_append(&app_text, &app_len, line, len);
		} else if (section == 3 && job != NULL) {
			char *eq = strchr(line, '=');

			if (eq != NULL) {
				*eq = '\0';
				ssh_hosts_job_field(job, line, eq + 1);
			}
		}
		free(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (!ended) {
		free(gpu_text);
		free(app_text);
		ssh_hosts_sweep_clear(res);
		return xcause(cause, "%s: the status command's output was cut short", conn->name);
	}
	if (gpu_text != NULL)
		ssh_hosts_gpu_section(&res->tele, gpu_rc, gpu_text, 0);
	if (app_text != NULL && res->tele.gpu_error == NULL)
		ssh_hosts_gpu_section(&res->tele, app_rc, app_text, 1);
	free(gpu_text);
	free(app_text);
	if (mt > 0) {
		res->tele.mem_total_mib.v = (double)mt / 1024.0;
		res->tele.mem_total_mib.ok = 1;
		if (ma > 0 && ma <= mt) {
			res->tele.mem_used_mib.v = (double)(mt - ma) / 1024.0;
			res->tele.mem_used_mib.ok = 1;
		}
	}
	/* CPU use: since the previous sweep, else between the two samples of this one */
	if (ncpu >= 1) {
		unsigned long long b0 = 0, t0 = 0, b1 = busy[ncpu - 1], t1 = total[ncpu - 1];

		if (conn->have_cpu) {
			b0 = conn->cpu_busy;
			t0 = conn->cpu_total;
		} else if (ncpu == 2) {
			b0 = busy[0];
			t0 = total[0];
		}
		if ((conn->have_cpu || ncpu == 2) && t1 > t0 && b1 >= b0) {
			res->tele.cpu_pct.v = 100.0 * (double)(b1 - b0) / (double)(t1 - t0);
			res->tele.cpu_pct.ok = 1;
		}
		conn->have_cpu = 1;
		conn->cpu_busy = b1;
		conn->cpu_total = t1;
	}
	res->tele.reachable = 1;
	return 0;
}
