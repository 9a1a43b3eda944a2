/* The table format, the feature and log-message tables, profiles, findings. */
#include <string.h>

#include "img/check.h"
#include "img/explain.h"
#include "img/profile.h"
#include "img/tab.h"
#include "unit.h"

static void test_kversion(void)
{
	uint32_t v;

	CU_ASSERT_EQUAL(img_kversion_parse("4.18", &v), 0);
	CU_ASSERT_EQUAL(v, 0x041200);
	CU_ASSERT_EQUAL(img_kversion_parse("6.18.44-fc-v669", &v), 0);
	CU_ASSERT_EQUAL(v, 0x06122c);
	CU_ASSERT_EQUAL(img_kversion_parse("5.10.0-28-amd64", &v), 0);
	CU_ASSERT(v > 0x050600 && v < 0x060000);
	CU_ASSERT_EQUAL(img_kversion_parse("4.14.336", &v), 0);
	CU_ASSERT_EQUAL(v, 0x040eff); /* parts above 255 are capped */
	CU_ASSERT_NOT_EQUAL(img_kversion_parse("6", &v), 0);
	CU_ASSERT_NOT_EQUAL(img_kversion_parse("linux-6.1", &v), 0);
	CU_ASSERT_NOT_EQUAL(img_kversion_parse("", &v), 0);
	CU_ASSERT_NOT_EQUAL(img_kversion_parse(NULL, &v), 0);
}

struct seen {
	int lines, indented;
	char first[64], rest[64];
	unsigned lineno;
};

static int count(void *arg, const struct img_tab_line *l, struct img_err *err)
{
	struct seen *s = arg;

	if (!strcmp(l->f[0], "stop"))
		return img_err_set(err, EINVAL, "asked to stop");
	s->lines++;
	s->indented += l->indented;
	if (l->nf >= 2 && !strcmp(l->f[0], "match")) {
		snprintf(s->first, sizeof(s->first), "%s", l->f[1]);
		snprintf(s->rest, sizeof(s->rest), "%s", l->rest[1]);
	}
	s->lineno = l->lineno;
	return 0;
}

static void test_tab_parse(void)
{
	static const char t[] = "# a comment\n\nmsg one\n\tmatch\t^File (.+) has  bad  size   \n  # indented comment\n"
				"msg two\r\nlast-without-newline";
	static const char bad[] = "a\nb\nstop here\nc\n";
	struct img_err err = { 0 };
	struct seen s = { 0 };

	CU_ASSERT_EQUAL(img_tab_parse(t, sizeof(t) - 1, "t.tab", count, &s, &err), 0);
	CU_ASSERT_EQUAL(s.lines, 4);
	CU_ASSERT_EQUAL(s.indented, 1);
	CU_ASSERT_STRING_EQUAL(s.first, "^File");
	CU_ASSERT_STRING_EQUAL(s.rest, "^File (.+) has  bad  size"); /* inner blanks kept, trailing cut */
	CU_ASSERT_EQUAL(s.lineno, 7);
	memset(&s, 0, sizeof(s));
	CU_ASSERT_NOT_EQUAL(img_tab_parse(bad, sizeof(bad) - 1, "bad.tab", count, &s, &err), 0);
	CU_ASSERT_STRING_EQUAL(err.msg, "bad.tab: line 3: asked to stop");
	CU_ASSERT_EQUAL(s.lines, 2);
}

static void test_feature_tables(void)
{
	const struct img_kfeature *k;
	const struct img_xfeature *x;
	struct img_err err = { 0 };
	size_t nk, nx;

	CU_ASSERT_EQUAL_FATAL(img_kfeatures(&k, &nk, &err), 0);
	CU_ASSERT(nk >= 10);
	CU_ASSERT_PTR_NOT_NULL_FATAL(img_kfeature_find("rseq"));
	CU_ASSERT_STRING_EQUAL(img_kfeature_find("rseq")->since_str, "4.18");
	CU_ASSERT_EQUAL(img_kfeature_find("rseq")->missing, IMG_SEV_ERROR);
	CU_ASSERT_STRING_EQUAL(img_kfeature_find("timens")->since_str, "5.6");
	CU_ASSERT_STRING_EQUAL(img_kfeature_find("pidfd")->since_str, "5.3");
	CU_ASSERT_STRING_EQUAL(img_kfeature_find("memfd")->since_str, "3.17");
	CU_ASSERT_EQUAL(img_kfeature_find("soft_dirty")->missing, IMG_SEV_WARNING);
	CU_ASSERT_PTR_NULL(img_kfeature_find("warp-drive"));
	for (size_t i = 0; i < nk; i++)
		CU_ASSERT(k[i].what && k[i].todo && k[i].probe && k[i].since);
	CU_ASSERT_EQUAL_FATAL(img_xfeatures(&x, &nx, &err), 0);
	CU_ASSERT(nx >= 10);
	CU_ASSERT_STRING_EQUAL(img_xfeature_by_bit(7)->name, "hi16_zmm");
	CU_ASSERT_STRING_EQUAL(img_xfeature_by_bit(7)->flag, "avx512f");
	CU_ASSERT_STRING_EQUAL(img_xfeature_by_bit(2)->field, "ymmh_space");
	CU_ASSERT_EQUAL(img_xfeature_by_name("pkru")->bit, 9);
	CU_ASSERT_FALSE(img_xfeature_by_bit(8)->user);
	CU_ASSERT_PTR_NULL(img_xfeature_by_bit(0)->field);
}

static void test_logmsgs(void)
{
	const struct img_logmsg *t;
	struct img_err err = { 0 };
	size_t n, causes = 0;

	CU_ASSERT_EQUAL_FATAL(img_logmsgs(&t, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		CU_ASSERT_PTR_NOT_NULL(t[i].match);
		causes += t[i].role == IMG_ROLE_CAUSE;
		for (size_t j = 0; j < i; j++)
			CU_ASSERT(strcmp(t[i].code, t[j].code));
	}
	CU_ASSERT(causes >= 20);
}

static void test_explain_lines(void)
{
	static const char log[] = "(00.000080) Version: 4.2 (gitid v4.2)\n"
				  "(00.021930) Reading image tree\n"
				  "(00.025585) pie: 12: Error (criu/pie/restorer.c:514): failed sys_rseq(7f00, 20, 0, 53053053) = -38\n"
				  "(00.025590) Error (criu/cr-restore.c:2324): Restoring FAILED.\n";
	struct img_explain *x = NULL;
	struct img_err err = { 0 };

	CU_ASSERT_EQUAL_FATAL(img_log_explain(log, sizeof(log) - 1, &x, &err), 0);
	CU_ASSERT_EQUAL(x->kind, IMG_LOG_RESTORE);
	CU_ASSERT_EQUAL(x->outcome, IMG_LOG_FAILED);
	CU_ASSERT_STRING_EQUAL(x->criu_version, "4.2");
	CU_ASSERT_EQUAL_FATAL(x->nchain, 1);
	CU_ASSERT_EQUAL(x->chain[0].pid, 12);
	CU_ASSERT_EQUAL(x->chain[0].line, 3);
	CU_ASSERT_STRING_EQUAL(x->chain[0].src, "criu/pie/restorer.c:514");
	CU_ASSERT_STRING_EQUAL(x->diag->code, "rseq-pie");
	CU_ASSERT_STRING_EQUAL(img_explain_var(x, "ret"), "-38");
	CU_ASSERT_STRING_EQUAL(img_explain_var(x, "pid"), "12");
	CU_ASSERT(img_explain_checks(x) & IMG_CHECK_KERNEL);
	img_explain_free(x);
}

static void test_profile(void)
{
	static const char good[] = "{\"profile_version\": 1, \"arch\": \"x86_64\", \"page_size\": 4096,"
				   " \"kernel\": {\"release\": \"5.4.0\", \"features\": {\"pidfd\": false, \"rseq\": null}},"
				   " \"cpu\": {\"flags\": [\"sse\", \"avx\"], \"xsave\": {\"components\": [\"x87\", \"sse\", \"ymm\"]}},"
				   " \"cgroup\": {\"layout\": \"hybrid\"}}";
	struct img_profile *p = NULL;
	struct img_err err = { 0 };
	uint64_t mask = 0;
	int how;

	CU_ASSERT_EQUAL_FATAL(img_profile_parse(good, sizeof(good) - 1, "good.json", &p, &err), 0);
	CU_ASSERT_STRING_EQUAL(img_profile_arch(p), "x86_64");
	CU_ASSERT_EQUAL(img_profile_feature(p, "rseq", &how), 1); /* 5.4 >= 4.18: by the release */
	CU_ASSERT_EQUAL(how, IMG_HOW_VERSION);
	CU_ASSERT_EQUAL(img_profile_feature(p, "pidfd", &how), 0); /* stated, though 5.4 >= 5.3 */
	CU_ASSERT_EQUAL(how, IMG_HOW_PROFILE);
	CU_ASSERT_EQUAL(img_profile_feature(p, "timens", NULL), 0);
	CU_ASSERT_EQUAL(img_profile_feature(p, "no-such-feature", &how), -1);
	CU_ASSERT_EQUAL(img_profile_cpu_flag(p, "avx"), 1);
	CU_ASSERT_EQUAL(img_profile_cpu_flag(p, "avx512f"), 0);
	CU_ASSERT_EQUAL(img_profile_xsave(p, &mask, NULL, NULL), 0);
	CU_ASSERT_EQUAL(mask, 7);
	CU_ASSERT_STRING_EQUAL(img_profile_cgroup(p), "hybrid");
	CU_ASSERT_FALSE(img_profile_is_host(p));
	img_profile_free(p);

	static const char *const bad[] = {
		"[]", "{\"profile_version\": 2}", "{\"arch\": 5}", "{\"kernel\": {\"features\": {\"rseq\": 1}}}",
		"{\"cgroup\": {\"layout\": \"v3\"}}", "{\"cpu\": {\"xsave\": {}}}", "{\"cpu\": {\"flags\": [1]}}", "{",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = NULL;
		CU_ASSERT_NOT_EQUAL(img_profile_parse(bad[i], strlen(bad[i]), "bad.json", &p, &err), 0);
		CU_ASSERT_PTR_NULL(p);
		CU_ASSERT_STRING_EQUAL(err.subject, "bad.json");
	}
}

static void test_host_probe(void)
{
	struct img_profile *p = NULL;
	struct img_err err = { 0 };

	CU_ASSERT_EQUAL_FATAL(img_profile_probe(0, &p, &err), 0);
	CU_ASSERT(img_profile_is_host(p));
	CU_ASSERT_PTR_NOT_NULL(img_profile_arch(p));
	CU_ASSERT_PTR_NOT_NULL(img_profile_release(p));
	CU_ASSERT(img_profile_page_size(p) >= 4096);
	CU_ASSERT_EQUAL(img_profile_feature(p, "userns", NULL), 1); /* the tests' own machines have /proc/self/ns/user */
	img_profile_free(p);
}

static void test_findings(void)
{
	struct img_findings f;
	struct img_finding *fi;
	struct img_buf b;
	struct img_out o;
	struct img_jw w;

	img_findings_init(&f);
	CU_ASSERT_EQUAL(img_findings_worst(&f), -1);
	fi = img_finding_add(&f, IMG_SEV_WARNING, "images", "image-unused");
	fi->image = "core-9.img";
	fi->msg = img_finding_fmt(&f, "no thread %d", 9);
	fi = img_finding_add(&f, IMG_SEV_ERROR, "files", "file-size");
	fi->image = "files.img";
	fi->entry = 2;
	fi->offset = 0x91;
	fi->field = "reg.size";
	fi->expected = "0 bytes";
	fi->found = "56 bytes";
	fi->msg = "'/x' has 56 bytes";
	fi->todo = "put it back";
	CU_ASSERT_EQUAL(img_findings_worst(&f), IMG_SEV_ERROR);
	CU_ASSERT_EQUAL(f.count[IMG_SEV_ERROR], 1);
	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_findings_print_text(&f, &o, 0);
	img_out_putc(&o, 0);
	img_out_flush(&o);
	CU_ASSERT_STRING_EQUAL((const char *)b.data,
			       "warning: core-9.img: no thread 9 [image-unused]\n"
			       "error: files.img entry 2 at offset 0x91: '/x' has 56 bytes [file-size]\n"
			       "  reg.size: expected 0 bytes, found 56 bytes\n"
			       "  to do: put it back\n");
	b.len = 0;
	img_out_mem(&o, &b);
	img_jw_init(&w, &o, 0);
	img_finding_json(&f.v[1], &w);
	img_out_putc(&o, 0);
	img_out_flush(&o);
	CU_ASSERT_STRING_EQUAL((const char *)b.data,
			       "{\"severity\": \"error\", \"code\": \"file-size\", \"area\": \"files\", \"image\": \"files.img\", "
			       "\"entry\": 2, \"offset\": 145, \"field\": \"reg.size\", \"subject\": null, \"expected\": \"0 bytes\", "
			       "\"found\": \"56 bytes\", \"message\": \"'/x' has 56 bytes\", \"todo\": \"put it back\", "
			       "\"ref_image\": null, \"ref_entry\": null}");
	img_buf_free(&b);
	img_findings_free(&f);
	unsigned what = 0;

	CU_ASSERT_EQUAL(img_check_parse_areas("images,cpu", &what), 0);
	CU_ASSERT_EQUAL(what, IMG_CHECK_IMAGES | IMG_CHECK_CPU);
	CU_ASSERT_NOT_EQUAL(img_check_parse_areas("images,warp", &what), 0);
	CU_ASSERT_NOT_EQUAL(img_check_parse_areas("", &what), 0);
}

/* What the corpus sets need, read through the library (tests/cli/check-target.sh reads it from crit JSON). */
static void test_needs(void)
{
	const char *corpus = unit_corpus();
	struct img_needs n;
	struct img_err err = { 0 };
	struct img_dir *d;
	char path[4096];
	int rseq = 0, memfd = 0;

	if (!corpus) {
		unit_skip("check: needs of the corpus sets");
		return;
	}
	snprintf(path, sizeof(path), "%s/criu-4.2/multi", corpus);
	CU_ASSERT_EQUAL_FATAL(img_dir_open(path, &d, &err), 0);
	CU_ASSERT_EQUAL(img_check_needs(d, NULL, &n, &err), 0);
	CU_ASSERT_STRING_EQUAL(n.arch, "x86_64");
	CU_ASSERT_EQUAL(n.xsave_used, 0xa2);  /* sse, opmask, hi16_zmm */
	CU_ASSERT_EQUAL(n.xsave_present & 0xe7, 0xe7);
	for (int i = 0; i < n.nkfeatures; i++) {
		rseq |= !strcmp(n.kfeatures[i], "rseq");
		memfd |= !strcmp(n.kfeatures[i], "memfd");
	}
	CU_ASSERT(rseq && memfd);
	img_dir_close(d);
	snprintf(path, sizeof(path), "%s/criu-4.2/tiny", corpus);
	CU_ASSERT_EQUAL_FATAL(img_dir_open(path, &d, &err), 0);
	CU_ASSERT_EQUAL(img_check_needs(d, NULL, &n, &err), 0);
	CU_ASSERT_EQUAL(n.xsave_used, 0);
	CU_ASSERT_EQUAL(n.nkfeatures, 0); /* static, no libc: no rseq, one thread in its own pid namespace */
	img_dir_close(d);
}

static CU_TestInfo tests[] = {
	{ "kernel versions", test_kversion },
	{ "table lines", test_tab_parse },
	{ "kernel and xsave tables", test_feature_tables },
	{ "log message table", test_logmsgs },
	{ "log lines", test_explain_lines },
	{ "profile files", test_profile },
	{ "probing this machine", test_host_probe },
	{ "findings and their printer", test_findings },
	{ "what the corpus sets need", test_needs },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE("check", NULL, NULL, tests);
