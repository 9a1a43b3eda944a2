# cr-convert upgrade, downgrade and apply on real image sets.
#
# - A conversion that needs no change writes files identical to the input.
# - downgrade --to 4.1: compat_nr_pages carries the page counts; an old crit
#   (Debian's 3.17, which knows field 2 only) prints the page counts crit 4.2
#   printed for the original; upgrade --to 4.2 gives back the original bytes.
# - downgrade --to 3.3 of multi: per-type file images replace files.img (memfd
#   files, which no per-type image holds, stay only with --policy hope); crit
#   3.17 x fds prints what crit 4.2 printed; upgrading back gives files.img
#   byte for byte.  Every older step, down to 1.1 and back, is byte-identical.
# - apply --map-path rewrites every path reference (listed here for multi),
#   --map-ip the socket addresses, --refresh-file-sizes sizes and modes.
# - The input is never written (checksums), an output that exists or lies in
#   the input is refused, and killed runs leave no output folder.
. "$(dirname "$0")/../lib.sh"
need_cmd python3 sha256sum
SAMPLE=$TESTDATA/sample/tiny
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
decode() { "$INSPECT" decode -i "$1"; }
# pagemap entries whose compat_nr_pages differs from their page count
pm_check() { # DIR
	local bad=0
	for pm in "$1"/pagemap-*.img; do
		decode "$pm" > "$T/pm.json" || { fail "decode $pm"; return; }
		python3 - "$T/pm.json" <<'PY' || bad=1
import json, sys
for e in json.load(open(sys.argv[1]))["entries"][1:]:
    if "nr_pages" in e or not e["compat_nr_pages"]:
        sys.exit(1)
PY
	done
	[ $bad = 0 ]
}

if have_corpus; then INPUTS="$SETS/tiny $SETS/sh-loop $SETS/multi $SETS/multi-ns $SETS/bigmem16 $SETS/manyvmas"; else INPUTS=$SAMPLE; fi
key() { echo "$1" | tr / _; }
for s in $INPUTS $SAMPLE; do sums "$s" > "$T/before.$(key "$s")"; done

# 1. Nothing to do: the same bytes, and the report says so
for s in $INPUTS; do
	n=$(basename "$s")
	rm -rf "$T/same"
	"$CONVERT" upgrade --to 4.2 "$s" -o "$T/same" > "$T/log" 2>&1 || { fail "upgrade --to 4.2 $n: $(tail -1 "$T/log")"; continue; }
	check "$n: an upgrade with nothing to do writes identical files" diff -r "$s" "$T/same"
	check "$n: the report says nothing changed" grep -q ": 0 changed, 0 new, 0 removed" "$T/log"
done

# 2. 4.2 <-> 4.1
for s in $INPUTS; do
	n=$(basename "$s")
	rm -rf "$T/d41" "$T/u42"
	if ! "$CONVERT" downgrade --to 4.1 "$s" -o "$T/d41" > "$T/log" 2>&1; then fail "downgrade --to 4.1 $n: $(tail -1 "$T/log")"; continue; fi
	check "$n: every pagemap entry has its count in compat_nr_pages and no nr_pages" pm_check "$T/d41"
	if [ -x /usr/bin/crit ] && [ -f "$s.expected/crit/x-rss.txt" ] && /usr/bin/crit --help > /dev/null 2>&1; then
		(cd "$T" && /usr/bin/crit x "$T/d41" rss) > "$T/rss" 2>&1
		check "$n: crit $(/usr/bin/crit --version 2>/dev/null | head -1) x rss of the 4.1 set prints crit 4.2's page counts" \
			cmp -s "$T/rss" "$s.expected/crit/x-rss.txt"
	fi
	"$CONVERT" upgrade --to 4.2 "$T/d41" -o "$T/u42" > "$T/log" 2>&1 || fail "upgrade $n back: $(tail -1 "$T/log")"
	check "$n: 4.1 and back to 4.2 gives the original bytes" diff -r "$s" "$T/u42"
done

# 3. 3.4 <-> 3.3 on multi (the set with every kind of file)
if have_corpus; then
	M=$SETS/multi
	rm -rf "$T/d33"
	"$CONVERT" downgrade --to 3.3 "$M" -o "$T/d33" > "$T/out" 2> "$T/err"
	rc=$?
	check "3.3 without a policy: exit 2 (memfd files cannot be expressed)" test $rc = 2
	check "3.3 without a policy: the message names files.img, the entry and the reason" \
		grep -q "cannot convert 'files.img': entry 2 at offset 0x[0-9a-f]*: memfd" "$T/err"
	check "3.3 without a policy: no output" test ! -e "$T/d33"
	"$CONVERT" downgrade --to 3.3 --policy hope "$M" -o "$T/d33" > "$T/log" 2>&1 || fail "downgrade --to 3.3 --policy hope: $(tail -1 "$T/log")"
	for img in reg-files pipes unixsk inetsk eventfd eventpoll signalfd inotify timerfd; do
		check "3.3: $img.img is there" test -f "$T/d33/$img.img"
	done
	decode "$T/d33/files.img" > "$T/files.json"
	check "3.3: files.img keeps only the two memfd files" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["entries"]
sys.exit(not (len(e) == 2 and all(x["type"] == "MEMFD" for x in e) and [x["id"] for x in e] == [3, 10]))' "$T/files.json"
	check "3.3: the report warns about the memfd files" grep -q "warning: files.img entry 2: memfd" "$T/log"
	check "3.3: fdinfo images are not touched" cmp -s "$M/fdinfo-2.img" "$T/d33/fdinfo-2.img"
	if [ -x /usr/bin/crit ]; then
		(cd "$T" && /usr/bin/crit x "$T/d33" fds) > "$T/fds" 2>&1
		check "3.3: crit 3.17 x fds prints what crit 4.2 printed for the original" cmp -s "$T/fds" "$SETS/multi.expected/crit/x-fds.txt"
		for f in "$T"/d33/*.img; do
			case $(basename "$f") in pages-*) continue ;; esac
			(cd "$T" && /usr/bin/crit decode -i "$f" > /dev/null 2> "$T/cerr") || fail "crit 3.17 cannot decode $(basename "$f"): $(tail -1 "$T/cerr")"
		done
	fi
	rm -rf "$T/u33"
	"$CONVERT" upgrade --to 4.2 "$T/d33" -o "$T/u33" > "$T/log" 2>&1 || fail "upgrade from 3.3: $(tail -1 "$T/log")"
	check "3.3 and back: files.img byte for byte" cmp "$M/files.img" "$T/u33/files.img"
	check "3.3 and back: the whole set byte for byte" diff -r "$M" "$T/u33"
fi

# 4. Every step down to 1.1 and back, on every set
for s in $INPUTS; do
	n=$(basename "$s")
	for v in 3.0 1.8 1.5 1.3 1.1; do
		rm -rf "$T/dn" "$T/up"
		"$CONVERT" downgrade -q --policy hope --to $v "$s" -o "$T/dn" 2> "$T/err" || { fail "$n down to $v: $(tail -1 "$T/err")"; continue; }
		"$CONVERT" upgrade -q --to 4.2 "$T/dn" -o "$T/up" 2> "$T/err" || { fail "$n back from $v: $(tail -1 "$T/err")"; continue; }
		check "$n: $v and back is byte-identical" diff -r "$s" "$T/up"
	done
	# the 1.1 set: the legacy images are there and every image reads
	for img in sigacts-1 creds-1 rlimit-1 itimers-1 posix-timers-1 signal-s-1 signal-p-1 vmas-1; do
		check "$n 1.1: $img.img is there" test -f "$T/dn/$img.img"
	done
	check "$n 1.1: no mm holds VMAs any more" sh -c "! '$INSPECT' decode -i '$T/dn/mm-1.img' | grep -q '\"vmas\"'"
	check "$n 1.1: img_version 1, no head magic" sh -c "'$INSPECT' decode -i '$T/dn/inventory.img' | grep -q '\"img_version\": 1' &&
		[ \"\$(od -An -tx4 -N4 '$T/dn/core-1.img' | tr -d ' ')\" = 55053847 ]"
	for f in "$T"/dn/*.img; do
		case $(basename "$f") in pages-*) continue ;; esac
		decode "$f" > /dev/null 2> "$T/err" || fail "$n 1.1: $(basename "$f") does not decode: $(tail -1 "$T/err")"
		[ "$(od -An -tx4 -N4 "$f" | tr -d ' ')" != 54564319 ] || fail "$n 1.1: $(basename "$f") has a head magic"
	done
done

# 5. --dry-run and JSON: the plan, nothing written
rm -rf "$T/dry"
"$CONVERT" downgrade --to 3.0 --policy hope --dry-run -j "$SAMPLE" -o "$T/dry" > "$T/plan.json" 2> "$T/err"
check "dry run: exit 0" test $? = 0
check "dry run: nothing written" test ! -e "$T/dry"
check "dry run: the JSON plan lists steps, rules and every change" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
assert p["dry_run"] and not p["written"]
assert [s["table"] for s in p["steps"]] == ["criu-4.2", "criu-3.5", "criu-3.4", "criu-3.1"], p["steps"]
assert p["detected"]["lo"] == "4.2" and p["from"] == "4.2" and p["to"] == "3.0"
assert all({"table", "rule", "lossless", "reversible", "applied"} <= set(r) for r in p["rules"])
ops = {c["op"] for c in p["changes"]}
assert {"set", "drop", "move", "drop-entry", "add-image"} <= ops, ops
pm = [c for c in p["changes"] if c["image"] == "pagemap-1.img" and c.get("field") == "compat_nr_pages"]
assert pm and all(c["before"] == 0 and c["after"] > 0 for c in pm)
assert "sigacts-1.img" in p["images"]["added"] and "reg-files.img" in p["images"]["added"]
assert "files.img" in p["images"]["removed"]
' "$T/plan.json"

# 6. --map-path: every reference.  The references in multi, before and after:
if have_corpus; then MP=$SETS/multi; else MP=$SAMPLE; fi
refs() { # DIR PREFIX: image, then each string that starts with PREFIX (unix names end with =00, their NUL)
	for f in "$1"/*.img; do
		case $(basename "$f") in pages-*) continue ;; esac
		decode "$f" | grep -o "\"$2[^\"]*\"" | sed "s|^|$(basename "$f") |"
	done
}
refs "$MP" /tmp/crsubj > "$T/refs.before"
rm -rf "$T/mp"
"$CONVERT" apply --map-path /tmp/crsubj=/srv/crsubj "$MP" -o "$T/mp" > "$T/log" 2>&1 || fail "apply --map-path: $(tail -1 "$T/log")"
refs "$T/mp" /tmp/crsubj > "$T/refs.left"
refs "$T/mp" /srv/crsubj > "$T/refs.after"
check "map-path: no image names /tmp/crsubj any more" test ! -s "$T/refs.left"
check "map-path: each reference now names /srv/crsubj" cmp -s "$T/refs.after" <(sed 's|/tmp/crsubj|/srv/crsubj|' "$T/refs.before")
if have_corpus; then
	cat > "$T/refs.expected" <<'EOF'
files.img "/tmp/crsubj/data.txt"
files.img "/tmp/crsubj/stdout.log"
files.img "/tmp/crsubj/data.txt"
files.img "/tmp/crsubj/ghost.txt"
files.img "/tmp/crsubj/sock=00"
files.img "/tmp/crsubj"
EOF
	# regular files (fd 3 and the shared mapping of data.txt, stdout.log, the ghost file), the unix
	# listener's name with its NUL, the inotify watch
	check "map-path: multi's references are these six" cmp -s "$T/refs.before" "$T/refs.expected"
	check "map-path: the report lists six changes" test "$(grep -c -- ' -> "/srv/crsubj' "$T/log")" = 6
	check "map-path: ghost and remap images keep their ids (untouched)" cmp -s "$MP/remap-fpath.img" "$T/mp/remap-fpath.img"
fi
rm -rf "$T/mp2"
"$CONVERT" apply --map-path /tmp/crsub=/x "$MP" -o "$T/mp2" > "$T/log" 2>&1
check "map-path: /tmp/crsub does not match /tmp/crsubj (whole components)" diff -r "$MP" "$T/mp2"
if have_corpus; then
	long=/srv/$(printf 'x%.0s' $(seq 1 100))
	"$CONVERT" apply --map-path "/tmp/crsubj=$long" "$MP" -o "$T/mp4" > /dev/null 2> "$T/err"
	check "map-path: a unix socket name longer than sun_path is refused, with the entry" \
		grep -q "files.img': entry 15 at offset 0x[0-9a-f]*: usk.name would be 111 bytes long" "$T/err"
fi
rm -rf "$T/mp3"
"$CONVERT" apply --map-path /tmp/crsubj=/srv/crsubj "$T/mp" -o "$T/mp3" > /dev/null 2>&1
check "map-path: a second run finds nothing left to map" diff -r "$T/mp" "$T/mp3"

# 7. --map-ip: IPv4, IPv6 and IPv4 mapped into IPv6, on sockets added to the sample's files.img (no fd
# refers to them: the set stays whole, as the check of the result wants)
mkdir -p "$T/ip"
cp "$SAMPLE"/* "$T/ip/"
decode "$SAMPLE/files.img" > "$T/ip.json"
python3 - "$T/ip.json" <<'PY'
import json, sys
fown = {"uid": 0, "euid": 0, "signum": 0, "pid_type": 0, "pid": 0}
opts = {"so_sndbuf": 1, "so_rcvbuf": 1, "so_snd_tmo_sec": 0, "so_snd_tmo_usec": 0, "so_rcv_tmo_sec": 0, "so_rcv_tmo_usec": 0}
def sk(i, fam, src, dst):
    return {"type": "INETSK", "id": i, "isk": {"id": i, "ino": 100 + i, "family": fam, "type": 1, "proto": 6, "state": 1,
            "src_port": 80, "dst_port": 81, "flags": 2, "backlog": 0, "src_addr": src, "dst_addr": dst, "fown": fown, "opts": opts}}
lo = 0x0100007f                              # 127.0.0.1
v6lo = [0, 0, 0, 0x01000000]                 # ::1
mapped = [0, 0, 0xffff0000, lo]              # ::ffff:127.0.0.1
other = [0x0800a8c0]                         # 192.168.0.8
d = json.load(open(sys.argv[1]))
d["entries"] += [sk(101, 2, [lo], other), sk(102, 10, v6lo, mapped), sk(103, 10, mapped, v6lo)]
json.dump(d, open(sys.argv[1], "w"))
PY
"$CONVERT" encode -i "$T/ip.json" -o "$T/ip/files.img" || fail "encode the socket files.img"
rm -rf "$T/ipo"
"$CONVERT" apply --map-ip 127.0.0.1=10.0.0.7 --map-ip ::1=fd00::7 "$T/ip" -o "$T/ipo" > "$T/log" 2>&1 || fail "apply --map-ip: $(tail -1 "$T/log")"
decode "$T/ipo/files.img" > "$T/ipo.json"
check "map-ip: IPv4, IPv6 and mapped addresses rewritten, others left" python3 -c '
import json, sys
e = {x["id"]: x.get("isk") for x in json.load(open(sys.argv[1]))["entries"]}
a, m7, v6 = 0x0700000a, [0, 0, 0xffff0000, 0x0700000a], [0x000000fd, 0, 0, 0x07000000]
assert e[101]["src_addr"] == [a] and e[101]["dst_addr"] == [0x0800a8c0], e[101]
assert e[102]["src_addr"] == v6 and e[102]["dst_addr"] == m7, e[102]
assert e[103]["src_addr"] == m7 and e[103]["dst_addr"] == v6, e[103]
' "$T/ipo.json"
check "map-ip: five changes reported" test "$(grep -c 'addr: ' "$T/log")" = 5
rm -rf "$T/ipp"
"$CONVERT" apply --map-ip 127.0.0.0/8=10.9.0.0/8 "$T/ip" -o "$T/ipp" > /dev/null 2>&1
check "map-ip: a prefix maps the addresses in it" sh -c "'$INSPECT' decode --pretty -i '$T/ipp/files.img' | grep -q '10.0.0.1'"
check "map-ip: a bad argument is a usage error" sh -c "'$CONVERT' apply --map-ip 10.0.0.1 '$SAMPLE' -o '$T/x' 2>/dev/null; [ \$? = 2 ]"

# 8. --refresh-file-sizes: a file that grew and one whose mode changed since the dump
R=$T/root
mkdir -p "$R/tmp/crsubj"
printf 'this log grew after the dump\n' > "$R/tmp/crsubj/stdout.log"
chmod 644 "$R/tmp/crsubj/stdout.log"
printf 'tiny file\n' > "$R/tmp/crsubj/tiny.txt"
chmod 600 "$R/tmp/crsubj/tiny.txt"
rm -rf "$T/rf"
"$CONVERT" apply --refresh-file-sizes --root "$R" "$SAMPLE" -o "$T/rf" > "$T/log" 2>&1 || fail "refresh: $(tail -1 "$T/log")"
decode "$T/rf/files.img" > "$T/rf.json"
check "refresh: stdout.log takes its new size, tiny.txt its new mode, the rest stays" python3 -c '
import json, sys
r = {x["reg"]["name"]: x["reg"] for x in json.load(open(sys.argv[1]))["entries"] if "reg" in x}
assert r["/tmp/crsubj/stdout.log"]["size"] == 29 and r["/tmp/crsubj/stdout.log"]["mode"] == 0o100644, r
assert r["/tmp/crsubj/tiny.txt"]["size"] == 10 and r["/tmp/crsubj/tiny.txt"]["mode"] == 0o100600, r
assert r["/tmp/subjects/subject_tiny"]["size"] == 13440
' "$T/rf.json"
check "refresh: every change is in the report" test "$(grep -c ' -> ' "$T/log")" = 2

# 9. A table of your own, and one with a mistake
cat > "$T/mine.json" <<'EOF'
{
  "table": "rename-task",
  "doc": "call the task something else",
  "rules": [
    { "name": "comm", "lossless": false, "reversible": false, "image": "CORE",
      "when": [{ "thread": "leader" }, { "field": "tc.comm", "prefix": "subject" }],
      "do": [{ "set": "tc.comm", "value": "renamed" }, { "set": "thread_core.comm", "value": "renamed" }] }
  ]
}
EOF
rm -rf "$T/mine"
"$CONVERT" apply --table "$T/mine.json" "$SAMPLE" -o "$T/mine" > "$T/log" 2>&1 || fail "apply --table: $(tail -1 "$T/log")"
check "table: the leader's comm is renamed" sh -c "'$INSPECT' decode -i '$T/mine/core-1.img' | grep -q '\"comm\": \"renamed\"'"
check "table: only core-1.img changed" test "$(diff -rq "$SAMPLE" "$T/mine" | wc -l)" = 1
sed 's/"tc.comm", "prefix"/"tc.komm", "prefix"/' "$T/mine.json" > "$T/bad.json"
"$CONVERT" apply --table "$T/bad.json" "$SAMPLE" -o "$T/bad" > "$T/out" 2> "$T/err"
check "bad table: exit 2" test $? = 2
check "bad table: the message names the file, line and field" grep -q "bad.json': line 6 column [0-9]*: 'tc.komm': task_core_entry has no field 'komm'" "$T/err"
check "bad table: no output" test ! -e "$T/bad"

# 10. Refusals
check "an existing output is refused" sh -c "'$CONVERT' downgrade --to 4.1 '$SAMPLE' -o '$T/mine' 2>&1 | grep -q 'already exists'"
mkdir -p "$T/in"
cp "$SAMPLE"/* "$T/in/"
check "an output inside the input is refused" sh -c "'$CONVERT' downgrade --to 4.1 '$T/in' -o '$T/in/out' 2>&1 | grep -q 'inside the input'"
check "nothing was written into the input" test ! -e "$T/in/out" -a "$(ls -a "$T/in" | wc -l)" = "$(($(ls "$SAMPLE" | wc -l) + 2))"
check "downgrade to a newer version is refused" sh -c "'$CONVERT' downgrade --to 4.3 '$SAMPLE' -o '$T/x' 2>&1 | grep -q 'newer'"
check "a version no table knows is refused" sh -c "'$CONVERT' upgrade --to 5.0 '$SAMPLE' -o '$T/x' 2>&1 | grep -q 'no table knows CRIU 5.0'"
check "below the oldest step is refused" sh -c "'$CONVERT' downgrade --to 0.9 '$SAMPLE' -o '$T/x' 2>&1 | grep -q 'below'"

# 11. Killed at random points: never an output folder that is not complete, and the next run clears what was left
if have_corpus; then K=$SETS/bigmem16; else K=$SAMPLE; fi
rm -rf "$T/kref"
t0=$(date +%s%N)
"$CONVERT" downgrade -q --to 4.1 --sync "$K" -o "$T/kref" || fail "reference conversion"
# kill at random points of a run: up to how long one takes (in microseconds)
span=$(( ($(date +%s%N) - t0) / 1000 + 1 ))
usec() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }
mkdir -p "$T/kill"
done_ok=0 killed=0
for i in $(seq 1 25); do
	rm -rf "$T/kill/out"
	"$CONVERT" downgrade -q --to 4.1 --sync "$K" -o "$T/kill/out" 2> /dev/null &
	pid=$!
	sleep "$(usec $(( (RANDOM * 32768 + RANDOM) % span )))"
	kill -9 $pid 2> /dev/null && killed=$((killed + 1))
	wait $pid 2> /dev/null
	if [ -e "$T/kill/out" ]; then
		diff -r "$T/kref" "$T/kill/out" > /dev/null && done_ok=$((done_ok + 1)) || fail "kill $i: an output folder that is not the complete result"
	fi
done
rm -rf "$T/kill/out"
"$CONVERT" downgrade -q --to 4.1 --sync "$K" -o "$T/kill/out" || fail "a run after the killed ones"
check "after $killed kills ($done_ok runs had finished): the next run leaves no temporary folder behind" test "$(ls -a "$T/kill" | grep -c '^\.out\.tmp-')" = 0
check "after the kills: the output is complete" diff -r "$T/kref" "$T/kill/out"
# SIGTERM: the run stops, removes its temporary folder, and fails
rm -rf "$T/kill/out"
"$CONVERT" downgrade -q --to 4.1 --sync "$K" -o "$T/kill/out" 2> /dev/null &
pid=$!
sleep "$(usec $((span / 2)))"
kill -TERM $pid 2> /dev/null
wait $pid
rc=$?
if [ -e "$T/kill/out" ]; then check "SIGTERM came after the rename: the output is complete" diff -r "$T/kref" "$T/kill/out"
else check "SIGTERM: exit status is not 0" test $rc != 0; fi
check "SIGTERM: no temporary folder left" test "$(ls -a "$T/kill" | grep -c '^\.out\.tmp-')" = 0

# 12. What a target cannot express, and the policies
edit() { # IMG PYTHON-EXPR-ON-d: decode, change, encode in place
	decode "$1" > "$T/e.json" && python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
$2
json.dump(d, open(sys.argv[1], 'w'))" "$T/e.json" && "$CONVERT" encode -i "$T/e.json" -o "$1"
}
# (the PE_PARENT page is in a parent snapshot: the sample itself, as check of the result wants)
rm -rf "$T/pe" && mkdir "$T/pe" && cp "$SAMPLE"/* "$T/pe/" && ln -s "$SAMPLE" "$T/pe/parent"
edit "$T/pe/pagemap-1.img" 'd["entries"][2]["flags"] = 1; d["entries"].append(dict(d["entries"][5], vaddr=0x7ffcee440000, flags=2))'
rm -rf "$T/pe34"
"$CONVERT" downgrade --to 3.4 "$T/pe" -o "$T/pe34" > /dev/null 2> "$T/err"
check "3.4: pages left to a lazy-pages server: exit 2" test $? = 2
check "3.4: ... and the message says why, naming the entry" grep -q "pagemap-1.img': entry 6 at offset 0x[0-9a-f]*: pages left to a lazy-pages server" "$T/err"
edit "$T/pe/pagemap-1.img" 'd["entries"].pop()'
"$CONVERT" downgrade --to 3.4 "$T/pe" -o "$T/pe34" > "$T/log" 2>&1 || fail "3.4 with a parent entry: $(tail -1 "$T/log")"
check "3.4: a PE_PARENT entry says in_parent, the others have no flags" python3 -c '
import json, subprocess, sys
e = json.loads(subprocess.check_output([sys.argv[1], "decode", "-i", sys.argv[2]]))["entries"][1:]
assert e[1] == {"vaddr": e[1]["vaddr"], "compat_nr_pages": 1, "in_parent": True}, e[1]
assert all("flags" not in x and "in_parent" not in x for i, x in enumerate(e) if i != 1), e
' "$INSPECT" "$T/pe34/pagemap-1.img"
rm -rf "$T/pe42"
"$CONVERT" upgrade --to 4.2 "$T/pe34" -o "$T/pe42" > "$T/log" 2>&1 || fail "up from 3.4: $(tail -1 "$T/log")"
check "3.4 and back: PE_PARENT, and PE_LAZY computed from the VMAs as CRIU's dumper does, give the same bytes" diff -r "$T/pe" "$T/pe42"
if have_corpus; then
	# (multi's memfd files stop the step to 3.3 without --policy hope: start from a 3.3 set)
	rm -rf "$T/cr"
	"$CONVERT" downgrade -q --to 3.3 --policy hope "$SETS/multi" -o "$T/cr" 2> /dev/null
	edit "$T/cr/core-3.img" 'd["entries"][0]["thread_core"]["creds"]["uid"] = 1000'
	rm -rf "$T/cr18"
	"$CONVERT" downgrade --from 3.3 --to 1.8 "$T/cr" -o "$T/cr18" > /dev/null 2> "$T/err"
	check "1.8: a thread with credentials of its own: exit 2" test $? = 2
	check "1.8: ... naming core-3.img" grep -q "core-3.img': entry 0 at offset 0x[0-9a-f]*: this thread's credentials differ" "$T/err"
	"$CONVERT" downgrade --from 3.3 --to 1.8 --policy hope "$T/cr" -o "$T/cr18" > "$T/log" 2>&1 || fail "1.8 --policy hope: $(tail -1 "$T/log")"
	check "1.8 hope: the warning is in the report" grep -q "warning: core-3.img entry 0: this thread's credentials differ" "$T/log"
	check "1.8 hope: creds-1.img holds the task's credentials" sh -c "'$INSPECT' decode -i '$T/cr18/creds-1.img' | grep -q '\"uid\": 0'"
	rm -rf "$T/cr42"
	# (memfd files keep the set mixed, which check finds wrong: only --policy hope writes it)
	"$CONVERT" upgrade --to 3.3 "$T/cr18" -o "$T/cr42" > "$T/log" 2>&1
	check "up from 1.8: the mixed set is refused by the check of the result" grep -q "does not pass check.*files-mixed" "$T/log"
	"$CONVERT" upgrade --to 3.3 --policy hope "$T/cr18" -o "$T/cr42" > "$T/log" 2>&1 || fail "up from 1.8: $(tail -1 "$T/log")"
	check "up from 1.8 hope: the check's error is a warning of the report" grep -q "warning: the result does not pass check: files.img: .*files-mixed" "$T/log"
	check "1.8 hope and back: the same bytes" diff -r "$T/cr" "$T/cr42"
	# an epoll target of a file the set does not have
	rm -rf "$T/or13" "$T/or"
	"$CONVERT" downgrade -q --to 1.3 --policy hope "$SETS/multi" -o "$T/or13" 2> /dev/null
	edit "$T/or13/eventpoll-tfd.img" 'd["entries"].append(dict(d["entries"][0], id=999))'
	"$CONVERT" upgrade --to 4.2 "$T/or13" -o "$T/or" > /dev/null 2> "$T/err"
	check "1.4: a target of an epoll file that does not exist: exit 2" test $? = 2
	check "1.4: ... naming the entry (no head magic: a 1.3 set is img_version 1)" grep -q "eventpoll-tfd.img': entry 1 at offset 0x18: this entry names a file the set does not have" "$T/err"
	"$CONVERT" upgrade --to 4.2 --policy hope "$T/or13" -o "$T/or" > "$T/log" 2>&1
	check "1.4 hope: the orphan stays in eventpoll-tfd.img, with a warning" sh -c "grep -q 'warning: eventpoll-tfd.img: 1 entry that nothing took in stays' '$T/log' &&
		'$INSPECT' decode -i '$T/or/eventpoll-tfd.img' | grep -q '\"id\": 999'"
fi

# 13. Tables from a folder, and the parent link of an incremental dump
rm -rf "$T/tb" "$T/tb2"
"$CONVERT" downgrade -q --to 3.3 --policy hope --tables "$top/schemas/transforms" "$SAMPLE" -o "$T/tb" 2> /dev/null || fail "--tables"
"$CONVERT" downgrade -q --to 3.3 --policy hope "$SAMPLE" -o "$T/tb2" 2> /dev/null
check "--tables schemas/transforms: the same result as the built-in tables" diff -r "$T/tb" "$T/tb2"
rm -rf "$T/inc" "$T/inc41" "$T/prev-dump" && mkdir "$T/inc" && cp "$SAMPLE"/* "$T/inc/" && ln -s ../prev-dump "$T/inc/parent"
cp -r "$SAMPLE" "$T/prev-dump"
"$CONVERT" downgrade -q --to 4.1 "$T/inc" -o "$T/inc41" || fail "a set with a parent link"
check "the parent link is kept as it was" test "$(readlink "$T/inc41/parent")" = ../prev-dump
mkdir "$T/inc/sub"
rm -rf "$T/inc41"
"$CONVERT" downgrade --to 4.1 "$T/inc" -o "$T/inc41" > /dev/null 2> "$T/err"
check "a folder inside the set is left out, with a warning" sh -c "grep -q 'inc/sub is not a file: it is left out' '$T/err' && [ ! -e '$T/inc41/sub' ]"

# 14. A container checkpoint archive as input (read in place), the same result as its folder
rm -rf "$T/ar" && mkdir "$T/ar"
if "$CONVERT" pack "$SAMPLE" -o "$T/ar/ck.tar.gz" > /dev/null 2>&1; then
	"$CONVERT" downgrade -q --to 4.1 "$T/ar/ck.tar.gz" -o "$T/ar/from-archive" || fail "downgrade of an archive"
	"$CONVERT" downgrade -q --to 4.1 "$SAMPLE" -o "$T/ar/from-folder"
	check "an archive converts as its folder does" diff -r "$T/ar/from-folder" "$T/ar/from-archive"
fi

# 15. The generator's sets of old CRIU (testdata/images, made independently of these tables)
G=$TESTDATA/images
if [ -d "$G/v1" ]; then
	for g in v1 legacy; do
		rm -rf "$T/g-$g"
		"$CONVERT" upgrade -q --to 4.2 "$G/$g" -o "$T/g-$g" || { fail "upgrade of testdata $g"; continue; }
		"$INSPECT" check --only images "$T/g-$g" > "$T/log" 2>&1
		check "testdata $g upgraded to 4.2: cr-inspect check finds the images whole" test $? = 0
	done
	check "testdata v1 (img_version 1): files.img, core sigactions and creds, mm VMAs after the upgrade" \
		sh -c "[ -f '$T/g-v1/files.img' ] && [ ! -e '$T/g-v1/vmas-1.img' ] && [ ! -e '$T/g-v1/creds-1.img' ]"
	rm -rf "$T/g-v1-back"
	"$CONVERT" downgrade -q --to 1.1 "$T/g-v1" -o "$T/g-v1-back" || fail "downgrade of testdata v1 back"
	check "testdata v1 -> 4.2 -> 1.1 gives the generator's bytes back" diff -r "$G/v1" "$T/g-v1-back"
fi

# The inputs did not change
for s in $INPUTS $SAMPLE; do
	check "$s: the input is bit-identical after every test" cmp -s "$T/before.$(key "$s")" <(sums "$s")
done
finish
