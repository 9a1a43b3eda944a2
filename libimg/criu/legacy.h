/*
 * Where older CRIU versions kept what newer ones keep elsewhere
 * (schemas/criu/legacy.tab): the per-type file images before files.img, the
 * per-task images before their contents moved into the core or mm, and the
 * mark images before the marks moved into their files.  Private to libimg:
 * the model reads old sets with it, check says what a restore needs of them.
 */
#ifndef IMG_CRIU_LEGACY_H
#define IMG_CRIU_LEGACY_H

#include "img/base.h"

/* A file type: the field of file_entry that holds it, and its image before CRIU 3.4. */
struct img_legacy_file {
	uint32_t type;          /* fd_types */
	const char *name;       /* "REG" */
	const char *field;      /* "reg" */
	const char *image;      /* "reg-files.img", or NULL: files.img only */
};

enum { IMG_LEGACY_OF_CORE = 0, IMG_LEGACY_OF_MM };

/* An image per task (or thread) whose contents moved into the core or mm. */
struct img_legacy_task {
	const char *pattern;    /* "sigacts-%u.img" */
	int of;                 /* IMG_LEGACY_OF_CORE or IMG_LEGACY_OF_MM */
	const char *field;      /* "tc.sigactions": CRIU reads the image when this is absent */
	const char *since;      /* the release that moved it */
	int per_thread;
	unsigned need;          /* entries CRIU fails without; 0: any number */
	int missing_fails;      /* a missing image fails the restore (else it reads as empty) */
	int deprecated;         /* read only with --deprecated */
	const char *what;       /* "the signal handlers of task %u" */
	const char *bug;        /* a fault of today's CRIU in reading it, or NULL */
};

/* Entries that moved into their files' entries (epoll targets, inotify watches, fanotify marks). */
struct img_legacy_marks {
	const char *image;
	uint32_t type;          /* of the files they belong to */
	const char *field;      /* where they are now, in the file's message: "epfd.tfd" */
	const char *since;
};

/* The table, parsed at first use; -errno with err filled when the built-in table is bad. */
int img_legacy_files(const struct img_legacy_file **t, size_t *n, struct img_err *err);
int img_legacy_tasks(const struct img_legacy_task **t, size_t *n, struct img_err *err);
int img_legacy_marks(const struct img_legacy_marks **t, size_t *n, struct img_err *err);
/* The row of an fd type, or NULL. */
const struct img_legacy_file *img_legacy_file(uint32_t type);

#endif
