/* k8s_launch.c: a launch on Kubernetes creates the job's objects, workload first (a
 * notebook's Pod, a training Job, an endpoint's Deployment), then its Service and HPA, each
 * named k8s_api_object_name(job, attempt) in the team's namespace and labelled with the job,
 * attempt and installation. Every step can be done again: a 409 AlreadyExists is answered
 * by a GET, and the object is adopted when its labels name this job, attempt and
 * installation (else the launch fails), so a launch killed at any step and launched again,
 * or reconciled (the workload carries the labels list_owned looks for, and a stop or
 * destroy deletes the Service and HPA with it), leaves no orphan and no duplicate.
 *
 * The container's environment is the job's own: the template's env (reserved names
 * dropped), the names job_env.pass lets through from Gantry's environment, GANTRY_JOB_ID,
 * GANTRY_GPUS, GANTRY_PORT (the container port; the Service's), and rank env for indexed
 * Jobs (k8s_api_body). Nothing else of Gantry's environment, and no credential. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "providers/k8s_internal.h"

extern char **environ;

/* kubernetes.c */
char *kube_gpu_label_value(struct provider *p, const char *type);
void kube_nodes_need(struct provider *p, void (*fn)(struct provider *, void *, int, const char *),
                     void *ctx);

#define KUBE_MAX_STEPS 4

struct kube_launch {
	struct provider *p;
	provider_launch_cb cb;
	void *arg;
	char *job_id, *ns, *name, *attempt_s;
	int attempt;
	enum job_kind kind;
	enum k8s_kind steps[KUBE_MAX_STEPS];
	char *bodies[KUBE_MAX_STEPS];
	int nsteps, step;
	int port;
	/* copies for the bodies (built once the GPU type's node label is known) */
	struct kvlist labels, env, sel;
	struct kvlist secret; /* secret env (the notebook token): a Secret, never the spec */
	char *image, *script, *readiness, *gpu_type;
	int gpus, cpus, nodes, replicas_min, replicas_max, readiness_timeout_s, spot;
	int64_t memory_mib;
	long max_runtime_s;
	double target_qps;
	struct kube_req *req;
	struct kube_launch *next;
};

static void kube_launch_unlink(struct provider *p, struct kube_launch *l)
{
	for (struct kube_launch **pp = &p->launches; *pp != NULL; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			return;
		}
}

static void kube_launch_free(struct kube_launch *l)
{
	for (int i = 0; i < KUBE_MAX_STEPS; i++)
		free(l->bodies[i]);
	free(l->job_id);
	free(l->ns);
	free(l->name);
	free(l->attempt_s);
	kvlist_free(&l->labels);
	kvlist_free(&l->env);
	kvlist_free(&l->sel);
	for (size_t i = 0; i < l->secret.n; i++)
		if (l->secret.vals[i] != NULL)
			explicit_bzero(l->secret.vals[i], strlen(l->secret.vals[i]));
	kvlist_free(&l->secret);
	free(l->image);
	free(l->script);
	free(l->readiness);
	free(l->gpu_type);
	free(l);
}

static void kube_launch_fail(struct kube_launch *l, enum provider_error_class cls, const char *why)
{
	struct provider_launch_result res = {0};

	kube_launch_unlink(l->p, l);
	res.error_class = cls;
	l->cb(l->arg, -1, &res, why);
	kube_launch_free(l);
}

static void kube_launch_ok(struct kube_launch *l)
{
	struct provider_launch_result res = {0};
	enum k8s_kind wk = l->steps[0];

	kube_launch_unlink(l->p, l);
	res.ref = kube_ref(l->ns, wk, l->name);
	res.port = l->port;
	l->cb(l->arg, 0, &res, NULL);
	free(res.ref);
	kube_launch_free(l);
}

static void kube_launch_step(struct kube_launch *l);

static void kube_launch_abort(void *ctx)
{
	struct kube_launch *l = ctx;

	l->req = NULL;
	kube_launch_fail(l, PROVIDER_ERR_OTHER, "kubernetes: closed before the launch finished");
}

/* Whether obj was made by this launch (or an earlier try of it). */
static int kube_launch_ours(struct kube_launch *l, const struct k8s_obj *o)
{
	const char *job = kvlist_get(&o->labels, K8S_LABEL_JOB);
	const char *att = kvlist_get(&o->labels, K8S_LABEL_ATTEMPT);
	const char *ins = kvlist_get(&o->labels, K8S_LABEL_INSTALL);
	const char *want_job = kvlist_get(&l->labels, K8S_LABEL_JOB);
	const char *want_ins = kvlist_get(&l->labels, K8S_LABEL_INSTALL);

	return job != NULL && want_job != NULL && strcmp(job, want_job) == 0 && att != NULL &&
	       strcmp(att, l->attempt_s) == 0 &&
	       (want_ins == NULL || (ins != NULL && strcmp(ins, want_ins) == 0));
}

static void kube_launch_took(struct kube_launch *l, const char *body, size_t len)
{
	struct k8s_obj o;
	enum k8s_kind k = l->steps[l->step];
	struct kube_watch *w = kube_watch_of(l->p, l->ns, k);

	memset(&o, 0, sizeof o);
	if (w != NULL && k8s_api_parse_obj(k, body, len, &o, NULL) == 0)
		kube_cache_put(w, &o); /* refresh knows it before the watch says so */
	else
		k8s_obj_clear(&o);
}

static void kube_launch_got(struct provider *p, void *ctx, int ok, long status, const char *body,
                            size_t len, const char *err, enum k8s_err cls)
{
	struct kube_launch *l = ctx;
	struct k8s_obj o;
	char *why = NULL, *c;
	int ours;

	(void)status;
	l->req = NULL;
	if (!ok) {
		c = xprintf("%s: %s %s exists and cannot be read: %s", p->name,
		            k8s_kind_name(l->steps[l->step]), l->name, err);
		kube_launch_fail(l, kube_error_class(cls), c);
		free(c);
		return;
	}
	memset(&o, 0, sizeof o);
	if (k8s_api_parse_obj(l->steps[l->step], body, len, &o, &why) != 0) {
		c = xprintf("%s: %s %s: %s", p->name, k8s_kind_name(l->steps[l->step]), l->name,
		            why);
		free(why);
		kube_launch_fail(l, PROVIDER_ERR_OTHER, c);
		free(c);
		return;
	}
	ours = kube_launch_ours(l, &o);
	k8s_obj_clear(&o);
	if (!ours) {
		c = xprintf("%s: %s %s/%s exists and is not this job's (labels differ): not "
		            "adopted [invalid]",
		            p->name, k8s_kind_name(l->steps[l->step]), l->ns, l->name);
		kube_launch_fail(l, PROVIDER_ERR_INVALID, c);
		free(c);
		return;
	}
	kube_launch_took(l, body, len);
	l->step++;
	kube_launch_step(l);
}

static void kube_launch_made(struct provider *p, void *ctx, int ok, long status, const char *body,
                             size_t len, const char *err, enum k8s_err cls)
{
	struct kube_launch *l = ctx;
	char *c, *path, *why = NULL;
	char crash[64];

	(void)status;
	l->req = NULL;
	if (!ok && cls == K8S_ERR_EXISTS) {
		/* made by an earlier try (or a lost answer): adopt it when it is ours */
		path = k8s_api_path(l->steps[l->step], l->ns, l->name, NULL);
		l->req = kube_req(p, "GET", path, NULL, kube_launch_got, kube_launch_abort, l, NULL,
		                  &why);
		free(path);
		if (l->req == NULL) {
			kube_launch_fail(l, PROVIDER_ERR_TRANSIENT, why);
			free(why);
		}
		return;
	}
	if (!ok) {
		c = xprintf("%s: cannot create %s %s/%s: %s [%s]", p->name,
		            k8s_kind_name(l->steps[l->step]), l->ns, l->name, err,
		            k8s_err_name(cls));
		kube_launch_fail(l, kube_error_class(cls), c);
		free(c);
		return;
	}
	kube_launch_took(l, body, len);
	snprintf(crash, sizeof crash, "k8s-after-%s", k8s_kind_resource(l->steps[l->step]));
	kube_crash_point(crash);
	l->step++;
	kube_launch_step(l);
}

static void kube_launch_step(struct kube_launch *l)
{
	struct provider *p = l->p;
	char *path, *why = NULL, crash[64];

	if (l->step >= l->nsteps) {
		kube_launch_ok(l);
		return;
	}
	snprintf(crash, sizeof crash, "k8s-before-%s", k8s_kind_resource(l->steps[l->step]));
	kube_crash_point(crash);
	path = k8s_api_path(l->steps[l->step], l->ns, NULL, NULL);
	l->req = kube_req(p, "POST", path, l->bodies[l->step], kube_launch_made, kube_launch_abort,
	                  l, NULL, &why);
	free(path);
	if (l->req == NULL) {
		kube_launch_fail(l, PROVIDER_ERR_TRANSIENT, why);
		free(why);
	}
}

/* Builds the bodies, then creates the objects. */
static void kube_launch_go(struct provider *p, void *ctx, int rc, const char *cause)
{
	struct kube_launch *l = ctx;
	struct k8s_workload w = {0};
	struct k8s_toleration tol[2] = {{0}};
	char *why = NULL, *c;
	size_t ntol = 0;

	if (p->closing) {
		kube_launch_fail(l, PROVIDER_ERR_OTHER, "kubernetes: closed");
		return;
	}
	if (l->gpus > 0 && l->gpu_type != NULL) {
		char *v;

		if (rc != 0) {
			kube_launch_fail(l, PROVIDER_ERR_TRANSIENT, cause);
			return;
		}
		v = kube_gpu_label_value(p, l->gpu_type);
		if (v == NULL) {
			c = xprintf("%s: no node has GPU type %s (node label %s) [capacity]",
			            p->name, l->gpu_type, p->conf.gpu_label);
			kube_launch_fail(l, PROVIDER_ERR_CAPACITY, c);
			free(c);
			return;
		}
		kvlist_set(&l->sel, p->conf.gpu_label, v);
		free(v);
	}
	if (l->gpus > 0) {
		tol[ntol].key = p->conf.gpu_resource;
		tol[ntol].op = "Exists";
		tol[ntol].effect = "NoSchedule";
		ntol++;
	}
	if (l->spot && p->conf.spot_label != NULL) {
		kvlist_set(&l->sel, p->conf.spot_label, "true");
		tol[ntol].key = p->conf.spot_label;
		tol[ntol].op = "Exists";
		ntol++;
	}
	w.name = l->name;
	w.namespace = l->ns;
	w.labels = &l->labels;
	w.kind = l->kind;
	w.image = l->image;
	w.script = l->script;
	w.env = &l->env;
	if (l->secret.n > 0) {
		w.secret_env = &l->secret;
		w.secret_env_name = l->name;
	}
	w.gpus = l->gpus;
	w.gpu_resource = p->conf.gpu_resource;
	w.cpus = l->cpus;
	w.memory_mib = l->memory_mib;
	w.node_selector = l->sel.n > 0 ? &l->sel : NULL;
	w.tolerations = ntol > 0 ? tol : NULL;
	w.ntolerations = ntol;
	w.port = l->port;
	w.readiness_path = l->readiness;
	w.readiness_timeout_s = l->readiness_timeout_s;
	w.active_deadline_s = l->max_runtime_s;
	w.backoff_limit = p->conf.backoff_limit;
	w.completions = l->kind == JOB_KIND_TRAINING && l->nodes > 1 ? l->nodes : 1;
	w.replicas = l->replicas_min > 0 ? l->replicas_min : 1;
	w.replicas_min = l->replicas_min;
	w.replicas_max = l->replicas_max > 0 ? l->replicas_max : w.replicas;
	if (w.replicas_max < w.replicas)
		w.replicas_max = w.replicas;
	w.target_qps_per_replica = l->target_qps;
	w.qps_metric = p->conf.qps_metric;
	w.service_account = p->conf.service_account;
	w.restart_never = l->kind == JOB_KIND_NOTEBOOK;
	for (int i = 0; i < l->nsteps; i++) {
		l->bodies[i] = k8s_api_body(l->steps[i], &w, &why);
		if (l->bodies[i] == NULL) {
			c = xprintf("%s: %s [invalid]", p->name,
			            why != NULL ? why : "the job cannot be expressed");
			free(why);
			kube_launch_fail(l, PROVIDER_ERR_INVALID, c);
			free(c);
			return;
		}
	}
	kube_launch_step(l);
}

static int kube_env_name_ok(const char *s)
{
	if (s == NULL || !(isalpha((unsigned char)*s) || *s == '_'))
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

static int kube_env_reserved(const char *k)
{
	static const char *const names[] = {
	    "GANTRY_JOB_ID", "GANTRY_GPUS", "GANTRY_PORT", "CUDA_VISIBLE_DEVICES", "RANK",
	    "WORLD_SIZE",    "MASTER_ADDR", "MASTER_PORT", "JOB_COMPLETION_INDEX"};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(k, names[i]) == 0)
			return 1;
	return 0;
}

/* Env that must not be written into the pod spec (anyone who may read pods in the
 * namespace reads the spec): Gantry's notebook token goes into the job's Secret. */
static int kube_env_secret(const char *k)
{
	return strcmp(k, "GANTRY_TOKEN") == 0;
}

/* job_env.pass: NAME or PREFIX* of Gantry's own environment. */
static void kube_env_pass(struct kvlist *env, const char *const *pass)
{
	for (size_t i = 0; pass != NULL && pass[i] != NULL; i++) {
		size_t n = strlen(pass[i]);
		int prefix = n > 0 && pass[i][n - 1] == '*';

		for (char **e = environ; *e != NULL; e++) {
			const char *eq = strchr(*e, '=');
			size_t kl = eq != NULL ? (size_t)(eq - *e) : 0;
			char *k;

			if (eq == NULL)
				continue;
			if (prefix ? strncmp(*e, pass[i], n - 1) != 0
			           : (kl != n || strncmp(*e, pass[i], n) != 0))
				continue;
			k = xstrndup(*e, kl);
			if (kube_env_name_ok(k) && !kube_env_reserved(k))
				kvlist_set(env, k, eq + 1);
			free(k);
		}
	}
}

int kube_launch(struct provider *p, const struct provider_job_spec *spec, provider_launch_cb cb,
                void *arg, char **cause)
{
	struct kube_launch *l;
	char num[32];

	if (spec->job_id == NULL || spec->script == NULL)
		return xcause(cause, "%s: a launch needs a job id and a script", p->name);
	if (spec->env != NULL)
		for (size_t i = 0; i < spec->env->n; i++)
			if (!kube_env_name_ok(spec->env->keys[i]))
				return xcause(cause,
				              "%s: environment variable name '%s' is not a valid "
				              "shell name",
				              p->name, spec->env->keys[i]);
	l = xcalloc(1, sizeof *l);
	l->p = p;
	l->cb = cb;
	l->arg = arg;
	l->job_id = xstrdup(spec->job_id);
	l->attempt = spec->attempt > 0 ? spec->attempt : 1;
	snprintf(num, sizeof num, "%d", l->attempt);
	l->attempt_s = xstrdup(num);
	l->ns = xstrdup(kube_conf_ns(&p->conf, spec->team));
	l->name = k8s_api_object_name(spec->job_id, l->attempt);
	if (l->name == NULL) {
		kube_launch_free(l);
		return xcause(cause, "%s: job id %s gives no object name", p->name, spec->job_id);
	}
	l->kind = spec->kind;
	kube_labels(p, spec->job_id, l->attempt, spec->owner, spec->team, spec->kind, &l->labels);
	kvlist_init(&l->env);
	kvlist_init(&l->sel);
	kvlist_init(&l->secret);
	kvlist_copy(&l->sel, &p->conf.node_selector);
	kube_env_pass(&l->env, spec->env_pass);
	for (size_t i = 0; spec->env != NULL && i < spec->env->n; i++)
		if (kube_env_secret(spec->env->keys[i]))
			kvlist_set(&l->secret, spec->env->keys[i], spec->env->vals[i]);
		else if (!kube_env_reserved(spec->env->keys[i]))
			kvlist_set(&l->env, spec->env->keys[i], spec->env->vals[i]);
	kvlist_set(&l->env, "GANTRY_JOB_ID", spec->job_id);
	if (spec->gpus > 0) {
		snprintf(num, sizeof num, "%d", spec->gpus);
		kvlist_set(&l->env, "GANTRY_GPUS", num);
	}
	if (spec->kind != JOB_KIND_TRAINING || spec->want_port || spec->fixed_port > 0) {
		l->port = spec->fixed_port > 0 ? spec->fixed_port : p->conf.port;
		snprintf(num, sizeof num, "%d", l->port);
		kvlist_set(&l->env, "GANTRY_PORT", num);
	}
	l->image =
	    xstrdup(spec->image != NULL && *spec->image != '\0' ? spec->image : p->conf.image);
	if (spec->kind == JOB_KIND_ENDPOINT && k8s_api_hpa_note(spec->replicas_min) != NULL)
		/* said where the user reads it: the log of the endpoint */
		l->script = xprintf("echo 'gantry: %s' >&2\n%s",
		                    k8s_api_hpa_note(spec->replicas_min), spec->script);
	else
		l->script = xstrdup(spec->script);
	l->readiness = spec->readiness_path != NULL ? xstrdup(spec->readiness_path) : NULL;
	l->readiness_timeout_s = spec->readiness_timeout_s;
	l->gpu_type =
	    spec->gpu_type != NULL && *spec->gpu_type != '\0' ? xstrdup(spec->gpu_type) : NULL;
	l->gpus = spec->gpus;
	l->cpus = spec->cpus;
	l->memory_mib = spec->memory_mib;
	l->nodes = spec->nodes;
	l->replicas_min = spec->replicas_min;
	l->replicas_max = spec->replicas_max;
	l->max_runtime_s = spec->max_runtime_s;
	l->target_qps = spec->target_qps_per_replica;
	l->spot = spec->market == OFFER_SPOT;
	switch (spec->kind) {
	case JOB_KIND_NOTEBOOK:
		l->steps[l->nsteps++] = K8S_POD;
		break;
	case JOB_KIND_TRAINING:
		l->steps[l->nsteps++] = K8S_JOB;
		break;
	default:
		l->steps[l->nsteps++] = K8S_DEPLOYMENT;
		break;
	}
	/* the Secret right after the workload (its pods wait for it, as the kubelet does): a
	 * crash in between leaves a workload, which reconcile finds and deletes with the rest */
	if (l->secret.n > 0)
		l->steps[l->nsteps++] = K8S_SECRET;
	if (spec->kind == JOB_KIND_NOTEBOOK || spec->kind == JOB_KIND_ENDPOINT || spec->nodes > 1 ||
	    l->port > 0)
		l->steps[l->nsteps++] = K8S_SERVICE;
	if (spec->kind == JOB_KIND_ENDPOINT)
		l->steps[l->nsteps++] = K8S_HPA;
	l->next = p->launches;
	p->launches = l;
	kube_watch_start(p);
	if (l->gpus > 0 && l->gpu_type != NULL)
		kube_nodes_need(p, kube_launch_go, l);
	else
		kube_launch_go(p, l, 0, NULL);
	return 0;
}

void kube_launch_abort_all(struct provider *p)
{
	while (p->launches != NULL) {
		struct kube_launch *l = p->launches;

		if (l->req != NULL) {
			kube_req_cancel(p, l->req);
			l->req = NULL;
		}
		kube_launch_fail(l, PROVIDER_ERR_OTHER,
		                 "kubernetes: closed before the launch "
		                 "finished");
	}
}

int kube_launch_busy(struct provider *p, const char *name)
{
	for (const struct kube_launch *l = p->launches; l != NULL; l = l->next)
		if (strcmp(l->name, name) == 0)
			return 1;
	return 0;
}
