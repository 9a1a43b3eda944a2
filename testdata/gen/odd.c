/*
 * odd/: what a reader meets when the writer knew more than its schema, and
 * images that are not quite images:
 *
 *   inventory.img, fdinfo-1.img, files.img, timens-5.img
 *       written with testdata/schema-next (a "next" CRIU): fields, an enum
 *       value and a whole message that schemas/criu does not know.  They must
 *       decode, keep those bytes, and encode back the same.
 *   sk-queues.img, pagemap-2.img
 *       empty: the magic alone, and a pagemap with its head and no entry.
 *   criu.kdat
 *       the kerndat cache (/run/criu.kdat): the KDAT magic, then CRIU's
 *       struct kerndat_s as it is in memory; not an image.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

static const struct img_schema *next;

static void load_next(void)
{
	char dir[4096];
	struct img_err e = { 0 };
	struct img_schema *s;

	snprintf(dir, sizeof(dir), "%s/schema-next", gen_data);
	if (img_schema_load_dir(dir, &s, &e)) {
		fprintf(stderr, "imggen: cannot load '%s': %s\n", e.subject, e.msg);
		exit(1);
	}
	next = s;
}

static void next_fown(struct img_msg *f, uint64_t owner)
{
	fill_fown(f, 1000, 0);
	if (owner)
		set_u(f, "owner_ino", owner);
}

static void unknown_fields(void)
{
	static const uint8_t digest[32] = { 0x5a, 0x17, 0xc0, 0xde, [31] = 0x99 };
	struct img_msg *m, *ids, *u, *t;

	gen_image_schema(next, "INVENTORY");
	m = gen_entry();
	set_u(m, "img_version", 2);
	set_b(m, "fdinfo_per_id", 1);
	ids = sub(m, "root_ids");
	set_u(ids, "vm_id", 1);
	set_u(ids, "files_id", 1);
	set_u(ids, "fs_id", 1);
	set_u(ids, "sighand_id", 1);
	set_b(m, "ns_per_id", 1);
	set_e(m, "lsmtype", "SMACK"); /* a value the enum does not have yet */
	set_u(m, "dump_uptime", 86413250000ull);
	set_u(m, "network_lock_method", 1);
	sub(m, "plugins_entry");
	set_s(m, "dump_criu_run_id", "0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b");
	set_s(m, "dump_host", "node-7");
	set_u(m, "page_size", 4096);
	set_u(m, "started_at", 1795969170000000000ull);
	gen_write("inventory.img");

	/* an fd of a type the enum lacks, between known fields, and a new field at the end */
	gen_image_schema(next, "FDINFO");
	fill_fdinfo(gen_entry(), 1, 0, "REG", 0);
	set_u(fill_fdinfo(gen_entry(), 2, 1, "IO_URING", 3), "pidfs_ino", 0x1000000000000007ull);
	gen_write("fdinfo-1.img");

	/* a known entry with unknown fields nested two deep, and an entry of an unknown type */
	gen_image_schema(next, "FILES");
	m = gen_entry();
	set_e(m, "type", "REG");
	set_u(m, "id", 1);
	t = sub(m, "reg");
	set_u(t, "id", 1);
	set_u(t, "flags", 0100002);
	set_u(t, "pos", 0);
	next_fown(sub(t, "fown"), 77);
	set_s(t, "name", "/tmp/crsubj/verity.bin");
	set_i(t, "mnt_id", 1056);
	set_u(t, "size", 1 << 20);
	set_u(t, "mode", 0100444);
	set_bytes(t, "verity_digest", digest, sizeof(digest));
	m = gen_entry();
	set_e(m, "type", "IO_URING");
	set_u(m, "id", 2);
	u = sub(m, "io_uring");
	set_u(u, "id", 2);
	set_u(u, "flags", 02000002);
	next_fown(sub(u, "fown"), 0);
	set_u(u, "sq_entries", 256);
	set_u(u, "cq_entries", 512);
	set_u(u, "setup_flags", 0x3000);
	set_i(u, "ring_delta", -4096);
	{
		double r = 0.75;
		uint64_t bits;

		memcpy(&bits, &r, 8);
		set_u(u, "ratio", bits);
	}
	gen_write("files.img");

	/* an unknown message field inside a known single-entry image */
	gen_image_schema(next, "TIMENS");
	m = gen_entry();
	t = sub(m, "monotonic");
	set_u(t, "tv_sec", 86413);
	set_u(t, "tv_nsec", 250000000);
	t = sub(m, "boottime");
	set_u(t, "tv_sec", 86420);
	set_u(t, "tv_nsec", 0);
	t = sub(m, "realtime_offset");
	set_u(t, "tv_sec", 3600);
	set_u(t, "tv_nsec", 1);
	set_i(m, "flags", -2);
	gen_write("timens-5.img");
}

static void empty(void)
{
	gen_image("SK_QUEUES");
	gen_write("sk-queues.img");
	gen_image("PAGEMAP");
	set_u(gen_entry_of("pagemap_head"), "pages_id", 2);
	gen_write("pagemap-2.img");
}

/* criu/include/kerndat.h: a cache of what CRIU learnt about the kernel; opaque to image readers */
static void kdat(void)
{
	uint8_t k[256];

	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)(i % 7 == 0 ? 1 : 0);
	img_put_u64(k, 0x7fffffffffffull);   /* task_size */
	img_put_u32(k + 8, 0x2);           /* a feature mask */
	memcpy(k + 64, "6.18.0", 7);       /* uname release as the kernel gave it */
	gen_image("KDAT");
	gen_raw(k, sizeof(k));
	gen_write("criu.kdat");
}

void gen_odd(void)
{
	load_next();
	unknown_fields();
	empty();
	kdat();
}
