# Container checkpoint archives: a tar and a tar.gz of an image set in the
# Podman layout give the same answers as the folder; pack and unpack round
# trips are byte for byte; hostile archives (made here with python's tarfile,
# gzip and by hand) are refused with exit 2 and a message naming the archive,
# the member and its offset, by the readers and by unpack alike.
. "$(dirname "$0")/../lib.sh"
need_cmd python3 tar gzip

# --- hostile archives -------------------------------------------------------
mkdir -p "$T/h" "$T/victim"
python3 - "$T/h" "$T/victim" <<'PY'
import gzip, io, os, sys, tarfile, zlib
out, victim = sys.argv[1], sys.argv[2]
cases = []

def ti(name, type=tarfile.REGTYPE, size=0, link=""):
    t = tarfile.TarInfo(name); t.type = type; t.size = size; t.linkname = link; t.mode = 0o644
    return t

def tar(members, fmt=tarfile.GNU_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for m, data in members:
            t.addfile(m, io.BytesIO(data) if data else None)
    return b.getvalue()

def case(file, data, want, offset=True):
    open(os.path.join(out, file), "wb").write(data)
    cases.append((file, want, "offset" if offset else "-"))

inv = (ti("checkpoint/inventory.img", size=4), b"\x00" * 4)
# names
case("dotdot.tar", tar([inv, (ti("checkpoint/../../victim/x", size=3), b"abc")]), "contains '..'")
case("absolute.tar", tar([inv, (ti(victim + "/x", size=3), b"abc")]), "an absolute name")
# links
case("ckpt-symlink-etc.tar", tar([(ti("checkpoint", tarfile.SYMTYPE, link="/etc"), None)]), "points out of the archive")
case("ckpt-symlink-inside.tar", tar([(ti("images/inventory.img", size=4), b"\0" * 4),
                                     (ti("checkpoint", tarfile.SYMTYPE, link="images"), None)]), "not a folder")
case("symlink-out.tar", tar([inv, (ti("checkpoint/core-1.img", tarfile.SYMTYPE, link="../../victim/x"), None)]),
     "points out of the archive")
case("under-symlink.tar", tar([inv, (ti("checkpoint/sub", tarfile.SYMTYPE, link="."), None),
                               (ti("checkpoint/sub/x", size=3), b"abc")]), "lies under")
case("under-file.tar", tar([inv, (ti("checkpoint/core-1.img", size=3), b"abc"), (ti("checkpoint/core-1.img/x", size=3), b"abc")]),
     "lies under")
case("hardlink-out.tar", tar([inv, (ti("checkpoint/core-1.img", tarfile.LNKTYPE, link="/etc/passwd"), None)]),
     "points out of the archive")
case("hardlink-missing.tar", tar([inv, (ti("checkpoint/core-1.img", tarfile.LNKTYPE, link="checkpoint/nope"), None)]),
     "not an earlier file")
# member types
case("chardev.tar", tar([inv, (ti("checkpoint/null", tarfile.CHRTYPE), None)]), "character device")
case("blockdev.tar", tar([inv, (ti("checkpoint/sda", tarfile.BLKTYPE), None)]), "block device")
case("fifo.tar", tar([inv, (ti("checkpoint/fifo", tarfile.FIFOTYPE), None)]), "FIFO")
case("duplicate.tar.gz", gzip.compress(tar([inv, inv])), "a second member")
# sizes and framing
# the second member's header is at H, after inventory.img's header and data block
H = 1024
def resum(d):
    d[H + 148:H + 156] = b" " * 8; d[H + 148:H + 156] = b"%06o\0 " % sum(d[H:H + 512])
good = tar([inv, (ti("checkpoint/pages-1.img", size=8192), b"p" * 8192)], fmt=tarfile.USTAR_FORMAT)
d = bytearray(good); d[H + 124:H + 136] = b"%011o\0" % (1 << 30); resum(d)
case("size-past-end.tar", bytes(d), "past the end")
d = bytearray(good); d[H + 5] ^= 1
case("bad-checksum.tar", bytes(d), "bad header checksum")
case("truncated-header.tar", good[:H + 300], "truncated")
case("truncated-data.tar.gz", gzip.compress(good[:H + 512 + 4000]), "truncated")
case("no-end-marker.tar", good[:H + 512 + 8192], "without its end marker")
d = bytearray(good); d[H + 124:H + 136] = b"\xff" * 12; resum(d)
case("negative-size.tar", bytes(d), "size field is not a number")
d = bytearray(tar([inv, (ti("checkpoint/l", size=5), b"hello")], fmt=tarfile.USTAR_FORMAT)); d[H + 156] = ord("2"); resum(d)
case("symlink-with-data.tar", bytes(d), "bytes of data")
d = bytearray(tar([inv, (ti("checkpoint/s", size=5), b"hello")], fmt=tarfile.USTAR_FORMAT)); d[H + 156] = ord("S"); resum(d)
case("sparse.tar", bytes(d), "sparse")
# extended headers: a chain too long, too many records, too large
def raw(name, type, data):
    h = bytearray(512); h[0:len(name)] = name.encode(); h[100:108] = b"0000644\0"; h[108:124] = b"0000000\0" * 2
    h[124:136] = b"%011o\0" % len(data); h[136:148] = b"00000000000\0"; h[156] = ord(type)
    h[257:265] = b"ustar\x0000"; h[148:156] = b" " * 8; h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h) + data + b"\0" * ((512 - len(data) % 512) % 512)
def rec(k, v):
    body = " %s=%s\n" % (k, v); n = len(body) + 1
    while len(str(n)) + len(body) != n: n += 1
    return (str(n) + body).encode()
end = b"\0" * 1024
member = raw("checkpoint/core-1.img", "0", b"abc")
case("pax-chain.tar", raw("checkpoint/inventory.img", "0", b"inv!") +
     b"".join(raw("PaxHeaders/x", "x", rec("comment", "deep %d" % i)) for i in range(9)) + member + end,
     "extended headers before one member")
case("pax-records.tar", raw("PaxHeaders/x", "x", b"".join(rec("comment", str(i)) for i in range(300))) + member + end,
     "pax records")
case("pax-huge.tar", raw("PaxHeaders/x", "x", rec("comment", "x" * (2 << 20))) + member + end, "extended header")
case("longname-huge.tar", raw("././@LongLink", "L", b"a" * 9000) + member + end, "extended header")
case("pax-nul-path.tar", raw("PaxHeaders/x", "x", rec("path", "checkpoint/a\0b")) + member + end, "NUL")
case("pax-alone.tar", raw("PaxHeaders/x", "x", rec("path", "checkpoint/a")) + end, "without a member")
# gzip: a bomb (more than 256 MiB of zeros behind one header), a bad CRC, a cut, junk
hdr = raw("checkpoint/pages-1.img", "0", b"")
hdr = bytearray(hdr); hdr[124:136] = b"%011o\0" % (1 << 30); hdr[148:156] = b" " * 8; hdr[148:156] = b"%06o\0 " % sum(hdr)
zeros = gzip.compress(b"\0" * (1 << 20), 9)
case("bomb.tar.gz", gzip.compress(raw("checkpoint/inventory.img", "0", b"inv!") + bytes(hdr)) + zeros * 300, "gzip bomb")
gz = bytearray(gzip.compress(good)); gz[-8] ^= 0xff
case("bad-crc.tar.gz", bytes(gz), "CRC")
case("cut.tar.gz", gzip.compress(good)[:-40], "truncated")
gz = bytearray(gzip.compress(good)); gz[30] ^= 0x55; gz[31] ^= 0x55; gz[40] ^= 0xff
case("bad-deflate.tar.gz", bytes(gz), "offset 0x")
case("junk-after.tar.gz", gzip.compress(good) + b"junk", "after the end of the gzip stream")
# too many members: headers only, inflated to 128 MiB
blk = bytearray(raw("checkpoint/f0000000", "0", b""))
parts = []
for i in range(262145):
    blk[11:19] = b"%08d" % i; blk[148:156] = b" " * 8; blk[148:156] = b"%06o\0 " % sum(blk); parts.append(bytes(blk))
case("many-members.tar.gz", gzip.compress(b"".join(parts) + end, 1), "more than 262144 members")
# not read in place: zstd
case("zstd.tar.zst", b"\x28\xb5\x2f\xfd" + b"\0" * 600, "zstd", offset=False)
with open(os.path.join(out, "list"), "w") as l:
    for f, want, off in cases:
        l.write("%s\t%s\t%s\n" % (f, want, off))
PY
nh=0
while IFS=$'\t' read -r f want off; do
	a=$T/h/$f
	nh=$((nh + 1))
	"$INSPECT" decode -i "$a:core-1.img" > /dev/null 2> "$T/err"; rc=$?
	if [ $rc -ne 2 ]; then fail "$f: decode of a member exits $rc, not 2"; continue; fi
	grep -q "cannot read '$a'" "$T/err" || { fail "$f: the message does not name the archive: $(cat "$T/err")"; continue; }
	grep -qF -- "$want" "$T/err" || { fail "$f: the message does not say '$want': $(cat "$T/err")"; continue; }
	if [ "$off" = offset ] && ! grep -q "offset 0x" "$T/err"; then fail "$f: no offset in: $(cat "$T/err")"; continue; fi
	pass
	"$CONVERT" unpack "$a" -o "$T/u" 2> "$T/err"; rc=$?
	[ $rc -eq 2 ] && [ ! -e "$T/u" ] && grep -qF -- "$want" "$T/err" && pass ||
		fail "$f: unpack exits $rc (want 2 and no folder): $(cat "$T/err")"
	if "$INSPECT" x --help > /dev/null 2>&1; then
		"$INSPECT" x "$a" ps > /dev/null 2> "$T/err"; rc=$?
		[ $rc -eq 2 ] && grep -qF -- "$want" "$T/err" && pass || fail "$f: x ps exits $rc: $(cat "$T/err")"
	fi
done < "$T/h/list"
[ "$nh" -ge 30 ] && pass || fail "only $nh hostile archives"
[ -z "$(ls -A "$T/victim")" ] && pass || fail "something was written outside the output folder: $(ls "$T/victim")"
ls "$T"/u.tmp-* > /dev/null 2>&1 && fail "unpack left a temporary folder behind" || pass

# --- pack and unpack round trips -------------------------------------------
# compare two trees: the same names, types, link targets and bytes
same_tree() {
	diff <(cd "$1" && find . -printf '%y %p %l\n' | sort) <(cd "$2" && find . -printf '%y %p %l\n' | sort) > /dev/null &&
		diff -r --no-dereference "$1" "$2" > /dev/null
}
roundtrip() { # SET
	local set=$1 name
	name=$(basename "$set")
	for ext in tar tar.gz; do
		rm -rf "$T/rt" "$T/rt2" "$T/pod"
		"$CONVERT" pack "$set" -o "$T/p.$ext" && "$CONVERT" unpack "$T/p.$ext" -o "$T/rt" &&
			same_tree "$T/rt/checkpoint" "$set" && [ "$(ls "$T/rt")" = checkpoint ] && pass ||
			fail "$name: unpack(pack --layout podman) as $ext is not the folder"
		"$CONVERT" pack --layout plain "$set" -o "$T/p.$ext" && "$CONVERT" unpack "$T/p.$ext" -o "$T/rt2" &&
			same_tree "$T/rt2" "$set" && pass || fail "$name: unpack(pack --layout plain) as $ext is not the folder"
		# a folder in the container layout, metadata files and all, packed as it is
		mkdir -p "$T/pod" && cp -a "$set" "$T/pod/checkpoint" && echo '{"id": 1}' > "$T/pod/config.dump" &&
			echo '{"ociVersion": "1.0.2"}' > "$T/pod/spec.dump" && printf 'rootfs' > "$T/pod/rootfs-diff.tar"
		rm -rf "$T/rt"
		"$CONVERT" pack "$T/pod" -o "$T/p.$ext" && "$CONVERT" unpack "$T/p.$ext" -o "$T/rt" &&
			same_tree "$T/rt" "$T/pod" && pass || fail "$name: unpack(pack) of a container-layout folder as $ext"
		# and what GNU tar makes of it unpacks the same
		rm -rf "$T/rt"
		if [ $ext = tar ]; then tar -C "$T/pod" -cf "$T/g.$ext" .; else tar -C "$T/pod" -czf "$T/g.$ext" .; fi
		"$CONVERT" unpack "$T/g.$ext" -o "$T/rt" && same_tree "$T/rt" "$T/pod" && pass ||
			fail "$name: unpack of GNU tar's $ext"
		# metadata files from options
		rm -rf "$T/rt"
		"$CONVERT" pack "$set" -o "$T/p.$ext" --config "$T/pod/config.dump" --spec "$T/pod/spec.dump" \
			--add rootfs-diff.tar="$T/pod/rootfs-diff.tar" && "$CONVERT" unpack "$T/p.$ext" -o "$T/rt" &&
			same_tree "$T/rt" "$T/pod" && pass || fail "$name: pack --config --spec --add as $ext"
	done
}
roundtrip "$TESTDATA/sample/tiny"
# refusals: an existing folder, a symlink out of the folder, metadata with the plain layout
mkdir -p "$T/full" && : > "$T/full/x"
"$CONVERT" unpack "$T/p.tar" -o "$T/full" 2> "$T/err"; [ $? -eq 2 ] && grep -q 'not an empty folder' "$T/err" && pass ||
	fail "unpack into a folder that is not empty: $(cat "$T/err")"
cp -a "$TESTDATA/sample/tiny" "$T/evil" && ln -s /etc "$T/evil/parent"
"$CONVERT" pack "$T/evil" -o "$T/evil.tar" 2> "$T/err"; [ $? -eq 2 ] && [ ! -e "$T/evil.tar" ] &&
	grep -q "outside the folder" "$T/err" && pass || fail "pack of a folder with a symlink out of it: $(cat "$T/err")"
ls "$T"/evil.tar.tmp-* > /dev/null 2>&1 && fail "pack left a temporary file behind" || pass
"$CONVERT" pack --layout plain --config "$T/pod/config.dump" "$TESTDATA/sample/tiny" -o "$T/x.tar" 2> /dev/null
[ $? -eq 2 ] && pass || fail "pack --layout plain --config is not refused"
"$CONVERT" pack "$T/victim" -o "$T/x.tar" 2> /dev/null; [ $? -eq 2 ] && pass || fail "pack of a folder with no images"
"$CONVERT" pack "$T/evil" -o "$T/evil/self.tar" 2> "$T/err"; [ $? -eq 2 ] && grep -q 'inside the folder' "$T/err" && pass ||
	fail "pack into the folder it packs: $(cat "$T/err")"
# unpacked files get sane modes
find "$T/rt" -type f ! -perm 0644 ! -perm 0755 | grep -q . && fail "unpack made files with odd modes" || pass

# --- the same answers from the folder and from archives --------------------
same_answers() { # SET ARCHIVE...
	local set=$1 name b a first
	shift
	first=$1
	name=$(basename "$set")
	for img in "$set"/*.img "$set"/stats-dump; do
		[ -e "$img" ] || continue
		b=$(basename "$img")
		case $b in
		pages-*) "$INSPECT" info "$img" > "$T/want" 2>&1 ;;
		*) "$INSPECT" decode -i "$img" > "$T/want" 2>&1 ;;
		esac
		for a in "$@"; do
			# by its path in the archive, and (in the first archive) by its name in the image folder
			for m in "checkpoint/$b" $([ "$a" = "$first" ] && echo "$b"); do
				case $b in
				pages-*) "$INSPECT" info "$a:$m" > "$T/got" 2>&1 ;;
				*) "$INSPECT" decode -i "$a:$m" > "$T/got" 2>&1 ;;
				esac
				cmp -s "$T/got" "$T/want" && pass || fail "$name: $(basename "$a"):$m differs from the folder"
			done
		done
	done
	if "$INSPECT" x --help > /dev/null 2>&1; then
		for w in ps fds mems rss; do
			"$INSPECT" x "$set" $w > "$T/want" 2>&1
			for a in "$@"; do
				"$INSPECT" x "$a" $w > "$T/got" 2>&1 && cmp -s "$T/got" "$T/want" && pass ||
					fail "$name: x $(basename "$a") $w differs from the folder"
			done
		done
	fi
}
podman_archives() { # SET: GNU tar's tar and tar.gz, and ours, of the Podman layout
	rm -rf "$T/pod" "$T"/a.* && mkdir -p "$T/pod" && cp -a "$1" "$T/pod/checkpoint" &&
		echo '{}' > "$T/pod/config.dump" && echo '{}' > "$T/pod/spec.dump" &&
		tar -C "$T/pod" -cf "$T/a.tar" . && tar -C "$T/pod" -czf "$T/a.tar.gz" . &&
		"$CONVERT" pack "$T/pod" -o "$T/a.ours.tgz"
}
podman_archives "$TESTDATA/sample/tiny" && same_answers "$TESTDATA/sample/tiny" "$T/a.tar" "$T/a.tar.gz" "$T/a.ours.tgz" ||
	fail "cannot make archives of the sample"
need_corpus
for set in $(corpus_sets); do
	podman_archives "$set" || { fail "cannot make archives of $(basename "$set")"; continue; }
	same_answers "$set" "$T/a.tar" "$T/a.tar.gz" "$T/a.ours.tgz"
done
for set in "$SETS/multi" "$SETS/bigmem16"; do roundtrip "$set"; done
finish
