/*
 * Where task memory lies in a set, for patch-memory rules: the checkpoint
 * model of the set's folder and img_mem_run give the pages member and the
 * offset of an address.  Only bytes this set holds can be patched.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "img/mem.h"
#include "img/model.h"
#include "img/xform.h"

#define MAX_MEMS 64

struct xmem {
	struct img_dir *d;
	struct img_ckpt *ck;           /* opened at the first patch: most conversions need none */
	struct {
		uint32_t pid;
		struct img_mem *m;
	} mems[MAX_MEMS];
	size_t n;
};

static struct img_mem *task_mem(struct xmem *x, uint32_t pid, struct img_err *err)
{
	const struct img_task *t;
	struct img_mem *m;

	for (size_t i = 0; i < x->n; i++)
		if (x->mems[i].pid == pid)
			return x->mems[i].m;
	t = img_ckpt_task(x->ck, pid);
	if (!t) {
		img_err_set(err, ENOENT, "no task %u in the set", pid);
		return NULL;
	}
	if (x->n == MAX_MEMS) {
		/* many tasks: drop the oldest */
		img_mem_close(x->mems[0].m);
		memmove(&x->mems[0], &x->mems[1], (MAX_MEMS - 1) * sizeof(x->mems[0]));
		x->n--;
	}
	if (img_mem_open(x->ck, t, 0, &m, err))
		return NULL;
	x->mems[x->n].pid = pid;
	x->mems[x->n++].m = m;
	return m;
}

static const char *why_not(int state)
{
	switch (state) {
	case IMG_PAGE_PARENT:
		return "in the parent snapshot (PE_PARENT): patching it would write another set";
	case IMG_PAGE_LAZY:
		return "left to the lazy-pages server: the image does not hold it";
	case IMG_PAGE_FILE:
		return "a page of the mapped file that the image does not hold";
	case IMG_PAGE_ZERO:
		return "a page never written: the image holds no page for it";
	case IMG_PAGE_MISSING:
		return "missing from the set (its pages file is short, or its parent is gone)";
	case IMG_PAGE_UNMAPPED:
		return "not mapped";
	}
	return "not in the set";
}

static int locate(void *arg, struct img_set *set, uint32_t pid, uint64_t addr, uint64_t len, char *member,
		  size_t mlen, uint64_t *off, struct img_err *err)
{
	struct xmem *x = arg;
	struct img_mem_run run;
	struct img_mem *m;
	char pm[64];

	snprintf(pm, sizeof(pm), "pagemap-%u.img", pid);
	for (size_t i = 0; i < img_set_count(set); i++)
		if (!strcmp(img_set_member(set, i), pm) && img_set_state(set, i) != IMG_SET_SAME)
			return img_err_set(err, EBUSY, "%s was changed by an earlier rule: task %u's memory cannot be "
					   "located in it", pm, pid);
	if (!x->ck) {
		struct img_dir *b;

		/* the model takes its folder; the set keeps its own */
		if (img_dir_borrow(x->d, &b, err) || img_ckpt_open_dir(b, IMG_CKPT_TOLERANT, &x->ck, err))
			return -EINVAL;
	}
	m = task_mem(x, pid, err);
	if (!m)
		return -EINVAL;
	if (addr > UINT64_MAX - len)
		return img_err_set(err, EINVAL, "0x%llx + %llu is past the address space", (unsigned long long)addr,
				   (unsigned long long)len);
	if (img_mem_run(m, addr, addr + len, &run, err))
		return -EINVAL;
	if (run.state != IMG_PAGE_PRESENT || run.depth || !run.source) {
		return img_err_set(err, ENOENT, "task %u's memory at 0x%llx is %s", pid, (unsigned long long)addr,
				   why_not(run.state));
	}
	if (run.end - addr < len)
		return img_err_set(err, ENOENT, "task %u's memory at 0x%llx runs over two places in the images",
				   pid, (unsigned long long)addr);
	if ((size_t)snprintf(member, mlen, "%s", run.source) >= mlen)
		return img_err_set(err, ENAMETOOLONG, "member name too long");
	*off = run.offset;
	return 0;
}

int img_xf_mem_open(struct img_set *set, struct img_xf_mem_ops *ops, struct img_err *err)
{
	struct xmem *x = img_calloc(1, sizeof(*x));

	memset(ops, 0, sizeof(*ops));
	if (!x)
		return img_err_set(err, ENOMEM, "out of memory");
	x->d = img_set_dir(set);
	ops->locate = locate;
	ops->arg = x;
	return 0;
}

void img_xf_mem_close(struct img_xf_mem_ops *ops)
{
	struct xmem *x = ops ? ops->arg : NULL;

	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		img_mem_close(x->mems[i].m);
	img_ckpt_close(x->ck);
	img_free(x);
	ops->arg = NULL;
	ops->locate = NULL;
}
