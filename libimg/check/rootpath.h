/* Looking up paths from images under a root folder (private to libimg's checks). */
#ifndef CHECK_ROOTPATH_H
#define CHECK_ROOTPATH_H

#include <sys/stat.h>

struct ck_lookup {
	int fd;             /* O_PATH fd of what the path names, or -1 */
	int parent_fd;      /* O_PATH fd of the folder it is (or would be) in, or -1 */
	struct stat st;     /* of fd */
	int via_link;       /* a symlink was followed on the way */
	int missing_last;   /* the lookup stopped at the last component */
	char stopped[256];  /* the component the lookup stopped at */
};

/*
 * Resolve path under rootfd; nofollow: do not follow a symlink in the last
 * component.  0, or -errno (ENOENT: lk->stopped names what is missing, and
 * parent_fd is set when only the last component is).
 */
int ck_root_open(int rootfd, const char *path, int nofollow, struct ck_lookup *lk);
void ck_lookup_done(struct ck_lookup *lk);
/* Open an O_PATH fd for reading through /proc/self/fd. */
int ck_fd_reopen(int opath_fd, int flags);

#endif
