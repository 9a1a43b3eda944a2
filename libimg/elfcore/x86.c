/*
 * x86_64: struct user_regs_struct in NT_PRSTATUS, the FXSAVE area in
 * NT_FPREGSET, and NT_X86_XSTATE as the kernel writes it (arch/x86/kernel/
 * fpu/xstate.c, copy_xstate_to_uabi_buf): the XSAVE standard format with
 * every component XCR0 enables at its offset, the XSAVE header's xstate_bv,
 * and XCR0 in the first 8 of the software-reserved bytes 464..511.
 *
 * XCR0 is not in the image: CRIU saves a component's array exactly when the
 * dumping machine had the feature enabled (criu/arch/x86/crtools.c
 * alloc_xsave_extends), so the arrays present give XCR0 back.  The note's
 * size is the end of the last enabled component, which is what
 * CPUID(0xd, 0).EBX reports for that XCR0 and what gdb expects
 * (X86_XSTATE_SIZE): 576, 832 (AVX), 1088 (MPX), 2688 (AVX-512), 2696 (PKRU).
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "priv.h"

/* elf_gregset_t: user_regs_struct, in the order of core-x86.proto's user_x86_regs_entry */
static const char *const gregs[] = {
	"r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si",
	"di", "orig_ax", "ip", "cs", "flags", "sp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
};
#define NGREGS (sizeof(gregs) / sizeof(gregs[0]))

enum { MODE_COMPAT = 2 };

static int x86_gregs(const struct img_msg *ti, uint8_t *out, struct img_err *err)
{
	const struct img_msg *g = img_msg_sub(ti, "gpregs");

	if (!g)
		return img_err_set(err, EINVAL, "thread_info has no gpregs");
	if (img_msg_u64(g, "mode", 1) == MODE_COMPAT)
		return img_err_set(err, ENOTSUP, "a 32-bit (compat) task: cores of ia32 tasks are not supported");
	for (size_t i = 0; i < NGREGS; i++)
		core_le(out + 8 * i, img_msg_u64(g, gregs[i], 0), 8);
	return 0;
}

#define FXSAVE_SIZE 512
#define XSAVE_HDR 512          /* xstate_bv, xcomp_bv (0: standard format), reserved */
#define XSAVE_HDR_END 576
#define SW_XCR0 464            /* USER_XSTATE_XCR0_WORD of the software-reserved bytes */
#define XFEATURE_FP_SSE 0x3ull

/* XSAVE components CRIU keeps: offsets and sizes of the standard (non-compacted) format, CPUID leaf 0xd */
static const struct xfeature {
	unsigned bit;
	const char *field;     /* user_x86_xsave_entry */
	unsigned elem;         /* bytes of one value of the repeated field */
	unsigned off, size;
	const char *name;
} xfeatures[] = {
	{ 2, "ymmh_space", 4, 576, 256, "YMM" },
	{ 3, "bndreg_state", 8, 960, 64, "BNDREGS" },
	{ 4, "bndcsr_state", 8, 1024, 64, "BNDCSR" },
	{ 5, "opmask_reg", 8, 1088, 64, "OPMASK" },
	{ 6, "zmm_upper", 8, 1152, 512, "ZMM_Hi256" },
	{ 7, "hi16_zmm", 8, 1664, 1024, "Hi16_ZMM" },
	{ 9, "pkru", 4, 2688, 8, "PKRU" },
};
#define NXFEATURES (sizeof(xfeatures) / sizeof(xfeatures[0]))
#define XSAVE_MAX 2696

/* Up to max values of a repeated integer field, each n bytes, little-endian at out; the count. */
static size_t put_array(const struct img_msg *m, const char *field, unsigned n, uint8_t *out, size_t max)
{
	struct img_iter it;
	size_t k = 0;
	uint64_t v;

	if (img_iter_init(&it, m, field))
		return 0;
	while (k < max && img_iter_next_u64(&it, &v))
		core_le(out + n * k++, v, n);
	return k;
}

/* The FXSAVE area (user_i387_struct), from user_x86_fpregs_entry. */
static int fxsave(const struct img_msg *fp, uint8_t *out, struct img_err *err)
{
	size_t nst = img_msg_count(fp, "st_space"), nxmm = img_msg_count(fp, "xmm_space");

	if (nst != 32 || nxmm != 64)
		return img_err_set(err, EINVAL, "thread_info.fpregs has %zu st_space and %zu xmm_space values (32 and 64 expected)",
				   nst, nxmm);
	core_le(out, img_msg_u64(fp, "cwd", 0), 2);
	core_le(out + 2, img_msg_u64(fp, "swd", 0), 2);
	core_le(out + 4, img_msg_u64(fp, "twd", 0), 2);
	core_le(out + 6, img_msg_u64(fp, "fop", 0), 2);
	core_le(out + 8, img_msg_u64(fp, "rip", 0), 8);
	core_le(out + 16, img_msg_u64(fp, "rdp", 0), 8);
	core_le(out + 24, img_msg_u64(fp, "mxcsr", 0), 4);
	core_le(out + 28, img_msg_u64(fp, "mxcsr_mask", 0), 4);
	put_array(fp, "st_space", 4, out + 32, 32);
	put_array(fp, "xmm_space", 4, out + 160, 64);
	return 0;
}

/* XCR0 and the XSAVE area's size from the components the image holds; fails on arrays of the wrong length. */
static int xsave_features(const struct img_msg *xs, uint64_t *xcr0, size_t *size, struct img_err *err)
{
	*xcr0 = XFEATURE_FP_SSE;
	*size = XSAVE_HDR_END;
	for (size_t i = 0; i < NXFEATURES; i++) {
		const struct xfeature *f = &xfeatures[i];
		size_t n = img_msg_count(xs, f->field);

		if (!n)
			continue;
		if (n * f->elem != f->size)
			return img_err_set(err, EINVAL, "thread_info.fpregs.xsave.%s has %zu values: the %s component holds %u",
					   f->field, n, f->name, f->size / f->elem);
		*xcr0 |= 1ull << f->bit;
		if (f->off + f->size > *size)
			*size = f->off + f->size;
	}
	return 0;
}

static int x86_notes(struct img_buf *b, const struct img_msg *ti, struct img_err *err)
{
	const struct img_msg *fp = img_msg_sub(ti, "fpregs"), *xs = img_msg_sub(fp, "xsave");
	uint8_t area[XSAVE_MAX], *d;
	uint64_t xcr0;
	size_t size;

	if (!fp)
		return img_err_set(err, EINVAL, "thread_info has no fpregs");
	memset(area, 0, sizeof(area));
	if (fxsave(fp, area, err) || (xs && xsave_features(xs, &xcr0, &size, err)))
		return -EINVAL;
	d = core_note(b, "CORE", CORE_NT_FPREGSET, FXSAVE_SIZE);
	if (!d)
		return img_err_set(err, ENOMEM, "out of memory");
	memcpy(d, area, FXSAVE_SIZE);
	if (!xs)
		return 0; /* a machine without XSAVE: the kernel writes no NT_X86_XSTATE either */
	core_le(area + SW_XCR0, xcr0, 8);
	core_le(area + XSAVE_HDR, img_msg_u64(xs, "xstate_bv", 0) & xcr0, 8);
	for (size_t i = 0; i < NXFEATURES; i++)
		put_array(xs, xfeatures[i].field, xfeatures[i].elem, area + xfeatures[i].off,
			  xfeatures[i].size / xfeatures[i].elem);
	d = core_note(b, "LINUX", CORE_NT_X86_XSTATE, size);
	if (!d)
		return img_err_set(err, ENOMEM, "out of memory");
	memcpy(d, area, size);
	return 0;
}

const struct core_arch core_arch_x86_64 = {
	.mtype = 1,
	.name = "x86_64",
	.ti = "thread_info",
	.machine = EM_X86_64,
	.word = 8,
	.uid = 4,
	.gregs = 8 * NGREGS,
	.fill_gregs = x86_gregs,
	.thread_notes = x86_notes,
	.fpvalid = 1,
};
