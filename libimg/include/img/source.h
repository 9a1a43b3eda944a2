/* libimg: byte sources (a mapped file, memory, stdin) and image folders. */
#ifndef IMG_SOURCE_H
#define IMG_SOURCE_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A readable byte range: a file mapped with mmap (read into memory when it
 * cannot be mapped), a buffer, or all of stdin.  Reference counted: image
 * readers keep pointers into data while they hold a reference.
 *
 * A windowed source (IMG_SRC_WINDOW: a large member of a compressed archive)
 * has no data pointer until img_src_load: its bytes are read with
 * img_src_pread, which works on every source.
 */
struct img_src;
struct img_src_ops {
	int (*pread)(struct img_src *s, void *buf, size_t n, uint64_t off, struct img_err *err);
	void (*release)(struct img_src *s);
	/* Optional: where the bytes at off lie mapped, and how many follow there (see img_src_direct). */
	const uint8_t *(*direct)(struct img_src *s, uint64_t off, uint64_t *n);
};

struct img_src {
	const uint8_t *data;  /* NULL for a windowed source not loaded */
	size_t size;
	char *name;       /* what messages call it: the path as given, or ARCHIVE:MEMBER */
	int refs;
	int how;          /* IMG_SRC_MMAP, IMG_SRC_HEAP, IMG_SRC_BORROW, IMG_SRC_WINDOW */
	void *owner;      /* for BORROW: the source this one lives in (held) */
	const struct img_src_ops *ops; /* for WINDOW */
	void *priv;                    /* for WINDOW: the ops' state */
};

enum { IMG_SRC_MMAP = 1, IMG_SRC_HEAP, IMG_SRC_BORROW, IMG_SRC_WINDOW };

int img_src_open(const char *path, struct img_src **out, struct img_err *err);
/* Read a whole stream (stdin, a pipe) into memory, at most max bytes. */
int img_src_read_fd(int fd, const char *name, size_t max, struct img_src **out,
		    struct img_err *err);
/* A source over memory: copied when copy is set, else borrowed (the caller keeps it alive). */
struct img_src *img_src_mem(const void *p, size_t n, const char *name, int copy);
/* A source over a part of another one; holds a reference to it. */
struct img_src *img_src_slice(struct img_src *parent, size_t off, size_t n, const char *name);
/* A windowed source of size bytes; ops->release frees priv when the last reference goes. */
struct img_src *img_src_window(uint64_t size, const char *name, const struct img_src_ops *ops, void *priv);
/*
 * A source made of pieces of another one, end to end (a linux-cr stream's
 * page arrays seen as one pages file): windowed, but each piece is reachable
 * in place through img_src_direct when base is mapped.  Holds a reference
 * to base; the pieces are copied.
 */
struct img_src_piece {
	uint64_t off, len;        /* in base, or in src */
	struct img_src *src;      /* NULL: base; another source otherwise (a reference is held) */
};
struct img_src *img_src_gather(struct img_src *base, const struct img_src_piece *p, size_t n, const char *name);
/*
 * The bytes at off in place: a pointer into the source's memory (or into the
 * mapped source a gathered piece lies in) and in *n how many follow there;
 * NULL when they can only be copied out with img_src_pread.
 */
const uint8_t *img_src_direct(struct img_src *s, uint64_t off, uint64_t *n);
/* A source that takes over p, allocated with img_malloc (freed even on failure). */
struct img_src *img_src_heap(void *p, size_t n, const char *name);
struct img_src *img_src_ref(struct img_src *s);
void img_src_unref(struct img_src *s);
/* Copy n bytes at off into buf; reading past the end is an error. */
int img_src_pread(struct img_src *s, void *buf, size_t n, uint64_t off, struct img_err *err);
/* Make s->data valid: a windowed source is read into memory, refused past max bytes. */
int img_src_load(struct img_src *s, size_t max, struct img_err *err);
/*
 * Open a file, or a member of a checkpoint archive written ARCHIVE:MEMBER
 * ("ck.tar.gz:checkpoint/core-1.img", or "ck.tar:core-1.img" for a member of
 * its image folder).  A path that exists is always the file itself.
 */
int img_src_open_spec(const char *spec, struct img_src **out, struct img_err *err);
/*
 * Open a path an image names (untrusted) under a root folder as if the root
 * were "/": ".." stops at the root, absolute symlinks start again from it,
 * so that no component, link or ".." leads out of it.  Only regular files.
 */
int img_src_open_under(const char *root, const char *path, struct img_src **out, struct img_err *err);
/*
 * The bytes [p, p+n) of a mapped source are not needed for now: the pages
 * wholly inside leave this process's resident memory and are read again from
 * the file if touched.  Does nothing for sources held in memory.
 */
void img_src_release(struct img_src *s, const void *p, size_t n);

/*
 * An image folder: a directory, or a container checkpoint archive read in
 * place.  Members are looked up by their plain name ("core-1.img").
 */
struct img_dir;

struct img_dir_ops {
	const char *name;
	int (*get)(struct img_dir *d, const char *member, struct img_src **out, struct img_err *err);
	/* Calls fn for each member name, in sorted order; stops when fn returns non-zero. */
	int (*each)(struct img_dir *d, int (*fn)(void *arg, const char *member, uint64_t size),
		    void *arg);
	/* The folder named by the "parent" link, or NULL with -ENOENT. */
	int (*parent)(struct img_dir *d, struct img_dir **out, struct img_err *err);
	/* Any other file of the archive (config.dump, spec.dump, ...), by path. */
	int (*get_extra)(struct img_dir *d, const char *path, struct img_src **out, struct img_err *err);
	void (*close)(struct img_dir *d);
};

struct img_dir {
	const struct img_dir_ops *ops;
	char *path;     /* as given by the user */
	int depth;      /* 0, or how many parent links were followed to get here */
	void *priv;
};

/*
 * A reader of one kind of folder bids on a path: the highest bid opens it
 * (libarchive's way).  Directories are opened directly; archives bid on their
 * first bytes.  The built-in readers (tar, tar.gz) register on first use.
 */
struct img_dir_format {
	const char *name;
	int (*bid)(const char *path, const uint8_t *head, size_t n);
	int (*open)(const char *path, struct img_dir **out, struct img_err *err);
};
int img_dir_register(const struct img_dir_format *f);

int img_dir_open(const char *path, struct img_dir **out, struct img_err *err);
int img_dir_open_fs(const char *path, struct img_dir **out, struct img_err *err);
int img_dir_get(struct img_dir *d, const char *member, struct img_src **out, struct img_err *err);
int img_dir_has(struct img_dir *d, const char *member);
int img_dir_each(struct img_dir *d, int (*fn)(void *arg, const char *member, uint64_t size), void *arg);
/*
 * The folder the "parent" link leads to.  -ENOENT with err left empty when
 * there is no link; a link that leads nowhere fills err (and returns the
 * errno of the lookup, ENOENT too).
 */
int img_dir_parent(struct img_dir *d, struct img_dir **out, struct img_err *err);
int img_dir_get_extra(struct img_dir *d, const char *path, struct img_src **out, struct img_err *err);
void img_dir_close(struct img_dir *d);
/* A second handle on an open folder, for an API that takes ownership of one: closing it leaves d open. */
int img_dir_borrow(struct img_dir *d, struct img_dir **out, struct img_err *err);
/* A plain member name: not empty, no '/', not "." or "..". */
int img_dir_plain_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
