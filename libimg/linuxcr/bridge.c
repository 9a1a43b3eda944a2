/*
 * The bridge table (schemas/linuxcr/bridge.tab), parsed once from the text
 * the build embeds, and what both directions of the bridge share: lookups,
 * value transforms, message paths and the list of what a conversion drops.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "img/tab.h"

#define MAX_ROWS 512
#define MAX_SEGS 16
#define MAX_VMS 48
#define MAX_AREAS 8
#define MAX_IMAGES 64
#define MAX_SIS 16

static struct {
	struct img_arena arena;
	struct br_row rows[MAX_ROWS];
	struct br_seg segs[MAX_SEGS];
	struct br_vm vms[MAX_VMS];
	struct br_area areas[MAX_AREAS];
	struct br_image images[MAX_IMAGES];
	struct br_siginfo sis[MAX_SIS];
	struct br_table t;
	int r;
	struct img_err err;
} tab;

static const char *keep(const char *s)
{
	return img_arena_strndup(&tab.arena, s, strlen(s));
}

/* "CPU.r15" -> rec "CPU", field "r15"; "VMA" -> field NULL.  FILE/SUBTYPE keeps its slash. */
static int split_path(const char *s, const char **a, const char **b)
{
	const char *dot = strchr(s, '.');

	if (!dot) {
		*a = keep(s);
		*b = NULL;
	} else {
		*a = img_arena_strndup(&tab.arena, s, (size_t)(dot - s));
		*b = keep(dot + 1);
	}
	return *a && (!dot || *b) ? 0 : -ENOMEM;
}

static int is_lcr_side(const char *s)
{
	/* record type names are upper case, message names lower case */
	return s[0] >= 'A' && s[0] <= 'Z';
}

static int num(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end || !*s ? -EINVAL : 0;
}

static int row_line(void *arg, const struct img_tab_line *l, struct img_err *err)
{
	const char *k = l->f[0];
	uint64_t v;

	(void)arg;
	if (!strcmp(k, "seg")) {
		struct br_seg *s;

		if (l->nf != 4 || tab.t.nsegs == MAX_SEGS || num(l->f[2], &v))
			return img_err_set(err, EINVAL, "expected 'seg NAME SELECTOR MODE'");
		s = &tab.segs[tab.t.nsegs++];
		s->name = keep(l->f[1]);
		s->sel = v;
		s->mode = !strcmp(l->f[3], "native") ? 1 : !strcmp(l->f[3], "compat") ? 2 : 0;
		return 0;
	}
	if (!strcmp(k, "pf")) {
		uint64_t w;

		if (l->nf != 4 || tab.t.npf == 8 || num(l->f[2], &v) || num(l->f[3], &w))
			return img_err_set(err, EINVAL, "expected 'pf NAME CKPT_PF PF'");
		tab.t.pf[tab.t.npf][0] = v;
		tab.t.pf[tab.t.npf++][1] = w;
		return 0;
	}
	if (!strcmp(k, "vm")) {
		static const char *const sides[] = { "", "prot", "flags", "madv", "kernel", "refuse" };
		struct br_vm *m;
		uint64_t w;

		if (l->nf != 5 || tab.t.nvms == MAX_VMS || num(l->f[2], &v) || num(l->f[4], &w))
			return img_err_set(err, EINVAL, "expected 'vm NAME BIT SIDE VALUE'");
		m = &tab.vms[tab.t.nvms++];
		m->name = keep(l->f[1]);
		m->bit = v;
		m->val = w;
		for (int i = 1; i < 6; i++)
			if (!strcmp(l->f[3], sides[i]))
				m->side = i;
		if (!m->side)
			return img_err_set(err, EINVAL, "'%s': not prot, flags, madv, kernel or refuse", l->f[3]);
		return 0;
	}
	if (!strcmp(k, "siginfo")) {
		struct br_siginfo *si;
		uint64_t size;
		const char *bar = strchr(l->f[1], '|');

		if (l->nf != 4 || tab.t.nsis == MAX_SIS || num(l->f[2], &v) || num(l->f[3], &size) || v + size > 128 ||
		    size > 8)
			return img_err_set(err, EINVAL, "expected 'siginfo FIELD[|FIELD] OFFSET SIZE' inside 128 bytes");
		si = &tab.sis[tab.t.nsis++];
		si->field[0] = bar ? img_arena_strndup(&tab.arena, l->f[1], (size_t)(bar - l->f[1])) : keep(l->f[1]);
		si->field[1] = bar ? keep(bar + 1) : NULL;
		si->off = (uint32_t)v;
		si->size = (uint32_t)size;
		return 0;
	}
	if (!strcmp(k, "image")) {
		struct br_image *im;

		if (l->nf < 3 || tab.t.nimages == MAX_IMAGES)
			return img_err_set(err, EINVAL, "expected 'image PREFIX HOW [WHY]'");
		im = &tab.images[tab.t.nimages++];
		im->prefix = keep(l->f[1]);
		im->how = !strcmp(l->f[2], "read") ? BR_IMG_READ : !strcmp(l->f[2], "walk") ? BR_IMG_WALK
			: !strcmp(l->f[2], "meta") ? BR_IMG_META : 0;
		im->why = l->nf > 3 ? keep(l->rest[3]) : "";
		if (!im->how)
			return img_err_set(err, EINVAL, "'%s': not read, walk or meta", l->f[2]);
		return 0;
	}
	if (!strcmp(k, "area")) {
		struct br_area *a;
		uint64_t addr = 0;

		if ((l->nf != 4 && l->nf != 5) || tab.t.nareas == MAX_AREAS || num(l->f[3], &v) ||
		    (l->nf == 5 && num(l->f[4], &addr)))
			return img_err_set(err, EINVAL, "expected 'area STATUS VMA_TYPE EXTRA [ADDR]'");
		a = &tab.areas[tab.t.nareas++];
		a->status = keep(l->f[1]);
		a->vma_type = keep(l->f[2]);
		a->extra = v;
		a->addr = addr;
		return 0;
	}

	struct br_row *r;

	if (tab.t.n == MAX_ROWS)
		return img_err_set(err, EINVAL, "more than %d rows", MAX_ROWS);
	r = &tab.rows[tab.t.n];
	memset(r, 0, sizeof(*r));
	r->line = l->lineno;
	if (!strcmp(k, "map")) {
		if (l->nf < 3 || l->nf > 4 || !is_lcr_side(l->f[1]) || is_lcr_side(l->f[2]))
			return img_err_set(err, EINVAL, "expected 'map RECORD.FIELD MESSAGE.PATH [HOW]'");
		r->kind = BR_MAP;
		if (split_path(l->f[1], &r->lrec, &r->lfield) || split_path(l->f[2], &r->cmsg, &r->cpath))
			return -ENOMEM;
		if (!r->lfield || !r->cpath)
			return img_err_set(err, EINVAL, "a map row names fields, not whole records");
		if (l->nf == 4) {
			static const char *const hows[] = { "", "seg", "pages", "pf" };

			for (int i = 1; i < 4; i++)
				if (!strcmp(l->f[3], hows[i]))
					r->how = i;
			if (!r->how)
				return img_err_set(err, EINVAL, "'%s': not seg, pages or pf", l->f[3]);
		}
	} else if (!strcmp(k, "fill")) {
		if (l->nf != 3 || is_lcr_side(l->f[1]) || num(l->f[2], &v))
			return img_err_set(err, EINVAL, "expected 'fill MESSAGE.PATH VALUE'");
		r->kind = BR_FILL;
		if (split_path(l->f[1], &r->cmsg, &r->cpath))
			return -ENOMEM;
		r->def = keep(l->f[2]);
	} else if (!strcmp(k, "code")) {
		if (l->nf < 3)
			return img_err_set(err, EINVAL, "expected 'code FIELD WHY'");
		r->kind = BR_CODE;
		if (is_lcr_side(l->f[1]) ? split_path(l->f[1], &r->lrec, &r->lfield) : split_path(l->f[1], &r->cmsg, &r->cpath))
			return -ENOMEM;
		r->why = keep(l->rest[2]);
	} else if (!strcmp(k, "lcr") || !strcmp(k, "criu")) {
		int lcr = k[0] == 'l';

		if (l->nf < 5 || lcr != is_lcr_side(l->f[1]))
			return img_err_set(err, EINVAL, "expected '%s FIELD DEFAULT CLASS WHY'", k);
		r->kind = lcr ? BR_LCR : BR_CRIU;
		if (lcr ? split_path(l->f[1], &r->lrec, &r->lfield) : split_path(l->f[1], &r->cmsg, &r->cpath))
			return -ENOMEM;
		r->def = keep(l->f[2]);
		r->cls = !strcmp(l->f[3], "meta") ? BR_META : !strcmp(l->f[3], "state") ? BR_STATE : 0;
		if (!r->cls)
			return img_err_set(err, EINVAL, "'%s': the class is meta or state", l->f[3]);
		if (r->cls == BR_META && strcmp(r->def, "-"))
			return img_err_set(err, EINVAL, "a meta row takes any value: its default is -");
		r->why = keep(l->rest[4]);
	} else {
		return img_err_set(err, EINVAL, "'%s': not map, code, lcr, criu, seg, pf, vm or area", k);
	}
	tab.t.n++;
	return 0;
}

static void load(void)
{
	const struct img_tabsrc *src = img_tab_builtin("linuxcr/bridge.tab");

	img_arena_init(&tab.arena);
	tab.t.rows = tab.rows;
	tab.t.segs = tab.segs;
	tab.t.vms = tab.vms;
	tab.t.areas = tab.areas;
	tab.t.images = tab.images;
	tab.t.sis = tab.sis;
	if (!src) {
		tab.r = img_err_set(&tab.err, ENOENT, "linuxcr/bridge.tab is not built in");
		return;
	}
	tab.r = img_tab_parse(src->text, src->len, "linuxcr/bridge.tab", row_line, NULL, &tab.err);
}

int br_table(const struct br_table **out, struct img_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load);
	if (tab.r) {
		if (err)
			*err = tab.err;
		return tab.r;
	}
	*out = &tab.t;
	return 0;
}

/* Whether path is p itself or lies under it ("cap_s.cap_i_0" under "cap_s"). */
static int under(const char *path, const char *p)
{
	size_t n;

	if (!p)
		return 1;
	if (!path)
		return 0;
	n = strlen(p);
	return !strncmp(path, p, n) && (path[n] == 0 || path[n] == '.' || path[n] == '[');
}

static const struct br_row *find(const struct br_table *t, int lcr, const char *a, const char *path)
{
	const struct br_row *best = NULL;
	size_t blen = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct br_row *r = &t->rows[i];
		const char *ra = lcr ? r->lrec : r->cmsg, *rp = lcr ? r->lfield : r->cpath;
		size_t len = rp ? strlen(rp) + 1 : 0;

		if (!ra || !under(path, rp) || r->kind == BR_FILL)
			continue;
		/* a FILE/SUBTYPE row, or the FILE row that covers every subtype */
		if (strcmp(ra, a) && !(lcr && !strncmp(a, ra, strlen(ra)) && a[strlen(ra)] == '/'))
			continue;
		if (!strcmp(ra, a))
			len += 1000; /* the subtype's own rows first */
		if (!best || len > blen) {
			best = r;
			blen = len;
		}
	}
	return best;
}

const struct br_image *br_find_image(const struct br_table *t, const char *member)
{
	const struct br_image *best = NULL;

	for (size_t i = 0; i < t->nimages; i++) {
		size_t n = strlen(t->images[i].prefix);

		if (!strncmp(member, t->images[i].prefix, n) && (!best || n > strlen(best->prefix)))
			best = &t->images[i];
	}
	return best;
}

int br_rows_under(const struct br_table *t, const char *msg, const char *path)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct br_row *r = &t->rows[i];

		if (r->cmsg && !strcmp(r->cmsg, msg) && (!path || (r->cpath && under(r->cpath, path)) || !r->cpath))
			return 1;
	}
	return 0;
}

const struct br_row *br_find_lcr(const struct br_table *t, const char *rec, const char *field)
{
	return find(t, 1, rec, field);
}

const struct br_row *br_find_criu(const struct br_table *t, const char *msg, const char *path)
{
	return find(t, 0, msg, path);
}

int br_is_default(const struct br_row *r, const struct img_lcr_layout *lay, const char *enum_name, uint64_t v)
{
	uint64_t d;
	int64_t e;

	if (!r->def || !strcmp(r->def, "-"))
		return 1;
	if (!num(r->def, &d))
		return d == v;
	if (lay && enum_name && !img_lcr_enum_val(img_lcr_enum_find(lay, enum_name), r->def, &e))
		return (uint64_t)e == v;
	return 0;
}

/* ---------------------------------------------------------------- value transforms */

static const struct br_seg *seg_by_name(const struct br_table *t, const char *name, int compat)
{
	for (size_t i = 0; i < t->nsegs; i++)
		if (!strcmp(t->segs[i].name, name) && (!t->segs[i].mode || t->segs[i].mode == (compat ? 2 : 1)))
			return &t->segs[i];
	return NULL;
}

int br_to_criu(const struct br_ctx *c, int how, uint64_t v, uint64_t *out)
{
	switch (how) {
	case BR_HOW_NONE:
		*out = v;
		return 0;
	case BR_HOW_PAGES:
		*out = v * c->lay->page_size;
		return 0;
	case BR_HOW_PF:
		*out = 0;
		for (size_t i = 0; i < c->t->npf; i++)
			if (v & c->t->pf[i][0])
				*out |= c->t->pf[i][1];
		return 0;
	case BR_HOW_SEG: {
		const struct img_lcr_enum *e = img_lcr_enum_find(c->lay, "x86_seg");
		int64_t tls = 0x4000, ldt = 0x8000;
		const char *name;
		const struct br_seg *s;

		img_lcr_enum_val(e, "TLS", &tls);
		img_lcr_enum_val(e, "LDT", &ldt);
		/* TLS and LDT carry the descriptor index in their low bits */
		if ((v & ~(uint64_t)0x3fff) == (uint64_t)tls || (v & ~(uint64_t)0x3fff) == (uint64_t)ldt) {
			s = seg_by_name(c->t, (v & ~(uint64_t)0x3fff) == (uint64_t)tls ? "TLS" : "LDT", c->compat);
			if (!s)
				return -ERANGE;
			*out = s->sel + ((v & 0x3fff) << 3);
			return 0;
		}
		name = img_lcr_enum_name(e, (int64_t)v);
		s = name ? seg_by_name(c->t, name, c->compat) : NULL;
		if (!s)
			return -ERANGE;
		*out = s->sel;
		return 0;
	}
	}
	return -ERANGE;
}

int br_to_lcr(const struct br_ctx *c, int how, uint64_t v, uint64_t *out, uint64_t *lost)
{
	if (lost)
		*lost = 0;
	switch (how) {
	case BR_HOW_NONE:
		*out = v;
		return 0;
	case BR_HOW_PAGES:
		if (v % c->lay->page_size)
			return -ERANGE;
		*out = v / c->lay->page_size;
		return 0;
	case BR_HOW_PF: {
		uint64_t rest = v;

		*out = 0;
		for (size_t i = 0; i < c->t->npf; i++)
			if (v & c->t->pf[i][1]) {
				*out |= c->t->pf[i][0];
				rest &= ~c->t->pf[i][1];
			}
		if (lost)
			*lost = rest;
		return 0;
	}
	case BR_HOW_SEG: {
		const struct img_lcr_enum *e = img_lcr_enum_find(c->lay, "x86_seg");
		int64_t val;

		for (size_t i = 0; i < c->t->nsegs; i++) {
			const struct br_seg *s = &c->t->segs[i];
			int multi = !strcmp(s->name, "TLS") || !strcmp(s->name, "LDT");

			if (s->mode && s->mode != (c->compat ? 2 : 1))
				continue;
			if (img_lcr_enum_val(e, s->name, &val))
				continue;
			if (!multi && v == s->sel) {
				*out = (uint64_t)val;
				return 0;
			}
			/* TLS: 0x63, 0x6b, 0x73 for the three GDT TLS entries; LDT: any index */
			if (multi && v >= s->sel && (v - s->sel) % 8 == 0 && (v - s->sel) / 8 < (s->name[0] == 'T' ? 3 : 8192)) {
				*out = (uint64_t)val | ((v - s->sel) / 8);
				return 0;
			}
		}
		return -ERANGE;
	}
	}
	return -ERANGE;
}

/* ---------------------------------------------------------------- pending signals */

static int si_field(const struct img_lcr_struct *si, const struct br_siginfo *b, struct img_lcr_fref *fr)
{
	for (int j = 0; j < 2; j++)
		if (b->field[j] && !img_lcr_field_ref(si, b->field[j], fr) && fr->f->type != IMG_LCR_STRUCT)
			return 0;
	return -ENOENT;
}

void br_siginfo_to_criu(const struct br_table *t, const struct img_lcr_struct *si, const uint8_t *elem,
			uint8_t out[128])
{
	struct img_lcr_fref fr;

	memset(out, 0, 128);
	for (size_t i = 0; i < t->nsis; i++) {
		const struct br_siginfo *b = &t->sis[i];
		uint64_t v;

		if (si_field(si, b, &fr))
			continue;
		v = img_lcr_type_signed(fr.f->type) ? (uint64_t)img_lcr_get_s(elem, fr.off, fr.f->type)
						    : img_lcr_get_u(elem, fr.off, fr.f->type);
		for (uint32_t k = 0; k < b->size; k++)
			out[b->off + k] = (uint8_t)(v >> (8 * k));
	}
}

void br_siginfo_to_lcr(const struct br_table *t, const struct img_lcr_struct *si, const uint8_t in[128],
		       uint8_t *elem)
{
	struct img_lcr_fref fr;

	for (size_t i = 0; i < t->nsis; i++) {
		const struct br_siginfo *b = &t->sis[i];
		uint64_t v = 0;

		if (si_field(si, b, &fr))
			continue;
		for (uint32_t k = 0; k < b->size; k++)
			v |= (uint64_t)in[b->off + k] << (8 * k);
		img_lcr_put(elem, fr.off, fr.f->type, v);
	}
}

/* ---------------------------------------------------------------- message paths */

/* The next component of a path: name (copied into buf), and [index] when there is one (-1 if not). */
static const char *component(const char *p, char *buf, size_t len, long *index)
{
	size_t n = strcspn(p, ".[");

	*index = -1;
	if (n >= len)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = 0;
	p += n;
	if (*p == '[') {
		char *end;

		*index = strtol(p + 1, &end, 10);
		if (*end != ']' || *index < 0)
			return NULL;
		p = end + 1;
	}
	return p;
}

int br_msg_get(const struct img_msg *m, const char *path, uint64_t *v)
{
	char name[64];
	long idx;

	while (m) {
		const char *rest = component(path, name, sizeof(name), &idx);

		if (!rest)
			return -EINVAL;
		if (*rest == '.') {
			m = img_msg_sub(m, name);
			path = rest + 1;
			continue;
		}
		if (idx < 0) {
			if (!img_msg_has(m, name))
				return -ENOENT;
			*v = img_msg_u64(m, name, 0);
			return 0;
		}
		struct img_iter it;

		if (img_iter_init(&it, m, name))
			return -ENOENT;
		for (long i = 0; img_iter_next_u64(&it, v); i++)
			if (i == idx)
				return 0;
		return -ENOENT;
	}
	return -ENOENT;
}

int br_msg_set(struct img_arena *a, struct img_msg *m, const char *path, uint64_t v)
{
	char name[64];
	long idx;

	for (;;) {
		const char *rest = component(path, name, sizeof(name), &idx);

		if (!rest)
			return -EINVAL;
		if (*rest == '.') {
			struct img_msg *s = img_msg_sub(m, name);

			if (!s)
				s = img_msg_set_msg(a, m, name);
			if (!s)
				return -ENOENT;
			m = s;
			path = rest + 1;
			continue;
		}
		if (idx < 0)
			return img_msg_set_u64(a, m, name, v);
		/* repeated values are set in order: the next one must be the one asked for */
		if ((size_t)idx != img_msg_count(m, name))
			return -EINVAL;
		return img_msg_add_u64(a, m, name, v);
	}
}

int br_fill(const struct br_table *t, struct img_arena *a, struct img_msg *m, const char *root)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct br_row *r = &t->rows[i];
		char first[64];
		size_t n;
		uint64_t v;

		if (r->kind != BR_FILL || strcmp(r->cmsg, root))
			continue;
		n = strcspn(r->cpath, ".[");
		snprintf(first, sizeof(first), "%.*s", (int)n, r->cpath);
		if (r->cpath[n] == '.' && !img_msg_sub(m, first))
			continue; /* not in this message (tc of a thread) */
		if (!br_msg_get(m, r->cpath, &v))
			continue; /* set already */
		if (num(r->def, &v) || br_msg_set(a, m, r->cpath, v))
			return -ENOMEM;
	}
	return 0;
}

/* ---------------------------------------------------------------- losses */

int br_lose(struct br_losses *l, int cls, const char *what, const char *why, const char *fmt, ...)
{
	struct br_loss *x = NULL;
	char ex[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ex, sizeof(ex), fmt, ap);
	va_end(ap);
	if (cls == BR_STATE && !(l->flags & IMG_LCR_BRIDGE_LOSSY)) {
		if (l->subject)
			img_err_subject(l->err, l->subject);
		return img_err_set(l->err, ENOTSUP, "%s: %s has no place in %s (%s); --lossy leaves it out", ex, what,
				   l->other ? l->other : "the other form", why);
	}
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].what, what)) {
			x = &l->v[i];
			break;
		}
	if (!x) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 16;
			struct br_loss *v = img_realloc(l->v, cap * sizeof(*v));

			if (!v)
				return img_err_set(l->err, ENOMEM, "out of memory");
			l->v = v;
			l->cap = cap;
		}
		x = &l->v[l->n++];
		memset(x, 0, sizeof(*x));
		snprintf(x->what, sizeof(x->what), "%s", what);
		snprintf(x->why, sizeof(x->why), "%s", why);
		snprintf(x->example, sizeof(x->example), "%s", ex);
		x->cls = cls;
	}
	x->count++;
	return 0;
}

void br_losses_free(struct br_losses *l)
{
	img_free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

void br_losses_report(const struct br_losses *l, void (*fn)(void *arg, const char *line), void *arg)
{
	char line[1024];
	size_t at = 0;

	for (size_t i = 0; fn && i < l->n; i++) {
		const struct br_loss *x = &l->v[i];

		if (x->cls != BR_STATE)
			continue;
		snprintf(line, sizeof(line), "%s (%llu time%s; first: %s): %s", x->what, (unsigned long long)x->count,
			 x->count == 1 ? "" : "s", x->example, x->why);
		fn(arg, line);
	}
	/* identity and bookkeeping: one line */
	line[0] = 0;
	for (size_t i = 0; fn && i < l->n; i++)
		if (l->v[i].cls == BR_META && at + strlen(l->v[i].what) + 8 < sizeof(line))
			at += (size_t)snprintf(line + at, sizeof(line) - at, "%s%s", at ? ", " : "ids and bookkeeping only: ",
					       l->v[i].what);
	if (fn && at)
		fn(arg, line);
}
