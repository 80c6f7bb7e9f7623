#!/bin/sh
# 16 writer processes at once, each with hundreds of commands and megabytes
# of output: every session, command event and output byte is accounted for.
. "$(dirname "$0")/lib.sh"

N=16
CMDS=${STORE_TEST_CMDS:-300}
BYTES=${STORE_TEST_BYTES:-2M}
mkdir -p "$WORK/dump"
pids=""
for i in $(seq 1 $N); do
    writer --user "u$i" --commands "$CMDS" --output "$BYTES" --deny-every 10 --input --seed "$i" \
        --dump "$WORK/dump" --manifest "$WORK/manifest" >"$WORK/w$i.log" 2>&1 &
    pids="$pids $!"
done
for p in $pids; do
    wait "$p" || fail "a writer failed: $(cat "$WORK"/w*.log)"
done
[ "$(wc -l <"$WORK/manifest")" -eq $N ] || fail "manifest has $(wc -l <"$WORK/manifest") sessions"

v verify >"$WORK/verify" 2>&1 || fail "verify: $(cat "$WORK/verify")"
[ "$(v sessions | wc -l)" -eq $N ] || fail "sessions lists $(v sessions | wc -l), expected $N"

total=0
while read -r id user cmds bytes; do
    # the summary
    v sessions --user "$user" --json >"$WORK/s.json" || fail "sessions --user $user"
    python3 - "$WORK/s.json" "$id" "$cmds" "$bytes" <<'PY' || fail "summary of $id"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1, rows
r = rows[0]
assert r["id"] == sys.argv[2], r
assert r["commands"] == int(sys.argv[3]), r
assert r["output_bytes"] == int(sys.argv[4]), r
assert r["sealed"] and r["ended"] == "exit" and not r["truncated"], r
PY
    # every output byte
    v replay --instant "$id" >"$WORK/replay" || fail "replay $id"
    cmp -s "$WORK/replay" "$WORK/dump/$id.out" || fail "replay of $id differs from what was written"
    # every command event, numbered 0..n-1, with positions that add up
    v audit --format json --session "$id" >"$WORK/audit.json" || fail "audit $id"
    python3 - "$WORK/audit.json" "$cmds" "$bytes" <<'PY' || fail "events of $id"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
n = int(sys.argv[2])
assert len(ev) == n, len(ev)
denied = [e for e in ev if e["decision"] == "deny"]
assert len(denied) == n // 10, len(denied)
assert all(e["exit"] is None for e in denied)
ran = [e for e in ev if e["decision"] == "allow"]
assert all(e["exit"] in (0, 1, 2) for e in ran), [e["exit"] for e in ran][:5]
assert sum(e["output_bytes"] for e in ran) == int(sys.argv[3]), sum(e["output_bytes"] for e in ran)
for e in ran:
    assert e["exit_offset"] - e["exec_offset"] == e["output_bytes"]
PY
    total=$((total + cmds))
done <"$WORK/manifest"

[ "$(v audit | wc -l)" -eq $((total + 1)) ] || fail "audit has $(v audit | wc -l) lines, expected $((total + 1))"
ok
