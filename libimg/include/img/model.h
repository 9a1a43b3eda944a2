/*
 * libimg: the checkpoint model — one read-only view of an image set.
 *
 * img_ckpt_open() reads the metadata of a checkpoint (a directory, or a
 * container archive through the img_dir formats): the process tree, threads,
 * address space layouts, fd tables, files, sockets, pipes, namespaces,
 * mounts, cgroups and statistics.  Page contents are not read here: img/mem.h
 * reads memory on demand.
 *
 * What the model gives out is owned by the img_ckpt and lives until
 * img_ckpt_close(): tasks, threads, VMAs, files and sockets are plain
 * read-only structures with decoded values, and each keeps the decoded image
 * entry it came from (struct img_msg, see img/pb.h), so that any field the
 * structure does not carry is one img_msg_u64(t->core, ...) away.
 *
 * Old layouts are folded in: files from files.img or from the per-type images
 * of CRIU < 3.4 (reg-files.img, pipes.img, unixsk.img, ...), VMAs from mm or
 * vmas-PID.img, sigactions, rlimits, timers and creds from core or from their
 * legacy per-task images, pagemap nr_pages or compat_nr_pages.
 */
#ifndef IMG_MODEL_H
#define IMG_MODEL_H

#include "base.h"
#include "image.h"
#include "pb.h"
#include "schema.h"
#include "source.h"

#ifdef __cplusplus
extern "C" {
#endif

struct img_ckpt;
struct img_task;
struct img_file;

enum {
	/*
	 * Keep going past a damaged or missing image: the part it describes is
	 * left out and the error is kept in img_ckpt_problems().  Without it the
	 * first such error fails img_ckpt_open().
	 */
	IMG_CKPT_TOLERANT = 1,
};

/* Open a checkpoint: a directory of images or a checkpoint archive. */
int img_ckpt_open(const char *path, unsigned flags, struct img_ckpt **out, struct img_err *err);
/* Build the model over a folder already open; the checkpoint owns d from now on (also on failure). */
int img_ckpt_open_dir(struct img_dir *d, unsigned flags, struct img_ckpt **out, struct img_err *err);
void img_ckpt_close(struct img_ckpt *ck);

struct img_dir *img_ckpt_dir(const struct img_ckpt *ck);
const struct img_schema *img_ckpt_schema(const struct img_ckpt *ck);
/*
 * Any image of the set by member name ("netdev-2.img"), read once and kept.
 * Returns -ENOENT (err filled) when the set has no such image.
 */
int img_ckpt_image(struct img_ckpt *ck, const char *member, const struct img_image **out, struct img_err *err);
/* The inventory entry, or NULL when the set has none. */
const struct img_msg *img_ckpt_inventory(const struct img_ckpt *ck);
/*
 * stats-dump / stats-restore: the dump_stats_entry / restore_stats_entry, or
 * NULL (errno ENOMEM when out of memory, else 0).  img_ckpt_mounts and
 * img_ckpt_cgroup say out of memory the same way.
 */
const struct img_msg *img_ckpt_stats(struct img_ckpt *ck, const char *which);
/* Dangling references and (in tolerant mode) unreadable images met while building the model. */
const struct img_err *img_ckpt_problems(const struct img_ckpt *ck, size_t *n);

/* Namespace kinds, in the order of task_kobj_ids_entry. */
enum img_ns_kind {
	IMG_NS_PID, IMG_NS_NET, IMG_NS_IPC, IMG_NS_UTS, IMG_NS_MNT, IMG_NS_USER, IMG_NS_CGROUP, IMG_NS_TIME,
	IMG_NS__COUNT
};
const char *img_ns_kind_name(int kind); /* "pid", "net", ... */

/* Task states as CRIU stores them (compel's values; crit's names for 3 and 6 are swapped). */
enum { IMG_TASK_ALIVE = 1, IMG_TASK_DEAD = 2, IMG_TASK_STOPPED = 3, IMG_TASK_ZOMBIE = 6 };
const char *img_task_state_name(uint32_t state); /* "alive", "zombie", ... or NULL */

struct img_thread {
	uint32_t tid;                   /* virtual tid, as in core-TID.img */
	const struct img_task *task;
	const struct img_msg *core;     /* core_entry */
	const char *comm;               /* thread_core.comm, else the task's */
	const char *arch;               /* "x86_64", "aarch64", ... from core.mtype */
	const struct img_msg *regs;     /* general registers (x86: thread_info.gpregs), or NULL */
	const struct img_msg *fpregs;   /* or NULL */
	uint64_t pc, sp;                /* from regs, by the architecture's names */
	uint64_t blocked;               /* blocked signals: thread_core.blk_sigset, else the task's */
	const struct img_msg *pending;  /* signal_queue_entry of this thread (signals_p), or NULL */
	const struct img_msg *creds;    /* creds_entry (thread_core.creds, or creds-PID.img), or NULL */
	const struct img_msg *sas;      /* thread_sas_entry (sigaltstack), or NULL */
	const struct img_msg *rseq;     /* rseq_entry, or NULL */
	uint32_t seccomp_mode;          /* 0 disabled, 1 strict, 2 filter */
	uint32_t seccomp_filter;        /* index into seccomp.img's filters, when mode is filter */
	const struct img_msg *seccomp;  /* seccomp_entry of seccomp.img, or NULL */
};

/* The kind of a mapping, for display and for search --vma. */
enum img_vma_kind {
	IMG_VMA_ANON,     /* private anonymous */
	IMG_VMA_HEAP,     /* the brk area */
	IMG_VMA_STACK,    /* a stack (VMA_AREA_STACK, MAP_GROWSDOWN, or holding mm_start_stack) */
	IMG_VMA_FILE,     /* a file mapping, private or shared */
	IMG_VMA_SHARED,   /* shared anonymous memory, memfd, SysV shm */
	IMG_VMA_VDSO, IMG_VMA_VVAR, IMG_VMA_VSYSCALL,
	IMG_VMA_OTHER,    /* sockets (packet rings), AIO rings, shadow stacks, uprobes */
	IMG_VMA__COUNT
};
const char *img_vma_kind_name(int kind); /* "anon", "heap", "stack", "file", "shared", ... */

/* VMA status bits (CRIU's VMA_AREA_* / VMA_*). */
enum {
	IMG_VMA_AREA_REGULAR = 0x1, IMG_VMA_AREA_STACK = 0x2, IMG_VMA_AREA_VSYSCALL = 0x4,
	IMG_VMA_AREA_VDSO = 0x8, IMG_VMA_AREA_HEAP = 0x20, IMG_VMA_FILE_PRIVATE = 0x40,
	IMG_VMA_FILE_SHARED = 0x80, IMG_VMA_ANON_SHARED = 0x100, IMG_VMA_ANON_PRIVATE = 0x200,
	IMG_VMA_AREA_SYSVIPC = 0x400, IMG_VMA_AREA_SOCKET = 0x800, IMG_VMA_AREA_VVAR = 0x1000,
	IMG_VMA_AREA_AIORING = 0x2000, IMG_VMA_AREA_MEMFD = 0x4000, IMG_VMA_AREA_SHSTK = 0x8000,
	IMG_VMA_AREA_UPROBES = 0x20000,
};

struct img_vma {
	uint64_t start, end;            /* [start, end) */
	uint64_t pgoff;                 /* file offset in bytes */
	uint64_t shmid;                 /* file id (file mappings), shmem id (anon shared, SysV) */
	uint32_t prot, flags, status;   /* PROT_*, MAP_*, VMA_* */
	uint8_t kind;                   /* enum img_vma_kind */
	const struct img_file *file;    /* the mapped file (REG or MEMFD), or NULL */
	const char *name;               /* as /proc/PID/maps names it: a path, "[heap]", "[stack]", ... or "" */
	const struct img_msg *msg;      /* vma_entry */
};

struct img_mm {
	const struct img_msg *msg;      /* mm_entry */
	uint64_t start_code, end_code, start_data, end_data, start_stack;
	uint64_t start_brk, brk, arg_start, arg_end, env_start, env_end;
	const struct img_file *exe;     /* or NULL */
	const uint64_t *auxv;           /* mm_saved_auxv: type, value pairs */
	size_t nauxv;                   /* number of uint64 values */
	const struct img_vma *vmas;     /* sorted by start, never overlapping */
	size_t nvmas;
};

struct img_fd {
	uint32_t fd;
	uint32_t flags;                 /* FD_CLOEXEC */
	uint32_t type;                  /* fd_types value as fdinfo says */
	const struct img_file *file;    /* NULL when files hold no such id (a problem is recorded) */
	const struct img_msg *msg;      /* fdinfo_entry */
};

struct img_task {
	uint32_t pid, ppid, pgid, sid;  /* virtual ids, in the checkpoint's pid namespace */
	uint32_t state;                 /* IMG_TASK_* */
	uint32_t exit_code;
	const char *comm;
	const struct img_task *parent;  /* NULL for a root */
	const struct img_task *const *children;
	size_t nchildren;
	const struct img_thread *threads; /* the main thread (tid == pid) first */
	size_t nthreads;
	uint32_t vm_id, files_id, fs_id, sighand_id;
	uint32_t ns_id[IMG_NS__COUNT];  /* 0: not recorded */
	uint32_t cg_set;                /* cgroup set id in cgroup.img, 0 when none */
	const struct img_mm *mm;        /* NULL when the task has none (zombies) */
	const struct img_fd *fds;       /* in fdinfo order (CRIU writes them by fd); shared by tasks with one files_id */
	size_t nfds;
	const struct img_file *cwd, *root; /* or NULL */
	uint32_t umask;
	/* sigactions in CRIU's order (see img_sigaction_signo); rlimits[i] is resource i (core or legacy images) */
	const struct img_msg *const *sigactions;
	size_t nsigactions;
	const struct img_msg *const *rlimits;
	size_t nrlimits;
	const struct img_msg *itimers[3];  /* real, virtual, prof itimer_entry, or NULL */
	const struct img_msg *const *posix_timers;
	size_t nposix_timers;
	const struct img_msg *pending;  /* shared pending signals (signals_s), or NULL */
	const struct img_msg *pstree;   /* pstree_entry */
	const struct img_msg *core;     /* core_entry of the main thread (threads[0].core) */
	const struct img_msg *ids;      /* task_kobj_ids_entry */
	const struct img_msg *fs;       /* fs_entry, or NULL */
};

/* The signal number of t->sigactions[i]: CRIU saves signals 1..64 without SIGKILL and SIGSTOP. */
int img_sigaction_signo(size_t i);

/* Tasks in pstree order (a parent before its children). */
const struct img_task *const *img_ckpt_tasks(const struct img_ckpt *ck, size_t *n);
const struct img_task *img_ckpt_task(const struct img_ckpt *ck, uint32_t pid);
/* The tasks whose parent is not in the set (normally one). */
const struct img_task *const *img_ckpt_roots(const struct img_ckpt *ck, size_t *n);
/* The VMA holding addr, or NULL (binary search). */
const struct img_vma *img_mm_find(const struct img_mm *mm, uint64_t addr);

/* Sockets: inet (v4 and v6), unix, packet, netlink. */
struct img_sock {
	uint32_t family, type, proto, state; /* AF_*, SOCK_*, IPPROTO_*, TCP_* (as in the image) */
	uint32_t ino;
	uint32_t ns_id;                 /* net namespace, 0 when not recorded */
	/* inet */
	char src[48], dst[48];          /* addresses as text ("127.0.0.1", "::1"), "" when none */
	uint32_t sport, dport;
	/* unix */
	uint32_t peer_ino;              /* 0: none */
	const struct img_file *peer;    /* the peer's file when it is in the set */
	const uint8_t *name;            /* sun_path bytes; abstract names start with NUL */
	size_t namelen;
	/* queued data: sk-queues (packets waiting to be read by this socket) */
	uint32_t rqueue_packets;
	uint64_t rqueue_bytes;
	/* tcp-stream-INO.img: bytes in the receive and send queues */
	const struct img_msg *tcp;      /* tcp_stream_entry, or NULL */
	uint64_t tcp_inq, tcp_outq;
};

/* Pipes and FIFOs: the unread data CRIU saved (pipes-data.img, fifo-data.img). */
struct img_pipe {
	uint32_t pipe_id;
	uint64_t bytes;                 /* unread bytes saved */
	uint64_t size;                  /* pipe buffer size */
	const uint8_t *data;            /* the bytes (mapped), or NULL */
};

/* How a deleted or otherwise remapped file is kept (remap-fpath.img). */
enum { IMG_REMAP_NONE = 0, IMG_REMAP_LINKED, IMG_REMAP_GHOST, IMG_REMAP_PROCFS, IMG_REMAP_OTHER };

struct img_file {
	uint32_t id;
	uint32_t type;                  /* fd_types: 1 REG, 2 PIPE, 3 FIFO, 4 INETSK, 5 UNIXSK, ... */
	const char *type_name;          /* "REG", "PIPE", ... */
	const char *path;               /* REG, FIFO, EXT...: the path; MEMFD: its name; else NULL */
	uint64_t pos;                   /* file position, for kinds that have one */
	uint32_t flags;                 /* open flags (O_*) */
	uint64_t size;                  /* REG: size when dumped; MEMFD: inode size; ghost: saved bytes */
	int remap;                      /* IMG_REMAP_*: deleted files kept as ghost or link remaps */
	const char *remap_image;        /* "ghost-file-1.img" for ghosts, or NULL */
	const struct img_sock *sk;      /* sockets, else NULL */
	const struct img_pipe *pipe;    /* PIPE and FIFO, else NULL */
	uint64_t shmid;                 /* MEMFD: the shmem id holding its pages (pagemap-shmem-ID.img) */
	const struct img_msg *msg;      /* the per-type entry: reg_file_entry, pipe_entry, inet_sk_entry, ... */
	const struct img_msg *file_entry; /* the file_entry of files.img, NULL for legacy images */
	const struct img_msg *extra;    /* MEMFD: memfd_inode_entry; FIFO: its reg_file_entry; else NULL */
	const char *image;              /* where it was read: "files.img", "reg-files.img", ... */
};

const struct img_file *img_ckpt_file(const struct img_ckpt *ck, uint32_t id);
/* Every file, in the order of the images. */
const struct img_file *const *img_ckpt_files(const struct img_ckpt *ck, size_t *n);
const char *img_fd_type_name(uint32_t type); /* "REG", ..., or NULL */
/* Names from the schema's maps: family "INET6", type "STREAM", state "LISTEN", proto "TCP"; NULL if unknown. */
const char *img_sock_family_name(uint32_t v);
const char *img_sock_type_name(uint32_t v);
const char *img_sock_state_name(uint32_t v);
const char *img_sock_proto_name(uint32_t v);

/* Namespaces that tasks use, one per (kind, id). */
struct img_ns {
	int kind;                       /* enum img_ns_kind */
	uint32_t id;
	int is_root;                    /* the one inventory.root_ids names (the dumper's own) */
	const char *image;              /* its image ("utsns-11.img"), or NULL when the kind has none or it is absent */
	const struct img_msg *msg;      /* the first entry of that image, or NULL */
	size_t ntasks;                  /* tasks in it */
};
const struct img_ns *img_ckpt_namespaces(const struct img_ckpt *ck, size_t *n);
/* The mounts of a mount namespace (mnt_entry messages of mountpoints-ID.img). */
const struct img_msg *const *img_ckpt_mounts(struct img_ckpt *ck, uint32_t mnt_ns_id, size_t *n);
/* The cgroup_entry of cgroup.img, or NULL. */
const struct img_msg *img_ckpt_cgroup(struct img_ckpt *ck);

/* Sizes of the set's files, for summaries. */
struct img_ckpt_sizes {
	uint64_t total;                 /* every member */
	uint64_t pages;                 /* pages-*.img */
	uint64_t images;                /* the rest */
	size_t nfiles;
};
int img_ckpt_sizes(const struct img_ckpt *ck, struct img_ckpt_sizes *s);

#ifdef __cplusplus
}
#endif
#endif
