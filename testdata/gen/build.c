/* imggen's helpers: one image at a time, fields by name, and a stop on the first error. */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"

const char *gen_out;
const char *gen_data;

static struct img_image *cur;
static const char *cur_kind;
static char set_path[PATH_MAX];

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "imggen: %s: ", cur_kind ? cur_kind : set_path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void check(int r, const struct img_msg *m, const char *field)
{
	if (r)
		die("cannot set %s.%s: %s", m->desc->name, field, strerror(-r));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The set is made again from nothing: what an older generator wrote there goes. */
static void rm_tree(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) && errno != ENOENT)
		die("cannot empty %s: %s", path, strerror(errno));
}

void gen_set(const char *name)
{
	snprintf(set_path, sizeof(set_path), "%s/%s", gen_out, name);
	rm_tree(set_path);
	if (mkdir(set_path, 0755) && errno != EEXIST)
		die("cannot make %s: %s", set_path, strerror(errno));
}

const char *gen_set_path(void)
{
	return set_path;
}

void gen_symlink(const char *target, const char *name)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", set_path, name);
	if (symlink(target, p))
		die("cannot link %s: %s", p, strerror(errno));
}

struct img_image *gen_image_schema(const struct img_schema *s, const char *kind)
{
	const struct img_kind *k = img_kind_by_name(s, kind);

	if (cur)
		die("an image is still open");
	if (!k)
		die("no kind %s", kind);
	cur_kind = k->name;
	cur = img_image_new(s, k);
	if (!cur)
		die("out of memory");
	return cur;
}

struct img_image *gen_image(const char *kind)
{
	return gen_image_schema(img_schema_builtin(), kind);
}

void gen_no_head(void)
{
	cur->head = 0;
}

struct img_msg *gen_entry_of(const char *msgname)
{
	const struct img_msgdesc *d = msgname ? img_schema_msg(cur->schema, msgname) : cur->kind->msg;
	struct img_msg *m;

	if (!d)
		die("no message %s", msgname ? msgname : "for the kind");
	m = img_msg_new(&cur->arena, d);
	if (!m || !img_image_add(cur, d, m))
		die("out of memory");
	return m;
}

struct img_msg *gen_entry(void)
{
	return gen_entry_of(NULL);
}

void gen_extra(const void *p, size_t n)
{
	if (!cur->n || img_entry_set_extra(cur, &cur->e[cur->n - 1], p, n))
		die("cannot set the extra payload");
}

void gen_page_entry(uint64_t vaddr, const void *page)
{
	struct img_entry *e = img_image_add(cur, NULL, NULL);

	if (!e || img_entry_set_extra(cur, e, page, IMG_PAGE_SIZE))
		die("out of memory");
	e->vaddr = vaddr;
}

void gen_raw(const void *p, size_t n)
{
	void *c = img_arena_alloc(&cur->arena, n ? n : 1);

	if (!c)
		die("out of memory");
	memcpy(c, p, n);
	cur->raw = c;
	cur->raw_size = n;
}

struct img_image *gen_load(const char *path)
{
	struct img_err e = { 0 };

	if (cur)
		die("an image is still open");
	if (img_image_open(path, img_schema_builtin(), 0, &cur, &e))
		die("cannot read %s: %s", path, e.msg);
	cur_kind = cur->kind->name;
	return cur;
}

void gen_write_to(const char *path)
{
	struct img_err e = { 0 };
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	if (!img_kind_match(cur->kind, name, NULL, NULL, 0))
		die("'%s' is not a name of %s (%s)", name, cur->kind->name, cur->kind->pattern);
	if (img_image_write_file(cur, path, &e))
		die("cannot write %s: %s", path, e.msg);
	img_image_free(cur);
	cur = NULL;
	cur_kind = NULL;
}

void gen_write(const char *name)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", set_path, name);
	gen_write_to(p);
}

void set_u(struct img_msg *m, const char *field, uint64_t v)
{
	check(img_msg_set_u64(&cur->arena, m, field, v), m, field);
}

void set_i(struct img_msg *m, const char *field, int64_t v)
{
	check(img_msg_set_i64(&cur->arena, m, field, v), m, field);
}

void set_b(struct img_msg *m, const char *field, int v)
{
	set_u(m, field, v != 0);
}

void set_s(struct img_msg *m, const char *field, const char *s)
{
	check(img_msg_set_str(&cur->arena, m, field, s), m, field);
}

void set_bytes(struct img_msg *m, const char *field, const void *p, size_t n)
{
	check(img_msg_set_bytes(&cur->arena, m, field, p, n), m, field);
}

void set_e(struct img_msg *m, const char *field, const char *name)
{
	const struct img_fielddesc *fd = img_msgdesc_field_by_name(m->desc, field);
	const struct img_enumval *ev;

	if (!fd || fd->type != IMG_T_ENUM)
		die("%s.%s is not an enum", m->desc->name, field);
	ev = img_enum_by_name(fd->en, name);
	if (!ev)
		die("%s has no value %s", fd->en->name, name);
	set_i(m, field, ev->num);
}

struct img_msg *sub(struct img_msg *m, const char *field)
{
	struct img_msg *s = img_msg_set_msg(&cur->arena, m, field);

	if (!s)
		die("cannot set %s.%s: not a message field", m->desc->name, field);
	return s;
}

void add_u(struct img_msg *m, const char *field, uint64_t v)
{
	check(img_msg_add_u64(&cur->arena, m, field, v), m, field);
}

void add_s(struct img_msg *m, const char *field, const char *s)
{
	check(img_msg_add_str(&cur->arena, m, field, s), m, field);
}

void add_us(struct img_msg *m, const char *field, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		add_u(m, field, v[i]);
}

void add_ip(struct img_msg *m, const char *field, const char *addr)
{
	uint8_t b[16];
	int n;

	if (inet_pton(AF_INET, addr, b) == 1)
		n = 1;
	else if (inet_pton(AF_INET6, addr, b) == 1)
		n = 4;
	else
		die("'%s' is not an address", addr);
	for (int i = 0; i < n; i++) {
		uint32_t w;

		memcpy(&w, b + 4 * i, 4); /* the words stay in network byte order, as CRIU keeps them */
		add_u(m, field, w);
	}
}

void fill_fown(struct img_msg *fown, uint32_t uid, uint32_t pid)
{
	set_u(fown, "uid", uid);
	set_u(fown, "euid", uid);
	set_u(fown, "signum", 0);
	set_u(fown, "pid_type", 0);
	set_u(fown, "pid", pid);
}

void fill_sk_opts(struct img_msg *o, uint32_t sndbuf, uint32_t rcvbuf)
{
	set_u(o, "so_sndbuf", sndbuf);
	set_u(o, "so_rcvbuf", rcvbuf);
	set_u(o, "so_snd_tmo_sec", 0);
	set_u(o, "so_snd_tmo_usec", 0);
	set_u(o, "so_rcv_tmo_sec", 0);
	set_u(o, "so_rcv_tmo_usec", 0);
	set_b(o, "reuseaddr", 0);
	set_u(o, "so_priority", 0);
	set_u(o, "so_rcvlowat", 1);
	set_b(o, "so_passcred", 0);
	set_b(o, "so_passsec", 0);
	set_b(o, "so_dontroute", 0);
	set_b(o, "so_no_check", 0);
	set_b(o, "so_reuseport", 0);
	set_b(o, "so_broadcast", 0);
	set_b(o, "so_keepalive", 0);
	set_u(o, "so_oobinline", 0);
	set_u(o, "so_buf_lock", 0);
}

void fill_page(uint8_t *page, const char *tag, unsigned n, unsigned seed)
{
	int l = snprintf((char *)page, IMG_PAGE_SIZE, "%s page %u;", tag, n);

	for (unsigned i = (unsigned)l; i < IMG_PAGE_SIZE; i++)
		page[i] = (uint8_t)((i * 31 + n * 7 + seed) & 0xff);
}
