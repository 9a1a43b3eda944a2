/*
 * The memory budget (img_budget): crafted inputs whose lengths, counts and
 * nesting cost memory out of proportion to their size, read through each
 * reader with libimg's allocations counted.  Whatever the outcome, the most
 * the library held at once stays within the budget of the input; with a
 * small budget (fixed part 1 MiB) the inputs that would take more fail with
 * EFBIG and a message that says so; nesting past the caps fails at the cap.
 *
 *   budget [-v]          (make check runs it through tests/cli/budget.sh)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/image.h"
#include "img/json.h"
#include "img/mem.h"
#include "img/model.h"
#include "img/pb.h"
#include "img/tab.h"
#include "../support/memcount.h"

#ifndef CR_TOP
#define CR_TOP "."
#endif

static int verbose, bad;
static char tmp[256];

struct input {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct input *in, const void *p, size_t n)
{
	if (in->n + n > in->cap) { /* doubling: the inputs are built of a million small pieces */
		in->cap = (in->n + n) * 2;
		in->p = realloc(in->p, in->cap);
		if (!in->p)
			abort();
	}
	if (n)
		memcpy(in->p + in->n, p, n);
	in->n += n;
}

static void put_varint(struct input *in, uint64_t v)
{
	uint8_t b[10];

	put(in, b, img_varint_put(b, v));
}

static void put_u32(struct input *in, uint32_t v)
{
	put(in, &v, 4);
}

static uint32_t tag(const char *msg, const char *field, int wt)
{
	const struct img_fielddesc *fd = img_msgdesc_field_by_name(img_schema_msg(img_schema_default(), msg), field);

	if (!fd) {
		fprintf(stderr, "budget: no field %s.%s\n", msg, field);
		exit(2);
	}
	return fd->num << 3 | (uint32_t)wt;
}

static void head(struct input *in, const char *kind)
{
	const struct img_kind *k = img_kind_by_name(img_schema_default(), kind);

	put_u32(in, IMG_MAGIC_COMMON);
	put_u32(in, k->magic);
}

/* One case: the outcome under the default budget and under a small one. */
static void check(const char *name, size_t size, int (*run)(const struct input *, struct img_err *),
		  const struct input *in, int want_small, const char *want_msg)
{
	for (int small = 0; small < 2; small++) {
		struct img_err e = { 0 };
		size_t before = memcount.bytes, budget, held;
		uint64_t live = memcount.live;
		int r;

		img_budget_set(small ? IMG_BUDGET_RATIO : 0, small ? (size_t)1 << 20 : 0);
		budget = img_budget(size);
		memcount_reset();
		if (getenv("BUDGET_TRAP")) /* debugging: make the allocation past the budget fail (see memcount_failing) */
			memcount.limit = before + budget;
		r = run(in, &e);
		memcount.limit = 0;
		held = memcount.peak - before;
		if (held > budget) {
			printf("FAIL %s: held %zu bytes at once, the budget of %zu bytes is %zu\n", name, held, size, budget);
			bad++;
		}
		if (memcount.live != live) {
			printf("FAIL %s: %lld blocks leaked\n", name, (long long)(memcount.live - live));
			bad++;
		}
		if (small && want_small && r != -want_small) {
			printf("FAIL %s: with a small budget: %d (%s), want -%d\n", name, r, e.msg, want_small);
			bad++;
		} else if (small && want_msg && !strstr(e.msg, want_msg)) {
			printf("FAIL %s: the message '%s' does not say '%s'\n", name, e.msg, want_msg);
			bad++;
		} else if (!small && r && r != -want_small && want_small != EINVAL) {
			printf("FAIL %s: fails under the default budget: %s\n", name, e.msg);
			bad++;
		}
		if (verbose)
			printf("     %s (%s budget): %zu bytes in, %zu held (%.1fx), budget %zu: %s\n", name,
			       small ? "small" : "default", size, held, (double)held / (double)size, budget,
			       r ? e.msg : "read");
	}
	img_budget_set(0, 0);
	printf("ok   %s\n", name);
}

static int read_image(const struct input *in, struct img_err *e)
{
	struct img_src *src = img_src_mem(in->p, in->n, "x.img", 0);
	struct img_image *img;
	int r = img_image_read(src, img_schema_default(), NULL, 0, &img, e);

	if (!r)
		img_image_free(img);
	img_src_unref(src);
	return r;
}

static int parse_json(const struct input *in, struct img_err *e)
{
	struct img_arena a;
	struct img_jv *v;

	img_arena_init(&a);
	v = img_json_parse(&a, (const char *)in->p, in->n, e);
	img_arena_free(&a);
	return v ? 0 : -e->code;
}

static int encode_json(const struct input *in, struct img_err *e)
{
	struct img_image *img = NULL;
	struct img_arena a;
	struct img_jv *v;
	int r;

	img_arena_init(&a);
	v = img_json_parse(&a, (const char *)in->p, in->n, e);
	r = v ? img_image_from_json(v, img_schema_default(), &img, e) : -e->code;
	img_image_free(img);
	img_arena_free(&a);
	return r;
}

static int open_model(const struct input *in, struct img_err *e)
{
	struct img_ckpt *ck;
	int r;

	(void)in;
	r = img_ckpt_open(tmp, IMG_CKPT_TOLERANT, &ck, e);
	if (!r)
		img_ckpt_close(ck);
	return r;
}

static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	ssize_t n;
	int a = open(from, O_RDONLY), b = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	while (a >= 0 && b >= 0 && (n = read(a, buf, sizeof(buf))) > 0)
		if (write(b, buf, (size_t)n) != n)
			break;
	close(a);
	close(b);
}

static void write_file(const char *name, const struct input *in)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, in->p, in->n) != (ssize_t)in->n)
		abort();
	close(fd);
}

int main(int argc, char **argv)
{
	struct input in = { 0 };

	verbose = argc > 1 && !strcmp(argv[1], "-v");
	memcount_install(1);
	img_tables_load();

	/* 1. an array image of empty entries: an entry (64 bytes) and a message (48) per 4 bytes */
	head(&in, "FDINFO");
	for (int i = 0; i < 300000; i++)
		put_u32(&in, 0);
	check("empty entries", in.n, read_image, &in, EFBIG, "bytes of memory");
	free(in.p), in = (struct input){ 0 };

	/* 2. one entry of empty sub-messages: a field and a message per 2 bytes */
	head(&in, "MM");
	{
		struct input body = { 0 };

		for (int i = 0; i < 400000; i++) {
			put_varint(&body, tag("mm_entry", "vmas", IMG_WT_LEN));
			put_varint(&body, 0);
		}
		put_u32(&in, (uint32_t)body.n);
		put(&in, body.p, body.n);
		free(body.p);
	}
	check("empty sub-messages", in.n, read_image, &in, EFBIG, "bytes of memory");
	free(in.p), in = (struct input){ 0 };

	/* 3. sub-messages nested past the cap: refused at depth 64 */
	head(&in, "CORE");
	{
		struct input body = { 0 };
		uint32_t t = tag("core_entry", "thread_core", IMG_WT_LEN);
		uint32_t sa = tag("thread_core_entry", "sas", IMG_WT_LEN);

		/* thread_core -> sas is not recursive: nest an unknown-typed LEN chain instead */
		(void)sa;
		for (int i = 0; i < 100; i++) {
			struct input wrap = { 0 };

			put_varint(&wrap, t);
			put_varint(&wrap, body.n);
			put(&wrap, body.p, body.n);
			free(body.p);
			body = wrap;
		}
		put_u32(&in, (uint32_t)body.n);
		put(&in, body.p, body.n);
		free(body.p);
	}
	check("nested entries", in.n, read_image, &in, 0, NULL);
	free(in.p), in = (struct input){ 0 };

	/* 4. JSON: an array of 600000 zeros (JSON costs at most 28 times its size: within the budget) */
	put(&in, "[", 1);
	for (int i = 0; i < 600000; i++)
		put(&in, i ? ",0" : "0", i ? 2 : 1);
	put(&in, "]", 1);
	check("JSON array of zeros", in.n, parse_json, &in, 0, NULL);
	free(in.p), in = (struct input){ 0 };

	/* 5. JSON nested past its cap of 256 */
	for (int i = 0; i < 100000; i++)
		put(&in, "[", 1);
	check("JSON nesting", in.n, parse_json, &in, EINVAL, "nested");
	free(in.p), in = (struct input){ 0 };

	/* 6. crit JSON of empty entries: the image built from it */
	put(&in, "{\"magic\": \"FDINFO\", \"entries\": [", strlen("{\"magic\": \"FDINFO\", \"entries\": ["));
	for (int i = 0; i < 50000; i++) {
		const char *e = "{\"id\": 1, \"flags\": 0, \"type\": \"REG\", \"fd\": 0}";

		if (i)
			put(&in, ", ", 2);
		put(&in, e, strlen(e));
	}
	put(&in, "]}", 2);
	check("crit JSON of empty entries", in.n, encode_json, &in, 0, NULL);
	free(in.p), in = (struct input){ 0 };

	/* 7. the model: one task listing its thread 2 half a million times, with core-2.img there */
	snprintf(tmp, sizeof(tmp), "%s/budget.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return 2;
	{
		const char *names[] = { "inventory.img", "core-1.img", "mm-1.img", "pagemap-1.img", "pages-1.img",
					"fdinfo-2.img", "files.img", "fs-1.img", "ids-1.img", "pipes-data.img" };
		char from[512], to[512];
		struct input body = { 0 };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(from, sizeof(from), "%s/testdata/sample/tiny/%s", CR_TOP, names[i]);
			snprintf(to, sizeof(to), "%s/%s", tmp, names[i]);
			copy_file(from, to);
		}
		snprintf(from, sizeof(from), "%s/testdata/sample/tiny/core-1.img", CR_TOP);
		snprintf(to, sizeof(to), "%s/core-2.img", tmp);
		copy_file(from, to);
		head(&in, "PSTREE");
		put_varint(&body, tag("pstree_entry", "pid", IMG_WT_VARINT));
		put_varint(&body, 1);
		put_varint(&body, tag("pstree_entry", "ppid", IMG_WT_VARINT));
		put_varint(&body, 0);
		put_varint(&body, tag("pstree_entry", "pgid", IMG_WT_VARINT));
		put_varint(&body, 1);
		put_varint(&body, tag("pstree_entry", "sid", IMG_WT_VARINT));
		put_varint(&body, 1);
		put_varint(&body, tag("pstree_entry", "threads", IMG_WT_LEN));
		put_varint(&body, 500000);
		for (int i = 0; i < 500000; i++)
			put_varint(&body, 2);
		put_u32(&in, (uint32_t)body.n);
		put(&in, body.p, body.n);
		free(body.p);
		write_file("pstree.img", &in);
	}
	check("a thread listed half a million times", in.n + 8192, open_model, &in, EFBIG, "bytes of memory");
	free(in.p), in = (struct input){ 0 };

	/* 8. the model, tolerant: twenty thousand tasks whose images are all missing; problems are capped */
	{
		struct input body = { 0 };

		head(&in, "PSTREE");
		for (int i = 2; i < 20000; i++) {
			body.n = 0;
			put_varint(&body, tag("pstree_entry", "pid", IMG_WT_VARINT));
			put_varint(&body, (uint64_t)i);
			put_varint(&body, tag("pstree_entry", "ppid", IMG_WT_VARINT));
			put_varint(&body, 1);
			put_u32(&in, (uint32_t)body.n);
			put(&in, body.p, body.n);
		}
		free(body.p);
		write_file("pstree.img", &in);
	}
	check("twenty thousand tasks without images", in.n + 8192, open_model, &in, 0, NULL);
	free(in.p);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd))
			bad++;
	}
	printf("budget: %s\n", bad ? "FAILED" : "every case within its budget");
	return bad ? 1 : 0;
}
