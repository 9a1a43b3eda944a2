#!/bin/bash
# cr-convert core: ELF core files.  On the generator's arch/ sets (aarch64,
# arm, x86_64 XSAVE layouts): the notes readelf and eu-readelf list, gdb's
# view of the x86 registers; usage and input errors; JSON; the progress bar on
# a terminal; the sparse output of a large image.  On every corpus set and
# process: gdb opens the core without a warning, with the image's threads and
# registers, libc names in the backtraces, the secret and the shared
# anonymous memory readable; the pages of files from --root only when they
# are the files the image describes; --no-file-pages.
. "$(dirname "$0")/../lib.sh"
need_cmd python3
A=$TESTDATA/images/arch
have() { command -v "$1" > /dev/null; }

# no file but the finished core, mode 0600, in the output folder
only_core() { [ "$(ls -A "$1")" = "${2:-core.1}" ] && [ "$(stat -c %a "$1/${2:-core.1}")" = 600 ]; }

# usage and input errors: status 2, a message, nothing written
st() { "$@" > "$T/out" 2> "$T/err"; echo $?; }
check "-o is required" test "$(st "$CONVERT" core "$A/x86-avx")" = 2
check "-o message" grep -q -- "-o DIR is required" "$T/err"
check "a checkpoint is required" test "$(st "$CONVERT" core -o "$T/e1")" = 2
check "a bad pid" test "$(st "$CONVERT" core "$A/x86-avx" -o "$T/e1" --pid x)" = 2
check "a pid not in the set" test "$(st "$CONVERT" core "$A/x86-avx" -o "$T/e1" --pid 9)" = 2
check "a pid not in the set: message" grep -q "no task with pid 9" "$T/err"
check "no such checkpoint" test "$(st "$CONVERT" core "$T/none" -o "$T/e1")" = 2
check "no such checkpoint: message" grep -q "cannot read '$T/none'" "$T/err"
: > "$T/afile"
check "an output that is a file" test "$(st "$CONVERT" core "$A/x86-avx" -o "$T/afile")" = 2
check "nothing written on errors" test -z "$(ls -A "$T/e1" 2> /dev/null)"

# an architecture without a core layout: a ppc64 core_entry made from arm's with decode | encode
cp -r "$A/arm" "$T/ppc"
"$INSPECT" decode -i "$A/arm/core-1.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
d["entries"][0]["mtype"] = "PPC64"
json.dump(d, sys.stdout)' > "$T/ppc.json"
"$CONVERT" encode -i "$T/ppc.json" -o "$T/ppc/core-1.img"
check "ppc64 --pid 1: status 2" test "$(st "$CONVERT" core "$T/ppc" -o "$T/ppc-out" --pid 1)" = 2
check "ppc64: the message names the image and the architecture" \
	grep -q "cannot write the core of 'core-1.img': architecture ppc64 (mtype 4) has no core layout here" "$T/err"
check "ppc64, every process: status 2" test "$(st "$CONVERT" core "$T/ppc" -o "$T/ppc-out")" = 2
check "ppc64, every process: a warning and no core" grep -q "no process of the checkpoint has a core to write" "$T/err"
check "ppc64: no file left" test -z "$(ls -A "$T/ppc-out")"

# hostile mappings: overlapping, unaligned, and one of 16 EiB that no core can hold
for bad in overlap unaligned huge; do
	cp -r "$A/x86-avx" "$T/$bad"
	"$INSPECT" decode -i "$A/x86-avx/mm-1.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
v = d["entries"][0]["vmas"]
if sys.argv[1] == "overlap": v[1]["start"] = v[0]["start"]
if sys.argv[1] == "unaligned": v[1]["end"] += 1
if sys.argv[1] == "huge": v[2]["end"] = 2**64 - 4096
json.dump(d, sys.stdout)' "$bad" > "$T/$bad.json"
	"$CONVERT" encode -i "$T/$bad.json" -o "$T/$bad/mm-1.img"
	check "$bad mapping: status 2" test "$(st "$CONVERT" core "$T/$bad" -o "$T/$bad-out")" = 2
	cp "$T/err" "$T/$bad.err"
	check "$bad mapping: nothing written" test -z "$(ls -A "$T/$bad-out")"
done
check "overlapping mappings: the message" grep -q "cannot write the core of 'mm-1.img': VMA 0x400000-0x[0-9a-f]* overlaps the one before" "$T/overlap.err"
check "an unaligned mapping: the message" grep -q "cannot write the core of 'mm-1.img': VMA 0x600000-0x603001 is empty or not page aligned" "$T/unaligned.err"
check "a mapping of 16 EiB: the message" grep -q "add up to more than a core file can hold" "$T/huge.err"

# pages left to a page server (lazy) are not in the image: holes, and a warning
cp -r "$A/x86-avx" "$T/lazy"
"$INSPECT" decode -i "$A/x86-avx/pagemap-1.img" | python3 -c '
import json, sys
d = json.load(sys.stdin)
d["entries"][2]["flags"] = "PE_LAZY"
json.dump(d, sys.stdout)' > "$T/lazy.json"
"$CONVERT" encode -i "$T/lazy.json" -o "$T/lazy/pagemap-1.img"
"$CONVERT" core "$T/lazy" -o "$T/lazy-out" -j > "$T/j.json" 2> "$T/err"
check "lazy pages: a warning" grep -q "warning: 'pagemap-1.img': 2 pages the image does not hold (lazy, or lost from the set) read as zeros in the core of pid 1" "$T/err"
check "lazy pages: counted" python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))[0]["missing_pages"] == 2' "$T/j.json"
"$CONVERT" core "$T/lazy" -o "$T/lazy-q" -q > /dev/null 2> "$T/err"
check "lazy pages: no warning with -q" test ! -s "$T/err"

# the arch sets: every note, as readelf and eu-readelf list them
declare -A notes=(
	[aarch64]="NT_PRSTATUS NT_PRPSINFO NT_SIGINFO NT_AUXV NT_FPREGSET NT_ARM_TLS"
	[arm]="NT_PRSTATUS NT_PRPSINFO NT_SIGINFO NT_AUXV NT_ARM_VFP"
	[x86-xsave]="NT_PRSTATUS NT_PRPSINFO NT_SIGINFO NT_AUXV NT_FPREGSET NT_X86_XSTATE"
	[x86-avx]="NT_PRSTATUS NT_PRPSINFO NT_SIGINFO NT_AUXV NT_FPREGSET NT_X86_XSTATE"
)
declare -A machine=([aarch64]=AArch64 [arm]=ARM [x86-xsave]=X86-64 [x86-avx]=X86-64)
for a in aarch64 arm x86-xsave x86-avx; do
	o=$T/arch-$a
	if ! "$CONVERT" core "$A/$a" -o "$o" > "$T/out" 2> "$T/err"; then
		fail "core of arch/$a: $(head -1 "$T/err")"
		continue
	fi
	check "arch/$a: core.1 alone, 0600" only_core "$o"
	check "arch/$a: no warning" test ! -s "$T/err"
	check "arch/$a: the summary line" grep -q "^$o/core.1: pid 1 arch-$a, " "$T/out"
	if have readelf; then
		readelf -h "$o/core.1" > "$T/h.txt" 2>&1
		check "arch/$a: readelf: an ELF core" grep -q "Type: *CORE" "$T/h.txt"
		check "arch/$a: machine" grep -q "Machine: .*${machine[$a]}" "$T/h.txt"
		readelf -n "$o/core.1" > "$T/n.txt" 2> "$T/nerr"
		check "arch/$a: readelf -n says nothing on stderr" test ! -s "$T/nerr"
		for n in ${notes[$a]}; do
			check "arch/$a: readelf lists $n" grep -q "$n" "$T/n.txt"
		done
	fi
	if have eu-readelf; then
		eu-readelf -n "$o/core.1" > "$T/eu.txt" 2> "$T/euerr"
		check "arch/$a: eu-readelf -n succeeds quietly" test $? = 0 -a ! -s "$T/euerr"
		check "arch/$a: eu-readelf knows every note" bash -c "! grep -q '<unknown>' '$T/eu.txt'"
		check "arch/$a: psargs from the stack" grep -q "fname: arch-$a, psargs: arch-$a -v" "$T/eu.txt"
		check "arch/$a: uid 1000" grep -q "uid: 1000, gid: 1000, pid: 1, ppid: 0, pgrp: 1, sid: 1" "$T/eu.txt"
	fi
done
if have eu-readelf; then
	eu-readelf -n "$T/arch-aarch64/core.1" > "$T/eu.txt"
	check "aarch64: two threads" test "$(grep -c 'PRSTATUS' "$T/eu.txt")" = 2
	check "aarch64: pc of thread 1" grep -q "pc: 0x0000aaaad0000084, pstate: 0x0000000060000000, fpvalid: 1" "$T/eu.txt"
	check "aarch64: pc of thread 2" grep -q "pc: 0x0000aaaad0000088" "$T/eu.txt"
	check "aarch64: x30 of thread 2" grep -q "x30: *126978" "$T/eu.txt"
	check "aarch64: tpidr_el0" grep -q "tls: 0x0000ffffb7ff8020" "$T/eu.txt"
	check "aarch64: fpsr, fpcr" grep -q "fpsr: 0x00000010, fpcr: 0x03000000" "$T/eu.txt"
	eu-readelf -n "$T/arch-arm/core.1" > "$T/eu.txt"
	check "arm: pc and sp" grep -q "sp: *0xbe800f00  lr: *0x00000f01" "$T/eu.txt"
	check "arm: d31" grep -q "d31: 0x3ff000000000001f" "$T/eu.txt"
	eu-readelf -n "$T/arch-x86-xsave/core.1" > "$T/eu.txt"
	check "x86-xsave: the stop signal and the pending one" grep -q "info.si_signo: 20, .*cursig: 20" "$T/eu.txt"
	check "x86-xsave: SIGUSR1 pending" grep -q "sigpend: <10>" "$T/eu.txt"
	check "x86-xsave: SIGTERM blocked" grep -q "sighold: <15>" "$T/eu.txt"
	check "x86-xsave: 2696 bytes of XSAVE" grep -q "LINUX *2696  X86_XSTATE" "$T/eu.txt"
fi

# gdb on the x86 cores of the generator (no executable): no warning, the XSAVE registers where the image has them
if have gdb; then
	gdb -batch -nx -ex 'info registers rip' -ex 'p/x $pkru' -ex 'p $k1' -ex 'p/x $zmm16.v8_int64[1]' \
		-ex 'p/x $ymm0.v8_int32[4]' -ex 'p $_siginfo.si_signo' -c "$T/arch-x86-xsave/core.1" > "$T/g.txt" 2>&1
	check "gdb x86-xsave: no warning" bash -c "! grep -qi warning '$T/g.txt'"
	check "gdb x86-xsave: stopped by SIGTSTP" grep -q "Program terminated with signal SIGTSTP" "$T/g.txt"
	check "gdb x86-xsave: rip" grep -q "^rip *0x400041 " "$T/g.txt"
	check "gdb x86-xsave: pkru" grep -q "= 0x55555554" "$T/g.txt"
	check "gdb x86-xsave: k1" grep -q "= 65281" "$T/g.txt"
	check "gdb x86-xsave: zmm16" grep -q "= 0x3333000000000001" "$T/g.txt"
	check "gdb x86-xsave: ymm0's upper half" grep -q "= 0x11110000" "$T/g.txt"
	check "gdb x86-xsave: NT_SIGINFO" grep -q "= 20$" "$T/g.txt"
	gdb -batch -nx -ex 'info registers rip' -ex 'p $_siginfo.si_code' -ex 'x/s 0x600000' \
		-c "$T/arch-x86-avx/core.1" > "$T/g.txt" 2>&1
	check "gdb x86-avx: no warning (832 bytes of XSAVE)" bash -c "! grep -qi warning '$T/g.txt'"
	check "gdb x86-avx: stopped by the checkpoint" grep -q "Program terminated with signal SIGSTOP" "$T/g.txt"
	check "gdb x86-avx: si_code SI_KERNEL" grep -q "= 128$" "$T/g.txt"
	check "gdb x86-avx: memory" grep -q '"x86-avx data page"' "$T/g.txt"
fi

# gdb-multiarch on the aarch64 and arm cores: the registers where gdb reads them, the memory
if have gdb-multiarch; then
	gdb-multiarch -batch -nx -ex 'thread apply all info registers x0 x30 pc sp' -ex 'p/x $tpidr' -ex 'p/x $fpsr' \
		-ex 'p/x $v1.d.u[0]' -ex 'x/s 0xaaaad0010000' -ex 'x/s 0xffffe0000f80' -c "$T/arch-aarch64/core.1" > "$T/g.txt" 2>&1
	check "gdb aarch64: no warning" bash -c "! grep -qi warning '$T/g.txt'"
	check "gdb aarch64: two threads" test "$(grep -c '^Thread [12] (LWP [12])' "$T/g.txt")" = 2
	check "gdb aarch64: x30 of thread 2" grep -q "^x30 *0x1f002 " "$T/g.txt"
	check "gdb aarch64: pc of thread 1" grep -q "^pc *0xaaaad0000084 " "$T/g.txt"
	check "gdb aarch64: sp of thread 2" grep -q "^sp *0xffffe0000ee0 " "$T/g.txt"
	check "gdb aarch64: tpidr_el0" grep -q "= 0xffffb7ff8020" "$T/g.txt"
	check "gdb aarch64: fpsr" grep -q "= 0x10$" "$T/g.txt"
	check "gdb aarch64: v1" grep -q "= 0x3ff0000000000001" "$T/g.txt"
	check "gdb aarch64: data" grep -q '"aarch64 data page"' "$T/g.txt"
	check "gdb aarch64: the command line on the stack" grep -q '"arch-aarch64"' "$T/g.txt"
	gdb-multiarch -batch -nx -ex 'info registers r0 pc cpsr' -ex 'p/x $d31' -ex 'p/x $fpscr' -ex 'x/s 0x20000' \
		-c "$T/arch-arm/core.1" > "$T/g.txt" 2>&1
	check "gdb arm: no warning" bash -c "! grep -qi warning '$T/g.txt'"
	check "gdb arm: r0" grep -q "^r0 *0x101 " "$T/g.txt"
	check "gdb arm: pc" grep -q "^pc *0x10040 " "$T/g.txt"
	check "gdb arm: cpsr" grep -q "^cpsr *0x60000010 " "$T/g.txt"
	check "gdb arm: d31 (NT_ARM_VFP)" grep -q "= 0x3ff000000000001f" "$T/g.txt"
	check "gdb arm: fpscr after the 32 registers" grep -q "= 0x3000000" "$T/g.txt"
	check "gdb arm: data" grep -q '"arm data page"' "$T/g.txt"
fi

# JSON
"$CONVERT" core "$A/aarch64" -o "$T/json" -j > "$T/j.json" 2> "$T/err"
check "JSON: one object per core" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1 and d[0]["pid"] == 1 and d[0]["threads"] == 2 and d[0]["core"].endswith("/core.1")
assert d[0]["segments"] == 3 and d[0]["written"] == 4 * 4096 and d[0]["mapped"] == 5 * 4096, d' "$T/j.json"
"$CONVERT" core "$T/ppc" -o "$T/json2" --pid 1 -j > "$T/j.json" 2> /dev/null
check "JSON: an error alone" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert "has no core layout" in d["error"], d' "$T/j.json"

# a large image: sparse output, the pages at their place, the progress bar on a terminal only
if CR_INSPECT=$INSPECT CR_CONVERT=$CONVERT "$top/tests/support/bigset.sh" "$T/big" 80 > "$T/pages" 2> "$T/err"; then
	"$CONVERT" core "$T/big" -o "$T/bigc" > /dev/null 2> "$T/err"
	check "large: no progress bar when stderr is not a terminal" test ! -s "$T/err"
	check "large: the core holds the needles" test "$(grep -a -o -F CRBENCH-NEEDLE-0123456789 "$T/bigc/core.1" | wc -l)" = 2
	check "large: the mapping's segment holds the pages file" python3 -c '
import struct, sys
f = open(sys.argv[1], "rb"); d = f.read(1 << 16)
phoff, = struct.unpack_from("<Q", d, 32); n, = struct.unpack_from("<H", d, 56)
for i in range(n):
    t, fl, off, va, pa, fs, ms, al = struct.unpack_from("<IIQQQQQQ", d, phoff + 56 * i)
    if va == 0x7f0000000000:
        break
else:
    sys.exit(1)
pages = open(sys.argv[2], "rb")
f.seek(off)
left = fs
while left:
    a, b = f.read(min(left, 1 << 20)), pages.read(min(left, 1 << 20))
    if a != b or not a: sys.exit(1)
    left -= len(a)
sys.exit(fs != 80 << 20 or pages.read(1) != b"")' "$T/bigc/core.1" "$(cat "$T/pages")"
	if have script; then
		CR_PROGRESS_DELAY_MS=0 script -qec "'$CONVERT' core '$T/big' -o '$T/bigt'" /dev/null > "$T/tty.txt" 2>&1
		check "large: a progress bar on a terminal" grep -q "core.1 \[#*\.*\] *[0-9]*%" "$T/tty.txt"
		CR_PROGRESS_DELAY_MS=0 script -qec "'$CONVERT' core '$T/big' -o '$T/bigq' -q" /dev/null > "$T/tty.txt" 2>&1
		check "large: none with --quiet" bash -c "! grep -q 'core.1 \[' '$T/tty.txt'"
	fi
	rm -rf "$T/big" "$T/bigc" "$T/bigt" "$T/bigq"
else
	fail "cannot make a large image: $(tail -1 "$T/err")"
fi

need_corpus
# the images name the subjects' binaries as /tmp/subjects/... (the same files: size and build-id)
mkdir -p /tmp/subjects && for b in "$CORPUS"/subjects/bin/*; do
	[ -e "/tmp/subjects/$(basename "$b")" ] || cp "$b" /tmp/subjects/
done

# per process of a set: "pid threads executable", then "pid tid rip rsp rbx" per thread from core-TID.img
facts_of() { python3 - "$INSPECT" "$1" <<'PY'
import json, subprocess, sys
tool, ck = sys.argv[1:3]
def j(*a): return json.loads(subprocess.run([tool, *a], capture_output=True, check=True).stdout)
for t in j("threads", "-j", ck):
    pid = t["pid"]
    exe = next(m["name"] for m in j("maps", "-j", ck, "--pid", str(pid))[0]["maps"] if m["kind"] == "file")
    print("task", pid, len(t["threads"]), exe)
    for th in t["threads"]:
        g = j("decode", "-i", "%s/core-%d.img" % (ck, th["tid"]))["entries"][0]["thread_info"]["gpregs"]
        print("regs", pid, th["tid"], hex(g["ip"]), hex(g["sp"]), hex(g["bx"]))
PY
}
# "tid rip rsp rbx" per thread from gdb's 'thread apply all info registers rip rsp rbx'
gdb_regs() { awk '/^Thread [0-9]+ .*LWP [0-9]+\)/ { match($0, /LWP [0-9]+/); t = substr($0, RSTART + 4, RLENGTH - 4) + 0 }
	/^(rip|rsp|rbx) / && t { r[t, $1] = $2; seen[t] = 1 }
	END { for (t in seen) print t, r[t, "rip"], r[t, "rsp"], r[t, "rbx"] }' "$1" | sort -n; }

for s in $(corpus_sets); do
	n=$(basename "$s")
	o=$T/cores-$n
	if ! "$CONVERT" core "$s" -o "$o" -q > "$T/out" 2> "$T/err"; then
		fail "core of $n: $(head -1 "$T/err")"
		continue
	fi
	facts_of "$s" > "$T/facts" || { fail "$n: cannot read the facts of the set"; continue; }
	while read -r _ pid nt exe; do
		c=$o/core.$pid
		check "$n: core.$pid written" test -s "$c"
		if have readelf; then
			readelf -n "$c" > "$T/n.txt" 2> "$T/nerr"
			check "$n/$pid: readelf -n quiet" test ! -s "$T/nerr"
			for note in NT_PRSTATUS NT_PRPSINFO NT_SIGINFO NT_AUXV NT_FILE NT_FPREGSET NT_X86_XSTATE; do
				check "$n/$pid: readelf lists $note" grep -q "$note" "$T/n.txt"
			done
			check "$n/$pid: one NT_PRSTATUS per thread" test "$(grep -c NT_PRSTATUS "$T/n.txt")" = "$nt"
		fi
		if have eu-readelf; then
			eu-readelf -n "$c" > "$T/eu.txt" 2> "$T/euerr"
			check "$n/$pid: eu-readelf -n quiet" test $? = 0 -a ! -s "$T/euerr"
			check "$n/$pid: eu-readelf knows every note" bash -c "! grep -q '<unknown>' '$T/eu.txt'"
		fi
		have gdb || continue
		gdb -batch -nx -ex 'info threads' -ex 'thread apply all bt' -ex 'info registers' \
			-ex 'thread apply all info registers rip rsp rbx' "$exe" -c "$c" > "$T/g.txt" 2>&1
		check "$n/$pid: gdb $exe prints no warning" bash -c "! grep -qi warning '$T/g.txt'"
		check "$n/$pid: gdb sees $nt threads" test "$(grep -cE '^[ *] +[0-9]+ +(Thread|LWP)' "$T/g.txt")" = "$nt"
		want=$(awk -v p="$pid" '$1 == "regs" && $2 == p { print $3, $4, $5, $6 }' "$T/facts" | sort -n)
		if [ "$(gdb_regs "$T/g.txt")" = "$want" ]; then pass; else
			fail "$n/$pid: rip/rsp/rbx in gdb differ from core-TID.img: $(gdb_regs "$T/g.txt" | head -2) / $(echo "$want" | head -2)"
		fi
		gdb -batch -nx -c "$c" > "$T/g0.txt" 2>&1
		check "$n/$pid: gdb with the core alone prints no warning" bash -c "! grep -qi warning '$T/g0.txt'"
		case $n in multi | multi-ns | sh-loop)
			# every thread stopped in libc: its frame 0 has a libc function's name
			check "$n/$pid: bt names libc functions" test "$(grep -cE '^#0 .*(nanosleep|pause|wait4?) \(' "$T/g.txt")" -ge "$nt"
			;;
		esac
	done < <(grep '^task ' "$T/facts")
done

M=$SETS/multi
if have gdb; then
	# the secret where search finds it, in the core of every process
	"$INSPECT" search -j "$M" CRSUBJ-SECRET > "$T/s.json"
	python3 -c '
import json, sys
for m in json.load(open(sys.argv[1])): print(m["pid"], m["addr"])' "$T/s.json" > "$T/hits"
	check "search finds the secret" test -s "$T/hits"
	shared=$("$INSPECT" search -j "$M" shared-anon-region | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["addr"])')
	for pid in 1 2; do
		args=(-ex "x/s $shared")
		while read -r p addr; do [ "$p" = "$pid" ] && args+=(-ex "x/s $addr"); done < "$T/hits"
		gdb -batch -nx "${args[@]}" /tmp/subjects/subject_multi -c "$T/cores-multi/core.$pid" > "$T/g.txt" 2>&1
		while read -r p addr; do
			[ "$p" = "$pid" ] || continue
			check "multi/$pid: x/s $addr shows the secret" grep -q "$addr:.*\"CRSUBJ-SECRET=correct-horse-batt" "$T/g.txt"
		done < "$T/hits"
		# the shared anonymous mapping, from pagemap-shmem
		check "multi/$pid: x/s shows the shared anonymous memory" grep -q "$shared:.*\"shared-anon-region\"" "$T/g.txt"
	done
fi

# sparse: bigmem16's core uses blocks for the pages the image has, not for the holes
c=$T/cores-bigmem16/core.1
app=$(stat -c %s "$c")
blk=$(($(stat -c %b "$c") * $(stat -c %B "$c")))
check "bigmem16: sparse ($blk bytes on disk of $app)" test "$blk" -lt $((app * 95 / 100))
check "bigmem16: the 16 MiB are on disk" test "$blk" -ge $((16 << 20))
have gdb && {
	addr=$("$INSPECT" search -j "$SETS/bigmem16" "CRPAGE 4094 of 4096" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["addr"])')
	gdb -batch -nx -ex "x/s $addr" -c "$c" > "$T/g.txt" 2>&1
	check "bigmem16: the last page written" grep -q '"CRPAGE 4094 of 4096 round 0;' "$T/g.txt"
}

# --no-file-pages: the pages of files that the image lacks stay in the files (segments without bytes)
"$CONVERT" core "$M" -o "$T/nofile" --pid 1 --no-file-pages -q
libc_text=$("$INSPECT" maps -j "$M" --pid 1 | python3 -c '
import json, sys
print(next(m["start"] for m in json.load(sys.stdin)[0]["maps"] if m["name"].endswith("libc.so.6") and m["perm"] == "r-xp"))')
if have readelf; then
	check "--no-file-pages: libc's text has no bytes in the core" \
		bash -c "readelf -lW '$T/nofile/core.1' | grep -qE 'LOAD +0x[0-9a-f]+ 0x0*${libc_text#0x} 0x0+ 0x0+ '"
	check "by default it has" \
		bash -c "readelf -lW '$T/cores-multi/core.1' | grep -qE 'LOAD +0x[0-9a-f]+ 0x0*${libc_text#0x} 0x0+ 0x0*156000 '"
fi
vvar=$("$INSPECT" maps -j "$M" --pid 1 | python3 -c '
import json, sys
print(next(m["start"] for m in json.load(sys.stdin)[0]["maps"] if m["kind"] == "vvar"))')
have readelf && check "madvise(MADV_DONTDUMP) (vvar): a segment without bytes" \
	bash -c "readelf -lW '$T/cores-multi/core.1' | grep -qE 'LOAD +0x[0-9a-f]+ 0x0*${vvar#0x} 0x0+ 0x0+ '"
check "--no-file-pages: a smaller core" test "$(du -k "$T/nofile/core.1" | cut -f1)" -lt "$(du -k "$T/cores-multi/core.1" | cut -f1)"
if have gdb; then
	gdb -batch -nx -ex 'bt' /tmp/subjects/subject_multi -c "$T/nofile/core.1" > "$T/g.txt" 2>&1
	check "--no-file-pages: gdb reads libc from the file" grep -q "^#0 .*clock_nanosleep" "$T/g.txt"
	check "--no-file-pages: no warning" bash -c "! grep -qi warning '$T/g.txt'"
fi

# --root: the files under another root, used only when they are the ones the image describes
R=$T/root
mkdir -p "$R/tmp/crsubj" "$R/tmp/subjects"
for f in /usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
	mkdir -p "$R$(dirname "$f")" && cp "$(readlink -f "$f")" "$R$f"
done
cp /tmp/subjects/subject_multi "$R/tmp/subjects/"
printf 'root-data-file-0123456\n' > "$R/tmp/crsubj/data.txt" # 23 bytes, as files.img says
"$CONVERT" core "$M" -o "$T/rooted" --pid 1 --root "$R" > /dev/null 2> "$T/err"
check "--root: every file there, no warning" test ! -s "$T/err"
if have eu-readelf; then
	eu-readelf -n "$T/rooted/core.1" > "$T/eu.txt"
	check "--root: NT_FILE names the shared file mapping" grep -q "7fda0e14d000-7fda0e14e000 00000000 4096 *\/tmp\/crsubj\/data.txt" "$T/eu.txt"
fi
have gdb && {
	gdb -batch -nx -ex 'x/s 0x7fda0e14d000' -c "$T/rooted/core.1" > "$T/g.txt" 2>&1
	check "--root: the shared file mapping's page comes from the file under the root" \
		grep -q '0x7fda0e14d000:.*"root-data-file-0123456' "$T/g.txt"
}
# another build of the program (its build-id changed) and a file of another size
python3 - "$R/tmp/subjects/subject_multi" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = b.find(b"\x04\0\0\0\x14\0\0\0\x03\0\0\0GNU\0", 0, 4096) # NT_GNU_BUILD_ID's header; 20 bytes follow
assert i > 0
b[i + 16] ^= 0xff
open(p, "wb").write(b)
PY
printf 'short\n' > "$R/tmp/crsubj/data.txt"
"$CONVERT" core "$M" -o "$T/stale" --pid 1 --root "$R" > /dev/null 2> "$T/err"
check "--root: another build is refused" grep -q "'/tmp/subjects/subject_multi': its build-id is [0-9a-f]*, the image says [0-9a-f]*: the pages of its mappings that the image lacks are left out" "$T/err"
check "--root: a file of another size is refused" grep -q "'/tmp/crsubj/data.txt': it has 6 bytes, the image says 23" "$T/err"
if have eu-readelf; then
	eu-readelf -n "$T/stale/core.1" > "$T/eu.txt"
	check "--root: NT_FILE leaves out the files that changed" bash -c "! grep -qE '^ +[0-9a-f]+-[0-9a-f]+ .*(subject_multi|data.txt)$' '$T/eu.txt'"
	check "--root: and keeps the others" grep -qE '^ +[0-9a-f]+-[0-9a-f]+ .*/libc.so.6$' "$T/eu.txt"
fi
finish
