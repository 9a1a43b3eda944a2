/*
 * From a failed run's log to the images: the entries its variables (file
 * id, fd, path, task, address, socket inode, image name) point at.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "img/explain.h"
#include "ck.h"

#define MAX_REFS 64

struct loc {
	const struct img_explain *x;
	struct img_dir *d;
	const struct img_schema *s;
	struct img_arena *a;
	struct img_logref *refs;
	size_t n;
	struct img_image *files, *pstree;
	struct img_image *imgs[256];
	int nimgs;
	int nomem;
};

static struct img_image *load(struct loc *l, const char *name)
{
	struct img_image *img = NULL;

	if (l->nimgs == (int)(sizeof(l->imgs) / sizeof(l->imgs[0])))
		return NULL;
	int r = img_image_load(l->d, name, l->s, 0, &img, NULL);

	if (r == -ENOMEM)
		l->nomem = 1;
	if (r)
		return NULL;
	l->imgs[l->nimgs++] = img;
	return img;
}

static void ref(struct loc *l, const char *image, long entry, uint64_t off, const char *fmt, ...)
	IMG_PRINTF(5, 6);
static void ref(struct loc *l, const char *image, long entry, uint64_t off, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->refs[i].image, image) && l->refs[i].entry == entry)
			return;
	if (l->n == MAX_REFS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	l->refs[l->n].image = img_arena_strndup(l->a, image, strlen(image));
	l->refs[l->n].entry = entry;
	l->refs[l->n].offset = off;
	l->refs[l->n].what = img_arena_strndup(l->a, buf, strlen(buf));
	if (l->refs[l->n].image && l->refs[l->n].what)
		l->n++;
	else
		l->nomem = 1;
}

static int num(const char *v, uint64_t *out)
{
	char *end;

	if (!v || !*v)
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 0);
	return errno || *end ? -1 : 0;
}

static int hexnum(const char *v, uint64_t *out)
{
	char *end;

	if (!v || !*v)
		return -1;
	errno = 0;
	*out = strtoull(v, &end, 16);
	return errno || *end ? -1 : 0;
}

static const char *type_name(struct loc *l, int type)
{
	const struct img_enumdesc *e = img_schema_enum(l->s, "fd_types");
	const struct img_enumval *v = e ? img_enum_by_num(e, type) : NULL;

	return v ? v->name : "?";
}

static void file_ref(struct loc *l, size_t i)
{
	struct img_msg *m = l->files->e[i].msg;
	int type = (int)img_msg_u64(m, "type", 0);
	struct img_msg *reg = img_msg_sub(m, "reg");
	uint32_t id = (uint32_t)img_msg_u64(m, "id", 0);

	if (reg) {
		const char *name = img_msg_str(l->a, reg, "name", "?");

		if (img_msg_has(reg, "size"))
			ref(l, "files.img", (long)i, l->files->e[i].off, "file id %#x: REG '%s', size %llu, mode 0%llo", id,
			    name, (unsigned long long)img_msg_u64(reg, "size", 0),
			    (unsigned long long)img_msg_u64(reg, "mode", 0));
		else
			ref(l, "files.img", (long)i, l->files->e[i].off, "file id %#x: REG '%s', mode 0%llo", id, name,
			    (unsigned long long)img_msg_u64(reg, "mode", 0));
	} else {
		ref(l, "files.img", (long)i, l->files->e[i].off, "file id %#x: %s", id, type_name(l, type));
	}
}

/* The fds that refer to file id: fdinfo-<files_id> of each task. */
static void fds_of(struct loc *l, uint32_t id, long only_fd)
{
	uint64_t done[64];
	size_t ndone = 0;

	if (!l->pstree)
		return;
	for (size_t t = 0; t < l->pstree->n; t++) {
		uint32_t pid = (uint32_t)img_msg_u64(l->pstree->e[t].msg, "pid", 0);
		char name[64];
		struct img_image *ids, *fdi;
		uint64_t fid;

		snprintf(name, sizeof(name), "ids-%u.img", pid);
		ids = load(l, name);
		if (!ids)
			continue;
		fid = img_msg_u64(img_image_msg(ids), "files_id", 0);
		size_t k;

		for (k = 0; k < ndone && done[k] != fid; k++)
			;
		if (k < ndone || ndone == sizeof(done) / sizeof(done[0]))
			continue; /* tasks that share an fd table share its image */
		done[ndone++] = fid;
		snprintf(name, sizeof(name), "fdinfo-%llu.img", (unsigned long long)fid);
		fdi = load(l, name);
		if (!fdi)
			continue;
		for (size_t e = 0; e < fdi->n; e++) {
			struct img_msg *m = fdi->e[e].msg;
			uint64_t fd = img_msg_u64(m, "fd", 0);

			if (img_msg_u64(m, "id", 0) == id && (only_fd < 0 || (uint64_t)only_fd == fd))
				ref(l, name, (long)e, fdi->e[e].off, "fd %llu of pid %u -> file id %#x", (unsigned long long)fd,
				    pid, id);
		}
	}
}

static void by_id(struct loc *l, uint32_t id, long fd)
{
	for (size_t i = 0; l->files && i < l->files->n; i++)
		if ((uint32_t)img_msg_u64(l->files->e[i].msg, "id", 0) == id)
			file_ref(l, i);
	fds_of(l, id, fd);
}

static void by_path(struct loc *l, const char *path)
{
	while (*path == '/')
		path++;
	for (size_t i = 0; l->files && i < l->files->n; i++) {
		struct img_msg *m = l->files->e[i].msg, *reg = img_msg_sub(m, "reg");
		size_t len = 0;
		const uint8_t *name = img_msg_bytes(reg, "name", &len);
		struct img_msg *usk = img_msg_sub(m, "usk");

		if (!name && usk)
			name = img_msg_bytes(usk, "name", &len);
		while (name && len && *name == '/') {
			name++;
			len--;
		}
		if (name && len == strlen(path) && !memcmp(name, path, len)) {
			file_ref(l, i);
			fds_of(l, (uint32_t)img_msg_u64(m, "id", 0), -1);
		}
	}
}

static void by_ino(struct loc *l, uint64_t ino)
{
	static const char *const socks[] = { "usk", "isk", "psk", "nlsk" };

	for (size_t i = 0; l->files && i < l->files->n; i++)
		for (size_t k = 0; k < sizeof(socks) / sizeof(socks[0]); k++) {
			struct img_msg *sk = img_msg_sub(l->files->e[i].msg, socks[k]);

			if (sk && img_msg_u64(sk, "ino", 0) == ino) {
				file_ref(l, i);
				fds_of(l, (uint32_t)img_msg_u64(l->files->e[i].msg, "id", 0), -1);
			}
		}
}

static void by_task(struct loc *l, uint32_t pid, const char *vaddr)
{
	char name[64];
	uint64_t va;

	for (size_t t = 0; l->pstree && t < l->pstree->n; t++)
		if ((uint32_t)img_msg_u64(l->pstree->e[t].msg, "pid", 0) == pid)
			ref(l, "pstree.img", (long)t, l->pstree->e[t].off, "task %u (%zu thread%s)", pid,
			    img_msg_count(l->pstree->e[t].msg, "threads"),
			    img_msg_count(l->pstree->e[t].msg, "threads") == 1 ? "" : "s");
	if (!vaddr || hexnum(vaddr[0] == '0' && vaddr[1] == 'x' ? vaddr + 2 : vaddr, &va))
		return;
	snprintf(name, sizeof(name), "mm-%u.img", pid);
	struct img_image *mm = load(l, name);
	struct img_iter it;
	struct img_msg *v;
	size_t k = 0;

	img_iter_init(&it, img_image_msg(mm), "vmas");
	for (; mm && (v = img_iter_next_msg(&it)); k++)
		if (img_msg_u64(v, "start", 0) <= va && va < img_msg_u64(v, "end", 0))
			ref(l, name, 0, IMG_NO_OFFSET, "vmas[%zu]: %#llx-%#llx holds %#llx", k,
			    (unsigned long long)img_msg_u64(v, "start", 0), (unsigned long long)img_msg_u64(v, "end", 0),
			    (unsigned long long)va);
	snprintf(name, sizeof(name), "pagemap-%u.img", pid);
	struct img_image *pm = load(l, name);

	for (size_t e = 1; pm && e < pm->n; e++) {
		uint64_t s = img_msg_u64(pm->e[e].msg, "vaddr", 0), n = ck_pe_pages(pm->e[e].msg);

		if (s <= va && va - s < n * 4096)
			ref(l, name, (long)e, pm->e[e].off, "%llu pages at %#llx hold %#llx", (unsigned long long)n,
			    (unsigned long long)s, (unsigned long long)va);
	}
}

int img_explain_locate(const struct img_explain *x, struct img_dir *d, const struct img_schema *s,
		       struct img_logref **refs, size_t *n, struct img_arena *a, struct img_err *err)
{
	struct loc l = { .x = x, .d = d, .s = s ? s : img_schema_default(), .a = a };
	const char *v;
	uint64_t u, fd;

	l.refs = img_arena_alloc(a, MAX_REFS * sizeof(*l.refs));
	if (!l.refs)
		return img_err_set(err, ENOMEM, "out of memory");
	l.files = load(&l, "files.img");
	l.pstree = load(&l, "pstree.img");
	if (!num(img_explain_var(x, "id"), &u))
		by_id(&l, (uint32_t)u, num(img_explain_var(x, "fd"), &fd) ? -1 : (long)fd);
	if ((v = img_explain_var(x, "path")))
		by_path(&l, v);
	if (!num(img_explain_var(x, "ino"), &u))
		by_ino(&l, u);
	if (!num(img_explain_var(x, "pid"), &u))
		by_task(&l, (uint32_t)u, img_explain_var(x, "vaddr"));
	if ((v = img_explain_var(x, "image")) && strcmp(v, "(empty-image)")) {
		const char *b = strrchr(v, '/');

		b = b ? b + 1 : v;
		ref(&l, b, IMG_NO_ENTRY, IMG_NO_OFFSET, "%s", img_dir_has(d, b) ? "named in the error" : "named in the error; the set has no such image");
	}
	for (int i = 0; i < l.nimgs; i++)
		img_image_free(l.imgs[i]);
	if (l.nomem || a->failed)
		return img_err_set(err, ENOMEM, "out of memory");
	*refs = l.refs;
	*n = l.n;
	return 0;
}
