/*
 * Tar headers (checksums, octal and base-256 numbers, long names, pax), and
 * archives opened as image folders: members found through the layout, tar.gz
 * members read at any offset through the index, inflating little.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/archive.h"
#include "unit.h"

/* A ustar header block with a right checksum. */
static void blk(uint8_t b[512], const char *name, char type, uint64_t size, const char *link)
{
	unsigned sum = 0;

	memset(b, 0, 512);
	strncpy((char *)b, name, 100);
	memcpy(b + 100, "0000644", 8);
	memcpy(b + 108, "0000000", 8);
	memcpy(b + 116, "0000000", 8);
	snprintf((char *)b + 124, 12, "%011llo", (unsigned long long)size);
	memcpy(b + 136, "14712345670", 12);
	b[156] = (uint8_t)type;
	if (link)
		strncpy((char *)b + 157, link, 100);
	memcpy(b + 257, "ustar\0" "00", 8);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
	b[155] = ' ';
}

static void resum(uint8_t b[512])
{
	unsigned sum = 0;

	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
	b[155] = ' ';
}

static void test_header(void)
{
	struct img_err e = { 0 };
	struct img_tar_hdr h;
	uint8_t b[512];

	blk(b, "checkpoint/core-1.img", '0', 1234, NULL);
	CU_ASSERT_EQUAL(img_tar_hdr_parse(b, &h, &e), 0);
	CU_ASSERT_STRING_EQUAL(h.name, "checkpoint/core-1.img");
	CU_ASSERT_EQUAL(h.size, 1234);
	CU_ASSERT_EQUAL(h.mode, 0644);
	CU_ASSERT_EQUAL(h.type, '0');
	CU_ASSERT_EQUAL(h.format, IMG_TAR_USTAR);
	CU_ASSERT_EQUAL(h.mtime, 014712345670ull);
	/* ustar prefix */
	memcpy(b + 345, "a/very/long/folder", 18);
	resum(b);
	CU_ASSERT_EQUAL(img_tar_hdr_parse(b, &h, &e), 0);
	CU_ASSERT_STRING_EQUAL(h.name, "a/very/long/folder/checkpoint/core-1.img");
	/* GNU tars keep times where ustar has the prefix: not a name */
	memcpy(b + 257, "ustar  \0", 8);
	resum(b);
	CU_ASSERT_EQUAL(img_tar_hdr_parse(b, &h, &e), 0);
	CU_ASSERT_EQUAL(h.format, IMG_TAR_GNU);
	CU_ASSERT_STRING_EQUAL(h.name, "checkpoint/core-1.img");
	/* the end marker */
	memset(b, 0, sizeof(b));
	CU_ASSERT_EQUAL(img_tar_hdr_parse(b, &h, &e), 1);
}

static void test_checksum(void)
{
	struct img_err e = { 0 };
	struct img_tar_hdr h;
	uint8_t b[512];
	int sum = 0;

	blk(b, "x", '0', 0, NULL);
	b[0] = 'y'; /* one byte changed, the checksum not */
	CU_ASSERT_EQUAL(img_tar_hdr_parse(b, &h, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "bad header checksum"));
	/* the checksum field is not a number */
	blk(b, "x", '0', 0, NULL);
	memcpy(b + 148, "12x4567", 7);
	CU_ASSERT_EQUAL(img_tar_hdr_parse(b, &h, &e), -EINVAL);
	/* old writers summed signed bytes: accepted too */
	blk(b, "caf\xe9", '0', 0, NULL);
	memset(b + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += (int8_t)b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
	CU_ASSERT_EQUAL(img_tar_hdr_parse(b, &h, &e), 0);
	CU_ASSERT_STRING_EQUAL(h.name, "caf\xe9");
}

static void test_numbers(void)
{
	uint8_t f[12];
	uint64_t v;

	CU_ASSERT_EQUAL(img_tar_number((const uint8_t *)"00000001750", 12, &v), 0);
	CU_ASSERT_EQUAL(v, 01750);
	CU_ASSERT_EQUAL(img_tar_number((const uint8_t *)"   1750 \0\0\0\0", 12, &v), 0);
	CU_ASSERT_EQUAL(v, 01750);
	/* the field full of digits, no terminator */
	CU_ASSERT_EQUAL(img_tar_number((const uint8_t *)"777777777777", 12, &v), 0);
	CU_ASSERT_EQUAL(v, 0777777777777ull);
	CU_ASSERT_EQUAL(img_tar_number((const uint8_t *)"0000001758\0", 12, &v), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_number((const uint8_t *)"-1", 2, &v), -EINVAL);
	/* base-256 */
	memset(f, 0, sizeof(f));
	f[0] = 0x80;
	f[6] = 0x01; /* 2^40 */
	CU_ASSERT_EQUAL(img_tar_number(f, 12, &v), 0);
	CU_ASSERT_EQUAL(v, 1ull << 40);
	f[0] = 0xff; /* negative */
	CU_ASSERT_EQUAL(img_tar_number(f, 12, &v), -EINVAL);
	memset(f, 0xff, sizeof(f));
	f[0] = 0x80; /* 88 bits */
	CU_ASSERT_EQUAL(img_tar_number(f, 12, &v), -ERANGE);
	memset(f, 0, sizeof(f));
	f[0] = 0x80;
	f[4] = 0x7f;
	memset(f + 5, 0xff, 7); /* 2^63 - 1 */
	CU_ASSERT_EQUAL(img_tar_number(f, 12, &v), 0);
	CU_ASSERT_EQUAL(v, INT64_MAX);
	f[4] = 0x80; /* 2^63 */
	CU_ASSERT_EQUAL(img_tar_number(f, 12, &v), -ERANGE);
	/* 22 octal digits: past 2^63 */
	CU_ASSERT_EQUAL(img_tar_number((const uint8_t *)"1000000000000000000000", 22, &v), -ERANGE);
}

static void test_pax(void)
{
	static const char ok[] = "30 mtime=1700000000.123456789\n"
				 "25 path=checkpoint/a.img\n"
				 "19 linkpath=target\n"
				 "16 size=9999999\n\0\0\0\0";
	struct img_tar_pax x;
	struct img_err e = { 0 };
	char many[20 * 300 + 1];

	memset(&x, 0, sizeof(x));
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)ok, sizeof(ok) - 1, &x, &e), 0);
	CU_ASSERT(x.has_path && x.has_linkpath && x.has_size);
	CU_ASSERT_STRING_EQUAL(x.path, "checkpoint/a.img");
	CU_ASSERT_STRING_EQUAL(x.linkpath, "target");
	CU_ASSERT_EQUAL(x.size, 9999999);
	/* a length that runs past the end, one that is short, no newline, no key */
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"99 path=a\n", 10, &x, &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"9 path=abc\n", 11, &x, &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"10 path=ab", 10, &x, &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"6 =ab\n", 6, &x, &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"x path=a\n", 9, &x, &e), -EINVAL);
	/* a NUL in a path, a size that is not a number, sparse files */
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"11 path=a\0b\n", 11, &x, &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"12 size=-12\n", 12, &x, &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"30 size=99999999999999999999\n", 30, &x, &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"22 GNU.sparse.major=1\n", 22, &x, &e), -EOPNOTSUPP);
	/* bytes after the NUL padding */
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)"10 path=a\n\0x", 12, &x, &e), -EINVAL);
	/* too many records */
	for (int i = 0; i < 300; i++)
		memcpy(many + i * 20, "20 comment=01234567\n", 20);
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)many, 20 * 300, &x, &e), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "more than"));
	CU_ASSERT_EQUAL(img_tar_pax_parse((const uint8_t *)many, 20 * 200, &x, &e), 0);
}

static void test_names(void)
{
	struct img_err e = { 0 };
	char out[IMG_TAR_NAME_MAX + 2], longn[5000];

	CU_ASSERT_EQUAL(img_tar_name_clean("./checkpoint//core-1.img", out, sizeof(out), &e), 0);
	CU_ASSERT_STRING_EQUAL(out, "checkpoint/core-1.img");
	CU_ASSERT_EQUAL(img_tar_name_clean("checkpoint/./x/", out, sizeof(out), &e), 0);
	CU_ASSERT_STRING_EQUAL(out, "checkpoint/x");
	CU_ASSERT_EQUAL(img_tar_name_clean("./", out, sizeof(out), &e), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(img_tar_name_clean("..", out, sizeof(out), &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_name_clean("a/../b", out, sizeof(out), &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_name_clean("/etc/passwd", out, sizeof(out), &e), -EINVAL);
	CU_ASSERT_EQUAL(img_tar_name_clean("", out, sizeof(out), &e), -EINVAL);
	/* "..." and "..x" are names like any other */
	CU_ASSERT_EQUAL(img_tar_name_clean(".../..x", out, sizeof(out), &e), 0);
	memset(longn, 'a', sizeof(longn) - 1);
	longn[sizeof(longn) - 1] = 0;
	CU_ASSERT_EQUAL(img_tar_name_clean(longn, out, sizeof(out), &e), -EINVAL);
	longn[300] = 0; /* one component of 300 bytes */
	CU_ASSERT_EQUAL(img_tar_name_clean(longn, out, sizeof(out), &e), -EINVAL);
}

/* Archives built block by block in a temporary file. */
static char tmpdir[64];

static int suite_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/crt-unit-archive.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int suite_clean(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

struct tb {
	uint8_t *d;
	size_t n;
};

static void tb_add(struct tb *t, const void *p, size_t n)
{
	t->d = realloc(t->d, t->n + n + 512);
	memcpy(t->d + t->n, p, n);
	t->n += n;
	if (t->n % 512) {
		memset(t->d + t->n, 0, 512 - t->n % 512);
		t->n += 512 - t->n % 512;
	}
}

static void tb_member(struct tb *t, const char *name, char type, const void *data, size_t n, const char *link)
{
	uint8_t b[512];

	blk(b, name, type, n, link);
	tb_add(t, b, 512);
	if (n)
		tb_add(t, data, n);
}

static const char *tb_write(struct tb *t, const char *file, int end)
{
	static char path[128];
	uint8_t z[1024] = { 0 };
	int fd;

	if (end)
		tb_add(t, z, sizeof(z));
	snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, t->d, t->n) == (ssize_t)t->n);
	close(fd);
	free(t->d);
	t->d = NULL;
	t->n = 0;
	return path;
}

static void test_long_names(void)
{
	struct tb t = { 0 };
	struct img_err e = { 0 };
	struct img_archive *a;
	struct img_dir *d;
	struct img_src *s;
	char longname[300], pax[600];
	const char *p;
	int n;

	/* GNU long name, then a pax path, then a pax size overriding the header's */
	memset(longname, 'L', sizeof(longname));
	memcpy(longname, "checkpoint/", 11);
	longname[150] = '/';
	longname[299] = 0;
	tb_member(&t, "checkpoint/", '5', NULL, 0, NULL);
	tb_member(&t, "././@LongLink", 'L', longname, strlen(longname) + 1, NULL);
	tb_member(&t, "checkpoint/truncated-name", '0', "long", 4, NULL);
	n = snprintf(pax, sizeof(pax), "%d path=checkpoint/core-1.img\n", 30);
	CU_ASSERT_EQUAL(n, 30);
	tb_member(&t, "PaxHeaders/x", 'x', pax, (size_t)n, NULL);
	tb_member(&t, "checkpoint/ignored", '0', "core", 4, NULL);
	n = snprintf(pax, sizeof(pax), "%d size=3\n", 9);
	tb_member(&t, "PaxHeaders/y", 'x', pax, (size_t)n, NULL);
	{
		uint8_t b[512];

		blk(b, "checkpoint/inventory.img", '0', 7 /* pax says 3 */, NULL);
		tb_add(&t, b, 512);
		tb_add(&t, "inv", 3);
	}
	tb_member(&t, "config.dump", '0', "{}\n", 3, NULL);
	p = tb_write(&t, "names.tar", 1);
	CU_ASSERT_EQUAL_FATAL(img_archive_open(p, &a, &e), 0);
	CU_ASSERT_EQUAL(img_archive_count(a), 5);
	CU_ASSERT_PTR_NOT_NULL(img_archive_find(a, longname));
	CU_ASSERT_PTR_NULL(img_archive_find(a, "checkpoint/truncated-name"));
	CU_ASSERT_PTR_NOT_NULL(img_archive_find(a, "checkpoint/core-1.img"));
	CU_ASSERT_EQUAL(img_archive_find(a, "checkpoint/inventory.img")->size, 3);
	CU_ASSERT_STRING_EQUAL(img_archive_layout(a), "podman");
	CU_ASSERT_STRING_EQUAL(img_archive_images(a), "checkpoint");
	img_archive_unref(a);
	/* through the folder interface */
	CU_ASSERT_EQUAL_FATAL(img_dir_open(p, &d, &e), 0);
	CU_ASSERT_EQUAL(img_dir_get(d, "core-1.img", &s, &e), 0);
	CU_ASSERT(s->size == 4 && !memcmp(s->data, "core", 4));
	CU_ASSERT_PTR_NOT_NULL(strstr(s->name, "names.tar:checkpoint/core-1.img"));
	img_src_unref(s);
	CU_ASSERT_EQUAL(img_dir_get(d, "inventory.img", &s, &e), 0);
	CU_ASSERT(s->size == 3 && !memcmp(s->data, "inv", 3));
	img_src_unref(s);
	CU_ASSERT_EQUAL(img_dir_get_extra(d, "config.dump", &s, &e), 0);
	img_src_unref(s);
	CU_ASSERT_EQUAL(img_dir_get(d, "config.dump", &s, &e), -ENOENT);
	CU_ASSERT_EQUAL(img_dir_get_extra(d, "../etc/passwd", &s, &e), -EINVAL);
	img_dir_close(d);
}

static int count_member(void *arg, const char *name, uint64_t size)
{
	(void)name;
	(void)size;
	(*(int *)arg)++;
	return 0;
}

static void test_links_and_parent(void)
{
	struct tb t = { 0 };
	struct img_err e = { 0 };
	struct img_dir *d, *p;
	struct img_src *s;
	const char *path;
	int n = 0;

	tb_member(&t, "checkpoint/inventory.img", '0', "current", 7, NULL);
	tb_member(&t, "checkpoint/pages-1.img", '0', "pagedata", 8, NULL);
	tb_member(&t, "checkpoint/pages-2.img", '1', NULL, 0, "checkpoint/pages-1.img");
	tb_member(&t, "checkpoint/pagemap-1.img", '2', NULL, 0, "pages-1.img");
	tb_member(&t, "checkpoint/parent", '2', NULL, 0, "../pre-checkpoint");
	tb_member(&t, "pre-checkpoint/inventory.img", '0', "previous", 8, NULL);
	tb_member(&t, "pre-checkpoint/parent", '2', NULL, 0, "../missing");
	path = tb_write(&t, "links.tar", 1);
	CU_ASSERT_EQUAL_FATAL(img_dir_open(path, &d, &e), 0);
	CU_ASSERT_EQUAL(img_dir_get(d, "pages-2.img", &s, &e), 0);
	CU_ASSERT(s->size == 8 && !memcmp(s->data, "pagedata", 8));
	img_src_unref(s);
	CU_ASSERT_EQUAL(img_dir_get(d, "pagemap-1.img", &s, &e), 0);
	CU_ASSERT(s->size == 8 && !memcmp(s->data, "pagedata", 8));
	img_src_unref(s);
	img_dir_each(d, count_member, &n);
	CU_ASSERT_EQUAL(n, 4); /* inventory, pages-1, pages-2, pagemap-1; parent is a folder */
	CU_ASSERT_EQUAL_FATAL(img_dir_parent(d, &p, &e), 0);
	CU_ASSERT_EQUAL(p->depth, 1);
	CU_ASSERT_EQUAL(img_dir_get(p, "inventory.img", &s, &e), 0);
	CU_ASSERT(s->size == 8 && !memcmp(s->data, "previous", 8));
	img_src_unref(s);
	/* the parent's parent is not in the archive */
	{
		struct img_dir *pp;

		CU_ASSERT_EQUAL(img_dir_parent(p, &pp, &e), -ENOTDIR);
		CU_ASSERT_PTR_NULL(pp);
		CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not a folder of the archive"));
	}
	img_dir_close(p);
	img_dir_close(d);
}

/* Pseudo-random bytes that deflate compresses a little: a tar.gz with several access points. */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)((seed >> 16) & 0x3f);
	}
}

static void write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static void test_gzip_random_access(void)
{
	size_t big = 12u << 20;
	uint8_t *data = malloc(big), buf[8192];
	struct img_pack_opts o = { .layout = IMG_PACK_PODMAN, .gzip = 1 };
	struct img_archive_stats st;
	struct img_err e = { 0 };
	struct img_src *s, *meta;
	char dir[128], tgz[160];
	struct img_dir *d;

	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	snprintf(dir, sizeof(dir), "%s/set", tmpdir);
	mkdir(dir, 0755);
	fill(data, big, 7);
	write_file(dir, "inventory.img", "inv", 3);
	write_file(dir, "pages-1.img", data, big);
	write_file(dir, "core-1.img", data + 5, 3000);
	snprintf(tgz, sizeof(tgz), "%s/set.tar.gz", tmpdir);
	CU_ASSERT_EQUAL_FATAL(img_archive_pack(dir, tgz, &o, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_dir_open(tgz, &d, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_dir_get(d, "pages-1.img", &s, &e), 0);
	CU_ASSERT_EQUAL(s->how, IMG_SRC_WINDOW); /* never inflated whole */
	CU_ASSERT_PTR_NULL(s->data);
	CU_ASSERT_EQUAL(s->size, big);
	/* offsets all over the member, backwards and forwards */
	for (int i = 0; i < 200; i++) {
		uint64_t off = ((uint64_t)i * 7919 * 4096 + (uint64_t)i * 13) % (big - sizeof(buf));

		CU_ASSERT_EQUAL_FATAL(img_src_pread(s, buf, sizeof(buf), off, &e), 0);
		CU_ASSERT(!memcmp(buf, data + off, sizeof(buf)));
	}
	CU_ASSERT_EQUAL(img_src_pread(s, buf, 10, big - 5, &e), -EINVAL);
	img_src_unref(s);
	CU_ASSERT_EQUAL(img_dir_get(d, "core-1.img", &meta, &e), 0);
	CU_ASSERT(meta->data && meta->size == 3000 && !memcmp(meta->data, data + 5, 3000));
	img_src_unref(meta);
	img_dir_close(d);

	/* what one read costs: at most a span and a deflate block (small for this data) more than it returns */
	{
		struct img_archive *a;
		const struct img_tar_member *m;
		uint64_t before;

		CU_ASSERT_EQUAL_FATAL(img_archive_open(tgz, &a, &e), 0);
		img_archive_stats(a, &st);
		CU_ASSERT(st.compressed);
		CU_ASSERT(st.points >= 8); /* 12 MiB, 1 MiB spans at least */
		CU_ASSERT_EQUAL(st.inflated, 0);
		CU_ASSERT(st.tar_size > big);
		/* small members were kept while the index was built: reading them inflates nothing */
		m = img_archive_find(a, "checkpoint/core-1.img");
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL(img_archive_src(a, m, &meta, &e), 0);
		CU_ASSERT(meta->size == 3000 && !memcmp(meta->data, data + 5, 3000));
		img_src_unref(meta);
		img_archive_stats(a, &st);
		CU_ASSERT_EQUAL(st.inflated, 0);
		m = img_archive_find(a, "checkpoint/pages-1.img");
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL(img_archive_read(a, m, 10u << 20, buf, 4096, &e), 0);
		CU_ASSERT(!memcmp(buf, data + (10u << 20), 4096));
		img_archive_stats(a, &st);
		CU_ASSERT(st.inflated <= 4096 + st.span + 65536);
		/* reading on inflates only what is read */
		before = st.inflated;
		CU_ASSERT_EQUAL(img_archive_read(a, m, (10u << 20) + 4096, buf, 4096, &e), 0);
		img_archive_stats(a, &st);
		CU_ASSERT_EQUAL(st.inflated - before, 4096);
		img_archive_unref(a);
	}
	free(data);
}

/* A plain tar opens by reading its headers only: members are slices of the mapping. */
static void test_plain_zero_copy(void)
{
	struct img_pack_opts o = { .layout = IMG_PACK_PLAIN, .gzip = 0 };
	struct img_err e = { 0 };
	char dir[128], tar[160];
	struct img_dir *d;
	struct img_src *s;
	uint8_t page[4096];

	snprintf(dir, sizeof(dir), "%s/plain", tmpdir);
	mkdir(dir, 0755);
	fill(page, sizeof(page), 3);
	write_file(dir, "inventory.img", "inv", 3);
	write_file(dir, "pages-1.img", page, sizeof(page));
	snprintf(tar, sizeof(tar), "%s/plain.tar", tmpdir);
	CU_ASSERT_EQUAL_FATAL(img_archive_pack(dir, tar, &o, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_dir_open(tar, &d, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_dir_get(d, "pages-1.img", &s, &e), 0);
	CU_ASSERT_EQUAL(s->how, IMG_SRC_BORROW);
	CU_ASSERT_PTR_NOT_NULL(s->owner);
	CU_ASSERT(s->size == sizeof(page) && !memcmp(s->data, page, sizeof(page)));
	img_dir_close(d); /* the member outlives its folder */
	CU_ASSERT(!memcmp(s->data, page, sizeof(page)));
	img_src_unref(s);
}

/* An unpacked Podman archive opens as a folder: images from checkpoint/, CRIU's work files from the top. */
static void test_container_folder(void)
{
	struct img_pack_opts o = { .layout = IMG_PACK_PODMAN, .gzip = 1 };
	struct img_pack_file meta[] = { { "config.dump", NULL }, { "stats-dump", NULL } };
	struct img_err e = { 0 };
	char dir[128], tgz[160], un[160], cfg[160];
	struct img_dir *d;
	struct img_src *s;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/ctr", tmpdir);
	mkdir(dir, 0755);
	write_file(dir, "inventory.img", "inv", 3);
	write_file(dir, "core-1.img", "core", 4);
	snprintf(cfg, sizeof(cfg), "%s/cfg", tmpdir);
	write_file(tmpdir, "cfg", "{}", 2);
	meta[0].path = meta[1].path = cfg;
	o.files = meta;
	o.nfiles = 2;
	snprintf(tgz, sizeof(tgz), "%s/ctr.tgz", tmpdir);
	snprintf(un, sizeof(un), "%s/ctr-unpacked", tmpdir);
	CU_ASSERT_EQUAL_FATAL(img_archive_pack(dir, tgz, &o, &e), 0);
	CU_ASSERT_EQUAL_FATAL(img_archive_unpack(tgz, un, &e), 0);
	CU_ASSERT_EQUAL(img_archive_unpack(tgz, un, &e), -EEXIST);
	for (int pass = 0; pass < 2; pass++) {
		CU_ASSERT_EQUAL_FATAL(img_dir_open(pass ? tgz : un, &d, &e), 0);
		CU_ASSERT_EQUAL(img_dir_get(d, "core-1.img", &s, &e), 0);
		CU_ASSERT(s->size == 4 && !memcmp(s->data, "core", 4));
		img_src_unref(s);
		CU_ASSERT_EQUAL(img_dir_get(d, "stats-dump", &s, &e), 0);
		CU_ASSERT(s->size == 2);
		img_src_unref(s);
		CU_ASSERT_EQUAL(img_dir_get_extra(d, "config.dump", &s, &e), 0);
		img_src_unref(s);
		n = 0;
		img_dir_each(d, count_member, &n);
		CU_ASSERT_EQUAL(n, 2);
		img_dir_close(d);
	}
}

static CU_TestInfo tests[] = {
	{ "header fields", test_header },
	{ "header checksums", test_checksum },
	{ "octal and base-256 numbers", test_numbers },
	{ "pax records", test_pax },
	{ "member names", test_names },
	{ "GNU long names and pax overrides", test_long_names },
	{ "links, hardlinks and the parent inside the archive", test_links_and_parent },
	{ "tar.gz members read at any offset", test_gzip_random_access },
	{ "plain tar members are slices", test_plain_zero_copy },
	{ "unpacked container layout as a folder", test_container_folder },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE("archive", suite_init, suite_clean, tests)
