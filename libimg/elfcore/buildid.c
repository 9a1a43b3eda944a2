/* GNU build-ids of ELF files and of the files an image recorded. */
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>

#include "buildid.h"

static size_t build_id_elf(Elf *e, uint8_t *out, size_t cap)
{
	size_t n = 0, len = 0;

	if (!e)
		return 0;
	if (elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &n))
		n = 0;
	for (size_t i = 0; i < n && !len; i++) {
		GElf_Phdr ph;
		GElf_Nhdr nh;
		Elf_Data *d;
		size_t off = 0, name_off, desc_off;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		if (!d)
			continue;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
			    !memcmp((const char *)d->d_buf + name_off, "GNU", 4) && nh.n_descsz <= cap) {
				memcpy(out, (const char *)d->d_buf + desc_off, nh.n_descsz);
				len = nh.n_descsz;
				break;
			}
		}
	}
	elf_end(e);
	return len;
}

size_t img_build_id_file(int fd, uint8_t *out, size_t cap)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	return build_id_elf(elf_begin(fd, ELF_C_READ_MMAP, NULL), out, cap);
}

size_t img_build_id_mem(const void *p, size_t size, uint8_t *out, size_t cap)
{
	if (!p || elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	/* libelf only reads an image opened with elf_memory for ELF_C_READ */
	return build_id_elf(elf_memory((char *)(uintptr_t)p, size), out, cap);
}

size_t img_build_id_reg(const struct img_msg *reg, uint8_t *out, size_t cap)
{
	struct img_iter it;
	size_t n = 0;
	uint64_t w;

	img_iter_init(&it, reg, "build_id");
	while (n + 4 <= cap && img_iter_next_u64(&it, &w)) {
		uint32_t v = (uint32_t)w;

		memcpy(out + n, &v, 4); /* the bytes as CRIU stored them, in host order */
		n += 4;
	}
	return n;
}

int img_build_id_same(const uint8_t *have, size_t nhave, const uint8_t *want, size_t nwant)
{
	return ((nhave + 3) & ~(size_t)3) == nwant && !memcmp(have, want, nhave);
}

void img_build_id_hex(char *buf, size_t cap, const uint8_t *p, size_t n)
{
	size_t at = 0;

	if (!cap)
		return;
	buf[0] = 0;
	for (size_t i = 0; i < n && at + 3 <= cap; i++)
		at += (size_t)snprintf(buf + at, cap - at, "%02x", p[i]);
}
