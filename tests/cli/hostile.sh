#!/bin/bash
# The hostile inputs of tests/hostile/ (INDEX says what each attacks; make.py
# made them): each, through the command its INDEX line names, exits 2 with a
# message that names the input and says what is wrong (the INDEX's words),
# with no crash (make asan runs this under ASan and UBSan) and little memory.
. "$(dirname "$0")/../lib.sh"
dir=$top/tests/hostile
sample=$TESTDATA/sample/tiny
rss_cap=262144  # KiB: what a tool may use on these small inputs (the budget's fixed part and room)
case $BUILD in *asan*) rss_cap=0 ;; esac  # shadow memory: not measured there
have_time=0
[ -x /usr/bin/time ] && have_time=1
n=0
while IFS='|' read -r name cmd expect what; do
	name=$(echo "$name" | xargs) expect=$(echo "$expect" | sed 's/^ *//; s/ *$//')
	case $name in ''|'#'*) continue ;; esac
	n=$((n + 1))
	in=$dir/$name
	[ -e "$in" ] || { fail "$name: missing (run tests/hostile/make.py)"; continue; }
	set -- ${cmd//@/$in}
	tool=$1; shift
	[ "$tool" = inspect ] && tool=$INSPECT || tool=$CONVERT
	args=("${@//%SAMPLE%/$sample}")
	if [ $have_time = 1 ]; then
		/usr/bin/time -f '%M' -o "$T/rss" "$tool" "${args[@]}" > "$T/out" 2> "$T/err"; rc=$?
	else
		"$tool" "${args[@]}" > "$T/out" 2> "$T/err"; rc=$?
	fi
	msg=$(grep -av '^Command exited' "$T/err" | head -5)
	# "exit 1:CODE": an input that is read, not refused (check reports it with CODE; explain explains it)
	want=2
	case $expect in "exit 1:"*) want=1 expect=${expect#exit 1:} ;; esac
	if [ $rc -ne $want ]; then
		fail "$name ($what): exit $rc (want $want): $msg"
		continue
	fi
	out=$T/err
	[ $want = 1 ] && out=$T/out
	# a refusal names the input: the file, or in a folder the image it is about
	if [ $want = 2 ] && ! grep -aqF -- "$name" "$T/err" && ! { [ -d "$in" ] && grep -aq "'[^']*\.img'" "$T/err"; }; then
		fail "$name: the message does not name it: $msg"
		continue
	fi
	grep -aqF -- "$expect" "$out" && pass || fail "$name ($what): the output does not say '$expect': $(head -c 600 "$out")"
	if [ $have_time = 1 ] && [ $rss_cap -gt 0 ]; then
		rss=$(tail -1 "$T/rss")
		[ "${rss:-0}" -le $rss_cap ] && pass || fail "$name: $rss KiB of memory (at most $rss_cap)"
	fi
	[ -n "${HOSTILE_SHOW:-}" ] && echo "  $name: $(head -1 "$T/err")"
done < "$dir/INDEX"
[ $n -ge 40 ] && pass || fail "only $n hostile inputs"
finish
