# check on the layouts older CRIU versions wrote (schemas/criu/legacy.tab):
# per-type file images instead of files.img, vmas-PID.img, rlimit, itimers,
# posix-timers, signal, creds and sigacts images, mark images, pagemaps with
# in_parent, img_version 1 sets without head magics.
#
# - The generator's CRIU 2.x (legacy/) and CRIU 1.0 (v1/) sets pass with only
#   the --deprecated warning, which names the images CRIU reads that way, and
#   (v1) the warning that CRIU since 1.2 miscounts the VMAs of vmas-PID.img.
# - Damage made by editing copies is found where CRIU would stop: a missing
#   sigacts, creds or vmas image, an itimers image short of its 3 entries, a
#   mark for a file that is not there, a per-type file image gone.
# - Every corpus set, converted down to 3.3 and to 1.1, passes check of its
#   images, except where files CRIU 3.3 cannot hold (memfd) stayed in
#   files.img under --policy hope: one error says that no CRIU reads it whole.
. "$(dirname "$0")/../lib.sh"
need_cmd python3
L=$TESTDATA/images/legacy
V=$TESTDATA/images/v1

# "severity:code:image" of the findings that are not notes, sorted
codes() {
	python3 -c 'import json,sys; print(" ".join(sorted("%s:%s:%s" % (f["severity"], f["code"], f["image"]) for f in json.load(open(sys.argv[1]))["findings"] if f["severity"] != "info")))' "$1"
}
edit() { # IMAGE PYTHON: change the decoded entries e, write the image back
	"$INSPECT" decode -i "$1" > "$T/e.json" && python3 - "$T/e.json" "$2" <<'PY' && "$CONVERT" encode -i "$T/e.json" -o "$1"
import json, sys
d = json.load(open(sys.argv[1])); e = d["entries"]
exec(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"))
PY
}
copy() { rm -rf "$T/c"; cp -r "$1" "$T/c"; chmod -R u+w "$T/c"; }
checkj() { "$INSPECT" check --only images -j "$1" > "$T/o.json"; echo $? > "$T/rc"; }

# 1. the generator's old sets
checkj "$L"
check "legacy: exit 0" [ "$(cat "$T/rc")" = 0 ]
check "legacy: only the --deprecated warning: $(codes "$T/o.json")" [ "$(codes "$T/o.json")" = "warning:legacy-deprecated:eventpoll-tfd.img" ]
"$INSPECT" check --only images "$L" > "$T/o.txt"
check "legacy: the warning names the mark images and the option" \
	grep -q 'eventpoll-tfd.img, inotify-wd.img, fanotify-mark.img only with --deprecated' "$T/o.txt"
checkj "$V"
check "v1: exit 0" [ "$(cat "$T/rc")" = 0 ]
check "v1: only the warnings of --deprecated and of CRIU's miscount of vmas-1.img: $(codes "$T/o.json")" \
	[ "$(codes "$T/o.json")" = "warning:legacy-bug:vmas-1.img warning:legacy-deprecated:rlimit-1.img" ]
"$INSPECT" check --only images "$V" > "$T/o.txt"
check "v1: rlimits and timers need --deprecated" grep -q 'rlimit-1.img, itimers-1.img, posix-timers-1.img only with --deprecated' "$T/o.txt"
# a real restore with CRIU 4.2 of tiny converted to 1.1 fails so (criu/mem.c counts the EOF read as a VMA)
check "v1: CRIU's miscount of the VMAs of vmas-1.img is told" grep -q 'count one VMA more than vmas-1.img holds' "$T/o.txt"

# 2. damage where CRIU stops
copy "$V"; rm "$T/c/sigacts-1.img"; checkj "$T/c"
check "v1 without sigacts-1.img: $(codes "$T/o.json")" [ "$(codes "$T/o.json")" = "error:image-missing:sigacts-1.img warning:legacy-bug:vmas-1.img warning:legacy-deprecated:rlimit-1.img" ]
copy "$V"; rm "$T/c/creds-1.img"; checkj "$T/c"
check "v1 without creds-1.img: $(codes "$T/o.json")" [ "$(codes "$T/o.json")" = "error:image-missing:creds-1.img warning:legacy-bug:vmas-1.img warning:legacy-deprecated:rlimit-1.img" ]
copy "$V"; rm "$T/c/vmas-1.img"; checkj "$T/c"
check "v1 without vmas-1.img: one error, no pages judged by absent VMAs: $(codes "$T/o.json")" \
	[ "$(codes "$T/o.json")" = "error:image-missing:vmas-1.img warning:legacy-deprecated:rlimit-1.img" ]
copy "$V"; edit "$T/c/itimers-1.img" 'del e[2]'; checkj "$T/c"
check "v1 with 2 itimers: $(codes "$T/o.json")" [ "$(codes "$T/o.json")" = "error:legacy-short:itimers-1.img warning:legacy-bug:vmas-1.img warning:legacy-deprecated:rlimit-1.img" ]
copy "$V"; edit "$T/c/vmas-1.img" 'e[1]["start"], e[1]["end"] = e[0]["start"], e[0]["end"]'; checkj "$T/c"
check "v1 with VMAs out of order in vmas-1.img: $(codes "$T/o.json")" \
	python3 -c 'import sys; c = sys.argv[1].split(); sys.exit(not ("error:vma-order:vmas-1.img" in c))' "$(codes "$T/o.json")"
copy "$V"; edit "$T/c/core-1.img" 'e[0]["tc"]["rlimits"] = {"rlimits": [{"cur": 1, "max": 2}]}'; checkj "$T/c"
check "v1 with rlimits in the core too: rlimit-1.img is not read: $(codes "$T/o.json")" \
	[ "$(codes "$T/o.json")" = "warning:legacy-bug:vmas-1.img warning:legacy-deprecated:itimers-1.img warning:legacy-unused:rlimit-1.img" ]
copy "$L"; edit "$T/c/eventpoll-tfd.img" 'e[0]["id"] = 4242'; checkj "$T/c"
check "legacy with an epoll target of no epoll file: $(codes "$T/o.json")" \
	[ "$(codes "$T/o.json")" = "error:ref-file:eventpoll-tfd.img warning:legacy-deprecated:eventpoll-tfd.img" ]
copy "$L"; rm "$T/c/reg-files.img"; checkj "$T/c"
check "legacy without reg-files.img: dangling file ids" grep -q '"code": "ref-file"' "$T/o.json"
check "legacy without reg-files.img: the message names the per-type images" \
	grep -q 'a file with this id in the per-type images' "$T/o.json"
check "legacy without reg-files.img: exit 1" [ "$(cat "$T/rc")" = 1 ]

# 3. the corpus converted down
need_corpus
for s in $(corpus_sets); do
	n=$(basename "$s")
	for v in 3.3 1.1; do
		rm -rf "$T/d"
		"$CONVERT" downgrade --to "$v" --policy hope "$s" -o "$T/d" > "$T/log" 2>&1 || { fail "$n: downgrade --to $v: $(tail -1 "$T/log")"; continue; }
		checkj "$T/d"
		errs=$(python3 -c 'import json,sys; print(" ".join(sorted(set(f["code"] for f in json.load(open(sys.argv[1]))["findings"] if f["severity"] == "error"))))' "$T/o.json")
		case $n in
		multi|multi-ns) want="files-mixed";;
		*) want="";;
		esac
		check "$n at $v: errors '$errs', want '$want'" [ "$errs" = "$want" ]
	done
done
finish
