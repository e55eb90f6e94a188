/* job.h: the job model and its state machine. Every transition is validated here, in one
 * place (job_transition_valid); the store refuses anything else. */
#ifndef GANTRY_JOB_H
#define GANTRY_JOB_H

#include <stddef.h>
#include <stdint.h>

enum job_kind { JOB_KIND_NOTEBOOK, JOB_KIND_TRAINING, JOB_KIND_ENDPOINT, JOB_KIND_COUNT };

enum job_state {
	JOB_PENDING,
	JOB_PROVISIONING,
	JOB_STARTING,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_STOPPING,
	JOB_STOPPED,
	JOB_PREEMPTED,
	JOB_RECOVERING,
	JOB_UNKNOWN, /* its provider cannot be reached; not a failure */
	/* issue 12: a launch above its role's approval threshold waits here, with no launch
	 * intent, until an approver approves it (-> PENDING, then launched as usual) or denies
	 * it (-> STOPPED, reason "denied by NAME: REASON"); the requester may also stop it */
	JOB_PENDING_APPROVAL,
	JOB_STATE_COUNT
};

/* Names are upper case for states ("RUNNING"), lower case for kinds ("notebook"). */
const char *job_state_name(enum job_state s);
const char *job_kind_name(enum job_kind k);
/* Return -1 for an unknown name. Case-insensitive. */
int job_state_parse(const char *name);
int job_kind_parse(const char *name);
int job_state_terminal(enum job_state s); /* SUCCEEDED, FAILED, STOPPED */
/* 1 when j->reason says why an active job is not running (queued, held, unreachable,
 * requeued): what the Jobs view and `gantry ls` show next to its state. */
struct job;
int job_reason_shown(const struct job *j);
int job_state_active(enum job_state s); /* not terminal */
/* The state as the Jobs view, `gantry ls` and `gantry status` show it: "RUNNING 2/4" for an
 * active endpoint whose provider reports desired replicas, else the state's name. snprintf's
 * result. */
int job_state_label(const struct job *j, char *buf, size_t size);
/* 1 when job_state_label adds the replica count. */
int job_replicas_shown(const struct job *j);
/* 1 if from -> to is legal. from == to is never legal. */
int job_transition_valid(enum job_state from, enum job_state to);

struct job {
	char *id;   /* "j" + 16 hex digits (older stores: 8), unique, never reused */
	char *name; /* human name, unique among jobs ("train-mnist-3") */
	enum job_kind kind;
	enum job_state state;
	char *template_name;
	char *provider;     /* provider instance name ("local") */
	char *owner;        /* Unix user that launched it */
	char *idem_key;     /* idempotency key handed to the provider */
	char *params_json;  /* resolved params, JSON object */
	char *spec_json;    /* what was handed to the provider (script, env, ports), JSON object */
	char *provider_ref; /* provider's handle for the job (local: job directory), or NULL */
	char *reason;       /* reason of the last transition, or NULL */
	char *url;          /* where to reach it (endpoint/notebook), or NULL */
	int port;           /* 0 = none */
	int has_exit;       /* exit_code is valid */
	int exit_code;      /* >= 0 exit status, < 0 = -signal */
	int gpus;           /* GPUs assigned */
	int64_t created_ms; /* Unix ms, UTC */
	int64_t updated_ms;
	int64_t started_ms;    /* 0 = never RUNNING */
	int64_t ended_ms;      /* 0 = not ended */
	int priced;            /* 0 = unpriced: its cost is unknown, never $0 */
	double price_per_hour; /* USD per hour while it holds resources (fixed at launch) */
	int billing_s;         /* billing granularity in seconds (1, 60, 3600) */
	char *team;            /* whom it bills (budgets), or NULL */
	char *project;
	char *region;
	/* endpoints: replicas serving and wanted, as the provider last reported them (0/0 =
	 * unknown or not an endpoint); written only when they change */
	int ready_replicas;
	int desired_replicas;
	/* issue 12 (store schema 8) */
	int64_t owner_uid;     /* the owner's uid, from the kernel; -1 = unknown (older jobs) */
	char *approval;        /* NULL (none needed), "pending", "approved" or "denied" */
	char *decided_by;      /* the approver's login name, or NULL */
	char *decision_reason; /* the approver's words, or NULL */
	char *request_json;    /* the launch request kept while the job waits for approval */
};

struct job_event {
	int64_t id;
	char *job_id;
	int64_t at_ms;
	enum job_state from;
	enum job_state to;
	char *reason;
};

struct job_list {
	struct job *items;
	size_t n;
};

struct job_event_list {
	struct job_event *items;
	size_t n;
};

void job_init(struct job *j);
void job_clear(struct job *j); /* frees the strings, keeps j */
void job_copy(struct job *dst, const struct job *src);
void job_list_free(struct job_list *l);
void job_event_list_free(struct job_event_list *l);
/* A fresh random id ("j" + 16 hex digits: 64 random bits) on the heap. Ids are shown
 * abbreviated to their first JOB_ID_SHORT characters and found by any unique prefix of at
 * least JOB_ID_MIN_PREFIX characters (like git). Stores from before 64-bit ids hold
 * "j" + 8 hex digit ids, which keep working. */
#define JOB_ID_SHORT      9 /* "j" + 8 hex digits */
#define JOB_ID_MIN_PREFIX 5 /* "j" + 4 hex digits */
char *job_new_id(void);
/* 1 when s looks like a job id or an id prefix ("j" and at least JOB_ID_MIN_PREFIX - 1
 * lower-case hex digits): such a string is refused as a job name. */
int job_id_like(const char *s);
/* The abbreviated id (its first JOB_ID_SHORT characters) in buf; snprintf's result. */
int job_id_short(const char *id, char *buf, size_t len);

#endif
