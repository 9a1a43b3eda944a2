/*
 * The linux-cr table files (schemas/linuxcr: *.layout, records.tab,
 * convert.tab) parsed and resolved into img_lcr_tables.  Used at build time
 * by tools/lcrtabc, which prints the result as C, and at run time by
 * img_lcr_tables_load_dir.  The format is described in schemas/README.md.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "img/linuxcr.h"
#include "img/source.h"
#include "lcr.h"

/* What a .layout file says, before the versions are resolved. */
struct raw_field {
	uint32_t off;
	const char *name, *type; /* type as written: "u32", "ckpt_hdr", "u8[6]" */
	uint8_t align, un;
};

struct raw_struct {
	const char *name, *arch; /* arch: NULL for every arch */
	uint32_t size, align, attr;
	struct raw_field *f;
	uint32_t n;
	size_t cap;
	const char *where;
};

struct raw_kv {
	const char *kind; /* "const", "default", "prop" */
	const char *name, *arch;
	int64_t val;
	int drop;
};

struct raw_enum {
	const char *name;
	struct img_lcr_enumval *v;
	uint32_t n;
	size_t cap;
};

struct raw_arch {
	const char *name;
	int id;
	uint32_t long_size, page_size;
};

struct raw_version {
	const char *name, *alias, *base, *kernel, *date, *source, *file;
	int rev;
	struct raw_arch arch[4];
	uint32_t narch;
	struct raw_struct **structs;
	uint32_t nstructs;
	size_t capstructs;
	struct raw_enum **enums;
	uint32_t nenums;
	size_t capenums;
	struct raw_kv *kv;
	uint32_t nkv;
	size_t capkv;
	const char **drop_struct, **drop_enum;
	uint32_t ndrop_struct, ndrop_enum;
	size_t capds, capde;
	int resolving, order;
};

struct loader {
	struct img_arena *a;
	struct img_err *err;
	struct raw_version **v;
	uint32_t nv;
	size_t capv;
	struct img_lcr_recdesc *rd;
	uint32_t nrd;
	size_t caprd;
	struct img_lcr_rename *rn;
	uint32_t nrn;
	size_t caprn;
	struct img_lcr_fdefault *fd;
	uint32_t nfd;
	size_t capfd;
	/* final structs shared between layouts */
	struct fin {
		const struct raw_struct *raw;
		const struct img_lcr_struct *s;
	} *fin;
	uint32_t nfin;
	size_t capfin;
};

#define GROW(L, arr, n, cap) img_arena_grow((L)->a, (void **)&(arr), &(cap), (n), sizeof(*(arr)))

static int split(char *line, char **tok, int max)
{
	int n = 0;

	for (char *p = line; *p && n < max;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
	}
	return n;
}

/* The next line of text (NUL-terminated in place, its # comment cut), or NULL at the end. */
static char *next_line(char **s, int *line)
{
	char *l = *s, *nl, *hash;

	if (!l || !*l)
		return NULL;
	nl = strchr(l, '\n');
	if (nl)
		*nl++ = 0;
	*s = nl;
	(*line)++;
	if ((hash = strchr(l, '#')))
		*hash = 0;
	return l;
}

static int bad(struct loader *L, const char *file, int line, const char *fmt, const char *arg)
{
	img_err_set(L->err, EINVAL, fmt, arg);
	img_err_prefix(L->err, "%s:%d", file, line);
	return -EINVAL;
}

static int parse_int(const char *s, int64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 0);
	return errno || end == s || *end ? -EINVAL : 0;
}

static const char *dup(struct loader *L, const char *s)
{
	return img_arena_strndup(L->a, s, strlen(s));
}

/* "arch=i386" style options: the value after "key=", or NULL. */
static const char *opt(char **tok, int n, int from, const char *key)
{
	size_t k = strlen(key);

	for (int i = from; i < n; i++)
		if (!strncmp(tok[i], key, k) && tok[i][k] == '=')
			return tok[i] + k + 1;
	return NULL;
}

static int parse_layout(struct loader *L, const char *file, char *text)
{
	struct raw_version *v = img_arena_zalloc(L->a, sizeof(*v));
	struct raw_struct *cs = NULL;
	struct raw_enum *ce = NULL;
	char *tok[16];
	int line = 0;

	if (!v || GROW(L, L->v, L->nv, L->capv))
		return -ENOMEM;
	v->file = dup(L, file);
	for (char *s, *rest = text; (s = next_line(&rest, &line));) {
		int indented = *s == '\t' || *s == ' ';
		int n = split(s, tok, 16);
		int64_t x;

		if (!n) {
			continue;
		}
		if (indented) {
			if (ce) {
				if (n != 2 || parse_int(tok[1], &x))
					return bad(L, file, line, "bad enum value line%s", "");
				if (GROW(L, ce->v, ce->n, ce->cap))
					return -ENOMEM;
				ce->v[ce->n].name = dup(L, tok[0]);
				ce->v[ce->n++].val = x;
				continue;
			}
			if (!cs)
				return bad(L, file, line, "indented line outside a struct or enum%s", "");
			if (n < 3 || parse_int(tok[0], &x) || x < 0)
				return bad(L, file, line, "bad field line%s", "");
			if (GROW(L, cs->f, cs->n, cs->cap))
				return -ENOMEM;
			struct raw_field *f = &cs->f[cs->n++];
			const char *o;

			memset(f, 0, sizeof(*f));
			f->off = (uint32_t)x;
			f->name = dup(L, tok[1]);
			f->type = dup(L, tok[2]);
			if ((o = opt(tok, n, 3, "align")))
				f->align = (uint8_t)atoi(o);
			if ((o = opt(tok, n, 3, "union")))
				f->un = (uint8_t)atoi(o);
			continue;
		}
		cs = NULL;
		ce = NULL;
		if (!strcmp(tok[0], "version") && n == 2) {
			v->name = dup(L, tok[1]);
		} else if (!strcmp(tok[0], "alias") && n == 2) {
			v->alias = dup(L, tok[1]);
		} else if (!strcmp(tok[0], "base") && n == 2) {
			v->base = dup(L, tok[1]);
		} else if (!strcmp(tok[0], "kernel") && n == 2) {
			v->kernel = dup(L, tok[1]);
		} else if (!strcmp(tok[0], "date") && n == 2) {
			v->date = dup(L, tok[1]);
		} else if (!strcmp(tok[0], "source") && n >= 2) {
			char buf[256];

			snprintf(buf, sizeof(buf), "%s%s%s", tok[1], n > 2 ? " " : "", n > 2 ? tok[2] : "");
			v->source = dup(L, buf);
		} else if (!strcmp(tok[0], "rev") && n == 2 && !parse_int(tok[1], &x)) {
			v->rev = (int)x;
		} else if (!strcmp(tok[0], "arch") && n == 5) {
			int64_t id, ls, ps;

			if (v->narch == 4 || parse_int(tok[2], &id) || parse_int(tok[3], &ls) || parse_int(tok[4], &ps))
				return bad(L, file, line, "bad arch line%s", "");
			v->arch[v->narch++] = (struct raw_arch){ dup(L, tok[1]), (int)id, (uint32_t)ls, (uint32_t)ps };
		} else if ((!strcmp(tok[0], "const") || !strcmp(tok[0], "default") || !strcmp(tok[0], "prop")) &&
			   n >= 3) {
			if (parse_int(tok[2], &x))
				return bad(L, file, line, "bad value '%s'", tok[2]);
			if (GROW(L, v->kv, v->nkv, v->capkv))
				return -ENOMEM;
			const char *a = opt(tok, n, 3, "arch");

			v->kv[v->nkv++] = (struct raw_kv){ dup(L, tok[0]), dup(L, tok[1]), a ? dup(L, a) : NULL, x, 0 };
		} else if (!strcmp(tok[0], "drop") && n == 3) {
			if (!strcmp(tok[1], "struct")) {
				if (GROW(L, v->drop_struct, v->ndrop_struct, v->capds))
					return -ENOMEM;
				v->drop_struct[v->ndrop_struct++] = dup(L, tok[2]);
			} else if (!strcmp(tok[1], "enum")) {
				if (GROW(L, v->drop_enum, v->ndrop_enum, v->capde))
					return -ENOMEM;
				v->drop_enum[v->ndrop_enum++] = dup(L, tok[2]);
			} else if (!strcmp(tok[1], "const") || !strcmp(tok[1], "default") || !strcmp(tok[1], "prop")) {
				if (GROW(L, v->kv, v->nkv, v->capkv))
					return -ENOMEM;
				v->kv[v->nkv++] = (struct raw_kv){ dup(L, tok[1]), dup(L, tok[2]), NULL, 0, 1 };
			} else {
				return bad(L, file, line, "cannot drop a '%s'", tok[1]);
			}
		} else if (!strcmp(tok[0], "enum") && n == 2) {
			if (GROW(L, v->enums, v->nenums, v->capenums))
				return -ENOMEM;
			ce = img_arena_zalloc(L->a, sizeof(*ce));
			if (!ce)
				return -ENOMEM;
			ce->name = dup(L, tok[1]);
			v->enums[v->nenums++] = ce;
		} else if (!strcmp(tok[0], "struct") && n >= 4) {
			int64_t sz, al;
			const char *o;

			if (parse_int(tok[2], &sz) || parse_int(tok[3], &al) || sz < 0 || al <= 0)
				return bad(L, file, line, "bad struct line for '%s'", tok[1]);
			if (GROW(L, v->structs, v->nstructs, v->capstructs))
				return -ENOMEM;
			cs = img_arena_zalloc(L->a, sizeof(*cs));
			if (!cs)
				return -ENOMEM;
			cs->name = dup(L, tok[1]);
			cs->size = (uint32_t)sz;
			cs->align = (uint32_t)al;
			if ((o = opt(tok, n, 4, "aligned")))
				cs->attr = (uint32_t)atoi(o);
			if ((o = opt(tok, n, 4, "arch")))
				cs->arch = dup(L, o);
			char where[300];

			snprintf(where, sizeof(where), "%.280s:%d", file, line);
			cs->where = dup(L, where);
			v->structs[v->nstructs++] = cs;
		} else {
			return bad(L, file, line, "unknown line '%s'", tok[0]);
		}
	}
	if (!v->name)
		return bad(L, file, line, "no 'version' line%s", "");
	L->v[L->nv++] = v;
	return 0;
}

/* "TYPE:ROLE[=ELEM*N][?COND]" with a trailing '?' or '*' */
static int parse_follow(struct loader *L, char *s, struct img_lcr_follow *f)
{
	size_t n = strlen(s);
	char *c;

	memset(f, 0, sizeof(*f));
	if (n && s[n - 1] == '*') {
		f->repeat = 1;
		s[--n] = 0;
	}
	if (n && s[n - 1] == '?') {
		f->optional = 1;
		s[--n] = 0;
	}
	if ((c = strchr(s, '?'))) {
		*c++ = 0;
		if (!strncmp(c, "new:", 4)) {
			f->cond_new = 1;
			c += 4;
		}
		f->cond = dup(L, c);
	}
	if ((c = strchr(s, '='))) {
		*c++ = 0;
		char *star = strchr(c, '*');

		if (!star)
			return -EINVAL;
		*star++ = 0;
		f->elem = dup(L, c);
		f->count = dup(L, star);
	}
	if (!(c = strchr(s, ':')))
		return -EINVAL;
	*c++ = 0;
	f->type = dup(L, s);
	f->role = dup(L, c);
	return 0;
}

/* Split "a,b,c" in place; returns the count. */
static int commas(char *s, char **out, int max)
{
	int n = 0;

	while (s && *s && n < max) {
		out[n++] = s;
		s = strchr(s, ',');
		if (s)
			*s++ = 0;
	}
	return n;
}

static int parse_records(struct loader *L, const char *file, char *text)
{
	char *tok[24];
	int line = 0;

	for (char *s, *rest = text; (s = next_line(&rest, &line));) {
		int n = split(s, tok, 24);

		if (!n)
			continue;
		if (n < 4)
			return bad(L, file, line, "expected NAME STRUCT LENGTH THEN%s", "");
		if (GROW(L, L->rd, L->nrd, L->caprd))
			return -ENOMEM;
		struct img_lcr_recdesc *d = &L->rd[L->nrd++];
		struct img_lcr_follow fol[8];
		uint32_t nf = 0;
		int i = 3;

		memset(d, 0, sizeof(*d));
		d->name = dup(L, tok[0]);
		d->strct = strcmp(tok[1], "-") ? dup(L, tok[1]) : NULL;
		if (!strcmp(tok[2], "exact")) {
			d->len = IMG_LCR_LEN_EXACT;
		} else if (!strcmp(tok[2], "raw")) {
			d->len = IMG_LCR_LEN_RAW;
		} else if (!strcmp(tok[2], "string")) {
			d->len = IMG_LCR_LEN_STRING;
		} else if (!strncmp(tok[2], "tail=", 5) && strchr(tok[2], '*')) {
			char *star = strchr(tok[2], '*');

			*star = 0;
			d->len = IMG_LCR_LEN_TAIL;
			d->tail_elem = dup(L, tok[2] + 5);
			d->tail_count = dup(L, star + 1);
		} else if (!strncmp(tok[2], "select=", 7) && strchr(tok[2], ':')) {
			char *c = strchr(tok[2], ':');

			*c = 0;
			d->len = IMG_LCR_LEN_SELECT;
			d->select_field = dup(L, tok[2] + 7);
			d->select_enum = dup(L, c + 1);
		} else {
			return bad(L, file, line, "bad LENGTH '%s'", tok[2]);
		}
		if ((d->strct == NULL) != (d->len == IMG_LCR_LEN_RAW || d->len == IMG_LCR_LEN_STRING))
			return bad(L, file, line, "'%s': a struct goes with exact, tail and select", d->name);
		/* THEN items run until the first option (a word with '=' and no ':' before it) */
		for (; i < n; i++) {
			char *eq = strchr(tok[i], '='), *co = strchr(tok[i], ':');

			if (!strcmp(tok[i], "-"))
				continue;
			if (eq && (!co || co > eq))
				break;
			if (nf == 8 || parse_follow(L, tok[i], &fol[nf]))
				return bad(L, file, line, "bad THEN item in '%s'", d->name);
			nf++;
		}
		if (nf) {
			struct img_lcr_follow *f = img_arena_alloc(L->a, nf * sizeof(*f));

			if (!f)
				return -ENOMEM;
			memcpy(f, fol, nf * sizeof(*f));
			d->follow = f;
			d->nfollow = nf;
		}
		for (; i < n; i++) {
			char *eq = strchr(tok[i], '=');

			if (!eq)
				return bad(L, file, line, "bad option '%s'", tok[i]);
			*eq++ = 0;
			if (!strcmp(tok[i], "obj")) {
				d->obj = dup(L, eq);
			} else if (!strcmp(tok[i], "since")) {
				d->since = dup(L, eq);
			} else if (!strcmp(tok[i], "until")) {
				d->until = dup(L, eq);
			} else if (!strcmp(tok[i], "refs")) {
				char *it[16];
				int k = commas(eq, it, 16);
				struct img_lcr_ref *r = img_arena_zalloc(L->a, k * sizeof(*r));

				if (!r)
					return -ENOMEM;
				for (int j = 0; j < k; j++) {
					char *p1 = strchr(it[j], ':'), *p2;

					if (!p1)
						return bad(L, file, line, "bad ref '%s'", it[j]);
					*p1++ = 0;
					r[j].field = dup(L, it[j]);
					r[j].mode = IMG_LCR_REF_BEFORE;
					if ((p2 = strchr(p1, ':'))) {
						*p2++ = 0;
						if (!strcmp(p2, "fwd"))
							r[j].mode = IMG_LCR_REF_FWD;
						else if (!strcmp(p2, "implicit"))
							r[j].mode = IMG_LCR_REF_IMPLICIT;
						else if (strcmp(p2, "before"))
							return bad(L, file, line, "bad ref mode '%s'", p2);
					}
					r[j].objtype = dup(L, p1);
				}
				d->refs = r;
				d->nrefs = (uint32_t)k;
			} else if (!strcmp(tok[i], "enums")) {
				char *it[16];
				int k = commas(eq, it, 16);
				struct img_lcr_enumfield *e = img_arena_zalloc(L->a, k * sizeof(*e));

				if (!e)
					return -ENOMEM;
				for (int j = 0; j < k; j++) {
					char *p1 = strchr(it[j], ':');

					if (!p1)
						return bad(L, file, line, "bad enum field '%s'", it[j]);
					*p1++ = 0;
					e[j].field = dup(L, it[j]);
					e[j].en = dup(L, p1);
				}
				d->enums = e;
				d->nenums = (uint32_t)k;
			} else if (!strcmp(tok[i], "values")) {
				char *it[16];
				int k = commas(eq, it, 16);
				struct img_lcr_values *vs = img_arena_zalloc(L->a, k * sizeof(*vs));

				if (!vs)
					return -ENOMEM;
				for (int j = 0; j < k; j++) {
					char *p1 = strchr(it[j], ':');
					int64_t *vals = img_arena_zalloc(L->a, 16 * sizeof(*vals));
					uint32_t nv = 0;

					if (!p1 || !vals)
						return p1 ? -ENOMEM : bad(L, file, line, "bad values '%s'", it[j]);
					*p1++ = 0;
					for (char *v = p1, *bar; v && nv < 16; v = bar) {
						bar = strchr(v, '|');
						if (bar)
							*bar++ = 0;
						if (parse_int(v, &vals[nv++]))
							return bad(L, file, line, "bad value '%s'", v);
					}
					vs[j] = (struct img_lcr_values){ dup(L, it[j]), nv, vals };
				}
				d->values = vs;
				d->nvalues = (uint32_t)k;
			} else {
				return bad(L, file, line, "unknown option '%s'", tok[i]);
			}
		}
	}
	return 0;
}

static int parse_convert(struct loader *L, const char *file, char *text)
{
	char *tok[8];
	int line = 0;

	for (char *s, *rest = text; (s = next_line(&rest, &line));) {
		int n = split(s, tok, 8);
		int64_t x;

		if (!n)
			continue;
		if (!strcmp(tok[0], "rename") && (n == 5 || n == 6)) {
			if (GROW(L, L->rn, L->nrn, L->caprn))
				return -ENOMEM;
			L->rn[L->nrn++] = (struct img_lcr_rename){ dup(L, tok[1]), dup(L, tok[2]), dup(L, tok[3]),
								  dup(L, tok[4]), n == 6 ? dup(L, tok[5]) : NULL };
		} else if (!strcmp(tok[0], "field") && n == 4 && !parse_int(tok[3], &x)) {
			if (GROW(L, L->fd, L->nfd, L->capfd))
				return -ENOMEM;
			L->fd[L->nfd++] = (struct img_lcr_fdefault){ dup(L, tok[1]), dup(L, tok[2]), x };
		} else {
			return bad(L, file, line, "unknown line '%s'", tok[0]);
		}
	}
	return 0;
}

static struct raw_version *raw_find(struct loader *L, const char *name)
{
	for (uint32_t i = 0; i < L->nv; i++)
		if (!strcmp(L->v[i]->name, name))
			return L->v[i];
	return NULL;
}

/* The resolved raw view of one version on one arch. */
struct resolved {
	const struct raw_struct **s;
	uint32_t ns;
	size_t caps;
	const struct raw_enum **e;
	uint32_t ne;
	size_t cape;
	struct raw_kv *kv;
	uint32_t nkv;
	size_t capkv;
};

static int res_copy(struct loader *L, struct resolved *dst, const struct resolved *src)
{
	memset(dst, 0, sizeof(*dst));
	for (uint32_t i = 0; i < src->ns; i++) {
		if (GROW(L, dst->s, dst->ns, dst->caps))
			return -ENOMEM;
		dst->s[dst->ns++] = src->s[i];
	}
	for (uint32_t i = 0; i < src->ne; i++) {
		if (GROW(L, dst->e, dst->ne, dst->cape))
			return -ENOMEM;
		dst->e[dst->ne++] = src->e[i];
	}
	for (uint32_t i = 0; i < src->nkv; i++) {
		if (GROW(L, dst->kv, dst->nkv, dst->capkv))
			return -ENOMEM;
		dst->kv[dst->nkv++] = src->kv[i];
	}
	return 0;
}

static int res_put_struct(struct loader *L, struct resolved *r, const struct raw_struct *s)
{
	for (uint32_t i = 0; i < r->ns; i++)
		if (!strcmp(r->s[i]->name, s->name)) {
			r->s[i] = s;
			return 0;
		}
	if (GROW(L, r->s, r->ns, r->caps))
		return -ENOMEM;
	r->s[r->ns++] = s;
	return 0;
}

static int res_put_kv(struct loader *L, struct resolved *r, const struct raw_kv *kv)
{
	for (uint32_t i = 0; i < r->nkv; i++)
		if (!strcmp(r->kv[i].kind, kv->kind) && !strcmp(r->kv[i].name, kv->name)) {
			if (kv->drop) {
				r->kv[i] = r->kv[--r->nkv];
				return 0;
			}
			r->kv[i] = *kv;
			return 0;
		}
	if (kv->drop)
		return 0;
	if (GROW(L, r->kv, r->nkv, r->capkv))
		return -ENOMEM;
	r->kv[r->nkv++] = *kv;
	return 0;
}

/* base(arch), then the version's arch-less definitions, then its arch ones */
static int resolve(struct loader *L, struct raw_version *v, const char *arch, struct resolved *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	if (v->resolving)
		return img_err_set(L->err, EINVAL, "%s: the base versions form a loop", v->file);
	if (v->base) {
		struct raw_version *b = raw_find(L, v->base);
		struct resolved br;

		if (!b)
			return img_err_set(L->err, EINVAL, "%s: unknown base version '%s'", v->file, v->base);
		v->resolving = 1;
		ret = resolve(L, b, arch, &br);
		v->resolving = 0;
		if (ret || (ret = res_copy(L, out, &br)))
			return ret;
	}
	for (uint32_t i = 0; i < v->ndrop_struct; i++)
		for (uint32_t j = 0; j < out->ns; j++)
			if (!strcmp(out->s[j]->name, v->drop_struct[i]))
				out->s[j--] = out->s[--out->ns];
	for (uint32_t i = 0; i < v->ndrop_enum; i++)
		for (uint32_t j = 0; j < out->ne; j++)
			if (!strcmp(out->e[j]->name, v->drop_enum[i]))
				out->e[j--] = out->e[--out->ne];
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < v->nstructs; i++) {
			const struct raw_struct *s = v->structs[i];

			if ((pass == 0) == (s->arch == NULL) && (!s->arch || !strcmp(s->arch, arch)))
				if ((ret = res_put_struct(L, out, s)))
					return ret;
		}
		for (uint32_t i = 0; i < v->nkv; i++) {
			const struct raw_kv *kv = &v->kv[i];

			if ((pass == 0) == (kv->arch == NULL) && (!kv->arch || !strcmp(kv->arch, arch)))
				if ((ret = res_put_kv(L, out, kv)))
					return ret;
		}
	}
	for (uint32_t i = 0; i < v->nenums; i++) {
		uint32_t j;

		for (j = 0; j < out->ne; j++)
			if (!strcmp(out->e[j]->name, v->enums[i]->name))
				break;
		if (j == out->ne && GROW(L, out->e, out->ne, out->cape))
			return -ENOMEM;
		out->e[j] = v->enums[i];
		if (j == out->ne)
			out->ne++;
	}
	return 0;
}

static const struct {
	const char *name;
	uint8_t type;
} base_types[] = {
	{ "u8", IMG_LCR_U8 },   { "u16", IMG_LCR_U16 }, { "u32", IMG_LCR_U32 },   { "u64", IMG_LCR_U64 },
	{ "s8", IMG_LCR_S8 },   { "s16", IMG_LCR_S16 }, { "s32", IMG_LCR_S32 },   { "s64", IMG_LCR_S64 },
	{ "be16", IMG_LCR_BE16 }, { "be32", IMG_LCR_BE32 }, { "char", IMG_LCR_CHAR },
};

static const struct raw_struct *res_struct(const struct resolved *r, const char *name)
{
	for (uint32_t i = 0; i < r->ns; i++)
		if (!strcmp(r->s[i]->name, name))
			return r->s[i];
	return NULL;
}

/* The final struct for a raw one in a resolved layout; shared when the same. */
static const struct img_lcr_struct *finish(struct loader *L, const struct resolved *r, const struct raw_struct *rs,
					   int depth)
{
	struct img_lcr_field *f;
	char tname[64];

	if (depth > 8) {
		img_err_set(L->err, EINVAL, "%s: struct '%s' nests too deep (or contains itself)", rs->where, rs->name);
		return NULL;
	}
	f = img_arena_zalloc(L->a, (rs->n ? rs->n : 1) * sizeof(*f));
	if (!f)
		return NULL;
	for (uint32_t i = 0; i < rs->n; i++) {
		const struct raw_field *rf = &rs->f[i];
		char *br;

		snprintf(tname, sizeof(tname), "%s", rf->type);
		f[i].name = rf->name;
		f[i].off = rf->off;
		f[i].align = rf->align;
		f[i].un = rf->un;
		if ((br = strchr(tname, '['))) {
			*br = 0;
			char *end;

			f[i].count = (uint32_t)strtoul(br + 1, &end, 10);
			if (end == br + 1 || strcmp(end, "]")) {
				img_err_set(L->err, EINVAL, "%s: field '%s': bad array size", rs->where, rf->name);
				return NULL;
			}
			f[i].flex = !f[i].count;
		}
		for (size_t k = 0; k < sizeof(base_types) / sizeof(base_types[0]); k++)
			if (!strcmp(base_types[k].name, tname))
				f[i].type = base_types[k].type;
		if (!f[i].type) {
			const struct raw_struct *sub = res_struct(r, tname);

			if (!sub) {
				img_err_set(L->err, EINVAL, "%s: field '%s': unknown type '%s'", rs->where, rf->name,
					    tname);
				return NULL;
			}
			f[i].type = IMG_LCR_STRUCT;
			f[i].sub = finish(L, r, sub, depth + 1);
			if (!f[i].sub)
				return NULL;
		}
	}
	/* the same raw struct with the same sub-structs: share the earlier one */
	for (uint32_t i = 0; i < L->nfin; i++) {
		const struct img_lcr_struct *o = L->fin[i].s;
		uint32_t k;

		if (L->fin[i].raw != rs)
			continue;
		for (k = 0; k < rs->n; k++)
			if (o->fields[k].sub != f[k].sub)
				break;
		if (k == rs->n)
			return o;
	}
	struct img_lcr_struct *s = img_arena_zalloc(L->a, sizeof(*s));

	if (!s || GROW(L, L->fin, L->nfin, L->capfin))
		return NULL;
	s->name = rs->name;
	s->size = rs->size;
	s->align = rs->align;
	s->attr_align = rs->attr;
	s->nfields = rs->n;
	s->fields = f;
	L->fin[L->nfin].raw = rs;
	L->fin[L->nfin++].s = s;
	return s;
}

static int cmp_struct(const void *a, const void *b)
{
	return strcmp((*(const struct img_lcr_struct *const *)a)->name, (*(const struct img_lcr_struct *const *)b)->name);
}

static int cmp_rectype(const void *a, const void *b)
{
	const struct img_lcr_rectype *x = a, *y = b;

	return x->type < y->type ? -1 : x->type > y->type;
}

static int version_order(struct loader *L, const char *name)
{
	struct raw_version *v = name ? raw_find(L, name) : NULL;

	return v ? v->order : -1;
}

/* The records.tab row for a name in a version (the latest "since" that applies). */
static const struct img_lcr_recdesc *rd_for(struct loader *L, const char *name, int order)
{
	const struct img_lcr_recdesc *best = NULL;

	for (uint32_t i = 0; i < L->nrd; i++) {
		const struct img_lcr_recdesc *d = &L->rd[i];

		if (strcmp(d->name, name))
			continue;
		if (d->since && version_order(L, d->since) > order)
			continue;
		if (d->until && version_order(L, d->until) < order)
			continue;
		best = d;
	}
	return best;
}

static int build_layout(struct loader *L, struct raw_version *v, const struct raw_arch *ra,
			struct img_lcr_version *ver, struct img_lcr_layout *lay)
{
	struct resolved r;
	int ret = resolve(L, v, ra->name, &r);

	if (ret)
		return ret;
	lay->ver = ver;
	lay->arch = ra->name;
	lay->arch_id = ra->id;
	lay->long_size = ra->long_size;
	lay->page_size = ra->page_size;
	const struct img_lcr_struct **ss = img_arena_alloc(L->a, (r.ns ? r.ns : 1) * sizeof(*ss));

	if (!ss)
		return -ENOMEM;
	for (uint32_t i = 0; i < r.ns; i++) {
		ss[i] = finish(L, &r, r.s[i], 0);
		if (!ss[i])
			return L->err->code ? -L->err->code : -ENOMEM;
	}
	img_sort(ss, r.ns, sizeof(*ss), cmp_struct);
	lay->structs = ss;
	lay->nstructs = r.ns;
	struct img_lcr_enum *en = img_arena_zalloc(L->a, (r.ne ? r.ne : 1) * sizeof(*en));

	if (!en)
		return -ENOMEM;
	for (uint32_t i = 0; i < r.ne; i++)
		en[i] = (struct img_lcr_enum){ r.e[i]->name, r.e[i]->n, r.e[i]->v };
	lay->enums = en;
	lay->nenums = r.ne;
	/* consts, defaults, props */
	const char *kinds[3] = { "const", "default", "prop" };

	for (int k = 0; k < 3; k++) {
		uint32_t n = 0;
		struct img_lcr_kv *kv = img_arena_zalloc(L->a, (r.nkv ? r.nkv : 1) * sizeof(*kv));

		if (!kv)
			return -ENOMEM;
		for (uint32_t i = 0; i < r.nkv; i++)
			if (!strcmp(r.kv[i].kind, kinds[k]))
				kv[n++] = (struct img_lcr_kv){ r.kv[i].name, r.kv[i].val };
		if (k == 0) {
			lay->consts = kv;
			lay->nconsts = n;
		} else if (k == 1) {
			lay->defaults = kv;
			lay->ndefaults = n;
		} else {
			lay->props = kv;
			lay->nprops = n;
		}
	}
	/* record types: the hdr enum with records.tab */
	const struct img_lcr_enum *hdr = img_lcr_enum_find(lay, "hdr");

	if (!hdr)
		return img_err_set(L->err, EINVAL, "%s: version '%s' has no 'enum hdr'", v->file, v->name);
	struct img_lcr_rectype *rt = img_arena_zalloc(L->a, hdr->n * sizeof(*rt));

	if (!rt)
		return -ENOMEM;
	for (uint32_t i = 0; i < hdr->n; i++) {
		rt[i].type = (uint32_t)hdr->v[i].val;
		rt[i].name = hdr->v[i].name;
		rt[i].desc = rd_for(L, hdr->v[i].name, v->order);
		if (rt[i].desc && rt[i].desc->strct) {
			rt[i].st = img_lcr_struct_find(lay, rt[i].desc->strct);
			if (!rt[i].st)
				return img_err_set(L->err, EINVAL, "records.tab: %s (%s): version %s on %s has no struct '%s'",
						   rt[i].name, v->name, v->name, ra->name, rt[i].desc->strct);
		}
	}
	img_sort(rt, hdr->n, sizeof(*rt), cmp_rectype);
	for (uint32_t i = 1; i < hdr->n; i++)
		if (rt[i].type == rt[i - 1].type)
			return img_err_set(L->err, EINVAL, "%s: record types %s and %s share number %u", v->file,
					   rt[i - 1].name, rt[i].name, rt[i].type);
	lay->recs = rt;
	lay->nrecs = hdr->n;
	return 0;
}

static int cmp_version(const void *a, const void *b)
{
	const struct raw_version *x = *(const struct raw_version *const *)a, *y = *(const struct raw_version *const *)b;

	return strcmp(x->date ? x->date : "", y->date ? y->date : "");
}

static int read_file(const char *path, char **text, struct img_err *err)
{
	struct img_src *src;
	int r = img_src_open(path, &src, err);

	if (r)
		return r;
	*text = img_malloc(src->size + 1);
	if (!*text) {
		img_src_unref(src);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	memcpy(*text, src->data, src->size);
	(*text)[src->size] = 0;
	img_src_unref(src);
	return 0;
}

struct lcr_owned {
	struct img_lcr_tables t;
	struct img_arena a;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int img_lcr_tables_load_dir(const char *dir, struct img_lcr_tables **out, struct img_err *err)
{
	struct lcr_owned *o = img_calloc(1, sizeof(*o));
	struct loader L = { 0 };
	char *names[64];
	int nnames = 0, ret = 0;
	DIR *d;

	if (!o)
		return img_err_set(err, ENOMEM, "out of memory");
	img_arena_init(&o->a);
	L.a = &o->a;
	L.err = err;
	d = opendir(dir);
	if (!d) {
		ret = img_err_set(err, errno, "%s", strerror(errno));
		img_err_subject(err, dir);
		goto fail;
	}
	for (struct dirent *e; (e = readdir(d)) && nnames < 64;) {
		size_t n = strlen(e->d_name);

		if ((n > 7 && !strcmp(e->d_name + n - 7, ".layout")) || !strcmp(e->d_name, "records.tab") ||
		    !strcmp(e->d_name, "convert.tab"))
			names[nnames++] = img_strdup(e->d_name);
	}
	closedir(d);
	img_sort(names, nnames, sizeof(names[0]), cmp_str);
	for (int i = 0; i < nnames && !ret; i++) {
		char path[4096], *text;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ret = read_file(path, &text, err);
		if (ret)
			break;
		if (!strcmp(names[i], "records.tab"))
			ret = parse_records(&L, path, text);
		else if (!strcmp(names[i], "convert.tab"))
			ret = parse_convert(&L, path, text);
		else
			ret = parse_layout(&L, path, text);
		img_free(text);
	}
	for (int i = 0; i < nnames; i++)
		img_free(names[i]);
	if (ret)
		goto fail;
	if (!L.nv) {
		ret = img_err_set(err, EINVAL, "%s: no *.layout files", dir);
		goto fail;
	}
	img_sort(L.v, L.nv, sizeof(L.v[0]), cmp_version);
	for (uint32_t i = 0; i < L.nv; i++)
		L.v[i]->order = (int)i;
	struct img_lcr_version *vers = img_arena_zalloc(&o->a, L.nv * sizeof(*vers));

	if (!vers) {
		ret = img_err_set(err, ENOMEM, "out of memory");
		goto fail;
	}
	for (uint32_t i = 0; i < L.nv && !ret; i++) {
		struct raw_version *v = L.v[i];
		struct img_lcr_layout *lay = img_arena_zalloc(&o->a, (v->narch ? v->narch : 1) * sizeof(*lay));

		if (!v->narch) {
			ret = img_err_set(err, EINVAL, "%s: version '%s' names no arch", v->file, v->name);
			break;
		}
		vers[i] = (struct img_lcr_version){ v->name, v->alias, v->base, v->kernel, v->date, v->source, v->rev,
						    v->narch, lay };
		for (uint32_t k = 0; k < v->narch && !ret; k++)
			ret = build_layout(&L, v, &v->arch[k], &vers[i], &lay[k]);
	}
	if (ret) {
		if (!err->msg[0])
			img_err_set(err, -ret, "%s", strerror(-ret));
		goto fail;
	}
	o->t.versions = vers;
	o->t.nversions = L.nv;
	o->t.recdescs = L.rd;
	o->t.nrecdescs = L.nrd;
	o->t.renames = L.rn;
	o->t.nrenames = L.nrn;
	o->t.fdefaults = L.fd;
	o->t.nfdefaults = L.nfd;
	*out = &o->t;
	return 0;
fail:
	img_arena_free(&o->a);
	img_free(o);
	return ret ? ret : -EINVAL;
}

void img_lcr_tables_free(struct img_lcr_tables *t)
{
	struct lcr_owned *o = (struct lcr_owned *)t;

	if (!o)
		return;
	img_arena_free(&o->a);
	img_free(o);
}
