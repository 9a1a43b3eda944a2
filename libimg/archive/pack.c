/*
 * Packing an image folder into a checkpoint archive (Podman's layout:
 * checkpoint/ plus the metadata files, or a plain tar of the folder), and a
 * folder already in the container layout as it is.  The archive is written
 * under a temporary name, read back through the same checks as any input,
 * and renamed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/image.h"
#include "../priv.h"
#include "internal.h"

#define PACK_DEPTH 32

struct pack {
	struct img_tar_writer *w;
	const char *root;
};

/* The names in a folder, sorted, without "." and "..". */
static int list_dir(const char *path, char ***out, size_t *n, struct img_err *err)
{
	int r;

	*out = NULL;
	*n = 0;
	r = img_listdir_path(path, out, n);
	if (r) {
		img_err_subject(err, path);
		return img_err_set(err, -r, "%s", r == -ENOMEM ? "out of memory" : strerror(-r));
	}
	return 0;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		img_free(v[i]);
	img_free(v);
}

static int add_file(struct pack *p, const char *fs, const char *ap, const struct stat *st, struct img_err *err)
{
	struct img_src *s;
	int r = img_src_open(fs, &s, err);

	if (r)
		return r;
	r = img_tar_write_file(p->w, ap, st->st_mode & 0111 ? 0755 : 0644, (uint64_t)st->st_mtime, s, err);
	img_src_unref(s);
	return r;
}

/* Everything in folder fs, under the archive path ap ("" at the top). */
static int add_tree(struct pack *p, const char *fs, const char *ap, int depth, struct img_err *err)
{
	char **names = NULL;
	size_t n = 0;
	int r = list_dir(fs, &names, &n, err);

	if (r)
		return r;
	if (depth > PACK_DEPTH) {
		free_list(names, n);
		img_err_subject(err, fs);
		return img_err_set(err, ELOOP, "folders nested more than %d deep", PACK_DEPTH);
	}
	for (size_t i = 0; i < n && !r; i++) {
		char f[PATH_MAX], a[IMG_TAR_NAME_MAX + 2], t[PATH_MAX], res[IMG_TAR_NAME_MAX + 2];
		struct stat st;
		ssize_t k;

		if (snprintf(f, sizeof(f), "%s/%s", fs, names[i]) >= (int)sizeof(f) ||
		    snprintf(a, sizeof(a), "%s%s%s", ap, ap[0] ? "/" : "", names[i]) >= (int)sizeof(a) - 1) {
			img_err_subject(err, fs);
			r = img_err_set(err, ENAMETOOLONG, "'%s': path too long", names[i]);
			break;
		}
		if (lstat(f, &st) < 0) {
			int e = errno;

			img_err_subject(err, f);
			r = img_err_set(err, e, "%s", strerror(e));
		} else if (S_ISREG(st.st_mode)) {
			r = add_file(p, f, a, &st, err);
		} else if (S_ISDIR(st.st_mode)) {
			r = img_tar_write_dir(p->w, a, (uint64_t)st.st_mtime, err);
			if (!r)
				r = add_tree(p, f, a, depth + 1, err);
		} else if (S_ISLNK(st.st_mode)) {
			k = readlink(f, t, sizeof(t) - 1);
			if (k < 0 || k > IMG_TAR_NAME_MAX) {
				img_err_subject(err, f);
				r = img_err_set(err, k < 0 ? errno : ENAMETOOLONG, "cannot read the symlink");
				break;
			}
			t[k] = 0;
			/* an archive may not point out of itself: the readers refuse such links */
			if (img_tar_path_resolve(ap, t, res, sizeof(res))) {
				img_err_subject(err, f);
				r = img_err_set(err, EINVAL, "a symlink to '%s', outside the folder: an archive cannot hold it", t);
			} else
				r = img_tar_write_symlink(p->w, a, t, (uint64_t)st.st_mtime, err);
		} else {
			img_err_subject(err, f);
			r = img_err_set(err, EINVAL, "not a file, folder or symlink: not packed");
		}
	}
	free_list(names, n);
	return r;
}

static int exists_in(const char *dir, const char *name, int dir_only)
{
	char p[PATH_MAX];
	struct stat st;

	if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p) || lstat(p, &st) < 0)
		return 0;
	return !dir_only || S_ISDIR(st.st_mode);
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

/* Whether the file path would land inside the folder dir (which exists). */
static int inside(const char *path, const char *dir)
{
	char d[PATH_MAX], p[PATH_MAX], parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (!realpath(dir, d) || !realpath(slash == path ? "/" : parent, p))
		return 0;
	n = strlen(d);
	return !strncmp(p, d, n) && (p[n] == 0 || p[n] == '/' || n == 1);
}

static int pack_all(struct pack *p, const char *dir, const struct img_pack_opts *o, int container,
		    struct img_err *err)
{
	struct stat st;
	int r = 0;

	for (size_t i = 0; i < o->nfiles && !r; i++) {
		const struct img_pack_file *f = &o->files[i];

		if (!img_dir_plain_name(f->name)) {
			img_err_subject(err, f->name);
			return img_err_set(err, EINVAL, "not a plain file name for the top of the archive");
		}
		if ((container && exists_in(dir, f->name, 0)) || !strcmp(f->name, "checkpoint")) {
			img_err_subject(err, dir);
			return img_err_set(err, EEXIST, "'%s' would be in the archive twice", f->name);
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(o->files[j].name, f->name)) {
				img_err_subject(err, f->name);
				return img_err_set(err, EEXIST, "given twice");
			}
		if (stat(f->path, &st) < 0 || !S_ISREG(st.st_mode)) {
			img_err_subject(err, f->path);
			return img_err_set(err, errno ? errno : EINVAL, "not a file");
		}
		r = add_file(p, f->path, f->name, &st, err);
	}
	if (r)
		return r;
	if (container || o->layout == IMG_PACK_PLAIN)
		return add_tree(p, dir, "", 0, err);
	if (stat(dir, &st) < 0)
		st.st_mtime = 0;
	r = img_tar_write_dir(p->w, "checkpoint", (uint64_t)st.st_mtime, err);
	return r ? r : add_tree(p, dir, "checkpoint", 1, err);
}

int img_archive_pack(const char *dir, const char *out, const struct img_pack_opts *o, struct img_err *err)
{
	struct pack p = { .root = dir };
	struct img_archive *check;
	char tmp[PATH_MAX];
	int container, gzip, fd, r;
	struct stat st;

	img_err_subject(err, dir);
	if (stat(dir, &st) < 0)
		return img_err_set(err, errno, "%s", strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return img_err_set(err, ENOTDIR, "not a folder");
	/* an unpacked container archive: checkpoint/ and no images beside it */
	container = exists_in(dir, "checkpoint", 1) && !exists_in(dir, "inventory.img", 0);
	if (container && o->layout == IMG_PACK_PLAIN)
		return img_err_set(err, EINVAL, "a folder in the container layout (with checkpoint/): pack it with the "
				   "podman layout");
	if (!container && o->nfiles && o->layout == IMG_PACK_PLAIN)
		return img_err_set(err, EINVAL, "metadata files go with the podman layout, not the plain one");
	if (!exists_in(dir, container ? "checkpoint/inventory.img" : "inventory.img", 0))
		return img_err_set(err, EINVAL, "no %sinventory.img: not an image folder", container ? "checkpoint/" : "");
	if (inside(out, dir)) {
		img_err_subject(err, out);
		return img_err_set(err, EINVAL, "the archive would be inside the folder it packs");
	}
	gzip = o->gzip >= 0 ? o->gzip : ends_with(out, ".gz") || ends_with(out, ".tgz");
	fd = img_tmp_create(out, tmp, sizeof(tmp), err);
	if (fd < 0)
		return fd;
	r = img_tar_writer_open(fd, out, gzip, o->level, &p.w, err);
	if (!r)
		r = pack_all(&p, dir, o, container, err);
	if (!r)
		r = img_tar_writer_close(p.w, err);
	img_tar_writer_free(p.w);
	if (!r) {
		int e = fchmod(fd, 0644) < 0 ? errno : 0;

		if (close(fd) < 0 && !e)
			e = errno;
		if (e) {
			img_err_subject(err, out);
			r = img_err_set(err, e, "write error: %s", strerror(e));
		}
	} else
		close(fd);
	/* what we write must read back through every check a reader makes */
	if (!r) {
		r = img_archive_open(tmp, &check, err);
		if (r)
			img_err_prefix(err, "the archive written does not read back");
		else
			img_archive_unref(check);
	}
	if (!r && rename(tmp, out) < 0) {
		int e = errno;

		img_err_subject(err, out);
		r = img_err_set(err, e, "cannot rename the temporary file: %s", strerror(e));
	}
	if (r)
		unlink(tmp);
	return r;
}
