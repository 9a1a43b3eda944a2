/*
 * Diff mode: two checkpoints, A and B, compared by libimg's engine
 * (img/diff.h, the one cr-diff prints).  The tree is A's, with what only B
 * has added to it; the column before each node says ~ (changed, or holds a
 * change), + (only in B) or - (only in A).  A node's detail starts with its
 * changes, before -> after; the "changes" node lists them all; c and C go to
 * the next and the previous changed node; a task's changed pages open side by
 * side, A's bytes beside B's.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "img/diff.h"
#include "tui.h"

struct dchange {
	int cat, op;
	const struct img_diff_pair *pair;
	uint32_t tid_a, tid_b;
	const char *task, *path, *before, *after;
	int has_range;
	struct img_diff_range range;
	struct node *node;       /* where the tree shows it */
};

struct tdiff {
	struct img_diff *d;
	struct dchange *c;
	size_t n, cap;
	struct img_arena a;
	struct img_err err;
	int failed;
};

static const char *keep(struct tdiff *td, const char *s)
{
	return s ? img_arena_strndup(&td->a, s, strlen(s)) : NULL;
}

static int on_change(void *arg, const struct img_diff_change *c)
{
	struct tdiff *td = arg;
	struct dchange *k;

	if (TUI_GROW(td->c, td->n, td->cap)) {
		td->failed = 1;
		return 1;
	}
	k = &td->c[td->n++];
	memset(k, 0, sizeof(*k));
	k->cat = c->cat;
	k->op = c->op;
	k->pair = c->pair;
	k->tid_a = c->tid_a;
	k->tid_b = c->tid_b;
	k->task = keep(td, c->task);
	k->path = keep(td, c->path);
	k->before = keep(td, c->before_text ? c->before_text : c->before);
	k->after = keep(td, c->after_text ? c->after_text : c->after);
	if (c->range) {
		k->has_range = 1;
		k->range = *c->range;
	}
	return 0;
}

int tdiff_open(struct tui *t, char *msg, size_t len)
{
	struct img_diff_opts o = { 0 };
	struct tdiff *td = img_calloc(1, sizeof(*td));
	char es[1100];

	if (!td) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	img_arena_init(&td->a);
	t->diff = td;
	if (img_diff_new(t->ck, t->ck2, &o, &td->d, &td->err) || img_diff_all(td->d, on_change, td, &td->err) < 0) {
		snprintf(msg, len, "cannot compare '%s' and '%s': %s", t->path, t->path2,
			 img_err_str(&td->err, es, sizeof(es)));
		return -1;
	}
	if (td->failed) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	return 0;
}

void tdiff_free(struct tui *t)
{
	struct tdiff *td = t->diff;

	if (!td)
		return;
	img_diff_free(td->d);
	img_free(td->c);
	img_arena_free(&td->a);
	img_free(td);
	t->diff = NULL;
}

/* Where the records go in the tree. */
static char op_char(int op)
{
	return op == IMG_DIFF_ADDED ? '+' : op == IMG_DIFF_REMOVED ? '-' : '~';
}

static void mark_down(struct node *n, char c)
{
	n->change = (uint8_t)c;
	for (size_t i = 0; i < n->nkids; i++)
		mark_down(n->kids[i], c);
}

static void mark(struct node *n, char c)
{
	if (!n)
		return;
	if (c == '~') {
		if (n->change == ' ')
			n->change = '~';
	} else {
		mark_down(n, c);
	}
	for (n = n->parent; n; n = n->parent)
		if (n->change == ' ')
			n->change = '~';
}

static struct node *procs_node(struct tui *t)
{
	return tree_kid(t, t->tree.root, N_PROCS);
}

/* The task's node: A's, or one made under processes for a task only B has. */
static struct node *pair_node(struct tui *t, const struct img_diff_pair *p)
{
	struct node *procs;

	if (p->a)
		return tree_find_task(t, p->a);
	if (!(procs = procs_node(t)))
		return NULL;
	for (size_t i = 0; i < procs->nkids; i++)
		if (procs->kids[i]->task == p->b)
			return procs->kids[i];
	{
		struct node *n = tree_add(procs, N_TASK, p->b, p->b);

		if (n)
			n->side = 1;
		return n;
	}
}

/* "fd[12].reg.pos" -> 12 after the prefix "fd["; -1 when the path does not start so. */
static long path_index(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end;
	long v;

	if (strncmp(path, prefix, n))
		return -1;
	v = strtol(path + n, &end, 10);
	return end > path + n && *end == ']' && v >= 0 ? v : -1;
}

static struct node *thread_node(struct tui *t, struct node *tn, const struct img_diff_pair *p, uint32_t tid, int added)
{
	struct node *ths = tree_kid(t, tn, N_THREADS);
	const struct img_task *task = added ? p->b : p->a ? p->a : p->b;

	if (!ths)
		return NULL;
	tree_load(t, ths);
	for (size_t i = 0; i < ths->nkids; i++)
		if (((const struct img_thread *)ths->kids[i]->obj)->tid == tid && ths->kids[i]->task == task)
			return ths->kids[i];
	for (size_t i = 0; task && added && i < task->nthreads; i++)
		if (task->threads[i].tid == tid) {
			struct node *n = tree_add(ths, N_THREAD, task, &task->threads[i]);

			if (n)
				n->side = 1;
			return n;
		}
	return NULL;
}

static struct node *fd_node(struct tui *t, struct node *tn, const struct img_diff_pair *p, long fd, int added)
{
	struct node *fds = tree_kid(t, tn, N_FDS);
	const struct img_task *task = added ? p->b : p->a ? p->a : p->b;

	if (!fds || !task)
		return fds;
	tree_load(t, fds);
	/* the fd may have its node already (a task only B has lists B's fds) */
	for (size_t i = 0; i < fds->nkids; i++)
		if (((const struct img_fd *)fds->kids[i]->obj)->fd == (uint32_t)fd && fds->kids[i]->task == task)
			return fds->kids[i];
	for (size_t i = 0; added && i < task->nfds; i++)
		if (task->fds[i].fd == (uint32_t)fd) {
			struct node *n = tree_add(fds, N_FD, task, &task->fds[i]);

			if (n)
				n->side = 1;
			return n;
		}
	return fds;
}

static struct node *vma_node(struct tui *t, struct node *tn, const struct img_diff_pair *p, long idx,
			     const struct img_vma *v, int added)
{
	struct node *maps = tree_kid(t, tn, N_MAPS);
	const struct img_task *task = added ? p->b : p->a ? p->a : p->b;

	if (!maps || !task || !task->mm)
		return maps;
	tree_load(t, maps);
	if (!v && idx >= 0 && (size_t)idx < task->mm->nvmas)
		v = &task->mm->vmas[idx];
	for (size_t i = 0; i < maps->nkids; i++)
		if (maps->kids[i]->obj == v)
			return maps->kids[i];
	if (added && v) {
		struct node *n = tree_add(maps, N_VMA, task, v);

		if (n)
			n->side = 1;
		return n;
	}
	return maps;
}

static struct node *set_node(struct tui *t, const struct dchange *c)
{
	struct node *root = t->tree.root, *n = NULL;

	switch (c->cat) {
	case IMG_DIFF_IMAGES: {
		struct node *imgs = tree_kid(t, root, N_IMAGES);
		const char *name = c->path;
		size_t nl;

		if (!imgs)
			return NULL;
		if (!strncmp(name, "image[", 6))
			name += 6;
		nl = strcspn(name, "].");
		tree_load(t, imgs);
		for (size_t i = 0; i < imgs->nkids; i++)
			if (strlen(imgs->kids[i]->member) == nl && !strncmp(imgs->kids[i]->member, name, nl))
				return imgs->kids[i];
		if (c->op == IMG_DIFF_ADDED && (n = tree_add(imgs, N_IMAGE, NULL, NULL))) {
			n->member = img_strndup(name, nl);
			n->side = 1;
			return n;
		}
		return imgs;
	}
	case IMG_DIFF_NS: {
		struct node *nss = tree_kid(t, root, N_NSS);
		const struct img_ns *ns;
		char kind[16];
		unsigned id;
		size_t cnt;

		if (!nss || sscanf(c->path, "ns.%15[a-z][%u]", kind, &id) != 2)
			return nss;
		tree_load(t, nss);
		if (c->op != IMG_DIFF_ADDED) {
			for (size_t i = 0; i < nss->nkids; i++) {
				ns = nss->kids[i]->obj;
				if (ns->id == id && !strcmp(img_ns_kind_name(ns->kind), kind))
					return nss->kids[i];
			}
			return nss;
		}
		ns = img_ckpt_namespaces(t->ck2, &cnt);
		for (size_t i = 0; i < cnt; i++)
			if (ns[i].id == id && !strcmp(img_ns_kind_name(ns[i].kind), kind) &&
			    (n = tree_add(nss, N_NS, NULL, &ns[i]))) {
				n->side = 1;
				return n;
			}
		return nss;
	}
	case IMG_DIFF_FILES:
		return tree_kid(t, root, N_FILES);
	}
	return root;
}

/* A record about a whole object ("fd[3]", "ns.uts[11]", "pstree"), not a part of one ("fd[3].reg.pos"). */
static int whole(const struct dchange *c)
{
	size_t n = strlen(c->path);

	if (c->op == IMG_DIFF_CHANGED || c->cat == IMG_DIFF_MEMORY)
		return 0;
	return (n && c->path[n - 1] == ']') || !strpbrk(c->path, "[.");
}

static struct node *task_record_node(struct tui *t, const struct dchange *c)
{
	const struct img_diff_pair *p = c->pair;
	struct node *tn = pair_node(t, p);
	int added = c->op == IMG_DIFF_ADDED && whole(c);
	long i;

	if (!tn)
		return NULL;
	switch (c->cat) {
	case IMG_DIFF_TREE:
		if ((i = path_index(c->path, "threads[")) >= 0)
			return thread_node(t, tn, p, (uint32_t)i, added);
		return tn;
	case IMG_DIFF_TASKS:
		/* a thread's core, or the main thread's (the task's own) */
		if (c->tid_a || c->tid_b)
			return thread_node(t, tn, p, c->tid_a ? c->tid_a : c->tid_b, 0);
		if (!strncmp(c->path, "core.", 5))
			return thread_node(t, tn, p, p->a ? p->a->pid : p->b->pid, 0);
		return tn;
	case IMG_DIFF_MM:
		if ((i = path_index(c->path, "mm.vmas[")) >= 0)
			return vma_node(t, tn, p, i, NULL, added);
		return tree_kid(t, tn, N_MAPS) ? tree_kid(t, tn, N_MAPS) : tn;
	case IMG_DIFF_FILES:
	case IMG_DIFF_SOCKETS:
		if ((i = path_index(c->path, "fd[")) >= 0)
			return fd_node(t, tn, p, i, added);
		return tn;
	case IMG_DIFF_MEMORY:
		mark(tree_kid(t, tn, N_MEMORY), '~');
		return c->has_range ? vma_node(t, tn, p, -1, c->range.vma_a ? c->range.vma_a : c->range.vma_b,
					       !c->range.vma_a) : tn;
	}
	return tn;
}

/* Put every record on its node (after the tree is built). */
void tdiff_map(struct tui *t)
{
	struct tdiff *td = t->diff;

	for (size_t i = 0; i < td->n; i++) {
		struct dchange *c = &td->c[i];

		/* a whole object added or removed is marked so; a part of one: the object changed */
		c->node = c->pair ? task_record_node(t, c) : set_node(t, c);
		mark(c->node, whole(c) ? op_char(c->op) : '~');
	}
	mark(tree_kid(t, t->tree.root, N_CHANGES), td->n ? '~' : ' ');
	tree_refresh(t);
}

static int role_of(int op)
{
	return op == IMG_DIFF_ADDED ? R_ADDED : op == IMG_DIFF_REMOVED ? R_REMOVED : R_CHANGED;
}

static struct link change_link(const struct dchange *c)
{
	struct link l = { 0 };

	if (c->has_range && c->pair) {
		l.kind = LINK_MEMDIFF;
		l.pair = c->pair;
		l.addr = c->range.first ? c->range.first : c->range.start;
	} else if (c->node) {
		l.kind = LINK_NODE;
		l.node = c->node;
	}
	return l;
}

static void change_line(struct doc *d, const struct dchange *c, int with_task)
{
	struct link l = change_link(c);
	char what[200];

	snprintf(what, sizeof(what), "%s%s%s", with_task && c->task ? c->task : "", with_task && c->task ? " " : "",
		 c->path);
	if (c->has_range)
		doc_add(d, role_of(c->op), &l, "%c %-7s %s: %llu page%s %s, %llu bytes differ", op_char(c->op),
			img_diff_cat_name(c->cat), what, (unsigned long long)c->range.pages,
			c->range.pages == 1 ? "" : "s", img_diff_op_name(c->op), (unsigned long long)c->range.bytes);
	else if (c->op == IMG_DIFF_CHANGED)
		doc_add(d, role_of(c->op), &l, "%c %-7s %s: %.80s -> %.80s", op_char(c->op), img_diff_cat_name(c->cat),
			what, c->before ? c->before : "", c->after ? c->after : "");
	else
		doc_add(d, role_of(c->op), &l, "%c %-7s %s: %.120s", op_char(c->op), img_diff_cat_name(c->cat), what,
			c->op == IMG_DIFF_ADDED ? c->after ? c->after : "" : c->before ? c->before : "");
}

void tdiff_changes_doc(struct tui *t, struct doc *d)
{
	struct tdiff *td = t->diff;
	const struct img_diff_stats *st = img_diff_stats(td->d);

	doc_add(d, R_HEAD, NULL, "%zu change%s from %s (A) to %s (B)", td->n, td->n == 1 ? "" : "s", t->name,
		t->name2);
	if (st->pages_changed || st->pages_added || st->pages_removed)
		doc_add(d, R_NORMAL, NULL, "  pages: %llu changed (%llu bytes differ), %llu added, %llu removed",
			(unsigned long long)st->pages_changed, (unsigned long long)st->bytes_changed,
			(unsigned long long)st->pages_added, (unsigned long long)st->pages_removed);
	if (!td->n)
		doc_add(d, R_DIM, NULL, "%s", "  none: the two checkpoints say the same (volatile fields aside, as cr-diff)");
	for (size_t i = 0; i < td->n; i++)
		change_line(d, &td->c[i], 1);
}

/* The node's own changes (a task's: all of them), first in its detail. */
void tdiff_detail(struct tui *t, struct node *n, struct doc *d)
{
	struct tdiff *td = t->diff;
	size_t k = 0;

	if (n->kind == N_CHANGES || n->kind == N_SET)
		return;
	for (size_t i = 0; i < td->n; i++) {
		const struct dchange *c = &td->c[i];
		int mine = n->kind == N_TASK ? c->pair && (c->pair->a == n->task || c->pair->b == n->task)
					     : c->node == n;

		if (!mine)
			continue;
		if (!k++)
			doc_add(d, R_HEAD, NULL, "%s", "changes (A -> B)");
		change_line(d, c, 0);
	}
	if (!k && n->change == '+')
		doc_add(d, R_ADDED, NULL, "%s", "+ only in B");
	else if (!k && n->change == '-')
		doc_add(d, R_REMOVED, NULL, "%s", "- only in A");
	if (d->n)
		doc_add(d, R_NORMAL, NULL, "%s", "");
}

/* c, C: the next changed node in the tree's order (children loaded as needed). */
struct cflat {
	struct node **n;
	size_t len, cap;
};

static void cflatten(struct tui *t, struct node *n, struct cflat *f)
{
	if (TUI_GROW(f->n, f->len, f->cap))
		return;
	f->n[f->len++] = n;
	/* only changed subtrees are opened: an unchanged one holds no change */
	if (n->change == ' ')
		return;
	tree_load(t, n);
	for (size_t i = 0; i < n->nkids; i++)
		cflatten(t, n->kids[i], f);
}

int tdiff_next(struct tui *t, int dir)
{
	struct cflat f = { 0 };
	struct node *cur = tree_cur(t);
	size_t at = 0;
	int found = 0;

	cflatten(t, t->tree.root, &f);
	for (size_t i = 0; i < f.len; i++)
		if (f.n[i] == cur)
			at = i;
	for (size_t k = 1; k <= f.len && !found; k++) {
		size_t i = dir > 0 ? (at + k) % f.len : (at + f.len - k % f.len) % f.len;
		struct node *n = f.n[i];

		/* the nodes a change is on, not those that only hold one */
		if (n->change == ' ' || n->kind == N_SET || n->kind == N_CHANGES)
			continue;
		if (n->change == '~') {
			int own = 0;

			for (size_t j = 0; j < t->diff->n && !own; j++)
				own = t->diff->c[j].node == n;
			if (!own)
				continue;
		}
		tree_select(t, n);
		tree_moved(t);
		t->focus = 0;
		found = 1;
	}
	img_free(f.n);
	return found;
}

int tdiff_memory_link(struct tui *t, const struct img_task *task, struct link *l)
{
	struct tdiff *td = t->diff;

	for (size_t i = 0; td && i < td->n; i++) {
		const struct dchange *c = &td->c[i];

		if (c->has_range && c->pair && (c->pair->a == task || c->pair->b == task)) {
			*l = change_link(c);
			return 1;
		}
	}
	return 0;
}

/*
 * The side-by-side view of a task's changed pages: one block per changed
 * range (a header row, then its rows), A's bytes left, B's right, at the
 * address each side has them.  * after the address marks a row that differs;
 * the bytes that differ are drawn as changed.
 */
struct mdiff {
	struct view v;
	const struct img_diff_pair *pair;
	struct img_mem *m[2];
	const struct dchange **r;     /* the pair's memory records, in order */
	size_t nr;
	uint64_t *rowbase;           /* nr + 1 */
	int bpr, ascii;
	uint64_t cur, top;           /* rows */
	int rows;
};

static int md_width(int n, int ascii)
{
	return 18 + 6 * n + (ascii ? 3 + 2 * n : 0);
}

static void md_layout(struct mdiff *md, int w)
{
	static const int sizes[] = { 16, 8, 4 };
	int bpr = 4, ascii = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (md_width(sizes[i], 0) <= w) {
			bpr = sizes[i];
			ascii = md_width(sizes[i], 1) <= w;
			break;
		}
	md->ascii = ascii;
	if (bpr == md->bpr)
		return;
	/* keep the cursor on the same address */
	{
		uint64_t a = 0;
		size_t ri = 0;

		if (md->bpr) {
			while (ri + 1 < md->nr && md->rowbase[ri + 1] <= md->cur)
				ri++;
			a = md->cur > md->rowbase[ri] ? (md->cur - md->rowbase[ri] - 1) * (uint64_t)md->bpr : 0;
		}
		md->bpr = bpr;
		md->rowbase[0] = 0;
		for (size_t i = 0; i < md->nr; i++)
			md->rowbase[i + 1] = md->rowbase[i] + 1 +
					     (md->r[i]->range.end - md->r[i]->range.start + (uint64_t)bpr - 1) / (uint64_t)bpr;
		md->cur = md->rowbase[ri] + (a ? 1 + a / (uint64_t)bpr : 0);
	}
}

static size_t md_row(struct mdiff *md, uint64_t row, uint64_t *off, int *header)
{
	size_t lo = 0, hi = md->nr - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		if (md->rowbase[mid] <= row)
			lo = mid;
		else
			hi = mid - 1;
	}
	*header = row == md->rowbase[lo];
	*off = *header ? 0 : (row - md->rowbase[lo] - 1) * (uint64_t)md->bpr;
	return lo;
}

/* The row's bytes on both sides; have[side][i]: the side holds byte i.  Returns whether they differ. */
static int md_read(struct mdiff *md, const struct dchange *c, uint64_t off, uint8_t buf[2][16], uint8_t have[2][16],
		   int n)
{
	int differ = 0;

	for (int s = 0; s < 2; s++) {
		uint64_t base = s == 0 ? c->range.start : c->op == IMG_DIFF_ADDED ? c->range.start : c->range.b_start;
		size_t got = 0;

		memset(buf[s], 0, 16);
		memset(have[s], 0, 16);
		if ((s == 0 && c->op == IMG_DIFF_ADDED) || (s == 1 && c->op == IMG_DIFF_REMOVED) || !md->m[s])
			continue;
		if (!img_mem_read(md->m[s], base + off, buf[s], (size_t)n, &got, NULL) && got)
			memset(have[s], 1, (size_t)n);
	}
	for (int i = 0; i < n; i++)
		differ |= have[0][i] != have[1][i] || buf[0][i] != buf[1][i];
	return differ;
}

static void md_draw(struct tui *t, struct view *v, struct rect r, int focus)
{
	struct mdiff *md = (struct mdiff *)v;
	int chg = role_attr(t, R_CHANGED) | (t->s.color ? 0 : A_UNDERLINE);

	md_layout(md, r.w);
	put_fill(r.y, r.x, r.w, role_attr(t, R_HEAD));
	put_text(r.y, r.x + 1, r.w - 1, v->title, strlen(v->title), role_attr(t, R_HEAD));
	{
		char leg[400];

		snprintf(leg, sizeof(leg), "A: %s  |  B: %s   * a row that differs; the bytes that differ %s", t->name,
			 t->name2, t->s.color ? "are coloured" : "are underlined");
		put_text(r.y + 1, r.x, r.w, leg, strlen(leg), role_attr(t, R_DIM));
	}
	md->rows = r.h - 2;
	v->page = md->rows;
	if (md->rows <= 0)
		return;
	if (md->cur < md->top)
		md->top = md->cur;
	if (md->cur >= md->top + (uint64_t)md->rows)
		md->top = md->cur - (uint64_t)md->rows + 1;
	for (int row = 0; row < md->rows; row++) {
		uint64_t rr = md->top + (uint64_t)row, off;
		int header, y = r.y + 2 + row, x = r.x, n, differ, cur = rr == md->cur && focus;
		const struct dchange *c;
		uint8_t buf[2][16], have[2][16];
		char line[300];
		size_t ri;

		if (rr >= md->rowbase[md->nr])
			break;
		ri = md_row(md, rr, &off, &header);
		c = md->r[ri];
		if (header) {
			const struct img_vma *va = c->range.vma_a ? c->range.vma_a : c->range.vma_b;

			snprintf(line, sizeof(line), "-- %c %llx-%llx (B %llx) %s: %llu page%s %s, %llu bytes differ  %s",
				 op_char(c->op), (unsigned long long)c->range.start, (unsigned long long)c->range.end,
				 (unsigned long long)(c->op == IMG_DIFF_ADDED ? c->range.start : c->range.b_start),
				 va ? img_vma_kind_name(va->kind) : "", (unsigned long long)c->range.pages,
				 c->range.pages == 1 ? "" : "s", img_diff_op_name(c->op), (unsigned long long)c->range.bytes,
				 va ? va->name : "");
			put_fill(y, r.x, r.w, cur ? role_attr(t, R_CURSOR) : 0);
			put_text(y, x, r.w, line, strlen(line), cur ? role_attr(t, R_CURSOR) : role_attr(t, R_HEAD));
			continue;
		}
		n = c->range.end - c->range.start - off < (uint64_t)md->bpr ? (int)(c->range.end - c->range.start - off)
									    : md->bpr;
		differ = md_read(md, c, off, buf, have, n);
		snprintf(line, sizeof(line), "%012llx%c", (unsigned long long)(c->range.start + off), differ ? '*' : ' ');
		x += put_text(y, x, r.x + r.w - x, line, strlen(line), cur ? role_attr(t, R_CURSOR) : 0);
		for (int s = 0; s < 2; s++) {
			x += put_text(y, x, r.x + r.w - x, s ? " | " : " ", s ? 3 : 1, 0);
			for (int i = 0; i < md->bpr; i++) {
				char hx[4] = "  ";
				int at = i < n && (have[0][i] != have[1][i] || buf[0][i] != buf[1][i]) ? chg : 0;

				if (i < n && have[s][i])
					snprintf(hx, sizeof(hx), "%02x", buf[s][i]);
				else if (i < n)
					snprintf(hx, sizeof(hx), "--");
				x += put_text(y, x, r.x + r.w - x, hx, 2, at);
				if (i + 1 < md->bpr)
					x += put_text(y, x, r.x + r.w - x, " ", 1, 0);
			}
		}
		if (!md->ascii)
			continue;
		x += put_text(y, x, r.x + r.w - x, "  ", 2, 0);
		for (int s = 0; s < 2; s++) {
			if (s)
				x += put_text(y, x, r.x + r.w - x, "|", 1, 0);
			for (int i = 0; i < n; i++) {
				char ch = !have[s][i] ? ' ' : buf[s][i] >= 0x20 && buf[s][i] < 0x7f ? (char)buf[s][i] : '.';
				int at = have[0][i] != have[1][i] || buf[0][i] != buf[1][i] ? chg : 0;

				x += put_text(y, x, r.x + r.w - x, &ch, 1, at);
			}
		}
	}
}

/* The next (dir > 0) or the previous row that differs, from the cursor. */
static int md_next(struct mdiff *md, int dir)
{
	uint64_t total = md->rowbase[md->nr], rr = md->cur;

	for (uint64_t k = 0; k < total; k++) {
		uint8_t buf[2][16], have[2][16];
		uint64_t off;
		int header, n;
		size_t ri;

		rr = dir > 0 ? (rr + 1) % total : (rr + total - 1) % total;
		ri = md_row(md, rr, &off, &header);
		if (header)
			continue;
		n = md->r[ri]->range.end - md->r[ri]->range.start - off < (uint64_t)md->bpr
			    ? (int)(md->r[ri]->range.end - md->r[ri]->range.start - off) : md->bpr;
		if (md_read(md, md->r[ri], off, buf, have, n)) {
			md->cur = rr;
			return 1;
		}
	}
	return 0;
}

static int md_key(struct tui *t, struct view *v, int act, int ch)
{
	struct mdiff *md = (struct mdiff *)v;
	uint64_t total = md->rowbase[md->nr], page = md->rows > 1 ? (uint64_t)md->rows - 1 : 1;

	(void)ch;
	switch (act) {
	case ACT_UP:
		if (md->cur)
			md->cur--;
		return 1;
	case ACT_DOWN:
		if (md->cur + 1 < total)
			md->cur++;
		return 1;
	case ACT_PGUP:
		md->cur = md->cur > page ? md->cur - page : 0;
		return 1;
	case ACT_PGDN:
		md->cur = md->cur + page < total ? md->cur + page : total - 1;
		return 1;
	case ACT_HOME:
		md->cur = 0;
		return 1;
	case ACT_END:
		md->cur = total - 1;
		return 1;
	case ACT_NEXT_CHANGE:
	case ACT_PREV_CHANGE:
		if (!md_next(md, act == ACT_NEXT_CHANGE ? 1 : -1))
			tui_msg(t, 0, "no row differs");
		return 1;
	}
	return 0;
}

static void md_status(struct tui *t, struct view *v, struct img_buf *b)
{
	struct mdiff *md = (struct mdiff *)v;
	uint64_t off;
	int header;
	size_t ri = md_row(md, md->cur, &off, &header);
	const struct dchange *c = md->r[ri];

	(void)t;
	img_buf_printf(b, "range %zu/%zu  A 0x%llx  B 0x%llx  c C: the next, the previous row that differs", ri + 1,
		       md->nr, (unsigned long long)(c->range.start + off),
		       (unsigned long long)((c->op == IMG_DIFF_ADDED ? c->range.start : c->range.b_start) + off));
	img_buf_addc(b, 0);
	b->len--;
}

static int md_addr(struct tui *t, struct view *v, const struct img_task **task, uint64_t *addr)
{
	struct mdiff *md = (struct mdiff *)v;
	uint64_t off;
	int header;
	size_t ri = md_row(md, md->cur, &off, &header);

	(void)t;
	if (!md->pair->a)
		return 0;
	*task = md->pair->a;
	*addr = md->r[ri]->range.start + off;
	return 1;
}

static void md_click(struct tui *t, struct view *v, int row, int col)
{
	struct mdiff *md = (struct mdiff *)v;

	(void)t;
	(void)col;
	if (row >= 2 && md->top + (uint64_t)(row - 2) < md->rowbase[md->nr])
		md->cur = md->top + (uint64_t)(row - 2);
}

static void md_free(struct view *v)
{
	struct mdiff *md = (struct mdiff *)v;

	img_free(md->r);
	img_free(md->rowbase);
	img_free(md);
}

static const struct view_ops md_ops = {
	.name = "memdiff",
	.min_w = 66,
	.draw = md_draw,
	.key = md_key,
	.addr = md_addr,
	.status = md_status,
	.click = md_click,
	.free = md_free,
};

struct view *memdiff_view(struct tui *t, const void *pairp, uint64_t addr, char *msg, size_t len)
{
	const struct img_diff_pair *pair = pairp;
	struct tdiff *td = t->diff;
	struct mdiff *md;
	struct img_err e = { 0 };
	char es[1100];

	if (!td) {
		snprintf(msg, len, "not comparing two checkpoints");
		return NULL;
	}
	md = img_calloc(1, sizeof(*md));
	if (!md || !(md->r = img_calloc(td->n + 1, sizeof(*md->r)))) {
		img_free(md);
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	md->v.ops = &md_ops;
	md->v.task = pair->a ? pair->a : pair->b;
	md->pair = pair;
	for (size_t i = 0; i < td->n; i++)
		if (td->c[i].pair == pair && td->c[i].has_range)
			md->r[md->nr++] = &td->c[i];
	md->rowbase = img_calloc(md->nr + 1, sizeof(*md->rowbase));
	if (!md->rowbase || !md->nr) {
		snprintf(msg, len, md->nr ? "out of memory" : "the memory of %s is the same on both sides", pair->label);
		md_free(&md->v);
		return NULL;
	}
	for (int s = 0; s < 2; s++)
		if ((s ? pair->b : pair->a) && !(md->m[s] = img_diff_mem(td->d, pair, s, &e))) {
			snprintf(msg, len, "cannot read the memory of %s: %s", pair->label, img_err_str(&e, es, sizeof(es)));
			md_free(&md->v);
			return NULL;
		}
	snprintf(md->v.title, sizeof(md->v.title), "changed memory of %s %s: %zu range%s", pair->label,
		 pair->comm ? pair->comm : "", md->nr, md->nr == 1 ? "" : "s");
	md_layout(md, t->s.cols > 0 ? t->s.cols : 80);
	/* the cursor on the row of addr */
	for (size_t i = 0; i < md->nr; i++)
		if (addr >= md->r[i]->range.start && addr < md->r[i]->range.end) {
			md->cur = md->rowbase[i] + 1 + (addr - md->r[i]->range.start) / (uint64_t)md->bpr;
			break;
		}
	return &md->v;
}
