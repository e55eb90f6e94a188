/* policy.c: answers from a parsed policy (core/policy_parse.c): whose role, admin, approver,
 * team, and the verdict on one launch with every rule looked at. Evaluation order (each
 * rule is one hit; the first refusal decides, the rest are still listed for explain):
 * the role; templates; providers; regions; gpu_types; max_gpus_per_job; max_gpus_total;
 * max_hourly_cost; the data classification's providers and regions; then, when allowed,
 * the approval thresholds (strictly above). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy_internal.h"
#include "core/xmalloc.h"

const char *policy_path(const struct policy *p)
{
	return p != NULL ? p->path : NULL;
}

static int policy_role_has(const struct policy_role *r, const struct ident *who)
{
	for (size_t i = 0; i < r->users.n; i++)
		if (who->name != NULL && strcmp(r->users.v[i], who->name) == 0)
			return 1;
	for (size_t i = 0; i < r->groups.n; i++)
		for (size_t g = 0; g < who->ngroups; g++)
			if (strcmp(r->groups.v[i], who->groups[g]) == 0)
				return 1;
	return 0;
}

static const struct policy_role *policy_role_of(const struct policy *p, const struct ident *who)
{
	for (size_t i = 0; i < p->nroles; i++)
		if (policy_role_has(&p->roles[i], who))
			return &p->roles[i];
	return p->default_role != NULL ? policy_role_find(p, p->default_role) : NULL;
}

const char *policy_role(const struct policy *p, const struct ident *who)
{
	const struct policy_role *r = p != NULL ? policy_role_of(p, who) : NULL;

	return r != NULL ? r->name : NULL;
}

int policy_is_admin(const struct policy *p, const struct ident *who)
{
	const struct policy_role *r;

	if (who->uid == 0)
		return 1; /* root can edit the policy anyway */
	if (p == NULL)
		return 0;
	r = policy_role_of(p, who);
	return r != NULL && r->admin;
}

int policy_is_approver(const struct policy *p, const struct ident *who)
{
	const struct policy_role *r;

	if (p == NULL)
		return who->uid == 0;
	r = policy_role_of(p, who);
	if (r == NULL)
		return 0;
	for (size_t i = 0; i < p->approvers.n; i++)
		if (strcmp(p->approvers.v[i], r->name) == 0)
			return 1;
	return r->approver;
}

enum policy_see policy_sees(const struct policy *p, const struct ident *who)
{
	const struct policy_role *r;

	if (policy_is_admin(p, who))
		return POLICY_SEE_ALL;
	r = p != NULL ? policy_role_of(p, who) : NULL;
	return r != NULL ? r->see : POLICY_SEE_OWN;
}

char *policy_team(const struct policy *p, const struct ident *who)
{
	if (p == NULL)
		return NULL;
	for (size_t t = 0; t < p->nteams; t++)
		for (size_t i = 0; i < p->teams[t].groups.n; i++)
			for (size_t g = 0; g < who->ngroups; g++)
				if (strcmp(p->teams[t].groups.v[i], who->groups[g]) == 0)
					return xstrdup(p->teams[t].name);
	return NULL;
}

const struct config_budget *policy_budgets(const struct policy *p, size_t *n)
{
	*n = p != NULL ? p->nbudgets : 0;
	return p != NULL ? p->budgets : NULL;
}

/* --- evaluation */

struct peval {
	struct policy_verdict *v;
	size_t cap;
};

/* Records one hit; the first refusal becomes the verdict's reason ("WHERE RULE: TEXT;
 * allowed: ALLOW"). */
static void peval_hit(struct peval *x, const char *rule, const char *where, int allow,
                      const char *instead, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static void peval_hit(struct peval *x, const char *rule, const char *where, int allow,
                      const char *instead, const char *fmt, ...)
{
	struct policy_verdict *v = x->v;
	struct policy_hit *h;
	va_list ap;

	if (v->nhits == x->cap) {
		x->cap = x->cap == 0 ? 12 : x->cap * 2;
		v->hits = xreallocarray(v->hits, x->cap, sizeof *v->hits);
	}
	h = &v->hits[v->nhits++];
	va_start(ap, fmt);
	h->text = xvprintf(fmt, ap);
	va_end(ap);
	h->rule = xstrdup(rule);
	h->where = xstrdup(where != NULL ? where : "");
	h->allow = allow;
	if (!allow && v->allowed) {
		v->allowed = 0;
		v->rule = xstrdup(rule);
		v->reason = instead != NULL ? xprintf("%s %s: %s; allowed: %s", h->where, rule,
		                                      h->text, instead)
		                            : xprintf("%s %s: %s", h->where, rule, h->text);
	}
}

/* A glob list rule on one value. */
static void peval_list(struct peval *x, const char *prefix, const char *key,
                       const struct policy_list *l, const char *what, const char *value)
{
	char rule[256];
	char *all;
	int ok;

	if (!l->set)
		return;
	snprintf(rule, sizeof rule, "%s.%s", prefix, key);
	ok = policy_list_match(l, value);
	all = policy_list_join(l);
	peval_hit(x, rule, l->where, ok, all, "%s %s is %sin [%s]", what,
	          value[0] != '\0' ? value : "(none)", ok ? "" : "not ", all);
	free(all);
}

static void peval_max(struct peval *x, const char *prefix, const char *key,
                      const struct policy_num *n, double value, int money, const char *what)
{
	char rule[256];
	int ok = value <= n->v;

	if (!n->set)
		return;
	snprintf(rule, sizeof rule, "%s.%s", prefix, key);
	if (money) {
		char instead[64];

		snprintf(instead, sizeof instead, "at most $%.2f/h", n->v);
		peval_hit(x, rule, n->where, ok, instead, "%s $%.2f/h is %s the limit $%.2f/h",
		          what, value, ok ? "within" : "above", n->v);
	} else {
		char instead[64];

		snprintf(instead, sizeof instead, "at most %.0f GPUs", n->v);
		peval_hit(x, rule, n->where, ok, instead, "%s %.0f GPUs %s the limit of %.0f", what,
		          value, ok ? "are within" : "exceed", n->v);
	}
}

static char *policy_groups_text(const struct ident *who)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < who->ngroups; i++)
		len += strlen(who->groups[i]) + 2;
	s = xmalloc(len);
	s[0] = '\0';
	for (size_t i = 0; i < who->ngroups; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, who->groups[i]);
	}
	return s;
}

void policy_evaluate(const struct policy *p, const struct ident *who, const struct policy_launch *l,
                     struct policy_verdict *out)
{
	struct peval x = {.v = out};
	const struct policy_role *r;
	const char *region = l->region != NULL ? l->region : "";
	char prefix[160];

	memset(out, 0, sizeof *out);
	out->allowed = 1;
	if (p == NULL)
		return;
	r = policy_role_of(p, who);
	if (r == NULL) {
		char *groups = policy_groups_text(who);
		char *where = xprintf("%s", p->path);

		peval_hit(&x, "roles", where, 0, NULL, "no role in %s for user %s (groups: %s)",
		          p->path, who->name != NULL ? who->name : "?", groups);
		free(groups);
		free(where);
		return;
	}
	out->role = xstrdup(r->name);
	peval_hit(&x, "roles", r->where, 1, NULL, "user %s has role %s",
	          who->name != NULL ? who->name : "?", r->name);
	snprintf(prefix, sizeof prefix, "roles.%s", r->name);
	peval_list(&x, prefix, "templates", &r->templates, "template",
	           l->template_name != NULL ? l->template_name : "");
	peval_list(&x, prefix, "providers", &r->providers, "provider",
	           l->provider != NULL ? l->provider : "");
	peval_list(&x, prefix, "regions", &r->regions, "region", region);
	if (l->gpu_type != NULL && l->gpus > 0)
		peval_list(&x, prefix, "gpu_types", &r->gpu_types, "GPU type", l->gpu_type);
	peval_max(&x, prefix, "max_gpus_per_job", &r->max_gpus_per_job, l->gpus, 0, "the job's");
	if (r->max_gpus_total.set)
		peval_max(&x, prefix, "max_gpus_total", &r->max_gpus_total,
		          (double)l->gpus_in_use + l->gpus, 0, "the GPUs in use plus this job's:");
	if (r->max_hourly_cost.set) {
		if (l->priced)
			peval_max(&x, prefix, "max_hourly_cost", &r->max_hourly_cost,
			          l->hourly_cost, 1, "the job's price");
		else {
			char rule[200];

			snprintf(rule, sizeof rule, "%s.max_hourly_cost", prefix);
			peval_hit(&x, rule, r->max_hourly_cost.where, 1, NULL,
			          "the offer has no price (no cost is counted)");
		}
	}
	if (l->classification != NULL)
		for (size_t i = 0; i < p->nclasses; i++) {
			const struct policy_class *c = &p->classes[i];
			char cp[160];

			if (strcmp(c->name, l->classification) != 0)
				continue;
			snprintf(cp, sizeof cp, "classifications.%s", c->name);
			peval_list(&x, cp, "providers", &c->providers, "provider",
			           l->provider != NULL ? l->provider : "");
			peval_list(&x, cp, "regions", &c->regions, "region", region);
		}
	if (!out->allowed)
		return;
	if (r->above_hourly_cost.set && l->priced) {
		int over = l->hourly_cost > r->above_hourly_cost.v;
		char rule[200];

		snprintf(rule, sizeof rule, "%s.approval.above_hourly_cost", prefix);
		peval_hit(&x, rule, r->above_hourly_cost.where, 1, NULL,
		          "$%.2f/h is %s %s $%.2f/h%s", l->hourly_cost, over ? "above" : "within",
		          rule, r->above_hourly_cost.v, over ? ": needs approval" : "");
		if (over && !out->needs_approval) {
			out->needs_approval = 1;
			out->reason =
			    xprintf("$%.2f/h is above %s $%.2f/h (%s)", l->hourly_cost, rule,
			            r->above_hourly_cost.v, r->above_hourly_cost.where);
		}
	}
	if (r->above_gpus.set) {
		int over = l->gpus > r->above_gpus.v;
		char rule[200];

		snprintf(rule, sizeof rule, "%s.approval.above_gpus", prefix);
		peval_hit(&x, rule, r->above_gpus.where, 1, NULL, "%d GPUs %s %s %.0f%s", l->gpus,
		          over ? "is above" : "is within", rule, r->above_gpus.v,
		          over ? ": needs approval" : "");
		if (over && !out->needs_approval) {
			out->needs_approval = 1;
			out->reason = xprintf("%d GPUs are above %s %.0f (%s)", l->gpus, rule,
			                      r->above_gpus.v, r->above_gpus.where);
		}
	}
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
