/*
 * Damaged images, in process: every corpus image (but the raw pages) with
 * each byte flipped in turn, and cut at every length.  The reader must give
 * an error with a message, or an image; an image it accepts must encode back
 * to exactly the bytes it read, and print as JSON that parses.  Fast enough to
 * run on every `make check` (also under ASan): the three images above 32 KiB
 * (manyvmas/mm-1.img is 243 KiB in one entry) are damaged at every byte of
 * their first 256 and last 128 bytes and at 256 places between; JSON is
 * printed and parsed for every 8th damaged copy of the images up to 16 KiB.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libimg.h"
#include "unit.h"

#define BIG (32 * 1024)

struct tally {
	unsigned long tried, failed_ok, read_ok, bad;
};

static int keep_offset(size_t off, size_t n)
{
	return n <= BIG || off < 256 || off + 128 >= n || off % (n / 256 | 1) == 0;
}

/* Read n bytes as the image NAME; check what the reader made of them. */
static void try_bytes(const char *name, const uint8_t *p, size_t n, int json, struct tally *t)
{
	struct img_src *src = img_src_mem(p, n, name, 0);
	struct img_image *img = NULL;
	struct img_err e = { 0 };
	int r;

	t->tried++;
	r = img_image_read(src, img_schema_builtin(), NULL, 0, &img, &e);
	if (r) {
		if (r >= 0 || !e.msg[0]) {
			t->bad++;
			fprintf(stderr, "\n  %s (%zu bytes): failed without a message (%d)\n", name, n, r);
		} else
			t->failed_ok++;
		img_src_unref(src);
		return;
	}
	t->read_ok++;
	{
		struct img_buf b;

		img_buf_init(&b);
		if (img_image_write(img, &b, &e) || !unit_same(b.data, b.len, p, n)) {
			t->bad++;
			fprintf(stderr, "\n  %s (%zu bytes): read, but does not encode back the same (%zu bytes)\n", name,
				n, b.len);
		}
		img_buf_free(&b);
	}
	if (json && img->kind->json && img->kind->layout != IMG_LAY_RAW && img->kind->layout != IMG_LAY_OPAQUE) {
		struct img_buf b;
		struct img_out o;
		struct img_arena a;

		img_buf_init(&b);
		img_out_mem(&o, &b);
		img_arena_init(&a);
		if (img_image_to_json(img, &o, IMG_JSON_PRETTY) || img_out_flush(&o) ||
		    !img_json_parse(&a, (const char *)b.data, b.len, &e)) {
			t->bad++;
			fprintf(stderr, "\n  %s (%zu bytes): read, but its JSON does not parse: %s\n", name, n, e.msg);
		}
		img_arena_free(&a);
		img_buf_free(&b);
	}
	img_image_free(img);
	img_src_unref(src);
}

static void damage_file(const char *path, const char *name, struct tally *t)
{
	struct img_src *src;
	struct img_err e = { 0 };
	uint8_t *buf;
	size_t n;
	int json;

	if (img_src_open(path, &src, &e)) {
		CU_FAIL("cannot open a corpus image");
		return;
	}
	n = src->size;
	json = n <= 16384;
	buf = malloc(n ? n : 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	memcpy(buf, src->data, n);
	img_src_unref(src);
	/* the image itself reads, and encodes back */
	try_bytes(name, buf, n, 1, t);
	for (size_t off = 0; off < n; off++) {
		static const uint8_t masks[] = { 0x80, 0xff, 0x01, 0x7f };
		uint8_t keep = buf[off];

		if (!keep_offset(off, n))
			continue;
		buf[off] ^= masks[off % 4];
		try_bytes(name, buf, n, json && off % 8 == 0, t);
		buf[off] = keep;
		try_bytes(name, buf, off, json && off % 8 == 4, t);
	}
	free(buf);
}

static void test_flip_and_cut(void)
{
	const char *corpus = unit_corpus();
	char sets[4096];
	struct tally t = { 0 };
	struct dirent *de;
	DIR *d;

	if (!corpus) {
		unit_skip("damaged corpus images (no corpus: set CR_CORPUS)");
		return;
	}
	snprintf(sets, sizeof(sets), "%s/criu-4.2", corpus);
	d = opendir(sets);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d))) {
		char dir[8192];
		struct dirent *fe;
		DIR *sd;

		if (de->d_name[0] == '.' || strstr(de->d_name, ".expected"))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", sets, de->d_name);
		sd = opendir(dir);
		if (!sd)
			continue;
		while ((fe = readdir(sd))) {
			size_t l = strlen(fe->d_name);
			char path[12288];

			if (!strncmp(fe->d_name, "pages-", 6) ||
			    !((l > 4 && !strcmp(fe->d_name + l - 4, ".img")) || !strcmp(fe->d_name, "stats-dump")))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, fe->d_name);
			damage_file(path, fe->d_name, &t);
		}
		closedir(sd);
	}
	closedir(d);
	printf("\n  damaged images: %lu read, %lu refused with a message, %lu wrong\n", t.read_ok, t.failed_ok, t.bad);
	CU_ASSERT(t.tried > 100000);
	CU_ASSERT(t.failed_ok > 0);
	CU_ASSERT_EQUAL(t.bad, 0);
}

static CU_TestInfo tests[] = {
	{ "every corpus image flipped and cut", test_flip_and_cut },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("damaged images", NULL, NULL, tests)
