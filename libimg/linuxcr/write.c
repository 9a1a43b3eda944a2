/*
 * Writing linux-cr streams: a record-by-record writer for any version in the
 * tables (fields set by name through the version's layout), and the writer
 * of a read image, which encodes every struct record again from its decoded
 * fields.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "img/linuxcr.h"
#include "lcr.h"

struct img_lcr_writer {
	const struct img_lcr_tables *t;
	const struct img_lcr_layout *l;
	struct img_buf b;
	size_t cur;                        /* offset of the record begun last */
	const struct img_lcr_struct *st;   /* its struct, or NULL */
	struct img_err e;                  /* the first error; sticky */
};

struct img_lcr_writer *img_lcr_writer_new(const struct img_lcr_tables *t, const struct img_lcr_layout *l)
{
	struct img_lcr_writer *w = img_calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->t = t ? t : img_lcr_tables_default();
	w->l = l;
	w->cur = (size_t)-1;
	img_buf_init(&w->b);
	return w;
}

void img_lcr_writer_free(struct img_lcr_writer *w)
{
	if (!w)
		return;
	img_buf_free(&w->b);
	img_free(w);
}

const struct img_lcr_layout *img_lcr_w_layout(const struct img_lcr_writer *w)
{
	return w->l;
}

int img_lcr_w_error(const struct img_lcr_writer *w, struct img_err *err)
{
	if (!w->e.code)
		return 0;
	if (err)
		*err = w->e;
	return -w->e.code;
}

IMG_PRINTF(3, 4) static int werr(struct img_lcr_writer *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (w->e.code)
		return -w->e.code;
	va_start(ap, fmt);
	img_err_vset(&w->e, code, fmt, ap);
	va_end(ap);
	return -code;
}

static int put_hdr(struct img_lcr_writer *w, uint32_t type, uint32_t len)
{
	uint8_t h[IMG_LCR_HDR_LEN];

	img_put_u32(h, type);
	img_put_u32(h + 4, len);
	w->cur = w->b.len;
	if (img_buf_add(&w->b, h, sizeof(h)))
		return werr(w, ENOMEM, "out of memory");
	return 0;
}

static void set_len(struct img_lcr_writer *w)
{
	img_put_u32(w->b.data + w->cur + 4, (uint32_t)(w->b.len - w->cur));
}

int img_lcr_w_begin(struct img_lcr_writer *w, const char *type)
{
	char base[64];
	const char *slash = strchr(type, '/');
	const struct img_lcr_rectype *rt;
	const struct img_lcr_recdesc *d;
	const struct img_lcr_struct *st;

	if (w->e.code)
		return -w->e.code;
	snprintf(base, sizeof(base), "%.*s", slash ? (int)(slash - type) : (int)strlen(type), type);
	rt = img_lcr_rectype_by_name(w->l, base);
	if (!rt)
		return -ENOENT;
	d = slash ? img_lcr_recdesc_find(w->t, w->l, type) : rt->desc;
	if (!d || !d->strct)
		return werr(w, EINVAL, "%s: no struct for a %s record in %s", type, type, w->l->ver->name);
	st = img_lcr_struct_find(w->l, d->strct);
	if (!st || st->size < IMG_LCR_HDR_LEN)
		return werr(w, EINVAL, "%s: %s has no struct %s", type, w->l->ver->name, d->strct);
	if (put_hdr(w, rt->type, st->size) || img_buf_reserve(&w->b, st->size))
		return werr(w, ENOMEM, "out of memory");
	memset(w->b.data + w->b.len, 0, st->size - IMG_LCR_HDR_LEN);
	w->b.len += st->size - IMG_LCR_HDR_LEN;
	w->st = st;
	if (slash && rt->desc && rt->desc->select_field) {
		int64_t v;

		if (img_lcr_enum_val(img_lcr_enum_find(w->l, rt->desc->select_enum), slash + 1, &v))
			return werr(w, EINVAL, "%s: %s has no %s type %s", type, w->l->ver->name, rt->desc->select_enum,
				    slash + 1);
		return img_lcr_w_set(w, rt->desc->select_field, (uint64_t)v);
	}
	return 0;
}

int img_lcr_w_set(struct img_lcr_writer *w, const char *path, uint64_t v)
{
	struct img_lcr_fref fr;

	if (w->e.code)
		return -w->e.code;
	if (!w->st)
		return werr(w, EINVAL, "set %s: no struct record begun", path);
	if (img_lcr_field_ref(w->st, path, &fr) || fr.f->type == IMG_LCR_STRUCT || (fr.f->count && fr.index < 0))
		return -ENOENT;
	if (img_lcr_type_signed(fr.f->type) ? !img_lcr_fits(fr.f->type, v, (int64_t)v < 0) :
					       !img_lcr_fits(fr.f->type, v, 0))
		return werr(w, ERANGE, "%s.%s: %lld does not fit its %u bytes", w->st->name, path, (long long)v, fr.size);
	img_lcr_put(w->b.data + w->cur, fr.off, fr.f->type, v);
	return 0;
}

int img_lcr_w_set_bytes(struct img_lcr_writer *w, const char *path, const void *p, size_t n)
{
	struct img_lcr_fref fr;

	if (w->e.code)
		return -w->e.code;
	if (!w->st || img_lcr_field_ref(w->st, path, &fr))
		return -ENOENT;
	uint32_t room = fr.size * (fr.f->count && fr.index < 0 ? fr.f->count : 1);

	if (n > room)
		return werr(w, ERANGE, "%s.%s: %zu bytes do not fit its %u", w->st->name, path, n, room);
	memcpy(w->b.data + w->cur + fr.off, p, n);
	return 0;
}

int img_lcr_w_add(struct img_lcr_writer *w, const void *p, size_t n)
{
	if (w->e.code)
		return -w->e.code;
	if (w->cur == (size_t)-1)
		return werr(w, EINVAL, "no record begun");
	if (w->b.len - w->cur + n > UINT32_MAX)
		return werr(w, ERANGE, "a record longer than 4 GiB");
	if (img_buf_add(&w->b, p, n))
		return werr(w, ENOMEM, "out of memory");
	set_len(w);
	return 0;
}

int img_lcr_w_raw(struct img_lcr_writer *w, const char *type, const void *p, size_t n)
{
	const struct img_lcr_rectype *rt;

	if (w->e.code)
		return -w->e.code;
	rt = img_lcr_rectype_by_name(w->l, type);
	if (!rt)
		return werr(w, EINVAL, "%s has no %s records", w->l->ver->name, type);
	if (n > UINT32_MAX - IMG_LCR_HDR_LEN)
		return werr(w, ERANGE, "a record longer than 4 GiB");
	w->st = NULL;
	if (put_hdr(w, rt->type, (uint32_t)(n + IMG_LCR_HDR_LEN)))
		return -w->e.code;
	if (n && img_buf_add(&w->b, p, n))
		return werr(w, ENOMEM, "out of memory");
	return 0;
}

int img_lcr_w_objref(struct img_lcr_writer *w, const char *objtype, int32_t objref)
{
	int64_t v;
	int r;

	if (img_lcr_enum_val(img_lcr_enum_find(w->l, "obj"), objtype, &v))
		return werr(w, EINVAL, "%s has no object type %s", w->l->ver->name, objtype);
	if ((r = img_lcr_w_begin(w, "OBJREF")) || (r = img_lcr_w_set(w, "objtype", (uint64_t)v)) ||
	    (r = img_lcr_w_set(w, "objref", (uint64_t)(int64_t)objref)))
		return r;
	return 0;
}

int img_lcr_w_default(struct img_lcr_writer *w, const char *name, int64_t *v)
{
	return img_lcr_kv_get(w->l->defaults, w->l->ndefaults, name, v);
}

int img_lcr_w_drain(struct img_lcr_writer *w, int fd, struct img_err *err)
{
	size_t done = w->cur == (size_t)-1 ? w->b.len : w->cur, at = 0;

	if (w->e.code) {
		if (err)
			*err = w->e;
		return -w->e.code;
	}
	while (at < done) {
		ssize_t n = write(fd, w->b.data + at, done - at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return img_err_set(err, n < 0 ? errno : EIO, "write error: %s", strerror(n < 0 ? errno : EIO));
		at += (size_t)n;
	}
	/* the record begun last stays: its fields may still be set */
	memmove(w->b.data, w->b.data + done, w->b.len - done);
	w->b.len -= done;
	if (w->cur != (size_t)-1)
		w->cur = 0;
	return 0;
}

int img_lcr_w_finish(struct img_lcr_writer *w, struct img_buf *out, struct img_err *err)
{
	if (w->e.code) {
		if (err)
			*err = w->e;
		return -w->e.code;
	}
	*out = w->b;
	img_buf_init(&w->b);
	return 0;
}

/* ---------------------------------------------------------------- writing a read image */

static void mark(uint8_t *covered, uint32_t off, uint32_t n, uint32_t len)
{
	for (uint32_t k = 0; k < n && off + k < len; k++)
		covered[off + k] = 1;
}

/* Put every field's decoded value into dst; mark what the fields cover. */
static void encode_struct(const struct img_lcr_struct *st, const uint8_t *src, uint32_t base, uint32_t len,
			  uint8_t *dst, uint8_t *covered)
{
	for (uint32_t i = 0; i < st->nfields; i++) {
		const struct img_lcr_field *f = &st->fields[i];
		uint32_t esz = img_lcr_field_size(f), cnt = f->flex ? 0 : f->count ? f->count : 1;

		for (uint32_t k = 0; k < cnt; k++) {
			uint32_t off = base + f->off + k * esz;

			if (off + esz > len)
				return;
			if (f->type == IMG_LCR_STRUCT) {
				encode_struct(f->sub, src, off, len, dst, covered);
			} else if (img_lcr_type_signed(f->type)) {
				img_lcr_put(dst, off, f->type, (uint64_t)img_lcr_get_s(src, off, f->type));
				mark(covered, off, esz, len);
			} else {
				img_lcr_put(dst, off, f->type, img_lcr_get_u(src, off, f->type));
				mark(covered, off, esz, len);
			}
		}
	}
}

void lcr_reencode(const struct img_lcr_struct *st, const uint8_t *src, uint32_t len, uint8_t *dst)
{
	uint8_t stackmap[512];
	uint8_t *covered = len <= sizeof(stackmap) ? stackmap : img_calloc(1, len);

	memset(dst, 0, len);
	if (!covered) {
		memcpy(dst, src, len);
		return;
	}
	memset(covered, 0, len);
	encode_struct(st, src, 0, len < st->size ? len : st->size, dst, covered);
	/* padding and what follows the struct (tails) are kept as they were */
	for (uint32_t k = 0; k < len; k++)
		if (!covered[k])
			dst[k] = src[k];
	if (covered != stackmap)
		img_free(covered);
}

int img_lcr_write(const struct img_lcr_image *img, struct img_buf *out, struct img_err *err)
{
	img_buf_init(out);
	if (img_buf_reserve(out, img->src->size))
		return img_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < img->n; i++) {
		const struct img_lcr_rec *r = &img->r[i];

		if (r->st) {
			lcr_reencode(r->st, r->p, r->len, out->data + out->len);
			out->len += r->len;
		} else if (img_buf_add(out, r->p, r->len)) {
			img_buf_free(out);
			return img_err_set(err, ENOMEM, "out of memory");
		}
	}
	return 0;
}
