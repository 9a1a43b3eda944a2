# cr-diff: a set against itself and a copy (nothing, exit 0), sets made with
# known changes (every change, nothing else, in text and JSON), tasks paired by
# name, paths left out, errors; with the corpus, multi against multi-ns checked
# field by field against crit's JSON and page by page against the memory.
. "$(dirname "$0")/../lib.sh"
need_cmd python3

# same: A B -> exit 0, no output
same() {
	"$DIFF" "$1" "$2" > "$T/same.out" 2>&1
	local rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T/same.out" ] && pass || fail "cr-diff $1 $2: exit $rc, $(head -c 300 "$T/same.out")"
}

for s in "$TESTDATA"/images/current "$TESTDATA"/images/extras "$TESTDATA"/images/legacy "$TESTDATA"/images/v1 \
	"$TESTDATA"/images/network "$TESTDATA"/images/odd \
	"$TESTDATA"/images/memory/old-pages "$TESTDATA"/sample/tiny; do
	same "$s" "$s"
	rm -rf "$T/copy" && cp -r "$s" "$T/copy" && same "$s" "$T/copy"
done

# known changes: imggen --diff-pair writes a, b and the records it made (changes.json)
# check_pair DIR: cr-diff -j and the text output say exactly what changes.json says
check_pair() {
	local d=$1 rc
	"$DIFF" -j "$d/a" "$d/b" > "$d/out.json" 2> "$d/err"; rc=$?
	[ $rc -eq 1 ] && pass || fail "cr-diff -j on $d: exit $rc (want 1): $(cat "$d/err")"
	"$DIFF" --color never "$d/a" "$d/b" > "$d/out.txt" 2> "$d/err"; rc=$?
	[ $rc -eq 1 ] && pass || fail "cr-diff on $d: exit $rc (want 1)"
	python3 - "$d" <<'PY' && pass || fail "the records of $d are not the changes made"
import json, sys, re
d = sys.argv[1]
want = json.load(open(d + "/changes.json"))
got = json.load(open(d + "/out.json"))
key = lambda r: (r["category"], r["task"], r["path"], r["op"])
wk, gk = sorted(map(key, want)), sorted(map(key, got["changes"]))
ok = wk == gk
if not ok:
    print("made:    ", wk); print("reported:", gk)
for w in want:
    if "pages" in w:
        g = [r for r in got["changes"] if key(r) == key(w)]
        if not g or g[0]["pages"] != w["pages"] or g[0]["bytes"] != w["bytes"]:
            print("memory record", g, "want", w); ok = False
if got["equal"] or got["summary"]["changes"] != len(want):
    print("summary", got["summary"]); ok = False
# the text: one -, + or ! line per side of each record, under its task
paths = {}
task = None
for line in open(d + "/out.txt"):
    m = re.match(r"@@ (task|thread) (\S+)", line)
    if m:
        task = m.group(2)
    elif line[:1] in "-+!" and not line.startswith(("---", "+++")):
        p = line[1:].split(": ", 1)[0]
        paths.setdefault((task, p), set()).add(line[0])
wt = {(w["task"], w["path"]): {"changed": {"-", "+"}, "added": {"+"}, "removed": {"-"}}[w["op"]] for w in want}
for w in want:
    if w["category"] == "memory":
        wt[(w["task"], w["path"])] = {"!"}
if paths != wt:
    print("text:", sorted(paths.items())); print("want:", sorted(wt.items())); ok = False
sys.exit(0 if ok else 1)
PY
}

if [ -x "$IMGGEN" ]; then
	"$IMGGEN" --diff-pair "$TESTDATA/sample/tiny" "$T/pair" > "$T/gen.err" 2>&1 && pass || fail "imggen --diff-pair: $(cat "$T/gen.err")"
	check_pair "$T/pair"
	# --pages: a hex dump of the 17 lines that differ, A's and B's
	"$DIFF" --pages --only memory "$T/pair/a" "$T/pair/b" > "$T/pages.txt"
	n=$(grep -cE '^ [-+][0-9a-f]{16} ' "$T/pages.txt")
	[ "$n" -eq 34 ] && pass || fail "--pages printed $n dump lines (want 17 from each side)"
	# --only, --ignore, --summary
	"$DIFF" -j --only memory,tree "$T/pair/a" "$T/pair/b" > "$T/only.json"
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["changes"]; sys.exit(not (len(c) == 2 and {r["category"] for r in c} == {"memory", "tree"}))' "$T/only.json" && pass || fail "--only memory,tree: $(cat "$T/only.json")"
	"$DIFF" -j --ignore 'core.thread_info' --ignore 'fd[*]' --ignore 'memory' "$T/pair/a" "$T/pair/b" > "$T/ign.json"
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["changes"]; sys.exit(not (sorted(r["path"].split(".")[0] for r in c) == ["mm", "threads[2]"]))' "$T/ign.json" && pass || fail "--ignore: $(cat "$T/ign.json")"
	"$DIFF" --ignore 'core.**' --ignore 'mm.vmas[*].prot' --ignore 'fd[*]' --ignore 'memory[*]' --ignore 'threads[*]' "$T/pair/a" "$T/pair/b" > "$T/ign.txt"; rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T/ign.txt" ] && pass || fail "everything that changed left out: exit $rc, $(cat "$T/ign.txt")"
	"$DIFF" --summary "$T/pair/a" "$T/pair/b" > "$T/sum.txt"
	grep -q '^changes: 6 records' "$T/sum.txt" && grep -q 'pages: 17 changed (17 bytes differ)' "$T/sum.txt" && pass || fail "--summary: $(cat "$T/sum.txt")"
	# colours only when asked (or on a terminal), never with NO_COLOR
	"$DIFF" --color always "$T/pair/a" "$T/pair/b" | grep -q $'\033\[31m-core' && pass || fail "--color always has no colour"
	"$DIFF" "$T/pair/a" "$T/pair/b" | grep -q $'\033' && fail "colours on a pipe" || pass
	# tasks renumbered (a restore into another pid namespace): paired by name and command line
	"$IMGGEN" --renumber "$TESTDATA/sample/tiny" "$T/renum" 100 > /dev/null 2>&1
	same_m() { "$DIFF" --match comm "$1" "$2" > "$T/m.out" 2>&1; [ $? -eq 0 ] && [ ! -s "$T/m.out" ]; }
	check "--match comm pairs tasks whose pids differ" same_m "$TESTDATA/sample/tiny" "$T/renum"
	"$DIFF" -j "$TESTDATA/sample/tiny" "$T/renum" > "$T/pid.json"; rc=$?
	python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["changes"]; sys.exit(not (sorted((r["path"], r["op"], r["task"]) for r in c) == [("pstree", "added", "101"), ("pstree", "removed", "1")]))' "$T/pid.json" && [ $rc -eq 1 ] && pass || fail "--match pid on renumbered tasks: $(cat "$T/pid.json")"
	"$IMGGEN" --diff-pair "$T/renum" "$T/rpair" > /dev/null 2>&1
	"$DIFF" -j --match comm "$T/pair/a" "$T/rpair/b" > "$T/rp.json"
	python3 -c '
import json,sys
c = json.load(open(sys.argv[1]))["changes"]
w = json.load(open(sys.argv[2]))
ok = sorted((r["category"], r["path"]) for r in c) == sorted((r["category"], r["path"]) for r in w) and all(r["task"] == "1->101" for r in c)
sys.exit(not ok)' "$T/rp.json" "$T/rpair/changes.json" && pass || fail "--match comm with changes: $(head -c 600 "$T/rp.json")"
else
	echo "SKIP [$test_name]: no imggen at $IMGGEN (make check builds it)"
fi

# errors: exit 2 and a message naming what
"$DIFF" "$TESTDATA/sample/tiny" "$T/nonexistent" > "$T/e.out" 2> "$T/e.err"; rc=$?
[ $rc -eq 2 ] && grep -q "nonexistent" "$T/e.err" && pass || fail "missing input: exit $rc, $(cat "$T/e.err")"
"$DIFF" -j "$TESTDATA/sample/tiny" "$T/nonexistent" > "$T/e.out" 2> /dev/null
python3 -c 'import json,sys; sys.exit("error" not in json.load(open(sys.argv[1])))' "$T/e.out" && pass || fail "missing input in JSON mode: $(cat "$T/e.out")"
for bad in "--only bogus" "--match name" "--color sometimes" "--ignore a..b" "--ignore x[]" "--ignore [1]"; do
	"$DIFF" $bad "$TESTDATA/sample/tiny" "$TESTDATA/sample/tiny" > /dev/null 2> "$T/e.err"; rc=$?
	[ $rc -eq 2 ] && [ -s "$T/e.err" ] && pass || fail "cr-diff $bad: exit $rc"
done
"$DIFF" "$TESTDATA/sample/tiny" > /dev/null 2>&1; [ $? -eq 2 ] && pass || fail "one input: not exit 2"
mkdir -p "$T/broken" && cp -r "$TESTDATA/sample/tiny/." "$T/broken/" && head -c 40 "$TESTDATA/sample/tiny/core-1.img" > "$T/broken/core-1.img"
"$DIFF" "$TESTDATA/sample/tiny" "$T/broken" > /dev/null 2> "$T/e.err"; rc=$?
[ $rc -eq 2 ] && grep -q "core-1.img" "$T/e.err" && pass || fail "a truncated core: exit $rc, $(cat "$T/e.err")"
"$DIFF" --help | grep -q 'inventory.dump_criu_run_id' && pass || fail "--help does not list the volatile fields"

need_corpus
for s in $(corpus_sets); do
	same "$s" "$s"
	rm -rf "$T/copy" && cp -r "$s" "$T/copy" && same "$s" "$T/copy"
done
for s in multi bigmem16; do
	if [ -x "$IMGGEN" ]; then
		rm -rf "$T/p-$s"
		"$IMGGEN" --diff-pair "$SETS/$s" "$T/p-$s" > /dev/null 2>&1 && pass || fail "imggen --diff-pair $s"
		check_pair "$T/p-$s"
	fi
done
# edits through crit's JSON (cr-inspect decode, python, cr-convert encode), and the records they make
# edit SET IMAGE PYTHON: IMAGE of the copy $T/e/SET changed by PYTHON on d (the decoded image)
edit() {
	"$INSPECT" decode -i "$T/e/$1/$2" | python3 -c "import json, sys, base64
d = json.load(sys.stdin)
$3
json.dump(d, sys.stdout)" > "$T/e.json" && "$CONVERT" encode -i "$T/e.json" -o "$T/e/$1/$2"
}
# expect SET JSON-LIST: cr-diff SETS/SET against the edited copy reports exactly these (category, task, path, op)
expect() {
	"$DIFF" -j "$SETS/$1" "$T/e/$1" > "$T/e.out"
	python3 -c '
import json, sys
got = sorted((r["category"], r["task"], r["path"], r["op"]) for r in json.load(open(sys.argv[1]))["changes"])
want = sorted(tuple(x) for x in json.loads(sys.argv[2]))
if got != want:
    print("got ", got); print("want", want); sys.exit(1)' "$T/e.out" "$2"
}
rm -rf "$T/e" && mkdir -p "$T/e" && cp -r "$SETS/multi" "$SETS/multi-ns" "$SETS/sh-loop" "$T/e/" && chmod -R u+w "$T/e"
edit multi pstree.img 'd["entries"][1]["ppid"] = 0' &&
edit multi files.img '[e for e in d["entries"] if e.get("isk", {}).get("src_port") == 47001][0]["isk"]["state"] = "CLOSE"' &&
edit multi sk-queues.img 'd["entries"][0]["extra"] = base64.encodebytes(b"QUEUED on a unix socket").decode()' &&
edit multi pipes-data.img 'd["entries"][0]["extra"] = base64.encodebytes(b"bytes left in THE pipe").decode()' &&
edit multi mm-2.img 'd["entries"][0]["vmas"].pop(6)' &&
edit multi-ns utsns-11.img 'd["entries"][0]["nodename"] = "other"' &&
edit sh-loop core-3.img 'd["entries"][0]["tc"]["comm"] = "nap"' && pass || fail "the edits could not be made"
check "reparented, a socket's state, queued bytes, pipe data, a VMA removed" expect multi '[
	["tree", "2", "pstree.ppid", "changed"], ["sockets", "1", "fd[12].isk.state", "changed"],
	["sockets", "1", "fd[9].queue[0]._extra", "changed"], ["files", "1", "fd[6].pipe_data", "changed"],
	["mm", "2", "mm.vmas[6]", "removed"], ["memory", "2", "memory[0x7fda0df5e000-0x7fda0df60000]", "removed"]]'
check "a UTS namespace's host name" expect multi-ns '[["ns", null, "ns.uts[11].utsns.nodename", "changed"]]'
check "a task's name" expect sh-loop '[["tasks", "3", "core.tc.comm", "changed"]]'

# an archive of a set is that set
"$CONVERT" pack "$SETS/multi" -o "$T/m.tar.gz" > /dev/null 2>&1 && same "$SETS/multi" "$T/m.tar.gz"

# multi against multi-ns: two runs of one program, the second in new UTS and IPC namespaces
"$DIFF" -j "$SETS/multi" "$SETS/multi-ns" > "$T/mm.json"; rc=$?
[ $rc -eq 1 ] && pass || fail "cr-diff multi multi-ns: exit $rc (want 1)"
"$DIFF" "$SETS/multi" "$SETS/multi-ns" > "$T/mm.txt"
grep -q '^+ns.uts\[11\]: .*"utsns-11.img"' "$T/mm.txt" && grep -q '^+ns.ipc\[10\]: .*"ipcns-var-10.img"' "$T/mm.txt" &&
	pass || fail "the new UTS and IPC namespaces are not reported"
mkdir -p "$T/dump-a" "$T/dump-b"
for p in 1 2; do "$INSPECT" mem dump "$SETS/multi" --pid $p -o "$T/dump-a/$p" > /dev/null; "$INSPECT" mem dump "$SETS/multi-ns" --pid $p -o "$T/dump-b/$p" > /dev/null; done
"$INSPECT" maps -j "$SETS/multi" > "$T/maps-a.json"; "$INSPECT" maps -j "$SETS/multi-ns" > "$T/maps-b.json"
python3 - "$T/mm.json" "$SETS/multi.expected/crit" "$SETS/multi-ns.expected/crit" "$T" <<'PY' && pass || fail "multi against multi-ns is not what crit and the memory say"
import json, os, sys, fnmatch
rec, A, B, T = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
recs = json.load(open(rec))["changes"]
ok = True
def bad(*a):
    global ok
    ok = False
    print(*a)
def load(d, name):
    return json.load(open(os.path.join(d, name + ".json")))["entries"]
def leaves(a, b, p, out):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            leaves(a.get(k), b.get(k), p + "." + k, out)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            leaves(a[i] if i < len(a) else None, b[i] if i < len(b) else None, "%s[%d]" % (p, i), out)
    elif a != b:
        out[p] = (a, b)
volatile = ["core.tc.timers.*.vsec", "core.tc.timers.*.vusec", "core.tc.timers.*.vnsec"]
# 1. namespaces: exactly the two new ones, the root ones the tasks left, and the ids of both tasks
ns = sorted((r["task"] or "", r["path"], r["op"]) for r in recs if r["category"] == "ns")
want = sorted([("", "ns.ipc[3]", "removed"), ("", "ns.ipc[10]", "added"), ("", "ns.uts[4]", "removed"),
               ("", "ns.uts[11]", "added")] + [(t, "ids.%s_ns_id" % k, "changed") for t in ("1", "2") for k in ("ipc", "uts")])
if ns != want:
    bad("ns records", ns)
# 2. core, mm, ids, fs: every field crit decodes differently, and no other, with crit's values
expect = {}
pst = load(A, "pstree")
for t in pst:
    pid = t["pid"]
    for tid in t["threads"]:
        out = {}
        leaves(load(A, "core-%d" % tid)[0], load(B, "core-%d" % tid)[0], "core", out)
        for p, v in out.items():
            if not any(fnmatch.fnmatchcase(p, g) for g in volatile):
                expect[(str(pid) if tid == pid else "%d/%d" % (pid, tid), p)] = v
    for img in ("mm", "ids", "fs"):
        out = {}
        leaves(load(A, "%s-%d" % (img, pid))[0], load(B, "%s-%d" % (img, pid))[0], img, out)
        for p, v in out.items():
            expect[(str(pid), p)] = v
got = {(r["task"], r["path"]): (r["before"], r["after"]) for r in recs if r["category"] in ("tasks", "mm")
       or r["path"].startswith("ids.")}
if got != expect:
    bad("missing:", sorted(set(expect) - set(got))[:10], "extra:", sorted(set(got) - set(expect))[:10],
        "other values:", [k for k in got if k in expect and got[k] != expect[k]][:10])
# 3. the rest: each record's values are crit's, and they differ
fdinfo = {t["pid"]: load(A, "ids-%d" % t["pid"])[0]["files_id"] for t in pst}
for r in recs:
    if r["category"] in ("files", "sockets"):
        if r["before"] == r["after"]:
            bad("equal values", r)
# 4. memory: each changed range has as many differing bytes as it says, and every page that differs is reported
maps = {s: {m["pid"]: m["maps"] for m in json.load(open("%s/maps-%s.json" % (T, s)))} for s in "ab"}
mem = [r for r in recs if r["category"] == "memory"]
covered = set()
for r in mem:
    s, e, bs = int(r["start"], 16), int(r["end"], 16), int(r.get("b_start", r["start"]), 16)
    for a in range(s, e, 4096):
        covered.add((r["task"], a))
for pid in (1, 2):
    va, vb = maps["a"][pid], maps["b"][pid]
    if len(va) != len(vb):
        bad("maps differ in number"); continue
    for x, y in zip(va, vb):
        if pid == 2 and x["perm"][3] == "s":
            continue  # shared memory: reported under task 1, which maps it too
        fa = "%s/dump-a/%d/%s-%s.bin" % (T, pid, x["start"][2:], x["end"][2:])
        fb = "%s/dump-b/%d/%s-%s.bin" % (T, pid, y["start"][2:], y["end"][2:])
        da, db = open(fa, "rb").read(), open(fb, "rb").read()
        base = int(x["start"], 16)
        for off in range(0, len(da), 4096):
            pa, pb = da[off:off + 4096], db[off:off + 4096]
            n = sum(1 for i in range(len(pa)) if pa[i] != pb[i])
            inrec = (str(pid), base + off) in covered
            if n and not inrec:
                bad("page not reported", pid, hex(base + off), n)
for r in mem:
    if r["op"] != "changed":
        continue
    pid = int(r["task"])
    s, e = int(r["start"], 16), int(r["end"], 16)
    x = [m for m in maps["a"][pid] if int(m["start"], 16) <= s < int(m["end"], 16)][0]
    i = maps["a"][pid].index(x)
    y = maps["b"][pid][i]
    da = open("%s/dump-a/%d/%s-%s.bin" % (T, pid, x["start"][2:], x["end"][2:]), "rb").read()
    db = open("%s/dump-b/%d/%s-%s.bin" % (T, pid, y["start"][2:], y["end"][2:]), "rb").read()
    o = s - int(x["start"], 16)
    diffs = [o + k for k in range(e - s) if da[o + k] != db[o + k]]
    if len(diffs) != r["bytes"] or int(r["first"], 16) != int(x["start"], 16) + diffs[0]:
        bad("memory record", r, len(diffs))
sys.exit(0 if ok else 1)
PY
finish
