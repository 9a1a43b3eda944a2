/*
 * Fuzz target: a container checkpoint archive.  Built twice: as "tar" the
 * input is the archive file as it is (a tar, or a tar.gz when it starts with
 * gzip's magic); as "targz" (-DFUZZ_GZIP) the input is a tar stream that the
 * target compresses first, at a level the first byte picks and in two gzip
 * members when the second byte says where to cut, so that the inflater and
 * its index of access points see valid gzip over hostile tar.
 *
 * The archive is opened as an image folder, every member read at its start
 * and end, the parent chain followed; the checkpoint model is built on it;
 * and it is unpacked into a scratch folder, after which nothing may stand
 * beside that folder and nothing in it may be a link out or a device.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "fuzz.h"
#include "img/archive.h"
#include "img/model.h"

static int each(void *arg, const char *name, uint64_t size)
{
	struct img_dir *d = arg;
	struct img_err e = { 0 };
	struct img_src *s;
	uint8_t buf[64];

	if (!img_dir_get(d, name, &s, &e)) {
		if (s->size) {
			img_src_pread(s, buf, s->size < sizeof(buf) ? s->size : sizeof(buf), 0, &e);
			img_src_pread(s, buf, s->size < sizeof(buf) ? s->size : sizeof(buf),
				      s->size > sizeof(buf) ? s->size - sizeof(buf) : 0, &e);
		}
		img_src_unref(s);
	}
	(void)size;
	return 0;
}

#ifdef FUZZ_GZIP
/* gzip the input: one member, or two cut where the second byte says. */
static int gzip_to(int fd, const uint8_t *p, size_t n, int level, size_t cut)
{
	size_t parts[2] = { cut < n ? cut : n, n - (cut < n ? cut : n) };
	uint8_t out[16384];

	for (int i = 0; i < 2; i++) {
		z_stream z;
		int r;

		if (i && !parts[1])
			break;
		memset(&z, 0, sizeof(z));
		if (deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		z.next_in = (Bytef *)(uintptr_t)p;
		z.avail_in = (uInt)parts[i];
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			r = deflate(&z, Z_FINISH);
			if (write(fd, out, sizeof(out) - z.avail_out) < 0)
				r = Z_STREAM_ERROR;
		} while (r == Z_OK);
		deflateEnd(&z);
		if (r != Z_STREAM_END)
			return -1;
		p += parts[i];
	}
	return 0;
}
#endif

/* Nothing was written beside out, and nothing inside it is a link or a device. */
static void check_tree(const char *path, int top)
{
	struct dirent *de;
	DIR *d = opendir(path);

	if (!d)
		return;
	while ((de = readdir(d))) {
		char sub[4096];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (top && strcmp(de->d_name, "out"))
			fuzz_fail("unpack wrote '%s' beside its output folder", de->d_name);
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (lstat(sub, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			check_tree(sub, 0);
		else if (S_ISLNK(st.st_mode)) {
			char to[4096];
			ssize_t k = readlink(sub, to, sizeof(to) - 1);

			to[k > 0 ? k : 0] = 0;
			if (to[0] == '/')
				fuzz_fail("unpack made a symlink '%s' to the absolute path '%s'", sub, to);
		} else if (!S_ISREG(st.st_mode))
			fuzz_fail("unpack made '%s', which is not a file, folder or link", sub);
	}
	closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_err e = { 0 };
	struct img_dir *d, *p;
	struct img_ckpt *ck;
	char path[64], out[4096];
	const char *tmp;
	int fd;

#ifdef FUZZ_GZIP
	if (size < 2)
		return 0;
	int level = data[0] % 10;
	size_t cut = (size_t)data[1] * 512;

	data += 2;
	size -= 2;
#endif
	fd = memfd_create("fuzz", 0);
	if (fd < 0)
		return 0;
#ifdef FUZZ_GZIP
	if (gzip_to(fd, data, size, level, cut)) {
		close(fd);
		return 0;
	}
#else
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
#endif
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	fuzz_begin(size);
	if (!img_dir_open(path, &d, &e)) {
		img_dir_each(d, each, d);
		while (!img_dir_parent(d, &p, &e)) {
			img_dir_close(d);
			d = p;
			img_dir_each(d, each, d);
		}
		img_dir_close(d);
	}
	if (!img_ckpt_open(path, IMG_CKPT_TOLERANT, &ck, &e))
		img_ckpt_close(ck);
	fuzz_budget();
	tmp = fuzz_tmpdir();
	snprintf(out, sizeof(out), "%s/out", tmp);
	img_archive_unpack(path, out, &e);
	check_tree(tmp, 1);
	fuzz_rmtree(tmp);
	close(fd);
	fuzz_end();
	return 0;
}
