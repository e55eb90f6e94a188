/* k8s_api.h: the Kubernetes API as Gantry speaks it, without I/O: kubeconfig, paths, the
 * objects Gantry creates (Pod, Service, batch/v1 Job, apps/v1 Deployment,
 * autoscaling/v2 HorizontalPodAutoscaler), parsers of lists, watch events, Status errors
 * and ExecCredential answers (untrusted input: every field is checked, a malformed answer is
 * a one-line error, never a crash), the mapping of what the cluster reports to Gantry's
 * states and reasons, labels and selectors, quantities, and the Prometheus text of a DCGM
 * exporter. providers/kubernetes*.c do the requests through core/http.h.
 *
 * Reference: the Kubernetes API reference (v1.29-v1.31: core/v1 Pod, Service, Node;
 * batch/v1 Job; apps/v1 Deployment; autoscaling/v2 HorizontalPodAutoscaler; meta/v1
 * Status, WatchEvent, ListMeta), "API Concepts" (efficient detection of changes: list, then
 * watch from the list's resourceVersion; 410 Gone / reason Expired means re-list;
 * allowWatchBookmarks), client.authentication.k8s.io/v1 ExecCredential, and the DCGM
 * exporter's metric names. */
#ifndef GANTRY_K8S_API_H
#define GANTRY_K8S_API_H

#include <stddef.h>
#include <stdint.h>

#include "core/cluster.h"
#include "core/job.h"
#include "core/kvlist.h"
#include "core/telemetry.h"

/* ---- labels (on every object Gantry creates, and on the pod templates) ---- */
#define K8S_LABEL_JOB     "gantry.dev/job"               /* Gantry job id */
#define K8S_LABEL_ATTEMPT "gantry.dev/attempt"           /* launch attempt, "1" */
#define K8S_LABEL_OWNER   "gantry.dev/owner"             /* Unix user (label-safe form) */
#define K8S_LABEL_TEAM    "gantry.dev/team"              /* team (label-safe), or absent */
#define K8S_LABEL_INSTALL "gantry.dev/installation"      /* the store's installation id */
#define K8S_LABEL_KIND    "gantry.dev/kind"              /* "notebook", "training", "endpoint" */
#define K8S_LABEL_MANAGED "app.kubernetes.io/managed-by" /* value "gantry" */
#define K8S_GPU_RESOURCE  "nvidia.com/gpu"               /* default extended resource name */

/* A label value Gantry can write for s: at most 63 characters of [A-Za-z0-9._-], starting
 * and ending alphanumeric; other characters become '_' ... trimmed (heap; "" stays ""). */
char *k8s_api_label_value(const char *s);
/* The selector of this installation's objects, URL-encoded for a labelSelector query
 * parameter: "app.kubernetes.io%2Fmanaged-by%3Dgantry%2Cgantry.dev%2Finstallation%3DID"
 * (heap). installation_id NULL: every Gantry object. job_id non-NULL: only that job's. */
char *k8s_api_selector(const char *installation_id, const char *job_id);
/* Object name of a job's resources: "gantry-<job id>-<attempt>" (DNS-1035 label, at most
 * 63 characters, lower case; heap). Pods of a Job or Deployment get the controller's
 * suffixes. */
char *k8s_api_object_name(const char *job_id, int attempt);

/* ---- kinds and paths ---- */
enum k8s_kind {
	K8S_POD,
	K8S_SERVICE,
	K8S_JOB,        /* batch/v1 */
	K8S_DEPLOYMENT, /* apps/v1 */
	K8S_HPA,        /* autoscaling/v2 horizontalpodautoscalers */
	K8S_NODE,       /* cluster scoped */
	K8S_SECRET,     /* v1 Secret: a job's secret env (the notebook token) */
	K8S_NKINDS
};
/* "pods", "services", "jobs", ... (the resource's plural name). */
const char *k8s_kind_resource(enum k8s_kind k);
/* "Pod", "Service", "Job", "Deployment", "HorizontalPodAutoscaler", "Node". */
const char *k8s_kind_name(enum k8s_kind k);
/* "v1", "batch/v1", "apps/v1", "autoscaling/v2": the apiVersion of bodies. */
const char *k8s_kind_api_version(enum k8s_kind k);
/* Path of a collection or an object (heap), e.g. "/api/v1/namespaces/NS/pods",
 * "/apis/batch/v1/namespaces/NS/jobs/NAME", "/api/v1/nodes". name NULL: the collection;
 * sub non-NULL: a subresource ("log", "exec", "portforward", "status"). ns is ignored for
 * nodes. Names and namespaces are checked DNS labels/subdomains: NULL on a bad one. */
char *k8s_api_path(enum k8s_kind k, const char *ns, const char *name, const char *sub);

/* ---- kubeconfig ---- */
struct k8s_exec_plugin {
	char *command;         /* resolved relative to the kubeconfig's directory when it has '/' */
	char **args;           /* NULL-terminated */
	struct kvlist env;     /* extra environment of the plugin */
	char *api_version;     /* client.authentication.k8s.io/v1 (or v1beta1) */
	int interactive_never; /* interactiveMode: Never (Gantry never gives it a terminal) */
};
/* Where and how to reach one cluster: the chosen context resolved. Secrets (token, key) are
 * heap strings the caller registers with http_add_secret and wipes. */
struct k8s_access {
	char *context;         /* the context's name */
	char *server;          /* "https://host:port[/prefix]" without a trailing '/' */
	char *namespace;       /* the context's namespace, or NULL */
	char *tls_server_name; /* or NULL */
	char *ca_pem; /* certificate-authority-data decoded, or the file's text; NULL: system */
	size_t ca_pem_len;
	char *cert_pem, *key_pem; /* client-certificate(-data), client-key(-data), or NULL */
	size_t cert_pem_len, key_pem_len;
	char *token;      /* user token, or NULL */
	char *token_file; /* user tokenFile (read at each use: projected tokens rotate), or NULL */
	struct k8s_exec_plugin *exec; /* user exec plugin, or NULL */
	int inline_secret; /* token or client-key-data written in the kubeconfig itself: the
	                      file must then not be readable by group or others (issue 12) */
};
void k8s_access_clear(struct k8s_access *a); /* wipes secrets */
/* Parses a kubeconfig (YAML or JSON) read from path and resolves context (NULL: its
 * current-context). Relative file paths in it are relative to its directory; files named
 * (CA, certificate, key, token file) are read here (regular files only; a key or token file
 * must not be readable by group or others). Refused: insecure-skip-tls-verify: true,
 * auth-provider (removed from kubectl), username/password, a server that is not https://
 * (http:// only to loopback, for tests). 0, or -1 with "PATH:LINE:COL: why" in *cause. */
int k8s_kubeconfig_load(const char *path, const char *context, struct k8s_access *out,
                        char **cause);
/* Same from text already read (tests, fuzzing); dir resolves relative paths. */
int k8s_kubeconfig_parse(const char *path, const char *dir, const char *text, size_t len,
                         const char *context, struct k8s_access *out, char **cause);

/* An exec plugin's answer (stdout, an ExecCredential): status.token or
 * status.clientCertificateData + clientKeyData, and expirationTimestamp (RFC 3339) as Unix
 * ms, 0 when absent (valid until a 401). Checks kind and apiVersion. 0, or -1 with cause. */
struct k8s_exec_cred {
	char *token;
	char *cert_pem, *key_pem;
	int64_t expires_ms;
};
int k8s_exec_cred_parse(const char *json, size_t len, const char *api_version,
                        struct k8s_exec_cred *out, char **cause);
void k8s_exec_cred_clear(struct k8s_exec_cred *c); /* wipes */
/* The ExecCredential Gantry hands the plugin in KUBERNETES_EXEC_INFO (heap JSON). */
char *k8s_exec_info(const char *api_version, int interactive);

/* ---- quantities ---- */
/* "500m" -> 0.5, "2" -> 2, "16Gi" -> 17179869184, "1e3", "1.5k": 0 and *out, or -1. */
int k8s_quantity_parse(const char *s, double *out);
/* A quantity text for v (>= 0): "2", "2500m" (heap). */
char *k8s_quantity_format(double v);

/* ---- the objects Gantry creates ---- */
struct k8s_toleration {
	char *key, *op, *value, *effect; /* op "Equal" or "Exists"; value/effect may be NULL */
};
/* Everything the bodies need; strings are borrowed. */
struct k8s_workload {
	const char *name; /* k8s_api_object_name */
	const char *namespace;
	const struct kvlist *labels; /* the labels above, on the object and the pod template */
	enum job_kind kind;
	const char *image;
	const char *script;                 /* run as ["/bin/sh", "-c", script] */
	const struct kvlist *env;           /* container env (names checked C identifiers) */
	const char *secret_env_name;        /* or NULL: a Secret whose keys become env (envFrom) */
	const struct kvlist *secret_env;    /* K8S_SECRET: the Secret's keys and values (named
	                                     * w->name; values base64 in data) */
	int gpus;                           /* per pod; limits[gpu_resource] = gpus when > 0 */
	const char *gpu_resource;           /* K8S_GPU_RESOURCE when NULL */
	int cpus;                           /* requests+limits cpu when > 0 */
	int64_t memory_mib;                 /* requests+limits memory when > 0 */
	const struct kvlist *node_selector; /* e.g. nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3 */
	const struct k8s_toleration *tolerations;
	size_t ntolerations;
	int port;                   /* container port (and the Service's), 0 = none */
	const char *readiness_path; /* readinessProbe httpGet path (every 2 s), or NULL */
	int readiness_timeout_s;    /* the provider's whole wait; a probe's timeout is min(5, it) */
	long active_deadline_s;     /* Job / Pod activeDeadlineSeconds, 0 = none */
	int backoff_limit;          /* Job backoffLimit (>= 0) */
	int completions;            /* Job: pods; > 1 = Indexed completion mode with rank env
	                             * (RANK from the completion index, WORLD_SIZE,
	                             * MASTER_ADDR = pod 0 through a headless Service) */
	/* (indexed Jobs: the pods' subdomain is the Job's name, MASTER_ADDR "NAME-0.NAME",
	 * MASTER_PORT 29500 unless env has one, and the script starts with
	 * `export RANK="${JOB_COMPLETION_INDEX:-0}"`: the env var the Job controller sets) */
	int replicas;                   /* Deployment: initial replicas (>= HPA min, at least 1) */
	int replicas_min, replicas_max; /* HPA */
	double target_qps_per_replica;  /* HPA Pods metric target averageValue */
	const char *qps_metric;         /* the per-pod metric name, "http_requests_per_second" */
	const char *service_account;    /* or NULL */
	int restart_never;              /* notebook pods: restartPolicy Never */
};
/* JSON bodies for POST (heap). k8s_api_body(K8S_POD): a notebook's Pod; K8S_JOB: a
 * training Job; K8S_DEPLOYMENT: an endpoint's Deployment; K8S_SERVICE: the Service for the
 * notebook/endpoint port (or the headless Service of an indexed Job); K8S_HPA: the
 * endpoint's autoscaler (replicas_min 0 is written as 1: plain HPA cannot scale to zero;
 * see k8s_api_hpa_note). NULL with *cause when the workload cannot be expressed. */
char *k8s_api_body(enum k8s_kind k, const struct k8s_workload *w, char **cause);
/* The one-line note for a template whose replicas.min is 0 (NULL when min > 0):
 * "replicas.min 0 runs as 1: a HorizontalPodAutoscaler cannot scale to zero". */
const char *k8s_api_hpa_note(int replicas_min);
/* A JSON merge patch that scales a Deployment or changes an HPA (heap). */
char *k8s_api_scale_patch(int replicas);
/* DeleteOptions body: propagationPolicy Background (a Job's pods go with it), grace. */
char *k8s_api_delete_body(int grace_s);

/* ---- what the cluster reports ---- */
struct k8s_container {
	char *name;
	int ready;
	int restarts;
	char *waiting_reason, *waiting_message; /* ImagePullBackOff, CrashLoopBackOff, ... */
	int terminated;                         /* state.terminated present */
	int exit_code;
	int signal;
	char *term_reason; /* Completed, Error, OOMKilled, ... */
	int64_t started_ms, finished_ms;
	int last_terminated; /* lastState.terminated (a restart) */
	int last_exit_code;
};
struct k8s_obj {
	enum k8s_kind kind;
	char *name, *namespace, *uid, *resource_version;
	struct kvlist labels;
	struct kvlist annotations;
	int64_t created_ms, deleted_ms; /* deletionTimestamp set: being deleted */
	/* Pod */
	char *phase;            /* Pending, Running, Succeeded, Failed, Unknown */
	char *reason, *message; /* status.reason/message (Evicted, NodeLost, DeadlineExceeded) */
	char *sched_reason, *sched_message; /* PodScheduled False: Unschedulable + scheduler text */
	int ready;                          /* condition Ready True */
	char *node_name, *pod_ip;
	int64_t started_ms;   /* status.startTime */
	int completion_index; /* batch.kubernetes.io/job-completion-index, -1 = none */
	struct k8s_container *containers;
	size_t ncontainers;
	int pod_gpus;           /* sum of the containers' limits[nvidia.com/gpu] (or amd.com/gpu) */
	double pod_cpus;        /* sum of the containers' cpu requests (else limits) */
	int64_t pod_memory_mib; /* sum of the containers' memory requests (else limits) */
	/* Job */
	int active, succeeded, failed;
	int complete, failed_cond;        /* conditions Complete / Failed True */
	char *cond_reason, *cond_message; /* of the Failed condition (BackoffLimitExceeded,
	                                   * DeadlineExceeded) */
	int64_t completed_ms;
	int spec_completions;
	/* Deployment / HPA */
	int spec_replicas, replicas, ready_replicas, available_replicas;
	int current_replicas, desired_replicas, min_replicas, max_replicas;
	/* Node */
	double gpus_allocatable, gpus_capacity, cpus_allocatable, mem_allocatable; /* mem: bytes */
	int node_ready, unschedulable;
	/* Service */
	char *cluster_ip;
};
void k8s_obj_clear(struct k8s_obj *o);
void k8s_objs_free(struct k8s_obj *v, size_t n);

/* A list answer ({"kind": "PodList", "metadata": {"resourceVersion", "continue"},
 * "items": [...]}): the objects (malformed items skipped and counted in *skipped), the
 * list's resourceVersion and continue token (heap or NULL). 0, or -1 with cause.
 * Whatever goes back into a URL is checked here: an object's name must be a DNS
 * subdomain and its namespace a DNS label (else the item is malformed), and a
 * resourceVersion or continue token may hold only [A-Za-z0-9._~=-] (else the answer, or the
 * watch event, is refused), so they can go into a query string as they are. */
struct k8s_list {
	struct k8s_obj *items;
	size_t n;
	size_t skipped;
	char *resource_version;
	char *cont;
};
int k8s_api_parse_list(enum k8s_kind k, const char *json, size_t len, struct k8s_list *out,
                       char **cause);
void k8s_list_clear(struct k8s_list *l);
int k8s_api_parse_obj(enum k8s_kind k, const char *json, size_t len, struct k8s_obj *out,
                      char **cause);

/* One line of a watch stream. */
enum k8s_event_type {
	K8S_EV_ADDED,
	K8S_EV_MODIFIED,
	K8S_EV_DELETED,
	K8S_EV_BOOKMARK,
	K8S_EV_ERROR
};
struct k8s_event {
	enum k8s_event_type type;
	struct k8s_obj obj;  /* ADDED/MODIFIED/DELETED; BOOKMARK: only resource_version */
	int error_code;      /* ERROR: the Status code (410: re-list) */
	char *error_message; /* ERROR: the Status message (sanitised), heap */
};
/* Parses one JSON line of a watch stream. 0, or -1 with cause (the stream is broken). */
int k8s_api_parse_event(enum k8s_kind k, const char *line, size_t len, struct k8s_event *out,
                        char **cause);
void k8s_event_clear(struct k8s_event *e);
/* Splits a watch stream into lines: feeds data, calls line_cb for each complete line
 * (without '\n'); keeps a partial line. A line over max_line bytes is an error (-1). */
struct k8s_lines {
	char *buf;
	size_t len, cap, max_line;
};
int k8s_lines_feed(struct k8s_lines *lb, const char *data, size_t len,
                   int (*line_cb)(void *arg, const char *line, size_t len), void *arg);
void k8s_lines_clear(struct k8s_lines *lb);

/* ---- errors ---- */
enum k8s_err {
	K8S_ERR_OTHER,
	K8S_ERR_AUTH,      /* 401 Unauthorized, 403 Forbidden (RBAC) */
	K8S_ERR_NOTFOUND,  /* 404 */
	K8S_ERR_EXISTS,    /* 409 AlreadyExists: adopt (idempotent launch) */
	K8S_ERR_CONFLICT,  /* 409 Conflict (resourceVersion) */
	K8S_ERR_GONE,      /* 410 Gone / Expired: re-list */
	K8S_ERR_INVALID,   /* 400, 422 Invalid (field errors) */
	K8S_ERR_QUOTA,     /* 403 "exceeded quota" (ResourceQuota) */
	K8S_ERR_TRANSIENT, /* no answer, 429, 500, 502-504 */
};
/* "other", "auth", "not-found", "exists", "conflict", "gone", "invalid", "quota",
 * "transient". */
const char *k8s_err_name(enum k8s_err e);
/* A failed request in one line (heap): the Status message ("pods \"x\" is forbidden: ...
 * (403 Forbidden)"), "HTTP 502 from the API server", "no answer: ERROR" (status 0).
 * Remote text sanitised and cut short. *cls (may be NULL) gets the class. */
char *k8s_api_error(long status, const char *body, size_t len, const char *transport_error,
                    enum k8s_err *cls);

/* ---- states ---- */
/* Everything the provider knows about one job (the objects carrying its job label). */
struct k8s_view {
	enum job_kind kind;
	const struct k8s_obj *workload;    /* the Pod (notebook), Job, or Deployment; NULL: gone */
	const struct k8s_obj *const *pods; /* its pods (a Job's, a Deployment's) */
	size_t npods;
	const struct k8s_obj *hpa; /* endpoints, or NULL */
	int deleting;              /* Gantry asked to delete it (stop) */
};
struct k8s_state {
	enum job_state state; /* STARTING, RUNNING, SUCCEEDED, FAILED, STOPPED, UNKNOWN */
	char *reason;         /* heap one line or NULL: "pending: Unschedulable: 0/3 nodes are
	                       * available: 3 Insufficient nvidia.com/gpu.", "ImagePullBackOff:
	                       * ...", "DeadlineExceeded", "OOMKilled", "node lost" */
	int has_exit, exit_code;
	int64_t started_ms, ended_ms;
	int ready_replicas, desired_replicas; /* endpoints (HPA desired, else spec) */
	char *pod; /* heap: the pod that shells and forwards go to (rank 0 / a
	            * ready replica), or NULL */
};
/* Maps a view to Gantry's state. Pending pods are STARTING with the scheduler's or the
 * container's waiting reason; an image that will not come is FAILED with the reason: the
 * rule is ImagePullBackOff (the kubelet backs off only after a pull failed: Gantry does not
 * wait through its retries, up to five minutes apart), InvalidImageName or
 * ErrImageNeverPull; the first failure, ErrImagePull, is STARTING with its reason. A pod
 * whose status.reason is NodeLost is FAILED "node lost"; a Failed pod gives its reason
 * (DeadlineExceeded, Evicted: ...), else OOMKilled or "killed by signal N", and the exit
 * code of its first terminated container. A Job is
 * SUCCEEDED/FAILED by its conditions; a workload gone while not deleting is UNKNOWN "not
 * found"; a Deployment is RUNNING while at least one replica is ready. */
void k8s_api_state(const struct k8s_view *v, struct k8s_state *out);
void k8s_state_clear(struct k8s_state *s);

/* ---- nodes and the cluster ---- */
/* The GPU type of a node from its labels: the configured label key (NULL:
 * "nvidia.com/gpu.product"), shortened to the catalog's names ("NVIDIA-H100-80GB-HBM3" ->
 * "H100", "NVIDIA-A100-SXM4-80GB" -> "A100-80GB"); heap or NULL. */
char *k8s_api_node_gpu_type(const struct k8s_obj *node, const char *label_key);
/* The Cluster view's numbers from nodes and pods (nodes as nodes, each namespace's Gantry
 * pods as the queue): a node's state is "down" (Ready not True, with the condition's
 * message), "drained" (cordoned), "idle" (no live pod on it), "allocated" (every GPU asked
 * for) or "mixed"; allocations are the sums of its running pods' pod_gpus/pod_cpus/
 * pod_memory_mib; one partition per namespace of the pods (each showing the whole
 * cluster's nodes and GPUs) with its running and pending pods. */
void k8s_api_cluster(const struct k8s_obj *nodes, size_t nnodes, const struct k8s_obj *pods,
                     size_t npods, struct cluster_info *out);

/* ---- DCGM exporter (Prometheus text format 0.0.4) ---- */
struct prom_sample {
	char *name;           /* "DCGM_FI_DEV_GPU_UTIL" */
	struct kvlist labels; /* gpu, UUID, modelName, Hostname, namespace, pod, container */
	double value;
};
/* Parses the exposition text (comments, HELP/TYPE lines, escaped label values, NaN/+Inf,
 * optional timestamps); malformed lines are skipped and counted. 0, or -1 when the text is
 * not Prometheus text at all. */
int prom_parse(const char *text, size_t len, struct prom_sample **out, size_t *n, size_t *skipped,
               char **cause);
void prom_samples_free(struct prom_sample *v, size_t n);
/* The GPUs of pod ns/pod from DCGM samples (labels namespace+pod, or exported_namespace/
 * exported_pod when the exporter is scraped through Prometheus): util %, FB used MiB
 * (FB_USED + FB_FREE = total), temperature, power; one tele_gpu per gpu label.
 * Returns how many (heap *out) . */
size_t k8s_api_dcgm_gpus(const struct prom_sample *v, size_t n, const char *ns, const char *pod,
                         struct tele_gpu **out);

#endif
