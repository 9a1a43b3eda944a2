/* Listing a folder without opendir(): its DIR is allocated by the C library, out of the allocator's reach. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img/base.h"
#include "priv.h"

/* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, the name */
#define DENT_RECLEN 16
#define DENT_NAME 19

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void img_listdir_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		img_free(names[i]);
	img_free(names);
}

int img_listdir(int dfd, char ***names, size_t *n)
{
	char buf[32768], **v = NULL;
	size_t cnt = 0, cap = 0;
	ssize_t got;
	int r = 0;

	if (lseek(dfd, 0, SEEK_SET) < 0)
		return -errno;
	while (!r && (got = getdents64(dfd, buf, sizeof(buf))) > 0) {
		for (ssize_t pos = 0; pos < got && !r;) {
			uint16_t reclen = img_get_u16((const uint8_t *)buf + pos + DENT_RECLEN);
			const char *name = buf + pos + DENT_NAME;

			if (reclen <= DENT_NAME || reclen > got - pos) {
				r = -EIO;
				break;
			}
			pos += reclen;
			if (!strcmp(name, ".") || !strcmp(name, ".."))
				continue;
			if (cnt == cap) {
				size_t nc = cap ? cap * 2 : 64;
				char **nv = img_realloc(v, nc * sizeof(*nv));

				if (!nv) {
					r = -ENOMEM;
					break;
				}
				v = nv;
				cap = nc;
			}
			v[cnt] = img_strndup(name, strnlen(name, (size_t)(reclen - DENT_NAME)));
			if (!v[cnt])
				r = -ENOMEM;
			else
				cnt++;
		}
	}
	if (!r && got < 0)
		r = -errno;
	if (r) {
		img_listdir_free(v, cnt);
		return r;
	}
	if (cnt)
		img_sort(v, cnt, sizeof(*v), cmp_name);
	*names = v;
	*n = cnt;
	return 0;
}

int img_listdir_path(const char *path, char ***names, size_t *n)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = img_listdir(fd, names, n);
	close(fd);
	return r;
}
