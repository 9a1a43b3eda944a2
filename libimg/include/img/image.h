/* libimg: CRIU image files — framing, entries, extra payloads, reading and writing. */
#ifndef IMG_IMAGE_H
#define IMG_IMAGE_H

#include "base.h"
#include "json.h"
#include "pb.h"
#include "schema.h"
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMG_PAGE_SIZE 4096

/*
 * One entry: u32 size, a protobuf payload, and for some kinds raw bytes after
 * it (the extra payload: pipe data, queued packets, ghost file contents...).
 */
struct img_entry {
	const struct img_msgdesc *desc; /* pagemap_head vs pagemap_entry, ghost chunks */
	struct img_msg *msg;            /* NULL for vaddr-pages entries */
	uint64_t off;                   /* file offset of the size word (or of the vaddr) */
	uint32_t size;                  /* payload size as framed */
	uint64_t vaddr;                 /* vaddr-pages: the page's address */
	const uint8_t *extra;           /* raw extra payload, padding included */
	uint64_t extra_len;
	uint8_t has_extra;              /* the entry carries an extra payload (even an empty one) */
};

struct img_image {
	const struct img_schema *schema;
	const struct img_kind *kind;
	uint32_t head;            /* head magic as found (0: none, as in img_version 1 sets) */
	struct img_entry *e;
	size_t n, cap;
	struct img_arena arena;
	struct img_src *src;      /* held while the image lives */
	uint64_t raw_size;        /* raw and opaque kinds: the size of the data */
	const uint8_t *raw;       /* raw and opaque kinds: the data (after the magic for opaque);
				     NULL for raw pages in a windowed source: read them with img_src_pread(src) */
	size_t budget;            /* while reading: the memory the entries may take (img_budget of the size) */
};

enum {
	IMG_READ_FRAMES = 1,  /* frame the entries only, do not decode payloads (info, counting) */
};

/*
 * Read an image.  The kind comes from the magic, and from the file name for
 * raw images and for magics that several kinds share; kind forces it.
 */
int img_image_read(struct img_src *src, const struct img_schema *s, const struct img_kind *kind,
		   unsigned flags, struct img_image **out, struct img_err *err);
/* Open a file and read it. */
int img_image_open(const char *path, const struct img_schema *s, unsigned flags, struct img_image **out,
		   struct img_err *err);
/* Read a member of an image folder. */
int img_image_load(struct img_dir *d, const char *member, const struct img_schema *s, unsigned flags,
		   struct img_image **out, struct img_err *err);
void img_image_free(struct img_image *img);

/* A new empty image of a kind, with the head magic the kind has. */
struct img_image *img_image_new(const struct img_schema *s, const struct img_kind *k);
/* Append an entry; the message belongs to img->arena. */
struct img_entry *img_image_add(struct img_image *img, const struct img_msgdesc *d, struct img_msg *m);
/* Set the extra payload of an entry (copied into the arena). */
int img_entry_set_extra(struct img_image *img, struct img_entry *e, const void *p, size_t n);

/* Encode the whole image into out. */
int img_image_write(struct img_image *img, struct img_buf *out, struct img_err *err);
/*
 * Write an image to path: into a temporary file in the same folder, renamed
 * over path when complete.
 */
int img_image_write_file(struct img_image *img, const char *path, struct img_err *err);
/* Write bytes to path the same safe way. */
int img_write_file_atomic(const char *path, const void *p, size_t n, int mode, struct img_err *err);
/*
 * The same for outputs written piece by piece: img_tmp_create makes
 * "PATH.tmp-XXXXXX" (its name into tmp) and returns its fd; img_tmp_commit
 * sets its mode, closes it and renames it over path.  On failure (and with
 * img_tmp_abort) the temporary file is closed and removed.
 */
int img_tmp_create(const char *path, char *tmp, size_t cap, struct img_err *err);
int img_tmp_commit(int fd, const char *tmp, const char *path, int mode, struct img_err *err);
void img_tmp_abort(int fd, const char *tmp);

/* The message of the first entry, for single-entry images (core, mm, ids...). */
struct img_msg *img_image_msg(const struct img_image *img);

/*
 * crit-compatible JSON (crit decode / encode of CRIU 4.2).
 */
enum {
	IMG_JSON_PRETTY = 1,  /* crit --pretty: indent 4, hex, flags, dev, dict and ip renderings */
	IMG_JSON_NOPL = 2,    /* crit show --nopl: extra payloads as "... <SIZE>" */
};
int img_image_to_json(const struct img_image *img, struct img_out *o, unsigned flags);
/* One message as crit prints it (pretty: with its renderings; hex: inherited hex). */
void img_msg_to_json(struct img_jw *w, const struct img_msg *m, int pretty, int hex);
/* The value of one field as crit prints it (hex: inherited hex): a list for a repeated field, null when absent. */
void img_field_to_json(struct img_jw *w, const struct img_msg *m, const struct img_fielddesc *fd, int pretty, int hex);
/* Replace the value(s) of field fd of m by a JSON value in crit's form (raw or pretty renderings). */
int img_field_from_json(struct img_arena *a, struct img_msg *m, const struct img_fielddesc *fd,
			const struct img_jv *v, const char *path, struct img_err *err);
/* One scalar value of fd (as img_fval_u64 gives it), or one bytes or string value, as crit prints it. */
void img_scalar_to_json(struct img_jw *w, const struct img_fielddesc *fd, uint64_t v, int pretty, int hex);
void img_bytes_to_json(struct img_jw *w, const struct img_fielddesc *fd, const uint8_t *p, size_t n);
/* Build an image from crit's JSON (raw or pretty). */
int img_image_from_json(const struct img_jv *v, const struct img_schema *s, struct img_image **out,
			struct img_err *err);
/* Build a message from a JSON object. */
struct img_msg *img_msg_from_json(struct img_arena *a, const struct img_msgdesc *d, const struct img_jv *o,
				  const char *path, struct img_err *err);

/* Extra payloads (one codec per kind of extra). */
struct img_extra_ops {
	/* How many bytes follow the entry's payload, given the entry and the bytes available. */
	int (*measure)(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t avail,
		       uint64_t *len, struct img_err *err);
	/* crit's JSON for the extra. */
	void (*to_json)(const struct img_schema *s, struct img_jw *w, const struct img_msg *m, const uint8_t *p,
			uint64_t len);
	/* Raw bytes from crit's JSON. */
	int (*from_json)(const struct img_schema *s, const struct img_msg *m, const struct img_jv *v,
			 struct img_buf *out, struct img_err *err);
	/* The size crit show --nopl reports. */
	uint64_t (*nopl_size)(const struct img_schema *s, const struct img_msg *m, const uint8_t *p, uint64_t len);
	/* Whether an entry carries an extra at all (ipc shm: not when in the pagemaps). */
	int (*present)(const struct img_msg *m);
};
const struct img_extra_ops *img_extra_ops(int extra);

#ifdef __cplusplus
}
#endif
#endif
