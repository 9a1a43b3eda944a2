# testdata/images through crit: where crit prints something else, the reason
# is a row of testdata/crit-differences and the row's rule holds; everything
# else decodes to the same JSON as cr-inspect's (with a CRIU 4.2 crit).
# CR_CRIT names the crit to use (a CRIU 4.2 one checks every image).
. "$(dirname "$0")/../lib.sh"
CRIT=${CR_CRIT:-crit}
need_cmd "$CRIT" python3
IMAGES=$TESTDATA/images
EXPECTED=$TESTDATA/expected
full=0
if "$CRIT" --version 2> /dev/null | grep -q '^4\.2'; then full=1
else echo "NOTE [$test_name]: $CRIT is not CRIU 4.2's crit: only the rows of testdata/crit-differences are checked"; fi

# JSON as crit prints it, from a cr-inspect golden with our additions taken out
strip_ours() { # FILE INDENT: drop "_head" and every "_unknown"
	python3 - "$1" "$2" <<'PY'
import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in ("_unknown", "_head")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
d = strip(json.load(open(sys.argv[1])))
ind = int(sys.argv[2])
sys.stdout.write(json.dumps(d, indent=ind if ind else None) + "\n")
PY
}
rule_of() {
	local rel=$1 pat rule why
	while read -r pat rule why; do
		case $pat in ''|'#'*) continue;; esac
		# shellcheck disable=SC2254
		case $rel in $pat) echo "$rule"; return;; esac
	done < "$TESTDATA/crit-differences"
	echo same
}
crit_decode() { "$CRIT" decode "$@" 2> "$T/crit.err"; }

while read -r img; do
	rel=${img#"$IMAGES"/}
	exp=$EXPECTED/${rel%.img}
	rule=$(rule_of "$rel")
	case $rule in
	same|same-as-crit)
		[ $full = 1 ] || continue
		crit_decode -i "$img" > "$T/c.json" && cmp -s "$T/c.json" "$exp.json" &&
			crit_decode --pretty -i "$img" > "$T/c.pretty.json" && cmp -s "$T/c.pretty.json" "$exp.pretty.json" &&
			pass || fail "$rel: crit decodes it differently, and testdata/crit-differences does not say why"
		;;
	no-handler)
		# an older crit may not know the magic at all
		crit_decode -i "$img" > /dev/null
		[ $? -ne 0 ] && grep -q "No handler\|Unknown magic" "$T/crit.err" && pass || fail "$rel: crit has a handler now"
		;;
	raw)
		if crit_decode -i "$img" > /dev/null; then fail "$rel: crit decodes a raw image"; else pass; fi
		;;
	old-pages)
		if crit_decode -i "$img" > "$T/c.json" && ! grep -q '"magic": "PAGEMAP"' "$T/c.json"; then
			fail "$rel: crit reads pre-0.5 pages as something other than a pagemap"
		else pass; fi
		grep -q '"magic": "PAGES_OLD"\|"magic": "SHM_PAGES_OLD"' "$exp.json" && pass || fail "$rel: cr-inspect does not say PAGES_OLD"
		;;
	shm-in-pagemaps)
		crit_decode -i "$img" > "$T/c.json" || { fail "$rel: crit fails"; continue; }
		python3 - "$T/c.json" "$exp.json" <<'PY' && pass || fail "$rel: crit no longer misreads SysV shm in the pagemaps"
import json, sys
crit, ours = json.load(open(sys.argv[1]))["entries"], json.load(open(sys.argv[2]))["entries"]
# ours: every segment, none with bytes after it; crit: fewer entries, the first with "extra"
assert all(e.get("in_pagemaps") and "extra" not in e for e in ours), ours
assert len(crit) < len(ours) and "extra" in crit[0], crit
PY
		;;
	no-head)
		"$CRIT" decode -i "$img" 2> /dev/null | "$CRIT" encode -o "$T/c.img" 2> /dev/null
		{ printf '\x19\x43\x56\x54'; cat "$img"; } > "$T/with-head.img"
		cmp -s "$T/c.img" "$T/with-head.img" && pass || fail "$rel: crit encode no longer adds a head magic"
		grep -q '"_head": "none"' "$exp.json" && pass || fail "$rel: cr-inspect does not say \"_head\": \"none\""
		if [ $full = 1 ]; then
			crit_decode -i "$img" > "$T/c.json" && strip_ours "$exp.json" 0 | cmp -s - "$T/c.json" &&
				pass || fail "$rel: crit differs by more than the head"
		fi
		;;
	unknown-fields)
		"$CRIT" decode -i "$img" 2> /dev/null | "$CRIT" encode -o "$T/c.img" 2> /dev/null
		[ "$(stat -c %s "$T/c.img" 2> /dev/null || echo 0)" -lt "$(stat -c %s "$img")" ] && pass ||
			fail "$rel: crit keeps what its schema does not know"
		grep -q '"_unknown"' "$exp.json" && pass || fail "$rel: cr-inspect has no \"_unknown\""
		if [ $full = 1 ]; then
			crit_decode -i "$img" > "$T/c.json" && strip_ours "$exp.json" 0 | cmp -s - "$T/c.json" &&
				crit_decode --pretty -i "$img" > "$T/c.json" && strip_ours "$exp.pretty.json" 4 | cmp -s - "$T/c.json" &&
				pass || fail "$rel: crit differs by more than the unknown fields"
		fi
		;;
	*) fail "$rel: unknown rule '$rule' in testdata/crit-differences";;
	esac
done < <(find "$IMAGES" -type f | LC_ALL=C sort)
finish
