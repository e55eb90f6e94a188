/* engine.h: the engine API, the only door the faces (TUI and CLI) use.
 * Requests are answered through callbacks from the event loop; changes arrive as events
 * the faces subscribe to. Nothing here draws or prints. Query functions read the store and
 * hand back caller-owned copies. */
#ifndef GANTRY_ENGINE_H
#define GANTRY_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/audit.h"
#include "core/cluster.h"
#include "core/config.h"
#include "core/ident.h"
#include "core/job.h"
#include "core/kvlist.h"
#include "core/offers.h"
#include "core/cost.h"
#include "core/policy.h"
#include "core/telemetry.h"
#include "core/template.h"

struct engine;
struct loop;

struct engine_opts {
	int readonly;   /* refuse every request that changes anything */
	int no_refresh; /* do not poll providers on open (bench/diagnostics) */
	/* issue 12. Remote mode: talk to gantryd over this Unix socket instead of running the
	 * engine here (core/engine_remote.c). NULL: $GANTRY_DAEMON, else `daemon:` in
	 * config.yaml, else `daemon:` in SYSTEM_DIR/client.yaml; none of them (or "none"):
	 * embedded, as before. */
	const char *daemon_socket;
	int embedded; /* 1: never remote (gantryd itself, `gantry --embedded`) */
	int serving;  /* 1: this engine runs inside gantryd (approvals, per-actor visibility) */
	const char *policy_path; /* NULL: SYSTEM_DIR/policy.yaml */
};

enum engine_event_type {
	ENGINE_EV_JOBS_CHANGED, /* something in the job list changed (job_id NULL = reload all) */
	ENGINE_EV_JOB_STATE,    /* job_id moved from -> to, with reason */
	ENGINE_EV_PROVIDER,     /* provider health changed (provider, message) */
	ENGINE_EV_MESSAGE,      /* a one-line message for the status line (message) */
	ENGINE_EV_FORWARDS,     /* a forward opened, came up, failed or closed (message) */
	ENGINE_EV_TELEMETRY,    /* fresh host/GPU samples are available */
};

struct engine_event {
	enum engine_event_type type;
	const char *job_id;
	enum job_state from, to;
	const char *reason;
	const char *provider;
	const char *message;
};

typedef void (*engine_event_cb)(void *arg, const struct engine_event *ev);
/* rc 0 = done; -1 = failed with cause. job_id names the job concerned. */
typedef void (*engine_result_cb)(void *arg, int rc, const char *job_id, const char *cause);
typedef void (*engine_log_cb)(void *arg, const char *data, size_t len, int eof);

struct engine_launch_req {
	const char *template_name;
	const char *const *sets; /* "k=v" */
	size_t nsets;
	const char *provider; /* NULL = the template's placement or the default */
	const char *name;     /* NULL = "<template>-<n>" */
	long max_runtime_s;   /* > 0: this launch's max_runtime (at most the template's) */
};

/* What a launch would do (dry run, and the TUI form's preview). */
struct engine_plan {
	char *template_name;
	char *provider;
	struct kvlist params; /* resolved */
	char *script;         /* rendered shell text */
	struct kvlist env;    /* rendered env */
	int want_port;
	int gpus;
	char *accels;       /* "H100:8" or "-" */
	long max_runtime_s; /* limits.max_runtime (0 = none) */
	struct offer_verdict offer;
	/* the chosen offer's place (the provider's first offer): heap, NULL = none */
	char *region;
	char *instance_type;
	int spot;      /* its market is spot */
	int billing_s; /* its billing unit in seconds (1, 60, 3600; 0 = unknown: by the second) */
	/* the other offers of that provider the template takes, best first: where a launch
	 * goes next when the provider has no capacity for the one before (attempt 2, 3, ...) */
	struct offer_list fallbacks;
	/* a one-line note about what the provider does differently from the template (heap, NULL
	 * = none): "local runs 1 replica; replicas.min 2 applies on kubernetes" */
	char *note;
};

struct engine_provider_info {
	const char *name;
	const char *type;
	int healthy;
	const char *message; /* health detail, or NULL */
};

struct engine_reconcile_report {
	int adopted; /* intents whose resource existed: attached */
	int failed;  /* intents whose resource never got created: marked FAILED */
	int updated; /* jobs whose state changed to match reality */
	int orphans; /* orphans (ours, no job in the store) destroyed (--terminate-orphans) */
	/* Orphans found: resources labelled with this store's installation id whose job is not
	 * in the store, "PROVIDER REF" each (heap; engine_reconcile_report_clear). Destroyed only
	 * with ENGINE_RECONCILE_TERMINATE_ORPHANS; otherwise kept and reported. Resources of
	 * other installations and unlabelled ones are never listed nor touched. */
	char **orphan_refs;
	size_t norphan_refs;
	int orphans_failed; /* orphans whose destroy failed */
	int released;       /* paid resources still held for jobs that had ended: destroyed */
	int waiting; /* interrupted launches on a network provider not listed yet: kept pending
	              * (a cloud's list can lag its launch) until ENGINE_SETTLE_GRACE_S */
};
/* How long an interrupted launch on a network provider may stay unlisted before reconcile
 * calls it never made (a cloud's list is eventually consistent). */
#define ENGINE_SETTLE_GRACE_S 180
void engine_reconcile_report_clear(struct engine_reconcile_report *rep);

int engine_open(const struct engine_opts *opts, struct engine **out, char **cause);
void engine_close(struct engine *e);
struct loop *engine_loop(struct engine *e);
const struct config *engine_config(struct engine *e);
int engine_readonly(struct engine *e);

void engine_subscribe(struct engine *e, engine_event_cb cb, void *arg);
/* Removes a subscription made with the same cb and arg. */
void engine_unsubscribe(struct engine *e, engine_event_cb cb, void *arg);

/* Templates (built-in, system, user), broken ones included with error set. */
const struct template_set *engine_templates(struct engine *e);
void engine_templates_reload(struct engine *e);

size_t engine_provider_count(struct engine *e);
/* Provider type i of this build (`type:` in config.yaml) and its one-line summary; 0 when i
 * is past the last (needs no engine: for --help). */
int engine_provider_type_info(size_t i, const char **name, const char **summary);
void engine_provider_info(struct engine *e, size_t i, struct engine_provider_info *out);

/* Resolves params and renders the job without launching; the offer is the first of the
 * provider's `offers` (engine_plan runs the loop until it answers: at once for local and
 * ssh). engine_plan_async: the same, answered on the loop: cb runs once with the plan (rc 0;
 * cb may move it out: copy it and zero the original) or the cause, possibly before
 * engine_plan_async returns. -1 (no callback): the request itself is wrong. */
typedef void (*engine_plan_cb)(void *arg, int rc, struct engine_plan *plan, const char *cause);
int engine_plan_async(struct engine *e, const struct engine_launch_req *req, engine_plan_cb cb,
                      void *arg, char **cause);
int engine_plan(struct engine *e, const struct engine_launch_req *req, struct engine_plan *out,
                char **cause);
void engine_plan_clear(struct engine_plan *p);
/* Reads config.yaml again now (core/engine_reload.c; the engine's tick does it by itself when
 * the file changed): budgets, limits and the default provider apply at once; `providers:`
 * changes after a restart. An invalid file keeps the old settings: -1 with "FILE:LINE:COL:
 * reason". An ENGINE_EV_MESSAGE says what happened. */
int engine_config_reload(struct engine *e, char **cause);
/* How many reloads succeeded so far (a face drops what it cached when this moves); *error
 * (may be NULL) is why the last read failed, or NULL when the settings in use are the file's. */
int engine_config_generation(struct engine *e, const char **error);
/* A duration "90", "30s", "10m", "1h30m", "2d" in seconds, or -1 (core/engine_runtime.c). */
long engine_duration_parse(const char *s);

/* Why a planned launch is refused (engine_admit). */
enum engine_refusal {
	ENGINE_ADMIT_OK,
	ENGINE_REFUSE_READONLY,  /* read-only mode */
	ENGINE_REFUSE_FIT,       /* the template does not fit the provider's offer */
	ENGINE_REFUSE_PRICE_CAP, /* the offer costs more than limits.max_hourly_cost */
	ENGINE_REFUSE_BUDGET,    /* a hard budget limit would be reached */
	ENGINE_REFUSE_POLICY,    /* policy.yaml forbids it (reason names the rule), or the
	                          * policy file is broken (embedded mode refuses then) */
};
struct engine_admission {
	enum engine_refusal refusal;
	char *reason;             /* why it is refused (heap), NULL when admitted */
	enum cost_verdict budget; /* the worst budget verdict (COST_SOFT: launch with a warning) */
	char *budget_reason;      /* heap or NULL when no budget applies */
	double expected_cost;     /* USD over max_runtime, or for one hour (priced offers) */
	double expected_hours;    /* max_runtime in hours; 0: expected_cost is per hour */
	/* issue 12: admitted, but above the actor's role's approval threshold: the launch
	 * waits in PENDING_APPROVAL (approval_reason says why, heap) */
	int needs_approval;
	char *approval_reason;
	char *policy_rule; /* the rule that refused ("roles.ml.regions"), heap or NULL */
};
/* The checks engine_launch makes before it creates anything, on a plan: a launch of this plan
 * now is refused exactly when out->refusal is not ENGINE_ADMIT_OK. Creates nothing.
 * engine_admission_clear frees out. */
void engine_admit(struct engine *e, const struct engine_plan *plan, struct engine_admission *out);
void engine_admission_clear(struct engine_admission *a);

/* Commits the intent, then calls the provider. *job_id (heap) is set as soon as the intent
 * is committed; cb runs when the provider answered (job STARTING or FAILED). */
int engine_launch(struct engine *e, const struct engine_launch_req *req, char **job_id,
                  engine_result_cb cb, void *arg, char **cause);
/* Moves the job to STOPPING and asks the provider to stop it; cb when delivered. Stopping a
 * job that has ended fails with a cause. */
int engine_stop(struct engine *e, const char *job_ref, engine_result_cb cb, void *arg,
                char **cause);

int engine_jobs(struct engine *e, int active_only, struct job_list *out, char **cause);
int engine_job(struct engine *e, const char *job_ref, struct job *out, char **cause);
int engine_job_events(struct engine *e, const char *job_id, struct job_event_list *out,
                      char **cause);
int engine_jobs_count(struct engine *e, int64_t *out, char **cause);
/* Versions of the libraries the engine runs on, one line ("sqlite 3.40.1, ..."). */
void engine_versions(char *buf, size_t len);
/* The job's access token (notebooks), kept in a 0600 file outside the store; heap or NULL. */
char *engine_job_token(struct engine *e, const char *job_id);

struct engine_logs;
int engine_logs_open(struct engine *e, const char *job_id, int follow, int64_t tail_bytes,
                     engine_log_cb cb, void *arg, struct engine_logs **out, char **cause);
void engine_logs_close(struct engine *e, struct engine_logs *lg);

/* Asks providers for the state of active jobs and notices other processes' writes
 * (PRAGMA data_version). Events follow. Called by the engine's own timer every
 * refresh_ms; faces may call it on demand. */
void engine_refresh(struct engine *e);
/* Number of provider requests in flight (CLI waits for 0). */
int engine_busy(struct engine *e);
/* Settles interrupted launches, adopts what providers hold for them, finds orphans of this
 * installation (destroyed only with ENGINE_RECONCILE_TERMINATE_ORPHANS), refreshes every
 * active job. Runs the loop until done. Never touches what another store launched. */
#define ENGINE_RECONCILE_TERMINATE_ORPHANS 0x1u
int engine_reconcile(struct engine *e, unsigned flags, struct engine_reconcile_report *rep,
                     char **cause);
/* The same without waiting: cb runs once, on the loop, with the report (valid during the
 * call; the callee may move orphan_refs out and zero them). One reconcile at a time. */
typedef void (*engine_reconcile_cb)(void *arg, int rc, const struct engine_reconcile_report *rep,
                                    const char *cause);
int engine_reconcile_start(struct engine *e, unsigned flags, engine_reconcile_cb cb, void *arg,
                           char **cause);
/* The store's installation id (random, made once with the store; labels its resources). */
const char *engine_installation_id(struct engine *e);

/* --- cost and budgets (core/engine_cost.c) --- */

/* A budget from config.yaml and where it stands this month. */
struct engine_budget_status {
	const struct config_budget *cfg;
	struct cost_budget budget;
	double spent;    /* month to date of its scope */
	double burn;     /* $/h of its scope's jobs holding resources now */
	double used;     /* spent / monthly */
	double forecast; /* spent + each job until the UTC month ends or its max_runtime stops it */
	double hours_to_hard; /* at this burn, until the hard limit; 0 = reached, < 0 = never */
	enum cost_verdict verdict;
	char *reason; /* one line */
};

/* Everything about money at one instant: every job with its cost, the Cost view's totals,
 * breakdowns and idle wasters, and the budgets. */
struct engine_cost {
	int64_t now;
	struct job_list jobs;
	struct cost_job *cj; /* parallel to jobs.items */
	double *to_date;     /* parallel: each job's cost so far (priced jobs) */
	struct cost_view view;
	struct engine_budget_status *budgets;
	size_t nbudgets;
	/* storage the cost_job entries point into */
	struct cost_interval *held;
	struct cost_interval *holds; /* the holds table's intervals, by job id */
	char **hold_ids;
	size_t nholds;
	struct cost_interval *idle;
	char **idle_ids;
	char **resource;
};

int engine_cost(struct engine *e, struct engine_cost **out, char **cause);
void engine_cost_free(struct engine_cost *c);
/* Writes the FinOps FOCUS CSV for [from, to) (see cost_focus_write). */
int engine_cost_focus(struct engine *e, FILE *f, int64_t from, int64_t to, size_t *nrows,
                      size_t *nunpriced, char **cause);
/* What a planned launch does to the budgets of this user, team and project: the worst verdict
 * and its reason (heap; NULL when no budget applies). */
enum cost_verdict engine_budget_check_launch(struct engine *e, const struct engine_plan *plan,
                                             char **reason);
/* The cost of one job so far at now (0 and *priced = 0 when unpriced), over every interval
 * it held resources. */
double engine_job_cost(struct engine *e, const struct job *j, int64_t now, int *priced);

/* --- telemetry history (core/engine_tele.c) --- */
/* Starts watching (the TUI, `gantry watch`): every refresh tick, host samples go into ring
 * buffers and the store's history, idle time is recorded for idle waste, template autostop
 * and budgets with `action: stop` are applied. Read-only engines do not watch. */
void engine_watch(struct engine *e);
enum engine_metric { ENGINE_M_UTIL, ENGINE_M_MEM, ENGINE_M_TEMP, ENGINE_M_POWER };
/* The last n samples of one GPU (host as in struct tele_host.name, gpu its index), oldest
 * first, into out[0..n): valid[i] = 0 where there was no valid sample. Returns how many
 * samples were written (0 when nothing is known). One sample per refresh interval. */
size_t engine_gpu_history(struct engine *e, const char *host, int gpu, enum engine_metric m,
                          double *out, int *valid, size_t n);
/* Average GPU utilisation (percent) of a job's GPUs in the latest sample; -1 when unknown. */
double engine_job_gpu_util(struct engine *e, const char *job_id);

/* --- sessions: shells and forwards (core/engine_session.c, core/engine_ssh.c) ---
 * The engine owns every way to a job's worker: this host (a local shell), SSH (libssh2,
 * strict host keys, the provider's key and jump host) or a provider's own channel. Faces
 * see only what they display. */

/* Why a connection to a worker failed (code ENGINE_CONN_OK: not a connection problem). */
enum engine_conn_code {
	ENGINE_CONN_OK = 0,
	ENGINE_CONN_FAILED,          /* could not reach the worker (resolve, refused, auth...) */
	ENGINE_CONN_HOSTKEY_UNKNOWN, /* fingerprint set: retry with accept_new once checked */
	ENGINE_CONN_HOSTKEY_CHANGED, /* fingerprint set: always refused */
	ENGINE_CONN_CLOSED,          /* the connection dropped, or the job ended */
};
struct engine_conn_error {
	enum engine_conn_code code;
	char msg[512];         /* one line */
	char fingerprint[128]; /* "SHA256:..." for host key errors, else "" */
	char keytype[32];      /* "ED25519" for host key errors, else "" */
};

/* What a face may show about worker `worker` of a job (heap strings;
 * engine_shell_info_clear frees them). */
struct engine_shell_info {
	int local;         /* 1: the worker is this host */
	char *host_name;   /* the worker's name ("gpu1"), "localhost" for local */
	int nworkers;      /* workers the job has */
	char *description; /* one line: "gpu1 (user@10.0.0.5:22 via login)" or "this host" */
};
int engine_job_shell_info(struct engine *e, const char *job_ref, int worker,
                          struct engine_shell_info *out, char **cause);
void engine_shell_info_clear(struct engine_shell_info *s);

/* An unknown host key, shown to the user before it is recorded. */
struct engine_host_key {
	const char *host;
	int port;
	const char *keytype;
	const char *fingerprint;
	const char *known_hosts; /* where it would be recorded ("~/.ssh/known_hosts") */
};

struct engine_session_io {
	const char *command; /* a shell command line run in the job's directory, or NULL for
	                        the user's login shell there */
	int in_fd, out_fd;   /* the terminal (normally 0 and 1; raw while the shell runs) */
	int accept_new;      /* record an unknown host key without asking */
	/* Asked once when the worker's host key is unknown (and accept_new is 0): return 1 to
	 * record it and go on. NULL: refuse (ENGINE_CONN_HOSTKEY_UNKNOWN). */
	int (*confirm_host_key)(void *arg, const struct engine_host_key *k);
	void *arg;
};

/* Runs an interactive session on worker `worker` of an active job, on the calling thread,
 * while the face has given up the terminal: the user's $SHELL in the job's directory with
 * the job's environment for a local job; a PTY shell over SSH (the job's worker, through
 * its jump host) with the terminal's TERM, size, window changes and modes otherwise; or the
 * provider's own channel. The session counts as activity for autostop while it runs.
 * Returns 0 with *exit_status (-1 when the worker sent none; 128+N for a local shell killed
 * by signal N), or -1 with cause and, for connection problems, err->code set (err may be
 * NULL). */
int engine_session_run(struct engine *e, const char *job_ref, int worker,
                       const struct engine_session_io *io, int *exit_status,
                       struct engine_conn_error *err, char **cause);
/* The command line that opens the same session by hand (`gantry ssh --print-command`):
 * "cd DIR && exec $SHELL" for a local job, the OpenSSH command (strict host keys, same key,
 * known_hosts and -J jump) otherwise; command as in engine_session_io. Heap, or NULL with
 * cause. */
char *engine_session_command(struct engine *e, const char *job_ref, int worker, const char *command,
                             char **cause);
/* Runs the local provider's job supervisor (`gantry __supervise ...`, started by the local
 * provider itself) and returns its exit status. */
int engine_supervisor_main(int argc, char **argv);

struct engine_forward_info {
	int id;
	char *job_id;
	char *job_name;
	char *host_name;
	int remote_port;
	int local_port;
	char *url; /* http://127.0.0.1:LOCAL/... with the notebook token when there is one */
	int up;
	int dead;
	char *error; /* why it died / last connection failure, or NULL */
	struct engine_conn_error err;
	int active;
	uint64_t connections;
	uint64_t bytes_up, bytes_down;
	uint64_t refused; /* connections refused: their peer was not the forward's owner */
};
void engine_forward_info_clear(struct engine_forward_info *f);

/* Opens a forward from 127.0.0.1:local_port (0 = pick) to remote_port (0 = the job's
 * port) on worker 0 of the job, over SSH or the provider's own channel. Returns at once
 * with *id; cb runs when it is up or has failed (rc -1, err says why: an unknown host key
 * can be retried with accept_new). A forward closes when its job ends or
 * engine_forward_close is called. */
typedef void (*engine_forward_cb)(void *arg, int id, int rc, const struct engine_conn_error *err);
int engine_forward_open(struct engine *e, const char *job_ref, int remote_port, int local_port,
                        const char *bind_addr, int accept_new, engine_forward_cb cb, void *arg,
                        int *id, char **cause);
void engine_forward_close(struct engine *e, int id);
/* Snapshot of the forwards this process holds (heap array). */
size_t engine_forwards(struct engine *e, struct engine_forward_info **out);
void engine_forwards_free(struct engine_forward_info *f, size_t n);

/* Marks an interactive session on the job as open until engine_session_end (autostop counts
 * open sessions as activity). The mark is a file named after this process, so a session
 * that crashed stops counting once its process is gone. Returns the mark (heap) or NULL. */
char *engine_session_begin(struct engine *e, const char *job_id);
void engine_session_end(char *mark);
/* Open interactive sessions on the job, across processes. */
int engine_job_sessions(struct engine *e, const char *job_id);

/* --- opening a job's URL (core/engine_open.c) --- */

/* url with "token=TOKEN" added to its query (before any fragment); a copy of url when token
 * is NULL or empty. Heap; NULL when url is NULL. */
char *engine_url_with_token(const char *url, const char *token);
/* The job's URL with its access token from the secrets file (heap), as the provider
 * reported it; NULL when the job has no URL. */
char *engine_job_url(struct engine *e, const struct job *j);

/* How to open an active job's URL from this host. */
struct engine_open_info {
	char *job_id;
	char *job_name;
	enum job_state state;
	int port;  /* the job's port on its worker */
	char *url; /* with the token, or NULL (no URL); opens as it is when local, else it
	              names the worker */
	int local; /* 1: the worker is this host (open url); 0: forward the port first
	              (engine_forward_open; the forward's url carries the token) */
};
/* Fills out (engine_open_info_clear frees it); -1 with cause when the job is unknown, has
 * ended or has no resources yet. */
int engine_job_open(struct engine *e, const char *job_ref, struct engine_open_info *out,
                    char **cause);
void engine_open_info_clear(struct engine_open_info *o);

/* --- the optimizer: offers of every provider (core/engine_offers.c, offers) --- */

/* What engine_offers found. */
struct engine_offers_answer {
	char *template_name;
	struct offer_list offers; /* ranked (the first nfit, best first), then the dropped ones,
	                           * each with its reason in `dropped` (offers_rank) */
	size_t nfit;
	char **errors; /* "PROVIDER: why" for each provider that gave no offers (unhealthy, no
	                * `offers` op, failed): heap */
	size_t nerrors;
	int has_budget_left;    /* a hard budget applies to this user, team or project */
	double budget_left_usd; /* the least any of them leaves this month (may be <= 0) */
	long runtime_s;         /* the runtime the budget check counted (0 = one hour) */
};
void engine_offers_answer_free(struct engine_offers_answer *a);
/* rc 0 with the answer (cb owns it: engine_offers_answer_free), or -1 with a cause. */
typedef void (*engine_offers_cb)(void *arg, int rc, struct engine_offers_answer *ans,
                                 const char *cause);
/* Asks every configured provider that opened (req->provider: only that one; an unhealthy one
 * too: its unreachable hosts come back dropped with their reasons) for its offers for
 * req's template at once (provider_ops.offers), prices unpriced ones from the catalog, then
 * ranks them with offers_rank: placement, GPU alternatives, spot, limits.max_hourly_cost and
 * the hard budget left over req's max_runtime (else the template's). req->sets are checked
 * as a launch checks them. cb runs exactly once, on the loop (possibly before the call
 * returns); -1 with a cause (unknown template or provider, bad parameter) calls nothing. */
int engine_offers(struct engine *e, const struct engine_launch_req *req, engine_offers_cb cb,
                  void *arg, char **cause);

/* Hosts of every provider (ref NULL) or of one job, from the providers' caches. */
int engine_hosts(struct engine *e, const char *job_ref, struct tele_host **out, size_t *n,
                 char **cause);

/* --- the Cluster view (core/engine_cluster.c, issue 10) --- */
/* The providers that have a cluster view (provider op `cluster`), in config order: their
 * names into names[0..max) (valid until engine_close; names may be NULL to count). Returns
 * how many there are. */
size_t engine_cluster_providers(struct engine *e, const char **names, size_t max);
/* A snapshot of the cluster behind provider (NULL: the first provider with a cluster view)
 * from the provider's cache, at once: out is filled (cluster_info_clear frees it; its
 * provider is the instance name) and 0 returned. A stale cache asks for a fresh one, which
 * comes later as ENGINE_EV_TELEMETRY (or ENGINE_EV_PROVIDER). -1 with cause: no such
 * provider, one without a cluster view, none configured, or the provider's own error. The
 * snapshot's text (names, reasons, error) is the backend's: sanitise it to show it. */
int engine_cluster(struct engine *e, const char *provider, struct cluster_info *out, char **cause);

/* --- governance (issue 12): identity, policy, approvals, audit (docs/governance.md) ---
 * In embedded mode the engine acts for the process's own identity (ident_self); gantryd sets
 * each client's identity (SO_PEERCRED) around every request it serves. Everything below
 * works the same in remote mode (core/engine_remote.c forwards it to gantryd). */

/* NULL: back to the process's own identity. The engine keeps a copy. */
void engine_set_actor(struct engine *e, const struct ident *who);
const struct ident *engine_actor(struct engine *e);
/* The user's team: policy `teams:` from the system groups, else the primary group's name
 * (config.yaml's `team:` only without a policy, in embedded mode). */
const char *engine_actor_team(struct engine *e);
/* The policy in use (NULL: none) and, in *error (may be NULL), why the last load of the file
 * failed ("FILE:LINE:COL: reason"; NULL when the file's policy is in use). Embedded mode
 * refuses every launch while the file is broken; gantryd keeps the last good policy.
 * (core/engine_policy.c) */
const struct policy *engine_policy(struct engine *e, const char **error);
/* Reads the policy file again now (the tick does it when the file changed); audited. */
int engine_policy_reload(struct engine *e, char **cause);
/* The verdict of policy on a plan for the actor, with every rule looked at (`gantry policy
 * explain`, the launch form). 0 with out filled, or -1 with cause. */
int engine_policy_explain(struct engine *e, const struct engine_plan *plan,
                          struct policy_verdict *out, char **cause);
/* May the actor see (and stop) this job: its owner, the team when the role sees the team,
 * everyone for `see: all` and admins. Without a policy: the owner (embedded: every job of
 * the store, as before). */
int engine_may_see(struct engine *e, const struct job *j);

/* Approvals (core/engine_approve.c). A launch that needs approval is stored in
 * PENDING_APPROVAL with its request and no intent; engine_launch's cb then gets rc 0 and
 * the job id. Jobs the actor may decide (approver roles; never their own launches): */
int engine_approvals(struct engine *e, struct job_list *out, char **cause);
/* Approves: the job goes PENDING and launches with its kept request (admission is checked
 * again, budgets included); cb as engine_launch's. Audited. */
int engine_approve(struct engine *e, const char *job_ref, const char *reason,
                   engine_result_cb cb, void *arg, char **cause);
/* Denies: the job goes STOPPED with "denied by NAME: REASON". Audited. */
int engine_deny(struct engine *e, const char *job_ref, const char *reason, char **cause);

/* The audit log (core/engine_audit.c, core/audit.h). Appends an entry for the actor; never
 * fails the action it records (a store error goes to the message line). detail_json: a
 * JSON object or NULL; never a secret. */
void engine_audit(struct engine *e, const char *action, const char *target, const char *verdict,
                  const char *reason, const char *detail_json);
/* Entries since since_ms (0: all) the actor may read: admins all, others their own. */
int engine_audit_list(struct engine *e, int64_t since_ms, struct audit_entry **out, size_t *n,
                      char **cause);
/* audit_verify on the engine's store (admins in daemon mode). */
int engine_audit_verify(struct engine *e, size_t *checked, int64_t *bad_seq, char **cause);

#endif
