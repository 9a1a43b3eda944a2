/*
 * A task's memory: an index over each pagemap (sorted runs, binary search),
 * pages found in place in the mapped pages files, PE_PARENT followed into the
 * parent sets, shared memory through pagemap-shmem-ID.img, and file-backed
 * pages from files under a root folder when asked.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img/mem.h"
#include "../elfcore/buildid.h"
#include "../model/priv.h"

enum { PE_PARENT = 1, PE_LAZY = 2, PE_PRESENT = 4 };
enum { FD_REG = 1 }; /* fd_types */

/* nr_pages beyond this is not a real pagemap: 2^40 pages is 4 PiB */
#define MAX_NR_PAGES (1ull << 40)

static const char *const state_names[IMG_PAGE__COUNT] = {
	"unmapped", "present", "parent", "lazy", "file", "zero", "missing",
};

const char *img_page_state_name(int state)
{
	return state >= 0 && state < IMG_PAGE__COUNT ? state_names[state] : NULL;
}

struct pm_ent {
	uint64_t start, end;  /* addresses (offsets for shmem) */
	uint64_t off;         /* byte offset in the pages file, for PE_PRESENT */
	uint32_t flags;
};

/* One pagemap file in one folder of the parent chain. */
struct pmap {
	char name[64];
	int depth;
	struct pm_ent *e;
	size_t n;
	struct img_src *pages;   /* NULL when no entry is present */
	char pages_name[64];
	int parent_done;
	struct pmap *parent;
	struct pmap *next;       /* in img_mem's list */
};

struct rootfile {
	uint32_t id;
	struct img_src *src;     /* NULL: not there, or not the file the image describes */
	int code;                /* why not (errno) */
	char why[400];
};

struct img_mem {
	struct img_ckpt *ck;
	const struct img_task *task;
	unsigned flags;
	struct pmap *pm;         /* the task's pagemap (NULL: the task has none) */
	struct pmap *all;        /* every pmap opened, for freeing */
	struct img_dir **dirs;   /* dirs[0]: the checkpoint's; then the parents, opened on demand */
	int ndirs;
	int dirs_end;            /* no parent past dirs[ndirs-1] */
	char *root;
	struct rootfile *rf;
	size_t nrf;
	/* pages of sources that are not mapped (members of compressed archives) are read into a window */
	uint8_t *win;
	struct img_src *win_src;
	uint64_t win_off, win_len;
	struct shm_view *view;   /* img_mem_open_shm: the one mapping it is seen through */
};

/* A shared memory object seen as a task that maps it whole at address 0. */
struct shm_view {
	struct img_task t;
	struct img_mm mm;
	struct img_vma v;
};

/* Bytes of a source that is not mapped: read by the source's reader. */
static int src_read(struct img_src *s, void *buf, size_t n, uint64_t off, struct img_err *err)
{
	return img_src_pread(s, buf, n, off, err);
}

#define WIN_SIZE ((uint64_t)1 << 20)

/* A pointer to the bytes at off of src, and how many follow (at most want); a window for unmapped sources. */
static int src_bytes(struct img_mem *m, struct img_src *src, uint64_t off, uint64_t want, const uint8_t **p,
		     uint64_t *have, struct img_err *err)
{
	uint64_t n;
	const uint8_t *d = img_src_direct(src, off, &n);

	if (d) {
		/* mapped, or a piece of a mapped source (linux-cr page arrays) */
		*p = d;
		*have = n < want ? n : want;
		return 0;
	}
	if (m->win_src != src || off < m->win_off || off >= m->win_off + m->win_len) {
		uint64_t wo = off & ~(WIN_SIZE - 1), wl = src->size - wo < WIN_SIZE ? src->size - wo : WIN_SIZE;
		int r;

		if (!m->win && !(m->win = img_malloc(WIN_SIZE)))
			return img_err_set(err, ENOMEM, "out of memory");
		m->win_src = NULL;
		r = src_read(src, m->win, (size_t)wl, wo, err);
		if (r)
			return r;
		m->win_src = src;
		m->win_off = wo;
		m->win_len = wl;
	}
	*p = m->win + (off - m->win_off);
	*have = m->win_off + m->win_len - off < want ? m->win_off + m->win_len - off : want;
	return 0;
}

static int cmp_ent(const void *a, const void *b)
{
	uint64_t x = ((const struct pm_ent *)a)->start, y = ((const struct pm_ent *)b)->start;

	return x < y ? -1 : x > y;
}

static struct img_dir *dir_at(struct img_mem *m, int depth, struct img_err *err)
{
	while (depth >= m->ndirs && !m->dirs_end) {
		struct img_dir *p = NULL, **nd;
		struct img_err e = { 0 };
		int r = img_dir_parent(m->dirs[m->ndirs - 1], &p, &e);

		if (r || !p) {
			m->dirs_end = 1;
			if (r && r != -ENOENT && err)
				*err = e;
			break;
		}
		nd = img_realloc(m->dirs, (m->ndirs + 1) * sizeof(*nd));
		if (!nd) {
			img_dir_close(p);
			m->dirs_end = 1;
			break;
		}
		m->dirs = nd;
		m->dirs[m->ndirs++] = p;
	}
	return depth < m->ndirs ? m->dirs[depth] : NULL;
}

/* Build the index of one pagemap file.  *out is NULL when the folder has no such file. */
static int pmap_open(struct img_mem *m, const char *name, int depth, struct pmap **out, struct img_err *err)
{
	struct img_dir *d = dir_at(m, depth, err);
	const struct img_schema *s = m->ck->schema;
	struct img_image *own = NULL;
	const struct img_image *img;
	struct img_src *src;
	struct pmap *pm;
	uint64_t off = 0;
	int r;

	*out = NULL;
	if (!d)
		return 0;
	if (depth == 0) {
		r = ck_load(m->ck, name, 1, &img, err);
		if (r || !img)
			return r;
	} else {
		struct img_err e = { 0 };

		if (img_dir_get(d, name, &src, &e))
			return 0; /* the parent lacks it: those pages are missing */
		r = img_image_read(src, s, NULL, 0, &own, err);
		img_src_unref(src);
		if (r)
			return r;
		img = own;
	}
	if (img->kind->layout != IMG_LAY_PAGEMAP) {
		img_image_free(own);
		img_err_subject(err, name);
		return img_err_set(err, EINVAL, "not a pagemap image but %s", img->kind->name);
	}
	pm = img_calloc(1, sizeof(*pm));
	if (!pm || (img->n > 1 && !(pm->e = img_calloc(img->n - 1, sizeof(*pm->e))))) {
		img_free(pm);
		img_image_free(own);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	snprintf(pm->name, sizeof(pm->name), "%s", name);
	pm->depth = depth;
	pm->next = m->all;
	m->all = pm;
	if (depth) {
		char subj[sizeof(err->subject)];

		snprintf(subj, sizeof(subj), "%s/%s", d->path, name);
		img_err_subject(err, subj);
	} else {
		img_err_subject(err, name);
	}
	for (size_t i = 1; i < img->n; i++) {
		const struct img_msg *e = img->e[i].msg;
		struct pm_ent *pe = &pm->e[pm->n];
		uint64_t nr;

		/* CRIU 4.2 writes nr_pages and leaves the required compat_nr_pages 0 */
		nr = img_msg_has(e, "nr_pages") ? img_msg_u64(e, "nr_pages", 0) : img_msg_u64(e, "compat_nr_pages", 0);
		if (img_msg_has(e, "flags"))
			pe->flags = (uint32_t)img_msg_u64(e, "flags", 0);
		else /* before CRIU 3.5: in_parent, else present */
			pe->flags = img_msg_u64(e, "in_parent", 0) ? PE_PARENT : PE_PRESENT;
		pe->start = img_msg_u64(e, "vaddr", 0);
		if (pe->start & (IMG_PAGE_SIZE - 1))
			r = img_err_set(err, EINVAL, "entry %zu at offset 0x%llx: vaddr 0x%llx is not page aligned", i,
					(unsigned long long)img->e[i].off, (unsigned long long)pe->start);
		else if (nr > MAX_NR_PAGES || pe->start + nr * IMG_PAGE_SIZE < pe->start)
			r = img_err_set(err, EINVAL, "entry %zu at offset 0x%llx: %llu pages at 0x%llx run past the address space",
					i, (unsigned long long)img->e[i].off, (unsigned long long)nr,
					(unsigned long long)pe->start);
		if (r)
			break;
		if (!nr)
			continue;
		pe->end = pe->start + nr * IMG_PAGE_SIZE;
		/* the pages file holds the PE_PRESENT entries only, in pagemap order */
		if (pe->flags & PE_PRESENT) {
			pe->off = off;
			off += nr * IMG_PAGE_SIZE;
		}
		pm->n++;
	}
	if (!r) {
		img_sort(pm->e, pm->n, sizeof(*pm->e), cmp_ent);
		for (size_t i = 1; i < pm->n && !r; i++)
			if (pm->e[i].start < pm->e[i - 1].end)
				r = img_err_set(err, EINVAL, "pages at 0x%llx are described twice",
						(unsigned long long)pm->e[i].start);
	}
	if (!r && off) {
		snprintf(pm->pages_name, sizeof(pm->pages_name), "pages-%llu.img",
			 (unsigned long long)img_msg_u64(img->e[0].msg, "pages_id", 0));
		r = img_dir_get(d, pm->pages_name, &pm->pages, err);
		if (r && r != -ENOMEM && err) {
			char why[sizeof(err->msg)];

			snprintf(why, sizeof(why), "%s", err->msg);
			img_err_subject(err, name);
			img_err_set(err, -r, "its pages file %s cannot be read: %s", pm->pages_name, why);
		}
	}
	img_image_free(own);
	if (r)
		return r;
	*out = pm;
	return 0;
}

/* The entry holding a, or the first one after it (index n when none). */
static size_t pmap_find(const struct pmap *pm, uint64_t a)
{
	size_t lo = 0, hi = pm->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pm->e[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct hit {
	int state;           /* a page state, or -1: the pagemap says nothing */
	uint64_t end;        /* in the pagemap's address space */
	struct img_src *src; /* where the bytes are, or NULL */
	uint64_t off;        /* of the first byte in src */
	const char *source;
	int depth;
};

static int resolve(struct img_mem *m, struct pmap *pm, uint64_t a, uint64_t lim, struct hit *h,
		   struct img_err *err)
{
	size_t i = pm ? pmap_find(pm, a) : 0;
	const struct pm_ent *e;

	memset(h, 0, sizeof(*h));
	h->state = -1;
	h->end = lim;
	if (!pm || i == pm->n || pm->e[i].start > a) {
		if (pm && i < pm->n && pm->e[i].start < lim)
			h->end = pm->e[i].start;
		return 0;
	}
	e = &pm->e[i];
	if (e->end < lim)
		h->end = e->end;
	h->depth = pm->depth;
	if (e->flags & PE_PRESENT) {
		uint64_t off = e->off + (a - e->start), size = pm->pages ? pm->pages->size : 0;

		h->state = pm->depth ? IMG_PAGE_PARENT : IMG_PAGE_PRESENT;
		h->source = pm->pages_name;
		if (off >= size) {
			h->state = IMG_PAGE_MISSING; /* the pages file is shorter than its pagemap */
			return 0;
		}
		if (h->end - a > size - off)
			h->end = a + (size - off);
		h->src = pm->pages;
		h->off = off;
		return 0;
	}
	if (e->flags & PE_PARENT) {
		struct hit ph;
		int r;

		if (!pm->parent_done) {
			pm->parent_done = 1;
			r = pmap_open(m, pm->name, pm->depth + 1, &pm->parent, err);
			if (r)
				return r;
		}
		if (!pm->parent) {
			h->state = IMG_PAGE_MISSING;
			return 0;
		}
		r = resolve(m, pm->parent, a, h->end, &ph, err);
		if (r)
			return r;
		*h = ph;
		if (h->state < 0 || h->state == IMG_PAGE_ZERO)
			h->state = IMG_PAGE_MISSING; /* the parent should have it */
		else if (h->state == IMG_PAGE_PRESENT)
			h->state = IMG_PAGE_PARENT;
		return 0;
	}
	h->state = (e->flags & PE_LAZY) ? IMG_PAGE_LAZY : IMG_PAGE_ZERO;
	return 0;
}

/* shared memory: one pmap per shmid, found by name in the list */
static int shm_pmap(struct img_mem *m, uint64_t shmid, struct pmap **out, struct img_err *err)
{
	char name[64];

	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	for (struct pmap *p = m->all; p; p = p->next)
		if (!p->depth && !strcmp(p->name, name)) {
			*out = p;
			return 0;
		}
	return pmap_open(m, name, 0, out, err);
}

int img_mem_open(struct img_ckpt *ck, const struct img_task *t, unsigned flags, struct img_mem **out,
		 struct img_err *err)
{
	struct img_mem *m = img_calloc(1, sizeof(*m));
	char name[64];
	int r;

	*out = NULL;
	if (m)
		m->dirs = img_calloc(1, sizeof(*m->dirs));
	if (!m || !m->dirs) {
		img_free(m);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	m->ck = ck;
	m->task = t;
	m->flags = flags;
	m->dirs[0] = img_ckpt_dir(ck);
	m->ndirs = 1;
	snprintf(name, sizeof(name), "pagemap-%u.img", t->pid);
	r = t->mm && t->pid ? pmap_open(m, name, 0, &m->pm, err) : 0; /* pid 0: a view of shared memory */
	if (r) {
		img_mem_close(m);
		return r;
	}
	*out = m;
	return 0;
}

int img_mem_open_shm(struct img_ckpt *ck, uint64_t shmid, uint64_t size, struct img_mem **out,
		     struct img_err *err)
{
	struct shm_view *sv = img_calloc(1, sizeof(*sv));
	int r;

	*out = NULL;
	if (!sv)
		return img_err_set(err, ENOMEM, "out of memory");
	sv->v.end = (size + IMG_PAGE_SIZE - 1) & ~(uint64_t)(IMG_PAGE_SIZE - 1);
	sv->v.shmid = shmid;
	sv->v.kind = IMG_VMA_SHARED;
	sv->v.status = IMG_VMA_AREA_REGULAR | IMG_VMA_ANON_SHARED;
	sv->v.prot = 1; /* PROT_READ */
	sv->v.name = "";
	sv->mm.vmas = &sv->v;
	sv->mm.nvmas = sv->v.end ? 1 : 0;
	sv->t.mm = &sv->mm;
	sv->t.comm = "";
	sv->t.state = IMG_TASK_ALIVE;
	r = img_mem_open(ck, &sv->t, 0, out, err);
	if (r) {
		img_free(sv);
		return r;
	}
	(*out)->view = sv;
	return 0;
}

void img_mem_close(struct img_mem *m)
{
	if (!m)
		return;
	img_free(m->view);
	while (m->all) {
		struct pmap *p = m->all;

		m->all = p->next;
		img_src_unref(p->pages);
		img_free(p->e);
		img_free(p);
	}
	for (int i = 1; i < m->ndirs; i++)
		img_dir_close(m->dirs[i]);
	img_free(m->dirs);
	for (size_t i = 0; i < m->nrf; i++)
		img_src_unref(m->rf[i].src);
	img_free(m->rf);
	img_free(m->root);
	img_free(m->win);
	img_free(m);
}

int img_mem_set_root(struct img_mem *m, const char *root, struct img_err *err)
{
	char *r = img_strdup(root);

	if (!r)
		return img_err_set(err, ENOMEM, "out of memory");
	img_free(m->root);
	m->root = r;
	m->flags |= IMG_MEM_FILES;
	return 0;
}

const struct img_task *img_mem_task(const struct img_mem *m)
{
	return m->task;
}

/*
 * Is the file under the root the one the image describes?  CRIU's own test
 * when it opens a file again (files-reg.c validate_file): the size recorded,
 * and the ELF build-id where one was recorded.  0, or -errno with why filled.
 */
static int same_file(const struct img_file *f, const struct img_src *src, char *why, size_t wlen)
{
	uint8_t want[IMG_BUILD_ID_MAX], have[IMG_BUILD_ID_MAX];
	size_t nwant, nhave;

	if (f->type != FD_REG)
		return 0;
	if (img_msg_has(f->msg, "size") && src->size != f->size) {
		snprintf(why, wlen, "it has %zu bytes, the image says %llu", src->size, (unsigned long long)f->size);
		return -ESTALE;
	}
	nwant = img_build_id_reg(f->msg, want, sizeof(want));
	if (!nwant)
		return 0;
	nhave = img_build_id_mem(src->data, src->size, have, sizeof(have));
	if (!img_build_id_same(have, nhave, want, nwant)) {
		char a[2 * IMG_BUILD_ID_MAX + 1], b[2 * IMG_BUILD_ID_MAX + 1];

		img_build_id_hex(a, sizeof(a), want, nwant);
		img_build_id_hex(b, sizeof(b), have, nhave);
		snprintf(why, wlen, "its build-id is %s, the image says %s", nhave ? b : "missing", a);
		return -ESTALE;
	}
	return 0;
}

/* The file of a file-backed VMA under the root, looked at once. */
static struct rootfile *root_file(struct img_mem *m, const struct img_file *f)
{
	struct rootfile *nr, *rf;
	struct img_err e = { 0 };

	for (size_t i = 0; i < m->nrf; i++)
		if (m->rf[i].id == f->id)
			return &m->rf[i];
	nr = img_realloc(m->rf, (m->nrf + 1) * sizeof(*nr));
	if (!nr)
		return NULL;
	m->rf = nr;
	rf = &m->rf[m->nrf++];
	memset(rf, 0, sizeof(*rf));
	rf->id = f->id;
	/* paths come from the image: resolved within the root, links and ".." included */
	if (!f->path || f->path[0] != '/') {
		rf->code = EINVAL;
		snprintf(rf->why, sizeof(rf->why), "the image names no path under the root for it");
	} else if (img_src_open_under(m->root, f->path, &rf->src, &e)) {
		rf->code = e.code ? e.code : ENOENT;
		snprintf(rf->why, sizeof(rf->why), "%s under '%.200s' (%.150s)",
			 rf->code == ENOENT ? "not found" : "cannot be read", m->root, strerror(rf->code));
	} else if ((rf->code = -same_file(f, rf->src, rf->why, sizeof(rf->why)))) {
		img_src_unref(rf->src);
		rf->src = NULL;
	}
	return rf;
}

int img_mem_root_file(struct img_mem *m, const struct img_file *f, struct img_err *err)
{
	struct rootfile *rf;

	if (!m->root)
		return img_err_set(err, EINVAL, "no root folder is set");
	rf = root_file(m, f);
	if (!rf)
		return img_err_set(err, ENOMEM, "out of memory");
	if (rf->src)
		return 0;
	img_err_subject(err, f->path ? f->path : "?");
	return img_err_set(err, rf->code, "%s", rf->why);
}

/* A VMA's address in the space of its backing shmem object, or of the file it maps. */
static uint64_t to_obj(const struct img_vma *v, uint64_t a)
{
	return a - v->start + v->pgoff;
}

/*
 * The run at addr.  The bytes are at (*src, *off); with map set they are also
 * made reachable through run->data (a window for sources that are not mapped).
 */
static int mem_run(struct img_mem *m, uint64_t addr, uint64_t limit, int map, struct img_mem_run *run,
		   struct img_src **src, uint64_t *off, struct img_err *err)
{
	const struct img_mm *mm = m->task->mm;
	const struct img_vma *v = img_mm_find(mm, addr);
	struct pmap *pm = m->pm;
	struct hit h;
	int shared, r;

	*src = NULL;
	*off = 0;
	memset(run, 0, sizeof(*run));
	run->start = addr;
	run->end = limit;
	if (limit <= addr)
		return img_err_set(err, EINVAL, "empty range at 0x%llx", (unsigned long long)addr);
	if (!v) {
		/* unmapped up to the next VMA */
		size_t lo = 0, hi = mm ? mm->nvmas : 0;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (mm->vmas[mid].start <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (mm && lo < mm->nvmas && mm->vmas[lo].start < run->end)
			run->end = mm->vmas[lo].start;
		run->state = IMG_PAGE_UNMAPPED;
		return 0;
	}
	run->vma = v;
	if (v->end < run->end)
		run->end = v->end;
	shared = v->kind == IMG_VMA_SHARED;
	if (shared) {
		uint64_t shmid = v->file && v->file->type == 18 ? v->file->shmid : v->shmid;

		r = shm_pmap(m, shmid, &pm, err);
		if (r)
			return r;
		r = resolve(m, pm, to_obj(v, addr), to_obj(v, run->end), &h, err);
		if (r)
			return r;
		h.end = h.end - v->pgoff + v->start;
	} else {
		r = resolve(m, pm, addr, run->end, &h, err);
		if (r)
			return r;
	}
	run->end = h.end;
	if (h.state >= 0) {
		run->state = h.state;
		run->source = h.source;
		run->depth = h.depth;
		goto bytes;
	}
	/* the pagemap says nothing about these pages */
	run->state = IMG_PAGE_ZERO;
	if (shared || !(v->status & (IMG_VMA_FILE_PRIVATE | IMG_VMA_FILE_SHARED)))
		return 0;
	run->state = IMG_PAGE_FILE;
	if (v->file && v->file->type == 18) {
		/* a private mapping of a memfd: the untouched pages are the memfd's */
		struct pmap *sp;

		r = shm_pmap(m, v->file->shmid, &sp, err);
		if (r)
			return r;
		r = resolve(m, sp, to_obj(v, addr), to_obj(v, run->end), &h, err);
		if (r)
			return r;
		run->end = h.end - v->pgoff + v->start;
		run->state = h.state >= 0 ? h.state : IMG_PAGE_ZERO;
		run->source = h.source;
		goto bytes;
	}
	if ((m->flags & IMG_MEM_FILES) && m->root && v->file) {
		struct rootfile *rf = root_file(m, v->file);
		struct img_src *rs = rf ? rf->src : NULL;
		uint64_t ro = to_obj(v, addr);

		if (rs && ro < rs->size) {
			if (run->end - addr > rs->size - ro)
				run->end = addr + (rs->size - ro);
			h.src = rs;
			h.off = ro;
			run->source = v->file->path;
		}
	}
bytes:
	*src = h.src;
	*off = h.off;
	run->offset = h.src ? h.off : 0;
	if (h.src && map) {
		uint64_t have = 0;

		r = src_bytes(m, h.src, h.off, run->end - run->start, &run->data, &have, err);
		if (r)
			return r;
		run->end = run->start + have;
	}
	return 0;
}

int img_mem_run(struct img_mem *m, uint64_t addr, uint64_t limit, struct img_mem_run *run, struct img_err *err)
{
	struct img_src *src;
	uint64_t off;

	return mem_run(m, addr, limit, 1, run, &src, &off, err);
}

int img_mem_page(struct img_mem *m, uint64_t addr, int *state, struct img_err *err)
{
	struct img_mem_run run;
	uint64_t a = addr & ~(uint64_t)(IMG_PAGE_SIZE - 1);
	struct img_src *src;
	uint64_t off;
	int r = mem_run(m, a, a + IMG_PAGE_SIZE < a ? UINT64_MAX : a + IMG_PAGE_SIZE, 0, &run, &src, &off, err);

	if (!r)
		*state = run.state;
	return r;
}

int img_mem_read(struct img_mem *m, uint64_t addr, void *buf, size_t len, size_t *have, struct img_err *err)
{
	uint8_t *out = buf;
	size_t got = 0;

	if (addr + len < addr)
		len = (size_t)(UINT64_MAX - addr);
	while (len) {
		struct img_mem_run run;
		struct img_src *src;
		uint64_t off;
		/* straight into buf: a window would move under a caller that scans one */
		int r = mem_run(m, addr, addr + len, 0, &run, &src, &off, err);
		size_t n;

		if (r)
			return r;
		n = (size_t)(run.end - addr);
		if (src) {
			r = src_read(src, out, n, off, err);
			if (r)
				return r;
			got += n;
		} else {
			memset(out, 0, n);
		}
		out += n;
		addr += n;
		len -= n;
	}
	if (have)
		*have = got;
	return 0;
}

int img_mem_count(struct img_mem *m, uint64_t start, uint64_t end, uint64_t counts[IMG_PAGE__COUNT],
		  struct img_err *err)
{
	uint64_t a = start & ~(uint64_t)(IMG_PAGE_SIZE - 1);

	memset(counts, 0, IMG_PAGE__COUNT * sizeof(*counts));
	while (a < end) {
		struct img_mem_run run;
		struct img_src *src;
		uint64_t off;
		int r = mem_run(m, a, end, 0, &run, &src, &off, err);

		if (r)
			return r;
		counts[run.state] += (run.end - a + IMG_PAGE_SIZE - 1) / IMG_PAGE_SIZE;
		a = run.end;
	}
	return 0;
}

void img_mem_release(struct img_mem *m, const struct img_mem_run *run)
{
	size_t n = (size_t)(run->end - run->start);

	if (!run->data)
		return;
	/* img_src_release leaves alone what is not in the source's own mapping */
	for (struct pmap *p = m->all; p; p = p->next)
		if (p->pages)
			img_src_release(p->pages, run->data, n);
	for (size_t i = 0; i < m->nrf; i++)
		if (m->rf[i].src && run->data >= m->rf[i].src->data &&
		    run->data + n <= m->rf[i].src->data + m->rf[i].src->size) {
			img_src_release(m->rf[i].src, run->data, n);
			return;
		}
}
