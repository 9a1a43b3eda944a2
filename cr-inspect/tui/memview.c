/*
 * The memory view: a task's mappings as rows of hex and ASCII, each mapping
 * under a header row, unmapped gaps left out.  The column after the address
 * says what the checkpoint holds for the row's page (P present, ^ in a
 * parent, F file-backed, - not in the image, L lazy, ! missing), so that it
 * reads without colour.  Only the rows on screen are read.
 */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

struct memv {
	struct view v;
	const struct img_mm *mm;
	struct img_mem *m;
	int bpr;                 /* bytes per row */
	int groups;              /* a space every 8 bytes */
	uint64_t *rowbase;       /* rows before mapping i (each has a header row); nvmas + 1 */
	uint64_t cur;            /* the cursor's address */
	uint64_t top;            /* the first row shown */
	uint64_t anchor;         /* selection: from anchor to cur */
	int sel;
	uint64_t mat;            /* the last match */
	size_t matlen;
	int has_mat;
	int rows;
};

static const struct {
	char c;
	int role;
} states[IMG_PAGE__COUNT] = {
	[IMG_PAGE_UNMAPPED] = { ' ', R_NORMAL }, [IMG_PAGE_PRESENT] = { 'P', R_PRESENT },
	[IMG_PAGE_PARENT] = { '^', R_PARENT },   [IMG_PAGE_LAZY] = { 'L', R_LAZY },
	[IMG_PAGE_FILE] = { 'F', R_FILE },       [IMG_PAGE_ZERO] = { '-', R_ABSENT },
	[IMG_PAGE_MISSING] = { '!', R_MISSING },
};

static int row_width(int n, int groups)
{
	return 12 + 3 + 3 * n - 1 + (groups ? n / 8 - 1 : 0) + 2 + n;
}

static void layout(struct memv *mv, int w)
{
	static const int sizes[] = { 32, 16, 8, 4 };
	int bpr = 4, groups = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (row_width(sizes[i], 1) <= w) {
			bpr = sizes[i];
			groups = bpr >= 16;
			break;
		}
		if (row_width(sizes[i], 0) <= w) {
			bpr = sizes[i];
			break;
		}
	}
	mv->groups = groups;
	if (bpr == mv->bpr && mv->rowbase)
		return;
	mv->bpr = bpr;
	mv->rowbase[0] = 0;
	for (size_t i = 0; i < mv->mm->nvmas; i++) {
		const struct img_vma *v = &mv->mm->vmas[i];

		mv->rowbase[i + 1] = mv->rowbase[i] + 1 + (v->end - v->start + (uint64_t)bpr - 1) / (uint64_t)bpr;
	}
}

static size_t vma_index(struct memv *mv, uint64_t addr)
{
	const struct img_vma *v = img_mm_find(mv->mm, addr);

	return v ? (size_t)(v - mv->mm->vmas) : 0;
}

static uint64_t row_of(struct memv *mv, uint64_t addr)
{
	size_t i = vma_index(mv, addr);

	return mv->rowbase[i] + 1 + (addr - mv->mm->vmas[i].start) / (uint64_t)mv->bpr;
}

/* The mapping of a row, and the row's address (or -1 for its header row). */
static size_t row_vma(struct memv *mv, uint64_t row, uint64_t *addr, int *header)
{
	size_t lo = 0, hi = mv->mm->nvmas - 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		if (mv->rowbase[mid] <= row)
			lo = mid;
		else
			hi = mid - 1;
	}
	*header = row == mv->rowbase[lo];
	*addr = *header ? mv->mm->vmas[lo].start
			: mv->mm->vmas[lo].start + (row - mv->rowbase[lo] - 1) * (uint64_t)mv->bpr;
	return lo;
}

static uint64_t nrows(struct memv *mv)
{
	return mv->rowbase[mv->mm->nvmas];
}

/* Read one row: bytes and whether the image has them; the state of its page. */
static int read_row(struct memv *mv, uint64_t addr, uint64_t end, uint8_t *buf, uint8_t *have, const char **source)
{
	int state = IMG_PAGE_UNMAPPED, first = 1;
	uint64_t a = addr;

	memset(buf, 0, (size_t)mv->bpr);
	memset(have, 0, (size_t)mv->bpr);
	if (source)
		*source = NULL;
	while (a < end) {
		struct img_mem_run run;

		if (img_mem_run(mv->m, a, end, &run, NULL))
			return IMG_PAGE_MISSING;
		if (first) {
			state = run.state;
			if (source)
				*source = run.source;
			first = 0;
		}
		if (run.data) {
			memcpy(buf + (a - addr), run.data, (size_t)(run.end - run.start));
			memset(have + (a - addr), 1, (size_t)(run.end - run.start));
		}
		a = run.end;
	}
	return state;
}

static int in_sel(struct memv *mv, uint64_t a)
{
	uint64_t lo = mv->anchor < mv->cur ? mv->anchor : mv->cur, hi = mv->anchor < mv->cur ? mv->cur : mv->anchor;

	return mv->sel && a >= lo && a <= hi;
}

/* The cursor over the selection over the last match over the page's state. */
static int byte_attr(struct tui *t, struct memv *mv, uint64_t b, int attr, int focus)
{
	if (b == mv->cur)
		return role_attr(t, focus ? R_CURSOR : R_SELECT);
	if (in_sel(mv, b))
		return role_attr(t, R_SELECT);
	if (mv->has_mat && b >= mv->mat && b < mv->mat + mv->matlen)
		return role_attr(t, R_MATCH);
	return attr;
}

static void draw_header(struct tui *t, struct memv *mv, const struct img_vma *v, int y, struct rect r)
{
	char perm[4], line[512];
	uint64_t size = v->end - v->start;

	snprintf(line, sizeof(line), "-- %llx-%llx %s%c %s %s  %llu %s", (unsigned long long)v->start,
		 (unsigned long long)v->end, prot_str(v->prot, perm), v->flags & 1 ? 's' : 'p', img_vma_kind_name(v->kind),
		 v->name, (unsigned long long)(size >= 1024 ? size / 1024 : size), size >= 1024 ? "KiB" : "bytes");
	(void)mv;
	put_text(y, r.x, r.w, line, strlen(line), role_attr(t, R_HEAD));
}

static void draw_row(struct tui *t, struct memv *mv, const struct img_vma *v, uint64_t addr, int y, struct rect r,
		     int focus)
{
	uint8_t buf[32], have[32];
	int state, x = r.x, base, mark;
	uint64_t end = addr + (uint64_t)mv->bpr < v->end ? addr + (uint64_t)mv->bpr : v->end;
	char a[24];
	int n = (int)(end - addr);

	state = read_row(mv, addr, end, buf, have, NULL);
	/* the marker carries the colour of the state; bytes the image holds stay plain */
	mark = role_attr(t, states[state].role);
	base = state == IMG_PAGE_PRESENT ? 0 : mark;
	snprintf(a, sizeof(a), "%012llx", (unsigned long long)addr);
	x += put_text(y, x, r.x + r.w - x, a, strlen(a), 0);
	if (marks_at(t, mv->v.task->pid, addr, end))
		x += put_text(y, x, r.x + r.w - x, "*", 1, role_attr(t, R_HEAD));
	else
		x += put_text(y, x, r.x + r.w - x, " ", 1, 0);
	x += put_text(y, x, r.x + r.w - x, &states[state].c, 1, mark);
	x += put_text(y, x, r.x + r.w - x, " ", 1, 0);
	for (int i = 0; i < mv->bpr; i++) {
		uint64_t b = addr + (uint64_t)i;
		int attr = base;
		char hx[4];

		if (i && mv->groups && i % 8 == 0)
			x += put_text(y, x, r.x + r.w - x, " ", 1, 0);
		if (i >= n) {
			x += put_text(y, x, r.x + r.w - x, "   ", 3, 0);
			continue;
		}
		attr = byte_attr(t, mv, b, attr, focus);
		if (have[i])
			snprintf(hx, sizeof(hx), "%02x", buf[i]);
		else
			snprintf(hx, sizeof(hx), "--");
		x += put_text(y, x, r.x + r.w - x, hx, 2, attr);
		if (i + 1 < mv->bpr)
			x += put_text(y, x, r.x + r.w - x, " ", 1, 0);
	}
	x += put_text(y, x, r.x + r.w - x, "  ", 2, 0);
	for (int i = 0; i < n; i++) {
		uint64_t b = addr + (uint64_t)i;
		char c = !have[i] ? ' ' : buf[i] >= 0x20 && buf[i] < 0x7f ? (char)buf[i] : '.';
		int attr = byte_attr(t, mv, b, have[i] ? 0 : base, focus);

		x += put_text(y, x, r.x + r.w - x, &c, 1, attr);
	}
}

static void mem_draw(struct tui *t, struct view *v, struct rect r, int focus)
{
	struct memv *mv = (struct memv *)v;
	static const char *const legend[][2] = {
		{ "P", " present " }, { "^", " in parent " }, { "F", " file-backed " }, { "-", " not in image " },
		{ "L", " lazy " }, { "!", " missing" },
	};
	static const int legend_state[] = { IMG_PAGE_PRESENT, IMG_PAGE_PARENT, IMG_PAGE_FILE, IMG_PAGE_ZERO,
					    IMG_PAGE_LAZY, IMG_PAGE_MISSING };
	uint64_t crow;
	int x = r.x;

	layout(mv, r.w);
	put_fill(r.y, r.x, r.w, role_attr(t, R_HEAD));
	put_text(r.y, r.x + 1, r.w - 1, v->title, strlen(v->title), role_attr(t, R_HEAD));
	for (size_t i = 0; i < sizeof(legend) / sizeof(legend[0]); i++) {
		x += put_text(r.y + 1, x, r.x + r.w - x, legend[i][0], 1, role_attr(t, states[legend_state[i]].role));
		x += put_text(r.y + 1, x, r.x + r.w - x, legend[i][1], strlen(legend[i][1]), role_attr(t, R_DIM));
	}
	mv->rows = r.h - 2;
	v->page = mv->rows;
	if (mv->rows <= 0)
		return;
	crow = row_of(mv, mv->cur);
	if (crow < mv->top)
		mv->top = crow;
	/* the cursor on a mapping's first row: show its header too */
	if (crow == mv->top && crow && mv->rowbase[vma_index(mv, mv->cur)] == crow - 1)
		mv->top = crow - 1;
	if (crow >= mv->top + (uint64_t)mv->rows)
		mv->top = crow - (uint64_t)mv->rows + 1;
	if (mv->top + (uint64_t)mv->rows > nrows(mv))
		mv->top = nrows(mv) > (uint64_t)mv->rows ? nrows(mv) - (uint64_t)mv->rows : 0;
	for (int row = 0; row < mv->rows; row++) {
		uint64_t rr = mv->top + (uint64_t)row, addr;
		int header;
		size_t vi;

		if (rr >= nrows(mv))
			break;
		vi = row_vma(mv, rr, &addr, &header);
		if (header)
			draw_header(t, mv, &mv->mm->vmas[vi], r.y + 2 + row, r);
		else
			draw_row(t, mv, &mv->mm->vmas[vi], addr, r.y + 2 + row, r, focus);
	}
}

/* Move the cursor to the row `row` (a header row: the one after it), keeping the column. */
static void to_row(struct memv *mv, uint64_t row)
{
	uint64_t col = (mv->cur - mv->mm->vmas[vma_index(mv, mv->cur)].start) % (uint64_t)mv->bpr, addr;
	int header;
	size_t vi;

	if (row >= nrows(mv))
		row = nrows(mv) - 1;
	vi = row_vma(mv, row, &addr, &header);
	if (header && row + 1 < nrows(mv))
		vi = row_vma(mv, row + 1, &addr, &header);
	addr += col;
	if (addr >= mv->mm->vmas[vi].end)
		addr = mv->mm->vmas[vi].end - 1;
	mv->cur = addr;
}

static int follow_ptr(struct tui *t, struct memv *mv)
{
	uint64_t at = mv->cur & ~(uint64_t)7, p;
	uint8_t b[8];
	size_t have = 0;
	struct link l = { 0 };

	if (img_mem_read(mv->m, at, b, sizeof(b), &have, NULL) || have < sizeof(b)) {
		tui_msg(t, 1, "the image does not hold the 8 bytes at 0x%llx", (unsigned long long)at);
		return 1;
	}
	p = img_get_u64(b);
	if (!tui_vma(mv->v.task, p)) {
		tui_msg(t, 1, "0x%llx (the word at 0x%llx) points nowhere mapped", (unsigned long long)p,
			(unsigned long long)at);
		return 1;
	}
	l.kind = LINK_ADDR;
	l.task = mv->v.task;
	l.addr = p;
	tui_follow(t, &l);
	return 1;
}

static int mem_key(struct tui *t, struct view *v, int act, int ch)
{
	struct memv *mv = (struct memv *)v;
	size_t vi = vma_index(mv, mv->cur), nv = mv->mm->nvmas;
	const struct img_vma *cv = &mv->mm->vmas[vi];
	uint64_t page = mv->rows > 1 ? (uint64_t)mv->rows - 1 : 1;

	(void)ch;
	switch (act) {
	case ACT_RIGHT:
		if (mv->cur + 1 < cv->end)
			mv->cur++;
		else if (vi + 1 < nv)
			mv->cur = mv->mm->vmas[vi + 1].start;
		return 1;
	case ACT_LEFT:
		if (mv->cur > cv->start)
			mv->cur--;
		else if (vi)
			mv->cur = mv->mm->vmas[vi - 1].end - 1;
		return 1;
	case ACT_DOWN:
		to_row(mv, row_of(mv, mv->cur) + 1);
		return 1;
	case ACT_UP: {
		uint64_t r = row_of(mv, mv->cur);

		if (r >= 2)
			to_row(mv, r - 1 == mv->rowbase[vi] ? r - 2 : r - 1);
		return 1;
	}
	case ACT_PGDN:
		mv->top += page;
		to_row(mv, row_of(mv, mv->cur) + page);
		return 1;
	case ACT_PGUP: {
		uint64_t r = row_of(mv, mv->cur);

		mv->top = mv->top > page ? mv->top - page : 0;
		to_row(mv, r > page ? r - page : 1);
		return 1;
	}
	case ACT_HOME:
		mv->cur = mv->mm->vmas[0].start;
		return 1;
	case ACT_END:
		mv->cur = mv->mm->vmas[nv - 1].start;
		return 1;
	case ACT_NEXT_VMA:
		if (vi + 1 < nv)
			mv->cur = mv->mm->vmas[vi + 1].start;
		return 1;
	case ACT_PREV_VMA:
		mv->cur = mv->cur > cv->start || !vi ? cv->start : mv->mm->vmas[vi - 1].start;
		return 1;
	case ACT_NEXT_RUN: {
		/* the end of the stretch of pages in the cursor's state: the next one (or the next mapping) */
		struct img_mem_run run;
		int st;

		if (img_mem_run(mv->m, mv->cur, cv->end, &run, NULL))
			return 1;
		st = run.state;
		while (run.end < cv->end && run.state == st && !img_mem_run(mv->m, run.end, cv->end, &run, NULL))
			;
		if (run.state != st)
			mv->cur = run.start;
		else if (vi + 1 < nv)
			mv->cur = mv->mm->vmas[vi + 1].start;
		return 1;
	}
	case ACT_PREV_RUN: {
		/* the start of the cursor's stretch; from there, of the one before (or the mapping before) */
		struct img_mem_run run;
		uint64_t a = cv->start, start = cv->start, prev = cv->start;
		int st = -1;

		while (a <= mv->cur && !img_mem_run(mv->m, a, cv->end, &run, NULL)) {
			if (run.state != st) {
				prev = start;
				start = run.start;
				st = run.state;
			}
			if (run.end > mv->cur)
				break;
			a = run.end;
		}
		if (start < mv->cur)
			mv->cur = start;
		else if (start > cv->start)
			mv->cur = prev;
		else if (vi)
			mv->cur = mv->mm->vmas[vi - 1].start;
		return 1;
	}
	case ACT_SELECT:
		mv->sel = !mv->sel;
		mv->anchor = mv->cur;
		tui_msg(t, 0, mv->sel ? "selection started: move to its end, then e exports it" : "selection cleared");
		return 1;
	case ACT_ESC:
		if (!mv->sel && !mv->has_mat)
			return 0;
		mv->sel = 0;
		mv->has_mat = 0;
		return 1;
	case ACT_ENTER:
		return follow_ptr(t, mv);
	}
	return 0;
}

static void mem_status(struct tui *t, struct view *v, struct img_buf *b)
{
	struct memv *mv = (struct memv *)v;
	const struct img_vma *cv = &mv->mm->vmas[vma_index(mv, mv->cur)];
	struct img_mem_run run;
	const char *vn = cv->name[0] ? cv->name : img_vma_kind_name(cv->kind);
	char perm[4];

	(void)t;
	img_buf_printf(b, "pid %u  0x%llx  %s+0x%llx %s%c", v->task->pid, (unsigned long long)mv->cur,
		       vn, (unsigned long long)(mv->cur - cv->start), prot_str(cv->prot, perm), cv->flags & 1 ? 's' : 'p');
	if (!img_mem_run(mv->m, mv->cur, mv->cur + 1, &run, NULL)) {
		img_buf_printf(b, "  %s", img_page_state_name(run.state));
		if (run.source)
			img_buf_printf(b, " (%s)", run.source);
	}
	if (mv->sel) {
		uint64_t lo = mv->anchor < mv->cur ? mv->anchor : mv->cur, hi = mv->anchor < mv->cur ? mv->cur : mv->anchor;

		img_buf_printf(b, "  sel %llu", (unsigned long long)(hi - lo + 1));
	}
	img_buf_addc(b, 0);
	b->len--;
}

/* Search: forward from the byte after the cursor (wrapping), backward in growing windows. */
struct hit {
	uint64_t before;      /* backward: the match must start before this */
	int last;             /* keep the last match, not the first */
	int found;
	struct img_match m;
};

static int on_hit(void *arg, const struct img_match *m)
{
	struct hit *h = arg;

	if (h->last) {
		if (m->addr >= h->before)
			return 1;
		h->m = *m;
		h->found = 1;
		return 0;
	}
	h->m = *m;
	h->found = 1;
	return 1;
}

static int search_range(struct memv *mv, const struct pat *p, uint64_t start, uint64_t end, struct hit *h,
			char *msg, size_t len)
{
	static const int kinds[PAT__COUNT] = { IMG_SEARCH_LITERAL, IMG_SEARCH_HEX, IMG_SEARCH_REGEX };
	struct img_search_opts o = { 0 };
	struct img_search *s;
	struct img_err e = { 0 };
	int r;

	o.kind = kinds[p->kind];
	o.start = start;
	o.end = end;
	if (img_search_new(p->text, &o, &s, &e)) {
		snprintf(msg, len, "%s", e.msg);
		return -1;
	}
	r = img_search_mem(s, mv->m, on_hit, h, &e);
	img_search_free(s);
	if (r < 0) {
		snprintf(msg, len, "%s", e.msg);
		return -1;
	}
	return 0;
}

static int mem_search(struct tui *t, struct view *v, const struct pat *p, int dir)
{
	struct memv *mv = (struct memv *)v;
	uint64_t lo_all = mv->mm->vmas[0].start, hi_all = mv->mm->vmas[mv->mm->nvmas - 1].end;
	uint64_t reach = p->kind == PAT_REGEX ? 4096 : sizeof(p->text);
	struct hit h = { 0 };
	char msg[800] = "";

	if (dir > 0) {
		if (search_range(mv, p, mv->cur + 1, 0, &h, msg, sizeof(msg)))
			goto bad;
		if (!h.found && search_range(mv, p, 0, mv->cur + reach, &h, msg, sizeof(msg)))
			goto bad;
		if (h.found && h.m.addr <= mv->cur)
			tui_msg(t, 0, "search wrapped to the first mapping");
	} else {
		uint64_t before = mv->cur, w = 1 << 20;

		h.last = 1;
		while (!h.found) {
			uint64_t start = before - lo_all > w ? before - w : lo_all;

			h.before = before;
			if (search_range(mv, p, start, before + reach, &h, msg, sizeof(msg)))
				goto bad;
			if (start == lo_all)
				break;
			before = start;
			w *= 4;
		}
		if (!h.found) {
			h.before = UINT64_MAX;
			if (search_range(mv, p, mv->cur + 1, hi_all, &h, msg, sizeof(msg)))
				goto bad;
			if (h.found)
				tui_msg(t, 0, "search wrapped to the last mapping");
		}
	}
	if (!h.found)
		return 0;
	mv->cur = h.m.addr;
	mv->mat = h.m.addr;
	mv->matlen = h.m.len;
	mv->has_mat = 1;
	/* show the match near the top third */
	{
		uint64_t r = row_of(mv, mv->cur), third = mv->rows > 3 ? (uint64_t)mv->rows / 3 : 0;

		mv->top = r > third ? r - third : 0;
	}
	return 1;
bad:
	tui_msg(t, 1, "cannot search: %s", msg);
	return -1;
}

static int mem_addr(struct tui *t, struct view *v, const struct img_task **task, uint64_t *addr)
{
	(void)t;
	*task = v->task;
	*addr = ((struct memv *)v)->cur;
	return 1;
}

static void mem_click(struct tui *t, struct view *v, int row, int col)
{
	struct memv *mv = (struct memv *)v;
	uint64_t rr = mv->top + (uint64_t)(row - 2), addr;
	int header, hex0 = 15, asc0 = row_width(mv->bpr, mv->groups) - mv->bpr, k = -1;
	size_t vi;

	(void)t;
	if (row < 2 || rr >= nrows(mv))
		return;
	vi = row_vma(mv, rr, &addr, &header);
	if (header) {
		mv->cur = mv->mm->vmas[vi].start;
		return;
	}
	if (col >= asc0) {
		k = col - asc0;
	} else if (col >= hex0) {
		int c = col - hex0;

		for (int i = 0; i < mv->bpr; i++) {
			int at = 3 * i + (mv->groups ? i / 8 : 0);

			if (c >= at && c < at + 3)
				k = i;
		}
	}
	if (k < 0 || k >= mv->bpr)
		k = 0;
	mv->cur = addr + (uint64_t)k < mv->mm->vmas[vi].end ? addr + (uint64_t)k : mv->mm->vmas[vi].end - 1;
}

static int mem_export(struct tui *t, struct view *v);

static void mem_free(struct view *v)
{
	struct memv *mv = (struct memv *)v;

	img_free(mv->rowbase);
	img_free(mv);
}

static const struct view_ops mem_ops = {
	.name = "memory",
	.min_w = 80,
	.draw = mem_draw,
	.key = mem_key,
	.search = mem_search,
	.addr = mem_addr,
	.export = mem_export,
	.status = mem_status,
	.click = mem_click,
	.free = mem_free,
};

int mem_view_goto(struct tui *t, struct view *v, uint64_t addr)
{
	struct memv *mv = (struct memv *)v;
	uint64_t r, third;

	if (v->ops != &mem_ops)
		return -1;
	if (!tui_vma(v->task, addr)) {
		tui_msg(t, 1, "0x%llx is not mapped in pid %u", (unsigned long long)addr, v->task->pid);
		return -1;
	}
	mv->cur = addr;
	r = row_of(mv, addr);
	third = mv->rows > 3 ? (uint64_t)mv->rows / 3 : 2;
	mv->top = r > third ? r - third : 0;
	return 0;
}

struct view *mem_view(struct tui *t, const struct img_task *task, uint64_t addr)
{
	struct memv *mv;
	char msg[300];

	if (!task->mm || !task->mm->nvmas) {
		tui_msg(t, 1, "pid %u has no memory in the checkpoint", task->pid);
		return NULL;
	}
	mv = img_calloc(1, sizeof(*mv));
	if (!mv)
		return NULL;
	mv->v.ops = &mem_ops;
	mv->v.task = task;
	mv->mm = task->mm;
	mv->m = tui_mem(t, task, msg, sizeof(msg));
	mv->rowbase = img_calloc(task->mm->nvmas + 1, sizeof(*mv->rowbase));
	if (!mv->m || !mv->rowbase) {
		if (!mv->m)
			tui_msg(t, 1, "%s", msg);
		mem_free(&mv->v);
		return NULL;
	}
	snprintf(mv->v.title, sizeof(mv->v.title), "memory of pid %u %s", task->pid, task->comm);
	layout(mv, t->s.cols > 0 ? t->s.cols : 80);
	mv->rows = t->s.rows > 7 ? t->s.rows - 5 : 2;
	if (!tui_vma(task, addr))
		addr = task->mm->vmas[0].start;
	mem_view_goto(t, &mv->v, addr);
	return &mv->v;
}

/* e: the selection, or a range asked for, to a file (FILE.json: as JSON). */
static int mem_export(struct tui *t, struct view *v)
{
	struct memv *mv = (struct memv *)v;
	char range[128], path[512];
	uint64_t addr, len;

	if (mv->sel) {
		addr = mv->anchor < mv->cur ? mv->anchor : mv->cur;
		len = (mv->anchor < mv->cur ? mv->cur : mv->anchor) - addr + 1;
	} else {
		char *sp;

		snprintf(range, sizeof(range), "0x%llx 256", (unsigned long long)mv->cur);
		if (!prompt(t, "export ADDR LEN", range, sizeof(range), NULL))
			return 1;
		sp = strpbrk(range, " \t");
		if (sp)
			*sp++ = 0;
		while (sp && (*sp == ' ' || *sp == '\t'))
			sp++;
		if (img_parse_addr(range, &addr) || (sp && *sp && img_parse_size(sp, &len)) || (!sp || !*sp)) {
			tui_msg(t, 1, "give an address and a length: 0x7f0000001000 4k");
			return 1;
		}
		if (!len) {
			tui_msg(t, 1, "the length is zero");
			return 1;
		}
	}
	snprintf(path, sizeof(path), "pid%u-%llx.bin", v->task->pid, (unsigned long long)addr);
	if (!prompt(t, "export to file", path, sizeof(path), NULL) || !path[0])
		return 1;
	if (!export_mem(t, v->task, addr, len, path)) {
		mv->sel = 0;
		tui_msg(t, 0, "wrote %llu bytes from 0x%llx to %s", (unsigned long long)len, (unsigned long long)addr,
			path);
	}
	return 1;
}
