/*
 * CUnit suites register themselves: each test file says
 *
 *     static CU_TestInfo tests[] = { { "name", fn }, CU_TEST_INFO_NULL };
 *     UNIT_SUITE("wire codec", NULL, NULL, tests);
 *
 * and tests/unit/main.c runs them all (or those whose name contains argv[1]).
 */
#ifndef UNIT_H
#define UNIT_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <string.h>

#include "img/base.h"

struct unit_suite {
	const char *name;
	CU_InitializeFunc init;
	CU_CleanupFunc clean;
	CU_TestInfo *tests;
	struct unit_suite *next;
};

void unit_register(struct unit_suite *s);

#define UNIT_CAT2(a, b) a##b
#define UNIT_CAT(a, b) UNIT_CAT2(a, b)
#define UNIT_SUITE(name, init, clean, tests)                                            \
	static struct unit_suite UNIT_CAT(unit_suite_, __LINE__) = { name, init, clean, tests, NULL }; \
	__attribute__((constructor)) static void UNIT_CAT(unit_reg_, __LINE__)(void)       \
	{                                                                                   \
		unit_register(&UNIT_CAT(unit_suite_, __LINE__));                            \
	}

/* An arena for a suite's test data: set up and freed around the suite. */
extern struct img_arena unit_arena;
int unit_arena_setup(void);
int unit_arena_teardown(void);

/* Two byte strings are the same (an empty one may have a NULL pointer). */
static inline int unit_same(const void *a, size_t an, const void *b, size_t bn)
{
	return an == bn && (!an || !memcmp(a, b, an));
}

/* The corpus folder (CR_CORPUS or ../shared/corpus), or NULL when there is none. */
const char *unit_corpus(void);
/* Record that a test skipped corpus work; main prints the list at the end. */
void unit_skip(const char *what);

#endif
