# cr-inspect check: the issue's root-folder test on the tiny set, and damage
# made to copies of corpus sets: each kind of damage gives exit status 1 and
# exactly one finding that names the right image and entry, and no crash.
. "$(dirname "$0")/../lib.sh"
need_corpus
need_cmd python3
umask 022

# one finding, and its code, image and entry: expect_one NAME DIR CODE IMAGE ENTRY [REF_IMAGE REF_ENTRY]
expect_one() {
	local name=$1 dir=$2 code=$3 image=$4 entry=$5 ref=${6:-} refe=${7:-}
	"$INSPECT" check --only images -j "$dir" > "$T/out.json" 2> "$T/err"
	local rc=$?
	if [ $rc -ne 1 ]; then fail "$name: exit $rc (want 1): $(head -c 300 "$T/err")"; return; fi
	python3 - "$T/out.json" "$code" "$image" "$entry" "$ref" "$refe" <<'PY' && pass || fail "$name: $(cat "$T/why")"
import json, sys
d = json.load(open(sys.argv[1])); code, image, entry, ref, refe = sys.argv[2:7]
f = d["findings"]
why = open(sys.argv[1].replace("out.json", "why"), "w")
if len(f) != 1:
    why.write("%d findings, want 1: %s" % (len(f), "; ".join("%s %s %s" % (x["code"], x["image"], x["message"]) for x in f))); sys.exit(1)
x = f[0]
got = (x["code"], x["image"], "-" if x["entry"] is None else str(x["entry"]))
if got != (code, image, entry):
    why.write("got %s, want %s: %s" % (got, (code, image, entry), x["message"])); sys.exit(1)
if ref and (x["ref_image"], "-" if x["ref_entry"] is None else str(x["ref_entry"])) != (ref, refe):
    why.write("refers to %s entry %s, want %s entry %s" % (x["ref_image"], x["ref_entry"], ref, refe)); sys.exit(1)
if x["severity"] != "error" or not x["message"]:
    why.write("not an error with a message: %s" % x); sys.exit(1)
PY
}

# edit an image through its crit JSON: edit IMG PYTHON-EXPRESSION-ON-e (the entries)
edit() {
	"$INSPECT" decode -i "$1" > "$T/e.json" || { fail "decode $1"; return 1; }
	python3 - "$T/e.json" "$2" <<'PY' || { fail "edit $1"; return 1; }
import json, sys
d = json.load(open(sys.argv[1])); e = d["entries"]
exec(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"))
PY
	"$CONVERT" encode -i "$T/e.json" -o "$1" || { fail "encode $1"; return 1; }
}

copy() { rm -rf "$T/$2"; cp -r "$SETS/$1" "$T/$2"; chmod -R u+w "$T/$2"; }

# the untouched sets are whole: no finding at all
for s in $(corpus_sets); do
	"$INSPECT" check --only images -j "$s" > "$T/out.json"; rc=$?
	n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$T/out.json")
	[ $rc -eq 0 ] && [ "$n" = 0 ] && pass || fail "$(basename "$s"): exit $rc and $n findings for an intact set"
done

# --- the issue's test: a root folder for tiny
R=$T/root
mkdir -p "$R/tmp/crsubj" "$R/tmp/subjects" "$R/dev"
cp "$CORPUS/subjects/bin/subject_tiny" "$R/tmp/subjects/"
chmod 0755 "$R/tmp/subjects/subject_tiny" # the mode it had at the dump (the corpus copy is read-only)
printf 'tiny file\n' > "$R/tmp/crsubj/tiny.txt"
mknod -m 666 "$R/dev/null" c 1 3 2> /dev/null || cp -a /dev/null "$R/dev/null" 2> /dev/null
: > "$R/tmp/crsubj/stdout.log"
host() { "$INSPECT" check --root "$R" --only files -j "$SETS/tiny" > "$T/host.json" 2> "$T/err"; }
one_host() { # NAME CODE SUBJECT [FOUND]
	python3 - "$T/host.json" "$2" "$3" "${4:-}" <<'PY' && pass || fail "$1: $(cat "$T/host.json" | head -c 600)"
import json, sys
d = json.load(open(sys.argv[1])); code, subj, found = sys.argv[2:5]
f = d["findings"]
assert len(f) == 1 and f[0]["code"] == code and f[0]["subject"] == subj and f[0]["image"] == "files.img", f
assert not found or f[0]["found"] == found, f
PY
}
if [ -c "$R/dev/null" ]; then
	"$INSPECT" check --root "$R" "$SETS/tiny" > "$T/ok.txt" 2>&1
	rc=$?; [ $rc -eq 0 ] && pass || fail "tiny with a matching root: exit $rc: $(head -5 "$T/ok.txt")"
	head -c 56 /dev/zero | tr '\0' x > "$R/tmp/crsubj/stdout.log"
	"$INSPECT" check --root "$R" "$SETS/tiny" > "$T/bad.txt" 2>&1
	rc=$?; [ $rc -eq 1 ] && pass || fail "stdout.log of 56 bytes: exit $rc (want 1)"
	grep -q "'/tmp/crsubj/stdout.log' has 56 bytes" "$T/bad.txt" && grep -q 'expected 0 bytes, found 56 bytes' "$T/bad.txt" &&
		[ "$(grep -c '^error' "$T/bad.txt")" = 1 ] && pass || fail "stdout.log of 56 bytes: $(cat "$T/bad.txt")"
	host; one_host "size" file-size /tmp/crsubj/stdout.log "56 bytes"
	: > "$R/tmp/crsubj/stdout.log"
	# CRIU compares the whole mode: a read-only copy of the executable is refused
	chmod 0555 "$R/tmp/subjects/subject_tiny"
	host; one_host "mode" file-mode /tmp/subjects/subject_tiny "0100555"
	# ... unless the restore skips the rwx check: then only a note
	"$INSPECT" check --root "$R" --only files --skip-file-rwx-check -j "$SETS/tiny" > "$T/host.json"; rc=$?
	[ $rc -eq 0 ] && one_host "mode with --skip-file-rwx-check" file-mode-rwx /tmp/subjects/subject_tiny "0100555" ||
		fail "--skip-file-rwx-check: exit $rc"
	chmod 0755 "$R/tmp/subjects/subject_tiny"
	# the same size, another build: the ELF build-id differs
	python3 - "$R/tmp/subjects/subject_tiny" <<'PY'
import struct, sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
i = b.find(b"GNU\0", 0, 4096)          # the build-id note's name; the id follows
b[i + 4] ^= 0xff
open(p, "wb").write(b)
PY
	host; one_host "build-id" file-build-id /tmp/subjects/subject_tiny
	cp "$CORPUS/subjects/bin/subject_tiny" "$R/tmp/subjects/subject_tiny.new" && chmod 0755 "$R/tmp/subjects/subject_tiny.new"
	mv "$R/tmp/subjects/subject_tiny.new" "$R/tmp/subjects/subject_tiny"
	# a file gone, a directory where a file was
	mv "$R/tmp/crsubj/tiny.txt" "$R/tiny.txt"
	host; one_host "missing" file-missing /tmp/crsubj/tiny.txt
	mkdir "$R/tmp/crsubj/tiny.txt"
	host; one_host "type" file-type /tmp/crsubj/tiny.txt
	rmdir "$R/tmp/crsubj/tiny.txt"
	# symlinks stay inside the root: an absolute link resolves under it, a ../ chain stops at it
	printf 'tiny file\n' > "$T/outside.txt"
	ln -s ../../../../../../../../$(echo "$T" | sed 's|^/||')/outside.txt "$R/tmp/crsubj/tiny.txt"
	host; one_host "escape by .." file-missing /tmp/crsubj/tiny.txt
	rm "$R/tmp/crsubj/tiny.txt"
	ln -s "$T/outside.txt" "$R/tmp/crsubj/tiny.txt"
	host; one_host "escape by an absolute link" file-missing /tmp/crsubj/tiny.txt
	rm "$R/tmp/crsubj/tiny.txt"
	mv "$R/tiny.txt" "$R/tmp/crsubj/real.txt"
	ln -s /tmp/crsubj/real.txt "$R/tmp/crsubj/tiny.txt"
	host; [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$T/host.json")" = 0 ] &&
		pass || fail "an absolute symlink inside the root: $(cat "$T/host.json")"
else
	echo "SKIP [$test_name]: cannot make a /dev/null in the test root (mknod needs root)"
fi
# unix sockets of multi: bind needs the folder; a file in the way is an error, an old socket is not
M=$T/mroot; mkdir -p "$M/tmp"
sock() { # WANT: the codes of the findings about /tmp/crsubj/sock and ghost.txt
	"$INSPECT" check --root "$M" --only files -j "$SETS/multi" > "$T/m.json"
	local got
	got=$(python3 -c 'import json,sys; print(" ".join(sorted(f["code"] for f in json.load(open(sys.argv[1]))["findings"] if f["subject"] in ("/tmp/crsubj/sock", "/tmp/crsubj/ghost.txt"))))' "$T/m.json")
	[ "$got" = "$1" ] && pass || fail "multi sockets, want '$1', got '$got'"
}
sock "socket-dir"
mkdir "$M/tmp/crsubj"; : > "$M/tmp/crsubj/sock"
sock "socket-path"
rm "$M/tmp/crsubj/sock"; python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$M/tmp/crsubj/sock"
sock "socket-stale"
rm "$M/tmp/crsubj/sock"
sock ""
# the deleted ghost.txt is made again: its folder may be missing, but not blocked by a file
rm -r "$M/tmp/crsubj"; : > "$M/tmp/crsubj"
sock "ghost-dir socket-dir"

# a bad root is a usage error
"$INSPECT" check --root "$T/nonexistent" "$SETS/tiny" > /dev/null 2> "$T/err"
[ $? -eq 2 ] && grep -q "cannot use the root" "$T/err" && pass || fail "a missing --root: $(cat "$T/err")"

# --- damage, one kind at a time, each on a fresh copy
copy multi m; rm "$T/m/core-1.img"
expect_one "missing core" "$T/m" image-missing core-1.img - pstree.img 0
copy multi m; rm "$T/m/core-4.img"
expect_one "thread without core" "$T/m" image-missing core-4.img - pstree.img 0
copy bigmem16 b; rm "$T/b/pages-1.img"
expect_one "missing pages file" "$T/b" image-missing pages-1.img - pagemap-1.img 0
copy bigmem16 b; truncate -s -8192 "$T/b/pages-1.img"
last=$(( $("$INSPECT" info "$T/b/pagemap-1.img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])') ))
expect_one "truncated pages file" "$T/b" pages-size pages-1.img - pagemap-1.img "$last"
copy tiny t; edit "$T/t/pagemap-1.img" 'e.append({"vaddr": 0xffffffffff600000, "compat_nr_pages": 0, "flags": 4, "nr_pages": 1})'
expect_one "pagemap beyond pages" "$T/t" pages-size pages-1.img - pagemap-1.img 6
copy tiny t; edit "$T/t/fdinfo-2.img" 'e[1]["id"] = 0x99'
expect_one "fd pointing to a missing file id" "$T/t" ref-file fdinfo-2.img 1
copy tiny t; ln -s "$T/no-such-predump" "$T/t/parent"
expect_one "broken parent link" "$T/t" parent-broken parent -
copy tiny t; printf '\x00' | dd of="$T/t/mm-1.img" bs=1 seek=5 conv=notrunc 2> /dev/null
expect_one "wrong magic" "$T/t" image-damaged mm-1.img -
copy tiny t; truncate -s -3 "$T/t/pipes-data.img"
expect_one "extra payload cut short" "$T/t" image-damaged pipes-data.img 0
copy multi m; rm "$T/m/fdinfo-3.img"
expect_one "missing fdinfo" "$T/m" image-missing fdinfo-3.img - ids-2.img 0
copy tiny t; edit "$T/t/pagemap-1.img" 'e[3]["vaddr"] = 0x403000'
expect_one "overlapping pagemap entries" "$T/t" pagemap-overlap pagemap-1.img 3 pagemap-1.img 2
copy tiny t; edit "$T/t/pagemap-1.img" 'e[4]["vaddr"] = 0x500000'
expect_one "entry outside the VMAs" "$T/t" pagemap-outside pagemap-1.img 4 mm-1.img -
copy multi m; rm "$T/m/ghost-file-1.img"
expect_one "missing ghost file" "$T/m" image-missing ghost-file-1.img - remap-fpath.img 0
copy multi m; rm "$T/m/pagemap-shmem-1146.img"
expect_one "missing pagemap-shmem" "$T/m" image-missing pagemap-shmem-1146.img - memfd.img 1
copy multi m; rm "$T/m/memfd.img"
expect_one "missing memfd.img" "$T/m" image-missing memfd.img -
copy tiny t; edit "$T/t/inventory.img" 'e[0]["img_version"] = 3'
expect_one "unknown image version" "$T/t" inventory-version inventory.img 0
copy sh-loop s; rm "$T/s/pstree.img"
expect_one "missing pstree" "$T/s" image-missing pstree.img -
copy sh-loop s; rm "$T/s/files.img"
expect_one "missing files.img" "$T/s" image-missing files.img -
copy sh-loop s; rm "$T/s/mm-3.img"
expect_one "missing mm" "$T/s" image-missing mm-3.img - pstree.img 1
copy multi m; edit "$T/m/pstree.img" 'e[1]["ppid"] = 77'
expect_one "parent task not in the tree" "$T/m" pstree-parent pstree.img 1
copy manyvmas v; edit "$T/v/mm-1.img" 'v = e[0]["vmas"]; v[10], v[11] = v[11], v[10]'
expect_one "VMAs out of order" "$T/v" vma-order mm-1.img 0

copy tiny t; edit "$T/t/files.img" 'e[2]["reg"]["mnt_id"] = 99'
printf '{"magic": "MNTS", "entries": [{"fstype": 5, "mnt_id": 1, "root_dev": 34, "parent_mnt_id": 0, "flags": 0, "root": "/", "mountpoint": "/", "source": "none", "options": ""}]}' > "$T/m.json"
"$CONVERT" encode -i "$T/m.json" -o "$T/t/mountpoints-6.img"
expect_one "a file on a mount no image has" "$T/t" ref-mount files.img 2
edit "$T/t/files.img" 'e[2]["reg"]["mnt_id"] = 1'
"$INSPECT" check --only images "$T/t" > /dev/null && pass || fail "a file on a mount the image has"

# --- an incremental pair: pages in the parent (PE_PARENT) must be there
copy tiny p0; copy tiny p1
python3 - "$T/p1" <<'PY'
import sys
# entry 1 (vaddr 0x401000, one page) moves to the parent: cut its page out of the child's pages
d = sys.argv[1]; pages = open(d + "/pages-1.img", "rb").read()
open(d + "/pages-1.img", "wb").write(pages[4096:])
PY
edit "$T/p1/pagemap-1.img" 'e[1]["flags"] = 1'
ln -s ../p0 "$T/p1/parent"
"$INSPECT" check --only images -j "$T/p1" > "$T/out.json"; rc=$?
[ $rc -eq 0 ] && pass || fail "a child whose parent holds its PE_PARENT page: exit $rc: $(cat "$T/out.json")"
edit "$T/p0/pagemap-1.img" 'del e[1]'
python3 - "$T/p0" <<'PY'
import sys
d = sys.argv[1]; pages = open(d + "/pages-1.img", "rb").read()
open(d + "/pages-1.img", "wb").write(pages[4096:])
PY
expect_one "parent lacks the PE_PARENT pages" "$T/p1" parent-pages pagemap-1.img 1 parent/pagemap-1.img -
rm "$T/p1/parent"
expect_one "PE_PARENT pages and no parent" "$T/p1" parent-missing pagemap-1.img 1

# --- random damage: never a crash, always exit 1 or 2 with a message
python3 - "$SETS/multi" "$T/fz" <<'PY'
import os, random, shutil, sys
src, out = sys.argv[1:3]
random.seed(6)
names = [n for n in sorted(os.listdir(src)) if n.endswith(".img") and not n.startswith("pages-")]
for i in range(60):
    d = "%s/%d" % (out, i)
    shutil.copytree(src, d)
    for n in os.listdir(d):
        os.chmod(os.path.join(d, n), 0o644)
    victim = os.path.join(d, random.choice(names))
    b = bytearray(open(victim, "rb").read())
    for _ in range(random.randint(1, 4)):
        b[random.randrange(len(b))] = random.randrange(256)
    if random.random() < 0.3:
        b = b[:random.randrange(len(b))]
    open(victim, "wb").write(bytes(b))
PY
for d in "$T"/fz/*; do
	"$INSPECT" check --only images "$d" > "$T/out" 2>&1; rc=$?
	[ $rc -le 2 ] && pass || fail "random damage $(basename "$d"): exit $rc (a crash?): $(tail -3 "$T/out")"
done
finish
