/*
 * The transform engine: runs a table's rules over an image set.
 *
 * For each rule, the images of its kinds are read (in name order) and each
 * entry whose message and conditions match gets the rule's actions
 * (xform_move.c: fields, entries and images; xform_native.c: what needs
 * CRIU's meaning of fields).  What an action changes is reported with the
 * value before and after, rendered the way crit --pretty prints it.  Work that
 * needs the whole table done first happens at its end: entries wrapped into
 * another image are merged in key order, images whose entries all moved
 * elsewhere are dropped, and the order a later merge would rebuild is checked
 * against the one there was.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xform_int.h"

static const struct img_xf_opts no_opts;

/* Report */


int xf_record(struct xf_ctx *c, int op, const char *image, int64_t entry, const char *field, const char *before,
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
	s->mismatch = ru->mismatch_text ? xf_rstr(r, ru->mismatch_text) : NULL;
	s->skipped = 0;
	s->emulated = s->hoped = 0;
	return s;
}

/* A field's value as crit --pretty prints it (NULL when the field is absent). */
char *xf_render(struct xf_ctx *c, const struct img_msg *m, const struct img_fielddesc *fd)
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
	img_field_to_json(&w, m, fd, 1, 0);
	img_out_flush(&o);
	if (!b.failed && c->rep)
		s = img_arena_strndup(&c->rep->arena, (const char *)b.data, b.len);
	img_buf_free(&b);
	return s;
}

char *xf_render_msg(struct xf_ctx *c, const struct img_msg *m)
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

int xf_same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Errors name the image and the entry */

int xf_efail(struct xf_ctx *c, const char *fmt, ...)
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
struct img_msg *xf_holder(struct img_arena *a, struct img_msg *m, const struct xf_path *p, int create)
{
	for (uint32_t i = 0; m && i + 1 < p->n; i++) {
		struct img_msg *s = img_msg_sub(m, p->fd[i]->name);

		if (!s && create)
			s = img_msg_set_msg(a, m, p->fd[i]->name);
		m = s;
	}
	return m;
}


/* Every message that holds the last field, through repeated fields too. */
int xf_walk(struct xf_ctx *c, struct img_msg *m, const struct xf_path *p, uint32_t i, leaf_fn fn, void *arg)
{
	if (!m)
		return 0;
	if (i + 1 >= p->n)
		return fn(c, m, p->fd[p->n - 1], arg);
	for (uint32_t k = 0; k < m->n; k++) {
		struct img_fval *f = &m->f[k];

		if (f->num != p->fd[i]->num || f->fi == IMG_FI_UNKNOWN)
			continue;
		int r = xf_walk(c, f->v.m, p, i + 1, fn, arg);

		if (r)
			return r;
	}
	return 0;
}

int xf_get_u64(const struct img_msg *m, const struct xf_path *p, uint64_t *v)
{
	struct img_msg *h = xf_holder(NULL, (struct img_msg *)m, p, 0);
	const struct img_fval *f;
	const struct img_fielddesc *fd = p->fd[p->n - 1];

	if (!h || !(f = img_msg_get_num(h, fd->num)) || (f->wt == IMG_WT_LEN))
		return 0;
	*v = img_fval_u64(fd, f);
	return 1;
}

struct img_arena *xf_arena_of(struct xf_ctx *c)
{
	return &c->img->arena;
}

/* Tasks and threads (pstree.img) */

int xf_load_tasks(struct xf_ctx *c)
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
uint32_t xf_task_of(struct xf_ctx *c, uint32_t tid)
{
	if (xf_load_tasks(c))
		return 0;
	for (size_t i = 0; i < c->ntasks; i++)
		if (c->tasks[i].tid == tid)
			return c->tasks[i].pid;
	return 0;
}

int xf_member_id(const struct img_set *set, const char *member, uint64_t *id)
{
	const struct img_kind *k = img_kind_by_file(img_set_schema(set), member);

	return k && strchr(k->pattern, '%') && strstr(k->pattern, "%s") == NULL &&
	       img_kind_match(k, member, id, NULL, 0);
}

/* The leader's core image of the thread this core image is for, or NULL. */
struct img_msg *xf_leader_core(struct xf_ctx *c, int *is_leader)
{
	char name[64];
	struct img_image *img;
	uint32_t pid;

	*is_leader = 0;
	if (!c->has_id || !(pid = xf_task_of(c, (uint32_t)c->id)))
		return NULL;
	*is_leader = pid == c->id;
	snprintf(name, sizeof(name), "core-%u.img", pid);
	if (!img_set_has(c->set, name) || img_set_image(c->set, name, &img, c->err) || !img->n)
		return NULL;
	return img->e[0].msg;
}

struct img_msg *xf_image_first(struct xf_ctx *c, const struct img_kind *k)
{
	struct img_image *img = NULL;
	char **names = NULL;
	size_t n = 0;

	if (xf_set_names(c->set, k, &names, &n))
		return NULL;
	for (size_t i = 0; i < n && !img; i++)
		if (!img_set_has(c->set, names[i]) || img_set_image(c->set, names[i], &img, c->err) || !img->n)
			img = NULL;
	xf_names_free(names, n);
	return img ? img->e[0].msg : NULL;
}

/* Two values of the same field (by their descriptors), however they are held. */
static int same_value(const struct img_fielddesc *fd, const struct img_fval *f1, const struct img_fval *f2)
{
	if (!f1 || !f2)
		return !f1 && !f2;
	if (fd->type == IMG_T_MESSAGE)
		return xf_same_msg(f1->v.m, f2->v.m);
	if (f1->wt == IMG_WT_LEN || f2->wt == IMG_WT_LEN)
		return f1->wt == f2->wt && f1->v.b.len == f2->v.b.len && !memcmp(f1->v.b.p, f2->v.b.p, f1->v.b.len);
	return f1->v.u == f2->v.u;
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
int xf_same_msg(const struct img_msg *a, const struct img_msg *b)
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
		xf_walk(c, (struct img_msg *)m, &w->path, 0, has_leaf, &hit);
		*res = w->kind == XC_HAS ? hit : !hit;
		return 0;
	case XC_CMP: {
		struct cmp_arg a = { w, 0 };

		xf_walk(c, (struct img_msg *)m, &w->path, 0, cmp_leaf, &a);
		*res = a.hit;
		return 0;
	}
	case XC_THREAD:
		xf_leader_core(c, &leader);
		*res = c->has_id && xf_task_of(c, (uint32_t)c->id) && leader == w->leader;
		return 0;
	case XC_SAME_IN_LEADER: {
		struct img_msg *lc = xf_leader_core(c, &leader);
		const struct img_fielddesc *fd = w->path.fd[w->path.n - 1];

		if (!lc) {
			*res = 0;
			return 0;
		}
		struct img_msg *h1 = xf_holder(NULL, (struct img_msg *)m, &w->path, 0), *h2 = xf_holder(NULL, lc, &w->path, 0);

		*res = same_value(fd, h1 ? img_msg_get_num(h1, fd->num) : NULL, h2 ? img_msg_get_num(h2, fd->num) : NULL);
		return 0;
	}
	case XC_SAME_IN_IMAGE: {
		struct img_msg *o = xf_image_first(c, w->kind_img);
		const struct img_fielddesc *fd = w->path.fd[w->path.n - 1], *od = w->other.fd[w->other.n - 1];
		struct img_msg *h1 = xf_holder(NULL, (struct img_msg *)m, &w->path, 0);
		struct img_msg *h2 = o ? xf_holder(NULL, o, &w->other, 0) : NULL;

		*res = o && same_value(fd, h1 ? img_msg_get_num(h1, fd->num) : NULL, h2 ? img_msg_get_num(h2, od->num) : NULL);
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
int xf_target_name(struct xf_ctx *c, const struct img_kind *k, char *buf, size_t len)
{
	if (strchr(k->pattern, '%')) {
		if (!c->has_id)
			return xf_efail(c, "%s images are numbered, and %s has no number to give them", k->name, c->member);
		if (img_kind_filename(k, c->id, NULL, buf, len))
			return xf_efail(c, "name too long");
		return 0;
	}
	snprintf(buf, len, "%s", k->pattern);
	return 0;
}

/* Whether the set is of img_version 1, whose images have no head magic (CRIU < 1.6). */
static int set_v1(struct xf_ctx *c)
{
	struct img_image *inv;

	if (!img_set_has(c->set, "inventory.img") || img_set_image(c->set, "inventory.img", &inv, NULL))
		return 0;
	return img_msg_u64(img_image_msg(inv), "img_version", 2) == 1;
}

int xf_get_or_add(struct xf_ctx *c, const char *name, const struct img_kind *k, struct img_image **img)
{
	if (img_set_has(c->set, name))
		return img_set_image(c->set, name, img, c->err);
	if (img_set_add(c->set, name, k, img, c->err))
		return -EINVAL;
	if (set_v1(c))
		(*img)->head = 0; /* a new image takes the set's framing */
	return xf_record(c, IMG_XF_OP_ADD_IMAGE, name, -1, NULL, NULL, NULL, NULL, -1);
}

void xf_remove_entry(struct img_image *img, size_t i)
{
	memmove(&img->e[i], &img->e[i + 1], (img->n - i - 1) * sizeof(*img->e));
	img->n--;
}

int xf_insert_entry(struct img_image *img, size_t pos, const struct img_msgdesc *d, struct img_msg *m)
{
	struct img_entry *e = img_image_add(img, d, m), t;

	if (!e)
		return -ENOMEM;
	t = *e;
	memmove(&img->e[pos + 1], &img->e[pos], (img->n - 1 - pos) * sizeof(*img->e));
	img->e[pos] = t;
	return 0;
}

static int run_action(struct xf_ctx *c, const struct xf_action *a)
{
	struct img_msg *m = c->img->e[c->idx].msg;

	switch (a->kind) {
	case XA_SET:
		return xf_act_set(c, a, m);
	case XA_COPY: {
		const struct img_msg *src = a->kind_to ? xf_image_first(c, a->kind_to) : m;

		if (!src)
			return xf_efail(c, "the set has no %s image to take %s from", a->kind_to->name, a->path.text);
		return xf_copy_value(c, src, m, &a->path, &a->to);
	}
	case XA_CLEAR_BITS: {
		struct img_msg *h = xf_holder(NULL, m, &a->path, 0);
		const struct img_fielddesc *fd = a->path.fd[a->path.n - 1];
		uint64_t v;
		char *before, *after;

		if (!h || !xf_get_u64(m, &a->path, &v) || !(v & a->mask))
			return 0;
		before = xf_render(c, h, fd);
		if (img_msg_set_u64(xf_arena_of(c), h, fd->name, v & ~a->mask))
			return img_err_set(c->err, ENOMEM, "out of memory");
		after = xf_render(c, h, fd);
		return xf_record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, a->path.text, before, after, NULL, -1);
	}
	case XA_RENAME: {
		struct drop_arg d = { a->path.text, 0 };

		if (!xf_holder(NULL, m, &a->path, 0) || !img_msg_get_num(xf_holder(NULL, m, &a->path, 0), a->path.fd[a->path.n - 1]->num))
			return 0;
		if (xf_copy_value(c, m, m, &a->path, &a->to))
			return -EINVAL;
		return xf_walk(c, m, &a->path, 0, xf_drop_leaf, &d);
	}
	case XA_DROP: {
		struct drop_arg d = { a->path.text, 0 };

		return xf_walk(c, m, &a->path, 0, xf_drop_leaf, &d);
	}
	case XA_DROP_ENTRY:
		if (xf_record(c, IMG_XF_OP_DROP_ENTRY, c->member, (int64_t)c->idx, NULL, xf_render_msg(c, m), NULL, NULL, -1))
			return -EINVAL;
		xf_remove_entry(c->img, c->idx);
		c->gone = 1;
		return 0;
	case XA_ADD_ENTRY:
		return xf_act_add_entry(c, a);
	case XA_SPLIT:
		return xf_act_split(c, a, m);
	case XA_MERGE:
		return xf_act_merge(c, a, m);
	case XA_MOVE_OUT:
		return xf_act_move_out(c, a, m);
	case XA_MOVE_IN:
		return xf_act_move_in(c, a, m);
	case XA_WRAP_INTO:
		return xf_act_wrap_into(c, a, m);
	case XA_MAP_PATH:
		if (!a->old && !c->o->npaths)
			return 0;
		return xf_walk(c, m, &a->path, 0, xf_map_path_leaf, (void *)a);
	case XA_MAP_IP: {
		struct ip_arg ia = { a, 0 };

		if (!c->o->nips)
			return 0;
		xf_get_u64(m, &a->family, &ia.family);
		return xf_walk(c, m, &a->path, 0, xf_map_ip_leaf, &ia);
	}
	case XA_REFRESH_FILE:
		return xf_act_refresh(c, a, m);
	case XA_COPY_FROM_LEADER:
		return xf_act_copy_from_leader(c, a, m);
	case XA_LAZY_FLAGS:
		return xf_act_lazy_flags(c, a, m);
	case XA_PATCH_MEMORY:
		return xf_act_patch(c, a, m);
	}
	return xf_efail(c, "unknown action");
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
			if (xf_record(c, IMG_XF_OP_DROP_IMAGE, c->member, -1, NULL, NULL, NULL, NULL, -1))
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
			if (xf_record(c, IMG_XF_OP_HEAD, c->member, -1, NULL, b, a, NULL, -1))
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
		if (!e->msg || (r->entry && e->desc != r->entry) || xf_is_taken(c, c->member, c->idx)) {
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

			if (pol == IMG_XF_BAIL && r->has[XR_EMULATE])
				return xf_efail(c, "%s (--policy bail; --policy emulate takes the table's exact emulation)",
						r->bail);
			if (pol == IMG_XF_BAIL || (pol == IMG_XF_EMULATE && !r->has[XR_EMULATE]))
				return xf_efail(c, "%s; no exact emulation: --policy hope %s", r->bail,
						r->has[XR_HOPE] ? "takes the table's fallback" : "keeps it as it is");
			which = pol == IMG_XF_EMULATE ? XR_EMULATE : r->has[XR_HOPE] ? XR_HOPE
				: r->has[XR_EMULATE] ? XR_EMULATE : -1;
			if (c->stat && which == XR_EMULATE)
				c->stat->emulated++;
			else if (c->stat)
				c->stat->hoped++;
			if (which == -1 || which == XR_HOPE) {
				if (c->rep)
					img_xf_report_warn(c->rep, "%s entry %zu: %s (rule %s of %s); %s",
							   c->member, c->idx, r->bail, r->name, c->t->name,
							   which == -1 ? "kept as it is" : "the table's fallback taken (--policy hope)");
				if (which == -1) {
					if (xf_record(c, IMG_XF_OP_KEEP, c->member, (int64_t)c->idx, NULL, NULL, NULL, NULL, -1))
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
	if (r->nmismatch) {
		int found = 0;

		for (size_t i = 0; i < r->nmismatch && !found; i++)
			for (size_t k = 0; k < c->o->nmismatches && !found; k++)
				found = !strcmp(r->mismatch[i], c->o->mismatches[k]);
		if (!found) {
			if (c->stat)
				c->stat->skipped = 1;
			c->rule = NULL;
			return 0;
		}
	}
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
			c->has_id = xf_member_id(c->set, names[i], &c->id);
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
	if (!ret && r->note && c->rep && c->stat && c->stat->applied)
		img_xf_report_warn(c->rep, "%s (rule %s of %s)", r->note, r->name, c->t->name);
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
	c->has_id = xf_member_id(c->set, pd->target, &c->id);
	if (xf_get_or_add(c, pd->target, pd->k, &ti))
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
			xf_get_u64(ti->e[i].msg, pd->order, &k);
		keys[0][len[0]] = k;
		idx[0][len[0]++] = i;
	}
	for (size_t i = 0; i < pd->n; i++) {
		uint32_t s = pd->e[i].seq;
		uint64_t k = 0;

		if (pd->order)
			xf_get_u64(pd->e[i].m, pd->order, &k);
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
		r = xf_record(c, IMG_XF_OP_MOVE, pd->e[i].from, pd->e[i].from_entry, pd->e[i].field, NULL, NULL, pd->target,
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
	r = xf_record(c, IMG_XF_OP_DROP_IMAGE, cs->member, -1, NULL, NULL, NULL, NULL, -1);
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
			xf_get_u64(img->e[i].msg, o->order, &k);
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
	xf_lazy_free(c->lazy);
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
			c.has_id = xf_member_id(set, names[i], &c.id);
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
