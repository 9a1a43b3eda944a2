/*
 * libimg: container checkpoint archives (Podman, CRI-O, Kubernetes,
 * containerd): tar and tar.gz read in place, packed from and unpacked to
 * folders.  img_dir_open opens them like directories; this header is for
 * what only archives have (members, layouts, packing) and for tests.
 */
#ifndef IMG_ARCHIVE_H
#define IMG_ARCHIVE_H

#include "base.h"
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a hostile archive can cost, at most. */
#define IMG_TAR_NAME_MAX    4096            /* bytes of a member name or link target */
#define IMG_TAR_PAX_MAX     (1u << 20)      /* bytes of one pax extended header */
#define IMG_TAR_PAX_RECORDS 256             /* records in one pax extended header */
#define IMG_TAR_EXT_CHAIN   8               /* extended headers (pax, GNU long names) before a member */
#define IMG_TAR_MEMBERS_MAX 262144
#define IMG_GZ_FLOOR        ((uint64_t)256 << 20) /* a tar.gz may always inflate to this much, */
#define IMG_GZ_RATIO        200                   /* or to this many times its size, */
#define IMG_GZ_MAX          ((uint64_t)64 << 30)  /* but never to more than this */
#define IMG_ARCHIVE_INMEM   ((size_t)1 << 20)     /* tar.gz members this small are inflated whole */

/* The format of the folder readers for archives, for img_dir_register; NULL ends the list. */
extern const struct img_dir_format *const img_archive_formats[];

/* One 512-byte tar header block, parsed. */
enum { IMG_TAR_V7 = 1, IMG_TAR_USTAR, IMG_TAR_GNU };
struct img_tar_hdr {
	char name[257];  /* ustar: prefix "/" name */
	char link[101];
	uint64_t size;
	uint64_t mtime;
	uint32_t mode;
	char type;       /* typeflag as written ('0', '5', 'x', 'L', ...) */
	int format;      /* IMG_TAR_V7, IMG_TAR_USTAR, IMG_TAR_GNU */
};

/*
 * Parse a header block: 0, 1 for an all-zero block (the end-of-archive
 * marker), or -EINVAL with a message (bad checksum, a size that is not a
 * number...) in err.
 */
int img_tar_hdr_parse(const uint8_t b[512], struct img_tar_hdr *h, struct img_err *err);
/* A numeric field: octal (space or NUL terminated) or GNU base-256. -EINVAL, -ERANGE past 2^63. */
int img_tar_number(const uint8_t *f, size_t n, uint64_t *v);

/* What a pax extended header says about the next member. */
struct img_tar_pax {
	char path[IMG_TAR_NAME_MAX + 1];
	char linkpath[IMG_TAR_NAME_MAX + 1];
	uint64_t size;
	unsigned has_path : 1, has_linkpath : 1, has_size : 1;
};
/* Parse pax records ("LEN KEY=VALUE\n"...) into x; keys other than path, linkpath and size are skipped. */
int img_tar_pax_parse(const uint8_t *p, size_t n, struct img_tar_pax *x, struct img_err *err);

/*
 * A member name made canonical: "./" and empty components dropped, no
 * trailing "/".  Refuses absolute names, "..", NUL and over-long names.
 * The result may be "" (the top folder itself).
 */
int img_tar_name_clean(const char *name, char *out, size_t len, struct img_err *err);

/* An opened archive: its members, checked. */
struct img_archive;

enum { IMG_TAR_REG = 1, IMG_TAR_DIR, IMG_TAR_SYMLINK, IMG_TAR_HARDLINK };
struct img_tar_member {
	const char *path;  /* canonical, see img_tar_name_clean */
	const char *link;  /* symlinks: the target as written; hardlinks: the target's canonical path */
	int kind;          /* IMG_TAR_REG... */
	uint32_t mode;
	uint64_t size;     /* bytes of data; for hardlinks the target's */
	uint64_t mtime;
	uint64_t hdr_off;  /* offset of the member's first header in the tar stream */
	uint64_t data_off; /* offset of its data in the tar stream (the target's for hardlinks) */
};

/*
 * Open a tar or tar.gz and check every member (see the limits above): names
 * with "..", absolute names, links out of the tree or used as folders, device
 * files, duplicates, sizes past the end, bad checksums, truncation and gzip
 * bombs are refused with the member and its offset.
 */
int img_archive_open(const char *path, struct img_archive **out, struct img_err *err);
struct img_archive *img_archive_ref(struct img_archive *a);
void img_archive_unref(struct img_archive *a);
/* Members in archive order. */
size_t img_archive_count(const struct img_archive *a);
const struct img_tar_member *img_archive_member(const struct img_archive *a, size_t i);
/* A member by canonical path, links not followed; NULL when there is none. */
const struct img_tar_member *img_archive_find(const struct img_archive *a, const char *path);
/* Read member data (zero-copy slices of a plain tar; inflated from the nearest access point of a tar.gz). */
int img_archive_read(struct img_archive *a, const struct img_tar_member *m, uint64_t off, void *buf, size_t n,
		     struct img_err *err);
/* The data of a regular member as a source (a slice, a buffer or a window). */
int img_archive_src(struct img_archive *a, const struct img_tar_member *m, struct img_src **out,
		    struct img_err *err);

/* "podman", "containerd", "checkpoint" (checkpoint/ alone) or "plain" (a tar of an image folder). */
const char *img_archive_layout(const struct img_archive *a);
/* The folder holding the images: "checkpoint", "" (the top), or another folder. */
const char *img_archive_images(const struct img_archive *a);

struct img_archive_stats {
	int compressed;       /* tar.gz */
	uint64_t file_size;   /* bytes of the archive file */
	uint64_t tar_size;    /* bytes of the tar stream */
	uint64_t points;      /* tar.gz: access points in the index */
	uint64_t span;        /* tar.gz: uncompressed bytes between access points, at least */
	uint64_t index_bytes; /* tar.gz: memory the index holds */
	uint64_t inflated;    /* tar.gz: bytes inflated since the index was built */
};
void img_archive_stats(const struct img_archive *a, struct img_archive_stats *st);

/* In the container layout, CRIU's work-dir files (stats-dump, dump.log...) lie beside checkpoint/. */
int img_layout_root_file(const char *name);

/* Packing a folder into an archive, and unpacking one. */
enum { IMG_PACK_PODMAN = 0, IMG_PACK_PLAIN };
struct img_pack_file {
	const char *name;  /* its name in the archive, at the top ("config.dump") */
	const char *path;  /* where to read it */
};
struct img_pack_opts {
	int layout;        /* IMG_PACK_PODMAN: checkpoint/ and the metadata files; IMG_PACK_PLAIN: images at the top */
	int gzip;          /* 1: tar.gz, 0: tar, -1: from the name (.gz, .tgz) */
	int level;         /* gzip level, 0: the default (6) */
	const struct img_pack_file *files;
	size_t nfiles;
};
/*
 * Pack dir, an image folder or a folder in the container layout (with
 * checkpoint/), into out: written to a temporary name and renamed.
 */
int img_archive_pack(const char *dir, const char *out, const struct img_pack_opts *o, struct img_err *err);
/*
 * Unpack an archive into dir (which must not exist, or be empty): every
 * member is checked first, files get modes 0644 or 0755, nothing is written
 * outside dir; the tree is built under a temporary name and renamed.
 */
int img_archive_unpack(const char *archive, const char *dir, struct img_err *err);

#ifdef __cplusplus
}
#endif
#endif
