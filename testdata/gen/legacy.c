/*
 * legacy/: a dump by CRIU 2.x (img_version 2, head magics), before files.img:
 * every file type in an image of its own (reg-files.img, pipes.img,
 * inetsk.img, ...), epoll targets, inotify watches and fanotify marks in
 * images of their own, signal handlers in sigacts-PID.img, binfmt_misc by
 * superblock, SysV shared memory inline after its entry, and a pagemap with
 * the 32-bit page count and no flags.  CRIU 4.2 still reads most of these.
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

static const uint32_t threads[] = { 1 };
static const struct task subj = { 1, 0, 1, 1, threads, 1, "crsubj-legacy", 1, 0 };

static const struct vma vmas[] = {
	{ 0x400000, 0x401000, 0, 1, 5, 0x2, 0x41, -1, 0, 0 },
	{ 0x600000, 0x601000, 0, 1, 3, 0x2, 0x41, -1, 0, 0 },
	{ 0x1000000, 0x1002000, 0, 0, 3, 0x22, 0x221, -1, 0, 0 },
	{ 0x7ffd00000000, 0x7ffd00002000, 0, 0, 3, 0x122, 0x201, -1, 0, 0 },
};

/* one image per file type, and the fd table that points into them */
static const struct {
	const char *type;
	uint32_t id, fd;
} fds[] = {
	{ "TTY", 2, 0 }, { "TTY", 2, 1 }, { "TTY", 2, 2 }, { "REG", 1, 3 }, { "PIPE", 3, 4 },
	{ "PIPE", 4, 5 }, { "FIFO", 5, 6 }, { "UNIXSK", 7, 7 }, { "UNIXSK", 8, 8 }, { "UNIXSK", 9, 9 },
	{ "UNIXSK", 10, 10 }, { "INETSK", 11, 11 }, { "INETSK", 12, 12 }, { "INETSK", 13, 13 },
	{ "INETSK", 14, 14 }, { "PACKETSK", 15, 15 }, { "NETLINKSK", 16, 16 }, { "EVENTFD", 17, 17 },
	{ "EVENTPOLL", 18, 18 }, { "SIGNALFD", 19, 19 }, { "INOTIFY", 20, 20 }, { "FANOTIFY", 21, 21 },
	{ "TIMERFD", 22, 22 }, { "NS", 23, 23 }, { "TUNF", 24, 24 }, { "EXT", 25, 25 },
};

static void fdinfo(void)
{
	gen_image("FDINFO");
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		fill_fdinfo(gen_entry(), fds[i].id, fds[i].fd > 2, fds[i].type, fds[i].fd); /* FD_CLOEXEC */
	}
	gen_write("fdinfo-1.img");
}

static void files(void)
{
	static const char abstract[] = "\0crsubj-abs", path[] = "/tmp/crsubj/sock", data[] = "in the pipe\n";
	static const char queued[] = "unread stream bytes";
	struct img_msg *m;

	gen_image("REG_FILES");
	fill_reg(gen_entry(), 1, "/tmp/crsubj/data.txt", 02, 5, 20);
	fill_reg(gen_entry(), 6, "/tmp/crsubj/fifo", 0, 0, 0);
	gen_write("reg-files.img");

	gen_image("TTY_FILES");
	fill_tty_file(gen_entry(), 2, 1, 0); /* before CRIU 2.7: no regf_id */
	gen_write("tty.img");

	gen_image("PIPES");
	fill_pipe(gen_entry(), 3, 51234, 0);
	fill_pipe(gen_entry(), 4, 51234, 01);
	gen_write("pipes.img");
	gen_image("PIPES_DATA");
	m = gen_entry();
	set_u(m, "pipe_id", 51234);
	set_u(m, "bytes", sizeof(data) - 1);
	gen_extra(data, sizeof(data) - 1);
	gen_write("pipes-data.img");

	gen_image("FIFO");
	fill_fifo(gen_entry(), 5, 51301, 6);
	gen_write("fifo.img");

	gen_image("UNIXSK");
	fill_unixsk(gen_entry(), 7, 52001, 1, 1, 52002, "", 0);
	fill_unixsk(gen_entry(), 8, 52002, 1, 1, 52001, "", 0);
	fill_unixsk(gen_entry(), 9, 52003, 1, 10, 0, path, sizeof(path) - 1);
	fill_unixsk(gen_entry(), 10, 52004, 2, 7, 0, abstract, sizeof(abstract) - 1);
	gen_write("unixsk.img");
	gen_image("SK_QUEUES");
	m = gen_entry();
	set_u(m, "id_for", 7);
	set_u(m, "length", sizeof(queued) - 1);
	gen_extra(queued, sizeof(queued) - 1);
	gen_write("sk-queues.img");

	gen_image("INETSK");
	fill_inetsk(gen_entry(), 11, 52100, 2, 1, 10, "0.0.0.0", 47001, "0.0.0.0", 0);
	fill_inetsk(gen_entry(), 12, 52101, 10, 1, 1, "::1", 47001, "::1", 51744);
	fill_inetsk(gen_entry(), 13, 52102, 2, 2, 7, "127.0.0.1", 47002, "0.0.0.0", 0);
	fill_inetsk(gen_entry(), 14, 52103, 10, 2, 7, "2001:db8:0:1::2a", 5353, "ff02::fb", 5353);
	gen_write("inetsk.img");
	/* the established connection's queues: tcp-stream-<inode in hex> */
	gen_image("TCP_STREAM");
	m = gen_entry();
	set_u(m, "inq_len", 0);
	set_u(m, "inq_seq", 365711);
	set_u(m, "outq_len", 6);
	set_u(m, "outq_seq", 981102);
	set_u(m, "opt_mask", 0x7);
	set_u(m, "snd_wscale", 7);
	set_u(m, "mss_clamp", 65476);
	set_u(m, "rcv_wscale", 7);
	set_u(m, "timestamp", 1024);
	set_b(m, "cork", 0);  /* CRIU 2.x kept these here; 4.2 keeps them in the socket's tcp_opts */
	set_b(m, "nodelay", 1);
	gen_extra("hello\n", 6);
	gen_write("tcp-stream-cb85.img");

	gen_image("PACKETSK");
	fill_packetsk(gen_entry(), 15);
	gen_write("packetsk.img");
	gen_image("NETLINK_SK");
	fill_netlinksk(gen_entry(), 16);
	gen_write("netlinksk.img");
	gen_image("EVENTFD_FILE");
	fill_eventfd(gen_entry(), 17, 7);
	gen_write("eventfd.img");

	/* before CRIU 2.6 the epoll targets were an image of their own, by the epoll's id */
	gen_image("EVENTPOLL_FILE");
	fill_eventpoll(gen_entry(), 18, 0);
	gen_write("eventpoll.img");
	gen_image("EVENTPOLL_TFD");
	fill_epoll_tfd(gen_entry(), 18, 4, 0x19);
	fill_epoll_tfd(gen_entry(), 18, 17, 0x1);
	gen_write("eventpoll-tfd.img");

	gen_image("SIGNALFD");
	fill_signalfd(gen_entry(), 19);
	gen_write("signalfd.img");

	/* before CRIU 3.2 inotify watches and fanotify marks were images of their own */
	gen_image("INOTIFY_FILE");
	fill_inotify(gen_entry(), 20, 0);
	gen_write("inotify.img");
	gen_image("INOTIFY_WD");
	fill_inotify_wd(gen_entry(), 20, 1, "/tmp/crsubj");
	fill_inotify_wd(gen_entry(), 20, 2, "/tmp/crsubj/data.txt");
	gen_write("inotify-wd.img");
	gen_image("FANOTIFY_FILE");
	fill_fanotify(gen_entry(), 21, 0);
	gen_write("fanotify.img");
	gen_image("FANOTIFY_MARK");
	fill_fanotify_mark(gen_entry(), 21, 1);
	fill_fanotify_mark(gen_entry(), 21, 0);
	gen_write("fanotify-mark.img");

	gen_image("TIMERFD");
	fill_timerfd(gen_entry(), 22);
	gen_write("timerfd.img");
	gen_image("NS_FILES");
	fill_nsfile(gen_entry(), 23, 3, 0x40000000); /* CLONE_NEWNET */
	gen_write("ns-files.img");
	gen_image("TUNFILE");
	fill_tunfile(gen_entry(), 24, "tun0");
	gen_write("tunfile.img");
	gen_image("EXT_FILES");
	fill_extfile(gen_entry(), 25);
	gen_write("ext-files.img");
}

static void tty_info(void)
{
	struct img_msg *m;

	gen_image("TTY_INFO");
	m = gen_entry();
	set_u(m, "id", 1);
	set_e(m, "type", "PTY");
	set_b(m, "locked", 0);
	set_b(m, "exclusive", 0);
	set_b(m, "packet_mode", 0);
	set_u(m, "sid", 1);
	set_u(m, "pgrp", 1);
	set_u(m, "rdev", 136 << 8);
	set_u(sub(m, "pty"), "index", 0);
	gen_write("tty-info.img");
}

/* until CRIU 3.1: the signal handlers, one entry per signal */
void write_sigacts(uint32_t pid, int head)
{
	char name[32];

	gen_image("SIGACT");
	if (!head)
		gen_no_head();
	for (int s = 1; s <= 64; s++) {
		if (s == 9 || s == 19)
			continue; /* SIGKILL and SIGSTOP have none */
		fill_sigaction(gen_entry(), s);
	}
	snprintf(name, sizeof(name), "sigacts-%u.img", pid);
	gen_write(name);
}

/* until CRIU 2.7: binfmt_misc entries by the superblock's device */
static void binfmt_old(void)
{
	gen_image("BINFMT_MISC_OLD");
	fill_binfmt(gen_entry(), "jar", 1, "/usr/bin/jexec", "", "504b0304", NULL, NULL);
	gen_write("binfmt-misc-27.img");
}

/* before CRIU 3.0: each segment's bytes after its entry, padded to 4 */
static void ipc_shm_inline(void)
{
	static const uint64_t sizes[] = { 100, 4096, 5 };
	uint8_t buf[4096];

	gen_image("IPCNS_SHM");
	for (size_t i = 0; i < 3; i++) {
		struct img_msg *m = gen_entry(), *d = sub(m, "desc");
		size_t n = (sizes[i] + 3) / 4 * 4;

		set_u(d, "key", 0x5eed0030 + (uint32_t)i);
		set_u(d, "uid", 0);
		set_u(d, "gid", 0);
		set_u(d, "cuid", 0);
		set_u(d, "cgid", 0);
		set_u(d, "mode", 0600);
		set_u(d, "id", (uint32_t)i * 32768);
		set_u(m, "size", sizes[i]);
		if (i == 2)
			set_b(m, "in_pagemaps", 0); /* said, but false: the bytes still follow */
		memset(buf, 0, sizeof(buf));
		for (size_t k = 0; k < sizes[i]; k++)
			buf[k] = (uint8_t)("segment-"[k % 8] + i);
		gen_extra(buf, n);
	}
	gen_write("ipcns-shm-11.img");
}

void gen_legacy(void)
{
	static const struct pme pm[] = {
		{ 0x600000, 1, PE_PRESENT },
		{ 0x1000000, 2, PE_PRESENT },
		{ 0x7ffd00001000, 1, PE_PRESENT },
	};

	write_inventory(2, "2.x");
	write_pstree(&subj, 1, ERA_2);
	write_core(&subj, 1, ERA_2);
	write_ids(&subj, ERA_2);
	write_fs(&subj, ERA_2);
	write_mm(&subj, vmas, sizeof(vmas) / sizeof(vmas[0]), ERA_2);
	write_sigacts(1, 1);
	write_pagemap("legacy", 1, pm, 3, ERA_2);
	fdinfo();
	files();
	tty_info();
	binfmt_old();
	ipc_shm_inline();
}
