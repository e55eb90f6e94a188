/* k8s_api_state.c: what the cluster reports, as Gantry's states and reasons (see
 * k8s_api.h), the GPU type of a node, and the Cluster view's numbers.
 *
 * The rules, in order, for a pod:
 * - status.reason NodeLost (the node stopped reporting) -> FAILED "node lost";
 * - phase Succeeded -> SUCCEEDED; phase Failed -> FAILED with the pod's reason
 *   (DeadlineExceeded, Evicted: message) or the container's (OOMKilled, a signal), exit code
 *   of the first terminated container;
 * - a container waiting with ImagePullBackOff, InvalidImageName or ErrImageNeverPull ->
 *   FAILED "REASON: message": the kubelet backs off only after a pull failed, and Gantry
 *   does not wait through its retries (up to five minutes apart) for an image that is most
 *   likely misspelt or private. The first failure (ErrImagePull) is STARTING with its reason;
 * - PodScheduled False -> STARTING "pending: REASON: the scheduler's message";
 * - another waiting reason (ContainerCreating, CrashLoopBackOff, ...) -> STARTING with it;
 * - phase Running -> RUNNING; Unknown -> UNKNOWN "pod state unknown".
 * A Job is SUCCEEDED/FAILED by its conditions (a Failed condition's reason:
 * DeadlineExceeded, BackoffLimitExceeded with the failed pod's reason), else RUNNING when
 * every index runs (or finished), else STARTING with the first pending pod's reason (or
 * FAILED when a pod's image will not come). A Deployment is RUNNING while at least one
 * replica is ready, STARTING (with a pod's reason) before, FAILED when no replica is ready
 * and a pod's image will not come. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "providers/k8s_api.h"
#include "providers/k8s_api_internal.h"

static int k8s_fatal_waiting(const char *r)
{
	return r != NULL &&
	       (strcmp(r, "ImagePullBackOff") == 0 || strcmp(r, "InvalidImageName") == 0 ||
	        strcmp(r, "ErrImageNeverPull") == 0);
}

static char *k8s_reason2(const char *a, const char *b)
{
	if (b != NULL && *b != '\0')
		return xprintf("%s: %s", a, b);
	return xstrdup(a);
}

/* The first container waiting with a reason, or NULL. */
static const struct k8s_container *k8s_waiting(const struct k8s_obj *p)
{
	for (size_t i = 0; i < p->ncontainers; i++)
		if (p->containers[i].waiting_reason != NULL && p->containers[i].waiting_reason[0])
			return &p->containers[i];
	return NULL;
}

static const struct k8s_container *k8s_terminated(const struct k8s_obj *p)
{
	for (size_t i = 0; i < p->ncontainers; i++)
		if (p->containers[i].terminated)
			return &p->containers[i];
	return NULL;
}

static int64_t k8s_pod_started(const struct k8s_obj *p)
{
	int64_t t = 0;

	for (size_t i = 0; i < p->ncontainers; i++)
		if (p->containers[i].started_ms > 0 && (t == 0 || p->containers[i].started_ms < t))
			t = p->containers[i].started_ms;
	return t > 0 ? t : p->started_ms;
}

/* The state of one pod (see the rules above); *reason heap or NULL. */
static enum job_state k8s_pod_state(const struct k8s_obj *p, struct k8s_state *out)
{
	const char *ph = p->phase != NULL ? p->phase : "Pending";
	const struct k8s_container *w = k8s_waiting(p), *t = k8s_terminated(p);

	if (t != NULL) {
		out->has_exit = 1;
		out->exit_code = t->exit_code;
		out->ended_ms = t->finished_ms;
	}
	if (p->reason != NULL && strcmp(p->reason, "NodeLost") == 0) {
		out->reason = xstrdup("node lost");
		return JOB_FAILED;
	}
	if (strcmp(ph, "Succeeded") == 0)
		return JOB_SUCCEEDED;
	if (strcmp(ph, "Failed") == 0) {
		if (p->reason != NULL && *p->reason != '\0')
			out->reason = strcmp(p->reason, "DeadlineExceeded") == 0
			                  ? xstrdup("DeadlineExceeded")
			                  : k8s_reason2(p->reason, p->message);
		else if (t != NULL && t->term_reason != NULL &&
		         strcmp(t->term_reason, "OOMKilled") == 0)
			out->reason = xstrdup("OOMKilled");
		else if (t != NULL && t->signal > 0)
			out->reason = xprintf("killed by signal %d", t->signal);
		else if (t != NULL && t->term_reason != NULL &&
		         strcmp(t->term_reason, "Error") != 0 &&
		         strcmp(t->term_reason, "Completed") != 0)
			out->reason = xstrdup(t->term_reason);
		return JOB_FAILED;
	}
	if (w != NULL && k8s_fatal_waiting(w->waiting_reason)) {
		out->reason = k8s_reason2(w->waiting_reason, w->waiting_message);
		return JOB_FAILED;
	}
	if (strcmp(ph, "Pending") == 0) {
		if (p->sched_reason != NULL) {
			char *r = k8s_reason2(p->sched_reason, p->sched_message);

			out->reason = xprintf("pending: %s", r);
			free(r);
		} else if (w != NULL) {
			out->reason = k8s_reason2(w->waiting_reason, w->waiting_message);
		}
		return JOB_STARTING;
	}
	if (strcmp(ph, "Running") == 0) {
		out->started_ms = k8s_pod_started(p);
		if (w != NULL && strcmp(w->waiting_reason, "CrashLoopBackOff") == 0)
			out->reason = k8s_reason2(w->waiting_reason, w->waiting_message);
		return JOB_RUNNING;
	}
	out->reason = xstrdup("pod state unknown");
	return JOB_UNKNOWN;
}

/* A pod's state into a scratch struct (reason only). */
static enum job_state k8s_pod_peek(const struct k8s_obj *p, char **reason)
{
	struct k8s_state s;
	enum job_state st;

	memset(&s, 0, sizeof s);
	st = k8s_pod_state(p, &s);
	*reason = s.reason;
	free(s.pod);
	return st;
}

static int k8s_pod_before(const struct k8s_obj *a, const struct k8s_obj *b)
{
	if (a->created_ms != b->created_ms)
		return a->created_ms < b->created_ms;
	return strcmp(a->name, b->name) < 0;
}

static void k8s_state_job(const struct k8s_view *v, struct k8s_state *out)
{
	const struct k8s_obj *j = v->workload, *rank0 = NULL, *failed = NULL;
	int n = j->spec_completions > 0 ? j->spec_completions : 1, running = 0, done = 0;
	char *first_reason = NULL, *fatal = NULL;
	int64_t started = 0;

	for (size_t i = 0; i < v->npods; i++) {
		const struct k8s_obj *p = v->pods[i];
		char *r = NULL;
		enum job_state st;

		if (p == NULL)
			continue;
		st = k8s_pod_peek(p, &r);
		if (st == JOB_RUNNING) {
			running++;
			if (p->completion_index <= 0 &&
			    (rank0 == NULL || rank0->completion_index != 0 ||
			     k8s_pod_before(p, rank0)))
				rank0 = p;
			if (k8s_pod_started(p) > 0 &&
			    (started == 0 || k8s_pod_started(p) < started))
				started = k8s_pod_started(p);
		} else if (st == JOB_SUCCEEDED) {
			done++;
		} else if (st == JOB_FAILED) {
			if (p->phase != NULL && strcmp(p->phase, "Failed") == 0 &&
			    (failed == NULL || k8s_pod_before(failed, p)))
				failed = p; /* the latest failed pod */
			else if (fatal == NULL && r != NULL) {
				fatal = r;
				r = NULL;
			}
		} else if (st == JOB_STARTING && first_reason == NULL && r != NULL) {
			first_reason = r;
			r = NULL;
		}
		free(r);
	}
	out->started_ms = started > 0 ? started : j->started_ms;
	if (rank0 != NULL)
		out->pod = xstrdup(rank0->name);
	if (j->complete) {
		out->state = JOB_SUCCEEDED;
		out->has_exit = 1;
		out->exit_code = 0;
		out->ended_ms = j->completed_ms;
	} else if (j->failed_cond) {
		out->state = JOB_FAILED;
		out->ended_ms = j->completed_ms;
		if (failed != NULL) {
			struct k8s_state ps;

			memset(&ps, 0, sizeof ps);
			k8s_pod_state(failed, &ps);
			out->has_exit = ps.has_exit;
			out->exit_code = ps.exit_code;
			if (j->cond_reason != NULL &&
			    strcmp(j->cond_reason, "DeadlineExceeded") != 0 && ps.reason != NULL)
				out->reason = xprintf("%s: %s", j->cond_reason, ps.reason);
			free(ps.reason);
		}
		if (out->reason == NULL)
			out->reason = xstrdup(j->cond_reason != NULL ? j->cond_reason : "Failed");
	} else if (fatal != NULL) {
		out->state = JOB_FAILED;
		out->reason = fatal;
		fatal = NULL;
	} else if (running > 0 && running + done >= n) {
		out->state = JOB_RUNNING;
	} else {
		out->state = JOB_STARTING;
		out->reason = first_reason;
		first_reason = NULL;
	}
	free(first_reason);
	free(fatal);
}

static void k8s_state_deployment(const struct k8s_view *v, struct k8s_state *out)
{
	const struct k8s_obj *d = v->workload, *pick = NULL;
	char *first_reason = NULL, *fatal = NULL;
	int64_t started = 0;

	out->ready_replicas = d->ready_replicas;
	out->desired_replicas = d->spec_replicas;
	if (v->hpa != NULL && v->hpa->desired_replicas > 0)
		out->desired_replicas = v->hpa->desired_replicas;
	for (size_t i = 0; i < v->npods; i++) {
		const struct k8s_obj *p = v->pods[i];
		char *r = NULL;
		enum job_state st;

		if (p == NULL || p->deleted_ms != 0)
			continue;
		st = k8s_pod_peek(p, &r);
		if (st == JOB_RUNNING && p->ready) {
			if (pick == NULL || k8s_pod_before(p, pick))
				pick = p;
			if (k8s_pod_started(p) > 0 &&
			    (started == 0 || k8s_pod_started(p) < started))
				started = k8s_pod_started(p);
		} else if (st == JOB_FAILED && fatal == NULL && r != NULL) {
			fatal = r;
			r = NULL;
		} else if (first_reason == NULL && r != NULL) {
			first_reason = r;
			r = NULL;
		}
		free(r);
	}
	if (pick != NULL)
		out->pod = xstrdup(pick->name);
	out->started_ms = started;
	if (d->ready_replicas > 0 || pick != NULL) {
		out->state = JOB_RUNNING;
		if (out->ready_replicas == 0)
			out->ready_replicas = 1;
	} else if (fatal != NULL) {
		out->state = JOB_FAILED;
		out->reason = fatal;
		fatal = NULL;
	} else {
		out->state = JOB_STARTING;
		out->reason = first_reason;
		first_reason = NULL;
	}
	free(first_reason);
	free(fatal);
}

void k8s_api_state(const struct k8s_view *v, struct k8s_state *out)
{
	memset(out, 0, sizeof *out);
	out->state = JOB_UNKNOWN;
	if (v == NULL)
		return;
	if (v->workload == NULL) {
		if (v->deleting) {
			out->state = JOB_STOPPED;
		} else {
			out->state = JOB_UNKNOWN;
			out->reason = xstrdup("not found");
		}
		return;
	}
	switch (v->workload->kind) {
	case K8S_POD:
		out->state = k8s_pod_state(v->workload, out);
		if (out->state == JOB_RUNNING || out->state == JOB_STARTING)
			out->pod = xstrdup(v->workload->name);
		if (out->state == JOB_RUNNING)
			out->started_ms = k8s_pod_started(v->workload);
		break;
	case K8S_JOB:
		k8s_state_job(v, out);
		break;
	case K8S_DEPLOYMENT:
		k8s_state_deployment(v, out);
		break;
	default:
		out->state = JOB_UNKNOWN;
		out->reason = xstrdup("not a workload");
		return;
	}
	if (v->deleting && !job_state_terminal(out->state) && v->workload->deleted_ms != 0 &&
	    out->state != JOB_RUNNING) {
		free(out->reason);
		out->reason = NULL;
		out->state = JOB_STOPPED;
	}
}

void k8s_state_clear(struct k8s_state *s)
{
	free(s->reason);
	free(s->pod);
	memset(s, 0, sizeof *s);
}

/* ---- nodes and the cluster ---- */

char *k8s_api_node_gpu_type(const struct k8s_obj *node, const char *label_key)
{
	const char *v;
	char *s, *tok[16], *save = NULL, *out;
	size_t nt = 0, i = 0;
	int has80 = 0;

	if (node == NULL)
		return NULL;
	v = kvlist_get(&node->labels, label_key != NULL ? label_key : "nvidia.com/gpu.product");
	if (v == NULL || *v == '\0' || strlen(v) > 128)
		return NULL;
	s = xstrdup(v);
	for (char *t = strtok_r(s, "- _", &save); t != NULL && nt < 16;
	     t = strtok_r(NULL, "- _", &save))
		tok[nt++] = t;
	while (i < nt && (strcasecmp(tok[i], "NVIDIA") == 0 || strcasecmp(tok[i], "Tesla") == 0 ||
	                  strcasecmp(tok[i], "GeForce") == 0 || strcasecmp(tok[i], "Quadro") == 0 ||
	                  strcasecmp(tok[i], "AMD") == 0 || strcasecmp(tok[i], "Instinct") == 0))
		i++;
	if (i == nt) {
		free(s);
		return NULL;
	}
	for (size_t k = i + 1; k < nt; k++)
		if (strcasecmp(tok[k], "80GB") == 0)
			has80 = 1;
	if (strcasecmp(tok[i], "RTX") == 0 && i + 1 < nt) {
		if (isdigit((unsigned char)tok[i + 1][0]))
			out = xprintf("RTX%s", tok[i + 1]);
		else
			out = xstrdup(tok[i + 1]);
	} else if (strcasecmp(tok[i], "A100") == 0 && has80) {
		out = xstrdup("A100-80GB");
	} else {
		out = xstrdup(tok[i]);
	}
	for (char *p = out; *p != '\0'; p++) {
		*p = (char)toupper((unsigned char)*p);
		if (!(isalnum((unsigned char)*p) || *p == '-'))
			*p = '_';
	}
	free(s);
	return out;
}

static char *k8s_ns_of(const struct k8s_obj *p)
{
	return p->namespace != NULL ? p->namespace : "default";
}

void k8s_api_cluster(const struct k8s_obj *nodes, size_t nnodes, const struct k8s_obj *pods,
                     size_t npods, struct cluster_info *out)
{
	int gtot = 0, galloc = 0, ctot = 0, calloc_ = 0;

	memset(out, 0, sizeof *out);
	out->nodes = xcalloc(nnodes > 0 ? nnodes : 1, sizeof *out->nodes);
	for (size_t i = 0; i < nnodes; i++) {
		const struct k8s_obj *n = &nodes[i];
		struct cluster_node *cn = &out->nodes[out->nnodes++];
		char *gt = k8s_api_node_gpu_type(n, NULL);
		int npods_on = 0;

		cn->name = xstrdup(n->name != NULL ? n->name : "");
		cn->partitions = xstrdup("");
		cn->gpu_type = gt != NULL ? gt : xstrdup("");
		cn->gpus_total = n->gpus_allocatable < K8S_COUNT_MAX ? (int)n->gpus_allocatable : 0;
		cn->cpus_total = n->cpus_allocatable < K8S_COUNT_MAX ? (int)n->cpus_allocatable : 0;
		cn->memory_mib = n->mem_allocatable / 1048576.0 < 1e12
		                     ? (int64_t)(n->mem_allocatable / 1048576.0)
		                     : 0;
		for (size_t k = 0; k < npods; k++) {
			const struct k8s_obj *p = &pods[k];

			if (p->node_name == NULL || strcmp(p->node_name, cn->name) != 0 ||
			    (p->phase != NULL && (strcmp(p->phase, "Succeeded") == 0 ||
			                          strcmp(p->phase, "Failed") == 0)))
				continue;
			npods_on++;
			cn->gpus_alloc += p->pod_gpus;
			cn->cpus_alloc += (int)(p->pod_cpus + 0.999);
			cn->memory_alloc_mib += p->pod_memory_mib;
		}
		if (cn->gpus_alloc > cn->gpus_total)
			cn->gpus_alloc = cn->gpus_total;
		if (cn->cpus_alloc > cn->cpus_total)
			cn->cpus_alloc = cn->cpus_total;
		if (!n->node_ready) {
			cn->state = xstrdup("down");
			cn->reason = n->reason != NULL ? xstrdup(n->reason) : xstrdup("not ready");
		} else if (n->unschedulable) {
			cn->state = xstrdup("drained");
			cn->reason = xstrdup("cordoned");
		} else if (npods_on == 0) {
			cn->state = xstrdup("idle");
		} else if (cn->gpus_total > 0 && cn->gpus_alloc >= cn->gpus_total) {
			cn->state = xstrdup("allocated");
		} else {
			cn->state = xstrdup("mixed");
		}
		gtot += cn->gpus_total;
		galloc += cn->gpus_alloc;
		ctot += cn->cpus_total;
		calloc_ += cn->cpus_alloc;
	}
	/* a partition per namespace of the pods (Gantry's teams), each showing the cluster */
	out->parts = xcalloc(npods > 0 ? npods : 1, sizeof *out->parts);
	for (size_t k = 0; k < npods; k++) {
		const struct k8s_obj *p = &pods[k];
		struct cluster_partition *cp = NULL;
		int running = p->phase != NULL && strcmp(p->phase, "Running") == 0;
		int pending = p->phase == NULL || strcmp(p->phase, "Pending") == 0;

		for (size_t i = 0; i < out->nparts; i++)
			if (strcmp(out->parts[i].name, k8s_ns_of(p)) == 0)
				cp = &out->parts[i];
		if (cp == NULL) {
			cp = &out->parts[out->nparts++];
			cp->name = xstrdup(k8s_ns_of(p));
			cp->state = xstrdup("up");
			cp->nodes = (int)nnodes;
			cp->gpus_total = gtot;
			cp->gpus_alloc = galloc;
			cp->cpus_total = ctot;
			cp->cpus_alloc = calloc_;
		}
		cp->jobs_running += running;
		cp->jobs_pending += pending;
		out->jobs_running += running;
		out->jobs_pending += pending;
	}
}
