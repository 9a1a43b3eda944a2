/*
 * Archives as image folders: img_dir_open bids the readers below, and the
 * folder ops find "core-1.img" in checkpoint/ (or wherever the layout keeps
 * the images), other files by their path, and the parent inside the archive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* CRIU's work-dir files: Podman runs CRIU with its work dir at the top of the archive. */
static const char *const root_files[] = { "stats-dump", "stats-restore", "dump.log", "restore.log" };

int img_layout_root_file(const char *name)
{
	for (size_t i = 0; i < sizeof(root_files) / sizeof(root_files[0]); i++)
		if (!strcmp(name, root_files[i]))
			return 1;
	return 0;
}

struct adir {
	struct img_archive *a;
	char *images; /* the folder of the images in this view */
};

static int join(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s%s%s", dir, dir[0] ? "/" : "", name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int member_src(struct img_archive *a, const char *path, struct img_src **out, struct img_err *err)
{
	const struct img_tar_member *m = img_archive_resolve(a, path, err);

	if (!m) {
		img_err_subject(err, a->path);
		return -(err ? err->code : ENOENT);
	}
	return img_archive_src(a, m, out, err);
}

static int ar_get(struct img_dir *d, const char *member, struct img_src **out, struct img_err *err)
{
	struct adir *x = d->priv;
	char path[IMG_TAR_NAME_MAX + 2];

	if (!img_dir_plain_name(member) || join(path, sizeof(path), x->images, member)) {
		img_err_subject(err, member);
		return img_err_set(err, EINVAL, "not a plain image name");
	}
	if (!img_archive_find(x->a, path) && x->images[0] && img_layout_root_file(member) &&
	    img_archive_find(x->a, member))
		return member_src(x->a, member, out, err);
	if (!img_archive_find(x->a, path)) {
		char subj[sizeof(path) + 256];

		snprintf(subj, sizeof(subj), "%s:%s", x->a->path, path);
		img_err_subject(err, subj);
		return img_err_set(err, ENOENT, "no such image");
	}
	return member_src(x->a, path, out, err);
}

static int ar_each(struct img_dir *d, int (*fn)(void *, const char *, uint64_t), void *arg)
{
	struct adir *x = d->priv;
	struct img_archive *a = x->a;
	size_t plen = strlen(x->images);

	for (size_t i = 0; i < a->n; i++) {
		const struct img_tar_member *m = &a->m[a->byname[i]], *t;
		const char *name = m->path + plen + (plen ? 1 : 0);
		int r;

		if (plen && (strncmp(m->path, x->images, plen) || m->path[plen] != '/'))
			continue;
		if (strchr(name, '/'))
			continue;
		t = img_archive_resolve(a, m->path, NULL);
		if (!t || (t->kind != IMG_TAR_REG && t->kind != IMG_TAR_HARDLINK))
			continue;
		r = fn(arg, name, t->size);
		if (r)
			return r;
	}
	return 0;
}

static int ar_open_view(struct img_archive *a, const char *images, int depth, struct img_dir **out,
			struct img_err *err);

static int ar_parent(struct img_dir *d, struct img_dir **out, struct img_err *err)
{
	struct adir *x = d->priv;
	char path[IMG_TAR_NAME_MAX + 2], to[IMG_TAR_NAME_MAX + 2];
	const struct img_tar_member *m;
	int r;

	*out = NULL;
	if (join(path, sizeof(path), x->images, "parent"))
		return -ENOENT;
	m = img_archive_find(x->a, path);
	if (!m)
		return -ENOENT;
	img_err_subject(err, x->a->path);
	if (d->depth >= 64)
		return img_err_set(err, ELOOP, "member '%s': parent chain longer than 64 links", path);
	r = img_archive_follow(x->a, path, to, sizeof(to), err);
	if (r)
		return r;
	if (!img_archive_is_dir(x->a, to))
		return img_err_set(err, ENOTDIR, "member '%s' at offset 0x%llx%s: the parent link leads to '%s', "
				   "which is not a folder of the archive",
				   path, (unsigned long long)m->hdr_off, x->a->where, to);
	return ar_open_view(x->a, to, d->depth + 1, out, err);
}

static int ar_get_extra(struct img_dir *d, const char *path, struct img_src **out, struct img_err *err)
{
	struct adir *x = d->priv;
	char clean[IMG_TAR_NAME_MAX + 2];

	if (img_tar_name_clean(path, clean, sizeof(clean), err) || !clean[0]) {
		img_err_subject(err, path);
		return img_err_set(err, EINVAL, "not a relative path inside the archive");
	}
	return member_src(x->a, clean, out, err);
}

static void ar_close(struct img_dir *d)
{
	struct adir *x = d->priv;

	img_archive_unref(x->a);
	img_free(x->images);
	img_free(x);
}

static const struct img_dir_ops archive_ops = {
	.name = "archive",
	.get = ar_get,
	.each = ar_each,
	.parent = ar_parent,
	.get_extra = ar_get_extra,
	.close = ar_close,
};

static int ar_open_view(struct img_archive *a, const char *images, int depth, struct img_dir **out,
			struct img_err *err)
{
	struct img_dir *d = img_calloc(1, sizeof(*d));
	struct adir *x = img_calloc(1, sizeof(*x));

	if (d && x) {
		x->images = img_strdup(images);
		d->path = img_malloc(strlen(a->path) + strlen(images) + 2);
	}
	if (!d || !x || !x->images || !d->path) {
		if (x)
			img_free(x->images);
		if (d)
			img_free(d->path);
		img_free(x);
		img_free(d);
		img_err_subject(err, a->path);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	if (depth)
		sprintf(d->path, "%s:%s", a->path, images);
	else
		strcpy(d->path, a->path);
	x->a = img_archive_ref(a);
	d->ops = &archive_ops;
	d->depth = depth;
	d->priv = x;
	*out = d;
	return 0;
}

static int open_archive(const char *path, struct img_dir **out, struct img_err *err)
{
	struct img_archive *a;
	int r = img_archive_open(path, &a, err);

	if (r)
		return r;
	if (!a->images) {
		img_archive_unref(a);
		img_err_subject(err, path);
		return img_err_set(err, EINVAL, "not a checkpoint archive: no 'checkpoint' folder and no images at the top");
	}
	r = ar_open_view(a, a->images, 0, out, err);
	img_archive_unref(a);
	return r;
}

static int tar_bid(const char *path, const uint8_t *h, size_t n)
{
	uint64_t sum;

	(void)path;
	if (n < 512 || img_tar_number(h + 148, 8, &sum))
		return 0;
	if (sum != img_tar_checksum(h, 0) && sum != img_tar_checksum(h, 1))
		return 0;
	return memcmp(h + 257, "ustar", 5) ? 40 : 60;
}

static int gzip_bid(const char *path, const uint8_t *h, size_t n)
{
	(void)path;
	return n >= 10 && h[0] == 0x1f && h[1] == 0x8b && h[2] == 8 ? 60 : 0;
}

/* Compressions recognized but not read: a clear message beats "not an image folder". */
static const struct {
	const char *name;
	uint8_t magic[6];
	size_t n;
	const char *tool;
} unread[] = {
	{ "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, "zstd -d" },
	{ "xz", { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, "xz -d" },
	{ "bzip2", { 'B', 'Z', 'h' }, 3, "bunzip2" },
};

static int unread_which(const uint8_t *h, size_t n)
{
	for (size_t i = 0; i < sizeof(unread) / sizeof(unread[0]); i++)
		if (n >= unread[i].n && !memcmp(h, unread[i].magic, unread[i].n))
			return (int)i;
	return -1;
}

static int unread_bid(const char *path, const uint8_t *h, size_t n)
{
	(void)path;
	return unread_which(h, n) >= 0 ? 50 : 0;
}

static int unread_open(const char *path, struct img_dir **out, struct img_err *err)
{
	uint8_t h[8];
	ssize_t n = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC), i;

	(void)out;
	if (fd >= 0) {
		n = read(fd, h, sizeof(h));
		close(fd);
	}
	i = n > 0 ? unread_which(h, (size_t)n) : -1;
	img_err_subject(err, path);
	if (i < 0)
		return img_err_set(err, EINVAL, "not an image folder or a checkpoint archive");
	return img_err_set(err, EOPNOTSUPP, "%s-compressed archives are not read in place: decompress it (%s) and "
			   "open the tar", unread[i].name, unread[i].tool);
}

static const struct img_dir_format tar_format = { "tar", tar_bid, open_archive };
static const struct img_dir_format gzip_format = { "tar.gz", gzip_bid, open_archive };
static const struct img_dir_format unread_format = { "compressed tar", unread_bid, unread_open };

const struct img_dir_format *const img_archive_formats[] = { &tar_format, &gzip_format, &unread_format, NULL };
