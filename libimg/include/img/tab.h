/*
 * libimg: the plain-text tables of schemas/ that are not image schemas —
 * kernel and CPU feature tables, CRIU log messages.  The build embeds them
 * (tools/tabc); the library parses them at first use.
 *
 * A table is lines of fields separated by blanks.  '#' at the start of a
 * line (after blanks) makes it a comment.  A line that starts with a blank
 * is "indented": record tables use unindented lines to start a record and
 * indented "KEY VALUE..." lines for its members.
 */
#ifndef IMG_TAB_H
#define IMG_TAB_H

#include "base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IMG_TAB_MAXF 12

struct img_tab_line {
	const char *table;   /* the table's name, for messages */
	unsigned lineno;
	int indented;
	unsigned nf;         /* fields (at most IMG_TAB_MAXF; the last holds what is left) */
	const char *f[IMG_TAB_MAXF];
	const char *rest[IMG_TAB_MAXF]; /* the line from field i to its end, trailing blanks cut */
};

/*
 * Call fn for each line that is not blank or a comment.  The strings live
 * until fn returns.  fn returns 0 to go on, or -errno (having filled err) to
 * stop; errors from fn get "TABLE: line N: " in front.
 */
int img_tab_parse(const char *text, size_t n, const char *table,
		  int (*fn)(void *arg, const struct img_tab_line *l, struct img_err *err), void *arg,
		  struct img_err *err);

/* A table built into the library ("features/kernel.tab"), or NULL. */
struct img_tabsrc {
	const char *name;
	const char *text;
	size_t len;
};
const struct img_tabsrc *img_tab_builtin(const char *name);
/* All of them, ending with a NULL name. */
const struct img_tabsrc *img_tab_builtins(void);

/*
 * Parse every built-in table now (schemas, log messages, kernel and XSAVE
 * features, legacy file types, the linux-cr bridge).  Each is otherwise parsed
 * at its first use and kept for the program's life; a program that counts its
 * allocations calls this first so that none of them is counted.
 */
void img_tables_load(void);

/* "4.18" or "5.6.2" -> 0x041200 style (major << 16 | minor << 8 | patch, each capped at 255). */
int img_kversion_parse(const char *s, uint32_t *v);

#ifdef __cplusplus
}
#endif
#endif
