/* decode, show, info: crit's image commands. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cr-inspect.h"

/* Read one image from a source. */
static int read_image(struct img_cli *c, struct img_src *src, unsigned flags, struct img_image **img)
{
	struct img_err e = { 0 };
	int r;

	r = img_image_read(src, img_schema_default(), NULL, flags, img, &e);
	if (r)
		return img_cli_fail(c, "read", &e);
	if ((*img)->kind->layout == IMG_LAY_RAW || (*img)->kind->layout == IMG_LAY_OPAQUE) {
		e.code = EINVAL;
		snprintf(e.subject, sizeof(e.subject), "%s", (*img)->src->name);
		snprintf(e.msg, sizeof(e.msg), "%s image (%s) has no entries to decode%s",
			 (*img)->kind->layout == IMG_LAY_RAW ? "a raw" : "an opaque", (*img)->kind->name,
			 !strcmp((*img)->kind->name, "PAGES") ? "; read memory with 'cr-inspect mem read'" : "");
		img_image_free(*img);
		*img = NULL;
		return img_cli_fail(c, "decode", &e);
	}
	return 0;
}

static int emit(struct img_cli *c, struct img_image *img, unsigned flags, const char *out)
{
	struct img_err e = { 0 };
	struct img_out o;
	struct img_buf b;
	int r;

	if (!out || !strcmp(out, "-")) {
		img_out_fd(&o, STDOUT_FILENO);
		r = img_image_to_json(img, &o, flags);
		if (!r)
			r = img_out_flush(&o);
		if (r) {
			img_err_set(&e, -r, "%s", strerror(-r));
			img_err_subject(&e, "<stdout>");
			return img_cli_fail(c, "write", &e);
		}
		return 0;
	}
	img_buf_init(&b);
	img_out_mem(&o, &b);
	r = img_image_to_json(img, &o, flags);
	if (!r)
		r = img_out_flush(&o);
	/* crit writes no newline at the end of a file */
	if (!r && b.len && b.data[b.len - 1] == '\n')
		b.len--;
	if (r)
		img_err_set(&e, -r, "%s", strerror(-r));
	else
		r = img_write_file_atomic(out, b.data, b.len, 0644, &e);
	img_buf_free(&b);
	return r ? img_cli_fail(c, "write", &e) : 0;
}

int cmd_decode(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "linuxcr-version", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *in = NULL, *out = NULL, *version = NULL;
	struct img_image *img = NULL;
	struct img_src *src;
	int opt, r;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "i:o:", opts)) != -1) {
		switch (opt) {
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'V':
			version = optarg;
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc)
		return img_cmd_usage(c, cmd, "unexpected argument '%s'", argv[optind]);
	if ((r = lcr_open_src(c, in, &src)))
		return r;
	if (lcr_is_stream(src) || version) {
		r = lcr_decode(c, src, version, c->pretty, out);
		img_src_unref(src);
		return r;
	}
	r = read_image(c, src, 0, &img);
	img_src_unref(src);
	if (r)
		return r;
	r = emit(c, img, c->pretty ? IMG_JSON_PRETTY : 0, out);
	img_image_free(img);
	return r;
}

int cmd_show(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nopl", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct img_image *img = NULL;
	struct img_src *src;
	int opt, r, nopl = 0;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "", opts)) != -1) {
		switch (opt) {
		case 'n':
			nopl = 1;
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc)
		return img_cmd_usage(c, cmd, "expected one image");
	if ((r = lcr_open_src(c, argv[optind], &src)))
		return r;
	if (lcr_is_stream(src)) {
		r = lcr_decode(c, src, NULL, 1, NULL);
		img_src_unref(src);
		return r;
	}
	r = read_image(c, src, 0, &img);
	img_src_unref(src);
	if (r)
		return r;
	r = emit(c, img, IMG_JSON_PRETTY | (nopl ? IMG_JSON_NOPL : 0), NULL);
	img_image_free(img);
	return r;
}

int cmd_info(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "entries", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	int entries = 0;
	struct img_image *img = NULL;
	struct img_err e = { 0 };
	struct img_src *src;
	struct img_out o;
	struct img_jw w;
	int opt, r;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "", opts)) != -1) {
		if (opt == 'e')
			entries = 1;
		else
			return opt == 'h' ? 0 : 2;
	}
	if (optind + 1 != argc)
		return img_cmd_usage(c, cmd, "expected one image");
	r = img_src_open_spec(argv[optind], &src, &e);
	if (!r && lcr_is_stream(src)) {
		r = lcr_info(c, src, entries);
		img_src_unref(src);
		return r;
	}
	if (!r) {
		r = img_image_read(src, img_schema_default(), NULL, IMG_READ_FRAMES, &img, &e);
		img_src_unref(src);
	}
	if (r)
		return img_cli_fail(c, "read", &e);
	img_out_fd(&o, STDOUT_FILENO);
	img_jw_init(&w, &o, 4);
	img_jw_obj_begin(&w);
	if (img->kind->json) {
		img_jw_kv_str(&w, "magic", img->kind->json);
		/* crit does not count the pagemap's head */
		img_jw_kv_u64(&w, "count", img->kind->layout == IMG_LAY_PAGEMAP && img->n ? img->n - 1 : img->n);
	} else {
		img_jw_kv_str(&w, "magic", img->kind->name);
		img_jw_kv_u64(&w, "count", 0);
		img_jw_kv_u64(&w, "size", img->raw_size);
	}
	if (entries) {
		/* where each entry lies: for damaged files and for people who read hex dumps */
		img_jw_kv_str(&w, "kind", img->kind->name);
		img_jw_key(&w, "entries");
		img_jw_arr_begin(&w);
		for (size_t i = 0; i < img->n; i++) {
			const struct img_entry *en = &img->e[i];

			img_jw_obj_begin(&w);
			img_jw_kv_u64(&w, "offset", en->off);
			if (img->kind->layout == IMG_LAY_VADDR_PAGES)
				img_jw_kv_u64(&w, "vaddr", en->vaddr);
			else
				img_jw_kv_u64(&w, "size", en->size);
			if (en->has_extra)
				img_jw_kv_u64(&w, "extra", en->extra_len);
			img_jw_obj_end(&w);
		}
		img_jw_arr_end(&w);
	}
	img_jw_obj_end(&w);
	img_out_putc(&o, '\n');
	r = img_out_flush(&o);
	img_image_free(img);
	return r ? 2 : 0;
}
