/* lambda_launch.c: a launch on Lambda Cloud, one asynchronous step after another on the loop:
 *   1. the instance type and region: the chosen offer's, else the cheapest one with capacity
 *      now that fits the job (offers cache);
 *   2. Gantry's key made and registered (crash point lambda-key-registered);
 *   3. GET /instances: an instance named gantry-JOBID-aATTEMPT with this installation's key
 *      is adopted (the API has no idempotency token: a launch repeated after a crash finds
 *      the instance of the first one);
 *   4. else POST /instance-operations/launch, at least launch_interval after the previous one,
 *      never retried (crash point lambda-launched); an answer that never came (timeout, 5xx)
 *      may hide a launched instance, so the list is read again and the name adopted;
 *   5. GET /instances/{id} every poll_interval until active (crash point lambda-active);
 *      unhealthy, terminated or boot_timeout passed: the instance is terminated, the launch
 *      fails;
 *   6. the job starts through the instance's own ssh provider (its host key is recorded on
 *      first connect: Gantry created the instance), retried while sshd comes up, until
 *      boot_timeout after active (crash point lambda-ssh-launched). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/loop.h"
#include "core/xmalloc.h"
#include "providers/lambda_internal.h"
#include "providers/ssh.h"

#define LAMBDA_SSH_GRACE_MS   120000 /* at least this long for sshd to answer after active */
#define LAMBDA_LAUNCH_429_MAX 10     /* launches sent again after a 429 */

enum lambda_wait {
	LW_NONE,
	LW_TIMER,
	LW_REQ,
	LW_KEY,
	LW_TYPES,
	LW_SSH,
};

struct lambda_launch {
	struct provider *p;
	struct provider_job_spec spec; /* deep copy */
	struct kvlist env;
	char **env_pass;
	provider_launch_cb cb;
	void *arg;
	char *name; /* gantry-JOBID-aATTEMPT */
	char *region, *type, *gpu_type;
	int gpus;
	char *id, *ip;
	uint64_t deadline;     /* monotonic ms: boot_timeout after the launch */
	uint64_t ssh_deadline; /* monotonic ms: the job must have started by then */
	enum lambda_wait wait;
	struct loop_timer *timer;
	void (*after_timer)(struct lambda_launch *l);
	int relisted;  /* the list was read again after a lost launch answer */
	int throttled; /* launches refused with 429 (not made: sent again later) */
	char *post_err;
	struct lambda_launch *next;
};

static char *lambda_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void lambda_spec_copy(struct lambda_launch *l, const struct provider_job_spec *s)
{
	size_t n = 0;

	l->spec = *s;
	l->spec.job_id = lambda_dup(s->job_id);
	l->spec.idem_key = lambda_dup(s->idem_key);
	l->spec.name = lambda_dup(s->name);
	l->spec.owner = lambda_dup(s->owner);
	l->spec.script = lambda_dup(s->script);
	l->spec.readiness_path = lambda_dup(s->readiness_path);
	l->spec.gpu_type = lambda_dup(s->gpu_type);
	l->spec.installation_id = lambda_dup(s->installation_id);
	l->spec.team = lambda_dup(s->team);
	l->spec.project = lambda_dup(s->project);
	l->spec.region = lambda_dup(s->region);
	l->spec.instance_type = lambda_dup(s->instance_type);
	kvlist_init(&l->env);
	if (s->env != NULL)
		kvlist_copy(&l->env, s->env);
	l->spec.env = &l->env;
	while (s->env_pass != NULL && s->env_pass[n] != NULL)
		n++;
	if (s->env_pass != NULL) {
		l->env_pass = xcalloc(n + 1, sizeof *l->env_pass);
		for (size_t i = 0; i < n; i++)
			l->env_pass[i] = xstrdup(s->env_pass[i]);
	}
	l->spec.env_pass = (const char *const *)l->env_pass;
}

static void lambda_launch_free(struct lambda_launch *l)
{
	free((char *)l->spec.job_id);
	free((char *)l->spec.idem_key);
	free((char *)l->spec.name);
	free((char *)l->spec.owner);
	free((char *)l->spec.script);
	free((char *)l->spec.readiness_path);
	free((char *)l->spec.gpu_type);
	free((char *)l->spec.installation_id);
	free((char *)l->spec.team);
	free((char *)l->spec.project);
	free((char *)l->spec.region);
	free((char *)l->spec.instance_type);
	kvlist_free(&l->env);
	for (size_t i = 0; l->env_pass != NULL && l->env_pass[i] != NULL; i++)
		free(l->env_pass[i]);
	free(l->env_pass);
	free(l->name);
	free(l->region);
	free(l->type);
	free(l->gpu_type);
	free(l->id);
	free(l->ip);
	free(l->post_err);
	free(l);
}

static enum provider_error_class lambda_launch_class(enum lambda_err e)
{
	switch (e) {
	case LAMBDA_ERR_CAPACITY:
		return PROVIDER_ERR_CAPACITY;
	case LAMBDA_ERR_QUOTA:
		return PROVIDER_ERR_QUOTA;
	case LAMBDA_ERR_AUTH:
		return PROVIDER_ERR_AUTH;
	case LAMBDA_ERR_INVALID:
	case LAMBDA_ERR_NOTFOUND: /* an unknown instance type or key name */
		return PROVIDER_ERR_INVALID;
	case LAMBDA_ERR_TRANSIENT:
		return PROVIDER_ERR_TRANSIENT;
	case LAMBDA_ERR_OTHER:
		break;
	}
	return PROVIDER_ERR_OTHER;
}

static void lambda_launch_finish(struct lambda_launch *l, int rc,
                                 const struct provider_launch_result *res, const char *cause)
{
	struct provider *p = l->p;

	for (struct lambda_launch **pp = &p->launches; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	l->cb(l->arg, rc, res, cause);
	lambda_launch_free(l);
}

/* Fails the launch: "lambda: WHAT [CLASS]"; an instance it holds is terminated. */
static void lambda_launch_fail(struct lambda_launch *l, enum lambda_err cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lambda_launch_fail(struct lambda_launch *l, enum lambda_err cls, const char *fmt, ...)
{
	struct provider_launch_result res = {.error_class = lambda_launch_class(cls)};
	va_list ap;
	char *msg, *c;

	va_start(ap, fmt);
	msg = xvprintf(fmt, ap);
	va_end(ap);
	c = xprintf("%s: %s [%s]", l->p->name, msg, lambda_err_name(cls));

	if (l->id != NULL && !l->p->closing)
		lambda_terminate(l->p, l->id, NULL, NULL);
	lambda_launch_finish(l, -1, &res, c);
	free(msg);
	free(c);
}

/* cause without the provider's name in front (lambda_launch_fail puts it back). */
static const char *lambda_launch_unprefixed(const struct provider *p, const char *cause)
{
	size_t n = strlen(p->name);

	if (cause == NULL)
		return "unknown error";
	if (strncmp(cause, p->name, n) == 0 && cause[n] == ':' && cause[n + 1] == ' ')
		return cause + n + 2;
	return cause;
}

static void lambda_launch_timer_fire(void *arg)
{
	struct lambda_launch *l = arg;

	l->timer = NULL;
	l->wait = LW_NONE;
	l->after_timer(l);
}

static void lambda_launch_later(struct lambda_launch *l, uint64_t ms,
                                void (*fn)(struct lambda_launch *))
{
	l->wait = LW_TIMER;
	l->after_timer = fn;
	l->timer = loop_timer_add(l->p->loop, ms, 0, lambda_launch_timer_fire, l);
}

static void lambda_launch_req_abort(void *ctx)
{
	struct lambda_launch *l = ctx;

	l->wait = LW_NONE;
	lambda_launch_finish(l, -1, NULL, "lambda: closed during the launch");
}

static int lambda_launch_req(struct lambda_launch *l, const char *method, const char *path,
                             const char *body, lambda_req_cb cb)
{
	char *why = NULL;

	l->wait = LW_REQ;
	if (lambda_req(l->p, method, path, body, cb, lambda_launch_req_abort, l, &why) != 0) {
		l->wait = LW_NONE;
		lambda_launch_fail(l, LAMBDA_ERR_TRANSIENT, "%s", why);
		free(why);
		return -1;
	}
	return 0;
}

/* ---- 6. the job over SSH ---- */

static void lambda_launch_ssh(struct lambda_launch *l);

static void lambda_launch_ssh_done(void *arg, int rc, const struct provider_launch_result *res,
                                   const char *cause)
{
	struct lambda_launch *l = arg;
	struct provider_launch_result out = {0};

	l->wait = LW_NONE;
	if (rc != 0) {
		if (!l->p->closing && loop_now_ms() < l->ssh_deadline) {
			lambda_launch_later(l, (uint64_t)l->p->conf.poll_ms, lambda_launch_ssh);
			return;
		}
		lambda_launch_fail(l, LAMBDA_ERR_TRANSIENT,
		                   "cannot start the job on instance %s: %s", l->id,
		                   cause != NULL ? cause : "unknown error");
		return;
	}
	out.ref = lambda_ref(l->id, l->ip, l->spec.job_id);
	out.port = res != NULL ? res->port : 0;
	out.url = res != NULL ? res->url : NULL;
	lambda_crash_point("lambda-ssh-launched");
	lambda_launch_finish(l, 0, &out, NULL);
	free(out.ref);
}

static void lambda_launch_ssh(struct lambda_launch *l)
{
	struct lambda_inst *in;
	char *why = NULL;

	in = lambda_inst_attach(l->p, l->id, l->ip, l->gpus, l->gpu_type, &why);
	if (in == NULL) {
		lambda_launch_fail(l, LAMBDA_ERR_OTHER, "%s", why);
		free(why);
		return;
	}
	l->wait = LW_SSH;
	if (ssh_provider_ops.launch(in->ssh, &l->spec, lambda_launch_ssh_done, l, &why) != 0) {
		l->wait = LW_NONE;
		if (loop_now_ms() < l->ssh_deadline) {
			free(why);
			lambda_launch_later(l, (uint64_t)l->p->conf.poll_ms, lambda_launch_ssh);
			return;
		}
		lambda_launch_fail(l, LAMBDA_ERR_TRANSIENT,
		                   "cannot start the job on instance %s: %s", l->id, why);
		free(why);
	}
}

/* ---- 5. until active ---- */

static void lambda_launch_poll(struct lambda_launch *l);

static void lambda_launch_polled(struct provider *p, void *ctx, int ok, long status,
                                 const char *body, size_t len, const char *err, enum lambda_err cls)
{
	struct lambda_launch *l = ctx;
	struct lambda_instance in;
	char *why = NULL;
	uint64_t now = loop_now_ms(), grace;

	(void)status;
	l->wait = LW_NONE;
	if (!ok) {
		if (cls == LAMBDA_ERR_TRANSIENT && now < l->deadline) {
			lambda_launch_later(l, (uint64_t)p->conf.poll_ms, lambda_launch_poll);
			return;
		}
		lambda_launch_fail(l, cls, "instance %s: %s", l->id, err);
		return;
	}
	if (lambda_api_parse_instance(body, len, &in, &why) != 0) {
		lambda_launch_fail(l, LAMBDA_ERR_OTHER, "instance %s: %s", l->id, why);
		free(why);
		return;
	}
	switch (in.status) {
	case LAMBDA_ST_ACTIVE:
		if (in.ip == NULL)
			break; /* active without an address yet: wait */
		l->ip = xstrdup(in.ip);
		lambda_instance_clear(&in);
		lambda_crash_point("lambda-active");
		grace = (uint64_t)p->conf.boot_timeout_s * 1000;
		if (grace < LAMBDA_SSH_GRACE_MS)
			grace = LAMBDA_SSH_GRACE_MS;
		l->ssh_deadline = now + grace;
		lambda_launch_ssh(l);
		return;
	case LAMBDA_ST_BOOTING:
	case LAMBDA_ST_UNKNOWN:
		break;
	case LAMBDA_ST_UNHEALTHY:
		lambda_instance_clear(&in);
		lambda_launch_fail(l, LAMBDA_ERR_TRANSIENT,
		                   "instance %s turned unhealthy while booting; terminated", l->id);
		return;
	case LAMBDA_ST_TERMINATING:
	case LAMBDA_ST_TERMINATED:
	case LAMBDA_ST_PREEMPTED:
		lambda_instance_clear(&in);
		lambda_launch_fail(l, LAMBDA_ERR_TRANSIENT,
		                   "instance %s was terminated while booting", l->id);
		return;
	}
	lambda_instance_clear(&in);
	if (now >= l->deadline) {
		lambda_launch_fail(l, LAMBDA_ERR_TRANSIENT,
		                   "instance %s did not become active within %ds; terminated",
		                   l->id, p->conf.boot_timeout_s);
		return;
	}
	lambda_launch_later(l, (uint64_t)p->conf.poll_ms, lambda_launch_poll);
}

static void lambda_launch_poll(struct lambda_launch *l)
{
	char *path = xprintf("/instances/%s", l->id);

	lambda_launch_req(l, "GET", path, NULL, lambda_launch_polled);
	free(path);
}

static void lambda_launch_adopted(struct lambda_launch *l, const char *id)
{
	l->id = xstrdup(id);
	l->deadline = loop_now_ms() + (uint64_t)l->p->conf.boot_timeout_s * 1000;
	lambda_launch_poll(l);
}

/* ---- 3. and 4.: adopt by name, else launch ---- */

static void lambda_launch_post(struct lambda_launch *l);

/* Finds this launch's instance in a GET /instances answer: -1 unusable, 0 none, 1 found. */
static int lambda_launch_find(struct lambda_launch *l, const char *body, size_t len, char **id,
                              char **cause)
{
	struct lambda_instance *v;
	size_t n;
	int found = 0;

	*id = NULL;
	if (lambda_api_parse_instances(body, len, &v, &n, cause) != 0)
		return -1;
	for (size_t i = 0; i < n && !found; i++) {
		if (v[i].name == NULL || strcmp(v[i].name, l->name) != 0 ||
		    !lambda_instance_ours(&v[i], l->p->key_name))
			continue;
		if (v[i].status == LAMBDA_ST_TERMINATED || v[i].status == LAMBDA_ST_TERMINATING ||
		    v[i].status == LAMBDA_ST_PREEMPTED)
			continue;
		*id = xstrdup(v[i].id);
		found = 1;
	}
	lambda_instances_free(v, n);
	return found;
}

static void lambda_launch_listed(struct provider *p, void *ctx, int ok, long status,
                                 const char *body, size_t len, const char *err, enum lambda_err cls)
{
	struct lambda_launch *l = ctx;
	char *id = NULL, *why = NULL;
	int found;

	(void)p;
	(void)status;
	l->wait = LW_NONE;
	if (!ok) {
		if (l->relisted)
			lambda_launch_fail(l, cls, "%s (and the instance list: %s)", l->post_err,
			                   err);
		else
			lambda_launch_fail(l, cls, "cannot list instances: %s", err);
		return;
	}
	found = lambda_launch_find(l, body, len, &id, &why);
	if (found < 0) {
		lambda_launch_fail(l, LAMBDA_ERR_OTHER, "%s", why);
		free(why);
		return;
	}
	if (found) {
		lambda_launch_adopted(l, id);
		free(id);
		return;
	}
	if (l->relisted) {
		/* the launch answer was lost and no instance carries the name: it did not launch */
		lambda_launch_fail(l, LAMBDA_ERR_TRANSIENT, "%s", l->post_err);
		return;
	}
	lambda_launch_post(l);
}

static void lambda_launch_list(struct lambda_launch *l)
{
	lambda_launch_req(l, "GET", "/instances", NULL, lambda_launch_listed);
}

static void lambda_launch_posted(struct provider *p, void *ctx, int ok, long status,
                                 const char *body, size_t len, const char *err, enum lambda_err cls)
{
	struct lambda_launch *l = ctx;
	char *id = NULL, *why = NULL;

	(void)status;
	l->wait = LW_NONE;
	if (!ok && status == 429 && l->throttled < LAMBDA_LAUNCH_429_MAX) {
		/* refused by the rate limit, so not made: send it again when allowed (another
		 * Gantry process may have launched moments ago) */
		uint64_t wait = p->retry_after_ms > 0 ? (uint64_t)p->retry_after_ms : 1000;

		if (wait < (uint64_t)p->conf.launch_interval_ms / 4)
			wait = (uint64_t)p->conf.launch_interval_ms / 4;
		l->throttled++;
		p->next_launch_mono = loop_now_ms() + wait;
		lambda_launch_later(l, wait, lambda_launch_post);
		return;
	}
	if (!ok) {
		if (cls == LAMBDA_ERR_TRANSIENT) {
			/* maybe launched all the same: look for the name before giving up */
			l->post_err = xprintf("launch of %s in %s: %s", l->type, l->region, err);
			l->relisted = 1;
			lambda_launch_later(l, (uint64_t)p->conf.poll_ms, lambda_launch_list);
			return;
		}
		lambda_launch_fail(l, cls, "launch of %s in %s: %s", l->type, l->region, err);
		return;
	}
	if (lambda_api_parse_launch(body, len, &id, &why) != 0) {
		l->post_err = xprintf("launch of %s in %s: %s", l->type, l->region, why);
		free(why);
		l->relisted = 1;
		lambda_launch_list(l);
		return;
	}
	lambda_crash_point("lambda-launched");
	lambda_launch_adopted(l, id);
	free(id);
}

static void lambda_launch_post(struct lambda_launch *l)
{
	struct provider *p = l->p;
	uint64_t now = loop_now_ms();
	char *body;

	if (now < p->next_launch_mono) {
		lambda_launch_later(l, p->next_launch_mono - now, lambda_launch_post);
		return;
	}
	p->next_launch_mono = now + (uint64_t)p->conf.launch_interval_ms;
	body = lambda_api_launch_body(l->region, l->type, p->key_name, l->name);
	lambda_launch_req(l, "POST", "/instance-operations/launch", body, lambda_launch_posted);
	free(body);
}

/* ---- 2. the key ---- */

static void lambda_launch_key_done(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct lambda_launch *l = ctx;

	(void)p;
	l->wait = LW_NONE;
	if (rc != 0) {
		lambda_launch_fail(l, p->fail_cls, "%s", lambda_launch_unprefixed(p, cause));
		return;
	}
	lambda_crash_point("lambda-key-registered");
	lambda_launch_list(l);
}

static void lambda_launch_key(struct lambda_launch *l)
{
	l->wait = LW_KEY;
	lambda_key_ready(l->p, lambda_launch_key_done, l);
}

/* ---- 1. type and region ---- */

static int lambda_offer_fits(const struct lambda_launch *l, const struct offer *o)
{
	if (o->dropped != NULL || o->avail != OFFER_AVAIL_YES || !o->priced)
		return 0;
	if (l->spec.instance_type != NULL && *l->spec.instance_type != '\0' &&
	    strcmp(o->instance_type, l->spec.instance_type) != 0)
		return 0;
	if (l->spec.region != NULL && *l->spec.region != '\0' &&
	    strcmp(o->region, l->spec.region) != 0)
		return 0;
	if (o->gpus < l->spec.gpus)
		return 0;
	if (l->spec.gpus > 0 && l->spec.gpu_type != NULL && *l->spec.gpu_type != '\0' &&
	    strcasecmp(l->spec.gpu_type, "any") != 0 &&
	    strcasecmp(o->gpu_type, l->spec.gpu_type) != 0)
		return 0;
	/* a CPU job may take a GPU type when nothing else is there: ranked by price */
	if (l->spec.cpus > 0 && o->cpus > 0 && o->cpus < l->spec.cpus)
		return 0;
	if (l->spec.memory_mib > 0 && o->memory_mib > 0 && o->memory_mib < l->spec.memory_mib)
		return 0;
	return 1;
}

static void lambda_launch_types_done(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct lambda_launch *l = ctx;
	const struct offer *best = NULL;

	l->wait = LW_NONE;
	if (rc != 0) {
		lambda_launch_fail(l, p->fail_cls, "%s", lambda_launch_unprefixed(p, cause));
		return;
	}
	for (size_t i = 0; i < p->types.n; i++) {
		const struct offer *o = &p->types.v[i];

		if (lambda_offer_fits(l, o) &&
		    (best == NULL || o->usd_per_hour < best->usd_per_hour))
			best = o;
	}
	if (best == NULL) {
		lambda_launch_fail(l, LAMBDA_ERR_CAPACITY,
		                   "no instance type with capacity now for %s%s%d GPU(s)%s%s",
		                   l->spec.gpu_type != NULL ? l->spec.gpu_type : "",
		                   l->spec.gpu_type != NULL ? " x" : "", l->spec.gpus,
		                   l->spec.region != NULL && *l->spec.region != '\0' ? " in " : "",
		                   l->spec.region != NULL ? l->spec.region : "");
		return;
	}
	l->region = xstrdup(best->region);
	l->type = xstrdup(best->instance_type);
	l->gpu_type = xstrdup(best->gpu_type);
	l->gpus = best->gpus;
	lambda_launch_key(l);
}

int lambda_launch(struct provider *p, const struct provider_job_spec *spec, provider_launch_cb cb,
                  void *arg, char **cause)
{
	struct lambda_launch *l;
	char *name;

	if (spec->nodes > 1)
		return xcause(cause,
		              "%s: multi-node jobs are not supported on lambda yet [invalid]",
		              p->name);
	name = lambda_instance_name(spec->job_id, spec->attempt);
	if (name == NULL)
		return xcause(cause, "%s: job id '%s' cannot name an instance [invalid]", p->name,
		              spec->job_id);
	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->cb = cb;
	l->arg = arg;
	l->name = name;
	lambda_spec_copy(l, spec);
	l->next = p->launches;
	p->launches = l;
	if (spec->instance_type != NULL && *spec->instance_type != '\0' && spec->region != NULL &&
	    *spec->region != '\0') {
		l->region = xstrdup(spec->region);
		l->type = xstrdup(spec->instance_type);
		if (lambda_api_gpu_of(l->type, NULL, &l->gpu_type, &l->gpus) != 0) {
			l->gpu_type = NULL;
			l->gpus = spec->gpus;
		}
		lambda_launch_key(l);
	} else {
		l->wait = LW_TYPES;
		lambda_types_ready(p, lambda_launch_types_done, l);
	}
	return 0;
}

void lambda_launch_abort_all(struct provider *p)
{
	struct lambda_launch *l = p->launches, *next;

	/* launches waiting on a timer end here; the others end through their request, waiter
	 * or ssh provider, each of which answers on close */
	for (; l != NULL; l = next) {
		next = l->next;
		if (l->wait == LW_TIMER) {
			loop_timer_cancel(p->loop, l->timer);
			l->timer = NULL;
			l->wait = LW_NONE;
			lambda_launch_finish(l, -1, NULL, "lambda: closed during the launch");
		}
	}
}
