/*
 * embed: turn the transform tables (schemas/transforms, JSON) into a C file
 * that holds their text, so that the library needs no files at run time.
 *
 *     embed OUT.c FILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int emit(FILE *o, const char *path)
{
	const char *base = strrchr(path, '/');
	char name[256];
	size_t n, len = 0;
	FILE *f = fopen(path, "rb");
	int c, col = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".json"))
		n -= 5;
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, base, n);
	name[n] = 0;
	fprintf(o, "\t{ \"%s\",\n\t  \"", name);
	while ((c = fgetc(f)) != EOF) {
		len++;
		if (c == '\n') {
			fputs("\\n\"\n\t  \"", o);
			col = 0;
			continue;
		}
		if (c == '"' || c == '\\')
			fprintf(o, "\\%c", c);
		else if (c < 32 || c > 126 || c == '?')
			fprintf(o, "\\%03o", c); /* '?' too: no trigraphs */
		else
			fputc(c, o);
		col++;
	}
	fprintf(o, "\",\n\t  %zu },\n", len);
	fclose(f);
	(void)col;
	return 0;
}

int main(int argc, char **argv)
{
	FILE *o;

	if (argc < 2) {
		fprintf(stderr, "usage: embed OUT.c FILE...\n");
		return 2;
	}
	o = fopen(argv[1], "w");
	if (!o) {
		perror(argv[1]);
		return 1;
	}
	fputs("/* Made by tools/embed from schemas/transforms: edit those files, not this one. */\n"
	      "#include <stddef.h>\n\n"
	      "struct xf_blob {\n\tconst char *name;\n\tconst char *text;\n\tsize_t len;\n};\n\n"
	      "extern const struct xf_blob img_xf_blobs[];\n"
	      "const struct xf_blob img_xf_blobs[] = {\n", o);
	for (int i = 2; i < argc; i++)
		if (emit(o, argv[i])) {
			fclose(o);
			remove(argv[1]);
			return 1;
		}
	fputs("\t{ NULL, NULL, 0 },\n};\n", o);
	if (fclose(o)) {
		perror(argv[1]);
		remove(argv[1]);
		return 1;
	}
	return 0;
}
