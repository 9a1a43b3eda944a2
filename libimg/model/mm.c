/* Address space layouts: mm-PID.img (or vmas-PID.img before CRIU 1.2), VMAs and their kinds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "priv.h"

static const char *const vma_kind_names[IMG_VMA__COUNT] = {
	"anon", "heap", "stack", "file", "shared", "vdso", "vvar", "vsyscall", "other",
};

const char *img_vma_kind_name(int kind)
{
	return kind >= 0 && kind < IMG_VMA__COUNT ? vma_kind_names[kind] : NULL;
}

static int cmp_vma(const void *a, const void *b)
{
	uint64_t x = ((const struct img_vma *)a)->start, y = ((const struct img_vma *)b)->start;

	return x < y ? -1 : x > y;
}

const struct img_vma *img_mm_find(const struct img_mm *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm ? mm->nvmas : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct img_vma *v = &mm->vmas[mid];

		if (addr < v->start)
			hi = mid;
		else if (addr >= v->end)
			lo = mid + 1;
		else
			return v;
	}
	return NULL;
}

static const char *deleted_name(struct img_ckpt *ck, const char *name, int prefix_memfd)
{
	size_t n = strlen(name) + 32;
	char *s = img_arena_alloc(&ck->arena, n);

	if (!s)
		return name;
	snprintf(s, n, "%s%s (deleted)", prefix_memfd ? "/memfd:" : "", name);
	return s;
}

/* What kind of mapping, and what /proc/PID/maps would call it. */
static void classify(struct img_ckpt *ck, const struct img_mm *mm, struct img_vma *v)
{
	uint32_t st = v->status;
	int file = st & (IMG_VMA_FILE_PRIVATE | IMG_VMA_FILE_SHARED);

	v->name = "";
	if (file)
		v->file = img_ckpt_file(ck, (uint32_t)v->shmid);
	if (st & IMG_VMA_AREA_VSYSCALL) {
		v->kind = IMG_VMA_VSYSCALL;
		v->name = "[vsyscall]";
	} else if (st & IMG_VMA_AREA_VDSO) {
		v->kind = IMG_VMA_VDSO;
		v->name = "[vdso]";
	} else if (st & IMG_VMA_AREA_VVAR) {
		v->kind = IMG_VMA_VVAR;
		v->name = "[vvar]";
	} else if ((st & IMG_VMA_ANON_SHARED) || (st & IMG_VMA_AREA_SYSVIPC) ||
		   ((st & IMG_VMA_AREA_MEMFD) && (st & IMG_VMA_FILE_SHARED))) {
		v->kind = IMG_VMA_SHARED;
		if (st & IMG_VMA_AREA_SYSVIPC)
			v->name = "[sysv-shm]";
		else if (v->file && v->file->path)
			/* anonymous shared memory is a memfd named /dev/zero since CRIU 4 */
			v->name = deleted_name(ck, v->file->path, v->file->path[0] != '/');
		else
			v->name = "/dev/zero (deleted)";
	} else if (file) {
		v->kind = IMG_VMA_FILE;
		if (v->file && v->file->path)
			v->name = v->file->type == 18 ? deleted_name(ck, v->file->path, 1)
				  : v->file->remap == IMG_REMAP_GHOST ? deleted_name(ck, v->file->path, 0)
				  : v->file->path;
		else
			ck_problem(ck, "mm", ENOENT, "the file %llu mapped at 0x%llx is not in the set",
				   (unsigned long long)v->shmid, (unsigned long long)v->start);
	} else if ((st & IMG_VMA_AREA_HEAP) || (mm->brk > mm->start_brk && v->start < mm->brk &&
						v->end > mm->start_brk)) {
		v->kind = IMG_VMA_HEAP;
		v->name = "[heap]";
	} else if ((st & IMG_VMA_AREA_STACK) || (v->flags & MAP_GROWSDOWN) ||
		   (mm->start_stack >= v->start && mm->start_stack < v->end)) {
		v->kind = IMG_VMA_STACK;
		v->name = "[stack]";
	} else if (st & (IMG_VMA_AREA_SOCKET | IMG_VMA_AREA_AIORING | IMG_VMA_AREA_SHSTK | IMG_VMA_AREA_UPROBES)) {
		v->kind = IMG_VMA_OTHER;
		v->name = st & IMG_VMA_AREA_SOCKET ? "[packet-ring]" : st & IMG_VMA_AREA_AIORING ? "[aio]"
			  : st & IMG_VMA_AREA_SHSTK ? "[shadow-stack]" : "[uprobes]";
	} else {
		v->kind = IMG_VMA_ANON;
	}
}

static void fill_vma(struct img_vma *v, const struct img_msg *m)
{
	v->msg = m;
	v->start = ck_u64(m, "start", 0);
	v->end = ck_u64(m, "end", 0);
	v->pgoff = ck_u64(m, "pgoff", 0);
	v->shmid = ck_u64(m, "shmid", 0);
	v->prot = (uint32_t)ck_u64(m, "prot", 0);
	v->flags = (uint32_t)ck_u64(m, "flags", 0);
	v->status = (uint32_t)ck_u64(m, "status", 0);
}

int ck_load_mm(struct img_ckpt *ck, struct img_task *t, struct img_err *err)
{
	const struct img_image *img, *vimg = NULL;
	const struct img_msg *m;
	struct img_mm *mm;
	struct img_vma *vmas;
	size_t n, i = 0;
	char name[64];
	int r;

	if (t->state == IMG_TASK_ZOMBIE || t->state == IMG_TASK_DEAD)
		return 0;
	/* threads of one process share the mm: reuse the one already read */
	for (size_t k = 0; k < ck->ntasks && ck->tasks[k] != t; k++)
		if (ck->tasks[k]->vm_id == t->vm_id && t->vm_id && ck->tasks[k]->mm) {
			t->mm = ck->tasks[k]->mm;
			return 0;
		}
	snprintf(name, sizeof(name), "mm-%u.img", t->pid);
	r = ck_load(ck, name, 0, &img, err);
	if (r)
		return ck_fail(ck, r, err);
	m = img_image_msg(img);
	mm = img_arena_zalloc(&ck->arena, sizeof(*mm));
	if (!mm)
		return img_err_set(err, ENOMEM, "out of memory");
	mm->msg = m;
	mm->start_code = ck_u64(m, "mm_start_code", 0);
	mm->end_code = ck_u64(m, "mm_end_code", 0);
	mm->start_data = ck_u64(m, "mm_start_data", 0);
	mm->end_data = ck_u64(m, "mm_end_data", 0);
	mm->start_stack = ck_u64(m, "mm_start_stack", 0);
	mm->start_brk = ck_u64(m, "mm_start_brk", 0);
	mm->brk = ck_u64(m, "mm_brk", 0);
	mm->arg_start = ck_u64(m, "mm_arg_start", 0);
	mm->arg_end = ck_u64(m, "mm_arg_end", 0);
	mm->env_start = ck_u64(m, "mm_env_start", 0);
	mm->env_end = ck_u64(m, "mm_env_end", 0);
	mm->exe = img_ckpt_file(ck, (uint32_t)ck_u64(m, "exe_file_id", 0));
	n = img_msg_count(m, "mm_saved_auxv");
	if (n) {
		uint64_t *aux = img_arena_alloc(&ck->arena, n * sizeof(*aux)), v;
		struct img_iter it;

		if (!aux)
			return img_err_set(err, ENOMEM, "out of memory");
		img_iter_init(&it, m, "mm_saved_auxv");
		while (mm->nauxv < n && img_iter_next_u64(&it, &v))
			aux[mm->nauxv++] = v;
		mm->auxv = aux;
	}
	n = img_msg_count(m, "vmas");
	if (!n) {
		/* CRIU < 1.2 kept the VMAs in their own image */
		snprintf(name, sizeof(name), "vmas-%u.img", t->pid);
		r = ck_load(ck, name, 1, &vimg, err);
		if (r && (r = ck_fail(ck, r, err)))
			return r;
		n = vimg ? vimg->n : 0;
	}
	vmas = img_arena_zalloc(&ck->arena, (n + 1) * sizeof(*vmas));
	if (!vmas)
		return img_err_set(err, ENOMEM, "out of memory");
	if (vimg) {
		for (; i < vimg->n; i++)
			fill_vma(&vmas[i], vimg->e[i].msg);
	} else {
		struct img_iter it;
		const struct img_msg *vm;

		img_iter_init(&it, m, "vmas");
		while (i < n && (vm = img_iter_next_msg(&it)))
			fill_vma(&vmas[i++], vm);
	}
	n = i;
	img_sort(vmas, n, sizeof(*vmas), cmp_vma);
	for (i = 0; i < n; i++) {
		if (vmas[i].end <= vmas[i].start || (vmas[i].start | vmas[i].end) & (IMG_PAGE_SIZE - 1))
			ck_problem(ck, vimg ? "vmas" : "mm", EINVAL, "pid %u: VMA %llx-%llx is empty or not page aligned",
				   t->pid, (unsigned long long)vmas[i].start, (unsigned long long)vmas[i].end);
		if (i && vmas[i].start < vmas[i - 1].end)
			ck_problem(ck, "mm", EINVAL, "pid %u: VMA at 0x%llx overlaps the one before", t->pid,
				   (unsigned long long)vmas[i].start);
		classify(ck, mm, &vmas[i]);
	}
	mm->vmas = vmas;
	mm->nvmas = n;
	t->mm = mm;
	return 0;
}
