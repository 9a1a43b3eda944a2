/*
 * The layouts older CRIU versions wrote, which CRIU 4.2 still reads
 * (schemas/criu/legacy.tab): per-task images whose contents later moved into
 * the core or mm (vmas, rlimit, itimers, posix-timers, signal-s/-p, creds,
 * sigacts) and the mark images of epoll, inotify and fanotify files.  An old
 * image is needed where the newer field is absent, must hold the entries
 * CRIU reads, and is ignored (so reported) where the field is there; some
 * CRIU reads only with --deprecated.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../criu/legacy.h"
#include "ck.h"

/* Whether a dotted path is there: 1 yes, 0 no, -1 the message holding its last field is not. */
static int path_has(struct img_msg *m, const char *path)
{
	char part[64];
	const char *dot;

	while (m && (dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(part))
			return -1;
		memcpy(part, path, n);
		part[n] = 0;
		m = img_msg_sub(m, part);
		path = dot + 1;
	}
	if (!m)
		return -1;
	return img_msg_count(m, path) > 0;
}

struct deprecated {
	char names[512];
	size_t at;
	const char *first;
	unsigned n;
};

static void deprecated_add(struct ck *c, struct deprecated *d, const char *name)
{
	if (strstr(d->names, name))
		return;
	if (!d->first)
		d->first = ck_name(c, "%s", name);
	d->n++;
	if (d->at < sizeof(d->names) - 64)
		d->at += (size_t)snprintf(d->names + d->at, sizeof(d->names) - d->at, "%s%s", d->at ? ", " : "", name);
}

/* One row for one task or thread: owner is the core or mm whose field replaced the image. */
static void task_row(struct ck *c, struct ck_task *t, const struct img_legacy_task *row, uint32_t id,
		     struct img_msg *owner, const char *owner_name, struct deprecated *dep)
{
	char name[64], what[160];
	int has = path_has(owner, row->field);
	int st;

	if (has < 0)
		return; /* the core predates the message holding the field: CRIU skips it too */
	snprintf(name, sizeof(name), row->pattern, id);
	snprintf(what, sizeof(what), row->what, id);
	st = ck_state(c, name);
	if (has) {
		if (st != CK_MISSING) {
			struct img_finding *fi = ck_add(c, IMG_SEV_WARNING, "images", "legacy-unused", ck_name(c, "%s", name),
							IMG_NO_ENTRY,
							"%s has %s, so CRIU does not read this image (it holds %s in sets older than CRIU %s)",
							owner_name, row->field, what, row->since);
			fi->ref_image = owner_name;
			fi->ref_entry = 0;
			fi->field = row->field;
			fi->todo = "one of the two was changed by hand: keep the one the set was dumped with";
		}
		return;
	}
	if (row->deprecated)
		deprecated_add(c, dep, name);
	if (row->of == IMG_LEGACY_OF_MM && st != CK_OK)
		t->vmas_image = NULL; /* no VMAs to judge the pagemap by: the image's own finding says why */
	if (st == CK_MISSING) {
		if (row->missing_fails)
			ck_need(c, name, owner_name, 0, "holds %s: %s has no %s, as in sets older than CRIU %s", what,
				owner_name, row->field, row->since);
		return;
	}
	struct img_image *img = ck_get(c, name);

	if (!img)
		return; /* damaged: reported */
	if (row->of == IMG_LEGACY_OF_MM)
		ck_task_vmas(c, t, img, ck_name(c, "%s", name));
	if (row->bug) {
		char bug[512];
		struct img_finding *fi;

		snprintf(bug, sizeof(bug), row->bug, id);
		fi = ck_add(c, IMG_SEV_WARNING, "images", "legacy-bug", ck_name(c, "%s", name), IMG_NO_ENTRY, "%s", bug);
		fi->todo = CK_F(c, "restore with the CRIU version the set is for (before %s), or convert it up: "
				   "cr-convert upgrade --to %s", row->since, row->since);
	}
	if (img->n < row->need) {
		struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "legacy-short", ck_name(c, "%s", name),
						IMG_NO_ENTRY, "%zu entries, and CRIU reads %u (CRIU: Unexpected EOF)", img->n,
						row->need);
		fi->expected = CK_F(c, "%u entries", row->need);
		fi->found = CK_F(c, "%zu", img->n);
		fi->todo = "take the image from an intact copy of the set";
	}
}

static void tasks(struct ck *c, const struct img_legacy_task *rows, size_t nrows, struct deprecated *dep)
{
	for (size_t i = 0; i < c->ntasks; i++) {
		struct ck_task *t = &c->tasks[i];

		if (t->state && t->state != CK_TASK_ALIVE && t->state != CK_TASK_STOPPED)
			continue; /* CRIU restores none of this for zombies */
		for (size_t r = 0; r < nrows; r++) {
			const struct img_legacy_task *row = &rows[r];

			if (row->of == IMG_LEGACY_OF_MM) {
				if (t->mm)
					task_row(c, t, row, t->pid, t->mm, ck_name(c, "mm-%u.img", t->pid), dep);
				continue;
			}
			for (size_t j = 0; j < t->ntids; j++) {
				const char *cname = ck_name(c, "core-%u.img", t->tids[j]);
				struct img_image *core;

				if (!row->per_thread && t->tids[j] != t->pid)
					continue;
				core = ck_state(c, cname) == CK_OK ? ck_get(c, cname) : NULL;
				if (core)
					task_row(c, t, row, t->tids[j], img_image_msg(core), cname, dep);
			}
		}
	}
}

/* Marks images: each entry belongs to a file of the row's type (CRIU: No epoll FD for N). */
static void marks(struct ck *c, const struct img_legacy_marks *rows, size_t nrows, struct deprecated *dep)
{
	for (size_t r = 0; r < nrows; r++) {
		struct img_image *img;

		if (ck_state(c, rows[r].image) == CK_MISSING)
			continue;
		deprecated_add(c, dep, rows[r].image);
		img = ck_get(c, rows[r].image);
		for (size_t i = 0; img && i < img->n; i++) {
			uint32_t id = (uint32_t)img_msg_u64(img->e[i].msg, "id", 0);
			struct ck_file *f = c->have_files ? ck_file(c, id) : NULL;

			if (!c->have_files || (f && f->type == (int)rows[r].type))
				continue;
			struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "images", "ref-file", rows[r].image, (long)i,
							"entry for file id %#x, which is no %s file of the set",
							id, img_legacy_file(rows[r].type) ? img_legacy_file(rows[r].type)->name
											  : "known");
			fi->offset = img->e[i].off;
			fi->field = "id";
			fi->todo = "the image was changed or cut: take it from an intact copy, or dump again";
			break;
		}
	}
}

void ck_legacy(struct ck *c)
{
	const struct img_legacy_task *rows;
	const struct img_legacy_marks *mrows;
	size_t nrows, nmrows;
	struct deprecated dep = { .names = "" };
	struct img_err err = { 0 };

	if (img_legacy_tasks(&rows, &nrows, &err) || img_legacy_marks(&mrows, &nmrows, &err)) {
		ck_add(c, IMG_SEV_ERROR, "images", "internal", NULL, IMG_NO_ENTRY, "%s", err.msg);
		return;
	}
	tasks(c, rows, nrows, &dep);
	marks(c, mrows, nmrows, &dep);
	if (!dep.n)
		return;
	struct img_finding *fi = ck_add(c, IMG_SEV_WARNING, "images", "legacy-deprecated", dep.first, IMG_NO_ENTRY,
					"CRIU reads %s only with --deprecated: without it the restore stops (CRIU: Deprecated functionality rejected)",
					dep.names);
	fi->todo = "restore with criu restore --deprecated (or CRIU_DEPRECATED=1 in the environment), or convert the set "
		   "up first: cr-convert upgrade --to 4.2";
}
