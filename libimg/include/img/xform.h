/*
 * libimg: transform tables and the image sets they rewrite.
 *
 * A transform table is data (schemas/transforms/README.md describes the
 * format): rules that match images and entries and change them — set, copy,
 * rename or drop fields; add, drop, split or merge entries; move entries
 * between images (files.img <-> the per-type images of CRIU < 3.4, core <->
 * the per-task images of older CRIU); patch task memory.  Every rule says
 * whether it is lossless and whether it can be undone, and every change it
 * makes is reported: image, entry, field, value before and after.
 *
 * The tables work on an image set held in memory (struct img_set): images are
 * decoded when a rule looks at them, and what no rule changed is written back
 * byte for byte.  img_set_write() writes into a temporary folder beside the
 * target, calls the caller's validation hook on it, and renames it into place
 * only then: the input is never written, an interrupted run leaves no output.
 *
 * Version steps are tables too: one per CRIU release that changed the format,
 * with the rules that go down to the release before and back up, and the
 * features that tell which side of the change a set is on.
 */
#ifndef IMG_XFORM_H
#define IMG_XFORM_H

#include <signal.h>

#include "base.h"
#include "image.h"
#include "json.h"
#include "schema.h"
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The image set */

struct img_set;

/* A set over an open folder; the set borrows d, which must outlive it. */
int img_set_open(struct img_dir *d, const struct img_schema *s, struct img_set **out, struct img_err *err);
void img_set_free(struct img_set *set);
const struct img_schema *img_set_schema(const struct img_set *set);
struct img_dir *img_set_dir(const struct img_set *set);

/* What became of a member. */
enum { IMG_SET_SAME = 0, IMG_SET_CHANGED, IMG_SET_ADDED, IMG_SET_REMOVED };

/* Members by index, in name order; removed ones stay listed with IMG_SET_REMOVED. */
size_t img_set_count(const struct img_set *set);
const char *img_set_member(const struct img_set *set, size_t i);
int img_set_state(const struct img_set *set, size_t i);
/* What the folder holds besides image files and the parent link (folders, sockets, dangling links): not written. */
size_t img_set_left_out(const struct img_set *set, const char *const **names);
/* Whether a member is there (and not removed). */
int img_set_has(const struct img_set *set, const char *member);
/*
 * The decoded image of a member, read on first use and kept until the set is
 * freed.  Change it through img/pb.h and call img_set_touch(); what is not
 * touched is written back as it was read.
 */
int img_set_image(struct img_set *set, const char *member, struct img_image **out, struct img_err *err);
void img_set_touch(struct img_set *set, const char *member);
/* A new, empty image of kind k (the head magic its kind has); -EEXIST when the member is there. */
int img_set_add(struct img_set *set, const char *member, const struct img_kind *k, struct img_image **out,
		struct img_err *err);
int img_set_remove(struct img_set *set, const char *member);
/* Bytes written over a member's own at an offset when it is written (memory patches of pages files). */
int img_set_patch(struct img_set *set, const char *member, uint64_t off, const void *p, size_t n,
		  struct img_err *err);

struct img_set_write_opts {
	/*
	 * Called with the complete temporary folder before it becomes the
	 * output: the place where the result is checked.  Non-zero (with err
	 * filled) refuses the output, which is then removed.
	 */
	int (*validate)(void *arg, const char *tmpdir, struct img_err *err);
	void *arg;
	/* Set by a signal handler to stop: the temporary folder is removed and -EINTR returned. */
	volatile sig_atomic_t *cancel;
	/* Flush every file and the folders to disk before the rename (survives a power loss, costs time). */
	int sync;
	/* Called as members are written: bytes done of about total (the input's sizes), for a progress display. */
	void (*progress)(void *arg, const char *member, uint64_t done, uint64_t total);
	void *progress_arg;
};

/*
 * Write the set as the folder out, which must not exist yet.  Members no
 * rule changed are copied byte for byte; the parent link of an incremental
 * dump is kept.  Temporary folders that killed runs left beside out are
 * removed first (they are recognised by a lock nobody holds any more).
 */
int img_set_write(struct img_set *set, const char *out, const struct img_set_write_opts *o, struct img_err *err);

/* Transform tables */

struct img_xf_table;

/* Which rules of a table to run: a plain table's, or a version step's way down or up. */
enum img_xf_way { IMG_XF_RULES = 0, IMG_XF_DOWN, IMG_XF_UP };

/* Parse a table (JSON text); name is what messages call it (a file name). */
int img_xf_table_parse(const char *text, size_t n, const char *name, const struct img_schema *s,
		       struct img_xf_table **out, struct img_err *err);
int img_xf_table_load(const char *path, const struct img_schema *s, struct img_xf_table **out,
		      struct img_err *err);
/* A table built into the library from schemas/transforms ("map-path", "criu-4.2", ...). */
int img_xf_table_builtin(const char *name, const struct img_schema *s, struct img_xf_table **out,
			 struct img_err *err);
/* The names of the built-in tables, NULL terminated. */
const char *const *img_xf_builtin_names(void);
void img_xf_table_free(struct img_xf_table *t);
/* Whether some rule of the table is for a host mismatch ("kernel-feature:rseq"; see img_xf_opts). */
int img_xf_table_handles(const struct img_xf_table *t, const char *mismatch);

const char *img_xf_table_name(const struct img_xf_table *t);
const char *img_xf_table_doc(const struct img_xf_table *t);
/* A version step: the CRIU release that brought the change, and the one before it; NULL for plain tables. */
const char *img_xf_table_version(const struct img_xf_table *t);
const char *img_xf_table_before(const struct img_xf_table *t);

/* What to do where an image cannot be expressed as asked (rules with "bail"). */
enum img_xf_policy {
	IMG_XF_EMULATE = 0, /* take the rule's exact emulation when it has one; else refuse */
	IMG_XF_BAIL,        /* refuse, and say why */
	IMG_XF_HOPE,        /* go on: the rule's "hope" actions (or none), with a warning in the report */
};

/* --map-path OLD=NEW: a path equal to old, or under old/, gets new in its place. */
struct img_xf_pathmap {
	const char *old, *new_;
};

/* --map-ip OLD=NEW: addresses in old/plen take new's first plen bits. */
struct img_xf_ipmap {
	int family;               /* AF_INET or AF_INET6 */
	uint8_t old[16], new_[16];
	unsigned plen;            /* prefix length: 32 or 128 for one address */
};
/* Parse "OLD=NEW" (addresses, or prefixes of one length: "10.1.0.0/16=10.2.0.0/16"). */
int img_xf_ipmap_parse(const char *arg, struct img_xf_ipmap *m, struct img_err *err);

/*
 * Task memory, for rules that patch it.  The memory API answers where the
 * bytes of an address lie; the patch itself goes into the set as an overlay
 * on that member (img_set_patch).
 */
struct img_xf_mem_ops {
	/* Where [addr, addr + len) of task pid is held: member name and offset; -ENOENT when nowhere in this set. */
	int (*locate)(void *arg, struct img_set *set, uint32_t pid, uint64_t addr, uint64_t len, char *member,
		      size_t mlen, uint64_t *off, struct img_err *err);
	void *arg;
};

/*
 * The memory API of the set's own folder, through the checkpoint model and
 * img_mem_run: the member and offset of the pages file that holds an
 * address.  The bytes must be in this set's pages: pages of a parent
 * snapshot, pages left to a lazy-pages server, pages never written and file
 * pages the image does not hold are refused with the reason, and so is a
 * task whose pagemap a rule has changed.  Close with img_xf_mem_close.
 */
int img_xf_mem_open(struct img_set *set, struct img_xf_mem_ops *ops, struct img_err *err);
void img_xf_mem_close(struct img_xf_mem_ops *ops);

struct img_xf_opts {
	int policy;                         /* enum img_xf_policy */
	const struct img_xf_pathmap *paths; /* for map-path actions without their own old/new */
	size_t npaths;
	const struct img_xf_ipmap *ips;     /* for map-ip actions */
	size_t nips;
	const char *root;                   /* refresh-file: the folder the dumped paths are under ("/") */
	const struct img_xf_mem_ops *mem;   /* patch-memory: NULL refuses such rules */
	/*
	 * The mismatches with a target machine that `check --target` found
	 * ("kernel-feature:rseq", "cpu-xsave:opmask"): rules with "mismatch"
	 * run only for these (cr-convert --for).
	 */
	const char *const *mismatches;
	size_t nmismatches;
};

/* The report: every change, and what each rule did. */
enum img_xf_op {
	IMG_XF_OP_SET = 1,     /* a field got a value (before: null when it had none) */
	IMG_XF_OP_DROP,        /* a field was removed */
	IMG_XF_OP_ADD_ENTRY,
	IMG_XF_OP_DROP_ENTRY,
	IMG_XF_OP_SPLIT,       /* an entry became several (after: how many) */
	IMG_XF_OP_MERGE,       /* an entry was merged into the one before it */
	IMG_XF_OP_MOVE,        /* a value or entry went to another image (to_image, to_entry) */
	IMG_XF_OP_ADD_IMAGE,
	IMG_XF_OP_DROP_IMAGE,
	IMG_XF_OP_HEAD,        /* the head magic changed */
	IMG_XF_OP_PATCH,       /* task memory was patched (field: the address) */
	IMG_XF_OP_KEEP,        /* hope: left as it was although the target cannot express it */
	IMG_XF_OP_ORDER,       /* the entries of an image were put in another order */
};
const char *img_xf_op_name(int op);

struct img_xf_change {
	int op;
	const char *table, *rule;
	const char *image;      /* member */
	int64_t entry;          /* index in the image when the change was made, -1: the image */
	const char *field;      /* dotted path, or NULL */
	const char *before;     /* JSON text of the value, NULL: not set */
	const char *after;
	const char *to_image;   /* MOVE */
	int64_t to_entry;
};

struct img_xf_rulestat {
	const char *table, *rule, *doc;
	int lossless, reversible;
	size_t applied;         /* entries or images the rule changed */
	const char *mismatch;   /* the host mismatches the rule is for ("kernel-feature:rseq"), or NULL */
	int skipped;            /* none of them was found: the rule did not run */
	size_t emulated, hoped; /* entries taken by the rule's emulation, or left to hope */
};

struct img_xf_report {
	struct img_xf_change *c;
	size_t n, cap;
	struct img_xf_rulestat *rules;
	size_t nrules, rcap;
	char **warn;
	size_t nwarn, wcap;
	struct img_arena arena;
	int failed;             /* an allocation failed: the report is incomplete */
};

void img_xf_report_init(struct img_xf_report *r);
void img_xf_report_free(struct img_xf_report *r);
void img_xf_report_warn(struct img_xf_report *r, const char *fmt, ...) IMG_PRINTF(2, 3);
/* One line per change, then the warnings. */
void img_xf_report_text(const struct img_xf_report *r, struct img_out *o);
/* The members "rules", "changes" and "warnings" of an object the caller has begun. */
void img_xf_report_json(const struct img_xf_report *r, struct img_jw *w);

/*
 * Run one table's rules over the set.  Changes go to rep.  A rule that
 * cannot be applied under the policy fails the run with err naming the
 * image, the entry and the reason; the set is then half changed and should
 * be dropped.
 */
int img_xf_apply(struct img_set *set, const struct img_xf_table *t, int way, const struct img_xf_opts *o,
		 struct img_xf_report *rep, struct img_err *err);

/* CRIU versions */

struct img_xf_versions;

/* The version steps built into the library, or those in a folder of tables (every *.json with "version"). */
int img_xf_versions_builtin(const struct img_schema *s, struct img_xf_versions **out, struct img_err *err);
int img_xf_versions_load(const char *dir, const struct img_schema *s, struct img_xf_versions **out,
			 struct img_err *err);
void img_xf_versions_free(struct img_xf_versions *v);
/* The newest and the oldest version the steps reach. */
const char *img_xf_versions_newest(const struct img_xf_versions *v);
const char *img_xf_versions_oldest(const struct img_xf_versions *v);
/* Compare "4.2" with "4.10": <0, 0, >0. */
int img_xf_version_cmp(const char *a, const char *b);
/* Whether s is a version number ("3.3", "4.2", "1.6.1"). */
int img_xf_version_ok(const char *s);

/* Which CRIU versions could have written a set, from the features the steps name. */
struct img_xf_detect {
	char lo[16], hi[16];         /* the set fits every version in [lo, hi] */
	char lo_why[256], hi_why[256];
	int mixed;                   /* the features disagree (lo > hi): a set partly converted, or made by hand */
};
int img_xf_detect(const struct img_xf_versions *v, struct img_set *set, struct img_xf_detect *d, struct img_err *err);

/* The steps from one version to another, in the order to run them. */
struct img_xf_step {
	const struct img_xf_table *table;
	int way;                     /* IMG_XF_DOWN or IMG_XF_UP */
};
int img_xf_plan(const struct img_xf_versions *v, const char *from, const char *to, struct img_xf_step *steps,
		size_t max, size_t *n, struct img_err *err);

#ifdef __cplusplus
}
#endif
#endif
