#!/bin/bash
# Memory search speed and memory use: cr-inspect search --count over one task
# whose single anonymous mapping holds SIZE of pages (default 1G), against
# grep -F -c over the raw pages file, both with the file in the page cache.
# The image set is made by bench_big_set (lib.sh).
#
#   tests/bench/search.sh [SIZE_MIB]        prints the times, the ratio and the peak RSS
#   make bench                              the same, as a row of the bench table (BENCH_MIB=SIZE)
bench_register search "memory search: cr-inspect search --count against grep -F -c over the pages"

bench_search() {
	local mib=${1:-${BENCH_MIB:-1024}} g c n rss rx
	bench_big_set "$BT/search" "$mib" || { bench_skip search "cannot make the image set"; return; }
	cat "$PAGES" > /dev/null
	# into files: GNU grep stops at the first match when its output is /dev/null
	printf 'grep -F -c CRBENCH-NEEDLE "%s" > "%s"\n' "$PAGES" "$BT/grep.out" > "$BT/grep.sh"
	printf '"%s" search "%s" CRBENCH-NEEDLE --count > "%s"\n' "$INSPECT" "$BT/search" "$BT/ours.out" > "$BT/ours.sh"
	printf '"%s" search "%s" --regex "CRBENCH-NEEDLE-[0-9]+" --count > "%s"\n' "$INSPECT" "$BT/search" "$BT/regex.out" \
		> "$BT/regex.sh"
	bench_time g 3 "$BT/grep.sh" || return
	bench_time c 3 "$BT/ours.sh" || return
	bench_time rx 3 "$BT/regex.sh" || return
	n=$("$INSPECT" search "$BT/search" CRBENCH-NEEDLE --count)
	rss=$( { /usr/bin/time -v "$INSPECT" search "$BT/search" CRBENCH-NEEDLE --count > /dev/null; } 2>&1 |
		awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}')
	echo "   search over $mib MiB of pages: $n matches, peak RSS ${rss:-?} KiB"
	bench_result "search: $mib MiB of pages" "$c" "grep -F -c" "$g" 0.67 "peak RSS ${rss:-?} KiB"
	bench_result "search --regex: $mib MiB of pages" "$rx" "grep -F -c" "$g" -
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	. "$(dirname "$0")/lib.sh"
	bench_search "${1:-}"
	bench_report
fi
