/* Image folders: directories on disk, and the registry of other folder readers (archives). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/archive.h"
#include "img/linuxcr.h"
#include "img/source.h"
#include "priv.h"

/* Folders */

#define MAX_FORMATS 8
static const struct img_dir_format *formats[MAX_FORMATS];
static int nformats;

int img_dir_register(const struct img_dir_format *f)
{
	for (int i = 0; i < nformats; i++)
		if (formats[i] == f)
			return 0;
	if (nformats == MAX_FORMATS)
		return -ENOSPC;
	formats[nformats++] = f;
	return 0;
}

/*
 * A directory.  In the container layout (an unpacked Podman archive: a
 * "checkpoint" folder and no images beside it) the images are read from
 * checkpoint/ and the other files from the top.
 */
struct fsdir {
	int dfd;       /* the image folder */
	char *imgpath; /* its path: d->path, or d->path/checkpoint */
};

static int join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int img_dir_plain_name(const char *m)
{
	return m[0] && strcmp(m, ".") && strcmp(m, "..") && !strchr(m, '/');
}

static int fs_get(struct img_dir *d, const char *member, struct img_src **out, struct img_err *err)
{
	char path[PATH_MAX];

	struct fsdir *fd = d->priv;

	if (!img_dir_plain_name(member) || join(path, sizeof(path), fd->imgpath, member)) {
		img_err_subject(err, member);
		return img_err_set(err, EINVAL, "not a plain image name");
	}
	if (faccessat(fd->dfd, member, F_OK, 0) < 0) {
		if (fd->imgpath != d->path && img_layout_root_file(member) &&
		    !join(path, sizeof(path), d->path, member) && access(path, F_OK) == 0)
			return img_src_open(path, out, err);
		img_err_subject(err, path);
		return img_err_set(err, ENOENT, "no such image");
	}
	return img_src_open(path, out, err);
}

static int fs_each(struct img_dir *d, int (*fn)(void *, const char *, uint64_t), void *arg)
{
	struct fsdir *fd = d->priv;
	char **names = NULL;
	size_t n = 0;
	int r = img_listdir(fd->dfd, &names, &n);

	for (size_t i = 0; i < n && !r; i++) {
		struct stat st;

		/* regular files only (links followed), not hidden ones */
		if (names[i][0] == '.' || fstatat(fd->dfd, names[i], &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		r = fn(arg, names[i], (uint64_t)st.st_size);
	}
	img_listdir_free(names, n);
	return r;
}

static int fs_parent(struct img_dir *d, struct img_dir **out, struct img_err *err)
{
	int dfd = ((struct fsdir *)d->priv)->dfd;
	char path[PATH_MAX], to[PATH_MAX];
	struct stat st;
	int r;

	*out = NULL;
	if (fstatat(dfd, "parent", &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -ENOENT; /* no parent: err stays empty */
	if (join(path, sizeof(path), ((struct fsdir *)d->priv)->imgpath, "parent"))
		return img_err_set(err, ENAMETOOLONG, "parent path too long");
	if (fstatat(dfd, "parent", &st, 0) < 0) {
		int e = errno;
		ssize_t n = readlinkat(dfd, "parent", to, sizeof(to) - 1);

		to[n > 0 ? n : 0] = 0;
		img_err_subject(err, path);
		return img_err_set(err, e, "the link leads to '%s': %s", to, strerror(e));
	}
	if (d->depth >= 64) {
		img_err_subject(err, path);
		return img_err_set(err, ELOOP, "parent chain longer than 64 links");
	}
	r = img_dir_open_fs(path, out, err);
	if (!r)
		(*out)->depth = d->depth + 1;
	return r;
}

static int fs_get_extra(struct img_dir *d, const char *path, struct img_src **out, struct img_err *err)
{
	char full[PATH_MAX];

	if (strstr(path, "..") || path[0] == '/' || join(full, sizeof(full), d->path, path)) {
		img_err_subject(err, path);
		return img_err_set(err, EINVAL, "not a relative path inside the folder");
	}
	return img_src_open(full, out, err);
}

static void fs_close(struct img_dir *d)
{
	struct fsdir *fd = d->priv;

	close(fd->dfd);
	if (fd->imgpath != d->path)
		img_free(fd->imgpath);
	img_free(fd);
}

static const struct img_dir_ops fs_ops = {
	.name = "directory",
	.get = fs_get,
	.each = fs_each,
	.parent = fs_parent,
	.get_extra = fs_get_extra,
	.close = fs_close,
};

int img_dir_open_fs(const char *path, struct img_dir **out, struct img_err *err)
{
	char *imgpath = NULL;
	struct img_dir *d;
	struct fsdir *fd;
	struct stat st;
	int dfd, sub = 0;

	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		int e = errno;

		img_err_subject(err, path);
		return img_err_set(err, e, "%s", e == ENOTDIR ? "not a directory" : strerror(e));
	}
	if (faccessat(dfd, "inventory.img", F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
	    fstatat(dfd, "checkpoint", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		int cfd = openat(dfd, "checkpoint", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		char buf[PATH_MAX];

		if (cfd >= 0 && !join(buf, sizeof(buf), path, "checkpoint")) {
			close(dfd);
			dfd = cfd;
			imgpath = img_strdup(buf);
			sub = 1;
		} else if (cfd >= 0)
			close(cfd);
	}
	d = img_calloc(1, sizeof(*d));
	fd = img_calloc(1, sizeof(*fd));
	if (d)
		d->path = img_strdup(path);
	if (!d || !fd || !d->path || (sub && !imgpath)) {
		if (d)
			img_free(d->path);
		img_free(d);
		img_free(fd);
		img_free(imgpath);
		close(dfd);
		img_err_subject(err, path);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	fd->dfd = dfd;
	fd->imgpath = imgpath ? imgpath : d->path;
	d->ops = &fs_ops;
	d->priv = fd;
	*out = d;
	return 0;
}

/* The archive readers: registered on the first open, so that a static link needs no constructor. */
static void register_builtin(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	for (const struct img_dir_format *const *f = img_archive_formats; *f; f++)
		img_dir_register(*f);
	img_dir_register(&img_lcr_dir_format);
}

int img_dir_open(const char *path, struct img_dir **out, struct img_err *err)
{
	const struct img_dir_format *best = NULL;
	uint8_t head[512];
	size_t n = 0;
	struct stat st;
	int bid = 0;

	if (stat(path, &st) < 0) {
		int e = errno;

		img_err_subject(err, path);
		return img_err_set(err, e, "%s", strerror(e));
	}
	if (S_ISDIR(st.st_mode))
		return img_dir_open_fs(path, out, err);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t r = read(fd, head, sizeof(head));

		n = r > 0 ? (size_t)r : 0;
		close(fd);
	}
	register_builtin();
	for (int i = 0; i < nformats; i++) {
		int b = formats[i]->bid(path, head, n);

		if (b > bid) {
			bid = b;
			best = formats[i];
		}
	}
	if (!best) {
		img_err_subject(err, path);
		return img_err_set(err, EINVAL, "not an image folder or a checkpoint archive");
	}
	return best->open(path, out, err);
}

int img_dir_get(struct img_dir *d, const char *member, struct img_src **out, struct img_err *err)
{
	return d->ops->get(d, member, out, err);
}

int img_dir_has(struct img_dir *d, const char *member)
{
	struct img_src *s;

	if (d->ops->get(d, member, &s, NULL))
		return 0;
	img_src_unref(s);
	return 1;
}

int img_dir_each(struct img_dir *d, int (*fn)(void *, const char *, uint64_t), void *arg)
{
	return d->ops->each(d, fn, arg);
}

int img_dir_parent(struct img_dir *d, struct img_dir **out, struct img_err *err)
{
	*out = NULL;
	if (!d->ops->parent)
		return -ENOENT;
	return d->ops->parent(d, out, err);
}

int img_dir_get_extra(struct img_dir *d, const char *path, struct img_src **out, struct img_err *err)
{
	if (!d->ops->get_extra) {
		img_err_subject(err, path);
		return img_err_set(err, ENOENT, "no such file");
	}
	return d->ops->get_extra(d, path, out, err);
}

void img_dir_close(struct img_dir *d)
{
	if (!d)
		return;
	d->ops->close(d);
	img_free(d->path);
	img_free(d);
}

static int borrowed_get(struct img_dir *d, const char *member, struct img_src **out, struct img_err *err)
{
	return img_dir_get(d->priv, member, out, err);
}

static int borrowed_each(struct img_dir *d, int (*fn)(void *arg, const char *member, uint64_t size), void *arg)
{
	return img_dir_each(d->priv, fn, arg);
}

static int borrowed_parent(struct img_dir *d, struct img_dir **out, struct img_err *err)
{
	return img_dir_parent(d->priv, out, err);
}

static int borrowed_extra(struct img_dir *d, const char *path, struct img_src **out, struct img_err *err)
{
	return img_dir_get_extra(d->priv, path, out, err);
}

static void borrowed_close(struct img_dir *d)
{
	(void)d; /* the folder belongs to the handle it was borrowed from */
}

static const struct img_dir_ops borrowed_ops = {
	"borrowed", borrowed_get, borrowed_each, borrowed_parent, borrowed_extra, borrowed_close,
};

int img_dir_borrow(struct img_dir *d, struct img_dir **out, struct img_err *err)
{
	struct img_dir *b = img_calloc(1, sizeof(*b));

	*out = NULL;
	if (b && d->path)
		b->path = img_strdup(d->path);
	if (!b || (d->path && !b->path)) {
		img_free(b);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	b->ops = &borrowed_ops;
	b->depth = d->depth;
	b->priv = d;
	*out = b;
	return 0;
}

int img_src_open_spec(const char *spec, struct img_src **out, struct img_err *err)
{
	struct stat st;

	if (stat(spec, &st) == 0 || !strchr(spec, ':'))
		return img_src_open(spec, out, err);
	/* ARCHIVE:MEMBER, the archive being the longest prefix that is a file */
	for (const char *c = spec + strlen(spec); c > spec; c--) {
		struct img_dir *d;
		const char *member = c;
		char *arch;
		int r;

		if (*c != ':')
			continue;
		arch = img_strndup(spec, (size_t)(c - spec));
		if (!arch) {
			img_err_subject(err, spec);
			return img_err_set(err, ENOMEM, "out of memory");
		}
		if (stat(arch, &st) < 0 || !S_ISREG(st.st_mode)) {
			img_free(arch);
			continue;
		}
		r = img_dir_open(arch, &d, err);
		img_free(arch);
		if (r)
			return r;
		member++;
		if (strchr(member, '/') || (r = img_dir_get(d, member, out, err)) == -ENOENT)
			r = img_dir_get_extra(d, member, out, err);
		img_dir_close(d);
		return r;
	}
	return img_src_open(spec, out, err);
}
