/* policy_internal.h: the parsed policy (core/policy_parse.c fills it, core/policy.c answers
 * from it). Every rule keeps the FILE:LINE:COL of its key. */
#ifndef GANTRY_POLICY_INTERNAL_H
#define GANTRY_POLICY_INTERNAL_H

#include "core/policy.h"

/* A list of names or globs ("set" 0: absent, which allows everything). */
struct policy_list {
	char **v;
	size_t n;
	int set;
	char *where;
};

/* A number limit (set 0: no limit). */
struct policy_num {
	int set;
	double v;
	char *where;
};

struct policy_role {
	char *name;
	char *where;
	struct policy_list users, groups;
	struct policy_list providers, regions, gpu_types, templates;
	struct policy_num max_gpus_per_job, max_gpus_total, max_hourly_cost;
	struct policy_num above_hourly_cost, above_gpus; /* approval: strictly above */
	enum policy_see see;
	int admin, approver;
};

struct policy_team {
	char *name;
	struct policy_list groups;
};

struct policy_class {
	char *name;
	char *where;
	struct policy_list regions, providers;
};

struct policy {
	char *path;
	struct policy_role *roles;
	size_t nroles;
	struct policy_list approvers; /* role names */
	char *default_role;
	char *default_role_where;
	struct policy_team *teams;
	size_t nteams;
	struct policy_class *classes;
	size_t nclasses;
	struct config_budget *budgets;
	size_t nbudgets;
};

/* policy_parse.c */
void policy_list_free(struct policy_list *l);
/* 1 when s matches one of the list's globs (fnmatch). */
int policy_list_match(const struct policy_list *l, const char *s);
/* "a, b, c" (heap). */
char *policy_list_join(const struct policy_list *l);
const struct policy_role *policy_role_find(const struct policy *p, const char *name);

#endif
