/*
 * imggen: the project's own image generator.  It writes image sets under
 * testdata/images/ with libimg's public writer API only (img_image_new,
 * img_msg_new, img_msg_set_*, img_msg_add_*, img_image_add,
 * img_entry_set_extra, img_image_write_file), so that the reader is tested on
 * bytes it did not make itself only by the rules CRIU follows.
 *
 * Everything is deterministic: the same build writes the same bytes.
 * A helper that fails prints what it was doing and ends the program.
 */
#ifndef IMGGEN_H
#define IMGGEN_H

#include <stddef.h>
#include <stdint.h>

#include "libimg.h"

/* The image being built (one at a time). */
struct img_image *gen_image(const char *kind);
/* The same, with a schema other than the builtin one (a newer CRIU's, for unknown fields). */
struct img_image *gen_image_schema(const struct img_schema *s, const char *kind);
/* Leave the head magic out, as img_version 1 sets do. */
void gen_no_head(void);
/* A new entry of the kind's message (or of the message named), appended to the image. */
struct img_msg *gen_entry(void);
struct img_msg *gen_entry_of(const char *msgname);
/* The raw bytes after the last entry. */
void gen_extra(const void *p, size_t n);
/* An entry of a vaddr:page image (pages-%d.img of CRIU before 0.5). */
void gen_page_entry(uint64_t vaddr, const void *page);
/* Raw and opaque images: their bytes. */
void gen_raw(const void *p, size_t n);
/* Write the image into the current set as NAME, and forget it. */
void gen_write(const char *name);
/* An image of another set read to be changed: it becomes the current image. */
struct img_image *gen_load(const char *path);
/* Write the current image to PATH, and forget it. */
void gen_write_to(const char *path);

/* Sets: OUT/NAME/, made empty. */
void gen_set(const char *name);
const char *gen_set_path(void);
/* A symbolic link in the current set. */
void gen_symlink(const char *target, const char *name);
/* The folder the generator writes into, and where its own data lives. */
extern const char *gen_out;
extern const char *gen_data;

/* Fields.  Names as in schemas/criu; enums by their value's name. */
void set_u(struct img_msg *m, const char *field, uint64_t v);
void set_i(struct img_msg *m, const char *field, int64_t v);
void set_b(struct img_msg *m, const char *field, int v);
void set_s(struct img_msg *m, const char *field, const char *s);
void set_bytes(struct img_msg *m, const char *field, const void *p, size_t n);
void set_e(struct img_msg *m, const char *field, const char *name);
/* A nested message (singular: the one there is; repeated: one more). */
struct img_msg *sub(struct img_msg *m, const char *field);
/* One more value of a repeated field. */
void add_u(struct img_msg *m, const char *field, uint64_t v);
void add_s(struct img_msg *m, const char *field, const char *s);
/* Several values of a repeated u32/u64 field. */
void add_us(struct img_msg *m, const char *field, const uint64_t *v, size_t n);
/* An IPv4 address or IPv6 address as CRIU stores them: u32 words in network order. */
void add_ip(struct img_msg *m, const char *field, const char *addr);

/* Pieces many images share. */
void fill_fown(struct img_msg *fown, uint32_t uid, uint32_t pid);
void fill_sk_opts(struct img_msg *opts, uint32_t sndbuf, uint32_t rcvbuf);
/* A page of recognisable bytes: "TAG page N" then a pattern from seed. */
void fill_page(uint8_t *page, const char *tag, unsigned n, unsigned seed);

/* One task's images, in the layout of a CRIU era. */
/* CRIU 1.0 (img_version 1), CRIU 2.x (per-type images, head magics), CRIU 4.2 */
enum { ERA_V1 = 1, ERA_2, ERA_4_2 };
struct task {
	uint32_t pid, ppid, pgid, sid;
	const uint32_t *threads;
	size_t nthreads;
	const char *comm;
	uint32_t ids;   /* vm/files/fs/sighand id */
	uint32_t uid;
};
struct vma {
	uint64_t start, end, pgoff, shmid;
	uint32_t prot, flags, status;
	int64_t fd;
	uint64_t madv;
	uint32_t fdflags;
};
/* extra: NULL, "pre-dump", or "2.x" (none of the fields CRIU added after 2.x) */
void write_inventory(uint32_t version, const char *extra);
void write_pstree(const struct task *t, size_t n, int era);
void write_core(const struct task *t, uint32_t tid, int era);
void write_ids(const struct task *t, int era);
void write_fs(const struct task *t, int era);
void write_mm(const struct task *t, const struct vma *v, size_t n, int era);
enum { PE_PARENT = 1, PE_LAZY = 2, PE_PRESENT = 4 };
struct pme {
	uint64_t vaddr, nr;
	uint32_t flags;
};
void write_pagemap(const char *tag, uint32_t pid, const struct pme *pm, size_t n, int era);
void fill_vma(struct img_msg *v, const struct vma *a);
void write_sigacts(uint32_t pid, int head);
void fill_rlimit(struct img_msg *r, int resource);
void fill_sigaction(struct img_msg *sa, int sig);
void fill_creds(struct img_msg *c, uint32_t uid);
/* x86_64 registers of a task stopped in nanosleep at ip with stack sp; the FXSAVE state of a fresh process */
void fill_x86_gpregs(struct img_msg *g, uint64_t ip, uint64_t sp);
void fill_x86_fpregs(struct img_msg *f);

/* File payloads (files.c): for per-type images and for files.img. */
struct img_msg *fill_fdinfo(struct img_msg *m, uint32_t id, uint32_t flags, const char *type, uint32_t fd);
void fill_binfmt(struct img_msg *m, const char *name, int enabled, const char *interpreter, const char *flags,
		 const char *magic, const char *mask, const char *extension);
void fill_reg(struct img_msg *m, uint32_t id, const char *name, uint32_t flags, uint64_t pos, uint64_t size);
void fill_pipe(struct img_msg *m, uint32_t id, uint32_t pipe_id, uint32_t flags);
void fill_fifo(struct img_msg *m, uint32_t id, uint32_t pipe_id, uint32_t regf_id);
void fill_unixsk(struct img_msg *m, uint32_t id, uint32_t ino, uint32_t type, uint32_t state, uint32_t peer,
		 const char *name, size_t namelen);
void fill_inetsk(struct img_msg *m, uint32_t id, uint32_t ino, uint32_t family, uint32_t type, uint32_t state,
		 const char *src, uint32_t sport, const char *dst, uint32_t dport);
void fill_packetsk(struct img_msg *m, uint32_t id);
void fill_netlinksk(struct img_msg *m, uint32_t id);
void fill_eventfd(struct img_msg *m, uint32_t id, uint64_t counter);
void fill_epoll_tfd(struct img_msg *t, uint32_t epoll_id, uint32_t fd, uint32_t events);
void fill_eventpoll(struct img_msg *m, uint32_t id, int with_tfds);
void fill_signalfd(struct img_msg *m, uint32_t id);
void fill_inotify_wd(struct img_msg *w, uint32_t id, uint32_t wd, const char *path);
void fill_inotify(struct img_msg *m, uint32_t id, int with_wds);
void fill_fanotify_mark(struct img_msg *k, uint32_t id, int inode);
void fill_fanotify(struct img_msg *m, uint32_t id, int with_marks);
void fill_tty_file(struct img_msg *m, uint32_t id, uint32_t info_id, uint32_t regf_id);
void fill_tunfile(struct img_msg *m, uint32_t id, const char *dev);
void fill_nsfile(struct img_msg *m, uint32_t id, uint32_t ns_id, uint32_t cflag);
void fill_timerfd(struct img_msg *m, uint32_t id);
void fill_extfile(struct img_msg *m, uint32_t id);
void fill_pidfd(struct img_msg *m, uint32_t id);

/* Raw image contents (raw.c). */
struct tar_member {
	const char *name;
	char type;        /* '0' file, '5' directory, '3' character device */
	unsigned mode, major, minor;
	const char *data;
	size_t size;
};
size_t make_tar_gz(uint8_t *out, size_t cap, const struct tar_member *m, size_t n);
struct nl {
	uint8_t buf[4096];
	size_t len, start;
};
void nl_begin(struct nl *b, uint16_t type, const void *fixed, size_t flen);
void nl_attr(struct nl *b, uint16_t type, const void *p, size_t n);
void nl_attr_u32(struct nl *b, uint16_t type, uint32_t v);
void nl_end(struct nl *b);

/* The sets (one file each). */
void gen_extras(void);
void gen_current(void);
void gen_network(void);
void gen_legacy(void);
void gen_v1(void);
void gen_memory(void);
void gen_odd(void);
void gen_arch(void);
void gen_linuxcr(void);

/* linux-cr streams (linuxcr.c): one of a layout (with_error: a checkpoint that failed), and page contents. */
struct img_lcr_layout;
int gen_lcr_image(const struct img_lcr_layout *l, int with_error, struct img_buf *out, struct img_err *err);
void gen_lcr_page(uint8_t *p, uint32_t page_size, uint32_t n, const char *text);
/* imggen --diff-pair SRC OUT (diffpair.c) */
int gen_diff_pair(const char *src, const char *out);
/* imggen --renumber SRC OUT DELTA: the pids and tids DELTA higher */
int gen_renumber(const char *src, const char *out, unsigned delta);

#endif
