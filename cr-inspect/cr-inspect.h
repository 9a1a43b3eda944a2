/* cr-inspect's commands. */
#ifndef CR_INSPECT_H
#define CR_INSPECT_H

#include "img/cmd.h"
#include "img/check.h"
#include "img/image.h"
#include "img/profile.h"
#include "img/mem.h"
#include "img/model.h"
#include "img/linuxcr.h"

int cmd_decode(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_show(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_info(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_check(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_host_profile(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_explain(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_ckptinfo(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);

/* check.c: what check and explain share */
int cli_color(void);
int cli_load_target(struct img_cli *c, const char *target, struct img_profile **p);
int cli_check_root(struct img_cli *c, const char *root);
void cli_print_findings(struct img_out *o, const struct img_findings *f, int color);
int cmd_x(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_ps(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_threads(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_maps(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_fds(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_sockets(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_env(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_cmdline(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_auxv(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_mem(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_search(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);
int cmd_summary(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);

/* Shared by the explorer commands (ckpt.c). */
struct out {
	struct img_out o;
	struct img_jw w;
	int json;
};
void out_begin(struct img_cli *c, struct out *o);
int out_end(struct img_cli *c, struct out *o);
void jw_hex(struct img_jw *w, const char *key, uint64_t v);
const char *prot_str(uint32_t prot, char buf[4]);

int open_ckpt(struct img_cli *c, const char *path, struct img_ckpt **ck);
int parse_pid(struct img_cli *c, const struct img_cmd *cmd, const char *s, uint32_t *pid);
int find_task(struct img_cli *c, struct img_ckpt *ck, uint32_t pid, const struct img_task **t);
/* The tasks a command works on: all, or the one --pid names (*one holds it).  0 or an exit status. */
int pick_tasks(struct img_cli *c, struct img_ckpt *ck, int have_pid, uint32_t pid, const struct img_task **one,
	       const struct img_task *const **tasks, size_t *n);
/* --pid P, for commands that take only that */
struct pid_opts {
	struct img_cli *c;
	const struct img_cmd *cmd;
	uint32_t pid;
	int have_pid;
};
int pid_opt(void *arg, int opt, const char *val);
extern const struct option pid_longopts[];
/* Returns 0, -1 after --help, or an exit status after an error. */
int parse_explorer(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv, const char *shortopts,
		   const struct option *longopts, int (*opt_fn)(void *arg, int opt, const char *val), void *arg,
		   char **pos, int minpos, int maxpos, int *npos);

/* The command line or environment of a task (IMG_STRINGS_*), NUL separated; tasks.c. */
int read_strings(struct img_ckpt *ck, const struct img_task *t, int which, struct img_buf *b, int *live,
		 struct img_err *err);
/* Shared by threads and the TUI (tasks.c). */
#define IMG_NRLIMITS 16
extern const char *const rlimit_names[IMG_NRLIMITS];
void sig_name(int sig, char *buf, size_t len);
/* "0x800 (SIGUSR2)" */
void sigset_str(struct img_buf *b, uint64_t set);
/* Every scalar of a register message, as "name value" pairs (repeated ones as name[i]). */
void regs_each(const struct img_msg *regs, void (*fn)(void *arg, const char *name, uint64_t v), void *arg);
int cmd_tui(struct img_cli *c, const struct img_cmd *cmd, int argc, char **argv);

/*
 * memory.c: write [start, end) of a task's memory to path (a temporary file
 * in the same folder, holes left sparse, renamed over path when complete);
 * the runs of a range as mem read -j prints them.
 */
int mem_write_range(struct img_mem *m, uint64_t start, uint64_t end, const char *path, uint64_t *have,
		    struct img_err *err);
int mem_json_range(struct img_jw *w, struct img_mem *m, uint64_t addr, uint64_t len, uint64_t *mapped,
		   struct img_err *err);

/* A file described in one line ("/path", "pipe[123] 22 bytes unread", "TCP 127.0.0.1:47001 LISTEN"); files.c. */
void describe_file(const struct img_file *f, struct img_buf *b);

/* linux-cr streams (linuxcr.c) */
int lcr_open_src(struct img_cli *c, const char *path, struct img_src **src);
int lcr_is_stream(struct img_src *src);
int lcr_decode(struct img_cli *c, struct img_src *src, const char *version, int pretty, const char *out);
int lcr_info(struct img_cli *c, struct img_src *src, int entries);

#endif
