/*
 * extras/: a CRIU 4.2 dump of a process in its own IPC namespace, with every
 * kind of raw payload CRIU writes after an entry (criu/pipes.c, sk-queue.c,
 * sk-tcp.c, bpfmap.c, ipc_ns.c, files-reg.c): pipe and fifo contents, queued
 * packets, TCP queues, BPF map contents, semaphores, message queues, SysV
 * shared memory, and ghost files written in chunks.
 */
#include <string.h>

#include "gen.h"

static void pipes(const char *kind, const char *file)
{
	static const char left[] = "data that was left in the pipe";
	static const char fifo[] = "bytes nobody read from the fifo";
	uint8_t big[4096 + 17];
	struct img_msg *m;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	gen_image(kind);
	if (!strcmp(kind, "FIFO_DATA")) {
		m = gen_entry();
		set_u(m, "pipe_id", 51301);
		set_u(m, "bytes", sizeof(fifo) - 1);
		set_u(m, "size", 65536);
		gen_extra(fifo, sizeof(fifo) - 1);
	} else {
		m = gen_entry();
		set_u(m, "pipe_id", 51234);
		set_u(m, "bytes", sizeof(left) - 1);
		set_u(m, "size", 65536);
		gen_extra(left, sizeof(left) - 1);
		/* an empty pipe: CRIU writes the entry with no data */
		m = gen_entry();
		set_u(m, "pipe_id", 51240);
		set_u(m, "bytes", 0);
		set_u(m, "size", 65536);
		gen_extra("", 0);
		/* a pipe grown with F_SETPIPE_SZ, holding more than a page of binary data */
		m = gen_entry();
		set_u(m, "pipe_id", 51242);
		set_u(m, "bytes", sizeof(big));
		set_u(m, "size", 1048576);
		gen_extra(big, sizeof(big));
	}
	gen_write(file);
}

static void sk_queues(void)
{
	static const char q1[] = "queued on a unix socket", q2[] = "two fds";
	uint8_t dgram[212];
	struct img_msg *m, *scm;

	for (size_t i = 0; i < sizeof(dgram); i++)
		dgram[i] = (uint8_t)(0xff - i);
	gen_image("SK_QUEUES");
	m = gen_entry();
	set_u(m, "id_for", 14);
	set_u(m, "length", sizeof(q1) - 1);
	gen_extra(q1, sizeof(q1) - 1);
	m = gen_entry();
	set_u(m, "id_for", 14);
	set_u(m, "length", 1);
	gen_extra("\0", 1);
	/* a message that carried file descriptors (SCM_RIGHTS): the files by id */
	m = gen_entry();
	set_u(m, "id_for", 16);
	set_u(m, "length", sizeof(q2) - 1);
	scm = sub(m, "scm");
	set_u(scm, "type", 1);
	add_u(scm, "rights", 7);
	add_u(scm, "rights", 8);
	gen_extra(q2, sizeof(q2) - 1);
	m = gen_entry();
	set_u(m, "id_for", 18);
	set_u(m, "length", sizeof(dgram));
	gen_extra(dgram, sizeof(dgram));
	gen_write("sk-queues.img");
}

/* criu/sk-tcp.c dump_tcp_conn_state: the entry, then the receive queue, then the send queue */
static void tcp_streams(void)
{
	static const char inq[] = "GET / HTTP/1.", outq[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	uint8_t both[sizeof(inq) - 1 + sizeof(outq) - 1];
	struct img_msg *m;

	memcpy(both, inq, sizeof(inq) - 1);
	memcpy(both + sizeof(inq) - 1, outq, sizeof(outq) - 1);
	gen_image("TCP_STREAM");
	m = gen_entry();
	set_u(m, "inq_len", sizeof(inq) - 1);
	set_u(m, "inq_seq", 2841956725u);
	set_u(m, "outq_len", sizeof(outq) - 1);
	set_u(m, "outq_seq", 1047263410u);
	set_u(m, "opt_mask", 0x7); /* TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE */
	set_u(m, "snd_wscale", 7);
	set_u(m, "mss_clamp", 65483);
	set_u(m, "rcv_wscale", 7);
	set_u(m, "timestamp", 3062834711u);
	set_u(m, "unsq_len", 0);
	set_u(m, "snd_wl1", 2841956712u);
	set_u(m, "snd_wnd", 65483);
	set_u(m, "max_window", 65483);
	set_u(m, "rcv_wnd", 65536);
	set_u(m, "rcv_wup", 2841956712u);
	gen_extra(both, sizeof(both));
	gen_write("tcp-stream-ab5f.img");

	/* a connection with nothing queued: no bytes follow */
	gen_image("TCP_STREAM");
	m = gen_entry();
	set_u(m, "inq_len", 0);
	set_u(m, "inq_seq", 1000001);
	set_u(m, "outq_len", 0);
	set_u(m, "outq_seq", 2000002);
	set_u(m, "opt_mask", 0x3);
	set_u(m, "snd_wscale", 0);
	set_u(m, "mss_clamp", 1460);
	set_u(m, "timestamp", 77);
	set_u(m, "unsq_len", 0);
	gen_extra("", 0);
	gen_write("tcp-stream-ab60.img");
}

static void bpfmaps(void)
{
	static const struct {
		uint32_t id, map_id, type, key, value, max, count, frozen;
		const char *name;
	} maps[] = {
		{ 30, 47, 1, 4, 8, 64, 3, 0, "crsubj_hash" },   /* BPF_MAP_TYPE_HASH */
		{ 31, 48, 2, 4, 16, 4, 4, 1, "crsubj_array" },  /* BPF_MAP_TYPE_ARRAY, frozen */
	};
	struct img_msg *m;

	gen_image("BPFMAP_FILE");
	for (size_t i = 0; i < 2; i++) {
		m = gen_entry();
		set_u(m, "id", maps[i].id);
		set_u(m, "flags", 02);
		set_u(m, "pos", 0);
		fill_fown(sub(m, "fown"), 0, 0);
		set_u(m, "map_type", maps[i].type);
		set_u(m, "key_size", maps[i].key);
		set_u(m, "value_size", maps[i].value);
		set_u(m, "map_id", maps[i].map_id);
		set_u(m, "max_entries", maps[i].max);
		set_u(m, "map_flags", 0);
		set_u(m, "memlock", 4096);
		set_b(m, "frozen", maps[i].frozen);
		set_s(m, "map_name", maps[i].name);
		set_u(m, "ifindex", 0);
		set_i(m, "mnt_id", 22);
		set_u(m, "map_extra", 0);
	}
	gen_write("bpfmap-file.img");

	/* criu/bpfmap.c: all keys, then all values */
	gen_image("BPFMAP_DATA");
	for (size_t i = 0; i < 2; i++) {
		uint8_t buf[256];
		size_t kb = maps[i].key * maps[i].count, vb = maps[i].value * maps[i].count;

		for (uint32_t k = 0; k < maps[i].count; k++)
			img_put_u32(buf + 4 * k, i ? k : 1000 + 17 * k);
		for (size_t v = 0; v < vb; v++)
			buf[kb + v] = (uint8_t)(v * 13 + i);
		m = gen_entry();
		set_u(m, "map_id", maps[i].map_id);
		set_u(m, "keys_bytes", kb);
		set_u(m, "values_bytes", vb);
		set_u(m, "count", maps[i].count);
		gen_extra(buf, kb + vb);
	}
	gen_write("bpfmap-data.img");
}

static void ipc_desc(struct img_msg *d, uint32_t key, uint32_t mode, uint32_t id)
{
	set_u(d, "key", key);
	set_u(d, "uid", 1000);
	set_u(d, "gid", 1000);
	set_u(d, "cuid", 1000);
	set_u(d, "cgid", 1000);
	set_u(d, "mode", mode);
	set_u(d, "id", id);
}

/* criu/ipc_ns.c: nsems u16 values, padded with zeros to 8 bytes */
static void ipc_sem(void)
{
	static const uint16_t sets[3][5] = { { 1, 0, 7 }, { 0, 1, 2, 3 }, { 65535, 32767, 0, 12, 1 } };
	static const uint32_t nsems[3] = { 3, 4, 5 }, keys[3] = { 0x5eed0001, 0x5eed0002, 0 };
	struct img_msg *m;

	gen_image("IPCNS_SEM");
	for (int i = 0; i < 3; i++) {
		uint8_t buf[16] = { 0 };

		m = gen_entry();
		ipc_desc(sub(m, "desc"), keys[i], i == 1 ? 0666 : 0600, (uint32_t)i);
		set_u(m, "nsems", nsems[i]);
		for (uint32_t k = 0; k < nsems[i]; k++)
			img_put_u16(buf + 2 * k, sets[i][k]);
		gen_extra(buf, (2 * nsems[i] + 7) / 8 * 8);
	}
	gen_write("ipcns-sem-11.img");
}

/* criu/ipc_ns.c: per message a u32 size, an ipc_msg, and the text padded with zeros to 8 bytes */
static void ipc_msg(void)
{
	static const struct {
		uint64_t mtype;
		const char *text;
	} q[] = { { 1, "hello" }, { 2, "8 bytes!" }, { 42, "a longer message." } };
	struct img_msg *m;
	uint8_t buf[256];
	size_t n = 0;

	gen_image("IPCNS_MSG");
	m = gen_entry();
	ipc_desc(sub(m, "desc"), 0x5eed0010, 0644, 0);
	set_u(m, "qbytes", 16384);
	set_u(m, "qnum", 3);
	/* the ipc_msg headers are encoded by the writer too: a one-entry image of their own */
	for (size_t i = 0; i < 3; i++) {
		struct img_arena a;
		struct img_buf b;
		size_t len = strlen(q[i].text), at;
		struct img_msg *pm;

		img_arena_init(&a);
		img_buf_init(&b);
		pm = img_msg_new(&a, img_schema_msg(img_schema_builtin(), "ipc_msg"));
		img_msg_set_u64(&a, pm, "mtype", q[i].mtype);
		img_msg_set_u64(&a, pm, "msize", len);
		img_pb_encode(pm, &b);
		img_put_u32(buf + n, (uint32_t)b.len);
		memcpy(buf + n + 4, b.data, b.len);
		at = n + 4 + b.len;
		memset(buf + at, 0, (len + 7) / 8 * 8);
		memcpy(buf + at, q[i].text, len);
		n = at + (len + 7) / 8 * 8;
		img_buf_free(&b);
		img_arena_free(&a);
	}
	gen_extra(buf, n);
	/* an empty queue */
	m = gen_entry();
	ipc_desc(sub(m, "desc"), 0x5eed0011, 0600, 1);
	set_u(m, "qbytes", 16384);
	set_u(m, "qnum", 0);
	gen_extra("", 0);
	gen_write("ipcns-msg-11.img");
}

/*
 * SysV shared memory as CRIU writes it since 3.0: in_pagemaps, no bytes after
 * the entry; the contents are in pagemap-shmem-<id>.img and its pages.
 */
static void ipc_shm(void)
{
	static const struct {
		uint32_t key, id, pages_id;
		uint64_t size;
	} seg[] = { { 0x5eed0020, 0, 1, 8192 }, { 0x5eed0021, 32769, 2, 100 } };
	struct img_msg *m;
	char name[64];

	gen_image("IPCNS_SHM");
	for (int i = 0; i < 2; i++) {
		m = gen_entry();
		ipc_desc(sub(m, "desc"), seg[i].key, 0600, seg[i].id);
		set_u(m, "size", seg[i].size);
		set_b(m, "in_pagemaps", 1);
	}
	gen_write("ipcns-shm-11.img");
	for (int i = 0; i < 2; i++) {
		uint64_t np = (seg[i].size + 4095) / 4096;
		uint8_t page[4096];

		gen_image("SHMEM_PAGEMAP");
		set_u(gen_entry_of("pagemap_head"), "pages_id", seg[i].pages_id);
		m = gen_entry();
		set_u(m, "vaddr", 0);
		set_u(m, "compat_nr_pages", 0);
		set_u(m, "flags", 4); /* PE_PRESENT */
		set_u(m, "nr_pages", np);
		snprintf(name, sizeof(name), "pagemap-shmem-%u.img", seg[i].id);
		gen_write(name);
		gen_image("PAGES");
		{
			uint8_t pages[2 * 4096];

			for (uint64_t p = 0; p < np; p++) {
				fill_page(page, "sysv-shm", (unsigned)p, seg[i].id);
				memcpy(pages + p * 4096, page, 4096);
			}
			gen_raw(pages, np * 4096);
		}
		snprintf(name, sizeof(name), "pages-%u.img", seg[i].pages_id);
		gen_write(name);
	}
}

static void ipc_var(void)
{
	static const uint64_t sem_ctls[] = { 32000, 1024000000, 500, 32000 };
	struct img_msg *m;

	gen_image("IPC_VAR");
	m = gen_entry();
	add_us(m, "sem_ctls", sem_ctls, 4);
	set_u(m, "msg_ctlmax", 8192);
	set_u(m, "msg_ctlmnb", 16384);
	set_u(m, "msg_ctlmni", 32000);
	set_u(m, "auto_msgmni", 0);
	set_u(m, "shm_ctlmax", 18446744073692774399ull);
	set_u(m, "shm_ctlall", 18446744073692774399ull);
	set_u(m, "shm_ctlmni", 4096);
	set_u(m, "shm_rmid_forced", 0);
	set_u(m, "mq_queues_max", 256);
	set_u(m, "mq_msg_max", 10);
	set_u(m, "mq_msgsize_max", 8192);
	set_u(m, "mq_msg_default", 10);
	set_u(m, "mq_msgsize_default", 8192);
	set_u(m, "msg_next_id", 4294967295u);
	set_u(m, "sem_next_id", 4294967295u);
	set_u(m, "shm_next_id", 4294967295u);
	gen_write("ipcns-var-11.img");
}

static void ghost_head(struct img_msg *m, uint32_t mode, uint64_t ino)
{
	struct img_msg *t;

	set_u(m, "uid", 1000);
	set_u(m, "gid", 1000);
	set_u(m, "mode", mode);
	set_u(m, "dev", (254u << 20) | 1); /* the kernel's encoding: major 254, minor 1 */
	set_u(m, "ino", ino);
	t = sub(m, "atim");
	set_u(t, "tv_sec", 1795969170);
	set_u(t, "tv_usec", 104775);
	t = sub(m, "mtim");
	set_u(t, "tv_sec", 1795969171);
	set_u(t, "tv_usec", 5);
}

/* criu/files-reg.c dump_ghost_file: files of 12 KiB and more go in chunks of data (holes left out) */
static void ghosts(void)
{
	static uint8_t data[4096 + 3000];
	struct img_msg *m;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = i < 4096 ? (uint8_t)"deleted but open\n"[i % 17] : (uint8_t)(i * 5);
	gen_image("GHOST_FILE");
	m = gen_entry();
	ghost_head(m, 0100644, 1310722);
	set_b(m, "chunks", 1);
	set_u(m, "size", 1048576 + 3000);
	m = gen_entry_of("ghost_chunk_entry");
	set_u(m, "len", 4096);
	set_u(m, "off", 0);
	gen_extra(data, 4096);
	m = gen_entry_of("ghost_chunk_entry");
	set_u(m, "len", 3000);
	set_u(m, "off", 1048576);
	gen_extra(data + 4096, 3000);
	gen_write("ghost-file-1a.img");

	/* a sparse file with no data at all: the head and no chunk */
	gen_image("GHOST_FILE");
	m = gen_entry();
	ghost_head(m, 0100600, 1310723);
	set_b(m, "chunks", 1);
	set_u(m, "size", 16384);
	gen_write("ghost-file-1b.img");

	/* a deleted symlink: its target, no contents */
	gen_image("GHOST_FILE");
	m = gen_entry();
	ghost_head(m, 0120777, 1310724);
	set_s(m, "symlnk_target", "/tmp/crsubj/target of a deleted link");
	gen_extra("", 0);
	gen_write("ghost-file-1c.img");

	/* a deleted device node: rdev in the old (glibc) encoding, no contents */
	gen_image("GHOST_FILE");
	m = gen_entry();
	ghost_head(m, 020666, 1310725);
	set_u(m, "rdev", 0x103); /* makedev(1, 3): /dev/null */
	gen_extra("", 0);
	gen_write("ghost-file-1d.img");
}

void gen_extras(void)
{
	write_inventory(2, NULL);
	pipes("PIPES_DATA", "pipes-data.img");
	pipes("FIFO_DATA", "fifo-data.img");
	sk_queues();
	tcp_streams();
	bpfmaps();
	ipc_var();
	ipc_sem();
	ipc_msg();
	ipc_shm();
	ghosts();
}
