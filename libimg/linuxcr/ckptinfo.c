/*
 * What user-cr's ckptinfo (commit 1fd8e6e, 2011) prints for a stream, line
 * for line, with the type names of the stream's own version (ckptinfo was
 * built against one kernel's headers and named only that version's types).
 *
 * Two of its habits are kept because its output is what people compare
 * with: -p reads the process tree from the start of the BUFFER record, its
 * 8-byte header included, so every field it prints is the one 8 bytes
 * before the one it names; and the registers are printed only by a build for
 * i386 (the image's arch stands for the build here), and only with -v.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "img/linuxcr.h"
#include "lcr.h"

static const char *name_of(const struct img_lcr_layout *l, const char *en, const char *prefix, int64_t v, char *buf,
			   size_t len)
{
	const char *n = img_lcr_enum_name(img_lcr_enum_find(l, en), v);

	if (!n)
		return "---UNKNOWN---";
	snprintf(buf, len, "%s%s", prefix, n);
	return buf;
}

static void info(struct img_out *o, const struct img_lcr_image *img, const struct img_lcr_rec *r, unsigned flags)
{
	char b[80];

	if (flags & IMG_LCR_CI_VERBOSE)
		img_out_printf(o, "info: [@%llu] object %3d %s len %d\n", (unsigned long long)(r->off + IMG_LCR_HDR_LEN),
			       (int32_t)r->type, name_of(img->lay, "hdr", "HDR_", r->type, b, sizeof(b)), (int32_t)r->len);
}

static int64_t at(const struct img_lcr_struct *st, const uint8_t *p, uint32_t len, uint32_t base, const char *field)
{
	struct img_lcr_fref fr;

	if (!st || img_lcr_field_ref(st, field, &fr) || base + fr.off + fr.size > len)
		return 0;
	return img_lcr_type_signed(fr.f->type) ? img_lcr_get_s(p, base + fr.off, fr.f->type) :
						 (int64_t)img_lcr_get_u(p, base + fr.off, fr.f->type);
}

/* Fields the stream's own struct for a record type has (FILE: the base struct, as ckptinfo reads it). */
static const struct img_lcr_struct *base_struct(const struct img_lcr_rec *r)
{
	return r->rt ? r->rt->st : NULL;
}

static void cpu_i386(struct img_out *o, const struct img_lcr_rec *r)
{
	const struct img_lcr_struct *st = base_struct(r);
	const uint8_t *p = r->p;
	uint32_t n = r->len;
#define L(f) ((unsigned long long)(uint32_t)at(st, p, n, 0, f))
#define H(f) ((unsigned)(uint16_t)at(st, p, n, 0, f))
	img_out_printf(o, "\tax=0x%08llx bx=0x%08llx cx=0x%08llx dx=0x%08llx si=0x%08llx di=0x%08llx\n", L("ax"),
		       L("bx"), L("cx"), L("dx"), L("si"), L("di"));
	img_out_printf(o, "\tip=0x%08llx bp=0x%08llx sp=0x%08llx fs=0x%08llx(0x%04x) gs=0x%08llx(0x%04x)\n", L("ip"),
		       L("bp"), L("sp"), L("fs"), H("fsindex"), L("gs"), H("gsindex"));
	img_out_printf(o, "\torig_ax=0x%08llx flags=0x%08llx cs=0x%04x ds=0x%04x es=0x%04x ss=0x%04x\n", L("orig_ax"),
		       L("flags"), H("cs"), H("ds"), H("es"), H("ss"));
#undef L
#undef H
}

int img_lcr_ckptinfo(const struct img_lcr_image *img, struct img_out *o, unsigned flags, struct img_err *err)
{
	const struct img_lcr_layout *l = img->lay;
	int i386 = !strcmp(l->arch, "i386");
	int verbose = !!(flags & IMG_LCR_CI_VERBOSE);
	char b[80];

	if ((flags & IMG_LCR_CI_REGS) && !i386)
		img_out_puts(o, "Warning: --show-arch-regs unsupported on architecture\n");
	for (size_t i = 0; i < img->n; i++) {
		const struct img_lcr_rec *r = &img->r[i];
		const char *n = r->rt ? r->rt->name : "";
		const struct img_lcr_struct *st = base_struct(r);

		info(o, img, r, flags);
		if (!strcmp(n, "OBJREF")) {
			if (verbose)
				img_out_printf(o, "\t%s ref %d\n",
					       name_of(l, "obj", "OBJ_", at(st, r->p, r->len, 0, "objtype"), b, sizeof(b)),
					       (int32_t)at(st, r->p, r->len, 0, "objref"));
		} else if (!strcmp(n, "TREE")) {
			int64_t ntasks = at(st, r->p, r->len, 0, "nr_tasks");
			const struct img_lcr_rec *pr;
			const struct img_lcr_struct *es;
			const struct img_lcr_recdesc *d = r->rt->desc;
			uint8_t et;

			if (i + 1 >= img->n) {
				return img_err_set(err, EINVAL, "process tree: unexpected end of file");
			}
			pr = &img->r[++i];
			info(o, img, pr, flags);
			if (!(flags & IMG_LCR_CI_PIDS) || !d || !d->nfollow || !d->follow[0].elem)
				continue;
			lcr_elem_size(l, d->follow[0].elem, &et, &es);
			/* the entries counted from the record's first byte, its header included (sic) */
			for (int64_t k = 0; es && k < ntasks && (uint64_t)(k + 1) * es->size <= pr->len; k++) {
				uint32_t base = (uint32_t)k * es->size;

				img_out_printf(o, "Task %d: pid %d ppid %d tgid %dpgid %d sid %d depth %d\n", (int)k,
					       (int32_t)at(es, pr->p, pr->len, base, "vpid"),
					       (int32_t)at(es, pr->p, pr->len, base, "vppid"),
					       (int32_t)at(es, pr->p, pr->len, base, "vtgid"),
					       (int32_t)at(es, pr->p, pr->len, base, "vpgid"),
					       (int32_t)at(es, pr->p, pr->len, base, "vsid"),
					       (int32_t)at(es, pr->p, pr->len, base, "depth"));
			}
		} else if (!strcmp(n, "FILE")) {
			if (verbose)
				img_out_printf(o, "\t%s\n",
					       name_of(l, "file", "FILE_", at(st, r->p, r->len, 0, "f_type"), b, sizeof(b)));
		} else if (!strcmp(n, "VMA")) {
			if (verbose)
				img_out_printf(o, "\t%s vmaref %d inoref %d\n",
					       name_of(l, "vma", "VMA_", at(st, r->p, r->len, 0, "vma_type"), b, sizeof(b)),
					       (int32_t)at(st, r->p, r->len, 0, "vma_objref"),
					       (int32_t)at(st, r->p, r->len, 0, "ino_objref"));
		} else if (!strcmp(n, "CPU")) {
			if (i386 && verbose)
				cpu_i386(o, r);
		} else if (!strcmp(n, "ERROR")) {
			const struct img_lcr_rec *s;

			if (!(flags & (IMG_LCR_CI_ERROR | IMG_LCR_CI_VERBOSE)))
				continue;
			if (r->len != IMG_LCR_HDR_LEN) {
				return img_err_set(err, EINVAL, "invalid CKPT_HDR_ERROR header length");
			}
			if (i + 1 >= img->n) {
				return img_err_set(err, EINVAL, "error object: unexpected end of file");
			}
			s = &img->r[++i];
			info(o, img, s, flags);
			if (!s->rt || strcmp(s->rt->name, "STRING")) {
				return img_err_set(err, EINVAL, "unexpected header type %d", (int32_t)s->type);
			}
			if (s->len - IMG_LCR_HDR_LEN < 2) {
				return img_err_set(err, EINVAL, "invalid CKPT_HDR_STRING header length");
			}
			const char *t = (const char *)img_lcr_payload(s) + 1;

			img_out_puts(o, "CKPT_HDR_ERROR: ");
			img_out_write(o, t, strnlen(t, img_lcr_payload_len(s) - 1));
			img_out_putc(o, '\n');
			if (flags & IMG_LCR_CI_ERROR)
				break;
		}
	}
	return o->err ? img_err_set(err, o->err, "%s", strerror(o->err)) : 0;
}
