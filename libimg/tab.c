/* The plain-text table format of schemas/features and schemas/criu/logmsgs.tab. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "img/tab.h"

/* Set by the generated gen/tab_data.c. */
extern const struct img_tabsrc img_tab_builtin_list[];

#define LINE_MAX_LEN 4096

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int split(char *line, char *copy, struct img_tab_line *l)
{
	char *p = line;

	l->nf = 0;
	while (*p) {
		while (is_blank((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (l->nf == IMG_TAB_MAXF)
			return -1;
		l->rest[l->nf] = copy + (p - line);
		l->f[l->nf++] = p;
		if (l->nf == IMG_TAB_MAXF)
			break; /* the last field takes the rest of the line */
		while (*p && !is_blank((unsigned char)*p))
			p++;
		if (*p)
			*p++ = 0;
	}
	return 0;
}

int img_tab_parse(const char *text, size_t n, const char *table,
		  int (*fn)(void *arg, const struct img_tab_line *l, struct img_err *err), void *arg,
		  struct img_err *err)
{
	char line[LINE_MAX_LEN], copy[LINE_MAX_LEN];
	struct img_tab_line l = { .table = table };
	size_t at = 0;

	while (at < n) {
		const char *nl = memchr(text + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (text + at)) : n - at;
		const char *s = text + at;
		size_t i = 0;

		at += len + (nl ? 1 : 0);
		l.lineno++;
		if (len >= sizeof(line))
			return img_err_set(err, EINVAL, "%s: line %u: longer than %zu bytes", table, l.lineno,
					   sizeof(line) - 1);
		memcpy(line, s, len);
		line[len] = 0;
		while (len && is_blank((unsigned char)line[len - 1]))
			line[--len] = 0;
		while (i < len && is_blank((unsigned char)line[i]))
			i++;
		if (i == len || line[i] == '#')
			continue;
		l.indented = i > 0;
		memcpy(copy, line, len + 1);
		if (split(line, copy, &l))
			return img_err_set(err, EINVAL, "%s: line %u: too many fields", table, l.lineno);
		int r = fn(arg, &l, err);

		if (r) {
			img_err_prefix(err, "%s: line %u", table, l.lineno);
			return r;
		}
	}
	return 0;
}

const struct img_tabsrc *img_tab_builtin(const char *name)
{
	for (const struct img_tabsrc *t = img_tab_builtin_list; t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

const struct img_tabsrc *img_tab_builtins(void)
{
	return img_tab_builtin_list;
}

int img_kversion_parse(const char *s, uint32_t *v)
{
	unsigned long part[3] = { 0, 0, 0 };
	int i = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	while (i < 3 && isdigit((unsigned char)*s)) {
		unsigned long x = 0;

		while (isdigit((unsigned char)*s)) {
			x = x * 10 + (unsigned long)(*s++ - '0');
			if (x > 100000)
				return -EINVAL;
		}
		part[i++] = x > 255 ? 255 : x;
		if (*s != '.')
			break;
		s++;
	}
	if (i < 2)
		return -EINVAL;
	*v = (uint32_t)(part[0] << 16 | part[1] << 8 | part[2]);
	return 0;
}
