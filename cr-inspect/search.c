/* search CKPT PATTERN: every match in the tasks' memory, with its task, address, mapping and context. */
#include <stdlib.h>
#include <string.h>

#include "cr-inspect.h"

#define MAX_CONTEXT 4096

struct search_opts {
	struct img_cli *c;
	const struct img_cmd *cmd;
	struct img_search_opts so;
	uint32_t pid;
	int have_pid;
	uint64_t context;
	const char *root;
	int count_only;
};

static int parse_kinds(const char *s, unsigned *kinds)
{
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int k;

		for (k = 0; k < IMG_VMA__COUNT; k++)
			if (!strcmp(tok, img_vma_kind_name(k)))
				break;
		if (k == IMG_VMA__COUNT)
			return -1;
		*kinds |= 1u << k;
	}
	return 0;
}

static int search_opt(void *arg, int opt, const char *val)
{
	struct search_opts *s = arg;

	switch (opt) {
	case 'P':
		s->have_pid = 1;
		return parse_pid(s->c, s->cmd, val, &s->pid);
	case 'G':
		s->so.kind = IMG_SEARCH_REGEX;
		return 0;
	case 'x':
		s->so.kind = IMG_SEARCH_HEX;
		return 0;
	case 'i':
		s->so.icase = 1;
		return 0;
	case 'n':
		s->count_only = 1;
		return 0;
	case 'C':
		if (img_parse_size(val, &s->context) || s->context > MAX_CONTEXT)
			return img_cmd_usage(s->c, s->cmd, "'%s' is not a context size up to %d", val, MAX_CONTEXT);
		return 0;
	case 'M': {
		uint64_t v;

		if (img_parse_size(val, &v) || !v || v > (64u << 10))
			return img_cmd_usage(s->c, s->cmd, "'%s' is not a length up to 64k", val);
		s->so.max_len = (size_t)v;
		return 0;
	}
	case 'O': {
		uint64_t v;

		if (img_parse_addr(val, &v) || v > 86400 * 365)
			return img_cmd_usage(s->c, s->cmd, "'%s' is not a number of seconds", val);
		s->so.timeout_ms = v ? (uint32_t)(v * 1000) : IMG_SEARCH_NO_TIMEOUT;
		return 0;
	}
	case 'V':
		if (parse_kinds(val, &s->so.vma_kinds))
			return img_cmd_usage(s->c, s->cmd, "'%s' is not a list of heap, stack, anon, file, shared, vdso, vvar, vsyscall, other", val);
		return 0;
	case 'T':
		for (const char *p = val; *p; p++) {
			if (*p == 'r')
				s->so.prot_need |= 1;
			else if (*p == 'w')
				s->so.prot_need |= 2;
			else if (*p == 'x')
				s->so.prot_need |= 4;
			else if (*p != '-')
				return img_cmd_usage(s->c, s->cmd, "'%s' is not a protection like rw or r-x", val);
		}
		return 0;
	case 'A': {
		char buf[64], *dash;

		snprintf(buf, sizeof(buf), "%s", val);
		dash = strchr(buf, '-');
		if (dash)
			*dash = 0;
		if (img_parse_addr(buf, &s->so.start) || (dash && img_parse_addr(dash + 1, &s->so.end)) ||
		    (dash && s->so.end <= s->so.start))
			return img_cmd_usage(s->c, s->cmd, "'%s' is not an address range A-B", val);
		return 0;
	}
	case 'R':
		s->root = val;
		return 0;
	}
	return 2;
}

static const struct option search_longopts[] = {
	{ "pid", required_argument, NULL, 'P' },
	{ "regex", no_argument, NULL, 'G' },
	{ "hex", no_argument, NULL, 'x' },
	{ "ignore-case", no_argument, NULL, 'i' },
	{ "count", no_argument, NULL, 'n' },
	{ "context", required_argument, NULL, 'C' },
	{ "max-len", required_argument, NULL, 'M' },
	{ "timeout", required_argument, NULL, 'O' },
	{ "vma", required_argument, NULL, 'V' },
	{ "prot", required_argument, NULL, 'T' },
	{ "addr", required_argument, NULL, 'A' },
	{ "root", required_argument, NULL, 'R' },
	{ NULL, 0, NULL, 0 },
};

struct found {
	struct search_opts *s;
	struct out *o;
	struct img_mem *m;
	uint64_t n;
	uint8_t *ctx;
};

static void text_bytes(struct img_out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		img_out_putc(o, p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
}

static int on_match(void *arg, const struct img_match *mt)
{
	struct found *f = arg;
	struct out *o = f->o;
	const struct img_vma *v = mt->vma;
	uint64_t before = f->s->context, after = f->s->context, start;
	size_t total;
	char perm[4];

	f->n++;
	if (f->s->count_only)
		return 0;
	/* context stays inside the mapping */
	if (v && mt->addr - v->start < before)
		before = mt->addr - v->start;
	if (v && v->end - (mt->addr + mt->len) < after)
		after = v->end - (mt->addr + mt->len);
	start = mt->addr - before;
	total = (size_t)(before + mt->len + after);
	if (!f->ctx || img_mem_read(f->m, start, f->ctx, total, NULL, NULL))
		return 0;
	prot_str(v ? v->prot : 0, perm);
	if (o->json) {
		img_jw_obj_begin(&o->w);
		img_jw_kv_u64(&o->w, "pid", mt->task->pid);
		jw_hex(&o->w, "addr", mt->addr);
		img_jw_kv_u64(&o->w, "len", mt->len);
		img_jw_kv_str(&o->w, "state", img_page_state_name(mt->state));
		if (v) {
			img_jw_key(&o->w, "vma");
			img_jw_obj_begin(&o->w);
			jw_hex(&o->w, "start", v->start);
			jw_hex(&o->w, "end", v->end);
			img_jw_kv_str(&o->w, "prot", perm);
			img_jw_kv_str(&o->w, "kind", img_vma_kind_name(v->kind));
			img_jw_kv_str(&o->w, "name", v->name);
			img_jw_obj_end(&o->w);
		}
		img_jw_key(&o->w, "before");
		img_jw_strn(&o->w, (const char *)f->ctx, (size_t)before);
		img_jw_key(&o->w, "match");
		img_jw_strn(&o->w, (const char *)f->ctx + before, mt->len);
		img_jw_key(&o->w, "after");
		img_jw_strn(&o->w, (const char *)f->ctx + before + mt->len, (size_t)after);
		img_jw_obj_end(&o->w);
		return 0;
	}
	img_out_printf(&o->o, "pid %u 0x%llx %s %s %s +0x%llx: ", mt->task->pid, (unsigned long long)mt->addr,
		       v ? img_vma_kind_name(v->kind) : "?", perm, v && v->name[0] ? v->name : "-",
		       (unsigned long long)(v ? mt->addr - v->start : 0));
	text_bytes(&o->o, f->ctx, (size_t)before);
	img_out_putc(&o->o, '[');
	text_bytes(&o->o, f->ctx + before, mt->len);
	img_out_putc(&o->o, ']');
	text_bytes(&o->o, f->ctx + before + mt->len, (size_t)after);
	img_out_putc(&o->o, '\n');
	return 0;
}

int cmd_search(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	struct search_opts s = { .c = c, .cmd = cmd, .context = 16 };
	const struct img_task *const *tasks, *one = NULL;
	struct img_search *srch = NULL;
	struct img_err e = { 0 };
	struct img_ckpt *ck;
	struct found f = { 0 };
	struct out o;
	char *pos[2];
	size_t n;
	int npos, r;

	r = parse_explorer(c, cmd, argc, argv, "ixC:", search_longopts, search_opt, &s, pos, 2, 2, &npos);
	if (r)
		return r < 0 ? 0 : r;
	if (img_search_new(pos[1], &s.so, &srch, &e))
		return img_cli_fail(c, "search for", &e);
	r = open_ckpt(c, pos[0], &ck);
	if (r) {
		img_search_free(srch);
		return r;
	}
	if ((r = pick_tasks(c, ck, s.have_pid, s.pid, &one, &tasks, &n)))
		goto out;
	f.s = &s;
	f.o = &o;
	f.ctx = malloc(2 * MAX_CONTEXT + (s.so.kind == IMG_SEARCH_REGEX ? (s.so.max_len ? s.so.max_len : 4096)
									 : strlen(pos[1])) + 1);
	out_begin(c, &o);
	if (o.json && !s.count_only)
		img_jw_arr_begin(&o.w);
	for (size_t i = 0; i < n && !r; i++) {
		if (!tasks[i]->mm)
			continue;
		if ((r = img_mem_open(ck, tasks[i], 0, &f.m, &e)) || (s.root && (r = img_mem_set_root(f.m, s.root, &e)))) {
			r = img_cli_fail(c, "read the memory of", &e);
			break;
		}
		if (img_search_mem(srch, f.m, on_match, &f, &e) < 0)
			r = img_cli_fail(c, "search", &e);
		img_mem_close(f.m);
	}
	if (!r) {
		if (s.count_only) {
			if (o.json) {
				img_jw_obj_begin(&o.w);
				img_jw_kv_u64(&o.w, "matches", f.n);
				img_jw_obj_end(&o.w);
			} else {
				img_out_printf(&o.o, "%llu\n", (unsigned long long)f.n);
			}
		} else if (o.json) {
			img_jw_arr_end(&o.w);
		}
		r = out_end(c, &o);
	}
	/* like grep: 1 when nothing matched */
	if (!r && !f.n)
		r = 1;
	free(f.ctx);
out:
	img_search_free(srch);
	img_ckpt_close(ck);
	return r;
}
