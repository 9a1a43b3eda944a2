/* What the layers of libimg share that is not part of its interface. */
#ifndef IMG_PRIV_H
#define IMG_PRIV_H

#include <stddef.h>

/*
 * The names in the folder open at dfd, sorted, without "." and "..".  Read
 * with getdents64 rather than opendir, so that every allocation goes through
 * libimg's allocator.  0 or -errno; free with img_listdir_free.
 */
int img_listdir(int dfd, char ***names, size_t *n);
/* The same for a folder by path. */
int img_listdir_path(const char *path, char ***names, size_t *n);
void img_listdir_free(char **names, size_t n);

#endif
