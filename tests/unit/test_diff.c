/*
 * The comparison's API as a front end uses it: path patterns, a set against
 * itself, and records that are the same whatever the order in which the
 * categories and task pairs are asked for (what tasks share is reported
 * under the first of them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img/diff.h"
#include "unit.h"

#define SAMPLE "testdata/sample/tiny"
#define LEGACY "testdata/images/legacy"
#define V1 "testdata/images/v1"

static void test_patterns(void)
{
	static const char *const good[] = { "core", "core.tc.comm", "mm.vmas[3].prot", "core.*.timers", "fd[*]",
					    "memory[0x7f*]", "**.tv_usec", "ns.uts[11].utsns.nodename", "stats-*",
					    "file[/tmp/a b.txt]" };
	static const char *const bad[] = { "", ".core", "[1]", "core.", "core..tc", "core[]", "core[1", "core.[1]" };
	struct img_err e = { 0 };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CU_ASSERT_EQUAL(img_diff_pattern_check(good[i], &e), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_NOT_EQUAL(img_diff_pattern_check(bad[i], &e), 0);
		CU_ASSERT(e.msg[0] != 0);
	}
	/* a pattern names a path and everything below it */
	CU_ASSERT(img_diff_pattern_match("core", "core.tc.comm"));
	CU_ASSERT(img_diff_pattern_match("core.tc.comm", "core.tc.comm"));
	CU_ASSERT(!img_diff_pattern_match("core.tc.comm", "core.tc"));
	CU_ASSERT(!img_diff_pattern_match("core.tc", "core.tcx"));
	/* * is one name or one key, never both */
	CU_ASSERT(img_diff_pattern_match("core.*.timers", "core.tc.timers.real.vsec"));
	CU_ASSERT(!img_diff_pattern_match("core.*.timers", "core.timers"));
	CU_ASSERT(img_diff_pattern_match("mm.vmas[*].prot", "mm.vmas[12].prot"));
	CU_ASSERT(!img_diff_pattern_match("mm.*.prot", "mm.vmas[12].prot"));
	CU_ASSERT(!img_diff_pattern_match("mm.vmas.prot", "mm.vmas[12].prot"));
	CU_ASSERT(img_diff_pattern_match("fd[1?]", "fd[12].reg.pos"));
	CU_ASSERT(!img_diff_pattern_match("fd[1?]", "fd[1].reg.pos"));
	/* ** is any number of parts, none included */
	CU_ASSERT(img_diff_pattern_match("**.tv_usec", "fd[4].ghost[0].atim.tv_usec"));
	CU_ASSERT(img_diff_pattern_match("core.**.vsec", "core.tc.timers.posix[0].vsec"));
	CU_ASSERT(img_diff_pattern_match("core.tc.timers.**.vsec", "core.tc.timers.vsec"));
	CU_ASSERT(!img_diff_pattern_match("**.vsec", "core.tc.timers.real.vusec"));
	/* keys hold what names cannot */
	CU_ASSERT(img_diff_pattern_match("file[/tmp/*]", "file[/tmp/a.b].reg.size"));
	CU_ASSERT(img_diff_pattern_match("memory[0x7f*]", "memory[0x7f00-0x7f10]"));
	CU_ASSERT(img_diff_pattern_match("image[*.img]", "image[utsns-11.img]"));
	/* the volatile list is patterns, with reasons */
	for (const char *const *v = img_diff_volatile(); v[0]; v += 2) {
		CU_ASSERT_EQUAL(img_diff_pattern_check(v[0], &e), 0);
		CU_ASSERT(v[1] && v[1][0]);
	}
	CU_ASSERT_EQUAL(img_diff_cat_parse("sockets"), IMG_DIFF_SOCKETS);
	CU_ASSERT_EQUAL(img_diff_cat_parse("socket"), -1);
	CU_ASSERT_STRING_EQUAL(img_diff_cat_name(IMG_DIFF_MEMORY), "memory");
}

struct recs {
	char **v;
	size_t n;
};

static int collect(void *arg, const struct img_diff_change *c)
{
	struct recs *r = arg;
	char buf[4096];
	char **nv;

	snprintf(buf, sizeof(buf), "%s|%s|%s|%s|%s|%s", img_diff_cat_name(c->cat), c->task ? c->task : "-", c->path,
		 img_diff_op_name(c->op), c->before ? c->before : "-", c->after ? c->after : "-");
	nv = realloc(r->v, (r->n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	r->v = nv;
	r->v[r->n++] = strdup(buf);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void recs_free(struct recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static void test_same(void)
{
	struct img_err e = { 0 };
	struct recs r = { 0 };
	struct img_diff *d;
	const struct img_diff_pair *p;
	size_t n;
	int same = -1;

	if (access(SAMPLE, F_OK)) {
		unit_skip("diff: no " SAMPLE " (run from the top folder)");
		return;
	}
	CU_ASSERT_EQUAL(img_diff_identical(SAMPLE, SAMPLE, &same, &e), 0);
	CU_ASSERT_EQUAL(same, 1);
	CU_ASSERT_EQUAL_FATAL(img_diff_open(SAMPLE, SAMPLE, NULL, &d, &e), 0);
	p = img_diff_pairs(d, &n);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(p && p[0].a && p[0].b && !strcmp(p[0].label, "1"));
	CU_ASSERT_EQUAL(img_diff_all(d, collect, &r, &e), 0);
	CU_ASSERT_EQUAL(r.n, 0);
	CU_ASSERT_EQUAL(img_diff_stats(d)->changes, 0);
	CU_ASSERT_PTR_NOT_NULL(img_diff_mem(d, &p[0], 1, &e));
	img_diff_free(d);
	recs_free(&r);
}

static void test_any_order(void)
{
	struct img_err e = { 0 };
	struct recs all = { 0 }, lazy = { 0 };
	struct img_diff *d;
	const struct img_diff_pair *p;
	size_t n;
	int same = -1;

	if (access(LEGACY, F_OK) || access(V1, F_OK)) {
		unit_skip("diff: no testdata/images (run from the top folder)");
		return;
	}
	CU_ASSERT_EQUAL(img_diff_identical(LEGACY, V1, &same, &e), 0);
	CU_ASSERT_EQUAL(same, 0);
	CU_ASSERT_EQUAL_FATAL(img_diff_open(LEGACY, V1, NULL, &d, &e), 0);
	CU_ASSERT_EQUAL(img_diff_all(d, collect, &all, &e), 0);
	CU_ASSERT(all.n > 20);
	CU_ASSERT_EQUAL(img_diff_stats(d)->changes, all.n);
	img_diff_free(d);
	/* a front end asking for memory first, the last pair first, the image set last */
	CU_ASSERT_EQUAL_FATAL(img_diff_open(LEGACY, V1, NULL, &d, &e), 0);
	p = img_diff_pairs(d, &n);
	for (int cat = IMG_DIFF__NCAT - 1; cat >= 0; cat--) {
		for (size_t i = n; i-- > 0;)
			CU_ASSERT_EQUAL(img_diff_run(d, cat, &p[i], collect, &lazy, &e), 0);
		CU_ASSERT_EQUAL(img_diff_run(d, cat, NULL, collect, &lazy, &e), 0);
	}
	img_diff_free(d);
	CU_ASSERT_EQUAL_FATAL(all.n, lazy.n);
	qsort(all.v, all.n, sizeof(*all.v), cmp_str);
	qsort(lazy.v, lazy.n, sizeof(*lazy.v), cmp_str);
	for (size_t i = 0; i < all.n; i++)
		CU_ASSERT_STRING_EQUAL(all.v[i], lazy.v[i]);
	recs_free(&all);
	recs_free(&lazy);
}

static void test_only_and_ignore(void)
{
	const char *ign[] = { "core", "inventory" };
	struct img_diff_opts o = { .cats = 1u << IMG_DIFF_TASKS | 1u << IMG_DIFF_IMAGES, .ignore = ign, .nignore = 2 };
	struct img_err e = { 0 };
	struct recs r = { 0 };
	struct img_diff *d;

	if (access(LEGACY, F_OK) || access(V1, F_OK))
		return;
	CU_ASSERT_EQUAL_FATAL(img_diff_open(LEGACY, V1, &o, &d, &e), 0);
	CU_ASSERT_EQUAL(img_diff_all(d, collect, &r, &e), 0);
	CU_ASSERT(r.n > 0);
	for (size_t i = 0; i < r.n; i++) {
		CU_ASSERT(!strncmp(r.v[i], "tasks|", 6) || !strncmp(r.v[i], "images|", 7));
		CU_ASSERT(!strstr(r.v[i], "|core.") && !strstr(r.v[i], "|inventory."));
	}
	img_diff_free(d);
	recs_free(&r);
	/* a bad pattern is refused with a message */
	ign[0] = "core..tc";
	memset(&e, 0, sizeof(e));
	CU_ASSERT_NOT_EQUAL(img_diff_open(LEGACY, V1, &o, &d, &e), 0);
	CU_ASSERT(strstr(e.msg, "not a path") != NULL);
}

static CU_TestInfo tests[] = {
	{ "path patterns", test_patterns },
	{ "a set against itself", test_same },
	{ "the same records in any order of calls", test_any_order },
	{ "categories and paths left out", test_only_and_ignore },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("diff", NULL, NULL, tests);
