/* Inside the transform engine: parsed tables, shared by xform*.c. */
#ifndef XFORM_INT_H
#define XFORM_INT_H

#include "img/xform.h"

#define XF_PATH_MAX 8

/* A dotted field path ("tc.timers.real"), resolved against a message at load time. */
struct xf_path {
	const char *text;
	uint32_t n;
	const struct img_fielddesc *fd[XF_PATH_MAX];
};

/* A value from a table, in the type of the field it is compared with or stored in. */
struct xf_val {
	int is_bytes;
	uint64_t u;
	const uint8_t *p;
	size_t n;
};

enum xf_cond_kind { XC_HAS = 1, XC_MISSING, XC_CMP, XC_THREAD, XC_SAME_IN_LEADER, XC_SAME_IN_IMAGE, XC_NOT, XC_ANY };
enum xf_cmp { XO_EQ = 1, XO_NE, XO_GT, XO_GE, XO_LT, XO_LE, XO_ALL, XO_ANY, XO_NONE, XO_PREFIX, XO_IN };

struct xf_cond {
	int kind;
	int op;
	struct xf_path path;
	struct xf_val v;
	struct xf_val *set;     /* XO_IN */
	size_t nset;
	int leader;             /* XC_THREAD: 1 leader, 0 other thread */
	struct xf_cond *sub;    /* XC_NOT (one), XC_ANY (nsub) */
	size_t nsub;
	const struct img_kind *kind_img; /* XC_SAME_IN_IMAGE: the single-entry image, and its field */
	struct xf_path other;
};

enum xf_act_kind {
	XA_SET = 1, XA_COPY, XA_RENAME, XA_DROP, XA_DROP_ENTRY, XA_ADD_ENTRY, XA_SPLIT, XA_MERGE,
	XA_MOVE_OUT, XA_MOVE_IN, XA_WRAP_INTO, XA_MAP_PATH, XA_MAP_IP, XA_REFRESH_FILE,
	XA_COPY_FROM_LEADER, XA_LAZY_FLAGS, XA_PATCH_MEMORY, XA_CLEAR_BITS,
};

/* "set": {"field": VALUE or "$field of the entry the action works on"} of move and wrap actions. */
struct xf_kv {
	struct xf_path path;       /* in the message that gets the value */
	const struct img_jv *value;
	struct xf_path from;       /* n > 0: "$from" */
};

struct xf_action {
	int kind;
	struct xf_path path;           /* the field acted on */
	struct xf_path to;             /* copy, rename; move-in/wrap-into: unused */
	const struct img_jv *value;    /* set, add-entry */
	const struct img_kind *kind_to; /* move-out, move-in (source), wrap-into, add-entry; set from: the image */
	struct xf_path fields[4];      /* move-out/move-in: several fields in order */
	size_t nfields;
	struct xf_kv *set;             /* move, wrap: values given to the moved message */
	size_t nset;
	struct xf_kv *match;           /* move-in: source field == this entry's field */
	size_t nmatch;
	struct xf_path order;          /* wrap-into / move-out: the key entries are merged by */
	uint64_t max, unit, previous;  /* split, merge */
	int has_previous;
	struct xf_path advance;
	const char *old, *new_;        /* map-path with its own mapping */
	int unix_name;                 /* map-path: unix socket name bytes */
	struct xf_path family;         /* map-ip */
	struct xf_cond *vma_when;      /* lazy-flags: when a VMA's pages may be lazy */
	size_t nvma_when;
	struct xf_path *sp;            /* lazy-flags: where a core keeps the stack pointer, per arch */
	size_t nsp;
	uint64_t lazy_bits, present_bits;
	uint64_t offset;               /* patch-memory */
	struct xf_val bytes;
	uint64_t mask;                 /* clear-bits */
};

enum xf_image_act { XI_DROP_IF_EMPTY = 1, XI_DROP, XI_HEAD };

struct xf_iact {
	int kind;
	int head;                      /* XI_HEAD: 0 none, 1 the kind's own */
};

enum { XR_DO = 0, XR_EMULATE, XR_HOPE, XR__N };

struct xf_rule {
	const char *name, *doc;
	int lossless, reversible;
	const struct img_kind **kinds;
	size_t nkinds;
	int any_kind;
	const struct img_msgdesc *entry;
	struct xf_cond *when;
	size_t nwhen;
	struct xf_action *act[XR__N];
	size_t nact[XR__N];
	int has[XR__N];
	const char *bail;
	struct xf_iact *iact;
	size_t niact;
	const char **mismatch;         /* runs only for these host mismatches (img_xf_opts.mismatches) */
	size_t nmismatch;
	const char *mismatch_text;     /* the same, joined for the report */
	const char *note;              /* a warning in the report when the rule changed something */
};

/* A feature of a set: some image of the kinds (with an entry that matches, when one is given). */
struct xf_match {
	const struct img_kind **kinds;
	size_t nkinds;
	const struct img_msgdesc *entry;
	struct xf_cond *when;
	size_t nwhen;
	const char *doc;
};

struct img_xf_table {
	const char *file;              /* what error messages call it */
	const char *name, *doc, *version, *before;
	struct xf_rule *rules[3];      /* by enum img_xf_way */
	size_t nrules[3];
	struct xf_match *det[2];       /* 0: the old form ("old"), 1: the new form ("new") */
	size_t ndet[2];
	const struct img_schema *s;
	struct img_arena arena;        /* everything above, and the parsed JSON */
};

/* Conditions on one message (the engine's; detection uses them too). */
struct xf_ctx;
struct lazy_cache;
int xf_cond_all(struct xf_ctx *c, const struct xf_cond *w, size_t n, const struct img_msg *m, const char *member,
		int *res);
/* Evaluate a feature over the set: *res set to 1 when some image has it. */
int xf_match_eval(struct img_set *set, const struct xf_match *mt, int *res, char *where, size_t wlen,
		  struct img_err *err);

/* Set members of a kind (a snapshot of names, sorted); free with xf_names_free. */
int xf_set_names(struct img_set *set, const struct img_kind *k, char ***names, size_t *n);
void xf_names_free(char **names, size_t n);
/* A copy of s in the report's arena (NULL stays NULL; a failure marks the report). */
const char *xf_rstr(struct img_xf_report *r, const char *s);

/* The version steps' list. */
struct img_xf_versions {
	struct img_xf_table **t;       /* newest first */
	size_t n;
};

/* The engine's work in progress (xform.c runs it; xform_move.c and xform_native.c act in it) */

struct pend_ent {
	uint32_t seq;
	struct img_msg *m;
	const char *from;       /* source member (report arena) */
	int64_t from_entry;
	const char *field;
};

/* Entries wrapped into a target image, merged in when the table is done. */
struct pending {
	char *target;
	const struct img_kind *k;
	const struct xf_path *order;
	struct pend_ent *e;
	size_t n, cap;
	const char **seqname;
	size_t nseq;
	const char *table, *rule;
};

/* A source of move-in actions: which of its entries have been taken. */
struct consumed {
	char *member;
	uint8_t *taken;            /* entries that moved in elsewhere: they leave when the table is done */
	size_t n;
	const char *rule;
};

/* Entries moved out of an image that a later merge puts back by a key: is the order it rebuilds the same? */
struct ordcheck {
	char *member;
	const struct xf_path *order;
	uint64_t *keys;            /* the keys of the image's entries before anything moved */
	size_t nkeys;
	char **tname;              /* targets, and the keys they got, in order */
	uint64_t **tkeys;
	size_t *ntkeys;
	size_t nt;
};

struct task {
	uint32_t tid, pid;
};

struct xf_ctx {
	struct img_set *set;
	const struct img_xf_table *t;
	const struct img_xf_opts *o;
	struct img_xf_report *rep;
	struct img_err *err;
	const struct xf_rule *rule;
	struct img_xf_rulestat *stat;
	const char *member;        /* the image being worked on */
	struct img_image *img;
	size_t idx;                /* the entry */
	uint64_t id;               /* the number in the member's name */
	int has_id;
	int changed;
	int gone;                  /* the entry left its image */
	size_t added_after;        /* entries inserted after it (skipped by the loop) */
	struct task *tasks;
	size_t ntasks;
	int tasks_loaded;
	uint64_t *remapped;        /* ids of files with a remap (ghost or linked): refresh-file leaves them */
	size_t nremapped;
	int remap_loaded;
	struct pending *pend;
	size_t npend;
	struct consumed *cons;
	size_t ncons;
	struct ordcheck *ord;
	size_t nord;
	struct lazy_cache *lazy;   /* lazy-flags: the VMAs of the task last looked at */
};

/* Helpers of the runner (xform.c) */
int xf_record(struct xf_ctx *c, int op, const char *image, int64_t entry, const char *field, const char *before,
	      const char *after, const char *to_image, int64_t to_entry);
/* A field's value as crit --pretty prints it (NULL when the field is absent), in the report's arena. */
char *xf_render(struct xf_ctx *c, const struct img_msg *m, const struct img_fielddesc *fd);
char *xf_render_msg(struct xf_ctx *c, const struct img_msg *m);
int xf_same_str(const char *a, const char *b);
/* An error naming the image, the entry and the rule. */
int xf_efail(struct xf_ctx *c, const char *fmt, ...) IMG_PRINTF(2, 3);
/* The message that holds the path's last field (made when create is set), and every such message. */
struct img_msg *xf_holder(struct img_arena *a, struct img_msg *m, const struct xf_path *p, int create);
typedef int (*leaf_fn)(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg);
int xf_walk(struct xf_ctx *c, struct img_msg *m, const struct xf_path *p, uint32_t i, leaf_fn fn, void *arg);
int xf_get_u64(const struct img_msg *m, const struct xf_path *p, uint64_t *v);
struct img_arena *xf_arena_of(struct xf_ctx *c);
int xf_load_tasks(struct xf_ctx *c);
uint32_t xf_task_of(struct xf_ctx *c, uint32_t tid);
int xf_member_id(const struct img_set *set, const char *member, uint64_t *id);
struct img_msg *xf_leader_core(struct xf_ctx *c, int *is_leader);
/* The first entry of the image of a kind (inventory.img...), or NULL when the set has none. */
struct img_msg *xf_image_first(struct xf_ctx *c, const struct img_kind *k);
int xf_same_msg(const struct img_msg *a, const struct img_msg *b);
int xf_target_name(struct xf_ctx *c, const struct img_kind *k, char *buf, size_t len);
int xf_get_or_add(struct xf_ctx *c, const char *name, const struct img_kind *k, struct img_image **img);
void xf_remove_entry(struct img_image *img, size_t i);
int xf_insert_entry(struct img_image *img, size_t pos, const struct img_msgdesc *d, struct img_msg *m);

/* Fields, entries and images (xform_move.c) */
int xf_set_value(struct xf_ctx *c, struct img_arena *a, struct img_msg *m, const struct xf_path *p,
		 const struct img_jv *v, const char *where);
/* F (to, in m) takes G (from, in src: m itself, or the entry of another image). */
int xf_copy_value(struct xf_ctx *c, const struct img_msg *src, struct img_msg *m, const struct xf_path *from,
		  const struct xf_path *to);
struct drop_arg {
	const char *text;
	int n;
};
int xf_drop_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg);
int xf_act_set(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
int xf_act_split(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
int xf_act_merge(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
int xf_act_move_out(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
int xf_act_move_in(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
int xf_act_wrap_into(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
int xf_act_add_entry(struct xf_ctx *c, const struct xf_action *a);
/* Whether a move-in took this entry of member away (it leaves when the table is done). */
int xf_is_taken(const struct xf_ctx *c, const char *member, size_t i);

/* Actions that know what CRIU's fields mean (xform_native.c) */
struct ip_arg {
	const struct xf_action *a;
	uint64_t family;
};
int xf_map_path_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg);
int xf_map_ip_leaf(struct xf_ctx *c, struct img_msg *m, const struct img_fielddesc *fd, void *arg);
int xf_act_refresh(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
int xf_act_copy_from_leader(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
int xf_act_lazy_flags(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
int xf_act_patch(struct xf_ctx *c, const struct xf_action *a, struct img_msg *m);
void xf_lazy_free(struct lazy_cache *lc);

#endif
