# Damaged images: cut across every entry boundary and inside entries, and with
# the magic or a size word flipped.  Each one gives exit status 2 and a message
# with a byte offset; none crashes.  A cut exactly at an entry boundary of an
# array image leaves a shorter but valid image: it decodes, with fewer entries.
. "$(dirname "$0")/../lib.sh"
need_corpus
need_cmd python3
expect_bad() { # FILE WHAT
	"$INSPECT" decode -i "$1" > /dev/null 2> "$T/err"
	local rc=$?
	if [ $rc -eq 2 ] && grep -q "offset 0x" "$T/err"; then pass
	else fail "$2: exit $rc, message: $(head -c 200 "$T/err")"; fi
}
for set in "$SETS/multi" "$SETS/tiny" "$SETS/sh-loop"; do
	for img in $(decodable "$set"); do
		b=$(basename "$img")
		size=$(stat -c %s "$img")
		"$INSPECT" info --entries -j "$img" > "$T/info.json" || { fail "info --entries $b"; continue; }
		python3 - "$T/info.json" "$size" > "$T/cuts" <<'PY'
import json, sys
info = json.load(open(sys.argv[1])); size = int(sys.argv[2])
single = info["kind"] in ("CORE", "MM", "IDS", "FS", "INVENTORY", "STATS", "SECCOMP", "TIMENS", "UTSNS", "IPC_VAR", "CGROUP", "CPUINFO", "NETNS", "USERNS", "PIDNS", "APPARMOR", "AUTOFS")
ents = info["entries"]
for i, e in enumerate(ents):
    b = e["offset"]
    if b > 0:
        print("bad", b - 1)
    for d in (1, 3):
        print("bad", b + d)
    if e.get("size", 0) > 1:
        print("bad", b + 4 + e["size"] // 2)
    # a ghost file's contents run to the end of the file: a cut there cannot be seen
    if e.get("extra", 0) > 1 and info["magic"] != "GHOST_FILE":
        print("bad", b + 4 + e["size"] + e["extra"] // 2)
    # exactly at the boundary: valid with i entries for arrays (the pagemap keeps its head)
    if i > 0 and not single and info["magic"] != "GHOST_FILE":
        print("ok", b, i - (1 if info["magic"] == "PAGEMAP" else 0))
    if single:
        print("bad", b)
    # a size word that points past the end
    print("flip", b + 3)
if info["magic"] != "GHOST_FILE":
    print("bad", size - 1)
print("flip", 4 if info["magic"] != "INVENTORY" else 0)
PY
		while read -r what at n; do
			case $what in
			bad)
				head -c "$at" "$img" > "$T/cut.img"
				expect_bad "$T/cut.img" "$b cut at $at" ;;
			ok)
				head -c "$at" "$img" > "$T/cut.img"
				c=$("$INSPECT" info "$T/cut.img" 2>&1 | tr -dc '0-9\n' | tail -2 | head -1)
				"$INSPECT" decode -i "$T/cut.img" > /dev/null 2>&1 && [ "$c" = "$n" ] && pass ||
					fail "$b cut at the boundary $at: want a valid image with $n entries, got '$c'" ;;
			flip)
				python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[int(sys.argv[3])]^=0x80; open(sys.argv[2],"wb").write(d)' "$img" "$T/flip.img" "$at"
				expect_bad "$T/flip.img" "$b with byte $at flipped" ;;
			esac
		done < "$T/cuts"
	done
done
# not an image at all, an empty file, a directory, a missing file
printf 'not an image at all' > "$T/junk.img"
expect_bad "$T/junk.img" "junk"
: > "$T/empty.img"
"$INSPECT" decode -i "$T/empty.img" > /dev/null 2> "$T/err"; [ $? -eq 2 ] && pass || fail "empty file: not exit 2"
"$INSPECT" decode -i "$T" > /dev/null 2> "$T/err"; [ $? -eq 2 ] && grep -q directory "$T/err" && pass || fail "a directory: $(cat "$T/err")"
"$INSPECT" decode -i "$T/missing.img" > /dev/null 2> "$T/err"; [ $? -eq 2 ] && grep -q "cannot read '$T/missing.img'" "$T/err" && pass || fail "missing file: $(cat "$T/err")"
# JSON mode: the error is on stdout too
"$INSPECT" decode -j -i "$T/junk.img" > "$T/out" 2> /dev/null; grep -q '^{"error": "cannot read' "$T/out" && pass || fail "decode -j of junk prints no JSON error"
# an entry claiming 2 GiB: refused before any allocation
printf '\x19\x43\x56\x54\x47\x38\x05\x55\xff\xff\xff\x7f' > "$T/huge.img"
expect_bad "$T/huge.img" "an entry of 2 GiB"
finish
