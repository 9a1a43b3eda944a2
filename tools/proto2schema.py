#!/usr/bin/env python3
"""Turn CRIU's images/*.proto into cr-tools schema files (schemas/criu/*.schema).

Usage: tools/proto2schema.py PROTO_DIR OUT_DIR

The output is the project's own schema format (see schemas/README.md): one
message or enum per block, one field per line:

    message NAME
    	NUMBER	NAME	LABEL	TYPE	[HINT...]

Only the facts are carried over: names, numbers, labels, types, defaults and the
display hints that CRIU attaches with its (criu) field option. rpc.proto and
img-streamer.proto are skipped: they describe the RPC socket, not images.
"""
import os
import re
import sys

SKIP = {"opts.proto", "rpc.proto", "img-streamer.proto"}
SCALARS = {"double", "float", "int32", "int64", "uint32", "uint64", "sint32",
           "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64", "bool",
           "string", "bytes"}


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


TOKEN = re.compile(r'"[^"]*"|[A-Za-z_][A-Za-z0-9_.]*|-?0x[0-9a-fA-F]+|-?\d+|[{}\[\]=;(),<>.]')


class Parser:
    def __init__(self, text):
        self.toks = TOKEN.findall(strip_comments(text))
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self):
        t = self.peek()
        self.i += 1
        return t

    def expect(self, t):
        got = self.next()
        if got != t:
            raise SystemExit("expected %r, got %r at token %d" % (t, got, self.i))


def parse_options(p):
    opts = {}
    p.expect("[")
    while True:
        if p.peek() == "(":
            p.next()
            ext = p.next()
            p.expect(")")
            p.expect(".")
            key = ext + "." + p.next()
        else:
            key = p.next()
        p.expect("=")
        val = p.next()
        opts[key] = val.strip('"')
        t = p.next()
        if t == "]":
            return opts
        if t != ",":
            raise SystemExit("bad option list near " + key)


def parse_enum(p, prefix, out):
    name = p.next()
    full = prefix + name
    p.expect("{")
    vals = []
    while p.peek() != "}":
        if p.peek() == "option":
            while p.next() != ";":
                pass
            continue
        vname = p.next()
        p.expect("=")
        num = int(p.next(), 0)
        if p.peek() == "[":
            parse_options(p)
        p.expect(";")
        vals.append((vname, num))
    p.expect("}")
    if p.peek() == ";":
        p.next()
    out.append(("enum", full, vals))
    return name, full


def parse_message(p, prefix, out, scopes):
    name = p.next()
    full = prefix + name
    p.expect("{")
    fields = []
    local = {}
    me = ("message", full, fields, local)
    out.append(me)
    while p.peek() != "}":
        t = p.peek()
        if t == "enum":
            p.next()
            short, f = parse_enum(p, full + ".", out)
            local[short] = f
        elif t == "message":
            p.next()
            short, f = parse_message(p, full + ".", out, scopes + [local])
            local[short] = f
        elif t in ("required", "optional", "repeated"):
            label = p.next()
            typ = p.next()
            fname = p.next()
            p.expect("=")
            num = int(p.next(), 0)
            opts = parse_options(p) if p.peek() == "[" else {}
            p.expect(";")
            fields.append((num, fname, label, typ, opts, scopes + [local]))
        elif t in ("reserved", "option"):
            while p.next() != ";":
                pass
        elif t == ";":
            p.next()
        else:
            raise SystemExit("unexpected %r in message %s" % (t, full))
    p.expect("}")
    if p.peek() == ";":
        p.next()
    return name, full


def parse_file(path):
    p = Parser(open(path).read())
    out = []
    while p.peek() is not None:
        t = p.next()
        if t in ("syntax", "import", "package", "option"):
            while p.next() != ";":
                pass
        elif t == "message":
            parse_message(p, "", out, [])
        elif t == "enum":
            parse_enum(p, "", out)
        elif t == "extend":
            depth = 0
            while True:
                x = p.next()
                if x == "{":
                    depth += 1
                elif x == "}":
                    depth -= 1
                    if depth == 0:
                        break
        elif t == ";":
            pass
        else:
            raise SystemExit("%s: unexpected %r" % (path, t))
    return out


HINTS = [("criu.hex", "hex"), ("criu.ipadd", "ipadd"), ("criu.dev", "dev"),
         ("criu.odev", "odev")]
VALUED = [("criu.flags", "flags"), ("criu.dict", "dict"), ("criu.conv", "conv")]


def resolve(typ, scopes, known):
    if typ in SCALARS:
        return typ
    for scope in reversed(scopes):
        if typ in scope:
            return scope[typ]
    if typ in known:
        return typ
    raise SystemExit("unknown type " + typ)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    files = sorted(f for f in os.listdir(src) if f.endswith(".proto") and f not in SKIP)
    parsed = {f: parse_file(os.path.join(src, f)) for f in files}
    known = {item[1] for items in parsed.values() for item in items}
    kinds = {item[1]: item[0] for items in parsed.values() for item in items}
    for f, items in parsed.items():
        lines = ["# Messages and enums of CRIU's images/%s, in cr-tools schema form." % f, ""]
        for item in items:
            if item[0] == "enum":
                lines.append("enum " + item[1])
                for vname, num in item[2]:
                    lines.append("\t%s\t%d" % (vname, num))
            else:
                lines.append("message " + item[1])
                for num, fname, label, typ, opts, scopes in item[2]:
                    t = resolve(typ, scopes, known)
                    if t not in SCALARS:
                        t = ("enum:" if kinds[t] == "enum" else "msg:") + t
                    cols = [str(num), fname, label, t]
                    for key, word in HINTS:
                        if opts.get(key) == "true":
                            cols.append(word)
                    for key, word in VALUED:
                        if key in opts:
                            cols.append("%s=%s" % (word, opts[key]))
                    if "default" in opts:
                        cols.append("default=%s" % opts["default"])
                    if opts.get("packed") == "true":
                        cols.append("packed")
                    lines.append("\t" + "\t".join(cols))
            lines.append("")
        name = os.path.join(dst, f[:-len(".proto")] + ".schema")
        with open(name, "w") as fh:
            fh.write("\n".join(lines))


if __name__ == "__main__":
    main()
