/* job.c: job states and kinds, their names, and the one table of legal transitions. */
#include "core/job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/xmalloc.h"

static const char *const job_state_names[JOB_STATE_COUNT] = {
    [JOB_PENDING] = "PENDING",     [JOB_PROVISIONING] = "PROVISIONING",
    [JOB_STARTING] = "STARTING",   [JOB_RUNNING] = "RUNNING",
    [JOB_SUCCEEDED] = "SUCCEEDED", [JOB_FAILED] = "FAILED",
    [JOB_STOPPING] = "STOPPING",   [JOB_STOPPED] = "STOPPED",
    [JOB_PREEMPTED] = "PREEMPTED", [JOB_RECOVERING] = "RECOVERING",
    [JOB_UNKNOWN] = "UNKNOWN",     [JOB_PENDING_APPROVAL] = "PENDING_APPROVAL",
};

static const char *const job_kind_names[JOB_KIND_COUNT] = {
    [JOB_KIND_NOTEBOOK] = "notebook",
    [JOB_KIND_TRAINING] = "training",
    [JOB_KIND_ENDPOINT] = "endpoint",
};

#define JOB_BIT(s) (1u << (s))

/* Legal targets for each state, as a bit set over enum job_state. */
static const unsigned job_transitions[JOB_STATE_COUNT] = {
    [JOB_PENDING] = JOB_BIT(JOB_PROVISIONING) | JOB_BIT(JOB_FAILED) | JOB_BIT(JOB_STOPPING) |
                    JOB_BIT(JOB_STOPPED),
    [JOB_PROVISIONING] = JOB_BIT(JOB_STARTING) | JOB_BIT(JOB_RUNNING) | JOB_BIT(JOB_FAILED) |
                         JOB_BIT(JOB_STOPPING) | JOB_BIT(JOB_UNKNOWN),
    [JOB_STARTING] = JOB_BIT(JOB_RUNNING) | JOB_BIT(JOB_SUCCEEDED) | JOB_BIT(JOB_FAILED) |
                     JOB_BIT(JOB_STOPPING) | JOB_BIT(JOB_UNKNOWN),
    [JOB_RUNNING] = JOB_BIT(JOB_SUCCEEDED) | JOB_BIT(JOB_FAILED) | JOB_BIT(JOB_STOPPING) |
                    JOB_BIT(JOB_PREEMPTED) | JOB_BIT(JOB_UNKNOWN),
    [JOB_SUCCEEDED] = 0,
    [JOB_FAILED] = 0,
    [JOB_STOPPING] = JOB_BIT(JOB_STOPPED) | JOB_BIT(JOB_FAILED) | JOB_BIT(JOB_UNKNOWN),
    [JOB_STOPPED] = 0,
    [JOB_PREEMPTED] = JOB_BIT(JOB_RECOVERING) | JOB_BIT(JOB_FAILED) | JOB_BIT(JOB_STOPPING) |
                      JOB_BIT(JOB_STOPPED),
    [JOB_RECOVERING] =
        JOB_BIT(JOB_RUNNING) | JOB_BIT(JOB_FAILED) | JOB_BIT(JOB_STOPPING) | JOB_BIT(JOB_UNKNOWN),
    [JOB_UNKNOWN] = JOB_BIT(JOB_STARTING) | JOB_BIT(JOB_RUNNING) | JOB_BIT(JOB_SUCCEEDED) |
                    JOB_BIT(JOB_FAILED) | JOB_BIT(JOB_STOPPING) | JOB_BIT(JOB_STOPPED),
    [JOB_PENDING_APPROVAL] = JOB_BIT(JOB_PENDING) | JOB_BIT(JOB_STOPPED) | JOB_BIT(JOB_FAILED),
};

const char *job_state_name(enum job_state s)
{
	if ((unsigned)s >= JOB_STATE_COUNT)
		return "?";
	return job_state_names[s];
}

const char *job_kind_name(enum job_kind k)
{
	if ((unsigned)k >= JOB_KIND_COUNT)
		return "?";
	return job_kind_names[k];
}

int job_state_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < JOB_STATE_COUNT; i++) {
		if (strcasecmp(name, job_state_names[i]) == 0)
			return i;
	}
	return -1;
}

int job_kind_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < JOB_KIND_COUNT; i++) {
		if (strcasecmp(name, job_kind_names[i]) == 0)
			return i;
	}
	return -1;
}

int job_state_terminal(enum job_state s)
{
	return s == JOB_SUCCEEDED || s == JOB_FAILED || s == JOB_STOPPED;
}

int job_state_active(enum job_state s)
{
	return (unsigned)s < JOB_STATE_COUNT && !job_state_terminal(s);
}

int job_replicas_shown(const struct job *j)
{
	return j->kind == JOB_KIND_ENDPOINT && j->desired_replicas > 0 &&
	       job_state_active(j->state);
}

int job_state_label(const struct job *j, char *buf, size_t size)
{
	if (job_replicas_shown(j))
		return snprintf(buf, size, "%s %d/%d", job_state_name(j->state), j->ready_replicas,
		                j->desired_replicas);
	return snprintf(buf, size, "%s", job_state_name(j->state));
}

int job_reason_shown(const struct job *j)
{
	if (j->reason == NULL || j->reason[0] == '\0' || !job_state_active(j->state) ||
	    strcasecmp(j->reason, job_state_name(j->state)) == 0)
		return 0;
	switch (j->state) {
	case JOB_STARTING:
		/* the engine's own words at launch are no reason to wait */
		return strcmp(j->reason, "started by the provider") != 0;
	case JOB_PENDING:
	case JOB_PROVISIONING:
	case JOB_PREEMPTED:
	case JOB_RECOVERING:
	case JOB_UNKNOWN:
	case JOB_PENDING_APPROVAL:
		return 1;
	default:
		return 0;
	}
}

int job_transition_valid(enum job_state from, enum job_state to)
{
	if ((unsigned)from >= JOB_STATE_COUNT || (unsigned)to >= JOB_STATE_COUNT || from == to)
		return 0;
	return (job_transitions[from] & JOB_BIT(to)) != 0;
}

void job_init(struct job *j)
{
	memset(j, 0, sizeof *j);
	j->kind = JOB_KIND_TRAINING;
	j->state = JOB_PENDING;
	j->owner_uid = -1;
}

void job_clear(struct job *j)
{
	free(j->id);
	free(j->name);
	free(j->template_name);
	free(j->provider);
	free(j->owner);
	free(j->idem_key);
	free(j->params_json);
	free(j->spec_json);
	free(j->provider_ref);
	free(j->reason);
	free(j->url);
	free(j->team);
	free(j->project);
	free(j->region);
	free(j->approval);
	free(j->decided_by);
	free(j->decision_reason);
	free(j->request_json);
	j->approval = j->decided_by = j->decision_reason = j->request_json = NULL;
	j->team = j->project = j->region = NULL;
	j->id = j->name = j->template_name = j->provider = j->owner = NULL;
	j->idem_key = j->params_json = j->spec_json = j->provider_ref = NULL;
	j->reason = j->url = NULL;
}

static char *job_dup(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

/* dst must be initialised (or cleared); its old strings are not freed. */
void job_copy(struct job *dst, const struct job *src)
{
	*dst = *src;
	dst->id = job_dup(src->id);
	dst->name = job_dup(src->name);
	dst->template_name = job_dup(src->template_name);
	dst->provider = job_dup(src->provider);
	dst->owner = job_dup(src->owner);
	dst->idem_key = job_dup(src->idem_key);
	dst->params_json = job_dup(src->params_json);
	dst->spec_json = job_dup(src->spec_json);
	dst->provider_ref = job_dup(src->provider_ref);
	dst->reason = job_dup(src->reason);
	dst->url = job_dup(src->url);
	dst->team = job_dup(src->team);
	dst->project = job_dup(src->project);
	dst->region = job_dup(src->region);
	dst->approval = job_dup(src->approval);
	dst->decided_by = job_dup(src->decided_by);
	dst->decision_reason = job_dup(src->decision_reason);
	dst->request_json = job_dup(src->request_json);
}

void job_list_free(struct job_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		job_clear(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

void job_event_list_free(struct job_event_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].job_id);
		free(l->items[i].reason);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* Eight random bytes; getrandom() first, a clock/pid mix only if it is unavailable. */
static uint64_t job_random64(void)
{
	uint64_t v;
	ssize_t n;

	do
		n = getrandom(&v, sizeof v, 0);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof v)
		return v;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	v = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec * 0x9e3779b97f4a7c15ull ^
	    (uint64_t)getpid() << 32;
	v ^= v >> 31;
	v *= 0xbf58476d1ce4e5b9ull;
	v ^= v >> 29;
	return v;
}

char *job_new_id(void)
{
	return xprintf("j%016llx", (unsigned long long)job_random64());
}

int job_id_like(const char *s)
{
	size_t n;

	if (s == NULL || s[0] != 'j')
		return 0;
	n = strspn(s + 1, "0123456789abcdef");
	return n >= JOB_ID_MIN_PREFIX - 1 && s[1 + n] == '\0';
}

int job_id_short(const char *id, char *buf, size_t len)
{
	size_t n = id != NULL ? strlen(id) : 0;

	if (n > JOB_ID_SHORT)
		n = JOB_ID_SHORT;
	return snprintf(buf, len, "%.*s", (int)n, id != NULL ? id : "");
}
