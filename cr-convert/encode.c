/* encode: crit's JSON back to an image. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cr-convert.h"

int cmd_encode(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *in = NULL, *out = NULL;
	struct img_err e = { 0 };
	struct img_image *img = NULL;
	struct img_arena a;
	struct img_src *src;
	struct img_jv *v;
	struct img_buf b;
	int opt, r;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "i:o:", opts)) != -1) {
		switch (opt) {
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc)
		return img_cmd_usage(c, cmd, "unexpected argument '%s'", argv[optind]);
	if ((!out || !strcmp(out, "-")) && isatty(STDOUT_FILENO))
		return img_cli_failf(c, "refusing to write a binary image to a terminal; use -o FILE");
	if (!in || !strcmp(in, "-"))
		r = img_src_read_fd(STDIN_FILENO, "<stdin>", (size_t)1 << 34, &src, &e);
	else
		r = img_src_open(in, &src, &e);
	if (r)
		return img_cli_fail(c, "read", &e);
	img_arena_init(&a);
	img_err_subject(&e, src->name);
	v = img_json_parse(&a, (const char *)src->data, src->size, &e);
	if (!v) {
		img_arena_free(&a);
		img_src_unref(src);
		return img_cli_fail(c, "read", &e);
	}
	r = img_image_from_json(v, img_schema_default(), &img, &e);
	if (r) {
		img_arena_free(&a);
		img_src_unref(src);
		return img_cli_fail(c, "encode", &e);
	}
	img_buf_init(&b);
	r = img_image_write(img, &b, &e);
	if (!r) {
		if (!out || !strcmp(out, "-")) {
			struct img_out o;

			img_out_fd(&o, STDOUT_FILENO);
			img_out_write(&o, b.data, b.len);
			r = img_out_flush(&o);
			if (r) {
				img_err_set(&e, -r, "%s", strerror(-r));
				img_err_subject(&e, "<stdout>");
			}
		} else
			r = img_write_file_atomic(out, b.data, b.len, 0644, &e);
	}
	img_buf_free(&b);
	img_image_free(img);
	img_arena_free(&a);
	img_src_unref(src);
	return r ? img_cli_fail(c, "write", &e) : 0;
}
