/*
 * Open files as CRIU describes them: one filler per file type, used for the
 * per-type images CRIU wrote before 3.4 (reg-files.img, inetsk.img, ...) and
 * for the file_entry payloads of files.img that came after.
 */
#include <string.h>

#include "gen.h"

/* one fd of the task's table: the file's id, FD_CLOEXEC, the file type */
struct img_msg *fill_fdinfo(struct img_msg *m, uint32_t id, uint32_t flags, const char *type, uint32_t fd)
{
	set_u(m, "id", id);
	set_u(m, "flags", flags);
	set_e(m, "type", type);
	set_u(m, "fd", fd);
	return m;
}

/* binfmt_misc: an entry matched by magic (with mask) or by extension (magic NULL) */
void fill_binfmt(struct img_msg *m, const char *name, int enabled, const char *interpreter, const char *flags,
		 const char *magic, const char *mask, const char *extension)
{
	set_s(m, "name", name);
	set_b(m, "enabled", enabled);
	set_s(m, "interpreter", interpreter);
	set_s(m, "flags", flags);
	if (magic) {
		set_s(m, "magic", magic);
		if (mask)
			set_s(m, "mask", mask);
		set_i(m, "offset", 0);
	} else
		set_s(m, "extension", extension);
}

void fill_reg(struct img_msg *m, uint32_t id, const char *name, uint32_t flags, uint64_t pos, uint64_t size)
{
	set_u(m, "id", id);
	set_u(m, "flags", flags);
	set_u(m, "pos", pos);
	fill_fown(sub(m, "fown"), 0, 0);
	set_s(m, "name", name);
	if (size) {
		set_i(m, "mnt_id", 1056);
		set_u(m, "size", size);
		set_u(m, "mode", 0100644);
	}
}

void fill_pipe(struct img_msg *m, uint32_t id, uint32_t pipe_id, uint32_t flags)
{
	set_u(m, "id", id);
	set_u(m, "pipe_id", pipe_id);
	set_u(m, "flags", flags);
	fill_fown(sub(m, "fown"), 0, 0);
}

void fill_fifo(struct img_msg *m, uint32_t id, uint32_t pipe_id, uint32_t regf_id)
{
	set_u(m, "id", id);
	set_u(m, "pipe_id", pipe_id);
	set_u(m, "regf_id", regf_id);
}

/* name: the socket's address, which for abstract sockets starts with a NUL (quoted-printable in JSON) */
void fill_unixsk(struct img_msg *m, uint32_t id, uint32_t ino, uint32_t type, uint32_t state, uint32_t peer,
		 const char *name, size_t namelen)
{
	set_u(m, "id", id);
	set_u(m, "ino", ino);
	set_u(m, "type", type);
	set_u(m, "state", state);
	set_u(m, "flags", 02); /* O_RDWR */
	set_u(m, "uflags", 0);
	set_u(m, "backlog", state == 10 ? 4 : 0);
	set_u(m, "peer", peer);
	fill_fown(sub(m, "fown"), 0, 0);
	fill_sk_opts(sub(m, "opts"), 212992, 212992);
	set_bytes(m, "name", name, namelen);
	if (namelen && name[0] == '/') {
		struct img_msg *p = sub(m, "file_perms");

		set_u(p, "mode", 0140755);
		set_u(p, "uid", 1000);
		set_u(p, "gid", 1000);
		set_s(m, "name_dir", "/tmp/crsubj");
	}
	set_u(m, "ns_id", 3);
}

void fill_inetsk(struct img_msg *m, uint32_t id, uint32_t ino, uint32_t family, uint32_t type, uint32_t state,
		 const char *src, uint32_t sport, const char *dst, uint32_t dport)
{
	set_u(m, "id", id);
	set_u(m, "ino", ino);
	set_u(m, "family", family);
	set_u(m, "type", type);
	set_u(m, "proto", type == 1 ? 6 : 17); /* SOCK_STREAM: TCP, else UDP */
	set_u(m, "state", state);
	set_u(m, "src_port", sport);
	set_u(m, "dst_port", dport);
	set_u(m, "flags", 02);
	set_u(m, "backlog", state == 10 ? 128 : 0);
	add_ip(m, "src_addr", src);
	add_ip(m, "dst_addr", dst);
	fill_fown(sub(m, "fown"), 0, 0);
	fill_sk_opts(sub(m, "opts"), 16384, 131072);
	if (family == 10)
		set_b(m, "v6only", 0);
	set_u(sub(m, "ip_opts"), "ttl", 64);
	set_u(m, "ns_id", 3);
	if (type == 1) {
		struct img_msg *t = sub(m, "tcp_opts");

		set_b(t, "nodelay", 1);
		set_u(t, "keepcnt", 9);
		set_u(t, "keepidle", 7200);
		set_u(t, "keepintvl", 75);
	}
}

void fill_packetsk(struct img_msg *m, uint32_t id)
{
	static const uint8_t mac[8] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	struct img_msg *mc, *ring;

	set_u(m, "id", id);
	set_u(m, "type", 3);        /* SOCK_RAW */
	set_u(m, "protocol", 0x300); /* htons(ETH_P_ALL) */
	set_u(m, "flags", 02);
	set_u(m, "ifindex", 2);
	fill_fown(sub(m, "fown"), 0, 0);
	fill_sk_opts(sub(m, "opts"), 212992, 212992);
	set_u(m, "version", 2);     /* TPACKET_V3 */
	set_u(m, "reserve", 0);
	set_b(m, "aux_data", 1);
	set_b(m, "orig_dev", 0);
	set_b(m, "vnet_hdr", 0);
	set_b(m, "loss", 0);
	set_u(m, "timestamp", 0);
	set_u(m, "copy_thresh", 0);
	mc = sub(m, "mclist");
	set_u(mc, "index", 2);
	set_u(mc, "type", 0);       /* PACKET_MR_MULTICAST */
	set_bytes(mc, "addr", mac, 6);
	set_u(m, "fanout", 0x80010007); /* group 7, PACKET_FANOUT_HASH with DEFRAG */
	ring = sub(m, "rx_ring");
	set_u(ring, "block_size", 1 << 22);
	set_u(ring, "block_nr", 64);
	set_u(ring, "frame_size", 1 << 11);
	set_u(ring, "frame_nr", 131072);
	set_u(ring, "retire_tmo", 60);
	set_u(ring, "sizeof_priv", 0);
	set_u(ring, "features", 0);
	set_u(m, "ns_id", 3);
}

void fill_netlinksk(struct img_msg *m, uint32_t id)
{
	set_u(m, "id", id);
	set_u(m, "ino", 51500);
	set_u(m, "protocol", 15);   /* NETLINK_KOBJECT_UEVENT */
	set_u(m, "state", 0);
	set_u(m, "flags", 02);
	set_u(m, "portid", 4237);
	add_u(m, "groups", 1);
	set_u(m, "dst_portid", 0);
	set_u(m, "dst_group", 0);
	fill_fown(sub(m, "fown"), 0, 0);
	fill_sk_opts(sub(m, "opts"), 212992, 212992);
	set_u(m, "ns_id", 3);
}

void fill_eventfd(struct img_msg *m, uint32_t id, uint64_t counter)
{
	set_u(m, "id", id);
	set_u(m, "flags", 04002); /* O_RDWR | O_NONBLOCK */
	fill_fown(sub(m, "fown"), 0, 0);
	set_u(m, "counter", counter);
}

void fill_epoll_tfd(struct img_msg *t, uint32_t epoll_id, uint32_t fd, uint32_t events)
{
	set_u(t, "id", epoll_id);
	set_u(t, "tfd", fd);
	set_u(t, "events", events);
	set_u(t, "data", 0x1122334455667788ull + fd);
	set_u(t, "dev", 15);
	set_u(t, "inode", 51234);
	set_u(t, "pos", 0);
}

void fill_eventpoll(struct img_msg *m, uint32_t id, int with_tfds)
{
	set_u(m, "id", id);
	set_u(m, "flags", 02);
	fill_fown(sub(m, "fown"), 0, 0);
	if (with_tfds) {
		fill_epoll_tfd(sub(m, "tfd"), 0, 3, 0x19);       /* EPOLLIN | EPOLLERR | EPOLLHUP */
		fill_epoll_tfd(sub(m, "tfd"), 0, 4, 0x80000004); /* EPOLLOUT | EPOLLET */
	}
}

void fill_signalfd(struct img_msg *m, uint32_t id)
{
	set_u(m, "id", id);
	set_u(m, "flags", 02);
	fill_fown(sub(m, "fown"), 0, 0);
	set_u(m, "sigmask", (1ull << (10 - 1)) | (1ull << (12 - 1))); /* SIGUSR1, SIGUSR2 */
}

static void fill_fhandle(struct img_msg *fh, const char *path)
{
	set_u(fh, "bytes", 8);
	set_u(fh, "type", 1); /* FILEID_INO32_GEN */
	for (int i = 0; i < 16; i++)
		add_u(fh, "handle", i == 0 ? 0x118f5ab2000a73c1ull : 0);
	set_s(fh, "path", path);
}

void fill_inotify_wd(struct img_msg *w, uint32_t id, uint32_t wd, const char *path)
{
	set_u(w, "id", id);
	set_u(w, "i_ino", 686017 + wd);
	set_u(w, "mask", 0x300 | (wd == 2 ? 0x8 : 0)); /* IN_CREATE | IN_DELETE (| IN_CLOSE_WRITE) */
	set_u(w, "ignored_mask", 0);
	set_u(w, "s_dev", (254u << 20) | 1);
	set_u(w, "wd", wd);
	fill_fhandle(sub(w, "f_handle"), path);
}

void fill_inotify(struct img_msg *m, uint32_t id, int with_wds)
{
	set_u(m, "id", id);
	set_u(m, "flags", 04000); /* O_NONBLOCK */
	fill_fown(sub(m, "fown"), 0, 0);
	if (with_wds) {
		fill_inotify_wd(sub(m, "wd"), id, 1, "/tmp/crsubj");
		fill_inotify_wd(sub(m, "wd"), id, 2, "/tmp/crsubj/data.txt");
	}
}

void fill_fanotify_mark(struct img_msg *k, uint32_t id, int inode)
{
	set_u(k, "id", id);
	set_e(k, "type", inode ? "INODE" : "MOUNT");
	set_u(k, "mflags", 0);
	set_u(k, "mask", inode ? 0x20 : 0x8); /* FAN_OPEN, FAN_CLOSE_WRITE */
	set_u(k, "ignored_mask", 0);
	set_u(k, "s_dev", (254u << 20) | 1);
	if (inode) {
		struct img_msg *ie = sub(k, "ie");

		set_u(ie, "i_ino", 686019);
		fill_fhandle(sub(ie, "f_handle"), "/tmp/crsubj/watched");
	} else {
		struct img_msg *me = sub(k, "me");

		set_u(me, "mnt_id", 1056);
		set_s(me, "path", "/");
	}
}

void fill_fanotify(struct img_msg *m, uint32_t id, int with_marks)
{
	set_u(m, "id", id);
	set_u(m, "flags", 02);
	fill_fown(sub(m, "fown"), 0, 0);
	set_u(m, "faflags", 0x1);   /* FAN_CLOEXEC */
	set_u(m, "evflags", 0x8000); /* O_LARGEFILE */
	if (with_marks) {
		fill_fanotify_mark(sub(m, "mark"), id, 1);
		fill_fanotify_mark(sub(m, "mark"), id, 0);
	}
}

void fill_tty_file(struct img_msg *m, uint32_t id, uint32_t info_id, uint32_t regf_id)
{
	set_u(m, "id", id);
	set_u(m, "tty_info_id", info_id);
	set_u(m, "flags", 0102); /* O_RDWR | O_NOCTTY */
	fill_fown(sub(m, "fown"), 0, 0);
	if (regf_id)
		set_u(m, "regf_id", regf_id);
}

void fill_tunfile(struct img_msg *m, uint32_t id, const char *dev)
{
	set_u(m, "id", id);
	if (dev)
		set_s(m, "netdev", dev);
	set_b(m, "detached", 0);
	set_u(m, "ns_id", 3);
}

void fill_nsfile(struct img_msg *m, uint32_t id, uint32_t ns_id, uint32_t cflag)
{
	set_u(m, "id", id);
	set_u(m, "ns_id", ns_id);
	set_u(m, "ns_cflag", cflag);
	set_u(m, "flags", 0);
}

void fill_timerfd(struct img_msg *m, uint32_t id)
{
	set_u(m, "id", id);
	set_u(m, "flags", 02);
	fill_fown(sub(m, "fown"), 0, 0);
	set_u(m, "clockid", 1); /* CLOCK_MONOTONIC */
	set_u(m, "ticks", 2);
	set_u(m, "settime_flags", 0);
	set_u(m, "vsec", 2);
	set_u(m, "vnsec", 563786469);
	set_u(m, "isec", 3);
	set_u(m, "insec", 0);
}

void fill_extfile(struct img_msg *m, uint32_t id)
{
	set_u(m, "id", id);
	fill_fown(sub(m, "fown"), 0, 0);
}

void fill_pidfd(struct img_msg *m, uint32_t id)
{
	set_u(m, "id", id);
	set_u(m, "ino", 4321);
	set_u(m, "flags", 02000002); /* O_RDWR | O_CLOEXEC */
	set_i(m, "nspid", 2);
	fill_fown(sub(m, "fown"), 0, 0);
}
