/*
 * Fuzz target: crit JSON, as cr-convert encode reads it.  The text is
 * parsed, built into an image and written.  Oracle: what encode writes
 * reads back as an image of the kind the JSON names.
 */
#include <string.h>

#include "fuzz.h"
#include "img/image.h"
#include "img/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct img_schema *s = img_schema_default();
	struct img_image *img = NULL, *back = NULL;
	struct img_err e = { 0 };
	struct img_arena a;
	struct img_jv *v;
	struct img_buf b;

	fuzz_begin(size);
	img_arena_init(&a);
	img_buf_init(&b);
	v = img_json_parse(&a, (const char *)data, size, &e);
	if (v && !img_image_from_json(v, s, &img, &e) && !img_image_write(img, &b, &e)) {
		struct img_src *src = img_src_mem(b.data, b.len, "encoded", 0);

		fuzz_budget();
		if (!src)
			fuzz_fail("out of memory");
		if (img_image_read(src, s, img->kind, 0, &back, &e))
			fuzz_fail("encode wrote a %s image that does not read: %s", img->kind->name, e.msg);
		img_image_free(back);
		img_src_unref(src);
	}
	fuzz_budget();
	img_image_free(img);
	img_buf_free(&b);
	img_arena_free(&a);
	fuzz_end();
	return 0;
}
