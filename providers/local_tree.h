/* local_tree.h: every process a local job started, including those that left its process
 * group or session (setsid, double fork), so that a stop or max_runtime ends them all.
 *
 * Where a cgroup v2 tree is writable (root, or a delegated subtree), the supervisor puts each
 * job in its own cgroup, a child of the supervisor's own cgroup named gantry-JOB-PID, and
 * records its path in the job directory's `cgroup` file. Nothing started inside can leave
 * it, and `cgroup.kill` ends all of it at once, even from another process once the
 * supervisor is gone. Elsewhere the supervisor is a child subreaper: orphans of the job are
 * re-parented to it, and every process whose parent chain leads to the supervisor is the
 * job's. GANTRY_NO_CGROUP=1 in Gantry's environment turns the cgroup off (tests use it). */
#ifndef GANTRY_LOCAL_TREE_H
#define GANTRY_LOCAL_TREE_H

#include <sys/types.h>

#define LOCAL_ENV_NO_CGROUP "GANTRY_NO_CGROUP"

/* In the supervisor: creates the job's cgroup and checks that a process can be moved into it
 * and back (the supervisor itself, for a moment). Returns its absolute path (heap), or NULL
 * when no cgroup v2 tree is writable here; *why (may be NULL) then gets a heap reason for
 * the supervisor's log. */
char *local_cgroup_create(const char *job_name, char **why);
/* In the job's child before exec: moves the calling process into cgroup cg. 0 or -1 (errno).
 * Only open/write/close. */
int local_cgroup_join(const char *procs_path);
/* 1 while the cgroup holds a process, 0 when empty or gone. */
int local_cgroup_populated(const char *cg);
/* Sends sig to every process of the cgroup (SIGKILL through cgroup.kill where the kernel has
 * it). Returns how many processes were signalled (1 for cgroup.kill on a populated group). */
int local_cgroup_signal(const char *cg, int sig);
/* Removes the (empty) cgroup. */
void local_cgroup_remove(const char *cg);
/* The cgroup recorded in dir/cgroup when it is this job's own cgroup (named gantry-NAME-PID,
 * NAME the last component of dir) under a cgroup2 mount, else NULL. */
char *local_cgroup_of_job(const char *dir);

/* Sends sig to every live process (not zombie) whose parent chain leads to root, root
 * excluded. Returns how many there were. sig 0 only counts. */
int local_tree_signal(pid_t root, int sig);

/* The launcher's settings for the supervisor, appended to its environment vector (heap,
 * NULL-terminated): GANTRY_NO_CGROUP=1 when it is set in ours (whatever the job's environment
 * is), and the job.log cap (LOCAL_ENV_LOG_MAX, bytes) when log_max > 0. */
#define LOCAL_ENV_LOG_MAX "GANTRY_SUPERVISE_LOG_MAX"
char **local_supervisor_env(char **envp, long long log_max);

#endif
