/*
 * aarch64 and arm: the registers CRIU keeps (core-aarch64.proto,
 * core-arm.proto) in the regsets the kernel writes in cores
 * (arch/arm64/kernel/ptrace.c, arch/arm/kernel/ptrace.c).
 *
 * aarch64: user_pt_regs (x0..x30, sp, pc, pstate) in NT_PRSTATUS,
 * user_fpsimd_state (v0..v31, fpsr, fpcr) in NT_FPREGSET, tpidr_el0 in
 * NT_ARM_TLS.  arm: r0..r15, cpsr, orig_r0 in NT_PRSTATUS, d0..d31 and fpscr
 * in NT_ARM_VFP; the FPA state of NT_PRFPREG is not in the image and is left
 * out (pr_fpvalid 0).
 */
#include <elf.h>
#include <errno.h>

#include "priv.h"

/* Exactly n values of a repeated integer field, each w bytes, little-endian at out. */
static int put_regs(const struct img_msg *m, const char *what, const char *field, size_t n, unsigned w, uint8_t *out,
		    struct img_err *err)
{
	struct img_iter it;
	size_t have = img_msg_count(m, field), k = 0;
	uint64_t v;

	if (have != n)
		return img_err_set(err, EINVAL, "%s.%s has %zu values (%zu expected)", what, field, have, n);
	img_iter_init(&it, m, field);
	while (k < n && img_iter_next_u64(&it, &v))
		core_le(out + w * k++, v, w);
	return 0;
}

#define A64_NREGS 31

static int a64_gregs(const struct img_msg *ti, uint8_t *out, struct img_err *err)
{
	const struct img_msg *g = img_msg_sub(ti, "gpregs");

	if (!g)
		return img_err_set(err, EINVAL, "ti_aarch64 has no gpregs");
	if (put_regs(g, "ti_aarch64.gpregs", "regs", A64_NREGS, 8, out, err))
		return -EINVAL;
	core_le(out + 8 * A64_NREGS, img_msg_u64(g, "sp", 0), 8);
	core_le(out + 8 * A64_NREGS + 8, img_msg_u64(g, "pc", 0), 8);
	core_le(out + 8 * A64_NREGS + 16, img_msg_u64(g, "pstate", 0), 8);
	return 0;
}

#define A64_FPSIMD 528 /* vregs[32] (128 bits each), fpsr, fpcr, two reserved words */

static int a64_notes(struct img_buf *b, const struct img_msg *ti, struct img_err *err)
{
	const struct img_msg *fp = img_msg_sub(ti, "fpsimd");
	uint8_t *d;

	if (!fp)
		return img_err_set(err, EINVAL, "ti_aarch64 has no fpsimd");
	/* the notes are filled in place: a failure drops the whole buffer */
	d = core_note(b, "CORE", CORE_NT_FPREGSET, A64_FPSIMD);
	if (!d)
		return img_err_set(err, ENOMEM, "out of memory");
	if (put_regs(fp, "ti_aarch64.fpsimd", "vregs", 64, 8, d, err))
		return -EINVAL;
	core_le(d + 512, img_msg_u64(fp, "fpsr", 0), 4);
	core_le(d + 516, img_msg_u64(fp, "fpcr", 0), 4);
	d = core_note(b, "LINUX", CORE_NT_ARM_TLS, 8);
	if (!d)
		return img_err_set(err, ENOMEM, "out of memory");
	core_le(d, img_msg_u64(ti, "tls", 0), 8);
	return 0;
}

const struct core_arch core_arch_aarch64 = {
	.mtype = 3,
	.name = "aarch64",
	.ti = "ti_aarch64",
	.machine = EM_AARCH64,
	.word = 8,
	.uid = 4,
	.gregs = 8 * (A64_NREGS + 3),
	.fill_gregs = a64_gregs,
	.thread_notes = a64_notes,
	.fpvalid = 1,
};

/* elf_gregset_t of arm: struct pt_regs' uregs[18], in the order of user_arm_regs_entry */
static const char *const arm_regs[] = {
	"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "fp", "ip", "sp", "lr", "pc", "cpsr", "orig_r0",
};
#define ARM_NREGS (sizeof(arm_regs) / sizeof(arm_regs[0]))

static int arm_gregs(const struct img_msg *ti, uint8_t *out, struct img_err *err)
{
	const struct img_msg *g = img_msg_sub(ti, "gpregs");

	if (!g)
		return img_err_set(err, EINVAL, "ti_arm has no gpregs");
	for (size_t i = 0; i < ARM_NREGS; i++)
		core_le(out + 4 * i, img_msg_u64(g, arm_regs[i], 0), 4);
	return 0;
}

#define ARM_VFP 260 /* d0..d31, fpscr (ARM_VFPREGS_SIZE) */

static int arm_notes(struct img_buf *b, const struct img_msg *ti, struct img_err *err)
{
	const struct img_msg *fp = img_msg_sub(ti, "fpstate");
	uint8_t *d;

	if (!fp)
		return img_err_set(err, EINVAL, "ti_arm has no fpstate");
	d = core_note(b, "LINUX", CORE_NT_ARM_VFP, ARM_VFP);
	if (!d)
		return img_err_set(err, ENOMEM, "out of memory");
	if (put_regs(fp, "ti_arm.fpstate", "vfp_regs", 32, 8, d, err))
		return -EINVAL;
	core_le(d + 256, img_msg_u64(fp, "fpscr", 0), 4);
	return 0;
}

const struct core_arch core_arch_arm = {
	.mtype = 2,
	.name = "arm",
	.ti = "ti_arm",
	.machine = EM_ARM,
	.word = 4,
	.uid = 2,
	.gregs = 4 * ARM_NREGS,
	.fill_gregs = arm_gregs,
	.thread_notes = arm_notes,
	.fpvalid = 0,
};
