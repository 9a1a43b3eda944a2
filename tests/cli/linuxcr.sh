# linux-cr streams (testdata/images/linuxcr, written by imggen; testdata.sh checks
# that it still writes them): ckptinfo prints what user-cr's ckptinfo printed for
# them (testdata/ckptinfo, made with the real tool; see its README), decode reads
# every version, conversion there and back is byte-identical, damaged streams
# exit 2 with an offset.
. "$(dirname "$0")/../lib.sh"
D=$TESTDATA/images/linuxcr
G=$TESTDATA/ckptinfo

# ckptinfo, line for line, for every option set ckptinfo's output was kept for
for g in "$G"/*.txt; do
	b=$(basename "$g" .txt) img=${b%.*} set=${b##*.}
	case $set in
	pv) opts="-p -v" ;; v) opts="-v" ;; p) opts="-p" ;; e) opts="-e" ;; epv) opts="-e -p -v" ;;
	none) opts="" ;; regs) opts="-v --show-arch-regs" ;; *) fail "unknown option set in $b"; continue ;;
	esac
	# shellcheck disable=SC2086
	"$INSPECT" ckptinfo $opts "$D/$img.img" > "$T/out" 2> "$T/err"
	rc=$?
	if [ $rc -eq 0 ] && cmp -s "$g" "$T/out"; then pass
	else fail "ckptinfo $opts $img: exit $rc, $(diff "$g" "$T/out" | head -3 | tr '\n' ' ')"; fi
done
# from standard input, and as JSON lines
"$INSPECT" ckptinfo -p -v < "$D/v23-rc2-x86_64.img" > "$T/out" && cmp -s "$T/out" "$G/v23-rc2-x86_64.pv.txt" && pass ||
	fail "ckptinfo from stdin"
"$INSPECT" ckptinfo -j -v "$D/v23-rc2-x86_64.img" > "$T/out.json" && grep -q '"lines": \["info: \[@8\] object   1 HDR_HEADER len 72"' "$T/out.json" && pass ||
	fail "ckptinfo -j"

# decode, show and info of every version
for f in "$D"/*.img; do
	b=$(basename "$f" .img)
	v=${b%-*}; case $b in *-error) v=v23-rc2 ;; esac
	case $b in v19-i386) opt=(--linuxcr-version v19) ;; *) opt=() ;; esac
	if "$INSPECT" decode -i "$f" "${opt[@]}" > "$T/d.json" 2> "$T/err"; then
		grep -q "\"version\": \"$v\"" "$T/d.json" && grep -q '"comm": "crsubj-multi"' "$T/d.json" && pass ||
			fail "decode $b: version or tasks missing"
	else
		fail "decode $b: $(head -c 300 "$T/err")"
	fi
done
if command -v python3 > /dev/null; then
	"$INSPECT" decode --pretty -i "$D/v23-rc2-x86_64.img" -o "$T/p.json" && python3 - "$T/p.json" <<'PY' && pass || fail "decode --pretty: the JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == "linuxcr" and d["arch"] == "x86_64"
assert [t["pid"] for t in d["tasks"]] == [1, 2, 3, 4]
assert [t["comm"] for t in d["tasks"]] == ["crsubj-init", "crsubj-multi", "worker-1", "crsubj-zomb"]
pipe = [r for r in d["records"] if r.get("role") == "pipe_data"]
assert bytes.fromhex(pipe[0]["hex"]) == b"crsubj pipe: 22 bytes."
assert any(f.get("path") == "/tmp/crsubj/data.txt" and f["pos"] == 5 for f in d["files"])
assert sum(v["pages"] for m in d["mms"] for v in m["vmas"]) == 5
PY
fi
"$INSPECT" show "$D/v19-rc2-i386.img" > /dev/null && pass || fail "show of a linux-cr stream"
"$INSPECT" info --entries "$D/v21-x86_64.img" > "$T/i.json" && grep -q '"magic": "LINUXCR"' "$T/i.json" &&
	grep -q '"version": "v21"' "$T/i.json" && pass || fail "info --entries"
# a stream inside a compressed archive (a windowed member) reads as the file does
if command -v tar > /dev/null; then
	tar czf "$T/l.tar.gz" -C "$D" v23-rc2-x86_64.img
	"$INSPECT" ckptinfo -p -v "$T/l.tar.gz:v23-rc2-x86_64.img" > "$T/out" && cmp -s "$T/out" "$G/v23-rc2-x86_64.pv.txt" &&
		pass || fail "ckptinfo of an archive member"
fi
# two versions that fit alike: a warning, and the choice can be forced
"$INSPECT" decode -i "$D/v19-i386.img" > /dev/null 2> "$T/err" && grep -q "fit this stream alike" "$T/err" && pass ||
	fail "no warning for an ambiguous version"

# conversion: v23-rc2 to v19-rc3 and back gives the same bytes; the result reads as v19-rc3
"$CONVERT" downgrade "$D/v23-rc2-x86_64.img" --to linuxcr-v19-rc3 -o "$T/old.img" && pass || fail "downgrade to v19-rc3"
"$INSPECT" ckptinfo -v "$T/old.img" | grep -q "object 404 HDR_MM_CONTEXT" && pass || fail "v19-rc3 numbers in the downgraded stream"
"$CONVERT" upgrade "$T/old.img" --to linuxcr-v23-rc2 -o "$T/new.img" && cmp -s "$T/new.img" "$D/v23-rc2-x86_64.img" && pass ||
	fail "downgrade and upgrade: not the same bytes"
# what v19-rc3 cannot hold is refused, or left out and listed with --lossy
"$CONVERT" downgrade "$D/v23-rc2-i386.img" --to linuxcr-v19-rc3 -o "$T/x.img" 2> "$T/err"
[ $? -eq 2 ] && grep -q "sysenter_return 3086140452 has no place in v19-rc3" "$T/err" && [ ! -e "$T/x.img" ] && pass ||
	fail "a lossy downgrade was not refused"
"$CONVERT" downgrade "$D/v23-rc2-i386.img" --to linuxcr-v19-rc3 --lossy -o "$T/x.img" 2> "$T/err" &&
	[ "$(grep -c "dropped: .*sysenter_return" "$T/err")" -eq 3 ] && pass || fail "--lossy: the dropped things"
"$CONVERT" upgrade "$D/v23-rc2-x86_64.img" --to linuxcr-v19-rc3 -o "$T/x.img" 2> "$T/err"
[ $? -eq 2 ] && grep -q "use 'downgrade'" "$T/err" && pass || fail "upgrade to an older version"
"$CONVERT" downgrade "$D/v23-rc2-x86_64.img" --to linuxcr-v18 -o "$T/x.img" 2> "$T/err"
[ $? -eq 2 ] && grep -q "v18 has no x86_64 port" "$T/err" && pass || fail "v18 on x86_64"

# damaged streams: exit 2, an offset, never a crash
head -c 5000 "$D/v23-rc2-x86_64.img" > "$T/cut.img"
"$INSPECT" decode -i "$T/cut.img" > /dev/null 2> "$T/err"
[ $? -eq 2 ] && grep -q "offset 0x" "$T/err" && pass || fail "a cut stream: $(cat "$T/err")"
"$INSPECT" ckptinfo -v "$T/cut.img" > /dev/null 2> "$T/err"
[ $? -eq 2 ] && grep -q "runs past the end" "$T/err" && pass || fail "ckptinfo of a cut stream"
printf 'not a checkpoint at all, just some text' > "$T/junk.img"
"$INSPECT" ckptinfo "$T/junk.img" > /dev/null 2> "$T/err"
[ $? -eq 2 ] && grep -q "not a linux-cr stream" "$T/err" && pass || fail "ckptinfo of junk"
finish
