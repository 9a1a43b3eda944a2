/*
 * Host readiness, files: what the images say about the files the tasks use,
 * checked under the target's root as CRIU checks them when it opens them
 * again (criu/files-reg.c: open_path, validate_file): the file is there,
 * with the mode and size recorded, and the same ELF build-id.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ck.h"
#include "../elfcore/buildid.h"
#include "rootpath.h"

#define MAX_REPORTED 256
#define USK_EXTERN 1u
#define SK_DGRAM 2
#define SK_ESTABLISHED 1

struct fck {
	struct ck *c;
	int rootfd;
	const char *seen[MAX_REPORTED]; /* paths reported already: one finding per path */
	size_t nseen;
};

static int seen(struct fck *k, const char *path)
{
	for (size_t i = 0; i < k->nseen; i++)
		if (!strcmp(k->seen[i], path))
			return 1;
	if (k->nseen < MAX_REPORTED)
		k->seen[k->nseen++] = path;
	return 0;
}

static const char *kind_of(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "a regular file";
	case S_IFDIR: return "a directory";
	case S_IFCHR: return "a character device";
	case S_IFBLK: return "a block device";
	case S_IFIFO: return "a FIFO";
	case S_IFSOCK: return "a socket";
	case S_IFLNK: return "a symlink";
	}
	return "a file of unknown type";
}

static void check_build_id(struct fck *k, struct ck_file *f, const char *path, struct ck_lookup *lk)
{
	struct ck *c = k->c;
	uint8_t want[IMG_BUILD_ID_MAX], have[IMG_BUILD_ID_MAX];
	size_t nwant = img_build_id_reg(f->msg, want, sizeof(want)), nhave;
	int fd;

	if (!nwant || !S_ISREG(lk->st.st_mode))
		return;
	fd = ck_fd_reopen(lk->fd, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return;
	nhave = img_build_id_file(fd, have, sizeof(have));
	close(fd);
	if (!nhave)
		return; /* CRIU validates by size alone then */
	if (!img_build_id_same(have, nhave, want, nwant)) {
		char a[2 * IMG_BUILD_ID_MAX + 1], b[2 * IMG_BUILD_ID_MAX + 1];
		struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "files", "file-build-id", f->image, f->entry,
						"'%s' is another build of the program than %s had (CRIU: File %s has bad build-ID)",
						path, f->user ? f->user : "the task", path + 1);

		img_build_id_hex(a, sizeof(a), want, nwant);
		img_build_id_hex(b, sizeof(b), have, nhave);
		fi->offset = f->off;
		fi->field = "reg.build_id";
		fi->subject = CK_F(c, "%s", path);
		fi->expected = CK_F(c, "%s", a);
		fi->found = CK_F(c, "%s", b);
		fi->todo = "install the same build of the file as on the machine the set was dumped on";
	}
}

static void check_reg(struct fck *k, struct ck_file *f)
{
	struct ck *c = k->c;
	const char *path = img_msg_str(&c->arena, f->msg, "name", NULL);
	const char *who = f->user ? f->user : CK_F(c, "file id %#x", f->id);
	int has_mode = img_msg_has(f->msg, "mode"), has_size = img_msg_has(f->msg, "size");
	uint32_t mode = (uint32_t)img_msg_u64(f->msg, "mode", 0);
	uint64_t size = img_msg_u64(f->msg, "size", 0);
	struct img_finding *fi;
	struct ck_lookup lk;
	int r;

	if (!path || path[0] != '/' || f->remapped || img_msg_u64(f->msg, "ext", 0))
		return;
	r = ck_root_open(k->rootfd, path, 0, &lk);
	if (r) {
		if (!seen(k, path)) {
			fi = ck_add(c, IMG_SEV_ERROR, "files", r == -ENOENT ? "file-missing" : "file-access", f->image,
				    f->entry, r == -ENOENT ? "'%s' is not there: %s needs it (CRIU: Can't open file %s on restore)"
							   : "cannot look up '%s', which %s needs: %s",
				    path, who, r == -ENOENT ? path + 1 : strerror(-r));
			fi->offset = f->off;
			fi->field = "reg.name";
			fi->subject = path;
			fi->expected = has_mode ? CK_F(c, "%s, mode 0%o", kind_of(mode), mode & 07777) : "a file";
			fi->found = r == -ENOENT ? CK_F(c, "nothing ('%s' is missing)", lk.stopped) : strerror(-r);
			fi->todo = "put the file back where the image says (under the root), or restore with the file system it was dumped with";
		}
		ck_lookup_done(&lk);
		return;
	}
	/* with --skip-file-rwx-check CRIU compares the mode without its rwx bits */
	mode_t mask = c->o->flags & IMG_CHECK_SKIP_RWX ? ~(mode_t)0777 : ~(mode_t)0;

	if (has_mode && (lk.st.st_mode & mask) != (mode & mask)) {
		int type = (lk.st.st_mode & S_IFMT) != (mode & S_IFMT);

		if (!seen(k, path)) {
			if (type)
				fi = ck_add(c, IMG_SEV_ERROR, "files", "file-type", f->image, f->entry,
					    "'%s' is %s, but %s had %s", path, kind_of(lk.st.st_mode), who, kind_of(mode));
			else
				fi = ck_add(c, IMG_SEV_ERROR, "files", "file-mode", f->image, f->entry,
					    "'%s' has mode 0%o, but %s had 0%o (CRIU: File %s has bad mode)", path,
					    (unsigned)(lk.st.st_mode & 07777), who, mode & 07777, path + 1);
			fi->offset = f->off;
			fi->field = "reg.mode";
			fi->subject = path;
			fi->expected = CK_F(c, "0%o", mode);
			fi->found = CK_F(c, "0%o", (unsigned)lk.st.st_mode);
			fi->todo = type ? "put the right kind of file there"
					: (mask & 0777) ? CK_F(c, "chmod 0%o the file, or restore with --skip-file-rwx-check", mode & 07777)
							: CK_F(c, "chmod 0%o the file", mode & 07777);
		}
	} else if (has_mode && lk.st.st_mode != mode && !seen(k, path)) {
		fi = ck_add(c, IMG_SEV_INFO, "files", "file-mode-rwx", f->image, f->entry,
			    "'%s' has mode 0%o, %s had 0%o: CRIU accepts it with --skip-file-rwx-check", path,
			    (unsigned)(lk.st.st_mode & 07777), who, mode & 07777);
		fi->offset = f->off;
		fi->field = "reg.mode";
		fi->subject = path;
		fi->expected = CK_F(c, "0%o", mode);
		fi->found = CK_F(c, "0%o", (unsigned)lk.st.st_mode);
	} else if (has_size && (uint64_t)lk.st.st_size != size) {
		if (!seen(k, path)) {
			fi = ck_add(c, IMG_SEV_ERROR, "files", "file-size", f->image, f->entry,
				    "'%s' has %lld bytes, but %s had %llu (CRIU: File %s has bad size %lld (expect %llu))",
				    path, (long long)lk.st.st_size, who, (unsigned long long)size, path + 1,
				    (long long)lk.st.st_size, (unsigned long long)size);
			fi->offset = f->off;
			fi->field = "reg.size";
			fi->subject = path;
			fi->expected = CK_F(c, "%llu bytes", (unsigned long long)size);
			fi->found = CK_F(c, "%lld bytes", (long long)lk.st.st_size);
			fi->todo = CK_F(c, "put back the file as it was at the dump (%llu bytes): CRIU checks the size to "
					   "know it reopens the same file", (unsigned long long)size);
		}
	} else if (has_size && !seen(k, path)) {
		check_build_id(k, f, path, &lk);
	}
	ck_lookup_done(&lk);
}

/*
 * The folder a file goes in: there (exist), or creatable: its nearest
 * ancestor that is there is a folder.  CRIU makes the folders of deleted
 * files it recreates (make_parent_dirs_if_need), not those of sockets it binds.
 */
static int folder_ok(struct fck *k, const char *path, int exist, char *why, size_t wlen)
{
	char dir[4096];
	struct ck_lookup lk;
	char *slash;
	int r;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return 1;
	*slash = 0;
	for (;;) {
		r = ck_root_open(k->rootfd, dir[0] ? dir : "/", 0, &lk);
		if (!r) {
			int ok = S_ISDIR(lk.st.st_mode);

			if (!ok)
				snprintf(why, wlen, "'%.300s' is %s, not a folder", dir[0] ? dir : "/", kind_of(lk.st.st_mode));
			ck_lookup_done(&lk);
			return ok;
		}
		ck_lookup_done(&lk);
		if (r != -ENOENT) {
			snprintf(why, wlen, "cannot look up '%.300s': %s", dir, strerror(-r));
			return 0;
		}
		if (exist) {
			snprintf(why, wlen, "the folder '%.300s' is not there (bind does not make it)", dir);
			return 0;
		}
		slash = strrchr(dir, '/');
		if (!slash)
			return 1;
		*slash = 0;
	}
}

static void check_usk(struct fck *k, struct ck_file *f)
{
	struct ck *c = k->c;
	size_t len = 0;
	const uint8_t *name = img_msg_bytes(f->msg, "name", &len);
	const char *dir = img_msg_str(&c->arena, f->msg, "name_dir", NULL);
	char path[4200], why[512];
	struct img_finding *fi;
	struct ck_lookup lk;
	int r;

	while (name && len && !name[len - 1])
		len--; /* sun_path as bound often ends in its NUL */
	if (!name || !len || !name[0] || memchr(name, 0, len) || len > 108)
		return; /* unbound or abstract */
	if (img_msg_u64(f->msg, "deleted", 0) || (img_msg_u64(f->msg, "uflags", 0) & USK_EXTERN))
		return;
	if (img_msg_u64(f->msg, "type", 0) != SK_DGRAM && img_msg_u64(f->msg, "state", 0) == SK_ESTABLISHED)
		return; /* CRIU does not bind these again */
	if (name[0] == '/' || !dir)
		snprintf(path, sizeof(path), "%s%.*s", name[0] == '/' ? "" : "/", (int)len, (const char *)name);
	else
		snprintf(path, sizeof(path), "%s/%.*s", dir, (int)len, (const char *)name);
	if (seen(k, CK_F(c, "%s", path)))
		return;
	if (!folder_ok(k, path, 1, why, sizeof(why))) {
		fi = ck_add(c, IMG_SEV_ERROR, "files", "socket-dir", f->image, f->entry,
			    "the unix socket '%s' of %s cannot be bound: %s", path, f->user ? f->user : "a task", why);
		fi->offset = f->off;
		fi->field = "usk.name";
		fi->subject = CK_F(c, "%s", path);
		fi->todo = "make the folder the socket lives in";
		return;
	}
	r = ck_root_open(k->rootfd, path, 1, &lk);
	if (!r && !S_ISSOCK(lk.st.st_mode)) {
		fi = ck_add(c, IMG_SEV_ERROR, "files", "socket-path", f->image, f->entry,
			    "'%s' is %s: CRIU removes only old sockets, so binding the unix socket of %s fails (Address already in use)",
			    path, kind_of(lk.st.st_mode), f->user ? f->user : "a task");
		fi->offset = f->off;
		fi->field = "usk.name";
		fi->subject = CK_F(c, "%s", path);
		fi->todo = "move the file out of the way";
	} else if (!r) {
		fi = ck_add(c, IMG_SEV_INFO, "files", "socket-stale", f->image, f->entry,
			    "an old socket file is at '%s': CRIU removes it and binds the socket of %s again", path,
			    f->user ? f->user : "a task");
		fi->offset = f->off;
		fi->subject = CK_F(c, "%s", path);
	}
	ck_lookup_done(&lk);
}

/* A deleted file CRIU recreates from its ghost image: the folders it lies in must be there or creatable. */
static void check_ghost_dir(struct fck *k, struct ck_file *f)
{
	struct ck *c = k->c;
	const char *path = img_msg_str(&c->arena, f->msg, "name", NULL);
	char why[512];

	if (!path || path[0] != '/' || folder_ok(k, path, 0, why, sizeof(why)))
		return;
	struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "files", "ghost-dir", f->image, f->entry,
					"the deleted file '%s' cannot be made again: %s", path, why);
	fi->offset = f->off;
	fi->subject = path;
	fi->todo = "make the folder the file was in";
}

void ck_files(struct ck *c)
{
	struct fck k = { .c = c };

	k.rootfd = open(c->o->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (k.rootfd < 0) {
		struct img_finding *fi = ck_add(c, IMG_SEV_ERROR, "files", "root", NULL, IMG_NO_ENTRY,
						"cannot open the root '%s': %s", c->o->root, strerror(errno));
		fi->subject = c->o->root;
		return;
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		struct ck_file *f = &c->files[i];

		if (!f->msg)
			continue;
		if (f->type == CK_FD_REG && f->remapped)
			check_ghost_dir(&k, f);
		else if (f->type == CK_FD_REG)
			check_reg(&k, f);
		else if (f->type == CK_FD_UNIXSK)
			check_usk(&k, f);
	}
	close(k.rootfd);
}
