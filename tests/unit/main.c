/* Runs every registered CUnit suite; "run NAME" runs the suites whose name contains NAME. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unit.h"

static struct unit_suite *suites;
struct img_arena unit_arena;

int unit_arena_setup(void)
{
	img_arena_init(&unit_arena);
	return 0;
}

int unit_arena_teardown(void)
{
	img_arena_free(&unit_arena);
	return 0;
}
static char skipped[4096];

void unit_register(struct unit_suite *s)
{
	struct unit_suite **p = &suites;

	while (*p) /* keep the order of registration */
		p = &(*p)->next;
	*p = s;
}

const char *unit_corpus(void)
{
	static char path[4096];
	const char *env = getenv("CR_CORPUS");
	struct stat st;

	snprintf(path, sizeof(path), "%s", env && *env ? env : "../shared/corpus");
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? path : NULL;
}

void unit_skip(const char *what)
{
	if (!strstr(skipped, what) && strlen(skipped) + strlen(what) + 8 < sizeof(skipped)) {
		strcat(skipped, "   ");
		strcat(skipped, what);
		strcat(skipped, "\n");
	}
}

int main(int argc, char **argv)
{
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	for (struct unit_suite *s = suites; s; s = s->next) {
		if (argc > 1 && !strstr(s->name, argv[1]))
			continue;
		CU_SuiteInfo info[2] = { { s->name, s->init, s->clean, NULL, NULL, s->tests }, CU_SUITE_INFO_NULL };

		if (CU_register_suites(info) != CUE_SUCCESS) {
			fprintf(stderr, "cannot register suite %s: %s\n", s->name, CU_get_error_msg());
			return 2;
		}
	}
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	if (skipped[0])
		printf("== unit tests skipped without the corpus:\n%s", skipped);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
