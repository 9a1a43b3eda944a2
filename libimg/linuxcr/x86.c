/*
 * x86 state both sides keep in other forms: the FPU area (linux-cr: the raw
 * FXSAVE or XSAVE area of thread.xstate; CRIU: user_x86_fpregs_entry field by
 * field, XSAVE components as repeated fields), and TLS descriptors (linux-cr:
 * struct desc_struct; CRIU: user_desc_t as get_thread_area gives it).
 *
 * Facts: Intel SDM vol. 1 ch. 10.5 (FXSAVE) and 13 (XSAVE standard format,
 * component offsets of CPUID leaf 0xd), the kernel's fill_user_desc() and
 * fill_ldt() (arch/x86/kernel/tls.c, asm/desc.h), CRIU's images/core-x86.proto.
 */
#include <errno.h>
#include <string.h>

#include "bridge.h"

#define XSAVE_BV 512
#define XSAVE_HDR_END 576
#define SW_XCR0 464     /* where the regset format keeps XCR0 in the FXSAVE area's software bytes */

/* XSAVE components CRIU keeps: the field of user_x86_xsave_entry, its element size, offset and size */
static const struct xcomp {
	unsigned bit;
	const char *field;
	unsigned elem, off, size;
} xcomps[] = {
	{ 2, "ymmh_space", 4, 576, 256 },   { 3, "bndreg_state", 8, 960, 64 }, { 4, "bndcsr_state", 8, 1024, 64 },
	{ 5, "opmask_reg", 8, 1088, 64 },   { 6, "zmm_upper", 8, 1152, 512 },  { 7, "hi16_zmm", 8, 1664, 1024 },
	{ 9, "pkru", 4, 2688, 8 },
};
#define NXCOMPS (sizeof(xcomps) / sizeof(xcomps[0]))

static uint64_t le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int add_array(struct img_arena *a, struct img_msg *m, const char *field, const uint8_t *p, unsigned elem,
		     unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		if (img_msg_add_u64(a, m, field, le(p + i * elem, elem)))
			return -ENOMEM;
	return 0;
}

int lcr_fpu_to_msg(struct img_arena *a, struct img_msg *fp, const uint8_t fx[512], const uint8_t *xs, uint32_t len)
{
	static const struct {
		const char *f;
		unsigned off, n;
	} fields[] = { { "cwd", 0, 2 }, { "swd", 2, 2 }, { "twd", 4, 2 }, { "fop", 6, 2 },
		       { "rip", 8, 8 }, { "rdp", 16, 8 }, { "mxcsr", 24, 4 }, { "mxcsr_mask", 28, 4 } };
	uint64_t xcr0;

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (img_msg_set_u64(a, fp, fields[i].f, le(fx + fields[i].off, fields[i].n)))
			return -ENOMEM;
	if (add_array(a, fp, "st_space", fx + 32, 4, 32) || add_array(a, fp, "xmm_space", fx + 160, 4, 64))
		return -ENOMEM;
	if (!xs || len < XSAVE_HDR_END)
		return 0;
	/* the components: those XCR0 names when the area says (the bridge writes it), else those that fit */
	xcr0 = le(xs + SW_XCR0, 8);
	struct img_msg *x = img_msg_set_msg(a, fp, "xsave");

	if (!x || img_msg_set_u64(a, x, "xstate_bv", le(xs + XSAVE_BV, 8)))
		return -ENOMEM;
	for (size_t i = 0; i < NXCOMPS; i++) {
		const struct xcomp *c = &xcomps[i];

		if (c->off + c->size > len || (xcr0 && !(xcr0 & (1ull << c->bit))))
			continue;
		if (add_array(a, x, c->field, xs + c->off, c->elem, c->size / c->elem))
			return -ENOMEM;
	}
	return 0;
}

/* Up to max values of a repeated field into p, each elem bytes; how many there were. */
static size_t get_array(const struct img_msg *m, const char *field, uint8_t *p, unsigned elem, size_t max)
{
	struct img_iter it;
	size_t k = 0;
	uint64_t v;

	if (img_iter_init(&it, m, field))
		return 0;
	while (img_iter_next_u64(&it, &v)) {
		if (k < max)
			put_le(p + k * elem, v, elem);
		k++;
	}
	return k;
}

int lcr_fpu_from_msg(const struct img_msg *fp, uint8_t *area, uint32_t cap, uint32_t *len, uint64_t *xcr0,
		     struct img_err *err)
{
	static const struct {
		const char *f;
		unsigned off, n;
	} fields[] = { { "cwd", 0, 2 }, { "swd", 2, 2 }, { "twd", 4, 2 }, { "fop", 6, 2 },
		       { "rip", 8, 8 }, { "rdp", 16, 8 }, { "mxcsr", 24, 4 }, { "mxcsr_mask", 28, 4 } };
	const struct img_msg *x = img_msg_sub(fp, "xsave");

	if (cap < LCR_XSAVE_MAX)
		return img_err_set(err, EINVAL, "an FPU area needs %u bytes", LCR_XSAVE_MAX);
	memset(area, 0, cap);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		put_le(area + fields[i].off, img_msg_u64(fp, fields[i].f, 0), fields[i].n);
	if (get_array(fp, "st_space", area + 32, 4, 32) != 32 || get_array(fp, "xmm_space", area + 160, 4, 64) != 64)
		return img_err_set(err, EINVAL, "fpregs: %zu st_space and %zu xmm_space values (32 and 64 expected)",
				   img_msg_count(fp, "st_space"), img_msg_count(fp, "xmm_space"));
	if (img_msg_count(fp, "padding"))
		get_array(fp, "padding", area + 416, 4, 24);
	*len = 512;
	*xcr0 = 0;
	if (!x)
		return 0;
	*xcr0 = 3; /* x87 and SSE */
	*len = XSAVE_HDR_END;
	put_le(area + XSAVE_BV, img_msg_u64(x, "xstate_bv", 0), 8);
	for (size_t i = 0; i < NXCOMPS; i++) {
		const struct xcomp *c = &xcomps[i];
		size_t n = img_msg_count(x, c->field);

		if (!n)
			continue;
		if (n * c->elem != c->size)
			return img_err_set(err, EINVAL, "fpregs.xsave.%s has %zu values, the component holds %u", c->field, n,
					   c->size / c->elem);
		get_array(x, c->field, area + c->off, c->elem, c->size / c->elem);
		*xcr0 |= 1ull << c->bit;
		if (c->off + c->size > *len)
			*len = c->off + c->size;
	}
	put_le(area + SW_XCR0, *xcr0, 8);
	return 0;
}

uint32_t lcr_xsave_size(uint64_t xcr0)
{
	uint32_t len = xcr0 & ~3ull ? XSAVE_HDR_END : 512;

	for (size_t i = 0; i < NXCOMPS; i++)
		if ((xcr0 & (1ull << xcomps[i].bit)) && xcomps[i].off + xcomps[i].size > len)
			len = xcomps[i].off + xcomps[i].size;
	return len;
}

int lcr_desc_to_msg(struct img_arena *a, struct img_msg *u, uint32_t entry, uint32_t lo, uint32_t hi)
{
	uint32_t type = (hi >> 8) & 0xf;
	int empty = !lo && !hi;
	const struct {
		const char *f;
		uint64_t v;
	} v[] = {
		{ "entry_number", entry },
		{ "base_addr", (lo >> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000) },
		{ "limit", (lo & 0xffff) | (hi & 0xf0000) },
		{ "seg_32bit", (hi >> 22) & 1 },
		{ "contents_h", empty ? 0 : (type >> 3) & 1 },
		{ "contents_l", empty ? 0 : (type >> 2) & 1 },
		{ "read_exec_only", empty ? 1 : !(type & 2) },
		{ "limit_in_pages", (hi >> 23) & 1 },
		{ "seg_not_present", !((hi >> 15) & 1) },
		{ "usable", (hi >> 20) & 1 },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (img_msg_set_u64(a, u, v[i].f, v[i].v))
			return -ENOMEM;
	return 0;
}

void lcr_desc_from_msg(const struct img_msg *u, uint32_t *lo, uint32_t *hi)
{
	uint64_t base = img_msg_u64(u, "base_addr", 0), limit = img_msg_u64(u, "limit", 0);
	uint64_t ro = img_msg_u64(u, "read_exec_only", 1), np = img_msg_u64(u, "seg_not_present", 1);
	uint64_t ch = img_msg_u64(u, "contents_h", 0), cl = img_msg_u64(u, "contents_l", 0);
	uint64_t s32 = img_msg_u64(u, "seg_32bit", 0), pg = img_msg_u64(u, "limit_in_pages", 0);
	uint64_t us = img_msg_u64(u, "usable", 0);

	/* LDT_empty: the kernel clears the descriptor */
	if (!base && !limit && !ch && !cl && ro && !s32 && !pg && np && !us) {
		*lo = *hi = 0;
		return;
	}
	*lo = (uint32_t)((limit & 0xffff) | ((base & 0xffff) << 16));
	*hi = (uint32_t)(((base >> 16) & 0xff) | ((((!ro) << 1) | (cl << 2) | (ch << 3) | 1) << 8) | (1u << 12) |
			 (3u << 13) | ((!np) << 15) | (limit & 0xf0000) | (us << 20) | (s32 << 22) | (pg << 23) |
			 (base & 0xff000000));
}

uint64_t lcr_fpu_fit(uint8_t *area, uint64_t from, uint64_t to)
{
	uint64_t bv = le(area + XSAVE_BV, 8), dirty = 0;

	if (!(from & ~3ull))
		return 0; /* FXSAVE only: every target has it */
	for (size_t i = 0; i < NXCOMPS; i++) {
		const struct xcomp *c = &xcomps[i];
		uint64_t bit = 1ull << c->bit;

		if (!(from & bit) || (to & bit))
			continue;
		/* in use: its xstate_bv bit set and not all zeros (the init state) */
		for (unsigned k = 0; (bv & bit) && k < c->size; k++)
			if (area[c->off + k]) {
				dirty |= bit;
				break;
			}
		memset(area + c->off, 0, c->size);
	}
	if (to & ~3ull) {
		put_le(area + XSAVE_BV, bv & to, 8);
		put_le(area + SW_XCR0, to, 8);
	} else {
		memset(area + XSAVE_BV, 0, XSAVE_HDR_END - XSAVE_BV);
		memset(area + SW_XCR0, 0, 8);
	}
	return dirty;
}

uint64_t lcr_area_xcr0(const uint8_t *area, uint32_t len, int has_xsave)
{
	uint64_t x = 3;

	if (!has_xsave || len < XSAVE_HDR_END)
		return 0;
	if (le(area + SW_XCR0, 8) & 3)
		return le(area + SW_XCR0, 8);
	/* an area the bridge did not write: the components its size holds */
	for (size_t i = 0; i < NXCOMPS; i++)
		if (xcomps[i].off + xcomps[i].size <= len)
			x |= 1ull << xcomps[i].bit;
	return x;
}
