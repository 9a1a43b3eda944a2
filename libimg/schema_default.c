/* The schema the library uses when not told otherwise. */
#include "img/schema.h"

static const struct img_schema *use_schema;

const struct img_schema *img_schema_default(void)
{
	return use_schema ? use_schema : img_schema_builtin();
}

void img_schema_use(const struct img_schema *s)
{
	use_schema = s;
}
