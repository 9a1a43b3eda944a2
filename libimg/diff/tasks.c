/*
 * Tasks: the process tree (tasks and threads added or removed, parents),
 * each thread's core (registers, signals, limits, creds, timers), fs and ids,
 * and the address space layout (mm entry, auxv, VMAs paired by address or,
 * when the layout moved, by what they map).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* Threads */

struct tpair {
	const struct img_thread *a, *b;
};

static int cmp_tid(const void *x, const void *y)
{
	uint32_t a = (*(const struct img_thread *const *)x)->tid, b = (*(const struct img_thread *const *)y)->tid;

	return a < b ? -1 : a > b;
}

/*
 * Threads by tid when the pids are the same; otherwise the main threads
 * together, then the others in tid order.  Unpaired threads come last.
 */
static int thread_pairs(const struct img_task *a, const struct img_task *b, struct tpair **out, size_t *n)
{
	size_t na = a->nthreads, nb = b->nthreads, k = 0, i = 0, j = 0;
	const struct img_thread **sa = img_malloc((na + 1) * sizeof(*sa)), **sb = img_malloc((nb + 1) * sizeof(*sb));
	struct tpair *v = img_calloc(na + nb + 1, sizeof(*v));
	int by_tid = a->pid == b->pid;

	if (!sa || !sb || !v) {
		img_free(sa);
		img_free(sb);
		img_free(v);
		return -ENOMEM;
	}
	for (size_t x = 0; x < na; x++)
		sa[x] = &a->threads[x];
	for (size_t x = 0; x < nb; x++)
		sb[x] = &b->threads[x];
	if (!by_tid && na && nb) {
		v[k].a = sa[0];
		v[k++].b = sb[0];
		i = j = 1;
	}
	img_sort(sa + i, na - i, sizeof(*sa), cmp_tid);
	img_sort(sb + j, nb - j, sizeof(*sb), cmp_tid);
	while (i < na || j < nb) {
		if (i < na && j < nb && (!by_tid || sa[i]->tid == sb[j]->tid)) {
			v[k].a = sa[i++];
			v[k++].b = sb[j++];
		} else if (j == nb || (i < na && sa[i]->tid < sb[j]->tid)) {
			v[k++].a = sa[i++];
		} else {
			v[k++].b = sb[j++];
		}
	}
	img_free(sa);
	img_free(sb);
	*out = v;
	*n = k;
	return 0;
}

static const char *thread_label(const struct img_task *a, const struct img_task *b, const struct tpair *t,
				char *buf, size_t len)
{
	if (a && b && t->a && t->b && (a->pid != b->pid || t->a->tid != t->b->tid))
		snprintf(buf, len, "%u/%u->%u/%u", a->pid, t->a->tid, b->pid, t->b->tid);
	else
		snprintf(buf, len, "%u/%u", a ? a->pid : b->pid, t->a ? t->a->tid : t->b->tid);
	return buf;
}

/* Tree */

static void w_thread(struct img_jw *w, const struct dval *v, int pretty)
{
	const struct img_thread *th = v->arg;

	(void)pretty;
	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "tid", th->tid);
	if (th->comm)
		img_jw_kv_str(w, "comm", th->comm);
	img_jw_obj_end(w);
}

/* B's pid in A's numbering: the partner's pid, the same number for pids outside the set, or 0 (none). */
static uint64_t pid_in_a(const struct img_diff *d, uint32_t pid)
{
	if (!pid || !d->s[1].ck || !img_ckpt_task(d->s[1].ck, pid))
		return pid;
	return pid_to_a(d, pid);
}

int diff_tree(struct dctx *c)
{
	const struct img_task *a = c->pair->pub.a, *b = c->pair->pub.b;
	static const char *const ids[] = { "ppid", "pgid", "sid" };
	struct tpair *tp;
	size_t n, mark;
	int r = 0;

	if (!a || !b) {
		struct dval v;

		val_msg(&v, a ? a->pstree : b->pstree, 0);
		mark = path_push(c, "pstree");
		r = emit(c, a ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED, a ? &v : NULL, b ? &v : NULL);
		path_pop(c, mark);
		return r;
	}
	for (size_t i = 0; i < 3 && !r; i++) {
		uint64_t x = img_msg_u64(a->pstree, ids[i], 0), y = img_msg_u64(b->pstree, ids[i], 0);
		struct dval va, vb;

		if (x == pid_in_a(c->d, (uint32_t)y))
			continue;
		val_u64(&va, x);
		val_u64(&vb, y);
		mark = path_push(c, "pstree.%s", ids[i]);
		r = emit(c, IMG_DIFF_CHANGED, &va, &vb);
		path_pop(c, mark);
	}
	if (r)
		return r;
	if (thread_pairs(a, b, &tp, &n))
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !r; i++) {
		struct dval v;

		if (tp[i].a && tp[i].b)
			continue;
		val_json(&v, w_thread, tp[i].a ? tp[i].a : tp[i].b);
		mark = path_push(c, "threads[%u]", tp[i].a ? tp[i].a->tid : tp[i].b->tid);
		r = emit(c, tp[i].a ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED, tp[i].a ? &v : NULL, tp[i].b ? &v : NULL);
		path_pop(c, mark);
	}
	img_free(tp);
	return r;
}

/* Core */

/* What the model keeps apart (also for sets that had their own images for them) is compared from the model. */
static int keep_core(const struct dctx *c, const struct img_msgdesc *parent, const struct img_fielddesc *fd)
{
	(void)c;
	if (!strcmp(parent->name, "task_core_entry"))
		return strcmp(fd->name, "sigactions") && strcmp(fd->name, "rlimits") && strcmp(fd->name, "timers");
	if (!strcmp(parent->name, "thread_core_entry"))
		return strcmp(fd->name, "creds");
	if (!strcmp(parent->name, "core_entry"))
		return strcmp(fd->name, "ids");
	return 1;
}

static int is_ns_field(const struct img_fielddesc *fd)
{
	size_t n = strlen(fd->name);

	return n > 6 && !strcmp(fd->name + n - 6, "_ns_id");
}

static int keep_ids_task(const struct dctx *c, const struct img_msgdesc *parent, const struct img_fielddesc *fd)
{
	(void)c;
	(void)parent;
	return !is_ns_field(fd);
}

static int keep_ids_ns(const struct dctx *c, const struct img_msgdesc *parent, const struct img_fielddesc *fd)
{
	(void)c;
	(void)parent;
	return is_ns_field(fd);
}

/* Two arrays of messages, element by element, at PATH[i]. */
static int diff_msgs(struct dctx *c, const char *path, const struct img_msg *const *a, size_t na,
		     const struct img_msg *const *b, size_t nb)
{
	size_t n = na > nb ? na : nb;
	int r = 0;

	for (size_t i = 0; i < n && !r; i++) {
		size_t mark = path_push(c, "%s[%zu]", path, i);

		r = diff_msg(c, i < na ? a[i] : NULL, i < nb ? b[i] : NULL, 0);
		path_pop(c, mark);
	}
	return r;
}

static int diff_at(struct dctx *c, const char *path, const struct img_msg *a, const struct img_msg *b)
{
	size_t mark = path_push(c, "%s", path);
	int r = diff_msg(c, a, b, 0);

	path_pop(c, mark);
	return r;
}

static int diff_task_core(struct dctx *c, const struct img_task *a, const struct img_task *b)
{
	static const char *const itimers[3] = { "core.tc.timers.real", "core.tc.timers.virt", "core.tc.timers.prof" };
	int r;

	r = diff_msgs(c, "core.tc.sigactions", a->sigactions, a->nsigactions, b->sigactions, b->nsigactions);
	if (!r)
		r = diff_msgs(c, "core.tc.rlimits.rlimits", a->rlimits, a->nrlimits, b->rlimits, b->nrlimits);
	for (int i = 0; i < 3 && !r; i++)
		r = diff_at(c, itimers[i], a->itimers[i], b->itimers[i]);
	if (!r)
		r = diff_msgs(c, "core.tc.timers.posix", a->posix_timers, a->nposix_timers, b->posix_timers,
			      b->nposix_timers);
	return r;
}

int diff_tasks(struct dctx *c)
{
	const struct img_task *a = c->pair->pub.a, *b = c->pair->pub.b;
	struct tpair *tp;
	size_t n;
	int r = 0;

	if (!a || !b)
		return 0; /* the tree says it */
	if (thread_pairs(a, b, &tp, &n))
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n && !r; i++) {
		char lbl[96];
		int main = tp[i].a == &a->threads[0] && tp[i].b == &b->threads[0];

		if (!tp[i].a || !tp[i].b)
			continue;
		if (!main) {
			c->task = thread_label(a, b, &tp[i], lbl, sizeof(lbl));
			c->tid_a = tp[i].a->tid;
			c->tid_b = tp[i].b->tid;
			c->comm = tp[i].a->comm ? tp[i].a->comm : c->pair->pub.comm;
		}
		c->keep = keep_core;
		r = diff_at(c, "core", tp[i].a->core, tp[i].b->core);
		c->keep = NULL;
		if (!r)
			r = diff_at(c, "core.thread_core.creds", tp[i].a->creds, tp[i].b->creds);
		if (!r && main)
			r = diff_task_core(c, a, b);
		c->task = c->pair->pub.label;
		c->comm = c->pair->pub.comm;
		c->tid_a = c->tid_b = 0;
	}
	img_free(tp);
	if (!r)
		r = diff_at(c, "fs", a->fs, b->fs);
	if (!r) {
		c->keep = keep_ids_task;
		r = diff_at(c, "ids", a->ids, b->ids);
		c->keep = NULL;
	}
	return r;
}

int diff_ns_task(struct dctx *c)
{
	const struct img_task *a = c->pair->pub.a, *b = c->pair->pub.b;
	int r;

	if (!a || !b)
		return 0;
	c->keep = keep_ids_ns;
	r = diff_at(c, "ids", a->ids, b->ids);
	c->keep = NULL;
	return r;
}

/* VMAs */

struct vref {
	const struct img_vma *v;
	long i;
};

static int cmp_vkey(const struct img_vma *x, const struct img_vma *y, int size)
{
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	c = strcmp(x->name ? x->name : "", y->name ? y->name : "");
	if (c)
		return c;
	if (x->pgoff != y->pgoff)
		return x->pgoff < y->pgoff ? -1 : 1;
	if (size && x->end - x->start != y->end - y->start)
		return x->end - x->start < y->end - y->start ? -1 : 1;
	return 0;
}

static int cmp_vref_size(const void *a, const void *b)
{
	const struct vref *x = a, *y = b;
	int c = cmp_vkey(x->v, y->v, 1);

	return c ? c : x->v->start < y->v->start ? -1 : x->v->start > y->v->start;
}

static int cmp_vref(const void *a, const void *b)
{
	const struct vref *x = a, *y = b;
	int c = cmp_vkey(x->v, y->v, 0);

	return c ? c : x->v->start < y->v->start ? -1 : x->v->start > y->v->start;
}

/* Pair what is left of both by what the VMAs map, in address order within each kind. */
static void pair_by_key(const struct img_mm *a, const struct img_mm *b, long *pa, long *pb, int size,
			struct vref *ra, struct vref *rb)
{
	size_t na = 0, nb = 0, i = 0, j = 0;

	for (size_t k = 0; k < a->nvmas; k++)
		if (pa[k] < 0)
			ra[na++] = (struct vref){ &a->vmas[k], (long)k };
	for (size_t k = 0; k < b->nvmas; k++)
		if (pb[k] < 0)
			rb[nb++] = (struct vref){ &b->vmas[k], (long)k };
	img_sort(ra, na, sizeof(*ra), size ? cmp_vref_size : cmp_vref);
	img_sort(rb, nb, sizeof(*rb), size ? cmp_vref_size : cmp_vref);
	while (i < na && j < nb) {
		int c = cmp_vkey(ra[i].v, rb[j].v, size);

		if (!c) {
			pa[ra[i].i] = rb[j].i;
			pb[rb[j].i] = ra[i].i;
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
}

static uint64_t vp_addr(const struct vpair *p, const struct img_mm *const *mm)
{
	return p->a >= 0 ? mm[0]->vmas[p->a].start : mm[1]->vmas[p->b].start;
}

static int cmp_vpair(const void *x, const void *y, void *arg)
{
	uint64_t a = vp_addr(x, arg), b = vp_addr(y, arg);

	return a < b ? -1 : a > b;
}

static int vma_pairs(const struct img_mm *a, const struct img_mm *b, struct vpair **out, size_t *n)
{
	static const struct img_mm none;
	size_t na, nb, i = 0, j = 0, k = 0;
	long *pa, *pb;
	struct vref *ra, *rb;
	struct vpair *v;

	if (!a)
		a = &none;
	if (!b)
		b = &none;
	na = a->nvmas;
	nb = b->nvmas;
	pa = img_malloc((na + 1) * sizeof(*pa));
	pb = img_malloc((nb + 1) * sizeof(*pb));
	ra = img_malloc((na + 1) * sizeof(*ra));
	rb = img_malloc((nb + 1) * sizeof(*rb));
	v = img_malloc((na + nb + 1) * sizeof(*v));
	if (!pa || !pb || !ra || !rb || !v) {
		img_free(pa);
		img_free(pb);
		img_free(ra);
		img_free(rb);
		img_free(v);
		return -ENOMEM;
	}
	for (size_t x = 0; x < na; x++)
		pa[x] = -1;
	for (size_t x = 0; x < nb; x++)
		pb[x] = -1;
	/* the same start: the same mapping (perhaps resized or with other rights) */
	while (i < na && j < nb) {
		if (a->vmas[i].start == b->vmas[j].start) {
			pa[i] = (long)j;
			pb[j++] = (long)i++;
		} else if (a->vmas[i].start < b->vmas[j].start) {
			i++;
		} else {
			j++;
		}
	}
	/* a layout that moved (ASLR, another run): by what is mapped, its offset, then its size */
	pair_by_key(a, b, pa, pb, 1, ra, rb);
	pair_by_key(a, b, pa, pb, 0, ra, rb);
	for (size_t x = 0; x < na; x++)
		v[k++] = (struct vpair){ (long)x, pa[x] };
	for (size_t x = 0; x < nb; x++)
		if (pb[x] < 0)
			v[k++] = (struct vpair){ -1, (long)x };
	const struct img_mm *mm[2] = { a, b };

	if (k > 1)
		qsort_r(v, k, sizeof(*v), cmp_vpair, mm);
	img_free(pa);
	img_free(pb);
	img_free(ra);
	img_free(rb);
	*out = v;
	*n = k;
	return 0;
}

int pair_vmas(struct img_diff *d, const struct dpair *cp, const struct vpair **out, size_t *n, struct img_err *err)
{
	struct dpair *p = &d->pairs[cp->index];

	if (!p->vp_done) {
		if (vma_pairs(p->pub.a ? p->pub.a->mm : NULL, p->pub.b ? p->pub.b->mm : NULL, &p->vp, &p->nvp))
			return img_err_set(err, ENOMEM, "out of memory");
		p->vp_done = 1;
	}
	*out = p->vp;
	*n = p->nvp;
	return 0;
}

static int keep_mm(const struct dctx *c, const struct img_msgdesc *parent, const struct img_fielddesc *fd)
{
	(void)c;
	return strcmp(parent->name, "mm_entry") || strcmp(fd->name, "vmas");
}

static void w_mm(struct img_jw *w, const struct dval *v, int pretty)
{
	const struct img_mm *mm = v->arg;

	(void)pretty;
	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "vmas", mm->nvmas);
	img_jw_obj_end(w);
}

int diff_mm(struct dctx *c)
{
	const struct img_task *a = c->pair->pub.a, *b = c->pair->pub.b;
	const struct img_mm *ma, *mb;
	const struct vpair *vp;
	size_t n;
	int r;

	if (!a || !b || !c->pair->owns_mm)
		return 0;
	ma = a->mm;
	mb = b->mm;
	if (!ma || !mb) {
		struct dval v;
		size_t mark;

		if (!ma && !mb)
			return 0;
		val_json(&v, w_mm, ma ? ma : mb);
		mark = path_push(c, "mm");
		r = emit(c, ma ? IMG_DIFF_REMOVED : IMG_DIFF_ADDED, ma ? &v : NULL, mb ? &v : NULL);
		path_pop(c, mark);
		return r;
	}
	c->keep = keep_mm;
	r = diff_at(c, "mm", ma->msg, mb->msg);
	c->keep = NULL;
	if (r)
		return r;
	r = pair_vmas(c->d, c->pair, &vp, &n, c->err);
	for (size_t i = 0; i < n && !r; i++) {
		size_t mark = path_push(c, "mm.vmas[%ld]", vp[i].a >= 0 ? vp[i].a : vp[i].b);

		r = diff_msg(c, vp[i].a >= 0 ? ma->vmas[vp[i].a].msg : NULL, vp[i].b >= 0 ? mb->vmas[vp[i].b].msg : NULL,
			     0);
		path_pop(c, mark);
	}
	return r;
}
