/*
 * Core files of the generator's arch/ sets and of the bundled sample, read
 * back with libelf: the size of every note for each architecture (the
 * kernel's elf_prstatus, elf_prpsinfo, siginfo_t, user_fpsimd_state,
 * user_vfp), the fields at their offsets, the XSAVE layout for the features
 * an image has (component offsets of CPUID leaf 0xd, XCR0 in the software
 * bytes, the size gdb expects), the segments and their bytes, PN_XNUM for
 * more than 65534 program headers, and the errors for an architecture
 * without a core layout, a compat task and a malformed XSAVE array.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/elfcore.h"
#include "img/image.h"
#include "unit.h"

#define ARCH "testdata/images/arch"
#define NT_SIGINFO_ 0x53494749
#define NT_X86_XSTATE_ 0x202
#define NT_ARM_VFP_ 0x400
#define NT_ARM_TLS_ 0x401

static char tmp[256];

struct note {
	uint32_t type;
	char name[8];
	size_t size;
	const uint8_t *desc;
};

/* A core written and read back. */
struct core {
	int fd;
	Elf *e;
	GElf_Ehdr eh;
	size_t nph;
	struct note notes[32];
	size_t nnotes;
	struct img_core_stats st;
	uint8_t *buf; /* the note segment */
};

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int suite_init(void)
{
	struct stat st;

	if (stat(ARCH, &st))
		return 0; /* each test skips */
	snprintf(tmp, sizeof(tmp), "%s/crt-core-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmp) ? 0 : -1;
}

static int suite_clean(void)
{
	char cmd[300];

	if (tmp[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		return system(cmd) ? -1 : 0;
	}
	return 0;
}

static int have_testdata(void)
{
	if (!tmp[0])
		unit_skip("elfcore: no testdata/images/arch (run from the source tree)");
	return tmp[0] != 0;
}

/* Write the core of pid 1 of set into a temporary file; r gets img_core_write's result. */
static int write_core(const char *set, struct core *c, int *r, struct img_err *e)
{
	struct img_core_opts o = { .stats = &c->st };
	struct img_ckpt *ck;
	char path[300];

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (img_ckpt_open(set, 0, &ck, e))
		return -1;
	snprintf(path, sizeof(path), "%s/core-XXXXXX", tmp);
	c->fd = mkstemp(path);
	if (c->fd < 0) {
		img_ckpt_close(ck);
		return -1;
	}
	unlink(path);
	*r = img_core_write(ck, img_ckpt_task(ck, 1), c->fd, &o, e);
	img_ckpt_close(ck);
	return 0;
}

static void read_core(struct core *c)
{
	GElf_Phdr ph;
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off;
	Elf_Data d;

	elf_version(EV_CURRENT);
	c->e = elf_begin(c->fd, ELF_C_READ, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gelf_getehdr(c->e, &c->eh));
	CU_ASSERT_EQUAL(c->eh.e_type, ET_CORE);
	CU_ASSERT_EQUAL_FATAL(elf_getphdrnum(c->e, &c->nph), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gelf_getphdr(c->e, 0, &ph));
	CU_ASSERT_EQUAL_FATAL(ph.p_type, PT_NOTE);
	c->buf = malloc(ph.p_filesz);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->buf);
	CU_ASSERT_EQUAL_FATAL(pread(c->fd, c->buf, ph.p_filesz, (off_t)ph.p_offset), (ssize_t)ph.p_filesz);
	memset(&d, 0, sizeof(d));
	d.d_buf = c->buf;
	d.d_size = ph.p_filesz;
	d.d_type = ELF_T_NHDR;
	while (off < ph.p_filesz && c->nnotes < 32 && (off = gelf_getnote(&d, off, &nh, &name_off, &desc_off)) > 0) {
		struct note *n = &c->notes[c->nnotes++];

		n->type = nh.n_type;
		snprintf(n->name, sizeof(n->name), "%s", (const char *)c->buf + name_off);
		n->size = nh.n_descsz;
		n->desc = c->buf + desc_off;
	}
	CU_ASSERT_EQUAL(off, ph.p_filesz);
}

static void close_core(struct core *c)
{
	if (c->e)
		elf_end(c->e);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
}

/* The notes' types and sizes, in order. */
static void expect_notes(const struct core *c, const uint32_t (*want)[2], size_t n)
{
	CU_ASSERT_EQUAL_FATAL(c->nnotes, n);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(c->notes[i].type, want[i][0]);
		CU_ASSERT_EQUAL(c->notes[i].size, want[i][1]);
		CU_ASSERT_STRING_EQUAL(c->notes[i].name, want[i][0] < 0x100 || want[i][0] == NT_SIGINFO_ ? "CORE" : "LINUX");
	}
}

/* Write the core of set and read it back: its class, machine and notes; 0 when the checks could run. */
static int core_of(const char *set, struct core *c, int cls, int mach, const uint32_t (*want)[2], size_t n)
{
	struct img_err e = { 0 };
	int r = -1;

	if (!have_testdata())
		return -1;
	CU_ASSERT_EQUAL_FATAL(write_core(set, c, &r, &e), 0);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	read_core(c);
	CU_ASSERT_EQUAL(c->eh.e_ident[EI_CLASS], cls);
	CU_ASSERT_EQUAL(c->eh.e_machine, mach);
	if (want)
		expect_notes(c, want, n);
	return 0;
}

/* x86_64 with every XSAVE component, in a group stop: the layouts of elf_prstatus, elf_prpsinfo, siginfo and XSAVE */
static void test_x86_xsave(void)
{
	static const uint32_t want[][2] = { { NT_PRSTATUS, 336 }, { NT_PRPSINFO, 136 }, { NT_SIGINFO_, 128 },
					    { NT_AUXV, 64 }, { NT_FPREGSET, 512 }, { NT_X86_XSTATE_, 2696 } };
	struct core c;
	const uint8_t *p;

	if (core_of(ARCH "/x86-xsave", &c, ELFCLASS64, EM_X86_64, want, sizeof(want) / sizeof(want[0])))
		return;
	/* elf_prstatus: the stop signal, pending SIGUSR1, blocked SIGTERM, ids, user_regs_struct, pr_fpvalid */
	p = c.notes[0].desc;
	CU_ASSERT_EQUAL(le(p, 4), 20);
	CU_ASSERT_EQUAL(le(p + 12, 2), 20);
	CU_ASSERT_EQUAL(le(p + 16, 8), 1u << 9);
	CU_ASSERT_EQUAL(le(p + 24, 8), 1u << 14);
	CU_ASSERT_EQUAL(le(p + 32, 4), 1);
	CU_ASSERT_EQUAL(le(p + 40, 4), 1);
	CU_ASSERT_EQUAL(le(p + 112 + 8 * 16, 8), 0x400041); /* rip */
	CU_ASSERT_EQUAL(le(p + 112 + 8 * 19, 8), 0x7ffd00000f00); /* rsp */
	CU_ASSERT_EQUAL(le(p + 112 + 8 * 15, 8), 35); /* orig_rax */
	CU_ASSERT_EQUAL(le(p + 328, 4), 1);
	/* elf_prpsinfo */
	p = c.notes[1].desc;
	CU_ASSERT_EQUAL(p[0], 3);
	CU_ASSERT_EQUAL(p[1], 'T');
	CU_ASSERT_EQUAL(p[3], 5);
	CU_ASSERT_EQUAL(le(p + 8, 8), 0x400100);
	CU_ASSERT_EQUAL(le(p + 16, 4), 1000);
	CU_ASSERT_EQUAL(le(p + 20, 4), 1000);
	CU_ASSERT_EQUAL(le(p + 24, 4), 1);
	CU_ASSERT_STRING_EQUAL((const char *)p + 40, "arch-x86-xsave");
	CU_ASSERT_STRING_EQUAL((const char *)p + 56, "arch-x86-xsave -v ");
	/* siginfo_t: a group stop by SIGTSTP whose sender is not known */
	p = c.notes[2].desc;
	CU_ASSERT_EQUAL(le(p, 4), 20);
	CU_ASSERT_EQUAL(le(p + 8, 4), 0);
	/* FXSAVE: fcw, mxcsr, xmm0 */
	p = c.notes[4].desc;
	CU_ASSERT_EQUAL(le(p, 2), 0x37f);
	CU_ASSERT_EQUAL(le(p + 24, 4), 0x1f80);
	CU_ASSERT_EQUAL(le(p + 160, 4), 0x3f800000);
	/* XSAVE: the legacy area again, XCR0, the header, each component at its standard offset */
	p = c.notes[5].desc;
	CU_ASSERT(!memcmp(p, c.notes[4].desc, 464));
	CU_ASSERT_EQUAL(le(p + 464, 8), 0x2ff);
	CU_ASSERT_EQUAL(le(p + 512, 8), 0x2e7);
	CU_ASSERT_EQUAL(le(p + 520, 8), 0); /* xcomp_bv: the standard format */
	CU_ASSERT_EQUAL(le(p + 576, 4), 0x11110000);
	CU_ASSERT_EQUAL(le(p + 576 + 252, 4), 0x11110000 + 63);
	CU_ASSERT_EQUAL(le(p + 960 + 8, 8), 1);
	CU_ASSERT_EQUAL(le(p + 1088, 8), 0xff00);
	CU_ASSERT_EQUAL(le(p + 1152, 8), 0x2222000000000000ull);
	CU_ASSERT_EQUAL(le(p + 1664 + 8 * 127, 8), 0x3333000000000000ull + 127);
	CU_ASSERT_EQUAL(le(p + 2688, 4), 0x55555554);
	close_core(&c);
}

/* AVX only: the note gdb expects for XCR0 0x7 is 832 bytes */
static void test_x86_avx(void)
{
	static const uint32_t want[][2] = { { NT_PRSTATUS, 336 }, { NT_PRPSINFO, 136 }, { NT_SIGINFO_, 128 },
					    { NT_AUXV, 64 }, { NT_FPREGSET, 512 }, { NT_X86_XSTATE_, 832 } };
	struct core c;

	if (core_of(ARCH "/x86-avx", &c, ELFCLASS64, EM_X86_64, want, sizeof(want) / sizeof(want[0])))
		return;
	CU_ASSERT_EQUAL(le(c.notes[5].desc + 464, 8), 0x7);
	CU_ASSERT_EQUAL(le(c.notes[5].desc + 512, 8), 0x7);
	/* an alive task: the checkpoint's own stop, from the kernel */
	CU_ASSERT_EQUAL(le(c.notes[2].desc, 4), 19);
	CU_ASSERT_EQUAL(le(c.notes[2].desc + 8, 4), 0x80);
	/* three mappings, each one segment; the page never touched is a hole */
	CU_ASSERT_EQUAL(c.nph, 4);
	CU_ASSERT_EQUAL(c.st.segments, 3);
	CU_ASSERT_EQUAL(c.st.mem, 5 * 4096);
	CU_ASSERT_EQUAL(c.st.data, 4 * 4096);
	for (size_t i = 1; i < c.nph; i++) {
		GElf_Phdr ph;
		char page[4096];

		CU_ASSERT_PTR_NOT_NULL_FATAL(gelf_getphdr(c.e, (int)i, &ph));
		CU_ASSERT_EQUAL(ph.p_type, PT_LOAD);
		CU_ASSERT_EQUAL(ph.p_filesz, ph.p_memsz);
		CU_ASSERT_EQUAL(ph.p_offset % 4096, 0);
		if (ph.p_vaddr != 0x600000)
			continue;
		CU_ASSERT_EQUAL(ph.p_flags, PF_R | PF_W);
		CU_ASSERT_EQUAL(pread(c.fd, page, sizeof(page), (off_t)ph.p_offset), 4096);
		CU_ASSERT_STRING_EQUAL(page, "x86-avx data page");
		CU_ASSERT_EQUAL(pread(c.fd, page, sizeof(page), (off_t)ph.p_offset + 4096), 4096);
		CU_ASSERT_EQUAL(memcmp(page, "x86-avx page 2;", 15), 0);
		CU_ASSERT_EQUAL(pread(c.fd, page, sizeof(page), (off_t)ph.p_offset + 2 * 4096), 4096);
		CU_ASSERT_EQUAL(page[0] | page[4095], 0);
		CU_ASSERT_EQUAL(lseek(c.fd, (off_t)ph.p_offset + 2 * 4096, SEEK_DATA) == (off_t)ph.p_offset + 2 * 4096, 0);
	}
	close_core(&c);
}

/* arm64: user_pt_regs (272 bytes) in a 392-byte elf_prstatus, user_fpsimd_state, tpidr_el0; two threads */
static void test_aarch64(void)
{
	static const uint32_t want[][2] = { { NT_PRSTATUS, 392 }, { NT_PRPSINFO, 136 }, { NT_SIGINFO_, 128 },
					    { NT_AUXV, 64 }, { NT_FPREGSET, 528 }, { NT_ARM_TLS_, 8 },
					    { NT_PRSTATUS, 392 }, { NT_SIGINFO_, 128 }, { NT_FPREGSET, 528 },
					    { NT_ARM_TLS_, 8 } };
	struct core c;
	const uint8_t *p;

	if (core_of(ARCH "/aarch64", &c, ELFCLASS64, EM_AARCH64, want, sizeof(want) / sizeof(want[0])))
		return;
	for (int t = 0; t < 2; t++) {
		p = c.notes[t ? 6 : 0].desc;
		CU_ASSERT_EQUAL(le(p + 32, 4), (uint64_t)t + 1);
		CU_ASSERT_EQUAL(le(p + 112, 8), 0x1001u + (unsigned)t);               /* x0 */
		CU_ASSERT_EQUAL(le(p + 112 + 8 * 30, 8), 0x1f001u + (unsigned)t);     /* x30 */
		CU_ASSERT_EQUAL(le(p + 112 + 8 * 32, 8), 0xaaaad0000084ull + 4 * (unsigned)t); /* pc */
		CU_ASSERT_EQUAL(le(p + 112 + 8 * 33, 8), 0x60000000);                /* pstate */
		CU_ASSERT_EQUAL(le(p + 384, 4), 1);
		CU_ASSERT_EQUAL(le(c.notes[t ? 9 : 5].desc, 8), 0xffffb7ff7020ull + 0x1000 * ((unsigned)t + 1));
	}
	p = c.notes[4].desc;
	CU_ASSERT_EQUAL(le(p + 16, 8), 0x3ff0000000000001ull); /* v1 */
	CU_ASSERT_EQUAL(le(p + 512, 4), 0x10);
	CU_ASSERT_EQUAL(le(p + 516, 4), 0x3000000);
	CU_ASSERT_STRING_EQUAL((const char *)c.notes[1].desc + 56, "arch-aarch64 -v ");
	close_core(&c);
}

/* 32-bit arm: longs of 4 bytes, 16-bit uids in elf_prpsinfo, user_vfp */
static void test_arm(void)
{
	static const uint32_t want[][2] = { { NT_PRSTATUS, 148 }, { NT_PRPSINFO, 124 }, { NT_SIGINFO_, 128 },
					    { NT_AUXV, 32 }, { NT_ARM_VFP_, 260 } };
	struct core c;
	const uint8_t *p;

	if (core_of(ARCH "/arm", &c, ELFCLASS32, EM_ARM, want, sizeof(want) / sizeof(want[0])))
		return;
	p = c.notes[0].desc;
	CU_ASSERT_EQUAL(le(p + 20, 4), 1u << 14); /* pr_sighold */
	CU_ASSERT_EQUAL(le(p + 24, 4), 1);        /* pr_pid */
	CU_ASSERT_EQUAL(le(p + 72, 4), 0x101);    /* r0 */
	CU_ASSERT_EQUAL(le(p + 72 + 4 * 15, 4), 0x10040); /* pc */
	CU_ASSERT_EQUAL(le(p + 72 + 4 * 16, 4), 0x60000010); /* cpsr */
	p = c.notes[1].desc;
	CU_ASSERT_EQUAL(le(p + 8, 2), 1000);
	CU_ASSERT_EQUAL(le(p + 10, 2), 1000);
	CU_ASSERT_EQUAL(le(p + 12, 4), 1);
	CU_ASSERT_STRING_EQUAL((const char *)p + 28, "arch-arm");
	CU_ASSERT_STRING_EQUAL((const char *)p + 44, "arch-arm -v ");
	CU_ASSERT_EQUAL(le(c.notes[2].desc + 8, 4), 0x80);
	CU_ASSERT_EQUAL(le(c.notes[4].desc + 8 * 31, 8), 0x3ff000000000001full);
	CU_ASSERT_EQUAL(le(c.notes[4].desc + 256, 4), 0x3000000);
	close_core(&c);
}

/* The bundled CRIU 4.2 dump: the XSAVE note of its AVX-512 machine (XCR0 0xe7) is 2688 bytes, as the kernel writes */
static void test_sample(void)
{
	struct core c;

	if (core_of("testdata/sample/tiny", &c, ELFCLASS64, EM_X86_64, NULL, 0))
		return;
	CU_ASSERT_EQUAL_FATAL(c.nnotes, 7);
	CU_ASSERT_EQUAL(c.notes[6].type, NT_X86_XSTATE_);
	CU_ASSERT_EQUAL(c.notes[6].size, 2688);
	CU_ASSERT_EQUAL(le(c.notes[6].desc + 464, 8), 0xe7);
	close_core(&c);
}

/* Copy a set and change one image of it with fn. */
static int variant(const char *from, const char *name, const char *member,
		   void (*fn)(struct img_image *img, struct img_msg *m), char *out, size_t cap)
{
	struct img_err e = { 0 };
	struct img_image *img;
	char cmd[1024], path[600];

	snprintf(out, cap, "%s/%s", tmp, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r '%s' '%s'", out, from, out);
	if (system(cmd))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", out, member);
	if (img_image_open(path, img_schema_default(), 0, &img, &e))
		return -1;
	fn(img, img->e[0].msg);
	if (img_image_write_file(img, path, &e)) {
		img_image_free(img);
		return -1;
	}
	img_image_free(img);
	return 0;
}

static void to_ppc64(struct img_image *img, struct img_msg *m)
{
	img_msg_set_u64(&img->arena, m, "mtype", 4);
}

static void to_compat(struct img_image *img, struct img_msg *m)
{
	struct img_msg *g = img_msg_sub(img_msg_sub(m, "thread_info"), "gpregs");

	img_msg_set_u64(&img->arena, g, "mode", 2);
}

static void to_zombie(struct img_image *img, struct img_msg *m)
{
	img_msg_set_u64(&img->arena, img_msg_sub(m, "tc"), "task_state", 6);
}

static void short_ymmh(struct img_image *img, struct img_msg *m)
{
	struct img_msg *x = img_msg_sub(img_msg_sub(img_msg_sub(m, "thread_info"), "fpregs"), "xsave");

	img_msg_add_u64(&img->arena, x, "ymmh_space", 1);
}

/* One-page VMAs until the core needs more than 65534 program headers (appended: set_msg would sort each in) */
static void many_vmas(struct img_image *img, struct img_msg *m)
{
	const struct img_fielddesc *fd = img_msgdesc_field_by_name(m->desc, "vmas");

	for (uint64_t i = 0; i < 70000; i++) {
		struct img_fval *f = img_msg_append(&img->arena, m, fd->num);
		struct img_msg *v = f ? (f->v.m = img_msg_new(&img->arena, fd->msg)) : NULL;

		if (!v)
			return;

		img_msg_set_u64(&img->arena, v, "start", 0x10000000 + 2 * 4096 * i);
		img_msg_set_u64(&img->arena, v, "end", 0x10000000 + 2 * 4096 * i + 4096);
		img_msg_set_u64(&img->arena, v, "pgoff", 0);
		img_msg_set_u64(&img->arena, v, "shmid", 0);
		img_msg_set_u64(&img->arena, v, "prot", 3);
		img_msg_set_u64(&img->arena, v, "flags", 0x22);
		img_msg_set_u64(&img->arena, v, "status", 0x201);
		img_msg_set_i64(&img->arena, v, "fd", -1);
	}
}

static void test_errors(void)
{
	static const struct {
		const char *from, *name;
		void (*fn)(struct img_image *img, struct img_msg *m);
		int code;
		const char *msg;
	} cases[] = {
		{ ARCH "/arm", "ppc", to_ppc64, -ENOTSUP, "architecture ppc64 (mtype 4) has no core layout" },
		{ ARCH "/x86-avx", "compat", to_compat, -ENOTSUP, "a 32-bit (compat) task" },
		{ ARCH "/x86-avx", "zombie", to_zombie, -ENOTSUP, "pid 1 is a zombie: it has no memory to write a core of" },
		{ ARCH "/x86-avx", "ymmh", short_ymmh, -EINVAL, "ymmh_space has 65 values: the YMM component holds 64" },
	};
	char set[300];
	struct core c;

	if (!have_testdata())
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct img_err e = { 0 };
		int r = 0;

		CU_ASSERT_EQUAL_FATAL(variant(cases[i].from, cases[i].name, "core-1.img", cases[i].fn, set, sizeof(set)), 0);
		CU_ASSERT_EQUAL_FATAL(write_core(set, &c, &r, &e), 0);
		CU_ASSERT_EQUAL(r, cases[i].code);
		CU_ASSERT_STRING_EQUAL(e.subject, "core-1.img");
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, cases[i].msg));
		close_core(&c);
	}
}

static void test_pn_xnum(void)
{
	struct img_err e = { 0 };
	char set[300];
	struct core c;
	GElf_Shdr sh;
	GElf_Phdr ph;
	int r = -1;

	if (!have_testdata())
		return;
	CU_ASSERT_EQUAL_FATAL(variant(ARCH "/x86-avx", "many", "mm-1.img", many_vmas, set, sizeof(set)), 0);
	CU_ASSERT_EQUAL_FATAL(write_core(set, &c, &r, &e), 0);
	if (r)
		fprintf(stderr, "%s: %s\n", e.subject, e.msg);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	read_core(&c);
	CU_ASSERT_EQUAL(c.eh.e_phnum, PN_XNUM);
	CU_ASSERT_EQUAL(c.nph, 70004);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gelf_getshdr(elf_getscn(c.e, 0), &sh));
	CU_ASSERT_EQUAL(sh.sh_info, 70004);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gelf_getphdr(c.e, 70002, &ph)); /* the last of them, before the stack */
	CU_ASSERT_EQUAL(ph.p_vaddr, 0x10000000 + 2 * 4096 * 69999ull);
	CU_ASSERT_EQUAL(c.nnotes, 6);
	close_core(&c);
}

static CU_TestInfo tests[] = {
	{ "x86_64 with every XSAVE component: note layouts", test_x86_xsave },
	{ "x86_64 with AVX: xstate size, segments, holes", test_x86_avx },
	{ "aarch64: two threads", test_aarch64 },
	{ "arm: 32-bit layouts", test_arm },
	{ "the bundled CRIU dump", test_sample },
	{ "unsupported architecture, compat task, bad XSAVE array", test_errors },
	{ "more than 65534 program headers", test_pn_xnum },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("elfcore", suite_init, suite_clean, tests);
