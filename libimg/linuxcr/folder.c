/*
 * img_dir_open's reader of linux-cr streams: the stream is read (version
 * detected), and its CRIU view (tocriu.c) is the folder.  The view is lossy:
 * tools that inspect a checkpoint see what the bridge can carry, and
 * cr-convert --to criu, which wants to know, builds the view strictly itself.
 */
#include <errno.h>

#include "img/linuxcr.h"

static int lcr_bid(const char *path, const uint8_t *head, size_t n)
{
	(void)path;
	return img_lcr_probe(head, n) ? 70 : 0;
}

static int lcr_open_dir(const char *path, struct img_dir **out, struct img_err *err)
{
	struct img_lcr_bridge_opts o = { IMG_LCR_BRIDGE_LOSSY, NULL, NULL };
	struct img_lcr_image *img;
	int r = img_lcr_open(path, NULL, &img, err);

	if (r)
		return r;
	r = img_lcr_criu_dir(img, &o, out, err);
	img_lcr_free(img);
	return r;
}

const struct img_dir_format img_lcr_dir_format = { "linux-cr", lcr_bid, lcr_open_dir };
