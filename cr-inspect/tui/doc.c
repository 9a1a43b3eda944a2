/* Documents (lines with links) and the line view that shows them, scrolls and searches them. */
#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

int tui_grow(void *p, size_t n, size_t *cap, size_t size)
{
	void **arr = p, *na;
	size_t c = *cap ? 2 * *cap : 64;

	if (n < *cap)
		return 0;
	na = img_realloc(*arr, c * size);
	if (!na)
		return -1;
	*arr = na;
	*cap = c;
	return 0;
}

void doc_init(struct doc *d)
{
	memset(d, 0, sizeof(*d));
	img_arena_init(&d->a);
}

void doc_free(struct doc *d)
{
	img_free(d->l);
	img_arena_free(&d->a);
	memset(d, 0, sizeof(*d));
}

struct dline *doc_add(struct doc *d, int role, const struct link *link, const char *fmt, ...)
{
	struct dline *l;
	va_list ap;
	char buf[1024];
	int n;

	if (TUI_GROW(d->l, d->n, d->cap))
		return NULL;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	l = &d->l[d->n];
	memset(l, 0, sizeof(*l));
	l->text = img_arena_strndup(&d->a, buf, (size_t)n);
	if (!l->text)
		return NULL;
	l->role = (uint8_t)role;
	if (link)
		l->link = *link;
	d->n++;
	return l;
}

void doc_add_json(struct doc *d, const char *indent, const struct img_msg *m)
{
	struct img_buf b;
	struct img_out o;
	struct img_jw w;
	size_t s = 0;

	if (!m)
		return;
	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_jw_init(&w, &o, 4);
	img_msg_to_json(&w, m, 1, 0);
	img_out_flush(&o);
	for (size_t i = 0; i <= b.len; i++) {
		if (i < b.len && b.data[i] != '\n')
			continue;
		doc_add(d, R_NORMAL, NULL, "%s%.*s", indent, (int)(i - s), (const char *)b.data + s);
		s = i + 1;
	}
	img_buf_free(&b);
}

/* The line view over a document. */
static size_t doc_count(struct listv *l)
{
	return l->doc.n;
}

static void doc_line(struct listv *l, size_t i, struct img_buf *b, int *role, struct link *link)
{
	const struct dline *dl = &l->doc.l[i];

	img_buf_adds(b, dl->text);
	*role = dl->role;
	*link = dl->link;
}

void listv_init(struct listv *l, const struct view_ops *ops)
{
	memset(l, 0, sizeof(*l));
	l->v.ops = ops;
	l->count = doc_count;
	l->line = doc_line;
	doc_init(&l->doc);
}

struct view *doc_view_new(const char *title, struct doc *d)
{
	struct listv *l = img_calloc(1, sizeof(*l));

	if (!l) {
		doc_free(d);
		return NULL;
	}
	listv_init(l, &listv_ops);
	doc_free(&l->doc);
	l->doc = *d;
	snprintf(l->v.title, sizeof(l->v.title), "%s", title);
	return &l->v;
}

void listv_free(struct view *v)
{
	struct listv *l = (struct listv *)v;

	doc_free(&l->doc);
	img_free(l);
}

void listv_move(struct listv *l, size_t to)
{
	size_t n = l->count(l);

	l->v.cur = n == 0 ? 0 : to >= n ? n - 1 : to;
}

/* The line's text, role and link. */
static void get_line(struct listv *l, size_t i, struct img_buf *b, int *role, struct link *link)
{
	b->len = 0;
	*role = R_NORMAL;
	memset(link, 0, sizeof(*link));
	l->line(l, i, b, role, link);
	img_buf_addc(b, 0);
	b->len--;
}

void listv_draw(struct tui *t, struct view *v, struct rect r, int focus)
{
	struct listv *l = (struct listv *)v;
	size_t n = l->count(l);
	struct img_buf b;
	int rows = r.h - 1;

	put_fill(r.y, r.x, r.w, role_attr(t, R_HEAD));
	put_text(r.y, r.x + 1, r.w - 1, v->title, strlen(v->title), role_attr(t, R_HEAD));
	if (rows <= 0)
		return;
	v->page = rows;
	if (v->cur >= n)
		v->cur = n ? n - 1 : 0;
	if (v->cur < v->top)
		v->top = v->cur;
	if (v->cur >= v->top + (size_t)rows)
		v->top = v->cur - (size_t)rows + 1;
	if (v->top + (size_t)rows > n)
		v->top = n > (size_t)rows ? n - (size_t)rows : 0;
	img_buf_init(&b);
	for (int row = 0; row < rows; row++) {
		size_t i = v->top + (size_t)row;
		struct link link;
		int role, attr, y = r.y + 1 + row, x = r.x;

		if (i >= n)
			break;
		get_line(l, i, &b, &role, &link);
		attr = role_attr(t, role);
		if (i == v->cur)
			attr = focus ? role_attr(t, R_CURSOR) : role_attr(t, R_SELECT);
		put_fill(y, r.x, r.w, i == v->cur ? attr : role_attr(t, R_NORMAL));
		put_text(y, x, 2, link.kind ? "> " : "  ", 2,
			 i == v->cur ? attr : role_attr(t, link.kind ? R_LINK : R_NORMAL));
		x += 2;
		if (v->has_match && v->match_line == i && v->match_off + v->match_len <= b.len) {
			x += put_text(y, x, r.x + r.w - x, (const char *)b.data, v->match_off, attr);
			x += put_text(y, x, r.x + r.w - x, (const char *)b.data + v->match_off, v->match_len,
				      role_attr(t, R_MATCH));
			put_text(y, x, r.x + r.w - x, (const char *)b.data + v->match_off + v->match_len,
				 b.len - v->match_off - v->match_len, attr);
		} else {
			put_text(y, x, r.x + r.w - x, (const char *)b.data, b.len, attr);
		}
	}
	img_buf_free(&b);
}

int listv_key(struct tui *t, struct view *v, int act, int ch)
{
	struct listv *l = (struct listv *)v;
	size_t n = l->count(l), page = v->page > 1 ? (size_t)v->page - 1 : 1;

	(void)t;
	(void)ch;
	switch (act) {
	case ACT_UP:
		if (v->cur)
			v->cur--;
		return 1;
	case ACT_DOWN:
		listv_move(l, v->cur + 1);
		return 1;
	case ACT_PGUP:
		v->cur = v->cur > page ? v->cur - page : 0;
		v->top = v->top > page ? v->top - page : 0;
		return 1;
	case ACT_PGDN:
		listv_move(l, v->cur + page);
		if (v->top + 2 * page < n)
			v->top += page;
		return 1;
	case ACT_HOME:
		v->cur = 0;
		return 1;
	case ACT_END:
		listv_move(l, n ? n - 1 : 0);
		return 1;
	case ACT_ENTER:
	case ACT_RIGHT:
		return v->ops->follow ? v->ops->follow(t, v) : 0;
	}
	return 0;
}

static void line_text(void *arg, size_t i, struct img_buf *b)
{
	struct link link;
	int role;

	get_line(arg, i, b, &role, &link);
}

int listv_search(struct tui *t, struct view *v, const struct pat *p, int dir)
{
	struct listv *l = (struct listv *)v;
	size_t i, off, len;

	(void)t;
	i = pattern_find(p, l->count(l), v->cur, dir, line_text, l, &off, &len);
	if (i == SIZE_MAX)
		return 0;
	v->cur = i;
	v->has_match = 1;
	v->match_line = i;
	v->match_off = off;
	v->match_len = len;
	return 1;
}

int listv_follow(struct tui *t, struct view *v)
{
	struct listv *l = (struct listv *)v;
	struct img_buf b;
	struct link link;
	int role;

	if (v->cur >= l->count(l))
		return 0;
	img_buf_init(&b);
	get_line(l, v->cur, &b, &role, &link);
	img_buf_free(&b);
	if (!link.kind) {
		tui_msg(t, 0, "nothing to follow on this line");
		return 1;
	}
	tui_follow(t, &link);
	return 1;
}

int listv_addr(struct tui *t, struct view *v, const struct img_task **task, uint64_t *addr)
{
	struct listv *l = (struct listv *)v;
	struct img_buf b;
	struct link link;
	int role;

	(void)t;
	if (v->cur >= l->count(l))
		return 0;
	img_buf_init(&b);
	get_line(l, v->cur, &b, &role, &link);
	img_buf_free(&b);
	if (link.kind != LINK_ADDR || !link.task)
		return 0;
	*task = link.task;
	*addr = link.addr;
	return 1;
}

void listv_click(struct tui *t, struct view *v, int row, int col)
{
	struct listv *l = (struct listv *)v;

	(void)t;
	(void)col;
	if (row >= 1)
		listv_move(l, v->top + (size_t)row - 1);
}

void listv_status(struct tui *t, struct view *v, struct img_buf *b)
{
	struct listv *l = (struct listv *)v;
	size_t n = l->count(l);
	struct img_buf lb;
	struct link link;
	int role;

	(void)t;
	img_buf_printf(b, "line %zu/%zu", n ? v->cur + 1 : 0, n);
	if (v->cur >= n)
		return;
	img_buf_init(&lb);
	get_line(l, v->cur, &lb, &role, &link);
	img_buf_free(&lb);
	switch (link.kind) {
	case LINK_ADDR:
		img_buf_printf(b, "  Enter: memory at 0x%llx", (unsigned long long)link.addr);
		break;
	case LINK_FILE:
		img_buf_printf(b, "  Enter: file entry %u", link.file->id);
		break;
	case LINK_IMAGE:
		img_buf_printf(b, "  Enter: %s as JSON", link.member);
		break;
	case LINK_MSG:
		img_buf_printf(b, "  Enter: %s as JSON", link.member ? link.member : "the entry");
		break;
	case LINK_NODE:
	case LINK_TASK:
		img_buf_adds(b, "  Enter: go there");
		break;
	}
}

static int listv_export(struct tui *t, struct view *v);

const struct view_ops listv_ops = {
	.name = "text",
	.min_w = 40,
	.draw = listv_draw,
	.key = listv_key,
	.search = listv_search,
	.follow = listv_follow,
	.addr = listv_addr,
	.export = listv_export,
	.status = listv_status,
	.click = listv_click,
	.free = listv_free,
};

/* Export of a text view: its lines, and where each leads, as JSON. */
static void doc_json(void *arg, struct img_jw *w)
{
	struct listv *l = arg;
	size_t n = l->count(l);
	struct img_buf b;

	img_buf_init(&b);
	img_jw_obj_begin(w);
	img_jw_kv_str(w, "view", l->v.title);
	img_jw_key(w, "lines");
	img_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++) {
		struct link link;
		int role;

		get_line(l, i, &b, &role, &link);
		if (link.kind == LINK_ADDR && link.task) {
			char a[24];

			img_jw_obj_begin(w);
			img_jw_key(w, "text");
			img_jw_strn(w, (const char *)b.data, b.len);
			img_jw_kv_u64(w, "pid", link.task->pid);
			snprintf(a, sizeof(a), "0x%llx", (unsigned long long)link.addr);
			img_jw_kv_str(w, "addr", a);
			img_jw_obj_end(w);
		} else {
			img_jw_strn(w, (const char *)b.data, b.len);
		}
	}
	img_jw_arr_end(w);
	img_jw_obj_end(w);
	img_buf_free(&b);
}

static int listv_export(struct tui *t, struct view *v)
{
	export_json_ask(t, "view.json", doc_json, v);
	return 1;
}
