# The bridge between linux-cr streams and CRIU image sets: every tool reads a
# linux-cr image as it reads a CRIU set (x, summary, search, mem, check);
# cr-convert --to criu and --to linuxcr-VERSION there and back, strict and
# --lossy, --for PROFILE with --policy; the corpus sets tiny, sh-loop and
# bigmem16 through linux-cr and back (what issue 9 asks, measured).
. "$(dirname "$0")/../lib.sh"
D=$TESTDATA/images/linuxcr
P=$TESTDATA/profiles

# the tools on linux-cr streams of every version, with no version switch
for f in "$D"/v*.img; do
	b=$(basename "$f" .img)
	case $b in *-error) continue ;; esac
	"$INSPECT" x "$f" ps > "$T/ps" 2> "$T/err" && grep -q '^      2      1      1       crsubj-multi$' "$T/ps" &&
		[ "$(grep -c crsubj "$T/ps")" = 3 ] && pass || fail "x $b ps: $(head -c 200 "$T/err")"
	"$INSPECT" x "$f" mems > "$T/mems" && grep -q 'r-x \[vdso\]' "$T/mems" && pass || fail "x $b mems"
	"$INSPECT" search "$f" TINY-SUBJECT-MARKER > "$T/s" && grep -q '^pid 2 .* heap rw- \[heap\] +0x1000: .*\[TINY-SUBJECT-MARKER\]:4242' "$T/s" &&
		pass || fail "search in $b: $(cat "$T/s")"
done
L=$D/v23-rc2-x86_64.img
"$INSPECT" x "$L" fds > "$T/fds" && grep -q '3: /tmp/crsubj/data.txt' "$T/fds" && grep -q 'cwd: /tmp/crsubj' "$T/fds" && pass ||
	fail "x fds of a linux-cr stream"
"$INSPECT" summary "$L" > "$T/sum" && grep -q 'pipe\[.*22 bytes unread' "$T/sum" && grep -q 'crsubj-multi (alive, 2 threads)' "$T/sum" &&
	pass || fail "summary of a linux-cr stream"
"$INSPECT" mem read "$L" --pid 2 0x1c4e000 42 -o "$T/m" && [ "$(cat "$T/m")" = "CRSUBJ-SECRET=correct-horse-battery-staple" ] &&
	pass || fail "mem read of a linux-cr stream"
"$INSPECT" check "$L" > "$T/ck"; [ $? -le 1 ] && grep -q 'crsubj-init' "$T/ck" && pass || fail "check of a linux-cr stream"
# a failed checkpoint: the tasks it holds; damaged streams keep their errors
"$INSPECT" x "$D/v23-rc2-x86_64-error.img" ps > "$T/ps" && [ "$(grep -c crsubj "$T/ps")" = 2 ] && pass ||
	fail "x ps of a failed checkpoint"
head -c 9000 "$L" > "$T/trunc.img"
"$INSPECT" x "$T/trunc.img" ps > /dev/null 2> "$T/err"; rc=$?
[ $rc = 2 ] && grep -q "cannot .*trunc.img.*record .* at offset 0x" "$T/err" && pass || fail "a truncated stream: exit $rc, $(cat "$T/err")"

# --to criu: strict, then lossy; the set reads back and check takes it
"$CONVERT" --to criu "$L" -o "$T/c1" 2> "$T/err" && pass || fail "--to criu: $(cat "$T/err")"
for w in ps fds mems; do
	"$INSPECT" x "$L" $w > "$T/a"; "$INSPECT" x "$T/c1" $w > "$T/b"
	cmp -s "$T/a" "$T/b" && pass || fail "x $w of the CRIU set differs from the stream's"
done
grep -q 'left out: ids and bookkeeping only: .*UTS_NS.release' "$T/err" && pass || fail "--to criu lists what is not carried"
"$CONVERT" --to criu "$D/v23-rc2-x86_64-error.img" -o "$T/c2" 2> "$T/err"; rc=$?
[ $rc = 2 ] && [ ! -e "$T/c2" ] && grep -q "record ERROR has no place in CRIU images (the checkpoint failed" "$T/err" && pass ||
	fail "--to criu of a failed checkpoint: exit $rc, $(cat "$T/err")"
"$CONVERT" --lossy --to criu "$D/v23-rc2-x86_64-error.img" -o "$T/c2" 2> "$T/err" && grep -q 'left out: task 3 ' "$T/err" &&
	pass || fail "--lossy --to criu of a failed checkpoint: $(cat "$T/err")"
"$CONVERT" to "$L" --to criu -o "$T/c1" 2> "$T/err"; [ $? = 2 ] && grep -q 'already exists' "$T/err" && pass ||
	fail "an output that exists is refused"
"$CONVERT" --to criu "$T/c1" -o "$T/c3" 2> "$T/err"; [ $? = 2 ] && grep -q 'not a linux-cr stream' "$T/err" && pass ||
	fail "--to criu of a CRIU set"

# --to linuxcr: the set written back is the stream read again; a second round is the same bytes
"$CONVERT" --to linuxcr-v23-rc2 "$T/c1" -o "$T/l1.img" 2> "$T/err" && pass || fail "--to linuxcr-v23-rc2: $(cat "$T/err")"
"$CONVERT" --to criu "$T/l1.img" -o "$T/c4" 2> /dev/null && "$CONVERT" to "$T/c4" --to linuxcr-v23-rc2 -o "$T/l2.img" 2> /dev/null &&
	cmp -s "$T/l1.img" "$T/l2.img" && pass || fail "a second round does not give the same stream"
ls "$T" | grep -q 'tmp-' && fail "a temporary file was left" || pass
# other versions of the patchset
for v in v19-rc3 v21 v18; do
	"$CONVERT" --to linuxcr-$v "$T/c1" -o "$T/l-$v.img" 2> "$T/err"
	rc=$?
	case $v in
	v18) [ $rc = 2 ] && grep -q "cannot convert '$T/c1': v18 has no x86_64 layout" "$T/err" && pass || fail "--to linuxcr-v18: exit $rc $(cat "$T/err")" ;;
	*) [ $rc = 0 ] && "$INSPECT" x "$T/l-$v.img" ps | cmp -s - <("$INSPECT" x "$L" ps) && pass || fail "--to linuxcr-$v: $(cat "$T/err")" ;;
	esac
done
# what linux-cr cannot hold: refused with the image and field, dropped with --lossy and listed
"$INSPECT" decode -i "$T/c1/core-2.img" > "$T/core.json" &&
	grep -q '"loginuid": 4294967295' "$T/core.json" && sed 's/"loginuid": 4294967295/"loginuid": 1000/' "$T/core.json" > "$T/core2.json" &&
	cp -r "$T/c1" "$T/c5" && chmod u+w "$T/c5"/* && "$CONVERT" encode -i "$T/core2.json" -o "$T/c5/core-2.img" || fail "making a set with a loginuid"
"$CONVERT" --to linuxcr-v23-rc2 "$T/c5" -o "$T/l5.img" 2> "$T/err"; rc=$?
[ $rc = 2 ] && [ ! -e "$T/l5.img" ] && grep -q "core-2.img entry 0: tc.loginuid = 1000: core_entry.tc.loginuid has no place in a linux-cr image (the audit login uid); --lossy leaves it out" "$T/err" &&
	pass || fail "a loginuid is refused: exit $rc, $(cat "$T/err")"
"$CONVERT" --to linuxcr-v23-rc2 --lossy "$T/c5" -o "$T/l5.img" 2> "$T/err" && grep -q "left out: core_entry.tc.loginuid (1 time" "$T/err" &&
	pass || fail "--lossy leaves the loginuid out: $(cat "$T/err")"

# --for PROFILE: the header's kernel and release, the XSAVE layout; arch refused unless hope
"$CONVERT" --to linuxcr-v23-rc2 "$T/c1" --for "$P/no-avx512.json" -o "$T/f1.img" 2> "$T/err" && pass || fail "--for no-avx512: $(cat "$T/err")"
"$INSPECT" decode -i "$T/f1.img" > "$T/f1.json" && grep -q '"text": "6.1.0-18-amd64"' "$T/f1.json" &&
	grep -q '"major": 6, "minor": 1, "patch": 0' "$T/f1.json" && grep -q '"has_xsave": 1, "xstate_size": 832' "$T/f1.json" &&
	pass || fail "--for: header and FPU capabilities"
grep -q 'emulate: FPU: XSAVE areas of 832 bytes' "$T/err" && pass || fail "--for says what it emulated: $(cat "$T/err")"
"$CONVERT" --to linuxcr-v23-rc2 "$T/c1" --for "$P/aarch64.json" -o "$T/f2.img" 2> "$T/err"; rc=$?
[ $rc = 2 ] && grep -q "arch cannot be made to fit .*aarch64.json: linux-cr restart refuses an image of another architecture" "$T/err" &&
	pass || fail "--for another arch: exit $rc $(cat "$T/err")"
"$CONVERT" --to linuxcr-v23-rc2 "$T/c1" --for "$P/aarch64.json" --policy hope -o "$T/f2.img" 2> "$T/err" &&
	grep -q 'hope: arch' "$T/err" && pass || fail "--for another arch, hope: $(cat "$T/err")"
"$CONVERT" --to linuxcr-v23-rc2 "$T/c1" --for "$P/no-avx512.json" --policy bail -o "$T/f3.img" 2> "$T/err"; rc=$?
[ $rc = 2 ] && grep -q 'vdso cannot be made to fit' "$T/err" && pass || fail "--policy bail refuses the vdso: exit $rc $(cat "$T/err")"
"$CONVERT" downgrade "$L" --to linuxcr-v21 --for "$P/linux-4.14.json" -o "$T/f4.img" 2> "$T/err" &&
	"$INSPECT" decode -i "$T/f4.img" | grep -q '"major": 4, "minor": 14' && pass || fail "downgrade --for: $(cat "$T/err")"

need_corpus
# What linux-cr cannot carry from a CRIU set (besides the vdso's pages, which it never saved): ids of
# objects and namespaces (objrefs stand for them), what CRIU keeps to check files at restore,
# PF_ flags other than FORKNOEXEC and SUPERPRIV, cgroup sets, rseq registrations, CRIU's own records
lost=(--ignore 'inventory.root_ids.**' --ignore inventory.root_cg_set --ignore inventory.plugins_entry
	--ignore 'image[seccomp.img]' --ignore 'image[stats-dump]' --ignore '**.reg.mode' --ignore '**.reg.size'
	--ignore '**.reg.build_id*' --ignore 'ids.**' --ignore core.tc.flags --ignore core.thread_core.cg_set
	--ignore 'core.thread_core.rseq_entry.**')
# issue 9, measured: the corpus sets through linux-cr and back
for s in tiny sh-loop bigmem16; do
	S=$SETS/$s
	"$CONVERT" --to linuxcr-v23-rc2 "$S" -o "$T/$s.img" 2> "$T/err" && pass || { fail "$s to linux-cr: $(cat "$T/err")"; continue; }
	for w in ps fds mems; do
		"$INSPECT" x "$S" $w > "$T/a"; "$INSPECT" x "$T/$s.img" $w > "$T/b"
		cmp -s "$T/a" "$T/b" && pass || fail "$s: x $w of the linux-cr image differs"
	done
	"$INSPECT" ckptinfo -p "$T/$s.img" > /dev/null && pass || fail "$s: ckptinfo -p"
	# cr-convert core on the linux-cr image: gdb names the function of each thread's frame 0, with no warning
	"$CONVERT" core "$T/$s.img" -o "$T/$s.cores" > /dev/null 2> "$T/err" && [ -s "$T/$s.cores/core.1" ] && pass ||
		fail "$s: core of the linux-cr image: $(cat "$T/err")"
	exe=$("$INSPECT" maps "$S" --pid 1 | awk 'NR == 3 { print $NF }')
	if command -v gdb > /dev/null && [ -x "$exe" ] && [ -s "$T/$s.cores/core.1" ]; then
		gdb -batch -ex 'thread apply all bt' "$exe" "$T/$s.cores/core.1" > "$T/gdb" 2>&1
		grep -Eq '^#0 +(0x[0-9a-f]+ in )?[A-Za-z_]' "$T/gdb" && ! grep -qi 'warning' "$T/gdb" && pass ||
			fail "$s: gdb on the core of the linux-cr image: $(grep -i 'warning' "$T/gdb" | head -2)"
	fi
	"$CONVERT" --to criu "$T/$s.img" -o "$T/$s.back" 2> "$T/err" && pass || { fail "$s back to criu: $(cat "$T/err")"; continue; }
	"$INSPECT" check "$T/$s.back" --only images > "$T/ck" && pass || fail "$s: check of the set: $(tail -3 "$T/ck")"
	# the vdso's pages, which linux-cr never saved: the running kernel's (emulate, the default), so that
	# CRIU's restorer finds an ELF there; none with --policy hope
	va=$("$INSPECT" maps "$T/$s.back" --pid 1 | awk '/\[vdso\]/ { split($1, a, "-"); print "0x" a[1] }')
	"$INSPECT" mem read "$T/$s.back" --pid 1 "$va" 4 -o "$T/elf" && [ "$(od -An -c "$T/elf" | tr -d ' ')" = '177ELF' ] &&
		pass || fail "$s: the vdso at $va of the set back is not an ELF"
	"$CONVERT" --to criu --policy hope "$T/$s.img" -o "$T/$s.nov" 2> /dev/null &&
		[ "$("$INSPECT" maps "$T/$s.nov" --pid 1 | awk '/\[vdso\]/ { print $5 "/" $6 }')" = 2/0 ] && pass ||
		fail "$s: --policy hope writes the vdso's pages"
	for w in ps fds mems; do
		"$INSPECT" x "$S" $w > "$T/a"; "$INSPECT" x "$T/$s.back" $w > "$T/b"
		cmp -s "$T/a" "$T/b" && pass || fail "$s: x $w of the set back differs"
	done
	# downgrade and back: the same bytes, and cr-diff sees no change between the versions
	"$CONVERT" downgrade "$T/$s.img" --to linuxcr-v19-rc3 -o "$T/$s.19.img" && "$CONVERT" upgrade "$T/$s.19.img" --to linuxcr-v23-rc2 -o "$T/$s.23.img" &&
		cmp -s "$T/$s.img" "$T/$s.23.img" && pass || fail "$s: v19-rc3 and back is not byte-identical"
	"$DIFF" "$T/$s.img" "$T/$s.19.img" > "$T/d" && pass || fail "$s: cr-diff of v23-rc2 and v19-rc3: $(head -5 "$T/d")"
	# the set back against the source: equal but for what linux-cr cannot carry (man cr-convert, to)
	"$CONVERT" --policy hope --to linuxcr-v23-rc2 "$S" -o "$T/$s.h.img" 2> /dev/null && "$CONVERT" --to criu "$T/$s.h.img" -o "$T/$s.hback" 2> /dev/null ||
		fail "$s: the hope round trip"
	"$DIFF" --match comm "${lost[@]}" "$S" "$T/$s.hback" > "$T/d"
	grep -v '^---\|^+++\|^@@' "$T/d" > "$T/dl"
	# (the vdso's pages are the running kernel's: the same as the source's where it was dumped on this kernel)
	! grep -qv '^[-+~]memory\[.*\]: .* (r-x \[vdso\])$' "$T/dl" && pass ||
		fail "$s: cr-diff --match comm finds more than the listed fields: $(head -5 "$T/dl")"
done
"$INSPECT" search "$T/tiny.img" TINY-SUBJECT-MARKER | grep -q '0x403000 file rw- /tmp/subjects/subject_tiny +0x0: \[TINY-SUBJECT-MARKER\]:4242' &&
	pass || fail "search in the linux-cr image of tiny"
# the page contents of bigmem16: every present page; the vdso's are not carried (restart maps the kernel's),
# and the rseq emulation marks glibc's area (8 bytes); with --policy hope that area is as it was
"$INSPECT" mem dump "$SETS/bigmem16" -o "$T/da" > "$T/da.txt" && "$INSPECT" mem dump "$T/bigmem16.img" -o "$T/db" > /dev/null ||
	fail "mem dump"
"$CONVERT" --to linuxcr-v23-rc2 --policy hope "$SETS/bigmem16" -o "$T/bh.img" 2> /dev/null && "$INSPECT" mem dump "$T/bh.img" -o "$T/dh" > /dev/null ||
	fail "mem dump, hope"
vdso=$(awk '/\[vdso\]$/ { print $1 }' "$T/da.txt")
nd=0 nh=0 nm=0
for f in "$T"/da/1/*.bin; do
	b=$(basename "$f")
	[ "$f" = "$vdso" ] && continue
	nm=$((nm + 1))
	cmp -s "$f" "$T/db/1/$b" || nd=$((nd + $(cmp -l "$f" "$T/db/1/$b" | wc -l)))
	cmp -s "$f" "$T/dh/1/$b" || nh=$((nh + 1))
done
[ -n "$vdso" ] && [ "$nm" -gt 20 ] && [ "$nh" = 0 ] && pass || fail "bigmem16, hope: $nh of $nm mappings differ (none expected besides the vdso)"
[ "$nd" -ge 1 ] && [ "$nd" -le 8 ] && pass || fail "bigmem16: $nd bytes differ outside the vdso (the rseq area's, at most 8, expected)"
finish
