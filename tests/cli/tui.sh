# cr-inspect tui, driven in tmux: keys in (send-keys), screen text out
# (capture-pane), at 80x24 and 200x60, with a resize in the middle.  Screens
# that do not depend on timing are compared with tests/cli/tui-screens/
# (CR_TUI_SCREENS=update writes them again).  Every key's time comes from
# the TUI's own --trace-keys log.
. "$(dirname "$0")/../lib.sh"

# not a terminal: a clear error, status 2 (no tmux needed)
"$INSPECT" tui "$TESTDATA/sample/tiny" < /dev/null > "$T/o" 2> "$T/e"
check "tui without a terminal exits 2" test $? -eq 2
check "tui without a terminal says it needs one" grep -q "needs a terminal" "$T/e"
"$INSPECT" tui --help > "$T/o" 2>&1
check "tui --help lists --marks" grep -q -- "--marks" "$T/o"

need_cmd tmux
need_corpus
SOCK=$T/tmux.sock
tm() { tmux -S "$SOCK" "$@"; }
trap 'tm kill-server 2> /dev/null; rm -rf "$T"' EXIT
SCREENS=$top/tests/cli/tui-screens
M=$SETS/multi
# Sanitizer builds run several times slower; the budget is for the plain build.
budget=100
case ${CR_BUILD:-} in *asan*) budget=600;; esac
# Screens show the path as given: run from a folder where the sets have short names.
mkdir -p "$T/sets" && for s in multi multi-ns manyvmas bigmem16; do ln -s "$SETS/$s" "$T/sets/$s"; done

# each run gets a session of its own; the one before is killed once the new one is up
# (killing the last session first would race with the server's exit)
nsess=0 sess=
screen() { tm capture-pane -t "$sess" -p 2> /dev/null; }
keys() { tm send-keys -t "$sess" "$@"; }
# type TEXT: the characters of TEXT, never read as key names ("0x7f..." would be a key code)
text() { tm send-keys -t "$sess" -l -- "$1"; }
# wait_for TEXT: until the screen shows TEXT (5 s at most)
wait_for() {
	local i
	for ((i = 0; i < 100; i++)); do
		screen | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	return 1
}
# the screen once it has stopped changing
settled() {
	local a b i
	a=$(screen)
	for ((i = 0; i < 40; i++)); do
		sleep 0.05
		b=$(screen)
		[ "$a" = "$b" ] && break
		a=$b
	done
	printf '%s\n' "$a"
}
# expect WHAT TEXT: the screen shows TEXT
expect() {
	if wait_for "$2"; then pass; else
		fail "$size $1: the screen lacks '$2'"
		settled | sed 's/^/    | /'
	fi
}
# shot NAME: compare the settled screen with tests/cli/tui-screens/NAME-WxH.txt
shot() {
	local want=$SCREENS/$1-$size.txt
	settled > "$T/shot"
	if [ "${CR_TUI_SCREENS:-}" = update ]; then mkdir -p "$SCREENS"; cp "$T/shot" "$want"; pass; return; fi
	if [ ! -f "$want" ]; then fail "$size: no screenshot $want"; return; fi
	if cmp -s "$T/shot" "$want"; then pass; else
		fail "$size: the $1 screen differs from $(basename "$want")"
		diff "$want" "$T/shot" | head -20 | sed 's/^/    /'
	fi
}
# start W H ARGS...: run the TUI in a new tmux session, from $T/sets
start() {
	local w=$1 h=$2; shift 2
	size=${w}x$h
	rm -f "$T/status" "$T/stty.before" "$T/stty.after" "$T/trace"
	{
		echo "cd '$T/sets' || exit"
		echo "stty -g > '$T/stty.before'"
		[ -n "${TUI_ENV:-}" ] && printf 'export %s; ' "$TUI_ENV"
		printf '%q ' "$INSPECT" tui "$@" --trace-keys "$T/trace"
		echo "2> '$T/stderr'"
		echo "echo \$? > '$T/status.tmp'; mv '$T/status.tmp' '$T/status'"
		echo "stty -g > '$T/stty.after'"
		echo "echo SHELL-AFTER-TUI; sleep 600"
	} > "$T/run.sh"
	local old=$sess
	sess=tui$((++nsess))
	tm new-session -d -s "$sess" -x "$w" -y "$h" "bash '$T/run.sh'"
	[ -n "$old" ] && tm kill-session -t "$old"
	wait_for "cr-inspect tui" || fail "$size: the TUI did not start"
}
# quit: q, the status is 0, the terminal modes are as before, nothing on stderr
quit() {
	local i
	keys q
	for ((i = 0; i < 100; i++)); do [ -f "$T/status" ] && break; sleep 0.05; done
	check "$size: q exits with status 0" test "$(cat "$T/status" 2> /dev/null)" = 0
	wait_for SHELL-AFTER-TUI
	check "$size: the terminal modes are restored" cmp -s "$T/stty.before" "$T/stty.after"
	check "$size: the shell's screen is back after quitting" wait_for SHELL-AFTER-TUI
	if [ -s "$T/stderr" ]; then fail "$size: stderr is not empty"; sed 's/^/    /' "$T/stderr" | head -20; else pass; fi
}
# keys_in_budget: every key took less than the budget
keys_in_budget() {
	local worst
	worst=$(awk '$1 == "key" && $3 > m { m = $3; k = $2 } END { printf "%.1f %s", m, k }' "$T/trace")
	echo "  ($size $1: slowest key ${worst#* } took ${worst%% *} ms, budget $budget ms; $(grep -c '^key' "$T/trace") keys)"
	check "$size $1: no key over $budget ms (slowest: $worst)" \
		awk -v b="$budget" '$1 == "key" && $3 > b { bad = 1 } END { exit bad }' "$T/trace"
}

# What the other commands say, to check the screens against.
"$INSPECT" threads "$M" --pid 1 -j > "$T/threads.json"
reg() { # reg TID NAME: the register as the TUI prints it (0x%016x)
	python3 -c 'import json,sys
for t in json.load(open(sys.argv[1]))[0]["threads"]:
    if t["tid"] == int(sys.argv[2]): print("0x%016x" % int(t["regs"][sys.argv[3]], 16))' "$T/threads.json" "$1" "$2"
}
secret=$("$INSPECT" search "$M" CRSUBJ-SECRET --pid 1 --vma heap | grep -m1 -oE '0x[0-9a-f]+' | head -1)
shared=$("$INSPECT" search "$M" shared-anon-region --pid 1 --vma shared | grep -m1 -oE '0x[0-9a-f]+' | head -1)
w2_r15=$(reg 4 r15) w2_ip=$(reg 4 ip)

for size in 80x24 200x60; do
	start "${size%x*}" "${size#*x}" multi
	expect "first screen" "image set multi"
	expect "first screen" "1 crsubj-multi"
	shot first

	# the help, and back
	keys '?'
	expect help "help: keys (q quits"
	expect help "k j  Up Down"
	shot help
	keys Escape
	expect "help closed" "image set multi"

	# walk to pid 1's thread worker-2: processes, 1 crsubj-multi (open), threads (open), the third thread
	keys j j l j l j j j
	expect "thread walk" "threads (4) > 4 worker-2"
	expect "worker-2 detail" "thread 4 worker-2 of pid 1 crsubj-multi"
	expect "worker-2 registers" "registers (x86_64)"
	expect "worker-2 r15" "r15        $w2_r15"
	shot worker2
	# the rest of the registers are a screen down in the view
	keys Tab
	keys /
	expect "search prompt" "search (text, Tab: kind):"
	text " ip "; keys Enter
	expect "worker-2 ip" "ip         $w2_ip"
	# Enter on a register that points into memory: the memory view at that address
	keys Enter
	expect "register followed" "memory of pid 1 crsubj-multi"
	expect "register followed" "pid 1  $(printf '0x%x' "$w2_ip")"
	keys BSpace
	expect "back from memory" "ip         $w2_ip"

	# pid 1's heap: find the mapping in the tree, Enter opens its pages, / finds the secret
	keys Tab /; text "[heap]"; keys Enter
	expect "heap in the tree" "> maps (31) > 562849058000 rw- [heap]"
	keys Enter
	expect "heap pages" "-- 562849058000-562849079000 rw-p heap [heap]"
	keys /; text CRSUBJ-SECRET; keys Enter
	expect "secret found" "pid 1  $secret  [heap]+0x330 rw-p  present"
	expect "secret shown" "CRSUBJ-SECRET=co"
	shot secret

	# fd 12: a regular expression search in the tree, then Enter follows it to the file entry
	keys Tab / Tab Tab
	expect "regex prompt" "search the tree (regex, Tab: kind):"
	text "^12 "; keys Enter
	expect "fd 12 in the tree" "> fds (20) > 12 TCP LISTEN 127.0.0.1:47001"
	keys Enter
	expect "fd 12 followed" "file 17 INETSK"
	expect "fd 12 followed" "protocol   TCP"
	expect "fd 12 followed" "state      LISTEN"
	expect "fd 12 followed" "local      127.0.0.1 port 47001"
	shot fd12
	keys BSpace
	expect "back to fd 12" "fd 12 of pid 1 crsubj-multi"

	# g: an address in another page shows that page; m marks it, ' lists the mark
	keys g
	expect "goto prompt" "go to address in pid 1:"
	text "$shared"; keys Enter
	expect "goto" "pid 1  $shared"
	expect "goto shows the page" "shared-anon-regi"
	keys m
	expect "mark prompt" "note for pid 1 $shared:"
	text "shared region"; keys Enter
	expect "marked" "marked pid 1 $shared"
	keys "'"
	expect "marks" "1 mark"
	expect "marks" "pid 1  $shared  shared region  /dev/zero"
	keys Enter
	expect "mark followed" "pid 1  $shared"
	expect "marked row" "$(printf '%012x' $((shared & ~15)))*P"

	# resizing while the TUI runs: too small says so, and it comes back (after the screenshots:
	# where a list scrolled to depends on the sizes the TUI saw on the way)
	tm resize-window -t "$sess" -x 50 -y 10
	expect "too small" "terminal too small: 50x10"
	tm resize-window -t "$sess" -x 130 -y 45
	expect "resized" "pid 1  $shared"
	tm resize-window -t "$sess" -x "${size%x*}" -y "${size#*x}"
	sleep 0.2
	expect "resized back" "pid 1  $shared"

	# export: a range asked for, then a selection, to files; compared with mem read
	keys e
	expect "export range prompt" "export ADDR LEN:"
	keys C-u; text "$secret 300"; keys Enter
	expect "export file prompt" "export to file:"
	keys C-u; text "$T/range-$size.bin"; keys Enter
	expect "exported" "wrote 300 bytes from $secret"
	"$INSPECT" mem read "$M" --pid 1 "$secret" 300 -o "$T/ref.bin"
	check "$size: the exported range is what mem read writes" cmp "$T/range-$size.bin" "$T/ref.bin"
	keys e C-u; text "$secret 300"; keys Enter C-u; text "$T/range-$size.json"; keys Enter
	expect "exported json" "wrote 300 bytes from $secret"
	"$INSPECT" mem read "$M" --pid 1 "$secret" 300 -j > "$T/ref.json"
	check "$size: the JSON export is what mem read -j prints" cmp "$T/range-$size.json" "$T/ref.json"
	keys g; text "$secret"; keys Enter v
	expect "selection" "selection started"
	keys j
	tm send-keys -t "$sess" -N 19 l
	expect "selection" "sel $((${size%x*} < 144 ? 36 : 52))"
	keys e C-u; text "$T/sel-$size.bin"; keys Enter
	n=$((${size%x*} < 144 ? 36 : 52))
	expect "selection exported" "wrote $n bytes from $secret"
	"$INSPECT" mem read "$M" --pid 1 "$secret" $n -o "$T/ref.bin"
	check "$size: the exported selection is what mem read writes" cmp "$T/sel-$size.bin" "$T/ref.bin"

	# a raw view: an image as a folded JSON tree, and its export
	keys Tab End Enter
	expect "images" "- images"
	keys /; text core-1.img; keys Enter Enter
	expect "raw view" '"magic": "CORE"'
	keys e C-u; text "$T/core-$size.json"; keys Enter
	expect "raw exported" "wrote $T/core-$size.json"
	"$INSPECT" decode --pretty -i "$M/core-1.img" > "$T/core-ref.json"
	check "$size: the exported image is decode --pretty's JSON" \
		python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
		"$T/core-$size.json" "$T/core-ref.json"
	quit
	keys_in_budget multi
done

# The mouse, as a terminal reports it (X10 encoding: ESC [ M, button+32, column+33, row+33):
# a click selects a tree row, a double click opens it, the wheel scrolls the view under the pointer.
mouse() { tm send-keys -t "$sess" -H 1b 5b 4d $(printf '%x %x %x' $((32 + $1)) $((33 + $2)) $((33 + $3))); }
start 120 40 multi
expect "mouse" "1 crsubj-multi"
mouse 0 6 3; mouse 3 6 3
expect "mouse click selects" " processes (2) > 1 crsubj-multi"
sleep 0.5
mouse 0 6 3; mouse 3 6 3; mouse 0 6 3; mouse 3 6 3
expect "mouse double click opens" "- 1 crsubj-multi"
keys Tab
expect "view focused" "line 1/"
mouse 65 60 10
expect "wheel scrolls the view" "line 4/"
quit
keys_in_budget mouse

# The 4000-mapping set opens at once and every key stays in budget: its maps, the
# memory view from end to end, a search across its memory.
start 200 60 manyvmas
expect "manyvmas" "1 crsubj-vmas"
keys j j l j j
expect "manyvmas maps" "> maps (8022)"
keys l j Enter
expect "manyvmas memory" "memory of pid 1 crsubj-vmas"
keys Home End PPage PPage NPage ']' '[' /; text "vma 3999"; keys Enter
expect "manyvmas search" "vma 3999........"
keys s; text "vma 2000"; keys Enter
expect "manyvmas search all" "1 match of text 'vma 2000' in memory"
keys Enter
expect "manyvmas match followed" "vma 2000........"
quit
keys_in_budget manyvmas
awk '$1 == "open" { printf "  (manyvmas: open and first screen %.1f ms)\n", $2 }' "$T/trace"

# bigmem16: a search through 16 MiB, n and N
start 120 40 bigmem16
keys x
expect "bigmem16 memory" "memory of pid 1"
keys /; text "CRPAGE 4000 of"; keys Enter
expect "bigmem16 search" "CRPAGE 4000 of 4"
keys n
expect "bigmem16 wrapped" "search wrapped"
keys N
expect "bigmem16 N" "CRPAGE 4000 of 4"
quit
keys_in_budget bigmem16

# Colours: the page states have theirs on a terminal that has colours, none with NO_COLOR
# (capture-pane -e keeps the attributes: SGR 30-37 are foreground colours).
colours() { tm capture-pane -t "$sess" -p -e | grep -cE $'\e\\[([0-9;]*;)?3[0-7](;[0-9;]*)?m'; }
for nc in "" 1; do
	TUI_ENV=${nc:+NO_COLOR=1} start 100 30 multi
	keys x
	expect "memory for colours" "memory of pid 1"
	sleep 0.2
	if [ -n "$nc" ]; then
		check "NO_COLOR: no colours" test "$(colours)" -eq 0
	else
		check "colours on a colour terminal" test "$(colours)" -gt 0
	fi
	quit
done

# Diff mode: two sets the project's writer made from one another with known changes
# (imggen --diff-pair writes them and changes.json, the records cr-diff must report).
# The TUI lists exactly those, c visits exactly the tree items they are on, and the
# changed memory shows side by side with exactly the rows that differ.
if [ -x "$IMGGEN" ]; then
	"$IMGGEN" --diff-pair "$TESTDATA/sample/tiny" "$T/sets/pair" > "$T/gen.err" 2>&1 || fail "imggen --diff-pair: $(cat "$T/gen.err")"
	start 200 60 pair/a pair/b
	expect "diff title" "cr-inspect tui  a  vs  b"
	keys j
	expect "changes" "6 changes from a (A) to b (B)"
	settled > "$T/changes.txt"
	shot diff-changes
	python3 - "$T/changes.txt" "$T/sets/pair/changes.json" <<'PY' && pass || fail "the changes listed are not the changes made"
import json, re, sys
ops = {"~": "changed", "+": "added", "-": "removed"}
got = set()
for line in open(sys.argv[1]):
    m = re.search(r"> ([~+-]) (\w+) +(\S+) (\S+?): ", line)
    if m:
        got.add((m.group(2), m.group(3), m.group(4), ops[m.group(1)]))
want = {(c["category"], c["task"], c["path"], c["op"]) for c in json.load(open(sys.argv[2]))}
if got != want:
    print("    listed:", sorted(got)); print("    made:  ", sorted(want)); sys.exit(1)
PY
	# c: every changed item once, then round again
	: > "$T/visited"
	for ((i = 0; i < 20; i++)); do
		keys c
		sleep 0.1
		st=$(settled | tail -2 | head -1 | sed 's/^ *//; s/ *$//')
		grep -qxF -- "$st" "$T/visited" && break
		echo "$st" >> "$T/visited"
	done
	"$INSPECT" maps "$T/sets/pair/a" --pid 1 -j > "$T/maps.json"
	python3 - "$T/visited" "$T/sets/pair/changes.json" "$T/maps.json" <<'PY' && pass || fail "c does not visit exactly the changed items"
import json, re, sys
visited = [l.strip() for l in open(sys.argv[1]) if l.strip()]
maps = [int(m["start"], 16) for m in json.load(open(sys.argv[3]))[0]["maps"]]
ends = [int(m["end"], 16) for m in json.load(open(sys.argv[3]))[0]["maps"]]
want = set()
for c in json.load(open(sys.argv[2])):
    p = c["path"]
    if p.startswith("threads["): want.add(("thread", int(p[8:p.index("]")])))
    elif p.startswith("core."): want.add(("thread", 1))
    elif p.startswith("mm.vmas["): want.add(("vma", maps[int(p[8:p.index("]")])]))
    elif p.startswith("memory["):
        a = int(p[7:p.index("-")], 16)
        want.add(("vma", [s for s, e in zip(maps, ends) if s <= a < e][0]))
    elif p.startswith("fd["): want.add(("fd", int(p[3:p.index("]")])))
    else: want.add(("?", p))
got = set()
for v in visited:
    m = re.search(r"> threads \(\d+\) > (\d+) ", v) or None
    if m: got.add(("thread", int(m.group(1)))); continue
    m = re.search(r"> maps \(\d+\) > ([0-9a-f]+) ", v)
    if m: got.add(("vma", int(m.group(1), 16))); continue
    m = re.search(r"> fds \(\d+\) > (\d+) ", v)
    if m: got.add(("fd", int(m.group(1)))); continue
    got.add(("?", v))
if got != want or len(visited) != len(want):
    print("    visited:", visited); print("    want:", sorted(want)); sys.exit(1)
PY
	expect "thread only in B" "+        2 diff-thread"
	expect "socket only in A" "-        252 UDP 127.0.0.1:47999"
	# the memory record: its pages side by side; c goes from one row that differs to the next
	keys Home j
	expect "changes again" "6 changes from a (A) to b (B)"
	keys Tab /
	text "memory["
	keys Enter Enter
	expect "memdiff" "changed memory of 1 subject_tiny: 1 range"
	shot diff-memory
	: > "$T/rows"
	for ((i = 0; i < 40; i++)); do
		keys c
		sleep 0.05
		a=$(settled | grep -oE 'A 0x[0-9a-f]+' | head -1)
		grep -qxF -- "$a" "$T/rows" && break
		echo "$a" >> "$T/rows"
	done
	check "memdiff: c visits the 17 rows that differ" test "$(wc -l < "$T/rows")" -eq 17
	keys Home c
	expect "memdiff: the row differs" "200000000060* "
	quit
	keys_in_budget diff-pair
else
	echo "SKIP [$test_name]: no imggen at $IMGGEN (make check builds it): diff mode with known changes"
fi
# multi and multi-ns: the namespaces that differ
start 120 40 multi multi-ns
expect "multi vs multi-ns" "cr-inspect tui  multi  vs  multi-ns"
keys End k l
expect "ns removed" "-    uts 4 (root)"
expect "ns added" "+    uts 11"
quit
keys_in_budget multi-ns

# ^C: the terminal is restored and the status says the signal (128 + 2)
start 80 24 multi
keys x
expect "memory before ^C" "memory of pid 1"
keys C-c
for ((i = 0; i < 100; i++)); do [ -f "$T/status" ] && break; sleep 0.05; done
check "^C exits with status 130" test "$(cat "$T/status" 2> /dev/null)" = 130
wait_for SHELL-AFTER-TUI
check "^C: the terminal modes are restored" cmp -s "$T/stty.before" "$T/stty.after"

# a terminal that cannot move the cursor: a clear error, status 2
tm new-session -d -s dumb -x 80 -y 24 "TERM=dumb '$INSPECT' tui '$M' 2> '$T/dumb.err'; echo \$? > '$T/dumb.st'; sleep 600"
for ((i = 0; i < 100; i++)); do [ -s "$T/dumb.st" ] && break; sleep 0.05; done
check "TERM=dumb exits 2" test "$(cat "$T/dumb.st" 2> /dev/null)" = 2
check "TERM=dumb says why" grep -q "cannot move the cursor" "$T/dumb.err"
tm kill-server 2> /dev/null
finish
