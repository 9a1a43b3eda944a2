#!/usr/bin/env python3
"""Write the hostile inputs of tests/hostile/ and their INDEX.

Each input is made here from facts of the formats (magics, field numbers,
tar and gzip layouts) and, for image folders, from the bundled sample set;
tests/cli/hostile.sh runs each through the command the INDEX names.  Run it
from anywhere: python3 tests/hostile/make.py (it rewrites the folder's
inputs; the committed ones are what it wrote)."""
import gzip, io, os, shutil, struct, sys, tarfile, zlib

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(os.path.dirname(here))
sample = os.path.join(top, "testdata", "sample", "tiny")

COMMON = 0x54564319
MAGIC = {"CORE": 0x55053847, "PSTREE": 0x50273030, "FDINFO": 0x56213732, "PAGEMAP": 0x56084025,
         "PIPES_DATA": 0x56453709, "SK_QUEUES": 0x56264026, "TCP_STREAM": 0x51465506,
         "GHOST_FILE": 0x52583605, "IPCNS_SEM": 0x59573019, "BPFMAP_DATA": 0x64324033,
         "FILES": 0x56303138, "MM": 0x57492820, "INVENTORY": 0x58313116}

def u32(v): return struct.pack("<I", v)
def u64(v): return struct.pack("<Q", v)

def varint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7f) | 0x80]); v >>= 7
    return out + bytes([v])

def tag(num, wt): return varint(num << 3 | wt)
def vfield(num, v): return tag(num, 0) + varint(v)
def lfield(num, b): return tag(num, 2) + varint(len(b)) + b

def image(kind, entries, head=True, extra=b""):
    out = (u32(COMMON) if head else b"") + u32(MAGIC[kind])
    for e in entries:
        if isinstance(e, tuple):
            payload, after = e
        else:
            payload, after = e, b""
        out += u32(len(payload)) + payload + after
    return out + extra

cases = []  # (name, data or None for a folder, command, expect, what)

def case(name, data, cmd, expect, what):
    cases.append((name, data, cmd, expect, what))

fd_payload = vfield(1, 1) + vfield(2, 0) + vfield(3, 1) + vfield(4, 0)

# --- image files (cr-inspect decode) ---
case("entry-2gib.img", u32(COMMON) + u32(MAGIC["CORE"]) + u32(0x7fffffff), "inspect decode -i @",
     "size 2147483647 is past the end", "an entry whose size word claims 2 GiB")
case("entry-size-cut.img", u32(COMMON) + u32(MAGIC["FDINFO"]) + b"\x10\x00", "inspect decode -i @",
     "truncated size", "the file ends inside an entry's size word")
case("unknown-magic.img", u32(COMMON) + u32(0x12345678) + u32(0), "inspect decode -i @",
     "unknown magic 0x12345678", "a magic no kind has")
case("too-short.img", b"\x19\x43\x56", "inspect decode -i @", "too short for a magic",
     "three bytes: not even a magic")
case("head-only.img", u32(COMMON), "inspect decode -i @", "magic", "the head magic and nothing after it")
case("varint-overlong.img", image("FDINFO", [b"\xff" * 11]), "inspect decode -i @",
     "truncated or overlong field tag", "a field tag of eleven continuation bytes")
case("varint-65-bits.img", image("FDINFO", [tag(1, 0) + b"\xff" * 9 + b"\x02"]), "inspect decode -i @",
     "truncated or overlong varint", "a varint with a 65th bit")
case("wire-type-7.img", image("FDINFO", [bytes([1 << 3 | 7]) + b"\x00"]), "inspect decode -i @",
     "bad wire type 7", "a field of wire type 7, which protobuf does not have")
case("field-number-zero.img", image("FDINFO", [b"\x00\x00"]), "inspect decode -i @",
     "bad field number 0", "field number 0")
case("field-number-huge.img", image("FDINFO", [varint((1 << 29) << 3) + b"\x00"]), "inspect decode -i @",
     "bad field number", "a field number past 2^29-1")
case("len-past-entry.img", image("FDINFO", [tag(5, 2) + varint(1000) + b"abc"]), "inspect decode -i @",
     "need 1000 bytes, 3 left", "a string field longer than its entry")
case("len-2-64.img", image("FDINFO", [tag(5, 2) + b"\xff" * 9 + b"\x01"]), "inspect decode -i @",
     "truncated", "a length of 2^64-1")
case("i64-cut.img", image("FDINFO", [tag(9, 1) + b"\x01\x02\x03"]), "inspect decode -i @",
     "need 8 bytes", "a fixed64 field cut after 3 bytes")
grp = b"".join(tag(20 + i, 3) for i in range(80))
case("groups-80-deep.img", image("FDINFO", [grp]), "inspect decode -i @",
     "unterminated group", "groups nested 80 deep, never closed")
case("group-mismatched-end.img", image("FDINFO", [tag(20, 3) + vfield(1, 1) + tag(21, 4)]), "inspect decode -i @",
     "unterminated group", "a group closed by another number's end tag")
case("packed-cut.img", image("PSTREE", [vfield(1, 1) + vfield(2, 0) + vfield(3, 1) + vfield(4, 1) +
                                         tag(5, 2) + varint(3) + b"\x01\x02\x80"]), "inspect decode -i @",
     "offset 0x", "packed thread ids whose last varint is cut")
case("core-two-entries.img", image("CORE", [vfield(1, 1), vfield(1, 1)]), "inspect decode -i @",
     "holds one entry", "a core image (one entry) with two")
case("core-no-entry.img", image("CORE", []), "inspect decode -i @", "no entry", "a core image with no entry")
case("pipe-data-past-end.img", image("PIPES_DATA", [(vfield(1, 7) + vfield(2, 1 << 30), b"xy")]),
     "inspect decode -i @", "offset 0x", "pipe data of 1 GiB announced, 2 bytes there")
case("sk-queue-past-end.img", image("SK_QUEUES", [(vfield(1, 1) + vfield(2, 0xffffffff), b"")]),
     "inspect decode -i @", "offset 0x", "a queued packet of 4 GiB announced, none there")
case("tcp-stream-past-end.img", image("TCP_STREAM", [(vfield(1, 100000) + vfield(2, 0) + vfield(3, 100000) +
                                                       vfield(4, 0) + vfield(5, 0) + vfield(6, 0) + vfield(7, 0), b"q")]),
     "inspect decode -i @", "offset 0x", "TCP queues of 200000 bytes announced, 1 there")
ghost = vfield(1, 0) + vfield(2, 0) + vfield(3, 0o100644) + vfield(9, 1)
case("ghost-chunk-past-end.img", image("GHOST_FILE", [ghost, (vfield(1, 1 << 40) + vfield(2, 0), b"abc")]),
     "inspect decode -i @", "past the end", "a ghost file chunk of 1 TiB, 3 bytes there")
sem_desc = lfield(1, vfield(1, 1) + vfield(2, 0) + vfield(3, 0) + vfield(4, 0) + vfield(5, 0) + vfield(6, 0o600))
case("ipc-sem-past-end.img", image("IPCNS_SEM", [(sem_desc + vfield(2, 1 << 20), b"\x00\x00")]),
     "inspect decode -i @", "offset 0x", "a semaphore set of a million values, one there")
case("bpfmap-past-end.img", image("BPFMAP_DATA", [(vfield(1, 1) + vfield(2, 1 << 30) + vfield(3, 1 << 30) + vfield(4, 1), b"k")]),
     "inspect decode -i @", "offset 0x", "a BPF map of 2 GiB of keys and values, 1 byte there")
case("pagemap-magic-cut.img", u32(COMMON) + u32(MAGIC["PAGEMAP"]) + u64(0x400000) + b"\x00" * 100,
     "inspect decode -i @", "size 4194304 is past the end", "the pagemap magic, then what looks like a page address")

# --- crit JSON (cr-convert encode) ---
case("json-nested-300.json", b"[" * 300 + b"]" * 300, "convert encode -i @ -o -", "nested too deeply",
     "arrays nested 300 deep")
case("json-unknown-magic.json", b'{"magic": "NOPE", "entries": []}', "convert encode -i @ -o -",
     "unknown image magic", "an image kind no one has")
case("json-not-crit.json", b'{"entries": 3}', "convert encode -i @ -o -", "not a crit image",
     "valid JSON that is not crit's")
case("json-bad-utf8.json", b'{"magic": "CORE", "entries": [{"mtype": "X86_\xff\xfe"}]}', "convert encode -i @ -o -",
     "line 1", "a string that is not UTF-8")
case("json-uint32-overflow.json", b'{"magic": "FDINFO", "entries": [{"id": 4294967296, "flags": 0, "type": "REG", "fd": 0}]}',
     "convert encode -i @ -o -", "out of range", "4294967296 in a uint32 field")
case("json-number-huge.json", b'{"magic": "FDINFO", "entries": [{"id": 1e400, "flags": 0, "type": "REG", "fd": 0}]}',
     "convert encode -i @ -o -", "line 1", "1e400, past every number type")
case("json-bad-base64.json", b'{"magic": "PIPES_DATA", "entries": [{"pipe_id": 1, "bytes": 3, "extra": "@@@"}]}',
     "convert encode -i @ -o -", "entries[0]", "pipe data that is not base64")
case("json-trailing.json", b'{"magic": "FDINFO", "entries": []} {"x": 1}', "convert encode -i @ -o -",
     "extra data after the JSON value", "a second JSON value after the first")
case("json-cut.json", b'{"magic": "FDINFO", "entries": [{"id": 1, "fla', "convert encode -i @ -o -", "line 1",
     "a JSON text cut in the middle of a key")
case("json-lone-surrogate.json", b'{"magic": "FDINFO", "entries": [{"id": 1, "flags": 0, "type": "REG", "fd": 0, "xattr_security_selinux": "\\udc80\\ud800"}]}',
     "convert encode -i @ -o -", "line 1", "a lone UTF-16 surrogate")
case("json-page-too-big.json", b'{"magic": "PAGES_OLD", "_head": "common", "entries": [{"vaddr": 4194304, "extra": "' + b"QUFB" * 2048 + b'"}]}',
     "convert encode -i @ -o -", "4096 bytes", "a page entry of 6 KiB of base64 (once a stack overflow)")

# --- archives (cr-inspect x ARCHIVE ps) ---
def tinfo(name, kind=tarfile.REGTYPE, size=0, link=""):
    t = tarfile.TarInfo(name)
    t.type, t.size, t.linkname, t.mode, t.mtime = kind, size, link, 0o644, 0
    return t

def tar(members, fmt=tarfile.USTAR_FORMAT):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
        end = t.offset + 1024  # the end marker; the padding to 10 KiB after it is left out
    return b.getvalue()[:end]

inv = (tinfo("checkpoint/inventory.img", size=4), b"\0" * 4)
case("tar-dotdot.tar", tar([inv, (tinfo("checkpoint/../../x", size=3), b"abc")]), "inspect x @ ps",
     "contains '..'", "a member named checkpoint/../../x")
case("tar-absolute.tar", tar([inv, (tinfo("/etc/x", size=3), b"abc")]), "inspect x @ ps", "absolute name",
     "a member with an absolute name")
case("tar-ckpt-symlink-etc.tar", tar([(tinfo("checkpoint", tarfile.SYMTYPE, link="/etc"), None)]), "inspect x @ ps",
     "points out of the archive", "checkpoint/ itself a symlink to /etc")
case("tar-symlink-out.tar", tar([inv, (tinfo("checkpoint/core-1.img", tarfile.SYMTYPE, link="../../../etc/passwd"), None)]),
     "inspect x @ ps", "points out of the archive", "an image that is a symlink climbing out")
case("tar-hardlink-out.tar", tar([inv, (tinfo("checkpoint/core-1.img", tarfile.LNKTYPE, link="/etc/passwd"), None)]),
     "inspect x @ ps", "hardlink to '/etc/passwd' points out", "an image that is a hard link to /etc/passwd")
case("tar-chardev.tar", tar([inv, (tinfo("checkpoint/null", tarfile.CHRTYPE), None)]), "inspect x @ ps",
     "character device", "a character device member")
case("tar-fifo.tar", tar([inv, (tinfo("checkpoint/fifo", tarfile.FIFOTYPE), None)]), "inspect x @ ps",
     "offset 0x", "a FIFO member")
case("tar-duplicate.tar", tar([inv, inv]), "inspect x @ ps", "a second member", "the same name twice")
t = bytearray(tar([inv, (tinfo("checkpoint/core-1.img", size=100000), b"x" * 100000)]))
case("tar-size-past-end.tar", bytes(t[:3000]), "inspect x @ ps", "offset 0x",
     "a member of 100000 bytes in a 3000-byte archive")
t = bytearray(tar([inv, (tinfo("checkpoint/core-1.img", size=3), b"abc")]))
t[1024 + 148:1024 + 156] = b"0000000\0"
case("tar-bad-checksum.tar", bytes(t), "inspect x @ ps", "checksum", "a second header whose checksum is wrong")
t = bytearray(tar([inv]))
t[148:156] = b"0000000\0"
case("tar-first-checksum.tar", bytes(t), "inspect x @ ps", "not an image folder or a checkpoint archive",
     "a first header whose checksum is wrong: not taken for a tar")
longlink = b""
for i in range(12):
    h = tarfile.TarInfo("././@LongLink")
    h.type, h.size = tarfile.GNUTYPE_LONGNAME, 200
    blk = bytearray(h.tobuf(format=tarfile.USTAR_FORMAT))
    blk[156] = ord("L")
    blk[148:156] = b"        "
    chk = sum(blk[:512])
    blk[148:156] = ("%06o\0 " % chk).encode()
    longlink += bytes(blk[:512]) + b"a" * 200 + b"\0" * 312
case("tar-longname-chain.tar", longlink + tar([inv]), "inspect x @ ps", "extended header",
     "twelve GNU long-name headers in a row")
g = bytearray(gzip.compress(tar([inv]), mtime=0))
g[-8] ^= 0xff
case("gz-bad-crc.tar.gz", bytes(g), "inspect x @ ps", "CRC", "a tar.gz whose CRC is wrong")
g = gzip.compress(tar([inv, (tinfo("checkpoint/core-1.img", size=20000), os.urandom(0) + b"x" * 20000)]), mtime=0)
case("gz-cut.tar.gz", g[: len(g) // 2], "inspect x @ ps", "truncated", "a tar.gz cut in half")
case("gz-reserved-flags.tar.gz", b"\x1f\x8b\x08\xe0" + b"\0" * 6 + zlib.compress(b"x")[2:], "inspect x @ ps",
     "reserved gzip flags", "a gzip header with reserved flags set")
case("gz-fextra-past-end.tar.gz", b"\x1f\x8b\x08\x04" + b"\0" * 6 + b"\xff\xff", "inspect x @ ps",
     "truncated gzip header", "a gzip extra field of 65535 bytes, none there")

# --- profiles (check --target) and schemas (--schema-dir) ---
case("profile-not-object.json", b'[1, 2, 3]', "inspect check %SAMPLE% --target @ --only kernel",
     "not a JSON object", "a machine profile that is an array")
case("profile-bad-cgroup.json", b'{"arch": "x86_64", "cgroup": {"layout": "v9"}}',
     "inspect check %SAMPLE% --target @ --only kernel", "v9", "a cgroup layout no kernel has")
case("profile-deep.json", b'{"kernel": ' * 300 + b'1' + b'}' * 300, "inspect check %SAMPLE% --target @ --only kernel",
     "nested too deeply", "a profile nested 300 deep")

# --- logs (cr-inspect explain) ---
case("log-binary.log", bytes(range(256)) * 16, "inspect explain @", "not a CRIU log",
     "4 KiB of every byte value")
case("log-nul-tail.log", b"(00.000000) Version: 4.2 (gitid v4.2)\n(00.021930) Reading image tree\n" + b"\0" * 4096,
     "inspect explain @", "exit 1:did not finish",
     "a log that ends in a block of NUL bytes (a file system after a crash): read, not refused")

# --- image folders (cr-inspect x DIR ps), made from the bundled sample ---
def folder(name, replace, cmd, expect, what):
    case(name, ("dir", replace), cmd, expect, what)

pst = lambda pid, ppid: vfield(1, pid) + vfield(2, ppid) + vfield(3, pid) + vfield(4, pid) + tag(5, 2) + varint(1) + bytes([pid])
twin = {"core-2.img": "COPY:core-1.img", "ids-2.img": "COPY:ids-1.img", "mm-2.img": "COPY:mm-1.img",
        "pagemap-2.img": "COPY:pagemap-1.img", "fs-2.img": "COPY:fs-1.img"}
folder("set-pstree-cycle", dict(twin, **{"pstree.img": image("PSTREE", [pst(1, 2), pst(2, 1)])}),
       "inspect check @ --only images", "exit 1:pstree-cycle", "two tasks each the parent of the other: check says so")
folder("set-pstree-dup-pid", {"pstree.img": image("PSTREE", [pst(1, 0), pst(1, 0)])}, "inspect check @ --only images",
       "exit 1:pstree-dup", "the same pid twice in pstree.img: check says so")
folder("set-fd-dangling", {"fdinfo-2.img": image("FDINFO", [vfield(1, 999) + vfield(2, 0) + vfield(3, 1) + vfield(4, 7)])},
       "inspect check @ --only images", "exit 1:ref-file", "an fd of a file id no file has: check says so")
folder("set-fdinfo-damaged", {"fdinfo-2.img": image("FDINFO", [fd_payload, bytes([1 << 3 | 7])])}, "inspect fds @",
       "fdinfo-2.img': entry 1 at offset", "a damaged fd table: the explorers refuse the set, naming the entry")
folder("set-pagemap-nr-huge", {"pagemap-1.img": image("PAGEMAP", [vfield(1, 1), vfield(1, 0x400000) + vfield(2, 0) + vfield(4, 4) + vfield(5, 1 << 45)])},
       "inspect mem read @ --pid 1 0x400000 16", "'pagemap-1.img': entry 1 at offset 0xe", "a pagemap entry of 2^45 pages")
folder("set-parent-loop", {"parent": "LINK:.", "pagemap-1.img": image("PAGEMAP", [vfield(1, 1), vfield(1, 0x401000) + vfield(2, 0) + vfield(4, 1) + vfield(5, 1)])},
       "inspect check @ --only images", "exit 1:parent-loop", "pages in the parent, whose link leads to the set itself: check says so")

def write():
    for f in os.listdir(here):
        p = os.path.join(here, f)
        if f in ("make.py", "INDEX", "README.md"):
            continue
        shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.unlink(p)
    lines = ["# hostile inputs: NAME | COMMAND (@: the input; inspect = cr-inspect, convert = cr-convert) | "
             "what the message says | what it attacks", "# written by make.py; run by tests/cli/hostile.sh"]
    for name, data, cmd, expect, what in cases:
        p = os.path.join(here, name)
        if isinstance(data, tuple):
            os.mkdir(p)
            for f in os.listdir(sample):
                # the pages only where memory is read: the inputs stay small
                if f.endswith(".log") or (f.startswith("pages-") and "mem read" not in cmd):
                    continue
                shutil.copy(os.path.join(sample, f), p)
            for f, content in data[1].items():
                q = os.path.join(p, f)
                if content is None:
                    shutil.copy(os.path.join(sample, "core-1.img"), q)
                elif isinstance(content, str) and content.startswith("LINK:"):
                    os.symlink(content[5:], q)
                elif isinstance(content, str) and content.startswith("COPY:"):
                    shutil.copy(os.path.join(sample, content[5:]), q)
                else:
                    open(q, "wb").write(content)
        else:
            open(p, "wb").write(data)
        lines.append("%s | %s | %s | %s" % (name, cmd, expect, what))
    open(os.path.join(here, "INDEX"), "w").write("\n".join(lines) + "\n")
    print("%d hostile inputs" % len(cases))

if __name__ == "__main__":
    write()
