/*
 * libFuzzer target: bytes taken as a linux-cr stream, read into the view,
 * written back, printed as JSON and as ckptinfo does, converted to the
 * oldest and the newest version, and seen as a CRIU set through the bridge
 * (the model built, every task's memory walked, written back as linux-cr).
 * The oracle: a stream that reads writes back byte for byte.  Seeds: the
 * streams of testdata/images/linuxcr (tests/fuzz/seeds).
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "img/linuxcr.h"
#include "img/mem.h"
#include "img/model.h"

/* The bridge: the CRIU view, its model and memory, and the model written as linux-cr again. */
static void bridge(const struct img_lcr_image *img)
{
	struct img_lcr_bridge_opts bo = { IMG_LCR_BRIDGE_LOSSY, NULL, NULL };
	struct img_lcr_from_opts fo = { "v23-rc2", IMG_LCR_BRIDGE_LOSSY, NULL, 0, NULL, NULL, NULL };
	const struct img_task *const *tasks;
	struct img_ckpt *ck;
	struct img_err e = { 0 };
	struct img_dir *d;
	FILE *f;
	size_t n;

	if (img_lcr_criu_dir(img, &bo, &d, &e) || img_ckpt_open_dir(d, IMG_CKPT_TOLERANT, &ck, &e))
		return;
	tasks = img_ckpt_tasks(ck, &n);
	for (size_t i = 0; i < n; i++) {
		struct img_mem *m;
		uint64_t counts[IMG_PAGE__COUNT];

		if (!tasks[i]->mm || img_mem_open(ck, tasks[i], 0, &m, &e))
			continue;
		img_mem_count(m, 0, UINT64_MAX, counts, &e);
		img_mem_close(m);
	}
	f = tmpfile();
	if (f) {
		img_lcr_from_ckpt(ck, &fo, fileno(f), &e);
		fclose(f);
	}
	img_ckpt_close(ck);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_src *s;
	struct img_lcr_image *img;
	struct img_err e = { 0 };
	struct img_buf b, j;
	struct img_out o;
	const char *to[] = { "v18", "v23-rc2" };

	fuzz_begin(size);
	s = img_src_mem(data, size, "fuzz.img", 0);
	if (!s) {
		fuzz_end();
		return 0;
	}
	if (!img_lcr_read(s, NULL, NULL, &img, &e)) {
		fuzz_budget();
		if (!img_lcr_write(img, &b, &e)) {
			if (!fuzz_same(b.data, b.len, data, size))
				fuzz_fail("a stream of %zu bytes read back as %zu other bytes", size, b.len);
			img_buf_free(&b);
		}
		img_buf_init(&j);
		img_out_mem(&o, &j);
		img_lcr_to_json(img, &o, 0);
		img_lcr_ckptinfo(img, &o, IMG_LCR_CI_VERBOSE | IMG_LCR_CI_PIDS | IMG_LCR_CI_ERROR, &e);
		img_out_flush(&o);
		img_buf_free(&j);
		for (int k = 0; k < 2; k++) {
			struct img_lcr_conv_opts co = { to[k], NULL, IMG_LCR_CONV_LOSSY, NULL, NULL };

			if (!img_lcr_convert(img, &co, &b, &e))
				img_buf_free(&b);
		}
		bridge(img);
		img_lcr_free(img);
	}
	img_src_unref(s);
	fuzz_end();
	return 0;
}
