/* Namespaces the tasks use, their images (by id with ns_per_id, else by pid), mounts and cgroups. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

/* The image that describes a namespace of each kind; time namespaces are written as timens-0. */
static const struct ns_image {
	const char *pattern;
	int try_zero;
} ns_images[IMG_NS__COUNT] = {
	[IMG_NS_PID] = { "pidns-%u.img", 0 },
	[IMG_NS_NET] = { "netns-%u.img", 0 },
	[IMG_NS_IPC] = { "ipcns-var-%u.img", 0 },
	[IMG_NS_UTS] = { "utsns-%u.img", 0 },
	[IMG_NS_MNT] = { "mountpoints-%u.img", 0 },
	[IMG_NS_USER] = { "userns-%u.img", 0 },
	[IMG_NS_CGROUP] = { NULL, 0 },
	[IMG_NS_TIME] = { "timens-%u.img", 1 },
};

static const char *const root_fields[IMG_NS__COUNT] = {
	"pid_ns_id", "net_ns_id", "ipc_ns_id", "uts_ns_id", "mnt_ns_id", "user_ns_id", "cgroup_ns_id", "time_ns_id",
};

static int find_image(struct img_ckpt *ck, struct img_ns *ns, uint32_t pid, struct img_err *err)
{
	const struct ns_image *ni = &ns_images[ns->kind];
	uint32_t tries[3];
	int ntries = 0;

	if (!ni->pattern)
		return 0;
	tries[ntries++] = ck->ns_per_id ? ns->id : pid;
	if (ck->ns_per_id)
		tries[ntries++] = pid;
	if (ni->try_zero)
		tries[ntries++] = 0;
	for (int i = 0; i < ntries; i++) {
		const struct img_image *img;
		char name[64];
		int r;

		snprintf(name, sizeof(name), ni->pattern, tries[i]);
		r = ck_load(ck, name, 1, &img, err);
		if (r)
			return ck_fail(ck, r, err);
		if (img) {
			ns->image = img_arena_strndup(&ck->arena, name, strlen(name));
			ns->msg = img_image_msg(img);
			return 0;
		}
	}
	return 0;
}

int ck_load_namespaces(struct img_ckpt *ck, struct img_err *err)
{
	const struct img_msg *root = img_msg_sub(ck->inventory, "root_ids");
	size_t cap = ck->ntasks * IMG_NS__COUNT + 1;
	int r;

	ck->ns = img_arena_zalloc(&ck->arena, cap * sizeof(*ck->ns));
	if (!ck->ns)
		return img_err_set(err, ENOMEM, "out of memory");
	for (int k = 0; k < IMG_NS__COUNT; k++) {
		for (size_t i = 0; i < ck->ntasks; i++) {
			const struct img_task *t = ck->tasks[i];
			struct img_ns *ns = NULL;
			uint32_t id = t->ns_id[k];

			if (!id)
				continue;
			for (size_t j = 0; j < ck->nns && !ns; j++)
				if (ck->ns[j].kind == k && ck->ns[j].id == id)
					ns = &ck->ns[j];
			if (ns) {
				ns->ntasks++;
				continue;
			}
			ns = &ck->ns[ck->nns++];
			ns->kind = k;
			ns->id = id;
			ns->ntasks = 1;
			ns->is_root = root && ck_u64(root, root_fields[k], 0) == id;
			r = find_image(ck, ns, t->pid, err);
			if (r)
				return r;
		}
	}
	return 0;
}

const struct img_ns *img_ckpt_namespaces(const struct img_ckpt *ck, size_t *n)
{
	*n = ck->nns;
	return ck->ns;
}

const struct img_msg *const *img_ckpt_mounts(struct img_ckpt *ck, uint32_t mnt_ns_id, size_t *n)
{
	const struct img_image *img = NULL;
	struct ck_mounts *cm, *nm;
	char name[64];

	*n = 0;
	for (size_t i = 0; i < ck->nmounts; i++)
		if (ck->mounts[i].ns_id == mnt_ns_id) {
			*n = ck->mounts[i].n;
			return ck->mounts[i].v;
		}
	errno = 0; /* NULL with errno ENOMEM: out of memory; else: no mounts known */
	for (size_t i = 0; i < ck->nns; i++)
		if (ck->ns[i].kind == IMG_NS_MNT && ck->ns[i].id == mnt_ns_id && ck->ns[i].image &&
		    ck_load(ck, ck->ns[i].image, 1, &img, NULL) == -ENOMEM)
			goto nomem;
	if (!img) {
		snprintf(name, sizeof(name), "mountpoints-%u.img", mnt_ns_id);
		if (ck_load(ck, name, 1, &img, NULL) == -ENOMEM)
			goto nomem;
	}
	if (!img)
		return NULL;
	nm = img_realloc(ck->mounts, (ck->nmounts + 1) * sizeof(*nm));
	if (!nm)
		goto nomem;
	ck->mounts = nm;
	cm = &ck->mounts[ck->nmounts];
	cm->ns_id = mnt_ns_id;
	cm->n = 0;
	cm->v = img_arena_alloc(&ck->arena, (img->n + 1) * sizeof(*cm->v));
	if (!cm->v)
		goto nomem;
	for (size_t i = 0; i < img->n; i++)
		cm->v[cm->n++] = img->e[i].msg;
	ck->nmounts++;
	*n = cm->n;
	return cm->v;
nomem:
	errno = ENOMEM;
	return NULL;
}

const struct img_msg *img_ckpt_cgroup(struct img_ckpt *ck)
{
	const struct img_image *img;

	errno = ck_load(ck, "cgroup.img", 1, &img, NULL) == -ENOMEM ? ENOMEM : 0;
	if (!img)
		return NULL;
	return img_image_msg(img);
}
