# The bench framework (sourced by tests/bench/run).
#
# A measurement is a file tests/bench/NAME.sh that defines bench_NAME and
# registers it with `bench_register NAME "what it measures"`.  bench_NAME
# times cr-tools and its peer in the same run with bench_time, and reports
# with bench_result (a row of the table and a verdict) or bench_skip.
# Commands are timed as scripts (one file each) so that hyperfine, when it is
# installed, and the fallback loop time exactly the same thing.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
INSPECT=${CR_INSPECT:-$top/cr-inspect/cr-inspect}
CONVERT=${CR_CONVERT:-$top/cr-convert/cr-convert}
DIFF=${CR_DIFF:-$top/cr-diff/cr-diff}
if [ -n "${CR_CORPUS:-}" ]; then CORPUS=$CR_CORPUS; else CORPUS=$top/../shared/corpus; fi
SETS=$CORPUS/criu-4.2
BT=$(mktemp -d "${TMPDIR:-/tmp}/crbench.XXXXXX")
trap 'rm -rf "$BT"' EXIT

bench_names=() bench_whats=()
rows=() verdicts=() nbad=0

bench_register() { bench_names+=("$1"); bench_whats+=("$2"); }

have_hyperfine() { command -v hyperfine > /dev/null; }

# bench_time VAR RUNS SCRIPT: the median wall time of `sh SCRIPT` over RUNS
# runs, in seconds, into VAR; with 5 runs or more, after a warm-up run.
bench_time() {
	local var=$1 runs=$2 script=$3 t
	if have_hyperfine; then
		# a script of one simple command is timed without a shell (-N), so that a
		# start-up of a millisecond is not counted twice against one process
		local cmd="sh $script" nosh=
		if [ "$(wc -l < "$script")" -eq 1 ] && ! grep -q '[|;&<>$`]' "$script"; then
			cmd=$(cat "$script") nosh=-N
		fi
		hyperfine $nosh --style none --warmup $((runs >= 5)) --runs "$runs" --export-json "$BT/hf.json" "$cmd" > /dev/null 2>&1 ||
			{ echo "bench: hyperfine failed on $script" >&2; return 1; }
		t=$(python3 -c 'import json,sys; print("%.6f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$BT/hf.json")
	else
		local i s e all=()
		[ "$runs" -ge 5 ] && sh "$script" > /dev/null 2>&1 # a warm-up run for the fast side
		for ((i = 0; i < runs; i++)); do
			s=$(date +%s%N)
			sh "$script" > /dev/null 2>&1
			e=$(date +%s%N)
			all+=($((e - s)))
		done
		t=$(printf '%s\n' "${all[@]}" | sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.6f", m / 1e9 }')
	fi
	printf -v "$var" '%s' "$t"
}

# bench_result WORK OURS PEER PEER_SECONDS TARGET [NOTE]: a row; TARGET is the
# least ratio peer/ours that passes ("30" for >= 30x), or "-" for a row that
# only informs.
bench_result() {
	local work=$1 ours=$2 peer=$3 theirs=$4 target=$5 note=${6:-} ratio verdict
	ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.1f", (a > 0 ? b / a : 0) }')
	if [ "$target" = - ]; then
		verdict="(for information)"
	elif awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r >= t) }'; then
		verdict="ok: ${ratio}x faster than $peer (target >= ${target}x)"
	else
		verdict="BELOW TARGET: ${ratio}x faster than $peer, target >= ${target}x"
		nbad=$((nbad + 1))
	fi
	rows+=("$(printf '%-44s %10.3f s  %-24s %10.3f s  %8sx  %6s' "$work" "$ours" "$peer" "$theirs" "$ratio" \
		"$([ "$target" = - ] && echo - || echo ">=${target}x")")")
	verdicts+=("$work: $verdict${note:+ ($note)}")
}

bench_skip() { verdicts+=("$1: SKIPPED: $2"); }

# bench_big_set DIR MIB: an image set whose one task maps MIB MiB of anonymous
# memory, all of it in the image (tests/support/bigset.sh: pages like a heap,
# a needle every 64 MiB).  Sets PAGES to the pages file.
bench_big_set() {
	rm -rf "$1" || return 1
	PAGES=$(CR_INSPECT=$INSPECT CR_CONVERT=$CONVERT "$top/tests/support/bigset.sh" "$1" "$2") || return 1
}

# bench_peak_rss VAR CMD...: the peak resident memory of CMD in KiB (GNU time), into VAR; "?" without it
bench_peak_rss() {
	local var=$1 kib
	shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -o "$BT/rss.txt" -v "$@" > /dev/null 2>&1
		kib=$(awk -F: '/Maximum resident/ { gsub(/ /, "", $2); print $2 }' "$BT/rss.txt")
	fi
	printf -v "$var" '%s' "${kib:-?}"
}

# bench_limit WORK WHAT VALUE LIMIT UNIT: a verdict that VALUE stays under LIMIT
bench_limit() {
	local work=$1 what=$2 v=$3 lim=$4 unit=$5
	if [ "$v" = "?" ]; then
		verdicts+=("$work: $what not measured (no /usr/bin/time: apt-get install time)")
	elif [ "$v" -lt "$lim" ]; then
		verdicts+=("$work: ok: $what $v $unit (target < $lim $unit)")
	else
		verdicts+=("$work: BELOW TARGET: $what $v $unit, target < $lim $unit")
		nbad=$((nbad + 1))
	fi
}

bench_report() {
	echo
	printf '%-44s %12s  %-24s %12s  %9s  %6s\n' "work" "cr-tools" "peer" "peer time" "ratio" "target"
	local r v
	for r in "${rows[@]}"; do echo "$r"; done
	echo
	for v in "${verdicts[@]}"; do echo "$v"; done
	echo "timer: $(have_hyperfine && echo "hyperfine $(hyperfine --version | cut -d' ' -f2)" || echo "date +%s%N loop, median")"
}
