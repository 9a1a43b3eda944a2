/*
 * A linux-cr stream as JSON: every record with its decoded fields, what it
 * holds when it follows another record (strings, the process tree, the
 * saved auxv, page arrays), the objects, and a summary of the view.  The
 * layout is described in man/cr-inspect.1 (decode).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "img/linuxcr.h"
#include "lcr.h"

static void hex(struct img_jw *w, const uint8_t *p, size_t n)
{
	static const char d[] = "0123456789abcdef";
	char *s = img_malloc(2 * n + 1);

	if (!s) {
		img_jw_null(w);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = d[p[i] >> 4];
		s[2 * i + 1] = d[p[i] & 15];
	}
	img_jw_strn(w, s, 2 * n);
	img_free(s);
}

static void scalar(struct img_jw *w, const uint8_t *p, uint32_t off, uint8_t type)
{
	if (img_lcr_type_signed(type))
		img_jw_i64(w, img_lcr_get_s(p, off, type));
	else
		img_jw_u64(w, img_lcr_get_u(p, off, type));
}

static void text(struct img_jw *w, const uint8_t *p, size_t n)
{
	img_jw_strn(w, (const char *)p, strnlen((const char *)p, n));
}

static void fields(struct img_jw *w, const struct img_lcr_struct *st, const uint8_t *p, uint32_t base, uint32_t len,
		   int skip_hdr);

static void value(struct img_jw *w, const struct img_lcr_field *f, const uint8_t *p, uint32_t off, uint32_t len)
{
	uint32_t esz = img_lcr_field_size(f);

	if (f->count && f->type == IMG_LCR_CHAR) {
		text(w, p + off, f->count);
		return;
	}
	if (f->count)
		img_jw_arr_begin(w);
	for (uint32_t k = 0; k < (f->count ? f->count : 1); k++) {
		uint32_t o = off + k * esz;

		if (o + esz > len)
			break;
		if (f->type == IMG_LCR_STRUCT) {
			img_jw_obj_begin(w);
			fields(w, f->sub, p, o, len, 0);
			img_jw_obj_end(w);
		} else {
			scalar(w, p, o, f->type);
		}
	}
	if (f->count)
		img_jw_arr_end(w);
}

static void fields(struct img_jw *w, const struct img_lcr_struct *st, const uint8_t *p, uint32_t base, uint32_t len,
		   int skip_hdr)
{
	for (uint32_t i = 0; i < st->nfields; i++) {
		const struct img_lcr_field *f = &st->fields[i];

		if (skip_hdr && !i && f->type == IMG_LCR_STRUCT && !strcmp(f->sub->name, "ckpt_hdr"))
			continue; /* type and len are printed with the record */
		if (skip_hdr && !i && f->type == IMG_LCR_STRUCT && f->sub->nfields &&
		    f->sub->fields[0].type == IMG_LCR_STRUCT && !strcmp(f->sub->fields[0].sub->name, "ckpt_hdr")) {
			/* a struct that starts with its base (file subtypes): the base's fields inline */
			fields(w, f->sub, p, base + f->off, len, 1);
			continue;
		}
		if (f->flex)
			continue; /* the record's tail, printed after the fields */
		if (base + f->off >= len)
			break;
		img_jw_key(w, f->name);
		value(w, f, p, base + f->off, len);
	}
}

/* count elements of elem from a payload */
static void array(struct img_jw *w, const struct img_lcr_layout *l, const char *elem, const uint8_t *p, size_t n,
		  int64_t count)
{
	uint8_t et;
	const struct img_lcr_struct *es;
	uint32_t esz = lcr_elem_size(l, elem, &et, &es);

	if (!esz)
		return;
	if (et == IMG_LCR_CHAR) {
		text(w, p, n);
		return;
	}
	if (et == IMG_LCR_U8) {
		hex(w, p, count >= 0 && (uint64_t)count < n ? (size_t)count : n);
		return;
	}
	img_jw_arr_begin(w);
	for (size_t k = 0; (k + 1) * esz <= n && (count < 0 || (int64_t)k < count); k++) {
		if (es) {
			img_jw_obj_begin(w);
			fields(w, es, p + k * esz, 0, esz, 0);
			img_jw_obj_end(w);
		} else {
			scalar(w, p + k * esz, 0, et);
		}
	}
	img_jw_arr_end(w);
}

static void payload(struct img_jw *w, const struct img_lcr_image *img, const struct img_lcr_rec *r, unsigned flags)
{
	const uint8_t *p = img_lcr_payload(r);
	uint32_t n = img_lcr_payload_len(r);
	const struct img_lcr_layout *l = img->lay;

	if (r->role && !strcmp(r->role, "pages") && r->parent >= 0) {
		uint64_t np = 0;
		uint32_t ls = l->long_size;

		img_lcr_rec_u64(&img->r[r->parent], "nr_pages", &np);
		if (np > n / (ls + l->page_size))
			np = n / (ls + l->page_size);
		img_jw_kv_u64(w, "npages", np);
		img_jw_key(w, "addrs");
		img_jw_arr_begin(w);
		for (uint64_t k = 0; k < np; k++)
			img_jw_u64(w, img_lcr_get_u(p, (uint32_t)(k * ls), ls == 8 ? IMG_LCR_U64 : IMG_LCR_U32));
		img_jw_arr_end(w);
		if (flags & IMG_LCR_JSON_PAGES) {
			img_jw_key(w, "pages");
			img_jw_arr_begin(w);
			for (uint64_t k = 0; k < np; k++)
				hex(w, p + np * ls + k * l->page_size, l->page_size);
			img_jw_arr_end(w);
		}
		return;
	}
	if (r->role && !strcmp(r->role, "auxv")) {
		int64_t es = 8;

		img_lcr_kv_get(l->props, l->nprops, "auxv_entry", &es);
		img_jw_key(w, "auxv");
		img_jw_arr_begin(w);
		for (uint32_t k = 0; (k + 2) * (uint32_t)es <= n; k += 2) {
			uint8_t t = es == 8 ? IMG_LCR_U64 : IMG_LCR_U32;
			uint64_t a = img_lcr_get_u(p, k * (uint32_t)es, t), v = img_lcr_get_u(p, (k + 1) * (uint32_t)es, t);

			if (!a && !v)
				break; /* AT_NULL ends it */
			img_jw_arr_begin(w);
			img_jw_u64(w, a);
			img_jw_u64(w, v);
			img_jw_arr_end(w);
		}
		img_jw_arr_end(w);
		return;
	}
	if (r->role && !strcmp(r->role, "pids")) {
		/* v23 pid objects: {u32 depth; s32 numbers[depth + 1]} one after the other */
		img_jw_key(w, "pids");
		img_jw_arr_begin(w);
		for (uint32_t pos = 0; pos + 8 <= n;) {
			uint32_t depth = img_get_u32(p + pos);

			if (depth > (n - pos - 8) / 4)
				break;
			img_jw_obj_begin(w);
			img_jw_kv_u64(w, "depth", depth);
			img_jw_key(w, "numbers");
			img_jw_arr_begin(w);
			for (uint32_t k = 0; k <= depth; k++)
				img_jw_i64(w, (int32_t)img_get_u32(p + pos + 4 + 4 * k));
			img_jw_arr_end(w);
			img_jw_obj_end(w);
			pos += 8 + 4 * depth;
		}
		img_jw_arr_end(w);
		return;
	}
	if (r->fol && r->fol->elem) {
		int64_t cnt = -1;

		if (r->parent >= 0 && strcmp(r->fol->count, "rest") && strncmp(r->fol->count, "const:", 6))
			img_lcr_rec_i64(&img->r[r->parent], r->fol->count, &cnt);
		img_jw_key(w, r->fol->elem[0] == 'c' && !strcmp(r->fol->elem, "char") ? "text" : "items");
		array(w, l, r->fol->elem, p, n, cnt);
		return;
	}
	if (r->desc && r->desc->len == IMG_LCR_LEN_STRING) {
		img_jw_key(w, "text");
		text(w, p, n);
		return;
	}
	if (r->rt && !strcmp(r->rt->name, "STRING")) {
		/* an error text starts with a NUL (so a reader can find it from the end) */
		img_jw_key(w, "text");
		text(w, n && !p[0] ? p + 1 : p, n && !p[0] ? n - 1 : n);
		return;
	}
	img_jw_key(w, "hex");
	hex(w, p, n);
}

static void record(struct img_jw *w, const struct img_lcr_image *img, size_t i, unsigned flags)
{
	const struct img_lcr_rec *r = &img->r[i];
	const struct img_lcr_recdesc *d = r->desc;

	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "i", i);
	img_jw_kv_u64(w, "offset", r->off);
	img_jw_kv_u64(w, "type", r->type);
	if (r->rt)
		img_jw_kv_str(w, "name", r->rt->name);
	img_jw_kv_u64(w, "len", r->len);
	if (d && strchr(d->name, '/'))
		img_jw_kv_str(w, "subtype", strchr(d->name, '/') + 1);
	if (r->parent >= 0) {
		img_jw_kv_i64(w, "parent", r->parent);
		img_jw_kv_str(w, "role", r->role);
	}
	if (r->obj >= 0) {
		img_jw_kv_i64(w, "objref", img->objs[r->obj].objref);
		img_jw_kv_str(w, "objtype", img->objs[r->obj].type);
	}
	/* enum fields by name */
	for (int pass = 0; pass < 2 && r->rt; pass++) {
		const struct img_lcr_recdesc *dd = pass ? d : r->rt->desc;

		if (!dd || (pass && dd == r->rt->desc))
			continue;
		for (uint32_t k = 0; k < dd->nenums; k++) {
			int64_t v;
			const char *nm;
			char key[80];

			if (img_lcr_rec_i64(r, dd->enums[k].field, &v))
				continue;
			nm = img_lcr_enum_name(img_lcr_enum_find(img->lay, dd->enums[k].en), v);
			snprintf(key, sizeof(key), "%s_name", dd->enums[k].field);
			if (nm)
				img_jw_kv_str(w, key, nm);
		}
	}
	if (r->st) {
		img_jw_key(w, "fields");
		img_jw_obj_begin(w);
		fields(w, r->st, r->p, 0, r->len, 1);
		img_jw_obj_end(w);
		if (d && d->len == IMG_LCR_LEN_TAIL && r->len > r->st->size) {
			img_jw_key(w, "tail");
			array(w, img->lay, d->tail_elem, r->p + r->st->size, r->len - r->st->size, -1);
		}
	} else if (r->len > IMG_LCR_HDR_LEN || (r->rt && (!strcmp(r->rt->name, "BUFFER") || !strcmp(r->rt->name, "STRING")))) {
		payload(w, img, r, flags);
	}
	img_jw_obj_end(w);
}

static void detect(struct img_jw *w, const struct img_lcr_image *img)
{
	char k[32];

	img_jw_key(w, "detect");
	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "rev", img->det.rev);
	img_jw_kv_u64(w, "arch_id", img->det.arch_id);
	snprintf(k, sizeof(k), "%u.%u.%u", img->det.major, img->det.minor, img->det.patch);
	img_jw_kv_str(w, "kernel", k);
	img_jw_kv_bool(w, "forced", img->det.forced);
	img_jw_kv_bool(w, "ambiguous", img->det.ambiguous);
	img_jw_key(w, "checks");
	img_jw_arr_begin(w);
	for (uint32_t i = 0; i < img->det.nchecks; i++)
		img_jw_str(w, img->det.checks[i]);
	img_jw_arr_end(w);
	img_jw_obj_end(w);
}

static void view(struct img_jw *w, const struct img_lcr_image *img)
{
	img_jw_key(w, "tasks");
	img_jw_arr_begin(w);
	for (size_t i = 0; i < img->ntasks; i++) {
		const struct img_lcr_task *t = &img->tasks[i];

		img_jw_obj_begin(w);
		img_jw_kv_i64(w, "pid", t->pid);
		img_jw_kv_i64(w, "ppid", t->ppid);
		img_jw_kv_i64(w, "tgid", t->tgid);
		img_jw_kv_i64(w, "pgid", t->pgid);
		img_jw_kv_i64(w, "sid", t->sid);
		if (t->comm)
			img_jw_kv_str(w, "comm", t->comm);
		img_jw_kv_bool(w, "zombie", t->zombie);
		if (!t->zombie) {
			const char *k[] = { "files", "mm", "fs", "sighand", "signal", "cred", "ns" };
			const int32_t v[] = { t->files, t->mm, t->fs, t->sighand, t->signal, t->cred, t->ns };

			for (int j = 0; j < 7; j++)
				if (v[j])
					img_jw_kv_i64(w, k[j], v[j]);
		}
		img_jw_obj_end(w);
	}
	img_jw_arr_end(w);
	img_jw_key(w, "mms");
	img_jw_arr_begin(w);
	for (size_t i = 0; i < img->nmms; i++) {
		const struct img_lcr_mm *m = &img->mms[i];

		img_jw_obj_begin(w);
		img_jw_kv_i64(w, "objref", m->objref);
		img_jw_key(w, "vmas");
		img_jw_arr_begin(w);
		for (uint32_t k = 0; k < m->nvmas; k++) {
			const struct img_lcr_vma *v = &m->vmas[k];

			img_jw_obj_begin(w);
			img_jw_kv_u64(w, "start", v->start);
			img_jw_kv_u64(w, "end", v->end);
			if (v->type)
				img_jw_kv_str(w, "type", v->type);
			img_jw_kv_u64(w, "pages", v->npages);
			if (v->file)
				img_jw_kv_i64(w, "file", v->file);
			img_jw_obj_end(w);
		}
		img_jw_arr_end(w);
		img_jw_obj_end(w);
	}
	img_jw_arr_end(w);
	img_jw_key(w, "files");
	img_jw_arr_begin(w);
	for (size_t i = 0; i < img->nfiles; i++) {
		const struct img_lcr_file *f = &img->files[i];

		img_jw_obj_begin(w);
		img_jw_kv_i64(w, "objref", f->objref);
		if (f->type)
			img_jw_kv_str(w, "type", f->type);
		if (f->path)
			img_jw_kv_str(w, "path", f->path);
		if (f->pipe)
			img_jw_kv_i64(w, "pipe", f->pipe);
		img_jw_kv_u64(w, "pos", f->pos);
		img_jw_obj_end(w);
	}
	img_jw_arr_end(w);
}

int img_lcr_to_json(const struct img_lcr_image *img, struct img_out *o, unsigned flags)
{
	struct img_jw w;

	img_jw_init(&w, o, flags & IMG_LCR_JSON_PRETTY ? 4 : 0);
	img_jw_obj_begin(&w);
	img_jw_kv_str(&w, "format", "linuxcr");
	img_jw_kv_str(&w, "version", img->lay->ver->name);
	img_jw_kv_str(&w, "arch", img->lay->arch);
	detect(&w, img);
	img_jw_key(&w, "records");
	img_jw_arr_begin(&w);
	for (size_t i = 0; i < img->n; i++)
		record(&w, img, i, flags);
	img_jw_arr_end(&w);
	view(&w, img);
	img_jw_obj_end(&w);
	img_out_putc(o, '\n');
	return o->err ? -o->err : 0;
}
