/*
 * current/: the kinds CRIU 4.2 writes that the corpus has no example of: a
 * container's cgroups, CPU, mounts (with tmpfs contents), user and pid
 * namespaces, ttys, file locks, autofs, AppArmor, BPF, binfmt_misc, the
 * service images (stats-restore, irmap-cache), and files.img entries of the
 * file types the corpus lacks.
 */
#include <string.h>

#include "gen.h"

static void cgroup_perms(struct img_msg *p, uint32_t mode)
{
	set_u(p, "mode", mode);
	set_u(p, "uid", 0);
	set_u(p, "gid", 0);
}

static void cgroup_prop(struct img_msg *d, const char *name, const char *value)
{
	struct img_msg *p = sub(d, "properties");

	set_s(p, "name", name);
	set_s(p, "value", value);
	cgroup_perms(sub(p, "perms"), 0100644);
}

static void cgroup(void)
{
	struct img_msg *m, *set, *mem, *c, *d, *child;

	gen_image("CGROUP");
	m = gen_entry();
	/* set 1: the container; set 2: a task moved into a child group */
	for (uint32_t id = 1; id <= 2; id++) {
		set = sub(m, "sets");
		set_u(set, "id", id);
		mem = sub(set, "ctls");
		set_s(mem, "name", "cpu,cpuacct");
		set_s(mem, "path", id == 1 ? "/crsubj" : "/crsubj/worker");
		set_u(mem, "cgns_prefix", 7);
		mem = sub(set, "ctls");
		set_s(mem, "name", "memory");
		set_s(mem, "path", "/crsubj");
		set_u(mem, "cgns_prefix", 7);
		mem = sub(set, "ctls");
		set_s(mem, "name", "name=systemd");
		set_s(mem, "path", "/system.slice/crsubj.scope");
	}
	c = sub(m, "controllers");
	add_s(c, "cnames", "cpu");
	add_s(c, "cnames", "cpuacct");
	d = sub(c, "dirs");
	set_s(d, "dir_name", "crsubj");
	cgroup_prop(d, "cpu.shares", "512");
	cgroup_prop(d, "cpu.cfs_period_us", "100000");
	cgroup_prop(d, "cpu.cfs_quota_us", "-1");
	cgroup_perms(sub(d, "dir_perms"), 040755);
	child = sub(d, "children");
	set_s(child, "dir_name", "crsubj/worker");
	cgroup_prop(child, "cpu.shares", "1024");
	cgroup_perms(sub(child, "dir_perms"), 040755);
	c = sub(m, "controllers");
	add_s(c, "cnames", "memory");
	d = sub(c, "dirs");
	set_s(d, "dir_name", "crsubj");
	cgroup_prop(d, "memory.limit_in_bytes", "268435456");
	cgroup_prop(d, "memory.swappiness", "60");
	cgroup_perms(sub(d, "dir_perms"), 040755);
	c = sub(m, "controllers");
	add_s(c, "cnames", "name=systemd");
	set_b(c, "is_threaded", 0);
	gen_write("cgroup.img");
}

static void cpuinfo(void)
{
	/* x86 feature words (NCAPINTS) as the kernel's cpufeatures list them, of a Skylake laptop */
	static const uint64_t caps[] = { 0xbfebfbff, 0x2c100800, 0, 0x1d3fb, 0x7ffafbbf, 0, 0x121, 0x28c9,
					 0x29c67af, 0, 0xf, 0, 0, 0x4, 0, 0, 0x400, 0, 0x9c002400, 0, 0 };
	struct img_msg *m, *x;

	gen_image("CPUINFO");
	m = gen_entry();
	x = sub(m, "x86_entry");
	set_e(x, "vendor_id", "INTEL");
	set_u(x, "cpu_family", 6);
	set_u(x, "model", 142);
	set_u(x, "stepping", 10);
	set_u(x, "capability_ver", 2);
	add_us(x, "capability", caps, sizeof(caps) / sizeof(caps[0]));
	set_s(x, "model_id", "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz");
	set_u(x, "xfeatures_mask", 0x1f);
	set_u(x, "xsave_size", 1088);
	set_u(x, "xsave_size_max", 1088);
	gen_write("cpuinfo.img");
}

static void mounts(void)
{
	static const struct {
		uint32_t fstype, mnt_id, maj, min, parent, flags, sb_flags, shared;
		const char *root, *mountpoint, *source, *options;
	} mnt[] = {
		{ 17, 1056, 0, 48, 1055, 0, 0, 0, "/", "/", "overlay",
		  "lowerdir=/var/lib/c/l/A:/var/lib/c/l/B,upperdir=/var/lib/c/u,workdir=/var/lib/c/w" },
		{ 1, 1057, 0, 51, 1056, 0xe, 0, 0, "/", "/proc", "proc", "" },
		{ 5, 1058, 0, 52, 1056, 0x2, 0, 0, "/", "/dev", "tmpfs", "size=65536k,mode=755" },
		{ 6, 1059, 0, 53, 1058, 0xa, 0, 0, "/", "/dev/pts", "devpts",
		  "gid=5,mode=620,ptmxmode=666" },
		{ 2, 1060, 0, 54, 1056, 0xf, 0, 0, "/", "/sys", "sysfs", "" },
		{ 5, 1061, 0, 55, 1058, 0xe, 0, 0, "/", "/dev/shm", "shm", "size=65536k" },
		{ 5, 1062, 0, 56, 1056, 0x6, 0, 1, "/", "/tmp", "tmpfs", "size=16384k" },
		{ 14, 1063, 0, 50, 1056, 0xe, 0, 0, "/", "/dev/mqueue", "mqueue", "" },
		{ 0, 1064, 254, 1, 1056, 0x1000, 0, 0, "/srv/data", "/data", "/dev/mapper/vg-data", "" },
	};
	struct img_msg *m;

	gen_image("MNTS");
	for (size_t i = 0; i < sizeof(mnt) / sizeof(mnt[0]); i++) {
		m = gen_entry();
		set_u(m, "fstype", mnt[i].fstype);
		set_u(m, "mnt_id", mnt[i].mnt_id);
		set_u(m, "root_dev", (mnt[i].maj << 20) | mnt[i].min);
		set_u(m, "parent_mnt_id", mnt[i].parent);
		set_u(m, "flags", mnt[i].flags);
		set_s(m, "root", mnt[i].root);
		set_s(m, "mountpoint", mnt[i].mountpoint);
		set_s(m, "source", mnt[i].source);
		set_s(m, "options", mnt[i].options);
		if (mnt[i].shared)
			set_u(m, "shared_id", 321);
		if (mnt[i].fstype == 0) { /* a bind mount of the host, given with --external */
			set_b(m, "ext_mount", 1);
			set_s(m, "fsname", "ext4");
			set_s(m, "ext_key", "data");
		}
		set_u(m, "sb_flags", i == 1 ? 0 : 0x8); /* MS_NOEXEC on the superblock of most */
	}
	gen_write("mountpoints-6.img");

	/* tmpfs contents: a tar.gz of /tmp (tmpfs-MNT_ID) and of /dev (tmpfs-dev-S_DEV) */
	{
		static const char note[] = "kept in a tmpfs\n";
		static const struct tar_member tmp[] = {
			{ "./", '5', 01777, 0, 0, "", 0 },
			{ "./note.txt", '0', 0644, 0, 0, note, sizeof(note) - 1 },
		};
		static const struct tar_member dev[] = {
			{ "./", '5', 0755, 0, 0, "", 0 },
			{ "./null", '3', 0666, 1, 3, "", 0 },
			{ "./pts/", '5', 0755, 0, 0, "", 0 },
		};
		static uint8_t tgz[10240 + 64];

		gen_image("TMPFS_IMG");
		gen_raw(tgz, make_tar_gz(tgz, sizeof(tgz), tmp, 2));
		gen_write("tmpfs-1062.tar.gz.img");
		gen_image("TMPFS_DEV");
		gen_raw(tgz, make_tar_gz(tgz, sizeof(tgz), dev, 3));
		gen_write("tmpfs-dev-52.tar.gz.img");
	}
}

static void userns(void)
{
	struct img_msg *m, *e;

	gen_image("USERNS");
	m = gen_entry();
	for (int g = 0; g < 2; g++) {
		e = sub(m, g ? "gid_map" : "uid_map");
		set_u(e, "first", 0);
		set_u(e, "lower_first", 100000);
		set_u(e, "count", 65536);
	}
	gen_write("userns-7.img");

	gen_image("PIDNS");
	set_s(gen_entry(), "ext_key", "pidns-of-the-pod");
	gen_write("pidns-2.img");
}

static void termios(struct img_msg *t)
{
	static const uint64_t cc[] = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0 };

	set_u(t, "c_iflag", 0x500);  /* ICRNL | IXON */
	set_u(t, "c_oflag", 0x5);    /* OPOST | ONLCR */
	set_u(t, "c_cflag", 0xbf);   /* B38400 | CS8 | CREAD */
	set_u(t, "c_lflag", 0x8a3b); /* ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN */
	set_u(t, "c_line", 0);
	set_u(t, "c_ispeed", 38400);
	set_u(t, "c_ospeed", 38400);
	add_us(t, "c_cc", cc, sizeof(cc) / sizeof(cc[0]));
}

static void ttys(void)
{
	static const char unread[] = "ls -l\r\x1b[A";
	struct img_msg *m, *w;

	gen_image("TTY_INFO");
	for (uint32_t id = 1; id <= 2; id++) {
		m = gen_entry();
		set_u(m, "id", id);
		set_e(m, "type", id == 1 ? "PTY" : "CONSOLE");
		set_b(m, "locked", 0);
		set_b(m, "exclusive", 0);
		set_b(m, "packet_mode", 0);
		set_u(m, "sid", id == 1 ? 1 : 0);
		set_u(m, "pgrp", id == 1 ? 1 : 0);
		set_u(m, "rdev", id == 1 ? (136 << 8) : (5 << 8) | 1);
		termios(sub(m, "termios"));
		termios(sub(m, "termios_locked"));
		w = sub(m, "winsize");
		set_u(w, "ws_row", 24);
		set_u(w, "ws_col", 80);
		set_u(w, "ws_xpixel", 0);
		set_u(w, "ws_ypixel", 0);
		if (id == 1) {
			set_u(sub(m, "pty"), "index", 0);
			set_u(m, "dev", 53);
			set_u(m, "uid", 1000);
			set_u(m, "gid", 5);
		}
	}
	gen_write("tty-info.img");

	/* what was typed and not read yet: kept inside the entry, not after it */
	gen_image("TTY_DATA");
	m = gen_entry();
	set_u(m, "tty_id", 1);
	set_bytes(m, "data", unread, sizeof(unread) - 1);
	gen_write("tty-data.img");
}

static void filelocks(void)
{
	static const struct {
		uint32_t flag, type;
		int32_t pid, fd;
		int64_t start, len;
	} l[] = {
		{ 1, 1, 1, 3, 0, 0 },        /* FL_POSIX F_WRLCK, the whole file */
		{ 1, 0, 1, 4, 100, 50 },     /* FL_POSIX F_RDLCK, bytes 100..149 */
		{ 2, 1, 1, 5, 0, -1 },       /* FL_FLOCK LOCK_EX */
		{ 1024, 1, -1, 6, 4096, 4096 }, /* FL_OFDLCK: no owning pid */
	};

	gen_image("FILE_LOCKS");
	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		struct img_msg *m = gen_entry();

		set_u(m, "flag", l[i].flag);
		set_u(m, "type", l[i].type);
		set_i(m, "pid", l[i].pid);
		set_i(m, "fd", l[i].fd);
		set_i(m, "start", l[i].start);
		set_i(m, "len", l[i].len);
	}
	gen_write("filelocks.img");
}

static void autofs(void)
{
	struct img_msg *m;

	gen_image("AUTOFS");
	m = gen_entry();
	set_i(m, "fd", 5);
	set_i(m, "pgrp", 1);
	set_i(m, "timeout", 300);
	set_i(m, "minproto", 3);
	set_i(m, "maxproto", 5);
	set_i(m, "mode", 1); /* AUTOFS_MODE_INDIRECT */
	set_i(m, "uid", 0);
	set_i(m, "gid", 0);
	set_i(m, "read_fd", 4);
	gen_write("autofs-1065.img");
}

static void apparmor(void)
{
	uint8_t blob[96];
	struct img_msg *m, *ns, *p, *child;

	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 11 + 4);
	memcpy(blob, "\x04\x08\x00version", 10);
	gen_image("APPARMOR");
	m = gen_entry();
	ns = sub(m, "namespaces");
	set_s(ns, "name", "crsubj");
	p = sub(ns, "policies");
	set_s(p, "name", "crsubj-default");
	set_bytes(p, "blob", blob, sizeof(blob));
	child = sub(ns, "namespaces");
	set_s(child, "name", "crsubj//nested");
	p = sub(child, "policies");
	set_s(p, "name", "worker");
	set_bytes(p, "blob", blob, 40);
	gen_write("apparmor.img");
}

static void binfmt_misc(void)
{
	gen_image("BINFMT_MISC");
	fill_binfmt(gen_entry(), "qemu-aarch64", 1, "/usr/bin/qemu-aarch64-static", "OCF",
		    "7f454c460201010000000000000000000200b700", "ffffffffffffff00fffffffffffffffffeffffff", NULL);
	fill_binfmt(gen_entry(), "python-zipapp", 0, "/usr/bin/python3", "", NULL, NULL, "pyz");
	gen_write("binfmt-misc.img");
}

static void service(void)
{
	struct img_msg *m, *r;

	gen_image("STATS");
	m = gen_entry();
	r = sub(m, "restore");
	set_u(r, "pages_compared", 0);
	set_u(r, "pages_skipped_cow", 0);
	set_u(r, "forking_time", 1234);
	set_u(r, "restore_time", 56789);
	set_u(r, "pages_restored", 31);
	gen_write("stats-restore");

	gen_image("IRMAP_CACHE");
	m = gen_entry();
	set_u(m, "dev", 0x801); /* 8:1, old encoding */
	set_u(m, "inode", 1310722);
	set_s(m, "path", "/tmp/crsubj");
	m = gen_entry();
	set_u(m, "dev", 0x801);
	set_u(m, "inode", 1310745);
	set_s(m, "path", "/tmp/crsubj/watched");
	gen_write("irmap-cache");
}

/* pidfd.img: CRIU 4.2 still has the kind, beside the pidfd payload of files.img */
static void pidfd(void)
{
	gen_image("PIDFD");
	fill_pidfd(gen_entry(), 45);
	gen_write("pidfd.img");
}

/* files.img entries of the types the corpus has none of, and the fd table that uses them */
static void files(void)
{
	static const char abstract[] = "\0crsubj-abstract=\x7f";
	static const struct {
		const char *type;
		uint32_t fd;
	} fds[] = { { "FIFO", 3 }, { "INETSK", 4 }, { "INETSK", 5 }, { "UNIXSK", 6 }, { "PACKETSK", 7 },
		    { "NETLINKSK", 8 }, { "NS", 9 }, { "TUNF", 10 }, { "FANOTIFY", 11 }, { "EXT", 12 },
		    { "TTY", 13 }, { "BPFMAP", 14 }, { "PIDFD", 15 }, { "REG", 16 } };
	struct img_msg *m, *f;
	uint32_t id = 30;

	gen_image("FILES");
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++, id++) {
		m = gen_entry();
		set_e(m, "type", fds[i].type);
		set_u(m, "id", id);
		switch (i) {
		case 0: fill_fifo(sub(m, "fifo"), id, 52001, 43); break;
		case 1: fill_inetsk(sub(m, "isk"), id, 52010, 10, 1, 1, "::ffff:127.0.0.1", 47010,
				    "::ffff:127.0.0.1", 51744); break;
		case 2: fill_inetsk(sub(m, "isk"), id, 52011, 10, 2, 7, "fe80::1c2d:3eff:fe4f:5a6b", 5353,
				    "::", 0); break;
		case 3: fill_unixsk(sub(m, "usk"), id, 52012, 2, 7, 0, abstract, sizeof(abstract) - 1); break;
		case 4: fill_packetsk(sub(m, "psk"), id); break;
		case 5: fill_netlinksk(sub(m, "nlsk"), id); break;
		case 6: fill_nsfile(sub(m, "nsf"), id, 3, 0x40000000); break; /* CLONE_NEWNET */
		case 7: fill_tunfile(sub(m, "tunf"), id, "tun0"); break;
		case 8: fill_fanotify(sub(m, "ffy"), id, 1); break;
		case 9: fill_extfile(sub(m, "ext"), id); break;
		case 10: fill_tty_file(sub(m, "tty"), id, 1, 44); break;
		case 11:
			f = sub(m, "bpf");
			set_u(f, "id", id);
			set_u(f, "flags", 02);
			set_u(f, "pos", 0);
			fill_fown(sub(f, "fown"), 0, 0);
			set_u(f, "map_type", 1);
			set_u(f, "key_size", 4);
			set_u(f, "value_size", 8);
			set_u(f, "map_id", 47);
			set_u(f, "max_entries", 64);
			set_u(f, "map_flags", 0);
			set_u(f, "memlock", 4096);
			set_b(f, "frozen", 0);
			set_s(f, "map_name", "crsubj_hash");
			set_u(f, "ifindex", 0);
			break;
		case 12: fill_pidfd(sub(m, "pidfd"), id); break;
		case 13: fill_reg(sub(m, "reg"), id, "/dev/pts/0", 0102, 0, 0); break;
		}
	}
	/* the files the fifo and the tty were opened through */
	m = gen_entry();
	set_e(m, "type", "REG");
	set_u(m, "id", 43);
	fill_reg(sub(m, "reg"), 43, "/tmp/crsubj/fifo", 0, 0, 0);
	m = gen_entry();
	set_e(m, "type", "REG");
	set_u(m, "id", 44);
	fill_reg(sub(m, "reg"), 44, "/dev/pts/0", 0102, 0, 0);
	gen_write("files.img");

	gen_image("FDINFO");
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		fill_fdinfo(gen_entry(), 30 + (uint32_t)i, i == 11, fds[i].type, fds[i].fd); /* FD_CLOEXEC: the BPF map */
	}
	gen_write("fdinfo-1.img");
}

void gen_current(void)
{
	write_inventory(2, NULL);
	cgroup();
	cpuinfo();
	mounts();
	userns();
	ttys();
	filelocks();
	autofs();
	apparmor();
	binfmt_misc();
	service();
	files();
	pidfd();
}
