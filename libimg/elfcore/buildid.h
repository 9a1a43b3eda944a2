/*
 * GNU build-ids (private to libimg): the one an ELF file carries, and the one
 * a reg_file_entry recorded at dump.  CRIU compares them to know it reopens
 * the same program; the host check and the memory reader do the same.
 */
#ifndef ELFCORE_BUILDID_H
#define ELFCORE_BUILDID_H

#include <stddef.h>
#include <stdint.h>

#include "img/pb.h"

#define IMG_BUILD_ID_MAX 64

/* The NT_GNU_BUILD_ID note of an ELF file, from its PT_NOTE segments as CRIU reads it: its length, or 0. */
size_t img_build_id_file(int fd, uint8_t *out, size_t cap);
/* The same, of an ELF file held in memory. */
size_t img_build_id_mem(const void *p, size_t size, uint8_t *out, size_t cap);
/* The build-id a reg_file_entry recorded (u32 words holding the bytes in host order): its length, or 0. */
size_t img_build_id_reg(const struct img_msg *reg, uint8_t *out, size_t cap);
/* Whether a file's build-id (n bytes) is the one recorded (words, rounded up to 4 bytes). */
int img_build_id_same(const uint8_t *have, size_t nhave, const uint8_t *want, size_t nwant);
/* Hex digits of a build-id, cut to fit. */
void img_build_id_hex(char *buf, size_t cap, const uint8_t *p, size_t n);

#endif
