# cr-convert --for PROFILE: adapt a set to the machine a profile describes.
#
# - Linux 4.14 (no rseq) on every corpus set whose threads registered rseq:
#   the plan emulates per thread; in the result each thread's rseq_entry says
#   "none" and the area in its task's memory says what glibc writes when
#   registration fails (cpu_id -2, cpu_id_start 0), read back with cr-inspect
#   mem read at the addresses the input's cores give; every other byte of the
#   pages files is the input's; check --target of the result passes.  With
#   --policy bail it refuses with the reason; --dry-run writes nothing.
# - A CPU without AVX-512: what the corpus holds decides — components in their
#   initial state on every thread are dropped (tiny; zmm_hi256 of the glibc
#   sets), components in use make emulate refuse (opmask, hi16_zmm of glibc's
#   string functions); hope writes with the check's errors as warnings.
# - A time namespace of its own (tiny edited): no exact emulation; hope joins
#   the root namespace.  A mismatch no rule is for (an arm64 target) refuses.
# - The result must pass check: a damaged input is refused; hope writes it.
# - --refresh-file-sizes --root DIR on tiny with stdout.log grown gives a set
#   check --root DIR accepts; the 3.3 step of multi needs hope (memfd) and
#   says what to do.
# - A progress bar on a terminal only, and not with --quiet.
. "$(dirname "$0")/../lib.sh"
need_cmd python3 sha256sum
P=$TESTDATA/profiles
SAMPLE=$TESTDATA/sample/tiny
sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
decode() { "$INSPECT" decode -i "$1"; }
errors() { python3 -c 'import json,sys; print(" ".join(sorted(set("%s:%s" % (f["code"], f["subject"] or f["image"]) for f in json.load(open(sys.argv[1]))["findings"] if f["severity"] == "error"))))' "$1"; }

# 1. the validation: a damaged input is not written, unless hope
rm -rf "$T/dmg" "$T/dmg-o" && cp -r "$SAMPLE" "$T/dmg" && chmod -R u+w "$T/dmg" && rm "$T/dmg/fs-1.img"
"$CONVERT" apply --map-path /tmp=/srv "$T/dmg" -o "$T/dmg-o" > "$T/log" 2>&1
check "a result check finds wrong: exit 2" test $? = 2
check "... the message names the check's error: $(tail -1 "$T/log")" grep -q "cannot write '$T/dmg-o': the result does not pass check: fs-1.img: the set has no fs-1.img.*\[image-missing\]" "$T/log"
check "... and no output folder is left" test ! -e "$T/dmg-o"
"$CONVERT" apply --map-path /tmp=/srv --policy hope "$T/dmg" -o "$T/dmg-o" > "$T/log" 2>&1
check "--policy hope writes it, the error a warning: $(tail -1 "$T/log")" sh -c "[ -d '$T/dmg-o' ] && grep -q 'warning: the result does not pass check: fs-1.img' '$T/log'"

# 2. refresh-file-sizes with a root, as the acceptance check builds it
R=$T/root
mkdir -p "$R/tmp/crsubj" "$R/tmp/subjects" "$R/dev"
printf 'tiny file\n' > "$R/tmp/crsubj/tiny.txt"
cp -a /dev/null "$R/dev/null" 2> /dev/null || mknod -m 666 "$R/dev/null" c 1 3
head -c 56 /dev/zero | tr '\0' x > "$R/tmp/crsubj/stdout.log"
if have_corpus; then
	install -m 0755 "$CORPUS/subjects/bin/subject_tiny" "$R/tmp/subjects/subject_tiny"
	"$INSPECT" check --root "$R" "$SETS/tiny" > "$T/c.txt" 2>&1
	check "tiny with stdout.log grown: check --root refuses it" test $? = 1
	rm -rf "$T/rf"
	"$CONVERT" apply --refresh-file-sizes --root "$R" "$SETS/tiny" -o "$T/rf" > "$T/log" 2>&1 || fail "refresh: $(tail -1 "$T/log")"
	check "refresh: stdout.log takes its size now" grep -q 'files.img entry 2: reg.size: 0 -> 56' "$T/log"
	"$INSPECT" check --root "$R" "$T/rf" > "$T/c.txt" 2>&1
	check "refresh: check --root of the result accepts it: $(tail -1 "$T/c.txt")" test $? = 0
	# the corpus copy of the binary is 0555, the dump saw 0755: the mode is refreshed too
	chmod 0555 "$R/tmp/subjects/subject_tiny"
	rm -rf "$T/rf2"
	"$CONVERT" apply --refresh-file-sizes --root "$R" "$SETS/tiny" -o "$T/rf2" > "$T/log" 2>&1
	check "refresh: a mode that changed is taken too" grep -q 'reg.mode: 33261 -> 33133' "$T/log"
	"$INSPECT" check --root "$R" "$T/rf2" > /dev/null 2>&1
	check "refresh: ... and check --root accepts that" test $? = 0
fi

# 3. progress: on a terminal only, and not with --quiet
if command -v script > /dev/null; then
	rm -rf "$T/pg"
	CR_PROGRESS_DELAY_MS=0 script -qec "'$CONVERT' downgrade --to 4.1 '$SAMPLE' -o '$T/pg'" /dev/null > "$T/tty.txt" 2>&1
	check "a terminal gets a progress bar" grep -q 'writing \[#*-*\] *[0-9]*% ' "$T/tty.txt"
	rm -rf "$T/pg"
	CR_PROGRESS_DELAY_MS=0 script -qec "'$CONVERT' downgrade -q --to 4.1 '$SAMPLE' -o '$T/pg'" /dev/null > "$T/tty.txt" 2>&1
	check "--quiet: no progress bar" sh -c "! grep -q 'writing \[' '$T/tty.txt'"
	rm -rf "$T/pg"
	CR_PROGRESS_DELAY_MS=0 "$CONVERT" downgrade --to 4.1 "$SAMPLE" -o "$T/pg" > "$T/p.txt" 2>&1
	check "not a terminal: no progress bar" sh -c "! grep -q 'writing \[' '$T/p.txt'"
fi

need_corpus

# 4. rseq on Linux 4.14
for s in $(corpus_sets); do
	n=$(basename "$s")
	before=$(sums "$s")
	decode "$s/pstree.img" > "$T/pstree.json"
	# the threads that registered rseq, with their task and area: from the input's crit JSON
	: > "$T/rseq.txt"
	for c in "$s"/core-*.img; do
		tid=${c##*/core-}; tid=${tid%.img}
		decode "$c" | python3 -c '
import json, sys
tid, tree = int(sys.argv[1]), json.load(open(sys.argv[2]))["entries"]
c = json.load(sys.stdin)["entries"][0]
r = c.get("thread_core", {}).get("rseq_entry")
if r and r["rseq_abi_pointer"]:
    pid = [e["pid"] for e in tree if tid in e["threads"]][0]
    print(tid, pid, r["rseq_abi_pointer"])' "$tid" "$T/pstree.json" >> "$T/rseq.txt"
	done
	nr=$(wc -l < "$T/rseq.txt")
	rm -rf "$T/o"
	"$CONVERT" --for "$P/linux-4.14.json" "$s" -o "$T/o" -j > "$T/o.json" 2> "$T/err"
	rc=$?
	if [ "$nr" = 0 ]; then
		check "$n (no rseq): nothing to do on Linux 4.14: exit $rc" test $rc = 0
		check "$n (no rseq): the result is the input" diff -r "$s" "$T/o"
		continue
	fi
	check "$n: --for linux-4.14: exit $rc $(tail -1 "$T/err")" test $rc = 0
	check "$n: the plan emulates rseq on each of the $nr threads" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = [x for x in d["target"]["mismatches"] if x["mismatch"] == "kernel-feature:rseq"][0]
assert m["severity"] == "error" and m["emulated"] == int(sys.argv[2]) and m["hoped"] == 0, m
p = [c for c in d["changes"] if c["op"] == "patch"]
assert all(c["rule"] == "rseq-unregister" for c in p), p
' "$T/o.json" "$nr"
	while read -r tid pid addr; do
		"$INSPECT" mem read "$T/o" --pid "$pid" "$addr" 8 -o "$T/area" 2> /dev/null
		check "$n: thread $tid: cpu_id_start 0, cpu_id -2 (RSEQ_CPU_ID_REGISTRATION_FAILED) at $addr" \
			test "$(od -An -tx1 "$T/area" | tr -d ' \n')" = "00000000feffffff"
		decode "$T/o/core-$tid.img" > "$T/c.json"
		check "$n: thread $tid: its rseq_entry says it has no area" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["entries"][0]["thread_core"]["rseq_entry"]
assert r == {"rseq_abi_pointer": 0, "rseq_abi_size": 0, "signature": 0}, r' "$T/c.json"
	done < "$T/rseq.txt"
	check "$n: the pages files differ from the input only in the bytes patched" python3 -c '
import json, os, sys
d = json.load(open(sys.argv[1]))
spans = {}
for c in d["changes"]:
    if c["op"] == "patch":
        spans.setdefault(c["image"], []).append((c["offset"], c["offset"] + 4))
for f in os.listdir(sys.argv[2]):
    if not f.startswith("pages-"):
        continue
    a, b = open(os.path.join(sys.argv[2], f), "rb").read(), open(os.path.join(sys.argv[3], f), "rb").read()
    assert len(a) == len(b), f
    for i in range(len(a)):
        if a[i] != b[i] and not any(s <= i < e for s, e in spans.get(f, [])):
            sys.exit("%s byte %#x changed outside a patch" % (f, i))
' "$T/o.json" "$s" "$T/o"
	"$INSPECT" check --target "$P/linux-4.14.json" --only images,kernel,cpu -j "$T/o" > "$T/k.json"
	check "$n: check --target linux-4.14 of the result passes: $(errors "$T/k.json")" test -z "$(errors "$T/k.json")"
	rm -rf "$T/b"
	"$CONVERT" --for "$P/linux-4.14.json" --policy bail "$s" -o "$T/b" > /dev/null 2> "$T/err"
	check "$n: --policy bail: exit 2" test $? = 2
	check "$n: --policy bail: the reason: $(cat "$T/err")" grep -q "core-[0-9]*.img': entry 0 at offset 0x[0-9a-f]*: the thread registered rseq, which the target kernel lacks" "$T/err"
	check "$n: --policy bail: no output" test ! -e "$T/b"
	"$CONVERT" apply --for "$P/linux-4.14.json" "$s" --dry-run > "$T/plan.txt" 2>&1
	check "$n: --dry-run: the plan, per mismatch" grep -q "^  error kernel-feature:rseq: emulated on $nr entr" "$T/plan.txt"
	check "$n: the input is untouched" test "$before" = "$(sums "$s")"
done

# 5. a CPU without AVX-512: what the corpus holds
printf '%-9s %-8s %s\n' set thread "xstate_bv and the AVX-512 components (init: bit clear or registers all zero)"
for s in $(corpus_sets); do
	n=$(basename "$s")
	want=$(for c in "$s"/core-*.img; do decode "$c" | python3 -c '
import json, sys
x = json.load(sys.stdin)["entries"][0]["thread_info"]["fpregs"]["xsave"]
bv, out, used = x["xstate_bv"], [], []
for bit, name, field in ((5, "opmask", "opmask_reg"), (6, "zmm_hi256", "zmm_upper"), (7, "hi16_zmm", "hi16_zmm")):
    init = not (bv >> bit & 1) or not any(x.get(field, []))
    out.append("%s:%s" % (name, "init" if init else "USED"))
    if not init:
        used.append(name)
print("%-9s %-8s %#x %s" % (sys.argv[1], sys.argv[2], bv, " ".join(out)), file=sys.stderr)
print(" ".join(used))' "$n" "$(basename "$c" .img)"; done 2>&1 >/dev/null)
	echo "$want"
	used=$(for c in "$s"/core-*.img; do decode "$c" | python3 -c '
import json, sys
x = json.load(sys.stdin)["entries"][0]["thread_info"]["fpregs"]["xsave"]
for bit, f in ((5, "opmask_reg"), (6, "zmm_upper"), (7, "hi16_zmm")):
    if x["xstate_bv"] >> bit & 1 and any(x.get(f, [])):
        print(bit)'; done | sort -u | tr '\n' ' ')
	rm -rf "$T/x"
	"$CONVERT" --for "$P/no-avx512.json" "$s" -o "$T/x" > "$T/log" 2> "$T/err"
	rc=$?
	if [ -z "$used" ]; then
		check "$n: no thread uses AVX-512: emulated, exit $rc $(tail -1 "$T/err")" test $rc = 0
		check "$n: ... the result's cores hold no AVX-512 state" sh -c "for c in '$T'/x/core-*.img; do '$INSPECT' decode -i \$c | grep -qE 'opmask_reg|zmm_upper|hi16_zmm' && exit 1; done; exit 0"
		"$INSPECT" check --target "$P/no-avx512.json" --only images,cpu -j "$T/x" > "$T/k.json"
		check "$n: ... check --target no-avx512 passes, warnings gone: $(errors "$T/k.json")" \
			python3 -c 'import json,sys; sys.exit(any(f["severity"] != "info" for f in json.load(open(sys.argv[1]))["findings"]))' "$T/k.json"
		check "$n: ... the report warns that code chosen at start-up may still use AVX-512" grep -q 'glibc picks its string functions by CPU' "$T/log"
	else
		check "$n: threads use AVX-512 (bits $used): emulate refuses" test $rc = 2
		check "$n: ... naming the state in use: $(cat "$T/err")" grep -q "the thread holds AVX-512 .* state (bit [57] of xstate_bv, registers not zero)" "$T/err"
		rm -rf "$T/x"
		"$CONVERT" --for "$P/no-avx512.json" --policy hope "$s" -o "$T/x" > "$T/log" 2>&1
		check "$n: --policy hope writes it, saying check still finds the state in use" sh -c "[ -d '$T/x' ] && grep -q 'warning: the result does not pass check: core-[0-9]*.img: .*\[cpu-xsave\]' '$T/log'"
	fi
done

# 6. an own time namespace, and a mismatch no rule is for
rm -rf "$T/tn" && cp -r "$SETS/tiny" "$T/tn" && chmod -R u+w "$T/tn"
decode "$T/tn/ids-1.img" | python3 -c 'import json,sys; d=json.load(sys.stdin); d["entries"][0]["time_ns_id"] = 99; json.dump(d, sys.stdout)' > "$T/ids.json"
"$CONVERT" encode -i "$T/ids.json" -o "$T/tn/ids-1.img" && cp "$T/tn/timens-0.img" "$T/tn/timens-99.img"
rm -rf "$T/tno"
"$CONVERT" --for "$P/linux-4.14.json" "$T/tn" -o "$T/tno" > /dev/null 2> "$T/err"
check "own time namespace on 4.14: emulate refuses, there is no exact emulation: $(cat "$T/err")" \
	grep -q "ids-1.img': entry 0 at offset 0x8: the task runs in a time namespace of its own.*no exact emulation: --policy hope takes the table's fallback" "$T/err"
"$CONVERT" --for "$P/linux-4.14.json" --policy hope "$T/tn" -o "$T/tno" > "$T/log" 2>&1
check "... hope: the task joins the root time namespace" grep -q 'ids-1.img entry 0: time_ns_id: 99 -> 5' "$T/log"
check "... hope: the report says the clocks jump" grep -q 'CLOCK_MONOTONIC and CLOCK_BOOTTIME are the target' "$T/log"
"$INSPECT" check --target "$P/linux-4.14.json" --only images,kernel -j "$T/tno" > "$T/k.json"
check "... hope: check --target of the result passes: $(errors "$T/k.json")" test -z "$(errors "$T/k.json")"
rm -rf "$T/a"
"$CONVERT" --for "$P/aarch64.json" "$SETS/tiny" -o "$T/a" > /dev/null 2> "$T/err"
check "an arm64 target: no rule, refused: $(cat "$T/err")" grep -q "arch: the images are of x86_64 tasks.*no rule of the host table" "$T/err"

# 7. multi to 3.3: memfd files have no place before 3.4
rm -rf "$T/m33"
"$CONVERT" downgrade --to 3.3 "$SETS/multi" -o "$T/m33" > /dev/null 2> "$T/err"
check "multi to 3.3: refused, saying what to do" grep -q "convert down no further than 3.4, or dump a program without them; --policy hope keeps them in files.img" "$T/err"
"$CONVERT" downgrade --to 3.3 --policy hope "$SETS/multi" -o "$T/m33" > "$T/log" 2>&1
check "multi to 3.3 hope: written, and the report says no CRIU restores it whole" sh -c "[ -d '$T/m33' ] && grep -q 'warning: the result does not pass check: files.img: .*no CRIU finds every file \[files-mixed\]' '$T/log'"

# 8. a compressed archive is copied through its source (pages are not mapped)
rm -rf "$T/ar" && mkdir "$T/ar"
"$CONVERT" pack "$SETS/bigmem16" -o "$T/ar/b.tar.gz" > /dev/null 2>&1 || fail "pack bigmem16"
"$CONVERT" downgrade -q --to 4.1 "$T/ar/b.tar.gz" -o "$T/ar/from-archive" || fail "downgrade of a tar.gz"
"$CONVERT" downgrade -q --to 4.1 "$SETS/bigmem16" -o "$T/ar/from-folder"
check "bigmem16 as tar.gz converts as its folder does" diff -r "$T/ar/from-folder" "$T/ar/from-archive"
finish
