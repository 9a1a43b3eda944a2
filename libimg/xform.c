/*
 * The transform engine: runs a table's rules over an image set.
 *
 * For each rule, the images of its kinds are read (in name order) and each
 * entry whose message and conditions match gets the rule's actions.  What an
 * action changes is reported with the value before and after, rendered the
 * way crit --pretty prints it.  Work that needs the whole table done first
 * happens at its end: entries wrapped into another image are merged in key
 * order, images whose entries all moved elsewhere are dropped, and the order
 * a later merge would rebuild is checked against the one there was.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "xform_int.h"

struct pend_ent {
	uint32_t seq;
	struct img_msg *m;
	const char *from;       /* source member (report arena) */
	int64_t from_entry;
	const char *field;
};

/* Entries wrapped into a target image, merged in when the table is done. */
struct pending {
	char *target;
	const struct img_kind *k;
	const struct xf_path *order;
	struct pend_ent *e;
	size_t n, cap;
	const char **seqname;
	size_t nseq;
	const char *table, *rule;
};

/* A source of move-in actions: which of its entries have been taken. */
struct consumed {
	char *member;
	uint8_t *taken;            /* entries that moved in elsewhere: they leave when the table is done */
	size_t n;
	const char *rule;
};

/* Entries moved out of an image that a later merge puts back by a key: is the order it rebuilds the same? */
struct ordcheck {
	char *member;
	const struct xf_path *order;
	uint64_t *keys;            /* the keys of the image's entries before anything moved */
	size_t nkeys;
	char **tname;              /* targets, and the keys they got, in order */
	uint64_t **tkeys;
	size_t *ntkeys;
	size_t nt;
};

struct task {
	uint32_t tid, pid;
};

struct xf_ctx {
	struct img_set *set;
	const struct img_xf_table *t;
	const struct img_xf_opts *o;
	struct img_xf_report *rep;
	struct img_err *err;
	const struct xf_rule *rule;
	struct img_xf_rulestat *stat;
	const char *member;        /* the image being worked on */
	struct img_image *img;
	size_t idx;                /* the entry */
	uint64_t id;               /* the number in the member's name */
	int has_id;
	int changed;
	int gone;                  /* the entry left its image */
	size_t added_after;        /* entries inserted after it (skipped by the loop) */
	struct task *tasks;
	size_t ntasks;
	int tasks_loaded;
	uint64_t *remapped;        /* ids of files with a remap (ghost or linked): refresh-file leaves them */
	size_t nremapped;
	int remap_loaded;
	struct pending *pend;
	size_t npend;
	struct consumed *cons;
	size_t ncons;
	struct ordcheck *ord;
	size_t nord;
	struct lazy_cache *lazy;   /* lazy-flags: the VMAs of the task last looked at */
};

static const struct img_xf_opts no_opts;

/* Report */


static int record(struct xf_ctx *c, int op, const char *image, int64_t entry, const char *field, const char *before,
		  const char *after, const char *to_image, int64_t to_entry)
{
	struct img_xf_report *r = c->rep;

	c->changed = 1;
	if (image)
		img_set_touch(c->set, image);
	if (to_image)
		img_set_touch(c->set, to_image);
	if (!r)
		return 0;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct img_xf_change *n = img_realloc(r->c, cap * sizeof(*n));

		if (!n)
			return img_err_set(c->err, ENOMEM, "out of memory");
		r->c = n;
		r->cap = cap;
	}
	struct img_xf_change *ch = &r->c[r->n++];

	ch->op = op;
	ch->table = c->stat ? c->stat->table : xf_rstr(r, c->t->name);
	ch->rule = c->stat ? c->stat->rule : NULL;
	ch->image = xf_rstr(r, image);
	ch->entry = entry;
	ch->field = xf_rstr(r, field);
	ch->before = xf_rstr(r, before);
	ch->after = xf_rstr(r, after);
	ch->to_image = xf_rstr(r, to_image);
	ch->to_entry = to_entry;
	return r->failed ? img_err_set(c->err, ENOMEM, "out of memory") : 0;
}

static struct img_xf_rulestat *rule_stat(struct xf_ctx *c, const struct xf_rule *ru)
{
	struct img_xf_report *r = c->rep;

	if (!r)
		return NULL;
	if (r->nrules == r->rcap) {
		size_t cap = r->rcap ? r->rcap * 2 : 16;
		struct img_xf_rulestat *n = img_realloc(r->rules, cap * sizeof(*n));

		if (!n) {
			r->failed = 1;
			return NULL;
		}
		r->rules = n;
		r->rcap = cap;
	}
	struct img_xf_rulestat *s = &r->rules[r->nrules++];

	s->table = xf_rstr(r, c->t->name);
	s->rule = xf_rstr(r, ru->name);
	s->doc = xf_rstr(r, ru->doc);
	s->lossless = ru->lossless;
	s->reversible = ru->reversible;
	s->applied = 0;
	return s;
}

/* A field's value as crit --pretty prints it (NULL when the field is absent). */
static char *render(struct xf_ctx *c, const struct img_msg *m, const struct img_fielddesc *fd)
{
	struct img_buf b;
	struct img_out o;
	struct img_jw w;
	char *s = NULL;

	if (!img_msg_get_num(m, fd->num) && fd->label != IMG_L_REPEATED)
		return NULL;
	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_jw_init(&w, &o, 0);
	img_field_to_json(&w, m, fd, 1);
	img_out_flush(&o);
	if (!b.failed && c->rep)
		s = img_arena_strndup(&c->rep->arena, (const char *)b.data, b.len);
	img_buf_free(&b);
	return s;
}

static char *render_msg(struct xf_ctx *c, const struct img_msg *m)
{
	struct img_buf b;
	struct img_out o;
	struct img_jw w;
	char *s = NULL;

	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_jw_init(&w, &o, 0);
	img_msg_to_json(&w, m, 1, 0);
	img_out_flush(&o);
	if (!b.failed && c->rep)
		s = img_arena_strndup(&c->rep->arena, (const char *)b.data, b.len);
	img_buf_free(&b);
	return s;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Errors name the image and the entry */

static int efail(struct xf_ctx *c, const char *fmt, ...) IMG_PRINTF(2, 3);

static int efail(struct xf_ctx *c, const char *fmt, ...)
{
	char what[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	img_err_subject(c->err, c->member);
	if (c->img && c->idx < c->img->n)
		return img_err_set(c->err, EINVAL, "entry %zu at offset 0x%llx: %s (rule %s of %s)", c->idx,
				   (unsigned long long)c->img->e[c->idx].off, what, c->rule ? c->rule->name : "-",
				   c->t->name);
	return img_err_set(c->err, EINVAL, "%s (rule %s of %s)", what, c->rule ? c->rule->name : "-", c->t->name);
}

/* Paths */

/* The message that holds the path's last field: walked through singular fields, made when create is set. */
static struct img_msg *holder(struct img_arena *a, struct img_msg *m, const struct xf_path *p, int create)
{
	for (uint32_t i = 0; m && i + 1 < p->n; i++) {
		struct img_msg *s = img_msg_sub(m, p->fd[i]->name);

		if (!s && create)
			s = img_msg_set_msg(a, m, p->fd[i]->name);
		m = s;
	}
	return m;
}

typedef int (*leaf_fn)(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg);

/* Every message that holds the last field, through repeated fields too. */
static int walk(struct xf_ctx *c, struct img_msg *m, const struct xf_path *p, uint32_t i, leaf_fn fn, void *arg)
{
	if (!m)
		return 0;
	if (i + 1 >= p->n)
		return fn(c, m, p->fd[p->n - 1], arg);
	for (uint32_t k = 0; k < m->n; k++) {
		struct img_fval *f = &m->f[k];

		if (f->num != p->fd[i]->num || f->fi == IMG_FI_UNKNOWN)
			continue;
		int r = walk(c, f->v.m, p, i + 1, fn, arg);

		if (r)
			return r;
	}
	return 0;
}

static int get_u64(const struct img_msg *m, const struct xf_path *p, uint64_t *v)
{
	struct img_msg *h = holder(NULL, (struct img_msg *)m, p, 0);
	const struct img_fval *f;
	const struct img_fielddesc *fd = p->fd[p->n - 1];

	if (!h || !(f = img_msg_get_num(h, fd->num)) || (f->wt == IMG_WT_LEN))
		return 0;
	*v = img_fval_u64(fd, f);
	return 1;
}

static struct img_arena *arena_of(struct xf_ctx *c)
{
	return &c->img->arena;
}

/* Tasks and threads (pstree.img) */

static int load_tasks(struct xf_ctx *c)
{
	struct img_image *ps;
	struct img_iter it;
	uint64_t tid;

	if (c->tasks_loaded)
		return 0;
	c->tasks_loaded = 1;
	if (!img_set_has(c->set, "pstree.img"))
		return 0;
	if (img_set_image(c->set, "pstree.img", &ps, c->err))
		return -EINVAL;
	for (size_t i = 0; i < ps->n; i++) {
		struct img_msg *m = ps->e[i].msg;
		uint32_t pid = (uint32_t)img_msg_u64(m, "pid", 0);
		int any = 0;

		img_iter_init(&it, m, "threads");
		for (;;) {
			int more = img_iter_next_u64(&it, &tid);

			if (!more && any)
				break;
			struct task *n = img_realloc(c->tasks, (c->ntasks + 1) * sizeof(*n));

			if (!n)
				return img_err_set(c->err, ENOMEM, "out of memory");
			c->tasks = n;
			c->tasks[c->ntasks].pid = pid;
			c->tasks[c->ntasks].tid = more ? (uint32_t)tid : pid;
			c->ntasks++;
			any = 1;
			if (!more)
				break;
		}
	}
	return 0;
}

/* The task a thread belongs to; 0 when pstree does not know it. */
static uint32_t task_of(struct xf_ctx *c, uint32_t tid)
{
	if (load_tasks(c))
		return 0;
	for (size_t i = 0; i < c->ntasks; i++)
		if (c->tasks[i].tid == tid)
			return c->tasks[i].pid;
	return 0;
}

static int member_id(const struct img_set *set, const char *member, uint64_t *id)
{
	const struct img_kind *k = img_kind_by_file(img_set_schema(set), member);

	return k && strchr(k->pattern, '%') && strstr(k->pattern, "%s") == NULL &&
	       img_kind_match(k, member, id, NULL, 0);
}

/* The leader's core image of the thread this core image is for, or NULL. */
static struct img_msg *leader_core(struct xf_ctx *c, int *is_leader)
{
	char name[64];
	struct img_image *img;
	uint32_t pid;

	*is_leader = 0;
	if (!c->has_id || !(pid = task_of(c, (uint32_t)c->id)))
		return NULL;
	*is_leader = pid == c->id;
	snprintf(name, sizeof(name), "core-%u.img", pid);
	if (!img_set_has(c->set, name) || img_set_image(c->set, name, &img, c->err) || !img->n)
		return NULL;
	return img->e[0].msg;
}

/* Conditions */

static int val_cmp(const struct img_fielddesc *fd, const struct img_fval *f, const struct xf_val *v, int op)
{
	if (v->is_bytes) {
		if (f->wt != IMG_WT_LEN || f->packed)
			return 0;
		if (op == XO_PREFIX)
			return f->v.b.len >= v->n && !memcmp(f->v.b.p, v->p, v->n);
		int eq = f->v.b.len == v->n && !memcmp(f->v.b.p, v->p, v->n);

		return op == XO_NE ? !eq : op == XO_EQ || op == XO_IN ? eq : 0;
	}
	if (f->wt == IMG_WT_LEN)
		return 0;
	uint64_t x = img_fval_u64(fd, f);
	int sgn = fd->type == IMG_T_INT32 || fd->type == IMG_T_INT64 || fd->type == IMG_T_SINT32 ||
		  fd->type == IMG_T_SINT64 || fd->type == IMG_T_SFIXED32 || fd->type == IMG_T_SFIXED64 ||
		  fd->type == IMG_T_ENUM;
	int lt = sgn ? (int64_t)x < (int64_t)v->u : x < v->u;
	int gt = sgn ? (int64_t)x > (int64_t)v->u : x > v->u;

	switch (op) {
	case XO_EQ: case XO_IN: return x == v->u;
	case XO_NE: return x != v->u;
	case XO_GT: return gt;
	case XO_GE: return !lt;
	case XO_LT: return lt;
	case XO_LE: return !gt;
	case XO_ALL: return (x & v->u) == v->u;
	case XO_ANY: return (x & v->u) != 0;
	case XO_NONE: return (x & v->u) == 0;
	}
	return 0;
}

struct cmp_arg {
	const struct xf_cond *w;
	int hit;
};

static int cmp_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg)
{
	struct cmp_arg *a = arg;

	(void)c;
	for (uint32_t i = 0; i < m->n && !a->hit; i++) {
		const struct img_fval *f = &m->f[i];

		if (f->num != fd->num || f->fi == IMG_FI_UNKNOWN)
			continue;
		if (f->packed) {
			const uint8_t *p = f->v.b.p, *e = p + f->v.b.len;
			uint64_t v;

			while (!a->hit && img_packed_next(fd->type, &p, e, &v) > 0) {
				struct img_fval one = *f;

				one.packed = 0;
				one.wt = IMG_WT_VARINT;
				one.v.u = v;
				a->hit = a->w->op == XO_IN ? 0 : val_cmp(fd, &one, &a->w->v, a->w->op);
				for (size_t k = 0; a->w->op == XO_IN && k < a->w->nset && !a->hit; k++)
					a->hit = val_cmp(fd, &one, &a->w->set[k], XO_IN);
			}
			continue;
		}
		if (a->w->op == XO_IN) {
			for (size_t k = 0; k < a->w->nset && !a->hit; k++)
				a->hit = val_cmp(fd, f, &a->w->set[k], XO_IN);
		} else
			a->hit = val_cmp(fd, f, &a->w->v, a->w->op);
	}
	return 0;
}

static int has_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg)
{
	(void)c;
	if (img_msg_get_num(m, fd->num))
		*(int *)arg = 1;
	return 0;
}

/* Two messages (or absences) the same: their encodings are compared. */
static int same_msg(const struct img_msg *a, const struct img_msg *b)
{
	struct img_buf x, y;
	int same;

	if (!a || !b)
		return a == b;
	img_buf_init(&x);
	img_buf_init(&y);
	img_pb_encode((struct img_msg *)a, &x);
	img_pb_encode((struct img_msg *)b, &y);
	same = !x.failed && !y.failed && x.len == y.len && !memcmp(x.data, y.data, x.len);
	img_buf_free(&x);
	img_buf_free(&y);
	return same;
}

static int cond_one(struct xf_ctx *c, const struct xf_cond *w, const struct img_msg *m, int *res)
{
	int leader, hit = 0;

	switch (w->kind) {
	case XC_HAS:
	case XC_MISSING:
		walk(c, (struct img_msg *)m, &w->path, 0, has_leaf, &hit);
		*res = w->kind == XC_HAS ? hit : !hit;
		return 0;
	case XC_CMP: {
		struct cmp_arg a = { w, 0 };

		walk(c, (struct img_msg *)m, &w->path, 0, cmp_leaf, &a);
		*res = a.hit;
		return 0;
	}
	case XC_THREAD:
		leader_core(c, &leader);
		*res = c->has_id && task_of(c, (uint32_t)c->id) && leader == w->leader;
		return 0;
	case XC_SAME_IN_LEADER: {
		struct img_msg *lc = leader_core(c, &leader);
		const struct img_fielddesc *fd = w->path.fd[w->path.n - 1];

		if (!lc) {
			*res = 0;
			return 0;
		}
		struct img_msg *h1 = holder(NULL, (struct img_msg *)m, &w->path, 0), *h2 = holder(NULL, lc, &w->path, 0);
		const struct img_fval *f1 = h1 ? img_msg_get_num(h1, fd->num) : NULL;
		const struct img_fval *f2 = h2 ? img_msg_get_num(h2, fd->num) : NULL;

		if (!f1 || !f2)
			*res = !f1 && !f2;
		else if (fd->type == IMG_T_MESSAGE)
			*res = same_msg(f1->v.m, f2->v.m);
		else if (f1->wt == IMG_WT_LEN)
			*res = f1->v.b.len == f2->v.b.len && !memcmp(f1->v.b.p, f2->v.b.p, f1->v.b.len);
		else
			*res = f1->v.u == f2->v.u;
		return 0;
	}
	case XC_NOT:
		if (cond_one(c, w->sub, m, &hit))
			return -EINVAL;
		*res = !hit;
		return 0;
	case XC_ANY:
		*res = 0;
		for (size_t i = 0; i < w->nsub && !*res; i++)
			if (cond_one(c, &w->sub[i], m, res))
				return -EINVAL;
		return 0;
	}
	*res = 0;
	return 0;
}

int xf_cond_all(struct xf_ctx *c, const struct xf_cond *w, size_t n, const struct img_msg *m, const char *member,
		int *res)
{
	(void)member;
	*res = 1;
	for (size_t i = 0; i < n && *res; i++)
		if (cond_one(c, &w[i], m, res))
			return -EINVAL;
	return 0;
}

/* Images */

/* The member an action's target kind names, for the image being worked on. */
static int target_name(struct xf_ctx *c, const struct img_kind *k, char *buf, size_t len)
{
	if (strchr(k->pattern, '%')) {
		if (!c->has_id)
			return efail(c, "%s images are numbered, and %s has no number to give them", k->name, c->member);
		if (img_kind_filename(k, c->id, NULL, buf, len))
			return efail(c, "name too long");
		return 0;
	}
	snprintf(buf, len, "%s", k->pattern);
	return 0;
}

static int get_or_add(struct xf_ctx *c, const char *name, const struct img_kind *k, struct img_image **img)
{
	if (img_set_has(c->set, name))
		return img_set_image(c->set, name, img, c->err);
	if (img_set_add(c->set, name, k, img, c->err))
		return -EINVAL;
	return record(c, IMG_XF_OP_ADD_IMAGE, name, -1, NULL, NULL, NULL, NULL, -1);
}

static void remove_entry(struct img_image *img, size_t i)
{
	memmove(&img->e[i], &img->e[i + 1], (img->n - i - 1) * sizeof(*img->e));
	img->n--;
}

static int insert_entry(struct img_image *img, size_t pos, const struct img_msgdesc *d, struct img_msg *m)
{
	struct img_entry *e = img_image_add(img, d, m), t;

	if (!e)
		return -ENOMEM;
	t = *e;
	memmove(&img->e[pos + 1], &img->e[pos], (img->n - 1 - pos) * sizeof(*img->e));
	img->e[pos] = t;
	return 0;
}

/* Actions */

static int set_value(struct xf_ctx *c, struct img_arena *a, struct img_msg *m, const struct xf_path *p,
		     const struct img_jv *v, const char *where)
{
	struct img_msg *h = holder(a, m, p, 1);
	const struct img_fielddesc *fd = p->fd[p->n - 1];

	if (!h)
		return img_err_set(c->err, ENOMEM, "out of memory");
	if (fd->type == IMG_T_MESSAGE) {
		struct img_msg *sub = img_msg_from_json(a, fd->msg, v, where, c->err);
		struct img_fval *f;

		if (!sub)
			return -EINVAL;
		if (fd->label != IMG_L_REPEATED)
			img_msg_del(h, fd->name);
		f = img_msg_insert(a, h, fd);
		if (!f)
			return img_err_set(c->err, ENOMEM, "out of memory");
		f->v.m = sub;
		return 0;
	}
	return img_field_from_json(a, h, fd, v, where, c->err);
}

/* Copy the value at from into to (same entry); an absent value leaves to as it is. */
static int copy_value(struct xf_ctx *c, struct img_msg *m, const struct xf_path *from, const struct xf_path *to)
{
	const struct img_fielddesc *fs = from->fd[from->n - 1], *ft = to->fd[to->n - 1];
	struct img_msg *hs = holder(NULL, m, from, 0), *ht;
	const struct img_fval *f = hs ? img_msg_get_num(hs, fs->num) : NULL;
	struct img_arena *a = arena_of(c);
	char *before, *after;

	if (!f)
		return 0;
	ht = holder(a, m, to, 1);
	if (!ht)
		return img_err_set(c->err, ENOMEM, "out of memory");
	before = render(c, ht, ft);
	if (fs->type == IMG_T_MESSAGE || ft->type == IMG_T_MESSAGE) {
		if (fs->type != ft->type || fs->msg != ft->msg)
			return efail(c, "cannot copy %s into %s: not the same message", from->text, to->text);
		struct img_msg *d = img_msg_dup(a, f->v.m);
		struct img_fval *nf;

		if (!d)
			return img_err_set(c->err, ENOMEM, "out of memory");
		img_msg_del(ht, ft->name);
		nf = img_msg_insert(a, ht, ft);
		if (!nf)
			return img_err_set(c->err, ENOMEM, "out of memory");
		nf->v.m = d;
	} else if (f->wt == IMG_WT_LEN) {
		if (ft->type != IMG_T_STRING && ft->type != IMG_T_BYTES)
			return efail(c, "cannot copy %s into %s: not both strings", from->text, to->text);
		if (img_msg_set_bytes(a, ht, ft->name, f->v.b.p, f->v.b.len))
			return img_err_set(c->err, ENOMEM, "out of memory");
	} else {
		uint64_t v = img_fval_u64(fs, f);

		if (ft->type == IMG_T_STRING || ft->type == IMG_T_BYTES)
			return efail(c, "cannot copy %s into %s: a number into a string", from->text, to->text);
		if ((ft->type == IMG_T_UINT32 || ft->type == IMG_T_FIXED32) && v > UINT32_MAX)
			return efail(c, "%s is %llu, which does not fit %s (uint32)", from->text, (unsigned long long)v,
				     to->text);
		if (img_msg_set_u64(a, ht, ft->name, v))
			return img_err_set(c->err, ENOMEM, "out of memory");
	}
	after = render(c, ht, ft);
	if (same_str(before, after))
		return 0;
	return record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, to->text, before, after, NULL, -1);
}

struct drop_arg {
	const char *text;
	int n;
};

static int drop_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg)
{
	struct drop_arg *d = arg;
	char *before;

	if (!img_msg_get_num(m, fd->num))
		return 0;
	before = render(c, m, fd);
	img_msg_del(m, fd->name);
	d->n++;
	return record(c, IMG_XF_OP_DROP, c->member, (int64_t)c->idx, d->text, before, NULL, NULL, -1);
}

static int act_set(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	struct img_msg *h = holder(NULL, m, &a->path, 0);
	const struct img_fielddesc *fd = a->path.fd[a->path.n - 1];
	char *before = h ? render(c, h, fd) : NULL, *after;

	if (set_value(c, arena_of(c), m, &a->path, a->value, a->path.text))
		return -EINVAL;
	h = holder(NULL, m, &a->path, 0);
	after = render(c, h, fd);
	if (same_str(before, after))
		return 0;
	return record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, a->path.text, before, after, NULL, -1);
}

/* Values given to a moved or wrapped message: literals, or fields of the entry ("$id"). */
static int apply_kvs(struct xf_ctx *c, struct img_arena *a, struct img_msg *dst, const struct xf_kv *kv, size_t n,
		     const struct img_msg *src)
{
	for (size_t i = 0; i < n; i++) {
		const struct img_fielddesc *fd = kv[i].path.fd[kv[i].path.n - 1];
		struct img_msg *h;

		if (!kv[i].from.n) {
			if (set_value(c, a, dst, &kv[i].path, kv[i].value, kv[i].path.text))
				return -EINVAL;
			continue;
		}
		uint64_t v;
		const struct img_fielddesc *ff = kv[i].from.fd[kv[i].from.n - 1];

		h = holder(a, dst, &kv[i].path, 1);
		if (!h)
			return img_err_set(c->err, ENOMEM, "out of memory");
		if (ff->type == IMG_T_STRING || ff->type == IMG_T_BYTES) {
			struct img_msg *sh = holder(NULL, (struct img_msg *)src, &kv[i].from, 0);
			size_t len;
			const uint8_t *p = sh ? img_msg_bytes(sh, ff->name, &len) : NULL;

			if (p && img_msg_set_bytes(a, h, fd->name, p, len))
				return img_err_set(c->err, ENOMEM, "out of memory");
			continue;
		}
		if (!get_u64(src, &kv[i].from, &v))
			continue;
		if (img_msg_set_u64(a, h, fd->name, v))
			return img_err_set(c->err, ENOMEM, "out of memory");
	}
	return 0;
}

static int act_split(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	uint64_t cnt, adv, parts;
	char before[32], after[32];
	struct img_entry *e = &c->img->e[c->idx];

	if (!get_u64(m, &a->path, &cnt) || cnt <= a->max)
		return 0;
	if (!get_u64(m, &a->advance, &adv))
		return efail(c, "no %s to advance", a->advance.text);
	parts = (cnt + a->max - 1) / a->max;
	if (parts > 1000000)
		return efail(c, "%s %llu would make %llu entries", a->path.text, (unsigned long long)cnt,
			     (unsigned long long)parts);
	if (a->unit && a->max > UINT64_MAX / a->unit)
		return efail(c, "%s: the step does not fit 64 bits", a->advance.text);
	for (uint64_t k = parts; k-- > 1;) {
		struct img_msg *d = img_msg_dup(arena_of(c), m);
		uint64_t n = k == parts - 1 ? cnt - k * a->max : a->max;

		if (!d || img_msg_set_u64(arena_of(c), d, a->path.fd[0]->name, n) ||
		    img_msg_set_u64(arena_of(c), d, a->advance.fd[0]->name, adv + k * a->max * a->unit) ||
		    insert_entry(c->img, c->idx + 1, e->desc, d))
			return img_err_set(c->err, ENOMEM, "out of memory");
		e = &c->img->e[c->idx];
		c->added_after++;
	}
	if (img_msg_set_u64(arena_of(c), m, a->path.fd[0]->name, a->max))
		return img_err_set(c->err, ENOMEM, "out of memory");
	snprintf(before, sizeof(before), "%llu", (unsigned long long)cnt);
	snprintf(after, sizeof(after), "%llu", (unsigned long long)parts);
	return record(c, IMG_XF_OP_SPLIT, c->member, (int64_t)c->idx, a->path.text, before, after, NULL, -1);
}

/* Merge an entry into the one before it when they continue each other and differ in nothing else. */
static int act_merge(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	struct img_entry *e = &c->img->e[c->idx], *p;
	uint64_t pc, pa, ec, ea;
	char before[64];

	if (!c->idx)
		return 0;
	p = &c->img->e[c->idx - 1];
	if (p->desc != e->desc || !p->msg || !get_u64(p->msg, &a->path, &pc) || !get_u64(p->msg, &a->advance, &pa) ||
	    !get_u64(m, &a->path, &ec) || !get_u64(m, &a->advance, &ea))
		return 0;
	/* the entries a split made: the one before holds a multiple of the largest count */
	if (a->has_previous && (!a->previous || !pc || pc % a->previous))
		return 0;
	if (a->unit && pc > (UINT64_MAX - pa) / a->unit)
		return 0;
	if (pa + pc * a->unit != ea || pc > UINT64_MAX - ec)
		return 0;
	struct img_msg *x = img_msg_dup(arena_of(c), p->msg), *y = img_msg_dup(arena_of(c), m);

	if (!x || !y)
		return img_err_set(c->err, ENOMEM, "out of memory");
	img_msg_del(x, a->path.fd[0]->name);
	img_msg_del(x, a->advance.fd[0]->name);
	img_msg_del(y, a->path.fd[0]->name);
	img_msg_del(y, a->advance.fd[0]->name);
	if (!same_msg(x, y))
		return 0;
	if (img_msg_set_u64(arena_of(c), p->msg, a->path.fd[0]->name, pc + ec))
		return img_err_set(c->err, ENOMEM, "out of memory");
	snprintf(before, sizeof(before), "%llu", (unsigned long long)ec);
	if (record(c, IMG_XF_OP_MERGE, c->member, (int64_t)c->idx, a->path.text, before, NULL, c->member,
		   (int64_t)c->idx - 1))
		return -EINVAL;
	remove_entry(c->img, c->idx);
	c->gone = 1;
	return 0;
}

static struct ordcheck *ord_for(struct xf_ctx *c, const struct xf_path *order)
{
	for (size_t i = 0; i < c->nord; i++)
		if (!strcmp(c->ord[i].member, c->member))
			return &c->ord[i];
	struct ordcheck *n = img_realloc(c->ord, (c->nord + 1) * sizeof(*n));

	if (!n)
		return NULL;
	c->ord = n;
	struct ordcheck *o = &c->ord[c->nord];

	memset(o, 0, sizeof(*o));
	o->member = img_strdup(c->member);
	o->order = order;
	o->keys = img_calloc(c->img->n ? c->img->n : 1, sizeof(*o->keys));
	if (!o->member || !o->keys) {
		img_free(o->member);
		img_free(o->keys);
		return NULL;
	}
	for (size_t i = 0; i < c->img->n; i++) {
		uint64_t k = 0;

		if (c->img->e[i].msg)
			get_u64(c->img->e[i].msg, order, &k);
		o->keys[o->nkeys++] = k;
	}
	c->nord++;
	return o;
}

static int ord_note(struct ordcheck *o, const char *target, uint64_t key)
{
	size_t t;

	for (t = 0; t < o->nt; t++)
		if (!strcmp(o->tname[t], target))
			break;
	if (t == o->nt) {
		char **tn = img_realloc(o->tname, (o->nt + 1) * sizeof(*tn));
		uint64_t **tk;
		size_t *ntk;

		if (!tn)
			return -ENOMEM;
		o->tname = tn;
		tk = img_realloc(o->tkeys, (o->nt + 1) * sizeof(*tk));
		if (!tk)
			return -ENOMEM;
		o->tkeys = tk;
		ntk = img_realloc(o->ntkeys, (o->nt + 1) * sizeof(*ntk));
		if (!ntk)
			return -ENOMEM;
		o->ntkeys = ntk;
		o->tname[t] = img_strdup(target);
		o->tkeys[t] = img_calloc(o->nkeys ? o->nkeys : 1, sizeof(uint64_t));
		o->ntkeys[t] = 0;
		o->nt++;
		if (!o->tname[t] || !o->tkeys[t])
			return -ENOMEM;
	}
	if (o->ntkeys[t] < o->nkeys)
		o->tkeys[t][o->ntkeys[t]++] = key;
	return 0;
}

static int act_move_out(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	char tname[256];
	struct img_image *ti = NULL;
	struct ordcheck *oc = NULL;

	if (target_name(c, a->kind_to, tname, sizeof(tname)))
		return -EINVAL;
	for (size_t k = 0; k < a->nfields; k++) {
		const struct xf_path *p = &a->fields[k];
		const struct img_fielddesc *fd = p->fd[p->n - 1];
		struct img_msg *h = holder(NULL, m, p, 0);
		size_t j = 0;

		if (!h)
			continue; /* no container: no image either */
		if (!ti && get_or_add(c, tname, a->kind_to, &ti))
			return -EINVAL;
		if (a->order.n && !oc && !(oc = ord_for(c, &a->order)))
			return img_err_set(c->err, ENOMEM, "out of memory");
		for (uint32_t i = 0; i < h->n; i++) {
			struct img_fval *f = &h->f[i];
			char field[300];

			if (f->num != fd->num || f->fi == IMG_FI_UNKNOWN)
				continue;
			if (apply_kvs(c, &ti->arena, f->v.m, a->set, a->nset, m))
				return -EINVAL;
			if (!img_image_add(ti, a->kind_to->msg, f->v.m))
				return img_err_set(c->err, ENOMEM, "out of memory");
			if (fd->label == IMG_L_REPEATED)
				snprintf(field, sizeof(field), "%s[%zu]", p->text, j);
			else
				snprintf(field, sizeof(field), "%s", p->text);
			j++;
			if (oc) {
				uint64_t key = 0;

				get_u64(m, &a->order, &key);
				if (ord_note(oc, tname, key))
					return img_err_set(c->err, ENOMEM, "out of memory");
			}
			if (record(c, IMG_XF_OP_MOVE, c->member, (int64_t)c->idx, field, NULL, NULL, tname,
				   (int64_t)ti->n - 1))
				return -EINVAL;
		}
		img_msg_del(h, fd->name);
	}
	return 0;
}

/* A move-in source: its entries stay in place (and keep their indexes) until the table is done. */
static struct consumed *consumed_for(struct xf_ctx *c, const char *member, size_t n)
{
	for (size_t i = 0; i < c->ncons; i++)
		if (!strcmp(c->cons[i].member, member))
			return &c->cons[i];
	struct consumed *nc = img_realloc(c->cons, (c->ncons + 1) * sizeof(*nc));

	if (!nc)
		return NULL;
	c->cons = nc;
	nc = &c->cons[c->ncons];
	nc->member = img_strdup(member);
	nc->taken = img_calloc(n ? n : 1, 1);
	nc->n = n;
	nc->rule = c->rule->name;
	if (!nc->member || !nc->taken) {
		img_free(nc->member);
		img_free(nc->taken);
		return NULL;
	}
	c->ncons++;
	return nc;
}

static int is_taken(const struct xf_ctx *c, const char *member, size_t i)
{
	for (size_t k = 0; k < c->ncons; k++)
		if (!strcmp(c->cons[k].member, member))
			return i < c->cons[k].n && c->cons[k].taken[i];
	return 0;
}

static int kv_match(const struct xf_kv *kv, size_t n, const struct img_msg *src, const struct img_msg *here)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t a, b;
		int ha = get_u64(src, &kv[i].path, &a), hb = get_u64(here, &kv[i].from, &b);

		if (ha != hb || (ha && a != b))
			return 0;
	}
	return 1;
}

static int act_move_in(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	char sname[256];
	struct img_image *si;
	size_t got = 0, have[4] = { 0 };
	struct consumed *cs;
	int r = 0;

	if (target_name(c, a->kind_to, sname, sizeof(sname)))
		return -EINVAL;
	if (!img_set_has(c->set, sname))
		return 0;
	if (img_set_image(c->set, sname, &si, c->err))
		return -EINVAL;
	cs = consumed_for(c, sname, si->n);
	if (!cs)
		return img_err_set(c->err, ENOMEM, "out of memory");
	/* the containers come with the image, even when it has no entries */
	for (size_t k = 0; k < a->nfields; k++) {
		struct img_msg *h = holder(arena_of(c), m, &a->fields[k], 1);

		if (!h)
			return img_err_set(c->err, ENOMEM, "out of memory");
		have[k] = img_msg_count(h, a->fields[k].fd[a->fields[k].n - 1]->name);
	}
	for (size_t j = 0; j < si->n && j < cs->n && !r; j++) {
		struct img_msg *sm = si->e[j].msg;

		if (cs->taken[j] || !sm || si->e[j].desc != a->kind_to->msg || !kv_match(a->match, a->nmatch, sm, m))
			continue;
		if (a->nfields > 1 && got >= a->nfields)
			break;
		size_t k = a->nfields > 1 ? got : 0;
		const struct xf_path *p = &a->fields[k];
		struct img_msg *h = holder(arena_of(c), m, p, 1);
		struct img_fval *f;
		char field[300];

		if (!h || apply_kvs(c, arena_of(c), sm, a->set, a->nset, m)) {
			r = h ? -EINVAL : img_err_set(c->err, ENOMEM, "out of memory");
			break;
		}
		f = img_msg_insert(arena_of(c), h, p->fd[p->n - 1]);
		if (!f) {
			r = img_err_set(c->err, ENOMEM, "out of memory");
			break;
		}
		f->v.m = sm;
		cs->taken[j] = 1;
		if (p->fd[p->n - 1]->label == IMG_L_REPEATED)
			snprintf(field, sizeof(field), "%s[%zu]", p->text, have[k]++);
		else
			snprintf(field, sizeof(field), "%s", p->text);
		r = record(c, IMG_XF_OP_MOVE, sname, (int64_t)j, field, NULL, NULL, c->member, (int64_t)c->idx);
		got++;
	}
	return r;
}

static struct pending *pending_for(struct xf_ctx *c, const char *target, const struct img_kind *k,
				   const struct xf_path *order)
{
	for (size_t i = 0; i < c->npend; i++)
		if (!strcmp(c->pend[i].target, target))
			return &c->pend[i];
	struct pending *n = img_realloc(c->pend, (c->npend + 1) * sizeof(*n));

	if (!n)
		return NULL;
	c->pend = n;
	n = &c->pend[c->npend];
	memset(n, 0, sizeof(*n));
	n->target = img_strdup(target);
	if (!n->target)
		return NULL;
	n->k = k;
	n->order = order && order->n ? order : NULL;
	n->table = c->stat ? c->stat->table : NULL;
	n->rule = c->stat ? c->stat->rule : NULL;
	c->npend++;
	return n;
}

static int act_wrap_into(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	char tname[256];
	struct pending *pd;
	struct img_msg *w;
	struct img_fval *f;
	uint32_t seq;

	if (target_name(c, a->kind_to, tname, sizeof(tname)))
		return -EINVAL;
	pd = pending_for(c, tname, a->kind_to, &a->order);
	if (!pd)
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (seq = 0; seq < pd->nseq; seq++)
		if (!strcmp(pd->seqname[seq], c->member))
			break;
	if (seq == pd->nseq) {
		const char **sn = img_realloc(pd->seqname, (pd->nseq + 1) * sizeof(*sn));

		if (!sn)
			return img_err_set(c->err, ENOMEM, "out of memory");
		pd->seqname = sn;
		sn[pd->nseq] = xf_rstr(c->rep, c->member);
		if (!sn[pd->nseq] && c->rep)
			return img_err_set(c->err, ENOMEM, "out of memory");
		if (!sn[pd->nseq])
			sn[pd->nseq] = c->member;
		pd->nseq++;
	}
	w = img_msg_new(arena_of(c), a->kind_to->msg);
	if (!w || !(f = img_msg_insert(arena_of(c), w, a->path.fd[0])))
		return img_err_set(c->err, ENOMEM, "out of memory");
	f->v.m = m;
	if (apply_kvs(c, arena_of(c), w, a->set, a->nset, m))
		return -EINVAL;
	if (pd->n == pd->cap) {
		size_t cap = pd->cap ? pd->cap * 2 : 32;
		struct pend_ent *ne = img_realloc(pd->e, cap * sizeof(*ne));

		if (!ne)
			return img_err_set(c->err, ENOMEM, "out of memory");
		pd->e = ne;
		pd->cap = cap;
	}
	pd->e[pd->n].seq = seq + 1; /* 0: the entries the target has */
	pd->e[pd->n].m = w;
	pd->e[pd->n].from = pd->seqname[seq];
	pd->e[pd->n].from_entry = (int64_t)c->idx;
	pd->e[pd->n].field = a->path.text;
	pd->n++;
	img_set_touch(c->set, c->member);
	remove_entry(c->img, c->idx);
	c->gone = 1;
	c->changed = 1;
	return 0;
}

/* Paths: old, or under old/, get new in its place. */
static int map_one(const char *p, size_t n, const char *old, const char *new_, struct img_buf *out)
{
	size_t ol = strlen(old);

	while (ol > 1 && old[ol - 1] == '/')
		ol--;
	if (n < ol || memcmp(p, old, ol) || (n > ol && p[ol] != '/' && !(ol == 1 && old[0] == '/')))
		return 0;
	size_t nl = strlen(new_);

	while (nl > 1 && new_[nl - 1] == '/')
		nl--;
	out->len = 0;
	if (ol == 1 && old[0] == '/' && n > 1) {
		/* "/" maps every absolute path: "/a" under "/srv" is "/srv/a" */
		img_buf_add(out, new_, nl);
		if (nl == 1 && new_[0] == '/')
			out->len = 0;
		img_buf_add(out, p, n);
	} else {
		img_buf_add(out, new_, nl);
		img_buf_add(out, p + ol, n - ol);
	}
	return out->failed ? -ENOMEM : 1;
}

static int map_path_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg)
{
	const struct xf_action *a = arg;
	struct img_buf out;
	int r = 0;

	img_buf_init(&out);
	for (uint32_t i = 0; i < m->n && !r; i++) {
		struct img_fval *f = &m->f[i];
		const char *p;
		size_t n;
		int nul = 0, hit = 0;

		if (f->num != fd->num || f->fi == IMG_FI_UNKNOWN || f->wt != IMG_WT_LEN)
			continue;
		p = (const char *)f->v.b.p;
		n = f->v.b.len;
		if (a->unix_name) {
			/* abstract names start with a NUL byte: not paths; a path name may end with its NUL */
			if (!n || !p[0])
				continue;
			if (p[n - 1] == 0) {
				nul = 1;
				n--;
			}
		}
		if (!n || p[0] != '/')
			continue; /* relative names (unix sockets: name_dir holds the folder) are left */
		if (a->old)
			hit = map_one(p, n, a->old, a->new_, &out);
		for (size_t k = 0; !a->old && !hit && k < c->o->npaths; k++)
			hit = map_one(p, n, c->o->paths[k].old, c->o->paths[k].new_, &out);
		if (hit < 0)
			r = img_err_set(c->err, ENOMEM, "out of memory");
		if (hit <= 0)
			continue;
		if (nul)
			img_buf_addc(&out, 0);
		if (a->unix_name && out.len > 108) {
			r = efail(c, "%s would be %zu bytes long: a unix socket name holds at most 108 (sun_path)",
				  a->path.text, out.len);
			break;
		}
		if (out.failed || out.len > UINT32_MAX) {
			r = img_err_set(c->err, ENOMEM, "out of memory");
			break;
		}
		char *before = render(c, m, fd);
		uint8_t *np = img_arena_alloc(arena_of(c), out.len ? out.len : 1);

		if (!np) {
			r = img_err_set(c->err, ENOMEM, "out of memory");
			break;
		}
		memcpy(np, out.data, out.len);
		f->v.b.p = np;
		f->v.b.len = (uint32_t)out.len;
		img_msg_touch(m);
		r = record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, a->path.text, before, render(c, m, fd), NULL, -1);
	}
	img_buf_free(&out);
	return r;
}

/* Address words as CRIU keeps them: network-order bytes read as host u32s. */
static void words_to_bytes(const uint32_t *w, size_t n, uint8_t *b)
{
	for (size_t i = 0; i < n; i++)
		img_put_u32(b + 4 * i, w[i]);
}

static int ip_match(const struct img_xf_ipmap *mp, const uint8_t *b, size_t blen, size_t at)
{
	unsigned bits = mp->plen;

	for (size_t i = 0; bits && i < 16; i++) {
		unsigned take = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t)(0xff << (8 - take));

		if (at + i >= blen || (b[at + i] & mask) != (mp->old[i] & mask))
			return 0;
		bits -= take;
	}
	return 1;
}

static void ip_apply(const struct img_xf_ipmap *mp, uint8_t *b, size_t at)
{
	unsigned bits = mp->plen;

	for (size_t i = 0; bits && i < 16; i++) {
		unsigned take = bits >= 8 ? 8 : bits;
		uint8_t mask = (uint8_t)(0xff << (8 - take));

		b[at + i] = (uint8_t)((b[at + i] & ~mask) | (mp->new_[i] & mask));
		bits -= take;
	}
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

struct ip_arg {
	const struct xf_action *a;
	uint64_t family;
};

static int map_ip_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg)
{
	struct ip_arg *ia = arg;
	uint32_t w[4];
	uint8_t b[16];
	size_t n = 0;
	struct img_iter it;
	uint64_t v;
	int hit = 0;

	img_iter_init(&it, m, fd->name);
	while (img_iter_next_u64(&it, &v))
		if (n++ < 4)
			w[n - 1] = (uint32_t)v;
	if (n != 1 && n != 4)
		return 0;
	words_to_bytes(w, n, b);
	for (size_t k = 0; k < c->o->nips && !hit; k++) {
		const struct img_xf_ipmap *mp = &c->o->ips[k];

		if (n == 1 && mp->family == AF_INET && ia->family == AF_INET && ip_match(mp, b, 4, 0)) {
			ip_apply(mp, b, 0);
			hit = 1;
		} else if (n == 4 && mp->family == AF_INET6 && ip_match(mp, b, 16, 0)) {
			ip_apply(mp, b, 0);
			hit = 1;
		} else if (n == 4 && mp->family == AF_INET && !memcmp(b, v4mapped, 12) && ip_match(mp, b, 16, 12)) {
			ip_apply(mp, b, 12);
			hit = 1;
		}
	}
	if (!hit)
		return 0;
	char *before = render(c, m, fd);

	img_msg_del(m, fd->name);
	for (size_t i = 0; i < n; i++) {
		struct img_fval *f = img_msg_insert(arena_of(c), m, fd);

		if (!f)
			return img_err_set(c->err, ENOMEM, "out of memory");
		f->v.u = img_get_u32(b + 4 * i);
	}
	return record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, ia->a->path.text, before, render(c, m, fd), NULL, -1);
}

static int load_remaps(struct xf_ctx *c)
{
	struct img_image *img;

	if (c->remap_loaded)
		return 0;
	c->remap_loaded = 1;
	if (!img_set_has(c->set, "remap-fpath.img"))
		return 0;
	if (img_set_image(c->set, "remap-fpath.img", &img, c->err))
		return -EINVAL;
	c->remapped = img_calloc(img->n ? img->n : 1, sizeof(*c->remapped));
	if (!c->remapped)
		return img_err_set(c->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < img->n; i++)
		c->remapped[c->nremapped++] = img_msg_u64(img->e[i].msg, "orig_id", 0);
	return 0;
}

static int act_refresh(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	struct img_msg *r = a->path.n ? img_msg_sub(holder(NULL, m, &a->path, 0), a->path.fd[a->path.n - 1]->name) : m;
	char path[4096], before[64], after[64], field[300];
	struct stat st;
	size_t n;
	const uint8_t *name;
	uint64_t id;

	if (!r || !(name = img_msg_bytes(r, "name", &n)) || !n || name[0] != '/' || memchr(name, 0, n))
		return 0;
	if (load_remaps(c))
		return -EINVAL;
	id = img_msg_u64(r, "id", 0);
	for (size_t i = 0; i < c->nremapped; i++)
		if (c->remapped[i] == id)
			return 0; /* a ghost or linked remap: the dumped file is not at its name */
	const char *root = c->o->root && c->o->root[0] ? c->o->root : "/";
	size_t rl = strlen(root);

	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (snprintf(path, sizeof(path), "%.*s%.*s", rl == 1 && root[0] == '/' ? 0 : (int)rl, root, (int)n,
		     (const char *)name) >= (int)sizeof(path))
		return 0;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (img_msg_has(r, "size") && img_msg_u64(r, "size", 0) != (uint64_t)st.st_size) {
		snprintf(before, sizeof(before), "%llu", (unsigned long long)img_msg_u64(r, "size", 0));
		snprintf(after, sizeof(after), "%llu", (unsigned long long)st.st_size);
		if (img_msg_set_u64(arena_of(c), r, "size", (uint64_t)st.st_size))
			return img_err_set(c->err, ENOMEM, "out of memory");
		snprintf(field, sizeof(field), "%s%ssize", a->path.text, a->path.n ? "." : "");
		if (record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, field, before, after, NULL, -1))
			return -EINVAL;
		if (img_msg_has(r, "build_id") && c->rep)
			img_xf_report_warn(c->rep, "%s entry %zu: %.*s changed size and has a build-id, which is kept: "
					   "CRIU refuses a file whose contents changed", c->member, c->idx, (int)n, name);
	}
	if (img_msg_has(r, "mode") && img_msg_u64(r, "mode", 0) != (uint64_t)st.st_mode) {
		snprintf(before, sizeof(before), "%llu", (unsigned long long)img_msg_u64(r, "mode", 0));
		snprintf(after, sizeof(after), "%llu", (unsigned long long)st.st_mode);
		if (img_msg_set_u64(arena_of(c), r, "mode", (uint64_t)st.st_mode))
			return img_err_set(c->err, ENOMEM, "out of memory");
		snprintf(field, sizeof(field), "%s%smode", a->path.text, a->path.n ? "." : "");
		if (record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, field, before, after, NULL, -1))
			return -EINVAL;
	}
	return 0;
}

static int act_copy_from_leader(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	int leader;
	struct img_msg *lc = leader_core(c, &leader), *lh, *h;
	const struct img_fielddesc *fd = a->path.fd[a->path.n - 1];
	const struct img_fval *lf;

	if (!lc || leader)
		return 0;
	lh = holder(NULL, lc, &a->path, 0);
	lf = lh ? img_msg_get_num(lh, fd->num) : NULL;
	h = holder(NULL, m, &a->path, 0);
	if (!lf || (h && img_msg_get_num(h, fd->num)))
		return 0;
	h = holder(arena_of(c), m, &a->path, 1);
	if (!h)
		return img_err_set(c->err, ENOMEM, "out of memory");
	struct img_fval *f = img_msg_insert(arena_of(c), h, fd);

	if (!f)
		return img_err_set(c->err, ENOMEM, "out of memory");
	f->wt = lf->wt;
	f->packed = lf->packed;
	f->v = lf->v;
	if (fd->type == IMG_T_MESSAGE && !(f->v.m = img_msg_dup(arena_of(c), lf->v.m)))
		return img_err_set(c->err, ENOMEM, "out of memory");
	return record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, a->path.text, NULL, render(c, h, fd), NULL, -1);
}

/*
 * PE_LAZY as CRIU's dumper sets it (criu/mem.c generate_iovs): pages of VMAs
 * that may be lazy (the table's "vma" conditions), unless is_stack() says the
 * page holds a thread's stack pointer.  is_stack() compares the offsets within
 * the page, not the pages ((sp ^ vaddr) & ~PAGE_MASK): it is true for every
 * page when some thread's stack pointer is page aligned, and for none
 * otherwise.  What CRIU does is what the images hold, so that is what this does.
 */
struct lazy_vma {
	uint64_t start, end;
	int lazy;
};

struct lazy_cache {
	const struct xf_action *a;
	uint64_t id;
	struct lazy_vma *v;
	size_t n;
	int sp_aligned;
};

static int lazy_vmas(struct xf_ctx *c, const struct xf_action *a, struct lazy_vma **out, size_t *n, int *sp_aligned)
{
	char name[64];
	struct img_image *mm = NULL;
	struct img_msg *src = NULL;
	struct img_iter it;
	struct img_msg *v;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	*sp_aligned = 0;
	snprintf(name, sizeof(name), "mm-%llu.img", (unsigned long long)c->id);
	if (img_set_has(c->set, name)) {
		if (img_set_image(c->set, name, &mm, c->err))
			return -EINVAL;
		src = img_image_msg(mm);
	}
	snprintf(name, sizeof(name), "vmas-%llu.img", (unsigned long long)c->id);
	struct img_image *vi = NULL;

	if ((!src || !img_msg_count(src, "vmas")) && img_set_has(c->set, name) && img_set_image(c->set, name, &vi, c->err))
		return -EINVAL;
	size_t total = vi ? vi->n : src ? img_msg_count(src, "vmas") : 0;

	*out = img_calloc(total ? total : 1, sizeof(**out));
	if (!*out)
		return img_err_set(c->err, ENOMEM, "out of memory");
	if (!vi)
		img_iter_init(&it, src, "vmas");
	for (size_t i = 0; i < total; i++) {
		int ok;

		v = vi ? vi->e[i].msg : img_iter_next_msg(&it);
		if (!v)
			break;
		if (xf_cond_all(c, a->vma_when, a->nvma_when, v, name, &ok))
			return -EINVAL;
		(*out)[cnt].start = img_msg_u64(v, "start", 0);
		(*out)[cnt].end = img_msg_u64(v, "end", 0);
		(*out)[cnt].lazy = ok;
		cnt++;
	}
	*n = cnt;
	if (load_tasks(c))
		return -EINVAL;
	for (size_t i = 0; i < c->ntasks; i++) {
		struct img_image *core;
		uint64_t sp;

		if (c->tasks[i].pid != c->id)
			continue;
		snprintf(name, sizeof(name), "core-%u.img", c->tasks[i].tid);
		if (!img_set_has(c->set, name) || img_set_image(c->set, name, &core, c->err))
			continue;
		for (size_t k = 0; k < a->nsp; k++)
			if (get_u64(img_image_msg(core), &a->sp[k], &sp)) {
				if (!(sp & (IMG_PAGE_SIZE - 1)))
					*sp_aligned = 1;
				break;
			}
	}
	return 0;
}

static int page_lazy(const struct lazy_vma *v, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (addr < v[mid].start)
			hi = mid;
		else if (addr >= v[mid].end)
			lo = mid + 1;
		else
			return v[mid].lazy;
	}
	return 0;
}

static int act_lazy_flags(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	struct lazy_vma *v;
	size_t nv;
	int aligned, r;
	uint64_t addr, cnt, first, want;
	const char *cntf = img_msg_has(m, "nr_pages") ? "nr_pages" : "compat_nr_pages";
	char *before, *after;

	if (!c->has_id)
		return efail(c, "lazy-flags works on pagemap-PID.img");
	addr = img_msg_u64(m, "vaddr", 0);
	cnt = img_msg_u64(m, cntf, 0);
	if (!c->lazy || c->lazy->a != a || c->lazy->id != c->id) {
		if (!c->lazy && !(c->lazy = img_calloc(1, sizeof(*c->lazy))))
			return img_err_set(c->err, ENOMEM, "out of memory");
		img_free(c->lazy->v);
		c->lazy->v = NULL;
		c->lazy->a = NULL;
		r = lazy_vmas(c, a, &c->lazy->v, &c->lazy->n, &c->lazy->sp_aligned);
		if (r)
			return r;
		c->lazy->a = a;
		c->lazy->id = c->id;
	}
	v = c->lazy->v;
	nv = c->lazy->n;
	aligned = c->lazy->sp_aligned;
	first = !aligned && page_lazy(v, nv, addr);
	/* an entry whose pages differ is cut where they change: CRIU's dumper makes one entry per kind of page */
	for (uint64_t k = 1; k < cnt && k < (UINT64_MAX - addr) / IMG_PAGE_SIZE; k++) {
		int lz = !aligned && page_lazy(v, nv, addr + k * IMG_PAGE_SIZE);

		if ((uint64_t)lz == first)
			continue;
		struct img_msg *d = img_msg_dup(arena_of(c), m);

		if (!d || img_msg_set_u64(arena_of(c), d, cntf, cnt - k) ||
		    img_msg_set_u64(arena_of(c), d, "vaddr", addr + k * IMG_PAGE_SIZE) ||
		    img_msg_set_u64(arena_of(c), m, cntf, k) ||
		    insert_entry(c->img, c->idx + 1, c->img->e[c->idx].desc, d))
			return img_err_set(c->err, ENOMEM, "out of memory");
		char b1[32], b2[32];

		snprintf(b1, sizeof(b1), "%llu", (unsigned long long)cnt);
		snprintf(b2, sizeof(b2), "2");
		if (record(c, IMG_XF_OP_SPLIT, c->member, (int64_t)c->idx, cntf, b1, b2, NULL, -1))
			return -EINVAL;
		/* the rest is looked at as the next entry */
		break;
	}
	want = a->present_bits | (first ? a->lazy_bits : 0);
	const struct img_fielddesc *fd = a->path.fd[a->path.n - 1];

	before = render(c, m, fd);
	if (img_msg_set_u64(arena_of(c), m, fd->name, want))
		return img_err_set(c->err, ENOMEM, "out of memory");
	after = render(c, m, fd);
	if (same_str(before, after))
		return 0;
	return record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, a->path.text, before, after, NULL, -1);
}

static int act_patch(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	char member[256], field[64], before[40], after[40];
	uint64_t addr, off;
	uint32_t pid;
	struct img_src *src;

	if (!get_u64(m, &a->path, &addr) || !addr)
		return 0;
	if (addr > UINT64_MAX - a->offset)
		return efail(c, "%s + %llu is past the address space", a->path.text, (unsigned long long)a->offset);
	addr += a->offset;
	if (!c->o->mem || !c->o->mem->locate)
		return efail(c, "patching task memory needs the memory API, and none was given");
	pid = c->has_id ? task_of(c, (uint32_t)c->id) : 0;
	if (!pid)
		return efail(c, "no task in pstree.img has thread %llu", (unsigned long long)c->id);
	if (c->o->mem->locate(c->o->mem->arg, c->set, pid, addr, a->bytes.n, member, sizeof(member), &off, c->err))
		return -EINVAL;
	if (img_dir_get(img_set_dir(c->set), member, &src, c->err))
		return -EINVAL;
	if (off > src->size || src->size - off < a->bytes.n) {
		img_src_unref(src);
		return efail(c, "%s has no bytes at 0x%llx", member, (unsigned long long)off);
	}
	size_t o = 0;

	for (size_t i = 0; i < a->bytes.n; i++)
		o += (size_t)snprintf(before + o, sizeof(before) - o, "%02x", src->data[off + i]);
	img_src_unref(src);
	o = 0;
	for (size_t i = 0; i < a->bytes.n; i++)
		o += (size_t)snprintf(after + o, sizeof(after) - o, "%02x", a->bytes.p[i]);
	if (!strcmp(before, after))
		return 0;
	if (img_set_patch(c->set, member, off, a->bytes.p, a->bytes.n, c->err))
		return -EINVAL;
	snprintf(field, sizeof(field), "0x%llx", (unsigned long long)addr);
	char bq[48], aq[48];

	snprintf(bq, sizeof(bq), "\"%s\"", before);
	snprintf(aq, sizeof(aq), "\"%s\"", after);
	return record(c, IMG_XF_OP_PATCH, member, (int64_t)off, field, bq, aq, NULL, -1);
}

static int act_add_entry(struct xf_ctx *c, const struct xf_action *a)
{
	struct img_image *ti = c->img;
	char tname[256];
	const char *tn = c->member;
	struct img_msg *m;

	if (a->kind_to) {
		if (target_name(c, a->kind_to, tname, sizeof(tname)) || get_or_add(c, tname, a->kind_to, &ti))
			return -EINVAL;
		tn = tname;
	}
	const struct img_msgdesc *d = a->kind_to ? a->kind_to->msg : c->img->e[c->idx].desc;

	m = img_msg_from_json(&ti->arena, d, a->value, "add-entry", c->err);
	if (!m)
		return -EINVAL;
	if (a->kind_to) {
		if (!img_image_add(ti, d, m))
			return img_err_set(c->err, ENOMEM, "out of memory");
		return record(c, IMG_XF_OP_ADD_ENTRY, tn, (int64_t)ti->n - 1, NULL, NULL, render_msg(c, m), NULL, -1);
	}
	if (insert_entry(ti, c->idx + 1 + c->added_after, d, m))
		return img_err_set(c->err, ENOMEM, "out of memory");
	c->added_after++;
	return record(c, IMG_XF_OP_ADD_ENTRY, tn, (int64_t)(c->idx + c->added_after), NULL, NULL, render_msg(c, m),
		      NULL, -1);
}

static int run_action(struct xf_ctx *c, const struct xf_action *a)
{
	struct img_msg *m = c->img->e[c->idx].msg;

	switch (a->kind) {
	case XA_SET:
		return act_set(c, a, m);
	case XA_COPY:
		return copy_value(c, m, &a->path, &a->to);
	case XA_RENAME: {
		struct drop_arg d = { a->path.text, 0 };

		if (!holder(NULL, m, &a->path, 0) || !img_msg_get_num(holder(NULL, m, &a->path, 0), a->path.fd[a->path.n - 1]->num))
			return 0;
		if (copy_value(c, m, &a->path, &a->to))
			return -EINVAL;
		return walk(c, m, &a->path, 0, drop_leaf, &d);
	}
	case XA_DROP: {
		struct drop_arg d = { a->path.text, 0 };

		return walk(c, m, &a->path, 0, drop_leaf, &d);
	}
	case XA_DROP_ENTRY:
		if (record(c, IMG_XF_OP_DROP_ENTRY, c->member, (int64_t)c->idx, NULL, render_msg(c, m), NULL, NULL, -1))
			return -EINVAL;
		remove_entry(c->img, c->idx);
		c->gone = 1;
		return 0;
	case XA_ADD_ENTRY:
		return act_add_entry(c, a);
	case XA_SPLIT:
		return act_split(c, a, m);
	case XA_MERGE:
		return act_merge(c, a, m);
	case XA_MOVE_OUT:
		return act_move_out(c, a, m);
	case XA_MOVE_IN:
		return act_move_in(c, a, m);
	case XA_WRAP_INTO:
		return act_wrap_into(c, a, m);
	case XA_MAP_PATH:
		if (!a->old && !c->o->npaths)
			return 0;
		return walk(c, m, &a->path, 0, map_path_leaf, (void *)a);
	case XA_MAP_IP: {
		struct ip_arg ia = { a, 0 };

		if (!c->o->nips)
			return 0;
		get_u64(m, &a->family, &ia.family);
		return walk(c, m, &a->path, 0, map_ip_leaf, &ia);
	}
	case XA_REFRESH_FILE:
		return act_refresh(c, a, m);
	case XA_COPY_FROM_LEADER:
		return act_copy_from_leader(c, a, m);
	case XA_LAZY_FLAGS:
		return act_lazy_flags(c, a, m);
	case XA_PATCH_MEMORY:
		return act_patch(c, a, m);
	}
	return efail(c, "unknown action");
}

/* Rules */

static int image_actions(struct xf_ctx *c, const struct xf_rule *r)
{
	for (size_t i = 0; i < r->niact; i++) {
		const struct xf_iact *ia = &r->iact[i];
		size_t entries = c->img->n;

		if (c->img->kind->layout == IMG_LAY_PAGEMAP && entries)
			entries--; /* the head is not an entry of pages */
		if (ia->kind == XI_DROP || (ia->kind == XI_DROP_IF_EMPTY && !entries &&
					    c->img->kind->layout != IMG_LAY_RAW && c->img->kind->layout != IMG_LAY_OPAQUE)) {
			if (record(c, IMG_XF_OP_DROP_IMAGE, c->member, -1, NULL, NULL, NULL, NULL, -1))
				return -EINVAL;
			img_set_remove(c->set, c->member);
			return 1;
		}
		if (ia->kind == XI_HEAD) {
			const struct img_kind *k = c->img->kind;
			uint32_t want = !ia->head ? 0 : k->head == IMG_HEAD_COMMON ? IMG_MAGIC_COMMON
					: k->head == IMG_HEAD_SERVICE ? IMG_MAGIC_SERVICE : 0;

			if (k->layout == IMG_LAY_RAW || c->img->head == want)
				continue;
			char b[16], a[16];

			snprintf(b, sizeof(b), "\"0x%08x\"", c->img->head);
			snprintf(a, sizeof(a), "\"0x%08x\"", want);
			c->img->head = want;
			if (record(c, IMG_XF_OP_HEAD, c->member, -1, NULL, b, a, NULL, -1))
				return -EINVAL;
		}
	}
	return 0;
}

static int rule_entries(struct xf_ctx *c, const struct xf_rule *r)
{
	for (c->idx = 0; c->idx < c->img->n;) {
		struct img_entry *e = &c->img->e[c->idx];
		int ok, which = XR_DO;

		c->gone = 0;
		c->added_after = 0;
		if (!e->msg || (r->entry && e->desc != r->entry) || is_taken(c, c->member, c->idx)) {
			c->idx++;
			continue;
		}
		if (xf_cond_all(c, r->when, r->nwhen, e->msg, c->member, &ok))
			return -EINVAL;
		if (!ok) {
			c->idx++;
			continue;
		}
		if (r->bail) {
			int pol = c->o->policy;

			if (pol == IMG_XF_BAIL || (pol == IMG_XF_EMULATE && !r->has[XR_EMULATE]))
				return efail(c, "%s; --policy hope %s", r->bail,
					     r->has[XR_HOPE] ? "takes the table's fallback" : "keeps it as it is");
			which = pol == IMG_XF_EMULATE ? XR_EMULATE : r->has[XR_HOPE] ? XR_HOPE
				: r->has[XR_EMULATE] ? XR_EMULATE : -1;
			if (which == -1 || which == XR_HOPE) {
				if (c->rep)
					img_xf_report_warn(c->rep, "%s entry %zu: %s (rule %s of %s); kept as it is",
							   c->member, c->idx, r->bail, r->name, c->t->name);
				if (which == -1) {
					if (record(c, IMG_XF_OP_KEEP, c->member, (int64_t)c->idx, NULL, NULL, NULL, NULL, -1))
						return -EINVAL;
					if (c->stat)
						c->stat->applied++;
					c->idx++;
					continue;
				}
			}
		}
		c->changed = 0;
		for (size_t k = 0; k < r->nact[which] && !c->gone; k++)
			if (run_action(c, &r->act[which][k]))
				return -EINVAL;
		if (c->changed && c->stat)
			c->stat->applied++;
		if (!c->gone)
			c->idx += 1 + c->added_after;
		else
			c->idx += c->added_after;
	}
	return 0;
}

static int run_rule(struct xf_ctx *c, const struct xf_rule *r)
{
	char **names = NULL;
	size_t n = 0;
	int ret = 0;

	c->rule = r;
	c->stat = rule_stat(c, r);
	for (size_t k = 0; k < (r->any_kind ? 1 : r->nkinds) && !ret; k++) {
		if (xf_set_names(c->set, r->any_kind ? NULL : r->kinds[k], &names, &n))
			return img_err_set(c->err, ENOMEM, "out of memory");
		for (size_t i = 0; i < n && !ret; i++) {
			if (!img_set_has(c->set, names[i]))
				continue;
			const struct img_kind *kk = img_kind_by_file(img_set_schema(c->set), names[i]);

			if (r->any_kind && kk && (kk->layout == IMG_LAY_RAW))
				continue;
			c->member = names[i];
			c->has_id = member_id(c->set, names[i], &c->id);
			if (img_set_image(c->set, names[i], &c->img, c->err)) {
				ret = -EINVAL;
				break;
			}
			if (r->has[XR_DO] || r->bail)
				ret = rule_entries(c, r);
			c->changed = 0;
			if (!ret && r->niact) {
				int dropped = image_actions(c, r);

				if (dropped < 0)
					ret = dropped;
				if (c->changed && c->stat)
					c->stat->applied++;
			}
		}
		c->member = NULL;
		c->img = NULL;
		xf_names_free(names, n);
		names = NULL;
	}
	c->rule = NULL;
	return ret;
}

/* The end of a table */

/* Heads-min merge: repeatedly take, of the sequences' next entries, the one with the smallest key. */
static size_t *merge_order(uint64_t *const *keys, const size_t *len, size_t nseq, size_t total)
{
	size_t *pos = img_calloc(nseq ? nseq : 1, sizeof(*pos)), *out = img_calloc(total ? total : 1, sizeof(*out) * 2);

	if (!pos || !out) {
		img_free(pos);
		img_free(out);
		return NULL;
	}
	for (size_t k = 0; k < total; k++) {
		size_t best = nseq;

		for (size_t s = 0; s < nseq; s++)
			if (pos[s] < len[s] && (best == nseq || keys[s][pos[s]] < keys[best][pos[best]]))
				best = s;
		out[2 * k] = best;
		out[2 * k + 1] = pos[best]++;
	}
	img_free(pos);
	return out;
}

static int flush_pending(struct xf_ctx *c, struct pending *pd)
{
	struct img_image *ti;
	size_t nseq = pd->nseq + 1, total, *ord = NULL;
	uint64_t **keys = NULL;
	size_t *len = NULL, **idx = NULL;
	struct img_entry *ne = NULL;
	int r = -ENOMEM;

	c->member = pd->target;
	c->has_id = member_id(c->set, pd->target, &c->id);
	if (get_or_add(c, pd->target, pd->k, &ti))
		return -EINVAL;
	c->img = ti;
	total = ti->n + pd->n;
	keys = img_calloc(nseq, sizeof(*keys));
	len = img_calloc(nseq, sizeof(*len));
	idx = img_calloc(nseq, sizeof(*idx));
	ne = img_calloc(total ? total : 1, sizeof(*ne));
	if (!keys || !len || !idx || !ne)
		goto out;
	for (size_t s = 0; s < nseq; s++) {
		keys[s] = img_calloc(total ? total : 1, sizeof(**keys));
		idx[s] = img_calloc(total ? total : 1, sizeof(**idx));
		if (!keys[s] || !idx[s])
			goto out;
	}
	for (size_t i = 0; i < ti->n; i++) {
		uint64_t k = 0;

		if (pd->order && ti->e[i].msg)
			get_u64(ti->e[i].msg, pd->order, &k);
		keys[0][len[0]] = k;
		idx[0][len[0]++] = i;
	}
	for (size_t i = 0; i < pd->n; i++) {
		uint32_t s = pd->e[i].seq;
		uint64_t k = 0;

		if (pd->order)
			get_u64(pd->e[i].m, pd->order, &k);
		keys[s][len[s]] = pd->order ? k : (uint64_t)(ti->n + i);
		idx[s][len[s]++] = i;
	}
	if (!pd->order) {
		/* no key: the target's entries, then the new ones in the order they came */
		for (size_t s = 0; s < nseq; s++)
			for (size_t i = 0; i < len[s]; i++)
				keys[s][i] = s ? ti->n + idx[s][i] : idx[s][i];
	}
	ord = merge_order(keys, len, nseq, total);
	if (!ord)
		goto out;
	size_t old_n = ti->n;

	for (size_t k = 0; k < total; k++) {
		size_t s = ord[2 * k], i = idx[s][ord[2 * k + 1]];

		if (!s)
			ne[k] = ti->e[i];
		else {
			memset(&ne[k], 0, sizeof(ne[k]));
			ne[k].desc = pd->k->msg;
			ne[k].msg = pd->e[i].m;
		}
	}
	/* the image's array grows to hold them all, then takes the merged order */
	for (size_t k = old_n; k < total; k++)
		if (!img_image_add(ti, pd->k->msg, NULL))
			goto out;
	memcpy(ti->e, ne, total * sizeof(*ne));
	c->stat = NULL;
	for (size_t k = 0; k < total; k++) {
		size_t s = ord[2 * k], i = idx[s][ord[2 * k + 1]];
		struct img_xf_rulestat st = { pd->table, pd->rule, NULL, 0, 0, 0 };

		if (!s)
			continue;
		c->stat = &st;
		r = record(c, IMG_XF_OP_MOVE, pd->e[i].from, pd->e[i].from_entry, pd->e[i].field, NULL, NULL, pd->target,
			   (int64_t)k);
		c->stat = NULL;
		if (r)
			goto out;
	}
	img_set_touch(c->set, pd->target);
	r = 0;
out:
	for (size_t s = 0; s < nseq; s++) {
		if (keys)
			img_free(keys[s]);
		if (idx)
			img_free(idx[s]);
	}
	img_free(keys);
	img_free(idx);
	img_free(len);
	img_free(ne);
	img_free(ord);
	c->img = NULL;
	c->member = NULL;
	return r == -ENOMEM ? img_err_set(c->err, ENOMEM, "out of memory") : r;
}

/* The entries that moved in leave their image; an image they all left goes; one they did not is an error. */
static int finish_consumed(struct xf_ctx *c, struct consumed *cs)
{
	struct img_xf_rulestat st = { c->t->name, cs->rule, NULL, 0, 0, 0 };
	struct img_image *img;
	size_t keep = 0, first = SIZE_MAX;
	int r;

	if (!img_set_has(c->set, cs->member))
		return 0;
	if (img_set_image(c->set, cs->member, &img, c->err))
		return -EINVAL;
	for (size_t j = 0; j < img->n; j++) {
		if (j < cs->n && cs->taken[j])
			continue;
		if (first == SIZE_MAX)
			first = j;
		img->e[keep++] = img->e[j];
	}
	if (keep && c->o->policy == IMG_XF_HOPE) {
		img->n = keep;
		if (c->rep)
			img_xf_report_warn(c->rep, "%s: %zu entr%s that nothing took in stay%s (rule %s of %s)", cs->member,
					   keep, keep == 1 ? "y" : "ies", keep == 1 ? "s" : "", cs->rule, c->t->name);
		return 0;
	}
	if (keep) {
		img_err_subject(c->err, cs->member);
		return img_err_set(c->err, EINVAL, "entry %zu at offset 0x%llx: nothing took it in (rule %s of %s): "
				   "it belongs to something the set does not have", first,
				   (unsigned long long)img->e[0].off, cs->rule, c->t->name);
	}
	img->n = 0;
	c->stat = &st;
	r = record(c, IMG_XF_OP_DROP_IMAGE, cs->member, -1, NULL, NULL, NULL, NULL, -1);
	c->stat = NULL;
	img_set_remove(c->set, cs->member);
	return r;
}

/* Would a merge by key rebuild the image's order from what is left of it and what moved out? */
static void check_order(struct xf_ctx *c, struct ordcheck *o)
{
	struct img_image *img;
	size_t nseq = o->nt + 1, total = 0, *len, *ord;
	uint64_t **keys;
	int same = 1;

	if (!img_set_has(c->set, o->member) || img_set_image(c->set, o->member, &img, NULL))
		img = NULL;
	keys = img_calloc(nseq, sizeof(*keys));
	len = img_calloc(nseq, sizeof(*len));
	if (!keys || !len)
		goto out;
	keys[0] = img_calloc(img && img->n ? img->n : 1, sizeof(uint64_t));
	if (!keys[0])
		goto out;
	for (size_t i = 0; img && i < img->n; i++) {
		uint64_t k = 0;

		if (img->e[i].msg)
			get_u64(img->e[i].msg, o->order, &k);
		keys[0][len[0]++] = k;
	}
	for (size_t t = 0; t < o->nt; t++) {
		keys[t + 1] = o->tkeys[t];
		len[t + 1] = o->ntkeys[t];
	}
	for (size_t s = 0; s < nseq; s++)
		total += len[s];
	ord = merge_order(keys, len, nseq, total);
	if (!ord)
		goto out;
	same = total == o->nkeys;
	for (size_t k = 0; same && k < total; k++)
		same = keys[ord[2 * k]][ord[2 * k + 1]] == o->keys[k];
	img_free(ord);
	if (!same && c->rep)
		img_xf_report_warn(c->rep, "%s: its entries were not in %s order, which is the order the way back "
				   "rebuilds: upgrading back gives the same entries in another order", o->member,
				   o->order->text);
out:
	if (keys)
		img_free(keys[0]);
	img_free(keys);
	img_free(len);
}

static void ctx_free(struct xf_ctx *c)
{
	for (size_t i = 0; i < c->npend; i++) {
		img_free(c->pend[i].target);
		img_free(c->pend[i].e);
		img_free(c->pend[i].seqname);
	}
	img_free(c->pend);
	for (size_t i = 0; i < c->ncons; i++) {
		img_free(c->cons[i].member);
		img_free(c->cons[i].taken);
	}
	img_free(c->cons);
	for (size_t i = 0; i < c->nord; i++) {
		img_free(c->ord[i].member);
		img_free(c->ord[i].keys);
		for (size_t t = 0; t < c->ord[i].nt; t++) {
			img_free(c->ord[i].tname[t]);
			img_free(c->ord[i].tkeys[t]);
		}
		img_free(c->ord[i].tname);
		img_free(c->ord[i].tkeys);
		img_free(c->ord[i].ntkeys);
	}
	img_free(c->ord);
	img_free(c->tasks);
	img_free(c->remapped);
	if (c->lazy)
		img_free(c->lazy->v);
	img_free(c->lazy);
}

int img_xf_apply(struct img_set *set, const struct img_xf_table *t, int way, const struct img_xf_opts *o,
		 struct img_xf_report *rep, struct img_err *err)
{
	struct xf_ctx c;
	int r = 0;

	memset(&c, 0, sizeof(c));
	c.set = set;
	c.t = t;
	c.o = o ? o : &no_opts;
	c.rep = rep;
	c.err = err;
	if (way < 0 || way > IMG_XF_UP || (!t->nrules[way] && t->nrules[IMG_XF_RULES] && way != IMG_XF_RULES)) {
		ctx_free(&c);
		return img_err_set(err, EINVAL, "table %s has no %s rules", t->name,
				   way == IMG_XF_UP ? "up" : way == IMG_XF_DOWN ? "down" : "plain");
	}
	for (size_t i = 0; i < t->nrules[way] && !r; i++)
		r = run_rule(&c, &t->rules[way][i]);
	for (size_t i = 0; i < c.npend && !r; i++)
		r = flush_pending(&c, &c.pend[i]);
	for (size_t i = 0; i < c.ncons && !r; i++)
		r = finish_consumed(&c, &c.cons[i]);
	for (size_t i = 0; i < c.nord && !r; i++)
		check_order(&c, &c.ord[i]);
	ctx_free(&c);
	return r;
}

/* Features of a set, for the detection of versions */

int xf_match_eval(struct img_set *set, const struct xf_match *mt, int *res, char *where, size_t wlen,
		  struct img_err *err)
{
	struct xf_ctx c;
	struct img_xf_table dummy = { .name = "detect" };
	int r = 0;

	memset(&c, 0, sizeof(c));
	c.set = set;
	c.t = &dummy;
	c.o = &no_opts;
	c.err = err;
	*res = 0;
	for (size_t k = 0; k < mt->nkinds && !*res && !r; k++) {
		char **names;
		size_t n;

		if (xf_set_names(set, mt->kinds[k], &names, &n)) {
			r = img_err_set(err, ENOMEM, "out of memory");
			break;
		}
		for (size_t i = 0; i < n && !*res && !r; i++) {
			struct img_image *img;

			if (!mt->nwhen) {
				*res = 1;
				snprintf(where, wlen, "%s", names[i]);
				break;
			}
			if (img_set_image(set, names[i], &img, err)) {
				r = -EINVAL;
				break;
			}
			c.member = names[i];
			c.img = img;
			c.has_id = member_id(set, names[i], &c.id);
			for (size_t e = 0; e < img->n && !*res; e++) {
				int ok;

				if (!img->e[e].msg || (mt->entry && img->e[e].desc != mt->entry))
					continue;
				c.idx = e;
				if (xf_cond_all(&c, mt->when, mt->nwhen, img->e[e].msg, names[i], &ok)) {
					r = -EINVAL;
					break;
				}
				if (ok) {
					*res = 1;
					snprintf(where, wlen, "%s entry %zu", names[i], e);
				}
			}
		}
		xf_names_free(names, n);
	}
	ctx_free(&c);
	return r;
}
