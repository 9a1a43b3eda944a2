/* maps, mem read, mem dump: a task's mappings and the bytes behind them. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cr-inspect.h"

#define DEFAULT_READ 256

struct mem_opts {
	struct img_cli *c;
	const struct img_cmd *cmd;
	uint32_t pid;
	int have_pid;
	const char *out;
	const char *root;
};

static int mem_opt(void *arg, int opt, const char *val)
{
	struct mem_opts *mo = arg;

	switch (opt) {
	case 'P':
		mo->have_pid = 1;
		return parse_pid(mo->c, mo->cmd, val, &mo->pid);
	case 'o':
		mo->out = val;
		return 0;
	case 'R':
		mo->root = val;
		return 0;
	}
	return 2;
}

static const struct option mem_longopts[] = {
	{ "pid", required_argument, NULL, 'P' },
	{ "output", required_argument, NULL, 'o' },
	{ "root", required_argument, NULL, 'R' },
	{ NULL, 0, NULL, 0 },
};

static int open_mem(struct img_cli *c, struct img_ckpt *ck, const struct img_task *t, const char *root,
		    struct img_mem **m)
{
	struct img_err e = { 0 };

	if (img_mem_open(ck, t, 0, m, &e) || (root && img_mem_set_root(*m, root, &e))) {
		img_mem_close(*m);
		*m = NULL;
		return img_cli_fail(c, "read the memory of", &e);
	}
	return 0;
}

static const char *vma_flags(const struct img_vma *v, char buf[5])
{
	prot_str(v->prot, buf);
	buf[3] = (v->flags & 0x01) ? 's' : 'p'; /* MAP_SHARED */
	buf[4] = 0;
	return buf;
}

int cmd_maps(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	struct mem_opts mo = { c, cmd, 0, 0, NULL, NULL };
	const struct img_task *const *tasks, *one = NULL;
	struct img_ckpt *ck;
	struct out o;
	char *pos[1];
	size_t n;
	int npos, r;

	r = parse_explorer(c, cmd, argc, argv, "", mem_longopts, mem_opt, &mo, pos, 1, 1, &npos);
	if (r)
		return r < 0 ? 0 : r;
	if (mo.out)
		return img_cmd_usage(c, cmd, "--output is for mem read and mem dump");
	r = open_ckpt(c, pos[0], &ck);
	if (r)
		return r;
	if ((r = pick_tasks(c, ck, mo.have_pid, mo.pid, &one, &tasks, &n))) {
		img_ckpt_close(ck);
		return r;
	}
	out_begin(c, &o);
	if (o.json)
		img_jw_arr_begin(&o.w);
	for (size_t i = 0; i < n && !r; i++) {
		const struct img_task *t = tasks[i];
		struct img_mem *m;

		if (!t->mm)
			continue;
		r = open_mem(c, ck, t, mo.root, &m);
		if (r)
			break;
		if (o.json) {
			img_jw_obj_begin(&o.w);
			img_jw_kv_u64(&o.w, "pid", t->pid);
			img_jw_kv_str(&o.w, "comm", t->comm);
			img_jw_key(&o.w, "maps");
			img_jw_arr_begin(&o.w);
		} else {
			img_out_printf(&o.o, "pid %u %s\n%-25s %4s %8s %-8s %7s %7s %7s %7s %7s  %s\n", t->pid, t->comm,
				       "ADDRESS", "PERM", "OFFSET", "KIND", "PAGES", "IMAGE", "FILE", "ZERO", "LAZY",
				       "NAME");
		}
		for (size_t k = 0; k < t->mm->nvmas; k++) {
			const struct img_vma *v = &t->mm->vmas[k];
			uint64_t cnt[IMG_PAGE__COUNT];
			struct img_err e = { 0 };
			char perm[5];

			if (img_mem_count(m, v->start, v->end, cnt, &e)) {
				r = img_cli_fail(c, "read the memory of", &e);
				break;
			}
			vma_flags(v, perm);
			if (o.json) {
				img_jw_obj_begin(&o.w);
				jw_hex(&o.w, "start", v->start);
				jw_hex(&o.w, "end", v->end);
				img_jw_kv_str(&o.w, "perm", perm);
				jw_hex(&o.w, "offset", v->pgoff);
				img_jw_kv_str(&o.w, "kind", img_vma_kind_name(v->kind));
				img_jw_kv_str(&o.w, "name", v->name);
				img_jw_key(&o.w, "pages");
				img_jw_obj_begin(&o.w);
				for (int s = IMG_PAGE_PRESENT; s < IMG_PAGE__COUNT; s++)
					if (cnt[s])
						img_jw_kv_u64(&o.w, img_page_state_name(s), cnt[s]);
				img_jw_obj_end(&o.w);
				img_jw_obj_end(&o.w);
			} else {
				img_out_printf(&o.o, "%012llx-%012llx %4s %08llx %-8s %7llu %7llu %7llu %7llu %7llu  %s%s\n",
					       (unsigned long long)v->start, (unsigned long long)v->end, perm,
					       (unsigned long long)v->pgoff, img_vma_kind_name(v->kind),
					       (unsigned long long)((v->end - v->start) / IMG_PAGE_SIZE),
					       (unsigned long long)(cnt[IMG_PAGE_PRESENT] + cnt[IMG_PAGE_PARENT]),
					       (unsigned long long)cnt[IMG_PAGE_FILE], (unsigned long long)cnt[IMG_PAGE_ZERO],
					       (unsigned long long)cnt[IMG_PAGE_LAZY], v->name,
					       cnt[IMG_PAGE_MISSING] ? "  (pages missing from the image)" : "");
			}
		}
		if (o.json) {
			img_jw_arr_end(&o.w);
			img_jw_obj_end(&o.w);
		}
		img_mem_close(m);
	}
	if (o.json && !r)
		img_jw_arr_end(&o.w);
	if (!r)
		r = out_end(c, &o);
	img_ckpt_close(ck);
	return r;
}

static const char *state_desc(int state)
{
	switch (state) {
	case IMG_PAGE_UNMAPPED: return "not mapped";
	case IMG_PAGE_LAZY: return "not present: lazy pages, left to the page server";
	case IMG_PAGE_FILE: return "not present: file-backed, the file holds it (use --root DIR to read it)";
	case IMG_PAGE_ZERO: return "not present: anonymous memory the image does not hold (reads as zeros)";
	case IMG_PAGE_MISSING: return "not present: missing from the image (parent or pages file lacks it)";
	}
	return "present";
}

static void hexdump(struct img_out *o, uint64_t addr, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 16) {
		size_t k = n - i < 16 ? n - i : 16;

		img_out_printf(o, "0x%012llx ", (unsigned long long)(addr + i));
		for (size_t j = 0; j < 16; j++) {
			if (j == 8)
				img_out_putc(o, ' ');
			if (j < k)
				img_out_printf(o, " %02x", p[i + j]);
			else
				img_out_puts(o, "   ");
		}
		img_out_puts(o, "  |");
		for (size_t j = 0; j < k; j++)
			img_out_putc(o, p[i + j] >= 0x20 && p[i + j] < 0x7f ? p[i + j] : '.');
		img_out_puts(o, "|\n");
	}
}

static void hexstr(struct img_jw *w, const char *key, const uint8_t *p, size_t n)
{
	static const char dig[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);

	if (!s)
		return;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = dig[p[i] >> 4];
		s[2 * i + 1] = dig[p[i] & 15];
	}
	img_jw_key(w, key);
	img_jw_strn(w, s, 2 * n);
	free(s);
}

int mem_write_range(struct img_mem *m, uint64_t start, uint64_t end, const char *path, uint64_t *have,
		    struct img_err *err)
{
	char tmp[PATH_MAX];
	uint64_t a = start;
	int fd, r = 0;

	*have = 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp)) {
		img_err_subject(err, path);
		return img_err_set(err, ENAMETOOLONG, "path too long");
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		img_err_subject(err, path);
		return img_err_set(err, errno, "cannot create a temporary file: %s", strerror(errno));
	}
	while (a < end && !r) {
		struct img_mem_run run;

		r = img_mem_run(m, a, end, &run, err);
		if (r)
			break;
		if (run.data) {
			const uint8_t *p = run.data;
			size_t n = (size_t)(run.end - run.start);

			if (lseek(fd, (off_t)(run.start - start), SEEK_SET) < 0)
				r = -errno;
			while (!r && n) {
				ssize_t wr = write(fd, p, n);

				if (wr < 0 && errno == EINTR)
					continue;
				if (wr <= 0) {
					r = wr < 0 ? -errno : -EIO;
					break;
				}
				p += wr;
				n -= (size_t)wr;
			}
			*have += run.end - run.start;
			img_mem_release(m, &run);
			if (r) {
				img_err_subject(err, path);
				img_err_set(err, -r, "write error: %s", strerror(-r));
			}
		}
		a = run.end;
	}
	if (!r && ftruncate(fd, (off_t)(end - start)) < 0) {
		r = -errno;
		img_err_subject(err, path);
		img_err_set(err, -r, "write error: %s", strerror(-r));
	}
	if (close(fd) < 0 && !r) {
		r = -errno;
		img_err_subject(err, path);
		img_err_set(err, -r, "write error: %s", strerror(-r));
	}
	if (!r && rename(tmp, path) < 0) {
		r = -errno;
		img_err_subject(err, path);
		img_err_set(err, -r, "cannot rename the temporary file: %s", strerror(-r));
	}
	if (r)
		unlink(tmp);
	return r;
}

int mem_json_range(struct img_jw *w, struct img_mem *m, uint64_t addr, uint64_t len, uint64_t *mapped,
		   struct img_err *err)
{
	const struct img_task *t = img_mem_task(m);
	uint64_t a;
	int r = 0;

	*mapped = 0;
	img_jw_obj_begin(w);
	img_jw_kv_u64(w, "pid", t->pid);
	jw_hex(w, "addr", addr);
	img_jw_kv_u64(w, "len", len);
	img_jw_key(w, "runs");
	img_jw_arr_begin(w);
	for (a = addr; a < addr + len;) {
		struct img_mem_run run;

		r = img_mem_run(m, a, addr + len, &run, err);
		if (r)
			return r;
		if (run.state != IMG_PAGE_UNMAPPED)
			*mapped += run.end - run.start;
		img_jw_obj_begin(w);
		jw_hex(w, "start", run.start);
		jw_hex(w, "end", run.end);
		img_jw_kv_str(w, "state", img_page_state_name(run.state));
		if (run.source)
			img_jw_kv_str(w, "source", run.source);
		if (run.data)
			hexstr(w, "data", run.data, (size_t)(run.end - run.start));
		img_jw_obj_end(w);
		a = run.end;
	}
	img_jw_arr_end(w);
	img_jw_obj_end(w);
	return 0;
}

static int mem_read(struct img_cli *c, const struct img_cmd *cmd, struct img_ckpt *ck, const struct mem_opts *mo,
		    char **pos, int npos)
{
	const struct img_task *t;
	struct img_mem *m;
	struct out o;
	uint64_t addr, len = DEFAULT_READ, a, mapped = 0;
	int r;

	if (!mo->have_pid)
		return img_cmd_usage(c, cmd, "mem read needs --pid");
	if (npos < 2)
		return img_cmd_usage(c, cmd, "mem read needs an address");
	if (npos > 3)
		return img_cmd_usage(c, cmd, "unexpected argument '%s'", pos[3]);
	if (img_parse_addr(pos[1], &addr))
		return img_cmd_usage(c, cmd, "'%s' is not an address", pos[1]);
	if (npos == 3 && (img_parse_size(pos[2], &len) || !len))
		return img_cmd_usage(c, cmd, "'%s' is not a length", pos[2]);
	if (addr + len < addr)
		len = UINT64_MAX - addr;
	if ((r = find_task(c, ck, mo->pid, &t)))
		return r;
	if (!t->mm)
		return img_cli_failf(c, "pid %u has no memory in the checkpoint (%s)", t->pid,
				     img_task_state_name(t->state) ? img_task_state_name(t->state) : "no mm");
	if ((r = open_mem(c, ck, t, mo->root, &m)))
		return r;
	if (mo->out) {
		struct img_err e = { 0 };
		uint64_t have;

		r = mem_write_range(m, addr, addr + len, mo->out, &have, &e);
		img_mem_close(m);
		return r ? img_cli_fail(c, "write", &e) : 0;
	}
	if (!c->json && !c->pretty && len > ((uint64_t)64 << 20)) {
		img_mem_close(m);
		return img_cli_failf(c, "%llu bytes is a lot for a hex dump: write them with -o FILE",
				     (unsigned long long)len);
	}
	out_begin(c, &o);
	if (o.json) {
		struct img_err e = { 0 };

		r = mem_json_range(&o.w, m, addr, len, &mapped, &e);
		if (r)
			r = img_cli_fail(c, "read the memory of", &e);
	}
	for (a = addr; !o.json && a < addr + len && !r;) {
		struct img_mem_run run;
		struct img_err e = { 0 };

		r = img_mem_run(m, a, addr + len, &run, &e);
		if (r) {
			r = img_cli_fail(c, "read the memory of", &e);
			break;
		}
		if (run.state != IMG_PAGE_UNMAPPED)
			mapped += run.end - run.start;
		if (run.data)
			hexdump(&o.o, run.start, run.data, (size_t)(run.end - run.start));
		else
			img_out_printf(&o.o, "0x%012llx-0x%012llx  %s\n", (unsigned long long)run.start,
				       (unsigned long long)run.end, state_desc(run.state));
		a = run.end;
	}
	img_mem_close(m);
	if (r)
		return r;
	r = out_end(c, &o);
	if (!r && !mapped)
		return img_cli_failf(c, "nothing is mapped at 0x%llx-0x%llx in pid %u", (unsigned long long)addr,
				     (unsigned long long)(addr + len), t->pid);
	return r;
}

static int dump_task(struct img_cli *c, struct img_ckpt *ck, const struct img_task *t, const char *dir,
		     const char *root, struct out *o)
{
	struct img_mem *m;
	int r;

	if (!t->mm)
		return 0;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return img_cli_failf(c, "cannot create '%s': %s", dir, strerror(errno));
	if ((r = open_mem(c, ck, t, root, &m)))
		return r;
	for (size_t k = 0; k < t->mm->nvmas && !r; k++) {
		const struct img_vma *v = &t->mm->vmas[k];
		struct img_err e = { 0 };
		char path[PATH_MAX], perm[5];
		uint64_t have;

		if (snprintf(path, sizeof(path), "%s/%012llx-%012llx.bin", dir, (unsigned long long)v->start,
			     (unsigned long long)v->end) >= (int)sizeof(path)) {
			r = img_cli_failf(c, "path too long under '%s'", dir);
			break;
		}
		if (mem_write_range(m, v->start, v->end, path, &have, &e)) {
			r = img_cli_fail(c, "write", &e);
			break;
		}
		vma_flags(v, perm);
		if (o->json) {
			img_jw_obj_begin(&o->w);
			img_jw_kv_u64(&o->w, "pid", t->pid);
			img_jw_kv_str(&o->w, "file", path);
			jw_hex(&o->w, "start", v->start);
			jw_hex(&o->w, "end", v->end);
			img_jw_kv_str(&o->w, "perm", perm);
			img_jw_kv_str(&o->w, "name", v->name);
			img_jw_kv_u64(&o->w, "bytes_from_image", have);
			img_jw_obj_end(&o->w);
		} else if (!c->quiet) {
			img_out_printf(&o->o, "%s  %s %10llu bytes from the image  %s\n", path, perm,
				       (unsigned long long)have, v->name);
		}
	}
	img_mem_close(m);
	return r;
}

static int mem_dump(struct img_cli *c, const struct img_cmd *cmd, struct img_ckpt *ck, const struct mem_opts *mo,
		    char **pos, int npos)
{
	const struct img_task *const *tasks, *one = NULL;
	struct out o;
	size_t n;
	int r = 0;

	(void)pos;
	if (!mo->out)
		return img_cmd_usage(c, cmd, "mem dump needs -o DIR");
	if (npos > 1)
		return img_cmd_usage(c, cmd, "unexpected argument '%s'", pos[1]);
	if ((r = pick_tasks(c, ck, mo->have_pid, mo->pid, &one, &tasks, &n)))
		return r;
	if (mkdir(mo->out, 0755) < 0 && errno != EEXIST)
		return img_cli_failf(c, "cannot create '%s': %s", mo->out, strerror(errno));
	out_begin(c, &o);
	if (o.json)
		img_jw_arr_begin(&o.w);
	if (mo->have_pid) {
		r = dump_task(c, ck, one, mo->out, mo->root, &o);
	} else {
		for (size_t i = 0; i < n && !r; i++) {
			char dir[PATH_MAX];

			snprintf(dir, sizeof(dir), "%s/%u", mo->out, tasks[i]->pid);
			r = dump_task(c, ck, tasks[i], dir, mo->root, &o);
		}
	}
	if (o.json && !r)
		img_jw_arr_end(&o.w);
	if (!r)
		r = out_end(c, &o);
	return r;
}

int cmd_mem(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	struct mem_opts mo = { c, cmd, 0, 0, NULL, NULL };
	struct img_ckpt *ck;
	char *pos[5];
	int npos, r;

	r = parse_explorer(c, cmd, argc, argv, "o:", mem_longopts, mem_opt, &mo, pos, 2, 5, &npos);
	if (r)
		return r < 0 ? 0 : r;
	if (strcmp(pos[0], "read") && strcmp(pos[0], "dump"))
		return img_cmd_usage(c, cmd, "'%s' is not read or dump", pos[0]);
	r = open_ckpt(c, pos[1], &ck);
	if (r)
		return r;
	if (!strcmp(pos[0], "read"))
		r = mem_read(c, cmd, ck, &mo, pos + 1, npos - 1);
	else
		r = mem_dump(c, cmd, ck, &mo, pos + 1, npos - 1);
	img_ckpt_close(ck);
	return r;
}
