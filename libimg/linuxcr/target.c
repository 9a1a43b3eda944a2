/*
 * --for PROFILE on linux-cr images: the target machine as the header says it
 * (kernel version and release, XSAVE components), and the decisions where an
 * image cannot be made to fit, in the policy vocabulary of img/xform.h:
 * emulate does what is exact (a smaller XSAVE area when the components it
 * drops are in their initial state), bail refuses, hope goes on and says so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bridge.h"
#include "img/profile.h"
#include "img/xform.h"

/* the XSAVE components the bridge carries: x87, SSE, AVX, MPX, AVX-512, PKRU */
#define KNOWN_XCR0 0x2ffull

int img_lcr_target_from_profile(const struct img_profile *p, int policy, struct img_lcr_target *t,
				struct img_err *err)
{
	const char *rel = img_profile_release(p);
	uint64_t mask;
	uint32_t size, max;
	unsigned a = 0, b = 0, c = 0;

	memset(t, 0, sizeof(*t));
	t->policy = policy;
	t->name = img_profile_name(p);
	t->arch = img_profile_arch(p);
	if (rel) {
		if (sscanf(rel, "%u.%u.%u", &a, &b, &c) < 2 || a > 0xffff || b > 0xffff || c > 0xffff)
			return img_err_set(err, EINVAL, "%s: kernel release '%s' is not a version", t->name, rel);
		snprintf(t->kernel, sizeof(t->kernel), "%u.%u.%u", a, b, c);
		snprintf(t->release, sizeof(t->release), "%s", rel);
	}
	if (!img_profile_xsave(p, &mask, &size, &max)) {
		t->xsave_known = 1;
		t->xcr0 = (mask & KNOWN_XCR0) | 3;
	}
	return 0;
}

int lcr_fit_decide(const struct img_lcr_target *t, struct br_losses *l, const char *what, const char *why,
		   const char *fmt, ...)
{
	char ex[300], line[800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ex, sizeof(ex), fmt, ap);
	va_end(ap);
	if (!t)
		return br_lose(l, BR_STATE, what, why, "%s", ex);
	if (t->policy == IMG_XF_HOPE) {
		snprintf(line, sizeof(line), "hope: %s on %s: %s (%s); written as it is", what, t->name ? t->name : "the target",
			 why, ex);
		if (t->note)
			t->note(t->arg, line);
		return 0;
	}
	if (l->subject)
		img_err_subject(l->err, l->subject);
	return img_err_set(l->err, ENOTSUP, "%s cannot be made to fit %s: %s (%s)%s", what, t->name ? t->name : "the target",
			   why, ex, t->policy == IMG_XF_BAIL ? "" : "; no exact emulation: --policy hope writes it anyway");
}

/* A decision that needed nothing, said for the record. */
void lcr_fit_note(const struct img_lcr_target *t, const char *fmt, ...)
{
	char line[600];
	va_list ap;

	if (!t || !t->note)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	t->note(t->arg, line);
}

/*
 * The vdso: restart maps the target kernel's at the saved address
 * (special_mapping_restore), the format's own way and what CRIU does when
 * the layouts match; bail refuses, emulate and hope go on and say so.
 */
int lcr_fit_vdso(const struct img_lcr_target *t, struct br_losses *l, uint64_t addr, const char *from)
{
	static const char why[] = "restart maps the target kernel's vdso at the saved address; code that kept entry "
				  "points of a vdso of another layout may call into the wrong place";

	if (!t)
		return 0;
	if (t->policy == IMG_XF_BAIL)
		return lcr_fit_decide(t, l, "vdso", why, "vdso at 0x%llx, made by %s", (unsigned long long)addr, from);
	lcr_fit_note(t, "%s: vdso: %s (vdso at 0x%llx, made by %s)", t->policy == IMG_XF_HOPE ? "hope" : "emulate", why,
		     (unsigned long long)addr, from);
	return 0;
}

int lcr_fit_arch(const struct img_lcr_target *t, struct br_losses *l, const char *image_arch, uint32_t page_size)
{
	if (!t || !t->arch)
		return 0;
	if (!strcmp(t->arch, "x86_64") && (!strcmp(image_arch, "x86_64") || !strcmp(image_arch, "i386"))) {
		if (!strcmp(image_arch, "i386"))
			lcr_fit_note(t, "emulate: arch: a 32-bit (i386) image restarts as compat tasks on x86_64");
		return 0;
	}
	(void)page_size;
	return lcr_fit_decide(t, l, "arch", "linux-cr restart refuses an image of another architecture",
			      "the image is %s, %s is %s", image_arch, t->name ? t->name : "the target", t->arch);
}

static int put_field(const struct img_lcr_rec *r, uint8_t *copy, const char *path, uint64_t v)
{
	struct img_lcr_fref fr;

	if (!r->st || img_lcr_field_ref(r->st, path, &fr) || fr.off + fr.size > r->len)
		return -ENOENT;
	img_lcr_put(copy, fr.off, fr.f->type, v);
	return 0;
}

int img_lcr_fit(const struct img_lcr_image *img, const struct img_lcr_target *t, struct img_buf *out,
		struct img_err *err)
{
	struct br_losses loss = { 0 };
	unsigned a = 0, b = 0, c = 0;
	int has_xsave = 0, r = 0;
	uint64_t to = 0, xcr0_from = 0;
	uint32_t size = 0;
	char kernel[32];

	loss.err = err;
	loss.subject = img->src->name;
	img_buf_init(out);
	snprintf(kernel, sizeof(kernel), "%u.%u.%u", img->major, img->minor, img->patch);
	if ((r = lcr_fit_arch(t, &loss, img->lay->arch, img->lay->page_size)))
		return r;
	if (t->kernel[0] && strcmp(t->kernel, kernel))
		lcr_fit_note(t, "kernel: the header says %s (was %s); the constants stay those of %s's kernel", t->kernel,
			     kernel, img->lay->ver->name);
	sscanf(t->kernel[0] ? t->kernel : kernel, "%u.%u.%u", &a, &b, &c);
	if (img->rec_arch >= 0) {
		const struct img_lcr_rec *h = &img->r[img->rec_arch];
		uint64_t v;

		has_xsave = !img_lcr_rec_u64(h, "has_xsave", &v) && v;
		size = !img_lcr_rec_u64(h, "xstate_size", &v) ? (uint32_t)v : 512;
	}
	to = t->xsave_known ? t->xcr0 : 0;
	for (size_t i = 0; !r && i < img->n; i++) {
		const struct img_lcr_rec *rec = &img->r[i];
		const char *n = rec->rt ? rec->rt->name : "";
		uint8_t *copy = img_malloc(rec->len > LCR_XSAVE_MAX + 8 ? rec->len : LCR_XSAVE_MAX + 8);
		uint32_t len = rec->len;

		if (!copy) {
			r = img_err_set(err, ENOMEM, "out of memory");
			break;
		}
		memcpy(copy, rec->p, rec->len);
		if (!strcmp(n, "HEADER")) {
			put_field(rec, copy, "major", a);
			put_field(rec, copy, "minor", b);
			put_field(rec, copy, "patch", c);
		} else if (rec->role && !strcmp(rec->role, "uts_release") && t->release[0]) {
			memset(copy + IMG_LCR_HDR_LEN, 0, rec->len - IMG_LCR_HDR_LEN);
			snprintf((char *)copy + IMG_LCR_HDR_LEN, rec->len - IMG_LCR_HDR_LEN, "%s", t->release);
		} else if (!strcmp(n, "HEADER_ARCH") && t->xsave_known) {
			put_field(rec, copy, "has_xsave", (to & ~3ull) != 0);
			put_field(rec, copy, "xstate_size", lcr_xsave_size(to));
		} else if (rec->role && !strcmp(rec->role, "fpu") && t->xsave_known) {
			uint8_t area[LCR_XSAVE_MAX] = { 0 };
			uint32_t have = rec->len - IMG_LCR_HDR_LEN;
			uint64_t dirty;

			memcpy(area, rec->p + IMG_LCR_HDR_LEN, have < sizeof(area) ? have : sizeof(area));
			xcr0_from = lcr_area_xcr0(area, have, has_xsave);
			if (!xcr0_from)
				xcr0_from = 3; /* an FXSAVE area: x87 and SSE */
			dirty = lcr_fpu_fit(area, xcr0_from, to);
			if (dirty)
				r = lcr_fit_decide(t, &loss, "FPU state", "XSAVE components the target does not have, in use",
						   "%s: components 0x%llx", img_lcr_rec_where(img, i, (char[128]){ 0 }, 128),
						   (unsigned long long)dirty);
			len = IMG_LCR_HDR_LEN + lcr_xsave_size(to);
			memcpy(copy + IMG_LCR_HDR_LEN, area, len - IMG_LCR_HDR_LEN);
			img_put_u32(copy + 4, len);
		} else if (!strcmp(n, "MM_CONTEXT")) {
			uint64_t vdso;

			if (!img_lcr_rec_u64(rec, "vdso", &vdso) && vdso && t->kernel[0] && strcmp(t->kernel, kernel))
				r = lcr_fit_vdso(t, &loss, vdso, kernel);
		}
		if (!r && img_buf_add(out, copy, len))
			r = img_err_set(err, ENOMEM, "out of memory");
		img_free(copy);
	}
	if (!r && t->xsave_known && size != lcr_xsave_size(to))
		lcr_fit_note(t, "emulate: FPU: XSAVE areas of %u bytes (were %u), as %s keeps them", lcr_xsave_size(to), size,
			     t->name ? t->name : "the target");
	if (r)
		img_buf_free(out);
	br_losses_free(&loss);
	return r;
}
