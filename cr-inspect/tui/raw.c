/*
 * The raw view: an image (img_image_to_json) or one decoded entry
 * (img_msg_to_json) as crit --pretty prints it, parsed back and shown as a
 * tree whose objects and arrays fold.  A value that is an address in the
 * task's memory leads there.
 */
#include <stdlib.h>
#include <string.h>

#include "tui.h"

struct jnode {
	const struct img_jv *v;
	const char *key;           /* member name, NULL in an array */
	size_t klen, idx;
	int depth;
	uint8_t open;
	struct jnode *parent;
	struct jnode *kids;
	size_t nkids;
};

struct jline {
	struct jnode *n;
	int close;                 /* the closing line of an open container */
};

struct rawv {
	struct listv l;
	struct img_arena a;
	struct jnode root;
	struct jline *vis;
	size_t nvis, cap;
	size_t nnodes;
};

static int is_cont(const struct img_jv *v)
{
	return v->type == IMG_JV_OBJ || v->type == IMG_JV_ARR;
}

static int build(struct rawv *rv, struct jnode *n)
{
	const struct img_jv *v = n->v;
	size_t k = v->type == IMG_JV_OBJ ? v->o.n : v->type == IMG_JV_ARR ? v->a.n : 0;

	rv->nnodes++;
	if (!k)
		return 0;
	n->kids = img_arena_zalloc(&rv->a, k * sizeof(*n->kids));
	if (!n->kids)
		return -1;
	n->nkids = k;
	for (size_t i = 0; i < k; i++) {
		struct jnode *c = &n->kids[i];

		c->parent = n;
		c->depth = n->depth + 1;
		c->idx = i;
		if (v->type == IMG_JV_OBJ) {
			c->v = v->o.m[i].v;
			c->key = v->o.m[i].key;
			c->klen = v->o.m[i].klen;
		} else {
			c->v = v->a.v[i];
		}
		if (build(rv, c))
			return -1;
	}
	return 0;
}

static void open_to(struct jnode *n, int depth, int all)
{
	if (!is_cont(n->v))
		return;
	n->open = all || n->depth < depth;
	for (size_t i = 0; i < n->nkids; i++)
		open_to(&n->kids[i], depth, all);
}

static int vis_add(struct rawv *rv, struct jnode *n, int close)
{
	if (TUI_GROW(rv->vis, rv->nvis, rv->cap))
		return -1;
	rv->vis[rv->nvis].n = n;
	rv->vis[rv->nvis++].close = close;
	return 0;
}

static void vis_walk(struct rawv *rv, struct jnode *n)
{
	vis_add(rv, n, 0);
	if (!is_cont(n->v) || !n->open || !n->nkids)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		vis_walk(rv, &n->kids[i]);
	vis_add(rv, n, 1);
}

/* Rebuild the shown lines; the cursor stays on node `keep`. */
static void refresh(struct rawv *rv, const struct jnode *keep)
{
	rv->nvis = 0;
	vis_walk(rv, &rv->root);
	for (size_t i = 0; keep && i < rv->nvis; i++)
		if (rv->vis[i].n == keep && !rv->vis[i].close) {
			rv->l.v.cur = i;
			return;
		}
	if (rv->l.v.cur >= rv->nvis)
		rv->l.v.cur = rv->nvis ? rv->nvis - 1 : 0;
}

static size_t raw_count(struct listv *l)
{
	return ((struct rawv *)l)->nvis;
}

/* The address a scalar stands for: a "0x..." string or an integer. */
static int value_addr(const struct img_jv *v, uint64_t *a)
{
	if (v->type == IMG_JV_STR)
		return v->s.len > 2 && v->s.s[0] == '0' && v->s.s[1] == 'x' && !img_parse_addr(v->s.s, a);
	if (v->type == IMG_JV_INT && !v->neg) {
		*a = v->u;
		return 1;
	}
	return 0;
}

static void scalar(struct img_buf *b, const struct img_jv *v)
{
	struct img_out o;

	switch (v->type) {
	case IMG_JV_NULL: img_buf_adds(b, "null"); break;
	case IMG_JV_BOOL: img_buf_adds(b, v->b ? "true" : "false"); break;
	case IMG_JV_INT: img_buf_printf(b, "%s%llu", v->neg ? "-" : "", (unsigned long long)v->u); break;
	case IMG_JV_REAL: img_buf_printf(b, "%.17g", v->d); break;
	case IMG_JV_STR:
		img_out_mem(&o, b);
		img_json_quote(&o, v->s.s, v->s.len > 4096 ? 4096 : v->s.len);
		img_out_flush(&o);
		if (v->s.len > 4096)
			img_buf_printf(b, " (%zu bytes)", v->s.len);
		break;
	}
}

static void node_text(struct jnode *n, int close, struct img_buf *b)
{
	const struct img_jv *v = n->v;
	int cont = is_cont(v);

	for (int i = 0; i < n->depth; i++)
		img_buf_adds(b, "  ");
	if (close) {
		img_buf_adds(b, v->type == IMG_JV_OBJ ? "  }" : "  ]");
		return;
	}
	img_buf_adds(b, cont && n->nkids ? (n->open ? "- " : "+ ") : "  ");
	if (n->key) {
		struct img_out o;

		img_out_mem(&o, b);
		img_json_quote(&o, n->key, n->klen);
		img_out_flush(&o);
		img_buf_adds(b, ": ");
	}
	if (!cont) {
		scalar(b, v);
	} else if (!n->nkids) {
		img_buf_adds(b, v->type == IMG_JV_OBJ ? "{}" : "[]");
	} else if (n->open) {
		img_buf_adds(b, v->type == IMG_JV_OBJ ? "{" : "[");
	} else {
		img_buf_printf(b, "%s %zu %s", v->type == IMG_JV_OBJ ? "{...}" : "[...]", n->nkids,
			       v->type == IMG_JV_OBJ ? (n->nkids == 1 ? "key" : "keys") : (n->nkids == 1 ? "item" : "items"));
	}
}

static void raw_line(struct listv *l, size_t i, struct img_buf *b, int *role, struct link *link)
{
	struct rawv *rv = (struct rawv *)l;
	struct jnode *n = rv->vis[i].n;
	uint64_t a;

	node_text(n, rv->vis[i].close, b);
	(void)role;
	if (!rv->vis[i].close && !is_cont(n->v) && value_addr(n->v, &a) && tui_vma(l->v.task, a)) {
		link->kind = LINK_ADDR;
		link->task = l->v.task;
		link->addr = a;
	}
}

static struct jnode *cur_node(struct rawv *rv)
{
	return rv->l.v.cur < rv->nvis ? rv->vis[rv->l.v.cur].n : NULL;
}

static int raw_key(struct tui *t, struct view *v, int act, int ch)
{
	struct rawv *rv = (struct rawv *)v;
	struct jnode *n = cur_node(rv);

	if (!n)
		return listv_key(t, v, act, ch);
	switch (act) {
	case ACT_ENTER:
		if (is_cont(n->v) && n->nkids) {
			n->open = !n->open;
			refresh(rv, n);
			return 1;
		}
		return listv_follow(t, v);
	case ACT_RIGHT:
		if (is_cont(n->v) && n->nkids && !n->open) {
			n->open = 1;
			refresh(rv, n);
		} else if (is_cont(n->v) && n->nkids) {
			listv_move(&rv->l, v->cur + 1);
		}
		return 1;
	case ACT_LEFT:
		if (is_cont(n->v) && n->open && !rv->vis[v->cur].close) {
			n->open = 0;
			refresh(rv, n);
		} else if (n->parent) {
			refresh(rv, n->parent);
		}
		return 1;
	}
	return listv_key(t, v, act, ch);
}

/* Search every node, folded or not; open the way to the match. */
struct jflat {
	struct jnode **n;
	size_t len;
};

static void jflatten(struct jnode *n, struct jflat *f)
{
	f->n[f->len++] = n;
	for (size_t i = 0; i < n->nkids; i++)
		jflatten(&n->kids[i], f);
}

/* The line of a node as it shows folded (a search matches what a folded line says). */
static void folded_text(void *arg, size_t i, struct img_buf *b)
{
	struct jnode *n = ((struct jflat *)arg)->n[i];
	uint8_t was = n->open;

	n->open = 0;
	node_text(n, 0, b);
	n->open = was;
}

static int raw_search(struct tui *t, struct view *v, const struct pat *p, int dir)
{
	struct rawv *rv = (struct rawv *)v;
	struct jnode *cur = cur_node(rv);
	struct jflat f = { img_calloc(rv->nnodes, sizeof(struct jnode *)), 0 };
	size_t at = 0, i, off, len;

	(void)t;
	if (!f.n)
		return 0;
	jflatten(&rv->root, &f);
	for (i = 0; i < f.len; i++)
		if (f.n[i] == cur)
			at = i;
	i = pattern_find(p, f.len, at, dir, folded_text, &f, &off, &len);
	if (i != SIZE_MAX) {
		for (struct jnode *q = f.n[i]->parent; q; q = q->parent)
			q->open = 1;
		refresh(rv, f.n[i]);
		v->has_match = 1;
		v->match_line = v->cur;
		v->match_off = off;
		v->match_len = len;
	}
	img_free(f.n);
	return i != SIZE_MAX;
}

static void sub_json(void *arg, struct img_jw *w)
{
	img_jw_value(w, arg);
}

static int raw_export(struct tui *t, struct view *v)
{
	struct rawv *rv = (struct rawv *)v;
	struct jnode *n = cur_node(rv);
	char name[200];

	if (!n)
		return 1;
	/* the subtree under the cursor; on the first line, the whole document */
	snprintf(name, sizeof(name), "%s.json", v->title);
	for (char *p = name; *p; p++)
		if (*p == ' ' || *p == '/' || *p == '(' || *p == ')' || *p == ':')
			*p = '_';
	export_json_ask(t, name, sub_json, (void *)n->v);
	return 1;
}

static void raw_free(struct view *v)
{
	struct rawv *rv = (struct rawv *)v;

	img_free(rv->vis);
	img_arena_free(&rv->a);
	doc_free(&rv->l.doc);
	img_free(rv);
}

static const struct view_ops raw_ops = {
	.name = "json",
	.min_w = 60,
	.draw = listv_draw,
	.key = raw_key,
	.search = raw_search,
	.follow = listv_follow,
	.addr = listv_addr,
	.export = raw_export,
	.status = listv_status,
	.click = listv_click,
	.free = raw_free,
};

/* A view over a JSON text (taken: freed here). */
static struct view *raw_new(const char *title, struct img_buf *text, const struct img_task *task, char *msg, size_t len)
{
	struct rawv *rv = img_calloc(1, sizeof(*rv));
	struct img_err e = { 0 };
	struct img_jv *root;
	int failed;

	if (!rv) {
		img_buf_free(text);
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	listv_init(&rv->l, &raw_ops);
	rv->l.count = raw_count;
	rv->l.line = raw_line;
	rv->l.v.task = task;
	img_arena_init(&rv->a);
	snprintf(rv->l.v.title, sizeof(rv->l.v.title), "%s", title);
	failed = text->failed;
	root = failed ? NULL : img_json_parse(&rv->a, (const char *)text->data, text->len, &e);
	img_buf_free(text);
	if (!root) {
		snprintf(msg, len, "cannot show %s as JSON: %s", title, failed ? "out of memory" : e.msg);
		raw_free(&rv->l.v);
		return NULL;
	}
	rv->root.v = root;
	if (build(rv, &rv->root)) {
		snprintf(msg, len, "out of memory");
		raw_free(&rv->l.v);
		return NULL;
	}
	/* small documents open whole; big ones (thousands of VMAs or pagemap entries) two levels deep */
	open_to(&rv->root, 2, rv->nnodes < 1500);
	refresh(rv, NULL);
	return &rv->l.v;
}

const struct img_task *image_task(struct tui *t, const char *member)
{
	static const struct { const char *prefix; int by_tid; } per_task[] = {
		{ "core-", 1 }, { "mm-", 0 }, { "pagemap-", 0 }, { "ids-", 0 }, { "fs-", 0 },
	};
	const struct img_task *const *tasks;
	size_t nt;

	for (size_t k = 0; k < sizeof(per_task) / sizeof(per_task[0]); k++) {
		size_t pl = strlen(per_task[k].prefix);
		char *end;
		unsigned long id;

		if (strncmp(member, per_task[k].prefix, pl))
			continue;
		id = strtoul(member + pl, &end, 10);
		if (end == member + pl || strcmp(end, ".img"))
			return NULL;
		if (!per_task[k].by_tid)
			return id <= UINT32_MAX ? img_ckpt_task(t->ck, (uint32_t)id) : NULL;
		tasks = img_ckpt_tasks(t->ck, &nt);
		for (size_t i = 0; i < nt; i++)
			for (size_t j = 0; j < tasks[i]->nthreads; j++)
				if (tasks[i]->threads[j].tid == id)
					return tasks[i];
	}
	return NULL;
}

struct view *raw_image_view(struct tui *t, const char *member, int side, char *msg, size_t len)
{
	const struct img_image *img;
	struct img_err e = { 0 };
	struct img_buf b;
	struct img_out o;
	char es[1100];

	if (img_ckpt_image(side ? t->ck2 : t->ck, member, &img, &e)) {
		snprintf(msg, len, "cannot read '%s': %s", member, img_err_str(&e, es, sizeof(es)));
		return NULL;
	}
	if (!img->kind || img->kind->layout == IMG_LAY_RAW) {
		snprintf(msg, len, "%s holds raw page data: read it through a task's memory (x or g)", member);
		return NULL;
	}
	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_image_to_json(img, &o, IMG_JSON_PRETTY);
	img_out_flush(&o);
	return raw_new(member, &b, side ? NULL : image_task(t, member), msg, len);
}

struct view *raw_msg_view(struct tui *t, const struct img_msg *m, const char *title, const struct img_task *task)
{
	struct img_buf b;
	struct img_out o;
	struct img_jw w;
	struct view *v;
	char msg[300];

	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_jw_init(&w, &o, 0);
	img_msg_to_json(&w, m, 1, 0);
	img_out_flush(&o);
	v = raw_new(title, &b, task, msg, sizeof(msg));
	if (!v)
		tui_msg(t, 1, "%s", msg);
	return v;
}
