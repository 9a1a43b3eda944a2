/*
 * linux-cr test images: the same small process tree written in every
 * version and arch of the tables, with libimg's writer.  Four tasks (init,
 * a process with a second thread, a zombie), credentials, namespaces, a file
 * table with a regular file, /dev/null and both ends of a pipe with 22 unread
 * bytes, an mm with text, data, heap, stack and vdso vmas whose page arrays
 * hold known bytes, fs, signal handlers, rlimits and a pending signal.
 * Fields a version lacks are skipped; the order of records is the kernel's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/image.h"
#include "img/linuxcr.h"
#include "gen.h"

struct g {
	struct img_lcr_writer *w;
	const struct img_lcr_layout *l;
	int x64;
	int32_t next;          /* next objref */
	int failed;
	/* objects of the process */
	int32_t userns, user, groups, cred, uts, ipc, ns, devnull, data, pipe_r, pipe_w, pipe_ino, ftable, exe, mm,
		fs, sighand, signal;
	int32_t init_ftable, init_mm, init_exe, init_fs, init_sighand, init_signal;
};

static void fail(struct g *g, const char *what)
{
	struct img_err e = { 0 };
	char buf[1200];

	if (!g->failed && img_lcr_w_error(g->w, &e))
		fprintf(stderr, "imggen: %s/%s: %s: %s\n", g->l->ver->name, g->l->arch, what, img_err_str(&e, buf, sizeof(buf)));
	else if (!g->failed)
		fprintf(stderr, "imggen: %s/%s: %s refused\n", g->l->ver->name, g->l->arch, what);
	g->failed = 1;
}

/* Set a field; a field this version lacks is skipped. */
static void S(struct g *g, const char *path, uint64_t v)
{
	int r = img_lcr_w_set(g->w, path, v);

	if (r && r != -ENOENT)
		fail(g, path);
}

static void B(struct g *g, const char *type)
{
	if (img_lcr_w_begin(g->w, type))
		fail(g, type);
}

static int has(struct g *g, const char *type)
{
	return img_lcr_rectype_by_name(g->l, type) != NULL;
}

static void raw(struct g *g, const char *type, const void *p, size_t n)
{
	if (img_lcr_w_raw(g->w, type, p, n))
		fail(g, type);
}

static void str_fixed(struct g *g, const char *type, const char *s, size_t n)
{
	char buf[512] = { 0 };

	snprintf(buf, sizeof(buf), "%s", s);
	raw(g, type, buf, n);
}

static void str(struct g *g, const char *type, const char *s)
{
	raw(g, type, s, strlen(s) + 1);
}

static int32_t objref(struct g *g, const char *type)
{
	int32_t o = g->next++;

	if (img_lcr_w_objref(g->w, type, o))
		g->failed = 1;
	return o;
}

static int64_t dflt(struct g *g, const char *name)
{
	int64_t v = 0;

	img_lcr_w_default(g->w, name, &v);
	return v;
}

static void header(struct g *g)
{
	unsigned a = 0, b = 0, c = 0;
	const struct img_lcr_struct *cs = img_lcr_struct_find(g->l, "ckpt_const");
	char rel[80];

	sscanf(g->l->ver->kernel, "%u.%u.%u", &a, &b, &c);
	B(g, "HEADER");
	S(g, "magic", IMG_LCR_MAGIC_HEAD);
	S(g, "arch_id", (uint64_t)g->l->arch_id); /* little-endian, as is everything here */
	S(g, "major", a);
	S(g, "minor", b);
	S(g, "patch", c);
	S(g, "rev", (uint64_t)g->l->ver->rev);
	for (uint32_t i = 0; cs && i < cs->nfields; i++) {
		char path[80];

		snprintf(path, sizeof(path), "constants.%s", cs->fields[i].name);
		S(g, path, (uint64_t)dflt(g, cs->fields[i].name));
	}
	S(g, "time", 1302998400); /* 2011-04-17 */
	S(g, "uflags", 0);
	snprintf(rel, sizeof(rel), "%s-ckpt-%s", g->l->ver->kernel, g->l->ver->name);
	str_fixed(g, "BUFFER", rel, (size_t)dflt(g, "uts_release_len"));
	str_fixed(g, "BUFFER", "#1 SMP PREEMPT", (size_t)dflt(g, "uts_version_len"));
	str_fixed(g, "BUFFER", g->x64 ? "x86_64" : "i686", (size_t)dflt(g, "uts_machine_len"));
	B(g, "HEADER_ARCH");
	S(g, "has_fxsr", (uint64_t)dflt(g, "has_fxsr"));
	S(g, "has_xsave", (uint64_t)dflt(g, "has_xsave"));
	S(g, "xstate_size", (uint64_t)dflt(g, "xstate_size"));
	if (has(g, "CONTAINER")) {
		const struct img_lcr_recdesc *d = img_lcr_rectype_by_name(g->l, "CONTAINER")->desc;

		B(g, "CONTAINER");
		if (d && d->nfollow) {
			int64_t max = 10;

			img_lcr_kv_get(g->l->consts, g->l->nconsts, "CHECKPOINT_LSM_NAME_MAX", &max);
			str_fixed(g, "BUFFER", "dummy", (size_t)max + 1);
			str(g, "LSM_INFO", "dummy");
		}
	}
}

/* The tree: init (1), a process (2) with a second thread (3), and its zombie child (4). */
static const struct {
	int32_t pid, ppid, tgid;
	const char *comm;
} tasks[] = {
	{ 1, 0, 1, "crsubj-init" },
	{ 2, 1, 2, "crsubj-multi" },
	{ 3, 1, 2, "worker-1" },
	{ 4, 2, 4, "crsubj-zomb" },
};
#define NTASKS 4

static void tree(struct g *g)
{
	int v23 = has(g, "PIDS");
	uint8_t buf[NTASKS * 32] = { 0 };
	const struct img_lcr_rectype *rt = img_lcr_rectype_by_name(g->l, "TREE");
	const struct img_lcr_struct *es = img_lcr_struct_find(g->l, rt->desc->follow[0].elem);

	if (v23) {
		/* the pid objects come first in the objhash: their objrefs are 1..4 */
		uint8_t p[NTASKS * 8];

		for (int i = 0; i < NTASKS; i++) {
			img_put_u32(p + 8 * i, 0);
			img_put_u32(p + 8 * i + 4, (uint32_t)tasks[i].pid);
		}
		B(g, "PIDS");
		S(g, "nr_pids", NTASKS);
		S(g, "nr_vpids", 0);
		S(g, "offset", 1);
		raw(g, "BUFFER", p, sizeof(p));
		g->next = NTASKS + 1;
	}
	B(g, "TREE");
	S(g, "nr_tasks", NTASKS);
	for (int i = 0; i < NTASKS; i++) {
		/* v23 stores pid tags (the pid objects' objrefs); these equal the pids here */
		const struct {
			const char *f;
			int32_t v;
		} fv[] = { { "vpid", tasks[i].pid }, { "vppid", tasks[i].ppid }, { "vtgid", tasks[i].tgid },
			   { "vpgid", 1 },	     { "vsid", 1 },		{ "rsid", 1 },
			   { "depth", 0 } };

		for (size_t k = 0; k < sizeof(fv) / sizeof(fv[0]); k++) {
			struct img_lcr_fref fr;

			if (!img_lcr_field_ref(es, fv[k].f, &fr))
				img_lcr_put(buf + i * es->size, fr.off, fr.f->type, (uint64_t)(int64_t)fv[k].v);
		}
	}
	raw(g, "BUFFER", buf, NTASKS * es->size);
}

static void creds(struct g *g)
{
	uint32_t groups[2] = { 1000, 27 };

	if (!g->cred) {
		g->userns = objref(g, "USER_NS");
		B(g, "USER_NS");
		S(g, "creator_ref", 0);
		g->user = objref(g, "USER");
		B(g, "USER");
		S(g, "uid", 1000);
		S(g, "userns_ref", (uint64_t)g->userns);
		g->groups = objref(g, "GROUPINFO");
		B(g, "GROUPINFO");
		S(g, "ngroups", 2);
		img_lcr_w_add(g->w, groups, sizeof(groups));
		g->cred = objref(g, "CRED");
		B(g, "CRED");
		const char *ids[] = { "uid", "suid", "euid", "fsuid", "gid", "sgid", "egid", "fsgid" };

		for (int i = 0; i < 8; i++)
			S(g, ids[i], 1000);
		S(g, "user_ref", (uint64_t)g->user);
		S(g, "groupinfo_ref", (uint64_t)g->groups);
		S(g, "sec_ref", 0);
		S(g, "cap_s.cap_b_0", 0xffffffff);
		S(g, "cap_s.cap_b_1", 0x1f);
	}
	B(g, "TASK_CREDS");
	S(g, "cred_ref", (uint64_t)g->cred);
	S(g, "ecred_ref", (uint64_t)g->cred);
}

static void nsproxy(struct g *g)
{
	if (!g->ns) {
		g->ns = objref(g, "NS");
		g->uts = objref(g, "UTS_NS");
		B(g, "UTS_NS");
		const char *u[] = { "sysname", "Linux", "nodename", "crsubj", "release", g->l->ver->kernel,
				    "version", "#1 SMP PREEMPT", "machine", g->x64 ? "x86_64" : "i686", "domainname",
				    "(none)" };

		for (int i = 0; i < 12; i += 2)
			img_lcr_w_set_bytes(g->w, u[i], u[i + 1], strlen(u[i + 1]));
		/* the sysctl limits of a 2.6.3x kernel */
		static const struct {
			const char *f;
			uint64_t v;
		} ipc[] = { { "shm_ctlmax", 33554432 }, { "shm_ctlall", 2097152 }, { "shm_ctlmni", 4096 },
			    { "msg_ctlmax", 8192 },	    { "msg_ctlmnb", 16384 },  { "msg_ctlmni", 1738 },
			    { "sem_ctl_msl", 250 },	    { "sem_ctl_mns", 32000 }, { "sem_ctl_opm", 32 },
			    { "sem_ctl_mni", 128 } };

		g->ipc = objref(g, "IPC_NS");
		B(g, "IPC_NS");
		for (size_t k = 0; k < sizeof(ipc) / sizeof(ipc[0]); k++)
			S(g, ipc[k].f, ipc[k].v);
		B(g, "NS");
		S(g, "uts_objref", (uint64_t)g->uts);
		S(g, "ipc_objref", (uint64_t)g->ipc);
		S(g, "net_objref", 0); /* the net ns is saved only with CHECKPOINT_NETNS */
	}
	B(g, "TASK_NS");
	S(g, "ns_objref", (uint64_t)g->ns);
}

static int32_t file_generic(struct g *g, const char *path, uint32_t flags, uint32_t mode, uint64_t pos)
{
	int32_t o = objref(g, "FILE");

	B(g, "FILE/GENERIC");
	S(g, "f_mode", mode);
	S(g, "f_flags", flags);
	S(g, "f_credref", (uint64_t)g->cred);
	S(g, "f_pos", pos);
	S(g, "f_version", 0);
	S(g, "f_secref", 0);
	str(g, "FILE_NAME", path);
	return o;
}

static void fdesc(struct g *g, int32_t file, int fd, int cloexec)
{
	B(g, "FILE_DESC");
	S(g, "fd_objref", (uint64_t)file);
	S(g, "fd_descriptor", (uint64_t)fd);
	S(g, "fd_close_on_exec", (uint64_t)cloexec);
}

static const char pipe_data[] = "crsubj pipe: 22 bytes.";

static int32_t files(struct g *g, int init)
{
	int32_t t = objref(g, "FILE_TABLE");

	B(g, "FILE_TABLE");
	S(g, "fdt_nfds", init ? 3 : 6);
	for (int fd = 0; fd < 3; fd++) {
		if (!g->devnull)
			g->devnull = file_generic(g, "/dev/null", 0x8002 /* O_RDWR|O_LARGEFILE */, 0x1f, 0);
		fdesc(g, g->devnull, fd, 0);
	}
	if (init)
		return t;
	g->data = file_generic(g, "/tmp/crsubj/data.txt", 0x8000, 0x1d, 5);
	fdesc(g, g->data, 3, 0);
	/* the first end seen writes the pipe's buffer after itself */
	g->pipe_r = objref(g, "FILE");
	g->pipe_ino = g->next++;
	B(g, "FILE/PIPE");
	S(g, "f_mode", 0x1d);
	S(g, "f_flags", 0);
	S(g, "f_credref", (uint64_t)g->cred);
	S(g, "pipe_objref", (uint64_t)g->pipe_ino);
	raw(g, "PIPE_BUF", pipe_data, 22);
	fdesc(g, g->pipe_r, 4, 1);
	g->pipe_w = objref(g, "FILE");
	B(g, "FILE/PIPE");
	S(g, "f_mode", 0x1e);
	S(g, "f_flags", 1);
	S(g, "f_credref", (uint64_t)g->cred);
	S(g, "pipe_objref", (uint64_t)g->pipe_ino);
	fdesc(g, g->pipe_w, 5, 1);
	return t;
}

/* Page contents the tests search for: known text, then a pattern of the page's number. */
void gen_lcr_page(uint8_t *p, uint32_t page_size, uint32_t n, const char *text)
{
	for (uint32_t j = 0; j < page_size; j++)
		p[j] = (uint8_t)((n * 31 + j) & 0xff);
	if (text)
		memcpy(p, text, strlen(text) + 1);
}

struct vma_spec {
	const char *type;      /* VDSO ANON FILE */
	uint64_t start, end, flags, prot, pgoff;
	int file;              /* 1: the exe */
	uint32_t npages;
	const char *text[3];   /* first bytes of each saved page */
};

static void vma(struct g *g, const struct vma_spec *v, int32_t exe)
{
	int64_t vt;
	uint32_t ls = g->l->long_size, ps = g->l->page_size;

	img_lcr_enum_val(img_lcr_enum_find(g->l, "vma"), v->type, &vt);
	B(g, "VMA");
	S(g, "vma_type", (uint64_t)vt);
	S(g, "vma_objref", v->file ? (uint64_t)exe : 0);
	S(g, "ino_objref", 0);
	S(g, "vm_start", v->start);
	S(g, "vm_end", v->end);
	S(g, "vm_page_prot", v->prot);
	S(g, "vm_flags", v->flags);
	S(g, "vm_pgoff", v->pgoff);
	if (!strcmp(v->type, "VDSO"))
		return; /* the vdso's pages are not saved */
	if (v->npages) {
		size_t n = v->npages * (size_t)(ls + ps);
		uint8_t *buf = calloc(1, n);

		if (!buf) {
			g->failed = 1;
			return;
		}
		for (uint32_t k = 0; k < v->npages; k++) {
			img_lcr_put(buf, k * ls, ls == 8 ? IMG_LCR_U64 : IMG_LCR_U32, v->start + (uint64_t)k * ps);
			gen_lcr_page(buf + v->npages * ls + (size_t)k * ps, ps, (uint32_t)((v->start / ps + k) & 0xffff),
				     v->text[k]);
		}
		B(g, "PGARR");
		S(g, "nr_pages", v->npages);
		raw(g, "BUFFER", buf, n);
		free(buf);
	}
	B(g, "PGARR");
	S(g, "nr_pages", 0);
}

static void mm(struct g *g, int init, int32_t *out_mm, int32_t *out_exe)
{
	uint64_t base = g->x64 ? 0x400000 : 0x8048000, heap = g->x64 ? 0x1c4e000 : 0x9d4e000;
	uint64_t stack = g->x64 ? 0x7ffd5e3c0000ULL : 0xbfc41000, vdso = g->x64 ? 0x7ffd5e3fe000ULL : 0xb7f2c000;
	/* VM_READ 1, VM_WRITE 2, VM_EXEC 4, VM_MAYREAD.. 0x70, VM_GROWSDOWN 0x100, VM_DENYWRITE 0x800 */
	const struct vma_spec init_v[] = {
		{ "FILE", base, base + 0x1000, 0x875, 0x25, 0, 1, 0, { NULL } },
		{ "ANON", stack, stack + 0x21000, 0x100173, 0x27, 0, 0, 1, { "CRSUBJ-INIT-STACK" } },
		{ "VDSO", vdso, vdso + 0x1000, 0x8040075, 0x25, 0, 0, 0, { NULL } },
	};
	const struct vma_spec v[] = {
		{ "FILE", base, base + 0x2000, 0x875, 0x25, 0, 1, 0, { NULL } },
		{ "FILE", base + 0x2000, base + 0x3000, 0x100873, 0x27, 2, 1, 1, { "CRSUBJ-DATA-PAGE" } },
		{ "ANON", heap, heap + 0x21000, 0x100073, 0x27, 0, 0, 2,
		  { "CRSUBJ-SECRET=correct-horse-battery-staple", "TINY-SUBJECT-MARKER:4242" } },
		{ "ANON", stack, stack + 0x21000, 0x100173, 0x27, 0, 0, 1, { "CRSUBJ_TOKEN=tok-4f1c9a7e-0042" } },
		{ "VDSO", vdso, vdso + 0x1000, 0x8040075, 0x25, 0, 0, 0, { NULL } },
	};
	const struct vma_spec *vs = init ? init_v : v;
	size_t nv = init ? 3 : 5;
	int64_t n_auxv = dflt(g, "at_vector_size"), aux_entry = 8;
	uint8_t auxv[64 * 8 * 2] = { 0 };
	const uint64_t aux[] = { 33, vdso, 6, 4096, 9, base + 0x120, 3, base + 0x40, 0, 0 };

	*out_mm = objref(g, "MM");
	*out_exe = file_generic(g, init ? "/sbin/crsubj-init" : "/tmp/subjects/crsubj-multi", 0x8000, 0x1d, 0);
	B(g, "MM");
	S(g, "map_count", nv);
	S(g, "exe_objref", (uint64_t)*out_exe);
	S(g, "def_flags", 0);
	S(g, "flags", 0x8d); /* the core-dump filter bits */
	S(g, "start_code", base);
	S(g, "end_code", base + (init ? 0x1000 : 0x1f00));
	S(g, "start_data", base + 0x2000);
	S(g, "end_data", base + 0x2100);
	S(g, "start_brk", heap);
	S(g, "brk", heap + 0x21000);
	S(g, "start_stack", stack + 0x20f00);
	S(g, "arg_start", stack + 0x20f40);
	S(g, "arg_end", stack + 0x20f50);
	S(g, "env_start", stack + 0x20f50);
	S(g, "env_end", stack + 0x20fe0);
	img_lcr_kv_get(g->l->props, g->l->nprops, "auxv_entry", &aux_entry);
	if (!n_auxv)
		n_auxv = dflt(g, "mm_saved_auxv_len") / aux_entry; /* before v19 the const was a byte count */
	for (size_t k = 0; k < sizeof(aux) / sizeof(aux[0]) && (int64_t)k < n_auxv; k++)
		img_lcr_put(auxv, (uint32_t)(k * aux_entry), aux_entry == 8 ? IMG_LCR_U64 : IMG_LCR_U32, aux[k]);
	raw(g, "BUFFER", auxv, (size_t)(n_auxv * aux_entry));
	for (size_t k = 0; k < nv; k++)
		vma(g, &vs[k], *out_exe);
	B(g, "MM_CONTEXT");
	S(g, "vdso", vdso);
	S(g, "ldt_entry_size", 8);
	S(g, "nldt", 0);
}

static int32_t fs(struct g *g, const char *pwd)
{
	int32_t o;

	if (!has(g, "FS"))
		return 0; /* before v19-rc3 the fs_struct was not saved */
	o = objref(g, "FS");
	B(g, "FS");
	S(g, "umask", 022);
	str(g, "FILE_NAME", "/");
	str(g, "FILE_NAME", pwd);
	return o;
}

static int32_t sighand(struct g *g)
{
	int32_t o = objref(g, "SIGHAND");
	const struct img_lcr_struct *sa = img_lcr_struct_find(g->l, "ckpt_sigaction");
	int64_t nsig = dflt(g, "signal_nsig");
	uint8_t buf[64 * 64] = { 0 };
	struct img_lcr_fref fh, ff, fr, fm;

	B(g, "SIGHAND");
	if (!sa || nsig > 64 || img_lcr_field_ref(sa, "_sa_handler", &fh) || img_lcr_field_ref(sa, "sa_flags", &ff) ||
	    img_lcr_field_ref(sa, "sa_restorer", &fr) || img_lcr_field_ref(sa, "sa_mask", &fm)) {
		g->failed = 1;
		return o;
	}
	/* SIGUSR1 (10) caught, SIGPIPE (13) ignored */
	uint8_t *s10 = buf + 9 * sa->size, *s13 = buf + 12 * sa->size;

	img_lcr_put(s10, fh.off, IMG_LCR_U64, g->x64 ? 0x4005d0 : 0x80485d0);
	img_lcr_put(s10, ff.off, IMG_LCR_U64, 0x14000000); /* SA_RESTORER | SA_RESTART */
	img_lcr_put(s10, fr.off, IMG_LCR_U64, g->x64 ? 0x7f3a1c2334e0ULL : 0xb7e4c0f0);
	s10[fm.off + 1] = 0x08;                             /* SIGUSR2 blocked in the handler */
	img_lcr_put(s13, fh.off, IMG_LCR_U64, 1);           /* SIG_IGN */
	img_lcr_w_add(g->w, buf, (size_t)nsig * sa->size);
	return o;
}

static void signal_struct(struct g *g)
{
	static const uint64_t rl[16][2] = {
		{ ~0ULL, ~0ULL }, { ~0ULL, ~0ULL }, { ~0ULL, ~0ULL }, { 8388608, ~0ULL }, { 0, ~0ULL },
		{ ~0ULL, ~0ULL }, { 7823, 7823 }, { 1024, 2048 }, { 65536, 65536 }, { ~0ULL, ~0ULL },
		{ ~0ULL, ~0ULL }, { 7823, 7823 }, { 819200, 819200 }, { 0, 0 }, { 0, 0 }, { ~0ULL, ~0ULL },
	};
	char path[64];

	B(g, "SIGNAL");
	for (int k = 0; k < 16; k++) {
		snprintf(path, sizeof(path), "rlim[%d].rlim_cur", k);
		S(g, path, rl[k][0]);
		snprintf(path, sizeof(path), "rlim[%d].rlim_max", k);
		S(g, path, rl[k][1]);
	}
	S(g, "it_real_value", 5000000000ULL);
	S(g, "it_real_incr", 5000000000ULL);
	S(g, "tty_objref", 0);
	B(g, "SIGPENDING");
	S(g, "nr_pending", 0);
}

static void pending(struct g *g, int n)
{
	const struct img_lcr_struct *si = img_lcr_struct_find(g->l, "ckpt_siginfo");
	uint8_t buf[128] = { 0 };
	struct img_lcr_fref fr;
	const struct {
		const char *f;
		uint64_t v;
	} fv[] = { { "signo", 10 }, { "csi_signo", 10 }, { "pid", 1 }, { "csi_pid", 1 }, { "uid", 1000 }, { "csi_uid", 1000 } };

	B(g, "SIGPENDING");
	S(g, "nr_pending", (uint64_t)n);
	S(g, "signal.sigset[1]", n ? 0x02 : 0); /* SIGUSR1 is signal 10: bit 9 */
	if (!n || !si || si->size > sizeof(buf))
		return;
	for (size_t k = 0; k < sizeof(fv) / sizeof(fv[0]); k++)
		if (!img_lcr_field_ref(si, fv[k].f, &fr))
			img_lcr_put(buf, fr.off, fr.f->type, fv[k].v);
	img_lcr_w_add(g->w, buf, si->size);
}

static void cpu(struct g *g, int k)
{
	static const char *const regs[] = { "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9",
					    "r8",  "ax",  "cx",  "dx",  "si", "di", "orig_ax", "ip", "sp" };
	int64_t v;
	uint8_t tls[24] = { 0 }, fpu[4096] = { 0 };
	int64_t xs = dflt(g, "xstate_size");

	B(g, "THREAD");
	S(g, "sysenter_return", g->x64 ? 0 : 0xb7f2c424);
	S(g, "thread_info_flags", 0);
	S(g, "gdt_entry_tls_entries", 3);
	S(g, "sizeof_tls_array", sizeof(tls));
	if (!g->x64) {
		/* glibc's %gs TLS descriptor: base 0xb7d8c6c0, limit 0xfffff, 32-bit data, dpl 3 */
		img_put_u32(tls, 0xc6c0ffff);
		img_put_u32(tls + 4, 0xb7cff3d8);
	}
	img_lcr_w_add(g->w, tls, sizeof(tls));
	B(g, "RESTART_BLOCK");
	img_lcr_enum_val(img_lcr_enum_find(g->l, "restart_block"), "NONE", &v);
	S(g, "function_type", (uint64_t)v);
	B(g, "CPU");
	for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
		uint64_t x = 0x1000ULL * (uint64_t)(k + 1) + r;

		if (!g->x64 && r < 10 && r != 4 && r != 5)
			x = 0; /* no r8..r15 on i386 */
		S(g, regs[r], x);
	}
	S(g, "orig_ax", (uint64_t)-1);
	S(g, "ip", g->x64 ? 0x4005f3 + (uint64_t)k : 0x80485f3 + (uint64_t)k);
	S(g, "sp", g->x64 ? 0x7ffd5e3e0e10ULL - 0x100ULL * (uint64_t)k : 0xbfc61e10 - 0x100ULL * (uint64_t)k);
	S(g, "flags", 0x246);
	S(g, "fs", g->x64 ? 0x7f3a1c4d3740ULL : 0);
	S(g, "gs", 0);
	const char *segs[][2] = { { "cs", "USER64_CS" }, { "ss", "USER64_DS" }, { "ds", "NULL" }, { "es", "NULL" },
				  { "fsindex", "NULL" }, { "gsindex", "NULL" } };
	const char *segs32[][2] = { { "cs", "USER32_CS" }, { "ss", "USER32_DS" }, { "ds", "USER32_DS" },
				    { "es", "USER32_DS" }, { "fsindex", "NULL" }, { "gsindex", "TLS" } };

	for (int s = 0; s < 6; s++) {
		const char *name = g->x64 ? segs[s][1] : segs32[s][1];

		if (img_lcr_enum_val(img_lcr_enum_find(g->l, "x86_seg"), name, &v))
			g->failed = 1;
		S(g, g->x64 ? segs[s][0] : segs32[s][0], (uint64_t)v);
	}
	S(g, "used_math", 1);
	/* an FXSAVE image: fcw 0x37f, ftw 0, mxcsr 0x1f80, xmm0 holding a marker */
	img_put_u16(fpu, 0x37f);
	img_put_u32(fpu + 24, 0x1f80);
	img_put_u32(fpu + 28, 0xffff);
	memcpy(fpu + 160, "CRSUBJ-XMM0-MARK", 16);
	if (xs <= 0 || xs > (int64_t)sizeof(fpu))
		g->failed = 1;
	else
		raw(g, "CPU_FPU", fpu, (size_t)xs);
}

static void task(struct g *g, int k)
{
	B(g, "TASK");
	S(g, "flags", 0);
	S(g, "state", 1); /* TASK_INTERRUPTIBLE */
	S(g, "exit_state", k == 3 ? 16 : 0);
	S(g, "exit_code", k == 3 ? 0x100 : 0);
	S(g, "exit_signal", 17);
	S(g, "pdeath_signal", 0);
	S(g, "set_child_tid", 0);
	S(g, "clear_child_tid", k == 2 ? (g->x64 ? 0x7f3a1bf339d0ULL : 0xb7b2bba8) : 0);
	S(g, "robust_futex_head_len", g->x64 ? 24 : 12);
	S(g, "robust_futex_list", k == 2 ? (g->x64 ? 0x7f3a1bf339e0ULL : 0xb7b2bbb0) : 0);
	str_fixed(g, "STRING", tasks[k].comm, (size_t)dflt(g, "task_comm_len"));
	if (k == 3)
		return; /* a zombie: nothing more */
	creds(g);
	nsproxy(g);
	int32_t ft, m, f, sh, sig, exe;

	if (k == 0) {
		ft = g->init_ftable = files(g, 1);
		mm(g, 1, &m, &exe);
		f = fs(g, "/");
		sh = sighand(g);
	} else if (k == 1) {
		ft = g->ftable = files(g, 0);
		mm(g, 0, &m, &exe);
		g->mm = m;
		f = g->fs = fs(g, "/tmp/crsubj");
		sh = g->sighand = sighand(g);
	} else {
		ft = g->ftable;
		m = g->mm;
		f = g->fs;
		sh = g->sighand;
	}
	int first_signal = k != 2;

	sig = k == 0 ? (g->init_signal = g->next++) : k == 1 ? (g->signal = g->next++) : g->signal;
	B(g, "TASK_OBJS");
	S(g, "files_objref", (uint64_t)ft);
	S(g, "mm_objref", (uint64_t)m);
	S(g, "fs_objref", (uint64_t)f);
	S(g, "sem_undo_objref", 0);
	S(g, "sighand_objref", (uint64_t)sh);
	S(g, "signal_objref", (uint64_t)sig);
	if (first_signal)
		signal_struct(g);
	cpu(g, k);
	B(g, "SIGNAL_TASK");
	S(g, "blocked.sigset[1]", 0x08); /* SIGUSR2 */
	pending(g, k == 1);
}

int gen_lcr_image(const struct img_lcr_layout *l, int with_error, struct img_buf *out, struct img_err *err)
{
	struct g g = { 0 };
	int r;

	g.w = img_lcr_writer_new(NULL, l);
	if (!g.w)
		return img_err_set(err, ENOMEM, "out of memory");
	g.l = l;
	g.x64 = !strcmp(l->arch, "x86_64");
	g.next = 1;
	header(&g);
	tree(&g);
	for (int k = 0; k < NTASKS; k++) {
		if (with_error && k == 2) {
			/* a checkpoint that failed: the error record and its text, no tail */
			static const char msg[] = "\0[err -16][pos 7812][E @ checkpoint_file:338]file 5: unsupported";

			raw(&g, "ERROR", NULL, 0);
			raw(&g, "STRING", msg, sizeof(msg));
			break;
		}
		task(&g, k);
	}
	if (!with_error) {
		B(&g, "TAIL");
		S(&g, "magic", IMG_LCR_MAGIC_TAIL);
	}
	r = img_lcr_w_finish(g.w, out, err);
	if (!r && g.failed) {
		img_buf_free(out);
		r = img_err_set(err, EINVAL, "%s/%s: the writer refused a field", l->ver->name, l->arch);
	}
	img_lcr_writer_free(g.w);
	return r;
}

/* The linuxcr set: every version and arch, and a failed v23-rc2 checkpoint on each arch. */
void gen_linuxcr(void)
{
	const struct img_lcr_tables *t = img_lcr_tables_builtin();
	struct img_err err = { 0 };
	char path[4096], buf[1200];

	for (uint32_t v = 0; v < t->nversions; v++)
		for (uint32_t a = 0; a < t->versions[v].nlayouts; a++) {
			const struct img_lcr_layout *l = &t->versions[v].layouts[a];

			for (int e = 0; e < 2; e++) {
				struct img_buf b;

				if (e && strcmp(l->ver->name, "v23-rc2"))
					continue;
				snprintf(path, sizeof(path), "%s/%s-%s%s.img", gen_set_path(), l->ver->name, l->arch,
					 e ? "-error" : "");
				if (gen_lcr_image(l, e, &b, &err) ||
				    img_write_file_atomic(path, b.data, b.len, 0644, &err)) {
					fprintf(stderr, "imggen: cannot write '%s': %s\n", path,
						img_err_str(&err, buf, sizeof(buf)));
					exit(1);
				}
				img_buf_free(&b);
			}
		}
}
