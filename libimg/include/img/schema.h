/* libimg: the schema registry — messages, enums, display maps and image kinds. */
#ifndef IMG_SCHEMA_H
#define IMG_SCHEMA_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

enum img_type {
	IMG_T_NONE = 0,
	IMG_T_DOUBLE, IMG_T_FLOAT,
	IMG_T_INT32, IMG_T_INT64, IMG_T_UINT32, IMG_T_UINT64,
	IMG_T_SINT32, IMG_T_SINT64,
	IMG_T_FIXED32, IMG_T_FIXED64, IMG_T_SFIXED32, IMG_T_SFIXED64,
	IMG_T_BOOL, IMG_T_ENUM, IMG_T_STRING, IMG_T_BYTES, IMG_T_MESSAGE,
	IMG_T__COUNT
};

enum img_label { IMG_L_REQUIRED = 1, IMG_L_OPTIONAL, IMG_L_REPEATED };

/* Display hints, as CRIU marks fields for crit's --pretty. */
enum {
	IMG_H_HEX = 1 << 0,
	IMG_H_IPADD = 1 << 1,
	IMG_H_DEV = 1 << 2,
	IMG_H_ODEV = 1 << 3,
	IMG_H_PACKED = 1 << 4,
	IMG_H_HAS_DEFAULT = 1 << 5,
	IMG_H_UNIX_NAME = 1 << 6, /* conv=unix_name: quoted-printable, not base64 */
};

struct img_enumval {
	const char *name;
	int32_t num;
};

struct img_enumdesc {
	const char *name;
	uint32_t nvals;
	const struct img_enumval *vals;
};

struct img_mapent {
	const char *name;
	uint64_t val;
};

/* A flags map ("mmap.prot") or a dict map ("sk.family"). */
struct img_map {
	const char *name;
	int is_flags;
	uint32_t n;
	const struct img_mapent *ents;
};

struct img_msgdesc;

struct img_fielddesc {
	const char *name;
	uint32_t num;
	uint8_t label;
	uint8_t type;
	uint16_t hints;
	const struct img_msgdesc *msg;   /* IMG_T_MESSAGE */
	const struct img_enumdesc *en;   /* IMG_T_ENUM */
	const struct img_map *flags;     /* flags=NAME, when the map is known */
	const char *flags_name;          /* flags=NAME as written (crit prints hex for unknown maps) */
	const char *dict;                /* dict=GROUP */
	const char *defval;              /* default=..., as written */
};

struct img_msgdesc {
	const char *name;
	uint32_t nfields;
	const struct img_fielddesc *fields; /* sorted by number */
};

enum img_layout {
	IMG_LAY_SINGLE = 1, IMG_LAY_ARRAY, IMG_LAY_PAGEMAP, IMG_LAY_GHOST,
	IMG_LAY_VADDR_PAGES, IMG_LAY_RAW, IMG_LAY_OPAQUE,
};

enum img_extra {
	IMG_X_NONE = 0, IMG_X_PIPE_DATA, IMG_X_SK_QUEUE, IMG_X_TCP_STREAM,
	IMG_X_BPFMAP_DATA, IMG_X_IPC_SEM, IMG_X_IPC_MSG, IMG_X_IPC_SHM,
};

enum img_head { IMG_HEAD_NONE = 0, IMG_HEAD_COMMON, IMG_HEAD_SERVICE };

#define IMG_MAGIC_COMMON  0x54564319u
#define IMG_MAGIC_SERVICE 0x55105940u

struct img_kind {
	const char *name;        /* "CORE" */
	uint32_t magic;          /* 0 for raw images */
	const char *alias_of;    /* the kind whose magic this one shares, or NULL */
	const char *json;        /* "magic" in crit JSON, NULL for raw */
	const char *pattern;     /* "core-%u.img" */
	const struct img_msgdesc *msg;
	uint8_t layout;
	uint8_t extra;
	uint8_t head;
	uint8_t legacy;
};

struct img_schema {
	uint32_t nmsgs, nenums, nmaps, nkinds;
	const struct img_msgdesc *msgs;     /* sorted by name */
	const struct img_enumdesc *enums;   /* sorted by name */
	const struct img_map *maps;         /* sorted by name */
	const struct img_kind *kinds;       /* in table order */
	void *owned;                        /* for loaded schemas: the arena */
};

/* The schema compiled into the library from schemas/. */
const struct img_schema *img_schema_builtin(void);
/* Load a schema folder (*.schema, images.tab, maps.tab) at run time. */
int img_schema_load_dir(const char *dir, struct img_schema **out, struct img_err *err);
/* Parse schema text into s (used by the loader and by the build's table generator). */
void img_schema_free(struct img_schema *s);
/* The schema the tools use: the builtin one unless img_schema_use() set another. */
const struct img_schema *img_schema_default(void);
void img_schema_use(const struct img_schema *s);

const struct img_msgdesc *img_schema_msg(const struct img_schema *s, const char *name);
const struct img_enumdesc *img_schema_enum(const struct img_schema *s, const char *name);
const struct img_map *img_schema_map(const struct img_schema *s, const char *name);
const struct img_kind *img_kind_by_name(const struct img_schema *s, const char *name);
const struct img_kind *img_kind_by_json(const struct img_schema *s, const char *json);
/* The kind a file name matches ("core-7.img" -> CORE), or NULL. */
const struct img_kind *img_kind_by_file(const struct img_schema *s, const char *fname);
/* The kind for a magic, preferring the one whose pattern matches fname (may be NULL). */
const struct img_kind *img_kind_by_magic(const struct img_schema *s, uint32_t magic, const char *fname);
/* Match fname against a kind's pattern; the number in it goes to *id (if any). */
int img_kind_match(const struct img_kind *k, const char *fname, uint64_t *id, char *word, size_t wlen);
/* Make a file name from a kind's pattern. */
int img_kind_filename(const struct img_kind *k, uint64_t id, const char *word, char *buf, size_t len);

const struct img_fielddesc *img_msgdesc_field(const struct img_msgdesc *d, uint32_t num);
const struct img_fielddesc *img_msgdesc_field_by_name(const struct img_msgdesc *d, const char *name);
const struct img_enumval *img_enum_by_num(const struct img_enumdesc *e, int32_t num);
const struct img_enumval *img_enum_by_name(const struct img_enumdesc *e, const char *name);
const char *img_type_name(int type);
int img_type_from_name(const char *s);
const char *img_layout_name(int layout);
const char *img_extra_name(int extra);

#ifdef __cplusplus
}
#endif
#endif
