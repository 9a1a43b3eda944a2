/*
 * cr-inspect tui: an ncurses browser over libimg's checkpoint model.
 *
 * The screen has a tree pane (image set -> processes -> threads, maps, fds;
 * files, sockets, namespaces, images) and a view pane that shows the detail
 * of the tree's node or a view opened from it: memory (hex and ASCII with the
 * state of each page), an image or entry as a folded JSON tree, marks, search
 * results, help.  Views are pushed on a history stack; Backspace pops.
 *
 * Nothing here parses image bytes: everything comes from img/model.h,
 * img/mem.h and the JSON libimg writes.  Lines are made when drawn, memory is
 * read a screen at a time, and tree nodes get their children when opened, so
 * a set with thousands of mappings opens at once.
 */
#ifndef CR_INSPECT_TUI_H
#define CR_INSPECT_TUI_H

#include <regex.h>
#include <stdint.h>

#include "../cr-inspect.h"

#define TUI_MIN_COLS 60
#define TUI_MIN_ROWS 12

struct tui;
struct view;
struct node;

/* What a part of the screen is drawn as; screen.c maps each to colours or attributes. */
enum role {
	R_NORMAL, R_TITLE, R_STATUS, R_CURSOR, R_DIM, R_HEAD, R_LINK, R_ERROR, R_MATCH, R_SELECT,
	R_PRESENT, R_PARENT, R_FILE, R_ABSENT, R_LAZY, R_MISSING,
	R_ADDED, R_REMOVED, R_CHANGED,
	R__COUNT
};

struct rect {
	int y, x, h, w;
};

/* Where Enter on a line leads. */
enum link_kind {
	LINK_NONE,
	LINK_NODE,   /* a node of the tree */
	LINK_ADDR,   /* an address in a task's memory */
	LINK_FILE,   /* a file entry (its node under "files") */
	LINK_IMAGE,  /* an image of the set, as JSON */
	LINK_MSG,    /* a decoded entry, as JSON */
	LINK_TASK,   /* a task's node */
	LINK_MEMDIFF, /* diff mode: a task's changed memory, A and B side by side */
};

struct link {
	uint8_t kind;
	const struct img_task *task;  /* LINK_ADDR, LINK_TASK; context for LINK_MSG */
	uint64_t addr;
	const struct img_file *file;
	const struct img_msg *msg;
	const char *member;           /* LINK_IMAGE; title for LINK_MSG */
	struct node *node;
	const void *pair;             /* LINK_MEMDIFF: the img_diff_pair */
	uint8_t side;                 /* LINK_IMAGE: 1 for an image of B */
};

/* A document: lines of text with a role and a link each (details, help, marks, results). */
struct dline {
	char *text;
	uint8_t role;
	struct link link;
};

struct doc {
	struct dline *l;
	size_t n, cap;
	struct img_arena a;
};

/* Make room for one more element in *p (n used of *cap, doubling); 0, or -1 when out of memory. */
int tui_grow(void *p, size_t n, size_t *cap, size_t size);
#define TUI_GROW(arr, n, cap) tui_grow(&(arr), (n), &(cap), sizeof(*(arr)))

void doc_init(struct doc *d);
void doc_free(struct doc *d);
struct dline *doc_add(struct doc *d, int role, const struct link *link, const char *fmt, ...) IMG_PRINTF(4, 5);
/* A JSON text as indented lines (for the entries a detail shows). */
void doc_add_json(struct doc *d, const char *indent, const struct img_msg *m);

/* A search pattern as the user typed it. */
enum { PAT_TEXT, PAT_HEX, PAT_REGEX, PAT__COUNT };
struct pat {
	int kind;
	char text[256];
	int set;
	regex_t re;          /* PAT_REGEX (and PAT_TEXT, as a literal, case-insensitive) for text views */
	int re_ok;
	uint8_t bytes[128];  /* PAT_HEX */
	size_t nbytes;
};
const char *pattern_kind_name(int kind);
int pattern_compile(struct pat *p, char *msg, size_t len);
void pattern_free(struct pat *p);
/* Does the text match?  *off and *len get the first match. */
int pattern_match(const struct pat *p, const char *s, size_t *off, size_t *len);
/*
 * The first of n items after `at` (before it when dir < 0), wrapping round,
 * whose text (text() writes it) matches; SIZE_MAX when none.  *off, *len: the match.
 */
size_t pattern_find(const struct pat *p, size_t n, size_t at, int dir, void (*text)(void *arg, size_t i, struct img_buf *b),
		void *arg, size_t *off, size_t *len);

/* Actions keys stand for (keys.c holds the table). */
enum act {
	ACT_NONE, ACT_UP, ACT_DOWN, ACT_LEFT, ACT_RIGHT, ACT_PGUP, ACT_PGDN, ACT_HOME, ACT_END, ACT_ENTER, ACT_BACK, ACT_TAB,
	ACT_SEARCH, ACT_NEXT, ACT_PREV, ACT_SEARCH_ALL, ACT_GOTO, ACT_MARK, ACT_MARKS, ACT_EXPORT, ACT_SELECT, ACT_RAW,
	ACT_MEMORY, ACT_NEXT_VMA, ACT_PREV_VMA, ACT_NEXT_RUN, ACT_PREV_RUN, ACT_DELETE, ACT_HELP, ACT_QUIT, ACT_ESC, ACT_REDRAW, ACT_NEXT_CHANGE,
	ACT_PREV_CHANGE, ACT_TREE,
	ACT__COUNT
};
int key_action(int ch);
const char *tui_key_name(int ch, char *buf, size_t len);
/* The help text, built from the key table. */
void keys_help(struct doc *d, int diff);

/* A view in the right pane.  Each kind fills in the operations it has. */
struct view_ops {
	const char *name;
	int min_w;                                     /* narrower than this: the tree is hidden */
	void (*draw)(struct tui *t, struct view *v, struct rect r, int focus);
	int (*key)(struct tui *t, struct view *v, int act, int ch);  /* 1: handled */
	int (*search)(struct tui *t, struct view *v, const struct pat *p, int dir);
	int (*follow)(struct tui *t, struct view *v);
	/* The address under the cursor, for marks. */
	int (*addr)(struct tui *t, struct view *v, const struct img_task **task, uint64_t *addr);
	int (*export)(struct tui *t, struct view *v);
	void (*status)(struct tui *t, struct view *v, struct img_buf *b);
	void (*click)(struct tui *t, struct view *v, int row, int col);
	void (*free)(struct view *v);
};

struct view {
	const struct view_ops *ops;
	char title[160];
	const struct img_task *task;   /* context: g, m, following addresses */
	struct node *node;             /* the tree node it shows, if any */
	/* line views */
	size_t cur, top;
	int page;                      /* rows on screen at the last draw */
	/* the last match, highlighted */
	size_t match_line, match_off, match_len;
	int has_match;
};

/* Line views: a document, or lines made on demand (the JSON tree). */
struct listv {
	struct view v;
	size_t (*count)(struct listv *l);
	/* Text of line i into b; role and link of the line. */
	void (*line)(struct listv *l, size_t i, struct img_buf *b, int *role, struct link *link);
	/* Open the path to line i when a search needs it, and return its new index (JSON tree). */
	struct doc doc;
	int owns_doc;
};
extern const struct view_ops listv_ops;
void listv_init(struct listv *l, const struct view_ops *ops);
struct view *doc_view_new(const char *title, struct doc *d);  /* takes over d */
void listv_draw(struct tui *t, struct view *v, struct rect r, int focus);
int listv_key(struct tui *t, struct view *v, int act, int ch);
int listv_search(struct tui *t, struct view *v, const struct pat *p, int dir);
int listv_follow(struct tui *t, struct view *v);
int listv_addr(struct tui *t, struct view *v, const struct img_task **task, uint64_t *addr);
void listv_click(struct tui *t, struct view *v, int row, int col);
void listv_status(struct tui *t, struct view *v, struct img_buf *b);
void listv_free(struct view *v);
void listv_move(struct listv *l, size_t to);

/* The tree. */
enum node_kind {
	N_SET, N_PROCS, N_TASK, N_THREADS, N_THREAD, N_MAPS, N_VMA, N_FDS, N_FD, N_FILES, N_FILE, N_SOCKETS,
	N_NSS, N_NS, N_IMAGES, N_IMAGE, N_PROBLEMS, N_PROBLEM, N_MEMORY, N_ENV, N_CHANGES,
	N__COUNT
};

struct node {
	uint8_t kind;
	uint8_t open;
	uint8_t loaded;
	uint8_t change;                /* diff mode: ' ', '~' (changed or holds a change), '+' (only in B), '-' (only in A) */
	uint8_t side;                  /* diff mode: 1 when the object is B's */
	int depth;
	struct node *parent;
	struct node **kids;
	size_t nkids;
	const struct img_task *task;
	const void *obj;               /* img_thread, img_vma, img_fd, img_file, img_ns, img_err */
	char *member;                  /* N_IMAGE */
	uint64_t size;                 /* N_IMAGE */
};

struct tree {
	struct node *root;
	struct node **vis;             /* nodes shown, in order */
	size_t nvis, cap;
	size_t cur, top;
	int page;
};

void tree_build(struct tui *t);
void tree_free(struct tui *t);
void tree_load(struct tui *t, struct node *n);
void tree_refresh(struct tui *t);
void tree_label(struct tui *t, const struct node *n, struct img_buf *b);
void tree_draw(struct tui *t, struct rect r, int focus);
int tree_key(struct tui *t, int act, int ch);
int tree_search(struct tui *t, const struct pat *p, int dir);
void tree_select(struct tui *t, struct node *n);
struct node *tree_cur(struct tui *t);
void tree_click(struct tui *t, int row);
/* The node of a file under "files", of a task, loading what it needs. */
struct node *tree_find_file(struct tui *t, const struct img_file *f);
struct node *tree_find_task(struct tui *t, const struct img_task *task);
/* The first child of a kind (loading n's children). */
struct node *tree_kid(struct tui *t, struct node *n, int kind);
/* A child made for diff mode (an object only B has). */
struct node *tree_add(struct node *parent, int kind, const struct img_task *task, const void *obj);
void tree_path(struct tui *t, const struct node *n, struct img_buf *b);
/* The cursor moved to another node: show its detail. */
void tree_moved(struct tui *t);
/* The decoded entry behind a node (what r shows), as a link; 0 when it has none. */
int node_entry(struct tui *t, struct node *n, struct link *l);
/* e on a node: its entry (a list: its children's) as JSON to a file. */
void node_export(struct tui *t, struct node *n);

/* Views over the model. */
struct view *detail_view(struct tui *t, struct node *n);
struct view *mem_view(struct tui *t, const struct img_task *task, uint64_t addr);
struct view *raw_image_view(struct tui *t, const char *member, int side, char *msg, size_t len);
struct view *raw_msg_view(struct tui *t, const struct img_msg *m, const char *title, const struct img_task *task);
struct view *marks_view(struct tui *t);
struct view *results_view(struct tui *t, const struct pat *p, char *msg, size_t len);
int mem_view_goto(struct tui *t, struct view *v, uint64_t addr);
/* The task an image file belongs to, when its name says one ("core-5.img" -> the task of thread 5). */
const struct img_task *image_task(struct tui *t, const char *member);

/*
 * Diff mode (diff.c): two checkpoints compared by libimg's engine (img/diff.h).
 */
struct tdiff;
int tdiff_open(struct tui *t, char *msg, size_t len);
/* Put every change on its node of the tree (after tree_build). */
void tdiff_map(struct tui *t);
void tdiff_free(struct tui *t);
/* The changes of a node, first in its detail. */
void tdiff_detail(struct tui *t, struct node *n, struct doc *d);
/* The detail of the "changes" node: every change. */
void tdiff_changes_doc(struct tui *t, struct doc *d);
/* c, C: the next, the previous changed node. */
int tdiff_next(struct tui *t, int dir);
/* Where Enter on a task's memory node leads in diff mode (0: the plain memory view). */
int tdiff_memory_link(struct tui *t, const struct img_task *task, struct link *l);
struct view *memdiff_view(struct tui *t, const void *pair, uint64_t addr, char *msg, size_t len);
/* The checkpoint a task belongs to (A, or B in diff mode). */
struct img_ckpt *tui_task_ckpt(struct tui *t, const struct img_task *task);

/* Marks: an address of a task with a note. */
struct mark {
	uint32_t pid;
	uint64_t addr;
	char *note;
};
int marks_add(struct tui *t, const struct img_task *task, uint64_t addr, const char *note);
void marks_free(struct tui *t);
int marks_load(struct tui *t, char *msg, size_t len);
int marks_save(struct tui *t, char *msg, size_t len);
const struct mark *marks_at(struct tui *t, uint32_t pid, uint64_t start, uint64_t end);

/* Export. */
int export_mem(struct tui *t, const struct img_task *task, uint64_t addr, uint64_t len, const char *path);
int export_json(struct tui *t, const char *path, void (*fn)(void *arg, struct img_jw *w), void *arg);
/* Ask for a file name and write JSON there. */
void export_json_ask(struct tui *t, const char *defname, void (*fn)(void *arg, struct img_jw *w), void *arg);

/* The memory of a task, opened once. */
struct img_mem *tui_mem(struct tui *t, const struct img_task *task, char *msg, size_t len);
/* The VMA of task at addr, or NULL. */
const struct img_vma *tui_vma(const struct img_task *task, uint64_t addr);

/* Screen. */
struct screen {
	int ok;
	int color;
	int cols, rows;
	int attr[R__COUNT];
	void *term;                    /* SCREEN * */
};
int screen_open(struct tui *t, char *msg, size_t len);
void screen_close(struct tui *t);
void screen_draw(struct tui *t);
/* Put text at (y, x), at most w columns (UTF-8 aware); returns columns used. */
int put_text(int y, int x, int w, const char *s, size_t n, int attr);
void put_fill(int y, int x, int w, int attr);
int role_attr(struct tui *t, int role);
/* Ask for a line on the bottom row; returns 1 with the text in buf, 0 when cancelled. */
int prompt(struct tui *t, const char *label, char *buf, size_t len, int *kind);
void tui_msg(struct tui *t, int err, const char *fmt, ...) IMG_PRINTF(3, 4);
double tui_now_ms(void);

/* Navigation. */
void tui_push(struct tui *t, struct view *v);
void tui_replace(struct tui *t, struct view *v);
int tui_back(struct tui *t);
struct view *tui_view(struct tui *t);
int tui_follow(struct tui *t, const struct link *l);

struct hist {
	struct view *v;
	struct node *node;             /* tree cursor when it was shown */
	int focus;
};

#define TUI_HIST_MAX 64

struct tui {
	struct img_cli *c;
	struct img_cmd const *cmd;
	struct img_ckpt *ck;
	const char *path;
	char name[128];                /* the set's name, for the title */
	const char *root_dir;          /* --root */
	struct tree tree;
	struct hist hist[TUI_HIST_MAX];
	size_t nhist;
	int focus;                     /* 0: tree, 1: view */
	int tree_shown;                /* at the last draw */
	struct rect tree_r, view_r;
	struct { const struct img_task *task; struct img_mem *m; } *mems;
	size_t nmems;
	struct mark *marks;
	size_t nmarks;
	const char *marks_file;
	struct pat pat;                /* the last search */
	int pat_kind;                  /* the kind the next prompt starts with */
	char msg[512];
	int msg_err;
	struct screen s;
	FILE *trace;
	double waited_ms;              /* time a key's handling spent waiting for typing (prompts) */
	double click_ms;               /* the last mouse press, for double clicks */
	int click_x, click_y;
	int quit;
	/* diff mode */
	struct img_ckpt *ck2;
	const char *path2;
	char name2[128];
	struct tdiff *diff;
};

#endif
