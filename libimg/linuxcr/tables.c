/* Lookups in the linux-cr tables, and integers at struct fields. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "img/linuxcr.h"
#include "lcr.h"

const struct img_lcr_version *img_lcr_version_find(const struct img_lcr_tables *t, const char *name)
{
	if (!strncmp(name, "linuxcr-", 8))
		name += 8;
	for (uint32_t i = 0; i < t->nversions; i++) {
		const struct img_lcr_version *v = &t->versions[i];

		if (!strcmp(v->name, name) || (v->alias && !strcmp(v->alias, name)))
			return v;
	}
	return NULL;
}

int img_lcr_version_index(const struct img_lcr_tables *t, const struct img_lcr_version *v)
{
	for (uint32_t i = 0; i < t->nversions; i++)
		if (&t->versions[i] == v || !strcmp(t->versions[i].name, v->name))
			return (int)i;
	return -1;
}

const struct img_lcr_layout *img_lcr_layout_find(const struct img_lcr_version *v, const char *arch)
{
	for (uint32_t i = 0; i < v->nlayouts; i++)
		if (!arch || !strcmp(v->layouts[i].arch, arch))
			return &v->layouts[i];
	return NULL;
}

const struct img_lcr_struct *img_lcr_struct_find(const struct img_lcr_layout *l, const char *name)
{
	uint32_t lo = 0, hi = l->nstructs;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int c = strcmp(l->structs[mid]->name, name);

		if (!c)
			return l->structs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct img_lcr_enum *img_lcr_enum_find(const struct img_lcr_layout *l, const char *name)
{
	for (uint32_t i = 0; i < l->nenums; i++)
		if (!strcmp(l->enums[i].name, name))
			return &l->enums[i];
	return NULL;
}

const char *img_lcr_enum_name(const struct img_lcr_enum *e, int64_t val)
{
	if (!e)
		return NULL;
	for (uint32_t i = 0; i < e->n; i++)
		if (e->v[i].val == val)
			return e->v[i].name;
	return NULL;
}

int img_lcr_enum_val(const struct img_lcr_enum *e, const char *name, int64_t *val)
{
	if (!e)
		return -ENOENT;
	for (uint32_t i = 0; i < e->n; i++)
		if (!strcmp(e->v[i].name, name)) {
			*val = e->v[i].val;
			return 0;
		}
	return -ENOENT;
}

int img_lcr_kv_get(const struct img_lcr_kv *kv, uint32_t n, const char *name, int64_t *val)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(kv[i].name, name)) {
			*val = kv[i].val;
			return 0;
		}
	return -ENOENT;
}

const struct img_lcr_rectype *img_lcr_rectype(const struct img_lcr_layout *l, uint32_t type)
{
	uint32_t lo = 0, hi = l->nrecs;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (l->recs[mid].type == type)
			return &l->recs[mid];
		if (l->recs[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct img_lcr_rectype *img_lcr_rectype_by_name(const struct img_lcr_layout *l, const char *name)
{
	for (uint32_t i = 0; i < l->nrecs; i++)
		if (!strcmp(l->recs[i].name, name))
			return &l->recs[i];
	return NULL;
}

static int vindex(const struct img_lcr_tables *t, const char *name)
{
	const struct img_lcr_version *v = img_lcr_version_find(t, name);

	return v ? img_lcr_version_index(t, v) : -1;
}

const struct img_lcr_recdesc *img_lcr_recdesc_find(const struct img_lcr_tables *t, const struct img_lcr_layout *l,
						   const char *name)
{
	const struct img_lcr_recdesc *best = NULL;
	int at = img_lcr_version_index(t, l->ver);

	for (uint32_t i = 0; i < t->nrecdescs; i++) {
		const struct img_lcr_recdesc *d = &t->recdescs[i];

		if (strcmp(d->name, name))
			continue;
		if (d->since && vindex(t, d->since) > at)
			continue;
		if (d->until && vindex(t, d->until) < at)
			continue;
		best = d;
	}
	return best;
}

uint32_t img_lcr_type_size(uint8_t type)
{
	switch (type) {
	case IMG_LCR_U8:
	case IMG_LCR_S8:
	case IMG_LCR_CHAR:
		return 1;
	case IMG_LCR_U16:
	case IMG_LCR_S16:
	case IMG_LCR_BE16:
		return 2;
	case IMG_LCR_U32:
	case IMG_LCR_S32:
	case IMG_LCR_BE32:
		return 4;
	case IMG_LCR_U64:
	case IMG_LCR_S64:
		return 8;
	}
	return 0;
}

uint32_t img_lcr_field_size(const struct img_lcr_field *f)
{
	return f->type == IMG_LCR_STRUCT ? f->sub->size : img_lcr_type_size(f->type);
}

int img_lcr_type_signed(uint8_t type)
{
	return type == IMG_LCR_S8 || type == IMG_LCR_S16 || type == IMG_LCR_S32 || type == IMG_LCR_S64;
}

uint64_t img_lcr_get_u(const uint8_t *base, uint32_t off, uint8_t type)
{
	const uint8_t *p = base + off;

	switch (type) {
	case IMG_LCR_U8:
	case IMG_LCR_S8:
	case IMG_LCR_CHAR:
		return p[0];
	case IMG_LCR_U16:
	case IMG_LCR_S16:
		return img_get_u16(p);
	case IMG_LCR_U32:
	case IMG_LCR_S32:
		return img_get_u32(p);
	case IMG_LCR_U64:
	case IMG_LCR_S64:
		return img_get_u64(p);
	case IMG_LCR_BE16:
		return (uint64_t)p[0] << 8 | p[1];
	case IMG_LCR_BE32:
		return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
	}
	return 0;
}

int64_t img_lcr_get_s(const uint8_t *base, uint32_t off, uint8_t type)
{
	uint64_t u = img_lcr_get_u(base, off, type);

	switch (type) {
	case IMG_LCR_S8:
		return (int8_t)u;
	case IMG_LCR_S16:
		return (int16_t)u;
	case IMG_LCR_S32:
		return (int32_t)u;
	}
	return (int64_t)u;
}

void img_lcr_put(uint8_t *base, uint32_t off, uint8_t type, uint64_t v)
{
	uint8_t *p = base + off;

	switch (type) {
	case IMG_LCR_U8:
	case IMG_LCR_S8:
	case IMG_LCR_CHAR:
		p[0] = (uint8_t)v;
		break;
	case IMG_LCR_U16:
	case IMG_LCR_S16:
		img_put_u16(p, (uint16_t)v);
		break;
	case IMG_LCR_U32:
	case IMG_LCR_S32:
		img_put_u32(p, (uint32_t)v);
		break;
	case IMG_LCR_U64:
	case IMG_LCR_S64:
		img_put_u64(p, v);
		break;
	case IMG_LCR_BE16:
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
		break;
	case IMG_LCR_BE32:
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
		break;
	}
}

int img_lcr_fits(uint8_t type, uint64_t v, int neg)
{
	uint32_t bits = img_lcr_type_size(type) * 8;

	if (bits == 64)
		return !neg || img_lcr_type_signed(type) || type == IMG_LCR_U64;
	if (neg) {
		int64_t s = (int64_t)v;
		int64_t min = img_lcr_type_signed(type) ? -((int64_t)1 << (bits - 1)) : 0;

		return s >= min;
	}
	return v <= (img_lcr_type_signed(type) ? ((uint64_t)1 << (bits - 1)) - 1 : ((uint64_t)1 << bits) - 1);
}

/* "name", "name[3]", "a.b[2].c" */
int img_lcr_field_ref(const struct img_lcr_struct *s, const char *path, struct img_lcr_fref *out)
{
	uint32_t base = 0;
	char part[64];

	for (;;) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		int index = -1;
		const struct img_lcr_field *f = NULL;

		if (n >= sizeof(part))
			return -ENOENT;
		memcpy(part, path, n);
		part[n] = 0;
		char *br = strchr(part, '[');

		if (br) {
			*br = 0;
			index = atoi(br + 1);
		}
		for (uint32_t i = 0; i < s->nfields; i++)
			if (!strcmp(s->fields[i].name, part)) {
				f = &s->fields[i];
				break;
			}
		if (!f) {
			/* a struct that starts with its base (ckpt_hdr_file_pipe.common): the base's fields too */
			const struct img_lcr_field *b0 = s->nfields ? &s->fields[0] : NULL;

			if (!b0 || b0->off || b0->type != IMG_LCR_STRUCT || b0->count || !strcmp(b0->sub->name, "ckpt_hdr"))
				return -ENOENT;
			s = b0->sub;
			continue;
		}
		if (index >= 0 && (!f->count || (uint32_t)index >= f->count))
			return -ENOENT;
		uint32_t esz = img_lcr_field_size(f);
		uint32_t off = base + f->off + (index > 0 ? (uint32_t)index * esz : 0);

		if (!dot) {
			out->f = f;
			out->off = off;
			out->size = esz;
			out->index = f->count ? index : -1;
			return 0;
		}
		if (f->type != IMG_LCR_STRUCT || (f->count && index < 0))
			return -ENOENT;
		s = f->sub;
		base = off;
		path = dot + 1;
	}
}

static uint32_t type_align(uint8_t type, uint32_t long_size)
{
	uint32_t sz = img_lcr_type_size(type);

	/* i386 aligns 8-byte integers to 4 inside structs */
	return sz == 8 && long_size == 4 ? 4 : sz;
}

static uint32_t up(uint32_t x, uint32_t a)
{
	return a ? (x + a - 1) / a * a : x;
}

int img_lcr_struct_check(const struct img_lcr_struct *s, uint32_t long_size, struct img_err *err)
{
	uint32_t end = 0, align = 1, uend = 0, ustart = 0;
	uint8_t ugroup = 0;

	for (uint32_t i = 0; i < s->nfields; i++) {
		const struct img_lcr_field *f = &s->fields[i];
		uint32_t a = f->type == IMG_LCR_STRUCT ? f->sub->align : type_align(f->type, long_size);
		uint32_t sz = f->flex ? 0 : img_lcr_field_size(f) * (f->count ? f->count : 1);
		uint32_t want;

		if (f->align > a)
			a = f->align;
		if (a > align)
			align = a;
		if (f->un && f->un == ugroup) {
			/* another member of the union: at the union's start */
			want = ustart;
		} else {
			if (ugroup)
				end = uend;
			ugroup = f->un;
			want = up(end, a);
			ustart = want;
			uend = want;
		}
		if (f->off != want)
			return img_err_set(err, EINVAL,
					   "struct %s: field %s at offset %u, but C puts it at %u (after %u bytes, aligned to %u)",
					   s->name, f->name, f->off, want, end, a);
		if (f->un) {
			if (want + sz > uend)
				uend = want + sz;
		} else {
			end = want + sz;
		}
	}
	if (ugroup)
		end = uend;
	if (s->attr_align > align)
		align = s->attr_align;
	if (align != s->align)
		return img_err_set(err, EINVAL, "struct %s: alignment %u, but its fields and attributes give %u", s->name,
				   s->align, align);
	if (up(end, align) != s->size)
		return img_err_set(err, EINVAL, "struct %s: size %u, but C gives %u (fields end at %u, aligned to %u)",
				   s->name, s->size, up(end, align), end, align);
	return 0;
}
