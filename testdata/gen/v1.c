/*
 * v1/: a dump by CRIU 1.0 (img_version 1): no head magic before any image's
 * magic, and the layouts of that time: VMAs in vmas-PID.img, timers,
 * rlimits, credentials, pending signals and signal handlers in images of
 * their own, a task with two threads, the pagemap with only the 32-bit page
 * count.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

static const uint32_t threads[] = { 1, 2 };
static const struct task subj = { 1, 0, 1, 1, threads, 2, "crsubj-v1", 1, 1000 };

static const struct vma vmas[] = {
	{ 0x400000, 0x401000, 0, 1, 5, 0x2, 0x41, -1, 0, 0 },
	{ 0x600000, 0x601000, 0, 1, 3, 0x2, 0x41, -1, 0, 0 },
	{ 0x1000000, 0x1002000, 0, 0, 3, 0x22, 0x221, -1, 0, 0 },
	{ 0x7f31a23fe000, 0x7f31a2bfe000, 0, 0, 3, 0x20022, 0x201, -1, 0, 0 }, /* the thread's stack */
	{ 0x7ffd00000000, 0x7ffd00002000, 0, 0, 3, 0x122, 0x201, -1, 0, 0 },
};

static void named(const char *kind, const char *fmt, uint32_t pid, char *name, size_t n)
{
	gen_image(kind);
	gen_no_head();
	snprintf(name, n, fmt, pid);
}

/* a siginfo_t as the kernel fills it for kill(): signo, errno, code SI_USER, pid, uid */
static void siginfo(struct img_msg *m, int signo, uint32_t from)
{
	uint8_t si[128] = { 0 };

	img_put_u32(si, (uint32_t)signo);
	img_put_u32(si + 16, from);
	img_put_u32(si + 20, 1000);
	set_bytes(m, "siginfo", si, sizeof(si));
}

static void task_extras(void)
{
	char name[64];
	struct img_msg *m;

	named("VMAS", "vmas-%u.img", 1, name, sizeof(name));
	for (size_t i = 0; i < sizeof(vmas) / sizeof(vmas[0]); i++)
		fill_vma(gen_entry(), &vmas[i]);
	gen_write(name);

	named("ITIMERS", "itimers-%u.img", 1, name, sizeof(name));
	for (int i = 0; i < 3; i++) { /* ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF */
		m = gen_entry();
		set_u(m, "isec", i ? 0 : 5);
		set_u(m, "iusec", 0);
		set_u(m, "vsec", i ? 0 : 4);
		set_u(m, "vusec", i ? 0 : 499731);
	}
	gen_write(name);

	named("POSIX_TIMERS", "posix-timers-%u.img", 1, name, sizeof(name));
	for (uint32_t i = 0; i < 2; i++) {
		m = gen_entry();
		set_u(m, "it_id", i);
		set_u(m, "clock_id", i ? 1 : 0);  /* CLOCK_REALTIME, CLOCK_MONOTONIC */
		set_u(m, "si_signo", i ? 34 : 14); /* SIGRTMIN, SIGALRM */
		set_u(m, "it_sigev_notify", i ? 4 : 0); /* SIGEV_THREAD_ID, SIGEV_SIGNAL */
		set_u(m, "sival_ptr", i ? 0x7f31a2bfd700 : 0);
		set_u(m, "overrun", i);
		set_u(m, "isec", 1);
		set_u(m, "insec", 500000000);
		set_u(m, "vsec", 0);
		set_u(m, "vnsec", 250000000);
		if (i)
			set_i(m, "notify_thread_id", 2);
	}
	gen_write(name);

	named("RLIMIT", "rlimit-%u.img", 1, name, sizeof(name));
	for (int i = 0; i < 16; i++)
		fill_rlimit(gen_entry(), i);
	gen_write(name);

	named("CREDS", "creds-%u.img", 1, name, sizeof(name));
	fill_creds(gen_entry(), subj.uid);
	gen_write(name);

	/* pending signals: shared by the thread group (signal-s) and of one thread (signal-p) */
	named("SIGNAL", "signal-s-%u.img", 1, name, sizeof(name));
	siginfo(gen_entry(), 10, 77); /* SIGUSR1 */
	siginfo(gen_entry(), 12, 77); /* SIGUSR2 */
	gen_write(name);
	named("PSIGNAL", "signal-p-%u.img", 2, name, sizeof(name));
	siginfo(gen_entry(), 10, 78);
	gen_write(name);

	write_sigacts(1, 0);
}

static void files(void)
{
	static const char data[] = "written before the dump";
	struct img_msg *m;

	gen_image("FDINFO");
	gen_no_head();
	for (uint32_t fd = 0; fd < 5; fd++)
		fill_fdinfo(gen_entry(), fd < 3 ? 1 : fd - 1, 0, fd < 3 ? "REG" : "PIPE", fd);
	gen_write("fdinfo-1.img");
	gen_image("REG_FILES");
	gen_no_head();
	fill_reg(gen_entry(), 1, "/dev/null", 02, 0, 0);
	gen_write("reg-files.img");
	gen_image("PIPES");
	gen_no_head();
	fill_pipe(gen_entry(), 2, 4242, 0);
	fill_pipe(gen_entry(), 3, 4242, 01);
	gen_write("pipes.img");
	gen_image("PIPES_DATA");
	gen_no_head();
	m = gen_entry();
	set_u(m, "pipe_id", 4242);
	set_u(m, "bytes", sizeof(data) - 1);
	gen_extra(data, sizeof(data) - 1);
	gen_write("pipes-data.img");
}

void gen_v1(void)
{
	static const struct pme pm[] = {
		{ 0x600000, 1, PE_PRESENT },
		{ 0x1000000, 1, PE_PRESENT },
		{ 0x7f31a2bfd000, 1, PE_PRESENT },
		{ 0x7ffd00001000, 1, PE_PRESENT },
	};

	write_inventory(1, NULL);
	write_pstree(&subj, 1, ERA_V1);
	write_core(&subj, 1, ERA_V1);
	write_core(&subj, 2, ERA_V1);
	write_ids(&subj, ERA_V1);
	write_fs(&subj, ERA_V1);
	write_mm(&subj, vmas, sizeof(vmas) / sizeof(vmas[0]), ERA_V1);
	task_extras();
	write_pagemap("v1", 1, pm, 4, ERA_V1);
	files();
}
