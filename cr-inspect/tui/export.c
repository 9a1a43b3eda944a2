/* Export: bytes of memory to a file (as mem read -o writes them, or as mem read -j prints them), or JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tui.h"

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), k = strlen(suf);

	return n >= k && !strcmp(s + n - k, suf);
}

/* Write the JSON fn makes to path (atomically); a failure is the message shown. */
static int write_json(struct tui *t, const char *path, int indent,
		      int (*fn)(void *arg, struct img_jw *w, struct img_err *err), void *arg)
{
	struct img_err e = { 0 };
	struct img_buf b;
	struct img_out o;
	struct img_jw w;
	char es[1100];
	int r;

	img_buf_init(&b);
	img_out_mem(&o, &b);
	img_jw_init(&w, &o, indent);
	r = fn(arg, &w, &e);
	img_out_putc(&o, '\n');
	img_out_flush(&o);
	if (!r && b.failed)
		r = img_err_set(&e, ENOMEM, "out of memory");
	if (!r)
		r = img_write_file_atomic(path, b.data, b.len, 0644, &e);
	img_buf_free(&b);
	if (r) {
		tui_msg(t, 1, "cannot export: %s", img_err_str(&e, es, sizeof(es)));
		return -1;
	}
	return 0;
}

struct mem_json {
	struct img_mem *m;
	uint64_t addr, len;
};

static int mem_json(void *arg, struct img_jw *w, struct img_err *err)
{
	struct mem_json *mj = arg;
	uint64_t mapped;

	return mem_json_range(w, mj->m, mj->addr, mj->len, &mapped, err);
}

int export_mem(struct tui *t, const struct img_task *task, uint64_t addr, uint64_t len, const char *path)
{
	struct img_err e = { 0 };
	char msg[300], es[1100];
	struct img_mem *m = tui_mem(t, task, msg, sizeof(msg));
	uint64_t have;

	if (!m) {
		tui_msg(t, 1, "%s", msg);
		return -1;
	}
	if (addr + len < addr)
		len = UINT64_MAX - addr;
	if (ends_with(path, ".json")) {
		struct mem_json mj = { m, addr, len };

		/* as mem read -j prints it: on one line */
		return write_json(t, path, 0, mem_json, &mj);
	}
	if (mem_write_range(m, addr, addr + len, path, &have, &e)) {
		tui_msg(t, 1, "cannot export: %s", img_err_str(&e, es, sizeof(es)));
		return -1;
	}
	return 0;
}

struct plain_json {
	void (*fn)(void *arg, struct img_jw *w);
	void *arg;
};

static int plain_json(void *arg, struct img_jw *w, struct img_err *err)
{
	struct plain_json *pj = arg;

	(void)err;
	pj->fn(pj->arg, w);
	return 0;
}

int export_json(struct tui *t, const char *path, void (*fn)(void *arg, struct img_jw *w), void *arg)
{
	struct plain_json pj = { fn, arg };

	return write_json(t, path, 4, plain_json, &pj);
}

void export_json_ask(struct tui *t, const char *defname, void (*fn)(void *arg, struct img_jw *w), void *arg)
{
	char path[512];

	snprintf(path, sizeof(path), "%s", defname);
	if (!prompt(t, "export JSON to file", path, sizeof(path), NULL) || !path[0])
		return;
	if (!export_json(t, path, fn, arg))
		tui_msg(t, 0, "wrote %s", path);
}
