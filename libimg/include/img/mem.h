/*
 * libimg: the memory of a checkpointed task, read on demand.
 *
 * A task's pages are found through an index over its pagemap (binary search;
 * a page's offset in pages-N.img counts only the PE_PRESENT entries before
 * it).  PE_PARENT pages are followed through the image set's parent chain,
 * shared anonymous memory and memfd mappings through pagemap-shmem-ID.img,
 * and file-backed pages the image does not hold can be read from a root
 * folder when one is set.  Pages files stay mapped, never copied: what runs
 * return points into them, and memory use is the metadata's.
 */
#ifndef IMG_MEM_H
#define IMG_MEM_H

#include "base.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the checkpoint says about a page. */
enum img_page_state {
	IMG_PAGE_UNMAPPED = 0, /* no VMA there */
	IMG_PAGE_PRESENT,      /* in this image set's pages */
	IMG_PAGE_PARENT,       /* PE_PARENT: in a parent image set's pages (data found) */
	IMG_PAGE_LAZY,         /* PE_LAZY without PE_PRESENT: left to the page server, not in the image */
	IMG_PAGE_FILE,         /* file-backed and not in the image: the file holds it */
	IMG_PAGE_ZERO,         /* anonymous, not in the image: never touched or zero (reads as zeros) */
	IMG_PAGE_MISSING,      /* the image should hold it but does not (parent absent, pages file short) */
	IMG_PAGE__COUNT
};
const char *img_page_state_name(int state); /* "present", "parent", "lazy", "file", "zero", ... */

struct img_mem;

enum {
	/* Read file-backed pages the image lacks from the files under the root (img_mem_set_root). */
	IMG_MEM_FILES = 1,
};

/* The address space of a task.  The checkpoint must outlive it. */
int img_mem_open(struct img_ckpt *ck, const struct img_task *t, unsigned flags, struct img_mem **out,
		 struct img_err *err);
/*
 * The pages of a shared memory object (shared anonymous memory, a memfd, a
 * SysV segment: pagemap-shmem-SHMID.img) of size bytes, seen at addresses
 * [0, size): for objects no task maps.
 */
int img_mem_open_shm(struct img_ckpt *ck, uint64_t shmid, uint64_t size, struct img_mem **out,
		     struct img_err *err);
void img_mem_close(struct img_mem *m);
/* Where the files of file-backed mappings are ("/" for the live host, or an extracted rootfs). */
int img_mem_set_root(struct img_mem *m, const char *root, struct img_err *err);
const struct img_task *img_mem_task(const struct img_mem *m);
/*
 * Whether the pages of a file mapping that the image lacks can be read from
 * the root: 0 when the file is there and is the one the image describes (the
 * size and, where one was recorded, the ELF build-id CRIU saw at dump), else
 * -errno with err naming the file and saying why.  Pages of a file that is
 * not the same are never read (they read as IMG_PAGE_FILE with no data).
 */
int img_mem_root_file(struct img_mem *m, const struct img_file *f, struct img_err *err);

/*
 * A run: the longest stretch from an address on that has one state, one VMA
 * and contiguous bytes behind it.
 */
struct img_mem_run {
	uint64_t start, end;         /* [start, end) */
	int state;                   /* enum img_page_state */
	const struct img_vma *vma;   /* NULL when unmapped */
	const uint8_t *data;         /* the bytes of [start, end), or NULL when the image has none */
	const char *source;          /* the member the bytes come from ("pages-1.img"), or NULL */
	uint64_t offset;             /* where the bytes of start are in that member */
	int depth;                   /* parent links followed to find them (0: this set) */
};

/*
 * The run at addr, ending at limit at the latest (limit > addr).  A run over
 * unmapped space ends at the next VMA.  Data pointers into mapped pages files
 * stay valid while m is open; pages of a source that is not mapped (a member
 * of a compressed archive) come through a window of m that the next
 * img_mem_run on m may reuse.  img_mem_read never moves the window.
 */
int img_mem_run(struct img_mem *m, uint64_t addr, uint64_t limit, struct img_mem_run *run, struct img_err *err);
/* The state of the page holding addr. */
int img_mem_page(struct img_mem *m, uint64_t addr, int *state, struct img_err *err);
/*
 * Copy [addr, addr+len) into buf; bytes the image does not hold read as
 * zeros.  *have (if not NULL) gets how many bytes came from the image.
 */
int img_mem_read(struct img_mem *m, uint64_t addr, void *buf, size_t len, size_t *have, struct img_err *err);
/* Pages of each state in [start, end), counted per page. */
int img_mem_count(struct img_mem *m, uint64_t start, uint64_t end, uint64_t counts[IMG_PAGE__COUNT],
		  struct img_err *err);
/*
 * Tell the system the bytes of a run are no longer needed (they are dropped
 * from this process's memory and read again if touched).  Scans over large
 * images call it behind them so that resident memory stays small.
 */
void img_mem_release(struct img_mem *m, const struct img_mem_run *run);

/*
 * The command line or the environment of the task, as NUL-separated strings.
 * IMG_STRINGS_ARGV and IMG_STRINGS_ENV_BLOCK read the blocks exec set up
 * (/proc/PID/cmdline and /proc/PID/environ).  IMG_STRINGS_ENV gives the
 * environment the process had at the checkpoint: when it called setenv(),
 * glibc's environment array in writable memory (an array of pointers to
 * KEY=VALUE strings that starts with the block's first one), and *live is set.
 */
enum { IMG_STRINGS_ARGV, IMG_STRINGS_ENV_BLOCK, IMG_STRINGS_ENV };
int img_mem_strings(struct img_mem *m, int which, struct img_buf *out, int *live, struct img_err *err);

/*
 * Search.  Literal and hex patterns use a memmem-class scan over the mapped
 * pages; regular expressions are POSIX extended (regcomp) over chunks that
 * overlap by max_len bytes.  Matches that span two runs (adjacent pages kept
 * in different places) are found too.
 *
 * A regular expression's cost is bounded: back-references are refused
 * (EINVAL), a match is looked for up to max_len bytes (at most 1 MiB), and
 * after timeout_ms of searching (summed over the img_search_mem calls of one
 * img_search) the search stops with ETIMEDOUT, the message saying where.
 */
enum img_search_kind { IMG_SEARCH_LITERAL, IMG_SEARCH_HEX, IMG_SEARCH_REGEX };

#define IMG_SEARCH_TIMEOUT_MS 60000u      /* regex: the default time limit */
#define IMG_SEARCH_NO_TIMEOUT UINT32_MAX  /* regex: no time limit */

struct img_search_opts {
	int kind;                     /* enum img_search_kind */
	int icase;                    /* regex: REG_ICASE */
	uint64_t start, end;          /* address range; end 0: no limit */
	unsigned vma_kinds;           /* bit (1 << IMG_VMA_*) per kind searched; 0: all */
	uint32_t prot_need;           /* PROT_* bits a VMA must have */
	size_t max_len;               /* regex: the longest match looked for (default 4096, at most 1 MiB) */
	uint32_t timeout_ms;          /* regex: 0 for IMG_SEARCH_TIMEOUT_MS, or IMG_SEARCH_NO_TIMEOUT */
};

struct img_search;

struct img_match {
	const struct img_task *task;
	const struct img_vma *vma;
	uint64_t addr;
	size_t len;
	int state;                    /* of the page the match starts in */
};

int img_search_new(const char *pattern, const struct img_search_opts *o, struct img_search **out,
		   struct img_err *err);
void img_search_free(struct img_search *s);
/* The bytes a literal or hex pattern stands for (NULL for a regex). */
const uint8_t *img_search_bytes(const struct img_search *s, size_t *len);
/*
 * Search one task's memory; fn is called for each match in address order and
 * stops the search by returning non-zero (which img_search_mem returns).
 */
int img_search_mem(struct img_search *s, struct img_mem *m,
		   int (*fn)(void *arg, const struct img_match *match), void *arg, struct img_err *err);

#ifdef __cplusplus
}
#endif
#endif
