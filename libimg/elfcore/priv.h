/*
 * The core writer's pieces (private to libimg): the per-architecture note
 * builders, registered in one table, and the note buffer they write into.
 *
 * Notes are built byte by byte in the target's byte order (every supported
 * architecture is little-endian), at the offsets of the kernel's structures
 * (include/linux/elfcore.h, the architectures' user_regs and regsets), never
 * by casting a host structure: the host may be another machine.
 */
#ifndef ELFCORE_PRIV_H
#define ELFCORE_PRIV_H

#include "img/elfcore.h"
#include "img/mem.h"
#include "img/pb.h"

#define CORE_PAGE 4096u
#define CORE_PRARGSZ 80        /* ELF_PRARGSZ: pr_psargs */

/* Note types (include/uapi/linux/elf.h) */
enum {
	CORE_NT_PRSTATUS = 1, CORE_NT_FPREGSET = 2, CORE_NT_PRPSINFO = 3, CORE_NT_AUXV = 6,
	CORE_NT_SIGINFO = 0x53494749, CORE_NT_FILE = 0x46494c45,
	CORE_NT_X86_XSTATE = 0x202, CORE_NT_ARM_VFP = 0x400, CORE_NT_ARM_TLS = 0x401,
};

/* Little-endian stores of n bytes. */
static inline void core_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * Append a note (name, type) with a description of n zero bytes, padded as
 * ELF notes are (4 bytes); returns the description to fill, valid until the
 * next note is added, or NULL when memory ran out.
 */
uint8_t *core_note(struct img_buf *b, const char *name, uint32_t type, size_t n);

/* An architecture: its ELF machine, the sizes of its C types in the notes, its registers. */
struct core_arch {
	uint32_t mtype;         /* core_entry.mtype */
	const char *name;
	const char *ti;         /* the core_entry field that holds a thread's registers */
	uint16_t machine;       /* EM_* */
	uint8_t word;           /* 8 or 4: the ELF class, and the size of a C long in the notes */
	uint8_t uid;            /* bytes of __kernel_uid_t in elf_prpsinfo (2 on arm) */
	uint16_t gregs;         /* bytes of elf_gregset_t */
	/* elf_gregset_t (gregs bytes, zeroed) from the thread info */
	int (*fill_gregs)(const struct img_msg *ti, uint8_t *out, struct img_err *err);
	/* The notes that follow NT_PRSTATUS and NT_SIGINFO for a thread: FP, vector and TLS state. */
	int (*thread_notes)(struct img_buf *b, const struct img_msg *ti, struct img_err *err);
	int fpvalid;            /* pr_fpvalid: thread_notes writes the FP registers */
};

extern const struct core_arch core_arch_x86_64, core_arch_aarch64, core_arch_arm;

/* The architecture of a thread's core_entry, or NULL. */
const struct core_arch *core_arch_of(const struct img_msg *core);

/* Layouts of the generic structures, from the architecture's word size. */
size_t core_prstatus_size(const struct core_arch *a);
size_t core_prpsinfo_size(const struct core_arch *a);
#define CORE_SIGINFO_SIZE 128

/* What a process's notes say besides the threads' registers. */
struct core_proc {
	const struct img_task *task;
	struct img_mem *mem;
	const struct img_vma *const *files; /* the mappings NT_FILE lists */
	size_t nfiles;
};

/*
 * Every note of a process, in the kernel's order: for each thread (the main
 * one first) NT_PRSTATUS, then for the first NT_PRPSINFO, and for each
 * NT_SIGINFO, then for the first NT_AUXV and NT_FILE, then the thread's FP,
 * vector and TLS notes.
 */
int core_notes(struct img_buf *b, const struct core_arch *a, const struct core_proc *p, struct img_err *err);

#endif
