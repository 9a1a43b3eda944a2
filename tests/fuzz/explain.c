/*
 * Fuzz target: a CRIU log, as cr-inspect explain reads it: the outcome, the
 * chain of errors and the diagnosis, then the entries of the bundled sample
 * set the diagnosis points at, and the lines around each error.
 */
#include <string.h>

#include "fuzz.h"
#include "img/explain.h"
#include "img/source.h"

#ifndef CR_TOP
#define CR_TOP "."
#endif

static void line(void *arg, uint32_t no, const char *s, size_t len)
{
	size_t *sum = arg;

	*sum += no + len + (len ? (uint8_t)s[len - 1] : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct img_dir *sample;
	struct img_explain *x;
	struct img_err e = { 0 };
	struct img_logref *refs;
	struct img_arena a;
	size_t n, sum = 0;

	if (!sample && img_dir_open(CR_TOP "/testdata/sample/tiny", &sample, &e))
		sample = NULL;
	fuzz_begin(size);
	if (!img_log_explain((const char *)data, size, &x, &e)) {
		for (size_t i = 0; i < x->nchain; i++)
			img_log_lines((const char *)data, size, x->chain[i].line > 3 ? x->chain[i].line - 3 : 1,
				      x->chain[i].line + 3, line, &sum);
		img_explain_var(x, "path");
		img_explain_checks(x);
		fuzz_budget();
		if (sample) {
			img_arena_init(&a);
			img_explain_locate(x, sample, img_schema_default(), &refs, &n, &a, &e);
			img_arena_free(&a);
		}
		img_explain_free(x);
	}
	fuzz_end();
	return 0;
}
