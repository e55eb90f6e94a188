/* lambda_api.h: the Lambda Cloud API v1 as Gantry speaks it, without I/O: request bodies,
 * parsers of its answers (untrusted: every field is checked, a malformed answer is a one-line
 * error, never a crash), error classes, the instance and key names Gantry uses, and the
 * provider's settings. providers/lambda.c does the requests through core/http.h.
 *
 * Reference: the public Lambda Cloud API v1 (OpenAPI "Lambda Cloud API"): every answer is
 * {"data": ...} or {"error": {"code", "message", "suggestion"?}}; GET /instance-types,
 * GET /instances, GET /instances/{id}, POST /instance-operations/launch (region_name,
 * instance_type_name, ssh_key_names with exactly one name, name up to 64 characters,
 * quantity 1), POST /instance-operations/terminate (instance_ids), GET and POST /ssh-keys.
 * Requests are limited to about one per second, launches to one per 12 s. On-demand instances
 * are billed by the minute. */
#ifndef GANTRY_LAMBDA_API_H
#define GANTRY_LAMBDA_API_H

#include <stddef.h>
#include <stdint.h>

#include "core/kvlist.h"
#include "core/offers.h"

#define LAMBDA_API_DEFAULT_URL "https://cloud.lambdalabs.com/api/v1"
#define LAMBDA_NAME_MAX        64 /* the API's limit on instance and key names */
#define LAMBDA_ID_MAX          128

/* What kind of failure an answer is; the engine falls back on CAPACITY. */
enum lambda_err {
	LAMBDA_ERR_OTHER,
	LAMBDA_ERR_CAPACITY,  /* instance-operations/launch/insufficient-capacity */
	LAMBDA_ERR_QUOTA,     /* global/quota-exceeded, account limits */
	LAMBDA_ERR_AUTH,      /* global/invalid-api-key, global/account-inactive, 401, 403 */
	LAMBDA_ERR_INVALID,   /* global/invalid-parameters, 400 and the like */
	LAMBDA_ERR_TRANSIENT, /* 5xx, 429, no answer (timeouts, resets), provider/... codes */
	LAMBDA_ERR_NOTFOUND,  /* global/object-does-not-exist, 404 */
};

/* "capacity", "quota", "auth", "invalid", "transient", "not-found", "other". */
const char *lambda_err_name(enum lambda_err e);

/* A failed request in one line (heap, without the provider's name): "MESSAGE (CODE)",
 * "API key refused (global/invalid-api-key)", "HTTP 502 from the API", "no answer: ERROR".
 * status 0 = no answer (transport_error says why). Remote text is sanitised and cut short.
 * *cls (may be NULL) gets the class. A 2xx status with a body that is not an answer of the
 * API is OTHER ("unusable answer"). */
char *lambda_api_error(long status, const char *body, size_t len, const char *transport_error,
                       enum lambda_err *cls);

/* ---- request bodies (heap JSON text) ---- */

char *lambda_api_launch_body(const char *region, const char *instance_type, const char *key_name,
                             const char *name);
char *lambda_api_terminate_body(const char *instance_id);
char *lambda_api_add_key_body(const char *name, const char *public_key);

/* ---- answers ---- */

/* GET /instance-types -> offers of this provider instance: one per type and region with
 * capacity (avail YES); with regions configured, only those regions, and one offer with avail
 * NO for a configured region the type lacks capacity in; with no regions configured, a type
 * with capacity nowhere gives one offer (region "") with avail NO. Prices are live
 * (price_cents_per_hour), billed by the minute, on-demand. A type whose entry is malformed
 * gives an offer with `dropped` saying what was wrong. Offers are appended to out. -1 with a
 * cause when the answer as a whole is unusable. */
int lambda_api_parse_types(const char *body, size_t len, const char *provider, char *const *regions,
                           size_t nregions, struct offer_list *out, char **cause);

/* GPU type and count from an instance type name ("gpu_8x_h100_sxm5" -> "H100", 8;
 * "gpu_8x_a100_80gb_sxm4" -> "A100-80GB"; "cpu_4x_general" -> "", 0), falling back to the
 * description ("1x H100 (80 GB PCIe)"). 0 and a heap *gpu_type, or -1 when neither tells. */
int lambda_api_gpu_of(const char *type_name, const char *description, char **gpu_type, int *gpus);

enum lambda_status {
	LAMBDA_ST_UNKNOWN, /* a status this client does not know */
	LAMBDA_ST_BOOTING,
	LAMBDA_ST_ACTIVE,
	LAMBDA_ST_UNHEALTHY,
	LAMBDA_ST_TERMINATING,
	LAMBDA_ST_TERMINATED,
	LAMBDA_ST_PREEMPTED, /* newer versions of the API: the instance was taken back */
};
const char *lambda_status_name(enum lambda_status s);

struct lambda_instance {
	char *id;   /* [A-Za-z0-9_-], at most LAMBDA_ID_MAX */
	char *name; /* or NULL */
	char *ip;   /* a valid IPv4/IPv6 address, or NULL (booting) */
	enum lambda_status status;
	char *region;        /* or NULL */
	char *instance_type; /* or NULL */
	char **keys;         /* ssh_key_names */
	size_t nkeys;
};
void lambda_instance_clear(struct lambda_instance *in);
void lambda_instances_free(struct lambda_instance *v, size_t n);

/* GET /instances/{id}: {"data": instance}. */
int lambda_api_parse_instance(const char *body, size_t len, struct lambda_instance *out,
                              char **cause);
/* GET /instances: {"data": [instance, ...]}. An element that is not a usable instance fails
 * the whole answer (an instance Gantry cannot read could be one of its own). */
int lambda_api_parse_instances(const char *body, size_t len, struct lambda_instance **v, size_t *n,
                               char **cause);
/* POST /instance-operations/launch: the first of data.instance_ids (heap). */
int lambda_api_parse_launch(const char *body, size_t len, char **instance_id, char **cause);
/* GET /ssh-keys: 1 when a key called name exists (*public_key, may be NULL, gets its public
 * key), 0 when not, -1 with cause on a malformed answer. */
int lambda_api_find_key(const char *body, size_t len, const char *name, char **public_key,
                        char **cause);

/* ---- names ---- */

/* "gantry-JOBID-aATTEMPT" (heap), or NULL when the job id is not [a-z0-9] or the name would
 * be longer than LAMBDA_NAME_MAX. */
char *lambda_instance_name(const char *job_id, int attempt);
/* The inverse: 0 with a heap *job_id and *attempt, -1 when name is not one of Gantry's. */
int lambda_instance_name_parse(const char *name, char **job_id, int *attempt);
/* The name Gantry registers its key under: "gantry-" and the first 16 characters of the
 * installation id ("gantry" alone when it is NULL). Heap. */
char *lambda_key_name(const char *installation_id);
/* 1 when the instance is one of this installation's: a Gantry instance name and the
 * installation's key among its ssh_key_names. */
int lambda_instance_ours(const struct lambda_instance *in, const char *key_name);

/* A job's ref: "INSTANCE_ID/IP/JOBID" (heap; ip may be "" for an instance still booting). */
char *lambda_ref(const char *id, const char *ip, const char *job_id);
/* Splits a ref into heap strings; -1 with cause when it is not one of lambda_ref's. */
int lambda_ref_parse(const char *ref, char **id, char **ip, char **job_id, char **cause);

/* ---- settings (config.yaml `providers: {NAME: {type: lambda, ...}}`) ---- */

struct lambda_conf {
	char *api_url;     /* without a trailing '/' */
	char *key_setting; /* "api_key_file" or "api_key_env": the one given */
	char **regions;    /* launch only there; none = any region with capacity */
	size_t nregions;
	char *ssh_user;         /* "ubuntu" */
	int ssh_port;           /* 22 */
	int boot_timeout_s;     /* 600: a booting instance older than this is terminated */
	int poll_ms;            /* 5000: status polls while booting */
	int offers_refresh_s;   /* 180: the instance-types cache's age before a refresh */
	double rate_per_s;      /* 1: requests started per second (0 = no limit, tests) */
	int launch_interval_ms; /* 12000: between two launches */
	char *dir;              /* remote job directory (".gantry") */
};

/* Reads and checks settings (pos: key -> "FILE:LINE:COL"); unknown keys and bad values fail
 * with "FILE:LINE:COL: KEY: reason". Exactly one of api_key_file and api_key_env must be
 * given; their values are read by cred_get, never here, and never shown. */
int lambda_conf_parse(const struct kvlist *settings, const struct kvlist *pos, const char *prov,
                      struct lambda_conf *c, char **cause);
void lambda_conf_free(struct lambda_conf *c);

#endif
