/* Byte sources (mapped files, memory, streams) and image folders on disk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/source.h"

static struct img_src *src_new(const char *name)
{
	struct img_src *s = img_calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->name = img_strdup(name ? name : "-");
	if (!s->name) {
		img_free(s);
		return NULL;
	}
	s->refs = 1;
	return s;
}

int img_src_read_fd(int fd, const char *name, size_t max, struct img_src **out, struct img_err *err)
{
	struct img_buf b;
	struct img_src *s;

	img_buf_init(&b);
	for (;;) {
		ssize_t r;

		if (img_buf_reserve(&b, 65536))
			goto nomem;
		r = read(fd, b.data + b.len, b.cap - b.len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;

			img_buf_free(&b);
			img_err_subject(err, name);
			return img_err_set(err, e, "read error at offset 0x%zx: %s", b.len, strerror(e));
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
		if (b.len > max) {
			img_buf_free(&b);
			img_err_subject(err, name);
			return img_err_set(err, EFBIG, "input is larger than %zu bytes", max);
		}
	}
	s = src_new(name);
	if (!s)
		goto nomem;
	s->data = b.data;
	s->size = b.len;
	s->how = IMG_SRC_HEAP;
	*out = s;
	return 0;
nomem:
	img_buf_free(&b);
	img_err_subject(err, name);
	return img_err_set(err, ENOMEM, "out of memory");
}

int img_src_open(const char *path, struct img_src **out, struct img_err *err)
{
	struct img_src *s;
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		img_err_subject(err, path);
		return img_err_set(err, e, "%s", strerror(e));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : errno ? errno : EINVAL;

		close(fd);
		img_err_subject(err, path);
		if (e == EISDIR)
			return img_err_set(err, e, "is a directory, not an image file");
		if (e == EINVAL)
			return img_err_set(err, e, "not a regular file");
		return img_err_set(err, e, "%s", strerror(e));
	}
	if (st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p != MAP_FAILED) {
			close(fd);
			s = src_new(path);
			if (!s) {
				munmap(p, (size_t)st.st_size);
				img_err_subject(err, path);
				return img_err_set(err, ENOMEM, "out of memory");
			}
			s->data = p;
			s->size = (size_t)st.st_size;
			s->how = IMG_SRC_MMAP;
			*out = s;
			return 0;
		}
	}
	/* Empty files, and files that cannot be mapped: read them. */
	r = img_src_read_fd(fd, path, SIZE_MAX / 4, out, err);
	close(fd);
	return r;
}

struct img_src *img_src_mem(const void *p, size_t n, const char *name, int copy)
{
	struct img_src *s = src_new(name);

	if (!s)
		return NULL;
	if (copy) {
		void *d = img_malloc(n);

		if (!d) {
			img_src_unref(s);
			return NULL;
		}
		memcpy(d, p, n);
		s->data = d;
		s->how = IMG_SRC_HEAP;
	} else {
		s->data = p;
		s->how = IMG_SRC_BORROW;
	}
	s->size = n;
	return s;
}

struct img_src *img_src_slice(struct img_src *parent, size_t off, size_t n, const char *name)
{
	struct img_src *s;

	if (off > parent->size || n > parent->size - off)
		return NULL;
	s = src_new(name);
	if (!s)
		return NULL;
	s->data = parent->data + off;
	s->size = n;
	s->how = IMG_SRC_BORROW;
	s->owner = img_src_ref(parent);
	return s;
}

struct img_src *img_src_ref(struct img_src *s)
{
	if (s)
		s->refs++;
	return s;
}

void img_src_unref(struct img_src *s)
{
	if (!s || --s->refs > 0)
		return;
	if (s->how == IMG_SRC_MMAP)
		munmap((void *)s->data, s->size);
	else if (s->how == IMG_SRC_HEAP)
		img_free((void *)s->data);
	if (s->owner)
		img_src_unref(s->owner);
	img_free(s->name);
	img_free(s);
}

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

struct fsdir {
	int dfd;
};

static int join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Plain member names only: no separators, no dot names. */
static int plain_name(const char *m)
{
	return m[0] && strcmp(m, ".") && strcmp(m, "..") && !strchr(m, '/');
}

static int fs_get(struct img_dir *d, const char *member, struct img_src **out, struct img_err *err)
{
	char path[PATH_MAX];

	if (!plain_name(member) || join(path, sizeof(path), d->path, member)) {
		img_err_subject(err, member);
		return img_err_set(err, EINVAL, "not a plain image name");
	}
	if (faccessat(((struct fsdir *)d->priv)->dfd, member, F_OK, 0) < 0) {
		img_err_subject(err, path);
		return img_err_set(err, ENOENT, "no such image");
	}
	return img_src_open(path, out, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fs_each(struct img_dir *d, int (*fn)(void *, const char *, uint64_t), void *arg)
{
	struct fsdir *fd = d->priv;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r = 0, dfd;
	DIR *dir;

	dfd = dup(fd->dfd);
	if (dfd < 0)
		return -errno;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return -errno;
	}
	rewinddir(dir);
	while ((de = readdir(dir))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(fd->dfd, de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = img_realloc(names, nc * sizeof(*names));

			if (!nn) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = nc;
		}
		names[n] = img_strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(dir);
	if (!r)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n && !r; i++) {
		struct stat st;

		if (fstatat(fd->dfd, names[i], &st, 0) < 0)
			continue;
		r = fn(arg, names[i], (uint64_t)st.st_size);
	}
	for (size_t i = 0; i < n; i++)
		img_free(names[i]);
	img_free(names);
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
	if (join(path, sizeof(path), d->path, "parent"))
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
	close(((struct fsdir *)d->priv)->dfd);
	img_free(d->priv);
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
	struct img_dir *d;
	struct fsdir *fd;
	int dfd;

	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		int e = errno;

		img_err_subject(err, path);
		return img_err_set(err, e, "%s", e == ENOTDIR ? "not a directory" : strerror(e));
	}
	d = img_calloc(1, sizeof(*d));
	fd = img_calloc(1, sizeof(*fd));
	if (d)
		d->path = img_strdup(path);
	if (!d || !fd || !d->path) {
		if (d)
			img_free(d->path);
		img_free(d);
		img_free(fd);
		close(dfd);
		img_err_subject(err, path);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	fd->dfd = dfd;
	d->ops = &fs_ops;
	d->priv = fd;
	*out = d;
	return 0;
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
