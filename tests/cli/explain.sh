# cr-inspect explain: the real restore logs of the corpus, and one log per
# known message, each line written the way CRIU 4.2 prints it (the format
# strings of the CRIU source named in schemas/criu/logmsgs.tab, filled in).
. "$(dirname "$0")/../lib.sh"
need_cmd python3

# a failed run whose error is LINE: restore (or dump) preamble, the line, the outcome
mklog() { # KIND LINE
	local start="Reading image tree" fail="Restoring FAILED."
	[ "$1" = dump ] && start="Dumping processes (pid: 1 comm: app)" && fail="Dumping FAILED."
	printf '(00.000000) CRIU run id = 0\n(00.000080) Version: 4.2 (gitid v4.2)\n(00.021930) %s\n' "$start"
	printf '(00.022000) Error (criu/util.c:1534): rlimit: Can'\''t setup RLIMIT_NOFILE for self: Operation not permitted\n'
	printf '(00.023000)      1: Restoring resources\n(00.023272) %s\n' "$2"
	printf '(00.023582) Error (criu/cr-restore.c:2324): %s\n' "$fail"
}
n=0
while IFS='|' read -r code kind line; do
	[ -z "$code" ] && continue
	n=$((n + 1))
	mklog "$kind" "$line" > "$T/case.log"
	"$INSPECT" explain -j "$T/case.log" > "$T/out.json" 2> "$T/err"; rc=$?
	python3 - "$T/out.json" "$code" "$kind" "$rc" <<'PY' && pass || fail "$code: $(head -c 400 "$T/out.json") $(cat "$T/err")"
import json, sys
d = json.load(open(sys.argv[1])); code, kind, rc = sys.argv[2], sys.argv[3], int(sys.argv[4])
assert rc == 1, "exit %d" % rc
assert d["outcome"] == "failed" and d["kind"] == kind, (d["outcome"], d["kind"])
assert d["code"] == code and d["first_error"]["code"] == code, d["code"]
assert d["diagnosis"] and "?" not in d["diagnosis"], d["diagnosis"]
assert [r["code"] for r in d["recovered"]] == ["rlimit-self"], d["recovered"]
assert d["chain"][-1]["code"] in ("restore-failed", "dump-failed")
PY
done <<'EOF'
reg-size|restore|     1: Error (criu/files-reg.c:2175): File tmp/x.log has bad size 56 (expect 0)
reg-mode|restore|     1: Error (criu/files-reg.c:2294): File usr/bin/app has bad mode 0100555 (expect 0100755)
reg-build-id|restore|     1: Error (criu/files-reg.c:2153): File usr/lib/libc.so.6 has bad build-ID
reg-build-id|restore|     1: Error (criu/files-reg.c:2146): File usr/lib/libc.so.6 has bad build-ID length 24 (expect 20)
reg-open|restore|     1: Error (criu/files-reg.c:2353): Can't open file tmp/gone on restore: No such file or directory
reg-open-path|restore|     1: Error (criu/files-reg.c:2267): Can't open file tmp/gone: Permission denied
rseq|restore|     1: Error (criu/cr-restore.c:2636): rseq: can't restore as kernel doesn't support it
rseq-pie|restore|pie: 1: Error (criu/pie/restorer.c:514): failed sys_rseq(7f0000001000, 20, 0, 53053053) = -22
pid-fork|restore|Error (criu/cr-restore.c:1230): Can't fork for 1234: File exists
pid-mismatch|restore|     1: Error (criu/cr-restore.c:1539): Pid 4321 do not match expected 1234
pid-set|restore|Error (criu/cr-restore.c:1194): Setting PID failed
pidns-init|restore|Error (criu/cr-restore.c:1201): First PID in a PID namespace needs to be 1 and not 7
inventory-version|restore|Error (criu/image.c:89): Not supported images version 3
inventory-old|restore|Error (criu/image.c:52): Too old image, no longer supported
image-magic|restore|Error (criu/image.c:563): Magic doesn't match for core-1.img
image-magic|restore|Error (criu/image.c:554): Head magic doesn't match for mm-1.img
image-open|restore|Error (criu/image.c:635): Unable to open pstree.img: Permission denied
image-eof|restore|     1: Error (criu/protobuf.c:72): Unexpected EOF on (empty-image)
image-short|restore|Error (criu/protobuf.c:93): Read 12 bytes while 40 expected from files.img: Success
image-unpack|restore|Error (criu/protobuf.c:101): Failed unpacking object 0x55d0c0a0b0c0 from core-1.img
parent-open|restore|Error (criu/image.c:784): Can't open parent path: No such file or directory
parent-missing|restore|     1: Error (criu/pagemap.c:185): No parent for snapshot pagemap
parent-page|restore|     1: Error (criu/pagemap.c:203): Missing 7f0000000000 in parent pagemap
pages-eof|restore|     1: Error (criu/pagemap.c:426): Reached EOF unexpectedly while reading page from image
vma-outside|restore|     1: Error (criu/mem.c:1313): Page entry address 500000 outside of VMA 400000-401000
vma-order|restore|     1: Error (criu/mem.c:1075): VMA-s are not sorted in the image file
vma-high|restore|     1: Error (criu/mem.c:1048): Can't restore high memory region 7f0000000000-ff0000000000 because kernel does only support vmas up to 7ffffffff000
cpu-xfeatures|restore|Error (criu/arch/x86/cpu.c:262): CPU xfeatures has unsupported bits (0xe0)
cpu-xsave-size|restore|Error (criu/arch/x86/cpu.c:272): CPU xsave size mismatch (2696/832)
cpu-xsave-size|restore|Error (criu/arch/x86/cpu.c:276): CPU xsave max size mismatch (11008/1088)
cpu-fpu|restore|Error (criu/arch/x86/cpu.c:251): FPU feature required by image is not supported on host (fpu:0 fxsr:0 osxsave:1 xsaves:0)
core-march|restore|     1: Error (criu/cr-restore.c:854): Core march mismatch 3
inet-bind|restore|     1: Error (criu/sk-inet.c:1059): Can't bind inet socket (id 17): Address already in use
unix-bind|restore|     1: Error (criu/sk-unix.c:1651): Can't bind id 0x10 ino 43065 addr /tmp/crsubj/sock: No such file or directory
unix-connect|restore|     1: Error (criu/sk-unix.c:1406): Can't connect 43064 socket: Connection refused
unix-external|restore|Error (criu/sk-unix.c:1912): External socket found in image. Consider using the --ext-unix-sk option to allow restoring it.
timens-create|restore|     1: Error (criu/timens.c:80): Unable to create a new time namespace: Invalid argument
memfd-create|restore|     1: Error (criu/memfd.c:279): Can't create memfd:crsubj-memfd: Function not implemented
memfd-inode|restore|     1: Error (criu/memfd.c:224): Unable to find the 2 memfd inode
cgroup-set|restore|Error (criu/cgroup.c:1322): No set 3 found
cgroup-move|restore|     1: Error (criu/cgroup.c:1249): Can't move into cpu/foo/tasks (-1/-1): No such file or directory
cgroup-mount|restore|Error (criu/cgroup.c:617): Unable to mount the cgroup (cpuset) file system: Device or resource busy
mount-fail|restore|     1: Error (criu/mount.c:1761): Unable to mount tmpfs none /tmp/.criu.mntns.x/12: Operation not permitted
mount-parent|restore|Error (criu/mount.c:381): No parent found for mountpoint 42 (@./mnt)
task-exit|restore|Error (criu/cr-restore.c:1258): 1 exited, status=1
task-signal|restore|Error (criu/cr-restore.c:1262): 1 killed by signal 4: Illegal instruction
tcp-established|dump|Error (criu/sk-inet.c:200): Connected TCP socket, consider using --tcp-established option.
unix-external|dump|Error (criu/sk-unix.c:874): External socket is used. Consider using --ext-unix-sk option.
ghost-limit|dump|Error (criu/files-reg.c:1031): Can't dump ghost file /tmp/big of 5000000 size, increase limit
seize-criu|dump|Error (compel/src/lib/infect.c:259): The criu itself is within dumped tree.
seize-unseizable|dump|Error (compel/src/lib/infect.c:261): Unseizable non-zombie 77 found, state D, err -1/1
EOF
[ $n -ge 20 ] && pass || fail "only $n message cases"
# every cause of the table has a case above
python3 - "$top" "$0" <<'PY' && pass || fail "the table has causes without a test case: $(cat "$T/why" 2>/dev/null)"
import re, sys
tab = open(sys.argv[1] + "/schemas/criu/logmsgs.tab").read()
codes, code = [], None
for l in tab.splitlines():
    m = re.match(r"msg (\S+)", l)
    if m: code = m.group(1)
    if code and re.match(r"\s+role\s+cause", l): codes.append(code)
cases = set(l.split("|")[0] for l in open(sys.argv[2]) if re.match(r"^[a-z0-9-]+\|(restore|dump)\|", l))
missing = [c for c in codes if c not in cases]
if missing:
    print(missing); sys.exit(1)
PY

# a context line after the cause adds its variables (fd, file id), and an effect before a known cause loses
{ mklog restore "     1: Error (criu/cr-restore.c:1262): 7 killed by signal 9: Killed" | head -6
  printf '(00.023300)      1: Error (criu/files-reg.c:2175): File tmp/x has bad size 3 (expect 0)\n'
  printf '(00.023301)      1: Error (criu/files.c:1221): Unable to open fd=4 id=0x9\n'
  printf '(00.023582) Error (criu/cr-restore.c:2324): Restoring FAILED.\n'; } > "$T/chain.log"
"$INSPECT" explain -j "$T/chain.log" > "$T/out.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["code"] == "reg-size" and d["first_error"]["code"] == "task-signal", d
assert d["vars"]["fd"] == "4" and d["vars"]["id"] == "0x9" and d["vars"]["path"] == "tmp/x", d["vars"]
assert [c["code"] for c in d["chain"]] == ["task-signal", "reg-size", "fd-open", "restore-failed"], d["chain"]' "$T/out.json" &&
	pass || fail "cause chain: $(cat "$T/out.json")"

# an unknown error: shown with the lines around it
mklog restore "     1: Error (criu/frobnicate.c:42): Cannot frobnicate the widget" > "$T/unknown.log"
"$INSPECT" explain "$T/unknown.log" > "$T/out.txt"; rc=$?
[ $rc -eq 1 ] && grep -q 'an unknown error; the log around it' "$T/out.txt" && grep -q '>      6 | .*Cannot frobnicate' "$T/out.txt" &&
	grep -q '       5 | .*Restoring resources' "$T/out.txt" && pass || fail "unknown error: $(cat "$T/out.txt")"
"$INSPECT" explain -j -C 1 "$T/unknown.log" > "$T/out.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["code"] is None and d["diagnosis"] is None and d["first_error"]["source"] == "criu/frobnicate.c:42"
assert [c["line"] for c in d["context"]] == [5, 6, 7], d["context"]' "$T/out.json" && pass || fail "unknown error, JSON: $(cat "$T/out.json")"

# runs appended to one log: the last one counts
{ cat "$T/chain.log"; sed 's/Restoring FAILED./Restore finished successfully. Tasks resumed./' "$T/unknown.log" | grep -v frobnicate; } > "$T/two.log"
"$INSPECT" explain -j "$T/two.log" > "$T/out.json"; rc=$?
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["outcome"]=="ok" and d["run_line"]==11, d' "$T/out.json" &&
	[ $rc -eq 0 ] && pass || fail "a failed run, then a good one: exit $rc: $(cat "$T/out.json")"
cat "$T/two.log" "$T/chain.log" > "$T/three.log"
"$INSPECT" explain "$T/three.log" > "$T/out.txt"; rc=$?
[ $rc -eq 1 ] && grep -q 'this is the last, from line 17' "$T/out.txt" && grep -q '^cause: the file /tmp/x has 3 bytes' "$T/out.txt" &&
	pass || fail "a good run, then a failed one: exit $rc: $(cat "$T/out.txt")"

# a log that stops before its outcome; a success with errors along the way
head -4 "$T/unknown.log" > "$T/cut.log"
"$INSPECT" explain -j "$T/cut.log" > "$T/out.json"; rc=$?
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["outcome"]=="incomplete" and d["kind"]=="restore", d' "$T/out.json" &&
	[ $rc -eq 1 ] && pass || fail "a cut log: $(cat "$T/out.json")"
: > "$T/empty.log"
"$INSPECT" explain "$T/empty.log" > "$T/out.txt"; [ $? -eq 1 ] && grep -q 'did not finish' "$T/out.txt" && pass || fail "an empty log"
"$INSPECT" explain "$T/no-such.log" > /dev/null 2> "$T/err"; [ $? -eq 2 ] && grep -q "cannot read '$T/no-such.log'" "$T/err" &&
	pass || fail "a missing log: $(cat "$T/err")"
head -c 100000 /dev/urandom > "$T/noise.log"
"$INSPECT" explain "$T/noise.log" > /dev/null 2>&1; [ $? -le 2 ] && pass || fail "a log of random bytes"

need_corpus
# the corpus' real logs
X=$SETS/tiny.expected
"$INSPECT" explain "$X/restore-ok.log" > "$T/ok.txt"; rc=$?
[ $rc -eq 0 ] && grep -q '^restore succeeded' "$T/ok.txt" && grep -q 'did not stop it' "$T/ok.txt" && pass ||
	fail "restore-ok.log: exit $rc: $(cat "$T/ok.txt")"
for s in $(corpus_sets); do
	"$INSPECT" explain "$s/dump.log" > "$T/d.txt"; rc=$?
	[ $rc -eq 0 ] && grep -q '^dump succeeded' "$T/d.txt" && pass || fail "$(basename "$s")/dump.log: $(head -3 "$T/d.txt")"
done
"$INSPECT" explain "$X/restore-failed.log" "$SETS/tiny" > "$T/f.txt"; rc=$?
[ $rc -eq 1 ] && grep -q 'first error: line 195 (task 1): File tmp/crsubj/stdout.log has bad size 56 (expect 0)' "$T/f.txt" &&
	grep -q 'task 1, fd 1, file id 0x3' "$T/f.txt" &&
	grep -q "files.img entry 2 at offset 0x91: file id 0x3: REG '/tmp/crsubj/stdout.log', size 0" "$T/f.txt" &&
	grep -q 'fdinfo-2.img entry 1 at offset 0x14: fd 1 of pid 1 -> file id 0x3' "$T/f.txt" && pass ||
	fail "restore-failed.log with the set: $(cat "$T/f.txt")"
# with the set and a root where the file has the size again, the check finds nothing more
umask 022
R=$T/root; mkdir -p "$R/tmp/crsubj" "$R/tmp/subjects"
head -c 56 /dev/zero > "$R/tmp/crsubj/stdout.log"
"$INSPECT" explain -j --root "$R" "$X/restore-failed.log" "$SETS/tiny" > "$T/f.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
f = [x for x in d["findings"] if x["subject"] == "/tmp/crsubj/stdout.log"]
assert len(f) == 1 and f[0]["code"] == "file-size" and f[0]["found"] == "56 bytes", d["findings"]
assert {(e["image"], e["entry"]) for e in d["entries"]} >= {("files.img", 2), ("fdinfo-2.img", 1), ("fdinfo-2.img", 2)}' "$T/f.json" &&
	pass || fail "explain with --root: $(cat "$T/f.json")"
finish
