/*
 * A check run: images loaded once, each missing or damaged image reported
 * once, and the entry points of the check API.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ck.h"

static struct img_finding dropped; /* findings of areas not asked for go here */

struct img_finding *ck_add(struct ck *c, int sev, const char *area, const char *code, const char *image,
			   long entry, const char *fmt, ...)
{
	struct img_finding *fi;
	char msg[1024];
	va_list ap;

	if (!strcmp(area, "images") && !(c->o->what & IMG_CHECK_IMAGES)) {
		memset(&dropped, 0, sizeof(dropped));
		return &dropped;
	}
	fi = img_finding_add(c->f, sev, area, code);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fi->msg = CK_F(c, "%s", msg);
	fi->image = image;
	fi->entry = entry;
	return fi;
}

const char *ck_name(struct ck *c, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	const char *r;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	r = img_arena_strndup(&c->arena, buf, strlen(buf));
	if (r)
		return r;
	c->f->failed = 1; /* the check fails as a whole; its callers need a string meanwhile */
	return "";
}

static struct ck_img *slot(struct ck *c, const char *name)
{
	for (size_t i = 0; i < c->nimgs; i++)
		if (!strcmp(c->imgs[i].name, name))
			return &c->imgs[i];
	if (c->nimgs == c->capimgs) {
		size_t cap = c->capimgs ? c->capimgs * 2 : 64;
		struct ck_img *v = img_realloc(c->imgs, cap * sizeof(*v));

		if (!v)
			return NULL;
		c->imgs = v;
		c->capimgs = cap;
	}
	struct ck_img *s = &c->imgs[c->nimgs];

	memset(s, 0, sizeof(*s));
	s->name = img_arena_strndup(&c->arena, name, strlen(name));
	if (!s->name)
		return NULL;
	c->nimgs++;
	return s;
}

/* "entry 2 at offset 0x1a4: ..." -> 2, 0x1a4 (the reader's messages say where they stopped) */
static void where(const char *msg, long *entry, uint64_t *off)
{
	const char *p;
	unsigned long long o;
	long e;

	if ((p = strstr(msg, "entry ")) && sscanf(p, "entry %ld at offset 0x%llx", &e, &o) == 2) {
		*entry = e;
		*off = o;
	} else if ((p = strstr(msg, "offset 0x")) && sscanf(p, "offset 0x%llx", &o) == 1) {
		*off = o;
	}
}

static void load(struct ck *c, struct ck_img *s)
{
	const struct img_kind *k = img_kind_by_file(c->s, s->name);
	struct img_err err = { 0 };
	struct img_src *src;
	int r;

	r = img_dir_get(c->d, s->name, &src, &err);
	if (r == -ENOENT) {
		s->state = CK_MISSING;
		return;
	}
	if (!r) {
		/* the kind the name says: a file with another kind's magic is damaged too */
		r = img_image_read(src, c->s, k, 0, &s->img, &err);
		img_src_unref(src);
	}
	if (!r) {
		s->state = CK_OK;
		return;
	}
	s->state = CK_BAD;
	s->reported = 1;
	if (r == -ENOMEM) { /* not damage: the check as a whole fails */
		c->f->failed = 1;
		return;
	}
	struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "image-damaged", s->name, IMG_NO_ENTRY,
					"cannot read it: %s", err.msg);

	where(err.msg, &fi->entry, &fi->offset);
	fi->todo = "take the image from an intact copy of the set, or dump again";
}

struct img_image *ck_get(struct ck *c, const char *name)
{
	struct ck_img *s = slot(c, name);

	if (!s) {
		c->f->failed = 1;
		return NULL;
	}
	if (!s->state)
		load(c, s);
	return s->state == CK_OK ? s->img : NULL;
}

int ck_state(struct ck *c, const char *name)
{
	struct ck_img *s = slot(c, name);

	if (!s)
		return CK_BAD;
	if (!s->state)
		load(c, s);
	return s->state;
}

struct img_image *ck_need(struct ck *c, const char *name, const char *by, long by_entry, const char *fmt, ...)
{
	struct img_image *img = ck_get(c, name);
	struct ck_img *s;
	char why[768];
	va_list ap;

	if (img || !(s = slot(c, name)) || s->reported)
		return img;
	s->reported = 1;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "image-missing", s->name, IMG_NO_ENTRY,
					"the set has no %s, which %s", name, why);

	fi->ref_image = by;
	fi->ref_entry = by_entry;
	fi->todo = "copy the whole image folder again, or dump again";
	return NULL;
}

struct ck_task *ck_task(struct ck *c, uint32_t pid)
{
	size_t lo = 0, hi = c->by_pid ? c->ntasks : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct ck_task *t = &c->tasks[c->by_pid[mid]];

		if (t->pid == pid)
			return t;
		if (t->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct ck_file *ck_file(struct ck *c, uint32_t id)
{
	size_t lo = 0, hi = c->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->files[mid].id == id)
			return &c->files[mid];
		if (c->files[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

uint64_t ck_entry_off(const struct img_image *img, long entry)
{
	return entry >= 0 && (size_t)entry < img->n ? img->e[entry].off : IMG_NO_OFFSET;
}

uint64_t ck_pe_pages(const struct img_msg *pe)
{
	if (img_msg_has(pe, "nr_pages"))
		return img_msg_u64(pe, "nr_pages", 0);
	return img_msg_u64(pe, "compat_nr_pages", 0);
}

uint32_t ck_pe_flags(const struct img_msg *pe)
{
	if (img_msg_has(pe, "flags"))
		return (uint32_t)img_msg_u64(pe, "flags", 0);
	/* images older than CRIU 3.5: in_parent, or present */
	return img_msg_u64(pe, "in_parent", 0) ? CK_PE_PARENT : CK_PE_PRESENT;
}

static void ck_free(struct ck *c)
{
	for (size_t i = 0; i < c->nimgs; i++)
		img_image_free(c->imgs[i].img);
	img_free(c->imgs);
	img_free(c->files);
	img_arena_free(&c->arena);
}

static void ck_init(struct ck *c, struct img_dir *d, const struct img_check_opts *o, struct img_findings *out)
{
	memset(c, 0, sizeof(*c));
	c->d = d;
	c->o = o;
	c->s = o->schema ? o->schema : img_schema_default();
	c->f = out;
	img_arena_init(&c->arena);
}

/* The strings of the findings made by this run point into it: copy them into the list before it ends. */
static void own_strings(struct img_findings *f, size_t from)
{
	for (size_t i = from; i < f->n; i++) {
		struct img_finding *fi = &f->v[i];
		const char **s[] = { &fi->image, &fi->field, &fi->subject, &fi->expected, &fi->found,
				     &fi->msg, &fi->todo, &fi->ref_image };

		for (size_t k = 0; k < sizeof(s) / sizeof(s[0]); k++)
			if (*s[k]) {
				const char *c = img_arena_strndup(&f->arena, *s[k], strlen(*s[k]));

				if (!c)
					f->failed = 1;
				*s[k] = c;
			}
	}
}

int img_check_dir(struct img_dir *d, const struct img_check_opts *opts, struct img_findings *out,
		  struct img_err *err)
{
	struct img_check_opts o = opts ? *opts : (struct img_check_opts){ 0 };
	size_t first = out->n;
	struct ck c;

	if (!o.what)
		o.what = IMG_CHECK_ALL;
	if (!o.root)
		o.root = "/";
	ck_init(&c, d, &o, out);
	/* the images are read in any case: the other checks need the tasks and files they describe */
	ck_images(&c);
	if (o.what & IMG_CHECK_FILES)
		ck_files(&c);
	if (o.what & (IMG_CHECK_PIDS | IMG_CHECK_KERNEL | IMG_CHECK_CPU))
		ck_machine(&c);
	own_strings(out, first);
	if (c.arena.failed || out->arena.failed)
		out->failed = 1;
	ck_free(&c);
	if (out->failed)
		return img_err_set(err, ENOMEM, "out of memory");
	return 0;
}

int img_check_path(const char *path, const struct img_check_opts *o, struct img_findings *out,
		   struct img_err *err)
{
	struct img_dir *d;
	int r = img_dir_open(path, &d, err);

	if (r)
		return r;
	r = img_check_dir(d, o, out, err);
	img_dir_close(d);
	return r;
}

int img_check_needs(struct img_dir *d, const struct img_schema *s, struct img_needs *out, struct img_err *err)
{
	struct img_check_opts o = { .what = IMG_CHECK_KERNEL | IMG_CHECK_CPU, .schema = s };
	struct img_findings f;
	struct ck c;
	int r;

	img_findings_init(&f);
	ck_init(&c, d, &o, &f);
	ck_images(&c);
	r = ck_needs(&c, out);
	ck_free(&c);
	img_findings_free(&f);
	if (r)
		return img_err_set(err, -r, "out of memory");
	return 0;
}
