/* safefile.h: trusted directories, and files created exclusively, never through a symlink.
 * Gantry keeps tokens, job scripts and its store in directories that no other local user may
 * write: a directory is trusted when it is owned by this user and not writable by group or
 * others, and every directory above it (as written and as resolved) is owned by this user or
 * root and not writable by group or others unless it is sticky (/tmp). Files in them are
 * created with O_CREAT|O_EXCL|O_NOFOLLOW, so nothing planted there is reused or followed.
 * Errors: -1 and a heap *cause (one line naming the path and the command that fixes it). */
#ifndef GANTRY_SAFEFILE_H
#define GANTRY_SAFEFILE_H

#include <sys/types.h>

/* 0 when dir is a trusted directory (see above); -1 with cause when not, or when it cannot be
 * checked (a missing dir is an error). */
int safefile_trust_dir(const char *dir, char **cause);
/* 0 when path is a regular file (not a symlink) owned by this user and not writable by group
 * or others, in a trusted directory; -1 with cause. */
int safefile_trust_file(const char *path, char **cause);
/* mkdir -p with mode 0700 for what it creates (an existing directory is fine: check it with
 * safefile_trust_dir). */
int safefile_mkdirs(const char *path, char **cause);
/* Creates the directory path with mode; an existing one (or a symlink) is an error. */
int safefile_mkdir_new(const char *path, mode_t mode, char **cause);
/* Creates path exclusively and never through a symlink: open(path, flags | O_CREAT | O_EXCL |
 * O_NOFOLLOW | O_CLOEXEC, mode). Returns the fd, or -1 with cause (EEXIST: it already
 * exists). errno is kept from open. */
int safefile_create(const char *path, int flags, mode_t mode, char **cause);
/* 0 when path does not exist or is not a symlink; -1 with cause when it is one. */
int safefile_no_symlink(const char *path, char **cause);

#endif
