/* The checkpoint model: opening a set, the image cache, the process tree and threads. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* Image cache */

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static struct ck_cached *cache_slot(struct img_ckpt *ck, const char *name)
{
	size_t mask = ck->capcache - 1, i = hash_name(name) & mask;

	while (ck->cache[i].name && strcmp(ck->cache[i].name, name))
		i = (i + 1) & mask;
	return &ck->cache[i];
}

/*
 * The model's budget covers the images it keeps and its cache as well as
 * its arena: what they hold is counted, and the arena may take the rest of
 * three quarters of the budget.  The last quarter is for what is not
 * counted: scratch arrays (a pointer per task or file), problems, the
 * handles of the sources.
 */
static int ck_hold(struct img_ckpt *ck, size_t n)
{
	size_t keep = ck->budget / 4 * 3;

	ck->held = n > SIZE_MAX - ck->held ? SIZE_MAX : ck->held + n;
	ck->arena.limit = ck->held < keep ? keep - ck->held : 1;
	if (ck->held <= keep)
		return 0;
	ck->arena.failed = EFBIG;
	return -EFBIG;
}

static size_t image_held(const struct img_image *img)
{
	const struct img_src *s = img->src;

	return img->arena.total + img->cap * sizeof(*img->e) +
	       (s->how == IMG_SRC_HEAP || s->how == IMG_SRC_WINDOW ? s->size : 0);
}

static int cache_grow(struct img_ckpt *ck)
{
	size_t oldcap = ck->capcache, cap = oldcap ? oldcap * 2 : 64;
	struct ck_cached *old = ck->cache, *nc;

	if (ck_hold(ck, (cap - oldcap) * sizeof(*nc)))
		return -EFBIG;
	nc = img_calloc(cap, sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	ck->cache = nc;
	ck->capcache = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].name)
			*cache_slot(ck, old[i].name) = old[i];
	img_free(old);
	return 0;
}

static int over_budget(struct img_ckpt *ck, struct img_err *err)
{
	img_err_subject(err, ck->dir->path);
	return img_err_set(err, EFBIG, "the model needs more than the %zu bytes of memory a set of %zu bytes of "
			   "images may take", ck->budget, ck->image_bytes);
}

int ck_load(struct img_ckpt *ck, const char *member, int optional, const struct img_image **out,
	    struct img_err *err)
{
	struct ck_cached *c;
	struct img_image *img = NULL;
	int r;

	*out = NULL;
	if ((ck->ncache + 1) * 2 > ck->capcache && (r = cache_grow(ck)))
		return r == -EFBIG ? over_budget(ck, err) : img_err_set(err, ENOMEM, "out of memory");
	c = cache_slot(ck, member);
	if (!c->name) {
		struct img_err e = { 0 };
		struct img_src *src;

		r = img_dir_get(ck->dir, member, &src, &e);
		if (!r) {
			r = img_image_read(src, ck->schema, NULL, 0, &img, &e);
			img_src_unref(src);
		}
		if (r == -ENOMEM) { /* not a property of the image: not kept */
			if (err)
				*err = e;
			return r;
		}
		c->name = img_strdup(member);
		if (!c->name) {
			img_image_free(img);
			return img_err_set(err, ENOMEM, "out of memory");
		}
		ck->ncache++;
		c->img = r ? NULL : img;
		c->code = r ? -r : 0;
		if (r && err)
			*err = e;
		if (ck_hold(ck, strlen(member) + 1 + (img && !r ? image_held(img) : 0)))
			return over_budget(ck, err);
	} else if (c->code && err) {
		/* read again only to say why: rare (a tool asks for a broken image twice) */
		struct img_src *src;
		struct img_image *tmp = NULL;

		if (!img_dir_get(ck->dir, member, &src, err)) {
			if (!img_image_read(src, ck->schema, NULL, 0, &tmp, err))
				img_image_free(tmp);
			img_src_unref(src);
		}
	}
	if (c->code) {
		if (optional && c->code == ENOENT)
			return 0;
		return -c->code;
	}
	*out = c->img;
	return 0;
}

int img_ckpt_image(struct img_ckpt *ck, const char *member, const struct img_image **out, struct img_err *err)
{
	return ck_load(ck, member, 0, out, err);
}

void ck_problem(struct img_ckpt *ck, const char *subject, int code, const char *fmt, ...)
{
	struct img_err *e;
	va_list ap;

	if (ck->nproblems == CK_MAX_PROBLEMS) /* a hostile set can make one per entry: a kilobyte each */
		return;
	if (ck->nproblems == ck->capproblems) {
		size_t cap = ck->capproblems ? ck->capproblems * 2 : 8;
		struct img_err *p = img_realloc(ck->problems, cap * sizeof(*p));

		if (!p) {
			ck->arena.failed = ENOMEM; /* the model fails as a whole */
			return;
		}
		ck->problems = p;
		ck->capproblems = cap;
	}
	e = &ck->problems[ck->nproblems++];
	memset(e, 0, sizeof(*e));
	if (ck->nproblems == CK_MAX_PROBLEMS) {
		img_err_set(e, E2BIG, "more problems: only the first %d are listed", CK_MAX_PROBLEMS - 1);
		return;
	}
	img_err_subject(e, subject);
	va_start(ap, fmt);
	img_err_vset(e, code, fmt, ap);
	va_end(ap);
}

int ck_fail(struct img_ckpt *ck, int r, struct img_err *err)
{
	if (!(ck->flags & IMG_CKPT_TOLERANT) || r == -ENOMEM)
		return r;
	if (err)
		ck_problem(ck, err->subject, err->code, "%s", err->msg);
	return 0;
}

const struct img_err *img_ckpt_problems(const struct img_ckpt *ck, size_t *n)
{
	*n = ck->nproblems;
	return ck->problems;
}

const struct img_msg **ck_msgs(struct img_arena *a, const struct img_msg *m, const char *field, size_t *n)
{
	size_t cnt = m ? img_msg_count(m, field) : 0, i = 0;
	const struct img_msg **v;
	struct img_iter it;
	struct img_msg *s;

	*n = 0;
	if (!cnt)
		return NULL;
	v = img_arena_alloc(a, cnt * sizeof(*v));
	if (!v)
		return NULL;
	img_iter_init(&it, m, field);
	while (i < cnt && (s = img_iter_next_msg(&it)))
		v[i++] = s;
	*n = i;
	return v;
}

/* Names */

static const char *const ns_names[IMG_NS__COUNT] = { "pid", "net", "ipc", "uts", "mnt", "user", "cgroup", "time" };

const char *img_ns_kind_name(int kind)
{
	return kind >= 0 && kind < IMG_NS__COUNT ? ns_names[kind] : NULL;
}

const char *img_task_state_name(uint32_t state)
{
	switch (state) {
	case IMG_TASK_ALIVE: return "alive";
	case IMG_TASK_DEAD: return "dead";
	case IMG_TASK_STOPPED: return "stopped";
	case IMG_TASK_ZOMBIE: return "zombie";
	}
	return NULL;
}

int img_sigaction_signo(size_t i)
{
	int sig = (int)i + 1;

	if (sig >= 9)  /* SIGKILL */
		sig++;
	if (sig >= 19) /* SIGSTOP */
		sig++;
	return sig;
}

/* Threads: where each architecture keeps its registers (core_entry field, pc and sp names). */
static const struct arch {
	uint32_t mtype;
	const char *name, *ti, *pc, *sp;
} arches[] = {
	{ 1, "x86_64", "thread_info", "ip", "sp" },
	{ 2, "arm", "ti_arm", "pc", "sp" },
	{ 3, "aarch64", "ti_aarch64", "pc", "sp" },
	{ 4, "ppc64", "ti_ppc64", "nip", NULL },
	{ 5, "s390", "ti_s390", "psw_addr", NULL },
	{ 6, "mips", "ti_mips", "cp0_epc", "r29" },
	{ 7, "loongarch64", "ti_loongarch64", "pc", NULL },
	{ 8, "riscv64", "ti_riscv64", "pc", "sp" },
};

static void thread_regs(struct img_thread *th, const struct img_msg *core)
{
	uint32_t mt = (uint32_t)ck_u64(core, "mtype", 0);

	th->arch = "unknown";
	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
		const struct arch *a = &arches[i];
		const struct img_msg *ti;

		if (a->mtype != mt)
			continue;
		th->arch = a->name;
		ti = img_msg_sub(core, a->ti);
		th->regs = img_msg_sub(ti, "gpregs");
		th->fpregs = img_msg_sub(ti, "fpregs");
		th->pc = ck_u64(th->regs, a->pc, 0);
		th->sp = a->sp ? ck_u64(th->regs, a->sp, 0) : 0;
		return;
	}
}

static int load_thread(struct img_ckpt *ck, struct img_task *t, struct img_thread *th, uint32_t tid,
		       const struct img_image *seccomp, struct img_err *err)
{
	const struct img_image *img;
	const struct img_msg *core, *tc, *thc;
	char name[64];
	int r;

	th->tid = tid;
	th->task = t;
	snprintf(name, sizeof(name), "core-%u.img", tid);
	r = ck_load(ck, name, 0, &img, err);
	if (r)
		return ck_fail(ck, r, err);
	core = img_image_msg(img);
	th->core = core;
	tc = img_msg_sub(core, "tc");
	thc = img_msg_sub(core, "thread_core");
	th->comm = img_msg_str(&ck->arena, thc, "comm", NULL);
	if (tc && tid == t->pid)
		t->comm = img_msg_str(&ck->arena, tc, "comm", "");
	thread_regs(th, core);
	th->blocked = img_msg_has(thc, "blk_sigset") ? ck_u64(thc, "blk_sigset", 0) : ck_u64(tc, "blk_sigset", 0);
	th->pending = img_msg_sub(thc, "signals_p");
	th->creds = img_msg_sub(thc, "creds");
	th->sas = img_msg_sub(thc, "sas");
	th->rseq = img_msg_sub(thc, "rseq_entry");
	th->seccomp_mode = (uint32_t)(img_msg_has(thc, "seccomp_mode") ? ck_u64(thc, "seccomp_mode", 0)
					  : ck_u64(tc, "old_seccomp_mode", 0));
	th->seccomp_filter = (uint32_t)(img_msg_has(thc, "seccomp_filter") ? ck_u64(thc, "seccomp_filter", 0)
					    : ck_u64(tc, "old_seccomp_filter", 0));
	th->seccomp = img_image_msg(seccomp);
	if (!th->creds) {
		/* CRIU < 2.0 kept creds in creds-PID.img */
		const struct img_image *ci;

		snprintf(name, sizeof(name), "creds-%u.img", t->pid);
		r = ck_load(ck, name, 1, &ci, err);
		if (r && (r = ck_fail(ck, r, err)))
			return r;
		th->creds = img_image_msg(ci);
	}
	return 0;
}

/* The entries of a legacy per-task image ("sigacts-%u.img"), as an array of messages; none when absent. */
static int legacy_msgs(struct img_ckpt *ck, const char *pattern, uint32_t pid, const struct img_msg *const **out,
		       size_t *n, struct img_err *err)
{
	const struct img_image *img;
	const struct img_msg **v;
	char name[64];
	int r;

	snprintf(name, sizeof(name), pattern, pid);
	r = ck_load(ck, name, 1, &img, err);
	if (r)
		return ck_fail(ck, r, err);
	if (!img || !img->n)
		return 0;
	v = img_arena_alloc(&ck->arena, img->n * sizeof(*v));
	if (!v)
		return img_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < img->n; i++)
		v[i] = img->e[i].msg;
	*out = v;
	*n = img->n;
	return 0;
}

/* Per-task things that moved from their own images into core over the years. */
static int load_legacy_task(struct img_ckpt *ck, struct img_task *t, const struct img_msg *tc, struct img_err *err)
{
	const struct img_msg *timers = img_msg_sub(tc, "timers");
	const struct img_msg *const *it = NULL;
	size_t nit = 0;
	int r = 0;

	t->sigactions = ck_msgs(&ck->arena, tc, "sigactions", &t->nsigactions);
	if (!t->nsigactions)
		r = legacy_msgs(ck, "sigacts-%u.img", t->pid, &t->sigactions, &t->nsigactions, err);
	t->rlimits = ck_msgs(&ck->arena, img_msg_sub(tc, "rlimits"), "rlimits", &t->nrlimits);
	if (!r && !t->nrlimits)
		r = legacy_msgs(ck, "rlimit-%u.img", t->pid, &t->rlimits, &t->nrlimits, err);
	if (r)
		return r;
	if (timers) {
		t->itimers[0] = img_msg_sub(timers, "real");
		t->itimers[1] = img_msg_sub(timers, "virt");
		t->itimers[2] = img_msg_sub(timers, "prof");
		t->posix_timers = ck_msgs(&ck->arena, timers, "posix", &t->nposix_timers);
		return 0;
	}
	r = legacy_msgs(ck, "itimers-%u.img", t->pid, &it, &nit, err);
	for (size_t i = 0; i < nit && i < 3; i++)
		t->itimers[i] = it[i];
	if (!r)
		r = legacy_msgs(ck, "posix-timers-%u.img", t->pid, &t->posix_timers, &t->nposix_timers, err);
	return r;
}

static const char *const ids_fields[IMG_NS__COUNT] = {
	"pid_ns_id", "net_ns_id", "ipc_ns_id", "uts_ns_id", "mnt_ns_id", "user_ns_id", "cgroup_ns_id", "time_ns_id",
};

static int load_task(struct img_ckpt *ck, struct img_task *t, const struct img_msg *pe,
		     const struct img_image *seccomp, struct img_err *err)
{
	const struct img_image *img;
	const struct img_msg *tc;
	struct img_thread *th;
	size_t n = img_msg_count(pe, "threads"), k = 1;
	struct img_iter it;
	char name[64];
	uint64_t tid;
	int r;

	t->pstree = pe;
	t->pid = (uint32_t)ck_u64(pe, "pid", 0);
	t->ppid = (uint32_t)ck_u64(pe, "ppid", 0);
	t->pgid = (uint32_t)ck_u64(pe, "pgid", 0);
	t->sid = (uint32_t)ck_u64(pe, "sid", 0);
	t->comm = "";
	/* the main thread first, whatever the order in pstree */
	th = img_arena_zalloc(&ck->arena, (n + 1) * sizeof(*th));
	if (!th)
		return img_err_set(err, ENOMEM, "out of memory");
	t->threads = th;
	r = load_thread(ck, t, &th[0], t->pid, seccomp, err);
	if (r)
		return r;
	img_iter_init(&it, pe, "threads");
	while (img_iter_next_u64(&it, &tid) && k <= n) {
		if (tid == t->pid)
			continue;
		r = load_thread(ck, t, &th[k], (uint32_t)tid, seccomp, err);
		if (r)
			return r;
		if (th[k].core)
			k++;
	}
	t->nthreads = th[0].core ? k : 0;
	if (!th[0].core) { /* tolerant, and the main core is unreadable: keep what there is */
		memmove(&th[0], &th[1], (k - 1) * sizeof(*th));
		t->nthreads = k - 1;
	}
	t->core = th[0].core;
	tc = img_msg_sub(t->core, "tc");
	t->state = (uint32_t)ck_u64(tc, "task_state", IMG_TASK_ALIVE);
	t->exit_code = (uint32_t)ck_u64(tc, "exit_code", 0);
	t->pending = img_msg_sub(tc, "signals_s");
	t->cg_set = (uint32_t)ck_u64(tc, "cg_set", 0);
	if (!t->cg_set)
		t->cg_set = (uint32_t)ck_u64(img_msg_sub(t->core, "thread_core"), "cg_set", 0);
	r = load_legacy_task(ck, t, tc, err);
	if (r)
		return r;
	/* ids: ids-PID.img, or inside core in old sets; zombies may have none */
	snprintf(name, sizeof(name), "ids-%u.img", t->pid);
	r = ck_load(ck, name, t->state == IMG_TASK_ZOMBIE || img_msg_sub(t->core, "ids"), &img, err);
	if (r && (r = ck_fail(ck, r, err)))
		return r;
	t->ids = img ? img_image_msg(img) : img_msg_sub(t->core, "ids");
	t->vm_id = (uint32_t)ck_u64(t->ids, "vm_id", 0);
	t->files_id = (uint32_t)ck_u64(t->ids, "files_id", 0);
	t->fs_id = (uint32_t)ck_u64(t->ids, "fs_id", 0);
	t->sighand_id = (uint32_t)ck_u64(t->ids, "sighand_id", 0);
	for (int i = 0; i < IMG_NS__COUNT; i++)
		t->ns_id[i] = (uint32_t)ck_u64(t->ids, ids_fields[i], 0);
	return 0;
}

static int cmp_task_pid(const void *a, const void *b)
{
	uint32_t x = (*(struct img_task *const *)a)->pid, y = (*(struct img_task *const *)b)->pid;

	return x < y ? -1 : x > y;
}

const struct img_task *img_ckpt_task(const struct img_ckpt *ck, uint32_t pid)
{
	size_t lo = 0, hi = ck->ntasks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t p = ck->by_pid[mid]->pid;

		if (p == pid)
			return ck->by_pid[mid];
		if (p < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int link_tree(struct img_ckpt *ck, struct img_err *err)
{
	ck->roots = img_arena_zalloc(&ck->arena, (ck->ntasks + 1) * sizeof(*ck->roots));
	if (!ck->roots)
		return img_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 1; i < ck->ntasks; i++)
		if (ck->by_pid[i]->pid == ck->by_pid[i - 1]->pid)
			ck_problem(ck, "pstree.img", EINVAL, "pid %u appears twice", ck->by_pid[i]->pid);
	/* parents found by pid (binary search), children counted in place: no pass over all tasks per task */
	for (size_t i = 0; i < ck->ntasks; i++) {
		struct img_task *t = ck->tasks[i];
		struct img_task *p = t->ppid ? (struct img_task *)img_ckpt_task(ck, t->ppid) : NULL;

		if (p == t)
			p = NULL;
		if (t->ppid && !p)
			ck_problem(ck, "pstree.img", EINVAL, "entry %zu: parent %u of pid %u is not in the tree", i,
				   t->ppid, t->pid);
		t->parent = p;
		if (p)
			p->nchildren++;
		else
			ck->roots[ck->nroots++] = t;
	}
	for (size_t j = 0; j < ck->ntasks; j++) {
		struct img_task *t = ck->tasks[j];

		if (!t->nchildren)
			continue;
		t->children = img_arena_zalloc(&ck->arena, t->nchildren * sizeof(struct img_task *));
		if (!t->children)
			return img_err_set(err, ENOMEM, "out of memory");
		t->nchildren = 0;
	}
	for (size_t i = 0; i < ck->ntasks; i++) {
		struct img_task *p = (struct img_task *)ck->tasks[i]->parent;

		if (p)
			((const struct img_task **)p->children)[p->nchildren++] = ck->tasks[i];
	}
	return 0;
}

static int load_tasks(struct img_ckpt *ck, struct img_err *err)
{
	const struct img_image *ps, *seccomp;
	int r;

	r = ck_load(ck, "pstree.img", 0, &ps, err);
	if (r)
		return r; /* nothing to build without the tree, tolerant or not */
	r = ck_load(ck, "seccomp.img", 1, &seccomp, err);
	if (r && (r = ck_fail(ck, r, err)))
		return r;
	ck->tasks = img_arena_zalloc(&ck->arena, (ps->n + 1) * sizeof(*ck->tasks));
	ck->by_pid = img_arena_zalloc(&ck->arena, (ps->n + 1) * sizeof(*ck->by_pid));
	if (!ck->tasks || !ck->by_pid)
		return img_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < ps->n; i++) {
		struct img_task *t = img_arena_zalloc(&ck->arena, sizeof(*t));

		if (!t)
			return img_err_set(err, ENOMEM, "out of memory");
		r = load_task(ck, t, ps->e[i].msg, seccomp, err);
		if (r)
			return r;
		if (!t->nthreads)
			continue; /* tolerant: no readable core */
		ck->tasks[ck->ntasks] = t;
		ck->by_pid[ck->ntasks++] = t;
	}
	img_sort(ck->by_pid, ck->ntasks, sizeof(*ck->by_pid), cmp_task_pid);
	return link_tree(ck, err);
}

static int add_image_bytes(void *arg, const char *name, uint64_t size)
{
	struct img_ckpt *ck = arg;

	if (strncmp(name, "pages-", 6)) /* pages are mapped, never held */
		ck->image_bytes += size > SIZE_MAX - ck->image_bytes ? SIZE_MAX - ck->image_bytes : (size_t)size;
	return 0;
}

/* The model's structures may take the budget of the images they come from (each image has its own). */
static int budget(struct img_ckpt *ck, struct img_err *err)
{
	int r = img_dir_each(ck->dir, add_image_bytes, ck);

	if (r == -ENOMEM)
		return img_err_set(err, ENOMEM, "out of memory");
	ck->budget = img_budget(ck->image_bytes);
	ck_hold(ck, sizeof(*ck));
	return 0;
}

int img_ckpt_open_dir(struct img_dir *d, unsigned flags, struct img_ckpt **out, struct img_err *err)
{
	struct img_ckpt *ck = img_calloc(1, sizeof(*ck));
	const struct img_image *inv;
	int r;

	*out = NULL;
	if (!ck) {
		img_dir_close(d);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	ck->dir = d;
	ck->flags = flags;
	ck->schema = img_schema_default();
	img_arena_init(&ck->arena);
	r = budget(ck, err);
	if (r)
		goto fail;
	r = ck_load(ck, "inventory.img", 1, &inv, err);
	if (r && (r = ck_fail(ck, r, err)))
		goto fail;
	ck->inventory = img_image_msg(inv);
	/* sets without an inventory are named by pid, as before ns_per_id */
	ck->ns_per_id = ck_u64(ck->inventory, "ns_per_id", 0) != 0;
	r = load_tasks(ck, err);
	if (!r)
		r = ck_load_files(ck, err);
	for (size_t i = 0; !r && i < ck->ntasks; i++) {
		r = ck_load_mm(ck, ck->tasks[i], err);
		if (!r)
			r = ck_load_task_files(ck, ck->tasks[i], err);
	}
	if (!r)
		r = ck_load_namespaces(ck, err);
	/* a string or a table the model could not copy (img_msg_str gives NULL then) */
	if ((!r || r == -ENOMEM) && ck->arena.failed == EFBIG)
		r = over_budget(ck, err);
	else if (!r && ck->arena.failed)
		r = img_err_set(err, ENOMEM, "out of memory");
	if (r)
		goto fail;
	*out = ck;
	return 0;
fail:
	img_ckpt_close(ck);
	return r;
}

int img_ckpt_open(const char *path, unsigned flags, struct img_ckpt **out, struct img_err *err)
{
	struct img_dir *d;
	int r = img_dir_open(path, &d, err);

	if (r) {
		*out = NULL;
		return r;
	}
	return img_ckpt_open_dir(d, flags, out, err);
}

void img_ckpt_close(struct img_ckpt *ck)
{
	if (!ck)
		return;
	for (size_t i = 0; i < ck->capcache; i++) {
		img_free(ck->cache[i].name);
		img_image_free(ck->cache[i].img);
	}
	img_free(ck->cache);
	img_free(ck->problems);
	img_free(ck->mounts);
	img_arena_free(&ck->arena);
	img_dir_close(ck->dir);
	img_free(ck);
}

struct img_dir *img_ckpt_dir(const struct img_ckpt *ck)
{
	return ck->dir;
}

const struct img_schema *img_ckpt_schema(const struct img_ckpt *ck)
{
	return ck->schema;
}

const struct img_msg *img_ckpt_inventory(const struct img_ckpt *ck)
{
	return ck->inventory;
}

const struct img_msg *img_ckpt_stats(struct img_ckpt *ck, const char *which)
{
	const struct img_image *img;
	char name[32];

	snprintf(name, sizeof(name), "stats-%s", which);
	errno = ck_load(ck, name, 1, &img, NULL) == -ENOMEM ? ENOMEM : 0;
	if (!img)
		return NULL;
	return img_msg_sub(img_image_msg(img), which);
}

const struct img_task *const *img_ckpt_tasks(const struct img_ckpt *ck, size_t *n)
{
	*n = ck->ntasks;
	return (const struct img_task *const *)ck->tasks;
}

const struct img_task *const *img_ckpt_roots(const struct img_ckpt *ck, size_t *n)
{
	*n = ck->nroots;
	return ck->roots;
}

static int add_size(void *arg, const char *member, uint64_t size)
{
	struct img_ckpt_sizes *s = arg;

	s->total += size;
	s->nfiles++;
	if (!strncmp(member, "pages-", 6))
		s->pages += size;
	else
		s->images += size;
	return 0;
}

int img_ckpt_sizes(const struct img_ckpt *ck, struct img_ckpt_sizes *s)
{
	memset(s, 0, sizeof(*s));
	return img_dir_each(ck->dir, add_size, s);
}
