/*
 * libFuzzer target: bytes taken as an archive (tar or tar.gz), opened as an
 * image folder, every image member read at its end, the parent chain followed.
 * Build it with clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE
 * -Ilibimg/include from this file, the files of libimg/archive, and
 * libimg/base.c, io.c and dir.c, linked with -lz.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "img/archive.h"

static int each(void *arg, const char *name, uint64_t size)
{
	struct img_dir *d = arg;
	struct img_err e = { 0 };
	struct img_src *s;
	uint8_t buf[64];

	if (!img_dir_get(d, name, &s, &e)) {
		if (s->size)
			img_src_pread(s, buf, s->size < sizeof(buf) ? s->size : sizeof(buf), s->size > 64 ? s->size - 64 : 0, &e);
		img_src_unref(s);
	}
	(void)size;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct img_err e = { 0 };
	struct img_dir *d, *p;
	char path[64];
	int fd = memfd_create("fuzz", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (!img_dir_open(path, &d, &e)) {
		img_dir_each(d, each, d);
		while (!img_dir_parent(d, &p, &e)) {
			img_dir_close(d);
			d = p;
			img_dir_each(d, each, d);
		}
		img_dir_close(d);
	}
	close(fd);
	return 0;
}
