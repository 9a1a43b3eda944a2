/*
 * Fuzz target: a machine profile (the JSON host-profile writes, which check
 * --target reads).  Oracle: a profile that loads writes JSON that loads again.
 */
#include "fuzz.h"
#include "img/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_profile *p, *q;
	struct img_err e = { 0 };
	struct img_buf b;
	struct img_out o;
	struct img_jw w;

	fuzz_begin(size);
	if (!img_profile_parse((const char *)data, size, "profile.json", &p, &e)) {
		fuzz_budget();
		img_profile_feature(p, "rseq", NULL);
		img_profile_feature(p, "time_ns", NULL);
		img_buf_init(&b);
		img_out_mem(&o, &b);
		img_jw_init(&w, &o, 2);
		img_profile_write(p, &w);
		img_out_flush(&o);
		if (img_profile_parse((const char *)b.data, b.len, "written.json", &q, &e))
			fuzz_fail("a profile's own JSON does not load: %s", e.msg);
		img_profile_free(q);
		img_buf_free(&b);
		img_profile_free(p);
	}
	fuzz_end();
	return 0;
}
