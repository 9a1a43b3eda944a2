/* The bridge between linux-cr streams and CRIU image sets: what both directions share (not installed). */
#ifndef LCR_BRIDGE_H
#define LCR_BRIDGE_H

#include "img/linuxcr.h"
#include "img/pb.h"
#include "img/schema.h"

/* A row of schemas/linuxcr/bridge.tab. */
enum { BR_MAP = 1, BR_CODE, BR_LCR, BR_CRIU, BR_FILL };
enum { BR_HOW_NONE = 0, BR_HOW_SEG, BR_HOW_PAGES, BR_HOW_PF };
enum { BR_META = 1, BR_STATE };

struct br_row {
	int kind;
	const char *lrec, *lfield;   /* linux-cr: record type and field path (lfield NULL: the whole record) */
	const char *cmsg, *cpath;    /* CRIU: message name and path (cpath NULL: the whole message) */
	int how;
	const char *def;             /* lcr, criu rows: the value that carries nothing, or "-" */
	int cls;                     /* BR_META, BR_STATE */
	const char *why;
	unsigned line;
};

/* seg, pf, vm and area rows */
struct br_seg {
	const char *name;            /* CKPT_X86_SEG_ name */
	uint64_t sel;
	int mode;                    /* 0 any, 1 native, 2 compat */
};

enum { BR_VM_PROT = 1, BR_VM_FLAGS, BR_VM_MADV, BR_VM_KERNEL, BR_VM_REFUSE };

struct br_vm {
	const char *name;
	uint64_t bit;
	int side;                    /* BR_VM_* */
	uint64_t val;                /* the PROT_, MAP_ or madvise bit */
};

struct br_area {
	const char *status;          /* "VDSO", "VVAR", "VSYSCALL" */
	const char *vma_type;        /* CKPT_VMA_ name */
	uint64_t extra, addr;        /* addr 0: anywhere */
};

/* A ckpt_siginfo field and where it lies in siginfo_t */
struct br_siginfo {
	const char *field[2];        /* v23's name, the older one */
	uint32_t off, size;
};

enum { BR_IMG_READ = 1, BR_IMG_WALK, BR_IMG_META };

struct br_image {
	const char *prefix;          /* "core-", "inventory.img" */
	int how;                     /* BR_IMG_* */
	const char *why;
};

struct br_table {
	const struct br_row *rows;
	size_t n;
	const struct br_seg *segs;
	size_t nsegs;
	const struct br_vm *vms;
	size_t nvms;
	const struct br_area *areas;
	size_t nareas;
	uint64_t pf[8][2];           /* CKPT_PF bit, PF_ bit */
	size_t npf;
	const struct br_image *images;
	size_t nimages;
	const struct br_siginfo *sis;
	size_t nsis;
};

/* The built-in table, parsed at first use. */
int br_table(const struct br_table **out, struct img_err *err);
/* The row for a linux-cr field (the longest dotted prefix: "CRED.cap_s", "VMA"), or NULL. */
const struct br_row *br_find_lcr(const struct br_table *t, const char *rec, const char *field);
/* The row for a CRIU message path, the same way. */
const struct br_row *br_find_criu(const struct br_table *t, const char *msg, const char *path);

/* What a conversion drops: one entry per field, with how often and an example. */
struct br_loss {
	char what[160];              /* "core_entry.tc.loginuid", "record SOCKET" */
	char why[200];
	int cls;
	uint64_t count;
	char example[200];           /* where the first one was, and its value */
};

struct br_losses {
	struct br_loss *v;
	size_t n, cap;
	unsigned flags;              /* IMG_LCR_BRIDGE_LOSSY: state losses allowed */
	struct img_err *err;         /* where a refusal is written */
	const char *other;           /* "a linux-cr image", "CRIU images": where it has no place */
	const char *subject;         /* the input, for the refusal's subject */
};

/*
 * Note that something is not carried.  A state loss without LOSSY fills err
 * and returns -ENOTSUP; else it is counted and 0 returned.
 */
int br_lose(struct br_losses *l, int cls, const char *what, const char *why, const char *fmt, ...) IMG_PRINTF(5, 6);
void br_losses_free(struct br_losses *l);
/* Hand the losses to a callback, one line each. */
void br_losses_report(const struct br_losses *l, void (*fn)(void *arg, const char *line), void *arg);

/*
 * One pending signal both ways: the kernel's siginfo_t (128 bytes, x86_64)
 * and a ckpt_siginfo element of layout si.
 */
void br_siginfo_to_criu(const struct br_table *t, const struct img_lcr_struct *si, const uint8_t *elem,
			uint8_t out[128]);
void br_siginfo_to_lcr(const struct br_table *t, const struct img_lcr_struct *si, const uint8_t in[128],
		       uint8_t *elem);
/* Whether any row names the message msg at or under path (NULL: anywhere in it). */
int br_rows_under(const struct br_table *t, const char *msg, const char *path);
/* The image row for a member of a CRIU set (the longest prefix), or NULL. */
const struct br_image *br_find_image(const struct br_table *t, const char *member);
/* A default written in the table ("17", "NONE" with the field's enum, "-") against a value: 1 when equal. */
int br_is_default(const struct br_row *r, const struct img_lcr_layout *lay, const char *enum_name, uint64_t v);

/* What a value transform needs to know. */
struct br_ctx {
	const struct br_table *t;
	const struct img_lcr_layout *lay;
	int compat;                  /* a 32-bit task */
};

/*
 * Value transforms of map rows, linux-cr -> CRIU and back: -ERANGE when the
 * value has no counterpart; *lost (if not NULL) gets bits that have none.
 */
int br_to_criu(const struct br_ctx *c, int how, uint64_t v, uint64_t *out);
int br_to_lcr(const struct br_ctx *c, int how, uint64_t v, uint64_t *out, uint64_t *lost);

/* Message paths ("thread_info.gpregs.r15", "cap_inh[1]"), made as needed when setting. */
int br_msg_get(const struct img_msg *m, const char *path, uint64_t *v);
int br_msg_set(struct img_arena *a, struct img_msg *m, const char *path, uint64_t v);
/* The fill rows of message root into m (only where the path's first part is there already). */
int br_fill(const struct br_table *t, struct img_arena *a, struct img_msg *m, const char *root);

/* x86 (x86.c): the FPU area and TLS descriptors in CRIU's form and back */
#define LCR_XSAVE_MAX 2696
/* fx: the FXSAVE area; xs: the whole XSAVE area of len bytes, or NULL */
int lcr_fpu_to_msg(struct img_arena *a, struct img_msg *fp, const uint8_t fx[512], const uint8_t *xs, uint32_t len);
/* The area (cap >= LCR_XSAVE_MAX): its length and the XSAVE components it holds (0: FXSAVE only). */
int lcr_fpu_from_msg(const struct img_msg *fp, uint8_t *area, uint32_t cap, uint32_t *len, uint64_t *xcr0,
		     struct img_err *err);
/* The size of the XSAVE area that holds the components of xcr0 (512: none beyond SSE). */
uint32_t lcr_xsave_size(uint64_t xcr0);
/* The components an area of len bytes holds (0: FXSAVE only). */
uint64_t lcr_area_xcr0(const uint8_t *area, uint32_t len, int has_xsave);
/* Fit an area from one set of components to another: those to lacks are cleared; the ones that held state. */
uint64_t lcr_fpu_fit(uint8_t *area, uint64_t from, uint64_t to);
int lcr_desc_to_msg(struct img_arena *a, struct img_msg *u, uint32_t entry, uint32_t lo, uint32_t hi);
void lcr_desc_from_msg(const struct img_msg *u, uint32_t *lo, uint32_t *hi);

/*
 * A decision where an image cannot be made to fit its target (target.c):
 * bail refuses (err filled, -ENOTSUP), hope goes on with a note, emulate
 * refuses too (the callers emulate what can be, before asking).  Without a
 * target the loss goes to the losses as state.
 */
int lcr_fit_decide(const struct img_lcr_target *t, struct br_losses *l, const char *what, const char *why,
		   const char *fmt, ...) IMG_PRINTF(5, 6);
void lcr_fit_note(const struct img_lcr_target *t, const char *fmt, ...) IMG_PRINTF(2, 3);
/* The vdso of an image made by kernel from, restarted by the target's. */
int lcr_fit_vdso(const struct img_lcr_target *t, struct br_losses *l, uint64_t addr, const char *from);
/* The image's arch against the target's. */
int lcr_fit_arch(const struct img_lcr_target *t, struct br_losses *l, const char *image_arch, uint32_t page_size);

#endif
