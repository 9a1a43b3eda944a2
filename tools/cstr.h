/* The build tools' C output: a string as a C literal (or NULL). */
#ifndef CSTR_H
#define CSTR_H

#include <stdio.h>

static inline void c_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("NULL", out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* The generated file goes to PATH.tmp first and is renamed when complete. */
static inline FILE *c_open(const char *path, char *tmp, size_t n)
{
	FILE *f;

	snprintf(tmp, n, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		perror(tmp);
	return f;
}

static inline int c_close(FILE *f, const char *tmp, const char *path)
{
	if (fclose(f)) {
		perror(tmp);
		return 2;
	}
	if (rename(tmp, path)) {
		perror(path);
		return 2;
	}
	return 0;
}

#endif
