# The generated test images (testdata/images, see testdata/README.md):
# - the generator writes them again byte for byte (it is deterministic, and the
#   committed files are what it makes now);
# - every image decodes to its committed JSON, raw and pretty, and both JSONs
#   encode back to the image byte for byte; raw and opaque images are
#   recognised by name or magic and have their committed info;
# - with the corpus, every image kind in schemas/criu/images.tab has an image
#   in the corpus or here.
. "$(dirname "$0")/../lib.sh"
IMAGES=$TESTDATA/images
EXPECTED=$TESTDATA/expected

if [ -x "$IMGGEN" ]; then
	IMGGEN_DATA=$TESTDATA "$IMGGEN" "$T/gen" > "$T/gen.log" 2>&1 || fail "imggen failed: $(head -c 300 "$T/gen.log")"
	if diff -r --no-dereference "$IMAGES" "$T/gen" > "$T/diff" 2>&1; then pass
	else fail "imggen does not write testdata/images as committed (run testdata/regen): $(head -5 "$T/diff")"; fi
else
	echo "SKIP [$test_name]: no generator at $IMGGEN: regeneration not checked"
	echo "$test_name (imggen not built)" >> "${CR_SKIPPED:-/dev/null}"
fi

# every image against its committed output
n=0
while read -r img; do
	rel=${img#"$IMAGES"/}
	exp=$EXPECTED/${rel%.img}
	n=$((n + 1))
	if [ -f "$exp.info.json" ]; then
		"$INSPECT" info "$img" > "$T/info" 2>&1 && cmp -s "$T/info" "$exp.info.json" ||
			fail "info $rel differs from the committed one"
		"$INSPECT" decode -i "$img" > /dev/null 2> "$T/err"
		[ $? -eq 2 ] && grep -q "no entries to decode" "$T/err" && pass ||
			fail "decode of raw $rel: $(cat "$T/err")"
		continue
	fi
	[ -f "$exp.json" ] || { fail "no committed JSON for $rel (run testdata/regen)"; continue; }
	"$INSPECT" decode -i "$img" > "$T/raw.json" 2> "$T/err" && cmp -s "$T/raw.json" "$exp.json" ||
		fail "decode $rel differs from ${exp#"$TESTDATA"/}.json: $(head -c 200 "$T/err")"
	"$INSPECT" decode --pretty -i "$img" > "$T/pretty.json" 2> "$T/err" && cmp -s "$T/pretty.json" "$exp.pretty.json" ||
		fail "decode --pretty $rel differs from ${exp#"$TESTDATA"/}.pretty.json"
	pass
	# linux-cr streams: their JSON is not crit's and has no encoder; they are written
	# back from the decoded records instead (tests/unit/test_linuxcr_stream.c)
	case $rel in linuxcr/*) continue;; esac
	for j in "$exp.json" "$exp.pretty.json"; do
		"$CONVERT" encode -i "$j" -o "$T/enc.img" 2> "$T/err" && cmp -s "$T/enc.img" "$img" ||
			fail "encode of ${j#"$TESTDATA"/} is not $rel: $(head -c 300 "$T/err")"
		pass
	done
	# and straight from the decoder, through a pipe, where no file name helps:
	# the sets without head magics and with unknown fields (not the pre-0.5
	# pages-N.img: they share the pagemap's magic, and only a name tells them apart)
	case $rel in */pages-*) continue;; v1/*|odd/*) ;; *) continue;; esac
	"$INSPECT" decode --pretty < "$img" | "$CONVERT" encode > "$T/pipe.img" && cmp -s "$T/pipe.img" "$img" ||
		fail "decode --pretty | encode is not $rel"
done < <(find "$IMAGES" -type f | LC_ALL=C sort)
[ "$n" -gt 100 ] && pass || fail "only $n images under testdata/images"

# the newer schema the odd/ images were written with names all they hold
for f in inventory.img fdinfo-1.img files.img timens-5.img; do
	"$INSPECT" decode --schema-dir "$TESTDATA/schema-next" -i "$IMAGES/odd/$f" > "$T/next.json" 2> "$T/err" &&
		! grep -q _unknown "$T/next.json" && pass || fail "odd/$f with schema-next: $(head -c 200 "$T/err" "$T/next.json")"
done

# no committed output without its image
while read -r j; do
	rel=${j#"$EXPECTED"/}
	base=${rel%.pretty.json}; base=${base%.info.json}; base=${base%.json}
	[ -f "$IMAGES/$base.img" ] || [ -f "$IMAGES/$base" ] || fail "stale $rel: no image $base"
done < <(find "$EXPECTED" -type f)

# every kind has an image: here, or in the corpus
kinds() { for f in "$@"; do "$INSPECT" info --entries -j "$f" 2> /dev/null | grep -o '"kind": "[A-Z0-9_]*"'; done; }
all=$(awk '!/^#/ && !/^@/ && NF == 8 { print $1 }' "$top/schemas/criu/images.tab" | sort -u)
have=$(kinds $(find "$IMAGES" -type f) | sort -u | sed 's/.*: "//; s/"//')
missing=$(comm -23 <(echo "$all") <(echo "$have"))
if have_corpus; then
	corpus=$(kinds $(find "$SETS" -maxdepth 2 -type f \( -name '*.img' -o -name 'stats-*' \)) | sort -u | sed 's/.*: "//; s/"//')
	missing=$(comm -23 <(echo "$missing") <(echo "$corpus"))
	[ -z "$missing" ] && pass || fail "image kinds with no image in the corpus or testdata: $(echo $missing)"
else
	echo "SKIP [$test_name]: no corpus: kinds only in the corpus not checked ($(echo $missing | wc -w) of them)"
fi
finish
