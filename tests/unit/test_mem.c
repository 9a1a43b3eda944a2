/*
 * The pagemap index and memory reads, on image sets this test writes with
 * libimg's writer: PE_PRESENT offsets counted over present entries only (not
 * over every entry, as go-criu's MemoryReader does), PE_PARENT through the
 * parent link, lazy pages, shared memory, pre-4.2 compat_nr_pages, and a
 * search match that spans two pages kept in different images.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/image.h"
#include "img/mem.h"
#include "img/model.h"
#include "unit.h"

#define PG 4096
#define BASE 0x10000000ull
#define SHBASE 0x20000000ull

static char top[256];
static int build_failed; /* the writer failed while the suite set up */

static struct img_msg *new_msg(struct img_image *img, const char *name)
{
	return img_msg_new(&img->arena, img_schema_msg(img->schema, name));
}

static struct img_image *new_image(const char *kind)
{
	const struct img_schema *s = img_schema_default();

	return img_image_new(s, img_kind_by_name(s, kind));
}

static void write_image(struct img_image *img, const char *dir, const char *name)
{
	char path[512];
	struct img_err e = { 0 };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (img_image_write_file(img, path, &e))
		build_failed = 1;
	img_image_free(img);
}

static void set(struct img_image *img, struct img_msg *m, const char *field, uint64_t v)
{
	if (img_msg_set_u64(&img->arena, m, field, v))
		build_failed = 1;
}

/* A pagemap: head, then (vaddr, pages, flags) triples; flags -1: no flags field; compat: set only compat_nr_pages. */
struct pme {
	uint64_t vaddr, nr;
	int flags;
	int compat;
};

static void write_pagemap(const char *dir, const char *name, uint32_t pages_id, const struct pme *e, size_t n)
{
	struct img_image *img = new_image(strstr(name, "shmem") ? "SHMEM_PAGEMAP" : "PAGEMAP");
	struct img_msg *h = new_msg(img, "pagemap_head");

	set(img, h, "pages_id", pages_id);
	img_image_add(img, h->desc, h);
	for (size_t i = 0; i < n; i++) {
		struct img_msg *m = new_msg(img, "pagemap_entry");

		set(img, m, "vaddr", e[i].vaddr);
		set(img, m, "compat_nr_pages", e[i].compat ? e[i].nr : 0);
		if (!e[i].compat)
			set(img, m, "nr_pages", e[i].nr);
		if (e[i].flags >= 0)
			set(img, m, "flags", (uint64_t)e[i].flags);
		img_image_add(img, m->desc, m);
	}
	write_image(img, dir, name);
}

/* Pages whose first bytes say what they are ("cur-0", "par-2", ...). */
static void write_pages(const char *dir, const char *name, const char *tag, const int *idx, size_t n)
{
	char path[512];
	uint8_t page[PG];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		build_failed = 1;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		memset(page, 0, sizeof(page));
		snprintf((char *)page, sizeof(page), "%s-%d", tag, idx[i]);
		fwrite(page, 1, PG, f);
	}
	fclose(f);
}

static void add_vma(struct img_image *img, struct img_msg *mm, uint64_t start, uint64_t end, uint32_t status,
		    uint64_t shmid, uint32_t flags)
{
	struct img_msg *v = img_msg_set_msg(&img->arena, mm, "vmas");

	if (!v) {
		build_failed = 1;
		return;
	}
	set(img, v, "start", start);
	set(img, v, "end", end);
	set(img, v, "pgoff", 0);
	set(img, v, "shmid", shmid);
	set(img, v, "prot", 3);
	set(img, v, "flags", flags);
	set(img, v, "status", status);
	img_msg_set_i64(&img->arena, v, "fd", -1);
}

/* The task-level images of a one-task set: pid 1 with an anonymous VMA of 8 pages and a shared one of 2. */
static void write_task(const char *dir)
{
	struct img_image *img;
	struct img_msg *m, *tc;

	img = new_image("INVENTORY");
	m = new_msg(img, "inventory_entry");
	set(img, m, "img_version", 2);
	set(img, m, "fdinfo_per_id", 1);
	set(img, m, "ns_per_id", 1);
	img_image_add(img, m->desc, m);
	write_image(img, dir, "inventory.img");

	img = new_image("PSTREE");
	m = new_msg(img, "pstree_entry");
	set(img, m, "pid", 1);
	set(img, m, "ppid", 0);
	set(img, m, "pgid", 1);
	set(img, m, "sid", 1);
	img_image_add(img, m->desc, m);
	write_image(img, dir, "pstree.img");

	img = new_image("CORE");
	m = new_msg(img, "core_entry");
	set(img, m, "mtype", 1);
	tc = img_msg_set_msg(&img->arena, m, "tc");
	set(img, tc, "task_state", 1);
	img_msg_set_str(&img->arena, tc, "comm", "unit");
	img_image_add(img, m->desc, m);
	write_image(img, dir, "core-1.img");

	img = new_image("IDS");
	m = new_msg(img, "task_kobj_ids_entry");
	set(img, m, "vm_id", 1);
	set(img, m, "files_id", 1);
	set(img, m, "fs_id", 1);
	set(img, m, "sighand_id", 1);
	img_image_add(img, m->desc, m);
	write_image(img, dir, "ids-1.img");

	img = new_image("FS");
	m = new_msg(img, "fs_entry");
	set(img, m, "cwd_id", 0);
	set(img, m, "root_id", 0);
	img_image_add(img, m->desc, m);
	write_image(img, dir, "fs-1.img");

	write_image(new_image("FDINFO"), dir, "fdinfo-1.img");

	img = new_image("MM");
	m = new_msg(img, "mm_entry");
	add_vma(img, m, BASE, BASE + 8 * PG, 0x201, 0, 0x22);           /* REGULAR|ANON_PRIVATE, MAP_PRIVATE|ANON */
	add_vma(img, m, SHBASE, SHBASE + 2 * PG, 0x101, 77, 0x21);      /* REGULAR|ANON_SHARED, MAP_SHARED|ANON */
	img_image_add(img, m->desc, m);
	write_image(img, dir, "mm-1.img");

	/* shared memory 77: its second page */
	static const struct pme sh[] = { { PG, 1, 4, 0 } };
	static const int shidx[] = { 1 };

	write_pagemap(dir, "pagemap-shmem-77.img", 9, sh, 1);
	write_pages(dir, "pages-9.img", "shm", shidx, 1);
}

static int suite_init(void)
{
	char cur[300], par[300], link[320];

	snprintf(top, sizeof(top), "%s/crt-mem-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(top))
		return -1;
	snprintf(cur, sizeof(cur), "%s/cur", top);
	snprintf(par, sizeof(par), "%s/par", top);
	if (mkdir(cur, 0755) || mkdir(par, 0755))
		return -1;
	snprintf(link, sizeof(link), "%s/parent", cur);
	if (symlink("../par", link))
		return -1;
	write_task(cur);
	/*
	 * page 0-1: present (pages-1 offsets 0, 1)
	 * page 2:   in the parent
	 * page 3:   lazy, not in the image
	 * page 4:   lazy and present: pages-1 offset 2, not 4
	 * page 5:   not in the pagemap: zero
	 * page 6:   in the parent, which lacks it: missing
	 * page 7:   present, pages-1 offset 3
	 */
	static const struct pme cm[] = {
		{ BASE, 2, 4, 0 }, { BASE + 2 * PG, 1, 1, 0 }, { BASE + 3 * PG, 1, 2, 0 },
		{ BASE + 4 * PG, 1, 6, 0 }, { BASE + 6 * PG, 1, 1, 0 }, { BASE + 7 * PG, 1, 4, 0 },
	};
	static const int ci[] = { 0, 1, 4, 7 };

	write_pagemap(cur, "pagemap-1.img", 1, cm, sizeof(cm) / sizeof(cm[0]));
	write_pages(cur, "pages-1.img", "cur", ci, 4);
	/* the parent: pre-4.2 layout (compat_nr_pages, no flags means present) */
	static const struct pme pm[] = { { BASE + 2 * PG, 1, -1, 1 } };
	static const int pi[] = { 2 };

	write_task(par);
	write_pagemap(par, "pagemap-1.img", 3, pm, 1);
	write_pages(par, "pages-3.img", "par", pi, 1);
	return build_failed ? -1 : 0;
}

static int suite_clean(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static struct img_ckpt *open_cur(struct img_mem **m)
{
	char path[300];
	struct img_ckpt *ck = NULL;
	struct img_err e = { 0 };

	snprintf(path, sizeof(path), "%s/cur", top);
	CU_ASSERT_EQUAL_FATAL(img_ckpt_open(path, 0, &ck, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_mem_open(ck, img_ckpt_task(ck, 1), 0, m, &e), 0);
	return ck;
}

static void expect_page(struct img_mem *m, int page, int state, const char *text)
{
	char buf[16] = { 0 };
	int st = -1;

	CU_ASSERT_EQUAL(img_mem_page(m, BASE + (uint64_t)page * PG, &st, NULL), 0);
	CU_ASSERT_EQUAL(st, state);
	CU_ASSERT_EQUAL(img_mem_read(m, BASE + (uint64_t)page * PG, buf, sizeof(buf) - 1, NULL, NULL), 0);
	CU_ASSERT_STRING_EQUAL(buf, text);
}

static void test_index(void)
{
	struct img_mem *m;
	struct img_ckpt *ck = open_cur(&m);

	expect_page(m, 0, IMG_PAGE_PRESENT, "cur-0");
	expect_page(m, 1, IMG_PAGE_PRESENT, "cur-1");
	expect_page(m, 3, IMG_PAGE_LAZY, "");
	/* offsets count PE_PRESENT entries only: page 4 is the third page of pages-1.img */
	expect_page(m, 4, IMG_PAGE_PRESENT, "cur-4");
	expect_page(m, 5, IMG_PAGE_ZERO, "");
	expect_page(m, 7, IMG_PAGE_PRESENT, "cur-7");
	img_mem_close(m);
	img_ckpt_close(ck);
}

static void test_parent(void)
{
	struct img_mem *m;
	struct img_ckpt *ck = open_cur(&m);
	struct img_mem_run run;

	/* PE_PARENT, found in the parent's pre-4.2 pagemap */
	expect_page(m, 2, IMG_PAGE_PARENT, "par-2");
	CU_ASSERT_EQUAL(img_mem_run(m, BASE + 2 * PG, BASE + 8 * PG, &run, NULL), 0);
	CU_ASSERT_EQUAL(run.depth, 1);
	CU_ASSERT_EQUAL(run.end, BASE + 3 * PG);
	CU_ASSERT_STRING_EQUAL(run.source, "pages-3.img");
	/* PE_PARENT, and the parent does not have it */
	expect_page(m, 6, IMG_PAGE_MISSING, "");
	img_mem_close(m);
	img_ckpt_close(ck);
}

static void test_shmem(void)
{
	struct img_mem *m;
	struct img_ckpt *ck = open_cur(&m);
	uint64_t cnt[IMG_PAGE__COUNT];
	char buf[8] = { 0 };
	int st;

	CU_ASSERT_EQUAL(img_mem_page(m, SHBASE, &st, NULL), 0);
	CU_ASSERT_EQUAL(st, IMG_PAGE_ZERO);
	CU_ASSERT_EQUAL(img_mem_read(m, SHBASE + PG, buf, 5, NULL, NULL), 0);
	CU_ASSERT_STRING_EQUAL(buf, "shm-1");
	CU_ASSERT_EQUAL(img_mem_count(m, BASE, BASE + 8 * PG, cnt, NULL), 0);
	CU_ASSERT_EQUAL(cnt[IMG_PAGE_PRESENT], 4);
	CU_ASSERT_EQUAL(cnt[IMG_PAGE_PARENT], 1);
	CU_ASSERT_EQUAL(cnt[IMG_PAGE_LAZY], 1);
	CU_ASSERT_EQUAL(cnt[IMG_PAGE_ZERO], 1);
	CU_ASSERT_EQUAL(cnt[IMG_PAGE_MISSING], 1);
	CU_ASSERT_EQUAL(img_mem_page(m, BASE + 8 * PG, &st, NULL), 0);
	CU_ASSERT_EQUAL(st, IMG_PAGE_UNMAPPED);
	img_mem_close(m);
	img_ckpt_close(ck);
}

struct hits {
	uint64_t addr[8];
	int n;
};

static int on_hit(void *arg, const struct img_match *mt)
{
	struct hits *h = arg;

	if (h->n < 8)
		h->addr[h->n] = mt->addr;
	h->n++;
	return 0;
}

static void test_search(void)
{
	struct img_mem *m;
	struct img_ckpt *ck = open_cur(&m);
	struct img_search_opts o = { 0 };
	struct img_search *s;
	struct hits h = { 0 };

	/* "cur-1" then "par-2": found in two runs; "cur-" in three pages of pages-1 and one more */
	CU_ASSERT_EQUAL_FATAL(img_search_new("cur-", &o, &s, NULL), 0);
	CU_ASSERT_EQUAL(img_search_mem(s, m, on_hit, &h, NULL), 0);
	CU_ASSERT_EQUAL(h.n, 4);
	CU_ASSERT_EQUAL(h.addr[2], BASE + 4 * PG);
	img_search_free(s);
	/* a regex over the same pages */
	memset(&h, 0, sizeof(h));
	o.kind = IMG_SEARCH_REGEX;
	CU_ASSERT_EQUAL_FATAL(img_search_new("(par|shm)-[0-9]", &o, &s, NULL), 0);
	CU_ASSERT_EQUAL(img_search_mem(s, m, on_hit, &h, NULL), 0);
	CU_ASSERT_EQUAL(h.n, 2);
	CU_ASSERT_EQUAL(h.addr[0], BASE + 2 * PG);
	CU_ASSERT_EQUAL(h.addr[1], SHBASE + PG);
	img_search_free(s);
	/* hex bytes: "r-2" */
	memset(&h, 0, sizeof(h));
	o.kind = IMG_SEARCH_HEX;
	CU_ASSERT_EQUAL_FATAL(img_search_new("72 2d 32", &o, &s, NULL), 0);
	CU_ASSERT_EQUAL(img_search_mem(s, m, on_hit, &h, NULL), 0);
	CU_ASSERT_EQUAL(h.n, 1);
	CU_ASSERT_EQUAL(h.addr[0], BASE + 2 * PG + 2);
	img_search_free(s);
	img_mem_close(m);
	img_ckpt_close(ck);
}

/* A match that starts at the end of one run (present page) and ends in the next (parent page). */
static void test_search_across_runs(void)
{
	char cur[300];
	struct img_mem *m;
	struct img_ckpt *ck;
	struct img_search_opts o = { 0 };
	struct img_search *s;
	struct hits h = { 0 };
	FILE *f;

	snprintf(cur, sizeof(cur), "%s/cur/pages-1.img", top);
	f = fopen(cur, "r+b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 2 * PG - 3, SEEK_SET); /* the last bytes of page 1 */
	fwrite("NEE", 1, 3, f);
	fclose(f);
	snprintf(cur, sizeof(cur), "%s/par/pages-3.img", top);
	f = fopen(cur, "r+b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fwrite("DLE", 1, 3, f);
	fclose(f);
	ck = open_cur(&m);
	CU_ASSERT_EQUAL_FATAL(img_search_new("NEEDLE", &o, &s, NULL), 0);
	CU_ASSERT_EQUAL(img_search_mem(s, m, on_hit, &h, NULL), 0);
	CU_ASSERT_EQUAL(h.n, 1);
	CU_ASSERT_EQUAL(h.addr[0], BASE + 2 * PG - 3);
	img_search_free(s);
	img_mem_close(m);
	img_ckpt_close(ck);
}

static void test_bad_pagemap(void)
{
	char dir[300];
	struct img_mem *m = NULL;
	struct img_ckpt *ck = NULL;
	struct img_err e = { 0 };
	static const struct pme bad[] = { { BASE, 1, 4, 0 }, { BASE + 100, 1, 4, 0 } };

	snprintf(dir, sizeof(dir), "%s/bad", top);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
	write_task(dir);
	write_pagemap(dir, "pagemap-1.img", 1, bad, 2);
	CU_ASSERT_EQUAL_FATAL(img_ckpt_open(dir, 0, &ck, &e), 0);
	CU_ASSERT_EQUAL(img_mem_open(ck, img_ckpt_task(ck, 1), 0, &m, &e), -EINVAL);
	CU_ASSERT_STRING_EQUAL(e.subject, "pagemap-1.img");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "entry 2 at offset 0x"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not page aligned"));
	img_ckpt_close(ck);
}

/* A damaged core: strict opening fails naming it; tolerant opening keeps going and records it. */
static void test_model_tolerant(void)
{
	char dir[300], path[340];
	struct img_ckpt *ck = NULL;
	struct img_err e = { 0 };
	const struct img_err *p;
	struct img_image *img;
	struct img_msg *m;
	size_t n;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/tol", top);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
	write_task(dir);
	/* an fd whose file is nowhere */
	img = new_image("FDINFO");
	m = new_msg(img, "fdinfo_entry");
	set(img, m, "id", 42);
	set(img, m, "flags", 0);
	set(img, m, "type", 1);
	set(img, m, "fd", 3);
	img_image_add(img, m->desc, m);
	write_image(img, dir, "fdinfo-1.img");
	CU_ASSERT_EQUAL_FATAL(img_ckpt_open(dir, 0, &ck, &e), 0);
	CU_ASSERT_EQUAL(img_ckpt_task(ck, 1)->nfds, 1);
	CU_ASSERT_PTR_NULL(img_ckpt_task(ck, 1)->fds[0].file);
	p = img_ckpt_problems(ck, &n);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(p[0].subject, "fdinfo-1.img");
	CU_ASSERT_PTR_NOT_NULL(strstr(p[0].msg, "entry 0 at offset 0x8: fd 3 refers to file 42"));
	img_ckpt_close(ck);
	/* the core's size word runs past the end */
	snprintf(path, sizeof(path), "%s/core-1.img", dir);
	f = fopen(path, "r+b");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 8, SEEK_SET);
	fwrite("\xff\xff", 1, 2, f);
	fclose(f);
	CU_ASSERT_EQUAL(img_ckpt_open(dir, 0, &ck, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.subject, "core-1.img"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "entry 0 at offset 0x8"));
	CU_ASSERT_EQUAL_FATAL(img_ckpt_open(dir, IMG_CKPT_TOLERANT, &ck, &e), 0);
	img_ckpt_tasks(ck, &n);
	CU_ASSERT_EQUAL(n, 0);
	p = img_ckpt_problems(ck, &n);
	CU_ASSERT_TRUE(n >= 1);
	CU_ASSERT_PTR_NOT_NULL(n ? strstr(p[0].subject, "core-1.img") : NULL);
	img_ckpt_close(ck);
}

static CU_TestInfo tests[] = {
	{ "model: dangling fds and a damaged core, strict and tolerant", test_model_tolerant },
	{ "pagemap index: present offsets, lazy, zero", test_index },
	{ "PE_PARENT through the parent link", test_parent },
	{ "shared memory and page counts", test_shmem },
	{ "search: literal, regex, hex", test_search },
	{ "search across two runs", test_search_across_runs },
	{ "damaged pagemap", test_bad_pagemap },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("memory", suite_init, suite_clean, tests)
