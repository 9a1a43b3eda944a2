/*
 * Unpacking an archive into a new folder.  The archive has passed every check
 * of img_archive_open before anything is written; even so every file is made
 * with openat() relative to folders opened with O_NOFOLLOW, symlinks come
 * last (so no later member can go through one), and the tree is built under
 * a temporary name that is renamed only when complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../priv.h"
#include "internal.h"

#define CHUNK ((size_t)1 << 20)

/* Open the folder path (canonical, relative to top), making what is missing; never through a symlink. */
static int open_dirs(int top, const char *path, int make, struct img_err *err)
{
	char comp[256];
	const char *p = path;
	int fd = dup(top);

	while (fd >= 0 && *p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		int nfd;

		if (n >= sizeof(comp)) {
			close(fd);
			return img_err_set(err, ENAMETOOLONG, "'%s': a name component is too long", path);
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		if (make && mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			int er = errno;

			close(fd);
			return img_err_set(err, er, "cannot make the folder '%s': %s", path, strerror(er));
		}
		nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd < 0)
			return img_err_set(err, errno, "cannot open the folder '%s': %s", path, strerror(errno));
		fd = nfd;
		p += n;
		if (*p == '/')
			p++;
	}
	if (fd < 0)
		return img_err_set(err, errno, "%s", strerror(errno));
	return fd;
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int put_file(struct img_archive *a, int top, const struct img_tar_member *m, uint8_t **chunk,
		    struct img_err *err)
{
	char dir[IMG_TAR_NAME_MAX + 2];
	struct img_src *s = NULL;
	int dfd, fd, r, w = 0;

	img_tar_path_dir(m->path, dir, sizeof(dir));
	dfd = open_dirs(top, dir, 1, err);
	if (dfd < 0)
		return dfd;
	fd = openat(dfd, base_of(m->path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    m->mode & 0111 ? 0755 : 0644);
	close(dfd);
	if (fd < 0)
		return img_err_set(err, errno, "cannot create '%s': %s", m->path, strerror(errno));
	r = img_archive_src(a, m, &s, err);
	if (!r && s->data) {
		w = write_all(fd, s->data, s->size);
	} else if (!r) {
		/* a large member of a tar.gz: read on in order, the cursor inflates each byte once */
		if (!*chunk && !(*chunk = img_malloc(CHUNK)))
			r = img_err_set(err, ENOMEM, "out of memory");
		for (uint64_t off = 0; !r && !w && off < m->size; off += CHUNK) {
			size_t n = m->size - off < CHUNK ? (size_t)(m->size - off) : CHUNK;

			r = img_src_pread(s, *chunk, n, off, err);
			if (!r)
				w = write_all(fd, *chunk, n);
		}
	}
	img_src_unref(s);
	if (!r && w)
		r = img_err_set(err, -w, "cannot write '%s': %s", m->path, strerror(-w));
	if (!r) {
		struct timespec t[2] = { { (time_t)m->mtime, 0 }, { (time_t)m->mtime, 0 } };

		futimens(fd, t);
	}
	if (close(fd) < 0 && !r)
		r = img_err_set(err, errno, "cannot write '%s': %s", m->path, strerror(errno));
	return r;
}

static int put_symlink(int top, const struct img_tar_member *m, struct img_err *err)
{
	char dir[IMG_TAR_NAME_MAX + 2];
	int dfd, r = 0;

	img_tar_path_dir(m->path, dir, sizeof(dir));
	dfd = open_dirs(top, dir, 1, err);
	if (dfd < 0)
		return dfd;
	if (symlinkat(m->link, dfd, base_of(m->path)) < 0)
		r = img_err_set(err, errno, "cannot make the symlink '%s': %s", m->path, strerror(errno));
	close(dfd);
	return r;
}

static int empty_dir(const char *path)
{
	char **names;
	size_t n = 0;

	if (img_listdir_path(path, &names, &n))
		return 0; /* cannot tell: not taken as empty */
	img_listdir_free(names, n);
	return n == 0;
}

/* Remove a tree we made, never following a symlink. */
static void remove_tree(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char **names;
	size_t n;

	if (fd >= 0) {
		if (!img_listdir(fd, &names, &n)) {
			for (size_t i = 0; i < n; i++)
				remove_tree(fd, names[i]);
			img_listdir_free(names, n);
		}
		close(fd);
		unlinkat(dfd, name, AT_REMOVEDIR);
	} else
		unlinkat(dfd, name, 0);
}

int img_archive_unpack(const char *archive, const char *dir, struct img_err *err)
{
	struct img_archive *a;
	char tmp[PATH_MAX];
	uint8_t *chunk = NULL;
	struct stat st;
	mode_t um;
	int top, r;

	r = img_archive_open(archive, &a, err);
	if (r)
		return r;
	img_err_subject(err, dir);
	/* rename() replaces an empty folder, nothing else */
	if (lstat(dir, &st) == 0 && (!S_ISDIR(st.st_mode) || !empty_dir(dir))) {
		img_archive_unref(a);
		return img_err_set(err, EEXIST, "exists and is not an empty folder");
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dir) >= (int)sizeof(tmp) || !mkdtemp(tmp)) {
		int e = errno;

		img_archive_unref(a);
		return img_err_set(err, e, "cannot make a temporary folder: %s", strerror(e));
	}
	top = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (top < 0) {
		r = img_err_set(err, errno, "cannot open the temporary folder: %s", strerror(errno));
		rmdir(tmp);
		img_archive_unref(a);
		return r;
	}
	for (int pass = 0; pass < 2 && !r; pass++) {
		for (size_t i = 0; i < a->n && !r; i++) {
			const struct img_tar_member *m = &a->m[i];

			if (pass == 0 && m->kind == IMG_TAR_DIR) {
				int fd = open_dirs(top, m->path, 1, err);

				r = fd < 0 ? fd : close(fd);
			} else if (pass == 0 && (m->kind == IMG_TAR_REG || m->kind == IMG_TAR_HARDLINK)) {
				r = put_file(a, top, m, &chunk, err);
			} else if (pass == 1 && m->kind == IMG_TAR_SYMLINK) {
				r = put_symlink(top, m, err);
			}
		}
	}
	img_free(chunk);
	close(top);
	um = umask(0);
	umask(um);
	if (!r && chmod(tmp, 0755 & ~um) < 0)
		r = img_err_set(err, errno, "cannot set the folder's mode: %s", strerror(errno));
	if (!r && rename(tmp, dir) < 0)
		r = img_err_set(err, errno, "cannot rename the temporary folder: %s", strerror(errno));
	if (r) {
		img_err_subject(err, dir);
		remove_tree(AT_FDCWD, tmp);
	}
	img_archive_unref(a);
	return r;
}
