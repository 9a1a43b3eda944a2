/*
 * arch/: one-task sets of machines and CPU features the corpus lacks, for
 * core files (cr-convert core) and the thread explorers.
 *
 *   arch/aarch64/     arm64, threads 1 and 2: x0..x30 = 0x1000 * (n + 1) + tid, sp, pc,
 *                     pstate, v0..v31, fpsr, fpcr, tpidr_el0
 *   arch/arm/         32-bit arm, one thread: r0..r15, cpsr, orig_r0, d0..d31, fpscr
 *   arch/x86-xsave/   x86_64 with every XSAVE component CRIU keeps (AVX, MPX, AVX-512,
 *                     PKRU: XCR0 0x2ff), in a group stop by SIGTSTP with SIGUSR1 pending
 *   arch/x86-avx/     x86_64 with AVX only (XCR0 0x7)
 *
 * Each task maps a text page, two data pages (the first says "ARCH data
 * page"), an unread page and a stack page that holds its command line
 * "arch-ARCH -v".  Register values are patterns a test can recompute.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

#define PG 4096u

struct archset {
	const char *dir, *mtype, *comm;
	uint64_t hwcap;                   /* AT_HWCAP: debuggers pick the FP registers of a core by it */
	uint64_t text, data, stack;       /* addresses */
	const uint32_t *threads;
	size_t nthreads;
	void (*thread_info)(struct img_msg *core, uint32_t tid, const struct archset *a);
	int stopped;                      /* a group stop by SIGTSTP, SIGUSR1 pending */
};

static void ti_aarch64(struct img_msg *core, uint32_t tid, const struct archset *a)
{
	struct img_msg *ti = sub(core, "ti_aarch64"), *g, *f;

	set_u(ti, "clear_tid_addr", a->data + 0x100 * tid);
	set_u(ti, "tls", 0xffffb7ff7020ull + 0x1000 * tid);
	g = sub(ti, "gpregs");
	for (uint64_t n = 0; n < 31; n++)
		add_u(g, "regs", 0x1000 * (n + 1) + tid);
	set_u(g, "sp", a->stack + PG - 0x100 - 0x10 * tid);
	set_u(g, "pc", a->text + 0x80 + 4 * tid);
	set_u(g, "pstate", 0x60000000);
	f = sub(ti, "fpsimd");
	for (uint64_t n = 0; n < 64; n++)
		add_u(f, "vregs", n % 2 ? 0 : 0x3ff0000000000000ull + n / 2); /* v(n/2) low half: about 1.0 */
	set_u(f, "fpsr", 0x10);
	set_u(f, "fpcr", 0x3000000);
}

static void ti_arm(struct img_msg *core, uint32_t tid, const struct archset *a)
{
	static const char *const regs[] = { "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10",
					     "fp", "ip", "sp", "lr", "pc", "cpsr", "orig_r0" };
	struct img_msg *ti = sub(core, "ti_arm"), *g, *f;

	set_u(ti, "clear_tid_addr", a->data + 0x100 * tid);
	set_u(ti, "tls", 0xb6ff8490);
	g = sub(ti, "gpregs");
	for (uint32_t n = 0; n < 18; n++) {
		uint64_t v = 0x100 * (n + 1) + tid;

		if (!strcmp(regs[n], "sp"))
			v = a->stack + PG - 0x100;
		else if (!strcmp(regs[n], "pc"))
			v = a->text + 0x40;
		else if (!strcmp(regs[n], "cpsr"))
			v = 0x60000010;
		set_u(g, regs[n], v);
	}
	f = sub(ti, "fpstate");
	for (uint64_t n = 0; n < 32; n++)
		add_u(f, "vfp_regs", 0x3ff0000000000000ull + n);
	set_u(f, "fpscr", 0x3000000);
	set_u(f, "fpexc", 0x40000000);
	set_u(f, "fpinst", 0);
	set_u(f, "fpinst2", 0);
}

/* An XSAVE component: n values of w bits, value i = base + i. */
static void xarray(struct img_msg *x, const char *field, unsigned n, uint64_t base)
{
	for (unsigned i = 0; i < n; i++)
		add_u(x, field, base + i);
}

static void ti_x86(struct img_msg *core, uint32_t tid, const struct archset *a, int full)
{
	struct img_msg *ti = sub(core, "thread_info"), *f, *x;

	set_u(ti, "clear_tid_addr", a->data + 0x100 * tid);
	fill_x86_gpregs(sub(ti, "gpregs"), a->text + 0x40 + tid, a->stack + PG - 0x100);
	f = sub(ti, "fpregs");
	fill_x86_fpregs(f);
	x = sub(f, "xsave");
	set_u(x, "xstate_bv", full ? 0x2e7 : 0x7); /* MPX in its initial state: its bits clear */
	xarray(x, "ymmh_space", 64, 0x11110000);
	if (!full)
		return;
	xarray(x, "bndreg_state", 8, 0);
	xarray(x, "bndcsr_state", 8, 0);
	xarray(x, "opmask_reg", 8, 0xff00);
	xarray(x, "zmm_upper", 64, 0x2222000000000000ull);
	xarray(x, "hi16_zmm", 128, 0x3333000000000000ull);
	add_u(x, "pkru", 0x55555554);
	add_u(x, "pkru", 0);
}

static void ti_x86_xsave(struct img_msg *core, uint32_t tid, const struct archset *a)
{
	ti_x86(core, tid, a, 1);
}

static void ti_x86_avx(struct img_msg *core, uint32_t tid, const struct archset *a)
{
	ti_x86(core, tid, a, 0);
}

static void write_arch_core(const struct archset *a, uint32_t tid)
{
	struct img_msg *m, *tc, *th;
	char name[32];

	gen_image("CORE");
	m = gen_entry();
	set_e(m, "mtype", a->mtype);
	a->thread_info(m, tid, a);
	if (tid == a->threads[0]) {
		tc = sub(m, "tc");
		set_u(tc, "task_state", a->stopped ? 3 : 1);
		set_u(tc, "exit_code", 0);
		set_u(tc, "personality", 0);
		set_u(tc, "flags", 0x400100);
		set_u(tc, "blk_sigset", 0x4000); /* SIGTERM */
		set_s(tc, "comm", a->comm);
		if (a->stopped)
			set_u(tc, "stop_signo", 20); /* SIGTSTP */
	}
	th = sub(m, "thread_core");
	set_u(th, "futex_rla", 0);
	set_u(th, "futex_rla_len", 24);
	set_i(th, "sched_nice", 5);
	set_u(th, "sched_policy", 0);
	if (a->stopped) {
		/* SIGUSR1 queued for the thread: siginfo_t of kill() from pid 77, uid 1000 */
		uint8_t si[128] = { 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 77, 0, 0, 0, 0xe8, 3, 0, 0 };

		set_bytes(sub(sub(th, "signals_p"), "signals"), "siginfo", si, sizeof(si));
	}
	fill_creds(sub(th, "creds"), 1000);
	set_s(th, "comm", a->comm);
	snprintf(name, sizeof(name), "core-%u.img", tid);
	gen_write(name);
}

/* mm, pagemap and pages: text, data, an untouched page, the stack with argv */
static void write_arch_mm(const struct archset *a)
{
	char args[32];
	int alen = snprintf(args, sizeof(args), "%s", a->comm) + 1;
	uint64_t arg = a->stack + PG - 0x80;
	const struct vma v[] = {
		{ a->text, a->text + PG, 0, 0, 5, 0x22, 0x201, -1, 0, 0 },
		{ a->data, a->data + 3 * PG, 0, 0, 3, 0x22, 0x201, -1, 0, 0 },
		{ a->stack, a->stack + PG, 0, 0, 3, 0x122, 0x203, -1, 0, 0 },
	};
	const uint64_t auxv[] = { 16, a->hwcap, 6, PG, 9, a->text, 0, 0 };
	static uint8_t pages[4 * PG];
	struct img_msg *m;

	alen += snprintf(args + alen, sizeof(args) - (size_t)alen, "-v") + 1;
	gen_image("MM");
	m = gen_entry();
	set_u(m, "mm_start_code", a->text);
	set_u(m, "mm_end_code", a->text + 0x100);
	set_u(m, "mm_start_data", a->data);
	set_u(m, "mm_end_data", a->data + 0x40);
	set_u(m, "mm_start_stack", a->stack + PG - 0x100);
	set_u(m, "mm_start_brk", a->data + 3 * PG);
	set_u(m, "mm_brk", a->data + 3 * PG);
	set_u(m, "mm_arg_start", arg);
	set_u(m, "mm_arg_end", arg + (uint64_t)alen);
	set_u(m, "mm_env_start", arg + (uint64_t)alen);
	set_u(m, "mm_env_end", arg + (uint64_t)alen);
	set_u(m, "exe_file_id", 0);
	add_us(m, "mm_saved_auxv", auxv, sizeof(auxv) / sizeof(auxv[0]));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		fill_vma(sub(m, "vmas"), &v[i]);
	set_i(m, "dumpable", 1);
	gen_write("mm-1.img");

	/* text, the two data pages, the stack; data page 3 was never touched */
	gen_image("PAGEMAP");
	set_u(gen_entry_of("pagemap_head"), "pages_id", 1);
	m = gen_entry();
	set_u(m, "vaddr", a->text);
	set_u(m, "compat_nr_pages", 0);
	set_u(m, "flags", PE_PRESENT);
	set_u(m, "nr_pages", 1);
	m = gen_entry();
	set_u(m, "vaddr", a->data);
	set_u(m, "compat_nr_pages", 0);
	set_u(m, "flags", PE_PRESENT);
	set_u(m, "nr_pages", 2);
	m = gen_entry();
	set_u(m, "vaddr", a->stack);
	set_u(m, "compat_nr_pages", 0);
	set_u(m, "flags", PE_PRESENT);
	set_u(m, "nr_pages", 1);
	gen_write("pagemap-1.img");
	fill_page(pages, a->dir, 0, 1);
	snprintf((char *)pages + PG, PG, "%s data page", a->dir);
	fill_page(pages + 2 * PG, a->dir, 2, 1);
	memset(pages + 3 * PG, 0, PG);
	memcpy(pages + 4 * PG - 0x80, args, (size_t)alen);
	gen_image("PAGES");
	gen_raw(pages, sizeof(pages));
	gen_write("pages-1.img");
}

static void write_arch_set(const struct archset *a)
{
	const struct task t = { 1, 0, 1, 1, a->threads, a->nthreads, a->comm, 1, 1000 };
	struct img_msg *fs;
	char dir[64];

	snprintf(dir, sizeof(dir), "arch/%s", a->dir);
	gen_set(dir);
	write_inventory(2, NULL);
	write_pstree(&t, 1, ERA_4_2);
	for (size_t i = 0; i < a->nthreads; i++)
		write_arch_core(a, a->threads[i]);
	write_ids(&t, ERA_4_2);
	gen_image("FS");
	fs = gen_entry();
	set_u(fs, "cwd_id", 0);
	set_u(fs, "root_id", 0);
	set_u(fs, "umask", 022);
	gen_write("fs-1.img");
	gen_image("FDINFO");
	gen_write("fdinfo-1.img");
	write_arch_mm(a);
}

void gen_arch(void)
{
	static const uint32_t two[] = { 1, 2 }, one[] = { 1 };
	static const struct archset sets[] = {
		{ "aarch64", "AARCH64", "arch-aarch64", 0x3 /* fp asimd */, 0xaaaad0000000ull, 0xaaaad0010000ull,
		  0xffffe0000000ull, two, 2, ti_aarch64, 0 },
		/* half thumb fastmult vfp edsp neon vfpv3 tls vfpd32 */
		{ "arm", "ARM", "arch-arm", 0x8b0d6, 0x10000, 0x20000, 0xbe800000, one, 1, ti_arm, 0 },
		{ "x86-xsave", "X86_64", "arch-x86-xsave", 0x178bfbff, 0x400000, 0x600000, 0x7ffd00000000ull, one, 1,
		  ti_x86_xsave, 1 },
		{ "x86-avx", "X86_64", "arch-x86-avx", 0x178bfbff, 0x400000, 0x600000, 0x7ffd00000000ull, one, 1, ti_x86_avx, 0 },
	};

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		write_arch_set(&sets[i]);
}
