/*
 * summary CKPT: everything at once, as checkpointctl inspect --all shows it
 * and more: sizes, container metadata, dump statistics, the process tree with
 * command lines, environment and files, sockets and pipes, namespaces, mounts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cr-inspect.h"

/* container metadata files of checkpoint archives (Podman, CRI-O, containerd) */
static const char *const meta_files[] = { "config.dump", "spec.dump", "status.dump", "network.status", "status" };
/* the keys of config.dump worth a line in text (Podman and CRI-O spell them so) */
static const char *const config_keys[] = {
	"id", "name", "rootfsImageName", "rootfsImage", "rootfsImageRef", "ociRuntime", "runtime",
	"createdTime", "checkpointedTime", "restoredTime",
};

/* Every scalar field of a message as "name value", in schema order. */
static void msg_fields(struct out *o, const struct img_msg *m, const char *indent)
{
	int col = 0;

	for (uint32_t i = 0; m && i < m->desc->nfields; i++) {
		const struct img_fielddesc *fd = &m->desc->fields[i];

		if (fd->type == IMG_T_MESSAGE || fd->label == IMG_L_REPEATED || !img_msg_has(m, fd->name))
			continue;
		if (fd->type == IMG_T_STRING) {
			size_t n;
			const uint8_t *p = img_msg_bytes(m, fd->name, &n);

			if (o->json) {
				img_jw_key(&o->w, fd->name);
				img_jw_strn(&o->w, (const char *)p, n);
			} else {
				img_out_printf(&o->o, "%s%s %.*s", col ? ", " : indent, fd->name, (int)n, (const char *)p);
				col++;
			}
			continue;
		}
		if (fd->type == IMG_T_BYTES)
			continue;
		if (o->json)
			img_jw_kv_u64(&o->w, fd->name, img_msg_u64(m, fd->name, 0));
		else
			img_out_printf(&o->o, "%s%s %llu", col ? ", " : indent, fd->name,
				       (unsigned long long)img_msg_u64(m, fd->name, 0));
		col++;
		if (!o->json && col == 4) {
			img_out_putc(&o->o, '\n');
			col = 0;
		}
	}
	if (!o->json && col)
		img_out_putc(&o->o, '\n');
}

static void section(struct out *o, const char *key, const char *title)
{
	if (o->json)
		img_jw_key(&o->w, key);
	else
		img_out_printf(&o->o, "\n%s\n", title);
}

static void container(struct img_ckpt *ck, struct out *o)
{
	struct img_dir *d = img_ckpt_dir(ck);
	int any = 0;

	for (size_t i = 0; i < sizeof(meta_files) / sizeof(meta_files[0]); i++) {
		struct img_src *src;
		struct img_arena a;
		struct img_jv *v;

		if (img_dir_get_extra(d, meta_files[i], &src, NULL))
			continue;
		img_arena_init(&a);
		v = img_json_parse(&a, (const char *)src->data, src->size, NULL);
		if (!any) {
			section(o, "container", "container");
			if (o->json)
				img_jw_obj_begin(&o->w);
			any = 1;
		}
		if (o->json) {
			img_jw_key(&o->w, meta_files[i]);
			if (v)
				img_jw_value(&o->w, v);
			else
				img_jw_strn(&o->w, (const char *)src->data, src->size);
		} else if (!strcmp(meta_files[i], "config.dump") && v && v->type == IMG_JV_OBJ) {
			for (size_t k = 0; k < sizeof(config_keys) / sizeof(config_keys[0]); k++) {
				struct img_jv *f = img_jv_get(v, config_keys[k]);

				if (f && f->type == IMG_JV_STR)
					img_out_printf(&o->o, "  %-18s %s\n", config_keys[k], f->s.s);
			}
		} else if (!strcmp(meta_files[i], "spec.dump") && v && v->type == IMG_JV_OBJ) {
			struct img_jv *ann = img_jv_get(v, "annotations");

			for (size_t k = 0; ann && ann->type == IMG_JV_OBJ && k < ann->o.n; k++)
				if (ann->o.m[k].v->type == IMG_JV_STR)
					img_out_printf(&o->o, "  %-18s %s\n", ann->o.m[k].key, ann->o.m[k].v->s.s);
		} else {
			img_out_printf(&o->o, "  %s (%zu bytes)\n", meta_files[i], src->size);
		}
		img_arena_free(&a);
		img_src_unref(src);
	}
	if (any && o->json)
		img_jw_obj_end(&o->w);
}

static void strings_list(struct img_ckpt *ck, struct out *o, const struct img_task *t, int which,
			 const char *key, const char *indent, int join)
{
	struct img_buf b;
	size_t pos = 0;
	int first = 1;

	img_buf_init(&b);
	if (read_strings(ck, t, which, &b, NULL, NULL))
		b.len = 0;
	if (o->json) {
		img_jw_key(&o->w, key);
		img_jw_arr_begin(&o->w);
	}
	while (pos < b.len) {
		const char *s = (const char *)b.data + pos;
		size_t n = strnlen(s, b.len - pos);

		pos += n + 1;
		if (o->json)
			img_jw_strn(&o->w, s, n);
		else if (join)
			img_out_printf(&o->o, "%s%.*s", first ? "" : " ", (int)n, s);
		else
			img_out_printf(&o->o, "%s%.*s\n", indent, (int)n, s);
		first = 0;
	}
	if (o->json)
		img_jw_arr_end(&o->w);
	img_buf_free(&b);
}

static void task_tree(struct img_ckpt *ck, struct out *o, const struct img_task *t, int depth)
{
	char ind[128];
	struct img_buf b;
	const char *st = img_task_state_name(t->state);

	snprintf(ind, sizeof(ind), "%*s", 2 + 4 * depth, "");
	img_buf_init(&b);
	if (o->json) {
		img_jw_obj_begin(&o->w);
		img_jw_kv_u64(&o->w, "pid", t->pid);
		img_jw_kv_u64(&o->w, "ppid", t->ppid);
		img_jw_kv_str(&o->w, "comm", t->comm);
		img_jw_kv_str(&o->w, "state", st ? st : "unknown");
		img_jw_kv_u64(&o->w, "threads", t->nthreads);
	} else {
		img_out_printf(&o->o, "%s%u %s (%s, %zu thread%s)\n%s    cmdline: ", ind, t->pid, t->comm,
			       st ? st : "unknown", t->nthreads, t->nthreads == 1 ? "" : "s", ind);
	}
	if (t->mm) {
		strings_list(ck, o, t, IMG_STRINGS_ARGV, "cmdline", "", 1);
		if (!o->json)
			img_out_printf(&o->o, "\n%s    environment:\n", ind);
		snprintf(ind + strlen(ind), sizeof(ind) - strlen(ind), "      ");
		strings_list(ck, o, t, IMG_STRINGS_ENV, "environment", ind, 0);
		ind[strlen(ind) - 6] = 0;
	} else if (!o->json) {
		img_out_putc(&o->o, '\n');
	}
	if (o->json) {
		img_jw_key(&o->w, "files");
		img_jw_arr_begin(&o->w);
	} else {
		img_out_printf(&o->o, "%s    files:\n", ind);
	}
	for (size_t i = 0; i < t->nfds; i++) {
		b.len = 0;
		if (t->fds[i].file)
			describe_file(t->fds[i].file, &b);
		img_buf_addc(&b, 0);
		if (o->json) {
			img_jw_obj_begin(&o->w);
			img_jw_kv_u64(&o->w, "fd", t->fds[i].fd);
			img_jw_kv_str(&o->w, "type", t->fds[i].file ? t->fds[i].file->type_name : "?");
			img_jw_kv_str(&o->w, "desc", (const char *)b.data);
			img_jw_obj_end(&o->w);
		} else {
			img_out_printf(&o->o, "%s      %5u %s\n", ind, t->fds[i].fd, (const char *)b.data);
		}
	}
	if (o->json) {
		img_jw_arr_end(&o->w);
		if (t->cwd && t->cwd->path)
			img_jw_kv_str(&o->w, "cwd", t->cwd->path);
		if (t->root && t->root->path)
			img_jw_kv_str(&o->w, "root", t->root->path);
		img_jw_key(&o->w, "children");
		img_jw_arr_begin(&o->w);
	} else {
		if (t->cwd && t->cwd->path)
			img_out_printf(&o->o, "%s        cwd %s\n", ind, t->cwd->path);
		if (t->root && t->root->path)
			img_out_printf(&o->o, "%s       root %s\n", ind, t->root->path);
	}
	for (size_t i = 0; i < t->nchildren; i++)
		task_tree(ck, o, t->children[i], depth + 1);
	if (o->json) {
		img_jw_arr_end(&o->w);
		img_jw_obj_end(&o->w);
	}
	img_buf_free(&b);
}

static void sockets(struct img_ckpt *ck, struct out *o)
{
	const struct img_file *const *files;
	struct img_buf b;
	size_t nf;

	img_buf_init(&b);
	files = img_ckpt_files(ck, &nf);
	section(o, "sockets", "sockets and pipes");
	if (o->json)
		img_jw_arr_begin(&o->w);
	for (size_t i = 0; i < nf; i++) {
		if (!files[i]->sk && !files[i]->pipe)
			continue;
		b.len = 0;
		describe_file(files[i], &b);
		img_buf_addc(&b, 0);
		if (o->json)
			img_jw_str(&o->w, (const char *)b.data);
		else
			img_out_printf(&o->o, "  %s\n", (const char *)b.data);
	}
	if (o->json)
		img_jw_arr_end(&o->w);
	img_buf_free(&b);
}

static void namespaces(struct img_ckpt *ck, struct out *o)
{
	const struct img_ns *ns;
	size_t n;

	ns = img_ckpt_namespaces(ck, &n);
	section(o, "namespaces", "namespaces");
	if (o->json)
		img_jw_arr_begin(&o->w);
	for (size_t i = 0; i < n; i++) {
		if (o->json) {
			img_jw_obj_begin(&o->w);
			img_jw_kv_str(&o->w, "kind", img_ns_kind_name(ns[i].kind));
			img_jw_kv_u64(&o->w, "id", ns[i].id);
			img_jw_kv_bool(&o->w, "root", ns[i].is_root);
			img_jw_kv_u64(&o->w, "tasks", ns[i].ntasks);
			if (ns[i].image)
				img_jw_kv_str(&o->w, "image", ns[i].image);
			if (ns[i].kind == IMG_NS_UTS && ns[i].msg)
				msg_fields(o, ns[i].msg, "");
			img_jw_obj_end(&o->w);
			continue;
		}
		img_out_printf(&o->o, "  %-6s %-5u %s, %zu task%s%s%s", img_ns_kind_name(ns[i].kind), ns[i].id,
			       ns[i].is_root ? "the dumper's" : "own", ns[i].ntasks, ns[i].ntasks == 1 ? "" : "s",
			       ns[i].image ? ", " : "", ns[i].image ? ns[i].image : "");
		if (ns[i].kind == IMG_NS_UTS && ns[i].msg) {
			img_out_printf(&o->o, ":");
			msg_fields(o, ns[i].msg, " ");
		} else {
			img_out_putc(&o->o, '\n');
		}
	}
	if (o->json)
		img_jw_arr_end(&o->w);
}

static void mounts(struct img_ckpt *ck, struct out *o)
{
	const struct img_ns *ns;
	size_t n;
	int any = 0;

	ns = img_ckpt_namespaces(ck, &n);
	for (size_t i = 0; i < n; i++) {
		const struct img_msg *const *mnt;
		size_t nm;

		if (ns[i].kind != IMG_NS_MNT)
			continue;
		mnt = img_ckpt_mounts(ck, ns[i].id, &nm);
		if (!nm)
			continue;
		if (!any) {
			section(o, "mounts", "mounts");
			if (o->json)
				img_jw_arr_begin(&o->w);
			any = 1;
		}
		for (size_t k = 0; k < nm; k++) {
			struct img_arena a;

			img_arena_init(&a);
			if (o->json) {
				img_jw_obj_begin(&o->w);
				img_jw_kv_u64(&o->w, "mnt_ns", ns[i].id);
				img_jw_kv_str(&o->w, "mountpoint", img_msg_str(&a, mnt[k], "mountpoint", ""));
				img_jw_kv_str(&o->w, "source", img_msg_str(&a, mnt[k], "source", ""));
				img_jw_kv_str(&o->w, "root", img_msg_str(&a, mnt[k], "root", ""));
				img_jw_kv_u64(&o->w, "fstype", img_msg_u64(mnt[k], "fstype", 0));
				img_jw_obj_end(&o->w);
			} else {
				img_out_printf(&o->o, "  [%u] %s from %s (root %s)\n", ns[i].id,
					       img_msg_str(&a, mnt[k], "mountpoint", ""), img_msg_str(&a, mnt[k], "source", ""),
					       img_msg_str(&a, mnt[k], "root", ""));
			}
			img_arena_free(&a);
		}
	}
	if (any && o->json)
		img_jw_arr_end(&o->w);
}

int cmd_summary(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv)
{
	const struct img_task *const *roots;
	const struct img_msg *inv, *stats;
	struct img_ckpt_sizes sz;
	struct img_ckpt *ck;
	struct img_src *rootfs;
	char h1[32], h2[32], h3[32];
	size_t nroots, nprob;
	struct out o;
	char *pos[1];
	int npos, r;

	r = parse_explorer(c, cmd, argc, argv, "", NULL, NULL, NULL, pos, 1, 1, &npos);
	if (r)
		return r < 0 ? 0 : r;
	r = open_ckpt(c, pos[0], &ck);
	if (r)
		return r;
	out_begin(c, &o);
	inv = img_ckpt_inventory(ck);
	img_ckpt_sizes(ck, &sz);
	img_fmt_size(h1, sizeof(h1), sz.total);
	img_fmt_size(h2, sizeof(h2), sz.pages);
	img_fmt_size(h3, sizeof(h3), sz.images);
	if (o.json) {
		img_jw_obj_begin(&o.w);
		img_jw_kv_str(&o.w, "checkpoint", pos[0]);
		img_jw_kv_str(&o.w, "format", img_ckpt_dir(ck)->ops->name);
		img_jw_kv_u64(&o.w, "img_version", img_msg_u64(inv, "img_version", 0));
		img_jw_key(&o.w, "size");
		img_jw_obj_begin(&o.w);
		img_jw_kv_u64(&o.w, "total", sz.total);
		img_jw_kv_u64(&o.w, "memory_pages", sz.pages);
		img_jw_kv_u64(&o.w, "images", sz.images);
		img_jw_kv_u64(&o.w, "files", sz.nfiles);
	} else {
		img_out_printf(&o.o, "checkpoint %s (%s, image version %llu)\n", pos[0], img_ckpt_dir(ck)->ops->name,
			       (unsigned long long)img_msg_u64(inv, "img_version", 0));
		img_out_printf(&o.o, "size       %s in %zu files: %s of memory pages, %s of other images\n", h1,
			       sz.nfiles, h2, h3);
	}
	if (!img_dir_get_extra(img_ckpt_dir(ck), "rootfs-diff.tar", &rootfs, NULL)) {
		img_fmt_size(h1, sizeof(h1), rootfs->size);
		if (o.json)
			img_jw_kv_u64(&o.w, "rootfs_diff", rootfs->size);
		else
			img_out_printf(&o.o, "           %s of root file system changes (rootfs-diff.tar)\n", h1);
		img_src_unref(rootfs);
	}
	if (o.json)
		img_jw_obj_end(&o.w);
	container(ck, &o);
	stats = img_ckpt_stats(ck, "dump");
	if (stats) {
		section(&o, "stats", "dump statistics (times in microseconds)");
		if (o.json)
			img_jw_obj_begin(&o.w);
		msg_fields(&o, stats, "  ");
		if (o.json)
			img_jw_obj_end(&o.w);
	}
	roots = img_ckpt_roots(ck, &nroots);
	section(&o, "processes", "processes");
	if (o.json)
		img_jw_arr_begin(&o.w);
	for (size_t i = 0; i < nroots; i++)
		task_tree(ck, &o, roots[i], 0);
	if (o.json)
		img_jw_arr_end(&o.w);
	sockets(ck, &o);
	namespaces(ck, &o);
	mounts(ck, &o);
	img_ckpt_problems(ck, &nprob);
	if (nprob) {
		const struct img_err *p = img_ckpt_problems(ck, &nprob);

		section(&o, "problems", "problems");
		if (o.json)
			img_jw_arr_begin(&o.w);
		for (size_t i = 0; i < nprob; i++) {
			char msg[1100];

			snprintf(msg, sizeof(msg), "%s: %s", p[i].subject, p[i].msg);
			if (o.json)
				img_jw_str(&o.w, msg);
			else
				img_out_printf(&o.o, "  %s\n", msg);
		}
		if (o.json)
			img_jw_arr_end(&o.w);
	}
	if (o.json)
		img_jw_obj_end(&o.w);
	r = out_end(c, &o);
	img_ckpt_close(ck);
	return r;
}
