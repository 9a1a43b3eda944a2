# Shared helpers for the CLI tests (sourced by tests/cli/*.sh).
#
# Tools come from $CR_INSPECT, $CR_CONVERT, $CR_DIFF (make check sets them, so
# that the sanitizer build tests its own binaries); the corpus from $CR_CORPUS
# or ../shared/corpus.  A test that needs the corpus calls need_corpus, which
# records the skip and ends the test when there is none.
set -u
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
INSPECT=${CR_INSPECT:-$top/cr-inspect/cr-inspect}
CONVERT=${CR_CONVERT:-$top/cr-convert/cr-convert}
DIFF=${CR_DIFF:-$top/cr-diff/cr-diff}
BUILD=${CR_BUILD:-$top/build}
IMGGEN=${CR_IMGGEN:-$BUILD/testdata/gen/imggen}
if [ -n "${CR_CORPUS:-}" ]; then CORPUS=$CR_CORPUS; else CORPUS=$top/../shared/corpus; fi
SETS=$CORPUS/criu-4.2
TESTDATA=$top/testdata
T=$(mktemp -d "${TMPDIR:-/tmp}/crt.XXXXXX")
trap 'rm -rf "$T"' EXIT
test_name=$(basename "$0" .sh)
npass=0 nfail=0

pass() { npass=$((npass + 1)); }
fail() { nfail=$((nfail + 1)); echo "FAIL [$test_name]: $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { local d=$1; shift; if "$@"; then pass; else fail "$d"; fi; }
have_corpus() { [ -d "$SETS" ]; }
need_corpus() {
	if ! have_corpus; then
		echo "SKIP [$test_name]: no corpus at $CORPUS (set CR_CORPUS)"
		echo "$test_name" >> "${CR_SKIPPED:-/dev/null}"
		finish
	fi
}
need_cmd() {
	for c in "$@"; do
		if ! command -v "$c" > /dev/null; then
			echo "SKIP [$test_name]: $c is not installed"
			echo "$test_name ($c missing)" >> "${CR_SKIPPED:-/dev/null}"
			finish
		fi
	done
}
corpus_sets() { for s in "$SETS"/*/; do s=${s%/}; case $s in *.expected) ;; *) echo "$s";; esac; done; }
# the images of a set that have entries (all but raw pages), and stats-dump
decodable() { for f in "$1"/*.img "$1"/stats-dump; do [ -e "$f" ] || continue; case $(basename "$f") in pages-*) ;; *) echo "$f";; esac; done; }
finish() {
	echo "$test_name: $npass passed, $nfail failed"
	[ "$nfail" -eq 0 ] && exit 0 || exit 1
}
