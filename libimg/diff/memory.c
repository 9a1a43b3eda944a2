/*
 * Memory: the pages of each pair of mappings, compared in place.  Both
 * sides are walked in address order with img_mem_run; where both hold bytes
 * they are compared with memcmp (a whole run at once, then page by page where
 * it differs), and nothing is copied or read whole.  A page one side holds and
 * the other does not is added or removed; consecutive pages of one kind make
 * one range.  Behind the walk, the pages of large runs are dropped from memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

#define PAGE IMG_PAGE_SIZE
/* runs at most this long, so that what was compared can be dropped behind */
#define STEP ((uint64_t)8 << 20)

struct shmown {
	uint64_t a, b;      /* shmids */
	size_t pair;
};

uint64_t vma_shmid(const struct img_vma *v)
{
	return v->file && v->file->type == 18 ? v->file->shmid : v->shmid;
}

static int cmp_shmown(const void *x, const void *y)
{
	const struct shmown *a = x, *b = y;

	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if (a->b != b->b)
		return a->b < b->b ? -1 : 1;
	return a->pair < b->pair ? -1 : a->pair > b->pair;
}

/* Which pair compares each pair of shared memory objects: the first that maps them. */
static int mem_owners(struct img_diff *d, struct img_err *err)
{
	size_t n = 0, cap = 0, k = 0;

	if (d->shm_done)
		return 0;
	for (size_t i = 0; i < d->npairs; i++) {
		const struct img_task *a = d->pairs[i].pub.a;

		if (a && a->mm)
			cap += a->mm->nvmas;
	}
	d->shm = img_calloc(cap + 1, sizeof(*d->shm));
	if (!d->shm)
		return img_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < d->npairs; i++) {
		const struct img_task *a = d->pairs[i].pub.a, *b = d->pairs[i].pub.b;
		const struct vpair *vp;
		size_t nv, shared = 0;
		int r;

		for (size_t j = 0; a && a->mm && j < a->mm->nvmas && !shared; j++)
			shared = a->mm->vmas[j].kind == IMG_VMA_SHARED;
		if (!shared)
			continue;
		r = pair_vmas(d, &d->pairs[i], &vp, &nv, err);
		if (r)
			return r;
		for (size_t j = 0; j < nv && n < cap; j++) {
			const struct img_vma *va = vp[j].a >= 0 ? &a->mm->vmas[vp[j].a] : NULL;
			const struct img_vma *vb = vp[j].b >= 0 ? &b->mm->vmas[vp[j].b] : NULL;

			if (va && va->kind == IMG_VMA_SHARED)
				d->shm[n++] = (struct shmown){ vma_shmid(va),
							       vb && vb->kind == IMG_VMA_SHARED ? vma_shmid(vb) : 0, i };
		}
	}
	img_sort(d->shm, n, sizeof(*d->shm), cmp_shmown);
	for (size_t i = 0; i < n; i++)
		if (!k || d->shm[k - 1].a != d->shm[i].a || d->shm[k - 1].b != d->shm[i].b)
			d->shm[k++] = d->shm[i];
	d->nshm = k;
	d->shm_done = 1;
	return 0;
}

static int shm_owned(const struct img_diff *d, size_t pair, uint64_t a, uint64_t b)
{
	for (size_t i = 0; i < d->nshm; i++) /* few: shared mappings */
		if (d->shm[i].a == a && d->shm[i].b == b)
			return d->shm[i].pair == pair;
	return 1;
}

int shm_mapped(struct img_diff *d, uint64_t shmid_a, struct img_err *err)
{
	int r = mem_owners(d, err);

	if (r)
		return r;
	for (size_t i = 0; i < d->nshm; i++)
		if (d->shm[i].a == shmid_a)
			return 1;
	return 0;
}

/* Ranges being built: pages of one kind, one after the other */

struct acc {
	struct dctx *c;
	int op;                  /* 0: none open */
	struct img_diff_range r;
	const struct img_vma *va, *vb;
};

static int flush(struct acc *x)
{
	int r = 0;

	if (x->op)
		r = emit_range(x->c, x->op, &x->r);
	x->op = 0;
	return r;
}

/* One page (or several of one kind) at A address a (B address b). */
static int add_pages(struct acc *x, int op, uint64_t a, uint64_t b, uint64_t len, int sa, int sb, uint64_t bytes,
		     uint64_t first)
{
	uint64_t addr = op == IMG_DIFF_ADDED && !x->va ? b : a;

	if (x->op == op && x->r.end == addr && x->r.b_start + (x->r.end - x->r.start) == b) {
		x->r.end += len;
		x->r.pages += len / PAGE;
		x->r.bytes += bytes;
		return 0;
	}
	int r = flush(x);

	if (r)
		return r;
	x->op = op;
	memset(&x->r, 0, sizeof(x->r));
	x->r.start = addr;
	x->r.end = addr + len;
	x->r.b_start = b;
	x->r.vma_a = x->va;
	x->r.vma_b = x->vb;
	x->r.state_a = sa;
	x->r.state_b = sb;
	x->r.pages = len / PAGE;
	x->r.bytes = bytes;
	x->r.first = first;
	return 0;
}

static uint64_t count_diff(const uint8_t *p, const uint8_t *q, size_t n, size_t *first)
{
	uint64_t k = 0;

	*first = n;
	for (size_t i = 0; i < n; i++)
		if (p[i] != q[i]) {
			if (!k)
				*first = i;
			k++;
		}
	return k;
}

static int has_data(const struct img_mem_run *r)
{
	return r->data != NULL;
}

/* Compare [sa, sa+len) of ma with [sb, sb+len) of mb. */
static int walk_both(struct acc *x, struct img_mem *ma, uint64_t sa, struct img_mem *mb, uint64_t sb, uint64_t len)
{
	struct img_err *err = x->c->err;
	uint64_t o = 0;
	int r = 0;

	while (o < len && !r) {
		uint64_t lim = len - o < STEP ? len - o : STEP, step;
		struct img_mem_run ra, rb;

		r = img_mem_run(ma, sa + o, sa + o + lim, &ra, err);
		if (!r)
			r = img_mem_run(mb, sb + o, sb + o + lim, &rb, err);
		if (r)
			break;
		step = ra.end - (sa + o);
		if (rb.end - (sb + o) < step)
			step = rb.end - (sb + o);
		if (!step)
			return img_err_set(err, EIO, "no progress reading the memory at 0x%llx", (unsigned long long)(sa + o));
		if (has_data(&ra) && has_data(&rb)) {
			if (memcmp(ra.data, rb.data, step)) {
				for (uint64_t p = 0; p < step && !r; p += PAGE) {
					uint64_t n = step - p < PAGE ? step - p : PAGE, k;
					size_t first;

					if (!memcmp(ra.data + p, rb.data + p, n))
						continue;
					k = count_diff(ra.data + p, rb.data + p, (size_t)n, &first);
					r = add_pages(x, IMG_DIFF_CHANGED, sa + o + p, sb + o + p, n, ra.state, rb.state, k,
						      sa + o + p + first);
				}
			} else {
				r = flush(x);
			}
		} else if (has_data(&ra) || has_data(&rb) || ra.state != rb.state) {
			int op = has_data(&ra) == has_data(&rb) ? IMG_DIFF_CHANGED
				 : has_data(&ra) ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED;

			r = add_pages(x, op, sa + o, sb + o, step, ra.state, rb.state, op == IMG_DIFF_CHANGED ? 0 : step,
				      op == IMG_DIFF_ADDED ? sb + o : sa + o);
		} else {
			r = flush(x);
		}
		if (step >= (1u << 20)) {
			img_mem_release(ma, &ra);
			img_mem_release(mb, &rb);
		}
		o += step;
	}
	return r;
}

/* The pages of [s, s+len) of one side that hold bytes: removed (side 0) or added (side 1). */
static int walk_one(struct acc *x, int side, struct img_mem *m, uint64_t s, uint64_t len)
{
	uint64_t o = 0;
	int r = 0;

	while (o < len && !r) {
		uint64_t lim = len - o < STEP ? len - o : STEP, step;
		struct img_mem_run run;

		r = img_mem_run(m, s + o, s + o + lim, &run, x->c->err);
		if (r)
			break;
		step = run.end - (s + o);
		if (!step)
			return img_err_set(x->c->err, EIO, "no progress reading the memory at 0x%llx",
					   (unsigned long long)(s + o));
		if (has_data(&run))
			r = side ? add_pages(x, IMG_DIFF_ADDED, s + o, s + o, step, IMG_PAGE_UNMAPPED, run.state, step, s + o)
				 : add_pages(x, IMG_DIFF_REMOVED, s + o, s + o, step, run.state, IMG_PAGE_UNMAPPED, step, s + o);
		else
			r = flush(x);
		if (step >= (1u << 20))
			img_mem_release(m, &run);
		o += step;
	}
	return r;
}

static int diff_vma(struct acc *x, struct img_mem *ma, const struct img_vma *va, struct img_mem *mb,
		    const struct img_vma *vb)
{
	uint64_t la = va ? va->end - va->start : 0, lb = vb ? vb->end - vb->start : 0, l = la < lb ? la : lb;
	int r = 0;

	x->va = va;
	x->vb = vb;
	if (va && vb)
		r = walk_both(x, ma, va->start, mb, vb->start, l);
	if (!r && la > l)
		r = walk_one(x, 0, ma, va->start + l, la - l);
	if (!r && lb > l) {
		x->va = NULL; /* pages past A's end are B's addresses */
		r = walk_one(x, 1, mb, vb->start + l, lb - l);
	}
	if (!r)
		r = flush(x);
	return r;
}

int diff_memory(struct dctx *c)
{
	const struct img_diff_pair *p = &c->pair->pub;
	struct img_mem *ma, *mb;
	struct acc x = { 0 };
	const struct vpair *vp;
	size_t n, mark;
	int r;

	if (!p->a || !p->b || !p->a->mm || !p->b->mm || !c->pair->owns_mm)
		return 0; /* the tree, or mm, says it */
	r = mem_owners(c->d, c->err);
	if (r)
		return r;
	ma = img_diff_mem(c->d, p, 0, c->err);
	mb = ma ? img_diff_mem(c->d, p, 1, c->err) : NULL;
	if (!ma || !mb)
		return -(c->err && c->err->code ? c->err->code : EINVAL);
	r = pair_vmas(c->d, c->pair, &vp, &n, c->err);
	if (r)
		return r;
	x.c = c;
	mark = path_push(c, "memory");
	for (size_t i = 0; i < n && !r; i++) {
		const struct img_vma *va = vp[i].a >= 0 ? &p->a->mm->vmas[vp[i].a] : NULL;
		const struct img_vma *vb = vp[i].b >= 0 ? &p->b->mm->vmas[vp[i].b] : NULL;

		if (va && va->kind == IMG_VMA_SHARED &&
		    !shm_owned(c->d, c->pair->index, vma_shmid(va), vb && vb->kind == IMG_VMA_SHARED ? vma_shmid(vb) : 0))
			continue;
		r = diff_vma(&x, ma, va, mb, vb);
	}
	path_pop(c, mark);
	return r;
}

/* A memfd that no task maps: its pages, at offsets of the object. */
int diff_shm_pages(struct dctx *c, const struct img_file *a, const struct img_file *b)
{
	struct img_mem *ma = NULL, *mb = NULL;
	struct img_vma va = { 0 }, vb = { 0 };
	struct acc x = { 0 };
	int r;

	r = shm_mapped(c->d, a->shmid, c->err);
	if (r)
		return r < 0 ? r : 0; /* mapped: compared as memory */
	r = img_mem_open_shm(c->d->s[0].ck, a->shmid, a->size, &ma, c->err);
	if (!r)
		r = img_mem_open_shm(c->d->s[1].ck, b->shmid, b->size, &mb, c->err);
	if (!r) {
		va.end = (a->size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		vb.end = (b->size + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		va.kind = vb.kind = IMG_VMA_SHARED;
		va.name = vb.name = "";
		x.c = c;
		r = diff_vma(&x, ma, va.end ? &va : NULL, mb, vb.end ? &vb : NULL);
	}
	img_mem_close(ma);
	img_mem_close(mb);
	return r;
}
