#!/bin/bash
# The explorer commands on the real corpus: crit x parity on every set (and
# the crit errors x keeps, each named below), the facts of multi, bigmem16 and
# manyvmas, JSON output, and image sets changed with decode/encode to reach
# what the corpus lacks (pre-4.2 pagemaps, two roots).
. "$(dirname "$0")/../lib.sh"
need_corpus
need_cmd python3

# x prints what crit x prints, byte for byte
for s in $(corpus_sets); do
	n=$(basename "$s")
	for w in ps fds mems rss; do
		if "$INSPECT" x "$s" $w > "$T/x.txt" 2> "$T/err"; then
			cmp -s "$T/x.txt" "$SETS/$n.expected/crit/x-$w.txt" && pass || fail "x $w of $n differs from crit"
		else
			fail "x $w of $n failed: $(head -1 "$T/err")"
		fi
	done
done

M=$SETS/multi
B=$SETS/bigmem16
V=$SETS/manyvmas

# crit error 1: crit looks a mapping's file up as a regular file, so memfd
# and shared anonymous mappings read "unknown path"; maps names them.
"$INSPECT" x "$M" mems > "$T/xm.txt"
"$INSPECT" maps "$M" --pid 1 > "$T/maps.txt"
check "x mems keeps crit's 'unknown path' for the shared memfd mapping" grep -q '7fda0e14b000-7fda0e14d000 .*rw- unknown path (s)' "$T/xm.txt"
check "maps names the shared anonymous mapping" grep -q '^7fda0e14b000-7fda0e14d000 rw-s .* shared .*/dev/zero (deleted)' "$T/maps.txt"

# crit error 2: unix socket names are quoted-printable in crit ("=00" for the trailing NUL)
"$INSPECT" x "$M" fds > "$T/xf.txt"
"$INSPECT" fds "$M" --pid 1 > "$T/fds.txt"
check "x fds keeps crit's quoted-printable socket name" grep -q 'unix\[43065 (0) /tmp/crsubj/sock=00\]' "$T/xf.txt"
check "fds prints the socket path" grep -q ' 11 UNIXSK .*unix STREAM LISTEN /tmp/crsubj/sock ino 43065$' "$T/fds.txt"

# crit error 3: crit 4.2's x rss reads nr_pages only and fails on pagemaps of
# CRIU < 4.2, which carry compat_nr_pages; x rss falls back to it.
cp -r "$SETS/tiny" "$T/old"
"$INSPECT" decode -i "$SETS/tiny/pagemap-1.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for e in d["entries"][1:]:
    e["compat_nr_pages"] = e.pop("nr_pages")
json.dump(d, sys.stdout)' > "$T/pm.json"
"$CONVERT" encode -i "$T/pm.json" -o "$T/old/pagemap-1.img"
"$INSPECT" x "$T/old" rss > "$T/rss.txt" && cmp -s "$T/rss.txt" "$SETS/tiny.expected/crit/x-rss.txt" && pass ||
	fail "x rss of a pre-4.2 pagemap differs from what crit prints for the 4.2 one"
"$INSPECT" maps "$T/old" --pid 1 > "$T/m1" && "$INSPECT" maps "$SETS/tiny" --pid 1 > "$T/m2" && cmp -s "$T/m1" "$T/m2" && pass ||
	fail "maps of a pre-4.2 pagemap differs from the 4.2 one"

# crit error 4: with two roots crit x ps shows the tree of the last one only; tree shows both
cp -r "$SETS/tiny" "$T/two"
for f in core ids fs mm pagemap; do cp "$SETS/tiny/$f-1.img" "$T/two/$f-5.img"; done
"$INSPECT" decode -i "$SETS/tiny/pstree.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
e = dict(d["entries"][0]); e["pid"] = 5; e["pgid"] = 5; e["sid"] = 5; e["threads"] = [5]
d["entries"].append(e)
json.dump(d, sys.stdout)' > "$T/ps.json"
"$CONVERT" encode -i "$T/ps.json" -o "$T/two/pstree.img"
"$INSPECT" x "$T/two" ps > "$T/xps.txt"
check "x ps shows only the last root, as crit" test "$(grep -c subject_tiny "$T/xps.txt")" = 1
check "x ps shows the last root" grep -q '^      5      5      5   subject_tiny$' "$T/xps.txt"
"$INSPECT" tree "$T/two" > "$T/tree.txt"
check "tree shows both roots" test "$(grep -c '^[15] subject_tiny' "$T/tree.txt")" = 2

# sets older than CRIU 3.4 keep files in one image per type; crit x falls back to
# them and so does the model
cp -r "$M" "$T/legacy"
"$INSPECT" decode -i "$M/files.img" | python3 -c '
import json, sys
kinds = {"REG": ("REG_FILES", "reg", "reg-files"), "PIPE": ("PIPES", "pipe", "pipes"),
         "UNIXSK": ("UNIXSK", "usk", "unixsk"), "INETSK": ("INETSK", "isk", "inetsk"),
         "EVENTFD": ("EVENTFD_FILE", "efd", "eventfd")}
out = {}
for e in json.load(sys.stdin)["entries"]:
    if e["type"] in kinds:
        m, f, img = kinds[e["type"]]
        out.setdefault(img, {"magic": m, "entries": []})["entries"].append(e[f])
for img, d in out.items():
    json.dump(d, open(sys.argv[1] + "/" + img + ".json", "w"))' "$T"
for img in reg-files pipes unixsk inetsk eventfd; do "$CONVERT" encode -i "$T/$img.json" -o "$T/legacy/$img.img"; done
rm "$T/legacy/files.img"
"$INSPECT" x "$T/legacy" fds > "$T/lx.txt" && cmp -s "$T/lx.txt" "$SETS/multi.expected/crit/x-fds.txt" && pass ||
	fail "x fds of per-type file images differs from crit"
"$INSPECT" sockets "$T/legacy" > "$T/lsk.txt"
check "sockets from per-type images: TCP LISTEN" grep -q '^TCP LISTEN 127.0.0.1:47001$' "$T/lsk.txt"
check "sockets from per-type images: the queue" grep -q 'socketpair), 23 bytes queued' "$T/lsk.txt"
check "sockets from per-type images: eventfd" grep -q ' 14 EVENTFD    eventfd count 7' <("$INSPECT" fds "$T/legacy" --pid 1)

# a connected TCP socket with its queues in tcp-stream-INO.img
cp -r "$M" "$T/tcp"
"$INSPECT" decode -i "$M/files.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for e in d["entries"]:
    if e.get("isk", {}).get("ino") == 43066:
        e["isk"].update(state=1, dst_port=40000, dst_addr=[0x0200007f])
json.dump(d, sys.stdout)' > "$T/f.json"
"$CONVERT" encode -i "$T/f.json" -o "$T/tcp/files.img"
echo '{"magic": "TCP_STREAM", "entries": [{"inq_len": 5, "inq_seq": 1, "outq_len": 3, "outq_seq": 2, "opt_mask": 0, "snd_wscale": 7, "mss_clamp": 1460, "extra": {"inq": "aGVsbG8=", "outq": "YnllCg=="}}]}' |
	python3 -c 'import json, sys; d = json.load(sys.stdin); d["entries"][0]["extra"]["outq"] = "Ynll"; json.dump(d, sys.stdout)' > "$T/ts.json"
"$CONVERT" encode -i "$T/ts.json" -o "$T/tcp/tcp-stream-a83a.img"
check "sockets: an established TCP socket with its queues" grep -q '^TCP ESTABLISHED 127.0.0.1:47001 -> 127.0.0.2:40000, 5 bytes to read, 3 bytes unsent$' <("$INSPECT" sockets "$T/tcp")

# file-backed pages the image lacks, read from the files under --root
mkdir -p "$T/root/tmp/subjects"
cp "$CORPUS/subjects/bin/subject_tiny" "$T/root/tmp/subjects/"
check "mem read: a file page is not in the image" grep -q 'not present: file-backed' <("$INSPECT" mem read "$SETS/tiny" --pid 1 0x400000 16)
check "mem read --root: the file page from the file" grep -q '|.ELF' <("$INSPECT" mem read "$SETS/tiny" --pid 1 0x400000 16 --root "$T/root")
check "search --root: file pages too (and the vdso either way)" test "$("$INSPECT" search "$SETS/tiny" --root "$T/root" --hex '7f454c46' --count) $("$INSPECT" search "$SETS/tiny" --hex '7f454c46' --count)" = "2 1"

# multi: the tree, the environment, the secret in the heap
"$INSPECT" tree "$M" > "$T/tree.txt"
check "tree: pid 1 with 4 threads" grep -q '^1 crsubj-multi \[4 threads\]' "$T/tree.txt"
check "tree: child pid 2" grep -q '^`- 2 crsubj-child' "$T/tree.txt"
"$INSPECT" threads "$M" --pid 1 > "$T/thr.txt"
check "threads: 4 threads of pid 1" test "$(grep -c '^  tid ' "$T/thr.txt")" = 4
check "threads: worker-3" grep -q '^  tid 5 worker-3 (x86_64)' "$T/thr.txt"
check "threads: the SIGUSR1 handler" grep -q 'handler  SIGUSR1 ' "$T/thr.txt"
check "threads: RLIMIT_NOFILE 1024/2048" grep -q '^  rlimit   NOFILE    1024/2048$' "$T/thr.txt"
check "threads: the 5 s itimer" grep -q '^  itimer   real      interval 5.000000s ' "$T/thr.txt"
check "threads: SIGUSR2 blocked (signalfd)" grep -q 'blocked 0x800 (SIGUSR2)' "$T/thr.txt"
"$INSPECT" env "$M" --pid 1 > "$T/env.txt"
check "env --pid 1 has CRSUBJ_TOKEN (set with setenv)" grep -qx 'CRSUBJ_TOKEN=tok-4f1c9a7e-0042' "$T/env.txt"
check "env --pid 1 keeps the exec environment" grep -qx 'HOME=/root' "$T/env.txt"
check "cmdline --pid 1" test "$("$INSPECT" cmdline "$M" --pid 1)" = "/tmp/subjects/subject_multi /tmp/crsubj"

"$INSPECT" search "$M" --pid 1 CRSUBJ-SECRET=correct-horse-battery-staple > "$T/s1.txt"
check "search --pid 1 finds the secret once" test "$(wc -l < "$T/s1.txt")" = 1
check "search --pid 1: in the heap" grep -q '^pid 1 0x[0-9a-f]* heap rw- \[heap\]' "$T/s1.txt"
addr=$(grep -oE '0x[0-9a-f]+' "$T/s1.txt" | head -1)
brk=$("$INSPECT" decode -i "$M/mm-1.img" | python3 -c '
import json, sys
m = json.load(sys.stdin)["entries"][0]
print(m["mm_start_brk"], m["mm_brk"])')
check "the secret lies inside the brk range" python3 -c "
import sys
a = int('$addr', 16); s, e = map(int, '$brk'.split())
sys.exit(0 if s <= a < e else 1)"
"$INSPECT" mem read "$M" --pid 1 "$addr" 48 > "$T/mr.txt"
check "mem read returns the secret" grep -q '|CRSUBJ-SECRET=co|' "$T/mr.txt"
"$INSPECT" mem read "$M" --pid 1 "$addr" 42 -o "$T/raw.bin"
check "mem read -o writes the raw bytes" test "$(cat "$T/raw.bin")" = "CRSUBJ-SECRET=correct-horse-battery-staple"
"$INSPECT" search "$M" CRSUBJ-SECRET > "$T/s2.txt"
check "search: the child's copy" grep -q "^pid 2 $addr heap" "$T/s2.txt"
check "search: the copy in the changed private file mapping" grep -q '^pid 1 0x[0-9a-f]* file r-- /tmp/subjects/subject_multi' "$T/s2.txt"
"$INSPECT" search "$M" --regex 'CRSUBJ-SECRET=[a-z-]+' --pid 1 --vma heap > "$T/s3.txt"
check "search --regex --vma heap" test "$(wc -l < "$T/s3.txt")" = 1
check "search --hex" test "$("$INSPECT" search "$M" --hex '43 52 53 55 42 4a 2d 53 45 43' --count)" = 4
"$INSPECT" search "$M" no-such-string-anywhere > /dev/null
check "search exits 1 when nothing matches" test $? = 1

"$INSPECT" sockets "$M" > "$T/sk.txt"
check "sockets: TCP LISTEN 127.0.0.1:47001" grep -q '^TCP LISTEN 127.0.0.1:47001$' "$T/sk.txt"
check "sockets: UDP 127.0.0.1:47002" grep -q '^UDP 127.0.0.1:47002$' "$T/sk.txt"
check "sockets: the unix listener" grep -q '^unix STREAM LISTEN /tmp/crsubj/sock ' "$T/sk.txt"
check "sockets: the socketpair's 23 queued bytes" grep -q 'socketpair), 23 bytes queued (1 packet)' "$T/sk.txt"
check "sockets: the pipe's 22 unread bytes" grep -q '^pipe\[43062\] read end, 22 bytes unread' "$T/sk.txt"
"$INSPECT" fds "$M" --pid 1 > "$T/fds.txt"
check "fds: the ghost file" grep -q '/tmp/crsubj/ghost.txt (deleted; 20 bytes kept in ghost-file-1.img)' "$T/fds.txt"
check "fds: the memfd" grep -q 'MEMFD      memfd:crsubj-memfd (13 bytes)' "$T/fds.txt"
"$INSPECT" summary "$SETS/multi-ns" > "$T/sum.txt"
check "summary: the UTS namespace" grep -q 'uts    11    own, 2 tasks, utsns-11.img: nodename vm' "$T/sum.txt"
check "summary: the environment" grep -q 'CRSUBJ_TOKEN=tok-4f1c9a7e-0042' "$T/sum.txt"
check "summary: dump statistics" grep -q 'pages_written [0-9]' "$T/sum.txt"

# bigmem16: every present page says which it is; each 8th page is not in the image
base=$("$INSPECT" maps "$B" --pid 1 -j | python3 -c '
import json, sys
for v in json.load(sys.stdin)[0]["maps"]:
    if int(v["end"], 16) - int(v["start"], 16) == 16 << 20: print(v["start"])')
"$INSPECT" mem read "$B" --pid 1 "$base" 16M -o "$T/big.bin"
check "bigmem16: every page" python3 -c "
import sys
d = open('$T/big.bin', 'rb').read()
bad = 0
for i in range(4096):
    p = d[i * 4096:(i + 1) * 4096]
    if i % 8 == 7:
        bad += p != bytes(4096)
    else:
        bad += not p.startswith(b'CRPAGE %d of 4096 round 0;' % i)
sys.exit(bad != 0)"
"$INSPECT" mem read "$B" --pid 1 "$(printf '0x%x' $((base + 7 * 4096)))" 16 > "$T/p7.txt"
check "bigmem16: page 7 is reported not present" grep -q 'not present: anonymous memory the image does not hold' "$T/p7.txt"
"$INSPECT" mem read "$B" --pid 1 "$base" 64k -j | python3 -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
print(" ".join("%s:%d" % (r["state"], (int(r["end"], 16) - int(r["start"], 16)) // 4096) for r in runs))' > "$T/states.txt"
check "bigmem16: page states in JSON" test "$(cat "$T/states.txt")" = "present:7 zero:1 present:7 zero:1"
"$INSPECT" maps "$B" --pid 1 > "$T/bm.txt"
check "bigmem16: maps counts 3584 pages in the image, 512 not" grep -qE '^[0-9a-f]+-[0-9a-f]+ rw-p 00000000 anon +4096 +3584 +0 +512 +0' "$T/bm.txt"

# manyvmas: 4000 one-page mappings, in order
"$INSPECT" maps "$V" --pid 1 -j > "$T/mv.json"
check "manyvmas: 4000 VMAs in order, page i holds 'vma i'" python3 -c "
import json, subprocess, sys
maps = json.load(open('$T/mv.json'))[0]['maps']
one = [v for v in maps if int(v['end'], 16) - int(v['start'], 16) == 4096 and v['kind'] == 'anon' and v['perm'] in ('rw-p', 'rwxp')]
starts = [int(v['start'], 16) for v in maps]
sys.exit(not (len(one) >= 4000 and starts == sorted(starts)))"
first=$(python3 -c "
import json
maps = json.load(open('$T/mv.json'))[0]['maps']
one = [v for v in maps if int(v['end'], 16) - int(v['start'], 16) == 4096 and v['kind'] == 'anon' and v['perm'] in ('rw-p', 'rwxp')]
print(one[0]['start'], one[3999]['start'])")
check "manyvmas: the first one holds 'vma 0'" grep -q '|vma 0' <("$INSPECT" mem read "$V" --pid 1 "${first% *}" 16)
check "manyvmas: the last one holds 'vma 3999'" grep -q '|vma 3999' <("$INSPECT" mem read "$V" --pid 1 "${first#* }" 16)

# mem dump: one sparse file per VMA
"$INSPECT" mem dump "$SETS/tiny" --pid 1 -o "$T/dump" -q
check "mem dump: one file per VMA" test "$(ls "$T/dump" | wc -l)" = "$(grep -c '^	[0-9a-f]*-' "$SETS/tiny.expected/crit/x-mems.txt")"
check "mem dump: the data page holds the marker" grep -q 'TINY-SUBJECT-MARKER:4242' -r "$T/dump"

# container archives (Podman layout, tar and tar.gz) answer as the folder does;
# bigmem16's pages are large enough to be read through a window in the tar.gz
for set in "$M" "$B"; do
	n=$(basename "$set")
	mkdir -p "$T/pod-$n/checkpoint"
	cp -a "$set"/. "$T/pod-$n/checkpoint/"
	echo '{"id": "c0ffee", "name": "web"}' > "$T/pod-$n/config.dump"
	echo '{}' > "$T/pod-$n/spec.dump"
	tar -C "$T/pod-$n" -cf "$T/$n.tar" .
	tar -C "$T/pod-$n" -czf "$T/$n.tar.gz" .
	for a in "$T/$n.tar" "$T/$n.tar.gz"; do
		for cmd in "x@ps" "x@fds" "x@mems" "x@rss" "maps" "fds" "sockets" "env" "threads" "search@CRSUBJ" "search@CRPAGE"; do
			sub=${cmd#*@}; [ "$sub" = "$cmd" ] && sub=
			"$INSPECT" ${cmd%@*} "$set" $sub > "$T/d.txt" 2>&1
			"$INSPECT" ${cmd%@*} "$a" $sub > "$T/a.txt" 2>&1
			cmp -s "$T/d.txt" "$T/a.txt" && pass || fail "$cmd of $(basename "$a") differs from the folder"
		done
	done
	check "summary of $n.tar.gz shows the container" grep -q '^  name               web$' <("$INSPECT" summary "$T/$n.tar.gz")
done
base=$("$INSPECT" maps "$B" --pid 1 -j | python3 -c '
import json, sys
for v in json.load(sys.stdin)[0]["maps"]:
    if int(v["end"], 16) - int(v["start"], 16) == 16 << 20: print(v["start"])')
"$INSPECT" mem read "$T/bigmem16.tar.gz" --pid 1 "$base" 16M -o "$T/bigz.bin"
check "mem read of 16 MiB from a tar.gz equals the folder's" cmp -s "$T/big.bin" "$T/bigz.bin"

# JSON everywhere; errors exit 2
for cmd in ps tree threads maps fds sockets env cmdline auxv summary x@ps x@fds x@mems x@rss x@sk; do
	sub=${cmd#*@}; [ "$sub" = "$cmd" ] && sub=
	"$INSPECT" ${cmd%@*} "$M" $sub -j > "$T/j.json" && python3 -m json.tool "$T/j.json" > /dev/null && pass || fail "$cmd -j is not JSON"
done
"$INSPECT" search "$M" CRSUBJ -j -C 4 | python3 -c 'import json, sys; sys.exit(len(json.load(sys.stdin)) < 3)' && pass || fail "search -j"
"$INSPECT" env "$M" --pid 99 > /dev/null 2> "$T/err"
check "a pid that is not there: exit 2" test $? = 2
check "a pid that is not there: says so" grep -q 'no task with pid 99' "$T/err"
"$INSPECT" mem read "$M" --pid 1 0x10 16 > /dev/null 2> "$T/err"
check "mem read of unmapped memory: exit 2" test $? = 2
"$INSPECT" x "$M" nope > /dev/null 2>&1
check "x with an unknown explorer: exit 2" test $? = 2
"$INSPECT" ps /nonexistent > /dev/null 2> "$T/err"
check "a missing checkpoint: exit 2" test $? = 2
rm "$T/two/core-5.img"
"$INSPECT" ps "$T/two" > /dev/null 2> "$T/err"
check "a missing core image is named" grep -q "cannot read '.*core-5.img'" "$T/err"
finish
