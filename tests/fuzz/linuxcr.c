/*
 * libFuzzer target: bytes taken as a linux-cr stream, read into the view,
 * written back, printed as JSON and as ckptinfo does, and converted to the
 * oldest and the newest version.  Build it with clang
 * -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ilibimg/include from this
 * file, the C files of libimg/linuxcr, build/gen/linuxcr_tables.c and libimg/base.c, io.c,
 * json.c; seed it with the streams of testdata/images/linuxcr.
 */
#include <stdio.h>
#include <string.h>

#include "img/linuxcr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_src *s = img_src_mem(data, size, "fuzz.img", 0);
	struct img_lcr_image *img;
	struct img_err e = { 0 };
	struct img_buf b, j;
	struct img_out o;
	const char *to[] = { "v18", "v23-rc2" };

	if (!s)
		return 0;
	if (!img_lcr_read(s, NULL, NULL, &img, &e)) {
		if (!img_lcr_write(img, &b, &e)) {
			if (b.len != size || memcmp(b.data, data, size))
				__builtin_trap(); /* a read stream writes back as it was */
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
		img_lcr_free(img);
	}
	img_src_unref(s);
	return 0;
}
