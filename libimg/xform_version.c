/*
 * CRIU versions: the step tables (one per release that changed the format),
 * which versions a set's features fit, and the chain of steps between two
 * versions.  Also the built-in tables, which the build embeds from
 * schemas/transforms.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "img/tab.h"
#include "xform_int.h"

/* The built-in tables are the JSON texts of schemas/transforms, which the build embeds (tools/tabc, img/tab.h). */
#define XF_DIR "transforms/"

static int is_xform(const struct img_tabsrc *t, size_t *len)
{
	size_t n = strlen(t->name);

	if (strncmp(t->name, XF_DIR, strlen(XF_DIR)) || n <= strlen(XF_DIR) + 5 || strcmp(t->name + n - 5, ".json"))
		return 0;
	*len = n - strlen(XF_DIR) - 5;
	return 1;
}

const char *const *img_xf_builtin_names(void)
{
	static char names[128][64];
	static const char *list[129];
	size_t k = 0, len;

	if (!list[0])
		for (const struct img_tabsrc *t = img_tab_builtins(); t->name && k < 128; t++)
			if (is_xform(t, &len) && len < sizeof(names[0])) {
				memcpy(names[k], t->name + strlen(XF_DIR), len);
				names[k][len] = 0;
				list[k] = names[k];
				k++;
			}
	return list;
}

static const struct img_tabsrc *builtin(const char *name)
{
	char path[128];

	if (snprintf(path, sizeof(path), XF_DIR "%s.json", name) >= (int)sizeof(path))
		return NULL;
	return img_tab_builtin(path);
}

int img_xf_table_builtin(const char *name, const struct img_schema *s, struct img_xf_table **out, struct img_err *err)
{
	const struct img_tabsrc *t = builtin(name);

	if (t)
		return img_xf_table_parse(t->text, t->len, name, s, out, err);
	img_err_subject(err, name);
	return img_err_set(err, ENOENT, "no such built-in table");
}

int img_xf_version_ok(const char *s)
{
	int digits = 0, parts = 1;

	if (!s || !*s)
		return 0;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (++digits > 4)
				return 0;
		} else if (*s == '.' && digits && parts < 4) {
			digits = 0;
			parts++;
		} else
			return 0;
	}
	return digits > 0;
}

int img_xf_version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		unsigned long x = strtoul(a, (char **)&a, 10), y = strtoul(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
	}
	return 0;
}

static int by_version_desc(const void *x, const void *y)
{
	const struct img_xf_table *a = *(struct img_xf_table *const *)x, *b = *(struct img_xf_table *const *)y;

	return img_xf_version_cmp(b->version, a->version);
}

static int add_step(struct img_xf_versions *v, struct img_xf_table *t, struct img_err *err)
{
	struct img_xf_table **n;

	for (size_t i = 0; i < v->n; i++)
		if (!img_xf_version_cmp(v->t[i]->version, t->version)) {
			img_err_subject(err, t->name);
			img_err_set(err, EINVAL, "a second step for CRIU %s (the first: %s)", t->version, v->t[i]->name);
			img_xf_table_free(t);
			return -EINVAL;
		}
	n = img_realloc(v->t, (v->n + 1) * sizeof(*n));
	if (!n) {
		img_xf_table_free(t);
		return img_err_set(err, ENOMEM, "out of memory");
	}
	v->t = n;
	v->t[v->n++] = t;
	return 0;
}

int img_xf_versions_builtin(const struct img_schema *s, struct img_xf_versions **out, struct img_err *err)
{
	struct img_xf_versions *v = img_calloc(1, sizeof(*v));

	if (!v)
		return img_err_set(err, ENOMEM, "out of memory");
	for (const char *const *name = img_xf_builtin_names(); *name; name++) {
		struct img_xf_table *t;

		if (img_xf_table_builtin(*name, s, &t, err)) {
			img_xf_versions_free(v);
			return -EINVAL;
		}
		if (!t->version) {
			img_xf_table_free(t);
			continue;
		}
		if (add_step(v, t, err)) {
			img_xf_versions_free(v);
			return -EINVAL;
		}
	}
	img_sort(v->t, v->n, sizeof(*v->t), by_version_desc);
	*out = v;
	return 0;
}

static int json_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

int img_xf_versions_load(const char *dir, const struct img_schema *s, struct img_xf_versions **out,
			 struct img_err *err)
{
	struct img_xf_versions *v = img_calloc(1, sizeof(*v));
	struct dirent **list;
	int n, r = 0;

	if (!v)
		return img_err_set(err, ENOMEM, "out of memory");
	n = scandir(dir, &list, json_name, alphasort);
	if (n < 0) {
		int e = errno;

		img_free(v);
		img_err_subject(err, dir);
		return img_err_set(err, e, "%s", strerror(e));
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct img_xf_table *t;

		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		if (!r && !(r = img_xf_table_load(path, s, &t, err))) {
			if (t->version)
				r = add_step(v, t, err);
			else
				img_xf_table_free(t);
		}
		free(list[i]);
	}
	free(list);
	if (r) {
		img_xf_versions_free(v);
		return r;
	}
	img_sort(v->t, v->n, sizeof(*v->t), by_version_desc);
	*out = v;
	return 0;
}

void img_xf_versions_free(struct img_xf_versions *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++)
		img_xf_table_free(v->t[i]);
	img_free(v->t);
	img_free(v);
}

const char *img_xf_versions_newest(const struct img_xf_versions *v)
{
	return v->n ? v->t[0]->version : NULL;
}

const char *img_xf_versions_oldest(const struct img_xf_versions *v)
{
	return v->n ? v->t[v->n - 1]->before : NULL;
}

int img_xf_detect(const struct img_xf_versions *v, struct img_set *set, struct img_xf_detect *d, struct img_err *err)
{
	memset(d, 0, sizeof(*d));
	if (!v->n)
		return img_err_set(err, ENOENT, "no version steps");
	snprintf(d->lo, sizeof(d->lo), "%s", img_xf_versions_oldest(v));
	snprintf(d->hi, sizeof(d->hi), "%s", img_xf_versions_newest(v));
	for (size_t i = 0; i < v->n; i++) {
		const struct img_xf_table *t = v->t[i];

		for (int side = 0; side < 2; side++)
			for (size_t k = 0; k < t->ndet[side]; k++) {
				char where[160];
				int hit;

				if (xf_match_eval(set, &t->det[side][k], &hit, where, sizeof(where), err))
					return -EINVAL;
				if (!hit)
					continue;
				const char *doc = t->det[side][k].doc ? t->det[side][k].doc : t->name;

				if (side == 1 && img_xf_version_cmp(t->version, d->lo) > 0) {
					snprintf(d->lo, sizeof(d->lo), "%s", t->version);
					snprintf(d->lo_why, sizeof(d->lo_why), "%s: %s", where, doc);
				}
				if (side == 0 && img_xf_version_cmp(t->before, d->hi) < 0) {
					snprintf(d->hi, sizeof(d->hi), "%s", t->before);
					snprintf(d->hi_why, sizeof(d->hi_why), "%s: %s", where, doc);
				}
				break;
			}
	}
	d->mixed = img_xf_version_cmp(d->lo, d->hi) > 0;
	return 0;
}

int img_xf_plan(const struct img_xf_versions *v, const char *from, const char *to, struct img_xf_step *steps,
		size_t max, size_t *n, struct img_err *err)
{
	const char *newest = img_xf_versions_newest(v), *oldest = img_xf_versions_oldest(v);
	int dir = img_xf_version_cmp(to, from);

	*n = 0;
	if (!newest)
		return img_err_set(err, ENOENT, "no version steps");
	if (img_xf_version_cmp(to, newest) > 0)
		return img_err_set(err, EINVAL, "no table knows CRIU %s: the newest format known is CRIU %s's", to, newest);
	if (img_xf_version_cmp(to, oldest) < 0)
		return img_err_set(err, EINVAL, "no table goes below CRIU %s's format (asked for %s)", oldest, to);
	/* v->t is newest first: down walks it forwards, up backwards */
	for (size_t k = 0; k < v->n; k++) {
		size_t i = dir < 0 ? k : v->n - 1 - k;
		const char *ver = v->t[i]->version;
		int take = dir < 0 ? img_xf_version_cmp(ver, to) > 0 && img_xf_version_cmp(ver, from) <= 0
				   : dir > 0 && img_xf_version_cmp(ver, from) > 0 && img_xf_version_cmp(ver, to) <= 0;

		if (!take)
			continue;
		if (*n == max)
			return img_err_set(err, E2BIG, "more than %zu steps", max);
		steps[*n].table = v->t[i];
		steps[*n].way = dir < 0 ? IMG_XF_DOWN : IMG_XF_UP;
		(*n)++;
	}
	return 0;
}

/* "10.0.0.1=10.0.0.2", "fd00::1=fd00::2", "10.1.0.0/16=10.2.0.0/16" */
static int one_addr(const char *s, size_t n, int *family, uint8_t *b, unsigned *plen)
{
	char buf[80], *slash;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	memset(b, 0, 16);
	if (inet_pton(AF_INET, buf, b) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, b) == 1)
		*family = AF_INET6;
	else
		return -1;
	*plen = *family == AF_INET ? 32 : 128;
	if (slash) {
		char *end;
		unsigned long l = strtoul(slash + 1, &end, 10);

		if (*end || end == slash + 1 || l > *plen)
			return -1;
		*plen = (unsigned)l;
	}
	return 0;
}

int img_xf_ipmap_parse(const char *arg, struct img_xf_ipmap *m, struct img_err *err)
{
	const char *eq = strchr(arg, '=');
	int f2;
	unsigned l2;

	memset(m, 0, sizeof(*m));
	if (!eq || one_addr(arg, (size_t)(eq - arg), &m->family, m->old, &m->plen) ||
	    one_addr(eq + 1, strlen(eq + 1), &f2, m->new_, &l2))
		return img_err_set(err, EINVAL, "'%s' is not OLD=NEW with two IP addresses (or prefixes)", arg);
	if (f2 != m->family || l2 != m->plen)
		return img_err_set(err, EINVAL, "'%s': both sides must be of one family and prefix length", arg);
	return 0;
}
