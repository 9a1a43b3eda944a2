/*
 * Looking up paths from images under a root folder as if it were "/":
 * ".." stops at the root and absolute symlinks start again from it, so that
 * nothing an image names can lead out of the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/source.h"
#include "rootpath.h"

#define MAX_DEPTH 256
#define MAX_LINKS 40

static void pop_all(int *stack, int *depth)
{
	while (*depth > 0)
		close(stack[(*depth)--]);
}

int ck_root_open(int rootfd, const char *path, int nofollow, struct ck_lookup *lk)
{
	char work[2 * PATH_MAX], link[PATH_MAX];
	int stack[MAX_DEPTH + 1];
	int depth = 0, links = 0, r = 0;
	size_t done = 0;

	memset(lk, 0, sizeof(*lk));
	lk->fd = -1;
	lk->parent_fd = -1;
	if (strlen(path) >= sizeof(work))
		return -ENAMETOOLONG;
	strcpy(work, path);
	stack[0] = rootfd;
	while (work[done]) {
		char *c = work + done, *slash;
		int last, fd;
		struct stat st;

		while (*c == '/')
			c++;
		if (!*c)
			break;
		slash = strchr(c, '/');
		if (slash)
			*slash = 0;
		done = slash ? (size_t)(slash + 1 - work) : strlen(work);
		last = !slash || !work[done + strspn(work + done, "/")];
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			if (depth > 0)
				close(stack[depth--]);
			continue;
		}
		fd = openat(stack[depth], c, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			snprintf(lk->stopped, sizeof(lk->stopped), "%s", c);
			lk->missing_last = last;
			if (r == -ENOENT && last) {
				/* the folder it would be in exists */
				lk->parent_fd = depth ? stack[depth] : dup(rootfd);
				if (depth)
					depth--;
			}
			break;
		}
		if (fstat(fd, &st) < 0) {
			r = -errno;
			close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode) && !(last && nofollow)) {
			ssize_t n = readlinkat(fd, "", link, sizeof(link) - 1);
			char rest[2 * PATH_MAX];

			close(fd);
			if (n < 0) {
				r = -errno;
				break;
			}
			link[n] = 0;
			if (++links > MAX_LINKS) {
				r = -ELOOP;
				break;
			}
			lk->via_link = 1;
			if (snprintf(rest, sizeof(rest), "%s/%s", link, work + done) >= (int)sizeof(rest)) {
				r = -ENAMETOOLONG;
				break;
			}
			strcpy(work, rest);
			done = 0;
			if (link[0] == '/')
				pop_all(stack, &depth);
			continue;
		}
		if (last) {
			lk->fd = fd;
			lk->st = st;
			lk->parent_fd = depth ? stack[depth] : dup(rootfd);
			if (depth)
				depth--;
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			snprintf(lk->stopped, sizeof(lk->stopped), "%s", c);
			r = -ENOTDIR;
			break;
		}
		if (depth == MAX_DEPTH) {
			close(fd);
			r = -ENAMETOOLONG;
			break;
		}
		stack[++depth] = fd;
	}
	if (!r && lk->fd < 0) {
		/* the path ended in "." or "..": it names the folder reached, or the root itself */
		lk->fd = depth ? stack[depth--] : dup(rootfd);
		lk->parent_fd = depth ? stack[depth--] : dup(rootfd);
		if (lk->fd < 0 || fstat(lk->fd, &lk->st) < 0)
			r = -errno;
	}
	pop_all(stack, &depth);
	return r;
}

void ck_lookup_done(struct ck_lookup *lk)
{
	if (lk->fd >= 0)
		close(lk->fd);
	if (lk->parent_fd >= 0)
		close(lk->parent_fd);
	lk->fd = lk->parent_fd = -1;
}

int ck_fd_reopen(int opath_fd, int flags)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/self/fd/%d", opath_fd);
	return open(p, flags | O_CLOEXEC);
}

int img_src_open_under(const char *root, const char *path, struct img_src **out, struct img_err *err)
{
	struct ck_lookup lk;
	char name[PATH_MAX];
	int rootfd, fd, r;

	img_err_subject(err, path);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return img_err_set(err, errno, "the root folder '%s': %s", root, strerror(errno));
	r = ck_root_open(rootfd, path, 0, &lk);
	close(rootfd);
	if (!r && !S_ISREG(lk.st.st_mode))
		r = -EINVAL;
	fd = r ? -1 : ck_fd_reopen(lk.fd, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	ck_lookup_done(&lk);
	if (r == -EINVAL)
		return img_err_set(err, EINVAL, "not a regular file under '%s'", root);
	if (r)
		return img_err_set(err, -r, "%s under '%s'", strerror(-r), root);
	if (fd < 0)
		return img_err_set(err, errno, "%s", strerror(errno));
	/* the source is named for the path as the image gives it, read through the fd resolved */
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	r = img_src_open(name, out, err);
	close(fd);
	if (!r) {
		char *n = img_strdup(path);

		if (!n) {
			img_src_unref(*out);
			return img_err_set(err, ENOMEM, "out of memory");
		}
		img_free((*out)->name);
		(*out)->name = n;
	}
	img_err_subject(err, path);
	return r;
}
