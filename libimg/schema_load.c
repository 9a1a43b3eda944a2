/*
 * The schema text format, parsed into a registry.  Used at run time by
 * --schema-dir and at build time by tools/schemac, which prints the result as
 * C tables.  The format is described in schemas/README.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "img/schema.h"
#include "img/source.h"
#include "priv.h"

struct raw_field {
	struct img_fielddesc fd;
	const char *tref; /* message or enum name to resolve */
};

struct raw_msg {
	const char *name;
	struct raw_field *f;
	uint32_t n, cap;
	const char *where;
};

struct raw_enum {
	const char *name;
	struct img_enumval *v;
	uint32_t n, cap;
};

struct raw_map {
	const char *name;
	int is_flags;
	struct img_mapent *e;
	uint32_t n, cap;
};

struct raw_kind {
	struct img_kind k;
	const char *msgname;
	const char *where;
};

struct builder {
	struct img_arena *a;
	struct raw_msg *msgs;
	uint32_t nmsgs, capmsgs;
	struct raw_enum *enums;
	uint32_t nenums, capenums;
	struct raw_map *maps;
	uint32_t nmaps, capmaps;
	struct raw_kind *kinds;
	uint32_t nkinds, capkinds;
	struct img_err *err;
};

/* img_arena_grow for the builder's 32-bit counts */
static int grow(struct img_arena *a, void **arr, uint32_t *cap, uint32_t n, size_t size)
{
	size_t c = *cap;
	int r = img_arena_grow(a, arr, &c, n, size);

	if (!r && c > UINT32_MAX)
		return -ENOMEM;
	*cap = (uint32_t)c;
	return r;
}

#define GROW(b, arr, n, cap) grow((b)->a, (void **)&(arr), &(cap), (n), sizeof(*(arr)))

static int split(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;

	while (*p && n < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			break;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = 0;
	}
	return n;
}

/* The next line of text, cut at its newline (empty lines too: line numbers count them). */
static char *next_line(char **rest)
{
	char *line = *rest, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = 0;
		*rest = nl + 1;
	} else
		*rest = line + strlen(line);
	return line;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end || !*s || *s == '-' ? -1 : 0;
}

static int parse_i32(const char *s, int32_t *v)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 0);
	if (errno || *end || !*s || x < INT32_MIN || x > INT32_MAX)
		return -1;
	*v = (int32_t)x;
	return 0;
}

static const char *dup(struct builder *b, const char *s)
{
	return img_arena_strndup(b->a, s, strlen(s));
}

#define SYNTAX(b, file, line, ...) \
	(img_err_subject((b)->err, file), img_err_prefix_set((b)->err, line, __VA_ARGS__))

static int img_err_prefix_set(struct img_err *err, unsigned line, const char *fmt, ...)
	IMG_PRINTF(3, 4);
static int img_err_prefix_set(struct img_err *err, unsigned line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return img_err_set(err, EINVAL, "line %u: %s", line, msg);
}

static int add_field(struct builder *b, struct raw_msg *m, char **t, int nt, const char *file, unsigned ln)
{
	struct raw_field *f;
	uint64_t num;

	if (nt < 4)
		return SYNTAX(b, file, ln, "a field needs NUMBER NAME LABEL TYPE");
	if (GROW(b, m->f, m->n, m->cap))
		return -ENOMEM;
	f = &m->f[m->n];
	memset(f, 0, sizeof(*f));
	if (parse_u64(t[0], &num) || num == 0 || num > 536870911)
		return SYNTAX(b, file, ln, "bad field number '%s'", t[0]);
	f->fd.num = (uint32_t)num;
	f->fd.name = dup(b, t[1]);
	if (!strcmp(t[2], "required"))
		f->fd.label = IMG_L_REQUIRED;
	else if (!strcmp(t[2], "optional"))
		f->fd.label = IMG_L_OPTIONAL;
	else if (!strcmp(t[2], "repeated"))
		f->fd.label = IMG_L_REPEATED;
	else
		return SYNTAX(b, file, ln, "bad label '%s'", t[2]);
	if (!strncmp(t[3], "msg:", 4)) {
		f->fd.type = IMG_T_MESSAGE;
		f->tref = dup(b, t[3] + 4);
	} else if (!strncmp(t[3], "enum:", 5)) {
		f->fd.type = IMG_T_ENUM;
		f->tref = dup(b, t[3] + 5);
	} else {
		f->fd.type = (uint8_t)img_type_from_name(t[3]);
		if (!f->fd.type || f->fd.type == IMG_T_ENUM || f->fd.type == IMG_T_MESSAGE)
			return SYNTAX(b, file, ln, "bad type '%s'", t[3]);
	}
	for (int i = 4; i < nt; i++) {
		const char *h = t[i];

		if (!strcmp(h, "hex"))
			f->fd.hints |= IMG_H_HEX;
		else if (!strcmp(h, "ipadd"))
			f->fd.hints |= IMG_H_IPADD;
		else if (!strcmp(h, "dev"))
			f->fd.hints |= IMG_H_DEV;
		else if (!strcmp(h, "odev"))
			f->fd.hints |= IMG_H_ODEV;
		else if (!strcmp(h, "packed"))
			f->fd.hints |= IMG_H_PACKED;
		else if (!strncmp(h, "flags=", 6))
			f->fd.flags_name = dup(b, h + 6);
		else if (!strncmp(h, "dict=", 5))
			f->fd.dict = dup(b, h + 5);
		else if (!strncmp(h, "conv=", 5)) {
			if (strcmp(h + 5, "unix_name"))
				return SYNTAX(b, file, ln, "unknown conversion '%s'", h + 5);
			f->fd.hints |= IMG_H_UNIX_NAME;
		} else if (!strncmp(h, "default=", 8)) {
			f->fd.defval = dup(b, h + 8);
			f->fd.hints |= IMG_H_HAS_DEFAULT;
		} else
			return SYNTAX(b, file, ln, "unknown hint '%s'", h);
	}
	if (!f->fd.name || (f->tref == NULL && f->fd.type >= IMG_T_ENUM && f->fd.type != IMG_T_STRING &&
			    f->fd.type != IMG_T_BYTES))
		return -ENOMEM;
	m->n++;
	return 0;
}

static int parse_schema_text(struct builder *b, const char *file, char *text)
{
	struct raw_msg *msg = NULL;
	struct raw_enum *en = NULL;
	unsigned ln = 0;
	char *line, *save = NULL;

	for (save = text; (line = next_line(&save));) {
		char *t[16];
		int indented = line[0] == ' ' || line[0] == '\t';
		int nt;

		ln++;
		nt = split(line, t, 16);
		if (!nt)
			continue;
		if (!indented) {
			msg = NULL;
			en = NULL;
			if (nt != 2)
				return SYNTAX(b, file, ln, "expected 'message NAME' or 'enum NAME'");
			if (!strcmp(t[0], "message")) {
				if (GROW(b, b->msgs, b->nmsgs, b->capmsgs))
					return -ENOMEM;
				msg = &b->msgs[b->nmsgs++];
				memset(msg, 0, sizeof(*msg));
				msg->name = dup(b, t[1]);
				msg->where = dup(b, file);
			} else if (!strcmp(t[0], "enum")) {
				if (GROW(b, b->enums, b->nenums, b->capenums))
					return -ENOMEM;
				en = &b->enums[b->nenums++];
				memset(en, 0, sizeof(*en));
				en->name = dup(b, t[1]);
			} else
				return SYNTAX(b, file, ln, "expected 'message NAME' or 'enum NAME'");
			continue;
		}
		if (msg) {
			int r = add_field(b, msg, t, nt, file, ln);

			if (r)
				return r;
		} else if (en) {
			int32_t v;

			if (nt != 2 || parse_i32(t[1], &v))
				return SYNTAX(b, file, ln, "an enum value needs NAME NUMBER");
			if (GROW(b, en->v, en->n, en->cap))
				return -ENOMEM;
			en->v[en->n].name = dup(b, t[0]);
			en->v[en->n].num = v;
			en->n++;
		} else
			return SYNTAX(b, file, ln, "a member line outside a message or enum");
	}
	return 0;
}

static int parse_maps_text(struct builder *b, const char *file, char *text)
{
	struct raw_map *map = NULL;
	char *line, *save = NULL;
	unsigned ln = 0;

	for (save = text; (line = next_line(&save));) {
		int indented = line[0] == ' ' || line[0] == '\t';
		char *t[4];
		int nt;

		ln++;
		nt = split(line, t, 4);
		if (!nt)
			continue;
		if (!indented) {
			if (nt != 2 || (strcmp(t[0], "flags") && strcmp(t[0], "dict")))
				return SYNTAX(b, file, ln, "expected 'flags NAME' or 'dict GROUP.FIELD'");
			if (GROW(b, b->maps, b->nmaps, b->capmaps))
				return -ENOMEM;
			map = &b->maps[b->nmaps++];
			memset(map, 0, sizeof(*map));
			map->name = dup(b, t[1]);
			map->is_flags = !strcmp(t[0], "flags");
			continue;
		}
		if (!map || nt != 2)
			return SYNTAX(b, file, ln, "a map line needs two columns inside a map");
		if (GROW(b, map->e, map->n, map->cap))
			return -ENOMEM;
		const char *name = map->is_flags ? t[0] : t[1];
		const char *val = map->is_flags ? t[1] : t[0];

		if (parse_u64(val, &map->e[map->n].val))
			return SYNTAX(b, file, ln, "bad value '%s'", val);
		map->e[map->n].name = dup(b, name);
		map->n++;
	}
	return 0;
}

static int parse_kinds_text(struct builder *b, const char *file, char *text, uint32_t *heads)
{
	char *line, *save = NULL;
	unsigned ln = 0;

	for (save = text; (line = next_line(&save));) {
		struct raw_kind *rk;
		char *t[10];
		uint64_t v;
		int nt;

		ln++;
		nt = split(line, t, 10);
		if (!nt)
			continue;
		if (!strcmp(t[0], "@head")) {
			if (nt != 3 || parse_u64(t[2], &v) || v > UINT32_MAX)
				return SYNTAX(b, file, ln, "expected '@head NAME MAGIC'");
			if (!strcmp(t[1], "COMMON"))
				heads[0] = (uint32_t)v;
			else if (!strcmp(t[1], "SERVICE"))
				heads[1] = (uint32_t)v;
			else
				return SYNTAX(b, file, ln, "unknown head magic '%s'", t[1]);
			continue;
		}
		if (nt != 8)
			return SYNTAX(b, file, ln, "a kind needs 8 columns, not %d", nt);
		if (GROW(b, b->kinds, b->nkinds, b->capkinds))
			return -ENOMEM;
		rk = &b->kinds[b->nkinds++];
		memset(rk, 0, sizeof(*rk));
		rk->where = dup(b, file);
		rk->k.name = dup(b, t[0]);
		if (t[1][0] == '=')
			rk->k.alias_of = dup(b, t[1] + 1);
		else if (parse_u64(t[1], &v) || v > UINT32_MAX)
			return SYNTAX(b, file, ln, "bad magic '%s'", t[1]);
		else
			rk->k.magic = (uint32_t)v;
		rk->k.json = strcmp(t[2], "-") ? dup(b, t[2]) : NULL;
		rk->k.pattern = dup(b, t[3]);
		rk->msgname = strcmp(t[4], "-") ? dup(b, t[4]) : NULL;
		char *plus = strchr(t[5], '+');

		if (plus) {
			*plus++ = 0;
			rk->k.extra = 0;
			for (int x = IMG_X_PIPE_DATA; x <= IMG_X_IPC_SHM; x++)
				if (!strcmp(plus, img_extra_name(x)))
					rk->k.extra = (uint8_t)x;
			if (!rk->k.extra)
				return SYNTAX(b, file, ln, "unknown extra payload '%s'", plus);
		}
		for (int l = IMG_LAY_SINGLE; l <= IMG_LAY_OPAQUE; l++)
			if (!strcmp(t[5], img_layout_name(l)))
				rk->k.layout = (uint8_t)l;
		if (!rk->k.layout)
			return SYNTAX(b, file, ln, "unknown layout '%s'", t[5]);
		if (!strcmp(t[6], "common"))
			rk->k.head = IMG_HEAD_COMMON;
		else if (!strcmp(t[6], "service"))
			rk->k.head = IMG_HEAD_SERVICE;
		else if (!strcmp(t[6], "none"))
			rk->k.head = IMG_HEAD_NONE;
		else
			return SYNTAX(b, file, ln, "bad head '%s'", t[6]);
		if (!strcmp(t[7], "legacy"))
			rk->k.legacy = 1;
		else if (strcmp(t[7], "current"))
			return SYNTAX(b, file, ln, "bad status '%s'", t[7]);
	}
	return 0;
}

static int cmp_msg(const void *a, const void *b)
{
	return strcmp(((const struct raw_msg *)a)->name, ((const struct raw_msg *)b)->name);
}

static int cmp_enum(const void *a, const void *b)
{
	return strcmp(((const struct raw_enum *)a)->name, ((const struct raw_enum *)b)->name);
}

static int cmp_map(const void *a, const void *b)
{
	return strcmp(((const struct raw_map *)a)->name, ((const struct raw_map *)b)->name);
}

static int cmp_field(const void *a, const void *b)
{
	uint32_t x = ((const struct img_fielddesc *)a)->num, y = ((const struct img_fielddesc *)b)->num;

	return x < y ? -1 : x > y;
}

static int finish(struct builder *b, struct img_schema *s)
{
	struct img_msgdesc *msgs;
	struct img_enumdesc *enums;
	struct img_map *maps;
	struct img_kind *kinds;

	/* a folder may have none of some (no maps.tab): qsort takes no NULL array */
	if (b->nmsgs)
		img_sort(b->msgs, b->nmsgs, sizeof(*b->msgs), cmp_msg);
	if (b->nenums)
		img_sort(b->enums, b->nenums, sizeof(*b->enums), cmp_enum);
	if (b->nmaps)
		img_sort(b->maps, b->nmaps, sizeof(*b->maps), cmp_map);
	msgs = img_arena_zalloc(b->a, (b->nmsgs + 1) * sizeof(*msgs));
	enums = img_arena_zalloc(b->a, (b->nenums + 1) * sizeof(*enums));
	maps = img_arena_zalloc(b->a, (b->nmaps + 1) * sizeof(*maps));
	kinds = img_arena_zalloc(b->a, (b->nkinds + 1) * sizeof(*kinds));
	if (!msgs || !enums || !maps || !kinds)
		return -ENOMEM;
	for (uint32_t i = 0; i < b->nenums; i++) {
		if (i && !strcmp(b->enums[i].name, b->enums[i - 1].name))
			return img_err_set(b->err, EINVAL, "enum %s is defined twice", b->enums[i].name);
		enums[i].name = b->enums[i].name;
		enums[i].nvals = b->enums[i].n;
		enums[i].vals = b->enums[i].v;
	}
	for (uint32_t i = 0; i < b->nmaps; i++) {
		maps[i].name = b->maps[i].name;
		maps[i].is_flags = b->maps[i].is_flags;
		maps[i].n = b->maps[i].n;
		maps[i].ents = b->maps[i].e;
	}
	s->msgs = msgs;
	s->nmsgs = b->nmsgs;
	s->enums = enums;
	s->nenums = b->nenums;
	s->maps = maps;
	s->nmaps = b->nmaps;
	for (uint32_t i = 0; i < b->nmsgs; i++)
		msgs[i].name = b->msgs[i].name; /* names first: fields refer to messages by name */
	for (uint32_t i = 0; i < b->nmsgs; i++) {
		struct raw_msg *rm = &b->msgs[i];
		struct img_fielddesc *f = img_arena_zalloc(b->a, (rm->n + 1) * sizeof(*f));

		if (!f)
			return -ENOMEM;
		if (i && !strcmp(rm->name, b->msgs[i - 1].name))
			return img_err_set(b->err, EINVAL, "message %s is defined twice", rm->name);
		for (uint32_t j = 0; j < rm->n; j++) {
			struct raw_field *rf = &rm->f[j];

			f[j] = rf->fd;
			if (rf->fd.type == IMG_T_MESSAGE) {
				f[j].msg = img_schema_msg(s, rf->tref);
				if (!f[j].msg)
					goto unresolved;
			} else if (rf->fd.type == IMG_T_ENUM) {
				f[j].en = img_schema_enum(s, rf->tref);
				if (!f[j].en)
					goto unresolved;
			}
			if (rf->fd.flags_name)
				f[j].flags = img_schema_map(s, rf->fd.flags_name);
			continue;
unresolved:
			img_err_subject(b->err, rm->where);
			return img_err_set(b->err, EINVAL, "%s.%s: unknown type '%s'", rm->name,
					   rf->fd.name, rf->tref);
		}
		img_sort(f, rm->n, sizeof(*f), cmp_field);
		for (uint32_t j = 1; j < rm->n; j++)
			if (f[j].num == f[j - 1].num) {
				img_err_subject(b->err, rm->where);
				return img_err_set(b->err, EINVAL, "%s: field number %u is used twice",
						   rm->name, f[j].num);
			}
		msgs[i].name = rm->name;
		msgs[i].nfields = rm->n;
		msgs[i].fields = f;
	}
	for (uint32_t i = 0; i < b->nkinds; i++) {
		struct raw_kind *rk = &b->kinds[i];

		kinds[i] = rk->k;
		if (rk->msgname) {
			kinds[i].msg = img_schema_msg(s, rk->msgname);
			if (!kinds[i].msg) {
				img_err_subject(b->err, rk->where);
				return img_err_set(b->err, EINVAL, "kind %s: unknown message '%s'",
						   rk->k.name, rk->msgname);
			}
		}
	}
	/* Aliases take the magic of the kind they name. */
	for (uint32_t i = 0; i < b->nkinds; i++) {
		if (!kinds[i].alias_of)
			continue;
		uint32_t j;

		for (j = 0; j < b->nkinds; j++)
			if (!kinds[j].alias_of && !strcmp(kinds[j].name, kinds[i].alias_of))
				break;
		if (j == b->nkinds) {
			img_err_subject(b->err, b->kinds[i].where);
			return img_err_set(b->err, EINVAL, "kind %s: alias of unknown kind '%s'",
					   kinds[i].name, kinds[i].alias_of);
		}
		kinds[i].magic = kinds[j].magic;
	}
	s->kinds = kinds;
	s->nkinds = b->nkinds;
	return 0;
}

static int read_text(const char *path, char **out, struct img_err *err)
{
	struct img_src *src;
	int r = img_src_open(path, &src, err);

	if (r)
		return r;
	*out = img_strndup((const char *)src->data, src->size);
	img_src_unref(src);
	if (!*out)
		return img_err_set(err, ENOMEM, "out of memory");
	return 0;
}

int img_schema_load_dir(const char *dir, struct img_schema **out, struct img_err *err)
{
	struct img_arena *a = img_calloc(1, sizeof(*a));
	struct img_schema *s = img_calloc(1, sizeof(*s));
	struct builder b = { 0 };
	char **all = NULL, *names[512];
	size_t nall = 0;
	int nnames = 0, r = 0, have_kinds = 0;
	uint32_t heads[2] = { IMG_MAGIC_COMMON, IMG_MAGIC_SERVICE };

	if (!a || !s) {
		img_free(a);
		img_free(s);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	img_arena_init(a);
	b.a = a;
	b.err = err;
	r = img_listdir_path(dir, &all, &nall);
	if (r) {
		img_err_subject(err, dir);
		img_err_set(err, -r, "%s", r == -ENOMEM ? "out of memory" : strerror(-r));
		goto fail;
	}
	/* sorted already: the schema files, images.tab and maps.tab */
	for (size_t i = 0; i < nall && nnames < 512; i++) {
		size_t l = strlen(all[i]);

		if ((l > 7 && !strcmp(all[i] + l - 7, ".schema")) || !strcmp(all[i], "maps.tab") ||
		    !strcmp(all[i], "images.tab"))
			names[nnames++] = all[i];
	}
	for (int i = 0; i < nnames && !r; i++) {
		char path[PATH_MAX], *text;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		r = read_text(path, &text, err);
		if (r)
			break;
		if (!strcmp(names[i], "maps.tab"))
			r = parse_maps_text(&b, path, text);
		else if (!strcmp(names[i], "images.tab")) {
			r = parse_kinds_text(&b, path, text, heads);
			have_kinds = 1;
		} else
			r = parse_schema_text(&b, path, text);
		img_free(text);
	}
	img_listdir_free(all, nall);
	if (!r && !have_kinds) {
		img_err_subject(err, dir);
		r = img_err_set(err, ENOENT, "no images.tab in the schema folder");
	}
	if (!r && (heads[0] != IMG_MAGIC_COMMON || heads[1] != IMG_MAGIC_SERVICE)) {
		img_err_subject(err, dir);
		r = img_err_set(err, EINVAL, "images.tab: the head magics differ from CRIU's");
	}
	if (!r)
		r = finish(&b, s);
	if (r == -ENOMEM)
		img_err_set(err, ENOMEM, "out of memory");
	if (r)
		goto fail;
	s->owned = a;
	*out = s;
	return 0;
fail:
	img_arena_free(a);
	img_free(a);
	img_free(s);
	return r;
}

void img_schema_free(struct img_schema *s)
{
	if (!s || !s->owned)
		return;
	img_arena_free(s->owned);
	img_free(s->owned);
	img_free(s);
}
