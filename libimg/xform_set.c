/*
 * An image set held for rewriting: members are read and decoded on demand,
 * changed in memory, and written as a new folder.  What nothing changed is
 * copied byte for byte (copy_file_range, so that large pages files are not
 * pulled through memory).  The output is built in a temporary folder beside
 * the target, which holds a lock on that folder while it lives: a folder whose
 * lock nobody holds was left by a killed run and is removed by the next one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xform_int.h"

struct patch {
	uint64_t off;
	uint8_t *p;
	size_t n;
};

struct member {
	char *name;
	int state;              /* IMG_SET_* */
	int orig;               /* in the input folder */
	struct img_image *img;  /* decoded, kept until the set is freed */
	struct patch *patches;
	size_t npatches;
	uint64_t size;          /* in the input folder */
};

/* Bytes written so far, for the caller's progress display. */
struct wprog {
	const struct img_set_write_opts *o;
	uint64_t done, total;
};

static void progress(struct wprog *w, const char *name, uint64_t more)
{
	w->done += more;
	if (w->o && w->o->progress)
		w->o->progress(w->o->progress_arg, name, w->done, w->total);
}

struct img_set {
	const struct img_schema *s;
	struct img_dir *d;
	struct member *m;
	size_t n, cap;
	char *parent_link;      /* the "parent" symlink of an incremental dump, as written */
	struct img_image **dead; /* images of removed members: moved messages still point into them */
	size_t ndead;
	char **left;            /* what a directory holds besides files and the parent link: not written */
	size_t nleft;
};

static int find(const struct img_set *set, const char *name, size_t *pos)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(set->m[mid].name, name);

		if (!c) {
			*pos = mid;
			return 1;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	return 0;
}

static struct member *insert(struct img_set *set, const char *name)
{
	size_t pos;

	if (find(set, name, &pos))
		return &set->m[pos];
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		struct member *m = img_realloc(set->m, cap * sizeof(*m));

		if (!m)
			return NULL;
		set->m = m;
		set->cap = cap;
	}
	memmove(&set->m[pos + 1], &set->m[pos], (set->n - pos) * sizeof(*set->m));
	memset(&set->m[pos], 0, sizeof(set->m[pos]));
	set->m[pos].name = img_strdup(name);
	if (!set->m[pos].name) {
		memmove(&set->m[pos], &set->m[pos + 1], (set->n - pos) * sizeof(*set->m));
		return NULL;
	}
	set->n++;
	return &set->m[pos];
}

static int collect(void *arg, const char *name, uint64_t size)
{
	struct img_set *set = arg;
	struct member *m;

	m = insert(set, name);
	if (!m)
		return -ENOMEM;
	m->orig = 1;
	m->size = size;
	return 0;
}

int img_set_open(struct img_dir *d, const struct img_schema *s, struct img_set **out, struct img_err *err)
{
	struct img_set *set = img_calloc(1, sizeof(*set));
	int r;

	if (!set)
		return img_err_set(err, ENOMEM, "out of memory");
	set->s = s;
	set->d = d;
	r = img_dir_each(d, collect, set);
	if (r) {
		img_set_free(set);
		img_err_subject(err, d->path);
		return img_err_set(err, -r, "cannot list the folder: %s", strerror(-r));
	}
	if (d->ops->name && !strcmp(d->ops->name, "directory")) {
		char path[PATH_MAX], link[PATH_MAX];
		ssize_t n;
		DIR *dir = opendir(d->path);
		struct dirent *de;

		while (dir && (de = readdir(dir))) {
			struct stat st;
			size_t pos;

			if (de->d_name[0] == '.' || !strcmp(de->d_name, "parent") || find(set, de->d_name, &pos))
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", d->path, de->d_name) >= (int)sizeof(path) ||
			    (stat(path, &st) == 0 && S_ISREG(st.st_mode)))
				continue;
			char **nl = img_realloc(set->left, (set->nleft + 1) * sizeof(*nl));

			if (!nl || !(nl[set->nleft] = img_strdup(de->d_name))) {
				if (nl)
					set->left = nl;
				closedir(dir);
				img_set_free(set);
				return img_err_set(err, ENOMEM, "out of memory");
			}
			set->left = nl;
			set->nleft++;
		}
		if (dir)
			closedir(dir);

		if (snprintf(path, sizeof(path), "%s/parent", d->path) < (int)sizeof(path)) {
			n = readlink(path, link, sizeof(link) - 1);
			if (n > 0) {
				link[n] = 0;
				set->parent_link = img_strdup(link);
			}
		}
	}
	*out = set;
	return 0;
}

void img_set_free(struct img_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++) {
		img_image_free(set->m[i].img);
		for (size_t j = 0; j < set->m[i].npatches; j++)
			img_free(set->m[i].patches[j].p);
		img_free(set->m[i].patches);
		img_free(set->m[i].name);
	}
	for (size_t i = 0; i < set->ndead; i++)
		img_image_free(set->dead[i]);
	img_free(set->dead);
	for (size_t i = 0; i < set->nleft; i++)
		img_free(set->left[i]);
	img_free(set->left);
	img_free(set->m);
	img_free(set->parent_link);
	img_free(set);
}

const struct img_schema *img_set_schema(const struct img_set *set)
{
	return set->s;
}

struct img_dir *img_set_dir(const struct img_set *set)
{
	return set->d;
}

size_t img_set_left_out(const struct img_set *set, const char *const **names)
{
	*names = (const char *const *)set->left;
	return set->nleft;
}

size_t img_set_count(const struct img_set *set)
{
	return set->n;
}

const char *img_set_member(const struct img_set *set, size_t i)
{
	return i < set->n ? set->m[i].name : NULL;
}

int img_set_state(const struct img_set *set, size_t i)
{
	return i < set->n ? set->m[i].state : IMG_SET_REMOVED;
}

int img_set_has(const struct img_set *set, const char *member)
{
	size_t pos;

	return find(set, member, &pos) && set->m[pos].state != IMG_SET_REMOVED;
}

int img_set_image(struct img_set *set, const char *member, struct img_image **out, struct img_err *err)
{
	struct img_src *src;
	size_t pos;
	int r;

	if (!find(set, member, &pos) || set->m[pos].state == IMG_SET_REMOVED) {
		img_err_subject(err, member);
		return img_err_set(err, ENOENT, "no such image in the set");
	}
	struct member *m = &set->m[pos];

	if (!m->img) {
		r = img_dir_get(set->d, member, &src, err);
		if (r)
			return r;
		r = img_image_read(src, set->s, NULL, 0, &m->img, err);
		img_src_unref(src);
		if (r)
			return r;
	}
	*out = m->img;
	return 0;
}

void img_set_touch(struct img_set *set, const char *member)
{
	size_t pos;

	if (find(set, member, &pos) && set->m[pos].state == IMG_SET_SAME)
		set->m[pos].state = IMG_SET_CHANGED;
}

static int keep_dead(struct img_set *set, struct img_image *img)
{
	struct img_image **d = img_realloc(set->dead, (set->ndead + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	set->dead = d;
	set->dead[set->ndead++] = img;
	return 0;
}

int img_set_add(struct img_set *set, const char *member, const struct img_kind *k, struct img_image **out,
		struct img_err *err)
{
	struct member *m;
	size_t pos;

	if (find(set, member, &pos) && set->m[pos].state != IMG_SET_REMOVED) {
		img_err_subject(err, member);
		return img_err_set(err, EEXIST, "the set has this image already");
	}
	m = insert(set, member);
	if (!m)
		return img_err_set(err, ENOMEM, "out of memory");
	if (m->img && keep_dead(set, m->img))
		return img_err_set(err, ENOMEM, "out of memory");
	m->img = img_image_new(set->s, k);
	if (!m->img)
		return img_err_set(err, ENOMEM, "out of memory");
	m->state = m->orig ? IMG_SET_CHANGED : IMG_SET_ADDED;
	*out = m->img;
	return 0;
}

int img_set_remove(struct img_set *set, const char *member)
{
	size_t pos;

	if (!find(set, member, &pos) || set->m[pos].state == IMG_SET_REMOVED)
		return -ENOENT;
	set->m[pos].state = IMG_SET_REMOVED;
	return 0;
}

int img_set_patch(struct img_set *set, const char *member, uint64_t off, const void *p, size_t n,
		  struct img_err *err)
{
	struct patch *np;
	size_t pos;

	if (!find(set, member, &pos) || set->m[pos].state == IMG_SET_REMOVED || !set->m[pos].orig) {
		img_err_subject(err, member);
		return img_err_set(err, ENOENT, "no such image in the set");
	}
	struct member *m = &set->m[pos];

	np = img_realloc(m->patches, (m->npatches + 1) * sizeof(*np));
	if (!np)
		return img_err_set(err, ENOMEM, "out of memory");
	m->patches = np;
	np[m->npatches].p = img_malloc(n ? n : 1);
	if (!np[m->npatches].p)
		return img_err_set(err, ENOMEM, "out of memory");
	memcpy(np[m->npatches].p, p, n);
	np[m->npatches].off = off;
	np[m->npatches].n = n;
	m->npatches++;
	if (m->state == IMG_SET_SAME)
		m->state = IMG_SET_CHANGED;
	return 0;
}

int xf_set_names(struct img_set *set, const struct img_kind *k, char ***names, size_t *n)
{
	char **v = NULL;
	size_t cnt = 0;

	for (size_t i = 0; i < set->n; i++) {
		if (set->m[i].state == IMG_SET_REMOVED)
			continue;
		if (k && img_kind_by_file(set->s, set->m[i].name) != k)
			continue;
		if (!k && !img_kind_by_file(set->s, set->m[i].name))
			continue;
		char **nv = img_realloc(v, (cnt + 1) * sizeof(*v));

		if (!nv)
			goto nomem;
		v = nv;
		v[cnt] = img_strdup(set->m[i].name);
		if (!v[cnt])
			goto nomem;
		cnt++;
	}
	*names = v;
	*n = cnt;
	return 0;
nomem:
	xf_names_free(v, cnt);
	return -ENOMEM;
}

void xf_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		img_free(names[i]);
	img_free(names);
}

/* Writing */

static int sys_fail(struct img_err *err, const char *subject, const char *what)
{
	int e = errno ? errno : EIO;

	img_err_subject(err, subject);
	return img_err_set(err, e, "%s: %s", what, strerror(e));
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!w)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

#define COPY_CHUNK ((size_t)8 << 20)

/* Copy a member as it is: in the kernel when both ends are files, else from its mapping. */
static int copy_member(struct img_set *set, const char *name, int dfd, volatile sig_atomic_t *cancel,
		       struct wprog *wp, struct img_err *err)
{
	if (set->d->ops->name && !strcmp(set->d->ops->name, "directory")) {
		char path[PATH_MAX];
		struct stat st;
		int in;

		if (snprintf(path, sizeof(path), "%s/%s", set->d->path, name) >= (int)sizeof(path)) {
			img_err_subject(err, name);
			return img_err_set(err, ENAMETOOLONG, "path too long");
		}
		in = open(path, O_RDONLY | O_CLOEXEC);
		if (in < 0 || fstat(in, &st) < 0) {
			int r = sys_fail(err, path, "cannot open");

			if (in >= 0)
				close(in);
			return r;
		}
		uint64_t left = (uint64_t)st.st_size;
		int kernel = 1;

		while (left) {
			ssize_t c;

			if (cancel && *cancel) {
				close(in);
				return img_err_set(err, EINTR, "interrupted");
			}
			size_t want = left > COPY_CHUNK ? COPY_CHUNK : (size_t)left;

			if (kernel) {
				c = copy_file_range(in, NULL, dfd, NULL, want, 0);
				if (c < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
					kernel = 0;
					continue;
				}
			} else {
				static __thread uint8_t buf[1 << 16];

				c = read(in, buf, want > sizeof(buf) ? sizeof(buf) : want);
				if (c > 0 && write_all(dfd, buf, (size_t)c))
					c = -1;
			}
			if (c < 0 && errno == EINTR)
				continue;
			if (c <= 0) {
				int r = sys_fail(err, name, c ? "copy error" : "the file shrank while it was copied");

				close(in);
				return r;
			}
			left -= (uint64_t)c;
			progress(wp, name, (uint64_t)c);
		}
		close(in);
		return 0;
	}
	struct img_src *src;
	int r = img_dir_get(set->d, name, &src, err);

	if (r)
		return r;
	/* members of compressed archives are not mapped: read through the source */
	uint8_t *buf = src->data ? NULL : img_malloc(COPY_CHUNK);

	if (!src->data && !buf) {
		img_src_unref(src);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	for (uint64_t o = 0; o < src->size; o += COPY_CHUNK) {
		size_t n = src->size - o > COPY_CHUNK ? COPY_CHUNK : (size_t)(src->size - o);
		const uint8_t *p = src->data ? src->data + o : buf;

		if (cancel && *cancel) {
			r = img_err_set(err, EINTR, "interrupted");
			break;
		}
		if (!src->data && (r = img_src_pread(src, buf, n, o, err)))
			break;
		if (write_all(dfd, p, n)) {
			r = sys_fail(err, name, "write error");
			break;
		}
		progress(wp, name, n);
	}
	img_free(buf);
	img_src_unref(src);
	return r;
}

/* Whether an image re-encodes to the bytes it was read from: then it is copied as it is. */
static int same_as_source(struct img_image *img, const struct img_buf *b)
{
	return img->src && img->src->size == b->len && !memcmp(img->src->data, b->data, b->len);
}

static int write_member(struct img_set *set, struct member *m, int tdfd, volatile sig_atomic_t *cancel, int sync,
			struct wprog *wp, struct img_err *err)
{
	struct img_buf b;
	mode_t mode = 0644;
	int fd, r = 0, copy = m->state == IMG_SET_SAME || !m->img;

	img_buf_init(&b);
	if (!copy) {
		r = img_image_write(m->img, &b, err);
		if (r) {
			img_err_subject(err, m->name);
			img_buf_free(&b);
			return r;
		}
		if (m->orig && same_as_source(m->img, &b))
			copy = 1;
	}
	if (m->orig && set->d->ops->name && !strcmp(set->d->ops->name, "directory")) {
		char path[PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", set->d->path, m->name);
		if (stat(path, &st) == 0)
			mode = st.st_mode & 07777;
	}
	fd = openat(tdfd, m->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		img_buf_free(&b);
		return sys_fail(err, m->name, "cannot create");
	}
	if (copy && m->orig)
		r = copy_member(set, m->name, fd, cancel, wp, err);
	else if (write_all(fd, b.data, b.len))
		r = sys_fail(err, m->name, "write error");
	else
		progress(wp, m->name, m->size);
	img_buf_free(&b);
	for (size_t i = 0; !r && i < m->npatches; i++) {
		struct patch *p = &m->patches[i];

		if (pwrite(fd, p->p, p->n, (off_t)p->off) != (ssize_t)p->n)
			r = sys_fail(err, m->name, "cannot patch");
	}
	if (!r && (fchmod(fd, mode) < 0 || (sync && fdatasync(fd) < 0)))
		r = sys_fail(err, m->name, "write error");
	if (close(fd) < 0 && !r)
		r = sys_fail(err, m->name, "write error");
	return r;
}

/* Remove a temporary folder: plain entries only, never followed. */
static void remove_tmp(int pdfd, const char *name)
{
	int dfd = openat(pdfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *dir;
	struct dirent *de;

	if (dfd >= 0) {
		dir = fdopendir(dfd);
		if (dir) {
			while ((de = readdir(dir)))
				if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
					unlinkat(dirfd(dir), de->d_name, 0);
			closedir(dir);
		} else
			close(dfd);
	}
	unlinkat(pdfd, name, AT_REMOVEDIR);
}

/* Temporary folders of killed runs: named for the target, with no one holding their lock. */
static void clean_stale(int pdfd, const char *prefix)
{
	int dfd = dup(pdfd);
	DIR *dir;
	struct dirent *de;
	size_t plen = strlen(prefix);

	if (dfd < 0)
		return;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return;
	}
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, prefix, plen) || strlen(de->d_name) != plen + 6)
			continue;
		int fd = openat(pdfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			remove_tmp(pdfd, de->d_name);
		close(fd);
	}
	closedir(dir);
}

/* The folder out lies in ("." for a plain name), and its own name. */
static int split_out(const char *out, char *parent, size_t plen, char *base, size_t blen)
{
	size_t n = strlen(out), b;

	while (n > 1 && out[n - 1] == '/')
		n--;
	b = n;
	while (b > 0 && out[b - 1] != '/')
		b--;
	if (n - b >= blen || b >= plen || n == b)
		return -ENAMETOOLONG;
	memcpy(base, out + b, n - b);
	base[n - b] = 0;
	if (!b)
		memcpy(parent, ".", 2);
	else if (b == 1)
		memcpy(parent, "/", 2);
	else {
		memcpy(parent, out, b - 1);
		parent[b - 1] = 0;
	}
	if (!strcmp(base, ".") || !strcmp(base, ".."))
		return -EINVAL;
	return 0;
}

/* Refuse an output inside the input folder: writing there would change the input. */
static int inside_input(struct img_set *set, const char *parent)
{
	char a[PATH_MAX], b[PATH_MAX];
	size_t n;

	if (!set->d->ops->name || strcmp(set->d->ops->name, "directory"))
		return 0;
	if (!realpath(set->d->path, a) || !realpath(parent, b))
		return 0;
	n = strlen(a);
	return !strncmp(a, b, n) && (b[n] == 0 || b[n] == '/' || n == 1);
}

int img_set_write(struct img_set *set, const char *out, const struct img_set_write_opts *o, struct img_err *err)
{
	char parent[PATH_MAX], base[NAME_MAX + 1], tmpname[NAME_MAX + 32], tmppath[PATH_MAX + NAME_MAX + 32];
	volatile sig_atomic_t *cancel = o ? o->cancel : NULL;
	struct stat st;
	int pdfd, tdfd, lockfd, r = 0;

	if (split_out(out, parent, sizeof(parent), base, sizeof(base))) {
		img_err_subject(err, out);
		return img_err_set(err, EINVAL, "not a folder name to write");
	}
	if (strlen(base) > NAME_MAX - 16) {
		img_err_subject(err, out);
		return img_err_set(err, ENAMETOOLONG, "name too long");
	}
	if (lstat(out, &st) == 0) {
		img_err_subject(err, out);
		return img_err_set(err, EEXIST, "already exists; choose a new name or remove it");
	}
	if (inside_input(set, parent)) {
		img_err_subject(err, out);
		return img_err_set(err, EINVAL, "lies inside the input folder, which is never written");
	}
	pdfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pdfd < 0)
		return sys_fail(err, parent, "cannot open the folder");
	char prefix[NAME_MAX + 16];

	snprintf(prefix, sizeof(prefix), ".%s.tmp-", base);
	clean_stale(pdfd, prefix);
	snprintf(tmpname, sizeof(tmpname), "%sXXXXXX", prefix);
	if (snprintf(tmppath, sizeof(tmppath), "%s/%s", parent, tmpname) >= (int)sizeof(tmppath)) {
		close(pdfd);
		img_err_subject(err, out);
		return img_err_set(err, ENAMETOOLONG, "path too long");
	}
	if (!mkdtemp(tmppath)) {
		r = sys_fail(err, parent, "cannot create a temporary folder");
		close(pdfd);
		return r;
	}
	/* mkdtemp filled in the XXXXXX of the path: the name takes the same letters */
	memcpy(tmpname + strlen(tmpname) - 6, tmppath + strlen(tmppath) - 6, 6);
	tdfd = openat(pdfd, tmpname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	lockfd = tdfd >= 0 ? dup(tdfd) : -1;
	if (tdfd < 0 || lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
		r = sys_fail(err, tmppath, "cannot open the temporary folder");
		goto fail;
	}
	if (fchmod(tdfd, 0755) < 0) {
		r = sys_fail(err, tmppath, "cannot set the mode");
		goto fail;
	}
	struct wprog wp = { o, 0, 0 };

	for (size_t i = 0; i < set->n; i++)
		if (set->m[i].state != IMG_SET_REMOVED)
			wp.total += set->m[i].size;
	for (size_t i = 0; i < set->n && !r; i++) {
		if (cancel && *cancel) {
			r = img_err_set(err, EINTR, "interrupted");
			break;
		}
		if (set->m[i].state == IMG_SET_REMOVED)
			continue;
		r = write_member(set, &set->m[i], tdfd, cancel, o && o->sync, &wp, err);
	}
	if (!r && set->parent_link && symlinkat(set->parent_link, tdfd, "parent") < 0)
		r = sys_fail(err, "parent", "cannot make the link");
	if (!r && o && o->sync && fsync(tdfd) < 0)
		r = sys_fail(err, tmppath, "cannot sync");
	if (!r && cancel && *cancel)
		r = img_err_set(err, EINTR, "interrupted");
	if (!r && o && o->validate)
		r = o->validate(o->arg, tmppath, err);
	if (r)
		goto fail;
	if (renameat2(pdfd, tmpname, pdfd, base, RENAME_NOREPLACE) < 0) {
		if (errno != EINVAL && errno != ENOSYS) {
			r = sys_fail(err, out, "cannot rename the temporary folder");
			goto fail;
		}
		/* a file system without RENAME_NOREPLACE: rename refuses a non-empty folder anyway */
		if (fstatat(pdfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 || renameat(pdfd, tmpname, pdfd, base) < 0) {
			errno = errno ? errno : EEXIST;
			r = sys_fail(err, out, "cannot rename the temporary folder");
			goto fail;
		}
	}
	if (o && o->sync)
		fsync(pdfd);
	close(tdfd);
	close(lockfd);
	close(pdfd);
	return 0;
fail:
	if (tdfd >= 0)
		close(tdfd);
	remove_tmp(pdfd, tmpname);
	if (lockfd >= 0)
		close(lockfd);
	close(pdfd);
	return r;
}
