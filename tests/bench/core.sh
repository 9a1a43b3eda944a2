# core: ELF core export (cr-convert core).
#
# bigmem16 (a real 16 MiB process of the corpus) against criu-coredump, the
# Python tool in the CRIU repository (coredump/coredump).  It is not part of
# this project: fetch CRIU, build pycriu's images outside this repository, and
# name the command in CRIU_COREDUMP, e.g.
#
#   git clone https://github.com/checkpoint-restore/criu /tmp/criu && cd /tmp/criu
#   protoc -I=images --python_out=lib/pycriu images/rpc.proto
#   (cd lib/pycriu/images && protoc -I=../../../images -I=/usr/include --python_out=. \
#       $(ls ../../../images/*.proto | grep -v rpc.proto) &&
#    python3 ../../../scripts/magic-gen.py ../../../criu/include/magic.h magic.py &&
#    for f in *_pb2.py; do [ $f = opts_pb2.py ] || echo "from .${f%.py} import *"; done > pb.py)
#   echo "__version__ = 'git'" > lib/pycriu/version.py
#   CRIU_COREDUMP="/usr/bin/python3 /tmp/criu/coredump/coredump" make bench
#
# (python3 with the protobuf module: Debian's python3-protobuf.)  Without it
# the row is skipped.  Then a BENCH_MIB (default 1024) MiB image made by
# bench_big_set (lib.sh) against cp of its pages file (target: within 2x), and the
# peak RSS of the export (target: under 64 MiB).
bench_register core "ELF core export: against criu-coredump (bigmem16) and cp of the pages (a large image)"

bench_core() {
	local mib=${BENCH_MIB:-1024} set=$BT/core-set pages t_ours t_peer rss

	if [ ! -d "$SETS/bigmem16" ]; then
		bench_skip "core: bigmem16" "no corpus at $CORPUS (set CR_CORPUS)"
	elif [ -z "${CRIU_COREDUMP:-}" ]; then
		bench_skip "core: bigmem16" "CRIU_COREDUMP is not set (see tests/bench/core.sh for how to get criu-coredump)"
	else
		printf 'rm -rf "%s"; mkdir "%s"; "%s" core "%s" -o "%s" -q\n' "$BT/c-ours" "$BT/c-ours" "$CONVERT" \
			"$SETS/bigmem16" "$BT/c-ours" > "$BT/c-ours.sh"
		printf 'rm -rf "%s"; mkdir "%s"; %s -i "%s" -o "%s"\n' "$BT/c-peer" "$BT/c-peer" "$CRIU_COREDUMP" \
			"$SETS/bigmem16" "$BT/c-peer" > "$BT/c-peer.sh"
		if ! sh "$BT/c-peer.sh" > "$BT/err" 2>&1 || [ ! -s "$BT/c-peer/core.1" ]; then
			bench_skip "core: bigmem16" "criu-coredump does not run: $(tail -1 "$BT/err")"
		else
			bench_time t_ours 10 "$BT/c-ours.sh" || return
			bench_time t_peer 1 "$BT/c-peer.sh" || return
			bench_result "core: bigmem16 (16 MiB)" "$t_ours" "criu-coredump" "$t_peer" 100 \
				"core.1: $(du -k "$BT/c-ours/core.1" | cut -f1) KiB on disk of $(($(stat -c %s "$BT/c-ours/core.1") >> 10)) KiB"
		fi
	fi

	if ! bench_big_set "$set" "$mib" 2> "$BT/err"; then
		bench_skip "core: $mib MiB" "cannot make the image: $(tail -1 "$BT/err")"
		return
	fi
	pages=$PAGES
	cat "$pages" > /dev/null
	printf 'rm -rf "%s"; "%s" core "%s" -o "%s" -q\n' "$BT/c-big" "$CONVERT" "$set" "$BT/c-big" > "$BT/c-big.sh"
	printf 'rm -f "%s"; cp "%s" "%s"\n' "$BT/c-cp" "$pages" "$BT/c-cp" > "$BT/c-cp.sh"
	bench_time t_ours 5 "$BT/c-big.sh" || return
	bench_time t_peer 5 "$BT/c-cp.sh" || return
	rm -rf "$BT/c-big" "$BT/c-cp"
	bench_peak_rss rss "$CONVERT" core "$set" -o "$BT/c-big" -q
	bench_result "core: $mib MiB image" "$t_ours" "cp of its pages file" "$t_peer" 0.5 "within 2x of cp"
	bench_limit "core: $mib MiB image" "peak RSS" "$rss" 65536 KiB
	rm -rf "$set" "$BT/c-big" "$BT/c-ours" "$BT/c-peer"
}
