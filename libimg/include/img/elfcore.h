/*
 * libimg: ELF core files of checkpointed processes.
 *
 * img_core_write() writes what the kernel writes when a process dumps core,
 * from a checkpoint instead of a live process, so that gdb, eu-readelf and
 * other debuggers open it as if the process had crashed where it was
 * checkpointed: one NT_PRSTATUS per thread (the main thread first) with the
 * thread's registers, its FP and vector state (NT_FPREGSET, NT_X86_XSTATE in
 * the layout the kernel uses for the image's XSAVE features; NT_ARM_TLS,
 * NT_ARM_VFP on ARM), NT_SIGINFO, NT_PRPSINFO, NT_AUXV, NT_FILE, and one
 * PT_LOAD per mapping.
 *
 * The architecture is the image's (core_entry.mtype), not the machine's:
 * x86_64, aarch64 and arm images are written on any host.
 *
 * Memory comes through img/mem.h: private pages through the parent chain,
 * shared anonymous and memfd memory from the shmem pagemaps, and the pages of
 * file mappings that the image lacks from the files under the root when they
 * are the files the image describes (size and build-id).  Pages the image
 * does not hold are holes: the core is a sparse file, written with pwrite
 * straight from the mapped pages files, in memory of the metadata's size.
 */
#ifndef IMG_ELFCORE_H
#define IMG_ELFCORE_H

#include "base.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
	/*
	 * Do not copy the pages of file mappings that the image lacks: those
	 * ranges get PT_LOAD segments without file bytes, and a debugger reads
	 * them from the files NT_FILE names.
	 */
	IMG_CORE_NO_FILE_PAGES = 1,
};

/* What was written. */
struct img_core_stats {
	size_t threads;
	size_t segments;        /* PT_LOAD headers */
	size_t files;           /* NT_FILE entries */
	uint64_t mem;           /* bytes of address space the segments cover */
	uint64_t data;          /* bytes of memory written (the rest are holes) */
	uint64_t size;          /* the length of the core file */
	uint64_t missing;       /* pages the image should hold and does not (lazy, lost): holes */
};

struct img_core_opts {
	unsigned flags;                 /* IMG_CORE_* */
	const char *root;               /* where the files of file mappings are; NULL: "/" */
	/* what the core leaves out, and why (a file that changed, pages that are missing); may be NULL */
	void (*warn)(void *arg, const struct img_err *what);
	/* memory written so far, of a total; called every few MiB; may be NULL */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *arg;
	struct img_core_stats *stats;   /* filled when not NULL */
};

/*
 * Can a core of task t be written: an architecture with a core layout, an
 * address space (not a zombie)?  0, or -errno with err saying why.
 */
int img_core_supported(const struct img_task *t, struct img_err *err);
/*
 * Write the core of task t into fd, a new empty file opened for reading and
 * writing (positioned writes: the file stays sparse).
 */
int img_core_write(struct img_ckpt *ck, const struct img_task *t, int fd, const struct img_core_opts *o,
		   struct img_err *err);
/*
 * Write DIR/core.PID (mode 0600: it holds the process's memory): to a
 * temporary name in DIR, read back, and renamed when complete.
 */
int img_core_write_dir(struct img_ckpt *ck, const struct img_task *t, const char *dir, const struct img_core_opts *o,
		       struct img_err *err);

#ifdef __cplusplus
}
#endif
#endif
