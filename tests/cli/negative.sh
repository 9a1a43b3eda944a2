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
		"$INSPECT" info --entries -j "$img" > "$T/info.json" || { fail "info --entries $b"; continue; }
		rm -rf "$T/c" && mkdir "$T/c"
		python3 - "$T/info.json" "$img" "$T/c" <<'PY'
import json, sys
info = json.load(open(sys.argv[1])); data = open(sys.argv[2], "rb").read(); out = sys.argv[3]
size = len(data)
single = info["kind"] in ("CORE", "MM", "IDS", "FS", "INVENTORY", "STATS", "SECCOMP", "TIMENS", "UTSNS",
                          "IPC_VAR", "CGROUP", "CPUINFO", "NETNS", "USERNS", "PIDNS", "APPARMOR", "AUTOFS")
ghost = info["magic"] == "GHOST_FILE"
cases = []
def cut(at, what):
    cases.append((what, data[:at], None))
for i, e in enumerate(info["entries"]):
    b = e["offset"]
    cut(b - 1, "bad")
    cut(b + 1, "bad")
    cut(b + 3, "bad")
    if e.get("size", 0) > 1:
        cut(b + 4 + e["size"] // 2, "bad")
    # a ghost file's contents run to the end of the file: a cut there cannot be seen
    if e.get("extra", 0) > 1 and not ghost:
        cut(b + 4 + e["size"] + e["extra"] // 2, "bad")
    # exactly at a boundary: a valid image with fewer entries (the pagemap keeps its head)
    if single:
        cut(b, "bad")
    elif i > 0 and not ghost:
        cases.append(("ok %d" % (i - (1 if info["magic"] == "PAGEMAP" else 0)), data[:b], None))
    # a size word that points past the end
    d = bytearray(data); d[b + 3] ^= 0x80
    cases.append(("bad", bytes(d), None))
if not ghost:
    cut(size - 1, "bad")
d = bytearray(data); d[4 if info["magic"] != "INVENTORY" else 0] ^= 0x80
cases.append(("bad", bytes(d), None))
with open(out + "/list", "w") as l:
    for n, (what, blob, _) in enumerate(cases):
        open("%s/%d.img" % (out, n), "wb").write(blob)
        l.write("%d %s\n" % (n, what))
PY
		while read -r n what count; do
			f=$T/c/$n.img
			if [ "$what" = bad ]; then
				expect_bad "$f" "$b case $n ($(stat -c %s "$f") bytes)"
			else
				c=$("$INSPECT" info "$f" 2>&1 | grep -o '"count": [0-9]*' | tr -dc 0-9)
				"$INSPECT" decode -i "$f" > /dev/null 2>&1 && [ "$c" = "$count" ] && pass ||
					fail "$b cut at an entry boundary: want a valid image with $count entries, got '$c'"
			fi
		done < "$T/c/list"
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
# "_unknown" bytes that hold a field the schema reads by name (file_entry.ext, cut short): refused, never written
printf '{"magic": "FILES", "entries": [{"id": 2, "_unknown": "%s"}]}' "$(printf '\x08\x15\x7a\x01\x29' | base64)" > "$T/unk.json"
"$CONVERT" encode -i "$T/unk.json" -o "$T/unk.img" 2> "$T/err"; rc=$?
[ $rc = 2 ] && [ ! -e "$T/unk.img" ] && grep -q "entries\[0\] (line 1 column [0-9]*): _unknown holds field 15 ('ext'), which does not read as the schema says" "$T/err" &&
	pass || fail "encode of _unknown holding a known field: exit $rc, $(cat "$T/err")"
finish
