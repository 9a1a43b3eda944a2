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
