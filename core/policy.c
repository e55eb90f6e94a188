/* policy.c: CONTRACT STUB (issue 12): no file is ever loaded and everything is allowed.
 * The policy engineer replaces this file. */
#include "core/policy.h"

#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"

int policy_load(const char *path, struct policy **out, char **cause)
{
	(void)path;
	(void)cause;
	*out = NULL;
	return 0;
}

int policy_parse(const char *text, size_t len, const char *name, struct policy **out,
                 char **cause)
{
	(void)text;
	(void)len;
	(void)name;
	*out = NULL;
	return xcause(cause, "policy parsing is not implemented yet");
}

void policy_free(struct policy *p)
{
	(void)p;
}

const char *policy_path(const struct policy *p)
{
	(void)p;
	return NULL;
}

const char *policy_role(const struct policy *p, const struct ident *who)
{
	(void)p;
	(void)who;
	return NULL;
}

int policy_is_admin(const struct policy *p, const struct ident *who)
{
	(void)p;
	return who->uid == 0;
}

int policy_is_approver(const struct policy *p, const struct ident *who)
{
	(void)p;
	return who->uid == 0;
}

enum policy_see policy_sees(const struct policy *p, const struct ident *who)
{
	(void)p;
	(void)who;
	return POLICY_SEE_OWN;
}

char *policy_team(const struct policy *p, const struct ident *who)
{
	(void)p;
	(void)who;
	return NULL;
}

const struct config_budget *policy_budgets(const struct policy *p, size_t *n)
{
	(void)p;
	*n = 0;
	return NULL;
}

void policy_evaluate(const struct policy *p, const struct ident *who,
                     const struct policy_launch *l, struct policy_verdict *out)
{
	(void)p;
	(void)who;
	(void)l;
	memset(out, 0, sizeof *out);
	out->allowed = 1;
}

void policy_verdict_clear(struct policy_verdict *v)
{
	for (size_t i = 0; i < v->nhits; i++) {
		free(v->hits[i].rule);
		free(v->hits[i].where);
		free(v->hits[i].text);
	}
	free(v->hits);
	free(v->role);
	free(v->reason);
	free(v->rule);
	memset(v, 0, sizeof *v);
}
