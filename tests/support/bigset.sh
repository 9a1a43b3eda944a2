#!/bin/bash
# A large image set for tests and benches: the bundled tiny set with one more
# anonymous mapping of MIB MiB in its task, wholly present in pages-N.img.
# mm and pagemap are written with cr-convert encode (libimg's writer).
#
#   tests/support/bigset.sh DIR MIB [heap|a]
#     heap  zeros, text, pointers and noise, a needle "CRBENCH-NEEDLE-0123456789" every 64 MiB (the default)
#     a     the byte 'a' throughout (worst cases of regular expressions)
# Tools: $CR_INSPECT, $CR_CONVERT (default: the ones built in the tree).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
INSPECT=${CR_INSPECT:-$top/cr-inspect/cr-inspect}
CONVERT=${CR_CONVERT:-$top/cr-convert/cr-convert}
dir=$1 mib=$2 fill=${3:-heap}
src=$top/testdata/sample/tiny
base=$((0x7f0000000000))
mkdir -p "$dir"
cp "$src"/* "$dir/"
"$INSPECT" decode -i "$src/mm-1.img" | python3 -c "
import json, sys
d = json.load(sys.stdin)
v = dict(d['entries'][0]['vmas'][-2])
v.update(start=$base, end=$base + ($mib << 20), pgoff=0, shmid=0, prot=3, flags=0x22, status=0x201)
v.pop('madv', None)
d['entries'][0]['vmas'].insert(-1, v)
d['entries'][0]['vmas'].sort(key=lambda x: int(x['start'], 0) if isinstance(x['start'], str) else x['start'])  # in address order, as CRIU keeps them
json.dump(d, sys.stdout)" > "$dir/.mm.json"
"$CONVERT" encode -i "$dir/.mm.json" -o "$dir/mm-1.img"
"$INSPECT" decode -i "$src/pagemap-1.img" | python3 -c "
import json, sys
d = json.load(sys.stdin)
d['entries'] = [d['entries'][0], {'vaddr': $base, 'compat_nr_pages': 0, 'flags': 4, 'nr_pages': ($mib << 20) // 4096}]
json.dump(d, sys.stdout)" > "$dir/.pm.json"
"$CONVERT" encode -i "$dir/.pm.json" -o "$dir/pagemap-1.img"
rm -f "$dir/.mm.json" "$dir/.pm.json"
pid=$("$INSPECT" decode -i "$dir/pagemap-1.img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["pages_id"])')
rm -f "$dir"/pages-*.img
python3 - "$dir/pages-$pid.img" "$mib" "$fill" <<'PY'
import random, struct, sys
path, mib, fill = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "wb") as f:
    if fill == "a":
        blk = b"a" * (1 << 20)
        for m in range(mib):
            f.write(blk)
        sys.exit(0)
    random.seed(7)
    text = b"The quick brown fox jumps over the lazy dog; PATH=/usr/bin:/bin HOME=/root\n" * 14
    blk = bytearray()
    for i in range(256):
        k = i % 4
        if k == 0: blk += bytes(4096)
        elif k == 1: blk += (text * 4)[:4096]
        elif k == 2: blk += b"".join(struct.pack("<Q", 0x7f0000000000 + random.randrange(1 << 24)) for _ in range(512))
        else: blk += random.randbytes(4096)
    for m in range(mib):
        f.write(blk if m % 64 else blk[:100] + b"CRBENCH-NEEDLE-0123456789" + blk[125:])
PY
echo "$dir/pages-$pid.img"
