#!/bin/bash
# --root: paths from images are resolved within the root folder, as if it
# were "/": a symlink that points out of the root (absolute or through "..")
# leads nowhere, so check, mem, maps and search never read what lies outside.
. "$(dirname "$0")/../lib.sh"
set=$TESTDATA/sample/tiny
R=$T/roots
mkdir -p "$R/in/tmp/crsubj" "$R/outside/crsubj" "$R/outside/subjects" "$R/in/tmp/subjects" "$R/abs" "$R/rel" "$R/deep/tmp"
printf 'abcdefghijklmn' > "$R/outside/crsubj/tiny.txt"
cp "$R/outside/crsubj/tiny.txt" "$R/in/tmp/crsubj/"
ln -s "$R/outside" "$R/abs/tmp"            # absolute: starts again from the root
ln -s ../outside "$R/rel/tmp"              # "..": stops at the root
ln -s ../../../../../../../../../.. "$R/deep/tmp/up"   # many "..": the root itself

finding() { # ROOT: the code of check's finding about tiny.txt
	"$INSPECT" check "$set" --only files --root "$1" -j | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(f["code"] for f in d["findings"] if (f.get("subject") or "").endswith("crsubj/tiny.txt")) or "none")'
}
need_cmd python3
c=$(finding "$R/in");  [ "$c" = file-size ] && pass || fail "check --root with the file in it: '$c' (want file-size: it is there, 14 bytes)"
for r in abs rel; do
	c=$(finding "$R/$r")
	case $c in file-missing|file-access) pass ;; *) fail "check --root through a symlink out ($r): '$c' (want file-missing or file-access)" ;; esac
done
# a path with ".." climbing past the top stays at the root
mkdir -p "$R/dots/tmp/crsubj" && cp "$R/outside/crsubj/tiny.txt" "$R/dots/tmp/crsubj/"
ln -s ../../../../../../../tmp "$R/dots/tmp/crsubj/back"
[ "$(finding "$R/dots")" = file-size ] && pass || fail "check --root: the file next to a link with many '..'"

# file-backed pages: the task's binary under the root; through a link out it is not read
bin=$CORPUS/subjects/bin/subject_tiny
if [ -f "$bin" ]; then
	cp "$bin" "$R/in/tmp/subjects/"
	cp "$bin" "$R/outside/subjects/"
	"$INSPECT" mem read "$set" --pid 1 0x400000 4 --root "$R/in" -o "$T/elf" && [ "$(head -c 4 "$T/elf" | od -An -c | tr -d ' ')" = 177ELF ] &&
		pass || fail "mem read --root with the binary in it"
	elf() { "$INSPECT" search "$set" --hex '7f 45 4c 46 02 01 01' --count "$@" 2>/dev/null; }
	base=$(elf) with=$(elf --root "$R/in")
	[ "$with" -eq $((base + 1)) ] && pass || fail "search --root with the binary in it: $with ELF headers, $base without"
	for r in abs rel; do
		"$INSPECT" mem read "$set" --pid 1 0x400000 16 --root "$R/$r" > "$T/out" 2>&1
		grep -q 'not present: file-backed' "$T/out" && pass || fail "mem read --root through a link out ($r): $(cat "$T/out")"
		n=$(elf --root "$R/$r")
		[ "$n" = "$base" ] && pass || fail "search --root through a link out ($r): $n ELF headers, $base without a root"
	done
else
	echo "SKIP [$test_name]: mem --root needs the corpus's subject binaries"
	echo "$test_name (mem --root)" >> "${CR_SKIPPED:-/dev/null}"
fi
finish
