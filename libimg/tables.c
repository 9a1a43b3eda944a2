/* The built-in tables, parsed at first use and kept for the program's life. */
#include "img/profile.h"
#include "img/explain.h"
#include "img/schema.h"
#include "img/tab.h"
#include "criu/legacy.h"
#include "linuxcr/bridge.h"

void img_tables_load(void)
{
	const struct img_logmsg *lm;
	const struct img_kfeature *kf;
	const struct img_xfeature *xf;
	const struct img_legacy_file *lf;
	const struct br_table *bt;
	size_t n;

	img_schema_default();
	img_logmsgs(&lm, &n, NULL);
	img_kfeatures(&kf, &n, NULL);
	img_xfeatures(&xf, &n, NULL);
	img_legacy_files(&lf, &n, NULL);
	br_table(&bt, NULL);
}
