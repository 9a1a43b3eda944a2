/*
 * linux-cr streams: the test streams of every version read into the view and
 * written back byte for byte; hostile streams (lengths, renumbered types,
 * truncated page arrays, objref loops ...) refused with their offsets;
 * conversion between versions there and back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "img/linuxcr.h"
#include "unit.h"

#define DIR "testdata/images/linuxcr/"

static const char *const images[] = {
	"v18-i386",	     "v19-rc1-i386",	"v19-rc2-i386",	    "v19-rc2-x86_64", "v19-rc3-i386",
	"v19-rc3-x86_64", "v19-i386",		"v19-x86_64",	    "v21-i386",	      "v21-x86_64",
	"v23-rc1-i386",	  "v23-rc1-x86_64",	"v23-rc2-i386",	    "v23-rc2-x86_64",
};
#define NIMAGES (sizeof(images) / sizeof(images[0]))

static struct img_src *load(const char *name)
{
	char path[256];
	struct img_src *s = NULL;
	struct img_err e = { 0 };

	snprintf(path, sizeof(path), DIR "%s.img", name);
	if (img_src_open(path, &s, &e))
		fprintf(stderr, "%s: %s\n", path, e.msg);
	return s;
}

/* The version a file's name gives ("v19-rc3-i386" -> "v19-rc3") */
static void version_of(const char *name, char *v, size_t n)
{
	snprintf(v, n, "%s", name);
	*strrchr(v, '-') = 0;
}

static int read_mem(const uint8_t *p, size_t n, const char *version, struct img_lcr_image **img, struct img_err *e)
{
	struct img_src *s = img_src_mem(p, n, "hostile.img", 1);
	struct img_lcr_opts o = { version, NULL, 0 };
	int r;

	memset(e, 0, sizeof(*e));
	r = img_lcr_read(s, NULL, &o, img, e);
	img_src_unref(s);
	return r;
}

static void test_read_every_version(void)
{
	for (size_t i = 0; i < NIMAGES; i++) {
		struct img_src *s = load(images[i]);
		struct img_lcr_image *img = NULL;
		struct img_err e = { 0 };
		char v[32];

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		version_of(images[i], v, sizeof(v));
		CU_ASSERT_EQUAL_FATAL(img_lcr_read(s, NULL, NULL, &img, &e), 0);
		/* i386 v19 and v19-rc3 differ only in the order of the task's fields: ambiguous when no field tells */
		if (strcmp(img->lay->ver->name, v))
			fprintf(stderr, "%s detected as %s\n", images[i], img->lay->ver->name);
		CU_ASSERT_STRING_EQUAL(img->lay->ver->name, v);
		CU_ASSERT_STRING_EQUAL(img->lay->arch, strrchr(images[i], '-') + 1);
		CU_ASSERT_EQUAL_FATAL(img->ntasks, 4);
		CU_ASSERT_STRING_EQUAL(img->tasks[1].comm, "crsubj-multi");
		CU_ASSERT_EQUAL(img->tasks[2].pid, 3);
		CU_ASSERT_EQUAL(img->tasks[2].tgid, 2);
		CU_ASSERT(img->tasks[3].zombie);
		/* the process and its thread share mm, files and signal */
		CU_ASSERT_EQUAL(img->tasks[1].mm, img->tasks[2].mm);
		CU_ASSERT_EQUAL(img->tasks[1].files, img->tasks[2].files);
		CU_ASSERT_EQUAL_FATAL(img->nmms, 2);
		CU_ASSERT_EQUAL_FATAL(img->mms[1].nvmas, 5);
		/* the heap's first page holds the secret */
		const struct img_lcr_vma *heap = &img->mms[1].vmas[2];

		CU_ASSERT_EQUAL_FATAL(heap->npages, 2);
		CU_ASSERT_EQUAL(memcmp(s->data + heap->chunks[0].data_off, "CRSUBJ-SECRET=correct-horse-battery-staple", 43), 0);
		CU_ASSERT_EQUAL(memcmp(s->data + heap->chunks[0].data_off + img->lay->page_size, "TINY-SUBJECT-MARKER:4242", 25), 0);
		CU_ASSERT_EQUAL_FATAL(img->npipes, 1);
		CU_ASSERT_EQUAL(img->pipes[0].len, 22);
		CU_ASSERT_EQUAL(memcmp(s->data + img->pipes[0].data_off, "crsubj pipe: 22 bytes.", 22), 0);
		CU_ASSERT_EQUAL_FATAL(img->nftables, 2);
		CU_ASSERT_EQUAL(img->ftables[1].nfds, 6);
		/* fs_struct was saved from v19-rc3 on */
		int has_fs = strcmp(v, "v18") && strcmp(v, "v19-rc1") && strcmp(v, "v19-rc2");

		CU_ASSERT_EQUAL(img->nfss, has_fs ? 2u : 0u);
		img_lcr_free(img);
		img_src_unref(s);
	}
}

/* Every struct record encoded again from its decoded fields gives the same bytes. */
static void test_write_back(void)
{
	const char *extra[] = { "v23-rc2-i386-error", "v23-rc2-x86_64-error" };

	for (size_t i = 0; i < NIMAGES + 2; i++) {
		const char *name = i < NIMAGES ? images[i] : extra[i - NIMAGES];
		struct img_src *s = load(name);
		struct img_lcr_image *img = NULL;
		struct img_err e = { 0 };
		struct img_buf b;
		char v[32];
		struct img_lcr_opts o = { v, NULL, 0 };

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		version_of(name, v, sizeof(v));
		if (i >= NIMAGES)
			snprintf(v, sizeof(v), "v23-rc2");
		CU_ASSERT_EQUAL_FATAL(img_lcr_read(s, NULL, &o, &img, &e), 0);
		CU_ASSERT_EQUAL_FATAL(img_lcr_write(img, &b, &e), 0);
		CU_ASSERT_EQUAL(b.len, s->size);
		CU_ASSERT(b.len == s->size && !memcmp(b.data, s->data, b.len));
		img_buf_free(&b);
		img_lcr_free(img);
		img_src_unref(s);
	}
}

/* A hostile variant of the v23-rc2 stream: err must name an offset and say what. */
static void expect_bad(const uint8_t *p, size_t n, const char *version, const char *what)
{
	struct img_lcr_image *img = NULL;
	struct img_err e;
	int r = read_mem(p, n, version, &img, &e);

	CU_ASSERT_EQUAL(r, -EINVAL);
	if (!r) {
		img_lcr_free(img);
		fprintf(stderr, "accepted, expected: %s\n", what);
		return;
	}
	if (!strstr(e.msg, what) || !strstr(e.msg, "0x"))
		fprintf(stderr, "expected '%s' with an offset, got: %s\n", what, e.msg);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, what));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "0x"));
}

struct stream {
	struct img_src *src;
	struct img_lcr_image *img;
	uint8_t *p;
	size_t n;
};

static int open_stream(struct stream *st, const char *name)
{
	struct img_err e = { 0 };
	char v[32];
	struct img_lcr_opts o = { v, NULL, 0 };

	version_of(name, v, sizeof(v));
	st->src = load(name);
	if (!st->src || img_lcr_read(st->src, NULL, &o, &st->img, &e))
		return -1;
	st->n = st->src->size;
	st->p = malloc(st->n + 64);
	if (!st->p)
		return -1;
	memcpy(st->p, st->src->data, st->n);
	return 0;
}

static void reset(struct stream *st)
{
	memcpy(st->p, st->src->data, st->n);
}

static void close_stream(struct stream *st)
{
	img_lcr_free(st->img);
	img_src_unref(st->src);
	free(st->p);
}

/* index of the k-th record named so */
static size_t find(const struct stream *st, const char *name, int k)
{
	for (size_t i = 0; i < st->img->n; i++)
		if (!strcmp(st->img->r[i].rt->name, name) && !k--)
			return i;
	return (size_t)-1;
}

static void set32(struct stream *st, size_t rec, uint32_t off, uint32_t v)
{
	img_put_u32(st->p + st->img->r[rec].off + off, v);
}

static void test_hostile(void)
{
	struct stream st;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(open_stream(&st, "v23-rc2-x86_64"), 0);
	/* len below the 8-byte header */
	i = find(&st, "TASK", 0);
	set32(&st, i, 4, 4);
	expect_bad(st.p, st.n, NULL, "len 4 is less than its own 8-byte header");
	reset(&st);
	/* len past the end */
	i = st.img->n - 1;
	set32(&st, i, 4, st.img->r[i].len + 100);
	expect_bad(st.p, st.n, NULL, "runs past the end of the file");
	reset(&st);
	/* a header cut short, and a cut inside a page array */
	expect_bad(st.p, st.img->r[st.img->rec_tail].off + 5, NULL, "a record header needs 8");
	i = find(&st, "BUFFER", 0);
	for (size_t k = 0; k < st.img->n; k++)
		if (st.img->r[k].role && !strcmp(st.img->r[k].role, "pages")) {
			i = k;
			break;
		}
	expect_bad(st.p, st.img->r[i].off + 100, NULL, "runs past the end of the file");
	/* a page array that says more pages than its buffer holds */
	set32(&st, (size_t)st.img->r[i].parent, 8, 2);
	expect_bad(st.p, st.n, NULL, "truncated page array");
	reset(&st);
	/* a page address outside its vma */
	img_put_u64(st.p + st.img->r[i].off + 8, 0x1000);
	expect_bad(st.p, st.n, NULL, "is not a page of the vma");
	reset(&st);
	/* a renumbered type: MM_CONTEXT written with v23-rc1's number (404, HPAGE in v23-rc2) */
	i = find(&st, "MM_CONTEXT", 0);
	set32(&st, i, 0, 404);
	expect_bad(st.p, st.n, NULL, "404 is MM_CONTEXT in v23-rc1");
	reset(&st);
	/* a TASK with v21's number (102 is TREE in v23-rc2): the size says which it is */
	i = find(&st, "TASK", 1);
	set32(&st, i, 0, 102);
	expect_bad(st.p, st.n, NULL, "TASK in v23-rc1");
	reset(&st);
	/* an unknown type */
	set32(&st, i, 0, 4242);
	expect_bad(st.p, st.n, NULL, "type 4242 is not a v23-rc2 record type");
	reset(&st);
	/* objref loop: USER 5 { USER_NS 6 { creator = 5 } }, made from the same bytes */
	size_t o0 = find(&st, "OBJREF", 0);
	int64_t obj;

	CU_ASSERT_STRING_EQUAL(st.img->r[o0 + 1].rt->name, "USER_NS");
	img_lcr_enum_val(img_lcr_enum_find(st.img->lay, "obj"), "USER", &obj);
	set32(&st, o0, 8, (uint32_t)obj);                               /* OBJREF(USER, 5) */
	set32(&st, o0 + 1, 0, st.img->r[o0].type);                     /* OBJREF(USER_NS, 6) */
	img_lcr_enum_val(img_lcr_enum_find(st.img->lay, "obj"), "USER_NS", &obj);
	set32(&st, o0 + 1, 8, (uint32_t)obj);
	set32(&st, o0 + 1, 12, 6);
	set32(&st, o0 + 2, 0, st.img->r[o0 + 1].type);                 /* USER_NS { creator_ref = 5 } */
	set32(&st, o0 + 2, 8, 5);
	expect_bad(st.p, st.n, NULL, "objref loop: creator_ref refers to objref 5 (USER)");
	reset(&st);
	/* an objref defined twice, one never defined, one of the wrong type */
	set32(&st, o0 + 2, 12, 5);
	expect_bad(st.p, st.n, NULL, "objref 5 is defined again");
	reset(&st);
	i = find(&st, "TASK_OBJS", 0);
	set32(&st, i, 12, 999);
	expect_bad(st.p, st.n, NULL, "mm_objref refers to objref 999 (a MM), which is not defined before it");
	set32(&st, i, 12, 8);
	expect_bad(st.p, st.n, NULL, "which is a CRED");
	reset(&st);
	/* counts that would make the reader allocate: bounded by the stream */
	i = find(&st, "MM", 0);
	set32(&st, i, 8, 0x7fffffff);
	expect_bad(st.p, st.n, NULL, "map_count 2147483647");
	reset(&st);
	i = find(&st, "TREE", 0);
	set32(&st, i, 8, 0x40000000);
	expect_bad(st.p, st.n, NULL, "1073741824 tasks");
	reset(&st);
	/* a struct record longer than its struct: only zeros may follow (libbpf's rule) */
	i = st.img->rec_tail;
	memcpy(st.p + st.n, "\0\0\0\0\0\0\0\0", 8);
	set32(&st, (size_t)i, 4, 24);
	{
		struct img_lcr_image *img;
		struct img_err e;
		struct img_buf b;

		CU_ASSERT_EQUAL(read_mem(st.p, st.n + 8, NULL, &img, &e), 0);
		if (img) {
			CU_ASSERT_EQUAL(img_lcr_write(img, &b, &e), 0);
			CU_ASSERT(b.len == st.n + 8 && !memcmp(b.data, st.p, b.len));
			img_buf_free(&b);
			img_lcr_free(img);
		}
	}
	st.p[st.n + 3] = 0x3c;
	expect_bad(st.p, st.n + 8, NULL, "are not zero (0x");
	reset(&st);
	/* a record shorter than its struct (16 bytes taken out of it) */
	i = find(&st, "TASK_OBJS", 0);
	set32(&st, i, 4, 16);
	memmove(st.p + st.img->r[i].off + 16, st.p + st.img->r[i].off + 32, st.n - st.img->r[i].off - 32);
	expect_bad(st.p, st.n - 16, "v23-rc2", "len 16 ends at 0x");
	reset(&st);
	/* a record after the tail, a tail with a bad magic, no tail */
	memcpy(st.p + st.n, st.p + st.img->r[st.img->rec_tail].off, 16);
	expect_bad(st.p, st.n + 16, NULL, "a record after the TAIL");
	st.p[st.img->r[st.img->rec_tail].off + 9] ^= 1;
	expect_bad(st.p, st.n, NULL, "a TAIL holds");
	reset(&st);
	expect_bad(st.p, st.img->r[st.img->rec_tail].off, NULL, "without a TAIL record");
	/* the header: big-endian, an unknown rev, a version forced on the wrong stream */
	st.p[8] = 0;
	img_put_u64(st.p + 8, __builtin_bswap64(IMG_LCR_MAGIC_HEAD));
	expect_bad(st.p, st.n, NULL, "big-endian");
	reset(&st);
	img_put_u16(st.p + 24, 9);
	expect_bad(st.p, st.n, NULL, "no known linux-cr version has rev 9 (u16 at 0x18)");
	reset(&st);
	expect_bad(st.p, st.n, "v21", "0x");
	close_stream(&st);
}

/* Flipped bytes and cuts everywhere near the record headers: an error or a read, never a crash. */
static void test_mutations(void)
{
	struct stream st;
	unsigned bad = 0, ok = 0;

	CU_ASSERT_EQUAL_FATAL(open_stream(&st, "v23-rc2-i386"), 0);
	for (size_t i = 0; i < st.img->n; i++) {
		uint64_t off = st.img->r[i].off;

		for (uint64_t k = off; k < off + 24 && k < st.n; k++) {
			struct img_lcr_image *img = NULL;
			struct img_err e;

			st.p[k] ^= 0xa5;
			if (read_mem(st.p, st.n, NULL, &img, &e))
				bad++;
			else
				ok++;
			img_lcr_free(img);
			st.p[k] ^= 0xa5;
		}
		struct img_lcr_image *img = NULL;
		struct img_err e;

		if (read_mem(st.p, off + 5, NULL, &img, &e))
			bad++;
		img_lcr_free(img);
	}
	CU_ASSERT(bad > 1000);
	CU_ASSERT(ok > 0); /* some flips land in values nothing checks */
	close_stream(&st);
}

static void note(void *arg, const char *line)
{
	unsigned *n = arg;

	if (strstr(line, "sysenter_return"))
		(*n)++;
}

static int convert(struct img_lcr_image *img, const char *to, unsigned flags, struct img_buf *out, struct img_err *e,
		   unsigned *notes)
{
	struct img_lcr_conv_opts o = { to, NULL, flags, note, notes };

	memset(e, 0, sizeof(*e));
	return img_lcr_convert(img, &o, out, e);
}

/* v23-rc2 to v19-rc3 and back gives the same bytes; so does every lossless pair. */
static void test_convert_round_trips(void)
{
	unsigned trips = 0;

	for (size_t i = 0; i < NIMAGES; i++)
		for (size_t j = 0; j < NIMAGES; j++) {
			const char *arch = strrchr(images[i], '-');
			struct img_lcr_image *a = NULL, *b = NULL;
			struct img_buf down, back;
			struct img_err e;
			char va[32], vb[32];
			unsigned n = 0;

			if (i == j || strcmp(arch, strrchr(images[j], '-')))
				continue;
			version_of(images[i], va, sizeof(va));
			version_of(images[j], vb, sizeof(vb));
			struct img_src *s = load(images[i]);
			struct img_lcr_opts oa = { va, NULL, 0 };

			CU_ASSERT_EQUAL_FATAL(img_lcr_read(s, NULL, &oa, &a, &e), 0);
			if (convert(a, vb, 0, &down, &e, &n)) {
				/* refused: it must say what cannot be held */
				if (!strstr(e.msg, "no place in"))
					fprintf(stderr, "%s -> %s: %s\n", images[i], vb, e.msg);
				CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no place in"));
			} else {
				CU_ASSERT_EQUAL_FATAL(read_mem(down.data, down.len, vb, &b, &e), 0);
				CU_ASSERT_EQUAL_FATAL(convert(b, va, 0, &back, &e, &n), 0);
				CU_ASSERT(back.len == s->size && !memcmp(back.data, s->data, back.len));
				trips++;
				img_buf_free(&back);
				img_buf_free(&down);
				img_lcr_free(b);
			}
			img_lcr_free(a);
			img_src_unref(s);
		}
	/* measured: 60 of the 92 same-arch pairs convert without loss */
	CU_ASSERT_EQUAL(trips, 60);
}

static void test_convert_refusals(void)
{
	struct img_src *s = load("v23-rc2-i386"), *s64 = load("v23-rc2-x86_64");
	struct img_lcr_image *img, *img64;
	struct img_buf out;
	struct img_err e;
	unsigned notes = 0;

	CU_ASSERT_EQUAL_FATAL(img_lcr_read(s, NULL, NULL, &img, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_lcr_read(s64, NULL, NULL, &img64, &e), 0);
	/* i386 v23 saves the vdso's sysenter return address; v19-rc3 has no place for it */
	CU_ASSERT_NOT_EQUAL(convert(img, "v19-rc3", 0, &out, &e, &notes), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "sysenter_return 3086140452 has no place in v19-rc3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "--lossy"));
	CU_ASSERT_EQUAL(convert(img, "v19-rc3", IMG_LCR_CONV_LOSSY, &out, &e, &notes), 0);
	CU_ASSERT_EQUAL(notes, 3); /* one THREAD record per live task */
	img_buf_free(&out);
	/* no x86-64 before v19-rc2 */
	CU_ASSERT_NOT_EQUAL(convert(img64, "v18", 0, &out, &e, &notes), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "v18 has no x86_64 port"));
	/* fs_struct was not saved before v19-rc3 */
	CU_ASSERT_NOT_EQUAL(convert(img64, "v19-rc2", 0, &out, &e, &notes), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "FS objects have no place in v19-rc2"));
	img_lcr_free(img);
	img_lcr_free(img64);
	img_src_unref(s);
	img_src_unref(s64);
}

static CU_TestInfo tests[] = {
	{ "every version reads into the view", test_read_every_version },
	{ "every stream writes back byte for byte", test_write_back },
	{ "hostile streams are refused with offsets", test_hostile },
	{ "mutated streams never crash", test_mutations },
	{ "conversions there and back are byte-identical", test_convert_round_trips },
	{ "conversions that would lose data are refused", test_convert_refusals },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("linuxcr streams", NULL, NULL, tests)
