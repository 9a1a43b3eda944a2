# decode: every image of the corpus to JSON (all but the raw pages-*.img),
# cr-inspect decode against crit decode, one process per image as people run
# them, raw and --pretty.  The peer is Debian's crit (packages criu and
# python3-protobuf: CR_DEPS_EXTRA="criu python3-protobuf" sh tests/deps), or
# the one CR_CRIT names.  Debian's crit is 3.17: it cannot decode some CRIU 4.2
# images, and prints others without the fields 4.2 added; only what both
# decode is timed, and the report says how many images gave the same bytes.
# A last row (for information) times pycriu loading every image in one
# Python process, without the start-up of one crit per image.
bench_register decode "the corpus to JSON: cr-inspect decode and crit decode"

bench_decode() {
	local crit=${CR_CRIT:-crit} img py n=0 same=0 t_ours t_crit
	local both=() crit_fails=() differ=()

	if [ ! -d "$SETS" ]; then
		bench_skip decode "no corpus at $CORPUS (set CR_CORPUS)"
		return
	fi
	if ! command -v "$crit" > /dev/null || ! "$crit" decode -i "$SETS/tiny/pstree.img" > /dev/null 2>&1; then
		bench_skip decode "crit does not run here: CR_DEPS_EXTRA=\"criu python3-protobuf\" sh tests/deps installs it"
		return
	fi
	while read -r img; do
		n=$((n + 1))
		if ! "$INSPECT" decode -i "$img" > "$BT/ours.json" 2> "$BT/err"; then
			bench_skip decode "cr-inspect cannot decode $img: $(cat "$BT/err")"
			nbad=$((nbad + 1))
			return
		fi
		if "$crit" decode -i "$img" > "$BT/crit.json" 2> /dev/null; then
			both+=("$img")
			if cmp -s "$BT/ours.json" "$BT/crit.json"; then same=$((same + 1)); else differ+=("${img#"$SETS"/}"); fi
		else
			crit_fails+=("${img#"$SETS"/}")
		fi
	done < <(find "$SETS" -mindepth 2 -maxdepth 2 -type f \( -name '*.img' ! -name 'pages-*' -o -name 'stats-dump' \) |
		 LC_ALL=C sort)
	echo "   $n images; crit decodes ${#both[@]}; the same bytes for $same of them (crit 3.17's .proto files lack fields CRIU 4.2 writes)"
	[ ${#crit_fails[@]} -eq 0 ] || echo "   crit cannot decode (not timed): ${crit_fails[*]}"
	[ ${#differ[@]} -eq 0 ] || echo "   crit prints other bytes for: ${differ[*]}"

	for mode in "" --pretty; do
		: > "$BT/ours.sh"
		: > "$BT/crit.sh"
		for img in "${both[@]}"; do
			printf '"%s" decode %s -i "%s" > /dev/null\n' "$INSPECT" "$mode" "$img" >> "$BT/ours.sh"
			printf '"%s" decode %s -i "%s" > /dev/null\n' "$crit" "$mode" "$img" >> "$BT/crit.sh"
		done
		bench_time t_ours 10 "$BT/ours.sh" || return
		bench_time t_crit $([ -z "$mode" ] && echo 3 || echo 2) "$BT/crit.sh" || return
		bench_result "decode${mode:+ $mode}: ${#both[@]} corpus images" "$t_ours" "crit ($(crit_version "$crit"))" \
			"$t_crit" 30 "$([ -z "$mode" ] && note "${#crit_fails[@]}" "$n" "$same" "${#both[@]}")"
	done

	# pycriu in one process: the decoding itself, without Python's start-up per image
	py=$(head -1 "$(command -v "$crit")" | sed -n 's/^#! *//p')
	if [ -n "$py" ] && $py -c 'import pycriu' 2> /dev/null; then
		local t_one t_py t_spawn
		printf 'import json, sys\nfrom pycriu import images\nfor p in sys.argv[1:]:\n    with open(p, "rb") as f:\n        json.dumps(images.load(f))\n' > "$BT/load.py"
		{ printf '%s "%s"' "$py" "$BT/load.py"; printf ' "%s"' "${both[@]}"; echo " > /dev/null"; } > "$BT/crit1.sh"
		printf '%s -c "from pycriu import images"\n' "$py" > "$BT/py.sh"
		: > "$BT/ours.sh"
		: > "$BT/spawn.sh"
		for img in "${both[@]}"; do
			printf '"%s" decode -i "%s" > /dev/null\n' "$INSPECT" "$img" >> "$BT/ours.sh"
			echo "/bin/true" >> "$BT/spawn.sh"
		done
		bench_time t_ours 10 "$BT/ours.sh" || return
		bench_time t_one 5 "$BT/crit1.sh" || return
		bench_time t_py 5 "$BT/py.sh" || return
		bench_time t_spawn 10 "$BT/spawn.sh" || return
		bench_result "decode: pycriu in one process" "$t_ours" "pycriu.images.load" "$t_one" - \
			"cr-inspect starts once per image; starting ${#both[@]} processes takes $(printf %.3f "$t_spawn") s here"
		bench_result "decode work alone (start-up taken off)" \
			"$(awk -v a="$t_ours" -v b="$t_spawn" 'BEGIN { printf "%.6f", (a > b ? a - b : 0.000001) }')" \
			"pycriu.images.load" "$(awk -v a="$t_one" -v b="$t_py" 'BEGIN { printf "%.6f", (a > b ? a - b : 0) }')" - \
			"cr-inspect less ${#both[@]} x /bin/true; pycriu less one Python start and import"
	fi
}

crit_version() {
	local v
	v=$("$1" --version 2> /dev/null) && { echo "$v"; return; }
	dpkg-query -W -f='${Version}' criu 2> /dev/null | sed 's/-.*//; s/^/Debian /' || echo "?"
}

note() { # FAILS N SAME BOTH
	local s="same bytes for $3 of $4"
	[ "$1" -gt 0 ] && s="$s; crit cannot decode $1 of $2 images, not timed"
	echo "$s"
}
