/* libimg's linux-cr family: what its files share (not installed). */
#ifndef LCR_H
#define LCR_H

#include "img/linuxcr.h"

/* The struct a record carries (FILE: by its f_type), and its records.tab row. */
const struct img_lcr_struct *lcr_rec_struct(const struct img_lcr_tables *t, const struct img_lcr_layout *l,
					    const struct img_lcr_rectype *rt, const uint8_t *rec, uint32_t len,
					    const struct img_lcr_recdesc **desc);
/* A field of a record as an integer (signed fields sign-extended); -ENOENT when the struct has none. */
int lcr_field(const struct img_lcr_struct *st, const uint8_t *rec, uint32_t len, const char *path, int64_t *v);
/* The element size of a THEN or tail array ("u32", a struct name); 0 if unknown. */
uint32_t lcr_elem_size(const struct img_lcr_layout *l, const char *elem, uint8_t *type,
		       const struct img_lcr_struct **st);
/* The count of a THEN or tail array: a field of the parent record, const:NAME, or rest. */
int lcr_count(const struct img_lcr_image *img, const struct img_lcr_struct *st, const uint8_t *rec, uint32_t len,
	      const char *count, int64_t *v);
/* Write the bytes of a struct record again from its decoded fields over a copy of the original. */
void lcr_reencode(const struct img_lcr_struct *st, const uint8_t *src, uint32_t len, uint8_t *dst);

#endif
