# check --target: the sample profiles of testdata/profiles against the corpus.
# What each set needs is worked out here on another path — from the crit JSON
# of its core images (xstate_bv, rseq_abi_pointer) — and check must report
# exactly those needs as errors: AVX-512 state on a CPU without AVX-512, rseq on
# Linux 4.14.  The table of which set needs what is printed.
. "$(dirname "$0")/../lib.sh"
need_corpus
need_cmd python3
P=$TESTDATA/profiles

# the profiles read, and host-profile writes one that reads back
for p in "$P"/*.json; do
	"$INSPECT" check --only kernel,cpu --target "$p" "$SETS/tiny" > /dev/null 2> "$T/err"
	[ $? -le 1 ] && pass || fail "$(basename "$p") does not load: $(cat "$T/err")"
done
"$INSPECT" host-profile --no-criu -o "$T/host.json" && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/host.json" &&
	pass || fail "host-profile -o"
"$INSPECT" check --only kernel,cpu --target "$T/host.json" "$SETS/tiny" > /dev/null 2>&1
[ $? -le 1 ] && pass || fail "check --target of this host's own profile"
printf '{"profile_version": 1, "kernel": {"release": 5}}' > "$T/bad.json"
"$INSPECT" check --target "$T/bad.json" "$SETS/tiny" > /dev/null 2> "$T/err"
[ $? -eq 2 ] && grep -q "bad.json.*'release' is not a string" "$T/err" && pass || fail "a bad profile: $(cat "$T/err")"
printf '{"profile_version": 1, "cpu": {"xsave": {"components": ["avx9000"]}}}' > "$T/bad.json"
"$INSPECT" check --target "$T/bad.json" "$SETS/tiny" > /dev/null 2> "$T/err"
[ $? -eq 2 ] && grep -q "unknown component 'avx9000'" "$T/err" && pass || fail "a bad component: $(cat "$T/err")"

printf '%-10s %-28s %-6s | %-30s %s\n' set "xsave in use (xstate_bv)" rseq "errors on no-avx512.json" "errors on linux-4.14.json"
for s in $(corpus_sets); do
	name=$(basename "$s")
	for c in "$s"/core-*.img; do "$INSPECT" decode -i "$c"; echo; done > "$T/cores.json"
	"$INSPECT" check --only cpu --target "$P/no-avx512.json" -j "$s" > "$T/cpu.json"; rc1=$?
	"$INSPECT" check --only kernel --target "$P/linux-4.14.json" -j "$s" > "$T/k.json"; rc2=$?
	python3 - "$T/cores.json" "$T/cpu.json" "$T/k.json" "$name" "$rc1" "$rc2" <<'PY' && pass || fail "$name: $(cat "$T/why")"
import json, sys
cores = [json.loads(l)["entries"][0] for l in open(sys.argv[1]) if l.strip()]
cpu, k = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
name, rc1, rc2 = sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
names = {0: "x87", 1: "sse", 2: "ymm", 3: "bndregs", 4: "bndcsr", 5: "opmask", 6: "zmm_hi256", 7: "hi16_zmm", 9: "pkru"}
used = 0
rseq = False
for c in cores:
    x = c["thread_info"]["fpregs"].get("xsave")
    used |= x["xstate_bv"] if x else 0
    r = c.get("thread_core", {}).get("rseq_entry")
    rseq |= bool(r and r["rseq_abi_pointer"])
target = 0x7                                        # no-avx512.json: x87, sse, ymm
want_cpu = sorted(names[b] for b in range(64) if used >> b & 1 and not target >> b & 1)
got_cpu = sorted(f["subject"] for f in cpu["findings"] if f["severity"] == "error")
want_k = ["rseq"] if rseq else []
got_k = sorted(f["subject"] for f in k["findings"] if f["severity"] == "error")
print("%-10s %-28s %-6s | %-30s %s" % (name, "%#x %s" % (used, ",".join(names[b] for b in range(64) if used >> b & 1)),
                                      "yes" if rseq else "no", ",".join(got_cpu) or "-", ",".join(got_k) or "-"))
why = open(sys.argv[2].replace("cpu.json", "why"), "w")
if got_cpu != want_cpu or rc1 != (1 if want_cpu else 0):
    why.write("cpu errors %s (exit %d), want %s" % (got_cpu, rc1, want_cpu)); sys.exit(1)
if got_k != want_k or rc2 != (1 if want_k else 0):
    why.write("kernel errors %s (exit %d), want %s" % (got_k, rc2, want_k)); sys.exit(1)
for f in cpu["findings"] + k["findings"]:
    if f["severity"] == "error" and not (f["image"] or "").startswith("core-"):
        why.write("an error that names no core image: %s" % f); sys.exit(1)
PY
done
# needs made by editing a copy of tiny: its own time namespace, cgroup v1 controllers, a memfd
edit() {
	"$INSPECT" decode -i "$1" > "$T/e.json" && python3 - "$T/e.json" "$2" <<'PY' && "$CONVERT" encode -i "$T/e.json" -o "$1"
import json, sys
d = json.load(open(sys.argv[1])); e = d["entries"]
exec(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"))
PY
}
codes() { # FILE -> "code:subject ..." of the errors and warnings
	python3 -c 'import json,sys; print(" ".join(sorted("%s:%s:%s" % (f["severity"], f["code"], f["subject"] or f["image"]) for f in json.load(open(sys.argv[1]))["findings"] if f["severity"] != "info")))' "$1"
}
rm -rf "$T/t"; cp -r "$SETS/tiny" "$T/t"; chmod -R u+w "$T/t"
edit "$T/t/ids-1.img" 'e[0]["time_ns_id"] = 99'
"$INSPECT" check --only images -j "$T/t" > "$T/o.json"
[ "$(codes "$T/o.json")" = "error:image-missing:timens-99.img" ] && pass || fail "own time namespace, no image: $(codes "$T/o.json")"
cp "$T/t/timens-0.img" "$T/t/timens-99.img"
"$INSPECT" check --only kernel --target "$P/linux-4.14.json" -j "$T/t" > "$T/o.json"; rc=$?
[ $rc -eq 1 ] && [ "$(codes "$T/o.json")" = "error:kernel-feature:timens" ] && pass || fail "timens on 4.14: exit $rc: $(codes "$T/o.json")"
"$INSPECT" check --only kernel --target "$P/no-avx512.json" -j "$T/t" > "$T/o.json"; rc=$?
[ $rc -eq 0 ] && [ -z "$(codes "$T/o.json")" ] && pass || fail "timens on 6.1: exit $rc: $(codes "$T/o.json")"
printf '{"magic": "CGROUP", "entries": [{"sets": [{"id": 1, "ctls": [{"name": "cpu", "path": "/"}]}], "controllers": [{"cnames": ["cpu", "cpuacct"], "dirs": []}]}]}' > "$T/cg.json"
"$CONVERT" encode -i "$T/cg.json" -o "$T/t/cgroup.img"
"$INSPECT" check --only images,kernel --target "$P/no-avx512.json" -j "$T/t" > "$T/o.json"; rc=$?
[ $rc -eq 1 ] && [ "$(codes "$T/o.json")" = "error:cgroup-layout:cgroup.img" ] && pass || fail "cgroup v1 on a v2 host: exit $rc: $(codes "$T/o.json")"
"$INSPECT" check --only images,kernel --target "$P/linux-4.14.json" -j "$T/t" > "$T/o.json"
[ "$(codes "$T/o.json")" = "error:kernel-feature:timens" ] && pass || fail "cgroup v1 on a v1 host: $(codes "$T/o.json")"
edit "$T/t/core-1.img" 'e[0]["tc"]["cg_set"] = 2'
"$INSPECT" check --only images -j "$T/t" > "$T/o.json"
[ "$(codes "$T/o.json")" = "error:ref-cgroup:core-1.img" ] && pass || fail "a cgroup set cgroup.img lacks: $(codes "$T/o.json")"
# a profile that states a feature outright wins over its release
printf '{"profile_version": 1, "arch": "x86_64", "kernel": {"release": "6.1.0", "features": {"memfd": false, "rseq": false}}}' > "$T/nomemfd.json"
"$INSPECT" check --only kernel --target "$T/nomemfd.json" -j "$SETS/multi" > "$T/o.json"; rc=$?
[ $rc -eq 1 ] && [ "$(codes "$T/o.json")" = "error:kernel-feature:memfd error:kernel-feature:rseq" ] && pass ||
	fail "memfd and rseq stated absent: exit $rc: $(codes "$T/o.json")"
# pids: a set in this machine's pid namespace needs its pids free, and pid 1 never is
rm -rf "$T/t"; cp -r "$SETS/tiny" "$T/t"; chmod -R u+w "$T/t"
edit "$T/t/ids-1.img" 'e[0]["pid_ns_id"] = 1'
"$INSPECT" check --only pids -j "$T/t" > "$T/o.json"; rc=$?
[ $rc -eq 1 ] && [ "$(codes "$T/o.json")" = "error:pid-taken:pstree.img" ] && pass || fail "pid 1 taken: exit $rc: $(codes "$T/o.json")"
"$INSPECT" check --only pids -j "$SETS/tiny" > "$T/o.json"; rc=$?
[ $rc -eq 0 ] && pass || fail "a set in its own pid namespace: exit $rc: $(codes "$T/o.json")"
"$INSPECT" check --only pids --target "$P/linux-4.14.json" -j "$T/t" > "$T/o.json"; rc=$?
[ $rc -eq 0 ] && pass || fail "pids are not checked against another machine: exit $rc"

# another architecture and page size
"$INSPECT" check --only kernel --target "$P/aarch64.json" -j "$SETS/tiny" > "$T/a.json"
python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["findings"]
assert sorted(x["code"] for x in f) == ["arch", "page-size"], f' "$T/a.json" && pass || fail "aarch64 profile: $(cat "$T/a.json")"
finish
