/* slurm_launch.c: a launch on Slurm, one asynchronous step after another on the loop:
 *   1. the GET /jobs snapshot: a job whose comment carries this job id, attempt and
 *      installation id (and runs as the configured user) is adopted (a launch repeated after
 *      a crash finds the job of the first one);
 *   2. over SSH on the login node: DIR/jobs/ID with meta (labels), env (0600: the job's
 *      environment, secrets included: never in Slurm's `environment`, which any user of the
 *      cluster can read with scontrol), run.sh (the rendered script), work/; DIR's absolute
 *      path comes back;
 *   3. POST job/submit: a small batch script that sources env, runs run.sh (multi-node: srun
 *      over the nodes with RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), and writes
 *      DIR/jobs/ID/exit on the way out; output DIR/jobs/ID/job.log, cwd DIR/jobs/ID, name and
 *      comment labels, partition/account/qos, gres gpu[:type]:N, nodes, time limit, requeue.
 *      An answer that never came may hide a submitted job: the snapshot is read again and
 *      the labelled job adopted.
 * The result is the Slurm job id as ref, queued (billing starts when it runs). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/slurm_internal.h"

#define SLURM_LAUNCH_SSH_MS 60000

struct slurm_launch {
	struct provider *p;
	char *job_id, *name, *owner, *team, *kind, *script, *gpu_type, *partition;
	char *env_text; /* secret-bearing */
	int attempt, gpus, nodes, cpus, want_port, fixed_port;
	int64_t memory_mib;
	long max_runtime_s;
	provider_launch_cb cb;
	void *arg;
	char *dir;    /* DIR/jobs/ID, absolute */
	int relisted; /* the snapshot was read again after a lost submit answer */
	struct slurm_launch *next;
	struct slurm_launch *dnext; /* p->dir_wait, then the batch being made */
};

static char *slurm_dup(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

static void slurm_launch_free(struct slurm_launch *l)
{
	free(l->job_id);
	free(l->name);
	free(l->owner);
	free(l->team);
	free(l->kind);
	free(l->script);
	free(l->gpu_type);
	free(l->partition);
	if (l->env_text != NULL) {
		memset(l->env_text, 0, strlen(l->env_text));
		free(l->env_text);
	}
	free(l->dir);
	free(l);
}

static void slurm_launch_finish(struct slurm_launch *l, int rc,
                                const struct provider_launch_result *res, const char *cause)
{
	struct provider *p = l->p;

	for (struct slurm_launch **pp = &p->launches; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	l->cb(l->arg, rc, res, cause);
	slurm_launch_free(l);
}

static void slurm_launch_fail(struct slurm_launch *l, enum provider_error_class cls,
                              const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void slurm_launch_fail(struct slurm_launch *l, enum provider_error_class cls,
                              const char *fmt, ...)
{
	struct provider_launch_result res = {.error_class = cls};
	va_list ap;
	char *msg, *c;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	c = xprintf("%s: %s [%s]", l->p->name, msg, provider_error_class_name(cls));
	slurm_launch_finish(l, -1, &res, c);
	free(msg);
	free(c);
}

static void slurm_launch_ok(struct slurm_launch *l, int64_t id)
{
	struct provider_launch_result res = {0};

	res.ref = xprintf("%lld", (long long)id);
	res.queued = 1;
	slurm_ref_remember(l->p, id, l->job_id, l->want_port || l->fixed_port > 0);
	slurm_launch_finish(l, 0, &res, NULL);
	free(res.ref);
}

/* The job of this launch in the snapshot, or NULL. */
static const struct slurm_job *slurm_launch_find(struct slurm_launch *l)
{
	struct provider *p = l->p;

	for (size_t i = 0; i < p->njobs; i++) {
		const struct slurm_job *j = &p->jobs[i];
		struct slurm_label lb;
		int mine;

		if (j->comment == NULL || slurm_api_label_parse(j->comment, &lb) != 0)
			continue;
		mine = lb.job_id != NULL && strcmp(lb.job_id, l->job_id) == 0 &&
		       (l->attempt <= 0 || lb.attempt == l->attempt) &&
		       (p->installation_id == NULL ||
		        (lb.installation_id != NULL &&
		         strcmp(lb.installation_id, p->installation_id) == 0)) &&
		       j->user_name != NULL && strcmp(j->user_name, p->conf.user) == 0;
		slurm_label_clear(&lb);
		if (mine)
			return j;
	}
	return NULL;
}

/* ---- 3. submit ---- */

static char *slurm_launch_batch(struct slurm_launch *l)
{
	char *qj = slurm_sh_quote(l->dir), *text, *port;

	if (l->fixed_port > 0)
		port = xprintf("PORT=%d\n", l->fixed_port);
	else if (l->want_port)
		port = xstrdup("PORT=$(pick_port) || { echo 'gantry: no free port found'; put exit "
		               "'exited 1'; exit 1; }\n");
	else
		port = xstrdup("PORT=0\n");
	text = xprintf(
	    "#!/bin/bash\n"
	    "# Gantry job %s (attempt %d): the job's files are in this directory\n"
	    "J=%s\n"
	    "put() { printf '%%s\\n' \"$2\" >\"$J/.$1.tmp\" && mv -f \"$J/.$1.tmp\" \"$J/$1\"; }\n"
	    "pick_port() {\n"
	    "  t=0\n"
	    "  while [ \"$t\" -lt 200 ]; do\n"
	    "    t=$((t + 1))\n"
	    "    r=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -dc 0-9)\n"
	    "    pp=$(( 20000 + ${r:-$(( $$ * 131 + t * 977 ))} %% 40000 ))\n"
	    "    grep -q \":$(printf '%%04X' \"$pp\") \" /proc/net/tcp /proc/net/tcp6 2>/dev/null "
	    "&& continue\n"
	    "    echo \"$pp\"; return 0\n"
	    "  done\n"
	    "  return 1\n"
	    "}\n"
	    "rm -f \"$J/exit\" \"$J/port\" \"$J/nodes\"\n"
	    "mkdir -p \"$J/work\"; cd \"$J/work\" || cd \"$J\" || exit 1\n"
	    "%s"
	    "[ \"$PORT\" -gt 0 ] && put port \"$PORT\"\n"
	    "NN=${SLURM_JOB_NUM_NODES:-1}\n"
	    "MA=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" 2>/dev/null | head -n 1)\n"
	    "MA=${MA:-${SLURMD_NODENAME:-$(hostname)}}\n"
	    "MP=0; [ \"$NN\" -gt 1 ] && { MP=$(pick_port) || MP=29500; }\n"
	    "child=\n"
	    "termed=\n"
	    "trap 'termed=1; [ -n \"$child\" ] && kill -TERM \"$child\" 2>/dev/null' TERM INT\n"
	    "if [ \"$NN\" -gt 1 ]; then\n"
	    "  srun --nodes=\"$NN\" --ntasks=\"$NN\" --ntasks-per-node=1 --kill-on-bad-exit=1 "
	    "/bin/sh -c '. \"$1/env\"; export GANTRY_GPUS=%d RANK=$SLURM_PROCID WORLD_SIZE=$2 "
	    "MASTER_ADDR=$3 MASTER_PORT=$4; [ \"$5\" -gt 0 ] && export GANTRY_PORT=$5; cd "
	    "\"$1/work\" && exec sh \"$1/run.sh\"' gantry-job \"$J\" \"$NN\" \"$MA\" \"$MP\" "
	    "\"$PORT\" &\n"
	    "else\n"
	    "  /bin/sh -c '. \"$1/env\"; export GANTRY_GPUS=%d; [ \"$2\" -gt 0 ] && export "
	    "GANTRY_PORT=$2; exec sh \"$1/run.sh\"' gantry-job \"$J\" \"$PORT\" &\n"
	    "fi\n"
	    "child=$!\n"
	    "wait \"$child\"; rc=$?\n"
	    "while kill -0 \"$child\" 2>/dev/null; do wait \"$child\"; rc=$?; done\n"
	    "if [ \"$rc\" -gt 128 ] && [ \"$rc\" -lt 192 ]; then put exit \"signal $((rc - "
	    "128))\"\n"
	    "else put exit \"exited $rc\"; fi\n"
	    "# stopped with a grace: Gantry cancels the job when the grace ends (CANCELLED)\n"
	    "[ -n \"$termed\" ] && { sleep 60 & wait $!; }\n"
	    "exit \"$rc\"\n",
	    l->job_id, l->attempt, qj, port, l->gpus, l->gpus);
	free(qj);
	free(port);
	return text;
}

/* Submits go out at most SLURM_SUBMITS_AT_ONCE at a time (slurmctld takes them one by one
 * anyway, and slurmrestd drops connections over its limit unanswered); the others wait in
 * p->submit_wait, their request timeouts not yet running. */
#define SLURM_SUBMITS_AT_ONCE 8

static void slurm_launch_submit_now(struct slurm_launch *l);

static void slurm_launch_submit(struct slurm_launch *l)
{
	struct provider *p = l->p;
	struct slurm_launch **pp = &p->submit_wait;

	if (p->submits < SLURM_SUBMITS_AT_ONCE) {
		p->submits++;
		slurm_launch_submit_now(l);
		return;
	}
	while (*pp != NULL)
		pp = &(*pp)->dnext;
	*pp = l;
}

/* A submit ended (answered, refused or aborted): the next waiting one goes out, or every
 * waiting one fails when the provider closes. */
static void slurm_launch_submit_next(struct provider *p)
{
	struct slurm_launch *l;

	p->submits--;
	while ((l = p->submit_wait) != NULL) {
		p->submit_wait = l->dnext;
		l->dnext = NULL;
		if (p->closing) {
			slurm_launch_fail(l, PROVIDER_ERR_TRANSIENT,
			                  "closed before the job was submitted");
			continue;
		}
		p->submits++;
		slurm_launch_submit_now(l);
		break;
	}
}

static void slurm_launch_relisted(struct provider *p, void *ctx, int rc, const char *cause);

static void slurm_launch_submitted(struct provider *p, void *ctx, int ok, long status,
                                   const char *body, size_t len, const char *err,
                                   enum slurm_err cls)
{
	struct slurm_launch *l = ctx;
	int64_t id = 0;
	char *why = NULL;

	slurm_launch_submit_next(p);
	slurm_jobs_invalidate(p);
	if (ok && slurm_api_parse_submit(body, len, &id, &why) == 0) {
		slurm_launch_ok(l, id);
		return;
	}
	if (ok) {
		slurm_launch_fail(l, PROVIDER_ERR_INVALID, "submit refused: %s", why);
		free(why);
		return;
	}
	if (status == 0 || cls == SLURM_ERR_TRANSIENT) {
		/* the job may exist: the snapshot tells */
		slurm_jobs_ready(p, 1, slurm_launch_relisted, l);
		return;
	}
	slurm_launch_fail(l, slurm_error_class(cls), "submit refused: %s",
	                  err != NULL ? err : "unknown error");
}

static void slurm_launch_relisted(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_launch *l = ctx;
	const struct slurm_job *j;

	(void)p;
	if (rc == 0 && (j = slurm_launch_find(l)) != NULL) {
		slurm_launch_ok(l, j->id);
		return;
	}
	slurm_launch_fail(l, PROVIDER_ERR_TRANSIENT, "submit: %s",
	                  rc != 0 ? cause : "no answer, and no job was submitted");
}

static void slurm_launch_abort(void *ctx)
{
	struct slurm_launch *l = ctx;
	struct provider *p = l->p;
	struct provider_launch_result res = {.error_class = PROVIDER_ERR_TRANSIENT};

	slurm_launch_finish(l, -1, &res, "slurm: closed before the job was submitted");
	slurm_launch_submit_next(p);
}

static void slurm_launch_submit_now(struct slurm_launch *l)
{
	struct provider *p = l->p;
	struct slurm_submit s = {0};
	struct slurm_label lb = {0};
	struct kvlist env;
	char *body, *out, *why = NULL;

	lb.job_id = l->job_id;
	lb.attempt = l->attempt;
	lb.owner = l->owner;
	lb.team = l->team;
	lb.installation_id = p->installation_id;
	kvlist_init(&env);
	/* no secret here: scontrol shows it to every user (the job's own env is in env) */
	kvlist_set(&env, "PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
	s.script = slurm_launch_batch(l);
	s.name = slurm_api_label_name(l->job_id);
	s.comment = slurm_api_label_comment(&lb);
	s.partition = l->partition != NULL ? l->partition : p->conf.partition;
	s.account = p->conf.account;
	s.qos = p->conf.qos;
	s.cwd = l->dir;
	out = xprintf("%s/job.log", l->dir);
	s.output = out;
	s.env = &env;
	s.nodes = l->nodes > 0 ? l->nodes : 1;
	s.tasks_per_node = 1;
	s.cpus_per_task = l->cpus;
	s.memory_mib = l->memory_mib;
	s.gpus_per_node = l->gpus;
	/* the cluster's spelling of the type ("a100" for the template's "A100"); "GPU" is the
	 * offers' name of untyped GRES */
	s.gpu_type =
	    l->gpu_type != NULL && strcasecmp(l->gpu_type, "GPU") != 0 ? l->gpu_type : NULL;
	for (size_t i = 0; s.gpu_type != NULL && i < p->nnodes; i++)
		if (p->nodes[i].gpu_type != NULL &&
		    strcasecmp(p->nodes[i].gpu_type, l->gpu_type) == 0) {
			s.gpu_type = p->nodes[i].gpu_type;
			break;
		}
	s.time_limit_min = l->max_runtime_s > 0 ? (l->max_runtime_s + 59) / 60 : 0;
	s.requeue = p->conf.requeue;
	body = slurm_api_submit_body(p->ver, &s);
	free((char *)s.script);
	free((char *)s.name);
	free((char *)s.comment);
	free(out);
	kvlist_free(&env);
	if (slurm_req(p, "POST", "job/submit", NULL, body, slurm_launch_submitted,
	              slurm_launch_abort, l, &why) != 0) {
		slurm_launch_fail(l, PROVIDER_ERR_TRANSIENT, "%s", why);
		free(why);
		slurm_launch_submit_next(p);
	}
	free(body);
}

/* ---- 2. the job directory on the login node ----
 * Launches that arrive while an exec runs wait in p->dir_wait; the next exec makes all of
 * their directories at once (one SSH round trip for a burst of launches, not one each: 200
 * launches at once cost about 2 execs). */

#define SLURM_DIR_BATCH_MAX   256
#define SLURM_DIR_BATCH_BYTES (8 << 20)

static void slurm_launch_dir_flush(struct provider *p);

/* The rest of the line of out that starts with "TAG ID " (NULL when none), its length in
 * *n. */
static const char *slurm_launch_line(const char *out, const char *tag, const char *id, size_t *n)
{
	size_t tl = strlen(tag), il = strlen(id);

	for (const char *l = out; l != NULL && *l != '\0'; l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (strncmp(l, tag, tl) == 0 && l[tl] == ' ' && strncmp(l + tl + 1, id, il) == 0 &&
		    l[tl + 1 + il] == ' ') {
			const char *v = l + tl + 2 + il;

			*n = strcspn(v, "\r\n");
			return v;
		}
	return NULL;
}

static void slurm_launch_dir_done(struct provider *p, void *ctx, int rc, int status,
                                  const char *out, const char *cause)
{
	struct slurm_launch *batch = ctx, *l, *next;
	const char *e = out != NULL ? strstr(out, "@@err - ") : NULL;
	size_t en = e != NULL ? strcspn(e + 8, "\r\n") : 0;

	p->dir_busy = 0;
	for (l = batch; l != NULL; l = next) {
		const char *v;
		size_t n;

		next = l->dnext;
		l->dnext = NULL;
		memset(l->env_text, 0, strlen(l->env_text));
		if (rc != 0) {
			slurm_launch_fail(l, PROVIDER_ERR_TRANSIENT, "login node: %s", cause);
		} else if (status == 0 &&
		           (v = slurm_launch_line(out, "@@ok", l->job_id, &n)) != NULL && n > 1 &&
		           v[0] == '/') {
			l->dir = xstrndup(v, n);
			if (p->abs_dir == NULL) {
				const char *s = strstr(l->dir, "/jobs/");

				if (s != NULL)
					p->abs_dir = xstrndup(l->dir, (size_t)(s - l->dir));
			}
			slurm_launch_submit(l);
		} else if ((v = slurm_launch_line(out, "@@err", l->job_id, &n)) != NULL) {
			slurm_launch_fail(l, PROVIDER_ERR_OTHER, "login node: %.*s",
			                  (int)(n > 300 ? 300 : n), v);
		} else {
			slurm_launch_fail(l, PROVIDER_ERR_OTHER, "login node: %.*s",
			                  e != NULL ? (int)(en > 300 ? 300 : en) : 40,
			                  e != NULL ? e + 8 : "cannot create the job directory");
		}
	}
	if (p->closing) {
		/* the queue behind this exec never runs */
		while ((l = p->dir_wait) != NULL) {
			p->dir_wait = l->dnext;
			l->dnext = NULL;
			slurm_launch_fail(l, PROVIDER_ERR_TRANSIENT,
			                  "closed before the job was submitted");
		}
	} else if (p->dir_wait != NULL) {
		slurm_launch_dir_flush(p);
	}
}

/* The shell lines that write one job's files (values quoted, one block per job). */
static char *slurm_launch_dir_block(struct slurm_launch *l)
{
	struct provider *p = l->p;
	const char *names[] = {"ID", "META", "SCRIPT", "ENVTEXT"};
	const char *vals[4];
	char *vars = xstrdup(""), *meta, *tmp, *block;
	char *name = xstrdup(l->name != NULL ? l->name : "");
	char *owner = xstrdup(l->owner != NULL ? l->owner : "");

	/* one line per value */
	for (char *c = name; *c != '\0'; c++)
		if (*c == '\r' || *c == '\n')
			*c = ' ';
	for (char *c = owner; *c != '\0'; c++)
		if (*c == '\r' || *c == '\n')
			*c = ' ';
	meta = xprintf("job_id=%s\nname=%s\nowner=%s\nkind=%s\nrank=0\nworld=%d\n"
	               "installation_id=%s\nattempt=%d\nslurm=1",
	               l->job_id, name, owner, l->kind, l->nodes > 0 ? l->nodes : 1,
	               p->installation_id != NULL ? p->installation_id : "", l->attempt);
	free(name);
	free(owner);
	vals[0] = l->job_id;
	vals[1] = meta;
	vals[2] = l->script;
	vals[3] = l->env_text;
	for (int i = 0; i < 4; i++) {
		char *q = slurm_sh_quote(vals[i]);

		tmp = xprintf("%s%s=%s\n", vars, names[i], q);
		free(q);
		free(vars);
		vars = tmp;
	}
	block = xprintf("%sone\n", vars);
	memset(vars, 0, strlen(vars));
	free(vars);
	free(meta);
	return block;
}

static void slurm_launch_dir_flush(struct provider *p)
{
	struct slurm_launch *batch = NULL, **tail = &batch;
	size_t n = 0, len;
	char *script;

	script = xstrdup(
	    "umask 077\n"
	    "D=$1\n"
	    "case $D in /*) ;; *) D=${HOME:-.}/$D ;; esac\n"
	    "mkdir -p \"$D/jobs\" 2>/dev/null || { echo \"@@err - cannot create $D/jobs\"; exit 0; "
	    "}\n"
	    "D=$(cd \"$D\" && pwd -P) || { echo \"@@err - cannot enter $D\"; exit 0; }\n"
	    "one() {\n"
	    "  J=$D/jobs/$ID\n"
	    "  mkdir -p \"$J/work\" || { echo \"@@err $ID cannot create $J\"; return; }\n"
	    "  rm -f \"$J/exit\" \"$J/port\"\n"
	    "  if printf '%s' \"$SCRIPT\" >\"$J/run.sh\" && printf '%s\\n' \"$META\" >\"$J/meta\" "
	    "&&\n"
	    "     rm -f \"$J/env\" && printf '%s' \"$ENVTEXT\" >\"$J/env\" && chmod 600 "
	    "\"$J/env\"; "
	    "then\n"
	    "    echo \"@@ok $ID $J\"\n"
	    "  else\n"
	    "    echo \"@@err $ID cannot write the job's files in $J\"\n"
	    "  fi\n"
	    "}\n");
	len = strlen(script);
	while (p->dir_wait != NULL && n < SLURM_DIR_BATCH_MAX &&
	       (n == 0 || len < SLURM_DIR_BATCH_BYTES)) {
		struct slurm_launch *l = p->dir_wait;
		char *block = slurm_launch_dir_block(l), *t;

		p->dir_wait = l->dnext;
		l->dnext = NULL;
		*tail = l;
		tail = &l->dnext;
		n++;
		t = xprintf("%s%s", script, block);
		memset(block, 0, strlen(block));
		free(block);
		memset(script, 0, len);
		free(script);
		script = t;
		len = strlen(script);
	}
	p->dir_busy = 1;
	/* the script carries the jobs' environments: slurm_login_exec wipes it */
	slurm_login_exec(p, slurm_sh_command(p->conf.dir, NULL), script, SLURM_LAUNCH_SSH_MS,
	                 slurm_launch_dir_done, batch);
}

static void slurm_launch_dir(struct slurm_launch *l)
{
	struct provider *p = l->p;
	struct slurm_launch **pp = &p->dir_wait;

	while (*pp != NULL)
		pp = &(*pp)->dnext;
	*pp = l;
	if (!p->dir_busy)
		slurm_launch_dir_flush(p);
}

/* ---- 1. adopt ---- */

static void slurm_launch_nodes(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_launch *l = ctx;

	(void)p;
	(void)rc; /* without the nodes the template's spelling is sent as it is */
	(void)cause;
	if (l->p->closing) {
		slurm_launch_fail(l, PROVIDER_ERR_TRANSIENT, "closed");
		return;
	}
	slurm_launch_dir(l);
}

static void slurm_launch_snap(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct slurm_launch *l = ctx;
	const struct slurm_job *j;

	if (rc != 0) {
		/* without the list a second submit could run the job twice */
		slurm_launch_fail(l, PROVIDER_ERR_TRANSIENT, "%s", cause);
		return;
	}
	j = slurm_launch_find(l);
	if (j != NULL) {
		slurm_launch_ok(l, j->id);
		return;
	}
	if (l->gpu_type != NULL && !p->cache_ok) {
		/* the cluster's spelling of the GPU type comes from the nodes */
		slurm_cache_ready(p, slurm_launch_nodes, l);
		return;
	}
	slurm_launch_dir(l);
}

int slurm_launch(struct provider *p, const struct provider_job_spec *spec, provider_launch_cb cb,
                 void *arg, char **cause)
{
	struct slurm_launch *l;
	const char *extra[] = {"SLURM*", "CUDA_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL",
	                       "ROCR_VISIBLE_DEVICES", "TMPDIR"};
	const char **pass;
	size_t n = 0, k = 0;
	char *env;

	if (p->ver == NULL)
		return xcause(cause, "%s: %s", p->name, p->fatal);
	while (spec->env_pass != NULL && spec->env_pass[n] != NULL)
		n++;
	pass = xcalloc(n + 6, sizeof *pass);
	for (size_t i = 0; i < n; i++)
		pass[k++] = spec->env_pass[i];
	for (size_t i = 0; i < 5; i++)
		pass[k++] = extra[i];
	env = slurm_env_text(spec->env, pass, spec->job_id, cause);
	free(pass);
	if (env == NULL)
		return -1;
	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->env_text = env;
	l->job_id = xstrdup(spec->job_id);
	l->name = slurm_dup(spec->name);
	l->owner = slurm_dup(spec->owner);
	l->team = slurm_dup(spec->team);
	l->kind = xstrdup(job_kind_name(spec->kind));
	l->script = xstrdup(spec->script != NULL ? spec->script : "");
	l->gpu_type = spec->gpu_type != NULL && strcasecmp(spec->gpu_type, "any") != 0
	                  ? slurm_dup(spec->gpu_type)
	                  : NULL;
	/* the chosen offer names its partition */
	l->partition = slurm_dup(spec->instance_type);
	l->attempt = spec->attempt;
	l->gpus = spec->gpus;
	l->nodes = spec->nodes;
	l->cpus = spec->cpus;
	l->memory_mib = spec->memory_mib;
	l->want_port = spec->want_port;
	l->fixed_port = spec->fixed_port;
	l->max_runtime_s = spec->max_runtime_s;
	l->cb = cb;
	l->arg = arg;
	l->next = p->launches;
	p->launches = l;
	slurm_jobs_ready(p, 0, slurm_launch_snap, l);
	return 0;
}

void slurm_launch_abort_all(struct provider *p)
{
	(void)p;
	/* launches wait on requests, the login node's queue or the snapshot: each of those
	 * answers them when it is closed */
}
