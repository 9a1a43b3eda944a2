/* The table of older CRIU layouts (schemas/criu/legacy.tab), parsed once from the text the build embeds. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "img/schema.h"
#include "img/tab.h"
#include "legacy.h"

#define MAX_ROWS 64

static struct {
	struct img_arena arena;
	struct img_legacy_file f[MAX_ROWS];
	size_t nf;
	struct img_legacy_task t[MAX_ROWS];
	size_t nt;
	struct img_legacy_marks m[MAX_ROWS];
	size_t nm;
	int r;
	struct img_err err;
} tab;

static const char *keep(const char *s)
{
	return strcmp(s, "-") ? img_arena_strndup(&tab.arena, s, strlen(s)) : NULL;
}

static int fd_type(const char *name, uint32_t *out, struct img_err *err)
{
	const struct img_enumdesc *e = img_schema_enum(img_schema_default(), "fd_types");
	const struct img_enumval *v = e ? img_enum_by_name(e, name) : NULL;

	if (!v)
		return img_err_set(err, EINVAL, "'%s' is not an fd_types value", name);
	*out = (uint32_t)v->num;
	return 0;
}

static int yes_no(const char *s, int *out, struct img_err *err)
{
	if (!strcmp(s, "yes"))
		*out = 1;
	else if (!strcmp(s, "no"))
		*out = 0;
	else
		return img_err_set(err, EINVAL, "'%s' is not yes or no", s);
	return 0;
}

static int task_member(struct img_legacy_task *t, const struct img_tab_line *l, struct img_err *err)
{
	const char *k = l->f[0], *v = l->f[1];
	char *end;

	if (!strcmp(k, "of")) {
		if (strcmp(v, "core") && strcmp(v, "mm"))
			return img_err_set(err, EINVAL, "of: '%s' is not core or mm", v);
		t->of = !strcmp(v, "mm") ? IMG_LEGACY_OF_MM : IMG_LEGACY_OF_CORE;
	} else if (!strcmp(k, "field")) {
		t->field = keep(v);
	} else if (!strcmp(k, "since")) {
		t->since = keep(v);
	} else if (!strcmp(k, "per")) {
		if (strcmp(v, "task") && strcmp(v, "thread"))
			return img_err_set(err, EINVAL, "per: '%s' is not task or thread", v);
		t->per_thread = !strcmp(v, "thread");
	} else if (!strcmp(k, "need")) {
		unsigned long n = strtoul(v, &end, 10);

		if (*end || n > 1024)
			return img_err_set(err, EINVAL, "need: bad count '%s'", v);
		t->need = (unsigned)n;
	} else if (!strcmp(k, "missing")) {
		if (strcmp(v, "error") && strcmp(v, "empty"))
			return img_err_set(err, EINVAL, "missing: '%s' is not error or empty", v);
		t->missing_fails = !strcmp(v, "error");
	} else if (!strcmp(k, "deprecated")) {
		return yes_no(v, &t->deprecated, err);
	} else if (!strcmp(k, "what")) {
		t->what = keep(l->rest[1]);
	} else if (!strcmp(k, "bug")) {
		t->bug = keep(l->rest[1]);
	} else {
		return img_err_set(err, EINVAL, "unknown member '%s'", k);
	}
	return 0;
}

static int line(void *arg, const struct img_tab_line *l, struct img_err *err)
{
	(void)arg;
	if (l->indented) {
		if (!tab.nt)
			return img_err_set(err, EINVAL, "a member line before the first 'task'");
		if (l->nf < 2)
			return img_err_set(err, EINVAL, "'%s' has no value", l->f[0]);
		return task_member(&tab.t[tab.nt - 1], l, err);
	}
	if (!strcmp(l->f[0], "file")) {
		struct img_legacy_file *f = &tab.f[tab.nf];

		if (l->nf != 4)
			return img_err_set(err, EINVAL, "expected 'file TYPE FIELD IMAGE'");
		if (tab.nf == MAX_ROWS)
			return img_err_set(err, EINVAL, "more than %d file rows", MAX_ROWS);
		if (fd_type(l->f[1], &f->type, err))
			return -EINVAL;
		f->name = keep(l->f[1]);
		f->field = keep(l->f[2]);
		f->image = keep(l->f[3]);
		tab.nf++;
	} else if (!strcmp(l->f[0], "task")) {
		if (l->nf != 2)
			return img_err_set(err, EINVAL, "expected 'task PATTERN'");
		if (tab.nt == MAX_ROWS)
			return img_err_set(err, EINVAL, "more than %d task rows", MAX_ROWS);
		memset(&tab.t[tab.nt], 0, sizeof(tab.t[0]));
		tab.t[tab.nt++].pattern = keep(l->f[1]);
	} else if (!strcmp(l->f[0], "marks")) {
		struct img_legacy_marks *m = &tab.m[tab.nm];

		if (l->nf != 5)
			return img_err_set(err, EINVAL, "expected 'marks IMAGE TYPE FIELD SINCE'");
		if (tab.nm == MAX_ROWS)
			return img_err_set(err, EINVAL, "more than %d marks rows", MAX_ROWS);
		if (fd_type(l->f[2], &m->type, err))
			return -EINVAL;
		m->image = keep(l->f[1]);
		m->field = keep(l->f[3]);
		m->since = keep(l->f[4]);
		tab.nm++;
	} else {
		return img_err_set(err, EINVAL, "expected file, task or marks, not '%s'", l->f[0]);
	}
	return 0;
}

static void load(void)
{
	const struct img_tabsrc *src = img_tab_builtin("criu/legacy.tab");

	img_arena_init(&tab.arena);
	if (!src)
		tab.r = img_err_set(&tab.err, ENOENT, "no built-in table criu/legacy.tab");
	else
		tab.r = img_tab_parse(src->text, src->len, "criu/legacy.tab", line, NULL, &tab.err);
	for (size_t i = 0; !tab.r && i < tab.nt; i++)
		if (!tab.t[i].field || !tab.t[i].since || !tab.t[i].what)
			tab.r = img_err_set(&tab.err, EINVAL, "criu/legacy.tab: task %s lacks field, since or what",
					    tab.t[i].pattern);
	if (tab.r) {
		tab.nf = tab.nt = tab.nm = 0;
		img_err_subject(&tab.err, "built-in tables");
	}
}

static int loaded(struct img_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load);
	if (tab.r && err)
		*err = tab.err;
	return tab.r;
}

int img_legacy_files(const struct img_legacy_file **t, size_t *n, struct img_err *err)
{
	int r = loaded(err);

	*t = tab.f;
	*n = tab.nf;
	return r;
}

int img_legacy_tasks(const struct img_legacy_task **t, size_t *n, struct img_err *err)
{
	int r = loaded(err);

	*t = tab.t;
	*n = tab.nt;
	return r;
}

int img_legacy_marks(const struct img_legacy_marks **t, size_t *n, struct img_err *err)
{
	int r = loaded(err);

	*t = tab.m;
	*n = tab.nm;
	return r;
}

const struct img_legacy_file *img_legacy_file(uint32_t type)
{
	loaded(NULL);
	for (size_t i = 0; i < tab.nf; i++)
		if (tab.f[i].type == type)
			return &tab.f[i];
	return NULL;
}
