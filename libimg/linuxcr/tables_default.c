/* The linux-cr tables the library uses when not told otherwise. */
#include "img/linuxcr.h"

static const struct img_lcr_tables *use_tables;

const struct img_lcr_tables *img_lcr_tables_default(void)
{
	return use_tables ? use_tables : img_lcr_tables_builtin();
}

void img_lcr_tables_use(const struct img_lcr_tables *t)
{
	use_tables = t;
}
