/* ident.c: identities from the kernel and the system databases (see ident.h). */
#include "core/ident.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/xmalloc.h"

static void ident_add_group(struct ident *id, gid_t g)
{
	struct group gr, *res = NULL;
	char buf[16384];

	for (size_t i = 0; i < id->ngroups; i++) {
		if (id->gids[i] == g)
			return;
	}
	id->groups = xrealloc(id->groups, (id->ngroups + 1) * sizeof *id->groups);
	id->gids = xrealloc(id->gids, (id->ngroups + 1) * sizeof *id->gids);
	id->gids[id->ngroups] = g;
	if (getgrgid_r(g, &gr, buf, sizeof buf, &res) == 0 && res != NULL)
		id->groups[id->ngroups] = xstrdup(gr.gr_name);
	else
		id->groups[id->ngroups] = xprintf("gid-%lu", (unsigned long)g);
	id->ngroups++;
}

int ident_of(uid_t uid, gid_t gid, pid_t pid, struct ident *out, char **cause)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	gid_t gl[256];
	int n = (int)(sizeof gl / sizeof gl[0]);

	memset(out, 0, sizeof *out);
	out->uid = uid;
	out->gid = gid;
	out->pid = pid;
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res != NULL) {
		out->name = xstrdup(pw.pw_name);
		ident_add_group(out, gid);
		if (getgrouplist(pw.pw_name, gid, gl, &n) < 0) {
			xcause(cause, "user %s belongs to more than %d groups", pw.pw_name,
			       (int)(sizeof gl / sizeof gl[0]));
			ident_clear(out);
			return -1;
		}
		for (int i = 0; i < n; i++)
			ident_add_group(out, gl[i]);
	} else {
		out->name = xprintf("uid-%lu", (unsigned long)uid);
		ident_add_group(out, gid);
	}
	return 0;
}

int ident_self(struct ident *out, char **cause)
{
	return ident_of(getuid(), getgid(), getpid(), out, cause);
}

int ident_peer(int fd, struct ident *out, char **cause)
{
	struct ucred cr;
	socklen_t len = sizeof cr;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || len != sizeof cr)
		return xcause(cause, "cannot read the peer's credentials: %s", strerror(errno));
	return ident_of(cr.uid, cr.gid, cr.pid, out, cause);
}

int ident_in_group(const struct ident *id, const char *group)
{
	for (size_t i = 0; i < id->ngroups; i++) {
		if (strcmp(id->groups[i], group) == 0)
			return 1;
	}
	return 0;
}

void ident_copy(struct ident *dst, const struct ident *src)
{
	memset(dst, 0, sizeof *dst);
	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->pid = src->pid;
	dst->name = src->name != NULL ? xstrdup(src->name) : NULL;
	dst->ngroups = src->ngroups;
	if (src->ngroups > 0) {
		dst->groups = xcalloc(src->ngroups, sizeof *dst->groups);
		dst->gids = xcalloc(src->ngroups, sizeof *dst->gids);
		for (size_t i = 0; i < src->ngroups; i++) {
			dst->groups[i] = xstrdup(src->groups[i]);
			dst->gids[i] = src->gids[i];
		}
	}
}

void ident_clear(struct ident *id)
{
	for (size_t i = 0; i < id->ngroups; i++)
		free(id->groups[i]);
	free(id->groups);
	free(id->gids);
	free(id->name);
	memset(id, 0, sizeof *id);
}
