# Memory comparison: cr-diff --only memory of two image sets of SIZE MiB of
# pages each (default 1024; BENCH_MIB), the second with one byte changed in
# every 1024th page, against cmp -l of their pages files (which reads both
# whole and lists every byte that differs), all in the page cache.  Also, for
# information: the whole comparison, and two copies of one set (found equal
# byte for byte, the way cr-diff X X is), with cr-diff's peak RSS.
bench_register diff "memory comparison: cr-diff --only memory against cmp -l of the pages files"

bench_diff() {
	local mib=${BENCH_MIB:-1024} pa pb t_ours t_cmp t_all t_same t_samecmp rss n
	bench_big_set "$BT/diff-a" "$mib" || { bench_skip diff "cannot make the image set"; return; }
	pa=$PAGES
	rm -rf "$BT/diff-b" "$BT/diff-c" && cp -r "$BT/diff-a" "$BT/diff-b" && cp -r "$BT/diff-a" "$BT/diff-c"
	pb=$BT/diff-b/${pa##*/}
	python3 - "$pb" <<'PY'
import os, sys
with open(sys.argv[1], "r+b") as f:
    size = os.fstat(f.fileno()).st_size
    for off in range(4096 * 512 + 100, size, 4096 * 1024):
        f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0x5a]))
PY
	cat "$pa" "$pb" "$BT/diff-c/${pa##*/}" > /dev/null
	n=$("$DIFF" -j --only memory "$BT/diff-a" "$BT/diff-b" | python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["pages_changed"])')
	[ "$n" -eq $((mib / 4)) ] || { bench_skip diff "cr-diff found $n pages changed, not $((mib / 4))"; nbad=$((nbad + 1)); return; }
	# exit status 1 says "different": not a failure here
	printf '"%s" --only memory "%s" "%s" > "%s"; [ $? -eq 1 ]\n' "$DIFF" "$BT/diff-a" "$BT/diff-b" "$BT/ours.out" > "$BT/ours.sh"
	# into a file: GNU cmp stops at the first difference when its output is /dev/null
	printf 'cmp -l "%s" "%s" > "%s"; [ $? -eq 1 ]\n' "$pa" "$pb" "$BT/cmp.out" > "$BT/cmp.sh"
	printf '"%s" "%s" "%s" > "%s"; [ $? -eq 1 ]\n' "$DIFF" "$BT/diff-a" "$BT/diff-b" "$BT/all.out" > "$BT/all.sh"
	printf '"%s" "%s" "%s" > "%s"\n' "$DIFF" "$BT/diff-a" "$BT/diff-c" "$BT/same.out" > "$BT/same.sh"
	printf 'cmp "%s" "%s" > "%s"\n' "$pa" "$BT/diff-c/${pa##*/}" "$BT/samecmp.out" > "$BT/samecmp.sh"
	bench_time t_ours 5 "$BT/ours.sh" && bench_time t_cmp 5 "$BT/cmp.sh" && bench_time t_all 3 "$BT/all.sh" &&
		bench_time t_same 3 "$BT/same.sh" && bench_time t_samecmp 3 "$BT/samecmp.sh" ||
		{ bench_skip diff "a command failed (see above)"; nbad=$((nbad + 1)); return; }
	rss=$( { /usr/bin/time -v "$DIFF" --only memory "$BT/diff-a" "$BT/diff-b" > /dev/null; } 2>&1 |
		awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}')
	echo "   2 x $mib MiB of pages, $n pages changed; cr-diff's peak RSS ${rss:-?} KiB"
	bench_result "memory diff: 2 x $mib MiB" "$t_ours" "cmp -l" "$t_cmp" 0.5 "peak RSS ${rss:-?} KiB"
	bench_result "cr-diff, every category: 2 x $mib MiB" "$t_all" "cmp -l" "$t_cmp" -
	bench_result "cr-diff of two copies: 2 x $mib MiB" "$t_same" "cmp" "$t_samecmp" -
}

# cr-diff X X for each corpus set against cr-inspect decode of all of X's
# images (one process each, as the decode row runs them): the same folder
# twice (the target: under 10% of decoding X), a copy in another folder (every
# page compared byte for byte, for information), and a copy
# whose inventory has another dump_criu_run_id (bytes differ, so every
# category is compared, and finds nothing: the run id is volatile).
bench_register diffself "cr-diff X X (the same folder, a copy) against decoding X, for each corpus set"

bench_diffself() {
	local s name t_dec t_same t_copy t_rid
	if [ ! -d "$SETS" ]; then
		bench_skip diffself "no corpus at $CORPUS (set CR_CORPUS)"
		return
	fi
	for s in "$SETS"/*/; do
		s=${s%/}
		name=${s##*/}
		case $name in *.expected) continue;; esac
		: > "$BT/dec.sh"
		for f in "$s"/*.img "$s"/stats-dump; do
			case ${f##*/} in pages-*) continue;; esac
			[ -e "$f" ] && printf '"%s" decode -i "%s" > /dev/null\n' "$INSPECT" "$f" >> "$BT/dec.sh"
		done
		rm -rf "$BT/copy" "$BT/rid" && cp -r "$s" "$BT/copy" && cp -r "$s" "$BT/rid" && chmod -R u+w "$BT/rid"
		"$INSPECT" decode -i "$s/inventory.img" | python3 -c 'import json,sys; d=json.load(sys.stdin); d["entries"][0]["dump_criu_run_id"]="00000000-0000-4000-8000-000000000000"; json.dump(d,sys.stdout)' > "$BT/inv.json" &&
			"$CONVERT" encode -i "$BT/inv.json" -o "$BT/rid/inventory.img" || { bench_skip diffself "cannot write $name's inventory"; return; }
		printf '"%s" "%s" "%s"\n' "$DIFF" "$s" "$s" > "$BT/same.sh"
		printf '"%s" "%s" "%s"\n' "$DIFF" "$s" "$BT/copy" > "$BT/copy.sh"
		printf '"%s" "%s" "%s"\n' "$DIFF" "$s" "$BT/rid" > "$BT/rid.sh"
		bench_time t_dec 5 "$BT/dec.sh" && bench_time t_same 10 "$BT/same.sh" && bench_time t_copy 10 "$BT/copy.sh" &&
			bench_time t_rid 10 "$BT/rid.sh" || { bench_skip diffself "$name: a command failed"; nbad=$((nbad + 1)); return; }
		bench_result "cr-diff $name $name" "$t_same" "decode of $name" "$t_dec" 10
		bench_result "cr-diff $name, a copy" "$t_copy" "decode of $name" "$t_dec" - "every page compared"
		bench_result "cr-diff $name, another run id" "$t_rid" "decode of $name" "$t_dec" - "every category compared"
	done
}
