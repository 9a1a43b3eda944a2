/*
 * The bridge between linux-cr streams and CRIU image sets: the test streams
 * of every version seen through the checkpoint model (tasks, threads,
 * registers, FPU, credentials, limits, handlers, files, pipes, memory in
 * place), written back as linux-cr (a second round is the same stream), the
 * x86 codecs both ways, gathered sources, and hostile streams.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../libimg/linuxcr/bridge.h"
#include "img/image.h"
#include "img/linuxcr.h"
#include "img/mem.h"
#include "img/model.h"
#include "img/xform.h"
#include "unit.h"

#define DIR "testdata/images/linuxcr/"

static const char *const images[] = {
	"v18-i386",	     "v19-rc1-i386",	"v19-rc2-i386",	    "v19-rc2-x86_64", "v19-rc3-i386",
	"v19-rc3-x86_64", "v19-i386",		"v19-x86_64",	    "v21-i386",	      "v21-x86_64",
	"v23-rc1-i386",	  "v23-rc1-x86_64",	"v23-rc2-i386",	    "v23-rc2-x86_64",
};
#define NIMAGES (sizeof(images) / sizeof(images[0]))

static struct img_lcr_image *read_image(const char *name, struct img_src **src)
{
	char path[256];
	struct img_lcr_image *img = NULL;
	struct img_lcr_opts o = { NULL, NULL, 0 };
	struct img_err e = { 0 };

	snprintf(path, sizeof(path), DIR "%s.img", name);
	if (!strcmp(name, "v19-i386"))
		o.version = "v19"; /* the same bytes as v19-rc3 on i386 */
	if (img_src_open(path, src, &e) || img_lcr_read(*src, NULL, &o, &img, &e))
		fprintf(stderr, "%s: %s\n", path, e.msg);
	return img;
}

static struct img_ckpt *model(struct img_lcr_image *img, unsigned flags, struct img_err *e)
{
	struct img_lcr_bridge_opts o = { flags, NULL, NULL };
	struct img_ckpt *ck = NULL;
	struct img_dir *d;

	if (img_lcr_criu_dir(img, &o, &d, e))
		return NULL;
	if (img_ckpt_open_dir(d, 0, &ck, e))
		return NULL;
	return ck;
}

static void test_model_every_version(void)
{
	for (size_t i = 0; i < NIMAGES; i++) {
		struct img_src *src = NULL;
		struct img_lcr_image *img = read_image(images[i], &src);
		struct img_err e = { 0 };
		struct img_ckpt *ck;
		const struct img_task *t, *const *tasks;
		size_t n;
		int x64 = strstr(images[i], "x86_64") != NULL;

		CU_ASSERT_PTR_NOT_NULL_FATAL(img);
		ck = model(img, 0, &e);
		if (!ck)
			fprintf(stderr, "%s: %s\n", images[i], e.msg);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
		/* three processes: the thread (pid 3) goes with its leader */
		tasks = img_ckpt_tasks(ck, &n);
		CU_ASSERT_EQUAL_FATAL(n, 3);
		CU_ASSERT_STRING_EQUAL(tasks[0]->comm, "crsubj-init");
		t = img_ckpt_task(ck, 2);
		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		CU_ASSERT_STRING_EQUAL(t->comm, "crsubj-multi");
		CU_ASSERT_EQUAL_FATAL(t->nthreads, 2);
		CU_ASSERT_EQUAL(t->threads[1].tid, 3);
		CU_ASSERT_EQUAL(t->ppid, 1);
		CU_ASSERT_EQUAL(img_ckpt_task(ck, 4)->state, IMG_TASK_ZOMBIE);
		/* registers, as the generator set them; 32-bit tasks as compat tasks */
		CU_ASSERT_EQUAL(t->threads[0].pc, (x64 ? 0x4005f3 : 0x80485f3) + 1);
		CU_ASSERT_EQUAL(img_msg_u64(t->threads[0].regs, "mode", 0), x64 ? 1 : 2);
		CU_ASSERT_EQUAL(img_msg_u64(t->threads[0].regs, "cs", 0), x64 ? 0x33 : 0x23);
		CU_ASSERT_EQUAL(img_msg_u64(t->threads[0].regs, "flags", 0), 0x246);
		/* the FPU: an FXSAVE area with a marker in xmm0 */
		CU_ASSERT_EQUAL(img_msg_u64(t->threads[0].fpregs, "mxcsr", 0), 0x1f80);
		CU_ASSERT_EQUAL(img_msg_count(t->threads[0].fpregs, "xmm_space"), 64);
		/* credentials, limits, handlers, timers, signals */
		CU_ASSERT_EQUAL(img_msg_u64(t->threads[0].creds, "euid", 0), 1000);
		CU_ASSERT_EQUAL(img_msg_count(t->threads[0].creds, "groups"), 2);
		CU_ASSERT_EQUAL_FATAL(t->nrlimits, 16);
		CU_ASSERT_EQUAL(img_msg_u64(t->rlimits[7], "cur", 0), 1024);
		CU_ASSERT_EQUAL(img_msg_u64(t->rlimits[7], "max", 0), 2048);
		CU_ASSERT_EQUAL_FATAL(t->nsigactions, 62);
		CU_ASSERT_EQUAL(img_sigaction_signo(8), 10);
		CU_ASSERT_EQUAL(img_msg_u64(t->sigactions[8], "sigaction", 0), x64 ? 0x4005d0 : 0x80485d0);
		CU_ASSERT_EQUAL(img_msg_u64(t->sigactions[8], "mask", 0), 1ull << 11); /* SIGUSR2 */
		CU_ASSERT_EQUAL(img_msg_u64(t->itimers[0], "vsec", 0), 5);
		CU_ASSERT_EQUAL(t->threads[0].blocked, 1ull << 11);
		CU_ASSERT_EQUAL(img_msg_count(t->threads[0].pending, "signals"), 1);
		/* files: the regular file's position, the pipe's data, cwd */
		int pos5 = 0, pipe = 0;

		for (size_t k = 0; k < t->nfds; k++) {
			const struct img_file *f = t->fds[k].file;

			CU_ASSERT_PTR_NOT_NULL_FATAL(f);
			pos5 |= f->path && !strcmp(f->path, "/tmp/crsubj/data.txt") && f->pos == 5;
			pipe |= f->pipe && f->pipe->bytes == 22 && !memcmp(f->pipe->data, "crsubj pipe: 22 bytes.", 22);
		}
		CU_ASSERT(pos5);
		CU_ASSERT(pipe);
		if (img_lcr_rectype_by_name(img->lay, "FS"))
			CU_ASSERT_STRING_EQUAL(t->cwd->path, "/tmp/crsubj");
		/* memory: the heap's pages, read in place from the stream */
		struct img_mem *m;
		struct img_mem_run run;
		uint64_t heap = x64 ? 0x1c4e000 : 0x9d4e000;

		CU_ASSERT_EQUAL_FATAL(img_mem_open(ck, t, 0, &m, &e), 0);
		CU_ASSERT_EQUAL_FATAL(img_mem_run(m, heap, heap + 0x21000, &run, &e), 0);
		CU_ASSERT_EQUAL(run.state, IMG_PAGE_PRESENT);
		CU_ASSERT_EQUAL(run.end, heap + 0x2000);
		CU_ASSERT_PTR_NOT_NULL_FATAL(run.data);
		CU_ASSERT(run.data >= src->data && run.data + 0x2000 <= src->data + src->size); /* not copied */
		CU_ASSERT_STRING_EQUAL((const char *)run.data, "CRSUBJ-SECRET=correct-horse-battery-staple");
		CU_ASSERT_STRING_EQUAL((const char *)run.data + 4096, "TINY-SUBJECT-MARKER:4242");
		CU_ASSERT_EQUAL(img_mem_run(m, heap + 0x2000, heap + 0x21000, &run, &e), 0);
		CU_ASSERT_EQUAL(run.state, IMG_PAGE_ZERO);
		img_mem_close(m);
		img_ckpt_close(ck);
		img_lcr_free(img);
		img_src_unref(src);
	}
}

/* A stream written from its own CRIU view, twice: the second is the first. */
static void test_written_back_is_a_fixed_point(void)
{
	for (size_t i = 0; i < NIMAGES; i++) {
		struct img_buf b[2];
		struct img_src *src = NULL;
		struct img_lcr_image *img = read_image(images[i], &src);
		struct img_err e = { 0 };

		CU_ASSERT_PTR_NOT_NULL_FATAL(img);
		for (int round = 0; round < 2; round++) {
			struct img_ckpt *ck = model(img, IMG_LCR_BRIDGE_LOSSY, &e);
			struct img_lcr_from_opts o = { "v23-rc2", 0, NULL, IMG_XF_EMULATE, NULL, NULL, NULL };
			FILE *f = tmpfile();
			long len;

			CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
			CU_ASSERT_PTR_NOT_NULL_FATAL(f);
			int r = img_lcr_from_ckpt(ck, &o, fileno(f), &e);

			if (r)
				fprintf(stderr, "%s: %s\n", images[i], e.msg);
			CU_ASSERT_EQUAL_FATAL(r, 0);
			img_ckpt_close(ck);
			len = lseek(fileno(f), 0, SEEK_END);
			img_buf_init(&b[round]);
			CU_ASSERT_EQUAL_FATAL(img_buf_reserve(&b[round], (size_t)len), 0);
			CU_ASSERT_EQUAL_FATAL(pread(fileno(f), b[round].data, (size_t)len, 0), len);
			b[round].len = (size_t)len;
			fclose(f);
			img_lcr_free(img);
			img_src_unref(src);
			src = img_src_mem(b[round].data, b[round].len, "written", 0);
			img = NULL;
			CU_ASSERT_EQUAL_FATAL(img_lcr_read(src, NULL, NULL, &img, &e), 0);
			CU_ASSERT_STRING_EQUAL(img->lay->ver->name, "v23-rc2");
		}
		CU_ASSERT(unit_same(b[0].data, b[0].len, b[1].data, b[1].len));
		img_lcr_free(img);
		img_src_unref(src);
		img_buf_free(&b[0]);
		img_buf_free(&b[1]);
	}
}

static void test_strict_and_lossy(void)
{
	struct img_src *src = NULL;
	struct img_lcr_image *img = read_image("v23-rc2-x86_64", &src);
	struct img_lcr_bridge_opts strict = { 0, NULL, NULL };
	struct img_err e = { 0 };
	struct img_dir *d;
	char path[256];

	/* everything of the test stream has a place: no loss */
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	CU_ASSERT_EQUAL(img_lcr_criu_dir(img, &strict, &d, &e), 0);
	img_dir_close(d);
	img_lcr_free(img);
	img_src_unref(src);
	/* a failed checkpoint: its ERROR record has no place */
	snprintf(path, sizeof(path), DIR "v23-rc2-x86_64-error.img");
	CU_ASSERT_EQUAL_FATAL(img_lcr_open(path, NULL, &img, &e), 0);
	CU_ASSERT_EQUAL(img_lcr_criu_dir(img, &strict, &d, &e), -ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "(ERROR) at offset 0x7b60"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "--lossy"));
	/* lossy: the tasks the stream holds */
	struct img_ckpt *ck = model(img, IMG_LCR_BRIDGE_LOSSY, &e);
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ck);
	img_ckpt_tasks(ck, &n);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(img_ckpt_task(ck, 2)->nthreads, 1);
	img_ckpt_close(ck);
	img_lcr_free(img);
}

/* Streams the reader takes but whose CRIU view would be wrong. */
static void test_hostile(void)
{
	struct img_src *src = NULL;
	struct img_lcr_image *img = read_image("v23-rc2-x86_64", &src);
	struct img_err e = { 0 };
	struct img_lcr_bridge_opts o = { IMG_LCR_BRIDGE_LOSSY, NULL, NULL };
	struct img_dir *d;
	uint8_t *copy;

	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	/* the heap's second page saved at the first one's address */
	CU_ASSERT_EQUAL_FATAL(img->mms[1].vmas[2].nchunks, 1);
	copy = img_malloc(src->size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	memcpy(copy, src->data, src->size);
	img_put_u64(copy + img->mms[1].vmas[2].chunks[0].addrs_off + 8, img->mms[1].vmas[2].start);
	struct img_src *h = img_src_heap(copy, src->size, "hostile.img");
	struct img_lcr_image *hi = NULL;

	img_lcr_free(img);
	img_src_unref(src);
	CU_ASSERT_EQUAL_FATAL(img_lcr_read(h, NULL, NULL, &hi, &e), 0);
	CU_ASSERT_EQUAL(img_lcr_criu_dir(hi, &o, &d, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "saved twice"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "(BUFFER) at offset"));
	img_lcr_free(hi);
	img_src_unref(h);

	/* a thread whose leader is not in the tree (v21: pid numbers in the tree) */
	img = read_image("v21-x86_64", &src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(img);
	const struct img_lcr_rec *tree = &img->r[img->rec_tree + 1];
	const struct img_lcr_struct *es = img_lcr_struct_find(img->lay, "ckpt_pids");
	struct img_lcr_fref fr;

	CU_ASSERT_PTR_NOT_NULL_FATAL(es);
	CU_ASSERT_EQUAL_FATAL(img_lcr_field_ref(es, "vtgid", &fr), 0);
	copy = img_malloc(src->size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	memcpy(copy, src->data, src->size);
	img_put_u32(copy + tree->off + 8 + 2 * es->size + fr.off, 9);
	h = img_src_heap(copy, src->size, "hostile.img");
	img_lcr_free(img);
	img_src_unref(src);
	hi = NULL;
	CU_ASSERT_EQUAL_FATAL(img_lcr_read(h, NULL, NULL, &hi, &e), 0);
	CU_ASSERT_EQUAL(img_lcr_criu_dir(hi, &o, &d, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "thread 3 of thread group 9, whose leader is not in the tree"));
	img_lcr_free(hi);
	img_src_unref(h);
}

static void test_gather(void)
{
	static const char text[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	struct img_src *base = img_src_mem(text, sizeof(text) - 1, "base", 0);
	const struct img_src_piece p[] = { { 10, 5 }, { 0, 3 }, { 30, 6 } };
	struct img_src *g = img_src_gather(base, p, 3, "gathered");
	struct img_err e = { 0 };
	char buf[16] = { 0 };
	uint64_t n;
	const uint8_t *d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->size, 14);
	CU_ASSERT_PTR_NULL(g->data);
	CU_ASSERT_EQUAL(img_src_pread(g, buf, 14, 0, &e), 0);
	CU_ASSERT_STRING_EQUAL(buf, "abcde012uvwxyz");
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(img_src_pread(g, buf, 4, 4, &e), 0); /* across two pieces */
	CU_ASSERT_STRING_EQUAL(buf, "e012");
	/* in place: a pointer into base, as far as the piece goes */
	d = img_src_direct(g, 6, &n);
	CU_ASSERT_PTR_EQUAL(d, (const uint8_t *)text + 1);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_PTR_NULL(img_src_direct(g, 14, &n));
	CU_ASSERT_NOT_EQUAL(img_src_pread(g, buf, 2, 13, &e), 0);
	img_src_unref(g);
	/* a piece past the end of base is refused */
	const struct img_src_piece bad[] = { { 30, 7 } };

	CU_ASSERT_PTR_NULL(img_src_gather(base, bad, 1, "bad"));

	/* a piece of another source (the running kernel's vdso among a stream's pages): held and read from it */
	struct img_src *other = img_src_mem("ELF!", 4, "other", 1);
	const struct img_src_piece mixed[] = { { 0, 2 }, { 0, 4, other }, { 35, 1 } };
	const struct img_src_piece past[] = { { 0, 5, other } };

	CU_ASSERT_PTR_NULL(img_src_gather(base, past, 1, "past"));
	g = img_src_gather(base, mixed, 3, "mixed");
	img_src_unref(other); /* the gathered source keeps its own reference */
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	CU_ASSERT_EQUAL(g->size, 7);
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(img_src_pread(g, buf, 7, 0, &e), 0);
	CU_ASSERT_STRING_EQUAL(buf, "01ELF!z");
	d = img_src_direct(g, 3, &n);
	CU_ASSERT_PTR_NOT_NULL(d);
	CU_ASSERT_EQUAL(n, 3);
	if (d)
		CU_ASSERT_EQUAL(memcmp(d, "LF!", 3), 0);
	img_src_unref(g);
	img_src_unref(base);
}

static void test_x86_codecs(void)
{
	const struct br_table *t;
	struct br_ctx c = { 0 };
	const struct img_lcr_tables *tabs = img_lcr_tables_default();
	struct img_err e = { 0 };
	uint64_t v, back, lost;

	CU_ASSERT_EQUAL_FATAL(br_table(&t, &e), 0);
	c.t = t;
	c.lay = img_lcr_layout_find(img_lcr_version_find(tabs, "v23-rc2"), "x86_64");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c.lay);
	/* selectors: symbolic in linux-cr, values in CRIU, both ways */
	static const uint64_t native[] = { 0, 0x33, 0x2b, 0x63, 0x6b, 0x73, 0x7, 0x2f };
	for (size_t i = 0; i < sizeof(native) / sizeof(native[0]); i++) {
		CU_ASSERT_EQUAL(br_to_lcr(&c, BR_HOW_SEG, native[i], &v, &lost), 0);
		CU_ASSERT_EQUAL(br_to_criu(&c, BR_HOW_SEG, v, &back), 0);
		CU_ASSERT_EQUAL(back, native[i]);
	}
	CU_ASSERT_EQUAL(br_to_lcr(&c, BR_HOW_SEG, 0x10, &v, &lost), -ERANGE); /* the kernel's own code segment */
	c.compat = 1;
	CU_ASSERT_EQUAL(br_to_lcr(&c, BR_HOW_SEG, 0x23, &v, &lost), 0);
	CU_ASSERT_EQUAL(br_to_criu(&c, BR_HOW_SEG, v, &back), 0);
	CU_ASSERT_EQUAL(back, 0x23);
	/* task flags: PF_FORKNOEXEC kept, PF_RANDOMIZE has no CKPT_PF bit */
	CU_ASSERT_EQUAL(br_to_lcr(&c, BR_HOW_PF, 0x400040, &v, &lost), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(lost, 0x400000);
	CU_ASSERT_EQUAL(br_to_lcr(&c, BR_HOW_PAGES, 4097, &v, &lost), -ERANGE);

	/* TLS descriptors: glibc's %gs of an i386 task, and an empty one */
	struct img_arena a;
	struct img_msg *u;
	uint32_t lo, hi;

	img_arena_init(&a);
	u = img_msg_new(&a, img_schema_msg(img_schema_default(), "user_desc_t"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(u);
	CU_ASSERT_EQUAL(lcr_desc_to_msg(&a, u, 12, 0xc6c0ffff, 0xb7cff3d8), 0);
	CU_ASSERT_EQUAL(img_msg_u64(u, "base_addr", 0), 0xb7d8c6c0);
	CU_ASSERT_EQUAL(img_msg_u64(u, "limit", 0), 0xfffff);
	CU_ASSERT_EQUAL(img_msg_u64(u, "seg_32bit", 0), 1);
	CU_ASSERT_EQUAL(img_msg_u64(u, "limit_in_pages", 0), 1);
	CU_ASSERT_EQUAL(img_msg_u64(u, "seg_not_present", 1), 0);
	lcr_desc_from_msg(u, &lo, &hi);
	CU_ASSERT_EQUAL(lo, 0xc6c0ffff);
	CU_ASSERT_EQUAL(hi, 0xb7cff3d8);
	CU_ASSERT_EQUAL(lcr_desc_to_msg(&a, u, 13, 0, 0), 0);
	CU_ASSERT_EQUAL(img_msg_u64(u, "read_exec_only", 0), 1);
	CU_ASSERT_EQUAL(img_msg_u64(u, "seg_not_present", 0), 1);
	lcr_desc_from_msg(u, &lo, &hi);
	CU_ASSERT(!lo && !hi);

	/* the FPU area: XSAVE with AVX and AVX-512 there and back, and fitted to AVX only */
	uint8_t area[LCR_XSAVE_MAX], back_area[LCR_XSAVE_MAX];
	uint32_t len;
	uint64_t xcr0;
	struct img_msg *fp = img_msg_new(&a, img_schema_msg(img_schema_default(), "user_x86_fpregs_entry"));

	memset(area, 0, sizeof(area));
	for (size_t i = 0; i < 512; i++)
		area[i] = (uint8_t)(i * 7);
	memset(area + 464, 0, 48);
	img_put_u64(area + 464, 0xe7);      /* XCR0: x87 SSE AVX opmask zmm_hi256 hi16_zmm */
	img_put_u64(area + 512, 0x84);      /* xstate_bv: AVX and hi16_zmm in use */
	memset(area + 576, 0x11, 256);      /* ymmh */
	memset(area + 1664, 0x22, 1024);    /* hi16_zmm */
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	CU_ASSERT_EQUAL_FATAL(lcr_fpu_to_msg(&a, fp, area, area, 2688), 0);
	CU_ASSERT_EQUAL(img_msg_count(img_msg_sub(fp, "xsave"), "hi16_zmm"), 128);
	CU_ASSERT_EQUAL(img_msg_count(img_msg_sub(fp, "xsave"), "bndreg_state"), 0);
	CU_ASSERT_EQUAL(lcr_fpu_from_msg(fp, back_area, sizeof(back_area), &len, &xcr0, &e), 0);
	CU_ASSERT_EQUAL(len, 2688);
	CU_ASSERT_EQUAL(xcr0, 0xe7);
	CU_ASSERT_EQUAL(lcr_xsave_size(xcr0), 2688);
	CU_ASSERT(!memcmp(area, back_area, 416)); /* the FXSAVE registers */
	CU_ASSERT(!memcmp(area + 512, back_area + 512, 2688 - 512));
	/* to AVX only: hi16_zmm is in use, so the fit says so; opmask and zmm_hi256 are not */
	CU_ASSERT_EQUAL(lcr_fpu_fit(back_area, xcr0, 0x7), 0x80);
	CU_ASSERT_EQUAL(img_get_u64(back_area + 512), 0x4);
	CU_ASSERT_EQUAL(lcr_xsave_size(0x7), 832);
	CU_ASSERT_EQUAL(lcr_area_xcr0(back_area, 832, 1), 0x7);
	img_arena_free(&a);
}

static CU_TestInfo tests[] = {
	{ "every version seen as a CRIU set", test_model_every_version },
	{ "written back twice: the same stream", test_written_back_is_a_fixed_point },
	{ "strict and lossy views", test_strict_and_lossy },
	{ "hostile streams", test_hostile },
	{ "gathered sources", test_gather },
	{ "x86 codecs", test_x86_codecs },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE("linux-cr bridge", NULL, NULL, tests);
