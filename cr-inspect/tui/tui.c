/* cr-inspect tui: the command, the main loop, keys to actions, and navigation (history, following links). */
#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

double tui_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct view *tui_view(struct tui *t)
{
	return t->nhist ? t->hist[t->nhist - 1].v : NULL;
}

static void view_free(struct view *v)
{
	if (v)
		v->ops->free(v);
}

void tui_push(struct tui *t, struct view *v)
{
	if (!v)
		return;
	if (t->nhist) {
		t->hist[t->nhist - 1].node = tree_cur(t);
		t->hist[t->nhist - 1].focus = t->focus;
	}
	if (t->nhist == TUI_HIST_MAX) {
		view_free(t->hist[0].v);
		memmove(&t->hist[0], &t->hist[1], (TUI_HIST_MAX - 1) * sizeof(t->hist[0]));
		t->nhist--;
	}
	t->hist[t->nhist].v = v;
	t->hist[t->nhist].node = tree_cur(t);
	t->hist[t->nhist].focus = t->focus;
	t->nhist++;
}

void tui_replace(struct tui *t, struct view *v)
{
	if (!v)
		return;
	if (!t->nhist) {
		tui_push(t, v);
		return;
	}
	view_free(t->hist[t->nhist - 1].v);
	t->hist[t->nhist - 1].v = v;
}

int tui_back(struct tui *t)
{
	struct hist *h;

	if (t->nhist <= 1) {
		tui_msg(t, 0, "nothing to go back to");
		return 0;
	}
	view_free(t->hist[--t->nhist].v);
	h = &t->hist[t->nhist - 1];
	if (h->node)
		tree_select(t, h->node);
	t->focus = h->focus;
	return 1;
}

/* The tree's cursor moved: show the node's detail (a detail on top is replaced, anything else kept behind it). */
void tree_moved(struct tui *t)
{
	struct view *top = tui_view(t), *v;
	struct node *n = tree_cur(t);

	if (!n || !(v = detail_view(t, n)))
		return;
	if (top && top->node)
		tui_replace(t, v);
	else
		tui_push(t, v);
}

struct img_ckpt *tui_task_ckpt(struct tui *t, const struct img_task *task)
{
	return t->ck2 && img_ckpt_task(t->ck, task->pid) != task ? t->ck2 : t->ck;
}

struct img_mem *tui_mem(struct tui *t, const struct img_task *task, char *msg, size_t len)
{
	struct img_err e = { 0 };
	struct img_mem *m = NULL;
	char es[1100];
	void *p;

	for (size_t i = 0; i < t->nmems; i++)
		if (t->mems[i].task == task)
			return t->mems[i].m;
	if (img_mem_open(tui_task_ckpt(t, task), task, 0, &m, &e) || (t->root_dir && img_mem_set_root(m, t->root_dir, &e))) {
		img_mem_close(m);
		snprintf(msg, len, "cannot read the memory of pid %u: %s", task->pid, img_err_str(&e, es, sizeof(es)));
		return NULL;
	}
	p = img_realloc(t->mems, (t->nmems + 1) * sizeof(*t->mems));
	if (!p) {
		img_mem_close(m);
		snprintf(msg, len, "out of memory");
		return NULL;
	}
	t->mems = p;
	t->mems[t->nmems].task = task;
	t->mems[t->nmems++].m = m;
	return m;
}

static void show_node(struct tui *t, struct node *n)
{
	struct view *v;

	if (!n || !(v = detail_view(t, n)))
		return;
	tui_push(t, v);
	tree_select(t, n);
	t->hist[t->nhist - 1].node = n;
	t->focus = 1;
}

int tui_follow(struct tui *t, const struct link *l)
{
	char msg[600] = "";
	struct view *v = NULL;

	switch (l->kind) {
	case LINK_NODE:
		show_node(t, l->node);
		return 0;
	case LINK_TASK:
		show_node(t, tree_find_task(t, l->task));
		return 0;
	case LINK_FILE: {
		struct node *n = tree_find_file(t, l->file);

		if (!n) {
			tui_msg(t, 1, "file %u is not in the set's file list", l->file->id);
			return -1;
		}
		show_node(t, n);
		return 0;
	}
	case LINK_ADDR:
		if (!tui_vma(l->task, l->addr)) {
			tui_msg(t, 1, "0x%llx is not mapped in pid %u", (unsigned long long)l->addr, l->task->pid);
			return -1;
		}
		v = mem_view(t, l->task, l->addr);
		break;
	case LINK_IMAGE:
		v = raw_image_view(t, l->member, l->side, msg, sizeof(msg));
		if (!v)
			tui_msg(t, 1, "%s", msg);
		break;
	case LINK_MEMDIFF:
		v = memdiff_view(t, l->pair, l->addr, msg, sizeof(msg));
		if (!v)
			tui_msg(t, 1, "%s", msg);
		break;
	case LINK_MSG: {
		char title[160];

		if (l->task)
			snprintf(title, sizeof(title), "%s of pid %u (%s)", l->member ? l->member : "entry", l->task->pid,
				 l->msg->desc->name);
		else
			snprintf(title, sizeof(title), "%s (%s)", l->member ? l->member : "entry", l->msg->desc->name);
		v = raw_msg_view(t, l->msg, title, l->task);
		break;
	}
	}
	if (!v)
		return -1;
	tui_push(t, v);
	t->focus = 1;
	return 0;
}

/* The task the cursor is in: the view's, the tree node's, or the first with memory. */
static const struct img_task *context_task(struct tui *t)
{
	struct view *v = tui_view(t);
	struct node *n = tree_cur(t);
	const struct img_task *const *tasks;
	size_t nt;

	if (t->focus == 1 && v && v->task)
		return v->task;
	if (n && n->task)
		return n->task;
	if (v && v->task)
		return v->task;
	tasks = img_ckpt_tasks(t->ck, &nt);
	for (size_t i = 0; i < nt; i++)
		if (tasks[i]->mm)
			return tasks[i];
	return nt ? tasks[0] : NULL;
}

/* The help: a text view that wants the width of its lines. */
static const struct view_ops help_ops = {
	.name = "help",
	.min_w = 72,
	.draw = listv_draw,
	.key = listv_key,
	.search = listv_search,
	.status = listv_status,
	.click = listv_click,
	.free = listv_free,
};

static struct view *help_view_new(struct tui *t)
{
	struct doc d;
	struct view *v;

	doc_init(&d);
	keys_help(&d, t->ck2 != NULL);
	v = doc_view_new("help: keys (q quits, Escape or Backspace closes this)", &d);
	if (v)
		v->ops = &help_ops;
	return v;
}

static int is_help(struct tui *t)
{
	struct view *v = tui_view(t);

	return v && v->ops == &help_ops;
}

static void do_search(struct tui *t, int dir)
{
	struct view *v = tui_view(t);
	int r;

	if (t->focus == 0 || !v) {
		r = tree_search(t, &t->pat, dir);
		if (r)
			tree_moved(t);
	} else {
		v->has_match = 0;
		r = v->ops->search ? v->ops->search(t, v, &t->pat, dir) : 0;
	}
	if (r == 0)
		tui_msg(t, 1, "not found: %s '%s'", pattern_kind_name(t->pat.kind), t->pat.text);
}

static int ask_pattern(struct tui *t, const char *label)
{
	char buf[sizeof(t->pat.text)] = "", msg[300];
	int kind = t->pat_kind;

	if (!prompt(t, label, buf, sizeof(buf), &kind) || !buf[0])
		return 0;
	pattern_free(&t->pat);
	t->pat.kind = kind;
	t->pat_kind = kind;
	snprintf(t->pat.text, sizeof(t->pat.text), "%s", buf);
	if (pattern_compile(&t->pat, msg, sizeof(msg))) {
		tui_msg(t, 1, "%s", msg);
		return 0;
	}
	return 1;
}

static void do_goto(struct tui *t)
{
	const struct img_task *task = context_task(t);
	struct view *v;
	char buf[128] = "", label[64];
	uint64_t addr;

	if (!task || !task->mm) {
		tui_msg(t, 1, "%s has no memory in the checkpoint: choose a task in the tree", task ? "this task" : "the set");
		return;
	}
	snprintf(label, sizeof(label), "go to address in pid %u", task->pid);
	if (!prompt(t, label, buf, sizeof(buf), NULL) || !buf[0])
		return;
	if (img_parse_addr(buf, &addr)) {
		tui_msg(t, 1, "'%s' is not an address (0x7f..., or decimal)", buf);
		return;
	}
	if (!tui_vma(task, addr)) {
		tui_msg(t, 1, "0x%llx is not mapped in pid %u", (unsigned long long)addr, task->pid);
		return;
	}
	v = mem_view(t, task, addr);
	if (v) {
		tui_push(t, v);
		t->focus = 1;
	}
}

static void do_mark(struct tui *t)
{
	struct view *v = tui_view(t);
	struct node *n = tree_cur(t);
	const struct img_task *task = NULL;
	uint64_t addr = 0;
	char note[200] = "", label[96], msg[600];
	int ok = 0;

	if (t->focus == 1 && v && v->ops->addr)
		ok = v->ops->addr(t, v, &task, &addr);
	else if (t->focus == 0 && n && n->kind == N_VMA)
		ok = (task = n->task, addr = ((const struct img_vma *)n->obj)->start, 1);
	else if (t->focus == 0 && n && n->kind == N_THREAD)
		ok = (task = n->task, addr = ((const struct img_thread *)n->obj)->pc, 1);
	if (!ok || !task) {
		tui_msg(t, 1, "no address under the cursor: open the memory (x, g, or Enter on a mapping)");
		return;
	}
	snprintf(label, sizeof(label), "note for pid %u 0x%llx", task->pid, (unsigned long long)addr);
	if (!prompt(t, label, note, sizeof(note), NULL))
		return;
	if (marks_add(t, task, addr, note)) {
		tui_msg(t, 1, "cannot add the mark: too many marks or out of memory");
		return;
	}
	if (marks_save(t, msg, sizeof(msg)))
		tui_msg(t, 1, "%s", msg);
	else
		tui_msg(t, 0, "marked pid %u 0x%llx (' lists the marks)", task->pid, (unsigned long long)addr);
}

static void do_raw(struct tui *t)
{
	struct view *v = tui_view(t);
	struct node *n = t->focus == 0 || !v ? tree_cur(t) : v->node;
	struct link l;

	if (!n || !node_entry(t, n, &l)) {
		tui_msg(t, 1, "no decoded entry here: r works on a tree node with an entry");
		return;
	}
	tui_follow(t, &l);
}

static void do_memory(struct tui *t)
{
	const struct img_task *task = context_task(t);
	const struct img_mm *mm = task ? task->mm : NULL;
	struct link l = { .kind = LINK_ADDR, .task = task };

	if (!mm || !mm->nvmas) {
		tui_msg(t, 1, "no memory here: choose a task in the tree");
		return;
	}
	l.addr = mm->vmas[0].start;
	for (size_t i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].kind == IMG_VMA_HEAP) {
			l.addr = mm->vmas[i].start;
			break;
		}
	tui_follow(t, &l);
}

static void do_mouse(struct tui *t)
{
	struct view *v = tui_view(t);
	MEVENT me;
	int in_tree, in_view, act = ACT_NONE, double_click;

	if (getmouse(&me) != OK)
		return;
	in_tree = t->tree_shown && me.x >= t->tree_r.x && me.x < t->tree_r.x + t->tree_r.w && me.y >= t->tree_r.y &&
		  me.y < t->tree_r.y + t->tree_r.h;
	in_view = me.x >= t->view_r.x && me.x < t->view_r.x + t->view_r.w && me.y >= t->view_r.y &&
		  me.y < t->view_r.y + t->view_r.h;
	if (!in_tree && !in_view)
		return;
	if (me.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
		act = me.bstate & BUTTON4_PRESSED ? ACT_UP : ACT_DOWN;
		for (int i = 0; i < 3; i++) {
			if (in_tree)
				tree_key(t, act, 0);
			else if (v)
				v->ops->key(t, v, act, 0);
		}
		return;
	}
	if (!(me.bstate & BUTTON1_PRESSED))
		return;
	/* a second press on the same place soon after is a double click */
	double_click = tui_now_ms() - t->click_ms < 400 && me.x == t->click_x && me.y == t->click_y;
	t->click_ms = double_click ? 0 : tui_now_ms();
	t->click_x = me.x;
	t->click_y = me.y;
	t->focus = in_view;
	if (in_tree)
		tree_click(t, me.y - t->tree_r.y);
	else if (v && v->ops->click)
		v->ops->click(t, v, me.y - t->view_r.y, me.x - t->view_r.x);
	if (double_click) {
		if (in_tree)
			tree_key(t, ACT_ENTER, 0);
		else if (v)
			v->ops->key(t, v, ACT_ENTER, 0);
	}
}

static void handle_key(struct tui *t, int ch)
{
	struct view *v = tui_view(t);
	int act = key_action(ch);

	t->msg[0] = 0;
	t->msg_err = 0;
	if (ch == KEY_RESIZE)
		return;
	if (COLS < TUI_MIN_COLS || LINES < TUI_MIN_ROWS) {
		if (act == ACT_QUIT)
			t->quit = 1;
		return;
	}
	if (ch == KEY_MOUSE) {
		do_mouse(t);
		return;
	}
	switch (act) {
	case ACT_QUIT:
		t->quit = 1;
		return;
	case ACT_HELP:
		if (!is_help(t)) {
			tui_push(t, help_view_new(t));
			t->focus = 1;
		}
		return;
	case ACT_BACK:
		tui_back(t);
		return;
	case ACT_TAB:
		t->focus = !t->focus;
		return;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		return;
	case ACT_MARKS:
		tui_push(t, marks_view(t));
		t->focus = 1;
		return;
	case ACT_SEARCH_ALL: {
		char msg[600] = "";

		if (ask_pattern(t, "search every task's memory")) {
			struct view *rv = results_view(t, &t->pat, msg, sizeof(msg));

			if (rv) {
				tui_push(t, rv);
				t->focus = 1;
			} else {
				tui_msg(t, 1, "%s", msg);
			}
		}
		return;
	}
	case ACT_SEARCH:
		if (ask_pattern(t, t->focus == 0 || !v ? "search the tree"
				   : !strcmp(v->ops->name, "memory") ? "search memory" : "search"))
			do_search(t, 1);
		return;
	case ACT_NEXT:
	case ACT_PREV:
		if (!t->pat.set)
			tui_msg(t, 1, "no search yet: / searches");
		else
			do_search(t, act == ACT_NEXT ? 1 : -1);
		return;
	case ACT_GOTO:
		do_goto(t);
		return;
	case ACT_MARK:
		do_mark(t);
		return;
	case ACT_EXPORT:
		if (t->focus == 0 || !v) {
			if (tree_cur(t))
				node_export(t, tree_cur(t));
		} else if (v->ops->export) {
			v->ops->export(t, v);
		}
		return;
	case ACT_RAW:
		do_raw(t);
		return;
	case ACT_MEMORY:
		do_memory(t);
		return;
	case ACT_NEXT_CHANGE:
	case ACT_PREV_CHANGE:
		if (!t->diff)
			break;
		if (t->focus == 1 && v && v->ops->key(t, v, act, ch))
			return;
		if (!tdiff_next(t, act == ACT_NEXT_CHANGE ? 1 : -1))
			tui_msg(t, 0, "no changes");
		return;
	case ACT_ESC:
		if (t->focus == 1 && v && v->ops->key(t, v, act, ch))
			return;
		if (is_help(t))
			tui_back(t);
		return;
	}
	if (t->focus == 0 ? tree_key(t, act, ch) : v ? v->ops->key(t, v, act, ch) : 0)
		return;
	if (ch >= 0x20 && ch < 0x7f)
		tui_msg(t, 0, "'%c' does nothing here: ? lists the keys", ch);
}

static void run(struct tui *t, double t_start)
{
	int errs = 0;

	screen_draw(t);
	if (t->trace)
		fprintf(t->trace, "open %.3f\n", tui_now_ms() - t_start);
	while (!t->quit) {
		char name[64];
		double t0;
		int ch = getch();

		if (ch == ERR) {
			/* a signal, or the terminal is gone */
			if (got_signal || ++errs > 100)
				break;
			continue;
		}
		errs = 0;
		t0 = tui_now_ms();
		t->waited_ms = 0;
		handle_key(t, ch);
		if (!t->quit)
			screen_draw(t);
		if (t->trace) {
			fprintf(t->trace, "key %s %.3f\n", tui_key_name(ch, name, sizeof(name)),
				tui_now_ms() - t0 - t->waited_ms);
			fflush(t->trace);
		}
	}
}

struct tui_opts {
	struct img_cli *c;
	const struct img_cmd *cmd;
	const char *root, *marks, *trace;
};

static int tui_opt(void *arg, int opt, const char *val)
{
	struct tui_opts *o = arg;

	switch (opt) {
	case 'R':
		o->root = val;
		return 0;
	case 'M':
		o->marks = val;
		return 0;
	case 'T':
		o->trace = val;
		return 0;
	}
	return 2;
}

static const struct option tui_longopts[] = {
	{ "root", required_argument, NULL, 'R' },
	{ "marks", required_argument, NULL, 'M' },
	{ "trace-keys", required_argument, NULL, 'T' },
	{ NULL, 0, NULL, 0 },
};

static void set_name(char *name, size_t len, const char *path)
{
	size_t n = strlen(path);
	const char *s;

	while (n > 1 && path[n - 1] == '/')
		n--;
	s = path + n;
	while (s > path && s[-1] != '/')
		s--;
	snprintf(name, len, "%.*s", (int)(path + n - s), s);
}

static void tui_free(struct tui *t)
{
	while (t->nhist)
		view_free(t->hist[--t->nhist].v);
	tree_free(t);
	for (size_t i = 0; i < t->nmems; i++)
		img_mem_close(t->mems[i].m);
	img_free(t->mems);
	marks_free(t);
	pattern_free(&t->pat);
	tdiff_free(t);
	if (t->trace)
		fclose(t->trace);
	img_ckpt_close(t->ck2);
	img_ckpt_close(t->ck);
}

int cmd_tui(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	struct tui_opts o = { c, cmd, NULL, NULL, NULL };
	struct sigaction sa;
	struct img_err e = { 0 };
	struct tui t;
	char *pos[2], msg[1200];
	double t_start = tui_now_ms();
	int npos, r;

	r = parse_explorer(c, cmd, argc, argv, "", tui_longopts, tui_opt, &o, pos, 1, 2, &npos);
	if (r)
		return r < 0 ? 0 : r;
	if (o.root && (r = cli_check_root(c, o.root)))
		return r;
	memset(&t, 0, sizeof(t));
	t.c = c;
	t.cmd = cmd;
	t.path = pos[0];
	t.root_dir = o.root;
	t.marks_file = o.marks;
	set_name(t.name, sizeof(t.name), pos[0]);
	if (img_ckpt_open(pos[0], IMG_CKPT_TOLERANT, &t.ck, &e))
		return img_cli_fail(c, "read", &e);
	if (npos == 2) {
		t.path2 = pos[1];
		set_name(t.name2, sizeof(t.name2), pos[1]);
		if (img_ckpt_open(pos[1], IMG_CKPT_TOLERANT, &t.ck2, &e)) {
			img_ckpt_close(t.ck);
			return img_cli_fail(c, "read", &e);
		}
		if (tdiff_open(&t, msg, sizeof(msg))) {
			tui_free(&t);
			return img_cli_failf(c, "%s", msg);
		}
	}
	if (marks_load(&t, msg, sizeof(msg))) {
		img_ckpt_close(t.ck);
		return img_cli_failf(c, "%s", msg);
	}
	if (o.trace && !(t.trace = fopen(o.trace, "w"))) {
		r = errno;
		tui_free(&t);
		return img_cli_failf(c, "cannot write '%s': %s", o.trace, strerror(r));
	}
	tree_build(&t);
	if (!t.tree.root) {
		tui_free(&t);
		return img_cli_failf(c, "out of memory");
	}
	if (t.diff)
		tdiff_map(&t);
	tui_push(&t, detail_view(&t, t.tree.root));
	/* our handlers first, so that curses leaves them alone: the loop ends and the terminal is restored */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (screen_open(&t, msg, sizeof(msg))) {
		tui_free(&t);
		return img_cli_failf(c, "%s", msg);
	}
	run(&t, t_start);
	screen_close(&t);
	r = got_signal ? 128 + got_signal : 0;
	if (marks_save(&t, msg, sizeof(msg)))
		r = img_cli_failf(c, "%s", msg);
	tui_free(&t);
	return r;
}
