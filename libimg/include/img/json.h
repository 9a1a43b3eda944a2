/*
 * libimg: JSON values, a parser, and a writer that prints the way Python's
 * json.dump does (crit's output), compact or indented.
 *
 * Integers are kept exact over the whole range -2^64..2^64: CRIU images hold
 * uint64 values such as RLIM_INFINITY that a double or an int64 cannot carry.
 */
#ifndef IMG_JSON_H
#define IMG_JSON_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { IMG_JV_NULL = 0, IMG_JV_BOOL, IMG_JV_INT, IMG_JV_REAL, IMG_JV_STR, IMG_JV_ARR, IMG_JV_OBJ };

struct img_jv;

struct img_jmember {
	const char *key;
	size_t klen;
	struct img_jv *v;
};

struct img_jv {
	uint8_t type;
	uint8_t neg;        /* IMG_JV_INT: the value is -u */
	uint8_t b;          /* IMG_JV_BOOL */
	uint32_t line, col; /* where it starts, for messages */
	union {
		uint64_t u;     /* INT: magnitude */
		double d;       /* REAL */
		struct { char *s; size_t len; } s; /* STR: UTF-8 (may hold NUL bytes); NUL terminated */
		struct { struct img_jv **v; size_t n; } a;
		struct { struct img_jmember *m; size_t n; } o;
	};
};

#define IMG_JSON_MAX_DEPTH 256

/* Parse a whole JSON text.  Errors name the line, column and byte offset. */
struct img_jv *img_json_parse(struct img_arena *a, const char *p, size_t n, struct img_err *err);
/* A member of an object by key, or NULL. */
struct img_jv *img_jv_get(const struct img_jv *o, const char *key);
/* The value of an INT that fits in int64/uint64. */
int img_jv_i64(const struct img_jv *v, int64_t *out);
int img_jv_u64(const struct img_jv *v, uint64_t *out);

/*
 * The writer.  indent 0 prints on one line with ", " and ": " separators;
 * indent N prints one item per line indented by N spaces (Python's indent=N).
 * Keys and values are written in the order given.
 */
struct img_jw {
	struct img_out *o;
	int indent;
	int depth;
	uint8_t first[IMG_JSON_MAX_DEPTH + 1]; /* nothing written yet at this level */
	uint8_t after_key;
};

void img_jw_init(struct img_jw *w, struct img_out *o, int indent);
void img_jw_obj_begin(struct img_jw *w);
void img_jw_obj_end(struct img_jw *w);
void img_jw_arr_begin(struct img_jw *w);
void img_jw_arr_end(struct img_jw *w);
void img_jw_key(struct img_jw *w, const char *key);
void img_jw_keyn(struct img_jw *w, const char *key, size_t n);
/* A string of n bytes of UTF-8; bytes that are not UTF-8 print as \udcXX (Python's surrogateescape). */
void img_jw_strn(struct img_jw *w, const char *s, size_t n);
void img_jw_str(struct img_jw *w, const char *s);
void img_jw_u64(struct img_jw *w, uint64_t v);
void img_jw_i64(struct img_jw *w, int64_t v);
void img_jw_bool(struct img_jw *w, int v);
void img_jw_null(struct img_jw *w);
void img_jw_real(struct img_jw *w, double v);
/* Text already in JSON form, written as one value. */
void img_jw_raw(struct img_jw *w, const char *s, size_t n);
/* Copy a parsed value. */
void img_jw_value(struct img_jw *w, const struct img_jv *v);
/* Convenience: key and value. */
void img_jw_kv_str(struct img_jw *w, const char *key, const char *s);
void img_jw_kv_u64(struct img_jw *w, const char *key, uint64_t v);
void img_jw_kv_i64(struct img_jw *w, const char *key, int64_t v);
void img_jw_kv_bool(struct img_jw *w, const char *key, int v);

/* Quote s as a JSON string into out (Python json.dumps rules). */
void img_json_quote(struct img_out *o, const char *s, size_t n);

/* Text codecs that crit uses for bytes. */
/* base64 with a newline after every 76 characters and at the end (Python's encodebytes). */
void img_b64_encode_lines(struct img_out *o, const uint8_t *p, size_t n);
size_t img_b64_encode_lines_len(size_t n);
/* Decode base64, skipping characters outside the alphabet as Python does; returns length or -1. */
long img_b64_decode(const char *s, size_t n, uint8_t *out);
/* Quoted-printable as Python's quopri.encodestring (binascii.b2a_qp, istext). */
int img_qp_encode(struct img_buf *b, const uint8_t *p, size_t n);
int img_qp_decode(struct img_buf *b, const char *s, size_t n);

#ifdef __cplusplus
}
#endif
#endif
