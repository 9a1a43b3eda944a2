/*
 * The tree pane: image set -> processes (nested by parent) -> threads, maps,
 * memory, fds; files, sockets and pipes, namespaces, images, problems.
 * A node gets its children when it is first opened or searched.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

static struct node *node_new(struct node *parent, int kind, const struct img_task *task, const void *obj)
{
	struct node *n = img_calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->kind = (uint8_t)kind;
	n->parent = parent;
	n->depth = parent ? parent->depth + 1 : 0;
	n->task = task ? task : parent ? parent->task : NULL;
	n->obj = obj;
	/* in diff mode, what is under an object only one side has is only there too */
	n->side = parent ? parent->side : 0;
	n->change = parent && (parent->change == '+' || parent->change == '-') ? parent->change : ' ';
	return n;
}

static int node_add(struct node *parent, struct node *kid)
{
	size_t n = parent->nkids;

	if (!kid)
		return -1;
	/* capacity: the next power of two (a task may have thousands of mappings) */
	if ((n & (n - 1)) == 0) {
		struct node **k = img_realloc(parent->kids, (n ? 2 * n : 1) * sizeof(*k));

		if (!k) {
			img_free(kid);
			return -1;
		}
		parent->kids = k;
	}
	parent->kids[parent->nkids++] = kid;
	return 0;
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	img_free(n->kids);
	img_free(n->member);
	img_free(n);
}

static int can_open(const struct node *n)
{
	switch (n->kind) {
	case N_SET: case N_PROCS: case N_TASK: case N_THREADS: case N_MAPS: case N_FDS: case N_FILES:
	case N_SOCKETS: case N_NSS: case N_IMAGES: case N_PROBLEMS:
		return 1;
	}
	return 0;
}

struct member {
	char *name;
	uint64_t size;
};

struct members {
	struct member *m;
	size_t n, cap;
};

static int add_member(void *arg, const char *name, uint64_t size)
{
	struct members *ms = arg;

	if (TUI_GROW(ms->m, ms->n, ms->cap))
		return -1;
	ms->m[ms->n].name = img_strdup(name);
	if (!ms->m[ms->n].name)
		return -1;
	ms->m[ms->n++].size = size;
	return 0;
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

static void load_images(struct tui *t, struct node *n)
{
	struct members ms = { 0 };

	img_dir_each(img_ckpt_dir(n->side ? t->ck2 : t->ck), add_member, &ms);
	qsort(ms.m, ms.n, sizeof(*ms.m), cmp_member);
	for (size_t i = 0; i < ms.n; i++) {
		struct node *k = node_new(n, N_IMAGE, NULL, NULL);

		if (k) {
			k->member = ms.m[i].name;
			k->size = ms.m[i].size;
			ms.m[i].name = NULL;
		}
		node_add(n, k);
		img_free(ms.m[i].name);
	}
	img_free(ms.m);
}

struct node *tree_add(struct node *parent, int kind, const struct img_task *task, const void *obj)
{
	struct node *n = node_new(parent, kind, task, obj);

	if (n && node_add(parent, n))
		return NULL;
	return n;
}

struct node *tree_kid(struct tui *t, struct node *n, int kind)
{
	tree_load(t, n);
	for (size_t i = 0; i < n->nkids; i++)
		if (n->kids[i]->kind == kind)
			return n->kids[i];
	return NULL;
}

void tree_load(struct tui *t, struct node *n)
{
	const struct img_task *task = n->task;
	size_t cnt;

	if (n->loaded)
		return;
	n->loaded = 1;
	switch (n->kind) {
	case N_SET: {
		size_t np;

		if (t->diff)
			node_add(n, node_new(n, N_CHANGES, NULL, NULL));
		node_add(n, node_new(n, N_PROCS, NULL, NULL));
		node_add(n, node_new(n, N_FILES, NULL, NULL));
		node_add(n, node_new(n, N_SOCKETS, NULL, NULL));
		node_add(n, node_new(n, N_NSS, NULL, NULL));
		node_add(n, node_new(n, N_IMAGES, NULL, NULL));
		img_ckpt_problems(t->ck, &np);
		if (np)
			node_add(n, node_new(n, N_PROBLEMS, NULL, NULL));
		break;
	}
	case N_PROCS: {
		const struct img_task *const *roots = img_ckpt_roots(t->ck, &cnt);

		for (size_t i = 0; i < cnt; i++)
			node_add(n, node_new(n, N_TASK, roots[i], roots[i]));
		break;
	}
	case N_TASK:
		node_add(n, node_new(n, N_THREADS, NULL, NULL));
		if (task->mm) {
			node_add(n, node_new(n, N_MAPS, NULL, NULL));
			node_add(n, node_new(n, N_MEMORY, NULL, NULL));
		}
		node_add(n, node_new(n, N_FDS, NULL, NULL));
		if (task->mm)
			node_add(n, node_new(n, N_ENV, NULL, NULL));
		for (size_t i = 0; i < task->nchildren; i++)
			node_add(n, node_new(n, N_TASK, task->children[i], task->children[i]));
		break;
	case N_THREADS:
		for (size_t i = 0; i < task->nthreads; i++)
			node_add(n, node_new(n, N_THREAD, NULL, &task->threads[i]));
		break;
	case N_MAPS:
		for (size_t i = 0; task->mm && i < task->mm->nvmas; i++)
			node_add(n, node_new(n, N_VMA, NULL, &task->mm->vmas[i]));
		break;
	case N_FDS:
		for (size_t i = 0; i < task->nfds; i++)
			node_add(n, node_new(n, N_FD, NULL, &task->fds[i]));
		break;
	case N_FILES:
	case N_SOCKETS: {
		const struct img_file *const *files = img_ckpt_files(t->ck, &cnt);

		for (size_t i = 0; i < cnt; i++)
			if (n->kind == N_FILES || files[i]->sk || files[i]->pipe)
				node_add(n, node_new(n, N_FILE, NULL, files[i]));
		break;
	}
	case N_NSS: {
		const struct img_ns *ns = img_ckpt_namespaces(t->ck, &cnt);

		for (size_t i = 0; i < cnt; i++)
			node_add(n, node_new(n, N_NS, NULL, &ns[i]));
		break;
	}
	case N_IMAGES:
		load_images(t, n);
		break;
	case N_PROBLEMS: {
		const struct img_err *pr = img_ckpt_problems(t->ck, &cnt);

		for (size_t i = 0; i < cnt; i++)
			node_add(n, node_new(n, N_PROBLEM, NULL, &pr[i]));
		break;
	}
	}
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s && s[1] ? s + 1 : p;
}

void tree_label(struct tui *t, const struct node *n, struct img_buf *b)
{
	const struct img_task *task = n->task;
	size_t cnt;

	switch (n->kind) {
	case N_SET:
		img_buf_adds(b, t->name);
		break;
	case N_PROCS:
		img_ckpt_tasks(t->ck, &cnt);
		img_buf_printf(b, "processes (%zu)", cnt);
		break;
	case N_TASK: {
		const char *st = img_task_state_name(task->state);

		img_buf_printf(b, "%u %s", task->pid, task->comm);
		if (task->state != IMG_TASK_ALIVE)
			img_buf_printf(b, " (%s)", st ? st : "?");
		break;
	}
	case N_THREADS:
		/* in diff mode the list may hold what only B has */
		img_buf_printf(b, "threads (%zu)", n->loaded ? n->nkids : task->nthreads);
		break;
	case N_THREAD: {
		const struct img_thread *th = n->obj;

		img_buf_printf(b, "%u %s", th->tid, th->comm ? th->comm : task->comm);
		break;
	}
	case N_MAPS:
		img_buf_printf(b, "maps (%zu)", n->loaded ? n->nkids : task->mm ? task->mm->nvmas : 0);
		break;
	case N_VMA: {
		const struct img_vma *v = n->obj;
		char perm[4];

		img_buf_printf(b, "%llx %s %s", (unsigned long long)v->start, prot_str(v->prot, perm),
			       v->name[0] ? base_name(v->name) : img_vma_kind_name(v->kind));
		break;
	}
	case N_MEMORY:
		img_buf_adds(b, "memory");
		break;
	case N_ENV:
		img_buf_adds(b, "environment");
		break;
	case N_CHANGES:
		img_buf_adds(b, "changes");
		break;
	case N_FDS:
		img_buf_printf(b, "fds (%zu)", n->loaded ? n->nkids : task->nfds);
		break;
	case N_FD: {
		const struct img_fd *fd = n->obj;

		img_buf_printf(b, "%u ", fd->fd);
		if (fd->file)
			describe_file(fd->file, b);
		else
			img_buf_printf(b, "file %llu is not in the checkpoint",
				       (unsigned long long)img_msg_u64(fd->msg, "id", 0));
		break;
	}
	case N_FILES:
		img_ckpt_files(t->ck, &cnt);
		img_buf_printf(b, "files (%zu)", cnt);
		break;
	case N_FILE: {
		const struct img_file *f = n->obj;

		img_buf_printf(b, "%s ", f->type_name);
		describe_file(f, b);
		break;
	}
	case N_SOCKETS:
		img_buf_adds(b, "sockets and pipes");
		break;
	case N_NSS:
		img_ckpt_namespaces(t->ck, &cnt);
		img_buf_printf(b, "namespaces (%zu)", n->loaded ? n->nkids : cnt);
		break;
	case N_NS: {
		const struct img_ns *ns = n->obj;

		img_buf_printf(b, "%s %u%s", img_ns_kind_name(ns->kind), ns->id, ns->is_root ? " (root)" : "");
		break;
	}
	case N_IMAGES:
		img_buf_adds(b, "images");
		break;
	case N_IMAGE:
		img_buf_adds(b, n->member);
		break;
	case N_PROBLEMS:
		img_ckpt_problems(t->ck, &cnt);
		img_buf_printf(b, "problems (%zu)", cnt);
		break;
	case N_PROBLEM: {
		char m[1100];

		img_buf_adds(b, img_err_str(n->obj, m, sizeof(m)));
		break;
	}
	}
	img_buf_addc(b, 0);
	b->len--;
}

static int vis_add(struct tree *tr, struct node *n)
{
	if (TUI_GROW(tr->vis, tr->nvis, tr->cap))
		return -1;
	tr->vis[tr->nvis++] = n;
	return 0;
}

static void vis_walk(struct tree *tr, struct node *n)
{
	vis_add(tr, n);
	if (!n->open)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		vis_walk(tr, n->kids[i]);
}

/* Rebuild the list of shown nodes, keeping the cursor on its node. */
void tree_refresh(struct tui *t)
{
	struct tree *tr = &t->tree;
	struct node *cur = tree_cur(t);

	tr->nvis = 0;
	vis_walk(tr, tr->root);
	for (size_t i = 0; cur && i < tr->nvis; i++)
		if (tr->vis[i] == cur) {
			tr->cur = i;
			return;
		}
	if (tr->cur >= tr->nvis)
		tr->cur = tr->nvis ? tr->nvis - 1 : 0;
}

struct node *tree_cur(struct tui *t)
{
	struct tree *tr = &t->tree;

	return tr->cur < tr->nvis ? tr->vis[tr->cur] : NULL;
}

void tree_build(struct tui *t)
{
	struct tree *tr = &t->tree;

	tr->root = node_new(NULL, N_SET, NULL, NULL);
	if (!tr->root)
		return;
	tree_load(t, tr->root);
	tr->root->open = 1;
	if (tr->root->nkids) {
		tree_load(t, tr->root->kids[0]);
		tr->root->kids[0]->open = 1;
	}
	tree_refresh(t);
}

void tree_free(struct tui *t)
{
	node_free(t->tree.root);
	img_free(t->tree.vis);
	memset(&t->tree, 0, sizeof(t->tree));
}

/* Put the cursor on n, opening its ancestors. */
void tree_select(struct tui *t, struct node *n)
{
	struct tree *tr = &t->tree;

	if (!n)
		return;
	for (struct node *p = n->parent; p; p = p->parent) {
		tree_load(t, p);
		p->open = 1;
	}
	tr->nvis = 0;
	vis_walk(tr, tr->root);
	for (size_t i = 0; i < tr->nvis; i++)
		if (tr->vis[i] == n)
			tr->cur = i;
}

void tree_path(struct tui *t, const struct node *n, struct img_buf *b)
{
	const struct node *chain[64];
	size_t k = 0;

	for (; n && k < 64; n = n->parent)
		chain[k++] = n;
	while (k--) {
		size_t at = b->len;

		tree_label(t, chain[k], b);
		/* the set's name is in the title already */
		if (chain[k]->kind == N_SET)
			b->len = at;
		else if (k)
			img_buf_adds(b, " > ");
	}
	img_buf_addc(b, 0);
	b->len--;
}

void tree_draw(struct tui *t, struct rect r, int focus)
{
	struct tree *tr = &t->tree;
	struct img_buf b;
	int rows = r.h;

	tr->page = rows;
	if (tr->cur < tr->top)
		tr->top = tr->cur;
	if (tr->cur >= tr->top + (size_t)rows)
		tr->top = tr->cur - (size_t)rows + 1;
	img_buf_init(&b);
	for (int row = 0; row < rows; row++) {
		size_t i = tr->top + (size_t)row;
		const struct node *n;
		int attr, x = r.x, y = r.y + row, ind;

		if (i >= tr->nvis)
			break;
		n = tr->vis[i];
		attr = i == tr->cur ? role_attr(t, focus ? R_CURSOR : R_SELECT) : 0;
		put_fill(y, r.x, r.w, attr);
		if (t->ck2) {
			int role = n->change == '+' ? R_ADDED : n->change == '-' ? R_REMOVED
				   : n->change == '~' ? R_CHANGED : R_NORMAL;
			char c = (char)n->change;

			put_text(y, x, 1, &c, 1, i == tr->cur ? attr : role_attr(t, role));
			x++;
		}
		ind = n->depth > 0 ? 2 * (n->depth - 1) : 0;
		if (ind > r.w / 2)
			ind = r.w / 2;
		x += ind;
		put_text(y, x, r.x + r.w - x, can_open(n) ? (n->open ? "- " : "+ ") : "  ", 2, attr);
		x += 2;
		b.len = 0;
		tree_label(t, n, &b);
		put_text(y, x, r.x + r.w - x, (const char *)b.data, b.len, attr);
	}
	img_buf_free(&b);
}

static void toggle(struct tui *t, struct node *n, int open)
{
	if (!can_open(n))
		return;
	if (open)
		tree_load(t, n);
	n->open = (uint8_t)open;
	tree_refresh(t);
}

/* Enter on a node: open it, or follow where it leads. */
static void enter(struct tui *t, struct node *n)
{
	struct link l = { 0 };

	switch (n->kind) {
	case N_VMA:
		l.kind = LINK_ADDR;
		l.task = n->task;
		l.addr = ((const struct img_vma *)n->obj)->start;
		tui_follow(t, &l);
		return;
	case N_MEMORY:
		if (!tdiff_memory_link(t, n->task, &l)) {
			l.kind = LINK_ADDR;
			l.task = n->task;
			l.addr = n->task->mm->nvmas ? n->task->mm->vmas[0].start : 0;
		}
		tui_follow(t, &l);
		return;
	case N_FD:
		if (!((const struct img_fd *)n->obj)->file) {
			tui_msg(t, 1, "the file of this fd is not in the checkpoint");
			return;
		}
		l.kind = LINK_FILE;
		l.file = ((const struct img_fd *)n->obj)->file;
		tui_follow(t, &l);
		return;
	case N_IMAGE:
		l.kind = LINK_IMAGE;
		l.member = n->member;
		l.side = n->side;
		tui_follow(t, &l);
		return;
	case N_NS:
		if (((const struct img_ns *)n->obj)->image) {
			l.kind = LINK_IMAGE;
			l.member = ((const struct img_ns *)n->obj)->image;
			tui_follow(t, &l);
			return;
		}
		break;
	}
	if (can_open(n))
		toggle(t, n, !n->open);
	else
		t->focus = 1;
}

int tree_key(struct tui *t, int act, int ch)
{
	struct tree *tr = &t->tree;
	struct node *n = tree_cur(t);
	size_t page = tr->page > 1 ? (size_t)tr->page - 1 : 1, was = tr->cur;

	(void)ch;
	if (!n)
		return 0;
	switch (act) {
	case ACT_UP:
		if (tr->cur)
			tr->cur--;
		break;
	case ACT_DOWN:
		if (tr->cur + 1 < tr->nvis)
			tr->cur++;
		break;
	case ACT_PGUP:
		tr->cur = tr->cur > page ? tr->cur - page : 0;
		break;
	case ACT_PGDN:
		tr->cur = tr->cur + page < tr->nvis ? tr->cur + page : tr->nvis - 1;
		break;
	case ACT_HOME:
		tr->cur = 0;
		break;
	case ACT_END:
		tr->cur = tr->nvis - 1;
		break;
	case ACT_RIGHT:
		if (can_open(n) && !n->open) {
			toggle(t, n, 1);
		} else if (can_open(n) && n->nkids) {
			tr->cur++;
		} else {
			t->focus = 1;
			return 1;
		}
		break;
	case ACT_LEFT:
		if (can_open(n) && n->open) {
			toggle(t, n, 0);
		} else if (n->parent) {
			tree_select(t, n->parent);
		}
		break;
	case ACT_ENTER:
		enter(t, n);
		return 1;
	default:
		return 0;
	}
	if (tr->cur != was)
		tree_moved(t);
	return 1;
}

void tree_click(struct tui *t, int row)
{
	struct tree *tr = &t->tree;
	size_t i = tr->top + (size_t)row;

	if (row < 0 || i >= tr->nvis)
		return;
	if (i != tr->cur) {
		tr->cur = i;
		tree_moved(t);
	}
}

/* Every node in order, children loaded as needed (for search). */
struct flat {
	struct node **n;
	size_t len, cap;
};

static void flatten(struct tui *t, struct node *n, struct flat *f)
{
	if (TUI_GROW(f->n, f->len, f->cap))
		return;
	f->n[f->len++] = n;
	/* images are listed, not searched inside; their names are */
	tree_load(t, n);
	for (size_t i = 0; i < n->nkids; i++)
		flatten(t, n->kids[i], f);
}

struct label_arg {
	struct tui *t;
	struct flat *f;
};

static void label_text(void *arg, size_t i, struct img_buf *b)
{
	struct label_arg *la = arg;

	tree_label(la->t, la->f->n[i], b);
}

int tree_search(struct tui *t, const struct pat *p, int dir)
{
	struct flat f = { 0 };
	struct label_arg la = { t, &f };
	struct node *cur = tree_cur(t);
	size_t at = 0, i, off, len;

	flatten(t, t->tree.root, &f);
	for (i = 0; i < f.len; i++)
		if (f.n[i] == cur)
			at = i;
	i = pattern_find(p, f.len, at, dir, label_text, &la, &off, &len);
	if (i != SIZE_MAX)
		tree_select(t, f.n[i]);
	img_free(f.n);
	return i != SIZE_MAX;
}

struct node *tree_find_file(struct tui *t, const struct img_file *f)
{
	struct node *root = t->tree.root;

	for (size_t i = 0; root && i < root->nkids; i++) {
		struct node *files = root->kids[i];

		if (files->kind != N_FILES)
			continue;
		tree_load(t, files);
		for (size_t k = 0; k < files->nkids; k++)
			if (files->kids[k]->obj == f)
				return files->kids[k];
	}
	return NULL;
}

static struct node *task_node(struct tui *t, struct node *n, const struct img_task *task)
{
	if (n->kind == N_TASK && n->task == task)
		return n;
	if (n->kind != N_SET && n->kind != N_PROCS && n->kind != N_TASK)
		return NULL;
	tree_load(t, n);
	for (size_t i = 0; i < n->nkids; i++) {
		struct node *r = task_node(t, n->kids[i], task);

		if (r)
			return r;
	}
	return NULL;
}

struct node *tree_find_task(struct tui *t, const struct img_task *task)
{
	return t->tree.root ? task_node(t, t->tree.root, task) : NULL;
}
