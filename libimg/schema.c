/*
 * The schema registry: lookups over messages, enums, maps and image kinds, and
 * the parser of the schema text format (schemas/README.md).  The build runs
 * the same parser to turn schemas/ into C tables; --schema-dir runs it at run
 * time.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "img/schema.h"
#include "img/source.h"

static const char *const type_names[IMG_T__COUNT] = {
	[IMG_T_DOUBLE] = "double", [IMG_T_FLOAT] = "float",
	[IMG_T_INT32] = "int32", [IMG_T_INT64] = "int64",
	[IMG_T_UINT32] = "uint32", [IMG_T_UINT64] = "uint64",
	[IMG_T_SINT32] = "sint32", [IMG_T_SINT64] = "sint64",
	[IMG_T_FIXED32] = "fixed32", [IMG_T_FIXED64] = "fixed64",
	[IMG_T_SFIXED32] = "sfixed32", [IMG_T_SFIXED64] = "sfixed64",
	[IMG_T_BOOL] = "bool", [IMG_T_ENUM] = "enum", [IMG_T_STRING] = "string",
	[IMG_T_BYTES] = "bytes", [IMG_T_MESSAGE] = "msg",
};

const char *img_type_name(int type)
{
	return type > 0 && type < IMG_T__COUNT ? type_names[type] : "?";
}

int img_type_from_name(const char *s)
{
	for (int i = 1; i < IMG_T__COUNT; i++)
		if (!strcmp(type_names[i], s))
			return i;
	return 0;
}

static const char *const layout_names[] = {
	[IMG_LAY_SINGLE] = "single", [IMG_LAY_ARRAY] = "array", [IMG_LAY_PAGEMAP] = "pagemap",
	[IMG_LAY_GHOST] = "ghost", [IMG_LAY_VADDR_PAGES] = "vaddr-pages", [IMG_LAY_RAW] = "raw",
	[IMG_LAY_OPAQUE] = "opaque",
};

static const char *const extra_names[] = {
	[IMG_X_NONE] = "none", [IMG_X_PIPE_DATA] = "pipe-data", [IMG_X_SK_QUEUE] = "sk-queue",
	[IMG_X_TCP_STREAM] = "tcp-stream", [IMG_X_BPFMAP_DATA] = "bpfmap-data",
	[IMG_X_IPC_SEM] = "ipc-sem", [IMG_X_IPC_MSG] = "ipc-msg", [IMG_X_IPC_SHM] = "ipc-shm",
};

const char *img_layout_name(int l)
{
	return l > 0 && l <= IMG_LAY_OPAQUE ? layout_names[l] : "?";
}

const char *img_extra_name(int x)
{
	return x >= 0 && x <= IMG_X_IPC_SHM ? extra_names[x] : "?";
}

/* Lookups */

#define BSEARCH_BY_NAME(arr, n, key)                                  \
	do {                                                          \
		uint32_t lo = 0, hi = (n);                            \
		while (lo < hi) {                                     \
			uint32_t mid = (lo + hi) / 2;                 \
			int c = strcmp((arr)[mid].name, (key));       \
			if (!c)                                       \
				return &(arr)[mid];                   \
			if (c < 0)                                    \
				lo = mid + 1;                         \
			else                                          \
				hi = mid;                             \
		}                                                     \
		return NULL;                                          \
	} while (0)

const struct img_msgdesc *img_schema_msg(const struct img_schema *s, const char *name)
{
	BSEARCH_BY_NAME(s->msgs, s->nmsgs, name);
}

const struct img_enumdesc *img_schema_enum(const struct img_schema *s, const char *name)
{
	BSEARCH_BY_NAME(s->enums, s->nenums, name);
}

const struct img_map *img_schema_map(const struct img_schema *s, const char *name)
{
	BSEARCH_BY_NAME(s->maps, s->nmaps, name);
}

const struct img_kind *img_kind_by_name(const struct img_schema *s, const char *name)
{
	for (uint32_t i = 0; i < s->nkinds; i++)
		if (!strcmp(s->kinds[i].name, name))
			return &s->kinds[i];
	return NULL;
}

const struct img_kind *img_kind_by_json(const struct img_schema *s, const char *json)
{
	/* The first kind that prints this name is the one encode writes. */
	for (uint32_t i = 0; i < s->nkinds; i++)
		if (s->kinds[i].json && !strcmp(s->kinds[i].json, json))
			return &s->kinds[i];
	return NULL;
}

/*
 * Match a file name against a pattern with one conversion (%u %lu %d %ld %x %s).
 * Numbers must be plain digits (hex digits for %x) and fit in 64 bits.
 */
int img_kind_match(const struct img_kind *k, const char *fname, uint64_t *id, char *word, size_t wlen)
{
	const char *p = k->pattern, *f = fname;

	while (*p && *p != '%') {
		if (*p++ != *f++)
			return 0;
	}
	if (!*p)
		return !*f;
	p++;
	while (*p == 'l')
		p++;
	char conv = *p++;
	size_t tail = strlen(p), flen = strlen(f);

	if (flen <= tail || strcmp(f + flen - tail, p))
		return 0;
	size_t n = flen - tail;
	uint64_t v = 0;

	if (conv == 's') {
		for (size_t i = 0; i < n; i++)
			if (f[i] == '/')
				return 0;
		if (word && wlen) {
			size_t c = n < wlen - 1 ? n : wlen - 1;

			memcpy(word, f, c);
			word[c] = 0;
		}
		return 1;
	}
	int base = conv == 'x' ? 16 : 10;

	for (size_t i = 0; i < n; i++) {
		int d;

		if (f[i] >= '0' && f[i] <= '9')
			d = f[i] - '0';
		else if (base == 16 && f[i] >= 'a' && f[i] <= 'f')
			d = f[i] - 'a' + 10;
		else if (conv == 'd' && i == 0 && f[i] == '-' && n > 1)
			continue;
		else
			return 0;
		if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return 0;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	if (id)
		*id = v;
	return 1;
}

int img_kind_filename(const struct img_kind *k, uint64_t id, const char *word, char *buf, size_t len)
{
	const char *p = strchr(k->pattern, '%');
	int n;

	if (!p)
		n = snprintf(buf, len, "%s", k->pattern);
	else {
		const char *q = p + 1;

		while (*q == 'l')
			q++;
		char conv = *q++;

		if (conv == 's')
			n = snprintf(buf, len, "%.*s%s%s", (int)(p - k->pattern), k->pattern, word ? word : "", q);
		else
			n = snprintf(buf, len, conv == 'x' ? "%.*s%llx%s" : "%.*s%llu%s", (int)(p - k->pattern),
				     k->pattern, (unsigned long long)id, q);
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The most specific pattern wins: "pagemap-shmem-%lu" over "pagemap-%lu". */
static size_t pattern_literal_len(const char *p)
{
	size_t n = 0;

	for (; *p; p++)
		if (*p != '%' && *p != 'l' && *p != 'u' && *p != 'd' && *p != 'x' && *p != 's')
			n++;
	return n + strlen(p);
}

const struct img_kind *img_kind_by_file(const struct img_schema *s, const char *fname)
{
	const struct img_kind *best = NULL;
	size_t best_len = 0;
	const char *base = strrchr(fname, '/');

	base = base ? base + 1 : fname;
	for (uint32_t i = 0; i < s->nkinds; i++) {
		const struct img_kind *k = &s->kinds[i];

		if (!img_kind_match(k, base, NULL, NULL, 0))
			continue;
		size_t l = strlen(k->pattern) + pattern_literal_len(k->pattern);

		if (!best || l > best_len) {
			best = k;
			best_len = l;
		}
	}
	return best;
}

const struct img_kind *img_kind_by_magic(const struct img_schema *s, uint32_t magic, const char *fname)
{
	const struct img_kind *first = NULL;
	const char *base = NULL;

	if (!magic)
		return NULL;
	if (fname) {
		base = strrchr(fname, '/');
		base = base ? base + 1 : fname;
	}
	for (uint32_t i = 0; i < s->nkinds; i++) {
		const struct img_kind *k = &s->kinds[i];

		if (k->magic != magic)
			continue;
		if (base && img_kind_match(k, base, NULL, NULL, 0)) {
			/* pages-1.img with the pagemap magic: the pre-0.5 vaddr:page layout */
			const struct img_kind *by_file = img_kind_by_file(s, base);

			if (by_file && by_file->magic == magic)
				return by_file;
			return k;
		}
		/* A kind that only reads old layouts is chosen only by its file name. */
		if (!first && k->layout != IMG_LAY_VADDR_PAGES)
			first = k;
	}
	return first;
}

const struct img_fielddesc *img_msgdesc_field(const struct img_msgdesc *d, uint32_t num)
{
	uint32_t lo = 0, hi = d->nfields;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (d->fields[mid].num == num)
			return &d->fields[mid];
		if (d->fields[mid].num < num)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct img_fielddesc *img_msgdesc_field_by_name(const struct img_msgdesc *d, const char *name)
{
	for (uint32_t i = 0; i < d->nfields; i++)
		if (!strcmp(d->fields[i].name, name))
			return &d->fields[i];
	return NULL;
}

const struct img_enumval *img_enum_by_num(const struct img_enumdesc *e, int32_t num)
{
	for (uint32_t i = 0; i < e->nvals; i++)
		if (e->vals[i].num == num)
			return &e->vals[i];
	return NULL;
}

const struct img_enumval *img_enum_by_name(const struct img_enumdesc *e, const char *name)
{
	for (uint32_t i = 0; i < e->nvals; i++)
		if (!strcmp(e->vals[i].name, name))
			return &e->vals[i];
	return NULL;
}
