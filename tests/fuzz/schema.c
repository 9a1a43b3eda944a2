/*
 * Fuzz target: a schema folder, as --schema-dir loads it.  The input holds
 * the files one after another, each starting with a line "=== NAME" (a
 * NAME.schema, images.tab or maps.tab); they are written to a scratch folder
 * and loaded.  A schema that loads then decodes the images of the bundled
 * sample set, and prints them as crit JSON.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "img/image.h"

#ifndef CR_TOP
#define CR_TOP "."
#endif

static void split(const char *dir, const char *p, size_t n)
{
	const char *end = p + n;

	while (p < end) {
		const char *nl, *next;
		char name[64];
		size_t k;

		if (end - p < 4 || memcmp(p, "=== ", 4) || !(nl = memchr(p, '\n', (size_t)(end - p))))
			return;
		k = (size_t)(nl - p - 4);
		if (k == 0 || k >= sizeof(name))
			return;
		memcpy(name, p + 4, k);
		name[k] = 0;
		p = nl + 1;
		next = p;
		while (next < end && !(next + 4 <= end && !memcmp(next, "=== ", 4) && (next == p || next[-1] == '\n')))
			next++;
		if (!strchr(name, '/') && name[0] != '.')
			fuzz_write(dir, name, p, (size_t)(next - p));
		p = next;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tmp = fuzz_tmpdir();
	struct img_schema *s;
	struct img_err e = { 0 };

	split(tmp, (const char *)data, size);
	fuzz_begin(size);
	if (!img_schema_load_dir(tmp, &s, &e)) {
		struct dirent *de;
		DIR *d;

		fuzz_budget();
		d = opendir(CR_TOP "/testdata/sample/tiny");
		while (d && (de = readdir(d))) {
			struct img_image *img;
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", CR_TOP "/testdata/sample/tiny", de->d_name);
			if (!img_image_open(path, s, 0, &img, &e)) {
				struct img_buf b;
				struct img_out o;

				img_buf_init(&b);
				img_out_mem(&o, &b);
				if (img->kind->json) {
					img_image_to_json(img, &o, IMG_JSON_PRETTY);
					img_out_flush(&o);
				}
				img_buf_free(&b);
				img_image_free(img);
			}
		}
		if (d)
			closedir(d);
		img_schema_free(s);
	}
	fuzz_rmtree(tmp);
	fuzz_end();
	return 0;
}
