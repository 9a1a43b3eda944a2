/*
 * The transform engine: tables read with their errors located, the actions
 * (split and merge of huge pagemap entries, moves between images), the
 * policies, the memory-patch hook, and the safety of writing a set.
 * Works on the bundled sample set (testdata/sample/tiny) and on sets it makes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/check.h"
#include "img/mem.h"
#include "img/model.h"
#include "img/xform.h"
#include "unit.h"

#define SAMPLE "testdata/sample/tiny"

static char tmp[256];

static int suite_init(void)
{
	snprintf(tmp, sizeof(tmp), "%s/crt-xform.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(tmp) ? 0 : -1;
}

static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[512];

	if (!d) {
		unlink(path);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		struct stat st;

		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(path);
}

static int suite_clean(void)
{
	rm_tree(tmp);
	return 0;
}

static const struct img_schema *S(void)
{
	return img_schema_default();
}

static int parse(const char *text, struct img_xf_table **t, struct img_err *e)
{
	memset(e, 0, sizeof(*e));
	return img_xf_table_parse(text, strlen(text), "t.json", S(), t, e);
}

static void test_parse_errors(void)
{
	struct img_xf_table *t;
	struct img_err e;

	CU_ASSERT_NOT_EQUAL(parse("{\"rules\": [{\"name\": \"a\", \"lossless\": true, \"reversible\": true,\n"
				  " \"image\": \"CORE\", \"do\": [{\"drop\": \"tc.nosuch\"}]}]}", &t, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "line 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "has no field 'nosuch'"));
	CU_ASSERT_STRING_EQUAL(e.subject, "t.json");
	CU_ASSERT_NOT_EQUAL(parse("{\"rules\": [{\"name\": \"a\", \"lossless\": true, \"reversible\": true,"
				  " \"image\": \"NOKIND\", \"do\": []}]}", &t, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no image kind 'NOKIND'"));
	/* a misspelt key is an error, not a rule that does nothing */
	CU_ASSERT_NOT_EQUAL(parse("{\"rules\": [{\"name\": \"a\", \"lossless\": true, \"reversible\": true,"
				  " \"image\": \"CORE\", \"wen\": []}]}", &t, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no key 'wen'"));
	CU_ASSERT_NOT_EQUAL(parse("{\"rules\": [{\"name\": \"a\", \"image\": \"CORE\", \"do\": []}]}", &t, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "lossless"));
	/* values are checked against the field: an enum name that does not exist */
	CU_ASSERT_NOT_EQUAL(parse("{\"rules\": [{\"name\": \"a\", \"lossless\": true, \"reversible\": true,"
				  " \"image\": \"FILES\", \"when\": [{\"field\": \"type\", \"eq\": \"REGG\"}], \"do\": [{\"drop-entry\": true}]}]}",
				  &t, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "REGG"));
	/* a version step needs both ways and an older "before" */
	CU_ASSERT_NOT_EQUAL(parse("{\"version\": \"4.2\", \"before\": \"4.3\", \"down\": [], \"up\": []}", &t, &e), 0);
	CU_ASSERT_EQUAL(parse("{\"version\": \"9.1\", \"before\": \"9.0\", \"down\": [], \"up\": []}", &t, &e), 0);
	CU_ASSERT_STRING_EQUAL(img_xf_table_version(t), "9.1");
	img_xf_table_free(t);
	/* every built-in table reads */
	for (const char *const *n = img_xf_builtin_names(); *n; n++) {
		CU_ASSERT_EQUAL(img_xf_table_builtin(*n, S(), &t, &e), 0);
		if (t)
			img_xf_table_free(t);
	}
}

static void test_versions(void)
{
	struct img_xf_versions *v;
	struct img_xf_step st[16];
	struct img_err e = { 0 };
	size_t n;

	CU_ASSERT(img_xf_version_cmp("4.10", "4.2") > 0);
	CU_ASSERT(img_xf_version_cmp("3.3", "3.3.0") == 0);
	CU_ASSERT(img_xf_version_ok("1.6.1"));
	CU_ASSERT(!img_xf_version_ok("4."));
	CU_ASSERT(!img_xf_version_ok("x4"));
	CU_ASSERT_EQUAL_FATAL(img_xf_versions_builtin(S(), &v, &e), 0);
	CU_ASSERT_STRING_EQUAL(img_xf_versions_newest(v), "4.2");
	CU_ASSERT_EQUAL(img_xf_plan(v, "4.2", "3.3", st, 16, &n, &e), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(img_xf_table_version(st[0].table), "4.2");
	CU_ASSERT_STRING_EQUAL(img_xf_table_version(st[2].table), "3.4");
	CU_ASSERT_EQUAL(st[0].way, IMG_XF_DOWN);
	CU_ASSERT_EQUAL(img_xf_plan(v, "3.3", "4.2", st, 16, &n, &e), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(img_xf_table_version(st[0].table), "3.4");
	CU_ASSERT_EQUAL(st[0].way, IMG_XF_UP);
	CU_ASSERT_EQUAL(img_xf_plan(v, "4.2", "4.2", st, 16, &n, &e), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_NOT_EQUAL(img_xf_plan(v, "4.2", "5.0", st, 16, &n, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "5.0"));
	img_xf_versions_free(v);
}

static int open_set(const char *path, struct img_dir **d, struct img_set **set)
{
	struct img_err e = { 0 };

	if (img_dir_open(path, d, &e))
		return -1;
	if (img_set_open(*d, S(), set, &e)) {
		img_dir_close(*d);
		return -1;
	}
	return 0;
}

static void close_set(struct img_dir *d, struct img_set *set)
{
	img_set_free(set);
	img_dir_close(d);
}

static void test_detect(void)
{
	struct img_xf_versions *v;
	struct img_xf_detect det;
	struct img_err e = { 0 };
	struct img_dir *d;
	struct img_set *set;

	CU_ASSERT_EQUAL_FATAL(img_xf_versions_builtin(S(), &v, &e), 0);
	CU_ASSERT_EQUAL_FATAL(open_set(SAMPLE, &d, &set), 0);
	CU_ASSERT_EQUAL(img_xf_detect(v, set, &det, &e), 0);
	CU_ASSERT_STRING_EQUAL(det.lo, "4.2");
	CU_ASSERT_STRING_EQUAL(det.hi, "4.2");
	CU_ASSERT(!det.mixed);
	CU_ASSERT_PTR_NOT_NULL(strstr(det.lo_why, "pagemap-1.img"));
	close_set(d, set);
	img_xf_versions_free(v);
}

static int files_same(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb, ca, cb;

	while (same) {
		ca = fgetc(fa);
		cb = fgetc(fb);
		if (ca != cb)
			same = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

/* Every file of a is in b with the same bytes, and b has no more. */
static int dirs_same(const char *a, const char *b)
{
	DIR *d = opendir(a);
	struct dirent *de;
	char pa[512], pb[512];
	int same = d != NULL, na = 0, nb = 0;

	while (same && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(pa, sizeof(pa), "%s/%s", a, de->d_name);
		snprintf(pb, sizeof(pb), "%s/%s", b, de->d_name);
		same = files_same(pa, pb);
		na++;
	}
	if (d)
		closedir(d);
	d = opendir(b);
	while (d && (de = readdir(d)))
		nb += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return same && na == nb;
}

static int run_table(const char *in, const char *out, const char *name, int way, struct img_xf_report *rep,
		     struct img_err *e)
{
	struct img_xf_table *t;
	struct img_dir *d;
	struct img_set *set;
	int r;

	if (img_xf_table_builtin(name, S(), &t, e))
		return -1;
	if (open_set(in, &d, &set)) {
		img_xf_table_free(t);
		return -1;
	}
	r = img_xf_apply(set, t, way, NULL, rep, e);
	if (!r)
		r = img_set_write(set, out, NULL, e);
	close_set(d, set);
	img_xf_table_free(t);
	return r;
}

/* A pagemap whose second entry holds more pages than 32 bits count. */
static void make_huge_pagemap(const char *dir)
{
	const struct img_kind *k = img_kind_by_name(S(), "PAGEMAP");
	struct img_image *img = img_image_new(S(), k);
	const struct img_msgdesc *head = img_schema_msg(S(), "pagemap_head"), *ent = k->msg;
	struct img_msg *m;
	struct img_err e;
	char path[512];
	uint64_t addr[3] = { 0x400000, 0x10000000, 0x7f0000000000 }, cnt[3] = { 3, (1ull << 33) + 5, 2 };

	mkdir(dir, 0755);
	m = img_msg_new(&img->arena, head);
	img_msg_set_u64(&img->arena, m, "pages_id", 1);
	img_image_add(img, head, m);
	for (int i = 0; i < 3; i++) {
		m = img_msg_new(&img->arena, ent);
		img_msg_set_u64(&img->arena, m, "vaddr", addr[i]);
		img_msg_set_u64(&img->arena, m, "compat_nr_pages", 0);
		img_msg_set_u64(&img->arena, m, "flags", 4);
		img_msg_set_u64(&img->arena, m, "nr_pages", cnt[i]);
		img_image_add(img, ent, m);
	}
	snprintf(path, sizeof(path), "%s/pagemap-1.img", dir);
	CU_ASSERT_EQUAL(img_image_write_file(img, path, &e), 0);
	img_image_free(img);
}

static void test_split_merge(void)
{
	char in[300], down[300], up[300], path[400];
	struct img_xf_report rep;
	struct img_err e = { 0 };
	struct img_image *img;

	snprintf(in, sizeof(in), "%s/huge", tmp);
	snprintf(down, sizeof(down), "%s/huge-41", tmp);
	snprintf(up, sizeof(up), "%s/huge-42", tmp);
	make_huge_pagemap(in);
	img_xf_report_init(&rep);
	CU_ASSERT_EQUAL_FATAL(run_table(in, down, "criu-4.2", IMG_XF_DOWN, &rep, &e), 0);
	img_xf_report_free(&rep);
	snprintf(path, sizeof(path), "%s/pagemap-1.img", down);
	CU_ASSERT_EQUAL_FATAL(img_image_open(path, S(), 0, &img, &e), 0);
	/* 2^33 + 5 pages: 0xffffffff, 0xffffffff, 7, each starting where the last one ends */
	CU_ASSERT_EQUAL_FATAL(img->n, 6);
	CU_ASSERT_EQUAL(img_msg_u64(img->e[2].msg, "compat_nr_pages", 0), 0xffffffffull);
	CU_ASSERT_EQUAL(img_msg_u64(img->e[3].msg, "compat_nr_pages", 0), 0xffffffffull);
	CU_ASSERT_EQUAL(img_msg_u64(img->e[4].msg, "compat_nr_pages", 0), 7);
	CU_ASSERT_EQUAL(img_msg_u64(img->e[3].msg, "vaddr", 0), 0x10000000ull + 0xffffffffull * 4096);
	CU_ASSERT_EQUAL(img_msg_u64(img->e[4].msg, "vaddr", 0), 0x10000000ull + 2 * 0xffffffffull * 4096);
	CU_ASSERT_EQUAL(img_msg_u64(img->e[5].msg, "compat_nr_pages", 0), 2);
	for (size_t i = 1; i < img->n; i++)
		CU_ASSERT(!img_msg_has(img->e[i].msg, "nr_pages"));
	img_image_free(img);
	img_xf_report_init(&rep);
	CU_ASSERT_EQUAL_FATAL(run_table(down, up, "criu-4.2", IMG_XF_UP, &rep, &e), 0);
	img_xf_report_free(&rep);
	CU_ASSERT(dirs_same(in, up));
}

static void test_no_change(void)
{
	char out[300];
	struct img_xf_report rep;
	struct img_err e = { 0 };
	size_t applied = 0;

	snprintf(out, sizeof(out), "%s/same", tmp);
	img_xf_report_init(&rep);
	/* the sample is CRIU 4.2's: the way up changes nothing, and nothing may differ */
	CU_ASSERT_EQUAL_FATAL(run_table(SAMPLE, out, "criu-4.2", IMG_XF_UP, &rep, &e), 0);
	for (size_t i = 0; i < rep.nrules; i++)
		applied += rep.rules[i].applied;
	CU_ASSERT_EQUAL(applied, 0);
	CU_ASSERT_EQUAL(rep.n, 0);
	img_xf_report_free(&rep);
	CU_ASSERT(dirs_same(SAMPLE, out));
}

static const char bail_table[] =
	"{\"rules\": [{\"name\": \"no-pstree\", \"lossless\": false, \"reversible\": false, \"image\": \"PSTREE\","
	" \"when\": [{\"field\": \"pid\", \"eq\": 1}], \"bail\": \"task 1 is not wanted\"%s}]}";

static int run_policy(const char *extra, int policy, struct img_xf_report *rep, struct img_err *e, uint64_t *pgid)
{
	char text[1024];
	struct img_xf_table *t;
	struct img_xf_opts o = { .policy = policy };
	struct img_dir *d;
	struct img_set *set;
	struct img_image *img;
	int r;

	snprintf(text, sizeof(text), bail_table, extra);
	if (parse(text, &t, e) || open_set(SAMPLE, &d, &set))
		return -100;
	r = img_xf_apply(set, t, IMG_XF_RULES, &o, rep, e);
	if (!r && !img_set_image(set, "pstree.img", &img, e))
		*pgid = img_msg_u64(img->e[0].msg, "pgid", 0);
	close_set(d, set);
	img_xf_table_free(t);
	return r;
}

static void test_policies(void)
{
	struct img_xf_report rep;
	struct img_err e = { 0 };
	uint64_t pgid = 0;
	const char *emu = ", \"emulate\": [{\"set\": \"pgid\", \"value\": 77}]";
	const char *hope = ", \"hope\": [{\"set\": \"pgid\", \"value\": 88}]";

	img_xf_report_init(&rep);
	CU_ASSERT_NOT_EQUAL(run_policy("", IMG_XF_BAIL, &rep, &e, &pgid), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "task 1 is not wanted"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "entry 0"));
	CU_ASSERT_STRING_EQUAL(e.subject, "pstree.img");
	/* emulate without an emulation refuses too */
	CU_ASSERT_NOT_EQUAL(run_policy("", IMG_XF_EMULATE, &rep, &e, &pgid), 0);
	CU_ASSERT_EQUAL(run_policy(emu, IMG_XF_EMULATE, &rep, &e, &pgid), 0);
	CU_ASSERT_EQUAL(pgid, 77);
	CU_ASSERT_NOT_EQUAL(run_policy(emu, IMG_XF_BAIL, &rep, &e, &pgid), 0);
	img_xf_report_free(&rep);
	/* hope: the fallback, with a warning; without one the entry stays as it is */
	img_xf_report_init(&rep);
	CU_ASSERT_EQUAL(run_policy(hope, IMG_XF_HOPE, &rep, &e, &pgid), 0);
	CU_ASSERT_EQUAL(pgid, 88);
	CU_ASSERT_EQUAL(rep.nwarn, 1);
	img_xf_report_free(&rep);
	img_xf_report_init(&rep);
	CU_ASSERT_EQUAL(run_policy("", IMG_XF_HOPE, &rep, &e, &pgid), 0);
	CU_ASSERT_EQUAL(pgid, 1);
	CU_ASSERT_EQUAL(rep.nwarn, 1);
	CU_ASSERT_EQUAL_FATAL(rep.n, 1);
	CU_ASSERT_EQUAL(rep.c[0].op, IMG_XF_OP_KEEP);
	img_xf_report_free(&rep);
}

/* The memory API's answer, in this test: every address of task 1 is at offset 0x10 of pages-1.img. */
static int stub_locate(void *arg, struct img_set *set, uint32_t pid, uint64_t addr, uint64_t len, char *member,
		       size_t mlen, uint64_t *off, struct img_err *err)
{
	(void)set;
	(void)len;
	*(uint64_t *)arg = addr;
	if (pid != 1)
		return img_err_set(err, ENOENT, "no task %u", pid);
	snprintf(member, mlen, "pages-1.img");
	*off = 0x10;
	return 0;
}

static void test_patch_memory(void)
{
	static const char text[] =
		"{\"rules\": [{\"name\": \"mark\", \"lossless\": false, \"reversible\": false, \"image\": \"CORE\","
		" \"do\": [{\"patch-memory\": \"thread_info.gpregs.sp\", \"offset\": 8, \"u32\": 4294967294}]}]}";
	uint64_t seen = 0;
	struct img_xf_mem_ops mem = { stub_locate, &seen };
	struct img_xf_opts o = { .mem = &mem };
	struct img_xf_table *t;
	struct img_xf_report rep;
	struct img_err e = { 0 };
	struct img_dir *d;
	struct img_set *set;
	struct img_image *core;
	char out[300], a[400], b[400];
	uint8_t x[64], y[64];

	snprintf(out, sizeof(out), "%s/patched", tmp);
	CU_ASSERT_EQUAL_FATAL(parse(text, &t, &e), 0);
	CU_ASSERT_EQUAL_FATAL(open_set(SAMPLE, &d, &set), 0);
	img_xf_report_init(&rep);
	/* without the memory API the rule cannot work, and says so */
	CU_ASSERT_NOT_EQUAL(img_xf_apply(set, t, IMG_XF_RULES, NULL, &rep, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "memory API"));
	CU_ASSERT_EQUAL(img_xf_apply(set, t, IMG_XF_RULES, &o, &rep, &e), 0);
	CU_ASSERT_EQUAL(img_set_image(set, "core-1.img", &core, &e), 0);
	CU_ASSERT_EQUAL(seen, img_msg_u64(img_msg_sub(img_msg_sub(img_image_msg(core), "thread_info"), "gpregs"), "sp", 0) + 8);
	CU_ASSERT_EQUAL_FATAL(rep.n, 1);
	CU_ASSERT_EQUAL(rep.c[0].op, IMG_XF_OP_PATCH);
	CU_ASSERT_STRING_EQUAL(rep.c[0].after, "\"feffffff\"");
	CU_ASSERT_EQUAL(img_set_write(set, out, NULL, &e), 0);
	img_xf_report_free(&rep);
	close_set(d, set);
	img_xf_table_free(t);
	snprintf(a, sizeof(a), "%s/pages-1.img", SAMPLE);
	snprintf(b, sizeof(b), "%s/pages-1.img", out);
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");

	CU_ASSERT_FATAL(fa && fb);
	CU_ASSERT_EQUAL(fread(x, 1, sizeof(x), fa), sizeof(x));
	CU_ASSERT_EQUAL(fread(y, 1, sizeof(y), fb), sizeof(y));
	fclose(fa);
	fclose(fb);
	CU_ASSERT_EQUAL(memcmp(x, y, 0x10), 0);
	CU_ASSERT_EQUAL(img_get_u32(y + 0x10), 0xfffffffeu);
	CU_ASSERT_EQUAL(memcmp(x + 0x14, y + 0x14, sizeof(x) - 0x14), 0);
}

static int refuse(void *arg, const char *dir, struct img_err *err)
{
	struct stat st;
	char p[512];

	/* the folder handed over is complete */
	snprintf(p, sizeof(p), "%s/pstree.img", dir);
	*(int *)arg = stat(p, &st) == 0;
	return img_err_set(err, EINVAL, "check found a problem");
}

static int count_prefixed(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	return n;
}

static void test_write_safety(void)
{
	struct img_dir *d;
	struct img_set *set;
	struct img_err e = { 0 };
	char out[300], stale[300];
	int complete = 0, fd;
	volatile sig_atomic_t stop = 1;
	struct img_set_write_opts vo = { refuse, &complete, NULL }, co = { NULL, NULL, &stop };

	snprintf(out, sizeof(out), "%s/safe", tmp);
	CU_ASSERT_EQUAL_FATAL(open_set(SAMPLE, &d, &set), 0);
	/* the validation hook refuses: no output, no temporary folder */
	CU_ASSERT_NOT_EQUAL(img_set_write(set, out, &vo, &e), 0);
	CU_ASSERT(complete);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "check found a problem"));
	CU_ASSERT(access(out, F_OK) != 0);
	CU_ASSERT_EQUAL(count_prefixed(tmp, ".safe.tmp-"), 0);
	/* stopped by a signal: the same */
	CU_ASSERT_NOT_EQUAL(img_set_write(set, out, &co, &e), 0);
	CU_ASSERT_EQUAL(e.code, EINTR);
	CU_ASSERT(access(out, F_OK) != 0);
	CU_ASSERT_EQUAL(count_prefixed(tmp, ".safe.tmp-"), 0);
	/* a killed run's folder (no lock held) is removed; a live run's (locked) is left */
	snprintf(stale, sizeof(stale), "%s/.safe.tmp-AAAAAA", tmp);
	CU_ASSERT_EQUAL(mkdir(stale, 0700), 0);
	snprintf(out, sizeof(out), "%s/.safe.tmp-AAAAAA/core-1.img", tmp);
	close(open(out, O_CREAT | O_WRONLY, 0600));
	snprintf(stale, sizeof(stale), "%s/.safe.tmp-BBBBBB", tmp);
	CU_ASSERT_EQUAL(mkdir(stale, 0700), 0);
	fd = open(stale, O_RDONLY | O_DIRECTORY);
	CU_ASSERT(fd >= 0 && flock(fd, LOCK_EX) == 0);
	snprintf(out, sizeof(out), "%s/safe", tmp);
	CU_ASSERT_EQUAL(img_set_write(set, out, NULL, &e), 0);
	CU_ASSERT_EQUAL(count_prefixed(tmp, ".safe.tmp-"), 1);
	CU_ASSERT(access(stale, F_OK) == 0);
	close(fd);
	rmdir(stale);
	CU_ASSERT(dirs_same(SAMPLE, out));
	/* the output exists now: a second write refuses, and leaves it alone */
	CU_ASSERT_NOT_EQUAL(img_set_write(set, out, NULL, &e), 0);
	CU_ASSERT_EQUAL(e.code, EEXIST);
	CU_ASSERT(dirs_same(SAMPLE, out));
	close_set(d, set);
}

static void test_ipmap(void)
{
	struct img_xf_ipmap m;
	struct img_err e = { 0 };

	CU_ASSERT_EQUAL(img_xf_ipmap_parse("127.0.0.1=10.0.0.7", &m, &e), 0);
	CU_ASSERT_EQUAL(m.plen, 32);
	CU_ASSERT_EQUAL(m.old[0], 127);
	CU_ASSERT_EQUAL(m.new_[3], 7);
	CU_ASSERT_EQUAL(img_xf_ipmap_parse("fd00::/8=fc00::/8", &m, &e), 0);
	CU_ASSERT_EQUAL(m.plen, 8);
	CU_ASSERT_NOT_EQUAL(img_xf_ipmap_parse("10.0.0.0/8=10.1.0.0/16", &m, &e), 0);
	CU_ASSERT_NOT_EQUAL(img_xf_ipmap_parse("10.0.0.1=::1", &m, &e), 0);
	CU_ASSERT_NOT_EQUAL(img_xf_ipmap_parse("10.0.0.1", &m, &e), 0);
	CU_ASSERT_NOT_EQUAL(img_xf_ipmap_parse("10.0.0.1/33=10.0.0.2/33", &m, &e), 0);
}

/* Rules for host mismatches: the names are checked, and a rule runs only when its mismatch was found. */
static void test_mismatch_rules(void)
{
	static const char rule[] =
		"{\"rules\": [{\"name\": \"m\", \"lossless\": true, \"reversible\": true, \"image\": \"PSTREE\","
		" \"mismatch\": %s, \"do\": [{\"set\": \"pgid\", \"value\": 55}]}]}";
	static const char *const bad[] = { "\"kernel-feature:nosuch\"", "\"cpu-xsave\"", "\"arch:x86\"", "\"foo\"",
					   "[]", "[\"cpu-xsave:avx9000\"]" };
	const char *rseq = "kernel-feature:rseq", *other = "cpu-xsave:opmask";
	struct img_xf_opts o = { .mismatches = &other, .nmismatches = 1 };
	struct img_xf_table *t;
	struct img_xf_report rep;
	struct img_err e;
	struct img_dir *d;
	struct img_set *set;
	struct img_image *img;
	char text[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), rule, bad[i]);
		CU_ASSERT_NOT_EQUAL(parse(text, &t, &e), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "mismatch"));
	}
	snprintf(text, sizeof(text), rule, "[\"kernel-feature:rseq\", \"arch\"]");
	CU_ASSERT_EQUAL_FATAL(parse(text, &t, &e), 0);
	CU_ASSERT(img_xf_table_handles(t, "arch"));
	CU_ASSERT(img_xf_table_handles(t, "kernel-feature:rseq"));
	CU_ASSERT(!img_xf_table_handles(t, "kernel-feature:timens"));
	CU_ASSERT_EQUAL_FATAL(open_set(SAMPLE, &d, &set), 0);
	img_xf_report_init(&rep);
	/* another mismatch: the rule does not run */
	CU_ASSERT_EQUAL(img_xf_apply(set, t, IMG_XF_RULES, &o, &rep, &e), 0);
	CU_ASSERT_EQUAL(rep.n, 0);
	CU_ASSERT_EQUAL_FATAL(rep.nrules, 1);
	CU_ASSERT(rep.rules[0].skipped);
	CU_ASSERT_STRING_EQUAL(rep.rules[0].mismatch, "kernel-feature:rseq, arch");
	/* its mismatch: it does */
	o.mismatches = &rseq;
	CU_ASSERT_EQUAL(img_xf_apply(set, t, IMG_XF_RULES, &o, &rep, &e), 0);
	CU_ASSERT_EQUAL(img_set_image(set, "pstree.img", &img, &e), 0);
	CU_ASSERT_EQUAL(img_msg_u64(img->e[0].msg, "pgid", 0), 55);
	CU_ASSERT_EQUAL_FATAL(rep.nrules, 2);
	CU_ASSERT(!rep.rules[1].skipped);
	CU_ASSERT_EQUAL(rep.rules[1].applied, 1);
	img_xf_report_free(&rep);
	close_set(d, set);
	img_xf_table_free(t);
	/* the names check uses: a finding's key */
	struct img_finding fi = { .sev = IMG_SEV_ERROR, .code = "cpu-xsave", .subject = "opmask" };
	char key[64];

	img_check_mismatch_key(&fi, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, "cpu-xsave:opmask");
	CU_ASSERT_EQUAL(img_check_mismatch_ok(key, &e), 0);
	fi.code = "arch";
	img_check_mismatch_key(&fi, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, "arch");
	fi.sev = IMG_SEV_INFO;
	img_check_mismatch_key(&fi, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, "");
	fi.sev = IMG_SEV_WARNING;
	fi.code = "file-size"; /* not a mismatch with a machine */
	img_check_mismatch_key(&fi, key, sizeof(key));
	CU_ASSERT_STRING_EQUAL(key, "");
}

/* clear-bits, same-in-image and a value taken from another image */
static void test_other_image(void)
{
	static const char text[] =
		"{\"rules\": ["
		" {\"name\": \"leave-ns\", \"lossless\": false, \"reversible\": false, \"image\": \"IDS\","
		"  \"when\": [{\"not\": {\"same-in-image\": \"time_ns_id\", \"image\": \"INVENTORY\", \"field\": \"root_ids.time_ns_id\"}}],"
		"  \"do\": [{\"set\": \"time_ns_id\", \"from\": \"root_ids.time_ns_id\", \"image\": \"INVENTORY\"}]},"
		" {\"name\": \"if\", \"lossless\": false, \"reversible\": false, \"image\": \"CORE\","
		"  \"do\": [{\"clear-bits\": \"thread_info.gpregs.flags\", \"mask\": 512}]}]}";
	struct img_xf_table *t;
	struct img_xf_report rep;
	struct img_err e;
	struct img_dir *d;
	struct img_set *set;
	struct img_image *ids, *inv, *core;
	struct img_arena a;

	CU_ASSERT_NOT_EQUAL(parse("{\"rules\": [{\"name\": \"a\", \"lossless\": true, \"reversible\": true, \"image\": \"IDS\","
				  " \"do\": [{\"set\": \"time_ns_id\", \"from\": \"root_ids.nosuch\", \"image\": \"INVENTORY\"}]}]}", &t, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "no field 'nosuch'"));
	CU_ASSERT_NOT_EQUAL(parse("{\"rules\": [{\"name\": \"a\", \"lossless\": true, \"reversible\": true, \"image\": \"CORE\","
				  " \"do\": [{\"clear-bits\": \"tc.comm\", \"mask\": 1}]}]}", &t, &e), 0);
	CU_ASSERT_EQUAL_FATAL(parse(text, &t, &e), 0);
	CU_ASSERT_EQUAL_FATAL(open_set(SAMPLE, &d, &set), 0);
	img_xf_report_init(&rep);
	/* the sample's task is in the root time namespace: nothing to do there */
	CU_ASSERT_EQUAL(img_xf_apply(set, t, IMG_XF_RULES, NULL, &rep, &e), 0);
	CU_ASSERT_EQUAL_FATAL(rep.nrules, 2);
	CU_ASSERT_EQUAL(rep.rules[0].applied, 0);
	CU_ASSERT_EQUAL(rep.rules[1].applied, 1);
	CU_ASSERT_EQUAL(img_set_image(set, "core-1.img", &core, &e), 0);
	CU_ASSERT_EQUAL(img_msg_u64(img_msg_sub(img_msg_sub(img_image_msg(core), "thread_info"), "gpregs"), "flags", 0) & 512, 0);
	/* a namespace of its own: it takes the root's */
	CU_ASSERT_EQUAL_FATAL(img_set_image(set, "ids-1.img", &ids, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_set_image(set, "inventory.img", &inv, &e), 0);
	img_arena_init(&a);
	CU_ASSERT_EQUAL(img_msg_set_u64(&a, ids->e[0].msg, "time_ns_id", 99), 0);
	img_set_touch(set, "ids-1.img");
	CU_ASSERT_EQUAL(img_xf_apply(set, t, IMG_XF_RULES, NULL, &rep, &e), 0);
	CU_ASSERT_EQUAL(rep.rules[2].applied, 1);
	CU_ASSERT_EQUAL(img_msg_u64(ids->e[0].msg, "time_ns_id", 0),
			img_msg_u64(img_msg_sub(img_image_msg(inv), "root_ids"), "time_ns_id", 1));
	img_xf_report_free(&rep);
	close_set(d, set);
	img_arena_free(&a);
	img_xf_table_free(t);
}

/* The real memory API: where an address of the sample's task lies, checked against img_mem_read. */
static void test_mem_locate(void)
{
	struct img_xf_mem_ops ops;
	struct img_err e = { 0 };
	struct img_dir *d, *b;
	struct img_set *set;
	struct img_ckpt *ck;
	struct img_mem *m;
	struct img_mem_run run;
	char member[64], path[300];
	uint64_t off, addr = 0;
	uint8_t want[16], got[16];

	CU_ASSERT_EQUAL_FATAL(open_set(SAMPLE, &d, &set), 0);
	/* a present page of the task, found with the model */
	CU_ASSERT_EQUAL_FATAL(img_dir_borrow(d, &b, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_ckpt_open_dir(b, 0, &ck, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_mem_open(ck, img_ckpt_task(ck, 1), 0, &m, &e), 0);
	for (size_t i = 0; i < img_ckpt_task(ck, 1)->mm->nvmas && !addr; i++) {
		const struct img_vma *v = &img_ckpt_task(ck, 1)->mm->vmas[i];

		if (!img_mem_run(m, v->start, v->end, &run, &e) && run.state == IMG_PAGE_PRESENT)
			addr = run.start + 0x123;
	}
	CU_ASSERT_FATAL(addr != 0);
	CU_ASSERT_EQUAL(img_mem_read(m, addr, want, sizeof(want), NULL, &e), 0);
	img_mem_close(m);
	img_ckpt_close(ck);
	/* the set's folder is still open after the borrowed handle went */
	CU_ASSERT(img_dir_has(d, "core-1.img"));
	CU_ASSERT_EQUAL_FATAL(img_xf_mem_open(set, &ops, &e), 0);
	CU_ASSERT_EQUAL(ops.locate(ops.arg, set, 1, addr, sizeof(got), member, sizeof(member), &off, &e), 0);
	snprintf(path, sizeof(path), "%s/%s", SAMPLE, member);
	FILE *f = fopen(path, "rb");

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(fseek(f, (long)off, SEEK_SET), 0);
	CU_ASSERT_EQUAL(fread(got, 1, sizeof(got), f), sizeof(got));
	fclose(f);
	CU_ASSERT_EQUAL(memcmp(want, got, sizeof(got)), 0);
	/* an address nothing maps, a task that is not there */
	CU_ASSERT_NOT_EQUAL(ops.locate(ops.arg, set, 1, 0x1000, 4, member, sizeof(member), &off, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not mapped"));
	CU_ASSERT_NOT_EQUAL(ops.locate(ops.arg, set, 7, addr, 4, member, sizeof(member), &off, &e), 0);
	/* a pagemap a rule changed cannot be trusted for offsets */
	img_set_touch(set, "pagemap-1.img");
	CU_ASSERT_NOT_EQUAL(ops.locate(ops.arg, set, 1, addr, 4, member, sizeof(member), &off, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "was changed by an earlier rule"));
	img_xf_mem_close(&ops);
	close_set(d, set);
}

static void count_progress(void *arg, const char *member, uint64_t done, uint64_t total)
{
	uint64_t *v = arg;

	(void)member;
	v[0]++;
	v[1] = done;
	v[2] = total;
}

static void test_write_progress(void)
{
	struct img_dir *d;
	struct img_set *set;
	struct img_err e = { 0 };
	uint64_t seen[3] = { 0 };
	struct img_set_write_opts o = { .progress = count_progress, .progress_arg = seen };
	char out[300];

	snprintf(out, sizeof(out), "%s/progress", tmp);
	CU_ASSERT_EQUAL_FATAL(open_set(SAMPLE, &d, &set), 0);
	CU_ASSERT_EQUAL(img_set_write(set, out, &o, &e), 0);
	CU_ASSERT(seen[0] > 0);
	CU_ASSERT(seen[2] > 0);
	CU_ASSERT_EQUAL(seen[1], seen[2]); /* every byte the input had: nothing changed */
	close_set(d, set);
}

static CU_TestInfo tests[] = {
	{ "host mismatches: names checked, rules run for theirs", test_mismatch_rules },
	{ "clear-bits, same-in-image, values from another image", test_other_image },
	{ "the memory API of a set: pages file and offset", test_mem_locate },
	{ "writing reports its progress", test_write_progress },
	{ "tables: errors name line and column", test_parse_errors },
	{ "versions: compare and plan", test_versions },
	{ "versions: detect the sample", test_detect },
	{ "4.2 -> 4.1 splits entries over 32 bits, and back", test_split_merge },
	{ "no change: identical output", test_no_change },
	{ "policies bail, emulate, hope", test_policies },
	{ "patch-memory through the memory hook", test_patch_memory },
	{ "writing: validate hook, cancel, stale folders, existing output", test_write_safety },
	{ "--map-ip arguments", test_ipmap },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("transforms", suite_init, suite_clean, tests)
