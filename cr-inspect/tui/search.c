/*
 * Search patterns: text (case-insensitive in text views, exact bytes in
 * memory), hex bytes, POSIX extended regular expressions.  Memory is searched
 * by libimg's img_search; s lists the matches of every task.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui.h"

#define MAX_RESULTS 2000

const char *pattern_kind_name(int kind)
{
	static const char *const names[PAT__COUNT] = { "text", "hex", "regex" };

	return kind >= 0 && kind < PAT__COUNT ? names[kind] : "?";
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int pattern_compile(struct pat *p, char *msg, size_t len)
{
	p->re_ok = 0;
	p->nbytes = 0;
	if (!p->text[0]) {
		snprintf(msg, len, "the pattern is empty");
		return -1;
	}
	if (p->kind == PAT_HEX) {
		int hi = -1;

		for (const char *s = p->text; *s; s++) {
			int v = hexval((unsigned char)*s);

			if (isspace((unsigned char)*s) && hi < 0)
				continue;
			if (v < 0) {
				snprintf(msg, len, "'%s' is not hex bytes (\"de ad be ef\")", p->text);
				return -1;
			}
			if (hi < 0) {
				hi = v;
				continue;
			}
			if (p->nbytes == sizeof(p->bytes)) {
				snprintf(msg, len, "at most %zu hex bytes", sizeof(p->bytes));
				return -1;
			}
			p->bytes[p->nbytes++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
		if (hi >= 0 || !p->nbytes) {
			snprintf(msg, len, "'%s' is not whole hex bytes", p->text);
			return -1;
		}
	}
	if (p->kind == PAT_REGEX) {
		int r = regcomp(&p->re, p->text, REG_EXTENDED);

		if (r) {
			char e[200];

			regerror(r, &p->re, e, sizeof(e));
			snprintf(msg, len, "bad regular expression: %s", e);
			return -1;
		}
		p->re_ok = 1;
	}
	p->set = 1;
	return 0;
}

void pattern_free(struct pat *p)
{
	if (p->re_ok)
		regfree(&p->re);
	p->re_ok = 0;
	p->set = 0;
}

/* In text, hex bytes are looked for as the hex digits the views print ("7fda0e" in "0x7fda0e030545"). */
int pattern_match(const struct pat *p, const char *s, size_t *off, size_t *len)
{
	const char *h;

	switch (p->kind) {
	case PAT_TEXT:
		h = strcasestr(s, p->text);
		if (!h)
			return 0;
		*off = (size_t)(h - s);
		*len = strlen(p->text);
		return 1;
	case PAT_HEX: {
		char hex[2 * sizeof(p->bytes) + 1];

		for (size_t i = 0; i < p->nbytes; i++)
			snprintf(hex + 2 * i, 3, "%02x", p->bytes[i]);
		h = strcasestr(s, hex);
		if (!h)
			return 0;
		*off = (size_t)(h - s);
		*len = 2 * p->nbytes;
		return 1;
	}
	case PAT_REGEX: {
		regmatch_t m;

		if (!p->re_ok || regexec(&p->re, s, 1, &m, 0))
			return 0;
		*off = (size_t)m.rm_so;
		*len = (size_t)(m.rm_eo - m.rm_so);
		return 1;
	}
	}
	return 0;
}

size_t pattern_find(const struct pat *p, size_t n, size_t at, int dir, void (*text)(void *arg, size_t i, struct img_buf *b),
		void *arg, size_t *off, size_t *len)
{
	size_t found = SIZE_MAX;
	struct img_buf b;

	img_buf_init(&b);
	for (size_t k = 1; k <= n && found == SIZE_MAX; k++) {
		size_t i = dir > 0 ? (at + k) % n : (at + n - k % n) % n;

		b.len = 0;
		text(arg, i, &b);
		img_buf_addc(&b, 0);
		if (!b.failed && pattern_match(p, (const char *)b.data, off, len))
			found = i;
	}
	img_buf_free(&b);
	return found;
}

/* s: every task's memory; one line per match with its context. */
struct results {
	struct tui *t;
	struct doc *d;
	struct img_mem *m;
	size_t n;
};

static int on_result(void *arg, const struct img_match *mt)
{
	struct results *rs = arg;
	struct link l = { .kind = LINK_ADDR, .task = mt->task, .addr = mt->addr };
	const struct img_vma *v = mt->vma;
	uint8_t ctx[40];
	char text[48];
	size_t have = 0;

	img_mem_read(rs->m, mt->addr, ctx, sizeof(ctx), &have, NULL);
	for (size_t i = 0; i < sizeof(ctx); i++)
		text[i] = i < have && ctx[i] >= 0x20 && ctx[i] < 0x7f ? (char)ctx[i] : '.';
	text[sizeof(ctx)] = 0;
	doc_add(rs->d, R_NORMAL, &l, "pid %-5u 0x%012llx %-7s %-8s %-24.24s %s", mt->task->pid,
		(unsigned long long)mt->addr, v ? img_vma_kind_name(v->kind) : "?",
		img_page_state_name(mt->state), v && v->name[0] ? v->name : "", text);
	return ++rs->n >= MAX_RESULTS;
}

struct view *results_view(struct tui *t, const struct pat *p, char *msg, size_t len)
{
	static const int kinds[PAT__COUNT] = { IMG_SEARCH_LITERAL, IMG_SEARCH_HEX, IMG_SEARCH_REGEX };
	const struct img_task *const *tasks;
	struct img_search_opts o = { 0 };
	struct img_search *s;
	struct img_err e = { 0 };
	struct results rs = { t, NULL, NULL, 0 };
	struct doc d;
	struct view *v;
	char title[300];
	size_t nt;
	int stopped = 0;

	o.kind = kinds[p->kind];
	if (img_search_new(p->text, &o, &s, &e)) {
		snprintf(msg, len, "cannot search: %s", e.msg);
		return NULL;
	}
	doc_init(&d);
	rs.d = &d;
	tasks = img_ckpt_tasks(t->ck, &nt);
	for (size_t i = 0; i < nt && !stopped; i++) {
		int r;

		if (!tasks[i]->mm || !(rs.m = tui_mem(t, tasks[i], msg, len)))
			continue;
		r = img_search_mem(s, rs.m, on_result, &rs, &e);
		if (r < 0) {
			char es[1100];

			doc_add(&d, R_ERROR, NULL, "pid %u: %s", tasks[i]->pid, img_err_str(&e, es, sizeof(es)));
		}
		stopped = r > 0;
	}
	img_search_free(s);
	snprintf(title, sizeof(title), "%zu%s match%s of %s '%s' in memory", rs.n, stopped ? " (the first)" : "",
		 rs.n == 1 ? "" : "es", pattern_kind_name(p->kind), p->text);
	if (!rs.n)
		doc_add(&d, R_DIM, NULL, "%s", "no match");
	v = doc_view_new(title, &d);
	return v;
}
