/*
 * The comparison: the two sides, task pairs, ignore patterns, records and
 * the order in which categories run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

static const char *const cat_names[IMG_DIFF__NCAT] = {
	"images", "tree", "ns", "tasks", "mm", "files", "sockets", "memory",
};

const char *img_diff_cat_name(int cat)
{
	return cat >= 0 && cat < IMG_DIFF__NCAT ? cat_names[cat] : NULL;
}

int img_diff_cat_parse(const char *name)
{
	for (int i = 0; i < IMG_DIFF__NCAT; i++)
		if (!strcmp(name, cat_names[i]))
			return i;
	return -1;
}

const char *img_diff_op_name(int op)
{
	switch (op) {
	case IMG_DIFF_CHANGED: return "changed";
	case IMG_DIFF_ADDED: return "added";
	case IMG_DIFF_REMOVED: return "removed";
	}
	return NULL;
}

/* Pairs */

const struct dpair *pair_of(const struct img_diff *d, int side, const struct img_task *t)
{
	for (size_t i = 0; t && i < d->npairs; i++)
		if ((side ? d->pairs[i].pub.b : d->pairs[i].pub.a) == t)
			return &d->pairs[i];
	return NULL;
}

uint32_t pid_to_a(const struct img_diff *d, uint32_t pid_b)
{
	for (size_t i = 0; i < d->npairs; i++) {
		const struct img_diff_pair *p = &d->pairs[i].pub;

		if (p->b && p->b->pid == pid_b)
			return p->a ? p->a->pid : 0;
	}
	return 0;
}

/* The name and command line of a task, the key --match comm pairs tasks by. */
static int task_key(struct img_ckpt *ck, const struct img_task *t, struct img_buf *key, struct img_err *err)
{
	struct img_mem *m;
	struct img_buf argv;
	int r;

	key->len = 0;
	if (img_buf_add(key, t->comm, strlen(t->comm) + 1))
		return img_err_set(err, ENOMEM, "out of memory");
	if (!t->mm)
		return 0;
	r = img_mem_open(ck, t, 0, &m, err);
	if (r)
		return r;
	img_buf_init(&argv);
	r = img_mem_strings(m, IMG_STRINGS_ARGV, &argv, NULL, err);
	if (!r && img_buf_add(key, argv.data, argv.len))
		r = img_err_set(err, ENOMEM, "out of memory");
	img_buf_free(&argv);
	img_mem_close(m);
	return r;
}

static int same_key(const struct img_buf *x, const struct img_buf *y, int comm_only)
{
	if (comm_only)
		return !strcmp((const char *)x->data, (const char *)y->data);
	return x->len == y->len && !memcmp(x->data, y->data, x->len);
}

/* For each task of A, its partner in B (index), or -1. */
static int match_comm(struct img_diff *d, const struct img_task *const *ta, size_t na,
		      const struct img_task *const *tb, size_t nb, long *partner, uint8_t *taken, struct img_err *err)
{
	struct img_buf *ka = img_calloc(na + 1, sizeof(*ka)), *kb = img_calloc(nb + 1, sizeof(*kb));
	int r = 0;

	if (!ka || !kb) {
		r = img_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < na && !r; i++)
		r = task_key(d->s[0].ck, ta[i], &ka[i], err);
	for (size_t i = 0; i < nb && !r; i++)
		r = task_key(d->s[1].ck, tb[i], &kb[i], err);
	/* name and command line first; then the name alone for those left */
	for (int pass = 0; pass < 2 && !r; pass++)
		for (size_t i = 0; i < na; i++) {
			if (partner[i] >= 0)
				continue;
			for (size_t j = 0; j < nb; j++)
				if (!taken[j] && same_key(&ka[i], &kb[j], pass)) {
					partner[i] = (long)j;
					taken[j] = 1;
					break;
				}
		}
out:
	for (size_t i = 0; ka && i < na; i++)
		img_buf_free(&ka[i]);
	for (size_t i = 0; kb && i < nb; i++)
		img_buf_free(&kb[i]);
	img_free(ka);
	img_free(kb);
	return r;
}

static void label(struct dpair *p)
{
	const struct img_task *a = p->pub.a, *b = p->pub.b;

	if (a && b && a->pid != b->pid)
		snprintf(p->label, sizeof(p->label), "%u->%u", a->pid, b->pid);
	else
		snprintf(p->label, sizeof(p->label), "%u", a ? a->pid : b->pid);
	p->pub.label = p->label;
	p->pub.comm = a ? a->comm : b->comm;
}

static int make_pairs(struct img_diff *d, struct img_err *err)
{
	size_t na = 0, nb = 0, n = 0;
	const struct img_task *const *ta = d->s[0].ck ? img_ckpt_tasks(d->s[0].ck, &na) : NULL;
	const struct img_task *const *tb = d->s[1].ck ? img_ckpt_tasks(d->s[1].ck, &nb) : NULL;
	long *partner = img_malloc((na + 1) * sizeof(*partner));
	uint8_t *taken = img_calloc(nb + 1, 1);
	int r = 0;

	d->pairs = img_calloc(na + nb + 1, sizeof(*d->pairs));
	if (!partner || !taken || !d->pairs) {
		r = img_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < na; i++)
		partner[i] = -1;
	if (d->o.match == IMG_DIFF_MATCH_COMM) {
		r = match_comm(d, ta, na, tb, nb, partner, taken, err);
		if (r)
			goto out;
	} else {
		for (size_t i = 0; i < na; i++)
			for (size_t j = 0; j < nb; j++)
				if (!taken[j] && tb[j]->pid == ta[i]->pid) {
					partner[i] = (long)j;
					taken[j] = 1;
					break;
				}
	}
	for (size_t i = 0; i < na; i++) {
		d->pairs[n].pub.a = ta[i];
		d->pairs[n].pub.b = partner[i] >= 0 ? tb[partner[i]] : NULL;
		n++;
	}
	for (size_t j = 0; j < nb; j++)
		if (!taken[j])
			d->pairs[n++].pub.b = tb[j];
	for (size_t i = 0; i < n; i++) {
		struct dpair *p = &d->pairs[i];
		const struct img_mm *ma = p->pub.a ? p->pub.a->mm : NULL, *mb = p->pub.b ? p->pub.b->mm : NULL;
		const struct img_fd *fa = p->pub.a ? p->pub.a->fds : NULL, *fb = p->pub.b ? p->pub.b->fds : NULL;

		p->index = i;
		label(p);
		/* what tasks share (CLONE_VM, CLONE_FILES) is reported under the first of them */
		p->owns_mm = ma || mb;
		p->owns_fds = fa || fb;
		for (size_t k = 0; k < i; k++) {
			const struct img_diff_pair *q = &d->pairs[k].pub;

			if ((q->a ? q->a->mm : NULL) == ma && (q->b ? q->b->mm : NULL) == mb)
				p->owns_mm = 0;
			if ((q->a ? q->a->fds : NULL) == fa && (q->b ? q->b->fds : NULL) == fb)
				p->owns_fds = 0;
		}
	}
	d->npairs = n;
out:
	img_free(partner);
	img_free(taken);
	return r;
}

/* Records */

void ctx_init(struct dctx *c, struct img_diff *d, int cat, const struct dpair *p, img_diff_fn fn, void *arg,
	      struct img_err *err)
{
	memset(c, 0, sizeof(*c));
	c->d = d;
	c->cat = cat;
	c->pair = p;
	c->task = p ? p->pub.label : NULL;
	c->comm = p ? p->pub.comm : NULL;
	c->fn = fn;
	c->arg = arg;
	c->err = err;
}

static const char *render(struct img_diff *d, struct img_buf *b, const struct dval *v, int pretty)
{
	struct img_out *o = d->out;
	struct img_jw w;

	if (!v)
		return NULL;
	b->len = 0;
	img_out_mem(o, b);
	img_jw_init(&w, o, 0);
	v->fn(&w, v, pretty);
	img_out_putc(o, 0);
	img_out_flush(o);
	return b->failed ? "null" : (const char *)b->data;
}

static int deliver(struct dctx *c, struct img_diff_change *rec)
{
	struct img_diff *d = c->d;
	int r;

	d->st.changes++;
	d->st.by_cat[c->cat]++;
	r = c->fn ? c->fn(c->arg, rec) : 0;
	if (r)
		c->stop = r;
	return r;
}

static int emit_rec(struct dctx *c, int op, const struct dval *before, const struct dval *after,
		    const struct img_diff_range *r)
{
	struct img_diff *d = c->d;
	struct img_diff_change rec = { 0 };

	if (c->stop)
		return c->stop;
	if (c->overflow || path_ignored(d, c->path))
		return 0;
	rec.cat = c->cat;
	rec.op = op;
	rec.pair = c->pair ? &c->pair->pub : NULL;
	rec.tid_a = c->tid_a;
	rec.tid_b = c->tid_b;
	rec.task = c->task;
	rec.comm = c->comm;
	rec.path = c->path;
	rec.range = r;
	rec.before = render(d, &d->vb[0], before, 0);
	rec.after = render(d, &d->vb[1], after, 0);
	rec.before_text = render(d, &d->vb[2], before, 1);
	rec.after_text = render(d, &d->vb[3], after, 1);
	if (r && op == IMG_DIFF_CHANGED) {
		d->st.pages_changed += r->pages;
		d->st.bytes_changed += r->bytes;
	} else if (r) {
		*(op == IMG_DIFF_ADDED ? &d->st.pages_added : &d->st.pages_removed) += r->pages;
	}
	return deliver(c, &rec);
}

int emit(struct dctx *c, int op, const struct dval *before, const struct dval *after)
{
	return emit_rec(c, op, before, after, NULL);
}

int emit_range(struct dctx *c, int op, const struct img_diff_range *r)
{
	size_t mark = path_push(c, "[0x%llx-0x%llx]", (unsigned long long)r->start, (unsigned long long)r->end);
	struct dval va, vb;
	int ret;

	/* the values are the page states */
	val_str(&va, img_page_state_name(r->state_a));
	val_str(&vb, img_page_state_name(r->state_b));
	ret = emit_rec(c, op, op != IMG_DIFF_ADDED ? &va : NULL, op != IMG_DIFF_REMOVED ? &vb : NULL, r);
	path_pop(c, mark);
	return ret;
}

/* Images read outside a model */

int side_image(struct img_diff *d, int side, const char *member, const struct img_image **out, struct img_err *err)
{
	struct dside *s = &d->s[side];
	struct img_image *img = NULL, **ni;
	char **nn;
	int r;

	*out = NULL;
	if (!img_dir_has(s->dir, member))
		return 0;
	if (s->ck)
		return img_ckpt_image(s->ck, member, out, err);
	for (size_t i = 0; i < s->nimgs; i++)
		if (!strcmp(s->img_names[i], member)) {
			*out = s->imgs[i];
			return 0;
		}
	r = img_image_load(s->dir, member, s->schema, 0, &img, err);
	if (r)
		return r;
	ni = img_realloc(s->imgs, (s->nimgs + 1) * sizeof(*ni));
	if (ni)
		s->imgs = ni;
	nn = img_realloc(s->img_names, (s->nimgs + 1) * sizeof(*nn));
	if (nn)
		s->img_names = nn;
	if (!ni || !nn || !(s->img_names[s->nimgs] = img_strdup(member))) {
		img_image_free(img);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	s->imgs[s->nimgs++] = img;
	*out = img;
	return 0;
}

/* Life */

static int setup(struct img_diff *d, const struct img_diff_opts *o, struct img_err *err)
{
	const char *const *vol = img_diff_volatile();
	size_t nvol = 0;
	int r;

	if (o)
		d->o = *o;
	d->o.ignore = NULL;
	d->o.nignore = 0;
	while (vol[2 * nvol])
		nvol++;
	d->out = img_calloc(1, sizeof(*d->out));
	d->pats = img_calloc(nvol + (o ? o->nignore : 0) + 1, sizeof(*d->pats));
	if (!d->out || !d->pats)
		return img_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; !d->o.keep_volatile && i < nvol; i++) {
		r = pat_compile(&d->arena, vol[2 * i], &d->pats[d->npats++], err);
		if (r)
			return r;
	}
	for (size_t i = 0; o && i < o->nignore; i++) {
		r = pat_compile(&d->arena, o->ignore[i], &d->pats[d->npats++], err);
		if (r)
			return r;
	}
	r = make_pairs(d, err);
	if (!r)
		r = ns_pair_all(d, err);
	return r;
}

static struct img_diff *alloc_diff(void)
{
	struct img_diff *d = img_calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	img_arena_init(&d->arena);
	for (int i = 0; i < 4; i++)
		img_buf_init(&d->vb[i]);
	return d;
}

/* The sides are set (r 0) or could not be: pair them, or give up. */
static int finish(struct img_diff *d, int r, const struct img_diff_opts *o, struct img_diff **out, struct img_err *err)
{
	if (!r)
		r = setup(d, o, err);
	if (r) {
		img_diff_free(d);
		return r;
	}
	*out = d;
	return 0;
}

int img_diff_new(struct img_ckpt *a, struct img_ckpt *b, const struct img_diff_opts *o, struct img_diff **out,
		 struct img_err *err)
{
	struct img_diff *d = alloc_diff();

	*out = NULL;
	if (!d)
		return img_err_set(err, ENOMEM, "out of memory");
	d->s[0].ck = a;
	d->s[1].ck = b;
	for (int i = 0; i < 2; i++) {
		d->s[i].dir = img_ckpt_dir(d->s[i].ck);
		d->s[i].schema = img_ckpt_schema(d->s[i].ck);
	}
	return finish(d, 0, o, out, err);
}

static int open_side(struct dside *s, const char *path, struct img_err *err)
{
	int r = img_dir_open(path, &s->dir, err);

	if (r) {
		/* not a folder: a checkpoint the model may read otherwise (a linux-cr stream, one day) */
		struct img_err e = { 0 };

		if (img_ckpt_open(path, 0, &s->ck, &e))
			return r;
		s->own_ck = 1;
		s->dir = img_ckpt_dir(s->ck);
		s->schema = img_ckpt_schema(s->ck);
		return 0;
	}
	s->schema = img_schema_default();
	if (!img_dir_has(s->dir, "pstree.img")) {
		s->own_dir = 1;
		return 0;
	}
	r = img_ckpt_open_dir(s->dir, 0, &s->ck, err); /* takes the folder, also on failure */
	if (r) {
		s->dir = NULL;
		return r;
	}
	s->own_ck = 1;
	s->schema = img_ckpt_schema(s->ck);
	return 0;
}

int img_diff_open(const char *a, const char *b, const struct img_diff_opts *o, struct img_diff **out,
		  struct img_err *err)
{
	struct img_diff *d = alloc_diff();
	int r;

	*out = NULL;
	if (!d)
		return img_err_set(err, ENOMEM, "out of memory");
	r = open_side(&d->s[0], a, err);
	if (!r)
		r = open_side(&d->s[1], b, err);
	return finish(d, r, o, out, err);
}

void img_diff_free(struct img_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->npairs; i++) {
		for (int k = 0; k < 2; k++)
			img_mem_close(d->pairs[i].mem[k]);
		img_free(d->pairs[i].vp);
	}
	for (int k = 0; k < 2; k++) {
		struct dside *s = &d->s[k];

		for (size_t i = 0; i < s->nimgs; i++) {
			img_image_free(s->imgs[i]);
			img_free(s->img_names[i]);
		}
		img_free(s->imgs);
		img_free(s->img_names);
		img_free(s->skq);
		if (s->own_ck)
			img_ckpt_close(s->ck);
		else if (s->own_dir)
			img_dir_close(s->dir);
	}
	img_free(d->pairs);
	img_free(d->ns);
	img_free(d->pats);
	img_free(d->fown);
	img_free(d->pown);
	img_free(d->shm);
	img_free(d->out);
	diff_info_free(d);
	for (int i = 0; i < 4; i++)
		img_buf_free(&d->vb[i]);
	img_arena_free(&d->arena);
	img_free(d);
}

const struct img_diff_pair *img_diff_pairs(const struct img_diff *d, size_t *n)
{
	*n = d->npairs;
	return d->npairs ? &d->pairs[0].pub : NULL;
}

struct img_ckpt *img_diff_ckpt(const struct img_diff *d, int side)
{
	return side >= 0 && side < 2 ? d->s[side].ck : NULL;
}

static struct dpair *dpair_of(const struct img_diff *d, const struct img_diff_pair *p)
{
	for (size_t i = 0; p && i < d->npairs; i++)
		if (&d->pairs[i].pub == p)
			return &d->pairs[i];
	return NULL;
}

struct img_mem *img_diff_mem(struct img_diff *d, const struct img_diff_pair *p, int side, struct img_err *err)
{
	struct dpair *dp = dpair_of(d, p);
	const struct img_task *t = dp ? (side ? dp->pub.b : dp->pub.a) : NULL;

	if (!t) {
		img_err_set(err, EINVAL, "no such task on that side");
		return NULL;
	}
	if (!dp->mem[side] && img_mem_open(d->s[side].ck, t, 0, &dp->mem[side], err))
		return NULL;
	return dp->mem[side];
}

const struct img_diff_stats *img_diff_stats(const struct img_diff *d)
{
	return &d->st;
}

/* Running */

int img_diff_run(struct img_diff *d, int cat, const struct img_diff_pair *pair, img_diff_fn fn, void *arg,
		 struct img_err *err)
{
	const struct dpair *p = NULL;
	struct dctx c;
	int r = 0;

	if (cat < 0 || cat >= IMG_DIFF__NCAT)
		return img_err_set(err, EINVAL, "no category %d", cat);
	if (pair && !(p = dpair_of(d, pair)))
		return img_err_set(err, EINVAL, "not a pair of this comparison");
	ctx_init(&c, d, cat, p, fn, arg, err);
	switch (cat) {
	case IMG_DIFF_IMAGES:
		r = p ? 0 : diff_images(&c);
		break;
	case IMG_DIFF_TREE:
		r = p ? diff_tree(&c) : 0;
		break;
	case IMG_DIFF_NS:
		r = p ? diff_ns_task(&c) : diff_ns_set(&c);
		break;
	case IMG_DIFF_TASKS:
		r = p ? diff_tasks(&c) : 0;
		break;
	case IMG_DIFF_MM:
		r = p ? diff_mm(&c) : 0;
		break;
	case IMG_DIFF_FILES:
		r = p ? diff_files(&c, 0) : diff_files_unheld(&c);
		break;
	case IMG_DIFF_SOCKETS:
		r = p ? diff_files(&c, 1) : 0;
		break;
	case IMG_DIFF_MEMORY:
		r = p ? diff_memory(&c) : 0;
		break;
	}
	return r ? r : c.stop;
}

int img_diff_all(struct img_diff *d, img_diff_fn fn, void *arg, struct img_err *err)
{
	static const int set_cats[] = { IMG_DIFF_IMAGES, IMG_DIFF_NS, IMG_DIFF_FILES };
	static const int task_cats[] = { IMG_DIFF_TREE, IMG_DIFF_NS, IMG_DIFF_TASKS, IMG_DIFF_MM, IMG_DIFF_FILES,
					 IMG_DIFF_SOCKETS, IMG_DIFF_MEMORY };
	unsigned want = d->o.cats ? d->o.cats : ~0u;
	int r = 0;

	for (size_t i = 0; i < sizeof(set_cats) / sizeof(set_cats[0]) && !r; i++)
		if (want & (1u << set_cats[i]))
			r = img_diff_run(d, set_cats[i], NULL, fn, arg, err);
	for (size_t k = 0; k < d->npairs && !r; k++)
		for (size_t i = 0; i < sizeof(task_cats) / sizeof(task_cats[0]) && !r; i++)
			if (want & (1u << task_cats[i]))
				r = img_diff_run(d, task_cats[i], &d->pairs[k].pub, fn, arg, err);
	return r;
}
