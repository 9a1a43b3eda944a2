/* linux-cr streams: decode/show/info of a stream, and ckptinfo (user-cr's inspector). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cr-inspect.h"

#define STDIN_MAX ((size_t)1 << 34)

int lcr_open_src(struct img_cli *c, const char *path, struct img_src **src)
{
	struct img_err e = { 0 };
	int r;

	if (!path || !strcmp(path, "-"))
		r = img_src_read_fd(STDIN_FILENO, "<stdin>", STDIN_MAX, src, &e);
	else
		r = img_src_open_spec(path, src, &e);
	return r ? img_cli_fail(c, "read", &e) : 0;
}

int lcr_is_stream(struct img_src *src)
{
	uint8_t head[24];
	struct img_err e = { 0 };

	if (src->data)
		return img_lcr_probe(src->data, src->size) != 0;
	/* a windowed archive member: its first bytes only */
	return src->size >= sizeof(head) && !img_src_pread(src, head, sizeof(head), 0, &e) &&
	       img_lcr_probe(head, sizeof(head)) != 0;
}

static int read_lcr(struct img_cli *c, struct img_src *src, const char *version, unsigned flags,
		    struct img_lcr_image **img)
{
	struct img_lcr_opts o = { version, NULL, flags };
	struct img_err e = { 0 };

	if (img_lcr_read(src, NULL, &o, img, &e))
		return img_cli_fail(c, "read", &e);
	if ((*img)->det.ambiguous && !(*img)->det.forced)
		img_cli_warn(c, "'%s': %s and %s fit this stream alike; read as %s (--linuxcr-version chooses)",
			     src->name, (*img)->lay->ver->name, (*img)->det.others, (*img)->lay->ver->name);
	return 0;
}

/* decode and show of a linux-cr stream: JSON of every record */
int lcr_decode(struct img_cli *c, struct img_src *src, const char *version, int pretty, const char *out)
{
	struct img_lcr_image *img;
	struct img_err e = { 0 };
	struct img_out o;
	struct img_buf b;
	int r = read_lcr(c, src, version, 0, &img);

	if (r)
		return r;
	img_buf_init(&b);
	if (out && strcmp(out, "-"))
		img_out_mem(&o, &b);
	else
		img_out_fd(&o, STDOUT_FILENO);
	r = img_lcr_to_json(img, &o, pretty ? IMG_LCR_JSON_PRETTY : 0);
	if (!r)
		r = img_out_flush(&o);
	img_lcr_free(img);
	if (r) {
		img_err_set(&e, -r, "%s", strerror(-r));
		img_err_subject(&e, out ? out : "<stdout>");
	} else if (out && strcmp(out, "-")) {
		r = img_write_file_atomic(out, b.data, b.len, 0644, &e);
	}
	img_buf_free(&b);
	return r ? img_cli_fail(c, "write", &e) : 0;
}

/* info of a linux-cr stream: its version and records (with --entries, where each lies) */
int lcr_info(struct img_cli *c, struct img_src *src, int entries)
{
	struct img_lcr_image *img;
	struct img_out o;
	struct img_jw w;
	int r = read_lcr(c, src, NULL, IMG_LCR_FRAMES, &img);

	if (r)
		return r;
	img_out_fd(&o, STDOUT_FILENO);
	img_jw_init(&w, &o, 4);
	img_jw_obj_begin(&w);
	img_jw_kv_str(&w, "magic", "LINUXCR");
	img_jw_kv_u64(&w, "count", img->n);
	img_jw_kv_str(&w, "version", img->lay->ver->name);
	img_jw_kv_str(&w, "arch", img->lay->arch);
	if (entries) {
		img_jw_key(&w, "entries");
		img_jw_arr_begin(&w);
		for (size_t i = 0; i < img->n; i++) {
			img_jw_obj_begin(&w);
			img_jw_kv_u64(&w, "offset", img->r[i].off);
			img_jw_kv_u64(&w, "type", img->r[i].type);
			if (img->r[i].rt)
				img_jw_kv_str(&w, "name", img->r[i].rt->name);
			img_jw_kv_u64(&w, "len", img->r[i].len);
			img_jw_obj_end(&w);
		}
		img_jw_arr_end(&w);
	}
	img_jw_obj_end(&w);
	img_out_putc(&o, '\n');
	r = img_out_flush(&o);
	img_lcr_free(img);
	return r ? 2 : 0;
}

int cmd_ckptinfo(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "error", no_argument, NULL, 'e' },
		{ "pids", no_argument, NULL, 'p' },
		{ "pids-only", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "show-arch-regs", no_argument, NULL, 'R' },
		{ "linuxcr-version", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned flags = 0;
	const char *version = NULL;
	struct img_lcr_image *img;
	struct img_src *src;
	struct img_err e = { 0 };
	struct img_buf b;
	struct img_out o;
	int opt, r;

	while ((opt = img_cmd_getopt(c, cmd, argc, argv, "epv", opts)) != -1) {
		switch (opt) {
		case 'e':
			flags |= IMG_LCR_CI_ERROR;
			break;
		case 'p':
			flags |= IMG_LCR_CI_PIDS;
			break;
		case 'v':
			flags |= IMG_LCR_CI_VERBOSE;
			break;
		case 'R':
			flags |= IMG_LCR_CI_REGS;
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
	if (optind + 1 < argc)
		return img_cmd_usage(c, cmd, "expected one image");
	r = lcr_open_src(c, optind < argc ? argv[optind] : NULL, &src);
	if (r)
		return r;
	r = read_lcr(c, src, version, IMG_LCR_FRAMES, &img);
	img_src_unref(src);
	if (r)
		return r;
	img_buf_init(&b);
	img_out_mem(&o, &b);
	r = img_lcr_ckptinfo(img, &o, flags, &e);
	img_out_flush(&o);
	if (c->json) {
		/* the same lines, as a JSON array of strings */
		struct img_out jo;
		struct img_jw w;

		img_out_fd(&jo, STDOUT_FILENO);
		img_jw_init(&w, &jo, c->pretty ? 4 : 0);
		img_jw_obj_begin(&w);
		img_jw_key(&w, "lines");
		img_jw_arr_begin(&w);
		for (size_t s = 0, k = 0; k < b.len; k++)
			if (b.data[k] == '\n') {
				img_jw_strn(&w, (const char *)b.data + s, k - s);
				s = k + 1;
			}
		img_jw_arr_end(&w);
		if (r)
			img_jw_kv_str(&w, "error", e.msg);
		img_jw_obj_end(&w);
		img_out_putc(&jo, '\n');
		img_out_flush(&jo);
	} else if (b.len && write(STDOUT_FILENO, b.data, b.len) != (ssize_t)b.len) {
		r = -errno;
	}
	img_buf_free(&b);
	if (r && e.msg[0]) {
		img_err_subject(&e, img->src->name);
		img_lcr_free(img);
		if (c->json)
			return 2;
		return img_cli_fail(c, "read", &e);
	}
	img_lcr_free(img);
	return r ? 2 : 0;
}
