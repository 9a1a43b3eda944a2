/* Marks: addresses of a task with a note; listed with ', kept in --marks FILE (JSON) when given. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

#define MAX_MARKS 10000

int marks_add(struct tui *t, const struct img_task *task, uint64_t addr, const char *note)
{
	struct mark *m;

	if (t->nmarks >= MAX_MARKS)
		return -ENOSPC;
	m = img_realloc(t->marks, (t->nmarks + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	t->marks = m;
	m = &t->marks[t->nmarks];
	m->pid = task->pid;
	m->addr = addr;
	m->note = img_strdup(note);
	if (!m->note)
		return -ENOMEM;
	t->nmarks++;
	return 0;
}

static void marks_del(struct tui *t, size_t i)
{
	if (i >= t->nmarks)
		return;
	img_free(t->marks[i].note);
	memmove(&t->marks[i], &t->marks[i + 1], (t->nmarks - i - 1) * sizeof(*t->marks));
	t->nmarks--;
}

void marks_free(struct tui *t)
{
	for (size_t i = 0; i < t->nmarks; i++)
		img_free(t->marks[i].note);
	img_free(t->marks);
	t->marks = NULL;
	t->nmarks = 0;
}

const struct mark *marks_at(struct tui *t, uint32_t pid, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < t->nmarks; i++)
		if (t->marks[i].pid == pid && t->marks[i].addr >= start && t->marks[i].addr < end)
			return &t->marks[i];
	return NULL;
}

static void marks_json(void *arg, struct img_jw *w)
{
	struct tui *t = arg;

	img_jw_obj_begin(w);
	img_jw_kv_str(w, "checkpoint", t->path);
	img_jw_key(w, "marks");
	img_jw_arr_begin(w);
	for (size_t i = 0; i < t->nmarks; i++) {
		char a[24];

		img_jw_obj_begin(w);
		img_jw_kv_u64(w, "pid", t->marks[i].pid);
		snprintf(a, sizeof(a), "0x%llx", (unsigned long long)t->marks[i].addr);
		img_jw_kv_str(w, "addr", a);
		img_jw_kv_str(w, "note", t->marks[i].note);
		img_jw_obj_end(w);
	}
	img_jw_arr_end(w);
	img_jw_obj_end(w);
}

int marks_save(struct tui *t, char *msg, size_t len)
{
	if (!t->marks_file)
		return 0;
	if (export_json(t, t->marks_file, marks_json, t)) {
		snprintf(msg, len, "%s", t->msg);
		return -1;
	}
	return 0;
}

/* Read --marks FILE; a file that is not there yet is an empty list. */
int marks_load(struct tui *t, char *msg, size_t len)
{
	struct img_src *src;
	struct img_err e = { 0 };
	struct img_arena a;
	struct img_jv *root, *arr;
	char es[1100];
	int r = 0;

	if (!t->marks_file)
		return 0;
	if (img_src_open(t->marks_file, &src, &e)) {
		if (e.code == ENOENT)
			return 0;
		snprintf(msg, len, "cannot read '%s': %s", t->marks_file, img_err_str(&e, es, sizeof(es)));
		return -1;
	}
	img_arena_init(&a);
	root = img_json_parse(&a, (const char *)src->data, src->size, &e);
	arr = root ? img_jv_get(root, "marks") : NULL;
	if (!root) {
		snprintf(msg, len, "cannot read '%s': %s", t->marks_file, e.msg);
		r = -1;
	} else if (!arr || arr->type != IMG_JV_ARR) {
		snprintf(msg, len, "cannot read '%s': no \"marks\" list", t->marks_file);
		r = -1;
	}
	for (size_t i = 0; !r && i < arr->a.n; i++) {
		const struct img_jv *m = arr->a.v[i], *pid = img_jv_get(m, "pid"), *addr = img_jv_get(m, "addr");
		const struct img_jv *note = img_jv_get(m, "note");
		const struct img_task *task;
		uint64_t p, ad;

		if (!pid || img_jv_u64(pid, &p) || !addr || addr->type != IMG_JV_STR ||
		    img_parse_addr(addr->s.s, &ad) || (note && note->type != IMG_JV_STR)) {
			snprintf(msg, len, "cannot read '%s': mark %zu needs a pid, an \"addr\" string and a note",
				 t->marks_file, i);
			r = -1;
			break;
		}
		task = p <= UINT32_MAX ? img_ckpt_task(t->ck, (uint32_t)p) : NULL;
		if (!task) {
			snprintf(msg, len, "cannot read '%s': mark %zu: no task with pid %llu in the checkpoint",
				 t->marks_file, i, (unsigned long long)p);
			r = -1;
			break;
		}
		if (marks_add(t, task, ad, note ? note->s.s : "")) {
			snprintf(msg, len, "cannot read '%s': too many marks", t->marks_file);
			r = -1;
		}
	}
	img_arena_free(&a);
	img_src_unref(src);
	return r;
}

/* The list of marks. */
static void marks_doc(struct tui *t, struct doc *d)
{
	doc_add(d, R_HEAD, NULL, "%zu mark%s%s%s", t->nmarks, t->nmarks == 1 ? "" : "s",
		t->marks_file ? ", kept in " : "", t->marks_file ? t->marks_file : "");
	if (!t->nmarks)
		doc_add(d, R_DIM, NULL, "%s", "  none yet: m marks the address under the cursor");
	for (size_t i = 0; i < t->nmarks; i++) {
		const struct mark *m = &t->marks[i];
		const struct img_task *task = img_ckpt_task(t->ck, m->pid);
		const struct img_vma *v = tui_vma(task, m->addr);
		struct link l = { .kind = LINK_ADDR, .task = task, .addr = m->addr };
		char where[300] = "not mapped";

		if (v)
			snprintf(where, sizeof(where), "%s+0x%llx", v->name[0] ? v->name : img_vma_kind_name(v->kind),
				 (unsigned long long)(m->addr - v->start));
		doc_add(d, R_NORMAL, task ? &l : NULL, "pid %u  0x%llx  %s  %s", m->pid, (unsigned long long)m->addr,
			m->note, where);
	}
}

static int marks_key(struct tui *t, struct view *v, int act, int ch)
{
	struct listv *l = (struct listv *)v;
	char msg[600];

	if (act != ACT_DELETE)
		return listv_key(t, v, act, ch);
	if (v->cur == 0 || v->cur > t->nmarks) {
		tui_msg(t, 0, "put the cursor on a mark to delete it");
		return 1;
	}
	marks_del(t, v->cur - 1);
	doc_free(&l->doc);
	doc_init(&l->doc);
	marks_doc(t, &l->doc);
	listv_move(l, v->cur);
	if (marks_save(t, msg, sizeof(msg)))
		tui_msg(t, 1, "%s", msg);
	else
		tui_msg(t, 0, "mark deleted");
	return 1;
}

static int marks_export(struct tui *t, struct view *v)
{
	(void)v;
	export_json_ask(t, "marks.json", marks_json, t);
	return 1;
}

static const struct view_ops marks_ops = {
	.name = "marks",
	.min_w = 40,
	.draw = listv_draw,
	.key = marks_key,
	.search = listv_search,
	.follow = listv_follow,
	.addr = listv_addr,
	.export = marks_export,
	.status = listv_status,
	.click = listv_click,
	.free = listv_free,
};

struct view *marks_view(struct tui *t)
{
	struct doc d;
	struct view *v;

	doc_init(&d);
	marks_doc(t, &d);
	v = doc_view_new("marks", &d);
	if (v) {
		v->ops = &marks_ops;
		v->cur = t->nmarks ? 1 : 0;
	}
	return v;
}
