/* nospace.h: telling a full disk apart from other write errors, to say so plainly. */
#ifndef GANTRY_NOSPACE_H
#define GANTRY_NOSPACE_H

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

/* 1 when the file system holding path (a file or directory; its directory when it does not
 * exist) has no block or no inode left for an unprivileged writer. */
static inline int nospace_full(const char *path)
{
	struct statvfs vfs;
	char dir[4096];
	const char *slash;

	if (path == NULL)
		return 0;
	if (statvfs(path, &vfs) != 0) {
		slash = strrchr(path, '/');
		if (slash == NULL || slash == path || (size_t)(slash - path) >= sizeof dir)
			return 0;
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
		if (statvfs(dir, &vfs) != 0)
			return 0;
	}
	return vfs.f_bavail == 0 || (vfs.f_files > 0 && vfs.f_favail == 0);
}

#endif
