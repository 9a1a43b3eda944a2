/* libimg: the protobuf wire codec and decoded message trees. */
#ifndef IMG_PB_H
#define IMG_PB_H

#include "base.h"
#include "schema.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { IMG_WT_VARINT = 0, IMG_WT_I64 = 1, IMG_WT_LEN = 2, IMG_WT_SGROUP = 3,
       IMG_WT_EGROUP = 4, IMG_WT_I32 = 5 };

#define IMG_FI_UNKNOWN 0xffff
#define IMG_PB_MAX_DEPTH 64

/*
 * One occurrence of a field on the wire.  Unknown fields (numbers the schema
 * lacks, wire types that do not fit the field, enum values the enum lacks) are
 * kept with their raw bytes, so that they are written back as they came.
 */
struct img_fval {
	uint32_t num;
	uint8_t wt;       /* wire type */
	uint8_t packed;   /* a LEN holding packed scalars of a repeated field */
	uint16_t fi;      /* index in desc->fields, or IMG_FI_UNKNOWN */
	union {
		uint64_t u;                                  /* VARINT, I64, I32 */
		struct { const uint8_t *p; uint32_t len; } b; /* LEN; unknown: the whole tag+value */
		struct img_msg *m;                           /* a known message field */
	} v;
};

enum { IMG_MSG_SORTED = 1, /* field numbers never decrease */
       IMG_MSG_DIRTY = 2   /* changed since decoded: raw is stale */ };

struct img_msg {
	const struct img_msgdesc *desc;
	struct img_fval *f;    /* in wire order */
	uint32_t n, cap;
	uint32_t flags;
	uint32_t enc_size;     /* cached by img_pb_size */
	const uint8_t *raw;    /* the bytes it was decoded from, if any */
	uint32_t rawlen;
};

/*
 * Decode n bytes as message d.  base is the file offset of p (for messages);
 * where names what is being decoded ("entry 2") for messages.
 */
struct img_msg *img_pb_decode(struct img_arena *a, const struct img_msgdesc *d,
			      const uint8_t *p, size_t n, uint64_t base, struct img_err *err);

/* Encoded size; also caches sizes in every nested message. */
size_t img_pb_size(struct img_msg *m);
/* Append the encoding of m (unchanged messages are copied from raw). */
int img_pb_encode(struct img_msg *m, struct img_buf *out);

/* Varint and zigzag primitives (exposed for tests and other readers). */
int img_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *v); /* bytes used, 0 on error */
size_t img_varint_put(uint8_t *p, uint64_t v);
size_t img_varint_len(uint64_t v);
static inline uint64_t img_zigzag64(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t img_unzigzag64(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* Building and changing messages. */
struct img_msg *img_msg_new(struct img_arena *a, const struct img_msgdesc *d);
struct img_fval *img_msg_append(struct img_arena *a, struct img_msg *m, uint32_t num);
/* One more occurrence of field fd, where field-number order puts it (after those it has). */
struct img_fval *img_msg_insert(struct img_arena *a, struct img_msg *m, const struct img_fielddesc *fd);
void img_msg_touch(struct img_msg *m);  /* mark changed */
/* Set a scalar field (replaces every occurrence; keeps the fields in number order). */
int img_msg_set_u64(struct img_arena *a, struct img_msg *m, const char *name, uint64_t v);
int img_msg_set_i64(struct img_arena *a, struct img_msg *m, const char *name, int64_t v);
int img_msg_set_bytes(struct img_arena *a, struct img_msg *m, const char *name, const void *p, size_t n);
int img_msg_set_str(struct img_arena *a, struct img_msg *m, const char *name, const char *s);
/*
 * A message field: the one there is (made dirty), or a new one.  For a
 * repeated field it always adds one more, after those there are.
 */
struct img_msg *img_msg_set_msg(struct img_arena *a, struct img_msg *m, const char *name);
/* One more value of a repeated scalar or string field, after those there are. */
int img_msg_add_u64(struct img_arena *a, struct img_msg *m, const char *name, uint64_t v);
int img_msg_add_i64(struct img_arena *a, struct img_msg *m, const char *name, int64_t v);
int img_msg_add_bytes(struct img_arena *a, struct img_msg *m, const char *name, const void *p, size_t n);
int img_msg_add_str(struct img_arena *a, struct img_msg *m, const char *name, const char *s);
/* Remove every occurrence of a field. */
int img_msg_del(struct img_msg *m, const char *name);
/* Deep copy (into arena a). */
struct img_msg *img_msg_dup(struct img_arena *a, const struct img_msg *m);

/* Reading fields by name: the last occurrence wins, as in protobuf. */
const struct img_fval *img_msg_get(const struct img_msg *m, const char *name);
const struct img_fval *img_msg_get_num(const struct img_msg *m, uint32_t num);
int img_msg_has(const struct img_msg *m, const char *name);
uint64_t img_msg_u64(const struct img_msg *m, const char *name, uint64_t def);
int64_t img_msg_i64(const struct img_msg *m, const char *name, int64_t def);
/* A string or bytes field: pointer into the image (not NUL terminated), or NULL. */
const uint8_t *img_msg_bytes(const struct img_msg *m, const char *name, size_t *len);
/* A string field copied into the arena and NUL terminated; def when absent. */
const char *img_msg_str(struct img_arena *a, const struct img_msg *m, const char *name, const char *def);
struct img_msg *img_msg_sub(const struct img_msg *m, const char *name);
/* Number of values of a repeated field (packed ones counted one by one). */
size_t img_msg_count(const struct img_msg *m, const char *name);

/* Iterating over the values of a (repeated) field, in wire order. */
struct img_iter {
	const struct img_msg *m;
	const struct img_fielddesc *fd;
	uint32_t i;
	const uint8_t *pp, *pe;  /* inside a packed run */
};
int img_iter_init(struct img_iter *it, const struct img_msg *m, const char *name);
int img_iter_next_u64(struct img_iter *it, uint64_t *v);
struct img_msg *img_iter_next_msg(struct img_iter *it);

/* The value of a scalar occurrence, converted for its declared type. */
uint64_t img_fval_u64(const struct img_fielddesc *fd, const struct img_fval *fv);
int64_t img_fval_i64(const struct img_fielddesc *fd, const struct img_fval *fv);
/* The wire value of a typed value (signed types widened in two's complement): zigzag for sint, 32 bits for 32-bit types. */
uint64_t img_pb_to_wire(int type, uint64_t v);
/* Decode one scalar element of type t from a packed run. */
int img_packed_next(int type, const uint8_t **p, const uint8_t *end, uint64_t *v);

#ifdef __cplusplus
}
#endif
#endif
