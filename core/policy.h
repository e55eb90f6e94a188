/* policy.h: the platform team's policy (/etc/gantry/policy.yaml, admin-owned): roles mapped
 * from Unix users and groups, what each role may launch, data classifications and their
 * allowed places, monthly budgets, approval thresholds. Pure: parsing and evaluation, no
 * I/O besides reading the file, no engine. Every rule keeps its FILE:LINE:COL so a verdict
 * names the rule that decided it.
 *
 * The format (docs/governance.md):
 *
 *   roles:
 *     admin:   {users: [root], groups: [gantry-admins], admin: true, approver: true}
 *     ml:
 *       groups: [ml, vision]        # members of any of these groups (or users:) have it
 *       providers: [local, "fleet*"] # globs over provider instance names ("*" = all)
 *       regions: ["eu-*", local]    # globs over the offer's region
 *       gpu_types: [H100, A100]     # the template's accelerator names
 *       templates: ["*"]            # globs over template names
 *       max_gpus_per_job: 8
 *       max_gpus_total: 16          # the user's active jobs' GPUs plus this one
 *       max_hourly_cost: 40         # $/h per job, on top of the template's own cap
 *       see: own                    # own | team | all: whose jobs its users see and stop
 *       approval: {above_hourly_cost: 20, above_gpus: 8}  # strictly above: wait for one
 *   approvers: [admin]              # roles whose users may approve (or approver: true)
 *   default_role: NAME              # the role of users no role names (absent: refused)
 *   teams: {vision: [vision], nlp: [nlp-users]}   # team -> system groups; the first match
 *                                   # is the user's team (else the primary group's name)
 *   classifications:
 *     pii: {regions: ["eu-*"]}
 *     phi: {providers: [onprem-slurm]}
 *   budgets:                        # config.yaml's budget model (scope user|team|project)
 *     - {scope: team, name: vision, monthly: 1000, soft: 0.8, hard: 1.0}
 *
 * A user with several roles gets the first one, in file order. Lists absent from a role
 * allow everything; numbers absent set no limit. */
#ifndef GANTRY_POLICY_H
#define GANTRY_POLICY_H

#include <stddef.h>

#include "core/config.h"
#include "core/ident.h"

struct policy;

/* Reads and validates path. A missing file: 0 with *out NULL (no policy: everything is
 * allowed, as before issue 12). A malformed one: -1 with "FILE:LINE:COL: reason". */
int policy_load(const char *path, struct policy **out, char **cause);
/* The same on text (name is the FILE shown in errors). */
int policy_parse(const char *text, size_t len, const char *name, struct policy **out,
                 char **cause);
void policy_free(struct policy *p);
/* The file it came from ("/etc/gantry/policy.yaml"). */
const char *policy_path(const struct policy *p);

/* The user's role name (NULL: none, and no default_role). */
const char *policy_role(const struct policy *p, const struct ident *who);
int policy_is_admin(const struct policy *p, const struct ident *who);
int policy_is_approver(const struct policy *p, const struct ident *who);
/* Whose jobs the user sees and may stop. */
enum policy_see { POLICY_SEE_OWN, POLICY_SEE_TEAM, POLICY_SEE_ALL };
enum policy_see policy_sees(const struct policy *p, const struct ident *who);
/* The user's team from `teams:` and the system groups (heap), or NULL: no `teams:` match
 * (the caller falls back to the primary group's name). */
char *policy_team(const struct policy *p, const struct ident *who);
/* The policy's budgets (config_budget as in config.yaml; pos names policy.yaml). */
const struct config_budget *policy_budgets(const struct policy *p, size_t *n);

/* What a launch asks for. */
struct policy_launch {
	const char *template_name;
	const char *provider;       /* instance name */
	const char *region;         /* the offer's region (or the provider's `region:`), NULL = "" */
	const char *gpu_type;       /* "H100"; NULL: no GPU */
	int gpus;                   /* GPUs of the whole job */
	int gpus_in_use;            /* the user's active jobs' GPUs now */
	int priced;                 /* hourly_cost is known */
	double hourly_cost;         /* $/h of the whole job */
	const char *classification; /* template data.classification; NULL = public */
};

/* One rule looked at during an evaluation (explain prints them in order). */
struct policy_hit {
	char *rule;  /* "roles.ml.regions" */
	char *where; /* "/etc/gantry/policy.yaml:12:5" */
	char *text;  /* "region us-east-1 is not in [eu-*]" */
	int allow;   /* 1 passed, 0 refused */
};

struct policy_verdict {
	int allowed;
	int needs_approval; /* allowed, but above the role's approval threshold */
	char *role;         /* the role applied, or NULL */
	/* refused: "policy.yaml:12:5 roles.ml.regions: region us-east-1 is not in [eu-*];
	 * allowed: eu-west-1, eu-central-1" (the rule, why, and what would be allowed instead);
	 * needs_approval: why ("$32.00/h is above roles.ml.approval.above_hourly_cost $20.00/h") */
	char *reason;
	char *rule; /* the deciding rule's name ("roles.ml.regions"), NULL when allowed */
	struct policy_hit *hits;
	size_t nhits;
};

/* Evaluates one launch for who. Never fails: a user with no role is refused ("no role in
 * FILE for user alice (groups: ...)"). p NULL: allowed, no hits. */
void policy_evaluate(const struct policy *p, const struct ident *who,
                     const struct policy_launch *l, struct policy_verdict *out);
void policy_verdict_clear(struct policy_verdict *v);

#endif
