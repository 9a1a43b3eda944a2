/* The comparison's insides, shared by the files of libimg/diff. */
#ifndef IMG_DIFF_PRIV_H
#define IMG_DIFF_PRIV_H

#include "img/diff.h"
#include "img/image.h"

#define PATH_MAX_LEN 1024

struct dside {
	struct img_dir *dir;      /* the folder: the model's, or our own when there is no model */
	struct img_ckpt *ck;      /* NULL: the folder has no process tree */
	int own_ck, own_dir;
	const struct img_schema *schema;
	/* images read for the comparison outside the model (folders without one) */
	struct img_image **imgs;
	char **img_names;
	size_t nimgs;
	/* sockets' queued packets: sk-queues entries sorted by the socket's file id */
	const struct img_entry **skq;
	size_t nskq;
	int skq_done;
};

struct vpair {
	long a, b;
};

/* A task pair with what the comparison keeps about it. */
struct dpair {
	struct img_diff_pair pub;   /* first: pairs are handed out as &dpair.pub */
	size_t index;
	int owns_mm;                /* the first pair with this (mm A, mm B): reports mm and memory */
	int owns_fds;               /* the first pair with this fd table pair */
	struct img_mem *mem[2];
	char label[48];
	struct vpair *vp;           /* the VMA pairs of the mms, once worked out */
	size_t nvp;
	int vp_done;
};

/* A namespace of A and its counterpart in B (either NULL). */
struct dns {
	const struct img_ns *a, *b;
};

/* An ignore pattern, split into tokens. */
struct dpat {
	char *text;
	char **tok;
	uint8_t *key;               /* the token was written [KEY] */
	size_t n;
};

struct img_diff {
	struct dside s[2];
	struct img_diff_opts o;
	struct img_arena arena;
	struct dpair *pairs;
	size_t npairs;
	struct dns *ns;
	size_t nns;
	struct dpat *pats;
	size_t npats;
	struct img_diff_stats st;
	/* an open file pair is reported once: under the first (pair, fd) that holds it */
	struct fown *fown, *pown;    /* open files, pipes */
	size_t nfown, npown;
	int fown_done;
	/* shared memory is compared once: under the first pair that maps it */
	struct shmown *shm;
	size_t nshm;
	int shm_done;
	/* rendering of values (reused) */
	struct img_buf vb[4];
	struct img_out *out;
	/* per kind of message: the link kind of each field (msg.c) */
	struct dinfo *info;
	size_t ninfo, capinfo;        /* renders into vb (64 KiB of buffer: not on the stack) */
};

/* One walk: where records go and what they are about. */
struct dctx {
	struct img_diff *d;
	int cat;
	const struct dpair *pair;
	uint32_t tid_a, tid_b;
	const char *task;           /* label */
	const char *comm;
	char path[PATH_MAX_LEN];
	size_t plen;
	int overflow;               /* the path did not fit: nothing below it is reported */
	img_diff_fn fn;
	void *arg;
	int stop;                   /* fn asked to stop (its value) */
	struct img_err *err;
	/* field filter for the message walk: return 0 to leave the field out */
	int (*keep)(const struct dctx *c, const struct img_msgdesc *parent, const struct img_fielddesc *fd);
	const void *keep_arg;
};

/* A value to report, rendered on demand as JSON (pretty: as crit --pretty shows it). */
struct dval {
	void (*fn)(struct img_jw *w, const struct dval *v, int pretty);
	const struct img_msg *m;
	const struct img_fielddesc *fd;
	uint64_t u;
	const void *p;
	size_t n;
	int hex;
	const void *arg;
	uint64_t u2;
};

/* path.c */
size_t path_push(struct dctx *c, const char *fmt, ...) IMG_PRINTF(2, 3);
void path_pop(struct dctx *c, size_t len);
int path_ignored(const struct img_diff *d, const char *path);
int pat_compile(struct img_arena *a, const char *text, struct dpat *p, struct img_err *err);

/* The members of a folder (sorted by name), those keep says yes to. */
struct member {
	char *name;
	uint64_t size;
};
struct members {
	struct member *v;
	size_t n, cap;
	int failed;
	int (*keep)(const struct members *l, const char *name);
	const void *arg;
};
int members_list(struct img_dir *d, struct members *l, struct img_err *err);
void members_free(struct members *l);

/* same.c: the same size and bytes (compared in pieces, mapped or read) */
int src_same(struct img_src *a, struct img_src *b);
void prefault(const void *p, size_t n);

/* diff.c */
int emit(struct dctx *c, int op, const struct dval *before, const struct dval *after);
/* A memory record at c->path + "[0xSTART-0xEND]". */
int emit_range(struct dctx *c, int op, const struct img_diff_range *r);
void ctx_init(struct dctx *c, struct img_diff *d, int cat, const struct dpair *p, img_diff_fn fn, void *arg,
	      struct img_err *err);
/* A pid of side 1 (B) given in side 0's numbering, and back; 0 when the task is not paired. */
uint32_t pid_to_a(const struct img_diff *d, uint32_t pid_b);
const struct dpair *pair_of(const struct img_diff *d, int side, const struct img_task *t);
/* An image of a side, by member name: through the model, or read once and kept; NULL when absent. */
int side_image(struct img_diff *d, int side, const char *member, const struct img_image **out, struct img_err *err);

/* values (msg.c) */
void val_msg(struct dval *v, const struct img_msg *m, int hex);
void val_str(struct dval *v, const char *s);
void val_u64(struct dval *v, uint64_t u);
void val_json(struct dval *v, void (*fn)(struct img_jw *w, const struct dval *v, int pretty), const void *arg);
/* bytes: {"bytes": N, "data": "..."} with the first 256 bytes as text */
void val_blob(struct dval *v, const void *p, size_t n);

void diff_info_free(struct img_diff *d);
/* Compare two messages of one kind at c->path (either may be NULL: added, removed). */
int diff_msg(struct dctx *c, const struct img_msg *a, const struct img_msg *b, int hex);
/* Compare two byte blobs at c->path; a NULL pointer with n 0 is "none". */
int diff_blob(struct dctx *c, const void *a, size_t na, int has_a, const void *b, size_t nb, int has_b);
/* Compare two images entry by entry at c->path (an image of several entries gets [i]). */
int diff_image(struct dctx *c, const struct img_image *a, const struct img_image *b);

/* The levels */
int diff_images(struct dctx *c);
int diff_tree(struct dctx *c);
int diff_tasks(struct dctx *c);
int diff_mm(struct dctx *c);
int diff_files(struct dctx *c, int sockets);
int diff_files_unheld(struct dctx *c);
int diff_ns_set(struct dctx *c);
int diff_ns_task(struct dctx *c);
int diff_memory(struct dctx *c);

/* Shared by the levels */
int ns_pair_all(struct img_diff *d, struct img_err *err);
int files_owners(struct img_diff *d, struct img_err *err);
/* VMA pairs of a task pair's mms: (index in A or -1, index in B or -1), in address order; kept in the pair. */
int pair_vmas(struct img_diff *d, const struct dpair *p, const struct vpair **out, size_t *n, struct img_err *err);
/* The member names the levels compare (so that the images level leaves them out), for one side. */
int owned_names(struct img_diff *d, int side, char ***out, size_t *n);
/* The images of a namespace (its main image, then "ipcns-shm-ID.img"... by kind); how many. */
size_t ns_image_names(const struct img_ns *ns, char (*names)[64], size_t max);
/* Is a shared memory object (by its shmid in A) mapped by some task of A? */
int shm_mapped(struct img_diff *d, uint64_t shmid_a, struct img_err *err);
/* The shmid of the shared memory a VMA maps. */
uint64_t vma_shmid(const struct img_vma *v);
/* Compare a memfd's pages (files level): ranges under c->path. */
int diff_shm_pages(struct dctx *c, const struct img_file *a, const struct img_file *b);
/* "a file": its path, or "pipe:[ID]", ... as the comparison shows a link to it */
const char *file_desc(const struct img_file *f, char *buf, size_t len);

#endif
