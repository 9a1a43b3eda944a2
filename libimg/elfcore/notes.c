/*
 * The notes every architecture shares: NT_PRSTATUS around the registers,
 * NT_PRPSINFO, NT_SIGINFO, NT_AUXV and NT_FILE, laid out as
 * include/linux/elfcore.h and the kernel's fill_* helpers (fs/binfmt_elf.c)
 * lay them out, for a C long of the architecture's word size.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "priv.h"

#define SI_USER 0
#define SI_KERNEL 0x80
#define SIGSTOP 19 /* the same number on x86, arm and arm64 */

uint8_t *core_note(struct img_buf *b, const char *name, uint32_t type, size_t n)
{
	size_t namesz = strlen(name) + 1, at = b->len, total;

	if (n > UINT32_MAX - 3)
		return NULL;
	total = 12 + ((namesz + 3) & ~(size_t)3) + ((n + 3) & ~(size_t)3);
	if (img_buf_reserve(b, total))
		return NULL;
	memset(b->data + at, 0, total);
	core_le(b->data + at, namesz, 4);
	core_le(b->data + at + 4, n, 4);
	core_le(b->data + at + 8, type, 4);
	memcpy(b->data + at + 12, name, namesz);
	b->len += total;
	return b->data + at + 12 + ((namesz + 3) & ~(size_t)3);
}

static uint8_t *note_or_fail(struct img_buf *b, const char *name, uint32_t type, size_t n, struct img_err *err)
{
	uint8_t *d = core_note(b, name, type, n);

	if (!d)
		img_err_set(err, ENOMEM, "out of memory");
	return d;
}

/*
 * elf_prstatus: elf_siginfo (3 ints), pr_cursig (short), pr_sigpend and
 * pr_sighold (long), pid, ppid, pgrp, sid, four timevals (two longs each),
 * pr_reg, pr_fpvalid (int), padded to a long.
 */
#define PRS_SIGPEND 16
#define PRS_PID(w) (16 + 2 * (w))
#define PRS_REG(w) (32 + 10 * (w))

size_t core_prstatus_size(const struct core_arch *a)
{
	size_t n = PRS_REG(a->word) + a->gregs + 4;

	return (n + a->word - 1) / a->word * a->word;
}

/*
 * elf_prpsinfo: state, sname, zomb, nice (chars), pr_flag (long), uid and gid
 * (__kernel_uid_t), pid, ppid, pgrp, sid, pr_fname[16], pr_psargs[80].
 */
#define PRP_PID(a) (2 * (a)->word + 2 * (a)->uid)

size_t core_prpsinfo_size(const struct core_arch *a)
{
	size_t n = PRP_PID(a) + 16 + 16 + CORE_PRARGSZ;

	return (n + a->word - 1) / a->word * a->word;
}

/* The signals a signal_queue_entry holds, as a mask (bit n-1 for signal n) of one C long. */
static uint64_t pending_mask(const struct img_msg *q, unsigned word)
{
	struct img_iter it;
	struct img_msg *si;
	uint64_t mask = 0;

	if (!q || img_iter_init(&it, q, "signals"))
		return 0;
	while ((si = img_iter_next_msg(&it))) {
		size_t n;
		const uint8_t *p = img_msg_bytes(si, "siginfo", &n);
		uint32_t sig = n >= 4 ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24 : 0;

		if (sig >= 1 && sig <= 8 * word)
			mask |= 1ull << (sig - 1);
	}
	return mask;
}

static int prstatus(struct img_buf *b, const struct core_arch *a, const struct core_proc *p, int signo,
		    const struct img_thread *th, const struct img_msg *ti, struct img_err *err)
{
	const struct img_task *t = p->task;
	unsigned w = a->word;
	uint8_t *d = note_or_fail(b, "CORE", CORE_NT_PRSTATUS, core_prstatus_size(a), err);
	int r;

	if (!d)
		return -ENOMEM;
	/* the kernel fills si_signo and pr_cursig only */
	core_le(d, (uint32_t)signo, 4);
	core_le(d + 12, (uint16_t)signo, 2);
	core_le(d + PRS_SIGPEND, pending_mask(th->pending, w), w);
	core_le(d + PRS_SIGPEND + w, th->blocked, w);
	core_le(d + PRS_PID(w), th->tid, 4);
	core_le(d + PRS_PID(w) + 4, t->ppid, 4);
	core_le(d + PRS_PID(w) + 8, t->pgid, 4);
	core_le(d + PRS_PID(w) + 12, t->sid, 4);
	/* the times are not in the image: zero, as for a task that never ran */
	r = a->fill_gregs(ti, d + PRS_REG(w), err);
	if (r)
		return r;
	core_le(d + PRS_REG(w) + a->gregs, (uint32_t)a->fpvalid, 4);
	return 0;
}

static int prpsinfo(struct img_buf *b, const struct core_arch *a, const struct core_proc *p, struct img_err *err)
{
	const struct img_task *t = p->task;
	const struct img_thread *th = &t->threads[0];
	const struct img_msg *tc = img_msg_sub(t->core, "tc"), *thc = img_msg_sub(t->core, "thread_core");
	size_t pid = PRP_PID(a), n = 0, len;
	uint8_t *d, args[CORE_PRARGSZ];

	/* the command line as exec left it: the kernel's first ELF_PRARGSZ - 1 bytes, NULs made spaces */
	memset(args, 0, sizeof(args));
	if (t->mm && t->mm->arg_end > t->mm->arg_start) {
		len = t->mm->arg_end - t->mm->arg_start < CORE_PRARGSZ - 1 ? (size_t)(t->mm->arg_end - t->mm->arg_start)
									   : CORE_PRARGSZ - 1;
		if (img_mem_read(p->mem, t->mm->arg_start, args, len, &n, NULL) || n < len)
			n = 0; /* not in the image: leave it empty */
		for (size_t i = 0; i < n; i++)
			if (!args[i])
				args[i] = ' ';
	}
	d = note_or_fail(b, "CORE", CORE_NT_PRPSINFO, core_prpsinfo_size(a), err);
	if (!d)
		return -ENOMEM;
	/* "RSDTZW"[state]: a checkpointed process was stopped where it was dumped; zombies have no core */
	d[0] = 3;
	d[1] = 'T';
	d[2] = 0;
	d[3] = (uint8_t)(int8_t)img_msg_i64(thc, "sched_nice", 0);
	core_le(d + a->word, img_msg_u64(tc, "flags", 0), a->word);
	core_le(d + 2 * a->word, img_msg_u64(th->creds, "uid", 0), a->uid);
	core_le(d + 2 * a->word + a->uid, img_msg_u64(th->creds, "gid", 0), a->uid);
	core_le(d + pid, t->pid, 4);
	core_le(d + pid + 4, t->ppid, 4);
	core_le(d + pid + 8, t->pgid, 4);
	core_le(d + pid + 12, t->sid, 4);
	if (t->comm)
		strncpy((char *)d + pid + 16, t->comm, 15);
	memcpy(d + pid + 32, args, n);
	return 0;
}

/*
 * siginfo_t (128 bytes): si_signo, si_errno, si_code, then the union at the
 * alignment of a pointer; for a signal sent by kill() si_pid and si_uid lead it.
 */
static int siginfo(struct img_buf *b, int signo, int code, struct img_err *err)
{
	uint8_t *d = note_or_fail(b, "CORE", CORE_NT_SIGINFO, CORE_SIGINFO_SIZE, err);

	if (!d)
		return -ENOMEM;
	core_le(d, (uint32_t)signo, 4);
	core_le(d + 8, (uint32_t)code, 4);
	/* si_pid, si_uid: who sent a stop signal is not recorded, and the checkpoint's own stop has no sender: 0 */
	return 0;
}

/*
 * The signal the core says the threads stopped with.  A checkpoint freezes a
 * running process from the kernel (ptrace, the freezer): a SIGSTOP-style stop
 * that no process sent, SI_KERNEL.  A process that was already in a group
 * stop keeps the signal that stopped it (task_core_entry.stop_signo), sent by
 * someone the image does not name: SI_USER.
 */
static void stop_signal(const struct img_task *t, int *signo, int *code)
{
	const struct img_msg *tc = img_msg_sub(t->core, "tc");
	uint64_t sig = img_msg_u64(tc, "stop_signo", 0);

	*signo = SIGSTOP;
	*code = SI_KERNEL;
	if (t->state == IMG_TASK_STOPPED) {
		*code = SI_USER;
		if (sig >= 1 && sig <= 64)
			*signo = (int)sig;
	}
}

/* mm_saved_auxv up to and with its AT_NULL pair, in longs. */
static int auxv(struct img_buf *b, const struct core_arch *a, const struct core_proc *p, struct img_err *err)
{
	const struct img_mm *mm = p->task->mm;
	size_t n = 0;
	uint8_t *d;

	if (!mm || !mm->nauxv)
		return 0;
	while (n + 2 <= mm->nauxv && mm->auxv[n])
		n += 2;
	n = n + 2 <= mm->nauxv ? n + 2 : n;
	d = note_or_fail(b, "CORE", CORE_NT_AUXV, n * a->word, err);
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		core_le(d + i * a->word, mm->auxv[i], a->word);
	return 0;
}

/* NT_FILE: count, page size, (start, end, offset in pages) per mapping, then the names. */
static int file_note(struct img_buf *b, const struct core_arch *a, const struct core_proc *p, struct img_err *err)
{
	size_t w = a->word, n = (2 + 3 * p->nfiles) * w, at;
	uint8_t *d;

	if (!p->nfiles)
		return 0;
	for (size_t i = 0; i < p->nfiles; i++)
		n += strlen(p->files[i]->file->path) + 1;
	d = note_or_fail(b, "CORE", CORE_NT_FILE, n, err);
	if (!d)
		return -ENOMEM;
	core_le(d, p->nfiles, w);
	core_le(d + w, CORE_PAGE, w);
	at = (2 + 3 * p->nfiles) * w;
	for (size_t i = 0; i < p->nfiles; i++) {
		const struct img_vma *v = p->files[i];
		size_t len = strlen(v->file->path) + 1;

		core_le(d + (2 + 3 * i) * w, v->start, w);
		core_le(d + (3 + 3 * i) * w, v->end, w);
		core_le(d + (4 + 3 * i) * w, v->pgoff / CORE_PAGE, w);
		memcpy(d + at, v->file->path, len);
		at += len;
	}
	return 0;
}

int core_notes(struct img_buf *b, const struct core_arch *a, const struct core_proc *p, struct img_err *err)
{
	const struct img_task *t = p->task;
	int signo, code;

	stop_signal(t, &signo, &code);
	for (size_t i = 0; i < t->nthreads; i++) {
		const struct img_thread *th = &t->threads[i];
		const struct img_msg *ti = img_msg_sub(th->core, a->ti);
		char subj[64];
		int r;

		snprintf(subj, sizeof(subj), "core-%u.img", th->tid);
		if (!ti) {
			img_err_subject(err, subj);
			return img_err_set(err, EINVAL, "no %s: the thread's registers are not in the image", a->ti);
		}
		r = prstatus(b, a, p, signo, th, ti, err);
		if (!r && i == 0)
			r = prpsinfo(b, a, p, err);
		if (!r)
			r = siginfo(b, signo, code, err);
		if (!r && i == 0)
			r = auxv(b, a, p, err);
		if (!r && i == 0)
			r = file_note(b, a, p, err);
		if (!r)
			r = a->thread_notes(b, ti, err);
		if (r) {
			if (r != -ENOMEM)
				img_err_subject(err, subj);
			return r;
		}
	}
	return 0;
}
