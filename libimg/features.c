/*
 * The kernel and CPU feature tables (kernel.tab, xsave.tab in schemas/features), parsed once
 * from the text the build embeds.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "img/check.h"
#include "img/profile.h"
#include "img/tab.h"

#define MAX_KFEATURES 64
#define MAX_XFEATURES 64

static struct {
	struct img_arena arena;
	struct img_kfeature k[MAX_KFEATURES];
	size_t nk;
	struct img_xfeature x[MAX_XFEATURES];
	size_t nx;
	int r;
	struct img_err err;
} tabs;

static const char *keep(const char *s)
{
	return img_arena_strndup(&tabs.arena, s, strlen(s));
}

static int kernel_line(void *arg, const struct img_tab_line *l, struct img_err *err)
{
	struct img_kfeature *f;

	(void)arg;
	if (!l->indented) {
		if (l->nf != 2 || strcmp(l->f[0], "feature"))
			return img_err_set(err, EINVAL, "expected 'feature NAME'");
		if (tabs.nk == MAX_KFEATURES)
			return img_err_set(err, EINVAL, "more than %d features", MAX_KFEATURES);
		f = &tabs.k[tabs.nk++];
		f->name = keep(l->f[1]);
		f->missing = IMG_SEV_ERROR;
		return 0;
	}
	if (!tabs.nk)
		return img_err_set(err, EINVAL, "a member line before the first 'feature'");
	f = &tabs.k[tabs.nk - 1];
	if (l->nf < 2)
		return img_err_set(err, EINVAL, "'%s' has no value", l->f[0]);
	if (!strcmp(l->f[0], "since")) {
		if (img_kversion_parse(l->f[1], &f->since))
			return img_err_set(err, EINVAL, "bad kernel version '%s'", l->f[1]);
		f->since_str = keep(l->f[1]);
	} else if (!strcmp(l->f[0], "probe")) {
		f->probe = keep(l->f[1]);
	} else if (!strcmp(l->f[0], "missing")) {
		if (!strcmp(l->f[1], "error"))
			f->missing = IMG_SEV_ERROR;
		else if (!strcmp(l->f[1], "warning"))
			f->missing = IMG_SEV_WARNING;
		else
			return img_err_set(err, EINVAL, "missing: '%s' is not error or warning", l->f[1]);
	} else if (!strcmp(l->f[0], "what")) {
		f->what = keep(l->rest[1]);
	} else if (!strcmp(l->f[0], "todo")) {
		f->todo = keep(l->rest[1]);
	} else {
		return img_err_set(err, EINVAL, "unknown member '%s'", l->f[0]);
	}
	return 0;
}

static const char *dash(const char *s)
{
	return strcmp(s, "-") ? keep(s) : NULL;
}

static int xsave_line(void *arg, const struct img_tab_line *l, struct img_err *err)
{
	struct img_xfeature *x;
	char *end;
	unsigned long bit;

	(void)arg;
	if (l->nf < 6)
		return img_err_set(err, EINVAL, "expected 'BIT NAME FLAG FIELD user|supervisor WHAT'");
	bit = strtoul(l->f[0], &end, 10);
	if (*end || bit > 63)
		return img_err_set(err, EINVAL, "bad bit '%s'", l->f[0]);
	if (tabs.nx == MAX_XFEATURES)
		return img_err_set(err, EINVAL, "more than %d components", MAX_XFEATURES);
	if (strcmp(l->f[4], "user") && strcmp(l->f[4], "supervisor"))
		return img_err_set(err, EINVAL, "'%s' is not user or supervisor", l->f[4]);
	x = &tabs.x[tabs.nx++];
	x->bit = (unsigned)bit;
	x->name = keep(l->f[1]);
	x->flag = dash(l->f[2]);
	x->field = dash(l->f[3]);
	x->user = !strcmp(l->f[4], "user");
	x->what = keep(l->rest[5]);
	return 0;
}

static int load_one(const char *name, int (*fn)(void *, const struct img_tab_line *, struct img_err *))
{
	const struct img_tabsrc *t = img_tab_builtin(name);

	if (!t)
		return img_err_set(&tabs.err, ENOENT, "no built-in table %s", name);
	return img_tab_parse(t->text, t->len, name, fn, NULL, &tabs.err);
}

static void load(void)
{
	img_arena_init(&tabs.arena);
	tabs.r = load_one("features/kernel.tab", kernel_line);
	if (!tabs.r)
		for (size_t i = 0; i < tabs.nk; i++)
			if (!tabs.k[i].since_str || !tabs.k[i].probe || !tabs.k[i].what || !tabs.k[i].todo) {
				tabs.r = img_err_set(&tabs.err, EINVAL,
						     "features/kernel.tab: feature %s lacks since, probe, what or todo",
						     tabs.k[i].name);
				break;
			}
	if (!tabs.r)
		tabs.r = load_one("features/xsave.tab", xsave_line);
	if (tabs.r) {
		tabs.nk = tabs.nx = 0;
		img_err_subject(&tabs.err, "built-in tables");
	}
}

static int loaded(struct img_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load);
	if (tabs.r && err)
		*err = tabs.err;
	return tabs.r;
}

int img_kfeatures(const struct img_kfeature **t, size_t *n, struct img_err *err)
{
	int r = loaded(err);

	*t = tabs.k;
	*n = tabs.nk;
	return r;
}

int img_xfeatures(const struct img_xfeature **t, size_t *n, struct img_err *err)
{
	int r = loaded(err);

	*t = tabs.x;
	*n = tabs.nx;
	return r;
}

const struct img_kfeature *img_kfeature_find(const char *name)
{
	loaded(NULL);
	for (size_t i = 0; i < tabs.nk; i++)
		if (!strcmp(tabs.k[i].name, name))
			return &tabs.k[i];
	return NULL;
}

const struct img_xfeature *img_xfeature_by_bit(unsigned bit)
{
	loaded(NULL);
	for (size_t i = 0; i < tabs.nx; i++)
		if (tabs.x[i].bit == bit)
			return &tabs.x[i];
	return NULL;
}

const struct img_xfeature *img_xfeature_by_name(const char *name)
{
	loaded(NULL);
	for (size_t i = 0; i < tabs.nx; i++)
		if (!strcmp(tabs.x[i].name, name))
			return &tabs.x[i];
	return NULL;
}
