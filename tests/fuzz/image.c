/*
 * Fuzz target: a whole CRIU image file.  The first byte picks the file name
 * from the schema's kinds (so that detection by name and by magic both run;
 * past the last kind the name is one no kind has), the second how it is read
 * (bit 0: frames only, as info does; bit 1: through a window, as a member of
 * a compressed archive).  Oracles: a decoded image writes back to the same
 * bytes; its crit JSON encodes to an image whose JSON is the same again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "img/image.h"
#include "img/json.h"

/* A source that has no data pointer: the bytes come through pread, as from a tar.gz. */
static int win_pread(struct img_src *s, void *buf, size_t n, uint64_t off, struct img_err *err)
{
	(void)err;
	memcpy(buf, (const uint8_t *)s->priv + off, n);
	return 0;
}

static const struct img_src_ops win_ops = { win_pread, NULL };

static int to_json(const struct img_image *img, unsigned flags, struct img_buf *b)
{
	struct img_out o;
	int r;

	img_buf_init(b);
	img_out_mem(&o, b);
	r = img_image_to_json(img, &o, flags);
	if (!r)
		r = img_out_flush(&o);
	return r;
}

/* JSON -> image -> bytes -> image -> JSON gives the same JSON (unknown fields and odd varints included). */
static void json_trip(const struct img_image *img, const struct img_buf *j1)
{
	const struct img_schema *s = img->schema;
	struct img_image *img2 = NULL, *img3 = NULL;
	struct img_err e = { 0 };
	struct img_buf bytes, j2;
	struct img_src *src;
	struct img_arena a;
	struct img_jv *v;

	img_arena_init(&a);
	img_buf_init(&bytes);
	img_buf_init(&j2);
	v = img_json_parse(&a, (const char *)j1->data, j1->len, &e);
	if (!v)
		fuzz_fail("the JSON of a %s image does not parse: %s", img->kind->name, e.msg);
	if (img_image_from_json(v, s, &img2, &e)) {
		/* decoding shows what an entry holds; encoding insists on protobuf's required fields */
		if (!strstr(e.msg, "required field"))
			fuzz_fail("the JSON of a %s image does not encode: %s", img->kind->name, e.msg);
		goto out;
	}
	if (img_image_write(img2, &bytes, &e))
		fuzz_fail("a %s image from JSON does not write: %s", img->kind->name, e.msg);
	src = img_src_mem(bytes.data, bytes.len, img->src->name, 0);
	if (!src)
		fuzz_fail("out of memory");
	if (img_image_read(src, s, img->kind, 0, &img3, &e))
		fuzz_fail("a %s image encoded from JSON does not read: %s", img->kind->name, e.msg);
	if (to_json(img3, 0, &j2) || !fuzz_same(j1->data, j1->len, j2.data, j2.len))
		fuzz_fail("a %s image's JSON changes through encode and decode", img->kind->name);
	img_image_free(img3);
	img_src_unref(src);
out:
	img_image_free(img2);
	img_buf_free(&bytes);
	img_buf_free(&j2);
	img_arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct img_schema *s = img_schema_default();
	struct img_image *img = NULL;
	struct img_err e = { 0 };
	struct img_src *src;
	char name[64] = "image";
	unsigned how;
	int r;

	if (size < 2)
		return 0;
	if (data[0] < s->nkinds)
		img_kind_filename(&s->kinds[data[0]], data[0] % 3 ? 1 : 4242, "x", name, sizeof(name));
	how = data[1];
	data += 2;
	size -= 2;
	fuzz_begin(size);
	if (how & 2)
		src = img_src_window(size, name, &win_ops, (void *)data);
	else
		src = img_src_mem(data, size, name, 0);
	if (!src)
		fuzz_fail("out of memory");
	r = img_image_read(src, s, NULL, how & 1 ? IMG_READ_FRAMES : 0, &img, &e);
	fuzz_budget();
	if (!r && !(how & 1) && img->kind->layout != IMG_LAY_RAW) {
		struct img_buf b, j;

		img_buf_init(&b);
		if (img_image_write(img, &b, &e) || !fuzz_same(b.data, b.len, img->src->data, size))
			fuzz_fail("a %s image of %zu bytes writes back as %zu other bytes", img->kind->name, size, b.len);
		img_buf_free(&b);
		if (img->kind->json) {
			to_json(img, IMG_JSON_PRETTY, &j);
			img_buf_free(&j);
			to_json(img, IMG_JSON_PRETTY | IMG_JSON_NOPL, &j);
			img_buf_free(&j);
			if (to_json(img, 0, &j))
				fuzz_fail("a %s image has no JSON", img->kind->name);
			json_trip(img, &j);
			img_buf_free(&j);
		}
	}
	img_image_free(img);
	img_src_unref(src);
	fuzz_end();
	return 0;
}
