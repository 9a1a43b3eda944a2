#!/bin/bash
# Writers killed with SIGKILL at random points: cr-convert encode -o, pack
# (tar and tar.gz), unpack, downgrade (a version step, a folder), --to
# linuxcr (a stream) and core, on a large image set (tests/support/bigset.sh).
# After every kill the input is intact (its checksums), and the output is
# either absent or complete: the same bytes (or tree) as a run left alone,
# never a half-written file at the final name; what a killed run leaves
# behind is only under a temporary name (NAME.tmp-XXXXXX).
#
#   KILL_RUNS=50 KILL_MIB=64 bash tests/cli/kill.sh   (make check: 3 runs on 16 MiB)
. "$(dirname "$0")/../lib.sh"
need_cmd python3 sha256sum
runs=${KILL_RUNS:-3}
mib=${KILL_MIB:-16}
set=$T/set
CR_INSPECT=$INSPECT CR_CONVERT=$CONVERT "$top/tests/support/bigset.sh" "$set" "$mib" > /dev/null
# a large crit JSON for encode: the mm of a task with 20000 mappings
"$INSPECT" decode -i "$set/mm-1.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = d["entries"][0]["vmas"][0]
d["entries"][0]["vmas"] = [dict(v, start=0x100000000 + i * 0x2000, end=0x100001000 + i * 0x2000) for i in range(20000)]
json.dump(d, sys.stdout, indent=4)' > "$T/mm.json"
sums() { (cd "$set" && sha256sum -- * | sha256sum) ; sha256sum < "$T/mm.json"; }
before=$(sums)

# the reference outputs, from runs left alone, and how long each takes
ms() { local s=${EPOCHREALTIME/./}; "$@" > /dev/null 2>&1; echo $(( (${EPOCHREALTIME/./} - s) / 1000 )); }
mkdir -p "$T/ref"
t_encode=$(ms "$CONVERT" encode -i "$T/mm.json" -o "$T/ref/mm-1.img")
t_pack=$(ms "$CONVERT" pack "$set" -o "$T/ref/ck.tar")
t_packgz=$(ms "$CONVERT" pack "$set" -o "$T/ref/ck.tar.gz")
t_unpack=$(ms "$CONVERT" unpack "$T/ref/ck.tar.gz" -o "$T/ref/unpacked")
t_down=$(ms "$CONVERT" downgrade "$set" --to 4.1 -o "$T/ref/down")
t_lcr=$(ms "$CONVERT" --to linuxcr-v23-rc2 "$set" -o "$T/ref/ck.lcr")
t_core=$(ms "$CONVERT" core "$set" -o "$T/ref/cores")
for f in mm-1.img ck.tar ck.tar.gz unpacked down ck.lcr cores/core.1; do [ -e "$T/ref/$f" ] || { fail "the reference run of $f failed"; finish; }; done
"$CONVERT" pack "$set" -o "$T/ref/ck2.tar" > /dev/null && cmp -s "$T/ref/ck.tar" "$T/ref/ck2.tar" && pass ||
	fail "pack is not deterministic: the kill test compares with a reference"

# kill CMD... after a random time in [0, MS], wait for it (MS a little past the time a run takes: most kills land mid-write)
killed_at() {
	local max=$1; shift
	"$@" > /dev/null 2>&1 &
	local pid=$!
	local d=$((RANDOM * max / 32768))
	sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
	kill -9 $pid 2> /dev/null
	wait $pid 2> /dev/null
}

# the output folder holds the final name (complete) or nothing, and temporaries only by their pattern
judge() { # WHAT OUTDIR NAME REF
	local what=$1 dir=$2 name=$3 ref=$4 f
	for f in "$dir"/* "$dir"/.[!.]*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		case ${f##*/} in
		"$name") ;;
		"$name".tmp-??????|."$name".tmp-??????|"$name".tmp-*-*) rm -rf "$f"; continue ;;
		*) fail "$what: '${f##*/}' left behind, neither the output nor a temporary"; rm -rf "$f"; continue ;;
		esac
	done
	if [ -e "$dir/$name" ]; then
		if [ -d "$ref" ]; then diff -r -q "$ref" "$dir/$name" > /dev/null; else cmp -s "$ref" "$dir/$name"; fi &&
			pass || fail "$what: a half-written '$name' at the final name"
		complete=$((complete + 1))
		rm -rf "$dir/$name"
	else
		pass
	fi
}

complete=0
for i in $(seq 1 "$runs"); do
	mkdir -p "$T/o"
	killed_at "$((t_encode * 6 / 5 + 5))" "$CONVERT" encode -i "$T/mm.json" -o "$T/o/mm-1.img"
	judge "encode, run $i" "$T/o" mm-1.img "$T/ref/mm-1.img"
	killed_at "$((t_pack * 6 / 5 + 5))" "$CONVERT" pack "$set" -o "$T/o/ck.tar"
	judge "pack (tar), run $i" "$T/o" ck.tar "$T/ref/ck.tar"
	killed_at "$((t_packgz * 6 / 5 + 5))" "$CONVERT" pack "$set" -o "$T/o/ck.tar.gz"
	judge "pack (tar.gz), run $i" "$T/o" ck.tar.gz "$T/ref/ck.tar.gz"
	killed_at "$((t_unpack * 6 / 5 + 5))" "$CONVERT" unpack "$T/ref/ck.tar.gz" -o "$T/o/unpacked"
	judge "unpack, run $i" "$T/o" unpacked "$T/ref/unpacked"
	killed_at "$((t_down * 6 / 5 + 5))" "$CONVERT" downgrade "$set" --to 4.1 -o "$T/o/down"
	judge "downgrade, run $i" "$T/o" down "$T/ref/down"
	killed_at "$((t_lcr * 6 / 5 + 5))" "$CONVERT" --to linuxcr-v23-rc2 "$set" -o "$T/o/ck.lcr"
	judge "--to linuxcr, run $i" "$T/o" ck.lcr "$T/ref/ck.lcr"
	mkdir -p "$T/oc"
	killed_at "$((t_core * 6 / 5 + 5))" "$CONVERT" core "$set" -o "$T/oc"
	judge "core, run $i" "$T/oc" core.1 "$T/ref/cores/core.1"
	[ "$(sums)" = "$before" ] && pass || { fail "run $i: the input changed"; break; }
done
echo "kill: $runs runs of 7 writers on $mib MiB (encode ${t_encode} ms, pack ${t_pack} ms, tar.gz ${t_packgz} ms, unpack ${t_unpack} ms," \
	"downgrade ${t_down} ms, --to linuxcr ${t_lcr} ms, core ${t_core} ms): $complete outputs complete, the rest absent"
finish
