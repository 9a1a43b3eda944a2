/*
 * libimg: checking an image set — is it whole, and will it restore on a
 * given machine — with findings as data.
 *
 * The checks work on the image layer alone (img_dir, img_image_load), so
 * that they also run on sets too damaged to build a model from.  Each
 * damaged image gives one finding, not one per entry that refers to it.
 */
#ifndef IMG_CHECK_H
#define IMG_CHECK_H

#include "base.h"
#include "json.h"
#include "schema.h"
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

struct img_profile;

enum img_sev { IMG_SEV_INFO = 0, IMG_SEV_WARNING, IMG_SEV_ERROR };

#define IMG_NO_ENTRY (-1L)
#define IMG_NO_OFFSET UINT64_MAX

/*
 * One finding.  code is a stable name scripts can match ("file-size",
 * "image-missing"); area is the check that made it.  Strings belong to the
 * list; any of them may be NULL.
 */
struct img_finding {
	int sev;
	const char *code;
	const char *area;       /* "images", "files", "pids", "kernel", "cpu" */
	const char *image;      /* the image it comes from ("files.img"), or NULL */
	long entry;             /* the entry in it, or IMG_NO_ENTRY */
	uint64_t offset;        /* byte offset of that entry (or of the damage), or IMG_NO_OFFSET */
	const char *field;      /* field path in the entry ("reg.size"), or NULL */
	const char *subject;    /* what it is about: a path, "pid 3", "fd 1" */
	const char *expected;
	const char *found;
	const char *msg;        /* the problem, one line */
	const char *todo;       /* what to do */
	const char *ref_image;  /* the other side of a mismatch, or NULL */
	long ref_entry;
};

struct img_findings {
	struct img_finding *v;
	size_t n, cap;
	size_t count[3];        /* by severity */
	int failed;             /* an allocation failed: the list is incomplete */
	struct img_arena arena;
};

void img_findings_init(struct img_findings *f);
void img_findings_free(struct img_findings *f);
/* A new finding, zeroed, entry and offset unset.  Never NULL (a spare is used when memory runs out). */
struct img_finding *img_finding_add(struct img_findings *f, int sev, const char *area, const char *code);
/* printf into the list's arena, for a finding's strings. */
const char *img_finding_fmt(struct img_findings *f, const char *fmt, ...) IMG_PRINTF(2, 3);
/* The highest severity found, or -1 when the list is empty. */
int img_findings_worst(const struct img_findings *f);
const char *img_sev_name(int sev);

/*
 * Print findings.  Text: one block per finding, severity first (coloured
 * with IMG_PRINT_COLOR); JSON: an array of objects (bpftool's style, the
 * caller writes what is around it).
 */
enum { IMG_PRINT_COLOR = 1 };
void img_findings_print_text(const struct img_findings *f, struct img_out *o, unsigned flags);
void img_findings_print_json(const struct img_findings *f, struct img_jw *w);
void img_finding_json(const struct img_finding *fi, struct img_jw *w);

/* What to check. */
enum {
	IMG_CHECK_IMAGES = 1 << 0,  /* integrity from the images alone */
	IMG_CHECK_FILES  = 1 << 1,  /* files, directories and socket paths under the root */
	IMG_CHECK_PIDS   = 1 << 2,  /* pids free (only when the target is this machine) */
	IMG_CHECK_KERNEL = 1 << 3,  /* kernel features, cgroup layout, architecture, page size */
	IMG_CHECK_CPU    = 1 << 4,  /* XSAVE components and sizes */
	IMG_CHECK_HOST   = IMG_CHECK_FILES | IMG_CHECK_PIDS | IMG_CHECK_KERNEL | IMG_CHECK_CPU,
	IMG_CHECK_ALL    = IMG_CHECK_IMAGES | IMG_CHECK_HOST,
};

/* How the restore will be run, where CRIU's options change what it accepts. */
enum {
	IMG_CHECK_SKIP_RWX = 1 << 0,  /* criu restore --skip-file-rwx-check: permission bits may differ */
};

struct img_check_opts {
	unsigned what;                     /* IMG_CHECK_* (0: all) */
	unsigned flags;                    /* IMG_CHECK_SKIP_RWX... */
	const char *root;                  /* the target's file system root (NULL: "/") */
	const struct img_profile *target;  /* the machine to restore on; NULL: no kernel/cpu checks */
	const struct img_schema *schema;   /* NULL: img_schema_default() */
};

/*
 * Check an image set; findings are appended to out.  Returns 0 when the
 * check ran (whatever it found), -errno when it could not (err filled).
 */
int img_check_dir(struct img_dir *d, const struct img_check_opts *o, struct img_findings *out,
		  struct img_err *err);
/* The same on a path (a folder or an archive). */
int img_check_path(const char *path, const struct img_check_opts *o, struct img_findings *out,
		   struct img_err *err);
/* "images,files" -> IMG_CHECK_IMAGES | IMG_CHECK_FILES; -EINVAL on an unknown name. */
int img_check_parse_areas(const char *s, unsigned *what);

/*
 * Mismatches with a target machine, as transform tables name them
 * ("kernel-feature:rseq", "cpu-xsave:opmask", "arch"): the code of a finding
 * of the kernel or cpu area, and its subject when the code has one.
 */
/* Whether key names a mismatch check --target can find; -EINVAL with err saying why not. */
int img_check_mismatch_ok(const char *key, struct img_err *err);
/* The key of a finding ("" for findings that are no mismatch: notes, other areas). */
void img_check_mismatch_key(const struct img_finding *fi, char *buf, size_t len);

/*
 * What the images need from a machine (the other way round: a set's
 * requirements, for cr-convert --for and for reports).
 */
struct img_needs {
	char arch[16];          /* "x86_64", or "" */
	uint64_t xsave_used;    /* XSAVE components in use in some thread (xstate_bv) */
	uint64_t xsave_present; /* components the dumping CPU had (the fields the images hold) */
	uint32_t xsave_size;    /* from cpuinfo.img, when present (0: not recorded) */
	uint32_t xsave_size_max;
	uint64_t cpu_xfeatures; /* cpuinfo.img's xfeatures_mask, 0 when not recorded */
	char kfeatures[16][24]; /* kernel.tab names the images use */
	int nkfeatures;
};
int img_check_needs(struct img_dir *d, const struct img_schema *s, struct img_needs *out, struct img_err *err);

#ifdef __cplusplus
}
#endif
#endif
