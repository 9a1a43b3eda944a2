/*
 * What the libFuzzer targets share.  Each target is one file defining
 * LLVMFuzzerTestOneInput; it is linked with libFuzzer (make fuzz, clang
 * -fsanitize=fuzzer) or with replay.c (make check, any compiler), which runs
 * it over the files of tests/fuzz/regressions/TARGET/.
 *
 * Every target brackets its work on an input with fuzz_begin/fuzz_end: all
 * of libimg's allocations go through a counting allocator, and an input that
 * leaks a block or makes the library hold more than its memory budget at
 * once (img_budget of the input size) aborts, so that the fuzzer keeps it.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Once, before any input (common.c's LLVMFuzzerInitialize, shared by every target): the counting allocator, stdout to /dev/null, tables parsed. */
void fuzz_setup(void);
/*
 * Around the work on one input of size bytes: fuzz_end aborts when a block
 * of libimg's leaked; fuzz_budget when libimg held more than the budget of
 * the input at once since fuzz_begin (called after the reading, before the
 * oracles, which may hold more: JSON text, copies).
 */
void fuzz_begin(size_t size);
void fuzz_budget(void);
void fuzz_end(void);
/* Stop with a message (an oracle found a wrong answer): the fuzzer records the input. */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* A scratch folder of this process, empty; removed again by fuzz_rmtree. */
const char *fuzz_tmpdir(void);
void fuzz_rmtree(const char *path);
/* Write n bytes to dir/name. */
int fuzz_write(const char *dir, const char *name, const void *p, size_t n);

/* Two byte strings are the same (an empty one may have a NULL pointer). */
static inline int fuzz_same(const void *a, size_t an, const void *b, size_t bn)
{
	return an == bn && (!an || !__builtin_memcmp(a, b, an));
}

#endif
