/*
 * The state one check run shares between its parts (private to libimg):
 * the images loaded so far and what is known of the set's tasks and files.
 */
#ifndef CHECK_CK_H
#define CHECK_CK_H

#include "img/check.h"
#include "img/image.h"
#include "img/profile.h"

enum { CK_OK = 1, CK_MISSING, CK_BAD };

/* Task states of core_entry.tc.task_state (CRIU's compel/task-state.h). */
enum { CK_TASK_ALIVE = 1, CK_TASK_DEAD = 2, CK_TASK_STOPPED = 3 };

/* fd_types of fdinfo.schema */
enum { CK_FD_REG = 1, CK_FD_PIPE = 2, CK_FD_UNIXSK = 5, CK_FD_MEMFD = 18, CK_FD_PIDFD = 20 };

/* VMA status bits (maps.tab mmap.status) */
#define CK_VMA_AREA_REGULAR 0x1u
#define CK_VMA_FILE_PRIVATE 0x40u
#define CK_VMA_FILE_SHARED 0x80u
#define CK_VMA_ANON_SHARED 0x100u
#define CK_VMA_AREA_SYSVIPC 0x400u
#define CK_VMA_AREA_MEMFD 0x4000u
#define CK_VMA_AREA_SHSTK 0x8000u

/* pagemap flags (maps.tab pmap.flags) */
#define CK_PE_PARENT 1u
#define CK_PE_LAZY 2u
#define CK_PE_PRESENT 4u

struct ck_img {
	const char *name;
	int state;
	int reported;           /* a finding says it is missing or damaged */
	struct img_image *img;
};

struct ck_task {
	uint32_t pid, ppid;
	long entry;             /* in pstree.img */
	uint32_t *tids;
	size_t ntids;
	int state;              /* from the main thread's core, 0 when unknown */
	struct img_msg *ids;
	struct img_msg *mm;
	struct img_msg **vmas;  /* from mm, or from vmas-PID.img in sets older than CRIU 1.2 */
	size_t nvmas;
	const char *vmas_image;
};

struct ck_file {
	uint32_t id;
	int type;
	const char *image;      /* files.img, or a legacy per-type image */
	long entry;
	uint64_t off;
	struct img_msg *msg;    /* the type's own message (reg_file_entry, unix_sk_entry...) */
	int remapped;           /* remap-fpath.img recreates it (ghost, link remap) */
	const char *user;       /* who uses it, for messages ("fd 1 of pid 1"), or NULL */
};

struct ck {
	struct img_dir *d;
	const struct img_schema *s;
	const struct img_check_opts *o;
	struct img_findings *f;
	struct img_arena arena;
	struct ck_img *imgs;
	size_t nimgs, capimgs;

	struct img_msg *inv;
	struct img_msg *root_ids;
	int ns_per_id;
	int have_tree;          /* pstree.img was read */
	struct ck_task *tasks;
	size_t ntasks;
	uint32_t *by_pid;       /* indexes of tasks sorted by pid, once pstree is read (ck_task) */
	struct ck_file *files;  /* sorted by id */
	size_t nfiles;
	int have_files;         /* the file table was read */
	int chain;              /* the set is part of an incremental chain */
	int lazy;               /* some pages are lazy and absent */
};

/* set.c: loading images once, and the findings about them */
struct img_image *ck_get(struct ck *c, const char *name);
int ck_state(struct ck *c, const char *name);
/* Get an image the set needs: a missing one gets one finding (what needs it, in by/by_entry). */
struct img_image *ck_need(struct ck *c, const char *name, const char *by, long by_entry, const char *fmt, ...)
	IMG_PRINTF(5, 6);
struct img_finding *ck_add(struct ck *c, int sev, const char *area, const char *code, const char *image,
			   long entry, const char *fmt, ...) IMG_PRINTF(7, 8);
#define CK_F(c, ...) img_finding_fmt((c)->f, __VA_ARGS__)
const char *ck_name(struct ck *c, const char *fmt, ...) IMG_PRINTF(2, 3);
struct ck_task *ck_task(struct ck *c, uint32_t pid);
struct ck_file *ck_file(struct ck *c, uint32_t id);
uint64_t ck_entry_off(const struct img_image *img, long entry);
/* The nr_pages of a pagemap entry (nr_pages, else the compat field), and its flags with legacy defaults. */
uint64_t ck_pe_pages(const struct img_msg *pe);
uint32_t ck_pe_flags(const struct img_msg *pe);

/* images.c */
void ck_images(struct ck *c);
/* legacy.c: the images older CRIU versions wrote, which CRIU still reads */
void ck_legacy(struct ck *c);
/* The VMAs of a message ("vmas" of mm, or the entries of vmas-PID.img) into t. */
void ck_task_vmas(struct ck *c, struct ck_task *t, struct img_image *vimg, const char *image);
/* files.c */
void ck_files(struct ck *c);
/* machine.c */
void ck_machine(struct ck *c);
int ck_needs(struct ck *c, struct img_needs *n);

#endif
