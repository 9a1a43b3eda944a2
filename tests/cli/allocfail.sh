#!/bin/bash
# The allocation-failure test (tests/alloc/allocfail.c): every command and
# library call on the bundled sample set, with allocation N failing for
# every N, once with the arenas' usual blocks and once with an allocation per
# arena block.  Each run fails cleanly ("out of memory", exit 2 or -ENOMEM)
# or gives the output of the run without a failure, and leaks nothing.
. "$(dirname "$0")/../lib.sh"
for tool in inspect convert; do
	bin=$BUILD/tests/alloc/allocfail-$tool
	if [ ! -x "$bin" ]; then
		fail "no $bin (make check builds it)"
		continue
	fi
	for mode in "-a" "-a -c"; do
		if (cd "$T" && "$bin" $mode) > "$T/out" 2>&1; then
			pass
		else
			fail "allocfail-$tool $mode:"
			grep -v '^ok' "$T/out" | head -20
		fi
	done
done
finish
