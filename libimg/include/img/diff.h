/*
 * libimg: what changed between two checkpoints, from the image set and the
 * process tree down to memory pages.
 *
 * A comparison pairs what the two sides hold (tasks by pid or by name and
 * command line, threads, namespaces, VMAs, fds) and reports each difference
 * as a change record {category, task, path, before, after}.  Paths are the
 * JSON paths of the decoded entries ("core.thread_info.gpregs.ip",
 * "mm.vmas[3].prot", "fd[3].reg.pos"); man/cr-diff.1 defines them.  Memory
 * is compared page by page in place (both sides walked in address order,
 * mapped runs compared with memcmp), and reported as ranges.
 *
 * The work is split by category and task pair, so that a front end can run
 * only what it shows (img_diff_run), or everything (img_diff_all).
 */
#ifndef IMG_DIFF_H
#define IMG_DIFF_H

#include "base.h"
#include "mem.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Categories.  images, ns and files have records about the image set as a
 * whole (img_diff_run with no pair); tree, ns, tasks, mm, files, sockets and
 * memory have records about each task pair.
 */
enum img_diff_cat {
	IMG_DIFF_IMAGES,   /* which images exist, the inventory, images no other category covers */
	IMG_DIFF_TREE,     /* tasks and threads added or removed, tasks reparented */
	IMG_DIFF_NS,       /* namespaces and their images, mounts, cgroups; the tasks' namespace ids */
	IMG_DIFF_TASKS,    /* core (registers, state, signals, rlimits, creds, timers, comm, seccomp), fs, ids */
	IMG_DIFF_MM,       /* the mm entry, auxv, VMAs */
	IMG_DIFF_FILES,    /* fds and the files behind them (sockets aside), files no fd holds */
	IMG_DIFF_SOCKETS,  /* fds that hold sockets: the socket entries, queued data, TCP streams */
	IMG_DIFF_MEMORY,   /* page contents */
	IMG_DIFF__NCAT
};
const char *img_diff_cat_name(int cat);  /* "images", "tree", "ns", "tasks", "mm", "files", "sockets", "memory" */
int img_diff_cat_parse(const char *name); /* the category, or -1 */

enum img_diff_op { IMG_DIFF_CHANGED = 1, IMG_DIFF_ADDED, IMG_DIFF_REMOVED };
const char *img_diff_op_name(int op);    /* "changed", "added", "removed" */

enum img_diff_match { IMG_DIFF_MATCH_PID, IMG_DIFF_MATCH_COMM };

struct img_diff_opts {
	int match;                  /* enum img_diff_match */
	unsigned cats;              /* (1u << IMG_DIFF_*) for each category img_diff_all runs; 0: all */
	int keep_volatile;          /* also compare what img_diff_volatile() lists */
	const char *const *ignore;  /* more paths (patterns) to leave out */
	size_t nignore;
};

/* A task of A and its counterpart in B; one of them is NULL for a task removed or added. */
struct img_diff_pair {
	const struct img_task *a, *b;
	const char *label;          /* "1", "1->7" when the pids differ, or the pid of the side that has it */
	const char *comm;           /* the task's name (A's, else B's) */
};

/* Memory records: a range of pages of one mapping. */
struct img_diff_range {
	uint64_t start, end;        /* [start, end) in A (in B for pages only B has) */
	uint64_t b_start;           /* where the range starts in B (differs from start when the mapping moved) */
	const struct img_vma *vma_a, *vma_b; /* the mappings (one is NULL for a mapping only one side has) */
	int state_a, state_b;       /* enum img_page_state of the range's first page on each side */
	uint64_t pages;
	uint64_t bytes;             /* changed: bytes that differ; added, removed: the bytes the side that has them holds */
	uint64_t first;             /* the first address (in A, or B for added) whose byte differs */
};

struct img_diff_change {
	int cat;                    /* enum img_diff_cat */
	int op;                     /* enum img_diff_op */
	const struct img_diff_pair *pair; /* the task, or NULL for the image set as a whole */
	uint32_t tid_a, tid_b;      /* a thread's record (core of a thread other than the main one), else 0 */
	const char *task;           /* NULL, the pair's label, or PID/TID for a thread ("1/3", "1/3->7/9") */
	const char *comm;           /* the task's name, or the thread's; NULL for the image set */
	const char *path;
	/* The values as JSON text (exact integers), and as people read them (crit --pretty: hex, flag
	 * names, addresses).  NULL for the side that has none (added, removed). */
	const char *before, *after;
	const char *before_text, *after_text;
	const struct img_diff_range *range; /* memory records, else NULL */
};

/* Totals over the records reported so far. */
struct img_diff_stats {
	uint64_t changes;                 /* records */
	uint64_t by_cat[IMG_DIFF__NCAT];
	uint64_t pages_changed, pages_added, pages_removed;
	uint64_t bytes_changed;           /* bytes that differ in changed pages */
};

struct img_diff;

/*
 * Compare two checkpoints the caller has open (and keeps open until
 * img_diff_free).  The options are copied.
 */
int img_diff_new(struct img_ckpt *a, struct img_ckpt *b, const struct img_diff_opts *o, struct img_diff **out,
		 struct img_err *err);
/*
 * Open and compare two inputs (image folders, checkpoint archives).  A folder
 * without pstree.img has no tasks: only its images are compared.
 */
int img_diff_open(const char *a, const char *b, const struct img_diff_opts *o, struct img_diff **out,
		  struct img_err *err);
void img_diff_free(struct img_diff *d);
/*
 * Are two inputs the same image set byte for byte: the same members with the
 * same bytes, and parents that are too?  Small files are compared first, so
 * that two different dumps are told apart at once.  *same is 1 or 0 (also 0,
 * and no error, for inputs that are not image folders: img_diff_open says
 * what they are).
 */
int img_diff_identical(const char *a, const char *b, int *same, struct img_err *err);

/* Check the syntax of a path pattern; 0 or -EINVAL with err saying what is wrong. */
int img_diff_pattern_check(const char *pattern, struct img_err *err);
/* Does the pattern leave out this path (the path or one of its parents)? */
int img_diff_pattern_match(const char *pattern, const char *path);
/* The fields left out by default, as patterns, with why: { pattern, reason } pairs ending with NULL. */
const char *const *img_diff_volatile(void);

/* The task pairs, in A's process tree order, then the tasks only B has. */
const struct img_diff_pair *img_diff_pairs(const struct img_diff *d, size_t *n);
struct img_ckpt *img_diff_ckpt(const struct img_diff *d, int side); /* side 0: A, 1: B; NULL: no tasks */
/* The memory of a pair's task on one side (opened once, kept until img_diff_free), or NULL with err. */
struct img_mem *img_diff_mem(struct img_diff *d, const struct img_diff_pair *p, int side, struct img_err *err);

/*
 * Report the records of one category: pair NULL for what concerns the whole
 * set (images, namespaces, files no fd holds), else the records of one task
 * pair.  fn is called for each record; the record and its strings live until
 * fn returns.  A non-zero return of fn stops the run and is returned.
 * Something shared by tasks (an fd table, an open file, a memory map, shared
 * memory) is reported under the first pair that holds it, whatever the order
 * of the calls.
 */
typedef int (*img_diff_fn)(void *arg, const struct img_diff_change *c);
int img_diff_run(struct img_diff *d, int cat, const struct img_diff_pair *pair, img_diff_fn fn, void *arg,
		 struct img_err *err);
/*
 * Everything the options ask for: the set-wide records (images, namespaces,
 * files no fd holds), then for each pair tree, ns, tasks, mm, files, sockets
 * and memory.
 */
int img_diff_all(struct img_diff *d, img_diff_fn fn, void *arg, struct img_err *err);
const struct img_diff_stats *img_diff_stats(const struct img_diff *d);

#ifdef __cplusplus
}
#endif
#endif
