/* local_tree.c: finding and signalling every process of a local job (see local_tree.h). */
#include "providers/local_tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "core/xmalloc.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define LOCAL_TREE_MAX_DEPTH 512 /* parent links followed from one process */

/* Reads a small file (at most 64 KiB) into a heap string; NULL if it cannot. */
static char *local_tree_slurp(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			if (cap >= 65536)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* Writes text to path (an existing cgroup interface file). 0 or -1 (errno). */
static int local_tree_put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	int err;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	err = errno;
	close(fd);
	errno = err;
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The mount point of the cgroup2 tree and this process's cgroup path inside it, joined
 * (heap), or NULL. */
static char *local_cgroup_self(char **why)
{
	char *info = local_tree_slurp("/proc/self/mountinfo");
	char *cgs = local_tree_slurp("/proc/self/cgroup");
	char *mnt = NULL, *root = NULL, *path = NULL, *out = NULL, *line, *save = NULL;

	if (info == NULL || cgs == NULL) {
		xcause(why, "cannot read /proc/self/mountinfo or /proc/self/cgroup");
		goto done;
	}
	for (line = strtok_r(info, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char r[4096], m[4096], fs[64];
		const char *dash = strstr(line, " - ");

		if (dash == NULL || sscanf(dash, " - %63s", fs) != 1 || strcmp(fs, "cgroup2") != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %4095s %4095s", r, m) != 2 || strchr(m, '\\') != NULL)
			continue;
		mnt = xstrdup(m);
		root = xstrdup(r);
		break;
	}
	if (mnt == NULL) {
		xcause(why, "no cgroup2 file system is mounted");
		goto done;
	}
	save = NULL;
	for (line = strtok_r(cgs, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "0::", 3) == 0) {
			path = line + 3;
			break;
		}
	}
	if (path == NULL || path[0] != '/' || strstr(path, " (deleted)") != NULL) {
		xcause(why, "this process has no cgroup2 path");
		goto done;
	}
	if (strcmp(root, "/") != 0) {
		size_t n = strlen(root);

		if (strncmp(path, root, n) != 0 || (path[n] != '/' && path[n] != '\0')) {
			xcause(why, "our cgroup %s is outside the cgroup2 mount at %s", path, mnt);
			goto done;
		}
		path += n;
	}
	out = xprintf("%s%s", mnt, strcmp(path, "/") == 0 ? "" : path);
done:
	free(info);
	free(cgs);
	free(mnt);
	free(root);
	return out;
}

char *local_cgroup_create(const char *job_name, char **why)
{
	char *self, *cg, *procs, *back, pid[32];

	self = local_cgroup_self(why);
	if (self == NULL)
		return NULL;
	cg = xprintf("%s/gantry-%s-%ld", self, job_name, (long)getpid());
	if (mkdir(cg, 0755) != 0) {
		xcause(why, "cannot create cgroup %s: %s", cg, strerror(errno));
		free(self);
		free(cg);
		return NULL;
	}
	/* Can a process be moved in (the job) and out (ourselves, back)? */
	snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	procs = xprintf("%s/cgroup.procs", cg);
	back = xprintf("%s/cgroup.procs", self);
	if (local_tree_put(procs, pid) != 0) {
		xcause(why, "cannot move a process into cgroup %s: %s", cg, strerror(errno));
		rmdir(cg);
		free(cg);
		cg = NULL;
	} else if (local_tree_put(back, pid) != 0) {
		xcause(why, "cannot move a process back to cgroup %s: %s", self, strerror(errno));
		free(cg); /* we are stuck in it: never kill it */
		cg = NULL;
	}
	free(procs);
	free(back);
	free(self);
	return cg;
}

int local_cgroup_join(const char *procs_path)
{
	int fd = open(procs_path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	int err;

	if (fd < 0)
		return -1;
	n = write(fd, "0\n", 2);
	err = errno;
	close(fd);
	errno = err;
	return n == 2 ? 0 : -1;
}

int local_cgroup_populated(const char *cg)
{
	char *path = xprintf("%s/cgroup.events", cg);
	char *text = local_tree_slurp(path);
	const char *p;
	int rc = 0;

	free(path);
	if (text == NULL)
		return 0;
	p = strstr(text, "populated ");
	if (p != NULL)
		rc = p[10] == '1';
	free(text);
	return rc;
}

int local_cgroup_signal(const char *cg, int sig)
{
	char *path, *text, *line, *save = NULL;
	int n = 0;

	if (sig == SIGKILL && local_cgroup_populated(cg)) {
		path = xprintf("%s/cgroup.kill", cg);
		if (local_tree_put(path, "1\n") == 0) {
			free(path);
			return 1;
		}
		free(path);
	}
	path = xprintf("%s/cgroup.procs", cg);
	text = local_tree_slurp(path);
	free(path);
	if (text == NULL)
		return 0;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		long pid = strtol(line, NULL, 10);

		if (pid > 1 && kill((pid_t)pid, sig) == 0)
			n++;
	}
	free(text);
	return n;
}

void local_cgroup_remove(const char *cg)
{
	if (cg != NULL)
		rmdir(cg);
}

char *local_cgroup_of_job(const char *dir)
{
	char *path = xprintf("%s/cgroup", dir);
	char *text = local_tree_slurp(path), *want;
	const char *base, *name;
	struct statfs fs;
	int ok;

	free(path);
	if (text == NULL)
		return NULL;
	text[strcspn(text, "\n")] = '\0';
	base = strrchr(text, '/');
	/* The job can write this file: only a cgroup named for this very job (gantry-NAME-PID,
	 * NAME the job directory's name, as local_cgroup_create made it) is believed, never
	 * another job's or any other cgroup of the user's. */
	name = strrchr(dir, '/');
	name = name != NULL ? name + 1 : dir;
	want = xprintf("gantry-%s-", name);
	ok = text[0] == '/' && strstr(text, "/..") == NULL && base != NULL &&
	     strncmp(base + 1, want, strlen(want)) == 0;
	if (ok) {
		const char *digits = base + 1 + strlen(want);

		ok = digits[0] != '\0' && digits[strspn(digits, "0123456789")] == '\0';
	}
	free(want);
	if (!ok || statfs(text, &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- descendants through the parent chain ---- */

struct local_tree_proc {
	pid_t pid, ppid;
	char state;
};

static int local_tree_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct local_tree_proc *)a)->pid;
	pid_t y = ((const struct local_tree_proc *)b)->pid;

	return (x > y) - (x < y);
}

/* pid, parent and state of /proc/PID/stat; -1 if gone. */
static int local_tree_stat(const char *name, struct local_tree_proc *out)
{
	char path[64], buf[1024], st;
	const char *p;
	long ppid;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%s/stat", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (p == NULL || sscanf(p + 1, " %c %ld", &st, &ppid) != 2)
		return -1;
	out->pid = (pid_t)strtol(name, NULL, 10);
	out->ppid = (pid_t)ppid;
	out->state = st;
	return 0;
}

int local_tree_signal(pid_t root, int sig)
{
	DIR *d = opendir("/proc");
	struct local_tree_proc *procs = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0;
	int count = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (n == cap) {
			cap = cap == 0 ? 256 : cap * 2;
			procs = xreallocarray(procs, cap, sizeof *procs);
		}
		if (local_tree_stat(de->d_name, &procs[n]) == 0)
			n++;
	}
	closedir(d);
	if (n > 0)
		qsort(procs, n, sizeof *procs, local_tree_cmp);
	for (size_t i = 0; i < n; i++) {
		pid_t up = procs[i].ppid;

		if (procs[i].pid == root || procs[i].state == 'Z' || procs[i].state == 'X')
			continue;
		for (int depth = 0; up > 1 && up != root && depth < LOCAL_TREE_MAX_DEPTH; depth++) {
			struct local_tree_proc key = {.pid = up}, *parent;

			parent = bsearch(&key, procs, n, sizeof *procs, local_tree_cmp);
			up = parent != NULL ? parent->ppid : 0;
		}
		if (up == root && (sig == 0 || kill(procs[i].pid, sig) == 0))
			count++;
	}
	free(procs);
	return count;
}

/* Appends NAME=VALUE to envp (heap, NULL-terminated) unless NAME is there already. */
static char **local_tree_env_add(char **envp, const char *name, const char *value)
{
	size_t n = 0, len = strlen(name);

	for (; envp[n] != NULL; n++)
		if (strncmp(envp[n], name, len) == 0 && envp[n][len] == '=')
			return envp;
	envp = xreallocarray(envp, n + 2, sizeof *envp);
	envp[n] = xprintf("%s=%s", name, value);
	envp[n + 1] = NULL;
	return envp;
}

char **local_supervisor_env(char **envp, long long log_max)
{
	const char *off = getenv(LOCAL_ENV_NO_CGROUP);
	char buf[32];

	if (envp == NULL)
		return envp;
	if (off != NULL && off[0] != '\0' && strcmp(off, "0") != 0)
		envp = local_tree_env_add(envp, LOCAL_ENV_NO_CGROUP, "1");
	if (log_max > 0) {
		snprintf(buf, sizeof buf, "%lld", log_max);
		envp = local_tree_env_add(envp, LOCAL_ENV_LOG_MAX, buf);
	}
	return envp;
}
