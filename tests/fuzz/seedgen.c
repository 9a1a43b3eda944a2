/*
 * Seeds and dictionaries for the fuzz targets, made with libimg from real
 * images (tests/fuzz/seeds runs it):
 *
 *   seedgen pb OUT FILE...        each entry of each image, as pb's input (message index + payload)
 *   seedgen image OUT FILE...     each image, as image's input (kind index + mode + bytes)
 *   seedgen dir OUT NAME SET [MAX] an image folder as dir's input (pages files cut to MAX bytes)
 *   seedgen dict TARGET           a libFuzzer dictionary on stdout: magics, file names, JSON keys
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "img/image.h"

static const struct img_schema *S;

static int save(const char *out, const char *name, const void *h, size_t hn, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	fwrite(h, 1, hn, f);
	if (n)
		fwrite(p, 1, n, f);
	return fclose(f);
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int msg_index(const struct img_msgdesc *d)
{
	return (int)(d - S->msgs);
}

static int kind_index(const struct img_kind *k)
{
	return (int)(k - S->kinds);
}

static int seed_pb(const char *out, int argc, char **argv)
{
	static int seq;

	for (int i = 0; i < argc; i++) {
		struct img_image *img;
		struct img_err e = { 0 };

		if (img_image_open(argv[i], S, 0, &img, &e))
			continue;
		for (size_t j = 0; j < img->n && j < 16; j++) {
			const struct img_entry *en = &img->e[j];
			uint8_t h[2];
			char name[64];
			int mi;

			if (!en->msg || !en->desc)
				continue;
			mi = msg_index(en->desc);
			h[0] = (uint8_t)mi;
			h[1] = (uint8_t)(mi >> 8);
			snprintf(name, sizeof(name), "%s-%zu-%d", en->desc->name, j, seq++);
			save(out, name, h, 2, img->src->data + en->off + 4, en->size);
		}
		img_image_free(img);
	}
	return 0;
}

static int seed_image(const char *out, int argc, char **argv)
{
	static int seq;

	for (int i = 0; i < argc; i++) {
		struct img_image *img;
		struct img_err e = { 0 };
		char name[300];
		uint8_t h[2];

		if (img_image_open(argv[i], S, 0, &img, &e))
			continue;
		if (img->src->size <= (1 << 16)) {
			h[0] = (uint8_t)kind_index(img->kind);
			h[1] = (uint8_t)(seq % 4);
			snprintf(name, sizeof(name), "%d-%s", seq++, base(argv[i]));
			save(out, name, h, 2, img->src->data, img->src->size);
		}
		img_image_free(img);
	}
	return 0;
}

struct dirseed {
	FILE *f;
	const char *set, *prefix;
	size_t max;
};

static void add_member(struct dirseed *d, const char *name, const char *path)
{
	struct img_src *src;
	struct img_err e = { 0 };
	size_t n;

	if (img_src_open(path, &src, &e))
		return;
	n = src->size;
	if (n > d->max)
		n = d->max;
	if (n > 65535)
		n = 65535;
	fprintf(d->f, "%s%s%c%c%c", d->prefix, name, 0, (int)(n & 0xff), (int)(n >> 8));
	fwrite(src->data, 1, n, d->f);
	img_src_unref(src);
}

static void add_folder(struct dirseed *d, const char *dir)
{
	struct dirent **de;
	int k = scandir(dir, &de, NULL, alphasort);

	for (int i = 0; i < k; i++) {
		char path[4096];
		struct stat st;
		size_t l = strlen(de[i]->d_name);

		snprintf(path, sizeof(path), "%s/%s", dir, de[i]->d_name);
		if (de[i]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode) &&
		    (l < 4 || strcmp(de[i]->d_name + l - 4, ".log")))
			add_member(d, de[i]->d_name, path);
		free(de[i]);
	}
	free(de);
}

static int seed_dir(const char *out, const char *name, const char *set, size_t max)
{
	char path[4096];
	struct dirseed d = { NULL, set, "", max };
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", out, name);
	d.f = fopen(path, "wb");
	if (!d.f)
		return 1;
	add_folder(&d, set);
	snprintf(path, sizeof(path), "%s/parent", set);
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		d.prefix = "parent/";
		add_folder(&d, path);
	}
	return fclose(d.f) ? 1 : 0;
}

static void dict_bytes(const char *what, const void *p, size_t n)
{
	const uint8_t *b = p;

	printf("%s=\"", what);
	for (size_t i = 0; i < n; i++)
		printf("\\x%02x", b[i]);
	printf("\"\n");
}

static void dict_str(const char *what, const char *s, int nul)
{
	printf("%s=\"", what);
	for (; *s; s++)
		printf(*s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
	printf("%s\"\n", nul ? "\\x00" : "");
}

static int dict(const char *target)
{
	uint8_t b[4];
	char name[128];

	if (!strcmp(target, "image") || !strcmp(target, "dir")) {
		img_put_u32(b, IMG_MAGIC_COMMON);
		dict_bytes("head_common", b, 4);
		img_put_u32(b, IMG_MAGIC_SERVICE);
		dict_bytes("head_service", b, 4);
		for (uint32_t i = 0; i < S->nkinds; i++) {
			if (!S->kinds[i].magic)
				continue;
			img_put_u32(b, S->kinds[i].magic);
			snprintf(name, sizeof(name), "magic_%s", S->kinds[i].name);
			for (char *c = name; *c; c++)
				if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
					*c = '_';
			dict_bytes(name, b, 4);
		}
	}
	if (!strcmp(target, "dir")) {
		for (uint32_t i = 0; i < S->nkinds; i++) {
			if (img_kind_filename(&S->kinds[i], 1, "x", name, sizeof(name)))
				continue;
			dict_str("file", name, 1);
		}
		dict_str("parent", "parent/", 0);
	}
	if (!strcmp(target, "json")) {
		const char *keys[] = { "magic", "entries", "_head", "_unknown", "extra", "data", "vaddr" };

		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			snprintf(name, sizeof(name), "\"%s\": ", keys[i]);
			dict_str("key", name, 0);
		}
		for (uint32_t i = 0; i < S->nkinds; i++)
			if (S->kinds[i].json) {
				snprintf(name, sizeof(name), "\"%s\"", S->kinds[i].json);
				dict_str("kind", name, 0);
			}
		for (uint32_t i = 0; i < S->nmsgs; i++)
			for (uint32_t j = 0; j < S->msgs[i].nfields; j++) {
				snprintf(name, sizeof(name), "\"%s\": ", S->msgs[i].fields[j].name);
				dict_str("field", name, 0);
			}
		for (uint32_t i = 0; i < S->nenums; i++)
			for (uint32_t j = 0; j < S->enums[i].nvals; j++) {
				snprintf(name, sizeof(name), "\"%s\"", S->enums[i].vals[j].name);
				dict_str("enum", name, 0);
			}
	}
	return 0;
}

int main(int argc, char **argv)
{
	S = img_schema_default();
	if (argc >= 3 && !strcmp(argv[1], "dict"))
		return dict(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "pb"))
		return seed_pb(argv[2], argc - 3, argv + 3);
	if (argc >= 3 && !strcmp(argv[1], "image"))
		return seed_image(argv[2], argc - 3, argv + 3);
	if (argc >= 5 && !strcmp(argv[1], "dir"))
		return seed_dir(argv[2], argv[3], argv[4], argc > 5 ? strtoul(argv[5], NULL, 0) : 65536);
	fprintf(stderr, "usage: seedgen pb|image OUT FILE... | dir OUT NAME SET [MAX] | dict TARGET\n");
	return 2;
}
