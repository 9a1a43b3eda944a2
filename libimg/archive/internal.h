/* What the archive readers and writers share inside libimg. */
#ifndef IMG_ARCHIVE_INTERNAL_H
#define IMG_ARCHIVE_INTERNAL_H

#include "img/archive.h"

/* The header checksum: bytes summed unsigned (or signed), the checksum field counted as spaces. */
uint32_t img_tar_checksum(const uint8_t b[512], int sign);

/*
 * Resolve target against folder base, both canonical, lexically ("..", "."
 * and empty components handled): -1 when it climbs out of the top.
 */
int img_tar_path_resolve(const char *base, const char *target, char *out, size_t len);
/* The folder part of a canonical path ("" at the top). */
void img_tar_path_dir(const char *path, char *out, size_t len);

/*
 * A gzip stream (one or more gzip members) over a mapped file, read once in
 * order to build an index of access points, then read at any offset.
 */
struct img_gz;
int img_gz_open(struct img_src *file, struct img_gz **out, struct img_err *err);
void img_gz_free(struct img_gz *g);
/*
 * The first pass: the next n bytes of the stream into buf (NULL: skip them),
 * checking CRCs and the inflation caps, and recording access points.
 * *got < n only at the end of the stream.
 */
int img_gz_next(struct img_gz *g, uint8_t *buf, uint64_t n, uint64_t *got, struct img_err *err);
/* The rest of the first pass: inflate to the end, check the trailers. */
int img_gz_finish(struct img_gz *g, struct img_err *err);
/* Bytes [off, off+n) of the stream, after the first pass. */
int img_gz_pread(struct img_gz *g, uint64_t off, void *buf, size_t n, struct img_err *err);
void img_gz_stats(const struct img_gz *g, struct img_archive_stats *st);

/* zlib's allocation through libimg's allocator (z_stream.zalloc and zfree). */
void *img_zalloc(void *opaque, unsigned items, unsigned size);
void img_zfree(void *opaque, void *p);

/* A tar stream written to fd, through gzip when asked. */
struct img_tar_writer;
int img_tar_writer_open(int fd, const char *name, int gzip, int level, struct img_tar_writer **out,
			struct img_err *err);
int img_tar_write_dir(struct img_tar_writer *w, const char *path, uint64_t mtime, struct img_err *err);
int img_tar_write_symlink(struct img_tar_writer *w, const char *path, const char *target, uint64_t mtime,
			  struct img_err *err);
int img_tar_write_file(struct img_tar_writer *w, const char *path, uint32_t mode, uint64_t mtime,
		       struct img_src *data, struct img_err *err);
/* The end marker, the gzip trailer, and everything flushed (fd stays open). */
int img_tar_writer_close(struct img_tar_writer *w, struct img_err *err);
void img_tar_writer_free(struct img_tar_writer *w);

struct img_archive {
	int refs;
	char *path;
	struct img_src *file;       /* the archive, mapped */
	struct img_gz *gz;          /* NULL for a plain tar */
	struct img_tar_member *m;   /* in archive order */
	size_t n, cap;
	uint32_t *byname;           /* member indexes sorted by path */
	struct img_src **cache;     /* tar.gz: small members kept inflated, by index */
	uint64_t cached;            /* bytes in the cache */
	struct img_arena names;
	uint64_t tar_size;
	const char *images;         /* "checkpoint", "", ... */
	const char *layout;
	const char *where;          /* after offsets in messages: "" or " of the uncompressed tar" */
};

/* The checks and the layout, once the members are listed. */
int img_archive_check(struct img_archive *a, struct img_err *err);
/* The path a path leads to once the symlinks of its last component are followed. */
int img_archive_follow(const struct img_archive *a, const char *path, char *out, size_t len, struct img_err *err);
/* A folder of the archive: a folder member, or the folder of other members. */
int img_archive_is_dir(const struct img_archive *a, const char *path);
/* The member a path names, following symlinks and hardlinks inside the archive; NULL when none. */
const struct img_tar_member *img_archive_resolve(const struct img_archive *a, const char *path,
						 struct img_err *err);

#endif
