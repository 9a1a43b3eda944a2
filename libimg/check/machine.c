/*
 * Host readiness, the machine: what the images need from a kernel and a CPU
 * (img_needs), compared with a profile of the target — architecture, page
 * size, kernel features (schemas/features/kernel.tab), cgroup layout, XSAVE
 * components (schemas/features/xsave.tab) — and, on this machine, free pids.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ck.h"

#define PAGE 4096u

/* core_entry.march -> the machine name uname gives */
static const struct { const char *march, *arch; } arches[] = {
	{ "X86_64", "x86_64" }, { "AARCH64", "aarch64" }, { "ARM", "armv7l" },
	{ "PPC64", "ppc64le" }, { "S390", "s390x" }, { "MIPS", "mips64" },
	{ "LOONGARCH64", "loongarch64" }, { "RISCV64", "riscv64" },
};

/* Where the images use a kernel feature. */
struct use {
	const char *feature;
	int hard;            /* the restore needs it (else it may go worse without) */
	const char *image;
	long entry;
	const char *field;
	unsigned count;
};

struct need_ctx {
	struct ck *c;
	struct img_needs *n;
	struct use uses[16];
	int nuses;
	const char *xsave_image[64]; /* the first core using each component */
	unsigned xsave_count[64];
	const char *first_core;
	int own_pidns;               /* -1 unknown */
	size_t nthreads;
	int cg_v1, cg_v2;            /* cgroup.img has v1 controllers, the v2 hierarchy */
};

/* CRIU names the v2 hierarchy "" (or "unified" in hybrid layouts); anything else is a v1 controller. */
static void cgroup_names(struct need_ctx *x, const struct img_msg *ctl)
{
	const struct img_fielddesc *fd = img_msgdesc_field_by_name(ctl->desc, "cnames");

	for (uint32_t k = 0; fd && k < ctl->n; k++) {
		const struct img_fval *fv = &ctl->f[k];

		if (fv->num != fd->num || fv->fi == IMG_FI_UNKNOWN || fv->wt != IMG_WT_LEN)
			continue;
		if (fv->v.b.len == 0 || (fv->v.b.len == 7 && !memcmp(fv->v.b.p, "unified", 7)))
			x->cg_v2 = 1;
		else
			x->cg_v1 = 1;
	}
}

static void use(struct need_ctx *x, const char *feature, int hard, const char *image, const char *field)
{
	for (int i = 0; i < x->nuses; i++)
		if (!strcmp(x->uses[i].feature, feature)) {
			x->uses[i].count++;
			x->uses[i].hard |= hard;
			return;
		}
	if (x->nuses == (int)(sizeof(x->uses) / sizeof(x->uses[0])))
		return;
	/* single-entry images (core, ids, mm) are named with their entry */
	long entry = !strncmp(image, "core-", 5) || !strncmp(image, "ids-", 4) || !strncmp(image, "mm-", 3) ? 0
														 : IMG_NO_ENTRY;

	x->uses[x->nuses++] = (struct use){ feature, hard, image, entry, field, 1 };
}

static int ns_own(struct ck *c, struct img_msg *ids, const char *field)
{
	return c->root_ids && ids && img_msg_has(ids, field) &&
	       img_msg_u64(ids, field, 0) != img_msg_u64(c->root_ids, field, 0);
}

static void core_needs(struct need_ctx *x, const char *name, struct img_msg *core)
{
	struct ck *c = x->c;
	const struct img_enumdesc *march = img_schema_enum(c->s, "core_entry.march");
	const struct img_enumval *mv = march ? img_enum_by_num(march, (int32_t)img_msg_u64(core, "mtype", 0)) : NULL;
	struct img_msg *ti = img_msg_sub(core, "thread_info");
	struct img_msg *fp = img_msg_sub(ti, "fpregs");
	struct img_msg *xs = img_msg_sub(fp, "xsave");
	struct img_msg *thc = img_msg_sub(core, "thread_core");
	struct img_msg *rseq = img_msg_sub(thc, "rseq_entry");
	struct img_msg *tc = img_msg_sub(core, "tc");
	const struct img_xfeature *xt;
	size_t nx = 0;

	x->nthreads++;
	for (size_t i = 0; mv && i < sizeof(arches) / sizeof(arches[0]); i++)
		if (!strcmp(arches[i].march, mv->name) && !x->n->arch[0])
			snprintf(x->n->arch, sizeof(x->n->arch), "%s", arches[i].arch);
	if (img_msg_u64(rseq, "rseq_abi_pointer", 0))
		use(x, "rseq", 1, name, "thread_core.rseq_entry.rseq_abi_pointer");
	if (img_msg_u64(tc, "membarrier_registration_mask", 0))
		use(x, "membarrier", 1, name, "tc.membarrier_registration_mask");
	if (!fp)
		return;
	x->n->xsave_present |= 3; /* x87 and SSE state are always in the frame */
	if (!xs)
		return;
	uint64_t bv = img_msg_u64(xs, "xstate_bv", 0);

	x->n->xsave_used |= bv;
	for (unsigned b = 0; b < 64; b++)
		if (bv & (1ull << b)) {
			if (!x->xsave_image[b])
				x->xsave_image[b] = name;
			x->xsave_count[b]++;
		}
	if (img_xfeatures(&xt, &nx, NULL))
		return;
	for (size_t i = 0; i < nx; i++)
		if (xt[i].field && img_msg_has(xs, xt[i].field))
			x->n->xsave_present |= 1ull << xt[i].bit;
	struct img_msg *cet = img_msg_sub(xs, "cet");

	if (img_msg_u64(cet, "ssp", 0))
		use(x, "shstk", 1, name, "thread_info.fpregs.xsave.cet.ssp");
}

static void gather(struct need_ctx *x)
{
	struct ck *c = x->c;
	struct ck_task *root = c->ntasks ? &c->tasks[0] : NULL;

	x->own_pidns = root && root->ids && c->root_ids ? ns_own(c, root->ids, "pid_ns_id") : -1;
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];
		const char *idsname = ck_name(c, "ids-%u.img", t->pid);

		for (size_t j = 0; j < t->ntids; j++) {
			const char *name = ck_name(c, "core-%u.img", t->tids[j]);
			struct img_image *core = ck_state(c, name) == CK_OK ? ck_get(c, name) : NULL;

			if (!core)
				continue;
			if (!x->first_core)
				x->first_core = name;
			core_needs(x, name, img_image_msg(core));
		}
		if (ns_own(c, t->ids, "time_ns_id"))
			use(x, "timens", 1, idsname, "time_ns_id");
		if (ns_own(c, t->ids, "cgroup_ns_id"))
			use(x, "cgroupns", 1, idsname, "cgroup_ns_id");
		if (ns_own(c, t->ids, "user_ns_id"))
			use(x, "userns", 1, idsname, "user_ns_id");
		for (size_t k = 0; k < t->nvmas; k++) {
			uint64_t st = img_msg_u64(t->vmas[k], "status", 0);

			if (st & CK_VMA_AREA_SHSTK)
				use(x, "shstk", 1, t->vmas_image, "vmas.status");
			else if (st & CK_VMA_AREA_MEMFD)
				use(x, "memfd", 1, t->vmas_image, "vmas.status");
		}
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		if (c->files[i].type == CK_FD_PIDFD)
			use(x, "pidfd", 1, c->files[i].image, "type");
		else if (c->files[i].type == CK_FD_MEMFD)
			use(x, "memfd", 1, c->files[i].image, "type");
	}
	if (x->nthreads > 1 || x->own_pidns == 0)
		use(x, "clone3_set_tid", 0, "pstree.img", "threads");
	if (c->lazy)
		use(x, "userfaultfd", 1, "pagemap", "flags");
	if (c->chain)
		use(x, "soft_dirty", 0, "parent", NULL);
	struct img_msg *cg = img_image_msg(ck_state(c, "cgroup.img") == CK_OK ? ck_get(c, "cgroup.img") : NULL);
	struct img_iter it;
	struct img_msg *ctl;

	img_iter_init(&it, cg, "controllers");
	while (cg && (ctl = img_iter_next_msg(&it)))
		cgroup_names(x, ctl);
	if (x->cg_v2)
		use(x, "cgroup2", 1, "cgroup.img", "controllers.cnames");
	struct img_msg *ci = img_image_msg(ck_state(c, "cpuinfo.img") == CK_OK ? ck_get(c, "cpuinfo.img") : NULL);
	struct img_msg *x86 = NULL;

	img_iter_init(&it, ci, "x86_entry");
	if (ci && (x86 = img_iter_next_msg(&it))) {
		x->n->cpu_xfeatures = img_msg_u64(x86, "xfeatures_mask", 0);
		x->n->xsave_size = (uint32_t)img_msg_u64(x86, "xsave_size", 0);
		x->n->xsave_size_max = (uint32_t)img_msg_u64(x86, "xsave_size_max", 0);
	}
	for (int i = 0; i < x->nuses && x->n->nkfeatures < 16; i++)
		snprintf(x->n->kfeatures[x->n->nkfeatures++], sizeof(x->n->kfeatures[0]), "%s", x->uses[i].feature);
}

int ck_needs(struct ck *c, struct img_needs *n)
{
	struct need_ctx x = { .c = c, .n = n };

	memset(n, 0, sizeof(*n));
	gather(&x);
	return c->f->failed ? -ENOMEM : 0;
}

static void kernel(struct need_ctx *x, const struct img_profile *p)
{
	struct ck *c = x->c;
	const char *arch = img_profile_arch(p), *rel = img_profile_release(p);
	struct img_finding *fi;

	if (arch && x->n->arch[0] &&
	    !(!strcmp(arch, x->n->arch) || (!strcmp(x->n->arch, "armv7l") && !strncmp(arch, "arm", 3)))) {
		fi = ck_add(c, IMG_SEV_ERROR, "kernel", "arch", x->first_core, 0,
			    "the images are of %s tasks, the target is %s", x->n->arch, arch);
		fi->field = "mtype";
		fi->expected = CK_F(c, "%s", x->n->arch);
		fi->found = arch;
		fi->todo = "restore on a machine of the architecture the set was dumped on";
	}
	if (img_profile_page_size(p) && img_profile_page_size(p) != PAGE) {
		fi = ck_add(c, IMG_SEV_ERROR, "kernel", "page-size", NULL, IMG_NO_ENTRY,
			    "the target's pages are %u bytes, the images hold %u-byte pages", img_profile_page_size(p),
			    PAGE);
		fi->expected = "4096";
		fi->found = CK_F(c, "%u", img_profile_page_size(p));
	}
	for (int i = 0; i < x->nuses; i++) {
		const struct use *u = &x->uses[i];
		const struct img_kfeature *kf = img_kfeature_find(u->feature);
		int how, has;

		if (!kf)
			continue;
		has = img_profile_feature(p, u->feature, &how);
		if (has == 1)
			continue;
		if (has < 0) {
			fi = ck_add(c, IMG_SEV_INFO, "kernel", "kernel-unknown", u->image, IMG_NO_ENTRY,
				    "the images use %s, and the target profile does not say whether its kernel has it",
				    kf->name);
			fi->field = u->field;
			continue;
		}
		fi = ck_add(c, u->hard ? kf->missing : IMG_SEV_WARNING, "kernel", "kernel-feature", u->image,
			    u->entry, "the kernel of the target (%s) lacks %s: %s%s", rel ? rel : "unknown release",
			    kf->name, kf->what,
			    u->count > 1 ? CK_F(c, " (%s and %u more images use it)", u->image, u->count - 1) : "");
		fi->field = u->field;
		fi->subject = kf->name;
		fi->expected = CK_F(c, "%s (Linux %s or later)", kf->name, kf->since_str);
		fi->found = how == IMG_HOW_PROBE ? "absent (probed)" : how == IMG_HOW_PROFILE ? "absent (profile)"
										   : CK_F(c, "Linux %s", rel ? rel : "?");
		fi->todo = kf->todo;
	}
	/* cgroup v1 controllers cannot be mounted where v2 has them all */
	const char *layout = img_profile_cgroup(p);

	if (x->cg_v1 && layout && !strcmp(layout, "v2")) {
		fi = ck_add(c, IMG_SEV_ERROR, "kernel", "cgroup-layout", "cgroup.img", IMG_NO_ENTRY,
			    "the images record cgroup v1 controllers, and the target has cgroup v2 only");
		fi->expected = "cgroup v1 or hybrid";
		fi->found = "v2";
		fi->todo = "restore with --manage-cgroups=ignore, or on a host with the v1 hierarchies";
	}
}

static void xsave_names(char *buf, size_t cap, uint64_t mask)
{
	size_t at = 0;

	buf[0] = 0;
	for (unsigned b = 0; b < 64 && at < cap; b++)
		if (mask & (1ull << b)) {
			const struct img_xfeature *xf = img_xfeature_by_bit(b);

			if (xf)
				at += (size_t)snprintf(buf + at, cap - at, "%s%s", at ? ", " : "", xf->name);
			else
				at += (size_t)snprintf(buf + at, cap - at, "%sbit %u", at ? ", " : "", b);
		}
}

static void cpu(struct need_ctx *x, const struct img_profile *p)
{
	struct ck *c = x->c;
	struct img_needs *n = x->n;
	uint64_t have;
	uint32_t size, max;
	struct img_finding *fi;
	char names[512];

	if (!n->xsave_present && !n->xsave_used)
		return;
	if (img_profile_xsave(p, &have, &size, &max)) {
		if (!img_profile_arch(p) || !strcmp(img_profile_arch(p), "x86_64"))
			ck_add(c, IMG_SEV_INFO, "cpu", "cpu-unknown", NULL, IMG_NO_ENTRY,
			       "the target profile does not say which XSAVE components its CPU has");
		return;
	}
	for (unsigned b = 0; b < 64; b++) {
		const struct img_xfeature *xf = img_xfeature_by_bit(b);
		uint64_t bit = 1ull << b;

		if (!(n->xsave_used & bit) || (have & bit))
			continue;
		fi = ck_add(c, IMG_SEV_ERROR, "cpu", "cpu-xsave", x->xsave_image[b], 0,
			    "%u thread%s use%s the %s state (%s), which the target CPU does not have: CRIU leaves it out "
			    "and the program runs instructions the CPU lacks (SIGILL)",
			    x->xsave_count[b], x->xsave_count[b] == 1 ? "" : "s", x->xsave_count[b] == 1 ? "s" : "",
			    xf ? xf->name : CK_F(c, "bit %u", b), xf ? xf->what : "unknown component");
		fi->field = "thread_info.fpregs.xsave.xstate_bv";
		fi->subject = xf ? xf->name : NULL;
		fi->expected = CK_F(c, "XCR0 with bit %u (%s%s%s)", b, xf ? xf->name : "?",
				    xf && xf->flag ? ", CPU flag " : "", xf && xf->flag ? xf->flag : "");
		fi->found = CK_F(c, "XCR0 %#llx", (unsigned long long)have);
		fi->todo = "restore on a CPU with the feature, or dump the program again on such a CPU with its "
			   "use turned off (glibc: GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX512F,...)";
	}
	uint64_t idle = n->xsave_present & ~n->xsave_used & ~have;

	/* one finding per component, so that each is a mismatch of its own (cr-convert --for) */
	for (unsigned b = 0; b < 64; b++) {
		const struct img_xfeature *xf = img_xfeature_by_bit(b);

		if (!(idle & (1ull << b)))
			continue;
		xsave_names(names, sizeof(names), 1ull << b);
		fi = ck_add(c, IMG_SEV_WARNING, "cpu", "cpu-xsave-present", x->first_core, 0,
			    "the CPU the set was dumped on had %s, which the target CPU lacks; no thread had state in "
			    "it, but programs that chose code for it at start-up (glibc picks string functions "
			    "by CPU) fail with SIGILL", names);
		fi->field = xf && xf->field ? CK_F(c, "thread_info.fpregs.xsave.%s", xf->field) : "thread_info.fpregs.xsave";
		fi->subject = xf ? xf->name : NULL;
		fi->expected = CK_F(c, "%s", names);
		fi->found = CK_F(c, "XCR0 %#llx", (unsigned long long)have);
		fi->todo = "restore on a CPU with the same features to be safe";
	}
	if (n->cpu_xfeatures & ~have) {
		xsave_names(names, sizeof(names), n->cpu_xfeatures & ~have);
		fi = ck_add(c, IMG_SEV_WARNING, "cpu", "cpuinfo-xfeatures", "cpuinfo.img", 0,
			    "cpuinfo.img records %s, which the target lacks (with --cpu-cap=fpu CRIU refuses: CPU xfeatures has unsupported bits)",
			    names);
		fi->field = "x86_entry.xfeatures_mask";
		fi->expected = CK_F(c, "%#llx", (unsigned long long)n->cpu_xfeatures);
		fi->found = CK_F(c, "%#llx", (unsigned long long)have);
	}
	if (n->xsave_size && size && n->xsave_size != size) {
		fi = ck_add(c, IMG_SEV_WARNING, "cpu", "cpuinfo-xsave-size", "cpuinfo.img", 0,
			    "the XSAVE area was %u bytes on the dumping CPU and is %u on the target (with --cpu-cap=fpu CRIU refuses: CPU xsave size mismatch)",
			    n->xsave_size, size);
		fi->field = "x86_entry.xsave_size";
		fi->expected = CK_F(c, "%u", n->xsave_size);
		fi->found = CK_F(c, "%u", size);
	}
	(void)max;
}

static int pid_taken(uint32_t pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

static void pids(struct need_ctx *x, const struct img_profile *p)
{
	struct ck *c = x->c;
	uint64_t pid_max = img_profile_pid_max(p);
	char list[256];
	size_t at = 0;
	unsigned taken = 0;
	long entry = IMG_NO_ENTRY;
	struct img_finding *fi;

	if (x->own_pidns == 1)
		return; /* CRIU makes a new pid namespace: the pids are the set's own */
	list[0] = 0;
	for (size_t i = 0; i < c->ntasks; i++)
		for (size_t j = 0; j < c->tasks[i].ntids; j++) {
			uint32_t pid = c->tasks[i].tids[j];

			if (pid_max && pid >= pid_max) {
				fi = ck_add(c, IMG_SEV_ERROR, "pids", "pid-max", "pstree.img", c->tasks[i].entry,
					    "pid %u is not below the target's pid_max %llu", pid,
					    (unsigned long long)pid_max);
				fi->todo = CK_F(c, "raise kernel.pid_max above %u", pid);
				continue;
			}
			if (!pid_taken(pid))
				continue;
			if (!taken++)
				entry = c->tasks[i].entry;
			if (at < sizeof(list) - 16)
				at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%u", at ? " " : "", pid);
		}
	if (!taken)
		return;
	fi = ck_add(c, IMG_SEV_ERROR, "pids", "pid-taken", "pstree.img", entry,
		    "%u of the set's pids are in use on this machine (%s): the tasks share this machine's pid "
		    "namespace and must get their pids back (CRIU: Can't fork for N: File exists)", taken, list);
	fi->found = CK_F(c, "%s", list);
	fi->todo = "stop the processes with those pids, or restore into a new pid namespace "
		   "(dump with the tasks in their own pid namespace)";
}

void ck_machine(struct ck *c)
{
	struct img_needs n;
	struct need_ctx x = { .c = c, .n = &n };
	const struct img_profile *p = c->o->target;

	memset(&n, 0, sizeof(n));
	gather(&x);
	if (!p)
		return;
	if (c->o->what & IMG_CHECK_KERNEL)
		kernel(&x, p);
	if (c->o->what & IMG_CHECK_CPU)
		cpu(&x, p);
	if ((c->o->what & IMG_CHECK_PIDS) && img_profile_is_host(p))
		pids(&x, p);
}

/* The mismatches check --target reports, and what names their subjects. */
enum { SUBJ_NONE, SUBJ_KFEATURE, SUBJ_XFEATURE };
static const struct { const char *code; int subject; } mismatches[] = {
	{ "arch", SUBJ_NONE },
	{ "page-size", SUBJ_NONE },
	{ "kernel-feature", SUBJ_KFEATURE },
	{ "cgroup-layout", SUBJ_NONE },
	{ "cpu-xsave", SUBJ_XFEATURE },
	{ "cpu-xsave-present", SUBJ_XFEATURE },
	{ "cpuinfo-xfeatures", SUBJ_NONE },
	{ "cpuinfo-xsave-size", SUBJ_NONE },
};

int img_check_mismatch_ok(const char *key, struct img_err *err)
{
	const char *colon = strchr(key, ':');
	size_t n = colon ? (size_t)(colon - key) : strlen(key);

	for (size_t i = 0; i < sizeof(mismatches) / sizeof(mismatches[0]); i++) {
		if (strlen(mismatches[i].code) != n || strncmp(mismatches[i].code, key, n))
			continue;
		if (mismatches[i].subject == SUBJ_NONE) {
			if (colon)
				return img_err_set(err, EINVAL, "'%s': %s has no subject", key, mismatches[i].code);
			return 0;
		}
		if (!colon)
			return img_err_set(err, EINVAL, "'%s': say which %s (%s:NAME)", key,
					   mismatches[i].subject == SUBJ_KFEATURE ? "kernel feature" : "XSAVE component",
					   mismatches[i].code);
		if (mismatches[i].subject == SUBJ_KFEATURE ? !img_kfeature_find(colon + 1)
							   : !img_xfeature_by_name(colon + 1))
			return img_err_set(err, EINVAL, "'%s': no %s '%s' in schemas/features", key,
					   mismatches[i].subject == SUBJ_KFEATURE ? "kernel feature" : "XSAVE component",
					   colon + 1);
		return 0;
	}
	return img_err_set(err, EINVAL, "'%.*s' is no mismatch check --target reports", (int)n, key);
}

void img_check_mismatch_key(const struct img_finding *fi, char *buf, size_t len)
{
	buf[0] = 0;
	if (fi->sev == IMG_SEV_INFO || !fi->code)
		return;
	for (size_t i = 0; i < sizeof(mismatches) / sizeof(mismatches[0]); i++)
		if (!strcmp(mismatches[i].code, fi->code)) {
			if (mismatches[i].subject != SUBJ_NONE && fi->subject)
				snprintf(buf, len, "%s:%s", fi->code, fi->subject);
			else
				snprintf(buf, len, "%s", fi->code);
			return;
		}
}
