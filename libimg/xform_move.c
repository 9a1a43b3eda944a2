/*
 * Actions on fields, entries and images: set, copy, rename and drop fields;
 * add, drop, split and merge entries; move messages out into another image,
 * take entries in from one, wrap entries into another image's entries.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xform_int.h"

int xf_set_value(struct xf_ctx *c, struct img_arena *a, struct img_msg *m, const struct xf_path *p,
		     const struct img_jv *v, const char *where)
{
	struct img_msg *h = xf_holder(a, m, p, 1);
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
int xf_copy_value(struct xf_ctx *c, const struct img_msg *src, struct img_msg *m, const struct xf_path *from,
		  const struct xf_path *to)
{
	const struct img_fielddesc *fs = from->fd[from->n - 1], *ft = to->fd[to->n - 1];
	struct img_msg *hs = xf_holder(NULL, (struct img_msg *)src, from, 0), *ht;
	const struct img_fval *f = hs ? img_msg_get_num(hs, fs->num) : NULL;
	struct img_arena *a = xf_arena_of(c);
	char *before, *after;

	if (!f)
		return 0;
	ht = xf_holder(a, m, to, 1);
	if (!ht)
		return img_err_set(c->err, ENOMEM, "out of memory");
	before = xf_render(c, ht, ft);
	if (fs->type == IMG_T_MESSAGE || ft->type == IMG_T_MESSAGE) {
		if (fs->type != ft->type || fs->msg != ft->msg)
			return xf_efail(c, "cannot copy %s into %s: not the same message", from->text, to->text);
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
			return xf_efail(c, "cannot copy %s into %s: not both strings", from->text, to->text);
		if (img_msg_set_bytes(a, ht, ft->name, f->v.b.p, f->v.b.len))
			return img_err_set(c->err, ENOMEM, "out of memory");
	} else {
		uint64_t v = img_fval_u64(fs, f);

		if (ft->type == IMG_T_STRING || ft->type == IMG_T_BYTES)
			return xf_efail(c, "cannot copy %s into %s: a number into a string", from->text, to->text);
		if ((ft->type == IMG_T_UINT32 || ft->type == IMG_T_FIXED32) && v > UINT32_MAX)
			return xf_efail(c, "%s is %llu, which does not fit %s (uint32)", from->text, (unsigned long long)v,
				     to->text);
		if (img_msg_set_u64(a, ht, ft->name, v))
			return img_err_set(c->err, ENOMEM, "out of memory");
	}
	after = xf_render(c, ht, ft);
	if (xf_same_str(before, after))
		return 0;
	return xf_record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, to->text, before, after, NULL, -1);
}

int xf_drop_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg)
{
	struct drop_arg *d = arg;
	char *before;

	if (!img_msg_get_num(m, fd->num))
		return 0;
	before = xf_render(c, m, fd);
	img_msg_del(m, fd->name);
	d->n++;
	return xf_record(c, IMG_XF_OP_DROP, c->member, (int64_t)c->idx, d->text, before, NULL, NULL, -1);
}

int xf_act_set(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	struct img_msg *h = xf_holder(NULL, m, &a->path, 0);
	const struct img_fielddesc *fd = a->path.fd[a->path.n - 1];
	char *before = h ? xf_render(c, h, fd) : NULL, *after;

	if (xf_set_value(c, xf_arena_of(c), m, &a->path, a->value, a->path.text))
		return -EINVAL;
	h = xf_holder(NULL, m, &a->path, 0);
	after = xf_render(c, h, fd);
	if (xf_same_str(before, after))
		return 0;
	return xf_record(c, IMG_XF_OP_SET, c->member, (int64_t)c->idx, a->path.text, before, after, NULL, -1);
}

/* Values given to a moved or wrapped message: literals, or fields of the entry ("$id"). */
static int apply_kvs(struct xf_ctx *c, struct img_arena *a, struct img_msg *dst, const struct xf_kv *kv, size_t n,
		     const struct img_msg *src)
{
	for (size_t i = 0; i < n; i++) {
		const struct img_fielddesc *fd = kv[i].path.fd[kv[i].path.n - 1];
		struct img_msg *h;

		if (!kv[i].from.n) {
			if (xf_set_value(c, a, dst, &kv[i].path, kv[i].value, kv[i].path.text))
				return -EINVAL;
			continue;
		}
		uint64_t v;
		const struct img_fielddesc *ff = kv[i].from.fd[kv[i].from.n - 1];

		h = xf_holder(a, dst, &kv[i].path, 1);
		if (!h)
			return img_err_set(c->err, ENOMEM, "out of memory");
		if (ff->type == IMG_T_STRING || ff->type == IMG_T_BYTES) {
			struct img_msg *sh = xf_holder(NULL, (struct img_msg *)src, &kv[i].from, 0);
			size_t len;
			const uint8_t *p = sh ? img_msg_bytes(sh, ff->name, &len) : NULL;

			if (p && img_msg_set_bytes(a, h, fd->name, p, len))
				return img_err_set(c->err, ENOMEM, "out of memory");
			continue;
		}
		if (!xf_get_u64(src, &kv[i].from, &v))
			continue;
		if (img_msg_set_u64(a, h, fd->name, v))
			return img_err_set(c->err, ENOMEM, "out of memory");
	}
	return 0;
}

int xf_act_split(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	uint64_t cnt, adv, parts;
	char before[32], after[32];
	struct img_entry *e = &c->img->e[c->idx];

	if (!xf_get_u64(m, &a->path, &cnt) || cnt <= a->max)
		return 0;
	if (!xf_get_u64(m, &a->advance, &adv))
		return xf_efail(c, "no %s to advance", a->advance.text);
	parts = (cnt + a->max - 1) / a->max;
	if (parts > 1000000)
		return xf_efail(c, "%s %llu would make %llu entries", a->path.text, (unsigned long long)cnt,
			     (unsigned long long)parts);
	if (a->unit && a->max > UINT64_MAX / a->unit)
		return xf_efail(c, "%s: the step does not fit 64 bits", a->advance.text);
	for (uint64_t k = parts; k-- > 1;) {
		struct img_msg *d = img_msg_dup(xf_arena_of(c), m);
		uint64_t n = k == parts - 1 ? cnt - k * a->max : a->max;

		if (!d || img_msg_set_u64(xf_arena_of(c), d, a->path.fd[0]->name, n) ||
		    img_msg_set_u64(xf_arena_of(c), d, a->advance.fd[0]->name, adv + k * a->max * a->unit) ||
		    xf_insert_entry(c->img, c->idx + 1, e->desc, d))
			return img_err_set(c->err, ENOMEM, "out of memory");
		e = &c->img->e[c->idx];
		c->added_after++;
	}
	if (img_msg_set_u64(xf_arena_of(c), m, a->path.fd[0]->name, a->max))
		return img_err_set(c->err, ENOMEM, "out of memory");
	snprintf(before, sizeof(before), "%llu", (unsigned long long)cnt);
	snprintf(after, sizeof(after), "%llu", (unsigned long long)parts);
	return xf_record(c, IMG_XF_OP_SPLIT, c->member, (int64_t)c->idx, a->path.text, before, after, NULL, -1);
}

/* Merge an entry into the one before it when they continue each other and differ in nothing else. */
int xf_act_merge(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	struct img_entry *e = &c->img->e[c->idx], *p;
	uint64_t pc, pa, ec, ea;
	char before[64];

	if (!c->idx)
		return 0;
	p = &c->img->e[c->idx - 1];
	if (p->desc != e->desc || !p->msg || !xf_get_u64(p->msg, &a->path, &pc) || !xf_get_u64(p->msg, &a->advance, &pa) ||
	    !xf_get_u64(m, &a->path, &ec) || !xf_get_u64(m, &a->advance, &ea))
		return 0;
	/* the entries a split made: the one before holds a multiple of the largest count */
	if (a->has_previous && (!a->previous || !pc || pc % a->previous))
		return 0;
	if (a->unit && pc > (UINT64_MAX - pa) / a->unit)
		return 0;
	if (pa + pc * a->unit != ea || pc > UINT64_MAX - ec)
		return 0;
	struct img_msg *x = img_msg_dup(xf_arena_of(c), p->msg), *y = img_msg_dup(xf_arena_of(c), m);

	if (!x || !y)
		return img_err_set(c->err, ENOMEM, "out of memory");
	img_msg_del(x, a->path.fd[0]->name);
	img_msg_del(x, a->advance.fd[0]->name);
	img_msg_del(y, a->path.fd[0]->name);
	img_msg_del(y, a->advance.fd[0]->name);
	if (!xf_same_msg(x, y))
		return 0;
	if (img_msg_set_u64(xf_arena_of(c), p->msg, a->path.fd[0]->name, pc + ec))
		return img_err_set(c->err, ENOMEM, "out of memory");
	snprintf(before, sizeof(before), "%llu", (unsigned long long)ec);
	if (xf_record(c, IMG_XF_OP_MERGE, c->member, (int64_t)c->idx, a->path.text, before, NULL, c->member,
		   (int64_t)c->idx - 1))
		return -EINVAL;
	xf_remove_entry(c->img, c->idx);
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
			xf_get_u64(c->img->e[i].msg, order, &k);
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

int xf_act_move_out(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	char tname[256];
	struct img_image *ti = NULL;
	struct ordcheck *oc = NULL;

	if (xf_target_name(c, a->kind_to, tname, sizeof(tname)))
		return -EINVAL;
	for (size_t k = 0; k < a->nfields; k++) {
		const struct xf_path *p = &a->fields[k];
		const struct img_fielddesc *fd = p->fd[p->n - 1];
		struct img_msg *h = xf_holder(NULL, m, p, 0);
		size_t j = 0;

		if (!h)
			continue; /* no container: no image either */
		if (!ti && xf_get_or_add(c, tname, a->kind_to, &ti))
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

				xf_get_u64(m, &a->order, &key);
				if (ord_note(oc, tname, key))
					return img_err_set(c->err, ENOMEM, "out of memory");
			}
			if (xf_record(c, IMG_XF_OP_MOVE, c->member, (int64_t)c->idx, field, NULL, NULL, tname,
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

int xf_is_taken(const struct xf_ctx *c, const char *member, size_t i)
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
		int ha = xf_get_u64(src, &kv[i].path, &a), hb = xf_get_u64(here, &kv[i].from, &b);

		if (ha != hb || (ha && a != b))
			return 0;
	}
	return 1;
}

int xf_act_move_in(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	char sname[256];
	struct img_image *si;
	size_t got = 0, have[4] = { 0 };
	struct consumed *cs;
	int r = 0;

	if (xf_target_name(c, a->kind_to, sname, sizeof(sname)))
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
		struct img_msg *h = xf_holder(xf_arena_of(c), m, &a->fields[k], 1);

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
		struct img_msg *h = xf_holder(xf_arena_of(c), m, p, 1);
		struct img_fval *f;
		char field[300];

		if (!h || apply_kvs(c, xf_arena_of(c), sm, a->set, a->nset, m)) {
			r = h ? -EINVAL : img_err_set(c->err, ENOMEM, "out of memory");
			break;
		}
		f = img_msg_insert(xf_arena_of(c), h, p->fd[p->n - 1]);
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
		r = xf_record(c, IMG_XF_OP_MOVE, sname, (int64_t)j, field, NULL, NULL, c->member, (int64_t)c->idx);
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

int xf_act_wrap_into(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m)
{
	char tname[256];
	struct pending *pd;
	struct img_msg *w;
	struct img_fval *f;
	uint32_t seq;

	if (xf_target_name(c, a->kind_to, tname, sizeof(tname)))
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
	w = img_msg_new(xf_arena_of(c), a->kind_to->msg);
	if (!w || !(f = img_msg_insert(xf_arena_of(c), w, a->path.fd[0])))
		return img_err_set(c->err, ENOMEM, "out of memory");
	f->v.m = m;
	if (apply_kvs(c, xf_arena_of(c), w, a->set, a->nset, m))
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
	xf_remove_entry(c->img, c->idx);
	c->gone = 1;
	c->changed = 1;
	return 0;
}

int xf_act_add_entry(struct xf_ctx *c, const struct xf_action *a)
{
	struct img_image *ti = c->img;
	char tname[256];
	const char *tn = c->member;
	struct img_msg *m;

	if (a->kind_to) {
		if (xf_target_name(c, a->kind_to, tname, sizeof(tname)) || xf_get_or_add(c, tname, a->kind_to, &ti))
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
		return xf_record(c, IMG_XF_OP_ADD_ENTRY, tn, (int64_t)ti->n - 1, NULL, NULL, xf_render_msg(c, m), NULL, -1);
	}
	if (xf_insert_entry(ti, c->idx + 1 + c->added_after, d, m))
		return img_err_set(c->err, ENOMEM, "out of memory");
	c->added_after++;
	return xf_record(c, IMG_XF_OP_ADD_ENTRY, tn, (int64_t)(c->idx + c->added_after), NULL, NULL, xf_render_msg(c, m),
		      NULL, -1);
}

