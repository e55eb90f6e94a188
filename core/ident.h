/* ident.h: who is asking, as the kernel says: the process's own uid (embedded mode) or the
 * peer of a Unix socket (SO_PEERCRED, gantryd). The name and the groups come from the
 * system's user and group databases, never from the environment ($USER, $LOGNAME) nor from
 * anything a client sends. */
#ifndef GANTRY_IDENT_H
#define GANTRY_IDENT_H

#include <stddef.h>
#include <sys/types.h>

struct ident {
	uid_t uid;
	gid_t gid;     /* primary group */
	pid_t pid;     /* the peer's pid (SO_PEERCRED), or this process's */
	char *name;    /* login name, or "uid-N" when the uid has no passwd entry */
	char **groups; /* every group name the user belongs to, primary first (no duplicates) */
	gid_t *gids;   /* parallel to groups */
	size_t ngroups;
};

/* This process's real uid and gid. */
int ident_self(struct ident *out, char **cause);
/* The peer of a connected AF_UNIX socket (SO_PEERCRED). */
int ident_peer(int fd, struct ident *out, char **cause);
/* A uid and primary gid, with name and groups from the system. */
int ident_of(uid_t uid, gid_t gid, pid_t pid, struct ident *out, char **cause);
/* 1 when the user belongs to the group named group. */
int ident_in_group(const struct ident *id, const char *group);
void ident_copy(struct ident *dst, const struct ident *src);
void ident_clear(struct ident *id);

#endif
