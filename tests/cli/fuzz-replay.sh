#!/bin/bash
# Replay the inputs that made fuzz targets fail (tests/fuzz/regressions/TARGET/)
# through the targets built with the normal compiler (and in make asan with
# ASan and UBSan): each must now run through without a crash, a leak of
# libimg's, a budget overrun or a wrong answer.
. "$(dirname "$0")/../lib.sh"
regs=$top/tests/fuzz/regressions
for d in "$regs"/*/; do
	t=$(basename "$d")
	bin=$BUILD/tests/fuzz/$t
	if [ ! -x "$bin" ]; then
		fail "$t: no replay binary at $bin (make check builds it)"
		continue
	fi
	n=$(find "$d" -type f ! -name '*.md' | wc -l)
	[ "$n" -gt 0 ] || continue
	if (cd "$T" && "$bin" $(find "$d" -type f ! -name '*.md' | sort)) > "$T/$t.log" 2>&1; then
		pass
	else
		fail "$t: an input fails again:"
		grep -v '^replay: /' "$T/$t.log" | tail -20
	fi
done
finish
