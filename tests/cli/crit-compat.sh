# decode, decode --pretty and encode agree byte for byte with CRIU 4.2's crit on every corpus image.
. "$(dirname "$0")/../lib.sh"
need_corpus
for set in $(corpus_sets); do
	name=$(basename "$set")
	for img in $(decodable "$set"); do
		b=$(basename "$img" .img)
		exp=$SETS/$name.expected/crit/$b
		[ -f "$exp.json" ] || { fail "no crit output for $name/$b"; continue; }
		"$INSPECT" decode -i "$img" > "$T/raw.json" 2> "$T/err" && cmp -s "$T/raw.json" "$exp.json" ||
			fail "decode $name/$b differs from crit: $(head -c 300 "$T/err")"
		pass
		"$INSPECT" decode --pretty -i "$img" > "$T/pretty.json" && cmp -s "$T/pretty.json" "$exp.pretty.json" ||
			fail "decode --pretty $name/$b differs from crit"
		pass
		# show is decode --pretty
		"$INSPECT" show "$img" | cmp -s - "$exp.pretty.json" || fail "show $name/$b differs from crit decode --pretty"
		for j in "$exp.json" "$exp.pretty.json"; do
			"$CONVERT" encode -i "$j" -o "$T/enc.img" 2> "$T/err" && cmp -s "$T/enc.img" "$img" ||
				fail "encode $(basename "$j") is not $name/$b: $(head -c 300 "$T/err")"
			pass
		done
		# stdin and stdout work as crit's do
		"$INSPECT" decode < "$img" | "$CONVERT" encode > "$T/pipe.img" && cmp -s "$T/pipe.img" "$img" ||
			fail "decode | encode through pipes is not $name/$b"
	done
done
# crit info: magic and count
img=$SETS/multi/pagemap-1.img
"$INSPECT" info "$img" > "$T/info" && grep -q '"magic": "PAGEMAP"' "$T/info" && grep -q '"count": 14' "$T/info" ||
	fail "info of multi/pagemap-1.img: $(tr -d '\n' < "$T/info")"
# decode -o writes the file without the final newline, as crit does
"$INSPECT" decode -i "$SETS/tiny/pstree.img" -o "$T/out.json" && [ "$(tail -c 1 "$T/out.json" | od -An -c | tr -d ' ')" = "}" ] ||
	fail "decode -o ends the file differently from crit"
finish
