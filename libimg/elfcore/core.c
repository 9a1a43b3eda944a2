/*
 * The core file: the ELF header and program headers (written with libelf),
 * the notes, then the memory of each PT_LOAD segment, page aligned, in the
 * layout fs/binfmt_elf.c gives a core.  Bytes are written with pwrite where
 * the image holds them and nowhere else, so the file is sparse: pages the
 * image lacks are holes and read as zeros.
 *
 * One segment per mapping, as the kernel writes them.  A file mapping whose
 * pages are left to its file (--no-file-pages, or a file that is not there or
 * not the same) is cut where the image holds pages and where it does not, so
 * that a debugger reads the pages the image lacks from the file NT_FILE names
 * (segments without file bytes) rather than zeros.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/image.h"
#include "priv.h"

#define CHUNK ((uint64_t)4 << 20)  /* bytes written between progress reports and releases */
#define CORE_MAX ((uint64_t)1 << 56) /* a larger core is no process's: 57 bits is the largest user address space */
#define FD_REG 1                    /* fd_types */
#define MADV_DONTDUMP_BIT (1ull << 16) /* vma_entry.madv: 1 << MADV_DONTDUMP */

static const struct core_arch *const arches[] = { &core_arch_x86_64, &core_arch_aarch64, &core_arch_arm };

const struct core_arch *core_arch_of(const struct img_msg *core)
{
	uint64_t mt = img_msg_u64(core, "mtype", 0);

	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++)
		if (arches[i]->mtype == mt)
			return arches[i];
	return NULL;
}

int img_core_supported(const struct img_task *t, struct img_err *err)
{
	char subj[64];

	snprintf(subj, sizeof(subj), "core-%u.img", t->pid);
	if (!t->mm || !t->nthreads || t->state == IMG_TASK_ZOMBIE || t->state == IMG_TASK_DEAD) {
		img_err_subject(err, subj);
		return img_err_set(err, ENOTSUP, "pid %u is %s: it has no memory to write a core of", t->pid,
				   t->state == IMG_TASK_ZOMBIE || t->state == IMG_TASK_DEAD ? "a zombie" : "without an mm");
	}
	for (size_t i = 0; i < t->nthreads; i++) {
		const struct img_thread *th = &t->threads[i];

		if (core_arch_of(th->core) != core_arch_of(t->core) || !core_arch_of(th->core)) {
			snprintf(subj, sizeof(subj), "core-%u.img", th->tid);
			img_err_subject(err, subj);
			return img_err_set(err, ENOTSUP, "architecture %s (mtype %llu) has no core layout here: x86_64, "
					   "aarch64 and arm have", th->arch ? th->arch : "unknown",
					   (unsigned long long)img_msg_u64(th->core, "mtype", 0));
		}
	}
	return 0;
}

struct seg {
	uint64_t start, end;
	uint64_t off;                /* in the core */
	uint32_t flags;              /* PF_* */
	int data;                    /* the core holds these bytes (else a debugger reads the file) */
	const struct img_vma *vma;
};

struct core {
	const struct img_core_opts *o;
	const struct core_arch *a;
	const struct img_task *t;
	struct img_mem *m;
	struct seg *seg;
	size_t nseg, cap;
	const struct img_vma **files; /* NT_FILE */
	size_t nfiles;
	uint32_t *warned;             /* file ids already warned about */
	size_t nwarned;
	uint64_t total, done, reported;
	struct img_core_stats st;
};

static void warn(struct core *c, const char *subject, const char *fmt, ...) IMG_PRINTF(3, 4);
static void warn(struct core *c, const char *subject, const char *fmt, ...)
{
	struct img_err w = { 0 };
	va_list ap;

	if (!c->o->warn)
		return;
	img_err_subject(&w, subject);
	va_start(ap, fmt);
	img_err_vset(&w, EINVAL, fmt, ap);
	va_end(ap);
	c->o->warn(c->o->arg, &w);
}

static int add_seg(struct core *c, const struct img_vma *v, uint64_t start, uint64_t end, int data)
{
	struct seg *s = c->nseg ? &c->seg[c->nseg - 1] : NULL;

	if (s && s->vma == v && s->end == start && s->data == data) {
		s->end = end;
		return 0;
	}
	if (c->nseg == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct seg *n = img_realloc(c->seg, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		c->seg = n;
		c->cap = cap;
	}
	s = &c->seg[c->nseg++];
	memset(s, 0, sizeof(*s));
	s->start = start;
	s->end = end;
	s->data = data;
	s->vma = v;
	s->flags = (v->prot & 1 ? PF_R : 0) | (v->prot & 2 ? PF_W : 0) | (v->prot & 4 ? PF_X : 0);
	return 0;
}

/* A file mapping: is its file the one the image describes?  NT_FILE lists it only then. */
static int check_file(struct core *c, const struct img_vma *v, int *ok)
{
	struct img_err fe = { 0 };
	const struct img_vma **nf;
	uint32_t *nw;

	*ok = !img_mem_root_file(c->m, v->file, &fe);
	if (*ok) {
		nf = img_realloc(c->files, (c->nfiles + 1) * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		c->files = nf;
		c->files[c->nfiles++] = v;
		return 0;
	}
	if (fe.code == ENOMEM)
		return -ENOMEM;
	for (size_t i = 0; i < c->nwarned; i++)
		if (c->warned[i] == v->file->id)
			return 0;
	nw = img_realloc(c->warned, (c->nwarned + 1) * sizeof(*nw));
	if (!nw)
		return -ENOMEM;
	c->warned = nw;
	c->warned[c->nwarned++] = v->file->id;
	warn(c, fe.subject, "%s: the pages of its mappings that the image lacks are left out of the core of pid %u, "
	     "and NT_FILE does not name it", fe.msg, c->t->pid);
	return 0;
}

/* The model keeps what it cannot use as a problem; a core needs every mapping whole, aligned and apart. */
static int check_vma(const struct img_task *t, size_t i, struct img_err *err)
{
	const struct img_vma *v = &t->mm->vmas[i];
	char subj[64];

	if (v->end > v->start && !((v->start | v->end) & (CORE_PAGE - 1)) && (!i || v->start >= v[-1].end))
		return 0;
	snprintf(subj, sizeof(subj), "mm-%u.img", t->pid);
	img_err_subject(err, subj);
	if (v->end <= v->start || ((v->start | v->end) & (CORE_PAGE - 1)))
		return img_err_set(err, EINVAL, "VMA 0x%llx-0x%llx is empty or not page aligned",
				   (unsigned long long)v->start, (unsigned long long)v->end);
	return img_err_set(err, EINVAL, "VMA 0x%llx-0x%llx overlaps the one before (0x%llx-0x%llx)",
			   (unsigned long long)v->start, (unsigned long long)v->end, (unsigned long long)v[-1].start,
			   (unsigned long long)v[-1].end);
}

static int plan_vma(struct core *c, const struct img_vma *v, struct img_err *err)
{
	uint8_t magic[4];
	size_t have = 0;
	uint64_t a;
	int ok = 1, r;

	/* madvise(MADV_DONTDUMP) (vvar, reservations of sanitizers): a segment without bytes, as the kernel writes it */
	if (img_msg_u64(v->msg, "madv", 0) & MADV_DONTDUMP_BIT)
		return add_seg(c, v, v->start, v->end, 0) ? img_err_set(err, ENOMEM, "out of memory") : 0;
	if (v->kind == IMG_VMA_FILE && v->file && v->file->type == FD_REG && v->file->path) {
		r = check_file(c, v, &ok);
		if (r)
			return img_err_set(err, ENOMEM, "out of memory");
		if (c->o->flags & IMG_CORE_NO_FILE_PAGES)
			ok = 0;
	}
	if (ok)
		return add_seg(c, v, v->start, v->end, 1) ? img_err_set(err, ENOMEM, "out of memory") : 0;
	/*
	 * The file keeps the pages the image lacks: cut the mapping where that
	 * changes.  But the first page of an ELF file stays, as the kernel keeps
	 * it (coredump_filter bit 4): debuggers find a mapping's build-id there.
	 */
	a = v->start;
	if (!v->pgoff && (v->prot & 1) && !img_mem_read(c->m, a, magic, 4, &have, NULL) && have == 4 &&
	    !memcmp(magic, ELFMAG, SELFMAG)) {
		if (add_seg(c, v, a, a + CORE_PAGE, 1))
			return img_err_set(err, ENOMEM, "out of memory");
		a += CORE_PAGE;
	}
	while (a < v->end) {
		struct img_mem_run run;

		r = img_mem_run(c->m, a, v->end, &run, err);
		if (r)
			return r;
		if (add_seg(c, v, a, run.end, run.state != IMG_PAGE_FILE))
			return img_err_set(err, ENOMEM, "out of memory");
		a = run.end;
	}
	return 0;
}

static int write_at(int fd, const void *p, size_t n, uint64_t off, struct img_err *err)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = pwrite(fd, b, n, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;

			return img_err_set(err, e, "write error at offset 0x%llx: %s", (unsigned long long)off, strerror(e));
		}
		b += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

/* The memory of one segment: the bytes the image has, a chunk at a time; holes elsewhere, skipped whole. */
static int write_seg(struct core *c, int fd, const struct seg *s, struct img_err *err)
{
	for (uint64_t a = s->start; a < s->end;) {
		struct img_mem_run run;
		int r = img_mem_run(c->m, a, s->end, &run, err);
		uint64_t n;

		if (r)
			return r;
		if (run.data && run.end - a > CHUNK)
			run.end = a + CHUNK;
		n = run.end - a;
		if (run.data) {
			r = write_at(fd, run.data, (size_t)n, s->off + (a - s->start), err);
			img_mem_release(c->m, &run);
			if (r)
				return r;
			c->st.data += n;
		} else if (run.state == IMG_PAGE_LAZY || run.state == IMG_PAGE_MISSING) {
			c->st.missing += n / CORE_PAGE;
		}
		c->done += n;
		if (c->o->progress && c->done - c->reported >= CHUNK) {
			c->reported = c->done;
			c->o->progress(c->o->arg, c->done, c->total);
		}
		a = run.end;
	}
	return 0;
}

static int elf_fail(Elf *e, struct img_err *err)
{
	int r = img_err_set(err, EIO, "libelf: %s", elf_errmsg(-1));

	elf_end(e);
	return r;
}

/* Where everything goes: the headers, the notes at *note_off, then each segment's bytes from a page on. */
static int layout(struct core *c, size_t nnotes, uint64_t *note_off, struct img_err *err)
{
	size_t (*fsize)(Elf_Type, size_t, unsigned int) = c->a->word == 8 ? elf64_fsize : elf32_fsize;
	uint64_t off = fsize(ELF_T_EHDR, 1, EV_CURRENT) + (c->nseg + 1) * fsize(ELF_T_PHDR, 1, EV_CURRENT);

	/* past 65534 headers the count goes into section header 0 (PN_XNUM), which follows them */
	if (c->nseg + 1 >= PN_XNUM)
		off += fsize(ELF_T_SHDR, 1, EV_CURRENT);
	*note_off = off;
	off = (off + nnotes + CORE_PAGE - 1) & ~(uint64_t)(CORE_PAGE - 1);
	for (size_t i = 0; i < c->nseg; i++) {
		uint64_t n = c->seg[i].end - c->seg[i].start;

		c->seg[i].off = off;
		if (c->seg[i].data) {
			if (n > CORE_MAX - off)
				return img_err_set(err, EFBIG, "the mappings up to 0x%llx add up to more than a core file can "
						   "hold (%llu PiB)", (unsigned long long)c->seg[i].end,
						   (unsigned long long)(CORE_MAX >> 50));
			off += n;
			c->total += n;
		}
		c->st.mem += n;
	}
	c->st.size = off;
	return 0;
}

/* The ELF header and the program headers, through libelf. */
static int write_headers(struct core *c, int fd, uint64_t note_off, size_t nnotes, struct img_err *err)
{
	size_t nph = c->nseg + 1;
	GElf_Ehdr eh;
	GElf_Phdr ph;
	Elf *e = elf_begin(fd, ELF_C_WRITE, NULL);

	if (!e || !gelf_newehdr(e, c->a->word == 8 ? ELFCLASS64 : ELFCLASS32) || !gelf_getehdr(e, &eh))
		return elf_fail(e, err);
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = c->a->machine;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = gelf_fsize(e, ELF_T_EHDR, 1, EV_CURRENT);
	if (nph >= PN_XNUM)
		eh.e_shoff = eh.e_phoff + nph * gelf_fsize(e, ELF_T_PHDR, 1, EV_CURRENT);
	if (!gelf_update_ehdr(e, &eh))
		return elf_fail(e, err);
	/* libelf keeps the count past PN_XNUM in section 0, which must exist first */
	if (nph >= PN_XNUM && !elf_getscn(e, 0))
		return elf_fail(e, err);
	if (!gelf_newphdr(e, nph))
		return elf_fail(e, err);
	memset(&ph, 0, sizeof(ph));
	ph.p_type = PT_NOTE;
	ph.p_offset = note_off;
	ph.p_filesz = nnotes;
	ph.p_align = 4;
	if (!gelf_update_phdr(e, 0, &ph))
		return elf_fail(e, err);
	for (size_t i = 0; i < c->nseg; i++) {
		const struct seg *s = &c->seg[i];

		memset(&ph, 0, sizeof(ph));
		ph.p_type = PT_LOAD;
		ph.p_offset = s->off;
		ph.p_vaddr = s->start;
		ph.p_filesz = s->data ? s->end - s->start : 0;
		ph.p_memsz = s->end - s->start;
		ph.p_flags = s->flags;
		ph.p_align = CORE_PAGE;
		if (!gelf_update_phdr(e, (int)(i + 1), &ph))
			return elf_fail(e, err);
	}
	elf_flagelf(e, ELF_C_SET, ELF_F_LAYOUT);
	if (elf_update(e, ELF_C_WRITE) < 0)
		return elf_fail(e, err);
	elf_end(e);
	return 0;
}

static void core_free(struct core *c)
{
	img_mem_close(c->m);
	img_free(c->seg);
	img_free(c->files);
	img_free(c->warned);
}

int img_core_write(struct img_ckpt *ck, const struct img_task *t, int fd, const struct img_core_opts *o,
		   struct img_err *err)
{
	static const struct img_core_opts none;
	struct core c = { .o = o ? o : &none, .t = t };
	struct core_proc p = { .task = t };
	struct img_buf notes;
	uint64_t note_off = 0;
	int r;

	r = img_core_supported(t, err);
	if (r)
		return r;
	c.a = core_arch_of(t->core);
	img_buf_init(&notes);
	r = img_mem_open(ck, t, 0, &c.m, err);
	if (!r)
		r = img_mem_set_root(c.m, c.o->root ? c.o->root : "/", err);
	for (size_t i = 0; !r && i < t->mm->nvmas; i++)
		r = check_vma(t, i, err) ? -EINVAL : plan_vma(&c, &t->mm->vmas[i], err);
	if (!r) {
		p.mem = c.m;
		p.files = c.files;
		p.nfiles = c.nfiles;
		r = core_notes(&notes, c.a, &p, err);
	}
	if (!r && notes.failed)
		r = img_err_set(err, ENOMEM, "out of memory");
	if (!r && elf_version(EV_CURRENT) == EV_NONE)
		r = img_err_set(err, EIO, "libelf: %s", elf_errmsg(-1));
	if (!r)
		r = layout(&c, notes.len, &note_off, err);
	if (!r)
		r = write_headers(&c, fd, note_off, notes.len, err);
	if (!r)
		r = write_at(fd, notes.data, notes.len, note_off, err);
	for (size_t i = 0; !r && i < c.nseg; i++)
		if (c.seg[i].data)
			r = write_seg(&c, fd, &c.seg[i], err);
	if (!r && ftruncate(fd, (off_t)c.st.size) < 0)
		r = img_err_set(err, errno, "cannot set the core's size: %s", strerror(errno));
	if (!r && c.o->progress)
		c.o->progress(c.o->arg, c.done, c.total);
	if (!r && c.st.missing) {
		char pm[64];

		snprintf(pm, sizeof(pm), "pagemap-%u.img", t->pid);
		warn(&c, pm, "%llu pages the image does not hold (lazy, or lost from the set) read as zeros in the core "
		     "of pid %u", (unsigned long long)c.st.missing, t->pid);
	}
	c.st.threads = t->nthreads;
	c.st.segments = c.nseg;
	c.st.files = c.nfiles;
	if (!r && c.o->stats)
		*c.o->stats = c.st;
	img_buf_free(&notes);
	core_free(&c);
	return r;
}

/* Read the core back: the headers libelf wrote and every note, as a debugger walks them. */
static int read_back(int fd, const char *name, struct img_err *err)
{
	size_t nph = 0, off = 0, name_off, desc_off;
	GElf_Phdr ph;
	GElf_Nhdr nh;
	Elf_Data *d;
	Elf *e;
	int r = 0, notes = 0;

	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph) || !nph || !gelf_getphdr(e, 0, &ph) ||
	    ph.p_type != PT_NOTE || !(d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR)))
		r = -EIO;
	while (!r && off < ph.p_filesz && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0)
		notes++;
	if (!r && (off != ph.p_filesz || !notes))
		r = -EIO;
	if (r) {
		img_err_subject(err, name);
		img_err_set(err, EIO, "the core written does not read back: %s", elf_errmsg(-1) ? elf_errmsg(-1) : "bad notes");
	}
	elf_end(e);
	return r;
}

/* Give the unnamed file a temporary name beside path, through /proc (or AT_EMPTY_PATH where /proc is absent). */
static int name_unnamed(int fd, const char *path, char *tmp, size_t cap, struct img_err *err)
{
	char proc[64];
	int e = 0;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	for (int i = 0; i < 100; i++) {
		if (snprintf(tmp, cap, "%s.tmp-%ld-%d", path, (long)getpid(), i) >= (int)cap) {
			e = ENAMETOOLONG;
			break;
		}
		if (!linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) || (errno != EEXIST &&
		    !linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH)))
			return 0;
		e = errno;
		if (e != EEXIST)
			break;
	}
	img_err_subject(err, path);
	return img_err_set(err, e, "cannot name the core written: %s", strerror(e));
}

int img_core_write_dir(struct img_ckpt *ck, const struct img_task *t, const char *dir, const struct img_core_opts *o,
		       struct img_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, r, unnamed;

	if (snprintf(path, sizeof(path), "%s/core.%u", dir, t->pid) >= (int)sizeof(path)) {
		img_err_subject(err, dir);
		return img_err_set(err, ENAMETOOLONG, "path too long");
	}
	r = img_core_supported(t, err);
	if (r)
		return r;
	/*
	 * An unnamed file (O_TMPFILE) where the file system has them: a run
	 * killed half way through gigabytes leaves nothing behind.  It gets a
	 * name once complete and read back, then the final one.
	 */
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	unnamed = fd >= 0;
	if (!unnamed) {
		fd = img_tmp_create(path, tmp, sizeof(tmp), err);
		if (fd < 0)
			return fd;
	}
	r = img_core_write(ck, t, fd, o, err);
	if (r && !err->subject[0])
		img_err_subject(err, path);
	if (!r)
		r = read_back(fd, path, err);
	if (!r && unnamed)
		r = name_unnamed(fd, path, tmp, sizeof(tmp), err);
	if (r) {
		if (unnamed)
			close(fd);
		else
			img_tmp_abort(fd, tmp);
		return r;
	}
	return img_tmp_commit(fd, tmp, path, 0600, err);
}
