#!/bin/sh
# replay --instant and --command/--at, asciicast v2 (format and asciinema cat),
# the JSON export, watch following a live session.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/dump"
writer --commands 40 --output 400k --input --dump "$WORK/dump" --manifest "$WORK/m" || fail "writer"
id=$(cut -d' ' -f1 "$WORK/m")

v replay --instant "$id" | cmp -s - "$WORK/dump/$id.out" || fail "replay --instant differs"
v replay --instant "${id%%-*}" | cmp -s - "$WORK/dump/$id.out" || fail "replay by prefix differs"

# --command N starts at command N's exec offset
off=$(v audit --format json --session "$id" | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin][7]["exec_offset"])')
v replay --instant --command 7 "$id" >"$WORK/r7"
tail -c +$((off + 1)) "$WORK/dump/$id.out" | cmp -s - "$WORK/r7" || fail "replay --command 7 does not start at offset $off"
# --at past the end: nothing
[ "$(v replay --instant --at 10h "$id" | wc -c)" -eq 0 ] || fail "replay --at 10h printed something"
# timed replay at high speed ends and prints the same bytes
v replay --speed 1000 --idle-limit 0.01 "$id" </dev/null | cmp -s - "$WORK/dump/$id.out" || fail "timed replay differs"

# asciicast v2
v export "$id" --format asciicast >"$WORK/a.cast" || fail "export asciicast"
python3 - "$WORK/a.cast" <<'PY' || fail "asciicast format"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
assert lines[-1] == ""
h = json.loads(lines[0])
assert h["version"] == 2 and isinstance(h["width"], int) and isinstance(h["height"], int)
assert isinstance(h["timestamp"], int) and isinstance(h["env"], dict)
last = 0.0
for l in lines[1:-1]:
    e = json.loads(l)
    assert isinstance(e, list) and len(e) == 3, e
    assert isinstance(e[0], float) and e[0] >= last, e
    assert e[1] in ("o", "i", "r"), e
    assert isinstance(e[2], str)
    if e[1] == "r":
        c, r = e[2].split("x"); int(c); int(r)
    last = e[0]
PY
script -qec "asciinema cat '$WORK/a.cast' >'$WORK/cat.out'" /dev/null >/dev/null 2>&1 || fail "asciinema cat failed"
cmp -s "$WORK/cat.out" "$WORK/dump/$id.out" || fail "asciinema cat output differs from what was written"

# one JSON document
v export "$id" --format json | python3 -c '
import json, sys, base64
d = json.load(sys.stdin)
assert d["session"]["id"] == sys.argv[1]
assert len(d["events"]) == 40
out = b"".join(c["data"].encode() if "data" in c else base64.b64decode(c.get("data_base64", "")) for c in d["chunks"] if c.get("stream") == "o")
assert out == open(sys.argv[2], "rb").read()
' "$id" "$WORK/dump/$id.out" || fail "json export"

# watch follows a live session and returns when it ends
"$STORE_WRITER" --store "$STORE" --commands 30 --output 30k --delay-ms 40 --dump "$WORK/dump" --manifest "$WORK/m2" >"$WORK/w.log" 2>&1 &
wpid=$!
i=0
while [ "$(v sessions | wc -l)" -lt 2 ]; do
    i=$((i + 1)); [ $i -lt 600 ] || fail "live session did not appear"; sleep 0.05
done
id2=$(v sessions --json | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["id"])')
timeout 60 "$VIGIL" --store "$STORE" watch "$id2" >"$WORK/watch.out" 2>"$WORK/watch.err" || fail "watch: $(cat "$WORK/watch.err")"
wait $wpid || fail "writer 2"
cmp -s "$WORK/watch.out" "$WORK/dump/$id2.out" || fail "watch output differs"
grep -q "session ended" "$WORK/watch.err" || fail "watch did not report the end"
ok
