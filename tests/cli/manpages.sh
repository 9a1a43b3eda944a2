# Every command and every option that a tool's --help lists is in its man page.
. "$(dirname "$0")/../lib.sh"
need_cmd man
man_text() { MANWIDTH=200 man -l "$1" 2>/dev/null | col -b; }
for tool in cr-inspect cr-convert cr-diff; do
	bin=$top/$tool/$tool
	case $tool in cr-inspect) bin=$INSPECT;; cr-convert) bin=$CONVERT;; cr-diff) bin=$DIFF;; esac
	page=$top/man/$tool.1
	[ -f "$page" ] || { fail "no man page for $tool"; continue; }
	man_text "$page" > "$T/man.txt"
	[ -s "$T/man.txt" ] || { fail "man cannot render $page"; continue; }
	"$bin" --help > "$T/help.txt" 2>&1
	cmds=$(sed -n '/^commands:/,/^$/p' "$T/help.txt" | awk 'NF && $1 != "commands:" {print $1}')
	for c in "" $cmds; do
		if [ -n "$c" ]; then
			grep -qE "^ *$c( |$)" "$T/man.txt" && pass || fail "$tool.1 has no section for the command '$c'"
			"$bin" "$c" --help > "$T/h.txt" 2>&1
		else
			cp "$T/help.txt" "$T/h.txt"
		fi
		for o in $(grep -oE '(^|[ ,\[])--?[A-Za-z][-A-Za-z0-9]*' "$T/h.txt" | sed 's/^[ ,\[]//' | sort -u); do
			grep -qF -- "$o" "$T/man.txt" && pass || fail "$tool.1 does not describe ${c:+$c }$o"
		done
	done
done
finish
