/*
 * Integrity of an image set from the images alone: every image the set needs
 * is there and readable, and every id points at something that exists.
 * This pass also gathers the tasks and files the host checks look at.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../criu/legacy.h"
#include "ck.h"

#define MAX_TASKS (1u << 20)
#define MAX_THREADS (1u << 20)
#define MAX_VMAS (1u << 24)
#define PAGE 4096ull
#define MAX_PARENT_DEPTH 64

/*
 * Namespaces a task can have of its own, and the image CRIU writes for each
 * (criu/namespaces.c; keyed by the namespace id when inventory.ns_per_id).
 */
static const struct ns_image {
	const char *field;
	const char *what;
	const char *pattern;
} ns_images[] = {
	{ "uts_ns_id", "UTS", "utsns-%u.img" },
	{ "ipc_ns_id", "IPC", "ipcns-var-%u.img" },
	{ "mnt_ns_id", "mount", "mountpoints-%u.img" },
	{ "net_ns_id", "network", "netns-%u.img" },
	{ "user_ns_id", "user", "userns-%u.img" },
	{ "time_ns_id", "time", "timens-%u.img" },
};

static int cmp_file(const void *a, const void *b)
{
	const struct ck_file *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void inventory(struct ck *c)
{
	struct img_image *img = ck_need(c, "inventory.img", NULL, IMG_NO_ENTRY,
					"says which image version the set has");
	struct img_finding *fi;
	uint64_t v;

	if (!img)
		return;
	c->inv = img_image_msg(img);
	v = img_msg_u64(c->inv, "img_version", 0);
	if (v != 1 && v != 2) {
		fi = ck_add(c, IMG_SEV_ERROR, "images", "inventory-version", "inventory.img", 0,
			    "image version %llu is not one CRIU reads (CRIU: Not supported images version)",
			    (unsigned long long)v);
		fi->field = "img_version";
		fi->expected = "1 or 2";
		fi->found = CK_F(c, "%llu", (unsigned long long)v);
		fi->offset = ck_entry_off(img, 0);
		fi->todo = "restore with the program that wrote the set; CRIU writes version 2";
	}
	if (!img_msg_u64(c->inv, "fdinfo_per_id", 0)) {
		fi = ck_add(c, IMG_SEV_ERROR, "images", "inventory-old", "inventory.img", 0,
			    "fdinfo_per_id is not set: the set comes from a CRIU older than 2.4, which CRIU no longer "
			    "reads (CRIU: Too old image, no longer supported)");
		fi->field = "fdinfo_per_id";
		fi->expected = "true";
		fi->found = "false";
		fi->offset = ck_entry_off(img, 0);
		fi->todo = "restore with a CRIU of the same age as the one that dumped the set";
	}
	if (img_msg_has(c->inv, "root_cg_set") && img_msg_u64(c->inv, "root_cg_set", 0) == 0) {
		fi = ck_add(c, IMG_SEV_ERROR, "images", "inventory-cgset", "inventory.img", 0,
			    "root_cg_set is 0 (CRIU: Corrupted root cgset)");
		fi->field = "root_cg_set";
		fi->offset = ck_entry_off(img, 0);
	}
	c->ns_per_id = img_msg_u64(c->inv, "ns_per_id", 0) != 0;
	c->root_ids = img_msg_sub(c->inv, "root_ids");
	if (img_msg_has(c->inv, "pre_dump_mode"))
		c->chain = 1;
}

static int cmp_task_idx(const void *a, const void *b, void *arg)
{
	const struct ck_task *t = arg, *x = &t[*(const uint32_t *)a], *y = &t[*(const uint32_t *)b];

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->entry < y->entry ? -1 : x->entry > y->entry;
}

/* Sort the tasks by pid for ck_task; a pid listed twice is reported and its later entries dropped. */
static int index_tasks(struct ck *c, const struct img_image *img)
{
	uint32_t *ix = img_arena_alloc(&c->arena, (c->ntasks ? c->ntasks : 1) * sizeof(*ix));
	size_t n = 0;

	if (!ix) {
		c->f->failed = 1;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < c->ntasks; i++)
		ix[i] = i;
	if (c->ntasks > 1)
		qsort_r(ix, c->ntasks, sizeof(*ix), cmp_task_idx, c->tasks);
	for (size_t i = 1; i < c->ntasks; i++)
		if (c->tasks[ix[i]].pid == c->tasks[ix[i - 1]].pid) {
			struct ck_task *t = &c->tasks[ix[i]];
			struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "pstree-dup", "pstree.img", t->entry,
							"pid %u is listed twice", t->pid);

			fi->offset = img->e[t->entry].off;
			t->entry = -1; /* dropped below */
		}
	for (size_t i = 0; i < c->ntasks; i++)
		if (c->tasks[i].entry >= 0)
			c->tasks[n++] = c->tasks[i];
	c->ntasks = n;
	for (uint32_t i = 0; i < c->ntasks; i++)
		ix[i] = i;
	if (c->ntasks > 1)
		qsort_r(ix, c->ntasks, sizeof(*ix), cmp_task_idx, c->tasks);
	c->by_pid = ix;
	return 0;
}

/* Tasks whose parents lead round in a circle: no task of the circle has a root above it. */
static void tree_cycles(struct ck *c, const struct img_image *img)
{
	uint8_t *state = img_arena_zalloc(&c->arena, c->ntasks ? c->ntasks : 1); /* 1: on the walk, 2: done */

	if (!state) {
		c->f->failed = 1;
		return;
	}
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];

		/* walk up, marking; stop at a root, a task done, or one on this walk (a circle) */
		while (t && !state[t - c->tasks]) {
			state[t - c->tasks] = 1;
			t = t->ppid && t->ppid != t->pid ? ck_task(c, t->ppid) : NULL;
		}
		if (t && state[t - c->tasks] == 1) {
			struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "pstree-cycle", "pstree.img", t->entry,
							"task %u is its own ancestor: its parents lead round in a circle",
							t->pid);

			fi->offset = img->e[t->entry].off;
			fi->field = "ppid";
			fi->todo = "take pstree.img from an intact copy of the set";
		}
		for (t = &c->tasks[i]; t && state[t - c->tasks] == 1;) {
			state[t - c->tasks] = 2;
			t = t->ppid && t->ppid != t->pid ? ck_task(c, t->ppid) : NULL;
		}
	}
}

static void pstree(struct ck *c)
{
	struct img_image *img = ck_need(c, "pstree.img", NULL, IMG_NO_ENTRY, "lists the tasks to restore");
	struct img_finding *fi;

	if (!img)
		return;
	if (!img->n) {
		fi = ck_add(c, IMG_SEV_ERROR, "images", "pstree-empty", "pstree.img", IMG_NO_ENTRY,
			    "the set holds no task");
		return;
	}
	if (img->n > MAX_TASKS) {
		ck_add(c, IMG_SEV_ERROR, "images", "pstree-size", "pstree.img", IMG_NO_ENTRY,
		       "%zu tasks: more than this tool handles (%u)", img->n, MAX_TASKS);
		return;
	}
	c->tasks = img_arena_zalloc(&c->arena, img->n * sizeof(*c->tasks));
	if (!c->tasks) {
		c->f->failed = 1;
		return;
	}
	c->have_tree = 1;
	for (size_t i = 0; i < img->n; i++) {
		struct img_msg *m = img->e[i].msg;
		struct ck_task *t = &c->tasks[c->ntasks];
		size_t n = img_msg_count(m, "threads");
		struct img_iter it;
		uint64_t v;
		int self = 0;

		t->pid = (uint32_t)img_msg_u64(m, "pid", 0);
		t->ppid = (uint32_t)img_msg_u64(m, "ppid", 0);
		t->entry = (long)i;
		if (n > MAX_THREADS)
			n = MAX_THREADS;
		t->tids = img_arena_alloc(&c->arena, (n ? n : 1) * sizeof(*t->tids));
		if (!t->tids) {
			c->f->failed = 1;
			return;
		}
		img_iter_init(&it, m, "threads");
		while (t->ntids < n && img_iter_next_u64(&it, &v)) {
			t->tids[t->ntids++] = (uint32_t)v;
			self |= v == t->pid;
		}
		if (!self) {
			fi = ck_add(c, IMG_SEV_ERROR, "images", "pstree-threads", "pstree.img", (long)i,
				    "task %u is not among its own threads", t->pid);
			fi->offset = img->e[i].off;
			fi->field = "threads";
		}
		c->ntasks++;
	}
	if (index_tasks(c, img))
		return;
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];

		if (t->ppid && !ck_task(c, t->ppid) && i > 0) {
			fi = ck_add(c, IMG_SEV_ERROR, "images", "pstree-parent", "pstree.img", t->entry,
				    "the parent %u of task %u is not in the tree", t->ppid, t->pid);
			fi->field = "ppid";
			fi->offset = img->e[t->entry].off;
		}
	}
	tree_cycles(c, img);
}

static void add_file(struct ck *c, size_t *cap, uint32_t id, int type, const char *image, long entry,
		     uint64_t off, struct img_msg *msg)
{
	if (c->nfiles == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct ck_file *v = img_realloc(c->files, nc * sizeof(*v));

		if (!v) {
			c->f->failed = 1;
			return;
		}
		c->files = v;
		*cap = nc;
	}
	c->files[c->nfiles++] = (struct ck_file){ id, type, image, entry, off, msg, 0, NULL };
}

/*
 * The files: files.img (CRIU >= 3.4), or the per-type images of older sets.
 * A set converted down with files CRIU 3.3 cannot hold has both: every file
 * is taken, and the set is said to be one no CRIU reads whole.
 */
static void files_table(struct ck *c)
{
	struct img_image *img = ck_get(c, "files.img");
	const struct img_legacy_file *ft;
	size_t cap = 0, nft = 0, nnew = 0, nold = 0;
	char old[256];
	size_t at = 0;

	if (img) {
		for (size_t i = 0; i < img->n; i++) {
			struct img_msg *m = img->e[i].msg;
			int type = (int)img_msg_u64(m, "type", 0);
			const struct img_legacy_file *lf = img_legacy_file((uint32_t)type);

			add_file(c, &cap, (uint32_t)img_msg_u64(m, "id", 0), type, "files.img", (long)i, img->e[i].off,
				 lf ? img_msg_sub(m, lf->field) : NULL);
		}
		nnew = img->n;
	}
	if (ck_state(c, "files.img") != CK_MISSING)
		c->have_files = 1; /* even a damaged one: it was reported */
	if (img_legacy_files(&ft, &nft, NULL))
		c->f->failed = 1;
	old[0] = 0;
	for (size_t k = 0; k < nft; k++) {
		const char *name = ft[k].image;

		if (!name || ck_state(c, name) == CK_MISSING)
			continue;
		c->have_files = 1;
		img = ck_get(c, name);
		for (size_t i = 0; img && i < img->n; i++)
			add_file(c, &cap, (uint32_t)img_msg_u64(img->e[i].msg, "id", 0), (int)ft[k].type, name, (long)i,
				 img->e[i].off, img->e[i].msg);
		nold += img ? img->n : 0;
		if (at < sizeof(old) - 32)
			at += (size_t)snprintf(old + at, sizeof(old) - at, "%s%s", at ? ", " : "", name);
	}
	if (nnew && nold) {
		struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "files-mixed", "files.img", IMG_NO_ENTRY,
						"the set keeps %zu files in files.img and %zu in per-type images (%s): CRIU 3.4 "
						"and later read only files.img, CRIU 3.3 and earlier only the per-type images, "
						"so no CRIU finds every file",
						nnew, nold, old);
		fi->expected = "files.img alone (CRIU >= 3.4) or per-type images alone (CRIU <= 3.3)";
		fi->found = "both";
		fi->todo = "restore the set as it was before it was converted down; a set for CRIU 3.3 cannot hold memfd, "
			   "bpf map or pidfd files: close them in the program before the dump";
	}
	if (!c->nfiles)
		return;
	img_sort(c->files, c->nfiles, sizeof(*c->files), cmp_file);
	for (size_t i = 1; i < c->nfiles; i++)
		if (c->files[i].id == c->files[i - 1].id) {
			struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "file-dup", c->files[i].image,
							c->files[i].entry, "file id %#x is used by two entries",
							c->files[i].id);

			fi->offset = c->files[i].off;
			fi->ref_image = c->files[i - 1].image;
			fi->ref_entry = c->files[i - 1].entry;
		}
}

/* A reference to a file id; reports a missing file table once and each dangling id. */
static struct ck_file *ref_file(struct ck *c, uint32_t id, const char *by, long entry, uint64_t off,
				const char *field, const char *what)
{
	struct ck_file *f;

	if (!c->have_files) {
		ck_need(c, "files.img", by, entry, "describes the files the tasks use (%s refers to file id %#x)",
			what, id);
		return NULL;
	}
	f = ck_file(c, id);
	if (!f) {
		struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "ref-file", by, entry,
						"%s refers to file id %#x, which the set does not describe", what, id);

		fi->offset = off;
		fi->field = field;
		fi->subject = what;
		fi->expected = ck_state(c, "files.img") == CK_MISSING ? "a file with this id in the per-type images"
								 : "an entry of files.img with this id";
		fi->found = "none";
		fi->todo = "the image was changed or cut: take it from an intact copy, or dump again";
		return NULL;
	}
	if (!f->user)
		f->user = what;
	return f;
}

static void task_images(struct ck *c)
{
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];
		struct img_image *core;
		char name[64];

		for (size_t j = 0; j < t->ntids; j++) {
			snprintf(name, sizeof(name), "core-%u.img", t->tids[j]);
			core = ck_need(c, name, "pstree.img", t->entry, "holds the registers of thread %u of task %u",
				       t->tids[j], t->pid);
			if (core && t->tids[j] == t->pid) {
				struct img_msg *tc = img_msg_sub(img_image_msg(core), "tc");

				t->state = tc ? (int)img_msg_u64(tc, "task_state", 0) : 0;
				if (!tc) {
					struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "core-tc", name, 0,
									"the core of task %u has no task state (CRIU: Core task state data missed)",
									t->pid);
					fi->field = "tc";
				}
			}
		}
		if (t->state && t->state != CK_TASK_ALIVE && t->state != CK_TASK_STOPPED)
			continue; /* a zombie or a helper: CRIU dumps its core alone */
		snprintf(name, sizeof(name), "ids-%u.img", t->pid);
		struct img_image *ids = ck_need(c, name, "pstree.img", t->entry,
						"holds the ids of the fd table, memory and namespaces of task %u", t->pid);
		t->ids = img_image_msg(ids);
		snprintf(name, sizeof(name), "mm-%u.img", t->pid);
		t->mm = img_image_msg(ck_need(c, name, "pstree.img", t->entry,
					      "describes the memory mappings of task %u", t->pid));
		if (t->mm)
			ck_task_vmas(c, t, NULL, ck_name(c, "%s", name));
		snprintf(name, sizeof(name), "fs-%u.img", t->pid);
		ck_need(c, name, "pstree.img", t->entry, "holds the cwd and root of task %u", t->pid);
		snprintf(name, sizeof(name), "pagemap-%u.img", t->pid);
		ck_need(c, name, "pstree.img", t->entry, "says where the memory pages of task %u are", t->pid);
	}
}

static void namespaces(struct ck *c, struct ck_task *t, const char *idsname)
{
	if (!c->root_ids || !c->ns_per_id || !t->ids)
		return;
	for (size_t k = 0; k < sizeof(ns_images) / sizeof(ns_images[0]); k++) {
		const struct ns_image *n = &ns_images[k];
		uint64_t id = img_msg_u64(t->ids, n->field, 0), root = img_msg_u64(c->root_ids, n->field, 0);
		char name[64];

		if (!img_msg_has(t->ids, n->field) || id == root)
			continue;
		snprintf(name, sizeof(name), n->pattern, (unsigned)id);
		ck_need(c, name, idsname, 0, "describes the %s namespace %llu of task %u", n->what,
			(unsigned long long)id, t->pid);
	}
}

static void cgroups(struct ck *c)
{
	struct img_image *cg = ck_get(c, "cgroup.img");
	struct img_msg *m = img_image_msg(cg);

	if (!m)
		return; /* without cgroup.img CRIU leaves the tasks in the cgroups they inherit */
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];
		char name[64];
		struct img_image *core;
		struct img_msg *tc;
		struct img_iter it;
		struct img_msg *set;
		uint64_t want;
		int found = 0;

		snprintf(name, sizeof(name), "core-%u.img", t->pid);
		core = ck_state(c, name) == CK_OK ? ck_get(c, name) : NULL;
		tc = img_msg_sub(img_image_msg(core), "tc");
		if (!img_msg_has(tc, "cg_set"))
			continue;
		want = img_msg_u64(tc, "cg_set", 0);
		img_iter_init(&it, m, "sets");
		while (!found && (set = img_iter_next_msg(&it)))
			found = img_msg_u64(set, "id", 0) == want;
		if (!found) {
			struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "ref-cgroup", ck_name(c, "%s", name), 0,
							"task %u is in cgroup set %llu, which cgroup.img lacks (CRIU: No set %llu found)",
							t->pid, (unsigned long long)want, (unsigned long long)want);
			fi->field = "tc.cg_set";
			fi->ref_image = "cgroup.img";
		}
	}
}

static void fdinfos(struct ck *c)
{
	uint32_t done[256];
	size_t ndone = 0;

	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];
		uint32_t fid;
		char name[64], idsname[64];
		struct img_image *fdi;
		size_t j;

		if (!t->ids)
			continue;
		snprintf(idsname, sizeof(idsname), "ids-%u.img", t->pid);
		namespaces(c, t, ck_name(c, "%s", idsname));
		fid = (uint32_t)img_msg_u64(t->ids, "files_id", 0);
		for (j = 0; j < ndone && done[j] != fid; j++)
			;
		if (j < ndone)
			continue;
		if (ndone < sizeof(done) / sizeof(done[0]))
			done[ndone++] = fid;
		snprintf(name, sizeof(name), "fdinfo-%u.img", fid);
		fdi = ck_need(c, name, ck_name(c, "%s", idsname), 0, "lists the fds of task %u (files_id %u)", t->pid, fid);
		if (!fdi)
			continue;
		const char *img = ck_name(c, "%s", name);

		for (size_t e = 0; e < fdi->n; e++) {
			struct img_msg *m = fdi->e[e].msg;
			uint32_t fd = (uint32_t)img_msg_u64(m, "fd", 0);
			int type = (int)img_msg_u64(m, "type", 0);
			struct ck_file *f;

			for (size_t k = 0; k < e; k++)
				if ((uint32_t)img_msg_u64(fdi->e[k].msg, "fd", 0) == fd) {
					struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "fd-dup", img, (long)e,
									"fd %u is listed twice", fd);
					fi->offset = fdi->e[e].off;
					fi->ref_image = img;
					fi->ref_entry = (long)k;
					break;
				}
			f = ref_file(c, (uint32_t)img_msg_u64(m, "id", 0), img, (long)e, fdi->e[e].off, "id",
				     ck_name(c, "fd %u of pid %u", fd, t->pid));
			if (f && f->type != type && f->type) {
				struct img_finding *fi = ck_add(c, IMG_SEV_WARNING, "images", "fd-type", img, (long)e,
								"fd %u has type %d, but its file (id %#x) has type %d",
								fd, type, f->id, f->type);
				fi->offset = fdi->e[e].off;
				fi->field = "type";
				fi->ref_image = f->image;
				fi->ref_entry = f->entry;
			}
		}
	}
}

static void task_fs(struct ck *c)
{
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];
		const char *name = ck_name(c, "fs-%u.img", t->pid);
		struct img_image *fs = ck_state(c, name) == CK_OK ? ck_get(c, name) : NULL;
		struct img_msg *m = img_image_msg(fs);

		if (!m)
			continue;
		ref_file(c, (uint32_t)img_msg_u64(m, "cwd_id", 0), name, 0, fs->e[0].off, "cwd_id",
			 ck_name(c, "the cwd of pid %u", t->pid));
		ref_file(c, (uint32_t)img_msg_u64(m, "root_id", 0), name, 0, fs->e[0].off, "root_id",
			 ck_name(c, "the root of pid %u", t->pid));
	}
}

/* A shared memory object whose pages a pagemap-shmem image holds. */
static void need_shmem(struct ck *c, uint64_t shmid, const char *by, long entry, const char *what)
{
	char name[64];

	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	ck_need(c, name, by, entry, "holds the pages of %s", what);
}

static void memfd(struct ck *c, struct ck_file *f)
{
	uint64_t inode = img_msg_u64(f->msg, "inode_id", 0);
	struct img_image *mi = ck_need(c, "memfd.img", f->image, f->entry,
				       "describes the memfd inodes (file id %#x uses inode %llu)", f->id,
				       (unsigned long long)inode);

	if (!mi)
		return;
	for (size_t i = 0; i < mi->n; i++) {
		struct img_msg *m = mi->e[i].msg;

		if (img_msg_u64(m, "inode_id", 0) != inode)
			continue;
		if (img_msg_u64(m, "size", 0))
			need_shmem(c, img_msg_u64(m, "shmid", 0), "memfd.img", (long)i,
				   ck_name(c, "the memfd inode %llu", (unsigned long long)inode));
		return;
	}
	struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "ref-memfd", f->image, f->entry,
					"memfd file %#x refers to inode %llu, which memfd.img lacks (CRIU: Unable to find the %llu memfd inode)",
					f->id, (unsigned long long)inode, (unsigned long long)inode);
	fi->field = "memfd.inode_id";
	fi->offset = f->off;
	fi->ref_image = "memfd.img";
}

static void remaps(struct ck *c)
{
	struct img_image *img = ck_get(c, "remap-fpath.img");

	for (size_t i = 0; img && i < img->n; i++) {
		struct img_msg *m = img->e[i].msg;
		uint32_t orig = (uint32_t)img_msg_u64(m, "orig_id", 0);
		uint32_t rid = (uint32_t)img_msg_u64(m, "remap_id", 0);
		int type = (int)img_msg_u64(m, "remap_type", 0);
		struct ck_file *f;

		if (!img_msg_has(m, "remap_type")) {
			/* before remap_type, the top bit of remap_id marked a ghost */
			type = rid & 0x80000000u ? 1 : 0;
			rid &= 0x7fffffffu;
		}
		f = ref_file(c, orig, "remap-fpath.img", (long)i, img->e[i].off, "orig_id",
			     ck_name(c, "remap %zu", i));
		if (f)
			f->remapped = 1;
		if (type == 1) {
			char name[64];
			struct img_image *g;

			snprintf(name, sizeof(name), "ghost-file-%x.img", rid);
			g = ck_need(c, name, "remap-fpath.img", (long)i, "holds the contents of the deleted file %#x",
				    orig);
			if (g && g->n > 1) {
				/* chunked: each chunk inside the size the head entry gives */
				uint64_t size = img_msg_u64(g->e[0].msg, "size", 0);

				for (size_t k = 1; k < g->n; k++) {
					uint64_t off = img_msg_u64(g->e[k].msg, "off", 0);
					uint64_t len = img_msg_u64(g->e[k].msg, "len", 0);

					if (off > size || len > size - off) {
						struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "ghost-chunk",
										ck_name(c, "%s", name), (long)k,
										"chunk %llu+%llu lies past the file size %llu",
										(unsigned long long)off, (unsigned long long)len,
										(unsigned long long)size);
						fi->offset = g->e[k].off;
						break;
					}
				}
			}
		} else if (type == 0) {
			ref_file(c, rid, "remap-fpath.img", (long)i, img->e[i].off, "remap_id",
				 ck_name(c, "the link remap of file %#x", orig));
		}
	}
}

struct range {
	uint64_t start, end;
	long entry;
};

static int vmas_of(struct ck *c, const struct ck_task *t, struct range **out, size_t *n)
{
	size_t cnt = t->nvmas, k = 0;
	struct range *r;
	int bad = 0;

	*out = NULL;
	*n = 0;
	r = img_arena_alloc(&c->arena, (cnt ? cnt : 1) * sizeof(*r));
	if (!r) {
		c->f->failed = 1;
		return -ENOMEM;
	}
	for (; k < cnt; k++) {
		struct img_msg *v = t->vmas[k];

		r[k].start = img_msg_u64(v, "start", 0);
		r[k].end = img_msg_u64(v, "end", 0);
		r[k].entry = (long)k;
		if (!bad && (r[k].end <= r[k].start || (k && r[k].start < r[k - 1].end))) {
			int own = strncmp(t->vmas_image, "mm-", 3) != 0;
			struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "vma-order", t->vmas_image,
							own ? (long)k : 0,
							"VMA %zu (%#llx-%#llx) is empty, out of order or overlaps the one before (CRIU: VMA-s are not sorted in the image file)",
							k, (unsigned long long)r[k].start, (unsigned long long)r[k].end);
			fi->field = own ? "start" : ck_name(c, "vmas[%zu]", k);
			bad = 1;
		}
	}
	*out = r;
	*n = k;
	return bad;
}

void ck_task_vmas(struct ck *c, struct ck_task *t, struct img_image *vimg, const char *image)
{
	size_t cnt = vimg ? vimg->n : img_msg_count(t->mm, "vmas"), k = 0;
	struct img_iter it;
	struct img_msg *v;

	if (cnt > MAX_VMAS)
		cnt = MAX_VMAS;
	t->vmas_image = image;
	t->nvmas = 0;
	t->vmas = img_arena_alloc(&c->arena, (cnt ? cnt : 1) * sizeof(*t->vmas));
	if (!t->vmas) {
		c->f->failed = 1;
		return;
	}
	if (vimg) {
		for (; k < cnt; k++)
			t->vmas[k] = vimg->e[k].msg;
	} else {
		img_iter_init(&it, t->mm, "vmas");
		while (k < cnt && (v = img_iter_next_msg(&it)))
			t->vmas[k++] = v;
	}
	t->nvmas = k;
}

static void mm_refs(struct ck *c)
{
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];
		const char *name = ck_name(c, "mm-%u.img", t->pid);
		int own = t->vmas_image && strcmp(t->vmas_image, name);

		if (!t->mm)
			continue;
		if (img_msg_u64(t->mm, "exe_file_id", 0))
			ref_file(c, (uint32_t)img_msg_u64(t->mm, "exe_file_id", 0), name, 0, IMG_NO_OFFSET,
				 "exe_file_id", ck_name(c, "the executable of pid %u", t->pid));
		for (size_t k = 0; k < t->nvmas; k++) {
			struct img_msg *v = t->vmas[k];
			uint32_t st = (uint32_t)img_msg_u64(v, "status", 0);
			uint64_t shmid = img_msg_u64(v, "shmid", 0);
			uint64_t start = img_msg_u64(v, "start", 0);

			if (!(st & CK_VMA_AREA_REGULAR) || (st & CK_VMA_AREA_SYSVIPC))
				continue;
			if (st & (CK_VMA_FILE_PRIVATE | CK_VMA_FILE_SHARED | CK_VMA_AREA_MEMFD)) {
				struct ck_file *f = ref_file(c, (uint32_t)shmid, own ? t->vmas_image : name,
							     own ? (long)k : 0, IMG_NO_OFFSET,
							     own ? "shmid" : ck_name(c, "vmas[%zu].shmid", k),
							     ck_name(c, "the mapping at %#llx of pid %u",
								     (unsigned long long)start, t->pid));

				if (f && f->type == CK_FD_MEMFD)
					memfd(c, f);
			} else if (st & CK_VMA_ANON_SHARED) {
				need_shmem(c, shmid, own ? t->vmas_image : name, own ? (long)k : 0,
					   ck_name(c, "the shared mapping at %#llx of pid %u", (unsigned long long)start,
						   t->pid));
			}
		}
	}
	/* memfds open as fds, not only mapped */
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].type == CK_FD_MEMFD && c->files[i].msg && c->files[i].user &&
		    !strncmp(c->files[i].user, "fd ", 3))
			memfd(c, &c->files[i]);
}

/*
 * The PE_PARENT ranges must be in the parent snapshot: as PE_PRESENT pages
 * there, or PE_PARENT again and further up the chain.
 */
static void parent_cover(struct ck *c, struct img_dir *d, const char *prefix, const char *name,
			 struct range *want, size_t nwant, const char *child, int depth)
{
	struct img_dir *p = NULL;
	struct img_err err = { 0 };
	struct img_image *pm = NULL;
	struct range *next;
	size_t nnext = 0;
	char pname[256];
	int r;

	r = img_dir_parent(d, &p, &err);
	snprintf(pname, sizeof(pname), "%sparent/%s", prefix, name);
	if (r || !p) {
		if (r == -ENOENT && !err.msg[0]) {
			struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "parent-missing", child,
							want[0].entry,
							"%zu ranges of pages are in the parent snapshot (PE_PARENT), but %s has no parent link (CRIU: No parent for snapshot pagemap)",
							nwant, depth ? prefix : "the set");
			fi->todo = "put back the parent link and the pre-dump it points to";
		} /* a broken link was reported by links() */
		goto out;
	}
	r = img_image_load(p, name, c->s, 0, &pm, &err);
	if (r) {
		struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", r == -ENOENT ? "image-missing" : "image-damaged",
						ck_name(c, "%s", pname), IMG_NO_ENTRY, "%s",
						r == -ENOENT ? "the parent snapshot lacks this pagemap, which holds PE_PARENT pages"
							     : err.msg);
		fi->ref_image = child;
		fi->ref_entry = want[0].entry;
		goto out;
	}
	next = img_arena_alloc(&c->arena, (pm->n + nwant + 1) * 2 * sizeof(*next));
	if (!next) {
		c->f->failed = 1;
		goto out;
	}
	for (size_t i = 0; i < nwant; i++) {
		uint64_t at = want[i].start;
		size_t k = 1;

		while (at < want[i].end) {
			for (; k < pm->n; k++) {
				uint64_t s = img_msg_u64(pm->e[k].msg, "vaddr", 0);
				uint64_t e = s + ck_pe_pages(pm->e[k].msg) * PAGE;

				if (e > at)
					break;
			}
			uint64_t s = k < pm->n ? img_msg_u64(pm->e[k].msg, "vaddr", 0) : UINT64_MAX;

			if (k >= pm->n || s > at) {
				struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "parent-pages", child,
								want[i].entry,
								"page %#llx is in the parent snapshot (PE_PARENT), but %s does not hold it (CRIU: Missing %llx in parent pagemap)",
								(unsigned long long)at, pname, (unsigned long long)at);
				fi->ref_image = ck_name(c, "%s", pname);
				fi->todo = "restore with the parent snapshot the set was dumped against";
				goto out;
			}
			uint64_t e = s + ck_pe_pages(pm->e[k].msg) * PAGE;
			uint64_t upto = e < want[i].end ? e : want[i].end;

			if (ck_pe_flags(pm->e[k].msg) & CK_PE_PARENT)
				next[nnext++] = (struct range){ at, upto, want[i].entry };
			at = upto;
		}
	}
	if (nnext) {
		if (depth + 1 >= MAX_PARENT_DEPTH)
			ck_add(c, IMG_SEV_ERROR, "images", "parent-depth", child, IMG_NO_ENTRY,
			       "the parent chain is longer than %d links", MAX_PARENT_DEPTH);
		else
			parent_cover(c, p, ck_name(c, "%sparent/", prefix), name, next, nnext, child, depth + 1);
	}
out:
	img_image_free(pm);
	img_dir_close(p);
}

static void pagemap(struct ck *c, const char *name, struct img_image *pm, const struct ck_task *t,
		    uint64_t *pages_used)
{
	struct range *vmas = NULL, *par = NULL;
	size_t nvmas = 0, vi = 0, npar = 0;
	uint64_t present = 0, prev_end = 0, pages_id;
	long first_past = IMG_NO_ENTRY;
	int bad_order = 0, bad_out = 0, bad_align = 0;
	struct img_finding *fi;
	char pages[64];

	if (!pm->n)
		return; /* the reader refuses a pagemap without its head */
	pages_id = img_msg_u64(pm->e[0].msg, "pages_id", 0);
	snprintf(pages, sizeof(pages), "pages-%llu.img", (unsigned long long)pages_id);
	uint64_t psize = ck_state(c, pages) == CK_OK ? ck_get(c, pages)->raw_size : 0;

	const char *mmname = t ? t->vmas_image : NULL;

	if (t && t->vmas_image && vmas_of(c, t, &vmas, &nvmas))
		vmas = NULL; /* VMAs out of order: reported; do not judge the pagemap by them */
	if (pm->n > 1) {
		par = img_arena_alloc(&c->arena, (pm->n - 1) * sizeof(*par));
		if (!par) {
			c->f->failed = 1;
			return;
		}
	}
	for (size_t i = 1; i < pm->n; i++) {
		struct img_msg *e = pm->e[i].msg;
		uint64_t va = img_msg_u64(e, "vaddr", 0), nr = ck_pe_pages(e), end;
		uint32_t fl = ck_pe_flags(e);

		if (nr > (UINT64_MAX - va) / PAGE) {
			fi = ck_add(c, IMG_SEV_ERROR, "images", "pagemap-range", name, (long)i,
				    "%llu pages at %#llx run past the end of the address space", (unsigned long long)nr,
				    (unsigned long long)va);
			fi->offset = pm->e[i].off;
			fi->field = "nr_pages";
			return;
		}
		end = va + nr * PAGE;
		if (!bad_align && (va % PAGE)) {
			fi = ck_add(c, IMG_SEV_ERROR, "images", "pagemap-align", name, (long)i,
				    "vaddr %#llx is not page aligned", (unsigned long long)va);
			fi->offset = pm->e[i].off;
			fi->field = "vaddr";
			bad_align = 1;
		}
		if (!bad_order && i > 1 && va < prev_end) {
			uint64_t pva = img_msg_u64(pm->e[i - 1].msg, "vaddr", 0);

			fi = ck_add(c, IMG_SEV_ERROR, "images", va < pva ? "pagemap-order" : "pagemap-overlap", name, (long)i,
				    va < pva ? "entry at %#llx comes after the one at %#llx: the entries are not sorted"
					     : "pages %#llx-%#llx overlap entry %zu, which ends at %#llx",
				    (unsigned long long)va, va < pva ? (unsigned long long)pva : (unsigned long long)end,
				    i - 1, (unsigned long long)prev_end);
			if (va >= pva)
				fi->msg = CK_F(c, "pages %#llx-%#llx overlap entry %zu (%#llx-%#llx)",
					       (unsigned long long)va, (unsigned long long)end, i - 1,
					       (unsigned long long)pva, (unsigned long long)prev_end);
			fi->offset = pm->e[i].off;
			fi->field = "vaddr";
			fi->ref_image = name;
			fi->ref_entry = (long)i - 1;
			bad_order = 1;
		}
		if (vmas && !bad_out && nr) {
			/* the range must be covered by VMAs (entries may run across adjacent ones) */
			uint64_t at = va;

			while (vi < nvmas && vmas[vi].end <= at)
				vi++;
			for (size_t j = vi; j < nvmas && at < end && vmas[j].start <= at; j++)
				at = vmas[j].end;
			if (at < end) {
				fi = ck_add(c, IMG_SEV_ERROR, "images", "pagemap-outside", name, (long)i,
					    "pages %#llx-%#llx lie outside the VMAs of %s (CRIU: Page entry address %llx outside of VMA)",
					    (unsigned long long)va, (unsigned long long)end, mmname, (unsigned long long)at);
				fi->offset = pm->e[i].off;
				fi->field = "vaddr";
				fi->ref_image = mmname;
				bad_out = 1;
			}
			if (vi)
				vi--; /* the next entry may start in the same VMA */
		}
		if (fl & CK_PE_PRESENT) {
			present += nr;
			if (first_past == IMG_NO_ENTRY && present * PAGE > psize)
				first_past = (long)i;
		}
		if (fl & CK_PE_PARENT) {
			par[npar++] = (struct range){ va, end, (long)i };
			c->chain = 1;
		}
		if ((fl & CK_PE_LAZY) && !(fl & (CK_PE_PRESENT | CK_PE_PARENT)))
			c->lazy = 1;
		if (end > prev_end)
			prev_end = end;
	}
	*pages_used = pages_id;
	if (present || ck_state(c, pages) != CK_MISSING) {
		struct img_image *pg = ck_need(c, pages, name, 0, "holds the %llu pages %s says are present",
					       (unsigned long long)present, name);

		if (pg && pg->raw_size != present * PAGE) {
			int short_ = pg->raw_size < present * PAGE;

			fi = ck_add(c, short_ ? IMG_SEV_ERROR : IMG_SEV_WARNING, "images", "pages-size",
				    ck_name(c, "%s", pages), IMG_NO_ENTRY,
				    short_ ? "%llu bytes hold %llu pages, but %s needs %llu: entry %ld and those after it have no data"
					   : "%llu bytes hold %llu pages, but %s uses %llu: the rest is data no entry describes",
				    (unsigned long long)pg->raw_size, (unsigned long long)(pg->raw_size / PAGE), name,
				    (unsigned long long)present, first_past);
			fi->field = "size";
			fi->expected = CK_F(c, "%llu bytes", (unsigned long long)(present * PAGE));
			fi->found = CK_F(c, "%llu bytes", (unsigned long long)pg->raw_size);
			fi->ref_image = name;
			fi->ref_entry = short_ ? first_past : IMG_NO_ENTRY;
			fi->todo = short_ ? "the pages file was cut or the pagemap changed: take both from an intact copy"
					  : "the pagemap lost entries, or the pages file belongs to another dump";
		}
	}
	if (npar)
		parent_cover(c, c->d, "", name, par, npar, name, 0);
}

/* Names CRIU writes beside the images that are not images. */
static int not_an_image(const char *name)
{
	size_t n = strlen(name);

	return !strcmp(name, "parent") || (n > 4 && !strcmp(name + n - 4, ".log")) || !strncmp(name, "stats-", 6) ||
	       !strcmp(name, "irmap-cache");
}

/* Every image of the set must read, needed or not. */
static int read_member(void *arg, const char *name, uint64_t size)
{
	struct ck *c = arg;

	(void)size;
	if (not_an_image(name))
		return 0;
	if (!img_kind_by_file(c->s, name))
		ck_add(c, IMG_SEV_INFO, "images", "image-unknown", ck_name(c, "%s", name), IMG_NO_ENTRY,
		       "not a name CRIU gives its images: CRIU ignores it");
	else
		ck_state(c, name);
	return 0;
}

struct used {
	struct ck *c;
	uint64_t *pages;
	size_t npages;
	int pagemap_trouble;    /* a pagemap is missing or damaged: its pages file looks unused */
};

/* Images nothing in the set leads to: CRIU never reads them. */
static int unused_member(void *arg, const char *name, uint64_t size)
{
	struct used *u = arg;
	struct ck *c = u->c;
	const struct img_kind *k = img_kind_by_file(c->s, name);
	uint64_t id = 0;
	int found = 0;

	(void)size;
	if (!k || not_an_image(name) || !img_kind_match(k, name, &id, NULL, 0))
		return 0;
	if (!strcmp(k->name, "CORE") && c->have_tree) {
		for (size_t i = 0; i < c->ntasks && !found; i++)
			for (size_t j = 0; j < c->tasks[i].ntids; j++)
				found |= c->tasks[i].tids[j] == id;
		if (!found)
			ck_add(c, IMG_SEV_WARNING, "images", "image-unused", ck_name(c, "%s", name), IMG_NO_ENTRY,
			       "no thread %llu in pstree.img: CRIU does not restore it", (unsigned long long)id);
	} else if (!strcmp(k->name, "PAGES") && c->have_tree && !u->pagemap_trouble) {
		for (size_t i = 0; i < u->npages && !found; i++)
			found = u->pages[i] == id;
		if (!found)
			ck_add(c, IMG_SEV_WARNING, "images", "image-unused", ck_name(c, "%s", name), IMG_NO_ENTRY,
			       "no pagemap names pages id %llu: its pages are not restored", (unsigned long long)id);
	}
	return 0;
}

static int add_used(struct ck *c, struct used *u, size_t *cap, uint64_t id)
{
	if (img_arena_grow(&c->arena, (void **)&u->pages, cap, u->npages, sizeof(*u->pages))) {
		c->f->failed = 1;
		return -ENOMEM;
	}
	u->pages[u->npages++] = id;
	return 0;
}

/* A parent chain that comes back to a folder of its own: CRIU would follow it round until it fails. */
static void parent_loop(struct ck *c, struct img_dir *p)
{
	struct stat seen[MAX_PARENT_DEPTH + 1];
	int n = 0;

	if (stat(c->d->path, &seen[n]) == 0)
		n++;
	while (p && n <= MAX_PARENT_DEPTH) {
		struct img_dir *next = NULL;
		struct stat st;

		/* folders on disk only: an archive's parent folders are members, their chain bounded there */
		if (strcmp(p->ops->name, "directory") || stat(p->path, &st) < 0)
			break;
		for (int i = 0; i < n; i++)
			if (seen[i].st_dev == st.st_dev && seen[i].st_ino == st.st_ino) {
				struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "parent-loop", "parent",
								IMG_NO_ENTRY, "the parent chain comes back to '%s' after %d links",
								p->path, n);

				fi->todo = "point the parent link at the pre-dump the set was made against";
				img_dir_close(p);
				return;
			}
		seen[n++] = st;
		if (img_dir_parent(p, &next, NULL))
			next = NULL;
		img_dir_close(p);
		p = next;
	}
	img_dir_close(p);
}

/* The parent link: CRIU opens it whenever it is there (CRIU: Can't open parent path). */
static void links(struct ck *c)
{
	struct img_dir *p = NULL;
	struct img_err err = { 0 };
	int r = img_dir_parent(c->d, &p, &err);

	if (!r && p) {
		c->chain = 1;
		parent_loop(c, p);
		return;
	}
	if (r == -ENOENT && !err.msg[0])
		return;
	struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "parent-broken", "parent", IMG_NO_ENTRY,
					"the parent link leads nowhere: %s (CRIU: Can't open parent path)", err.msg);
	fi->todo = "put the parent snapshot back where the link points, or remove the link if no page is PE_PARENT";
	c->chain = 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct mounts {
	struct ck *c;
	uint64_t *ids;
	size_t n, cap;
};

static int mount_member(void *arg, const char *name, uint64_t size)
{
	struct mounts *m = arg;
	struct img_image *img;

	(void)size;
	if (strncmp(name, "mountpoints-", 12) || !(img = ck_get(m->c, name)))
		return 0;
	for (size_t i = 0; i < img->n; i++) {
		if (img_arena_grow(&m->c->arena, (void **)&m->ids, &m->cap, m->n, sizeof(*m->ids)))
			return -ENOMEM;
		m->ids[m->n++] = img_msg_u64(img->e[i].msg, "mnt_id", 0);
	}
	return 0;
}

/* The mounts files lie on: when the set has mount namespaces of its own, their images list the mounts. */
static void mounts(struct ck *c)
{
	struct mounts m = { .c = c };
	int r = img_dir_each(c->d, mount_member, &m);

	if (r == -ENOMEM)
		c->f->failed = 1;
	if (r || !m.n)
		return;
	img_sort(m.ids, m.n, sizeof(*m.ids), cmp_u64);
	for (size_t i = 0; i < c->nfiles; i++) {
		struct ck_file *f = &c->files[i];
		int64_t mnt;
		uint64_t key;

		if ((f->type != CK_FD_REG && f->type != CK_FD_UNIXSK) || !f->msg || !img_msg_has(f->msg, "mnt_id"))
			continue;
		mnt = img_msg_i64(f->msg, "mnt_id", -1);
		key = (uint64_t)mnt;
		if (mnt < 0 || bsearch(&key, m.ids, m.n, sizeof(*m.ids), cmp_u64))
			continue;
		struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "ref-mount", f->image, f->entry,
						"file id %#x lies on mount %lld, which no mountpoints image has", f->id,
						(long long)mnt);
		fi->offset = f->off;
		fi->field = f->type == CK_FD_REG ? "reg.mnt_id" : "usk.mnt_id";
		fi->todo = "take the mountpoints images from an intact copy of the set";
	}
}

static void pipes_data(struct ck *c)
{
	struct img_image *img = ck_get(c, "pipes-data.img");

	if (!img || !c->have_files)
		return;
	for (size_t i = 0; i < img->n; i++) {
		uint64_t pid = img_msg_u64(img->e[i].msg, "pipe_id", 0);
		int found = 0;

		for (size_t k = 0; k < c->nfiles && !found; k++)
			found = c->files[k].type == CK_FD_PIPE && img_msg_u64(c->files[k].msg, "pipe_id", 0) == pid;
		if (!found) {
			struct img_finding *fi = ck_add(c, IMG_SEV_WARNING, "images", "ref-pipe", "pipes-data.img", (long)i,
							"data for pipe %llu, which no pipe in the set has: CRIU drops it",
							(unsigned long long)pid);
			fi->offset = img->e[i].off;
			fi->field = "pipe_id";
		}
	}
}

void ck_images(struct ck *c)
{
	struct used u = { .c = c };
	size_t cap = 0;

	inventory(c);
	pstree(c);
	files_table(c);
	task_images(c);
	ck_legacy(c);
	links(c);
	fdinfos(c);
	task_fs(c);
	mm_refs(c);
	remaps(c);
	cgroups(c);
	pipes_data(c);
	mounts(c);
	if (img_dir_each(c->d, read_member, c) == -ENOMEM)
		c->f->failed = 1;
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];
		const char *name = ck_name(c, "pagemap-%u.img", t->pid);
		struct img_image *pm = ck_state(c, name) == CK_OK ? ck_get(c, name) : NULL;
		uint64_t id = UINT64_MAX;

		if (!pm)
			continue;
		pagemap(c, name, pm, t, &id);
		if (add_used(c, &u, &cap, id))
			return;
	}
	/* shared memory: every pagemap-shmem image of the set */
	for (size_t i = 0; i < c->nimgs; i++) {
		uint64_t id = UINT64_MAX;

		if (strncmp(c->imgs[i].name, "pagemap-shmem-", 14) || c->imgs[i].state != CK_OK)
			continue;
		pagemap(c, c->imgs[i].name, c->imgs[i].img, NULL, &id);
		if (add_used(c, &u, &cap, id))
			return;
	}
	for (size_t i = 0; i < c->nimgs; i++)
		if (!strncmp(c->imgs[i].name, "pagemap-", 8) && c->imgs[i].state != CK_OK)
			u.pagemap_trouble = 1;
	if (img_dir_each(c->d, unused_member, &u) == -ENOMEM)
		c->f->failed = 1;
}
