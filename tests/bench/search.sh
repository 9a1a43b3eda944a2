#!/bin/bash
# Memory search speed and memory use: cr-inspect search --count over one task
# whose single anonymous mapping holds SIZE of pages (default 1G), against
# grep -F -c over the raw pages file, both with the file in the page cache.
# The image set is the bundled tiny set with its mm, pagemap and pages
# replaced, written with cr-convert encode (libimg's writer).
#
#   tests/bench/search.sh [SIZE_MIB]        prints the times, the ratio and the peak RSS
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
top=$(cd "$here/.." && pwd)
INSPECT=${CR_INSPECT:-$top/cr-inspect/cr-inspect}
CONVERT=${CR_CONVERT:-$top/cr-convert/cr-convert}
mib=${1:-1024}
src=$top/testdata/sample/tiny
[ -d "$src" ] || src=${CR_CORPUS:-$top/../shared/corpus}/criu-4.2/tiny
T=$(mktemp -d "${TMPDIR:-/tmp}/crbench.XXXXXX")
trap 'rm -rf "$T"' EXIT
cp -r "$src" "$T/set"
base=$((0x7f0000000000))
# one anonymous mapping of SIZE, wholly present
"$INSPECT" decode -i "$src/mm-1.img" | python3 -c "
import json, sys
d = json.load(sys.stdin)
v = dict(d['entries'][0]['vmas'][-2])
v.update(start=$base, end=$base + ($mib << 20), pgoff=0, shmid=0, prot=3, flags=0x22, status=0x201)
v.pop('madv', None)
d['entries'][0]['vmas'].insert(-1, v)
json.dump(d, sys.stdout)" > "$T/mm.json"
"$CONVERT" encode -i "$T/mm.json" -o "$T/set/mm-1.img"
"$INSPECT" decode -i "$src/pagemap-1.img" | python3 -c "
import json, sys
d = json.load(sys.stdin)
d['entries'] = [d['entries'][0], {'vaddr': $base, 'compat_nr_pages': 0, 'flags': 4, 'nr_pages': ($mib << 20) // 4096}]
json.dump(d, sys.stdout)" > "$T/pm.json"
"$CONVERT" encode -i "$T/pm.json" -o "$T/set/pagemap-1.img"
pid=$("$INSPECT" decode -i "$T/set/pagemap-1.img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"][0]["pages_id"])')
# pages that look like a heap: zeros, text, pointers and noise; a needle every 64 MiB
python3 - "$T/set/pages-$pid.img" "$mib" <<'PY'
import os, random, struct, sys
random.seed(7)
text = b"The quick brown fox jumps over the lazy dog; PATH=/usr/bin:/bin HOME=/root\n" * 14
blk = bytearray()
for i in range(256):
    k = i % 4
    if k == 0: blk += bytes(4096)
    elif k == 1: blk += (text * 4)[:4096]
    elif k == 2: blk += b"".join(struct.pack("<Q", 0x7f0000000000 + random.randrange(1 << 24)) for _ in range(512))
    else: blk += random.randbytes(4096)
with open(sys.argv[1], "wb") as f:
    for m in range(int(sys.argv[2])):
        b = blk if m % 64 else blk[:100] + b"CRBENCH-NEEDLE-0123456789" + blk[125:]
        f.write(b)
PY
pages=$T/set/pages-$pid.img
cat "$pages" > /dev/null
t() { local s e; s=${EPOCHREALTIME/./}; "$@" > "$T/out" 2>&1 || true; e=${EPOCHREALTIME/./}; echo $(( (e - s) / 1000 )); }
best() { local b=999999999 x; for i in 1 2 3; do x=$(t "$@"); [ "$x" -lt "$b" ] && b=$x; done; echo "$b"; }
g=$(best grep -F -c CRBENCH-NEEDLE "$pages")
c=$(best "$INSPECT" search "$T/set" CRBENCH-NEEDLE --count)
n=$("$INSPECT" search "$T/set" CRBENCH-NEEDLE --count)
rss=$( { /usr/bin/time -v "$INSPECT" search "$T/set" CRBENCH-NEEDLE --count > /dev/null; } 2>&1 | awk -F: '/Maximum resident/ {gsub(/ /, "", $2); print $2}')
rx=$(best "$INSPECT" search "$T/set" --regex "CRBENCH-NEEDLE-[0-9]+" --count)
echo "search over $mib MiB of pages: cr-inspect ${c} ms ($n matches), grep -F -c ${g} ms, ratio $(python3 -c "print('%.2f' % ($c / max($g, 1)))"), peak RSS ${rss} KiB; --regex ${rx} ms"
