/*
 * Two image sets with the same members and the same bytes (parents too) are
 * the same checkpoint: found by comparing the files, small ones first, the
 * way cmp(1) would, before any model is built.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "priv.h"

#define MAX_PARENTS 16
#define CHUNK 65536

/* Map a piece of a file in one call rather than a page fault at a time (the bytes are in the page cache). */
void prefault(const void *p, size_t n)
{
#ifdef MADV_POPULATE_READ
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095, e = (uintptr_t)p + n;

	if (n >= 65536)
		madvise((void *)a, e - a, MADV_POPULATE_READ); /* a hint: without it, the faults do the same */
#else
	(void)p;
	(void)n;
#endif
}

int src_same(struct img_src *a, struct img_src *b)
{
	uint8_t *ba, *bb;
	int same;

	if (a->size != b->size)
		return 0;
	if (a->data && b->data) {
		/* in pieces, dropped behind: a large pages file need not stay resident */
		for (uint64_t off = 0; off < a->size; off += (uint64_t)8 << 20) {
			size_t n = a->size - off < ((uint64_t)8 << 20) ? (size_t)(a->size - off) : (size_t)8 << 20;

			prefault(a->data + off, n);
			prefault(b->data + off, n);
			if (memcmp(a->data + off, b->data + off, n))
				return 0;
			if (a->size > ((uint64_t)8 << 20)) {
				img_src_release(a, a->data + off, n);
				img_src_release(b, b->data + off, n);
			}
		}
		return 1;
	}
	ba = img_malloc(CHUNK);
	bb = img_malloc(CHUNK);
	same = ba && bb;
	for (uint64_t off = 0; off < a->size && same; off += CHUNK) {
		size_t n = a->size - off < CHUNK ? (size_t)(a->size - off) : CHUNK;

		same = !img_src_pread(a, ba, n, off, NULL) && !img_src_pread(b, bb, n, off, NULL) && !memcmp(ba, bb, n);
	}
	img_free(ba);
	img_free(bb);
	return same;
}

static int add(void *arg, const char *name, uint64_t size)
{
	struct members *l = arg;

	if (l->keep && !l->keep(l, name))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct member *v = img_realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->failed = 1;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n].name = img_strdup(name))) {
		l->failed = 1;
		return 1;
	}
	l->v[l->n++].size = size;
	return 0;
}

int members_list(struct img_dir *d, struct members *l, struct img_err *err)
{
	int r = img_dir_each(d, add, l);

	if (r || l->failed)
		return img_err_set(err, l->failed ? ENOMEM : -r, "cannot list the images of '%s'", d->path);
	return 0;
}

void members_free(struct members *l)
{
	for (size_t i = 0; i < l->n; i++)
		img_free(l->v[i].name);
	img_free(l->v);
	memset(l, 0, sizeof(*l));
}

static int same_dirs(struct img_dir *a, struct img_dir *b, int depth, int *same, struct img_err *err)
{
	struct members la = { 0 }, lb = { 0 };
	struct img_dir *pa = NULL, *pb = NULL;
	size_t *order = NULL;
	int r;

	*same = 0;
	r = members_list(a, &la, err);
	if (!r)
		r = members_list(b, &lb, err);
	if (r)
		goto out;
	/* img_dir_each gives sorted names: the lists are the same or not */
	if (la.n != lb.n)
		goto out;
	for (size_t i = 0; i < la.n; i++)
		if (strcmp(la.v[i].name, lb.v[i].name) || la.v[i].size != lb.v[i].size)
			goto out;
	order = img_malloc((la.n + 1) * sizeof(*order));
	if (!order) {
		r = img_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* the small files first: two dumps differ in their inventory long before their pages */
	for (size_t i = 0; i < la.n; i++) {
		size_t k = i;

		while (k && la.v[order[k - 1]].size > la.v[i].size) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = i;
	}
	for (size_t k = 0; k < la.n; k++) {
		struct img_src *sa = NULL, *sb = NULL;
		const char *name = la.v[order[k]].name;
		int s;

		r = img_dir_get(a, name, &sa, err);
		if (!r)
			r = img_dir_get(b, name, &sb, err);
		s = !r && src_same(sa, sb);
		img_src_unref(sa);
		img_src_unref(sb);
		if (r || !s)
			goto out;
	}
	/* and the parents the pages of an incremental dump are in */
	r = img_dir_parent(a, &pa, err);
	if (r && r != -ENOENT)
		goto out;
	r = img_dir_parent(b, &pb, err);
	if (r && r != -ENOENT)
		goto out;
	r = 0;
	if (!pa && !pb)
		*same = 1;
	else if (pa && pb && depth < MAX_PARENTS)
		r = same_dirs(pa, pb, depth + 1, same, err);
out:
	img_dir_close(pa);
	img_dir_close(pb);
	img_free(order);
	members_free(&la);
	members_free(&lb);
	return r;
}

int img_diff_identical(const char *a, const char *b, int *same, struct img_err *err)
{
	struct img_dir *da = NULL, *db = NULL;
	struct stat sa, sb;
	int r;

	*same = 0;
	/* one folder or archive named twice is the same checkpoint, as diff(1) and cmp(1) say of one file */
	if (!stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) {
		*same = 1;
		return 0;
	}
	/* only image folders (directories, archives); anything else is for img_diff_open to say */
	if (img_dir_open(a, &da, NULL) || img_dir_open(b, &db, NULL)) {
		img_dir_close(da);
		return 0;
	}
	r = same_dirs(da, db, 0, same, err);
	img_dir_close(da);
	img_dir_close(db);
	return r;
}
