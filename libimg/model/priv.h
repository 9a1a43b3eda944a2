/* The checkpoint model's insides, shared by the model and memory files of libimg. */
#ifndef IMG_MODEL_PRIV_H
#define IMG_MODEL_PRIV_H

#include "img/model.h"

struct ck_cached {
	char *name;
	struct img_image *img; /* NULL: absent or unreadable */
	int code;              /* 0, or the errno of the failed read */
};

struct ck_mounts {
	uint32_t ns_id;
	const struct img_msg **v;
	size_t n;
};

struct img_ckpt {
	struct img_dir *dir;
	const struct img_schema *schema;
	unsigned flags;
	struct img_arena arena;         /* the model's structures */

	struct ck_cached *cache;        /* open addressing by name */
	size_t ncache, capcache;

	const struct img_msg *inventory;
	int ns_per_id;

	struct img_task **tasks;        /* pstree order */
	struct img_task **by_pid;       /* sorted by pid */
	size_t ntasks;
	const struct img_task **roots;
	size_t nroots;

	struct img_file **files;        /* image order */
	struct img_file **files_by_id;  /* sorted by id */
	size_t nfiles;

	struct img_ns *ns;
	size_t nns;
	struct ck_mounts *mounts;
	size_t nmounts;

	struct img_err *problems;
	size_t nproblems, capproblems;
	size_t image_bytes;             /* of the set's images but pages: the model's budget comes from it */
	size_t budget;                  /* img_budget(image_bytes) */
	size_t held;                    /* by the images kept and the cache; the arena may take the rest */
};

#define CK_MAX_PROBLEMS 256

/* Read an image through the cache.  optional: a missing image is not an error (*out = NULL). */
int ck_load(struct img_ckpt *ck, const char *member, int optional, const struct img_image **out,
	    struct img_err *err);
/* Record a problem (a dangling reference, an image left out in tolerant mode). */
void ck_problem(struct img_ckpt *ck, const char *subject, int code, const char *fmt, ...) IMG_PRINTF(4, 5);
/* A failed read: fatal unless the checkpoint is tolerant (then recorded, and 0 returned). */
int ck_fail(struct img_ckpt *ck, int r, struct img_err *err);

int ck_load_files(struct img_ckpt *ck, struct img_err *err);
int ck_load_task_files(struct img_ckpt *ck, struct img_task *t, struct img_err *err);
int ck_load_mm(struct img_ckpt *ck, struct img_task *t, struct img_err *err);
int ck_load_namespaces(struct img_ckpt *ck, struct img_err *err);

/* Small helpers over decoded messages that tolerate NULL. */
static inline uint64_t ck_u64(const struct img_msg *m, const char *name, uint64_t def)
{
	return m ? img_msg_u64(m, name, def) : def;
}

/* Repeated messages of a field, copied into an arena array. */
const struct img_msg **ck_msgs(struct img_arena *a, const struct img_msg *m, const char *field, size_t *n);

#endif
