/*
 * libimg: linux-cr checkpoint streams, the images of the in-kernel
 * checkpoint/restart patchset (v18..v23, 2009-2011).
 *
 * A stream is a sequence of records {u32 type, u32 len; payload}, len counting
 * the 8-byte header, at any file offset.  Type numbers, object numbers and
 * struct layouts moved between patchset versions without a version bump, so
 * every number and offset comes from per-version tables (schemas/linuxcr),
 * and every struct field is read and written through them.
 */
#ifndef IMG_LINUXCR_H
#define IMG_LINUXCR_H

#include "base.h"
#include "json.h"
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMG_LCR_MAGIC_HEAD 0x00feed0cc0a2d200ULL
#define IMG_LCR_MAGIC_TAIL 0x002d2a0cc0deef00ULL
#define IMG_LCR_HDR_LEN 8

/* Field types of the layouts. */
enum {
	IMG_LCR_U8 = 1, IMG_LCR_U16, IMG_LCR_U32, IMG_LCR_U64,
	IMG_LCR_S8, IMG_LCR_S16, IMG_LCR_S32, IMG_LCR_S64,
	IMG_LCR_BE16, IMG_LCR_BE32, IMG_LCR_CHAR, IMG_LCR_STRUCT,
};

struct img_lcr_struct;

struct img_lcr_field {
	const char *name;
	uint32_t off;                     /* from the start of the struct */
	uint32_t count;                   /* array elements, 0 for a scalar */
	uint8_t type;                     /* IMG_LCR_* */
	uint8_t align;                    /* member aligned(N) attribute, 0 if none */
	uint8_t un;                       /* union group (fields that overlap), 0 if none */
	uint8_t flex;                     /* a zero-length array: the record's tail starts here */
	const struct img_lcr_struct *sub; /* IMG_LCR_STRUCT */
};

struct img_lcr_struct {
	const char *name;
	uint32_t size, align;             /* sizeof and alignment on this arch */
	uint32_t attr_align;              /* aligned(N) on the struct, 0 if none */
	uint32_t nfields;
	const struct img_lcr_field *fields;
};

struct img_lcr_enumval {
	const char *name;
	int64_t val;
};

struct img_lcr_enum {
	const char *name; /* hdr, obj, file, vma, arch, restart_block, x86_seg, ... */
	uint32_t n;
	const struct img_lcr_enumval *v;
};

struct img_lcr_kv {
	const char *name;
	int64_t val;
};

/* A record that must follow another (records.tab, THEN column). */
struct img_lcr_follow {
	const char *type;   /* record type name */
	const char *role;   /* what it holds: "comm", "auxv", "pages" ... */
	const char *elem;   /* array element (struct or base type), or NULL */
	const char *count;  /* element count: a field, "const:NAME", "rest", or NULL */
	const char *cond;   /* field that must be non-zero (or hold a new objref), or NULL */
	uint8_t cond_new, optional, repeat;
};

enum { IMG_LCR_REF_BEFORE, IMG_LCR_REF_FWD, IMG_LCR_REF_IMPLICIT };

struct img_lcr_ref {
	const char *field;
	const char *objtype; /* CKPT_OBJ_ name */
	uint8_t mode;        /* IMG_LCR_REF_* */
};

struct img_lcr_enumfield {
	const char *field;
	const char *en;      /* enum name */
};

/* The values a field can hold (records.tab "values="): a check that tells layouts of the same size apart. */
struct img_lcr_values {
	const char *field;
	uint32_t n;
	const int64_t *v;
};

enum { IMG_LCR_LEN_EXACT = 1, IMG_LCR_LEN_TAIL, IMG_LCR_LEN_RAW, IMG_LCR_LEN_STRING, IMG_LCR_LEN_SELECT };

/* A row of records.tab: what a record type carries. */
struct img_lcr_recdesc {
	const char *name;         /* "TASK", "FILE/PIPE" */
	const char *strct;        /* struct name, or NULL */
	uint8_t len;              /* IMG_LCR_LEN_* */
	const char *tail_elem, *tail_count;
	const char *select_field, *select_enum;
	const char *obj;          /* object type this is the main record of, or NULL */
	const char *since, *until;
	uint32_t nfollow, nrefs, nenums, nvalues;
	const struct img_lcr_follow *follow;
	const struct img_lcr_ref *refs;
	const struct img_lcr_enumfield *enums;
	const struct img_lcr_values *values;
};

/* A record type of one layout: its number, name and description. */
struct img_lcr_rectype {
	uint32_t type;
	const char *name;
	const struct img_lcr_recdesc *desc;   /* NULL: nothing known beyond the name */
	const struct img_lcr_struct *st;      /* desc->strct resolved */
};

struct img_lcr_version;

/* One version on one architecture: everything needed to read and write it. */
struct img_lcr_layout {
	const struct img_lcr_version *ver;
	const char *arch;          /* "x86_64", "i386" */
	int arch_id;               /* CKPT_ARCH_ value this version gives the arch */
	uint32_t long_size, page_size;
	uint32_t nstructs, nenums, nconsts, ndefaults, nprops, nrecs;
	const struct img_lcr_struct *const *structs; /* sorted by name */
	const struct img_lcr_enum *enums;
	const struct img_lcr_kv *consts;   /* header constants: CHECKPOINT_VERSION, CKPT_ARCH_NSIG... */
	const struct img_lcr_kv *defaults; /* what a writer puts in the constants block and arch header */
	const struct img_lcr_kv *props;    /* stream properties: auxv_entry */
	const struct img_lcr_rectype *recs; /* sorted by type number */
};

struct img_lcr_version {
	const char *name;          /* "v23-rc2" */
	const char *alias;         /* another name for it, or NULL */
	const char *base;          /* the version its table file starts from */
	const char *kernel;        /* the kernel it was based on: "2.6.38" */
	const char *date, *source;
	int rev;                   /* CHECKPOINT_VERSION */
	uint32_t nlayouts;
	const struct img_lcr_layout *layouts;
};

/* Conversion rules (convert.tab). */
struct img_lcr_rename {
	const char *strct, *from, *to;
	const char *since;         /* the version where "to" replaced "from" */
	const char *how;           /* value transform, or NULL: the value as it is */
};

struct img_lcr_fdefault {
	const char *strct, *field;
	int64_t val;
};

struct img_lcr_tables {
	uint32_t nversions, nrecdescs, nrenames, nfdefaults;
	const struct img_lcr_version *versions;  /* oldest first */
	const struct img_lcr_recdesc *recdescs;
	const struct img_lcr_rename *renames;
	const struct img_lcr_fdefault *fdefaults;
};

/* The tables built into the library (from schemas/linuxcr at build time). */
const struct img_lcr_tables *img_lcr_tables_builtin(void);
/* The tables read from a folder of the same files (schemas/linuxcr). */
int img_lcr_tables_load_dir(const char *dir, struct img_lcr_tables **out, struct img_err *err);
void img_lcr_tables_free(struct img_lcr_tables *t);
const struct img_lcr_tables *img_lcr_tables_default(void);
void img_lcr_tables_use(const struct img_lcr_tables *t);

/* Lookups.  Versions by name or alias ("v23-rc2", "linuxcr-v23-rc2"). */
const struct img_lcr_version *img_lcr_version_find(const struct img_lcr_tables *t, const char *name);
int img_lcr_version_index(const struct img_lcr_tables *t, const struct img_lcr_version *v);
const struct img_lcr_layout *img_lcr_layout_find(const struct img_lcr_version *v, const char *arch);
const struct img_lcr_struct *img_lcr_struct_find(const struct img_lcr_layout *l, const char *name);
const struct img_lcr_enum *img_lcr_enum_find(const struct img_lcr_layout *l, const char *name);
/* Value <-> name in an enum; NULL / -ENOENT when absent. */
const char *img_lcr_enum_name(const struct img_lcr_enum *e, int64_t val);
int img_lcr_enum_val(const struct img_lcr_enum *e, const char *name, int64_t *val);
int img_lcr_kv_get(const struct img_lcr_kv *kv, uint32_t n, const char *name, int64_t *val);
const struct img_lcr_rectype *img_lcr_rectype(const struct img_lcr_layout *l, uint32_t type);
const struct img_lcr_rectype *img_lcr_rectype_by_name(const struct img_lcr_layout *l, const char *name);
/* FILE/SUBTYPE of a layout ("FILE/PIPE"), or NULL. */
const struct img_lcr_recdesc *img_lcr_recdesc_find(const struct img_lcr_tables *t, const struct img_lcr_layout *l,
						   const char *name);

/* A field found by a dotted path ("sock.linger.l_onoff", "rlim[3].rlim_cur"). */
struct img_lcr_fref {
	const struct img_lcr_field *f;
	uint32_t off;      /* from the start of the outermost struct */
	uint32_t size;     /* of one element */
	int index;         /* -1: the whole field; else the array element chosen */
};
int img_lcr_field_ref(const struct img_lcr_struct *s, const char *path, struct img_lcr_fref *out);
uint32_t img_lcr_type_size(uint8_t type);
uint32_t img_lcr_field_size(const struct img_lcr_field *f); /* one element */

/* Integers at a field (an element of an array when given by index), decoded with explicit helpers. */
uint64_t img_lcr_get_u(const uint8_t *base, uint32_t off, uint8_t type);
int64_t img_lcr_get_s(const uint8_t *base, uint32_t off, uint8_t type);
void img_lcr_put(uint8_t *base, uint32_t off, uint8_t type, uint64_t v);
/* Whether v fits the field's type (unsigned, or signed when neg). */
int img_lcr_fits(uint8_t type, uint64_t v, int neg);
int img_lcr_type_signed(uint8_t type);

/*
 * A struct's layout checked against C's rules for the arch (natural
 * alignment, u64 aligned to 4 on i386, aligned(N) attributes): 0, or
 * -EINVAL with a message naming the offsets it compared.
 */
int img_lcr_struct_check(const struct img_lcr_struct *s, uint32_t long_size, struct img_err *err);

/* ---------------------------------------------------------------- streams */

struct img_lcr_rec {
	uint64_t off;                       /* file offset of the record header */
	uint32_t type, len;                 /* as in the stream; len counts the header */
	const uint8_t *p;                   /* the whole record (len bytes) */
	const struct img_lcr_rectype *rt;   /* NULL: a number this version does not know */
	const struct img_lcr_recdesc *desc; /* FILE records: the FILE/SUBTYPE row */
	const struct img_lcr_struct *st;    /* the struct the record starts with, or NULL */
	const char *role;                   /* followers: what they hold */
	int32_t parent;                     /* the record a follower belongs to, or -1 */
	int32_t obj;                        /* object (index in objs) this record belongs to, or -1 */
	const struct img_lcr_follow *fol;   /* the THEN item this record was read as */
};

struct img_lcr_obj {
	int32_t objref;
	const char *type;         /* CKPT_OBJ_ name */
	int32_t objref_rec;       /* the OBJREF record, or -1 for an implicit object */
	int32_t main;             /* its main record, or -1 */
};

/* How the version was found: each check names the offsets it compared. */
struct img_lcr_detect {
	const struct img_lcr_layout *lay;
	int forced;               /* --linuxcr-version */
	int ambiguous;            /* more than one version fits every record */
	uint16_t rev, arch_id, major, minor, patch;
	uint32_t nchecks;
	char checks[24][200];
	char others[160];         /* the other versions that fit, when ambiguous */
};

/* The decoded view: what the bridge to the checkpoint model reads. */
struct img_lcr_task {
	int32_t vpid, vppid, vtgid, vpgid, vsid, depth; /* as in the tree (v23: pid tags) */
	int32_t pid, ppid, tgid, pgid, sid;             /* pid numbers (v23: through the pids objects) */
	const char *comm;
	int zombie;
	int32_t rec_task, rec_comm, rec_creds, rec_ns, rec_objs, rec_thread, rec_restart, rec_cpu, rec_fpu,
		rec_sigtask, rec_pending;
	int32_t files, mm, fs, sighand, signal, sem_undo, cred, ecred, ns; /* objrefs (0: none) */
};

struct img_lcr_pages {
	int32_t rec_pgarr, rec_buf;
	uint64_t npages;
	uint64_t addrs_off, data_off;       /* file offsets of the address array and of the pages */
};

struct img_lcr_vma {
	int32_t rec;
	uint32_t vma_type;
	const char *type;                   /* CKPT_VMA_ name */
	uint64_t start, end, flags, prot, pgoff;
	int32_t file, inode;                /* objrefs */
	uint32_t nchunks;
	struct img_lcr_pages *chunks;
	uint64_t npages;
};

struct img_lcr_mm {
	int32_t objref, rec, rec_auxv, rec_ctx, rec_ldt, exe;
	uint32_t map_count, nvmas;
	struct img_lcr_vma *vmas;
};

struct img_lcr_file {
	int32_t objref, rec, rec_name, rec_pipebuf;
	uint32_t f_type;
	const char *type;                   /* CKPT_FILE_ name */
	const char *path;                   /* FILE_NAME, or NULL */
	int32_t pipe;                       /* pipe_objref */
	uint64_t pos;
	uint32_t flags, mode;
};

struct img_lcr_fd {
	int32_t fd, file, rec;
	uint32_t cloexec;
};

struct img_lcr_ftable {
	int32_t objref, rec;
	uint32_t nfds;
	struct img_lcr_fd *fds;
};

struct img_lcr_fs {
	int32_t objref, rec;
	const char *root, *pwd;
};

struct img_lcr_pipe {
	int32_t objref, rec;               /* the inode objref, the PIPE_BUF record */
	uint64_t data_off;
	uint32_t len;
};

struct img_lcr_image {
	struct img_src *src;
	const struct img_lcr_tables *tables;
	const struct img_lcr_layout *lay;
	struct img_lcr_detect det;
	struct img_lcr_rec *r;
	size_t n, cap;
	struct img_lcr_obj *objs;
	size_t nobjs, capobjs;
	uint32_t *objhash;                 /* objref -> objs index + 1, open addressing (private) */
	size_t objhash_size;
	/* the header */
	uint16_t major, minor, patch, rev, arch_id;
	uint64_t time, uflags;
	const char *uts_release, *uts_version, *uts_machine;
	int32_t rec_header, rec_arch, rec_tail, rec_tree, rec_pids;
	/* the view (not built with IMG_LCR_FRAMES) */
	struct img_lcr_task *tasks;
	struct img_lcr_mm *mms;
	struct img_lcr_file *files;
	struct img_lcr_ftable *ftables;
	struct img_lcr_fs *fss;
	struct img_lcr_pipe *pipes;
	size_t ntasks, nmms, nfiles, nftables, nfss, npipes;
	uint32_t nerrors;                  /* ERROR records */
	struct img_arena arena;
};

enum {
	IMG_LCR_FRAMES = 1,   /* frame the records and detect the version only (ckptinfo) */
};

struct img_lcr_opts {
	const char *version;  /* force this version ("v19-rc3"), or NULL to detect */
	const char *arch;     /* force this arch, or NULL */
	unsigned flags;       /* IMG_LCR_* */
};

/* Whether the bytes start a linux-cr stream (a HEADER record with the magic). */
int img_lcr_probe(const uint8_t *p, size_t n);
/* Detect the version of a stream (without reading it): fills det. */
int img_lcr_detect(const uint8_t *p, size_t n, const char *name, const struct img_lcr_tables *t,
		   const struct img_lcr_opts *o, struct img_lcr_detect *det, struct img_err *err);
int img_lcr_read(struct img_src *src, const struct img_lcr_tables *t, const struct img_lcr_opts *o,
		 struct img_lcr_image **out, struct img_err *err);
int img_lcr_open(const char *path, const struct img_lcr_opts *o, struct img_lcr_image **out, struct img_err *err);
void img_lcr_free(struct img_lcr_image *img);

/* Fields of a record, by dotted path: 0, -ENOENT (no such field in this version), -EINVAL (truncated). */
int img_lcr_rec_u64(const struct img_lcr_rec *r, const char *path, uint64_t *v);
int img_lcr_rec_i64(const struct img_lcr_rec *r, const char *path, int64_t *v);
/* The payload of a record (after the 8-byte header) */
static inline const uint8_t *img_lcr_payload(const struct img_lcr_rec *r) { return r->p + IMG_LCR_HDR_LEN; }
static inline uint32_t img_lcr_payload_len(const struct img_lcr_rec *r) { return r->len - IMG_LCR_HDR_LEN; }
const struct img_lcr_obj *img_lcr_obj_find(const struct img_lcr_image *img, int32_t objref);
/* "record 12 (TASK) at offset 0x1a4" */
const char *img_lcr_rec_where(const struct img_lcr_image *img, size_t i, char *buf, size_t len);

/*
 * Write the image.  Every struct record is encoded again from its decoded
 * fields (bytes no field covers are kept), every payload copied.
 */
int img_lcr_write(const struct img_lcr_image *img, struct img_buf *out, struct img_err *err);

/* JSON of every record with decoded fields (the layout is in man/cr-inspect.1). */
enum { IMG_LCR_JSON_PRETTY = 1, IMG_LCR_JSON_PAGES = 2 };
int img_lcr_to_json(const struct img_lcr_image *img, struct img_out *o, unsigned flags);

/*
 * What user-cr's ckptinfo prints (its options as flags), from an image read
 * with IMG_LCR_FRAMES; its complaints come back in err.
 */
enum { IMG_LCR_CI_ERROR = 1, IMG_LCR_CI_PIDS = 2, IMG_LCR_CI_VERBOSE = 4, IMG_LCR_CI_REGS = 8 };
int img_lcr_ckptinfo(const struct img_lcr_image *img, struct img_out *o, unsigned flags, struct img_err *err);

/* ---------------------------------------------------------------- writing */

struct img_lcr_writer;
struct img_lcr_writer *img_lcr_writer_new(const struct img_lcr_tables *t, const struct img_lcr_layout *l);
void img_lcr_writer_free(struct img_lcr_writer *w);
/* Start a record of the named type with its struct zeroed (FILE: "FILE/PIPE"); -ENOENT if the version has none. */
int img_lcr_w_begin(struct img_lcr_writer *w, const char *type);
/* Set a field of the record begun last: -ENOENT if this version's struct has no such field, -ERANGE if v does not fit. */
int img_lcr_w_set(struct img_lcr_writer *w, const char *path, uint64_t v);
int img_lcr_w_set_bytes(struct img_lcr_writer *w, const char *path, const void *p, size_t n);
/* Append bytes to the record begun last (tail arrays, raw payloads). */
int img_lcr_w_add(struct img_lcr_writer *w, const void *p, size_t n);
/* A payload-only record (BUFFER, STRING, FILE_NAME, PIPE_BUF ...). */
int img_lcr_w_raw(struct img_lcr_writer *w, const char *type, const void *p, size_t n);
/* An OBJREF record for an object of the named CKPT_OBJ_ type. */
int img_lcr_w_objref(struct img_lcr_writer *w, const char *objtype, int32_t objref);
int img_lcr_w_default(struct img_lcr_writer *w, const char *name, int64_t *v);
int img_lcr_w_error(const struct img_lcr_writer *w, struct img_err *err);
const struct img_lcr_layout *img_lcr_w_layout(const struct img_lcr_writer *w);
/* Write what is complete to fd (all but the record begun last), so that memory holds one record at a time. */
int img_lcr_w_drain(struct img_lcr_writer *w, int fd, struct img_err *err);
/* The bytes written so far (detached: the caller frees them with img_buf_free). */
int img_lcr_w_finish(struct img_lcr_writer *w, struct img_buf *out, struct img_err *err);

/* ---------------------------------------------------------------- conversion */

enum { IMG_LCR_CONV_LOSSY = 1 };

struct img_lcr_conv_opts {
	const char *to;       /* target version */
	const char *kernel;   /* kernel version for the header ("2.6.33"), or NULL: the target's */
	unsigned flags;
	/* what was dropped or changed with IMG_LCR_CONV_LOSSY: one line each */
	void (*note)(void *arg, const char *line);
	void *arg;
};

/* Convert an image to another version: the new stream in out. */
int img_lcr_convert(const struct img_lcr_image *img, const struct img_lcr_conv_opts *o, struct img_buf *out,
		    struct img_err *err);

/* ---------------------------------------------------------------- the bridge to CRIU image sets */

/*
 * A linux-cr image and a CRIU image set are two forms of one checkpoint: the
 * bridge maps tasks, threads, registers and FPU, mm and VMAs, private pages,
 * regular files and positions, pipes and their data, cwd and root, signal
 * handlers, masks and pending signals, rlimits, itimers and credentials, by
 * the rows of schemas/linuxcr/bridge.tab.  What one side holds and the other
 * cannot is refused, or with IMG_LCR_BRIDGE_LOSSY left out and listed.
 */
enum {
	IMG_LCR_BRIDGE_LOSSY = 1,
	/*
	 * The vdso's pages, which linux-cr never saved, taken from the running
	 * kernel's vdso where it is the size of the saved mapping and the image is
	 * of this machine's architecture: what restart did (the target kernel's
	 * vdso at the saved address), and what CRIU's restorer needs to find an
	 * ELF there.  For image sets written to be restored on this machine.
	 */
	IMG_LCR_BRIDGE_HOST_VDSO = 2,
};

struct img_lcr_bridge_opts {
	unsigned flags;                              /* IMG_LCR_BRIDGE_* */
	void (*note)(void *arg, const char *line);   /* what was left out, one line each */
	void *arg;
};

/*
 * The CRIU image set a linux-cr image stands for, as an image folder
 * (img/source.h): inventory, pstree, core, ids, mm, pagemap, files, fdinfo,
 * fs, pipes-data and utsns images encoded in memory, and pages-N.img made of
 * the stream's page arrays where they lie (nothing copied).  The folder holds
 * its own reference to the image's source: img may be freed first.
 */
int img_lcr_criu_dir(const struct img_lcr_image *img, const struct img_lcr_bridge_opts *o, struct img_dir **out,
		     struct img_err *err);
/*
 * img_dir_open's reader of linux-cr streams (it bids on the HEADER record):
 * the lossy CRIU view above, so that the checkpoint model, memory, search,
 * check, diff and core export read a linux-cr image as they read CRIU sets.
 */
extern const struct img_dir_format img_lcr_dir_format;

/*
 * The machine an image is made for (cr-convert --for PROFILE): the header's
 * kernel version and release, the FPU's XSAVE components, and what to do
 * where the image cannot be made to fit (policy: IMG_XF_EMULATE, _BAIL or
 * _HOPE of img/xform.h).
 */
struct img_profile;
struct img_lcr_target {
	char kernel[32];              /* "6.1.0", or "": the version's own */
	char release[65];             /* the uts release, or "" */
	const char *arch;             /* "x86_64", or NULL: unknown */
	int xsave_known;              /* the profile says which XSAVE components the CPU has */
	uint64_t xcr0;                /* those components (x87 and SSE at least) */
	int policy;
	const char *name;             /* the profile's, for messages */
	/* each decision, one line (also those that needed nothing) */
	void (*note)(void *arg, const char *line);
	void *arg;
};
int img_lcr_target_from_profile(const struct img_profile *p, int policy, struct img_lcr_target *t,
				struct img_err *err);

/*
 * An image made for a target: the header's kernel version and release, the
 * FPU capabilities and every CPU_FPU area in the target's XSAVE layout, the
 * arch and the vdso decided by the target's policy; the new stream in out.
 */
int img_lcr_fit(const struct img_lcr_image *img, const struct img_lcr_target *t, struct img_buf *out,
		struct img_err *err);

/* A CRIU set (the checkpoint model) as a linux-cr stream of version to, written to fd. */
struct img_ckpt;
struct img_lcr_from_opts {
	const char *to;                              /* "v23-rc2" */
	unsigned flags;                              /* IMG_LCR_BRIDGE_LOSSY */
	const struct img_lcr_target *target;         /* --for, or NULL: the version's own kernel */
	int policy;                                  /* without a target: IMG_XF_* for what needs a decision */
	void (*note)(void *arg, const char *line);   /* what was left out, one line each */
	void (*decided)(void *arg, const char *line);/* without a target: each decision, one line */
	void *arg;
};
int img_lcr_from_ckpt(struct img_ckpt *ck, const struct img_lcr_from_opts *o, int fd, struct img_err *err);

#ifdef __cplusplus
}
#endif
#endif
