/*
 * The images of one task that several sets share: inventory, pstree, core,
 * ids, fs and mm, with the values a small x86_64 program has, in the layout
 * of the CRIU version the set imitates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

void write_inventory(uint32_t version, const char *extra)
{
	struct img_msg *m, *ids;

	gen_image("INVENTORY");
	m = gen_entry();
	set_u(m, "img_version", version);
	set_b(m, "fdinfo_per_id", 1);
	ids = sub(m, "root_ids");
	set_u(ids, "vm_id", 1);
	set_u(ids, "files_id", 1);
	set_u(ids, "fs_id", 1);
	set_u(ids, "sighand_id", 1);
	set_u(ids, "pid_ns_id", 2);
	set_u(ids, "net_ns_id", 3);
	set_u(ids, "ipc_ns_id", 11);
	set_u(ids, "uts_ns_id", 4);
	set_u(ids, "mnt_ns_id", 6);
	if (version >= 2) {
		set_u(ids, "user_ns_id", 7);
		set_u(ids, "cgroup_ns_id", 8);
		set_u(ids, "time_ns_id", 5);
	}
	set_b(m, "ns_per_id", 1);
	if (version >= 2) {
		set_u(m, "root_cg_set", 1);
		set_e(m, "lsmtype", "NO_LSM");
	}
	if (version >= 2 && !(extra && !strcmp(extra, "2.x")))
		set_u(m, "dump_uptime", 86413250000ull);
	if (extra && !strcmp(extra, "pre-dump"))
		set_u(m, "pre_dump_mode", 1); /* PRE_DUMP_SPLICE */
	if (version >= 2 && !(extra && !strcmp(extra, "2.x"))) {
		set_u(m, "network_lock_method", 0);
		sub(m, "plugins_entry");
		set_s(m, "dump_criu_run_id", "5b0c2f1e-6a8d-4c3b-9e77-0d41a2f3c9b8");
	}
	gen_write("inventory.img");
}

void write_pstree(const struct task *t, size_t n, int era)
{
	gen_image("PSTREE");
	if (era == ERA_V1)
		gen_no_head();
	for (size_t i = 0; i < n; i++) {
		struct img_msg *m = gen_entry();

		set_u(m, "pid", t[i].pid);
		set_u(m, "ppid", t[i].ppid);
		set_u(m, "pgid", t[i].pgid);
		set_u(m, "sid", t[i].sid);
		for (size_t k = 0; k < t[i].nthreads; k++)
			add_u(m, "threads", t[i].threads[k]);
	}
	gen_write("pstree.img");
}

void fill_x86_gpregs(struct img_msg *g, uint64_t ip, uint64_t sp)
{
	static const char *const names[] = { "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9",
					     "r8", "ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs",
					     "flags", "sp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs" };
	/* a task stopped in nanosleep (orig_ax 35): ax holds -EINTR */
	const uint64_t v[] = { 0, 0, 0, 0, sp + 8, 0, 0x202, 0, 0, 0, (uint64_t)-4, ip, 0, 0, sp - 0x20, 35,
			       ip, 0x33, 0x202, sp, 0x2b, 0, 0, 0, 0, 0, 0 };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		set_u(g, names[i], v[i]);
	set_e(g, "mode", "NATIVE");
}

void fill_x86_fpregs(struct img_msg *f)
{
	set_u(f, "cwd", 0x37f);
	set_u(f, "swd", 0);
	set_u(f, "twd", 0);
	set_u(f, "fop", 0);
	set_u(f, "rip", 0);
	set_u(f, "rdp", 0);
	set_u(f, "mxcsr", 0x1f80);
	set_u(f, "mxcsr_mask", 0xffff);
	for (int i = 0; i < 32; i++)
		add_u(f, "st_space", 0);
	for (int i = 0; i < 64; i++)
		add_u(f, "xmm_space", i == 0 ? 0x3f800000 : 0); /* 1.0f in xmm0 */
	for (int i = 0; i < 24; i++)
		add_u(f, "padding", 0);
}

static void tls(struct img_msg *ti)
{
	for (uint32_t n = 12; n <= 14; n++) {
		struct img_msg *d = sub(ti, "tls");

		set_u(d, "entry_number", n);
		set_u(d, "base_addr", 0);
		set_u(d, "limit", 0);
		set_b(d, "seg_32bit", 0);
		set_b(d, "contents_h", 0);
		set_b(d, "contents_l", 0);
		set_b(d, "read_exec_only", 1);
		set_b(d, "limit_in_pages", 0);
		set_b(d, "seg_not_present", 1);
		set_b(d, "usable", 0);
	}
}

static void itimer(struct img_msg *t, uint64_t isec, uint64_t vsec)
{
	set_u(t, "isec", isec);
	set_u(t, "iusec", 0);
	set_u(t, "vsec", vsec);
	set_u(t, "vusec", vsec ? 499731 : 0);
}

/* RLIMIT_CPU .. RLIMIT_RTTIME as a shell started by root sees them; NOFILE 1024/4096 */
static const uint64_t rlim[16][2] = {
	{ ~0ull, ~0ull }, { ~0ull, ~0ull }, { ~0ull, ~0ull }, { 8388608, ~0ull }, { 0, ~0ull },
	{ ~0ull, ~0ull }, { 63455, 63455 }, { 1024, 4096 }, { 8388608, 8388608 }, { ~0ull, ~0ull },
	{ ~0ull, ~0ull }, { 63455, 63455 }, { 819200, 819200 }, { 0, 0 }, { 0, 0 }, { ~0ull, ~0ull },
};

void fill_rlimit(struct img_msg *r, int i)
{
	set_u(r, "cur", rlim[i][0]);
	set_u(r, "max", rlim[i][1]);
}

/* SIGINT's handler, the rest default */
void fill_sigaction(struct img_msg *sa, int sig)
{
	set_u(sa, "sigaction", sig == 2 ? 0x401136 : 0);
	set_u(sa, "flags", sig == 2 ? 0x4000000 : 0); /* SA_RESTORER */
	set_u(sa, "restorer", sig == 2 ? 0x401000 : 0);
	set_u(sa, "mask", 0);
}

void fill_creds(struct img_msg *c, uint32_t uid)
{
	set_u(c, "uid", uid);
	set_u(c, "gid", uid);
	set_u(c, "euid", uid);
	set_u(c, "egid", uid);
	set_u(c, "suid", uid);
	set_u(c, "sgid", uid);
	set_u(c, "fsuid", uid);
	set_u(c, "fsgid", uid);
	for (int i = 0; i < 2; i++)
		add_u(c, "cap_inh", 0);
	for (int i = 0; i < 2; i++)
		add_u(c, "cap_prm", uid ? 0 : i ? 511 : 4294967295u);
	for (int i = 0; i < 2; i++)
		add_u(c, "cap_eff", uid ? 0 : i ? 511 : 4294967295u);
	for (int i = 0; i < 2; i++)
		add_u(c, "cap_bnd", i ? 511 : 4294967295u);
	set_u(c, "secbits", 0);
	add_u(c, "groups", uid);
}

void write_core(const struct task *t, uint32_t tid, int era)
{
	struct img_msg *m, *ti, *tc, *th;
	char name[32];

	gen_image("CORE");
	if (era == ERA_V1)
		gen_no_head();
	m = gen_entry();
	set_e(m, "mtype", "X86_64");
	ti = sub(m, "thread_info");
	set_u(ti, "clear_tid_addr", tid == t->pid ? 0 : 0x7f31a2bfe990 - 0x1000 * (tid - t->pid));
	fill_x86_gpregs(sub(ti, "gpregs"), 0x401136 + (tid - t->pid), 0x7ffd00001f00 - 0x800000 * (tid - t->pid));
	fill_x86_fpregs(sub(ti, "fpregs"));
	tls(ti);
	if (tid == t->pid) {
		tc = sub(m, "tc");
		set_u(tc, "task_state", 1);
		set_u(tc, "exit_code", 0);
		set_u(tc, "personality", 0);
		set_u(tc, "flags", 0x400100); /* PF_RANDOMIZE | PF_FORKNOEXEC */
		set_u(tc, "blk_sigset", 0);
		set_s(tc, "comm", t->comm);
		if (era >= ERA_2) {
			struct img_msg *tm = sub(tc, "timers"), *rl;

			itimer(sub(tm, "real"), 5, 4);
			itimer(sub(tm, "virt"), 0, 0);
			itimer(sub(tm, "prof"), 0, 0);
			rl = sub(tc, "rlimits");
			for (int i = 0; i < 16; i++)
				fill_rlimit(sub(rl, "rlimits"), i);
			set_u(tc, "cg_set", 1);
			sub(tc, "signals_s");
			set_u(tc, "loginuid", 4294967295u);
			set_i(tc, "oom_score_adj", 0);
		}
		/* CRIU 3.1 moved the signal handlers from sigacts-PID.img into the core */
		if (era >= ERA_4_2) {
			for (int s = 1; s <= 64; s++)
				if (s != 9 && s != 19) /* SIGKILL and SIGSTOP have no handler */
					fill_sigaction(sub(tc, "sigactions"), s);
			set_b(tc, "child_subreaper", 0);
		}
	}
	th = sub(m, "thread_core");
	set_u(th, "futex_rla", tid == t->pid ? 0 : 0x7f31a2bfe9a0 - 0x1000 * (tid - t->pid));
	set_u(th, "futex_rla_len", 24);
	set_i(th, "sched_nice", 0);
	set_u(th, "sched_policy", 0);
	if (era >= ERA_2) {
		struct img_msg *sas = sub(th, "sas");

		set_u(sas, "ss_sp", 0);
		set_u(sas, "ss_size", 0);
		set_u(sas, "ss_flags", 2); /* SS_DISABLE */
		sub(th, "signals_p");
		fill_creds(sub(th, "creds"), t->uid);
		set_s(th, "comm", t->comm);
	}
	if (era >= ERA_4_2) {
		struct img_msg *r = sub(th, "rseq_entry");

		set_u(r, "rseq_abi_pointer", 0);
		set_u(r, "rseq_abi_size", 0);
		set_u(r, "signature", 0);
		set_u(th, "cg_set", 1);
	}
	snprintf(name, sizeof(name), "core-%u.img", tid);
	gen_write(name);
}

void write_ids(const struct task *t, int era)
{
	struct img_msg *m;
	char name[32];

	gen_image("IDS");
	if (era == ERA_V1)
		gen_no_head();
	m = gen_entry();
	set_u(m, "vm_id", t->ids);
	set_u(m, "files_id", t->ids);
	set_u(m, "fs_id", t->ids);
	set_u(m, "sighand_id", t->ids);
	set_u(m, "pid_ns_id", 2);
	set_u(m, "net_ns_id", 3);
	set_u(m, "ipc_ns_id", 11);
	set_u(m, "uts_ns_id", 4);
	set_u(m, "mnt_ns_id", 6);
	if (era >= ERA_2) {
		set_u(m, "user_ns_id", 7);
		set_u(m, "cgroup_ns_id", 8);
	}
	if (era >= ERA_4_2)
		set_u(m, "time_ns_id", 5);
	snprintf(name, sizeof(name), "ids-%u.img", t->pid);
	gen_write(name);
}

void write_fs(const struct task *t, int era)
{
	struct img_msg *m;
	char name[32];

	gen_image("FS");
	if (era == ERA_V1)
		gen_no_head();
	m = gen_entry();
	set_u(m, "cwd_id", 2);
	set_u(m, "root_id", 3);
	set_u(m, "umask", 022);
	snprintf(name, sizeof(name), "fs-%u.img", t->pid);
	gen_write(name);
}

void fill_vma(struct img_msg *v, const struct vma *a)
{
	set_u(v, "start", a->start);
	set_u(v, "end", a->end);
	set_u(v, "pgoff", a->pgoff);
	set_u(v, "shmid", a->shmid);
	set_u(v, "prot", a->prot);
	set_u(v, "flags", a->flags);
	set_u(v, "status", a->status);
	set_i(v, "fd", a->fd);
	if (a->madv)
		set_u(v, "madv", a->madv);
	if (a->status & (0x40 | 0x80)) /* VMA_FILE_PRIVATE, VMA_FILE_SHARED: CRIU notes the file's flags */
		set_u(v, "fdflags", a->fdflags);
}

void write_mm(const struct task *t, const struct vma *v, size_t n, int era)
{
	static const uint64_t auxv[] = { 33, 0x7f31a2c00000, 16, 0x178bfbff, 6, 4096, 17, 100, 3, 0x400040,
					 4, 56, 5, 9, 7, 0, 8, 0, 9, 0x401000, 11, 0, 12, 0, 13, 0, 14, 0,
					 23, 0, 25, 0x7ffd00001fe9, 31, 0x7ffd00001ff0, 15, 0x7ffd00001ff9, 0, 0 };
	struct img_msg *m;
	char name[32];

	gen_image("MM");
	if (era == ERA_V1)
		gen_no_head();
	m = gen_entry();
	set_u(m, "mm_start_code", 0x400000);
	set_u(m, "mm_end_code", 0x4011d5);
	set_u(m, "mm_start_data", 0x402000);
	set_u(m, "mm_end_data", 0x402040);
	set_u(m, "mm_start_stack", 0x7ffd00001f30);
	set_u(m, "mm_start_brk", 0x1000000);
	set_u(m, "mm_brk", 0x1008000);
	set_u(m, "mm_arg_start", 0x7ffd00001f50);
	set_u(m, "mm_arg_end", 0x7ffd00001f6b);
	set_u(m, "mm_env_start", 0x7ffd00001f6b);
	set_u(m, "mm_env_end", 0x7ffd00001fe0);
	set_u(m, "exe_file_id", 1);
	add_us(m, "mm_saved_auxv", auxv, sizeof(auxv) / sizeof(auxv[0]));
	/* CRIU before 1.2 kept the VMAs in vmas-PID.img */
	if (era >= ERA_2)
		for (size_t i = 0; i < n; i++)
			fill_vma(sub(m, "vmas"), &v[i]);
	set_i(m, "dumpable", 1);
	if (era >= ERA_4_2)
		set_b(m, "thp_disabled", 0);
	snprintf(name, sizeof(name), "mm-%u.img", t->pid);
	gen_write(name);
}

/*
 * pagemap-PID.img and pages-1.img: the pages of the PE_PRESENT entries, in
 * order.  The entry's fields are those of the era: CRIU 4.2 leaves the 32-bit
 * count 0 and writes nr_pages; 3.5 to 4.1 wrote the count and flags; before
 * 3.5 the count and in_parent.
 */
void write_pagemap(const char *tag, uint32_t pid, const struct pme *pm, size_t n, int era)
{
	static uint8_t pages[16 * 4096];
	char name[32];
	size_t np = 0;

	gen_image("PAGEMAP");
	if (era == ERA_V1)
		gen_no_head();
	set_u(gen_entry_of("pagemap_head"), "pages_id", 1);
	for (size_t i = 0; i < n; i++) {
		struct img_msg *m = gen_entry();

		set_u(m, "vaddr", pm[i].vaddr);
		if (era == ERA_4_2) {
			set_u(m, "compat_nr_pages", 0);
			set_u(m, "flags", pm[i].flags);
			set_u(m, "nr_pages", pm[i].nr);
		} else {
			set_u(m, "compat_nr_pages", pm[i].nr);
			if (pm[i].flags & PE_PARENT)
				set_b(m, "in_parent", 1);
		}
		if (!(pm[i].flags & PE_PRESENT))
			continue;
		if (np + pm[i].nr > 16) {
			fprintf(stderr, "imggen: %s: more than 16 pages\n", tag);
			exit(1);
		}
		for (uint64_t p = 0; p < pm[i].nr; p++, np++) {
			char t[64];

			snprintf(t, sizeof(t), "%s 0x%llx", tag, (unsigned long long)(pm[i].vaddr + p * 4096));
			fill_page(pages + np * 4096, t, (unsigned)np, (unsigned)pm[i].vaddr);
		}
	}
	snprintf(name, sizeof(name), "pagemap-%u.img", pid);
	gen_write(name);
	gen_image("PAGES");
	gen_raw(pages, np * 4096);
	gen_write("pages-1.img");
}
