#!/bin/bash
# Bounds: the memory budget of the readers (tests/alloc/budget.c, crafted
# inputs with libimg's allocations counted), and the time a regular
# expression search may take on memory built to make it slow.
. "$(dirname "$0")/../lib.sh"
need_cmd python3
bin=$BUILD/tests/alloc/budget
if [ -x "$bin" ]; then
	if (cd "$T" && "$bin") > "$T/out" 2>&1; then pass; else fail "budget:"; grep -v '^ok' "$T/out" | head -20; fi
else
	fail "no $bin (make check builds it)"
fi

# 8 MiB of 'a': (a|aa)*b scans to the end of its window from every start
# position.  It must stop at the time limit (with a second or two of
# slack for one window and a loaded machine), say where, and exit 2.
CR_INSPECT=$INSPECT CR_CONVERT=$CONVERT "$top/tests/support/bigset.sh" "$T/a" 8 a > /dev/null
start=${EPOCHREALTIME/./}
"$INSPECT" search "$T/a" --regex '(a|aa)*b' --count --timeout 2 > "$T/out" 2> "$T/err"; rc=$?
ms=$(( (${EPOCHREALTIME/./} - start) / 1000 ))
[ $rc -eq 2 ] && pass || fail "a costly regex: exit $rc (want 2)"
grep -q 'stopped after [0-9]* s, at address 0x' "$T/err" && pass || fail "a costly regex: $(cat "$T/err")"
[ "$ms" -lt 12000 ] && pass || fail "a costly regex with --timeout 2 took $ms ms"
# a cheap one on the same memory runs to the end
"$INSPECT" search "$T/a" --regex 'a{4096}' --count --timeout 20 > "$T/out" 2> "$T/err"; rc=$?
[ $rc -eq 0 ] && [ "$(cat "$T/out")" = 2048 ] && pass || fail "a{4096} over 8 MiB of 'a': exit $rc, $(cat "$T/out" "$T/err")"
# back-references are refused before anything is read
"$INSPECT" search "$T/a" --regex '(a*)\1b' > /dev/null 2> "$T/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'back-references' "$T/err" && pass || fail "a back-reference: exit $rc, $(cat "$T/err")"
"$INSPECT" search "$T/a" --regex '[\1]x' --count > /dev/null 2>&1; rc=$?
[ $rc -ne 2 ] && pass || fail "a backslash in a bracket expression is not a back-reference"
"$INSPECT" search "$T/a" --regex 'a' --max-len 1M > /dev/null 2> "$T/err"; rc=$?
[ $rc -eq 2 ] && pass || fail "--max-len past 64k: exit $rc"
finish
