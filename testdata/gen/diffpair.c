/*
 * imggen --diff-pair SRC OUT: two image sets for cr-diff's tests, made from
 * a copy of SRC (a CRIU 4.2 set: the bundled sample, a corpus set) with
 * libimg's reader and writer.
 *
 * OUT/a is SRC made ready: when the first task holds no mapping with 17 pages
 * in the image, a 32-page anonymous one is added (mm, pagemap, pages); when it
 * holds no inet socket, a UDP one is added (files.img and its fd table).
 * OUT/b is OUT/a with these changes, all in the first task:
 *   - r12 of its main thread,
 *   - the position of the regular file its lowest such fd holds,
 *   - PROT_WRITE flipped in the protection of one of its VMAs,
 *   - one byte in each of 17 pages of the mapping with the most pages,
 *   - a new thread (a copy of the main thread's core),
 *   - its first inet socket removed (from files.img and every fd table).
 * OUT/changes.json lists the records cr-diff reports for them, and it must
 * report no other: [{"category", "task", "path", "op"[, "pages", "bytes"]}].
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"
#include "img/mem.h"
#include "img/model.h"

#define PAGE 4096
#define NPAGES 17
#define NEW_PAGES 32
enum { PE_PRESENT_FLAG = 4, PROT_W = 2, T_REG = 1, T_INETSK = 4 };

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("imggen --diff-pair: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const char *in(const char *dir, const char *name)
{
	static char p[4][PATH_MAX + 64];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

/* The bytes of a file, whole (the sets are small), and back. */
static uint8_t *slurp(const char *path, size_t *n)
{
	struct img_err e = { 0 };
	struct img_src *s;
	uint8_t *p;

	if (img_src_open(path, &s, &e))
		fail("cannot read %s: %s", path, e.msg);
	p = malloc(s->size + 1);
	if (!p || img_src_pread(s, p, s->size, 0, &e))
		fail("cannot read %s", path);
	*n = s->size;
	img_src_unref(s);
	return p;
}

static void spit(const char *path, const void *p, size_t n)
{
	struct img_err e = { 0 };

	if (img_write_file_atomic(path, p, n, 0644, &e))
		fail("cannot write %s: %s", path, e.msg);
}

static void copy_set(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *de;

	if (!d)
		fail("cannot open %s: %s", from, strerror(errno));
	if (mkdir(to, 0755) && errno != EEXIST)
		fail("cannot make %s: %s", to, strerror(errno));
	while ((de = readdir(d))) {
		struct stat st;
		uint8_t *p;
		size_t n;

		if (de->d_name[0] == '.' || stat(in(from, de->d_name), &st) || !S_ISREG(st.st_mode))
			continue;
		p = slurp(in(from, de->d_name), &n);
		spit(in(to, de->d_name), p, n);
		free(p);
	}
	closedir(d);
}

static struct img_ckpt *open_set(const char *dir)
{
	struct img_err e = { 0 };
	struct img_ckpt *ck;

	if (img_ckpt_open(dir, 0, &ck, &e))
		fail("cannot read %s: %s: %s", dir, e.subject, e.msg);
	return ck;
}

static const struct img_task *first_task(struct img_ckpt *ck)
{
	size_t n;
	const struct img_task *const *t = img_ckpt_tasks(ck, &n);

	if (!n || !t[0]->mm)
		fail("the first task has no memory map");
	return t[0];
}

/* The pages of a VMA the image holds (present), and where the longest present run starts. */
static uint64_t present_pages(struct img_ckpt *ck, const struct img_task *t, const struct img_vma *v, uint64_t *run_at,
			      uint64_t *run_len)
{
	struct img_err e = { 0 };
	struct img_mem *m;
	uint64_t a = v->start, total = 0;

	*run_at = *run_len = 0;
	if (img_mem_open(ck, t, 0, &m, &e))
		fail("cannot read the memory of %u: %s", t->pid, e.msg);
	while (a < v->end) {
		struct img_mem_run r;

		if (img_mem_run(m, a, v->end, &r, &e))
			fail("cannot read the memory of %u: %s", t->pid, e.msg);
		if (r.state == IMG_PAGE_PRESENT) {
			total += (r.end - a) / PAGE;
			if (r.end - a > *run_len) {
				*run_len = r.end - a;
				*run_at = a;
			}
		}
		a = r.end;
	}
	img_mem_close(m);
	return total;
}

static const struct img_vma *biggest(struct img_ckpt *ck, const struct img_task *t, uint64_t *run_at, uint64_t *run_len)
{
	const struct img_vma *best = NULL;

	*run_len = 0;
	for (size_t i = 0; i < t->mm->nvmas; i++) {
		uint64_t at, len;

		present_pages(ck, t, &t->mm->vmas[i], &at, &len);
		if (len > *run_len) {
			*run_len = len;
			*run_at = at;
			best = &t->mm->vmas[i];
		}
	}
	return best;
}

static struct img_msg *entry_where(struct img_image *img, const char *field, uint64_t v)
{
	for (size_t i = 0; i < img->n; i++)
		if (img->e[i].msg && img_msg_u64(img->e[i].msg, field, ~0ull) == v)
			return img->e[i].msg;
	return NULL;
}

/* A 32-page anonymous mapping, all of it in the image: the VMA, a pagemap entry, the pages at the end of the pages file. */
static void add_mapping(const char *dir, const struct img_task *t)
{
	uint64_t start = 0x200000000000ull, end, pages_id;
	struct img_image *img;
	struct img_msg *m, *v, *pe;
	char name[64];
	uint8_t *p, *np;
	size_t n;

	for (size_t i = 0; i < t->mm->nvmas; i++)
		if (t->mm->vmas[i].start < start + NEW_PAGES * PAGE && t->mm->vmas[i].end > start)
			start = (t->mm->vmas[i].end + 0xfffff) & ~0xfffffull;
	end = start + NEW_PAGES * PAGE;
	snprintf(name, sizeof(name), "mm-%u.img", t->pid);
	img = gen_load(in(dir, name));
	m = img->e[0].msg;
	v = sub(m, "vmas");
	set_u(v, "start", start);
	set_u(v, "end", end);
	set_u(v, "pgoff", 0);
	set_u(v, "shmid", 0);
	set_u(v, "prot", 3);     /* PROT_READ | PROT_WRITE */
	set_u(v, "flags", 0x22); /* MAP_PRIVATE | MAP_ANONYMOUS */
	set_u(v, "status", 0x201); /* VMA_AREA_REGULAR | VMA_ANON_PRIVATE */
	set_i(v, "fd", -1);
	gen_write_to(in(dir, name));
	/* appended to the pagemap, so its pages go at the end of the pages file */
	snprintf(name, sizeof(name), "pagemap-%u.img", t->pid);
	img = gen_load(in(dir, name));
	pages_id = img_msg_u64(img->e[0].msg, "pages_id", 0);
	pe = img_msg_new(&img->arena, img->kind->msg);
	if (!pe || !img_image_add(img, img->kind->msg, pe))
		fail("out of memory");
	set_u(pe, "vaddr", start);
	set_u(pe, "compat_nr_pages", 0);
	set_u(pe, "flags", PE_PRESENT_FLAG);
	set_u(pe, "nr_pages", NEW_PAGES);
	gen_write_to(in(dir, name));
	snprintf(name, sizeof(name), "pages-%llu.img", (unsigned long long)pages_id);
	p = slurp(in(dir, name), &n);
	np = realloc(p, n + NEW_PAGES * PAGE);
	if (!np)
		fail("out of memory");
	for (unsigned i = 0; i < NEW_PAGES; i++)
		fill_page(np + n + (size_t)i * PAGE, "diff-pair", i, 7);
	spit(in(dir, name), np, n + NEW_PAGES * PAGE);
	free(np);
}

static uint32_t max_file_id(struct img_ckpt *ck)
{
	size_t n;
	const struct img_file *const *f = img_ckpt_files(ck, &n);
	uint32_t id = 0;

	for (size_t i = 0; i < n; i++)
		if (f[i]->id > id)
			id = f[i]->id;
	return id;
}

/* A UDP socket on 127.0.0.1:47999 at the first free fd of the task. */
static void add_socket(const char *dir, struct img_ckpt *ck, const struct img_task *t)
{
	uint32_t id = max_file_id(ck) + 1, fd = 0;
	struct img_image *img;
	struct img_msg *fe;
	char name[64];

	for (size_t i = 0; i < t->nfds; i++)
		if (t->fds[i].fd >= fd)
			fd = t->fds[i].fd + 1;
	img = gen_load(in(dir, "files.img"));
	fe = img_msg_new(&img->arena, img->kind->msg);
	if (!fe || !img_image_add(img, img->kind->msg, fe))
		fail("out of memory");
	set_u(fe, "id", id);
	set_e(fe, "type", "INETSK");
	fill_inetsk(sub(fe, "isk"), id, 77777, 2 /* AF_INET */, 2 /* SOCK_DGRAM */, 7 /* TCP_CLOSE */, "127.0.0.1", 47999,
		    "0.0.0.0", 0);
	gen_write_to(in(dir, "files.img"));
	snprintf(name, sizeof(name), "fdinfo-%u.img", t->files_id);
	img = gen_load(in(dir, name));
	fe = img_msg_new(&img->arena, img->kind->msg);
	if (!fe || !img_image_add(img, img->kind->msg, fe))
		fail("out of memory");
	fill_fdinfo(fe, id, 0, "INETSK", fd);
	gen_write_to(in(dir, name));
}

/* The records, as cr-diff prints them in JSON */

static FILE *manifest;
static int nrec;

static void record(const char *cat, uint32_t pid, const char *op, const char *fmt, ...) IMG_PRINTF(4, 5);
static void record(const char *cat, uint32_t pid, const char *op, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	fprintf(manifest, "%s\n  {\"category\": \"%s\", \"task\": \"%u\", \"path\": \"%s\", \"op\": \"%s\"", nrec++ ? "," : "",
		cat, pid, path, op);
}

/* The changes */

static void change_register(const char *dir, const struct img_task *t)
{
	struct img_image *img;
	struct img_msg *regs;
	char name[64];

	snprintf(name, sizeof(name), "core-%u.img", t->pid);
	img = gen_load(in(dir, name));
	regs = img_msg_sub(img_msg_sub(img->e[0].msg, "thread_info"), "gpregs");
	if (!regs)
		fail("%s has no x86_64 registers", name);
	set_u(regs, "r12", img_msg_u64(regs, "r12", 0) + 0x1000);
	img_msg_touch(img_msg_sub(img->e[0].msg, "thread_info"));
	img_msg_touch(img->e[0].msg);
	gen_write_to(in(dir, name));
	record("tasks", t->pid, "changed", "core.thread_info.gpregs.r12");
	fputc('}', manifest);
}

static void change_file_pos(const char *dir, const struct img_task *t)
{
	const struct img_fd *best = NULL;
	struct img_image *img;
	struct img_msg *fe;

	for (size_t i = 0; i < t->nfds; i++)
		if (t->fds[i].file && t->fds[i].file->type == T_REG && t->fds[i].file->path &&
		    (!best || t->fds[i].fd < best->fd))
			best = &t->fds[i];
	if (!best)
		fail("the first task holds no regular file");
	img = gen_load(in(dir, "files.img"));
	fe = entry_where(img, "id", best->file->id);
	if (!fe || !img_msg_sub(fe, "reg"))
		fail("files.img has no regular file %u", best->file->id);
	set_u(img_msg_sub(fe, "reg"), "pos", best->file->pos + 100);
	img_msg_touch(fe);
	gen_write_to(in(dir, "files.img"));
	record("files", t->pid, "changed", "fd[%u].reg.pos", best->fd);
	fputc('}', manifest);
}

static void change_prot(const char *dir, const struct img_task *t, const struct img_vma *skip)
{
	struct img_image *img;
	struct img_iter it;
	struct img_msg *v;
	char name[64];
	size_t k;

	for (k = 0; k < t->mm->nvmas; k++) {
		const struct img_vma *x = &t->mm->vmas[k];

		if (x != skip && (x->kind == IMG_VMA_ANON || x->kind == IMG_VMA_FILE))
			break;
	}
	if (k == t->mm->nvmas)
		fail("no VMA to change");
	snprintf(name, sizeof(name), "mm-%u.img", t->pid);
	img = gen_load(in(dir, name));
	img_iter_init(&it, img->e[0].msg, "vmas");
	while ((v = img_iter_next_msg(&it)))
		if (img_msg_u64(v, "start", 0) == t->mm->vmas[k].start)
			break;
	if (!v)
		fail("%s has no VMA at 0x%llx", name, (unsigned long long)t->mm->vmas[k].start);
	set_u(v, "prot", img_msg_u64(v, "prot", 0) ^ PROT_W);
	img_msg_touch(img->e[0].msg);
	gen_write_to(in(dir, name));
	record("mm", t->pid, "changed", "mm.vmas[%zu].prot", k);
	fputc('}', manifest);
}

/* One byte in each of 17 pages from the start of the longest present run (pages of this set, in pagemap order). */
static void change_pages(const char *dir, struct img_ckpt *ck, const struct img_task *t, uint64_t at)
{
	const struct img_image *pm;
	struct img_err e = { 0 };
	uint64_t off = 0, where = ~0ull, pages_id;
	char name[64];
	uint8_t *p;
	size_t n;

	snprintf(name, sizeof(name), "pagemap-%u.img", t->pid);
	if (img_ckpt_image(ck, name, &pm, &e))
		fail("cannot read %s: %s", name, e.msg);
	pages_id = img_msg_u64(pm->e[0].msg, "pages_id", 0);
	for (size_t i = 1; i < pm->n; i++) {
		const struct img_msg *m = pm->e[i].msg;
		uint64_t va = img_msg_u64(m, "vaddr", 0), nr = img_msg_u64(m, "nr_pages", 0);

		if (!(img_msg_u64(m, "flags", 0) & PE_PRESENT_FLAG))
			continue;
		if (at >= va && at + NPAGES * PAGE <= va + nr * PAGE)
			where = off + (at - va);
		off += nr * PAGE;
	}
	if (where == ~0ull)
		fail("the pages at 0x%llx are not in one pagemap entry", (unsigned long long)at);
	snprintf(name, sizeof(name), "pages-%llu.img", (unsigned long long)pages_id);
	p = slurp(in(dir, name), &n);
	if (where + NPAGES * PAGE > n)
		fail("%s is short", name);
	for (unsigned i = 0; i < NPAGES; i++)
		p[where + (size_t)i * PAGE + 100] ^= 0x5a;
	spit(in(dir, name), p, n);
	free(p);
	record("memory", t->pid, "changed", "memory[0x%llx-0x%llx]", (unsigned long long)at,
	       (unsigned long long)(at + NPAGES * PAGE));
	fprintf(manifest, ", \"pages\": %d, \"bytes\": %d}", NPAGES, NPAGES);
}

static void add_thread(const char *dir, struct img_ckpt *ck, const struct img_task *t)
{
	size_t n;
	const struct img_task *const *all = img_ckpt_tasks(ck, &n);
	struct img_image *img, *core;
	struct img_err e = { 0 };
	struct img_msg *copy, *thc;
	uint32_t tid = 0;
	char name[64];

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < all[i]->nthreads; k++)
			if (all[i]->threads[k].tid > tid)
				tid = all[i]->threads[k].tid;
	tid++;
	img = gen_load(in(dir, "pstree.img"));
	add_u(entry_where(img, "pid", t->pid), "threads", tid);
	gen_write_to(in(dir, "pstree.img"));
	snprintf(name, sizeof(name), "core-%u.img", t->pid);
	if (img_image_open(in(dir, name), img_schema_builtin(), 0, &core, &e))
		fail("cannot read %s: %s", name, e.msg);
	img = gen_image("CORE");
	copy = img_msg_dup(&img->arena, core->e[0].msg);
	if (!copy || !img_image_add(img, copy->desc, copy))
		fail("out of memory");
	img_msg_del(copy, "tc"); /* what the task has once, the threads do not */
	thc = img_msg_sub(copy, "thread_core");
	if (thc)
		set_s(thc, "comm", "diff-thread");
	img_msg_touch(copy);
	snprintf(name, sizeof(name), "core-%u.img", tid);
	gen_write_to(in(dir, name));
	img_image_free(core);
	record("tree", t->pid, "added", "threads[%u]", tid);
	fputc('}', manifest);
}

static void drop_entries(const char *path, const char *field, uint64_t v)
{
	struct img_image *img = gen_load(path);
	size_t k = 0;

	for (size_t i = 0; i < img->n; i++)
		if (!img->e[i].msg || img_msg_u64(img->e[i].msg, field, ~0ull) != v)
			img->e[k++] = img->e[i];
	img->n = k;
	gen_write_to(path);
}

static void remove_socket(const char *dir, struct img_ckpt *ck, const struct img_task *t)
{
	const struct img_file *f = NULL;
	const struct img_task *const *all;
	const struct img_fd *seen[256];
	size_t n, nseen = 0;
	char name[64];

	for (size_t i = 0; i < t->nfds && !f; i++)
		if (t->fds[i].file && t->fds[i].file->type == T_INETSK)
			f = t->fds[i].file;
	if (!f)
		fail("the first task holds no inet socket");
	drop_entries(in(dir, "files.img"), "id", f->id);
	if (img_dir_has(img_ckpt_dir(ck), "sk-queues.img"))
		drop_entries(in(dir, "sk-queues.img"), "id_for", f->id);
	snprintf(name, sizeof(name), "tcp-stream-%x.img", f->sk->ino);
	unlink(in(dir, name));
	/* every fd table that holds it, each once (under the first task that has it) */
	all = img_ckpt_tasks(ck, &n);
	for (size_t i = 0; i < n; i++) {
		int done = 0;

		for (size_t k = 0; k < nseen; k++)
			done |= seen[k] == all[i]->fds;
		if (done || !all[i]->fds || nseen == 256)
			continue;
		seen[nseen++] = all[i]->fds;
		snprintf(name, sizeof(name), "fdinfo-%u.img", all[i]->files_id);
		drop_entries(in(dir, name), "id", f->id);
		for (size_t k = 0; k < all[i]->nfds; k++)
			if (all[i]->fds[k].file == f) {
				record("sockets", all[i]->pid, "removed", "fd[%u]", all[i]->fds[k].fd);
				fputc('}', manifest);
			}
	}
}

int gen_diff_pair(const char *src, const char *out)
{
	char a[PATH_MAX], b[PATH_MAX];
	const struct img_task *t;
	const struct img_vma *big;
	struct img_ckpt *ck;
	uint64_t at, len;
	int sock = 0;

	snprintf(a, sizeof(a), "%s/a", out);
	snprintf(b, sizeof(b), "%s/b", out);
	if (mkdir(out, 0755) && errno != EEXIST)
		fail("cannot make %s: %s", out, strerror(errno));
	copy_set(src, a);
	/* a: what the changes need */
	ck = open_set(a);
	t = first_task(ck);
	for (size_t i = 0; i < t->nfds; i++)
		sock |= t->fds[i].file && t->fds[i].file->type == T_INETSK;
	big = biggest(ck, t, &at, &len);
	if (!big || len < NPAGES * PAGE)
		add_mapping(a, t);
	if (!sock)
		add_socket(a, ck, t);
	img_ckpt_close(ck);
	/* b: a with the changes, found in a's model */
	copy_set(a, b);
	ck = open_set(a);
	t = first_task(ck);
	big = biggest(ck, t, &at, &len);
	manifest = fopen(in(out, "changes.json"), "w");
	if (!manifest)
		fail("cannot write %s/changes.json: %s", out, strerror(errno));
	fputc('[', manifest);
	change_register(b, t);
	change_file_pos(b, t);
	change_prot(b, t, big);
	change_pages(b, ck, t, at);
	add_thread(b, ck, t);
	remove_socket(b, ck, t);
	fputs("\n]\n", manifest);
	if (fclose(manifest))
		fail("cannot write %s/changes.json", out);
	img_ckpt_close(ck);
	return 0;
}

/*
 * imggen --renumber SRC OUT DELTA: SRC with every pid and tid DELTA higher
 * (pstree, and the images named by them), as a restore into another pid
 * namespace would number the tasks; for cr-diff --match comm.
 */
static const char *const by_pid[] = { "core-%u.img", "ids-%u.img", "mm-%u.img", "pagemap-%u.img", "fs-%u.img" };

int gen_renumber(const char *src, const char *out, unsigned delta)
{
	struct img_image *img;
	struct img_ckpt *ck;
	size_t n;
	const struct img_task *const *t;

	copy_set(src, out);
	ck = open_set(out);
	t = img_ckpt_tasks(ck, &n);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(by_pid) / sizeof(by_pid[0]); k++) {
			char from[64], to[64];
			uint32_t id = t[i]->pid;

			for (size_t th = 0; th < (k ? 1 : t[i]->nthreads); th++) {
				if (!k)
					id = t[i]->threads[th].tid;
				snprintf(from, sizeof(from), by_pid[k], id);
				snprintf(to, sizeof(to), by_pid[k], id + delta);
				if (rename(in(out, from), in(out, to)) && errno != ENOENT)
					fail("cannot rename %s: %s", from, strerror(errno));
			}
		}
	}
	img_ckpt_close(ck);
	img = gen_load(in(out, "pstree.img"));
	for (size_t i = 0; i < img->n; i++) {
		struct img_msg *m = img->e[i].msg;
		static const char *const ids[] = { "pid", "ppid", "pgid", "sid" };
		uint64_t th[256], v;
		struct img_iter it;
		size_t nth = 0;

		for (size_t k = 0; k < 4; k++)
			if ((v = img_msg_u64(m, ids[k], 0)))
				set_u(m, ids[k], v + delta);
		img_iter_init(&it, m, "threads");
		while (nth < 256 && img_iter_next_u64(&it, &v))
			th[nth++] = v + delta;
		img_msg_del(m, "threads");
		add_us(m, "threads", th, nth);
	}
	gen_write_to(in(out, "pstree.img"));
	return 0;
}
