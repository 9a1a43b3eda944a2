/*
 * Opening an archive: one pass over the tar stream (mapped, or inflated once
 * for a tar.gz) lists the members from their headers alone; then every rule
 * a hostile archive could break is checked before anyone reads a member.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define CACHE_MAX ((uint64_t)32 << 20) /* tar.gz: small members kept inflated, in all */

struct walk {
	struct img_archive *a;
	uint64_t pos;       /* offset in the tar stream */
	uint8_t *buf;       /* tar.gz: inflated header and extended-header bytes */
	size_t cap;
};

/* An error about a member: "member 'NAME' at offset 0x...: MSG". */
static int IMG_PRINTF(5, 6) member_err(const struct img_archive *a, const char *name, uint64_t off,
				       struct img_err *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return img_err_set(err, EINVAL, "member '%.300s' at offset 0x%llx%s: %s", name, (unsigned long long)off,
			   a->where, msg);
}

/* Keep the inflated data of member i of a tar.gz, when the cache has room: later reads cost nothing. */
static struct img_src *cache_put(struct img_archive *a, size_t i, const uint8_t *p, size_t n)
{
	const struct img_tar_member *m = &a->m[i];
	char *name = img_malloc(strlen(a->path) + strlen(m->path) + 2);
	uint8_t *copy = img_malloc(n ? n : 1);
	struct img_src *s = NULL;

	if (name && copy) {
		sprintf(name, "%s:%s", a->path, m->path);
		memcpy(copy, p, n);
		s = img_src_heap(copy, n, name);
		copy = NULL;
	}
	img_free(copy);
	img_free(name);
	if (s && a->cached + n <= CACHE_MAX) {
		a->cache[i] = img_src_ref(s);
		a->cached += n;
	}
	return s;
}

/* The next n bytes of the tar stream; *got < n at its end. */
static int walk_get(struct walk *w, size_t n, const uint8_t **p, size_t *got, struct img_err *err)
{
	struct img_archive *a = w->a;
	uint64_t g;
	int r;

	if (!a->gz) {
		uint64_t left = a->file->size - w->pos;

		*got = left < n ? (size_t)left : n;
		*p = a->file->data + w->pos;
		w->pos += *got;
		return 0;
	}
	if (n > w->cap) {
		uint8_t *nb = img_realloc(w->buf, n);

		if (!nb)
			return img_err_set(err, ENOMEM, "out of memory");
		w->buf = nb;
		w->cap = n;
	}
	r = img_gz_next(a->gz, w->buf, n, &g, err);
	if (r)
		return r;
	*p = w->buf;
	*got = (size_t)g;
	w->pos += g;
	return 0;
}

/* Skip n bytes of member data; the stream must hold them all. */
static int walk_skip(struct walk *w, uint64_t n, const char *name, uint64_t hoff, struct img_err *err)
{
	struct img_archive *a = w->a;
	uint64_t got;
	int r;

	if (!a->gz) {
		if (a->file->size - w->pos < n)
			return member_err(a, name, hoff, err, "truncated: its data runs to offset 0x%llx, past the end "
					  "of the archive (%zu bytes)", (unsigned long long)(w->pos + n), a->file->size);
		w->pos += n;
		return 0;
	}
	r = img_gz_next(a->gz, NULL, n, &got, err);
	if (r)
		return r;
	w->pos += got;
	if (got < n)
		return member_err(a, name, hoff, err, "truncated: its data runs to offset 0x%llx, past the end of "
				  "the archive (0x%llx)", (unsigned long long)(w->pos - got + n),
				  (unsigned long long)w->pos);
	return 0;
}

static uint64_t pad512(uint64_t n)
{
	return (512 - n % 512) % 512;
}

static const char *kind_name(int kind)
{
	static const char *const names[] = { "?", "file", "folder", "symlink", "hardlink" };

	return kind >= 0 && kind <= IMG_TAR_HARDLINK ? names[kind] : "?";
}

/* Member types: what each typeflag is, or why it is refused. */
static const struct {
	char type;
	int kind;
	const char *refused;
} types[] = {
	{ '0', IMG_TAR_REG, NULL },
	{ '\0', IMG_TAR_REG, NULL },
	{ '7', IMG_TAR_REG, NULL },
	{ '1', IMG_TAR_HARDLINK, NULL },
	{ '2', IMG_TAR_SYMLINK, NULL },
	{ '5', IMG_TAR_DIR, NULL },
	{ '3', 0, "a character device" },
	{ '4', 0, "a block device" },
	{ '6', 0, "a FIFO" },
	{ 'S', 0, "a GNU sparse file (not supported)" },
	{ 'M', 0, "a multi-volume continuation (not supported)" },
	{ 'D', 0, "a GNU dump folder (not supported)" },
};

static int add_member(struct walk *w, const struct img_tar_hdr *h, const char *name, const char *link,
		      uint64_t size, uint64_t hoff, int *skip, struct img_err *err)
{
	struct img_archive *a = w->a;
	struct img_tar_member *m;
	char path[IMG_TAR_NAME_MAX + 2], dir[IMG_TAR_NAME_MAX + 2], tgt[IMG_TAR_NAME_MAX + 2];
	int kind = -1;
	const char *why = NULL;

	*skip = 0;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == h->type) {
			kind = types[i].kind;
			why = types[i].refused;
		}
	if (kind < 0)
		return member_err(a, name, hoff, err, "unknown member type '%c'",
				  h->type > 32 && h->type < 127 ? h->type : '?');
	if (why)
		return member_err(a, name, hoff, err, "%s is not allowed in a checkpoint archive", why);
	/* old tars mark folders with a trailing slash only */
	if (kind == IMG_TAR_REG && h->type != '0' && name[0] && name[strlen(name) - 1] == '/')
		kind = IMG_TAR_DIR;
	if (img_tar_name_clean(name, path, sizeof(path), err)) {
		img_err_prefix(err, "member '%.200s' at offset 0x%llx%s", name, (unsigned long long)hoff, w->a->where);
		return -EINVAL;
	}
	if (kind != IMG_TAR_REG && size)
		return member_err(a, path, hoff, err, "a %s with %llu bytes of data", kind_name(kind),
				  (unsigned long long)size);
	if (!path[0]) {
		if (kind != IMG_TAR_DIR)
			return member_err(a, name, hoff, err, "a %s that names the top folder", kind_name(kind));
		*skip = 1; /* "./": the top folder itself */
		return 0;
	}
	if (kind == IMG_TAR_SYMLINK) {
		img_tar_path_dir(path, dir, sizeof(dir));
		if (!link[0])
			return member_err(a, path, hoff, err, "a symlink to nothing");
		if (img_tar_path_resolve(dir, link, tgt, sizeof(tgt)))
			return member_err(a, path, hoff, err, "symlink to '%s' points out of the archive", link);
	} else if (kind == IMG_TAR_HARDLINK) {
		if (!link[0] || img_tar_name_clean(link, tgt, sizeof(tgt), NULL) || !tgt[0])
			return member_err(a, path, hoff, err, "hardlink to '%s' points out of the archive", link);
		link = tgt;
	}
	if (a->n == IMG_TAR_MEMBERS_MAX)
		return member_err(a, path, hoff, err, "more than %d members", IMG_TAR_MEMBERS_MAX);
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct img_tar_member *nm = img_realloc(a->m, cap * sizeof(*nm));
		struct img_src **nc = nm && a->gz ? img_realloc(a->cache, cap * sizeof(*nc)) : NULL;

		if (nm)
			a->m = nm;
		if (!nm || (a->gz && !nc))
			return img_err_set(err, ENOMEM, "out of memory");
		if (nc) {
			memset(nc + a->cap, 0, (cap - a->cap) * sizeof(*nc));
			a->cache = nc;
		}
		a->cap = cap;
	}
	m = &a->m[a->n];
	memset(m, 0, sizeof(*m));
	m->path = img_arena_strndup(&a->names, path, strlen(path));
	m->link = kind == IMG_TAR_SYMLINK || kind == IMG_TAR_HARDLINK ? img_arena_strndup(&a->names, link, strlen(link))
								      : NULL;
	if (!m->path || ((kind == IMG_TAR_SYMLINK || kind == IMG_TAR_HARDLINK) && !m->link))
		return img_err_set(err, ENOMEM, "out of memory");
	m->kind = kind;
	m->mode = h->mode;
	m->size = size;
	m->mtime = h->mtime;
	m->hdr_off = hoff;
	m->data_off = w->pos;
	a->n++;
	return 0;
}

/* Extended headers gathered for the next member. */
struct ext {
	struct img_tar_pax pax, global;
	char longname[IMG_TAR_NAME_MAX + 2];
	char longlink[IMG_TAR_NAME_MAX + 2];
	int has_longname, has_longlink;
	int chain;
	uint64_t first; /* offset of the first extended header */
};

static int read_ext(struct walk *w, struct ext *x, const struct img_tar_hdr *h, uint64_t hoff, struct img_err *err)
{
	uint64_t max = h->type == 'L' || h->type == 'K' ? IMG_TAR_NAME_MAX + 1 : IMG_TAR_PAX_MAX;
	const uint8_t *p;
	size_t got;
	int r;

	if (!x->chain++)
		x->first = hoff;
	if (x->chain > IMG_TAR_EXT_CHAIN)
		return img_err_set(err, EINVAL, "header at offset 0x%llx%s: more than %d extended headers before one member",
				   (unsigned long long)hoff, w->a->where, IMG_TAR_EXT_CHAIN);
	if (h->size > max)
		return img_err_set(err, EINVAL, "header at offset 0x%llx%s: an extended header ('%c') of %llu bytes, more than %llu",
				   (unsigned long long)hoff, w->a->where, h->type, (unsigned long long)h->size,
				   (unsigned long long)max);
	r = walk_get(w, (size_t)h->size, &p, &got, err);
	if (r)
		return r;
	if (got < h->size)
		return img_err_set(err, EINVAL, "header at offset 0x%llx%s: truncated: the archive ends inside its data",
				   (unsigned long long)hoff, w->a->where);
	switch (h->type) {
	case 'x':
		r = img_tar_pax_parse(p, got, &x->pax, err);
		break;
	case 'g':
		memset(&x->global, 0, sizeof(x->global));
		r = img_tar_pax_parse(p, got, &x->global, err);
		break;
	case 'L':
	case 'K': {
		char *dst = h->type == 'L' ? x->longname : x->longlink;
		size_t n = strnlen((const char *)p, got);

		memcpy(dst, p, n);
		dst[n] = 0;
		*(h->type == 'L' ? &x->has_longname : &x->has_longlink) = 1;
		break;
	}
	}
	if (r) {
		img_err_prefix(err, "header at offset 0x%llx%s", (unsigned long long)hoff, w->a->where);
		return r;
	}
	return walk_skip(w, pad512(got), "(extended header)", hoff, err);
}

static int walk_tar(struct walk *w, struct img_err *err)
{
	struct ext *x = img_calloc(1, sizeof(*x));
	int r = 0;

	if (!x)
		return img_err_set(err, ENOMEM, "out of memory");
	for (;;) {
		uint64_t hoff = w->pos, size;
		struct img_tar_hdr h;
		const struct img_tar_member *m;
		const char *name, *link;
		const uint8_t *b;
		size_t got;
		int skip;

		r = walk_get(w, 512, &b, &got, err);
		if (r)
			break;
		if (got < 512) {
			r = got ? img_err_set(err, EINVAL, "offset 0x%llx%s: truncated: a header of %zu bytes",
					      (unsigned long long)hoff, w->a->where, got)
				: img_err_set(err, EINVAL, "offset 0x%llx%s: truncated: the archive ends without its end marker",
					      (unsigned long long)hoff, w->a->where);
			break;
		}
		r = img_tar_hdr_parse(b, &h, err);
		if (r < 0) {
			img_err_prefix(err, "header at offset 0x%llx%s", (unsigned long long)hoff, w->a->where);
			break;
		}
		if (r == 1) {
			r = 0;
			if (x->chain)
				r = img_err_set(err, EINVAL, "header at offset 0x%llx%s: extended headers without a member",
						(unsigned long long)x->first, w->a->where);
			break;
		}
		if (h.type == 'x' || h.type == 'g' || h.type == 'L' || h.type == 'K') {
			r = read_ext(w, x, &h, hoff, err);
			if (r)
				break;
			continue;
		}
		if (h.type == 'V') { /* a volume label: no member */
			r = walk_skip(w, h.size + pad512(h.size), "(volume label)", hoff, err);
			if (r)
				break;
			continue;
		}
		name = x->pax.has_path ? x->pax.path : x->has_longname ? x->longname : h.name;
		link = x->pax.has_linkpath ? x->pax.linkpath : x->has_longlink ? x->longlink : h.link;
		size = x->pax.has_size ? x->pax.size : h.size;
		if (x->chain)
			hoff = x->first;
		r = add_member(w, &h, name, link, size, hoff, &skip, err);
		if (r)
			break;
		m = skip ? NULL : &w->a->m[w->a->n - 1];
		/* a small member of a tar.gz is inflated now anyway: keep it while the cache has room */
		if (m && w->a->gz && m->kind == IMG_TAR_REG && size <= IMG_ARCHIVE_INMEM &&
		    w->a->cached + size <= CACHE_MAX) {
			r = walk_get(w, (size_t)size, &b, &got, err);
			if (!r && got < size)
				r = member_err(w->a, m->path, hoff, err, "truncated: the archive ends inside its data");
			if (!r) {
				struct img_src *c = cache_put(w->a, w->a->n - 1, b, got);

				if (!c)
					r = img_err_set(err, ENOMEM, "out of memory");
				img_src_unref(c);
			}
			if (!r)
				r = walk_skip(w, pad512(size), m->path, hoff, err);
		} else
			r = walk_skip(w, size + pad512(size), m ? m->path : name, hoff, err);
		if (r)
			break;
		memset(&x->pax, 0, sizeof(x->pax));
		x->has_longname = x->has_longlink = 0;
		x->chain = 0;
	}
	img_free(x);
	return r;
}

static int cmp_name(const void *pa, const void *pb, void *arg)
{
	const struct img_archive *a = arg;

	return strcmp(a->m[*(const uint32_t *)pa].path, a->m[*(const uint32_t *)pb].path);
}

const struct img_tar_member *img_archive_find(const struct img_archive *a, const char *path)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, a->m[a->byname[mid]].path);

		if (!c)
			return &a->m[a->byname[mid]];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int img_archive_is_dir(const struct img_archive *a, const char *path)
{
	const struct img_tar_member *m = img_archive_find(a, path);
	size_t lo = 0, hi = a->n, n = strlen(path);

	if (m)
		return m->kind == IMG_TAR_DIR;
	/* a folder with no member of its own: the first path after "PATH/" starts with it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *q = a->m[a->byname[mid]].path;
		int c = strncmp(q, path, n);

		if (c < 0 || (!c && (unsigned char)q[n] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n && !strncmp(a->m[a->byname[lo]].path, path, n) && a->m[a->byname[lo]].path[n] == '/';
}

/* Where the images are, and whose layout this is. */
static int find_layout(struct img_archive *a, struct img_err *err)
{
	const struct img_tar_member *c = img_archive_find(a, "checkpoint"), *only = NULL;
	int dirs = 0;

	if (c && c->kind != IMG_TAR_DIR)
		return member_err(a, "checkpoint", c->hdr_off, err, "a %s, not a folder: the images must be members "
				  "of the archive", kind_name(c->kind));
	if (c || img_archive_is_dir(a, "checkpoint")) {
		a->images = "checkpoint";
		a->layout = img_archive_find(a, "config.dump") || img_archive_find(a, "spec.dump") ? "podman"
			    : img_archive_find(a, "status") ? "containerd" : "checkpoint";
		return 0;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct img_tar_member *m = &a->m[i];
		size_t l = strlen(m->path);

		if (strchr(m->path, '/'))
			continue;
		if (m->kind == IMG_TAR_REG && l > 4 && !strcmp(m->path + l - 4, ".img")) {
			a->images = "";
			a->layout = "plain";
			return 0;
		}
		if (m->kind == IMG_TAR_DIR) {
			dirs++;
			only = m;
		}
	}
	if (dirs == 1) {
		char inv[IMG_TAR_NAME_MAX + 32];

		snprintf(inv, sizeof(inv), "%s/inventory.img", only->path);
		if (img_archive_find(a, inv)) {
			a->images = only->path;
			a->layout = "plain";
		}
	}
	return 0;
}

int img_archive_check(struct img_archive *a, struct img_err *err)
{
	char buf[IMG_TAR_NAME_MAX + 2];

	a->byname = img_malloc((a->n ? a->n : 1) * sizeof(*a->byname));
	if (!a->byname)
		return img_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < a->n; i++)
		a->byname[i] = (uint32_t)i;
	if (a->n > 1)
		qsort_r(a->byname, a->n, sizeof(*a->byname), cmp_name, a);
	for (size_t i = 1; i < a->n; i++) {
		const struct img_tar_member *p = &a->m[a->byname[i - 1]], *q = &a->m[a->byname[i]];

		if (!strcmp(p->path, q->path)) {
			if (q->hdr_off < p->hdr_off) {
				const struct img_tar_member *t = p;

				p = q;
				q = t;
			}
			return member_err(a, q->path, q->hdr_off, err, "a second member of that name (the first is "
					  "at offset 0x%llx)", (unsigned long long)p->hdr_off);
		}
	}
	for (size_t i = 0; i < a->n; i++) {
		struct img_tar_member *m = &a->m[i];
		const struct img_tar_member *t;

		/* nothing may lie under a link or a file: unpacking would follow it */
		for (const char *s = strchr(m->path, '/'); s; s = strchr(s + 1, '/')) {
			size_t n = (size_t)(s - m->path);

			memcpy(buf, m->path, n);
			buf[n] = 0;
			t = img_archive_find(a, buf);
			if (t && t->kind != IMG_TAR_DIR)
				return member_err(a, m->path, m->hdr_off, err, "lies under '%s', a %s (at offset 0x%llx)",
						  buf, kind_name(t->kind), (unsigned long long)t->hdr_off);
		}
		if (m->kind != IMG_TAR_HARDLINK)
			continue;
		t = img_archive_find(a, m->link);
		if (!t || t >= m || t->kind == IMG_TAR_DIR || t->kind == IMG_TAR_SYMLINK)
			return member_err(a, m->path, m->hdr_off, err, "hardlink to '%s', which is not an earlier "
					  "file of the archive", m->link);
		m->size = t->size;
		m->data_off = t->data_off;
	}
	return find_layout(a, err);
}

int img_archive_follow(const struct img_archive *a, const char *path, char *out, size_t len, struct img_err *err)
{
	char dir[IMG_TAR_NAME_MAX + 2];
	const struct img_tar_member *m;

	snprintf(out, len, "%s", path);
	for (int hops = 0; hops < 16; hops++) {
		m = img_archive_find(a, out);
		if (!m || m->kind != IMG_TAR_SYMLINK)
			return 0;
		img_tar_path_dir(m->path, dir, sizeof(dir));
		if (img_tar_path_resolve(dir, m->link, out, len))
			return img_err_set(err, EINVAL, "symlink '%s' points out of the archive", m->path);
	}
	return img_err_set(err, ELOOP, "more than 16 symlinks from '%s'", path);
}

const struct img_tar_member *img_archive_resolve(const struct img_archive *a, const char *path,
						 struct img_err *err)
{
	char cur[IMG_TAR_NAME_MAX + 2];
	const struct img_tar_member *m;

	if (img_archive_follow(a, path, cur, sizeof(cur), err))
		return NULL;
	m = img_archive_find(a, cur);
	if (!m)
		img_err_set(err, ENOENT, "no member '%s' in the archive", cur);
	return m;
}

int img_archive_open(const char *path, struct img_archive **out, struct img_err *err)
{
	struct img_archive *a;
	struct walk w = { 0 };
	int r;

	a = img_calloc(1, sizeof(*a));
	if (!a || !(a->path = img_strdup(path))) {
		img_free(a);
		img_err_subject(err, path);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	a->refs = 1;
	img_arena_init(&a->names);
	r = img_src_open(path, &a->file, err);
	if (r) {
		img_archive_unref(a);
		return r;
	}
	img_err_subject(err, path);
	w.a = a;
	a->where = "";
	if (a->file->size >= 2 && a->file->data[0] == 0x1f && a->file->data[1] == 0x8b) {
		r = img_gz_open(a->file, &a->gz, err);
		a->where = " of the uncompressed tar";
	}
	/* a plain tar: the walk touches headers only, so no read-ahead of the data between them */
	if (!r && !a->gz && a->file->how == IMG_SRC_MMAP)
		madvise((void *)a->file->data, a->file->size, MADV_RANDOM);
	if (!r)
		r = walk_tar(&w, err);
	if (!a->gz && a->file->how == IMG_SRC_MMAP)
		madvise((void *)a->file->data, a->file->size, MADV_NORMAL);
	a->tar_size = w.pos;
	if (!r && a->gz)
		r = img_gz_finish(a->gz, err);
	img_free(w.buf);
	if (!r)
		r = img_archive_check(a, err);
	if (r) {
		img_err_subject(err, path);
		img_archive_unref(a);
		return r;
	}
	*out = a;
	return 0;
}

struct img_archive *img_archive_ref(struct img_archive *a)
{
	if (a)
		a->refs++;
	return a;
}

void img_archive_unref(struct img_archive *a)
{
	if (!a || --a->refs > 0)
		return;
	for (size_t i = 0; a->cache && i < a->n; i++)
		img_src_unref(a->cache[i]);
	img_free(a->cache);
	img_gz_free(a->gz);
	img_src_unref(a->file);
	img_free(a->m);
	img_free(a->byname);
	img_arena_free(&a->names);
	img_free(a->path);
	img_free(a);
}

size_t img_archive_count(const struct img_archive *a)
{
	return a->n;
}

const struct img_tar_member *img_archive_member(const struct img_archive *a, size_t i)
{
	return i < a->n ? &a->m[i] : NULL;
}

const char *img_archive_layout(const struct img_archive *a)
{
	return a->layout;
}

const char *img_archive_images(const struct img_archive *a)
{
	return a->images;
}

void img_archive_stats(const struct img_archive *a, struct img_archive_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (a->gz)
		img_gz_stats(a->gz, st);
	st->file_size = a->file->size;
	st->tar_size = a->tar_size;
}

int img_archive_read(struct img_archive *a, const struct img_tar_member *m, uint64_t off, void *buf, size_t n,
		     struct img_err *err)
{
	int r;

	if (off > m->size || n > m->size - off) {
		img_err_subject(err, a->path);
		return img_err_set(err, EINVAL, "member '%s': offset 0x%llx: %zu bytes asked, %llu left", m->path,
				   (unsigned long long)off, n,
				   (unsigned long long)(off > m->size ? 0 : m->size - off));
	}
	if (!a->gz) {
		memcpy(buf, a->file->data + m->data_off + off, n);
		return 0;
	}
	r = img_gz_pread(a->gz, m->data_off + off, buf, n, err);
	if (r) {
		img_err_subject(err, a->path);
		img_err_prefix(err, "member '%s'", m->path);
	}
	return r;
}

/* A large member of a tar.gz: read through the index, never whole. */
struct window {
	struct img_archive *a;
	const struct img_tar_member *m;
};

static int window_pread(struct img_src *s, void *buf, size_t n, uint64_t off, struct img_err *err)
{
	struct window *w = s->priv;

	return img_archive_read(w->a, w->m, off, buf, n, err);
}

static void window_release(struct img_src *s)
{
	struct window *w = s->priv;

	img_archive_unref(w->a);
	img_free(w);
}

static const struct img_src_ops window_ops = { window_pread, window_release };

int img_archive_src(struct img_archive *a, const struct img_tar_member *m, struct img_src **out,
		    struct img_err *err)
{
	size_t i = (size_t)(m - a->m);
	struct img_src *s = NULL;
	char *name;
	int r;

	if (m->kind != IMG_TAR_REG && m->kind != IMG_TAR_HARDLINK) {
		img_err_subject(err, a->path);
		return img_err_set(err, EISDIR, "member '%s' is a %s, not a file", m->path, kind_name(m->kind));
	}
	if (a->cache && a->cache[i]) {
		*out = img_src_ref(a->cache[i]);
		return 0;
	}
	name = img_malloc(strlen(a->path) + strlen(m->path) + 2);
	if (!name)
		goto nomem;
	sprintf(name, "%s:%s", a->path, m->path);
	if (!a->gz) {
		s = img_src_slice(a->file, m->data_off, m->size, name);
	} else if (m->size > IMG_ARCHIVE_INMEM) {
		struct window *w = img_malloc(sizeof(*w));

		if (w) {
			w->a = img_archive_ref(a);
			w->m = m;
			s = img_src_window(m->size, name, &window_ops, w);
			if (!s)
				window_release(&(struct img_src){ .priv = w });
		}
	} else {
		uint8_t *p = img_malloc(m->size ? m->size : 1);

		if (p && (r = img_archive_read(a, m, 0, p, m->size, err))) {
			img_free(p);
			img_free(name);
			return r;
		}
		if (p)
			s = cache_put(a, i, p, m->size);
		img_free(p);
	}
	img_free(name);
	if (!s)
		goto nomem;
	*out = s;
	return 0;
nomem:
	img_err_subject(err, a->path);
	return img_err_set(err, ENOMEM, "out of memory");
}
